"""
test_kex_hostile.py: a raw client in Python sends the server public
values no honest client sends, one method at a time, and checks that the
server ends that connection with a DISCONNECT (and a log line), stays up,
and answers the same method's honest value with its reply, so that each
refusal is the value's doing:

- curve25519-sha256: u = 0 (small order: all-zero secret, RFC 8731 s3);
  honest: u = 9 (the base point).
- mlkem768x25519-sha256: an encapsulation key with a coefficient >= q
  (FIPS 203 s7.2); the X25519 half u = 0; honest: an all-zero key, u = 9.
- sntrup761x25519-sha512@openssh.com: the X25519 half u = 0.
- ecdh-sha2-nistp256: a point on the curve with x = 5 (sshd refuses
  coordinates no longer than half the order); honest: x just longer.
- diffie-hellman-group14-sha256 and the group exchange: e = 4 (one bit
  set; sshd's "invalid public DH value"); honest: e = 225.

And paramiko, logged in, sends a second KEXINIT while the rekey its first
one started is in progress: the server ends the connection, as sshd.
"""

import hashlib
import os
import re
import secrets
import struct
import subprocess

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

import harness
from harness import check, timeout
from test_protocol import RawPeer, _name_list, _packet

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

MSG_DISCONNECT = 1
MSG_KEXINIT = 20
MSG_ECDH_INIT = 30
MSG_ECDH_REPLY = 31
MSG_GEX_GROUP = 31
MSG_GEX_INIT = 32
MSG_GEX_REPLY = 33
MSG_GEX_REQUEST = 34

MLKEM = "mlkem768x25519-sha256"
SNTRUP = "sntrup761x25519-sha512@openssh.com"
C25519 = "curve25519-sha256"
P256 = "ecdh-sha2-nistp256"
G14 = "diffie-hellman-group14-sha256"
GEX = "diffie-hellman-group-exchange-sha256"
ALL = [MLKEM, SNTRUP, C25519, P256, G14, GEX]

# P-256 (FIPS 186-4 D.1.2.3)
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b


def _string(b):
    return struct.pack(">I", len(b)) + b


