"""
test_interop_matrix.py: issue 7's "any current SSH client negotiates with
postern on its defaults and on any algorithm a hardening guide allows",
with the clients other than OpenSSH's. For each client, every KEX, cipher,
MAC, host key algorithm and compression method that both the client and
postern implement (`posternd -Q`) is negotiated one at a time, the client
logs in with a public key and runs a command, and the server's DEBUG log
("kex: algorithm: ...", "kex: client->server cipher: ...") must name the
algorithm asked for. Each client also logs in on its own defaults against
postern's defaults.

How each client is made to use one algorithm:
- plink (PuTTY 0.78): its saved-session lists (KEX, Cipher, HostKey) name
  families, not algorithms (e.g. "ecdh" is all three NIST curves and
  curve25519, "aes" all key sizes) and its MACs cannot be chosen at all,
  so the server is restarted offering only that algorithm in its
  category; the session file puts every family above PuTTY's warning line
  so batch mode does not refuse the weaker ones.
  Compression: PuTTY prefers plain "zlib" and postern's `Compression yes`
  offers both, so only zlib is covered for it.
- dbclient (dropbear 2022.83): -c and -m choose the cipher and MAC (the
  server offers everything); KEX and host key algorithm cannot be chosen
  on its command line, so for those the server offers only the one.
  dropbear cannot choose plain "zlib" over "zlib@openssh.com" and
  postern's `Compression yes` offers both: only zlib@openssh.com is
  covered for it.
- paramiko 2.12 and asyncssh 2.10: the client's own lists hold only the
  algorithm (paramiko's SecurityOptions, asyncssh's kex_algs,
  encryption_algs, mac_algs, server_host_key_algs, compression_algs)
  against one server that offers everything; one Python process makes one
  connection per row, in order, and the server log's key exchanges must
  come in the same order.

Not in the matrix, because the client lacks them: PuTTY 0.78 has no
mlkem768 or sntrup761x25519-sha512 (only the @openssh.com name), hmac-sha2-512 or umac; dropbear no group16/18, group
exchange, sntrup761/mlkem768, aes-gcm, aes192, hmac-sha2-512, etm or umac
MACs, rsa-sha2-512; paramiko 2.12 no curve25519-sha256 (only the
@libssh.org name), group18, sntrup761/mlkem768, chacha20 or aes-gcm, umac;
asyncssh 2.10 no sntrup761/mlkem768.

Against postern's defaults, which are stricter than OpenSSH's (etm MACs
only, no ecdh-sha2-nistp*, group14 or group exchange): dropbear with a CTR
cipher (-c aes128-ctr) has no MAC in common, since it implements only
hmac-sha1 and hmac-sha2-256 without etm; that is the documented default
(docs/sshd_config.md, Transport algorithms) and is checked here as a clean
refusal naming the MAC category, as OpenSSH's sshd hardened the same way
would do.
"""

import json
import secrets

import interop_clients as ic
from harness import check, timeout

