"""
test_snippets.py: the sshd_config.d snippets people actually drop in
(hardening guides, benchmarks, cloud images, SFTP jails, 2FA), each under
Debian's own /etc/ssh/sshd_config (Include first, then Debian's lines),
read by posternd and by OpenSSH's sshd 9.2 side by side: `-t` agrees
(both accept, or both refuse and posternd names the file, line and
keyword), and `-T` (with `-C` for the Match snippets) prints the same
value for every keyword both print, except the differences listed in
DOCUMENTED below with their reasons. Then real logins with OpenSSH's
client where the snippet's point is enforcement: publickey-only refuses
a password, root is denied, an sftponly group is jailed in
internal-sftp, an AuthenticationMethods chain needs both steps.

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
HostKey {key}
# Supported HostKey algorithms by order of preference.
HostKey /etc/ssh/ssh_host_ed25519_key
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
    ("typo", {"50-typo.conf": "PermitRootLogin no\nPasswordAuthentcation no\n"},
     2, "PasswordAuthentcation"),
    ("global_in_match", {"50-match.conf": "Match User x\n"
                         "    Port 2022\n"}, 2, "Port"),
    ("bad_value", {"50-value.conf": "# policy\nMaxAuthTries many\n"},
     2, "MaxAuthTries"),
    # Quoted, the two alternatives are one method name for sshd.
    ("quoted_methods", {"70-2fa.conf": 'AuthenticationMethods '
                        '"publickey,password publickey,keyboard-interactive"\n'},
     1, "AuthenticationMethods"),
]

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
UNIMPLEMENTED = {
    "ciphers": {"3des-cbc", "aes128-cbc", "aes192-cbc", "aes256-cbc"},
    "macs": {"hmac-md5", "hmac-md5-96", "hmac-sha1-96", "hmac-md5-etm@openssh.com",
             "hmac-md5-96-etm@openssh.com", "hmac-sha1-96-etm@openssh.com"},
    "kexalgorithms": {"diffie-hellman-group1-sha1",
                      "diffie-hellman-group14-sha1"},
}


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
                f.write(text)
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
    # -t: both accept, posternd says nothing but warnings.
    s = harness.run([SSHD, "-t", "-f", path], check_rc=False)
    p = harness.run([ctx.server_path, "-t", "-f", path], check_rc=False)
    check(s.returncode == 0 and p.returncode == 0,
          "%s: -t: sshd exit %d, posternd exit %d (%s)"
          % (name, s.returncode, p.returncode,
             p.stderr.decode(errors="replace").strip()))
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
        s = harness.run([SSHD, "-t", "-f", path], check_rc=False)
        p = harness.run([ctx.server_path, "-t", "-f", path], check_rc=False)
        err = p.stderr.decode(errors="replace")
        fn = os.path.join(os.path.dirname(path), "sshd_config.d",
                          list(files)[0])
        check(s.returncode != 0, "%s: sshd -t accepted it" % name)
        check(p.returncode != 0, "%s: posternd -t accepted what sshd "
              "refuses (%s)" % (name, s.stderr.decode(errors="replace")))
        check(re.search(r"%s:? line %d: .*%s" % (re.escape(fn), lineno,
                                                   re.escape(kw)), err),
              "%s: posternd's message does not name %s line %d and %s: %r"
              % (name, fn, lineno, kw, err))
