"""
test_certs.py: user certificates (TrustedUserCAKeys, cert-authority lines,
AuthorizedPrincipalsFile, validity, critical options), RevokedKeys (text
lists and KRLs), the public key algorithm keywords, FIDO security keys and
host certificates, through the real OpenSSH client. Keys, certificates and
KRLs are made with ssh-keygen at test time; FIDO keys with the test
authenticator build/tests/soft_sk.so.
"""

import base64
import os
import re
import secrets
import shutil
import struct

import harness
from harness import check


# ---------------------------------------------------------------------------
# helpers


def _keygen(ctx, name, ktype="ed25519", bits=None, comment=None):
    path = os.path.join(ctx.dir, name)
    argv = ["ssh-keygen", "-q", "-t", ktype, "-N", "", "-C",
            comment or name, "-f", path]
    if bits is not None:
        argv[4:4] = ["-b", str(bits)]
    harness.run(argv)
    return path


def _sign(ctx, ca, key, ident, principals, validity=None, opts=(),
          serial=None, host=False):
    """Certify key.pub with CA ca; returns key-cert.pub (replaced on each
    call for the same key)."""
    argv = ["ssh-keygen", "-q", "-s", ca, "-I", ident]
    if principals is not None:
        argv += ["-n", principals]
    if validity is not None:
        argv += ["-V", validity]
    if serial is not None:
        argv += ["-z", str(serial)]
    for o in opts:
        argv += ["-O", o]
    if host:
        argv.append("-h")
    argv.append(key + ".pub")
    cert = key + "-cert.pub"
    if os.path.exists(cert):
        os.unlink(cert)
    harness.run(argv)
    return cert


def _user_key(ctx, u, name="ukey"):
    """A key of the user's that no authorized_keys file lists."""
    return _keygen(ctx, "%s_%s" % (name, u.name))


def _login(ctx, u, key, want_ok, what, command="echo ok", extra=(),
           expect_out=b"ok\n", env=None):
    argv = ctx.ssh_argv(u, command, key=key, extra=extra)
    p = ctx.popen(argv, stdin=harness.subprocess.DEVNULL,
                  stdout=harness.subprocess.PIPE,
                  stderr=harness.subprocess.PIPE, env=env)
    try:
        out, err = p.communicate(timeout=30)
    except harness.subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        harness.fail("%s: ssh timed out" % what)
    ctx._note_client(argv, p.returncode, err)
    if want_ok:
        check(p.returncode == 0 and out == expect_out,
              "%s: login should work: rc %s stdout %r; stderr:\n%s"
              % (what, p.returncode, out, err.decode(errors="replace")[-600:]))
    else:
        check(p.returncode == 255 and out == b"",
              "%s: login should be refused: rc %s stdout %r"
              % (what, p.returncode, out))
    return out


def _log_has(ctx, pattern, what, timeout_s=5):
    check(ctx.wait_log(pattern, timeout_s),
          "%s: no log line matching %r" % (what, pattern))


def _write(path, text, owner=None, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner.uid, owner.gid)


def _ssh_dir(u):
    d = os.path.join(u.home, ".ssh")
    os.makedirs(d, exist_ok=True)
    os.chown(d, u.uid, u.gid)
    os.chmod(d, 0o700)
    return d


def _pub(path):
    with open(path + ".pub") as f:
        return f.read().strip()


def _ca_config(ctx, ca, extra=()):
    return ["TrustedUserCAKeys %s.pub" % ca] + list(extra)


def _soft_sk(ctx):
    so = os.path.join(os.path.dirname(os.path.abspath(ctx.server_path)),
                      "tests", "soft_sk.so")
    check(os.path.exists(so), "%s missing (make builds it)" % so)
    return so


# ---------------------------------------------------------------------------
# user certificates


