"""
test_transport_algs.py: ciphers, MACs and compression with real clients:
the OpenSSH client logs in and runs a command with every cipher and with
every MAC over aes128-ctr (and its -v output names what was negotiated);
`ssh -C` negotiates zlib@openssh.com and moves data intact; a client with
no algorithm in common is refused with OpenSSH's "no matching ... found"
log line; a byte flipped in flight is caught ("Corrupted MAC on input.")
and the server keeps serving; a bogus packet length before KEX ends that
connection with a log line; paramiko (aes-ctr + hmac-sha2) logs in.
"""

import hashlib
import os
import re
import socket
import subprocess
import threading

import harness
from harness import check

CIPHERS = ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
           "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr",
           "aes256-ctr"]
MACS = ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com", "umac-64@openssh.com",
        "umac-128@openssh.com", "umac-64-etm@openssh.com",
        "umac-128-etm@openssh.com", "hmac-sha1", "hmac-sha1-etm@openssh.com"]
ALL_MACS_CONFIG = "MACs " + ",".join(MACS)


def _negotiated(err, what):
    """The client's -v lines 'kex: server->client cipher: X MAC: Y
    compression: Z' and the client->server one."""
    return [l for l in err.splitlines() if "kex: %s" % what in l]


def test_every_cipher(ctx):
    u = ctx.make_user()
    ctx.start_server()
    for c in CIPHERS:
        r = ctx.ssh(u, "echo ok", verbose=True, extra=("-c", c))
        check(r.rc == 0 and r.stdout == b"ok\n",
              "%s: login failed: rc %s %s" % (c, r.rc, r.err[-400:]))
        lines = _negotiated(r.err, "server->client cipher: %s " % c)
        check(lines, "%s: the client did not report negotiating it" % c)


def test_every_mac_with_ctr(ctx):
    u = ctx.make_user()
    ctx.start_server([ALL_MACS_CONFIG])
    data = os.urandom(300000)
    for m in MACS:
        r = ctx.ssh(u, "sha256sum", verbose=True, input=data,
                    extra=("-c", "aes128-ctr", "-o", "MACs=" + m))
        check(r.rc == 0, "%s: login failed: rc %s %s"
              % (m, r.rc, r.err[-400:]))
        check(r.stdout.split()[0].decode() ==
              hashlib.sha256(data).hexdigest(),
              "%s: data changed on the way: %r" % (m, r.stdout[:80]))
        for d in ("client->server", "server->client"):
            check(_negotiated(r.err, "%s cipher: aes128-ctr MAC: %s "
                              % (d, m)),
                  "%s: the client did not report %s %s" % (m, d, m))


def test_default_macs_exclude_sha1(ctx):
    """hmac-sha1 only when configured: by default the client offering
    only it is refused, naming the MAC category."""
    u = ctx.make_user()
    ctx.start_server()
    r = ctx.ssh(u, "echo ok", extra=("-c", "aes128-ctr",
                                     "-o", "MACs=hmac-sha1"))
    check(r.rc == 255 and r.stdout == b"",
          "hmac-sha1 should not be offered by default: rc %s" % r.rc)
    check(ctx.wait_log(r"Unable to negotiate with 127\.0\.0\.1 port \d+: "
                       r"no matching MAC found\. Their offer: hmac-sha1"),
          "no 'no matching MAC found' line:\n%s"
          % harness.tail(ctx.server_log()))


def test_compression(ctx):
    """ssh -C: zlib@openssh.com, started after authentication, survives
    the hand-over to the session process; data intact both ways; and
    Compression no offers only none."""
    u = ctx.make_user()
    ctx.start_server()
    data = (b"compressible line of text\n" * 40000) + os.urandom(100000)
    r = ctx.ssh(u, "sha256sum; head -c 2000000 /dev/zero", verbose=True,
                input=data, extra=("-C",))
    check(r.rc == 0, "ssh -C failed: rc %s %s" % (r.rc, r.err[-400:]))
    want = hashlib.sha256(data).hexdigest().encode()
    check(r.stdout.startswith(want + b"  -\n"),
          "upload changed on the way: %r" % r.stdout[:80])
    check(r.stdout[len(want) + 4:] == b"\0" * 2000000,
          "download changed on the way (%d bytes)"
          % (len(r.stdout) - len(want) - 4))
    check(_negotiated(r.err, "server->client cipher") and
          all("compression: zlib@openssh.com" in l
              for l in _negotiated(r.err, "server->client cipher") +
              _negotiated(r.err, "client->server cipher")),
          "zlib@openssh.com not negotiated: %s"
          % _negotiated(r.err, "server->client cipher"))
    check("Enabling compression at level" in r.err,
          "the client did not enable compression:\n%s" % r.err[-600:])
    ctx.stop_server()
    ctx.start_server(["Compression no"])
    r = ctx.ssh(u, "echo ok", verbose=True, extra=("-C",))
    check(r.rc == 0 and r.stdout == b"ok\n",
          "Compression no: login failed: %s" % r.err[-300:])
    check(all("compression: none" in l
              for l in _negotiated(r.err, "server->client cipher")),
          "Compression no still negotiated zlib: %s"
          % _negotiated(r.err, "server->client cipher"))


