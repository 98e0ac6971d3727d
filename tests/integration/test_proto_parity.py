"""
test_proto_parity.py: what the server answers to unrecognised and
out-of-place messages, next to OpenSSH's sshd 9.2 (/usr/sbin/sshd on this
machine), cell by cell. A raw client (protowire.py, in /usr/bin/python3)
sends one message per connection at one point of it:

- first      before the client's KEXINIT (strict KEX and not)
- kex        in the first key exchange, after both KEXINITs
- kexreply   in the first key exchange, after the server's NEWKEYS
- noservice  after the first exchange, before SERVICE_REQUEST
- userauth   after SERVICE_ACCEPT
- postauth   after USERAUTH_SUCCESS
- rekey      after USERAUTH_SUCCESS, in a key exchange the client starts
             (strict KEX negotiated in the first exchange and not)

The messages: unassigned numbers of every range (transport 10, 15, 25,
29, 45, 49; userauth 55, 70, 79; connection 110, 127; reserved 150, 191;
local 200, 253, 254, 255; and 0), and known ones out of place (a second
SERVICE_REQUEST, CHANNEL_DATA before auth, USERAUTH_REQUEST after it,
KEX_ECDH_INIT and NEWKEYS outside an exchange, GLOBAL_REQUEST with
want-reply before auth, ...). For each cell the outcome on the wire -
UNIMPLEMENTED with the packet's own sequence number, ignored, the
request's own answer, DISCONNECT and its reason code, or a bare close -
must be sshd's, except for the differences docs/protocol.md documents
(DIFFERENT below). The servers run side by side with the same host key,
user and key, each cell on a fresh connection.

The log lines sshd writes for these cells at LogLevel VERBOSE
(dispatch_protocol_error, kex_protocol_error, ssh_dispatch_run_fatal,
bad service request, window adjust for a non-open channel, strict KEX
violation) must be in postern's log for the same cell too.
"""

import json
import os
import re
import subprocess

import harness
from harness import check, timeout

SSHD = harness.OPENSSH_SSHD
SYSTEM_PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
PROTOWIRE = os.path.join(HERE, "protowire.py")

MSGS = ["ignore", "debug", "unimplemented", "service_request",
        "service_request_conn", "service_accept", "ext_info", "newkeys",
        "ecdh_init", "ecdh_reply", "userauth_request", "userauth_success",
        "pk_ok", "info_response", "global_request",
        "global_request_noreply", "request_success", "request_failure",
        "channel_open", "window_adjust", "channel_data", "channel_success",
        "channel_failure", "ping", "pong"] + \
    ["type_%d" % n for n in (0, 10, 15, 25, 29, 45, 49, 55, 70, 79, 110,
                             127, 150, 191, 200, 253, 254, 255)]

# Cells that test nothing: the message is the one the phase expects next
# (the client then sends it again), or the client's own keys go wrong.
SKIP = {("kex", "ecdh_init"), ("rekey", "ecdh_init"),
        ("kexreply", "newkeys")}

# Where postern answers otherwise, on purpose (docs/protocol.md):
# (phase, strict or None for both, message) -> (sshd's, postern's).
NON_TRANSPORT = ["userauth_request", "userauth_success", "pk_ok",
                 "info_response", "global_request",
                 "global_request_noreply", "request_success",
                 "request_failure", "channel_open", "window_adjust",
                 "channel_data", "channel_success", "channel_failure",
                 "type_55", "type_70", "type_79", "type_110", "type_127",
                 "type_150", "type_191"]
# Transport messages 5..49 (protowire.py's numbers).
TRANSPORT = ["service_request", "service_request_conn", "service_accept",
             "ext_info", "newkeys", "ecdh_init", "ecdh_reply", "type_10",
             "type_15", "type_25", "type_29", "type_45", "type_49"]
DIFFERENT = {}
# ping@openssh.com (OpenSSH 9.5, advertised in EXT_INFO): sshd 9.2 has
# no message 192 or 193 and ends the connection.
for _ph in ("noservice", "userauth"):
    DIFFERENT[(_ph, None, "ping")] = ("disconnect-2", "ignored")
    DIFFERENT[(_ph, None, "pong")] = ("disconnect-2", "unimplemented")
    # ext-info-s is offered: a client's EXT_INFO is taken (RFC 8308).
    DIFFERENT[(_ph, None, "ext_info")] = ("unimplemented", "ignored")
