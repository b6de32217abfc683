#!/usr/bin/python3
"""Writes the hand-made must-fail fixtures into the folder given as the
first argument (deterministic; run.py calls it, nothing is committed).  Each builder returns the bytes; expect.tsv
holds the offset and the phrase each must produce, verified by hand
against the format: the offset is where the bad value starts."""
import io, os, struct, sys, zipfile

out = sys.argv[1]
src_root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
os.makedirs(out, exist_ok=True)


def w(name, data):
    open(os.path.join(out, name), 'wb').write(data)


# ---------------- GGUF ----------------
def gstr(s):
    b = s.encode()
    return struct.pack('<Q', len(b)) + b

def gguf(version=3, kvs=b'', n_kv=0, tensors=b'', n_t=0):
    return b'GGUF' + struct.pack('<IQQ', version, n_t, n_kv) + kvs + tensors

w('gguf-version1.gguf', b'GGUF' + struct.pack('<III', 1, 0, 0))           # 0x4
w('gguf-huge-tensor-count.gguf', gguf(n_t=1 << 62))                        # 0x8
w('gguf-huge-kv-count.gguf', gguf(n_kv=1 << 60))                           # 0x10
w('gguf-key-past-end.gguf', gguf(kvs=struct.pack('<Q', 1 << 40) + b'k', n_kv=1))  # 0x18
# value type 99: offset of the type field = 0x18 + 8 + 1
w('gguf-bad-value-type.gguf', gguf(kvs=gstr('a') + struct.pack('<I', 99), n_kv=1))  # 0x21
# general.alignment = 3, not a power of two; value at 0x18+8+17+4 = 0x3d
w('gguf-alignment-3.gguf', gguf(kvs=gstr('general.alignment') + struct.pack('<II', 4, 3), n_kv=1))
# duplicate key: second key starts at 0x18 + (8+1+4+4) = 0x29
kv = gstr('a') + struct.pack('<II', 4, 1)
w('gguf-duplicate-key.gguf', gguf(kvs=kv + kv, n_kv=2))
# tensor with 5 dims: n_dims at 0x18 + 8 + 1 = 0x21
w('gguf-5-dims.gguf', gguf(tensors=gstr('t') + struct.pack('<I', 5) + struct.pack('<5Q', 1, 1, 1, 1, 1)
                       + struct.pack('<IQ', 0, 0), n_t=1))
# dims whose product overflows 64 bits: dims start at 0x25
w('gguf-dims-overflow.gguf', gguf(tensors=gstr('t') + struct.pack('<I', 2) + struct.pack('<2Q', 1 << 40, 1 << 40)
                          + struct.pack('<IQ', 0, 0), n_t=1))
# tensor offset 64 where the running sum says 0: offset field at 0x25+8+4 = 0x31
w('gguf-bad-offset.gguf', gguf(tensors=gstr('t') + struct.pack('<I', 1) + struct.pack('<Q', 4)
                          + struct.pack('<IQ', 0, 64), n_t=1).ljust(256, b'\0'))
# array of arrays nested 100 deep: type ARRAY(9) repeated
nest = gstr('deep') + struct.pack('<I', 9)
for _ in range(100):
    nest += struct.pack('<IQ', 9, 1)
w('gguf-deep-arrays.gguf', gguf(kvs=nest, n_kv=1))

# ---------------- ONNX (protobuf) ----------------
def varint(v):
    b = bytearray()
    while True:
        c = v & 0x7f; v >>= 7
        if v:
            b.append(c | 0x80)
        else:
            b.append(c); return bytes(b)

def field(num, wire, payload):
    tag = varint(num << 3 | wire)
    if wire == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload

