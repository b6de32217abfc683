// MediaPipe's face-detection post-processing, written for the tests from
// the calculators' documented behaviour (not shared with the package):
// SsdAnchorsCalculator, TensorsToDetectionsCalculator, the WEIGHTED
// NonMaxSuppressionCalculator and DetectionProjectionCalculator, with the
// short-range graph's options (read from @mediapipe/face_detection's wasm,
// see the package's src/decode.ts).  Faces in source pixels.

const OPT = {
  numLayers: 4, strides: [8, 16, 16, 16], minScale: 0.1484375, maxScale: 0.75, inputSize: 128,
  offset: 0.5, aspectRatios: [1.0], interpolatedScaleAspectRatio: 1.0,
  numBoxes: 896, numCoords: 16, keypoints: 6, scale: 128, scoreClip: 100, minScore: 0.5, iou: 0.3,
};

function scaleOf(i, n) {
  return n === 1 ? (OPT.minScale + OPT.maxScale) * 0.5 : OPT.minScale + (OPT.maxScale - OPT.minScale) * i / (n - 1);
}

export function ssdAnchors() {
  const anchors = [];
  let layer = 0;
  while (layer < OPT.numLayers) {
    let last = layer, count = 0;
    while (last < OPT.strides.length && OPT.strides[last] === OPT.strides[layer]) {
      count += OPT.aspectRatios.length + (OPT.interpolatedScaleAspectRatio > 0 ? 1 : 0);
      last++;
    }
    const fm = Math.ceil(OPT.inputSize / OPT.strides[layer]);
    for (let y = 0; y < fm; y++)
      for (let x = 0; x < fm; x++)
        for (let a = 0; a < count; a++)
          anchors.push({x: (x + OPT.offset) / fm, y: (y + OPT.offset) / fm, w: 1, h: 1});
    layer = last;
  }
  return anchors;
}

function iou(a, b) {
  const ix0 = Math.max(a.xmin, b.xmin), iy0 = Math.max(a.ymin, b.ymin);
  const ix1 = Math.min(a.xmin + a.width, b.xmin + b.width), iy1 = Math.min(a.ymin + a.height, b.ymin + b.height);
  if (ix1 < ix0 || iy1 < iy0) return 0;
  const inter = (ix1 - ix0) * (iy1 - iy0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export function mediapipeFaces(regressors, classificators, width, height) {
  const anchors = ssdAnchors();
  if (anchors.length !== OPT.numBoxes) throw new Error(`${anchors.length} anchors`);
  const dets = [];
  for (let i = 0; i < OPT.numBoxes; i++) {
    const s = Math.min(Math.max(classificators[i], -OPT.scoreClip), OPT.scoreClip);
    const score = 1 / (1 + Math.exp(-s));
    if (score < OPT.minScore) continue;
    const r = regressors.subarray(i * OPT.numCoords, (i + 1) * OPT.numCoords), an = anchors[i];
    const cx = r[0] / OPT.scale * an.w + an.x, cy = r[1] / OPT.scale * an.h + an.y;
    const w = r[2] / OPT.scale * an.w, h = r[3] / OPT.scale * an.h;
    const kps = [];
    for (let k = 0; k < OPT.keypoints; k++)
      kps.push({x: r[4 + 2 * k] / OPT.scale * an.w + an.x, y: r[5 + 2 * k] / OPT.scale * an.h + an.y});
    dets.push({score, xmin: cx - w / 2, ymin: cy - h / 2, width: w, height: h, kps});
  }
  // weighted NMS
  let remained = dets.map((d, i) => i).sort((a, b) => dets[b].score - dets[a].score);
  const kept = [];
  while (remained.length) {
    const before = remained.length, top = dets[remained[0]];
    const cand = [], rest = [];
    for (const i of remained) (iou(dets[i], top) > OPT.iou ? cand : rest).push(i);
    let t = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    const kx = new Array(OPT.keypoints).fill(0), ky = new Array(OPT.keypoints).fill(0);
    for (const i of cand) {
      const d = dets[i];
      t += d.score;
      x0 += d.xmin * d.score; y0 += d.ymin * d.score;
      x1 += (d.xmin + d.width) * d.score; y1 += (d.ymin + d.height) * d.score;
      d.kps.forEach((p, k) => { kx[k] += p.x * d.score; ky[k] += p.y * d.score; });
    }
    const out = cand.length ? {score: top.score, xmin: x0 / t, ymin: y0 / t, width: (x1 - x0) / t, height: (y1 - y0) / t,
      kps: kx.map((x, k) => ({x: x / t, y: ky[k] / t}))} : top;
    kept.push(out);
    remained = rest;
    if (remained.length === before) break;
  }
  // letterbox removal: the tensor covers a square of side max(w, h) centred on the image
  const side = Math.max(width, height), ox = (width - side) / 2, oy = (height - side) / 2;
  return kept.map((d) => ({
    box: {x: d.xmin * side + ox, y: d.ymin * side + oy, width: d.width * side, height: d.height * side},
    keypoints: d.kps.map((p) => ({x: p.x * side + ox, y: p.y * side + oy})),
    score: d.score,
  }));
}
