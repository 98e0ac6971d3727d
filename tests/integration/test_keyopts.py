"""
test_keyopts.py: authorized_keys options as sshd(8) AUTHORIZED_KEYS FILE
FORMAT documents them, through the real OpenSSH client, and
PermitRootLogin forced-commands-only.
"""

import os
import re
import subprocess

import harness
from harness import check


def _reset_keys(ctx, u, options):
    ak = os.path.join(u.home, ".ssh", "authorized_keys")
    os.unlink(ak)
    ctx.authorize(u, u.key + ".pub", options=options)


def test_command_option(ctx):
    u = ctx.make_user()
    _reset_keys(ctx, u, 'command="echo forced:$SSH_ORIGINAL_COMMAND"')
    ctx.start_server()
    r = ctx.ssh(u, "echo asked")
    check(r.rc == 0 and r.stdout == b"forced:echo asked\n",
          "command= did not replace the command: rc %s %r" % (r.rc, r.stdout))
    check(ctx.wait_log(r"Starting session: forced-command \(key-option\) "
                       r"'echo forced:\$SSH_ORIGINAL_COMMAND' for %s"
                       % u.name, 5),
          "no 'Starting session: forced-command (key-option)' line")
    check(ctx.wait_log(r"^debug1: %s:1: forced command: "
                       r"\"echo forced:\$SSH_ORIGINAL_COMMAND\"$"
                       % re.escape(os.path.join(u.home, ".ssh",
                                                "authorized_keys")), 5),
          "no sshd-style 'forced command: \"CMD\"' debug line")
    # As sshd's do_authenticated(), once the session starts (review).
    # (the session's own lines may come between)
    check(ctx.wait_log(r"^User child is on pid \d+$[\s\S]*^debug1: active: "
                       r"key options: agent-forwarding command "
                       r"port-forwarding pty user-rc x11-forwarding$"
                       r"[\s\S]*^debug1: active: forced command: "
                       r"\"echo forced:\$SSH_ORIGINAL_COMMAND\"$", 5),
          "no sshd-style 'active:' lines after 'User child is on pid'")
    r = ctx.ssh(u, None)
    check(r.rc == 0 and r.stdout == b"forced:\n",
          "a shell request must run the forced command too: %r" % r.stdout)


def test_key_option_detail_lines(ctx):
    """After the "key options:" summary, sshd 9.2's detail lines in its
    order: environment, expires at, forced command, each permitted open
    and permitted listen (an IPv6 host in brackets, "*" for any port or
    host); the "active:" set after login has no expiry (checked against
    sshd 9.2 -ddd)."""
    u = ctx.make_user()
    ak = re.escape(os.path.join(u.home, ".ssh", "authorized_keys"))
    _reset_keys(ctx, u, 'expiry-time="209912312359",environment="A=b",'
                'command="echo hi",permitopen="[::1]:22",permitopen="h:*",'
                'permitlisten="localhost:9000",permitlisten="8080"')
    ctx.start_server(["PermitUserEnvironment yes"])
    r = ctx.ssh(u, "true")
    check(r.rc == 0 and r.stdout == b"hi\n", "login: %s %r" % (r.rc, r.stdout))
    details = [r"environment: A=b", r"expires at 2099-12-31T23:59:00",
               r"forced command: \"echo hi\"", r"permitted open: \[::1\]:22",
               r"permitted open: h:\*",
               r"permitted listen: localhost:9000",
               r"permitted listen: \*:8080"]
    line = (r"^debug1: %s:1: key options: agent-forwarding command "
            r"environmentexpires permitopen permitlisten port-forwarding "
            r"pty user-rc x11-forwarding\n" % ak
            + "".join(r"debug1: %s:1: %s\n" % (ak, d) for d in details))
    check(ctx.wait_log(line, 5),
          "no sshd-style detail lines after the key's 'key options:'")
    active = (r"^debug1: active: key options: agent-forwarding command "
              r"environment permitopen permitlisten port-forwarding pty "
              r"user-rc x11-forwarding\n"
              + "".join(r"debug1: active: %s\n" % d
                        for d in details if not d.startswith("expires")))
    check(ctx.wait_log(active, 5),
          "no sshd-style 'active:' lines (without the expiry)")


def test_cert_authority_principals_line(ctx):
    """cert-authority,principals=: "authorized principals" after the
    summary, as sshd 9.2."""
    u = ctx.make_user(with_key=False)
    ca = ctx.new_key("ca")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "id", "-n", u.name,
                 u.key + ".pub"])
    ak = os.path.join(u.home, ".ssh", "authorized_keys")
    ctx.authorize(u, ca + ".pub", options='cert-authority,principals="%s,x"'
                  % u.name)
    ctx.start_server()
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n", "login: %s %r" % (r.rc, r.stdout))
    check(ctx.wait_log(r"^debug1: %s:1: key options: agent-forwarding "
                       r"port-forwarding principals pty user-rc "
                       r"x11-forwarding\ndebug1: %s:1: authorized "
                       r"principals: \"%s,x\"$"
                       % (re.escape(ak), re.escape(ak), u.name), 5),
          "no sshd-style 'authorized principals' line")


