"""
test_foundation.py: login, exec, ciphers, bulk data, banner handling,
parallel logins and the privilege separation of postern's processes.

Each test_* function receives a harness.Context and must be able to fail.
"""

import hashlib
import os
import pwd
import re
import select
import subprocess
import time

import harness
from harness import check, fail, timeout

# A client that gives up with every key rejected (OpenSSH auth2.c /
# packet.c): "Connection closed by authenticating user USER ADDR port N
# [preauth]" at INFO; fail2ban's sshd filter matches exactly this shape.
RX_CLOSED_AUTHENTICATING = (r"^Connection closed by authenticating user "
                            r"(?P<user>\S+) 127\.0\.0\.1 port (?P<port>\d+) "
                            r"\[preauth\]$")


# fail2ban's sshd filter (mdre-ddos): "banner exchange: Connection from
# <HOST> port N: invalid format", logged by OpenSSH at INFO when the
# identification exchange fails.
def _banner_invalid_rx(lport):
    return (r"^banner exchange: Connection from 127\.0\.0\.1 port %d: "
            r"invalid format$" % lport)


def _assert_banner_logged(ctx, sock_port, what):
    m = ctx.wait_log(_banner_invalid_rx(sock_port), 15)
    check(m, "server log lacks 'banner exchange: Connection from 127.0.0.1 "
          "port %d: invalid format' for %s" % (sock_port, what))


def _assert_banner_refused(ctx, data, what):
    """A connection that sends data (and nothing more) is closed within
    15 s (at once, but the build may be slow) with sshd's banner line
    logged; the server keeps running."""
    s = ctx.raw_connect()
    lport = s.getsockname()[1]
    harness.send_all_tolerant(s, data)
    closed, _ = harness.wait_closed(s, 15)
    check(closed, "server kept a connection that sent %s open for more "
          "than 15 s" % what)
    _assert_banner_logged(ctx, lport, what)
    check(ctx.server_alive(), "server exited after %s" % what)


# What the privilege separation looks like (module-level so the harness can
# be validated against other servers' process layouts).
PREAUTH_EXE = "postern-preauth"
SESSION_EXE = "postern-session"
PRIVSEP_USER = "postern"
CHROOT_DIR = "/run/postern"
PREAUTH_PRED = None
SESSION_PRED = None


def _accepted_rx(user, fp):
    # OpenSSH auth.c auth_log(): "Accepted publickey for USER from ADDR port
    # N ssh2: ED25519 SHA256:..." at INFO.
    return (r"^Accepted publickey for %s from 127\.0\.0\.1 port \d+ ssh2: "
            r"ED25519 %s$" % (re.escape(user), re.escape(fp)))


def _failed_rx(user, fp):
    # Logged at VERBOSE for each rejected key (fail2ban "aggressive" mode).
    return (r"^Failed publickey for %s from 127\.0\.0\.1 port (?P<port>\d+) "
            r"ssh2: ED25519 %s$" % (re.escape(user), re.escape(fp)))


# ---------------------------------------------------------------------------
# 1. login and exec


def test_login_exec(ctx):
    ctx.start_server()
    u = ctx.make_user()
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")

    m = ctx.wait_log(_accepted_rx(u.name, harness.fingerprint(u.pubkey)), 5)
    check(m, "server log has no line 'Accepted publickey for %s from "
          "127.0.0.1 port N ssh2: ED25519 %s'"
          % (u.name, harness.fingerprint(u.pubkey)))

    for code in (1, 3):
        r = ctx.ssh(u, "exit %d" % code)
        check(r.rc == code, "ssh 'exit %d' exited %s, want %d; stderr:\n%s"
              % (code, r.rc, code, r.err))
        check(r.stdout == b"", "ssh 'exit %d' printed %r" % (code, r.stdout))

    r = ctx.ssh(u, "echo err >&2")
    check(r.rc == 0, "ssh 'echo err >&2' exited %s; stderr:\n%s"
          % (r.rc, r.err))
    check(r.stdout == b"", "stdout should be empty, got %r" % r.stdout)
    check(r.stderr == b"err\n", "ssh's stderr is %r, want b'err\\n'"
          % r.stderr)


# ---------------------------------------------------------------------------
# 2. a key that is not in authorized_keys


