"""
test_monitor_limits.py: the root monitor's own limits. LoginGraceTime ends a
monitor even while it is busy (here in a slow AuthorizedKeysCommand), and
the timeout is logged once, in OpenSSH's words, with no "Accepted"; a user's
authorized_keys is read up to a size limit; a client that re-keys as
often as it likes keeps its connection (test_monitor_ipc.py: a session
process that asks for more signatures than that loses it); the "Change
of username" line is sanitised; MaxStartups and PerSourceMaxStartups
drop connections with sshd's lines.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess

import harness
from harness import check, run, timeout

# paramiko is in /usr/bin/python3 only: the client runs as a script there.
# It prints its local port, then what became of the login.
CLIENT = r"""
import socket, sys, time, paramiko
mode, port, user = sys.argv[1:4]
s = socket.create_connection(("127.0.0.1", int(port)), 120)
print(s.getsockname()[1], flush=True)
t = paramiko.Transport(s)
t.start_client(timeout=20)
if mode == "userchange":
    try:
        t.auth_none(user)
    except paramiko.BadAuthenticationType:
        pass
    # A second request by hand: paramiko would ask for the service again.
    m = paramiko.Message()
    m.add_byte(bytes([50]))  # SSH_MSG_USERAUTH_REQUEST
    m.add_string("other")
    m.add_string("ssh-connection")
    m.add_string("none")
    t._send_message(m)
    time.sleep(2)
else:
    t.auth_timeout = 120
    try:
        t.auth_publickey(
            user, paramiko.Ed25519Key.from_private_key_file(sys.argv[4]))
        print("accepted", flush=True)
    except Exception as e:  # the monitor ends the connection
        print("refused: %r" % e, flush=True)
    # "hold": keep the connection until the server ends it.
    while mode == "hold" and t.is_active():
        time.sleep(0.1)
t.close()
"""


def _client(ctx, mode, user, key=None, timeout_s=150):
    """Run CLIENT; (client port, the lines it printed after it)."""
    script = os.path.join(ctx.dir, "client.py")
    with open(script, "w") as f:
        f.write(CLIENT)
    argv = ["/usr/bin/python3", script, mode, str(ctx.port), user]
    p = run(argv + ([key] if key else []), timeout_s, check_rc=False)
    ctx._note_client(argv[:4], p.returncode, p.stderr)
    lines = p.stdout.decode(errors="replace").splitlines()
    check(lines and lines[0].isdigit(), "client failed: %r %r"
          % (p.stdout, p.stderr[-2000:]))
    return int(lines[0]), lines[1:]


def _cmd_dir(ctx):
    d = "/run/postern-it-mon-" + secrets.token_hex(4)
    os.mkdir(d, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def _monitors_gone(ctx, timeout_s=60):
    """Wait until the listener has no children left (monitors reaped)."""
    return harness.poll_until(
        lambda: not harness.descendants(ctx.proc.pid), timeout_s, 0.1)


def _timeouts(ctx, port):
    want = "Timeout before authentication for 127.0.0.1 port %d" % port
    return [l for l in ctx.server_log().splitlines() if l.endswith(want)]


@timeout(180)
def test_grace_time_ends_a_busy_monitor(ctx):
    """The key comes from a command slower than LoginGraceTime: the monitor
    is killed while it waits, the timeout is logged once, nothing else."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    with open(u.key + ".pub") as f:
        pub = f.read().strip()
    cmd = os.path.join(d, "slow-keys")
    with open(cmd, "w") as f:
        f.write("#!/bin/sh\nsleep 20\necho '%s'\n" % pub)
    os.chmod(cmd, 0o755)
    ctx.start_server(extra_config=[
        "LoginGraceTime 2", "AuthorizedKeysFile none",
        "AuthorizedKeysCommand %s %%u" % cmd,
        "AuthorizedKeysCommandUser nobody"])
    port, out = _client(ctx, "pubkey", u.name, u.key)
    check(out and out[0].startswith("refused"),
          "login went through after LoginGraceTime: %r" % out)
    check(_monitors_gone(ctx), "the monitor outlived LoginGraceTime: %s"
          % harness.describe_tree(ctx.proc.pid))
    # The command got SIGKILL as its monitor died (PR_SET_PDEATHSIG).
    check(harness.poll_until(lambda: subprocess.run(
        ["pgrep", "-f", "^/bin/sh %s" % cmd],
        stdout=subprocess.DEVNULL).returncode != 0, 5),
        "AuthorizedKeysCommand outlived its monitor")
    # The listener logs the timeout once it has reaped the monitor.
    harness.poll_until(lambda: _timeouts(ctx, port), 10, 0.1)
    log = ctx.server_log()
    check("Accepted publickey" not in log,
          "a login past LoginGraceTime was logged as accepted:\n%s"
          % harness.tail(log))
    check(len(_timeouts(ctx, port)) == 1,
          "want exactly one timeout line for port %d:\n%s"
          % (port, harness.tail(log)))
    check(ctx.server_alive(), "the listener died")
    # The limit ends only that login: the next one, with a key file, works.
    ctx.stop_server()
    ctx.authorize(u, u.key + ".pub")
    ctx.start_server(extra_config=["LoginGraceTime 10"])
    ctx.ssh_ok(u, "true")


