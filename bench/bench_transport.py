"""Bulk transfer: upload (`cat >/dev/null`) and download (`head -c N
/dev/zero`) through the OpenSSH client, per cipher, postern against
OpenSSH's sshd, alternating runs. Prints MB/s (client wall time) and server
CPU seconds per GiB (listener cutime+cstime deltas, see benchlib).

BENCH_TRANSFER_MB (default 1024) sets the size of each transfer and
BENCH_TRANSFER_RUNS (default 2) the runs per server; the best run counts
for MB/s and the least CPU for CPU/GiB, so one disturbed run on a shared
machine does not decide the figure.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, log, run, table  # noqa: E402

MB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_TRANSFER_MB", "1024")) * MB
RUNS = int(os.environ.get("BENCH_TRANSFER_RUNS", "2"))
ONLY = os.environ.get("BENCH_TRANSFER_ONLY", "")

# label, ssh -o options
CONFIGS = [
    ("aes128-gcm@openssh.com", ["Ciphers=aes128-gcm@openssh.com"]),
    ("aes256-gcm@openssh.com", ["Ciphers=aes256-gcm@openssh.com"]),
    ("chacha20-poly1305@openssh.com",
     ["Ciphers=chacha20-poly1305@openssh.com"]),
    ("aes128-ctr+hmac-sha2-256-etm",
     ["Ciphers=aes128-ctr", "MACs=hmac-sha2-256-etm@openssh.com"]),
]


def offered(b, server, opts):
    """1 when a login with these options works against server."""
    p = run(b.ssh_argv(server, "true", opts), check=False,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
    return p.returncode == 0


def upload(b, server, opts):
    feeder = subprocess.Popen(["head", "-c", str(SIZE), "/dev/zero"],
                              stdout=subprocess.PIPE)
    t0 = time.monotonic()
    p = subprocess.run(b.ssh_argv(server, "cat >/dev/null", opts),
                       stdin=feeder.stdout)
    dt = time.monotonic() - t0
    feeder.stdout.close()
    feeder.wait()
    if p.returncode != 0:
        raise SystemExit("bench: upload to %s failed" % server.kind)
    return dt


def download(b, server, opts):
    t0 = time.monotonic()
    p = subprocess.Popen(b.ssh_argv(server, "head -c %d /dev/zero" % SIZE,
                                    opts),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    got = 0
    while True:
        chunk = p.stdout.read1(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    p.wait()
    dt = time.monotonic() - t0
    if p.returncode != 0 or got != SIZE:
        raise SystemExit("bench: download from %s failed (%d of %d bytes)"
                         % (server.kind, got, SIZE))
    return dt


def measure(fn, b, server, opts):
    """(MB/s, server CPU seconds per GiB) of one transfer."""
    c0 = server.cpu()
    dt = fn(b, server, opts)
    # The listener has reaped the connection's processes once the client
    # is gone; give it a moment to do so before reading its counters.
    time.sleep(0.2)
    cpu = server.cpu() - c0
    return SIZE / MB / dt, cpu * (1024 * MB) / SIZE


def best(samples):
    if not samples:
        return None, None
    return max(s[0] for s in samples), min(s[1] for s in samples)


def main():
    with Bench() as b:
        ps = b.start("postern")
        os_ = b.start("openssh")
        rate_rows, cpu_rows = [], []
        for label, opts in CONFIGS:
            if ONLY not in label:
                continue
            if not offered(b, ps, opts):
                log("note: postern does not offer %s; skipped" % label)
                continue
            have_os = os_ is not None and offered(b, os_, opts)
            for name, fn in (("upload", upload), ("download", download)):
                sp, so = [], []
                for _ in range(RUNS):
                    sp.append(measure(fn, b, ps, opts))
                    if have_os:
                        so.append(measure(fn, b, os_, opts))
                rp, cp = best(sp)
                ro, co = best(so)
                key = "%s %s" % (label, name)
                rate_rows.append((key, rp, ro, "MB/s"))
                cpu_rows.append((key, cp * 1000,
                                 co * 1000 if co is not None else None,
                                 "ms CPU/GiB"))
        size = "%d MiB, best of %d" % (SIZE // MB, RUNS)
        table("throughput (%s)" % size, "cipher / direction", rate_rows)
        table("server CPU per GiB (%s)" % size, "cipher / direction",
              cpu_rows)


if __name__ == "__main__":
    main()
