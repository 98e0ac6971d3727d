"""
test_sftp_restrict.py: internal-sftp's restrictions for locked-down
accounts (-R, -P, -p, -u, -d) where postern once differed from OpenSSH's
sftp-server 9.2, driven by the real OpenSSH sftp client.
"""

import os
import subprocess

import harness
from harness import check
from test_proto_parity import Server as ProtoServer
from test_sftp_engine import _client_opts, _sftp


def _start(ctx, flags):
    ctx.start_server(["Subsystem sftp internal-sftp -l VERBOSE " + flags])
    return ctx.make_user()


def test_sftp_request_list_ends_at_empty_name(ctx):
    """A -p list ends at its first empty name, as sftp-server's
    (match_list): "-p ...,,mkdir" does not permit mkdir. A -P list is
    read to its end (docs/sftp.md, intentional differences): "-P
    remove,,mkdir" refuses mkdir too, where sftp-server would permit
    it."""
    u = _start(ctx, "-p open,close,read,write,opendir,readdir,realpath,"
               "stat,lstat,fstat,,mkdir")
    rc, out, err = _sftp(ctx, u, ["mkdir allowed_dir"], ok=False)
    check(rc != 0 and "Permission denied" in err,
          "mkdir after an empty name in -p was not refused: rc %d\n%s%s"
          % (rc, out, err))
    check(not os.path.exists(os.path.join(u.home, "allowed_dir")),
          "mkdir after an empty name in -p was permitted")
    check(ctx.wait_log(r"Refusing non-allowlisted mkdir request", 5),
          "no log line for the refused mkdir")
    ctx.stop_server()
    u = _start(ctx, "-P remove,,mkdir")
    rc, out, err = _sftp(ctx, u, ["mkdir made_dir"], ok=False)
    check(rc != 0 and "Permission denied" in err and
          not os.path.exists(os.path.join(u.home, "made_dir")),
          "mkdir after an empty name in -P was permitted: rc %d\n%s%s"
          % (rc, out, err))
    check(ctx.wait_log(r"Refusing denylisted mkdir request", 5),
          "no log line for the refused mkdir")


def test_sftp_refused_extensions_logged_at_start(ctx):
    """As sftp-server: each extension -R refuses is left out of VERSION
    and its refusal logged (VERBOSE) when the session starts, so that
    the log shows what the account cannot do; sftp's ln then finds no
    hardlink@openssh.com."""
    u = _start(ctx, "-R")
    rc, out, err = _sftp(ctx, u, ["ln %s/.profile hl" % u.home], ok=False)
    check(rc != 0 and "does not support" in err,
          "hardlink@openssh.com offered under -R: rc %d\n%s%s"
          % (rc, out, err))
    for name in ("posix-rename", "hardlink", "fsync", "lsetstat",
                 "copy-data"):
        check(ctx.wait_log(r"Refusing %s request in read-only mode" % name,
                           5), "no log line for the refused %s" % name)



def _pwd(ctx, u, port):
    p = subprocess.run(["sftp"] + _client_opts(ctx, u) +
                       ["-P", str(port), "-b", "-", "%s@127.0.0.1" % u.name],
                       input=b"pwd\n", capture_output=True, timeout=60)
    return p.stdout.decode(errors="replace")


def test_sftp_relative_start_dir_from_home(ctx):
    """A relative -d starts from the home directory, as sshd's
    internal-sftp (which runs in the home): "-d tmp" is ~/tmp, never
    /tmp. Checked against sshd too."""
    u = ctx.make_user()
    os.mkdir(os.path.join(u.home, "tmp"))
    os.chown(os.path.join(u.home, "tmp"), u.uid, u.gid)
    want = "Remote working directory: %s/tmp" % u.home
    harness.openssh_sshd()
    for kind in ("sshd", "postern"):
        peer = ProtoServer(ctx, kind, ["Subsystem sftp internal-sftp",
                                       "ForceCommand internal-sftp -d tmp"])
        out = _pwd(ctx, u, peer.port)
        check(want in out, "%s, relative -d: want %r, got\n%s"
              % (kind, want, out))


def test_sftp_statvfs_fsync_logged(ctx):
    """The audit lines of sftp-server: statvfs at INFO (sftp's df),
    fsync at VERBOSE (sftp's put -f)."""
    ctx.start_server(["Subsystem sftp internal-sftp -l INFO"])
    u = ctx.make_user()
    _sftp(ctx, u, ["df"])
    check(ctx.wait_log(r'statvfs "%s"' % u.home, 5),
          "no INFO line for statvfs")
    ctx.stop_server()
    u = _start(ctx, "")
    src = os.path.join(ctx.dir, "f.txt")
    with open(src, "w") as f:
        f.write("data\n")
    _sftp(ctx, u, ["put -f %s synced.txt" % src])
    check(ctx.wait_log(r'fsync "%s/synced.txt"' % u.home, 5),
          "no VERBOSE line for fsync")
