"""
test_service.py: posternd under a service manager. The commands of
packaging/systemd/postern.service are run as systemd runs them (binary and
config file swapped for the test's; $SSHD_OPTS split into words; $MAINPID
substituted), with a notify socket bound the way systemd binds its own:
Type=notify needs READY=1 from the main process once it listens, and
again after a reload (as Debian's sshd sends), or systemd would kill the
service at start. KillMode=process leaves open connections running when
the service stops. Socket activation as Debian 12's ssh.socket
(postern.socket, Accept=no): systemd holds the listening socket and starts
postern.service with it as descriptor 3 (LISTEN_PID, LISTEN_FDS), which
posternd serves instead of its Port, across a reload too. Inetd mode
(posternd -i with the connection as standard input and output, and
standard error too, as inetd or systemd's Accept=yes give it) serves each
connection, and nothing of posternd's standard descriptors reaches the
client.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import check, timeout

UNITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "packaging", "systemd")


def _section(unit, name="Service"):
    """{key: [values]} of a section of packaging/systemd/UNIT."""
    out, section = {}, None
    with open(os.path.join(UNITS, unit)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
            elif section == "[%s]" % name:
                k, v = line.split("=", 1)
                out.setdefault(k, []).append(v)
    return out


def _argv(ctx, command, env):
    """A unit command line as systemd runs it, on the test's binary and
    config file."""
    words = []
    # A leading "-": the exit status is not a failure (not ours to run).
    for w in shlex.split(command.lstrip("-")):
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
    svc = _section("postern.service")
    check(svc.get("Type") == ["notify"], "Type: %r" % svc.get("Type"))
    check(svc.get("KillMode") == ["process"],
          "KillMode: %r" % svc.get("KillMode"))
    # As Debian's ssh.service: `systemctl reload sshd` reaches it.
    check(_section("postern.service", "Install").get("Alias") ==
          ["sshd.service"], "no Alias=sshd.service")
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


def _fd_targets(pid):
    out = []
    for n in (0, 1, 2):
        try:
            out.append(os.readlink("/proc/%d/fd/%d" % (pid, n)))
        except OSError:
            out.append(None)
    return out


def _listening(ctx, dual_stack=False):
    """The socket systemd (or inetd) listens on at ctx.port: 127.0.0.1,
    or [::] taking IPv4 too (ListenStream=22's kind)."""
    if dual_stack:
        lsock = socket.socket(socket.AF_INET6)
        lsock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    else:
        lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("::" if dual_stack else "127.0.0.1", ctx.port))
    lsock.listen(16)
    ctx.sockets.append(lsock)
    return lsock


def _activated(ctx, lsock, argv, fds="1", pid="$$"):
    """argv started as systemd starts a socket-activated service: the
    listening socket on descriptor 3, LISTEN_FDS and LISTEN_PID (the
    service's own pid; sh's $$ is it once sh execs the server)."""
    wrapper = ["sh", "-c", 'LISTEN_PID=%s LISTEN_FDS=%s exec "$@"'
               % (pid, fds), "sh"] + argv

    def on_3():
        os.dup2(lsock.fileno(), 3)  # (a no-op when it is 3 already)
        os.set_inheritable(3, True)
    logf = open(ctx.log_path, "ab")
    try:
        return subprocess.Popen(
            wrapper, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            start_new_session=True, cwd=ctx.dir, close_fds=False,
            preexec_fn=on_3)
    finally:
        logf.close()


