"""
sftpwire.py: a raw SFTP version 3 client for test_sftp_parity.py, run by
/usr/bin/python3 (where paramiko lives). argv: PORT USER KEY BASE, BASE a
directory the test prepared (relative to the user's home). It sends the
parity matrix's requests one by one and prints one JSON object: cell name
-> the reply, normalised (BASE and the home written as symbols, times
other than the prepared one as "T").
"""

import json
import re
import struct
import sys

import paramiko

INIT, OPEN, CLOSE, READ, WRITE, LSTAT, FSTAT, SETSTAT, FSETSTAT = (
    1, 3, 4, 5, 6, 7, 8, 9, 10)
OPENDIR, READDIR, REMOVE, MKDIR, RMDIR, REALPATH, STAT, RENAME = (
    11, 12, 13, 14, 15, 16, 17, 18)
READLINK, SYMLINK = 19, 20
STATUS, HANDLE, DATA, NAME, ATTRS, EXTENDED, EXTREPLY = (
    101, 102, 103, 104, 105, 200, 201)
FREAD, FWRITE, FAPPEND, FCREAT, FTRUNC, FEXCL = 1, 2, 4, 8, 16, 32
A_SIZE, A_UIDGID, A_PERM, A_TIME, A_EXT = 1, 2, 4, 8, 0x80000000
FIXED = 1500000000


def s(x):
    if x is None:
        x = b"\0\0\0\x77"
    if isinstance(x, str):
        x = x.encode()
    return struct.pack(">I", len(x)) + x


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


class Rd:
    def __init__(self, b):
        self.b, self.o = b, 0

    def u32(self):
        v = struct.unpack(">I", self.b[self.o:self.o + 4])[0]
        self.o += 4
        return v

    def u64(self):
        v = struct.unpack(">Q", self.b[self.o:self.o + 8])[0]
        self.o += 8
        return v

    def str(self):
        n = self.u32()
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def attrs(self):
        f = self.u32()
        a = {"flags": f}
        if f & A_SIZE:
            a["size"] = self.u64()
        if f & A_UIDGID:
            a["uid"], a["gid"] = self.u32(), self.u32()
        if f & A_PERM:
            a["perm"] = "%o" % self.u32()
        if f & A_TIME:
            at, mt = self.u32(), self.u32()
            a["atime"] = at if at == FIXED or at < 100000 else "T"
            a["mtime"] = mt if mt == FIXED or mt < 100000 else "T"
        if f & A_EXT:
            n = self.u32()
            a["ext"] = [(self.str().decode(), self.str().hex())
                        for _ in range(n)]
        return a


class Raw:
    def __init__(self, port, user, key):
        self.port, self.user, self.key = port, user, key
        self.connect()

    def connect(self):
        self.t = paramiko.Transport(("127.0.0.1", self.port))
        self.t.connect(username=self.user,
                       pkey=paramiko.Ed25519Key(filename=self.key))
        self.ch = self.t.open_session()
        self.ch.settimeout(20)
        self.ch.invoke_subsystem("sftp")
        self.id = 0
        self.sendraw(bytes([INIT]) + u32(3))
        r = self.recv()
        exts = Rd(r[5:])
        self.exts = []
        while exts.o < len(exts.b):
            self.exts.append((exts.str().decode(), exts.str().decode()))

    def close(self):
        self.t.close()

    def sendraw(self, p):
        self.ch.sendall(u32(len(p)) + p)

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

    def closed(self):
        """("closed", STATUS) for a session the server ended, a new one
        opened: sftp-server's exit code is 255 for a request it cannot
        parse (fatal()), 11 for a length past its limit."""
        self.ch.status_event.wait(10)
        status = self.ch.exit_status
        self.close()
        self.connect()
        return ("closed", status)

    def raw(self, data):
        """Bytes as they are: ("answered",) or closed()."""
        try:
            self.ch.sendall(data)
            self.recv()
            return ("answered",)
        except (EOFError, OSError, paramiko.SSHException):
            return self.closed()

    def req(self, typ, body, trailer=b""):
        """One request and its reply; ("noreply",) when the server
        answered a REALPATH sent after it first (the replies come in
        order), ("closed", STATUS) when it ended the session, with the
        channel's exit status (then a new one is opened)."""
        self.id += 1
        rid = self.id
        try:
            self.sendraw(bytes([typ]) + u32(rid) + body + trailer)
            self.sendraw(bytes([REALPATH]) + u32(0x7fff0000 + rid) + s("."))
            r = self.recv()
            if struct.unpack(">I", r[1:5])[0] == 0x7fff0000 + rid:
                return ("noreply",)
            self.recv()
        except (EOFError, OSError, paramiko.SSHException):
            return self.closed()
        t = r[0]
        rd = Rd(r[1:])
        got = rd.u32()
        out = self.decode(t, rd)
        if got != rid:
            out = ("wrong-id",) + tuple(out)
        return out

    def decode(self, t, rd):
        if t == STATUS:
            code = rd.u32()
            msg = rd.str().decode(errors="replace") if rd.o < len(rd.b) \
                else None
            return ("status", code, msg)
        if t == HANDLE:
            self.last = rd.str()
            return ("handle",)
        if t == DATA:
            return ("data", len(rd.str()))
        if t == NAME:
            n = rd.u32()
            names = []
            for _ in range(n):
                fn = rd.str().decode(errors="replace")
                ln = rd.str().decode(errors="replace")
                a = rd.attrs()
                if a.get("mtime") == "T":
                    ln = re.sub(r"[A-Z][a-z]{2} [ 0-9]\d [ 0-9]\d:?\d\d ",
                                "DATE ", ln)
                names.append([norm(fn), norm(ln), a])
            return ("name", names)
        if t == ATTRS:
            return ("attrs", rd.attrs())
        if t == EXTREPLY:
            return ("extreply", rd.b[rd.o:].hex())
        return ("type", t)


