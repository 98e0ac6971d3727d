"""
pkwire.py: a publickey client that builds its requests and signatures by
hand, for what the OpenSSH client never sends. Run with /usr/bin/python3
(paramiko carries the transport; cryptography signs):

    pkwire.py PORT USER < cases.json

cases.json is a list of cases, each on a fresh connection:
    {"key": PRIVATE_KEY_FILE,           # openssh-key-v1, unencrypted
     "blob": PUB_OR_CERT_FILE,          # its .pub or -cert.pub
     "alg": REQUEST_ALGORITHM,
     "sigalg": SIGNATURE_ALGORITHM,     # default: the request's
     "query": false,                    # true: no signature (PK_OK?)
     "hostbound": null}                 # "own" or a .pub file: a
                                        # publickey-hostbound-v00 request
or, for requests of any method with hand-made fields:
    {"raw": [[METHOD, HEX_OF_THE_FIELDS_AFTER_IT], ...]}   # in turn;
                                        # METHOD null: HEX follows the service
or, for a FIDO key made up here (never on disk):
    {"sk": "ed" | "ec", "seed": HEX32, "app": "ssh:",
     "flags": 1, "counter": 7, "webauthn": false, "origin": "...",
     "client_data": null,               # a full clientDataJSON, if given
     "client_data_origin": null,        # else its origin, if not "origin"
     "client_data_type": "webauthn.get"}
It prints one JSON list: per case "ok" (USERAUTH_SUCCESS), "pk_ok",
"fail" or "closed" (a "raw" case: the list of each request's, a
DISCONNECT as "disconnect:TEXT"). "pkwire.py --publines < cases.json" prints the
authorized_keys lines of the FIDO keys instead.
"""

import base64
import hashlib
import json
import queue
import socket
import struct
import sys

import paramiko
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import (ec, ed25519, padding,
                                                       utils)

