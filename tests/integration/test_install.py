"""
test_install.py: posternd checks its helper binaries before serving.
postern-session runs as the user; a copy the user could read would be
dumpable (ptrace-able) for its first instructions, so posternd refuses
to start with one (posternd-only behaviour).
"""

import os
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
