"""
test_cert_parity.py: user and host certificates that ssh-keygen will not
make (options out of order or repeated, no principals, a host certificate
used as a user's, unknown options, bad source-address, odd validity) and
certificates signed by a FIDO (sk-*) CA, each tried against OpenSSH's sshd
9.2 (/usr/sbin/sshd) and posternd side by side with the same configuration.
Both must accept or refuse alike, and as sshd 9.2 was seen to: the expected
answer is written in each case, so a missing or different sshd fails too.
Certificates are rewritten and signed again by certforge.py.
"""

import json
import os
import re
import shutil
import subprocess
import time

import harness
from harness import check
from test_log_parity import SYSTEM_PYTHON, Peer

FORGE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "certforge.py")
U64_MAX = (1 << 64) - 1


class Server(Peer):
    """One server (sshd or posternd) on its own port and config, logging
    at DEBUG1 to its own file."""

    def __init__(self, ctx, kind, extra):
        super().__init__(ctx, kind, ["LogLevel DEBUG1"] + list(extra),
                         args=["-e"])

    def login(self, user, key, command, env=None, extra=()):
        argv = ["ssh", "-F", "/dev/null", "-p", str(self.port), "-i", key,
                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]
        argv += list(extra) + ["%s@127.0.0.1" % user.name, command]
        p = self.ctx.popen(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        self.ctx._note_client(argv, p.returncode, err)
        return out if p.returncode == 0 else None

    def log_tail(self, n=25):
        return harness.tail(harness.read_text(self.log), n)


def _pair(ctx, extra=()):
    harness.openssh_sshd()
    return Server(ctx, "sshd", extra), Server(ctx, "postern", extra)


def _keygen(ctx, name, ktype="ed25519", so=None):
    path = os.path.join(ctx.dir, name)
    argv = ["ssh-keygen", "-q", "-t", ktype, "-N", "", "-C", name,
            "-f", path]
    if so is not None:
        argv[4:4] = ["-w", so]
    harness.run(argv, stdin=subprocess.DEVNULL)
    return path


def _pub(path):
    with open(path + ".pub") as f:
        return f.read().strip()


def _forge(ctx, ca, user_key, name, spec):
    """A copy of user_key (private key NAME) whose NAME-cert.pub is the
    certificate of spec, signed by Ed25519 CA ca."""
    key = os.path.join(ctx.dir, name)
    shutil.copyfile(user_key, key)
    os.chmod(key, 0o600)
    shutil.copyfile(user_key + ".pub", key + ".pub")
    base = os.path.join(ctx.dir, name + "-base")
    shutil.copyfile(user_key + ".pub", base + ".pub")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", name, "-n", "x",
                 base + ".pub"])
    harness.run([SYSTEM_PYTHON, FORGE, base + "-cert.pub", ca,
                 key + "-cert.pub", json.dumps(spec)])
    return key


def _user(ctx):
    u = ctx.make_user(with_key=False)
    d = os.path.join(u.home, ".ssh")
    os.makedirs(d, exist_ok=True)
    os.chown(d, u.uid, u.gid)
    os.chmod(d, 0o700)
    return u


def _write_user_file(u, name, text):
    path = os.path.join(u.home, ".ssh", name)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, u.uid, u.gid)
    os.chmod(path, 0o600)
    return path


def _run_cases(ctx, servers, u, cases, env=None, extra=()):
    """cases: (what, key, command, expected stdout or None for refused).
    Every server must answer each case as expected. A documented
    divergence gives the answers as {"sshd": ..., "postern": ...}."""
    bad = []
    for what, key, command, want in cases:
        for s in servers:
            w = want[s.kind] if isinstance(want, dict) else want
            got = s.login(u, key, command, env=env, extra=extra)
            if got != w:
                bad.append("%s: %s gave %r, want %r"
                           % (what, s.kind, got, w))
    if bad:
        lines = bad[:]
        for s in servers:
            lines.append("--- %s log tail:" % s.kind)
            lines += s.log_tail()
        harness.fail("\n".join(lines))


def _now():
    return int(time.time())


# ---------------------------------------------------------------------------
# option order, repeats, unknown names (TrustedUserCAKeys)


