"""
test_interop_libs.py: two SSH implementations the other test_interop_*.py
files do not reach, each as a Debian 12 program people script transfers
with: Go's golang.org/x/crypto/ssh with github.com/pkg/sftp, through
rclone's sftp backend (package rclone), and libssh2 1.10, through curl's
sftp:// and scp:// URLs (package curl).

rclone logs in on postern's defaults. libssh2 1.10 implements no -etm MAC,
no AES-GCM and no chacha20-poly1305, so postern's default MACs (ETM only, as
ssh-audit asks) leave it nothing in common: the server ends it with sshd's
"no matching MAC found" line, and `MACs +hmac-sha2-256,hmac-sha2-512` lets
it in (docs/sshd_config.md, Transport algorithms).
"""

import hashlib
import os
import re
import secrets

import interop_clients as ic
from harness import check, run, timeout

SFTP = "Subsystem sftp internal-sftp"
PASSWORD = "Pw-" + secrets.token_hex(6)


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _file(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    return path


def _host_pub(ctx):
    with open(ctx.host_key + ".pub") as f:
        return " ".join(f.read().split()[:2])


def _accepted(ctx, off, method, u, label):
    rx = (r"^Accepted %s for %s from 127\.0\.0\.1 port \d+ ssh2"
          % (method, re.escape(u.name)))
    check(re.search(rx, ic.log_since(ctx, off), re.M),
          "%s: no 'Accepted %s for %s' line in the server log:\n%s"
          % (label, method, u.name,
             "\n".join(ic.log_since(ctx, off).splitlines()[-20:])))


# -- Go: rclone ----------------------------------------------------------------

def _rclone(ctx, conf, args, label):
    env = ic.client_env(ctx)
    env["RCLONE_CONFIG"] = conf
    p = ic.run_client(ctx, ["rclone"] + args, env, "rclone " + label)
    ic.expect_ok(p, "rclone " + label)
    return p.stdout.decode("utf-8", "replace")


@timeout(120)
def test_rclone_go_sftp_on_defaults(ctx):
    """rclone copies a tree up and back, renames, reports the file
    system's size (statvfs@openssh.com), hashes through an exec channel
    and purges, checking postern's host key against a known_hosts file."""
    ctx.start_server([SFTP])
    u = ctx.make_user()
    known = os.path.join(ctx.dir, "rclone_known_hosts")
    with open(known, "w") as f:
        f.write("[127.0.0.1]:%d %s\n" % (ctx.port, _host_pub(ctx)))
    conf = os.path.join(ctx.dir, "rclone.conf")
    with open(conf, "w") as f:
        f.write("[p]\ntype = sftp\nhost = 127.0.0.1\nport = %d\nuser = %s\n"
                "key_file = %s\nknown_hosts_file = %s\nshell_type = unix\n"
                "md5sum_command = md5sum\n"
                % (ctx.port, u.name, u.key, known))
    src = os.path.join(ctx.dir, "src")
    os.makedirs(os.path.join(src, "sub"))
    big = _file(os.path.join(src, "big.bin"), 6 * 1024 * 1024 + 77)
    small = _file(os.path.join(src, "sub", "small.bin"), 1000)
    os.utime(big, (1600000000, 1600000000))
    off = ic.log_size(ctx)

    _rclone(ctx, conf, ["copy", src, "p:dst"], "copy up")
    dst = os.path.join(u.home, "dst")
    for local, rel in ((big, "big.bin"), (small, "sub/small.bin")):
        there = os.path.join(dst, rel)
        check(os.path.isfile(there) and _sha(there) == _sha(local),
              "rclone copy: %s missing or different on the server" % rel)
        check(os.stat(there).st_uid == u.uid,
              "%s is owned by uid %d" % (rel, os.stat(there).st_uid))
    check(int(os.stat(os.path.join(dst, "big.bin")).st_mtime) == 1600000000,
          "rclone's SETSTAT did not set the modification time")
    _accepted(ctx, off, "publickey", u, "rclone")

    _rclone(ctx, conf, ["moveto", "p:dst/sub/small.bin", "p:dst/moved.bin"],
            "moveto")
    check(os.path.isfile(os.path.join(dst, "moved.bin")) and
          not os.path.exists(os.path.join(dst, "sub", "small.bin")),
          "rclone moveto: %r" % sorted(os.listdir(dst)))

    about = _rclone(ctx, conf, ["about", "p:"], "about")
    check(re.search(r"^Total:\s+\S", about, re.M),
          "rclone about printed %r" % about[:300])

    with open(big, "rb") as f:
        md5 = hashlib.md5(f.read()).hexdigest()
    sums = _rclone(ctx, conf, ["md5sum", "p:dst"], "md5sum")
    check("%s  big.bin" % md5 in sums,
          "rclone md5sum (md5sum run on the server) printed %r, want %s"
          % (sums[:300], md5))

    back = os.path.join(ctx.dir, "back")
    _rclone(ctx, conf, ["copy", "p:dst", back], "copy down")
    check(_sha(os.path.join(back, "big.bin")) == _sha(big),
          "rclone copy down: big.bin differs")
    check(_sha(os.path.join(back, "moved.bin")) == _sha(small),
          "rclone copy down: moved.bin differs")

    _rclone(ctx, conf, ["purge", "p:dst"], "purge")
    check(not os.path.exists(dst), "rclone purge left %s" % dst)


# -- libssh2: curl -------------------------------------------------------------

def _curl(ctx, u, args, label, key=True, expect_ok=True):
    argv = ["curl", "-sS", "-k", "--connect-timeout", "20"]
    if key:
        argv += ["--key", u.key, "--pubkey", u.key + ".pub", "-u", u.name + ":"]
    else:
        argv += ["-u", "%s:%s" % (u.name, PASSWORD)]
    p = ic.run_client(ctx, argv + args, ic.client_env(ctx), "curl " + label)
    if expect_ok:
        ic.expect_ok(p, "curl " + label)
    return p


@timeout(120)
def test_curl_libssh2_sftp_and_scp(ctx):
    u = ctx.make_user()
    run(["chpasswd"], input=("%s:%s\n" % (u.name, PASSWORD)).encode())
    hello = os.path.join(u.home, "hello.txt")
    with open(hello, "w") as f:
        f.write("hello from postern\n")
    os.chown(hello, u.uid, u.gid)

    # Defaults: nothing in common, refused the way sshd refuses it.
    ctx.start_server([SFTP])
    url = "sftp://127.0.0.1:%d" % ctx.port
    p = _curl(ctx, u, [url + "/~/hello.txt"], "on defaults", expect_ok=False)
    check(p.returncode != 0 and p.stdout == b"",
          "curl on postern's default MACs: rc %d, out %r"
          % (p.returncode, p.stdout[:100]))
    check(ctx.wait_log(r"Unable to negotiate with 127\.0\.0\.1 port \d+: no "
                       r"matching MAC found\. Their offer: hmac-sha2-256,"),
          "no 'no matching MAC found' line for libssh2's offer")

    ic.restart_server(ctx, [SFTP, "MACs +hmac-sha2-256,hmac-sha2-512",
                            "PasswordAuthentication yes", "UsePAM no"])
    url = "sftp://127.0.0.1:%d" % ctx.port
    scp = "scp://127.0.0.1:%d" % ctx.port
    off = ic.log_size(ctx)
    p = _curl(ctx, u, [url + "/~/hello.txt"], "sftp get")
    check(p.stdout == b"hello from postern\n", "sftp get: %r" % p.stdout)
    _accepted(ctx, off, "publickey", u, "curl")
    got = ic.negotiated(ic.log_since(ctx, off))
    check(got["mac"] in ("hmac-sha2-256", "hmac-sha2-512"),
          "curl negotiated %r" % got)

    src = _file(os.path.join(ctx.dir, "up.bin"), 3 * 1024 * 1024 + 11)
    _curl(ctx, u, ["--ftp-create-dirs", "-T", src, url + "/~/a/b/up.bin"],
          "sftp put into new directories")
    there = os.path.join(u.home, "a", "b", "up.bin")
    check(os.path.isfile(there) and _sha(there) == _sha(src),
          "sftp put: the server's copy is missing or differs")
    check(os.stat(there).st_uid == u.uid, "sftp put: not the user's file")

    # Resume: the server holds the first 1000 bytes; -C - appends the rest.
    part = os.path.join(u.home, "part.bin")
    with open(src, "rb") as f, open(part, "wb") as g:
        g.write(f.read(1000))
    os.chown(part, u.uid, u.gid)
    _curl(ctx, u, ["-C", "-", "-T", src, url + "/~/part.bin"], "resume")
    check(_sha(part) == _sha(src), "resumed upload differs")
    p = _curl(ctx, u, ["-r", "1000-1999", url + "/~/part.bin"], "range")
    with open(src, "rb") as f:
        f.seek(1000)
        check(p.stdout == f.read(1000), "ranged get differs")

    # Quote commands: mkdir, rename, chmod, symlink, rm (absolute paths).
    h = u.home
    _curl(ctx, u, ["-o", os.devnull,
                   "-Q", "mkdir %s/q" % h,
                   "-Q", "rename %s/hello.txt %s/q/greet.txt" % (h, h),
                   "-Q", "chmod 600 %s/q/greet.txt" % h,
                   "-Q", "symlink %s/q/greet.txt %s/ln" % (h, h),
                   "-Q", "rm %s/part.bin" % h,
                   url + "/~/"], "quote")
    greet = os.path.join(h, "q", "greet.txt")
    check(os.path.isfile(greet) and os.stat(greet).st_mode & 0o777 == 0o600,
          "quote rename/chmod: %r" % sorted(os.listdir(h)))
    check(os.readlink(os.path.join(h, "ln")) == greet,
          "quote symlink: %r" % os.readlink(os.path.join(h, "ln")))
    check(not os.path.exists(part), "quote rm left part.bin")

    # scp:// runs the server's scp -t / scp -f (legacy protocol).
    _curl(ctx, u, ["-T", src, scp + "/~/scp.bin"], "scp put")
    scp_there = os.path.join(h, "scp.bin")
    check(os.path.isfile(scp_there) and _sha(scp_there) == _sha(src),
          "scp put: the server's copy is missing or differs")
    p = _curl(ctx, u, [scp + "/~/scp.bin"], "scp get")
    check(hashlib.sha256(p.stdout).hexdigest() == _sha(src),
          "scp get: %d bytes, different" % len(p.stdout))

    # Password (libssh2 asks "password" before keyboard-interactive).
    off = ic.log_size(ctx)
    p = _curl(ctx, u, [url + "/~/q/greet.txt"], "password", key=False)
    check(p.stdout == b"hello from postern\n", "password get: %r" % p.stdout)
    _accepted(ctx, off, "password", u, "curl password")
