"""
test_config_compat.py: `posternd -T` against OpenSSH's `sshd -T` over a set
of configurations (Include, Match with every criterion, -C specifications,
list keywords, PermitRootLogin, AuthenticationMethods, AllowUsers...): for
every keyword posternd prints (the ones it implements), both must print
the same lines in the same order, and agree on which configurations are
invalid. Only `sshd -T` and `sshd -t -f FILE` are run, never a listening
sshd. /usr/sbin/sshd must be installed (CI installs openssh-server): the
tests fail, not skip, without it. Last, the configuration files as read
once: an Include'd file edited on disk takes effect on SIGHUP, and a broken
one keeps the running configuration. And what -T -C shows for Match
Address blocks (PermitRootLogin, PasswordAuthentication,
AuthenticationMethods, AllowUsers/DenyUsers USER@HOST lists) is what real
logins from those addresses get (the client binds 127.0.0.N).
"""

import grp
import os
import pwd
import re
import signal
import subprocess

import harness
from harness import check, fail

SSHD = harness.OPENSSH_SSHD
# postern's defaults for these are stricter than sshd's (docs/
# sshd_config.md, Transport algorithms): compared only when the config
# sets them with a plain list.
STRICTER_DEFAULTS = ("ciphers", "macs", "kexalgorithms")


def _stricter_unset(text):
    return set(k for k in STRICTER_DEFAULTS if not re.search(
        r"^\s*%s\s+[^-+^\s]" % k, text, re.I | re.M))


def _setup(ctx):
    """A host key (sshd -T loads the host keys); sshd must be there."""
    harness.openssh_sshd()
    key = os.path.join(ctx.dir, "compat_hostkey")
    if not os.path.exists(key):
        harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                     key])
    return key


