"""
test_pam_pwchange.py: an expired password (chage -d 0) under UsePAM yes.
keyboard-interactive:pam runs PAM's change dialogue (pam_chauthtok with
PAM_CHANGE_EXPIRED_AUTHTOK) over keyboard-interactive, as OpenSSH does,
and logs in only if the change succeeds; the new password works after.
Real pam_unix stacks in /etc/pam.d, the real OpenSSH client answering
each prompt through SSH_ASKPASS.
"""

import os
import re
import secrets
import subprocess

from harness import check, run

OLD = "Old-" + secrets.token_hex(6)
NEW = "Nw9!" + secrets.token_hex(8)
PAM_UNIX = ["auth required pam_unix.so",
            "account required pam_unix.so",
            "password required pam_unix.so yescrypt",
            "session required pam_unix.so"]



def _askpass(ctx, current, new, retype=None):
    """An askpass that answers PAM's prompts by their text and records
    each prompt it was shown."""
    script = os.path.join(ctx.dir, "askpass_%s.sh" % secrets.token_hex(3))
    seen = script + ".prompts"
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                "printf '%%s\\n' \"$1\" >> '%s'\n"
                "case \"$1\" in\n"
                "  *[Rr]etype*) printf '%%s\\n' '%s' ;;\n"
                "  *[Nn]ew*) printf '%%s\\n' '%s' ;;\n"
                "  *) printf '%%s\\n' '%s' ;;\n"
                "esac\n" % (seen, retype or new, new, current))
    os.chmod(script, 0o755)
    env = dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
               DISPLAY=":0")
    return env, seen


def _kbdint(ctx, u, current, new, retype=None):
    env, seen = _askpass(ctx, current, new, retype)
    argv = ctx.ssh_argv(u, "echo ok", batch=False,
                        extra=("-o", "PreferredAuthentications="
                               "keyboard-interactive",
                               "-o", "KbdInteractiveAuthentication=yes",
                               "-o", "NumberOfPasswordPrompts=1"))
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=40, env=env)
    prompts = open(seen).read() if os.path.exists(seen) else ""
    return r, prompts


def _expired_user(ctx):
    u = ctx.make_user(with_key=False)
    run(["chpasswd"], input=("%s:%s\n" % (u.name, OLD)).encode())
    run(["chage", "-d", "0", u.name])
    return u


def _start(ctx):
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + svc,
        "KbdInteractiveAuthentication yes",
        "AuthenticationMethods keyboard-interactive:pam"])


def test_pam_expired_password_changed_over_kbdint(ctx):
    u = _expired_user(ctx)
    _start(ctx)
    r, prompts = _kbdint(ctx, u, OLD, NEW)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "the change dialogue should succeed and log in: rc %s %r %s\n"
          "prompts: %r" % (r.returncode, r.stdout, r.stderr[-400:], prompts))
    for want in ("Current password", "New password", "Retype new password"):
        check(want in prompts, "PAM's %r prompt did not reach the client: %r"
              % (want, prompts))
    check(ctx.wait_log(r"^PAM: expired password changed for %s$" % u.name,
                       5), "no log line for the change")
    check(ctx.wait_log(r"^Accepted keyboard-interactive/pam for %s from "
                       r"127\.0\.0\.1 port \d+ ssh2" % u.name, 5),
          "no Accepted line")
    # The new password works on its own now; the old one no longer does.
    r, prompts = _kbdint(ctx, u, NEW, "unused")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "the new password should log in: rc %s %s prompts %r"
          % (r.returncode, r.stderr[-300:], prompts))
    check("New password" not in prompts,
          "a second change was asked for: %r" % prompts)
    r, _ = _kbdint(ctx, u, OLD, "unused")
    check(r.returncode == 255 and r.stdout == b"",
          "the old password still works: rc %s" % r.returncode)


def test_pam_expired_password_change_fails(ctx):
    u = _expired_user(ctx)
    _start(ctx)
    # The retyped password does not match: PAM refuses the change.
    r, prompts = _kbdint(ctx, u, OLD, NEW, retype=NEW + "x")
    check(r.returncode == 255 and r.stdout == b"",
          "a failed change must not log in: rc %s %r prompts %r"
          % (r.returncode, r.stdout, prompts))
    check(ctx.wait_log(r"^PAM: password change for %s failed: " % u.name, 5),
          "no log line for the failed change")
    check(not re.search(r"^Accepted ", ctx.server_log(), re.M),
          "a failed change was accepted")
    # Still expired, still the old password.
    sp = subprocess.run(["chage", "-l", u.name], capture_output=True,
                        text=True).stdout
    check("password must be changed" in sp,
          "the password is no longer marked expired: %s" % sp)


