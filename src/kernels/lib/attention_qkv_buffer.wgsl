// vec4 i of the packed qkv rows ([T, 3D] as vec4s), from the storage buffer (attention_io).
fn qkvAt(i: u32) -> vec4f {
  return qkv[i];
}
