"""
interop_clients.py: shared helpers for the test_interop_*.py files, which
drive SSH clients other than OpenSSH's against postern: PuTTY's plink,
psftp and pscp (putty-tools), dropbear's dbclient (dropbear-bin), paramiko
(python3-paramiko) and asyncssh (python3-asyncssh), the last two only in
/usr/bin/python3.

Each client gets a HOME of the test's own; host keys are pre-accepted
(plink -hostkey, paramiko/asyncssh compare the key themselves) or, for
dbclient, not checked (-y -y) with the server log saying which key served.
"""

import json
import os
import re
import subprocess

from harness import check, run, tail

SYSTEM_PYTHON = "/usr/bin/python3"

# What each client implements that postern may too (client versions in
# Debian 12: PuTTY 0.78, dropbear 2022.83, paramiko 2.12, asyncssh 2.10);
# the tests take the intersection with `posternd -Q`.
HOSTKEY_ALGS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256",
                "ssh-rsa"]


def postern_algs(ctx, what):
    """`posternd -Q WHAT` as a list."""
    r = run([ctx.server_path, "-Q", what])
    return r.stdout.decode().split()


def client_env(ctx):
    """A HOME of the test's own, no agent, no Python path of the pyenv."""
    home = os.path.join(ctx.dir, "client_home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ)
    env["HOME"] = home
    for k in ("SSH_AUTH_SOCK", "PYTHONPATH", "PYTHONHOME", "DISPLAY"):
        env.pop(k, None)
    return env


def host_keys(ctx):
    """Host keys of every type (ed25519 is the harness's): {type: path}."""
    keys = {"ed25519": ctx.host_key}
    for name, argv in (("ecdsa256", ["-t", "ecdsa", "-b", "256"]),
                       ("ecdsa384", ["-t", "ecdsa", "-b", "384"]),
                       ("ecdsa521", ["-t", "ecdsa", "-b", "521"]),
                       ("rsa", ["-t", "rsa", "-b", "2048"])):
        path = os.path.join(ctx.dir, "host_" + name)
        if not os.path.exists(path):
            run(["ssh-keygen", "-q", "-N", "", "-C", "hostkey", "-f", path]
                + argv)
        keys[name] = path
    return keys


def config_lines(settings):
    """sshd_config lines from {keyword: value}; one line per keyword (the
    first value of most keywords wins, so no duplicates)."""
    return ["%s %s" % (k, v) for k, v in settings.items()]


def all_algs_settings(ctx):
    """Server settings that allow every algorithm postern implements,
    including those it leaves out by default (ssh-rsa, hmac-sha1,
    group14, ecdh, group exchange), with host keys of every type."""
    keys = host_keys(ctx)
    return {
        "KexAlgorithms": ",".join(postern_algs(ctx, "kex")),
        "Ciphers": ",".join(postern_algs(ctx, "cipher")),
        "MACs": ",".join(postern_algs(ctx, "mac")),
        "HostKeyAlgorithms": ",".join(HOSTKEY_ALGS),
        "Compression": "yes",
        "HostKey": "\nHostKey ".join(keys[k] for k in
                                     ("ecdsa256", "ecdsa384", "ecdsa521",
                                      "rsa")),
    }


def restart_server(ctx, lines):
    """(Re)start the server with BASE_CONFIG + lines on the same port."""
    ctx.stop_server()
    ctx.write_config(lines)
    ctx.launch_server()


def log_size(ctx):
    return len(ctx.server_log())


def log_since(ctx, off):
    return ctx.server_log()[off:]


KEX_LINES = {
    "kex": re.compile(r"kex: algorithm: (\S+)"),
    "hostkey": re.compile(r"kex: host key algorithm: (\S+)"),
    "cs": re.compile(r"kex: client->server cipher: (\S+) MAC: (\S+) "
                     r"compression: (\S+)"),
    "sc": re.compile(r"kex: server->client cipher: (\S+) MAC: (\S+) "
                     r"compression: (\S+)"),
}


def negotiated(text):
    """What the first key exchange in this piece of server log chose:
    {kex, hostkey, cipher, mac, compression} (both directions must
    agree; a client offering asymmetric lists is not tested here)."""
    got = {}
    for k, rx in KEX_LINES.items():
        m = rx.search(text)
        check(m, "server log lacks the 'kex: ...' line for %s:\n%s"
              % (k, "\n".join(tail(text, 30))))
        got[k] = m.groups()
    check(got["cs"] == got["sc"],
          "directions differ: %r %r" % (got["cs"], got["sc"]))
    return {"kex": got["kex"][0], "hostkey": got["hostkey"][0],
            "cipher": got["cs"][0], "mac": got["cs"][1],
            "compression": got["cs"][2]}


def all_negotiated(text):
    """The choice of every connection's first key exchange (made by the
    preauth process) in this piece of log, in order; a later exchange (a
    session's rekey: at once after a plain zlib login) is not one."""
    out = []
    for m in re.finditer(r"kex: algorithm: (\S+) \[preauth\]\n(?:.*\n)*?"
                         r".*kex: host key algorithm: (\S+) \[preauth\]\n"
                         r".*kex: client->server cipher: (\S+) MAC: (\S+) "
                         r"compression: (\S+) \[preauth\]", text):
        out.append({"kex": m.group(1), "hostkey": m.group(2),
                    "cipher": m.group(3), "mac": m.group(4),
                    "compression": m.group(5)})
    return out


def check_row(ctx, label, off, want):
    """The server's log since off shows a key exchange choosing want
    ({category: name}); the row's client exchange was the first."""
    got = negotiated(log_since(ctx, off))
    for k, v in want.items():
        check(got[k] == v, "%s: the server negotiated %s %s, want %s"
              % (label, k, got[k], v))
    return got


def run_client(ctx, argv, env, label, input_=None, timeout_s=60,
               client_log=None, stdout_path=None):
    """Run a client; a timeout is a failure naming the client. With
    stdout_path its output goes to that file (read back into stdout):
    dbclient 2022.83 can hang at the end of a large download into a pipe
    (see _cli_transfers in test_interop_rekey.py)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    try:
        p = subprocess.run(argv, input=input_, stdout=out,
                           stderr=subprocess.PIPE, env=env,
                           timeout=timeout_s, cwd=ctx.dir)
    except subprocess.TimeoutExpired:
        extra = ""
        if client_log and os.path.exists(client_log):
            with open(client_log, errors="replace") as f:
                extra = "\n" + "\n".join(tail(f.read(), 30))
        check(False, "%s timed out: %s\nserver log:\n%s%s"
              % (label, " ".join(argv)[:300],
                 "\n".join(tail(ctx.server_log(), 30)), extra))
    finally:
        if stdout_path:
            out.close()
    if stdout_path:
        with open(stdout_path, "rb") as f:
            p.stdout = f.read()
    ctx._note_client(argv, p.returncode, p.stderr)
    return p


def expect_ok(p, label, stdout=None):
    check(p.returncode == 0, "%s exited %s; stderr:\n%s"
          % (label, p.returncode,
             p.stderr.decode("utf-8", "replace")[-1500:]))
    if stdout is not None:
        check(p.stdout == stdout, "%s printed %r, want %r"
              % (label, p.stdout[:300], stdout))


# -- PuTTY -----------------------------------------------------------------

def fingerprint(pub):
    r = run(["ssh-keygen", "-l", "-E", "sha256", "-f", pub])
    return r.stdout.decode().split()[1]


def ppk(key):
    """The PuTTY form of an OpenSSH private key (unencrypted)."""
    out = key + ".ppk"
    if not os.path.exists(out):
        run(["puttygen", key, "-O", "private", "-o", out])
    return out


def putty_session(ctx, name, settings):
    """A saved session $HOME/.putty/sessions/NAME (for -load NAME)."""
    d = os.path.join(client_env(ctx)["HOME"], ".putty", "sessions")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        for k, v in settings.items():
            f.write("%s=%s\n" % (k, v))


# Everything PuTTY 0.78 implements above the warning line, so that a server
# restricted to one algorithm gets it without a batch-mode refusal.
PUTTY_ALL = {
    "KEX": "ntru-curve25519,ecdh,dh-gex-sha1,dh-group18-sha512,dh-group17-sha512,"
           "dh-group16-sha512,dh-group15-sha512,dh-group14-sha1,rsa,WARN,"
           "dh-group1-sha1",
    "Cipher": "chacha20,aesgcm,aes,WARN,3des,blowfish,des,arcfour",
    "HostKey": "ed25519,ecdsa,rsa,WARN,dsa",
}


def putty_hostkey_args(ctx):
    """-hostkey FP for every host key the server may present."""
    args = []
    for path in host_keys(ctx).values():
        args += ["-hostkey", fingerprint(path + ".pub")]
    return args


def plink_argv(ctx, u, command, session=None, extra=()):
    argv = ["plink", "-ssh", "-batch", "-noagent"]
    if session:
        argv += ["-load", session]
    argv += ["-P", str(ctx.port)] + putty_hostkey_args(ctx)
    argv += ["-i", ppk(u.key), "-l", u.name] + list(extra)
    argv += ["127.0.0.1", command]
    return argv


# -- dropbear ----------------------------------------------------------------

def dropbear_key(key):
    out = key + ".dropbear"
    if not os.path.exists(out):
        run(["dropbearconvert", "openssh", "dropbear", key, out])
    return out


def dbclient_argv(ctx, u, command, extra=()):
    # -y -y: no host key check (the server log names the key that served).
    return (["dbclient", "-y", "-y", "-p", str(ctx.port),
             "-i", dropbear_key(u.key)] + list(extra) +
            ["%s@127.0.0.1" % u.name, command])


# -- Python clients ----------------------------------------------------------

def run_python(ctx, name, script_text, args, label, timeout_s=60,
               input_=None, env_extra=None):
    """Run a script with /usr/bin/python3 (paramiko and asyncssh live
    there only); the script's last stdout line is JSON, returned decoded."""
    check(os.path.exists(SYSTEM_PYTHON), "%s missing" % SYSTEM_PYTHON)
    path = os.path.join(ctx.dir, name)
    with open(path, "w") as f:
        f.write(script_text)
    plog = os.path.join(ctx.dir, name + ".log")
    argv = [SYSTEM_PYTHON, "-W", "ignore", path] + [str(a) for a in args]
    env = client_env(ctx)
    env["CLIENT_LOG"] = plog
    env.update(env_extra or {})
    p = run_client(ctx, argv, env, label, input_=input_,
                   timeout_s=timeout_s, client_log=plog)
    check(p.returncode == 0, "%s exited %s:\n%s\nserver log:\n%s"
          % (label, p.returncode,
             p.stderr.decode("utf-8", "replace")[-2500:],
             "\n".join(tail(ctx.server_log(), 30))))
    lines = p.stdout.decode().strip().splitlines()
    check(lines, "%s printed nothing" % label)
    return json.loads(lines[-1])


# Imported by the paramiko scripts: connect (pubkey, ed25519 or any key
# file), with algorithms restricted by disabled_algorithms; the host key
# must be one of the server's (paths in HOSTKEYS, comma-separated).
PARAMIKO_PRELUDE = r"""
import base64, json, os, socket, sys, hashlib, time
import paramiko
paramiko.util.log_to_file(os.environ["CLIENT_LOG"], level=10)

def load_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except Exception:
            pass
    raise SystemExit("cannot load key %s" % path)

def known_blobs(paths):
    out = set()
    for p in paths.split(","):
        with open(p + ".pub") as f:
            out.add(base64.b64decode(f.read().split()[1]))
    return out

def transport(port, disabled=None, compress=False, prefer=None):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    t = paramiko.Transport(sock, disabled_algorithms=disabled or {})
    if compress:
        t.use_compression(True)
    if prefer:
        for attr, val in prefer.items():
            setattr(t.get_security_options(), attr, val)
    t.start_client(timeout=20)
    return t

def read_all(recv):
    # Everything recv (ch.recv, ch.recv_stderr) gives up to its EOF.
    out = b""
    while True:
        b = recv(65536)
        if not b:
            return out
        out += b

def exec_(t, command, data=b""):
    ch = t.open_session(timeout=20)
    ch.exec_command(command)
    if data:
        ch.sendall(data)
    ch.shutdown_write()
    out = read_all(ch.recv)
    err = read_all(ch.recv_stderr)
    st = ch.recv_exit_status()
    ch.close()
    return out, err, st
"""

ASYNCSSH_PRELUDE = r"""
import asyncio, hashlib, json, logging, os, sys
logging.basicConfig(filename=os.environ["CLIENT_LOG"], level=logging.DEBUG)
import asyncssh
asyncssh.set_debug_level(2)

def known_keys(paths):
    return [asyncssh.read_public_key(p + ".pub") for p in paths.split(",")]

async def connect(port, user, key, hostkeys, **kw):
    kw.setdefault("client_keys", [key] if key else None)
    conn = await asyncssh.connect(
        "127.0.0.1", int(port), username=user, known_hosts=None,
        agent_path=None, **kw)
    hk = conn.get_server_host_key()
    ok = [k for k in known_keys(hostkeys)
          if k.public_data == hk.public_data]
    if not ok:
        raise SystemExit("unknown host key")
    return conn
"""
