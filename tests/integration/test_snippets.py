"""
test_snippets.py: the sshd_config.d snippets people actually drop in
(hardening guides, benchmarks, cloud images, SFTP jails, 2FA), each under
Debian's own /etc/ssh/sshd_config (Include first, then Debian's lines),
read by posternd and by OpenSSH's sshd 9.2 side by side: `-t` agrees
(both accept, or both refuse and posternd names the file, line and
keyword), and `-T` (with `-C` for the Match snippets) prints the same
value for every keyword both print, except the differences listed in
DOCUMENTED below with their reasons; -t prints sshd's lines, word for
word (and posternd its own warnings only where a snippet names what
postern lacks, NOISY below). One more documented
difference has its own test: a second `Subsystem sftp` (sshd 9.2 refuses
it, posternd keeps the first, as OpenSSH 9.5+). Then real logins with
OpenSSH's client where the snippet's point is enforcement:
publickey-only refuses a password, root is denied, an sftponly group is
jailed in internal-sftp, an AuthenticationMethods chain needs both
steps, ssh-audit's algorithm lists are what is offered.

The snippets are written here as typical examples of each source (short,
as found on servers), not copied from any project.
"""

import os
import re
import subprocess

import harness
from harness import check, fail
from test_config_compat import SSHD, _dump, _setup

# Debian 12's /etc/ssh/sshd_config, without its comments: the Include
# comes first, so a snippet's value wins over Debian's (first value wins).
DEBIAN_BASE = """HostKey {key}
Include {dir}/sshd_config.d/*.conf
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem\tsftp\t/usr/lib/openssh/sftp-server
"""

_KEYS = ("sk-ssh-ed25519-cert-v01@openssh.com,"
         "ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,"
         "ssh-ed25519,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-512,"
         "rsa-sha2-256-cert-v01@openssh.com,rsa-sha2-256")