def _write(ctx, name, text):
    path = os.path.join(ctx.dir, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def _dump(argv):
    p = harness.run(argv, check_rc=False)
    return (p.returncode, p.stdout.decode(errors="replace").splitlines(),
            p.stderr.decode(errors="replace"))


_KEY_LISTS = ("pubkeyacceptedalgorithms", "hostkeyalgorithms",
              "casignaturealgorithms")
_DSA = ("ssh-dss", "ssh-dss-cert-v01@openssh.com")


def _without_dsa(line):
    """sshd's line with the DSA names postern leaves out of its key
    algorithm lists (docs/sshd_config.md)."""
    key, _, value = line.partition(" ")
    if key not in _KEY_LISTS:
        return line
    return key + " " + ",".join(n for n in value.split(",")
                                if n not in _DSA)


def _compare(ctx, name, text, specs=(None,), extra=(), valid=True):
    """Both -T outputs for the config `text' (HostKey prepended), for each
    -C spec in specs; posternd's lines must equal sshd's lines for the
    same keywords. valid=False: both must refuse the configuration."""
    key = _setup(ctx)
    path = _write(ctx, "cfg_%s" % name, "HostKey %s\n%s" % (key, text))
    for spec in specs:
        args = ["-T", "-f", path] + list(extra)
        if spec is not None:
            args += ["-C", spec]
        what = "%s%s" % (name, " -C %s" % spec if spec else "")
        s_rc, s_lines, s_err = _dump([SSHD] + args)
        p_rc, p_lines, p_err = _dump([ctx.server_path] + args)
        if not valid:
            check(s_rc != 0, "%s: sshd -T accepted a config the test calls "
                  "invalid:\n%s" % (what, text))
            check(p_rc != 0, "%s: sshd refuses this config (%s) but "
                  "posternd -T accepted it" % (what, s_err.strip()))
            continue
        check(s_rc == 0, "%s: sshd -T failed (exit %d): %s"
              % (what, s_rc, s_err.strip()))
        check(p_rc == 0, "%s: posternd -T failed (exit %d): %s"
              % (what, p_rc, p_err.strip()))
        check(p_lines, "%s: posternd -T printed nothing" % what)
        skip = _stricter_unset(text) | set(harness.NEWER_T)
        p_lines = [l for l in p_lines if l.split(" ", 1)[0] not in skip]
        keys = set(l.split(" ", 1)[0] for l in p_lines)
        want = [_without_dsa(l) for l in s_lines
                if l.split(" ", 1)[0] in keys]
        if want != p_lines:
            diff = ["  sshd:    %s" % l for l in want if l not in p_lines]
            diff += ["  posternd: %s" % l for l in p_lines if l not in want]
            if not diff:
                diff = ["  (same lines, different order)"]
            fail("%s: posternd -T differs from sshd -T:\n%s\nconfig:\n%s"
                 % (what, "\n".join(diff), text))
    return p_lines


def _check_t(ctx, name, text, valid):
    """-t agrees with sshd -t on whether the config is valid."""
    key = _setup(ctx)
    path = _write(ctx, "t_%s" % name, "HostKey %s\n%s" % (key, text))
    s = harness.run([SSHD, "-t", "-f", path], check_rc=False)
    p = harness.run([ctx.server_path, "-t", "-f", path], check_rc=False)
    check((s.returncode == 0) == valid, "%s: sshd -t exit %d, expected %s"
          % (name, s.returncode, "valid" if valid else "invalid"))
    check((p.returncode == 0) == valid,
          "%s: posternd -t exit %d (%s), sshd -t exit %d"
          % (name, p.returncode, p.stderr.decode(errors="replace").strip(),
             s.returncode))
    if valid:
        check(p.stdout == b"" and p.stderr == b"",
              "%s: posternd -t is not silent: %r %r"
              % (name, p.stdout, p.stderr))


def _root_group():
    return grp.getgrgid(pwd.getpwnam("root").pw_gid).gr_name


# ---------------------------------------------------------------------------


def test_compat_global(ctx):
    _compare(ctx, "defaults", "")
    _compare(ctx, "global", "\n".join([
        "Port 2222",
        "Port 2223",
        "ListenAddress 127.0.0.1",
        "ListenAddress [::1]:2224",
        "AddressFamily any",
        "LoginGraceTime 1h2m",
        "MaxAuthTries 3",
        "MaxSessions 4",
        "MaxStartups 5:50:20",
        "PubkeyAuthentication no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitEmptyPasswords yes",
        "PermitTTY no",
        "StrictModes no",
        "PidFile /run/compat.pid",
        "LogLevel DEBUG2",
        "SyslogFacility LOCAL5",
        "AuthorizedKeysFile .ssh/authorized_keys %h/.ssh/extra /etc/ssh/k/%u",
        "Banner /etc/issue.net",
        "ForceCommand /usr/bin/printf '%s\\n' \"a  b\" # not a comment",
        "UsePAM no",
        ""]))
    # First value wins; a second line of a single-value keyword is ignored.
    _compare(ctx, "first_wins", "\n".join([
        "MaxAuthTries 2", "MaxAuthTries 5", "LogLevel QUIET", "LogLevel INFO",
        "PidFile none", "PidFile /x.pid", "Banner none", "Banner /etc/issue",
        "AuthorizedKeysFile none", "AuthorizedKeysFile .ssh/x",
        "MaxStartups 7", ""]))
    # sshd's exceptions: MaxStartups and StreamLocalBindMask, the last line
    # (or matching Match block) wins; a single MaxStartups number keeps the
    # rate of an earlier line.
    _compare(ctx, "last_wins", "MaxStartups 10:50:60\nMaxStartups 3\n"
             "StreamLocalBindMask 022\nStreamLocalBindMask 077\n")
    _compare(ctx, "last_wins_o", "MaxStartups 4:60:8\nStreamLocalBindMask 0\n",
             extra=["-o", "MaxStartups=5", "-o", "StreamLocalBindMask=077"])
    _compare(ctx, "last_wins_match", "StreamLocalBindMask 022\n"
             "Match User x\nStreamLocalBindMask 077\n"
             "Match User x\nStreamLocalBindMask 0\n",
             specs=("user=x", "user=y"))
    # Old names and sshd's own deprecated keywords.
    _compare(ctx, "aliases", "\n".join([
        "ChallengeResponseAuthentication no", "DSAAuthentication no",
        "Protocol 2", "UsePrivilegeSeparation sandbox",
        "RSAAuthentication yes", ""]))
    # ListenAddress names resolve when the config is read: one that does
    # not (or not in the AddressFamily) makes the config invalid.
    for name, text, valid in (
            ("listen_name", "ListenAddress localhost:2222\n", True),
            ("listen_unresolvable", "ListenAddress nosuch.invalid\n", False),
            ("listen_family", "AddressFamily inet\nListenAddress ::1\n",
             False)):
        _compare(ctx, name, text, valid=valid)
        _check_t(ctx, name, text, valid)
    # -o comes first.
    _compare(ctx, "cmdline", "MaxAuthTries 5\n",
             extra=["-o", "MaxAuthTries=1", "-o", "PermitRootLogin=no"])


def test_compat_subsystem(ctx):
    # Lines accumulate in order; arguments are re-joined by single spaces,
    # quotes removed (a duplicate name is left out: sshd 9.2 refuses it,
    # later versions keep the first).
    _compare(ctx, "subsystem", "\n".join([
        "Subsystem sftp internal-sftp -l  INFO -d \"/srv/a b\"",
        "Subsystem backup /usr/local/bin/backup --mode 'r o'",
        "Subsystem x=y /bin/true",
        ""]))
    _compare(ctx, "subsystem_nocmd", "Subsystem sftp\n", valid=False)
    _compare(ctx, "subsystem_noname", "Subsystem\n", valid=False)
    _compare(ctx, "subsystem_match",
             "Match User x\nSubsystem sftp internal-sftp\n", valid=False)


def test_compat_permit_root_login(ctx):
    for v in ("yes", "no", "prohibit-password", "without-password",
              "forced-commands-only"):
        _compare(ctx, "prl_%s" % v, "PermitRootLogin %s\n" % v)
    _compare(ctx, "prl_match", "PermitRootLogin no\nMatch User root "
             "Address 10.0.0.0/8\nPermitRootLogin forced-commands-only\n",
             specs=(None, "user=root,addr=10.1.1.1",
                    "user=root,addr=192.0.2.1"))


def test_compat_auth_methods(ctx):
    for i, v in enumerate((
            "any", "publickey",
            "publickey,password publickey,keyboard-interactive",
            "publickey,keyboard-interactive:pam",
            "keyboard-interactive:totp publickey,publickey")):
        _compare(ctx, "am_%d" % i, "AuthenticationMethods %s\n" % v)
    am_match = "\n".join([
        "Match User alice", "AuthenticationMethods publickey,password",
        "Match Address 192.0.2.0/24", "AuthenticationMethods any", ""])
    _compare(ctx, "am_match", am_match,
             specs=(None, "user=bob,addr=192.0.2.1", "user=bob,addr=10.0.0.1"))
    # Once alice's block set a list, sshd refuses the later "any" line,
    # whether or not its own block matches.
    _compare(ctx, "am_match_any_after", am_match,
             specs=("user=alice,addr=192.0.2.1", "user=alice,addr=10.0.0.1"),
             valid=False)
    _compare(ctx, "am_any_mixed", "AuthenticationMethods any publickey\n",
             valid=False)
    _compare(ctx, "am_any_after", "AuthenticationMethods publickey\n"
             "Match User x\nAuthenticationMethods any\n", valid=False)
    _compare(ctx, "am_bad", "AuthenticationMethods publickey,,password\n",
             valid=False)


def test_compat_access_lists(ctx):
    text = "\n".join([
        "AllowUsers alice bob@10.0.0.0/8 'carol@*.example.com'",
        "AllowUsers dave@192.0.2.1",
        "DenyUsers mallory eve@!10.1.0.0/16,10.0.0.0/8",
        "AllowGroups staff \"wheel\"",
        "DenyGroups guests", "DenyGroups nogroup", ""])
    _compare(ctx, "access", text)
    _compare(ctx, "access_match", text + "\n".join([
        "Match User alice", "AllowUsers alice", "DenyGroups g1 g2",
        "Match Address 10.0.0.0/8", "AllowUsers frank",
        "AllowGroups admins", ""]),
        specs=(None, "user=alice,addr=10.2.3.4", "user=alice,addr=192.0.2.9",
               "user=zed,addr=10.2.3.4"))
    _compare(ctx, "access_bad", "DenyUsers bob@10.0.0.1/8\n", valid=False)


def test_compat_include(ctx):
    d = os.path.join(ctx.dir, "inc.d")
    _write(ctx, "inc.d/20-b.conf", "MaxSessions 2\nPort 2020\n"
           "AllowUsers b\n")
    _write(ctx, "inc.d/10-a.conf", "MaxSessions 1\nPort 1010\n"
           "AllowUsers a\nMatch User bob\nPermitTTY no\nMaxAuthTries 1\n")
    _write(ctx, "inc.d/30-c.conf", "PermitTTY yes\nBanner /etc/c\n")
    _write(ctx, "inc.d/README", "this is not a config\n")
    # A directory the glob matches reads as an empty file for sshd.
    os.makedirs(os.path.join(d, "40-dir.conf"), exist_ok=True)
    _write(ctx, "match.conf", "PasswordAuthentication no\n"
           "Match Address 192.0.2.0/24\nMaxSessions 7\n")
    _compare(ctx, "include_glob",
             "Include %s/*.conf\nMaxAuthTries 4\nPort 22\n"
             "Include postern-compat-nothing-*.conf\n" % d,
             specs=(None, "user=bob", "user=alice"))
    _compare(ctx, "include_in_match",
             "Match User bob\nInclude %s\nMatch all\nMaxSessions 5\n"
             % os.path.join(ctx.dir, "match.conf"),
             specs=(None, "user=bob,addr=192.0.2.1", "user=bob,addr=10.0.0.1",
                    "user=alice,addr=192.0.2.1"))
    _compare(ctx, "include_nested", "Include %s\n"
             % _write(ctx, "outer.conf", "Include %s/10-a.conf\nPort 99\n" % d),
             specs=(None, "user=bob"))
    _compare(ctx, "include_global_in_match",
             "Match User bob\nInclude %s/20-b.conf\n" % d, valid=False)
    self_inc = os.path.join(ctx.dir, "self.conf")
    _write(ctx, "self.conf", "Include %s\n" % self_inc)
    _compare(ctx, "include_self", "Include %s\n" % self_inc, valid=False)


def test_compat_match_criteria(ctx):
    group = _root_group()
    text = "\n".join([
        "MaxSessions 10",
        "Match User alice,bob*,!bobby",
        "MaxSessions 1",
        "Match Group %s" % group,
        "MaxSessions 2",
        "Match Host *.Example.com,!bad.example.com",
        "MaxSessions 3",
        "Match Address 10.0.0.0/8,!10.9.0.0/16 LocalPort 2222",
        "MaxSessions 4",
        "Match LocalAddress 192.0.2.0/24,2001:db8::/32",
        "MaxSessions 5",
        "Match RDomain vrf-*",
        "MaxSessions 6",
        "Match User carol Address 172.16.*",
        "MaxSessions 7",
        ""])
    _compare(ctx, "criteria", text, specs=(
        "user=alice,lport=22",
        "user=bobcat,lport=22",
        "user=bobby,lport=22",
        "user=root,lport=22",
        "user=nobody-such,lport=22",
        "host=www.EXAMPLE.com,lport=22",
        "host=bad.example.com,lport=22",
        "addr=10.1.2.3,lport=2222",
        "addr=10.9.2.3,lport=2222",
        "addr=10.1.2.3,lport=22",
        "laddr=192.0.2.5,lport=22",
        "laddr=2001:db8::5,lport=22",
        "laddr=198.51.100.1,lport=22",
        "rdomain=vrf-blue,lport=22",
        "user=carol,addr=172.16.3.4,lport=22",
        "user=carol,addr=172.17.3.4,lport=22",
        "user=x,host=h,addr=1.2.3.4,laddr=192.0.2.1,lport=2222,rdomain=r",
    ))
    # Without lport, a LocalPort criterion is an error for sshd -T too.
    _compare(ctx, "criteria_no_lport", text, specs=(None, "user=alice"),
             valid=False)


# Match Address/LocalAddress and USER@HOST entries: an address in any form
# getaddrinfo(AI_NUMERICHOST) takes, as sshd's addr_pton (inet_aton's
# "127.1", decimal, octal and hex parts); "10/8" is 0.0.0.10/8, host bits
# set: an error. (entry, valid)
ADDRESS_FORMS = [
    ("127.1", True), ("127.0.1", True), ("2130706433", True),
    ("0x7f.1", True), ("0177.0.0.1", True), ("127.000.000.001", True),
    ("127.1/32", True), ("127.0.0.0/8", True), ("!127.1,*", True),
    ("10.0.0.0/8,127.1", True), ("::ffff:127.0.0.1", True),
    ("10/8", False), ("127/8", False), ("1.2.3.4/33", False),
]


def test_compat_address_forms(ctx):
    for i, (entry, valid) in enumerate(ADDRESS_FORMS):
        for crit in ("Address", "LocalAddress"):
            _compare(ctx, "addr_%s_%d" % (crit, i),
                     "Match %s %s\nMaxSessions 1\n" % (crit, entry),
                     specs=("user=x,addr=127.0.0.1,laddr=127.0.0.1",
                            "user=x,addr=10.0.0.1,laddr=10.0.0.1"),
                     valid=valid)
        _compare(ctx, "addr_deny_%d" % i, "DenyUsers x@%s\n" % entry,
                 valid=valid)


def test_compat_match_precedence(ctx):
    text = "\n".join([
        "PasswordAuthentication no",
        "MaxAuthTries 6",
        "AllowUsers a b",
        "Banner /etc/issue",
        "ForceCommand /bin/global",
        "LogLevel VERBOSE",
        "Match User alice",
        "PasswordAuthentication yes",
        "AllowUsers c",
        "Banner none",
        "LogLevel DEBUG3",
        "AuthorizedKeysFile /etc/ssh/keys/%u",
        "Match Address 10.0.0.0/8",
        "PasswordAuthentication no",
        "MaxAuthTries 2",
        "AllowUsers d",
        "ForceCommand none",
        "PermitTTY no",
        "Match all",
        "MaxAuthTries 3",
        "KbdInteractiveAuthentication no",
        "PermitEmptyPasswords yes",
        "PubkeyAuthentication no",
        "MaxSessions 1",
        ""])
    _compare(ctx, "precedence", text, specs=(
        None, "user=alice,addr=10.0.0.1", "user=alice,addr=192.0.2.1",
        "user=bob,addr=10.0.0.1", "user=bob,addr=192.0.2.1"))
    # "Match all" makes the following lines global again.
    _compare(ctx, "match_all_global", "Match User x\nMatch all\nPort 2200\n"
             "MaxAuthTries 2\n")


def _refused(ctx, cases):
    """Each (name, text): sshd and posternd both refuse it, -T and -t."""
    for name, text in cases:
        _compare(ctx, name, text, valid=False)
        _check_t(ctx, name, text, False)


def test_compat_match_errors(ctx):
    _refused(ctx, (
        ("bad_attr", "Match Colour red\nMaxSessions 1\n"),
        ("all_combined", "Match all User x\nMaxSessions 1\n"),
        ("no_criteria", "Match User\nMaxSessions 1\n"),
        ("bad_cidr", "Match Address 10.0.0.1/8\nMaxSessions 1\n"),
        ("bad_lport", "Match LocalPort abc\nMaxSessions 1\n"),
        ("global_in_match", "Match User x\nPort 22\n"),
        ("unknown", "NoSuchKeyword yes\n"),
        ("bad_value", "PermitRootLogin maybe\n")))
    for name, text in (
            ("ok_comment", "Match User x # trailing comment\nMaxSessions 1\n"),
            ("ok_pattern_addr", "Match Address foo,10.*\nMaxSessions 1\n"),
            ("ok_equals", "Match User=x\nMaxSessions=1\n")):
        _compare(ctx, name, text, specs=(None, "user=x,addr=10.1.1.1"))
        _check_t(ctx, name, text, True)


def test_compat_edge_values_as_sshd(ctx):
    """Values found by a differential fuzz against sshd 9.2, each read
    as sshd reads it: a Match block's "-*" leaves no algorithm (global:
    the default); "none" in any case for path keywords and ChannelTimeout
    ("session=5m none" is taken; a Match block's "none" printed); time
    values with blanks and signs as strtol(3) reads them; an empty
    AuthenticationMethods refused, an empty LogVerbose taken; SetEnv with
    an empty name; a HostKeyAlgorithms no loaded key serves."""
    alice = ("user=alice,addr=10.1.1.1",)
    for name, text, specs in (
            ("match_none_algs", "Match User alice\n"
             "PubkeyAcceptedAlgorithms -*\nCASignatureAlgorithms -*\n",
             (None,) + alice),
            ("global_none_algs", "PubkeyAcceptedAlgorithms -*\n"
             "CASignatureAlgorithms -*\n", (None,)),
            ("none_any_case", "AuthorizedPrincipalsFile NONE\n"
             "XAuthLocation None\nModuliFile nONE\n", (None,)),
            ("ct_none_case", "ChannelTimeout NONE\n", (None,)),
            ("ct_none_last", "ChannelTimeout session=5m none\n", (None,)),
            ("ct_match_none", "ChannelTimeout session=1m\nMatch User alice\n"
             "ChannelTimeout none\n", (None,) + alice),
            ("ct_match_none_alone", "Match User alice\nChannelTimeout None\n",
             alice),
            ("time_strtol", "LoginGraceTime \" 60\"\n"
             "ClientAliveInterval \"1h 30m\"\nUnusedConnectionTimeout -0\n"
             "RekeyLimit default \"+1h +5\"\n", (None,)),
            ("setenv_empty_name", "SetEnv \"=b\" A=1\n", (None,)),
            ("hostkeyalgs_unserved", "HostKeyAlgorithms rsa-sha2-512\n",
             (None,))):
        _compare(ctx, name, text, specs=specs)
        _check_t(ctx, name, text, True)
    _refused(ctx, (
        ("authmethods_comment", "AuthenticationMethods # none listed\n"),
        ("time_blank_after", "LoginGraceTime \"60 \"\n"),
        ("time_negative", "LoginGraceTime \"1h -30m\"\n"),
        ("ct_none_first", "ChannelTimeout none session=5m\n")))
    # An ignored keyword: taken, with posternd's warning that it is.
    _compare(ctx, "logverbose_comment", "LogVerbose # nothing\n")
    p = harness.run([ctx.server_path, "-t", "-f",
                     _write(ctx, "t_lv", "HostKey %s\nLogVerbose # x\n"
                            % _setup(ctx))], check_rc=False)
    check(p.returncode == 0, "LogVerbose # x: posternd -t exit %d %r"
          % (p.returncode, p.stderr))
    _compare(ctx, "authmethods_comment_match", "Match User alice\n"
             "AuthenticationMethods # none listed\n", specs=alice,
             valid=False)


def test_compat_pubkey_keywords(ctx):
    """Public keys and certificates: algorithm lists with OpenSSH's +, -,
    ^ and patterns, RequiredRSASize, PubkeyAuthOptions, the CA and
    revocation files, principals, host certificates; in Match blocks."""
    key = _setup(ctx)
    harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                 os.path.join(ctx.dir, "compat_ca")])
    harness.run(["ssh-keygen", "-q", "-s", os.path.join(ctx.dir, "compat_ca"),
                 "-I", "host", "-h", key + ".pub"])
    cert = key + "-cert.pub"
    for i, v in enumerate((
            "-ssh-ed25519*", "+ssh-rsa*", "^ssh-rsa,ssh-ed25519",
            "ssh-ed25519-cert-v01@openssh.com,rsa-sha2-256", "*",
            "rsa-sha2-*,ecdsa-sha2-nistp256", "-*", "-ssh-ed25519,!ssh-dss")):
        _compare(ctx, "pkalgs_%d" % i, "PubkeyAcceptedAlgorithms %s\n" % v)
    _compare(ctx, "pktypes", "PubkeyAcceptedKeyTypes -rsa*\n"
             "PubkeyAcceptedAlgorithms ssh-ed25519\n")
    for i, v in enumerate(("+ssh-rsa", "ssh-ed25519", "-rsa*,ecdsa*",
                           "^rsa-sha2-256", "*")):
        _compare(ctx, "casig_%d" % i, "CASignatureAlgorithms %s\n" % v)
    for i, v in enumerate(("none", "touch-required", "verify-required",
                           "verify-required touch-required",
                           "none verify-required", "TOUCH-REQUIRED")):
        _compare(ctx, "pao_%d" % i, "PubkeyAuthOptions %s\n" % v)
    for v in ("1024", "3072", "512"):
        _compare(ctx, "rsasize_%s" % v, "RequiredRSASize %s\n" % v)
    _compare(ctx, "files", "\n".join([
        "TrustedUserCAKeys /etc/ssh/user_ca.pub",
        "RevokedKeys revoked_keys",
        "AuthorizedPrincipalsFile .ssh/principals_%u",
        "HostCertificate %s" % cert,
        ""]))
    _compare(ctx, "files_none", "TrustedUserCAKeys none\nRevokedKeys NONE\n"
             "AuthorizedPrincipalsFile none\n")
    _compare(ctx, "files_tilde", "AuthorizedPrincipalsFile ~/p\n"
             "TrustedUserCAKeys ~root/ca.pub\n")
    _compare(ctx, "hostcert_cmdline", "HostCertificate %s\n" % cert,
             extra=["-c", cert])
    text = "\n".join([
        "PubkeyAcceptedAlgorithms -rsa*",
        "RequiredRSASize 2048",
        "TrustedUserCAKeys /etc/ssh/ca_global.pub",
        "Match User alice",
        "PubkeyAcceptedAlgorithms +ssh-rsa",
        "CASignatureAlgorithms ssh-ed25519",
        "RequiredRSASize 4096",
        "PubkeyAuthOptions verify-required",
        "TrustedUserCAKeys none",
        "RevokedKeys /etc/ssh/revoked",
        "AuthorizedPrincipalsFile /etc/ssh/principals/%u",
        "Match Address 10.0.0.0/8",
        "TrustedUserCAKeys /etc/ssh/ca_net.pub",
        "PubkeyAuthOptions touch-required",
        ""])
    _compare(ctx, "pubkey_match", text, specs=(
        None, "user=alice,addr=10.1.1.1", "user=alice,addr=192.0.2.1",
        "user=bob,addr=10.1.1.1", "user=bob,addr=192.0.2.1"))
    for name, text in (
            ("pk_unknown", "PubkeyAcceptedAlgorithms ssh-ed25519,nosuch\n"),
            ("pk_nomatch", "PubkeyAcceptedAlgorithms nosuch*\n"),
            ("pk_negated", "PubkeyAcceptedAlgorithms *,!ssh-dss\n"),
            ("ca_unknown", "CASignatureAlgorithms +nosuch\n"),
            ("pao_bad", "PubkeyAuthOptions touch\n"),
            ("rsasize_bad", "RequiredRSASize big\n"),
            ("hostcert_in_match", "Match User x\nHostCertificate /x\n")):
        _compare(ctx, name, text, valid=False)
        _check_t(ctx, name, text, False)


