"""Plain zlib compression (RFC 4253 s6.2), which starts with the first
NEWKEYS, before authentication: the session process rebuilds both zlib
streams from the history preauth hands over. paramiko is the client (OpenSSH's
ssh always prefers zlib@openssh.com)."""

import json
import os

import harness
from harness import check

_CLIENT = r'''
import hashlib, json, sys, threading
import paramiko

port, user, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
up = b"".join(b"upload line %08d of compressible text\n" % i
              for i in range(60000))
t = paramiko.Transport(("127.0.0.1", port))
t.use_compression(True)
t._preferred_compression = ("zlib",)
t.connect(username=user, pkey=paramiko.Ed25519Key(filename=key))
res = {"remote_comp": t.remote_compression, "local_comp": t.local_compression}
ch = t.open_session()
ch.exec_command("sha256sum; seq 1 300000")

def feed():
    ch.sendall(up)
    ch.shutdown_write()

w = threading.Thread(target=feed)
w.start()
out = b""
while True:
    d = ch.recv(65536)
    if not d:
        break
    out += d
w.join()
res["rc"] = ch.recv_exit_status()
res["up_sha"] = hashlib.sha256(up).hexdigest()
res["up_len"] = len(up)
res["out_head"] = out[:80].decode(errors="replace")
res["down_ok"] = out[68:] == b"".join(b"%d\n" % i for i in range(1, 300001))
res["down_len"] = len(out) - 68
# A rekey after the hand-over: both streams start afresh (RFC 4253 s6.2).
t.renegotiate_keys()
ch = t.open_session()
ch.exec_command("sha256sum")
ch.sendall(up)
ch.shutdown_write()
again = b""
while True:
    d = ch.recv(65536)
    if not d:
        break
    again += d
res["after_rekey"] = again.decode(errors="replace")
t.close()
print(json.dumps(res))
'''


def _paramiko(ctx, text, args, timeout_s):
    """Run a paramiko script (text) with args; returns (rc, stdout lines,
    stderr)."""
    script = os.path.join(ctx.dir, "zlib_client.py")
    with open(script, "w") as f:
        f.write(text)
    r = harness.run(["/usr/bin/python3", script] + [str(a) for a in args],
                    check_rc=False, timeout_s=timeout_s)
    return (r.returncode, r.stdout.decode(errors="replace").strip()
            .splitlines(), r.stderr.decode(errors="replace"))


@harness.timeout(120)
def test_compression_zlib_paramiko(ctx):
    """paramiko forced to plain zlib: logs in with a key (the compressed
    preauth traffic crosses the hand-over), then more than 1 MB each way
    through one exec channel, content checked, then again after a rekey
    (fresh streams); the server log names zlib for both directions."""
    ctx.start_server()
    user = ctx.make_user()
    rc, out, err = _paramiko(ctx, _CLIENT, [ctx.port, user.name, user.key],
                             100)
    check(rc == 0 and out, "paramiko zlib client failed: %s\n%s"
          % (err[-2000:], harness.tail(ctx.server_log())))
    res = json.loads(out[-1])
    check(res["local_comp"] == "zlib" and res["remote_comp"] == "zlib",
          "paramiko did not use zlib: %r" % res)
    check(res["up_len"] > 1000000, "upload too small")
    check(res["rc"] == 0, "remote command failed: %r" % res)
    check(res["out_head"].startswith(res["up_sha"] + "  -\n"),
          "upload changed on the way: %r" % res)
    check(res["down_ok"] and res["down_len"] > 1000000,
          "download changed on the way: %r" % res)
    check(res["after_rekey"] == res["up_sha"] + "  -\n",
          "upload after a rekey changed on the way: %r" % res)
    check(ctx.wait_log(r"kex: client->server cipher: \S+ MAC: \S+ "
                       r"compression: zlib( \[preauth\])?$"),
          "no client->server compression: zlib in the log:\n%s"
          % harness.tail(ctx.server_log()))
    check(ctx.wait_log(r"kex: server->client cipher: \S+ MAC: \S+ "
                       r"compression: zlib( \[preauth\])?$"),
          "no server->client compression: zlib in the log")


@harness.timeout(60)
def test_compression_zlib_refused_when_off(ctx):
    """Compression no: a client that insists on zlib finds no match."""
    ctx.start_server(["Compression no"])
    user = ctx.make_user()
    rc, _, _ = _paramiko(ctx, _CLIENT, [ctx.port, user.name, user.key], 50)
    check(rc != 0, "zlib negotiated although Compression no")
    check(ctx.wait_log(r"no matching compression method found"),
          "no 'no matching compression method found' line:\n%s"
          % harness.tail(ctx.server_log()))


_FLOOD = r'''
import sys, time
import paramiko

port = int(sys.argv[1])
t = paramiko.Transport(("127.0.0.1", port))
t.use_compression(True)
t._preferred_compression = ("zlib",)
t.start_client(timeout=20)
try:
    for i in range(4):
        t.send_ignore(30000)  # random bytes: they do not compress
except (EOFError, OSError):
    pass  # the server may close before the last one is written
# Until the server closes (a slow ASan build takes its time), at most 20 s.
end = time.monotonic() + 20
while t.is_active() and time.monotonic() < end:
    time.sleep(0.1)
print("active" if t.is_active() else "closed")
'''