def norm(x):
    return x.replace(HOME + "/" + BASE, "<BASE>").replace(HOME, "<HOME>") \
        if isinstance(x, str) else x


port, user, key, HOME, BASE = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                               sys.argv[4], sys.argv[5])
c = Raw(port, user, key)
res = {}


def P(name):
    return BASE + "/" + name


def cell(name, typ, body, trailer=b""):
    res[name] = c.req(typ, body, trailer)
    return res[name]


def openh(path, flags, attrs=u32(0)):
    r = c.req(OPEN, s(P(path)) + u32(flags) + attrs)
    return c.last if r[0] == "handle" else None, r


def closeh(h):
    return c.req(CLOSE, s(h))


# OPEN: every flag combination on every kind of target.
TARGETS = ["f", "missing", "d", "ln", "dangling", "noperm", "ro", "lnd"]
for flags in range(64):
    for tgt in TARGETS:
        name = "%s_%d" % (tgt, flags)
        h, r = openh(name, flags)
        out = list(r)
        if h is not None:
            out.append(c.req(FSTAT, s(h)))
            out.append(closeh(h))
        res["open %s %s" % (tgt, flags)] = out
        res["lstat-after %s %s" % (tgt, flags)] = c.req(LSTAT, s(P(name)))
        if tgt in ("missing", "dangling"):
            res["stat-after %s %s" % (tgt, flags)] = c.req(
                STAT, s(P(name)))
# OPEN creating with attributes.
h, r = openh("created", FWRITE | FCREAT, u32(A_PERM) + u32(0o600))
res["open attrs"] = [r, closeh(h) if h else None,
                     c.req(STAT, s(P("created")))]
h, r = openh("created2", FWRITE | FCREAT,
             u32(A_PERM | A_SIZE) + u64(5) + u32(0o640))
res["open attrs size"] = [r, closeh(h) if h else None,
                          c.req(STAT, s(P("created2")))]

# READ and WRITE.
h, _ = openh("data", FREAD)
for name, off, ln in [("read 0 4", 0, 4), ("read at eof", 6, 10),
                      ("read past eof", 100, 10), ("read len 0", 0, 0),
                      ("read huge", 0, 1 << 31), ("read huge2", 0, 0xffffffff),
                      ("read 64bit off", 1 << 62, 5)]:
    cell(name, READ, s(h) + u64(off) + u32(ln))