# (name, {file name in sshd_config.d: text}, -C specs)
SNIPPETS = [
    # ssh-audit.com's Debian 12 server guide: one file of algorithm lists,
    # with Debian's GSSAPI key exchanges in KexAlgorithms.
    ("ssh_audit_debian12", {"ssh-audit_hardening.conf": """\
# Restrict key exchange, cipher, and MAC algorithms, as per sshaudit.com
# hardening guide.
KexAlgorithms sntrup761x25519-sha512@openssh.com,gss-curve25519-sha256-,\
curve25519-sha256,curve25519-sha256@libssh.org,gss-group16-sha512-,\
diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,\
diffie-hellman-group-exchange-sha256

Ciphers aes256-gcm@openssh.com,aes256-ctr,aes192-ctr,\
aes128-gcm@openssh.com,aes128-ctr

MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,\
umac-128-etm@openssh.com

RequiredRSASize 3072

HostKeyAlgorithms sk-ssh-ed25519-cert-v01@openssh.com,\
ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,\
rsa-sha2-256-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,ssh-ed25519,\
rsa-sha2-512,rsa-sha2-256

CASignatureAlgorithms sk-ssh-ed25519@openssh.com,ssh-ed25519,\
rsa-sha2-512,rsa-sha2-256

GSSAPIKexAlgorithms gss-curve25519-sha256-,gss-group16-sha512-

HostbasedAcceptedAlgorithms %s

PubkeyAcceptedAlgorithms %s
""" % (_KEYS, _KEYS)}, ()),
    # Mozilla's OpenSSH guidelines, "modern" server configuration.
    ("mozilla_modern", {"MAIN": """\
# Supported HostKey algorithms by order of preference (the test's own
# ed25519 key first: both servers load it).
HostKey {key}
HostKey /etc/ssh/ssh_host_rsa_key
HostKey /etc/ssh/ssh_host_ecdsa_key

KexAlgorithms curve25519-sha256@libssh.org,ecdh-sha2-nistp521,\
ecdh-sha2-nistp384,ecdh-sha2-nistp256,diffie-hellman-group-exchange-sha256

Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,\
aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr

MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,\
umac-128-etm@openssh.com,hmac-sha2-512,hmac-sha2-256,umac-128@openssh.com

# Password based logins are disabled - only public key based logins are
# allowed.
AuthenticationMethods publickey

# LogLevel VERBOSE logs user's key fingerprint on login.
LogLevel VERBOSE

# Log sftp level file access (read/write/etc.) that would not be easily
# logged otherwise.
Subsystem sftp  /usr/lib/ssh/sftp-server -f AUTHPRIV -l INFO

# Root login is not allowed for auditing reasons.
PermitRootLogin No

# Use kernel sandbox mechanisms where possible in unprivileged processes
UsePrivilegeSeparation sandbox
"""}, ()),
    # A CIS Debian 12 benchmark set (section 5.1), algorithm lists by
    # removal as the benchmark's remediation writes them.
    ("cis_debian12", {"60-cis.conf": """\
LogLevel VERBOSE
MaxAuthTries 4
IgnoreRhosts yes
HostbasedAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
PermitUserEnvironment no
ClientAliveInterval 15
ClientAliveCountMax 3
LoginGraceTime 60
MaxStartups 10:30:60
MaxSessions 10
Banner /etc/issue.net
DisableForwarding yes
GSSAPIAuthentication no
UsePAM yes
AllowGroups sshusers adm
DenyUsers nobody guest
DenyGroups nogroup
Ciphers -3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,\
chacha20-poly1305@openssh.com
MACs -hmac-md5,hmac-md5-96,hmac-ripemd160,hmac-sha1-96,\
umac-64@openssh.com,hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,\
hmac-ripemd160-etm@openssh.com,hmac-sha1-96-etm@openssh.com,\
umac-64-etm@openssh.com
KexAlgorithms -diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,\
diffie-hellman-group-exchange-sha1
"""}, ()),
    # The same done by hand: plain lists naming old algorithms, "+" for
    # an old client, "^" to prefer one.
    ("algos_plus_prefix", {"40-algos.conf": """\
Ciphers aes256-gcm@openssh.com,aes256-cbc,aes256-ctr
MACs ^hmac-sha2-512-etm@openssh.com
KexAlgorithms +diffie-hellman-group14-sha1
PubkeyAcceptedAlgorithms +ssh-rsa
HostKeyAlgorithms +ssh-rsa
CASignatureAlgorithms -ssh-rsa
"""}, ()),
    # Lists built by hand, one name per edit: a trailing or doubled comma
    # (sshd skips empty names).
    ("list_commas", {"40-keys.conf": """\
PubkeyAcceptedAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256,
HostKeyAlgorithms ssh-ed25519,,rsa-sha2-512
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,
"""}, ()),
    # cloud-init's drop-in, next to a Debian-shipped one.
    ("cloud_init", {"50-cloud-init.conf": "PasswordAuthentication no\n",
                    "60-local.conf": "PasswordAuthentication yes\n"
                    "PermitRootLogin prohibit-password\n"}, ()),
    # SFTP-only group, chrooted; its Match block ends with the file, so
    # the next file's lines are global again.
    ("sftponly", {"MAIN": DEBIAN_BASE.replace(
        "/usr/lib/openssh/sftp-server", "internal-sftp"),
                  "20-sftp.conf": """\
Match Group sftponly
    ChrootDirectory %h
    ForceCommand internal-sftp
    AllowTcpForwarding no
    X11Forwarding no
    PasswordAuthentication yes
""", "30-after.conf": "ClientAliveInterval 300\n"},
     ("user=root,host=h,addr=192.0.2.1",
      "user=nobody,host=h,addr=192.0.2.1")),
    ("backup_user", {"30-backup.conf": """\
Match User backup
\tForceCommand /usr/local/bin/backup-receive --dest /srv/backup
\tPermitTTY no
\tAllowAgentForwarding no
\tAllowTcpForwarding no
\tPermitOpen none
"""}, ("user=backup,host=h,addr=192.0.2.1",
       "user=alice,host=h,addr=192.0.2.1")),
    ("lan_passwords", {"40-lan.conf": """\
PasswordAuthentication no
Match Address 10.0.0.0/8,!10.1.2.3
    PasswordAuthentication yes
    PermitRootLogin prohibit-password
Match Address 192.168.0.0/16,fe80::/10 User admin,ops
    MaxAuthTries 10
"""}, ("user=alice,host=h,addr=10.4.5.6", "user=alice,host=h,addr=10.1.2.3",
       "user=alice,host=h,addr=203.0.113.9",
       "user=ops,host=h,addr=192.168.1.7",
       "user=bob,host=h,addr=192.168.1.7")),
    ("local_port", {"50-ports.conf": """\
Port 22
Port 2222
Match LocalPort 2222
    AuthenticationMethods publickey
    PasswordAuthentication no
    AllowUsers deploy
Match all
    MaxSessions 4
"""}, ("user=deploy,host=h,addr=192.0.2.1,lport=2222",
       "user=deploy,host=h,addr=192.0.2.1,lport=22",
       "user=alice,host=h,addr=192.0.2.1,lport=2222")),
    # Two-factor: key then PAM's prompts (Google Authenticator, Duo).
    ("twofactor_pam", {"70-2fa.conf": """\
AuthenticationMethods publickey,keyboard-interactive:pam
KbdInteractiveAuthentication yes
ChallengeResponseAuthentication yes
UsePAM yes
PasswordAuthentication no
"""}, ()),
    ("twofactor_alternatives", {"70-2fa.conf": """\
AuthenticationMethods publickey,password publickey,keyboard-interactive
Match User breakglass
    AuthenticationMethods publickey
"""}, ("user=breakglass,host=h,addr=192.0.2.1",
       "user=alice,host=h,addr=192.0.2.1")),
    # For fail2ban and sshguard: the key fingerprint and the auth facility.
    ("fail2ban", {"80-logging.conf": """\
SyslogFacility AUTH
LogLevel VERBOSE
MaxAuthTries 3
"""}, ()),
    # Numbered files: the lowest number that sets a keyword wins.
    ("include_order", {
        "00-site.conf": "PermitRootLogin no\nMaxAuthTries 3\n"
                        "AllowUsers alice bob\n",
        "10-team.conf": "PermitRootLogin yes\nMaxAuthTries 6\n"
                        "AllowUsers carol\nX11Forwarding no\n",
        "99-last.conf": "X11Forwarding yes\nLoginGraceTime 30\n"
                        "ClientAliveInterval 120\n",
        "90-disabled.conf.dpkg-old": "PermitRootLogin without-password\n",
        "README": "Files here ending .conf are read by sshd.\n"}, ()),
    # Hand-edited style: keyword case, '=' separators, quotes, comments,
    # indentation, trailing blanks, CRLF-free but tab-separated.
    ("syntax", {"20-style.conf": (
        "# comment line\n"
        "   # indented comment\n"
        "passwordauthentication NO   \n"
        "PERMITROOTLOGIN=prohibit-password\n"
        "MaxAuthTries = 5\n"
        "LoginGraceTime\t2m\n"
        "Banner \"/etc/issue.net\"\n"
        "AllowUsers 'alice' \"bob\"\n"
        "ClientAliveInterval 60 # not a comment for sshd? check\n"
        "X11forwarding no\t \n"
        "\n"
        "  UseDNS no\n")}, ()),
    # Edited on Windows: CRLF line ends, "=" and tabs, a blank line of
    # spaces, quotes around yes/no.
    ("crlf", {"10-windows.conf": (
        "PermitRootLogin=no\r\nMaxAuthTries\t=\t3\r\n   \r\n"
        "# admins only\r\nPasswordAuthentication \"no\"\r\n"
        "AllowUsers alice@192.168.1.* \"bob\"\r\n"
        "Match User *,!root Address 2001:db8::/32,192.0.2.0/24\r\n"
        "  ChrootDirectory /srv/sftp/%u\r\n"
        "  ForceCommand internal-sftp -d /upload -u 0002\r\n")},
     ("user=alice,host=h,addr=2001:db8::5", "user=root,host=h,addr=192.0.2.5",
      "user=bob,host=h,addr=198.51.100.7")),
    # Host keys in a snippet, one of them not generated on this host:
    # sshd says so and goes on with the others.
    ("hostkeys", {"05-hostkeys.conf": """\
HostKey {key}
HostKey {dir}/ssh_host_ecdsa_key
HostCertificate {dir}/ssh_host_ecdsa_key-cert.pub
"""}, ()),
    # Keywords of old configs: sshd 9.2 logs "Deprecated option" (or
    # nothing) and goes on.
    ("deprecated", {"05-legacy.conf": """\
Protocol 2
UsePrivilegeSeparation sandbox
KeyRegenerationInterval 3600
ServerKeyBits 1024
RSAAuthentication yes
RhostsRSAAuthentication no
UseLogin no
ChallengeResponseAuthentication no
"""}, ()),
    ("root_policy", {"10-root.conf": """\
PermitRootLogin no
Match Address 127.0.0.0/8
    PermitRootLogin forced-commands-only
"""}, ("user=root,host=h,addr=127.0.0.1", "user=root,host=h,addr=10.0.0.1")),
]

