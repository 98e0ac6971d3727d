"""
test_config_corpus.py: a corpus of real-world sshd_config files and
sshd_config.d snippets (tests/integration/configs/corpus: Debian's and
Ubuntu's stock files with cloud-init's drop-ins, CIS and fail2ban
settings, SFTP jails, backup and git accounts, Match blocks by every
criterion, Include trees, tokens, odd spellings, quotes, `=`, CRLF,
Mozilla's and ssh-audit's algorithm lists, 2FA chains, OpenSSH 5/6
leftovers...),
each read by posternd and by OpenSSH's sshd 9.2 side by side:

- `-T` (and `-T -C SPEC` for each `#@ spec SPEC` line of the file) must
  print the same lines for every keyword both print; a keyword only one
  of them prints must be listed in NOT_PRINTED (with the reason);
- `-t` must agree on the exit status, and print what sshd prints (plus
  posternd's documented warnings, POSTERN_WARNING, for exactly the
  keywords of the file's `#@ warns KEYWORD...` lines);
- BAD_LINES, each under a HostKey line: both refuse, and posternd says
  what sshd says (sshd's lines, word for word, among posternd's: posternd
  goes on to report every bad line and a count where sshd stops at the
  first);
- DELIBERATE (-t) and DELIBERATE_T (-T values) list the documented
  differences, each with its reason, and fail when sshd 9.2 no longer
  differs; FIXED_T are -T lines postern prints with what it does;
- a file that cannot be opened, and sshd's flags (-q, -d, -p, -g, -4,
  -o) under -T, as sshd.

In a corpus file, @HOSTKEY@ is the test's host key and @DIR@ the
directory the corpus is copied to. Only `-t` and `-T` are run, never a
listening sshd; /usr/sbin/sshd must be installed (CI installs
openssh-server): the tests fail, never skip, without it.
"""

import os
import re
import shutil

import harness
from harness import check, fail

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs",
                      "corpus")

# Keywords `sshd -T` prints and posternd -T does not: the features they
# tune are ones postern does not offer, and no compliance check reads
# them (docs/sshd_config.md, "ignored"; the five that CIS reads,
# ignorerhosts, hostbasedauthentication, kerberosauthentication,
# gssapiauthentication and gssapikeyexchange, are printed, with what
# postern does).
NOT_PRINTED = {
    "ignoreuserknownhosts": "host-based authentication only; not offered",
    "hostbasedusesnamefrompacketonly": "host-based authentication only",
    "hostbasedacceptedalgorithms": "host-based authentication only",
    "kerberosorlocalpasswd": "no Kerberos",
    "kerberosticketcleanup": "no Kerberos",
    "gssapicleanupcredentials": "no GSSAPI",
    "gssapistrictacceptorcheck": "no GSSAPI",
    "gssapistorecredentialsonrekey": "no GSSAPI",
    "gssapikexalgorithms": "no GSSAPI key exchange",
    "securitykeyprovider": "host keys are read from their files only",
}

# Keywords of features postern never offers that -T still prints, with
# what postern does whatever the file says (docs/sshd_config.md,
# "ignored": compliance checks read them from -T).
FIXED_T = {
    "ignorerhosts": "yes",
    "hostbasedauthentication": "no",
    "kerberosauthentication": "no",
    "gssapiauthentication": "no",
    "gssapikeyexchange": "no",
}

# docs/sshd_config.md, Transport algorithms: postern's defaults are
# stricter than sshd's, so a list made from the default ("+", "-", "^")
# differs; a plain list is offered as written, less the names OpenSSH 9.2
# knows that postern does not implement (and plus, for a default, OpenSSH
# 9.9's mlkem768x25519-sha256, which sshd 9.2 does not know).
ALGO_KEYWORDS = harness.OPENSSH_ONLY_ALGS

# posternd -t's own warnings (docs/sshd_config.md): a keyword it ignores,
# an algorithm it does not implement.
# A corpus file lists the keywords it expects them for in "#@ warns KW..."
# lines; any other is a difference (sshd says nothing there).
POSTERN_WARNING = re.compile(
    r" line \d+: (?:Unsupported option (\S+) \(not implemented by "
    r"postern; ignored\)|(\S+) \S+ is not implemented by postern; left "
    r"out)$")

