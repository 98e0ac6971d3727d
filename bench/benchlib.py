"""benchlib.py: shared pieces of `make bench`.

Every benchmark runs the same workload against postern (build/posternd) and
OpenSSH's /usr/sbin/sshd on the same machine, with the same host key, user,
client and settings, alternating runs, and prints figures side by side with
their ratio (postern / OpenSSH). Nothing here passes or fails: `make bench`
prints numbers; targets are read off by people.

Server CPU is read from the listener's /proc/PID/stat: utime+stime of the
listener plus cutime+cstime, which the kernel adds when a reaped child (and,
recursively, everything that child reaped) exits. Both daemons reap their
per-connection processes, so after a connection has ended the delta covers
every process that served it. OpenSSH's per-connection monitor exits
without waiting for its session child, which would then be reparented to
init and its CPU lost: both daemons are started as child subreapers
(PR_SET_CHILD_SUBREAPER, kept across exec), so orphans come back to the
listener, which reaps them.
"""

import ctypes
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", "build")
POSTERND = os.path.join(TOP, BUILD, "posternd")
OPENSSH = "/usr/sbin/sshd"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Per run: benches started from several worktrees must not share (and
# delete) each other's user.
USER = "pbench%d" % os.getpid()


def log(msg):
    print(msg, flush=True)


def run(argv, **kw):
    kw.setdefault("check", True)
    return subprocess.run(argv, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout_s=10):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit("bench: nothing listens on port %d" % port)


PR_SET_CHILD_SUBREAPER = 36


def _subreaper():
    """preexec_fn: make the daemon about to be exec'd a child subreaper."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


class Server:
    def __init__(self, kind, proc, port, config):
        self.kind, self.proc, self.port, self.config = kind, proc, port, config

    def cpu(self):
        """Seconds of CPU used by the listener and everything it reaped."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is state (field 3); utime..cstime are fields 14..17.
        return sum(int(x) for x in fields[11:15]) / CLK_TCK

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _exit_on_signal(signum, frame):
    raise SystemExit("bench: stopped by signal %d" % signum)


class Bench:
    """A bench user with a key, a host key, and servers started on demand.
    Use as a context manager; everything is removed on exit."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="postern-bench-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.servers = []
        self.hostkey = os.path.join(self.dir, "host_ed25519")
        self.key = os.path.join(self.dir, "id_ed25519")

    def __enter__(self):
        if os.geteuid() != 0:
            raise SystemExit("make bench must run as root")
        # A bench stopped with kill or a closed terminal still stops its
        # servers and removes its user and files (__exit__ runs on
        # SystemExit, not on a signal's default action).
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _exit_on_signal)
        if not os.path.exists(POSTERND):
            raise SystemExit("bench: %s missing; run make first" % POSTERND)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
             self.hostkey])
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key])
        try:
            pwd.getpwnam(USER)
        except KeyError:
            run(["useradd", "-m", "-s", "/bin/bash", "-p", "*", USER])
        pw = pwd.getpwnam(USER)
        self.home = pw.pw_dir
        ssh = os.path.join(self.home, ".ssh")
        os.makedirs(ssh, exist_ok=True)
        shutil.copy(self.key + ".pub", os.path.join(ssh, "authorized_keys"))
        for p in (ssh, os.path.join(ssh, "authorized_keys")):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        os.chmod(ssh, 0o700)
        try:
            pwd.getpwnam("postern")
        except KeyError:
            run(["useradd", "--system", "--no-create-home", "--home-dir",
                 "/nonexistent", "--shell", "/usr/sbin/nologin", "postern"])
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        return self

    def __exit__(self, *exc):
        for s in self.servers:
            s.stop()
        run(["userdel", "-r", "-f", USER], check=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def start(self, kind, extra=()):
        """Start 'postern' or 'openssh' with the shared base config plus
        extra lines; returns a Server, or None when OpenSSH's sshd is not
        installed."""
        exe = POSTERND if kind == "postern" else OPENSSH
        if not os.path.exists(exe):
            return None
        port = free_port()
        cfg = os.path.join(self.dir, "%s_%d.conf" % (kind, port))
        with open(cfg, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
                    "PidFile %s/%s_%d.pid\nAuthorizedKeysFile "
                    ".ssh/authorized_keys\nUsePAM no\nLogLevel ERROR\n"
                    "MaxStartups 200\nMaxSessions 200\n"
                    % (port, self.hostkey, self.dir, kind, port))
            for line in extra:
                f.write(line.rstrip("\n") + "\n")
        logf = open(os.path.join(self.dir, "%s_%d.log" % (kind, port)), "wb")
        proc = subprocess.Popen([exe, "-D", "-e", "-f", cfg],
                                stdout=logf, stderr=logf,
                                preexec_fn=_subreaper)
        logf.close()
        wait_port(port)
        s = Server(kind, proc, port, cfg)
        self.servers.append(s)
        return s

    def ssh_argv(self, server, command, opts=()):
        argv = ["ssh", "-F", "/dev/null", "-p", str(server.port),
                "-i", self.key, "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]
        for o in opts:
            argv += ["-o", o]
        argv.append(USER + "@127.0.0.1")
        if command is not None:
            argv.append(command)
        return argv


def ratio(a, b):
    if not a or not b:
        return "   n/a"
    return "%6.2f" % (a / b)


def table(title, header, rows):
    """Print rows of (label, postern value, openssh value, unit)."""
    log("")
    log("== " + title)
    log("%-44s %12s %12s %8s" % (header, "postern", "openssh", "ratio"))
    for label, p, o, unit in rows:
        fp = "%12.1f" % p if p is not None else "%12s" % "-"
        fo = "%12.1f" % o if o is not None else "%12s" % "-"
        log("%-44s %s %s %s  %s" % (label, fp, fo, ratio(p, o), unit))


def median(xs):
    return statistics.median(xs) if xs else None
