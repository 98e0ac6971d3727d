"""
test_query.py: posternd -Q lists what postern supports, one name per
line, as ssh -Q does; every cipher, MAC and key exchange it lists works
with the real OpenSSH client when the client supports it (configured in:
some are not in the default lists).
"""

import os
import re
import subprocess

from harness import check


def _q(ctx, what):
    r = subprocess.run([ctx.server_path, "-Q", what], capture_output=True,
                       text=True, timeout=10)
    return r.returncode, r.stdout.split(), r.stderr


def test_query_lists(ctx):
    rc, ciphers, _ = _q(ctx, "cipher")
    check(rc == 0 and "chacha20-poly1305@openssh.com" in ciphers and
          "aes256-gcm@openssh.com" in ciphers, "-Q cipher: %s" % ciphers)
    rc, kex, _ = _q(ctx, "kex")
    check(rc == 0 and "curve25519-sha256" in kex and
          "sntrup761x25519-sha512@openssh.com" in kex, "-Q kex: %s" % kex)
    rc, keys, _ = _q(ctx, "key")
    check(rc == 0 and "ssh-ed25519" in keys and "ssh-rsa" in keys,
          "-Q key: %s" % keys)
    rc, certs, _ = _q(ctx, "key-cert")
    check(rc == 0 and "ssh-ed25519-cert-v01@openssh.com" in certs and
          "sk-ssh-ed25519-cert-v01@openssh.com" in certs and
          "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com" in certs,
          "-Q key-cert: %s" % certs)
    rc, sigs, _ = _q(ctx, "sig")
    check(rc == 0 and "webauthn-sk-ecdsa-sha2-nistp256@openssh.com" in sigs
          and "rsa-sha2-512" in sigs and "ssh-dss" not in sigs,
          "-Q sig: %s" % sigs)
    rc, macs, _ = _q(ctx, "mac")
    check(rc == 0 and "hmac-sha2-256-etm@openssh.com" in macs and
          "umac-128@openssh.com" in macs and "hmac-sha1" in macs,
          "-Q mac: %s" % macs)
    rc, comp, _ = _q(ctx, "compression")
    check(rc == 0 and comp == ["none", "zlib@openssh.com", "zlib"],
          "-Q compression: %s" % comp)
    rc, _, err = _q(ctx, "no-such-thing")
    check(rc != 0 and "Unsupported query" in err, "bad -Q accepted")


def test_query_matches_what_works(ctx):
    client_c = subprocess.run(["ssh", "-Q", "cipher"], capture_output=True,
                              text=True).stdout.split()
    client_k = subprocess.run(["ssh", "-Q", "kex"], capture_output=True,
                              text=True).stdout.split()
    client_m = subprocess.run(["ssh", "-Q", "mac"], capture_output=True,
                              text=True).stdout.split()
    u = ctx.make_user()
    ctx.start_server(["KexAlgorithms " + ",".join(_q(ctx, "kex")[1]),
                      "MACs " + ",".join(_q(ctx, "mac")[1])])
    for c in _q(ctx, "cipher")[1]:
        if c in client_c:
            r = ctx.ssh(u, "echo ok", extra=("-c", c))
            check(r.rc == 0 and r.stdout == b"ok\n",
                  "-Q lists cipher %s but a login with it failed" % c)
    for k in _q(ctx, "kex")[1]:
        if k in client_k:
            r = ctx.ssh(u, "echo ok", extra=("-o", "KexAlgorithms=" + k))
            check(r.rc == 0 and r.stdout == b"ok\n",
                  "-Q lists kex %s but a login with it failed" % k)
    for m in _q(ctx, "mac")[1]:
        if m in client_m:
            r = ctx.ssh(u, "echo ok", extra=("-c", "aes256-ctr",
                                             "-o", "MACs=" + m))
            check(r.rc == 0 and r.stdout == b"ok\n",
                  "-Q lists MAC %s but a login with it failed" % m)


def test_version_flag(ctx):
    """-V, as sshd -V: the version and OpenSSL's on standard error, exit
    0, nothing on standard output."""
    r = subprocess.run([ctx.server_path, "-V"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 0 and r.stdout == "" and
          re.fullmatch(r"postern_\d+\.\d+, OpenSSL \d+\.\d+\.\d+.*\n",
                       r.stderr), "-V: rc %d %r %r"
          % (r.returncode, r.stdout, r.stderr))


def test_too_many_options_refused(ctx):
    """More -p, -h or -o options than posternd keeps: an error naming the
    option, not a silently dropped one."""
    ctx.write_config()
    for flag, n, arg in (("-p", 17, lambda i: str(2000 + i)),
                         ("-h", 17, lambda i: "/nonexistent/%d" % i),
                         ("-o", 65, lambda i: "MaxSessions %d" % (i + 1))):
        argv = [ctx.server_path, "-t", "-f", ctx.config_path]
        for i in range(n):
            argv += [flag, arg(i)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        check(r.returncode != 0 and
              "too many %s options (at most %d)" % (flag, n - 1) in r.stderr,
              "%d %s options: rc %d %r" % (n, flag, r.returncode, r.stderr))


def test_legacy_flags_as_sshd(ctx):
    """The flags sshd 9.2 still takes and ignores (-b BITS, -k SECONDS:
    SSH protocol 1; -r: no re-exec) load as with sshd, and -u takes
    0..65 as sshd does ("Invalid utmp length." for 66; over 66 reads as
    0, as sshd's strtonum, checked side by side)."""
    ctx.write_config()
    base = [ctx.server_path, "-t", "-f", ctx.config_path]
    for extra in (["-b", "1024"], ["-k", "3600"], ["-r"], ["-u", "0"],
                  ["-u", "65"], ["-u", "abc"], ["-u", "67"],
                  ["-u", "100000"]):
        r = subprocess.run(base + extra, capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 0 and r.stderr == "",
              "%s: rc %d %r" % (" ".join(extra), r.returncode, r.stderr))
    r = subprocess.run(base + ["-u", "66"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 1 and r.stderr == "Invalid utmp length.\n",
          "-u 66: rc %d %r" % (r.returncode, r.stderr))


def test_cmdline_hostkey_path_as_given(ctx):
    """-h FILE is a file name as given, as sshd's servconf_add_hostkey()
    takes it: one with a space or '#' loads (posternd parsed it as a
    "HostKey FILE" line: 'extra arguments', exit 255), and -h and -o
    HostKey keys keep their command-line order, before the file's
    (checked side by side with sshd -T)."""
    import shutil
    ctx.write_config()
    odd = os.path.join(ctx.dir, "host keys")
    os.makedirs(odd, exist_ok=True)
    first = os.path.join(odd, "k#1")
    shutil.copy(ctx.host_key, first)
    os.chmod(first, 0o600)
    second = os.path.join(ctx.dir, "second_key")
    shutil.copy(ctx.host_key, second)
    os.chmod(second, 0o600)
    r = subprocess.run([ctx.server_path, "-T", "-f", ctx.config_path,
                        "-h", first, "-o", "HostKey " + second],
                       capture_output=True, text=True, timeout=10)
    keys = [ln[len("hostkey "):] for ln in r.stdout.splitlines()
            if ln.startswith("hostkey ")]
    check(r.returncode == 0 and r.stderr == "" and
          keys == [first, second, ctx.host_key],
          "-T -h %r: rc %d keys %r %r" % (first, r.returncode, keys,
                                           r.stderr))
