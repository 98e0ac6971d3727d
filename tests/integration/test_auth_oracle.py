"""
test_auth_oracle.py: what a refused, invalid or root login gives away.
As OpenSSH, PAM never sees the password (or keyboard-interactive answers)
of an invalid or refused user, nor of root unless PermitRootLogin yes: it
gets "\\b\\n\\r\\177INCORRECT" repeated to the length of the client's
password (OpenSSH's fake_password()) on the same path, never changes such an
account's expired password, and such a login never succeeds. The PAM
stacks are real (/etc/pam.d, pam_unix), with pam_exec expose_authtok
recording what PAM was given. Also: PAM is started for invalid users too;
UsePAM no checks unknown accounts with the system's own hash method;
failed password attempts are held to a per-user minimum time; an invalid
user's name never reaches an AuthorizedKeysFile path (%u is "NOUSER");
the monitor ends a connection whose module accepts an invalid user; a
failed password is gone from the monitor's and preauth's memory.
"""

import json
import os
import re
import secrets
import shutil
import subprocess

import harness
from harness import check, run

JUNK = b"\b\n\r\177INCORRECT"


def fake(secret):
    """OpenSSH's fake_password(): JUNK repeated to the secret's length."""
    n = len(secret)
    return (JUNK * (n // len(JUNK) + 1))[:n]


PASSWORD = "Ok-" + secrets.token_hex(8)
FAKE = fake(PASSWORD.encode())
NEWPASS = "Nw9!" + secrets.token_hex(8)


def _recorder(ctx):
    """A pam_exec expose_authtok program: logs PAM_USER and the token."""
    log = os.path.join(ctx.dir, "authtok.log")
    prog = os.path.join(ctx.dir, "authtok_rec.py")
    with open(prog, "w") as f:
        f.write("#!/usr/bin/python3\nimport os, sys\n"
                "tok = sys.stdin.buffer.read().rstrip(b'\\0')\n"
                "with open(%r, 'a') as f:\n"
                "    f.write('%%s %%s\\n' %% (os.environ.get('PAM_USER'), "
                "tok.hex()))\n" % log)
    os.chmod(prog, 0o755)
    open(log, "w").close()
    return prog, log


def _recorded(log):
    out = []
    with open(log) as f:
        for line in f:
            user, _, tok = line.strip().partition(" ")
            out.append((user, bytes.fromhex(tok)))
    return out


def _service(ctx, recorder=None):
    lines = []
    if recorder:
        lines.append("auth optional pam_exec.so expose_authtok quiet "
                     + recorder)
    lines += ["auth required pam_unix.so try_first_pass",
              "account required pam_unix.so",
              "password required pam_unix.so yescrypt",
              "session required pam_unix.so"]
    return ctx.pam_service(lines)


def _set_password(name, pw):
    run(["chpasswd"], input=("%s:%s\n" % (name, pw)).encode())


# paramiko lives in /usr/bin/python3 only: the client runs there.
_CLIENT = r'''
import json, re, socket, sys
import paramiko

spec = json.loads(sys.argv[1])
res = {"ok": False, "prompts": [], "error": ""}


def answer(title, instr, plist):
    out = []
    for p, _echo in plist:
        res["prompts"].append(p)
        a = spec["secret"]
        for rx, alt in spec.get("answers", []):
            if re.search(rx, p, re.I):
                a = alt
        out.append(a)
    return out


s = socket.create_connection(("127.0.0.1", spec["port"]), timeout=30)
t = paramiko.Transport(s)
t.start_client(timeout=20)
try:
    if spec["method"] == "password":
        t.auth_password(spec["user"], spec["secret"])
    elif spec["method"] == "kbdint":
        t.auth_interactive(spec["user"], answer)
    else:
        t.auth_publickey(spec["user"],
                         paramiko.Ed25519Key.from_private_key_file(
                             spec["key"]))
    res["ok"] = True
except Exception as e:
    res["error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(res), flush=True)
if spec.get("hold"):
    sys.stdin.read()
t.close()
'''


def _client(ctx, user, method, secret="", answers=(), key=None, hold=False):
    """One login attempt by paramiko; a dict ok/prompts/error. With hold,
    (dict, process): the connection stays open until process.stdin closes."""
    spec = json.dumps({"port": ctx.port, "user": user, "method": method,
                       "secret": secret, "answers": list(answers),
                       "key": key, "hold": hold})
    p = subprocess.Popen(["/usr/bin/python3", "-c", _CLIENT, spec],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if hold:
        line = p.stdout.readline()
        if not line:
            check(False, "the paramiko client died: %r"
                  % p.communicate(timeout=30)[1][-500:])
        return json.loads(line), p
    out, err = p.communicate(timeout=60)
    check(out, "the paramiko client died: %r" % err[-500:])
    return json.loads(out.splitlines()[0])


def _password(ctx, user, pw):
    return _client(ctx, user, "password", pw)["ok"]


def _kbdint(ctx, user, secret, answers=()):
    r = _client(ctx, user, "kbdint", secret, answers)
    return r["ok"], r["prompts"]


def _shadow_line(name):
    with open("/etc/shadow") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line
    return None


def _root_alias(ctx):
    """A second uid-0 account with a password: root for PermitRootLogin."""
    name = "ptrt_" + secrets.token_hex(3)
    run(["useradd", "-o", "-u", "0", "-g", "0", "-M", "-d", "/root",
         "-s", "/bin/bash", name])
    ctx.cleanups.append(
        lambda: subprocess.run(["userdel", "-f", name],
                               capture_output=True))
    _set_password(name, PASSWORD)
    return name


def test_pam_refused_user_password_never_reaches_pam(ctx):
    u = ctx.make_user(with_key=False)
    ok_user = ctx.make_user(with_key=False)
    for name in (u.name, ok_user.name):
        _set_password(name, PASSWORD)
    prog, log = _recorder(ctx)
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + _service(ctx, prog),
        "PasswordAuthentication yes", "DenyUsers " + u.name])
    check(not _password(ctx, u.name, PASSWORD),
          "a DenyUsers user must be refused even with the right password")
    check(_password(ctx, ok_user.name, PASSWORD),
          "the control user's right password must be accepted")
    got = _recorded(log)
    denied = [tok for who, tok in got if who == u.name]
    allowed = [tok for who, tok in got if who == ok_user.name]
    check(allowed == [PASSWORD.encode()],
          "the recorder must see the allowed user's real password "
          "(control): %r" % got)
    check(denied == [FAKE],
          "PAM must get OpenSSH's fake password for a refused user, "
          "not the real one: %r" % denied)
    check(ctx.wait_log(r"^Failed password for invalid user %s from "
                       r"127\.0\.0\.1 port \d+ ssh2" % u.name, 5),
          "no 'Failed password for invalid user' line for the refused user")


def test_pam_password_over_1024_bytes_never_reaches_pam(ctx):
    """As sshd's auth_password(): a password over 1024 bytes fails before
    PAM is run at all; one of 1024 bytes still goes to PAM."""
    u = ctx.make_user(with_key=False)
    _set_password(u.name, PASSWORD)
    prog, log = _recorder(ctx)
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + _service(ctx, prog),
        "PasswordAuthentication yes"])
    for n in (1024, 1025):
        check(not _password(ctx, u.name, "x" * n),
              "a wrong %d-byte password was accepted" % n)
    # pam_exec hands its program the first 511 bytes of the token.
    got = _recorded(log)
    check(len(got) == 1 and got[0][0] == u.name and got[0][1]
          and got[0][1] == b"x" * len(got[0][1]),
          "PAM must see the 1024-byte password and not the 1025-byte one: "
          "%r" % [(w, len(t)) for w, t in got])
    failed = re.findall(r"^Failed password for %s from 127\.0\.0\.1 port "
                        r"\d+ ssh2$" % u.name, ctx.server_log(), re.M)
    check(len(failed) == 2,
          "each attempt must be logged as 'Failed password': %r" % failed)


