"""
test_install.py: posternd checks its helper binaries before serving.
postern-session runs as the user; a copy the user could read would be
dumpable (ptrace-able) for its first instructions, so posternd refuses
to start with one (posternd-only behaviour).
"""

import os
import shutil
import stat
import subprocess

import harness
from harness import check


def test_readable_session_binary_refused(ctx):
    bdir = os.path.join(ctx.dir, "bin")
    harness.copy_server(ctx.server_path, bdir)
    session = os.path.join(bdir, "postern-session")
    check(stat.S_IMODE(os.stat(session).st_mode) == 0o711,
          "build/postern-session has mode %o, want 711"
          % stat.S_IMODE(os.stat(session).st_mode))
    ctx.write_config()
    argv = [os.path.join(bdir, "posternd"), "-D", "-e", "-f",
            ctx.config_path]
    os.chmod(session, 0o755)
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20)
    check(r.returncode != 0,
          "posternd started with a world-readable postern-session")
    check(b"must not be readable by group or others" in r.stderr,
          "no clear refusal message: %r" % r.stderr)
    # Control: the same copy with mode 0711 serves a login.
    os.chmod(session, 0o711)
    ctx.server_path = os.path.join(bdir, "posternd")
    ctx.launch_server()
    u = ctx.make_user()
    res = ctx.ssh(u, "echo ok")
    check(res.rc == 0 and res.stdout == b"ok\n",
          "login with the 0711 copy failed: rc %s %r" % (res.rc, res.stdout))


def _copy_tree(ctx):
    """The source tree with the server's finished build, as a copy in
    ctx.dir (mtimes kept, so that make sees the build up to date).
    Returns (copy, the build directory's name)."""
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), "..",
                                       ".."))
    build = os.path.dirname(os.path.abspath(ctx.server_path))
    name = os.path.basename(build)
    dst = os.path.join(ctx.dir, "tree")
    shutil.copytree(top, dst, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "build", "build-*", "run", "__pycache__"))
    shutil.copytree(build, os.path.join(dst, name), symlinks=True)
    return dst, name


def _make(tree, *args):
    r = subprocess.run(["make", "--no-print-directory", "-C", tree] +
                       list(args), capture_output=True, timeout=120)
    check(r.returncode == 0, "make %s: exit %d %r"
          % (" ".join(args), r.returncode, r.stderr[-800:]))


@harness.timeout(180)
def test_install_prefix_reaches_binary_and_units(ctx):
    """`make` then `make install PREFIX=/usr/local` (review): the objects
    that compile the installation paths in are built again for the new
    ones (they were left as built, and the installed posternd looked for
    its helpers in /usr/lib/postern: "helper postern-preauth not found"),
    and the systemd units name posternd where it is installed (they said
    /usr/sbin/posternd whatever SBINDIR was). The same paths again
    rebuild nothing."""
    tree, b = _copy_tree(ctx)
    obj = os.path.join(tree, b, "obj", "monitor", "main.o")
    # The units: ExecStart and the rest on SBINDIR's posternd.
    dest = os.path.join(ctx.dir, "dest")
    _make(tree, "BUILD=" + b, "SBINDIR=/opt/postern/sbin",
          "DESTDIR=" + dest, "install-files")
    for unit in ("postern.service", "postern.socket"):
        with open(os.path.join(dest, "lib/systemd/system", unit)) as f:
            text = f.read()
        check("/usr/sbin/posternd" not in text,
              "%s names /usr/sbin/posternd with SBINDIR=/opt/postern/sbin"
              % unit)
    with open(os.path.join(dest, "lib/systemd/system/postern.service")) as f:
        text = f.read()
    check("\nExecStart=/opt/postern/sbin/posternd -D $SSHD_OPTS\n" in text,
          "postern.service: %r" % text)
    check(stat.S_IMODE(os.stat(os.path.join(
        dest, "lib/systemd/system/postern.service")).st_mode) == 0o644,
        "postern.service is not mode 0644")
    # The same paths: the object stays as it is.
    before = os.stat(obj).st_mtime_ns
    _make(tree, "BUILD=" + b, os.path.join(b, "obj", "monitor", "main.o"))
    check(os.stat(obj).st_mtime_ns == before,
          "main.o was built again with the paths unchanged")
    # Another LIBEXECDIR: built again, with it.
    _make(tree, "BUILD=" + b, "PREFIX=/usr/local",
          os.path.join(b, "obj", "monitor", "main.o"))
    with open(obj, "rb") as f:
        data = f.read()
    check(b"/usr/local/lib/postern\0" in data,
          "monitor/main.o was not built again for PREFIX=/usr/local")
