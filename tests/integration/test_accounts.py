"""
test_accounts.py: accounts OpenSSH's sshd refuses before any key is
looked at (allowed_user() with UsePAM no): an expired account, a locked
password, a login shell that does not exist. Each is refused with
OpenSSH's log line and then treated as an invalid user. And what sshd 9.2
lets in: a locked password with UsePAM yes (PAM judges the account), an
account on its expiry day, Solaris' "*LK*" (not a lock on Linux), an
empty password with PermitEmptyPasswords yes, a missing shell under
ChrootDirectory. /etc/nologin with UsePAM no ends every session but
root's.
"""

import os
import re
import secrets
import shutil
import subprocess
import time

import harness
from harness import check
from interop_clients import SYSTEM_PYTHON, client_env
from test_chroot import _config as _chroot_config, _jail, _sftp
from test_password import _ssh_password


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
    # sshd 9.2 logs both, in this order (fail2ban reads the second).
    _refused_as_invalid(ctx, u, r"^Account %s has expired\nUser %s not "
                        r"allowed because account is locked$"
                        % (re.escape(u.name), re.escape(u.name)))


def test_account_expiring_today_admitted(ctx):
    """sshd (UsePAM no) refuses an account once its expiry day has passed,
    not on that day."""
    ctx.start_server(extra_config=["UsePAM no"])
    u = ctx.make_user()
    today = int(time.time()) // 86400
    subprocess.run(["chage", "-E", str(today), u.name], check=True)
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "an account expiring today was refused: rc %s %s"
          % (r.rc, r.err[-300:]))
    check(not re.search(r"^Account %s has expired" % re.escape(u.name),
                        ctx.server_log(), re.M),
          "an account expiring today was logged as expired")


def test_solaris_lock_string_not_a_lock(ctx):
    """On Linux sshd's lock test is the "!" prefix only: "*LK*" (like "*")
    is a password nobody can type, and the key still logs in."""
    ctx.start_server(extra_config=["UsePAM no"])
    u = ctx.make_user()
    subprocess.run(["usermod", "-p", "*LK*", u.name], check=True)
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "a *LK* password refused the key: rc %s %s"
          % (r.rc, r.err[-300:]))


def test_locked_password_key_login_with_pam(ctx):
    """UsePAM yes: sshd leaves the account to PAM, and pam_unix's account
    phase does not look at a locked ("!") password, so a key logs in."""
    svc = ctx.pam_service(["auth required pam_unix.so",
                           "account required pam_unix.so",
                           "session required pam_permit.so"])
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    u = ctx.make_user()
    subprocess.run(["usermod", "-L", u.name], check=True)
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "UsePAM yes: a locked password refused the key: rc %s %s"
          % (r.rc, r.err[-300:]))
    check(not re.search(r"not allowed because account is locked",
                        ctx.server_log()),
          "UsePAM yes: the account was judged locked")


def test_empty_password_permitted(ctx):
    """UsePAM no, PermitEmptyPasswords yes: an account whose shadow
    password is empty logs in with the empty password, as sshd's
    sys_auth_passwd(); with PermitEmptyPasswords no it does not."""
    u = ctx.make_user(with_key=False)
    subprocess.run(["passwd", "-d", u.name], check=True,
                   stdout=subprocess.DEVNULL)
    # (AuthenticationMethods: else "none" logs the account in first.)
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "PermitEmptyPasswords yes",
                                   "AuthenticationMethods password"])
    r = _ssh_password(ctx, u, "")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "PermitEmptyPasswords yes: the empty password was refused: rc %s "
          "%s" % (r.returncode, r.stderr[-300:]))
    check(ctx.wait_log(r"^Accepted password for %s from 127\.0\.0\.1 "
                       r"port \d+ ssh2$" % re.escape(u.name), 5),
          "no 'Accepted password' line")
    r = _ssh_password(ctx, u, "x")
    check(r.returncode == 255, "a non-empty password matched an empty one")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "PermitEmptyPasswords no"])
    r = _ssh_password(ctx, u, "")
    check(r.returncode == 255 and r.stdout == b"",
          "PermitEmptyPasswords no: the empty password logged in")