def test_no_common_algorithm(ctx):
    """OpenSSH's log line names the category and the client's offer."""
    u = ctx.make_user()
    ctx.start_server(["Ciphers aes256-ctr", "MACs hmac-sha2-512",
                      "KexAlgorithms curve25519-sha256"])
    cases = (("cipher", ("-c", "aes128-ctr")),
             ("MAC", ("-c", "aes256-ctr", "-o", "MACs=hmac-sha2-256")),
             ("key exchange method", ("-o", "KexAlgorithms=ecdh-sha2-"
                                      "nistp256")))
    for what, extra in cases:
        r = ctx.ssh(u, "echo ok", extra=extra)
        check(r.rc == 255 and r.stdout == b"",
              "%s: a client with nothing in common logged in" % what)
        check(ctx.wait_log(r"Unable to negotiate with 127\.0\.0\.1 port "
                           r"\d+: no matching %s found\. Their offer: "
                           % what),
              "no 'no matching %s found' line:\n%s"
              % (what, harness.tail(ctx.server_log())))
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


class _Corrupter:
    """A TCP proxy between ssh and the server that flips one bit of the
    client's stream once `after' bytes went through (well after KEX)."""

    def __init__(self, ctx, after):
        self.ctx = ctx
        self.after = after
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        ctx.sockets.append(self.lsock)
        threading.Thread(target=self._run, daemon=True).start()

    def _pump(self, src, dst, corrupt):
        seen = 0
        done = False
        try:
            while True:
                b = src.recv(65536)
                if not b:
                    break
                if corrupt and not done and seen + len(b) > self.after:
                    i = max(0, self.after - seen)
                    b = b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1:]
                    done = True
                seen += len(b)
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self):
        c, _ = self.lsock.accept()
        s = socket.create_connection(("127.0.0.1", self.ctx.port))
        self.ctx.sockets.extend([c, s])
        threading.Thread(target=self._pump, args=(s, c, False),
                         daemon=True).start()
        self._pump(c, s, True)


def _corrupted_run(ctx, u, extra):
    """ssh through a _Corrupter with these options, sending 1 MB: (rc,
    stdout)."""
    proxy = _Corrupter(ctx, 200000)
    argv = ctx.ssh_argv(u, "cat >/dev/null; echo done", extra=extra)
    argv[argv.index("-p") + 1] = str(proxy.port)
    p = ctx.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    try:
        out, _ = p.communicate(os.urandom(1000000), timeout=30)
    except (BrokenPipeError, subprocess.TimeoutExpired):
        p.kill()
        out, _ = p.communicate()
    return p.returncode, out