# Snippets both must refuse (a typo, a global keyword in a Match block),
# and the keyword posternd's message must name.
BAD_SNIPPETS = [
    ("typo", {"50-typo.conf": "PermitRootLogin no\n"
              "PasswordAuthentcation no\n"}, 2, "PasswordAuthentcation"),
    ("global_in_match", {"50-match.conf": "Match User x\n"
                         "    Port 2022\n"}, 2, "Port"),
    ("bad_value", {"50-value.conf": "# policy\nMaxAuthTries many\n"},
     2, "MaxAuthTries"),
    # sshd 9.2 takes exact names in these lists, patterns only after "-".
    ("algo_pattern", {"40-algos.conf": "Ciphers -*-cbc\n"
                      "MACs *-etm@openssh.com\n"}, 2, "Bad SSH2 mac spec"),
    # Saved by Notepad: a UTF-8 byte order mark before the first keyword.
    ("bom", {"50-windows.conf": "\ufeffPasswordAuthentication no\r\n"},
     1, "\\357\\273\\277PasswordAuthentication"),
    # Quoted, the two alternatives are one method name for sshd.
    ("quoted_methods", {"70-2fa.conf": 'AuthenticationMethods "publickey,'
                        'password publickey,keyboard-interactive"\n'},
     1, "AuthenticationMethods"),
]

