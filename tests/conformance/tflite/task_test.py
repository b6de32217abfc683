#!/usr/bin/python3
"""MediaPipe .task bundles (zip) through m2w-inspect.

    task_test.py M2W_INSPECT MODEL.tflite WORKDIR

Builds zip fixtures with Python's zipfile (stored and deflate members, a
comment, a nested .task, zip64 records) around a real .tflite and checks
that m2w-inspect lists every member with its size, method and format, and
describes the model exactly as it describes the bare .tflite.  Then damaged
and hostile archives (path traversal, absolute names, bad CRC, truncation,
duplicate names, a decompression bomb, overlapping members) must fail with
exit 1 and a "file:0xOFFSET: error:" message naming the problem.
"""
import json
import os
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib

inspect, model, work = sys.argv[1:4]
warnings.filterwarnings("ignore", "Duplicate name")  # the dup.task fixture wants one
os.makedirs(work, exist_ok=True)
tflite = open(model, "rb").read()
failures = []
passed = 0


def run(*args):
    return subprocess.run([inspect, *args], capture_output=True, text=True)


def describe(path):
    r = run("--json", path)
    if r.returncode != 0:
        raise RuntimeError(f"{path}: exit {r.returncode}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def case(name, fn):
    global passed
    try:
        fn()
        passed += 1
        print(f"ok {name}")
    except Exception as e:  # report every case, then fail at the end
        failures.append(name)
        print(f"FAIL {name}: {e}")


def build(name, members, comment=b"", force_zip64=False):
    path = os.path.join(work, name)
    with zipfile.ZipFile(path, "w") as z:
        for mname, data, method in members:
            info = zipfile.ZipInfo(mname, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = method
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(data)
        z.comment = comment
    return path


bare = describe(model)
STABLE = ["version", "producer", "inputs", "outputs", "ops", "graphs", "tensors", "params", "metadata"]


def check_bundle(path, want_members):
    j = describe(path)
    assert j["format"] == "task", j["format"]
    assert j["bytes"] == os.path.getsize(path)
    got = [(m["name"], m["bytes"], m["method"], m["format"]) for m in j["members"]]
    assert got == want_members, f"members {got} != {want_members}"
    return j


def single_model(method, label):
    def fn():
        path = build(f"single-{label}.task", [
            ("face_detector.tflite", tflite, method),
            ("labels.txt", b"face\n", method),
        ], comment=b"m2w test bundle")
        j = check_bundle(path, [
            ("face_detector.tflite", len(tflite), label, "tflite"),
            ("labels.txt", 5, label, "unknown"),
        ])
        assert len(j["models"]) == 1 and j["models"][0]["name"] == "face_detector.tflite"
        for k in STABLE:
            assert j[k] == bare[k], f"merged key {k} differs from the bare model's"
            assert j["models"][0][k] == bare[k], f"models[0].{k} differs"
        text = run(path)
        assert text.returncode == 0 and "face_detector.tflite" in text.stdout, text.stdout
    return fn


def nested():
    inner = build("inner.task", [("detector.tflite", tflite, zipfile.ZIP_STORED)])
    inner_bytes = open(inner, "rb").read()
    path = build("nested.task", [
        ("face_landmarker/detector.task", inner_bytes, zipfile.ZIP_DEFLATED),
        ("second.tflite", tflite, zipfile.ZIP_STORED),
    ])
    j = check_bundle(path, [
        ("face_landmarker/detector.task", len(inner_bytes), "deflate", "task"),
        ("face_landmarker/detector.task/detector.tflite", len(tflite), "stored", "tflite"),
        ("second.tflite", len(tflite), "stored", "tflite"),
    ])
    assert len(j["models"]) == 2
    assert j["params"] == 2 * bare["params"] and j["graphs"] == 2 * bare["graphs"]
    assert j["ops"] == {k: 2 * v for k, v in bare["ops"].items()}


def zip64():
    path = build("zip64.task", [("m.tflite", tflite, zipfile.ZIP_DEFLATED)], force_zip64=True)
    # force_zip64 writes zip64 extra fields; add the zip64 end records too
    data = bytearray(open(path, "rb").read())
    eocd = data.rfind(b"PK\x05\x06")
    count, cd_size, cd_off = struct.unpack_from("<HII", data, eocd + 10)
    rec = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, cd_size, cd_off)
    loc = struct.pack("<IIQI", 0x07064B50, 0, eocd, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    open(path, "wb").write(bytes(data[:eocd]) + rec + loc + end)
    check_bundle(path, [("m.tflite", len(tflite), "deflate", "tflite")])


for method, label in [(zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflate")]:
    case(f"bundle-{label}", single_model(method, label))
case("nested-task", nested)
case("zip64", zip64)


def must_fail(name, data, phrase):
    def fn():
        path = os.path.join(work, name)
        open(path, "wb").write(data)
        r = run("--json", path)
        assert r.returncode == 1, f"exit {r.returncode}, stderr {r.stderr.strip()!r}"
        msg = r.stderr.strip()
        assert f"{path}:0x" in msg and "error:" in msg, f"no file:0xOFFSET in {msg!r}"
        what = msg.split("error:", 1)[1]  # not the path: fixture names repeat phrases
        assert phrase in what, f"{phrase!r} not in {msg!r}"
    case(f"must-fail {name}", fn)


def raw(name, *members):
    return open(build(name, members), "rb").read()


good = raw("good.task", ("m.tflite", tflite, zipfile.ZIP_STORED))
must_fail("traversal.task", raw("t1", ("../evil.tflite", tflite, zipfile.ZIP_STORED)), "climbs out")
must_fail("traversal2.task", raw("t2", ("a/../../evil", b"x", zipfile.ZIP_STORED)), "climbs out")
must_fail("absolute.task", raw("t3", ("/etc/evil", b"x", zipfile.ZIP_STORED)), "absolute path")
must_fail("drive.task", raw("t4", ("C:\\evil", b"x", zipfile.ZIP_STORED)), "absolute path")
must_fail("dup.task", raw("t5", ("m.tflite", b"a", zipfile.ZIP_STORED), ("m.tflite", b"b", zipfile.ZIP_STORED)),
          "appears twice")
bad_crc = bytearray(good)
bad_crc[good.find(tflite[:64]) + 1000] ^= 0xFF
must_fail("crc.task", bytes(bad_crc), "CRC-32")
must_fail("truncated.task", good[: len(good) // 2], "end-of-central-directory")
bomb = raw("t6", ("zeros.tflite", bytes(64 << 20), zipfile.ZIP_DEFLATED))
must_fail("bomb.task", bomb, "ratio limit")
# a deflated member whose declared size is smaller than what it inflates to
small = bytearray(raw("t7", ("m.bin", bytes(4096), zipfile.ZIP_DEFLATED)))
for sig, at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
    p = small.find(sig)
    struct.pack_into("<I", small, p + at, 100)
must_fail("overflow.task", bytes(small), "inflates past")


def local(name, data):
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(data), len(data),
                       len(data), len(name), 0) + name + data


def central(name, data, off):
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, zlib.crc32(data),
                       len(data), len(data), len(name), 0, 0, 0, 0, 0, off) + name


# member b's local header hides inside member a's data: a's bytes overlap b's
inner_b = local(b"b.bin", b"hello")
body = local(b"a.bin", inner_b)
cd = central(b"a.bin", inner_b, 0) + central(b"b.bin", b"hello", 30 + 5)
eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(cd), len(body), 0)
must_fail("overlap.task", body + cd + eocd, "overlaps")
# bytes before the archive (a self-extractor stub) shift every offset
must_fail("prepended.task", local(b"stub.bin", b"#!/bin/sh\n") + good, "prepended")
# a central entry whose local header names another member
swapped = cd.replace(b"b.bin", b"c.bin")
must_fail("name-mismatch.task", body + swapped + eocd, "local header names")
# a corrupt tflite inside a stored member: the offset is absolute in the zip
corrupt = bytearray(tflite)
struct.pack_into("<I", corrupt, 0, len(corrupt) + 100)
must_fail("bad-member.task", raw("t9", ("m.tflite", bytes(corrupt), zipfile.ZIP_STORED)), "uoffset")
must_fail("bad-deflated-member.task", raw("t10", ("m.tflite", bytes(corrupt), zipfile.ZIP_DEFLATED)),
          "in member 'm.tflite'")

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
