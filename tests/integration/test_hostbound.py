"""
test_hostbound.py: postern advertises publickey-hostbound@openssh.com
(OpenSSH PROTOCOL s2.5); the real OpenSSH client then signs its key
bound to the server's host key, and the server verifies that form.
"""

from harness import check


def test_client_uses_hostbound_publickey(ctx):
    u = ctx.make_user()
    ctx.start_server()
    r = ctx.ssh(u, "echo ok", verbose=True)
    check(r.rc == 0 and r.stdout == b"ok\n",
          "login failed: rc %s %s" % (r.rc, r.err[-300:]))
    check("publickey-hostbound@openssh.com" in r.err,
          "the client did not see the publickey-hostbound extension")
    check(ctx.wait_log(r"userauth: publickey-hostbound-v00@openssh\.com: "
                       r"the key is bound to this host key", 5),
          "the server did not judge a host-bound publickey request")
    check(ctx.wait_log(r"^Accepted publickey for %s " % u.name, 5),
          "host-bound login not logged as 'Accepted publickey'")


def test_server_sig_algs_follow_config(ctx):
    """server-sig-algs (RFC 8308) lists what PubkeyAcceptedAlgorithms
    allows, without certificate names."""
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,"
        "ssh-ed25519-cert-v01@openssh.com"])
    r = ctx.ssh(u, "echo ok", verbose=True)
    check(r.rc == 0, "login failed: %s" % r.err[-300:])
    check("server-sig-algs=<ssh-ed25519,rsa-sha2-512>" in r.err,
          "server-sig-algs does not follow PubkeyAcceptedAlgorithms: %s"
          % [l for l in r.err.splitlines() if "server-sig-algs" in l])
