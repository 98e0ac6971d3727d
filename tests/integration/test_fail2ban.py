"""
test_fail2ban.py: posternd's log lines against Debian fail2ban's own sshd
filter (/etc/fail2ban/filter.d/sshd.conf) in each of its modes, normal,
ddos and aggressive, through fail2ban-regex: a scripted run of good and
bad logins (key accepted, wrong key, invalid user, DenyUsers, MaxAuthTries
exceeded, a garbage banner, no common cipher) must give exactly the
failures the filter is written to find in OpenSSH's lines: every failure
line matched, and nothing else (no success line).

The lines come the way fail2ban reads them in production: posternd runs
without -e, so it logs with syslog(3) (ident sshd, LOG_PID, facility
AUTH); the suite owns /dev/log (this test alone while it runs: a
SyslogReceiver) and writes each datagram as rsyslog's
traditional file format does (timestamp and "sshd[PID]:" from
posternd itself, the host name added). OpenSSH's -E file would not do:
it holds bare lines, without the timestamp and PID fail2ban needs.
"""

import ast
import atexit
import fcntl
import os
import re
import socket
import stat
import subprocess
import threading

import harness
from harness import (check, fail, poll_until, port_listening, run,
                     send_all_tolerant, timeout, wait_closed)

MODES = ("normal", "ddos", "aggressive")
LOG_AUTH = 4  # syslog facility

ADDR = r"127\.0\.0\.1"
PORT = r" port \d+"
# What the filter counts as a failure (its [Definition] and the mode
# sections' comments), by the message after "sshd[PID]: ".
FAIL_ALWAYS = [
    r"Invalid user \S+ from %s%s" % (ADDR, PORT),
    r"Failed publickey for invalid user \S+ from %s%s ssh2: .*" % (ADDR,
                                                                  PORT),
    r"Failed (?!publickey)\S+ for .* from %s%s ssh2.*" % (ADDR, PORT),
    r"(?:error: )?maximum authentication attempts exceeded for .* from %s"
    r"%s ssh2 \[preauth\]" % (ADDR, PORT),
    r"User \S+ from %s not allowed because .*" % ADDR,
    r"ROOT LOGIN REFUSED FROM %s%s" % (ADDR, PORT),
]
FAIL_DDOS = [
    r"(?:Connection closed|Connection reset|Disconnected) (?:by|from) "
    r"(?:(?:authenticating|invalid) user \S+ )?%s%s \[preauth\]" % (ADDR,
                                                                    PORT),
    r"banner exchange: Connection from %s%s: invalid format" % (ADDR, PORT),
    r"(?:error: )?kex_exchange_identification: client sent invalid "
    r"protocol identifier .*",
]
FAIL_AGGRESSIVE = [
    r"Unable to negotiate with %s%s: no matching \S+ found\..*" % (ADDR,
                                                                 PORT),
    r"Received disconnect from %s%s:14: No (?:supported )?authentication "
    r"methods available.*" % (ADDR, PORT),
]
# Lines of a good login: fail2ban must never count them.
SUCCESS = [
    r"Accepted publickey for \S+ from %s%s ssh2: .*" % (ADDR, PORT),
    r"Accepted key .* found at .*",
    r"Postponed publickey for .*",
    r"Starting session: .*",
    r"Received disconnect from %s%s:11: .*" % (ADDR, PORT),
    r"Disconnected from user \S+ %s%s" % (ADDR, PORT),
]


def _expected(msg, mode):
    groups = FAIL_ALWAYS
    if mode != "normal":
        groups = groups + FAIL_DDOS
    if mode == "aggressive":
        groups = groups + FAIL_AGGRESSIVE
    return any(re.fullmatch(rx, msg) for rx in groups)


def _stale_devlog():
    """/dev/log as a run killed before its cleanup left it: a socket that
    nobody reads is unmounted (a receiver's, over our empty file) or
    removed (an older suite's). A syslog daemon's socket is kept, and so
    is the empty file. Called holding the devlog-mp lock."""
    try:
        st = os.lstat("/dev/log")  # a symlink (journald's) is kept
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect("/dev/log")
    except ConnectionRefusedError:
        if os.path.ismount("/dev/log"):
            subprocess.run(["umount", "-l", "/dev/log"], capture_output=True,
                           timeout=30)
        else:
            os.unlink("/dev/log")
    except OSError:
        pass
    finally:
        probe.close()


