"""
test_conn_parity.py: the connection protocol (RFC 4254) after a publickey
login, next to OpenSSH's sshd 9.2, cell by cell. A raw client
(connwire.py on protowire.py, in /usr/bin/python3) sends, on a fresh
connection per cell, a few connection messages - CHANNEL_OPEN of every
type (session, direct-tcpip to an open port, a closed one and a name that
does not resolve, direct-streamlocal, and the types only a server opens),
GLOBAL_REQUEST (tcpip-forward and its port, cancel, streamlocal-forward,
no-more-sessions, hostkeys-prove-00 with a bogus key, keepalive, unknown),
CHANNEL_REQUEST on a session (pty-req, env, exec, shell, subsystem, signal,
window-change, x11-req, auth-agent-req, exit-status, unknown; on channels
that do not exist or are closing), CHANNEL_DATA past the window or the
packet size, EXTENDED_DATA, EOF then DATA or EXTENDED_DATA, CLOSE twice -
under several configurations (AllowTcpForwarding, PermitOpen, PermitListen,
GatewayPorts, AllowStreamLocalForwarding, AllowAgentForwarding,
AcceptEnv). Each step's answer on the wire (OPEN_CONFIRMATION or
OPEN_FAILURE with its reason and description, REQUEST_SUCCESS and the
port it carries, CHANNEL_SUCCESS/FAILURE, SSH_MSG_DEBUG text, DISCONNECT
with reason and text) must be sshd's, except where docs/protocol.md documents a
difference (DIFFERENT); sshd's LogLevel VERBOSE lines for the cell
(RX_LOG) must be in postern's log too.
"""

import base64
import json
import os
import re
import socket
import struct
import subprocess

import harness
from harness import check, timeout
from test_proto_parity import Server, SYSTEM_PYTHON, HERE, log_chunks

CONNWIRE = os.path.join(HERE, "connwire.py")

PTY = [["s", "xterm"], ["u", 80], ["u", 24], ["u", 0], ["u", 0],
       ["s", "\x00"]]
SESSION = {"open": "session"}


def _dtcp(host, port):
    return {"open": "direct-tcpip",
            "args": [["s", host], ["u", port], ["s", "127.0.0.1"],
                     ["u", 40000]]}