DIFFERENT[("postauth", None, "ping")] = ("disconnect-2", "pong")
# A PONG after login is dropped, as by OpenSSH 9.5+ (we send no PING).
DIFFERENT[("postauth", None, "pong")] = ("disconnect-2", "ignored")
DIFFERENT[("rekey", None, "ping")] = ("disconnect-2", "ignored")
DIFFERENT[("rekey", None, "pong")] = ("disconnect-2", "ignored")
# NEWKEYS out of place in a rekey under strict KEX: sshd answers, then
# (its sequence number reset on any NEWKEYS) fails the next packet's MAC.
DIFFERENT[("rekey", True, "newkeys")] = ("unimplemented+closed",
                                         "unimplemented")
# Above the transport in the first key exchange: both end the
# connection; sshd closes it without a word, postern sends DISCONNECT.
# Both log "Disconnected from ADDR port P" (fail2ban's aggressive mode
# counts it): these cells' lines are compared all the same.
SAME_LOG = set()
for _ph in ("first", "kex", "kexreply"):
    for _m in NON_TRANSPORT:
        DIFFERENT[(_ph, None, _m)] = ("closed", "disconnect-2")
        SAME_LOG.add((_ph, _m))

RX_LOG = re.compile(
    r"^((?:dispatch|kex)_protocol_error: type \d+ seq \d+|"
    r"ssh_dispatch_run_fatal: Connection from "
    r"(?:(?:authenticating |invalid )?user \S+ )?127\.0\.0\.1 "
    r"port \d+: Protocol error|"
    r"Disconnecting (?:(?:authenticating|invalid) user \S+ )?127\.0\.0\.1 "
    r"port \d+: (?:bad service request .*|"
    r"strict KEX violation: .*)|"
    r"Received window adjust for non-open channel \d+\.|"
    r"Disconnected from 127\.0\.0\.1 port \d+)"
    r"(?: \[preauth\])?$", re.M)
RX_CONN = re.compile(r"^Connection from 127\.0\.0\.1 port (\d+) on ", re.M)


class Server:
    """sshd or posternd on a port of its own, logging to a file (-e)."""

    def __init__(self, ctx, kind, extra=(), tag="", binary=None):
        self.kind = kind
        self.port = harness.free_port()
        if binary is None:
            binary = SSHD if kind == "sshd" else ctx.server_path
        name = kind + tag
        conf = os.path.join(ctx.dir, "%s.conf" % name)
        with open(conf, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
                    "PidFile %s/%s.pid\nLogLevel VERBOSE\n"
                    "AuthorizedKeysFile .ssh/authorized_keys\n"
                    % (self.port, ctx.host_key, ctx.dir, name))
            f.write("".join(line + "\n" for line in extra))
        self.log = os.path.join(ctx.dir, "%s.log" % name)
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(
                [binary, "-D", "-e", "-f", conf], stdin=subprocess.DEVNULL,
                stdout=logf, stderr=logf, start_new_session=True,
                cwd=ctx.dir)
        ctx.cleanups.append(self.stop)
        check(harness.poll_until(lambda: self.proc.poll() is not None or
                                 harness.port_listening(self.port), 10) and
              self.proc.poll() is None,
              "%s did not start: %s" % (kind, harness.read_text(self.log)))

    def stop(self):
        harness.Context.stop_server(self)


def _cells(phases, stricts):
    return [{"phase": p, "strict": s, "msg": m}
            for p in phases for s in stricts for m in MSGS
            if (p, m) not in SKIP]


def _run(peer, user, cells):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.run([SYSTEM_PYTHON, PROTOWIRE, str(peer.port), user.name,
                        user.key], input=json.dumps(cells).encode(),
                       capture_output=True, timeout=900, env=env)
    check(p.returncode == 0, "protowire against %s failed: %s"
          % (peer.kind, p.stderr.decode(errors="replace")[-1500:]))
    return json.loads(p.stdout)


def log_chunks(path, results):
    """Each cell's part of the server's log: what follows its connection's
    'Connection from' line, up to the next one; None when there is none.
    results: the wire client's, in the cells' order, with each cell's
    "lport". The cells ran one after another, so their connections come
    in that order: a cell's is the first one from its port after the
    previous cell's. (A client port may come again in one run: the
    kernel hands out an earlier connection's port once that one is
    gone.)"""
    text = harness.read_text(path)
    marks = list(RX_CONN.finditer(text))
    chunks = [(int(m.group(1)),
               text[m.end():marks[i + 1].start()
                    if i + 1 < len(marks) else len(text)])
              for i, m in enumerate(marks)]
    out, pos = [], 0
    for r in results:
        j = next((k for k in range(pos, len(chunks))
                  if chunks[k][0] == r["lport"]), None)
        out.append(None if j is None else chunks[j][1])
        pos = pos if j is None else j + 1
    return out


