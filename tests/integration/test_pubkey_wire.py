"""
test_pubkey_wire.py: publickey requests and signatures built by hand
(pkwire.py, paramiko and cryptography under /usr/bin/python3), for what
the OpenSSH client never sends: a signature whose algorithm differs from
the request's, malformed key blobs, FIDO signatures with chosen flags and
webauthn signatures. Each verdict is the one OpenSSH 9.2's sshd gives.
"""

import base64
import json
import os
import re
import struct

import harness
from harness import check

PKWIRE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pkwire.py")


def _keygen(ctx, name, ktype, bits=None):
    path = os.path.join(ctx.dir, name)
    argv = ["ssh-keygen", "-q", "-t", ktype, "-N", "", "-C", name, "-f", path]
    if bits is not None:
        argv[4:4] = ["-b", str(bits)]
    harness.run(argv)
    return path


def _wire(ctx, user, cases):
    """Run the cases (pkwire.py's format); one verdict each."""
    argv = ["/usr/bin/python3", PKWIRE, str(ctx.port), user.name]
    p = harness.run(argv, 120, check_rc=False,
                    input=json.dumps(cases).encode())
    ctx._note_client(argv, p.returncode, p.stderr)
    check(p.returncode == 0, "pkwire.py failed: %r" % p.stderr[-2000:])
    got = json.loads(p.stdout)
    check(len(got) == len(cases), "pkwire.py answered %r" % got)
    return got


def _expect(ctx, user, table):
    """table: (description, case, verdict) rows, run in one go."""
    got = _wire(ctx, user, [c for _, c, _ in table])
    bad = ["%s: got %s, want %s" % (d, g, w)
           for (d, _, w), g in zip(table, got) if g != w]
    check(not bad, "; ".join(bad))


def test_rsa_cert_legacy_signature(ctx):
    """As sshd: ssh-rsa-cert-v01@openssh.com, when accepted, takes a
    signature of any RSA algorithm (older clients sent that name with
    rsa-sha2-* signatures); rsa-sha2-*-cert-v01 names take only their own,
    and a plain RSA request only its own."""
    u = ctx.make_user(with_key=False)
    ca = _keygen(ctx, "ca", "ed25519")
    key = _keygen(ctx, "ukey", "rsa", 2048)
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "legacy", "-n", u.name,
                 key + ".pub"])
    cert = key + "-cert.pub"
    ctx.authorize(u, key + ".pub")
    ctx.start_server(extra_config=[
        "TrustedUserCAKeys %s.pub" % ca,
        "PubkeyAcceptedAlgorithms ssh-rsa-cert-v01@openssh.com,"
        "rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-256"])
    legacy = "ssh-rsa-cert-v01@openssh.com"
    c256 = "rsa-sha2-256-cert-v01@openssh.com"

    def case(alg, sigalg, blob=cert):
        return {"key": key, "blob": blob, "alg": alg, "sigalg": sigalg}
    _expect(ctx, u, [
        ("legacy cert name, rsa-sha2-512 signature",
         case(legacy, "rsa-sha2-512"), "ok"),
        ("legacy cert name, rsa-sha2-256 signature",
         case(legacy, "rsa-sha2-256"), "ok"),
        ("legacy cert name, ssh-rsa signature", case(legacy, "ssh-rsa"),
         "ok"),
        ("rsa-sha2-256 cert, rsa-sha2-512 signature",
         case(c256, "rsa-sha2-512"), "fail"),
        ("rsa-sha2-256 cert, ssh-rsa signature", case(c256, "ssh-rsa"),
         "fail"),
        ("rsa-sha2-256 cert, own signature", case(c256, "rsa-sha2-256"),
         "ok"),
        ("plain rsa-sha2-256, rsa-sha2-512 signature",
         case("rsa-sha2-256", "rsa-sha2-512", key + ".pub"), "fail"),
    ])


def _sk_line(ctx, user, cases_with_opts):
    """authorized_keys lines for pkwire.py's in-memory FIDO keys: each
    (options, case) pair; the key's public line comes from pkwire.py."""
    argv = ["/usr/bin/python3", PKWIRE, "--publines"]
    p = harness.run(argv, 60, input=json.dumps(
        [c for _, c in cases_with_opts]).encode())
    lines = json.loads(p.stdout)
    ak = os.path.join(ctx.dir, "sk_pubs")
    with open(ak, "w") as f:
        for (opts, _), line in zip(cases_with_opts, lines):
            f.write((opts + " " if opts else "") + line + "\n")
    ctx.authorize(user, ak)