def test_cert_trusted_ca(ctx):
    ca = _keygen(ctx, "user_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "alice-laptop", u.name, serial=7)
    ctx.start_server(extra_config=_ca_config(ctx, ca))
    _login(ctx, u, key, True, "certificate from a TrustedUserCAKeys CA")
    fp = harness.fingerprint(key + ".pub")
    cafp = harness.fingerprint(ca + ".pub")
    _log_has(ctx, r"^Accepted publickey for %s from 127\.0\.0\.1 port \d+ "
             r"ssh2: ED25519-CERT %s ID alice-laptop \(serial 7\) CA "
             r"ED25519 %s$" % (u.name, re.escape(fp), re.escape(cafp)),
             "OpenSSH's Accepted line for a certificate")
    _log_has(ctx, r"^Accepted certificate ID \"alice-laptop\" \(serial 7\) "
             r"signed by ED25519 CA %s via %s\.pub$"
             % (re.escape(cafp), re.escape(ca)),
             "the Accepted certificate line")
    # Another CA's certificate, and the plain key itself, are refused.
    other = _keygen(ctx, "other_ca")
    _sign(ctx, other, key, "forged", u.name)
    _login(ctx, u, key, False, "certificate from an untrusted CA")


def test_cert_trusted_ca_invalid_user(ctx):
    """A certificate from a TrustedUserCAKeys CA for a user that does not
    exist: sshd's monitor never looks an invalid user's key up, so it
    logs no "Accepted certificate" line and no reason the certificate
    would be refused. postern judged it all the same and logged both
    (review: "Accepted certificate ID ..." for an invalid user)."""
    ca = _keygen(ctx, "inv_ca")
    name = "nouser" + secrets.token_hex(4)
    key = _keygen(ctx, "inv_key")
    for extra in ([], ["AuthorizedPrincipalsCommand /bin/echo %u",
                       "AuthorizedPrincipalsCommandUser nobody"]):
        ctx.start_server(extra_config=_ca_config(
            ctx, ca, ["LogLevel DEBUG1"] + extra))
        for ident, validity, opts in (
                ("inv-good", None, ()),
                ("inv-expired", "20200101:20200102", ()),
                ("inv-source", None, ("source-address=10.9.9.9/32",))):
            _sign(ctx, ca, key, ident, name, validity=validity, opts=opts)
            _login(ctx, name, key, False, "invalid user, %s" % ident)
        _log_has(ctx, r"^Connection closed by invalid user %s .*\n"
                 r"(.*\n)*Connection closed by invalid user %s .*\n"
                 r"(.*\n)*Connection closed by invalid user %s "
                 % (name, name, name), "three refused connections")
        log = ctx.server_log()
        for rx in (r"Accepted certificate", r"Certificate invalid",
                   r"Authentication tried for %s" % name,
                   r"Certificate does not contain",
                   r"Running AuthorizedPrincipalsCommand"):
            check(not re.search(rx, log, re.M),
                  "%s: an invalid user's certificate was judged: %r in\n%s"
                  % (extra, rx, harness.tail(log)))
        ctx.stop_server()


def test_cert_trusted_ca_file_malformed(ctx):
    """sshd reads TrustedUserCAKeys up to the first line that is no key
    and trusts no CA after it; a certificate line is read and skipped."""
    ca = _keygen(ctx, "tf_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    cert = _sign(ctx, ca, key, "tf-id", u.name)
    trusted = os.path.join(ctx.dir, "trusted_ca_keys")
    _write(trusted, "# CAs\nnot a key at all\n%s\n" % _pub(ca))
    ctx.start_server(extra_config=["TrustedUserCAKeys %s" % trusted])
    _login(ctx, u, key, False, "CA listed after a line that is no key")
    _log_has(ctx, r"^%s line 2: not a public key: no CA of this "
             r"file is trusted$" % re.escape(trusted),
             "the malformed TrustedUserCAKeys line")
    # The same CA before the bad line, or after a certificate line: read.
    _write(trusted, "%s\nnot a key at all\n" % _pub(ca))
    _login(ctx, u, key, True, "CA listed before a line that is no key")
    with open(cert) as f:
        _write(trusted, "%s%s\n" % (f.read(), _pub(ca)))
    _login(ctx, u, key, True, "CA listed after a certificate line")


def _ca_and_user(ctx, ca_name):
    """A CA key, a user with a key of its own, and the path of the user's
    authorized_keys (not written yet)."""
    ca = _keygen(ctx, ca_name)
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    return ca, u, key, os.path.join(_ssh_dir(u), "authorized_keys")


def test_cert_authority_line(ctx):
    ca, u, key, ak = _ca_and_user(ctx, "ak_ca")
    _write(ak, "cert-authority %s\n" % _pub(ca), owner=u, mode=0o600)
    _sign(ctx, ca, key, "via-ak", u.name, serial=3)
    ctx.start_server()
    _login(ctx, u, key, True, "cert-authority line")
    cafp = harness.fingerprint(ca + ".pub")
    _log_has(ctx, r"^Accepted certificate ID \"via-ak\" \(serial 3\) signed "
             r"by CA ED25519 %s found at %s:1$" % (re.escape(cafp),
                                                   re.escape(ak)),
             "the Accepted certificate line for a cert-authority line")
    _log_has(ctx, r"^Accepted publickey for %s .* ssh2: ED25519-CERT "
             r"SHA256:\S+ ID via-ak \(serial 3\) CA ED25519 %s$"
             % (u.name, re.escape(cafp)), "the Accepted line")
    # A plain line with the CA key does not admit its certificates.
    _write(ak, "%s\n" % _pub(ca), owner=u, mode=0o600)
    _login(ctx, u, key, False, "CA key without cert-authority")

    # principals= replaces the user name: a certificate for "deploy".
    _write(ak, 'cert-authority,principals="ops,deploy" %s\n' % _pub(ca),
           owner=u, mode=0o600)
    _sign(ctx, ca, key, "deploy-cert", "deploy")
    _login(ctx, u, key, True, "cert-authority with principals=")
    _write(ak, 'cert-authority,principals="ops" %s\n' % _pub(ca),
           owner=u, mode=0o600)
    _login(ctx, u, key, False, "principals= not naming the certificate's")
    _log_has(ctx, r"^Certificate does not contain an authorized "
             r"principal$", "principals= mismatch")


def test_fingerprint_hash_md5_authorized_keys_lines(ctx):
    # FingerprintHash md5: the Accepted publickey line follows it, but the
    # lines of the authorized_keys matching ("Accepted key ... found at",
    # a cert-authority line's "Accepted certificate ID ... found at") stay
    # SHA-256, as sshd 9.2's auth2-pubkeyfile.c writes them.
    ca, u, key, ak = _ca_and_user(ctx, "fph_ca")
    _write(ak, "%s\n" % _pub(key), owner=u, mode=0o600)
    ctx.start_server(extra_config=["FingerprintHash md5"])
    _login(ctx, u, key, True, "plain key, FingerprintHash md5")
    p = harness.run(["ssh-keygen", "-l", "-E", "md5", "-f", key + ".pub"])
    md5 = p.stdout.decode().split()[1]
    check(md5.startswith("MD5:"), "ssh-keygen -E md5: %r" % p.stdout)
    _log_has(ctx, r"^Accepted key ED25519 %s found at %s:1$"
             % (re.escape(harness.fingerprint(key + ".pub")),
                re.escape(ak)), "Accepted key line in SHA-256")
    _log_has(ctx, r"^Accepted publickey for %s .* ssh2: ED25519 %s$"
             % (u.name, re.escape(md5)), "Accepted publickey line in MD5")
    _write(ak, "cert-authority %s\n" % _pub(ca), owner=u, mode=0o600)
    _sign(ctx, ca, key, "fph", u.name, serial=5)
    _login(ctx, u, key, True, "cert-authority line, FingerprintHash md5")
    _log_has(ctx, r"^Accepted certificate ID \"fph\" \(serial 5\) signed "
             r"by CA ED25519 %s found at %s:1$"
             % (re.escape(harness.fingerprint(ca + ".pub")), re.escape(ak)),
             "Accepted certificate line in SHA-256")


def test_cert_expired(ctx):
    ca = _keygen(ctx, "exp_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "old", u.name, validity="20200101:20200102")
    ctx.start_server(extra_config=_ca_config(ctx, ca))
    _login(ctx, u, key, False, "expired certificate")
    _log_has(ctx, r"^Certificate invalid: expired$", "expired")
    check("not yet valid" not in ctx.server_log(),
          "an expired certificate must not be called not yet valid")


def test_cert_not_yet_valid(ctx):
    ca = _keygen(ctx, "nyv_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "future", u.name, validity="20990101:20991231")
    ctx.start_server(extra_config=_ca_config(ctx, ca))
    _login(ctx, u, key, False, "certificate not yet valid")
    _log_has(ctx, r"^Certificate invalid: not yet valid$",
             "not yet valid")


def test_cert_wrong_principal(ctx):
    ca = _keygen(ctx, "wp_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "someone", "someone-else,root")
    ctx.start_server(extra_config=_ca_config(ctx, ca))
    _login(ctx, u, key, False, "certificate for another principal")
    _log_has(ctx, r"^Certificate invalid: name is not a listed "
             r"principal$", "wrong principal")


def test_cert_revoked_list(ctx):
    ca = _keygen(ctx, "rl_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "revoked-by-list", u.name)
    revoked = os.path.join(ctx.dir, "revoked_keys")
    _write(revoked, "# revoked\n%s\n" % _pub(key))
    ctx.start_server(extra_config=_ca_config(
        ctx, ca, ["RevokedKeys %s" % revoked]))
    _login(ctx, u, key, False, "certificate whose key is listed in "
           "RevokedKeys")
    fp = harness.fingerprint(key + ".pub")
    _log_has(ctx, r"^Authentication key ED25519-CERT %s revoked by "
             r"file %s$" % (re.escape(fp), re.escape(revoked)),
             "revoked by a text list")
    # Another key of the user's, not listed, still logs in.
    key2 = _keygen(ctx, "ukey2_" + u.name)
    _sign(ctx, ca, key2, "fine", u.name)
    _login(ctx, u, key2, True, "certificate not in RevokedKeys")
    # Listing the CA revokes every certificate it signed.
    _write(revoked, "%s\n" % _pub(ca))
    _login(ctx, u, key2, False, "certificate whose CA is revoked")


def test_revoked_keys_truncated_krl(ctx):
    # A KRL cut short refuses every key, with ssh_err()'s words, as sshd
    # 9.2: "incomplete message" (postern said "message incomplete").
    u = ctx.make_user()
    krl = os.path.join(ctx.dir, "short_krl")
    harness.run(["ssh-keygen", "-q", "-k", "-f", krl, u.key + ".pub"])
    with open(krl, "rb") as f:
        data = f.read()
    with open(krl, "wb") as f:
        f.write(data[:30])
    ctx.start_server(extra_config=["RevokedKeys %s" % krl])
    _login(ctx, u, u.key, False, "key checked against a truncated KRL")
    _log_has(ctx, r"^Error checking authentication key ED25519 %s in "
             r"revoked keys file %s: incomplete message$"
             % (re.escape(harness.fingerprint(u.key + ".pub")),
                re.escape(krl)), "truncated KRL")
    # An unknown format version: "invalid format" in that line alone, as
    # sshd (postern also logged "KRL has unsupported format version").
    ctx.stop_server()
    with open(krl, "wb") as f:
        f.write(data[:8] + b"\0\0\0\x09" + data[12:])
    ctx.start_server(extra_config=["RevokedKeys %s" % krl])
    _login(ctx, u, u.key, False, "key checked against a KRL of version 9")
    _log_has(ctx, r"^Error checking authentication key ED25519 \S+ in "
             r"revoked keys file %s: invalid format$" % re.escape(krl),
             "KRL of an unknown version")
    extra = [l for l in ctx.server_log().splitlines()
             if "format version" in l and not l.startswith("debug")]
    check(not extra, "lines sshd does not write: %r" % extra)


def test_cert_revoked_krl(ctx):
    ca = _keygen(ctx, "krl_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    key2 = _keygen(ctx, "kk2_" + u.name)
    spec = os.path.join(ctx.dir, "krl_spec")
    _write(spec, "serial: 10-20\nid: stolen-laptop\n")
    krl = os.path.join(ctx.dir, "revoked.krl")
    harness.run(["ssh-keygen", "-q", "-k", "-f", krl, "-s", ca + ".pub",
                 spec])
    ctx.start_server(extra_config=_ca_config(ctx, ca, ["RevokedKeys %s"
                                                       % krl]))
    fp = harness.fingerprint(key + ".pub")
    _sign(ctx, ca, key, "laptop-15", u.name, serial=15)
    _login(ctx, u, key, False, "certificate revoked by serial in a KRL")
    _log_has(ctx, r"^Authentication key ED25519-CERT %s revoked by "
             r"file %s$" % (re.escape(fp), re.escape(krl)),
             "revoked by serial")
    _sign(ctx, ca, key, "stolen-laptop", u.name, serial=30)
    _login(ctx, u, key, False, "certificate revoked by key ID in a KRL")
    _sign(ctx, ca, key2, "desk", u.name, serial=21)
    _login(ctx, u, key2, True, "certificate outside the revoked serials")
    # A KRL revoking a plain key, with ssh-keygen -k KEY.pub.
    ctx.authorize(u, key2 + ".pub")
    os.unlink(key2 + "-cert.pub")
    harness.run(["ssh-keygen", "-q", "-k", "-f", krl, key2 + ".pub"])
    _login(ctx, u, key2, False, "plain key revoked by a KRL")
    _log_has(ctx, r"^Authentication key ED25519 %s revoked by file "
             r"%s$" % (re.escape(harness.fingerprint(key2 + ".pub")),
                       re.escape(krl)), "plain key revoked")


def test_cert_revoked_keys_unreadable(ctx):
    u = ctx.make_user()
    missing = os.path.join(ctx.dir, "no-such-revoked-keys")
    ctx.start_server(extra_config=["RevokedKeys %s" % missing])
    _login(ctx, u, u.key, False, "any key with an unreadable RevokedKeys")
    _log_has(ctx, r"^Error checking authentication key ED25519 %s in "
             r"revoked keys file %s: No such file or directory$"
             % (re.escape(harness.fingerprint(u.pubkey)), re.escape(missing)),
             "unreadable RevokedKeys")
    # A malformed file refuses every key too.
    _write(missing, "this is not a key\n")
    _login(ctx, u, u.key, False, "any key with a malformed RevokedKeys")
    # In sshd's words (before: "unsupported or mismatched key type").
    _log_has(ctx, r"^Error checking authentication key ED25519 %s in "
             r"revoked keys file %s: invalid format$"
             % (re.escape(harness.fingerprint(u.pubkey)), re.escape(missing)),
             "malformed RevokedKeys")
    _write(missing, "# nothing revoked\n")
    _login(ctx, u, u.key, True, "an empty RevokedKeys list")
    # A 768-bit RSA key (a weak key revoked) is skipped, as sshd skips a
    # key of a length it refuses; the lines after it still count.
    _write(missing, _short_rsa_line() + "\n")
    _login(ctx, u, u.key, True, "a RevokedKeys list of a 768-bit RSA key")
    with open(u.pubkey) as f:
        _write(missing, _short_rsa_line() + "\n" + f.read())
    _login(ctx, u, u.key, False, "a key listed after a 768-bit RSA key")


def _short_rsa_line():
    """An ssh-rsa public key line with a 768-bit modulus (ssh-keygen makes
    none under 1024 bits)."""
    def mpint(v):
        b = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return struct.pack(">I", len(b)) + b
    n = (1 << 767) | secrets.randbits(766) << 1 | 1
    blob = struct.pack(">I", 7) + b"ssh-rsa" + mpint(65537) + mpint(n)
    return "ssh-rsa " + base64.b64encode(blob).decode() + " weak"


def test_cert_force_command(ctx):
    ca = _keygen(ctx, "fc_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "forced", u.name,
          opts=["force-command=echo cert-forced:$SSH_ORIGINAL_COMMAND"])
    ctx.start_server(extra_config=_ca_config(ctx, ca))
    _login(ctx, u, key, True, "force-command from the certificate",
           command="echo asked", expect_out=b"cert-forced:echo asked\n")
    _log_has(ctx, r"Starting session: forced-command \(key-option\) "
             r"'echo cert-forced:\$SSH_ORIGINAL_COMMAND' for %s" % u.name,
             "the forced command's session line")
    # A cert-authority line whose command= differs: refused, in sshd's
    # words (before: "authopts_merge: cannot combine key options: ...").
    v = ctx.make_user(with_key=False)
    vkey = _user_key(ctx, v)
    _sign(ctx, ca, vkey, "forced", v.name,
          opts=["force-command=echo cert-forced"])
    ctx.authorize(v, ca + ".pub", 'cert-authority,command="echo line"')
    ctx.stop_server()
    ctx.start_server()
    _login(ctx, v, vkey, False, "cert-authority command= unlike the "
           "certificate's force-command")
    _log_has(ctx, r"^(error: )?forced command options do not match$",
             "sshd's 'forced command options do not match' line")


def test_cert_source_address(ctx):
    ca = _keygen(ctx, "sa_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "elsewhere", u.name,
          opts=["source-address=10.0.0.0/8,192.0.2.1"])
    ctx.start_server(extra_config=_ca_config(ctx, ca))
    _login(ctx, u, key, False, "source-address mismatch")
    _log_has(ctx, r"^cert: Authentication tried for %s with valid "
             r"certificate but not from a permitted source address "
             r"\(127\.0\.0\.1\)\.$" % u.name, "source-address mismatch")
    _log_has(ctx, r"^Refused by certificate options$",
             "Refused by certificate options")
    _sign(ctx, ca, key, "here", u.name,
          opts=["source-address=10.0.0.0/8,127.0.0.0/8"])
    _login(ctx, u, key, True, "source-address match")


def test_cert_principals_file(ctx):
    ca = _keygen(ctx, "pf_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    pf = os.path.join(_ssh_dir(u), "principals")
    _write(pf, "# who may log in\n  ops \ndeploy # the deploy role\n",
           owner=u, mode=0o600)
    ctx.start_server(extra_config=_ca_config(
        ctx, ca, ["AuthorizedPrincipalsFile .ssh/principals"]))
    _sign(ctx, ca, key, "deploy-1", "deploy")
    _login(ctx, u, key, True, "principal listed in AuthorizedPrincipalsFile")
    # With a principals file, the user name itself is not enough.
    _sign(ctx, ca, key, "by-name", u.name)
    _login(ctx, u, key, False, "user name not in AuthorizedPrincipalsFile")
    _log_has(ctx, r"^Certificate does not contain an authorized "
             r"principal$", "principal not in the file")
    # A line's options apply: command= runs instead.
    _write(pf, 'command="echo from-principals" deploy\n', owner=u,
           mode=0o600)
    _sign(ctx, ca, key, "deploy-2", "deploy")
    _login(ctx, u, key, True, "principals line with command=",
           expect_out=b"from-principals\n")
    # StrictModes: a principals file writable by a group with other
    # members (root's) is refused.
    os.chown(pf, u.uid, 0)
    os.chmod(pf, 0o620)
    _login(ctx, u, key, False, "group-writable principals file")
    _log_has(ctx, r"^Authentication refused: bad ownership or modes for "
             r"file %s$" % re.escape(pf), "StrictModes on the principals "
             "file")


def test_cert_principals_file_bad_token(ctx):
    # An unknown % token in AuthorizedPrincipalsFile ends the connection
    # as sshd 9.2's monitor does: its percent_expand() lines, then fatal
    # (posternd refused the certificate and went on).
    ca = _keygen(ctx, "pft_ca")
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    ctx.start_server(extra_config=_ca_config(
        ctx, ca, ["AuthorizedPrincipalsFile .ssh/principals_%x"]))
    _sign(ctx, ca, key, "deploy-1", "deploy")
    _login(ctx, u, key, False, "bad token in AuthorizedPrincipalsFile")
    _log_has(ctx, r"^vdollar_percent_expand: unknown key %x\r?\n"
             r"percent_expand: failed\r?$", "sshd's lines")


# ---------------------------------------------------------------------------
# key algorithms and sizes


def test_required_rsa_size(ctx):
    u = ctx.make_user(with_key=False)
    small = _keygen(ctx, "rsa2048_" + u.name, "rsa", 2048)
    big = _keygen(ctx, "rsa3072_" + u.name, "rsa", 3072)
    ctx.authorize(u, small + ".pub")
    ctx.authorize(u, big + ".pub")
    ctx.start_server(extra_config=["RequiredRSASize 3072"])
    _login(ctx, u, small, False, "2048-bit RSA key under RequiredRSASize "
           "3072")
    _log_has(ctx, r"^refusing RSA key: Invalid key length \[preauth\]$",
             "RequiredRSASize refusal")
    _login(ctx, u, big, True, "3072-bit RSA key under RequiredRSASize 3072")
    # Larger than any key: no RSA key (it fell back to 1024).
    ctx.stop_server()
    ctx.start_server(extra_config=["RequiredRSASize 2000000"])
    _login(ctx, u, big, False, "3072-bit RSA key under RequiredRSASize "
           "2000000")


def test_pubkey_accepted_algorithms(ctx):
    u = ctx.make_user()
    ec = _keygen(ctx, "ecdsa_" + u.name, "ecdsa", 256)
    ctx.authorize(u, ec + ".pub")
    ctx.start_server(extra_config=["PubkeyAcceptedAlgorithms -ssh-ed25519*"])
    _login(ctx, u, u.key, False, "ed25519 key left out of "
           "PubkeyAcceptedAlgorithms")
    _log_has(ctx, r"^userauth_pubkey: signature algorithm ssh-ed25519 not "
             r"in PubkeyAcceptedAlgorithms \[preauth\]$",
             "PubkeyAcceptedAlgorithms refusal")
    _login(ctx, u, ec, True, "ecdsa key still accepted")


def test_pubkey_accepted_algorithms_certificates_only(ctx):
    """PubkeyAcceptedAlgorithms naming only a certificate type: its key's
    signature algorithm goes in server-sig-algs, for the OpenSSH client
    picks an RSA certificate's signature from that list. Before, the
    list was empty, the client found "no mutual signature algorithm" and
    never offered the certificate, which sshd 9.2 lets in."""
    ca = _keygen(ctx, "pco_ca")
    u = ctx.make_user(with_key=False)
    key = _keygen(ctx, "pco_rsa_" + u.name, "rsa", 2048)
    _sign(ctx, ca, key, "rsa-cert-only", u.name)
    ctx.start_server(extra_config=_ca_config(ctx, ca, [
        "PubkeyAcceptedAlgorithms rsa-sha2-512-cert-v01@openssh.com,"
        "sk-ssh-ed25519-cert-v01@openssh.com"]))
    r = ctx.ssh(u, "echo ok", key=key, verbose=True)
    check(r.rc == 0 and r.stdout == b"ok\n",
          "RSA certificate, certificates only: login should work: rc %s %s"
          % (r.rc, r.err[-600:]))
    check(ctx.wait_log(r"^Accepted publickey for %s from \S+ port \d+ ssh2: "
                       r"RSA-CERT " % re.escape(u.name), 5),
          "no 'Accepted publickey ... RSA-CERT' line")
    check("server-sig-algs=<rsa-sha2-512,sk-ssh-ed25519@openssh.com>"
          in r.err, "server-sig-algs should name the certificates' "
          "signature algorithms: %s"
          % [l for l in r.err.splitlines() if "server-sig-algs" in l])


def test_cert_ca_signature_algorithms(ctx):
    ca = _keygen(ctx, "csa_ca", "ecdsa", 256)
    u = ctx.make_user(with_key=False)
    key = _user_key(ctx, u)
    _sign(ctx, ca, key, "ecdsa-signed", u.name)
    ctx.start_server(extra_config=_ca_config(
        ctx, ca, ["CASignatureAlgorithms ssh-ed25519,rsa-sha2-*"]))
    _login(ctx, u, key, False, "CA signature algorithm not allowed")
    _log_has(ctx, r"^userauth_pubkey: certificate signature algorithm "
             r"ecdsa-sha2-nistp256: signature algorithm not supported "
             r"\[preauth\]$", "CASignatureAlgorithms refusal")


# ---------------------------------------------------------------------------
# FIDO security keys


def _sk_enrol(ctx, u, ktype, so):
    path = os.path.join(ctx.dir, "%s_%s" % (ktype, u.name))
    harness.run(["ssh-keygen", "-q", "-t", ktype, "-w", so, "-N", "", "-C",
                 ktype, "-f", path], stdin=harness.subprocess.DEVNULL)
    return path


def _sk_env(so, uv=False):
    env = dict(os.environ)
    env.pop("SOFT_SK_UV", None)
    env.pop("SOFT_SK_NO_TOUCH", None)
    if uv:
        env["SOFT_SK_UV"] = "1"
    return env


def test_sk_keys(ctx):
    so = _soft_sk(ctx)
    u = ctx.make_user(with_key=False)
    ed = _sk_enrol(ctx, u, "ed25519-sk", so)
    ec = _sk_enrol(ctx, u, "ecdsa-sk", so)
    ctx.authorize(u, ed + ".pub")
    ctx.authorize(u, ec + ".pub")
    ctx.start_server()
    opt = ["-o", "SecurityKeyProvider=%s" % so]
    _login(ctx, u, ed, True, "ed25519-sk key", extra=opt, env=_sk_env(so))
    _log_has(ctx, r"^Accepted publickey for %s from 127\.0\.0\.1 port \d+ "
             r"ssh2: ED25519-SK %s" % (u.name, re.escape(
                 harness.fingerprint(ed + ".pub"))), "ed25519-sk Accepted")
    _login(ctx, u, ec, True, "ecdsa-sk key", extra=opt, env=_sk_env(so))
    _log_has(ctx, r"^Accepted publickey for %s from 127\.0\.0\.1 port \d+ "
             r"ssh2: ECDSA-SK %s" % (u.name, re.escape(
                 harness.fingerprint(ec + ".pub"))), "ecdsa-sk Accepted")


def test_sk_verify_required(ctx):
    so = _soft_sk(ctx)
    u = ctx.make_user(with_key=False)
    ed = _sk_enrol(ctx, u, "ed25519-sk", so)
    ctx.authorize(u, ed + ".pub")
    ctx.start_server(extra_config=["PubkeyAuthOptions verify-required"])
    opt = ["-o", "SecurityKeyProvider=%s" % so]
    _login(ctx, u, ed, False, "verify-required without user verification",
           extra=opt, env=_sk_env(so))
    _log_has(ctx, r"^public key ED25519-SK %s signature for %s from "
             r"127\.0\.0\.1 port \d+ rejected: user verification "
             r"requirement not met +\[preauth\]$"
             % (re.escape(harness.fingerprint(ed + ".pub")), u.name),
             "verify-required refusal")
    _login(ctx, u, ed, True, "verify-required with user verification",
           extra=opt, env=_sk_env(so, uv=True))


def test_sk_touch_required(ctx):
    so = _soft_sk(ctx)
    u = ctx.make_user(with_key=False)
    ed = _sk_enrol(ctx, u, "ed25519-sk", so)
    ctx.authorize(u, ed + ".pub")
    ctx.start_server()
    opt = ["-o", "SecurityKeyProvider=%s" % so]
    env = _sk_env(so)
    env["SOFT_SK_NO_TOUCH"] = "1"
    _login(ctx, u, ed, False, "signature without user presence", extra=opt,
           env=env)
    _log_has(ctx, r"rejected: user presence \(authenticator touch\) "
             r"requirement not met +\[preauth\]$", "touch refusal")
    # The no-touch-required key option lifts it.
    os.unlink(os.path.join(u.home, ".ssh", "authorized_keys"))
    ctx.authorize(u, ed + ".pub", options="no-touch-required")
    _login(ctx, u, ed, True, "no-touch-required key option", extra=opt,
           env=env)


# ---------------------------------------------------------------------------
# host certificates


def _host_cert_login(ctx, u, ca, what):
    kh = os.path.join(ctx.dir, "known_hosts_ca")
    _write(kh, "@cert-authority [127.0.0.1]:%d %s\n" % (ctx.port, _pub(ca)))
    argv = ["ssh", "-F", "/dev/null", "-p", str(ctx.port), "-i", u.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=%s" % kh,
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "%s@127.0.0.1" % u.name, "echo ok"]
    r = harness.run(argv, check_rc=False)
    ctx._note_client(argv, r.returncode, r.stderr)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "%s: ssh with an @cert-authority known_hosts line must connect: "
          "rc %s %r\n%s" % (what, r.returncode, r.stdout,
                            r.stderr.decode(errors="replace")[-600:]))


def test_host_certificate(ctx):
    ca = _keygen(ctx, "host_ca")
    cert = _sign(ctx, ca, ctx.host_key, "test-host", "127.0.0.1", host=True)
    u = ctx.make_user()
    ctx.start_server(extra_config=["HostCertificate %s" % cert])
    _host_cert_login(ctx, u, ca, "HostCertificate")
    # A client that trusts another CA refuses the host.
    other = _keygen(ctx, "other_host_ca")
    kh = os.path.join(ctx.dir, "known_hosts_other")
    _write(kh, "@cert-authority [127.0.0.1]:%d %s\n"
           % (ctx.port, _pub(other)))
    r = harness.run(["ssh", "-F", "/dev/null", "-p", str(ctx.port), "-i",
                     u.key, "-o", "IdentitiesOnly=yes",
                     "-o", "StrictHostKeyChecking=yes",
                     "-o", "UserKnownHostsFile=%s" % kh,
                     "-o", "GlobalKnownHostsFile=/dev/null",
                     "-o", "HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com",
                     "-o", "BatchMode=yes", "%s@127.0.0.1" % u.name,
                     "echo ok"], check_rc=False)
    check(r.returncode == 255 and r.stdout == b"",
          "a host certificate from an untrusted CA must not be accepted")


def test_host_certificate_flag(ctx):
    ca = _keygen(ctx, "flag_ca")
    cert = _sign(ctx, ca, ctx.host_key, "test-host", "127.0.0.1", host=True)
    u = ctx.make_user()
    ctx.write_config()
    ctx.launch_server(args=["-c", cert])
    _host_cert_login(ctx, u, ca, "-c")


# ---------------------------------------------------------------------------
# certificates of FIDO keys (sk-*-cert-v01@openssh.com, cert.so)


def test_sk_certificates(ctx):
    so = _soft_sk(ctx)
    ca = _keygen(ctx, "sk_user_ca")
    u = ctx.make_user(with_key=False)
    ed = _sk_enrol(ctx, u, "ed25519-sk", so)
    ec = _sk_enrol(ctx, u, "ecdsa-sk", so)
    _sign(ctx, ca, ed, "ed-sk-id", u.name, serial=11)
    _sign(ctx, ca, ec, "ec-sk-id", u.name, serial=12)
    ctx.start_server(extra_config=_ca_config(ctx, ca))
    opt = ["-o", "SecurityKeyProvider=%s" % so]
    cafp = re.escape(harness.fingerprint(ca + ".pub"))
    for key, short, ident, serial in ((ed, "ED25519-SK", "ed-sk-id", 11),
                                      (ec, "ECDSA-SK", "ec-sk-id", 12)):
        _login(ctx, u, key, True, "%s certificate" % short, extra=opt,
               env=_sk_env(so))
        _log_has(ctx, r"^Accepted publickey for %s from 127\.0\.0\.1 port "
                 r"\d+ ssh2: %s-CERT %s ID %s \(serial %d\) CA ED25519 %s, "
                 r"signature count = \d+$"
                 % (u.name, short, re.escape(harness.fingerprint(
                     key + ".pub")), ident, serial, cafp),
                 "%s-CERT Accepted" % short)
    # No touch: refused, unless the certificate says no-touch-required.
    env = _sk_env(so)
    env["SOFT_SK_NO_TOUCH"] = "1"
    _login(ctx, u, ed, False, "sk certificate without user presence",
           extra=opt, env=env)
    _log_has(ctx, r"^public key ED25519-SK-CERT %s signature for %s "
             r"from 127\.0\.0\.1 port \d+ rejected: user presence "
             r"\(authenticator touch\) requirement not met +\[preauth\]$"
             % (re.escape(harness.fingerprint(ed + ".pub")), u.name),
             "touch refusal for an sk certificate")
    _sign(ctx, ca, ed, "ed-sk-notouch", u.name,
          opts=["no-touch-required"])
    _login(ctx, u, ed, True, "no-touch-required certificate extension",
           extra=opt, env=env)
    # verify-required (a critical option): only with user verification.
    _sign(ctx, ca, ec, "ec-sk-verify", u.name, opts=["verify-required"])
    _login(ctx, u, ec, False, "verify-required certificate without UV",
           extra=opt, env=_sk_env(so))
    _log_has(ctx, r"rejected: user verification requirement not met "
             r"+\[preauth\]$", "verify-required refusal")
    _login(ctx, u, ec, True, "verify-required certificate with UV",
           extra=opt, env=_sk_env(so, uv=True))
    # Another CA's certificate of the same FIDO key is refused.
    other = _keygen(ctx, "sk_other_ca")
    _sign(ctx, other, ed, "forged", u.name)
    _login(ctx, u, ed, False, "sk certificate from an untrusted CA",
           extra=opt, env=_sk_env(so))


def test_sk_certificate_revoked(ctx):
    so = _soft_sk(ctx)
    ca = _keygen(ctx, "sk_rev_ca")
    u = ctx.make_user(with_key=False)
    ed = _sk_enrol(ctx, u, "ed25519-sk", so)
    _sign(ctx, ca, ed, "to-revoke", u.name, serial=5)
    krl = os.path.join(ctx.dir, "sk.krl")
    spec = os.path.join(ctx.dir, "sk.krlspec")
    with open(spec, "w") as f:
        f.write("serial: 5\n")
    harness.run(["ssh-keygen", "-q", "-k", "-f", krl, "-s", ca + ".pub",
                 spec])
    ctx.start_server(extra_config=_ca_config(ctx, ca) +
                     ["RevokedKeys %s" % krl])
    _login(ctx, u, ed, False, "revoked sk certificate (KRL serial)",
           extra=["-o", "SecurityKeyProvider=%s" % so], env=_sk_env(so))
    _log_has(ctx, r"^Authentication key ED25519-SK-CERT \S+ revoked "
             r"by file %s$" % re.escape(krl), "revocation line")


def test_host_certificate_unusable_as_sshd(ctx):
    """HostCertificate files that cannot be used are skipped with sshd
    9.2's line (posternd -t and sshd -t print the same): the host key's
    plain .pub, a host certificate of another key, a user certificate of
    another key, a missing file. A user certificate of the host key
    itself, which sshd 9.2 loads, posternd skips (documented)."""
    sshd = harness.openssh_sshd()
    ca = _keygen(ctx, "uh_ca")
    other = _keygen(ctx, "uh_other")
    other_host = _sign(ctx, ca, other, "h", "x", host=True)
    user_key = _keygen(ctx, "uh_user")
    user_cert = _sign(ctx, ca, user_key, "u", "x")
    hk_copy = os.path.join(ctx.dir, "hk_copy")
    shutil.copy(ctx.host_key + ".pub", hk_copy + ".pub")
    own_user = _sign(ctx, ca, hk_copy, "hu", "x")
    for path in (ctx.host_key + ".pub", other_host, user_cert,
                 os.path.join(ctx.dir, "missing-cert.pub")):
        cfg = os.path.join(ctx.dir, "hc_cfg")
        _write(cfg, "HostKey %s\nHostCertificate %s\n" % (ctx.host_key, path))
        s = harness.run([sshd, "-t", "-f", cfg], check_rc=False)
        p = harness.run([ctx.server_path, "-t", "-f", cfg], check_rc=False)
        want = s.stderr  # "\r\n" line ends included
        check(want != b"" and p.stderr == want and p.returncode == 0,
              "HostCertificate %s: posternd -t said %r (rc %d), sshd -t %r"
              % (path, p.stderr, p.returncode, s.stderr))
    cfg = os.path.join(ctx.dir, "hc_cfg")
    _write(cfg, "HostKey %s\nHostCertificate %s\n" % (ctx.host_key, own_user))
    p = harness.run([ctx.server_path, "-t", "-f", cfg], check_rc=False)
    check(p.stderr == ("Certificate file is not a host certificate: %s\r\n"
                       % own_user).encode(),
          "a user certificate of the host key: %r" % p.stderr)
