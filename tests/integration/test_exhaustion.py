"""
test_exhaustion.py: the listener and the per-connection monitor when a
resource runs out. The rule: the server keeps serving everyone else and
logs a clear line. No timing thresholds: each test counts log lines, looks
at process state, or checks that a later client still logs in.
"""

import ctypes
import os
import re
import resource
import select
import signal
import socket
import stat
import struct
import subprocess
import threading
import time

import harness
from harness import check, timeout


def _fds(pid):
    return {int(n) for n in os.listdir("/proc/%d/fd" % pid)}


def _lowest_free_fd(pid):
    used = _fds(pid)
    n = 0
    while n in used:
        n += 1
    return n


def _set_nofile(pid, soft):
    """The listener's RLIMIT_NOFILE soft limit (hard kept); the old one."""
    old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, old[1]))
    return old


def _banner(s, timeout_s=10):
    s.settimeout(timeout_s)
    data = b""
    try:
        while b"\n" not in data:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data


@timeout(60)
def test_sighup_burst_keeps_serving(ctx):
    """SIGHUPs in a burst, as a configuration tool may send them: one that
    arrives while the restarted listener starts must not find SIGHUP's
    default action (which ends the process), as sshd 9.2 survives them.
    The listener restarts again and serves the next login."""
    u = ctx.make_user()
    ctx.start_server()
    pid = ctx.proc.pid
    restarts = lambda: ctx.server_log().count("Received SIGHUP; restarting.")
    # Until three restarts are logged: signals land inside each one's
    # start (module loading, configuration, binding).
    sent = 0
    while restarts() < 3 and ctx.server_alive() and sent < 200000:
        os.kill(pid, signal.SIGHUP)
        sent += 1
        time.sleep(0.0005)
    check(ctx.server_alive(),
          "the listener died in a burst of %d SIGHUPs (status %s)"
          % (sent, ctx.proc.returncode))
    # Served again once the burst is over. A SIGHUP of the burst may still
    # be pending (blocked across the exec, delivered once the restarted
    # listener's loop runs): one more restart can follow its "Server
    # listening" (a CI run's ssh found the port closed). Settled when it
    # listens and no restart came for a second.
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    seen = {"n": -1, "since": 0.0}

    def settled():
        n = restarts()
        if not (len(re.findall(listening, ctx.server_log(), re.M)) >= n + 1
                and harness.port_listening(ctx.port)):
            return False
        if n != seen["n"]:
            seen["n"], seen["since"] = n, time.monotonic()
        return time.monotonic() - seen["since"] >= 1.0
    check(harness.poll_until(settled, 20),
          "the listener does not listen after the burst")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    check(ctx.server_alive(), "the listener is gone")


@timeout(60)
def test_sighup_once_listening_is_handled(ctx):
    """A SIGHUP sent as soon as the port listens (a client or a
    configuration tool may see it listen and signal at once) finds the
    handler: the listener restarts, it does not die of SIGHUP's default
    action. The PidFile is a FIFO here, so the listener stays after its
    bind and before its loop (writing the PidFile) until the test reads
    it: the signal lands in that gap every time (a CI run's burst test
    once found it by chance). The restart removes the FIFO, as sshd
    removes its PidFile, and the restarted listener writes a file."""
    u = ctx.make_user()
    fifo = os.path.join(ctx.dir, "posternd.pid")
    os.mkfifo(fifo, 0o600)
    first = []

    def read_fifo():
        with open(fifo, "rb") as f:
            first.append(f.read())

    ctx.start_server()
    pid = ctx.proc.pid
    os.kill(pid, signal.SIGHUP)
    time.sleep(0.2)
    check(ctx.server_alive(), "the listener died of a SIGHUP sent once it "
          "listened (status %s)" % ctx.proc.returncode)
    t = threading.Thread(target=read_fifo, daemon=True)
    t.start()
    t.join(10)
    check(first == [b"%d\n" % pid], "the FIFO PidFile gave %r, want the "
          "listener's pid %d" % (first, pid))
    check(ctx.wait_log(r"^Received SIGHUP; restarting\.$", 10),
          "the SIGHUP was not handled once the loop ran")
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port

    def pidfile_written():
        try:
            if stat.S_ISFIFO(os.stat(fifo).st_mode):
                return False
            with open(fifo, "rb") as f:
                return f.read() == b"%d\n" % pid
        except OSError:
            return False
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2
        and pidfile_written(), 10),
        "the restarted listener did not listen and write its PidFile with "
        "its pid")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    check(ctx.server_alive(), "the listener is gone")


