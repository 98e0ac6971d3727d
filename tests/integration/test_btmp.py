"""
test_btmp.py: failed logins in /var/log/btmp (what `lastb` shows), as
Debian's sshd 9.2 records them, with both servers run side by side: one
LOGIN_PROCESS record on "ssh:notty" for an invalid user, and one for each
failed password or keyboard-interactive attempt (the name as the client
sent it, the client's host and address, the monitor's pid); none for a
key that does not fit. The servers write the system's btmp, as sshd
does; the test picks out its own records by its user names, which no
other test uses.
"""

import grp
import json
import os
import secrets
import struct
import subprocess

import harness
from harness import check, timeout
from test_auth_oracle import _set_password
from test_proto_parity import Server

BTMP = "/var/log/btmp"
SYSTEM_PYTHON = "/usr/bin/python3"
# struct utmp on x86_64 (<bits/utmp.h>): type, pid, line, id, user, host,
# exit status, session, tv, addr_v6, unused.
UTMP = struct.Struct("<hxxi32s4s32s256shhiii16s20s")
LOGIN_PROCESS = 6

# paramiko (in the system python only): attempts in order on one
# connection, each ["password", secret] / ["kbdint", secret] /
# ["publickey", keyfile]; a list of which succeeded.
_CLIENT = r'''
import json, socket, sys
import paramiko

user, port, tries = json.loads(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
t = paramiko.Transport(s)
t.start_client(timeout=20)
out = []
for method, arg in tries:
    try:
        if method == "password":
            t.auth_password(user, arg)
        elif method == "kbdint":
            t.auth_interactive(user, lambda ti, ins, pl: [arg] * len(pl))
        else:
            t.auth_publickey(
                user, paramiko.Ed25519Key.from_private_key_file(arg))
        out.append(True)
    except paramiko.AuthenticationException:
        out.append(False)
print(json.dumps(out), flush=True)
t.close()
'''


def _attempts(port, user, tries):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.run([SYSTEM_PYTHON, "-c", _CLIENT,
                        json.dumps([user, port, tries])],
                       capture_output=True, timeout=120, env=env)
    check(p.returncode == 0 and p.stdout,
          "the paramiko client failed: %r" % p.stderr[-600:])
    return json.loads(p.stdout)


def _records(names, start):
    """btmp's records for these user names from byte start on, in file
    order (start: the file's size before, a whole number of records)."""
    with open(BTMP, "rb") as f:
        f.seek(start)
        data = f.read()
    out = []
    for off in range(0, len(data) - UTMP.size + 1, UTMP.size):
        f = UTMP.unpack_from(data, off)
        user = f[4].rstrip(b"\0").decode(errors="replace")
        if user in names:
            out.append({"type": f[0], "pid": f[1],
                        "line": f[2].rstrip(b"\0").decode(),
                        "id": f[3].rstrip(b"\0").decode(),
                        "user": user,
                        "host": f[5].rstrip(b"\0").decode(),
                        "addr": f[11][:4], "usec": f[10]})
    return out


def _btmp_present(ctx):
    """The system's btmp as Debian ships it (root:utmp 0660), made for
    the test and removed after it when the machine has none."""
    if os.path.exists(BTMP):
        return
    fd = os.open(BTMP, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o660)
    os.close(fd)
    os.chown(BTMP, 0, grp.getgrnam("utmp").gr_gid)
    os.chmod(BTMP, 0o660)
    ctx.cleanups.append(lambda: os.unlink(BTMP))


@timeout(180)
def test_failed_logins_in_btmp(ctx):
    harness.openssh_sshd()
    _btmp_present(ctx)
    u = ctx.make_user()
    _set_password(u.name, "right-" + secrets.token_hex(4))
    other_key = ctx.new_key("notauthorized")
    conf = ["UsePAM yes", "PasswordAuthentication yes",
            "KbdInteractiveAuthentication yes", "MaxAuthTries 10"]
    got = {}
    for kind in ("sshd", "postern"):
        srv = Server(ctx, kind, conf, "-btmp")
        start = os.path.getsize(BTMP)
        check(start % UTMP.size == 0, "%s is not whole records" % BTMP)
        invalid = "nouser_" + secrets.token_hex(4)
        res = _attempts(srv.port, invalid, [["password", "x"]])
        check(res == [False], "%s: %s logged in: %r" % (kind, invalid, res))
        # Only keys: the invalid user's own record, nothing per try.
        keys_only = "nokeyuser_" + secrets.token_hex(4)
        res = _attempts(srv.port, keys_only, [["publickey", other_key],
                                              ["publickey", u.key]])
        check(res == [False, False], "%s: %s logged in" % (kind, keys_only))
        res = _attempts(srv.port, u.name, [["publickey", other_key],
                                           ["password", "wrong"],
                                           ["kbdint", "wrong"]])
        check(res == [False, False, False],
              "%s: a wrong secret was accepted: %r" % (kind, res))
        # The monitor writes its record before it answers; none comes
        # later. A right key adds nothing either.
        res = _attempts(srv.port, u.name, [["publickey", u.key]])
        check(res == [True], "%s: the user's key was refused" % kind)
        srv.stop()
        recs = _records({invalid, keys_only, u.name}, start)
        for r in recs:
            check(r["pid"] > 1 and r["pid"] != srv.proc.pid,
                  "%s: btmp pid %d is not a connection's" % (kind, r["pid"]))
        got[kind] = [(r["type"], r["user"].replace(invalid, "INVALID")
                      .replace(keys_only, "KEYSONLY"),
                      r["line"], r["id"], r["host"], r["addr"], r["usec"])
                     for r in recs]
    want = [(LOGIN_PROCESS, "INVALID", "ssh:notty", "", "127.0.0.1",
             bytes([127, 0, 0, 1]), 0)] * 2 + \
        [(LOGIN_PROCESS, "KEYSONLY", "ssh:notty", "", "127.0.0.1",
          bytes([127, 0, 0, 1]), 0)] + \
        [(LOGIN_PROCESS, u.name, "ssh:notty", "", "127.0.0.1",
          bytes([127, 0, 0, 1]), 0)] * 2
    check(got["sshd"] == want,
          "sshd 9.2's btmp records are not what the test expects (the "
          "table is wrong): %r" % (got["sshd"],))
    check(got["postern"] == want,
          "postern's btmp records differ from sshd's: %r, want %r"
          % (got["postern"], want))