def test_compat_transport_keywords(ctx):
    """Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms, Compression: plain
    lists print in the configured order as sshd prints them;
    HostKeyAlgorithms (same default as sshd) with +, -, ^ and patterns;
    unknown names refused by both."""
    _compare(ctx, "transport_plain", "\n".join([
        "Ciphers aes256-ctr,chacha20-poly1305@openssh.com,aes128-ctr",
        "MACs umac-128-etm@openssh.com,hmac-sha2-256,umac-64@openssh.com",
        "KexAlgorithms curve25519-sha256,ecdh-sha2-nistp384,"
        "diffie-hellman-group14-sha256",
        ""]))
    for i, v in enumerate(("ssh-ed25519,rsa-sha2-*", "-ecdsa*",
                           "+ssh-rsa", "^rsa-sha2-256,ssh-ed25519", "*")):
        _compare(ctx, "hkalgs_%d" % i, "HostKeyAlgorithms %s\n" % v)
    for v in ("yes", "delayed", "no"):
        _compare(ctx, "compression_%s" % v, "Compression %s\n" % v)
    for name, text in (
            ("cipher_unknown", "Ciphers aes128-ctr,nosuch\n"),
            ("cipher_plus_unknown", "Ciphers +nosuch\n"),
            ("mac_unknown", "MACs hmac-sha2-256,nosuch\n"),
            ("kex_unknown", "KexAlgorithms nosuch-sha256\n"),
            ("hkalg_unknown", "HostKeyAlgorithms ssh-foo\n"),
            ("compression_bad", "Compression sometimes\n")):
        _compare(ctx, name, text, valid=False)
        _check_t(ctx, name, text, False)


def test_compat_rekey_limit(ctx):
    """RekeyLimit: sizes with suffixes and fractions (scan_scaled), times,
    "default" and "none", each half kept from its first line, Match
    overriding the global value; malformed values refused by both."""
    for i, v in enumerate(("1M", "default 2", "1G 1h", "0 0", "16",
                           "1.999K none", "1.123456789M 1h30m", "7.99E",
                           "+5m 1w", ".5M", "16B 10", "default none")):
        _compare(ctx, "rekey_%d" % i, "RekeyLimit %s\n" % v)
    _compare(ctx, "rekey_first_wins",
             "RekeyLimit 1M none\nRekeyLimit 2M 5\nRekeyLimit 3M 6\n")
    _compare(ctx, "rekey_match", "RekeyLimit 1M 1h\nMatch User bob\n"
             "  RekeyLimit 2M 5\nMatch Address 10.0.0.0/8\n"
             "  RekeyLimit default\n",
             specs=(None, "user=bob,addr=192.0.2.1",
                    "user=al,addr=10.0.0.1", "user=bob,addr=10.0.0.1"))
    for name, v in (("too_small", "15"), ("fraction_small", "0.01K"),
                    ("bad_unit", "1KB"), ("range", "8E"),
                    ("huge", "9223372036854775808"), ("time", "1M 1x"),
                    ("neg_time", "1M -5"), ("extra", "1M 1h x"),
                    ("empty", "")):
        text = "RekeyLimit %s\n" % v
        _compare(ctx, "rekey_bad_" + name, text, valid=False)
        _check_t(ctx, "rekey_bad_" + name, text, False)


def test_compat_ignored_printed(ctx):
    """The ignored keywords whose features postern never offers are still
    printed by -T, with what postern does, in sshd's order: the lines
    compliance checks (CIS) grep from `sshd -T` are there and equal
    sshd's for the defaults and for the hardening values; a value that
    would turn the feature on is printed as postern's "no"."""
    keys = ("ignorerhosts", "hostbasedauthentication",
            "kerberosauthentication", "gssapiauthentication",
            "gssapikeyexchange", "fingerprinthash")
    for name, text in (("defaults", ""),
                       ("hardened", "IgnoreRhosts yes\n"
                        "HostbasedAuthentication no\n"
                        "GSSAPIAuthentication no\n"
                        "KerberosAuthentication no\n")):
        lines = _compare(ctx, "ignored_" + name, text,
                         specs=(None, "user=root,host=h,addr=192.0.2.1"))
        printed = [x.split(" ", 1)[0] for x in lines]
        for k in keys:
            check(k in printed, "%s: posternd -T prints no %s line"
                  % (name, k))
    key = _setup(ctx)
    path = _write(ctx, "ignored_on", "HostKey %s\nHostbasedAuthentication "
                  "yes\nGSSAPIAuthentication yes\nIgnoreRhosts no\n" % key)
    rc, lines, err = _dump([ctx.server_path, "-T", "-f", path])
    check(rc == 0 and "hostbasedauthentication no" in lines and
          "gssapiauthentication no" in lines and "ignorerhosts yes" in lines,
          "features postern lacks must print as off: rc %d %r %s"
          % (rc, [x for x in lines if x.split(" ")[0] in keys], err))


def test_compat_ipqos(ctx):
    """IPQoS: names in any case, numbers in C syntax, none, one or two
    values; -T names a value where one has it, else 0x%02x; the last line
    wins (sshd 9.2 has no first-wins rule for it); Match overrides it;
    malformed values refused by both, with sshd's words."""
    for i, v in enumerate(("af21 cs1", "0x48 8", "none", "255", "AF43 Cs7",
                           "0", "ef", "le cs0", "017", "cs1 none",
                           "lowdelay reliability", "0x10 0x04", "1 2")):
        lines = _compare(ctx, "ipqos_%d" % i, "IPQoS %s\n" % v)
        check(any(x.startswith("ipqos ") for x in lines),
              "IPQoS %s: posternd -T prints no ipqos line" % v)
    _compare(ctx, "ipqos_last_wins", "IPQoS cs1\nIPQoS cs2 cs3\n")
    _compare(ctx, "ipqos_match", "IPQoS cs1 cs2\nMatch User bob\n"
             "  IPQoS ef\nMatch Address 10.0.0.0/8\n  IPQoS none af11\n",
             specs=(None, "user=bob,addr=192.0.2.1",
                    "user=al,addr=10.0.0.1", "user=bob,addr=10.0.0.1"))
    key = _setup(ctx)
    for name, v in (("word", "fast"), ("neg", "-1"), ("range", "256"),
                    ("hex", "0x"), ("second", "cs1 fast"),
                    ("extra", "cs1 cs2 cs3"), ("empty", "")):
        text = "IPQoS %s\n" % v
        _compare(ctx, "ipqos_bad_" + name, text, valid=False)
        _check_t(ctx, "ipqos_bad_" + name, text, False)
        path = _write(ctx, "ipqos_err_" + name, "HostKey %s\n%s"
                      % (key, text))
        s = harness.run([SSHD, "-t", "-f", path], check_rc=False)
        p = harness.run([ctx.server_path, "-t", "-f", path], check_rc=False)
        # sshd stops at this line (fatal); posternd then adds its count.
        first = [x.stderr.replace(b"\r", b"").split(b"\n")[0]
                 for x in (p, s)]
        check(first[0] == first[1], "IPQoS %r: posternd -t says %r, sshd "
              "-t says %r" % (v, p.stderr, s.stderr))


