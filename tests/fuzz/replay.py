#!/usr/bin/python3
"""Replays a fuzz corpus folder through a standalone fuzz driver."""
import os, subprocess, sys
exe, corpus = sys.argv[1], sys.argv[2]
files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus))
for i in range(0, len(files), 200):
    subprocess.run([exe] + files[i:i + 200], check=True, timeout=600)
print(f"replayed {len(files)} corpus inputs")
