"""
test_inetd_pipe.py: inetd mode (-i) with a pipe pair as the connection, as
sshd -i takes it: the client's ProxyCommand runs posternd -i (as OpenSSH's
own regress suite drives sshd), or socat hands an accepted connection to
posternd -i over two pipes (xinetd's way). The connection then has no
address: sshd's "UNKNOWN" port 65535 at both ends, in the log lines, in
SSH_CONNECTION and SSH_CLIENT, for from= and Match; the session runs,
transfers are byte-exact, the exit status comes back, and every process of
the connection ends with it.
"""

import hashlib
import os
import re
import signal
import subprocess

import harness
from harness import check, timeout


def _proxy(ctx, pidfile=None):
    """A ProxyCommand running the test's posternd -i on the test's config,
    logging to its log; with pidfile, a wrapper that writes its pid (then
    posternd's, as it execs) there first."""
    cmd = "%s -i -f %s -E %s" % (ctx.server_path, ctx.config_path,
                                  ctx.log_path)
    if pidfile is None:
        return cmd
    script = os.path.join(ctx.dir, "proxy.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho $$ > %s\nexec %s\n" % (pidfile, cmd))
    os.chmod(script, 0o755)
    return script


def _via_proxy(ctx, pidfile=None):
    return ["-o", "ProxyCommand=" + _proxy(ctx, pidfile)]


def _starttime(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rfind(")") + 2:].split()[19]


def _tree(pid):
    """The live processes pid and its descendants, as (pid, start time)
    so that a recycled pid is not taken for one of them."""
    out = []
    for p in [pid] + harness.descendants(pid):
        t = _starttime(p)
        if t is not None:
            out.append((p, t))
    return out


def _all_gone(procs):
    return all(_starttime(p) != t for p, t in procs)


def _read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


@timeout(90)
def test_inetd_pipe_proxycommand_login(ctx):
    u = ctx.make_user()
    ctx.write_config()
    r = ctx.ssh(u, 'echo "C=$SSH_CONNECTION"; echo "CL=$SSH_CLIENT"; '
                'echo to-stderr >&2; exit 7', extra=_via_proxy(ctx))
    check(r.rc == 7, "exit status %r, want 7; stderr %r" % (r.rc, r.err))
    check(r.stdout == b"C=UNKNOWN 65535 UNKNOWN 65535\n"
          b"CL=UNKNOWN 65535 65535\n", "session output %r" % r.stdout)
    check("to-stderr" in r.err, "session stderr %r" % r.err)
    # sshd -i's lines for a connection that is no socket: no rdomain.
    fp = harness.fingerprint(u.key + ".pub")
    check(ctx.wait_log(r"^Connection from UNKNOWN port 65535 on UNKNOWN "
                       r"port 65535$", 10), "no Connection from line")
    check(ctx.wait_log(r"^Accepted publickey for %s from UNKNOWN port 65535 "
                       r"ssh2: ED25519 %s$" % (u.name, re.escape(fp)), 10),
          "no Accepted publickey line")
    check(ctx.wait_log(r"^Disconnected from user %s UNKNOWN port 65535$"
                       % u.name, 15), "no Disconnected line")
    check("rdomain" not in ctx.server_log(), "rdomain logged for a pipe")


@timeout(120)
def test_inetd_pipe_sftp_transfer(ctx):
    u = ctx.make_user()
    ctx.write_config(["Subsystem sftp internal-sftp"])
    path, digest, size = ctx.random_file(6 * 1024 * 1024)
    back = os.path.join(ctx.dir, "back.bin")
    batch = os.path.join(ctx.dir, "batch")
    with open(batch, "w") as f:
        f.write("put %s up.bin\nget up.bin %s\n" % (path, back))
    argv = ctx.ssh_argv(u, extra=_via_proxy(ctx))
    # ssh's options for sftp: everything between "ssh" and the
    # destination.
    argv = ["sftp", "-b", batch] + argv[1:-1] + [argv[-1]]
    argv.remove("-p")
    argv.remove(str(ctx.port))
    p = ctx.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=90)
    check(p.returncode == 0, "sftp exited %s: %r" % (p.returncode, err))
    up = os.path.join(u.home, "up.bin")
    for name, f in (("uploaded", up), ("downloaded", back)):
        h = hashlib.sha256()
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        check(os.path.getsize(f) == size and h.hexdigest() == digest,
              "the %s file differs from the original" % name)
    check(ctx.wait_log(r"^Disconnected from user %s UNKNOWN port 65535$"
                       % u.name, 15), "no Disconnected line")


