#!/usr/bin/env python3
"""bench_inetd_pipe.py: inetd mode over a pipe pair, the client's
ProxyCommand running `posternd -i` or `sshd -i`: throughput of one upload
and one download through the pipes, and the server's CPU per GiB. postern
relays the pipes to a socketpair (monitor/relay.c: one more copy each way
than sshd, which reads and writes the pipes itself); this shows its cost.

The ProxyCommand is a small wrapper that runs the server as its child (a
child subreaper, so that sshd's orphaned session child comes back to it),
waits for every descendant and writes their CPU time (RUSAGE_CHILDREN) to
a file. It ignores the SIGHUP the client sends its ProxyCommand as it
exits; the server gets it as it would.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Bench, OPENSSH, POSTERND, USER, median,  # noqa
                      run, table)

MIB = 1 << 20
SIZE = 256 * MIB
RUNS = 3

WRAPPER = r'''
import ctypes, os, resource, signal, subprocess, sys
out, argv = sys.argv[1], sys.argv[2:]
signal.signal(signal.SIGHUP, signal.SIG_IGN)
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
subprocess.Popen(argv, preexec_fn=lambda: signal.signal(signal.SIGHUP,
                                                        signal.SIG_DFL))
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    f.write("%f\n" % (ru.ru_utime + ru.ru_stime))
'''


def one(b, exe, cfg, command, stdin, stdout):
    cpu_file = os.path.join(b.dir, "cpu")
    if os.path.exists(cpu_file):
        os.unlink(cpu_file)
    wrapper = os.path.join(b.dir, "wrap.py")
    with open(wrapper, "w") as f:
        f.write(WRAPPER)
    proxy = "%s %s %s %s -i -f %s" % (sys.executable, wrapper, cpu_file,
                                      exe, cfg)
    argv = ["ssh", "-F", "/dev/null", "-i", b.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "BatchMode=yes", "-o", "ProxyCommand=" + proxy,
            USER + "@pipe", command]
    t0 = time.monotonic()
    run(argv, stdin=stdin, stdout=stdout)
    wall = time.monotonic() - t0
    end = time.monotonic() + 30
    while not os.path.exists(cpu_file) and time.monotonic() < end:
        time.sleep(0.05)
    with open(cpu_file) as f:
        cpu = float(f.read() or 0)
    return wall, cpu


def main():
    with Bench() as b:
        cfgs = {}
        for kind in ("postern", "openssh"):
            if kind == "openssh" and not os.path.exists(OPENSSH):
                continue
            cfgs[kind] = os.path.join(b.dir, "%s_pipe.conf" % kind)
            with open(cfgs[kind], "w") as f:
                f.write("HostKey %s\nAuthorizedKeysFile "
                        ".ssh/authorized_keys\nUsePAM no\nLogLevel ERROR\n"
                        "PidFile %s/%s_pipe.pid\n" % (b.hostkey, b.dir, kind))
        data = os.path.join(b.dir, "zero.bin")
        with open(data, "wb") as f:
            f.truncate(SIZE)
        results = {}
        for _ in range(RUNS):
            for kind, cfg in cfgs.items():
                exe = POSTERND if kind == "postern" else OPENSSH
                with open(data, "rb") as src:
                    up = one(b, exe, cfg, "cat > /dev/null", src, None)
                with open(os.devnull, "wb") as sink:
                    down = one(b, exe, cfg, "head -c %d /dev/zero" % SIZE,
                               None, sink)
                results.setdefault(kind, []).append((up, down))

        def med(kind, i, j):
            rs = results.get(kind)
            return median([r[i][j] for r in rs]) if rs else None

        gib = SIZE / float(1 << 30)
        rows = []
        for i, name in ((0, "upload"), (1, "download")):
            p, o = med("postern", i, 0), med("openssh", i, 0)
            rows.append(("%s %d MiB: MiB/s" % (name, SIZE // MIB),
                         SIZE / MIB / p if p else None,
                         SIZE / MIB / o if o else None, "MiB/s"))
            p, o = med("postern", i, 1), med("openssh", i, 1)
            rows.append(("%s: server CPU per GiB" % name,
                         p / gib if p is not None else None,
                         o / gib if o is not None else None, "s/GiB"))
        table("inetd mode over a pipe pair (ProxyCommand), median of %d"
              % RUNS, "workload", rows)


if __name__ == "__main__":
    main()
