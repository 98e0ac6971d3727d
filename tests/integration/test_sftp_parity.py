"""
test_sftp_parity.py: internal-sftp's answers next to OpenSSH's
sftp-server 9.2 (/usr/lib/openssh/sftp-server run by /usr/sbin/sshd),
request by request. A raw SFTP client (sftpwire.py, in /usr/bin/python3)
sends the same requests to both servers, as the same user, each in a
directory of the home prepared the same way, and the replies must be the
same: the reply type, the status code and its message, the attributes
(flags, size, uid/gid, permissions, times) and each name's long name.
The matrix: OPEN with every flag combination on files, missing names,
directories, symlinks (dangling too) and files without permission; READ
at and past EOF, of 0 and huge lengths; WRITE past EOF and on a
read-only handle; handles closed twice, unknown, of a wrong length or
kind; OPENDIR/READDIR; REMOVE, RMDIR, MKDIR, RENAME (v3: fails onto an
existing name) and posix-rename; SYMLINK (OpenSSH's argument order),
READLINK, REALPATH (missing components included); STAT/LSTAT; SETSTAT;
every extension sftp-server 9.2 offers and an unknown one; unknown
request types and trailing bytes. Again with -R, -P, -p and -u.
Where the answers differ on purpose (docs/sftp.md), DIFFERENT lists
both.
"""

import json
import os
import subprocess

import harness
from harness import check, timeout
from test_proto_parity import Server as ProtoServer

SFTP_SERVER = "/usr/lib/openssh/sftp-server"
SYSTEM_PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
WIRE = os.path.join(HERE, "sftpwire.py")
FIXED = 1500000000

# cell -> (sshd's, postern's), on purpose (docs/sftp.md), whatever the
# flags.
_DIFF = {
    # An unknown request type: sftp-server 9.2 logs it and sends nothing
    # (the client waits for ever); postern answers OP_UNSUPPORTED.
    "unknown type 99": [["noreply"], ["status", 8, "Operation unsupported"]],
    "unknown type 2": [["noreply"], ["status", 8, "Operation unsupported"]],
    # home-directory with an empty user name: the current user's home as
    # PROTOCOL specifies (and OpenSSH 9.8 does); 9.2 answers FAILURE.
    "ext home-directory b'\\x00\\x00\\x00\\x00'": [
        ["status", 4, "Failure"], ["name", [["<HOME>", "<HOME>",
                                            {"flags": 0}]]]],
}
DIFFERENT = _DIFF
# limits@openssh.com: the same read, write and packet lengths; the open
# handle count is postern's cap (512, docs/sftp.md), sftp-server's is
# from RLIMIT_NOFILE.
LIMITS = "ext limits@openssh.com b''"


def Server(ctx, kind, flags):
    """sshd with sftp-server, or posternd with internal-sftp, each with
    the same flags (test_proto_parity's Server)."""
    sub = SFTP_SERVER if kind == "sshd" else "internal-sftp"
    return ProtoServer(ctx, kind, ["Subsystem sftp %s %s" % (sub, flags)])


def _prepare(u, base):
    """The same tree for each server: files, a directory, symlinks (one
    dangling), files without permission; all the user's, with one
    modification time."""
    root = os.path.join(u.home, base)
    os.mkdir(root)
    made = [root]

    def f(name, data=b"hello\n", mode=0o644):
        p = os.path.join(root, name)
        with open(p, "wb") as fh:
            fh.write(data)
        os.chmod(p, mode)
        made.append(p)

    def d(name, mode=0o755):
        p = os.path.join(root, name)
        os.mkdir(p)
        os.chmod(p, mode)
        made.append(p)

    def ln(name, target):
        p = os.path.join(root, name)
        os.symlink(target, p)
        made.append(p)

    for flags in range(64):
        f("f_%d" % flags)
        f("noperm_%d" % flags, mode=0)
        f("ro_%d" % flags, mode=0o444)
        d("d_%d" % flags)
        ln("ln_%d" % flags, "f_%d" % flags)
        ln("dangling_%d" % flags, "gone_%d" % flags)
        ln("lnd_%d" % flags, "d_%d" % flags)
    for name in ("f", "data", "wdata", "adata", "r1", "r2", "ss"):
        f(name)
    f("noperm", mode=0)
    d("d")
    f("d/x")
    d("empty")
    d("rmd")
    d("nox")
    f("nox/x")
    ln("ln", "f")
    ln("ln2", "ss")
    ln("lnd", "d")
    ln("rmlink", "f")
    ln("dangling", "gone")
    for p in made:
        os.lchown(p, u.uid, u.gid)
        os.utime(p, (FIXED, FIXED), follow_symlinks=False)
    os.chmod(os.path.join(root, "nox"), 0)
    os.utime(os.path.join(root, "nox"), (FIXED, FIXED))
    os.utime(root, (FIXED, FIXED))


def _run(peer, u, base):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.run([SYSTEM_PYTHON, WIRE, str(peer.port), u.name, u.key,
                        u.home, base], capture_output=True, timeout=600,
                       env=env)
    check(p.returncode == 0, "sftpwire against %s failed: %s"
          % (peer.kind, p.stderr.decode(errors="replace")[-2500:]))
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def _matrix(ctx, flags=""):
    u = ctx.make_user()
    harness.openssh_sshd()
    sshd = Server(ctx, "sshd", flags)
    ours = Server(ctx, "postern", flags)
    _prepare(u, "a")
    _prepare(u, "b")
    got_a = _run(sshd, u, "a")
    got_b = _run(ours, u, "b")
    check(sshd.proc.poll() is None and ours.proc.poll() is None,
          "a server exited")
    bad = []
    for k in got_a:
        a, b = got_a[k], got_b.get(k)
        if k == LIMITS and a[0] == b[0] == "extreply":
            check(int(b[1][48:], 16) == 512, "postern's limits: %s" % b)
            a, b = a[1][:48], b[1][:48]
        want = DIFFERENT.get(k)
        if want is not None and a != want[0]:
            # Refused by -R, -P or -p before the difference shows.
            if not flags:
                bad.append("%s: sshd answers %s, not the documented %s"
                           % (k, json.dumps(a), json.dumps(want[0])))
            want = None
        if want is None and a != b:
            bad.append("%s:\n  sshd    %s\n  postern %s" % (k, json.dumps(a),
                                                            json.dumps(b)))
        elif want is not None and b != want[1]:
            bad.append("%s (documented difference):\n  want %s\n  got  %s"
                       % (k, json.dumps(want[1]), json.dumps(b)))
    check(not bad, "%d of %d cells differ:\n%s"
          % (len(bad), len(got_a), "\n".join(bad)))


@timeout(600)
def test_sftp_parity(ctx):
    _matrix(ctx)


@timeout(600)
def test_sftp_parity_read_only(ctx):
    _matrix(ctx, "-R")


@timeout(600)
def test_sftp_parity_denied(ctx):
    """-P: requests refused by name."""
    _matrix(ctx, "-P open,remove,posix-rename,fsync,readdir,realpath")


@timeout(600)
def test_sftp_parity_permitted(ctx):
    """-p: only the requests listed."""
    _matrix(ctx, "-p open,close,read,stat,lstat,opendir,realpath,"
            "statvfs,limits")


@timeout(600)
def test_sftp_parity_umask(ctx):
    """-u: the modes of what OPEN and MKDIR create."""
    _matrix(ctx, "-u 027")