# Each client's own names, intersected with postern's at run time.
PLINK_CAPS = {
    "kex": ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
            "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
            "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512",
            "diffie-hellman-group-exchange-sha256",
            "diffie-hellman-group-exchange-sha1"],
    "cipher": ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
               "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr",
               "aes256-ctr"],
    "mac": ["hmac-sha2-256", "hmac-sha2-256-etm@openssh.com", "hmac-sha1",
            "hmac-sha1-etm@openssh.com"],
    "hostkey": ic.HOSTKEY_ALGS,
    "compression": ["zlib"],
}
DBCLIENT_CAPS = {
    "kex": ["curve25519-sha256", "curve25519-sha256@libssh.org",
            "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
            "diffie-hellman-group14-sha256"],
    "cipher": ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"],
    "mac": ["hmac-sha2-256", "hmac-sha1"],
    "hostkey": ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521", "rsa-sha2-256", "ssh-rsa"],
    "compression": ["zlib@openssh.com"],
}
PARAMIKO_CAPS = {
    "kex": ["curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
            "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
            "diffie-hellman-group16-sha512",
            "diffie-hellman-group-exchange-sha256",
            "diffie-hellman-group14-sha256",
            "diffie-hellman-group-exchange-sha1"],
    "cipher": ["aes128-ctr", "aes192-ctr", "aes256-ctr"],
    "mac": ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com",
            "hmac-sha2-512-etm@openssh.com", "hmac-sha1"],
    "hostkey": ic.HOSTKEY_ALGS,
    "compression": ["zlib@openssh.com", "zlib"],
}
ASYNCSSH_CAPS = {
    "kex": ["curve25519-sha256", "curve25519-sha256@libssh.org",
            "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
            "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512",
            "diffie-hellman-group-exchange-sha256",
            "diffie-hellman-group-exchange-sha1"],
    "cipher": ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
               "aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr",
               "aes256-ctr"],
    "mac": ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha2-256-etm@openssh.com",
            "hmac-sha2-512-etm@openssh.com", "umac-64@openssh.com",
            "umac-128@openssh.com", "umac-64-etm@openssh.com",
            "umac-128-etm@openssh.com", "hmac-sha1",
            "hmac-sha1-etm@openssh.com"],
    "hostkey": ic.HOSTKEY_ALGS,
    "compression": ["zlib@openssh.com", "zlib"],
}

AEAD = ("chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com")


def _rows(ctx, caps):
    """(category, algorithm) for everything the client and postern both
    implement; fails if postern lacks one the client has (a gap in issue
    7's list, which names them all)."""
    have = {"kex": ic.postern_algs(ctx, "kex"),
            "cipher": ic.postern_algs(ctx, "cipher"),
            "mac": ic.postern_algs(ctx, "mac"),
            "hostkey": ic.HOSTKEY_ALGS,
            "compression": ic.postern_algs(ctx, "compression")}
    rows = []
    for cat, algs in caps.items():
        for a in algs:
            check(a in have[cat], "postern does not implement %s %s" % (cat, a))
            rows.append((cat, a))
    return rows


def _want(cat, alg):
    """What the server log must show for a row."""
    if cat == "mac":
        return {"cipher": "aes128-ctr", "mac": alg}
    if cat == "cipher" and alg in AEAD:
        return {"cipher": alg, "mac": "<implicit>"}
    return {cat: alg}


def _server_restricted(ctx, cat, alg):
    """Server settings offering everything but only ALG in CAT."""
    s = ic.all_algs_settings(ctx)
    key = {"kex": "KexAlgorithms", "cipher": "Ciphers",
           "hostkey": "HostKeyAlgorithms"}.get(cat)
    if key:
        s[key] = alg
    elif cat == "mac":
        s["Ciphers"] = "aes128-ctr"
        s["MACs"] = alg
    return ic.config_lines(s)


def _token():
    return secrets.token_hex(4)


@timeout(150)
def test_plink_algorithm_matrix(ctx):
    u = ctx.make_user()
    ic.putty_session(ctx, "all", dict(ic.PUTTY_ALL, Compression=0))
    ic.putty_session(ctx, "allz", dict(ic.PUTTY_ALL, Compression=1))
    env = ic.client_env(ctx)
    for cat, alg in _rows(ctx, PLINK_CAPS):
        ic.restart_server(ctx, _server_restricted(ctx, cat, alg))
        off = ic.log_size(ctx)
        tok = _token()
        sess = "allz" if cat == "compression" else "all"
        p = ic.run_client(ctx, ic.plink_argv(ctx, u, "echo hi " + tok, sess),
                          env, "plink %s" % alg)
        ic.expect_ok(p, "plink %s" % alg, ("hi %s\n" % tok).encode())
        ic.check_row(ctx, "plink " + alg, off, _want(cat, alg))


def test_plink_defaults(ctx):
    """plink on its own defaults (no saved session) against postern's."""
    u = ctx.make_user()
    ctx.start_server()
    tok = _token()
    off = ic.log_size(ctx)
    p = ic.run_client(ctx, ic.plink_argv(ctx, u, "echo hi " + tok),
                      ic.client_env(ctx), "plink")
    ic.expect_ok(p, "plink", ("hi %s\n" % tok).encode())
    got = ic.check_row(ctx, "plink defaults", off, {})
    check(got["kex"] == "sntrup761x25519-sha512@openssh.com" and
          got["hostkey"] == "ssh-ed25519",
          "plink defaults negotiated %r" % got)