def _state(pid):
    """The process state letter of pid ('Z' for a zombie), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


@timeout(60)
def test_monitor_ending_during_restart_is_reaped(ctx):
    """A connection's monitor that ends while the listener restarts on
    SIGHUP: its SIGCHLD comes while reload() holds the signals blocked,
    and the exec drops it. The restarted listener must still reap it
    (and log and audit what it does for an ended monitor), not leave a
    zombie until some other connection ends. The configuration file is
    a FIFO for the reload, so the old listener waits in reload(), reading
    it, while the test ends the connection."""
    ctx.start_server()
    pid = ctx.proc.pid
    text = harness.read_text(ctx.config_path)
    s = ctx.raw_connect()
    check(harness.poll_until(lambda: len(harness.children(pid)) == 1, 10),
          "no monitor for the connection")
    mon = harness.children(pid)[0]
    os.unlink(ctx.config_path)
    os.mkfifo(ctx.config_path, 0o600)
    try:
        os.kill(pid, signal.SIGHUP)
        s.close()
        check(harness.poll_until(lambda: _state(mon) == "Z", 10),
              "the monitor did not end (state %s)" % _state(mon))
        # The listener opens the FIFO once it handles the SIGHUP.
        fd = []

        def reader_there():
            try:
                fd.append(os.open(ctx.config_path,
                                  os.O_WRONLY | os.O_NONBLOCK))
                return True
            except OSError:
                return False
        check(harness.poll_until(reader_there, 10),
              "the listener does not read its configuration on SIGHUP")
        try:
            os.write(fd[0], text.encode())
        finally:
            os.close(fd[0])
    finally:
        os.unlink(ctx.config_path)
        with open(ctx.config_path, "w") as f:
            f.write(text)
    check(ctx.wait_log(r"^Received SIGHUP; restarting\.$", 10),
          "no restart logged")
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2,
        10), "the restarted listener does not listen")
    check(harness.poll_until(lambda: _state(mon) is None, 10),
          "the restarted listener left the ended monitor %d a zombie "
          "(state %s)" % (mon, _state(mon)))
    check(ctx.server_alive(), "the listener is gone")


@timeout(60)
def test_accept_out_of_descriptors_waits(ctx):
    """accept() failing with EMFILE leaves the connection queued and the
    socket readable: the listener must not retry at once without end
    (sshd sleeps 100 ms between tries, logging each). It logs the error
    once, waits, and accepts the queued client once descriptors are
    back, saying so."""
    u = ctx.make_user()
    ctx.start_server()
    pid = ctx.proc.pid
    # No descriptor can be allocated: every number below the limit is in
    # use.
    old = _set_nofile(pid, _lowest_free_fd(pid))
    try:
        s = ctx.raw_connect()
        check(ctx.wait_log(r"^accept: Too many open files$", 10),
              "no accept error logged")
        # A spinning listener logs the line thousands of times a second.
        time.sleep(2)
        n = ctx.server_log().count("accept: Too many open files")
        check(n == 1, "the accept error was logged %d times in 2 s, want "
              "once" % n)
        check(ctx.server_alive(), "the listener died")
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
    # The queued client is served once descriptors are back.
    check(_banner(s).startswith(b"SSH-2.0-"),
          "the queued connection got no banner")
    check(ctx.wait_log(r"^accept: accepting connections again after \d+ "
                       r"failures$", 10),
          "the end of the accept errors was not logged")
    s.close()
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


@timeout(60)
def test_monitor_start_failure_logged(ctx):
    """The connection's monitor cannot be set up in the forked child (here
    its descriptors: RLIMIT_NOFILE below the numbers it moves them to):
    the client's connection ends, a line says why and for whom, and the
    listener goes on serving."""
    u = ctx.make_user()
    ctx.start_server()
    pid = ctx.proc.pid
    free = [n for n in range(10) if n not in _fds(pid)]
    check(len(free) >= 3, "the listener has %r free below 10; the test "
          "needs 3 (accept and a pipe)" % free)
    old = _set_nofile(pid, 10)
    try:
        s = ctx.raw_connect()
        port = s.getsockname()[1]
        check(_banner(s) == b"", "a connection without a monitor got data")
        check(ctx.wait_log(r"^cannot start the monitor for 127\.0\.0\.1 "
                           r"port %d: descriptors: " % port, 10),
              "the failed monitor start was not logged")
        s.close()
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, old)
    check(ctx.server_alive(), "the listener died")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


@timeout(60)
def test_half_sent_identification_freed_by_grace_time(ctx):
    """Clients that send half an identification line and stall hold
    MaxStartups' slots only until LoginGraceTime: meanwhile a new client
    is dropped with sshd's line; afterwards it logs in."""
    u = ctx.make_user()
    # A grace time that outlasts the steps below on a slow (ASan) build.
    ctx.start_server(extra_config=["MaxStartups 2", "LoginGraceTime 10"])
    held = []
    for _ in range(2):
        s = ctx.raw_connect()
        s.sendall(b"SSH-2.0-half")
        held.append(s)
        check(ctx.wait_log(r"^Connection from 127\.0\.0\.1 port %d "
                           % s.getsockname()[1], 10),
              "a stalled connection was not accepted")
    r = ctx.ssh(u, "true")
    check(r.rc == 255, "a login past MaxStartups 2 went through: %r" % r)
    check(ctx.wait_log(r"drop connection #2 from \[127\.0\.0\.1\]:\d+ on "
                       r"\[127\.0\.0\.1\]:%d past MaxStartups" % ctx.port,
                       10), "no drop line past MaxStartups")
    for s in held:
        check(ctx.wait_log(r"Timeout before authentication for 127\.0\.0\.1 "
                           r"port %d$" % s.getsockname()[1], 25),
              "LoginGraceTime did not end a half-identified connection")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    for s in held:
        s.close()


