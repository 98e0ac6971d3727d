"""
test_hostkeys.py: host keys with the real OpenSSH client: every host key
algorithm (ed25519, ECDSA on the three curves, RSA with SHA-2 256 and 512,
ssh-rsa only when configured), keys in openssh-key-v1, PEM and PKCS#8,
host certificates for RSA and ECDSA keys, key files with bad permissions,
UpdateHostKeys (hostkeys-00 / hostkeys-prove-00), diffie-hellman group
exchange with the system moduli and with the built-in fallback, and
postern-keygen.
"""

import os
import re
import struct
import subprocess

import harness
from harness import check, free_port, run


def _keygen(ctx, name, kind, bits=None, fmt=None):
    path = os.path.join(ctx.dir, name)
    argv = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", name, "-f", path]
    if bits:
        argv += ["-b", str(bits)]
    if fmt:
        argv += ["-m", fmt]
    run(argv)
    return path


def _host_keys(ctx, fmt=None):
    """ed25519 (harness), ECDSA 256/384/521 and RSA 3072 host keys."""
    keys = [ctx.host_key]
    for name, kind, bits in (("host_ecdsa256", "ecdsa", 256),
                             ("host_ecdsa384", "ecdsa", 384),
                             ("host_ecdsa521", "ecdsa", 521),
                             ("host_rsa", "rsa", 3072)):
        keys.append(_keygen(ctx, name, kind, bits, fmt))
    return keys


def _pub(path):
    with open(path + ".pub") as f:
        return f.read().split()[1]


def _ssh_kh(ctx, u, known_hosts, extra=()):
    """ssh -v ... echo ok checking the host key against known_hosts (the
    harness's own argv turns checking off; ssh keeps the first value of
    an option, so those are taken out)."""
    argv = ctx.ssh_argv(u, "echo ok", extra=extra, verbose=True)
    for opt in ("StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"):
        i = argv.index(opt)
        del argv[i - 1:i + 1]
    argv[1:1] = ["-o", "UserKnownHostsFile=" + known_hosts,
                 "-o", "StrictHostKeyChecking=yes"]
    p = ctx.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=30)
    return harness.Result(argv, p.returncode, out, err)


def _login_with(ctx, u, alg, known_hosts=None):
    extra = ["-o", "HostKeyAlgorithms=" + alg]
    if known_hosts:
        r = _ssh_kh(ctx, u, known_hosts, extra)
    else:
        r = ctx.ssh(u, "echo ok", verbose=True, extra=extra)
    check(r.rc == 0 and r.stdout == b"ok\n",
          "%s: login failed: rc %s %s" % (alg, r.rc, r.err[-400:]))
    check("kex: host key algorithm: %s" % alg in r.err,
          "%s: the client did not negotiate it: %s" % (alg, [
              l for l in r.err.splitlines() if "host key algorithm" in l]))
    return r


def _known_hosts(ctx, name, keys):
    """A known_hosts file holding exactly these host keys."""
    path = os.path.join(ctx.dir, name)
    with open(path, "w") as f:
        for k in keys:
            with open(k + ".pub") as p:
                t, b = p.read().split()[:2]
            f.write("[127.0.0.1]:%d %s %s\n" % (ctx.port, t, b))
    return path


ALGS = [("ssh-ed25519", 0), ("ecdsa-sha2-nistp256", 1),
        ("ecdsa-sha2-nistp384", 2), ("ecdsa-sha2-nistp521", 3),
        ("rsa-sha2-512", 4), ("rsa-sha2-256", 4)]


def _every_algorithm(ctx, fmt):
    u = ctx.make_user()
    keys = _host_keys(ctx, fmt)
    ctx.start_server(extra_config=["HostKey %s" % k for k in keys[1:]])
    for alg, i in ALGS:
        # The known_hosts file has only the key that must be presented:
        # the client checks the signature with exactly that key.
        kh = _known_hosts(ctx, "kh_%s" % alg, [keys[i]])
        _login_with(ctx, u, alg, kh)
    # ssh-rsa (SHA-1) is not offered unless configured.
    r = ctx.ssh(u, "echo ok", extra=("-o", "HostKeyAlgorithms=ssh-rsa"))
    check(r.rc != 0, "ssh-rsa must not be offered by default")
    check(ctx.wait_log(r"no matching host key type found"),
          "the refusal of ssh-rsa was not logged")


def test_every_host_key_algorithm(ctx):
    _every_algorithm(ctx, None)


def test_pem_host_keys(ctx):
    _every_algorithm(ctx, "PEM")


def test_pkcs8_host_keys(ctx):
    _every_algorithm(ctx, "PKCS8")


