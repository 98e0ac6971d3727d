"""
test_interop_sftp.py: postern's internal-sftp (and, for legacy scp, the
server's /usr/bin/scp) with SFTP clients other than OpenSSH's: PuTTY's
psftp (put/get/ls/mkdir/mv/rm/chmod/rmdir from a batch file) and pscp
(-sftp, and -scp which runs `scp -t`/`scp -f` on the server), paramiko's
SFTPClient (a few MB each way, stat, listdir_attr, symlink/readlink,
posix_rename, truncate, utime, chmod) and asyncssh's SFTP client (which
keeps many read and write requests in flight at once), each file checked
by sha256.
"""

import hashlib
import os

import interop_clients as ic
from harness import check, timeout

SFTP = "Subsystem sftp internal-sftp"


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _file(ctx, name, size):
    path = os.path.join(ctx.dir, name)
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    return path


def _putty_common(ctx, u):
    return (["-batch", "-noagent", "-P", str(ctx.port)] +
            ic.putty_hostkey_args(ctx) + ["-i", ic.ppk(u.key), "-l", u.name])


def test_psftp_operations(ctx):
    ctx.start_server([SFTP])
    u = ctx.make_user()
    src = _file(ctx, "up.bin", 3 * 1024 * 1024 + 5)
    back = os.path.join(ctx.dir, "back.bin")
    batch = os.path.join(ctx.dir, "batch")
    with open(batch, "w") as f:
        f.write("mkdir dir1\n"
                "cd dir1\n"
                "put %s up.bin\n"
                "chmod 640 up.bin\n"
                "mv up.bin moved.bin\n"
                "get moved.bin %s\n"
                "put %s gone.bin\n"
                "rm gone.bin\n"
                "mkdir empty\n"
                "rmdir empty\n"
                "ls\n" % (src, back, src))
    argv = ["psftp"] + _putty_common(ctx, u) + ["-b", batch, "-bc",
                                                "127.0.0.1"]
    p = ic.run_client(ctx, argv, ic.client_env(ctx), "psftp")
    ic.expect_ok(p, "psftp")
    d = os.path.join(u.home, "dir1")
    moved = os.path.join(d, "moved.bin")
    check(sorted(os.listdir(d)) == ["moved.bin"],
          "server directory holds %r" % sorted(os.listdir(d)))
    check(_sha(moved) == _sha(src), "psftp put: the server's copy differs")
    check(_sha(back) == _sha(src), "psftp get: the local copy differs")
    st = os.stat(moved)
    check(st.st_mode & 0o777 == 0o640 and st.st_uid == u.uid,
          "moved.bin mode %o uid %d" % (st.st_mode & 0o777, st.st_uid))
    check(b"moved.bin" in p.stdout, "psftp ls did not list moved.bin:\n%s"
          % p.stdout.decode(errors="replace")[-800:])


@timeout(90)
def test_pscp_sftp_and_scp(ctx):
    ctx.start_server([SFTP])
    u = ctx.make_user()
    src = _file(ctx, "up.bin", 4 * 1024 * 1024 + 333)
    env = ic.client_env(ctx)
    for mode in ("-sftp", "-scp"):
        name = "up%s.bin" % mode
        off = ic.log_size(ctx)
        argv = (["pscp", "-q", mode] + _putty_common(ctx, u) +
                [src, "127.0.0.1:" + name])
        ic.expect_ok(ic.run_client(ctx, argv, env, "pscp %s put" % mode),
                     "pscp %s put" % mode)
        remote = os.path.join(u.home, name)
        check(_sha(remote) == _sha(src), "pscp %s: server copy differs" % mode)
        back = os.path.join(ctx.dir, "back" + mode)
        argv = (["pscp", "-q", mode] + _putty_common(ctx, u) +
                ["127.0.0.1:" + name, back])
        ic.expect_ok(ic.run_client(ctx, argv, env, "pscp %s get" % mode),
                     "pscp %s get" % mode)
        check(_sha(back) == _sha(src), "pscp %s: local copy differs" % mode)
        log = ic.log_since(ctx, off)
        if mode == "-scp":
            check("Starting session: command for %s" % u.name in log,
                  "pscp -scp did not run a command (scp -t/-f)")
            check("subsystem" not in log, "pscp -scp used SFTP")
        else:
            check("Starting session: subsystem 'sftp' for %s" % u.name in log,
                  "pscp -sftp did not start the sftp subsystem:\n%s" % log)