# paramiko (in /usr/bin/python3 only): a client that offers a 2 GiB
# window, starts an endless output and stops reading its socket.
UNREAD_CLIENT = r"""
import os, signal, socket, sys, paramiko
port, user, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), 20)
t = paramiko.Transport(s, default_window_size=2**31 - 1)
t.start_client(timeout=20)
t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
c = t.open_session(window_size=2**31 - 1)
c.exec_command("cat /dev/zero")
print("started", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)
"""


def _cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@timeout(60)
def test_unread_output_stays_bounded(ctx):
    """A client that grants a 2 GiB window and then reads nothing: the
    session's memory stays bounded (it stops reading the program's output
    when the socket does not drain), it sleeps rather than spins, and the
    server goes on serving others, the same user included."""
    u = ctx.make_user()
    ctx.start_server()
    script = os.path.join(ctx.dir, "unread.py")
    with open(script, "w") as f:
        f.write(UNREAD_CLIENT)
    p = ctx.popen(["/usr/bin/python3", script, str(ctx.port), u.name, u.key],
                  stdout=subprocess.PIPE)
    busy = None
    try:
        check(p.stdout.readline() == b"started\n", "the client did not start")
        sess = harness.find_descendant_by_exe(ctx.proc.pid, "postern-session")
        check(sess, "no session process")
        # Measured once it has filled the socket and stopped reading
        # (up to 10 s): a session that spins never settles, and fails
        # below all the same.
        prev = _cpu_ticks(sess)
        for _ in range(20):
            time.sleep(0.5)
            cur = _cpu_ticks(sess)
            if cur - prev <= 1:
                break
            prev = cur
        # A reference busy loop over the same wait.
        busy = subprocess.Popen(["/usr/bin/python3", "-c", "while 1: pass"])
        c0, b0 = _cpu_ticks(sess), _cpu_ticks(busy.pid)
        time.sleep(3)
        c1, b1 = _cpu_ticks(sess), _cpu_ticks(busy.pid)
        rss = _rss_kib(sess)
        check(rss < 64 * 1024, "the session holds %d KiB with its output "
              "unread" % rss)
        check((c1 - c0) * 4 < (b1 - b0),
              "the session used %d ticks while a busy loop used %d"
              % (c1 - c0, b1 - b0))
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
        p.kill()
        p.wait(10)



