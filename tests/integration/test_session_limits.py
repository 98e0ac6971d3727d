"""
test_session_limits.py: the session process under a hostile or starved
client (a security review's findings, each reproduced with paramiko):

- a client that never answers the server's KEXINIT of a rekey gets no PONG
  for its PINGs (OpenSSH 9.9p2, CVE-2025-26466), and one that keeps asking
  for replies meanwhile is disconnected once the replies held back for the
  end of the exchange reach their cap, with a log line;
- a session out of descriptors rests its listeners for a second when
  accept() fails (no busy loop, no log flood) and takes the waiting
  connection later;
- a channel that cannot get its descriptors fails alone: the connection
  goes on.
"""

import json
import os
import re
import subprocess
import time

import harness
from harness import check, timeout

# ---------------------------------------------------------------------------
# A rekey the client never answers (paramiko, in /usr/bin/python3 only)

# The client's KEXINIT handler waits for the main thread: the server's
# rekey (RekeyLimit's 1 s interval) stays in KEX_WAIT_KEXINIT meanwhile.
# "ping": 50 PINGs of 64 KiB, then the exchange is finished and one more
# PING is sent; every PONG that arrives is recorded. "flood": global
# requests that want a reply, until the server ends the connection.
_STALL_KEX = r'''
import json, socket, sys, threading
import paramiko
from paramiko.message import Message

port, user, key, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
t = paramiko.Transport(("127.0.0.1", port))
t.connect(username=user, pkey=paramiko.Ed25519Key(filename=key))
seen, resume, started = threading.Event(), threading.Event(), threading.Event()
pongs = []
orig = type(t)._handler_table[20]

def on_kexinit(self, m):
    seen.set()
    resume.wait()
    orig(self, m)  # clears clear_to_send until the exchange is done
    started.set()

def on_pong(self, m):
    pongs.append(m.get_binary()[:8].decode())

t._handler_table = dict(type(t)._handler_table)
t._handler_table[20] = on_kexinit
t._handler_table[193] = on_pong
res = {"kexinit": seen.wait(30)}

def ping(tag, size):
    m = Message()
    m.add_byte(bytes([192]))
    m.add_string(tag.encode() + b"x" * (size - len(tag)))
    t._send_message(m)

if mode == "ping":
    for i in range(50):
        ping("during%02d" % i, 64 * 1024)
    resume.set()
    res["rekeyed"] = started.wait(30) and t.clear_to_send.wait(30)
    ping("after---", 16)
    ch = t.open_session()
    ch.exec_command("echo alive")
    res["echo"] = ch.makefile().read().decode()
    res["pongs"] = pongs
else:
    m = Message()
    m.add_byte(bytes([80]))
    m.add_string("flood@postern.test")
    m.add_boolean(True)
    res["sent"] = 0
    try:
        while res["sent"] < 1000000:
            t._send_message(m)
            res["sent"] += 1
    except (OSError, EOFError, paramiko.SSHException) as e:
        res["error"] = repr(e)
    resume.set()
print(json.dumps(res))
sys.stdout.flush()
t.close()
'''


def _stall_kex(ctx, mode):
    ctx.start_server(extra_config=["RekeyLimit default 1"])
    user = ctx.make_user()
    script = os.path.join(ctx.dir, "stall_kex.py")
    with open(script, "w") as f:
        f.write(_STALL_KEX)
    r = harness.run(["/usr/bin/python3", script, str(ctx.port), user.name,
                     user.key, mode], check_rc=False, timeout_s=150)
    out = r.stdout.decode(errors="replace").strip().splitlines()
    check(out and out[-1].startswith("{"), "paramiko script failed (%s): %s"
          % (r.returncode, r.stderr.decode(errors="replace")[-2000:]))
    res = json.loads(out[-1])
    check(res["kexinit"], "the server never started its timed rekey")
    return res


@timeout(120)
def test_ping_ignored_during_rekey(ctx):
    """PINGs sent while the server waits for the client's KEXINIT get no
    PONG, not even after the exchange; one sent after it does."""
    res = _stall_kex(ctx, "ping")
    check(res["rekeyed"], "the key exchange did not finish: %r" % res)
    check(res["echo"] == "alive\n", "no session after the rekey: %r" % res)
    check(res["pongs"] == ["after---"],
          "PONGs received %r, want only the one after the rekey"
          % res["pongs"][:5])
    check(ctx.wait_log(r"ignoring PING during key exchange"),
          "no log line for the ignored PINGs")


