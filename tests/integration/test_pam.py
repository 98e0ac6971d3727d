"""
test_pam.py: UsePAM yes with real PAM stacks written to /etc/pam.d for the
test (PAMServiceName points at them): the account phase admits or refuses
after authentication, the session phase runs around the session, and the
environment PAM's session modules set reaches the user's commands.
"""

import os
import re

from harness import check



def test_pam_account_and_session(ctx):
    envfile = os.path.join(ctx.dir, "pam_environment")
    with open(envfile, "w") as f:
        f.write("POSTERN_PAM_VAR=set-by-pam-env\n")
    svc = ctx.pam_service([
        "auth required pam_deny.so",
        "account required pam_unix.so",
        "session required pam_env.so readenv=1 envfile=%s" % envfile,
        "session required pam_unix.so"])
    u = ctx.make_user()
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "echo ${POSTERN_PAM_VAR:-unset}")
    check(r.rc == 0 and r.stdout == b"set-by-pam-env\n",
          "publickey login under UsePAM yes should work and carry PAM's "
          "environment: rc %s %r %s" % (r.rc, r.stdout, r.err[-300:]))


def test_pam_account_denied(ctx):
    svc = ctx.pam_service([
        "auth required pam_deny.so",
        "account requisite pam_deny.so",
        "session required pam_unix.so"])
    u = ctx.make_user()
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "PAM's account phase refusing must refuse the login: rc %s %r"
          % (r.rc, r.stdout))
    check(ctx.wait_log(r"Access denied for user %s by PAM account "
                       r"configuration \[preauth\]$" % re.escape(u.name), 5),
          "no 'Access denied for user ... by PAM account configuration' line")
    check(not re.search(r"^Disconnected from user %s " % re.escape(u.name),
                        ctx.server_log(), re.M), "a session was started")
