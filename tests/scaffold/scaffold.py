#!/usr/bin/python3
"""m2w-new's subproject builds with one `meson compile`, inside somebody
else's project, and its package installs and type-checks.

In a temp dir:
  app/meson.build                 project('user-app') that pulls m2w in as a
                                  subproject (as a wrap would) with models=[]
                                  and then subproject('mymodel')
  app/subprojects/m2w/            a copy of this source tree
  app/subprojects/mymodel/        written by `m2w-new mymodel MODEL`
then `meson setup` + one `meson compile`, and checks the tarball holds
package.json (no dependencies), dist/index.js, dist/index.d.ts and the
weights.  Then `npm install ./mymodel-webgpu-0.1.0.tgz` in a scratch npm
project and `tsc --noEmit` on a file importing { loadModel } from
'mymodel-webgpu' (must pass), and on one calling it wrongly (must fail:
the types are real).  Also: every subprojects/*/meson.build written from the template (it has
the "---- the pipeline" marker) carries its pipeline unchanged (no drift).

usage: scaffold.py SOURCE_ROOT M2W_INSPECT
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "incremental"))
from incremental import copy_tree  # noqa: E402

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def sh(argv, cwd=None, what=None, ok=True):
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if ok and r.returncode:
        sys.exit(f"{what or ' '.join(argv)} failed ({r.returncode}):\n{r.stdout}")
    return r


def main():
    src_root, inspect = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    toolchain = os.path.join(src_root, "templates", "toolchain", "node_modules")
    if not os.path.exists(os.path.join(toolchain, ".bin", "tsup")):
        print("SKIP: templates/toolchain/node_modules missing (npm ci in templates/toolchain)")
        return 77

    tmpl = open(os.path.join(src_root, "templates", "subproject", "meson.build.in")).read()
    pipeline = tmpl.split("# ---- the pipeline", 1)[1]
    subs = sorted(d for d in os.listdir(os.path.join(src_root, "subprojects"))
                  if os.path.isfile(os.path.join(src_root, "subprojects", d, "meson.build")))
    for d in subs:
        text = open(os.path.join(src_root, "subprojects", d, "meson.build")).read()
        if "# ---- the pipeline" not in text:
            print(f"     subprojects/{d}/meson.build: its own pipeline (no model files to extract)")
            continue
        check(text.split("# ---- the pipeline", 1)[1] == pipeline,
              f"subprojects/{d}/meson.build carries the template's pipeline unchanged")

    cache = os.environ.get("M2W_CACHE", "")
    model = os.path.join(cache, "openwakeword", "package", "models", "embedding_model.onnx")
    if not os.path.isfile(model):
        model = os.path.join(src_root, "subprojects", "face-detection", "face_detection_short_range.tflite")
    tmp = tempfile.mkdtemp(prefix="m2w-scaffold.")
    try:
        app = os.path.join(tmp, "app")
        m2w = os.path.join(app, "subprojects", "m2w")
        os.makedirs(m2w)
        copy_tree(src_root, m2w)
        with open(os.path.join(app, "meson.build"), "w") as f:
            f.write("project('user-app', meson_version : '>= 1.0.0')\n"
                    "subproject('m2w', default_options : ['tests=false', 'models=[]'])\n"
                    "mymodel = subproject('mymodel')\n")
        r = sh([sys.executable, os.path.join(src_root, "tools", "m2w-new.py"), "mymodel", model,
                "--dir", os.path.join(app, "subprojects"), "--inspect", inspect,
                "--templates", os.path.join(src_root, "templates")], what="m2w-new")
        print(r.stdout.strip())
        check(os.path.isfile(os.path.join(app, "subprojects", "mymodel", "meson.build")),
              f"m2w-new wrote subprojects/mymodel from {os.path.basename(model)}")
        bdir = os.path.join(tmp, "build")
        sh(["meson", "setup", bdir, app], what="meson setup")
        r = sh(["meson", "compile", "-C", bdir], what="meson compile")
        tgz = os.path.join(bdir, "subprojects", "mymodel", "mymodel-webgpu-0.1.0.tgz")
        check(os.path.isfile(tgz), "one `meson compile` built subprojects/mymodel/mymodel-webgpu-0.1.0.tgz")
        with tarfile.open(tgz) as tf:
            names = set(tf.getnames())
            pj = json.load(tf.extractfile("package/package.json"))
        for want in ("package/package.json", "package/dist/index.js", "package/dist/index.d.ts"):
            check(want in names, f"tarball holds {want}")
        check(any(n.startswith("package/weights/") and n.endswith(".bin") for n in names),
              "tarball holds the weights (weights/*.bin, *.json)")
        check(pj.get("name") == "mymodel-webgpu" and not pj.get("dependencies"),
              f"package.json: name {pj.get('name')}, dependencies {pj.get('dependencies') or 'none'}")

        proj = os.path.join(tmp, "consumer")
        os.makedirs(proj)
        with open(os.path.join(proj, "package.json"), "w") as f:
            json.dump({"name": "consumer", "private": True, "type": "module"}, f)
        sh(["npm", "install", "--no-audit", "--no-fund", "--offline", tgz], cwd=proj, what="npm install")
        check(os.path.isfile(os.path.join(proj, "node_modules", "mymodel-webgpu", "dist", "index.js")),
              "npm install ./mymodel-webgpu-0.1.0.tgz installed it")
        with open(os.path.join(proj, "tsconfig.json"), "w") as f:
            json.dump({"compilerOptions": {"strict": True, "noEmit": True, "target": "ES2022",
                                           "module": "ESNext", "moduleResolution": "bundler",
                                           "lib": ["ES2022", "DOM"], "skipLibCheck": False,
                                           "types": []},
                       "files": ["main.ts"]}, f)
        tsc = os.path.join(toolchain, ".bin", "tsc")
        with open(os.path.join(proj, "main.ts"), "w") as f:
            f.write("import { loadModel } from 'mymodel-webgpu';\n"
                    "const model = await loadModel(undefined, { onProgress: (loaded: number, total: number) => "
                    "console.log(loaded / total) });\n"
                    "model.destroy();\nexport {};\n")
        r = sh([tsc, "-p", proj], ok=False)
        check(r.returncode == 0, "tsc --noEmit: import { loadModel } from 'mymodel-webgpu' type-checks"
              + ("" if r.returncode == 0 else ":\n" + r.stdout))
        with open(os.path.join(proj, "main.ts"), "w") as f:
            f.write("import { loadModel } from 'mymodel-webgpu';\n"
                    "const model = await loadModel(42, { onProgress: 'no' });\nmodel.nothing();\nexport {};\n")
        r = sh([tsc, "-p", proj], ok=False)
        check(r.returncode != 0 and "error TS" in r.stdout,
              f"tsc rejects a wrong call (the .d.ts is real): {r.stdout.count('error TS')} errors")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILS)} failed" if FAILS else "all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