# ---------------------------------------------------------------------------
# The files are read once: edits take effect on SIGHUP, and a broken
# Include'd file on SIGHUP keeps the running configuration.

MSG_HUP_INVALID = ("Received SIGHUP; new configuration is invalid, keeping "
                   "the running one.")
MSG_HUP_RESTART = "Received SIGHUP; restarting."


def _login(ctx, u, want_ok, what):
    r = ctx.ssh(u, "echo ok")
    if want_ok:
        check(r.rc == 0 and r.stdout == b"ok\n", "%s: login should work: "
              "rc %s stdout %r %s" % (what, r.rc, r.stdout, r.err[-300:]))
    else:
        check(r.rc == 255 and r.stdout == b"", "%s: login should be "
              "refused: rc %s stdout %r" % (what, r.rc, r.stdout))


def test_compat_keys_commands(ctx):
    """AuthorizedKeysCommand(+User) and AuthorizedPrincipalsCommand(+User):
    the rest of the line as written, Match may set them;
    a relative command or one without its user is refused by both."""
    _compare(ctx, "akc", "\n".join([
        "AuthorizedKeysCommand /usr/bin/keys %u %f  \"%k x\"",
        "AuthorizedKeysCommand /usr/bin/second",
        "AuthorizedKeysCommandUser nobody",
        "AuthorizedPrincipalsCommand /usr/bin/princ %u %i %s",
        "AuthorizedPrincipalsCommandUser daemon",
        ""]))
    # sshd's quirk: AuthorizedPrincipalsCommand, last one wins, and none
    # is kept once an AuthorizedKeysCommand is set.
    _compare(ctx, "apc_order", "AuthorizedPrincipalsCommand /p\n"
             "AuthorizedPrincipalsCommand /q %u\n"
             "AuthorizedPrincipalsCommandUser nobody\n"
             "AuthorizedKeysCommand /a\nAuthorizedKeysCommandUser nobody\n"
             "AuthorizedPrincipalsCommand /r\n")
    _compare(ctx, "akc_none", "AuthorizedKeysCommand none\n"
             "AuthorizedPrincipalsCommand NONE\n")
    _compare(ctx, "akc_user_only", "AuthorizedKeysCommandUser nobody\n"
             "AuthorizedPrincipalsCommandUser nobody\n")
    text = "\n".join([
        "AuthorizedKeysCommand /usr/bin/global %u",
        "AuthorizedKeysCommandUser nobody",
        "Match User alice",
        "AuthorizedKeysCommand /usr/bin/alice %f",
        "AuthorizedKeysCommandUser daemon",
        "AuthorizedPrincipalsCommand /usr/bin/p %u",
        "AuthorizedPrincipalsCommandUser nobody",
        "Match Address 10.0.0.0/8",
        "AuthorizedKeysCommand none",
        ""])
    _compare(ctx, "akc_match", text, specs=(
        None, "user=alice,addr=10.1.1.1", "user=alice,addr=192.0.2.1",
        "user=bob,addr=10.1.1.1", "user=bob,addr=192.0.2.1"))
    for name, text in (
            ("akc_relative", "AuthorizedKeysCommand bin/keys\n"
             "AuthorizedKeysCommandUser nobody\n"),
            ("apc_relative", "AuthorizedPrincipalsCommand p %u\n"
             "AuthorizedPrincipalsCommandUser nobody\n"),
            ("akc_no_user", "AuthorizedKeysCommand /usr/bin/keys\n"),
            ("apc_no_user", "AuthorizedPrincipalsCommand /usr/bin/p\n"),
            ("akc_user_missing", "AuthorizedKeysCommandUser\n")):
        _compare(ctx, name, text, valid=False)


def test_include_reload(ctx):
    _write(ctx, "conf.d/10-pubkey.conf", "PubkeyAuthentication yes\n")
    ctx.start_server(extra_config=["Include %s/conf.d/*.conf" % ctx.dir])
    u = ctx.make_user()
    pid = ctx.proc.pid
    _login(ctx, u, True, "PubkeyAuthentication yes from an included file")

    # Edited on disk without SIGHUP: connections keep what was read.
    _write(ctx, "conf.d/10-pubkey.conf", "PubkeyAuthentication no\n")
    _login(ctx, u, True, "included file edited but no SIGHUP")

    # A broken included file (and one more) on SIGHUP: keep running.
    _write(ctx, "conf.d/20-bad.conf", "NoSuchKeywordAtAll yes\n")
    os.kill(pid, signal.SIGHUP)
    check(ctx.wait_log(r"^(?:error: )?%s$" % re.escape(MSG_HUP_INVALID), 10),
          "after SIGHUP with a broken Include'd file the log lacks %r"
          % MSG_HUP_INVALID)
    check(ctx.wait_log(r"conf\.d/20-bad\.conf: line 1: Bad configuration "
                       r"option: NoSuchKeywordAtAll", 5),
          "the reason (file and line of the bad option) is not logged")
    check(ctx.server_alive(), "server exited after SIGHUP with a broken "
          "included file (exit %s)" % ctx.proc.returncode)
    _login(ctx, u, True, "running config kept after a failed reload")

    # Fixed: the reload takes the edited included file.
    os.unlink(os.path.join(ctx.dir, "conf.d/20-bad.conf"))
    os.kill(pid, signal.SIGHUP)
    check(ctx.wait_log(r"^%s$" % re.escape(MSG_HUP_RESTART), 10),
          "after SIGHUP with a valid config the log lacks %r"
          % MSG_HUP_RESTART)
    listening = r"^Server listening on 127\.0\.0\.1 port %d\.$" % ctx.port
    check(harness.poll_until(
        lambda: len(re.findall(listening, ctx.server_log(), re.M)) >= 2 and
        harness.port_listening(ctx.port), 10),
        "server did not listen again after the restart")
    _login(ctx, u, False, "PubkeyAuthentication no from the reloaded "
           "included file")


def test_compat_forwarding(ctx):
    _compare(ctx, "fwd", "\n".join([
        "AllowTcpForwarding remote",
        "AllowStreamLocalForwarding local",
        "GatewayPorts clientspecified",
        "DisableForwarding yes",
        "StreamLocalBindMask 022x",
        "StreamLocalBindUnlink yes",
        "PermitOpen foo:* *:22 [::1]:80 host:ssh :80",
        "PermitOpen ignored:1",
        "PermitListen 8080 localhost:9000 h*:*",
        ""]))
    for v in ("yes", "all", "no", "local", "remote"):
        _compare(ctx, "atf_%s" % v, "AllowTcpForwarding %s\n" % v)
    for v in ("yes", "no", "clientspecified"):
        _compare(ctx, "gp_%s" % v, "GatewayPorts %s\n" % v)
    _compare(ctx, "fwd_none", "PermitOpen none\nPermitListen none\n"
             "StreamLocalBindMask 0\n")
    _compare(ctx, "fwd_match", "\n".join([
        "AllowTcpForwarding no", "PermitOpen a:1",
        "Match User alice", "AllowTcpForwarding local", "PermitOpen b:2 c:3",
        "PermitListen 2222", "GatewayPorts yes",
        "Match Address 10.0.0.0/8", "DisableForwarding yes",
        "StreamLocalBindMask 0077", "PermitOpen any", ""]),
        specs=(None, "user=alice,addr=10.0.0.1", "user=alice,addr=192.0.2.1",
               "user=bob,addr=10.0.0.1"))
    for name, text in (
            ("po_any_first", "PermitOpen any foo:1\n"),
            ("po_any_later", "PermitOpen foo:1 any\n"),
            ("po_noport", "PermitOpen foo\n"),
            ("po_badport", "PermitOpen foo:x\n"),
            ("po_zero", "PermitOpen foo:0\n"),
            ("po_big", "PermitOpen foo:70000\n"),
            ("po_bracket", "PermitOpen [::1:80\n"),
            ("po_slash", "PermitOpen foo/80\n"),
            ("po_empty", "PermitOpen\n"),
            ("pl_bare_name", "PermitListen localhost\n"),
            ("mask_big", "StreamLocalBindMask 1000\n"),
            ("mask_bad", "StreamLocalBindMask x\n"),
            ("atf_bad", "AllowTcpForwarding maybe\n"),
            ("gp_bad", "GatewayPorts sometimes\n")):
        _compare(ctx, name, text, valid=False)


# ---------------------------------------------------------------------------
# A Match block that -T -C shows applying applies to a real login: the
# client connects from other loopback addresses (127.0.0.N) so that
# Match Address picks a block; paramiko (in /usr/bin/python3) logs in with
# a password or a key and reports partial success.

_LOGIN = r'''
import json, socket, sys
import paramiko

spec = json.loads(sys.argv[1])
res = {"ok": False, "partial": None, "error": ""}
s = socket.create_connection(("127.0.0.1", spec["port"]), timeout=30,
                             source_address=(spec["src"], 0))
t = paramiko.Transport(s)
t.start_client(timeout=20)
try:
    for m in spec["methods"]:
        if m == "password":
            left = t.auth_password(spec["user"], spec["password"])
        else:
            left = t.auth_publickey(
                spec["user"],
                paramiko.Ed25519Key.from_private_key_file(spec["key"]))
        if left:
            res["partial"] = left
    res["ok"] = t.is_authenticated()
except Exception as e:
    res["error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(res), flush=True)
t.close()
'''

_PASSWORD = "Cfg-" + os.urandom(6).hex()


def _login_from(ctx, src, user, methods, key=None):
    import json
    spec = json.dumps({"port": ctx.port, "src": src, "user": user,
                       "methods": list(methods), "key": key,
                       "password": _PASSWORD})
    p = subprocess.run(["/usr/bin/python3", "-c", _LOGIN, spec],
                       capture_output=True, timeout=60)
    check(p.stdout, "paramiko client died: %r" % p.stderr[-500:])
    return json.loads(p.stdout.splitlines()[0])


