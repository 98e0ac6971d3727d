"""
test_totp.py: keyboard-interactive:totp (modules/totp.c) with the real
OpenSSH client answering "Verification code: " through SSH_ASKPASS, and
codes computed by oathtool: the shipped two-factor recipe
(packaging/sshd_config.d/20-totp.conf) with pam_oath's users file (TOTP
and HOTP) and with ~/.google_authenticator (reuse, scratch codes,
RATE_LIMIT, ownership checks; a file the google-authenticator tool
wrote, shared with pam_google_authenticator.so). A code is never accepted
twice; a user with no enrolment, or an invalid user, never gets in.
"""

import json
import os
import re
import secrets
import subprocess
import time

import harness
from harness import check

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPE = os.path.join(HERE, "..", "..", "packaging", "sshd_config.d",
                      "20-totp.conf")
STEP = 30


def _hexkey():
    return secrets.token_hex(20)


def _b32key():
    # 10 random bytes: 16 base32 characters, as google-authenticator makes.
    import base64
    return base64.b32encode(secrets.token_bytes(10)).decode()


def _oathtool(*args):
    p = harness.run(["oathtool"] + list(args))
    return p.stdout.decode().strip()


def _totp(key, steps=0, base32=False, when=None):
    """The TOTP code STEP*steps seconds from when (default now)."""
    t = int(when if when is not None else time.time()) + STEP * steps
    argv = ["--totp", "-N", "@%d" % t]
    if base32:
        argv.append("-b")
    return _oathtool(*(argv + [key]))


def _hotp(key, counter):
    return _oathtool("--hotp", "-c", str(counter), key)


def _wrong(codes):
    """A six-digit code that is none of codes."""
    c = int(codes[0])
    while "%06d" % c in codes:
        c = (c + 1) % 1000000
    return "%06d" % c


def _clear_of_boundary(margin=10):
    """Now, at least margin seconds before the TOTP step ends: each login
    that follows is checked in the step its code was made for, however
    slow the build, so "previous step" stays previous."""
    now = time.time()
    if now % STEP > STEP - margin:
        time.sleep(STEP - now % STEP + 1)
        now = time.time()
    return now


def _askpass(ctx, answer):
    script = os.path.join(ctx.dir, "askpass_%s.sh" % secrets.token_hex(4))
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % answer)
    os.chmod(script, 0o755)
    return dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
                DISPLAY=":0")


def _login(ctx, u, code):
    """ssh with the key and then code for "Verification code: "."""
    key = ctx.new_key("nokey") if isinstance(u, str) else None
    argv = ctx.ssh_argv(u, "echo ok", key=key, batch=False,
                        extra=("-o", "KbdInteractiveAuthentication=yes",
                               "-o", "PreferredAuthentications="
                                     "publickey,keyboard-interactive",
                               "-o", "NumberOfPasswordPrompts=1"))
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30, env=_askpass(ctx, code))
    ctx._note_client(argv, p.returncode, p.stderr)
    return p


def _admitted(p):
    return p.returncode == 0 and p.stdout == b"ok\n"


def _refused(p):
    return p.returncode == 255 and p.stdout == b""


def _count(ctx, pattern):
    return len(re.findall(pattern, ctx.server_log(), re.M))


def _users_file(ctx, lines):
    path = os.path.join(ctx.dir, "users.oath")
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    os.chmod(path, 0o600)
    return path


def _ga_file(u, text, mode=0o400):
    path = os.path.join(u.home, ".google_authenticator")
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, u.uid, u.gid)
    os.chmod(path, mode)
    return path


def _read(path):
    with open(path) as f:
        return f.read()


# paramiko (in /usr/bin/python3 only): the key, then keyboard-interactive
# answered with spec["code"], at the wall-clock time spec["at"] if given.
# paramiko sends SERVICE_REQUEST "ssh-userauth" before every method.
_PARAMIKO = r'''
import json, socket, sys, time
import paramiko

spec = json.loads(sys.argv[1])
res = {"ok": False, "partial": None, "prompts": [], "error": ""}


def answer(title, instructions, prompts):
    res["prompts"] += [p for p, _echo in prompts]
    if spec.get("at"):
        time.sleep(max(0.0, spec["at"] - time.time()))
    return [spec["code"]] * len(prompts)


s = socket.create_connection(("127.0.0.1", spec["port"]), timeout=30)
t = paramiko.Transport(s)
t.start_client(timeout=20)
try:
    res["partial"] = t.auth_publickey(
        spec["user"], paramiko.Ed25519Key.from_private_key_file(spec["key"]))
    t.auth_interactive(spec["user"], answer)
    res["ok"] = t.is_authenticated()
except Exception as e:
    res["error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(res), flush=True)
t.close()
'''