def test_corrupted_mac(ctx):
    """One bit flipped in the encrypted stream (aes128-ctr with an -etm
    MAC, then with a MAC over the plaintext): the server logs OpenSSH's
    "Corrupted MAC on input.", drops that connection and serves the next
    client."""
    u = ctx.make_user()
    ctx.start_server()
    for n, mac in enumerate(("hmac-sha2-256-etm@openssh.com",
                             "umac-128-etm@openssh.com")):
        rc, out = _corrupted_run(ctx, u, ("-c", "aes128-ctr",
                                          "-o", "MACs=" + mac))
        check(rc != 0 and b"done" not in out,
              "%s: a corrupted stream went through: rc %s" % (mac, rc))
        # One line per connection so far: this one's is the (n+1)th.
        check(harness.poll_until(
            lambda: ctx.server_log().count("Corrupted MAC on input.") > n,
            10), "%s: no 'Corrupted MAC on input.' line:\n%s"
            % (mac, harness.tail(ctx.server_log())))
        # Then, as sshd 9.2 (-etm: checked side by side), its fatal line.
        if mac.startswith("hmac"):
            check(ctx.wait_log(r"^ssh_dispatch_run_fatal: Connection from "
                               r"user %s 127\.0\.0\.1 port \d+: message "
                               r"authentication code incorrect$"
                               % re.escape(u.name), 5),
                  "%s: no ssh_dispatch_run_fatal line" % mac)
        check(ctx.server_alive(), "the server died")
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    # Before authentication (paramiko flips a bit of its first request):
    # sshd's two lines, with [preauth].
    p = subprocess.run(["/usr/bin/python3", "-c", PREAUTH_FLIP,
                        str(ctx.port), u.name], capture_output=True,
                       timeout=60)
    check(p.returncode == 0, "paramiko: %r" % p.stderr[-500:])
    check(ctx.wait_log(r"^Corrupted MAC on input\. \[preauth\]\n"
                       r"ssh_dispatch_run_fatal: Connection from 127\.0\.0\.1 "
                       r"port \d+: message authentication code incorrect "
                       r"\[preauth\]$", 5),
          "no preauth corrupted-MAC lines:\n%s"
          % harness.tail(ctx.server_log()))
    # An AEAD cipher's tag: sshd's fatal line alone (its packet.c logs
    # "Corrupted MAC" for a MAC only).
    before = ctx.server_log().count("Corrupted MAC on input.")
    rx = re.compile(r"^ssh_dispatch_run_fatal: Connection from user %s "
                    r"127\.0\.0\.1 port \d+: message authentication code "
                    r"incorrect$" % re.escape(u.name), re.M)
    nfatal = len(rx.findall(ctx.server_log()))
    rc, out = _corrupted_run(ctx, u, ("-c", "aes128-gcm@openssh.com"))
    check(rc != 0 and b"done" not in out,
          "aes128-gcm: a corrupted stream went through: rc %s" % rc)
    check(harness.poll_until(
        lambda: len(rx.findall(ctx.server_log())) > nfatal, 5),
          "aes128-gcm: no ssh_dispatch_run_fatal line")
    check(ctx.server_log().count("Corrupted MAC on input.") == before,
          "aes128-gcm: a 'Corrupted MAC' line for an AEAD tag")
    log = ctx.server_log()
    check(log.count("Corrupted MAC on input.") >= 2,
          "want a corrupted-MAC line per connection:\n%s"
          % harness.tail(log))


def test_packet_length_out_of_range(ctx):
    """A first packet announcing 16 MB: disconnect and a log line, and the
    server keeps serving."""
    u = ctx.make_user()
    ctx.start_server()
    s = ctx.raw_connect()
    s.sendall(b"SSH-2.0-evil\r\n" + (0x01000000).to_bytes(4, "big") +
              b"\0" * 64)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    check(got.startswith(b"SSH-2.0-"), "no server identification: %r"
          % got[:60])
    check(ctx.wait_log(r"Bad packet length 16777216\."),
          "no 'Bad packet length' line:\n%s"
          % harness.tail(ctx.server_log()))
    # Then sshd 9.2's fatal line (checked side by side).
    check(ctx.wait_log(r"^ssh_dispatch_run_fatal: Connection from "
                       r"127\.0\.0\.1 port \d+: message authentication "
                       r"code incorrect \[preauth\]$", 5),
          "no ssh_dispatch_run_fatal line after 'Bad packet length'")
    # After authentication, with an -etm MAC (sshd: "Connection
    # corrupted"), from paramiko writing garbage into its socket.
    p = subprocess.run(["/usr/bin/python3", "-c", GARBAGE, str(ctx.port),
                        u.name, u.key], capture_output=True, timeout=60)
    check(p.returncode == 0, "paramiko: %r" % p.stderr[-500:])
    check(ctx.wait_log(r"^ssh_dispatch_run_fatal: Connection from user %s "
                       r"127\.0\.0\.1 port \d+: Connection corrupted$"
                       % re.escape(u.name), 5),
          "no 'Connection corrupted' line after authentication:\n%s"
          % harness.tail(ctx.server_log()))
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


PREAUTH_FLIP = r"""
import sys, time, paramiko
t = paramiko.Transport(("127.0.0.1", int(sys.argv[1])))
t.start_client(timeout=20)
write_all = t.packetizer.write_all
t.packetizer.write_all = lambda d: write_all(d[:-1] + bytes([d[-1] ^ 1]))
try:
    t.auth_none(sys.argv[2])
except Exception:
    pass
time.sleep(0.5)
"""


GARBAGE = r"""
import sys, time, paramiko
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port=int(sys.argv[1]), username=sys.argv[2],
          key_filename=sys.argv[3], look_for_keys=False, allow_agent=False,
          disabled_algorithms={"ciphers": ["aes128-gcm@openssh.com",
                                           "aes256-gcm@openssh.com"]})
t = c.get_transport()
assert t.remote_mac.endswith("-etm@openssh.com"), t.remote_mac
time.sleep(0.3)
t.sock.sendall(b"\xff" * 200)  # length 0xffffffff
time.sleep(1)
"""


