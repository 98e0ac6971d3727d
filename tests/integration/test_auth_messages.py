"""
test_auth_messages.py: what PAM says during authentication reaches the
user, and what it sets reaches the session, as with sshd 9.2: real PAM
stacks (pam_unix, pam_echo, pam_nologin, pam_exec) written to /etc/pam.d
for the test, a small PAM module built here for what no stock module does
(pam_putenv during pam_authenticate), the OpenSSH client answering through
SSH_ASKPASS. Also: a publickey request refused before any lookup (an
algorithm not in PubkeyAcceptedAlgorithms) is not logged as "Failed", as
sshd's preauth process refuses it without asking its monitor.
"""

import base64
import json
import os
import re
import secrets
import struct
import subprocess

from harness import check, poll_until, run
from interop_clients import SYSTEM_PYTHON, client_env

PASSWORD = "Pm-" + secrets.token_hex(6)
PKWIRE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pkwire.py")

# A PAM module whose pam_sm_authenticate sets PAM_AUTHSET_VAR in PAM's
# environment and keeps data (pam_set_data); its pam_sm_open_session sets
# PAM_DATA_SEEN=yes when that data is there (pam_krb5 and pam_mount keep
# what authentication found so). With the argument "epipe" it first
# writes to a pipe nobody reads (as pam_ldap to a server that has gone);
# with "rename=NAME" it sets PAM_USER to NAME; with "maxtries" it answers
# PAM_MAXTRIES; with "credfail" its pam_sm_setcred fails (PAM_CRED_ERR);
# with "authok" its pam_sm_authenticate succeeds instead of ignoring.
ENV_MODULE = r"""
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_modules.h>
int pam_sm_authenticate(pam_handle_t *h, int flags, int argc,
    const char **argv)
{
	int i, fds[2];

	(void)flags;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "epipe") == 0 && pipe(fds) == 0) {
			close(fds[0]);
			if (write(fds[1], "x", 1) != -1)
				return PAM_SERVICE_ERR;
			close(fds[1]);
		}
		if (strncmp(argv[i], "rename=", 7) == 0 &&
		    pam_set_item(h, PAM_USER, argv[i] + 7) != PAM_SUCCESS)
			return PAM_SERVICE_ERR;
		if (strcmp(argv[i], "maxtries") == 0)
			return PAM_MAXTRIES;
	}
	if (pam_set_data(h, "postern-test", (void *)"x", NULL) != PAM_SUCCESS)
		return PAM_SERVICE_ERR;
	if (pam_putenv(h, "PAM_AUTHSET_VAR=set-in-auth") != PAM_SUCCESS)
		return PAM_SERVICE_ERR;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "authok") == 0)
			return PAM_SUCCESS;
	return PAM_IGNORE;
}
int pam_sm_setcred(pam_handle_t *h, int flags, int argc, const char **argv)
{
	int i;

	(void)h; (void)flags;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "credfail") == 0)
			return PAM_CRED_ERR;
	return PAM_IGNORE;
}
int pam_sm_open_session(pam_handle_t *h, int flags, int argc,
    const char **argv)
{
	const void *d = NULL;
	(void)flags; (void)argc; (void)argv;
	if (pam_get_data(h, "postern-test", &d) == PAM_SUCCESS && d != NULL)
		(void)pam_putenv(h, "PAM_DATA_SEEN=yes");
	return PAM_IGNORE;
}
int pam_sm_close_session(pam_handle_t *h, int flags, int argc,
    const char **argv)
{
	(void)h; (void)flags; (void)argc; (void)argv;
	return PAM_IGNORE;
}
"""


def _user(ctx, with_key=True):
    u = ctx.make_user(with_key=with_key)
    run(["chpasswd"], input=("%s:%s\n" % (u.name, PASSWORD)).encode())
    return u


def _askpass(ctx, answer):
    """An SSH_ASKPASS that answers `answer` and records each prompt."""
    tag = secrets.token_hex(3)
    script = os.path.join(ctx.dir, "askpass_%s.sh" % tag)
    prompts = os.path.join(ctx.dir, "prompts_%s.log" % tag)
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n---\\n' \"$1\" >> %s\n"
                "printf '%%s\\n' '%s'\n" % (prompts, answer))
    os.chmod(script, 0o755)
    env = dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
               DISPLAY=":0")
    return env, prompts


def _ssh(ctx, u, methods, answer="", command="echo ok", key=None,
         loglevel="INFO"):
    env, prompts = _askpass(ctx, answer)
    argv = ctx.ssh_argv(u, command, batch=False, key=key, loglevel=loglevel,
                        extra=("-o", "PreferredAuthentications=" + methods,
                               "-o", "KbdInteractiveAuthentication=yes",
                               "-o", "PasswordAuthentication=yes",
                               "-o", "NumberOfPasswordPrompts=1"))
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=40, env=env)
    seen = open(prompts).read() if os.path.exists(prompts) else ""
    return r, seen


def _server(ctx, lines, extra=()):
    svc = ctx.pam_service(lines)
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc,
                                   "KbdInteractiveAuthentication yes",
                                   "PasswordAuthentication yes"]
                     + list(extra))


