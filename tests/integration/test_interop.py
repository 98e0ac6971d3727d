"""
test_interop.py: clients other than OpenSSH's, from Debian packages, log
in with a public key and run a command whose output is checked: PuTTY's
plink (putty-tools), dropbear's dbclient (dropbear-bin) and paramiko
(python3-paramiko, in /usr/bin/python3 only). Each runs on its own default
algorithm preferences, so each proves that postern negotiates with it.
The same clients and asyncssh go further in test_interop_*.py: every
algorithm one at a time (_matrix), a hardening guide (_guide), SFTP
(_sftp), forwarding, ptys and exit status (_session), rekeying (_rekey)
and authentication methods (_auth).

paramiko 2.12 offers only aes*-ctr ciphers and hmac-sha2 MACs, so its test
passes once postern offers those (issue 7, Algorithms).

paramiko's exec_command, out.read() and recv_exit_status() need, in that
order, CHANNEL_SUCCESS, CHANNEL_EOF (or CLOSE) and exit-status (or CLOSE);
none of them has a timeout. The paramiko tests run the server at DEBUG3
and paramiko with its own log, so a hang shows which side stopped: the
server's "send eof"/"exit-status"/"send close" lines, paramiko's
"EOF received" and what it last read.
"""

import os
import secrets
import subprocess

from harness import check, run, tail

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


def _client_log_tail(client_log):
    """The last lines of a client's own log, for a failure message."""
    if client_log is None or not os.path.exists(client_log):
        return ""
    with open(client_log, errors="replace") as f:
        return "\n%s log tail:\n%s" % (
            os.path.basename(client_log), "\n".join(tail(f.read(), 25)))


def _run_client(ctx, argv, env, label, input_=None, client_log=None):
    try:
        p = subprocess.run(argv, input=input_, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=30)
    except subprocess.TimeoutExpired:
        check(False, "%s timed out: %s%s" % (label, " ".join(argv),
                                             _client_log_tail(client_log)))
    ctx._note_client(argv, p.returncode, p.stderr)
    if p.returncode != 0:
        p.stderr += _client_log_tail(client_log).encode()
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


# The connection both paramiko scripts make: argv port, user, key, host
# public key, command, paramiko's log file; the host key must be ours.
PARAMIKO_CONNECT = r"""
import os
import sys
import time
import paramiko

port, user, keyfile, hostpub, command, plog = sys.argv[1:7]
paramiko.util.log_to_file(plog, level=10)
client = paramiko.SSHClient()
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
"""

PARAMIKO_SCRIPT = PARAMIKO_CONNECT + r"""
_, out, err = client.exec_command(command)
data = out.read()
status = out.channel.recv_exit_status()
client.close()
sys.stdout.buffer.write(data)
sys.exit(status)
"""

# The reader is slow: it reads nothing until the command has written all
# its output and is exiting (argv[7] appears), so the child is reaped while
# its output still waits in its pipes, past paramiko's window.
PARAMIKO_IN_FLIGHT_SCRIPT = PARAMIKO_CONNECT + r"""
marker = sys.argv[7]
_, out, err = client.exec_command(command)
while not os.path.exists(marker):
    time.sleep(0.05)
data = out.read()
errdata = err.read()
status = out.channel.recv_exit_status()
client.close()
sys.stdout.write("%d %d %d %d %d\n" % (len(data), data.count(b"o"),
                                       len(errdata), errdata.count(b"e"),
                                       status))
"""


def _paramiko(ctx, script_text, u, command, extra_args=()):
    """Run a paramiko script against a server at DEBUG3; the result."""
    check(os.path.exists(SYSTEM_PYTHON), "%s missing" % SYSTEM_PYTHON)
    # DEBUG3: EOF, exit-status and CLOSE per channel in the server log.
    text = ctx.write_config()
    with open(ctx.config_path, "w") as f:
        f.write(text.replace("LogLevel DEBUG1", "LogLevel DEBUG3"))
    ctx.launch_server()
    script = os.path.join(ctx.dir, "paramiko_client.py")
    with open(script, "w") as f:
        f.write(script_text)
    plog = os.path.join(ctx.dir, "paramiko.log")
    argv = [SYSTEM_PYTHON, script, str(ctx.port), u.name, u.key,
            os.path.join(ctx.dir, "host_ed25519.pub"), command, plog]
    argv += list(extra_args)
    env = _client_env(ctx)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return _run_client(ctx, argv, env, "paramiko", client_log=plog)


def test_paramiko_login_and_command(ctx):
    u = ctx.make_user()
    token = secrets.token_hex(4)
    p = _paramiko(ctx, PARAMIKO_SCRIPT, u, "echo hello %s" % token)
    _expect_output(ctx, p, "paramiko", token)


def test_paramiko_output_in_flight_at_exit(ctx):
    """The command writes more than paramiko's 2 MiB window on stdout and
    some stderr, then exits while the rest waits in its pipes; the reader
    starts only then. Every byte, EOF and the exit status still arrive:
    the EOF waits for both pipes to drain, not for the child alone. (What
    is past the window fits in a pipe of the default 64 KiB, so the child
    never blocks.)"""
    u = ctx.make_user()
    marker = os.path.join(u.home, "exited")
    nout, nerr = 2 * 1024 * 1024 + 48 * 1024, 32 * 1024
    command = ("head -c %d /dev/zero | tr '\\0' o; "
               "head -c %d /dev/zero | tr '\\0' e >&2; "
               "touch %s; exit 3" % (nout, nerr, marker))
    p = _paramiko(ctx, PARAMIKO_IN_FLIGHT_SCRIPT, u, command, [marker])
    check(p.returncode == 0, "paramiko exited %s; stderr:\n%s"
          % (p.returncode, p.stderr.decode("utf-8", "replace")[-1500:]))
    want = "%d %d %d %d 3" % (nout, nout, nerr, nerr)
    check(p.stdout.decode().strip() == want,
          "paramiko got (stdout bytes, o's, stderr bytes, e's, status) %r, "
          "want %r" % (p.stdout.decode().strip(), want))
