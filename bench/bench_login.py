"""Login latency: median wall time of `ssh ... true` per KEX method,
postern against OpenSSH's sshd, alternating runs."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, median, run, table  # noqa: E402

KEXES = ["curve25519-sha256", "sntrup761x25519-sha512@openssh.com",
         "mlkem768x25519-sha256"]
RUNS = int(os.environ.get("BENCH_LOGINS", "30"))


def one(b, server, kex):
    argv = b.ssh_argv(server, "true", ["KexAlgorithms=" + kex])
    t0 = time.monotonic()
    run(argv, stdin=open(os.devnull))
    return (time.monotonic() - t0) * 1000


def supported(kex):
    p = run(["ssh", "-Q", "kex"], capture_output=True, text=True)
    return kex in p.stdout.split()


def main():
    with Bench() as b:
        ps = b.start("postern")
        os_ = b.start("openssh")
        rows = []
        for kex in KEXES:
            if not supported(kex):
                continue
            tp, to = [], []
            for _ in range(RUNS):
                tp.append(one(b, ps, kex))
                if os_:
                    to.append(one(b, os_, kex))
            rows.append((kex, median(tp), median(to), "ms median of %d" % RUNS))
        table("login latency (ssh ... true)", "kex", rows)


if __name__ == "__main__":
    main()
