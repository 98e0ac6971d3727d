"""Host keys and the DH group exchange: median login latency and server
CPU per login for each host key algorithm (ed25519, ECDSA P-256, RSA 3072
with rsa-sha2-512) and for diffie-hellman-group-exchange-sha256, postern
against OpenSSH's sshd with the same keys, alternating runs."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, median, run, table  # noqa: E402

RUNS = int(os.environ.get("BENCH_LOGINS", "30"))
CASES = [
    ("ssh-ed25519", ["HostKeyAlgorithms=ssh-ed25519"]),
    ("ecdsa-sha2-nistp256", ["HostKeyAlgorithms=ecdsa-sha2-nistp256"]),
    ("rsa-sha2-512 (3072-bit)", ["HostKeyAlgorithms=rsa-sha2-512"]),
    ("dh-group-exchange-sha256 (3072-bit group)",
     ["KexAlgorithms=diffie-hellman-group-exchange-sha256",
      "Ciphers=aes128-gcm@openssh.com"]),
]


def one(b, server, opts):
    argv = b.ssh_argv(server, "true", opts)
    t0 = time.monotonic()
    run(argv, stdin=open(os.devnull))
    return (time.monotonic() - t0) * 1000


def cpu_now(servers):
    # Let the listener reap the last connection's processes (cstime).
    time.sleep(0.5)
    return [s.cpu() if s else 0.0 for s in servers]


def main():
    with Bench() as b:
        keys = []
        for kind, bits in (("ecdsa", "256"), ("rsa", "3072")):
            path = os.path.join(b.dir, "host_" + kind)
            run(["ssh-keygen", "-q", "-t", kind, "-b", bits, "-N", "",
                 "-f", path])
            keys.append("HostKey " + path)
        # Not in postern's default list (sshd's has it).
        keys.append("KexAlgorithms +diffie-hellman-group-exchange-sha256")
        ps = b.start("postern", keys)
        os_ = b.start("openssh", keys)
        lat, cpu = [], []
        for label, opts in CASES:
            tp, to = [], []
            c0 = cpu_now((ps, os_))
            for _ in range(RUNS):
                tp.append(one(b, ps, opts))
                if os_:
                    to.append(one(b, os_, opts))
            c1 = cpu_now((ps, os_))
            lat.append((label, median(tp), median(to),
                        "ms median of %d" % RUNS))
            cpu.append((label, (c1[0] - c0[0]) * 1000 / RUNS,
                        (c1[1] - c0[1]) * 1000 / RUNS if os_ else None,
                        "ms server CPU per login, mean"))
        table("login latency by host key / group exchange", "case", lat)
        table("server CPU per login", "case", cpu)


if __name__ == "__main__":
    main()
