"""Bulk transfer: upload (`cat >/dev/null`) and download (`head -c N
/dev/zero`) through the OpenSSH client, per cipher, postern against
OpenSSH's sshd, alternating runs. Prints MB/s (client wall time) and server
CPU seconds per GiB: the listener's cutime+cstime deltas (see benchlib),
less the remote command's own CPU, which it reports with bash's `times`
(printed apart, for reference).

BENCH_TRANSFER_MB (default 1024) sets the size of each transfer and
BENCH_TRANSFER_RUNS (default 3) the runs per server; the best run counts
for MB/s and the least CPU for CPU/GiB, so one disturbed run on a shared
machine does not decide the figure.
"""

import fcntl
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, log, run, table  # noqa: E402

MB = 1024 * 1024
SIZE = int(os.environ.get("BENCH_TRANSFER_MB", "1024")) * MB
RUNS = int(os.environ.get("BENCH_TRANSFER_RUNS", "3"))
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


# The remote command reports its own CPU time (bash's `times`, second line:
# the shell's children) on stderr, so that the server's share can be told
# from the command's: head(1) alone costs ~0.4 s per GiB on this kind of
# machine, the same under either server.
TIMES = "; times >&2"
TIMES_RE = re.compile(rb"(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s")
F_SETPIPE_SZ = 1031


def command_cpu(stderr):
    """CPU seconds of the remote command's children, from `times`."""
    found = TIMES_RE.findall(stderr)
    if len(found) < 2:
        raise SystemExit("bench: no `times` report in %r" % stderr[-200:])
    um, us, sm, ss = found[-1]
    return int(um) * 60 + float(us) + int(sm) * 60 + float(ss)


def upload(b, server, opts):
    feeder = subprocess.Popen(["head", "-c", str(SIZE), "/dev/zero"],
                              stdout=subprocess.PIPE)
    t0 = time.monotonic()
    p = subprocess.run(b.ssh_argv(server, "cat >/dev/null" + TIMES, opts),
                       stdin=feeder.stdout, stderr=subprocess.PIPE)
    dt = time.monotonic() - t0
    feeder.stdout.close()
    feeder.wait()
    if p.returncode != 0:
        raise SystemExit("bench: upload to %s failed" % server.kind)
    return dt, command_cpu(p.stderr)


def download(b, server, opts):
    """The client's stdout is a 1 MiB pipe, counted and dropped with
    splice(2) into /dev/null, which moves page references without copying.
    A consumer that copies, or reads through a 64 KiB pipe, takes a share
    of the 2 cores the client and the server need (the client's own CPU
    per GiB grows by half with a 64 KiB pipe), and a fresh buffer per read
    costs a page fault per 4 KiB on a VM: either slows both servers' runs
    alike and measures the consumer instead of the server."""
    t0 = time.monotonic()
    p = subprocess.Popen(b.ssh_argv(server, "head -c %d /dev/zero" % SIZE
                                    + TIMES, opts),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, bufsize=0)
    fd = p.stdout.fileno()
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass
    got = 0
    null = os.open("/dev/null", os.O_WRONLY)
    try:
        while True:
            n = os.splice(fd, null, 1 << 20)
            if not n:
                break
            got += n
    finally:
        os.close(null)
    err = p.stderr.read()
    p.wait()
    dt = time.monotonic() - t0
    if p.returncode != 0 or got != SIZE:
        raise SystemExit("bench: download from %s failed (%d of %d bytes)"
                         % (server.kind, got, SIZE))
    return dt, command_cpu(err)


def measure(fn, b, server, opts):
    """(MB/s, server CPU s/GiB without the command, the command's CPU
    s/GiB) of one transfer."""
    c0 = server.cpu()
    dt, cmd = fn(b, server, opts)
    # The listener has reaped the connection's processes once the client
    # is gone; give it a moment to do so before reading its counters.
    time.sleep(0.2)
    cpu = server.cpu() - c0
    per = (1024 * MB) / SIZE
    return SIZE / MB / dt, (cpu - cmd) * per, cmd * per


def best(samples, i):
    if not samples:
        return None
    if i == 0:
        return max(s[0] for s in samples)
    return min(s[i] for s in samples)


def main():
    with Bench() as b:
        ps = b.start("postern")
        os_ = b.start("openssh")
        rate_rows, cpu_rows, cmd_rows = [], [], []
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
                key = "%s %s" % (label, name)
                rate_rows.append((key, best(sp, 0), best(so, 0), "MB/s"))
                for rows, i in ((cpu_rows, 1), (cmd_rows, 2)):
                    co = best(so, i)
                    rows.append((key, best(sp, i) * 1000,
                                 co * 1000 if co is not None else None,
                                 "ms CPU/GiB"))
        size = "%d MiB, best of %d" % (SIZE // MB, RUNS)
        table("throughput (%s)" % size, "cipher / direction", rate_rows)
        table("server CPU per GiB, the remote command's not counted (%s)"
              % size, "cipher / direction", cpu_rows)
        table("the remote command's CPU per GiB, for reference (%s)" % size,
              "cipher / direction", cmd_rows)


if __name__ == "__main__":
    main()
