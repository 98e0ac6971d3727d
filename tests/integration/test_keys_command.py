"""
test_keys_command.py: AuthorizedKeysCommand and AuthorizedPrincipalsCommand
with the real OpenSSH client. The commands are small shell scripts in a
root-owned directory under /run (sshd, and postern, refuse a program under
a directory others may write, such as /tmp); they check the arguments the
tokens expand to, the user they run as and their environment (sshd's:
PATH, USER, LOGNAME, HOME, LANG), and print a key or a principal.
"""

import grp
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import time

import harness
from harness import check


def _cmd_dir(ctx):
    d = "/run/postern-it-cmd-" + secrets.token_hex(4)
    os.mkdir(d, 0o755)
    os.chmod(d, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def _script(d, name, body, mode=0o755):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, mode)
    return path


def _pub(path):
    with open(path) as f:
        return f.read().strip()


def _login(ctx, u, key, want_ok, what, expect_out=b"ok\n"):
    r = ctx.ssh(u, "echo ok", key=key)
    if want_ok:
        check(r.rc == 0 and r.stdout == expect_out,
              "%s: login should work: rc %s stdout %r; stderr:\n%s"
              % (what, r.rc, r.stdout, r.err))
    else:
        check(r.rc == 255 and r.stdout == b"",
              "%s: login should be refused: rc %s stdout %r"
              % (what, r.rc, r.stdout))


def _log_has(ctx, pattern, what, timeout_s=5):
    check(ctx.wait_log(pattern, timeout_s),
          "%s: no log line matching %r" % (what, pattern))


def _nobody():
    return pwd.getpwnam("nobody")


def test_keys_command_login(ctx):
    """The command runs as AuthorizedKeysCommandUser in / with sshd's
    environment (PATH, and USER, LOGNAME, HOME of that user; nothing of the
    connection) and no terminal, gets %u %f %k %t as arguments, and its
    output is read as authorized_keys, options included."""
    u = ctx.make_user(with_key=False)
    fp = harness.fingerprint(u.pubkey)
    pub = _pub(u.pubkey)
    ktype, kb64 = pub.split()[:2]
    d = _cmd_dir(ctx)
    body = "\n".join([
        '[ "$(id -u)" = "%d" ] || exit 3' % _nobody().pw_uid,
        '[ "$USER:$LOGNAME:$HOME" = "nobody:nobody:%s" ] || exit 4'
        % _nobody().pw_dir,
        '[ "$PATH" = "/usr/local/bin:/usr/bin:/bin:/usr/games" ] || exit 4',
        '[ -z "$SSH_CONNECTION$SSH_CLIENT$MAIL" ] || exit 4',
        '[ "$(pwd)" = / ] || exit 4',
        '[ "$#" = 5 ] || exit 5',
        '[ "$1" = "%s" ] || exit 6' % u.name,
        '[ "$2" = "%s" ] || exit 7' % fp,
        '[ "$3" = "%s" ] || exit 8' % kb64,
        '[ "$4" = "%s" ] || exit 9' % ktype,
        '[ "$5" = "100%" ] || exit 10',
        "/usr/bin/tty >/dev/null 2>&1 && exit 11",
        "echo '# a comment'",
        "echo 'ssh-ed25519 AAAAnotakey'",
        "echo '%s'" % pub,
        ""])
    cmd = _script(d, "keys", body)
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s %%u %%f %%k %%t 100%%%%" % cmd,
        "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, True, "key printed by AuthorizedKeysCommand")
    _log_has(ctx, r"^Accepted key ED25519 %s found at %s" %
             (re.escape(fp), re.escape(cmd)), "the Accepted key line")
    _log_has(ctx, r"^Accepted publickey for %s from" % u.name,
             "OpenSSH's Accepted line")
    # Another key of the user's is not in the output.
    other = ctx.new_key("other")
    _login(ctx, u, other, False, "a key the command does not print")


