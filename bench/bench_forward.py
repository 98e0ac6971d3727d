"""-L forwarding throughput: BENCH_FWD_BYTES (default 1 GiB) through
`ssh -N -L` to a loopback sink (upload) and from a loopback source
(download), postern against OpenSSH's sshd, alternating runs; MB/s and
server CPU seconds per GiB (every process of the server's tree, read
while the connection is still up)."""

import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Bench, free_port, median, table  # noqa: E402

SIZE = int(os.environ.get("BENCH_FWD_BYTES", str(1 << 30)))
RUNS = int(os.environ.get("BENCH_FWD_RUNS", "2"))
CHUNK = 1 << 20


class Peer:
    """A loopback TCP server that either swallows everything (sink) or
    sends SIZE bytes and closes (source), one connection at a time."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.count = 0
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        buf = bytearray(CHUNK)
        data = os.urandom(CHUNK)
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                self.count = self.serve(c, buf, data)
            except OSError:
                self.count = -1
            c.close()
            self.done.set()

    def serve(self, c, buf, data):
        n = 0
        if self.mode == "sink":
            while True:
                k = c.recv_into(buf)
                if k == 0:
                    return n
                n += k
        left = SIZE
        while left > 0:
            k = c.send(memoryview(data)[:min(left, CHUNK)])
            left -= k
            n += k
        c.shutdown(socket.SHUT_WR)
        while c.recv_into(buf) > 0:
            pass
        return n


def wait_listening(port, timeout_s=10):
    """Until something listens on 127.0.0.1:port, without connecting (a
    probe connection would be forwarded to the peer)."""
    want = "0100007F:%04X" % port
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            for line in f.read().splitlines()[1:]:
                fl = line.split()
                if fl[1] == want and fl[3] == "0A":
                    return
        time.sleep(0.02)
    raise SystemExit("bench_forward: ssh -L did not listen on %d" % port)


def _stat(pid):
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[1] is the ppid (field 4); utime..cstime are fields 14..17.
    return int(fields[1]), sum(int(x) for x in fields[11:15])


def tree_cpu(root):
    """CPU seconds of root and every live process below it (the session
    serving the transfer is still running when this is read)."""
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                procs[int(d)] = _stat(d)
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += procs.get(pid, (0, 0))[1]
        todo += [p for p, (pp, _) in procs.items() if pp == pid]
    return total / os.sysconf("SC_CLK_TCK")


def one(b, server, peer):
    """One transfer; returns (MB/s, server CPU seconds)."""
    lport = free_port()
    cpu0 = tree_cpu(server.proc.pid)
    p = subprocess.Popen(b.ssh_argv(server, None, [
        "ExitOnForwardFailure=yes"])[:-1] + [
        "-N", "-L", "%d:127.0.0.1:%d" % (lport, peer.port),
        b.ssh_argv(server, None)[-1]], stdin=subprocess.DEVNULL)
    wait_listening(lport)
    peer.done.clear()
    s = socket.create_connection(("127.0.0.1", lport))
    t0 = time.monotonic()
    if peer.mode == "sink":
        data = os.urandom(CHUNK)
        left = SIZE
        while left > 0:
            left -= s.send(memoryview(data)[:min(left, CHUNK)])
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
    else:
        buf = bytearray(CHUNK)
        while s.recv_into(buf) > 0:
            pass
    s.close()  # the source waits for our side to end too
    peer.done.wait(600)
    dt = time.monotonic() - t0
    got = peer.count
    cpu = tree_cpu(server.proc.pid) - cpu0
    p.terminate()
    p.wait()
    if got != SIZE:
        raise SystemExit("bench_forward: %s moved %d of %d bytes"
                         % (server.kind, got, SIZE))
    return SIZE / dt / 1e6, cpu


def main():
    with Bench() as b:
        ps = b.start("postern")
        os_ = b.start("openssh")
        rows = []
        for mode, label in (("sink", "upload (client -> -L -> sink)"),
                            ("source", "download (source -> -L -> client)")):
            peer = Peer(mode)
            rp, ro, cp, co = [], [], [], []
            for _ in range(RUNS):
                mbs, cpu = one(b, ps, peer)
                rp.append(mbs)
                cp.append(cpu)
                if os_:
                    mbs, cpu = one(b, os_, peer)
                    ro.append(mbs)
                    co.append(cpu)
            gib = SIZE / (1 << 30)
            rows.append((label, median(rp), median(ro),
                         "MB/s median of %d" % RUNS))
            rows.append(("  server CPU per GiB",
                         median(cp) / gib if cp else None,
                         median(co) / gib if co else None, "s"))
        table("-L forwarding throughput, %d MiB" % (SIZE >> 20),
              "direction", rows)


if __name__ == "__main__":
    main()
