"""
test_monitor_ipc.py: the root monitor against its peers. A client whose
userauth requests never fail (key queries answered PK_OK) is cut off
after sshd's 1024 requests; a session process whose IPC cannot be framed
(a length past the limit, a descriptor nobody asked for) is logged and
killed, not left running without its monitor; one that asks for DH groups
faster than rekeying needs is refused and killed, as for signatures.
"""

import os
import re
import socket
import subprocess

import harness
from harness import check, poll_until, run, timeout

HERE = os.path.dirname(os.path.abspath(__file__))

# paramiko is in /usr/bin/python3 only. pkwire.Conn sends hand-made
# publickey requests; each query is answered PK_OK ("pk_ok") until the
# connection ends ("closed").
QUERIES = r"""
import sys
sys.path.insert(0, sys.argv[1])
import pkwire
port, user, pub, n = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
conn = pkwire.Conn(port, user)
blob = pkwire.blob_of(pub)
done, last = 0, ""
for _ in range(n):
    last = conn.request("ssh-ed25519", blob)
    if last != "pk_ok":
        break
    done += 1
print(done, last, flush=True)
conn.t.close()
"""


@timeout(240)
def test_userauth_requests_capped(ctx):
    """1100 key queries that never fail: 1024 are answered, then the
    monitor ends the connection with sshd's lines."""
    u = ctx.make_user()
    ctx.start_server()
    script = os.path.join(ctx.dir, "queries.py")
    with open(script, "w") as f:
        f.write(QUERIES)
    argv = ["/usr/bin/python3", script, HERE, str(ctx.port), u.name,
            u.pubkey, "1100"]
    p = run(argv, 200, check_rc=False)
    ctx._note_client(argv, p.returncode, p.stderr)
    out = p.stdout.decode(errors="replace").strip()
    check(out == "1024 closed", "1100 key queries: %r (want '1024 "
          "closed')\n%s" % (out, p.stderr[-2000:]))
    check(ctx.wait_log(r"^maximum authentication attempts exceeded "
                       r"for %s from 127\.0\.0\.1 port \d+ ssh2 \[preauth\]$"
                       % u.name, 10),
          "no maximum-attempts line:\n%s" % harness.tail(ctx.server_log()))
    check(ctx.wait_log(r"Disconnecting authenticating user %s 127\.0\.0\.1 "
                       r"port \d+: Too many authentication failures "
                       r"\[preauth\]" % u.name, 10),
          "no Disconnecting line:\n%s" % harness.tail(ctx.server_log()))


