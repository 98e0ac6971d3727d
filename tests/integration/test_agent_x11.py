"""
test_agent_x11.py: agent forwarding and X11 forwarding with the real
OpenSSH client: `ssh -A` with a real ssh-agent on the client side, then
`ssh-add -l` in the session lists the client's key through the forwarded
socket, which is gone after logout; `ssh -X` with Xvfb as the client's
display, then xdpyinfo (x11-utils) in the session talks to it through
the forwarded display. Every denial: AllowAgentForwarding no,
no-agent-forwarding, X11Forwarding no, no-X11-forwarding, restrict,
DisableForwarding.
"""

import json
import os
import re
import signal
import socket
import subprocess

import harness
from harness import check, fail

# mkdtemp(3) fills exactly six X: no literal X left in the name.
SOCK_RX = re.compile(r"^SOCK=(/tmp/ssh-[A-Za-z0-9]{10}/agent\.\d+)$", re.M)


def _agent(ctx, key):
    """A real ssh-agent holding key; returns the environment for ssh."""
    sock = os.path.join(ctx.dir, "client-agent.sock")
    ctx.popen(["ssh-agent", "-D", "-a", sock], stdin=subprocess.DEVNULL,
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    check(harness.poll_until(lambda: os.path.exists(sock), 10),
          "ssh-agent did not create %s" % sock)
    env = dict(os.environ, SSH_AUTH_SOCK=sock)
    last = []

    def add():
        # The socket exists from bind(); it answers once it listens.
        p = subprocess.run(["ssh-add", key], env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        last[:] = [p.stderr]
        return p.returncode == 0
    check(harness.poll_until(add, 10), "ssh-add failed: %r" % last)
    return env


def _ssh_env(ctx, u, command, env, extra=(), timeout_s=30):
    argv = ctx.ssh_argv(u, command, extra=extra)
    p = ctx.popen(argv, env=env, stdin=subprocess.DEVNULL,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        fail("ssh timed out: %s" % command)
    ctx._note_client(argv, p.returncode, err)
    return harness.Result(argv, p.returncode, out, err)


AGENT_CMD = 'echo "SOCK=${SSH_AUTH_SOCK:-none}"; ' \
            'if [ -n "$SSH_AUTH_SOCK" ]; then ' \
            'stat -c "DIR=%a %U" "$(dirname "$SSH_AUTH_SOCK")"; ' \
            'ssh-add -l; fi'


def test_agent_forwarding(ctx):
    u = ctx.make_user()
    ctx.start_server()
    env = _agent(ctx, u.key)
    fp = harness.fingerprint(u.pubkey)
    r = _ssh_env(ctx, u, AGENT_CMD, env, extra=("-A",))
    check(r.rc == 0, "ssh -A failed: rc %s %s %r" % (r.rc, r.err, r.out))
    m = SOCK_RX.search(r.out)
    check(m, "no SSH_AUTH_SOCK like /tmp/ssh-XXXXXXXXXX/agent.PID in the "
          "session: %r" % r.out)
    # Ten random characters, as sshd's name (glibc's mkdtemp draws only
    # six: "/tmp/ssh-XXXX..."; the chance of a random XXXX is 62^-4).
    check(not m.group(1).startswith("/tmp/ssh-XXXX"),
          "the directory's name is not random all through: %s" % m.group(1))
    check("DIR=700 %s" % u.name in r.out,
          "the socket's directory is not 0700 and the user's: %r" % r.out)
    check(fp in r.out, "ssh-add -l in the session does not list the "
          "client's key %s: %r" % (fp, r.out))
    sockdir = os.path.dirname(m.group(1))
    check(harness.poll_until(lambda: not os.path.exists(sockdir), 15),
          "the agent socket directory %s is still there after logout"
          % sockdir)


def _agent_session(ctx, u, env):
    """A session with a forwarded agent: (ssh process, socket path)."""
    argv = ctx.ssh_argv(u, 'echo "SOCK=$SSH_AUTH_SOCK"; sleep 60',
                        extra=("-A",))
    p = ctx.popen(argv, env=env, stdin=subprocess.DEVNULL,
                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    m = SOCK_RX.search(line)
    check(m, "no agent socket in the session: %r" % line)
    check(os.path.exists(m.group(1)), "%s does not exist" % m.group(1))
    return p, m.group(1)


def test_agent_socket_removed_on_drop(ctx):
    """The connection dies (client killed), or the session process is
    told to terminate: the socket and its directory still go."""
    u = ctx.make_user()
    ctx.start_server()
    env = _agent(ctx, u.key)
    p, sock = _agent_session(ctx, u, env)
    p.kill()
    p.wait()
    check(harness.poll_until(
        lambda: not os.path.exists(os.path.dirname(sock)), 20),
        "the agent socket directory of %s outlived the connection" % sock)

    def user_sessions():
        out = []
        for q in harness.descendants(ctx.proc.pid):
            try:
                if (os.path.basename(harness.exe_of(q)) == "postern-session"
                        and os.stat("/proc/%d" % q).st_uid == u.uid):
                    out.append(q)
            except OSError:
                pass
        return out
    # The first session process may still be exiting (slowly under ASan):
    # the SIGTERM below is for the second one's.
    check(harness.poll_until(lambda: not user_sessions(), 20),
          "the first session process outlived its connection")
    p, sock = _agent_session(ctx, u, env)
    check(harness.poll_until(user_sessions, 15), "no session process")
    spid = user_sessions()[0]
    os.kill(spid, signal.SIGTERM)
    check(harness.poll_until(
        lambda: not os.path.exists(os.path.dirname(sock)), 20),
        "the agent socket directory of %s outlived SIGTERM to the session "
        "process" % sock)
    p.wait(20)


def _denied(ctx, u, env, what, cmd, flag, marker):
    """cmd runs, but the forwarding that flag asks for is not granted."""
    r = _ssh_env(ctx, u, cmd, env, extra=(flag,))
    check(r.rc == 0, "%s: ssh failed: rc %s %s" % (what, r.rc, r.err))
    check(marker in r.out, "%s: %s was granted: %r" % (what, flag, r.out))


def _agent_denied(ctx, u, env, what):
    _denied(ctx, u, env, what, AGENT_CMD, "-A", "SOCK=none")


def test_agent_denials(ctx):
    u = ctx.make_user()
    ctx.start_server(extra_config=["Match User %s" % u.name,
                                   "    AllowAgentForwarding no"])
    env = _agent(ctx, u.key)
    _agent_denied(ctx, u, env, "AllowAgentForwarding no (in Match)")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server(extra_config=["DisableForwarding yes"])
    _agent_denied(ctx, u, env, "DisableForwarding yes")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server()
    for opts in ("no-agent-forwarding", "restrict"):
        ak = os.path.join(u.home, ".ssh", "authorized_keys")
        os.unlink(ak)
        ctx.authorize(u, u.pubkey, options=opts)
        _agent_denied(ctx, u, env, opts)
    # restrict,agent-forwarding gives it back.
    os.unlink(os.path.join(u.home, ".ssh", "authorized_keys"))
    ctx.authorize(u, u.pubkey, options="restrict,agent-forwarding")
    r = _ssh_env(ctx, u, AGENT_CMD, env, extra=("-A",))
    check(SOCK_RX.search(r.out), "restrict,agent-forwarding: no agent "
          "socket: %r %s" % (r.out, r.err))


# --- X11 -------------------------------------------------------------------


def _display_in_use(n):
    """A lock file whose server is gone (killed) does not hold the number:
    Xvfb takes such a display over, its stale socket too."""
    try:
        with open("/tmp/.X%d-lock" % n) as f:
            pid = int(f.read().strip())
    except FileNotFoundError:
        return os.path.exists("/tmp/.X11-unix/X%d" % n)
    except (OSError, ValueError):
        return True
    return os.path.exists("/proc/%d" % pid)


def _x_listening(n):
    """The display's socket accepts (a stale file left behind does not)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect("/tmp/.X11-unix/X%d" % n)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _free_display():
    """A display number no running X server holds."""
    for n in range(150, 400):
        if not _display_in_use(n):
            return n
    fail("no free X display number")


def _xvfb(ctx):
    """Xvfb as the client's display; returns the client's environment."""
    for _ in range(5):
        n = _free_display()
        p = ctx.popen(["Xvfb", ":%d" % n, "-nolisten", "tcp", "-screen",
                       "0", "640x480x24"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Ended with SIGTERM, Xvfb removes its lock file and socket.
        ctx.cleanups.append(lambda p=p: p.poll() is None and
                            (p.terminate(), p.wait(10)))
        if harness.poll_until(
                lambda: p.poll() is not None or
                _x_listening(n), 15) and p.poll() is None:
            env = dict(os.environ, DISPLAY=":%d" % n)
            env.pop("XAUTHORITY", None)
            # The client needs xauth data to make its fake cookie.
            xa = os.path.join(ctx.dir, "client.Xauthority")
            env["XAUTHORITY"] = xa
            harness.run(["xauth", "-f", xa, "generate", ":%d" % n, ".",
                         "trusted"], check_rc=False, env=env)
            return env
    fail("Xvfb did not start")


X11_CMD = 'echo "DISPLAY=${DISPLAY:-none}"; ' \
          'if [ -n "$DISPLAY" ]; then xdpyinfo | grep -E ' \
          '"(name of display|dimensions):"; fi'


def test_x11_forwarding(ctx):
    u = ctx.make_user()
    ctx.start_server(extra_config=["X11Forwarding yes"])
    env = _xvfb(ctx)
    r = _ssh_env(ctx, u, X11_CMD, env, extra=("-X",))
    check(r.rc == 0, "ssh -X failed: rc %s %s %r" % (r.rc, r.err, r.out))
    m = re.search(r"^DISPLAY=localhost:(\d+)\.0$", r.out, re.M)
    check(m and int(m.group(1)) >= 10,
          "DISPLAY is not localhost:N.0 with N >= X11DisplayOffset 10: %r"
          % r.out)
    check("name of display:    localhost:%s.0" % m.group(1) in r.out and
          "640x480 pixels" in r.out,
          "xdpyinfo did not reach the client's Xvfb: %r %s" % (r.out, r.err))
    # The cookie reached the user's ~/.Xauthority for that display.
    xa = harness.run(["xauth", "-f", os.path.join(u.home, ".Xauthority"),
                      "list"], check_rc=False)
    check(("unix:%s" % m.group(1)).encode() in xa.stdout,
          "no xauth entry for unix:%s: %r" % (m.group(1), xa.stdout))


def test_x11_offset_beyond_ports_refuses_x11_only(ctx):
    """X11DisplayOffset 65000 (and an XAuthLocation longer than a path
    may be) pass -t, as in sshd; they leave no display to offer, so an
    X11 request is refused, but logins go on (the session refused its
    settings and every login failed)."""
    u = ctx.make_user()
    for extra in (["X11Forwarding yes", "X11DisplayOffset 65000"],
                  ["X11Forwarding yes", "XAuthLocation /" + "x" * 5000]):
        ctx.start_server(extra_config=extra)
        ctx.ssh_ok(u, "echo plain", expect_out=b"plain\n")
        env = _xvfb(ctx)
        r = _ssh_env(ctx, u, 'echo "DISPLAY=${DISPLAY:-none}"', env,
                     extra=("-X",))
        check(r.rc == 0 and r.out.strip() == "DISPLAY=none",
              "%s: ssh -X: rc %s %r %r" % (extra[1][:40], r.rc, r.out,
                                           r.err[-300:]))
        check("X11 forwarding request failed" in r.err,
              "%s: the client was not told: %r" % (extra[1][:40],
                                                   r.err[-300:]))
        ctx.stop_server()


def test_x11_xauth_or_rc(ctx):
    """As sshd(8) (SSHRC): without an rc file, XAuthLocation is run as
    `xauth -q -` with the session's environment and stdout/stderr (what it
    says reaches the client) and `remove`/`add` lines on its stdin; with
    ~/.ssh/rc, the rc gets "proto cookie" on its stdin and xauth is not
    run (the rc must call it)."""
    u = ctx.make_user()
    fake = os.path.join(u.home, "fake-xauth")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\necho "$@" > "$HOME/xauth.args"\n'
                'cat > "$HOME/xauth.in"\n'
                'echo "fake xauth for $USER ${SSH_CONNECTION:+with env}" '
                '>&2\n')
    os.chmod(fake, 0o755)
    ctx.start_server(extra_config=["X11Forwarding yes",
                                   "XAuthLocation " + fake])
    env = _xvfb(ctx)
    cmd = 'echo "DISPLAY=$DISPLAY"; cat "$HOME/xauth.args" "$HOME/xauth.in"'
    r = _ssh_env(ctx, u, cmd, env, extra=("-X",))
    m = re.search(r"^DISPLAY=localhost:(\d+)\.0$", r.out, re.M)
    check(r.rc == 0 and m, "ssh -X: rc %s %r %s" % (r.rc, r.out, r.err))
    d = "unix:%s.0" % m.group(1)
    want = re.compile(r"^-q -\nremove %s\nadd %s MIT-MAGIC-COOKIE-1 "
                      r"[0-9a-f]{32}$" % (re.escape(d), re.escape(d)), re.M)
    check(want.search(r.out), "xauth's arguments and stdin: %r" % r.out)
    check("fake xauth for %s with env" % u.name in r.err,
          "xauth's stderr (with the session's environment) did not reach "
          "the client: %r" % r.err)
    # With ~/.ssh/rc: the rc gets the data, xauth is not run.
    for name in ("xauth.args", "xauth.in"):
        os.unlink(os.path.join(u.home, name))
    rc = os.path.join(u.home, ".ssh", "rc")
    with open(rc, "w") as f:
        f.write('cat > "$HOME/rc.in"\n')
    r = _ssh_env(ctx, u, 'cat "$HOME/rc.in"; ls "$HOME"', env,
                 extra=("-X",))
    check(r.rc == 0 and re.match(r"MIT-MAGIC-COOKIE-1 [0-9a-f]{32}\n",
                                 r.out),
          "~/.ssh/rc did not get 'proto cookie': %r %s" % (r.out, r.err))
    check("xauth.in" not in r.out and "fake xauth" not in r.err,
          "xauth ran although ~/.ssh/rc exists: %r %s" % (r.out, r.err))


def test_x11_display_offset(ctx):
    u = ctx.make_user()
    ctx.start_server(extra_config=["X11Forwarding yes",
                                   "X11DisplayOffset 40"])
    env = _xvfb(ctx)
    r = _ssh_env(ctx, u, X11_CMD, env, extra=("-X",))
    m = re.search(r"^DISPLAY=localhost:(\d+)\.0$", r.out, re.M)
    check(r.rc == 0 and m and int(m.group(1)) >= 40 and
          "640x480 pixels" in r.out,
          "X11DisplayOffset 40: %r %s" % (r.out, r.err))


def test_x11_use_localhost(ctx):
    """X11UseLocalhost yes (default) listens on the loopback only, no on
    the wildcard address with DISPLAY naming the host."""
    u = ctx.make_user()
    env = _xvfb(ctx)
    cmd = 'echo "DISPLAY=$DISPLAY"; n=${DISPLAY#*:}; n=${n%%.*}; ' \
          'ss -ltnH "sport = :$((6000 + n))"'
    for use_localhost in ("yes", "no"):
        ctx.start_server(extra_config=["X11Forwarding yes",
                                       "X11UseLocalhost " + use_localhost])
        r = _ssh_env(ctx, u, cmd, env, extra=("-X",))
        ctx.stop_server()
        ctx.proc = None
        m = re.search(r"^DISPLAY=(.*):(\d+)\.0$", r.out, re.M)
        check(r.rc == 0 and m, "X11UseLocalhost %s: no DISPLAY: %r %s"
              % (use_localhost, r.out, r.err))
        addrs = re.findall(r"(\S+):%d\s" % (6000 + int(m.group(2))), r.out)
        if use_localhost == "yes":
            check(m.group(1) == "localhost" and "127.0.0.1" in addrs and
                  "0.0.0.0" not in addrs,
                  "X11UseLocalhost yes: %r" % r.out)
        else:
            check(m.group(1) == os.uname().nodename and "0.0.0.0" in addrs,
                  "X11UseLocalhost no: %r" % r.out)


# Runs in new mount, network and UTS namespaces: a host name longer than
# 32 characters that resolves (its own /etc/hosts) to a local address
# outside 127/8, the server, then the client.
_X11_NS = r"""
import json, os, socket, subprocess, sys, time
a = json.loads(sys.argv[1])
for cmd in (["ip", "link", "set", "lo", "up"],
            ["ip", "addr", "add", a["addr"] + "/32", "dev", "lo"],
            ["mount", "--bind", a["hosts"], "/etc/hosts"],
            ["hostname", a["host"]]):
    subprocess.run(cmd, check=True)
log = open(a["log"], "ab")
srv = subprocess.Popen([a["server"], "-D", "-e", "-f", a["config"]],
                       stdin=subprocess.DEVNULL, stdout=log, stderr=log)
end = time.monotonic() + 15
while time.monotonic() < end:
    try:
        socket.create_connection(("127.0.0.1", a["port"]), 1).close()
        break
    except OSError:
        time.sleep(0.05)
try:
    r = subprocess.run(a["argv"], env=a["env"], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=40)
    print(json.dumps({"rc": r.returncode, "out": r.stdout.decode(),
                      "err": r.stderr.decode()}))
finally:
    srv.terminate()
    srv.wait(10)
"""


def test_x11_use_localhost_no_host_display(ctx):
    """X11UseLocalhost no on a host whose name is long (more than 32
    characters) and resolves to a non-loopback address: DISPLAY is the
    whole name and the xauth entry is for that name (an address entry,
    as sshd makes), so an X client in the session reaches the client's
    display over TCP."""
    u = ctx.make_user()
    env = _xvfb(ctx)
    host = "x11-long-hostname-for-forwarding-tests.example.org"
    hosts = os.path.join(ctx.dir, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n10.99.0.1 %s\n" % host)
    ctx.write_config(["X11Forwarding yes", "X11UseLocalhost no"])
    helper = os.path.join(ctx.dir, "x11ns.py")
    with open(helper, "w") as f:
        f.write(_X11_NS)
    args = {"addr": "10.99.0.1", "hosts": hosts, "host": host,
            "server": ctx.server_path, "config": ctx.config_path,
            "log": ctx.log_path, "port": ctx.port,
            "argv": ctx.ssh_argv(u, X11_CMD, extra=("-X",)), "env": env}
    p = harness.run(["unshare", "-m", "-n", "-u", "/usr/bin/python3",
                     helper, json.dumps(args)], check_rc=False,
                    timeout_s=90)
    out = p.stdout.decode(errors="replace").strip().splitlines()
    check(p.returncode == 0 and out, "namespace helper failed: %s"
          % p.stderr.decode(errors="replace")[-2000:])
    r = json.loads(out[-1])
    m = re.search(r"^DISPLAY=(.*):(\d+)\.0$", r["out"], re.M)
    check(r["rc"] == 0 and m and m.group(1) == host,
          "DISPLAY is not %s:N.0: %r %s" % (host, r["out"], r["err"]))
    check("name of display:    %s:%s.0" % (host, m.group(2)) in r["out"] and
          "640x480 pixels" in r["out"],
          "xdpyinfo did not reach the client's Xvfb: %r %s"
          % (r["out"], r["err"]))


def _x11_denied(ctx, u, env, what):
    _denied(ctx, u, env, what, X11_CMD, "-X", "DISPLAY=none")


def _x11_told(ctx, u, env, why, what):
    """As sshd, the client hears why its x11-req was refused (ssh -v:
    "Remote: WHY")."""
    argv = ctx.ssh_argv(u, "true", extra=("-X",), loglevel="DEBUG1")
    p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    check(b"debug1: Remote: " + why.encode() in p.stderr,
          "%s: no DEBUG message for the refused x11-req: %r"
          % (what, p.stderr[-600:]))


def test_x11_no_xauth_program(ctx):
    """XAuthLocation naming no program (a headless host without xauth,
    whose Debian sshd_config still says X11Forwarding yes): the x11-req is
    refused, and, as sshd 9.2 (seen side by side), only the client hears
    why; the server's log gets no error line for each ssh -X."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["X11Forwarding yes",
                                   "XAuthLocation /nonexistent/xauth",
                                   "Match all", "LogLevel INFO"])
    env = _xvfb(ctx)
    _x11_denied(ctx, u, env, "XAuthLocation /nonexistent/xauth")
    _x11_told(ctx, u, env, "No xauth program; cannot forward X11.",
              "XAuthLocation /nonexistent/xauth")
    check(ctx.wait_log(r"Disconnected from user %s" % re.escape(u.name)),
          "the login did not end")
    check("No xauth program" not in ctx.server_log(),
          "logged at INFO, where sshd logs nothing:\n%s"
          % ctx.server_log()[-1500:])


def test_x11_denials(ctx):
    u = ctx.make_user()
    ctx.start_server()  # X11Forwarding defaults to no
    env = _xvfb(ctx)
    _x11_denied(ctx, u, env, "X11Forwarding no (default)")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server(extra_config=["X11Forwarding yes",
                                   "DisableForwarding yes"])
    _x11_denied(ctx, u, env, "DisableForwarding yes")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server(extra_config=["X11Forwarding yes"])
    for opts in ("no-X11-forwarding", "restrict"):
        os.unlink(os.path.join(u.home, ".ssh", "authorized_keys"))
        ctx.authorize(u, u.pubkey, options=opts)
        _x11_denied(ctx, u, env, opts)
        _x11_told(ctx, u, env, "X11 forwarding disabled by key options.",
                  opts)
