// @group(0) @binding(0) x: array<real> [n]
// @group(0) @binding(1) y: array<real> [n]
// @group(0) @binding(2) params: Params
alias real = f32;
@binding(0) var<storage, read> x: array<real>;
@compute @workgroup_size(1) fn main() {}