@harness.timeout(300)
def test_cert_parity_options(ctx):
    ca = _keygen(ctx, "ca")
    u = _user(ctx)
    base = _keygen(ctx, "ukey")
    P = [u.name]
    PTY = ["permit-pty", None]
    X11 = ["permit-X11-forwarding", None]
    AGENT = ["permit-agent-forwarding", None]
    FC = ["force-command", "echo forced"]
    SA = ["source-address", "127.0.0.1/32"]

    def c(name, spec, command, want):
        spec = dict(spec)
        spec.setdefault("principals", P)
        return (name, _forge(ctx, ca, base, name, spec), command, want)

    cases = [
        c("in_order", {"critical": [FC, SA], "extensions": [X11, AGENT,
                                                             PTY]},
          "echo ok", b"forced\n"),
        c("crit_out_of_order", {"critical": [SA, FC]}, "echo ok",
          b"forced\n"),
        c("ext_out_of_order", {"extensions": [PTY, AGENT, X11]}, "echo ok",
          b"ok\n"),
        c("ext_repeated", {"extensions": [PTY, PTY]}, "echo ok", b"ok\n"),
        c("crit_repeated_force", {"critical": [FC, FC]}, "echo ok", None),
        c("crit_repeated_source", {"critical": [SA, SA]}, "echo ok", None),
        c("crit_unknown", {"critical": [["frobnicate@example.com", None]]},
          "echo ok", None),
        c("ext_unknown", {"extensions": [["frobnicate@example.com", "x"],
                                          PTY]}, "echo ok", b"ok\n"),
        c("source_bad_cidr", {"critical": [["source-address",
                                            "127.0.0.1/33"]]},
          "echo ok", None),
        c("source_not_addr", {"critical": [["source-address", "localhost"]]},
          "echo ok", None),
        c("source_other", {"critical": [["source-address", "10.0.0.0/8"]]},
          "echo ok", None),
        c("ext_with_data", {"extensions": [["permit-pty", "x"]]}, "echo ok",
          None),
    ]
    servers = _pair(ctx, ["TrustedUserCAKeys %s.pub" % ca])
    _run_cases(ctx, servers, u, cases)
    # The faults are found when the certificate is used, and logged with
    # sshd's lines, then the Failed line that describes the certificate.
    lines = [
        'Certificate has multiple force-command options',
        'Certificate has multiple source-address options',
        'Certificate critical option "frobnicate@example.com" is not '
        'supported',
        'Certificate extension "frobnicate@example.com" is not supported',
        'Certificate source-address contents invalid',
        'Certificate option "permit-pty" corrupt (extra data)',
        'Invalid certificate options']
    lines = [r"^%s$" % re.escape(l) for l in lines]
    lines += [r"^Failed publickey for %s from 127\.0\.0\.1 port \d+ ssh2: "
              r"ED25519-CERT \S+ ID %s \(serial 0\) CA ED25519 \S+$"
              % (u.name, w) for w in ("crit_repeated_force", "crit_unknown",
                                      "source_bad_cidr", "ext_with_data")]
    for s in servers:
        text = harness.read_text(s.log)
        missing = [rx for rx in lines if not re.search(rx, text, re.M)]
        check(not missing, "%s log lacks %s" % (s.kind, missing))


# ---------------------------------------------------------------------------
# principals, type, validity; TrustedUserCAKeys and cert-authority lines


@harness.timeout(300)
def test_cert_parity_principals_validity(ctx):
    ca = _keygen(ctx, "ca")
    u = _user(ctx)
    base = _keygen(ctx, "ukey")
    now = _now()

    def c(name, spec, want=b"ok\n"):
        spec = dict(spec)
        spec.setdefault("principals", [u.name])
        return (name, _forge(ctx, ca, base, name, spec), "echo ok", want)

    cases = [
        c("no_principals", {"principals": []}, None),
        c("empty_principal", {"principals": [""]}, None),
        c("host_type", {"type": 2}, None),
        c("bad_type", {"type": 3}, None),
        c("not_yet_valid", {"valid_after": now + 3600}),
        c("expired", {"valid_after": 0, "valid_before": now - 60}),
        c("forever", {"valid_after": 0, "valid_before": U64_MAX}),
        c("current", {"valid_after": now - 60, "valid_before": now + 3600}),
        c("top_bit", {"valid_after": 0, "valid_before": 1 << 63}),
        c("after_top_bit", {"valid_after": 1 << 63}),
        c("inverted", {"valid_after": now + 3600,
                       "valid_before": now - 3600}),
    ]
    # As sshd 9.2: refused unless valid now.
    cases = [(w, k, cmd, None if w in ("not_yet_valid", "expired",
                                        "after_top_bit", "inverted")
              else want) for w, k, cmd, want in cases]
    servers = _pair(ctx, ["TrustedUserCAKeys %s.pub" % ca])
    _run_cases(ctx, servers, u, cases)
    for s in servers:
        s.stop()
    # The same certificates through a cert-authority line. There sshd 9.2
    # takes an empty principal list as valid for any user (PROTOCOL.certkeys'
    # special case); postern refuses it everywhere (docs/posternd.8.md).
    _write_user_file(u, "authorized_keys", "cert-authority %s\n" % _pub(ca))
    cases = [(w, k, cmd, {"sshd": b"ok\n", "postern": None}
              if w == "no_principals" else want)
             for w, k, cmd, want in cases]
    _run_cases(ctx, _pair(ctx), u, cases)


