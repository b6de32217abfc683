#!/usr/bin/python3
"""The exe_wrapper of the asan and valgrind test setups (top meson.build).

  checked_run.py --asan     CMD [ARG]...
  checked_run.py --valgrind CMD [ARG]...

Runs a test command so that a memory error or leak in any of m2w's programs
it starts fails the test, even when the test script expects that program
to fail (must-fail cases exit 1 on purpose) or reads its stderr:

  --asan      the programs are built with -Db_sanitize=address,undefined;
              ASAN_OPTIONS (from the setup) gets a log_path in a private
              folder, so every ASan / LeakSanitizer report lands in a file
              instead of the program's stderr.  (gcc's UBSan, linked beside
              ASan, writes to stderr whatever log_path says: the setup's
              UBSAN_OPTIONS=abort_on_error=1 turns its report into SIGABRT,
              which every test sees as a signal, never as exit 1.)
  --valgrind  every argument that is one of our ELF executables (not under
              /usr, /bin, /lib: the test's own binary, the tool paths handed
              to a test script) is replaced by a script that runs it under
              valgrind's memcheck (--leak-check=full, definite leaks are
              errors, --track-origins=no) logging to the private folder.

After the command the folder is read: any report prints it (with the
program's command line) and exits 1; otherwise the command's own status is
returned (77, skipped, included).
"""
import os
import shlex
import signal
import subprocess
import sys
import tempfile

VALGRIND = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
            "--track-origins=no", "--num-callers=30", "--quiet"]


def ours(path):
    """Whether path is an ELF executable of this build (not a system one)."""
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return False  # (Meson hands build targets relative to the build dir, the cwd)
    real = os.path.realpath(path)
    if real.startswith(("/usr/", "/bin/", "/lib", "/sbin/", "/opt/")):
        return False
    try:
        with open(real, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("--asan", "--valgrind"):
        sys.exit(__doc__)
    mode, cmd = sys.argv[1], sys.argv[2:]
    work = tempfile.mkdtemp(prefix="m2w-checked.")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    env = dict(os.environ)
    if mode == "--asan":
        for var, name in (("ASAN_OPTIONS", "asan"), ("UBSAN_OPTIONS", "ubsan")):
            opts = env.get(var, "")
            env[var] = (opts + ":" if opts else "") + "log_path=" + os.path.join(logs, name)
    else:
        wrapped = {}
        for i, a in enumerate(cmd):
            if ours(a):
                if a not in wrapped:
                    name = os.path.basename(a)
                    w = os.path.join(work, f"vg{len(wrapped)}-{name}")
                    with open(w, "w") as f:
                        f.write("#!/bin/sh\nexec " + " ".join(shlex.quote(x) for x in VALGRIND) +
                                " --log-file=" + shlex.quote(os.path.join(logs, name + ".%p")) +
                                " " + shlex.quote(os.path.realpath(a)) + ' "$@"\n')
                    os.chmod(w, 0o755)
                    wrapped[a] = w
                cmd[i] = wrapped[a]
    p = subprocess.Popen(cmd, env=env)
    try:
        rc = p.wait()
    except KeyboardInterrupt:
        p.send_signal(signal.SIGINT)
        rc = p.wait()
    bad = []
    for fn in sorted(os.listdir(logs)):
        path = os.path.join(logs, fn)
        with open(path, errors="replace") as f:
            text = f.read()
        if text.strip():
            bad.append((fn, text))
    for fn, text in bad[:20]:
        print(f"==== {mode[2:]} report {fn}:\n{text}", file=sys.stderr)
    if bad:
        print(f"checked_run: {len(bad)} {mode[2:]} report(s) from the programs this test ran "
              f"(test exit {rc})", file=sys.stderr)
    if not bad:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"checked_run: reports kept in {logs}", file=sys.stderr)
    if bad:
        return 1
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main())