def test_empty_password_kbdint_pam_postponed(ctx):
    """UsePAM yes, PermitEmptyPasswords yes: keyboard-interactive/pam for
    an account with an empty password succeeds without a prompt
    (pam_unix nullok). sshd 9.2 logs its first round as always,
    "Postponed keyboard-interactive" without the device, then Accepted
    keyboard-interactive/pam (postern logged "Postponed
    keyboard-interactive/pam")."""
    u = ctx.make_user(with_key=False)
    subprocess.run(["passwd", "-d", u.name], check=True,
                   stdout=subprocess.DEVNULL)
    ctx.start_server(extra_config=[
        "UsePAM yes", "KbdInteractiveAuthentication yes",
        "PermitEmptyPasswords yes",
        "AuthenticationMethods keyboard-interactive"])
    script = os.path.join(ctx.dir, "askpass_empty.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\necho\n")
    os.chmod(script, 0o755)
    env = dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
               DISPLAY=":0")
    argv = ctx.ssh_argv(u, "echo ok", batch=False, extra=(
        "-o", "PreferredAuthentications=keyboard-interactive",
        "-o", "PubkeyAuthentication=no",
        "-o", "NumberOfPasswordPrompts=1"))
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30, env=env)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "empty password over keyboard-interactive/pam refused: rc %s %s"
          % (r.returncode, r.stderr[-300:]))
    name = re.escape(u.name)
    check(ctx.wait_log(r"^Accepted keyboard-interactive/pam for %s from "
                       r"127\.0\.0\.1 port \d+ ssh2$" % name, 5),
          "no 'Accepted keyboard-interactive/pam' line")
    postponed = re.findall(r"(?m)^Postponed (\S+) for %s from .*$" % name,
                           ctx.server_log())
    check(postponed == ["keyboard-interactive"],
          "Postponed lines %r, sshd 9.2 logs one, for "
          "keyboard-interactive" % postponed)


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


_NONE_THRICE = r'''
import sys
import paramiko
t = paramiko.Transport(("127.0.0.1", int(sys.argv[1])))
t.start_client(timeout=20)
for _ in range(3):
    try:
        t.auth_none(sys.argv[2])
    except paramiko.SSHException:
        pass
t.close()
'''


_EMPTY_PASSWORD = r'''
import sys
import paramiko
t = paramiko.Transport(("127.0.0.1", int(sys.argv[1])))
t.start_client(timeout=20)
t.auth_password(sys.argv[2], "")
ch = t.open_session()
ch.exec_command('cat "$SSH_USER_AUTH"')
sys.stdout.buffer.write(ch.makefile("rb").read())
t.close()
'''


_PASSWORD_THEN_NONE = r'''
import sys
import paramiko
t = paramiko.Transport(("127.0.0.1", int(sys.argv[1])))
t.start_client(timeout=20)
try:
    t.auth_password(sys.argv[2], "not-the-password")
except paramiko.SSHException:
    pass
try:
    t.auth_none(sys.argv[2])
except paramiko.SSHException:
    print("none refused")
    t.close()
    sys.exit(0)
ch = t.open_session()
ch.exec_command('cat "$SSH_USER_AUTH"')
sys.stdout.buffer.write(ch.makefile("rb").read())
t.close()
'''


def _paramiko(ctx, script, user):
    return subprocess.run([SYSTEM_PYTHON, "-c", script, str(ctx.port),
                           user.name], capture_output=True, timeout=60,
                          env=client_env(ctx))


