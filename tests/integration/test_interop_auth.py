"""
test_interop_auth.py: authentication methods with clients other than
OpenSSH's: password (UsePAM no, the shadow hash), keyboard-interactive
through PAM (pam_unix), publickey with ECDSA (P-256/384/521) and RSA keys
(rsa-sha2-256/512; ssh-rsa is not in postern's default
PubkeyAcceptedAlgorithms, as in sshd 9.2), publickey + TOTP
(keyboard-interactive:totp), partial success (AuthenticationMethods
publickey,password), and user and host certificates.

How each client answers: plink -pw (PuTTY 0.78 uses it for the password
method and for a keyboard-interactive prompt that does not echo);
dbclient from DROPBEAR_PASSWORD (both methods); paramiko auth_password /
auth_interactive; asyncssh password= / a kbdint_auth callback.
Not possible: plink and dbclient cannot answer a TOTP prompt without a
terminal (plink -batch refuses prompts; dropbear offers the environment
password only), so publickey + TOTP is covered with paramiko
(test_totp.py) and asyncssh here.
"""

import os
import re
import secrets

import interop_clients as ic
from harness import check, run, timeout

PASSWORD = "Pw-" + secrets.token_hex(6)
PAM_UNIX = ["auth required pam_unix.so",
            "account required pam_unix.so",
            "session required pam_unix.so"]
HERE = os.path.dirname(os.path.abspath(__file__))
TOTP_RECIPE = os.path.join(HERE, "..", "..", "packaging", "sshd_config.d",
                           "20-totp.conf")


def _user(ctx, with_key=True):
    u = ctx.make_user(with_key=with_key)
    run(["chpasswd"], input=("%s:%s\n" % (u.name, PASSWORD)).encode())
    return u


def _plink_pw(ctx, u, cmd, key=None):
    argv = ["plink", "-ssh", "-batch", "-noagent", "-P", str(ctx.port)]
    argv += ic.putty_hostkey_args(ctx) + ["-l", u.name, "-pw", PASSWORD]
    if key:
        argv += ["-i", ic.ppk(key)]
    return argv + ["127.0.0.1", cmd]


def _dbclient_pw(ctx, u, cmd, key=None):
    argv = ["dbclient", "-y", "-y", "-p", str(ctx.port)]
    if key:
        argv += ["-i", ic.dropbear_key(key)]
    return argv + ["%s@127.0.0.1" % u.name, cmd]


PARAMIKO_AUTH = ic.PARAMIKO_PRELUDE + r"""
port, user, key, password, how, tok = sys.argv[1:7]
t = transport(port)
steps = []
if "publickey" in how:
    steps.append(t.auth_publickey(user, load_key(key)))
if "password" in how:
    steps.append(t.auth_password(user, password))
if "kbdint" in how:
    steps.append(t.auth_interactive(
        user, lambda title, inst, prompts: [password] * len(prompts)))
out, err, st = exec_(t, "echo hi " + tok)
t.close()
print(json.dumps({"steps": steps, "out": out.decode(), "status": st}))
"""

ASYNCSSH_AUTH = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, password, how, tok = sys.argv[1:8]
prompts_seen = []

class Client(asyncssh.SSHClient):
    def kbdint_auth_requested(self):
        return ""
    def kbdint_challenge_received(self, name, instructions, lang, prompts):
        prompts_seen.extend(p for p, _ in prompts)
        return [password] * len(prompts)

async def main():
    kw = {"client_factory": Client, "preferred_auth": how.split("+"),
          "password": password if "password" in how else None}
    k = key if "publickey" in how else None
    if k is None:
        kw["client_keys"] = None
    async with await connect(port, user, k, hostkeys, **kw) as conn:
        r = await conn.run("echo hi " + tok)
        print(json.dumps({"out": r.stdout, "status": r.exit_status,
                          "prompts": prompts_seen}))

