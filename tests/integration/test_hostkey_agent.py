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
    n = struct.unpack(">I", c.recv(4, socket.MSG_WAITALL))[0]
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
