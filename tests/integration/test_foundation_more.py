"""
test_foundation_more.py: user key types, invalid users, StrictModes, the
-t/-T/-p/-o flags, rekeying, strict KEX, LoginGraceTime, MaxAuthTries,
SIGHUP reload, a server run by an ordinary user, exit signals and output
delivered before exit.

Each test_* function receives a harness.Context and must be able to fail.
The expectations are OpenSSH's (sshd(8), sshd_config(5) and the log lines
of OpenSSH 9.2); tests of posternd-only wording say so.
"""

import hashlib
import grp
import os
import pwd
import re
import secrets
import select
import signal
import socket
import stat
import subprocess
import time

import harness
from harness import check, fail, poll_until, timeout

PREAUTH_EXE = "postern-preauth"
HELPERS = ("postern-preauth", "postern-session")


def _accepted_lines(ctx, user):
    """Every 'Accepted publickey for USER ...' line as (port, type, fp)."""
    rx = re.compile(r"^Accepted publickey for %s from 127\.0\.0\.1 port "
                    r"(\d+) ssh2: (\S+) (SHA256:\S+)$" % re.escape(user),
                    re.M)
    return rx.findall(ctx.server_log())


def _keygen(ctx, ktype, bits, label):
    path = os.path.join(ctx.dir, "key_%s_%s" % (label, secrets.token_hex(3)))
    harness.run(["ssh-keygen", "-q", "-t", ktype, "-b", str(bits), "-N", "",
                 "-C", label, "-f", path])
    return path


def _keygen_l(pub):
    """(fingerprint, type word) from `ssh-keygen -lf`, e.g.
    '256 SHA256:... comment (ECDSA)'."""
    p = harness.run(["ssh-keygen", "-l", "-f", pub])
    fields = p.stdout.decode().split()
    check(len(fields) >= 3 and fields[1].startswith("SHA256:") and
          fields[-1].startswith("(") and fields[-1].endswith(")"),
          "cannot parse ssh-keygen -lf output: %r" % p.stdout)
    return fields[1], fields[-1][1:-1]


def _wait_new_accepted(ctx, user, before, what):
    lines = harness.poll_until(
        lambda: len(_accepted_lines(ctx, user)) > before and
        _accepted_lines(ctx, user), 5)
    check(lines, "%s: no new 'Accepted publickey for %s from 127.0.0.1 "
          "port N ssh2: TYPE SHA256:...' line in the server log"
          % (what, user))
    check(len(lines) == before + 1, "%s: %d new Accepted lines for one "
          "login: %s" % (what, len(lines) - before, lines[before:]))
    return lines[before]


# ---------------------------------------------------------------------------
# 1. ECDSA and RSA user keys


USER_KEYS = (
    # ssh-keygen -t, -b, type word in the log, label
    ("ecdsa", 256, "ECDSA", "nistp256"),
    ("ecdsa", 384, "ECDSA", "nistp384"),
    ("ecdsa", 521, "ECDSA", "nistp521"),
    ("rsa", 3072, "RSA", "rsa3072"),
)


def test_user_key_types(ctx):
    ctx.start_server()
    u = ctx.make_user(with_key=False)
    keys = []
    for ktype, bits, word, label in USER_KEYS:
        path = _keygen(ctx, ktype, bits, label)
        ctx.authorize(u, path + ".pub")
        fp, kword = _keygen_l(path + ".pub")
        check(kword == word, "ssh-keygen -lf %s.pub says type %r, want %r"
              % (path, kword, word))
        keys.append((label, path, fp, word))
    rsa_path, rsa_fp = keys[-1][1], keys[-1][2]

    # (what, key, fingerprint, word, extra client options, signature alg)
    logins = [(label, path, fp, word, [], None)
              for label, path, fp, word in keys[:3]]
    logins.append(("rsa3072 default (rsa-sha2-512)", rsa_path, rsa_fp, "RSA",
                   [], "rsa-sha2-512"))
    logins.append(("rsa3072 forced to rsa-sha2-256", rsa_path, rsa_fp, "RSA",
                   ["-o", "PubkeyAcceptedAlgorithms=rsa-sha2-256"],
                   "rsa-sha2-256"))
    for what, path, fp, word, extra, sigalg in logins:
        before = len(_accepted_lines(ctx, u.name))
        r = ctx.ssh(u, "echo ok", key=path, extra=extra + ["-vvv"])
        check(r.rc == 0 and r.stdout == b"ok\n",
              "%s: ssh exited %s, stdout %r; stderr tail:\n%s"
              % (what, r.rc, r.stdout, "\n".join(harness.tail(r.err, 20))))
        if sigalg is not None:
            # OpenSSH 9.2 sshconnect2.c identity_sign(): "debug3:
            # sign_and_send_pubkey: signing using ALG SHA256:..."
            want = "signing using %s %s" % (sigalg, fp)
            check(want in r.err, "%s: the client did not sign with %s "
                  "(no %r in ssh -vvv); signing lines:\n%s"
                  % (what, sigalg, want, "\n".join(
                      l for l in r.err.splitlines() if "signing" in l)))
        port, lword, lfp = _wait_new_accepted(ctx, u.name, before, what)
        check(lword == word and lfp == fp,
              "%s: server logged 'ssh2: %s %s', want 'ssh2: %s %s' "
              "(ssh-keygen -lf)" % (what, lword, lfp, word, fp))


# ---------------------------------------------------------------------------
# 2. a user that does not exist