def test_match_address_runtime(ctx):
    """PermitRootLogin, PasswordAuthentication, AuthenticationMethods and
    AllowUsers set in Match Address blocks (the way sshd_config.d
    snippets do) take effect for real logins from those addresses, as
    sshd -T -C says they do."""
    u1 = ctx.make_user()
    u2 = ctx.make_user()
    root = "ptrt_" + os.urandom(3).hex()
    harness.run(["useradd", "-o", "-u", "0", "-g", "0", "-M", "-d", "/root",
                 "-s", "/bin/bash", root])
    ctx.cleanups.append(lambda: harness.run(["userdel", "-f", root],
                                            check_rc=False))
    for name in (u1.name, u2.name, root):
        harness.run(["chpasswd"],
                    input=("%s:%s\n" % (name, _PASSWORD)).encode())
    svc = ctx.pam_service(["auth required pam_unix.so",
                           "account required pam_unix.so",
                           "session required pam_unix.so"])
    snippet = _write(ctx, "runtime.d/50-policy.conf", "\n".join([
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
        "AllowUsers %s %s %s" % (u1.name, u2.name, root),
        "Match Address 127.0.0.2",
        "  PasswordAuthentication yes",
        "  PermitRootLogin yes",
        "Match Address 127.0.0.3",
        "  PasswordAuthentication yes",
        "  AuthenticationMethods publickey,password",
        "Match Address 127.0.0.4,127.0.0.5/32",
        "  AllowUsers %s" % u2.name,
        "Match Address 127.0.0.6",
        "  PasswordAuthentication yes",
        ""]))
    text = "Include %s\nUsePAM yes\n" % os.path.join(
        os.path.dirname(snippet), "*.conf")
    specs = ["user=%s,addr=127.0.0.%d" % (n, i) for n in (u1.name, root)
             for i in range(1, 7)]
    _compare(ctx, "runtime", text, specs=specs)
    ctx.start_server(extra_config=[text.rstrip("\n"),
                                   "PAMServiceName " + svc])

    def want(src, user, methods, ok, partial=None, key=None):
        r = _login_from(ctx, src, user, methods, key=key)
        what = "%s from %s by %s" % (user, src, "+".join(methods))
        check(r["ok"] == ok, "%s: login %s, want %s (%s)"
              % (what, "succeeded" if r["ok"] else "failed",
                 "success" if ok else "refusal", r["error"]))
        if partial is not None:
            check(r["partial"] == partial, "%s: partial success %r, want %r"
                  % (what, r["partial"], partial))

    # PasswordAuthentication: no globally, yes from .2, .3 and .6.
    want("127.0.0.1", u1.name, ["password"], False)
    want("127.0.0.2", u1.name, ["password"], True)
    want("127.0.0.6", u1.name, ["password"], True)
    # PermitRootLogin: no globally (and from .6), yes from .2.
    want("127.0.0.6", root, ["password"], False)
    want("127.0.0.1", root, ["password"], False)
    want("127.0.0.2", root, ["password"], True)
    # AuthenticationMethods publickey,password from .3 only.
    want("127.0.0.1", u1.name, ["publickey"], True, key=u1.key)
    want("127.0.0.3", u1.name, ["publickey"], False, ["password"], u1.key)
    want("127.0.0.3", u1.name, ["password"], False)
    # Both steps on one connection: OpenSSH's client, the password from
    # SSH_ASKPASS (paramiko sends a SERVICE_REQUEST per attempt).
    askpass = _write(ctx, "askpass.sh", "#!/bin/sh\necho '%s'\n" % _PASSWORD)
    os.chmod(askpass, 0o755)
    env = dict(os.environ, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force")
    for src, ok in (("127.0.0.3", True), ("127.0.0.1", True)):
        argv = ctx.ssh_argv(u1, "echo ok", extra=["-b", src], verbose=True,
                            batch=False)
        p = harness.run(argv, check_rc=False, env=env,
                        start_new_session=True, stdin=subprocess.DEVNULL)
        err = p.stderr.decode(errors="replace")
        check(p.returncode == 0 and p.stdout == b"ok\n",
              "%s from %s by publickey then password: rc %d %r"
              % (u1.name, src, p.returncode, err[-500:]))
        partial = 'Authenticated using "publickey" with partial success' \
            in err
        check(partial == (src == "127.0.0.3"), "%s from %s: partial success "
              "after publickey is %s" % (u1.name, src, partial))
    # AllowUsers replaced from .4 and .5.
    for src in ("127.0.0.4", "127.0.0.5"):
        want(src, u1.name, ["publickey"], False, key=u1.key)
        want(src, u2.name, ["publickey"], True, key=u2.key)


# AllowUsers/DenyUsers USER@HOST with HOST a list of names, addresses and
# CIDR blocks (sshd's match_user: any kind of entry may match, a negated
# one of either kind wins); each case in a Match Address block of its own
# source address: (line with U for the user, whether the user gets in).
USER_HOST_CASES = [
    ("DenyUsers {u}@gw.invalid,127.0.0.0/8", False),
    ("DenyUsers {u}@127.0.0.0/8,gw.invalid", False),
    ("DenyUsers {u}@gw.invalid,10.0.0.0/8", True),
    ("DenyUsers {u}@*,!127.0.0.0/8", True),
    ("AllowUsers {u}@gw.invalid,127.0.0.0/8", True),
    ("AllowUsers {u}@127.0.0.0/8,gw.invalid", True),
    ("AllowUsers {u}@gw.invalid,10.0.0.0/8", False),
    ("AllowUsers {u}@*,!127.0.0.0/8", False),
    ("AllowUsers {u}@!10.0.0.0/8,127.0.0.*", True),
    ("AllowUsers nobody {u}@127.0.0.0/8,!gw.invalid", True),
    # Addresses as getaddrinfo reads them: "127.N" is 127.0.0.N.
    ("DenyUsers {u}@{short}", False),
    ("AllowUsers {u}@{short}", True),
]


def test_user_host_lists_runtime(ctx):
    u = ctx.make_user()
    lines = []
    for i, (line, _) in enumerate(USER_HOST_CASES):
        lines += ["Match Address 127.0.0.%d" % (20 + i),
                  "  " + line.format(u=u.name, short="127.%d" % (20 + i))]
    text = "\n".join(lines) + "\n"
    _compare(ctx, "user_host", text, specs=[
        "user=%s,addr=127.0.0.%d" % (u.name, 20 + i)
        for i in range(len(USER_HOST_CASES))])
    ctx.start_server(extra_config=lines)
    for i, (line, ok) in enumerate(USER_HOST_CASES):
        src = "127.0.0.%d" % (20 + i)
        r = ctx.ssh(u, "echo ok", extra=["-b", src])
        check((r.rc == 0 and r.stdout == b"ok\n") == ok,
              "%r from %s: login %s, sshd would %s it" % (
                  line, src, "worked" if r.rc == 0 else "refused",
                  "allow" if ok else "refuse"))


def test_compat_conn_spec_errors(ctx):
    """A bad -C specification: both refuse it with sshd's exit code (1),
    and posternd says why in sshd's words on stderr (not silently). -C
    without -T (with -t, or alone) is refused, as by sshd, rather than
    ignored: alone, posternd used to go on and serve."""
    key = _setup(ctx)
    pidfile = os.path.join(ctx.dir, "spec.pid")
    path = _write(ctx, "cfg_spec", "HostKey %s\nPort %d\nListenAddress "
                  "127.0.0.1\nPidFile %s\n" % (key, harness.free_port(),
                                              pidfile))

    def kill_stray():
        # A regression would leave a daemon behind: stop it.
        try:
            with open(pidfile) as f:
                os.kill(int(f.read().split()[0]), 15)
        except (OSError, ValueError):
            pass
    ctx.cleanups.append(kill_stray)
    for args in (["-T", "-C", "group=x"], ["-T", "-C", "USER=a"],
                 ["-T", "-C", "lport=abc"], ["-T", "-C", "lport=99999"],
                 ["-T", "-C", "user=a,colour=red"], ["-C", "foo=bar"],
                 ["-t", "-C", "user=root"], ["-C", "user=root"],
                 ["-C", "user=root", "-T", "-t"]):
        what = " ".join(args)
        s_rc, _, s_err = _dump([SSHD, "-f", path] + args)
        p_rc, _, p_err = _dump([ctx.server_path, "-f", path] + args)
        check(s_rc != 0 and p_rc == s_rc, "%s: sshd exit %d, posternd "
              "exit %d" % (what, s_rc, p_rc))
        check(s_err.strip() and s_err.strip() == p_err.strip(),
              "%s: posternd's stderr %r, sshd's %r" % (what, p_err, s_err))
        check(not os.path.exists(pidfile),
              "%s: posternd started serving" % what)
    # Each -C adds to those before it, as sshd's.
    for specs, want in ((("user=alice", "addr=1.2.3.4"), "3"),
                        (("user=alice,addr=1.2.3.4", "addr=1.2.3.5"), "10")):
        lines = _compare(ctx, "spec_add", "Match User alice Address 1.2.3.4"
                         "\n  MaxSessions 3\n",
                         extra=[a for sp in specs for a in ("-C", sp)])
        check("maxsessions %s" % want in lines, "-C %s: maxsessions %r "
              "(want %s)" % (" -C ".join(specs), [
                  l for l in lines if l.startswith("maxsessions")], want))


def test_compat_dump_log_level_from_command_line(ctx):
    """-T -C with LogLevel DEBUG1 in the file prints only the dump, as
    sshd 9.2: -t and -T log at the command line's level, so a Match
    line's "user X matched" debug shows with -o LogLevel=DEBUG1 (or -d),
    not from the file's LogLevel (posternd printed it on stderr)."""
    key = _setup(ctx)
    path = _write(ctx, "cfg_dumplevel", "HostKey %s\nLogLevel DEBUG1\n"
                  "Match User alice\n  MaxSessions 3\n" % key)
    matched = "debug1: user alice matched 'User alice' at line 3"
    for extra, shown in (([], False), (["-o", "LogLevel=DEBUG1"], True)):
        argv = ["-T", "-f", path, "-C", "user=alice"] + extra
        s_rc, s_lines, s_err = _dump([SSHD] + argv)
        p_rc, p_lines, p_err = _dump([ctx.server_path] + argv)
        what = " ".join(argv)
        check(s_rc == 0 and p_rc == 0, "%s: exit sshd %d, posternd %d (%s)"
              % (what, s_rc, p_rc, p_err.strip()))
        check("maxsessions 3" in s_lines and "maxsessions 3" in p_lines,
              "%s: Match block not applied" % what)
        check((matched in s_err.splitlines()) == shown,
              "%s: sshd's stderr %r (the test's premise)" % (what, s_err))
        if shown:
            check(matched in p_err.splitlines(), "%s: posternd's stderr "
                  "%r lacks %r" % (what, p_err, matched))
        else:
            check(p_err == "", "%s: posternd's stderr %r, sshd's is empty"
                  % (what, p_err))


def test_compat_unknown_keyword_in_match(ctx):
    """An unknown keyword inside a Match block: sshd 9.2 says it is no
    configuration option, then that it is not allowed within a Match
    block, and stops there (no "terminating" summary); posternd the same.
    At the top level (or under Match All) both count it and go on."""
    key = _setup(ctx)
    for name, text in (("in_match", "Match User x\n  Bogusword 1\n"),
                       ("global", "Bogusword 1\nMatch User x\n"
                                  "  PermitTTY no\n"),
                       ("match_all", "Match All\n  Bogusword 1\n")):
        path = _write(ctx, "cfg_unknown_%s" % name, "HostKey %s\n%s"
                      % (key, text))
        s_rc, _, s_err = _dump([SSHD, "-t", "-f", path])
        p_rc, _, p_err = _dump([ctx.server_path, "-t", "-f", path])
        check(s_rc == 255 and p_rc == s_rc and p_err == s_err,
              "%s: sshd exit %d %r, posternd exit %d %r"
              % (name, s_rc, s_err, p_rc, p_err))


def _doc_keywords():
    """The keywords of docs/sshd_config.md's table."""
    doc = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "docs", "sshd_config.md")
    with open(doc) as f:
        return re.findall(r"^\| `([A-Za-z0-9]+)` \|", f.read(), re.M)


