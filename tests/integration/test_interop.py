"""
test_interop.py: clients other than OpenSSH's, from Debian packages, log
in with a public key and run a command whose output is checked: PuTTY's
plink (putty-tools), dropbear's dbclient (dropbear-bin) and paramiko
(python3-paramiko, in /usr/bin/python3 only). Each runs on its own default
algorithm preferences, so each proves that postern negotiates with it.

paramiko 2.12 offers only aes*-ctr ciphers and hmac-sha2 MACs, so its test
passes once postern offers those (issue 7, Algorithms).
"""

import os
import secrets
import subprocess

from harness import check, run

SYSTEM_PYTHON = "/usr/bin/python3"


def _host_fingerprint(ctx):
    """SHA256:... of the server's ed25519 host key."""
    r = run(["ssh-keygen", "-l", "-E", "sha256", "-f",
             os.path.join(ctx.dir, "host_ed25519.pub")])
    fp = r.stdout.decode().split()[1]
    check(fp.startswith("SHA256:"), "unexpected fingerprint %r" % fp)
    return fp


def _client_env(ctx):
    """A HOME of the test's own: no client writes to root's known hosts."""
    home = os.path.join(ctx.dir, "client_home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ)
    env["HOME"] = home
    return env


def _run_client(ctx, argv, env, label, input_=None):
    try:
        p = subprocess.run(argv, input=input_, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=30)
    except subprocess.TimeoutExpired:
        check(False, "%s timed out: %s" % (label, " ".join(argv)))
    ctx._note_client(argv, p.returncode, p.stderr)
    return p


def _expect_output(ctx, p, label, token):
    check(p.returncode == 0, "%s exited %s; stderr:\n%s"
          % (label, p.returncode, p.stderr.decode("utf-8", "replace")[-1500:]))
    want = ("hello %s\n" % token).encode()
    check(p.stdout == want, "%s printed %r, want %r"
          % (label, p.stdout[:300], want))
    check(ctx.wait_log(r"Accepted publickey for \S+ from 127\.0\.0\.1 "
                       r"port \d+ ssh2", 5),
          "server log lacks the Accepted publickey line for %s" % label)


def test_plink_login_and_command(ctx):
    ctx.start_server()
    u = ctx.make_user()
    ppk = u.key + ".ppk"
    run(["puttygen", u.key, "-O", "private", "-o", ppk])
    token = secrets.token_hex(4)
    argv = ["plink", "-ssh", "-batch", "-noagent", "-P", str(ctx.port),
            "-hostkey", _host_fingerprint(ctx), "-i", ppk,
            "-l", u.name, "127.0.0.1", "echo hello %s" % token]
    p = _run_client(ctx, argv, _client_env(ctx), "plink")
    _expect_output(ctx, p, "plink", token)


def test_dbclient_login_and_command(ctx):
    ctx.start_server()
    u = ctx.make_user()
    dbkey = u.key + ".dropbear"
    run(["dropbearconvert", "openssh", "dropbear", u.key, dbkey])
    token = secrets.token_hex(4)
    # -y: accept the unknown host key (in the test's own HOME).
    argv = ["dbclient", "-y", "-p", str(ctx.port), "-i", dbkey,
            "%s@127.0.0.1" % u.name, "echo hello %s" % token]
    p = _run_client(ctx, argv, _client_env(ctx), "dbclient")
    _expect_output(ctx, p, "dbclient", token)


PARAMIKO_SCRIPT = r"""
import sys
import paramiko

port, user, keyfile, hostpub, command = sys.argv[1:6]
client = paramiko.SSHClient()
# The host key must be the one we configured, not just any key.
with open(hostpub) as f:
    kt, b64 = f.read().split()[:2]
client.get_host_keys().add("[127.0.0.1]:%s" % port, kt,
                           paramiko.Ed25519Key(data=__import__("base64")
                                               .b64decode(b64)))
client.set_missing_host_key_policy(paramiko.RejectPolicy())
client.connect("127.0.0.1", port=int(port), username=user,
               key_filename=keyfile, allow_agent=False, look_for_keys=False,
               timeout=20)
t = client.get_transport()
sys.stderr.write("cipher %s mac %s\n" % (t.local_cipher, t.local_mac))
_, out, err = client.exec_command(command)
data = out.read()
status = out.channel.recv_exit_status()
client.close()
sys.stdout.buffer.write(data)
sys.exit(status)
"""


def test_paramiko_login_and_command(ctx):
    check(os.path.exists(SYSTEM_PYTHON), "%s missing" % SYSTEM_PYTHON)
    ctx.start_server()
    u = ctx.make_user()
    token = secrets.token_hex(4)
    script = os.path.join(ctx.dir, "paramiko_client.py")
    with open(script, "w") as f:
        f.write(PARAMIKO_SCRIPT)
    argv = [SYSTEM_PYTHON, script, str(ctx.port), u.name, u.key,
            os.path.join(ctx.dir, "host_ed25519.pub"),
            "echo hello %s" % token]
    env = _client_env(ctx)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = _run_client(ctx, argv, env, "paramiko")
    _expect_output(ctx, p, "paramiko", token)
