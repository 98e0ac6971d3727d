"""
test_chroot.py: ChrootDirectory with ForceCommand internal-sftp, the
classic SFTP-only jail: a root-owned directory with no programs or
libraries in it. The real sftp client sees only the jail; a jail with bad
ownership or modes is refused with sshd's log line.
"""

import os
import secrets
import shutil
import subprocess

from harness import check


def _jail(ctx, u):
    """/srv/pjail-USER: root's, 0755, with a file and the user's upload/."""
    os.makedirs("/srv", mode=0o755, exist_ok=True)
    jail = "/srv/pjail-" + u.name
    os.mkdir(jail, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(jail, ignore_errors=True))
    with open(os.path.join(jail, "welcome.txt"), "w") as f:
        f.write("inside the jail\n")
    up = os.path.join(jail, "upload")
    os.mkdir(up, 0o755)
    os.chown(up, u.uid, u.gid)
    return jail


def _sftp(ctx, u, batch):
    argv = ["sftp", "-b", "-", "-P", str(ctx.port), "-i", u.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "%s@127.0.0.1" % u.name]
    return subprocess.run(argv, input=batch.encode(), capture_output=True,
                          timeout=60)


def _config(u):
    # As sshd: the client's "subsystem sftp" must name a Subsystem even
    # when ForceCommand replaces it.
    return ["Subsystem sftp internal-sftp", "Match User " + u.name,
            "\tChrootDirectory /srv/pjail-%u",
            "\tForceCommand internal-sftp"]


def test_chroot_sftp_jail(ctx):
    u = ctx.make_user()
    jail = _jail(ctx, u)
    ctx.start_server(_config(u))
    data = os.urandom(1024 * 1024 + 3)
    src = os.path.join(ctx.dir, "put.bin")
    with open(src, "wb") as f:
        f.write(data)
    back = os.path.join(ctx.dir, "got.bin")
    r = _sftp(ctx, u, "pwd\nls -1 /\nls -1 /..\nput %s /upload/put.bin\n"
              "get /upload/put.bin %s\nget /welcome.txt %s/w.txt\n"
              % (src, back, ctx.dir))
    out = r.stdout.decode("utf-8", "replace")
    check(r.returncode == 0, "sftp in the jail: rc %s out %r err %r"
          % (r.returncode, out, r.stderr))
    listing = [l.strip() for l in out.splitlines()
               if l and not l.startswith("sftp>") and
               not l.startswith("Remote working directory")]
    names = set(listing)
    check(names == {"/upload", "/welcome.txt"} or
          names == {"upload", "welcome.txt"} or
          names == {"/upload", "/welcome.txt", "/../upload",
                    "/../welcome.txt"},
          "ls / in the jail shows %r, want only upload and welcome.txt"
          % listing)
    check("Remote working directory: /" in out, "pwd: %r" % out)
    with open(os.path.join(jail, "upload", "put.bin"), "rb") as f:
        check(f.read() == data, "upload landed wrong")
    check(os.stat(os.path.join(jail, "upload", "put.bin")).st_uid == u.uid,
          "uploaded file not the user's")
    with open(back, "rb") as f:
        check(f.read() == data, "download differs")
    with open(os.path.join(ctx.dir, "w.txt")) as f:
        check(f.read() == "inside the jail\n", "jail file content")
    # Nothing outside the jail is reachable.
    r = _sftp(ctx, u, "get /etc/passwd %s/p\n" % ctx.dir)
    check(r.returncode != 0 and not os.path.exists(
        os.path.join(ctx.dir, "p")), "read /etc/passwd from the jail")
    check(ctx.wait_log(r'Changed root directory to "%s"' % jail, 5),
          "no 'Changed root directory' log line")
    # The jail has no programs: a shell cannot run there.
    r = ctx.ssh(u, "ls /")
    check(b"welcome.txt" not in r.stdout, "a command ran in the jail?")