POSTERN_IGNORED = " (not implemented by postern; ignored)"
UNSUPPORTED = re.compile(r" line \d+: Unsupported option \S+$")

# Lines sshd 9.2 refuses (each under a HostKey line): the typos, missing
# and malformed values, misplaced keywords and bad Match lines people
# write.
BAD_LINES = [
    "PermitRootLogin without-pasword",
    "PasswordAuthentication",
    "PasswordAuthentication yes no",
    "PasswordAuthentication true",
    "PermitRootLogin #no",
    "PermitRootLogin no#comment",
    "PermitRootLogin==no",
    "Port 0",
    "Port 70000",
    "Port 22#x",
    "MaxAuthTries -1",
    "MaxAuthTries 3x",
    "MaxAuthTries 0x10",
    "MaxAuthTries 2147483648",
    "LoginGraceTime 2x",
    "LoginGraceTime 5 m",
    "ClientAliveInterval 2147483648",
    "ClientAliveCountMax abc",
    "MaxStartups 10:30",
    "MaxStartups 10:30:5",
    "LogLevel LOUD",
    "SyslogFacility KERN",
    "AddressFamily ipv4",
    "ListenAddress 127.0.0.1:99999",
    "AllowUsers",
    'AllowUsers "alice',
    'AllowUsers ""',
    'Banner "/etc/issue" extra',
    "Match",
    "Match User",
    "Match Foo bar",
    "Match User alice Address",
    "Match Address 10.0.0.0/33",
    "Match Address 10.0.0.0/8 LocalAddress 10.0.0.1/33",
    "Match LocalPort 99999",
    "Match All User x",
    "Match User x\nPermitUserEnvironment yes",
    "Match User x\nUseDNS yes",
    "Match User x\nCompression yes",
    "Match User x\nSubsystem sftp internal-sftp",
    "Include",
    "AuthorizedKeysFile",
    "X11DisplayOffset -1",
    "PermitTunnel maybe",
    "Compression zlib",
    "Ciphers",
    "MACs hmac-ripemd160",
    "PermitOpen any none",
    "PermitListen 0",
    "ChannelTimeout session=abc",
    "UnusedConnectionTimeout never",
    "SetEnv FOO",
    "AcceptEnv FOO=bar",
    "AuthenticationMethods publickey,",
    "GSSAPICleanupCreds maybe",
    "AuthorizedKeysFile ~nosuchuser/keys",
    "AuthorizedKeysFile ~nosuchuser",
]

# Lines where posternd deliberately differs from sshd 9.2, each with its
# reason (docs/sshd_config.md). "valid" is what posternd -t says.
DELIBERATE = {
    "Subsystem sftp internal-sftp\nSubsystem sftp /usr/lib/sftp-server":
        (True, "a second Subsystem for a name is ignored, as OpenSSH 9.5 "
         "and later do; sshd 9.2 refuses it (Subsystem)"),
    "Ciphers aes128-cbc,":
        (False, "a list with nothing postern implements is refused "
         "(Ciphers), not left empty"),
    "AuthenticationMethods none":
        (False, "postern offers no 'none' method (AuthenticationMethods)"),
    "Match Invalid-User\nMaxAuthTries 1":
        (True, "OpenSSH 10's Invalid-User criterion (Match)"),
    "RDomain %D":
        (False, "refused with postern's reason (RDomain)"),
    "ListenAddress 127.0.0.1 rdomain 1":
        (False, "refused with postern's reason (ListenAddress)"),
    "AuthenticationMethods publickey:x password":
        (False, "a submethod on publickey or password is refused "
         "(AuthenticationMethods)"),
    "AuthenticationMethods keyboard-interactive:":
        (False, "an empty submethod is refused (AuthenticationMethods)"),
}

# -T values where posternd deliberately differs from sshd 9.2:
# (config lines, -C spec, keyword, posternd's value, reason).
DELIBERATE_T = [
    ("Match User root\nUnusedConnectionTimeout 5\nMatch all\n"
     "UnusedConnectionTimeout none", "user=root", "unusedconnectiontimeout",
     "5", "the first value wins, none included, as sshd_config(5) says; "
     "sshd 9.2 lets a later none replace it (UnusedConnectionTimeout)"),
    ("IgnoreRhosts shosts-only", None, "ignorerhosts", "yes",
     "postern never reads rhosts or shosts files (IgnoreRhosts)"),
    ("Match User root\nHostbasedAuthentication yes", "user=root",
     "hostbasedauthentication", "no",
     "no host-based authentication (HostbasedAuthentication)"),
]