@timeout(120)
def test_socket_activation_listen_fds(ctx):
    sock_unit = _section("postern.socket", "Socket")
    check(sock_unit.get("Accept") == ["no"] and
          sock_unit.get("ListenStream") == ["22"],
          "postern.socket is not Debian 12's ssh.socket: %r" % sock_unit)
    svc = _section("postern.service")
    (start,) = svc["ExecStart"]
    u = ctx.make_user()
    ctx.write_config()
    # The config's Port is ctx.port, held by "systemd": binding it would
    # fail; -p moves what posternd would bind to a port it must not.
    other = harness.free_port()
    argv = _argv(ctx, start, {"SSHD_OPTS": "-e -p %d" % other})
    lsock = _listening(ctx)
    listening = (r"^Server listening on 127\.0\.0\.1 port %d "
                 r"\(socket activation\)\.$" % ctx.port)

    ctx.proc = _activated(ctx, lsock, argv)
    check(ctx.wait_log(listening, 15),
          "posternd did not take the activated socket")
    ctx.ssh_ok(u, "echo one", expect_out=b"one\n")
    check(not harness.port_listening(other),
          "posternd bound its Port beside the activated socket")
    check("Bind to port" not in ctx.server_log(),
          "posternd tried to bind: %r" % ctx.server_log()[-500:])
    r = ctx.ssh(u, "env")
    check(r.rc == 0 and b"LISTEN_" not in r.stdout,
          "the session sees the activation: %r" % r.stdout)

    # systemctl reload: the restarted listener serves the same socket.
    os.kill(ctx.proc.pid, signal.SIGHUP)
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2, 15),
        "the restarted listener did not take the activated socket")
    ctx.ssh_ok(u, "echo two", expect_out=b"two\n")

    # systemctl stop: the socket stays systemd's; the next start (on the
    # next connection) takes it again.
    ctx.proc.send_signal(signal.SIGTERM)
    check(ctx.proc.wait(15) == 0, "SIGTERM: exit %s" % ctx.proc.returncode)
    ctx.proc = _activated(ctx, lsock, argv)
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 3, 15),
        "a second start did not take the activated socket")
    ctx.ssh_ok(u, "echo three", expect_out=b"three\n")
    ctx.proc.send_signal(signal.SIGTERM)
    ctx.proc.wait(15)

    # A LISTEN_PID of another process: not ours, Port is bound.
    ctx.proc = _activated(ctx, lsock, argv, pid="1")
    check(harness.poll_until(lambda: harness.port_listening(other), 15),
          "LISTEN_PID of another process: Port not bound")
    ctx.proc.send_signal(signal.SIGTERM)
    ctx.proc.wait(15)

    # A broken activation environment is refused in words.
    for fds, words in (("x", "Invalid systemd socket activation "
                              "environment"),
                       ("2", "descriptor 4 is not a stream socket")):
        p = _activated(ctx, lsock, argv, fds=fds)
        check(p.wait(15) != 0, "LISTEN_FDS=%s: posternd served" % fds)
        check(words in ctx.server_log(),
              "LISTEN_FDS=%s: no %r in the log" % (fds, words))


@timeout(120)
def test_socket_activation_dual_stack_names_ipv4_plainly(ctx):
    """systemd's ListenStream=22 is a dual-stack socket: IPv4 clients
    arrive as ::ffff:A.B.C.D. The listener names them as plain IPv4, as
    sshd and the monitor do: in its timeout line, and for
    PerSourcePenaltyExemptList, whose IPv4 entry then exempts them (they
    were penalised, and the next connection refused)."""
    u = ctx.make_user()
    # Long enough for the login below on a slow (ASan) build.
    ctx.write_config(["LoginGraceTime 6",
                      "PerSourcePenalties grace-exceeded:30s min:1s",
                      "PerSourcePenaltyExemptList 127.0.0.1"])
    lsock = _listening(ctx, dual_stack=True)
    ctx.proc = _activated(ctx, lsock, [ctx.server_path, "-D", "-e", "-f",
                                       ctx.config_path])
    check(ctx.wait_log(r"^Server listening on :: port %d \(socket "
                       r"activation\)\.$" % ctx.port, 15),
          "posternd did not take the dual-stack socket")
    stall = socket.create_connection(("127.0.0.1", ctx.port), 10)
    ctx.sockets.append(stall)
    stall.sendall(b"SSH-2.0-staller\r\n")
    check(ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.1 "
                       r"port %d$" % stall.getsockname()[1], 30),
          "no timeout line naming 127.0.0.1")
    ctx.ssh_ok(u, "echo in", expect_out=b"in\n")
    check("::ffff:" not in ctx.server_log(),
          "a mapped address in the log:\n%s" % harness.tail(
              ctx.server_log()))