# posternd's own -t warnings (docs/sshd_config.md): a keyword it ignores,
# an algorithm it does not implement. Only these snippets name such
# things; every other one must load as silently as with sshd.
POSTERN_WARNING = re.compile(
    r" line \d+: (Unsupported option \S+ \(not implemented by postern; "
    r"ignored\)|\S+ \S+ is not implemented by postern; left out)$")
NOISY = {
    # GSSAPIKexAlgorithms, HostbasedAcceptedAlgorithms; gss-* kex names.
    "ssh_audit_debian12",
    # aes256-cbc, diffie-hellman-group14-sha1.
    "algos_plus_prefix",
}

# What posternd prints differently, by -T keyword, and why.
DOCUMENTED = {
    # docs/sshd_config.md, Transport algorithms: postern's defaults are
    # stricter than sshd's, so a list made from the default ("-", "+",
    # "^" or none) differs; and names OpenSSH knows that postern does not
    # implement (CBC ciphers, MD5 and 96-bit MACs, group1/group14-sha1)
    # are accepted and left out of what it offers.
    "ciphers": "stricter default; unimplemented names left out",
    "macs": "stricter default; unimplemented names left out",
    "kexalgorithms": "stricter default; unimplemented names left out",
}

# OpenSSH 9.2's names postern does not implement (left out of its lists).
UNIMPLEMENTED = harness.OPENSSH_ONLY_ALGS


def _layout(ctx, name, files):
    """ctx.dir/NAME/sshd_config (Debian's, or files["MAIN"]) and its
    sshd_config.d with the other files."""
    key = _setup(ctx)
    top = os.path.join(ctx.dir, name)
    d = os.path.join(top, "sshd_config.d")
    os.makedirs(d, exist_ok=True)
    for fn, text in files.items():
        if fn != "MAIN":
            with open(os.path.join(d, fn), "w") as f:
                f.write(text.replace("{key}", key).replace("{dir}", top))
    path = os.path.join(top, "sshd_config")
    with open(path, "w") as f:
        f.write(files.get("MAIN", DEBIAN_BASE).replace(
            "{key}", key).replace("{dir}", top))
    return path


def _split(lines):
    out = {}
    for l in lines:
        k, _, v = l.partition(" ")
        out.setdefault(k, []).append(v)
    return out


def _check_algos(what, kw, s_vals, p_vals):
    """A documented difference: posternd's list holds only names sshd's
    list holds or postern's stricter default adds, never a name sshd
    left out, and sshd's names postern implements in a plain list."""
    s = s_vals[0].split(",")
    p = p_vals[0].split(",")
    # mlkem768x25519-sha256 leads postern's default (OpenSSH 9.9's);
    # sshd 9.2 does not know it.
    extra = [n for n in p if n not in s and n != "mlkem768x25519-sha256"]
    check(not extra, "%s: posternd's %s offers %s, which sshd's list %s "
          "does not" % (what, kw, extra, s))
    return s, p