def _paramiko(ctx, u, code, at=None):
    """Start paramiko's key + code login; returns the process."""
    spec = json.dumps({"port": ctx.port, "user": u.name, "key": u.key,
                       "code": code, "at": at})
    return subprocess.Popen(["/usr/bin/python3", "-c", _PARAMIKO, spec],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _paramiko_result(p):
    out, err = p.communicate(timeout=60)
    check(out, "the paramiko client died: %r" % err[-500:])
    return json.loads(out.splitlines()[0])


def _start(ctx, usersfile, methods=None):
    extra = ["TOTPUsersFile " + usersfile]
    if methods is None:
        extra.append("Include " + os.path.abspath(RECIPE))
    else:
        extra += ["KbdInteractiveAuthentication yes",
                  "AuthenticationMethods " + methods]
    ctx.start_server(extra_config=extra)


def test_client_cannot_pick_totp_for_bare_kbdint(ctx):
    """A bare keyboard-interactive (no AuthenticationMethods, or a list
    without :totp) is PAM's device, as sshd's only one: a client naming
    totp (KbdInteractiveDevices=totp) names no device that may serve, so
    it gets no prompt at all (as sshd, which has no such device), and an
    enrolled user's code alone does not stand in for the password
    (review: it logged in with the code alone)."""
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    prompts = os.path.join(ctx.dir, "prompts.log")
    script = os.path.join(ctx.dir, "askpass_prompt.sh")
    for extra in ([], ["AuthenticationMethods publickey,keyboard-interactive"]):
        ctx.stop_server()
        ctx.start_server(extra_config=["TOTPUsersFile " + path,
                                       "UsePAM yes",
                                       "KbdInteractiveAuthentication yes"]
                         + extra)
        with open(script, "w") as f:
            f.write("#!/bin/sh\nprintf '%%s\\n' \"$1\" >> %s\n"
                    "printf '%%s\\n' '%s'\n" % (prompts, _totp(key)))
        os.chmod(script, 0o755)
        if os.path.exists(prompts):
            os.unlink(prompts)
        opts = ["-o", "KbdInteractiveAuthentication=yes",
                "-o", "KbdInteractiveDevices=totp",
                "-o", "NumberOfPasswordPrompts=1"]
        if not extra:
            opts += ["-o", "PubkeyAuthentication=no",
                     "-o", "PreferredAuthentications=keyboard-interactive"]
        argv = ctx.ssh_argv(u, "echo ok", batch=False, extra=opts)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30,
                           env=dict(os.environ, SSH_ASKPASS=script,
                                    SSH_ASKPASS_REQUIRE="force",
                                    DISPLAY=":0"))
        ctx._note_client(argv, p.returncode, p.stderr)
        check(_refused(p), "%s: a TOTP code alone logged in through a bare "
              "keyboard-interactive: rc %s %r" % (extra, p.returncode,
                                                   p.stdout))
        asked = _read(prompts) if os.path.exists(prompts) else ""
        check(asked == "",
              "%s: the client's device choice reached a device (prompts "
              "%r)" % (extra, asked))
        check(_count(ctx, r"totp: accepted") == 0,
              "TOTP judged a bare keyboard-interactive")


def test_totp_code_does_not_complete_bare_kbdint_list(ctx):
    """AuthenticationMethods "publickey,keyboard-interactive:totp,password
    publickey,keyboard-interactive": after the key, a client naming totp
    is asked for a code (the first list names it), and the code advances
    that list only. It completed the second list's bare
    keyboard-interactive too (the PAM stack's step), so key and code
    logged in without the password either list asks for."""
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    ctx.start_server(extra_config=[
        "TOTPUsersFile " + path, "UsePAM yes",
        "KbdInteractiveAuthentication yes",
        "AuthenticationMethods publickey,keyboard-interactive:totp,password "
        "publickey,keyboard-interactive"])
    argv = ctx.ssh_argv(u, "echo ok", batch=False,
                        extra=("-o", "KbdInteractiveAuthentication=yes",
                               "-o", "KbdInteractiveDevices=totp",
                               "-o", "PreferredAuthentications="
                                     "publickey,keyboard-interactive",
                               "-o", "NumberOfPasswordPrompts=1"))
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30, env=_askpass(ctx, _totp(key)))
    ctx._note_client(argv, p.returncode, p.stderr)
    check(_refused(p), "key and TOTP code logged in where both lists ask "
          "for more: rc %s %r" % (p.returncode, p.stdout))
    check(ctx.wait_log(r"^totp: accepted verification code for user %s "
                       % u.name, 10) and
          ctx.wait_log(r"^Partial keyboard-interactive for %s " % u.name,
                       10),
          "the code was not judged (no partial success line):\n%s"
          % harness.tail(ctx.server_log()))


def test_totp_users_file(ctx):
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["# pam_oath users file",
                             "HOTP/T30 %s - %s" % (u.name, key)])
    _start(ctx, path)
    now = time.time()
    code = _totp(key, when=now)
    p = _login(ctx, u, code)
    check(_admitted(p), "publickey + the right TOTP code should log in: "
          "rc %s %r %s" % (p.returncode, p.stdout, p.stderr[-300:]))
    check(ctx.wait_log(r"^Partial publickey for %s " % u.name, 5),
          "the key alone must be only partial success")
    check(ctx.wait_log(r"^Accepted keyboard-interactive for %s from "
                       r"127\.0\.0\.1 port \d+ ssh2" % u.name, 5),
          "no 'Accepted keyboard-interactive' line")
    check(re.search(r"^HOTP/T30\s+%s\s+-\s+%s\s+\d+\s+%s\s" %
                    (u.name, key, code), _read(path), re.M),
          "liboath did not record the code in the users file:\n%s"
          % _read(path))

    p = _login(ctx, u, code)
    check(_refused(p), "the same code a second time must be refused: rc %s"
          % p.returncode)
    check(ctx.wait_log(r"totp: verification code for user %s was already "
                       r"used \(%s\)" % (u.name, re.escape(path)), 5),
          "no log line saying the code was already used")
    check(ctx.wait_log(r"^Failed keyboard-interactive for %s from "
                       % u.name, 5),
          "no 'Failed keyboard-interactive' line")

    p = _login(ctx, u, _wrong([_totp(key, s, when=now)
                               for s in (-2, -1, 0, 1, 2)]))
    check(_refused(p), "a wrong code must be refused: rc %s" % p.returncode)
    check(ctx.wait_log(r"totp: wrong verification code for user %s "
                       % u.name, 5), "no log line for the wrong code")

    # The next step's code (inside the window) is a new code: accepted.
    p = _login(ctx, u, _totp(key, 1, when=now))
    check(_admitted(p), "the next step's code should log in: rc %s %s"
          % (p.returncode, p.stderr[-300:]))

    # BatchMode: the client cannot answer; publickey alone is not enough.
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255 and r.stdout == b"",
          "publickey alone must not log in: rc %s" % r.rc)
    check(_count(ctx, r"^Accepted keyboard-interactive for %s " % u.name)
          == 2, "exactly two logins should have been accepted")


