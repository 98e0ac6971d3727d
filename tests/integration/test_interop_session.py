"""
test_interop_session.py: sessions beyond login + one command (issue 6)
with clients other than OpenSSH's: port forwarding (dbclient -L/-R, plink
-L/-R, paramiko's direct-tcpip channel and request_port_forward,
asyncssh's forward_local_port/forward_remote_port), each moving a few
hundred KB through an echo server and back intact; pty sessions (plink
-t, dbclient -t, paramiko get_pty, asyncssh term_type: `tty` prints a
/dev/pts path and TERM arrives); exit status and stdout/stderr kept apart;
PuTTY's non-simple mode (a forwarding configured makes plink size its
window from the round trip of its winadj@putty.projects.tartarus.org
requests, which the server must answer with CHANNEL_FAILURE) moving 5 MB
each way.
"""

import hashlib
import os
import pty
import re
import secrets
import socket
import subprocess
import threading

import interop_clients as ic
from harness import check, free_port, poll_until, port_listening, timeout


class EchoServer:
    """A loopback TCP server that echoes every connection until EOF."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                c.sendall(b)

    def close(self):
        self.sock.close()


def echo_through(port, size=300 * 1024):
    """Send SIZE random bytes through 127.0.0.1:PORT; True if all came
    back unchanged."""
    data = os.urandom(size)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    got = bytearray()

    def reader():
        while True:
            b = s.recv(65536)
            if not b:
                break
            got.extend(b)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(20)
    s.close()
    return bytes(got) == data, len(got)


def _forward_cli(ctx, argv, env, label, listen_port, check_port):
    """Start a forwarding client, wait for its listener, echo through
    check_port, stop it."""
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=ctx.dir)
    ctx.children.append(p)
    try:
        ok = poll_until(lambda: p.poll() is not None or
                        port_listening(listen_port), 15)
        check(ok and p.poll() is None, "%s: no listener on port %d (rc %s)"
              % (label, listen_port, p.poll()))
        same, n = echo_through(check_port)
        check(same, "%s: %d bytes came back, not the %d sent"
              % (label, n, 300 * 1024))
    finally:
        p.terminate()
        try:
            p.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


@timeout(90)
def test_cli_clients_forward_local_and_remote(ctx):
    """dbclient and plink, -L and -R, through the same server."""
    ctx.start_server()
    u = ctx.make_user()
    echo = EchoServer()
    env = ic.client_env(ctx)
    try:
        for label, mk in (
                ("dbclient", lambda fwd: ["dbclient", "-y", "-y", "-N",
                                          "-p", str(ctx.port), "-i",
                                          ic.dropbear_key(u.key)] + fwd +
                 ["%s@127.0.0.1" % u.name]),
                ("plink", lambda fwd: ["plink", "-ssh", "-batch", "-noagent",
                                       "-N", "-P", str(ctx.port)] +
                 ic.putty_hostkey_args(ctx) + ["-i", ic.ppk(u.key),
                                               "-l", u.name] + fwd +
                 ["127.0.0.1"])):
            lport = free_port()
            _forward_cli(ctx, mk(["-L", "%d:127.0.0.1:%d"
                                  % (lport, echo.port)]),
                         env, label + " -L", lport, lport)
            rport = free_port()
            _forward_cli(ctx, mk(["-R", "%d:127.0.0.1:%d"
                                  % (rport, echo.port)]),
                         env, label + " -R", rport, rport)
    finally:
        echo.close()
    check(ctx.wait_log(r"tcpip-forward", 5),
          "no tcpip-forward in the server log")


PARAMIKO_FORWARD = ic.PARAMIKO_PRELUDE + r"""
port, user, key, echo_port = sys.argv[1:5]
echo_port = int(echo_port)
t = transport(port)
t.auth_publickey(user, load_key(key))
res = {}
data = os.urandom(256 * 1024)

def pump(ch):
    ch.sendall(data)
    ch.shutdown_write()
    got = read_all(ch.recv)
    ch.close()
    return got == data

# direct-tcpip: the server connects to the echo server.
ch = t.open_channel("direct-tcpip", ("127.0.0.1", echo_port),
                    ("127.0.0.1", 40000), timeout=20)
res["direct"] = pump(ch)

# tcpip-forward: the server listens; we connect to it; the channel it opens
# to us echoes.
rport = t.request_port_forward("127.0.0.1", 0)
res["rport"] = rport
got = []
def connect():
    s = socket.create_connection(("127.0.0.1", rport), timeout=20)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    buf = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    got.append(buf == data)
th = __import__("threading").Thread(target=connect)
th.start()
ch = t.accept(20)
if ch is None:
    raise SystemExit("no forwarded-tcpip channel")