def test_empty_password_none_method(ctx):
    """PermitEmptyPasswords and PasswordAuthentication yes: as sshd's
    userauth_none(), the "none" request itself checks the empty password,
    so a client that asks nothing (BatchMode) logs such an account in; a
    "none" that fails is logged as sshd logs it."""
    u = ctx.make_user(with_key=False)
    other = ctx.make_user(with_key=False)
    subprocess.run(["passwd", "-d", u.name], check=True,
                   stdout=subprocess.DEVNULL)
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "PermitEmptyPasswords yes",
                                   "ExposeAuthInfo yes"])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "none with an empty password: rc %s %s" % (r.rc, r.err[-300:]))
    check(ctx.wait_log(r"^Accepted none for %s from 127\.0\.0\.1 port "
                       r"\d+ ssh2$" % re.escape(u.name), 5),
          "no 'Accepted none' line")
    r = ctx.ssh(other, "echo ok")
    check(r.rc == 255 and r.stdout == b"", "none admitted a password user")
    failed_none = re.compile(r"^Failed none for %s from 127\.0\.0\.1 "
                             r"port \d+ ssh2$" % re.escape(other.name), re.M)
    check(ctx.wait_log(failed_none.pattern, 5), "no 'Failed none' line")
    # As sshd, whose first userauth_none() disables the method: three
    # "none" requests on one connection check (and log) the empty
    # password once.
    before = len(failed_none.findall(ctx.server_log()))
    p = _paramiko(ctx, _NONE_THRICE, other)
    check(p.returncode == 0, "paramiko: %r" % p.stderr[-400:])
    time.sleep(0.5)
    n = len(failed_none.findall(ctx.server_log())) - before
    check(n == 1, "three 'none' requests logged %d 'Failed none' lines, "
          "want 1" % n)
    # An empty password as the first request (no "none" before it) is
    # sshd's monitor's "none": logged so, and so in SSH_USER_AUTH.
    p = _paramiko(ctx, _EMPTY_PASSWORD, u)
    check(p.returncode == 0 and p.stdout == b"none\n",
          "SSH_USER_AUTH after an empty first password: %r %r"
          % (p.stdout, p.stderr[-400:]))
    # After a password request, "none"'s empty password is the
    # connection's second check: sshd's monitor names it "password"
    # (INFO), for a success, in SSH_USER_AUTH and for a failure alike.
    p = _paramiko(ctx, _PASSWORD_THEN_NONE, u)
    check(p.returncode == 0 and p.stdout == b"password\n",
          "SSH_USER_AUTH of a none after a password: %r %r"
          % (p.stdout, p.stderr[-400:]))
    check(ctx.wait_log(r"^Accepted password for %s from 127\.0\.0\.1 "
                       r"port \d+ ssh2$" % re.escape(u.name), 5),
          "a none after a password: no 'Accepted password' line")
    failed_pw = re.compile(r"^Failed password for %s from 127\.0\.0\.1 "
                           r"port \d+ ssh2$" % re.escape(other.name), re.M)
    before_none = len(failed_none.findall(ctx.server_log()))
    p = _paramiko(ctx, _PASSWORD_THEN_NONE, other)
    check(p.returncode == 0 and p.stdout == b"none refused\n",
          "a none after a password for a password user: %r %r"
          % (p.stdout, p.stderr[-400:]))
    time.sleep(0.5)
    log = ctx.server_log()
    n = len(failed_pw.findall(log))
    check(n == 2, "a wrong password then none: %d 'Failed password' "
          "lines, want 2" % n)
    check(len(failed_none.findall(log)) == before_none,
          "a none after a password was logged 'Failed none'")
    ctx.stop_server()
    ctx.proc = None
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "PermitEmptyPasswords no"])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "PermitEmptyPasswords no: none logged an empty password in")


def test_empty_password_expired_none(ctx):
    """UsePAM no, PermitEmptyPasswords yes: an empty password that has
    expired (chage -d 0, an account made to set its first password) and
    that "none" accepts must still be changed, as sshd's userauth_none()
    goes through auth_password() and its expiry check: without a
    terminal the command never runs."""
    u = ctx.make_user(with_key=False)
    subprocess.run(["passwd", "-d", u.name], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["chage", "-d", "0", u.name], check=True)
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "PermitEmptyPasswords yes"])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 1 and r.stdout == b"" and
          "Password change required but no TTY available." in r.err,
          "none with an expired empty password ran the command: rc %s %r"
          % (r.rc, r.err[-300:]))
    check(ctx.wait_log(r"^User %s password has expired \(root forced\)$"
                       % re.escape(u.name), 5),
          "no log line about the expired password")


def test_missing_shell_admitted_with_chroot(ctx):
    """sshd checks the login shell only without ChrootDirectory: an
    SFTP-only jail's user with a shell that does not exist logs in."""
    u = ctx.make_user()
    _jail(ctx, u)
    subprocess.run(["usermod", "-s", "/nonexistent/shell", u.name],
                   check=True)
    ctx.start_server(_chroot_config(u))
    r = _sftp(ctx, u, "pwd\n")
    check(r.returncode == 0 and b"Remote working directory: /" in r.stdout,
          "ChrootDirectory: a missing shell refused the login: rc %s %r"
          % (r.returncode, r.stderr[-300:]))
    check(not re.search(r"not allowed because shell", ctx.server_log()),
          "ChrootDirectory: the shell was checked")


def _nologin_server(ctx, text, extra=()):
    """Start the server (UsePAM no) in its own mount namespace, where an
    overlay on /etc holds /etc/nologin with text (ctx.etc_overlay)."""
    ctx.etc_overlay('printf "%s" "$NOLOGIN_TEXT" > /etc/nologin')
    ctx.write_config(["UsePAM no"] + list(extra))
    # root's keys sit under /tmp, which StrictModes would refuse.
    with open(ctx.config_path) as f:
        conf = f.read().replace("StrictModes yes", "StrictModes no")
    with open(ctx.config_path, "w") as f:
        f.write(conf)
    ctx.launch_server(env=dict(os.environ, NOLOGIN_TEXT=text))


