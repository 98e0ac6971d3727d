"""
test_penalties.py: PerSourcePenalties and PerSourcePenaltyExemptList
(OpenSSH 9.8+, sshd_config(5)). Each loopback address is its own source
(PerSourceNetBlockSize 32:128). A connection that ends without
authenticating (a wrong key, a client that never tries, LoginGraceTime, a
crashed preauth process) penalises its source; the source's next
connection is closed before the banner with sshd 9.8's line, until the
penalty runs out. Exempt addresses are never refused; max-sources4 with
either overflow mode; -T as OpenSSH 9.9 prints it; off by default.
"""

import os
import re
import signal
import socket

import harness
from harness import check, run, timeout
# What a connection from a source reads first, and its local port.
from test_monitor_limits import _first_line_from

# Long enough that the source is still penalised when the test looks,
# short enough to wait for its end (polled, never timed).
PEN = "10s"
BASE = ["PerSourceNetBlockSize 32:128"]


def _refused(ctx, source, reason):
    """A connection from source is dropped at accept with sshd's line and
    words, and never reaches a monitor."""
    data, port = _first_line_from(ctx, source)
    check(data == b"Not allowed at this time\r\n",
          "a connection from penalised %s read %r" % (source, data))
    check(ctx.wait_log(r"^drop connection #\d+ from \[%s\]:%d on "
                       r"\[127\.0\.0\.1\]:%d %s$"
                       % (re.escape(source), port, ctx.port,
                          re.escape(reason)), 10),
          "no drop line for %s (%s)" % (source, reason))
    check(not re.search(r"^Connection from %s port %d "
                        % (re.escape(source), port),
                        ctx.server_log(), re.M),
          "the dropped connection from %s reached a monitor" % source)


def _banner_from(ctx, source):
    data, _ = _first_line_from(ctx, source)
    return data.startswith(b"SSH-2.0-")


def _ssh_from(ctx, u, source, key=None):
    return ctx.ssh(u, "echo ok", key=key,
                   extra=("-o", "BindAddress=%s" % source))


def _new_penalty(ctx, source, secs, reason):
    check(ctx.wait_log(r"ipv4: new %s/32 active penalty of %s seconds for "
                       r"%s$" % (re.escape(source), secs, re.escape(reason)),
                       15),
          "no new penalty line for %s (%s):\n%s"
          % (source, reason, harness.tail(ctx.server_log())))


@timeout(150)
def test_penalty_authfail_refuses_then_expires(ctx):
    """A wrong key from 127.0.0.3: its next connection, even with the
    right key, is closed before the banner (the client says so) and the
    listener logs sshd 9.8's drop line; 127.0.0.4 still logs in; once the
    penalty has run out 127.0.0.3 logs in again."""
    u = ctx.make_user()
    wrong = ctx.new_key("wrong")
    ctx.start_server(extra_config=BASE + [
        "PerSourcePenalties authfail:%s min:1s max:1m" % PEN])
    r = _ssh_from(ctx, u, "127.0.0.3", key=wrong)
    check(r.rc == 255, "a wrong key logged in: %r" % r)
    _new_penalty(ctx, "127.0.0.3", 10, "penalty: failed authentication")
    r = _ssh_from(ctx, u, "127.0.0.3")
    check(r.rc == 255 and b"kex_exchange_identification" in r.stderr,
          "the penalised source's ssh was not closed before the banner: %r"
          % r)
    _refused(ctx, "127.0.0.3", "penalty: failed authentication")
    r = _ssh_from(ctx, u, "127.0.0.4")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "another source was refused too: %r" % r)
    check(harness.poll_until(
        lambda: _ssh_from(ctx, u, "127.0.0.3").stdout == b"ok\n", 90),
        "the penalty of 127.0.0.3 never ran out:\n%s"
        % harness.tail(ctx.server_log()))