def test_invalid_user(ctx):
    ctx.start_server()
    name = "ptst_nouser_" + secrets.token_hex(3)
    try:
        pwd.getpwnam(name)
        fail("user %s exists" % name)
    except KeyError:
        pass
    key = ctx.new_key("nobody")
    r = ctx.ssh(name, "echo ok", key=key)
    check(r.rc == 255, "ssh as nonexistent user %s exited %s, want 255; "
          "stdout %r" % (name, r.rc, r.stdout))
    check(r.stdout == b"", "a command ran: stdout %r" % r.stdout)

    inv = ctx.wait_log(r"^Invalid user %s from 127\.0\.0\.1 port (\d+)$"
                       % re.escape(name), 5)
    check(inv, "server log lacks 'Invalid user %s from 127.0.0.1 port N'"
          % name)
    closed = ctx.wait_log(r"^Connection closed by invalid user %s "
                          r"127\.0\.0\.1 port (\d+) \[preauth\]$"
                          % re.escape(name), 10)
    check(closed, "server log lacks 'Connection closed by invalid user %s "
          "127.0.0.1 port N [preauth]'" % name)
    check(inv.group(1) == closed.group(1),
          "'Invalid user' names port %s, 'Connection closed by invalid user' "
          "port %s" % (inv.group(1), closed.group(1)))
    check(not re.search(r"^Accepted ", ctx.server_log(), re.M),
          "server logged an Accepted line for a nonexistent user")


# ---------------------------------------------------------------------------
# 3. StrictModes


def _refused(ctx, u, what):
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "%s: ssh exited %s with stdout %r, want 255 and nothing (login "
          "must be refused)" % (what, r.rc, r.stdout))
    check("Permission denied (publickey" in r.err,
          "%s: ssh stderr lacks 'Permission denied (publickey':\n%s"
          % (what, r.err))


def test_strict_modes(ctx):
    ctx.start_server()
    u = ctx.make_user()
    sshdir = os.path.join(u.home, ".ssh")
    ak = os.path.join(sshdir, "authorized_keys")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")

    # Group-writable, with a group that has other members (root's group):
    # writable by other users. (Debian's sshd tolerates a group-writable
    # file whose group is the user's own private group; upstream OpenSSH
    # does not. A shared group is refused by both.)
    os.chown(ak, u.uid, 0)
    os.chmod(ak, 0o664)
    _refused(ctx, u, "group-writable authorized_keys")
    want = ("Authentication refused: bad ownership or modes for file %s"
            % ak)
    check(ctx.wait_log(r"^%s$" % re.escape(want), 5),
          "server log lacks %r" % want)
    os.chmod(ak, 0o600)

    os.chown(sshdir, u.uid, 0)
    os.chmod(sshdir, 0o775)
    _refused(ctx, u, "group-writable ~/.ssh")
    want = ("Authentication refused: bad ownership or modes for directory "
            "%s" % sshdir)
    check(ctx.wait_log(r"^%s$" % re.escape(want), 5),
          "server log lacks %r" % want)

    # The same files with StrictModes no. The base config says "StrictModes
    # yes" and the first value wins, so replace that line.
    os.chmod(ak, 0o664)
    ctx.stop_server()
    text = ctx.write_config()
    check("StrictModes yes\n" in text, "base config has no StrictModes line")
    with open(ctx.config_path, "w") as f:
        f.write(text.replace("StrictModes yes\n", "StrictModes no\n"))
    ctx.launch_server()
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


def test_strict_modes_private_group(ctx):
    """Debian's sshd lets a home, ~/.ssh or authorized_keys be writable by
    the user's own private group (a group whose only member is the user:
    useradd's USERGROUPS_ENAB with umask 002), and refuses it once another
    account is in that group; OpenSSH's sshd 9.2 here and postern are run
    side by side on the same files and must agree at every step."""
    from test_log_parity import Peer
    harness.openssh_sshd()
    u = ctx.make_user()
    grp.getgrgid(u.gid)  # useradd made the private group
    sshdir = os.path.join(u.home, ".ssh")
    ak = os.path.join(sshdir, "authorized_keys")
    os.chmod(u.home, 0o775)
    os.chmod(sshdir, 0o770)
    os.chmod(ak, 0o660)
    servers = [Peer(ctx, kind, ["StrictModes yes", "UsePAM no",
                                "LogLevel DEBUG1"], args=["-e"])
               for kind in ("sshd", "postern")]

    def expect(what, rc):
        for s in servers:
            got = s.ssh(u, key=u.key)
            check(got == rc, "%s: %s: ssh exited %s, want %s; log tail:\n%s"
                  % (what, s.kind, got, rc,
                     harness.tail(harness.read_text(s.log), 15)))

    expect("home 0775, ~/.ssh 0770, authorized_keys 0660, private group", 0)
    # Root may own the home; its group is still the user's alone.
    os.chown(u.home, 0, u.gid)
    expect("root-owned home 0775 in the user's private group", 0)
    os.chown(u.home, u.uid, u.gid)
    # A second member (by the member list) makes the group shared.
    other = ctx.make_user(with_key=False)
    harness.run(["usermod", "-a", "-G", grp.getgrgid(u.gid).gr_name,
                 other.name])
    expect("the group has a second member", 255)
    want = "bad ownership or modes for file %s" % ak
    check(want in harness.read_text(servers[1].log),
          "postern's log lacks %r" % want)
    harness.run(["gpasswd", "-d", other.name, grp.getgrgid(u.gid).gr_name])
    expect("the second member removed", 0)
    # Another account whose primary group it is also shares it.
    harness.run(["usermod", "-g", str(u.gid), other.name])
    expect("another account's primary group", 255)
    harness.run(["usermod", "-g", str(other.gid), other.name])
    # World-writable is refused whatever the group.
    os.chmod(sshdir, 0o772)
    expect("~/.ssh writable by others", 255)
    want = "bad ownership or modes for directory %s" % sshdir
    check(want in harness.read_text(servers[1].log),
          "postern's log lacks %r" % want)


