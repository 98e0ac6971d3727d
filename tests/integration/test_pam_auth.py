"""
test_pam_auth.py: password and keyboard-interactive:pam through a real PAM
conversation (modules/pam.c, modules/pam_password.c): pam_unix stacks
written to /etc/pam.d for the test (PAMServiceName), a password set with
chpasswd, the OpenSSH client answering through SSH_ASKPASS.
"""

import os
import re
import secrets
import subprocess

import harness
from harness import check, run

PASSWORD = "Pt-" + secrets.token_hex(6)
PAM_UNIX = ["auth required pam_unix.so",
            "account required pam_unix.so",
            "session required pam_unix.so"]



def _user(ctx, with_key=True):
    u = ctx.make_user(with_key=with_key)
    run(["chpasswd"], input=("%s:%s\n" % (u.name, PASSWORD)).encode())
    return u


def _askpass(ctx, answer):
    script = os.path.join(ctx.dir, "askpass_%s.sh" % secrets.token_hex(3))
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % answer)
    os.chmod(script, 0o755)
    return dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
                DISPLAY=":0")


def _ssh(ctx, u, answer, methods, key=None):
    argv = ctx.ssh_argv(u, "echo ok", batch=False, key=key,
                        extra=("-o", "PreferredAuthentications=" + methods,
                               "-o", "KbdInteractiveAuthentication=yes",
                               "-o", "PasswordAuthentication=yes",
                               "-o", "NumberOfPasswordPrompts=1"))
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=40,
                          env=_askpass(ctx, answer))


def _server(ctx, lines, extra):
    svc = ctx.pam_service(lines)
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc]
                     + list(extra))


def test_pam_kbdint_password(ctx):
    u = _user(ctx)
    _server(ctx, PAM_UNIX, ["KbdInteractiveAuthentication yes",
                            "AuthenticationMethods keyboard-interactive:pam"])
    r = _ssh(ctx, u, PASSWORD, "keyboard-interactive")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "the right password through keyboard-interactive:pam should log "
          "in: rc %s %r %s" % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Accepted keyboard-interactive/pam for %s from "
                       r"127\.0\.0\.1 port \d+ ssh2" % u.name, 5),
          "no 'Accepted keyboard-interactive/pam' line")
    r = _ssh(ctx, u, "wrong-" + PASSWORD, "keyboard-interactive")
    check(r.returncode == 255 and r.stdout == b"",
          "a wrong password must be refused: rc %s" % r.returncode)
    check(ctx.wait_log(r"^Failed keyboard-interactive/pam for %s from "
                       % u.name, 5),
          "no 'Failed keyboard-interactive/pam' line")


def test_pam_password_method(ctx):
    u = _user(ctx)
    _server(ctx, PAM_UNIX, ["PasswordAuthentication yes",
                            "AuthenticationMethods password"])
    r = _ssh(ctx, u, PASSWORD, "password")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "the right password should log in: rc %s %r %s"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Accepted password for %s from 127\.0\.0\.1 "
                       r"port \d+ ssh2$" % u.name, 5),
          "no 'Accepted password' line")
    r = _ssh(ctx, u, "wrong-" + PASSWORD, "password")
    check(r.returncode == 255 and r.stdout == b"",
          "a wrong password must be refused: rc %s" % r.returncode)
    check(ctx.wait_log(r"^Failed password for %s from " % u.name, 5),
          "no 'Failed password' line")
    r = _ssh(ctx, "nosuch_" + secrets.token_hex(3), PASSWORD, "password",
             key=u.key)
    check(r.returncode == 255, "an invalid user must be refused")
    check(ctx.wait_log(r"^Failed password for invalid user nosuch_", 5),
          "no 'Failed password for invalid user' line")