asyncio.run(main())
"""


def _python(ctx, client, u, key, how, password=PASSWORD):
    """paramiko or asyncssh logs in with HOW (methods joined by '+')."""
    tok = secrets.token_hex(4)
    if client == "paramiko":
        res = ic.run_python(ctx, "paramiko_auth.py", PARAMIKO_AUTH,
                            [ctx.port, u.name, key, password, how, tok],
                            "paramiko " + how)
    else:
        res = ic.run_python(ctx, "asyncssh_auth.py", ASYNCSSH_AUTH,
                            [ctx.port, u.name, key, ctx.host_key, password,
                             how, tok], "asyncssh " + how)
    check(res["out"] == "hi %s\n" % tok and res["status"] == 0,
          "%s %s: %r" % (client, how, res))
    return res


def _cli(ctx, argv, env, label):
    tok = secrets.token_hex(4)
    argv = argv[:-1] + [argv[-1] + " " + tok]
    p = ic.run_client(ctx, argv, env, label, input_=b"")
    ic.expect_ok(p, label, ("hi %s\n" % tok).encode())


def _accepted(ctx, off, method, u, label, count=1):
    rx = r"^Accepted %s for %s from 127\.0\.0\.1 port \d+ ssh2" % (
        method, re.escape(u.name))
    n = len(re.findall(rx, ic.log_since(ctx, off), re.M))
    check(n == count, "%s: %d 'Accepted %s' lines, want %d"
          % (label, n, method, count))


@timeout(60)
def test_password_all_clients(ctx):
    u = _user(ctx, with_key=False)
    ctx.start_server(["UsePAM no", "PasswordAuthentication yes",
                      "AuthenticationMethods password"])
    env = ic.client_env(ctx)
    off = ic.log_size(ctx)
    _cli(ctx, _plink_pw(ctx, u, "echo hi"), env, "plink -pw")
    denv = dict(env, DROPBEAR_PASSWORD=PASSWORD)
    _cli(ctx, _dbclient_pw(ctx, u, "echo hi"), denv, "dbclient password")
    _python(ctx, "paramiko", u, "-", "password")
    _python(ctx, "asyncssh", u, "-", "password")
    _accepted(ctx, off, "password", u, "password", 4)


@timeout(60)
def test_pam_keyboard_interactive_all_clients(ctx):
    u = _user(ctx, with_key=False)
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(["UsePAM yes", "PAMServiceName " + svc,
                      "KbdInteractiveAuthentication yes",
                      "PasswordAuthentication no",
                      "AuthenticationMethods keyboard-interactive"])
    env = ic.client_env(ctx)
    off = ic.log_size(ctx)
    _cli(ctx, _plink_pw(ctx, u, "echo hi"), env, "plink kbdint")
    denv = dict(env, DROPBEAR_PASSWORD=PASSWORD)
    _cli(ctx, _dbclient_pw(ctx, u, "echo hi"), denv, "dbclient kbdint")
    _python(ctx, "paramiko", u, "-", "kbdint")
    res = _python(ctx, "asyncssh", u, "-", "keyboard-interactive")
    check(res["prompts"] and "assword" in res["prompts"][0],
          "asyncssh saw prompts %r" % res["prompts"])
    _accepted(ctx, off, "keyboard-interactive/pam", u, "kbdint", 4)


@timeout(90)
def test_publickey_ecdsa_rsa_all_clients(ctx):
    """Each client logs in with ECDSA P-256/384/521 and RSA user keys. For
    RSA the client must sign with rsa-sha2-256 or -512 (from server-sig-algs
    in ext-info): ssh-rsa is not in the default PubkeyAcceptedAlgorithms,
    so a login that works proves it."""
    u = ctx.make_user(with_key=False)
    keys = {}
    for name, argv in (("ecdsa256", ["-t", "ecdsa", "-b", "256"]),
                       ("ecdsa384", ["-t", "ecdsa", "-b", "384"]),
                       ("ecdsa521", ["-t", "ecdsa", "-b", "521"]),
                       ("rsa", ["-t", "rsa", "-b", "2048"])):
        path = os.path.join(ctx.dir, "ukey_" + name)
        run(["ssh-keygen", "-q", "-N", "", "-C", name, "-f", path] + argv)
        ctx.authorize(u, path + ".pub")
        keys[name] = path
    ctx.start_server()
    env = ic.client_env(ctx)
    for name, path in keys.items():
        fp = ic.fingerprint(path + ".pub")
        kind = "RSA" if name == "rsa" else "ECDSA"
        for client in ("plink", "dbclient", "paramiko", "asyncssh"):
            label = "%s %s" % (client, name)
            if client == "plink":
                _cli(ctx, ic.plink_argv(ctx, _as_key(u, path), "echo hi"),
                     env, label)
            elif client == "dbclient":
                _cli(ctx, ic.dbclient_argv(ctx, _as_key(u, path), "echo hi"),
                     env, label)
            else:
                _python(ctx, client, u, path, "publickey")
            check(ctx.wait_log(r"^Accepted publickey for %s from 127\.0\.0\.1"
                               r" port \d+ ssh2: %s %s" % (u.name, kind,
                                                           re.escape(fp)), 5),
                  "%s: no Accepted publickey line for the %s key"
                  % (label, name))


class _KeyUser:
    """A user seen through one of its keys (for plink_argv/dbclient_argv)."""

    def __init__(self, u, key):
        self.name = u.name
        self.key = key


def _as_key(u, key):
    return _KeyUser(u, key)


@timeout(60)
def test_partial_success_publickey_then_password(ctx):
    """AuthenticationMethods publickey,password: the key is partial
    success, the password completes the login, with every client."""
    u = _user(ctx)
    ctx.start_server(["UsePAM no", "PasswordAuthentication yes",
                      "AuthenticationMethods publickey,password"])
    env = ic.client_env(ctx)
    off = ic.log_size(ctx)
    _cli(ctx, _plink_pw(ctx, u, "echo hi", key=u.key), env, "plink")
    denv = dict(env, DROPBEAR_PASSWORD=PASSWORD)
    _cli(ctx, _dbclient_pw(ctx, u, "echo hi", key=u.key), denv, "dbclient")
    res = _python(ctx, "paramiko", u, u.key, "publickey+password")
    check(res["steps"][0] == ["password"],
          "paramiko: publickey left %r, want ['password']" % res["steps"][0])
    _python(ctx, "asyncssh", u, u.key, "publickey+password")
    log = ic.log_since(ctx, off)
    n = len(re.findall(r"^Partial publickey for %s from" % u.name, log, re.M))
    check(n == 4, "%d 'Partial publickey' lines, want 4" % n)
    _accepted(ctx, off, "password", u, "partial success", 4)


ASYNCSSH_TOTP = ic.ASYNCSSH_PRELUDE + r"""
import subprocess
port, user, key, hostkeys, secret = sys.argv[1:6]
seen = []