def test_ssh_rsa_when_configured(ctx):
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 2048)
    ctx.start_server(extra_config=["HostKey %s" % rsa,
                                   "HostKeyAlgorithms +ssh-rsa"])
    kh = _known_hosts(ctx, "kh", [rsa])
    _login_with(ctx, u, "ssh-rsa", kh)


def test_required_rsa_size_host_keys(ctx):
    """RequiredRSASize holds for host keys too, as in sshd 9.2: a smaller
    RSA host key is left out (`main: Host key PATH: Invalid key length`,
    also from -t, as sshd's words), the others are served; with no key
    left, -t fails as sshd's does."""
    harness.openssh_sshd()
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    line = "main: Host key %s: Invalid key length" % rsa
    both = os.path.join(ctx.dir, "both.conf")
    alone = os.path.join(ctx.dir, "alone.conf")
    with open(both, "w") as f:
        f.write("HostKey %s\nHostKey %s\nRequiredRSASize 4096\n"
                % (ctx.host_key, rsa))
    with open(alone, "w") as f:
        f.write("HostKey %s\nRequiredRSASize 4096\n" % rsa)
    for conf, rc in ((both, 0), (alone, 1)):
        got = [run([srv, "-t", "-f", conf], check_rc=False)
               for srv in (ctx.server_path, harness.OPENSSH_SSHD)]
        for p, who in zip(got, ("posternd", "sshd")):
            err = p.stderr.decode(errors="replace")
            check(p.returncode == rc and line in err.splitlines(),
                  "%s -t with a 3072-bit RSA host key under RequiredRSASize "
                  "4096: rc %s, want %s and %r: %r"
                  % (who, p.returncode, rc, line, err))
    ctx.start_server(extra_config=["HostKey %s" % rsa,
                                   "RequiredRSASize 4096"])
    r = ctx.ssh(u, "echo ok", extra=["-o", "HostKeyAlgorithms=rsa-sha2-512"])
    check(r.rc == 255 and ctx.wait_log(
        r"no matching host key type found\. Their offer: rsa-sha2-512 ", 5),
        "the short RSA host key was served: rc %s %s" % (r.rc, r.err))
    _login_with(ctx, u, "ssh-ed25519")
    check(ctx.wait_log("^" + re.escape(line) + "$", 5),
          "no %r line from the server" % line)


def test_host_key_algorithms_order_and_filter(ctx):
    """The offer follows HostKeyAlgorithms: only the listed algorithms of
    the loaded keys, in the configured order."""
    u = ctx.make_user()
    keys = _host_keys(ctx)
    ctx.start_server(extra_config=[
        "HostKey %s" % k for k in keys[1:]] + [
        "HostKeyAlgorithms rsa-sha2-256,ssh-ed25519"])
    r = ctx.ssh(u, "echo ok", extra=(
        "-o", "HostKeyAlgorithms=rsa-sha2-512,ecdsa-sha2-nistp256"))
    check(r.rc != 0, "rsa-sha2-512 and ECDSA must not be offered")
    r = ctx.ssh(u, "echo ok", verbose=True, extra=("-vv",))
    m = re.search(r"peer server KEXINIT proposal.*?host key algorithms: "
                  r"(\S+)", r.err, re.S)
    check(m is not None, "client -vv output without the server's proposal")
    check(m.group(1) == "rsa-sha2-256,ssh-ed25519",
          "server offered %s" % m.group(1))


def test_bad_permissions_refused(ctx):
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    os.chmod(rsa, 0o644)
    ctx.start_server(extra_config=["HostKey %s" % rsa])
    check(ctx.wait_log(r"Permissions 0644 for '%s' are too open\."
                       % re.escape(rsa)),
          "no 'too open' line for a 0644 key")
    # sshd's banner, exactly: a box of 59 '@' around its warning line.
    rule = "@" * 59
    check(ctx.wait_log(r"^%s\n@ {9}WARNING: UNPROTECTED "
                       r"PRIVATE KEY FILE! {10}@\n%s$" % (rule, rule)),
          "the UNPROTECTED PRIVATE KEY FILE banner is not sshd's")
    check(ctx.wait_log(r'Unable to load host key "%s": bad permissions'
                       % re.escape(rsa)),
          "no 'Unable to load host key' line")
    r = ctx.ssh(u, "echo ok", extra=("-o", "HostKeyAlgorithms=rsa-sha2-512"))
    check(r.rc != 0, "a key with bad permissions was used")
    # The ed25519 key still serves.
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