# ---------------------------------------------------------------------------
# 4. -t, -T, -p, -o


def test_config_test_flag(ctx):
    ctx.write_config(["PubkeyAuthentication yes"])
    good = ctx.config_path
    r = harness.run([ctx.server_path, "-t", "-f", good], check_rc=False)
    check(r.returncode == 0 and r.stdout == b"" and r.stderr == b"",
          "-t -f GOOD: exit %s, stdout %r, stderr %r; want 0 and silence"
          % (r.returncode, r.stdout, r.stderr))

    bad = os.path.join(ctx.dir, "bad_config")
    with open(good) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write("Prot 22\n" + text)
    r = harness.run([ctx.server_path, "-t", "-f", bad], check_rc=False)
    err = r.stderr.decode(errors="replace")
    check(r.returncode != 0, "-t with 'Prot 22' exited 0; stderr %r" % err)
    for want in ("%s: line 1: Bad configuration option: Prot" % bad,
                 "did you mean Port"):
        check(want in err, "-t with 'Prot 22': stderr lacks %r:\n%s"
              % (want, err))
    # An address that does not resolve (an IPv6 one under AddressFamily
    # inet, so no DNS is asked): found after the whole file is read, still
    # named with its file, line and keyword (then sshd's words).
    with open(bad, "w") as f:
        f.write(text + "AddressFamily inet\nListenAddress ::1\n")
    r = harness.run([ctx.server_path, "-t", "-f", bad], check_rc=False)
    err = r.stderr.decode(errors="replace")
    want = ("%s line %d: ListenAddress: bad addr or host: ::1 ("
            % (bad, text.count("\n") + 2))
    check(r.returncode != 0 and want in err,
          "-t with an address that does not resolve: exit %s, stderr "
          "lacks %r:\n%s" % (r.returncode, want, err))

    r = harness.run([ctx.server_path, "-T", "-f", good])
    lines = r.stdout.decode(errors="replace").splitlines()
    for want in ("port %d" % ctx.port, "pubkeyauthentication yes"):
        check(want in lines, "-T output has no line %r:\n%s"
              % (want, "\n".join(lines)))

    # -p replaces the file's Port.
    u = ctx.make_user()
    file_port = ctx.port
    cli_port = harness.free_port()
    ctx.launch_server(["-p", str(cli_port)], listen_port=cli_port)
    check(not harness.port_listening(file_port),
          "with -p %d the server also listens on the config's port %d"
          % (cli_port, file_port))
    ctx.port = cli_port
    try:
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    finally:
        ctx.port = file_port
    ctx.stop_server()

    # -o comes before the file, and the first value wins.
    r = harness.run([ctx.server_path, "-T", "-f", good, "-o",
                     "PubkeyAuthentication=no"])
    lines = r.stdout.decode(errors="replace").splitlines()
    check("pubkeyauthentication no" in lines, "-T -o PubkeyAuthentication=no "
          "prints no line 'pubkeyauthentication no':\n%s"
          % "\n".join(l for l in lines if l.startswith("pubkey")))
    ctx.launch_server(["-o", "PubkeyAuthentication=no"])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "with -o PubkeyAuthentication=no (config: yes) the publickey login "
          "gave exit %s, stdout %r; want 255 (refused)" % (r.rc, r.stdout))


def test_cmdline_port_skips_port_lines(ctx):
    """With -p, sshd 9.2 skips the files' Port lines unread: one it would
    refuse alone ('Port 0', 'Port 70000', extra words) neither fails -t
    nor stops the server, and -T prints -p's port. posternd checked them
    and refused to start. Checked against sshd -t on the same file."""
    ctx.write_config()
    with open(ctx.config_path) as f:
        text = f.read()
    cli_port = harness.free_port()
    with open(ctx.config_path, "w") as f:
        f.write(text.replace("Port %d\n" % ctx.port,
                             "Port 0\nPort 70000\nPort 22 23\n"))
    sshd = harness.openssh_sshd()
    # An -o Port after -p is skipped as well; one before it is checked
    # where it stands, as sshd parses -o.
    p = str(cli_port)
    for server in (sshd, ctx.server_path):
        for args, want in ((["-t"], 255), (["-t", "-p", p], 0),
                           (["-t", "-p", p, "-o", "Port=70000"], 0),
                           (["-t", "-o", "Port=70000", "-p", p], 255)):
            r = harness.run([server, "-f", ctx.config_path] + args,
                            check_rc=False)
            check(r.returncode == want,
                  "%s -t %s: exit %s, want %s (sshd 9.2's); stderr %r"
                  % (server, " ".join(args[1:]), r.returncode, want,
                     r.stderr))
    r = harness.run([ctx.server_path, "-T", "-f", ctx.config_path, "-p",
                     str(cli_port)], check_rc=False)
    ports = [l for l in r.stdout.decode(errors="replace").splitlines()
             if l.startswith("port ")]
    check(r.returncode == 0 and ports == ["port %d" % cli_port],
          "-T -p %d: exit %s, port lines %r" % (cli_port, r.returncode,
                                                ports))
    u = ctx.make_user()
    ctx.launch_server(["-p", str(cli_port)], listen_port=cli_port)
    ctx.port = cli_port
    # Each connection's monitor reads the same file with the same -p.
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


