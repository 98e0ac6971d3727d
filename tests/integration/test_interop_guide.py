"""
test_interop_guide.py: "any algorithm a hardening guide allows" (issue 7)
with the clients other than OpenSSH's. postern runs ssh-audit.com's Debian
12 server guide as is (the snippet test_snippets.py carries, Included
after the harness's lines; an ed25519 and a 3072-bit RSA host key), and:

- paramiko and asyncssh negotiate, one connection each, every algorithm of
  the guide's KexAlgorithms, Ciphers, MACs and HostKeyAlgorithms that they
  implement, checked in the server log;
- plink negotiates each family the guide leaves it (its saved session
  puts one family first: ntru-curve25519, ecdh, dh-gex, dh-group18,
  dh-group16; aesgcm, aes; ed25519, rsa);
- dropbear 2022.83 cannot log in: the guide has no chacha20 and only etm
  MACs, and dropbear implements hmac-sha1 and hmac-sha2-256 without etm.
  That is the client's limit, not postern's: OpenSSH's sshd 9.2 with the
  same files refuses it with the same "no matching MAC found" line, which
  this test checks too (so the refusal is counted, not a login).
"""

import os
import re
import secrets

import harness
import interop_clients as ic
import test_interop_matrix as mx
from harness import check, timeout
from test_snippets import _snippet


def _guide_lists():
    """{category: [names]} from the guide's text."""
    text = _snippet("ssh_audit_debian12")["ssh-audit_hardening.conf"]
    text = text.replace("\\\n", "")
    out = {}
    for kw, cat in (("KexAlgorithms", "kex"), ("Ciphers", "cipher"),
                    ("MACs", "mac"), ("HostKeyAlgorithms", "hostkey")):
        m = re.search(r"^%s (\S+)" % kw, text, re.M)
        check(m, "the guide has no %s line" % kw)
        out[cat] = m.group(1).split(",")
    return out, text


def _server_lines(ctx, text):
    """The guide Included after an RSA 3072 host key line."""
    # host_rsa: the name interop_clients.host_keys() looks for.
    rsa = os.path.join(ctx.dir, "host_rsa")
    if not os.path.exists(rsa):
        harness.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "",
                     "-f", rsa])
    d = os.path.join(ctx.dir, "sshd_config.d")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "ssh-audit_hardening.conf"), "w") as f:
        f.write(text)
    return ["HostKey " + rsa, "Include %s/*.conf" % d]


def _rows_in_guide(ctx, caps, guide):
    rows = [(c, a) for c, a in mx._rows(ctx, caps)
            if c != "compression" and a in guide[c]]
    return rows


@timeout(120)
def test_hardening_guide_python_clients(ctx):
    guide, text = _guide_lists()
    lines = _server_lines(ctx, text)
    for label, script, caps in (("paramiko", mx.PARAMIKO_MATRIX,
                                 mx.PARAMIKO_CAPS),
                                ("asyncssh", mx.ASYNCSSH_MATRIX,
                                 mx.ASYNCSSH_CAPS)):
        rows = _rows_in_guide(ctx, caps, guide)
        check(len(rows) >= 8, "%s: only %r in the guide" % (label, rows))
        # MAC rows pin aes128-ctr, which the guide allows.
        mx._python_matrix(ctx, script, caps, label + " (guide)", lines, rows)


# (setting, family PuTTY is to put first, what the server log must show)
PLINK_GUIDE = [
    ("KEX", "ntru-curve25519", {"kex": "sntrup761x25519-sha512@openssh.com"}),
    ("KEX", "ecdh", {"kex": "curve25519-sha256"}),
    ("KEX", "dh-gex-sha1", {"kex": "diffie-hellman-group-exchange-sha256"}),
    ("KEX", "dh-group18-sha512", {"kex": "diffie-hellman-group18-sha512"}),
    ("KEX", "dh-group16-sha512", {"kex": "diffie-hellman-group16-sha512"}),
    ("Cipher", "aesgcm", {"cipher": "aes128-gcm@openssh.com"}),
    ("Cipher", "aes", {"cipher": "aes256-ctr",
                       "mac": "hmac-sha2-256-etm@openssh.com"}),
    ("HostKey", "ed25519", {"hostkey": "ssh-ed25519"}),
    ("HostKey", "rsa", {"hostkey": "rsa-sha2-512"}),
]


def _first(setting, family):
    """PuTTY's list for SETTING with FAMILY moved to the front. (A list of
    FAMILY and WARN alone does not do it: PuTTY fills in the families
    left out in its default order, some ahead of FAMILY.)"""
    rest = [f for f in ic.PUTTY_ALL[setting].split(",") if f != family]
    return ",".join([family] + rest)


@timeout(90)
def test_hardening_guide_plink(ctx):
    guide, text = _guide_lists()
    u = ctx.make_user()
    ctx.start_server(_server_lines(ctx, text))
    env = ic.client_env(ctx)
    for i, (setting, family, want) in enumerate(PLINK_GUIDE):
        name = "guide%d" % i
        label = "plink %s=%s first" % (setting, family)
        ic.putty_session(ctx, name, {setting: _first(setting, family)})
        tok = secrets.token_hex(4)
        argv = ic.plink_argv(ctx, u, "echo hi " + tok, name)
        off = ic.log_size(ctx)
        p = ic.run_client(ctx, argv, env, label)
        ic.expect_ok(p, label, ("hi %s\n" % tok).encode())
        for c, v in want.items():
            check(v in guide[c], "%s is not in the guide" % v)
        ic.check_row(ctx, label, off, want)


@timeout(60)
def test_hardening_guide_dbclient_refused_as_by_sshd(ctx):
    _, text = _guide_lists()
    u = ctx.make_user()
    lines = _server_lines(ctx, text)
    env = ic.client_env(ctx)
    for server in (ctx.server_path, harness.openssh_sshd()):
        ctx.stop_server()
        ctx.start_server(lines, server=server)
        off = ic.log_size(ctx)
        p = ic.run_client(ctx, ic.dbclient_argv(ctx, u, "true"), env,
                          "dbclient (guide)")
        check(p.returncode != 0, "dbclient logged in under the guide (%s)"
              % server)
        # This server's line: the log also holds the previous one's.
        rx = re.compile(r"Unable to negotiate with 127\.0\.0\.1 port "
                        r"\d+: no matching MAC found\. Their offer: "
                        r"hmac-sha1,hmac-sha2-256")
        check(harness.poll_until(lambda: rx.search(ic.log_since(ctx, off)),
                                 10),
              "%s: no 'no matching MAC found' line:\n%s"
              % (server, ic.log_since(ctx, off)[-1500:]))
