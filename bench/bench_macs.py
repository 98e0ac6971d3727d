"""MAC throughput: aes128-ctr with each MAC postern offers by default
(and umac-64-etm), BENCH_MAC_MB megabytes (default 256) down
(`head -c N /dev/zero` on the server) and up (the client's /dev/zero into
`head -c N >/dev/null`), postern against OpenSSH's sshd, alternating;
MB/s and server CPU seconds per GiB."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, run, table  # noqa: E402

MACS = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "umac-128-etm@openssh.com", "umac-64-etm@openssh.com"]
MB = int(os.environ.get("BENCH_MAC_MB", "256"))
CONFIG = ["Ciphers aes128-ctr", "MACs " + ",".join(MACS)]


def one(b, server, mac, up):
    n = MB * 1024 * 1024
    opts = ["Ciphers=aes128-ctr", "MACs=" + mac, "Compression=no"]
    if up:
        argv = b.ssh_argv(server, "head -c %d >/dev/null" % n, opts)
        stdin = open("/dev/zero", "rb")
    else:
        argv = b.ssh_argv(server, "head -c %d /dev/zero" % n, opts)
        stdin = open(os.devnull, "rb")
    cpu0 = server.cpu()
    t0 = time.monotonic()
    run(argv, stdin=stdin, stdout=open(os.devnull, "wb"))
    wall = time.monotonic() - t0
    time.sleep(0.2)  # let the listener reap the connection's processes
    cpu = server.cpu() - cpu0
    return MB / wall, cpu * 1024 / MB


def main():
    with Bench() as b:
        ps = b.start("postern", CONFIG)
        os_ = b.start("openssh", CONFIG)
        for up in (False, True):
            rate, cpu = [], []
            for mac in MACS:
                p = one(b, ps, mac, up)
                o = one(b, os_, mac, up) if os_ else (None, None)
                rate.append((mac, p[0], o[0], "MB/s"))
                cpu.append((mac, p[1], o[1], "server CPU s/GiB"))
            what = "upload" if up else "download"
            table("aes128-ctr + MAC, %d MB %s: throughput" % (MB, what),
                  "MAC", rate)
            table("aes128-ctr + MAC, %d MB %s: server CPU" % (MB, what),
                  "MAC", cpu)


if __name__ == "__main__":
    main()
