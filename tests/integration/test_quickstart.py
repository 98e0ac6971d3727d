"""
test_quickstart.py: the README's quick start. `make run` runs
packaging/make-run.sh, which creates the missing host keys with
postern-keygen and a default config under run/, then serves in the
foreground; a user with a key logs in with the real client. Run from a
scratch directory (run/ lands there) on a free port (POSTERN_RUN_PORT).
"""

import os
import stat
import subprocess

from harness import check, fail, free_port, poll_until, port_listening, run

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "packaging",
                      "make-run.sh")


def _make_run(ctx, top):
    env = dict(os.environ, BUILD=os.path.dirname(ctx.server_path),
               POSTERN_RUN_PORT=str(ctx.port))
    logf = open(ctx.log_path, "ab")
    try:
        ctx.proc = subprocess.Popen(["sh", SCRIPT], cwd=top, env=env,
                                    stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=logf, start_new_session=True)
    finally:
        logf.close()
    ok = poll_until(lambda: ctx.proc.poll() is not None or
                    port_listening(ctx.port), 30)
    if ctx.proc.poll() is not None:
        fail("make-run.sh exited %s before listening:\n%s"
             % (ctx.proc.returncode, ctx.server_log()[-2000:]))
    check(ok, "make-run.sh did not listen on port %d" % ctx.port)


def test_quickstart_make_run(ctx):
    """make-run.sh: host keys (ed25519, ECDSA, RSA 3072; private 0600,
    readable by ssh-keygen), a config that is kept on the next run, a
    server a user logs in to."""
    ctx.port = free_port()
    top = os.path.join(ctx.dir, "top")
    os.makedirs(top)
    _make_run(ctx, top)
    rundir = os.path.join(top, "run")
    for kind, bits in (("ed25519", "256"), ("ecdsa", "256"),
                       ("rsa", "3072")):
        key = os.path.join(rundir, "ssh_host_%s_key" % kind)
        check(os.path.isfile(key), "make run made no %s host key" % kind)
        mode = stat.S_IMODE(os.stat(key).st_mode)
        check(mode == 0o600, "%s host key has mode %o, want 600"
              % (kind, mode))
        out = run(["ssh-keygen", "-l", "-f", key]).stdout.decode()
        check(out.startswith(bits + " "),
              "ssh-keygen -l on the %s key: %r" % (kind, out))
    u = ctx.make_user()
    ctx.ssh_ok(u, "echo quickstart; id -un",
               expect_out=("quickstart\n%s\n" % u.name).encode())
    check("connect with: ssh -p %d " % ctx.port in ctx.server_log(),
          "make-run.sh did not print how to connect:\n%s"
          % ctx.server_log()[-2000:])
    # The second run keeps the (edited) config and the keys.
    cfg = os.path.join(rundir, "sshd_config")
    with open(cfg, "a") as f:
        f.write("# kept by the second run\n")
    ed = os.path.join(rundir, "ssh_host_ed25519_key")
    before = open(ed, "rb").read()
    ctx.stop_server()
    _make_run(ctx, top)
    with open(cfg) as f:
        check("# kept by the second run" in f.read(),
              "the second make run rewrote run/sshd_config")
    check(open(ed, "rb").read() == before,
          "the second make run replaced the ed25519 host key")
    ctx.ssh_ok(u, "true")
