"""
test_keys_command_bounds.py: postern's bounds on one run of
AuthorizedKeysCommand or AuthorizedPrincipalsCommand (lib/authcmd.c,
docs/sshd_config.md): at most 1 MiB of output and 30 seconds. A command
past either bound is killed, its output ignored (even a matching line
before the bound), with a log line. sshd has no such bounds and no knob
for them, so neither has postern: the 30 s tests wait for the real bound,
once per command kind (the suite runs them in parallel with the rest).
"""

import os
import re
import secrets
import shutil

import harness
from harness import check, timeout

MAX_OUTPUT = 1024 * 1024


def _cmd_dir(ctx):
    d = "/run/postern-it-bounds-" + secrets.token_hex(4)
    os.mkdir(d, 0o755)
    os.chmod(d, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


def _script(d, name, body):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, 0o755)
    return path


def _pub(path):
    with open(path) as f:
        return f.read().strip()


def _padding(nbytes):
    """Shell lines that print nbytes of authorized_keys comment lines."""
    line = "#" + "x" * 1022 + "\n"  # 1024 bytes
    full, rest = divmod(nbytes, len(line))
    body = ("i=0; while [ $i -lt %d ]; do printf '%%s\\n' '%s'; "
            "i=$((i+1)); done\n" % (full, line[:-1]))
    if rest:
        body += "printf '%%s\\n' '#%s'\n" % ("y" * (rest - 2))
    return body


def _login(ctx, u, key, want_ok, what, timeout_s=30):
    r = ctx.ssh(u, "echo ok", key=key, timeout_s=timeout_s)
    if want_ok:
        check(r.rc == 0 and r.stdout == b"ok\n",
              "%s: login should work: rc %s %r" % (what, r.rc, r.err[-300:]))
    else:
        check(r.rc == 255 and r.stdout == b"",
              "%s: login should be refused: rc %s %r"
              % (what, r.rc, r.stdout))


def _gone(pidfile):
    """1 if the process whose pid the command wrote is no longer there."""
    with open(pidfile) as f:
        pid = int(f.read().strip())
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_keys_command_output_bound(ctx):
    u = ctx.make_user(with_key=False)
    pub = _pub(u.pubkey)
    d = _cmd_dir(ctx)
    keyline = pub + "\n"
    # Just under the bound, the key last: accepted.
    under = _script(d, "under", _padding(MAX_OUTPUT - len(keyline)) +
                    "echo '%s'\n" % pub)
    # Over the bound, the key first: refused, though it matched.
    over = _script(d, "over", "echo '%s'\n" % pub + _padding(MAX_OUTPUT))
    ctx.start_server(extra_config=["AuthorizedKeysCommand %s" % under,
                                   "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, True, "exactly 1 MiB of output")
    ctx.stop_server()
    mark = len(ctx.server_log())
    ctx.start_server(extra_config=["AuthorizedKeysCommand %s" % over,
                                   "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, False, "more than 1 MiB of output")
    check(ctx.wait_log(r"^AuthorizedKeysCommand %s %s printed more "
                       r"than %d bytes; killed$"
                       % (re.escape(over), u.name, MAX_OUTPUT), 5),
          "no log line for the over-long output")
    check(not re.search(r"^Accepted ", ctx.server_log()[mark:], re.M),
          "a key from the refused output was accepted")


def _principals_setup(ctx):
    u = ctx.make_user(with_key=False)
    ca = os.path.join(ctx.dir, "bounds_ca")
    key = os.path.join(ctx.dir, "bounds_user")
    for path in (ca, key):
        harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                     path])
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "bounds", "-n",
                 "team-a", key + ".pub"])
    base = ["TrustedUserCAKeys %s.pub" % ca,
            "AuthorizedPrincipalsCommandUser nobody"]
    return u, key, base


