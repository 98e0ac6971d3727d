"""
test_log_levels.py: what posternd writes at each LogLevel from QUIET to
VERBOSE, next to OpenSSH's sshd 9.2 (/usr/sbin/sshd), both -D -e on
ports of their own with the same users, keys and configuration lines.
test_log_parity.py checks that the lines it lists are there (mostly at
VERBOSE); this one compares every line each server writes for a few
events, so a line that is missing, extra, worded otherwise or written
at another level shows. The lines are compared as multisets: the order
of two processes' lines is not the servers' to keep, and neither is
whether `ssh host true` gets a "Close session" line (sshd writes it only
when the client's CLOSE and DISCONNECT come in two reads; posternd
whenever the client closed the channel first): those are left out.
"""

import json
import os
import re
import time

from harness import check, fail, poll_until, run, timeout
import harness
from test_log_parity import Peer, _both

LEVELS = ("QUIET", "FATAL", "ERROR", "INFO", "VERBOSE")
PKWIRE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pkwire.py")


def _norm(line):
    line = re.sub(r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:FP", line)
    line = re.sub(r"(port|pid) \d+", r"\1 N", line)
    return re.sub(r"\]:\d+", "]:N", line)


def _quiet(peer, seconds=1.0):
    """Until the server has no connection process left and its log has
    not grown for `seconds'."""
    last = [os.path.getsize(peer.log), time.monotonic()]

    def quiet():
        n = os.path.getsize(peer.log)
        if n != last[0] or harness.children(peer.proc.pid):
            last[0], last[1] = n, time.monotonic()
            return False
        return time.monotonic() - last[1] >= seconds
    poll_until(quiet, 60, interval=0.1)


def _hs(text):
    b = text.encode()
    return (len(b).to_bytes(4, "big") + b).hex()


def _events(ctx, good, wrong, invalid):
    allkeys = []
    for k in wrong:
        allkeys += ["-i", k]
    return [
        ("invalid user", lambda s: s.ssh(invalid, password="x")),
        ("max auth tries", lambda s: s.ssh(good, key=wrong[0],
                                           extra=allkeys)),
        ("garbage banner", lambda s: s.raw(b"GET / HTTP/1.0\r\n\r\n")),
        ("accepted publickey", lambda s: s.ssh(good, key=good.key)),
        # sshd's fatal_fr() in its preauth child: a FATAL line.
        ("malformed password", lambda s: run(
            ["/usr/bin/python3", PKWIRE, str(s.port), good.name], 60,
            check_rc=False, input=json.dumps([{"raw": [
                ["password", "00" + _hs("x") + "00"]]}]).encode())),
    ]


@timeout(1200)
def test_log_levels(ctx):
    good = ctx.make_user()
    wrong = [ctx.new_key("lvwrong%d" % i) for i in range(3)]
    invalid = "nosuch_lv"
    events = _events(ctx, good, wrong, invalid)
    got = {}

    def battery(kind, level):
        peer = Peer(ctx, kind, ["LogLevel " + level, "UsePAM no",
                                "PasswordAuthentication yes",
                                "KbdInteractiveAuthentication no",
                                "MaxAuthTries 3",
                                "AuthorizedKeysFile .ssh/authorized_keys"],
                    args=("-e",))
        _quiet(peer)
        for name, action in events:
            start = os.path.getsize(peer.log)
            action(peer)
            _quiet(peer)
            with open(peer.log, "rb") as f:
                f.seek(start)
                text = f.read().decode("latin-1")
            got[(kind, level, name)] = sorted(
                _norm(l) for l in text.replace("\r", "").split("\n")
                if l and not l.startswith("Close session: "))
        peer.stop()

    for level in LEVELS:
        _both(lambda kind: battery(kind, level))
    errors = []
    for level in LEVELS:
        for name, _a in events:
            want = got[("sshd", level, name)]
            have = got[("postern", level, name)]
            if want != have:
                errors.append("%s at %s:\n  sshd    %s\n  postern %s" % (
                    name, level, "\n          ".join(want) or "-",
                    "\n          ".join(have) or "-"))
    check(any(got[("sshd", "FATAL", n)] for n, _a in events),
          "sshd wrote no FATAL line: the battery tests nothing there")
    if errors:
        fail("\n".join(errors))