def test_totp_users_file_stale_lock_named(ctx):
    """liboath makes users.oath.lock exclusively: one left by a killed
    process refuses every update, and the log line says so and names
    it."""
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    with open(path + ".lock", "w"):
        pass
    _start(ctx, path)
    code = _totp(key)
    p = _login(ctx, u, code)
    check(_refused(p), "a login must fail while the stale lock is there: "
          "rc %s" % p.returncode)
    real = os.path.realpath(path)
    check(ctx.wait_log(r"^totp: users file %s: .* \(%s\.lock or %s\.new "
                       r"exists: if no pam_oath is rewriting the file, left "
                       r"by a process killed meanwhile; it stops every "
                       r"update until removed\)$"
                       % (re.escape(path), re.escape(real), re.escape(real)),
                       5),
          "the log does not name the stale lock file:\n%s"
          % ctx.server_log()[-1500:])
    os.unlink(path + ".lock")
    p = _login(ctx, u, code)
    check(_admitted(p), "with the lock removed the code should log in: "
          "rc %s %s" % (p.returncode, p.stderr[-300:]))


def _timeout_in_syscall(ctx, u, code, extra, calls, delay_s):
    """Log u in with code, the server's config + extra and LoginGraceTime
    16, with each of its monitor's system calls CALLS held up delay_s by
    strace (attached to the monitor, and the children it forks, such as
    the one that runs liboath, once the code is asked for, while the
    client waits until 11 s to answer: room for a loaded machine or ASan):
    the rewrite of the TOTP state is under way when LoginGraceTime ends
    the monitor."""
    ctx.start_server(extra_config=extra + [
        "LoginGraceTime 16", "Include " + os.path.abspath(RECIPE)])
    client = _paramiko(ctx, u, code, at=time.time() + 11)
    monitors = harness.poll_until(
        lambda: harness.children(ctx.proc.pid), 10)
    check(monitors and len(monitors) == 1,
          "want one monitor process, got %r" % monitors)
    # Attached once the code is asked for, not while the monitor starts
    # the preauth process and the key exchange runs: an attach in that
    # window (the CI's loaded ASan run) once cost the connection.
    check(ctx.wait_log(r"^Postponed keyboard-interactive for %s "
                       % u.name, 9),
          "the client was not asked for its code:\n%s"
          % ctx.server_log()[-1000:])
    tr = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", os.path.join(ctx.dir, "strace.out"),
         "-e", "trace=" + calls,
         "-e", "inject=%s:delay_enter=%d" % (calls, delay_s * 1000000),
         "-p", str(monitors[0])],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    try:
        res = _paramiko_result(client)
        check(not res["ok"], "the login held past LoginGraceTime must "
              "fail: %r" % res)
        check(ctx.wait_log(r"Timeout before authentication for "
                           r"(user %s )?127\.0\.0\.1" % u.name, 15),
              "LoginGraceTime did not end the connection:\n%s"
              % ctx.server_log()[-1500:])
        tr.wait(15)
        with open(os.path.join(ctx.dir, "strace.out")) as f:
            traced = f.read()
        check("(DELAYED)" in traced, "strace did not hold up %s: %r %r"
              % (calls, traced[-500:], tr.stderr.read()[-300:]))
    finally:
        if tr.poll() is None:
            tr.terminate()
            tr.wait(10)


@harness.timeout(90)
def test_totp_users_file_whole_after_grace_timeout(ctx):
    """LoginGraceTime ending the monitor while liboath rewrites the users
    file leaves no users.oath.lock or .new behind: the signal waits until
    the file is whole, so the next login works. Before, every later
    update was refused."""
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    now = time.time()
    # (its rename: the lock goes after it)
    _timeout_in_syscall(ctx, u, _totp(key, when=now),
                        ["TOTPUsersFile " + path],
                        "rename,renameat,renameat2", 12)
    left = [x for x in (path + ".lock", path + ".new") if os.path.exists(x)]
    check(not left, "the timed-out login left %s behind" % left)
    p = _login(ctx, u, _totp(key, 1, when=now))
    check(_admitted(p), "the next login should work: rc %s %s"
          % (p.returncode, p.stderr[-300:]))


@harness.timeout(90)
def test_totp_google_authenticator_rewrite_cut_short(ctx):
    """LoginGraceTime ends the monitor while it rewrites
    ~/.google_authenticator (the new file's fsync held up by strace): the
    monitor is not kept alive for it (no signal held: a stuck home
    directory must not keep it), the code is not used up, and the new
    file it left, ~postern, is removed by the next login's rewrite."""
    u = ctx.make_user()
    key = _b32key()
    path = _ga_file(u, "%s\n\" TOTP_AUTH\n\" DISALLOW_REUSE\n" % key)
    now = time.time()
    # (the new file's fsync, before its rename)
    _timeout_in_syscall(ctx, u, _totp(key, base32=True, when=now), [
        "TOTPUsersFile " + os.path.join(ctx.dir, "absent.oath")],
        "fsync", 10)
    check(not re.search(r"^\" DISALLOW_REUSE \d", _read(path), re.M),
          "a code was recorded though the rewrite was cut short:\n%s"
          % _read(path))
    p = _login(ctx, u, _totp(key, 1, base32=True, when=now))
    check(_admitted(p), "the next login should work: rc %s %s"
          % (p.returncode, p.stderr[-300:]))
    left = [x for x in os.listdir(u.home)
            if x.startswith(".google_authenticator~")]
    check(not left, "the next login left %s behind" % left)


def test_totp_users_file_digits(ctx):
    """An entry's declared length is the code's: liboath checks a code with
    as many digits as it is given, so the last six digits of a
    HOTP/T30/8 token's code were accepted (100 times easier to guess)."""
    u = ctx.make_user()
    key = _hexkey()
    entry = "HOTP/T30/8 %s - %s" % (u.name, key)
    path = _users_file(ctx, [entry])
    _start(ctx, path)
    # Both answers are from the same step.
    now = _clear_of_boundary()
    code8 = _oathtool("--totp", "-d", "8", "-N", "@%d" % int(now), key)
    check(len(code8) == 8, "oathtool gave %r" % code8)
    p = _login(ctx, u, code8[2:])
    check(_refused(p), "the last six digits of an eight-digit token's code "
          "must be refused: rc %s" % p.returncode)
    check(ctx.wait_log(r"totp: wrong verification code for user %s "
                       % u.name, 5), "no log line for the short code")
    check(_read(path) == entry + "\n",
          "a refused code was recorded in the users file:\n%s" % _read(path))
    p = _login(ctx, u, code8)
    check(_admitted(p), "the whole eight-digit code should log in: rc %s %s"
          % (p.returncode, p.stderr[-300:]))