def _passwd_on_tty(ctx, u, current, new, extra=(), probe=None,
                   command=None):
    """ssh -tt with the user's key (and command, if any); answer
    passwd(1)'s prompts on the terminal (calling probe() once before the
    first answer). Returns (rc, output)."""
    import select
    import time
    master, slave = os.openpty()
    argv = ctx.ssh_argv(u, command, extra=("-tt",) + tuple(extra))
    p = ctx.popen(argv, stdin=slave, stdout=subprocess.PIPE,
                  stderr=subprocess.STDOUT)
    out = b""
    answers = [(b"Current password:", current), (b"New password:", new),
               (b"Retype new password:", new)]
    end = time.monotonic() + 30
    try:
        while time.monotonic() < end:
            r, _, _ = select.select([p.stdout], [], [], 1)
            if r:
                data = os.read(p.stdout.fileno(), 4096)
                if not data:
                    break
                out += data
            if answers and answers[0][0] in out:
                if probe is not None and len(answers) == 3:
                    probe()
                out = out.replace(answers[0][0], answers[0][0] + b"<>")
                os.write(master, answers[0][1].encode() + b"\r")
                answers.pop(0)
        p.wait(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
        os.close(slave)
    return p.returncode, out


def test_expired_password_changed_at_login_on_tty(ctx):
    # UsePAM yes, publickey: pam_acct_mgmt says the password must change;
    # as OpenSSH, the session runs passwd(1) on the terminal first.
    u = ctx.make_user()
    run(["chpasswd"], input=("%s:%s\n" % (u.name, OLD)).encode())
    run(["chage", "-d", "0", u.name])
    # As OpenSSH, the change comes before anything of the user's: a
    # ~/.ssh/rc does not run.
    marker = os.path.join(ctx.dir, "rc_ran_" + u.name)
    rc = os.path.join(u.home, ".ssh", "rc")
    with open(rc, "w") as f:
        f.write("touch %s\n" % marker)
    os.chown(rc, u.uid, u.gid)
    os.chmod(ctx.dir, 0o777)
    ctx.cleanups.append(lambda: os.chmod(ctx.dir, 0o755))
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    # No terminal: the command does not run.
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 1 and r.stdout == b"" and
          "Password change required but no TTY available." in r.err,
          "without a tty the command ran or no refusal: rc %s %r %r"
          % (r.rc, r.stdout, r.err[-300:]))
    check(ctx.wait_log(r"^User %s password has expired \(PAM\)" % u.name, 5),
          "no log line for the expired password")
    check(not os.path.exists(marker), "~/.ssh/rc ran before the change")
    rc, out = _passwd_on_tty(ctx, u, OLD, NEW)
    check(b"WARNING: Your password has expired." in out and
          b"You must change your password now and login again!" in out,
          "no warning on the terminal: %r" % out[-600:])
    check(b"Retype new password:<>" in out,
          "passwd's prompts were not all answered: %r" % out[-600:])
    sp = subprocess.run(["chage", "-l", u.name], capture_output=True,
                        text=True).stdout
    check("password must be changed" not in sp,
          "the password is still expired after passwd: rc %s %r\n%s"
          % (rc, out[-600:], sp))
    check(not os.path.exists(marker), "~/.ssh/rc ran before the change")
    # Now the command runs, after ~/.ssh/rc (which shows the test can see
    # it run).
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "after the change the key should run commands: rc %s %r"
          % (r.rc, r.err[-300:]))
    check(os.path.exists(marker), "~/.ssh/rc did not run for a login")


def test_pwchange_tty_greeting_first(ctx):
    """On a terminal without a command, the expired password's session is
    greeted as any login first, then passwd runs: PAM's message, the last
    login, then the warning, in that order, as sshd's do_login() shows
    them before its do_pwchange() (seen side by side with sshd 9.2).
    Before, only the warning came."""
    u = ctx.make_user()
    run(["chpasswd"], input=("%s:%s\n" % (u.name, OLD)).encode())
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    # A first login on a pty, for a last login to show.
    r = ctx.ssh(u, "true", extra=["-tt"])
    check(r.rc == 0, "the first login failed: %r" % r.err[-300:])
    run(["chage", "-d", "0", u.name])
    rc, out = _passwd_on_tty(ctx, u, OLD, NEW)
    text = out.decode("utf-8", "replace")
    marks = [text.find(m) for m in (
        "You are required to change your password immediately",
        "Last login: ", "WARNING: Your password has expired.",
        "Current password:")]
    check(-1 not in marks and marks == sorted(marks),
          "the greeting, then the warning, then passwd: positions %r in %r"
          % (marks, text[-800:]))
    # With a command, as sshd: no greeting (a quiet login).
    run(["chage", "-d", "0", u.name])
    rc, out = _passwd_on_tty(ctx, u, NEW, OLD, command="true")
    check(b"Last login: " not in out and
          b"WARNING: Your password has expired." in out,
          "a command's password change: %r" % out[-600:])