def test_host_key_errors_under_loglevel_quiet(ctx):
    """As sshd, host keys load before the file's LogLevel applies: with
    LogLevel QUIET (or FATAL) in the file, -t and a start still say which
    key did not load and why nothing serves (review: posternd exited 1
    without a word; checked against sshd 9.2); -o LogLevel=QUIET quiets
    them, as sshd's."""
    missing = os.path.join(ctx.dir, "no_such_key")
    cfg = os.path.join(ctx.dir, "quiet_config")
    for level in ("QUIET", "FATAL"):
        with open(cfg, "w") as f:
            f.write("LogLevel %s\nHostKey %s\nHostKey %s\nPidFile %s/q.pid\n"
                    % (level, missing, ctx.host_key, ctx.dir))
        r = run([ctx.server_path, "-t", "-f", cfg], check_rc=False)
        check(r.returncode == 0 and "Unable to load host key: %s\r\n"
              % missing in r.stderr.decode(),
              "-t under LogLevel %s: %r" % (level, r.stderr))
        with open(cfg, "w") as f:
            f.write("LogLevel %s\nHostKey %s\nPidFile %s/q.pid\nPort %d\n"
                    "ListenAddress 127.0.0.1\n"
                    % (level, missing, ctx.dir, free_port()))
        r = run([ctx.server_path, "-D", "-e", "-f", cfg], check_rc=False)
        err = r.stderr.decode()
        check(r.returncode == 1 and "Unable to load host key: %s\r\n"
              % missing in err and "sshd: no hostkeys available -- exiting." in err,
              "start under LogLevel %s: rc %s %r"
              % (level, r.returncode, err))
    r = run([ctx.server_path, "-t", "-f", cfg, "-o", "LogLevel=QUIET"],
            check_rc=False)
    check(r.returncode == 1 and r.stderr == b"",
          "-o LogLevel=QUIET: rc %s %r" % (r.returncode, r.stderr))


def test_dsa_host_key_left_out_quietly(ctx):
    """An upgraded host's HostKey line for its DSA key (openssh-key-v1 or
    PEM): sshd 9.2 loads it without a word and offers it only when told
    to; postern, which has no DSA, leaves it out with one VERBOSE line,
    not 'Unable to load host key' errors at every start and connection
    (review); the other keys serve."""
    u = ctx.make_user()
    dsa = os.path.join(ctx.dir, "host_dsa")
    pem = os.path.join(ctx.dir, "host_dsa_pem")
    run(["ssh-keygen", "-q", "-t", "dsa", "-N", "", "-f", dsa])
    run(["ssh-keygen", "-q", "-t", "dsa", "-N", "", "-m", "PEM", "-f", pem])
    os.unlink(pem + ".pub")  # PEM says DSA by itself
    ctx.start_server(extra_config=["HostKey %s" % dsa, "HostKey %s" % pem,
                                   "LogLevel VERBOSE"])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    for path in (dsa, pem):
        check(ctx.wait_log(r'^Not offering host key "%s" \(ssh-dss\): '
                           r"postern has no DSA$" % re.escape(path), 5),
              "no 'Not offering host key' line for %s" % path)
    check(not ctx.wait_log(r"Unable to load host key", 1),
          "a DSA host key was reported as an error")


def test_mismatched_pub_named(ctx):
    """A HostKey whose .pub is another key's: sshd 9.2 says so (`Public
    key for FILE does not match private key`) and serves the private
    key; posternd said nothing (review). -t prints what sshd -t does."""
    sshd = harness.openssh_sshd()
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 2048, "PEM")
    other = _keygen(ctx, "other_rsa", "rsa", 2048)
    with open(rsa + ".pub", "rb") as f:
        real = f.read()
    with open(other + ".pub", "rb") as f, open(rsa + ".pub", "wb") as g:
        g.write(f.read())
    cfg = os.path.join(ctx.dir, "mm.conf")
    with open(cfg, "w") as f:
        f.write("HostKey %s\nHostKey %s\n" % (rsa, ctx.host_key))
    line = "Public key for %s does not match private key" % rsa
    for srv in (ctx.server_path, sshd):
        r = run([srv, "-t", "-f", cfg], check_rc=False)
        check(r.returncode == 0 and r.stderr == (line + "\r\n").encode(),
              "%s -t: rc %s %r" % (srv, r.returncode, r.stderr))
    ctx.start_server(extra_config=["HostKey %s" % rsa])
    check(ctx.wait_log("^%s$" % re.escape(line), 5),
          "no %r line from the server" % line)
    with open(rsa + ".pub", "wb") as g:
        g.write(real)
    _login_with(ctx, u, "rsa-sha2-512", _known_hosts(ctx, "kh", [rsa]))


def test_encrypted_host_key_refused(ctx):
    u = ctx.make_user()
    path = os.path.join(ctx.dir, "host_enc")
    run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "secret", "-m", "PEM",
         "-f", path])
    ctx.start_server(extra_config=["HostKey %s" % path])
    check(ctx.wait_log(r'Unable to load host key "%s": key is encrypted '
                       r'\(only unencrypted keys are read\)$'
                       % re.escape(path)),
          "an encrypted host key was not reported as encrypted")
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