class Client(asyncssh.SSHClient):
    def kbdint_auth_requested(self):
        return ""
    def kbdint_challenge_received(self, name, instructions, lang, prompts):
        seen.extend(p for p, _ in prompts)
        if not prompts:
            return []
        code = subprocess.run(["oathtool", "--totp", secret],
                              capture_output=True).stdout.decode().strip()
        return [code] * len(prompts)

async def main():
    async with await connect(port, user, key, hostkeys,
                             client_factory=Client) as conn:
        r = await conn.run("echo totp-ok")
        print(json.dumps({"out": r.stdout, "prompts": seen}))

asyncio.run(main())
"""


@timeout(60)
def test_asyncssh_publickey_and_totp(ctx):
    """The shipped two-factor recipe (publickey, then
    keyboard-interactive:totp) with asyncssh answering the code prompt."""
    u = ctx.make_user()
    secret = secrets.token_hex(20)
    users = os.path.join(ctx.dir, "users.oath")
    with open(users, "w") as f:
        f.write("HOTP/T30 %s - %s\n" % (u.name, secret))
    os.chmod(users, 0o600)
    ctx.start_server(["TOTPUsersFile " + users,
                      "Include " + os.path.abspath(TOTP_RECIPE)])
    res = ic.run_python(ctx, "asyncssh_totp.py", ASYNCSSH_TOTP,
                        [ctx.port, u.name, u.key, ctx.host_key, secret],
                        "asyncssh totp")
    check(res["out"] == "totp-ok\n", "asyncssh totp: %r" % res)
    check(ctx.wait_log(r"^Partial publickey for %s " % u.name, 5),
          "the key alone must be only partial success")
    check(ctx.wait_log(r"^Accepted keyboard-interactive for %s from "
                       r"127\.0\.0\.1 port \d+ ssh2" % u.name, 5),
          "no 'Accepted keyboard-interactive' line")


PARAMIKO_CERT = ic.PARAMIKO_PRELUDE + r"""
port, user, key, tok = sys.argv[1:5]
t = transport(port)
k = paramiko.Ed25519Key.from_private_key_file(key)
k.load_certificate(key + "-cert.pub")
t.auth_publickey(user, k)
out, err, st = exec_(t, "echo hi " + tok)
t.close()
print(json.dumps({"out": out.decode(), "status": st}))
"""

ASYNCSSH_CERT = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, known, tok = sys.argv[1:6]

async def main():
    async with asyncssh.connect(
            "127.0.0.1", int(port), username=user, agent_path=None,
            client_keys=[(key, key + "-cert.pub")], known_hosts=known,
            server_host_key_algs=["ssh-ed25519-cert-v01@openssh.com"]) as c:
        r = await c.run("echo hi " + tok)
        print(json.dumps({"out": r.stdout, "status": r.exit_status}))

asyncio.run(main())
"""