@timeout(150)
def test_held_replies_capped_during_rekey(ctx):
    """A client that never answers the rekey and keeps asking for replies
    is disconnected when the held replies reach their cap."""
    res = _stall_kex(ctx, "flood")
    check(ctx.wait_log(r"Disconnecting: peer did not answer the key "
                       r"exchange; \d+ bytes of packets held back", 30),
          "no disconnect line after %d requests (%s)"
          % (res["sent"], res.get("error")))
    check("error" in res, "the connection survived %d requests" % res["sent"])
    check(ctx.server_alive(), "the listener died")


# ---------------------------------------------------------------------------
# accept(2) out of descriptors: the listener rests, the connection lives

# The session runs under RLIMIT_NOFILE 64: two sftp channels open files
# until the session has no descriptor left, then a connection to the -R
# listener waits in its queue. On "go" from the test, the files are closed
# and the forwarded connection must arrive and carry data.
_NOFILE = 64
_STARVE_BEGIN = r'''
import json, socket, sys
import paramiko

port, user, key, home = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
t = paramiko.Transport(("127.0.0.1", port))
t.connect(username=user, pkey=paramiko.Ed25519Key(filename=key))
fport = t.request_port_forward("127.0.0.1", 0)
files, sftps, chans, res = [], [], [], {}
for n in range(2):
    sftp = paramiko.SFTPClient.from_transport(t)
    sftps.append(sftp)
    while len(files) < 200:
        try:
            files.append(sftp.open(home + "/.profile", "r"))
        except IOError:
            break
res["files"] = len(files)
# The sftp handles take at most half of the descriptors; direct-tcpip
# channels to a socket of ours take the rest.
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(256)
while len(chans) < 200:
    try:
        chans.append(t.open_channel(
            "direct-tcpip", lsock.getsockname(), ("127.0.0.1", 1),
            timeout=10))
    except paramiko.ChannelException as e:
        res["chans_end"] = e.code
        break
res["chans"] = len(chans)
'''
_STARVE = _STARVE_BEGIN + r'''
s = socket.create_connection(("127.0.0.1", fport), 10)
print("starved", flush=True)
sys.stdin.readline()
# Both sftp channels closed: the session frees their files at once (closed
# one by one, the listener's next accept could find one descriptor free,
# too few to take the connection, and drop it).
for sftp in sftps:
    sftp.close()
ch = t.accept(20)
res["accepted"] = ch is not None
if ch is not None:
    s.sendall(b"ping")
    res["data"] = ch.recv(4).decode()
    ch.sendall(b"pong")
    res["back"] = s.recv(4).decode()
res["active"] = t.is_active()
print(json.dumps(res), flush=True)
t.close()
'''
RX_ACCEPT = r"^accept: Too many open files"


def _starved_server(ctx, text):
    """A server whose connections run under RLIMIT_NOFILE _NOFILE, a user
    with a file to open, and the script: (user, home, script path)."""
    ctx.start_server(extra_config=["Subsystem sftp internal-sftp"])
    # Every connection's processes inherit the listener's limit.
    harness.run(["prlimit", "--pid", str(ctx.proc.pid),
                 "--nofile=%d:%d" % (_NOFILE, _NOFILE)])
    user = ctx.make_user()
    home = "/home/" + user.name
    with open(home + "/.profile", "a"):
        pass
    script = os.path.join(ctx.dir, "starve.py")
    with open(script, "w") as f:
        f.write(text)
    return user, home, script