def test_keys_command_quoting(ctx):
    """The command line is split as sshd's argv_split: a backslash
    escapes a space outside quotes only, never a tab; quotes group."""
    u = ctx.make_user(with_key=False)
    pub = _pub(u.pubkey)
    d = _cmd_dir(ctx)
    body = "\n".join([
        '[ "$#" = 4 ] || exit 5',
        '[ "$1" = "a b" ] || exit 6',
        r'''[ "$2" = 'x\ y' ] || exit 7''',
        r'''[ "$3" = 'p\' ] || exit 8''',
        '[ "$4" = "q" ] || exit 9',
        "echo '%s'" % pub,
        ""])
    cmd = _script(d, "keys", body)
    ctx.start_server(extra_config=[
        'AuthorizedKeysCommand %s a\\ b "x\\ y" p\\\tq' % cmd,
        "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, True, "a command line with escapes and quotes")


def test_keys_command_stderr(ctx):
    """What the command writes on stderr goes to posternd's stderr under
    -e, as sshd's child keeps its stderr under -d, -e and -E (and has
    /dev/null there otherwise): the message an administrator debugging
    the command looks for."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    tag = "keys-cmd-stderr-" + secrets.token_hex(4)
    cmd = _script(d, "keys", "\n".join([
        "echo '%s for' \"$1\" >&2" % tag,
        "echo '%s'" % _pub(u.pubkey), ""]))
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s %%u" % cmd,
        "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, True, "a command that also writes on stderr")
    _log_has(ctx, r"^%s for %s$" % (tag, u.name), "the command's stderr")


def test_keys_command_options(ctx):
    """Options on the printed line apply (command=), and the user name is
    the only argument of a command given without any."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    cmd = _script(d, "keys", "\n".join([
        '[ "$#" = 1 ] && [ "$1" = "%s" ] || exit 1' % u.name,
        "echo 'command=\"echo forced\" %s'" % _pub(u.pubkey), ""]))
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s" % cmd,
        "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, True, "command= from the command's output",
           expect_out=b"forced\n")