cell("write on read handle", WRITE, s(h) + u64(0) + s(b"xx"))
cell("fsetstat read handle perm", FSETSTAT, s(h) + u32(A_PERM) + u32(0o600))
cell("fsetstat read handle size", FSETSTAT, s(h) + u32(A_SIZE) + u64(1))
cell("fsync read handle", EXTENDED, s("fsync@openssh.com") + s(h))
cell("close", CLOSE, s(h))
cell("close twice", CLOSE, s(h))
# A procfs or sysfs file opened read-only takes no pwrite (ESPIPE) but
# seeks: sftp-server's write then fails with EBADF (NO_SUCH_FILE).
for name in ("/proc/version", "/sys/kernel/mm/transparent_hugepage/enabled"):
    r = c.req(OPEN, s(name) + u32(FREAD) + u32(0))
    ph = c.last if r[0] == "handle" else b"\0\0\0\x63"
    res["open %s" % name] = r
    cell("write on read handle %s" % name, WRITE, s(ph) + u64(0) + s(b"x"))
    cell("write on read handle %s at 2^62" % name, WRITE, s(ph) + u64(1 << 62)
         + s(b"x"))
    if r[0] == "handle":
        closeh(ph)
cell("read closed", READ, s(h) + u64(0) + u32(4))
h, _ = openh("wdata", FWRITE)
cell("write beyond eof", WRITE, s(h) + u64(100) + s(b"zz"))
cell("fstat after gap", FSTAT, s(h))
cell("read on write handle", READ, s(h) + u64(0) + u32(4))
cell("write 64bit off", WRITE, s(h) + u64(1 << 62) + s(b"zz"))
cell("write len 0", WRITE, s(h) + u64(5) + s(b""))
cell("fsync write handle", EXTENDED, s("fsync@openssh.com") + s(h))
cell("fsetstat write handle", FSETSTAT, s(h) + u32(A_SIZE) + u64(3))
cell("fstat after fsetstat", FSTAT, s(h))
closeh(h)
h, _ = openh("adata", FWRITE | FAPPEND)
cell("append write at 0", WRITE, s(h) + u64(0) + s(b"AP"))
cell("append write at 2^63", WRITE, s(h) + u64(1 << 63) + s(b"HI"))
cell("append write at 2^64-1", WRITE, s(h) + u64((1 << 64) - 1) + s(b"Z"))
closeh(h)
cell("stat after append", STAT, s(P("adata")))
# Bad handles.
cell("read empty handle", READ, s(b"") + u64(0) + u32(4))
cell("read long handle", READ, s(b"x" * 300) + u64(0) + u32(4))
cell("read unknown handle", READ, s(b"\0\0\0\x63") + u64(0) + u32(4))
cell("read unknown handle 8", READ, s(b"\0" * 7 + b"\x63") + u64(0) + u32(4))
cell("close unknown handle", CLOSE, s(b"\0\0\0\x63"))
cell("fstat unknown handle", FSTAT, s(b"\0\0\0\x63"))
cell("readdir unknown handle", READDIR, s(b"\0\0\0\x63"))
r = cell("opendir d", OPENDIR, s(P("d")))
dh = c.last
cell("read dir handle", READ, s(dh) + u64(0) + u32(4))
cell("write dir handle", WRITE, s(dh) + u64(0) + s(b"x"))
cell("fstat dir handle", FSTAT, s(dh))
cell("fsetstat dir handle", FSETSTAT, s(dh) + u32(A_PERM) + u32(0o755))
cell("fsync dir handle", EXTENDED, s("fsync@openssh.com") + s(dh))
ents = []
for i in range(5):
    r = c.req(READDIR, s(dh))
    if r[0] == "name":
        ents += r[1]
        continue
    res["readdir end"] = r
    break
res["readdir entries"] = sorted(ents)
cell("readdir after eof", READDIR, s(dh))
cell("close dir", CLOSE, s(dh))
h, _ = openh("f", FREAD)
cell("readdir file handle", READDIR, s(h))
closeh(h)
for t in ("f", "missing", "ln", "dangling", "lnd", "noperm", "nox"):
    r = cell("opendir %s" % t, OPENDIR, s(P(t)))
    if r[0] == "handle":
        closeh(c.last)

# Names.
cell("remove dir", REMOVE, s(P("rmd")))
cell("remove missing", REMOVE, s(P("nothere")))
cell("remove link", REMOVE, s(P("rmlink")))
cell("rmdir nonempty", RMDIR, s(P("d")))
cell("rmdir file", RMDIR, s(P("f")))
cell("rmdir missing", RMDIR, s(P("nothere")))
cell("mkdir existing", MKDIR, s(P("d")) + u32(0))
cell("mkdir existing file", MKDIR, s(P("f")) + u32(0))
cell("mkdir perm", MKDIR, s(P("nd")) + u32(A_PERM) + u32(0o700))
cell("stat mkdir perm", STAT, s(P("nd")))
cell("mkdir missing parent", MKDIR, s(P("no/nd")) + u32(0))
cell("rename onto existing", RENAME, s(P("r1")) + s(P("r2")))
cell("rename onto existing dir", RENAME, s(P("r1")) + s(P("empty")))
cell("posix-rename onto existing", EXTENDED,
     s("posix-rename@openssh.com") + s(P("r1")) + s(P("r2")))
