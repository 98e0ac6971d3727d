"""SFTP throughput and idle-session memory, postern against OpenSSH's sshd.

Throughput: the real OpenSSH `sftp` client in batch mode puts and gets a
file on tmpfs (/dev/shm, both ends), against postern (`Subsystem sftp
internal-sftp`) and OpenSSH's sshd with Debian's default `Subsystem sftp
/usr/lib/openssh/sftp-server`, and, for reference, OpenSSH's own
internal-sftp; runs alternate between the servers. Printed: MB/s (wall
time of the whole sftp run, login included), server CPU seconds per GiB
moved (every process that served the connection), and a `ssh cat` download
as the ceiling of one channel.

Before each timed transfer the bench writes and deletes a file of the
transfer's size in the same tmpfs (untimed), for both servers alike. In a
virtual machine that reports free pages to its host (virtio-balloon
free page reporting, as here), memory the guest freed a few seconds
before is given back, and touching it again costs a fault in the host:
about 1.3 s per GiB here, paid by whichever process writes the file (the
client on a get, the server on a put) and by whichever run happened to
get such pages. Without the warm-up, that, not the servers, decided which
server's get looked faster from run to run.

Memory: total PSS (/proc/PID/smaps_rollup) of the processes a server runs
for one idle authenticated session (`ssh -N`: postern's monitor and
session, OpenSSH's privileged and user processes; the listener is not
counted), then the increment per session from 1 to N separate
connections.

Environment: BENCH_SFTP_MB (file size, default 1024), BENCH_SFTP_RUNS
(default 3), BENCH_SESSIONS (default 100), BENCH_SFTP_PART (xfer, mem or
both; default both).
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import USER, Bench, median, table  # noqa: E402

SIZE_MB = int(os.environ.get("BENCH_SFTP_MB", "1024"))
RUNS = int(os.environ.get("BENCH_SFTP_RUNS", "3"))
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "100"))
PART = os.environ.get("BENCH_SFTP_PART", "both")
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
GIB = 1024.0 ** 3


def children(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def descendants(pid):
    out, todo = [], children(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += children(p)
        except OSError:
            pass
    return out


def wait_no_children(server, timeout_s=10):
    """Until the listener reaped every connection (so Server.cpu() has
    their CPU time)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if not children(server.proc.pid):
            return
        time.sleep(0.02)