@timeout(120)
def test_grace_time_idle_client_logged_once(ctx):
    ctx.start_server(extra_config=["LoginGraceTime 1"])
    s = ctx.raw_connect()
    port = s.getsockname()[1]
    s.sendall(b"SSH-2.0-stall\r\n")
    closed, _ = harness.wait_closed(s, 30)
    check(closed, "a stalled client was not dropped")
    check(_monitors_gone(ctx), "monitor still running")
    # The listener logs it once it has reaped the monitor: wait for it.
    harness.poll_until(lambda: _timeouts(ctx, port), 10, 0.1)
    n = _timeouts(ctx, port)
    check(len(n) == 1, "want one timeout line, got %r" % n)


@timeout(120)
def test_huge_grace_time_does_not_overflow(ctx):
    """LoginGraceTime near INT_MAX seconds: logins work, a stalled client
    is not dropped at once (the ms arithmetic would overflow)."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["LoginGraceTime 2147483647"])
    ctx.ssh_ok(u, "true")
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-stall\r\n")
    closed, _ = harness.wait_closed(s, 3)
    check(not closed, "a huge LoginGraceTime dropped the client at once")
    check("Timeout before authentication" not in ctx.server_log(),
          "timeout logged with a huge LoginGraceTime")


@timeout(180)
def test_authorized_keys_size_limit(ctx):
    """Past 64 MiB of authorized_keys the rest is ignored and logged; a key
    near the start still works."""
    u = ctx.make_user(with_key=False)
    sshdir = os.path.join(u.home, ".ssh")
    ak = os.path.join(sshdir, "authorized_keys")
    ctx.authorize(u, u.key + ".pub")  # makes .ssh with the right modes
    with open(u.key + ".pub", "rb") as f:
        pub = f.read().strip() + b"\n"
    size = 65 << 20
    # Sparse: what any user can make of their own file.
    with open(ak, "wb") as f:
        f.write(b"\n")
        f.truncate(size)
        f.seek(size)
        f.write(b"\n" + pub)
    ctx.start_server()
    r = ctx.ssh(u, "true")
    check(r.rc == 255, "key past the size limit was used: rc %d" % r.rc)
    check(ctx.wait_log(re.escape(ak) + r" exceeds the size limit of "
                       r"67108864 bytes; the rest is ignored", 10),
          "no size-limit line:\n%s" % harness.tail(ctx.server_log()))
    check("Accepted publickey" not in ctx.server_log(), "accepted")
    with open(ak, "r+b") as f:
        f.write(pub)
    ctx.ssh_ok(u, "true")


# A client that re-keys back to back: N exchanges with nothing between
# them, then a command. Prints the exchanges done and the command's output
# (or what ended the connection).
REKEYER = r"""
import sys, paramiko
port, user, key, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
t = paramiko.Transport(("127.0.0.1", port))
t.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(key))
done = 0
try:
    for _ in range(n):
        t.renegotiate_keys()
        done += 1
    ch = t.open_session()
    ch.exec_command("echo alive")
    out = ch.makefile().read().decode().strip()