def _host_cert(ctx, key, principals="127.0.0.1"):
    ca = _keygen(ctx, "host_ca", "ed25519")
    run(["ssh-keygen", "-q", "-s", ca, "-I", "hostcert", "-h",
         "-n", principals, key + ".pub"])
    return ca, key + "-cert.pub"


def _cert_authority_kh(ctx, ca):
    kh = os.path.join(ctx.dir, "kh_ca")
    with open(ca + ".pub") as f:
        t, b = f.read().split()[:2]
    with open(kh, "w") as f:
        f.write("@cert-authority [127.0.0.1]:%d %s %s\n" % (ctx.port, t, b))
    return kh


def test_rsa_host_certificate(ctx):
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    ca, cert = _host_cert(ctx, rsa)
    ctx.start_server(extra_config=["HostKey %s" % rsa,
                                   "HostCertificate %s" % cert])
    kh = _cert_authority_kh(ctx, ca)
    for alg in ("rsa-sha2-512-cert-v01@openssh.com",
                "rsa-sha2-256-cert-v01@openssh.com"):
        _login_with(ctx, u, alg, kh)


def test_ecdsa_host_certificate(ctx):
    u = ctx.make_user()
    ec = _keygen(ctx, "host_ecdsa", "ecdsa", 384, "PEM")
    ca, cert = _host_cert(ctx, ec)
    ctx.start_server(extra_config=["HostKey %s" % ec,
                                   "HostCertificate %s" % cert])
    kh = _cert_authority_kh(ctx, ca)
    _login_with(ctx, u, "ecdsa-sha2-nistp384-cert-v01@openssh.com", kh)


def test_host_certificate_read_as_sshd(ctx):
    """HostCertificate files as sshd 9.2's sshkey_load_public reads them:
    a name without its .pub suffix loads FILE.pub (review: posternd said
    `No such file or directory` and served no certificate); a private key
    file is `not a certificate`; a later certificate of the same key
    replaces the earlier one, quietly (a renewal added below the old
    line is served); -t says what sshd -t says."""
    sshd = harness.openssh_sshd()
    u = ctx.make_user()
    ca, cert = _host_cert(ctx, ctx.host_key)
    renewed = os.path.join(ctx.dir, "renewed-cert.pub")
    os.rename(cert, renewed)
    run(["ssh-keygen", "-q", "-s", ca, "-I", "old", "-h", "-n",
         "127.0.0.1", ctx.host_key + ".pub"])
    junk = os.path.join(ctx.dir, "junk")
    with open(junk, "w") as f:
        f.write("not a key\n")
    cfg = os.path.join(ctx.dir, "hc.conf")
    with open(cfg, "w") as f:
        f.write("HostKey %s\n" % ctx.host_key + "".join(
            "HostCertificate %s\n" % c for c in (
                cert[:-len(".pub")], ctx.host_key, junk, ctx.dir,
                renewed)))
    got = [run([srv, "-t", "-f", cfg], check_rc=False)
           for srv in (ctx.server_path, sshd)]
    check(got[0].returncode == got[1].returncode == 0 and
          got[0].stderr == got[1].stderr,
          "posternd -t said %r, sshd -t %r" % (got[0].stderr,
                                              got[1].stderr))
    ctx.start_server(extra_config=["HostCertificate %s" % cert[:-4],
                                   "HostCertificate %s" % renewed])
    check(not ctx.wait_log(r"Could not load|duplicate", 1),
          "a certificate was refused:\n%s" % ctx.server_log())
    _check_cert_served(ctx, renewed, "the renewed certificate")
    _login_with(ctx, u, "ssh-ed25519-cert-v01@openssh.com",
                _cert_authority_kh(ctx, ca))


def test_host_certificate_of_first_host_key_served(ctx):
    """Two keys of one type, each with a certificate: as sshd 9.2, the
    certificate served is the one of the first HostKey line, whatever the
    order of the HostCertificate lines (review: posternd served the first
    HostCertificate line's, another key's certificate than sshd's)."""
    harness.openssh_sshd()
    ed2 = _keygen(ctx, "host_ed2", "ed25519")
    ca, cert1 = _host_cert(ctx, ctx.host_key)
    run(["ssh-keygen", "-q", "-s", ca, "-I", "second", "-h", "-n",
         "127.0.0.1", ed2 + ".pub"])
    ctx.start_server(extra_config=["HostKey %s" % ed2,
                                   "HostCertificate %s-cert.pub" % ed2,
                                   "HostCertificate %s" % cert1])
    _check_cert_served(ctx, cert1, "the first HostKey's certificate")