@harness.timeout(300)
def test_cert_parity_principals_sources(ctx):
    ca = _keygen(ctx, "ca")
    u = _user(ctx)
    base = _keygen(ctx, "ukey")
    none = _forge(ctx, ca, base, "none", {"principals": []})
    other = _forge(ctx, ca, base, "other", {"principals": ["someone"]})
    mine = _forge(ctx, ca, base, "mine", {"principals": ["someone", u.name]})
    star = _forge(ctx, ca, base, "star", {"principals": ["*"]})
    # Principals are names, never patterns, on either side.
    _run_cases(ctx, _pair(ctx, ["TrustedUserCAKeys %s.pub" % ca]), u, [
        ("principal *", star, "echo ok", None)])
    _write_user_file(u, "authorized_keys", 'cert-authority,principals="*" '
                     '%s\n' % _pub(ca))
    _run_cases(ctx, _pair(ctx), u, [
        ("principals=* / mine", mine, "echo ok", None),
        ("principals=* / *", star, "echo ok", b"ok\n")])
    # cert-authority with principals=: the list must name a principal.
    _write_user_file(u, "authorized_keys", 'cert-authority,principals="%s,'
                     'someone" %s\n' % (u.name, _pub(ca)))
    _run_cases(ctx, _pair(ctx), u, [
        ("principals= / none", none, "echo ok", None),
        ("principals= / other", other, "echo ok", b"ok\n"),
        ("principals= / mine", mine, "echo ok", b"ok\n")])
    os.unlink(os.path.join(u.home, ".ssh", "authorized_keys"))
    # AuthorizedPrincipalsFile: an empty list never matches.
    _write_user_file(u, "principals", "someone\n")
    _run_cases(ctx, _pair(ctx, [
        "TrustedUserCAKeys %s.pub" % ca,
        "AuthorizedPrincipalsFile %h/.ssh/principals"]), u, [
        ("principals file / none", none, "echo ok", None),
        ("principals file / other", other, "echo ok", b"ok\n"),
        ("principals file / mine", mine, "echo ok", b"ok\n")])


# ---------------------------------------------------------------------------
# force-command next to an authorized_keys or principals file command=


@harness.timeout(300)
def test_cert_parity_force_command(ctx):
    ca = _keygen(ctx, "ca")
    u = _user(ctx)
    base = _keygen(ctx, "ukey")
    forced = _forge(ctx, ca, base, "forced", {
        "principals": [u.name], "critical": [["force-command",
                                              "echo cert"]]})
    same = _forge(ctx, ca, base, "same", {
        "principals": [u.name], "critical": [["force-command",
                                              "echo key"]]})
    plain = _forge(ctx, ca, base, "plain", {"principals": [u.name]})
    _write_user_file(u, "authorized_keys", 'cert-authority,command="echo '
                     'key" %s\n' % _pub(ca))
    _run_cases(ctx, _pair(ctx), u, [
        ("cert-authority command= / force-command", forced, "echo ok",
         None),
        ("cert-authority command= / same force-command", same, "echo ok",
         b"key\n"),
        ("cert-authority command= / none", plain, "echo ok", b"key\n")])
    os.unlink(os.path.join(u.home, ".ssh", "authorized_keys"))
    _write_user_file(u, "principals", 'command="echo key" %s\n' % u.name)
    _run_cases(ctx, _pair(ctx, [
        "TrustedUserCAKeys %s.pub" % ca,
        "AuthorizedPrincipalsFile %h/.ssh/principals"]), u, [
        ("principals command= / force-command", forced, "echo ok", None),
        ("principals command= / same force-command", same, "echo ok",
         b"key\n"),
        ("principals command= / none", plain, "echo ok", b"key\n")])
# ---------------------------------------------------------------------------
# a FIDO key as the CA (sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256)