def test_totp_users_file_mixed_digits_refused(ctx):
    """A user with entries of two lengths (HOTP/T30 and HOTP/T30/8):
    liboath checks every entry with the code's own length, so the last
    six digits of the eight-digit token's code passed its entry, since a
    six-digit code fitted the other one (review). Such a user is refused
    with a line naming the file, and nothing is recorded."""
    u = ctx.make_user()
    key6, key8 = _hexkey(), _hexkey()
    entries = ["HOTP/T30 %s - %s" % (u.name, key6),
               "HOTP/T30/8 %s - %s" % (u.name, key8)]
    path = _users_file(ctx, entries)
    _start(ctx, path)
    now = _clear_of_boundary()
    code8 = _oathtool("--totp", "-d", "8", "-N", "@%d" % int(now), key8)
    p = _login(ctx, u, code8[2:])
    check(_refused(p), "the last six digits of an eight-digit token's code "
          "logged in next to a six-digit entry: rc %s" % p.returncode)
    check(ctx.wait_log(r"totp: users file %s: the entries for user %s "
                       r"declare codes of different lengths"
                       % (re.escape(path), u.name), 5),
          "no line naming the mixed entries")
    check(_read(path) == "".join(e + "\n" for e in entries),
          "a code was recorded in the users file:\n%s" % _read(path))


def test_totp_users_file_unknown_type_refused(ctx):
    """A users-file entry of a type liboath does not know (a typo: TOTP
    for HOTP/T30), which liboath skips: the admin enrolled the user, so
    the login is refused with a line naming the file, not handed to the
    user's own ~/.google_authenticator (review: the user's file then
    decided)."""
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["TOTP %s - %s" % (u.name, key)])
    secret = _b32key()
    _ga_file(u, "%s\n\" TOTP_AUTH\n" % secret)
    _start(ctx, path)
    p = _login(ctx, u, _totp(secret, base32=True))
    check(_refused(p), "the user's own file decided past the admin's "
          "mistyped entry: rc %s" % p.returncode)
    check(ctx.wait_log(r"totp: users file %s: no entry for user %s has a "
                       r"token type liboath knows" % (re.escape(path),
                                                      u.name), 5),
          "no line naming the mistyped entry")


def test_totp_users_file_commented_entry_is_none(ctx):
    """A users-file entry commented out ("#HOTP/T30 USER - KEY") is no
    entry: the user's own ~/.google_authenticator decides, as for a user
    the file does not name (it was refused as a mistyped token type)."""
    u = ctx.make_user()
    path = _users_file(ctx, ["#HOTP/T30 %s - %s" % (u.name, _hexkey())])
    secret = _b32key()
    _ga_file(u, "%s\n\" TOTP_AUTH\n" % secret)
    _start(ctx, path)
    p = _login(ctx, u, _totp(secret, base32=True))
    check(p.returncode == 0, "the user's own file did not decide past a "
          "commented-out entry: rc %s %r" % (p.returncode, p.stderr[-300:]))


def test_totp_users_file_incomplete_entry_refused(ctx):
    """A users-file entry of a known type for the user but without its
    PIN or key field, which liboath skips as if the user had none: the
    admin enrolled the user, so the login is refused with a line naming
    the file, not handed to the user's own ~/.google_authenticator
    (review: the user's own file decided)."""
    secret = _b32key()
    for i, tail in enumerate(("", " -")):
        u = ctx.make_user()
        path = _users_file(ctx, ["HOTP/T30 %s%s" % (u.name, tail)])
        _ga_file(u, "%s\n\" TOTP_AUTH\n" % secret)
        _start(ctx, path)
        p = _login(ctx, u, _totp(secret, base32=True))
        check(_refused(p), "entry %r: the user's own file decided past "
              "the admin's incomplete entry: rc %s"
              % ("HOTP/T30 USER" + tail, p.returncode))
        check(ctx.wait_log(r"totp: users file %s: the entry for user %s "
                           r"is incomplete" % (re.escape(path), u.name), 5),
              "entry %r: no line naming the incomplete entry"
              % ("HOTP/T30 USER" + tail))
        ctx.stop_server()


def test_totp_users_file_hotp(ctx):
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP %s - %s 0" % (u.name, key)])
    _start(ctx, path)
    p = _login(ctx, u, _hotp(key, 0))
    check(_admitted(p), "the HOTP code for counter 0 should log in: rc %s %s"
          % (p.returncode, p.stderr[-300:]))
    p = _login(ctx, u, _hotp(key, 0))
    check(_refused(p), "the same HOTP code again must be refused")
    p = _login(ctx, u, _hotp(key, 1))
    check(_admitted(p), "the next HOTP code should log in: rc %s"
          % p.returncode)
    # liboath keeps the counter of the last code used, and that code.
    check(re.search(r"^HOTP\s+%s\s+-\s+%s\s+1\s+%s\s" %
                    (u.name, key, _hotp(key, 1)), _read(path), re.M),
          "the counter was not advanced:\n%s" % _read(path))
    p = _login(ctx, u, _hotp(key, 0))
    check(_refused(p), "an older HOTP code must be refused")


