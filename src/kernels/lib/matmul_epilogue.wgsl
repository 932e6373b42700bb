// What the matmul variants share: the meaning of Params.flags (set by src/kernels/matmul.ts)
// and a vec4 GELU. Each variant applies, per output: y = gelu(acc + bias) + residual.
#include "lib/gelu"

const MM_BIAS = 1u;
const MM_GELU = 2u;
const MM_RESIDUAL = 4u; // residual in its own buffer
const MM_RESIDUAL_IN_Y = 8u; // residual is the output buffer itself (in-place x += f(x))

fn gelu4(v: vec4f) -> vec4f {
  return vec4f(gelu_tanh(v.x), gelu_tanh(v.y), gelu_tanh(v.z), gelu_tanh(v.w));
}
