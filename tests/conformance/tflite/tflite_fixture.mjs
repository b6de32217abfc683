// A small TFLite model written from scratch, with its two constants stored
// after the flatbuffer (Buffer.offset/size, as converters do past 2 GB):
//
//   y1 = x + c1;  y2 = y1 * c2        x, c1, c2, y1, y2: f32 [1, 8]
//
// Only y2 is a graph output, so --expose-intermediates must add y1, and the
// rewritten file must still find c1 and c2 at their (shifted) offsets:
// LiteRT.js computing the right y1 and y2 proves it.
//
// The writer lays objects out front to back, parents first, so every uoffset
// points forward; vtables sit just before their tables.

class Writer {
  constructor() { this.b = []; this.fix = []; }
  get pos() { return this.b.length; }
  pad(align) { while (this.b.length % align) this.b.push(0); }
  u8(v) { this.b.push(v & 255); }
  u16(v) { this.u8(v); this.u8(v >> 8); }
  u32(v) { for (let i = 0; i < 4; i++) this.u8(Number((BigInt(v) >> BigInt(8 * i)) & 255n)); }
  u64(v) { for (let i = 0; i < 8; i++) this.u8(Number((BigInt(v) >> BigInt(8 * i)) & 255n)); }
  ref(obj) { this.fix.push([this.pos, obj]); this.u32(0); }
}

// obj kinds: {table: [[id, kind, value]...]}, {ints: [...]}, {refs: [...]}, {str}, {bytes}
function emit(w, obj, queue) {
  if (obj.table) {
    const fields = obj.table;
    const nslots = Math.max(...fields.map((f) => f[0])) + 1;
    const big = fields.filter((f) => f[1] === 'u64'), mid = fields.filter((f) => ['u32', 'i32', 'ref'].includes(f[1])),
      small = fields.filter((f) => f[1] === 'u8');
    // inline layout: soffset, 4-byte fields, padding to 8, u64 fields, u8 fields
    const offs = new Map();
    let o = 4;
    for (const f of mid) { offs.set(f, o); o += 4; }
    if (big.length) o = Math.ceil(o / 8) * 8;
    for (const f of big) { offs.set(f, o); o += 8; }
    for (const f of small) { offs.set(f, o); o += 1; }
    const size = o;
    w.pad(2);
    const vt = w.pos;
    w.u16(4 + 2 * nslots);
    w.u16(size);
    for (let i = 0; i < nslots; i++) {
      const f = fields.find((x) => x[0] === i);
      w.u16(f ? offs.get(f) : 0);
    }
    while ((w.pos) % 8) w.u8(0);
    obj.pos = w.pos;
    w.u32(obj.pos - vt);
    for (const f of mid) {
      if (f[1] === 'ref') { w.ref(f[2]); queue.push(f[2]); } else w.u32(f[2] >>> 0);
    }
    while (w.pos - obj.pos < (big.length ? Math.ceil((4 + 4 * mid.length) / 8) * 8 : 0)) w.u8(0);
    for (const f of big) { obj.at ??= {}; obj.at[f[0]] = w.pos; w.u64(f[2]); }
    for (const f of small) w.u8(f[2]);
  } else if (obj.ints) {
    w.pad(4); obj.pos = w.pos; w.u32(obj.ints.length);
    for (const v of obj.ints) w.u32(v >>> 0);
  } else if (obj.refs) {
    w.pad(4); obj.pos = w.pos; w.u32(obj.refs.length);
    for (const r of obj.refs) { w.ref(r); queue.push(r); }
  } else if (obj.str !== undefined) {
    const bytes = new TextEncoder().encode(obj.str);
    w.pad(4); obj.pos = w.pos; w.u32(bytes.length);
    for (const x of bytes) w.u8(x);
    w.u8(0);
  }
}

export function externalFixture() {
  const n = 8;
  const c1 = Float32Array.from({length: n}, (_, i) => 0.5 * i - 1);
  const c2 = Float32Array.from({length: n}, (_, i) => 2 - 0.25 * i);
  const tensor = (name, buffer) => ({table: [[0, 'ref', {ints: [1, n]}], [1, 'u8', 0], [2, 'u32', buffer], [3, 'ref', {str: name}]]});
  const ext1 = {table: [[1, 'u64', 0], [2, 'u64', 4 * n]]}, ext2 = {table: [[1, 'u64', 0], [2, 'u64', 4 * n]]};
  const op = (opcode, ins, out) => ({table: [[0, 'u32', opcode], [1, 'ref', {ints: ins}], [2, 'ref', {ints: [out]}]]});
  const model = {table: [
    [0, 'u32', 3],
    [1, 'ref', {refs: [
      {table: [[0, 'u8', 0], [2, 'u32', 1], [3, 'u32', 0]]},    // ADD
      {table: [[0, 'u8', 18], [2, 'u32', 1], [3, 'u32', 18]]},  // MUL
    ]}],
    [2, 'ref', {refs: [{table: [
      [0, 'ref', {refs: [tensor('x', 1), tensor('c1', 2), tensor('y1', 3), tensor('c2', 4), tensor('y2', 5)]}],
      [1, 'ref', {ints: [0]}],
      [2, 'ref', {ints: [4]}],
      [3, 'ref', {refs: [op(0, [0, 1], 2), op(1, [2, 3], 4)]}],
      [4, 'ref', {str: 'main'}],
    ]}]}],
    [3, 'ref', {str: 'm2w external-buffer fixture'}],
    [4, 'ref', {refs: [{table: [[1, 'u64', 0]]}, {table: [[1, 'u64', 0]]}, ext1, {table: [[1, 'u64', 0]]}, ext2,
      {table: [[1, 'u64', 0]]}]}],
  ]};
  const w = new Writer();
  w.u32(0); // root, patched below
  for (const c of 'TFL3') w.u8(c.charCodeAt(0));
  const queue = [model];
  const done = new Set();
  while (queue.length) {
    const o = queue.shift();
    if (done.has(o)) continue;
    done.add(o);
    emit(w, o, queue);
  }
  const patch32 = (at, v) => { for (let i = 0; i < 4; i++) w.b[at + i] = (v >>> (8 * i)) & 255; };
  patch32(0, model.pos);
  for (const [at, obj] of w.fix) {
    if (!(obj.pos > at)) throw new Error('fixture writer: backward reference');
    patch32(at, obj.pos - at);
  }
  // the constants, after the flatbuffer, 64-byte aligned
  const place = (ext, data) => {
    w.pad(64);
    const off = w.pos;
    for (const x of new Uint8Array(data.buffer)) w.u8(x);
    for (let i = 0; i < 8; i++) w.b[ext.at[1] + i] = Number((BigInt(off) >> BigInt(8 * i)) & 255n);
  };
  place(ext1, c1);
  place(ext2, c2);
  return {bytes: Uint8Array.from(w.b), c1, c2};
}
