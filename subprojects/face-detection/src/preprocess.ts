// preprocess.ts — the source image onto the GPU, and the letterbox that
// MediaPipe's face detection graph applies before the model.
//
// How the preprocessing was verified: the face_detection_short_range graph
// compiled into @mediapipe/face_detection 0.4.1657300184 (its wasm carries
// the CalculatorGraphConfig as protobuf bytes) configures
// ImageToTensorCalculator with keep_aspect_ratio: true,
// output_tensor_float_range {min: -1, max: 1}, border_mode: BORDER_ZERO, and
// output_tensor_width/height from FaceDetectionOptions tensor_width = 128,
// tensor_height = 128; the model's input tensor is float32 [1, 128, 128, 3]
// with no quantization, so those floats go in as they are.  With no ROI the
// calculator takes the whole image and, keeping the aspect ratio, grows the
// ROI to the tensor's 1:1 about the image centre; each tensor pixel centre
// samples the image bilinearly (pixel centres, clamp-to-edge), points
// outside the image give 0, and v/255 maps to -1 + 2·v/255.  The test's
// reference (tests/face-detection/images.py) does the same in NumPy
// float64 and the 'input' checkpoint compares the two.

import type { DetectSource as Source, Pixels } from './types.js';

/** An ImageData, or pixels of its layout (types.ts Pixels): written with writeTexture. */
function isPixels(src: Source): src is Pixels {
  return (typeof ImageData !== 'undefined' && src instanceof ImageData) || ArrayBuffer.isView((src as Partial<Pixels>).data);
}

export const INPUT_SIZE = 128;

/** Pixel size of a source. */
export function sourceSize(src: Source): { width: number; height: number } {
  if (typeof HTMLVideoElement !== 'undefined' && src instanceof HTMLVideoElement) return { width: src.videoWidth, height: src.videoHeight };
  return { width: src.width, height: src.height };
}

/** Letterbox: the square of side max(w, h) centred on the image, in source pixels. */
export function letterbox(width: number, height: number): { ox: number; oy: number; side: number } {
  const side = Math.max(width, height);
  return { ox: (width - side) / 2, oy: (height - side) / 2, side };
}

/** Params of preprocess.wgsl for a width × height source. */
export function preprocessParams(width: number, height: number): Record<string, number> {
  const lb = letterbox(width, height);
  return { inW: width, inH: height, size: INPUT_SIZE, originX: lb.ox, originY: lb.oy, step: lb.side / INPUT_SIZE, lo: -1, hi: 1 };
}

/** Keeps one rgba8unorm texture of the source's size and copies each source into it. */
export class SourceTexture {
  texture: GPUTexture | null = null;
  private readonly device: GPUDevice;

  constructor(device: GPUDevice) {
    this.device = device;
  }

  /** Uploads `src`; returns true when the texture was (re)created. */
  upload(src: Source): boolean {
    const { width, height } = sourceSize(src);
    if (!(width > 0 && height > 0)) throw new Error(`face-detection: the source has no pixels (${width} × ${height})`);
    let created = false;
    if (!this.texture || this.texture.width !== width || this.texture.height !== height) {
      this.texture?.destroy();
      this.texture = this.device.createTexture({
        size: [width, height],
        format: 'rgba8unorm',
        usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST | GPUTextureUsage.RENDER_ATTACHMENT,
        label: 'face-detection source',
      });
      created = true;
    }
    if (isPixels(src)) {
      if (src.data.length !== width * height * 4) throw new Error(`face-detection: ${src.data.length} bytes of pixels for ${width} × ${height} RGBA`);
      this.device.queue.writeTexture({ texture: this.texture }, src.data, { bytesPerRow: width * 4, rowsPerImage: height }, [width, height]);
    } else {
      this.device.queue.copyExternalImageToTexture({ source: src as Exclude<Source, ImageData | Pixels> }, { texture: this.texture }, [width, height]);
    }
    return created;
  }

  destroy(): void {
    this.texture?.destroy();
    this.texture = null;
  }
}
