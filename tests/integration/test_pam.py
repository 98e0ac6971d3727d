"""
test_pam.py: UsePAM yes with real PAM stacks written to /etc/pam.d for the
test (PAMServiceName points at them): the account phase admits or refuses
after authentication, the session phase runs around the session, and the
environment PAM's session modules set reaches the user's commands.
"""

import os
import re
import signal
import subprocess
import time

import harness
from harness import check, fail, find_descendant_by_exe, poll_until



def test_pam_account_and_session(ctx):
    envfile = os.path.join(ctx.dir, "pam_environment")
    with open(envfile, "w") as f:
        f.write("POSTERN_PAM_VAR=set-by-pam-env\n")
    svc = ctx.pam_service([
        "auth required pam_deny.so",
        "account required pam_unix.so",
        "session required pam_env.so readenv=1 envfile=%s" % envfile,
        "session required pam_unix.so"])
    u = ctx.make_user()
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "echo ${POSTERN_PAM_VAR:-unset}")
    check(r.rc == 0 and r.stdout == b"set-by-pam-env\n",
          "publickey login under UsePAM yes should work and carry PAM's "
          "environment: rc %s %r %s" % (r.rc, r.stdout, r.err[-300:]))


def test_pam_account_denied(ctx):
    svc = ctx.pam_service([
        "auth required pam_deny.so",
        "account requisite pam_deny.so",
        "session required pam_unix.so"])
    u = ctx.make_user()
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "PAM's account phase refusing must refuse the login: rc %s %r"
          % (r.rc, r.stdout))
    check(ctx.wait_log(r"Access denied for user %s by PAM account "
                       r"configuration \[preauth\]$" % re.escape(u.name), 5),
          "no 'Access denied for user ... by PAM account configuration' line")
    check(not re.search(r"^Disconnected from user %s " % re.escape(u.name),
                        ctx.server_log(), re.M), "a session was started")


def _session_exec_server(ctx, prog, control="optional"):
    """A server whose PAM stack runs prog (pam_exec, with control) in the
    session phase (publickey logins: auth denies); the user, made."""
    svc = ctx.pam_service(["auth required pam_deny.so",
                           "account required pam_permit.so",
                           "session %s pam_exec.so quiet %s" % (control,
                                                                 prog),
                           "session required pam_permit.so"])
    u = ctx.make_user()
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    return u


def test_pam_session_closed_when_monitor_signalled(ctx):
    """SIGTERM, SIGHUP or SIGINT to a login's monitor (the "sshd: USER
    [priv]" process: `kill` to throw a user off, a service stop) is passed
    on to the session, as sshd's monitor does: the client is disconnected,
    the session's processes end and the monitor still closes the PAM
    session. (The monitor used to die at once: the user stayed logged in
    under init, with no PAM close and no logout record.)"""
    prog, rec = ctx.pam_exec_recorder("pam_session",
                                      ("PAM_TYPE", "PAM_USER"))
    u = _session_exec_server(ctx, prog)
    for n, sig in enumerate((signal.SIGTERM, signal.SIGHUP, signal.SIGINT),
                            1):
        argv = ctx.ssh_argv(u, "echo started; sleep 60", extra=("-tt",))
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(p.stdout.readline().strip() == b"started",
                  "the login did not start")
            mon = find_descendant_by_exe(ctx.proc.pid, "posternd")
            sess = find_descendant_by_exe(ctx.proc.pid, "postern-session")
            os.kill(mon, sig)
            try:
                _out, err = p.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                fail("%s to the monitor: the client is still logged in"
                     % sig.name)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        # (closed by remote host, or its disconnect met the closed socket)
        check(p.returncode == 255,
              "%s: the client should be disconnected: rc %s %r"
              % (sig.name, p.returncode, err[-300:]))
        check(poll_until(lambda: not any(
            os.path.exists("/proc/%d" % q) for q in (mon, sess)), 10),
              "%s: the monitor or the session is still running" % sig.name)
        check(poll_until(lambda: _count(rec, "close_session " + u.name)
                         == n, 10),
              "%s: the PAM session was not closed: %r"
              % (sig.name, open(rec).read()))
        check(ctx.wait_log(r"^Received signal %d; terminating\.$"
                           % sig.value, 5),
              "%s: no 'Received signal %d; terminating.' line from the "
              "session" % (sig.name, sig.value))
    check("terminated by signal" not in ctx.server_log(),
          "a signal passed on was logged as the session's crash")
    check("Disconnected from user" not in ctx.server_log(),
          "a login ended by a signal passed on was logged as 'Disconnected "
          "from user' (sshd logs no such line)")
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n", "the server stopped serving")


