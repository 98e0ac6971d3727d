"""
test_sftp_engine.py: postern's SFTP engine (session/sftp_*.c) driven by
the real OpenSSH sftp and scp clients, run by OpenSSH's own sshd as a
subsystem through the stdin/stdout wrapper $BUILD/tests/postern-sftp-stdio
(tests/sftp/): the engine as an external program. The scenarios (put_get,
operations, scp_both_ways, read_only) are shared with test_sftp.py, which
runs them against postern's in-process internal-sftp.
"""

import hashlib
import os
import subprocess
import threading

import harness
from harness import check, fail, run

SSHD = harness.OPENSSH_SSHD
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

_build_lock = threading.Lock()
_built = {}


def _helper(ctx):
    """$BUILD/tests/postern-sftp-stdio, built once per run from the
    archives make built next to the server binary."""
    build = os.path.dirname(ctx.suite.server)
    with _build_lock:
        if build not in _built:
            if not os.path.isfile(os.path.join(build, "libsession.a")):
                fail("%s/libsession.a is missing: run make first" % build)
            env = dict(os.environ, BUILD=build)
            run([os.path.join(ROOT, "tests", "sftp", "build.sh")],
                timeout_s=120, env=env)
            _built[build] = os.path.join(build, "tests",
                                         "postern-sftp-stdio")
        return _built[build]


def _start(ctx, flags=""):
    harness.openssh_sshd()
    helper = _helper(ctx)
    ctx.start_server(["Subsystem sftp %s %s" % (helper, flags)],
                     server=SSHD)
    return ctx.make_user()