def test_pam_shipped_two_factor(ctx):
    here = os.path.dirname(os.path.abspath(__file__))
    conf = os.path.join(here, "..", "..", "packaging", "sshd_config.d",
                        "20-pam.conf")
    with open(conf) as f:
        shipped = [ln.strip() for ln in f
                   if ln.strip() and not ln.lstrip().startswith("#")]
    u = _user(ctx)
    svc = ctx.pam_service(PAM_UNIX)
    ctx.start_server(extra_config=shipped + ["PAMServiceName " + svc])
    r = _ssh(ctx, u, PASSWORD, "publickey,keyboard-interactive")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "key then password should log in: rc %s %r %s"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Partial publickey for %s " % u.name, 5),
          "the key alone must be only partial success")
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "the key alone must be refused: rc %s" % r.rc)


def test_pam_expired_account(ctx):
    u = _user(ctx)
    run(["chage", "-E", "0", u.name])
    _server(ctx, PAM_UNIX, ["KbdInteractiveAuthentication yes",
                            "AuthenticationMethods keyboard-interactive:pam"])
    r = _ssh(ctx, u, PASSWORD, "keyboard-interactive")
    check(r.returncode == 255 and r.stdout == b"",
          "an expired account must be refused: rc %s %r"
          % (r.returncode, r.stdout))
    check(not re.search(r"^Accepted ", ctx.server_log(), re.M),
          "an expired account was accepted")


def test_pam_oath_stack(ctx):
    # Debian's libpam-oath: the one-time code through keyboard-interactive:pam.
    u = _user(ctx)
    key = secrets.token_hex(20)
    users = os.path.join(ctx.dir, "users.oath")
    with open(users, "w") as f:
        f.write("HOTP/T30 %s - %s\n" % (u.name, key))
    os.chmod(users, 0o600)
    _server(ctx, ["auth required pam_oath.so usersfile=%s window=1" % users,
                  "account required pam_unix.so",
                  "session required pam_unix.so"],
            ["KbdInteractiveAuthentication yes",
             "AuthenticationMethods keyboard-interactive:pam"])
    code = run(["oathtool", "--totp", key]).stdout.decode().strip()
    r = _ssh(ctx, u, code, "keyboard-interactive")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "pam_oath's code should log in: rc %s %r %s"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    r = _ssh(ctx, u, "000000" if code != "000000" else "111111",
             "keyboard-interactive")
    check(r.returncode == 255 and r.stdout == b"",
          "a wrong code must be refused: rc %s" % r.returncode)


@harness.timeout(90)
def test_pam_kbdint_child_holds_no_host_key(ctx):
    """keyboard-interactive:pam runs PAM's modules, as root, in a child of
    the monitor, for as long as the conversation lasts; that child wipes
    its copy of the host private key first (as sshd's children do), so
    no PAM module can read it, while the monitor keeps its own."""
    u = _user(ctx)
    _server(ctx, PAM_UNIX, ["KbdInteractiveAuthentication yes",
                            "AuthenticationMethods keyboard-interactive:pam"])
    keyinfo = ctx.host_key_info()
    harness.memory_scan_self_test(keyinfo)
    # The client holds at PAM's prompt for a while, then answers.
    script = os.path.join(ctx.dir, "askpass_slow.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nsleep 15\nprintf '%%s\\n' '%s'\n" % PASSWORD)
    os.chmod(script, 0o755)
    argv = ctx.ssh_argv(u, "echo ok", batch=False,
                        extra=("-o", "PreferredAuthentications="
                               "keyboard-interactive",
                               "-o", "KbdInteractiveAuthentication=yes",
                               "-o", "NumberOfPasswordPrompts=1"))
    p = ctx.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE,
                  env=dict(os.environ, SSH_ASKPASS=script,
                           SSH_ASKPASS_REQUIRE="force", DISPLAY=":0"))
    relay = []

    def pam_child():
        for mon in harness.children(ctx.proc.pid):
            for c in harness.children(mon):
                if harness.proc_status(c).get("Uid", "").split()[:1] == \
                        ["0"]:
                    relay[:] = [mon, c]
                    return True
        return False
    try:
        check(harness.poll_until(pam_child, 10),
              "no root child of the monitor while PAM asks")
        harness.assert_no_secrets(relay[1], keyinfo,
                                  "the PAM child")
        found, _ = harness.scan_memory(
            relay[0], list(harness.memory_secret_needles(keyinfo)))
        check(any(found.values()), "the monitor holds no host key: the "
              "scan cannot tell")
        out, _ = p.communicate(timeout=40)
        check(p.returncode == 0 and out == b"ok\n",
              "the login after the wait: rc %s %r" % (p.returncode, out))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)