@timeout(120)
def test_dbclient_algorithm_matrix(ctx):
    u = ctx.make_user()
    env = ic.client_env(ctx)
    everything = ic.config_lines(ic.all_algs_settings(ctx))
    current = None
    for cat, alg in _rows(ctx, DBCLIENT_CAPS):
        extra = []
        lines = everything
        if cat in ("kex", "hostkey"):
            lines = _server_restricted(ctx, cat, alg)
        if lines != current:
            ic.restart_server(ctx, lines)
            current = lines
        if cat == "cipher":
            extra = ["-c", alg]
        elif cat == "mac":
            extra = ["-c", "aes128-ctr", "-m", alg]
        off = ic.log_size(ctx)
        tok = _token()
        p = ic.run_client(ctx, ic.dbclient_argv(ctx, u, "echo hi " + tok,
                                                extra),
                          env, "dbclient %s" % alg)
        ic.expect_ok(p, "dbclient %s" % alg, ("hi %s\n" % tok).encode())
        ic.check_row(ctx, "dbclient " + alg, off, _want(cat, alg))


def test_dbclient_defaults(ctx):
    """dbclient on its defaults against postern's; with a CTR cipher it
    has no MAC in common with postern's default (etm only) list, and the
    refusal names the MAC category."""
    u = ctx.make_user()
    ctx.start_server()
    env = ic.client_env(ctx)
    tok = _token()
    off = ic.log_size(ctx)
    p = ic.run_client(ctx, ic.dbclient_argv(ctx, u, "echo hi " + tok),
                      env, "dbclient")
    ic.expect_ok(p, "dbclient", ("hi %s\n" % tok).encode())
    got = ic.check_row(ctx, "dbclient defaults", off, {})
    check(got["cipher"] == "chacha20-poly1305@openssh.com",
          "dbclient defaults negotiated %r" % got)
    p = ic.run_client(ctx, ic.dbclient_argv(ctx, u, "true",
                                            ["-c", "aes128-ctr"]),
                      env, "dbclient aes128-ctr")
    check(p.returncode != 0, "dbclient with hmac-sha2-256 logged in")
    check(ctx.wait_log(r"Unable to negotiate with 127\.0\.0\.1 port \d+: "
                       r"no matching MAC found\. Their offer: "
                       r"hmac-sha1,hmac-sha2-256"),
          "no 'no matching MAC found' line")


PARAMIKO_MATRIX = ic.PARAMIKO_PRELUDE + r"""
port, user, key, hostkeys, rows = sys.argv[1:6]
rows = json.loads(rows)
attr = {"kex": "kex", "cipher": "ciphers", "mac": "digests",
        "hostkey": "key_types", "compression": "compression"}
known = known_blobs(hostkeys)
results = []
for cat, alg, tok in rows:
    prefer = {attr[cat]: (alg,)}
    if cat == "mac":
        prefer["ciphers"] = ("aes128-ctr",)
    t = transport(port, prefer=prefer, compress=(cat == "compression"))
    if t.get_remote_server_key().asbytes() not in known:
        raise SystemExit("unknown host key")
    t.auth_publickey(user, load_key(key))
    out, err, st = exec_(t, "echo hi " + tok)
    results.append([cat, alg, out.decode(), st, t.host_key_type,
                    t.local_cipher, t.local_mac])
    t.close()
print(json.dumps(results))
"""

ASYNCSSH_MATRIX = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, rows = sys.argv[1:6]
rows = json.loads(rows)
arg = {"kex": "kex_algs", "cipher": "encryption_algs", "mac": "mac_algs",
       "hostkey": "server_host_key_algs", "compression": "compression_algs"}

