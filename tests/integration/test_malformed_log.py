"""
test_malformed_log.py: a packet or message that does not parse before
authentication is logged with sshd 9.2's line, naming the address:
"ssh_dispatch_run_fatal: Connection from ADDR port P: WHAT [preauth]",
WHAT in the words of sshd's sshbuf error (incomplete message, unexpected
bytes remain after decoding, invalid format, Connection corrupted), for a
packet's padding, a KEXINIT, an ECDH_INIT, a DH_GEX_REQUEST and a
SERVICE_REQUEST. Each connection ends; the server stays up.
"""

import re
import secrets
import struct

import protowire
from harness import check
from test_kex_hostile import _up_to_kexinit
from test_protocol import _name_list, _packet, _rest_until_close

MSG_KEXINIT = 20
MSG_ECDH_INIT = 30
MSG_GEX_REQUEST = 34
GEX = "diffie-hellman-group-exchange-sha256"


def _kexinit(kex, nlists=10, tail=b""):
    lists = [[kex], ["ssh-ed25519"], ["aes128-ctr"], ["aes128-ctr"],
             ["hmac-sha2-256-etm@openssh.com"],
             ["hmac-sha2-256-etm@openssh.com"], ["none"], ["none"],
             [], []][:nlists]
    payload = bytes([MSG_KEXINIT]) + secrets.token_bytes(16)
    for names in lists:
        payload += _name_list(names)
    return payload + b"\x00" + struct.pack(">I", 0) + tail


def _raw(ctx, data):
    """Identification, then data; the server's answer up to its close."""
    s, peer, _vs, _first = _up_to_kexinit(ctx, b"SSH-2.0-postern_malformed")
    s.sendall(data)
    types = _rest_until_close(peer)
    check(types is not None, "the server kept the connection open")
    return s.getsockname()[1]


def _want(ctx, lport, what):
    want = ("ssh_dispatch_run_fatal: Connection from 127.0.0.1 port %d: "
            "%s [preauth]" % (lport, what))
    check(ctx.wait_log(r"^%s$" % re.escape(want), 5),
          "the server log lacks sshd's line %r" % want)


def test_malformed_preauth_log_lines(ctx):
    ctx.start_server(extra_config=["KexAlgorithms +%s" % GEX])
    kex_ok = _kexinit("curve25519-sha256")

    # Padding under 4 bytes (the packet a whole number of blocks).
    pkt = struct.pack(">IB", 12, 3) + b"\x02" + struct.pack(">I", 3) + \
        b"abc" + bytes(3)
    _want(ctx, _raw(ctx, pkt), "Connection corrupted")
    # Padding that leaves no message number.
    pkt = struct.pack(">IB", 12, 11) + bytes(11)
    _want(ctx, _raw(ctx, pkt), "incomplete message")
    # KEXINIT: bytes after its reserved field; nine name-lists.
    _want(ctx, _raw(ctx, _packet(_kexinit("curve25519-sha256",
                                          tail=b"junk"))),
          "unexpected bytes remain after decoding")
    _want(ctx, _raw(ctx, _packet(_kexinit("curve25519-sha256", 9))),
          "incomplete message")
    # ECDH_INIT without its public value.
    _want(ctx, _raw(ctx, _packet(kex_ok) + _packet(bytes([MSG_ECDH_INIT]))),
          "incomplete message")
    # DH_GEX_REQUEST with two of its three numbers.
    _want(ctx, _raw(ctx, _packet(_kexinit(GEX)) +
                    _packet(bytes([MSG_GEX_REQUEST]) +
                            struct.pack(">II", 2048, 3072))),
          "incomplete message")

    # SERVICE_REQUEST after the key exchange: a NUL inside its name; cut
    # short.
    for body, what in ((protowire.s("ssh-userauth\0x"), "invalid format"),
                       (struct.pack(">I", 40) + b"ssh", "incomplete message")):
        conn = protowire.Conn(ctx.port, False)
        protowire.full_kex(conn, [])
        conn.send(bytes([5]) + body)
        log = []
        protowire.drain(conn, log)
        conn.sock.close()
        _want(ctx, conn.lport, what)

    check("preauth: connection ended" not in ctx.server_log(),
          "postern's own line instead of sshd's")
    check(ctx.server_alive(), "server exited")