cell("stat r2 after", STAT, s(P("r2")))
cell("rename missing", RENAME, s(P("nothere")) + s(P("r9")))
cell("posix-rename missing", EXTENDED,
     s("posix-rename@openssh.com") + s(P("nothere")) + s(P("r9")))
cell("rename to self", RENAME, s(P("r2")) + s(P("r2")))
cell("rename ok", RENAME, s(P("r2")) + s(P("r3")))
# OpenSSH sends (targetpath, linkpath) swapped: first the target.
cell("symlink", SYMLINK, s("tgt") + s(P("sl")))
cell("readlink sl", READLINK, s(P("sl")))
cell("symlink existing", SYMLINK, s("tgt") + s(P("f")))
cell("symlink onto link", SYMLINK, s("x") + s(P("ln")))
cell("readlink file", READLINK, s(P("f")))
cell("readlink missing", READLINK, s(P("nothere")))
cell("readlink dangling", READLINK, s(P("dangling")))
for p in ["", ".", "..", "/", BASE, P("missing"), P("no/such/path"),
          P("f/.."), P("ln"), P("dangling"), P("d/../f"), "/nonexistent_x",
          P("f/x")]:
    cell("realpath %r" % p.replace(BASE, "<BASE>", 1), REALPATH, s(p))
for t in ("f", "ln", "dangling", "lnd", "missing", "d", "noperm", "nox/x"):
    cell("stat %s" % t, STAT, s(P(t)))
    cell("lstat %s" % t, LSTAT, s(P(t)))
# SETSTAT.
cell("setstat size", SETSTAT, s(P("ss")) + u32(A_SIZE) + u64(3))
cell("setstat perm", SETSTAT, s(P("ss")) + u32(A_PERM) + u32(0o4751))
cell("setstat times", SETSTAT, s(P("ss")) + u32(A_TIME) + u32(1000)
     + u32(2000))
cell("setstat uid", SETSTAT, s(P("ss")) + u32(A_UIDGID) + u32(0) + u32(0))
cell("setstat all", SETSTAT, s(P("ss")) + u32(15) + u64(2) + u32(0)
     + u32(0) + u32(0o600) + u32(1) + u32(2))
cell("setstat none", SETSTAT, s(P("ss")) + u32(0))
cell("stat ss", STAT, s(P("ss")))
cell("setstat missing", SETSTAT, s(P("nothere")) + u32(A_PERM) + u32(0o600))
cell("setstat link perm", SETSTAT, s(P("ln2")) + u32(A_PERM) + u32(0o600))
cell("setstat dir size", SETSTAT, s(P("empty")) + u32(A_SIZE) + u64(0))
cell("setstat ext", SETSTAT, s(P("ss")) + u32(A_EXT) + u32(1) + s("a")
     + s("b"))