def test_pam_password_method_expired(ctx):
    # UsePAM yes, the password method: the password authenticates, PAM's
    # account phase says it must change; without a terminal no command.
    u = _expired_user(ctx)
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + svc, "PasswordAuthentication yes",
        "AuthenticationMethods password"])
    env, _ = _askpass(ctx, OLD, NEW)
    argv = ctx.ssh_argv(u, "echo ok", batch=False, extra=(
        "-o", "PreferredAuthentications=password",
        "-o", "NumberOfPasswordPrompts=1"))
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=40, env=env)
    check(r.returncode == 1 and r.stdout == b"" and
          b"Password change required but no TTY available." in r.stderr,
          "expired password by the password method: rc %s %r %r"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Accepted password for %s " % u.name, 5),
          "no Accepted password line")
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=40, env=_askpass(ctx, "wrong-" + OLD, NEW)[0])
    check(r.returncode == 255, "a wrong expired password got in")


# --- issue 5: the change runs passwd(1) itself, not through the shell -----

ESCAPE = "ESCAPED-" + secrets.token_hex(4)


def _escaping_user(ctx, bashrc=True):
    """An expired user whose bash startup files would end any `bash -c`
    before it got to passwd: Debian's bash reads ~/.bashrc for `bash -c`
    when SSH_CLIENT is set, and BASH_ENV names a file for any bash."""
    u = ctx.make_user()
    run(["chpasswd"], input=("%s:%s\n" % (u.name, OLD)).encode())
    run(["chage", "-d", "0", u.name])
    for name in ((".bashrc",) if bashrc else ()) + ("bash_env.sh",):
        path = os.path.join(u.home, name)
        with open(path, "w") as f:
            f.write("echo %s; echo %s >&2; exit 0\n" % (ESCAPE, ESCAPE))
        os.chown(path, u.uid, u.gid)
    return u


def _refused(r, what):
    out = r.stdout + r.err.encode()
    check(ESCAPE.encode() not in out,
          "%s: the user's startup file ran instead of the change: rc %s %r"
          % (what, r.rc, out[-300:]))
    check(r.rc == 1 and r.stdout == b"" and
          "WARNING: Your password has expired." in r.err and
          "Password change required but no TTY available." in r.err,
          "%s: no refusal without a tty: rc %s %r %r"
          % (what, r.rc, r.stdout, r.err[-300:]))


def test_pwchange_bashrc_no_tty(ctx):
    u = _escaping_user(ctx)
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + svc, "AcceptEnv BASH_ENV",
        "Subsystem sftp internal-sftp"])
    _refused(ctx.ssh(u, "echo ok"), "exec")
    _refused(ctx.ssh(u, None), "shell")
    # A subsystem's stderr is dropped, as sshd 9.2 does (checked side by
    # side): the refusal exits 1 without a word.
    r = ctx.ssh(u, "sftp", extra=("-s",))
    check(r.rc == 1 and r.stdout == b"" and r.err == "",
          "internal-sftp subsystem: not refused quietly: rc %s %r %r"
          % (r.rc, r.stdout, r.err[-300:]))
    _refused(ctx.ssh(u, "echo ok", extra=(
        "-o", "SetEnv=BASH_ENV=" + os.path.join(u.home, "bash_env.sh"))),
        "BASH_ENV via AcceptEnv")
    check(ctx.wait_log(r"^User %s password has expired \(PAM\)" % u.name, 5),
          "no log line for the expired password")


