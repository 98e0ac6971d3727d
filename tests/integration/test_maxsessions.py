"""
test_maxsessions.py: MaxSessions limits the session channels of one
connection, as sshd_config(5) says. The OpenSSH client's connection
multiplexing (ControlMaster) opens each extra session as a channel on
the same connection.
"""

import os
import socket
import subprocess
import time

import harness
from harness import check


def test_max_sessions(ctx):
    u = ctx.make_user()
    ctx.start_server(extra_config=["MaxSessions 2"])
    ctl = os.path.join(ctx.dir, "ctl")
    master = ctx.popen(ctx.ssh_argv(u, None, extra=(
        "-o", "ControlMaster=yes", "-o", "ControlPath=" + ctl, "-N")),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    check(harness.poll_until(lambda: os.path.exists(ctl), 10),
          "the control master did not start")

    def via_master(cmd, stdin=subprocess.DEVNULL):
        argv = ["ssh", "-F", "/dev/null", "-o", "ControlPath=" + ctl,
                "-o", "ControlMaster=no", "%s@127.0.0.1" % u.name, cmd]
        return ctx.popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)

    # Each program says it started, then runs until the test releases
    # it: the test knows when both slots are taken and when they free,
    # without guessing how long a start takes (an ASan build is slow).
    release = os.path.join(u.home, "release")
    hold = ("echo started; while [ ! -e %s ]; do sleep 0.1; done"
            % release)
    first = via_master(hold)
    second = via_master(hold)
    for p in (first, second):
        check(p.stdout.readline() == b"started\n",
              "an allowed session did not start")
    third = via_master("echo third")
    out, err = third.communicate(timeout=20)
    check(third.returncode != 0 and out == b"",
          "a third session beyond MaxSessions 2 was opened: rc %s %r"
          % (third.returncode, out))
    for p in (first, second):
        check(p.poll() is None, "an allowed session ended early")
        p.kill()
        p.communicate()
    # As sshd: the clients went, their channels closed, but the programs
    # still run (no terminal: not hung up), and each holds its slot.
    time.sleep(0.5)
    fourth = via_master("echo fourth")
    out, err = fourth.communicate(timeout=20)
    check(fourth.returncode != 0 and out == b"" and
          b"Session open refused by peer" in err,
          "a session opened while the closed sessions' programs ran: rc %s "
          "%r %r" % (fourth.returncode, out, err[-200:]))
    # Once they exit, the slots are free again.
    open(release, "w").close()
    got = {}

    def fifth_opens():
        fifth = via_master("echo fifth")
        got["out"], got["err"] = fifth.communicate(timeout=20)
        got["rc"] = fifth.returncode
        return fifth.returncode == 0 and got["out"] == b"fifth\n"
    check(harness.poll_until(fifth_opens, 15, 0.5),
          "after the sessions' programs exited a new one should open: rc "
          "%s %r %r" % (got.get("rc"), got.get("out"),
                        got.get("err", b"")[-200:]))
    master.kill()
    master.communicate()


def test_max_sessions_zero_forwarding_only(ctx):
    """MaxSessions 0 (in a Match block, as a tunnel-only account has it):
    no command, no sftp, no shell, as sshd ("no more sessions"), while a
    -L forward still works (sshd_config(5): "0 prevents all shell, login
    and subsystem sessions while still permitting forwarding")."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["Match User %s" % u.name,
                                   "\tMaxSessions 0"])
    r = ctx.ssh(u, "echo ran")
    check(r.rc == 255 and r.stdout == b"",
          "a command ran with MaxSessions 0: rc %s %r" % (r.rc, r.stdout))
    check(ctx.wait_log(r"^(?:error: )?no more sessions$", 5),
          "the server log lacks sshd's 'no more sessions'")
    r = ctx.ssh(u, "sftp", extra=("-s",))
    check(r.rc == 255, "the sftp subsystem opened with MaxSessions 0: rc %s"
          % r.rc)
    # Forwarding still goes: -L to a listener of ours, through the server.
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    lport = harness.free_port()
    fwd = ctx.popen(ctx.ssh_argv(u, None, extra=(
        "-N", "-o", "ExitOnForwardFailure=yes", "-L",
        "%d:127.0.0.1:%d" % (lport, srv.getsockname()[1]))),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        check(harness.poll_until(lambda: harness.port_listening(lport), 10),
              "the -L forward did not start")
        c = socket.create_connection(("127.0.0.1", lport), timeout=10)
        srv.settimeout(10)
        a, _ = srv.accept()
        c.sendall(b"through")
        got = a.recv(100)
        check(got == b"through", "the forward carried %r" % got)
        a.close()
        c.close()
    finally:
        fwd.kill()
        fwd.communicate()
        srv.close()
