"""
test_alive.py: connection liveness and timeouts with the real OpenSSH
client: ClientAliveInterval/ClientAliveCountMax end a connection whose
client was frozen (SIGSTOP) with sshd's log line, and keep one whose
client answers; the client's own keepalives (ServerAliveInterval) are
answered; UnusedConnectionTimeout closes an `ssh -N` connection;
ChannelTimeout closes an idle session; `ssh -w` as a user who may not
open a tun device gets its tun@openssh.com channel refused. The client's
keepalive@openssh.com requests are global requests postern does not know: their failure reply
is what every unknown request with want-reply gets. No timing is
asserted: only that things happen, within generous limits.
"""

import os
import re
import signal
import subprocess
import time

import harness
from harness import check, fail, poll_until
from interop_clients import SYSTEM_PYTHON

HERE = os.path.dirname(os.path.abspath(__file__))


def _session_pid(ctx, u):
    """The user's session process (postern-session) under the server."""
    return harness.find_descendant_by_exe(
        ctx.proc.pid, "postern-session", timeout_s=15,
        pred=lambda p: os.stat("/proc/%d" % p).st_uid == u.uid)


def _gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


@harness.timeout(90)
def test_client_alive_frozen_client(ctx):
    u = ctx.make_user()
    ctx.start_server(extra_config=["ClientAliveInterval 1",
                                   "ClientAliveCountMax 2"])
    p = ctx.popen(ctx.ssh_argv(u, "sleep 120", extra=(
        "-o", "ServerAliveInterval=0")), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    check(ctx.wait_log(r"Starting session: command for %s" % u.name, 15),
          "the session did not start")
    spid = _session_pid(ctx, u)
    os.kill(p.pid, signal.SIGSTOP)
    try:
        m = ctx.wait_log(r"Timeout, client not responding from user %s "
                         r"127\.0\.0\.1 port \d+$" % u.name, 60)
        check(m, "no 'Timeout, client not responding from user %s ...' "
              "line for a frozen client" % u.name)
        check(harness.poll_until(lambda: _gone(spid), 30),
              "the session process %d is still there after the timeout"
              % spid)
        # As sshd: the timeout's line alone, no "Disconnected from user"
        # (a client's DISCONNECT's line), not even after the monitor, and
        # no "Close session" for the session still open (sshd's child
        # exits at the timeout without closing its sessions).
        time.sleep(0.5)
        log = ctx.server_log()
        check(not re.search(r"^Disconnected from user ", log, re.M),
              "a 'Disconnected from user' line after the timeout")
        check(not re.search(r"^Close session: ", log, re.M),
              "a 'Close session' line after the timeout")
    finally:
        os.kill(p.pid, signal.SIGCONT)
        p.kill()
        p.wait()


@harness.timeout(90)
def test_client_alive_answered(ctx):
    """A client that answers the keepalives stays, and its own
    keepalive@openssh.com requests are answered too."""
    u = ctx.make_user()
    # Three unanswered keepalives end it (about 4 s, well before the
    # command's end): a client stalled for a second on a loaded machine
    # does not.
    ctx.start_server(extra_config=["ClientAliveInterval 1",
                                   "ClientAliveCountMax 3"])
    r = ctx.ssh(u, "sleep 8; echo done", extra=(
        "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"),
        timeout_s=60)
    check(r.rc == 0 and r.stdout == b"done\n",
          "a session with keepalives both ways ended: rc %s %r %s"
          % (r.rc, r.stdout, r.err))
    log = ctx.server_log()
    check("Timeout, client not responding" not in log,
          "an answering client was timed out")
    check(re.search(r"rtype keepalive@openssh\.com want_reply 1", log),
          "the client's keepalive@openssh.com requests never arrived")


@harness.timeout(90)
def test_client_alive_on_open_channel(ctx):
    """As sshd: the keepalive rides on an open channel as a channel
    request when there is one (posternd always sent a global request),
    and is a global request without one (ssh -N); the client's replies
    count either way."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["ClientAliveInterval 1",
                                   "ClientAliveCountMax 3"])
    r = subprocess.run(ctx.ssh_argv(u, "sleep 3; echo done", extra=(
        "-o", "ServerAliveInterval=0"), loglevel="DEBUG3"),
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 0 and r.stdout == b"done\n", "rc %s %r"
          % (r.returncode, r.stdout))
    # While the channel is open: once it has closed, a keepalive due
    # before the client's disconnect (a loaded machine) is rightly global.
    while_open = err.split("rcvd close", 1)[0]
    check(re.search(r"client_input_channel_req: channel \d+ rtype "
                    r"keepalive@openssh\.com reply 1", while_open) and
          "rtype keepalive@openssh.com want_reply" not in while_open,
          "no keepalive as a channel request: %s" % err[-2000:])
    p = ctx.popen(ctx.ssh_argv(u, None, extra=(
        "-N", "-o", "ServerAliveInterval=0"), loglevel="DEBUG3"),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        time.sleep(3)
    finally:
        p.terminate()
        _out, perr = p.communicate(timeout=30)
    perr = perr.decode(errors="replace")
    check("client_input_global_request: rtype keepalive@openssh.com "
          "want_reply 1" in perr, "no global keepalive without a channel: "
          "%s" % perr[-2000:])
    check("Timeout, client not responding" not in ctx.server_log(),
          "an answering client was timed out")


@harness.timeout(90)
def test_unused_connection_timeout(ctx):
    u = ctx.make_user()
    ctx.start_server(extra_config=["UnusedConnectionTimeout 2"])
    p = ctx.popen(ctx.ssh_argv(u, None, extra=("-N",)),
                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                  stderr=subprocess.PIPE)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        fail("ssh -N was not disconnected by UnusedConnectionTimeout 2")
    check(ctx.wait_log(r"terminating inactive connection from user %s "
                       r"127\.0\.0\.1 port \d+$" % u.name, 10),
          "no 'terminating inactive connection' line")
    # A connection with a channel open is not cut.
    r = ctx.ssh(u, "sleep 4; echo kept", timeout_s=60)
    check(r.rc == 0 and r.stdout == b"kept\n",
          "a connection with an open session was cut: %r %s"
          % (r.stdout, r.err))


@harness.timeout(90)
def test_channel_timeout(ctx):
    u = ctx.make_user()
    ctx.start_server(extra_config=["ChannelTimeout session:command=2"])
    r = ctx.ssh(u, "sleep 60", timeout_s=60)
    check(r.rc != 0, "an idle session outlived ChannelTimeout: rc %s"
          % r.rc)
    check(ctx.wait_log(r"channel \d+: closing after 2 seconds of "
                       r"inactivity", 10),
          "no 'closing after 2 seconds of inactivity' line")
    # Output counts as activity: a chatty command is not cut.
    r = ctx.ssh(u, "for i in 1 2 3 4 5 6; do echo $i; sleep 0.5; done",
                timeout_s=60)
    check(r.rc == 0 and r.stdout.endswith(b"6\n"),
          "an active session was cut: rc %s %r" % (r.rc, r.stdout))


def test_tun_refused(ctx):
    """ssh -w: the session cannot open a tun device as the user, so the
    tun@openssh.com channel fails as sshd's does; the connection goes on.
    (test_tunnel.py forwards through real devices.)"""
    u = ctx.make_user()
    ctx.start_server(extra_config=["PermitTunnel yes"])
    r = ctx.ssh(u, "echo alive", extra=(
        "-w", "any", "-o", "Tunnel=point-to-point",
        "-o", "ExitOnForwardFailure=no"), timeout_s=60)
    check(ctx.wait_log(r"sys_tun_open: failed to (open tunnel control "
                       r"device|configure tunnel)", 10),
          "no 'sys_tun_open: failed' line: %r" % r)
    check(r.rc == 0 and r.stdout == b"alive\n",
          "the connection did not go on after the refusal: %r" % r)
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server()  # PermitTunnel no
    r = ctx.ssh(u, "echo alive", extra=(
        "-w", "any", "-o", "Tunnel=point-to-point"), timeout_s=60)
    check(ctx.wait_log(r"refused tun@openssh\.com channel from user %s "
                       r"127\.0\.0\.1 port \d+: PermitTunnel does not "
                       r"allow it" % u.name, 10),
          "PermitTunnel no: no refusal line: %r" % r)


def test_keywords_compat(ctx):
    """posternd -T prints the forwarding and liveness keywords as sshd -T
    does: defaults, values, Match blocks, invalid values."""
    from test_config_compat import _compare
    _compare(ctx, "fwd_defaults", "")
    _compare(ctx, "fwd_values", "\n".join([
        "ClientAliveInterval 1m30s", "ClientAliveCountMax 0",
        "UnusedConnectionTimeout 5m", "X11Forwarding yes",
        "X11DisplayOffset 20", "X11UseLocalhost no", "TCPKeepAlive no",
        "AllowAgentForwarding no", "DisableForwarding yes",
        "XAuthLocation /opt/x/xauth", "ChannelTimeout session:*=5m *=1h",
        "ChannelTimeout x11-connection=1", "PermitTunnel ethernet", ""]))
    _compare(ctx, "fwd_alias", "KeepAlive no\nChannelTimeout none\n")
    _compare(ctx, "fwd_match", "\n".join([
        "X11Forwarding no", "ClientAliveInterval 10",
        "Match User alice", "  X11Forwarding yes",
        "  ClientAliveInterval 3", "  ClientAliveCountMax 9",
        "  AllowAgentForwarding no", "  PermitTunnel point-to-point",
        "  UnusedConnectionTimeout 1h", "  ChannelTimeout session=1",
        "  X11DisplayOffset 99", "  DisableForwarding yes", ""]),
        specs=(None, "user=alice,host=h,addr=10.0.0.1",
               "user=bob,host=h,addr=10.0.0.1"))
    for bad in ("PermitTunnel Yes", "ChannelTimeout none x=1",
                "ChannelTimeout session", "UnusedConnectionTimeout soon",
                "ClientAliveInterval -1", "X11DisplayOffset x",
                "Match User a\n  TCPKeepAlive no",
                "Match User a\n  XAuthLocation /x"):
        _compare(ctx, "fwd_bad", bad + "\n", valid=False)


def _server_side_timer(ctx, u, extra_config):
    """The ss(8) timer field of the server's end of an ssh connection."""
    ctx.start_server(extra_config=extra_config)
    p = ctx.popen(ctx.ssh_argv(u, "echo up; sleep 30"),
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL)
    try:
        check(p.stdout.readline() == b"up\n", "the session did not start")
        # While data waits for an ACK, ss shows the retransmission timer
        # ("on") instead of the keepalive one: look until the queue drains.
        seen = {"out": ""}

        def idle():
            seen["out"] = harness.run(
                ["ss", "-tnoH", "state", "established",
                 "( sport = :%d )" % ctx.port]).stdout.decode()
            return seen["out"].strip() and "timer:(on," not in seen["out"]
        poll_until(idle, 10)
        out = seen["out"]
        check(out.strip(), "ss shows no connection on port %d" % ctx.port)
        return out
    finally:
        p.kill()
        p.wait()
        ctx.stop_server()
        ctx.proc = None


def test_tcp_keepalive(ctx):
    u = ctx.make_user()
    out = _server_side_timer(ctx, u, [])
    check("keepalive" in out, "TCPKeepAlive yes (default): no keepalive "
          "timer on the server's socket: %r" % out)
    out = _server_side_timer(ctx, u, ["TCPKeepAlive no"])
    check("keepalive" not in out,
          "TCPKeepAlive no: the server's socket has a keepalive timer: %r"
          % out)


@harness.timeout(90)
def test_channel_timeout_internal_sftp(ctx):
    """ChannelTimeout applies to an internal-sftp session, which runs in
    the session process with no descriptors of its own: an idle one is
    closed (it never was: `ssh -s ... sftp` sending nothing stayed
    connected), one in use is not."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["Subsystem sftp internal-sftp",
                                   "ChannelTimeout session:subsystem:sftp=2"])
    p = ctx.popen(ctx.ssh_argv(u, "sftp", extra=("-s",)),
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("an idle internal-sftp session outlived ChannelTimeout 2")
    check(ctx.wait_log(r"channel \d+: closing after 2 seconds of "
                       r"inactivity", 10),
          "no 'closing after 2 seconds of inactivity' line")
    # Requests count as activity.
    argv = ["sftp", "-q", "-b", "-", "-P", str(ctx.port), "-i", u.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            u.name + "@127.0.0.1"]
    batch = "".join("pwd\n!sleep 0.5\n" for _ in range(8)).encode()
    r = subprocess.run(argv, input=batch, capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stdout.count(b"Remote working") == 8,
          "an active internal-sftp session was cut: rc %s %r"
          % (r.returncode, r.stderr[-300:]))


# Logs in with connwire (tests/integration), runs `true` in a session and
# never answers the server's CHANNEL_CLOSE; "ready" once the command ran.
_UNANSWERED_CLOSE = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
import connwire
cell = connwire.Cell(int(sys.argv[2]), sys.argv[3], sys.argv[4])
cell.step({"open": "session", "ch": 0})
cell.step({"creq": "exec", "ch": 0, "reply": True, "args": [["s", "true"]]})
time.sleep(1)
print("ready", flush=True)
sys.stdin.read()
'''


@harness.timeout(90)
def test_channel_timeout_closing_channel_sleeps(ctx):
    """A channel under ChannelTimeout that is closing (our CLOSE sent, the
    client's not come) is no longer timed: its deadline still set
    poll()'s timeout, which the check then skipped, so past it the session
    process polled without sleeping, at 100% CPU, until the client
    answered or went. Counted here in poll calls over 2 s (strace)."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["ChannelTimeout session:*=1"])
    script = os.path.join(ctx.dir, "unanswered_close.py")
    with open(script, "w") as f:
        f.write(_UNANSWERED_CLOSE)
    p = ctx.popen([SYSTEM_PYTHON, script, HERE, str(ctx.port), u.name,
                   u.key], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    if p.stdout.readline() != b"ready\n":
        p.kill()
        fail("the raw client did not run its command: %r"
             % p.communicate()[1][-1000:])
    spid = _session_pid(ctx, u)
    time.sleep(2)  # past the channel's timeout
    out = os.path.join(ctx.dir, "strace.out")
    harness.run(["timeout", "-s", "INT", "2", "strace", "-c", "-o", out,
                 "-p", str(spid)], check_rc=False)
    calls = 0
    with open(out) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5 and w[-1] in ("poll", "ppoll"):
                calls += int(w[3])
    check(calls < 50, "the session process made %d poll calls in 2 s "
          "while idle with a closing channel" % calls)
    p.stdin.close()
    p.wait(10)
