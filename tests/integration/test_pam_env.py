"""
test_pam_env.py: what PAM's modules see, and what is logged when PAM's
account stack refuses, with OpenSSH's sshd 9.2 run side by side on the
same PAM stack (sshd names its PAM service after its program name, so it
runs here through a symlink named as the test's service).

A pam_exec script at each stack records PAM_TYPE, SSH_CONNECTION and
SSH_AUTH_INFO_0, which sshd puts in PAM's environment: SSH_CONNECTION
from the start, SSH_AUTH_INFO_0 (the steps completed so far, as
ExposeAuthInfo writes them) before the account check and the session,
and for keyboard-interactive before its authentication too. Each stack
runs once per login: keyboard-interactive/pam's account check is not
repeated after it. When the account stack refuses, a password login
logs "Failed password" and "Access denied ... [preauth]", and a
keyboard-interactive one "PAM: User account has expired for ...".
"""

import json
import os
import re
import secrets
import subprocess

import harness
from harness import check, poll_until, timeout
from test_auth_oracle import _set_password
from test_proto_parity import Server

SYSTEM_PYTHON = "/usr/bin/python3"

SCRIPT = r"""#!/bin/sh
[ "$PAM_USER" = "%(user)s" ] || exit 0
printf '%%s|%%s|%%s|%%s\n' "$PAM_TYPE" "${SSH_CONNECTION-UNSET}" \
    "${SSH_AUTH_INFO_0+set}" "$(printf '%%s' "$SSH_AUTH_INFO_0" |
    tr '\n' '~')" >> %(out)s
exit 0
"""

# paramiko connected to PORT, with the test's arguments; WHAT is what the
# client is to do.
_PRELUDE = r'''
import json, socket, sys
import paramiko

port, user, key, what, secret = json.loads(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
t = paramiko.Transport(s)
t.start_client(timeout=20)
res = []
'''

# The user's key, then a password or keyboard-interactive step (WHAT, or
# none), then `true` when all succeeded.
_CLIENT = _PRELUDE + r'''
second = what
try:
    res.append(t.auth_publickey(
        user, paramiko.Ed25519Key.from_private_key_file(key)))
    if second == "password":
        res.append(t.auth_password(user, secret))
    elif second == "kbdint":
        res.append(t.auth_interactive(
            user, lambda ti, ins, pl: [secret] * len(pl)))
    ok = True
except paramiko.AuthenticationException:
    ok = False
if ok:
    ch = t.open_session()
    ch.exec_command("true")
    ch.recv_exit_status()
t.close()
print(json.dumps(ok))
'''


def _server(ctx, kind, service, conf):
    """sshd (through a symlink named as the PAM service) or posternd."""
    binary = None
    extra = ["UsePAM yes"] + list(conf)
    if kind == "sshd":
        d = os.path.join(ctx.dir, "bin-" + service)
        os.makedirs(d, exist_ok=True)
        binary = os.path.join(d, service)
        if not os.path.exists(binary):
            os.symlink(harness.openssh_sshd(), binary)
    else:
        extra.append("PAMServiceName " + service)
    return Server(ctx, kind, extra, "-" + service, binary=binary)


def _login(server, u, second, secret):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.run(
        [SYSTEM_PYTHON, "-c", _CLIENT,
         json.dumps([server.port, u.name, u.key, second, secret])],
        capture_output=True, timeout=60, env=env)
    check(p.returncode == 0 and p.stdout,
          "%s: the paramiko client failed: %r" % (server.kind,
                                                  p.stderr[-600:]))
    return json.loads(p.stdout)


def _stages(out, port):
    try:
        with open(out) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    text = re.sub(r"^(\w+\|127\.0\.0\.1) \d+ 127\.0\.0\.1 %d\|" % port,
                  r"\1 CPORT 127.0.0.1 SPORT|", text, flags=re.M)
    return text.splitlines()


