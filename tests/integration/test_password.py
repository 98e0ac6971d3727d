"""
test_password.py: the password method with UsePAM no: the shadow hash
checked with crypt(3) (as OpenSSH's sshd without PAM), through the real
OpenSSH client answering the password prompt via SSH_ASKPASS.
"""

import os
import re
import secrets
import subprocess

from harness import check


def _ssh_password(ctx, user, password, key=None):
    script = os.path.join(ctx.dir, "askpass_%s.sh" % secrets.token_hex(3))
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % password)
    os.chmod(script, 0o755)
    env = dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
               DISPLAY=":0")
    argv = ctx.ssh_argv(user, "echo ok", batch=False, key=key, extra=(
        "-o", "PreferredAuthentications=password",
        "-o", "PubkeyAuthentication=no",
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
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "AuthenticationMethods password"])
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