def _cells(open_port, closed_port, listen_port, sock_path, user_blob):
    """(configuration, name, steps)."""
    c = []

    def add(conf, name, *steps):
        c.append((conf, name, list(steps)))

    # CHANNEL_OPEN
    for conf in ("default", "no", "local", "remote", "permit"):
        add(conf, "open direct-tcpip to an open port",
            _dtcp("127.0.0.1", open_port))
        add(conf, "open direct-tcpip to a closed port",
            _dtcp("127.0.0.1", closed_port))
        add(conf, "open direct-streamlocal",
            {"open": "direct-streamlocal@openssh.com",
             "args": [["s", sock_path], ["s", ""], ["u", 0]]})
        add(conf, "tcpip-forward port 0",
            {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"],
                                               ["u", 0]]})
        add(conf, "tcpip-forward a free port",
            {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"],
                                               ["u", listen_port]]})
        add(conf, "streamlocal-forward",
            {"greq": "streamlocal-forward@openssh.com",
             "args": [["s", sock_path + ".fwd"]]})
    add("default", "open session", SESSION)
    add("default", "open direct-tcpip to an unresolvable name",
        _dtcp("no-such-host.invalid", 22))
    add("permit", "open direct-tcpip not in PermitOpen",
        _dtcp("127.0.0.1", closed_port))
    add("default", "open direct-streamlocal to a missing socket",
        {"open": "direct-streamlocal@openssh.com",
         "args": [["s", sock_path + ".none"], ["s", ""], ["u", 0]]})
    add("default", "open x11 from the client",
        {"open": "x11", "args": [["s", "127.0.0.1"], ["u", 6000]]})
    add("default", "open forwarded-tcpip from the client",
        {"open": "forwarded-tcpip",
         "args": [["s", "127.0.0.1"], ["u", 22], ["s", "127.0.0.1"],
                  ["u", 5555]]})
    add("default", "open auth-agent from the client",
        {"open": "auth-agent@openssh.com"})
    add("default", "open an unknown type", {"open": "x-unknown@example.org"})
    for conf in ("default", "permit"):
        add(conf, "open tun@openssh.com",
            {"open": "tun@openssh.com", "args": [["u", 1], ["u", 0]]})
    add("default", "open session, data before any program",
        SESSION, {"data": 0})
    add("default", "break without a pty", SESSION,
        {"creq": "break", "args": [["u", 0]], "reply": True, "ch": 0})
    add("default", "eow@openssh.com before a program", SESSION,
        {"creq": "eow@openssh.com", "reply": False, "ch": 0})
    add("default", "EOF twice", SESSION, {"eof": 0}, {"eof": 0})
    add("default", "window adjust for a channel that does not exist",
        {"adjust": 5, "add": 10})
    add("default", "open session with window 0",
        {"open": "session", "win": 0})
    add("default", "open session with max packet 0",
        {"open": "session", "max": 0})
    add("default", "open session with max packet 2^32-1",
        {"open": "session", "max": 0xffffffff})
    add("default", "open session, sender channel reused", SESSION,
        SESSION)
    # GLOBAL_REQUEST
    add("default", "tcpip-forward a privileged port",
        {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"], ["u", 80]]})
    add("permit", "tcpip-forward on all addresses (GatewayPorts)",
        {"greq": "tcpip-forward", "args": [["s", ""], ["u", 0]]})
    add("permit", "tcpip-forward not in PermitListen",
        {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"],
                                           ["u", closed_port]]})
    add("permit", "tcpip-forward port 70000",
        {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"],
                                           ["u", 70000]]})
    add("default", "cancel-tcpip-forward never set",
        {"greq": "cancel-tcpip-forward", "args": [["s", "127.0.0.1"],
                                                  ["u", closed_port]]})
    add("default", "no-more-sessions then a session",
        {"greq": "no-more-sessions@openssh.com", "reply": False}, SESSION)
    add("default", "hostkeys-prove-00 with a bogus key",
        {"greq": "hostkeys-prove-00@openssh.com",
         "args": [["s", "not a key"]]})
    add("default", "hostkeys-prove-00 with a truncated string",
        {"greq": "hostkeys-prove-00@openssh.com",
         "args": [["x", "0000000a6b6579"]]})
    add("default", "hostkeys-prove-00 with a key not the server's",
        {"greq": "hostkeys-prove-00@openssh.com",
         "args": [["x", user_blob]]})
    add("default", "tcpip-forward port 0 without want-reply",
        {"greq": "tcpip-forward", "reply": False,
         "args": [["s", "127.0.0.1"], ["u", 0]]})
    add("default", "tcpip-forward twice, the same port",
        {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"],
                                           ["u", listen_port]]},
        {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"],
                                           ["u", listen_port]]})
    add("default", "tcpip-forward then cancel it",
        {"greq": "tcpip-forward", "args": [["s", "127.0.0.1"],
                                           ["u", listen_port]]},
        {"greq": "cancel-tcpip-forward", "args": [["s", "127.0.0.1"],
                                                  ["u", listen_port]]})
    add("default", "keepalive", {"greq": "keepalive@openssh.com"})
    add("default", "unknown global request, want-reply",
        {"greq": "x-unknown@example.org"})
    add("default", "unknown global request, no reply",
        {"greq": "x-unknown@example.org", "reply": False})

    # CHANNEL_REQUEST on a session
    def creq(name, args=(), reply=True, ch=0):
        return {"creq": name, "args": list(args), "reply": reply, "ch": ch}

    add("default", "pty-req twice", SESSION, creq("pty-req", PTY),
        creq("pty-req", PTY))
    add("default", "pty-req with bad modes", SESSION,
        creq("pty-req", PTY[:5] + [["s", "\x81\x00"]]))
    add("default", "pty-req with a truncated mode argument", SESSION,
        creq("pty-req", PTY[:5] + [["x", "00000003" + "010000"]]))
    add("default", "pty-req with a 256-byte TERM", SESSION,
        creq("pty-req", [["s", "x" * 256]] + PTY[1:]))
    add("default", "pty-req after exec", SESSION,
        creq("exec", [["s", "cat"]]), creq("pty-req", PTY))
    add("permit", "env after exec", SESSION, creq("exec", [["s", "cat"]]),
        creq("env", [["s", "LANG"], ["s", "C"]]))
    add("permit", "x11-req twice", SESSION,
        creq("x11-req", [["b", False], ["s", "MIT-MAGIC-COOKIE-1"],
                         ["s", "00" * 16], ["u", 0]]),
        creq("x11-req", [["b", False], ["s", "MIT-MAGIC-COOKIE-1"],
                         ["s", "00" * 16], ["u", 0]]))
    add("default", "auth-agent-req twice", SESSION,
        creq("auth-agent-req@openssh.com"),
        creq("auth-agent-req@openssh.com"))
    add("default", "window-change with a pty", SESSION,
        creq("pty-req", PTY),
        creq("window-change", [["u", 100], ["u", 30], ["u", 0], ["u", 0]],
             reply=True))
    # (Not TERM: sshd's killpg races the program's setsid.)
    add("default", "unsupported signal to a running program", SESSION,
        creq("exec", [["s", "sleep 30"]]), creq("signal", [["s", "NOSUCH"]]))
    add("default", "subsystem sftp, then exec", SESSION,
        creq("subsystem", [["s", "sftp"]]), creq("exec", [["s", "cat"]]))
    add("permit", "env accepted", SESSION,
        creq("env", [["s", "LANG"], ["s", "C"]]))
    add("permit", "env refused", SESSION,
        creq("env", [["s", "NOT_ACCEPTED"], ["s", "C"]]))
    add("default", "exec twice", SESSION, creq("exec", [["s", "cat"]]),
        creq("exec", [["s", "cat"]]))
    add("default", "shell after exec", SESSION,
        creq("exec", [["s", "cat"]]), creq("shell"))
    add("default", "unknown subsystem", SESSION,
        creq("subsystem", [["s", "no-such-subsystem"]]))
    add("default", "signal before start", SESSION,
        creq("signal", [["s", "TERM"]]))
    add("default", "window-change without a pty", SESSION,
        creq("window-change", [["u", 80], ["u", 24], ["u", 0], ["u", 0]],
             reply=False))
    add("default", "window-change without a pty, reply wanted", SESSION,
        creq("window-change", [["u", 80], ["u", 24], ["u", 0], ["u", 0]]))
    add("permit", "x11-req with a bad cookie", SESSION,
        creq("x11-req", [["b", False], ["s", "MIT-MAGIC-COOKIE-1"],
                         ["s", "zz"], ["u", 0]]))
    add("no", "auth-agent-req with AllowAgentForwarding no", SESSION,
        creq("auth-agent-req@openssh.com"))
    add("default", "exit-status from the client", SESSION,
        creq("exit-status", [["u", 0]], reply=False),
        creq("exit-status", [["u", 0]]))
    add("default", "unknown channel request", SESSION,
        creq("x-unknown@example.org"), creq("x-unknown@example.org",
                                            reply=False))
    add("default", "request on a channel that does not exist",
        creq("shell", ch={"raw": 77}))
    add("default", "request on a closing channel", SESSION,
        {"close": 0}, creq("shell"))
    # Data
    add("default", "data larger than max packet", SESSION,
        creq("exec", [["s", "cat >/dev/null"]]),
        {"data": 0, "len": 40000})
    add("default", "data beyond the window", SESSION,
        {"data": 0, "len": 32768, "n": 64}, {"data": 0, "len": 32768})
    add("default", "extended data from the client", SESSION,
        creq("exec", [["s", "cat >/dev/null"]]), {"ext": 0})
    # A program that does not end at EOF: the channel stays open.
    add("default", "EOF then data", SESSION,
        creq("exec", [["s", "sleep 30"]]), {"eof": 0}, {"data": 0})
    # Data after EOF is dropped but re-opens the window, as sshd's: more
    # than a window of it in all does not end the connection.
    add("default", "EOF then more than a window of data", SESSION,
        creq("exec", [["s", "sleep 30"]]), {"eof": 0},
        {"data": 0, "len": 32768, "n": 48},
        {"data": 0, "len": 32768, "n": 48})
    add("default", "EOF then extended data", SESSION,
        creq("exec", [["s", "sleep 30"]]), {"eof": 0}, {"ext": 0})
    add("default", "CLOSE twice", SESSION, {"close": 0}, {"close": 0})
    # The client's CLOSE while its program runs, then more for the channel
    # (RFC 4254 s5.3: nothing may follow a CLOSE).
    running = creq("exec", [["s", "sleep 30"]])
    add("default", "window adjust after CLOSE", SESSION, running,
        {"close": 0}, {"adjust": 0, "add": 1000})
    # The program reads nothing: what the client sent is still being
    # written when its CLOSE comes, so the channel outlives the CLOSE.
    add("default", "window adjust after CLOSE, input unread", SESSION,
        running, {"data": 0, "len": 32768, "n": 16}, {"close": 0},
        {"adjust": 0, "add": 1000})
    add("default", "data after CLOSE", SESSION, running, {"close": 0},
        {"data": 0})
    add("default", "request after CLOSE", SESSION, running, {"close": 0},
        creq("window-change", [["u", 80], ["u", 24], ["u", 0], ["u", 0]]))
    # Requests after the client's EOF, and malformed ones.
    x11 = [["b", False], ["s", "MIT-MAGIC-COOKIE-1"], ["s", "00" * 16],
           ["u", 0]]
    add("permit", "x11-req after EOF", SESSION, {"eof": 0},
        creq("x11-req", x11))
    add("default", "exec after EOF", SESSION, {"eof": 0},
        creq("exec", [["s", "true"]]))
    add("default", "exec without a command", SESSION, creq("exec", []))
    add("default", "subsystem with trailing bytes", SESSION,
        creq("subsystem", [["s", "sftp"], ["u", 1]]))
    add("permit", "env without a value", SESSION, creq("env", [["s", "LANG"]]))
    add("default", "window-change cut short", SESSION, creq("pty-req", PTY),
        creq("window-change", [["u", 80]]))
    add("default", "signal without a name", SESSION, running,
        creq("signal", [], reply=False), creq("x-unknown@example.org"))
    add("default", "exit-status without a status", SESSION,
        creq("exit-status", [], reply=False), creq("x-unknown@example.org"))
    return c