# ---------------------------------------------------------------------------
# 5. rekeying under load


REKEY_SIZE = 30 * 1000 * 1000
RX_NEWKEYS_RECEIVED = r"^debug1: SSH2_MSG_NEWKEYS received"


def _stream_through_cat(ctx, u, data_path, digest, size, extra, errpath):
    argv = ctx.ssh_argv(u, "cat", extra=extra, verbose=True)
    with open(data_path, "rb") as fin, open(errpath, "wb") as ferr:
        p = ctx.popen(argv, stdin=fin, stdout=subprocess.PIPE, stderr=ferr)
    h = hashlib.sha256()
    n = 0
    fd = p.stdout.fileno()
    while True:
        r, _, _ = select.select([fd], [], [], 20)
        if not r:
            p.kill()
            p.wait(10)
            with open(errpath, "rb") as f:
                ctx._note_client(argv, "killed", f.read())
            fail("%s: no output for 20 s after %d of %d bytes"
                 % (" ".join(extra), n, size))
        b = os.read(fd, 1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    rc = p.wait(30)
    with open(errpath, "rb") as f:
        err = f.read()
    ctx._note_client(argv, rc, err)
    check(rc == 0, "%s: ssh ... cat exited %s after %d bytes"
          % (" ".join(extra), rc, n))
    check(n == size, "%s: received %d bytes, sent %d"
          % (" ".join(extra), n, size))
    check(h.hexdigest() == digest, "%s: sha256 of output %s != input %s"
          % (" ".join(extra), h.hexdigest(), digest))
    return err.decode("utf-8", "replace").replace("\r\n", "\n")


@timeout(90)
def test_rekey_both_ways(ctx):
    ctx.start_server()
    u = ctx.make_user()
    data_path = os.path.join(ctx.dir, "rekey.bin")
    data = os.urandom(REKEY_SIZE)
    with open(data_path, "wb") as f:
        f.write(data)
    digest = hashlib.sha256(data).hexdigest()
    del data
    for cipher in ("chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"):
        before = len(re.findall(RX_NEWKEYS_RECEIVED, ctx.server_log(), re.M))
        err = _stream_through_cat(
            ctx, u, data_path, digest, REKEY_SIZE,
            ["-c", cipher, "-o", "RekeyLimit=1M"],
            os.path.join(ctx.dir, "rekey.stderr"))
        for d in ("server->client", "client->server"):
            want = "kex: %s cipher: %s " % (d, cipher)
            check(want in err, "%s: client did not log %r" % (cipher, want))
        client_kex = len(re.findall(r"^debug1: SSH2_MSG_NEWKEYS received",
                                    err, re.M))
        check(client_kex > 5, "%s: the client logged %d key exchanges for "
              "30 MB each way with RekeyLimit=1M, want more than 5"
              % (cipher, client_kex))
        # The session logs its rekeys when they are complete; the connection
        # is closed by then, but give the log a moment.
        def server_kex():
            n = len(re.findall(RX_NEWKEYS_RECEIVED, ctx.server_log(),
                               re.M)) - before
            return n if n > 5 else None
        n = harness.poll_until(server_kex, 5)
        check(n, "%s: server log has %d new 'debug1: SSH2_MSG_NEWKEYS "
              "received' lines (LogLevel DEBUG1), want more than 5"
              % (cipher, len(re.findall(RX_NEWKEYS_RECEIVED,
                                        ctx.server_log(), re.M)) - before))


# ---------------------------------------------------------------------------
# 6. strict KEX (CVE-2023-48795 countermeasure)


def test_strict_kex_negotiated(ctx):
    ctx.start_server()
    u = ctx.make_user()
    r = ctx.ssh(u, "echo ok", extra=["-vvv"])
    check(r.rc == 0 and r.stdout == b"ok\n", "ssh -vvv exited %s, stdout %r"
          % (r.rc, r.stdout))
    # The server's KEXINIT, as the client prints it ("peer server KEXINIT
    # proposal", then "debug2: KEX algorithms: ...").
    lines = r.err.splitlines()
    try:
        i = lines.index("debug2: peer server KEXINIT proposal")
    except ValueError:
        fail("ssh -vvv did not print the server's KEXINIT proposal")
    kexalgs = lines[i + 1]
    check(kexalgs.startswith("debug2: KEX algorithms: ") and
          "kex-strict-s-v00@openssh.com" in
          kexalgs[len("debug2: KEX algorithms: "):].split(","),
          "server KEXINIT does not offer kex-strict-s-v00@openssh.com: %r"
          % kexalgs)
    # OpenSSH 9.2p1 kex.c kex_choose_conf().
    want = "debug3: kex_choose_conf: will use strict KEX ordering"
    check(want in lines, "ssh -vvv stderr lacks %r; lines with 'strict':\n%s"
          % (want, "\n".join(l for l in lines if "strict" in l.lower())))


# ---------------------------------------------------------------------------
# 7. LoginGraceTime


def test_login_grace_time(ctx):
    ctx.start_server(extra_config=["LoginGraceTime 2"])
    s = ctx.raw_connect()
    lport = s.getsockname()[1]
    s.sendall(b"SSH-2.0-stall\r\n")
    t0 = time.monotonic()
    closed, _ = harness.wait_closed(s, 15)
    check(closed, "with LoginGraceTime 2 a client that stalls after its "
          "banner was still connected after 15 s")
    want = "Timeout before authentication for 127.0.0.1 port %d" % lport
    check(ctx.wait_log(r"^%s$" % re.escape(want), 5),
          "connection closed after %.1f s but the server log lacks %r"
          % (time.monotonic() - t0, want))
    check(ctx.server_alive(), "server exited after the grace timeout")


# ---------------------------------------------------------------------------
# 8. MaxAuthTries


def test_max_auth_tries(ctx):
    ctx.start_server(extra_config=["MaxAuthTries 2"])
    u = ctx.make_user()
    k1, k2, k3 = (ctx.new_key("wrong%d" % i) for i in (1, 2, 3))
    r = ctx.ssh(u, "echo ok", key=k1, extra=["-i", k2, "-i", k3])
    check(r.rc == 255 and r.stdout == b"", "ssh with 3 wrong keys exited %s, "
          "stdout %r; want 255" % (r.rc, r.stdout))
    # Reason code 2 (protocol error), as sshd's ssh_packet_disconnect().
    check(re.search(r"port \d+:2: Too many authentication failures", r.err),
          "ssh stderr lacks 'port N:2: Too many authentication failures' "
          "(MaxAuthTries 2, 3 keys offered):\n%s" % r.err)
    m = ctx.wait_log(r"^(?:error: )?maximum authentication attempts exceeded "
                     r"for %s from 127\.0\.0\.1 port (\d+) ssh2 \[preauth\]$"
                     % re.escape(u.name), 5)
    check(m, "server log lacks 'maximum authentication attempts exceeded for "
          "%s from 127.0.0.1 port N ssh2 [preauth]'" % u.name)
    failed = re.findall(r"^Failed publickey for %s from 127\.0\.0\.1 port "
                        r"(\d+) ssh2: " % re.escape(u.name),
                        ctx.server_log(), re.M)
    check(failed == [m.group(1)] * 2, "want two 'Failed publickey' lines for "
          "port %s (MaxAuthTries 2), got ports %s" % (m.group(1), failed))
    check(not re.search(r"^Accepted ", ctx.server_log(), re.M),
          "server logged an Accepted line")


# ---------------------------------------------------------------------------
# 9. SIGHUP reload (posternd's wording)


MSG_HUP_INVALID = ("Received SIGHUP; new configuration is invalid, keeping "
                   "the running one.")
MSG_HUP_RESTART = "Received SIGHUP; restarting."
RX_LISTENING = r"^Server listening on 127\.0\.0\.1 port %d\.$"


def test_sighup_reload(ctx):
    ctx.start_server()
    u = ctx.make_user()
    pid = ctx.proc.pid
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    listening = RX_LISTENING % ctx.port
    check(len(re.findall(listening, ctx.server_log(), re.M)) == 1,
          "server log lacks one 'Server listening on 127.0.0.1 port %d.'"
          % ctx.port)

    with open(ctx.config_path) as f:
        good = f.read()
    with open(ctx.config_path, "a") as f:
        f.write("NoSuchKeywordAtAll yes\n")
    os.kill(pid, signal.SIGHUP)
    check(ctx.wait_log(r"^(?:error: )?%s$" % re.escape(MSG_HUP_INVALID), 10),
          "after SIGHUP with a bad config line the log lacks %r"
          % MSG_HUP_INVALID)
    check(ctx.server_alive(), "server exited after SIGHUP with a bad config "
          "(exit %s)" % ctx.proc.returncode)
    check(harness.port_listening(ctx.port), "server no longer listens after "
          "SIGHUP with a bad config")
    ctx.ssh_ok(u, "echo still", expect_out=b"still\n")
    # The server goes on: its report of the bad lines does not say
    # "terminating" (log watchers alert on that word).
    term = re.findall(r"(?m)^.*terminating.*$", ctx.server_log())
    check(not term, "a SIGHUP with a bad config line logged 'terminating', "
          "yet the server runs on:\n%s" % "\n".join(term))

    # A config that parses but whose host key does not load: kept too.
    with open(ctx.config_path, "w") as f:
        f.write(re.sub(r"(?m)^HostKey .*$", "HostKey %s/no_such_host_key"
                       % ctx.dir, good))
    nlog = len(ctx.server_log())
    os.kill(pid, signal.SIGHUP)
    check(poll_until(lambda: MSG_HUP_INVALID in ctx.server_log()[nlog:], 10),
          "after SIGHUP with a config whose host key is missing the log "
          "lacks %r:\n%s" % (MSG_HUP_INVALID, ctx.server_log()[nlog:]))
    check(ctx.server_alive(), "server exited after SIGHUP with a missing "
          "host key (exit %s)" % ctx.proc.returncode)
    ctx.ssh_ok(u, "echo kept", expect_out=b"kept\n")

    # A valid config that differs: LogLevel VERBOSE instead of DEBUG1.
    check("LogLevel DEBUG1\n" in good, "base config has no LogLevel DEBUG1")
    with open(ctx.config_path, "w") as f:
        f.write(good.replace("LogLevel DEBUG1\n", "LogLevel VERBOSE\n"))
    os.kill(pid, signal.SIGHUP)
    check(ctx.wait_log(r"^%s$" % re.escape(MSG_HUP_RESTART), 10),
          "after SIGHUP with a valid config the log lacks %r"
          % MSG_HUP_RESTART)
    relistened = harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2 and
        harness.port_listening(ctx.port), 10)
    check(relistened, "after 'Received SIGHUP; restarting.' the server did "
          "not log 'Server listening' again and listen within 10 s")
    check(ctx.server_alive() and ctx.proc.pid == pid,
          "the server process %d is gone after the restart (exit %s)"
          % (pid, ctx.proc.returncode))
    ctx.ssh_ok(u, "echo again", expect_out=b"again\n")
    # What the restarted server logged (the old one may log debug lines
    # of its own between "restarting" and the exec).
    log = ctx.server_log()
    after = log[list(re.finditer(listening, log, re.M))[-1].start():]
    check(re.search(r"^Accepted publickey for %s " % re.escape(u.name),
                    after, re.M),
          "no Accepted line logged after the restart")
    debug = [l for l in after.splitlines() if l.startswith("debug")]
    check(not debug, "after reloading with LogLevel VERBOSE the server still "
          "logs debug lines (new config not applied):\n%s"
          % "\n".join(debug[:5]))
    # SIGTERM is a clean stop, exit 0 as sshd's (systemd: not "failed").
    os.kill(pid, signal.SIGTERM)
    try:
        rc = ctx.proc.wait(10)
    except subprocess.TimeoutExpired:
        fail("the server did not exit within 10 s of SIGTERM")
    check(rc == 0, "exit code after SIGTERM: %s (sshd: 0)" % rc)


