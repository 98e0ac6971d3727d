"""
test_hostkey_agent.py: HostKeyAgent, as sshd 9.2 does it. The host
private keys live only in a real ssh-agent; the HostKey lines name a
public key file, or a private key file that is absent beside its .pub.
Every exchange hash and every hostkeys-prove signature is made by the
agent, under each host key algorithm; an agent that refuses fails that
connection with sshd's log line and the server keeps serving.
"""

import os
import shutil
import subprocess

import harness
from harness import check, run, timeout
from test_hostkeys import _known_hosts, _login_with, _pub, _ssh_kh


def _agent(ctx):
    sock = os.path.join(ctx.dir, "agent.sock")
    p = ctx.popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL,
                  stderr=subprocess.DEVNULL)
    check(harness.poll_until(lambda: os.path.exists(sock), 10),
          "ssh-agent did not start")
    return sock, p


def _ssh_add(sock, *args):
    return subprocess.run(["ssh-add", "-q"] + list(args),
                          env=dict(os.environ, SSH_AUTH_SOCK=sock),
                          capture_output=True, timeout=30)


@timeout(120)
def test_host_keys_in_agent(ctx):
    sock, _ = _agent(ctx)
    # The harness's ed25519 host key: its private file moves into the
    # agent and away from the HostKey path; only its .pub stays there.
    keep = os.path.join(ctx.dir, "private")
    os.mkdir(keep, 0o700)
    ed = os.path.join(keep, "host_ed25519")
    shutil.move(ctx.host_key, ed)
    rsa = os.path.join(keep, "host_rsa")
    run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa])
    os.makedirs(os.path.join(ctx.dir, "pub"))
    rsa_pub = os.path.join(ctx.dir, "pub", "host_rsa.pub")
    shutil.copy(rsa + ".pub", rsa_pub)
    r = _ssh_add(sock, ed, rsa)
    check(r.returncode == 0, "ssh-add: %r" % r.stderr)
    check(os.path.exists(ctx.host_key + ".pub") and
          not os.path.exists(ctx.host_key), "setup: %s" % ctx.host_key)

    u = ctx.make_user()
    extra = ["HostKeyAgent %s" % sock, "HostKey %s" % rsa_pub]
    ctx.write_config(extra)
    t = run([ctx.server_path, "-T", "-f", ctx.config_path],
            check_rc=False)
    check(("hostkeyagent %s\n" % sock) in t.stdout.decode(),
          "-T lacks the agent: %r" % t.stdout[-300:])
    ctx.start_server(extra_config=extra)
    check(ctx.wait_log(r"^debug1: will rely on agent for hostkey %s$"
                       % ctx.host_key, 10),
          "the absent private key was not taken from the agent")

    kh = _known_hosts(ctx, "kh_all", [ctx.host_key, rsa])
    for alg in ("ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"):
        _login_with(ctx, u, alg, kh)

    # UpdateHostKeys: knowing only the ed25519 key, the client learns
    # the RSA one through hostkeys-prove, which the agent signs.
    kh = _known_hosts(ctx, "kh_update", [ctx.host_key])
    r = _ssh_kh(ctx, u, kh, ("-o", "UpdateHostKeys=yes"))
    with open(kh) as f:
        learned = f.read()
    check(r.rc == 0 and _pub(rsa) in learned,
          "the RSA key was not learned: rc %s %r %s"
          % (r.rc, learned, r.err[-600:]))

    # An agent that no longer holds the keys: that connection fails in
    # sshd's words; the server keeps serving once the keys are back.
    r = _ssh_add(sock, "-D")
    check(r.returncode == 0, "ssh-add -D: %r" % r.stderr)
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255, "a login worked with an empty agent: %r" % r)
    check(ctx.wait_log(r"^agent sign: agent refused operation$", 10),
          "no 'agent sign' error line")
    _ssh_add(sock, ed, rsa)
    ctx.ssh_ok(u, "echo back", expect_out=b"back\n")


