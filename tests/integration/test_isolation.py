"""
test_isolation.py: what the processes of a real login inherit, read from
/proc while the login runs: descriptors, environment and working
directory of postern-preauth, postern-session and the user's command
(docs/security.md). posternd runs as under systemd: -D without -e, its
stderr a log it writes as itself, its environment root's.
"""

import os
import secrets
import shutil
import signal
import stat
import subprocess

import harness
from harness import check, fail, poll_until
from test_foundation import hold_session

# In root's environment only: no process running for a user may see it.
ROOT_ONLY = "POSTERN_ROOT_ONLY_VAR"


def _launch_no_e(ctx, env=None):
    """posternd -D -f CONFIG (no -e): logs go to syslog; stdout and stderr
    are ctx.log_path, as the journal's stream is under systemd."""
    logf = open(ctx.log_path, "ab")
    try:
        ctx.proc = ctx.popen(
            [ctx.server_path, "-D", "-f", ctx.config_path],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            start_new_session=True, cwd=ctx.dir, env=env)
    finally:
        logf.close()
    ok = poll_until(lambda: ctx.proc.poll() is not None or
                    harness.port_listening(ctx.port), 10)
    check(ctx.proc.poll() is None, "posternd exited with status %s"
          % ctx.proc.returncode)
    check(ok, "posternd did not listen on port %d" % ctx.port)


def _fds(pid):
    """{fd: target} of a live process."""
    d = "/proc/%d/fd" % pid
    out = {}
    for fd in os.listdir(d):
        try:
            out[int(fd)] = os.readlink(os.path.join(d, fd))
        except OSError:
            pass
    return out


def _environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return [e.decode("utf-8", "replace")
                for e in f.read().split(b"\0") if e]


def _limits(pid):
    """{"Max open files": (soft, hard), ...} from /proc/PID/limits."""
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in f.readlines()[1:]:
            name, soft, hard = line[:26].strip(), line[26:47], line[47:68]
            out[name] = (soft.strip(), hard.strip())
    return out


def _find_child(parent, basename):
    def look():
        for p in harness.descendants(parent):
            if os.path.basename(harness.exe_of(p)) == basename:
                return p
        return None
    pid = poll_until(look, 10)
    check(pid is not None, "no %s under pid %d:\n%s" % (
        basename, parent, "\n".join(harness.describe_tree(parent))))
    return pid


def test_isolation_fds_and_env(ctx):
    """Without -e, neither preauth nor the session (nor the user's command)
    holds posternd's stderr: a session process taken over by its user
    must not write lines into the daemon's log as posternd. preauth holds
    /dev/null, the client socket and its IPC socket, nothing else, and
    may create no descriptor; no process that runs for the user sees
    root's environment."""
    ctx.write_config(["UsePAM yes"])
    env = dict(os.environ)
    env[ROOT_ONLY] = "root-secret"
    env.pop("TZ", None)
    _launch_no_e(ctx, env=env)
    server = ctx.proc.pid
    log_target = os.path.realpath(ctx.log_path)
    check(_fds(server).get(2) == log_target,
          "posternd's own stderr is %r, want the log %r (test set-up)"
          % (_fds(server).get(2), log_target))

    # preauth, after the client's identification string.
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-isolation\r\n")
    pre = harness.find_descendant_by_exe(server, "postern-preauth")
    # Confined once the filter is on (the last step, after the limits).
    check(poll_until(lambda: harness.proc_status(pre).get("Seccomp") ==
                     "2", 10), "postern-preauth (pid %d) never confined"
          % pre)
    fds = _fds(pre)
    what = "postern-preauth (pid %d)" % pre
    check(sorted(fds) == [0, 1, 2, 3, 4], "%s descriptors %r, want 0-4"
          % (what, fds))
    # Sanitizer builds keep the helpers' stderr for reports: preauth's is
    # a pipe the monitor copies to the log (RLIMIT_FSIZE 0 lets preauth
    # write no file), the session's the log itself.
    sanitizer = harness.sanitizer_build(ctx.server_path)
    null2 = "/dev/null" if not sanitizer else log_target
    for fd, want in ((0, "/dev/null"), (1, "/dev/null"),
                     (2, "pipe:" if sanitizer else "/dev/null")):
        check(fds[fd] == want or (want == "pipe:" and
                                  fds[fd].startswith(want)),
              "%s fd %d is %r, want %s" % (what, fd, fds[fd], want))
    for fd in (3, 4):
        check(fds[fd].startswith("socket:"), "%s fd %d is %r, want a "
              "socket" % (what, fd, fds[fd]))
    check(_environ(pre) == [], "%s environment %r, want none"
          % (what, _environ(pre)))
    # No descriptor, file or process may be created (sshd's limits).
    lim = _limits(pre)
    for name in ("Max open files", "Max processes", "Max file size"):
        want = ("1", "1") if name == "Max open files" else ("0", "0")
        check(lim.get(name) == want, "%s %s %r, want %r"
              % (what, name, lim.get(name), want))
    s.close()

    # The session and the user's command.
    u = ctx.make_user()

    def inspect():
        sess = harness.find_descendant_by_exe(server, "postern-session")
        what = "postern-session (pid %d)" % sess
        fds = _fds(sess)
        check(fds.get(2) == null2,
              "%s stderr is %r, want %s (posternd runs without -e)"
              % (what, fds.get(2), null2))
        leaked = {fd: t for fd, t in fds.items()
                  if t == log_target and fd != 2}
        check(not leaked, "%s holds posternd's log: %r" % (what, leaked))
        # Of its monitor's descriptors (PAM's, syslog's, audit's, the
        # other IPC ends) it shares only the client socket (and, by name,
        # /dev/null).
        mon = harness.proc_table()[sess][0]
        shared = set(fds.values()) & set(_fds(mon).values()) - \
            {"/dev/null", null2}
        check(shared == {fds[3]}, "%s shares with its monitor (pid %d): "
              "%r, want only the client socket %r"
              % (what, mon, shared, fds[3]))
        check(_environ(sess) == [], "%s environment %r, want none"
              % (what, _environ(sess)))
        cmd = _find_child(sess, "bash")
        what = "the user's command (pid %d)" % cmd
        # Until its exec is done: the dynamic loader holds the libraries
        # it maps open for a moment (libc.so.6 on 3).
        poll_until(lambda: sorted(_fds(cmd)) == [0, 1, 2], 10)
        fds = _fds(cmd)
        check(sorted(fds) == [0, 1, 2], "%s descriptors %r, want 0-2"
              % (what, fds))
        for fd, t in fds.items():
            check(t.startswith("pipe:"), "%s fd %d is %r, want a pipe"
                  % (what, fd, t))
        cenv = _environ(cmd)
        check(not [e for e in cenv if e.startswith(ROOT_ONLY + "=")],
              "%s sees root's environment: %r" % (what, cenv))
    hold_session(ctx, u, inspect)


