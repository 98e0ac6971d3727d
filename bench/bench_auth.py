"""Authentication paths: login latency and server CPU per login for a
plain key (publickey.so) and a user certificate through TrustedUserCAKeys
(cert.so), postern against OpenSSH's sshd, alternating runs."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import USER, Bench, median, run, table  # noqa: E402

RUNS = int(os.environ.get("BENCH_LOGINS", "30"))


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def one(b, server, key):
    argv = b.ssh_argv(server, "true")
    argv[argv.index(b.key)] = key
    cpu0 = server.cpu()
    t0 = time.monotonic()
    run(argv, stdin=open(os.devnull))
    ms = (time.monotonic() - t0) * 1000
    # The connection's processes are reaped once it ends: let it finish.
    time.sleep(0.05)
    return ms, (server.cpu() - cpu0) * 1000


def main():
    with Bench() as b:
        ca = os.path.join(b.dir, "user_ca")
        certkey = os.path.join(b.dir, "cert_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca])
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", certkey])
        run(["ssh-keygen", "-q", "-s", ca, "-I", "bench", "-n", USER,
             certkey + ".pub"])
        extra = ["TrustedUserCAKeys %s.pub" % ca]
        servers = {k: b.start(k, extra) for k in ("postern", "openssh")}
        lat, cpu = [], []
        for label, key in (("plain key (publickey.so)", b.key),
                           ("certificate (cert.so)", certkey)):
            res = {k: ([], []) for k in servers if servers[k]}
            for _ in range(RUNS):
                for k, s in servers.items():
                    if s is None:
                        continue
                    ms, c = one(b, s, key)
                    res[k][0].append(ms)
                    res[k][1].append(c)
            o = res.get("openssh", ([], []))
            lat.append((label, median(res["postern"][0]), median(o[0]),
                        "ms median of %d" % RUNS))
            # Mean, not median: one login is about a clock tick (10 ms).
            cpu.append((label, mean(res["postern"][1]), mean(o[1]),
                        "server CPU ms per login, mean of %d" % RUNS))
        table("login latency by auth path (ssh ... true)", "path", lat)
        table("server CPU per login by auth path", "path", cpu)


if __name__ == "__main__":
    main()