def test_totp_google_authenticator(ctx):
    u = ctx.make_user()
    secret = _b32key()
    scratch = ["%08d" % (10000000 + secrets.randbelow(89999999))
               for _ in range(3)]
    path = _ga_file(u, "%s\n\" RATE_LIMIT 10 30\n\" DISALLOW_REUSE\n"
                    "\" TOTP_AUTH\n%s\n" % (secret, "\n".join(scratch)))
    # No users file: the secret comes from ~/.google_authenticator.
    _start(ctx, os.path.join(ctx.dir, "absent.oath"))
    now = time.time()
    code = _totp(secret, base32=True, when=now)
    p = _login(ctx, u, code)
    check(_admitted(p), "publickey + the right code from "
          "~/.google_authenticator should log in: rc %s %r %s"
          % (p.returncode, p.stdout, p.stderr[-300:]))
    check(ctx.wait_log(r"^Partial publickey for %s " % u.name, 5),
          "the key alone must be only partial success")
    st = os.stat(path)
    check(st.st_uid == u.uid and (st.st_mode & 0o777) == 0o400,
          "the rewritten file must stay the user's, mode 0400: uid %d "
          "mode %o" % (st.st_uid, st.st_mode & 0o777))
    text = _read(path)
    check(re.search(r'^" DISALLOW_REUSE \d+$', text, re.M) and
          re.search(r'^" RATE_LIMIT 10 30 \d+$', text, re.M) and
          text.startswith(secret + "\n"),
          "state not recorded in the file:\n%s" % text)
    check(not [f for f in os.listdir(u.home)
               if f.startswith(".google_authenticator~")],
          "a temporary file was left behind")

    p = _login(ctx, u, code)
    check(_refused(p), "the same code again must be refused (DISALLOW_REUSE)")
    check(ctx.wait_log(r"totp: verification code for user %s was already "
                       r"used" % u.name, 5), "no 'already used' log line")

    p = _login(ctx, u, _wrong([_totp(secret, s, base32=True, when=now)
                               for s in (-1, 0, 1)]))
    check(_refused(p), "a wrong code must be refused")
    check(ctx.wait_log(r"totp: wrong verification code for user %s "
                       % u.name, 5), "no log line for the wrong code")

    p = _login(ctx, u, scratch[1])
    check(_admitted(p), "a scratch code should log in: rc %s %s"
          % (p.returncode, p.stderr[-300:]))
    check(ctx.wait_log(r"totp: accepted scratch code for user %s \(.*, 2 "
                       r"left\)" % u.name, 5), "no log line for the scratch "
          "code")
    check(scratch[1] not in _read(path) and scratch[0] in _read(path),
          "the used scratch code must be removed, the others kept:\n%s"
          % _read(path))
    p = _login(ctx, u, scratch[1])
    check(_refused(p), "a scratch code must work only once")

    r = ctx.ssh(u, "echo ok")
    check(r.rc == 255, "publickey alone must not log in: rc %s" % r.rc)
    check(_count(ctx, r"^Accepted keyboard-interactive for %s " % u.name)
          == 2, "exactly two logins should have been accepted")


def test_totp_google_authenticator_hotp(ctx):
    """HOTP_COUNTER in ~/.google_authenticator: a code in the window logs
    in and moves the counter past it; as libpam, a wrong code moves the
    counter on by one too, so a guesser's window keeps moving (review:
    the same codes stayed valid whatever was tried)."""
    u = ctx.make_user()
    secret = _b32key()
    path = _ga_file(u, "%s\n\" HOTP_COUNTER 1\n" % secret, mode=0o600)
    _start(ctx, os.path.join(ctx.dir, "absent.oath"))

    def hotp(n):
        return _oathtool("--hotp", "-b", "-c", str(n), secret)

    def counter():
        m = re.search(r'^" HOTP_COUNTER (\d+)$', _read(path), re.M)
        return int(m.group(1)) if m else None

    p = _login(ctx, u, hotp(2))
    check(_admitted(p), "the code for counter 2 (in the window from 1) "
          "should log in: rc %s %s" % (p.returncode, p.stderr[-300:]))
    check(counter() == 3, "after the code for 2 the counter is %r, want 3"
          % counter())
    p = _login(ctx, u, _wrong([hotp(n) for n in range(3, 6)]))
    check(_refused(p), "a wrong code must be refused")
    check(counter() == 4, "a wrong code left the counter at %r, want 4 "
          "(moved on by one, as libpam)" % counter())
    p = _login(ctx, u, hotp(3))
    check(_refused(p), "the code the wrong one skipped must be refused")
    p = _login(ctx, u, hotp(5))
    check(_admitted(p), "the code for 5 (in the window from 5) should log "
          "in: rc %s %s" % (p.returncode, p.stderr[-300:]))
    check(counter() == 6, "after the code for 5 the counter is %r, want 6"
          % counter())


def test_totp_no_enrolment(ctx):
    u = ctx.make_user()
    other = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 someone_else - %s" % other])
    _start(ctx, path)
    p = _login(ctx, u, _totp(other))
    check(_refused(p), "a user with no enrolment must be refused: rc %s"
          % p.returncode)
    check(ctx.wait_log(r"totp: no TOTP enrolment for user %s$" % u.name, 5),
          "no log line saying the user has no enrolment")
    check(ctx.wait_log(r"^Failed keyboard-interactive for %s " % u.name, 5),
          "no 'Failed keyboard-interactive' line")
    check(_read(path) == "HOTP/T30 someone_else - %s\n" % other,
          "the users file changed")


def test_totp_invalid_user(ctx):
    # In the users file, but not an account: never let through, file untouched.
    name = "ptst_nouser_" + secrets.token_hex(3)
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (name, key)])
    _start(ctx, path, methods="keyboard-interactive:totp")
    p = _login(ctx, name, _totp(key))
    check(_refused(p), "an invalid user must be refused: rc %s"
          % p.returncode)
    check(ctx.wait_log(r"totp: no TOTP enrolment for invalid user %s$"
                       % name, 5), "no log line for the invalid user")
    check(ctx.wait_log(r"^Failed keyboard-interactive for invalid user %s "
                       % name, 5), "no 'Failed keyboard-interactive for "
          "invalid user' line")
    check(_read(path) == "HOTP/T30 %s - %s\n" % (name, key),
          "the users file changed for an invalid user")


