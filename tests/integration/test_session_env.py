"""
test_session_env.py: the login environment with the real OpenSSH client:
SendEnv/AcceptEnv, SetEnv, ~/.ssh/environment and environment= with
PermitUserEnvironment, ~/.ssh/rc (and no-user-rc), motd and the last
login line on an interactive login, utmp/wtmp records (who, last),
ExposeAuthInfo.
"""

import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import check, poll_until, run, timeout

from test_chroot import _sftp
from test_pty import _TtyClient


def _env_of(ctx, u, extra=(), env=None):
    """The remote `env` output as a dict."""
    argv = ctx.ssh_argv(u, "env", extra=extra)
    p = subprocess.run(argv, capture_output=True, timeout=30, env=env,
                       stdin=subprocess.DEVNULL)
    check(p.returncode == 0, "ssh env: rc %s %r" % (p.returncode, p.stderr))
    out = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def _monitor_pty_masters(ctx):
    """How many pty masters the server's root processes (the monitors:
    real uid 0, among the server's descendants) hold open."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    todo, n = [ctx.proc.pid], 0
    while todo:
        pid = todo.pop()
        todo += kids.get(pid, [])
        try:
            with open("/proc/%d/status" % pid) as f:
                uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
            if uid != "0":
                continue
            for fd in os.listdir("/proc/%d/fd" % pid):
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) in \
                        ("/dev/ptmx", "/dev/pts/ptmx"):
                    n += 1
        except (OSError, IndexError):
            continue
    return n


def _write_user_file(u, rel, text, mode=0o644):
    path = os.path.join(u.home, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, u.uid, u.gid)
    os.chmod(path, mode)
    return path


def test_env_login_variables(ctx):
    ctx.start_server()
    u = ctx.make_user()
    e = _env_of(ctx, u)
    want = {"USER": u.name, "LOGNAME": u.name, "HOME": u.home,
            "SHELL": "/bin/bash", "MAIL": "/var/mail/" + u.name,
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/games"}
    for k, v in want.items():
        check(e.get(k) == v, "%s=%r, want %r" % (k, e.get(k), v))
    check(re.match(r"^127\.0\.0\.1 \d+ %d$" % ctx.port,
                   e.get("SSH_CLIENT", "")), "SSH_CLIENT=%r"
          % e.get("SSH_CLIENT"))
    check(re.match(r"^127\.0\.0\.1 \d+ 127\.0\.0\.1 %d$" % ctx.port,
                   e.get("SSH_CONNECTION", "")), "SSH_CONNECTION=%r"
          % e.get("SSH_CONNECTION"))
    for k in ("SSH_TTY", "SSH_ORIGINAL_COMMAND", "SSH_USER_AUTH"):
        check(k not in e, "%s set without reason: %r" % (k, e.get(k)))


def test_env_empty_home_field(ctx):
    """An account whose passwd home field is empty: as sshd, HOME is
    empty (posternd set "/"), the session says it could not chdir to it
    and runs in /."""
    u = ctx.make_user()
    # (StrictModes: a root-owned path without world-writable parents)
    keydir = tempfile.mkdtemp(prefix="postern-it-", dir="/run")
    os.chmod(keydir, 0o755)
    keys = os.path.join(keydir, "keys")
    shutil.copyfile(os.path.join(u.home, ".ssh", "authorized_keys"), keys)
    os.chmod(keys, 0o644)

    def home(value):
        def put(line):
            f = line.split(":")
            if f[0] == u.name:
                f[5] = value
            return ":".join(f)
        harness.edit_account_file("/etc/passwd",
                                  lambda lines: [put(l) for l in lines])
    home("")
    try:
        _empty_home(ctx, u, keys)
    finally:
        home(u.home)   # for userdel -r
        shutil.rmtree(keydir)


def _empty_home(ctx, u, keys):
    ctx.start_server(extra_config=["Match User " + u.name,
                                   "  AuthorizedKeysFile " + keys])
    p = subprocess.run(ctx.ssh_argv(u, "echo HOME=[$HOME]; pwd"),
                       capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    check(p.returncode == 0 and p.stdout == b"HOME=[]\n/\n" and
          b"Could not chdir to home directory : No such file or directory"
          in p.stderr, "rc %s, stdout %r, stderr %r"
          % (p.returncode, p.stdout, p.stderr))


def test_umask_clamped_as_sshd(ctx):
    """Started with umask 000 (a shell's, a container's entry point), the
    server clamps it as sshd does (umask(umask(077) | 022)): a command
    sees 0022, and what internal-sftp creates is not group or world
    writable. Before, both were 0000 and files came out 0666."""
    u = ctx.make_user()
    ctx.write_config(extra=["Subsystem sftp internal-sftp"])
    ctx.launch_server(umask=0)
    ctx.ssh_ok(u, "umask", expect_out=b"0022\n")
    src = os.path.join(ctx.dir, "src")
    with open(src, "w") as f:
        f.write("x\n")
    os.chmod(src, 0o666)  # sftp asks for the local file's mode
    r = _sftp(ctx, u, "mkdir d\nput %s f\n" % src)
    check(r.returncode == 0, "sftp failed: %r" % r.stderr[-300:])
    for name, want in (("d", 0o755), ("f", 0o644)):
        mode = os.stat(os.path.join(u.home, name)).st_mode & 0o777
        check(mode == want, "%s made with mode %o, want %o"
              % (name, mode, want))


def test_env_accept_and_set(ctx):
    ctx.start_server(["AcceptEnv LC_POSTERN_* POSTERN_OK",
                      "SetEnv POSTERN_SET=from-config POSTERN_OK=admin-wins"])
    u = ctx.make_user()
    env = dict(os.environ, LC_POSTERN_A="alpha", POSTERN_NO="nope",
               POSTERN_OK="client", HOME=os.environ.get("HOME", "/root"))
    e = _env_of(ctx, u, env=env,
                extra=["-o", "SendEnv=LC_POSTERN_A POSTERN_NO POSTERN_OK",
                       "-o", "SetEnv=USER=spoofed"])
    check(e.get("LC_POSTERN_A") == "alpha",
          "accepted variable missing: %r" % e.get("LC_POSTERN_A"))
    check("POSTERN_NO" not in e, "variable not in AcceptEnv passed")
    check(e.get("USER") == u.name, "client overrode USER: %r" % e.get("USER"))
    check(e.get("POSTERN_SET") == "from-config", "SetEnv: %r"
          % e.get("POSTERN_SET"))
    check(e.get("POSTERN_OK") == "admin-wins",
          "SetEnv must override AcceptEnv: %r" % e.get("POSTERN_OK"))


def test_env_user_environment(ctx):
    # PermitUserEnvironment no (the default): nothing from the user.
    ctx.start_server()
    u = ctx.make_user(with_key=False)
    ctx.authorize(u, u.pubkey, options='environment="KEYVAR=from-key"')
    _write_user_file(u, ".ssh/environment",
                     "# comment\nFILEVAR=from-file\n\nLANG=C.UTF-8\n",
                     0o600)
    e = _env_of(ctx, u)
    check("FILEVAR" not in e and "KEYVAR" not in e,
          "PermitUserEnvironment no, yet: %r %r"
          % (e.get("FILEVAR"), e.get("KEYVAR")))
    ctx.stop_server()
    # yes: both, the file after the key option.
    ctx.start_server(["PermitUserEnvironment yes"])
    e = _env_of(ctx, u)
    check(e.get("FILEVAR") == "from-file", "FILEVAR=%r" % e.get("FILEVAR"))
    check(e.get("KEYVAR") == "from-key", "KEYVAR=%r" % e.get("KEYVAR"))
    check(e.get("LANG") == "C.UTF-8", "LANG=%r" % e.get("LANG"))
    ctx.stop_server()
    # A pattern list: only the names that match.
    ctx.start_server(["PermitUserEnvironment LANG,KEY*"])
    e = _env_of(ctx, u)
    check("FILEVAR" not in e, "FILEVAR not in the pattern list, yet set")
    check(e.get("KEYVAR") == "from-key" and e.get("LANG") == "C.UTF-8",
          "pattern list: KEYVAR=%r LANG=%r" % (e.get("KEYVAR"),
                                               e.get("LANG")))
    ctx.stop_server()
    # As sshd: a long line is one variable, and a bad line is told to the
    # client (on the session's stderr), not only logged.
    long_value = "a" * 5000 + "X=injected"
    _write_user_file(u, ".ssh/environment",
                     "LONGV=%s\nnot a variable\nAFTER=ok\n" % long_value,
                     0o600)
    ctx.start_server(["PermitUserEnvironment yes"])
    r = ctx.ssh(u, 'printf "%s|%s|%s" "${#LONGV}" "$AFTER" "$(env | '
                   'grep -c injected)"')
    check(r.rc == 0 and r.stdout == b"%d|ok|1" % len(long_value),
          "a 5 kB line in ~/.ssh/environment: %r" % r.stdout)
    check(b"Bad line 2 in %s/.ssh/environment" % u.home.encode()
          in r.stderr, "the client was not told of the bad line: %r"
          % r.stderr)


def test_user_rc(ctx):
    ctx.start_server()
    u = ctx.make_user()
    marker = os.path.join(u.home, "rc-ran")
    _write_user_file(u, ".ssh/rc",
                     'echo "rc:$USER" > "$HOME/rc-ran"\necho rc-stdout\n')
    r = ctx.ssh_ok(u, "echo cmd")
    check(r.stdout == b"rc-stdout\ncmd\n",
          "~/.ssh/rc output then the command's, got %r" % r.stdout)
    with open(marker) as f:
        check(f.read() == "rc:%s\n" % u.name, "rc ran with the wrong env")
    os.unlink(marker)
    # no-user-rc on the key: not run.
    ak = os.path.join(u.home, ".ssh", "authorized_keys")
    os.unlink(ak)
    ctx.authorize(u, u.pubkey, options="no-user-rc")
    r = ctx.ssh_ok(u, "echo cmd")
    check(r.stdout == b"cmd\n" and not os.path.exists(marker),
          "no-user-rc: rc ran anyway (%r)" % r.stdout)
    # restrict turns it off; restrict,user-rc back on.
    for opts, runs in (("restrict", False), ("restrict,user-rc", True)):
        os.unlink(ak)
        ctx.authorize(u, u.pubkey, options=opts)
        r = ctx.ssh_ok(u, "echo cmd")
        check(os.path.exists(marker) == runs,
              "%s: rc %s" % (opts, "did not run" if runs else "ran"))
        if runs:
            os.unlink(marker)


def _sshrc_server(ctx, text, extra=()):
    """Start the server where an overlay on /etc holds /etc/ssh/sshrc with
    text (ctx.etc_overlay; the users must exist before)."""
    ctx.etc_overlay('mkdir -p /etc/ssh && '
                    'printf "%s" "$SSHRC_TEXT" > /etc/ssh/sshrc')
    ctx.write_config(list(extra))
    ctx.launch_server(env=dict(os.environ, SSHRC_TEXT=text))


def test_system_rc(ctx):
    """/etc/ssh/sshrc, as sshd: run with /bin/sh from the home directory
    in the session's environment before a command (its output first)
    when there is no ~/.ssh/rc; and before internal-sftp too, which runs
    no ~/.ssh/rc (a subsystem), its stderr dropped, SFTP working after,
    even with a program it left in the background (the sftp would time
    out waiting for it)."""
    u = ctx.make_user()
    marker = os.path.join(u.home, "sysrc-ran")
    _sshrc_server(ctx, 'echo "sys:$USER:$SSH_CONNECTION:$(pwd)" '
                  '>> "$HOME/sysrc-ran"\n'
                  'echo sysrc-stderr >&2\n'
                  '[ -e "$HOME/loud" ] && echo sysrc-stdout\n'
                  '[ -e "$HOME/bg" ] && sleep 90 &\n'
                  'exit 0\n',
                  ["Subsystem sftp internal-sftp"])
    check(not os.path.exists("/etc/ssh/sshrc"),
          "/etc/ssh/sshrc escaped the server's namespace")
    _write_user_file(u, "loud", "")
    r = ctx.ssh_ok(u, "echo cmd")
    check(r.stdout == b"sysrc-stdout\ncmd\n",
          "/etc/ssh/sshrc's output then the command's, got %r" % r.stdout)
    with open(marker) as f:
        line = f.read()
    check(re.fullmatch(r"sys:%s:127\.0\.0\.1 \d+ 127\.0\.0\.1 %d:%s\n"
                       % (re.escape(u.name), ctx.port, re.escape(u.home)),
                       line), "/etc/ssh/sshrc's environment: %r" % line)
    os.unlink(marker)
    os.unlink(os.path.join(u.home, "loud"))
    # A user's ~/.ssh/rc replaces it for a command, not for a subsystem.
    _write_user_file(u, ".ssh/rc", 'echo user >> "$HOME/user-rc-ran"\n')
    r = ctx.ssh_ok(u, "echo cmd")
    check(r.stdout == b"cmd\n" and not os.path.exists(marker) and
          os.path.exists(os.path.join(u.home, "user-rc-ran")),
          "with ~/.ssh/rc: %r, /etc/ssh/sshrc ran: %s"
          % (r.stdout, os.path.exists(marker)))
    os.unlink(os.path.join(u.home, "user-rc-ran"))
    # What the rc leaves running in the background, holding its stdout
    # and stderr, does not hold SFTP back (nor sshd's).
    _write_user_file(u, "bg", "")
    p = _sftp(ctx, u, "pwd\nls -1 sysrc-ran\n")
    check(p.returncode == 0 and
          b"Remote working directory: %s\n" % u.home.encode() in p.stdout,
          "sftp after /etc/ssh/sshrc: rc %s %r %r"
          % (p.returncode, p.stdout, p.stderr[-300:]))
    check(b"sysrc-stderr" not in p.stderr,
          "a subsystem's stderr reached the client: %r" % p.stderr)
    check(os.path.exists(marker) and
          not os.path.exists(os.path.join(u.home, "user-rc-ran")),
          "internal-sftp: /etc/ssh/sshrc ran: %s, ~/.ssh/rc ran: %s"
          % (os.path.exists(marker),
             os.path.exists(os.path.join(u.home, "user-rc-ran"))))


_RC_HOLD_CLIENT = r"""
import os, sys, paramiko
port, user, key, hold = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
t = paramiko.Transport(("127.0.0.1", port))
t.connect(username=user, pkey=paramiko.Ed25519Key(filename=key))
sftp_chan = t.open_session(timeout=20)
sftp_chan.invoke_subsystem("sftp")
# While the rc holds the sftp channel, the connection serves another one.
c = t.open_session(timeout=20)
c.settimeout(20)
c.exec_command("echo other")
out = b""
while not c.exit_status_ready() or c.recv_ready():
    d = c.recv(100)
    if not d:
        break
    out += d