def test_wrong_key_refused(ctx):
    ctx.start_server()
    u = ctx.make_user()
    other = ctx.new_key("stranger")
    r = ctx.ssh(u, "echo ok", key=other)
    check(r.rc == 255, "ssh with an unauthorized key exited %s, want 255; "
          "stdout %r" % (r.rc, r.stdout))
    check(r.stdout == b"", "a command ran: stdout %r" % r.stdout)
    check("Permission denied (publickey" in r.err,
          "ssh stderr lacks 'Permission denied (publickey...)':\n%s" % r.err)

    m = ctx.wait_log(RX_CLOSED_AUTHENTICATING, 10)
    check(m, "server log lacks a line of the exact shape 'Connection closed "
          "by authenticating user %s 127.0.0.1 port N [preauth]'" % u.name)
    check(m.group("user") == u.name, "line names user %r, want %r: %s"
          % (m.group("user"), u.name, m.group(0)))

    fp = harness.fingerprint(other + ".pub")
    f = re.search(_failed_rx(u.name, fp), ctx.server_log(), re.M)
    check(f, "server log lacks 'Failed publickey for %s from 127.0.0.1 port "
          "N ssh2: ED25519 %s'" % (u.name, fp))
    check(f.group("port") == m.group("port"),
          "'Failed publickey' (port %s) and 'Connection closed by "
          "authenticating user' (port %s) name different client ports"
          % (f.group("port"), m.group("port")))
    check(not re.search(r"^Accepted ", ctx.server_log(), re.M),
          "server logged an Accepted line for a refused key")


# ---------------------------------------------------------------------------
# 3. ciphers


CIPHERS = ("chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
           "aes256-gcm@openssh.com")


def test_ciphers(ctx):
    ctx.start_server()
    u = ctx.make_user()
    for c in CIPHERS:
        r = ctx.ssh(u, "echo ok", extra=["-c", c], verbose=True)
        check(r.rc == 0 and r.stdout == b"ok\n",
              "cipher %s: ssh exited %s, stdout %r; stderr tail:\n%s"
              % (c, r.rc, r.stdout, "\n".join(harness.tail(r.err, 15))))
        for d in ("server->client", "client->server"):
            want = "debug1: kex: %s cipher: %s " % (d, c)
            check(want in r.err, "cipher %s: client did not log %r; kex "
                  "lines:\n%s" % (c, want, "\n".join(
                      l for l in r.err.splitlines() if "kex:" in l)))


# ---------------------------------------------------------------------------
# 4. 100 MB through cat


