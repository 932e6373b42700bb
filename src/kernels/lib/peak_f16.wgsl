enable f16;
// lib/peak_f32 for adapters with shader-f16: the same multiply-add chains on half floats.
alias T = f16;