@timeout(240)
def test_pam_environment_and_account(ctx):
    harness.openssh_sshd()
    u = ctx.make_user()
    secret = "pw-" + secrets.token_hex(6)
    _set_password(u.name, secret)
    out = os.path.join(ctx.dir, "pam-stages")
    script = os.path.join(ctx.dir, "pam-stage.sh")
    with open(script, "w") as f:
        f.write(SCRIPT % {"user": u.name, "out": out})
    os.chmod(script, 0o755)
    hook = "optional pam_exec.so quiet " + script

    def service(account):
        return ctx.pam_service([
            "auth " + hook, "auth required pam_unix.so",
            "account " + hook, "account " + account,
            "session " + hook, "session required pam_unix.so"])

    allow = service("required pam_unix.so")
    deny = service("requisite pam_deny.so")
    key_line = "publickey %s" % " ".join(
        open(u.key + ".pub").read().split()[:2])
    auth_info = "set|" + key_line + "~"
    conn = "127.0.0.1 CPORT 127.0.0.1 SPORT"
    # (name, service, AuthenticationMethods, second step, logs in,
    #  the stages in order, log lines)
    cases = [
        ("publickey", allow, "publickey", None, True,
         ["account|%s|set|" % conn,
          "open_session|%s|%s" % (conn, auth_info),
          "close_session|%s|%s" % (conn, auth_info)], []),
        ("publickey,password", allow, "publickey,password", "password",
         True,
         ["auth|%s||" % conn,
          "account|%s|%s" % (conn, auth_info),
          "open_session|%s|%s" % (conn, auth_info + "password~"),
          "close_session|%s|%s" % (conn, auth_info + "password~")], []),
        ("publickey,keyboard-interactive", allow,
         "publickey,keyboard-interactive", "kbdint", True,
         ["auth|%s|%s" % (conn, auth_info),
          "account|%s|%s" % (conn, auth_info),
          "open_session|%s|%s" % (conn,
                                  auth_info + "keyboard-interactive/pam~"),
          "close_session|%s|%s" % (conn,
                                   auth_info + "keyboard-interactive/pam~")],
         []),
        ("account refuses a password", deny, "publickey,password",
         "password", False,
         ["auth|%s||" % conn, "account|%s|%s" % (conn, auth_info)],
         [r"^Failed password for %s from 127\.0\.0\.1 port \d+ ssh2$",
          r"^Access denied for user %s by PAM account configuration "
          r"\[preauth\]$"]),
        ("account refuses keyboard-interactive", deny,
         "publickey,keyboard-interactive", "kbdint", False,
         ["auth|%s|%s" % (conn, auth_info),
          "account|%s|%s" % (conn, auth_info)],
         [r"^PAM: User account has expired for %s from 127\.0\.0\.1$"]),
    ]
    bad = []
    for name, svc, methods, second, ok, want, lines in cases:
        conf = ["PasswordAuthentication yes",
                "KbdInteractiveAuthentication yes",
                "AuthenticationMethods " + methods]
        for kind in ("sshd", "postern"):
            if os.path.exists(out):
                os.unlink(out)
            side = _server(ctx, kind, svc, conf)
            got_ok = _login(side, u, second, secret)
            if ok:
                # The session closes after the client has gone.
                poll_until(lambda: any(
                    x.startswith("close_session|")
                    for x in _stages(out, side.port)), 10)
            # sshd's monitor may log after the client has its answer.
            poll_until(lambda: all(
                re.search(rx % re.escape(u.name),
                          harness.read_text(side.log), re.M)
                for rx in lines), 10)
            side.stop()
            got = _stages(out, side.port)
            log = harness.read_text(side.log)
            if got_ok != ok:
                bad.append("%s: %s: logged in %s" % (name, kind, got_ok))
            if got != want:
                bad.append("%s: %s: PAM stages %r, want %r"
                           % (name, kind, got, want))
            for rx in lines:
                if not re.search(rx % re.escape(u.name), log, re.M):
                    bad.append("%s: %s: no line %r in %r"
                               % (name, kind, rx, log[-600:]))
    check(not bad, "\n".join(bad))


# Each step of WHAT in turn on one connection ("kbdint" with
# the password, "publickey" with the user's key); what became of each:
# "ok", "denied" (the server said no), "closed" (it ended the connection).
_STEPS_CLIENT = _PRELUDE + r'''
for step in what:
    if not t.is_active():
        res.append("closed")
        continue
    try:
        if step == "kbdint":
            t.auth_interactive(user, lambda ti, ins, pl: [secret] * len(pl))
        else:
            t.auth_publickey(
                user, paramiko.Ed25519Key.from_private_key_file(key))
        res.append("ok")
    except paramiko.AuthenticationException:
        res.append("denied" if t.is_active() else "closed")
    except (paramiko.SSHException, EOFError, OSError):
        res.append("closed")
t.close()
print(json.dumps(res))
'''