CONFIGS = {
    "default": [],
    "no": ["AllowTcpForwarding no", "AllowStreamLocalForwarding no",
           "AllowAgentForwarding no"],
    "local": ["AllowTcpForwarding local",
              "AllowStreamLocalForwarding local"],
    "remote": ["AllowTcpForwarding remote",
               "AllowStreamLocalForwarding remote"],
    "permit": ["PermitOpen 127.0.0.1:{open_port}",
               "PermitListen {listen_port}",
               "GatewayPorts yes", "AcceptEnv LANG", "X11Forwarding yes",
               "PermitTunnel yes"],
}

# Where postern answers otherwise, on purpose (docs/protocol.md):
# cell name -> (sshd's step outcomes, postern's).
DIFFERENT = {
    # sshd's session process dies of it (the connection closes without a
    # word); posternd ends the connection with a DISCONNECT saying why.
    "[default] pty-req with a truncated mode argument": (
        ["open_confirmation", "closed"],
        ["open_confirmation",
         "disconnect-2:pty-req: terminal mode argument truncated"]),
    # No terminal type is that long: posternd refuses the pty.
    "[default] pty-req with a 256-byte TERM": (
        ["open_confirmation", "channel_success"],
        ["open_confirmation", "channel_failure"]),
    # A request whose fields are missing or followed by more: sshd's
    # session process dies of it, or (signal) it is ignored; posternd ends
    # the connection with a DISCONNECT saying why.
    "[default] exec without a command": (
        ["open_confirmation", "closed"],
        ["open_confirmation", "disconnect-2:message 98: message incomplete"]),
    "[default] subsystem with trailing bytes": (
        ["open_confirmation", "closed"],
        ["open_confirmation",
         "disconnect-2:message 98: unexpected trailing data"]),
    "[permit] env without a value": (
        ["open_confirmation", "closed"],
        ["open_confirmation", "disconnect-2:message 98: message incomplete"]),
    "[default] window-change cut short": (
        ["open_confirmation", "channel_success", "closed"],
        ["open_confirmation", "channel_success",
         "disconnect-2:message 98: message incomplete"]),
    "[default] signal without a name": (
        ["open_confirmation", "channel_success", "ignored",
         "channel_failure"],
        ["open_confirmation", "channel_success",
         "disconnect-2:message 98: message incomplete"]),
    # After the client's own CLOSE (while its program runs) sshd ignores
    # what else comes for the channel; posternd has answered that CLOSE
    # and forgotten the channel, as RFC 4254 s5.3 allows.
    "[default] data after CLOSE": (
        ["open_confirmation", "channel_success", "ignored", "ignored"],
        ["open_confirmation", "channel_success", "ignored",
         "disconnect-2:data packet referred to nonexistent channel 0"]),
    "[default] request after CLOSE": (
        ["open_confirmation", "channel_success", "ignored",
         "channel_success"],
        ["open_confirmation", "channel_success", "ignored",
         "disconnect-2:server_input_channel_req: unknown channel 0"]),
    # A peer that breaks the window or the packet size is cut off: sshd
    # logs and drops the data. (Data after EOF is dropped, as by sshd.)
    "[default] data larger than max packet": (
        ["open_confirmation", "channel_success", "ignored"],
        ["open_confirmation", "channel_success",
         "disconnect-2:channel 0: data of 40000 bytes exceeds packet size "
         "32768"]),
    "[default] data beyond the window": (
        ["open_confirmation", "ignored", "ignored"],
        ["open_confirmation", "ignored",
         "disconnect-2:channel 0: data of 32768 bytes exceeds window 0"]),
}