def test_keys_command_refusals(ctx):
    """Nothing printed, a non-zero exit, an unsafe program and a missing
    one each refuse the key (the authorized_keys file still works)."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    pub = _pub(u.pubkey)
    empty = _script(d, "empty", "exit 0\n")
    failing = _script(d, "failing", "echo '%s'\nexit 2\n" % pub)
    # Group-writable by a group not private to root (Debian's sshd
    # accepts root:root 0775: test_keys_command_runs_as_sshd_runs_it).
    unsafe = _script(d, "unsafe", "echo '%s'\n" % pub, mode=0o775)
    os.chown(unsafe, 0, grp.getgrnam("staff").gr_gid)
    os.chmod(unsafe, 0o775)
    missing = os.path.join(d, "missing")
    for cmd, line in (
            (empty, None),
            (failing, r"^AuthorizedKeysCommand %s %s failed, status 2$"
             % (re.escape(failing), u.name)),
            (unsafe, r"^Unsafe AuthorizedKeysCommand \"%s\": bad ownership "
             r"or modes for file %s$" % (re.escape(unsafe),
                                         re.escape(unsafe))),
            # sshd's words (before: "Unsafe ...: realpath ... failed").
            (missing, r"^Could not stat AuthorizedKeysCommand \"%s\": No "
             r"such file or directory$" % re.escape(missing))):
        ctx.start_server(extra_config=[
            "AuthorizedKeysCommand %s" % cmd,
            "AuthorizedKeysCommandUser nobody"])
        _login(ctx, u, u.key, False, "command %s" % os.path.basename(cmd))
        if line is not None:
            _log_has(ctx, line, "log line for %s" % os.path.basename(cmd))
        ctx.stop_server()


def test_keys_command_invalid_user_held_as_long(ctx):
    """The command runs only for users who exist (as sshd runs it), so a
    slow one told them apart by time: a refused key took the command's
    0.4 s for a valid user and a few ms for an invalid one. Now an invalid
    user's failure counts as long as a valid user's recent one (the
    listener passes their times on to each connection's monitor, and to
    itself across a SIGHUP restart), and the command still never runs for
    a user who does not exist."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    ran = os.path.join(d, "ran")
    cmd = _script(d, "slow", 'echo "$1" >> %s\nsleep 0.4\n' % ran)
    # The command (as nobody) notes each user it runs for.
    with open(ran, "w"):
        pass
    os.chown(ran, _nobody().pw_uid, -1)
    ecdsa = os.path.join(ctx.dir, "ecdsa_key")
    harness.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", ecdsa])
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s %%u" % cmd,
        "AuthorizedKeysCommandUser nobody",
        "PubkeyAcceptedAlgorithms ssh-ed25519",
        "Match all", "LogLevel DEBUG2"])
    _login(ctx, u, u.key, False, "valid user, key the command does not list")
    # Cheap failures of the valid user, refused before any lookup (an
    # algorithm not accepted): they run no command and add no time, so
    # they cannot flush the one that ran (a review's attack: 32 of them
    # replaced every real time, and the oracle came back).
    for _ in range(3):
        r = ctx.ssh(u, "true", key=ecdsa)
        check(r.rc == 255, "an ECDSA key logged in: %r" % r)
    # The times outlive a SIGHUP restart of the listener.
    os.kill(ctx.proc.pid, signal.SIGHUP)
    check(harness.poll_until(lambda: len(re.findall(
        r"^Server listening on .* port %d\.$" % ctx.port, ctx.server_log(),
        re.M)) >= 2, 10), "the listener did not restart")
    bogus = "nosuch" + secrets.token_hex(4)
    t0 = time.monotonic()
    r = ctx.ssh(bogus, "echo ok", key=u.key)
    took = time.monotonic() - t0
    check(r.rc == 255, "invalid user: rc %s" % r.rc)
    m = ctx.wait_log(r"invalid user's attempt counted as (\d+)\.\d+ ms "
                     r"\((\d+) valid users' command times known\)", 5)
    check(m, "no line for the invalid user's attempt time")
    check(int(m.group(1)) >= 400 and int(m.group(2)) == 1,
          "the invalid user's attempt counted as %s ms with %s valid "
          "users' command times known, want 400 or more with 1"
          % (m.group(1), m.group(2)))
    check(took >= 0.4, "the invalid user's login was refused after %.3f s"
          % took)
    with open(ran) as f:
        names = f.read().split()
    check(names and set(names) == {u.name},
          "the command ran for %r" % names)


