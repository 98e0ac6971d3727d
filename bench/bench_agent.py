"""Agent forwarding: wall time per `ssh-add -l` round trip, N of them in
one `ssh -A` session (each opens an auth-agent@openssh.com channel to the
client's ssh-agent), postern against OpenSSH's sshd. The time includes
starting ssh-add, the same for both servers."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, run, table  # noqa: E402

CALLS = int(os.environ.get("BENCH_AGENT_CALLS", "200"))


def agent(b):
    sock = os.path.join(b.dir, "agent.sock")
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", sock],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(sock):
            break
        time.sleep(0.01)
    env = dict(os.environ, SSH_AUTH_SOCK=sock)
    for _ in range(100):  # it answers once it listens
        if run(["ssh-add", "-q", b.key], env=env, check=False,
               stderr=subprocess.DEVNULL).returncode == 0:
            return proc, env
        time.sleep(0.05)
    raise SystemExit("bench: ssh-add failed")


def one(b, server, env):
    cmd = "i=0; while [ $i -lt %d ]; do ssh-add -l >/dev/null || exit 1; " \
          "i=$((i+1)); done" % CALLS
    argv = b.ssh_argv(server, cmd, ["ForwardAgent=yes"])
    t0 = time.monotonic()
    p = run(argv, env=env, stdin=open(os.devnull), check=False,
            stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise SystemExit("bench: %s: ssh -A failed: %s"
                         % (server.kind, p.stderr.decode()[-300:]))
    wall = (time.monotonic() - t0) * 1000
    return wall / CALLS


def main():
    with Bench() as b:
        proc, env = agent(b)
        try:
            ps = b.start("postern")
            os_ = b.start("openssh")
            tp, to = [], []
            for _ in range(3):
                tp.append(one(b, ps, env))
                if os_:
                    to.append(one(b, os_, env))
            table("agent forwarding (ssh -A, ssh-add -l in the session)",
                  "what", [("wall ms per ssh-add -l", min(tp),
                            min(to) if to else None,
                            "best of 3 x %d" % CALLS)])
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