@timeout(120)
def test_forward_accept_out_of_fds(ctx):
    """accept() failing with EMFILE on a -R listener logs once per
    one-second rest instead of spinning; the connection goes on and the
    queued connection is taken once descriptors are free."""
    user, home, script = _starved_server(ctx, _STARVE)
    p = ctx.popen(["/usr/bin/python3", script, str(ctx.port), user.name,
                   user.key, home], stdin=subprocess.PIPE,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline()
    if line != b"starved\n":
        p.kill()
        out, err = p.communicate(timeout=10)
        harness.fail("paramiko script failed: %r\n%s" % (
            line + out, err.decode(errors="replace")[-2000:]))
    check(ctx.wait_log(RX_ACCEPT, 20), "no accept failure was logged")
    # A listener that stays in the poll set fails thousands of times a
    # second; one that rests for a second fails about three times here.
    time.sleep(3)
    n = len(re.findall(RX_ACCEPT, ctx.server_log(), re.M))
    check(n <= 10, "accept failed %d times in about 3 seconds" % n)
    out, err = p.communicate(b"go\n", timeout=60)
    lines = out.decode(errors="replace").strip().splitlines()
    check(p.returncode == 0 and lines, "paramiko script failed: %s"
          % err.decode(errors="replace")[-2000:])
    res = json.loads(lines[-1])
    check(res["accepted"] and res.get("data") == "ping" and
          res.get("back") == "pong" and res["active"],
          "the forwarded connection did not go through: %r" % res)
    check(ctx.wait_log(r"accept: Too many open files; not accepting "
                       r"connections for 1000 ms"),
          "the accept line lacks its rest")


# ---------------------------------------------------------------------------
# A channel's own descriptors run out: that channel fails, the connection
# goes on. With every descriptor taken, a direct-tcpip open (the first, so
# the session still needs its wake pipe) fails as a resource shortage;
# with one left, the -R listener's connection is accepted and served (a
# socket is one descriptor for both directions; before, its duplicate
# failed and it was dropped). Then the files are closed and a command
# and a forwarded connection still work.
_DROP = _STARVE_BEGIN + r'''
try:
    t.open_channel("direct-tcpip", ("127.0.0.1", fport), ("127.0.0.1", 1),
                   timeout=10).close()
    res["direct"] = "opened"
except paramiko.ChannelException as e:
    res["direct"] = e.code
files.pop().close()
s = socket.create_connection(("127.0.0.1", fport), 10)
ch = t.accept(20)
if ch is not None:
    s.sendall(b"one!")
    res["one_left"] = ch.recv(4).decode()
    ch.close()
s.close()
for f in files:
    f.close()
res["active"] = t.is_active()
ch = t.open_session()
ch.exec_command("echo alive")
res["echo"] = ch.makefile().read().decode()
s = socket.create_connection(("127.0.0.1", fport), 10)
ch = t.accept(20)
res["accepted"] = ch is not None
if ch is not None:
    s.sendall(b"ping")
    res["data"] = ch.recv(4).decode()
print(json.dumps(res), flush=True)
t.close()
'''


@timeout(120)
def test_channel_out_of_fds_not_fatal(ctx):
    """direct-tcpip without descriptors fails alone; a forwarded-tcpip
    connection with one descriptor left is served."""
    user, home, script = _starved_server(ctx, _DROP)
    r = harness.run(["/usr/bin/python3", script, str(ctx.port), user.name,
                     user.key, home], check_rc=False, timeout_s=90)
    out = r.stdout.decode(errors="replace").strip().splitlines()
    check(r.returncode == 0 and out, "paramiko script failed: %s"
          % r.stderr.decode(errors="replace")[-2000:])
    res = json.loads(out[-1])
    # Refused, and the connection goes on: resource shortage (4) when its
    # wake-up pipe cannot be made, connect failed (2, as sshd) when the
    # socket cannot.
    check(res["chans"] > 0 and res["chans_end"] in (2, 4) and
          res["direct"] in (2, 4), "direct-tcpip without descriptors: %r, "
          "want OPEN_FAILURE resource shortage (4) or connect failed (2)"
          % res)
    # One descriptor is all a forwarded connection takes (its socket is
    # the channel's rfd and wfd, as in sshd): it is served.
    check(res.get("one_left") == "one!",
          "the forwarded connection with one descriptor left: %r" % res)
    check(res["active"] and res["echo"] == "alive\n" and res["accepted"]
          and res.get("data") == "ping",
          "the connection did not go on: %r" % res)
    check(ctx.server_alive(), "the listener died")