PARAMIKO_SFTP = ic.PARAMIKO_PRELUDE + r"""
port, user, key, src, back = sys.argv[1:6]
t = transport(port)
t.auth_publickey(user, load_key(key))
sftp = paramiko.SFTPClient.from_transport(t)
res = {}
sftp.put(src, "up.bin")
sftp.get("up.bin", back)
st = sftp.stat("up.bin")
res["size"] = st.st_size
sftp.mkdir("d", 0o750)
sftp.symlink("../up.bin", "d/link")
res["readlink"] = sftp.readlink("d/link")
res["lstat_link"] = (sftp.lstat("d/link").st_mode & 0o170000) == 0o120000
sftp.posix_rename("up.bin", "renamed.bin")
sftp.truncate("renamed.bin", 1000)
sftp.utime("renamed.bin", (1000000000, 1200000000))
sftp.chmod("renamed.bin", 0o604)
st = sftp.stat("renamed.bin")
res["after"] = [st.st_size, st.st_atime, st.st_mtime, st.st_mode & 0o777]
res["listdir"] = sorted((a.filename, a.st_size)
                        for a in sftp.listdir_attr(".")
                        if not a.filename.startswith("."))
res["normalize"] = sftp.normalize(".")
with sftp.open("renamed.bin", "rb") as f:
    f.seek(500)
    res["tail_sha"] = hashlib.sha256(f.read()).hexdigest()
try:
    sftp.stat("nonexistent")
    res["enoent"] = False
except FileNotFoundError:
    res["enoent"] = True
sftp.remove("d/link")
sftp.rmdir("d")
sftp.close()
t.close()
print(json.dumps(res))
"""


@timeout(90)
def test_paramiko_sftp(ctx):
    ctx.start_server([SFTP])
    u = ctx.make_user()
    size = 5 * 1024 * 1024 + 77
    src = _file(ctx, "up.bin", size)
    back = os.path.join(ctx.dir, "back.bin")
    res = ic.run_python(ctx, "paramiko_sftp.py", PARAMIKO_SFTP,
                        [ctx.port, u.name, u.key, src, back], "paramiko sftp",
                        timeout_s=80)
    with open(src, "rb") as f:
        data = f.read()
    check(_sha(back) == _sha(src), "paramiko get: copy differs")
    check(res["size"] == size, "stat size %r" % res["size"])
    check(res["readlink"] == "../up.bin" and res["lstat_link"],
          "symlink/readlink: %r %r" % (res["readlink"], res["lstat_link"]))
    check(res["after"] == [1000, 1000000000, 1200000000, 0o604],
          "after truncate/utime/chmod: %r" % res["after"])
    check(res["listdir"] == [["d", res["listdir"][0][1]],
                             ["renamed.bin", 1000]],
          "listdir_attr: %r" % res["listdir"])
    check(res["normalize"] == u.home, "normalize('.') %r" % res["normalize"])
    check(res["tail_sha"] == hashlib.sha256(data[500:1000]).hexdigest(),
          "read after seek differs")
    check(res["enoent"], "stat of a missing file did not raise ENOENT")
    on_server = os.path.join(u.home, "renamed.bin")
    with open(on_server, "rb") as f:
        check(f.read() == data[:1000], "server file after truncate differs")
    check(not os.path.exists(os.path.join(u.home, "d")), "rmdir failed")


ASYNCSSH_SFTP = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, src, back = sys.argv[1:7]

async def main():
    async with await connect(port, user, key, hostkeys) as conn:
        async with conn.start_sftp_client() as sftp:
            await sftp.put(src, "up.bin", block_size=16384, max_requests=64)
            await sftp.get("up.bin", back, block_size=16384, max_requests=64)
            await sftp.mkdir("a")
            await sftp.rename("up.bin", "a/up.bin")
            names = sorted(await sftp.listdir("a"))
            attrs = await sftp.stat("a/up.bin")
            print(json.dumps({"names": names, "size": attrs.size,
                              "exists": await sftp.exists("up.bin")}))

asyncio.run(main())
"""


@timeout(90)
def test_asyncssh_sftp_pipelined(ctx):
    ctx.start_server([SFTP])
    u = ctx.make_user()
    size = 6 * 1024 * 1024 + 1234
    src = _file(ctx, "up.bin", size)
    back = os.path.join(ctx.dir, "back.bin")
    res = ic.run_python(ctx, "asyncssh_sftp.py", ASYNCSSH_SFTP,
                        [ctx.port, u.name, u.key, ctx.host_key, src, back],
                        "asyncssh sftp", timeout_s=80)
    remote = os.path.join(u.home, "a", "up.bin")
    check(_sha(remote) == _sha(src), "asyncssh put: server copy differs")
    check(_sha(back) == _sha(src), "asyncssh get: local copy differs")
    check(res == {"names": [".", "..", "up.bin"], "size": size,
                  "exists": False}, "asyncssh sftp: %r" % res)