def test_pam_refused_user_expired_password_not_changed(ctx):
    u = ctx.make_user(with_key=False)
    _set_password(u.name, PASSWORD)
    run(["chage", "-d", "0", u.name])
    before = _shadow_line(u.name)
    prog, log = _recorder(ctx)
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + _service(ctx, prog),
        "KbdInteractiveAuthentication yes", "DenyUsers " + u.name])
    ok, prompts = _kbdint(ctx, u.name, PASSWORD,
                          [("new|retype", NEWPASS)])
    check(not ok, "a DenyUsers user must never log in")
    check(_shadow_line(u.name) == before,
          "the refused user's expired password was changed in /etc/shadow")
    check(not any(re.search("new|current", p, re.I) for p in prompts),
          "PAM's password change dialogue ran for a refused user: %r"
          % prompts)
    toks = [tok for who, tok in _recorded(log) if who == u.name]
    check(toks and all(t == FAKE for t in toks),
          "keyboard-interactive answers of a refused user must reach PAM "
          "only as the fake password: %r" % toks)
    check(ctx.wait_log(r"^Failed keyboard-interactive/pam for invalid user "
                       r"%s from " % u.name, 5),
          "no 'Failed keyboard-interactive/pam for invalid user' line")


def test_pam_root_secret_needs_permitrootlogin_yes(ctx):
    name = _root_alias(ctx)
    prog, log = _recorder(ctx)
    svc = _service(ctx, prog)
    base = ["UsePAM yes", "PAMServiceName " + svc,
            "PasswordAuthentication yes", "KbdInteractiveAuthentication yes"]
    ctx.start_server(extra_config=base + [
        "PermitRootLogin prohibit-password"])
    check(not _password(ctx, name, PASSWORD),
          "root's password must not log in under prohibit-password")
    ok, _ = _kbdint(ctx, name, PASSWORD)
    check(not ok, "root's keyboard-interactive must not log in under "
          "prohibit-password")
    toks = [tok for who, tok in _recorded(log) if who == name]
    check(len(toks) == 2 and all(t == FAKE for t in toks),
          "PAM must get the fake password for root (password and "
          "keyboard-interactive) unless PermitRootLogin yes: %r" % toks)
    check(ctx.wait_log(r"^Failed password for %s from 127\.0\.0\.1 "
                       % name, 5), "no 'Failed password' line for root")
    check("ROOT LOGIN REFUSED" not in ctx.server_log(),
          "the log must not say whether root's password was right")
    # Control: PermitRootLogin yes hands PAM the real password.
    ctx.stop_server()
    open(log, "w").close()
    ctx.start_server(extra_config=base + ["PermitRootLogin yes"])
    check(_password(ctx, name, PASSWORD),
          "PermitRootLogin yes: root's right password must log in")
    check([tok for who, tok in _recorded(log) if who == name]
          == [PASSWORD.encode()],
          "PermitRootLogin yes: PAM must get root's real password")


