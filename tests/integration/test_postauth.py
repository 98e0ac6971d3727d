"""
test_postauth.py: what the root monitor does for a login after
authentication, as OpenSSH's sshd does it: the credentials PAM establishes
(pam_group's supplementary groups) reach the user's session.
"""

import os

from harness import check

GROUP_CONF = "/etc/security/group.conf"


def _group_conf_line(ctx, line):
    """Append line to pam_group's (system-wide) file for this test only."""
    with open(GROUP_CONF) as f:
        before = f.read()
    with open(GROUP_CONF, "a") as f:
        f.write(line + "\n")

    def restore():
        with open(GROUP_CONF) as f:
            now = f.read()
        with open(GROUP_CONF, "w") as f:
            f.write(now.replace(line + "\n", "") if before in now else before)
    ctx.cleanups.append(restore)


def test_pam_group_credentials_reach_session(ctx):
    svc = ctx.pam_service([
        "auth optional pam_group.so",
        "auth required pam_deny.so",
        "account required pam_unix.so",
        "session required pam_unix.so"])
    u = ctx.make_user()
    _group_conf_line(ctx, "%s;*;%s;Al0000-2400;audio" % (svc, u.name))
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "id -Gn")
    check(r.rc == 0, "login failed: rc %s %s" % (r.rc, r.err[-300:]))
    groups = r.stdout.decode().split()
    check("audio" in groups,
          "pam_group's group (pam_setcred, after initgroups as OpenSSH) "
          "is missing from the session: %r" % groups)
    check(u.name in groups or len(groups) >= 2,
          "the user's own groups went: %r" % groups)