def test_totp_root_needs_permitrootlogin_yes(ctx):
    """Root's code is checked only with PermitRootLogin yes, as OpenSSH
    gives PAM a stand-in answer: otherwise a right code is refused on the
    same path as a wrong one (no "ROOT LOGIN REFUSED" telling them apart)
    and is not used up."""
    name = "ptrt_" + secrets.token_hex(3)
    # Password "*": not a locked account (which is refused before TOTP).
    harness.run(["useradd", "-o", "-u", "0", "-g", "0", "-M", "-d", "/root",
                 "-s", "/bin/bash", "-p", "*", name])
    ctx.cleanups.append(lambda: subprocess.run(["userdel", "-f", name],
                                               capture_output=True))
    key = _hexkey()
    entry = "HOTP/T30 %s - %s" % (name, key)
    path = _users_file(ctx, [entry])
    extra = ["TOTPUsersFile " + path, "KbdInteractiveAuthentication yes",
             "AuthenticationMethods keyboard-interactive:totp"]
    ctx.start_server(extra_config=extra +
                     ["PermitRootLogin prohibit-password"])
    code = _totp(key)
    p = _login(ctx, name, code)
    check(_refused(p), "root's right code must not log in under "
          "prohibit-password: rc %s" % p.returncode)
    check(ctx.wait_log(r"totp: code for %s not checked: PermitRootLogin "
                       % name, 5), "no log line for root's unchecked code")
    check(ctx.wait_log(r"^Failed keyboard-interactive for %s from "
                       % name, 5), "no 'Failed keyboard-interactive' line")
    check("ROOT LOGIN REFUSED" not in ctx.server_log(),
          "the log must not say whether root's code was right")
    check(_read(path) == entry + "\n",
          "root's code was used up although it was not checked")
    # Control: with PermitRootLogin yes the same code logs in.
    ctx.stop_server()
    ctx.start_server(extra_config=extra + ["PermitRootLogin yes"])
    p = _login(ctx, name, code)
    check(_admitted(p), "PermitRootLogin yes: root's right code must log "
          "in: rc %s %s" % (p.returncode, p.stderr[-300:]))


def test_totp_google_authenticator_refused_files(ctx):
    u = ctx.make_user()
    secret = _b32key()
    path = _ga_file(u, "%s\n\" TOTP_AUTH\n" % secret, mode=0o644)
    _start(ctx, os.path.join(ctx.dir, "absent.oath"))
    p = _login(ctx, u, _totp(secret, base32=True))
    check(_refused(p), "a world-readable ~/.google_authenticator must be "
          "refused: rc %s" % p.returncode)
    check(ctx.wait_log(r"totp: bad ownership or modes for file %s$"
                       % re.escape(path), 5), "no log line for the modes")

    # A symbolic link (to a file that would pass) is refused too.
    real = os.path.join(u.home, "ga_real")
    os.rename(path, real)
    os.chmod(real, 0o400)
    os.symlink(real, path)
    os.lchown(path, u.uid, u.gid)
    p = _login(ctx, u, _totp(secret, base32=True))
    check(_refused(p), "a symlinked ~/.google_authenticator must be refused")
    check(ctx.wait_log(r"totp: %s refused: a symbolic link"
                       % re.escape(path), 5), "no log line for the link")


def test_totp_google_authenticator_rate_limit(ctx):
    u = ctx.make_user()
    secret = _b32key()
    path = _ga_file(u, "%s\n\" RATE_LIMIT 1 30\n\" TOTP_AUTH\n" % secret)
    _start(ctx, os.path.join(ctx.dir, "absent.oath"))
    now = time.time()
    p = _login(ctx, u, _wrong([_totp(secret, s, base32=True, when=now)
                               for s in (-1, 0, 1)]))
    check(_refused(p), "a wrong code must be refused")
    p = _login(ctx, u, _totp(secret, base32=True))
    check(_refused(p), "a second attempt inside RATE_LIMIT 1 30 must be "
          "refused even with the right code: rc %s" % p.returncode)
    check(ctx.wait_log(r"totp: too many login attempts for user %s "
                       r"\(RATE_LIMIT in %s\)" % (u.name, re.escape(path)),
                       5), "no log line for the rate limit")


def test_totp_users_file_in_match_and_window(ctx):
    """TOTPUsersFile and TOTPWindow take effect from a Match block; with
    TOTPWindow 0 a code from the previous 30 s step is refused, with the
    default window of 1 it is accepted."""
    u, v = ctx.make_user(), ctx.make_user()
    key_u, key_v = _hexkey(), _hexkey()
    users = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key_u),
                              "HOTP/T30 %s - %s" % (v.name, key_v)])
    ctx.start_server(extra_config=[
        "KbdInteractiveAuthentication yes",
        "AuthenticationMethods publickey,keyboard-interactive:totp",
        "TOTPUsersFile /nonexistent/users.oath",
        "Match User %s" % u.name,
        "\tTOTPUsersFile %s" % users,
        "\tTOTPWindow 0",
        "Match User %s" % v.name,
        "\tTOTPUsersFile %s" % users])

    check(_refused(_login(ctx, u, _totp(key_u, steps=-1,
                                        when=_clear_of_boundary()))),
          "TOTPWindow 0 (from Match) accepted the previous step's code")
    check(_admitted(_login(ctx, u, _totp(key_u, when=_clear_of_boundary()))),
          "the current code, from the Match block's users file, refused")
    check(_admitted(_login(ctx, v, _totp(key_v, steps=-1,
                                         when=_clear_of_boundary()))),
          "the default TOTPWindow 1 refused the previous step's code")


def test_totp_paramiko_second_factor(ctx):
    """paramiko asks for the ssh-userauth service again before its second
    method: as OpenSSH's sshd, that is accepted until authentication is
    done, so paramiko's key + code login works (it used to be ended with
    "bad service request")."""
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    _start(ctx, path)
    r = _paramiko_result(_paramiko(ctx, u, _totp(key)))
    check(r["ok"] and r["partial"] == ["keyboard-interactive"] and
          r["prompts"] == ["Verification code: "],
          "paramiko's publickey + TOTP login failed: %r" % r)
    check(ctx.wait_log(r"^Partial publickey for %s " % u.name, 5) and
          ctx.wait_log(r"^Accepted keyboard-interactive for %s " % u.name,
                       5), "no Partial/Accepted lines for paramiko's login")
    check("bad service request" not in ctx.server_log(),
          "the second ssh-userauth service request was refused")