def test_pam_started_for_invalid_user(ctx):
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + _service(ctx)])
    who = "nosuch" + secrets.token_hex(3)
    check(not _password(ctx, who, PASSWORD), "an invalid user logged in")
    check(ctx.wait_log(r"^Invalid user %s from " % who, 5),
          "no 'Invalid user' line")
    check(ctx.wait_log(r'PAM: initializing for "%s" with service' % who, 5),
          "PAM must be started for an invalid user too, as OpenSSH does")


def _shadow_methods():
    counts = {}
    with open("/etc/shadow") as f:
        for line in f:
            h = line.split(":")[1]
            m = re.match(r"^(\$[^$]+\$)", h)
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def test_password_unknown_user_hashed_like_real_ones(ctx):
    u = ctx.make_user(with_key=False)
    _set_password(u.name, PASSWORD)
    counts = _shadow_methods()
    check(counts, "no crypt hash in /etc/shadow after chpasswd")
    top = max(counts.values())
    want = [m for m, n in counts.items() if n == top]
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "Match all", "LogLevel DEBUG2"])
    check(not _password(ctx, "nosuch" + secrets.token_hex(3), PASSWORD),
          "an invalid user logged in")
    m = ctx.wait_log(r"password: unknown accounts are checked with "
                     r"(\S+) hashes", 5)
    check(m, "no line saying which hash method unknown accounts get")
    check(m.group(1) in want,
          "unknown accounts must be hashed with the system's own method "
          "%r, not %s" % (want, m.group(1)))
    check(_password(ctx, u.name, PASSWORD),
          "the real user's password must still work")


