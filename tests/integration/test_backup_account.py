"""
test_backup_account.py: the shipped 30-backup-account.conf recipe with
real rsync and rrsync (Debian's rsync package): a Match User block whose
ForceCommand is `rrsync -ro DIR` lets `rsync -a user@host:/ dest/` read
DIR, and refuses writes and paths outside it. The snippet names the
account "rbackup" and /srv/backup; the test uses its own user and
directory in a copy of it. Then the other tools docs/backup.md gives a
recipe for: borg (its own forced command in the key line) and restic
(SFTP in a ChrootDirectory jail).
"""

import hashlib
import os
import re
import shutil
import signal
import subprocess

import harness
from harness import check, poll_until

SNIPPET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "..", "packaging", "sshd_config.d",
                       "30-backup-account.conf")


def _rsync(ctx, u, args, timeout=60):
    ssh = " ".join(ctx.ssh_argv(u)[:-1])  # everything but user@host
    return subprocess.run(["rsync", "-e", ssh] + args, capture_output=True,
                          timeout=timeout)


def test_rrsync_backup_account(ctx):
    u = ctx.make_user()
    srv = os.path.join(ctx.dir, "srv-backup")
    os.makedirs(os.path.join(srv, "sub"), 0o755)
    files = {"a.txt": b"alpha\n", "sub/b.bin": os.urandom(300000)}
    for name, data in files.items():
        with open(os.path.join(srv, name), "wb") as f:
            f.write(data)
    secret = os.path.join(ctx.dir, "outside.txt")
    with open(secret, "w") as f:
        f.write("not for the backup account\n")
    os.chmod(ctx.dir, 0o755)
    with open(SNIPPET) as f:
        text = f.read()
    check("Match User rbackup" in text and "rrsync -ro /srv/backup" in text,
          "30-backup-account.conf no longer has the recipe this tests")
    snippet = os.path.join(ctx.dir, "30-backup-account.conf")
    with open(snippet, "w") as f:
        f.write(text.replace("Match User rbackup", "Match User " + u.name)
                    .replace("/srv/backup", srv))
    # Everyone else needs a second factor: the snippet keeps the account
    # on its key alone (an unattended backup types no code).
    ctx.start_server(extra_config=[
        "KbdInteractiveAuthentication yes",
        "AuthenticationMethods publickey,keyboard-interactive",
        "Include " + snippet])

    dest = os.path.join(ctx.dir, "dest")
    r = _rsync(ctx, u, ["-a", "%s@127.0.0.1:/" % u.name, dest + "/"])
    check(r.returncode == 0, "rsync read failed: %s" % r.stderr[-400:])
    for name, data in files.items():
        with open(os.path.join(dest, name), "rb") as f:
            check(hashlib.sha256(f.read()).digest() ==
                  hashlib.sha256(data).digest(), "%s differs" % name)

    up = os.path.join(ctx.dir, "upload.txt")
    with open(up, "w") as f:
        f.write("should not land\n")
    r = _rsync(ctx, u, ["-a", up, "%s@127.0.0.1:/" % u.name])
    check(r.returncode != 0, "a write through rrsync -ro succeeded")
    check(not os.path.exists(os.path.join(srv, "upload.txt")),
          "the file was written into the backup directory")

    r = _rsync(ctx, u, ["-a", "%s@127.0.0.1:../outside.txt" % u.name,
                        os.path.join(ctx.dir, "escaped.txt")])
    check(not os.path.exists(os.path.join(ctx.dir, "escaped.txt")),
          "rrsync let ../ escape the backup directory")

    r = ctx.ssh(u, "cat %s" % secret)
    check(r.stdout == b"", "a shell command ran for the backup account")
    r = ctx.ssh(u, "tty", extra=("-tt",))
    check(b"/dev/pts" not in r.stdout,
          "the backup account got a terminal (PermitTTY no)")