def test_pam_account_and_auth_text_in_banner(ctx):
    """PAM's text from the account phase (every method) and from a
    password's authentication is sent in a banner before the login
    completes, as sshd sends its loginmsg: a command sees it too."""
    u = _user(ctx)
    tag = secrets.token_hex(4)
    _server(ctx, ["auth optional pam_echo.so AUTH-TEXT-" + tag,
                  "auth required pam_unix.so",
                  "account required pam_unix.so",
                  "account optional pam_echo.so ACCT-TEXT-%s-%%u" % tag,
                  "session required pam_unix.so"])
    r, _ = _ssh(ctx, u, "publickey")
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "publickey login failed: rc %s %s" % (r.returncode, err[-300:]))
    check("ACCT-TEXT-%s-%s" % (tag, u.name) in err,
          "the account phase's pam_echo text should reach a publickey "
          "login's client (banner); stderr: %r" % err[-400:])
    r, _ = _ssh(ctx, u, "password", PASSWORD)
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "password login failed: rc %s %s" % (r.returncode, err[-300:]))
    check("AUTH-TEXT-" + tag in err and
          "ACCT-TEXT-%s-%s" % (tag, u.name) in err,
          "a password login should show the auth and account phases' "
          "text; stderr: %r" % err[-400:])
    r, _ = _ssh(ctx, u, "keyboard-interactive", PASSWORD)
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 0 and "ACCT-TEXT-%s-%s" % (tag, u.name) in err,
          "keyboard-interactive should show the account phase's text: "
          "rc %s %r" % (r.returncode, err[-400:]))


def test_pam_nologin_text_shown_on_denial(ctx):
    """pam_nologin in the account phase: the user reads its file's text
    before the connection ends (sshd's banner), and the log is sshd's."""
    u = _user(ctx)
    nologin = os.path.join(ctx.dir, "nologin")
    text = "Down for maintenance " + secrets.token_hex(4)
    with open(nologin, "w") as f:
        f.write(text + "\n")
    _server(ctx, ["auth required pam_unix.so",
                  "account required pam_nologin.so file=" + nologin,
                  "account required pam_unix.so",
                  "session required pam_unix.so"])
    r, _ = _ssh(ctx, u, "publickey")
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 255 and r.stdout == b"",
          "the account phase must refuse: rc %s" % r.returncode)
    check(text in err, "pam_nologin's text should be shown: %r" % err[-400:])
    check(ctx.wait_log(r"Access denied for user %s by PAM account "
                       r"configuration \[preauth\]" % u.name, 5),
          "no 'Access denied ... by PAM account configuration' line")


def test_pam_kbdint_text_placement(ctx):
    """keyboard-interactive: PAM's text before a prompt is part of that
    prompt (shown even by ssh -q); text after a failure is shown in a
    request without prompts, and the attempt fails without PAM's
    'Authentication failure' line, as sshd does."""
    u = _user(ctx, with_key=False)
    tag = secrets.token_hex(4)
    _server(ctx, ["auth optional pam_echo.so BEFORE-PROMPT-" + tag,
                  "auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"],
            ["AuthenticationMethods keyboard-interactive"])
    r, prompts = _ssh(ctx, u, "keyboard-interactive", PASSWORD,
                      loglevel="QUIET")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "kbd-int login failed: rc %s %s" % (r.returncode, r.stderr[-300:]))
    check(re.search(r"BEFORE-PROMPT-%s\n.*[Pp]assword" % tag, prompts),
          "the text before PAM's prompt should be in the prompt the "
          "client shows; prompts seen: %r" % prompts)
    ctx.stop_server()
    nologin = os.path.join(ctx.dir, "nologin_auth")
    text = "No logins now " + secrets.token_hex(4)
    with open(nologin, "w") as f:
        f.write(text + "\n")
    _server(ctx, ["auth requisite pam_nologin.so file=" + nologin,
                  "auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"],
            ["AuthenticationMethods keyboard-interactive"])
    r, _ = _ssh(ctx, u, "keyboard-interactive", PASSWORD)
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 255, "pam_nologin in auth must refuse: rc %s"
          % r.returncode)
    check(text in err, "the failure's text should be shown: %r" % err[-400:])
    check(ctx.wait_log(r"^Failed keyboard-interactive/pam for %s from "
                       % u.name, 5),
          "no 'Failed keyboard-interactive/pam' line")
    check("PAM: Authentication failure for %s" % u.name
          not in ctx.server_log(),
          "sshd logs no 'PAM: ... failure' line for a failure it "
          "explained with text")


