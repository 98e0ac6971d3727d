"""
test_proctitle.py: every postern process that logs is named "sshd" (its
comm, which the journal records as _COMM and Debian's fail2ban matches)
and titled as OpenSSH titles its processes, so that ps, pgrep and admins
recognise them: the listener "sshd: CMDLINE [listener] N of B-M
startups", a connection's monitor "sshd: [accepted]" then "sshd: USER
[priv]", the preauth process "sshd: [net]", the session "sshd:
USER@notty" (USER@pts/N... with terminals, USER@internal-sftp while
only sftp runs). Processes are found by /proc/PID/exe, which stays the
binary.
"""

import os
import re
import subprocess

from harness import (check, descendants, exe_of, find_descendant_by_exe,
                     poll_until)


def _comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().rstrip("\n")


def _title(pid):
    """What ps shows: the command line up to its padding."""
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        raw = f.read()
    return raw.split(b"\0", 1)[0].decode(errors="replace")


def _wait_comm(pid, what, timeout_s=10):
    """A process just found may not have named itself yet."""
    check(poll_until(lambda: _comm(pid) == "sshd", timeout_s),
          "%s (pid %d) comm is %r, want 'sshd'" % (what, pid, _comm(pid)))


def _wait_title(pid, want, timeout_s=10):
    rx = re.compile(want)
    got = poll_until(lambda: rx.fullmatch(_title(pid)), timeout_s)
    check(got, "process %d (%s) is titled %r, want %r"
          % (pid, exe_of(pid), _title(pid), want))


def _monitor_of(ctx, pred=None):
    return find_descendant_by_exe(ctx.proc.pid, "posternd", pred=pred)


def test_process_names_and_titles(ctx):
    ctx.start_server()
    server = ctx.server_path
    listener = ctx.proc.pid
    _wait_comm(listener, "listener")
    startups = r"sshd: %s -D -e -f %s \[listener\] %%d of 10-100 startups" % (
        re.escape(server), re.escape(ctx.config_path))
    _wait_title(listener, startups % 0)

    # An unauthenticated connection: its monitor and preauth process.
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-OpenSSH_9.2p1 title-test\r\n")
    mon = _monitor_of(ctx)
    pre = find_descendant_by_exe(mon, "postern-preauth")
    _wait_comm(mon, "monitor")
    _wait_comm(pre, "preauth")
    _wait_title(mon, r"sshd: \[accepted\]")
    _wait_title(pre, r"sshd: \[net\]")
    _wait_title(listener, startups % 1)
    s.close()
    check(poll_until(lambda: mon not in descendants(listener), 10),
          "the monitor of a closed connection did not exit")
    _wait_title(listener, startups % 0)

    # A session: the monitor names the user, the session process too.
    u = ctx.make_user()
    p = ctx.popen(ctx.ssh_argv(u, "cat"), stdin=subprocess.PIPE,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        sess = find_descendant_by_exe(listener, "postern-session")
        mon = _monitor_of(ctx, pred=lambda pid: sess in descendants(pid))
        _wait_comm(sess, "session")
        _wait_comm(mon, "monitor")
        _wait_title(mon, r"sshd: %s \[priv\]" % re.escape(u.name))
        _wait_title(sess, r"sshd: %s@notty" % re.escape(u.name))
        # The exe is still the helper binary (tests find processes by it).
        check(os.path.basename(exe_of(sess)) == "postern-session",
              "session exe is %s" % exe_of(sess))
    finally:
        p.communicate(b"", timeout=10)
    check(p.returncode == 0, "ssh ... cat exited %s" % p.returncode)


def test_session_title_follows_channels(ctx):
    """The session process is titled as sshd 9.2 titles its session
    processes, as channels come and go on one connection (ControlMaster):
    "USER@notty", then "USER@pts/N,pts/M" with the terminals of the open
    sessions (sshd's list), then "USER@internal-sftp" while only sftp
    runs (sshd's child for it has that title; postern serves it in the
    session process), and "USER@notty" again once all have ended."""
    ctx.start_server(extra_config=["Subsystem sftp internal-sftp"])
    u = ctx.make_user()
    name = re.escape(u.name)
    path = os.path.join(ctx.dir, "cm-title")
    mux = ["-o", "ControlPath=" + path]
    master = ctx.popen(ctx.ssh_argv(u, None, extra=mux + [
        "-N", "-o", "ControlMaster=yes"]), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    kids = []

    def start(command, extra):
        p = ctx.popen(ctx.ssh_argv(u, command, extra=mux + extra),
                      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL)
        kids.append(p)
        return p

    def end(p, data):
        p.stdin.write(data)
        p.stdin.close()
        check(p.wait(timeout=30) == 0, "a session exited %s" % p.returncode)

    try:
        check(poll_until(lambda: os.path.exists(path), 20),
              "the ControlMaster connection did not come up")
        sess = find_descendant_by_exe(ctx.proc.pid, "postern-session")
        _wait_title(sess, r"sshd: %s@notty" % name)
        a = start("head -n 1", ["-tt"])
        _wait_title(sess, r"sshd: %s@pts/\d+" % name)
        b = start("head -n 1", ["-tt"])
        _wait_title(sess, r"sshd: %s@pts/\d+,pts/\d+" % name)
        sftp = start("sftp", ["-s"])
        end(a, b"x\n")
        _wait_title(sess, r"sshd: %s@pts/\d+" % name)
        end(b, b"x\n")
        _wait_title(sess, r"sshd: %s@internal-sftp" % name)
        end(sftp, b"")
        _wait_title(sess, r"sshd: %s@notty" % name)
    finally:
        for p in kids + [master]:
            if p.poll() is None:
                p.kill()
                p.wait()