def _client_opts(ctx, user):
    return ["-F", "/dev/null", "-i", user.key,
            "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]


def _sftp(ctx, user, batch, extra=(), timeout_s=60, ok=True):
    """Run sftp -b - with batch lines; returns the CompletedProcess."""
    argv = ["sftp"] + _client_opts(ctx, user) + ["-P", str(ctx.port)]
    argv += list(extra) + ["-b", "-", "%s@127.0.0.1" % user.name]
    try:
        p = subprocess.run(argv, input="\n".join(batch).encode() + b"\n",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout_s)
    except subprocess.TimeoutExpired:
        fail("sftp timed out after %ss: %s" % (timeout_s, batch))
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    if ok:
        check(p.returncode == 0, "sftp exited %d\nstdout:\n%s\nstderr:\n%s"
              % (p.returncode, out[-3000:], err[-3000:]))
    return p.returncode, out, err


def _scp(ctx, user, args, timeout_s=60):
    argv = ["scp"] + _client_opts(ctx, user) + ["-P", str(ctx.port)]
    return run(argv + list(args), timeout_s=timeout_s)


def _random_file(path, size):
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left > 0:
            b = os.urandom(min(1 << 20, left))
            h.update(b)
            f.write(b)
            left -= len(b)
    return h.hexdigest()


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def put_get(ctx, u):
    """A 20 MB random file up and down, pipelined as OpenSSH does it
    (64 requests of 32 KiB in flight), byte for byte, owned by the user;
    then resumed (reget) from the middle. Returns the downloaded copy's
    path."""
    src = os.path.join(ctx.dir, "src.bin")
    want = _random_file(src, 20 * 1024 * 1024)
    back = os.path.join(ctx.dir, "back.bin")
    _sftp(ctx, u, ["put %s up.bin" % src, "get up.bin %s" % back],
          extra=["-R", "64", "-B", "32768"])
    remote = os.path.join(u.home, "up.bin")
    check(_sha256(remote) == want, "uploaded file differs from the source")
    check(os.stat(remote).st_uid == u.uid,
          "uploaded file not owned by the user")
    check(_sha256(back) == want, "downloaded file differs from the source")
    # Resume: reget the second half of a truncated download.
    with open(back, "r+b") as f:
        f.truncate(7 * 1024 * 1024 + 123)
    _sftp(ctx, u, ["reget up.bin %s" % back])
    check(_sha256(back) == want, "reget did not complete the file")


def test_sftp_engine_put_get(ctx):
    """put_get through OpenSSH's sshd running the engine's wrapper."""
    put_get(ctx, _start(ctx))
    check(ctx.wait_log(r"subsystem: exec\(\) \S*postern-sftp-stdio", 5),
          "sshd did not run the engine's wrapper")


def operations(ctx, u):
    """mkdir, rename, rm, ls, symlink, ln, chmod, df and their errors."""
    local = os.path.join(ctx.dir, "small.txt")
    with open(local, "w") as f:
        f.write("hello sftp\n")
    rc, out, err = _sftp(ctx, u, [
        "mkdir d1",
        "put %s d1/a.txt" % local,
        "rename d1/a.txt d1/b.txt",
        "symlink b.txt d1/link",
        "ln d1/b.txt d1/hard.txt",
        "chmod 640 d1/b.txt",
        "ls -l d1",
        "ls -1 d1",
        "df .",
        "-rm d1/nonexistent",
        "-mkdir d1",
        "pwd",
    ])
    d1 = os.path.join(u.home, "d1")
    check(os.path.isdir(d1), "mkdir did not create d1")
    check(not os.path.exists(os.path.join(d1, "a.txt")),
          "rename left the old name")
    with open(os.path.join(d1, "b.txt")) as f:
        check(f.read() == "hello sftp\n", "renamed file has wrong content")
    check(os.readlink(os.path.join(d1, "link")) == "b.txt",
          "symlink has the wrong target (argument order)")
    check(os.stat(os.path.join(d1, "hard.txt")).st_nlink == 2,
          "ln did not make a hard link")
    check(os.stat(os.path.join(d1, "b.txt")).st_mode & 0o777 == 0o640,
          "chmod 640 not applied")
    for name in ("b.txt", "hard.txt", "link"):
        check(name in out, "ls does not list %s:\n%s" % (name, out))
    check("-rw-r-----" in out, "ls -l lacks the mode of b.txt:\n%s" % out)
    check("lrwxrwxrwx" in out, "ls -l lacks the link:\n%s" % out)
    check("Avail" in out, "df printed no table:\n%s" % out)
    check("No such file" in err,
          "rm of a missing file reported no error:\n%s" % err)
    check("Remote working directory: %s" % u.home in out,
          "pwd is not the home directory:\n%s" % out)
    _sftp(ctx, u, ["rm d1/link", "rm d1/hard.txt", "rm d1/b.txt",
                   "rmdir d1"])
    check(not os.path.exists(d1), "rm/rmdir left d1")
    rc, out, err = _sftp(ctx, u, ["rmdir nonexistent"], ok=False)
    check(rc != 0, "rmdir of a missing directory succeeded")


def test_sftp_engine_operations(ctx):
    """operations through OpenSSH's sshd running the engine's wrapper."""
    operations(ctx, _start(ctx))


def scp_both_ways(ctx, u):
    """scp in its default (SFTP) mode, both ways, and recursively."""
    src = os.path.join(ctx.dir, "scp.bin")
    want = _random_file(src, 3 * 1024 * 1024 + 17)
    _scp(ctx, u, [src, "%s@127.0.0.1:copy.bin" % u.name])
    check(_sha256(os.path.join(u.home, "copy.bin")) == want,
          "scp upload differs")
    back = os.path.join(ctx.dir, "scp-back.bin")
    _scp(ctx, u, ["%s@127.0.0.1:copy.bin" % u.name, back])
    check(_sha256(back) == want, "scp download differs")
    tree = os.path.join(ctx.dir, "tree")
    os.makedirs(os.path.join(tree, "sub"))
    with open(os.path.join(tree, "sub", "f"), "w") as f:
        f.write("nested\n")
    _scp(ctx, u, ["-r", tree, "%s@127.0.0.1:" % u.name])
    with open(os.path.join(u.home, "tree", "sub", "f")) as f:
        check(f.read() == "nested\n", "scp -r content differs")
    # -s forces SFTP mode even where the default differs.
    _scp(ctx, u, ["-s", "%s@127.0.0.1:tree/sub/f" % u.name,
                  os.path.join(ctx.dir, "f2")])
    with open(os.path.join(ctx.dir, "f2")) as f:
        check(f.read() == "nested\n", "scp -s download differs")


def test_sftp_engine_scp(ctx):
    """scp_both_ways through OpenSSH's sshd running the engine's wrapper."""
    scp_both_ways(ctx, _start(ctx))


def read_only(ctx, u):
    """-R: downloads work, uploads and changes are refused."""
    with open(os.path.join(u.home, "ro.txt"), "w") as f:
        f.write("read me\n")
    os.chown(os.path.join(u.home, "ro.txt"), u.uid, u.gid)
    back = os.path.join(ctx.dir, "ro-back.txt")
    _sftp(ctx, u, ["get ro.txt %s" % back])
    with open(back) as f:
        check(f.read() == "read me\n", "get in read-only mode failed")
    local = os.path.join(ctx.dir, "up.txt")
    with open(local, "w") as f:
        f.write("x\n")
    rc, out, err = _sftp(ctx, u, ["put %s up.txt" % local], ok=False)
    check(rc != 0, "put succeeded in read-only mode")
    check("Permission denied" in err,
          "put refused without 'Permission denied':\n%s" % err)
    check(not os.path.exists(os.path.join(u.home, "up.txt")),
          "read-only mode created the file")
    rc, out, err = _sftp(ctx, u, ["rm ro.txt"], ok=False)
    check(rc != 0 and os.path.exists(os.path.join(u.home, "ro.txt")),
          "rm succeeded in read-only mode")
    rc, out, err = _sftp(ctx, u, ["mkdir newdir"], ok=False)
    check(rc != 0 and not os.path.exists(os.path.join(u.home, "newdir")),
          "mkdir succeeded in read-only mode")
    r = run(["scp"] + _client_opts(ctx, u) + ["-P", str(ctx.port), local,
            "%s@127.0.0.1:up2.txt" % u.name], check_rc=False)
    check(r.returncode != 0 and
          not os.path.exists(os.path.join(u.home, "up2.txt")),
          "scp upload succeeded in read-only mode")


def test_sftp_engine_read_only(ctx):
    """read_only through OpenSSH's sshd running the engine's wrapper."""
    read_only(ctx, _start(ctx, "-R"))