def test_sk_flags_and_webauthn(ctx):
    """FIDO signatures as sshd 9.2 judges them: user presence required
    unless no-touch-required, verification with verify-required, other
    flag bits ignored; the signature's own type only; webauthn signatures
    (a browser's clientDataJSON) for sk-ecdsa keys, bound to the data to
    sign and to their origin."""
    u = ctx.make_user(with_key=False)
    ed = {"sk": "ed", "seed": "11" * 32}
    ec = {"sk": "ec", "seed": "22" * 32}
    nt = {"sk": "ed", "seed": "33" * 32}
    vr = {"sk": "ed", "seed": "44" * 32}
    web = {"sk": "ec", "seed": "55" * 32, "app": "example.org"}
    _sk_line(ctx, u, [("", ed), ("", ec), ("no-touch-required", nt),
                      ("verify-required", vr), ("", web)])
    ctx.start_server()

    def v(base, **kw):
        c = dict(base)
        c.update(kw)
        return c
    chal_bad = ('{"type":"webauthn.get","challenge":"AAAA",'
                '"origin":"https://example.org"}')
    _expect(ctx, u, [
        ("ed25519-sk query", v(ed, query=True), "pk_ok"),
        ("ed25519-sk touched", ed, "ok"),
        ("ed25519-sk not touched", v(ed, flags=0), "fail"),
        ("ed25519-sk every flag", v(ed, flags=0xff), "ok"),
        ("ecdsa-sk touched", ec, "ok"),
        ("ecdsa-sk not touched", v(ec, flags=0), "fail"),
        ("no-touch-required, not touched", v(nt, flags=0), "ok"),
        ("verify-required, not verified", v(vr, flags=1), "fail"),
        ("verify-required, verified", v(vr, flags=5), "ok"),
        ("webauthn", v(ec, webauthn=True), "ok"),
        ("webauthn, application as relying party", v(web, webauthn=True),
         "ok"),
        ("webauthn not touched", v(ec, webauthn=True, flags=0), "fail"),
        ("webauthn with attested data flag",
         v(ec, webauthn=True, flags=0x41), "fail"),
        ("webauthn, another challenge",
         v(ec, webauthn=True, client_data=chal_bad), "fail"),
        ("webauthn, clientData of another origin",
         v(ec, webauthn=True, client_data_origin="https://evil.example"),
         "fail"),
        ("webauthn, create instead of get",
         v(ec, webauthn=True, client_data_type="webauthn.create"), "fail"),
        ("webauthn for an ed25519-sk key", v(ed, webauthn=True), "fail"),
    ])


def test_hostbound_wrong_host_key(ctx):
    """publickey-hostbound-v00@openssh.com binds a signature to the host
    key of the connection's key exchange: naming that key logs in; naming
    another of the server's own keys ends the connection with sshd's line,
    for a query as for a signature."""
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    ctx.start_server(extra_config=["HostKey %s" % rsa])
    base = {"key": u.key, "blob": u.key + ".pub", "alg": "ssh-ed25519"}

    def v(**kw):
        c = dict(base)
        c.update(kw)
        return c
    _expect(ctx, u, [
        ("the key exchange's host key, query", v(hostbound="own",
                                                 query=True), "pk_ok"),
        ("the key exchange's host key", v(hostbound="own"), "ok"),
        ("another host key of the server, query",
         v(hostbound=rsa + ".pub", query=True), "closed"),
        ("another host key of the server", v(hostbound=rsa + ".pub"),
         "closed"),
    ])
    check(ctx.wait_log(r"^userauth_pubkey: "
                       r"publickey-hostbound-v00@openssh\.com packet "
                       r"contained wrong host key \[preauth\]$"),
          "no sshd line for the wrong host key")
    # sshd's preauth child names the query's method as the client sent it.
    check(ctx.wait_log(r"^Postponed publickey-hostbound-v00@openssh\.com "
                       r"for %s from 127\.0\.0\.1 port \d+ ssh2 \[preauth\]$"
                       % re.escape(u.name)),
          "no 'Postponed publickey-hostbound-v00@openssh.com' line")


def test_hostbound_wrong_host_key_when_publickey_unused(ctx):
    """sshd checks a publickey-hostbound request's host key only inside
    userauth_pubkey: with PubkeyAuthentication no, or an
    AuthenticationMethods list whose next step is not publickey, a request
    naming another host key just fails and the connection goes on
    (sshd 9.2, side by side), with no fatal line."""
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    wrong = {"key": u.key, "blob": u.key + ".pub", "alg": "ssh-ed25519",
             "hostbound": rsa + ".pub"}
    for extra in (["PubkeyAuthentication no"],
                  ["AuthenticationMethods password"]):
        ctx.start_server(extra_config=["HostKey %s" % rsa] + extra)
        _expect(ctx, u, [
            ("another host key, %s" % extra[0], wrong, "fail"),
            ("the same as a query, %s" % extra[0], dict(wrong, query=True),
             "fail"),
        ])
        check(not re.search(r"contained wrong host key", ctx.server_log()),
              "fatal line for a method not run (%s)" % extra[0])
        ctx.stop_server()


def test_authorized_key_with_non_minimal_mpints(ctx):
    """An authorized_keys RSA key whose e and n carry an extra leading
    zero byte (RFC 4251 says writers must not; some tools do): sshd 9.2
    reads it as the same key, and so does postern."""
    key = _keygen(ctx, "rsa_nonmin", "rsa", 2048)
    with open(key + ".pub") as f:
        blob = base64.b64decode(f.read().split()[1])
    fields, off = [], 0
    while off < len(blob):
        (n,) = struct.unpack(">I", blob[off:off + 4])
        fields.append(blob[off + 4:off + 4 + n])
        off += 4 + n
    name, e, n = fields
    wire = b"".join(struct.pack(">I", len(x)) + x
                    for x in (name, b"\0" + e, b"\0" + n))
    u = ctx.make_user(with_key=False)
    with open(key + ".nonmin.pub", "w") as f:
        f.write("ssh-rsa %s nonmin\n" % base64.b64encode(wire).decode())
    ctx.authorize(u, key + ".nonmin.pub")
    ctx.start_server()
    r = ctx.ssh(u, "echo ok", key=key)
    check(r.rc == 0 and r.stdout == b"ok\n",
          "the key was not recognised: rc %s %s" % (r.rc, r.err[-300:]))
