// decode.ts — MediaPipe's face-detection post-processing, on the CPU.
//
// The options are those of MediaPipe's face_detection_short_range graph,
// read from the binary graph config compiled into @mediapipe/face_detection
// 0.4.1657300184 (face_detection_solution_simd_wasm_bin.wasm), decoded by
// hand from the protobuf wire format:
//   FaceDetectionOptions (short range): tensor_width = tensor_height = 128,
//     num_layers 4, strides [8, 16, 16, 16], interpolated_scale_aspect_ratio
//     1.0, num_boxes 896, x/y/w/h_scale 128, min_score_thresh 0.5;
//   SsdAnchorsCalculatorOptions: min_scale 0.1484375, max_scale 0.75,
//     anchor_offset_x/y 0.5, aspect_ratios [1.0], fixed_anchor_size true;
//   TensorsToDetectionsCalculatorOptions: num_classes 1, num_coords 16,
//     box_coord_offset 0, keypoint_coord_offset 4, num_keypoints 6,
//     num_values_per_keypoint 2, reverse_output_order true (x before y),
//     sigmoid_score true, score_clipping_thresh 100;
//   NonMaxSuppressionCalculatorOptions: min_suppression_threshold 0.3,
//     overlap_type INTERSECTION_OVER_UNION, algorithm WEIGHTED.
// fixed_anchor_size makes every anchor 1 × 1, so an anchor is its centre:
// per stride group (8: 16×16 cells, 2 anchors; 16: 8×8 cells, 6 anchors),
// rows, then columns, then anchors, centre ((x + 0.5) / cells, (y + 0.5) / cells).
//
// Why the CPU: after the network the work is 896 sigmoids, a few
// multiply-adds per surviving anchor and a weighted NMS over a handful of
// candidates — sequential, data-dependent and microseconds on a CPU.  The
// raw outputs (896 × 17 floats, 61 KB) have to come back anyway for the
// faces; decoding on the GPU would read back as much and add a dispatch.
import type { Face } from './types.js';

export const NUM_BOXES = 896;
export const NUM_COORDS = 16;
const NUM_KEYPOINTS = 6;
const SCALE = 128;
const SCORE_CLIP = 100;
const IOU_THRESHOLD = 0.3;

/** Anchor centres [x0, y0, x1, y1, ...] in the model's unit square (SsdAnchorsCalculator). */
export function ssdAnchors(): Float32Array {
  const strides = [8, 16, 16, 16];
  const perLayer = 2; // aspect_ratios [1.0] + the interpolated scale
  const out = new Float32Array(NUM_BOXES * 2);
  let n = 0;
  for (let layer = 0; layer < strides.length; ) {
    let last = layer;
    while (last < strides.length && strides[last] === strides[layer]) last++;
    const anchors = (last - layer) * perLayer;
    const cells = Math.ceil(SCALE / strides[layer]!);
    for (let y = 0; y < cells; y++)
      for (let x = 0; x < cells; x++)
        for (let a = 0; a < anchors; a++) {
          out[n++] = (x + 0.5) / cells;
          out[n++] = (y + 0.5) / cells;
        }
    layer = last;
  }
  if (n !== out.length) throw new Error(`face-detection: ${n / 2} anchors, expected ${NUM_BOXES}`);
  return out;
}

interface Raw {
  score: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  kp: Float32Array;
}

function iou(a: Raw, b: Raw): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w < 0 || h < 0) return 0;
  const inter = w * h;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

/** Letterbox geometry: the model's unit square is `side` source pixels starting at (ox, oy). */
export interface Letterbox {
  ox: number;
  oy: number;
  side: number;
}

/**
 * Faces from the model outputs: scores [896] (logits), boxes [896, 16];
 * decode, weighted NMS, then the letterbox removed (source pixels).
 */
export function decodeFaces(scores: Float32Array, boxes: Float32Array, anchors: Float32Array, lb: Letterbox, minScore = 0.5): Face[] {
  const dets: Raw[] = [];
  for (let i = 0; i < NUM_BOXES; i++) {
    const logit = Math.min(Math.max(scores[i]!, -SCORE_CLIP), SCORE_CLIP);
    const score = 1 / (1 + Math.exp(-logit));
    if (score < minScore) continue;
    const r = i * NUM_COORDS;
    const ax = anchors[2 * i]!;
    const ay = anchors[2 * i + 1]!;
    const cx = boxes[r]! / SCALE + ax;
    const cy = boxes[r + 1]! / SCALE + ay;
    const hw = boxes[r + 2]! / SCALE / 2;
    const hh = boxes[r + 3]! / SCALE / 2;
    const kp = new Float32Array(NUM_KEYPOINTS * 2);
    for (let k = 0; k < NUM_KEYPOINTS; k++) {
      kp[2 * k] = boxes[r + 4 + 2 * k]! / SCALE + ax;
      kp[2 * k + 1] = boxes[r + 5 + 2 * k]! / SCALE + ay;
    }
    dets.push({ score, x0: cx - hw, y0: cy - hh, x1: cx + hw, y1: cy + hh, kp });
  }
  // WEIGHTED NMS: the best remaining detection absorbs every one overlapping
  // it by IoU > 0.3 (itself included); its box and keypoints become their
  // score-weighted mean, its score stays.
  let remained = dets.map((_, i) => i).sort((a, b) => dets[b]!.score - dets[a]!.score);
  const faces: Face[] = [];
  const px = (x: number) => x * lb.side + lb.ox;
  const py = (y: number) => y * lb.side + lb.oy;
  while (remained.length > 0) {
    const top = dets[remained[0]!]!;
    const rest: number[] = [];
    let t = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    const kp = new Float64Array(NUM_KEYPOINTS * 2);
    for (const i of remained) {
      const d = dets[i]!;
      if (iou(d, top) <= IOU_THRESHOLD) {
        rest.push(i);
        continue;
      }
      t += d.score;
      x0 += d.x0 * d.score;
      y0 += d.y0 * d.score;
      x1 += d.x1 * d.score;
      y1 += d.y1 * d.score;
      for (let k = 0; k < kp.length; k++) kp[k]! += d.kp[k]! * d.score;
    }
    if (t === 0) {
      // a zero-area best box overlaps nothing, itself included: MediaPipe
      // emits it unchanged and stops (no progress)
      t = top.score;
      x0 = top.x0 * t; y0 = top.y0 * t; x1 = top.x1 * t; y1 = top.y1 * t;
      for (let k = 0; k < kp.length; k++) kp[k] = top.kp[k]! * t;
    }
    const keypoints = [];
    for (let k = 0; k < NUM_KEYPOINTS; k++) keypoints.push({ x: px(kp[2 * k]! / t), y: py(kp[2 * k + 1]! / t) });
    faces.push({
      box: { x: px(x0 / t), y: py(y0 / t), width: ((x1 - x0) / t) * lb.side, height: ((y1 - y0) / t) * lb.side },
      keypoints,
      score: top.score,
    });
    if (rest.length === remained.length) break;
    remained = rest;
  }
  return faces;
}