def test_kbdint_devices_named_by_prefix(ctx):
    """The client's keyboard-interactive submethods (ssh's
    KbdInteractiveDevices) pick the device as sshd does: an entry that is
    a prefix of "pam" names it, the entries are tried in order; when none
    names a device that may serve (totp is not one under a bare
    keyboard-interactive), the request fails at once, without a prompt
    or a log line, and counts against MaxAuthTries."""
    u = _user(ctx, with_key=False)
    _server(ctx, ["auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"],
            ["AuthenticationMethods keyboard-interactive", "MaxAuthTries 1"])

    def login(devices):
        env, prompts = _askpass(ctx, PASSWORD)
        argv = ctx.ssh_argv(
            u, "echo ok", batch=False,
            extra=("-o", "PreferredAuthentications=keyboard-interactive",
                   "-o", "KbdInteractiveAuthentication=yes",
                   "-o", "KbdInteractiveDevices=" + devices,
                   "-o", "NumberOfPasswordPrompts=1"))
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=40, env=env)
        seen = open(prompts).read() if os.path.exists(prompts) else ""
        return r, seen

    for devices in ("pam", "p", "x,pa"):
        r, prompts = login(devices)
        check(r.returncode == 0 and r.stdout == b"ok\n"
              and "assword" in prompts,
              "KbdInteractiveDevices=%s should reach PAM: rc %s %r %r"
              % (devices, r.returncode, prompts, r.stderr[-300:]))
    exceeded = re.compile(r"maximum authentication attempts "
                          r"exceeded for %s from " % re.escape(u.name), re.M)
    for n, devices in enumerate(("pamx", "totp", ",pam"), 1):
        r, prompts = login(devices)
        check(r.returncode == 255 and prompts == "",
              "KbdInteractiveDevices=%s names no device: want a failure "
              "without a prompt, got rc %s %r" % (devices, r.returncode,
                                                   prompts))
        check(poll_until(lambda: len(exceeded.findall(ctx.server_log()))
                         >= n, 5),
              "KbdInteractiveDevices=%s: the failure should count against "
              "MaxAuthTries 1" % devices)
    check(not re.search(r"^Failed keyboard-interactive", ctx.server_log(),
                        re.M),
          "a request that names no device logs no verdict")


def test_pam_kbdint_abandoned_prompt_is_a_failure(ctx):
    """A client that answers PAM's keyboard-interactive prompt with a new
    request instead abandons it: sshd's monitor, freeing PAM's context,
    logs that exchange as failed, and so does postern."""
    u = _user(ctx, with_key=False)
    _server(ctx, ["auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"])
    steps = [["keyboard-interactive", _hs("") + _hs("")],
             ["password", "00" + _hs("wrong-" + PASSWORD)]]
    p = _pkwire(ctx, u, [{"raw": steps}])
    check(p.returncode == 0 and json.loads(p.stdout) == [["pk_ok", "fail"]],
          "want PAM's prompt (60) then a failure: %r %r"
          % (p.stdout, p.stderr[-500:]))
    log = ctx.wait_log(r"^Failed keyboard-interactive/pam for %s from "
                       r"127\.0\.0\.1 port \d+ ssh2$" % re.escape(u.name), 5)
    check(log, "no 'Failed keyboard-interactive/pam' line for the "
          "abandoned prompt:\n%s" % ctx.server_log()[-1500:])
    check(ctx.wait_log(r"^Failed password for %s from " % re.escape(u.name),
                       5), "no 'Failed password' line")


_AFTER_NONE = r'''
import sys, time
import paramiko
from paramiko.message import Message
t = paramiko.Transport(("127.0.0.1", int(sys.argv[1])))
t.start_client(timeout=20)
try:
    t.auth_none(sys.argv[2])
except paramiko.BadAuthenticationType:
    pass
m = Message()
m.add_byte(bytes([int(sys.argv[3])]))
if sys.argv[4:]:
    m.add_string(sys.argv[4])
t._send_message(m)
for _ in range(50):
    if not t.is_active():
        break
    time.sleep(0.1)
print("closed" if not t.is_active() else "open")
t.close()
'''


def _after_none(ctx, user, *args):
    """_AFTER_NONE for this user: message number args[0], then its
    optional string field args[1]."""
    return subprocess.run([SYSTEM_PYTHON, "-c", _AFTER_NONE, str(ctx.port),
                           user] + list(args), capture_output=True,
                          timeout=60, env=client_env(ctx))


def test_preauth_lines_name_the_user_once_known(ctx):
    """Once a request has named the user, sshd's preauth lines for the
    connection name it too: "Disconnecting authenticating user U ADDR
    port P: bad service request NAME" ("invalid user" for one that does
    not exist), "ssh_dispatch_run_fatal: Connection from authenticating
    user U ...: Protocol error" (checked side by side with sshd 9.2)."""
    u = ctx.make_user(with_key=False)
    ctx.start_server()
    bogus = "nosuch" + secrets.token_hex(3)
    for user, kind in ((u.name, "authenticating"), (bogus, "invalid")):
        for args, tail in ((["5", "foo"], "bad service request foo"),
                           (["200"], "Protocol error")):
            p = _after_none(ctx, user, *args)
            check(p.stdout == b"closed\n", "%s %s: the connection should "
                  "end: %r %r" % (user, args, p.stdout, p.stderr[-300:]))
            head = ("Disconnecting" if args[0] == "5"
                    else "ssh_dispatch_run_fatal: Connection from")
            check(ctx.wait_log(r"^%s %s user %s 127\.0\.0\.1 port \d+: "
                               r"%s \[preauth\]$"
                               % (head, kind, re.escape(user),
                                  re.escape(tail)), 5),
                  "no sshd line %r for %s user %s" % (tail, kind, user))


