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
import json
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


def _http_server(ctx, body):
    """python3 -m http.server on loopback serving one file; returns
    (port, file name)."""
    root = os.path.join(ctx.dir, "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "f.bin"), "wb") as f:
        f.write(body)
    port = harness.free_port()
    p = ctx.popen(["python3", "-m", "http.server", "-b", "127.0.0.1",
                   str(port)], cwd=root, stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
    ctx.cleanups.append(lambda: _stop(p))
    check(harness.poll_until(lambda: harness.port_listening(port), 15),
          "http.server did not listen")
    return port, "f.bin"


@timeout(90)
def test_forward_dynamic_socks(ctx):
    """ssh -D: curl through SOCKS5 with the name resolved by the server
    (asynchronously: "localhost" is no numeric address), and SOCKS4."""
    ctx.start_server()
    user = ctx.make_user()
    body = os.urandom(3 * 1024 * 1024)
    hport, name = _http_server(ctx, body)
    dport = harness.free_port()
    p = _client(ctx, user, ["-D", "127.0.0.1:%d" % dport] + EXIT_FWD)
    _wait_listen(p, port=dport)
    for proxy in ("--socks5-hostname", "--socks4"):
        r = harness.run(["curl", "-sS", "--max-time", "30", proxy,
                         "127.0.0.1:%d" % dport,
                         "http://localhost:%d/%s" % (hport, name)],
                        check_rc=False)
        check(r.returncode == 0 and r.stdout == body,
              "curl %s through ssh -D: exit %d, %d bytes, stderr %s"
              % (proxy, r.returncode, len(r.stdout), r.stderr))
    check(ctx.wait_log(r"target localhost port %d" % hport),
          "the SOCKS request did not reach the server by name")
    # A name that does not resolve fails the open, the session lives on.
    r = harness.run(["curl", "-sS", "--max-time", "30", "--socks5-hostname",
                     "127.0.0.1:%d" % dport, "http://no-such-host.invalid/"],
                    check_rc=False)
    check(r.returncode != 0, "curl through an unresolvable name succeeded")
    check(ctx.wait_log(r"connect_to no-such-host\.invalid: unknown host"),
          "no 'unknown host' log line")
    # A refused connection: connect failed, with the error.
    closed = harness.free_port()
    r = harness.run(["curl", "-sS", "--max-time", "30", "--socks5-hostname",
                     "127.0.0.1:%d" % dport, "http://127.0.0.1:%d/" % closed],
                    check_rc=False)
    check(r.returncode != 0, "curl to a closed port succeeded")
    check(ctx.wait_log(r"connect_to 127\.0\.0\.1 port %d: failed\." % closed),
          "no 'connect_to ... failed.' log line")
    check(p.poll() is None, "ssh -D exited after failed opens")
    r = harness.run(["curl", "-sS", "--max-time", "30", "--socks5-hostname",
                     "127.0.0.1:%d" % dport,
                     "http://127.0.0.1:%d/%s" % (hport, name)],
                    check_rc=False)
    check(r.returncode == 0 and r.stdout == body,
          "the forward stopped working after failed opens")
    _stop(p)


@timeout(60)
def test_forward_stdio_proxycommand(ctx):
    """ssh -W host:port as another ssh's ProxyCommand, through postern to
    postern itself."""
    ctx.start_server()
    user = ctx.make_user()
    inner = " ".join(ctx.ssh_argv(user, None, extra=["-W", "%h:%p"]))
    r = ctx.ssh(user, "echo through-W", extra=[
        "-o", "ProxyCommand=" + inner])
    check(r.rc == 0 and r.stdout == b"through-W\n",
          "ssh with ProxyCommand ssh -W: exit %s, out %r, err %s"
          % (r.rc, r.stdout, r.err))
    check(ctx.wait_log(r"server_request_direct_tcpip: originator \S+ port "
                       r"\d+, target 127\.0\.0\.1 port %d" % ctx.port),
          "no direct-tcpip line for -W")


def _second_server(ctx):
    """A second posternd on another port with the same host key."""
    port = harness.free_port()
    conf = os.path.join(ctx.dir, "sshd_config2")
    with open(conf, "w") as f:
        f.write(harness.BASE_CONFIG.format(port=port, dir=ctx.dir)
                .replace("posternd.pid", "posternd2.pid"))
    log = open(os.path.join(ctx.dir, "server2.log"), "ab")
    p = ctx.popen([ctx.server_path, "-D", "-e", "-f", conf],
                  stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                  start_new_session=True, cwd=ctx.dir)
    log.close()
    ctx.cleanups.append(lambda: _stop(p))
    check(harness.poll_until(lambda: p.poll() is not None or
                             harness.port_listening(port), 10)
          and p.poll() is None, "second server did not start")
    return port


@timeout(60)
def test_forward_proxyjump(ctx):
    """ssh -J through postern to a second postern instance."""
    ctx.start_server()
    user = ctx.make_user()
    port2 = _second_server(ctx)
    cfg = os.path.join(ctx.dir, "ssh_config")
    with open(cfg, "w") as f:
        f.write("Host jump\n HostName 127.0.0.1\n Port %d\n"
                "Host target\n HostName 127.0.0.1\n Port %d\n"
                " ProxyJump jump\n"
                "Host *\n User %s\n IdentityFile %s\n IdentitiesOnly yes\n"
                " StrictHostKeyChecking no\n UserKnownHostsFile /dev/null\n"
                " BatchMode yes\n LogLevel ERROR\n ConnectTimeout 10\n"
                % (ctx.port, port2, user.name, user.key))
    r = harness.run(["ssh", "-F", cfg, "target", "echo jumped $SSH_CONNECTION"],
                    check_rc=False)
    out = r.stdout.decode(errors="replace")
    check(r.returncode == 0 and out.startswith("jumped ")
          and out.split()[-1] == str(port2),
          "ssh -J: exit %d, out %r, err %s" % (r.returncode, out, r.stderr))
    check(ctx.wait_log(r"target 127\.0\.0\.1 port %d" % port2),
          "the jump host did not log the direct-tcpip to the target")


# --- remote forwarding (tcpip-forward) --------------------------------------


@timeout(90)
def test_forward_remote(ctx):
    """ssh -R with a fixed port and with port 0; cancel on exit."""
    ctx.start_server()
    user = ctx.make_user()
    echo = _echo(ctx)
    rport = harness.free_port()
    p = _client(ctx, user, ["-R", "%d:127.0.0.1:%d" % (rport, echo.port)]
                + EXIT_FWD)
    _wait_listen(p, port=rport)
    data = os.urandom(5 * 1024 * 1024)
    back = _roundtrip(rport, data)
    check(_sha(back) == _sha(data), "-R: %d bytes came back wrong"
          % len(back))
    # The listener is the session's, not root's.
    uids = [int(l.split()[7]) for l in
            open("/proc/net/tcp").read().splitlines()[1:]
            if l.split()[3] == "0A"
            and int(l.split()[1].split(":")[1], 16) == rport]
    check(uids == [user.uid], "-R listener owned by uid %s, want %d"
          % (uids, user.uid))
    _stop(p)
    check(harness.poll_until(lambda: not harness.port_listening(rport), 10),
          "the -R listener outlived the session")

    # Port 0: the client prints the port the server allocated.
    p = _client(ctx, user, ["-R", "0:127.0.0.1:%d" % echo.port] + EXIT_FWD,
                extra=["-o", "LogLevel=INFO"])
    line = b""
    end = time.monotonic() + 15
    while time.monotonic() < end and b"Allocated port" not in line:
        b = p.stderr.readline()
        if not b:
            break
        line = b
    m = re.search(rb"Allocated port (\d+) for remote forward", line)
    check(m is not None, "ssh -R 0 printed no allocated port: %r" % line)
    port0 = int(m.group(1))
    check(port0 > 0 and harness.port_listening(port0),
          "allocated port %d does not listen" % port0)
    check(_roundtrip(port0, b"hello port zero") == b"hello port zero",
          "-R 0 forward did not echo")
    _stop(p)


@timeout(60)
def test_forward_remote_does_not_keep_connection_used(ctx):
    """UnusedConnectionTimeout: a remote forward's listener is no open
    channel, as sshd_config(5) says and sshd 9.2 does: a connection whose
    only use is `ssh -N -R` ends after the timeout (it was kept)."""
    ctx.start_server(["UnusedConnectionTimeout 1"])
    user = ctx.make_user()
    echo = _echo(ctx)
    rport = harness.free_port()
    p = _client(ctx, user, ["-R", "%d:127.0.0.1:%d" % (rport, echo.port)]
                + EXIT_FWD)
    _wait_listen(p, port=rport)
    ended = harness.poll_until(lambda: p.poll() is not None, 20)
    check(ended, "the connection holding only a -R listener was kept")
    check(ctx.wait_log(r"terminating inactive connection from user %s "
                       % user.name, 10),
          "no 'terminating inactive connection' line")
    _stop(p)


@timeout(60)
def test_forward_remote_dynamic(ctx):
    """ssh -R PORT without a destination: the client answers SOCKS on the
    forwarded connections; the server only listens and opens channels."""
    ctx.start_server()
    user = ctx.make_user()
    body = os.urandom(256 * 1024)
    hport, name = _http_server(ctx, body)
    rport = harness.free_port()
    p = _client(ctx, user, ["-R", "127.0.0.1:%d" % rport] + EXIT_FWD)
    _wait_listen(p, port=rport)
    r = harness.run(["curl", "-sS", "--max-time", "30", "--socks5-hostname",
                     "127.0.0.1:%d" % rport,
                     "http://localhost:%d/%s" % (hport, name)],
                    check_rc=False)
    check(r.returncode == 0 and r.stdout == body,
          "curl through ssh -R SOCKS: exit %d, %d bytes, %s"
          % (r.returncode, len(r.stdout), r.stderr))
    _stop(p)


@timeout(60)
def test_forward_remote_gatewayports(ctx):
    """GatewayPorts no binds loopback whatever is asked; clientspecified
    binds what the client asks for."""
    ctx.start_server(["Match User nobody-at-all", "GatewayPorts yes"])
    user = ctx.make_user()
    echo = _echo(ctx)
    rport = harness.free_port()
    p = _client(ctx, user, ["-R", "0.0.0.0:%d:127.0.0.1:%d"
                            % (rport, echo.port)] + EXIT_FWD)
    _wait_listen(p, port=rport)
    bound = _tcp_listeners(rport)
    check(bound == ["0100007F"],
          "GatewayPorts no: -R 0.0.0.0 bound %s, want 127.0.0.1" % bound)
    _stop(p)
    ctx.stop_server()
    ctx.start_server(["GatewayPorts clientspecified"])
    # A port of its own: the first session's 127.0.0.1 listener may not
    # be closed yet (its session ends after the client), and a wildcard
    # bind of the same port would fail (CI, under ASan).
    rport = harness.free_port()
    p = _client(ctx, user, ["-R", "0.0.0.0:%d:127.0.0.1:%d"
                            % (rport, echo.port)] + EXIT_FWD)
    _wait_listen(p, port=rport)
    bound = _tcp_listeners(rport)
    check(bound == ["00000000"],
          "GatewayPorts clientspecified: -R 0.0.0.0 bound %s" % bound)
    check(_roundtrip(rport, b"gw") == b"gw", "wildcard -R did not echo")
    _stop(p)
    # A bind address that does not resolve: refused, with sshd's line.
    check(not _remote_result(ctx, user, "no-such-host.invalid:%d:127.0.0.1:%d"
                             % (harness.free_port(), echo.port)),
          "-R to an unresolvable bind address was set up")
    check(ctx.wait_log(r"^(?:error: )?channel_setup_fwd_listener_tcpip: "
                       r"getaddrinfo\(no-such-host\.invalid\): "),
          "no 'channel_setup_fwd_listener_tcpip: getaddrinfo(HOST): ...' "
          "line")


def test_forward_address_family_inet(ctx):
    """AddressFamily inet holds for forwarding too, as sshd's
    channel_set_af(): an -R on * listens on IPv4 only, an -R on [::1] is
    refused. Before, both families were bound: IPv6 ports opened on a
    host whose administrator had asked for IPv4 only."""
    ctx.start_server(["AddressFamily inet", "GatewayPorts clientspecified"])
    user = ctx.make_user()
    echo = _echo(ctx)
    rport = harness.free_port()
    p = _client(ctx, user, ["-R", "*:%d:127.0.0.1:%d"
                            % (rport, echo.port)] + EXIT_FWD)
    _wait_listen(p, port=rport)
    check(_tcp_listeners(rport) == ["00000000"] and
          _tcp_listeners(rport, "/proc/net/tcp6") == [],
          "-R * under AddressFamily inet: IPv4 %s, IPv6 %s"
          % (_tcp_listeners(rport), _tcp_listeners(rport, "/proc/net/tcp6")))
    check(_roundtrip(rport, b"v4") == b"v4", "the IPv4 -R did not echo")
    _stop(p)
    p = _client(ctx, user, ["-R", "[::1]:%d:127.0.0.1:%d"
                            % (harness.free_port(), echo.port)] + EXIT_FWD)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        _stop(p)
        check(False, "-R on [::1] was set up under AddressFamily inet")
    check(p.returncode != 0 and b"forwarding failed" in err,
          "-R on [::1]: rc %s %r" % (p.returncode, err[-300:]))


def _tcp_listeners(port, table="/proc/net/tcp"):
    """The addresses (hex, as /proc/net/tcp or tcp6) listening on port."""
    out = []
    for line in open(table).read().splitlines()[1:]:
        f = line.split()
        addr, p = f[1].split(":")
        if f[3] == "0A" and int(p, 16) == port:
            out.append(addr)
    return out


# --- Unix-domain sockets ------------------------------------------------------


def _user_dir(ctx, user, name):
    """A directory the user owns (and root can reach), for sockets."""
    d = os.path.join(ctx.dir, name)
    os.makedirs(d)
    os.chown(d, user.uid, user.gid)
    os.chmod(d, 0o755)
    return d


@timeout(90)
def test_forward_streamlocal(ctx):
    """-R /path:host:port (the server's socket is the user's, mode from
    StreamLocalBindMask), -L port:/path (direct-streamlocal), and
    -L /path:host:port (a client-side socket, direct-tcpip)."""
    ctx.start_server()
    user = ctx.make_user()
    echo = _echo(ctx)
    d = _user_dir(ctx, user, "socks")

    # -R: streamlocal-forward; the socket is created as the user.
    spath = os.path.join(d, "remote.sock")
    p = _client(ctx, user, ["-R", "%s:127.0.0.1:%d" % (spath, echo.port)]
                + EXIT_FWD)
    _wait_listen(p, path=spath)
    st = os.stat(spath)
    check(stat.S_ISSOCK(st.st_mode) and st.st_uid == user.uid
          and st.st_gid == user.gid and stat.S_IMODE(st.st_mode) == 0o600,
          "server-side socket: mode %o uid %d gid %d, want socket 600 %d:%d"
          % (st.st_mode, st.st_uid, st.st_gid, user.uid, user.gid))
    data = os.urandom(2 * 1024 * 1024)
    check(_sha(_roundtrip(spath, data)) == _sha(data),
          "-R unix socket forward came back wrong")
    _stop(p)
    check(harness.poll_until(lambda: not os.path.exists(spath), 10),
          "the socket file outlived its forward")

    # -L port:/path: direct-streamlocal to a server-side socket.
    upath = os.path.join(d, "echo.sock")
    _echo(ctx, upath)
    p, lport = _local_forward(ctx, user, upath)
    check(_sha(_roundtrip(lport, data)) == _sha(data),
          "-L to a unix socket came back wrong")
    check(ctx.wait_log(r"server_request_direct_streamlocal: originator "
                       r"\S+ port \d+, target %s" % re.escape(upath)),
          "no direct-streamlocal debug line")
    _stop(p)

    # -L /path:host:port: the client listens on a socket.
    cpath = os.path.join(ctx.dir, "client.sock")
    p = _client(ctx, user, ["-L", "%s:127.0.0.1:%d" % (cpath, echo.port)]
                + EXIT_FWD)
    _wait_listen(p, path=cpath)
    check(_roundtrip(cpath, b"via client socket") == b"via client socket",
          "-L from a client-side socket did not echo")
    _stop(p)


@timeout(60)
def test_forward_streamlocal_bind(ctx):
    """StreamLocalBindMask and StreamLocalBindUnlink."""
    ctx.start_server(["StreamLocalBindMask 0117", "StreamLocalBindUnlink yes"])
    user = ctx.make_user()
    echo = _echo(ctx)
    d = _user_dir(ctx, user, "socks")
    spath = os.path.join(d, "stale.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(spath)
    stale.close()
    os.chown(spath, user.uid, user.gid)
    p = _client(ctx, user, ["-R", "%s:127.0.0.1:%d" % (spath, echo.port)]
                + EXIT_FWD)
    check(harness.poll_until(lambda: p.poll() is not None or
                             _connectable(spath), 15),
          "the -R socket did not replace the stale one")
    if p.poll() is not None:
        fail("ssh exited: %s" % p.stderr.read())
    check(stat.S_IMODE(os.stat(spath).st_mode) == 0o660,
          "StreamLocalBindMask 0117 gave mode %o"
          % stat.S_IMODE(os.stat(spath).st_mode))
    check(_roundtrip(spath, b"unlinked") == b"unlinked",
          "forward through the replaced socket did not echo")
    _stop(p)


def _connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


# --- denials ----------------------------------------------------------------


def _local_denied(ctx, user, target, log_rx, key=None):
    """-L to target: the client's connection gets nothing back and the
    server logs log_rx."""
    p, lport = _local_forward(ctx, user, target, key=key)
    back = _roundtrip(lport, b"must not arrive")
    check(back == b"", "-L %s was not refused (got %r)" % (target, back))
    check(ctx.wait_log(log_rx), "no log line /%s/" % log_rx)
    check(p.poll() is None, "ssh -L exited after a refused open")
    _stop(p)


def _local_ok(ctx, user, target, key=None):
    p, lport = _local_forward(ctx, user, target, key=key)
    back = _roundtrip(lport, b"allowed")
    check(back == b"allowed", "-L %s was refused" % target)
    _stop(p)


def _remote_result(ctx, user, spec, key=None):
    """ssh -R spec with ExitOnForwardFailure: True if the forward was set
    up (then the client is stopped), False if ssh gave up on it."""
    port = None
    m = re.match(r"(?:[^:]*:)?(\d+):", spec)
    if m and not spec.startswith("/"):
        port = int(m.group(1))
    p = _client(ctx, user, ["-R", spec] + EXIT_FWD, key=key)
    path = spec.split(":")[0] if spec.startswith("/") else None
    harness.poll_until(lambda: p.poll() is not None or
                       (harness.port_listening(port) if port
                        else os.path.exists(path)), 15)
    if p.poll() is None:
        _stop(p)
        return True
    err = p.stderr.read().decode(errors="replace")
    check("remote port forwarding failed" in err or
          "forwarding failed" in err,
          "ssh -R %s failed for another reason: %s" % (spec, err))
    return False


def _closed_port():
    return harness.free_port()


@timeout(90)
def test_forward_deny_allowtcpforwarding(ctx):
    """AllowTcpForwarding no, and local/remote from a Match block."""
    user = ctx.make_user()
    echo = _echo(ctx)
    d = _user_dir(ctx, user, "socks")
    upath = os.path.join(d, "echo.sock")
    _echo(ctx, upath)
    rpath = os.path.join(d, "r.sock")
    ctx.start_server(["AllowTcpForwarding no"])
    _local_denied(ctx, user, "127.0.0.1:%d" % echo.port,
                  r"refused local port forward: originator 127\.0\.0\.1 "
                  r"port \d+, target 127\.0\.0\.1 port %d" % echo.port)
    check(not _remote_result(ctx, user, "%d:127.0.0.1:%d"
                             % (harness.free_port(), echo.port)),
          "AllowTcpForwarding no: -R was set up")
    # As sshd: sockets' forwards too (AllowStreamLocalForwarding is yes).
    _local_denied(ctx, user, upath,
                  r"Received request to connect to path %s, but the "
                  r"request was denied\." % re.escape(upath))
    check(not _remote_result(ctx, user, "%s:127.0.0.1:%d"
                             % (rpath, echo.port)),
          "AllowTcpForwarding no: -R to a socket was set up")
    check(ctx.wait_log(r"Received request from 127\.0\.0\.1 port \d+ to "
                       r"remote forward to path \"%s\", but the request was "
                       r"denied\." % re.escape(rpath)),
          "no log line for the refused -R to a socket")
    ctx.stop_server()
    ctx.start_server(["AllowTcpForwarding local",
                      "Match User %s" % user.name,
                      "AllowTcpForwarding remote"])
    check(_remote_result(ctx, user, "%d:127.0.0.1:%d"
                         % (harness.free_port(), echo.port)),
          "AllowTcpForwarding remote (Match): -R was refused")
    _local_denied(ctx, user, "127.0.0.1:%d" % echo.port,
                  r"refused local port forward: .* target 127\.0\.0\.1 port "
                  r"%d" % echo.port)
    ctx.stop_server()
    ctx.start_server(["AllowTcpForwarding local"])
    _local_ok(ctx, user, "127.0.0.1:%d" % echo.port)
    check(not _remote_result(ctx, user, "%d:127.0.0.1:%d"
                             % (harness.free_port(), echo.port)),
          "AllowTcpForwarding local: -R was set up")
    _local_ok(ctx, user, upath)
    check(not _remote_result(ctx, user, "%s:127.0.0.1:%d"
                             % (rpath, echo.port)),
          "AllowTcpForwarding local: -R to a socket was set up")
    ctx.stop_server()
    ctx.start_server(["AllowTcpForwarding remote"])
    check(_remote_result(ctx, user, "%s:127.0.0.1:%d" % (rpath, echo.port)),
          "AllowTcpForwarding remote: -R to a socket was refused")
    _local_denied(ctx, user, upath,
                  r"Received request to connect to path %s, but the "
                  r"request was denied\." % re.escape(upath))


@timeout(90)
def test_forward_deny_permitopen(ctx):
    """PermitOpen limits destinations, and socket paths as OpenSSH does:
    only an entry of any host and any port admits one."""
    user = ctx.make_user()
    echo = _echo(ctx)
    other = _echo(ctx)
    d = _user_dir(ctx, user, "socks")
    upath = os.path.join(d, "echo.sock")
    _echo(ctx, upath)
    ctx.start_server(["PermitOpen 127.0.0.1:%d [::1]:22" % echo.port])
    _local_ok(ctx, user, "127.0.0.1:%d" % echo.port)
    _local_denied(ctx, user, "127.0.0.1:%d" % other.port,
                  r"Received request from 127\.0\.0\.1 port \d+ to connect "
                  r"to host 127\.0\.0\.1 port %d, but the request was "
                  r"denied\." % other.port)
    _local_denied(ctx, user, upath,
                  r"Received request to connect to path %s, but the "
                  r"request was denied\." % re.escape(upath))
    ctx.stop_server()
    ctx.start_server(["PermitOpen 127.0.0.1:%d *:*" % echo.port])
    _local_ok(ctx, user, upath)
    # PermitListen likewise for -R.
    ctx.stop_server()
    rport = harness.free_port()
    ctx.start_server(["PermitListen localhost:%d" % rport])
    check(_remote_result(ctx, user, "%d:127.0.0.1:%d" % (rport, echo.port)),
          "PermitListen: the listed -R was refused")
    bad = harness.free_port()
    check(not _remote_result(ctx, user, "%d:127.0.0.1:%d" % (bad, echo.port)),
          "PermitListen: an unlisted -R was set up")
    check(ctx.wait_log(r"Received request from 127\.0\.0\.1 port \d+ to "
                       r"remote forward to host localhost port %d, but the "
                       r"request was denied\." % bad),
          "no log line for the refused -R")


@timeout(90)
def test_forward_deny_disableforwarding(ctx):
    """DisableForwarding yes overrides AllowTcpForwarding yes."""
    user = ctx.make_user()
    echo = _echo(ctx)
    d = _user_dir(ctx, user, "socks")
    ctx.start_server(["AllowTcpForwarding yes", "DisableForwarding yes"])
    _local_denied(ctx, user, "127.0.0.1:%d" % echo.port,
                  r"refused local port forward: originator 127\.0\.0\.1 "
                  r"port \d+, target 127\.0\.0\.1 port %d" % echo.port)
    check(not _remote_result(ctx, user, "%d:127.0.0.1:%d"
                             % (harness.free_port(), echo.port)),
          "DisableForwarding: -R was set up")
    check(not _remote_result(ctx, user, "%s:127.0.0.1:%d"
                             % (os.path.join(d, "r.sock"), echo.port)),
          "DisableForwarding: -R to a socket was set up")
    upath = os.path.join(d, "echo.sock")
    _echo(ctx, upath)
    _local_denied(ctx, user, upath,
                  r"refused streamlocal port forward: originator \S+ port "
                  r"\d+, target %s" % re.escape(upath))


@timeout(90)
def test_forward_deny_streamlocal(ctx):
    """AllowStreamLocalForwarding no: sockets refused, TCP still works."""
    user = ctx.make_user()
    echo = _echo(ctx)
    d = _user_dir(ctx, user, "socks")
    upath = os.path.join(d, "echo.sock")
    _echo(ctx, upath)
    ctx.start_server(["AllowStreamLocalForwarding no"])
    _local_denied(ctx, user, upath,
                  r"refused streamlocal port forward: .*target %s"
                  % re.escape(upath))
    check(not _remote_result(ctx, user, "%s:127.0.0.1:%d"
                             % (os.path.join(d, "r.sock"), echo.port)),
          "AllowStreamLocalForwarding no: -R to a socket was set up")
    _local_ok(ctx, user, "127.0.0.1:%d" % echo.port)
    # Privileged ports are root's only.
    check(not _remote_result(ctx, user, "1023:127.0.0.1:%d" % echo.port),
          "a user could listen on port 1023")


@timeout(120)
def test_forward_deny_key_options(ctx):
    """restrict, restrict+port-forwarding, no-port-forwarding, permitopen=
    and permitlisten= from authorized_keys."""
    ctx.start_server()
    echo = _echo(ctx)
    other = _echo(ctx)

    def user_with(opts):
        u = ctx.make_user(with_key=False)
        ctx.authorize(u, u.key + ".pub", options=opts)
        return u

    refused = (r"refused local port forward: originator 127\.0\.0\.1 port "
               r"\d+, target 127\.0\.0\.1 port %d")
    u = user_with("restrict")
    _local_denied(ctx, u, "127.0.0.1:%d" % echo.port, refused % echo.port)
    check(not _remote_result(ctx, u, "%d:127.0.0.1:%d"
                             % (harness.free_port(), echo.port)),
          "restrict: -R was set up")

    u = user_with("restrict,port-forwarding")
    _local_ok(ctx, u, "127.0.0.1:%d" % echo.port)

    u = user_with("no-port-forwarding")
    _local_denied(ctx, u, "127.0.0.1:%d" % other.port, refused % other.port)
    check(not _remote_result(ctx, u, "%d:127.0.0.1:%d"
                             % (harness.free_port(), echo.port)),
          "no-port-forwarding: -R was set up")

    u = user_with('permitopen="127.0.0.1:%d"' % echo.port)
    _local_ok(ctx, u, "127.0.0.1:%d" % echo.port)
    _local_denied(ctx, u, "127.0.0.1:%d" % other.port,
                  r"Received request from 127\.0\.0\.1 port \d+ to connect "
                  r"to host 127\.0\.0\.1 port %d, but the request was "
                  r"denied\." % other.port)

    rport = harness.free_port()
    u = user_with('permitlisten="%d"' % rport)
    check(_remote_result(ctx, u, "%d:127.0.0.1:%d" % (rport, echo.port)),
          "permitlisten: the listed -R was refused")
    check(not _remote_result(ctx, u, "%d:127.0.0.1:%d"
                             % (harness.free_port(), echo.port)),
          "permitlisten: an unlisted -R was set up")



# --- failures the client sees, and cancelling -------------------------------


@timeout(60)
def test_forward_open_failures(ctx):
    """The reason of failed opens as ssh -W reports them: a closed port
    and an unknown name fail to connect, with the error."""
    ctx.start_server()
    user = ctx.make_user()
    cases = (("127.0.0.1:%d" % harness.free_port(),
              "connect failed: Connection refused"),
             ("no-such-host.invalid:80", "connect failed: "))
    for dest, want in cases:
        r = ctx.ssh(user, None, extra=["-W", dest], verbose=True)
        err = r.err
        check(r.rc != 0 and ("open failed: " + want) in err,
              "ssh -W %s: exit %s, want 'open failed: %s' in:\n%s"
              % (dest[:40], r.rc, want, harness.tail(err, 8)))
    check(ctx.wait_log(r"connect_to no-such-host\.invalid: unknown host"),
          "no 'unknown host' line")
    # The other way: a -R forward whose target is closed. The client
    # refuses the channel the server opens, and the server logs it at
    # INFO as sshd does ("channel N: open failed: connect failed: ...").
    rport = harness.free_port()
    p = _client(ctx, user, ["-R", "%d:127.0.0.1:%d"
                            % (rport, harness.free_port())] + EXIT_FWD)
    _wait_listen(p, port=rport)
    check(_roundtrip(rport, b"nobody there") == b"",
          "a -R forward to a closed port carried data")
    check(ctx.wait_log(r"^channel \d+: open failed: connect failed: "
                       r"Connection refused$"),
          "no 'channel N: open failed: connect failed: Connection refused' "
          "line for the client's refusal")
    _stop(p)


@timeout(60)
def test_forward_cancel(ctx):
    """-O forward / -O cancel through a control master: a TCP forward
    and a socket forward are cancelled, their listeners gone."""
    ctx.start_server()
    user = ctx.make_user()
    echo = _echo(ctx)
    d = _user_dir(ctx, user, "socks")
    ctl = os.path.join(ctx.dir, "ctl")
    master = _client(ctx, user, [], extra=["-M", "-S", ctl])
    check(harness.poll_until(lambda: os.path.exists(ctl) or
                             master.poll() is not None, 15)
          and master.poll() is None, "control master did not start")

    def mux(*args):
        r = harness.run(["ssh", "-S", ctl] + list(args) + ["x"],
                        check_rc=False)
        check(r.returncode == 0, "ssh -S %s: %s" % (" ".join(args),
                                                     r.stderr))
        return r.stdout.decode().strip()

    port = harness.free_port()
    mux("-O", "forward", "-R", "%d:127.0.0.1:%d" % (port, echo.port))
    check(_roundtrip(port, b"mux") == b"mux", "-O forward -R did not echo")
    mux("-O", "cancel", "-R", "%d:127.0.0.1:%d" % (port, echo.port))
    check(harness.poll_until(lambda: not harness.port_listening(port), 10),
          "cancel-tcpip-forward left port %d listening" % port)
    spath = os.path.join(d, "mux.sock")
    mux("-O", "forward", "-R", "%s:127.0.0.1:%d" % (spath, echo.port))
    check(_roundtrip(spath, b"sock") == b"sock", "socket forward failed")
    mux("-O", "cancel", "-R", "%s:127.0.0.1:%d" % (spath, echo.port))
    check(harness.poll_until(lambda: not os.path.exists(spath), 10),
          "cancel-streamlocal-forward left the socket")
    check(ctx.wait_log(r"cancel-tcpip-forward addr \S+ port %d" % port),
          "no cancel-tcpip-forward line")
    _stop(master)


# --- a client that is not OpenSSH's -------------------------------------------

_PARAMIKO = r'''
import json, socket, sys, time
import paramiko
from paramiko.message import Message

port, user, key, echo = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
res = {}
t = paramiko.Transport(("127.0.0.1", port))
t.connect(username=user, pkey=paramiko.Ed25519Key(filename=key))

def try_open(dest):
    try:
        ch = t.open_channel("direct-tcpip", dest, ("127.0.0.1", 1), timeout=10)
        ch.sendall(b"pm")
        got = ch.recv(2)
        ch.close()
        return got.decode()
    except paramiko.ChannelException as e:
        return e.code

res["ok"] = try_open(("127.0.0.1", echo))
res["bigport"] = try_open(("127.0.0.1", 70000))
res["longhost"] = try_open(("h" * 2000, 80))
res["refused"] = try_open(("127.0.0.1", int(sys.argv[5])))

p = t.request_port_forward("127.0.0.1", 0)
res["alloc"] = p
s = socket.create_connection(("127.0.0.1", p), 10)
ch = t.accept(10)
res["accepted"] = ch is not None
if ch is not None:
    s.sendall(b"rfwd")
    res["rdata"] = ch.recv(4).decode()
    ch.close()
s.close()
t.cancel_port_forward("127.0.0.1", p)
time.sleep(0.5)
try:
    socket.create_connection(("127.0.0.1", p), 2).close()
    res["after_cancel"] = "listening"
except OSError:
    res["after_cancel"] = "closed"

# A confirmation for a channel we never opened ends the connection.
m = Message()
m.add_byte(bytes([91]))
m.add_int(999)
m.add_int(0)
m.add_int(1 << 20)
m.add_int(32768)
t._send_user_message(m)
end = time.time() + 15
while t.is_active() and time.time() < end:
    time.sleep(0.1)
res["alive"] = t.is_active()
print(json.dumps(res))
'''


@timeout(60)
def test_forward_paramiko(ctx):
    """paramiko: direct-tcpip with a port above 65535 and a host name too
    long (prohibited), a closed port (connect failed), a port-0 forward
    and its cancel, and an OPEN_CONFIRMATION for no channel (the
    connection ends, the server lives)."""
    ctx.start_server()
    user = ctx.make_user()
    echo = _echo(ctx)
    script = os.path.join(ctx.dir, "pm.py")
    with open(script, "w") as f:
        f.write(_PARAMIKO)
    r = harness.run(["/usr/bin/python3", script, str(ctx.port), user.name,
                     user.key, str(echo.port), str(harness.free_port())],
                    check_rc=False, timeout_s=45)
    out = r.stdout.decode(errors="replace").strip().splitlines()
    check(r.returncode == 0 and out, "paramiko script failed: %s"
          % r.stderr.decode(errors="replace")[-2000:])
    res = json.loads(out[-1])
    check(res["ok"] == "pm", "direct-tcpip through paramiko: %r" % res)
    check(res["bigport"] == 1 and res["longhost"] == 1,
          "bad direct-tcpip fields not refused as prohibited: %r" % res)
    check(res["refused"] == 2, "closed port not 'connect failed': %r" % res)
    check(res["alloc"] > 0 and res["accepted"] and res["rdata"] == "rfwd",
          "port-0 forward through paramiko: %r" % res)
    check(res["after_cancel"] == "closed",
          "cancel-tcpip-forward left the port listening")
    check(not res["alive"], "OPEN_CONFIRMATION for no channel was accepted")
    check(ctx.wait_log(r"message 91 for channel 999"),
          "no log line for the stray confirmation")
    check(ctx.server_alive(), "the listener died")


_CLOSE_NO_EOF = r"""
import hashlib, json, os, socket, sys, time
import paramiko
from paramiko.common import cMSG_CHANNEL_CLOSE
from paramiko.message import Message

port, user, key, tport = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                          int(sys.argv[4]))
t = paramiko.Transport(("127.0.0.1", port))
t.connect(username=user, pkey=paramiko.Ed25519Key(filename=key))
ch = t.open_channel("direct-tcpip", ("127.0.0.1", tport), ("127.0.0.1", 1),
                    timeout=10)
# Fill the server's window: the target does not read, so what the
# server holds for it is more than its socket takes.
ch.settimeout(5)
h, n, chunk = hashlib.sha256(), 0, os.urandom(32768)
while n < 64 << 20:
    try:
        k = ch.send(chunk)
    except socket.timeout:
        break
    h.update(chunk[:k])
    n += k
# CLOSE with no EOF before it, as Go's x/crypto/ssh Channel.Close() does.
m = Message()
m.add_byte(cMSG_CHANNEL_CLOSE)
m.add_int(ch.remote_chanid)
ch.closed = True
t._send_user_message(m)
# The server's CLOSE in answer: it has taken ours.
end = time.monotonic() + 30
while t._channels.get(ch.chanid) is not None and time.monotonic() < end:
    time.sleep(0.05)
print(json.dumps({"sent": n, "sha": h.hexdigest(),
                  "answered": t._channels.get(ch.chanid) is None}),
      flush=True)
sys.stdin.read()  # the connection stays up until the test is done
t.close()
"""


@timeout(90)
def test_forward_close_without_eof(ctx):
    """A client that sends data and then CLOSE without an EOF (Go's
    x/crypto/ssh): everything it sent still reaches a slow target, as
    with sshd; the connection stays up meanwhile."""
    ctx.start_server()
    user = ctx.make_user()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ctx.cleanups.append(ls.close)
    go = threading.Event()
    got = {}

    def target():
        c, _ = ls.accept()
        go.wait(60)
        h, n = hashlib.sha256(), 0
        c.settimeout(30)
        try:
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                h.update(b)
                n += len(b)
        except OSError as e:
            got["error"] = repr(e)
        got.update(n=n, sha=h.hexdigest())
        c.close()

    th = threading.Thread(target=target, daemon=True)
    th.start()
    script = os.path.join(ctx.dir, "close_no_eof.py")
    with open(script, "w") as f:
        f.write(_CLOSE_NO_EOF)
    p = ctx.popen(["/usr/bin/python3", script, str(ctx.port), user.name,
                   user.key, str(ls.getsockname()[1])],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    line = p.stdout.readline()
    if not line:
        fail("paramiko script failed: %s"
             % p.stderr.read().decode(errors="replace")[-2000:])
    sent = json.loads(line)
    check(sent["answered"], "the server did not answer the CLOSE")
    go.set()
    th.join(60)
    p.stdin.close()
    p.wait(10)
    check(not th.is_alive(), "the target saw no EOF")
    check(got.get("n") == sent["sent"] and got.get("sha") == sent["sha"],
          "after CLOSE without EOF the target got %s of %d bytes (%s)"
          % (got.get("n"), sent["sent"], got.get("error", "no error")))


@timeout(90)
def test_forward_certificate_extension(ctx):
    """A user certificate allows forwarding only with its
    permit-port-forwarding extension."""
    ca = ctx.new_key("ca")
    ctx.start_server(["TrustedUserCAKeys %s.pub" % ca])
    user = ctx.make_user(with_key=False)
    echo = _echo(ctx)
    key = ctx.new_key("fwdcert")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "with-fwd", "-n",
                 user.name, key + ".pub"])
    _local_ok(ctx, user, "127.0.0.1:%d" % echo.port, key=key)
    os.unlink(key + "-cert.pub")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "no-fwd", "-n",
                 user.name, "-O", "clear", "-O", "permit-pty", key + ".pub"])
    _local_denied(ctx, user, "127.0.0.1:%d" % echo.port,
                  r"refused local port forward: originator 127\.0\.0\.1 "
                  r"port \d+, target 127\.0\.0\.1 port %d" % echo.port,
                  key=key)