def test_rrsync_key_option(ctx):
    """The key-line form, command="rrsync -wo -no-del DIR",restrict:
    names with spaces and newlines arrive whole, --delete and reads are
    refused by rrsync; sftp with that key fails quietly (sshd drops a
    subsystem's stderr, so rrsync's complaint never reaches the client),
    scp's exec gets rrsync's refusal."""
    u = ctx.make_user()
    srv = os.path.join(ctx.dir, "srv-drop")
    os.makedirs(srv, 0o755)
    os.chown(srv, u.uid, u.gid)
    with open(os.path.join(srv, "keep.txt"), "w") as f:
        f.write("already here\n")
    os.chmod(ctx.dir, 0o755)
    ak = os.path.join(u.home, ".ssh", "authorized_keys")
    os.unlink(ak)
    ctx.authorize(u, u.key + ".pub",
                  options='command="rrsync -wo -no-del %s",restrict' % srv)
    ctx.start_server(extra_config=["Subsystem sftp internal-sftp"])

    up = os.path.join(ctx.dir, "up")
    names = ["with space.txt", "new\nline.txt", "-dash.txt", "q'\"x.txt"]
    os.makedirs(up)
    for n in names:
        with open(os.path.join(up, n), "w") as f:
            f.write(n)
    r = _rsync(ctx, u, ["-a", up + "/", "%s@127.0.0.1:/" % u.name])
    check(r.returncode == 0, "rsync push failed: %s" % r.stderr[-400:])
    for n in names:
        with open(os.path.join(srv, n)) as f:
            check(f.read() == n, "%r did not arrive whole" % n)
    r = _rsync(ctx, u, ["-a", "--delete", up + "/", "%s@127.0.0.1:/" % u.name])
    check(r.returncode != 0 and b"--delete has been disabled" in r.stderr,
          "--delete under -no-del: rc %s %r" % (r.returncode, r.stderr[-300:]))
    check(os.path.exists(os.path.join(srv, "keep.txt")),
          "--delete removed a file under -no-del")
    r = _rsync(ctx, u, ["-a", "%s@127.0.0.1:/" % u.name,
                        os.path.join(ctx.dir, "back") + "/"])
    check(r.returncode != 0 and b"write-only" in r.stderr,
          "a read through rrsync -wo: rc %s %r"
          % (r.returncode, r.stderr[-300:]))

    opts = ctx.ssh_argv(u)[1:-1]
    opts[opts.index("-p")] = "-P"
    r = subprocess.run(["sftp"] + opts + ["-b", "-", "%s@127.0.0.1" % u.name],
                       input=b"ls\n", capture_output=True, timeout=30)
    check(r.returncode != 0, "sftp with an rrsync key succeeded")
    check(b"rrsync" not in r.stderr,
          "the forced command's stderr reached an sftp client: %r"
          % r.stderr)
    check(ctx.wait_log(r"Starting session: forced-command \(key-option\) "
                       r"'rrsync -wo -no-del %s' for %s"
                       % (re.escape(srv), u.name), 5),
          "no forced-command session line for the sftp attempt")
    r = subprocess.run(["scp", "-O"] + opts + [
        os.path.join(up, "-dash.txt"), "%s@127.0.0.1:x" % u.name],
        capture_output=True, timeout=30)
    check(r.returncode != 0 and b"does not run rsync" in r.stderr,
          "scp -O with an rrsync key: rc %s %r"
          % (r.returncode, r.stderr[-300:]))
    check(not os.path.exists(os.path.join(srv, "x")), "scp wrote a file")