def _check_cert_served(ctx, cert, what):
    """ssh-keyscan -c finds the certificate in file cert served."""
    r = run(["ssh-keyscan", "-c", "-p", str(ctx.port), "127.0.0.1"],
            check_rc=False)
    with open(cert) as f:
        want = f.read().split()[1]
    check(want.encode() in r.stdout, "%s is not served: %r" % (what,
                                                                r.stdout))


def _update_host_keys(ctx, u, known_hosts, extra=()):
    """A login with UpdateHostKeys=yes (and extra options) that must
    succeed: (the client's Result, known_hosts as it left it)."""
    r = _ssh_kh(ctx, u, known_hosts, ("-o", "UpdateHostKeys=yes") + extra)
    check(r.rc == 0 and r.stdout == b"ok\n",
          "login failed: rc %s %s" % (r.rc, r.err[-400:]))
    with open(known_hosts) as f:
        return r, f.read()


def test_update_host_keys_learns_all(ctx):
    """hostkeys-00 / hostkeys-prove-00: a client that knows only the
    ed25519 key learns the ECDSA and RSA keys, each proven by the monitor
    over this connection's session id."""
    u = ctx.make_user()
    ec = _keygen(ctx, "host_ecdsa", "ecdsa", 256)
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    ctx.start_server(extra_config=["HostKey %s" % ec, "HostKey %s" % rsa])
    kh = _known_hosts(ctx, "kh_update", [ctx.host_key])
    r, text = _update_host_keys(ctx, u, kh)
    for k in (ctx.host_key, ec, rsa):
        check(_pub(k) in text, "known_hosts lacks %s after UpdateHostKeys:"
              "\n%s\nclient:\n%s" % (os.path.basename(k), text,
                                     r.err[-1500:]))
    # Each learned key works on its own now.
    for alg in ("ecdsa-sha2-nistp256", "rsa-sha2-256"):
        _login_with(ctx, u, alg, kh)


def test_update_host_keys_second_key_of_a_type(ctx):
    """Key rotation as ssh_config(5) UpdateHostKeys describes it: a second
    key of a type already served (ed25519, RSA) is loaded too, as by sshd
    9.2, without an error; the first of each type signs the exchange, and
    a client that knows only the first learns the second through
    hostkeys-00 / hostkeys-prove-00 (review: posternd logged `Ignoring
    duplicate host key type` and never offered the new key)."""
    u = ctx.make_user()
    ed2 = _keygen(ctx, "host_ed2", "ed25519")
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    rsa2 = _keygen(ctx, "host_rsa2", "rsa", 2048, "PEM")
    ctx.start_server(extra_config=["HostKey %s" % k
                                   for k in (ed2, rsa, rsa2)])
    check(not ctx.wait_log(r"duplicate", 1),
          "a second key of a type was refused:\n%s" % ctx.server_log())
    kh = _known_hosts(ctx, "kh_rot", [ctx.host_key, rsa])
    r, text = _update_host_keys(ctx, u, kh, (
        "-o", "HostKeyAlgorithms=ssh-ed25519,rsa-sha2-512"))
    for k in (ed2, rsa2):
        check(_pub(k) in text, "known_hosts did not learn %s:\n%s\n%s"
              % (os.path.basename(k), text, r.err[-1500:]))
    # The first key of each type still signs the exchange.
    for alg, k in (("ssh-ed25519", ctx.host_key), ("rsa-sha2-256", rsa)):
        _login_with(ctx, u, alg, _known_hosts(ctx, "kh1_" + alg, [k]))


def test_update_host_keys_in_host_key_order(ctx):
    """hostkeys-00 lists the keys in HostKey order, as sshd 9.2 does, so
    a client's known_hosts learns them in that order (review: posternd
    listed a second key of a type after the other offered types, and the
    client wrote RSA before the second ed25519 key)."""
    u = ctx.make_user()
    ed2 = _keygen(ctx, "host_ed2", "ed25519")
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    ctx.start_server(extra_config=["HostKey %s" % k for k in (ed2, rsa)])
    kh = _known_hosts(ctx, "kh_order", [ctx.host_key])
    r, text = _update_host_keys(ctx, u, kh, (
        "-o", "HostKeyAlgorithms=ssh-ed25519,rsa-sha2-512"))
    pos = [text.find(_pub(k)) for k in (ctx.host_key, ed2, rsa)]
    check(-1 not in pos and pos == sorted(pos),
          "known_hosts is not in HostKey order (ed25519, ed2, rsa):\n%s"
          % text)


