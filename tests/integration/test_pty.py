"""
test_pty.py: pseudo-terminals for session channels (pty-req with its
terminal modes, window-change, TERM/SSH_TTY, PermitTTY and no-pty), with
the real OpenSSH client given a terminal of its own.

The client takes the size and modes it sends from its stdin, so each test
runs it with stdin on the slave of a local pty of a known size and reads
its stdout from a pipe.
"""

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

from harness import check, fail, timeout

RX_PTS = re.compile(rb"^/dev/pts/\d+\r?\n$")


def _set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class _TtyClient:
    """ssh -tt with stdin on a local pty of rows x cols."""

    def __init__(self, ctx, user, command, rows=30, cols=100, key=None,
                 env=None, extra=(), setup=None, tt=True):
        self.master, self.slave = os.openpty()
        _set_size(self.slave, rows, cols)
        if setup is not None:
            setup(self.slave)
        self.argv = ctx.ssh_argv(user, command, key=key,
                                 extra=(["-tt"] if tt else []) + list(extra))
        self.p = ctx.popen(self.argv, stdin=self.slave,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env)
        self.out = b""

    def read_until(self, pred, timeout_s=10):
        """Read stdout until pred(self.out) or EOF; True if pred held."""
        end = time.monotonic() + timeout_s
        fd = self.p.stdout.fileno()
        while not pred(self.out):
            left = end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            data = os.read(fd, 65536)
            if not data:
                return pred(self.out)
            self.out += data
        return True

    def ready(self, what):
        """Read until the remote side has printed R2EADY (echo
        R$((1+1))EADY, so that the echoed command line is not taken for
        it); if it never does, the client is ended and the test fails,
        saying what did not get ready."""
        if not self.read_until(lambda o: b"R2EADY" in o):
            self.p.kill()
            self.finish()
            fail("%s never got ready: %r" % (what, self.out))

    def finish(self, timeout_s=15):
        """Wait for the client; returns (rc, stdout, stderr)."""
        try:
            out, err = self.p.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
            fail("ssh -tt %r timed out; stdout %r stderr %r"
                 % (self.argv[-1], self.out + out, err))
        finally:
            os.close(self.master)
            os.close(self.slave)
        self.out += out
        return self.p.returncode, self.out, err


def _run_tty(ctx, user, command, **kw):
    return _TtyClient(ctx, user, command, **kw).finish()


def test_pty_tty_path(ctx):
    ctx.start_server()
    u = ctx.make_user()
    rc, out, err = _run_tty(ctx, u, "tty")
    check(rc == 0, "ssh -tt tty exited %s; stderr %r" % (rc, err))
    check(RX_PTS.match(out), "tty printed %r, want a /dev/pts path" % out)
    # Without -tt: no pty, as before.
    r = ctx.ssh(u, "tty")
    check(r.rc == 1 and b"not a tty" in r.stdout,
          "tty without -tt: rc %s out %r" % (r.rc, r.stdout))


def test_pty_size_and_env(ctx):
    ctx.start_server()
    u = ctx.make_user()
    env = dict(os.environ, TERM="xterm-postern")
    rc, out, err = _run_tty(ctx, u, 'stty size; echo "T=$TERM S=$SSH_TTY"; '
                            "tty", rows=33, cols=111, env=env)
    check(rc == 0, "exited %s; stderr %r" % (rc, err))
    lines = out.replace(b"\r\n", b"\n").split(b"\n")
    check(lines[0] == b"33 111", "stty size printed %r, want '33 111'"
          % lines[0])
    m = re.match(rb"^T=xterm-postern S=(/dev/pts/\d+)$", lines[1])
    check(m, "TERM/SSH_TTY line %r" % lines[1])
    check(lines[2] == m.group(1), "SSH_TTY %r is not the tty %r"
          % (m.group(1), lines[2]))


def test_pty_modes(ctx):
    """The client's terminal modes (RFC 4254 s8) reach the remote tty."""
    ctx.start_server()
    u = ctx.make_user()

    def setup(fd):
        a = termios.tcgetattr(fd)
        a[6][termios.VERASE] = b"\x08"   # erase = ^H
        a[6][termios.VINTR] = b"\x07"    # intr = ^G
        a[0] &= ~termios.IXON            # -ixon
        a[4] = termios.B9600             # ispeed
        a[5] = termios.B9600             # ospeed
        termios.tcsetattr(fd, termios.TCSANOW, a)

    rc, out, err = _run_tty(ctx, u, "stty -a", setup=setup)
    check(rc == 0, "stty -a exited %s; stderr %r" % (rc, err))
    text = out.decode("utf-8", "replace")
    for want in ("erase = ^H", "intr = ^G", "-ixon", "speed 9600 baud"):
        check(want in text, "remote stty -a lacks %r:\n%s" % (want, text))


@timeout(40)
def test_pty_window_change(ctx):
    ctx.start_server()
    u = ctx.make_user()
    cmd = ("trap 'stty size; exit 0' WINCH; echo ready; i=0; "
           "while [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; exit 5")
    c = _TtyClient(ctx, u, cmd, rows=24, cols=80)
    if not c.read_until(lambda o: b"ready" in o):
        c.p.kill()
        c.finish()
        fail("remote never printed ready: %r" % c.out)
    _set_size(c.master, 40, 132)
    c.p.send_signal(signal.SIGWINCH)
    rc, out, err = c.finish()
    check(rc == 0, "exited %s, want 0 (trap ran); out %r stderr %r"
          % (rc, out, err))
    check(b"40 132" in out, "stty size after window change: %r" % out)