# A session process that reads its two first messages, then asks for 1000
# host key signatures (SIGN_FLOOD), DH groups (GEX_FLOOD) or hostkeys-prove
# answers (PROVE_FLOOD) at once, noting each it gets; or asks for 100000
# hostkeys-prove answers and reads none (UNREAD_PROVE); or sends what the
# monitor cannot frame (BAD_FD: a pty request with a descriptor; else a
# length past IPC_MAX_MESSAGE) and stays, noting that it is alive.
FAKE_SESSION = r'''
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int rd(void *p, size_t n) {
	size_t o = 0;
	while (o < n) {
		ssize_t r = read(4, (char *)p + o, n - o);
		if (r <= 0) return -1;
		o += (size_t)r;
	}
	return 0;
}
static int skip(uint8_t *type) {
	uint8_t h[5], *tmp;
	uint32_t n;
	if (rd(h, 5)) return -1;
	n = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
	*type = h[4];
	if (n < 1 || (tmp = malloc(n)) == NULL) return -1;
	if (n > 1 && rd(tmp, n - 1)) return -1;
	free(tmp);
	return 0;
}
/* n bytes of p to the monitor with descriptor fd: sendmsg's result. */
static ssize_t send_fd(void *p, size_t n, int fd) {
	union { struct cmsghdr a; char b[CMSG_SPACE(sizeof(int))]; } cm;
	struct iovec iov = {p, n};
	struct msghdr msg;
	struct cmsghdr *c;
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.b;
	msg.msg_controllen = sizeof(cm.b);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(4, &msg, 0);
}
int main(void) {
	uint8_t m[5] = {0, 0, 0, 1, 21}; /* IPC_SESSION_PTY_REQ */
	FILE *out = fopen(OUT, "w");
	uint8_t t;
	int i;
	if (out == NULL || skip(&t) || skip(&t)) return 1; /* INIT, LOGIN */
	fprintf(out, "started\n");
	fflush(out);
#if defined(SIGN_FLOOD) || defined(GEX_FLOOD) || defined(PROVE_FLOOD)
	for (i = 0; i < 1000; i++) {
#if defined(PROVE_FLOOD)
		/* IPC_SESSION_PROVE_REQ for no keys */
		const uint8_t g[5] = {0, 0, 0, 1, 30};
		const uint8_t want = 31; /* IPC_SESSION_PROVE_REPLY */
#elif defined(SIGN_FLOOD)
		/* IPC_SESSION_SIGN_REQ: "ssh-ed25519", a 32-byte hash */
		uint8_t g[56] = {0, 0, 0, 52, 9, 0, 0, 0, 11, 's', 's', 'h',
		    '-', 'e', 'd', '2', '5', '5', '1', '9', 0, 0, 0, 32};
		const uint8_t want = 10; /* IPC_SESSION_SIGN_REPLY */
		memcpy(g + 24, &i, sizeof(i));
#else
		/* IPC_GEX_REQ: min 2048, n 3072, max 8192 */
		const uint8_t g[17] = {0, 0, 0, 13, 32, 0, 0, 8, 0, 0, 0, 12,
		    0, 0, 0, 32, 0};
		const uint8_t want = 33; /* IPC_GEX_REPLY */
#endif
		if (write(4, g, sizeof(g)) != (ssize_t)sizeof(g) ||
		    skip(&t) || t != want)
			break;
		/* Written each time: the monitor kills it when it refuses. */
		fprintf(out, "granted %d\n", i + 1);
		fflush(out);
	}
	return 0;
#elif defined(UNREAD_PROVE)
	{
		/* IPC_SESSION_PROVE_REQ for no keys, 100000 times, none of
		 * the replies read */
		static uint8_t g[5 * 1000];
		for (i = 0; i < 1000; i++)
			memcpy(g + 5 * i, "\0\0\0\1\36", 5);
		for (i = 0; i < 100; i++)
			if (write(4, g, sizeof(g)) != (ssize_t)sizeof(g))
				break;
		fprintf(out, "sent %d\n", i);
		fflush(out);
	}
#elif defined(LINGER_FD)
	{
		/* A TCP connection to itself whose peer never reads, with
		 * unsent data and an endless SO_LINGER: its last close waits
		 * for ever. Sent with a pty request's first byte, its own copy
		 * closed before the rest, so the monitor's close would be that
		 * last one. Then a hostkeys-prove request, for no keys: is the
		 * monitor there? */
		static char junk[65536];
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		struct linger lg = {1, 0x7fffffff};
		const uint8_t g[5] = {0, 0, 0, 1, 30};
		int l, s, peer;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((l = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(l, 1) ||
		    getsockname(l, (struct sockaddr *)&sa, &sl) ||
		    (s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
		    connect(s, (struct sockaddr *)&sa, sizeof(sa)) ||
		    (peer = accept(l, NULL, NULL)) < 0 ||
		    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ||
		    fcntl(s, F_SETFL, O_NONBLOCK))
			return 1;
		while (write(s, junk, sizeof(junk)) > 0)
			;
		if (send_fd(m, 1, s) == 1) {
			close(s);
			fprintf(out, "fd sent\n");
			if (write(4, m + 1, sizeof(m) - 1) !=
			    (ssize_t)sizeof(m) - 1)
				return 1;
		} else
			/* Kept: this close would be the one that waits. */
			fprintf(out, "fd refused: %d\n", errno);
		fflush(out);
		if (write(4, g, sizeof(g)) == (ssize_t)sizeof(g) &&
		    skip(&t) == 0 && t == 31)
			fprintf(out, "answered\n");
		fflush(out);
	}
#elif defined(BAD_FD)
	if (send_fd(m, sizeof(m), 0) != (ssize_t)sizeof(m)) {
		/* SO_PASSRIGHTS off at the monitor's end */
		fprintf(out, "fd refused: %d\n", errno);
		fflush(out);
	}
#else
	m[0] = 0x7f; /* 2 GiB */
	if (write(4, m, sizeof(m)) != (ssize_t)sizeof(m)) return 1;
#endif
	for (i = 0; i < 600; i++) {
		fprintf(out, "alive %d\n", i);
		fflush(out);
		sleep(1);
	}
	return 0;
}
'''