def _compare_snippet(ctx, name, files, specs=()):
    path = _layout(ctx, name, files)
    text = "\n".join(files.values())
    for spec in (None,) + tuple(specs):
        what = "%s%s" % (name, " -C %s" % spec if spec else "")
        args = ["-f", path] + (["-C", spec] if spec else [])
        s_rc, s_lines, s_err = _dump([SSHD, "-T"] + args)
        p_rc, p_lines, p_err = _dump([ctx.server_path, "-T"] + args)
        if spec is None and "'lport' not in connection test" in s_err:
            # Match LocalPort: -T without -C lport=N is an error for both.
            check(p_rc != 0 and s_err.strip() in p_err,
                  "%s: sshd -T says %r, posternd exit %d %r"
                  % (what, s_err.strip(), p_rc, p_err))
            continue
        check(s_rc == 0, "%s: sshd -T failed (exit %d): %s"
              % (what, s_rc, s_err.strip()))
        check(p_rc == 0, "%s: posternd -T failed (exit %d) where sshd "
              "loads the config: %s" % (what, p_rc, p_err.strip()))
        s_map, p_map = _split(s_lines), _split(p_lines)
        diff = []
        for kw in p_map:
            if kw not in s_map:
                continue        # a postern-only keyword
            if kw in DOCUMENTED:
                s, p = _check_algos(what, kw, s_map[kw], p_map[kw])
                plain = re.search(r"^\s*%s[\s=]+[^-+^\s]" % kw, text,
                                  re.I | re.M)
                if plain:
                    want = [n for n in s if n not in UNIMPLEMENTED[kw]]
                    if p != want:
                        diff.append("  %s: sshd %s, posternd %s (want "
                                    "sshd's without the unimplemented)"
                                    % (kw, ",".join(s), ",".join(p)))
                continue
            if s_map[kw] != p_map[kw]:
                diff.append("  %s: sshd %r, posternd %r"
                            % (kw, s_map[kw], p_map[kw]))
        if diff:
            fail("%s: posternd -T differs from sshd -T:\n%s"
                 % (what, "\n".join(diff)))
    # -t: both accept; posternd prints what sshd prints (nothing, or
    # "Deprecated option" lines), plus, where the snippet names what
    # postern lacks, its own documented warnings.
    (s_rc, s_err), (p_rc, p_err) = _test_both(ctx, path)
    check(s_rc == 0 and p_rc == 0,
          "%s: -t: sshd exit %d, posternd exit %d (%s)"
          % (name, s_rc, p_rc, "\n".join(p_err)))
    own = [l for l in p_err if POSTERN_WARNING.search(l)]
    check([l for l in p_err if l not in own] == s_err,
          "%s: posternd -t printed %r, sshd -t %r" % (name, p_err, s_err))
    check(not own or name in NOISY,
          "%s: posternd -t warns where sshd is silent: %r" % (name, own))
    return path


def test_snippets_t_and_T(ctx):
    """Every snippet: sshd and posternd both load it, -T agrees."""
    bad = []
    for name, files, specs in SNIPPETS:
        try:
            _compare_snippet(ctx, name, files, specs)
        except harness.TestFailure as e:
            bad.append(str(e))
    check(not bad, "\n".join(bad))


test_snippets_t_and_T.timeout = 180


def test_snippets_refused(ctx):
    """A snippet sshd refuses: posternd refuses it too and names the
    file, the line and the keyword."""
    for name, files, lineno, kw in BAD_SNIPPETS:
        path = _layout(ctx, "bad_" + name, files)
        (s_rc, s_err), (p_rc, p_err) = _test_both(ctx, path)
        err = "\n".join(p_err)
        fn = os.path.join(os.path.dirname(path), "sshd_config.d",
                          list(files)[0])
        check(s_rc != 0, "%s: sshd -t accepted it" % name)
        check(p_rc != 0, "%s: posternd -t accepted what sshd "
              "refuses (%s)" % (name, "\n".join(s_err)))
        check(re.search(r"%s:? line %d: .*%s" % (re.escape(fn), lineno,
                                                   re.escape(kw)), err),
              "%s: posternd's message does not name %s line %d and %s: %r"
              % (name, fn, lineno, kw, err))
        # sshd's own words are there too (posternd may add a hint).
        for line in s_err:
            check(line in err or line in harness.sshd_words(p_err),
                  "%s: sshd says %r, posternd does not: %r"
                  % (name, line, err))