def test_exchange_messages_after_a_request_end_the_connection(ctx):
    """As sshd 9.2 (checked side by side): once a request has been read,
    an INFO_RESPONSE that nothing asked for, or GSSAPI's
    EXCHANGE_COMPLETE (63), ends the connection (sshd's request clears
    their handlers: "protocol error: rcvd type T"), logged "Disconnected
    from authenticating user U ..."; another userauth number (62) still
    gets UNIMPLEMENTED and the connection goes on."""
    u = ctx.make_user(with_key=False)
    ctx.start_server()
    for typ, want in (("61", "closed"), ("63", "closed"), ("62", "open")):
        before = len(re.findall(r"^Disconnected from authenticating user ",
                                ctx.server_log(), re.M))
        p = _after_none(ctx, u.name, typ, "")
        check(p.stdout == ("%s\n" % want).encode(),
              "message %s after a request: want %s, got %r %r"
              % (typ, want, p.stdout, p.stderr[-300:]))
        if want == "closed":
            rx = (r"^Disconnected from authenticating user %s 127\.0\.0\.1 "
                  r"port \d+ \[preauth\]$" % re.escape(u.name))
            check(poll_until(lambda: len(re.findall(
                rx, ctx.server_log(), re.M)) > before, 5),
                  "message %s: no 'Disconnected from authenticating user' "
                  "line" % typ)
        else:
            check(ctx.wait_log(r"^dispatch_protocol_error: type 62 seq \d+ "
                               r"\[preauth\]$", 5),
                  "message 62: no dispatch_protocol_error line")