def _setup(ctx):
    """The corpus under ctx.dir/corpus with @HOSTKEY@ and @DIR@ filled in;
    returns that directory and the host key."""
    sshd = harness.openssh_sshd()
    key = os.path.join(ctx.dir, "corpus_hostkey")
    if not os.path.exists(key):
        harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                     key])
    top = os.path.join(ctx.dir, "corpus")
    if not os.path.isdir(top):
        shutil.copytree(CORPUS, top)
        for root, _, files in os.walk(top):
            for fn in files:
                p = os.path.join(root, fn)
                with open(p, "rb") as f:
                    data = f.read()
                data = data.replace(b"@HOSTKEY@", key.encode()).replace(
                    b"@DIR@", top.encode())
                with open(p, "wb") as f:
                    f.write(data)
                # Whatever the checkout's umask: a key file here is one
                # left readable by others.
                os.chmod(p, 0o644)
    return sshd, top, key


def _run(argv):
    p = harness.run(argv, check_rc=False)
    return (p.returncode, p.stdout.decode(errors="replace").splitlines(),
            p.stderr.decode(errors="replace").splitlines())


def _split(lines):
    out = {}
    for line in lines:
        k, _, v = line.partition(" ")
        out.setdefault(k, []).append(v)
    return out


def _all_text(path):
    """The file and everything in its NAME.d directory."""
    texts = []
    d = path[:-len(".conf")] + ".d"
    for p in [path] + sorted(os.path.join(r, f) for r, _, fs in os.walk(d)
                             for f in fs):
        with open(p, "rb") as f:
            texts.append(f.read().decode(errors="replace"))
    return "\n".join(texts)


def _compare_algos(kw, text, s_vals, p_vals):
    """A list keyword whose default differs by design: equal to sshd's
    (less what postern does not implement) when the config sets a plain
    list; else at least no name sshd does not offer."""
    s = s_vals[0].split(",")
    p = p_vals[0].split(",")
    if re.search(r"^\s*%s[\s=]+[^-+^\s]" % kw, text, re.I | re.M):
        want = [n for n in s if n not in ALGO_KEYWORDS[kw]]
        if p != want:
            return "%s: sshd %s, posternd %s (want sshd's less what " \
                "postern does not implement)" % (kw, ",".join(s),
                                                  ",".join(p))
        return None
    extra = [n for n in p if n not in s and n != "mlkem768x25519-sha256"]
    if extra:
        return "%s: posternd offers %s, which sshd's %s does not" \
            % (kw, extra, ",".join(s))
    return None


def _compare_T(sshd, server, name, path, text, spec):
    """Differences between the two -T outputs, as lines of text."""
    args = ["-T", "-f", path] + (["-C", spec] if spec else [])
    what = "%s%s" % (name, " -C %s" % spec if spec else "")
    s_rc, s_out, s_err = _run([sshd] + args)
    p_rc, p_out, p_err = _run([server] + args)
    if s_rc != 0:
        # A configuration sshd -T refuses (no host key loads, a Match
        # LocalPort without lport=): posternd must refuse it, saying so.
        if p_rc != s_rc or not all(l in p_err for l in s_err):
            return ["%s: sshd -T exit %d %r, posternd exit %d %r"
                    % (what, s_rc, s_err, p_rc, p_err)]
        return []
    if p_rc != 0:
        return ["%s: posternd -T failed (exit %d) where sshd -T reads the "
                "config: %r" % (what, p_rc, p_err)]
    s_map, p_map = _split(s_out), _split(p_out)
    diff = []
    if not _same_stderr(s_err, p_err, _warns(text)):
        diff.append("%s: -T: sshd printed %r, posternd %r"
                    % (what, s_err, p_err))
    for kw in s_map:
        if kw not in p_map and kw not in NOT_PRINTED:
            diff.append("%s: sshd prints %s %r, posternd nothing"
                        % (what, kw, s_map[kw]))
    for kw in p_map:
        if kw not in s_map and kw in harness.NEWER_T:
            continue
        if kw not in s_map:
            diff.append("%s: posternd prints %s %r, sshd nothing"
                        % (what, kw, p_map[kw]))
        elif kw in FIXED_T:
            if p_map[kw] != [FIXED_T[kw]]:
                diff.append("%s: posternd prints %s %r, not %r"
                            % (what, kw, p_map[kw], FIXED_T[kw]))
        elif kw in ALGO_KEYWORDS:
            d = _compare_algos(kw, text, s_map[kw], p_map[kw])
            if d:
                diff.append("%s: %s" % (what, d))
        elif s_map[kw] != p_map[kw]:
            diff.append("%s: %s: sshd %r, posternd %r"
                        % (what, kw, s_map[kw], p_map[kw]))
    return diff