def _test_both(ctx, path):
    """`-t -f path` by sshd and by posternd: (exit status, stderr lines)
    of each."""
    out = []
    for exe in (SSHD, ctx.server_path):
        r = harness.run([exe, "-t", "-f", path], check_rc=False)
        out.append((r.returncode, r.stderr.decode(errors="replace")
                    .splitlines()))
    return out


def _snippet(name):
    for n, files, _ in SNIPPETS:
        if n == name:
            return files
    fail("no snippet %s" % name)


def test_snippets_deprecated_messages(ctx):
    """sshd 9.2 loads the old keywords with "Deprecated option" lines (and
    nothing for Protocol): posternd -t prints the same lines."""
    path = _layout(ctx, "deprecated_msgs", _snippet("deprecated"))
    (s_rc, s_err), (p_rc, p_err) = _test_both(ctx, path)
    check(s_rc == 0 and p_rc == 0,
          "deprecated keywords: sshd exit %d, posternd exit %d"
          % (s_rc, p_rc))
    check(any("Deprecated option UseLogin" in l for l in s_err),
          "sshd 9.2 no longer says 'Deprecated option': %r" % s_err)
    check(p_err == s_err, "posternd -t printed %r, sshd -t %r"
          % (p_err, s_err))


def test_snippets_duplicate_subsystem(ctx):
    """A documented difference: a snippet's `Subsystem sftp internal-sftp`
    under Debian's own Subsystem line. sshd 9.2 refuses the config
    ("already defined"); posternd loads it and keeps the first line, the
    snippet's, as OpenSSH 9.5 and later do (docs/sshd_config.md,
    Subsystem)."""
    path = _layout(ctx, "dup_subsystem", {
        "20-sftp.conf": "Subsystem sftp internal-sftp\n"})
    s_rc, _, s_err = _dump([SSHD, "-T", "-f", path])
    p_rc, p_lines, p_err = _dump([ctx.server_path, "-T", "-f", path])
    check(s_rc != 0 and "Subsystem 'sftp' already defined" in s_err,
          "sshd 9.2 accepted a second Subsystem sftp: %r" % s_err)
    check(p_rc == 0, "posternd refused it: %r" % p_err)
    check([l for l in p_lines if l.startswith("subsystem ")] ==
          ["subsystem sftp internal-sftp"],
          "posternd -T subsystems: %r"
          % [l for l in p_lines if l.startswith("subsystem ")])


# -- logins with OpenSSH's client -------------------------------------------

_PASSWORD = "Snip-" + os.urandom(6).hex()
_PAM_UNIX = ["auth required pam_unix.so", "account required pam_unix.so",
             "session required pam_unix.so"]


def _askpass_env(ctx):
    script = os.path.join(ctx.dir, "askpass.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % _PASSWORD)
    os.chmod(script, 0o755)
    return dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
                DISPLAY=":0")


def _start_with(ctx, name, files, extra=()):
    """posternd with the harness's base config, then the snippet files
    Included as Debian does."""
    path = _layout(ctx, name, files)
    inc = "Include %s/*.conf" % os.path.join(os.path.dirname(path),
                                             "sshd_config.d")
    ctx.start_server(extra_config=[inc] + list(extra))


def _ssh_pw(ctx, user, methods, command="echo ok", key=None, src=None):
    extra = ["-o", "PreferredAuthentications=" + methods,
             "-o", "KbdInteractiveAuthentication=yes",
             "-o", "PasswordAuthentication=yes",
             "-o", "NumberOfPasswordPrompts=1"]
    if src:
        extra += ["-b", src]
    argv = ctx.ssh_argv(user, command, key=key, extra=extra, batch=False,
                        verbose=True)
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=40,
                          env=_askpass_env(ctx), start_new_session=True)