print("other:%s rc-still-holding:%s" % (out.decode().strip(),
                                        os.path.exists(hold)))
os.unlink(hold)
sftp_chan.settimeout(20)
sftp = paramiko.SFTPClient(sftp_chan)
print("sftp:%s" % sftp.normalize("."))
t.close()
"""


def test_system_rc_does_not_hold_the_connection(ctx):
    """While /etc/ssh/sshrc runs before internal-sftp, the connection's
    other channels are served (sshd runs it in the session's child); SFTP
    starts once it has ended. The client would time out if the session
    process waited for the rc."""
    u = ctx.make_user()
    hold = os.path.join(u.home, "hold")
    _write_user_file(u, "hold", "")
    # The command beside it runs ~/.ssh/rc instead (a subsystem never).
    _write_user_file(u, ".ssh/rc", "true\n")
    _sshrc_server(ctx, 'while [ -e "$HOME/hold" ]; do sleep 0.1; done\n',
                  ["Subsystem sftp internal-sftp"])
    p = run(["/usr/bin/python3", "-c", _RC_HOLD_CLIENT, str(ctx.port),
             u.name, u.key, hold], 90, check_rc=False)
    check(p.returncode == 0 and
          b"other:other rc-still-holding:True\n" in p.stdout and
          b"sftp:%s\n" % u.home.encode() in p.stdout,
          "a channel beside the sftp one whose rc runs: rc %s %r %r"
          % (p.returncode, p.stdout, p.stderr[-600:]))


def _interactive(ctx, u, script=b"echo MARK-$((6*7)); exit 0\n"):
    c = _TtyClient(ctx, u, None)
    os.write(c.master, script)
    rc, out, err = c.finish()
    check(rc == 0 and b"MARK-42" in out,
          "interactive login: rc %s out %r err %r" % (rc, out, err))
    return out.decode("utf-8", "replace")


@timeout(90)
def test_motd_and_last_login(ctx):
    motd = "/etc/motd"
    saved = None
    if os.path.exists(motd):
        with open(motd, "rb") as f:
            saved = f.read()

    def restore():
        if saved is None:
            os.unlink(motd)
        else:
            with open(motd, "wb") as f:
                f.write(saved)
    ctx.cleanups.append(restore)
    with open(motd, "w") as f:
        f.write("postern-motd-line\n")
    ctx.start_server()
    u = ctx.make_user()
    out = _interactive(ctx, u)
    check("postern-motd-line" in out, "motd not shown: %r" % out)
    check("Last login" not in out, "a first login has no last login")
    # A command, even with a pty, gets no motd.
    c = _TtyClient(ctx, u, "echo only")
    rc, cout, err = c.finish()
    check(b"postern-motd-line" not in cout, "motd shown for a command")
    out = _interactive(ctx, u)
    m = re.search(r"Last login: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} "
                  r"from 127\.0\.0\.1", out)
    check(m, "no 'Last login: ... from 127.0.0.1' line: %r" % out)
    # ~/.hushlogin silences both.
    _write_user_file(u, ".hushlogin", "")
    out = _interactive(ctx, u)
    check("postern-motd-line" not in out and "Last login" not in out,
          "hushlogin: %r" % out)
    ctx.stop_server()
    # PrintMotd no, PrintLastLog no.
    os.unlink(os.path.join(u.home, ".hushlogin"))
    ctx.start_server(["PrintMotd no", "PrintLastLog no"])
    out = _interactive(ctx, u)
    check("postern-motd-line" not in out and "Last login" not in out,
          "PrintMotd/PrintLastLog no: %r" % out)


def _make_utmp(ctx):
    utmp = "/run/utmp"
    if not os.path.exists(utmp):
        # Containers often have none: make one as systemd would.
        with open(utmp, "wb"):
            pass
        os.chmod(utmp, 0o664)
        ctx.cleanups.append(lambda: os.path.exists(utmp) and
                            os.unlink(utmp))


def _utmp_login(ctx, echo=b"", rx=b""):
    """A pty login shell on a server with a utmp file, which printed
    TTY=/dev/pts/N and then echo (e.g. b" SP=$PPID"): (user, client,
    "pts/N", the match of TTY=/dev/(pts/N) followed by rx)."""
    _make_utmp(ctx)
    ctx.start_server()
    u = ctx.make_user()
    c = _TtyClient(ctx, u, None)
    os.write(c.master, b"echo TTY=$(tty)%s; echo R$((1+1))EADY\n" % echo)
    c.ready("shell")
    m = re.search(rb"TTY=/dev/(pts/\d+)" + rx, c.out)
    check(m, "no tty in %r" % c.out)
    return u, c, m.group(1).decode(), m


@timeout(90)
def test_utmp_wtmp(ctx):
    u, c, line, _m = _utmp_login(ctx)
    who = run(["who"]).stdout.decode()
    check(re.search(r"^%s\s+%s\s.*\(127\.0\.0\.1\)" % (u.name,
                                                        re.escape(line)),
                    who, re.M),
          "who does not show %s on %s during the session:\n%s"
          % (u.name, line, who))
    # The monitor holds its own master: /dev/pts/N cannot go to another
    # login before the logout record is written.
    n = _monitor_pty_masters(ctx)
    check(n == 1, "the monitor holds %d pty masters during the session" % n)
    os.write(c.master, b"exit 0\n")
    rc, out, err = c.finish()
    check(rc == 0, "shell exit %s" % rc)
    # After the session: gone from who, in last with a logout time.
    ok = poll_until(lambda: u.name not in run(["who"]).stdout.decode(), 10)
    check(ok, "still in who after logout:\n%s" % run(["who"]).stdout)
    check(poll_until(lambda: _monitor_pty_masters(ctx) == 0, 10),
          "the monitor still holds a pty master after logout")
    rx = re.compile(r"^%s\s+%s\s+127\.0\.0\.1\s.*- \d\d:\d\d" %
                    (u.name, re.escape(line)), re.M)
    ok = poll_until(lambda: rx.search(run(["last", "-w", u.name])
                                      .stdout.decode()), 10)
    check(ok, "last has no finished login for %s on %s:\n%s"
          % (u.name, line, run(["last", "-w", u.name]).stdout.decode()))
    ll = run(["lastlog", "-u", u.name]).stdout.decode()
    check(re.search(r"^%s\s+%s\s+127\.0\.0\.1" % (u.name, re.escape(line)),
                    ll, re.M), "lastlog: %s" % ll)




@timeout(60)
def test_utmp_pid_is_monitor(ctx):
    """The utmp record's ut_pid (who -u) is the monitor's, the [priv]
    process, as sshd 9.2 records it, not the session process: w(1) names
    the ut_pid process when the shell started in the same clock tick, so
    it showed "sshd: USER@pts/N" where sshd's login shows "-bash"."""
    u, c, line, m = _utmp_login(ctx, b" SP=$PPID", rb" SP=(\d+)")
    session_pid = int(m.group(2))
    monitor_pid = int(harness.proc_status(session_pid)["PPid"])
    who = run(["who", "-u"]).stdout.decode()
    m = re.search(r"^%s\s+%s\s.*?\s(\d+)\s+\(127\.0\.0\.1\)"
                  % (u.name, re.escape(line)), who, re.M)
    os.write(c.master, b"exit 0\n")
    c.finish()
    check(m, "who -u does not show %s on %s:\n%s" % (u.name, line, who))
    check(int(m.group(1)) == monitor_pid,
          "who -u shows pid %s for %s; the monitor is %d, the session "
          "process %d" % (m.group(1), line, monitor_pid, session_pid))

def test_expose_auth_info(ctx):
    ctx.start_server(["ExposeAuthInfo yes"])
    u = ctx.make_user()
    r = ctx.ssh_ok(u, 'echo "F=$SSH_USER_AUTH"; cat "$SSH_USER_AUTH"; '
                   'stat -c %a:%U "$SSH_USER_AUTH"')
    lines = r.out.splitlines()
    check(lines and re.match(r"^F=/tmp/sshauth\.[A-Za-z0-9]{15}$", lines[0]),
          "SSH_USER_AUTH: %r" % r.out)
    path = lines[0][2:]
    # As sshd's mkstemp(): all 15 characters drawn (glibc's mkstemp
    # leaves the first nine X's of such a template as they are).
    check("XXXX" not in path, "a predictable SSH_USER_AUTH name: %r" % path)
    with open(u.pubkey) as f:
        typ, b64 = f.read().split()[:2]
    check("publickey %s %s" % (typ, b64) in lines,
          "auth info lacks the key: %r" % r.out)
    check(lines[-1] == "600:%s" % u.name, "file mode/owner %r" % lines[-1])
    ok = poll_until(lambda: not os.path.exists(path), 10)
    check(ok, "%s left behind after the session" % path)
    ctx.stop_server()
    ctx.start_server()
    r = ctx.ssh_ok(u, 'echo "F=${SSH_USER_AUTH-unset}"')
    check(r.out == "F=unset\n", "ExposeAuthInfo no: %r" % r.out)


def test_forced_command_original(ctx):
    """SSH_ORIGINAL_COMMAND with ForceCommand; no ~/.ssh/rc then."""
    ctx.start_server(["ForceCommand echo \"orig=$SSH_ORIGINAL_COMMAND\""])
    u = ctx.make_user()
    _write_user_file(u, ".ssh/rc", "echo rc-ran\n")
    r = ctx.ssh_ok(u, "ls -l /tmp")
    check(r.stdout == b"orig=ls -l /tmp\n",
          "forced command output %r" % r.stdout)


def test_env_keywords_dump_as_sshd(ctx):
    """-T prints the login keywords as sshd -T does, with Match too."""
    from test_config_compat import _compare
    text = ("AcceptEnv LANG LC_*\nAcceptEnv POSTERN_*\n"
            "SetEnv A=1 B=\"two words\" A=3\nSetEnv C=4\n"
            "PermitUserEnvironment LANG,LC_*\nPermitUserRC no\n"
            "PrintMotd no\nPrintLastLog no\nExposeAuthInfo yes\n"
            "ChrootDirectory /srv/%u\n"
            "Match User alice\n\tAcceptEnv ONLY_ALICE\n\tSetEnv X=y\n"
            "\tChrootDirectory none\n\tPermitUserRC yes\n"
            "\tExposeAuthInfo no\n")
    _compare(ctx, "login", text,
             specs=(None, "user=alice,host=h,addr=1.2.3.4",
                    "user=bob,host=h,addr=1.2.3.4"))


def test_pty_slots_released(ctx):
    """One connection (a ControlMaster), MaxSessions 1, four pty sessions
    one after the other: the monitor frees each pty when its channel
    goes."""
    ctx.start_server(["MaxSessions 1"])
    u = ctx.make_user()
    sock = os.path.join(ctx.dir, "mux")
    master = ctx.popen(ctx.ssh_argv(u, None, extra=["-M", "-S", sock, "-N"]),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    ctx.cleanups.append(lambda: master.poll() is None and master.kill())
    check(poll_until(lambda: os.path.exists(sock), 10),
          "control master did not start")
    for i in range(4):
        c = _TtyClient(ctx, u, "tty", extra=["-S", sock])
        rc, out, err = c.finish()
        check(rc == 0 and re.match(rb"^/dev/pts/\d+\r?\n$", out),
              "session %d over the master: rc %s out %r err %r"
              % (i, rc, out, err))
        # The connection stays; the monitor let this pty go.
        check(poll_until(lambda: _monitor_pty_masters(ctx) == 0, 10),
              "session %d: the monitor still holds %d pty masters"
              % (i, _monitor_pty_masters(ctx)))
    check(len(re.findall(r"Accepted publickey for %s" % u.name,
                         ctx.server_log())) == 1,
          "the sessions did not share one connection: %d logins"
          % len(re.findall(r"Accepted publickey for %s" % u.name,
                           ctx.server_log())))


def _pam_motd_server(ctx):
    """A server whose PAM session stack runs pam_motd, which says
    "motd-from-pam_motd" (PrintMotd no, as Debian's sshd_config)."""
    motd = os.path.join(ctx.dir, "pam-motd")
    with open(motd, "w") as f:
        f.write("motd-from-pam_motd\n")
    svc = ctx.pam_service(["auth required pam_deny.so",
                          "account required pam_unix.so",
                          "session optional pam_motd.so motd=%s noupdate"
                          % motd,
                          "session required pam_unix.so"])
    ctx.start_server(["UsePAM yes", "PAMServiceName " + svc,
                      "PrintMotd no"])


def test_pam_motd(ctx):
    """UsePAM yes with pam_motd (Debian's /etc/pam.d/sshd does this, with
    PrintMotd no): its text is shown at an interactive login, as sshd
    shows PAM's messages, and not for a command."""
    _pam_motd_server(ctx)
    u = ctx.make_user()
    out = _interactive(ctx, u)
    check("motd-from-pam_motd" in out, "pam_motd's text not shown: %r" % out)
    r = ctx.ssh_ok(u, "echo cmd")
    check(r.stdout == b"cmd\n", "pam_motd text shown for a command: %r"
          % r.stdout)


def test_pam_motd_once_per_connection(ctx):
    """PAM's session messages (pam_motd's text) are the first session's
    on a connection, as sshd 9.2's do_exec() clears its loginmsg once a
    session has started: a second shell through a ControlMaster
    connection does not show them again, nor does a shell after a
    command (which is quiet). Before, every login without a command on
    the connection repeated them."""
    _pam_motd_server(ctx)
    u = ctx.make_user()

    def shell(ctl):
        # ssh -T: a login shell without a pty, fed one command.
        p = subprocess.run(["ssh", "-S", ctl, "-T", "x"],
                           input=b"echo shell-ran\n", capture_output=True,
                           timeout=30)
        check(p.returncode == 0 and b"shell-ran" in p.stdout,
              "shell through the master: rc %s %r %r"
              % (p.returncode, p.stdout[-300:], p.stderr[-300:]))
        return p.stdout

    for first_command in (False, True):
        ctl = os.path.join(ctx.dir, "ctl%d" % first_command)
        master = ctx.popen(ctx.ssh_argv(u, None, extra=(
            "-N", "-M", "-S", ctl)), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctx.cleanups.append(lambda m=master: m.poll() is None and m.kill())
        check(poll_until(lambda: os.path.exists(ctl) or
                         master.poll() is not None, 15)
              and master.poll() is None, "control master did not start")
        if first_command:
            r = run(["ssh", "-S", ctl, "x", "echo cmd"])
            check(r.stdout == b"cmd\n", "first session, a command: %r"
                  % r.stdout)
        else:
            out = shell(ctl)
            check(b"motd-from-pam_motd" in out,
                  "pam_motd's text not shown to the first shell: %r" % out)
        out = shell(ctl)
        check(b"motd-from-pam_motd" not in out,
              "pam_motd's text shown again to a later session on the "
              "connection (first was a %s): %r"
              % ("command" if first_command else "shell", out))
        # Stopped through its control socket: ssh 9.2 polls without
        # masking signals, so a SIGTERM that lands just before its poll()
        # can leave an idle master waiting for ever.
        run(["ssh", "-S", ctl, "-O", "exit", "x"])
        master.wait(30)


def test_debug_mode_prints_environment(ctx):
    """Under -d, sshd's child prints "Environment:" and each variable as
    "  NAME=value" (cut at 200 characters) to the session's stderr before
    the command runs (do_setup_env(), debug_flag); without -d, nothing.
    posternd -d printed nothing."""
    sshd = harness.openssh_sshd()
    u = ctx.make_user()
    ours = ctx.server_path
    long_value = "v" * 300
    seen = {}
    for server in (sshd, ours):
        ctx.server_path = server
        ctx.write_config(["AcceptEnv PTST_LONG"])
        ctx.launch_server(["-d"])
        try:
            r = ctx.ssh(u, "echo out",
                        extra=["-o", "SetEnv=PTST_LONG=" + long_value])
        finally:
            ctx.stop_server()
            ctx.proc = None
        check(r.rc == 0 and r.stdout == b"out\n",
              "%s -d: ssh rc %s, stdout %r" % (server, r.rc, r.stdout))
        # The client's own port differs from one login to the next.
        seen[server] = re.sub(r"127\.0\.0\.1 \d+ ", "127.0.0.1 PORT ",
                              r.stderr.decode("utf-8", "replace"))
    ctx.server_path = ours
    lines = seen[sshd].splitlines()
    check(lines[:1] == ["Environment:"] and
          "  USER=%s" % u.name in lines and
          "  PTST_LONG=" + long_value[:200 - len("PTST_LONG=")] in lines,
          "sshd -d: the session's stderr %r" % seen[sshd])
    check(seen[ours] == seen[sshd], "posternd -d: the session's stderr "
          "%r, sshd -d's %r" % (seen[ours], seen[sshd]))
    ctx.start_server(["AcceptEnv PTST_LONG"])
    r = ctx.ssh(u, "echo out", extra=["-o", "SetEnv=PTST_LONG=x"])
    check(r.rc == 0 and r.stderr == b"", "posternd without -d: rc %s, "
          "stderr %r" % (r.rc, r.stderr))