# paramiko: the key, then an INFO_RESPONSE broken as spec["mode"] says.
_BROKEN_RESPONSE = r'''
import json, socket, sys
import paramiko
from paramiko import auth_handler
from paramiko.common import (MSG_USERAUTH_INFO_REQUEST,
                             cMSG_USERAUTH_INFO_RESPONSE)
from paramiko.message import Message

spec = json.loads(sys.argv[1])
mode = spec["mode"]


def broken(self, m):
    m.get_text(), m.get_text(), m.get_string()
    n = m.get_int()
    r = Message()
    r.add_byte(cMSG_USERAUTH_INFO_RESPONSE)
    if mode == "nothing":
        pass
    elif mode == "no answers":
        r.add_int(n)
    elif mode == "two answers":
        r.add_int(n + 1)
        for _ in range(n + 1):
            r.add_string("123456")
    elif mode == "101 answers":
        r.add_int(101)
        for _ in range(101):
            r.add_string("123456")
    elif mode == "NUL in answer":
        r.add_int(n)
        for _ in range(n):
            r.add_string(b"123\x00456")
    elif mode == "trailing byte":
        r.add_int(n)
        for _ in range(n):
            r.add_string("123456")
        r.add_byte(b"\0")
    self.transport._send_message(r)


auth_handler.AuthHandler._client_handler_table[
    MSG_USERAUTH_INFO_REQUEST] = broken
s = socket.create_connection(("127.0.0.1", spec["port"]), timeout=30)
t = paramiko.Transport(s)
t.start_client(timeout=20)
try:
    t.auth_publickey(spec["user"],
                     paramiko.Ed25519Key.from_private_key_file(spec["key"]))
    t.auth_interactive(spec["user"], lambda *a: [])
    print("authenticated", flush=True)
except Exception as e:
    print("refused: %s: %s" % (type(e).__name__, e), flush=True)
t.close()
'''


def test_totp_malformed_info_response(ctx):
    """A broken INFO_RESPONSE is the client's fault: the connection ends
    with sshd 9.2's line for each case (its fatal() in
    input_userauth_info_response, seen side by side), not the monitor's
    "bad message from preauth" (which means a hostile preauth process),
    and the server goes on serving."""
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    _start(ctx, path)
    cases = [
        ("nothing", "parse packet: incomplete message"),
        ("no answers", "parse response: incomplete message"),
        ("two answers", "wrong number of replies"),
        ("101 answers", "wrong number of replies"),
        ("NUL in answer", "parse response: invalid format"),
        ("trailing byte",
         "parse packet: unexpected bytes remain after decoding"),
    ]
    for mode, why in cases:
        spec = json.dumps({"port": ctx.port, "user": u.name, "key": u.key,
                           "mode": mode})
        p = subprocess.run(["/usr/bin/python3", "-c", _BROKEN_RESPONSE,
                            spec], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60)
        check(p.stdout.startswith("refused"),
              "%s: the login was not refused: %r %r"
              % (mode, p.stdout, p.stderr[-300:]))
        check(ctx.wait_log(r"^input_userauth_info_response: %s \[preauth\]$"
                           % re.escape(why), 5),
              "%s: no 'input_userauth_info_response: %s [preauth]' line"
              % (mode, why))
    check(_count(ctx, r"^input_userauth_info_response: ") == len(cases),
          "one line per broken response expected")
    check("bad message" not in ctx.server_log(),
          "a client's broken INFO_RESPONSE reached the monitor")
    check(_count(ctx, r"^Failed keyboard-interactive") == 0,
          "a broken INFO_RESPONSE is not a failed code (sshd logs none)")
    p = _login(ctx, u, _totp(key))
    check(_admitted(p), "the server no longer serves a good login: rc %s %s"
          % (p.returncode, p.stderr[-300:]))


def test_totp_concurrent_logins_one_code(ctx):
    """Several connections answering the same code at the same moment:
    exactly one gets in, from the users file, from ~/.google_authenticator
    with DISALLOW_REUSE, and with one scratch code (the file's lock
    serialises the monitors)."""
    u, g = ctx.make_user(), ctx.make_user()
    key, secret = _hexkey(), _b32key()
    scratch = "%08d" % (10000000 + secrets.randbelow(89999999))
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    _ga_file(g, "%s\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n%s\n"
             % (secret, scratch))
    _start(ctx, path)
    for who, code in ((u, _totp(key)), (g, _totp(secret, base32=True)),
                      (g, scratch)):
        at = time.time() + 3
        procs = [_paramiko(ctx, who, code, at=at) for _ in range(4)]
        rs = [_paramiko_result(p) for p in procs]
        check(all(r["partial"] == ["keyboard-interactive"] for r in rs),
              "not every connection got past the key: %r" % rs)
        check(sum(1 for r in rs if r["ok"]) == 1,
              "%s: the same code at the same moment must let exactly one "
              "connection in: %r" % (code, [r["ok"] for r in rs]))


def test_totp_failure_counted_by_fail2ban(ctx):
    """At LogLevel INFO each wrong code of a valid user logs 'Failed
    keyboard-interactive ...', which fail2ban's sshd filter counts: under
    sshd a second factor through PAM logs 'error: PAM: Authentication
    failure ...' each time, and without either a wrong code would be
    counted only from half MaxAuthTries on (sshd's auth_log rule)."""
    from test_fail2ban import _failures
    u = ctx.make_user()
    key = _hexkey()
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key)])
    ctx.write_config(["TOTPUsersFile " + path,
                      "Include " + os.path.abspath(RECIPE)])
    with open(ctx.config_path) as f:
        text = f.read()
    with open(ctx.config_path, "w") as f:
        f.write(text.replace("LogLevel DEBUG1", "LogLevel INFO"))
    ctx.launch_server()
    now = time.time()
    wrong = _wrong([_totp(key, s, when=now) for s in (-2, -1, 0, 1, 2)])
    for _ in range(2):
        check(_refused(_login(ctx, u, wrong)), "a wrong code was admitted")
    rx = (r"^Failed keyboard-interactive for %s from 127\.0\.0\.1 port \d+ "
          r"ssh2$" % u.name)
    check(harness.poll_until(lambda: _count(ctx, rx) == 2, 5),
          "want one INFO 'Failed keyboard-interactive' line per wrong code:"
          "\n%s" % harness.tail(ctx.server_log()))
    # The lines as syslog would carry them, through fail2ban's filter.
    log = os.path.join(ctx.dir, "auth.log")
    with open(log, "w") as f:
        for line in ctx.server_log().splitlines():
            f.write("Nov 23 08:00:00 host sshd[4242]: %s\n" % line)
    got = [m for m in _failures(log, "normal")
           if m.startswith("Failed keyboard-interactive for %s " % u.name)]
    check(len(got) == 2, "fail2ban counted %r" % got)