def _fake_session(ctx, mode):
    """Log in with FAKE_SESSION (built with -D mode, if any) as
    postern-session; the file it writes to."""
    u = ctx.make_user()
    out = os.path.join(ctx.dir, "session.out")
    open(out, "w").close()
    os.chmod(out, 0o666)
    src = os.path.join(ctx.dir, "fake_session.c")
    with open(src, "w") as f:
        f.write(FAKE_SESSION)
    exe = os.path.join(ctx.dir, "fake_session")
    run(["cc", "-O2", "-DOUT=\"%s\"" % out] +
        (["-D" + mode] if mode else []) + ["-o", exe, src])
    os.chmod(exe, 0o711)
    srv = harness.copy_server(ctx.server_path, os.path.join(ctx.dir, "bin"),
                              {"postern-session": exe})
    ctx.start_server(server=srv)
    # The client waits on a session that never answers: in the
    # background, ended with the test.
    ctx.popen(ctx.ssh_argv(u, "true"), stdin=subprocess.DEVNULL,
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    check(ctx.wait_log(r"^Accepted publickey for %s " % u.name, 10),
          "login failed:\n%s" % harness.tail(ctx.server_log()))
    check(harness.poll_until(lambda: "started" in open(out).read(), 10),
          "the fake session never ran")
    return out


def _bad_session(ctx, bad_fd):
    """A session that sends what cannot be framed is logged and killed;
    the reason logged."""
    _fake_session(ctx, "BAD_FD" if bad_fd else None)
    m = ctx.wait_log(r"^monitor: bad message from session: (.*)$", 20)
    check(m, "no line for the bad message:\n%s"
          % harness.tail(ctx.server_log()))
    check(harness.poll_until(
        lambda: not harness.descendants(ctx.proc.pid), 20),
        "the session outlived its bad message")
    return m.group(1)


@timeout(120)
def test_session_unframable_message_ends_session(ctx):
    """A session that announces a 2 GiB message is logged and killed."""
    why = _bad_session(ctx, bad_fd=False)
    check(why == "length exceeds limit", "the reason: %r" % why)


@timeout(120)
def test_session_descriptor_ends_session(ctx):
    """A session cannot pass the monitor a descriptor: the kernel
    refuses it at the send (SO_PASSRIGHTS, Linux 6.16 on), else the
    monitor closes it unread and the session is logged and killed."""
    if not _passrights():
        why = _bad_session(ctx, bad_fd=True)
        check(why == "protocol error", "the reason: %r" % why)
        return
    out = _fake_session(ctx, "BAD_FD")
    check(poll_until(lambda: "fd refused: 1\n" in open(out).read(), 10),
          "the descriptor was not refused with EPERM: %r\n%s"
          % (open(out).read(), harness.tail(ctx.server_log())))


def _passrights():
    """1 if this kernel has SO_PASSRIGHTS (83 in asm-generic)."""
    a, b = socket.socketpair()
    try:
        a.setsockopt(socket.SOL_SOCKET, 83, 0)
        return 1
    except OSError:
        return 0
    finally:
        a.close()
        b.close()


def _flood(ctx, mode, what):
    """A session asking for 1000 of what at once gets the burst of 16,
    then the monitor refuses, logs and ends it."""
    out = _fake_session(ctx, mode)
    check(ctx.wait_log(r"^monitor: %s refused: the session asked for more "
                       r"than rekeying needs \(16 granted\); ending the "
                       r"connection$" % what, 20),
          "no refusal logged:\n%s" % harness.tail(ctx.server_log()))
    check(harness.poll_until(
        lambda: not harness.descendants(ctx.proc.pid), 20),
        "the session outlived the refusal")
    n = open(out).read().count("granted")
    check(n == 16, "the session got %d, want the burst of 16" % n)


@timeout(120)
def test_session_descriptor_cannot_hold_monitor(ctx):
    """A session that sends the monitor a descriptor whose last close
    blocks (a TCP socket with unsent data, SO_LINGER for ever, a peer
    that never reads) cannot hold the root monitor in that close: the
    descriptor is refused at the send (SO_PASSRIGHTS off), or closed at
    once and the session killed; either way the monitor goes on."""
    out = _fake_session(ctx, "LINGER_FD")

    def settled():
        text = open(out).read()
        if "fd refused" in text:
            return "answered" in text
        return (ctx.server_log().count("monitor: bad message from session")
                > 0 and not harness.descendants(ctx.proc.pid))
    check(poll_until(settled, 20),
          "the monitor is stuck on the session's descriptor:\n%s\n%s"
          % (open(out).read(), harness.tail(ctx.server_log())))


@timeout(120)
def test_session_signature_budget(ctx):
    """A session process that asks for 1000 host key signatures at once:
    it gets the burst, then the monitor refuses, logs and ends it."""
    _flood(ctx, "SIGN_FLOOD", "host key signature")


@timeout(120)
def test_session_dh_group_budget(ctx):
    """The same for DH groups (each read from ModuliFile by root)."""
    _flood(ctx, "GEX_FLOOD", "DH group")


@timeout(180)
def test_session_dh_group_budget_client_rekeys(ctx):
    """A client that re-keys often with group exchange (a DH group, then
    a signature, per exchange) is never refused either: OpenSSH's ssh
    uploads 2 MiB with RekeyLimit=16K (some 60 exchanges)."""
    u = ctx.make_user()
    ctx.start_server(
        extra_config=["KexAlgorithms diffie-hellman-group-exchange-sha256"])
    path, digest, _ = ctx.random_file(2 * 1024 * 1024)
    with open(path, "rb") as f:
        r = ctx.ssh(u, "sha256sum", stdin=f, timeout_s=150, extra=(
            "-o", "RekeyLimit=16K",
            "-o", "KexAlgorithms=diffie-hellman-group-exchange-sha256"))
    check(r.rc == 0 and r.stdout == (digest + "  -\n").encode(),
          "the upload with RekeyLimit=16K: %r\n%s"
          % (r, "\n".join(harness.tail(ctx.server_log(), 5))))
    log = ctx.server_log()
    check("more than rekeying needs" not in log,
          "a re-keying was refused:\n%s" % "\n".join(harness.tail(log, 5)))
    check(log.count("SSH2_MSG_KEX_DH_GEX_REQUEST received") > 16,
          "fewer group exchanges than the burst: the test proves nothing")


@timeout(120)
def test_session_unread_replies_end_session(ctx):
    """A session process that asks and never reads the answers (a
    taken-over one): once the monitor's socket is full, its send gives up
    after 10 s, logged, and the session is killed, instead of the root
    monitor blocking for ever, deaf to the signals it passes on."""
    _fake_session(ctx, "UNREAD_PROVE")
    check(ctx.wait_log(r"^monitor: bad message 30 from session: timed out$",
                       40),
          "the monitor did not give up on the unread replies:\n%s"
          % harness.tail(ctx.server_log()))
    check(harness.poll_until(
        lambda: not harness.descendants(ctx.proc.pid), 20),
        "the session outlived its unread replies")


@timeout(120)
def test_session_prove_requests_logged_once(ctx):
    """A session process that sends 1000 hostkeys-prove requests: past
    the 8 served, each is refused, with one error line, not 992."""
    out = _fake_session(ctx, "PROVE_FLOOD")
    check(poll_until(lambda: "granted 1000" in open(out).read(), 20),
          "the session's requests were not all answered:\n%s"
          % harness.tail(ctx.server_log()))
    n = ctx.server_log().count("monitor: too many hostkeys-prove requests")
    check(n == 1, "%d lines for the refused requests, want 1" % n)


# A hostile preauth process, exec'd by the monitor in postern-preauth's
# place (as root, unsandboxed: it only talks to the monitor on fd 4). It
# signs a hash of its choosing as the first exchange, logs in USER with
# KEY over it (publickey, signed as a client would), then hands over a
# state; MODE says what it leaves out or adds. It writes the monitor's
# answers to OUT.
FAKE_PREAUTH = r'''#!/usr/bin/python3
import os, struct, sys
from cryptography.hazmat.primitives import serialization
MODE, USER, KEY, OUT = %r, %r, %r, %r
out = open(OUT, "w")
def note(*a):
    print(*a, file=out, flush=True)
def s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack(">I", len(b)) + b
def send(t, p):
    os.write(4, struct.pack(">IB", len(p) + 1, t) + p)
def rd(n):
    b = b""
    while len(b) < n:
        c = os.read(4, n - len(b))
        if not c:
            note("closed")
            sys.exit(0)
        b += c
    return b
def recv():
    n, t = struct.unpack(">IB", rd(5))
    return t, rd(n - 1)
def strings(p, k):
    r = []
    for _ in range(k):
        n = struct.unpack(">I", p[:4])[0]
        r.append(p[4:4 + n].decode())
        p = p[4 + n:]
    return r
t, init = recv()  # IPC_INIT
_, kex, hkalgs, ciphers, macs = strings(init, 5)
hk = hkalgs.split(",")[0]
sid = os.urandom(32)
if MODE == "banner_lines":
    # IPC_LOG: the identification exchange's prefixes, at INFO, then
    # twice at ERROR, then once more after a signature.
    for level, text in ((3, "Protocol major versions differ: 2 vs. 7"),
                        (2, "Protocol major versions differ: 2 vs. 8"),
                        (2, "Bad remote protocol version identification: "
                            "'SSH-9'")):
        send(2, struct.pack(">I", level) + s(text))
if MODE.startswith("forge:"):
    send(2, struct.pack(">I", 3) + s(MODE[6:]))
if MODE == "auth_first":
    send(5, s(USER) + s("ssh-connection") + s("none") + s(b""))
    note("reply", recv()[0])
send(3, s(hk) + s(sid))  # IPC_SIGN_REQ
note("signed", recv()[0])
if MODE == "banner_lines":
    send(2, struct.pack(">I", 2) + s("kex_exchange_identification: late"))
if MODE != "no_report":
    aead = [c for c in ciphers.split(",") if "gcm" in c or "chacha" in c][0]
    send(12, struct.pack(">I", 1) + s(kex.split(",")[0]) + s(hk) +
         s(aead) + s(aead) + s("") + s(""))  # IPC_AUDIT_KEX
if MODE == "third_sign":
    send(3, s(hk) + s(os.urandom(32)))
    note("signed", recv()[0])
    send(3, s(hk) + s(os.urandom(32)))
    note("signed", recv()[0])
key = serialization.load_ssh_private_key(open(KEY, "rb").read(), None)
raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                    serialization.PublicFormat.Raw)
blob = s("ssh-ed25519") + s(raw)
req = b"\x01" + s("ssh-ed25519") + s(blob)
sig = key.sign(s(sid) + b"\x32" + s(USER) + s("ssh-connection") +
               s("publickey") + req)
if MODE == "unread_success":
    # Key queries (PK_OK replies) left unread until the monitor's sends
    # block: the replies queued then are what its socket holds. Read them
    # all, then queue exactly that many again, so that the reply to the
    # signed request below finds the socket full.
    import fcntl, termios, time
    query = s(b"\x00" + s("ssh-ed25519") + s(blob))
    for _ in range(400):
        send(5, s(USER) + s("ssh-connection") + s("publickey") + query)
    time.sleep(1)
    queued = struct.unpack("i", fcntl.ioctl(4, termios.FIONREAD,
                                            b"\0\0\0\0"))[0]
    t, p = recv()
    held = queued // (5 + len(p))
    for _ in range(399):
        recv()
    note("held", held)
    for _ in range(held):
        send(5, s(USER) + s("ssh-connection") + s("publickey") + query)
    time.sleep(1)
send(5, s(USER) + s("ssh-connection") + s("publickey") +
     s(req + s(s("ssh-ed25519") + s(sig))))  # IPC_AUTH_REQ
if MODE == "unread_success":
    note("unread")
    time.sleep(120)
    sys.exit(0)
t, p = recv()
note("verdict", struct.unpack(">I", p[:4])[0])
state_sid = os.urandom(32) if MODE == "wrong_sid" else sid
note("state sent")
send(7, struct.pack(">I", 3) + s(state_sid) + s("the rest"))
rd(1)
'''


def _hostile_preauth(ctx, mode, log_rx, base=None):
    """Connect to a server (base's copy) whose preauth is FAKE_PREAUTH in
    mode; wait for the log line log_rx; the lines the fake preauth
    noted."""
    u = ctx.make_user()
    out = os.path.join(ctx.dir, "preauth.out")
    exe = os.path.join(ctx.dir, "fake_preauth")
    with open(exe, "w") as f:
        f.write(FAKE_PREAUTH % (mode, u.name, u.key, out))
    os.chmod(exe, 0o755)
    # A mode with the text of a forged line is no directory name.
    tag = mode if re.fullmatch(r"\w+", mode) else "forge-%d" % len(
        [n for n in os.listdir(ctx.dir) if n.startswith("bin-forge-")])
    srv = harness.copy_server(base or ctx.server_path,
                              os.path.join(ctx.dir, "bin-" + tag),
                              {"postern-preauth": exe})
    ctx.start_server(server=srv)
    ctx.raw_connect()
    check(ctx.wait_log(log_rx, 20), "%s: no line %r:\n%s"
          % (mode, log_rx, harness.tail(ctx.server_log())))
    return open(out).read().split("\n") if os.path.exists(out) else []


@timeout(60)
def test_hostile_preauth_handover_accepted(ctx):
    """The fake preauth's honest conversation: signed, reported, logged in
    by the monitor, handed over (the control for the tests below)."""
    got = _hostile_preauth(ctx, "honest", r"^User child is on pid \d+$")
    check(got[:3] == ["signed 4", "verdict 1", "state sent"],
          "the conversation: %r" % got)


@timeout(60)
def test_hostile_preauth_state_without_report(ctx):
    """A state handed over without the first exchange reported
    (IPC_AUDIT_KEX): no honest preauth gets there, and the audit trail
    would have no record of its keys. Refused; no session."""
    got = _hostile_preauth(
        ctx, "no_report", r"^monitor: bad message 7 from preauth in state 2: ")
    check(got[:2] == ["signed 4", "verdict 1"], "the login: %r" % got)
    check("User child is on pid" not in ctx.server_log(),
          "a session was started:\n%s" % harness.tail(ctx.server_log()))


@timeout(60)
def test_hostile_preauth_out_of_state(ctx):
    """A userauth request before any exchange, a third signature, a state
    for another session id: each ends the connection, logged."""
    base = ctx.server_path
    for mode, rx in (("auth_first", r"bad message 5 from preauth in state 0"),
                     ("third_sign", r"bad message 3 from preauth in state 1"),
                     ("wrong_sid", r"bad message 7 from preauth in state 2")):
        _hostile_preauth(ctx, mode, r"^monitor: %s: " % rx, base)
        ctx.stop_server()
    check("User child is on pid" not in ctx.server_log(),
          "a session was started:\n%s" % harness.tail(ctx.server_log()))


@timeout(60)
def test_hostile_preauth_unsuffixed_lines(ctx):
    """sshd logs its identification exchange's one error line before its
    preauth child exists, so without " [preauth]". A preauth process gets
    that form for one such line, at ERROR, before it has sent anything
    but log lines: any other line with those prefixes carries the
    suffix."""
    _hostile_preauth(ctx, "banner_lines", r"^User child is on pid \d+$")
    log = ctx.server_log()
    want = [("Protocol major versions differ: 2 vs. 7", True),
            ("Protocol major versions differ: 2 vs. 8", False),
            ("Bad remote protocol version identification: 'SSH-9'", True),
            ("kex_exchange_identification: late", True)]
    for text, suffixed in want:
        lines = [l for l in log.splitlines() if text in l]
        check(len(lines) == 1 and
              lines[0].endswith(" [preauth]") == suffixed,
              "%r should be logged once, %s: %r" % (
                  text, "with [preauth]" if suffixed else "without it",
                  lines))


@timeout(90)
def test_hostile_preauth_forged_lines(ctx):
    """A preauth line that fail2ban or sshguard would act on, and only the
    monitor writes (a verdict, a connection's end, behind "error: " or a
    Solaris "[ID N facility]" too), or that names an address other than
    the connection's, ends the connection unlogged: a compromised preauth
    could otherwise get any address banned. A line with such words past
    its start is logged, and the login goes on."""
    base = ctx.server_path
    benign = ("Remote protocol version 2.0, remote software version "
              "Failed password for root from 203.0.113.7")
    _hostile_preauth(ctx, "forge:" + benign, r"^User child is on pid \d+$",
                     base)
    check(re.search(r"^%s \[preauth\]$" % re.escape(benign),
                    ctx.server_log(), re.M),
          "the benign line was not logged:\n%s"
          % harness.tail(ctx.server_log()))
    ctx.stop_server()
    for text in ("Failed password for root from 203.0.113.7 port 22 ssh2",
                 "error: [ID 1 auth.info] Invalid user x from 203.0.113.7",
                 "  authentication failure for x from 203.0.113.7",
                 "Received disconnect from 203.0.113.7 port 22:3: x: Auth "
                 "fail",
                 "Unable to negotiate with 203.0.113.7 port 22: no matching"
                 " cipher found.",
                 "Disconnecting 203.0.113.7 port 22: too many"):
        # Each case's lines alone (wait_log reads the whole log).
        open(ctx.log_path, "w").close()
        _hostile_preauth(ctx, "forge:" + text,
                         r"^monitor: bad message 2 from preauth in state 0: ",
                         base)
        ctx.stop_server()
        log = ctx.server_log()
        check("monitor: preauth sent a log line that only the monitor "
              "writes, or that names another address" in log and
              "203.0.113.7" not in log and "User child" not in log,
              "%r: not refused:\n%s" % (text, harness.tail(log)))


@timeout(90)
def test_hostile_preauth_unread_reply(ctx):
    """A preauth that leaves the monitor's replies unread, so that the
    reply to a login the monitor accepted cannot be sent: the monitor
    gives up after 10 s, logged, instead of blocking for ever with
    LoginGraceTime already stopped (the connection would have counted
    against MaxStartups until a restart). No session."""
    got = _hostile_preauth(
        ctx, "unread_success",
        r"^monitor: preauth did not read the reply to message 5 in time$")
    held = [l for l in got if l.startswith("held ")]
    check(held and 100 < int(held[0].split()[1]) < 600 and "unread" in got,
          "the fake preauth did not fill the monitor's socket: %r" % got)
    log = ctx.server_log()
    check(re.search(r"^Accepted publickey for ", log, re.M),
          "the login was not accepted first:\n%s" % harness.tail(log))
    check("User child is on pid" not in log,
          "a session was started:\n%s" % harness.tail(log))