cell("setstat badflags", SETSTAT, s(P("ss")) + u32(0x40) + u32(0))
# Extensions.
for name, body in [
        ("statvfs@openssh.com", s(BASE)),
        ("statvfs@openssh.com", s(P("missing"))),
        ("fstatvfs@openssh.com", s(b"\0\0\0\x63")),
        ("hardlink@openssh.com", s(P("f")) + s(P("hl"))),
        ("hardlink@openssh.com", s(P("f")) + s(P("hl"))),
        ("hardlink@openssh.com", s(P("nothere")) + s(P("hl2"))),
        ("hardlink@openssh.com", s(P("d")) + s(P("hl3"))),
        ("lsetstat@openssh.com", s(P("ln2")) + u32(A_TIME) + u32(5)
         + u32(6)),
        ("lsetstat@openssh.com", s(P("ln2")) + u32(A_PERM) + u32(0o600)),
        ("lsetstat@openssh.com", s(P("ln2")) + u32(A_SIZE) + u64(0)),
        ("lsetstat@openssh.com", s(P("nothere")) + u32(A_TIME) + u32(5)
         + u32(6)),
        ("limits@openssh.com", b""),
        ("expand-path@openssh.com", s("~")),
        ("expand-path@openssh.com", s("~/x")),
        ("expand-path@openssh.com", s("")),
        ("expand-path@openssh.com", s("~nosuchuserx/y")),
        ("expand-path@openssh.com", s("~root")),
        ("expand-path@openssh.com", s(P("missing"))),
        ("home-directory", s(user)),
        ("home-directory", s("nosuchuserx")),
        ("home-directory", s("")),
        ("users-groups-by-id@openssh.com", s(u32(0) + u32(4000000))
         + s(u32(0) + u32(4000000))),
        ("users-groups-by-id@openssh.com", s(b"") + s(b"")),
        ("users-groups-by-id@openssh.com", s(b"\0\0") + s(b"")),
        ("no-such-ext@example.com", b"xyz"),
        ("copy-data", s(b"\0\0\0\x63") + u64(0) + u64(0) + s(b"\0\0\0\x63")
         + u64(0)),
        ("fsync@openssh.com", s(b"\0\0\0\x63")),
]:
    key = "ext %s %r" % (name, body.replace(user.encode(), b"<USER>")
                         .replace(BASE.encode() + b"/", b"")
                         .replace(BASE.encode(), b"<BASE>"))
    r = c.req(EXTENDED, s(name) + body)
    if name == "statvfs@openssh.com" and r[0] == "extreply":
        r = ("extreply", len(r[1]))
    res[key] = r
res["ext stat hl"] = c.req(STAT, s(P("hl")))
res["ext lstat ln2"] = c.req(LSTAT, s(P("ln2")))
# copy-data between files.
h1, _ = openh("f", FREAD)
h2, _ = openh("cd", FWRITE | FCREAT)
cell("copy-data", EXTENDED, s("copy-data") + s(h1) + u64(1) + u64(0)
     + s(h2) + u64(2))
cell("copy-data same handle", EXTENDED, s("copy-data") + s(h1) + u64(0)
     + u64(0) + s(h1) + u64(0))
cell("copy-data to read handle", EXTENDED, s("copy-data") + s(h2) + u64(0)
     + u64(0) + s(h1) + u64(0))
closeh(h1)
closeh(h2)
cell("stat cd", STAT, s(P("cd")))
# Trailing garbage, unknown types, short packets.
cell("stat trailing", STAT, s(P("f")), b"garbage")
cell("unknown type 99", 99, b"abc")
cell("unknown type 2", 2, b"")
cell("stat after", STAT, s(P("f")))
cell("stat short", STAT, b"\0\0")
cell("open short", OPEN, s(P("f")))
cell("write short", WRITE, s(b"x"))
cell("posix-rename short", EXTENDED, s("posix-rename@openssh.com")
     + s(P("f")))
# More names: system files, odd paths, directories over directories.
cell("open shadow", OPEN, s("/etc/shadow") + u32(FREAD) + u32(0))
cell("setstat not owned", SETSTAT, s("/etc/hostname") + u32(A_PERM)
     + u32(0o644))
cell("setstat times not owned", SETSTAT, s("/etc/hostname") + u32(A_TIME)
     + u32(1) + u32(1))
cell("remove not owned dir", REMOVE, s("/etc/hostname"))
cell("mkdir not owned", MKDIR, s("/etc/x_sftp_parity") + u32(0))
cell("rename dir onto nonempty", RENAME, s(P("empty")) + s(P("d")))
cell("posix-rename dir onto nonempty", EXTENDED,
     s("posix-rename@openssh.com") + s(P("empty")) + s(P("d")))
# Onto a dangling symlink: sftp-server replaces it with what is not a
# regular file (its rename), and refuses a regular file (its link).
c.req(SYMLINK, s("gone") + s(P("rdang1")))
c.req(SYMLINK, s("gone") + s(P("rdang2")))
c.req(SYMLINK, s("gone") + s(P("rdang3")))
c.req(SYMLINK, s("x") + s(P("rsl")))
c.req(MKDIR, s(P("rdir")) + u32(0))
cell("rename symlink onto dangling", RENAME, s(P("rsl")) + s(P("rdang1")))
cell("readlink after rename onto dangling", READLINK, s(P("rdang1")))
cell("rename dir onto dangling", RENAME, s(P("rdir")) + s(P("rdang2")))
cell("rename file onto dangling", RENAME, s(P("r3")) + s(P("rdang3")))
cell("posix-rename file onto dir", EXTENDED,
     s("posix-rename@openssh.com") + s(P("r3")) + s(P("empty")))