def test_twenty_host_keys_all_loaded(ctx):
    """20 HostKey lines (a rotation kept over years, one key per host
    alias): sshd 9.2 loads them all; posternd did too only up to 16
    (review: `Too many host keys; ignoring` for the rest, and their
    certificates had `No matching private key`). A client that knows the
    first learns the other 19 through hostkeys-00 / hostkeys-prove-00."""
    u = ctx.make_user()
    keys = [_keygen(ctx, "host_ed%02d" % i, "ed25519") for i in range(19)]
    ca, cert = _host_cert(ctx, keys[-1])
    ctx.start_server(extra_config=["HostKey %s" % k for k in keys] +
                     ["HostCertificate %s" % cert])
    check(not ctx.wait_log(r"Too many|No matching", 1),
          "host keys were left out:\n%s" % ctx.server_log())
    kh = _known_hosts(ctx, "kh_20", [ctx.host_key])
    r, text = _update_host_keys(ctx, u, kh,
                                ("-o", "HostKeyAlgorithms=ssh-ed25519"))
    missing = [os.path.basename(k) for k in keys if _pub(k) not in text]
    check(not missing, "known_hosts did not learn %s:\n%s"
          % (missing, r.err[-1500:]))


def test_hostkeys_prove_rsa_under_rsa_kex(ctx):
    """The proof for an RSA key uses the RSA algorithm the exchange was
    signed with (the client insists on it)."""
    u = ctx.make_user()
    rsa = _keygen(ctx, "host_rsa", "rsa", 3072)
    ec = _keygen(ctx, "host_ecdsa", "ecdsa", 521, "PKCS8")
    ctx.start_server(extra_config=["HostKey %s" % rsa, "HostKey %s" % ec])
    kh = _known_hosts(ctx, "kh_rsa", [rsa])
    r = _ssh_kh(ctx, u, kh, (
        "-o", "UpdateHostKeys=yes",
        # The client learns only the types this list accepts.
        "-o", "HostKeyAlgorithms=rsa-sha2-256,ssh-ed25519,"
        "ecdsa-sha2-nistp521"))
    check(r.rc == 0, "login failed: rc %s %s" % (r.rc, r.err[-400:]))
    check("kex: host key algorithm: rsa-sha2-256" in r.err,
          "rsa-sha2-256 was not negotiated")
    with open(kh) as f:
        text = f.read()
    check(_pub(ec) in text and _pub(ctx.host_key) in text,
          "known_hosts did not learn the other keys:\n%s\n%s"
          % (text, r.err[-1500:]))


GEX = "diffie-hellman-group-exchange-sha256"
# Not in the default KexAlgorithms (like group14: 2048-bit groups).
GEX_ON = "KexAlgorithms +" + GEX


def _gex_login(ctx, u, cipher="aes128-gcm@openssh.com", kex=GEX):
    # aes128-gcm makes the client ask for n = 3072 bits (min 2048).
    r = ctx.ssh(u, "echo ok", verbose=True, extra=(
        "-o", "KexAlgorithms=" + kex, "-o", "Ciphers=" + cipher))
    check(r.rc == 0 and r.stdout == b"ok\n",
          "GEX login failed: rc %s %s" % (r.rc, r.err[-400:]))
    check("kex: algorithm: %s" % kex in r.err, "GEX was not negotiated")
    check("SSH2_MSG_KEX_DH_GEX_REPLY received" in r.err,
          "the client did not see a group exchange")
    return r


def test_gex_system_moduli(ctx):
    check(os.path.exists("/etc/ssh/moduli"), "no /etc/ssh/moduli here")
    u = ctx.make_user()
    ctx.start_server(extra_config=[GEX_ON])
    _gex_login(ctx, u)
    check(ctx.wait_log(r"DH_GEX_REQUEST received: 2048 <= 3072 <= 8192; "
                       r"sending a 3072-bit group"),
          "the server did not pick a 3072-bit group")
    check("using fixed modulus" not in ctx.server_log(),
          "the system moduli file was not used")


def test_gex_moduli_file_choice(ctx):
    """ModuliFile with one 4096-bit group: the client's 3072 gets it (the
    built-in choice would be 3072 bits)."""
    u = ctx.make_user()
    line = None
    with open("/etc/ssh/moduli") as f:
        for l in f:
            if l.split()[4:5] == ["4095"]:
                line = l
                break
    check(line is not None, "no 4096-bit group in /etc/ssh/moduli")
    path = os.path.join(ctx.dir, "moduli")
    with open(path, "w") as f:
        f.write("# test moduli\n" + line)
    ctx.start_server(extra_config=["ModuliFile %s" % path, GEX_ON])
    _gex_login(ctx, u)
    check(ctx.wait_log(r"sending a 4096-bit group"),
          "the group of ModuliFile was not used")


