"""
test_policy.py: sshd_config policy with the real OpenSSH client: access
lists, Match, Include, AuthenticationMethods chains, PermitRootLogin,
Banner, ForceCommand and the shipped sshd_config.d snippets. Expectations
and log lines are OpenSSH's (sshd_config(5), OpenSSH 9.2).
"""

import grp
import os
import pwd
import re
import secrets
import subprocess

import interop_clients as ic
from harness import check

SNIPPETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "packaging", "sshd_config.d")


def _ok(ctx, u, what, key=None, cmd="echo ok"):
    r = ctx.ssh(u, cmd, key=key)
    check(r.rc == 0 and r.stdout == b"ok\n",
          "%s: login should work: rc %s stdout %r stderr %s"
          % (what, r.rc, r.stdout, r.err[-300:]))
    return r


def _refused(ctx, u, what, key=None):
    r = ctx.ssh(u, "echo ok", key=key)
    check(r.rc == 255 and r.stdout == b"",
          "%s: login should be refused: rc %s stdout %r"
          % (what, r.rc, r.stdout))
    return r


def _start_replacing(ctx, extra,
                     replace=("AuthorizedKeysFile ", "StrictModes ")):
    """Start the server with extra lines, dropping the base config's lines
    for those keywords: the first value obtained would win otherwise."""
    ctx.write_config(extra)
    with open(ctx.config_path) as f:
        lines = f.read().splitlines()
    out = []
    extra_set = set(extra)
    for line in lines:
        if line.startswith(replace) and line not in extra_set:
            continue
        out.append(line)
    with open(ctx.config_path, "w") as f:
        f.write("\n".join(out) + "\n")
    ctx.launch_server()


def _log(ctx, rx, what):
    check(ctx.wait_log(rx, 5), "%s: server log lacks %r" % (what, rx))


def test_allow_deny_users(ctx):
    a, b, c = ctx.make_user(), ctx.make_user(), ctx.make_user()
    ctx.start_server(extra_config=[
        "AllowUsers %s %s@127.0.0.0/8 nobody@10.0.0.0/8" % (a.name, b.name),
        "DenyUsers %s" % b.name])
    _ok(ctx, a, "listed in AllowUsers")
    _refused(ctx, b, "listed in DenyUsers (DenyUsers wins)")
    _log(ctx, r"^User %s from 127\.0\.0\.1 not allowed because listed in "
         r"DenyUsers$" % b.name, "DenyUsers")
    _refused(ctx, c, "not listed in AllowUsers")
    _log(ctx, r"^User %s from 127\.0\.0\.1 not allowed because not listed "
         r"in AllowUsers$" % c.name, "AllowUsers")
    _log(ctx, r"^Connection closed by invalid user %s 127\.0\.0\.1 port \d+ "
         r"\[preauth\]$" % c.name, "refused user handled as invalid")


def test_allow_deny_groups(ctx):
    a, b = ctx.make_user(), ctx.make_user()
    gname = "ptgrp_" + a.name[-6:]
    subprocess.run(["groupadd", gname], check=True)
    try:
        subprocess.run(["usermod", "-a", "-G", gname, a.name], check=True)
        ctx.start_server(extra_config=["AllowGroups %s" % gname])
        _ok(ctx, a, "member of AllowGroups group")
        _refused(ctx, b, "not in AllowGroups")
        _log(ctx, r"^User %s from 127\.0\.0\.1 not allowed because none of "
             r"user's groups are listed in AllowGroups$" % b.name,
             "AllowGroups")
        ctx.stop_server()
        ctx.proc = None
        ctx.start_server(extra_config=["DenyGroups %s" % gname])
        _refused(ctx, a, "member of DenyGroups group")
        _log(ctx, r"^User %s from 127\.0\.0\.1 not allowed because a group "
             r"is listed in DenyGroups$" % a.name, "DenyGroups")
        _ok(ctx, b, "not in DenyGroups")
    finally:
        subprocess.run(["groupdel", gname], check=False)


def _gid_named(gid):
    try:
        grp.getgrgid(gid)
        return True
    except KeyError:
        return False