buf = b""
while len(buf) < len(data):
    b = ch.recv(65536)
    if not b:
        break
    buf += b
ch.sendall(buf)
ch.shutdown_write()
ch.close()
th.join(20)
res["remote"] = got == [True]
t.cancel_port_forward("127.0.0.1", rport)
t.close()
print(json.dumps(res))
"""

ASYNCSSH_FORWARD = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, echo_port = sys.argv[1:6]
echo_port = int(echo_port)
data = os.urandom(256 * 1024)

async def through(p):
    r, w = await asyncio.open_connection("127.0.0.1", p)
    w.write(data)
    await w.drain()
    w.write_eof()
    got = await r.read()
    w.close()
    return got == data

async def main():
    res = {}
    async with await connect(port, user, key, hostkeys) as conn:
        lst = await conn.forward_local_port("127.0.0.1", 0, "127.0.0.1",
                                            echo_port)
        res["local"] = await through(lst.get_port())
        lst.close()
        rl = await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1",
                                            echo_port)
        res["remote"] = await through(rl.get_port())
        rl.close()
    print(json.dumps(res))

asyncio.run(main())
"""


@timeout(90)
def test_python_clients_forwarding(ctx):
    ctx.start_server()
    u = ctx.make_user()
    echo = EchoServer()
    try:
        res = ic.run_python(ctx, "paramiko_fwd.py", PARAMIKO_FORWARD,
                            [ctx.port, u.name, u.key, echo.port],
                            "paramiko forwarding")
        check(res["direct"], "paramiko direct-tcpip: data changed")
        check(res["remote"], "paramiko request_port_forward: data changed")
        res = ic.run_python(ctx, "asyncssh_fwd.py", ASYNCSSH_FORWARD,
                            [ctx.port, u.name, u.key, ctx.host_key,
                             echo.port], "asyncssh forwarding")
        check(res == {"local": True, "remote": True},
              "asyncssh forwarding: %r" % res)
    finally:
        echo.close()


PARAMIKO_PTY = ic.PARAMIKO_PRELUDE + r"""
port, user, key = sys.argv[1:4]
t = transport(port)
t.auth_publickey(user, load_key(key))
ch = t.open_session()
ch.get_pty(term="vt220", width=91, height=33)
ch.exec_command("tty; echo TERM=$TERM; stty size")
out = read_all(ch.recv)
st = ch.recv_exit_status()
t.close()
print(json.dumps([out.decode(), st]))
"""

ASYNCSSH_PTY = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys = sys.argv[1:5]

async def main():
    async with await connect(port, user, key, hostkeys) as conn:
        r = await conn.run("tty; echo TERM=$TERM; stty size",
                           term_type="xterm-256color", term_size=(77, 22))
        print(json.dumps([r.stdout, r.exit_status]))

asyncio.run(main())
"""


def _check_tty(label, out, term, size=None):
    lines = [l.strip() for l in out.replace("\r", "").splitlines()]
    check(lines and lines[0].startswith("/dev/pts/"),
          "%s: tty printed %r" % (label, out[:200]))
    check("TERM=" + term in lines, "%s: no TERM=%s in %r"
          % (label, term, out[:200]))
    if size:
        check(size in lines, "%s: stty size not %r in %r"
              % (label, size, out[:200]))


@timeout(60)
def test_pty_sessions(ctx):
    ctx.start_server()
    u = ctx.make_user()
    env = ic.client_env(ctx)
    env["TERM"] = "xterm"
    cmd = "tty; echo TERM=$TERM"
    p = ic.run_client(ctx, ic.plink_argv(ctx, u, cmd, extra=["-t"]), env,
                      "plink -t", input_=b"")
    ic.expect_ok(p, "plink -t")
    _check_tty("plink -t", p.stdout.decode(), "xterm")
    # dbclient -t puts its stdin in raw mode, so that must be a terminal.
    master, slave = pty.openpty()
    try:
        p = subprocess.run(ic.dbclient_argv(ctx, u, cmd, ["-t"]), env=env,
                           stdin=slave, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
    finally:
        os.close(slave)
        os.close(master)
    ic.expect_ok(p, "dbclient -t")
    _check_tty("dbclient -t", p.stdout.decode(), "xterm")
    res = ic.run_python(ctx, "paramiko_pty.py", PARAMIKO_PTY,
                        [ctx.port, u.name, u.key], "paramiko pty")
    check(res[1] == 0, "paramiko pty exit %r" % res[1])
    _check_tty("paramiko get_pty", res[0], "vt220", "33 91")
    res = ic.run_python(ctx, "asyncssh_pty.py", ASYNCSSH_PTY,
                        [ctx.port, u.name, u.key, ctx.host_key],
                        "asyncssh pty")
    check(res[1] == 0, "asyncssh pty exit %r" % res[1])
    _check_tty("asyncssh term_type", res[0], "xterm-256color", "22 77")


PARAMIKO_STATUS = ic.PARAMIKO_PRELUDE + r"""
port, user, key, cmd = sys.argv[1:5]
t = transport(port)
t.auth_publickey(user, load_key(key))
out, err, st = exec_(t, cmd)
t.close()
print(json.dumps([out.decode(), err.decode(), st]))
"""

ASYNCSSH_STATUS = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, cmd = sys.argv[1:6]

async def main():
    async with await connect(port, user, key, hostkeys) as conn:
        r = await conn.run(cmd)
        print(json.dumps([r.stdout, r.stderr, r.exit_status]))

asyncio.run(main())
"""


