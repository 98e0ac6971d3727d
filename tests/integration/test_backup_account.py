"""
test_backup_account.py: the shipped 30-backup-account.conf recipe with
real rsync and rrsync (Debian's rsync package): a Match User block whose
ForceCommand is `rrsync -ro DIR` lets `rsync -a user@host:/ dest/` read
DIR, and refuses writes and paths outside it. The snippet names the
account "rbackup" and /srv/backup; the test uses its own user and
directory in a copy of it.
"""

import hashlib
import os
import re
import subprocess

from harness import check

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