def test_primary_group_without_entry(ctx):
    """As sshd's ga_init(): a group id without a group entry has no name;
    a user none of whose groups has one is "not in any group", refused by
    any group list, DenyGroups alone included."""
    u, other = ctx.make_user(), ctx.make_user()
    tmp = "ptst_g" + secrets.token_hex(3)
    # Above GID_MAX: useradd in a parallel test never reuses it.
    gid = next(g for g in range(61000 + secrets.randbelow(3000), 65000)
               if not _gid_named(g))
    subprocess.run(["groupadd", "-g", str(gid), tmp], check=True)
    subprocess.run(["usermod", "-g", tmp, u.name], check=True)
    subprocess.run(["groupdel", "-f", tmp], check=True)
    check(pwd.getpwnam(u.name).pw_gid == gid,
          "the user's primary group id changed with its group")
    ctx.start_server(extra_config=["DenyGroups %s" % tmp])
    _refused(ctx, u, "DenyGroups with a primary group without an entry")
    _log(ctx, r"^User %s from 127\.0\.0\.1 not allowed because not in "
         r"any group$" % u.name, "primary group without an entry")
    _ok(ctx, other, "DenyGroups naming none of the user's groups")


def test_match_user_overrides(ctx):
    a, b = ctx.make_user(), ctx.make_user()
    ctx.start_server(extra_config=[
        "Match User %s" % a.name,
        "\tPubkeyAuthentication no",
        "Match Address 10.0.0.0/8",
        "\tPubkeyAuthentication no"])
    _refused(ctx, a, "Match User turned publickey off")
    _ok(ctx, b, "other users are not matched")


def test_match_rdomain(ctx):
    """Match RDomain, as sshd 9.2 on Linux: the routing domain is the
    device the connection's socket is bound to, "" when none (both
    servers log `rdomain ""`), so `RDomain *` matches a plain connection
    and a named VRF does not."""
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "Match RDomain vrf-blue",
        "\tForceCommand echo blue",
        "Match RDomain *",
        "\tForceCommand echo any:$SSH_ORIGINAL_COMMAND"])
    r = ctx.ssh(u, "echo mine")
    check(r.rc == 0 and r.stdout == b"any:echo mine\n",
          "Match RDomain * did not match a connection without a routing "
          "domain: rc %s %r" % (r.rc, r.stdout))
    check(ctx.wait_log(r'^Connection from 127\.0\.0\.1 port \d+ on '
                       r'127\.0\.0\.1 port %d rdomain ""$' % ctx.port, 5),
          "no 'Connection from ... rdomain \"\"' line")


def test_include_snippet(ctx):
    a, b = ctx.make_user(), ctx.make_user()
    d = os.path.join(ctx.dir, "conf.d")
    os.mkdir(d)
    with open(os.path.join(d, "10-deny.conf"), "w") as f:
        f.write("DenyUsers %s\n" % b.name)
    with open(os.path.join(d, "20-other.txt"), "w") as f:
        f.write("DenyUsers %s\n" % a.name)  # not matched by *.conf
    ctx.start_server(extra_config=["Include %s/*.conf" % d])
    _ok(ctx, a, "user not denied by the included snippet")
    _refused(ctx, b, "user denied by the included snippet")


def test_chain_requires_both(ctx):
    """publickey,publickey: one key alone is partial success only."""
    u = ctx.make_user()
    second = ctx.new_key("second")
    ctx.authorize(u, second + ".pub")
    ctx.start_server(extra_config=["AuthenticationMethods publickey,publickey"])
    r = _refused(ctx, u, "one key for a two-key chain")
    _log(ctx, r"^Partial publickey for %s from 127\.0\.0\.1 port \d+ ssh2: "
         r"ED25519 SHA256:" % u.name, "partial success logged")
    r = ctx.ssh(u, "echo ok", extra=("-i", second))
    check(r.rc == 0 and r.stdout == b"ok\n",
          "two different keys should complete publickey,publickey: rc %s "
          "%r %s" % (r.rc, r.stdout, r.err[-300:]))
    _log(ctx, r"^Accepted publickey for %s " % u.name, "accepted")


SAME_KEY_TWICE = r"""
import json, socket, sys
import paramiko

port, user, key, other = sys.argv[1:5]
t = paramiko.Transport(socket.create_connection(("127.0.0.1", int(port))))
t.start_client(timeout=20)
out = []
for path in (key, key, other):
    k = paramiko.Ed25519Key.from_private_key_file(path)
    try:
        out.append(t.auth_publickey(user, k))
    except paramiko.AuthenticationException:
        out.append("refused")
out.append(t.is_authenticated())
t.close()
print(json.dumps(out))
"""