def test_principals_command_output_bound(ctx):
    u, key, base = _principals_setup(ctx)
    d = _cmd_dir(ctx)
    ok = _script(d, "ok", _padding(MAX_OUTPUT - 7) + "echo team-a\n")
    over = _script(d, "over", "echo team-a\n" + _padding(MAX_OUTPUT))
    ctx.start_server(extra_config=base + [
        "AuthorizedPrincipalsCommand %s" % ok])
    _login(ctx, u, key, True, "principal at the end of 1 MiB")
    ctx.stop_server()
    ctx.start_server(extra_config=base + [
        "AuthorizedPrincipalsCommand %s" % over])
    _login(ctx, u, key, False, "principals past 1 MiB")
    check(ctx.wait_log(r"^AuthorizedPrincipalsCommand %s %s printed "
                       r"more than %d bytes; killed$"
                       % (re.escape(over), u.name, MAX_OUTPUT), 5),
          "no log line for the over-long output")


@timeout(100)
def test_keys_command_time_bound(ctx):
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    pidfile = os.path.join(d, "pid")
    kidfile = os.path.join(d, "kid")
    # The key at once, then it never finishes: the output is not used.
    # A child of its own, left in the background, holds the pipe too.
    slow = _script(d, "slow", "echo $$ > %s\nsleep 300 &\necho $! > %s\n"
                   "echo '%s'\nexec sleep 300\n"
                   % (pidfile, kidfile, _pub(u.pubkey)))
    for f in (pidfile, kidfile):  # nobody writes the pid files
        open(f, "w").close()
        os.chmod(f, 0o666)
    ctx.start_server(extra_config=["AuthorizedKeysCommand %s" % slow,
                                   "AuthorizedKeysCommandUser nobody"])
    _login(ctx, u, u.key, False, "a command that never ends", timeout_s=80)
    check(ctx.wait_log(r"^AuthorizedKeysCommand %s %s timed out "
                       r"after 30 seconds; killed$"
                       % (re.escape(slow), u.name), 5),
          "no log line for the timeout")
    check(harness.poll_until(lambda: _gone(pidfile), 5),
          "the timed-out command is still running")
    check(harness.poll_until(lambda: _gone(kidfile), 5),
          "the timed-out command's own child is still running")


@timeout(100)
def test_principals_command_time_bound(ctx):
    u, key, base = _principals_setup(ctx)
    d = _cmd_dir(ctx)
    slow = _script(d, "slow", "echo team-a\nexec sleep 300\n")
    ctx.start_server(extra_config=base + [
        "AuthorizedPrincipalsCommand %s" % slow])
    _login(ctx, u, key, False, "a principals command that never ends",
           timeout_s=80)
    check(ctx.wait_log(r"^AuthorizedPrincipalsCommand %s %s timed "
                       r"out after 30 seconds; killed$"
                       % (re.escape(slow), u.name), 5),
          "no log line for the timeout")


@timeout(100)
def test_keys_command_ended_with_grace_time(ctx):
    """LoginGraceTime ends the monitor while AuthorizedKeysCommand runs:
    the command goes too, and so does a child it started (its own
    session). sshd 9.2 (seen side by side) ends both, its
    grace_alarm_handler's kill(0, SIGTERM); postern's PR_SET_PDEATHSIG
    ended only the command, and its child ran on as the command's user
    after the login was over, one more for each such connection."""
    u = ctx.make_user(with_key=False)
    d = _cmd_dir(ctx)
    pidfile = os.path.join(d, "pid")
    kidfile = os.path.join(d, "kid")
    slow = _script(d, "slow", "echo $$ > %s\nsleep 60 &\necho $! > %s\n"
                   "exec sleep 60\n" % (pidfile, kidfile))
    for f in (pidfile, kidfile):  # nobody writes the pid files
        open(f, "w").close()
        os.chmod(f, 0o666)
    ctx.start_server(extra_config=["AuthorizedKeysCommand %s" % slow,
                                   "AuthorizedKeysCommandUser nobody",
                                   "LoginGraceTime 2"])
    _login(ctx, u, u.key, False, "a command past LoginGraceTime",
           timeout_s=40)
    check(ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.1 "
                       r"port \d+$", 10), "no timeout line")
    check(harness.poll_until(lambda: _gone(pidfile), 5),
          "the command is still running")
    check(harness.poll_until(lambda: _gone(kidfile), 5),
          "the command's own child is still running after LoginGraceTime")