def test_nologin_file_without_pam(ctx):
    """UsePAM no: while /etc/nologin exists, sshd lets no one but root
    (uid 0) start a session: after "Accepted" each session shows the
    file and exits 254."""
    u = ctx.make_user()
    root_key = ctx.new_key("root")
    keys = os.path.join(ctx.dir, "keys")
    os.mkdir(keys, 0o755)
    shutil.copy(root_key + ".pub", os.path.join(keys, "root"))
    text = "Down for maintenance %s\n" % secrets.token_hex(4)
    _nologin_server(ctx, text, ["PermitRootLogin prohibit-password",
                                "Match User root",
                                "\tAuthorizedKeysFile %s/%%u" % keys])
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 254 and r.stdout == b"" and text.encode() in r.stderr,
          "/etc/nologin: a user's session ran: rc %s %r %r"
          % (r.rc, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Accepted publickey for %s " % re.escape(u.name),
                       5), "the user was not authenticated first")
    check(ctx.wait_log(r"^User %s not allowed because /etc/nologin exists$"
                       % re.escape(u.name), 5),
          "no 'not allowed because /etc/nologin exists' line")
    r = ctx.ssh("root", "echo ok", key=root_key)
    check(r.rc == 0 and r.stdout == b"ok\n",
          "/etc/nologin: root was refused: rc %s %r" % (r.rc, r.err[-300:]))
    check(not os.path.exists("/etc/nologin"),
          "/etc/nologin escaped the server's namespace")


def test_nologin_file_checked_per_session(ctx):
    """As sshd's do_child(), /etc/nologin is looked for at each session
    request, not once per connection: sessions through a ControlMaster
    connection made while it existed run once it is gone, and are refused
    again once it is back (it was looked for at login only)."""
    u = ctx.make_user()
    text = "Back soon %s\n" % secrets.token_hex(4)
    _nologin_server(ctx, text)
    ctl = os.path.join(ctx.dir, "ctl")
    master = ctx.popen(ctx.ssh_argv(u, None, extra=(
        "-N", "-M", "-S", ctl)), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx.cleanups.append(lambda: master.poll() is None and master.kill())
    check(harness.poll_until(lambda: os.path.exists(ctl) or
                             master.poll() is not None, 15)
          and master.poll() is None, "control master did not start")

    def session():
        return harness.run(["ssh", "-S", ctl, "x", "echo ok"],
                           check_rc=False)

    def in_server_ns(cmd):
        harness.run(["nsenter", "-t", str(ctx.proc.pid), "-m", "sh", "-c",
                     cmd])

    r = session()
    check(r.returncode == 254 and text.encode() in r.stderr,
          "a session while /etc/nologin exists: rc %s %r"
          % (r.returncode, r.stderr[-300:]))
    in_server_ns("rm /etc/nologin")
    r = session()
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "a session once /etc/nologin is gone: rc %s %r"
          % (r.returncode, r.stderr[-300:]))
    in_server_ns("echo again > /etc/nologin")
    r = session()
    check(r.returncode == 254 and b"again" in r.stderr,
          "a session once /etc/nologin is back: rc %s %r"
          % (r.returncode, r.stderr[-300:]))
    # Through the control socket, not SIGTERM: ssh 9.2 polls without
    # masking signals and an idle master can miss one.
    harness.run(["ssh", "-S", ctl, "-O", "exit", "x"])
    master.wait(30)


def test_user_style_suffix_names_the_user(ctx):
    """As sshd's input_userauth_request(): "USER:STYLE" logs in as USER
    (the style is BSD auth's); a publickey signature covers the name as
    sent, style included."""
    u = ctx.make_user()
    ctx.start_server()
    r = ctx.ssh(u.name + ":bsdauth", 'echo "$USER"', key=u.key)
    check(r.rc == 0 and r.out == u.name + "\n",
          "USER:STYLE should log in as USER: rc %s %r %r"
          % (r.rc, r.out, r.err[-300:]))
    check(ctx.wait_log(r"^Accepted publickey for %s from " % u.name, 5),
          "no 'Accepted publickey for %s' line" % u.name)


def test_allow_users_host_after_first_at(ctx):
    """As sshd 9.2's match_user(): in AllowUsers/DenyUsers USER ends at
    the first '@', the rest is the host list."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["AllowUsers %s@127.0.0.1,x@y" % u.name])
    r = ctx.ssh(u, "echo in")
    check(r.rc == 0 and r.out == "in\n", "AllowUsers %s@127.0.0.1,x@y "
          "should let the user in from 127.0.0.1: rc %s %r"
          % (u.name, r.rc, r.err[-300:]))
    ctx.stop_server()
    ctx.start_server(extra_config=["DenyUsers %s@127.0.0.1,x@y" % u.name])
    r = ctx.ssh(u, "echo in")
    check(r.rc == 255, "DenyUsers %s@127.0.0.1,x@y should refuse: rc %s"
          % (u.name, r.rc))
    check(ctx.wait_log(r"User %s from 127\.0\.0\.1 not allowed because "
                       r"listed in DenyUsers" % u.name, 5),
          "no 'listed in DenyUsers' line")
