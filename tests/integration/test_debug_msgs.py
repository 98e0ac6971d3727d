"""
test_debug_msgs.py: the SSH_MSG_DEBUG lines a publickey login brings,
which `ssh -v` prints as "debug1: Remote: ...", next to OpenSSH's sshd
9.2 (/usr/sbin/sshd) for a matrix of authorized_keys lines, certificates
and settings. Both servers run with the same host key and configuration;
for each case the client must see the same lines, in the same order, from
both, and sshd's must hold what the case is about (so a case that did not
exercise sshd fails too).
"""

import os
import secrets
import subprocess
import time

import harness
from harness import check
from test_keys_command import _cmd_dir, _script
from test_log_parity import Peer


def _remote(err):
    text = err.decode("utf-8", "replace").replace("\r\n", "\n")
    return [l for l in text.splitlines() if l.startswith("debug1: Remote: ")]


def _login(srv, user, keys, command="true", password=None):
    argv = ["ssh", "-v", "-F", "/dev/null", "-p", str(srv.port)]
    for k in keys:
        argv += ["-i", k]
    argv += ["-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10"]
    env = None
    if password is None:
        argv += ["-o", "BatchMode=yes"]
    else:
        askpass = os.path.join(srv.ctx.dir, "askpass")
        with open(askpass, "w") as f:
            f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % password)
        os.chmod(askpass, 0o755)
        env = dict(os.environ, SSH_ASKPASS=askpass,
                   SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
        argv += ["-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1",
                 "-o", "PreferredAuthentications=publickey,password"]
    argv += ["%s@127.0.0.1" % user.name, command]
    p = srv.ctx.popen(argv, stdin=subprocess.DEVNULL, env=env,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    srv.ctx._note_client(argv, p.returncode, err)
    return p.returncode, _remote(err)


def _write(u, name, text):
    d = os.path.join(u.home, ".ssh")
    os.makedirs(d, exist_ok=True)
    os.chown(d, u.uid, u.gid)
    os.chmod(d, 0o700)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, u.uid, u.gid)
    os.chmod(path, 0o600)


def _pub(path):
    with open(path + ".pub") as f:
        return f.read().strip()


class Keys:
    """The user's keys, a CA and certificates it signed."""

    def __init__(self, ctx, u):
        self.ctx = ctx
        self.u = u
        self.k1 = u.key
        self.k2 = ctx.new_key("k2")
        self.ca = ctx.new_key("ca")
        self.capub = _pub(self.ca)
        self.cafile = os.path.join(ctx.dir, "trusted_ca.pub")
        with open(self.cafile, "w") as f:
            f.write(self.capub + "\n")

    def cert(self, opts, principals=None, validity=None):
        """A fresh key with a certificate; returns its private key path
        (ssh offers PATH-cert.pub with it)."""
        key = self.ctx.new_key("cert")
        argv = ["ssh-keygen", "-q", "-s", self.ca, "-I", "id-" +
                secrets.token_hex(3), "-n", principals or self.u.name]
        for o in opts:
            argv += ["-O", o]
        if validity:
            argv += ["-V", validity]
        harness.run(argv + [key + ".pub"])
        check(os.path.exists(key + "-cert.pub"), "no certificate made")
        return key


def _future():
    return time.strftime("%Y%m%d", time.gmtime(time.time() + 400 * 86400))


def _matrix(ctx, extra, cases, files=None, password=None):
    """cases: (name, authorized_keys text, keys offered, a string sshd's
    lines must contain or None for none). Every case against both
    servers; all differences are reported together."""
    harness.openssh_sshd()
    servers = [Peer(ctx, kind, ["LogLevel DEBUG1"] + list(extra),
                    args=["-e"]) for kind in ("sshd", "postern")]
    u = files[0]
    bad = []
    for name, ak, keys, want in cases:
        _write(u, "authorized_keys", ak + "\n")
        for fname, text in (files[1] or {}).items():
            _write(u, fname, text)
        got = {}
        for s in servers:
            got[s.kind] = _login(s, u, keys, password=password)
        rc_s, lines_s = got["sshd"]
        rc_p, lines_p = got["postern"]
        if want is None and lines_s:
            bad.append("%s: sshd sent %r, the case expects none"
                       % (name, lines_s))
        elif want is not None and not any(want in l for l in lines_s):
            bad.append("%s: sshd's lines %r lack %r (case not exercised)"
                       % (name, lines_s, want))
        if rc_s != rc_p or lines_s != lines_p:
            bad.append("%s:\n  sshd (exit %s):\n    %s\n  postern (exit %s):"
                       "\n    %s" % (name, rc_s, "\n    ".join(lines_s),
                                     rc_p, "\n    ".join(lines_p)))
    if bad:
        harness.fail("\n".join(bad))


def test_debug_msgs_key_options(ctx):
    u = ctx.make_user(with_key=False)
    k = Keys(ctx, u)
    p1, p2 = _pub(k.k1), _pub(k.k2)
    fut = _future()
    _matrix(ctx, [], [
        ("no options", p1, [k.k1], "key options: agent-forwarding port"),
        ("restrict", "restrict " + p1, [k.k1], "key options:"),
        ("restrict,pty", "restrict,pty " + p1, [k.k1], "key options: pty"),
        ("command", 'command="echo hi" ' + p1, [k.k1], " command "),
        ("from matching", 'from="127.0.0.1,::1" ' + p1, [k.k1],
         "key options:"),
        ("from not matching", 'from="10.0.0.1" ' + p1, [k.k1], None),
        ("from not matching, next line", 'from="10.0.0.1" ' + p1 +
         "\nrestrict " + p1, [k.k1], "is not permitted to use this key"),
        ("first key refused, second key", 'from="10.0.0.1" ' + p1 +
         "\nrestrict " + p2, [k.k1, k.k2], "Refused by key options"),
        ("permitopen, permitlisten",
         'permitopen="localhost:22",permitlisten="localhost:8080" ' + p1,
         [k.k1], " permitopen permitlisten "),
        ("environment, PermitUserEnvironment no", 'environment="A=b" ' + p1,
         [k.k1], "key options:"),
        ("expiry-time future", 'expiry-time="%s" ' % fut + p1, [k.k1],
         "expires"),
        ("expiry-time past", 'expiry-time="20200101" ' + p1, [k.k1], None),
        ("expiry-time past, next line", 'expiry-time="20200101" ' + p1 +
         "\npty " + p1, [k.k1], "entry expired at"),
        ("principals on a key", 'principals="x" ' + p1 + "\n" + p1, [k.k1],
         "principals on non-CA key"),
        ("bad key options, next line", "bogus-opt " + p1 + "\n" + p1,
         [k.k1], "bad key options: unknown key option"),
        ("bad key options of another key", 'expiry-time="bogus" ' + p2 +
         "\n" + p1, [k.k1], "bad key options"),
        ("invalid key option string, next line", 'command="/bin/echo x ' +
         p1 + "\n" + p1, [k.k1], "invalid key option string"),
        ("no-*", "no-agent-forwarding,no-port-forwarding,no-pty,no-user-rc,"
         "no-X11-forwarding " + p1, [k.k1], "key options:"),
        ("tunnel", 'tunnel="1" ' + p1, [k.k1], " tun=1 "),
        ("FIDO flags", "no-touch-required,verify-required " + p1, [k.k1],
         " no-touch-required "),
        ("restrict and more", 'restrict,command="x y",from="127.0.0.1",'
         'environment="A=b",permitopen="h:1",permitlisten="2",tunnel="3",'
         'expiry-time="%s",agent-forwarding ' % fut + p1, [k.k1],
         "commandexpires"),
    ], files=(u, None))


def test_debug_msgs_settings(ctx):
    u = ctx.make_user(with_key=False)
    p1 = _pub(u.key)
    po = 'permitopen="a:1",permitlisten="2" ' + p1
    env = 'environment="FOO=bar",environment="B=c" ' + p1
    for extra, case in (
            (["PermitUserEnvironment yes"],
             ("PermitUserEnvironment yes", env, [u.key],
              "environment: FOO=bar")),
            (["PermitUserEnvironment FOO*"],
             ("PermitUserEnvironment FOO*", env, [u.key],
              "environment: B=c")),
            (["AllowTcpForwarding no"],
             ("AllowTcpForwarding no", po, [u.key], "key options:")),
            (["AllowTcpForwarding local"],
             ("AllowTcpForwarding local", po, [u.key], " permitopen ")),
            (["AllowTcpForwarding remote"],
             ("AllowTcpForwarding remote", po, [u.key], " permitlisten ")),
            (["DisableForwarding yes", "PermitTTY no"],
             ("DisableForwarding, PermitTTY no", po, [u.key],
              " permitopen permitlisten "))):
        _matrix(ctx, extra, [case], files=(u, None))


def test_debug_msgs_chain(ctx):
    """Both steps' lines, sent after the last one."""
    u = ctx.make_user(with_key=False)
    k2 = ctx.new_key("k2")
    _matrix(ctx, ["AuthenticationMethods publickey,publickey"], [
        ("publickey,publickey", "restrict " + _pub(u.key) + "\npty " +
         _pub(k2), [u.key, k2], "authorized_keys:2: key options:"),
    ], files=(u, None))


def test_debug_msgs_password(ctx):
    """A key refused by its options, then a password: the refusal's
    lines come after the password login too."""
    u = ctx.make_user(with_key=False)
    pw = "pw-" + secrets.token_hex(6)
    harness.run(["chpasswd"], input=("%s:%s\n" % (u.name, pw)).encode())
    _matrix(ctx, ["PasswordAuthentication yes", "UsePAM no"], [
        ("refused key, then password", 'from="10.0.0.1" ' + _pub(u.key),
         [u.key], "Refused by key options"),
    ], files=(u, None), password=pw)


def test_debug_msgs_certs(ctx):
    u = ctx.make_user(with_key=False)
    k = Keys(ctx, u)
    fc = k.cert(["force-command=echo forced", "source-address=127.0.0.0/8",
                 "no-x11-forwarding", "no-pty"], "x," + u.name)
    clear = k.cert(["clear"])
    plain = k.cert([])
    badsrc = k.cert(["source-address=10.0.0.0/8"])
    old = k.cert([], validity="20200101:20200102")
    ca = k.capub
    # "next line": the certificate is refused, then the client offers
    # its plain key, which that line lets in.
    _matrix(ctx, [], [
        ("cert-authority", "cert-authority " + ca, [plain], "key options:"),
        ("cert-authority, principals=", 'cert-authority,principals="x" ' +
         ca, [fc], " principals "),
        ("cert-authority, restrict", 'cert-authority,restrict,principals='
         '"x" ' + ca, [fc], " command "),
        ("cert-authority, clear certificate", "cert-authority " + ca,
         [clear], "key options:"),
        ("cert-authority, wrong principal", 'cert-authority,principals="zz" '
         + ca, [fc], None),
        # (The client offers the plain key before its certificate: the
        # next line lets the certificate in, so that it is the one tried.)
        ("cert-authority, forced commands differ, next line",
         'cert-authority,principals="x",command="echo other" ' + ca +
         '\ncert-authority,principals="x" ' + ca, [fc],
         "forced command options do not match"),
        ("cert-authority, line expired, next line",
         'cert-authority,expiry-time="20200101" ' + ca + "\ncert-authority "
         + ca, [plain], "entry expired at"),
        ("cert-authority, wrong principal, next line",
         'cert-authority,principals="zz" ' + ca + "\ncert-authority " + ca,
         [plain], "Certificate does not contain an authorized principal"),
        ("cert-authority, expired certificate, next line",
         "cert-authority " + ca + "\nrestrict " + _pub(old), [old],
         "key options:"),
        ("cert-authority, from= not matching, next line",
         'cert-authority,from="10.0.0.1" ' + ca + "\nrestrict " +
         _pub(plain), [plain], "key options:"),
    ], files=(u, None))
    _matrix(ctx, ["TrustedUserCAKeys " + k.cafile], [
        ("TrustedUserCAKeys", "", [fc], "cert: key options:"),
        ("TrustedUserCAKeys, clear", "", [clear], "cert: key options:"),
        ("TrustedUserCAKeys, expired, next line", "restrict " + _pub(old),
         [old], "authorized_keys:1: key options:"),
        ("TrustedUserCAKeys, source-address, next line", "restrict " +
         _pub(badsrc), [badsrc], "authorized_keys:1: key options:"),
    ], files=(u, None))
    _matrix(ctx, ["TrustedUserCAKeys " + k.cafile,
                  "AuthorizedPrincipalsFile %h/.ssh/principals"], [
        ("AuthorizedPrincipalsFile", "", [plain], "cert: key options:"),
    ], files=(u, {"principals": 'command="echo p",from="127.0.0.1",no-pty '
                  + u.name + "\n"}))
    for what, opts in (("from= not matching", 'from="10.0.0.1"'),
                       ("expired", 'expiry-time="20200101"')):
        _matrix(ctx, ["TrustedUserCAKeys " + k.cafile,
                      "AuthorizedPrincipalsFile %h/.ssh/principals"], [
            ("AuthorizedPrincipalsFile, %s, next line" % what,
             "restrict " + _pub(plain), [plain],
             "authorized_keys:1: key options:"),
        ], files=(u, {"principals": opts + " " + u.name + "\n"}))


def test_debug_msgs_keys_command(ctx):
    u = ctx.make_user(with_key=False)
    p1 = _pub(u.key)
    cmd = _script(_cmd_dir(ctx), "keys",
                  "echo 'from=\"10.0.0.1\" %s'\n"
                  "echo 'no-pty,command=\"echo c\" %s'\n" % (p1, p1))
    _matrix(ctx, ["AuthorizedKeysCommand " + cmd,
                  "AuthorizedKeysCommandUser root"], [
        ("AuthorizedKeysCommand", "", [u.key], cmd + ":2: key options:"),
    ], files=(u, None))