def test_bad_signatures_raise_the_log_level(ctx):
    """An authorized key whose signature does not verify is a failure
    sshd's monitor judged (its keyverify): as there (checked side by side
    with sshd 9.2), such failures count towards half MaxAuthTries, from
    where each "Failed publickey" line is INFO: of five on one connection
    (MaxAuthTries 6), the fourth and fifth."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["Match all", "LogLevel INFO"])
    with open(u.key + ".pub") as f:
        blob = _hs_bytes(base64.b64decode(f.read().split()[1]))
    sig = _hs_bytes(bytes.fromhex(_hs("ssh-ed25519") + _hs_bytes(b"\0" * 64)))
    req = ["publickey", "01" + _hs("ssh-ed25519") + blob + sig]
    p = _pkwire(ctx, u, [{"raw": [req] * 5}])
    check(p.returncode == 0 and json.loads(p.stdout) == [["fail"] * 5],
          "five bad signatures: %r %r" % (p.stdout, p.stderr[-500:]))
    rx = (r"^Failed publickey for %s from 127\.0\.0\.1 port \d+ ssh2: "
          r"ED25519 SHA256:\S+$" % re.escape(u.name))
    poll_until(lambda: len(re.findall(rx, ctx.server_log(), re.M)) >= 2, 10)
    n = len(re.findall(rx, ctx.server_log(), re.M))
    check(n == 2, "want the 4th and 5th 'Failed publickey' at INFO, got "
          "%d such lines:\n%s" % (n, ctx.server_log()[-1500:]))


def test_pam_kbdint_empty_answer_reaches_pam(ctx):
    """An empty keyboard-interactive answer goes to PAM, as sshd sends
    it: a stack that accepts it logs in (PermitEmptyPasswords is PAM's
    PAM_DISALLOW_NULL_AUTHTOK, which pam_exec does not apply). pam_permit
    is there for pam_setcred, which pam_exec ignores: a stack where every
    module ignores it fails it, and sshd then ends the login."""
    u = _user(ctx, with_key=False)
    seen = os.path.join(ctx.dir, "authtok.seen")
    prog = os.path.join(ctx.dir, "empty_ok.sh")
    with open(prog, "w") as f:
        f.write("#!/bin/sh\ntok=$(cat)\nprintf '[%%s]\\n' \"$tok\" >> %s\n"
                "[ -z \"$tok\" ]\n" % seen)
    os.chmod(prog, 0o755)
    _server(ctx, ["auth required pam_exec.so expose_authtok quiet " + prog,
                  "auth optional pam_permit.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"],
            ["AuthenticationMethods keyboard-interactive"])
    r, prompts = _ssh(ctx, u, "keyboard-interactive", "")
    check(os.path.exists(seen) and "[]" in open(seen).read(),
          "PAM never got the empty answer (prompts %r)" % prompts)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "a stack that takes an empty answer should log in: rc %s %s"
          % (r.returncode, r.stderr[-300:]))


def _env_module(ctx):
    src = os.path.join(ctx.dir, "pam_authset.c")
    mod = os.path.join(ctx.dir, "pam_authset.so")
    if not os.path.exists(mod):
        with open(src, "w") as f:
            f.write(ENV_MODULE)
        run(["gcc", "-shared", "-fPIC", "-o", mod, src, "-lpam"])
        os.chmod(ctx.dir, 0o755)
    return mod


def test_pam_password_module_trouble(ctx):
    """PAM's modules run in the monitor for a password: one that writes
    to a pipe nobody reads gets EPIPE and the login goes on (the monitor
    ignores SIGPIPE while they run, as sshd); one that renames the user
    (PAM_USER) is refused, since the account and session phases would act
    for another account than the session's, for a password and under
    keyboard-interactive. A wrong password's PAM text
    is not shown with its failure (sshd shows it only after a login)."""
    mod = _env_module(ctx)
    u = _user(ctx, with_key=False)
    other = _user(ctx, with_key=False)  # the same password
    tag = secrets.token_hex(4)
    _server(ctx, ["auth optional %s epipe" % mod,
                  "auth optional pam_echo.so AUTH-TEXT-" + tag,
                  "auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"])
    r, _ = _ssh(ctx, u, "password", "wrong-" + PASSWORD)
    check(r.returncode == 255 and ("AUTH-TEXT-" + tag).encode()
          not in r.stderr, "a wrong password: want a plain failure, got rc "
          "%s %r" % (r.returncode, r.stderr[-300:]))
    r, _ = _ssh(ctx, u, "password", PASSWORD)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "a PAM module that meets EPIPE must not end the login: rc %s %r"
          % (r.returncode, r.stderr[-300:]))
    ctx.stop_server()
    _server(ctx, ["auth optional %s rename=%s" % (mod, other.name),
                  "auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"])
    r, _ = _ssh(ctx, u, "password", PASSWORD)
    check(r.returncode == 255 and r.stdout == b"",
          "a PAM stack that renamed the user must not log in: rc %s"
          % r.returncode)
    check(ctx.wait_log(r"PAM: authentication changed the user name: "
                       r"refused", 5), "no refusal line for PAM_USER")
    # keyboard-interactive runs the same stack in its own child: refused
    # there too (before, it logged in as u with other's password), with a
    # failure line fail2ban counts.
    off = len(ctx.server_log())
    r, _ = _ssh(ctx, u, "keyboard-interactive", PASSWORD)
    check(r.returncode == 255 and r.stdout == b"",
          "keyboard-interactive through a PAM stack that renamed the user "
          "logged in: rc %s %r" % (r.returncode, r.stdout))
    rx = re.compile(r"^PAM: authentication changed the user name: "
                    r"refused\n(.*\n)*PAM: Authentication failure "
                    r"for %s from 127\.0\.0\.1$" % re.escape(u.name), re.M)
    check(poll_until(lambda: rx.search(ctx.server_log()[off:]), 5),
          "no refusal line for PAM_USER under keyboard-interactive")


def test_pam_maxtries_ends_attempts(ctx):
    """PAM_MAXTRIES from the auth stack turns password and
    keyboard-interactive off for the connection, as sshd's
    sshpam_set_maxtries_reached(): the client's key still logs in, and
    no MaxAuthTries line is written (the connection was ended, with
    "maximum authentication attempts exceeded")."""
    mod = _env_module(ctx)
    u = _user(ctx)
    _server(ctx, ["auth requisite %s maxtries" % mod,
                  "auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session required pam_unix.so"])
    for method in ("password", "keyboard-interactive"):
        r, _ = _ssh(ctx, u, method + ",publickey", PASSWORD)
        check(r.returncode == 0 and r.stdout == b"ok\n",
              "%s refused by PAM_MAXTRIES, then the key: rc %s %r"
              % (method, r.returncode, r.stderr[-500:]))
        r, _ = _ssh(ctx, u, method, PASSWORD)
        check(r.returncode == 255, "%s: PAM_MAXTRIES must not log in: rc %s"
              % (method, r.returncode))
    check("maximum authentication attempts exceeded" not in
          ctx.server_log(), "PAM_MAXTRIES ended a connection as MaxAuthTries:"
          "\n%s" % ctx.server_log()[-1500:])


def test_pam_auth_environment_reaches_session(ctx):
    """A variable PAM's authentication sets (pam_putenv in
    pam_sm_authenticate) is in the session's environment for password
    and keyboard-interactive logins, as sshd keeps it; for password, which
    runs in the handle of the account and session phases as sshd's does,
    the session phase also finds what authentication kept
    (pam_set_data)."""
    mod = _env_module(ctx)
    u = _user(ctx, with_key=False)
    _server(ctx, ["auth optional " + mod,
                  "auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session optional " + mod,
                  "session required pam_unix.so"])
    for method, data in (("password", "yes"), ("keyboard-interactive", "")):
        r, _ = _ssh(ctx, u, method, PASSWORD,
                    command="echo \"v=$PAM_AUTHSET_VAR d=$PAM_DATA_SEEN\"")
        check(r.returncode == 0,
              "%s login failed: rc %s %s" % (method, r.returncode,
                                             r.stderr[-300:]))
        want = ("v=set-in-auth d=%s\n" % data).encode()
        check(r.stdout == want,
              "%s: what PAM's authentication set or kept should reach the "
              "session: %r, want %r" % (method, r.stdout, want))


def test_refused_algorithm_not_logged_failed(ctx):
    """A publickey request whose algorithm PubkeyAcceptedAlgorithms does
    not allow is refused where sshd's preauth process refuses it: its
    line, and no 'Failed publickey' line (fail2ban counts those)."""
    u = ctx.make_user(with_key=False)
    key = os.path.join(ctx.dir, "rsa_" + u.name)
    run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", key])
    ctx.authorize(u, key + ".pub")
    ctx.start_server(extra_config=["PubkeyAcceptedAlgorithms "
                                   "rsa-sha2-512,ssh-ed25519"])
    cases = [{"key": key, "blob": key + ".pub", "alg": "rsa-sha2-256"},
             {"key": key, "blob": key + ".pub", "alg": "rsa-sha2-512"}]
    p = _pkwire(ctx, u, cases)
    check(p.returncode == 0, "pkwire.py failed: %r" % p.stderr[-2000:])
    got = json.loads(p.stdout)
    check(got == ["fail", "ok"], "rsa-sha2-256 must fail and rsa-sha2-512 "
          "log in: %r" % got)
    check(ctx.wait_log(r"userauth_pubkey: signature algorithm rsa-sha2-256 "
                       r"not in PubkeyAcceptedAlgorithms \[preauth\]", 5),
          "no 'not in PubkeyAcceptedAlgorithms' line")
    check(ctx.wait_log(r"^Accepted publickey for %s " % u.name, 5),
          "no 'Accepted publickey' line for rsa-sha2-512")
    check(not re.search(r"^Failed publickey for %s " % u.name,
                        ctx.server_log(), re.M),
          "a request refused before any lookup must not be logged as "
          "'Failed publickey'")


def test_match_leaves_no_pubkey_algorithm(ctx):
    """PubkeyAcceptedAlgorithms -* in a Match block leaves no algorithm
    (sshd's Match assembly; globally it is the default): that user's key
    is refused where sshd refuses it; another user's works."""
    u = ctx.make_user()
    v = ctx.make_user()
    ctx.start_server(extra_config=["Match User " + u.name,
                                   "\tPubkeyAcceptedAlgorithms -*"])
    r = ctx.ssh(u, "echo in")
    check(r.rc == 255 and b"in" not in r.stdout,
          "Match ... PubkeyAcceptedAlgorithms -*: the key logged in: rc %s"
          % r.rc)
    check(ctx.wait_log(r"userauth_pubkey: signature algorithm ssh-ed25519 "
                       r"not in PubkeyAcceptedAlgorithms \[preauth\]", 5),
          "no 'not in PubkeyAcceptedAlgorithms' line")
    ctx.ssh_ok(v, "echo ok", expect_out=b"ok\n")


def test_pam_modules_run_from_root_directory(ctx):
    """As sshd, which runs from "/": PAM's modules (here pam_exec in
    every phase) never run in the directory posternd was started from."""
    u = _user(ctx)
    rec = os.path.join(ctx.dir, "pwd.log")
    prog = os.path.join(ctx.dir, "pwd.sh")
    with open(prog, "w") as f:
        f.write("#!/bin/sh\necho \"$PAM_TYPE $(pwd)\" >> %s\n" % rec)
    os.chmod(prog, 0o755)
    _server(ctx, ["auth optional pam_exec.so " + prog,
                  "auth required pam_unix.so",
                  "account optional pam_exec.so " + prog,
                  "account required pam_unix.so",
                  "session optional pam_exec.so " + prog,
                  "session required pam_unix.so"])
    check(os.getcwd() != "/", "the test must start posternd elsewhere")
    r, _ = _ssh(ctx, u, "password", PASSWORD)
    check(r.returncode == 0, "password login failed: rc %s %s"
          % (r.returncode, r.stderr[-300:]))
    lines = open(rec).read().split("\n") if os.path.exists(rec) else []
    phases = set(x.split(" ")[0] for x in lines if x)
    check({"account", "auth", "open_session"} <= phases,
          "pam_exec should run in auth, account and session: %r" % lines)
    check(all(x.endswith(" /") for x in lines if x),
          "PAM's modules ran outside /: %r" % lines)


def test_pam_session_open_failure_restricts_session(ctx):
    """pam_open_session fails: as sshd 9.2, the connection stays, every
    session request shows PAM's messages and exits 254, running nothing,
    and forwarding is off; before, the connection just dropped."""
    u = _user(ctx)
    tag = secrets.token_hex(4)
    _server(ctx, ["auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session optional pam_echo.so SESSION-TEXT-" + tag,
                  "session required pam_deny.so"])
    ran = os.path.join(ctx.dir, "ran")
    r, _ = _ssh(ctx, u, "publickey", command="touch %s; echo ran" % ran)
    check(r.returncode == 254,
          "a session PAM could not open should exit 254: rc %s %r %r"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    check(("SESSION-TEXT-" + tag).encode() in r.stdout and
          b"ran" not in r.stdout and not os.path.exists(ran),
          "want PAM's session text and nothing run: %r" % r.stdout)
    check(ctx.wait_log(r"^(error: )?PAM: pam_open_session\(\): ", 5),
          "no 'PAM: pam_open_session()' line")
    env, _ = _askpass(ctx, "")
    argv = ctx.ssh_argv(u, "true", extra=("-o", "ExitOnForwardFailure=yes",
                                          "-L", "0:127.0.0.1:9"))
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=40, env=env)
    check(p.returncode == 255 and b"forwarding" in p.stderr.lower(),
          "port forwarding should be refused in a restricted session: rc %s "
          "%r" % (p.returncode, p.stderr[-300:]))


def test_pam_session_open_failure_pty_login_recorded(ctx):
    """pam_open_session fails and the client asks for a shell on a pty:
    as sshd 9.2's do_login() before its do_child() gives up, the login is
    recorded (wtmp, lastlog) and greeted ("Last login: ..."), then PAM's
    messages and status 254. Before, postern recorded and showed
    nothing, so a login that got a (restricted) terminal left no trace
    in last(1). A command on a pty makes do_login() quiet, and sshd's
    do_child() then shows PAM's text and the last login (checked
    side by side with sshd 9.2); before, postern left the last login
    out."""
    from test_pty import _TtyClient
    u = _user(ctx)
    tag = secrets.token_hex(4)
    _server(ctx, ["auth required pam_unix.so",
                  "account required pam_unix.so",
                  "session optional pam_echo.so SESSION-TEXT-" + tag,
                  "session required pam_deny.so"])
    outs = []
    for command in (None, None, "true"):
        rc, out, err = _TtyClient(ctx, u, command).finish()
        check(rc == 254, "a login PAM could not open a session for should "
              "exit 254 (%s): rc %s %r %r"
              % (command, rc, out, err[-300:]))
        outs.append(out)
    check(b"Last login" not in outs[0], "a first login has no last login: "
          "%r" % outs[0])
    for out in outs[1:]:
        check(re.search(rb"SESSION-TEXT-%s\r\nLast login: .* from "
                        rb"127\.0\.0\.1" % tag.encode(), out),
              "want PAM's text, then 'Last login: ... from 127.0.0.1': %r"
              % out)
    rx = re.compile(r"^%s\s+pts/\d+\s+127\.0\.0\.1\s" % u.name, re.M)
    check(poll_until(lambda: len(rx.findall(
        run(["last", "-w", u.name]).stdout.decode())) == 3, 10),
        "last does not show the three logins:\n%s"
        % run(["last", "-w", u.name]).stdout.decode())


def test_pam_setcred_failure_after_pam_authentication(ctx):
    """pam_setcred fails (a module's PAM_CRED_ERR). As sshd 9.2: after
    keyboard-interactive/pam, whose authentication ran in another handle,
    the login ends before any session, with PAM's reason logged (sshd's
    fatal); after publickey or a password PAM checked (sshd's
    sshpam_authenticated is for keyboard-interactive only) it is only a
    debug line and the session runs."""
    mod = _env_module(ctx)
    u = _user(ctx)
    _server(ctx, ["auth required pam_unix.so",
                  "auth required %s credfail authok" % mod,
                  "account required pam_unix.so",
                  "session required pam_unix.so"])
    ran = os.path.join(ctx.dir, "ran")
    r, _ = _ssh(ctx, u, "keyboard-interactive", PASSWORD,
                command="touch %s; echo ok" % ran)
    check(r.returncode == 255 and r.stdout == b"" and not os.path.exists(ran),
          "keyboard-interactive/pam with a failing pam_setcred must not run "
          "a session: rc %s %r" % (r.returncode, r.stdout))
    check(ctx.wait_log(r"^(error: )?PAM: pam_setcred\(\): Failure setting "
                       r"user credentials$", 5),
          "no 'PAM: pam_setcred(): Failure setting user credentials' line")
    check(not re.search(r"^Starting session: command for %s "
                        % re.escape(u.name), ctx.server_log(), re.M),
          "a session started after pam_setcred failed")
    for method in ("publickey", "password"):
        r, _ = _ssh(ctx, u, method, PASSWORD)
        check(r.returncode == 0 and r.stdout == b"ok\n",
              "%s login with a failing pam_setcred should run: rc %s %r"
              % (method, r.returncode, r.stderr[-300:]))
    check(len(re.findall(r"^debug1: PAM: pam_setcred\(\): Failure setting "
                         r"user credentials$", ctx.server_log(), re.M)) >= 4,
          "publickey and password: pam_setcred's failure (monitor and "
          "session process) should be debug lines")


def _pkwire(ctx, u, cases):
    """pkwire.py's run of these cases for user u."""
    return run(["/usr/bin/python3", PKWIRE, str(ctx.port), u.name], 120,
               check_rc=False, input=json.dumps(cases).encode())


def _hs_bytes(b):
    """An SSH string, in hex."""
    return (struct.pack(">I", len(b)) + b).hex()


def _hs(text):
    return _hs_bytes(text.encode())


def test_malformed_userauth_fields_end_connection(ctx):
    """A request whose fields are cut short or followed by more bytes
    ends the connection, as in sshd 9.2 (checked side by side), with its
    fatal line naming what was wrong, and here a DISCONNECT telling the
    client (sshd's preauth child closes without one), but only for a
    method sshd would parse: enabled, and "none" until its first call.
    The fields of a disabled method, or of a later "none", are not
    looked at: that request just fails."""
    u = ctx.make_user(with_key=False)
    ctx.start_server(extra_config=["KbdInteractiveAuthentication yes",
                                   "PasswordAuthentication yes"])
    with open(ctx.new_key("malformed") + ".pub") as f:
        blob = _hs_bytes(base64.b64decode(f.read().split()[1]))
    # A DSA key: postern has none, but decodes one as sshd does, which
    # then refuses it by algorithm, not as a key that does not parse.
    dsa = os.path.join(ctx.dir, "malformed_dsa")
    run(["ssh-keygen", "-q", "-t", "dsa", "-N", "", "-f", dsa])
    with open(dsa + ".pub") as f:
        dsa_raw = base64.b64decode(f.read().split()[1])
    dsa_blob = _hs_bytes(dsa_raw)
    dsa_short = _hs_bytes(dsa_raw[:-30])
    trailing = "unexpected bytes remain after decoding"
    cases = [
        ("none", [["none", "00"]],
         "userauth_none: parse packet: " + trailing),
        ("password change without the new one", [["password", "01" + _hs("x")]],
         "userauth_passwd: parse packet: incomplete message"),
        ("password", [["password", "00" + _hs("x") + "00"]],
         "userauth_passwd: parse packet: " + trailing),
        ("keyboard-interactive",
         [["keyboard-interactive", _hs("") + _hs("") + "00"]],
         "userauth_kbdint: parse packet: " + trailing),
        ("publickey cut short", [["publickey", "00" + _hs("ssh-ed25519")]],
         "userauth_pubkey: parse publickey packet: incomplete message"),
        ("hostbound without its host key",
         [["publickey-hostbound-v00@openssh.com",
           "00" + _hs("ssh-ed25519") + _hs("k")]],
         "userauth_pubkey: parse publickey-hostbound-v00@openssh.com "
         "hostkey: incomplete message"),
        ("publickey query with more",
         [["publickey", "00" + _hs("ssh-ed25519") + blob + "00"]],
         "userauth_pubkey: parse packet: " + trailing),
        ("publickey signature with more",
         [["publickey", "01" + _hs("ssh-ed25519") + blob + _hs("s") + "00"]],
         "userauth_pubkey: parse signature packet: " + trailing),
    ]
    raw = [{"raw": steps} for _, steps, _ in cases]
    # Not parsed: a second "none", "hostbased" (postern has none), and
    # the rest of a key request that sshd refuses before reading it: a
    # key that does not decode, an unknown algorithm, a key of another
    # type, an algorithm not in PubkeyAcceptedAlgorithms (a plain key's
    # short name is one to sshd).
    refused = [("ssh-ed25519", _hs("k"), "parse key: invalid format"),
               ("foo-bar", blob,
                "unsupported public key algorithm: foo-bar"),
               ("ssh-rsa", blob, "key type mismatch for decoded key "
                "(received ssh-ed25519, expected ssh-rsa)"),
               ("ED25519", blob, "signature algorithm ED25519 not in "
                "PubkeyAcceptedAlgorithms")]
    # On a connection of their own: MaxAuthTries (6) counts each.
    refused_dsa = [("ssh-dss", dsa_blob, "signature algorithm ssh-dss not "
                    "in PubkeyAcceptedAlgorithms"),
                   ("ssh-ed25519", dsa_blob, "key type mismatch for decoded "
                    "key (received ssh-dss, expected ssh-ed25519)"),
                   ("ssh-dss", dsa_short, "parse key: invalid format")]
    raw.append({"raw": [["none", ""], ["none", "00"], ["hostbased", "00"]]})
    for keys in (refused, refused_dsa):
        raw.append({"raw": [["publickey", "00" + _hs(alg) + b + "00"]
                            for alg, b, _ in keys]})
    p = _pkwire(ctx, u, raw)
    check(p.returncode == 0, "pkwire.py failed: %r" % p.stderr[-2000:])
    got = json.loads(p.stdout)
    for (name, _, why), out in zip(cases, got):
        check(out == ["disconnect:" + why],
              "%s: want a DISCONNECT %r, got %r" % (name, why, out))
        check(ctx.wait_log(r"^(fatal: )?%s \[preauth\]$" % re.escape(why),
                           5),
              "%s: no line %r:\n%s" % (name, why, ctx.server_log()[-2000:]))
    check(got[-3:] == [["fail"] * 3, ["fail"] * len(refused),
                       ["fail"] * len(refused_dsa)],
          "a later none, an unknown method, a key refused before the rest "
          "is read must just fail: %r" % got[-3:])
    for _, _, line in refused + refused_dsa:
        check(ctx.wait_log(r"^userauth_pubkey: %s \[preauth\]$"
                           % re.escape(line), 5),
              "no line %r (sshd 9.2's words)" % line)
    # Its user/service/method strings cut short: sshd's dispatch line.
    p = _pkwire(ctx, u, [{"raw": [[None, "0000"]]}])
    check(json.loads(p.stdout or b"null") ==
          [["disconnect:malformed userauth request"]],
          "a request without its method: %r %r" % (p.stdout, p.stderr[-500:]))
    check(ctx.wait_log(r"^ssh_dispatch_run_fatal: Connection from 127\.0\.0\.1"
                       r" port \d+: incomplete message \[preauth\]$", 5),
          "no ssh_dispatch_run_fatal line for a request cut short")
    check(ctx.server_alive(), "the server exited")