def test_snippet_login_publickey_only(ctx):
    """Mozilla's AuthenticationMethods publickey with cloud-init's
    PasswordAuthentication no: the right password is refused, only
    publickey is offered, the key logs in."""
    u = ctx.make_user()
    harness.run(["chpasswd"], input=("%s:%s\n" % (u.name, _PASSWORD))
                .encode())
    svc = ctx.pam_service(_PAM_UNIX)
    _start_with(ctx, "pubkey_only", {
        "10-auth.conf": "AuthenticationMethods publickey\n",
        "50-cloud-init.conf": "PasswordAuthentication no\n"},
        ["UsePAM yes", "PAMServiceName " + svc,
         "KbdInteractiveAuthentication yes"])
    r = _ssh_pw(ctx, u, "password,keyboard-interactive")
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 255 and r.stdout == b"",
          "the right password logged in under a publickey-only snippet")
    check(re.search(r"Permission denied \(publickey\)", err),
          "the server offered more than publickey: %s" % err[-400:])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")


def test_snippet_login_deny_root(ctx):
    """PermitRootLogin no, but prohibit-password from one Match Address
    (the root_policy snippet's shape): root's key is refused from
    127.0.0.1 and accepted from 127.0.0.2."""
    name = "psroot_" + os.urandom(3).hex()
    home = os.path.join(ctx.dir, "roothome")
    harness.run(["useradd", "-o", "-u", "0", "-g", "0", "-M", "-d", home,
                 "-s", "/bin/bash", "-p", "*", name])
    ctx.cleanups.append(lambda: harness.run(["userdel", "-f", name],
                                            check_rc=False))
    os.makedirs(os.path.join(home, ".ssh"), mode=0o700)
    os.chmod(home, 0o755)
    key = ctx.new_key("root")
    with open(key + ".pub") as f, \
            open(os.path.join(home, ".ssh", "authorized_keys"), "w") as o:
        o.write(f.read())
    os.chmod(os.path.join(home, ".ssh", "authorized_keys"), 0o600)
    _start_with(ctx, "deny_root", {"10-root.conf": """\
PermitRootLogin no
Match Address 127.0.0.2
    PermitRootLogin prohibit-password
"""})
    r = ctx.ssh(name, "id -u", key=key)
    check(r.rc == 255 and r.stdout == b"",
          "root logged in with PermitRootLogin no: rc %s %r" % (r.rc,
                                                                 r.stdout))
    check(ctx.wait_log(r"ROOT LOGIN REFUSED FROM 127\.0\.0\.1 port \d+", 5),
          "no 'ROOT LOGIN REFUSED' line for the refusal")
    r = ctx.ssh(name, "id -u", key=key, extra=["-b", "127.0.0.2"])
    check(r.rc == 0 and r.stdout == b"0\n",
          "root's key from 127.0.0.2 (prohibit-password) was refused: "
          "rc %s %s" % (r.rc, r.err[-300:]))


def test_snippet_login_sftponly(ctx):
    """Match Group sftponly: ChrootDirectory %h, ForceCommand
    internal-sftp. The member gets SFTP jailed in its home, and no
    shell; another user is not affected."""
    group = "sftponly_" + os.urandom(3).hex()
    harness.run(["groupadd", group])
    ctx.cleanups.append(lambda: harness.run(["groupdel", group],
                                            check_rc=False))
    u = ctx.make_user()
    other = ctx.make_user()
    harness.run(["usermod", "-aG", group, u.name])
    # The jail: the home, owned by root and not writable by others.
    os.chown(u.home, 0, 0)
    os.chmod(u.home, 0o755)
    upload = os.path.join(u.home, "upload")
    os.makedirs(upload)
    os.chown(upload, u.uid, u.gid)
    files = dict(_snippet("sftponly"))
    files["20-sftp.conf"] = files["20-sftp.conf"].replace("sftponly", group)
    del files["MAIN"]
    _start_with(ctx, "sftponly_login", files,
                ["Subsystem sftp internal-sftp"])
    batch = os.path.join(ctx.dir, "sftp.batch")
    src = os.path.join(ctx.dir, "payload.txt")
    with open(src, "w") as f:
        f.write("jailed\n")
    with open(batch, "w") as f:
        f.write("pwd\nls -1 /\ncd upload\nput %s\nls -1\n" % src)
    argv = ["sftp", "-F", "/dev/null", "-P", str(ctx.port), "-i", u.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
            "-b", batch, "%s@127.0.0.1" % u.name]
    r = harness.run(argv, check_rc=False)
    out = r.stdout.decode(errors="replace")
    check(r.returncode == 0, "sftp into the jail failed: %s %s"
          % (out, r.stderr.decode(errors="replace")[-400:]))
    check("Remote working directory: /\n" in out,
          "sftp did not start at the jail's root: %s" % out)
    listing = re.findall(r"^(\S+)$", out.split("sftp> ls -1 /", 1)[1]
                         .split("sftp>", 1)[0], re.M)
    check(sorted(x.lstrip("/") for x in listing) == ["upload"],
          "the jail's / lists %r, not just upload (chroot missing?)"
          % listing)
    with open(os.path.join(upload, "payload.txt")) as f:
        check(f.read() == "jailed\n", "the upload did not land in the jail")
    r = ctx.ssh(u, "echo shell")
    check(r.rc == 1 and
          r.stdout == b"This service allows sftp connections only.\n",
          "the sftponly user got a shell: rc %s %r %r"
          % (r.rc, r.stdout, r.err[-300:]))
    ctx.ssh_ok(other, "echo ok", expect_out=b"ok\n")