def test_compat_match_allowed(ctx):
    """Every keyword posternd knows, inside a Match block: refused ("not
    allowed within a Match block") by posternd exactly when sshd refuses
    it (keywords sshd does not know are left out)."""
    key = _setup(ctx)
    path = os.path.join(ctx.dir, "cfg_in_match")
    kws = [k for k in _doc_keywords() if k not in ("Include", "Match")]
    check(len(kws) > 100, "docs/sshd_config.md lists only %d keywords"
          % len(kws))
    bad = []
    for kw in kws:
        _write(ctx, "cfg_in_match", "HostKey %s\nMatch User x\n%s x\n"
               % (key, kw))
        s = _dump([SSHD, "-t", "-f", path])[2]
        if "Bad configuration option" in s:
            continue
        p = _dump([ctx.server_path, "-t", "-f", path])[2]
        if ("not allowed within a Match" in s) != \
                ("not allowed within a Match" in p):
            bad.append("%s: sshd %r, posternd %r" % (kw, s.strip()[-120:],
                                                     p.strip()[-120:]))
    check(not bad, "Match-allowed keywords differ:\n" + "\n".join(bad))


# Yes/no keywords take only "yes" and "no" (any case) in sshd, globally and
# in Match blocks; "true", "on", "1" are errors.
BOOLEAN_KEYWORDS = (
    "PasswordAuthentication", "PubkeyAuthentication",
    "KbdInteractiveAuthentication", "PermitEmptyPasswords", "PermitTTY",
    "PermitUserRC", "X11Forwarding", "AllowAgentForwarding",
    "DisableForwarding", "ExposeAuthInfo", "UsePAM", "StrictModes",
    "PrintMotd", "TCPKeepAlive", "StreamLocalBindUnlink")


def test_compat_yes_no(ctx):
    for kw in BOOLEAN_KEYWORDS:
        for v in ("yes", "no", "YES", "No"):
            _compare(ctx, "yn", "%s %s\n" % (kw, v))
        for v in ("true", "on", "1", "yes no", "y"):
            _compare(ctx, "yn_bad", "%s %s\n" % (kw, v), valid=False)
    for kw in ("PasswordAuthentication", "PermitTTY", "X11Forwarding"):
        _compare(ctx, "yn_match", "%s yes\nMatch User x\n%s NO\n" % (kw, kw),
                 specs=("user=x", "user=y"))


def test_compat_fingerprint_hash(ctx):
    """FingerprintHash: -T prints the digest as sshd does, a bad or missing
    name is refused in sshd's words, and the auth log's key fingerprint
    uses the digest, as sshd's does (ssh-keygen -l -E spells it)."""
    for h in ("md5", "SHA1", "sha384", "Sha512", "sha256"):
        lines = _compare(ctx, "fph_" + h, "FingerprintHash %s\n" % h)
        check("fingerprinthash %s" % h.upper() in lines,
              "FingerprintHash %s: posternd -T prints %r" % (h, [
                  x for x in lines if x.startswith("fingerprinthash")]))
    # The last line wins, as in sshd (an Include'd snippet before the
    # main file's line, say), and a -o value gives way to the file's.
    _setup(ctx)
    snippet = _write(ctx, "fph.d/50.conf", "FingerprintHash md5\n")
    for extra in ((), ("-o", "FingerprintHash=sha512")):
        lines = _compare(ctx, "fph_last", "Include %s\nFingerprintHash "
                         "sha256\n" % snippet, extra=extra)
        check("fingerprinthash SHA256" in lines,
              "FingerprintHash %s: the last line did not win: %r"
              % (" ".join(extra), lines))
    key = _setup(ctx)
    for name, text in (("bad", "FingerprintHash sha3\n"),
                       ("missing", "FingerprintHash\n")):
        path = _write(ctx, "fph_" + name, "HostKey %s\n%s" % (key, text))
        s_rc, _, s_err = _dump([SSHD, "-t", "-f", path])
        p_rc, _, p_err = _dump([ctx.server_path, "-t", "-f", path])
        check(s_rc != 0 and p_rc != 0 and s_err.strip() and
              s_err.strip().splitlines()[0] in p_err,
              "FingerprintHash %s: sshd exit %d %r, posternd exit %d %r"
              % (name, s_rc, s_err, p_rc, p_err))
    u = ctx.make_user()
    want = harness.run(["ssh-keygen", "-l", "-E", "md5", "-f",
                        u.pubkey]).stdout.decode().split()[1]
    check(want.startswith("MD5:"), "ssh-keygen -E md5 printed %r" % want)
    for server in (ctx.server_path, SSHD):
        ctx.start_server(["FingerprintHash md5"], server=server)
        try:
            _login(ctx, u, True, "FingerprintHash md5 (%s)" % server)
            check(ctx.wait_log(r"^Accepted publickey for %s from "
                               r"127\.0\.0\.1 port \d+ ssh2: ED25519 %s$"
                               % (u.name, re.escape(want))),
                  "FingerprintHash md5 (%s): no Accepted line with %s"
                  % (server, want))
        finally:
            ctx.stop_server()


def test_compat_fingerprint_hash_certificate(ctx):
    """FingerprintHash sha512 and a certificate with a 20-digit serial
    (as CAs that pick serials at random issue them): the Accepted line
    carries both whole fingerprints, as sshd's does."""
    u = ctx.make_user(with_key=False)
    ca = ctx.new_key("ca")
    key = ctx.new_key("user")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "id-" + u.name, "-n",
                 u.name, "-z", "18446744073709551615", key + ".pub"])
    lines = []
    for server in (ctx.server_path, SSHD):
        ctx.start_server(["FingerprintHash sha512",
                          "TrustedUserCAKeys %s.pub" % ca], server=server)
        try:
            r = ctx.ssh(u, "echo ok", key=key)
            check(r.rc == 0 and r.stdout == b"ok\n", "certificate login "
                  "(%s): rc %s %s" % (server, r.rc, r.err[-300:]))
            m = ctx.wait_log(r"^Accepted publickey for %s from 127\.0\.0\.1 "
                             r"port \d+ ssh2: (.*)$" % u.name)
            check(m, "no Accepted line (%s)" % server)
            lines.append(m.group(1))
        finally:
            ctx.stop_server()
        os.unlink(ctx.log_path)
    check(lines[0] == lines[1], "the Accepted line's key part:\n"
          "posternd %r\nsshd     %r" % tuple(lines))


def test_compat_command_line_errors(ctx):
    """A bad -o option: "command-line line 0", as sshd, and the first bad
    one ends the run (sshd reports no second one); a bad -p or -g value in
    sshd's words. The exit code is sshd's: 1 for an unknown keyword, a
    missing value, bad quotes, -p and -g; 255 for a bad value (sshd's
    fatal())."""
    key = _setup(ctx)
    path = _write(ctx, "cfg_cmdline", "HostKey %s\n" % key)
    for opts in (["-o", "Port=x", "-o", "Bogus=1"], ["-o", "Bogus=1"],
                 ["-o", "FingerprintHash="], ["-o", "Port=22", "-o",
                                              "PermitRootLogin=maybe"],
                 ["-o", "MaxSessions"], ["-o", "Port=\"22"],
                 ["-o", "PermitRootLogin no extra"],
                 ["-p", "0"], ["-p", "70000"], ["-p", "22x"],
                 ["-p", "nosuchservice"], ["-g", "x"], ["-g", "1q"],
                 ["-q", "-o", "PermitRootLogin=maybe"], ["-q", "-o", "Bogus=1"],
                 ["-q", "-f", os.path.join(ctx.dir, "no_such_config")],
                 # Two errors: the first on the command line is the one
                 # (sshd parses -o where it stands; posternd after the
                 # other flags said "Bad port number.", exit 1)
                 ["-o", "Bogus=1", "-p", "0"],
                 ["-o", "PermitRootLogin=maybe", "-g", "x"],
                 ["-o", "PermitRootLogin=maybe", "-p", "x"],
                 ["-p", "x", "-o", "PermitRootLogin=maybe"],
                 # sshd's error(), not fatal(): exit 1 (posternd: 255)
                 ["-o", "PubkeyAuthOptions=bogus"],
                 # A deprecated -o's line, then the later flag's error
                 # (posternd said only the error)
                 ["-o", "UsePrivilegeSeparation=yes", "-p", "0"]):
        for mode in ("-t", "-T"):
            s_rc, _, s_err = _dump([SSHD, mode, "-f", path] + opts)
            p_rc, _, p_err = _dump([ctx.server_path, mode, "-f", path] +
                                   opts)
            s_l, p_l = s_err.strip().splitlines(), p_err.strip().splitlines()
            check(s_rc != 0 and p_rc == s_rc and len(s_l) == len(p_l) and
                  all(l in harness.sshd_words([p]) for l, p in zip(s_l, p_l)),
                  "%s %s: sshd exit %d %r, posternd exit %d %r"
                  % (mode, " ".join(opts), s_rc, s_err, p_rc, p_err))
    # An unknown flag, or one without its value: sshd's first line (its
    # getopt's words), then a version line and the usage, exit 1.
    for args in (["-Z"], ["-f"], ["-t", "-p"]):
        got = []
        for server in (SSHD, ctx.server_path):
            rc, _out, err = _dump([server] + args)
            lines = err.splitlines()
            got.append((rc, lines[:1], len(lines) > 2 and
                        lines[2].startswith("usage: ")))
        check(got[0] == got[1] and got[0][0] == 1,
              "%s: sshd (exit, first line, usage) %r, posternd %r"
              % ((" ".join(args),) + tuple(got)))
    # -p takes a service name as sshd's a2port() does.
    ports = [l for l in _compare(ctx, "port_names", "", extra=[
        "-p", "ssh", "-p", "https", "-p", "2022"]) if l.startswith("port ")]
    check(ports == ["port 22", "port 443", "port 2022"],
          "-p ssh -p https -p 2022: %r" % ports)
    # As sshd reads its command line: an -o Port before the first -p
    # joins -p's ports, in order; one after it is ignored, as are the
    # configuration's Port lines (side by side through _compare).
    for args in (["-o", "Port=2201", "-p", "2200", "-p", "2202"],
                 ["-p", "2200", "-o", "Port=2201"],
                 ["-o", "port 2201", "-o", "Port=ssh", "-p", "2200"],
                 # -4/-6/-g anywhere: the ordering holds (review)
                 ["-4", "-o", "Port=2201", "-p", "2200"],
                 ["-o", "Port=2201", "-p", "2200", "-6", "-g", "30"],
                 ["-o", "Port=2201", "-o", "Port=2203", "-p", "2200",
                  "-o", "Port=2204", "-4"]):
        _compare(ctx, "port_order", "Port 2299\n", extra=args)
    # MaxStartups read as sshd's sscanf("%d:%d:%d") reads it.
    for v in ("10:30:100x", "10:30:100:5", "10x", "10::20", " 7"):
        _compare(ctx, "maxstartups", "MaxStartups %s\n" % v)
    # sshd sets the fields of -4/-6 and -g outright: the last flag wins,
    # over an -o for the same keyword before or after it.
    for args in (["-6", "-4"], ["-4", "-6"], ["-o", "AddressFamily=inet6",
                                              "-4"],
                 ["-6", "-o", "AddressFamily=inet"],
                 ["-g", "5", "-o", "LoginGraceTime=7"],
                 ["-o", "LoginGraceTime=7", "-g", "5"], ["-g", "5", "-g", "9"]):
        _compare(ctx, "flags", "", extra=args)
    # -d and -q as sshd counts them: the first -d is DEBUG1, a later one
    # raises the level from wherever -q left it (-d -q -d: FATAL; posternd
    # said DEBUG2).
    for args in (["-d", "-q", "-d"], ["-d", "-q", "-d", "-d"], ["-q", "-d"],
                 ["-d", "-d", "-q"], ["-d", "-d", "-d", "-d"]):
        _compare(ctx, "levels", "", extra=args)
    # The last of -t and -T decides, as in sshd: -T -t prints nothing.
    for args in (["-T", "-t"], ["-t", "-T"]):
        s_rc, s_out, _ = _dump([SSHD, "-f", path] + args)
        p_rc, p_out, _ = _dump([ctx.server_path, "-f", path] + args)
        check(s_rc == 0 and p_rc == 0 and bool(s_out) == bool(p_out),
              "%s: sshd printed %d lines, posternd %d"
              % (" ".join(args), len(s_out), len(p_out)))