def _open_session(ctx, u, pidfile, n):
    """The n-th ssh session through posternd -i, waiting on its input;
    returns (client, the connection's processes)."""
    client = ctx.popen(ctx.ssh_argv(u, "read x; echo done:$x",
                                    extra=_via_proxy(ctx, pidfile)),
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    check(harness.poll_until(lambda: ctx.server_log().count(
        "Accepted publickey for %s " % u.name) >= n, 20), "no login")
    top = _read_pid(pidfile)
    # The relay, the monitor, the session and the user's shell.
    check(harness.poll_until(lambda: len(_tree(top)) >= 4, 10),
          "the connection's processes: %r" % _tree(top))
    return client, _tree(top)


@timeout(120)
def test_inetd_pipe_session_ends_with_client(ctx):
    u = ctx.make_user()
    ctx.write_config()
    pidfile = os.path.join(ctx.dir, "proxy.pid")

    # The client ends the session: output delivered, everything exits.
    client, procs = _open_session(ctx, u, pidfile, 1)
    out, err = client.communicate(b"bye\n", timeout=30)
    check(client.returncode == 0 and out == b"done:bye\n",
          "client: exit %s, output %r, stderr %r"
          % (client.returncode, out, err))
    check(harness.poll_until(lambda: _all_gone(procs), 15),
          "processes left after the client ended: %r"
          % [p for p, t in procs if _starttime(p) == t])

    # The client dies mid-session (its pipes close, nothing said): the
    # connection ends as a dropped TCP one does.
    os.unlink(pidfile)
    client, procs = _open_session(ctx, u, pidfile, 2)
    client.send_signal(signal.SIGKILL)
    client.wait(10)
    check(harness.poll_until(lambda: _all_gone(procs), 20),
          "processes left after the client was killed: %r"
          % [p for p, t in procs if _starttime(p) == t])
    # As sshd -i: the close is logged without the user, then the totals;
    # no "Disconnected from user" (the client sent no DISCONNECT).
    check(ctx.wait_log(r"^Closing connection to UNKNOWN port 65535$", 10),
          "no Closing connection line")
    log = ctx.server_log()
    for rx in (r"^Connection closed by UNKNOWN port 65535$",
               r"^Transferred: sent \d+, received \d+ bytes$"):
        check(re.search(rx, log, re.M), "no line %r" % rx)
    check(log.count("Disconnected from user %s " % u.name) == 1,
          "a Disconnected line for the killed client")


@timeout(120)
def test_inetd_pipe_address_rules(ctx):
    """from= and Match see sshd's address of a pipe: "UNKNOWN", which
    is no IP address (Match Address * does not match it), and local port
    65535."""
    u = ctx.make_user(with_key=False)
    ak = os.path.join(u.home, ".ssh", "authorized_keys")

    def login(options, extra_config=()):
        if os.path.exists(ak):
            os.unlink(ak)
        ctx.authorize(u, u.key + ".pub", options)
        ctx.write_config(extra_config)
        return ctx.ssh(u, "echo plain", extra=_via_proxy(ctx))

    r = login('from="UNKNOWN"')
    check(r.rc == 0 and r.stdout == b"plain\n", "from=UNKNOWN: %r" % r)
    r = login('from="127.0.0.1"')
    check(r.rc == 255, "from=127.0.0.1 let a pipe in: %r" % r)
    check(ctx.wait_log(
        r"Authentication tried for %s with correct key but not from a "
        r"permitted host \(host=UNKNOWN, ip=UNKNOWN, required=127\.0\.0\.1\)"
        % u.name, 10), "no from= refusal line")
    r = login("", ["Match LocalPort 65535", "  ForceCommand echo lport"])
    check(r.stdout == b"lport\n", "Match LocalPort 65535: %r" % r)
    r = login("", ["Match Address *", "  ForceCommand echo addr"])
    check(r.stdout == b"plain\n", "Match Address * matched a pipe: %r" % r)


@timeout(90)
def test_inetd_pipe_socat_pipes(ctx):
    """socat accepts and hands posternd -i two pipes (EXEC's pipes
    option), as xinetd does."""
    u = ctx.make_user()
    ctx.write_config()
    cmd = "%s -i -f %s -E %s" % (ctx.server_path, ctx.config_path,
                                  ctx.log_path)
    socat = ctx.popen(["socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr"
                       % ctx.port, "EXEC:%s,pipes" % cmd],
                      stdin=subprocess.DEVNULL)
    check(harness.poll_until(lambda: harness.port_listening(ctx.port), 10),
          "socat did not listen")
    ctx.ssh_ok(u, "head -c 300000 /dev/zero | sha256sum",
               expect_out=hashlib.sha256(bytes(300000)).hexdigest().encode()
               + b"  -\n")
    check(ctx.wait_log(r"^Connection from UNKNOWN port 65535 on UNKNOWN "
                       r"port 65535$", 10), "no Connection from line")
    check(harness.poll_until(lambda: socat.poll() is not None, 15),
          "socat (and posternd) did not end with the connection")


@timeout(120)
def test_inetd_pipe_rekeys(ctx):
    """RekeyLimit 32K over a pipe pair: some 130 key re-exchanges in 4 MiB,
    each with a host key signature for the session, which the budget
    grants by the bytes the relay counted (a TCP socket's counts being
    absent), and the transfer is byte-exact."""
    u = ctx.make_user()
    ctx.write_config(["RekeyLimit 32K"])
    path, digest, size = ctx.random_file(4 * 1024 * 1024)
    with open(path, "rb") as f:
        r = ctx.ssh(u, "sha256sum", extra=_via_proxy(ctx), stdin=f,
                    timeout_s=90)
    check(r.rc == 0 and r.stdout == (digest + "  -\n").encode(),
          "the upload: %r" % r)
    check("host key signature refused" not in ctx.server_log(),
          "the session was refused a rekey signature")


@timeout(90)
def test_inetd_pipe_login_grace_time(ctx):
    """LoginGraceTime ends a stalled client over pipes: sshd's line with
    the pipe's address, and posternd -i ends though the client keeps its
    pipes open."""
    ctx.write_config()
    argv = [ctx.server_path, "-i", "-g", "2", "-f", ctx.config_path,
            "-E", ctx.log_path]
    p = ctx.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL)
    p.stdin.write(b"SSH-2.0-stall\r\n")
    p.stdin.flush()
    check(p.stdout.readline().startswith(b"SSH-2.0-"),
          "no server identification")
    check(ctx.wait_log(r"^Timeout before authentication for UNKNOWN port "
                       r"65535$", 20), "no timeout line")
    check(harness.poll_until(lambda: p.poll() is not None, 15),
          "posternd -i still runs after the timeout")
    check(p.returncode == 255, "exit status %r" % p.returncode)
    p.stdout.read()