def test_monitor_signalled_while_pam_session_opens(ctx):
    """SIGTERM to a login's monitor while PAM's session modules still run
    (pam_mkhomedir, pam_systemd can take seconds; a service stop comes
    then): no session starts, and the monitor still closes the PAM
    session once it is open. Before, the monitor died at once and the
    PAM session stayed open, with no end recorded."""
    release = os.path.join(ctx.dir, "release")
    prog, rec = ctx.pam_exec_recorder(
        "pam_session", ("PAM_TYPE", "PAM_USER"),
        then=("[ \"$PAM_TYPE\" = open_session ] || exit 0\n"
              "i=0\n"
              "while [ ! -e %s ] && [ $i -lt 300 ]; do\n"
              "  sleep 0.1; i=$((i + 1))\n"
              "done\n" % release))
    u = _session_exec_server(ctx, prog)
    p = subprocess.Popen(ctx.ssh_argv(u, "echo started"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        check(poll_until(lambda: _count(rec, "open_session " + u.name) == 1,
                         20), "PAM's session module did not run")
        mon = find_descendant_by_exe(ctx.proc.pid, "posternd")
        os.kill(mon, signal.SIGTERM)
        time.sleep(0.3)
        open(release, "w").close()
        try:
            out, err = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            fail("the client is still connected")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 255 and b"started" not in out,
          "a session started after SIGTERM to the monitor: rc %s %r %r"
          % (p.returncode, out, err[-300:]))
    check(poll_until(lambda: _count(rec, "close_session " + u.name) == 1,
                     10),
          "the PAM session was not closed: %r" % open(rec).read())
    check(poll_until(lambda: not os.path.exists("/proc/%d" % mon), 10),
          "the monitor is still running")
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n", "the server stopped serving")


def _count(path, line):
    try:
        with open(path) as f:
            return sum(1 for l in f if l.strip() == line)
    except OSError:
        return 0


def test_pam_syslog_name_under_e(ctx):
    """posternd -e (the suite's servers, systemd setups logging to the
    journal's stderr): PAM's modules still log to syslog themselves, as
    `sshd: pam_unix(SERVICE:session): ...`, with sshd's name as sshd -e
    gives them, not the tail of the process title (`iv]: ...`)."""
    from test_fail2ban import SyslogReceiver
    svc = ctx.pam_service(["auth required pam_deny.so",
                           "account required pam_unix.so",
                           "session required pam_unix.so"])
    u = ctx.make_user()
    rcv = SyslogReceiver(ctx, os.path.join(ctx.dir, "syslog"))
    want = re.compile(r" sshd: pam_unix\(%s:session\): session opened for "
                      r"user %s" % (re.escape(svc), re.escape(u.name)))
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    # Then -E FILE: the same, as sshd -E names them (no pid: it opens no
    # syslog connection of its own then). Before: "sshd[PID]: ...".
    for how in ("-e", "-E"):
        if how == "-E":
            ctx.stop_server()
            ctx.proc = harness.popen_server(
                [ctx.server_path, "-D", "-E",
                 os.path.join(ctx.dir, "server-E.log"), "-f",
                 ctx.config_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
                cwd=ctx.dir)
            check(poll_until(lambda: harness.port_listening(ctx.port), 10),
                  "posternd -E did not listen")
        n = len(rcv.records)
        r = ctx.ssh(u, "echo ok")
        check(r.rc == 0 and r.stdout == b"ok\n", "login failed (%s): %s"
              % (how, r.err))
        ok = poll_until(lambda: any(want.search(l)
                                    for _f, l in rcv.records[n:]), 5)
        check(ok, "%s: no 'sshd: pam_unix(%s:session): session opened' "
              "record: %r" % (how, svc, [l for _f, l in rcv.records[n:]
                                         if "pam_unix" in l]))
    rcv.close()


def test_pam_close_session_failure_not_logged(ctx):
    """A session module failing pam_close_session (pam_mount's unmount,
    a pam_exec script) is not an error line: sshd's sshpam_cleanup()
    ignores that result, so postern notes it at debug level only.
    (posternd logged `PAM: pam_close_session(): REASON` at error level.)"""
    prog, rec = ctx.pam_exec_recorder(
        "pam_session", ("PAM_TYPE", "PAM_USER"),
        then="[ \"$PAM_TYPE\" = close_session ] && exit 1\nexit 0\n")
    u = _session_exec_server(ctx, prog, control="required")
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n", "login failed: rc %s %r"
          % (r.rc, r.err[-300:]))
    check(poll_until(lambda: _count(rec, "close_session " + u.name) == 1,
                     10), "PAM's session was not closed")
    check(ctx.wait_log(r"^debug1: PAM: pam_close_session\(\): ", 10),
          "no debug line for the failed pam_close_session")
    check(not re.search(r"^(error: )?PAM: pam_close_session",
                        ctx.server_log(), re.M),
          "a failed pam_close_session was logged above debug level")