def _soft_sk(ctx):
    so = os.path.join(os.path.dirname(os.path.abspath(ctx.server_path)),
                      "tests", "soft_sk.so")
    check(os.path.exists(so), "%s missing (make builds it)" % so)
    return so


def _sk_sign(ctx, so, ca, key, principals, host=False):
    env = dict(os.environ)
    env["SSH_SK_PROVIDER"] = so
    argv = ["ssh-keygen", "-q", "-s", ca, "-I", os.path.basename(key),
            "-n", principals]
    if host:
        argv.append("-h")
    cert = key + "-cert.pub"
    if os.path.exists(cert):
        os.unlink(cert)
    harness.run(argv + [key + ".pub"], env=env, stdin=subprocess.DEVNULL)
    return cert


@harness.timeout(300)
def test_cert_parity_sk_ca_user(ctx):
    so = _soft_sk(ctx)
    u = _user(ctx)
    cas = [_keygen(ctx, "ca_ed_sk", "ed25519-sk", so),
           _keygen(ctx, "ca_ec_sk", "ecdsa-sk", so)]
    keys = []
    for ca in cas:
        k = _keygen(ctx, "u_" + os.path.basename(ca))
        _sk_sign(ctx, so, ca, k, u.name)
        keys.append((os.path.basename(ca), k))
    listed = os.path.join(ctx.dir, "trusted_cas")
    with open(listed, "w") as f:
        f.write("".join(_pub(ca) + "\n" for ca in cas))
    cases = [("TrustedUserCAKeys " + n, k, "echo ok", b"ok\n")
             for n, k in keys]
    _run_cases(ctx, _pair(ctx, ["TrustedUserCAKeys %s" % listed]), u, cases)
    # CASignatureAlgorithms without the sk-* names refuses them.
    _run_cases(ctx, _pair(ctx, ["TrustedUserCAKeys %s" % listed,
                                "CASignatureAlgorithms ssh-ed25519"]), u,
               [(w, k, c, None) for w, k, c, _ in cases])
    # RevokedKeys naming the FIDO CA (a key list), or a key ID under it
    # (a KRL made with ssh-keygen -k -s CA.pub).
    revoked = os.path.join(ctx.dir, "revoked_ca")
    with open(revoked, "w") as f:
        f.write(_pub(cas[0]) + "\n")
    spec = os.path.join(ctx.dir, "krl_spec")
    with open(spec, "w") as f:
        f.write("id: u_ca_ec_sk\n")
    krl = os.path.join(ctx.dir, "sk_ca.krl")
    harness.run(["ssh-keygen", "-q", "-k", "-f", krl, "-s",
                 cas[1] + ".pub", spec])
    for rk in (revoked, krl):
        _run_cases(ctx, _pair(ctx, ["TrustedUserCAKeys %s" % listed,
                                    "RevokedKeys %s" % rk]), u,
                   [(w, k, c, None if (rk == revoked) == (i == 0) else want)
                    for i, (w, k, c, want) in enumerate(cases)])
    _write_user_file(u, "authorized_keys",
                     "".join("cert-authority %s\n" % _pub(ca) for ca in cas))
    servers = _pair(ctx)
    _run_cases(ctx, servers, u, [
        ("cert-authority " + n, k, "echo ok", b"ok\n") for n, k in keys])
    # The Accepted line names the FIDO CA as sshd does.
    for s in servers:
        for ca, short in zip(cas, ("ED25519-SK", "ECDSA-SK")):
            rx = (r"Accepted publickey for %s from 127\.0\.0\.1 port \d+ "
                  r"ssh2: ED25519-CERT \S+ ID u_%s \(serial 0\) CA %s %s$"
                  % (u.name, os.path.basename(ca), short,
                     re.escape(harness.fingerprint(ca + ".pub"))))
            check(re.search(rx, harness.read_text(s.log), re.M),
                  "%s: no line matching %r" % (s.kind, rx))


