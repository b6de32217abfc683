#!/usr/bin/python3
"""Test images for face-detection: PNG -> RGBA .npy, and the model input.

  images.py PNG OUT_RGBA.npy OUT_INPUT.npy

Decodes an 8-bit, non-interlaced PNG (grey, grey+alpha, RGB, RGBA, palette)
with zlib alone, writes its pixels as uint8 [H, W, 4] (RGBA, alpha 255 when
the file has none), and the model input MediaPipe's face detection graph
makes of it, float32 [1, 128, 128, 3] (NHWC, the TFLite layout).

The input is MediaPipe's ImageToTensorCalculator as configured in the
short-range graph (options read from the binary graph compiled into
@mediapipe/face_detection's wasm, see src/preprocess.ts): the whole image
as the ROI, enlarged to a square about its centre (keep_aspect_ratio), each
of the 128x128 output pixel centres mapped into that square, sampled
bilinearly at pixel centres with clamp-to-edge; a sample whose coordinate
lies outside the image is 0 (BORDER_ZERO); then mapped to [-1, 1] as
v / 255 * 2 - 1 (output_tensor_float_range {min: -1, max: 1}).  This is an
independent float64 NumPy implementation; the package does it in WGSL.
"""
import struct
import sys
import zlib

import numpy as np


def decode_png(data):
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, plte, trns = 8, [], None, None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
        elif kind == b'PLTE':
            plte = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b'tRNS':
            trns = body
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
    if depth != 8 or interlace != 0:
        raise ValueError(f'unsupported PNG: bit depth {depth}, interlace {interlace}')
    chans = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b''.join(idat))
    stride = w * chans
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        else:  # 1 sub, 3 average, 4 Paeth: sequential in x
            for x in range(stride):
                a = cur[x - chans] if x >= chans else 0
                b = prev[x]
                c = prev[x - chans] if x >= chans else 0
                if f == 1:
                    p = a
                elif f == 3:
                    p = (a + b) >> 1
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + p) & 255
        out[y] = cur
        prev = cur
    px = out.reshape(h, w, chans)
    rgba = np.full((h, w, 4), 255, np.uint8)
    if ctype == 0:
        rgba[..., :3] = px
    elif ctype == 4:
        rgba[..., :3] = px[..., :1]
        rgba[..., 3] = px[..., 1]
    elif ctype == 2:
        rgba[..., :3] = px
    elif ctype == 6:
        rgba[:] = px
    else:
        rgba[..., :3] = plte[px[..., 0]]
        if trns is not None:
            alpha = np.full(256, 255, np.uint8)
            alpha[:len(trns)] = np.frombuffer(trns, np.uint8)
            rgba[..., 3] = alpha[px[..., 0]]
    return rgba


def model_input(rgba, size=128):
    h, w = rgba.shape[:2]
    side = max(w, h)  # the ROI made square about the image centre
    x0, y0 = (w - side) / 2.0, (h - side) / 2.0
    c = (np.arange(size, dtype=np.float64) + 0.5) * side / size
    sx, sy = x0 + c, y0 + c  # sample positions, pixel units
    img = rgba[..., :3].astype(np.float64)

    def taps(s, n):
        p = s - 0.5
        i0 = np.floor(p)
        f = p - i0
        i0 = i0.astype(np.int64)
        return np.clip(i0, 0, n - 1), np.clip(i0 + 1, 0, n - 1), f, (s < 0) | (s > n)

    xa, xb, fx, xout = taps(sx, w)
    ya, yb, fy, yout = taps(sy, h)
    fx, fy = fx[None, :, None], fy[:, None, None]
    top = img[ya][:, xa] * (1 - fx) + img[ya][:, xb] * fx
    bot = img[yb][:, xa] * (1 - fx) + img[yb][:, xb] * fx
    v = top * (1 - fy) + bot * fy
    v[yout] = 0.0
    v[:, xout] = 0.0
    return (v / 255.0 * 2.0 - 1.0).astype(np.float32)[None]


def main():
    if len(sys.argv) != 4:
        print('usage: images.py PNG OUT_RGBA.npy OUT_INPUT.npy', file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1], 'rb') as f:
        rgba = decode_png(f.read())
    np.save(sys.argv[2], rgba)
    np.save(sys.argv[3], model_input(rgba))


if __name__ == '__main__':
    main()
