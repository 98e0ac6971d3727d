"""
harness.py: fixtures for postern's integration tests.

Every test gets a Context: its own temp dir, host key, sshd_config, free
loopback port, server instance and test users, all removed afterwards.
The real OpenSSH client (ssh, ssh-keygen) drives the server.

Python 3 standard library only; must run as root (useradd, /proc/PID/mem).
"""

import base64
import ctypes
import errno
import hashlib
import fcntl
import os
import stat
import pwd
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import traceback

# ---------------------------------------------------------------------------
# Failures and small helpers


class TestFailure(AssertionError):
    """A test assertion failed; the message is printed as the diagnostic."""


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def fail(msg):
    raise TestFailure(msg)


OPENSSH_SSHD = "/usr/sbin/sshd"
# The names OpenSSH 9.2 knows that postern does not implement, by -T
# keyword: accepted in a list and left out of what postern offers
# (docs/sshd_config.md, Transport algorithms).
OPENSSH_ONLY_ALGS = {
    "ciphers": {"3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc"},
    "macs": {"hmac-md5", "hmac-md5-96", "hmac-sha1-96",
             "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com",
             "hmac-sha1-96-etm@openssh.com"},
    "kexalgorithms": {"diffie-hellman-group1-sha1",
                      "diffie-hellman-group14-sha1"},
}

# -T keywords of OpenSSH 9.8+ that postern prints and sshd 9.2 does not
# (docs/sshd_config.md): left out when the two -T outputs are compared.
NEWER_T = ("persourcepenalties", "persourcepenaltyexemptlist")


def openssh_sshd():
    """OpenSSH's sshd, for a test that runs it beside postern: the test
    fails (never skips) when it is missing. The suite made /run/sshd."""
    if not os.access(OPENSSH_SSHD, os.X_OK):
        fail("%s is not installed: this test compares postern with "
             "OpenSSH's server (apt-get install openssh-server)"
             % OPENSSH_SSHD)
    return OPENSSH_SSHD


def timeout(seconds):
    """Decorator: per-test timeout in seconds (default 60)."""
    def deco(fn):
        fn.timeout = seconds
        return fn
    return deco


def poll_until(pred, timeout_s, interval=0.02):
    """Call pred() until it returns a truthy value or timeout_s passes.
    Returns the last value of pred()."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)
        interval = min(interval * 1.5, 0.2)


def sshd_words(lines):
    """posternd's config error lines as sshd words them, for comparing:
    where sshd's message does not name the keyword, posternd names it
    first ("F line N: KEYWORD: message"). Returns the lines as they are
    plus each one with that keyword taken out."""
    out = list(lines)
    for l in lines:
        m = re.match(r"^(.*? line \d+: )([A-Za-z0-9]+): (.*)$", l)
        if m:
            out.append(m.group(1) + m.group(3))
    return out


def tail(text, n=40):
    lines = text.splitlines()
    return lines[-n:]


def read_text(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "<cannot read %s: %s>" % (path, e)
    # OpenSSH ends stderr log lines with "\r\n".
    return data.decode("utf-8", "replace").replace("\r\n", "\n")


class HostLock:
    """A lock held across threads and processes (flock on a file under
    /run/lock): for what the whole machine shares, such as /etc/passwd
    (useradd/userdel) or the one kernel audit daemon. Suites from several
    checkouts may run at once."""

    def __init__(self, name):
        self.path = "/run/lock/postern-test-%s.lock" % name
        self.thread_lock = threading.Lock()
        self.fd = None

    def __enter__(self):
        self.thread_lock.acquire()
        try:
            os.makedirs("/run/lock", exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None
            self.thread_lock.release()
            raise
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None
        self.thread_lock.release()
        return False


_users_lock = HostLock("users")   # useradd/userdel lock /etc/passwd


def edit_account_file(path, edit):
    """Rewrite /etc/passwd or /etc/shadow (path) as edit(lines) returns
    it, under lckpwdf(3), the lock shadow-utils takes for these files, and
    the suite's own users lock; owner and mode kept, replaced by rename."""
    libc = ctypes.CDLL(None, use_errno=True)
    with _users_lock:
        check(libc.lckpwdf() == 0, "lckpwdf failed")
        try:
            with open(path) as f:
                lines = f.readlines()
            st = os.stat(path)
            tmp = path + ".ptst"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                         st.st_mode & 0o777)
            with os.fdopen(fd, "w") as f:
                f.writelines(edit(lines))
            os.chown(tmp, st.st_uid, st.st_gid)
            os.rename(tmp, path)
        finally:
            libc.ulckpwdf()