async def main():
    results = []
    for cat, alg, tok in rows:
        kw = {arg[cat]: [alg]}
        if cat == "mac":
            kw["encryption_algs"] = ["aes128-ctr"]
        async with await connect(port, user, key, hostkeys, **kw) as conn:
            r = await conn.run("echo hi " + tok)
            results.append([cat, alg, r.stdout, r.exit_status])
    print(json.dumps(results))

asyncio.run(main())
"""


def _python_matrix(ctx, script, caps, label, server_lines=None, rows=None):
    """One Python process, one connection per row, against one server
    (offering everything unless server_lines say otherwise)."""
    u = ctx.make_user()
    if server_lines is None:
        server_lines = ic.config_lines(ic.all_algs_settings(ctx))
    ic.restart_server(ctx, server_lines)
    rows = [(c, a, _token()) for c, a in (rows or _rows(ctx, caps))]
    hostkeys = ",".join(ic.host_keys(ctx).values())
    off = ic.log_size(ctx)
    res = ic.run_python(ctx, label + "_matrix.py", script,
                        [ctx.port, u.name, u.key, hostkeys,
                         json.dumps(rows)], label, timeout_s=100)
    check(len(res) == len(rows), "%s ran %d of %d rows"
          % (label, len(res), len(rows)))
    for (cat, alg, tok), r in zip(rows, res):
        check(r[2] == "hi %s\n" % tok and r[3] == 0,
              "%s %s: output %r status %r" % (label, alg, r[2], r[3]))
    got = ic.all_negotiated(ic.log_since(ctx, off))
    check(len(got) == len(rows), "%s: %d key exchanges in the server log "
          "for %d connections" % (label, len(got), len(rows)))
    for (cat, alg, tok), g in zip(rows, got):
        for k, v in _want(cat, alg).items():
            check(g[k] == v, "%s %s: the server negotiated %s %s"
                  % (label, alg, k, g[k]))
    return res


@timeout(120)
def test_paramiko_algorithm_matrix(ctx):
    res = _python_matrix(ctx, PARAMIKO_MATRIX, PARAMIKO_CAPS, "paramiko")
    # paramiko's own view agrees for the host key and MAC rows.
    for r in res:
        if r[0] == "hostkey":
            check(r[4] == r[1], "paramiko host key %s, asked %s"
                  % (r[4], r[1]))
        if r[0] == "mac":
            check(r[6] == r[1], "paramiko MAC %s, asked %s" % (r[6], r[1]))


@timeout(120)
def test_asyncssh_algorithm_matrix(ctx):
    _python_matrix(ctx, ASYNCSSH_MATRIX, ASYNCSSH_CAPS, "asyncssh")


PARAMIKO_DEFAULTS = ic.PARAMIKO_PRELUDE + r"""
port, user, key, hostkeys, tok = sys.argv[1:6]
t = transport(port)
if t.get_remote_server_key().asbytes() not in known_blobs(hostkeys):
    raise SystemExit("unknown host key")
t.auth_publickey(user, load_key(key))
out, err, st = exec_(t, "echo hi " + tok)
print(json.dumps([out.decode(), st]))
"""

ASYNCSSH_DEFAULTS = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, tok = sys.argv[1:6]

async def main():
    async with await connect(port, user, key, hostkeys) as conn:
        r = await conn.run("echo hi " + tok)
        print(json.dumps([r.stdout, r.exit_status]))

asyncio.run(main())
"""


def test_python_clients_defaults(ctx):
    """paramiko and asyncssh on their defaults against postern's."""
    u = ctx.make_user()
    ctx.start_server()
    for label, script in (("paramiko", PARAMIKO_DEFAULTS),
                          ("asyncssh", ASYNCSSH_DEFAULTS)):
        tok = _token()
        off = ic.log_size(ctx)
        res = ic.run_python(ctx, label + "_defaults.py", script,
                            [ctx.port, u.name, u.key, ctx.host_key, tok],
                            label)
        check(res == ["hi %s\n" % tok, 0], "%s defaults: %r" % (label, res))
        got = ic.check_row(ctx, label + " defaults", off, {})
        check(got["hostkey"] == "ssh-ed25519", "%s: %r" % (label, got))