def test_snippet_login_auth_chain(ctx):
    """AuthenticationMethods publickey,keyboard-interactive:pam with
    KbdInteractiveAuthentication yes in the snippet, over Debian's
    later `KbdInteractiveAuthentication no` (first value wins): the key
    alone is partial success, the key then the PAM prompt logs in."""
    u = ctx.make_user()
    harness.run(["chpasswd"], input=("%s:%s\n" % (u.name, _PASSWORD))
                .encode())
    svc = ctx.pam_service(_PAM_UNIX)
    _start_with(ctx, "auth_chain", _snippet("twofactor_pam"),
                ["KbdInteractiveAuthentication no", "PAMServiceName " + svc])
    r = ctx.ssh(u, "echo ok", verbose=True)
    check(r.rc == 255 and r.stdout == b"",
          "the key alone logged in: rc %s" % r.rc)
    check('Authenticated using "publickey" with partial success' in r.err,
          "the key was not partial success: %s" % r.err[-400:])
    r = _ssh_pw(ctx, u, "publickey,keyboard-interactive")
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "key then PAM prompt did not log in: rc %s %s"
          % (r.returncode, err[-400:]))
    r = _ssh_pw(ctx, u, "keyboard-interactive,password")
    check(r.returncode == 255 and r.stdout == b"",
          "the password alone logged in")


def test_snippet_login_ssh_audit_guide(ctx):
    """ssh-audit's Debian 12 snippet as is (with Debian's gss-* key
    exchanges and a 3072-bit RSA minimum): posternd starts, offers the
    guide's key exchanges less the GSSAPI ones, and OpenSSH's client
    logs in."""
    u = ctx.make_user()
    _start_with(ctx, "ssh_audit_login", _snippet("ssh_audit_debian12"))
    r = ctx.ssh(u, "echo ok", extra=["-vv"])
    check(r.rc == 0 and r.stdout == b"ok\n", "login under ssh-audit's "
          "snippet failed: rc %s %s" % (r.rc, r.err[-400:]))
    server = r.err.split("peer server KEXINIT proposal", 1)
    check(len(server) == 2, "no server KEXINIT in ssh -vv: %s"
          % r.err[-400:])
    kex = re.search(r"KEX algorithms: (\S+)", server[1])
    offered = [k for k in kex.group(1).split(",")
               if k not in ("ext-info-s", "kex-strict-s-v00@openssh.com")]
    check(offered == ["sntrup761x25519-sha512@openssh.com",
                      "curve25519-sha256", "curve25519-sha256@libssh.org",
                      "diffie-hellman-group16-sha512",
                      "diffie-hellman-group18-sha512",
                      "diffie-hellman-group-exchange-sha256"],
          "posternd offered %s" % offered)
    ciphers = re.search(r"ciphers stoc: (\S+)", server[1])
    check(ciphers and ciphers.group(1) ==
          "aes256-gcm@openssh.com,aes256-ctr,aes192-ctr,"
          "aes128-gcm@openssh.com,aes128-ctr",
          "posternd offered ciphers %s" % (ciphers and ciphers.group(1)))