# A client that asks for replies and reads none: out-of-place packets
# before the key exchange (each earns an UNIMPLEMENTED) or, logged in,
# PINGs of 32 KiB (each earns a PONG as long). Connected (logged in for
# the session phase), it prints "ready" and waits for a line on stdin,
# so that the server's process is measured idle. It sends MB megabytes, or
# until the server stops taking them (a send blocked for 3 s), prints
# "sent N" and waits to be killed. Its receive buffer is small.
FLOOD_CLIENT = r"""
import os, socket, struct, sys, time
sys.path.insert(0, sys.argv[5])
port, phase, mb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
total, sent = mb * 1024 * 1024, 0
if phase == "preauth":
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"SSH-2.0-flood\r\n")
    # SERVICE_REQUEST (5) before any KEXINIT: 16 bytes, unencrypted.
    unit = (struct.pack(">IBB", 12, 10, 5) + bytes(10)) * 4096
    send = sock.sendall
else:
    import protowire
    user, key = sys.argv[4].split(":", 1)
    c = protowire.login(port, user, key)
    sock = c.sock
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    unit = bytes([192]) + protowire.s(bytes(32 * 1024))
    send = c.send
print("ready", flush=True)
sys.stdin.readline()
sock.settimeout(3)
try:
    while sent < total:
        send(unit)
        sent += len(unit)
except OSError:
    pass
print("sent %d" % sent, flush=True)
time.sleep(600)
"""