@timeout(120)
def test_inetd_mode_stream_socket(ctx):
    u = ctx.make_user()
    ctx.write_config()
    argv = [ctx.server_path, "-i", "-E", ctx.log_path, "-g", "10",
            "-f", ctx.config_path]
    # inetd's side (or systemd's Accept=yes): listen, accept, one process
    # per connection with the connection as standard input, output and
    # error.
    lsock = _listening(ctx)
    served = []

    def activate():
        while True:
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            served.append(subprocess.Popen(
                argv, stdin=conn, stdout=conn, stderr=conn,
                start_new_session=True, cwd=ctx.dir))
            conn.close()

    threading.Thread(target=activate, daemon=True).start()
    try:
        ctx.ssh_ok(u, "echo one", expect_out=b"one\n")
        ctx.ssh_ok(u, "echo two", expect_out=b"two\n")
        check(len(served) == 2 and
              harness.poll_until(lambda: all(
                  p.poll() is not None for p in served), 10),
              "per-connection processes did not end with their "
              "connections")
        check(all(p.returncode == 0 for p in served),
              "exit statuses %r" % [p.returncode for p in served])

        # While a session is open: no process of it holds the connection
        # on a standard descriptor.
        idle = ctx.popen(ctx.ssh_argv(u, "read x; echo done"),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        check(harness.poll_until(
            lambda: ctx.server_log().count(
                "Accepted publickey for %s " % u.name) >= 3, 15),
            "the third login did not happen")
        top = served[2].pid

        def session_pids():
            return [top] + [int(x) for x in subprocess.run(
                ["pgrep", "-s", str(top)], capture_output=True,
                text=True).stdout.split() if int(x) != top]
        # "Accepted" comes before the session process starts: wait for it.
        harness.poll_until(lambda: len(session_pids()) >= 3, 15, 0.1)
        pids = session_pids()
        check(len(pids) >= 3, "the connection's processes: %r" % pids)
        # (With -E, the session process logs into that file on its
        # stderr, as sshd's children do: that is not the connection.)
        for pid in pids:
            fds = _fd_targets(pid)
            check(all(t in (None, "/dev/null") for t in fds[:2]) and
                  fds[2] in (None, "/dev/null", ctx.log_path),
                  "process %d has standard descriptors %r" % (pid, fds))
        out, _ = idle.communicate(b"\n", timeout=30)
        check(out == b"done\n", "the open session: %r" % out)

        # LoginGraceTime (-g 10): the process that started the monitor
        # logs the timeout, as the listener does.
        stall = socket.create_connection(("127.0.0.1", ctx.port), 10)
        ctx.sockets.append(stall)
        stall.sendall(b"SSH-2.0-stall\r\n")
        check(ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.1 "
                           r"port %d$" % stall.getsockname()[1], 30),
              "no timeout line for a stalled connection in inetd mode")
        check(harness.poll_until(lambda: served[3].poll() is not None, 10),
              "the stalled connection's process did not end")
    finally:
        lsock.close()
        for p in served:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait(10)

    # Standard input that is a socket but no stream (a pipe pair is
    # served: test_inetd_pipe.py): refused in words.
    dgram, other = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ctx.sockets += [dgram, other]
    r = subprocess.run(argv, stdin=dgram, capture_output=True, timeout=30)
    check(r.returncode != 0, "posternd -i ran with a datagram socket")
    check(ctx.wait_log(r"inetd mode \(-i\): standard input is not a "
                       r"stream socket", 10),
          "no clear refusal for a datagram socket")