SK_ED = "sk-ssh-ed25519@openssh.com"
SK_EC = "sk-ecdsa-sha2-nistp256@openssh.com"
WEBAUTHN = "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"
HOSTBOUND = "publickey-hostbound-v00@openssh.com"


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def mpint(n):
    b = n.to_bytes((n.bit_length() + 8) // 8, "big") if n else b""
    return s(b)


class Catcher:
    """Stands in for paramiko's auth handler: queues what the server says."""

    def __init__(self, q):
        self.q = q
        self.authenticated = False

    def abort(self):
        pass

    def is_authenticated(self):
        return self.authenticated

    def get_username(self):
        return None


def _catch(num):
    def f(self, m):
        self.q.put(num)
        if num == 52:
            self.authenticated = True
    return f


Catcher._handler_table = {n: _catch(n) for n in (6, 51, 52, 60)}


class Transport(paramiko.Transport):
    """paramiko's, keeping the text of the server's DISCONNECT."""
    disconnect_text = None

    def _parse_disconnect(self, m):
        m.get_int()
        self.disconnect_text = m.get_text()


class Conn:
    def __init__(self, port, user):
        self.user = user
        self.sock = socket.create_connection(("127.0.0.1", port), 20)
        self.t = Transport(self.sock)
        self.t.start_client(timeout=20)
        self.q = queue.Queue()
        self.t.auth_handler = Catcher(self.q)
        m = paramiko.Message()
        m.add_byte(bytes([5]))  # SERVICE_REQUEST
        m.add_string("ssh-userauth")
        self.t._send_message(m)
        if self.get() != 6:
            raise SystemExit("no SERVICE_ACCEPT")
        self.sid = self.t.session_id

    def get(self, timeout=20):
        """The next answer; "closed" as soon as the connection is."""
        for _ in range(int(timeout * 20)):
            try:
                return self.q.get(timeout=0.05)
            except queue.Empty:
                if not self.t.is_active():
                    return "closed"
        return "timeout"

    def signed_data(self, alg, blob, hostkey=None):
        method = "publickey" if hostkey is None else HOSTBOUND
        return (s(self.sid) + bytes([50]) + s(self.user) +
                s("ssh-connection") + s(method) + b"\x01" + s(alg) +
                s(blob) + (s(hostkey) if hostkey is not None else b""))

    def send(self, method, fields):
        """A USERAUTH_REQUEST of this user for ssh-connection; method
        None: the fields follow the service."""
        m = paramiko.Message()
        m.add_byte(bytes([50]))
        m.add_string(self.user)
        m.add_string("ssh-connection")
        if method is not None:
            m.add_string(method)
        m.add_bytes(fields)
        self.t._send_message(m)

    def request(self, alg, blob, sig=None, hostkey=None):
        self.send("publickey" if hostkey is None else HOSTBOUND,
                  (b"\x01" if sig is not None else b"\x00") + s(alg) +
                  s(blob) + (s(hostkey) if hostkey is not None else b"") +
                  (s(sig) if sig is not None else b""))
        return self.answer()

    def answer(self):
        """The server's answer to a request, by its message number."""
        return {51: "fail", 52: "ok", 60: "pk_ok"}.get(self.get(), "closed")

    def raw(self, method, fields):
        self.send(method, fields)
        got = self.answer()
        if got == "closed" and self.t.disconnect_text is not None:
            got = "disconnect:" + self.t.disconnect_text
        return got


CURVE_HASH = {256: hashes.SHA256(), 384: hashes.SHA384(),
              521: hashes.SHA512()}
RSA_HASH = {"ssh-rsa": hashes.SHA1(), "rsa-sha2-256": hashes.SHA256(),
            "rsa-sha2-512": hashes.SHA512()}


def sign(key, data, alg):
    """A plain key's signature blob of algorithm alg over data."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        inner = key.sign(data)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        r, sv = utils.decode_dss_signature(
            key.sign(data, ec.ECDSA(CURVE_HASH[key.curve.key_size])))
        inner = mpint(r) + mpint(sv)
    else:
        inner = key.sign(data, padding.PKCS1v15(), RSA_HASH[alg])
    return s(alg) + s(inner)


class SkKey:
    """A FIDO key held in memory, signing as an authenticator would."""

    def __init__(self, kind, seed, app):
        self.kind, self.app = kind, app
        if kind == "ed":
            self.k = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
            pk = self.k.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.name = SK_ED
            self.blob = s(SK_ED) + s(pk) + s(app)
        else:
            self.k = ec.derive_private_key(int.from_bytes(seed, "big"),
                                           ec.SECP256R1())
            pt = self.k.public_key().public_bytes(
                serialization.Encoding.X962,
                serialization.PublicFormat.UncompressedPoint)
            self.name = SK_EC
            self.blob = s(SK_EC) + s("nistp256") + s(pt) + s(app)

    def _inner(self, m):
        if self.kind == "ed":
            return self.k.sign(m)
        r, sv = utils.decode_dss_signature(
            self.k.sign(m, ec.ECDSA(hashes.SHA256())))
        return mpint(r) + mpint(sv)

    def sig(self, data, flags, counter):
        m = (hashlib.sha256(self.app.encode()).digest() + bytes([flags]) +
             struct.pack(">I", counter) + hashlib.sha256(data).digest())
        return (s(self.name) + s(self._inner(m)) + bytes([flags]) +
                struct.pack(">I", counter))

    def publine(self):
        return "%s %s sk" % (self.name, base64.b64encode(self.blob).decode())

    def webauthn(self, data, flags, counter, origin, client_data=None,
                 cd_origin=None, cd_type="webauthn.get"):
        """PROTOCOL.u2f's webauthn signature: the authenticator signs its
        authenticatorData and the hash of the browser's clientDataJSON,
        whose challenge is the data to sign."""
        if client_data is None:
            chal = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
            client_data = ('{"type":"%s","challenge":"%s",'
                           '"origin":"%s","crossOrigin":false}'
                           % (cd_type, chal, cd_origin or origin))
        cd = client_data.encode()
        authdata = (hashlib.sha256(self.app.encode()).digest() +
                    bytes([flags]) + struct.pack(">I", counter))
        inner = self._inner(authdata + hashlib.sha256(cd).digest())
        return (s(WEBAUTHN) + s(inner) + bytes([flags]) +
                struct.pack(">I", counter) + s(origin) + s(cd) + s(b""))


def blob_of(path):
    with open(path) as f:
        return base64.b64decode(f.read().split()[1])


def run_case(port, user, c):
    conn = Conn(port, user)
    try:
        if "raw" in c:
            out = []
            for method, fields in c["raw"]:
                out.append(conn.raw(method, bytes.fromhex(fields)))
                if out[-1].startswith(("closed", "disconnect")):
                    break
            return out
        if "sk" in c:
            k = SkKey(c["sk"], bytes.fromhex(c["seed"]), c.get("app", "ssh:"))
            alg, blob = k.name, k.blob
            if c.get("query"):
                return conn.request(alg, blob)
            d = conn.signed_data(alg, blob)
            if c.get("webauthn"):
                sig = k.webauthn(d, c.get("flags", 1), c.get("counter", 7),
                                 c.get("origin", "https://example.org"),
                                 c.get("client_data"),
                                 c.get("client_data_origin"),
                                 c.get("client_data_type", "webauthn.get"))
            else:
                sig = k.sig(d, c.get("flags", 1), c.get("counter", 7))
            return conn.request(alg, blob, sig)
        with open(c["key"], "rb") as f:
            key = serialization.load_ssh_private_key(f.read(), None)
        alg, blob = c["alg"], blob_of(c["blob"])
        hk = c.get("hostbound")
        if hk is not None:
            hk = (conn.t.get_remote_server_key().asbytes() if hk == "own"
                  else blob_of(hk))
        if c.get("query"):
            return conn.request(alg, blob, hostkey=hk)
        sig = sign(key, conn.signed_data(alg, blob, hk),
                   c.get("sigalg") or alg)
        return conn.request(alg, blob, sig, hostkey=hk)
    finally:
        conn.t.close()


def main():
    if sys.argv[1] == "--publines":
        print(json.dumps([SkKey(c["sk"], bytes.fromhex(c["seed"]),
                                c.get("app", "ssh:")).publine()
                          for c in json.load(sys.stdin)]))
        return
    port, user = int(sys.argv[1]), sys.argv[2]
    cases = json.load(sys.stdin)
    print(json.dumps([run_case(port, user, c) for c in cases]))


if __name__ == "__main__":
    main()