_ports_lock = threading.Lock()
_ports_used = set()


def _ephemeral_low():
    """The lowest port the kernel picks for an outgoing connection's own
    end (net.ipv4.ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _in_use(family, addr, port):
    """True if binding addr:port fails because something holds it (an
    address family or address this host lacks is not "in use")."""
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind((addr, port))
        return False
    except OSError as e:
        return e.errno in (errno.EADDRINUSE, errno.EACCES)
    finally:
        s.close()


def free_port():
    """A free TCP port on 127.0.0.1 and ::1, never the same port twice in
    one suite run. It is taken from below the kernel's ephemeral range:
    a port from that range (bind to 0) can meanwhile become the local end
    of some other test's outgoing connection, and a client or server that
    then tries to listen on it fails (CI once saw plink's -L listener
    refused for that reason)."""
    high = min(_ephemeral_low(), 32768)
    low = 10000 if high > 12000 else 1024
    for _ in range(1000):
        port = low + secrets.randbelow(high - low)
        with _ports_lock:
            if port in _ports_used:
                continue
        if (_in_use(socket.AF_INET, "127.0.0.1", port) or
                _in_use(socket.AF_INET6, "::1", port)):
            continue
        with _ports_lock:
            if port not in _ports_used:
                _ports_used.add(port)
                return port
    raise TestFailure("could not find a free port")


def port_listening(port):
    """True if some socket LISTENs on 127.0.0.1:port or 0.0.0.0:port
    (read from /proc/net/tcp so that probing does not open a connection
    the server would log)."""
    want = {"0100007F:%04X" % port, "00000000:%04X" % port}
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[1] in want and fields[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def run(argv, timeout_s=30, check_rc=True, **kw):
    """subprocess.run with a timeout; raises TestFailure with output on a
    non-zero exit when check_rc. stdin is /dev/null unless given."""
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout_s, **kw)
    except subprocess.TimeoutExpired:
        raise TestFailure("command timed out after %ss: %s" % (timeout_s, argv))
    except OSError as e:
        raise TestFailure("cannot run %s: %s" % (argv, e))
    if check_rc and p.returncode != 0:
        raise TestFailure("command failed (exit %d): %s\n%s%s" % (
            p.returncode, " ".join(argv),
            p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p


# ---------------------------------------------------------------------------
# Suite-wide setup


class Suite:
    """Once-per-run state: privsep user, runtime dirs, shared big files."""

    def __init__(self, server, keep=False):
        self.server = os.path.abspath(server)
        self.keep = keep
        self.dir = tempfile.mkdtemp(prefix="postern-suite-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self._lock = threading.Lock()
        self._random = {}

    def setup(self):
        if os.geteuid() != 0:
            raise SystemExit("tests/integration/run.py must run as root")
        for tool in ("ssh", "ssh-keygen", "useradd", "userdel"):
            if shutil.which(tool) is None:
                raise SystemExit("missing tool: %s" % tool)
        with _users_lock:
            try:
                pwd.getpwnam("postern")
            except KeyError:
                run(["useradd", "--system", "--no-create-home",
                     "--home-dir", "/nonexistent",
                     "--shell", "/usr/sbin/nologin", "postern"])
        # OpenSSH's sshd needs its empty privsep dir to exist (its systemd
        # unit creates it); posternd creates /run/postern itself.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)

    def random_file(self, size=100 * 1024 * 1024):
        """(path, sha256 hex, size) of a file of random bytes, made once
        per size."""
        with self._lock:
            if size not in self._random:
                path = os.path.join(self.dir, "random-%d.bin" % size)
                h = hashlib.sha256()
                chunk = 1 << 20
                with open(path, "wb") as f:
                    left = size
                    while left > 0:
                        b = os.urandom(min(chunk, left))
                        h.update(b)
                        f.write(b)
                        left -= len(b)
                self._random[size] = (path, h.hexdigest(), size)
            return self._random[size]

    def cleanup(self):
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# Host keys and memory scanning


def _ssh_string(buf, off):
    if off + 4 > len(buf):
        raise ValueError("truncated string length at %d" % off)
    (n,) = struct.unpack(">I", buf[off:off + 4])
    off += 4
    if off + n > len(buf):
        raise ValueError("truncated string at %d" % off)
    return buf[off:off + n], off + n


def parse_ed25519_private(path):
    """Parse an unencrypted openssh-key-v1 ed25519 private key file (see
    OpenSSH PROTOCOL.key). Returns dict(seed=32 bytes, pub=32 bytes,
    body_lines=[base64 lines of the file])."""
    with open(path) as f:
        text = f.read()
    lines = [l.strip() for l in text.splitlines()]
    try:
        b = lines.index("-----BEGIN OPENSSH PRIVATE KEY-----")
        e = lines.index("-----END OPENSSH PRIVATE KEY-----")
    except ValueError:
        raise TestFailure("%s: not an OpenSSH private key file" % path)
    body_lines = [l for l in lines[b + 1:e] if l]
    blob = base64.b64decode("".join(body_lines))
    magic = b"openssh-key-v1\0"
    if not blob.startswith(magic):
        raise TestFailure("%s: bad magic" % path)
    off = len(magic)
    cipher, off = _ssh_string(blob, off)
    kdf, off = _ssh_string(blob, off)
    _kdfopts, off = _ssh_string(blob, off)
    (nkeys,) = struct.unpack(">I", blob[off:off + 4])
    off += 4
    if cipher != b"none" or kdf != b"none" or nkeys != 1:
        raise TestFailure("%s: encrypted or multi-key file" % path)
    _pubblob, off = _ssh_string(blob, off)
    priv, off = _ssh_string(blob, off)
    c1, c2 = struct.unpack(">II", priv[:8])
    if c1 != c2:
        raise TestFailure("%s: check ints differ" % path)
    p = 8
    ktype, p = _ssh_string(priv, p)
    pub, p = _ssh_string(priv, p)
    sk, p = _ssh_string(priv, p)
    if ktype != b"ssh-ed25519" or len(pub) != 32 or len(sk) != 64:
        raise TestFailure("%s: not an ed25519 key" % path)
    if sk[32:] != pub:
        raise TestFailure("%s: private key does not embed its public key"
                          % path)
    return {"seed": sk[:32], "pub": pub, "body_lines": body_lines}


HUGE_MAPPING = 4 << 30


def popen_server(argv, **kw):
    """subprocess.Popen for a server binary, retried while exec says
    ETXTBSY: a copy just written (copy_server) is busy while a child that
    another test's thread forked meanwhile still holds the writing fd,
    until that child execs (a few milliseconds)."""
    end = time.monotonic() + 5
    while True:
        try:
            return subprocess.Popen(argv, **kw)
        except OSError as e:
            if e.errno != errno.ETXTBSY or time.monotonic() > end:
                raise
            time.sleep(0.05)


def copy_server(server_path, dest, overrides=None):
    """Copy posternd, its helpers and its modules/ directory into dest
    (created 0755), keeping every file's mode (posternd refuses a
    readable postern-session, and modules must not be writable).
    overrides maps a helper name to another source file. Returns the
    path of the copied posternd."""
    bindir = os.path.dirname(os.path.abspath(server_path))
    overrides = overrides or {}
    os.makedirs(dest, 0o755, exist_ok=True)
    for name in ("posternd", "postern-preauth", "postern-session"):
        src = overrides.get(name, os.path.join(bindir, name))
        dst = os.path.join(dest, name)
        shutil.copyfile(src, dst)
        os.chmod(dst, stat.S_IMODE(os.stat(src).st_mode))
    msrc = os.path.join(bindir, "modules")
    mdst = os.path.join(dest, "modules")
    os.makedirs(mdst, 0o755, exist_ok=True)
    for name in sorted(os.listdir(msrc)):
        shutil.copyfile(os.path.join(msrc, name), os.path.join(mdst, name))
        os.chmod(os.path.join(mdst, name),
                 stat.S_IMODE(os.stat(os.path.join(msrc, name)).st_mode))
    return os.path.join(dest, "posternd")


def scan_memory(pid, needles):
    """Search every readable mapping of pid for each needle (bytes).
    Returns (found: dict needle->list of (region, offset), bytes_scanned).
    Raises TestFailure if the memory cannot be read at all."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            maps = f.read().splitlines()
    except OSError as e:
        raise TestFailure("cannot read /proc/%d/maps: %s" % (pid, e))
    found = {n: [] for n in needles}
    scanned = 0
    maxlen = max(len(n) for n in needles)
    try:
        mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
    except OSError as e:
        raise TestFailure("cannot open /proc/%d/mem: %s" % (pid, e))
    with mem:
        for line in maps:
            fields = line.split(None, 5)
            rng, perms = fields[0], fields[1]
            name = fields[5] if len(fields) > 5 else ""
            if "r" not in perms or name in ("[vvar]", "[vsyscall]",
                                            "[vvar_vclock]"):
                continue
            start, end = (int(x, 16) for x in rng.split("-"))
            # Address-space reservations (ASan's shadow and allocator
            # regions are terabytes) hold no data worth a linear read.
            if end - start > HUGE_MAPPING:
                continue
            pos = start
            carry = b""
            chunk = 1 << 20
            while pos < end:
                n = min(chunk, end - pos)
                try:
                    mem.seek(pos)
                    data = mem.read(n)
                except OSError:
                    break
                if not data:
                    break
                scanned += len(data)
                buf = carry + data
                for nd in needles:
                    i = buf.find(nd)
                    while i != -1:
                        found[nd].append((line, pos - len(carry) + i - start))
                        i = buf.find(nd, i + 1)
                carry = buf[-(maxlen - 1):] if maxlen > 1 else b""
                pos += len(data)
    if scanned == 0:
        raise TestFailure("read no memory at all from pid %d" % pid)
    return found, scanned


