#!/usr/bin/python3
"""m2w-scaffold's TFLite front end on BlazeFace, without a browser.

  face-detection-tool.py M2W_SCAFFOLD MODEL.tflite WORKDIR

- the draft is deterministic: scaffolded twice, the same bytes, and a re-run
  leaves the files' mtimes alone (write-if-changed);
- every op lowers to a library shader (report.json: no stub), DEQUANTIZE
  ops are weights (no node), checkpoints are TFLite tensor names;
- an op with no lowering is never skipped silently: the model with its
  CONCATENATION opcode rewritten to GATHER (this file's own flatbuffer
  reader, sharing no code with m2w's) still scaffolds, report.json lists
  both GATHER nodes as stubs, engine.ts emits this.stub('GATHER...') that
  throws, and their outputs get no checkpoint;
- --dim and --const are refused for TFLite (exit 1, a message).
"""
import json
import os
import struct
import subprocess
import sys

scaffold, model, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
fails = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        fails.append(what)


def run(*args):
    return subprocess.run([scaffold, *args], capture_output=True, text=True)


def files(d):
    return {f: open(os.path.join(d, f), 'rb').read() for f in ('engine.ts', 'types.ts', 'report.json')}


a, b = os.path.join(work, 'a'), os.path.join(work, 'b')
for d in (a, b):
    r = run(model, '-o', d)
    check(r.returncode == 0, f'scaffold -o {d}: exit {r.returncode} {r.stderr.strip()}')
check(files(a) == files(b), 'two runs write the same bytes')
mt = {f: os.stat(os.path.join(a, f)).st_mtime_ns for f in files(a)}
run(model, '-o', a)
check(mt == {f: os.stat(os.path.join(a, f)).st_mtime_ns for f in files(a)}, 'a re-run leaves the mtimes alone')

rep = json.load(open(os.path.join(a, 'report.json')))
eng = open(os.path.join(a, 'engine.ts')).read()
types = open(os.path.join(a, 'types.ts')).read()
check(rep['format'] == 'tflite' and rep['stubs'] == 0, f"format tflite, {rep['stubs']} stubs")
check(not any('DEQUANTIZE' in o['name'] for o in rep['ops']), 'DEQUANTIZE ops are weights, not nodes')
check("weight('conv2d/Kernel')" in eng, "the stem conv reads weight('conv2d/Kernel') (m2w-extract's name)")
check("'regressors'" in types and "'activation_16'" in types and 'Kernel' not in types.split('CHECKPOINTS')[1],
      'checkpoints are TFLite activation names')
check(rep['inputs'] == [{'name': 'input', 'shape': [1, 3, 128, 128], 'dtype': 'f32'}], 'the input is NCHW')


# ---- CONCATENATION -> GATHER, with a flatbuffer reader of our own ----
buf = bytearray(open(model, 'rb').read())
u32 = lambda p: struct.unpack_from('<I', buf, p)[0]
def field(t, k):  # absolute position of table t's field k, or None
    vt = t - struct.unpack_from('<i', buf, t)[0]
    vlen = struct.unpack_from('<H', buf, vt)[0]
    if 4 + 2 * k + 2 > vlen:
        return None
    o = struct.unpack_from('<H', buf, vt + 4 + 2 * k)[0]
    return t + o if o else None
root = u32(0)
codes = field(root, 1)  # Model.operator_codes
vec = codes + u32(codes)
patched = 0
for i in range(u32(vec)):
    e = vec + 4 + 4 * i
    t = e + u32(e)
    dep, full = field(t, 0), field(t, 3)  # deprecated_builtin_code (i8), builtin_code (i32)
    code = max(struct.unpack_from('<b', buf, dep)[0] if dep else 0,
               struct.unpack_from('<i', buf, full)[0] if full else 0)
    if code == 2:  # CONCATENATION
        if dep:
            struct.pack_into('<b', buf, dep, 36)  # GATHER
        if full:
            struct.pack_into('<i', buf, full, 36)
        patched += 1
check(patched == 1, 'one CONCATENATION opcode patched to GATHER')
gm = os.path.join(work, 'gather.tflite')
open(gm, 'wb').write(buf)
g = os.path.join(work, 'gather')
r = run(gm, '-o', g)
check(r.returncode == 0, f'the GATHER model scaffolds: exit {r.returncode} {r.stderr.strip()}')
if r.returncode == 0:
    rep = json.load(open(os.path.join(g, 'report.json')))
    eng = open(os.path.join(g, 'engine.ts')).read()
    types = open(os.path.join(g, 'types.ts')).read()
    stubs = [o for o in rep['ops'] if o.get('stub')]
    check(rep['stubs'] == 2 and len(stubs) == 2 and all(o['op'] == 'GATHER' for o in stubs),
          f"report.json: 2 GATHER stubs ({[o.get('stub') for o in stubs]})")
    check(eng.count("this.stub('GATHER") == 2 and 'write its shader' in eng, 'engine.ts: two stubs that throw')
    check("'regressors'" not in types.split('CHECKPOINTS')[1] and "'reshape_3'" in types,
          'no checkpoint for a stub\'s output; the rest kept')

for opt in (['--dim', 'n=1'], ['--const', f'x={model}']):
    r = run(*opt, model, '-o', os.path.join(work, 'c'))
    check(r.returncode == 1 and 'applies to ONNX' in r.stderr, f'{opt[0]} refused for TFLite: {r.stderr.strip()}')
print(f'face-detection-tool: {len(fails)} failure(s)')
sys.exit(1 if fails else 0)