def test_chain_same_key_twice_refused_before_lookup(ctx):
    """publickey,publickey with the same key offered again (paramiko; the
    OpenSSH client never offers a key twice): refused before any lookup,
    as sshd 9.2's preauth process refuses it, with its line, no second
    authorized_keys lookup and no "Failed publickey"; another key then
    completes the chain."""
    u = ctx.make_user()
    second = ctx.new_key("second")
    ctx.authorize(u, second + ".pub")
    ctx.start_server(extra_config=["LogLevel VERBOSE",
                                   "AuthenticationMethods publickey,publickey"])
    got = ic.run_python(ctx, "same_key_twice.py", SAME_KEY_TWICE,
                        [ctx.port, u.name, u.key, second], "paramiko")
    check(got == [["publickey"], "refused", [], True],
          "same key twice, then another: %r" % (got,))
    _log(ctx, r"^refusing previously-used ED25519 key \[preauth\]$",
         "sshd's refusal line")
    log = ctx.server_log()
    first = len(re.findall(r"^Accepted key ED25519 \S+ found at ", log,
                           re.M))
    check(first == 2, "authorized_keys lookups: %d, want 2 (paramiko signs"
          " at once: one for each key, none for the reused one)" % first)
    check(not re.search(r"^Failed publickey for %s " % u.name, log, re.M),
          "the reused key was logged as a failed login")


def test_chain_alternatives(ctx):
    """A whitespace list: either list admits; the unfinishable one does
    not block the other."""
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "AuthenticationMethods publickey,password publickey"])
    _ok(ctx, u, "second alternative (publickey alone)")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server(extra_config=["AuthenticationMethods publickey,password"])
    r = _refused(ctx, u, "publickey alone for publickey,password")
    check("Permission denied" in r.err,
          "client should be told it is denied: %s" % r.err[-300:])


def test_chain_disabled_method_dropped(ctx):
    """As sshd 9.2 (seen side by side): once the user is known, a list
    naming a method its Match blocks switched off is dropped, logged by
    the monitor and again "[preauth]"; the other lists still admit. With
    none left the connection ends at once, "no authentication methods
    enabled", rather than offering a key that can only partly succeed."""
    u = ctx.make_user()
    off = ["Match User %s" % u.name, "  PasswordAuthentication no"]
    ctx.start_server(extra_config=[
        "PasswordAuthentication yes",
        "AuthenticationMethods publickey,password publickey"] + off)
    _ok(ctx, u, "the list left (publickey)")
    for suffix in ("", r" \[preauth\]"):
        _log(ctx, r'^Disabled method "password" in AuthenticationMethods '
             r'list "publickey,password"%s$' % suffix, "the disabled method")
        _log(ctx, r'^Authentication methods list "publickey,password" '
             r'contains disabled method, skipping%s$' % suffix,
             "the list dropped")
    check("No AuthenticationMethods left" not in ctx.server_log(),
          "a list was left, yet none was said to be")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server(extra_config=[
        "PasswordAuthentication yes",
        "AuthenticationMethods publickey,password"] + off)
    r = _refused(ctx, u, "no list left")
    check("Received disconnect from 127.0.0.1 port %d:2: no authentication "
          "methods enabled" % ctx.port in r.err,
          "the client was not told: %r" % r.err[-300:])
    check("Partial publickey" not in ctx.server_log(),
          "the key was still tried")
    for suffix in ("", r" \[preauth\]"):
        _log(ctx, r"^No AuthenticationMethods left after eliminating "
             r"disabled methods%s$" % suffix, "none left")
    _log(ctx, r"^Disconnecting authenticating user %s 127\.0\.0\.1 port "
         r"\d+: no authentication methods enabled \[preauth\]$" % u.name,
         "the disconnect")


def test_chain_unoffered_methods_disabled(ctx):
    """A Kerberos site's AuthenticationMethods (gssapi-with-mic, or a
    hostbased chain, as alternatives) loads, as in sshd 9.2 with those
    methods off: their lists are dropped with sshd's lines and the key
    admits. Before, the server refused the whole line and did not start."""
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "AuthenticationMethods gssapi-with-mic publickey,hostbased "
        "publickey"])
    _ok(ctx, u, "the list left (publickey)")
    for method, lst in (("gssapi-with-mic", "gssapi-with-mic"),
                        ("hostbased", "publickey,hostbased")):
        for suffix in ("", r" \[preauth\]"):
            _log(ctx, r'^Disabled method "%s" in AuthenticationMethods '
                 r'list "%s"%s$' % (method, lst, suffix),
                 "the disabled method")
            _log(ctx, r'^Authentication methods list "%s" contains '
                 r'disabled method, skipping%s$' % (lst, suffix),
                 "the list dropped")


