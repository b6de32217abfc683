#!/usr/bin/python3
"""Replays fuzz corpus folders through a standalone fuzz driver (gcc builds):
every input must end cleanly (exit 0, no signal)."""
import os, subprocess, sys
exe, dirs = sys.argv[1], sys.argv[2:]
files = sorted(os.path.join(d, f) for d in dirs for f in os.listdir(d))
for i in range(0, len(files), 200):
    r = subprocess.run([exe] + files[i:i + 200], timeout=600)
    if r.returncode != 0:
        # find the input that failed, for the message
        for f in files[i:i + 200]:
            if subprocess.run([exe, f], timeout=60, capture_output=True).returncode != 0:
                sys.exit(f"{f}: the driver failed (exit {r.returncode})")
        sys.exit(f"batch {i}: the driver failed (exit {r.returncode})")
print(f"replayed {len(files)} inputs from {' '.join(dirs)}")