# An agent that answers every request with a well-formed signature that
# does not verify (random bytes under the requested algorithm's name).
BAD_AGENT = r"""
import os, socket, struct, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(8)
def s(b):
    return struct.pack(">I", len(b)) + b
while True:
    c, _ = srv.accept()
    h = c.recv(4, socket.MSG_WAITALL)
    if len(h) < 4:  # a connection that only checks the agent is there
        c.close()
        continue
    n = struct.unpack(">I", h)[0]
    c.recv(n, socket.MSG_WAITALL)
    sig = s(b"ssh-ed25519") + s(os.urandom(64))
    body = b"\x0e" + s(sig)
    c.sendall(struct.pack(">I", len(body)) + body)
    c.close()
"""


@timeout(60)
def test_agent_signature_checked(ctx):
    """What the agent answers is checked before it is sent: a signature
    that does not verify ends that connection with a log line."""
    sock = os.path.join(ctx.dir, "bad-agent.sock")
    ctx.popen(["/usr/bin/python3", "-c", BAD_AGENT, sock])
    check(harness.poll_until(lambda: os.path.exists(sock), 10),
          "the fake agent did not start")
    os.unlink(ctx.host_key)  # only host_ed25519.pub is left
    u = ctx.make_user()
    ctx.start_server(extra_config=["HostKeyAgent %s" % sock])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "a bad agent signature was sent: %r" % r)
    check(ctx.wait_log(r"^agent sign: signature does not verify$",
                       10), "no log line for the bad signature")


def _test_lines(argv, env=None):
    r = subprocess.run(argv, capture_output=True, timeout=30,
                       env=env if env is not None else dict(os.environ))
    return r.returncode, r.stderr.decode(errors="replace").splitlines()


@timeout(60)
def test_agent_absent_at_start(ctx):
    """An agent that does not answer when the server starts is no agent,
    as for sshd 9.2 run beside it: "Could not connect to agent" and the
    keys only it held are not loaded (no keys left: exit 1, and the
    server does not start); a private key file still loads."""
    sshd = harness.openssh_sshd()
    nosock = os.path.join(ctx.dir, "no-agent.sock")
    key = ctx.host_key
    pub_only = os.path.join(ctx.dir, "pub-only")
    os.mkdir(pub_only, 0o700)
    pub = os.path.join(pub_only, "host_ed25519.pub")
    shutil.copy(key + ".pub", pub)
    os.chmod(pub, 0o600)
    no_env = dict(os.environ)
    no_env.pop("SSH_AUTH_SOCK", None)
    cases = [
        # (name, config lines, environment, exit status, first line)
        ("socket absent, key in agent only",
         ["HostKey %s" % pub, "HostKeyAgent %s" % nosock], None, 1,
         'Could not connect to agent "%s": No such file or directory'
         % nosock),
        ("socket absent, private key present",
         ["HostKey %s" % key, "HostKeyAgent %s" % nosock], None, 0,
         'Could not connect to agent "%s": No such file or directory'
         % nosock),
        ("not a socket",
         ["HostKey %s" % key, "HostKeyAgent %s" % ctx.dir], None, 0,
         'Could not connect to agent "%s": Connection refused' % ctx.dir),
        ("SSH_AUTH_SOCK unset",
         ["HostKey %s" % key, "HostKeyAgent SSH_AUTH_SOCK"], no_env, 0,
         'Could not connect to agent "SSH_AUTH_SOCK": agent not present'),
    ]
    for i, (name, lines, env, rc, first) in enumerate(cases):
        conf = os.path.join(ctx.dir, "agent_absent_%d" % i)
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        for who, argv in (("sshd", [sshd, "-t", "-f", conf]),
                          ("posternd", [ctx.server_path, "-t", "-f", conf])):
            got_rc, out = _test_lines(argv, env)
            check(got_rc == rc and out[:1] == [first],
                  "%s: %s -t: rc %d (want %d), lines %r"
                  % (name, who, got_rc, rc, out))
            if rc == 1:
                check(out[-1] == "sshd: no hostkeys available -- exiting.",
                      "%s: %s -t: last line %r" % (name, who, out[-1:]))
    # Started for real, the server that has no key left does not serve.
    conf = os.path.join(ctx.dir, "agent_absent_0")
    rc, out = _test_lines([ctx.server_path, "-D", "-e", "-f", conf,
                           "-p", str(harness.free_port())])
    check(rc != 0 and out[:1] == [cases[0][4]] and
          "sshd: no hostkeys available -- exiting." in out[-1],
          "posternd -D started without its agent: rc %d %r" % (rc, out))