def test_password_failures_held_to_user_minimum(ctx):
    u = ctx.make_user(with_key=False)
    _set_password(u.name, PASSWORD)
    ctx.start_server(extra_config=["UsePAM no", "PasswordAuthentication yes",
                                   "Match all", "LogLevel DEBUG2"])
    ghost = "nosuch" + secrets.token_hex(3)
    for who in (u.name, ghost, u.name, ghost):
        check(not _password(ctx, who, "wrong-" + PASSWORD),
              "a wrong password logged in")
    rx = re.compile(r"failed attempt held to [\d.]+ ms \(minimum (\d+) us\)")
    check(harness.poll_until(
        lambda: len(rx.findall(ctx.server_log())) >= 4, 5),
        "every failed password must be held to a minimum time:\n%s"
        % harness.tail(ctx.server_log()))
    mins = [int(x) for x in rx.findall(ctx.server_log())]
    check(all(5000 <= x < 9300 for x in mins),
          "the minimum must be 5 ms plus up to 4.3 ms: %r" % mins)
    check(mins[0] == mins[2] and mins[1] == mins[3],
          "a user's minimum must be the same on every connection (a "
          "per-server secret, not a per-connection one): %r" % mins)
    check(_password(ctx, u.name, PASSWORD), "the right password must work")


def test_refused_keys_held_to_user_minimum(ctx):
    """A refused key is held to the user's minimum too, as sshd holds
    every failed request but "none": a real user's key files take longer
    to look through than an unknown user's (none), which told the two
    apart."""
    u = ctx.make_user(with_key=True)
    other = ctx.new_key("unlisted")
    ctx.start_server(extra_config=["Match all", "LogLevel DEBUG2"])
    ghost = "nosuch" + secrets.token_hex(3)
    for who in (u.name, ghost):
        r = _client(ctx, who, "publickey", key=other)
        check(not r["ok"], "an unlisted key logged in")
    rx = re.compile(r"failed attempt held to [\d.]+ ms \(minimum (\d+) us\)")
    check(harness.poll_until(
        lambda: len(rx.findall(ctx.server_log())) >= 2, 5),
        "a refused key of a user and of an unknown user must both be held "
        "to a minimum time:\n%s" % harness.tail(ctx.server_log()))


def test_invalid_user_name_not_in_keys_path(ctx):
    u = ctx.make_user(with_key=True)
    keys = os.path.join(ctx.dir, "keys")
    os.makedirs(keys)
    ctx.start_server(extra_config=[
        "Match all", "AuthorizedKeysFile %s/%%u" % keys])
    r = _client(ctx, "../x" + secrets.token_hex(2), "publickey", key=u.key)
    check(not r["ok"], "an invalid user logged in with a key")
    check(ctx.wait_log(r"^Invalid user \.\./x[0-9a-f]{4} from ", 5),
          "log lines must still name the user the client sent")
    check(ctx.wait_log(r"%s/NOUSER" % re.escape(keys), 5),
          "the invalid user's key file must be looked up as %s/NOUSER:\n%s"
          % (keys, harness.tail(ctx.server_log())))
    check("%s/../x" % keys not in ctx.server_log(),
          "the client's name reached an AuthorizedKeysFile path")


def test_monitor_refuses_module_success_for_invalid_user(ctx):
    bindir = os.path.dirname(os.path.abspath(ctx.server_path))
    server = harness.copy_server(ctx.server_path, os.path.join(ctx.dir, "bin"))
    dst = os.path.join(ctx.dir, "bin", "modules", "acceptall.so")
    shutil.copyfile(os.path.join(bindir, "tests", "modules", "acceptall.so"),
                    dst)
    os.chmod(dst, 0o755)
    ctx.server_path = server
    u = ctx.make_user(with_key=False)
    ctx.start_server(extra_config=[
        "KbdInteractiveAuthentication yes",
        "AuthenticationMethods keyboard-interactive:acceptall"])
    ok, _ = _kbdint(ctx, u.name, "")
    check(ok, "control: the broken module accepts a valid user")
    who = "nosuch" + secrets.token_hex(3)
    ok, _ = _kbdint(ctx, who, "")
    check(not ok, "an invalid user logged in because a module said so")
    check(ctx.wait_log(r"INTERNAL ERROR: module keyboard-interactive:"
                       r"acceptall accepted invalid user %s" % who, 5),
          "no log line for the module's success for an invalid user")
    check(ctx.wait_log(r"^Failed keyboard-interactive for invalid user %s "
                       % who, 5),
          "the attempt must be logged as failed, as fail2ban reads it")
    check(not re.search(r"^Accepted .* for (invalid user )?%s " % who,
                        ctx.server_log(), re.M),
          "an 'Accepted' line for an invalid user")