def test_forced_command_environment(ctx):
    """What rrsync reads, checked against sshd 9.2 side by side:
    SSH_ORIGINAL_COMMAND byte for byte (quotes, tab, newline), unset for
    a shell request (ssh sends one for an empty command too), the
    Subsystem's command line for a subsystem request; SSH_CONNECTION and
    SSH_CLIENT; no SSH_TTY under restrict."""
    u = ctx.make_user()
    script = os.path.join(ctx.dir, "show-env")
    with open(script, "w") as f:
        f.write('#!/bin/sh\nprintf "%s|%s|%s|%s" '
                '"${SSH_ORIGINAL_COMMAND-unset}" "${SSH_TTY-none}" '
                '"$SSH_CONNECTION" "$SSH_CLIENT"\n')
    os.chmod(script, 0o755)
    os.chmod(ctx.dir, 0o755)
    ak = os.path.join(u.home, ".ssh", "authorized_keys")
    os.unlink(ak)
    ctx.authorize(u, u.key + ".pub", options='command="%s",restrict' % script)
    ctx.start_server(extra_config=["Subsystem backup /usr/bin/rrsync -ro /"])
    tail = rb"\|none\|127\.0\.0\.1 (\d+) 127\.0\.0\.1 %d\|127\.0\.0\.1 \1 %d" \
        % (ctx.port, ctx.port)
    for command, want in (("rsync --server 'a b' \"c\"\td\ne", None),
                          ("", b"unset"), (None, b"unset")):
        r = ctx.ssh(u, command, input=b"")
        want = command.encode() if want is None else want
        check(r.rc == 0 and re.fullmatch(re.escape(want) + tail, r.stdout),
              "forced command environment for %r: %r" % (command, r.stdout))
    r = ctx.ssh(u, "backup", extra=("-s",), input=b"")
    check(r.rc == 0 and re.fullmatch(rb"/usr/bin/rrsync -ro /" + tail,
                                     r.stdout),
          "a subsystem request's SSH_ORIGINAL_COMMAND: %r" % r.stdout)


def _borg(ctx, u, args, key, cwd=None):
    ssh = " ".join(ctx.ssh_argv(u, key=key)[:-1])  # all but user@host
    env = dict(os.environ, BORG_RSH=ssh, BORG_PASSPHRASE="backup-pass",
               BORG_BASE_DIR=os.path.join(ctx.dir, "borg-base"),
               BORG_RELOCATED_REPO_ACCESS_IS_OK="yes")
    return subprocess.run(["borg"] + args, capture_output=True, timeout=90,
                          env=env, cwd=cwd)


def test_borg_serve_key_option(ctx):
    """The other common backup account: borg's own forced command in the
    key line, command="borg serve --restrict-to-path DIR",restrict (Debian's
    borgbackup). borg's binary protocol runs over the session's stdin and
    stdout: init, create, list, extract give back every byte; a repository
    outside DIR and a shell command are refused."""
    u = ctx.make_user(with_key=False)
    key = ctx.new_key("borg")
    repos = os.path.join(ctx.dir, "borg-repos")
    os.makedirs(repos, 0o755)
    os.chown(repos, u.uid, u.gid)
    os.chmod(ctx.dir, 0o755)
    ctx.authorize(u, key + ".pub",
                  'command="borg serve --restrict-to-path %s",restrict'
                  % repos)
    ctx.start_server()
    data = os.path.join(ctx.dir, "data")
    os.makedirs(os.path.join(data, "sub"))
    files = {"a.txt": b"alpha\n", "sub/b.bin": os.urandom(2 * 1024 * 1024)}
    for name, body in files.items():
        with open(os.path.join(data, name), "wb") as f:
            f.write(body)
    repo = "ssh://%s@127.0.0.1:%d%s/r1" % (u.name, ctx.port, repos)
    for args in (["init", "-e", "repokey", repo],
                 ["create", repo + "::first", "data"]):
        r = _borg(ctx, u, args, key, cwd=ctx.dir)
        check(r.returncode == 0, "borg %s failed: %s"
              % (args[0], r.stderr.decode(errors="replace")[-600:]))
    r = _borg(ctx, u, ["list", "--short", repo], key)
    check(r.returncode == 0 and r.stdout == b"first\n",
          "borg list: rc %d %r" % (r.returncode, r.stdout[:200]))
    out = os.path.join(ctx.dir, "restored")
    os.makedirs(out)
    r = _borg(ctx, u, ["extract", repo + "::first"], key, cwd=out)
    check(r.returncode == 0, "borg extract failed: %s"
          % r.stderr.decode(errors="replace")[-600:])
    for name, body in files.items():
        with open(os.path.join(out, "data", name), "rb") as f:
            check(f.read() == body, "borg extract: %s differs" % name)

    outside = os.path.join(ctx.dir, "outside-repo")
    r = _borg(ctx, u, ["init", "-e", "repokey", "ssh://%s@127.0.0.1:%d%s"
                       % (u.name, ctx.port, outside)], key)
    check(r.returncode != 0 and not os.path.exists(outside) and
          b"not allowed" in r.stderr,
          "a repository outside --restrict-to-path: rc %d %r"
          % (r.returncode, r.stderr[-300:]))
    marker = os.path.join(u.home, "shell-ran")  # the user may write there
    r = ctx.ssh(u, "touch " + marker, key=key)
    check(r.rc != 0 and not os.path.exists(marker),
          "a shell command ran instead of borg serve: rc %s" % r.rc)