cell("open existing with attrs", OPEN, s(P("data")) + u32(FREAD | FCREAT)
     + u32(A_PERM) + u32(0o600))
if c.last:
    c.req(CLOSE, s(c.last))
cell("stat data", STAT, s(P("data")))
for p in ("//", BASE + "//f", BASE + "/./f/", BASE + "/d/", "/../..",
          BASE + "/nox/x", BASE + "/noperm/x"):
    cell("realpath %r" % p.replace(BASE, "<BASE>", 1), REALPATH, s(p))
    cell("stat %r" % p.replace(BASE, "<BASE>", 1), STAT, s(p))
cell("opendir root", OPENDIR, s("/"))
if c.last:
    c.req(CLOSE, s(c.last))
cell("opendir nox", OPENDIR, s(P("nox")))
# Odd flags, modes and lengths.
for fl in (0x40, 0x80000000, 0xffffffff):
    r = cell("open flags %#x" % fl, OPEN, s(P("oddflags")) + u32(fl)
             + u32(0))
    if r[0] == "handle":
        c.req(CLOSE, s(c.last))
    cell("lstat oddflags %#x" % fl, LSTAT, s(P("oddflags")))
for m in (0o4777, 0o7777, 0o170644, 0):
    r = cell("open mode %o" % m, OPEN, s(P("mode%o" % m))
             + u32(FWRITE | FCREAT) + u32(A_PERM) + u32(m))
    if r[0] == "handle":
        c.req(CLOSE, s(c.last))
    cell("stat mode %o" % m, STAT, s(P("mode%o" % m)))
    cell("mkdir mode %o" % m, MKDIR, s(P("dmode%o" % m)) + u32(A_PERM)
         + u32(m))
    cell("stat dmode %o" % m, STAT, s(P("dmode%o" % m)))
    cell("setstat mode %o" % m, SETSTAT, s(P("ss")) + u32(A_PERM) + u32(m))
    cell("stat ss mode %o" % m, STAT, s(P("ss")))
long = BASE + "/" + "/".join(["x" * 200] * 25)
cell("realpath long", REALPATH, s(long))
# A second INIT: sftp-server 9.2 answers it with VERSION again.
res["second init"] = c.raw(u32(5) + bytes([INIT]) + u32(3))
# A length past sftp-server's 256 KiB: the session ends (exit 11).
res["length too long"] = c.raw(u32(256 * 1024 + 1) + bytes([REALPATH]))
cell("stat long", STAT, s(long))
cell("stat long name", STAT, s(P("y" * 300)))
cell("open long name", OPEN, s(P("y" * 300)) + u32(FREAD) + u32(0))
cell("symlink empty target", SYMLINK, s("") + s(P("sle")))
cell("symlink empty link", SYMLINK, s("f") + s(""))
cell("mkdir empty", MKDIR, s("") + u32(0))
cell("stat empty", STAT, s(""))
cell("remove empty", REMOVE, s(""))
cell("opendir empty", OPENDIR, s(""))
if c.last and res["opendir empty"][0] == "handle":
    c.req(CLOSE, s(c.last))
h, _ = openh("wdata", FWRITE)
cell("fsetstat times", FSETSTAT, s(h) + u32(A_TIME) + u32(7) + u32(8))
cell("fsetstat perm", FSETSTAT, s(h) + u32(A_PERM) + u32(0o640))
cell("fsetstat uid", FSETSTAT, s(h) + u32(A_UIDGID) + u32(0) + u32(0))
cell("fstat after fsetstat times", FSTAT, s(h))
closeh(h)
cell("users-groups many", EXTENDED, s("users-groups-by-id@openssh.com")
     + s(b"".join(u32(i) for i in range(0, 40)))
     + s(b"".join(u32(i) for i in range(0, 40))))
# The whole prepared directory: every kind of entry's long name.
r = cell("opendir base", OPENDIR, s(BASE))
dh = c.last
ents = []
while True:
    r = c.req(READDIR, s(dh))
    if r[0] != "name":
        res["readdir base end"] = r
        break
    ents += r[1]
res["readdir base"] = sorted(ents)
res["extensions"] = c.exts
print(json.dumps(res))