def test_config_forcecommand_beats_key_command(ctx):
    u = ctx.make_user()
    _reset_keys(ctx, u, 'command="echo from-key"')
    ctx.start_server(extra_config=["ForceCommand echo from-config"])
    r = ctx.ssh(u, "true")
    check(r.rc == 0 and r.stdout == b"from-config\n",
          "ForceCommand must take precedence over command=: %r" % r.stdout)


def test_from_option(ctx):
    u = ctx.make_user()
    _reset_keys(ctx, u, 'from="10.9.8.0/24,!127.0.0.1"')
    ctx.start_server()
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "from= mismatch must refuse: rc %s" % r.rc)
    check(ctx.wait_log(r"Authentication tried for %s with correct key but "
                       r"not from a permitted host \(host=.*ip=127\.0\.0\.1"
                       % u.name, 5),
          "no 'not from a permitted host' log line")
    _reset_keys(ctx, u, 'from="127.0.0.0/8"')
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n", "from= match must admit")


def test_long_from_list(ctx):
    """A generated from= list of 4000 address blocks (a 60 KB line, which
    sshd reads whole): the key works from the last block, not from
    elsewhere."""
    u = ctx.make_user()
    blocks = ["10.%d.%d.0/24" % (i // 250, i % 250) for i in range(4000)]
    _reset_keys(ctx, u, 'from="%s,127.0.0.1"' % ",".join(blocks))
    ctx.start_server()
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "a key line with a long from= list was not used: rc %s %r"
          % (r.rc, r.err[-300:]))
    check("exceeds size limit" not in ctx.server_log(),
          "the long line was skipped")
    _reset_keys(ctx, u, 'from="%s"' % ",".join(blocks))
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255, "from= without 127.0.0.1 admitted: rc %s" % r.rc)


def test_expiry_option(ctx):
    u = ctx.make_user()
    _reset_keys(ctx, u, 'expiry-time="20200101"')
    ctx.start_server()
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"", "expired key must be refused")
    check(ctx.wait_log(r"entry expired at", 5),
          "no 'entry expired' log line")
    _reset_keys(ctx, u, 'expiry-time="29991231"')
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n", "future expiry must admit")


def test_malformed_option_line_skipped(ctx):
    u = ctx.make_user()
    _reset_keys(ctx, u, 'command="unterminated')
    ctx.start_server()
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "a malformed line must not be half-applied or used")
    check(re.search(r"authorized_keys:1", ctx.server_log()),
          "the log must name the file and line of the malformed entry")


def test_rsa_key_under_a_signature_name(ctx):
    """As sshd's key reader: an RSA key written under an RSA signature
    algorithm's name ("rsa-sha2-512 AAAAB3NzaC1yc2E...") is that RSA key;
    a name of another type is not."""
    u = ctx.make_user(with_key=False)
    key = os.path.join(ctx.dir, "rsakey")
    harness.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "",
                 "-f", key])
    with open(key + ".pub") as f:
        blob = f.read().split()[1]
    ctx.start_server()
    for name, ok in (("rsa-sha2-512", True), ("rsa-sha2-256", True),
                     ("ssh-ed25519", False)):
        pub = os.path.join(ctx.dir, "as_%s.pub" % name)
        with open(pub, "w") as f:
            f.write("%s %s\n" % (name, blob))
        ak = os.path.join(u.home, ".ssh", "authorized_keys")
        if os.path.exists(ak):
            os.unlink(ak)
        ctx.authorize(u, pub)
        r = ctx.ssh(u, "echo ok", key=key)
        check((r.rc == 0 and r.stdout == b"ok\n") if ok else r.rc == 255,
              "authorized_keys line '%s <RSA key>': rc %s %r"
              % (name, r.rc, r.stderr[-300:]))


