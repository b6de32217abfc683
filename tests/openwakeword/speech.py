#!/usr/bin/python3
"""speech.py OUTDIR NAME=TEXT...: real speech for the openWakeWord tests.

Each TEXT is spoken by Debian's espeak-ng (voice en-us; it writes 16-bit
mono WAV at 22050 Hz), resampled to 16 kHz with a Kaiser-windowed sinc
(cutoff 7.6 kHz, 64 taps a side), rounded to int16, and padded with one
second of silence before and after (openWakeWord's predict_clip(padding=1))
and then with zeros up to a multiple of 1280 samples (80 ms steps).  Writes
OUTDIR/NAME.wav (16 kHz int16) and OUTDIR/NAME.npy (the same samples as
float32 int16 values, shape [n]).  Deterministic: same espeak-ng, same bytes.
"""
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

RATE_IN, RATE_OUT, STEP = 22050, 16000, 1280


def resample(x):
    """Band-limited 22050 -> 16000 Hz resampling (windowed sinc, numpy only)."""
    n_out = int(len(x) * RATE_OUT // RATE_IN)
    t = np.arange(n_out) * (RATE_IN / RATE_OUT)  # output instants in input samples
    half = 64
    cutoff = 0.95 * (RATE_OUT / 2) / RATE_IN     # cycles per input sample
    base = np.floor(t).astype(np.int64)
    y = np.zeros(n_out)
    for k in range(-half + 1, half + 1):
        idx = base + k
        d = t - idx
        w = np.kaiser(2 * half + 1, 8.6)[np.clip(np.round(d / 1.0 + half).astype(np.int64), 0, 2 * half)]
        h = 2 * cutoff * np.sinc(2 * cutoff * d) * w
        ok = (idx >= 0) & (idx < len(x))
        y[ok] += x[idx[ok]] * h[ok]
    return y


def main():
    if len(sys.argv) < 3:
        print("usage: speech.py OUTDIR NAME=TEXT...", file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for arg in sys.argv[2:]:
        name, text = arg.split("=", 1)
        with tempfile.TemporaryDirectory() as tmp:
            raw = os.path.join(tmp, "raw.wav")
            subprocess.run(["espeak-ng", "-v", "en-us", "-w", raw, text], check=True)
            with wave.open(raw, "rb") as f:
                if f.getframerate() != RATE_IN or f.getsampwidth() != 2 or f.getnchannels() != 1:
                    print(f"speech.py: espeak-ng wrote {f.getframerate()} Hz, {f.getsampwidth()} bytes, "
                          f"{f.getnchannels()} channels; want {RATE_IN}, 2, 1", file=sys.stderr)
                    return 1
                x = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2").astype(np.float64)
        y = np.clip(np.round(resample(x)), -32768, 32767)
        pad = np.zeros(RATE_OUT)
        y = np.concatenate([pad, y, pad])
        y = np.concatenate([y, np.zeros((-len(y)) % STEP)]).astype(np.int16)
        with wave.open(os.path.join(out, name + ".wav"), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(RATE_OUT)
            f.writeframes(y.astype("<i2").tobytes())
        np.save(os.path.join(out, name + ".npy"), y.astype("<f4"))
        print(f"speech.py: {name}: {len(y)} samples, {len(y) // STEP} steps, peak {np.abs(y).max()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