def _unread_replies(ctx, phase, exe, limit_kib):
    """A flood client of phase sends 30 MB and reads nothing: the server's
    process named exe grows by less than limit_kib, the client's sends
    block before it is done, and the server goes on serving."""
    u = ctx.make_user()
    ctx.start_server()
    script = os.path.join(ctx.dir, "flood.py")
    with open(script, "w") as f:
        f.write(FLOOD_CLIENT)
    who = "-" if phase == "preauth" else "%s:%s" % (u.name, u.key)
    p = ctx.popen(["/usr/bin/python3", script, str(ctx.port), phase, "30",
                   who, os.path.dirname(os.path.abspath(__file__))],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = p.stdout.readline()
        check(line == b"ready\n", "the flood client failed: %r" % line)
        pid = harness.find_descendant_by_exe(ctx.proc.pid, exe)
        base = _rss_kib(pid)
        p.stdin.write(b"go\n")
        p.stdin.flush()
        line = p.stdout.readline()
        check(line.startswith(b"sent "), "the flood client failed: %r"
              % line)
        # What the server had read when the client stopped is handled.
        time.sleep(1)
        grown, sent = _rss_kib(pid) - base, int(line.split()[1])
        check(ctx.server_alive(), "the server died under the flood")
    finally:
        p.kill()
        p.wait(10)
    # Under ASan the quarantine keeps every freed packet: the sends that
    # block below say the same there.
    check(grown < limit_kib or harness.sanitizer_build(ctx.server_path),
          "%s grew by %d KiB while its replies to %d bytes went unread"
          % (exe, grown, sent))
    check(sent < 30 * 1024 * 1024, "the server took all %d bytes of a "
          "client that reads nothing (and grew by %d KiB)" % (sent, grown))
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


@timeout(90)
def test_unread_replies_preauth_bounded(ctx):
    """Before authentication, a client sends packets that each earn a
    reply and reads none: preauth stops reading once 256 KiB of output
    waits, as sshd waits for its output before reading on, so it holds
    little and the client's sends block. Before, preauth read on and held
    every reply (29 MiB for 30 MB; MaxStartups of them at once)."""
    _unread_replies(ctx, "preauth", "postern-preauth", 8 * 1024)


@timeout(90)
def test_unread_replies_session_bounded(ctx):
    """Logged in, a client sends PINGs of 32 KiB and reads none of the
    PONGs: the session stops reading once 3 MiB of output waits, which
    with the last PONG fits a 4 MiB buffer. Before, it read all 30 MB and
    held what the kernel did not (about 16 MiB); pausing at 4 MiB, the
    buffer doubled to 8 MiB and the session grew by up to 9.6 MiB. The
    bound allows twice the buffer: glibc's malloc may keep the smaller
    steps it grew through (2 MiB, 1 MiB, ...) in the heap (8.5 MiB seen
    once in six runs; 3.5 MiB the others)."""
    _unread_replies(ctx, "session", "postern-session", 12 * 1024)


# Logged in, a client that sends PINGs of 32 KiB and a final global
# request (all sealed beforehand, sent by a thread on a dup of the socket)
# and reads nothing for 2 s, then reads every reply it is owed.
HELD_CLIENT = r"""
import os, socket, sys, threading, time
sys.path.insert(0, sys.argv[4])
import protowire
port, n = int(sys.argv[1]), int(sys.argv[3])
user, key = sys.argv[2].split(":", 1)
c = protowire.login(port, user, key)
c.sock.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
sealed = []
class Sink:
    def sendall(self, b):
        sealed.append(b)
real, c.sock = c.sock, Sink()
for _ in range(n):
    c.send(bytes([192]) + protowire.s(bytes(32 * 1024)))
c.send(bytes([80]) + protowire.s("keepalive@openssh.com") + b"\x01")
c.sock = real
out = socket.socket(fileno=os.dup(real.fileno()))
out.settimeout(60)
threading.Thread(target=out.sendall, args=(b"".join(sealed),),
                 daemon=True).start()
time.sleep(2)
pongs, deadline = 0, time.monotonic() + 30
try:
    while True:
        t, p, _ = c._read_packet(deadline)
        if t == 193:
            pongs += 1
        elif t in (81, 82):
            print("pongs %d reply %d" % (pongs, t), flush=True)
            break
except Exception as e:
    print("pongs %d then %r" % (pongs, e), flush=True)
"""


@timeout(90)
def test_packets_held_by_the_output_pause_are_handled(ctx):
    """A client sends 400 PINGs of 32 KiB and a global request, reading
    nothing until the session has paused (3 MiB of output waiting), then
    reads: every PONG and the request's reply arrive. Before, packets the
    session had read but held back when it paused waited for another byte
    from the client once the output drained, which never came."""
    u = ctx.make_user()
    ctx.start_server()
    script = os.path.join(ctx.dir, "held.py")
    with open(script, "w") as f:
        f.write(HELD_CLIENT)
    r = subprocess.run(
        ["/usr/bin/python3", script, str(ctx.port), "%s:%s" % (u.name, u.key),
         "400", os.path.dirname(os.path.abspath(__file__))],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    check(r.stdout == b"pongs 400 reply 82\n",
          "the client got %r (stderr %r)" % (r.stdout, r.stderr[-500:]))
    check(ctx.server_alive(), "the server died")


@timeout(60)
def test_log_file_on_a_full_disk(ctx):
    """-E names a log file on a full disk (/dev/full: every write fails
    with ENOSPC): the lines are lost, nothing else; logins go on."""
    u = ctx.make_user()
    ctx.write_config()
    ctx.launch_server(args=["-E", "/dev/full"])
    for _ in range(3):
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    check(ctx.server_alive(), "the listener died")


# A client that has exchanged keys, prints "ready", waits for a line on
# stdin, then makes one publickey attempt with KEY and prints the reply's
# message number.
ATTEMPT_CLIENT = r"""
import sys
sys.path.insert(0, sys.argv[4])
import protowire
c = protowire.Conn(int(sys.argv[1]), False)
log = []
protowire.full_kex(c, log)
protowire.service(c, log)
print("ready", flush=True)
sys.stdin.readline()
c.send(c.auth_request(sys.argv[2], sys.argv[3]))
t, _ = protowire.expect(c, (51, 52), log)
print("reply %d" % t, flush=True)
"""


@timeout(60)
def test_failed_attempt_across_restart(ctx):
    """A valid user's connection that began before a SIGHUP restart fails
    an attempt after it: the restarted listener takes the monitor's report
    of the attempt's time and goes on. Before, the handed-over entry kept
    the old process's pointer for those times, and the listener died of a
    segmentation fault (found by a stress run)."""
    u = ctx.make_user()
    other = ctx.new_key("other")
    ctx.start_server()
    script = os.path.join(ctx.dir, "attempt.py")
    with open(script, "w") as f:
        f.write(ATTEMPT_CLIENT)
    p = ctx.popen(["/usr/bin/python3", script, str(ctx.port), u.name, other,
                   os.path.dirname(os.path.abspath(__file__))],
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        check(p.stdout.readline() == b"ready\n", "the client did not start")
        os.kill(ctx.proc.pid, signal.SIGHUP)
        listening = (r"^Server listening on 127\.0\.0\.1 port %d\.$"
                     % ctx.port)
        check(harness.poll_until(
            lambda: len(re.findall(listening, ctx.server_log(),
                                   re.M)) >= 2, 10),
            "the listener did not restart")
        p.stdin.write(b"go\n")
        p.stdin.flush()
        check(p.stdout.readline() == b"reply 51\n",
              "the attempt was not refused")
        check(ctx.wait_log(r"^Failed publickey for %s " % u.name, 5),
              "no Failed line")
        time.sleep(0.5)
        check(ctx.server_alive(), "the listener died after the attempt")
    finally:
        p.kill()
        p.wait(10)
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


def _listening_socket_of(pid, port):
    """A duplicate of process pid's socket listening on port, taken with
    pidfd_getfd(2) (root may): a child of the listener's that has not
    exec'd yet holds the same socket."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            n = int(name)
            try:
                st = os.stat("/proc/%d/fd/%d" % (pid, n))
            except OSError:
                continue
            if not stat.S_ISSOCK(st.st_mode):
                continue
            fd = libc.syscall(438, pidfd, n, 0)  # pidfd_getfd
            if fd < 0:
                continue
            sk = socket.socket(fileno=fd)
            try:
                if (sk.getsockopt(socket.SOL_SOCKET,
                                  socket.SO_ACCEPTCONN) and
                        sk.getsockname()[1] == port):
                    return sk
            except OSError:
                pass
            sk.close()
    finally:
        os.close(pidfd)
    return None


@timeout(60)
def test_restart_waits_for_a_child_holding_the_socket(ctx):
    """A SIGHUP restart while a child of the old listener still holds the
    listening socket (between its fork and its exec, when connections keep
    coming): the restarted listener tries the address again until it is
    free, and serves. Before, its bind failed at once, it logged "Cannot
    bind any address." and exited 255, which systemd's unit does not
    restart (found by a stress run: 42 to 184 reloads under a connection
    storm). Here the test holds a copy of the socket for a second."""
    u = ctx.make_user()
    ctx.start_server()
    held = _listening_socket_of(ctx.proc.pid, ctx.port)
    check(held is not None, "no listening socket found in the listener")
    try:
        os.kill(ctx.proc.pid, signal.SIGHUP)
        check(ctx.wait_log(r"^Received SIGHUP; restarting\.$", 10),
              "the listener did not restart")
        time.sleep(1)
    finally:
        held.close()
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2
        or not ctx.server_alive(), 10) and ctx.server_alive(),
        "the restarted listener did not serve:\n%s"
        % ctx.server_log()[-600:])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


@timeout(60)
def test_grace_time_logged_across_restart(ctx):
    """A connection stalled before authentication when SIGHUP restarts the
    listener: LoginGraceTime's end is still logged in sshd's words (the
    restarted listener takes over the table of such connections), and
    it still counts for MaxStartups until then."""
    u = ctx.make_user()
    # A grace time that outlasts the restart and the refused login on a
    # slow (ASan) build.
    ctx.start_server(extra_config=["LoginGraceTime 10", "MaxStartups 1"])
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-stall\r\n")
    port = s.getsockname()[1]
    check(ctx.wait_log(r"^Connection from 127\.0\.0\.1 port %d " % port, 10),
          "the stalled connection was not accepted")
    os.kill(ctx.proc.pid, signal.SIGHUP)
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2, 10),
        "the listener did not restart")
    r = ctx.ssh(u, "true")
    check(r.rc == 255, "a login past MaxStartups 1 went through after the "
          "restart: %r" % r)
    check(ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.1 "
                       r"port %d$" % port, 25),
          "LoginGraceTime's end of a connection from before the restart "
          "was not logged")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    s.close()


@timeout(60)
def test_daemon_restart_keeps_pid(ctx):
    """Without -D, posternd daemonises; a SIGHUP restart must not do it
    again: as sshd, the listener keeps its pid (the PidFile stays right
    for whatever tracks it, and the connections' monitors stay its
    children to reap), and it serves the next login."""
    u = ctx.make_user()
    ctx.write_config()
    pidfile = os.path.join(ctx.dir, "posternd.pid")
    run_log = os.path.join(ctx.dir, "daemon.log")
    # A relative -f, from where posternd starts: the daemon is in / when
    # the SIGHUP comes, and still reads that file (before, "No such file
    # or directory" and every reload refused; sshd 9.2 dies of it).
    p = subprocess.run([ctx.server_path, "-f",
                        os.path.relpath(ctx.config_path, ctx.dir), "-E",
                        run_log], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       cwd=ctx.dir, timeout=30)
    check(p.returncode == 0, "posternd exited %d" % p.returncode)
    pids = []

    def kill_daemon():
        for pid in set(pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
    ctx.cleanups.append(kill_daemon)

    def pid_now():
        try:
            return int(open(pidfile).read())
        except (OSError, ValueError):
            return None
    check(harness.poll_until(lambda: pid_now() and harness.port_listening(
        ctx.port), 10), "the daemon does not listen")
    pid = pid_now()
    pids.append(pid)
    os.kill(pid, signal.SIGHUP)
    check(harness.poll_until(
        lambda: open(run_log).read().count("Server listening on") >= 2, 10),
        "the daemon did not restart:\n%s" % open(run_log).read()[-600:])
    # Served by the restarted listener's loop, which runs after it wrote
    # the PidFile.
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    now = pid_now()
    if now:
        pids.append(now)
    check(now == pid, "the restart changed the listener's pid: %s -> %s"
          % (pid, now))


def _fifo_writer(path, texts, stop, served):
    """Serve texts[0] to the first reader of the FIFO at path, texts[1]
    to each later one, until stop is set; served counts the readers."""
    while not stop.is_set():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader yet (ENXIO)
            time.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        try:
            os.write(fd, texts[min(served[0], 1)])
        except OSError:
            pass
        os.close(fd)
        served[0] += 1
        time.sleep(0.2)  # that reader has gone before the next open


@timeout(60)
def test_reload_reads_files_once(ctx):
    """A SIGHUP's configuration is read and checked once, and the restarted
    listener runs on what was checked: a file that turns bad between the
    check and the restart (a configuration tool rewriting it, here a FIFO
    that reads well once, then with a bad line) does not end the server.
    Before, the restarted listener read every file again, died of the bad
    line, and nothing listened any more."""
    u = ctx.make_user()
    inc = os.path.join(ctx.dir, "inc.conf")
    with open(inc, "w") as f:
        f.write("PasswordAuthentication no\n")
    ctx.start_server(extra_config=["Include " + inc])
    os.unlink(inc)
    os.mkfifo(inc, 0o600)
    stop, served = threading.Event(), [0]
    w = threading.Thread(target=_fifo_writer, args=(
        inc, [b"PasswordAuthentication no\n", b"FooBar x\n"], stop,
        served))
    w.start()
    try:
        os.kill(ctx.proc.pid, signal.SIGHUP)
        check(ctx.wait_log(r"^Received SIGHUP; restarting\.$", 10),
              "no restart after the SIGHUP")
        listening = re.compile(r"^Server listening on 127\.0\.0\.1 port "
                               r"%d\.$" % ctx.port, re.M)
        check(harness.poll_until(
            lambda: len(listening.findall(ctx.server_log())) >= 2, 10),
            "the restarted listener does not listen")
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
        check(ctx.server_alive(), "the listener died after the restart")
        check(served[0] == 1, "the Include'd file was read %d times for "
              "one SIGHUP, want 1" % served[0])
        check("FooBar" not in ctx.server_log(),
              "the restarted listener read the file again:\n%s"
              % ctx.server_log()[-600:])
    finally:
        stop.set()
        w.join(10)


def _reset_at_once(ctx, n):
    """n clients that connect and reset the connection at once."""
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\1\0\0\0\0\0\0\0")
        s.connect(("127.0.0.1", ctx.port))
        s.close()


@timeout(60)
def test_reset_before_served_is_quiet(ctx):
    """Clients that connect and reset at once (a scan, a flood): sshd 9.2
    lets each go without a line at INFO. postern's preauth used to die of
    SIGPIPE writing its banner, logged as an error for each, with pid 0.
    Now: no signal deaths, and a later login works."""
    u = ctx.make_user()
    ctx.start_server()
    _reset_at_once(ctx, 20)
    # While their monitors start, MaxStartups may drop a login.
    check(harness.poll_until(
        lambda: ctx.ssh(u, "echo ok").stdout == b"ok\n", 20, 0.2),
        "no login after the resets")
    check(harness.poll_until(
        lambda: not harness.descendants(ctx.proc.pid), 30, 0.1),
        "monitors still running")
    log = ctx.server_log()
    bad = [l for l in log.splitlines() if "terminated by signal" in l or
           "Connection from UNKNOWN" in l]
    check(not bad, "lines for the reset connections: %r" % bad[:5])


@timeout(60)
def test_user_out_of_processes(ctx):
    """The user may run one process (pam_limits nproc 1, the session
    process itself): the command's fork fails, the client hears "exec
    request failed", the log says why, and other users log in."""
    u = ctx.make_user()
    other = ctx.make_user()
    conf = os.path.join(ctx.dir, "limits.conf")
    with open(conf, "w") as f:
        f.write("%s hard nproc 1\n%s soft nproc 1\n" % (u.name, u.name))
    svc = ctx.pam_service([
        "auth required pam_deny.so",
        "account required pam_unix.so",
        "session required pam_limits.so conf=%s" % conf,
        "session required pam_unix.so"])
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and "exec request failed" in r.err,
          "a user out of processes: rc %s %r" % (r.rc, r.err[-300:]))
    check(ctx.wait_log(r"fork: Resource temporarily unavailable", 10),
          "the failed fork was not logged")
    ctx.ssh_ok(other, "echo ok", expect_out=b"ok\n")


@timeout(60)
def test_daemon_closes_inherited_descriptors(ctx):
    """As sshd's closefrom() at start: descriptors posternd is started with
    (beyond 0-2) are not kept by the daemon. Before, `x=$(posternd 3>&1)`
    never returned (the daemon held the pipe for its life), and a caller's
    files stayed open in a root process."""
    ctx.write_config()
    pidfile = os.path.join(ctx.dir, "posternd.pid")
    run_log = os.path.join(ctx.dir, "daemon.log")
    r, w = os.pipe()
    extra = os.open(os.path.join(ctx.dir, "held-file"),
                    os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        p = subprocess.run([ctx.server_path, "-f", ctx.config_path, "-E",
                            run_log], stdin=subprocess.DEVNULL,
                           stdout=w, stderr=subprocess.DEVNULL,
                           pass_fds=(w, extra), timeout=30)
    finally:
        os.close(w)
        os.close(extra)

    def kill_daemon():
        try:
            os.kill(int(open(pidfile).read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass
    ctx.cleanups.append(kill_daemon)
    check(p.returncode == 0, "posternd exited %d" % p.returncode)
    def pid_written():
        # The file is made, then written (fopen, as sshd): not empty.
        try:
            return open(pidfile).read().strip().isdigit()
        except OSError:
            return False
    check(harness.poll_until(lambda: pid_written() and
                             harness.port_listening(ctx.port), 10),
          "the daemon does not listen")
    ready, _, _ = select.select([r], [], [], 10)
    got = os.read(r, 100) if ready else None
    os.close(r)
    check(got == b"", "the daemon still holds the caller's pipe (read: %r)"
          % (got,))
    pid = int(open(pidfile).read())
    held = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            held.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    check(not [h for h in held if h.endswith("held-file") or
               h.startswith("pipe:")],
          "the daemon keeps descriptors it was started with: %r" % held)


def _server_end_gone(port, client_port):
    """True once the server's end of the connection from client_port is
    no longer ESTABLISHED (/proc/net/tcp, state 01): the client's RST got
    there."""
    want = ":%04X" % port, ":%04X" % client_port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1].endswith(want[0]) and fields[2].endswith(want[1])
                    and fields[3] == "01"):
                return False
    return True


def test_maxstartups_drop_of_reset_client_as_sshd(ctx):
    """MaxStartups drops a client that reset its connection before the
    accept (the listener stopped meanwhile, so that it is in the accept
    queue when the RST comes): sshd 9.2 logs "debug1: getpeername failed:
    Transport endpoint is not connected" and then the drop line with
    port -1 (get_peer_port()); posternd said port 0, without the debug
    line."""
    sshd = harness.openssh_sshd()
    ours = ctx.server_path
    seen = {}
    for server in (sshd, ours):
        ctx.server_path = server
        ctx.write_config(["MaxStartups 1"])
        ctx.launch_server()
        hold = socket.create_connection(("127.0.0.1", ctx.port), 10)
        try:
            hold.settimeout(30)
            check(hold.recv(4) == b"SSH-", "%s: no banner" % server)
            os.kill(ctx.proc.pid, signal.SIGSTOP)
            try:
                s = socket.create_connection(("127.0.0.1", ctx.port), 10)
                cport = s.getsockname()[1]
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                s.close()
                check(harness.poll_until(
                    lambda: _server_end_gone(ctx.port, cport), 30),
                    "%s: the RST did not reach the server's end" % server)
            finally:
                os.kill(ctx.proc.pid, signal.SIGCONT)
            m = ctx.wait_log(r"^.*drop connection #1 .*$", 30)
            check(m, "%s: no drop line" % server)
        finally:
            hold.close()
            ctx.stop_server()
            ctx.proc = None
        lines = ctx.server_log().splitlines()
        i = lines.index(m.group(0))
        seen[server] = lines[i - 1:i + 1]
        os.unlink(ctx.log_path)
    ctx.server_path = ours
    want = ["debug1: getpeername failed: Transport endpoint is not "
            "connected",
            "drop connection #1 from [UNKNOWN]:-1 on [127.0.0.1]:%d past "
            "MaxStartups" % ctx.port]
    check(seen[sshd] == want, "sshd: %r, want %r" % (seen[sshd], want))
    check(seen[ours] == want, "posternd: %r, want %r (as sshd)"
          % (seen[ours], want))
