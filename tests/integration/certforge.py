"""
certforge.py: rewrite an ssh-ed25519 user key's certificate field by field
and sign it again with an Ed25519 CA, for the certificates ssh-keygen will
not make: options out of order or repeated, an empty principal list, any
type or validity. Run with /usr/bin/python3 (python3-cryptography, which
python3-paramiko brings):

    certforge.py CERT CA_PRIVATE OUT SPEC_JSON

SPEC_JSON is an object whose keys replace fields of CERT: "principals"
(list of str), "critical" and "extensions" (lists of [name, data] in the
order to write them; data is a str written as an SSH string inside the
option's data, or null for empty data), "type" (1 user, 2 host),
"valid_after", "valid_before", "serial", "key_id".
"""

import base64
import json
import struct
import sys

from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat, load_ssh_private_key)


def _string(b):
    return struct.pack(">I", len(b)) + b


def _get_string(buf, off):
    (n,) = struct.unpack_from(">I", buf, off)
    off += 4
    if off + n > len(buf):
        raise ValueError("truncated string")
    return buf[off:off + n], off + n


def _options(entries):
    out = b""
    for name, data in entries:
        inner = b"" if data is None else _string(data.encode())
        out += _string(name.encode()) + _string(inner)
    return out


def forge(cert_path, ca_path, out_path, spec):
    with open(cert_path) as f:
        kind, b64 = f.read().split()[:2]
    blob = base64.b64decode(b64)
    if kind != "ssh-ed25519-cert-v01@openssh.com":
        raise ValueError("only ssh-ed25519 certificates: %s" % kind)
    off = 0
    name, off = _get_string(blob, off)
    nonce, off = _get_string(blob, off)
    pk, off = _get_string(blob, off)
    serial, ctype = struct.unpack_from(">QI", blob, off)
    off += 12
    key_id, off = _get_string(blob, off)
    _, off = _get_string(blob, off)  # principals
    valid_after, valid_before = struct.unpack_from(">QQ", blob, off)
    off += 16
    for _ in range(3):  # critical options, extensions, reserved
        _, off = _get_string(blob, off)
    with open(ca_path, "rb") as f:
        ca = load_ssh_private_key(f.read(), None)
    ca_pub = ca.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    principals = spec.get("principals")
    princ = b"" if principals is None else b"".join(
        _string(p.encode()) for p in principals)
    body = (_string(name) + _string(nonce) + _string(pk) +
            struct.pack(">QI", spec.get("serial", serial),
                        spec.get("type", ctype)) +
            _string(spec.get("key_id", key_id.decode()).encode()) +
            _string(princ) +
            struct.pack(">QQ", spec.get("valid_after", valid_after),
                        spec.get("valid_before", valid_before)) +
            _string(_options(spec.get("critical", []))) +
            _string(_options(spec.get("extensions", []))) +
            _string(b"") +
            _string(_string(b"ssh-ed25519") + _string(ca_pub)))
    sig = _string(b"ssh-ed25519") + _string(ca.sign(body))
    with open(out_path, "w") as f:
        f.write("%s %s\n" % (name.decode(),
                             base64.b64encode(body + _string(sig)).decode()))


if __name__ == "__main__":
    forge(sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