def test_isolation_pam_programs_get_no_client_socket(ctx):
    """What a PAM module runs as root for a login (pam_motd's
    /etc/update-motd.d scripts, through system()) inherits none of the
    monitor's sockets, as under sshd. Before, the client's connection
    (fd 3) was not close-on-exec: such a script got it, and a job it
    left running held the connection open after the session ended."""
    u = ctx.make_user()
    tag = secrets.token_hex(4)
    out = "/run/postern-it-motd-%s.txt" % tag
    script = "/etc/update-motd.d/99-postern-it-%s" % tag
    # Every login with pam_motd runs it (other tests' too): it records
    # only under a process whose title names this test's user (the
    # monitor's "sshd: USER [priv]").
    with open(script, "w") as f:
        f.write("#!/bin/sh\np=$$\n"
                "while [ \"$p\" -gt 1 ]; do\n"
                "  if tr '\\0' ' ' < /proc/$p/cmdline | grep -q %s; then\n"
                "    ls -l /proc/$$/fd > %s 2>&1; exit 0\n"
                "  fi\n"
                "  p=$(awk '/^PPid:/ {print $2}' /proc/$p/status)\n"
                "done\n" % (u.name, out))
    os.chmod(script, 0o755)
    ctx.cleanups.append(lambda: os.unlink(script))
    ctx.cleanups.append(lambda: os.path.exists(out) and os.unlink(out))
    svc = ctx.pam_service(["auth required pam_deny.so",
                           "account required pam_permit.so",
                           "session optional pam_motd.so",
                           "session required pam_permit.so"])
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    ctx.ssh_ok(u, "true")
    check(poll_until(lambda: os.path.exists(out), 5),
          "pam_motd did not run the update-motd.d script")
    with open(out) as f:
        fds = f.read()
    check("socket:" not in fds,
          "a program PAM ran for the login holds a socket:\n%s" % fds)


def test_isolation_preauth_crash_reported(ctx):
    """preauth dies of SIGSEGV (sent by the test, as root). A normal
    build: the monitor logs the crash. A sanitizer build (make asan):
    the sanitizer's report reaches the log whole, so that a memory error
    in preauth fails the suite. Before, preauth's stderr was the log
    file, which its RLIMIT_FSIZE of 0 let it not write: the report died
    of SIGXFSZ, and the seccomp filter killed it first (its TCGETS)."""
    ctx.start_server()
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-crash\r\n")
    pre = harness.find_descendant_by_exe(ctx.proc.pid, "postern-preauth")
    check(poll_until(lambda: harness.proc_status(pre).get("Seccomp") ==
                     "2", 10), "postern-preauth (pid %d) never confined"
          % pre)
    os.kill(pre, signal.SIGSEGV)
    if harness.sanitizer_build(ctx.server_path):
        ctx.expected_sanitizer_pids.append(pre)
        check(ctx.wait_log(r"^==%d==ERROR: AddressSanitizer: SEGV on "
                           r"unknown address" % pre, 15) and
              ctx.wait_log(r"^==%d==ABORTING$" % pre, 15),
              "no whole AddressSanitizer report of preauth (pid %d) in "
              "the log" % pre)
        check(not ctx.wait_log(r"preauth process %d (killed by the "
                               r"sandbox|terminated by signal)" % pre, 1),
              "preauth (pid %d) died before its report was out" % pre)
    else:
        check(ctx.wait_log(r"preauth process %d terminated by signal %d$"
                           % (pre, signal.SIGSEGV), 15),
              "the monitor did not log preauth's crash")
    s.close()