def test_compat_unreadable_config_bytes(ctx):
    """A configuration file (or an Include'd one) that cannot be opened:
    sshd's perror() line, byte for byte, ending in "\\n" where a log
    line ends in "\\r\\n" (review: posternd's ended in "\\r\\n"), with
    -t, -T and when starting, missing or unreadable (as a user)."""
    key = _setup(ctx)
    u = ctx.make_user(with_key=False)
    missing = os.path.join(ctx.dir, "no_such_config")
    unread = _write(ctx, "cfg_unread", "HostKey %s\n" % key)
    os.chmod(unread, 0o600)
    inc = _write(ctx, "cfg_inc", "Include %s\n" % unread)
    os.chmod(inc, 0o644)
    as_user = ["setpriv", "--reuid=" + u.name, "--regid=" + u.name,
               "--clear-groups"]
    for prefix, path in (([], missing), (as_user, unread),
                         (as_user, inc)):
        for mode in ("-t", "-T", "-D"):
            got = []
            for server in (SSHD, ctx.server_path):
                p = harness.run(prefix + [server, mode, "-f", path, "-p",
                                          "1"], check_rc=False)
                got.append((p.returncode, p.stderr))
            check(got[0] == got[1] and got[0][0] == 1,
                  "%s %s: sshd %r, posternd %r" % (mode, path, got[0],
                                                   got[1]))


def test_compat_cmdline_loglevel_sets_files_level(ctx):
    """-o LogLevel=X, as sshd (whose log_init() takes the command line's
    level before it reads the files), is the level of the configuration
    files' messages too, as -q and -d are: -o LogLevel=QUIET prints
    none of a file's bad lines, FATAL only the "terminating" summary.
    posternd read the files at INFO whatever -o said."""
    key = _setup(ctx)
    bad = _write(ctx, "cfg_cmdline_level",
                 "HostKey %s\nBogusKeyword yes\nMaxSessions\n" % key)
    for level in ("QUIET", "FATAL", "ERROR"):
        got = []
        for server in (SSHD, ctx.server_path):
            rc, _out, err = _dump([server, "-t", "-f", bad, "-o",
                                   "LogLevel=" + level])
            got.append((rc, err.strip().splitlines()))
        check(got[0][0] == got[1][0] == 255 and
              len(got[0][1]) == len(got[1][1]) and
              all(l in harness.sshd_words([p])
                  for l, p in zip(got[0][1], got[1][1])),
              "-o LogLevel=%s: sshd %r, posternd %r"
              % (level, got[0], got[1]))


def test_compat_log_file_takes_config_errors(ctx):
    """-E: as sshd, the configuration file's complaints go to the log
    file (its bad lines, its "terminating" summary, a host key that does
    not load); those about the command line (-o) and a file that cannot
    be read stay on stderr. Before, posternd set the log file only after
    reading the configuration, so a daemon started with -E told its bad
    lines to a terminal nobody watched."""
    key = _setup(ctx)
    good = _write(ctx, "cfg_logfile_good", "HostKey %s\n" % key)
    bad = _write(ctx, "cfg_logfile_bad",
                 "HostKey %s\nBogusKeyword yes\nMaxSessions\n" % key)
    fatal = _write(ctx, "cfg_logfile_fatal",
                   "HostKey %s\nPermitRootLogin maybe\n" % key)
    nokey = _write(ctx, "cfg_logfile_nokey", "HostKey %s\n"
                   % os.path.join(ctx.dir, "no_such_hostkey"))
    # sshd's error() for a bad value, counted as a bad option (posternd
    # ended at it: no "terminating" line)
    pao = _write(ctx, "cfg_logfile_pao",
                 "HostKey %s\nPubkeyAuthOptions bogus\nBogus2 x\n" % key)
    cases = [["-t", "-f", bad], ["-T", "-f", bad], ["-t", "-f", fatal],
             # LogLevel FATAL: the summary is sshd's fatal(), still said
             ["-d", "-q", "-d", "-t", "-f", bad],
             ["-t", "-f", nokey], ["-t", "-f", pao],
             ["-t", "-f", good, "-o", "Bogus=1"],
             ["-t", "-f", good, "-o", "Port=x"],
             ["-t", "-f", os.path.join(ctx.dir, "no_such_config")],
             ["-D", "-p", str(harness.free_port()), "-f", bad]]
    # Two -E: as sshd, the last is the log file; the first is not
    # created (posternd opened both).
    first = os.path.join(ctx.dir, "logfile-first")
    for server in (SSHD, ctx.server_path):
        rc, _out, err = _dump([server, "-E", first, "-E", os.path.join(
            ctx.dir, "logfile-last-%s" % os.path.basename(server)),
            "-t", "-f", bad])
        check(rc == 255 and not os.path.exists(first) and "Bogus" in
              harness.read_text(os.path.join(ctx.dir, "logfile-last-%s" %
                                             os.path.basename(server))),
              "%s -E first -E last: exit %d, stderr %r, first log %s"
              % (server, rc, err, "created" if os.path.exists(first)
                 else "absent"))

    def same(s_lines, p_lines):
        return len(s_lines) == len(p_lines) and all(
            l in harness.sshd_words([p]) for l, p in zip(s_lines, p_lines))
    for n, args in enumerate(cases):
        got = []
        for server in (SSHD, ctx.server_path):
            log = os.path.join(ctx.dir, "logfile-%d-%s" % (
                n, os.path.basename(server)))
            rc, _out, err = _dump([server, "-E", log] + args)
            # (sshd opens it after its -o options: a bad one, no file)
            text = harness.read_text(log) if os.path.exists(log) else ""
            got.append((rc, err.strip().splitlines(),
                        text.strip().splitlines()))
        (s_rc, s_err, s_log), (p_rc, p_err, p_log) = got
        check(s_rc != 0 and (s_err or s_log), "sshd %s: exit %d, said "
              "nothing" % (" ".join(args), s_rc))
        check(p_rc == s_rc and same(s_err, p_err) and same(s_log, p_log),
              "%s: sshd exit %d, stderr %r, log file %r; posternd exit "
              "%d, stderr %r, log file %r" % ((" ".join(args),) +
                                             got[0] + got[1]))