def _check_not_held(pids, secret, what_secret):
    """No process of pids holds secret in its memory; each holds the SSH
    version string (the control: the scan sees what such a process
    holds)."""
    for p in pids:
        found, _ = harness.scan_memory(p, [secret.encode(), b"SSH-2.0-"])
        what = "%s (pid %d)" % (harness.exe_of(p), p)
        check(found[b"SSH-2.0-"],
              "%s: no SSH version string in memory: the scan is blind"
              % what)
        check(not found[secret.encode()], "%s still holds %s: %s"
              % (what, what_secret,
                 [h[0] for h in found[secret.encode()][:3]]))


def _start_password_server(ctx, use_pam):
    """A server taking passwords and kbd-int, through PAM or not."""
    extra = ["PasswordAuthentication yes", "UsePAM " + use_pam,
             "KbdInteractiveAuthentication yes"]
    if use_pam == "yes":
        extra.append("PAMServiceName " + _service(ctx))
    ctx.start_server(extra_config=extra)


def _scan_after_failed_password(ctx, use_pam, kbdint=False):
    u = ctx.make_user(with_key=False)
    _set_password(u.name, PASSWORD)
    wrong = "Wx-" + secrets.token_hex(12)
    _start_password_server(ctx, use_pam)
    r, client = _client(ctx, u.name, "kbdint" if kbdint else "password",
                        wrong, hold=True)
    try:
        check(not r["ok"], "a wrong password logged in")
        check(ctx.wait_log(r"^Failed %s for %s " % (
            "keyboard-interactive/pam" if kbdint else "password", u.name), 5),
            "no 'Failed' line for the attempt")
        pids = [p for p in harness.descendants(ctx.proc.pid)
                if os.path.basename(harness.exe_of(p))
                in ("posternd", "postern-preauth")]
        names = sorted(os.path.basename(harness.exe_of(p)) for p in pids)
        check("postern-preauth" in names and "posternd" in names,
              "no monitor and preauth for the connection: %r" % names)
        _check_not_held(pids, wrong, "a failed password after the attempt")
    finally:
        client.stdin.close()
        client.wait(30)


def test_failed_password_wiped_from_memory(ctx):
    _scan_after_failed_password(ctx, "no")


def test_failed_pam_password_wiped_from_memory(ctx):
    _scan_after_failed_password(ctx, "yes")


def test_failed_kbdint_answer_wiped_from_memory(ctx):
    _scan_after_failed_password(ctx, "yes", kbdint=True)


def _scan_after_accepted_password(ctx, use_pam, kbdint=False):
    """The right password, once it logged in, is in no process of the
    connection: not the monitor (PAM's handle, the request buffers), not
    the session (the transport state it was handed)."""
    u = ctx.make_user(with_key=False)
    right = "Rt-" + secrets.token_hex(12)
    _set_password(u.name, right)
    _start_password_server(ctx, use_pam)
    r, client = _client(ctx, u.name, "kbdint" if kbdint else "password",
                        right, hold=True)
    try:
        check(r["ok"], "the right password did not log in: %r" % r)

        def started():
            names = [os.path.basename(harness.exe_of(p))
                     for p in harness.descendants(ctx.proc.pid)]
            return "postern-session" in names
        check(harness.poll_until(started, 10), "no session process")
        pids = [p for p in harness.descendants(ctx.proc.pid)
                if os.path.basename(harness.exe_of(p))
                in ("posternd", "postern-session")]
        _check_not_held(pids, right, "the password it accepted")
    finally:
        client.stdin.close()
        client.wait(30)


def test_accepted_password_wiped_from_memory(ctx):
    _scan_after_accepted_password(ctx, "no")


def test_accepted_pam_password_wiped_from_memory(ctx):
    _scan_after_accepted_password(ctx, "yes")


def test_accepted_kbdint_answer_wiped_from_memory(ctx):
    _scan_after_accepted_password(ctx, "yes", kbdint=True)