except Exception as e:
    out = "ended: %r" % e
print(done, out, flush=True)
t.close()
"""


@timeout(180)
def test_session_signature_budget_client_rekeys(ctx):
    """A client may re-key as often as it likes (OpenSSH's RekeyLimit goes
    down to 16 bytes, and sshd follows): each exchange's own bytes on
    the wire earn its host key signature, so the budget never ends such a
    connection. OpenSSH's ssh uploads 2 MiB with RekeyLimit=16K (some 60
    exchanges, as with sshd), then paramiko re-keys 100 times in a row
    with no data between (the burst alone is 16)."""
    u = ctx.make_user()
    ctx.start_server()
    path, digest, _ = ctx.random_file(2 * 1024 * 1024)
    with open(path, "rb") as f:
        r = ctx.ssh(u, "sha256sum", stdin=f, extra=("-o", "RekeyLimit=16K"),
                    timeout_s=150)
    check(r.rc == 0 and r.stdout == (digest + "  -\n").encode(),
          "the upload with RekeyLimit=16K: %r\n%s"
          % (r, "\n".join(harness.tail(ctx.server_log(), 5))))
    script = os.path.join(ctx.dir, "rekeyer.py")
    with open(script, "w") as f:
        f.write(REKEYER)
    argv = ["/usr/bin/python3", script, str(ctx.port), u.name, u.key, "100"]
    p = run(argv, 150, check_rc=False)
    ctx._note_client(argv, p.returncode, p.stderr)
    out = p.stdout.decode(errors="replace").strip()
    check(out == "100 alive", "100 client re-keyings: %r (want '100 "
          "alive')" % out)
    check("host key signature refused" not in ctx.server_log(),
          "a re-keying was refused its signature")


@timeout(60)
def test_change_of_username_sanitised(ctx):
    ctx.start_server()
    first = "ev\x1b[31m\\il" + secrets.token_hex(2)
    _client(ctx, "userchange", first)
    m = ctx.wait_log(r"Change of username or service not allowed: .*", 10)
    check(m, "no change-of-username line:\n%s"
          % harness.tail(ctx.server_log()))
    line = m.group(0)
    inv = re.search(r"Invalid user (\S+) from", ctx.server_log())
    check(inv, "no Invalid user line")
    # Escaped as sshd escapes them (a backslash doubled, ESC as \033),
    # and this preauth line ("Disconnecting ...: REASON [preauth]") once
    # more, as sshd's relayed lines: "\\\\" and "\\033" there.
    check("\x1b" not in line and line.startswith(
        "Change of username or service not allowed: (%s,ssh-connection)"
        % inv.group(1).replace("\\", "\\\\")),
        "user name not escaped as sshd's preauth lines: %r vs %r"
        % (line, inv.group(1)))


@timeout(60)
def test_max_startups_refuses_what_sshd_refuses(ctx):
    """A negative or zero MaxStartups would turn the limit off: refused,
    in sshd's words (file, line, keyword as written)."""
    key = ctx.new_key("hostkey")
    for i, v in enumerate(("-1:30:10", "0", "0:30:10", "10:0:20",
                           "-5")):
        path = os.path.join(ctx.dir, "ms_%d.conf" % i)
        with open(path, "w") as f:
            f.write("HostKey %s\nmaxStartups %s\n" % (key, v))
        s = run(["/usr/sbin/sshd", "-t", "-f", path], check_rc=False)
        p = run([ctx.server_path, "-t", "-f", path], check_rc=False)
        check(s.returncode != 0, "sshd accepted MaxStartups %s" % v)
        want = "%s line 2: Invalid maxStartups spec." % path
        check(p.returncode != 0 and want in p.stderr.decode(),
              "MaxStartups %s: posternd -t exit %d, stderr %r, want %r"
              % (v, p.returncode, p.stderr, want))


