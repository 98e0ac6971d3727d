"""
test_sftp_hostile.py: internal-sftp against a hostile client: raw SFTP
packets sent by paramiko through a "subsystem sftp" channel (the client
runs in /usr/bin/python3, where paramiko lives), for a restricted
account: read-only (-R), request lists (-P), handle misuse and requests
whose work the client chooses (copy-data).
"""

import json
import os
import re
import shutil

import harness
from harness import check

HERE = os.path.dirname(os.path.abspath(__file__))

# A raw SFTP version 3 client on a paramiko channel.
_RAW = r'''
import json, struct, sys
import paramiko

INIT, OPEN, CLOSE, READ, WRITE, LSTAT, FSTAT, SETSTAT, FSETSTAT = (
    1, 3, 4, 5, 6, 7, 8, 9, 10)
OPENDIR, READDIR, REMOVE, MKDIR, RMDIR, REALPATH, STAT, RENAME = (
    11, 12, 13, 14, 15, 16, 17, 18)
READLINK, SYMLINK = 19, 20
STATUS, HANDLE, DATA, NAME, ATTRS, EXTENDED, EXTREPLY = (
    101, 102, 103, 104, 105, 200, 201)
FREAD, FWRITE, FAPPEND, FCREAT, FTRUNC, FEXCL = 1, 2, 4, 8, 16, 32
A_SIZE, A_UIDGID, A_PERM, A_TIME = 1, 2, 4, 8


def s(x):
    if isinstance(x, str):
        x = x.encode()
    return struct.pack(">I", len(x)) + x


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


class Raw:
    def __init__(self, port, user, key, timeout=120):
        self.t = paramiko.Transport(("127.0.0.1", port))
        self.t.connect(username=user,
                       pkey=paramiko.Ed25519Key(filename=key))
        self.ch = self.t.open_session()
        self.ch.settimeout(timeout)
        self.ch.invoke_subsystem("sftp")
        self.id = 0
        p = bytes([INIT]) + u32(3)
        self.ch.sendall(u32(len(p)) + p)
        self.version = self.recv()

    def send(self, typ, body):
        self.id += 1
        p = bytes([typ]) + u32(self.id) + body
        self.ch.sendall(u32(len(p)) + p)
        return self.id

    def recvn(self, n):
        b = b""
        while len(b) < n:
            d = self.ch.recv(n - len(b))
            if not d:
                raise EOFError("channel closed")
            b += d
        return b

    def recv(self):
        n = struct.unpack(">I", self.recvn(4))[0]
        return self.recvn(n)

    def req(self, typ, body):
        self.send(typ, body)
        r = self.recv()
        return r[0], r[5:]

    def status(self, typ, body):
        t, b = self.req(typ, body)
        if t == STATUS:
            return struct.unpack(">I", b[:4])[0]
        return "type %d" % t

    def open(self, path, flags, attrs=u32(0)):
        t, b = self.req(OPEN, s(path) + u32(flags) + attrs)
        if t == HANDLE:
            return b[4:4 + struct.unpack(">I", b[:4])[0]]
        return struct.unpack(">I", b[:4])[0]

    def ext(self, name, body):
        return self.req(EXTENDED, s(name) + body)

    def ext_status(self, name, body):
        t, b = self.ext(name, body)
        if t == STATUS:
            return struct.unpack(">I", b[:4])[0]
        return "type %d" % t


port, user, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = Raw(port, user, key)
res = {}
'''


def _client(ctx, user, body, timeout_s=120):
    """Run the raw client with a scenario (Python text that fills res);
    returns res."""
    script = os.path.join(ctx.dir, "raw_sftp_%s.py" % os.urandom(3).hex())
    with open(script, "w") as f:
        f.write(_RAW + body + "\nprint(json.dumps(res))\n")
    r = harness.run(["/usr/bin/python3", script, str(ctx.port), user.name,
                     user.key], check_rc=False, timeout_s=timeout_s)
    out = r.stdout.decode(errors="replace").strip().splitlines()
    check(r.returncode == 0 and out,
          "the raw SFTP client failed (rc %d): %s"
          % (r.returncode, r.stderr.decode(errors="replace")[-2000:]))
    return json.loads(out[-1])


def _start(ctx, flags=""):
    ctx.start_server(["Subsystem sftp internal-sftp %s" % flags])
    return ctx.make_user()