# ---------------------------------------------------------------------------
# 10. posternd run by an ordinary user


@timeout(120)
def test_sighup_unreadable_config_logged(ctx):
    """A SIGHUP while the configuration file cannot be opened keeps the
    running one and says why in the log, not only on stderr (sshd's
    perror() line), which a daemon may have pointed nowhere."""
    from test_fail2ban import SyslogReceiver, _start_syslog_server
    rcv = SyslogReceiver(ctx, os.path.join(ctx.dir, "syslog"))
    u = ctx.make_user()
    _start_syslog_server(ctx, [])
    away = ctx.config_path + ".away"
    os.rename(ctx.config_path, away)
    try:
        os.kill(ctx.proc.pid, signal.SIGHUP)
        pid = ctx.proc.pid
        check(rcv.wait(r"sshd\[%d\]: (?:error: )?%s$" % (pid, re.escape(
            MSG_HUP_INVALID))), "no %r in the log:\n%s"
            % (MSG_HUP_INVALID, "\n".join(rcv.lines()[-10:])))
        check(rcv.wait(r"sshd\[%d\]: (?:error: )?%s: No such file or "
                       r"directory$" % (pid, re.escape(ctx.config_path)),
                       5),
              "the log does not say why:\n%s"
              % "\n".join(rcv.lines()[-10:]))
    finally:
        os.rename(away, ctx.config_path)
    check(ctx.server_alive(), "the server exited")
    ctx.ssh_ok(u, "echo kept", expect_out=b"kept\n")