def test_gex_fallback_when_moduli_missing(ctx):
    u = ctx.make_user()
    missing = os.path.join(ctx.dir, "no-such-moduli")
    ctx.start_server(extra_config=["ModuliFile %s" % missing, GEX_ON])
    _gex_login(ctx, u)
    check(ctx.wait_log(r"WARNING: could not open %s \(No such file or "
                       r"directory\), using fixed modulus"
                       % re.escape(missing)),
          "the fallback to a built-in group was not logged")
    check(ctx.wait_log(r"sending a 3072-bit group"),
          "the built-in 3072-bit group was not used")


def test_gex_rekey(ctx):
    """Rekeying with the group exchange in the session process: the monitor
    answers its group requests too."""
    u = ctx.make_user()
    ctx.start_server(extra_config=[GEX_ON])
    data = os.urandom(3 * 1024 * 1024)
    r = ctx.ssh(u, "cat", input=data, extra=(
        "-o", "KexAlgorithms=" + GEX, "-o", "RekeyLimit=1M"))
    check(r.rc == 0 and r.stdout == data,
          "transfer across GEX rekeys failed: rc %s %s"
          % (r.rc, r.err[-300:]))
    n = len(re.findall(r"DH_GEX_REQUEST received", ctx.server_log()))
    check(n >= 3, "expected several group exchanges, saw %d" % n)


def test_postern_keygen(ctx):
    """postern-keygen creates the missing ed25519, ECDSA P-256 and RSA 3072
    host keys (0600, .pub 0644) that ssh-keygen reads and posternd serves;
    a second run changes nothing."""
    keygen = os.path.join(os.path.dirname(ctx.server_path), "postern-keygen")
    d = os.path.join(ctx.dir, "keys")
    os.mkdir(d)
    p = run([keygen, "-d", d])
    check(b"generating new host keys: ED25519 ECDSA RSA" in p.stdout,
          "postern-keygen said: %r" % p.stdout)
    want = {"ssh_host_ed25519_key": ("ED25519", 256),
            "ssh_host_ecdsa_key": ("ECDSA", 256),
            "ssh_host_rsa_key": ("RSA", 3072)}
    before = {}
    for name, (kind, bits) in want.items():
        path = os.path.join(d, name)
        check(os.stat(path).st_mode & 0o777 == 0o600,
              "%s mode %o" % (name, os.stat(path).st_mode & 0o777))
        check(os.stat(path + ".pub").st_mode & 0o777 == 0o644,
              "%s.pub mode %o" % (name, os.stat(path + ".pub").st_mode))
        out = run(["ssh-keygen", "-l", "-f", path]).stdout.decode()
        check(out.startswith("%d SHA256:" % bits) and
              out.rstrip().endswith("(%s)" % kind),
              "ssh-keygen -l -f %s: %s" % (name, out))
        # The private part is what the .pub says.
        derived = run(["ssh-keygen", "-y", "-f", path]).stdout.split()[:2]
        with open(path + ".pub", "rb") as f:
            check(f.read().split()[:2] == derived,
                  "%s: the private key does not match its .pub" % name)
        with open(path, "rb") as f:
            before[name] = f.read()
    p = run([keygen, "-d", d])
    check(p.stdout == b"", "second run generated keys: %r" % p.stdout)
    for name in want:
        with open(os.path.join(d, name), "rb") as f:
            check(f.read() == before[name], "%s was rewritten" % name)
    # posternd serves all three.
    u = ctx.make_user()
    keys = [os.path.join(d, n) for n in want]
    text = ctx.write_config().replace(
        "HostKey %s\n" % ctx.host_key,
        "".join("HostKey %s\n" % k for k in keys))
    with open(ctx.config_path, "w") as f:
        f.write(text)
    ctx.launch_server()
    for alg, k in (("ssh-ed25519", keys[0]), ("ecdsa-sha2-nistp256", keys[1]),
                   ("rsa-sha2-512", keys[2])):
        _login_with(ctx, u, alg, _known_hosts(ctx, "kh_" + alg, [k]))


def _raw_packet(payload):
    pad = 8 - (len(payload) + 5) % 8
    if pad < 4:
        pad += 8
    return (struct.pack(">IB", len(payload) + pad + 1, pad) + payload +
            b"\0" * pad)


def _raw_read_packet(sock):
    def exact(n):
        b = b""
        while len(b) < n:
            c = sock.recv(n - len(b))
            check(c, "server closed the connection")
            b += c
        return b
    length, pad = struct.unpack(">IB", exact(5))
    return exact(length - 1)[:length - 1 - pad]


def _s(b):
    return struct.pack(">I", len(b)) + b