@timeout(60)
def test_certificates(ctx):
    """A user certificate (TrustedUserCAKeys) and a host certificate
    (HostCertificate): plink checks the host certificate against a CA in
    its ~/.putty/sshhostcas (no -hostkey given) and logs in with -cert;
    asyncssh checks it against an @cert-authority known_hosts line and
    logs in with (key, certificate); paramiko 2.12 logs in with
    load_certificate (it cannot check host certificates). dropbear
    2022.83 has no certificate support at all."""
    u = ctx.make_user(with_key=False)
    ca = os.path.join(ctx.dir, "ca")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca])
    run(["ssh-keygen", "-q", "-s", ca, "-I", "user-id", "-n", u.name,
         u.key + ".pub"])
    run(["ssh-keygen", "-q", "-s", ca, "-I", "host-id", "-h", "-n",
         "127.0.0.1", ctx.host_key + ".pub"])
    ctx.start_server(["TrustedUserCAKeys %s.pub" % ca,
                      "HostCertificate %s-cert.pub" % ctx.host_key])
    env = ic.client_env(ctx)
    with open(ca + ".pub") as f:
        ca_pub = f.read().strip()
    cas = os.path.join(env["HOME"], ".putty", "sshhostcas")
    os.makedirs(cas, exist_ok=True)
    with open(os.path.join(cas, "testca"), "w") as f:
        f.write("PublicKey=%s\nValidity=127.0.0.1\n" % ca_pub.split()[1])
    off = ic.log_size(ctx)
    tok = secrets.token_hex(4)
    p = ic.run_client(ctx, ["plink", "-ssh", "-batch", "-noagent", "-v",
                            "-P", str(ctx.port), "-i", ic.ppk(u.key),
                            "-cert", u.key + "-cert.pub", "-l", u.name,
                            "127.0.0.1", "echo hi " + tok], env, "plink")
    ic.expect_ok(p, "plink cert", ("hi %s\n" % tok).encode())
    check(b"Accepted certificate" in p.stderr,
          "plink did not check the host certificate:\n%s"
          % p.stderr.decode(errors="replace")[-800:])
    check(ic.negotiated(ic.log_since(ctx, off))["hostkey"] ==
          "ssh-ed25519-cert-v01@openssh.com", "plink: no host certificate")
    known = os.path.join(ctx.dir, "known_hosts_ca")
    with open(known, "w") as f:
        f.write("@cert-authority [127.0.0.1]:%d %s\n" % (ctx.port, ca_pub))
    tok = secrets.token_hex(4)
    res = ic.run_python(ctx, "asyncssh_cert.py", ASYNCSSH_CERT,
                        [ctx.port, u.name, u.key, known, tok], "asyncssh")
    check(res == {"out": "hi %s\n" % tok, "status": 0}, "asyncssh: %r" % res)
    tok = secrets.token_hex(4)
    res = ic.run_python(ctx, "paramiko_cert.py", PARAMIKO_CERT,
                        [ctx.port, u.name, u.key, tok], "paramiko")
    check(res == {"out": "hi %s\n" % tok, "status": 0}, "paramiko: %r" % res)
    n = len(re.findall(r"^Accepted publickey for %s from .* ssh2: "
                       r"ED25519-CERT SHA256:\S+ ID user-id" % u.name,
                       ic.log_since(ctx, off), re.M))
    check(n == 3, "%d 'Accepted publickey ... ED25519-CERT ... ID user-id' "
          "lines, want 3:\n%s" % (n, ic.log_since(ctx, off)[-1500:]))