def test_chroot_bad_modes_refused(ctx):
    u = ctx.make_user()
    jail = _jail(ctx, u)
    os.chmod(jail, 0o775)
    ctx.start_server(_config(u))
    r = _sftp(ctx, u, "ls /\n")
    check(r.returncode != 0, "a group-writable jail was used: %r"
          % r.stdout)
    check(ctx.wait_log(r'bad ownership or modes for chroot directory "%s"'
                       % jail, 5),
          "no 'bad ownership or modes for chroot directory' line")
    # A component owned by the user: refused the same way.
    os.chmod(jail, 0o755)
    os.chown(jail, u.uid, u.gid)
    r = _sftp(ctx, u, "ls /\n")
    check(r.returncode != 0, "a user-owned jail was used")

    def refused(jail, rx):
        """A jail at path jail is refused with a line matching rx."""
        ctx.stop_server()
        ctx.start_server(["Subsystem sftp internal-sftp",
                          "Match User " + u.name,
                          "\tChrootDirectory %s" % jail,
                          "\tForceCommand internal-sftp"])
        r = _sftp(ctx, u, "ls /\n")
        check(r.returncode != 0, "jail %s was used" % jail)
        check(ctx.wait_log(rx, 5), "ChrootDirectory %s: no line %r:\n%s"
              % (jail, rx, ctx.server_log()[-2000:]))
    # A parent component: "component" with its trailing slash.
    parent = "/srv/pjail-p" + secrets.token_hex(3)
    os.mkdir(parent, 0o777)
    ctx.cleanups.append(lambda: shutil.rmtree(parent, ignore_errors=True))
    os.chmod(parent, 0o777)
    os.mkdir(os.path.join(parent, "j"), 0o755)
    refused(parent + "/j", r'bad ownership or modes for chroot directory '
            r'component "%s/"' % parent)
    # A regular file on the way: sshd's stat("COMPONENT/") fails first
    # (posternd said 'chroot path component "F/" is not a directory').
    os.chmod(parent, 0o755)
    plain = os.path.join(parent, "f")
    with open(plain, "w"):
        pass
    refused(plain + "/x", r'safely_chroot: stat\("%s/"\): Not a directory'
            % plain)
    # A slash after the jail's last name: sshd stat()s "NAME/" as a
    # component there too (posternd said 'chroot path "F" is not a
    # directory', and 'chroot directory "J"' for a group-writable J/).
    plain2 = os.path.join(parent, "g")
    with open(plain2, "w"):
        pass
    gw = os.path.join(parent, "gw")
    os.mkdir(gw, 0o775)
    os.chmod(gw, 0o775)
    refused(plain2 + "/", r'safely_chroot: stat\("%s/"\): Not a directory'
            % plain2)
    refused(gw + "/", r'bad ownership or modes for chroot directory '
            r'component "%s/"' % gw)


def test_chroot_via_symlink(ctx):
    """ChrootDirectory through a symlink (in a root-owned directory) to a
    good jail: used, as sshd follows it. A link whose target lies under a
    world-writable directory: refused, naming the directory the link
    leads through."""
    u = ctx.make_user()
    jail = _jail(ctx, u)
    link = "/srv/pjail-l" + secrets.token_hex(3)
    # Relative, through "..": /srv/pjail-lX -> ../srv/./pjail-USER
    os.symlink("../srv/./" + os.path.basename(jail), link)
    ctx.cleanups.append(lambda: os.path.lexists(link) and os.unlink(link))
    ctx.start_server(["Subsystem sftp internal-sftp", "Match User " + u.name,
                      "\tChrootDirectory %s" % link,
                      "\tForceCommand internal-sftp"])
    r = _sftp(ctx, u, "get /welcome.txt %s/w.txt\nls -1 /\n" % ctx.dir)
    out = r.stdout.decode("utf-8", "replace")
    check(r.returncode == 0, "sftp through the symlinked jail: rc %s "
          "out %r err %r" % (r.returncode, out, r.stderr))
    with open(os.path.join(ctx.dir, "w.txt")) as f:
        check(f.read() == "inside the jail\n", "jail file content")
    check("/etc" not in out and "upload" in out, "ls / in the jail: %r"
          % out)
    check(ctx.wait_log(r'Changed root directory to "%s"' % link, 5),
          "no 'Changed root directory' log line")
    # The same link, now to a jail under a world-writable directory.
    parent = "/srv/pjail-p" + secrets.token_hex(3)
    os.mkdir(parent, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(parent, ignore_errors=True))
    os.chmod(parent, 0o777)
    os.mkdir(os.path.join(parent, "j"), 0o755)
    os.unlink(link)
    os.symlink(os.path.join(parent, "j"), link)
    r = _sftp(ctx, u, "ls /\n")
    check(r.returncode != 0, "a jail reached through a world-writable "
          "directory was used: %r" % r.stdout)
    check(ctx.wait_log(r'bad ownership or modes for chroot directory '
                       r'component "%s/"' % parent, 5),
          "no 'component' line for the directory the link leads through")


