"""
test_forward.py: TCP and Unix-socket forwarding through postern with the
real OpenSSH client: -L, -D (SOCKS, with curl), -W as a ProxyCommand, -J
through a second postern, -R with a fixed port and port 0, Unix sockets
both ways, and every denial (AllowTcpForwarding, PermitOpen, PermitListen,
DisableForwarding, AllowStreamLocalForwarding, the key options restrict,
permitopen=, permitlisten=, no-port-forwarding), with sshd's log lines.

The peers are real sockets on loopback: an echo server and python3's
http.server; the client's forwards are ssh -N processes.
"""

import hashlib
import os
import re
import socket
import stat
import subprocess
import threading
import time

import harness
from harness import check, fail, timeout

EXIT_FWD = ["-o", "ExitOnForwardFailure=yes"]


class _Echo:
    """A TCP (or Unix-socket) echo server on loopback, one thread per
    connection; a half-close is passed on after the echo."""

    def __init__(self, path=None):
        if path is None:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            os.chmod(path, 0o777)
            self.port = None
        self.sock.listen(16)
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    @staticmethod
    def _serve(c):
        try:
            while True:
                data = c.recv(1 << 16)
                if not data:
                    break
                c.sendall(data)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.closed = True
        self.sock.close()


def _echo(ctx, path=None):
    e = _Echo(path)
    ctx.cleanups.append(e.close)
    return e


def _roundtrip(addr, data, timeout_s=30):
    """Send data to addr (port or Unix path) while reading; half-close and
    read to EOF. Returns what came back."""
    if isinstance(addr, int):
        s = socket.create_connection(("127.0.0.1", addr), timeout_s)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout_s)
        s.connect(addr)
    got = []

    def reader():
        try:
            while True:
                b = s.recv(1 << 16)
                if not b:
                    return
                got.append(b)
        except OSError:
            return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    t.join(timeout_s)
    s.close()
    check(not t.is_alive(), "no EOF from the forward within %ss" % timeout_s)
    return b"".join(got)


def _client(ctx, user, fwd, key=None, extra=()):
    """ssh -N with the forward options; returns the Popen."""
    argv = ctx.ssh_argv(user, None, key=key, extra=["-N"] + list(fwd) +
                        list(extra))
    return ctx.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)


def _wait_listen(p, port=None, path=None, timeout_s=15):
    """Until the client's forward listens (or the client exits)."""
    def ready():
        if p.poll() is not None:
            return True
        if port is not None:
            return harness.port_listening(port)
        return os.path.exists(path)
    harness.poll_until(ready, timeout_s)
    if p.poll() is not None:
        fail("ssh exited %s before its forward listened: %s"
             % (p.returncode, p.stderr.read().decode(errors="replace")))
    check(ready(), "forward did not listen within %ss" % timeout_s)


def _stop(p):
    if p.poll() is None:
        p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


def _local_forward(ctx, user, target, key=None, extra=()):
    """ssh -N -L lport:TARGET; returns (Popen, lport)."""
    lport = harness.free_port()
    p = _client(ctx, user, ["-L", "%d:%s" % (lport, target)] + EXIT_FWD,
                key=key, extra=extra)
    _wait_listen(p, port=lport)
    return p, lport


def _sha(b):
    return hashlib.sha256(b).hexdigest()


# --- local forwarding (direct-tcpip) ----------------------------------------


@timeout(180)
def test_forward_local_50mb(ctx):
    ctx.start_server()
    user = ctx.make_user()
    echo = _echo(ctx)
    p, lport = _local_forward(ctx, user, "127.0.0.1:%d" % echo.port)
    data = os.urandom(50 * 1024 * 1024)
    back = _roundtrip(lport, data, timeout_s=150)
    check(len(back) == len(data) and _sha(back) == _sha(data),
          "50 MB through -L came back as %d bytes, sha256 %s, want %s"
          % (len(back), _sha(back), _sha(data)))
    # Several at once, on one connection.
    outs = {}

    def one(i):
        outs[i] = _roundtrip(lport, bytes([i]) * 100000)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    for i in range(8):
        check(outs.get(i) == bytes([i]) * 100000,
              "parallel forward %d came back wrong" % i)
    check(ctx.wait_log(r"server_request_direct_tcpip: originator 127\.0\.0\.1"
                       r" port \d+, target 127\.0\.0\.1 port %d" % echo.port),
          "no direct-tcpip debug line in the log")
    _stop(p)