def test_connection_in_its_own_session(ctx):
    """As sshd, each connection's process starts a session of its own
    (setsid): a ^C or hangup that reaches the listener's process group
    (posternd -D in a terminal) ends the listener, not the logins."""
    u = ctx.make_user()
    ctx.start_server()
    p = ctx.popen(ctx.ssh_argv(u, "sleep 3; echo alive"),
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    kids = []

    def sid(k):
        try:
            return os.getsid(k)
        except OSError:
            return None

    # Until each is in a session of its own: a child seen just after
    # fork() has not called setsid() yet.
    def own_sessions():
        kids[:] = harness.children(ctx.proc.pid)
        return kids and all(sid(k) == k for k in kids)
    check(harness.poll_until(own_sessions, 10),
          "no connection process, or it is in the listener's session: "
          "sid %r" % [(k, sid(k)) for k in kids])
    os.killpg(ctx.proc.pid, signal.SIGINT)
    out, err = p.communicate(timeout=30)
    check(p.returncode == 0 and out == b"alive\n",
          "^C to the listener's group ended a login: rc %s %r %r"
          % (p.returncode, out, err[-300:]))
    check(harness.poll_until(lambda: ctx.proc.poll() is not None, 10),
          "the listener did not end on SIGINT")


def test_sigint_ignored_at_start_stays_ignored(ctx):
    """posternd started with SIGINT ignored (a shell's background job,
    nohup): as sshd, which leaves SIGINT alone, it stays ignored, also
    after a SIGHUP restart; the listener serves on. (With SIGINT at its
    default, test_connection_in_its_own_session ends the listener.)"""
    u = ctx.make_user()
    ctx.write_config()
    ctx.launch_server(prefix=["/bin/sh", "-c", "trap '' INT; exec \"$@\"",
                              "sh"])
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    for round_ in ("first start", "after a SIGHUP restart"):
        if round_ != "first start":
            ctx.proc.send_signal(signal.SIGHUP)
            check(harness.poll_until(
                lambda: len(re.findall(listening, ctx.server_log(),
                                       re.M)) >= 2 and
                harness.port_listening(ctx.port), 10),
                "the listener did not restart")
        ctx.proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        check(ctx.proc.poll() is None, "%s: the listener ended on SIGINT "
              "(exit %s)" % (round_, ctx.proc.returncode))
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    check("Received signal 2" not in ctx.server_log(),
          "SIGINT was caught:\n%s" % harness.tail(ctx.server_log()))


def test_log_pipe_reader_gone_keeps_serving(ctx):
    """posternd -D -e logging into a pipe whose reader went (a log
    collector that was restarted): as sshd, which ignores SIGPIPE, the
    logins go on. Before, each connection's monitor died of SIGPIPE at
    its first log line, and every login failed."""
    u = ctx.make_user()
    ctx.write_config()
    r, w = os.pipe()
    try:
        ctx.proc = harness.popen_server(
            [ctx.server_path, "-D", "-e", "-f", ctx.config_path],
            stdin=subprocess.DEVNULL, stdout=w, stderr=w,
            start_new_session=True, cwd=ctx.dir)
    finally:
        os.close(w)
    try:
        check(harness.poll_until(lambda: ctx.proc.poll() is not None or
                                 harness.port_listening(ctx.port), 10)
              and ctx.proc.poll() is None, "posternd did not listen")
    finally:
        os.close(r)
    for i in range(2):
        res = ctx.ssh(u, "echo ok")
        check(res.rc == 0 and res.stdout == b"ok\n",
              "login %d with the log pipe's reader gone: rc %s %r"
              % (i + 1, res.rc, res.err[-300:]))
    check(ctx.server_alive(), "the listener died")


def test_started_with_std_descriptors_closed(ctx):
    """As sshd's sanitise_stdfd(): started with standard input, output and
    error closed (a careless init script), posternd still serves; before,
    its log file and listening socket took numbers 0..2 and daemon(3)
    replaced them with /dev/null, leaving it deaf."""
    u = ctx.make_user()
    ctx.write_config()
    log = os.path.join(ctx.dir, "closed-fds.log")
    pidfile = os.path.join(ctx.dir, "closed-fds.pid")
    cmd = "exec %s -f %s -E %s -o PidFile=%s <&- >&- 2>&-" % (
        shlex.quote(ctx.server_path), shlex.quote(ctx.config_path),
        shlex.quote(log), shlex.quote(pidfile))
    subprocess.run(["sh", "-c", cmd], timeout=30, check=True)
    # Until it holds a whole number: the file is created, then written.
    def pid_written():
        try:
            with open(pidfile) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None
    pid = harness.poll_until(pid_written, 10)
    check(pid, "posternd wrote no PID file")
    ctx.cleanups.append(lambda: _kill_quietly(pid))
    check(harness.poll_until(lambda: harness.port_listening(ctx.port), 10),
          "nothing listens on port %d" % ctx.port)
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "a login to posternd started with 0..2 closed: rc %s %r"
          % (r.rc, r.err[-300:]))


def _kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass


def test_upgrade_serves_with_the_new_binary(ctx):
    """As sshd re-executes its argv[0]: once the program file is replaced
    (an upgrade installs by rename), each new connection's monitor and a
    SIGHUP restart run the new file, not the replaced one the running
    listener still holds (/proc/self/exe)."""
    u = ctx.make_user()
    server = harness.copy_server(ctx.server_path, os.path.join(ctx.dir, "bin"))
    ctx.server_path = server
    ctx.start_server()
    r = ctx.ssh(u, "echo before")
    check(r.rc == 0 and r.stdout == b"before\n", "login: rc %s" % r.rc)
    # The "new version": a wrapper noting each start, then the program.
    real = server + ".real"
    shutil.copyfile(server, real)
    os.chmod(real, 0o755)
    marks = os.path.join(ctx.dir, "starts.log")
    new = server + ".new"
    with open(new, "w") as f:
        f.write('#!/bin/sh\necho "$*" >> %s\nexec %s "$@"\n'
                % (shlex.quote(marks), shlex.quote(real)))
    os.chmod(new, 0o755)
    os.rename(new, server)
    r = ctx.ssh(u, "echo after")
    check(r.rc == 0 and r.stdout == b"after\n", "login after: rc %s" % r.rc)
    check(os.path.exists(marks) and "-R" in open(marks).read().split(),
          "the connection's monitor did not run the new file")
    pid = ctx.proc.pid
    os.kill(pid, signal.SIGHUP)
    check(harness.poll_until(
        lambda: len(open(marks).read().splitlines()) >= 2 and
        harness.port_listening(ctx.port), 10),
        "the restart did not run the new file: %r" % open(marks).read())
    r = ctx.ssh(u, "echo restarted")
    check(r.rc == 0 and r.stdout == b"restarted\n",
          "login after the restart: rc %s" % r.rc)
