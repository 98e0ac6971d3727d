"""
test_session_requests.py: session channel requests answered as OpenSSH's
sshd answers them (each expectation below was checked against
/usr/sbin/sshd). paramiko (in /usr/bin/python3 only) sends the raw
CHANNEL_REQUESTs, since the OpenSSH client cannot send most of them.

- eow@openssh.com (OpenSSH's PROTOCOL): the client can write no more of
  the output (its stdout failed, "ssh host yes | head -1"); the server
  stops reading it, the program dies of SIGPIPE and the session ends. A
  server that ignores it streams into the void for ever.
  The server sends it too (to an OpenSSH client) when nothing reads the
  client's input any more: the client then stops sending it.
- signal: only HUP INT KILL QUIT TERM USR1 USR2 are sent, as sshd (not
  ABRT ALRM FPE ILL PIPE SEGV), and never to a subsystem.
- env, auth-agent-req@openssh.com after the program started: refused.
- break (RFC 4335): a BREAK on the session's pty, refused without one.
- an extra session beyond MaxSessions: "connect failed", as sshd; one
  after no-more-sessions@openssh.com ends the connection.
"""

import os
import subprocess
import time

import harness
from harness import check, poll_until
from test_proto_parity import Server

SYSTEM_PYTHON = "/usr/bin/python3"

