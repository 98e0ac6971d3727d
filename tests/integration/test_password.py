"""
test_password.py: the password method with UsePAM no: the shadow hash
checked with crypt(3) (as OpenSSH's sshd without PAM), through the real
OpenSSH client answering the password prompt via SSH_ASKPASS.
"""

import os
import re
import secrets
import subprocess

import harness
from harness import check
from interop_clients import SYSTEM_PYTHON, client_env


def _ssh_password(ctx, user, password, key=None, then_key=False):
    """ssh USER echo ok, answering the password prompt once with
    password; then_key: the user's key after the password."""
    script = os.path.join(ctx.dir, "askpass_%s.sh" % secrets.token_hex(3))
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % password)
    os.chmod(script, 0o755)
    env = dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
               DISPLAY=":0")
    argv = ctx.ssh_argv(user, "echo ok", batch=False, key=key, extra=(
        "-o", "PreferredAuthentications=password" +
        (",publickey" if then_key else ""),
        "-o", "PubkeyAuthentication=" + ("yes" if then_key else "no"),
        "-o", "NumberOfPasswordPrompts=1"))
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=30, env=env)


def test_password_without_pam(ctx):
    u = ctx.make_user()
    secret = "pw-" + secrets.token_hex(6)
    subprocess.run(["chpasswd"], input=("%s:%s\n" % (u.name, secret)).encode(),
                   check=True)
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "AuthenticationMethods password"])
    r = _ssh_password(ctx, u, secret)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "the right password should log in: rc %s %r %s"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Accepted password for %s from 127\.0\.0\.1 port "
                       r"\d+ ssh2$" % re.escape(u.name), 5),
          "no 'Accepted password' line")
    r = _ssh_password(ctx, u, secret + "x")
    check(r.returncode == 255 and r.stdout == b"",
          "a wrong password must be refused: rc %s" % r.returncode)
    check(ctx.wait_log(r"^Failed password for %s from 127\.0\.0\.1 port "
                       r"\d+ ssh2$" % re.escape(u.name), 5),
          "no 'Failed password' line")
    r = _ssh_password(ctx, "ptst_nobody_" + secrets.token_hex(3), secret,
                      key=u.key)
    check(r.returncode == 255, "an invalid user got in")
    check(ctx.wait_log(r"^Failed password for invalid user ptst_nobody_", 5),
          "no 'Failed password for invalid user' line")


def test_expired_password_refused(ctx):
    u = ctx.make_user()
    secret = "pw-" + secrets.token_hex(6)
    subprocess.run(["chpasswd"], input=("%s:%s\n" % (u.name, secret)).encode(),
                   check=True)
    subprocess.run(["chage", "-d", "0", u.name], check=True)
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes"])
    # As OpenSSH (auth_shadow_pwexpired, do_pwchange): the password
    # authenticates, but the session only changes it, and without a
    # terminal it cannot, so the command never runs.
    r = _ssh_password(ctx, u, secret)
    check(r.returncode == 1 and r.stdout == b"" and
          b"Password change required but no TTY available." in r.stderr,
          "an expired password must not run a command without a change: "
          "rc %s %r %r" % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^User %s password has expired \(root forced\)$"
                       % re.escape(u.name), 5),
          "no log line about the expired password")
    # sshd 9.2 side by side: a key alone is not held up by the expiry,
    # but once a password has been checked on the connection, even a
    # wrong one, the change is due whichever method then logs in.
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "a key login of an expired user was held up: rc %s %r"
          % (r.rc, r.err[-300:]))
    r = _ssh_password(ctx, u, "wrong-" + secret, then_key=True)
    check(r.returncode == 1 and r.stdout == b"" and
          b"Password change required but no TTY available." in r.stderr,
          "a key after a wrong expired password ran the command: rc %s %r %r"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Accepted publickey for %s " % re.escape(u.name), 5),
          "the key did not log in after the wrong password")


def _hash_to_passwd(name, lock=False):
    """name's hash moved from /etc/shadow into /etc/passwd ("!" before it
    when lock): an account without a shadow entry, as sshd's shadow_pw()
    falls back to."""
    from test_log_parity import _drop_shadow
    with open("/etc/shadow") as f:
        hashes = [l.split(":")[1] for l in f if l.startswith(name + ":")]
    check(len(hashes) == 1 and hashes[0].startswith("$"),
          "no shadow hash for %s" % name)
    _drop_shadow(name)

    def put(line):
        if not line.startswith(name + ":"):
            return line
        fields = line.split(":")
        fields[1] = ("!" if lock else "") + hashes[0]
        return ":".join(fields)
    harness.edit_account_file("/etc/passwd",
                              lambda lines: [put(l) for l in lines])


def test_password_hash_in_passwd(ctx):
    """UsePAM no, an account without a shadow entry: the hash in
    /etc/passwd is checked, as sshd's (which logs 'Could not get shadow
    information for USER' at the first password), and a "!" before it
    locks the account."""
    pw = "pw-" + secrets.token_hex(6)
    users = [ctx.make_user(with_key=False) for _ in range(2)]
    for u, lock in zip(users, (False, True)):
        subprocess.run(["chpasswd"], check=True,
                       input=("%s:%s\n" % (u.name, pw)).encode())
        _hash_to_passwd(u.name, lock)
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "LogLevel VERBOSE"])
    r = _ssh_password(ctx, users[0], "wrong-" + pw)
    check(r.returncode == 255, "a wrong password was accepted")
    r = _ssh_password(ctx, users[0], pw)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "the passwd entry's hash was not checked: rc %s %r"
          % (r.returncode, r.stderr))
    check(ctx.wait_log(r"^Could not get shadow information for %s$"
                       % users[0].name, 5),
          "no 'Could not get shadow information' line")
    r = _ssh_password(ctx, users[1], pw)
    check(r.returncode == 255, "a '!'-locked passwd hash was accepted")
    check(ctx.wait_log(r"^User %s not allowed because account is locked$"
                       % users[1].name, 5), "no 'account is locked' line")


# paramiko (in /usr/bin/python3 only): two wrong passwords, then a key the
# server does not know, on one connection.
_PASSWORDS_THEN_KEY = r'''
import sys
import paramiko
port, user, keyfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t = paramiko.Transport(("127.0.0.1", port))
t.start_client(timeout=20)
for pw in ("wrong-1", "wrong-2"):
    try:
        t.auth_password(user, pw)
    except paramiko.AuthenticationException:
        pass
try:
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(keyfile))
except paramiko.AuthenticationException:
    pass
t.close()
'''


def test_failed_key_info_after_failed_passwords(ctx):
    """sshd's monitor counts the failures it decides (passwords), and once
    they reach half MaxAuthTries it logs every verdict at INFO: a refused
    key then shows at LogLevel INFO (before, it is VERBOSE)."""
    u = ctx.make_user()
    stranger = ctx.make_user()
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "MaxAuthTries 4", "Match all",
                                   "LogLevel INFO"])
    env = client_env(ctx)
    p = subprocess.run([SYSTEM_PYTHON, "-c", _PASSWORDS_THEN_KEY,
                        str(ctx.port), u.name, stranger.key],
                       capture_output=True, timeout=60, env=env)
    check(p.returncode == 0, "paramiko: %r" % p.stderr[-400:])
    check(ctx.wait_log(r"^Failed publickey for %s from 127\.0\.0\.1 port "
                       r"\d+ ssh2: ED25519 SHA256:" % re.escape(u.name), 5),
          "no INFO 'Failed publickey' line after two failed passwords")