def _passwd_environ(u):
    """The environment and argv of the user's running passwd(1)."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            # passwd is set-uid root: its real uid is the user's.
            with open("/proc/%s/status" % d) as f:
                uid = [line.split()[1] for line in f
                       if line.startswith("Uid:")]
            if uid != [str(u.uid)]:
                continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")[:-1]
            if not argv or os.path.basename(argv[0]) != b"passwd":
                continue
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")[:-1]
        except OSError:
            continue
        return argv, dict(e.decode().split("=", 1) for e in env)
    return None, None


def test_pwchange_tty_environment(ctx):
    # BASH_ENV through AcceptEnv, SetEnv, PAM's and ~/.ssh/environment:
    # none of it reaches passwd(1), which gets only the login basics.
    u = _escaping_user(ctx, bashrc=False)
    ssh_env = os.path.join(u.home, ".ssh", "environment")
    with open(ssh_env, "w") as f:
        f.write("POSTERN_USERENV=1\nBASH_ENV=%s/bash_env.sh\n" % u.home)
    os.chown(ssh_env, u.uid, u.gid)
    conf = os.path.join(ctx.dir, "pam_env.conf")
    with open(conf, "w") as f:
        f.write("POSTERN_PAMENV DEFAULT=1\n")
    svc = ctx.pam_service(PAM_UNIX + ["session required pam_env.so "
                                      "readenv=0 conffile=" + conf])
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + svc, "AcceptEnv BASH_ENV",
        "PermitUserEnvironment yes", "SetEnv POSTERN_SETENV=1"])
    seen = {}

    def probe():
        seen["argv"], seen["env"] = _passwd_environ(u)

    rc, out = _passwd_on_tty(ctx, u, OLD, NEW, extra=(
        "-o", "SetEnv=BASH_ENV=" + os.path.join(u.home, "bash_env.sh")),
        probe=probe)
    check(ESCAPE.encode() not in out,
          "BASH_ENV ran instead of passwd: %r" % out[-600:])
    check(seen.get("env") is not None,
          "no passwd process of the user at its prompt: %r" % out[-600:])
    env = seen["env"]
    check(set(env) == {"PATH", "USER", "LOGNAME", "HOME", "SHELL", "TERM"},
          "passwd's environment is not the minimal one: %r" % env)
    check(seen["argv"] == [b"passwd"], "passwd's argv: %r" % seen["argv"])
    check(env["USER"] == u.name and env["LOGNAME"] == u.name and
          env["HOME"] == u.home and env["SHELL"] == "/bin/bash",
          "passwd's environment: %r" % env)
    check(b"Retype new password:<>" in out,
          "passwd's prompts were not all answered: %r" % out[-600:])


def test_pwchange_bashrc_no_tty_shadow(ctx):
    # UsePAM no: the shadow entry says expired; the password method.
    u = _escaping_user(ctx)
    ctx.start_server(extra_config=[
        "UsePAM no", "PasswordAuthentication yes", "AcceptEnv BASH_ENV",
        "AuthenticationMethods password"])
    env, _ = _askpass(ctx, OLD, NEW)
    for cmd, extra in (("echo ok", ()), ("echo ok", (
            "-o", "SetEnv=BASH_ENV=" + os.path.join(u.home, "bash_env.sh")))):
        argv = ctx.ssh_argv(u, cmd, batch=False, extra=extra + (
            "-o", "PreferredAuthentications=password",
            "-o", "NumberOfPasswordPrompts=1"))
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=40, env=env)

        class R:
            rc, stdout = p.returncode, p.stdout
            err = p.stderr.decode("utf-8", "replace")
        _refused(R, "password method, UsePAM no %r" % (extra,))


def test_pwchange_bashrc_tty(ctx):
    u = _escaping_user(ctx)
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    rc, out = _passwd_on_tty(ctx, u, OLD, NEW)
    check(ESCAPE.encode() not in out,
          "the user's ~/.bashrc ran instead of passwd: %r" % out[-600:])
    check(b"WARNING: Your password has expired." in out and
          b"You must change your password now and login again!" in out and
          b"Retype new password:<>" in out,
          "passwd did not run on the terminal: rc %s %r" % (rc, out[-600:]))
    sp = subprocess.run(["chage", "-l", u.name], capture_output=True,
                        text=True).stdout
    check("password must be changed" not in sp,
          "the password is still expired after passwd: %r\n%s"
          % (out[-600:], sp))
    # The control: once changed, a command goes through bash -c, which
    # reads this ~/.bashrc (so the checks above could fail).
    r = ctx.ssh(u, "echo ok")
    check(ESCAPE.encode() in r.stdout,
          "~/.bashrc does not run for bash -c here: rc %s %r %r"
          % (r.rc, r.stdout, r.err[-300:]))
