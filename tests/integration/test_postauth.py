"""
test_postauth.py: what the root monitor does for a login after
authentication, as OpenSSH's sshd does it: the credentials PAM establishes
(pam_group's supplementary groups) reach the user's session; and what it
refuses a taken-over session process (a rogue postern-session speaking
the monitor IPC).
"""

import os
import re
import subprocess

import harness
from harness import check, poll_until, read_text, run

GROUP_CONF = "/etc/security/group.conf"


def _group_conf_line(ctx, line):
    """Append line to pam_group's (system-wide) file for this test only."""
    with open(GROUP_CONF) as f:
        before = f.read()
    with open(GROUP_CONF, "a") as f:
        f.write(line + "\n")

    def restore():
        with open(GROUP_CONF) as f:
            now = f.read()
        with open(GROUP_CONF, "w") as f:
            f.write(now.replace(line + "\n", "") if before in now else before)
    ctx.cleanups.append(restore)


def test_pam_group_credentials_reach_session(ctx):
    svc = ctx.pam_service([
        "auth optional pam_group.so",
        "auth required pam_deny.so",
        "account required pam_unix.so",
        "session required pam_unix.so"])
    u = ctx.make_user()
    _group_conf_line(ctx, "%s;*;%s;Al0000-2400;audio" % (svc, u.name))
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "id -Gn")
    check(r.rc == 0, "login failed: rc %s %s" % (r.rc, r.err[-300:]))
    groups = r.stdout.decode().split()
    check("audio" in groups,
          "pam_group's group (pam_setcred, after initgroups as OpenSSH) "
          "is missing from the session: %r" % groups)
    check(u.name in groups or len(groups) >= 2,
          "the user's own groups went: %r" % groups)


# --- a taken-over session process ----------------------------------------
#
# postern-session replaced by ROGUE (a C stub running ROGUE_PY with
# python3, as the user, fds 3 and 4 as the real one gets them): it speaks
# the monitor IPC (docs/ipc.md) as a compromised session would, and
# writes what it got to OUT, one line per step.

ROGUE_STUB = r'''
#include <unistd.h>
int main(void) {
	char *argv[] = {"python3", SCRIPT, NULL}, *envp[] = {NULL};
	execve("/usr/bin/python3", argv, envp);
	return 127;
}
'''

ROGUE_PY = r'''
import array, os, socket, struct, sys
OUT, STEPS = sys.argv[0] + ".out", open(sys.argv[0] + ".steps").read().split()
ipc = socket.socket(fileno=4)
out = open(OUT, "a", buffering=1)
def rd(n):
    b = b""
    while len(b) < n:
        c = ipc.recv(n - len(b))
        if not c:
            out.write("eof\n"); sys.exit(0)
        b += c
    return b
def recv():
    fds = array.array("i")
    msg, anc, _, _ = ipc.recvmsg(5, socket.CMSG_SPACE(4 * fds.itemsize))
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    if not msg:
        out.write("eof\n"); sys.exit(0)
    msg += rd(5 - len(msg))
    n, t = struct.unpack(">IB", msg)
    return t, rd(n - 1), list(fds)
def send(t, payload=b""):
    ipc.sendall(struct.pack(">IB", len(payload) + 1, t) + payload)
def s(b):
    return struct.pack(">I", len(b)) + b
recv(); recv()  # IPC_SESSION_INIT, IPC_SESSION_LOGIN
ttys, masters = [], []
for step in STEPS:
    if step == "pty":
        send(21)
        t, p, fds = recv()
        ok = struct.unpack(">I", p[:4])[0]
        name = p[8:8 + struct.unpack(">I", p[4:8])[0]].decode()
        ttys.append(name); masters += fds
        out.write("pty %d %s\n" % (ok, name))
    elif step.startswith("login:"):
        pid = os.getpid() if step == "login:self" else int(step[6:])
        send(23, s(ttys[-1].encode()) + struct.pack(">I", pid))
        t, p, _ = recv()
        out.write("login-reply %d %d\n" % (t, pid))
    elif step.startswith("raw:"):
        send(int(step[4:]))
        out.write("sent %s\n" % step[4:])
        t, p, _ = recv()
        out.write("reply %d\n" % t)
    elif step == "logout":
        send(25, s(ttys.pop().encode()))
        out.write("logout\n")
out.write("done\n")
'''