def _reachable_by_others(path):
    """Can a user outside root's group execute path (every directory on the
    way searchable, the file readable and executable, by 'other')?"""
    path = os.path.realpath(path)
    d = os.path.dirname(path)
    while True:
        try:
            if not os.stat(d).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        if d == "/":
            break
        d = os.path.dirname(d)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IXOTH and mode & stat.S_IROTH)


def test_nonroot_server(ctx):
    u = ctx.make_user()
    other = ctx.make_user()
    srv = os.path.join(u.home, "postern-srv")
    os.mkdir(srv, 0o700)
    os.chown(srv, u.uid, u.gid)

    # The server binaries: from the build tree if u can run them, else a
    # copy in a directory u can read.
    bindir = os.path.dirname(ctx.server_path)
    names = [os.path.basename(ctx.server_path)]
    names += [h for h in HELPERS if os.path.exists(os.path.join(bindir, h))]
    if not all(_reachable_by_others(os.path.join(bindir, n)) for n in names):
        ctx.server_path = harness.copy_server(
            ctx.server_path, os.path.join(ctx.dir, "bin"))

    hostkey = os.path.join(srv, "host_ed25519")
    harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                 "userhost", "-f", hostkey])
    for p in (hostkey, hostkey + ".pub"):
        os.chown(p, u.uid, u.gid)
    ctx.port = harness.free_port()
    ctx.config_path = os.path.join(srv, "sshd_config")
    with open(ctx.config_path, "w") as f:
        f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
                "PidFile %s/posternd.pid\n"
                "AuthorizedKeysFile .ssh/authorized_keys\n"
                "LogLevel DEBUG1\nStrictModes yes\n"
                % (ctx.port, hostkey, srv))
    os.chown(ctx.config_path, u.uid, u.gid)
    os.chmod(ctx.config_path, 0o600)
    env = {"HOME": u.home, "USER": u.name, "LOGNAME": u.name,
           "PATH": "/usr/local/bin:/usr/bin:/bin"}
    ctx.launch_server(user=u.uid, group=u.gid, extra_groups=[], env=env,
                      cwd=srv)
    st = harness.proc_status(ctx.proc.pid)
    check(harness.proc_ids(st, "Uid") == [u.uid] * 4,
          "the server does not run as %s: Uid %s" % (u.name, st.get("Uid")))

    ctx.ssh_ok(u, "id -u", expect_out=b"%d\n" % u.uid)
    r = ctx.ssh(other, "id -u")
    check(r.rc == 255 and r.stdout == b"",
          "a server run by %s let %s log in: exit %s, stdout %r"
          % (u.name, other.name, r.rc, r.stdout))

    # A connection in preauth: the preauth process runs as u, sandboxed,
    # without a chroot.
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-test\r\n")
    pid = harness.find_descendant_by_exe(ctx.proc.pid, PREAUTH_EXE)
    what = "%s (pid %d) of a server run by %s" % (PREAUTH_EXE, pid, u.name)

    def sandboxed():
        st = harness.proc_status(pid)
        return st if st.get("Seccomp") == "2" else None
    st = harness.poll_until(sandboxed, 5) or harness.proc_status(pid)
    check(harness.proc_ids(st, "Uid") == [u.uid] * 4,
          "%s: Uid %s, want %d" % (what, st.get("Uid"), u.uid))
    check(harness.proc_ids(st, "Gid") == [u.gid] * 4,
          "%s: Gid %s, want %d" % (what, st.get("Gid"), u.gid))
    check(st.get("Seccomp") == "2", "%s: Seccomp %r, want '2'"
          % (what, st.get("Seccomp")))
    check(st.get("NoNewPrivs") == "1", "%s: NoNewPrivs %r, want '1'"
          % (what, st.get("NoNewPrivs")))
    try:
        root = os.readlink("/proc/%d/root" % pid)
    except OSError as e:
        fail("%s: cannot read /proc/%d/root: %s" % (what, pid, e))
    check(root == "/", "%s: root is %r, want '/' (no chroot as non-root)"
          % (what, root))
    s.close()
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