class _FairLock:
    """A lock given in the order it was asked for: a test that takes
    /dev/log many times over (test_log_parity's groups) cannot keep
    another waiting past its time limit (threading.Lock is not fair)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.next_ticket = 0
        self.serving = 0

    def acquire(self):
        with self.cond:
            ticket = self.next_ticket
            self.next_ticket += 1
            while self.serving != ticket:
                self.cond.wait()

    def release(self):
        with self.cond:
            self.serving += 1
            self.cond.notify_all()


class _MountPoint:
    """/dev/log as a mount point: an empty file while the suite runs,
    under which each receiver's socket is bind-mounted (the shared
    receiver's in the machine's mount namespace, a private one's in its
    servers' own). A file that a receiver's socket replaced and unlinked
    would take every mount on it away (the private ones' too). Suites
    of other checkouts may use it at the same time: each holds a shared
    flock while it does, and the last one out removes the file."""

    PATH = "/dev/log"
    USERS = "/run/lock/postern-test-devlog-users.lock"

    def __init__(self):
        self.lock = threading.Lock()
        self.fd = None

    def ensure(self):
        with self.lock:
            if self.fd is not None:
                return
            with harness.HostLock("devlog-mp"):
                fd = os.open(self.USERS, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_SH)
                try:
                    _stale_devlog()
                    if not os.path.lexists(self.PATH):
                        with open(self.PATH, "w"):
                            pass
                        os.chmod(self.PATH, 0o644)
                except BaseException:
                    os.close(fd)
                    raise
                self.fd = fd
            atexit.register(self.release)

    def is_placeholder(self):
        st = os.lstat(self.PATH)
        return stat.S_ISREG(st.st_mode) and st.st_size == 0

    def release(self):
        with self.lock:
            if self.fd is None:
                return
            with harness.HostLock("devlog-mp"):
                os.close(self.fd)
                self.fd = None
                fd = os.open(self.USERS, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return  # another suite still uses it
                finally:
                    os.close(fd)
                try:
                    if (self.is_placeholder() and
                            not os.path.ismount(self.PATH)):
                        os.unlink(self.PATH)
                except FileNotFoundError:
                    pass


_MOUNT_POINT = _MountPoint()


class _Listener:
    """A datagram socket at path, its messages kept as rsyslog writes them
    ("Mmm dd hh:mm:ss HOST TAG[PID]: msg") in records and in a file."""

    RX = re.compile(r"<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)$", re.S)

    def __init__(self, path, out_path):
        self.rlock = threading.Lock()    # records and file
        self.records = []                # (facility, line) since bound
        self.host = socket.gethostname().split(".")[0]
        self.path = path
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(path)
            # The session process logs as the user.
            os.chmod(path, 0o666)
            self.file = open(out_path, "w")
        except BaseException:
            sock.close()
            raise
        sock.settimeout(0.2)
        self.sock, self.stop = sock, False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def close(self):
        """Not holding rlock: the loop may be waiting for it."""
        self.stop = True
        self.t.join(5)
        self.sock.close()
        with self.rlock:
            self.file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def _loop(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            m = self.RX.match(data.decode("utf-8", "replace"))
            if m is None:
                line = "UNPARSED " + data.decode("utf-8", "replace")
                fac = -1
            else:
                fac = int(m.group(1)) >> 3
                line = "%s %s %s" % (m.group(2), self.host,
                                     m.group(3).rstrip("\n"))
            with self.rlock:
                self.records.append((fac, line))
                self.file.write(line + "\n")
                self.file.flush()


def _mount(sock_path):
    p = subprocess.run(["mount", "--bind", sock_path, _MountPoint.PATH],
                       capture_output=True, timeout=30)
    check(p.returncode == 0, "mount --bind %s /dev/log: %s" % (
        sock_path, p.stderr.decode(errors="replace")))


class _DevLog:
    """/dev/log of the machine's mount namespace, for the suite: one
    receiver at a time (the tests that need it take turns), its socket
    bind-mounted there while it listens."""

    def __init__(self):
        self.turn = _FairLock()          # held by the receiver listening
        self.listener = None
        self.lock = None

    def join(self, rcv):
        """Wait for /dev/log, mount a socket there, and copy its lines to
        rcv.path."""
        self.turn.acquire()
        try:
            self._bind(rcv)
        except BaseException:
            self.turn.release()
            raise

    def leave(self):
        self._unbind()
        self.turn.release()

    def _bind(self, rcv):
        # Suites running side by side (other checkouts) take turns.
        _MOUNT_POINT.ensure()
        self.lock = harness.HostLock("devlog")
        self.lock.__enter__()
        try:
            if not _MOUNT_POINT.is_placeholder():
                fail("/dev/log exists: a syslog daemon runs here; this "
                     "test needs to own /dev/log for its run")
            sock = os.path.join(os.path.dirname(os.path.abspath(rcv.path)),
                                "devlog-%d.sock" % id(rcv))
            self.listener = _Listener(sock, rcv.path)
            try:
                _mount(sock)
            except BaseException:
                self.listener.close()
                self.listener = None
                raise
        except BaseException:
            self.lock.__exit__(None, None, None)
            raise

    def _unbind(self):
        subprocess.run(["umount", _MountPoint.PATH], capture_output=True,
                       timeout=30)
        self.listener.close()
        self.lock.__exit__(None, None, None)


_DEVLOG = _DevLog()


class SyslogReceiver:
    """What reaches /dev/log from now until close(), also written to path.

    Shared (the default): /dev/log of the machine, one receiver at a time
    (others wait): no other test's server logs there meanwhile (the
    suite's servers log with -e), but another test's PAM modules may.
    private=True: a socket of its own, which only servers started with
    prefix() in front of their command line see as /dev/log (a mount
    namespace of their own): no turn to wait for, and no other test's
    lines."""

    def __init__(self, ctx, path, private=False):
        self.path = path
        self.closed = False
        self.kept = None
        self.private = None
        if private:
            _MOUNT_POINT.ensure()
            self.private = _Listener(os.path.join(ctx.dir, "devlog-%d.sock"
                                                  % id(self)), path)
        else:
            ctx.take_turn(lambda: _DEVLOG.join(self), _DEVLOG.leave,
                          "/dev/log")
        ctx.cleanups.append(self.close)

    def prefix(self):
        """A private receiver's: the command line's start that runs a
        program with this receiver's socket as its /dev/log."""
        check(self.private is not None, "prefix() of a shared receiver")
        return ["unshare", "--mount", "--propagation", "private", "--",
                "/bin/sh", "-c", 'mount --bind "$0" /dev/log && exec "$@"',
                self.private.path]

    def _listener(self):
        return self.private or _DEVLOG.listener

    @property
    def records(self):
        """(facility, line) of each message since this receiver began
        (until close(): the next receiver's are not ours)."""
        if self.kept is not None:
            return list(self.kept)
        lis = self._listener()
        with lis.rlock:
            return list(lis.records)

    def close(self):
        # Once: called again (the test's cleanups).
        if self.closed:
            return
        self.closed = True
        lis = self._listener()
        with lis.rlock:
            self.kept = list(lis.records)
        if self.private is not None:
            self.private.close()
        else:
            _DEVLOG.leave()

    def lines(self):
        return [l for _f, l in self.records]

    def wait(self, pattern, timeout_s=30):
        rx = re.compile(pattern)
        return poll_until(lambda: any(rx.search(l) for l in self.lines()),
                          timeout_s)


def _message(line):
    """The text after "sshd[PID]: " of one of our lines."""
    m = re.match(r"\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ sshd\[\d+\]: (.*)$",
                 line)
    return m.group(1) if m else None


def _failures(log, mode, whole=False):
    """The lines fail2ban-regex counts as failures with sshd[mode=MODE],
    sorted: --out matches prints each failure's lines (the lines before it
    from the same PID that the filter used, then the failing line). Their
    messages, or with whole the lines as they are in log."""
    p = run(["fail2ban-regex", "--out", "matches", log,
             "sshd[mode=%s]" % mode], timeout_s=120, check_rc=False)
    check(p.returncode == 0, "fail2ban-regex (mode %s) exited %d:\n%s"
          % (mode, p.returncode, p.stderr.decode(errors="replace")))
    got = []
    for row in p.stdout.decode(errors="replace").splitlines():
        if not row.strip():
            continue
        matches = ast.literal_eval(row)
        line = "".join(matches[-1][1:]).strip()
        got.append(line if whole else _message(line) or line)
    return sorted(got)


def _start_syslog_server(ctx, extra):
    """posternd -D -f CONFIG without -e: it logs to syslog."""
    ctx.write_config(extra)
    with open(ctx.config_path) as f:
        text = f.read()
    # fail2ban's documentation asks for VERBOSE ("Connection from").
    with open(ctx.config_path, "w") as f:
        f.write(text.replace("LogLevel DEBUG1", "LogLevel VERBOSE"))
    logf = open(ctx.log_path, "ab")
    try:
        ctx.proc = subprocess.Popen(
            [ctx.server_path, "-D", "-f", ctx.config_path],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            start_new_session=True, cwd=ctx.dir)
    finally:
        logf.close()
    check(poll_until(lambda: ctx.proc.poll() is not None or
                     port_listening(ctx.port), 10) and ctx.proc.poll() is None,
          "server did not start:\n%s" % ctx.server_log())


@timeout(180)
def test_fail2ban_sshd_filter(ctx):
    check(os.path.exists("/etc/fail2ban/filter.d/sshd.conf"),
          "Debian's fail2ban is not installed (package fail2ban)")
    rcv = SyslogReceiver(ctx, os.path.join(ctx.dir, "syslog"))
    auth_log = os.path.join(ctx.dir, "auth.log")
    good = ctx.make_user()
    denied = ctx.make_user()
    _start_syslog_server(ctx, ["MaxAuthTries 3",
                               "DenyUsers %s" % denied.name])
    check(rcv.wait(r"sshd\[%d\]: Server listening on 127\.0\.0\.1 port %d\.$"
                   % (ctx.proc.pid, ctx.port)),
          "no 'Server listening' line arrived through /dev/log")
    wrong = [ctx.new_key("wrong%d" % i) for i in range(4)]

    # Key accepted.
    ctx.ssh_ok(good, "echo ok", expect_out=b"ok\n")
    # A wrong key for a valid user.
    check(ctx.ssh(good, "true", key=wrong[0]).rc == 255, "wrong key admitted")
    # An invalid user.
    check(ctx.ssh("nosuch_%s" % good.name[5:], "true", key=wrong[0]).rc ==
          255, "invalid user admitted")
    # DenyUsers.
    check(ctx.ssh(denied, "true").rc == 255, "DenyUsers user admitted")
    # MaxAuthTries 3 exceeded with four wrong keys offered.
    extra = []
    for k in wrong:
        extra += ["-i", k]
    check(ctx.ssh(good, "true", key=wrong[0], extra=extra).rc == 255,
          "MaxAuthTries: a wrong key admitted")
    # A garbage banner.
    s = ctx.raw_connect()
    send_all_tolerant(s, b"GET / HTTP/1.0\r\n\r\n")
    wait_closed(s, 10)
    s.close()
    # No cipher in common.
    check(ctx.ssh(good, "true", extra=["-o", "Ciphers=aes128-cbc"]).rc == 255,
          "a login without a common cipher succeeded")

    for rx in (r"Accepted publickey for %s " % good.name,
               r"Failed publickey for %s from " % good.name,
               r"Invalid user nosuch_",
               r"User %s from 127\.0\.0\.1 not allowed because listed in "
               r"DenyUsers" % denied.name,
               r"maximum authentication attempts exceeded for %s " % good.name,
               r"banner exchange: Connection from 127\.0\.0\.1 port \d+: "
               r"invalid format",
               r"Unable to negotiate with 127\.0\.0\.1 port \d+: no matching "
               r"cipher found"):
        check(rcv.wait(rx), "the scripted run did not log %r:\n%s"
              % (rx, "\n".join(rcv.lines()[-40:])))
    # Let the last connections' closing lines arrive, then stop.
    check(rcv.wait(r"Connection closed by 127\.0\.0\.1 port \d+ \[preauth\]|"
                   r"Unable to negotiate"), "connections did not end")
    ctx.stop_server()
    check(rcv.wait(r"Received signal 15; terminating\.$"),
          "the listener's last line did not arrive")
    rcv.close()

    # Only this server's lines: /dev/log also gets those of every other
    # program (useradd, servers of tests running alongside). Ours are the
    # listener's, each monitor's (its first line names our port) and the
    # session processes' (they name a client port of ours).
    ours, pids, ports = [], {ctx.proc.pid}, set()
    for fac, line in rcv.records:
        m = re.match(r".*? sshd\[(\d+)\]: Connection from 127\.0\.0\.1 "
                     r"port (\d+) on 127\.0\.0\.1 port %d " % ctx.port, line)
        if m:
            pids.add(int(m.group(1)))
            ports.add(m.group(2))
    for fac, line in rcv.records:
        m = re.match(r".*? sshd\[(\d+)\]: ", line)
        if m is None:
            continue
        if int(m.group(1)) in pids or any(
                re.search(r" port %s\b" % p, line) for p in ports):
            check(fac == LOG_AUTH, "not logged with facility AUTH: %s" % line)
            ours.append(line)
    with open(auth_log, "w") as f:
        f.write("".join(l + "\n" for l in ours))
    msgs = [_message(l) for l in ours]

    for mode in MODES:
        got = _failures(auth_log, mode)
        want = sorted(m for m in msgs if _expected(m, mode))
        missed = [m for m in want if m not in got]
        extra_ = [m for m in got if m not in want]
        if missed or extra_:
            fail("mode %s: fail2ban's sshd filter\n  did not count as "
                 "failures:\n    %s\n  counted as failures lines it should "
                 "not:\n    %s\nlog:\n%s" % (
                     mode, "\n    ".join(missed) or "(none)",
                     "\n    ".join(extra_) or "(none)", "\n".join(ours)))
        for m in got:
            check(not any(re.fullmatch(rx, m) for rx in SUCCESS),
                  "mode %s: a success line counted as a failure: %s"
                  % (mode, m))
        ips = run(["fail2ban-regex", "--out", "ip", auth_log,
                   "sshd[mode=%s]" % mode], timeout_s=120).stdout.decode()
        check(set(ips.split()) == {"127.0.0.1"},
              "mode %s: failures attributed to %r" % (mode, set(ips.split())))