def _same_stderr(s_err, p_err, warns):
    """Whether posternd printed what sshd printed: sshd's "Unsupported
    option X" is posternd's with its reason added, posternd's own
    warnings aside for exactly the keywords in warns, and sshd -T's second
    report of the deprecated keywords a Match block may hold ("reprocess
    config line N") aside."""
    s_err = [l + POSTERN_IGNORED if UNSUPPORTED.search(l) else l
             for l in s_err if not l.startswith("reprocess config line ")]
    own = [l for l in p_err if POSTERN_WARNING.search(l) and l not in s_err]
    kws = set(m.group(1) or m.group(2) for m in
              (POSTERN_WARNING.search(l) for l in own))
    return kws == warns and [l for l in p_err if l not in own] == s_err


def _warns(text):
    """The keywords a corpus file expects posternd's own warnings for."""
    return set(" ".join(re.findall(r"^#@ warns (.*)$", text, re.M)).split())


def _compare_t(sshd, server, name, path, text):
    s_rc, _, s_err = _run([sshd, "-t", "-f", path])
    p_rc, _, p_err = _run([server, "-t", "-f", path])
    if s_rc != p_rc:
        return ["%s: -t: sshd exit %d %r, posternd exit %d %r"
                % (name, s_rc, s_err, p_rc, p_err)]
    if not _same_stderr(s_err, p_err, _warns(text)):
        return ["%s: -t: sshd printed %r, posternd %r"
                % (name, s_err, p_err)]
    return []


def test_config_corpus(ctx):
    """Every corpus file: -T (with each of its -C specs) and -t agree."""
    sshd, top, _ = _setup(ctx)
    names = sorted(f for f in os.listdir(top) if f.endswith(".conf"))
    check(len(names) >= 10, "the corpus has only %d files" % len(names))
    diff = []
    for fn in names:
        path = os.path.join(top, fn)
        text = _all_text(path)
        specs = [None] + re.findall(r"^#@ spec (\S+)", text, re.M)
        for spec in specs:
            diff += _compare_T(sshd, ctx.server_path, fn, path, text, spec)
        diff += _compare_t(sshd, ctx.server_path, fn, path, text)
    if diff:
        fail("posternd differs from sshd 9.2 on the corpus:\n  " +
             "\n  ".join(diff))


def test_config_corpus_bad_lines(ctx):
    """Each bad line: both refuse it, every line sshd prints is among
    posternd's (sshd's words; posternd may name the keyword first), and
    posternd's names the file, the line number and the keyword."""
    sshd, _, key = _setup(ctx)
    path = os.path.join(ctx.dir, "bad.conf")
    bad = []
    for line in BAD_LINES:
        with open(path, "w") as f:
            f.write("HostKey %s\n%s\n" % (key, line))
        s_rc, _, s_err = _run([sshd, "-t", "-f", path])
        p_rc, _, p_err = _run([ctx.server_path, "-t", "-f", path])
        if s_rc == 0:
            bad.append("%r: sshd 9.2 accepts it: not a bad line" % line)
        elif p_rc == 0:
            bad.append("%r: sshd refuses it (%r), posternd accepts it"
                       % (line, s_err))
        else:
            missing = [l for l in s_err
                       if l not in harness.sshd_words(p_err)]
            if missing:
                bad.append("%r: sshd says %r, posternd %r"
                           % (line, missing, p_err))
            # posternd names the file, the line and the keyword (the
            # last line's: a Match block's line is the bad one).
            lines = line.strip().split("\n")
            kw = re.split(r"[\s=]", lines[-1].strip(), 1)[0]
            at = " line %d: " % (len(lines) + 1)
            if not any(l.startswith(path) and at in l and
                       kw.lower() in l.lower() for l in p_err):
                bad.append("%r: posternd's message does not name %s,%s and "
                           "%s: %r" % (line, path, at.rstrip(": "), kw,
                                       p_err))
    check(not bad, "bad lines:\n  " + "\n  ".join(bad))