def _mpint(n):
    b = n.to_bytes((n.bit_length() + 8) // 8, "big") if n else b""
    return _string(b)


def _p256_point(x):
    """The uncompressed point with the first x' >= x on the curve."""
    while True:
        rhs = (x ** 3 - 3 * x + P256_B) % P256_P
        y = pow(rhs, (P256_P + 1) // 4, P256_P)  # p = 3 mod 4
        if y * y % P256_P == rhs:
            return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
        x += 1


def _kexinit_payload(kex, filler=0):
    """The client's KEXINIT payload; filler: that many made-up KEX method
    names after kex."""
    ciphers = ["aes128-gcm@openssh.com", "aes128-ctr"]
    macs = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"]
    kexes = [kex] + ["filler-%06d@example.com" % i for i in range(filler)]
    lists = [kexes, ["ssh-ed25519"], ciphers, ciphers, macs, macs,
             ["none"], ["none"], [], []]
    payload = bytes([MSG_KEXINIT]) + secrets.token_bytes(16)
    for names in lists:
        payload += _name_list(names)
    return payload + b"\x00" + struct.pack(">I", 0)


def _kexinit(kex, filler=0):
    return _packet(_kexinit_payload(kex, filler))


def _up_to_kexinit(ctx, ident):
    """A raw connection that sent identification line ident and read the
    server's and its KEXINIT: (socket, RawPeer, the server's
    identification, its KEXINIT (type, payload))."""
    s = ctx.raw_connect()
    peer = RawPeer(s)
    s.sendall(ident + b"\r\n")
    vs = peer.version()
    check(vs is not None, "no identification line")
    first = peer.packet()
    check(first is not None and first[0] == MSG_KEXINIT,
          "the server's first packet is not KEXINIT")
    return s, peer, vs, first


def _exchange(ctx, kex, init, filler=0):
    """Run one connection up to the client's init (payload after the
    message number); returns the message types the server sent after
    it, up to its close or reply."""
    s, peer, _vs, _first = _up_to_kexinit(ctx, b"SSH-2.0-postern_hostile_kex")
    s.sendall(_kexinit(kex, filler))
    msg = MSG_ECDH_INIT
    if kex == GEX:
        s.sendall(_packet(bytes([MSG_GEX_REQUEST]) +
                          struct.pack(">III", 2048, 2048, 8192)))
        group = peer.packet()
        check(group is not None and group[0] == MSG_GEX_GROUP,
              "no DH_GEX_GROUP: %r" % (group,))
        msg = MSG_GEX_INIT
    s.sendall(_packet(bytes([msg]) + init))
    types = []
    while True:
        p = peer.packet()
        if p is None:
            check(peer.eof, "%s: the server neither replied nor closed"
                  % kex)
            break
        types.append(p[0])
        if p[0] in (MSG_DISCONNECT, MSG_ECDH_REPLY, MSG_GEX_REPLY):
            break
    s.close()
    return types


def _refused(ctx, kex, init, what, log_rx):
    types = _exchange(ctx, kex, init)
    check(types and types[-1] == MSG_DISCONNECT,
          "%s with %s: no DISCONNECT (server sent %s)" % (kex, what, types))
    check(ctx.wait_log(log_rx, 5),
          "%s with %s: the log lacks %r" % (kex, what, log_rx))
    check(ctx.server_alive(), "the server exited after %s" % what)


def _accepted(ctx, kex, init, reply):
    types = _exchange(ctx, kex, init)
    check(types == [reply], "%s with an honest value: server sent %s, "
          "want its reply %d" % (kex, types, reply))


@timeout(120)
def test_kex_hostile_public_values(ctx):
    ctx.start_server(extra_config=["KexAlgorithms " + ",".join(ALL)])
    zero25519, base25519 = bytes(32), (9).to_bytes(32, "little")

    def bad(kex):
        return r"bad client public value for %s" % re.escape(kex)

    _refused(ctx, C25519, _string(zero25519), "u = 0", bad(C25519))
    _accepted(ctx, C25519, _string(base25519), MSG_ECDH_REPLY)

    ek_ok = bytes(1184)
    ek_big = b"\xff\x0f" + bytes(1182)  # first coefficient 4095
    _refused(ctx, MLKEM, _string(ek_big + base25519), "an ek coefficient "
             ">= q", bad(MLKEM))
    _refused(ctx, MLKEM, _string(ek_ok + zero25519), "X25519 u = 0",
             bad(MLKEM))
    _accepted(ctx, MLKEM, _string(ek_ok + base25519), MSG_ECDH_REPLY)

    _refused(ctx, SNTRUP, _string(bytes(1158) + zero25519), "X25519 u = 0",
             bad(SNTRUP))

    _refused(ctx, P256, _string(_p256_point(5)), "x = 5", bad(P256))
    _accepted(ctx, P256, _string(_p256_point(2**128)), MSG_ECDH_REPLY)

    _refused(ctx, G14, _mpint(4), "e = 4",
             r"invalid public DH value \(1/2048\)")
    _accepted(ctx, G14, _mpint(225), MSG_ECDH_REPLY)

    _refused(ctx, GEX, _mpint(4), "e = 4",
             r"bad client public value for DH group exchange")
    _accepted(ctx, GEX, _mpint(225), MSG_GEX_REPLY)


def _arctan_inv(x, scale):
    """arctan(1/x) * 2**scale, truncated (its Taylor series in integers)."""
    total = term = (1 << scale) // x
    n, sign, x2 = 1, -1, x * x
    while term:
        term //= x2
        total += sign * (term // (2 * n + 1))
        n, sign = n + 1, -sign
    return total


def _modp_prime(bits, add):
    """An RFC 3526 prime: 2^b - 2^(b-64) - 1 + 2^64 * (floor(2^(b-130)
    pi) + add), pi by Machin's formula with 64 guard bits."""
    guard = 64
    scale = bits - 130 + guard
    pi = 16 * _arctan_inv(5, scale) - 4 * _arctan_inv(239, scale)
    return ((1 << bits) - (1 << (bits - 64)) - 1 +
            (1 << 64) * ((pi >> guard) + add))


@timeout(60)
def test_kex_dh_value_outside_subgroup_answered(ctx):
    """e = p - 2 passes sshd's checks of a DH value (1 < e < p-1, enough
    bits set) but lies outside the prime-order subgroup (p = 3 mod 4: -1
    is no square). sshd answers it; so does postern, which no longer has
    OpenSSL check e^q mod p on top, a second exponentiation that cost
    the server more than the exchange itself (about 7 times sshd's CPU
    for group18) for a value a client can send again and again."""
    p = _modp_prime(2048, 124476)
    check(hex(p).startswith("0xffffffffffffffffc90fdaa22168c234c4c6628b")
          and pow(2, p - 1, p) == 1, "the group14 prime is wrong")
    ctx.start_server(extra_config=["KexAlgorithms " + G14])
    _accepted(ctx, G14, _mpint(p - 2), MSG_ECDH_REPLY)
    _refused(ctx, G14, _mpint(p - 1), "e = p - 1",
             r"invalid public DH value: >= p-1")


# paramiko, logged in, sends two KEXINITs back to back: the second comes
# while the rekey the first started is in progress.
TWO_KEXINITS = r"""
import sys, time, paramiko
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect("127.0.0.1", port=int(sys.argv[1]), username=sys.argv[2],
          key_filename=sys.argv[3], look_for_keys=False, allow_agent=False)
t = c.get_transport()
i, o, e = c.exec_command("echo before")
sys.stdout.write(o.read().decode())
# Wait until the channel is closed both ways: paramiko's reader thread
# must not have a channel message of its own to send during the rekey.
o.channel.recv_exit_status()
while not o.channel.closed:
    time.sleep(0.05)
# Both KEXINITs leave before paramiko's reader thread can answer the
# server's KEXINIT (its answer waits for the write lock): on a busy machine
# it could otherwise finish a whole exchange between the two, and the
# second would start a new rekey instead of arriving during one. First,
# as a rekey does, user messages are held (the reader's answer to the
# server's CLOSE may still be on its way: it would wait for the write lock
# holding clear_to_send_lock, which _send_kex_init takes): paramiko's lock
# order, clear_to_send_lock before the write lock.
with t.clear_to_send_lock:
    t.clear_to_send.clear()
with t.packetizer._Packetizer__write_lock:
    t._send_kex_init()
    t._send_kex_init()
sys.stdout.write("sent\n")
sys.stdout.flush()
# paramiko's reader thread may be waiting to send (the rekey paused it),
# so whether it noticed the close is not asked: the session process
# ("sshd: USER@notty") ending while this client waits says it.
import os
def session_up():
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if f.read().startswith(b"sshd: %s@" % sys.argv[2].encode()):
                    return True
        except OSError:
            pass
    return False
for _ in range(50):
    if not session_up():
        sys.stdout.write("ended\n")
        break
    time.sleep(0.1)
"""


@timeout(120)
def test_kex_second_kexinit_during_rekey(ctx):
    """A second KEXINIT in a rekey ends the connection (sshd 9.2 answers
    it with UNIMPLEMENTED, which ends it for the client; docs/protocol.md),
    with the line naming it and no "Disconnected from user" line, which is
    for a client's DISCONNECT only."""
    u = ctx.make_user()
    ctx.start_server()
    p = harness.run(["/usr/bin/python3", "-c", TWO_KEXINITS, str(ctx.port),
                     u.name, u.key], check_rc=False)
    check(p.stdout == b"before\nsent\nended\n",
          "paramiko: rc %s out %r err %s" % (p.returncode, p.stdout,
                                              p.stderr[-600:]))
    check(ctx.wait_log(r"unexpected message type 20", 5),
          "the log does not name the second KEXINIT:\n%s"
          % harness.tail(ctx.server_log()))
    check(not re.search(r"^Disconnected from user ", ctx.server_log(),
                        re.M),
          "a 'Disconnected from user' line for a connection the server "
          "ended:\n%s" % harness.tail(ctx.server_log()))
    check(ctx.server_alive(), "server exited")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


@timeout(60)
def test_kex_large_client_kexinit(ctx):
    """A client KEXINIT of about 100 KiB (4000 method names it made up
    after curve25519-sha256) is accepted, as by sshd: the exchange hash's
    input held 64 KiB, and the server closed such a connection without a
    word."""
    ctx.start_server()
    types = _exchange(ctx, "curve25519-sha256", _string((9).to_bytes(
        32, "little")), filler=4000)
    check(types == [MSG_ECDH_REPLY], "after a 100 KiB KEXINIT the server "
          "sent %s, want its ECDH reply %d" % (types, MSG_ECDH_REPLY))


def _strings(b, n):
    out = []
    for _ in range(n):
        check(len(b) >= 4, "truncated string in %r" % b[:64])
        k = struct.unpack(">I", b[:4])[0]
        check(len(b) >= 4 + k, "truncated string in %r" % b[:64])
        out.append(b[4:4 + k])
        b = b[4 + k:]
    return out


def _mlkem_client(ctx):
    """tests/integration/mlkem_client.c, built against lib/mlkem768.c."""
    exe = os.path.join(ctx.dir, "mlkem_client")
    argv = ["gcc", "-std=gnu11", "-D_GNU_SOURCE", "-O2", "-I" + TOP,
            "-I" + os.path.join(TOP, "lib"), "-o", exe,
            os.path.join(HERE, "mlkem_client.c")]
    argv += [os.path.join(TOP, "lib", f) for f in
             ("mlkem768.c", "crypto.c", "buf.c", "log.c", "err.c")]
    r = subprocess.run(argv + ["-lcrypto"], capture_output=True, text=True)
    check(r.returncode == 0, "%s failed:\n%s" % (" ".join(argv), r.stderr))
    return exe


@timeout(60)
def test_kex_mlkem768x25519_exchange_hash(ctx):
    """mlkem768x25519-sha256 as OpenSSH >= 9.9 computes it, checked from
    the client's side with no client that has it in Debian 12: Q_C is the
    ML-KEM-768 encapsulation key || an X25519 value, Q_S the ciphertext ||
    the server's X25519 value, K = SHA256(ML-KEM secret || X25519 secret)
    as a string, H = SHA256(V_C, V_S, I_C, I_S, K_S, Q_C, Q_S, K), and the
    server's signature over H verifies with its host key. Only the KEM
    (published vectors in test_pqkem) is postern's; the rest is Python's."""
    ctx.start_server(extra_config=["KexAlgorithms " + MLKEM])
    exe = _mlkem_client(ctx)
    keys = subprocess.run([exe, "keygen"], capture_output=True, text=True,
                          check=True).stdout.split()
    ek, dk = bytes.fromhex(keys[0]), keys[1]
    priv = x25519.X25519PrivateKey.generate()
    cpub = priv.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
    vc = b"SSH-2.0-postern_mlkem_check"
    s, peer, vs, first = _up_to_kexinit(ctx, vc)
    i_s = bytes([first[0]]) + first[1]
    i_c = _kexinit_payload(MLKEM)
    qc = ek + cpub
    s.sendall(_packet(i_c) + _packet(bytes([MSG_ECDH_INIT]) + _string(qc)))
    reply = peer.packet()
    check(reply is not None and reply[0] == MSG_ECDH_REPLY,
          "no ECDH reply: %r" % (reply,))
    k_s, q_s, sigblob = _strings(reply[1], 3)
    s.close()
    check(len(q_s) == 1088 + 32, "Q_S of %d bytes, want the 1088-byte "
          "ciphertext and a 32-byte X25519 value" % len(q_s))
    ss = subprocess.run([exe, "decaps", dk, q_s[:1088].hex()],
                        capture_output=True, text=True, check=True)
    ss_kem = bytes.fromhex(ss.stdout.strip())
    ss_x = priv.exchange(x25519.X25519PublicKey.from_public_bytes(q_s[1088:]))
    k = hashlib.sha256(ss_kem + ss_x).digest()
    h = hashlib.sha256(b"".join(_string(x) for x in (
        vc, vs, i_c, i_s, k_s, qc, q_s, k))).digest()
    kind, host = _strings(k_s, 2)
    alg, sig = _strings(sigblob, 2)
    check(kind == b"ssh-ed25519" and alg == b"ssh-ed25519",
          "host key %r, signature %r" % (kind, alg))
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(host).verify(sig, h)
    except InvalidSignature:
        check(False, "the server's signature does not verify over the "
              "exchange hash of mlkem768x25519-sha256 as computed here")


def _gex_out_of_place(port, strict, num):
    """A KEXINIT naming only the group exchange, then message num (a KEX
    number the exchange does not wait for), then the honest
    GEX_REQUEST: (what the server sent after num, its sequence number)."""
    import protowire as pw
    c = pw.Conn(port, strict)
    kex = [GEX] + (["kex-strict-c-v00@openssh.com"] if strict else [])
    lists = [kex, ["ssh-ed25519"], ["aes128-ctr"], ["aes128-ctr"],
             ["hmac-sha2-256-etm@openssh.com"],
             ["hmac-sha2-256-etm@openssh.com"], ["none"], ["none"], [], []]
    p = bytes([MSG_KEXINIT]) + os.urandom(16)
    for names in lists:
        p += pw.s(",".join(names))
    c.send(p + b"\x00" + pw.u32(0))
    log = []
    c.wait_kexinit(log)
    log = []
    seq = c.send(bytes([num]) + pw.s("x"))
    closed = False
    try:
        c.send(bytes([MSG_GEX_REQUEST]) + pw.u32(2048) + pw.u32(3072) +
               pw.u32(8192))
        pw.expect(c, (MSG_GEX_GROUP,), log)
    except pw.Closed:
        closed = True
        pw.drain(c, log)
    pw.bye(c)
    return pw.classify(log, seq, closed, False), pw.detail(log), seq


@timeout(60)
def test_kex_gex_out_of_place_message(ctx):
    """In a group exchange, a KEX message (30..49) it does not wait for
    is out of place as in any other exchange, as sshd 9.2 answers it:
    UNIMPLEMENTED and kex_protocol_error (the exchange goes on), or under
    strict KEX its violation; not the end of the connection."""
    ctx.start_server(extra_config=["KexAlgorithms " + GEX])
    for num in (MSG_ECDH_INIT, MSG_GEX_GROUP, MSG_GEX_REPLY, 49):
        got, why, seq = _gex_out_of_place(ctx.port, False, num)
        check(got == "unimplemented",
              "message %d in a group exchange: %s (%s), want UNIMPLEMENTED "
              "and the exchange going on, as sshd" % (num, got, why))
        check(ctx.wait_log(r"kex_protocol_error: type %d seq %d \[preauth\]"
                           % (num, seq), 5),
              "no kex_protocol_error line for message %d" % num)
        got, why, seq = _gex_out_of_place(ctx.port, True, num)
        want = "strict KEX violation: unexpected packet type %d (seqnr %d)" \
            % (num, seq)
        check(got == "disconnect-2" and why == want,
              "message %d in a strict group exchange: %s (%s), want "
              "DISCONNECT %r, as sshd" % (num, got, why, want))
        check(ctx.wait_log(r"Disconnecting 127\.0\.0\.1 port \d+: %s"
                           % re.escape(want), 5),
              "no strict KEX violation line for message %d" % num)