def _tmpfs(ctx, u, mb=8):
    """A small tmpfs at ~/t, the user's: what a runaway writer fills is
    bounded; unmounted at the end of the test."""
    d = os.path.join(u.home, "t")
    os.mkdir(d)
    harness.run(["mount", "-t", "tmpfs", "-o",
                 "size=%dm,uid=%d,gid=%d,mode=0755" % (mb, u.uid, u.gid),
                 "tmpfs", d])
    ctx.cleanups.append(lambda: harness.run(["umount", "-l", d],
                                            check_rc=False))
    return d


@harness.timeout(120)
def test_sftp_hostile_copy_data_devices(ctx):
    """copy-data from a device that never reaches EOF (/dev/zero) or into
    one that never fills (/dev/null) is refused with FAILURE: such a
    request never ended, and the engine runs inside the session process,
    which spun on it for ever, even after the client left."""
    u = _start(ctx)
    with open(os.path.join(u.home, "f"), "wb") as f:
        f.write(b"regular\n")
    os.chown(os.path.join(u.home, "f"), u.uid, u.gid)
    res = _client(ctx, u, r'''
c.ch.settimeout(30)
z = c.open("/dev/zero", FREAD)
n = c.open("/dev/null", FWRITE)
f = c.open("f", FREAD)
w = c.open("out", FWRITE | FCREAT | FTRUNC)
res["handles"] = all(isinstance(h, bytes) for h in (z, n, f, w))
def copy(key, r, ln, w):
    try:
        res[key] = c.ext_status("copy-data", s(r) + u64(0) + u64(ln) +
                                s(w) + u64(0))
    except Exception as e:
        # The session is busy with it for good: nothing more to ask.
        res[key] = "no answer: %r" % e
        print(json.dumps(res))
        sys.exit(0)
copy("zero_null", z, 0, n)
copy("zero_file", z, 1 << 40, w)
copy("file_null", f, 0, n)
copy("file_file", f, 0, w)
''', timeout_s=100)
    check(res["handles"], "could not open the devices: %r" % res)
    for k in ("zero_null", "zero_file", "file_null"):
        check(res.get(k) == 4, "copy-data %s: %r, want FAILURE (4)" % (k, res[k]))
    check(res.get("file_file") == 0, "copy-data between regular files: %r"
          % res.get("file_file"))
    with open(os.path.join(u.home, "out"), "rb") as f:
        check(f.read() == b"regular\n", "copy-data did not copy the file")


@harness.timeout(120)
def test_sftp_hostile_copy_data_onto_itself(ctx):
    """copy-data to EOF from a file onto its own end, through a second
    name: only what the file held when the request came is copied (the
    copy used to chase its own writes until the disk was full). The
    OpenSSH client's cp still works."""
    u = _start(ctx)
    d = _tmpfs(ctx, u)
    data = os.urandom(1 << 20)
    a = os.path.join(d, "a")
    with open(a, "wb") as f:
        f.write(data)
    os.chown(a, u.uid, u.gid)
    res = _client(ctx, u, r'''
c.ch.settimeout(60)
r = c.open("t/a", FREAD)
w = c.open("t/./a", FWRITE)
try:
    res["self"] = c.ext_status("copy-data", s(r) + u64(0) + u64(0) + s(w) +
                               u64(1 << 20))
except Exception as e:
    res["self"] = "no answer: %r" % e
''')
    check(res["self"] == 0, "copy-data onto itself: %r, want OK" % res["self"])
    size = os.path.getsize(a)
    check(size == 2 << 20, "the file grew to %d bytes, want %d"
          % (size, 2 << 20))
    with open(a, "rb") as f:
        check(f.read() == data + data, "the copy is not the file twice")
    from test_sftp_engine import _sftp
    _sftp(ctx, u, ["cp t/a t/b"])
    with open(os.path.join(d, "b"), "rb") as f:
        check(f.read() == data + data, "sftp cp made a different file")


def _jail(ctx, u):
    """/srv/pjail-USER: root's, with the user's upload/ (no home)."""
    os.makedirs("/srv", mode=0o755, exist_ok=True)
    jail = "/srv/pjail-" + u.name
    os.mkdir(jail, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(jail, ignore_errors=True))
    up = os.path.join(jail, "upload")
    os.mkdir(up, 0o755)
    os.chown(up, u.uid, u.gid)
    return jail