# ---------------------------------------------------------------------------
# 11. exit signals, and all output delivered before the exit


def test_exit_signal(ctx):
    ctx.start_server()
    u = ctx.make_user()
    r = ctx.ssh(u, "kill -TERM $$", verbose=True)
    # OpenSSH's client does not turn exit-signal into an exit status: with
    # no exit-status it exits 255 (as against OpenSSH's sshd).
    check(r.rc == 255, "ssh 'kill -TERM $$' exited %s, want 255; stderr:\n%s"
          % (r.rc, "\n".join(harness.tail(r.err, 15))))
    want = "client_input_channel_req: channel 0 rtype exit-signal reply 0"
    check(want in r.err, "the client did not receive an exit-signal request "
          "(no %r in ssh -v); channel requests seen:\n%s"
          % (want, "\n".join(l for l in r.err.splitlines()
                             if "rtype" in l)))

    size = 50 * 1000 * 1000
    r = ctx.ssh(u, "head -c %d /dev/zero" % size, timeout_s=60)
    check(r.rc == 0, "ssh 'head -c %d /dev/zero' exited %s; stderr:\n%s"
          % (size, r.rc, r.err))
    check(len(r.stdout) == size, "'head -c %d /dev/zero' delivered %d bytes"
          % (size, len(r.stdout)))
    check(r.stdout.count(0) == size, "output is not all zero bytes")


def test_command_line_ending_in_double_dash(ctx):
    """`posternd -D -e -f FILE --` (a "--" that ends the options, as an
    SSHD_OPTS may leave it) serves logins, as sshd does: each connection's
    monitor took its "-R" after the "--" as an operand and exited."""
    u = ctx.make_user()
    ctx.write_config()
    ctx.launch_server(["--"])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    check("Extra argument" not in ctx.server_log(),
          "a monitor refused its arguments:\n%s"
          % harness.tail(ctx.server_log()))


def test_too_many_listen_sockets(ctx):
    """More listening sockets than posternd keeps (64: two addresses, 33
    ports) end the start with sshd's words; the sockets past 64 were
    dropped without a word."""
    ports = [ctx.port or harness.free_port()]
    while len(ports) < 33:
        p = harness.free_port()
        if p not in ports:
            ports.append(p)
    ctx.port = ports[0]
    ctx.write_config(["Port %d" % p for p in ports[1:]] +
                     ["ListenAddress 127.0.0.2"])
    r = harness.run([ctx.server_path, "-D", "-e", "-f", ctx.config_path],
                    check_rc=False, timeout_s=30)
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 255 and
          "Too many listen sockets. Enlarge MAX_LISTEN_SOCKS" in err,
          "66 listening sockets: rc %s\n%s" % (r.returncode, err[-1500:]))