@timeout(120)
def test_max_startups_counts_only_unauthenticated(ctx):
    """MaxStartups 1: a connection stalled before authentication takes the
    one startup (the next is dropped); an authenticated session, whose
    monitor said so on its startup pipe, takes none."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["MaxStartups 1"])
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-stall\r\n")
    check(ctx.wait_log(r"^Connection from 127\.0\.0\.1 port %d "
                       % s.getsockname()[1], 10),
          "the stalled connection was not accepted")
    r = ctx.ssh(u, "true")
    check(r.rc == 255, "a login past MaxStartups 1 went through: %r" % r)
    check(ctx.wait_log(r"drop connection #1 from \[127\.0\.0\.1\]:\d+ on "
                       r"\[127\.0\.0\.1\]:%d past MaxStartups" % ctx.port,
                       10),
          "no drop line for the connection past MaxStartups")
    s.close()
    check(harness.poll_until(lambda: ctx.ssh(u, "true").rc == 0, 20),
          "logins still refused once the stalled connection went")
    # Authenticated, idle: no longer a startup.
    idle = ctx.popen(ctx.ssh_argv(u, "sleep 60"),
                     stdin=subprocess.DEVNULL)
    try:
        check(harness.poll_until(
            lambda: ctx.server_log().count(
                "Accepted publickey for %s " % u.name) >= 2, 10),
            "the idle session did not log in")
        check(harness.poll_until(
            lambda: ctx.ssh(u, "echo ok").stdout == b"ok\n", 20),
            "a login was refused beside an authenticated session")
    finally:
        idle.kill()
        idle.wait(10)


def _held_from(ctx, source):
    """A connection from source that stalls before authentication."""
    s = socket.create_connection(("127.0.0.1", ctx.port), 10,
                                 source_address=(source, 0))
    ctx.sockets.append(s)
    s.sendall(b"SSH-2.0-stall\r\n")
    check(ctx.wait_log(r"^Connection from %s port %d "
                       % (re.escape(source), s.getsockname()[1]), 10),
          "the stalled connection from %s was not accepted" % source)
    return s


def _first_line_from(ctx, source):
    s = socket.create_connection(("127.0.0.1", ctx.port), 10,
                                 source_address=(source, 0))
    try:
        s.settimeout(10)
        data = b""
        while b"\n" not in data:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
        return data.split(b"\n")[0] + b"\n", s.getsockname()[1]
    finally:
        s.close()


@timeout(120)
def test_max_startups_episode_ends_across_restart(ctx):
    """A MaxStartups throttling episode that a SIGHUP restart interrupts
    still gets its end logged, by the restarted listener, with the drops
    counted before the restart; it does not begin again. Before, the
    restarted listener forgot the episode (found by a stress run)."""
    ctx.start_server(extra_config=["PerSourceMaxStartups 1",
                                   "PerSourceNetBlockSize 24"])
    a = _held_from(ctx, "127.0.0.1")
    line, _ = _first_line_from(ctx, "127.0.0.9")
    check(line == b"Exceeded MaxStartups\r\n",
          "a second connection from the /24 read %r" % line)
    check(ctx.wait_log(r"^beginning MaxStartups throttling$", 10),
          "no 'beginning MaxStartups throttling' line")
    os.kill(ctx.proc.pid, signal.SIGHUP)
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    check(harness.poll_until(lambda: len(re.findall(
        listening, ctx.server_log(), re.M)) >= 2, 10),
        "the listener did not restart")
    line, _ = _first_line_from(ctx, "127.0.1.9")
    check(line.startswith(b"SSH-2.0-"),
          "a connection from another /24 was refused: %r" % line)
    check(ctx.wait_log(r"^exited MaxStartups throttling after "
                       r"\d\d:\d\d:\d\d, 1 connections dropped$", 10),
          "no 'exited MaxStartups throttling' line after the restart")
    check(len(re.findall(r"^beginning MaxStartups throttling$",
                         ctx.server_log(), re.M)) == 1,
          "the episode began again after the restart")
    a.close()


@timeout(120)
def test_per_source_max_startups(ctx):
    """PerSourceMaxStartups 2 with PerSourceNetBlockSize 24, as sshd 9.2:
    two stalled connections from 127.0.0.0/24 take the block's startups; a
    third from the block reads "Exceeded MaxStartups" and is dropped with
    sshd's lines; another /24 still gets in; once a startup ends, the block
    logs in again and the throttling's end is logged."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["PerSourceMaxStartups 2",
                                   "PerSourceNetBlockSize 24"])
    a = _held_from(ctx, "127.0.0.1")
    _held_from(ctx, "127.0.0.5")
    line, port = _first_line_from(ctx, "127.0.0.9")
    check(line == b"Exceeded MaxStartups\r\n",
          "a third connection from the /24 read %r" % line)
    check(ctx.wait_log(r"^beginning MaxStartups throttling$", 10),
          "no 'beginning MaxStartups throttling' line")
    check(ctx.wait_log(r"^drop connection #2 from \[127\.0\.0\.9\]:%d on "
                       r"\[127\.0\.0\.1\]:%d past MaxStartups$"
                       % (port, ctx.port), 10),
          "no drop line for the third connection from the /24")
    line, _ = _first_line_from(ctx, "127.0.1.9")
    check(line.startswith(b"SSH-2.0-"),
          "a connection from another /24 was refused: %r" % line)
    # Let in with fewer startups than MaxStartups' start less one: the
    # episode ends (sshd's words and condition).
    exited = (r"^exited MaxStartups throttling after \d\d:\d\d:\d\d, "
              r"1 connections dropped$")
    check(ctx.wait_log(exited, 10), "no 'exited MaxStartups throttling' line")
    r = ctx.ssh(u, "true", extra=("-o", "BindAddress=127.0.0.7"))
    check(r.rc == 255, "a login from the full /24 went through: %r" % r)
    a.close()
    check(harness.poll_until(
        lambda: ctx.ssh(u, "echo ok", extra=("-o", "BindAddress=127.0.0.7"))
        .stdout == b"ok\n", 20),
        "logins from the /24 still refused once a startup ended")
    # (More than one drop if a retry came before the closed one's monitor
    # had gone.)
    check(len(re.findall(exited.replace("1 conn", r"\d+ conn"),
                         ctx.server_log(), re.M)) == 2,
          "the second episode (the refused login) did not end with its "
          "line:\n%s" % ctx.server_log())
    check(not re.search(r"^Connection from 127\.0\.0\.9 ", ctx.server_log(),
                        re.M), "the dropped connection reached a monitor")


