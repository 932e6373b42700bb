// The value type of peak_fma.wgsl; lib/peak_f16 takes its place for the half-precision peak.
alias T = f32;