@timeout(60)
def test_exit_status_and_stderr(ctx):
    """Exit status 7, 'out' on stdout only and 'err' on stderr only, with
    every client."""
    ctx.start_server()
    u = ctx.make_user()
    env = ic.client_env(ctx)
    cmd = "echo out; echo err >&2; exit 7"
    for label, argv in (("plink", ic.plink_argv(ctx, u, cmd)),
                        ("dbclient", ic.dbclient_argv(ctx, u, cmd))):
        p = ic.run_client(ctx, argv, env, label)
        check(p.returncode == 7, "%s exited %s" % (label, p.returncode))
        check(p.stdout == b"out\n", "%s stdout %r" % (label, p.stdout))
        check(b"err\n" in p.stderr and b"out" not in p.stderr,
              "%s stderr %r" % (label, p.stderr))
    res = ic.run_python(ctx, "paramiko_status.py", PARAMIKO_STATUS,
                        [ctx.port, u.name, u.key, cmd], "paramiko")
    check(res == ["out\n", "err\n", 7], "paramiko: %r" % res)
    res = ic.run_python(ctx, "asyncssh_status.py", ASYNCSSH_STATUS,
                        [ctx.port, u.name, u.key, ctx.host_key, cmd],
                        "asyncssh")
    check(res == ["out\n", "err\n", 7], "asyncssh: %r" % res)


