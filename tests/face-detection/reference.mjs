#!/usr/bin/env node
// Reference activations and faces for face-detection, from LiteRT.js.
//
//   node reference.mjs --inspect M2W_INSPECT --model MODEL.tflite --out DIR NAME=IMAGE.png...
//
// For each image: images.py (/usr/bin/python3, zlib-only PNG decode) writes
// DIR/NAME/rgba.npy and the model input DIR/NAME/input.npy (MediaPipe's
// letterbox + [-1, 1], NHWC); `m2w-inspect --expose-intermediates` makes
// the model with every op output as a graph output, and LiteRT.js (wasm,
// CPU) runs it.  Every op output except DEQUANTIZE (those are weights) is
// written to DIR/NAME/ref/<tensor name, '/' -> '_'>.npy, with the input as
// input.npy, and DIR/NAME/ref/order.txt lists them in graph order.  Four-
// dimensional tensors are stored NCHW (LiteRT's NHWC values, transposed),
// the layout the package computes in.  DIR/NAME/faces.json holds the faces
// of MediaPipe's post-processing applied to LiteRT's outputs, written here
// independently of the package (ssd anchors, decode, weighted NMS, letterbox
// removal), in source pixels.
//
// Results are cached: DIR/NAME/stamp holds a hash of the model, the image
// and these two scripts, and a run whose stamp matches does nothing.
import {execFileSync} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {compile, loadLiteRt, readTflite} from '../conformance/tflite/litert_node.mjs';
import {mediapipeFaces} from './mediapipe_post.mjs';
import {readNpy, writeNpy} from './npy.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const o = {images: []};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--inspect') o.inspect = argv[++i];
  else if (argv[i] === '--model') o.model = argv[++i];
  else if (argv[i] === '--out') o.out = argv[++i];
  else if (argv[i].includes('=')) o.images.push(argv[i].split('='));
  else { console.error(`reference.mjs: unexpected ${argv[i]}`); process.exit(2); }
}
if (!o.inspect || !o.model || !o.out || !o.images.length) {
  console.error('usage: node reference.mjs --inspect M2W_INSPECT --model MODEL --out DIR NAME=IMAGE.png...');
  process.exit(2);
}

const hash = crypto.createHash('sha256');
for (const f of [o.model, path.join(here, 'images.py'), path.join(here, 'reference.mjs'),
  path.join(here, 'mediapipe_post.mjs')]) hash.update(fs.readFileSync(f));
const base = hash.digest('hex');

const safe = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');
const nchw = (data, shape) => {
  if (shape.length !== 4) return {data, shape};
  const [n, h, w, c] = shape, out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return {data: out, shape: [n, c, h, w]};
};

let model = null, lt = null, graph = null;
fs.mkdirSync(o.out, {recursive: true});
for (const [name, png] of o.images) {
  const dir = path.join(o.out, name);
  const stamp = crypto.createHash('sha256').update(base).update(fs.readFileSync(png)).digest('hex');
  const stampFile = path.join(dir, 'stamp');
  if (fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    console.log(`reference.mjs: ${name}: cached`);
    continue;
  }
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(path.join(dir, 'ref'), {recursive: true});
  execFileSync('/usr/bin/python3', [path.join(here, 'images.py'), png, path.join(dir, 'rgba.npy'),
    path.join(dir, 'input.npy')], {stdio: 'inherit'});
  if (!model) {
    const all = path.join(o.out, 'model.all.tflite');
    execFileSync(o.inspect, ['--expose-intermediates', all, o.model], {stdio: 'inherit'});
    lt = await loadLiteRt();
    model = await compile(all);
    graph = readTflite(fs.readFileSync(all));
  }
  const input = readNpy(fs.readFileSync(path.join(dir, 'input.npy')));
  const rgba = readNpy(fs.readFileSync(path.join(dir, 'rgba.npy')));
  const tin = new lt.Tensor(input.data, input.shape);
  const outs = await model.run([tin]);
  tin.delete();
  const details = model.getOutputDetails();
  const byName = new Map();
  outs.forEach((t, i) => {
    byName.set(details[i].name, {data: t.toTypedArray().slice(), shape: Array.from(details[i].shape)});
    t.delete();
  });
  const sg = graph.subgraphs[0];
  const order = ['input'];
  const x = nchw(input.data, input.shape);
  fs.writeFileSync(path.join(dir, 'ref', 'input.npy'), writeNpy(x.data, x.shape));
  for (const op of sg.operators) {
    if (op.opcode === 6) continue; // DEQUANTIZE: a weight
    for (const t of op.outputs) {
      const tname = sg.tensors[t].name, v = byName.get(tname);
      if (!v) throw new Error(`LiteRT returned no ${tname}`);
      const a = nchw(v.data, v.shape);
      fs.writeFileSync(path.join(dir, 'ref', safe(tname) + '.npy'), writeNpy(a.data, a.shape));
      order.push(safe(tname));
    }
  }
  fs.writeFileSync(path.join(dir, 'ref', 'order.txt'), order.join('\n') + '\n');
  const [height, width] = rgba.shape;
  const faces = mediapipeFaces(byName.get('regressors').data, byName.get('classificators').data, width, height);
  fs.writeFileSync(path.join(dir, 'faces.json'), JSON.stringify({width, height, faces}, null, 1) + '\n');
  fs.writeFileSync(stampFile, stamp);
  console.log(`reference.mjs: ${name}: ${order.length} checkpoints, ${faces.length} face(s)`);
}