def rogue_server(ctx, steps):
    """A server whose session process is ROGUE doing steps; the path of
    the file ROGUE writes what it got to."""
    d = os.path.join(ctx.dir, "rogue")
    os.makedirs(d, 0o755, exist_ok=True)
    script = os.path.join(d, "rogue.py")
    with open(script, "w") as f:
        f.write(ROGUE_PY)
    with open(script + ".steps", "w") as f:
        f.write(" ".join(steps) + "\n")
    out = script + ".out"
    open(out, "w").close()
    os.chmod(out, 0o666)
    src = os.path.join(d, "stub.c")
    with open(src, "w") as f:
        f.write(ROGUE_STUB)
    exe = os.path.join(d, "stub")
    run(["cc", "-O2", "-DSCRIPT=\"%s\"" % script, "-o", exe, src])
    os.chmod(exe, 0o711)
    srv = harness.copy_server(ctx.server_path, os.path.join(ctx.dir, "bin"),
                              {"postern-session": exe})
    ctx.start_server(server=srv)
    return out


def rogue_run(ctx, u, out):
    """Log in as u; wait until ROGUE is done (or ended); its lines."""
    p = subprocess.Popen(ctx.ssh_argv(u, "true"), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx.children.append(p)
    check(ctx.wait_log(r"^Accepted publickey for %s " % u.name, 10),
          "login failed:\n%s" % harness.tail(ctx.server_log()))
    poll_until(lambda: re.search(r"^(done|eof)$", read_text(out), re.M) or
               not harness.descendants(ctx.proc.pid), 20)
    p.kill()
    p.wait()
    poll_until(lambda: not harness.descendants(ctx.proc.pid), 20)
    return read_text(out).splitlines()


def test_login_record_pid_is_the_sessions(ctx):
    """A login record's request names the session process's own pid
    (utmp's ut_pid is then the monitor's, as sshd 9.2 records its [priv]
    process), never a number a taken-over session chooses: another pid
    ends the connection, nothing written."""
    u = ctx.make_user()
    out = rogue_server(ctx, ["pty", "login:self", "pty", "login:1"])
    lines = rogue_run(ctx, u, out)
    check(len(lines) >= 3 and lines[0].startswith("pty 1 /dev/pts/") and
          re.match(r"login-reply 24 \d+$", lines[1]) and
          lines[2].startswith("pty 1 /dev/pts/"),
          "the session's own login record was not accepted: %r" % lines)
    check(not any(l.startswith("login-reply") and l.endswith(" 1")
                  for l in lines),
          "a login record with pid 1 was written: %r" % lines)
    check(ctx.wait_log(r"monitor: login record refused: pid 1 is not the "
                       r"session's", 10),
          "no refusal logged:\n%s" % harness.tail(ctx.server_log()))


def test_preauth_messages_out_of_state(ctx):
    """The preauth process's requests (here IPC_SIGN_REQ, 3, whose
    signature would record a session id) from the session: the monitor
    kills the session and says why."""
    u = ctx.make_user()
    out = rogue_server(ctx, ["raw:3"])
    lines = rogue_run(ctx, u, out)
    check("reply 4" not in lines, "the session got a reply: %r" % lines)
    check(ctx.wait_log(r"monitor: bad message 3 from session: message not "
                       r"allowed in this state$", 10),
          "no refusal logged:\n%s" % harness.tail(ctx.server_log()))
    check(ctx.wait_log(r"session process \d+ terminated by signal 9", 10),
          "the session was not killed:\n%s"
          % harness.tail(ctx.server_log()))