@harness.timeout(90)
def test_totp_users_file_secrets_leave_no_trace_in_monitor(ctx):
    """The users file holds every user's secret. liboath reads it with
    stdio and frees its lines unwiped, so after one login's check the
    monitor kept other users' keys in its heap for the whole session.
    The file is now read in a child process of its own: the monitor of a
    logged-in user holds no other user's key."""
    u = ctx.make_user()
    key, other = _hexkey(), secrets.token_hex(32)
    path = _users_file(ctx, ["HOTP/T30 %s - %s" % (u.name, key),
                             "HOTP/T30 rvsomeoneelse - %s" % other])
    _start(ctx, path)
    argv = ctx.ssh_argv(u, "echo in; sleep 60", batch=False,
                        extra=("-o", "KbdInteractiveAuthentication=yes",
                               "-o", "PreferredAuthentications="
                                     "publickey,keyboard-interactive",
                               "-o", "NumberOfPasswordPrompts=1"))
    p = ctx.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE, env=_askpass(ctx, _totp(key)))
    try:
        check(p.stdout.readline() == b"in\n", "the login failed")
        monitors = harness.children(ctx.proc.pid)
        check(len(monitors) == 1, "want one monitor, got %r" % monitors)
        found, _ = harness.scan_memory(
            monitors[0], [other.encode(), bytes.fromhex(other),
                          u.name.encode()])
        check(found[u.name.encode()],
              "the scan did not find the user's own name: no heap read?")
        check(not found[other.encode()] and
              not found[bytes.fromhex(other)],
              "another user's key is in the monitor: %r"
              % {k[:8]: v[:3] for k, v in found.items() if v})
    finally:
        p.kill()
        p.wait(10)


def test_totp_google_authenticator_tool_file_shared_with_pam(ctx):
    """A ~/.google_authenticator written by the real google-authenticator
    tool (libpam-google-authenticator: a 26-character secret, WINDOW_SIZE,
    RATE_LIMIT, DISALLOW_REUSE, emergency codes) works with
    keyboard-interactive:totp, and what postern writes back is read by
    the real pam_google_authenticator.so behind keyboard-interactive:pam,
    and the other way round: a user can move between the two setups with
    the same file, no code accepted twice."""
    u = ctx.make_user()
    path = os.path.join(u.home, ".google_authenticator")
    harness.run(["runuser", "-u", u.name, "--", "google-authenticator",
                 "-t", "-d", "-f", "-C", "-q", "-Q", "NONE", "-w", "3",
                 "-r", "10", "-R", "30", "-e", "3", "-s", path],
                stdin=subprocess.DEVNULL)
    lines = _read(path).splitlines()
    secret, scratch = lines[0], [l for l in lines[1:] if l.isdigit()]
    check(len(secret) == 26 and len(scratch) == 3 and
          '" TOTP_AUTH' in lines and '" WINDOW_SIZE 3' in lines,
          "google-authenticator wrote %r" % lines)
    # This step's code, then the next one's: both stay in the window of
    # three steps however the clock moves during the test.
    now = time.time()
    step = [_totp(secret, s, base32=True, when=now) for s in (0, 1)]

    _start(ctx, os.path.join(ctx.dir, "absent.oath"))
    p = _login(ctx, u, step[0])
    check(_admitted(p), "keyboard-interactive:totp, the tool's file: rc %s "
          "%s" % (p.returncode, p.stderr[-300:]))
    p = _login(ctx, u, scratch[0])
    check(_admitted(p), "an emergency code: rc %s %s"
          % (p.returncode, p.stderr[-300:]))

    svc = ctx.pam_service(["auth required pam_google_authenticator.so",
                           "account required pam_unix.so",
                           "session required pam_unix.so"])
    ctx.stop_server()
    ctx.start_server(extra_config=[
        "UsePAM yes", "PAMServiceName " + svc,
        "KbdInteractiveAuthentication yes",
        "AuthenticationMethods publickey,keyboard-interactive:pam"])
    for code, what in ((step[0], "the code postern took"),
                       (scratch[0], "the emergency code postern took")):
        p = _login(ctx, u, code)
        check(_refused(p), "pam_google_authenticator accepted %s: the "
              "state postern wrote was not understood" % what)
    p = _login(ctx, u, step[1])
    check(_admitted(p), "pam_google_authenticator, the next step's code: "
          "rc %s %s" % (p.returncode, p.stderr[-300:]))
    p = _login(ctx, u, scratch[1])
    check(_admitted(p), "pam_google_authenticator, an emergency code: rc "
          "%s %s" % (p.returncode, p.stderr[-300:]))
    st = os.stat(path)
    check(st.st_uid == u.uid, "the PAM module left the file to uid %d"
          % st.st_uid)

    ctx.stop_server()
    _start(ctx, os.path.join(ctx.dir, "absent.oath"))
    for code, what in ((step[1], "the code PAM took"),
                       (scratch[1], "the emergency code PAM took")):
        p = _login(ctx, u, code)
        check(_refused(p), "keyboard-interactive:totp accepted %s" % what)
    p = _login(ctx, u, scratch[2])
    check(_admitted(p), "keyboard-interactive:totp after PAM, the last "
          "emergency code: rc %s %s" % (p.returncode, p.stderr[-300:]))
    check(not [l for l in _read(path).splitlines() if l.isdigit()],
          "emergency codes left: %r" % _read(path))