def test_pty_exit_codes(ctx):
    ctx.start_server()
    u = ctx.make_user()
    for code in (0, 1, 3):
        rc, out, err = _run_tty(ctx, u, "echo out%d; exit %d" % (code, code))
        check(rc == code, "exit %d with -tt: ssh exited %s; stderr %r"
              % (code, rc, err))
        check(out.replace(b"\r\n", b"\n") == b"out%d\n" % code,
              "exit %d: output %r" % (code, out))
    # Output written just before the exit is not lost.
    rc, out, err = _run_tty(ctx, u, "seq 1 20000")
    want = b"".join(b"%d\r\n" % i for i in range(1, 20001))
    check(rc == 0 and out == want, "seq over a pty: rc %s, %d bytes, want %d"
          % (rc, len(out), len(want)))
    # The shell request runs a login shell ("-bash") on the pty.
    c = _TtyClient(ctx, u, None)
    os.write(c.master, b"echo \"A0=$0\"; tty; exit 7\n")
    rc, out, err = c.finish()
    check(rc == 7, "shell with pty exited %s; stderr %r" % (rc, err))
    check(b"A0=-bash" in out and b"/dev/pts/" in out,
          "login shell output %r" % out)


def test_pty_background_job_does_not_hold_exit(ctx):
    """A job the session's shell left running holds the terminal open: as
    sshd, the session still ends when the shell exits, with its status and
    all output written before the exit (before, the client waited for the
    job to end)."""
    ctx.start_server()
    u = ctx.make_user()
    rc, out, err = _TtyClient(
        ctx, u, "echo before; trap '' HUP; sleep 600 & seq 1 3000; "
        "exit 3").finish(timeout_s=30)
    want = b"before\r\n" + b"".join(b"%d\r\n" % i for i in range(1, 3001))
    check(rc == 3 and out == want,
          "exec with a background job: rc %s, output %r...%r (%d bytes, "
          "want %d)" % (rc, out[:20], out[-20:], len(out), len(want)))
    c = _TtyClient(ctx, u, None)
    os.write(c.master, b"sleep 600 & echo started; exit 4\n")
    rc, out, err = c.finish(timeout_s=30)
    check(rc == 4 and b"started" in out,
          "login shell with a background job: rc %s out %r" % (rc, out))



def _pending_signals(pid):
    """(state, SigPnd | ShdPnd) of a live process, or None once gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            st = dict(l.split(":", 1) for l in f.read().splitlines())
    except (OSError, ValueError):
        return None
    return (st["State"].split()[0],
            int(st["SigPnd"], 16) | int(st["ShdPnd"], 16))


@timeout(60)
def test_pty_hangup_reaches_only_session_leader(ctx):
    """When the client goes away, the program on the pty learns it from
    the terminal's hangup, as under sshd 9.2 (which sends no signal of
    its own): SIGHUP goes to the session's leader, the shell, and not to
    the rest of its process group, so a job in the foreground of a shell
    that traps SIGHUP runs on, and the trap runs once. postern sent
    SIGHUP to the whole process group first, then the hangup sent it to
    the shell again."""
    ctx.start_server()
    u = ctx.make_user()
    c = _TtyClient(ctx, u, "trap 'echo trapped' HUP; echo SHELL=$$; "
                   "sh -c 'echo CHILD=$$; echo R$((1+1))EADY; "
                   "exec sleep 600'; echo after")
    c.ready("command")
    m = re.search(rb"SHELL=(\d+)\r\nCHILD=(\d+)", c.out)
    check(m, "no pids in %r" % c.out)
    shell, child = int(m.group(1)), int(m.group(2))
    try:
        c.p.kill()
        c.finish()
        # The monitor has recorded the logout: whatever signals the
        # session's end sent went before it (the hangup itself goes to
        # the shell, once the monitor closes the master).
        check(ctx.wait_log(r"logout recorded on /dev/pts/"),
              "no logout recorded:\n%s" % ctx.server_log()[-2000:])
        got = _pending_signals(child)
        check(got is not None and got[0] not in "ZX" and got[1] == 0,
              "the shell's foreground child (not the session leader) was "
              "signalled when the client went away: %s"
              % ("gone" if got is None else "state %s, pending %#x" % got))
    finally:
        for pid in (child, shell):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

def _check_refused(ctx, u, what):
    # -tt asked for a pty explicitly: the OpenSSH client gives up on the
    # channel when it is refused (clientloop.c client_status_confirm).
    rc, out, err = _run_tty(ctx, u, "tty")
    check(b"PTY allocation request failed" in err,
          "%s: client did not warn: %r" % (what, err))
    check(rc == 255 and b"/dev/pts" not in out,
          "%s: ssh -tt tty gave rc %s out %r" % (what, rc, out))
    # A shell from a client on a terminal (RequestTTY auto) carries on
    # without one: the shell has no tty.
    c = _TtyClient(ctx, u, None, tt=False, extra=["-o", "RequestTTY=auto"])
    os.write(c.master, b"tty; exit $?\n")
    rc, out, err = c.finish()
    check(b"PTY allocation request failed" in err,
          "%s: shell: client did not warn: %r" % (what, err))
    check(rc == 1 and b"not a tty" in out,
          "%s: shell: tty gave rc %s out %r, want 'not a tty'"
          % (what, rc, out))


def test_pty_no_pty_option(ctx):
    ctx.start_server()
    u = ctx.make_user(with_key=False)
    ctx.authorize(u, u.key + ".pub", options="no-pty")
    _check_refused(ctx, u, "no-pty key")
    m = ctx.wait_log(r"Allocating a pty not permitted", 5)
    check(m, "server log lacks 'Allocating a pty not permitted'")


def test_pty_permit_tty_no(ctx):
    ctx.start_server(extra_config=["PermitTTY no"])
    u = ctx.make_user()
    _check_refused(ctx, u, "PermitTTY no")
    # Sessions without a pty are unaffected.
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