def test_keys_command_match_none(ctx):
    """A Match block can turn the command off for a user."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    cmd = _script(d, "keys", "echo '%s'\n" % _pub(u.pubkey))
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s" % cmd,
        "AuthorizedKeysCommandUser nobody",
        "Match User %s" % u.name,
        "AuthorizedKeysCommand none"])
    _login(ctx, u, u.key, False, "AuthorizedKeysCommand none in Match")


def _keygen(ctx, name):
    path = os.path.join(ctx.dir, name)
    harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                 "-f", path])
    return path


def test_principals_command(ctx):
    """A certificate through TrustedUserCAKeys whose principal only the
    AuthorizedPrincipalsCommand names; %u %i %s %F %T %t as arguments."""
    u = ctx.make_user(with_key=False)
    ca = _keygen(ctx, "pc_ca")
    key = _keygen(ctx, "pc_user")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "laptop", "-z", "42",
                 "-n", "team-a", key + ".pub"])
    cafp = harness.fingerprint(ca + ".pub")
    d = _cmd_dir(ctx)
    body = "\n".join([
        '[ "$(id -u)" = "%d" ] || exit 3' % _nobody().pw_uid,
        '[ "$1" = "%s" ] || exit 4' % u.name,
        '[ "$2" = laptop ] || exit 5',
        '[ "$3" = 42 ] || exit 6',
        '[ "$4" = "%s" ] || exit 7' % cafp,
        '[ "$5" = ssh-ed25519 ] || exit 8',
        '[ "$6" = ssh-ed25519-cert-v01@openssh.com ] || exit 9',
        "echo team-b",
        "echo team-a",
        ""])
    cmd = _script(d, "principals", body)
    wrong = _script(d, "wrong", "echo team-b\n")
    base = ["TrustedUserCAKeys %s.pub" % ca,
            "AuthorizedPrincipalsCommandUser nobody"]
    ctx.start_server(extra_config=base + [
        "AuthorizedPrincipalsCommand %s %%u %%i %%s %%F %%T %%t" % cmd])
    _login(ctx, u, key, True, "principal from AuthorizedPrincipalsCommand")
    _log_has(ctx, r"^Accepted certificate ID \"laptop\" \(serial 42\) "
             r"signed by ED25519 CA %s via %s\.pub$"
             % (re.escape(cafp), re.escape(ca)), "Accepted certificate")
    ctx.stop_server()
    ctx.start_server(extra_config=base + [
        "AuthorizedPrincipalsCommand %s" % wrong])
    _login(ctx, u, key, False, "command naming no principal of the cert")
    _log_has(ctx, r"Certificate does not contain an authorized principal",
             "refusal line")


def test_keys_command_runs_as_sshd_runs_it(ctx):
    """As sshd 9.2 (Debian) runs the command: %u in
    AuthorizedKeysCommandUser is the user logging in; a program
    group-writable by root's own group (private to root) is safe; every
    signal is at its default even when posternd was started with some
    ignored; a program that does not execute says why (execve's error,
    the command line named as sshd's argv_assemble() writes it);
    and a %k longer than 8 KiB (a certificate with many principals) is
    passed whole."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    pub = _pub(u.pubkey)
    seen = os.path.join(d, "seen")
    open(seen, "w").close()
    os.chown(seen, pwd.getpwnam(u.name).pw_uid, -1)
    cmd = _script(d, "keys", "\n".join([
        '[ "$(id -un)" = "%s" ] || exit 3' % u.name,
        "grep '^SigIgn' /proc/self/status > %s" % seen,
        "echo '%s'" % pub, ""]), mode=0o775)
    os.chown(cmd, 0, 0)
    os.chmod(cmd, 0o775)
    ctx.write_config([
        "AuthorizedKeysCommand %s" % cmd,
        "AuthorizedKeysCommandUser %u"])
    ctx.launch_server(prefix=["sh", "-c", "trap '' USR1 USR2 TSTP; "
                              'exec "$@"', "sh"])
    _login(ctx, u, u.key, True, "AuthorizedKeysCommandUser %u, "
           "a root:root 0775 command")
    # USR1, USR2 and TSTP, which posternd was started ignoring (bits 9,
    # 11, 19); glibc's own signals (32, 33) cannot be reset, as in sshd.
    ign = open(seen).read().split()
    check(len(ign) == 2 and int(ign[1], 16) & 0x80a00 == 0,
          "the command inherited ignored signals: %r" % ign)
    ctx.stop_server()

    # Not a program: no #! line.
    bad = os.path.join(d, "notexec")
    with open(bad, "w") as f:
        f.write("echo '%s'\n" % pub)
    os.chmod(bad, 0o755)
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s 'a b' c\\\"d %%u" % bad,
        "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, False, "a command that does not execute")
    # Named as sshd's argv_assemble() writes the command line: a word
    # with a blank in double quotes, a backslash before a quote or a
    # backslash (which the log line writes as two).
    named = r'%s "a b" c\\\\"d %s' % (re.escape(bad), u.name)
    _log_has(ctx, r'^AuthorizedKeysCommand execve "%s": Exec format error$'
             % named, "why the command did not run")
    _log_has(ctx, r'^AuthorizedKeysCommand %s failed, status 127$' % named,
             "the command's status")
    ctx.stop_server()

    # %k of a certificate with 200 long principals: over 8 KiB.
    ca = _keygen(ctx, "kc_ca")
    key = _keygen(ctx, "kc_user")
    names = [u.name] + ["principal-%03d-%s" % (i, "x" * 40)
                        for i in range(200)]
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "many", "-n",
                 ",".join(names), key + ".pub"])
    cert_b64 = _pub(key + "-cert.pub").split()[1]
    check(len(cert_b64) > 8192, "the certificate is short: %d" %
          len(cert_b64))
    long_cmd = _script(d, "long", "\n".join([
        '[ "$2" = "%s" ] || exit 4' % cert_b64,
        "echo 'cert-authority %s'" % _pub(ca + ".pub"), ""]))
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s %%u %%k" % long_cmd,
        "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, key, True, "a %k of over 8 KiB")