def _cell_logs(path, results):
    """RX_LOG's lines of each cell (log_chunks), ports masked."""
    return [sorted(re.sub(r"port \d+", "port N", x.group(1))
                   for x in RX_LOG.finditer(chunk or ""))
            for chunk in log_chunks(path, results)]


def _matrix(ctx, phases, stricts):
    u = ctx.make_user()
    harness.openssh_sshd()
    sshd = Server(ctx, "sshd")
    ours = Server(ctx, "postern")
    cells = _cells(phases, stricts)
    got = {"sshd": _run(sshd, u, cells), "postern": _run(ours, u, cells)}
    check(sshd.proc.poll() is None and ours.proc.poll() is None,
          "a server exited")
    bad = []
    logged = []
    for i, (c, a, b) in enumerate(zip(cells, got["sshd"], got["postern"])):
        want = DIFFERENT.get((c["phase"], c["strict"], c["msg"])) or \
            DIFFERENT.get((c["phase"], None, c["msg"]))
        name = "%s%s %s" % (c["phase"], " strict" if c["strict"] else "",
                            c["msg"])
        if want is None and a["outcome"] != b["outcome"]:
            bad.append("%s: sshd %s (%s), postern %s (%s)"
                       % (name, a["outcome"], a["detail"], b["outcome"],
                          b["detail"]))
        elif want is not None and (a["outcome"], b["outcome"]) != want:
            bad.append("%s: want sshd %s and postern %s (documented), got "
                       "%s (%s) and %s (%s)" % (name, want[0], want[1],
                                                a["outcome"], a["detail"],
                                                b["outcome"], b["detail"]))
        elif want is None or (c["phase"], c["msg"]) in SAME_LOG:
            logged.append((i, name))

    def log_gaps():
        """sshd's lines for a cell that postern's log lacks. A line may
        be written after the client has seen the connection end (the
        monitor relays the preauth process's lines): polled."""
        logs = {"sshd": _cell_logs(sshd.log, got["sshd"]),
                "postern": _cell_logs(ours.log, got["postern"])}
        gaps = []
        for i, name in logged:
            la = logs["sshd"][i]
            lb = logs["postern"][i]
            missing = [l for l in la if l not in lb]
            if missing:
                gaps.append("%s: postern's log lacks sshd's %s (has %s)"
                            % (name, missing, lb))
        return gaps

    gaps = log_gaps()
    if gaps:
        harness.poll_until(lambda: not log_gaps(), 5)
        gaps = log_gaps()
    bad += gaps
    check(not bad, "%d of %d cells differ:\n%s"
          % (len(bad), len(cells), "\n".join(bad)))


@timeout(300)
def test_proto_parity_first_kex(ctx):
    _matrix(ctx, ["first", "kex", "kexreply"], [False, True])


@timeout(300)
def test_proto_parity_userauth(ctx):
    _matrix(ctx, ["noservice", "userauth"], [False])


@timeout(300)
def test_proto_parity_postauth(ctx):
    _matrix(ctx, ["postauth"], [False])


@timeout(300)
def test_proto_parity_rekey(ctx):
    _matrix(ctx, ["rekey"], [False, True])


@timeout(300)
def test_proto_preauth_rekey(ctx):
    """sshd 9.2 takes part in no key exchange before authentication (it
    answers the client's KEXINIT with UNIMPLEMENTED); postern does
    (RekeyLimit), and in it answers each message as in the userauth
    phase around it, and transport messages (5..49) out of turn with
    UNIMPLEMENTED, as sshd in a rekey after authentication."""
    u = ctx.make_user()
    ours = Server(ctx, "postern")
    msgs = [m for m in MSGS if m != "ecdh_init"]
    around = _run(ours, u, [{"phase": "userauth", "strict": False, "msg": m}
                            for m in msgs])
    bad = []
    for strict in (False, True):
        got = _run(ours, u, [{"phase": "prerekey", "strict": strict,
                              "msg": m} for m in msgs])
        for m, a, b in zip(msgs, around, got):
            want = "unimplemented" if m in TRANSPORT else a["outcome"]
            if b["outcome"] != want:
                bad.append("%s%s: %s (%s) in the rekey, want %s"
                           % (m, " strict" if strict else "", b["outcome"],
                              b["detail"], want))
    check(not bad, "in a rekey before authentication:\n%s" % "\n".join(bad))
    check(ours.proc.poll() is None, "postern exited")