@timeout(90)
def test_inetd_unix_socket_local_end(ctx):
    """A Unix stream socket on standard input (systemd's ListenStream=PATH
    with Accept=yes): the local end is the socket's path, as sshd 9.2
    prints it ("Connection from UNKNOWN port 65535 on PATH port 65535",
    SSH_CONNECTION "UNKNOWN 65535 PATH 65535"); the client's end is
    UNKNOWN. Here the test accepts and hands the socket to posternd -i."""
    import socket
    import threading
    u = ctx.make_user()
    ctx.write_config()
    path = os.path.join(ctx.dir, "inetd.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(1)
    ctx.cleanups.append(lsock.close)
    procs = []

    def serve():
        conn, _ = lsock.accept()
        procs.append(subprocess.Popen(
            [ctx.server_path, "-i", "-f", ctx.config_path, "-E",
             ctx.log_path], stdin=conn.fileno(), stdout=conn.fileno(),
            stderr=subprocess.DEVNULL))
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    r = ctx.ssh(u, 'echo "C=$SSH_CONNECTION"; echo "CL=$SSH_CLIENT"',
                extra=["-o", "ProxyCommand=socat - UNIX-CONNECT:" + path])
    t.join(10)
    for p in procs:
        p.wait(15)
    check(r.rc == 0, "exit status %r; stderr %r" % (r.rc, r.err))
    check(r.stdout == ("C=UNKNOWN 65535 %s 65535\nCL=UNKNOWN 65535 65535\n"
                       % path).encode(), "session output %r" % r.stdout)
    check(ctx.wait_log(r"^Connection from UNKNOWN port 65535 on %s port "
                       r"65535$" % re.escape(path), 10),
          "no Connection from line naming the socket's path")


@timeout(90)
def test_inetd_unix_socketpair_local_end(ctx):
    """socat's EXEC without 'pipes' hands posternd -i one end of an
    unnamed socketpair: its local end is empty, as in sshd 9.2
    ("... on  port 65535", SSH_CONNECTION "UNKNOWN 65535  65535")."""
    u = ctx.make_user()
    ctx.write_config()
    cmd = "%s -i -f %s -E %s" % (ctx.server_path, ctx.config_path,
                                  ctx.log_path)
    r = ctx.ssh(u, 'echo "C=$SSH_CONNECTION"',
                extra=["-o", "ProxyCommand=socat - EXEC:'%s'" % cmd])
    check(r.rc == 0, "exit status %r; stderr %r" % (r.rc, r.err))
    check(r.stdout == b"C=UNKNOWN 65535  65535\n",
          "session output %r" % r.stdout)
    check(ctx.wait_log(r"^Connection from UNKNOWN port 65535 on  port "
                       r"65535$", 10), "no Connection from line")


def _fd_targets(pid):
    d = "/proc/%d/fd" % pid
    out = []
    for name in os.listdir(d):
        try:
            out.append("%s:%s" % (name, os.readlink(os.path.join(d, name))))
        except OSError:
            pass
    return out


@timeout(90)
def test_inetd_pipe_relay_descriptors(ctx):
    """The relay holds one descriptor of its byte count (the memfd it
    passes to the monitor), its two pipes and its end of the socketpair:
    nothing left over from setting them up."""
    u = ctx.make_user()
    ctx.write_config()
    pidfile = os.path.join(ctx.dir, "proxy.pid")
    client, _procs = _open_session(ctx, u, pidfile, 1)
    top = _read_pid(pidfile)
    fds = _fd_targets(top)
    counts = [f for f in fds if "postern-relay-count" in f]
    check(len(counts) == 1,
          "the relay holds %d descriptors of its byte count: %r"
          % (len(counts), fds))
    out, err = client.communicate(b"bye\n", timeout=30)
    check(client.returncode == 0 and out == b"done:bye\n",
          "client: exit %s, output %r" % (client.returncode, out))