def sftp_argv(b, server):
    return ["sftp", "-q", "-F", "/dev/null", "-P", str(server.port),
            "-i", b.key, "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "BatchMode=yes", "-b", "-", USER + "@127.0.0.1"]


def timed(server, argv, stdin_bytes=None, stdout=subprocess.DEVNULL):
    """(wall seconds, server CPU seconds) of one client run."""
    wait_no_children(server)
    c0 = server.cpu()
    t0 = time.monotonic()
    p = subprocess.run(argv, input=stdin_bytes, stdout=stdout,
                       stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit("bench: %s against %s failed: %s" % (
            argv[0], server.kind, p.stderr.decode(errors="replace")))
    wait_no_children(server)
    return wall, server.cpu() - c0


def warm_memory(work, size):
    """Make the kernel hand the next transfer pages it has just used:
    write and delete `size` bytes in the transfer's tmpfs."""
    path = os.path.join(work, "warm.bin")
    block = bytes(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            left -= f.write(block[:min(left, len(block))])
    os.unlink(path)


def xfer(b, server, direction, work):
    size = SIZE_MB * 1024 * 1024
    warm_memory(work, size + (64 << 20))
    src = os.path.join(work, "src.bin")
    if direction == "put":
        dst = os.path.join(work, "put.bin")
        batch = "put %s %s\n" % (src, dst)
    else:
        dst = os.path.join(work, "get.bin")
        batch = "get %s %s\n" % (src, dst)
    wall, cpu = timed(server, sftp_argv(b, server), batch.encode())
    got = os.stat(dst).st_size
    os.unlink(dst)
    if got != size:
        raise SystemExit("bench: %s %s moved %d bytes, want %d" % (
            server.kind, direction, got, size))
    return size / wall / 1e6, cpu / (size / GIB)


def cat_download(b, server, work):
    size = SIZE_MB * 1024 * 1024
    argv = b.ssh_argv(server, "cat %s" % os.path.join(work, "src.bin"))
    wall, cpu = timed(server, argv)
    return size / wall / 1e6, cpu / (size / GIB)


def make_src(work):
    pw = pwd.getpwnam(USER)
    os.chown(work, pw.pw_uid, pw.pw_gid)
    path = os.path.join(work, "src.bin")
    with open(path, "wb") as f:
        left = SIZE_MB * 1024 * 1024
        block = os.urandom(1 << 20)
        while left > 0:
            n = min(left, len(block))
            f.write(block[:n])
            left -= n
    os.chown(path, pw.pw_uid, pw.pw_gid)


def throughput(b, servers):
    work = tempfile.mkdtemp(prefix="postern-bench-sftp-", dir="/dev/shm")
    os.chmod(work, 0o755)
    try:
        make_src(work)
        res = {name: {"put": [], "get": [], "cat": []} for name in servers}
        for _ in range(RUNS):
            for name, server in servers.items():
                res[name]["put"].append(xfer(b, server, "put", work))
                res[name]["get"].append(xfer(b, server, "get", work))
                res[name]["cat"].append(cat_download(b, server, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return res


def med(xs, i):
    return median([x[i] for x in xs]) if xs else None


def throughput_tables(res):
    p = res["postern"]
    for other, title in (("openssh", "sftp-server"),
                         ("openssh-internal", "internal-sftp")):
        if other not in res:
            continue
        o = res[other]
        rows = []
        for what, label in (("put", "sftp put"), ("get", "sftp get"),
                            ("cat", "ssh cat (download, reference)")):
            rows.append(("%s MB/s" % label, med(p[what], 0),
                         med(o[what], 0), "median of %d" % RUNS))
            rows.append(("%s server CPU s/GiB" % label, med(p[what], 1),
                         med(o[what], 1), ""))
        table("sftp %d MiB on tmpfs: postern internal-sftp vs OpenSSH %s"
              % (SIZE_MB, title), "", rows)


def smaps_pss_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def session_ready(pid):
    """1 if this per-connection process serves an authenticated
    connection: titled "sshd: USER" or "sshd: USER@notty", as both
    servers do (not "[priv]", "[net]", "[accepted]")."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return 0
    return 1 if cmd.startswith("sshd: %s" % USER) and "[" not in cmd else 0


def open_sessions(b, server, n, clients):
    for _ in range(n):
        clients.append(subprocess.Popen(
            b.ssh_argv(server, None, ["ControlMaster=no",
                                      "ControlPath=none"])[:-1]
            + ["-N", USER + "@127.0.0.1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
    want = len(clients)
    end = time.monotonic() + 60 + n
    while time.monotonic() < end:
        pids = descendants(server.proc.pid)
        ready = sum(session_ready(p) for p in pids)
        # Every connection served and nothing half-way (preauth, [net]).
        if ready == want and len(pids) == 2 * want:
            time.sleep(0.5)
            return descendants(server.proc.pid)
        time.sleep(0.1)
    raise SystemExit("bench: %s: %d sessions did not come up" % (
        server.kind, want))


def memory(b, server):
    """(PSS kB of one idle session, PSS kB per extra session up to N)."""
    clients = []
    try:
        one = sum(smaps_pss_kb(p) for p in open_sessions(b, server, 1,
                                                          clients))
        many = sum(smaps_pss_kb(p)
                   for p in open_sessions(b, server, SESSIONS - 1, clients))
    finally:
        for c in clients:
            c.terminate()
        for c in clients:
            c.wait()
    wait_no_children(server)
    per = (many - one) / (SESSIONS - 1) if SESSIONS > 1 else None
    return one, per, many


def memory_table(b, servers):
    res = {name: memory(b, s) for name, s in servers.items()}
    p, o = res["postern"], res.get("openssh", (None, None, None))
    table("idle session memory (ssh -N), PSS of per-connection processes",
          "", [("PSS of 1 idle session, kB", p[0], o[0], ""),
               ("PSS per extra session (1..%d), kB" % SESSIONS, p[1], o[1],
                ""),
               ("PSS of %d sessions, kB" % SESSIONS, p[2], o[2], "")])


def main():
    with Bench() as b:
        servers = {"postern": b.start(
            "postern", ["Subsystem sftp internal-sftp"])}
        o = b.start("openssh", ["Subsystem sftp %s" % SFTP_SERVER])
        if o is not None:
            servers["openssh"] = o
            servers["openssh-internal"] = b.start(
                "openssh", ["Subsystem sftp internal-sftp"])
        if PART in ("both", "xfer"):
            throughput_tables(throughput(b, servers))
        if PART in ("both", "mem"):
            memory_table(b, {k: v for k, v in servers.items()
                             if k != "openssh-internal"})


if __name__ == "__main__":
    main()