class _Cork:
    """Stands in for a socket: keeps what is sent, for one write later."""

    def __init__(self):
        self.data = b""

    def sendall(self, b):
        self.data += b


@timeout(60)
def test_proto_pipelined_with_userauth(ctx):
    """A client that sends its USERAUTH_REQUEST and a GLOBAL_REQUEST in
    one write (as a pipelining client may): the request is answered at
    once, as sshd does, not when some other byte comes. The request
    arrives with the login, so preauth hands it to the session unread."""
    import protowire
    u = ctx.make_user()
    ctx.start_server()
    c = protowire.Conn(ctx.port, True)
    log = []
    protowire.full_kex(c, log)
    protowire.service(c, log)
    sock, cork = c.sock, _Cork()
    c.sock = cork
    c.send(c.auth_request(u.name, u.key))
    c.send(bytes([80]) + protowire.s("no-such-request@example.com") +
           b"\x01")
    c.sock = sock
    sock.sendall(cork.data)
    protowire.expect(c, (52,), log)
    try:
        t, _ = protowire.expect(c, (81, 82), log)
    except TimeoutError:
        t = None
    check(t == 82, "the pipelined global request got %r (want "
          "REQUEST_FAILURE); before it: %r" % (t, [x[0] for x in log]))
    protowire.bye(c)


@timeout(60)
def test_proto_third_kex_before_auth_refused_in_words(ctx):
    """Before authentication the client may rekey once (the monitor signs
    two exchanges); a third KEXINIT ends the connection with a DISCONNECT
    and a log line naming the client, not a silent close and a monitor
    line that reads like a hostile preauth process."""
    import protowire
    ctx.start_server()
    c = protowire.Conn(ctx.port, True)
    log = []
    protowire.full_kex(c, log)
    protowire.service(c, log)
    protowire.full_kex(c, log)   # the one rekey allowed
    c.kexinit()
    protowire.drain(c, log)
    got = [(t, p) for t, p, _ in log if t == 1]
    check(got and got[0][1][:4] == protowire.u32(2) and
          b"too many key exchanges" in got[0][1],
          "no DISCONNECT (protocol error) for the third exchange: %r"
          % [t for t, _, _ in log])
    check(ctx.wait_log(r"^Disconnecting 127\.0\.0\.1 port %d: too many key "
                       r"exchanges before authentication \[preauth\]$"
                       % c.lport, 5),
          "no log line naming the client")
    check("bad message" not in ctx.server_log(),
          "the monitor saw a bad message: %r" % ctx.server_log()[-600:])


@timeout(60)
def test_proto_login_during_preauth_rekey(ctx):
    """A USERAUTH_REQUEST that succeeds in a key exchange the client
    started before authentication (after its KEXINIT, before its
    ECDH_INIT): USERAUTH_SUCCESS waits for the exchange to end, and the
    monitor, already authenticated, still signs its hash. It refused
    (bad message 3 in state 2): "Accepted publickey" was logged and the
    connection closed without a word. sshd 9.2 takes part in no rekey
    before authentication (UNIMPLEMENTED to the KEXINIT) and logs in."""
    import protowire
    u = ctx.make_user()
    ctx.start_server()
    c = protowire.Conn(ctx.port, False)
    log = []
    protowire.full_kex(c, log)
    protowire.service(c, log)
    c.kexinit()
    c.send(c.auth_request(u.name, u.key))
    got = None
    try:
        c.wait_kexinit(log)
        c.ecdh(log)
        c.wait_newkeys(log)
        c.send_newkeys()
        got, _ = protowire.expect(c, (51, 52), log)
        c.send(bytes([80]) + protowire.s("no-such-request@example.com") +
               b"\x01")
        protowire.expect(c, (81, 82), log)
    except (protowire.Closed, TimeoutError):
        pass
    check(got == 52, "no USERAUTH_SUCCESS after the rekey: %r; log: %s"
          % ([t for t, _, _ in log], ctx.server_log()[-800:]))
    check("bad message" not in ctx.server_log(),
          "the monitor saw a bad message: %r" % ctx.server_log()[-600:])
    protowire.bye(c)