SCRIPT = r"""
import os, socket, sys, time
import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST
from paramiko.message import Message

port, user, keyfile, what = sys.argv[1:5]

# Record CHANNEL_SUCCESS/FAILURE instead of paramiko's closing the
# channel on a failure, and exit-signal's name.
def on_success(self, m):
    self.reply = "ok"
    self.event_ready = True
    self.event.set()

def on_failure(self, m):
    self.reply = "fail"
    self.event.set()

handle_request = paramiko.Channel._handle_request

def on_request(self, m):
    pos = m.packet.tell()
    if m.get_text() == "exit-signal":
        m.get_boolean()
        self.signame = m.get_text()
        self.core = m.get_boolean()
    m.packet.seek(pos)
    return handle_request(self, m)

table = paramiko.Transport._channel_handler_table
table[99], table[100], table[98] = on_success, on_failure, on_request

client = paramiko.SSHClient()
client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
client.connect("127.0.0.1", port=int(port), username=user,
               key_filename=keyfile, allow_agent=False, look_for_keys=False,
               timeout=20)
t = client.get_transport()

def request(chan, name, *args, want=True):
    m = Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string(name)
    m.add_boolean(want)
    for a in args:
        if isinstance(a, int):
            m.add_int(a)
        else:
            m.add_string(a)
    chan.event.clear()
    chan.reply = None
    t._send_user_message(m)
    if not want:
        return None
    chan.event.wait(20)
    return chan.reply

def started(command, pty=False):
    chan = t.open_session()
    chan.signame = None
    if pty:
        request(chan, "pty-req", "xterm", 80, 24, 0, 0, b"")
    chan.exec_command(command)
    return chan

out = []
if what == "eow":
    chan = started("yes")
    chan.recv(100)
    request(chan, "eow@openssh.com", want=False)
    chan.settimeout(30)
    deadline = time.monotonic() + 30  # a hang, not a speed, is the failure
    try:
        while chan.recv(65536) and time.monotonic() < deadline:
            pass
    except socket.timeout:
        pass
    if chan.status_event.wait(5):
        time.sleep(0.2)  # exit-signal precedes EOF; CLOSE follows
        out.append("ended %s" % chan.signame)
    else:
        out.append("still streaming")
elif what == "eow-sftp":
    # internal-sftp asked for more replies than the window holds, none
    # read; then eow and EOF, as the OpenSSH client sends them when the
    # sftp program over it is killed (it drops what it held for its
    # stdout and never re-opens the window for it).
    import struct

    def pkt(typ, rid, body):
        b = bytes([typ]) + (b"" if rid is None else struct.pack(">I", rid))
        return struct.pack(">I", len(b) + len(body)) + b + body

    def sstr(x):
        return struct.pack(">I", len(x)) + x
    chan = t.open_session()
    chan.signame = None
    chan.invoke_subsystem("sftp")
    chan.sendall(pkt(1, None, struct.pack(">I", 3)) +
                 pkt(3, 1, sstr(os.environ["BIGFILE"].encode()) +
                     struct.pack(">II", 1, 0)))
    f = chan.makefile("rb")
    handle = None
    for _ in range(2):  # VERSION, HANDLE
        n = struct.unpack(">I", f.read(4))[0]
        body = f.read(n)
        if body[0] == 102:
            handle = body[9:9 + struct.unpack(">I", body[5:9])[0]]
    chan.sendall(b"".join(
        pkt(5, 10 + i, sstr(handle) + struct.pack(">QI", i * 32768, 32768))
        for i in range(200)))
    request(chan, "eow@openssh.com", want=False)
    chan.shutdown_write()
    # a hang, not a speed, is the failure
    if chan.status_event.wait(30):
        out.append("ended %s %s" % (chan.exit_status, chan.signame))
    else:
        out.append("still open")
elif what == "signals":
    for name in ("HUP", "INT", "KILL", "QUIT", "TERM", "USR1", "USR2",
                 "ABRT", "ALRM", "FPE", "ILL", "PIPE", "SEGV", "STOP",
                 "SIGTERM"):
        chan = started("echo ready; exec sleep 60")
        chan.makefile("rb").readline()
        out.append("%s %s" % (name, request(chan, "signal", name)))
        chan.close()
    chan = t.open_session()
    out.append("subsystem %s" % request(chan, "subsystem", "sftp"))
    out.append("signal-subsystem %s" % request(chan, "signal", "KILL"))
elif what == "after-start":
    chan = t.open_session()
    out.append("env %s" % request(chan, "env", "LANG", "C"))
    chan.exec_command("sleep 3")
    out.append("env %s" % request(chan, "env", "LC_ALL", "C"))
    out.append("agent %s" % request(chan, "auth-agent-req@openssh.com"))
elif what == "break":
    chan = started("sleep 3")
    out.append("nopty %s" % request(chan, "break", 100))
    chan = started("sleep 3", pty=True)
    out.append("pty %s" % request(chan, "break", 100))
elif what == "core":
    # A program killed by SIGSEGV, with core dumps off and on (in a
    # directory the user may write, which COREDIR names).
    for limit in ("0", "unlimited"):
        chan = started("ulimit -c %s; cd %s && exec bash -c 'kill -SEGV $$'"
                       % (limit, os.environ["COREDIR"]))
        chan.status_event.wait(20)
        time.sleep(0.3)  # exit-signal precedes EOF; CLOSE follows
        out.append("%s %s %s" % (limit, chan.signame,
                                 getattr(chan, "core", None)))
elif what == "maxsessions":
    chans = [t.open_session(), t.open_session()]
    try:
        t.open_session(timeout=20)
        out.append("opened")
    except paramiko.ChannelException as e:
        out.append("refused %d" % e.code)
elif what == "no-more-sessions":
    t.open_session()
    t.global_request("no-more-sessions@openssh.com", wait=False)
    try:
        t.open_session(timeout=20)
        out.append("opened")
    except paramiko.ChannelException as e:
        out.append("refused %d" % e.code)
    except paramiko.SSHException:
        out.append("disconnected" if not t.is_active() else "error")
print("\n".join(out))
client.close()
"""