def test_config_corpus_deliberate(ctx):
    """The documented differences are still what they are: sshd 9.2 does
    the opposite of posternd on each (else the entry is stale)."""
    sshd, _, key = _setup(ctx)
    path = os.path.join(ctx.dir, "deliberate.conf")
    bad = []
    for line, (valid, why) in DELIBERATE.items():
        with open(path, "w") as f:
            f.write("HostKey %s\n%s\n" % (key, line))
        s_rc, _, s_err = _run([sshd, "-t", "-f", path])
        p_rc, _, p_err = _run([ctx.server_path, "-t", "-f", path])
        if (p_rc == 0) != valid:
            bad.append("%r: posternd exit %d %r, documented as %s (%s)"
                       % (line, p_rc, p_err,
                          "valid" if valid else "refused", why))
        if (s_rc == 0) == valid and all(l in p_err for l in s_err):
            bad.append("%r: sshd agrees with posternd now; drop it from "
                       "DELIBERATE" % line)
    for text, spec, kw, value, why in DELIBERATE_T:
        with open(path, "w") as f:
            f.write("HostKey %s\n%s\n" % (key, text))
        args = ["-T", "-f", path] + (["-C", spec] if spec else [])
        s_vals = _split(_run([sshd] + args)[1]).get(kw)
        p_vals = _split(_run([ctx.server_path] + args)[1]).get(kw)
        if p_vals != [value]:
            bad.append("%r: posternd -T prints %s %r, documented as %r (%s)"
                       % (text, kw, p_vals, value, why))
        if s_vals == p_vals:
            bad.append("%r: sshd -T prints %s %r too now; drop it from "
                       "DELIBERATE_T" % (text, kw, s_vals))
    check(not bad, "deliberate differences:\n  " + "\n  ".join(bad))


def test_config_corpus_unreadable(ctx):
    """A configuration file, or an Include'd one, that cannot be opened:
    sshd's 'FILE: REASON' and its exit status 1 (-t and -T), not 255."""
    sshd, _, key = _setup(ctx)
    inc = os.path.join(ctx.dir, "unreadable.conf")
    with open(inc, "w") as f:
        f.write("MaxSessions 2\n")
    os.chmod(inc, 0)
    main = os.path.join(ctx.dir, "includes_unreadable.conf")
    with open(main, "w") as f:
        f.write("HostKey %s\nInclude %s\n" % (key, inc))
    os.chmod(ctx.dir, 0o755)
    os.chmod(main, 0o644)
    bad = []
    for path, user in ((os.path.join(ctx.dir, "no-such-sshd_config"), None),
                       (main, "nobody")):
        for flag in ("-t", "-T"):
            argv = [flag, "-f", path]
            res = []
            for exe in (sshd, ctx.server_path):
                cmd = [exe] + argv
                if user:
                    cmd = ["setpriv", "--reuid", user, "--regid", "nogroup",
                           "--clear-groups", "--"] + cmd
                rc, _, err = _run(cmd)
                res.append((rc, err))
            if res[0][0] != 1 or res[1][0] != res[0][0] or \
                    not all(l in res[1][1] for l in res[0][1]):
                bad.append("%s %s: sshd %r, posternd %r"
                           % (flag, path, res[0], res[1]))
    check(not bad, "unreadable configuration:\n  " + "\n  ".join(bad))


# Command-line flags that change what -T prints, as sshd's: the last of
# -d and -q sets LogLevel, before the file and -o (first value wins).
FLAG_CASES = [["-q"], ["-q", "-o", "LogLevel=DEBUG"], ["-d", "-q"],
              ["-q", "-d"], ["-dd"], ["-p", "2300", "-p", "2301"],
              ["-g", "45"], ["-4"], ["-o", "Port=2400"]]