@harness.timeout(60)
def test_compression_zlib_preauth_cap(ctx):
    """More than 64 KiB of compressed traffic before authentication (the
    history the hand-over would carry) ends the connection with a log
    line; the server goes on."""
    ctx.start_server()
    _, out, err = _paramiko(ctx, _FLOOD, [ctx.port], 50)
    check(out == ["closed"], "flooding client not disconnected: %r %s"
          % (out, err[-1000:]))
    check(ctx.wait_log(r"compressed traffic before authentication exceeds "
                       r"65536 bytes"),
          "no log line for the cap:\n%s" % harness.tail(ctx.server_log()))
    check(ctx.server_alive(), "the listener died")


_BIG_PACKETS = r'''
import json, sys
import paramiko
from paramiko.packet import Packetizer

port, user, key, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
reads = []
orig = Packetizer.read_all

def read_all(self, n, check_rekey=False):
    reads.append(n)
    return orig(self, n, check_rekey)

Packetizer.read_all = read_all
t = paramiko.Transport(("127.0.0.1", port))
t.use_compression(True)
t.get_security_options().ciphers = ("aes128-ctr",)
t.get_security_options().digests = ("hmac-sha2-256-etm@openssh.com",)
t.connect(username=user, pkey=paramiko.Ed25519Key(filename=key))
ch = t.open_session(window_size=8 * 1048576, max_packet_size=1048576)
ch.exec_command("cat " + path)
n = 0
while True:
    d = ch.recv(1 << 20)
    if not d:
        break
    n += len(d)
rc = ch.recv_exit_status()
t.close()
print(json.dumps({"rc": rc, "len": n, "max_read": max(reads),
                  "comp": t.remote_compression}))
'''


@harness.timeout(120)
def test_compression_packets_within_limit(ctx):
    """A client that takes 1 MB packets, compression on, random data
    (which zlib cannot shrink and grows a little): no packet is longer
    than the 256 KiB limit (RFC 4253 s6.1; OpenSSH and postern refuse a
    longer one). With an etm MAC the length is read on its own, then the
    rest in one read: the largest read is the longest packet."""
    ctx.start_server()
    user = ctx.make_user()
    src, _, size = ctx.random_file(3 * 1024 * 1024)
    os.chmod(src, 0o644)
    os.chmod(os.path.dirname(src), 0o755)
    rc, out, err = _paramiko(ctx, _BIG_PACKETS,
                             [ctx.port, user.name, user.key, src], 100)
    check(rc == 0 and out, "paramiko failed: %s" % err[-2000:])
    res = json.loads(out[-1])
    check(res["rc"] == 0 and res["len"] == size and
          res["comp"] == "zlib@openssh.com",
          "the download did not go through compressed: %r" % res)
    check(res["max_read"] <= 256 * 1024,
          "a packet of %d bytes (over 256 KiB): %r" % (res["max_read"], res))


_PASSWORDS = r'''
import sys, time
import paramiko

port, user, wrong, right = int(sys.argv[1]), sys.argv[2], sys.argv[3], \
    sys.argv[4]
t = paramiko.Transport(("127.0.0.1", port))
t.use_compression(True)
t._preferred_compression = ("zlib",)
t.start_client(timeout=20)
try:
    t.auth_password(user, wrong)
except paramiko.AuthenticationException:
    pass
t.auth_password(user, right)
ch = t.open_session()
ch.exec_command("echo in; sleep 60")
print(ch.recv(16).decode().strip(), flush=True)
time.sleep(60)
'''


@harness.timeout(90)
def test_compression_zlib_passwords_wiped_from_session(ctx):
    """Plain zlib before authentication: the session rebuilds the inflate
    stream from the history, so its window held the passwords typed to
    log in, the wrong one too, for as long as the stream lived. The
    session now starts a key exchange at once, which starts both streams
    afresh and wipes the old ones: the passwords leave its memory."""
    import secrets
    import subprocess
    u = ctx.make_user()
    wrong = "Wrong-" + secrets.token_hex(8)
    right = "Right-" + secrets.token_hex(8)
    harness.run(["chpasswd"], input=("%s:%s\n" % (u.name, right)).encode())
    ctx.start_server(["PasswordAuthentication yes"])
    script = os.path.join(ctx.dir, "zlib_passwords.py")
    with open(script, "w") as f:
        f.write(_PASSWORDS)
    p = ctx.popen(["/usr/bin/python3", script, str(ctx.port), u.name,
                   wrong, right], stdin=subprocess.DEVNULL,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        if p.stdout.readline() != b"in\n":
            p.kill()
            check(False, "the zlib password login failed: %r"
                  % p.communicate(timeout=10)[1][-2000:])
        sessions = subprocess.run(["pgrep", "-u", u.name, "-f", "^sshd: "],
                                  capture_output=True, text=True).stdout
        check(len(sessions.split()) == 1,
              "want one session process: %r" % sessions)
        pid = int(sessions.split()[0])
        needles = [wrong.encode(), right.encode()]
        left = {}

        def wiped():
            found, _ = harness.scan_memory(pid, needles + [b"sleep 60"])
            check(found[b"sleep 60"], "the scan did not find the command: "
                  "no heap read?")
            left.update({k: v for k, v in found.items() if k in needles})
            return not any(found[n] for n in needles)
        check(harness.poll_until(wiped, 10),
              "passwords still in the session's memory: %r"
              % {k: v[:2] for k, v in left.items() if v})
    finally:
        p.kill()
        p.wait(10)