@timeout(60)
def test_per_source_config_as_sshd(ctx):
    """-T prints both keywords as sshd 9.2 does, including its quirks: a
    lone IPv4 length sets the IPv6 one to 0, and the last line wins."""
    key = ctx.new_key("hostkey")
    for lines, want in (
            ([], ["persourcemaxstartups none",
                  "persourcenetblocksize 32:128"]),
            (["PerSourceMaxStartups 3", "PerSourceMaxStartups 5",
              "PerSourceNetBlockSize 24"],
             ["persourcemaxstartups 5", "persourcenetblocksize 24:0"]),
            (["PerSourceMaxStartups 0", "PerSourceNetBlockSize 16:48"],
             ["persourcemaxstartups 0", "persourcenetblocksize 16:48"])):
        path = os.path.join(ctx.dir, "ps_%d.conf" % len(lines))
        with open(path, "w") as f:
            f.write("HostKey %s\n%s" % (key, "".join(
                "%s\n" % x for x in lines)))
        for exe in ("/usr/sbin/sshd", ctx.server_path):
            r = run([exe, "-T", "-f", path], check_rc=False)
            got = [x for x in r.stdout.decode().splitlines()
                   if x.startswith("persource") and
                   x.split(" ")[0] not in harness.NEWER_T]
            check(got == want, "%s -T with %r: %r, want %r"
                  % (exe, lines, got, want))
    for bad, msg in (("PerSourceNetBlockSize 33",
                      "Invalid PerSourceNetBlockSize spec."),
                     ("PerSourceMaxStartups -1",
                      "PerSourceMaxStartups integer value too small.")):
        path = os.path.join(ctx.dir, "bad.conf")
        with open(path, "w") as f:
            f.write("HostKey %s\n%s\n" % (key, bad))
        p = run([ctx.server_path, "-t", "-f", path], check_rc=False)
        want = "%s line 2: %s" % (path, msg)
        check(p.returncode != 0 and want in p.stderr.decode(),
              "%s: exit %d, %r" % (bad, p.returncode, p.stderr))