@timeout(120)
def test_penalty_noauth_and_min(ctx):
    """A client that connects and closes without trying to log in:
    noauth. Below min the penalty is only recorded ("deferred"), and the
    source gets in; a second one pushes it past min."""
    u = ctx.make_user()
    ctx.start_server(extra_config=BASE + [
        "PerSourcePenalties noauth:%s min:15s max:1m" % PEN])

    def bare():
        s = socket.create_connection(("127.0.0.1", ctx.port), 10,
                                     source_address=("127.0.0.5", 0))
        s.settimeout(10)
        check(s.recv(256).startswith(b"SSH-2.0-"), "no banner")
        s.sendall(b"SSH-2.0-scanner\r\n")
        s.close()
    bare()
    check(ctx.wait_log(r"ipv4: new 127\.0\.0\.5/32 deferred penalty of 10 "
                       r"seconds for penalty: connections without "
                       r"attempting authentication$", 15),
          "no deferred noauth penalty:\n%s" % harness.tail(ctx.server_log()))
    check(_banner_from(ctx, "127.0.0.5"),
          "a penalty below min refused the source")
    # That probe was a noauth connection too: the penalty passes min.
    check(ctx.wait_log(r"127\.0\.0\.5/32: activating ipv4 penalty of "
                       r"\d+ seconds for penalty: connections without "
                       r"attempting authentication$", 15),
          "the accrued penalty was not activated:\n%s"
          % harness.tail(ctx.server_log()))
    _refused(ctx, "127.0.0.5",
             "penalty: connections without attempting authentication")
    r = _ssh_from(ctx, u, "127.0.0.6")
    check(r.rc == 0, "another source was refused: %r" % r)


@timeout(120)
def test_penalty_grace_exceeded(ctx):
    """A client that stalls past LoginGraceTime: grace-exceeded."""
    ctx.start_server(extra_config=BASE + [
        "LoginGraceTime 2",
        "PerSourcePenalties grace-exceeded:%s min:1s" % PEN])
    s = socket.create_connection(("127.0.0.1", ctx.port), 10,
                                 source_address=("127.0.0.7", 0))
    ctx.sockets.append(s)
    s.sendall(b"SSH-2.0-staller\r\n")
    check(ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.7 ",
                       30), "LoginGraceTime did not end the connection")
    _new_penalty(ctx, "127.0.0.7", 10, "penalty: exceeded LoginGraceTime")
    _refused(ctx, "127.0.0.7", "penalty: exceeded LoginGraceTime")


@timeout(120)
def test_penalty_preauth_crash(ctx):
    """The preauth process of a connection from 127.0.0.8 dies of SIGILL
    (sent by the test, as root; a crash signal that AddressSanitizer
    leaves alone, so that the ASan build dies of it too): the monitor
    tells the listener, and the source is refused for "crash"."""
    ctx.start_server(extra_config=BASE + [
        "PerSourcePenalties crash:%s min:1s" % PEN])
    s = socket.create_connection(("127.0.0.1", ctx.port), 10,
                                 source_address=("127.0.0.8", 0))
    ctx.sockets.append(s)
    s.sendall(b"SSH-2.0-victim\r\n")
    pid = harness.find_descendant_by_exe(ctx.proc.pid, "postern-preauth")
    os.kill(pid, signal.SIGILL)
    check(ctx.wait_log(r"preauth process %d terminated by signal %d$"
                       % (pid, signal.SIGILL), 15),
          "the monitor did not see preauth crash")
    _new_penalty(ctx, "127.0.0.8", 10, "penalty: caused crash")
    _refused(ctx, "127.0.0.8", "penalty: caused crash")


@timeout(150)
def test_penalty_exempt_list(ctx):
    """127.0.0.2 is in PerSourcePenaltyExemptList: its failures are never
    penalised, and it logs in right after them; 127.0.0.1, not exempt,
    is refused after the same failure."""
    u = ctx.make_user()
    wrong = ctx.new_key("wrong")
    ctx.start_server(extra_config=BASE + [
        "PerSourcePenalties authfail:%s min:1s" % PEN,
        "PerSourcePenaltyExemptList 127.0.0.2,192.0.2.0/24"])
    for _ in range(3):
        check(_ssh_from(ctx, u, "127.0.0.2", key=wrong).rc == 255,
              "a wrong key logged in")
    check(ctx.wait_log(r"Failed publickey|Connection closed by "
                       r"authenticating user", 10), "no failure logged")
    r = _ssh_from(ctx, u, "127.0.0.2")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "the exempt source was refused: %r\n%s"
          % (r, harness.tail(ctx.server_log())))
    check("127.0.0.2/32" not in ctx.server_log(),
          "the exempt source got a penalty:\n%s"
          % harness.tail(ctx.server_log()))
    check(_ssh_from(ctx, u, "127.0.0.1", key=wrong).rc == 255,
          "a wrong key logged in")
    _new_penalty(ctx, "127.0.0.1", 10, "penalty: failed authentication")
    _refused(ctx, "127.0.0.1", "penalty: failed authentication")