def _gex_request(ctx, mn, n, mx):
    """KEXINIT for GEX, then DH_GEX_REQUEST min, n, max; returns the
    server's answer: the message, or None if it closed the connection."""
    sock = ctx.raw_connect()
    sock.sendall(b"SSH-2.0-gextest\r\n")
    banner = b""
    while not banner.endswith(b"\n"):
        c = sock.recv(1)
        check(c, "no server identification")
        banner += c
    kexinit = (bytes([20]) + os.urandom(16) + _s(GEX.encode()) +
               _s(b"ssh-ed25519") + _s(b"chacha20-poly1305@openssh.com") * 2 +
               _s(b"hmac-sha2-256-etm@openssh.com") * 2 + _s(b"none") * 2 +
               _s(b"") * 2 + b"\0" + b"\0\0\0\0")
    sock.sendall(_raw_packet(kexinit))
    check(_raw_read_packet(sock)[0] == 20, "no KEXINIT from the server")
    sock.sendall(_raw_packet(bytes([34]) + struct.pack(">III", mn, n, mx)))
    try:
        return _raw_read_packet(sock)
    except harness.TestFailure:
        return None
    finally:
        sock.close()


def test_gex_request_out_of_range(ctx):
    """As sshd: a request whose range misses 2048..8192 bits (max below
    2048, as ssh-audit probes; min above 8192; all zero; huge) ends the
    connection with sshd's log line, never a group outside the range;
    2048..2048 and 8192..8192 get their group."""
    ctx.start_server(extra_config=[GEX_ON])
    rx = re.compile(r"^ssh_dispatch_run_fatal: Connection from 127\.0\.0\.1 "
                    r"port \d+: DH GEX group out of range \[preauth\]$", re.M)
    bad = ((512, 1024, 1536), (1024, 1024, 1024), (0, 0, 0),
           (9000, 9000, 9000), (2 ** 32 - 1,) * 3)
    for i, (mn, n, mx) in enumerate(bad):
        reply = _gex_request(ctx, mn, n, mx)
        check(reply is None or reply[0] == 1,
              "request %d/%d/%d: the server answered with message %d, not "
              "a disconnect" % (mn, n, mx, reply[0]))
        check(harness.poll_until(
            lambda: len(rx.findall(ctx.server_log())) == i + 1, 10),
              "request %d/%d/%d: sshd's log line is missing" % (mn, n, mx))
    for bits in (2048, 8192):
        reply = _gex_request(ctx, bits, bits, bits)
        check(reply is not None and reply[0] == 31,
              "request %d: no DH_GEX_GROUP" % bits)
        plen = struct.unpack(">I", reply[1:5])[0]
        p = int.from_bytes(reply[5:5 + plen], "big")
        check(p.bit_length() == bits, "request %d: got a %d-bit group"
              % (bits, p.bit_length()))
    check("bad message" not in ctx.server_log(),
          "the monitor refused a request")
    check(ctx.server_alive(), "server exited")


def test_default_host_keys_leave_out_ecdsa(ctx):
    """With no HostKey line posternd loads /etc/ssh's RSA and ed25519 keys
    but not the ECDSA one (stricter than sshd), and says so."""
    for t in ("rsa", "ecdsa", "ed25519"):
        check(os.path.exists("/etc/ssh/ssh_host_%s_key" % t),
              "/etc/ssh/ssh_host_%s_key missing (openssh-server installs "
              "it)" % t)
    u = ctx.make_user()
    text = ctx.write_config().replace("HostKey %s\n" % ctx.host_key, "")
    with open(ctx.config_path, "w") as f:
        f.write(text)
    ctx.launch_server()
    for alg, t in (("ssh-ed25519", "ed25519"), ("rsa-sha2-512", "rsa")):
        kh = os.path.join(ctx.dir, "kh_default_" + t)
        with open("/etc/ssh/ssh_host_%s_key.pub" % t) as f:
            k = f.read().split()[:2]
        with open(kh, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (ctx.port, k[0], k[1]))
        _login_with(ctx, u, alg, kh)
    r = ctx.ssh(u, "echo ok",
                extra=("-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256,"
                       "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"))
    check(r.rc != 0, "the default ECDSA host key was offered")
    check(ctx.wait_log(r'Not offering host key "/etc/ssh/ssh_host_ecdsa_key" '
                       r"\(ecdsa-sha2-nistp\d+\)"),
          "no line about the ECDSA key left out")


def test_gex_only_when_configured(ctx):
    """The group exchange is not offered by default; -sha1 works only when
    KexAlgorithms names it."""
    u = ctx.make_user()
    ctx.start_server()
    r = ctx.ssh(u, "echo ok", extra=("-o", "KexAlgorithms=" + GEX))
    check(r.rc != 0, "GEX was offered by default")
    check(ctx.wait_log(r"no matching key exchange method found"),
          "the refusal was not logged")
    ctx.stop_server()
    ctx.start_server(extra_config=[
        "KexAlgorithms +diffie-hellman-group-exchange-sha1"])
    _gex_login(ctx, u, kex="diffie-hellman-group-exchange-sha1")
