"""
test_service.py: posternd under a service manager. The commands of
packaging/systemd/postern.service are run as systemd runs them (binary and
config file swapped for the test's; $SSHD_OPTS split into words; $MAINPID
substituted), with a notify socket bound the way systemd binds its own:
Type=notify needs READY=1 from the main process once it listens, and
again after a reload (as Debian's sshd sends), or systemd would kill the
service at start. KillMode=process leaves open connections running when
the service stops.
"""

import os
import shlex
import signal
import socket
import struct
import subprocess

import harness
from harness import check, timeout

UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "packaging", "systemd", "postern.service")


def _service_section():
    """{key: [values]} of the unit's [Service] section."""
    out, section = {}, None
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]":
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def _argv(ctx, command, env):
    """A unit command line as systemd runs it, on the test's binary and
    config file."""
    words = []
    for w in shlex.split(command):
        if w.startswith("$") and w[1:] in env:
            words += env[w[1:]].split()  # systemd: $VAR is split into words
        elif w == "/usr/sbin/posternd":
            words.append(ctx.server_path)
        else:
            words.append(w)
    if words[0] == ctx.server_path and "-f" not in words:
        words += ["-f", ctx.config_path]
    return words


def _run_each(ctx, svc, key, env):
    """The unit's KEY commands in order, each of which must succeed."""
    for cmd in svc[key]:
        r = subprocess.run(_argv(ctx, cmd, env), capture_output=True,
                           timeout=30)
        check(r.returncode == 0, "%s %s: exit %d %r"
              % (key, cmd, r.returncode, r.stderr))


def _notify_socket(ctx):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(ctx.dir, "notify")
    s.bind(path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.settimeout(20)
    ctx.sockets.append(s)
    return s, path


def _next_state(sock):
    """(pid of the sender, text) of the next datagram."""
    msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    return pid, msg.decode(errors="replace")


@timeout(120)
def test_systemd_unit_notify_reload_killmode(ctx):
    svc = _service_section()
    check(svc.get("Type") == ["notify"], "Type: %r" % svc.get("Type"))
    check(svc.get("KillMode") == ["process"],
          "KillMode: %r" % svc.get("KillMode"))
    u = ctx.make_user()
    ctx.write_config()
    env = {"SSHD_OPTS": "-e"}
    _run_each(ctx, svc, "ExecStartPre", env)
    sock, path = _notify_socket(ctx)
    (start,) = svc["ExecStart"]
    logf = open(ctx.log_path, "ab")
    try:
        ctx.proc = subprocess.Popen(
            _argv(ctx, start, env), stdin=subprocess.DEVNULL, stdout=logf,
            stderr=logf, start_new_session=True, cwd=ctx.dir,
            env=dict(os.environ, NOTIFY_SOCKET=path))
    finally:
        logf.close()
    main = ctx.proc.pid
    pid, state = _next_state(sock)
    check(state == "READY=1" and pid == main,
          "first notification %r from pid %s (main %d)" % (state, pid, main))
    check(harness.port_listening(ctx.port),
          "READY=1 came before the server listened")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")

    # systemctl reload: each ExecReload in turn, $MAINPID the main pid.
    env["MAINPID"] = str(main)
    _run_each(ctx, svc, "ExecReload", env)
    pid, state = _next_state(sock)
    check(state == "READY=1" and pid == main,
          "after reload: %r from pid %s (main %d)" % (state, pid, main))
    check(ctx.wait_log(r"^Received SIGHUP; restarting\.$", 10),
          "the reload did not restart the listener")
    check(harness.poll_until(
        lambda: ctx.ssh(u, "echo again").stdout == b"again\n", 20),
        "no login after the reload")

    # systemctl stop with KillMode=process: SIGTERM to the main process
    # only; a connection already open carries on.
    idle = ctx.popen(ctx.ssh_argv(u, "read x; echo still here"),
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    check(harness.poll_until(
        lambda: ctx.server_log().count("Accepted publickey for %s " % u.name)
        >= 3, 10), "the open session did not log in")
    os.kill(main, signal.SIGTERM)
    ctx.proc.wait(10)
    check(not harness.port_listening(ctx.port),
          "the listener still listens after SIGTERM")
    out, _ = idle.communicate(b"\n", timeout=30)
    check(idle.returncode == 0 and out == b"still here\n",
          "the open session did not survive the stop: rc %s %r"
          % (idle.returncode, out))
    # The per-connection processes never notify: only the main pid did.
    sock.settimeout(0.5)
    try:
        pid, state = _next_state(sock)
        check(False, "an unexpected notification %r from pid %s"
              % (state, pid))
    except socket.timeout:
        pass