@timeout(60)
def test_plink_winadj_bulk(ctx):
    ctx.start_server()
    u = ctx.make_user()
    data = os.urandom(5 * 1024 * 1024)
    with open(os.path.join(u.home, "big"), "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    env = ic.client_env(ctx)
    fwd = ["-L", "%d:127.0.0.1:9" % free_port()]
    off = len(ctx.server_log())
    p = ic.run_client(ctx, ic.plink_argv(ctx, u, "cat big", extra=fwd), env,
                      "plink download", input_=b"")
    ic.expect_ok(p, "plink download")
    check(hashlib.sha256(p.stdout).hexdigest() == sha,
          "plink download: %d bytes, sha256 differs" % len(p.stdout))
    p = ic.run_client(ctx, ic.plink_argv(ctx, u, "sha256sum", extra=fwd), env,
                      "plink upload", input_=data)
    ic.expect_ok(p, "plink upload")
    check(p.stdout.split()[:1] == [sha.encode()], "plink upload: %r"
          % p.stdout[:80])
    check("rtype winadj@putty.projects.tartarus.org reply 1"
          in ctx.server_log()[off:],
          "plink sent no winadj request (not in non-simple mode?)")


ASYNCSSH_X11 = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, cmd = sys.argv[1:6]

async def main():
    async with await connect(port, user, key, hostkeys) as conn:
        r = await conn.run(cmd, x11_forwarding=True)
        print(json.dumps([r.stdout, r.stderr, r.exit_status]))

asyncio.run(main())
"""


@timeout(60)
def test_x11_forwarding_plink_asyncssh(ctx):
    """plink -X and asyncssh's x11_forwarding with Xvfb as the client's
    display: xdpyinfo on the server reaches it through the forwarded
    channel (each client substitutes its own cookie for the fake one
    postern's xauth stored). dropbear's client has no X11 forwarding."""
    from test_agent_x11 import X11_CMD, _xvfb
    u = ctx.make_user()
    ctx.start_server(["X11Forwarding yes"])
    xenv = _xvfb(ctx)
    env = ic.client_env(ctx)
    env["DISPLAY"] = xenv["DISPLAY"]
    env["XAUTHORITY"] = xenv["XAUTHORITY"]
    p = ic.run_client(ctx, ic.plink_argv(ctx, u, X11_CMD, extra=["-X"]),
                      env, "plink -X", input_=b"")
    ic.expect_ok(p, "plink -X")
    out = p.stdout.decode()
    check(re.search(r"^DISPLAY=localhost:\d+\.0$", out, re.M) and
          "640x480 pixels" in out, "plink -X: %r %r" % (out, p.stderr[-300:]))
    res = ic.run_python(ctx, "asyncssh_x11.py", ASYNCSSH_X11,
                        [ctx.port, u.name, u.key, ctx.host_key, X11_CMD],
                        "asyncssh x11",
                        env_extra={k: xenv[k] for k in ("DISPLAY",
                                                         "XAUTHORITY")})
    check(res[2] == 0 and "640x480 pixels" in res[0],
          "asyncssh x11: %r" % res)


PARAMIKO_AGENT = ic.PARAMIKO_PRELUDE + r"""
import paramiko.agent
port, user, key = sys.argv[1:4]
t = transport(port)
t.auth_publickey(user, load_key(key))
ch = t.open_session()
handler = paramiko.agent.AgentRequestHandler(ch)
ch.exec_command("ssh-add -l")
out = read_all(ch.recv)
st = ch.recv_exit_status()
t.close()
print(json.dumps([out.decode(), st]))
"""

ASYNCSSH_AGENT = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, sock = sys.argv[1:6]

async def main():
    async with asyncssh.connect(
            "127.0.0.1", int(port), username=user, client_keys=[key],
            known_hosts=None, agent_path=sock,
            agent_forwarding=True) as conn:
        r = await conn.run("ssh-add -l")
        print(json.dumps([r.stdout, r.exit_status]))

asyncio.run(main())
"""


@timeout(60)
def test_agent_forwarding_clients(ctx):
    """dbclient -A, paramiko's AgentRequestHandler and asyncssh's
    agent_forwarding: `ssh-add -l` on the server lists the key held by
    the client's ssh-agent. (plink -A needs PuTTY's Pageant, which
    putty-tools does not ship.)"""
    ctx.start_server()
    u = ctx.make_user()
    sock = os.path.join(ctx.dir, "agent.sock")
    agent = ctx.popen(["ssh-agent", "-D", "-a", sock],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx.cleanups.append(lambda: agent.poll() is None and
                        (agent.terminate(), agent.wait(5)))
    check(poll_until(lambda: os.path.exists(sock), 10), "no agent socket")
    extra_key = ctx.new_key("agentkey")
    env = ic.client_env(ctx)
    env["SSH_AUTH_SOCK"] = sock
    run_ok = subprocess.run(["ssh-add", extra_key], env=env,
                            capture_output=True, timeout=10)
    check(run_ok.returncode == 0, "ssh-add: %r" % run_ok.stderr)
    fp = ic.fingerprint(extra_key + ".pub")
    p = ic.run_client(ctx, ic.dbclient_argv(ctx, u, "ssh-add -l", ["-A"]),
                      env, "dbclient -A", input_=b"")
    ic.expect_ok(p, "dbclient -A")
    check(fp in p.stdout.decode(), "dbclient -A: %r" % p.stdout)
    res = ic.run_python(ctx, "paramiko_agent.py", PARAMIKO_AGENT,
                        [ctx.port, u.name, u.key], "paramiko agent",
                        env_extra={"SSH_AUTH_SOCK": sock})
    check(res[1] == 0 and fp in res[0], "paramiko agent: %r" % res)
    res = ic.run_python(ctx, "asyncssh_agent.py", ASYNCSSH_AGENT,
                        [ctx.port, u.name, u.key, ctx.host_key, sock],
                        "asyncssh agent")
    check(res[1] == 0 and fp in res[0], "asyncssh agent: %r" % res)


@timeout(60)
def test_plink_jump_through_nc(ctx):
    """plink -proxycmd 'plink -nc 127.0.0.1:PORT ...': the outer login
    runs over a direct-tcpip channel of the inner one (PuTTY's form of
    ssh -J), both to postern."""
    ctx.start_server()
    u = ctx.make_user()
    env = ic.client_env(ctx)
    inner = ic.plink_argv(ctx, u, "x", extra=["-nc", "127.0.0.1:%d"
                                               % ctx.port])[:-1]
    tok = secrets.token_hex(4)
    # PuTTY does not proxy connections to localhost unless told to.
    ic.putty_session(ctx, "jump", {"ProxyLocalhost": 1})
    argv = ic.plink_argv(ctx, u, "echo hi " + tok, "jump",
                         extra=["-proxycmd", " ".join(inner)])
    p = ic.run_client(ctx, argv, env, "plink -proxycmd", input_=b"")
    ic.expect_ok(p, "plink -proxycmd", ("hi %s\n" % tok).encode())
    def logins():
        return len(re.findall(r"^Accepted publickey for %s " % u.name,
                              ctx.server_log(), re.M))
    poll_until(lambda: logins() >= 2, 10)
    check(logins() == 2, "%d logins, want two (one through the other):\n%s"
          % (logins(), ctx.server_log()[-2000:]))