def test_isolation_tz_passed_on(ctx):
    """As sshd: posternd's TZ reaches the user's environment, and nothing
    else of root's environment does."""
    ctx.write_config()
    env = dict(os.environ, TZ="Europe/Paris")
    env[ROOT_ONLY] = "root-secret"
    ctx.launch_server(env=env)
    u = ctx.make_user()
    r = ctx.ssh_ok(u, "env")
    lines = r.stdout.decode("utf-8", "replace").splitlines()
    check("TZ=Europe/Paris" in lines, "TZ not passed on: %r" % lines)
    check(not [x for x in lines if x.startswith(ROOT_ONLY + "=")],
          "root's environment reached the user: %r" % lines)


def test_isolation_sftp_no_home_starts_in_root(ctx):
    """A user whose home directory is gone: internal-sftp starts in /, as
    with sshd, never in the directory posternd -D was started from (here
    the test directory, which holds the host key)."""
    u = ctx.make_user()
    keys = os.path.join(ctx.dir, "keys")
    os.mkdir(keys, 0o755)
    shutil.copy(u.pubkey, os.path.join(keys, u.name))
    os.chmod(os.path.join(keys, u.name), 0o644)
    ctx.write_config(["Subsystem sftp internal-sftp", "UsePAM no",
                      "Match User %s" % u.name,
                      "\tAuthorizedKeysFile %s/%%u" % keys])
    # The keys sit under /tmp, which StrictModes would refuse.
    with open(ctx.config_path) as f:
        conf = f.read().replace("StrictModes yes", "StrictModes no")
    with open(ctx.config_path, "w") as f:
        f.write(conf)
    ctx.launch_server()
    shutil.rmtree(u.home)
    check(stat.S_ISDIR(os.stat(ctx.dir).st_mode), "test directory gone")
    argv = ["sftp", "-F", "/dev/null", "-i", u.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-P", str(ctx.port), "-b", "-", "%s@127.0.0.1" % u.name]
    p = ctx.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(b"pwd\n", timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("sftp timed out")
    ctx._note_client(argv, p.returncode, err)
    check(p.returncode == 0, "sftp: exit %s %r" % (p.returncode, err[-300:]))
    check(b"Remote working directory: /\n" in out,
          "sftp without a home did not start in /: %r" % out)


PROBE = """
import ctypes, os
p = os.getppid()
with open("/proc/%d/cmdline" % p, "rb") as f:
    print(f.read().split(b"\\0")[0].decode().rstrip())
for what, fn in (("environ", lambda: open("/proc/%d/environ" % p, "rb")),
                 ("mem", lambda: open("/proc/%d/mem" % p, "rb")),
                 ("fd", lambda: os.listdir("/proc/%d/fd" % p))):
    try:
        fn()
        print("readable", what)
    except OSError as e:
        print("refused", what, e.errno)
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, p, 0, 0)  # PTRACE_ATTACH
print("attach", r, ctypes.get_errno())
if r == 0:  # let it go on, as it was
    os.waitpid(p, 0x40000000)  # __WALL: the stop the attach caused
    libc.ptrace(17, p, 0, 0)  # PTRACE_DETACH
"""


def test_isolation_session_not_traceable_by_user(ctx):
    """The session process runs as the user but holds the session keys
    and the monitor's descriptor: the user's own program cannot read its
    memory, environment or descriptors, nor attach to it (as with sshd,
    whose session process is not dumpable either)."""
    ctx.start_server()
    u = ctx.make_user()
    path = os.path.join(u.home, "probe.py")
    with open(path, "w") as f:
        f.write(PROBE)
    os.chown(path, u.uid, u.gid)
    r = ctx.ssh_ok(u, "exec /usr/bin/python3 probe.py")
    lines = r.stdout.decode("utf-8", "replace").splitlines()
    check(lines and lines[0] == "sshd: %s@notty" % u.name,
          "the program's parent is not the session process: %r" % lines)
    for what in ("environ", "mem", "fd"):
        check("refused %s 13" % what in lines,
              "the user's access to the session's %s: %r, want EACCES"
              % (what, lines))
    check("attach -1 1" in lines, "PTRACE_ATTACH by the user: %r, want "
          "-1 EPERM" % lines)