_EXPAND = r'''
def expand(p):
    t, b = c.ext("expand-path@openssh.com", s(p))
    if t != NAME:
        return "status %d" % struct.unpack(">I", b[:4])[0]
    n = struct.unpack(">I", b[4:8])[0]
    return b[8:8 + n].decode()
for p in ("~", "~/", "~/x", "x"):
    res[p] = expand(p)
'''


@harness.timeout(120)
def test_sftp_hostile_expand_path_tilde(ctx):
    """expand-path@openssh.com expands "~" to the directory the engine
    started in, as OpenSSH's sftp-server: in a ChrootDirectory jail the
    home directory of the passwd entry usually does not exist (the
    session starts in /), and -d names the start directory ("~" was the
    passwd home: "No such file" in a jail, the wrong directory with
    -d)."""
    u = ctx.make_user()
    _jail(ctx, u)
    ctx.start_server(["Subsystem sftp internal-sftp",
                      "Match User " + u.name,
                      "\tChrootDirectory /srv/pjail-%u",
                      "\tForceCommand internal-sftp"])
    res = _client(ctx, u, _EXPAND)
    check(res == {"~": "/", "~/": "/", "~/x": "/x", "x": "/x"},
          "expand-path in the jail: %r" % res)
    ctx.stop_server()
    ctx.start_server(["Subsystem sftp internal-sftp -d /upload",
                      "Match User " + u.name,
                      "\tChrootDirectory /srv/pjail-%u",
                      "\tForceCommand internal-sftp -d /upload"])
    res = _client(ctx, u, _EXPAND)
    check(res == {"~": "/upload", "~/": "/upload", "~/x": "/upload/x",
                  "x": "/upload/x"}, "expand-path with -d: %r" % res)


@harness.timeout(120)
def test_sftp_hostile_jail_without_home_quiet(ctx):
    """In a jail without the user's home the engine starts in / without
    an error line (as OpenSSH's internal-sftp, whose session changes
    there quietly); a -d directory that is missing is still logged."""
    u = ctx.make_user()
    _jail(ctx, u)
    ctx.start_server(["Subsystem sftp internal-sftp",
                      "Match User " + u.name,
                      "\tChrootDirectory /srv/pjail-%u",
                      "\tForceCommand internal-sftp"])
    res = _client(ctx, u, _EXPAND)
    check(res["~"] == "/", "the jail's engine did not start in /: %r" % res)
    log = ctx.server_log()
    check("chdir to" not in log,
          "an error line for the missing home:\n%s" % log[-2000:])
    ctx.stop_server()
    ctx.start_server(["Subsystem sftp internal-sftp",
                      "Match User " + u.name,
                      "\tChrootDirectory /srv/pjail-%u",
                      "\tForceCommand internal-sftp -d /missing"])
    res = _client(ctx, u, _EXPAND)
    check(res["~"] == "/", "with a missing -d: %r" % res)
    log = ctx.server_log()
    check('chdir to "/missing" failed' in log,
          "no error line for the missing -d directory:\n%s"
          % log[-2000:])
    check("chdir to \"/home" not in log,
          "an error line for the missing home:\n%s" % log[-2000:])


@harness.timeout(120)
def test_sftp_start_dir_not_enterable(ctx):
    """internal-sftp -d names a directory the user may not enter (root's
    0700): as sshd's chdir fails there, the engine logs it and starts in
    the home. Before, it opened the directory without search permission
    (O_PATH) and started there, where every relative name was refused."""
    u = ctx.make_user()
    d = "/srv/pstart-" + os.urandom(3).hex()
    os.mkdir(d, 0o700)
    ctx.cleanups.append(lambda: os.rmdir(d))
    ctx.start_server(["Subsystem sftp internal-sftp -d " + d])
    res = _client(ctx, u, _EXPAND)
    check(res["x"] == u.home + "/x",
          "relative names start in %r, want the home" % res["x"])
    check(ctx.wait_log(r'chdir to "%s" failed: Permission denied'
                       % re.escape(d), 5),
          "no error line for the -d directory")


