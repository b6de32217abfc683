// chunked: a shader whose literal is split into pieces of at most 128 bytes.
//
// @group(0) @binding(0) data: array<u32> [n]
// @group(0) @binding(1) out: array<u32> [n]

// a long comment line that by itself exceeds the chunk size, so it is split inside the line a long comment line that by itself exceeds the chunk size, so it is split inside the line 

@group(0) @binding(0) var<storage> data: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(32, 2)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * 32u;
  if (i >= arrayLength(&out)) {
    return;
  }
  out[i] = data[i] ^ 0x5au;
}