@harness.timeout(120)
def test_keys_command_deadline_after_output(ctx):
    """A command that prints a key, closes its output and runs on is
    still held to the 30 s bound: killed with its process group, the
    login refused, not a monitor blocked as long as the command runs."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    cmd = _script(d, "keys", "echo '%s'\nexec >&-\nexec sleep 600\n"
                  % _pub(u.pubkey))
    ctx.start_server(extra_config=[
        "AuthorizedKeysCommand %s" % cmd,
        "AuthorizedKeysCommandUser nobody",
        "LoginGraceTime 0"])
    r = ctx.ssh(u, "echo ok", timeout_s=60)
    check(r.rc == 255 and r.stdout == b"",
          "a command that runs on: rc %s %r" % (r.rc, r.stdout))
    _log_has(ctx, r"^AuthorizedKeysCommand %s %s timed out after 30 "
             r"seconds; killed$" % (re.escape(cmd), u.name),
             "the timeout line")
    check(harness.poll_until(lambda: subprocess.run(
        ["pgrep", "-f", "sleep 600"], capture_output=True).stdout == b"",
        10), "the command's sleep still runs")


def test_unknown_token_ends_connection(ctx):
    """An unknown % token (or a trailing %) in AuthorizedKeysFile or
    AuthorizedKeysCommand ends the connection as sshd 9.2's monitor does
    (its percent_expand() lines, then fatal): no "Failed publickey" line,
    and the client tries no other method (review: posternd refused the
    key and went on)."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    cmd = _script(d, "keys", "echo '%s'\n" % _pub(u.pubkey))
    for conf, first in (
            # (the harness's config names an AuthorizedKeysFile)
            (["Match User " + u.name,
              "AuthorizedKeysFile .ssh/authorized_keys_%z"],
             "unknown key %z"),
            (["AuthorizedKeysCommand %s %%u %%z" % cmd,
              "AuthorizedKeysCommandUser nobody"], "unknown key %z"),
            (["AuthorizedKeysCommand %s %%u x%%" % cmd,
              "AuthorizedKeysCommandUser nobody"], "invalid format")):
        ctx.stop_server()
        if os.path.exists(ctx.log_path):
            os.truncate(ctx.log_path, 0)
        ctx.start_server(extra_config=conf)
        r = ctx.ssh(u, "echo ok", key=u.key)
        check(r.rc == 255 and b"Permission denied" not in r.stderr,
              "%s: the connection should end: rc %s %r"
              % (conf, r.rc, r.err[-300:]))
        _log_has(ctx, r"^vdollar_percent_expand: %s\r?\n"
                 r"percent_expand: failed\r?$" % re.escape(first),
                 "%s: sshd's lines" % conf)
        check("Failed publickey" not in ctx.server_log(),
              "%s: a failure was logged:\n%s" % (conf, ctx.server_log()))