@harness.timeout(120)
def test_sftp_io_errors_logged_as_sftp_server(ctx):
    """A failed write and a failed seek are logged in sftp-server's words,
    its function's name first: `process_write: write "/dev/full": No
    space left on device`, `process_read: seek "FIFO": Illegal seek`
    (before: no function name, and no line at all for the seek)."""
    u = ctx.make_user()
    fifo = os.path.join(u.home, "fifo")
    os.mkfifo(fifo)
    os.chown(fifo, u.uid, u.gid)
    ctx.start_server(["Subsystem sftp internal-sftp"])
    _client(ctx, u, r'''
h = c.open("/dev/full", FWRITE)
res["write"] = c.status(WRITE, s(h) + u64(0) + s(b"abc"))
h = c.open("fifo", FREAD)
res["read"] = c.status(READ, s(h) + u64(0) + u32(10))
''')
    for line in (r'process_write: write "/dev/full": No space left on '
                 r'device',
                 r'process_read: seek "fifo": Illegal seek'):
        check(ctx.wait_log(r"^(error: )?%s$" % line, 5),
              "no log line %r" % line)


@harness.timeout(120)
def test_sftp_hostile_procfs_write_refused(ctx):
    """A file on procfs cannot be opened for writing: the engine runs in
    the session process, which holds the descriptor to the monitor, and a
    process may write its own /proc/self files. Its mem is refused by the
    kernel as long as the session is not dumpable (its /proc files then
    belong to root); the engine refuses all of procfs itself, which also
    covers comm (writable by its own thread group whatever the owner).
    Reading procfs still works, as with OpenSSH's sftp-server; what is
    refused is logged."""
    u = _start(ctx, "-l INFO")
    res = _client(ctx, u, r'''
def op(path, flags):
    h = c.open(path, flags)
    return "a handle" if isinstance(h, bytes) else h
res["mem_rw"] = op("/proc/self/mem", FREAD | FWRITE)
res["mem_w"] = op("/proc/self/mem", FWRITE)
res["comm_w"] = op("/proc/thread-self/comm", FWRITE)
res["link_w"] = op("/dev/fd/../mem", FREAD | FWRITE)
h = c.open("/proc/self/status", FREAD)
res["status_read"] = ""
if isinstance(h, bytes):
    t, b = c.req(READ, s(h) + u64(0) + u32(4096))
    if t == DATA:
        res["status_read"] = b[4:].decode(errors="replace")
    c.status(CLOSE, s(h))
h = c.open("f", FWRITE | FCREAT | FTRUNC)
res["regular_w"] = isinstance(h, bytes)
''')
    for k in ("mem_rw", "mem_w", "comm_w", "link_w"):
        check(res[k] == 3, "open %s on procfs: %r, want PERMISSION_DENIED "
              "(3)" % (k, res[k]))
    check("Name:" in res["status_read"],
          "/proc/self/status could not be read: %r" % res["status_read"])
    check(res["regular_w"], "a regular file could not be opened for "
          "writing after the refusals")
    # mem is the kernel's refusal; comm is the engine's, and logged.
    check(ctx.wait_log(r'Refusing open for writing on procfs: '
                       r'"/proc/thread-self/comm"'),
          "no 'Refusing open for writing on procfs' line for comm")



@harness.timeout(120)
def test_sftp_hostile_session_pipes_refused(ctx):
    """The session process's own pipes (its SIGCHLD/SIGTERM wake-up pipe,
    ...) cannot be opened through /proc/self/fd/N or /dev/fd/N: such a
    name reaches the pipe itself, on pipefs, not procfs, so the procfs
    check does not see it, and a handle on the pipe could read the loop's
    wake-up bytes or fill the pipe. An anonymous pipe is reachable only
    through such a magic link: OPEN refuses it, for reading as for
    writing; a named FIFO still opens."""
    u = _start(ctx, "-l INFO")
    fifo = os.path.join(u.home, "fifo")
    os.mkfifo(fifo)
    os.chown(fifo, u.uid, u.gid)
    res = _client(ctx, u, r'''
pipes = []
for n in range(64):
    t, b = c.req(READLINK, s("/proc/self/fd/%d" % n))
    if t == NAME and b"pipe:" in b:
        pipes.append(n)
res["pipes"] = pipes
got = {}
for n in pipes:
    for path in ("/proc/self/fd/%d" % n, "/dev/fd/%d" % n):
        for fl, name in ((FREAD, "r"), (FWRITE, "w")):
            h = c.open(path, fl)
            if isinstance(h, bytes):
                c.status(CLOSE, s(h))
                h = "a handle"
            got["%s %s" % (path, name)] = h
res["got"] = got
h = c.open("fifo", FREAD)
res["fifo"] = isinstance(h, bytes)
''')
    check(res["pipes"], "no pipe among the session's descriptors: %r" % res)
    bad = {k: v for k, v in res["got"].items() if v != 3}
    check(not bad, "the session's pipes opened (want PERMISSION_DENIED): %r"
          % bad)
    check(res["fifo"], "a named FIFO could not be opened for reading")
    check(ctx.wait_log(r'Refusing open of a pipe: "/proc/self/fd/\d+"'),
          "no 'Refusing open of a pipe' line")