@timeout(150)
def test_penalty_overflow_deny_all(ctx):
    """max-sources4:1 overflow:deny-all: with one source penalised, every
    other IPv4 source is refused ("too many penalised addresses"), except
    an exempt one."""
    u = ctx.make_user()
    wrong = ctx.new_key("wrong")
    ctx.start_server(extra_config=BASE + [
        "PerSourcePenalties authfail:%s min:1s max-sources4:1 "
        "overflow:deny-all" % PEN,
        "PerSourcePenaltyExemptList 127.0.0.2"])
    check(_ssh_from(ctx, u, "127.0.0.9", key=wrong).rc == 255,
          "a wrong key logged in")
    _new_penalty(ctx, "127.0.0.9", 10, "penalty: failed authentication")
    _refused(ctx, "127.0.0.10", "penalty: too many penalised addresses")
    r = _ssh_from(ctx, u, "127.0.0.2")
    check(r.rc == 0, "the exempt source was refused in deny-all: %r" % r)


@timeout(150)
def test_penalty_overflow_permissive(ctx):
    """max-sources4:1 overflow:permissive: a second penalised source
    pushes the first (nearer its end) out of the table, which lets it in
    again while the second is refused."""
    u = ctx.make_user()
    wrong = ctx.new_key("wrong")
    ctx.start_server(extra_config=BASE + [
        "PerSourcePenalties authfail:30s min:1s max:1m max-sources4:1 "
        "overflow:permissive"])
    check(_ssh_from(ctx, u, "127.0.0.11", key=wrong).rc == 255,
          "a wrong key logged in")
    _new_penalty(ctx, "127.0.0.11", 30, "penalty: failed authentication")
    _refused(ctx, "127.0.0.11", "penalty: failed authentication")
    check(_banner_from(ctx, "127.0.0.12"), "an unpenalised source refused")
    check(_ssh_from(ctx, u, "127.0.0.12", key=wrong).rc == 255,
          "a wrong key logged in")
    _new_penalty(ctx, "127.0.0.12", 30, "penalty: failed authentication")
    _refused(ctx, "127.0.0.12", "penalty: failed authentication")
    check(_banner_from(ctx, "127.0.0.11"),
          "the first source is still refused past max-sources4")


@timeout(120)
def test_penalty_off_by_default_and_T(ctx):
    """Without the keyword nothing is penalised (postern's default, unlike
    OpenSSH >= 9.8); -T prints what OpenSSH 9.9 prints."""
    u = ctx.make_user()
    wrong = ctx.new_key("wrong")
    ctx.start_server(extra_config=BASE)
    for _ in range(3):
        check(_ssh_from(ctx, u, "127.0.0.13", key=wrong).rc == 255,
              "a wrong key logged in")
    r = _ssh_from(ctx, u, "127.0.0.13")
    check(r.rc == 0, "refused with penalties off: %r" % r)
    check(not re.search(r"penalty of|^drop connection", ctx.server_log(),
                        re.M), "a penalty with them off")
    for lines, want in (
            ([], ["persourcepenalties no",
                  "persourcepenaltyexemptlist none"]),
            (["PerSourcePenalties yes"],
             ["persourcepenalties crash:90 authfail:5 noauth:1 "
              "grace-exceeded:20 max:600 min:15 max-sources4:65536 "
              "max-sources6:65536 overflow:permissive overflow6:permissive",
              "persourcepenaltyexemptlist none"]),
            (["PerSourcePenalties authfail:1m overflow:deny-all",
              "PerSourcePenalties authfail:2 min:3 overflow6:permissive",
              "PerSourcePenaltyExemptList 10.0.0.0/8,::1",
              "PerSourcePenaltyExemptList 127.0.0.1"],
             ["persourcepenalties crash:90 authfail:60 noauth:1 "
              "grace-exceeded:20 max:600 min:3 max-sources4:65536 "
              "max-sources6:65536 overflow:deny-all overflow6:permissive",
              "persourcepenaltyexemptlist 10.0.0.0/8,::1"])):
        path = os.path.join(ctx.dir, "t_%d.conf" % len(lines))
        with open(path, "w") as f:
            f.write("HostKey %s\n%s" % (ctx.host_key, "".join(
                "%s\n" % x for x in lines)))
        r = run([ctx.server_path, "-T", "-f", path], check_rc=False)
        got = [x for x in r.stdout.decode().splitlines()
               if x.startswith("persourcepenalt")]
        check(got == want, "-T with %r: %r, want %r" % (lines, got, want))
    path = os.path.join(ctx.dir, "bad.conf")
    with open(path, "w") as f:
        f.write("HostKey %s\nPerSourcePenalties crash:1 bogus:2\n"
                % ctx.host_key)
    r = run([ctx.server_path, "-t", "-f", path], check_rc=False)
    check(r.returncode != 0 and
          ("%s line 2: unsupported PerSourcePenalties keyword bogus:2"
           % path) in r.stderr.decode(),
          "a bad item: %r" % r.stderr)
