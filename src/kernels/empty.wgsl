// Does (almost) nothing: one invocation writes one word. Its round trip (encode, submit, wait)
// is the fixed cost every dispatch pays, the floor under the smallest kernels' times.
@group(0) @binding(0) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(1)
fn main() {
  out[0] = 1u;
}