# An SFTP client with a window of 2^32-1 that sends its READs at once and
# then only waits: prints "ok N replies ..." or, after trying an IGNORE,
# "STALL after N of M".
SFTP_STALL = r'''
import sys, time, struct
sys.path.insert(0, sys.argv[1])
import connwire, protowire as pw
from protowire import s, u32
cell = connwire.Cell(int(sys.argv[2]), sys.argv[3], sys.argv[4])
NREQ = int(sys.argv[5]); RLEN = int(sys.argv[6])
c = cell.conn
c.send(bytes([90]) + s("session") + u32(0) + u32(0xffffffff) + u32(0x40000))
peer = None
while peer is None:
    t, p, _ = c._read_packet(time.monotonic() + 10)
    if t == 91:
        peer = struct.unpack(">I", p[4:8])[0]
c.send(bytes([98]) + u32(peer) + s("subsystem") + b"\x01" + s("sftp"))
def sftp(pl):
    c.send(bytes([94]) + u32(peer) + s(u32(len(pl)) + pl))
inbuf = b""
def next_sftp(deadline):
    global inbuf
    while True:
        if len(inbuf) >= 4:
            n = struct.unpack(">I", inbuf[:4])[0]
            if len(inbuf) >= 4 + n:
                r = inbuf[4:4+n]; inbuf = inbuf[4+n:]
                return r
        t, p, _ = c._read_packet(deadline)
        if t == 94:
            n = struct.unpack(">I", p[4:8])[0]
            inbuf += p[8:8+n]
sftp(bytes([1]) + u32(3))
r = next_sftp(time.monotonic() + 10); assert r[0] == 2, r[:1]
sftp(bytes([3]) + u32(1) + s("blob") + u32(1) + u32(0))
r = next_sftp(time.monotonic() + 10); assert r[0] == 102, r[:20]
hl = struct.unpack(">I", r[5:9])[0]; h = r[9:9+hl]
msg = b""
for i in range(NREQ):
    pl = bytes([5]) + u32(100 + i) + s(h) + struct.pack(">Q", i * RLEN) + u32(RLEN)
    msg += u32(len(pl)) + pl
# send in channel packets of <= 32K
for off in range(0, len(msg), 30000):
    c.send(bytes([94]) + u32(peer) + s(msg[off:off+30000]))
got = 0
start = time.monotonic()
try:
    while got < NREQ:
        r = next_sftp(time.monotonic() + 8)
        got += 1
    print("ok %d replies in %.2fs" % (got, time.monotonic() - start), flush=True)
except Exception as e:
    c.send(bytes([2]) + s("poke"))
    try:
        while got < NREQ:
            r = next_sftp(time.monotonic() + 8)
            got += 1
        print("after an IGNORE: all %d" % got)
    except Exception:
        print("after an IGNORE: still %d" % got)
    print("STALL after %d of %d replies (%.2fs): %r" % (got, NREQ, time.monotonic() - start, e), flush=True)
'''


@harness.timeout(120)
def test_sftp_replies_flow_while_client_waits(ctx):
    """128 READs of 32 KiB sent at once by a client with a window of
    2^32-1, which then only waits: every reply arrives. Before, the
    replies past the first 1 MiB of transport output stayed in the
    engine until the client sent another packet (a sftp channel has no
    descriptor to wake the loop): a download with a large read-ahead hung
    at the end of the file. OpenSSH's sftp hides it with its window
    adjusts."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["Subsystem sftp internal-sftp"])
    path = os.path.join(u.home, "blob")
    with open(path, "wb") as f:
        f.write(os.urandom(4 * 1024 * 1024))
    os.chmod(path, 0o644)
    script = os.path.join(ctx.dir, "stall.py")
    with open(script, "w") as f:
        f.write(SFTP_STALL)
    here = os.path.dirname(os.path.abspath(__file__))
    r = harness.run(["/usr/bin/python3", script, here, str(ctx.port), u.name,
                     u.key, "128", "32768"], 90, check_rc=False)
    out = r.stdout.decode(errors="replace").strip()
    check(out.startswith("ok 128 replies"), "the replies: %r %s"
          % (out, r.stderr.decode(errors="replace")[-500:]))