def test_chroot_tilde(ctx):
    """As sshd's tilde_expand_filename() before the % tokens: "~name/"
    is name's home ("~/" the user's own, which sshd's modes rule makes a
    poor jail); an unknown name refuses the session."""
    u = ctx.make_user()
    _jail(ctx, u)
    ctx.start_server(["Subsystem sftp internal-sftp", "Match User " + u.name,
                      "\tChrootDirectory ~root/../srv/pjail-%u",
                      "\tForceCommand internal-sftp"])
    r = _sftp(ctx, u, "get /welcome.txt %s/w.txt\n" % ctx.dir)
    check(r.returncode == 0, "sftp in ~root/../srv/pjail-%%u: rc %s err %r"
          % (r.returncode, r.stderr))
    with open(os.path.join(ctx.dir, "w.txt")) as f:
        check(f.read() == "inside the jail\n", "jail file content")
    check(ctx.wait_log(r'Changed root directory to "/root/\.\./srv/'
                       r'pjail-%s"' % u.name, 5),
          "no 'Changed root directory' line with ~root expanded")
    ctx.stop_server()
    ghost = "nosuch" + secrets.token_hex(3)
    ctx.start_server(["Subsystem sftp internal-sftp", "Match User " + u.name,
                      "\tChrootDirectory ~%s/x" % ghost,
                      "\tForceCommand internal-sftp"])
    r = _sftp(ctx, u, "ls /\n")
    check(r.returncode != 0, "a jail under an unknown user's home was used")
    check(ctx.wait_log(r"No such user %s" % ghost, 5),
          "no 'No such user' line for ~%s" % ghost)


def test_chroot_bad_token(ctx):
    """As sshd 9.2, whose percent_expand() is fatal: an unknown token or
    a trailing % in ChrootDirectory ends the connection after
    vdollar_percent_expand's line (the token as sshd names it, an
    unprintable byte too) and "percent_expand: failed"."""
    u = ctx.make_user()
    _jail(ctx, u)
    # A byte that is not printable is named too, escaped by the log
    # (sshd's "%\001"; postern wrote no character).
    for value, why in (("/srv/pjail-%z", "unknown key %z"),
                       ("/srv/pjail-%\x01", r"unknown key %\\001"),
                       ("/srv/pjail-%u%", "invalid format")):
        ctx.start_server(["Subsystem sftp internal-sftp",
                          "Match User " + u.name,
                          "\tChrootDirectory " + value,
                          "\tForceCommand internal-sftp"])
        r = _sftp(ctx, u, "ls /\n")
        check(r.returncode != 0, "ChrootDirectory %s was used" % value)
        check(ctx.wait_log(r"^vdollar_percent_expand: %s\n"
                           r"percent_expand: failed$" % why, 5),
              "no sshd lines for ChrootDirectory %s: %r"
              % (value, ctx.server_log()[-600:]))
        check("Changed root directory" not in ctx.server_log(),
              "a session started with ChrootDirectory %s" % value)
        ctx.stop_server()


def test_chroot_agent_forwarding_without_tmp(ctx):
    """ssh -A into a jail without /tmp: no agent socket can be made, and
    the client is told why (ssh -v's "Remote:" line), as by sshd; the
    sftp session goes on."""
    u = ctx.make_user()
    _jail(ctx, u)
    ctx.start_server(_config(u))
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True,
                           text=True, timeout=10)
    env = dict(os.environ)
    for line in agent.stdout.split(";"):
        k, _, v = line.strip().partition("=")
        if k in ("SSH_AUTH_SOCK", "SSH_AGENT_PID"):
            env[k] = v
    ctx.cleanups.append(lambda: subprocess.run(
        ["ssh-agent", "-k"], env=env, capture_output=True))
    argv = ["sftp", "-v", "-b", "-", "-P", str(ctx.port), "-i", u.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-o", "ForwardAgent=yes", "%s@127.0.0.1" % u.name]
    r = subprocess.run(argv, input=b"pwd\n", capture_output=True,
                       timeout=60, env=env)
    err = r.stderr.decode("utf-8", "replace")
    check(r.returncode == 0, "sftp -A in the jail: rc %s %r"
          % (r.returncode, err[-400:]))
    check("Remote: Agent forwarding disabled: mkdtemp() failed: No such "
          "file or directory" in err,
          "the client was not told: %r" % err[-800:])
