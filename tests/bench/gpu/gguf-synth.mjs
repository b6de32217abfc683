// gguf-synth.mjs — a GGUF of the same shapes, types and header as a real
// one, with its tensor data regenerated from a seeded generator, so a model
// too big to carry to the lent GPU machine can be rebuilt there from its
// header alone (the 64 MiB carry limit; tests/bench/gpu/README.md).
//
//   node gguf-synth.mjs head IN.gguf OUT.head   the bytes before the tensor data
//   node gguf-synth.mjs fill IN.head OUT.gguf   header + generated tensor data
//
// The header (metadata, tokenizer, tensor infos) is kept byte for byte.  The
// data: F32 tensors (the norm weights) 1.0; F16 N(0,1)-like values scaled by
// 1/sqrt(row length) (token_embd unscaled); Q8_0 / Q4_0 blocks with uniform
// quants and the f16 scale that gives the same spread.  Timing does not
// depend on the values (no data-dependent control flow in the engine; the
// benchmark generates with ignoreEog), but the text generated differs from
// the real file's, so gpu-bench.mjs says which models were synthesised.
import fs from 'node:fs';

const TYPES = {0: {name: 'f32', block: 1, bytes: 4}, 1: {name: 'f16', block: 1, bytes: 2},
  2: {name: 'q4_0', block: 32, bytes: 18}, 8: {name: 'q8_0', block: 32, bytes: 34}};

/** Parses a GGUF header: {version, alignment, dataStart, tensors: [{name, dims, type, offset}]}. */
export function parseHeader(buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  const u32 = () => { const v = dv.getUint32(p, true); p += 4; return v; };
  const u64 = () => { const v = dv.getBigUint64(p, true); p += 8; return Number(v); };
  const str = () => { const n = u64(); const s = new TextDecoder().decode(buf.subarray(p, p + n)); p += n; return s; };
  const SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8};
  const value = (t) => {
    if (t === 8) return str();
    if (t === 9) {
      const et = u32(), n = u64();
      if (et === 8 || et === 9) { for (let i = 0; i < n; i++) value(et); return null; }
      const v = et === 4 && n === 1 ? dv.getUint32(p, true) : null;
      p += n * SIZES[et];
      return v;
    }
    if (!(t in SIZES)) throw new Error(`gguf: unknown value type ${t} at ${p}`);
    const v = t === 4 ? dv.getUint32(p, true) : null;
    p += SIZES[t];
    return v;
  };
  if (new TextDecoder().decode(buf.subarray(0, 4)) !== 'GGUF') throw new Error('gguf: not a GGUF file');
  p = 4;
  const version = u32(), nTensors = u64(), nKv = u64();
  let alignment = 32;
  for (let i = 0; i < nKv; i++) {
    const k = str(), t = u32(), v = value(t);
    if (k === 'general.alignment' && v) alignment = v;
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str(), nd = u32(), dims = [];
    for (let d = 0; d < nd; d++) dims.push(u64());
    tensors.push({name, dims, type: u32(), offset: u64()});
  }
  const dataStart = Math.ceil(p / alignment) * alignment;
  return {version, alignment, dataStart, tensors};
}

function tensorBytes(t) {
  const ty = TYPES[t.type];
  if (!ty) throw new Error(`gguf-synth: tensor ${t.name} has type ${t.type}, not one of f32, f16, q4_0, q8_0`);
  const n = t.dims.reduce((a, b) => a * b, 1);
  return (n / ty.block) * ty.bytes;
}

function f16(x) { // float -> IEEE half (normal range only; enough for scales)
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0];
  const s = (u >>> 16) & 0x8000, e = ((u >>> 23) & 0xff) - 127 + 15, m = (u >>> 13) & 0x3ff;
  return e <= 0 ? s : e >= 31 ? s | 0x7c00 : s | (e << 10) | m;
}

/** Writes IN.head's header plus generated tensor data to OUT. */
export function fill(head, out) {
  const h = parseHeader(head);
  const end = Math.max(...h.tensors.map((t) => t.offset + tensorBytes(t)));
  const file = Buffer.alloc(h.dataStart + Math.ceil(end / h.alignment) * h.alignment);
  head.copy(file, 0, 0, h.dataStart);
  let seed = 0x2545f491;
  const rnd = () => { // xorshift32
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return seed >>> 0;
  };
  for (const t of h.tensors) {
    const at = h.dataStart + t.offset, bytes = tensorBytes(t);
    const rowLen = t.dims[0];
    const std = t.name === 'token_embd.weight' ? 1 : 1 / Math.sqrt(rowLen);
    const ty = TYPES[t.type].name;
    if (ty === 'f32') { file.fill(0, at, at + bytes); for (let i = 0; i < bytes; i += 4) file.writeFloatLE(1, at + i); }
    else if (ty === 'f16') {
      for (let i = 0; i < bytes; i += 2) file.writeUInt16LE(f16((((rnd() & 0xffff) / 0x8000) - 1) * std * 1.73), at + i);
    } else if (ty === 'q8_0') {
      const d = f16(std / 73.6); // uniform -127..127 has std 73.6
      for (let b = at; b < at + bytes; b += 34) {
        file.writeUInt16LE(d, b);
        for (let i = 0; i < 32; i += 4) {
          const r = rnd();
          for (let k = 0; k < 4; k++) file[b + 2 + i + k] = (((r >>> (8 * k)) & 0xff) % 255) - 127 & 0xff;
        }
      }
    } else { // q4_0: nibbles 0..15, value (q - 8) * d; std of q - 8 is 4.6
      const d = f16(std / 4.6);
      for (let b = at; b < at + bytes; b += 18) {
        file.writeUInt16LE(d, b);
        for (let i = 0; i < 16; i += 4) file.writeUInt32LE(rnd(), b + 2 + i);
      }
    }
  }
  fs.writeFileSync(out, file);
  return {tensors: h.tensors.length, bytes: file.length};
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [mode, input, output] = process.argv.slice(2);
  if (mode === 'head' && output) {
    const buf = fs.readFileSync(input);
    const h = parseHeader(buf);
    fs.writeFileSync(output, buf.subarray(0, h.dataStart));
    console.log(`${output}: ${h.dataStart} header bytes, ${h.tensors.length} tensors (${input}: ${buf.length} bytes)`);
  } else if (mode === 'fill' && output) {
    const r = fill(fs.readFileSync(input), output);
    console.log(`${output}: ${r.bytes} bytes, ${r.tensors} tensors with generated data`);
  } else {
    console.error('usage: node gguf-synth.mjs head IN.gguf OUT.head | fill IN.head OUT.gguf');
    process.exit(2);
  }
}
