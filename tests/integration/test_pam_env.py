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

# sshd's line when PAM's account stack refused USER (%s).
DENIED_RX = (r"^Access denied for user %s by PAM account configuration "
             r"\[preauth\]$")

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
# The server's answer is what is tested: wait for it (paramiko gives up
# after 30 s, and a stalled PAM child takes 20 s before its answer).
t.auth_timeout = 90
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


def _client(script, port, u, what, secret, label, timeout_s=60):
    """Run a paramiko client script (_PRELUDE's arguments) against port;
    what it printed, decoded."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    p = subprocess.run(
        [SYSTEM_PYTHON, "-c", script,
         json.dumps([port, u.name, u.key, what, secret])],
        capture_output=True, timeout=timeout_s, env=env)
    check(p.returncode == 0 and p.stdout,
          "%s: the paramiko client failed: %r" % (label, p.stderr[-600:]))
    return json.loads(p.stdout)


def _login(server, u, second, secret):
    return _client(_CLIENT, server.port, u, second, secret, server.kind)


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
          DENIED_RX]),
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



def _account_changes(ctx, u, tag, first):
    """A PAM service whose account stack runs a pam_exec script that, for
    u, does FIRST (shell lines) at its first call and lets u in after;
    (service, the file where each call writes its PAM_TYPE)."""
    calls = os.path.join(ctx.dir, "account-calls-" + tag)
    flag = os.path.join(ctx.dir, "account-first-" + tag)
    script = os.path.join(ctx.dir, "account-%s.sh" % tag)
    with open(script, "w") as f:
        f.write("#!/bin/sh\n[ \"$PAM_USER\" = \"%s\" ] || exit 0\n"
                "echo \"$PAM_TYPE\" >> %s\n"
                "[ -e %s ] && exit 0\ntouch %s\n%s\n"
                % (u.name, calls, flag, flag, first))
    os.chmod(script, 0o755)
    return ctx.pam_service([
        "auth required pam_unix.so",
        "account required pam_exec.so quiet " + script,
        "account required pam_unix.so",
        "session required pam_unix.so"]), calls

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
    bad = []
    for then in ("publickey", "kbdint"):
        for kind in ("sshd", "postern"):
            svc, calls = _account_changes(ctx, u, "%s-%s" % (kind, then),
                                          "exit 1")
            side = _server(ctx, kind, svc,
                           ["KbdInteractiveAuthentication yes"])
            got = _client(_STEPS_CLIENT, side.port, u, ["kbdint", then],
                          secret, kind)
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
            # A key's success fails, then the denial (both servers);
            # postern's denial for the second kbdint (sshd's is silent).
            denied = DENIED_RX % u.name
            rxs = ([r"^Failed publickey for %s from 127\.0\.0\.1 port \d+ "
                    r"ssh2: ED25519 " % u.name, denied]
                   if then == "publickey"
                   else [denied] if kind == "postern" else [])
            poll_until(lambda: all(re.search(
                rx, harness.read_text(side.log), re.M) for rx in rxs), 10)
            log = harness.read_text(side.log)
            for rx in rxs:
                if not re.search(rx, log, re.M):
                    bad.append("%s, kbdint then %s: no line %r in %r"
                               % (kind, then, rx, log[-800:]))
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
    svc, _calls = _account_changes(ctx, u, "stalling", "sleep 40\nexit 0")
    ctx.start_server(["UsePAM yes", "PAMServiceName " + svc,
                      "KbdInteractiveAuthentication yes",
                      "LoginGraceTime 90"])
    got = _client(_STEPS_CLIENT, ctx.port, u, ["kbdint", "publickey"],
                  secret, "postern", 90)
    check(got == ["denied", "closed"], "kbdint (stalled), then a key: %r"
          % got)
    check(ctx.wait_log(r"^PAM: the conversation timed out$", 10),
          "no 'PAM: the conversation timed out' line")
    check(ctx.wait_log(DENIED_RX % u.name, 10),
          "no 'Access denied' line for the key")