def memory_secret_needles(keyinfo):
    """What must not appear in an unprivileged process: the raw 32-byte
    seed, and the base64 lines of the private key file that encode private
    material (their presence means the file was read)."""
    needles = {keyinfo["seed"]: "ed25519 seed (32 raw bytes)"}
    for i, l in enumerate(keyinfo["body_lines"][2:], start=2):
        if len(l) >= 40:
            needles[l.encode()] = "host key file base64 line %d" % i
    return needles


def assert_no_secrets(pid, keyinfo, what):
    needles = memory_secret_needles(keyinfo)
    found, scanned = scan_memory(pid, list(needles))
    hits = []
    for nd, where in found.items():
        for region, off in where[:3]:
            hits.append("%s at offset 0x%x of %s" % (needles[nd], off, region))
    check(not hits, "%s (pid %d) memory contains the host private key:\n%s"
          % (what, pid, "\n".join(hits)))
    return scanned


def memory_scan_self_test(keyinfo):
    """Positive control: a helper process holding the seed in its heap must
    be detected, or the scan proves nothing."""
    p = subprocess.Popen(
        ["python3", "-c",
         "import sys\ns = bytes.fromhex(sys.argv[1])\n"
         "print('ready', flush=True)\nsys.stdin.read()\n",
         keyinfo["seed"].hex()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        found, _ = scan_memory(p.pid, [keyinfo["seed"]])
        check(found[keyinfo["seed"]],
              "memory scan self-test: seed not found in a process holding it")
    finally:
        p.stdin.close()
        p.wait(10)


# ---------------------------------------------------------------------------
# Processes


def proc_table():
    """{pid: (ppid, comm)} from /proc/*/stat."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                s = f.read().decode(errors="replace")
        except OSError:
            continue
        r = s.rfind(")")
        comm = s[s.find("(") + 1:r]
        rest = s[r + 2:].split()
        table[int(d)] = (int(rest[1]), comm)
    return table


def sanitizer_build(path):
    """1 for make asan's binaries (AddressSanitizer: memory figures mean
    nothing there, its quarantine keeps what was freed)."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def children(pid):
    """The pids whose parent is pid."""
    return [c for c, (ppid, _c) in proc_table().items() if ppid == pid]


def descendants(root_pid):
    table = proc_table()
    children = {}
    for pid, (ppid, _c) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = [], [root_pid]
    while stack:
        p = stack.pop()
        for c in children.get(p, []):
            out.append(c)
            stack.append(c)
    return out


def exe_of(pid):
    try:
        e = os.readlink("/proc/%d/exe" % pid)
    except OSError as ex:
        return "<%s>" % ex.strerror
    if e.endswith(" (deleted)"):
        e = e[:-len(" (deleted)")]
    return e


def describe_tree(root_pid):
    return ["pid %d exe %s" % (p, exe_of(p)) for p in descendants(root_pid)]


def find_descendant_by_exe(root_pid, basename, timeout_s=10, pred=None):
    """Poll for a descendant of root_pid whose /proc/PID/exe basename is
    basename (and pred(pid) if given). Returns pid or raises TestFailure
    listing the descendants that were seen."""
    def look():
        for p in descendants(root_pid):
            if os.path.basename(exe_of(p)) == basename and \
                    (pred is None or pred(p)):
                return p
        return None
    pid = poll_until(look, timeout_s)
    if pid is None:
        tree = describe_tree(root_pid)
        fail("no process with exe basename %r found under server pid %d "
             "within %ss; descendants:\n%s" % (
                 basename, root_pid, timeout_s,
                 "\n".join(tree) if tree else "(none)"))
    return pid


def proc_status(pid):
    """/proc/PID/status as {field: value}."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError as e:
        raise TestFailure("cannot read /proc/%d/status: %s" % (pid, e))
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


# ---------------------------------------------------------------------------
# Users


class User:
    def __init__(self, name, key_path):
        pw = pwd.getpwnam(name)
        self.name = name
        self.uid = pw.pw_uid
        self.gid = pw.pw_gid
        self.home = pw.pw_dir
        self.key = key_path            # private key, owned by root, in ctx dir
        self.pubkey = key_path + ".pub"


# ---------------------------------------------------------------------------
# Client results


class Result:
    def __init__(self, argv, rc, stdout, stderr):
        self.argv = argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    @property
    def out(self):
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self):
        return self.stderr.decode("utf-8", "replace").replace("\r\n", "\n")

    def __repr__(self):
        return "<ssh rc=%s out=%r err=%r>" % (self.rc, self.stdout[:200],
                                              self.err[-500:])


# ---------------------------------------------------------------------------
# Per-test context


BASE_CONFIG = """Port {port}
ListenAddress 127.0.0.1
HostKey {dir}/host_ed25519
PidFile {dir}/posternd.pid
AuthorizedKeysFile .ssh/authorized_keys
LogLevel DEBUG1
StrictModes yes
"""


class Context:
    def __init__(self, suite, name):
        self.suite = suite
        self.name = name
        self.server_path = suite.server
        self.dir = tempfile.mkdtemp(prefix="postern-it-%s-" % name, dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")
        self.config_path = os.path.join(self.dir, "sshd_config")
        self.users = []
        # Sanitizer reports a test caused on purpose and checked itself:
        # (pid) whose "==PID==" lines run.py does not count as a failure.
        self.expected_sanitizer_pids = []
        # Callables run at the end of the test (files outside self.dir).
        self.cleanups = []
        self.children = []        # Popen objects to kill on abort
        self.sockets = []
        self.client_log = []      # (argv summary, rc, stderr tail)
        self._lock = threading.Lock()
        self.aborted = False
        # Seconds spent waiting for a turn at what tests share (take_turn):
        # the runner adds them to the test's time limit.
        self.waited = 0.0
        self._wait_since = None
        self.host_key = os.path.join(self.dir, "host_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hostkey",
             "-f", self.host_key])
        self._hostkey_info = None

    def take_turn(self, acquire, release, what):
        """acquire() a turn at something tests share (/dev/log, the audit
        daemon). The wait does not count against the test's time limit;
        a test timed out meanwhile gives the turn back and fails."""
        with self._lock:
            self._wait_since = time.monotonic()
        try:
            acquire()
        finally:
            with self._lock:
                self.waited += time.monotonic() - self._wait_since
                self._wait_since = None
        if self.aborted:
            # Its cleanups have run already: nothing else would release.
            release()
            fail("aborted while waiting for %s" % what)

    def time_waited(self):
        """Seconds waited so far, the wait going on included."""
        with self._lock:
            w = self.waited
            if self._wait_since is not None:
                w += time.monotonic() - self._wait_since
            return w

    def random_file(self, size=100 * 1024 * 1024):
        """The suite's shared random file of this size: (path, sha256,
        size). Read it, never change it."""
        return self.suite.random_file(size)

    # -- host key --------------------------------------------------------
    def host_key_info(self):
        if self._hostkey_info is None:
            self._hostkey_info = parse_ed25519_private(self.host_key)
        return self._hostkey_info

    # -- server ----------------------------------------------------------
    def write_config(self, extra=()):
        self.port = self.port or free_port()
        text = BASE_CONFIG.format(port=self.port, dir=self.dir)
        for line in extra:
            text += line.rstrip("\n") + "\n"
        with open(self.config_path, "w") as f:
            f.write(text)
        return text

    def start_server(self, extra_config=(), server=None, wait_s=10):
        """Write sshd_config (+ extra lines), start SERVER -D -e -f CONFIG,
        wait until it listens."""
        if server is not None:
            self.server_path = os.path.abspath(server)
        check(os.path.isfile(self.server_path) and
              os.access(self.server_path, os.X_OK),
              "server binary missing or not executable: %s"
              % self.server_path)
        self.write_config(extra_config)
        logf = open(self.log_path, "ab")
        try:
            self.proc = popen_server(
                [self.server_path, "-D", "-e", "-f", self.config_path],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, cwd=self.dir)
        finally:
            logf.close()
        ok = poll_until(lambda: self.proc.poll() is not None or
                        port_listening(self.port), wait_s)
        if self.proc.poll() is not None:
            fail("server exited with status %s before listening on port %d"
                 % (self.proc.returncode, self.port))
        check(ok, "server did not listen on 127.0.0.1:%d within %ss"
              % (self.port, wait_s))

    def launch_server(self, args=(), listen_port=None, wait_s=10, prefix=(),
                      **popen_kw):
        """Start SERVER -D -e -f CONFIG ARGS... with the config file already
        in place (write_config, or written by the test), logging to the
        same server.log; wait until listen_port (default self.port)
        listens. prefix: a wrapper command that execs the rest (setpriv
        ...). popen_kw go to Popen (e.g. user=, group=, env=, cwd=).
        The previous server, if any, must have been stopped."""
        check(self.proc is None or self.proc.poll() is not None,
              "launch_server: the previous server is still running")
        port = listen_port or self.port
        check(port, "launch_server: no port (call write_config first)")
        popen_kw.setdefault("cwd", self.dir)
        argv = list(prefix) + [self.server_path, "-D", "-e", "-f",
                               self.config_path]
        argv += list(args)
        logf = open(self.log_path, "ab")
        try:
            self.proc = popen_server(
                argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                start_new_session=True, **popen_kw)
        finally:
            logf.close()
        ok = poll_until(lambda: self.proc.poll() is not None or
                        port_listening(port), wait_s)
        if self.proc.poll() is not None:
            fail("server %s exited with status %s before listening on port "
                 "%d" % (" ".join(argv), self.proc.returncode, port))
        check(ok, "server %s did not listen on 127.0.0.1:%d within %ss"
              % (" ".join(argv), port, wait_s))

    def etc_overlay(self, setup):
        """From now on the server (launch_server) runs in its own mount
        namespace, where an overlay on /etc takes what the shell command
        setup writes there (run as root just before the server, with the
        environment launch_server is given): the machine's /etc is not
        touched. nsenter -t ctx.proc.pid -m reaches that /etc."""
        upper = os.path.join(self.dir, "etc-upper")
        work = os.path.join(self.dir, "etc-work")
        os.mkdir(upper)
        os.mkdir(work)
        wrapper = os.path.join(self.dir, "etc-overlay-server.sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec unshare -m sh -c '"
                    "mount --make-rprivate / && "
                    "mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,"
                    "workdir=%s /etc && %s && exec \"$0\" \"$@\"' %s \"$@\"\n"
                    % (upper, work, setup.replace("'", "'\\''"),
                       self.server_path))
        os.chmod(wrapper, 0o755)
        self.server_path = wrapper

    def server_alive(self):
        return self.proc is not None and self.proc.poll() is None

    def server_log(self):
        return read_text(self.log_path)

    def wait_log(self, pattern, timeout_s=10):
        """Poll the server log for a regex (MULTILINE); returns the match."""
        rx = re.compile(pattern, re.M)
        m = poll_until(lambda: rx.search(self.server_log()), timeout_s)
        return m

    def stop_server(self):
        p = self.proc
        if p is None:
            return
        # Each connection's monitor leads a process group of its own
        # (setsid, as sshd's): noted now, while the server is their
        # parent, and ended with the server's own group below.
        groups = {p.pid}
        if p.poll() is None:
            for pid in children(p.pid):
                try:
                    groups.add(os.getpgid(pid))
                except OSError:
                    pass
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        # Per-connection children left behind, and their own children.
        for g in groups:
            if g in (os.getpgrp(), 0, 1):
                continue
            try:
                os.killpg(g, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # -- PAM -------------------------------------------------------------
    def pam_service(self, lines):
        """A PAM stack of these lines as /etc/pam.d/postern-test-XXXX,
        removed at the end of the test; its name, for PAMServiceName."""
        name = "postern-test-" + secrets.token_hex(4)
        path = os.path.join("/etc/pam.d", name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.cleanups.append(
            lambda: os.path.exists(path) and os.unlink(path))
        return name

    def pam_exec_recorder(self, name, fields, then=""):
        """A program for pam_exec that appends a line to ctx.dir/NAME.log
        at each call: the values of the variables in fields (PAM_USER,
        PAM_TYPE, ...), separated by blanks; then runs the shell lines
        then; (program, log)."""
        rec = os.path.join(self.dir, name + ".log")
        prog = os.path.join(self.dir, name + ".sh")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\necho \"%s\" >> %s\n%s"
                    % (" ".join("$" + v for v in fields), rec, then))
        os.chmod(prog, 0o755)
        return prog, rec

    # -- users -----------------------------------------------------------
    def make_user(self, with_key=True):
        name = "ptst_" + secrets.token_hex(4)
        with _users_lock:
            # Password "*": no password login, but not a locked account
            # ("!" would make sshd without PAM refuse the user).
            run(["useradd", "-m", "-d", "/home/" + name, "-s", "/bin/bash",
                 "-p", "*", name])
        key = os.path.join(self.dir, "key_" + name)
        user = None
        try:
            user = User(name, key)
        finally:
            if user is None:
                self._userdel(name)
        self.users.append(user)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
             "-f", key])
        if with_key:
            self.authorize(user, key + ".pub")
        return user

    def new_key(self, label="other", passphrase=""):
        key = os.path.join(self.dir, "key_%s_%s" % (label, secrets.token_hex(3)))
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase,
             "-C", label, "-f", key])
        return key

    def authorize(self, user, pubkey_path, options=""):
        sshdir = os.path.join(user.home, ".ssh")
        os.makedirs(sshdir, exist_ok=True)
        os.chown(sshdir, user.uid, user.gid)
        os.chmod(sshdir, 0o700)
        ak = os.path.join(sshdir, "authorized_keys")
        with open(pubkey_path) as f:
            line = f.read().strip()
        if options:
            line = options + " " + line
        with open(ak, "a") as f:
            f.write(line + "\n")
        os.chown(ak, user.uid, user.gid)
        os.chmod(ak, 0o600)

    def _userdel(self, name):
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            return
        # Processes of this test's own user (e.g. a session shell that
        # outlived the server), by pid.
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.stat("/proc/" + d).st_uid == uid:
                        os.kill(int(d), signal.SIGKILL)
                except OSError:
                    pass
        with _users_lock:
            run(["userdel", "-r", "-f", name], check_rc=False)

    # -- clients ---------------------------------------------------------
    def ssh_argv(self, user, command=None, key=None, extra=(), verbose=False,
                 loglevel="ERROR", batch=True):
        argv = ["ssh", "-F", "/dev/null", "-p", str(self.port),
                "-i", key or user.key, "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "BatchMode=" + ("yes" if batch else "no"),
                "-o", "ConnectTimeout=10"]
        argv += list(extra)
        if verbose:
            argv.append("-v")
        else:
            argv += ["-o", "LogLevel=" + loglevel]
        name = user if isinstance(user, str) else user.name
        argv.append(name + "@127.0.0.1")
        if command is not None:
            argv.append(command)
        return argv

    def _note_client(self, argv, rc, stderr):
        s = stderr.decode("utf-8", "replace").replace("\r\n", "\n")
        cmd = argv[-1] if len(argv[-1]) < 80 else argv[-1][:77] + "..."
        with self._lock:
            self.client_log.append(("ssh ... %s" % cmd, rc, tail(s, 15)))

    def ssh(self, user, command, key=None, extra=(), verbose=False,
            input=None, timeout_s=30, stdin=None):
        """Run the OpenSSH client to completion; returns Result."""
        argv = self.ssh_argv(user, command, key=key, extra=extra,
                             verbose=verbose)
        p = self.popen(argv, stdin=stdin if stdin is not None else
                       (subprocess.PIPE if input is not None
                        else subprocess.DEVNULL),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(input, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            self._note_client(argv, "timeout", err)
            fail("ssh timed out after %ss: %s" % (timeout_s, command))
        self._note_client(argv, p.returncode, err)
        return Result(argv, p.returncode, out, err)

    def ssh_ok(self, user, command, expect_out=None, **kw):
        """ssh must exit 0 (and print expect_out if given)."""
        r = self.ssh(user, command, **kw)
        check(r.rc == 0, "ssh %r exited %s, want 0; stderr:\n%s"
              % (command, r.rc, r.err))
        if expect_out is not None:
            check(r.stdout == expect_out, "ssh %r printed %r, want %r"
                  % (command, r.stdout[:300], expect_out))
        return r

    def popen(self, argv, **kw):
        # A stdin of its own, not the runner's: a killed ssh client leaves
        # the one it had non-blocking, which the other tests' programs
        # (ansible) would inherit.
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, **kw)
        with self._lock:
            self.children.append(p)
            if self.aborted:
                p.kill()
        return p

    def raw_connect(self, timeout_s=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout_s)
        with self._lock:
            self.sockets.append(s)
        return s

    # -- teardown --------------------------------------------------------
    def abort(self):
        """Called from the runner thread on a timeout: unblock the test."""
        with self._lock:
            self.aborted = True
            children = list(self.children)
            socks = list(self.sockets)
        for p in children:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.stop_server()

    def diagnostics(self):
        lines = []
        with self._lock:
            clog = list(self.client_log)
        for cmd, rc, errtail in clog[-4:]:
            lines.append("client: %s -> exit %s" % (cmd, rc))
            lines += ["  stderr: " + l for l in errtail]
        lines.append("server: %s (port %s)" % (self.server_path, self.port))
        if self.proc is not None:
            lines.append("server log tail (%s):" % self.log_path)
            lines += ["  " + l for l in tail(self.server_log(), 40)]
        return lines

    def cleanup(self):
        errors = []
        for fn in self.cleanups:
            try:
                fn()
            except Exception as e:
                errors.append("cleanup hook: %s" % e)
        with self._lock:
            children = list(self.children)
            socks = list(self.sockets)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        try:
            self.stop_server()
        except Exception as e:      # keep going: users must be removed
            errors.append("stop_server: %s" % e)
        for p in children:
            if p.poll() is None:
                try:
                    p.kill()
                    p.wait(5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            for f in (p.stdin, p.stdout, p.stderr):
                if f is not None:
                    try:
                        f.close()
                    except OSError:
                        pass
        for u in self.users:
            try:
                self._userdel(u.name)
            except Exception as e:
                errors.append("userdel %s: %s" % (u.name, e))
        if not self.suite.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return errors


# ---------------------------------------------------------------------------
# Raw-socket helpers


def wait_closed(sock, timeout_s):
    """Read and discard until the peer closes (EOF or reset). Returns
    (closed: bool, data received)."""
    deadline = time.monotonic() + timeout_s
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False, data
        sock.settimeout(left)
        try:
            b = sock.recv(65536)
        except socket.timeout:
            return False, data
        except (ConnectionResetError, BrokenPipeError):
            return True, data
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                return True, data
            raise
        if not b:
            return True, data
        data += b


def send_all_tolerant(sock, data):
    """sendall that treats a reset/broken pipe as the server having dropped
    us already (returns False then)."""
    try:
        sock.sendall(data)
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False


def format_exc():
    return traceback.format_exc().rstrip().splitlines()


def fingerprint(pubkey_path):
    """SHA256 fingerprint of a public key file, as sshd logs it."""
    p = run(["ssh-keygen", "-l", "-E", "sha256", "-f", pubkey_path])
    fields = p.stdout.decode().split()
    check(len(fields) >= 2 and fields[1].startswith("SHA256:"),
          "cannot parse ssh-keygen -l output: %r" % p.stdout)
    return fields[1]


def proc_ids(status, field):
    """The four ids of a status "Uid:"/"Gid:" line as ints."""
    v = status.get(field)
    check(v is not None, "no %s: line in status" % field)
    return [int(x) for x in v.split()]