PARAMIKO = r"""
import sys, paramiko
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port=int(sys.argv[1]), username=sys.argv[2],
          key_filename=sys.argv[3], look_for_keys=False, allow_agent=False,
          disabled_algorithms={"ciphers": [], "macs": []})
t = c.get_transport()
sys.stderr.write("cipher %s mac %s\n" % (t.local_cipher, t.local_mac))
i, o, e = c.exec_command("echo paramiko-ok")
sys.stdout.write(o.read().decode())
c.close()
"""


def test_paramiko(ctx):
    """paramiko 2.12 (Debian 12): aes-ctr and an hmac-sha2 MAC."""
    u = ctx.make_user()
    ctx.start_server()
    p = harness.run(["/usr/bin/python3", "-c", PARAMIKO, str(ctx.port),
                     u.name, u.key], check_rc=False)
    check(p.returncode == 0 and p.stdout == b"paramiko-ok\n",
          "paramiko: rc %s out %r err %s" % (p.returncode, p.stdout,
                                              p.stderr[-600:]))
    check(b"cipher aes" in p.stderr and b"-ctr mac hmac-sha2-" in p.stderr,
          "paramiko did not use aes-ctr + hmac-sha2: %r" % p.stderr[-200:])


def test_rekey_ctr_mac_compressed(ctx):
    """aes128-ctr with a MAC over the plaintext (the length read from a
    first decrypted block), compression on, rekeying every megabyte in
    both directions: no byte lost; the zlib streams restart with each
    NEWKEYS, as OpenSSH's do."""
    u = ctx.make_user()
    ctx.start_server()
    ctx.stop_server()
    ctx.start_server([ALL_MACS_CONFIG])
    data = os.urandom(3 * 1024 * 1024) + b"z" * (2 * 1024 * 1024)
    for mac in ("umac-64@openssh.com", "hmac-sha2-512"):
        r = ctx.ssh(u, "cat", input=data, verbose=True, timeout_s=120,
                    extra=("-C", "-c", "aes128-ctr", "-o", "MACs=" + mac,
                           "-o", "RekeyLimit=1M"))
        check(r.rc == 0, "%s: transfer failed: rc %s %s"
              % (mac, r.rc, r.err[-400:]))
        check(hashlib.sha256(r.stdout).digest() ==
              hashlib.sha256(data).digest(),
              "%s: data changed across rekeys (%d bytes back)"
              % (mac, len(r.stdout)))
        n = len(_negotiated(r.err, "server->client cipher: aes128-ctr "
                            "MAC: %s compression: zlib@openssh.com" % mac))
        check(n > 2, "%s: expected several compressed exchanges, saw %d"
              % (mac, n))


def test_advertised_in_configured_order(ctx):
    """The server's KEXINIT carries the lists exactly as configured (the
    client's -vv prints the peer's proposal); HostKeyAlgorithms keeps only
    those a loaded host key serves, in the configured order."""
    u = ctx.make_user()
    ctx.start_server([
        "Ciphers aes256-ctr,chacha20-poly1305@openssh.com,"
        "aes128-gcm@openssh.com",
        "MACs umac-128-etm@openssh.com,hmac-sha2-512,"
        "hmac-sha2-256-etm@openssh.com",
        "KexAlgorithms diffie-hellman-group16-sha512,curve25519-sha256",
        "HostKeyAlgorithms rsa-sha2-512,ssh-ed25519,ecdsa-sha2-nistp256",
        "Compression no"])
    argv = ctx.ssh_argv(u, "echo ok")
    argv.insert(1, "-vv")
    p = harness.run(argv, check_rc=False)
    err = p.stderr.decode(errors="replace").replace("\r\n", "\n")
    check(p.returncode == 0 and p.stdout == b"ok\n",
          "login failed: %s" % err[-400:])
    peer = err[err.index("peer server KEXINIT proposal"):]
    for want in ("KEX algorithms: diffie-hellman-group16-sha512,"
                 "curve25519-sha256,ext-info-s,kex-strict-s-v00@openssh.com",
                 "host key algorithms: ssh-ed25519\n",
                 "ciphers ctos: aes256-ctr,chacha20-poly1305@openssh.com,"
                 "aes128-gcm@openssh.com\n",
                 "ciphers stoc: aes256-ctr,chacha20-poly1305@openssh.com,"
                 "aes128-gcm@openssh.com\n",
                 "MACs ctos: umac-128-etm@openssh.com,hmac-sha2-512,"
                 "hmac-sha2-256-etm@openssh.com\n",
                 "compression ctos: none\n"):
        check(want in peer, "the server's proposal lacks %r:\n%s"
              % (want, "\n".join(peer.splitlines()[:12])))