@harness.timeout(100)
def test_pam_conversation_ended_with_grace_time(ctx):
    """LoginGraceTime ends the monitor while keyboard-interactive:pam's
    stack is busy (a pam_exec program that takes its time): the process
    that holds the PAM conversation goes too, as sshd's grace_alarm_handler
    ends its PAM subprocess (kill(0, SIGTERM)). It ran on, as root, until
    the stack returned. (pam_exec's own program, in a session of its own,
    outlives both servers' monitors.)"""
    u = _user(ctx)
    ppidfile = os.path.join(ctx.dir, "ppid")
    pidfile = os.path.join(ctx.dir, "pid")
    prog, _ = ctx.pam_exec_recorder("slow", ["PAM_USER"],
                                    "echo $$ > %s\necho $PPID > %s\n"
                                    "exec sleep 20\n" % (pidfile, ppidfile))

    def end_prog():
        try:
            with open(pidfile) as f:
                os.kill(int(f.read().strip()), 9)
        except (OSError, ValueError):
            pass
    ctx.cleanups.append(end_prog)
    _server(ctx, ["auth required pam_exec.so " + prog] + PAM_UNIX[1:],
            ["KbdInteractiveAuthentication yes", "LoginGraceTime 2",
             "AuthenticationMethods keyboard-interactive"])
    r = _ssh(ctx, u, PASSWORD, "keyboard-interactive")
    check(r.returncode == 255, "the login did not fail: %r" % (r,))
    check(ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.1 "
                       r"port \d+$", 10), "no timeout line")
    check(harness.poll_until(lambda: os.path.exists(ppidfile), 5),
          "the PAM stack did not run")
    with open(ppidfile) as f:
        relay = int(f.read().strip())

    def gone():
        try:
            with open("/proc/%d/stat" % relay) as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True
    check(harness.poll_until(gone, 5),
          "the PAM conversation's process %d outlived LoginGraceTime"
          % relay)


def test_pam_password_blank_messages_dropped(ctx):
    """What PAM's modules say reaches the client in a banner; after the
    password method, as with sshd (whose passwd_conv skips empty
    messages, from the password attempt to pam_setcred), a blank line
    (pam_exec's stdout) is left out of the authentication's and the
    account phase's text, while after publickey (sshd's store_conv) it
    stays. Before, posternd showed the blank lines after a password."""
    u = _user(ctx)
    prog = os.path.join(ctx.dir, "say.sh")
    with open(prog, "w") as f:
        f.write("#!/bin/sh\nprintf 'X1\\n\\nX2\\n'\nexit 0\n")
    os.chmod(prog, 0o755)
    _server(ctx, ["auth optional pam_exec.so stdout " + prog,
                  "auth required pam_unix.so",
                  "account optional pam_exec.so stdout " + prog,
                  "account required pam_unix.so",
                  "session required pam_unix.so"],
            ["PasswordAuthentication yes"])

    def login(methods):
        argv = ctx.ssh_argv(u, "echo ok", batch=False, loglevel="INFO",
                            extra=("-o", "PreferredAuthentications="
                                   + methods,
                                   "-o", "NumberOfPasswordPrompts=1"))
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=40,
                           env=_askpass(ctx, PASSWORD))
        check(r.returncode == 0 and r.stdout == b"ok\n",
              "%s login failed: rc %s %r" % (methods, r.returncode,
                                             r.stderr[-300:]))
        return r.stderr.replace(b"\r\n", b"\n")

    err = login("password")
    check(b"X1\nX2\nX1\nX2\n" in err,
          "after a password, PAM's blank messages should be left out: %r"
          % err)
    err = login("publickey")
    check(b"X1\n\nX2\n" in err and b"X1\n\nX2\nX1" not in err,
          "after publickey, the account phase's blank message should "
          "stay: %r" % err)