@timeout(180)
def test_pam_account_refusal_kept_for_the_connection(ctx):
    """PAM's account stack refuses keyboard-interactive/pam once, then
    would let the user in (a directory server that timed out once; here
    a pam_exec script that fails its first call): as sshd, which keeps
    the refusal for the connection, neither a key nor another
    keyboard-interactive try logs in, and the stack is not asked again.
    Before, postern ran it at each try and let the user in on the
    second. Side by side with sshd 9.2."""
    harness.openssh_sshd()
    u = ctx.make_user()
    secret = "pw-" + secrets.token_hex(6)
    _set_password(u.name, secret)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    bad = []
    for then in ("publickey", "kbdint"):
        for kind in ("sshd", "postern"):
            tag = "%s-%s" % (kind, then)
            calls = os.path.join(ctx.dir, "account-calls-" + tag)
            flag = os.path.join(ctx.dir, "account-failed-" + tag)
            script = os.path.join(ctx.dir, "flaky-account-%s.sh" % tag)
            with open(script, "w") as f:
                f.write("#!/bin/sh\n[ \"$PAM_USER\" = \"%s\" ] || exit 0\n"
                        "echo \"$PAM_TYPE\" >> %s\n"
                        "[ -e %s ] && exit 0\ntouch %s\nexit 1\n"
                        % (u.name, calls, flag, flag))
            os.chmod(script, 0o755)
            svc = ctx.pam_service([
                "auth required pam_unix.so",
                "account required pam_exec.so quiet " + script,
                "account required pam_unix.so",
                "session required pam_unix.so"])
            side = _server(ctx, kind, svc,
                           ["KbdInteractiveAuthentication yes"])
            p = subprocess.run(
                [SYSTEM_PYTHON, "-c", _STEPS_CLIENT,
                 json.dumps([side.port, u.name, u.key, ["kbdint", then],
                             secret])],
                capture_output=True, timeout=60, env=env)
            check(p.returncode == 0 and p.stdout,
                  "%s: the paramiko client failed: %r"
                  % (kind, p.stderr[-600:]))
            got = json.loads(p.stdout)
            # Refused, then the connection ends; but sshd answers the
            # next keyboard-interactive/pam with a silent failure (its
            # sshpam_init_ctx() refuses) and ends the connection only at
            # the one after: postern ends it one request earlier.
            want = (["denied", "denied"]
                    if (kind, then) == ("sshd", "kbdint")
                    else ["denied", "closed"])
            if got != want:
                bad.append("%s, kbdint then %s: %r, want %r"
                           % (kind, then, got, want))
            if then == "publickey":
                # Both: the key's success fails, then the denial.
                poll_until(lambda: re.search(
                    r"^Access denied for user %s by PAM account "
                    r"configuration \[preauth\]$" % u.name,
                    harness.read_text(side.log), re.M), 10)
                log = harness.read_text(side.log)
                for rx in (r"^Failed publickey for %s from 127\.0\.0\.1 "
                           r"port \d+ ssh2: ED25519 " % u.name,
                           r"^Access denied for user %s by PAM account "
                           r"configuration \[preauth\]$" % u.name):
                    if not re.search(rx, log, re.M):
                        bad.append("%s, kbdint then publickey: no line "
                                   "%r in %r" % (kind, rx, log[-800:]))
            elif kind == "postern":
                rx = (r"^Access denied for user %s by PAM account "
                      r"configuration \[preauth\]$" % u.name)
                if not poll_until(lambda: re.search(
                        rx, harness.read_text(side.log), re.M), 10):
                    bad.append("postern, kbdint then kbdint: no line %r "
                               "in %r" % (rx,
                                          harness.read_text(side.log)[-800:]))
            side.stop()
            n = harness.read_text(calls).split() if os.path.exists(
                calls) else []
            if n != ["account"]:
                bad.append("%s, kbdint then %s: the account stack ran "
                           "%r, want once" % (kind, then, n))
    check(not bad, "\n".join(bad))


@timeout(120)
def test_pam_account_stack_stalled_counts_as_refused(ctx):
    """The account stack stalls past keyboard-interactive:pam's wait for
    PAM (20 s: a directory server slower than that), then would let the
    user in: the stalled attempt counts as a refusal, as sshd, which
    would still be waiting (until LoginGraceTime), lets no later method
    in on that connection. Before, the key that followed logged in."""
    u = ctx.make_user()
    secret = "pw-" + secrets.token_hex(6)
    _set_password(u.name, secret)
    calls = os.path.join(ctx.dir, "account-calls")
    flag = os.path.join(ctx.dir, "account-stalled")
    script = os.path.join(ctx.dir, "stalling-account.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n[ \"$PAM_USER\" = \"%s\" ] || exit 0\n"
                "echo \"$PAM_TYPE\" >> %s\n"
                "[ -e %s ] && exit 0\ntouch %s\nsleep 24\nexit 0\n"
                % (u.name, calls, flag, flag))
    os.chmod(script, 0o755)
    svc = ctx.pam_service([
        "auth required pam_unix.so",
        "account required pam_exec.so quiet " + script,
        "account required pam_unix.so",
        "session required pam_unix.so"])
    ctx.start_server(["UsePAM yes", "PAMServiceName " + svc,
                      "KbdInteractiveAuthentication yes",
                      "LoginGraceTime 90"])
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.run(
        [SYSTEM_PYTHON, "-c", _STEPS_CLIENT,
         json.dumps([ctx.port, u.name, u.key, ["kbdint", "publickey"],
                     secret])],
        capture_output=True, timeout=90, env=env)
    check(p.returncode == 0 and p.stdout, "the paramiko client failed: %r"
          % p.stderr[-600:])
    got = json.loads(p.stdout)
    check(got == ["denied", "closed"], "kbdint (stalled), then a key: %r"
          % got)
    check(ctx.wait_log(r"^PAM: the conversation timed out$", 10),
          "no 'PAM: the conversation timed out' line")
    check(ctx.wait_log(r"^Access denied for user %s by PAM account "
                       r"configuration \[preauth\]$" % u.name, 10),
          "no 'Access denied' line for the key")