# A login whose key exchange is done, that authenticates only when told.
RELOAD_CLIENT = r"""
import socket, sys, paramiko
port, user, key = sys.argv[1:4]
s = socket.create_connection(("127.0.0.1", int(port)), 60)
t = paramiko.Transport(s)
t.start_client(timeout=20)
print("kex", flush=True)
sys.stdin.readline()
try:
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
    c = t.open_session()
    c.exec_command("echo ok")
    print(c.makefile().read().decode().strip(), flush=True)
except Exception as e:
    print("failed: %r" % e, flush=True)
t.close()
"""


@timeout(120)
def test_login_across_listener_reload(ctx):
    """SIGHUP restarts the listener while a connection is before
    authentication: the monitor's reports on its startup pipe (now without
    a reader) must not end it; the login completes."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["LoginGraceTime 60"])
    script = os.path.join(ctx.dir, "reload_client.py")
    with open(script, "w") as f:
        f.write(RELOAD_CLIENT)
    p = ctx.popen(["/usr/bin/python3", script, str(ctx.port), u.name,
                   u.key], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        check(p.stdout.readline() == b"kex\n", "the key exchange failed")
        os.kill(ctx.proc.pid, signal.SIGHUP)
        check(ctx.wait_log(r"^Received SIGHUP; restarting\.$", 10),
              "the listener did not restart")
        listening = (r"^Server listening on 127\.0\.0\.1 port %d\.$"
                     % ctx.port)
        check(harness.poll_until(
            lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2,
            10), "the restarted listener does not listen")
        p.stdin.write(b"go\n")
        p.stdin.flush()
        out = p.stdout.readline()
        check(out == b"ok\n", "the login begun before the restart: %r"
              % out)
    finally:
        p.kill()
        p.wait(10)


@timeout(120)
def test_per_source_block_size_changed_by_reload(ctx):
    """PerSourceNetBlockSize 32, two stalled connections from 127.0.0.1,
    then a reload to 24 (SIGHUP): the two are counted for their new block,
    127.0.0.0/24, so a third from the /24 is refused. The handed-over
    entries kept the block of the old size, which no new connection
    matched: the source could open twice PerSourceMaxStartups."""
    ctx.start_server(extra_config=["PerSourceMaxStartups 2",
                                   "PerSourceNetBlockSize 32",
                                   "LoginGraceTime 60"])
    _held_from(ctx, "127.0.0.1")
    _held_from(ctx, "127.0.0.1")
    ctx.write_config(["PerSourceMaxStartups 2", "PerSourceNetBlockSize 24",
                      "LoginGraceTime 60"])
    os.kill(ctx.proc.pid, signal.SIGHUP)
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2, 10),
        "the restarted listener does not listen")
    line, _ = _first_line_from(ctx, "127.0.0.9")
    check(line == b"Exceeded MaxStartups\r\n",
          "a third connection from the /24 after the reload read %r" % line)