@timeout(300)
def test_bulk_100mb(ctx):
    ctx.start_server()
    path, digest, size = ctx.suite.random_file()
    u = ctx.make_user()
    argv = ctx.ssh_argv(u, "cat")
    errpath = os.path.join(ctx.dir, "bulk.stderr")
    with open(path, "rb") as fin, open(errpath, "wb") as ferr:
        p = ctx.popen(argv, stdin=fin, stdout=subprocess.PIPE, stderr=ferr)
    h = hashlib.sha256()
    n = 0
    fd = p.stdout.fileno()
    stall = 30
    while True:
        r, _, _ = select.select([fd], [], [], stall)
        if not r:
            p.kill()
            p.wait(10)
            with open(errpath, "rb") as f:
                ctx._note_client(argv, "killed", f.read())
            fail("no output for %d s after %d of %d bytes" % (stall, n, size))
        b = os.read(fd, 1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    rc = p.wait(60)
    with open(errpath, "rb") as f:
        err = f.read()
    ctx._note_client(argv, rc, err)
    check(rc == 0, "ssh ... cat exited %s after %d bytes" % (rc, n))
    check(n == size, "received %d bytes, sent %d" % (n, size))
    check(h.hexdigest() == digest, "sha256 of output %s != input %s"
          % (h.hexdigest(), digest))


# ---------------------------------------------------------------------------
# 5. garbage instead of a banner


def test_garbage_banner(ctx):
    ctx.start_server()
    u = ctx.make_user()

    s = ctx.raw_connect()
    lport = s.getsockname()[1]
    junk = bytes(b for b in os.urandom(600) if b not in (10, 13))[:400]
    harness.send_all_tolerant(s, b"GARBAGE\r\n" * 20 + junk)
    # A valid login while the garbage connection is (possibly) still open.
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    closed, _ = harness.wait_closed(s, 5)
    check(closed, "server kept a connection that sent GARBAGE lines open "
          "for more than 5 s")
    _assert_banner_logged(ctx, lport, "the GARBAGE connection")
    check(ctx.server_alive(), "server exited after the garbage connection")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")

    # One line of 16 KiB without a newline. RFC 4253 limits the line to
    # 255 bytes; OpenSSH reads up to 8 KiB before dropping, so 16 KiB must
    # be dropped by either.
    _assert_banner_refused(ctx, b"x" * 16384,
                           "a 16 KiB line without newline")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


# ---------------------------------------------------------------------------
# 6. 20 parallel logins


@timeout(120)
def test_parallel_20(ctx):
    # 20 simultaneous unauthenticated connections exceed the default
    # MaxStartups 10:30:100, which would drop some by design.
    ctx.start_server(extra_config=["MaxStartups 100"])
    u = ctx.make_user()
    procs = []
    for i in range(20):
        argv = ctx.ssh_argv(u, "echo %d" % i)
        procs.append((i, argv, ctx.popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)))
    bad = []
    # Room for 60 processes of an ASan build on a loaded machine.
    deadline = time.monotonic() + 90
    for i, argv, p in procs:
        try:
            out, err = p.communicate(
                timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            bad.append("login %d timed out" % i)
            continue
        ctx._note_client(argv, p.returncode, err)
        if p.returncode != 0 or out != b"%d\n" % i:
            bad.append("login %d: exit %s, stdout %r, stderr %r"
                       % (i, p.returncode, out, err[-300:]))
    check(not bad, "%d of 20 parallel logins failed:\n%s"
          % (len(bad), "\n".join(bad)))


# ---------------------------------------------------------------------------
# 7. the preauth process is sandboxed and never holds the host key


def _check_ids(st, field, want, what):
    ids = harness.proc_ids(st, field)
    check(ids == [want] * 4, "%s %s: is %s, want %d for all four"
          % (what, field, ids, want))


def _wait_sandboxed(pid, timeout_s=5):
    """The process may have just been exec'd: wait until it has installed
    its seccomp filter, then return its status."""
    def done():
        st = harness.proc_status(pid)
        return st if st.get("Seccomp") == "2" else None
    return harness.poll_until(done, timeout_s) or harness.proc_status(pid)


def _assert_preauth_confined(pid, what):
    pw = pwd.getpwnam(PRIVSEP_USER)
    st = _wait_sandboxed(pid)
    _check_ids(st, "Uid", pw.pw_uid, what)
    _check_ids(st, "Gid", pw.pw_gid, what)
    groups = [int(g) for g in st.get("Groups", "").split()]
    check(set(groups) <= {pw.pw_gid}, "%s supplementary groups %s, want "
          "none but %d" % (what, groups, pw.pw_gid))
    check(st.get("Seccomp") == "2", "%s Seccomp: %r, want '2' (filter)"
          % (what, st.get("Seccomp")))
    check(st.get("NoNewPrivs") == "1", "%s NoNewPrivs: %r, want '1'"
          % (what, st.get("NoNewPrivs")))
    for cap in ("CapEff", "CapPrm"):
        check(int(st.get(cap, "1"), 16) == 0, "%s %s: %s, want 0"
              % (what, cap, st.get(cap)))
    try:
        root = os.readlink("/proc/%d/root" % pid)
    except OSError as e:
        fail("%s: cannot read /proc/%d/root: %s" % (what, pid, e))
    check(root == CHROOT_DIR, "%s root is %r, want %r"
          % (what, root, CHROOT_DIR))


def test_preauth_sandbox(ctx):
    ctx.start_server()
    keyinfo = ctx.host_key_info()
    harness.memory_scan_self_test(keyinfo)
    server = ctx.proc.pid

    # Phase 1: a connection that only sent its identification string.
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-test\r\n")
    pid = harness.find_descendant_by_exe(server, PREAUTH_EXE,
                                         pred=PREAUTH_PRED)
    _assert_preauth_confined(pid, "postern-preauth (pid %d, after banner)"
                             % pid)
    harness.assert_no_secrets(pid, keyinfo, "postern-preauth after banner")

    # Phase 2: after key exchange (the host key signature has been made),
    # in the middle of userauth: the client waits on an askpass helper for
    # the passphrase of a key the server has already accepted (PK_OK).
    u = ctx.make_user(with_key=False)
    key = ctx.new_key("locked", passphrase="pass phrase")
    ctx.authorize(u, key + ".pub")
    fifo = os.path.join(ctx.dir, "askpass.fifo")
    mark = os.path.join(ctx.dir, "askpass.called")
    os.mkfifo(fifo, 0o600)
    askpass = os.path.join(ctx.dir, "askpass.sh")
    with open(askpass, "w") as f:
        # timeout: never outlive the test if ssh is killed meanwhile.
        f.write("#!/bin/sh\n: > '%s'\nexec timeout 60 cat '%s'\n"
                % (mark, fifo))
    os.chmod(askpass, 0o755)
    env = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force",
               DISPLAY=":0")
    argv = ctx.ssh_argv(u, "echo ok", key=key, batch=False)
    p = ctx.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, env=env)
    called = harness.poll_until(
        lambda: os.path.exists(mark) or p.poll() is not None, 15)
    if not os.path.exists(mark):
        p.kill()
        out, err = p.communicate()
        ctx._note_client(argv, p.returncode, err)
        fail("the client never asked for the key passphrase (server did not "
             "accept the public key query?); ssh exit %s" % p.returncode)
    check(called, "askpass not called")
    pids = [q for q in harness.descendants(server)
            if os.path.basename(harness.exe_of(q)) == PREAUTH_EXE
            and q != pid and (PREAUTH_PRED is None or PREAUTH_PRED(q))]
    check(pids, "no %s process for the connection in userauth;"
          " descendants:\n%s" % (PREAUTH_EXE,
                                "\n".join(harness.describe_tree(server))))
    for q in pids:
        what = "postern-preauth (pid %d, after kex)" % q
        _assert_preauth_confined(q, what)
        harness.assert_no_secrets(q, keyinfo, what)
    # Let the login finish: it must work.
    def open_fifo():
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return None
    fd = harness.poll_until(open_fifo, 5)
    check(fd is not None, "askpass helper no longer reads its fifo")
    os.write(fd, b"pass phrase\n")
    os.close(fd)
    out, err = p.communicate(timeout=20)
    ctx._note_client(argv, p.returncode, err)
    check(p.returncode == 0 and out == b"ok\n",
          "login after the passphrase: exit %s, stdout %r"
          % (p.returncode, out))