def test_root_forced_commands_only(ctx):
    keys = os.path.join(ctx.dir, "keys")
    os.mkdir(keys, 0o755)
    plain = ctx.new_key("rootplain")
    forced = ctx.new_key("rootforced")
    with open(os.path.join(keys, "root"), "w") as out:
        out.write(open(plain + ".pub").read())
        out.write('command="echo root-forced" ' + open(forced + ".pub").read())
    snippets = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "packaging", "sshd_config.d")
    ctx.write_config(["Include %s" % os.path.join(
        snippets, "20-root-forced-commands.conf")])
    with open(ctx.config_path) as f:
        text = f.read()
    text = text.replace("AuthorizedKeysFile .ssh/authorized_keys",
                        "AuthorizedKeysFile %s/%%u" % keys)
    text = text.replace("StrictModes yes", "StrictModes no")
    with open(ctx.config_path, "w") as f:
        f.write(text)
    ctx.launch_server()
    r = ctx.ssh("root", "echo shell", key=forced)
    check(r.rc == 0 and r.stdout == b"root-forced\n",
          "root with a command= key must get in and run that command: rc %s "
          "%r %s" % (r.rc, r.stdout, r.err[-200:]))
    check(ctx.wait_log(r"^Root login accepted for forced command\.$", 5),
          "no 'Root login accepted for forced command.' line")
    # As sshd 9.2: its monitor's line, the Accepted line, then its
    # preauth child's own check of the same login.
    check(ctx.wait_log(r"^Root login accepted for forced command\.\n"
                       r"Accepted publickey for root from .*\n"
                       r"Root login accepted for forced command\. "
                       r"\[preauth\]$", 5),
          "not sshd's three lines for a forced-command root login:\n%s"
          % ctx.server_log()[-1500:])
    r = ctx.ssh("root", "echo shell", key=plain)
    check(r.rc == 255 and r.stdout == b"",
          "root with a plain key must be refused: rc %s %r" % (r.rc, r.stdout))
    check(ctx.wait_log(r"^ROOT LOGIN REFUSED FROM 127\.0\.0\.1 port \d+", 5),
          "no ROOT LOGIN REFUSED line")


def test_forced_internal_sftp_serves_sftp_only(ctx):
    """ForceCommand internal-sftp, or a key's command="internal-sftp":
    an exec or shell request gets sshd's "This service allows sftp
    connections only." and status 1 (not an SFTP server on the command's
    stdin); the sftp subsystem is served."""
    u = ctx.make_user()
    _reset_keys(ctx, u, 'command="internal-sftp",restrict')
    ctx.start_server(extra_config=["Subsystem sftp /nonexistent/sftp"])
    for command in ("echo ran", None):
        r = ctx.ssh(u, command, input=b"")
        check(r.rc == 1 and
              r.stdout == b"This service allows sftp connections only.\n",
              "a forced internal-sftp ran a %s request: rc %s %r"
              % ("shell" if command is None else "exec", r.rc, r.stdout))
    check(ctx.wait_log(r"^Connection from user %s 127\.0\.0\.1 port "
                       r"\d+: refusing non-sftp session$" % u.name, 5),
          "no 'refusing non-sftp session' line")
    r = ctx.ssh(u, "sftp", extra=("-s",), input=b"")
    check(r.rc == 0 and r.stdout == b"",
          "the sftp subsystem of a forced internal-sftp: rc %s %r"
          % (r.rc, r.stdout))
    ctx.stop_server()
    _reset_keys(ctx, u, "")
    ctx.start_server(extra_config=["Subsystem sftp /nonexistent/sftp",
                                   "ForceCommand internal-sftp"])
    r = ctx.ssh(u, "echo ran", input=b"")
    check(r.rc == 1 and
          r.stdout == b"This service allows sftp connections only.\n",
          "ForceCommand internal-sftp ran an exec request: rc %s %r"
          % (r.rc, r.stdout))


def test_exec_internal_sftp_goes_to_the_shell(ctx):
    """A client's own exec of "internal-sftp" is a command for the user's
    shell, as in sshd: an account whose shell is nologin gets no SFTP
    server through `sftp -s "internal-sftp -d /"` (an exec, as the path
    has a slash)."""
    u = ctx.make_user()
    harness.run(["usermod", "-s", "/usr/sbin/nologin", u.name])
    ctx.start_server(extra_config=["Subsystem sftp internal-sftp"])
    argv = ["sftp", "-s", "internal-sftp -d /"] + \
        ctx.ssh_argv(u)[1:-1] + ["-b", "-", "%s@127.0.0.1" % u.name]
    argv[argv.index("-p")] = "-P"
    r = subprocess.run(argv, input=b"pwd\n", capture_output=True, timeout=30)
    check(r.returncode != 0 and b"Remote working directory" not in r.stdout,
          "a nologin account got an SFTP server: rc %s %r"
          % (r.returncode, r.stdout))
    r = ctx.ssh(u, "internal-sftp", input=b"")
    check(r.rc == 1 and b"This account is currently not available" in
          r.stdout, "exec internal-sftp did not run the nologin shell: "
          "rc %s %r" % (r.rc, r.stdout))


def test_forced_command_on_a_pty_log_line(ctx):
    """restrict,pty re-enables the terminal: the forced command runs on
    it, and the session line names it as sshd's does (" on pts/N")."""
    u = ctx.make_user()
    _reset_keys(ctx, u, 'command="tty",restrict,pty')
    ctx.start_server()
    r = ctx.ssh(u, "ignored", extra=("-tt",))
    check(r.rc == 0 and r.stdout.startswith(b"/dev/pts/"),
          "restrict,pty: no terminal: rc %s %r" % (r.rc, r.stdout))
    check(ctx.wait_log(r"^Starting session: forced-command \(key-option\) "
                       r"'tty' on pts/\d+ for %s from 127\.0\.0\.1 port \d+ "
                       r"id 0$" % u.name, 5),
          "no 'Starting session: ... on pts/N' line")
