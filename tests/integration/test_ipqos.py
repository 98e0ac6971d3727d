"""
test_ipqos.py: IPQoS on the wire. The class of the server's socket is read
with ss(8) (`--tos`, iproute2) while a session runs. As sshd 9.2 does
(checked side by side on this machine): no class before a session starts
a program (`ssh -N`); the bulk class for a command without a terminal, the
interactive one with a terminal; the first session of a connection decides
for good (a later session of another kind on the same connection, through
the client's ControlMaster, changes nothing); `none` leaves the system's
default; a Match block's value is the one used.
"""

import os
import re
import subprocess

import harness
from harness import check, fail, timeout

CONFIG = ["IPQoS cs7 cs2"]
INTERACTIVE, BULK = 0xe0, 0x40


def _server_tos(ctx):
    """The classes of the server's established connections."""
    p = harness.run(["ss", "-Htn", "--tos", "state", "established",
                     "( sport = :%d )" % ctx.port], check_rc=False)
    if p.returncode != 0:
        fail("ss --tos failed: %s" % p.stderr.decode(errors="replace"))
    return [int(m, 0) for m in re.findall(r"\btos:(0x[0-9a-f]+|\d+)",
                                          p.stdout.decode())]


def _start(ctx, u, command, extra=()):
    """An ssh client whose remote command printed 'ready' (its session
    has started the program), still running."""
    p = ctx.popen(ctx.ssh_argv(u, command, extra=list(extra)),
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    if b"ready" not in line:
        p.kill()
        p.wait()
        fail("session did not start (%r, exit %s): %s"
             % (line, p.poll(), " ".join(extra)))
    return p


def _stop(p):
    p.kill()
    p.wait()


def _one_tos(ctx):
    got = _server_tos(ctx)
    check(len(got) == 1, "want one server connection, ss shows %r" % got)
    return got[0]


def _check_session(ctx, user, extra, want, what):
    """One connection with one session: its class is want; then it ends."""
    p = _start(ctx, user, "echo ready; sleep 30", extra)
    try:
        got = _one_tos(ctx)
        check(got == want, "%s: tos 0x%02x, want 0x%02x" % (what, got, want))
    finally:
        _stop(p)
    check(harness.poll_until(lambda: not _server_tos(ctx), 10),
          "%s: the connection did not end" % what)


@timeout(120)
def test_ipqos_session_kinds(ctx):
    """exec without a terminal: bulk; with one (-tt): interactive; a
    connection with no session (-N): the system's default, 0."""
    u = ctx.make_user()
    ctx.start_server(CONFIG)
    _check_session(ctx, u, [], BULK, "exec (IPQoS cs7 cs2)")
    _check_session(ctx, u, ["-tt"], INTERACTIVE,
                   "exec with a pty (IPQoS cs7 cs2)")
    # -N: no session, so no class (wait until the connection is up).
    p = ctx.popen(ctx.ssh_argv(u, None, extra=["-N"]),
                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
    try:
        # The third login of the test (the two above logged theirs).
        check(harness.poll_until(
            lambda: ctx.server_log().count("Accepted publickey for %s "
                                           % u.name) == 3, 15),
              "-N: no login")
        got = _one_tos(ctx)
        check(got == 0, "-N: tos 0x%02x, want 0 (no session)" % got)
    finally:
        _stop(p)


@timeout(120)
def test_ipqos_first_session_decides(ctx):
    """Two sessions on one connection (ControlMaster): the class the
    first one chose stays, whatever the second is."""
    u = ctx.make_user()
    ctx.start_server(CONFIG)
    for i, (first, second, want) in enumerate(((["-T"], ["-tt"], BULK),
                                               (["-tt"], ["-T"], INTERACTIVE))):
        path = os.path.join(ctx.dir, "cm%d" % i)
        mux = ["-o", "ControlPath=" + path]
        master = _start(ctx, u, "echo ready; sleep 30",
                        first + mux + ["-o", "ControlMaster=yes"])
        try:
            got = _one_tos(ctx)
            check(got == want, "first session %r: tos 0x%02x, want 0x%02x"
                  % (first, got, want))
            other = _start(ctx, u, "echo ready; sleep 30", second + mux)
            try:
                got = _one_tos(ctx)
                check(got == want, "second session %r after %r: tos 0x%02x,"
                      " want 0x%02x still" % (second, first, got, want))
            finally:
                _stop(other)
        finally:
            _stop(master)
        check(harness.poll_until(lambda: not _server_tos(ctx), 10),
              "the connection did not end")


@timeout(120)
def test_ipqos_none_and_match(ctx):
    """IPQoS none keeps the system's default even with a terminal; a
    Match User block's value is the one the session uses."""
    u = ctx.make_user()
    v = ctx.make_user()
    ctx.start_server(["IPQoS none", "Match User %s" % v.name,
                      "  IPQoS af41 ef"])
    _check_session(ctx, u, ["-tt"], 0, "none, with a pty")
    _check_session(ctx, v, ["-tt"], 0x88, "Match: af41 with a pty")
    _check_session(ctx, v, [], 0xb8, "Match: ef without one")
