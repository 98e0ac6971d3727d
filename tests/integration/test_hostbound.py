"""
test_hostbound.py: postern advertises publickey-hostbound@openssh.com
(OpenSSH PROTOCOL s2.5); the real OpenSSH client then signs its key
bound to the server's host key, and the server verifies that form.
"""

import os

from harness import check, run


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
    allows; a certificate name stands as its key's signature algorithm
    (here ssh-ed25519, listed once)."""
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,"
        "ssh-ed25519-cert-v01@openssh.com"])
    r = ctx.ssh(u, "echo ok", verbose=True)
    check(r.rc == 0, "login failed: %s" % r.err[-300:])
    check("server-sig-algs=<ssh-ed25519,rsa-sha2-512>" in r.err,
          "server-sig-algs does not follow PubkeyAcceptedAlgorithms: %s"
          % [l for l in r.err.splitlines() if "server-sig-algs" in l])


def test_server_sig_algs_include_match_blocks(ctx):
    """A Match block that widens PubkeyAcceptedAlgorithms for one account
    (global ssh-ed25519 only, rsa-sha2-512 for one user) lets that user's
    RSA key in: server-sig-algs also lists what the blocks may allow, for
    the OpenSSH client picks its RSA signature from it (without it: "no
    mutual signature algorithm", and the key is never offered, where sshd
    9.2, which lists every algorithm, lets it in). Others stay refused."""
    rsa = os.path.join(ctx.dir, "ukey_rsa")
    run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsa])
    u, v = ctx.make_user(with_key=False), ctx.make_user(with_key=False)
    for w in (u, v):
        ctx.authorize(w, rsa + ".pub")
    ctx.start_server(extra_config=[
        "PubkeyAcceptedAlgorithms ssh-ed25519",
        "Match User " + u.name,
        "PubkeyAcceptedAlgorithms rsa-sha2-512",
        # Active while the configuration loads, yet a Match block too.
        "Match all",
        "PubkeyAcceptedAlgorithms ecdsa-sha2-nistp256"])
    r = ctx.ssh(u, "echo ok", key=rsa, verbose=True)
    check("server-sig-algs=<ssh-ed25519,rsa-sha2-512,ecdsa-sha2-nistp256>"
          in r.err,
          "server-sig-algs lacks the Match block's algorithm: %s"
          % [l for l in r.err.splitlines() if "server-sig-algs" in l])
    check(r.rc == 0 and r.stdout == b"ok\n",
          "the RSA key allowed by the Match block did not log in: rc %s %s"
          % (r.rc, r.err[-300:]))
    r = ctx.ssh(v, "echo ok", key=rsa)
    check(r.rc == 255 and r.stdout == b"",
          "an RSA key logged in for a user outside the Match block")
    check(ctx.wait_log(r"^userauth_pubkey: signature algorithm rsa-sha2-512 "
                       r"not in PubkeyAcceptedAlgorithms \[preauth\]$", 5),
          "no 'signature algorithm rsa-sha2-512 not in "
          "PubkeyAcceptedAlgorithms' line for the other user")
