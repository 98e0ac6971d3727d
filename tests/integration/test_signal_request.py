"""
test_signal_request.py: RFC 4254 s6.9 "signal" channel requests reach the
session's program. OpenSSH's client has no way to send one, so paramiko
(in /usr/bin/python3 only) sends the raw CHANNEL_REQUEST.
"""

import os
import re
import subprocess

from harness import check

SYSTEM_PYTHON = "/usr/bin/python3"

# Both clients: log in (argv: port user key ARG), send_signal().
COMMON = r"""
import sys
import paramiko
from paramiko.common import cMSG_CHANNEL_REQUEST
from paramiko.message import Message

port, user, keyfile, arg = sys.argv[1:5]
client = paramiko.SSHClient()
client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
client.connect("127.0.0.1", port=int(port), username=user,
               key_filename=keyfile, allow_agent=False, look_for_keys=False,
               timeout=20)


def send_signal(chan, name):
    m = Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string("signal")
    m.add_boolean(False)
    m.add_string(name)
    chan.transport._send_user_message(m)
"""

SCRIPT = COMMON + r"""
signame = arg
chan = client.get_transport().open_session()
chan.exec_command("trap 'echo got-%s; exit 7' %s; echo ready; "
                  "while :; do sleep 0.1; done" % (signame, signame))
f = chan.makefile("rb")
line = f.readline()
if line != b"ready\n":
    sys.exit("no ready line: %r" % line)
send_signal(chan, signame)
rest = f.read()
status = chan.recv_exit_status()
client.close()
sys.stdout.buffer.write(rest)
sys.exit(status)
"""


def _run(ctx, u, signame):
    script = os.path.join(ctx.dir, "signal_client.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    p = subprocess.run([SYSTEM_PYTHON, script, str(ctx.port), u.name, u.key,
                        signame], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    ctx._note_client([SYSTEM_PYTHON, script, signame], p.returncode,
                     p.stderr)
    return p


def test_signal_request_reaches_program(ctx):
    check(os.path.exists(SYSTEM_PYTHON), "%s missing" % SYSTEM_PYTHON)
    ctx.start_server()
    u = ctx.make_user()
    for signame in ("TERM", "USR1"):
        p = _run(ctx, u, signame)
        check(p.returncode == 7 and
              p.stdout.strip() == ("got-%s" % signame).encode(),
              "signal %s: rc %s, output %r, stderr %r"
              % (signame, p.returncode, p.stdout, p.stderr[-400:]))


# The signal request right behind the exec, without waiting for the
# program: the session's child may not lead its own process group yet.
EARLY = COMMON + r"""
out = []
for i in range(int(arg)):
    chan = client.get_transport().open_session()
    chan.exec_command("exec sleep 20")
    send_signal(chan, "TERM")
    chan.status_event.wait(60)
    out.append("%s" % (chan.exit_status if chan.exit_status_ready()
                       else "none"))
    chan.close()
client.close()
print(" ".join(out))
"""


def test_signal_right_after_exec(ctx):
    """A "signal" request that follows the "exec" at once reaches the
    program even when it comes before the program's child has its own
    process group: as sshd, the program dies of it (exit-signal, no
    exit status)."""
    check(os.path.exists(SYSTEM_PYTHON), "%s missing" % SYSTEM_PYTHON)
    ctx.start_server()
    u = ctx.make_user()
    script = os.path.join(ctx.dir, "early_signal.py")
    with open(script, "w") as f:
        f.write(EARLY)
    p = subprocess.run([SYSTEM_PYTHON, script, str(ctx.port), u.name, u.key,
                        "10"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    ctx._note_client([SYSTEM_PYTHON, script], p.returncode, p.stderr)
    got = p.stdout.decode().split()
    check(p.returncode == 0 and got == ["-1"] * 10,
          "exit statuses %r (want -1, killed by the signal, 10 times): %r"
          % (got, p.stderr[-400:]))
    check(not re.search(r"killpg\(\d+, \d+\): ", ctx.server_log()),
          "a killpg error was logged")
