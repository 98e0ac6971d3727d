"""
protowire.py: a small SSH client written for protocol tests, which sends
any message at any point of a connection and reports, byte for byte, what
the server answers. Run with /usr/bin/python3 (it needs cryptography):

    protowire.py PORT USER KEYFILE < cells.json

cells.json is a list of cells, each run on a fresh connection:
    {"phase": PHASE, "msg": NAME, "strict": true|false}
PHASE is where the message goes:
    first      before the client's KEXINIT (the server's has arrived)
    kex        the first exchange, after both KEXINITs, before ECDH_INIT
    kexreply   the first exchange, after the server's NEWKEYS, before ours
    noservice  after the first exchange, before SERVICE_REQUEST
    userauth   after SERVICE_ACCEPT, before any USERAUTH_REQUEST
    prerekey   userauth, in a key exchange the client starts (after both
               KEXINITs)
    postauth   after USERAUTH_SUCCESS
    rekey      after USERAUTH_SUCCESS, in a key exchange the client starts
NAME is a key of MESSAGES below. After the message the client sends a
probe whose answer is certain (it finishes the exchange, then asks for
the ssh-userauth service, a "none" userauth or an unknown global request)
and records what the server sent in between. It prints one JSON list,
per cell {"outcome": ..., "detail": ..., "lport": ...}; outcome is
"unimplemented" (with the injected packet's sequence number),
"unimplemented-seq-N" (any other number), "ignored" (nothing but the
probe's answer), "disconnect-R" (reason R), "closed" (no DISCONNECT),
"timeout", or the names of what else arrived, joined by "+". Each cell
ends with the client's DISCONNECT and the server's close, so that the
server's log lines for a cell come before the next cell's.

It speaks curve25519-sha256, aes128-ctr with hmac-sha2-256-etm@openssh.com
and strict KEX when asked; it does not check the host key's signature (it
tests the server, not the other way round). PROTOWIRE_DEBUG=1 in the
environment prints every packet read to stderr.
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

NAMES = {1: "disconnect", 2: "ignore", 3: "unimplemented", 4: "debug",
         5: "service_request", 6: "service_accept", 7: "ext_info",
         20: "kexinit", 21: "newkeys", 30: "ecdh_init", 31: "ecdh_reply",
         50: "userauth_request", 51: "userauth_failure",
         52: "userauth_success", 53: "userauth_banner", 60: "pk_ok",
         80: "global_request", 81: "request_success", 82: "request_failure",
         90: "channel_open", 91: "open_confirmation", 92: "open_failure",
         93: "window_adjust", 94: "channel_data", 97: "channel_close",
         99: "channel_success", 100: "channel_failure", 192: "ping",
         193: "pong"}


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def u32(n):
    return struct.pack(">I", n)


def mpint(b):
    b = b.lstrip(b"\x00")
    if b and b[0] & 0x80:
        b = b"\x00" + b
    return s(b)


# The messages a cell may send: number and payload after it.
MESSAGES = {
    "ignore": (2, s("x")),
    "debug": (4, b"\x00" + s("dbg") + s("")),
    "unimplemented": (3, u32(7)),
    "service_request": (5, s("ssh-userauth")),
    "service_request_conn": (5, s("ssh-connection")),
    "service_accept": (6, s("ssh-userauth")),
    "ext_info": (7, u32(1) + s("no-such-ext@example.org") + s("v")),
    "newkeys": (21, b""),
    "ecdh_init": (30, s(b"\x09" + bytes(31))),
    "ecdh_reply": (31, s("x") + s("y") + s("z")),
    "userauth_request": (50, s("nobody") + s("ssh-connection") + s("none")),
    "userauth_success": (52, b""),
    "pk_ok": (60, s("ssh-ed25519") + s("x")),
    "info_response": (61, u32(0)),
    "global_request": (80, s("no-such-request@example.org") + b"\x01"),
    "global_request_noreply": (80, s("no-such-request@example.org") +
                               b"\x00"),
    "request_success": (81, b""),
    "request_failure": (82, b""),
    "channel_open": (90, s("session") + u32(5) + u32(65536) + u32(32768)),
    "window_adjust": (93, u32(0) + u32(100)),
    "channel_data": (94, u32(0) + s("data")),
    "channel_success": (99, u32(0)),
    "channel_failure": (100, u32(0)),
    "ping": (192, s("ping")),
    "pong": (193, s("pong")),
}
for n in (0, 10, 15, 25, 29, 45, 49, 55, 70, 79, 110, 127, 150, 191, 200,
          253, 254, 255):
    MESSAGES["type_%d" % n] = (n, s("unknown"))


DEBUG = os.environ.get("PROTOWIRE_DEBUG")


class Closed(Exception):
    pass


class Direction:
    def __init__(self):
        self.seq = 0
        self.enc = None   # CTR encryptor/decryptor
        self.mac = None   # HMAC-SHA256 key
        self.block = 8


class Conn:
    def __init__(self, port, strict):
        self.sock = socket.create_connection(("127.0.0.1", port), 10)
        self.lport = self.sock.getsockname()[1]
        self.strict = strict
        self.strict_on = False
        self.buf = b""
        self.send_d, self.recv_d = Direction(), Direction()
        self.session_id = None
        self.pending = []  # (type, payload, seq) read ahead
        self.v_c = b"SSH-2.0-postern_protowire"
        self.sock.sendall(self.v_c + b"\r\n")
        while True:
            line = self._line()
            if line.startswith(b"SSH-"):
                self.v_s = line
                break
        self.kex_count = 0

    # -- raw I/O --------------------------------------------------------
    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError
        except (ConnectionResetError, BrokenPipeError):
            b = b""
        if DEBUG:
            sys.stderr.write("read %r\n" % b[:64])
        if not b:
            raise Closed
        self.buf += b

    def _line(self):
        deadline = time.monotonic() + 10
        while b"\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def send(self, payload):
        """Seal and send one packet; returns its sequence number."""
        d = self.send_d
        bs = d.block
        # With -etm the length is not encrypted: the rest fills blocks.
        pad = bs - (1 + len(payload) + (0 if d.enc else 4)) % bs
        if pad < 4:
            pad += bs
        pkt = u32(1 + len(payload) + pad) + bytes([pad]) + payload + \
            os.urandom(pad)
        seq = d.seq
        out = pkt
        if d.enc is not None:
            # hmac-sha2-256-etm@openssh.com: the length stays clear.
            ct = pkt[:4] + d.enc.update(pkt[4:])
            out = ct + hmac.new(d.mac, u32(seq) + ct, hashlib.sha256).digest()
        d.seq = (d.seq + 1) & 0xffffffff
        try:
            self.sock.sendall(out)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reads that follow see the close
        return seq

    def _read_packet(self, deadline):
        d = self.recv_d
        while len(self.buf) < 4:
            self._fill(deadline)
        plen = struct.unpack(">I", self.buf[:4])[0]
        if plen < 5 or plen > 300000:
            raise Closed
        maclen = 32 if d.enc is not None else 0
        while len(self.buf) < 4 + plen + maclen:
            self._fill(deadline)
        pkt = self.buf[:4 + plen]
        if d.enc is not None:
            tag = self.buf[4 + plen:4 + plen + maclen]
            want = hmac.new(d.mac, u32(d.seq) + pkt, hashlib.sha256).digest()
            if not hmac.compare_digest(tag, want):
                raise Closed
            pkt = pkt[:4] + d.enc.update(pkt[4:])
        self.buf = self.buf[4 + plen + maclen:]
        seq = d.seq
        d.seq = (d.seq + 1) & 0xffffffff
        pad = pkt[4]
        payload = pkt[5:len(pkt) - pad]
        if DEBUG:
            sys.stderr.write("recv seq %d: %r\n" % (seq, payload[:80]))
        return payload[0], payload[1:], seq

    def recv(self, timeout_s=10):
        if self.pending:
            return self.pending.pop(0)
        return self._read_packet(time.monotonic() + timeout_s)

    # -- key exchange ---------------------------------------------------
    def kexinit(self):
        kex = ["curve25519-sha256"]
        if self.strict and self.kex_count == 0:
            kex.append("kex-strict-c-v00@openssh.com")
        lists = [kex, ["ssh-ed25519"], ["aes128-ctr"], ["aes128-ctr"],
                 ["hmac-sha2-256-etm@openssh.com"],
                 ["hmac-sha2-256-etm@openssh.com"], ["none"], ["none"],
                 [], []]
        p = bytes([20]) + os.urandom(16)
        for names in lists:
            p += s(",".join(names))
        p += b"\x00" + u32(0)
        self.i_c = p
        self.send(p)

    def wait_kexinit(self, log):
        while True:
            t, p, seq = self.recv()
            if t == 20:
                self.i_s = bytes([20]) + p
                if self.kex_count == 0:
                    self.strict_on = self.strict and \
                        b"kex-strict-s-v00@openssh.com" in p
                return
            log.append((t, p, seq))

    def ecdh(self, log):
        self.priv = x25519.X25519PrivateKey.generate()
        self.q_c = self.priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.send(bytes([30]) + s(self.q_c))
        while True:
            t, p, seq = self.recv()
            if t == 31:
                break
            log.append((t, p, seq))
        off = 0
        parts = []
        for _ in range(3):
            n = struct.unpack(">I", p[off:off + 4])[0]
            parts.append(p[off + 4:off + 4 + n])
            off += 4 + n
        k_s, q_s, _sig = parts
        shared = self.priv.exchange(x25519.X25519PublicKey.from_public_bytes(
            q_s))
        self.k = mpint(shared)
        h = hashlib.sha256(s(self.v_c) + s(self.v_s) + s(self.i_c) +
                           s(self.i_s) + s(k_s) + s(self.q_c) + s(q_s) +
                           self.k).digest()
        self.h = h
        if self.session_id is None:
            self.session_id = h

    def _key(self, letter):
        return hashlib.sha256(self.k + self.h + letter.encode() +
                              self.session_id).digest()

    def wait_newkeys(self, log):
        while True:
            t, p, seq = self.recv()
            if t == 21:
                break
            log.append((t, p, seq))
        d = self.recv_d
        d.enc = Cipher(algorithms.AES(self._key("D")[:16]),
                       modes.CTR(self._key("B")[:16])).decryptor()
        d.mac = self._key("F")
        d.block = 16
        if self.strict_on:
            d.seq = 0

    def send_newkeys(self):
        self.send(bytes([21]))
        d = self.send_d
        d.enc = Cipher(algorithms.AES(self._key("C")[:16]),
                       modes.CTR(self._key("A")[:16])).encryptor()
        d.mac = self._key("E")
        d.block = 16
        if self.strict_on:
            d.seq = 0
        self.kex_count += 1

    # -- userauth -------------------------------------------------------
    def auth(self, user, keyfile, log):
        self.send(self.auth_request(user, keyfile))
        expect(self, (52,), log)

    def auth_request(self, user, keyfile):
        """A signed publickey USERAUTH_REQUEST of user with keyfile."""
        with open(keyfile, "rb") as f:
            key = serialization.load_ssh_private_key(f.read(), None)
        with open(keyfile + ".pub") as f:
            blob = base64.b64decode(f.read().split()[1])
        data = (s(self.session_id) + bytes([50]) + s(user) +
                s("ssh-connection") + s("publickey") + b"\x01" +
                s("ssh-ed25519") + s(blob))
        sig = s("ssh-ed25519") + s(key.sign(data))
        return (bytes([50]) + s(user) + s("ssh-connection") +
                s("publickey") + b"\x01" + s("ssh-ed25519") + s(blob) +
                s(sig))


def expect(conn, types, log, skip=0):
    """Read until one of types arrives (after skip of them, which go to
    log: the answer to an injected message the same as the probe's)."""
    while True:
        t, p, seq = conn.recv()
        if t in types and skip == 0:
            return t, p
        if t in types:
            skip -= 1
            log.append((t, p, seq))
            continue
        if t == 1:
            log.append((t, p, seq))
            raise Closed
        log.append((t, p, seq))


def service(conn, log, skip=0):
    conn.send(bytes([5]) + s("ssh-userauth"))
    expect(conn, (6,), log, skip)


def full_kex(conn, log, started=False):
    if not started:
        conn.kexinit()
        conn.wait_kexinit(log)
    conn.ecdh(log)
    conn.wait_newkeys(log)
    conn.send_newkeys()


def login(port, user, keyfile):
    """A connection past the key exchange and a publickey login."""
    conn = Conn(port, False)
    log = []
    full_kex(conn, log)
    service(conn, log)
    conn.auth(user, keyfile, log)
    return conn


def noise(t, p):
    """Server messages a cell ignores: IGNORE, DEBUG, its hostkeys-00
    global request (no reply wanted), EXT_INFO."""
    if t in (2, 4, 7):
        return True
    return t == 80 and p[:4 + len("hostkeys-00@openssh.com")] == \
        s("hostkeys-00@openssh.com")


def classify(log, seq, closed, timed_out):
    words = []
    for t, p, _ in log:
        if noise(t, p):
            continue
        if t == 3:
            got = struct.unpack(">I", p[:4])[0]
            words.append("unimplemented" if got == seq
                         else "unimplemented-seq-%d" % got)
        elif t == 1:
            words.append("disconnect-%d" % struct.unpack(">I", p[:4])[0])
        else:
            words.append(NAMES.get(t, "type-%d" % t))
    if closed and not any(w.startswith("disconnect") for w in words):
        words.append("closed")
    if timed_out:
        words.append("timeout")
    return "+".join(words) if words else "ignored"


def detail(log):
    for t, p, _ in log:
        if t == 1 and len(p) >= 8:
            n = struct.unpack(">I", p[4:8])[0]
            return p[8:8 + n].decode("utf-8", "replace")
    return ""


def bye(conn):
    """End the connection with a DISCONNECT and wait for the server to
    close it: its log lines for this cell come before the next cell's."""
    try:
        conn.send(bytes([1]) + u32(11) + s("bye") + s(""))
    except (Closed, OSError):
        pass
    drain(conn, [])
    conn.sock.close()


def drain(conn, log):
    """After a failed send or read: what the server sent before it closed
    (its DISCONNECT may still be in the socket)."""
    deadline = time.monotonic() + 5
    try:
        while True:
            t, p, seq = conn._read_packet(deadline)
            log.append((t, p, seq))
    except (Closed, TimeoutError, OSError, ValueError):
        pass


def run_cell(port, user, keyfile, cell):
    conn = Conn(port, cell.get("strict", False))
    phase = cell["phase"]
    num, body = MESSAGES[cell["msg"]]
    msg = bytes([num]) + body
    # The probe's request: SERVICE_REQUEST, USERAUTH_REQUEST or
    # GLOBAL_REQUEST; the same message injected has an answer of its own.
    probe = {"userauth": 50, "prerekey": 50, "postauth": 80,
             "rekey": 80}.get(phase, 5)
    skip = 1 if num == probe and not cell["msg"].endswith("noreply") \
        and phase not in ("first", "kex", "kexreply") else 0
    log, pre = [], []
    seq = None
    closed = timed_out = False
    try:
        if phase == "first":
            seq = conn.send(msg)
            conn.kexinit()
            conn.wait_kexinit(log)
            full_kex(conn, log, started=True)
            service(conn, log, skip)
        elif phase == "kex":
            conn.kexinit()
            conn.wait_kexinit(pre)
            seq = conn.send(msg)
            full_kex(conn, log, started=True)
            service(conn, log, skip)
        elif phase == "kexreply":
            conn.kexinit()
            conn.wait_kexinit(pre)
            conn.ecdh(pre)
            conn.wait_newkeys(pre)
            seq = conn.send(msg)
            conn.send_newkeys()
            service(conn, log, skip)
        else:
            full_kex(conn, pre)
            if phase == "noservice":
                seq = conn.send(msg)
                service(conn, log, skip)
            elif phase == "userauth":
                service(conn, pre)
                seq = conn.send(msg)
                conn.send(bytes([50]) + s(user) + s("ssh-connection") +
                          s("none"))
                expect(conn, (51,), log, skip)
            elif phase == "prerekey":
                service(conn, pre)
                conn.kexinit()
                conn.wait_kexinit(pre)
                seq = conn.send(msg)
                full_kex(conn, log, started=True)
                conn.send(bytes([50]) + s(user) + s("ssh-connection") +
                          s("none"))
                expect(conn, (51,), log, skip)
            else:
                service(conn, pre)
                conn.auth(user, keyfile, pre)
                if phase == "rekey":
                    conn.kexinit()
                    conn.wait_kexinit(pre)
                    seq = conn.send(msg)
                    full_kex(conn, log, started=True)
                else:
                    seq = conn.send(msg)
                conn.send(bytes([80]) + s("probe@postern.test") + b"\x01")
                expect(conn, (81, 82), log, skip)
    except Closed:
        closed = True
        drain(conn, log if seq is not None else pre)
    except TimeoutError:
        timed_out = True
    if seq is None:
        bye(conn)
        return {"outcome": "setup-failed:" + classify(pre, None, closed,
                                                      timed_out),
                "detail": detail(pre), "lport": conn.lport}
    # The injected message answered with the probe's own reply type
    # (e.g. a second SERVICE_REQUEST) shows up as that name.
    bye(conn)
    return {"outcome": classify(log, seq, closed, timed_out),
            "detail": detail(log), "lport": conn.lport}


def main(run=run_cell):
    """argv: PORT USER KEY; the cells (JSON) on stdin, run one by one by
    run (connwire.py passes its own); their results printed as JSON."""
    port, user, keyfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    cells = json.load(sys.stdin)
    print(json.dumps([run(port, user, keyfile, c) for c in cells]))


if __name__ == "__main__":
    main()
