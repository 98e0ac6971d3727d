"""
test_accounts.py: accounts OpenSSH's sshd refuses before any key is
looked at (allowed_user() with UsePAM no): an expired account, a locked
password, a login shell that does not exist. Each is refused with
OpenSSH's log line and then treated as an invalid user.
"""

import re
import subprocess

from harness import check


def _accepted(ctx):
    return len(re.findall(r"^Accepted ", ctx.server_log(), re.M))


def _refused_as_invalid(ctx, u, line_rx):
    before = _accepted(ctx)
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "login of a refused account: ssh exited %s with stdout %r"
          % (r.rc, r.stdout))
    check(ctx.wait_log(line_rx, 5),
          "server log lacks %r" % line_rx)
    closed = r"^Connection closed by invalid user %s 127\.0\.0\.1 port \d+ " \
             r"\[preauth\]$" % re.escape(u.name)
    check(ctx.wait_log(closed, 10),
          "server log lacks 'Connection closed by invalid user %s ...'"
          % u.name)
    check(not re.search(r"^Invalid user %s " % re.escape(u.name),
                        ctx.server_log(), re.M),
          "a refused existing account was logged as 'Invalid user'")
    check(_accepted(ctx) == before, "server accepted a refused account")


def test_account_expired(ctx):
    ctx.start_server()
    u = ctx.make_user()
    # Control: the same account logs in before it expires.
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "control login failed: rc %s stdout %r" % (r.rc, r.stdout))
    subprocess.run(["chage", "-E", "0", u.name], check=True)
    _refused_as_invalid(ctx, u, r"^Account %s has expired$"
                        % re.escape(u.name))


def test_account_locked(ctx):
    ctx.start_server()
    u = ctx.make_user()
    subprocess.run(["usermod", "-L", u.name], check=True)
    _refused_as_invalid(ctx, u, r"^User %s not allowed because account is "
                        r"locked$" % re.escape(u.name))


def test_account_missing_shell(ctx):
    ctx.start_server()
    u = ctx.make_user()
    subprocess.run(["usermod", "-s", "/nonexistent/shell", u.name],
                   check=True)
    _refused_as_invalid(ctx, u, r"^User %s not allowed because shell "
                        r"/nonexistent/shell does not exist$"
                        % re.escape(u.name))