ir = field(1, 0, varint(8))
opset = field(8, 2, field(2, 0, varint(17)))
# graph field claims 0x40 bytes with 3 present: the length at 0x3
w('onnx-graph-past-end.onnx', ir + b'\x3a\x40' + b'\x0a\x01x')
# wire type 7 inside the model: tag at 0x2
w('onnx-bad-wire-type.onnx', ir + b'\x3f\x00' + opset)
# a 11-byte varint (over 64 bits) at 0x1
w('onnx-varint-overflow.onnx', b'\x08' + b'\xff' * 10 + b'\x01' + opset)
# an initializer with a negative dim
tensor = field(1, 0, varint((1 << 64) - 1)) + field(2, 0, varint(1)) + field(8, 2, b'w')
graph = field(5, 2, tensor)
w('onnx-negative-dim.onnx', ir + opset + field(7, 2, graph))
# external data escaping the model's folder
ext = field(1, 0, varint(4)) + field(2, 0, varint(1)) + field(8, 2, b'w') + \
      field(13, 2, field(1, 2, b'location') + field(2, 2, b'../../../../etc/passwd')) + field(14, 0, varint(1))
w('onnx-external-escape.onnx', ir + opset + field(7, 2, field(5, 2, ext)))
# float_data says 1 float but dims say 1000
short = field(1, 0, varint(1000)) + field(2, 0, varint(1)) + field(8, 2, b'w') + field(4, 2, struct.pack('<f', 1.0))
w('onnx-data-size-mismatch.onnx', ir + opset + field(7, 2, field(5, 2, short)))
# If-node subgraphs nested 200 deep
g = field(1, 2, field(4, 2, b'Identity') + field(1, 2, b'x') + field(2, 2, b'y'))
for _ in range(200):
    node = field(4, 2, b'If') + field(5, 2, field(1, 2, b'then_branch') + field(6, 2, g) + field(20, 0, varint(5)))
    g = field(1, 2, node)
w('onnx-deep-subgraphs.onnx', ir + opset + field(7, 2, g))

# ---------------- zip / .task ----------------
def zip_member(name, data, method=zipfile.ZIP_STORED):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', method) as z:
        z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data, compress_type=method)
    return b.getvalue()

tfl = open(os.path.join(src_root, 'subprojects', 'face-detection',
                        'face_detection_short_range.tflite'), 'rb').read()
w('zip-traversal.task', zip_member('../../evil.tflite', b'TFL3'))
w('zip-absolute.task', zip_member('/etc/evil.tflite', b'TFL3'))
w('zip-bomb.task', zip_member('bomb.tflite', b'\0' * (256 << 20), zipfile.ZIP_DEFLATED))
z = bytearray(zip_member('m.tflite', tfl[:4096]))
z[-22 + 16:-22 + 20] = struct.pack('<I', 1 << 30)  # central directory offset past the end
w('zip-cd-past-end.task', bytes(z))
z = bytearray(zip_member('m.bin', b'hello world, checksummed'))
z[30 + 5] ^= 0xff  # corrupt the stored bytes: CRC32 mismatch
w('zip-bad-crc.task', bytes(z))
b = io.BytesIO()
with zipfile.ZipFile(b, 'w') as zz:
    zz.writestr(zipfile.ZipInfo('face_detector.tflite', (2020, 1, 1, 0, 0, 0)), tfl)
    zz.writestr(zipfile.ZipInfo('labels.txt', (2020, 1, 1, 0, 0, 0)), b'face\n', compress_type=zipfile.ZIP_DEFLATED)
w('ok-two-members.task', b.getvalue())  # a valid seed for the sweep, not a fixture

# ---------------- TFLite (flatbuffers) ----------------
w('tflite-root-past-end.tflite', struct.pack('<I', 1 << 20) + b'TFL3' + b'\0' * 8)
t = bytearray(tfl)
root = struct.unpack_from('<I', t, 0)[0]
vt = root - struct.unpack_from('<i', t, root)[0]
t[root:root + 4] = struct.pack('<i', -(1 << 24))  # vtable offset pointing outside the file
w('tflite-vtable-outside.tflite', bytes(t))

# ---------------- npy ----------------
w('npy-fortran.npy', b"\x93NUMPY\x01\x00\x36\x00{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }   \n" + b'\0' * 4)
w('not-a-model.bin', b'hello, this is not a model file\n')
print('fixtures written to', out)