def test_permit_root_login(ctx):
    keys = os.path.join(ctx.dir, "keys")
    os.mkdir(keys, 0o755)
    key = ctx.new_key("root")
    with open(key + ".pub") as f, \
            open(os.path.join(keys, "root"), "w") as out:
        out.write(f.read())
    base = ["AuthorizedKeysFile %s/%%u" % keys, "StrictModes no"]
    for value, admitted in (("prohibit-password", True), ("yes", True),
                            ("no", False), ("forced-commands-only", False)):
        ctx.stop_server()
        ctx.proc = None
        _start_replacing(ctx, base + ["PermitRootLogin " + value])
        r = ctx.ssh("root", "echo ok", key=key)
        if admitted:
            check(r.rc == 0 and r.stdout == b"ok\n",
                  "PermitRootLogin %s should admit root with a key: rc %s %s"
                  % (value, r.rc, r.err[-300:]))
        else:
            check(r.rc == 255 and r.stdout == b"",
                  "PermitRootLogin %s should refuse root with a plain key: "
                  "rc %s %r" % (value, r.rc, r.stdout))
            _log(ctx, r"^ROOT LOGIN REFUSED FROM 127\.0\.0\.1 port \d+",
                 "PermitRootLogin " + value)


def test_banner(ctx):
    u = ctx.make_user()
    banner = os.path.join(ctx.dir, "banner")
    with open(banner, "w") as f:
        f.write("Authorized use only. postern banner test.\n")
    ctx.start_server(extra_config=["Banner %s" % banner])
    r = ctx.ssh(u, "echo ok", extra=("-o", "LogLevel=INFO"))
    check(r.rc == 0 and r.stdout == b"ok\n", "login failed: %s" % r.err)
    check("Authorized use only. postern banner test." in r.err,
          "client did not show the banner: %r" % r.err[-300:])
    # A Banner file that is not there: no banner and, as with sshd, no
    # error line on each login (only a debug one).
    ctx.stop_server()
    ctx.start_server(extra_config=["Banner %s.missing" % banner])
    r = ctx.ssh(u, "echo ok", extra=("-o", "LogLevel=INFO"))
    check(r.rc == 0 and r.stdout == b"ok\n", "login with a missing Banner "
          "file failed: %s" % r.err)
    check(ctx.wait_log(r"^Accepted publickey for %s " % u.name),
          "no Accepted line")
    noisy = [l for l in ctx.server_log().splitlines()
             if "banner.missing" in l and not l.startswith("debug")]
    check(not noisy, "a missing Banner file logged above debug level, "
          "where sshd is silent:\n%s" % "\n".join(noisy))


def test_banner_sizes(ctx):
    """A Banner of 115 KiB reaches the client whole (it was cut at 64 KiB
    without a word); as sshd, /dev/zero (size 0, a device) and a file over
    1 MiB are no banner at all (postern sent 64 KiB of NULs for
    /dev/zero)."""
    u = ctx.make_user()
    big = os.path.join(ctx.dir, "big_banner")
    lines = ["banner line %05d of the long one\n" % i for i in range(3600)]
    with open(big, "w") as f:
        f.write("".join(lines))
    huge = os.path.join(ctx.dir, "huge_banner")
    with open(huge, "w") as f:
        f.write("x" * 1100000)
    for path, want in ((big, lines[-1].strip()), ("/dev/zero", None),
                       (huge, None)):
        ctx.start_server(extra_config=["Banner %s" % path])
        r = ctx.ssh(u, "echo ok", extra=("-o", "LogLevel=INFO"))
        check(r.rc == 0 and r.stdout == b"ok\n",
              "Banner %s: login failed: %s" % (path, r.err[-300:]))
        if want is not None:
            check(want in r.err and r.err.count("banner line") == 3600,
                  "Banner %s: %d of 3600 lines shown" % (
                      path, r.err.count("banner line")))
        else:
            shown = [l for l in r.err.splitlines()
                     if not l.startswith("Warning: Permanently added")]
            check(not shown,
                  "Banner %s: the client showed %r" % (path, shown[:3]))
        ctx.stop_server()


def test_banner_nul_byte(ctx):
    """A Banner file holding a NUL byte: as sshd, whose banner is a C
    string, the text before the NUL is sent and a NUL first is no banner
    (postern sent the NUL, which the OpenSSH client refuses: the login
    failed with "invalid format")."""
    u = ctx.make_user()
    nul = os.path.join(ctx.dir, "nul_banner")
    with open(nul, "wb") as f:
        f.write(b"before the nul\n\0after the nul\n")
    nul0 = os.path.join(ctx.dir, "nul0_banner")
    with open(nul0, "wb") as f:
        f.write(b"\0after the nul\n")
    for path, want in ((nul, "before the nul"), (nul0, None)):
        ctx.start_server(extra_config=["Banner %s" % path])
        r = ctx.ssh(u, "echo ok", extra=("-o", "LogLevel=INFO"))
        check(r.rc == 0 and r.stdout == b"ok\n",
              "Banner %s: login failed: %s" % (path, r.err[-300:]))
        shown = [l for l in r.err.splitlines()
                 if not l.startswith("Warning: Permanently added")]
        check(shown == ([want] if want else []),
              "Banner %s: the client showed %r" % (path, shown[:3]))
        ctx.stop_server()