def test_restic_over_sftp(ctx):
    """restic's sftp backend (Debian's restic: the OpenSSH client with
    -s sftp, then Go's pkg/sftp over it) against internal-sftp, in a
    ChrootDirectory + ForceCommand internal-sftp account of its own:
    init, backup, check, restore give back every byte."""
    u = ctx.make_user()
    # Root's all the way up, as ChrootDirectory wants (not under /tmp).
    os.makedirs("/srv", mode=0o755, exist_ok=True)
    jail = "/srv/prestic-" + u.name
    os.mkdir(jail, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(jail, ignore_errors=True))
    os.mkdir(os.path.join(jail, "repo"), 0o755)
    os.chown(os.path.join(jail, "repo"), u.uid, u.gid)
    os.chmod(ctx.dir, 0o755)
    ctx.start_server(["Subsystem sftp internal-sftp",
                      "Match User " + u.name,
                      "    ChrootDirectory " + jail,
                      "    ForceCommand internal-sftp"])
    data = os.path.join(ctx.dir, "data")
    os.makedirs(data)
    body = os.urandom(3 * 1024 * 1024 + 5)
    with open(os.path.join(data, "blob"), "wb") as f:
        f.write(body)
    sftp_cmd = " ".join(ctx.ssh_argv(u)) + " -s sftp"
    env = dict(os.environ, RESTIC_PASSWORD="backup-pass",
               RESTIC_CACHE_DIR=os.path.join(ctx.dir, "restic-cache"))
    base = ["restic", "-q", "-r", "sftp:%s@127.0.0.1:/repo/r" % u.name,
            "-o", "sftp.command=" + sftp_cmd]
    out = os.path.join(ctx.dir, "restored")
    for args in (["init"], ["backup", data], ["check"],
                 ["restore", "latest", "--target", out]):
        r = subprocess.run(base + args, capture_output=True, timeout=90,
                           env=env)
        check(r.returncode == 0, "restic %s failed: %s"
              % (args[0], r.stderr.decode(errors="replace")[-600:]))
    check(os.path.isdir(os.path.join(jail, "repo", "r", "data")),
          "the repository is not inside the jail")
    with open(os.path.join(out, data.lstrip("/"), "blob"), "rb") as f:
        check(f.read() == body, "restic restore: the file differs")