def test_sighup_unbindable_listen_keeps_serving(ctx):
    """A SIGHUP whose configuration names only addresses that cannot be
    bound (a port another program listens on, an address not on this
    host) keeps the running listener: the restarted one would have no
    socket and end the server."""
    ctx.start_server()
    u = ctx.make_user()
    pid = ctx.proc.pid
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    with open(ctx.config_path) as f:
        good = f.read()
    other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ctx.sockets.append(other)
    other.bind(("127.0.0.1", 0))
    other.listen(1)
    taken = other.getsockname()[1]
    for what, text in (
            ("a port in use", good.replace("Port %d\n" % ctx.port,
                                           "Port %d\n" % taken)),
            ("an address not on this host",
             good.replace("ListenAddress 127.0.0.1\n",
                          "ListenAddress 192.0.2.1\n"))):
        with open(ctx.config_path, "w") as f:
            f.write(text)
        nlog = len(ctx.server_log())
        os.kill(pid, signal.SIGHUP)
        check(poll_until(lambda: MSG_HUP_INVALID in ctx.server_log()[nlog:]
                         or not ctx.server_alive(), 10),
              "after SIGHUP with %s the log lacks %r:\n%s"
              % (what, MSG_HUP_INVALID, ctx.server_log()[nlog:]))
        check(ctx.server_alive(), "server exited after SIGHUP with %s "
              "(exit %s):\n%s" % (what, ctx.proc.returncode,
                                  ctx.server_log()[nlog:]))
        check(re.search(r"Bind to port \d+ on [0-9.]+ failed",
                        ctx.server_log()[nlog:]),
              "the reason (the failed bind) is not logged")
        ctx.ssh_ok(u, "echo kept", expect_out=b"kept\n")
    # The same port on the wildcard address conflicts only with the
    # running listener's own socket, which the restart closes: taken.
    with open(ctx.config_path, "w") as f:
        f.write(good.replace("ListenAddress 127.0.0.1\n",
                             "ListenAddress 0.0.0.0\n"))
    nlog = len(ctx.server_log())
    os.kill(pid, signal.SIGHUP)
    check(poll_until(lambda: re.search(
        r"(?m)^Server listening on 0\.0\.0\.0 port %d\.$" % ctx.port,
        ctx.server_log()[nlog:]) and harness.port_listening(ctx.port), 10),
        "SIGHUP to the wildcard address on the same port did not restart "
        "there:\n%s" % ctx.server_log()[nlog:])
    ctx.ssh_ok(u, "echo moved", expect_out=b"moved\n")


def test_sighup_host_key_reasons_logged_once(ctx):
    """A SIGHUP names a host key that does not load once, as sshd 9.2
    does: the restarted listener names it (the check before the restart
    said it too, so each reload logged it twice). A configuration with
    which no key loads is kept out, and the log says why, in sshd's
    words ('no hostkeys available'), before the reload's refusal."""
    ctx.start_server()
    u = ctx.make_user()
    pid = ctx.proc.pid
    missing = os.path.join(ctx.dir, "no_such_host_key")
    unable = "Unable to load host key: %s" % missing
    with open(ctx.config_path) as f:
        good = f.read()
    with open(ctx.config_path, "a") as f:
        f.write("HostKey %s\n" % missing)
    nlog = len(ctx.server_log())
    os.kill(pid, signal.SIGHUP)
    check(poll_until(lambda: re.search(
        RX_LISTENING % ctx.port, ctx.server_log()[nlog:], re.M), 10),
        "no restart after SIGHUP with an extra HostKey:\n%s"
        % ctx.server_log()[nlog:])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    before_login = ctx.server_log()[nlog:].split("Connection from")[0]
    n = before_login.count(unable)
    check(n == 1, "the SIGHUP logged %r %d times (sshd: once):\n%s"
          % (unable, n, before_login))
    # Only keys that do not load: kept out, with the reason.
    with open(ctx.config_path, "w") as f:
        f.write(good.replace("HostKey %s\n" % ctx.host_key,
                             "HostKey %s\n" % missing))
    nlog = len(ctx.server_log())
    os.kill(pid, signal.SIGHUP)
    check(poll_until(lambda: MSG_HUP_INVALID in ctx.server_log()[nlog:]
                     or not ctx.server_alive(), 10),
          "after SIGHUP with no loadable host key the log lacks %r:\n%s"
          % (MSG_HUP_INVALID, ctx.server_log()[nlog:]))
    check(ctx.server_alive(), "server exited after SIGHUP with no "
          "loadable host key")
    out = ctx.server_log()[nlog:]
    check(re.search(r"(?m)^(?:error: )?sshd: no hostkeys available$", out)
          and out.index("no hostkeys available") < out.index(MSG_HUP_INVALID)
          and out.count(unable) == 1,
          "a SIGHUP with no loadable host key does not say once which key "
          "failed, then 'no hostkeys available', then %r:\n%s"
          % (MSG_HUP_INVALID, out))
    ctx.ssh_ok(u, "echo kept", expect_out=b"kept\n")


def test_sighup_too_many_listen_sockets_keeps_serving(ctx):
    """A SIGHUP to a configuration with more listening sockets than
    posternd keeps (66: two addresses, 33 ports; the restart would end
    with 'Too many listen sockets') is refused, the running listener goes
    on, as for one none of whose addresses can be bound."""
    ctx.start_server()
    u = ctx.make_user()
    pid = ctx.proc.pid
    with open(ctx.config_path) as f:
        good = f.read()
    ports = [ctx.port]
    while len(ports) < 33:
        p = harness.free_port()
        if p not in ports:
            ports.append(p)
    with open(ctx.config_path, "w") as f:
        f.write(good + "".join("Port %d\n" % p for p in ports[1:]) +
                "ListenAddress 127.0.0.2\n")
    nlog = len(ctx.server_log())
    os.kill(pid, signal.SIGHUP)
    check(poll_until(lambda: MSG_HUP_INVALID in ctx.server_log()[nlog:]
                     or not ctx.server_alive(), 10),
          "after SIGHUP with 66 sockets the log lacks %r:\n%s"
          % (MSG_HUP_INVALID, ctx.server_log()[nlog:]))
    check(ctx.server_alive(), "server exited after SIGHUP with 66 sockets "
          "(exit %s):\n%s" % (ctx.proc.returncode, ctx.server_log()[nlog:]))
    ctx.ssh_ok(u, "echo kept", expect_out=b"kept\n")
