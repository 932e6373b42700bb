// tanh-approximated GELU, as jax.nn.gelu(approximate=True) that the MUSIQ checkpoints were
// trained with (spec §3.5): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
// The tanh argument is clamped: for |u| ≥ 10 tanh(u) is ±1 in f32 anyway, and some backends
// compute tanh through exp() and return NaN (inf/inf) for large arguments. x³ may overflow to
// ±inf for |x| > ~7e12; clamp() maps that to ±10 too, so only a NaN input gives NaN.
fn gelu_tanh(x: f32) -> f32 {
  let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1.0 + tanh(clamp(u, -10.0, 10.0)));
}