@harness.timeout(300)
def test_cert_parity_sk_ca_host(ctx):
    so = _soft_sk(ctx)
    u = _user(ctx)
    ukey = _keygen(ctx, "ukey")
    _write_user_file(u, "authorized_keys", _pub(ukey) + "\n")
    for kind in ("ed25519-sk", "ecdsa-sk"):
        ca = _keygen(ctx, "host_ca_" + kind, kind, so)
        cert = _sk_sign(ctx, so, ca, ctx.host_key, "127.0.0.1", host=True)
        servers = _pair(ctx, ["HostCertificate %s" % cert])
        kh = os.path.join(ctx.dir, "known_hosts_" + kind)
        with open(kh, "w") as f:
            for s in servers:
                f.write("@cert-authority [127.0.0.1]:%d %s\n"
                        % (s.port, _pub(ca)))
        extra = ["-o", "StrictHostKeyChecking=yes",
                 "-o", "UserKnownHostsFile=%s" % kh,
                 "-o", "GlobalKnownHostsFile=/dev/null",
                 "-o", "HostKeyAlgorithms=ssh-ed25519-cert-v01@openssh.com"]
        _run_cases(ctx, servers, u, [
            ("host certificate from an %s CA" % kind, ukey, "echo ok",
             b"ok\n")], extra=extra)
        for s in servers:
            s.stop()


# ---------------------------------------------------------------------------
# no-touch-required on a FIDO key's certificate: where the CA must say so too


@harness.timeout(300)
def test_cert_parity_no_touch(ctx):
    so = _soft_sk(ctx)
    u = _user(ctx)
    ca = _keygen(ctx, "ca")
    sk = _keygen(ctx, "usk", "ed25519-sk", so)
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "notouch", "-n", u.name,
                 "-O", "no-touch-required", sk + ".pub"])
    env = dict(os.environ, SOFT_SK_NO_TOUCH="1")
    env.pop("SOFT_SK_UV", None)
    opt = ["-o", "SecurityKeyProvider=%s" % so]
    case = [("no-touch-required certificate, no touch", sk, "echo ok")]

    def run(servers, want):
        _run_cases(ctx, servers, u, [c + (want,) for c in case], env=env,
                   extra=opt)

    run(_pair(ctx, ["TrustedUserCAKeys %s.pub" % ca]), b"ok\n")
    _write_user_file(u, "principals", "%s\n" % u.name)
    run(_pair(ctx, ["TrustedUserCAKeys %s.pub" % ca,
                    "AuthorizedPrincipalsFile %h/.ssh/principals"]), None)
    _write_user_file(u, "principals", "no-touch-required %s\n" % u.name)
    run(_pair(ctx, ["TrustedUserCAKeys %s.pub" % ca,
                    "AuthorizedPrincipalsFile %h/.ssh/principals"]), b"ok\n")
    _write_user_file(u, "authorized_keys", "cert-authority %s\n" % _pub(ca))
    run(_pair(ctx), None)
    _write_user_file(u, "authorized_keys",
                     "cert-authority,no-touch-required %s\n" % _pub(ca))
    run(_pair(ctx), b"ok\n")


# ---------------------------------------------------------------------------
# a long key ID (BLESS-style CAs write several hundred bytes) in the
# VERBOSE "Accepted certificate ID" line: whole, as sshd 9.2 logs it


@harness.timeout(300)
def test_cert_parity_long_key_id(ctx):
    ca = _keygen(ctx, "ca")
    u = _user(ctx)
    key = _keygen(ctx, "ukey")
    kid = ("request[deploy] for[%s] from[192.0.2.7] command[*] "
           "ssh_key[%s] valid_to[2099-01-01T00:00:00] "
           % (u.name, "f" * 64)) + "x" * 300
    check(len(kid) > 400, "key ID too short for the test")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", kid, "-n", u.name,
                 key + ".pub"])
    servers = _pair(ctx, ["TrustedUserCAKeys %s.pub" % ca])
    _run_cases(ctx, servers, u, [("long key ID", key, "echo ok", b"ok\n")])
    _write_user_file(u, "authorized_keys", "cert-authority %s\n" % _pub(ca))
    for s in servers:
        s.stop()
    servers2 = _pair(ctx)
    _run_cases(ctx, servers2, u, [("long key ID, cert-authority", key,
                                   "echo ok", b"ok\n")])
    cafp = re.escape(harness.fingerprint(ca + ".pub"))
    for s, how in zip(servers + servers2,
                      [r"via %s" % re.escape(ca + ".pub")] * 2 +
                      [r"found at \S+authorized_keys:1"] * 2):
        rx = (r'^Accepted certificate ID "%s" \(serial 0\) signed by '
              r'(ED25519 CA|CA ED25519) %s %s$' % (re.escape(kid), cafp, how))
        check(re.search(rx, harness.read_text(s.log), re.M),
              "%s: no whole 'Accepted certificate ID' line:\n%s"
              % (s.kind, "\n".join(l for l in s.log_tail(40)
                                   if "certificate ID" in l)))