# ---------------------------------------------------------------------------
# 8. the session runs as the user and never holds the host key


def hold_session(ctx, u, inspect):
    """Log u in with a command that waits on stdin, call inspect() while
    it waits, then let it finish: it must print what it read."""
    argv = ctx.ssh_argv(u, "read x; echo done $x")
    p = ctx.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    try:
        inspect()
    finally:
        try:
            out, err = p.communicate(b"bye\n", timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        ctx._note_client(argv, p.returncode, err)
    check(p.returncode == 0 and out == b"done bye\n",
          "session: exit %s, stdout %r" % (p.returncode, out))


def test_session_as_user(ctx):
    ctx.start_server()
    keyinfo = ctx.host_key_info()
    harness.memory_scan_self_test(keyinfo)
    u = ctx.make_user()

    def inspect():
        pid = harness.find_descendant_by_exe(ctx.proc.pid, SESSION_EXE,
                                             pred=SESSION_PRED)
        what = "postern-session (pid %d)" % pid
        st = harness.proc_status(pid)
        _check_ids(st, "Uid", u.uid, what)
        _check_ids(st, "Gid", u.gid, what)
        for cap in ("CapEff", "CapPrm"):
            check(int(st.get(cap, "1"), 16) == 0, "%s %s: %s, want 0"
                  % (what, cap, st.get(cap)))
        harness.assert_no_secrets(pid, keyinfo, what)
    hold_session(ctx, u, inspect)


# ---------------------------------------------------------------------------
# 9. a forbidden system call in preauth kills only that connection


def test_sigsys_kills_preauth(ctx):
    bindir = os.path.dirname(ctx.server_path)
    srcs = {
        "posternd": ctx.server_path,
        "postern-session": os.path.join(bindir, "postern-session"),
        "postern-preauth": os.path.join(bindir, "test-sigsys",
                                        "postern-preauth"),
    }
    missing = [p for p in srcs.values() if not os.path.isfile(p)]
    check(not missing, "missing binaries for the SIGSYS test (build them "
          "with make all): %s" % ", ".join(missing))
    server = harness.copy_server(
        ctx.server_path, os.path.join(ctx.dir, "bin"),
        {"postern-preauth": srcs["postern-preauth"]})
    ctx.start_server(server=server)
    u = ctx.make_user()
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255, "ssh exited %s (stdout %r), want 255: the sandbox "
          "should have killed preauth" % (r.rc, r.stdout))
    check(ctx.wait_log(r"SIGSYS", 10),
          "server log does not mention SIGSYS (the monitor should log that "
          "preauth was killed by the sandbox)")
    check(ctx.server_alive(), "listener exited after preauth was killed")
    check(harness.port_listening(ctx.port), "listener no longer listens")
    s = ctx.raw_connect()
    s.close()
    check(ctx.server_alive(), "listener exited")


# ---------------------------------------------------------------------------
# 10. identification string limits


def test_reject_long_banner(ctx):
    ctx.start_server()
    # Longer than OpenSSH's 8 KiB limit and far beyond RFC 4253's 255.
    _assert_banner_refused(ctx, b"SSH-2.0-" + b"a" * 16384 + b"\r\n",
                           "a 16 KiB identification string")


def test_reject_banner_of_carriage_returns(ctx):
    """CRs without an LF count towards the identification line's limit:
    they were skipped uncounted, so 2 MiB of them filled the input buffer
    and the preauth process then spun on it until LoginGraceTime."""
    ctx.start_server()
    _assert_banner_refused(ctx, b"\r" * 65536, "64 KiB of CRs and no LF")
    u = ctx.make_user()
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


def test_too_many_prebanner_lines(ctx):
    ctx.start_server()
    _assert_banner_refused(ctx, b"x\r\n" * 1000 + b"SSH-2.0-test\r\n",
                           "1000 lines before its identification string")
    u = ctx.make_user()
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