def test_backup_session_killed(ctx):
    """A hung backup ended the way an admin ends one: SIGKILL to the
    account's "sshd: USER@notty" process (postern-session), side by side
    with sshd 9.2. The client is disconnected ("closed by remote host")
    and neither server logs anything about the signal: sshd's monitor
    does not, so postern's keeps its "session process PID terminated by
    signal N" error line for a crash signal (and for a session it killed
    itself), never for a kill from outside."""
    from test_log_parity import Peer
    u = ctx.make_user(with_key=False)
    ctx.authorize(u, u.key + ".pub",
                  options='command="echo started; exec sleep 60",restrict')
    os.chmod(ctx.dir, 0o755)
    for kind, exe in (("sshd", "sshd"), ("postern", "postern-session")):
        peer = Peer(ctx, kind, ["LogLevel VERBOSE", "UsePAM no",
                                "AuthorizedKeysFile .ssh/authorized_keys"],
                    args=("-e",))
        argv = ctx.ssh_argv(u, "backup")
        argv[argv.index("-p") + 1] = str(peer.port)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"started\n",
                  "%s: the backup did not start" % kind)
            sess = harness.find_descendant_by_exe(
                peer.proc.pid, exe,
                pred=lambda q: os.stat("/proc/%d" % q).st_uid == u.uid)
            os.kill(sess, signal.SIGKILL)
            _out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 255 and b"closed by remote host" in err,
              "%s: the client was not disconnected: rc %s %r"
              % (kind, p.returncode, err[-300:]))
        check(poll_until(lambda: not harness.descendants(peer.proc.pid),
                         15), "%s: the login's processes are still there"
              % kind)
        log = harness.read_text(peer.log)
        check("terminated by signal" not in log,
              "%s logged the session's kill:\n%s" % (kind, log[-800:]))
        peer.stop()


def test_rrsync_munge_no_overwrite_quoted_dir(ctx):
    """rrsync's other options through the key line, its directory's name
    with a space quoted as sshd passes it to the shell
    (command="rrsync -munge -no-overwrite \\"DIR\\""): a pushed symlink to
    /etc/passwd is stored munged and comes back as it was sent, an
    existing file is not overwritten; and a Match block's
    `ForceCommand rrsync -ro "DIR"` reads the same directory."""
    u = ctx.make_user(with_key=False)
    srv = os.path.join(ctx.dir, "backup dir")
    os.makedirs(srv, 0o755)
    os.chown(srv, u.uid, u.gid)
    with open(os.path.join(srv, "kept.txt"), "w") as f:
        f.write("old\n")
    os.chown(os.path.join(srv, "kept.txt"), u.uid, u.gid)
    os.chmod(ctx.dir, 0o755)
    key_ro = ctx.new_key("ro")
    ctx.authorize(u, u.key + ".pub",
                  options='command="rrsync -munge -no-overwrite \\"%s\\"",'
                  'restrict' % srv)
    ctx.authorize(u, key_ro + ".pub")
    ctx.start_server()
    up = os.path.join(ctx.dir, "up")
    os.makedirs(up)
    os.symlink("/etc/passwd", os.path.join(up, "out-link"))
    with open(os.path.join(up, "kept.txt"), "w") as f:
        f.write("new\n")
    r = _rsync(ctx, u, ["-a", up + "/", "%s@127.0.0.1:/" % u.name])
    check(r.returncode == 0, "rsync push failed: %s" % r.stderr[-400:])
    stored = os.readlink(os.path.join(srv, "out-link"))
    check(stored.startswith("/rsyncd-munged/"),
          "-munge did not munge the symlink: %r" % stored)
    with open(os.path.join(srv, "kept.txt")) as f:
        check(f.read() == "old\n", "-no-overwrite let a file be replaced")
    # Then the Match block (its ForceCommand would win over the first
    # key's command=, as in sshd).
    ctx.stop_server()
    ctx.start_server(extra_config=[
        "Match User %s" % u.name,
        '    ForceCommand rrsync -ro "%s"' % srv])
    back = os.path.join(ctx.dir, "back")
    ssh = " ".join(ctx.ssh_argv(u, key=key_ro)[:-1])
    r = subprocess.run(["rsync", "-e", ssh, "-a", "%s@127.0.0.1:/" % u.name,
                        back + "/"], capture_output=True, timeout=60)
    check(r.returncode == 0, "rsync read through ForceCommand failed: %s"
          % r.stderr[-400:])
    check(os.readlink(os.path.join(back, "out-link")) == stored,
          "the read gave %r" % os.readlink(os.path.join(back, "out-link")))
    check(ctx.wait_log(r"Starting session: forced-command \(config\) "
                       r"'rrsync -ro \"%s\"' for %s" % (re.escape(srv),
                                                        u.name), 5),
          "no forced-command (config) line with the quoted directory")