def test_banner_nul_byte_in_big_file(ctx):
    """A Banner file over 192 KiB whose text ends at a NUL early on: that
    text is the whole banner, as sshd sends it, so postern logs no
    "the first 196608 sent" (it did, though it sent a few bytes)."""
    u = ctx.make_user()
    path = os.path.join(ctx.dir, "nul_big_banner")
    with open(path, "wb") as f:
        f.write(b"short banner\n\0" + b"x" * 300000)
    ctx.start_server(extra_config=["Banner %s" % path])
    r = ctx.ssh(u, "echo ok", extra=("-o", "LogLevel=INFO"))
    check(r.rc == 0 and r.stdout == b"ok\n", "login failed: %s" % r.err[-300:])
    check("short banner" in r.err, "banner not shown: %r" % r.err[-300:])
    check(ctx.wait_log(r"^Accepted publickey for %s " % u.name),
          "no Accepted line")
    cut = [l for l in ctx.server_log().splitlines() if "the first" in l]
    check(not cut, "a banner cut at its NUL logged as cut short: %r" % cut)
    # Without the NUL, the text is cut at 192 KiB, and so logged.
    ctx.stop_server()
    with open(path, "wb") as f:
        f.write(b"short banner\n" + b"x" * 300000)
    ctx.start_server(extra_config=["Banner %s" % path])
    r = ctx.ssh(u, "echo ok", extra=("-o", "LogLevel=INFO"))
    check(r.rc == 0 and r.stdout == b"ok\n", "login failed: %s" % r.err[-300:])
    check(ctx.wait_log(r"^Banner %s: 300013 bytes, the first 196608 sent$"
                       % re.escape(path)), "no line for the banner cut short")


def test_force_command(ctx):
    a, b = ctx.make_user(), ctx.make_user()
    ctx.start_server(extra_config=[
        "Match User %s" % a.name,
        "\tForceCommand echo forced:$SSH_ORIGINAL_COMMAND"])
    r = ctx.ssh(a, "echo mine")
    check(r.rc == 0 and r.stdout == b"forced:echo mine\n",
          "ForceCommand did not replace the command: rc %s %r"
          % (r.rc, r.stdout))
    _ok(ctx, b, "ForceCommand only in the Match block")


def test_snippets_accepted_by_t(ctx):
    """Every shipped snippet, Included from a config, passes posternd -t."""
    ctx.write_config()
    names = sorted(os.listdir(SNIPPETS))
    check(len(names) >= 6, "snippets missing: %s" % names)
    for n in names:
        cfg = os.path.join(ctx.dir, "t_" + n)
        with open(ctx.config_path) as f, open(cfg, "w") as out:
            out.write(f.read())
            out.write("Include %s\n" % os.path.abspath(
                os.path.join(SNIPPETS, n)))
        r = subprocess.run([ctx.server_path, "-t", "-f", cfg],
                           capture_output=True, timeout=20)
        check(r.returncode == 0, "posternd -t refused %s: %s"
              % (n, r.stderr.decode(errors="replace")))


def test_snippet_force_publickey_and_deny_root(ctx):
    u = ctx.make_user()
    keys = os.path.join(ctx.dir, "keys")
    os.mkdir(keys, 0o755)
    key = ctx.new_key("root")
    with open(key + ".pub") as f, \
            open(os.path.join(keys, "root"), "w") as out:
        out.write(f.read())
    with open(u.key + ".pub") as f, \
            open(os.path.join(keys, u.name), "w") as out:
        out.write(f.read())
    _start_replacing(ctx, [
        "AuthorizedKeysFile %s/%%u" % keys, "StrictModes no",
        "Include %s/20-force_publickey_auth.conf" % os.path.abspath(SNIPPETS),
        "Include %s/20-deny_root.conf" % os.path.abspath(SNIPPETS)])
    _ok(ctx, u, "publickey login under 20-force_publickey_auth.conf")
    r = ctx.ssh("root", "echo ok", key=key)
    check(r.rc == 255 and r.stdout == b"",
          "20-deny_root.conf: root got in (rc %s)" % r.rc)
    _log(ctx, r"^ROOT LOGIN REFUSED FROM 127\.0\.0\.1", "deny_root")