def test_config_corpus_flags(ctx):
    """-T with sshd's flags on a corpus file: the same lines; and -t -q
    is silent, whatever is wrong, as sshd's."""
    sshd, top, _ = _setup(ctx)
    path = os.path.join(top, "fail2ban_logging.conf")
    bad = []
    for flags in FLAG_CASES:
        args = ["-T", "-f", path] + flags
        s_rc, s_out, _ = _run([sshd] + args)
        p_rc, p_out, _ = _run([ctx.server_path] + args)
        s_map, p_map = _split(s_out), _split(p_out)
        diff = ["%s: sshd %r, posternd %r" % (kw, s_map[kw], p_map[kw])
                for kw in p_map if kw in s_map and kw not in ALGO_KEYWORDS
                and kw not in FIXED_T and s_map[kw] != p_map[kw]]
        if s_rc != p_rc or diff:
            bad.append("-T %s: exit %d/%d %s" % (" ".join(flags), s_rc,
                                                   p_rc, diff))
    broken = os.path.join(ctx.dir, "broken.conf")
    with open(broken, "w") as f:
        f.write("PermitRootLogin maybe\nNoSuchKeyword x\n")
    for exe in (sshd, ctx.server_path):
        rc, out, err = _run([exe, "-t", "-q", "-f", broken])
        if rc != 255 or out or err:
            bad.append("-t -q, %s: exit %d, %r %r" % (exe, rc, out, err))
    check(not bad, "flags:\n  " + "\n  ".join(bad))


def test_config_corpus_dup_include_runs(ctx):
    """The same drop-in directory Included twice (a cloud image's line
    and an admin's): sshd binds each Port/ListenAddress pair twice, says
    the second bind failed, and serves; so does posternd."""
    d = os.path.join(ctx.dir, "dup.d")
    os.makedirs(d)
    ctx.port = harness.free_port()
    with open(os.path.join(d, "50-site.conf"), "w") as f:
        f.write("Port %d\nAllowUsers *\nAcceptEnv LANG\n" % ctx.port)
    inc = "Include %s/*.conf" % d
    u = ctx.make_user()
    ctx.start_server(extra_config=[inc, inc])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    log = ctx.server_log()
    check(re.search(r"Bind to port %d on 127\.0\.0\.1 failed: Address "
                    r"already in use\." % ctx.port, log),
          "no 'Bind to port ... failed' line for the second bind:\n%s"
          % log[-1500:])


def _tcp_listening(port):
    """The IPv4 addresses listening on port, from /proc/net/tcp."""
    found = []
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            addr, hexport = fields[1].split(":")
            if int(hexport, 16) == port and fields[3] == "0A":
                found.append(".".join(str(int(addr[i:i + 2], 16))
                                      for i in (6, 4, 2, 0)))
    return found


def test_config_corpus_overlapping_listen_addresses(ctx):
    """ListenAddress 0.0.0.0 and 127.0.0.1 on one port (a stock file's
    line uncommented, a snippet's own): sshd 9.2 binds the last
    address-and-port first, so the earlier one's bind fails with 'Bind to
    port ... failed'; where the server can be reached depends on it."""
    u = ctx.make_user()
    ctx.write_config()
    for first, second in (("0.0.0.0", "127.0.0.1"),
                          ("127.0.0.1", "0.0.0.0")):
        with open(ctx.config_path) as f:
            text = re.sub(r"(?m)^ListenAddress .*\n", "", f.read())
        with open(ctx.config_path, "w") as f:
            f.write(text + "ListenAddress %s\nListenAddress %s\n"
                    % (first, second))
        nlog = len(ctx.server_log())
        ctx.launch_server()
        esc = [re.escape(a) for a in (first, second)]
        check(ctx.wait_log(r"^Bind to port %d on %s failed: Address "
                           r"already in use\.$" % (ctx.port, esc[0])),
              "ListenAddress %s then %s: no failed bind for %s, as sshd's:"
              "\n%s" % (first, second, first, ctx.server_log()[nlog:]))
        log = ctx.server_log()[nlog:]
        check(re.search(r"(?m)^Server listening on %s port %d\.$"
                        % (esc[1], ctx.port), log),
              "ListenAddress %s then %s: not listening on %s, as sshd:\n%s"
              % (first, second, second, log))
        check(_tcp_listening(ctx.port) == [second],
              "ListenAddress %s then %s: listening on %r, sshd on %s"
              % (first, second, _tcp_listening(ctx.port), second))
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
        ctx.stop_server()