def _run(ctx, what, config=(), env=None, u=None):
    """Start the server with config, run the client's scenario what."""
    ctx.start_server(list(config))
    u = u or ctx.make_user()
    check(os.path.exists(SYSTEM_PYTHON), "%s missing" % SYSTEM_PYTHON)
    script = os.path.join(ctx.dir, "session_requests.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    argv = [SYSTEM_PYTHON, script, str(ctx.port), u.name, u.key, what]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, env=dict(os.environ, **(env or {})))
    ctx._note_client([SYSTEM_PYTHON, script, what], p.returncode, p.stderr)
    check(p.returncode == 0, "%s: client failed: %r" % (what, p.stderr[-600:]))
    return u, p.stdout.decode().split("\n")[:-1]


def test_eow_stops_output(ctx):
    # (the line below is DEBUG2, as sshd's "rcvd eow")
    _, got = _run(ctx, "eow", ["Match all", "LogLevel DEBUG2"])
    check(got == ["ended PIPE"],
          "after eow@openssh.com 'yes' should die of SIGPIPE: %r" % got)
    check(ctx.wait_log(r"channel 0: output no longer wanted"),
          "no 'output no longer wanted' line")


def test_eow_ends_internal_sftp(ctx):
    """sftp killed during a download: its ssh sends eow@openssh.com and
    EOF, and never re-opens the window for the replies it dropped. sshd
    9.2's sftp-server child, whose next reply is a write nobody reads,
    dies of SIGPIPE: exit-signal PIPE, after which the OpenSSH client
    exits 255. The in-process engine first waited for the window for
    ever, then ended with exit-status 0 at the EOF (ssh exited 0). sshd
    is not run here: its child exits 0 instead when it reads the EOF
    before its next write fails (seen once under CI's load)."""
    u = ctx.make_user()
    big = os.path.join(u.home, "big")
    with open(big, "wb") as f:
        f.truncate(8 * 1024 * 1024)
    os.chown(big, u.uid, u.gid)
    _, got = _run(ctx, "eow-sftp", ["Subsystem sftp internal-sftp"],
                  env={"BIGFILE": big}, u=u)
    check(got == ["ended -1 PIPE"], "after eow and EOF, internal-sftp "
          "should end by SIGPIPE, as sshd's mostly does: %r" % got)


def test_signal_names_as_sshd(ctx):
    _, got = _run(ctx, "signals", ["Subsystem sftp internal-sftp"])
    want = ["%s ok" % n for n in
            ("HUP", "INT", "KILL", "QUIT", "TERM", "USR1", "USR2")]
    want += ["%s fail" % n for n in
             ("ABRT", "ALRM", "FPE", "ILL", "PIPE", "SEGV", "STOP",
              "SIGTERM")]
    want += ["subsystem ok", "signal-subsystem fail"]
    check(got == want, "signal replies %r, want %r" % (got, want))


def _local_core_dumped(u, coredir, limit):
    """WCOREDUMP of bash killed by SIGSEGV here, as u in coredir with
    `ulimit -c limit`: what this machine does (a core_pattern that pipes
    to a program dumps whatever RLIMIT_CORE says, core(5))."""
    p = subprocess.Popen(
        ["setpriv", "--reuid", str(u.uid), "--regid", str(u.gid),
         "--clear-groups", "bash", "-c",
         "ulimit -c %s; cd %s && exec bash -c 'kill -SEGV $$'"
         % (limit, coredir)])
    # The raw status (Popen.wait() drops the core flag).
    _, status = os.waitpid(p.pid, 0)
    p.returncode = -11
    check(os.WIFSIGNALED(status) and os.WTERMSIG(status) == 11,
          "bash -c 'kill -SEGV $$' here: status %#x" % status)
    return os.WCOREDUMP(status)


def test_exit_signal_core_dumped_flag(ctx):
    """exit-signal's "core dumped" boolean (RFC 4254 6.10) is what
    WCOREDUMP says, as sshd sends it, with core dumps off and on: the same
    program killed the same way here says what to expect (whether the
    kernel writes a core is the machine's: core_pattern). Where it writes
    one only with a limit, both values are checked."""
    u = ctx.make_user()
    coredir = os.path.join(ctx.dir, "cores")
    os.mkdir(coredir, 0o755)
    os.chown(coredir, u.uid, u.gid)
    os.chmod(ctx.dir, 0o755)
    here = [_local_core_dumped(u, coredir, limit)
            for limit in ("0", "unlimited")]
    _, got = _run(ctx, "core", env={"COREDIR": coredir}, u=u)
    want = ["0 SEGV %s" % here[0], "unlimited SEGV %s" % here[1]]
    check(got == want, "exit-signal (limit, name, core dumped) %r, want %r"
          % (got, want))


def test_subsystem_signal_refused(ctx):
    """A signal request to a subsystem is refused with sshd's line, for
    a program (sftp-server) and for internal-sftp, which runs in the
    session process (sshd's runs in a child)."""
    line = "refusing to send signal KILL to subsystem session"
    for n, sub in enumerate(("/usr/lib/openssh/sftp-server",
                             "internal-sftp"), 1):
        if ctx.proc is not None:
            ctx.stop_server()
        _, got = _run(ctx, "signals", ["Subsystem sftp " + sub])
        check(got[-2:] == ["subsystem ok", "signal-subsystem fail"],
              "%s: a signal was not refused: %r" % (sub, got[-2:]))
        check(poll_until(lambda: ctx.server_log().count(line) == n, 5),
              "%s: no '%s' line" % (sub, line))
        check("no pid for session" not in ctx.server_log(),
              "%s: 'no pid for session' instead" % sub)


def test_requests_after_start_refused(ctx):
    _, got = _run(ctx, "after-start",
                  ["AcceptEnv LANG LC_*", "AllowAgentForwarding yes"])
    check(got == ["env ok", "env fail", "agent fail"],
          "replies %r, want env ok before exec, env and agent "
          "refused after" % got)


def test_break_on_pty(ctx):
    _, got = _run(ctx, "break")
    check(got == ["nopty fail", "pty ok"], "break replies %r" % got)


def test_maxsessions_connect_failed(ctx):
    _, got = _run(ctx, "maxsessions", ["MaxSessions 2"])
    check(got == ["refused 2"],
          "a session beyond MaxSessions: %r, want refused 2 "
          "(connect failed, as sshd)" % got)


def test_no_more_sessions_disconnects(ctx):
    u, got = _run(ctx, "no-more-sessions")
    check(got == ["disconnected"], "session after no-more-sessions: %r" % got)
    check(ctx.wait_log(r"Disconnecting user %s 127\.0\.0\.1 port \d+: "
                       r"Possible attack: attempt to open a session after "
                       r"additional sessions disabled" % u.name),
          "no 'Possible attack' disconnect line")


def test_openssh_client_head_ends_remote_stream(ctx):
    """`ssh host yes | head -1`, as with sshd: the OpenSSH client takes
    this server for OpenSSH (its identification string), so it sends
    eow@openssh.com when its output is closed, and `yes` ends."""
    u = ctx.make_user()
    ctx.start_server()
    argv = ctx.ssh_argv(u, "yes", verbose=True)
    ssh = ctx.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    head = subprocess.run(["head", "-1"], stdin=ssh.stdout,
                          stdout=subprocess.PIPE, timeout=30)
    ssh.stdout.close()
    try:
        ssh.wait(30)
    except subprocess.TimeoutExpired:
        ssh.kill()
        ssh.wait(10)
        check(False, "ssh still runs after head exited: the remote `yes` "
              "was never stopped")
    err = ssh.stderr.read().decode(errors="replace")
    check(head.stdout == b"y\n", "head printed %r" % head.stdout)
    check("compat_banner: match: OpenSSH_9.9 postern_0.1" in err,
          "the client did not take the server for OpenSSH:\n%s"
          % err[-2000:])


def test_dropped_connection_leaves_command_running(ctx):
    """A client that goes away (killed: no CLOSE, no DISCONNECT) does not
    stop a command that has no terminal: as with sshd 9.2 (seen side by
    side), it runs on with its pipes closed, so "ssh host 'job > log'"
    survives a dropped link. On a terminal it is hung up, as by sshd."""
    u = ctx.make_user()
    ctx.start_server()
    started = {}
    for tty in (False, True):
        tag = os.path.join(u.home, "tty" if tty else "notty")
        # The terminal's command gets 5 s: time enough, however slow the
        # build, for the hangup to reach it first.
        cmd = "touch %s.started; sleep %d; touch %s.done" % (
            tag, 5 if tty else 2, tag)
        extra = ["-tt"] if tty else []
        p = subprocess.Popen(ctx.ssh_argv(u, cmd, extra=extra),
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        check(poll_until(lambda: os.path.exists(tag + ".started"), 10),
              "the command (tty %s) did not start" % tty)
        started[tty] = time.monotonic()
        p.kill()
        p.wait()
    notty, tty = (os.path.join(u.home, n) for n in ("notty", "tty"))
    check(poll_until(lambda: os.path.exists(notty + ".done"), 10),
          "a command without a terminal was stopped when its client went "
          "away")
    # The terminal one would have finished by now as well.
    time.sleep(max(0, started[True] + 6.5 - time.monotonic()))
    check(not os.path.exists(tty + ".done"),
          "a command on a terminal ran on after its client went away")
    check(ctx.wait_log(r"^Connection closed by 127\.0\.0\.1 port \d+$", 5),
          "no 'Connection closed' line")


def test_disconnect_with_open_session_logs_no_close(ctx):
    """A client that sends DISCONNECT while its session runs (ssh's "~."
    escape): as sshd 9.2's session child, which exits at once without
    closing its sessions, no "Close session" line (a client killed
    without a word gets one, test_dropped_connection_...)."""
    u = ctx.make_user()
    ctx.start_server(["Match all", "LogLevel VERBOSE"])
    argv = ctx.ssh_argv(u, "sleep 5", extra=["-tt"])
    p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    check(ctx.wait_log(r"^Starting session: command on pts/\d+ for %s "
                       % u.name, 10), "the session did not start")
    p.stdin.write(b"\n~.")
    p.stdin.flush()
    p.wait(timeout=10)
    p.stdin.close()
    check(ctx.wait_log(r"^Received disconnect from 127\.0\.0\.1 port \d+:"
                       r"11: disconnected by user$", 5),
          "no 'Received disconnect' line: the client did not send one")
    check(ctx.wait_log(r"^Disconnected from user %s " % u.name, 5),
          "no 'Disconnected from user' line")
    check("Close session:" not in ctx.server_log(),
          "'Close session' logged after the client's DISCONNECT")


def _eow_client(ctx, srv, u, command, stdin, flag=None):
    """ssh -v to srv running command with stdin (a pipe the client keeps
    reading): 1 once the client has logged the server's
    eow@openssh.com, 0 if the session ended without it. flag, once the
    line came (or the session ended), is created so that the command
    can end."""
    argv = ctx.ssh_argv(u, command, verbose=True)
    argv[argv.index("-p") + 1] = str(srv.port)
    p = ctx.popen(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                  stderr=subprocess.PIPE)
    seen = 0
    try:
        for line in p.stderr:
            if b"rtype eow@openssh.com" in line:
                seen = 1
                break
    finally:
        if flag is not None:
            with open(flag, "w"):
                pass
        p.stderr.close()
        p.wait(30)
    return seen


def test_server_sends_eow(ctx):
    """As sshd 9.2 (session.c's session_exit_message, nchan.c's
    chan_write_failed), the server sends eow@openssh.com to an OpenSSH
    client when nothing will read what the client sends any more: the
    program exited while the client's stdin is still open, or it closed
    its own stdin. The client then stops reading its stdin: without it,
    `cat /dev/zero | ssh host 'exec <&-; sleep 5'` streams the zeros
    into the void (some 500 MB a second here) until the program ends."""
    harness.openssh_sshd()
    u = ctx.make_user()
    for kind in ("sshd", "postern"):
        srv = Server(ctx, kind)
        # The program ends; the client's stdin (a pipe) stays open.
        r, w = os.pipe()
        try:
            seen = _eow_client(ctx, srv, u, "echo x", r)
        finally:
            os.close(r)
            os.close(w)
        check(seen, "%s: no eow@openssh.com when the program exited "
              "with the client's stdin open" % kind)
        # The program closes its stdin while the client streams into it.
        flag = os.path.join(ctx.dir, "eow-%s" % kind)
        zero = subprocess.Popen(["cat", "/dev/zero"],
                                stdout=subprocess.PIPE)
        try:
            seen = _eow_client(
                ctx, srv, u, "exec 0<&-; while [ ! -e %s ]; do sleep 0.1;"
                " done" % flag, zero.stdout, flag)
        finally:
            zero.kill()
            zero.wait()
            zero.stdout.close()
        check(seen, "%s: no eow@openssh.com when the program closed its "
              "stdin" % kind)
        srv.stop()