# sshd's LogLevel VERBOSE lines that postern's must have for the cell.
RX_LOG = re.compile(r"^((?:refused|Received request|connect[_ ]to|"
                    r"Disconnecting|channel \d+: (?:rcvd|ignoring)|"
                    r"Possible attack|server_input_|"
                    r"session_signal_req|subsystem request|bind \[|"
                    r"channel_setup_fwd_listener_tcpip|"
                    r"Received window adjust|ssh_tty_parse_modes|"
                    r"channel \d+: bad ext data).*)$", re.M)
RX_PORT = re.compile(r"(request_success:)[1-9]\d*")


def _cell_logs(path, results):
    """RX_LOG's lines of each cell's connection (log_chunks), ports masked,
    and its whole log."""
    return [(sorted(re.sub(r"port \d+", "port N", x.group(1))
                    for x in RX_LOG.finditer(chunk or "")), chunk or "")
            for chunk in log_chunks(path, results)]


def _blob(keyfile):
    """The public key blob of keyfile, as a wire string, in hex."""
    with open(keyfile + ".pub") as f:
        blob = base64.b64decode(f.read().split()[1])
    return (struct.pack(">I", len(blob)) + blob).hex()


def run_connwire(server, user, scripts, timeout_s=900):
    """connwire.py's results for its scripts (a connection each) against
    server, logged in as user with its key."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.run([SYSTEM_PYTHON, CONNWIRE, str(server.port),
                        user.name, user.key],
                       input=json.dumps(scripts).encode(),
                       capture_output=True, timeout=timeout_s, env=env)
    check(p.returncode == 0, "connwire against %s failed: %s"
          % (server.kind, p.stderr.decode(errors="replace")[-1500:]))
    return json.loads(p.stdout)


@timeout(600)
def test_conn_parity(ctx):
    u = ctx.make_user()
    harness.openssh_sshd()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    ctx.cleanups.append(listener.close)
    unix_dir = os.path.join("/tmp", "connparity-%d" % os.getpid())
    os.makedirs(unix_dir, exist_ok=True)
    os.chmod(unix_dir, 0o777)
    ctx.cleanups.append(lambda: subprocess.run(["rm", "-rf", unix_dir]))
    sock_path = os.path.join(unix_dir, "sock")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(sock_path)
    os.chmod(sock_path, 0o777)
    unix.listen(64)
    ctx.cleanups.append(unix.close)
    ports = {"open_port": listener.getsockname()[1],
             "closed_port": harness.free_port(),
             "listen_port": harness.free_port()}
    cells = _cells(ports["open_port"], ports["closed_port"],
                   ports["listen_port"], sock_path, _blob(u.key))
    bad = []
    dump = os.environ.get("CONNPARITY_DUMP")
    for conf, extra in CONFIGS.items():
        mine = [c for c in cells if c[0] == conf]
        extra = [x.format(**ports) for x in extra]
        res = {}
        logs = {}
        for kind in ("sshd", "postern"):
            srv = Server(ctx, kind, extra, "-" + conf)
            # The unix sockets a streamlocal-forward makes: one per server.
            subprocess.run(["rm", "-f", sock_path + ".fwd"])
            res[kind] = run_connwire(srv, u, [c[2] for c in mine])
            check(srv.proc.poll() is None, "%s exited" % kind)
            srv.stop()
            logs[kind] = _cell_logs(srv.log, res[kind])
        for i, (c, a, b) in enumerate(zip(mine, res["sshd"], res["postern"])):
            name = "[%s] %s" % (conf, c[1])
            sa = [RX_PORT.sub(r"\1PORT", x) for x in a["steps"]]
            sb = [RX_PORT.sub(r"\1PORT", x) for x in b["steps"]]
            want = DIFFERENT.get(name)
            la, ca = logs["sshd"][i]
            lb, cb = logs["postern"][i]
            if dump:
                print("== %s\n sshd    %s\n postern %s\n sshd log: %s\n"
                      " postern log: %s" % (name, sa, sb, ca.strip(),
                                            cb.strip()))
            if want is None and sa != sb:
                bad.append("%s: sshd %s, postern %s" % (name, sa, sb))
            elif want is not None and (sa, sb) != (want[0], want[1]):
                bad.append("%s: want sshd %s and postern %s (documented), "
                           "got %s and %s" % (name, want[0], want[1], sa, sb))
            elif want is None:
                missing = [x for x in la if x not in lb]
                if missing:
                    bad.append("%s: postern's log lacks sshd's %s (has %s)"
                               % (name, missing, lb))
    check(not bad, "%d of %d cells differ:\n%s"
          % (len(bad), len(cells), "\n".join(bad)))
