"""Interactive-style login latency: median wall time of `ssh -tt ... true`
(a pty from the monitor, utmp/wtmp/lastlog records, the login
environment) and of `ssh ... env` with AcceptEnv/SetEnv, postern against
OpenSSH's sshd, alternating runs."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, median, run, table  # noqa: E402

RUNS = int(os.environ.get("BENCH_LOGINS", "30"))
CONFIG = ["AcceptEnv LC_*", "SetEnv BENCH=1", "PrintMotd yes",
          "PrintLastLog yes"]


def one(b, server, command, opts=(), tty=False):
    argv = b.ssh_argv(server, command, ["SendEnv=LC_*"] + list(opts))
    if tty:
        argv.insert(1, "-tt")
    t0 = time.monotonic()
    run(argv, stdin=open(os.devnull), stdout=open(os.devnull, "w"))
    return (time.monotonic() - t0) * 1000


def main():
    with Bench() as b:
        ps = b.start("postern", CONFIG)
        os_ = b.start("openssh", CONFIG)
        rows = []
        for label, command, tty in (("ssh -tt ... true (pty, utmp)", "true",
                                     True),
                                    ("ssh ... env (AcceptEnv, SetEnv)",
                                     "env", False)):
            tp, to = [], []
            for _ in range(RUNS):
                tp.append(one(b, ps, command, tty=tty))
                if os_:
                    to.append(one(b, os_, command, tty=tty))
            rows.append((label, median(tp), median(to),
                         "ms median of %d" % RUNS))
        table("login with a pty and environment", "case", rows)


if __name__ == "__main__":
    main()