PARAMIKO_NUL = ic.PARAMIKO_PRELUDE + r"""
port, user, password, path, tok = sys.argv[1:6]
res = {}
t = transport(port)
res["password"] = t.auth_password(user, password + "\0")
out, err, st = exec_(t, "echo hi " + tok + "\0")
res["exec"] = [out.decode(), st]
sftp = t.open_sftp_client()
res["stat"] = sftp.stat(path + "\0").st_size
t.close()
t = transport(port)
res["kbdint"] = t.auth_interactive(
    user, lambda title, inst, prompts: [password + "\0"] * len(prompts))
t.close()
t = transport(port)
try:
    t.auth_password(user, password + "\0\0")
    res["two"] = "accepted"
except (paramiko.SSHException, EOFError) as e:
    res["two"] = "refused: %s" % e
t.close()
t = transport(port)
try:
    t.auth_password(user[:2] + "\0" + user[2:], password)
    res["inner"] = "accepted"
except (paramiko.SSHException, EOFError) as e:
    res["inner"] = "refused: %s" % e
t.close()
print(json.dumps(res))
"""


@timeout(60)
def test_trailing_nul_in_strings(ctx):
    """A string that must not hold NULs may end in one, which is dropped,
    as OpenSSH's sshbuf_get_cstring takes it (sshd 9.2 side by side):
    the password, a keyboard-interactive answer, the command and an sftp
    path each with a NUL at the end work; two NULs, or one inside the user
    name, end the connection."""
    u = _user(ctx, with_key=False)
    svc = ctx.pam_service(PAM_UNIX)
    path = os.path.join(u.home, "nul-" + secrets.token_hex(3))
    with open(path, "wb") as f:
        f.write(b"x" * 37)
    ctx.start_server(["UsePAM yes", "PAMServiceName " + svc,
                      "PasswordAuthentication yes",
                      "KbdInteractiveAuthentication yes",
                      "Subsystem sftp internal-sftp"])
    off = ic.log_size(ctx)
    tok = secrets.token_hex(4)
    res = ic.run_python(ctx, "paramiko_nul.py", PARAMIKO_NUL,
                        [ctx.port, u.name, PASSWORD, path, tok],
                        "paramiko NUL")
    check(res["password"] == [] and res["kbdint"] == [],
          "a final NUL was not dropped from the secret: %r" % res)
    check(res["exec"] == ["hi %s\n" % tok, 0] and res["stat"] == 37,
          "the command or the sftp path kept its final NUL: %r" % res)
    check(res["two"].startswith("refused") and
          res["inner"].startswith("refused"),
          "a password ending in two NULs or a NUL inside a user name: %r"
          % res)
    check(ctx.wait_log(r"^ssh_dispatch_run_fatal: Connection from 127\.0\.0"
                       r"\.1 port \d+: invalid format \[preauth\]$", 5),
          "no sshd-style line for the NUL inside the user name")
    _accepted(ctx, off, "password", u, "password with a NUL", 1)
    _accepted(ctx, off, "keyboard-interactive/pam", u, "answer with a NUL", 1)