def test_compat_debug_mode_one_connection(ctx):
    """-d serves one connection, as sshd -d: a second client that comes
    while the first's session runs is refused (the listening sockets are
    closed), the first one's output arrives whole, and the server then
    exits with sshd's code, 255."""
    harness.openssh_sshd()
    u = ctx.make_user()
    ours = ctx.server_path
    seen, starts = {}, {}
    for server in (SSHD, ours):
        ctx.server_path = server
        ctx.write_config()
        pidfile = os.path.join(ctx.dir, "posternd.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        ctx.launch_server(["-d"])
        first = ctx.popen(ctx.ssh_argv(u, "sleep 2; echo first"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            check(ctx.wait_log(r"Accepted publickey for %s " % u.name, 15),
                  "%s -d: the first login was not accepted" % server)
            # As sshd: no pid file in debug mode (it would replace the
            # running server's).
            check(not os.path.exists(pidfile), "%s -d wrote its PidFile"
                  % server)
            second = ctx.ssh(u, "echo second")
            out, _err = first.communicate(timeout=30)
            rc = ctx.proc.wait(30)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
            ctx.stop_server()
        seen[server] = (second.rc, b"second" in second.stdout,
                        first.returncode, out.endswith(b"first\n"), rc)
        # sshd's start-up debug lines, the version's name aside.
        starts[server] = [
            re.sub(r"^debug1: \S+ version \S+, OpenSSL .*",
                   "debug1: NAME version V, OpenSSL V", l)
            for l in ctx.server_log().splitlines()
            if re.match(r"debug1: (\S+ version \S+, OpenSSL |private host "
                        r"key #|Bind to port |Server will not fork)", l)]
        os.unlink(ctx.log_path)
        ctx.proc = None
    ctx.server_path = ours
    want = (255, False, 0, True, 255)
    check(seen[SSHD] == want, "sshd -d: (second rc, served, first rc, "
          "output whole, server exit) %r, want %r" % (seen[SSHD], want))
    check(seen[ours] == want, "posternd -d: (second rc, served, first rc, "
          "output whole, server exit) %r, want %r (as sshd)"
          % (seen[ours], want))
    # sshd -d prints its version and keys twice (its re-exec'd child too).
    check(len(starts[SSHD]) >= 4 and
          starts[ours] == list(dict.fromkeys(starts[SSHD])),
          "-d start-up lines: posternd %r, sshd %r"
          % (starts[ours], starts[SSHD]))
    # A SIGHUP once the connection is accepted ends posternd -d (sshd's
    # SIGHUP is back to its default action then): it does not restart
    # into a listener that would serve a second client.
    ctx.write_config()
    ctx.launch_server(["-d"])
    first = ctx.popen(ctx.ssh_argv(u, "sleep 3; echo first"),
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        check(ctx.wait_log(r"Accepted publickey for %s " % u.name, 15),
              "posternd -d: the login was not accepted")
        ctx.proc.send_signal(signal.SIGHUP)
        try:
            rc = ctx.proc.wait(10)
        except subprocess.TimeoutExpired:
            fail("posternd -d went on after a SIGHUP")
        check(rc == 255, "posternd -d: exit %s after a SIGHUP, want 255"
              % rc)
        check(not harness.port_listening(ctx.port),
              "posternd -d listens again after a SIGHUP")
    finally:
        first.kill()
        first.communicate()
        ctx.stop_server()


def test_compat_dsa_names_left_out_with_a_warning(ctx):
    """ssh-dss and its certificate name, which sshd 9.2 still knows, are
    accepted in the key algorithm lists with a warning naming the file,
    line and keyword, and left out of -T (posternd has no DSA: before,
    -T listed them and a DSA key was refused at login without a word);
    a list of DSA alone is refused, as a cipher list postern implements
    none of."""
    key = _setup(ctx)
    path = _write(ctx, "cfg_dsa", "HostKey %s\n"
                  "PubkeyAcceptedAlgorithms +ssh-dss,ssh-dss-cert-v01"
                  "@openssh.com\nCASignatureAlgorithms +ssh-dss\n" % key)
    rc, lines, err = _dump([ctx.server_path, "-T", "-f", path])
    check(rc == 0, "posternd -T refused it: %s" % err)
    for n, kw, name in ((2, "PubkeyAcceptedAlgorithms", "ssh-dss"),
                        (2, "PubkeyAcceptedAlgorithms",
                         "ssh-dss-cert-v01@openssh.com"),
                        (3, "CASignatureAlgorithms", "ssh-dss")):
        want = "%s line %d: %s %s is not implemented by postern; left out" \
            % (path, n, kw, name)
        check(want in err, "no warning %r in %r" % (want, err))
    listed = [l for l in lines if l.split(" ", 1)[0] in _KEY_LISTS and
              "dss" in l]
    check(not listed, "-T lists DSA: %r" % listed)
    bad = _write(ctx, "cfg_dsa_only", "HostKey %s\n"
                 "HostKeyAlgorithms ssh-dss\n" % key)
    rc, _, err = _dump([ctx.server_path, "-t", "-f", bad])
    check(rc != 0 and "postern implements none of these" in err,
          "a DSA-only HostKeyAlgorithms: rc %s %r" % (rc, err))


def test_compat_tilde_of_missing_user_in_match_for_others(ctx):
    """A ~user path in a Match block for someone else is not expanded, as
    in sshd: once that account is gone, the config still loads and other
    users log in. Before, every connection's monitor failed to parse it
    (tilde_expand: No such user), so nobody could log in; the users the
    block applies to still fail, as with sshd."""
    for kw in ("Banner", "TrustedUserCAKeys", "RevokedKeys",
               "AuthorizedPrincipalsFile"):
        _check_t(ctx, "tilde_%s" % kw.lower(), "Match User rvnobody-here\n"
                 "\t%s ~rvgone-account/x\n" % kw, True)
    u = ctx.make_user()
    ctx.start_server(["Match User rvnobody-here",
                      "\tBanner ~rvgone-account/banner",
                      "\tRevokedKeys ~rvgone-account/revoked"])
    ctx.ssh_ok(u, "echo in", expect_out=b"in\n")


def test_compat_tilde_of_missing_user_in_match_for_them(ctx):
    """The users a Match block with a ~gone-account/ path applies to: as
    sshd, whose tilde_expand_filename() ends the connection when the
    block is applied, the login fails after tilde_expand's line, and the
    log blames neither the client nor preauth."""
    u = ctx.make_user()
    for kw in ("Banner", "TrustedUserCAKeys", "RevokedKeys",
               "AuthorizedPrincipalsFile"):
        ctx.start_server(["Match User " + u.name,
                          "\t%s ~rvgone-account/x" % kw])
        r = ctx.ssh(u, "echo in")
        check(r.rc == 255, "%s ~rvgone-account/x: ssh exit %s"
              % (kw, r.rc))
        check(ctx.wait_log(r"^tilde_expand: No such user rvgone-account$",
                           5), "%s: no tilde_expand line" % kw)
        log = ctx.server_log()
        for bad in ("bad message", "could not be applied", "Failed ",
                    "Accepted "):
            check(bad not in log, "%s ~rvgone-account/x: %r in the "
                  "log: %r" % (kw, bad, log[-800:]))
        ctx.stop_server()
        os.truncate(ctx.log_path, 0)


def test_relative_config_path_as_sshd(ctx):
    """-f with a path relative to the working directory (sshd -t and -T
    take it): the same exit status and output as sshd's, for a valid
    config, -T with -C, and an -o value -t refuses. Under the ASan
    build this also catches memory that -t's exits left allocated (the
    absolute path posternd makes of a relative -f leaked: exit 1)."""
    key = _setup(ctx)
    _write(ctx, "rel_cfg", "HostKey %s\n" % key)
    for name, extra in (
            ("-t", ["-t"]),
            ("-T", ["-T", "-C", "user=alice,addr=10.1.1.1"]),
            ("bad -o", ["-t", "-o", "Port=99999"])):
        s = harness.run([SSHD, "-f", "rel_cfg"] + extra, check_rc=False,
                        cwd=ctx.dir)
        p = harness.run([ctx.server_path, "-f", "rel_cfg"] + extra,
                        check_rc=False, cwd=ctx.dir)
        check(p.returncode == s.returncode,
              "%s -f rel_cfg: posternd exit %d (%r), sshd exit %d (%r)"
              % (name, p.returncode, p.stderr[-2000:], s.returncode,
                 s.stderr[-300:]))
        if name == "-t":
            check(p.stdout == b"" and p.stderr == b"",
                  "-t -f rel_cfg is not silent: %r %r"
                  % (p.stdout, p.stderr[-2000:]))
        if name == "-T":
            check(b"port 22\n" in p.stdout, "-T printed no port line: %r"
                  % p.stdout[:300])


def test_compat_gss_kex_names_by_prefix(ctx):
    """Debian's sshd 9.2 takes a GSSAPI key exchange name by its prefix
    (kex_alg_by_name()): "gss-group14-sha256-" followed by the mechanism's
    OID hash (or anything else) in KexAlgorithms and GSSAPIKexAlgorithms.
    posternd must load the same files (and leave the name out of what it
    offers), and refuse the same ones, naming sshd's bad entry."""
    key = _setup(ctx)
    oid = "toWM5Slw5Ew8Mqkay+al2g=="
    for name, text, valid in (
            ("kex_oid", "KexAlgorithms curve25519-sha256,"
             "gss-gex-sha1-%s\n" % oid, True),
            ("kex_oid_plus", "KexAlgorithms +gss-group14-sha256-%s\n" % oid,
             True),
            ("kex_oid_caret", "KexAlgorithms ^gss-curve25519-sha256-x,"
             "curve25519-sha256\n", True),
            ("kex_prefix_star", "KexAlgorithms curve25519-sha256,"
             "gss-nistp256-sha256-*\n", True),
            ("kex_oid_bad_after", "KexAlgorithms gss-group14-sha256-x,"
             "nosuch\n", False),
            ("kex_gss_unknown", "KexAlgorithms curve25519-sha256,gss-x\n",
             False),
            ("gsskex_oid", "GSSAPIKexAlgorithms gss-gex-sha1-%s,"
             "gss-group16-sha512-\n" % oid, True),
            ("gsskex_oid_bad_after", "GSSAPIKexAlgorithms "
             "gss-group1-sha1-x,curve25519-sha256\n", False),
            ("gsskex_plus", "GSSAPIKexAlgorithms +gss-group1-sha1-x\n",
             False),
            # A long hash is still taken by its prefix; the bad entry
            # after it is the one named.
            ("kex_long_oid_bad_after", "KexAlgorithms gss-group14-sha256-"
             "%s,nosuch\n" % ("x" * 200), False),
            ("gsskex_long_oid_bad_after", "GSSAPIKexAlgorithms "
             "gss-gex-sha1-%s,nosuch\n" % ("x" * 200), False)):
        _compare(ctx, name, text, valid=valid)
        path = _write(ctx, "t_%s" % name, "HostKey %s\n%s" % (key, text))
        s = harness.run([SSHD, "-t", "-f", path], check_rc=False)
        p = harness.run([ctx.server_path, "-t", "-f", path], check_rc=False)
        check((s.returncode == 0) == valid and
              (p.returncode == 0) == valid,
              "%s: -t: sshd exit %d, posternd exit %d (%r), expected %s"
              % (name, s.returncode, p.returncode, p.stderr[-500:],
                 "valid" if valid else "invalid"))
        if not valid:
            words = harness.sshd_words(
                p.stderr.decode(errors="replace").splitlines())
            for line in s.stderr.decode(errors="replace").splitlines():
                check(line in words, "%s: sshd says %r, posternd %r"
                      % (name, line, words))


def test_compat_empty_entry_ends_algorithm_check(ctx):
    """sshd 9.2 checks an algorithm list's names up to its first empty
    entry (its strsep() loops stop there), and leaves the unknown names
    after it out: "Ciphers aes128-ctr,,bogus" loads and is aes128-ctr.
    posternd refused such a file (a typo sshd lets pass kept it from
    starting). The lists, as -T prints them, are sshd's; a login through
    each works."""
    u = ctx.make_user()
    lines = ["Ciphers aes128-ctr,,bogus", "MACs hmac-sha2-256,,bogus",
             "KexAlgorithms curve25519-sha256,,bogus",
             "HostKeyAlgorithms ssh-ed25519,,bogus",
             "PubkeyAcceptedAlgorithms ssh-ed25519,,bogus",
             "CASignatureAlgorithms ssh-ed25519,,bogus"]
    for i, line in enumerate(lines):
        _compare(ctx, "empty_entry_%d" % i, line + "\n")
    _compare(ctx, "empty_entry_valid_after",
             "Ciphers aes128-ctr,,aes256-ctr\n")
    # Nothing usable before the empty entry: both refuse.
    _compare(ctx, "empty_entry_first", "KexAlgorithms ,bogus\n",
             valid=False)
    ctx.start_server(lines)
    r = ctx.ssh(u, "echo ok", extra=["-o", "Ciphers=aes128-ctr",
                                     "-o", "MACs=hmac-sha2-256"])
    check(r.rc == 0 and r.stdout == b"ok\n",
          "login through the lists: rc %s %r" % (r.rc, r.stderr[-300:]))


def test_compat_permits_empty_word(ctx):
    """PermitOpen and PermitListen as sshd 9.2 reads an empty (quoted)
    word: first, "missing argument."; after entries, it ends the list
    (the entries before it stand; a word after it is an extra argument).
    posternd refused "PermitOpen 1.2.3.4:5 ''", which sshd loads, and
    named an empty first word a bad port number. The loaded lists are
    sshd's (-T); a refused line gets sshd's message and exit code."""
    key = _setup(ctx)
    for kw in ("PermitOpen", "PermitListen"):
        _compare(ctx, "%s_empty_last" % kw, "%s 1.2.3.4:5 ''\n" % kw)
        _compare(ctx, "%s_empty_last_dq" % kw, '%s 127.0.0.1:7 ""\n' % kw)
        for i, value in enumerate(("''", "'' 1.2.3.4:5",
                                   "1.2.3.4:5 '' 6.7.8.9:10")):
            path = _write(ctx, "permits_empty_%s_%d" % (kw, i),
                          "HostKey %s\n%s %s\n" % (key, kw, value))
            s_rc, _, s_err = _dump([SSHD, "-T", "-f", path])
            p_rc, _, p_err = _dump([ctx.server_path, "-T", "-f", path])
            check(s_rc != 0, "%s %s: sshd accepted it" % (kw, value))
            check((p_rc, p_err.strip()) == (s_rc, s_err.strip()),
                  "%s %s: posternd exit %d %r, sshd exit %d %r"
                  % (kw, value, p_rc, p_err.strip(), s_rc, s_err.strip()))
