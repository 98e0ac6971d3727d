"""
test_log_parity.py: posternd's log lines next to OpenSSH's sshd 9.2
(/usr/sbin/sshd on this machine) for a battery of logins, good and bad.
Each scenario runs against both servers, started the same way with the
same configuration and logging through syslog(3) as in production (each
server, one config group at a time, in a mount namespace of its own
where /dev/log is a private test_fail2ban.SyslogReceiver's socket: the
batteries run side by side, and no other test's lines come in). For
each scenario:

- every line shape listed for it (a regex written from what sshd 9.2
  printed) must be in sshd's lines (else the table is wrong) and in
  posternd's;
- fail2ban's Debian sshd filter (fail2ban-regex, modes normal, ddos and
  aggressive) must count as many failures from 127.0.0.1 for posternd's
  lines as for sshd's, and as many as the table says;
- sshguard's parser (sshg-parser) must count as many attacks for both.

The lines of one connection carry their real PIDs (the monitor's, the
session's), so fail2ban's per-PID tracking of lines without an address
("error: kex_exchange_identification: ...", "error: PAM: ...") works as
it does on a production log.

To look at both servers' lines: POSTERN_LOG_PARITY_DUMP=FILE writes them
per scenario with the counts; POSTERN_LOG_PARITY_ONLY=NAME,NAME runs only
those scenarios.
"""

import concurrent.futures
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import time

import harness
from harness import (check, fail, poll_until, port_listening, run,
                     send_all_tolerant, timeout, wait_closed)
from test_fail2ban import SyslogReceiver, _failures

SSHD = harness.OPENSSH_SSHD
SYSTEM_PYTHON = "/usr/bin/python3"
PARSER = "/usr/libexec/sshguard/sshg-parser"
MODES = ("normal", "ddos", "aggressive")

P = r"127\.0\.0\.1 port \d+"
FP = r"SHA256:[A-Za-z0-9+/]{43}"

# paramiko (in /usr/bin/python3 only): what the OpenSSH client cannot do.
PARAMIKO = r"""
import socket, struct, sys, time
import paramiko
from paramiko.common import cMSG_DISCONNECT
from paramiko.message import Message

port, user, what, arg = sys.argv[1:5]
s = socket.create_connection(("127.0.0.1", int(port)), 10)
t = paramiko.Transport(s)
t.start_client(timeout=10)
if what == "close":
    time.sleep(0.5)  # all read: the close is a FIN, not a reset
    t.close()
    sys.exit(0)
if what.startswith(("close-", "reset-")):
    # Logged in, with a session ("-session", "-pty") or not ("-auth"),
    # the client goes without a DISCONNECT: a FIN, or a reset.
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(arg))
    if not what.endswith("-auth"):
        ch = t.open_session()
        if what.endswith("-pty"):
            ch.get_pty()
        ch.exec_command("sleep 5")
    time.sleep(0.5)
    if what.startswith("reset-"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    s.close()
    sys.exit(0)
try:
    if what == "change":
        try:
            t.auth_none(user)
        except paramiko.AuthenticationException:
            pass
        t.auth_none(arg)
    if what == "reset":
        t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(arg))
    if what in ("password", "password-authfail"):
        t.auth_password(user, arg)
    elif what == "passwords":
        for i in range(2):  # MaxAuthTries 3 is not reached
            try:
                t.auth_password(user, "%s%d" % (arg, i))
            except paramiko.AuthenticationException:
                pass
    elif what == "passwords-empty":
        for pw in ("", arg):  # sshd logs an empty first one as "none"
            try:
                t.auth_password(user, pw)
            except paramiko.AuthenticationException:
                pass
    elif what == "passwords4":
        for i in range(4):  # one past MaxAuthTries 3
            try:
                t.auth_password(user, "%s%d" % (arg, i))
            except paramiko.AuthenticationException:
                pass
    elif what == "none":
        t.auth_none(user)
    elif what == "password-change":
        # RFC 4252 s8: a change request, which paramiko cannot make.
        try:
            t.auth_none(user)
        except paramiko.SSHException:
            pass
        m = Message()
        m.add_byte(bytes([50]))  # USERAUTH_REQUEST
        for f in (user, "ssh-connection", "password"):
            m.add_string(f)
        m.add_boolean(True)
        m.add_string(arg)
        m.add_string(arg + "new")
        t._send_message(m)
        time.sleep(1)
    elif what == "key":
        t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(arg))
except (paramiko.AuthenticationException, paramiko.SSHException):
    pass
if what == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    sys.exit(0)
m = Message()
m.add_byte(cMSG_DISCONNECT)
if what == "password-authfail":  # JSch's goodbye (fail2ban reads it)
    m.add_int(3)
    m.add_string("com.jcraft.jsch.JSchException: Auth fail")
else:
    m.add_int(11)
    m.add_string("bye")
m.add_string("")
try:
    t._send_message(m)
except (EOFError, OSError):
    pass  # the server ended it first
time.sleep(0.5)
s.close()
"""


class Peer:
    """One server (postern or sshd) serving the scenarios of a group."""

    def __init__(self, ctx, kind, extra, args=(), prefix=()):
        self.ctx = ctx
        self.kind = kind
        self.port = harness.free_port()
        binary = SSHD if kind == "sshd" else ctx.server_path
        self.config = os.path.join(ctx.dir, "%s_%d.conf" % (kind, self.port))
        text = ("Port %d\nListenAddress 127.0.0.1\nHostKey %s\n"
                "PidFile %s/%s_%d.pid\n" % (self.port, ctx.host_key, ctx.dir,
                                            kind, self.port))
        text += "".join(l + "\n" for l in extra)
        with open(self.config, "w") as f:
            f.write(text)
        self.log = os.path.join(ctx.dir, "%s_%d.stderr" % (kind, self.port))
        logf = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                list(prefix) + [binary, "-D", "-f", self.config] +
                list(args),
                stdin=subprocess.DEVNULL,
                stdout=logf, stderr=logf, start_new_session=True, cwd=ctx.dir)
        finally:
            logf.close()
        ctx.cleanups.append(self.stop)
        check(poll_until(lambda: self.proc.poll() is not None or
                         port_listening(self.port), 10) and
              self.proc.poll() is None,
              "%s did not start: %s" % (kind, harness.read_text(self.log)))

    def stop(self):
        # Context's: SIGTERM, then the process group.
        harness.Context.stop_server(self)

    # -- clients ----------------------------------------------------------
    def ssh(self, user, key=None, extra=(), password=None, command="true"):
        name = user if isinstance(user, str) else user.name
        argv = ["ssh", "-F", "/dev/null", "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"]
        env = None
        if key is not None:
            argv += ["-i", key, "-o", "IdentitiesOnly=yes"]
        else:
            argv += ["-o", "IdentitiesOnly=yes", "-o", "IdentityFile=none"]
        if password is not None:
            script = os.path.join(self.ctx.dir,
                                  "askpass_%s" % secrets.token_hex(3))
            with open(script, "w") as f:
                f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % password)
            os.chmod(script, 0o755)
            env = dict(os.environ, SSH_ASKPASS=script,
                       SSH_ASKPASS_REQUIRE="force", DISPLAY=":0")
            argv += ["-o", "BatchMode=no", "-o", "NumberOfPasswordPrompts=1"]
        else:
            argv += ["-o", "BatchMode=yes"]
        argv += list(extra) + [name + "@127.0.0.1", command]
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60, env=env)
        return p.returncode

    def paramiko(self, user, what, arg=""):
        p = subprocess.run([SYSTEM_PYTHON, "-c", PARAMIKO, str(self.port),
                            user if isinstance(user, str) else user.name,
                            what, arg], capture_output=True, timeout=60)
        check(p.returncode == 0, "paramiko client failed: %s"
              % p.stderr.decode(errors="replace")[-800:])
        return 0

    def plink(self, user, password):
        fp = run(["ssh-keygen", "-l", "-E", "sha256", "-f",
                  self.ctx.host_key]).stdout.decode().split()[1]
        subprocess.run(["plink", "-ssh", "-batch", "-P", str(self.port),
                        "-hostkey", fp,
                        "-l", user if isinstance(user, str) else user.name,
                        "-pw", password, "127.0.0.1", "true"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
        return 0

    def keyscan(self):
        subprocess.run(["ssh-keyscan", "-p", str(self.port), "127.0.0.1"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
        return 0

    def startups(self):
        """A second connection while a first one holds MaxStartups 1's
        only slot."""
        first = socket.create_connection(("127.0.0.1", self.port), 10)
        try:
            first.makefile("rb").readline()  # its monitor runs
            self.raw(wait_s=10)
        finally:
            first.close()
        return 0

    def raw(self, send=None, wait_s=10, reset=False):
        s = socket.create_connection(("127.0.0.1", self.port), 10)
        if reset:
            # close() sends a RST. Once the server's identification came:
            # the server then waits for the client's, whatever its speed
            # (an ASan build may not be there yet after a fixed wait, and
            # a reset before its monitor runs is not logged the same).
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            wait_s = 0
            s.makefile("rb").readline()
        try:
            if send:
                send_all_tolerant(s, send)
            if wait_s:
                wait_closed(s, wait_s)
        finally:
            s.close()
        return 0


    def banner_close(self):
        """A scanner's identification, then gone (FIN, nothing unread)
        before the server wrote a byte: the listener is stopped meanwhile
        (the kernel still completes the handshake), so the server's
        identification always meets a closed socket, whose reset then
        breaks its next write, whatever the load."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            s = socket.create_connection(("127.0.0.1", self.port), 10)
            s.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            s.close()
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)
        return 0


def _drop_shadow(name):
    """name's /etc/shadow entry removed (/etc/passwd keeps its "x")."""
    harness.edit_account_file("/etc/shadow", lambda lines: [
        l for l in lines if not l.startswith(name + ":")])


class Env:
    """Users, keys and files the scenarios share (made once per test)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.password = "pw-" + secrets.token_hex(6)
        self.good = ctx.make_user()
        self.denied = ctx.make_user()
        self.grouped = ctx.make_user()
        self.group = "pgrp_" + secrets.token_hex(3)
        with harness._users_lock:
            run(["groupadd", self.group])
            run(["usermod", "-a", "-G", self.group, self.grouped.name])
        ctx.cleanups.append(lambda: run(["groupdel", self.group],
                                        check_rc=False))
        subprocess.run(["chpasswd"], check=True, input=(
            "%s:%s\n" % (self.good.name, self.password)).encode())
        # A valid user without a shadow entry.
        self.noshadow = ctx.make_user(with_key=False)
        _drop_shadow(self.noshadow.name)
        self.invalid = "nosuch_" + secrets.token_hex(4)
        self.wrong = [ctx.new_key("wrong%d" % i) for i in range(4)]
        # A certificate for good (a key of its own: ssh offers KEY-cert.pub
        # with KEY).
        self.ca = ctx.new_key("ca")
        self.cert_key = ctx.new_key("certified")
        self.cert_id = "id-" + secrets.token_hex(3)
        run(["ssh-keygen", "-q", "-s", self.ca, "-I", self.cert_id,
             "-n", self.good.name, "-z", "4242", self.cert_key + ".pub"])
        # root's key, through a root-only AuthorizedKeysFile.
        self.root_key = ctx.new_key("root")
        self.root_ak = os.path.join(ctx.dir, "root_authorized_keys")
        with open(self.root_key + ".pub") as src, \
                open(self.root_ak, "w") as dst:
            dst.write(src.read())
        os.chmod(self.root_ak, 0o600)

    def users(self):
        return [self.good.name, self.denied.name, self.grouped.name,
                self.noshadow.name, self.invalid]


# Config groups: the lines each server gets after Port/ListenAddress/
# HostKey/PidFile.
BASE = ["AuthorizedKeysFile .ssh/authorized_keys", "StrictModes yes",
        "LogLevel VERBOSE", "MaxAuthTries 3", "PermitRootLogin no"]


def groups(env):
    return {
        "nopam": BASE + ["UsePAM no", "PasswordAuthentication yes",
                         "KbdInteractiveAuthentication no",
                         "TrustedUserCAKeys %s.pub" % env.ca],
        "pam": BASE + ["UsePAM yes", "PasswordAuthentication yes",
                       "KbdInteractiveAuthentication yes"],
        "info": [l for l in BASE if not l.startswith("LogLevel")]
        + ["LogLevel INFO", "UsePAM no"],
        "debug": [l for l in BASE if not l.startswith("LogLevel")]
        + ["LogLevel DEBUG3", "UsePAM no"],
        "deny": BASE + ["UsePAM no", "DenyUsers %s" % env.denied.name,
                        "DenyGroups %s" % env.group],
        "allow": BASE + ["UsePAM no", "AllowUsers %s %s" % (
            env.good.name, env.grouped.name),
            "AllowGroups %s" % env.group],
        "root": ["StrictModes no", "LogLevel VERBOSE", "UsePAM no",
                 "PasswordAuthentication yes",
                 "PermitRootLogin no", "AuthorizedKeysFile %s" % env.root_ak],
        "pam info": [l for l in BASE if not l.startswith("LogLevel")]
        + ["LogLevel INFO", "UsePAM yes", "KbdInteractiveAuthentication yes"],
        "grace": BASE + ["UsePAM no", "LoginGraceTime 2"],
    }


def scenarios(env):
    """(name, group, action(peer), [line regexes], {mode: failures},
    sshguard attacks). Each regex is one of sshd 9.2's lines (as it
    printed them for the scenario) and must match one line of the
    scenario, of both servers, fully; ("postern", RX) is required of
    posternd alone; ("once", RX) must match exactly one line of each,
    ("none", RX) no line of either. The counts are those of sshd's
    lines."""
    g, pw, wrong = env.good, env.password, env.wrong
    gn, inv = re.escape(g.name), re.escape(env.invalid)
    allkeys = []
    for k in wrong:
        allkeys += ["-i", k]

    def f2b(normal, ddos, aggressive):
        return {"normal": normal, "ddos": ddos, "aggressive": aggressive}

    def pref(method):
        return ["-o", "PreferredAuthentications=" + method]

    conn = r'Connection from %s on 127\.0\.0\.1 port \d+ rdomain ""' % P
    noshadow = r"error: Could not get shadow information for NOUSER"
    child = r"User child is on pid \d+"
    command = r"Starting session: command%%s for %s from %s id 0" % (gn, P)
    close_session = r"Close session: user %s from %s id 0" % (gn, P)
    closed_post = [r"Connection closed by %s" % P,
                   r"Transferred: sent \d+, received \d+ bytes",
                   r"Closing connection to %s" % P]
    read_error = (r"Read error from remote host %s: Connection reset by peer"
                  % P)
    no_disc = ("none", r"Disconnected from .*")
    no_closed = ("none", r"(Connection closed by|Transferred|Closing) .*")
    invalid = r"Invalid user %s from %s" % (inv, P)
    closed_inv = r"Connection closed by invalid user %s %s \[preauth\]" % (
        inv, P)
    closed_auth = (r"Connection closed by authenticating user %s %s "
                   r"\[preauth\]" % (gn, P))
    failed_key = r"Failed publickey for %s from %s ssh2: ED25519 %s" % (
        gn, P, FP)
    accepted_key = (r"Accepted publickey for %s from %s ssh2: ED25519 %s"
                    % (gn, P, FP))
    key_found = (r"Accepted key ED25519 %s found at %s:1" % (
        FP, re.escape(os.path.join(g.home, ".ssh/authorized_keys"))))
    postponed_key = r"Postponed publickey for %s from %s ssh2 \[preauth\]" % (
        gn, P)
    session = [r"User child is on pid \d+",
               r"Starting session: command for %s from %s id 0" % (gn, P),
               r"Received disconnect from %s:11: disconnected by user" % P,
               r"Disconnected from user %s %s" % (gn, P)]
    pam_session = [r"pam_unix\(sshd:session\): session opened for user %s"
                   r"\(uid=\d+\) by \(uid=0\)" % gn,
                   r"pam_unix\(sshd:session\): session closed for user %s"
                   % gn]
    maxtries = [r"error: maximum authentication attempts exceeded for %s "
                r"from %s ssh2 \[preauth\]" % (gn, P),
                r"Disconnecting authenticating user %s %s: Too many "
                r"authentication failures \[preauth\]" % (gn, P)]
    refused = r"User %s from 127\.0\.0\.1 not allowed because %s"
    closed_refused = r"Connection closed by invalid user %s %s \[preauth\]"
    denied, grouped = re.escape(env.denied.name), re.escape(env.grouped.name)
    root_key = (r"Accepted key ED25519 %s found at %s:1" % (
        FP, re.escape(env.root_ak)))
    cert = (r"ED25519-CERT %s ID %s \(serial 4242\) CA ED25519 %s" % (
        FP, re.escape(env.cert_id), FP))
    cert_found = (r'Accepted certificate ID "%s" \(serial 4242\) signed by '
                  r"ED25519 CA %s via %s" % (re.escape(env.cert_id), FP,
                                             re.escape(env.ca + ".pub")))

    return [
        ("invalid user password", "nopam",
         lambda s: s.ssh(env.invalid, password="x" + pw),
         [conn, invalid, ("once", noshadow),
          r"Failed password for invalid user %s from %s ssh2" % (inv, P),
          closed_inv], f2b(2, 3, 3), 3),
        # UsePAM no: the shadow entry is looked at once, at the first
        # password (an invalid user's fake account has none).
        ("invalid user passwords", "nopam",
         lambda s: s.paramiko(env.invalid, "passwords", "x"),
         [conn, invalid, ("once", noshadow),
          r"Failed password for invalid user %s from %s ssh2" % (inv, P)],
         f2b(3, 4, 4), 4),
        # sshd's monitor logs an empty first password as "none" (it cannot
        # tell it from userauth_none's check): VERBOSE for a valid user.
        ("empty first password", "nopam",
         lambda s: s.paramiko(g, "passwords-empty", "x" + pw),
         [conn, ("once", r"Failed none for %s from %s ssh2" % (gn, P)),
          ("once", r"Failed password for %s from %s ssh2" % (gn, P))],
         f2b(2, 3, 3), 3),
        ("empty first password invalid user", "info",
         lambda s: s.paramiko(env.invalid, "passwords-empty", "x"),
         [invalid,
          ("once", r"Failed none for invalid user %s from %s ssh2"
           % (inv, P)),
          ("once", r"Failed password for invalid user %s from %s ssh2"
           % (inv, P))], f2b(3, 4, 4), 3),
        # A password over 1024 bytes fails before sshd's expiry check.
        ("long password invalid user", "nopam",
         lambda s: s.paramiko(env.invalid, "password", "x" * 1025),
         [conn, invalid, ("none", noshadow),
          r"Failed password for invalid user %s from %s ssh2" % (inv, P)],
         f2b(2, 3, 3), 3),
        # A valid user too, when the account has no shadow entry.
        ("no shadow entry password", "nopam",
         lambda s: s.ssh(env.noshadow, password="x" + pw),
         [conn, ("once", r"error: Could not get shadow information for %s"
                 % re.escape(env.noshadow.name)),
          r"Failed password for %s from %s ssh2" % (
              re.escape(env.noshadow.name), P)], f2b(1, 2, 2), 2),
        ("invalid user password info", "info",
         lambda s: s.ssh(env.invalid, password="x" + pw),
         [invalid, ("once", noshadow),
          r"Failed password for invalid user %s from %s ssh2" % (inv, P),
          closed_inv], f2b(2, 3, 3), 3),
        # No "Failed publickey for invalid user": sshd never looks the
        # key up.
        ("invalid user publickey", "nopam",
         lambda s: s.ssh(env.invalid, key=wrong[0]),
         [conn, invalid, closed_inv], f2b(1, 2, 2), 2),
        ("invalid user none", "nopam",
         lambda s: s.ssh(env.invalid, extra=pref("none")),
         [conn, invalid, closed_inv], f2b(1, 2, 2), 2),
        ("invalid user keyboard-interactive", "pam",
         lambda s: s.ssh(env.invalid, password="x" + pw,
                         extra=pref("keyboard-interactive")),
         [conn, invalid,
          r"Postponed keyboard-interactive for invalid user %s from %s ssh2 "
          r"\[preauth\]" % (inv, P),
          r"error: PAM: Authentication failure for illegal user %s from "
          r"127\.0\.0\.1" % inv,
          r"Failed keyboard-interactive/pam for invalid user %s from %s ssh2"
          % (inv, P), closed_inv], f2b(4, 4, 4), 3),
        ("invalid user password pam", "pam",
         lambda s: s.ssh(env.invalid, password="x" + pw,
                         extra=pref("password")),
         [conn, invalid, ("none", r"(error: )?Could not get shadow information .*"),
          r"Failed password for invalid user %s from %s ssh2" % (inv, P),
          closed_inv], f2b(2, 3, 3), 3),
        ("wrong password", "nopam",
         lambda s: s.ssh(g, password="x" + pw),
         [conn, r"Failed password for %s from %s ssh2" % (gn, P),
          ("none", r"(error: )?Could not get shadow information .*"),
          closed_auth], f2b(1, 2, 2), 2),
        ("wrong password pam", "pam",
         lambda s: s.ssh(g, password="x" + pw, extra=pref("password")),
         [conn, r"pam_unix\(sshd:auth\): authentication failure; logname= "
          r"uid=0 euid=0 tty=ssh ruser= rhost=127\.0\.0\.1  user=%s" % gn,
          r"Failed password for %s from %s ssh2" % (gn, P), closed_auth],
         f2b(1, 2, 2), 2),
        ("wrong keyboard-interactive pam", "pam",
         lambda s: s.ssh(g, password="x" + pw,
                         extra=pref("keyboard-interactive")),
         [conn, r"Postponed keyboard-interactive for %s from %s ssh2 "
          r"\[preauth\]" % (gn, P),
          r"pam_unix\(sshd:auth\): authentication failure; logname= "
          r"uid=0 euid=0 tty=ssh ruser= rhost=127\.0\.0\.1  user=%s" % gn,
          r"error: PAM: Authentication failure for %s from 127\.0\.0\.1"
          % gn,
          r"Failed keyboard-interactive/pam for %s from %s ssh2" % (gn, P),
          closed_auth], f2b(2, 3, 3), 3),
        ("wrong key", "nopam", lambda s: s.ssh(g, key=wrong[0]),
         [conn, failed_key, closed_auth], f2b(0, 1, 1), 2),
        # At INFO sshd's monitor logs no failed key of a valid user.
        ("wrong key info", "info", lambda s: s.ssh(g, key=wrong[0]),
         [closed_auth], f2b(0, 1, 1), 1),
        ("max auth tries", "nopam",
         lambda s: s.ssh(g, key=wrong[0], extra=allkeys),
         [conn, failed_key] + maxtries, f2b(1, 1, 1), 4),
        ("max auth tries invalid", "nopam",
         lambda s: s.ssh(env.invalid, key=wrong[0], extra=allkeys),
         [conn, invalid,
          r"error: maximum authentication attempts exceeded for invalid "
          r"user %s from %s ssh2 \[preauth\]" % (inv, P),
          r"Disconnecting invalid user %s %s: Too many authentication "
          r"failures \[preauth\]" % (inv, P)], f2b(2, 2, 2), 2),
        ("max auth tries info", "info",
         lambda s: s.ssh(g, key=wrong[0], extra=allkeys),
         maxtries, f2b(1, 1, 1), 1),
        ("disconnect authenticating", "nopam",
         lambda s: s.paramiko(g, "key", wrong[0]),
         [conn, failed_key,
          r"Received disconnect from %s:11: bye \[preauth\]" % P,
          r"Disconnected from authenticating user %s %s \[preauth\]"
          % (gn, P)], f2b(0, 1, 1), 2),
        ("disconnect invalid", "nopam",
         lambda s: s.paramiko(env.invalid, "password", "x"),
         [conn, invalid,
          r"Failed password for invalid user %s from %s ssh2" % (inv, P),
          r"Received disconnect from %s:11: bye \[preauth\]" % P,
          r"Disconnected from invalid user %s %s \[preauth\]" % (inv, P)],
         f2b(2, 3, 3), 3),
        # Any reason but 11 is logged at ERROR, as sshd's packet.c.
        ("disconnect auth fail", "nopam",
         lambda s: s.paramiko(g, "password-authfail", "x" + pw),
         [conn, r"Failed password for %s from %s ssh2" % (gn, P),
          r"error: Received disconnect from %s:3: com\.jcraft\.jsch\."
          r"JSchException: Auth fail \[preauth\]" % P,
          r"Disconnected from authenticating user %s %s \[preauth\]"
          % (gn, P)], f2b(2, 3, 3), 2),
        # sshd's preauth child refuses a change request; its monitor
        # logs no verdict and writes no btmp record.
        ("password change request", "nopam",
         lambda s: s.paramiko(g, "password-change", "x" + pw),
         [conn, r"password change not supported \[preauth\]",
          ("none", r"Failed password .*"),
          r"Disconnected from authenticating user %s %s \[preauth\]"
          % (gn, P)], f2b(0, 1, 1), 1),
        ("disconnect none", "nopam", lambda s: s.paramiko(g, "none"),
         [conn, r"Received disconnect from %s:11: bye \[preauth\]" % P,
          r"Disconnected from authenticating user %s %s \[preauth\]"
          % (gn, P)], f2b(0, 1, 1), 1),
        ("change of user", "nopam",
         lambda s: s.paramiko(g, "change", env.denied.name),
         [conn, r"Disconnecting authenticating user %s %s: Change of "
          r"username or service not allowed: \(%s,ssh-connection\) -> "
          r"\(.{1,40} \[preauth\]" % (gn, P, gn)], f2b(1, 1, 1), 0),
        ("close after kex", "nopam", lambda s: s.paramiko(g, "close"),
         [conn, r"Connection closed by %s \[preauth\]" % P], f2b(0, 1, 1),
         1),
        ("reset during auth", "nopam",
         lambda s: s.paramiko(g, "reset", wrong[0]),
         [conn, failed_key,
          r"Connection reset by authenticating user %s %s \[preauth\]"
          % (gn, P)], f2b(0, 1, 1), 2),
        ("close before banner", "nopam", lambda s: s.raw(),
         [conn, r"error: kex_exchange_identification: Connection closed by "
          r"remote host", r"Connection closed by %s" % P], f2b(0, 1, 1), 0),
        ("reset before banner", "nopam", lambda s: s.raw(reset=True),
         [conn, r"error: kex_exchange_identification: read: Connection "
          r"reset by peer", r"Connection reset by %s" % P], f2b(0, 1, 1), 0),
        ("garbage banner", "nopam",
         lambda s: s.raw(b"GET / HTTP/1.0\r\n\r\n"),
         [conn, r'error: kex_exchange_identification: client sent invalid '
          r'protocol identifier "GET / HTTP/1\.0"',
          r"banner exchange: Connection from %s: invalid format" % P],
         f2b(0, 2, 2), 0),
        # sshd's sscanf("SSH-%d.%d-%[^\n]") and its protocol check.
        ("old protocol banner", "nopam",
         lambda s: s.raw(b"SSH-1.5-old\r\n"),
         [conn, r"error: Protocol major versions differ: 2 vs\. 1",
          r"banner exchange: Connection from %s: could not read protocol "
          r"version" % P], f2b(0, 0, 0), 0),
        ("empty software version", "nopam",
         lambda s: s.raw(b"SSH-2.0-\r\n"),
         [conn, r"error: Bad remote protocol version identification: "
          r"'SSH-2\.0-'",
          r"banner exchange: Connection from %s: invalid format" % P],
         f2b(0, 1, 1), 0),
        # A packet length below 5: INFO, as sshd's packet.c (which then
        # reads on until the client goes, and logs ssh_dispatch_run_fatal).
        ("scanner probe", "nopam",
         lambda s: s.raw(b"SSH-2.0-Probe-x\r\n"),
         [conn, r"probed from %s with SSH-2\.0-Probe-x\.  Don't panic\."
          % P, r"Connection closed by %s" % P], f2b(0, 0, 0), 0),
        ("bad packet length", "nopam",
         lambda s: s.raw(b"SSH-2.0-x\r\n" + struct.pack(">IB", 4, 4)
                         + bytes(64), wait_s=1),
         [conn, r"Bad packet length 4\. \[preauth\]"], f2b(0, 0, 0), 0),
        # A length that is no whole number of blocks: sshd's "need" is
        # what follows the first block, then its fatal line.
        ("padding error", "nopam",
         lambda s: s.raw(b"SSH-2.0-x\r\n" + struct.pack(">I", 4096)
                         + bytes(4), wait_s=1),
         [conn, r"padding error: need 4092 block 8 mod 4 \[preauth\]",
          r"ssh_dispatch_run_fatal: Connection from %s: message "
          r"authentication code incorrect \[preauth\]" % P],
         f2b(0, 0, 0), 0),
        # Less than a block, then gone: judged only on a whole block.
        ("short first block", "nopam",
         lambda s: s.raw(b"SSH-2.0-x\r\n" + struct.pack(">IH", 13, 0)),
         [conn, r"Connection closed by %s \[preauth\]" % P,
          ("none", r"padding error: .*")], f2b(0, 1, 1), 1),
        ("no common kex", "nopam",
         lambda s: s.ssh(g, extra=["-o", "KexAlgorithms=diffie-hellman-"
                                   "group1-sha1"]),
         [conn, r"Unable to negotiate with %s: no matching key exchange "
          r"method found\. Their offer: diffie-hellman-group1-sha1,"
          r"ext-info-c,kex-strict-c-v00@openssh\.com \[preauth\]" % P],
         f2b(0, 0, 1), 1),
        ("no common cipher", "nopam",
         lambda s: s.ssh(g, extra=["-o", "Ciphers=aes128-cbc"]),
         [conn, r"Unable to negotiate with %s: no matching cipher found\. "
          r"Their offer: aes128-cbc \[preauth\]" % P], f2b(0, 0, 1), 1),
        ("no common host key", "nopam",
         lambda s: s.ssh(g, extra=["-o", "HostKeyAlgorithms=rsa-sha2-512"]),
         [conn, r"Unable to negotiate with %s: no matching host key type "
          r"found\. Their offer: rsa-sha2-512 \[preauth\]" % P],
         f2b(0, 0, 1), 1),
        # Debian's sshd 9.2 (its CVE-2024-6387 fix) logs nothing here;
        # posternd logs OpenSSH's line, which no filter counts.
        ("grace timeout", "grace",
         lambda s: s.raw(b"SSH-2.0-OpenSSH_9.2\r\n", 20),
         [conn, ("postern", r"Timeout before authentication for %s" % P)],
         f2b(0, 0, 0), 0),
        ("root refused", "root",
         lambda s: s.ssh("root", key=env.root_key),
         [conn, root_key,
          r"Postponed publickey for root from %s ssh2 \[preauth\]" % P,
          r"ROOT LOGIN REFUSED FROM %s" % P,
          r"Failed publickey for root from %s ssh2: ED25519 %s" % (P, FP),
          r"ROOT LOGIN REFUSED FROM %s \[preauth\]" % P,
          r"Connection closed by authenticating user root %s \[preauth\]"
          % P], f2b(4, 4, 4), 4),
        # keyboard-interactive first: UsePAM no has no device, and sshd
        # logs nothing of it.
        ("root password", "root",
         lambda s: s.ssh("root", password="x" + pw),
         [conn, r"Failed password for root from %s ssh2" % P,
          r"Connection closed by authenticating user root %s \[preauth\]"
          % P], f2b(1, 2, 2), 2),
        ("deny users", "deny", lambda s: s.ssh(env.denied),
         [conn, refused % (denied, "listed in DenyUsers"),
          closed_refused % (denied, P)], f2b(1, 2, 2), 2),
        ("deny groups", "deny", lambda s: s.ssh(env.grouped),
         [conn, refused % (grouped, "a group is listed in DenyGroups"),
          closed_refused % (grouped, P)], f2b(1, 2, 2), 2),
        ("allow users", "allow", lambda s: s.ssh(env.denied),
         [conn, refused % (denied, "not listed in AllowUsers"),
          closed_refused % (denied, P)], f2b(1, 2, 2), 2),
        ("allow groups", "allow", lambda s: s.ssh(g),
         [conn, refused % (gn, "none of user's groups are listed in "
                                "AllowGroups"),
          closed_refused % (gn, P)], f2b(1, 2, 2), 2),
        # sshd logs "Close session" when the session ends before the
        # connection (not always so, here); posternd always.
        ("accepted publickey", "nopam", lambda s: s.ssh(g, key=g.key),
         [conn, key_found, postponed_key, accepted_key] + session
         + [("postern", r"Close session: user %s from %s id 0" % (gn, P))],
         f2b(0, 0, 0), 0),
        # ssh offers the plain key first.
        ("accepted certificate", "nopam",
         lambda s: s.ssh(g, key=env.cert_key),
         [conn, failed_key, cert_found,
          r"Accepted publickey for %s from %s ssh2: %s" % (gn, P, cert)]
         + session, f2b(0, 0, 0), 1),
        ("accepted password", "nopam", lambda s: s.ssh(g, password=pw),
         [conn, r"Accepted password for %s from %s ssh2" % (gn, P)]
         + session, f2b(0, 0, 0), 0),
        ("accepted password pam", "pam",
         lambda s: s.ssh(g, password=pw, extra=pref("password")),
         [conn, r"Accepted password for %s from %s ssh2" % (gn, P)]
         + session + pam_session, f2b(0, 0, 0), 0),
        ("accepted keyboard-interactive pam", "pam",
         lambda s: s.ssh(g, password=pw, extra=pref("keyboard-interactive")),
         [conn, r"Postponed keyboard-interactive for %s from %s ssh2 "
          r"\[preauth\]" % (gn, P),
          r"Postponed keyboard-interactive/pam for %s from %s ssh2 "
          r"\[preauth\]" % (gn, P),
          r"Accepted keyboard-interactive/pam for %s from %s ssh2" % (gn, P)]
         + session + pam_session, f2b(0, 0, 0), 0),
        ("accepted publickey pam", "pam", lambda s: s.ssh(g, key=g.key),
         [conn, key_found, postponed_key, accepted_key] + session
         + pam_session, f2b(0, 0, 0), 0),
        ("accepted publickey info", "info", lambda s: s.ssh(g, key=g.key),
         [accepted_key] + session[2:], f2b(0, 0, 0), 0),
        ("wrong password info", "info",
         lambda s: s.ssh(g, password="x" + pw),
         [r"Failed password for %s from %s ssh2" % (gn, P), closed_auth],
         f2b(1, 2, 2), 2),
        ("wrong keyboard-interactive info", "pam info",
         lambda s: s.ssh(g, password="x" + pw,
                         extra=pref("keyboard-interactive")),
         [r"error: PAM: Authentication failure for %s from 127\.0\.0\.1"
          % gn, closed_auth], f2b(1, 2, 2), 2),
        ("accepted publickey debug", "debug", lambda s: s.ssh(g, key=g.key),
         [conn, accepted_key] + session, f2b(0, 0, 0), 0),
        ("wrong key debug", "debug", lambda s: s.ssh(g, key=wrong[0]),
         [conn, failed_key, closed_auth], f2b(0, 1, 1), 2),
        # Logged in, the client goes without a DISCONNECT. A close:
        # sshd's child logs it without the user, then the sessions'
        # ends and the totals (all VERBOSE); a reset: one line alone.
        ("close after auth", "nopam",
         lambda s: s.paramiko(g, "close-auth", g.key),
         [conn, accepted_key, child] + closed_post + [no_disc],
         f2b(0, 0, 0), 0),
        ("close after auth session", "nopam",
         lambda s: s.paramiko(g, "close-session", g.key),
         [conn, accepted_key, child, command % ""] + closed_post
         + [close_session, no_disc], f2b(0, 0, 0), 0),
        ("close after auth pty", "pam",
         lambda s: s.paramiko(g, "close-pty", g.key),
         [conn, accepted_key, child, command % " on pts/\\d+"]
         + closed_post + [close_session, no_disc] + pam_session,
         f2b(0, 0, 0), 0),
        ("reset after auth", "nopam",
         lambda s: s.paramiko(g, "reset-auth", g.key),
         [conn, accepted_key, child, read_error, no_disc, no_closed],
         f2b(0, 0, 0), 0),
        ("reset after auth session", "pam",
         lambda s: s.paramiko(g, "reset-session", g.key),
         [conn, accepted_key, child, command % "", read_error, no_disc,
          no_closed, ("none", close_session)] + pam_session,
         f2b(0, 0, 0), 0),
        ("close after auth info", "info",
         lambda s: s.paramiko(g, "close-session", g.key),
         [accepted_key, ("none", r"(Connection closed|Disconnected|"
                                 r"Transferred|Closing|Close session).*")],
         f2b(0, 0, 0), 0),
        ("reset after auth info", "info",
         lambda s: s.paramiko(g, "reset-session", g.key),
         [accepted_key, ("none", r"(Connection closed|Disconnected|"
                                 r"Read error|Close session).*")],
         f2b(0, 0, 0), 0),
        ("close after auth debug", "debug",
         lambda s: s.paramiko(g, "close-auth", g.key),
         [conn, accepted_key] + closed_post + [no_disc], f2b(0, 0, 0), 0),
    ]


def _ours(records, port, users):
    """The records (fac, line) of our server on port, as (index, pid,
    message, line): those of each PID that logged a line naming port, one
    of our users or one of our client ports."""
    rx = re.compile(r"^\S+ +\d+ \S+ \S+ sshd\[(\d+)\]: (.*)$")
    pids, ports = set(), set()
    parsed = []
    for i, (fac, line) in enumerate(records):
        m = rx.match(line)
        if m:
            parsed.append((int(m.group(1)), m.group(2), line, i))
    for pid, msg, _l, _i in parsed:
        m = re.match(r"Connection from 127\.0\.0\.1 port (\d+) on "
                     r"127\.0\.0\.1 port %d\b" % port, msg)
        if m:
            ports.add(m.group(1))
        if re.search(r"port %d\b" % port, msg) or any(
                re.search(r"\b%s\b" % u, msg) for u in users):
            pids.add(pid)
    # The session process logs only its client's port.
    for pid, msg, _l, _i in parsed:
        if pid in pids:
            ports.update(p for p in re.findall(r"127\.0\.0\.1 port (\d+)",
                                               msg) if p != str(port))
    for pid, msg, _l, _i in parsed:
        if any(re.search(r"port %s\b" % p, msg) for p in ports):
            pids.add(pid)
    # sshd's session child (a chroot's fatal) names no port: its monitor
    # named its PID.
    for pid, msg, _l, _i in parsed:
        m = re.fullmatch(r"User child is on pid (\d+)", msg)
        if m and pid in pids:
            pids.add(int(m.group(1)))
    return [(i, pid, msg, l) for pid, msg, l, i in parsed if pid in pids]


def _wait_quiet(rcv, seconds=0.5):
    """Until no record arrived for `seconds' (the connection's last lines
    are in)."""
    last = [len(rcv.records), time.monotonic()]

    def quiet():
        n = len(rcv.records)
        if n != last[0]:
            last[0], last[1] = n, time.monotonic()
            return False
        return time.monotonic() - last[1] >= seconds
    poll_until(quiet, 30, interval=0.1)


def _owner(first, pid, msg, k):
    """The scenario a line of process pid, logged in scenario k's time,
    belongs to: the one in which that process first logged (its last
    lines may come late, in the next scenario's time). But with pid_max
    32768 and the suite's churn, a later connection's process may get
    the PID of an earlier one (a CI run put one scenario's garbage-banner
    lines in another's): a connection's first line, "Connection from
    ...", starts that PID afresh."""
    if msg.startswith("Connection from "):
        first[pid] = k
    return first.setdefault(pid, k)


def _run_group(ctx, env, kind, group, items, out):
    """Run the scenarios `items' of one group against server `kind',
    which logs to a /dev/log of its own (a private SyslogReceiver);
    _ours picks this server's lines out; out[name] = [(pid, msg,
    line)]."""
    rcv = SyslogReceiver(ctx, os.path.join(ctx.dir, "syslog_%s_%s" % (
        kind, group.replace(" ", "_"))), private=True)
    peer = None
    try:
        peer = Peer(ctx, kind, env.groups(env)[group], prefix=rcv.prefix())
        check(rcv.wait(r"sshd\[%d\]: Server listening on 127\.0\.0\.1 "
                       r"port %d\.$" % (peer.proc.pid, peer.port)),
              "%s: no 'Server listening' line through /dev/log" % kind)
        _wait_quiet(rcv, 0.3)
        starts = []
        for name, action in items:
            starts.append(len(rcv.records))
            action(peer)
            _wait_quiet(rcv)
        _wait_quiet(rcv, 1.5)  # the last connection's last lines
        # A line goes to the scenario its process first logged in (one
        # that came late, in the next one's time, too); the listener's
        # by time.
        first, names = {}, [n for n, _a in items]
        for name in names:
            out[name] = []
        for i, pid, msg, line in _ours(rcv.records, peer.port,
                                       env.users()):
            k = None
            for j, st in enumerate(starts):
                if st <= i:
                    k = j
            if k is None:
                continue  # "Server listening"
            if pid != peer.proc.pid:
                k = _owner(first, pid, msg, k)
            out[names[k]].append((pid, msg, line))
    finally:
        if peer is not None:
            peer.stop()
        rcv.close()


def _run_all(ctx, env, table):
    """Every scenario against both servers, group by group: {kind: {name:
    [(pid, msg, line)]}}."""
    only = os.environ.get("POSTERN_LOG_PARITY_ONLY")
    order = []
    for name, group, action, _rx, _f2b, _sg in table:
        if only and name not in only.split(","):
            continue
        if group not in [g for g, _i in order]:
            order.append((group, []))
        dict(order)[group].append((name, action))
    logs = {"sshd": {}, "postern": {}}
    for group, items in order:
        _both(lambda kind: _run_group(ctx, env, kind, group, items,
                                      logs[kind]))
    return logs


def _both(fn):
    """fn("sshd") and fn("postern") side by side (each server has its own
    port, log and receiver; the scenarios' clients change nothing they
    share); the first exception is raised."""
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        futs = [ex.submit(fn, kind) for kind in ("sshd", "postern")]
        for f in futs:
            f.result()


def _sshguard(text):
    p = subprocess.run([PARSER, "-a"], input=text.encode(),
                       capture_output=True, timeout=30)
    check(p.returncode == 0, "sshg-parser -a exited %d" % p.returncode)
    return [l[2:] for l in p.stdout.decode(errors="replace").splitlines()
            if l.startswith("* ")]


def _counts(ctx, kind, lines):
    """{scenario: {"normal": n, ..., "sshguard": n}} for kind's lines."""
    path = os.path.join(ctx.dir, "%s_auth.log" % kind)
    owner = {}
    with open(path, "w") as f:
        for name, recs in lines.items():
            for _pid, _msg, line in recs:
                f.write(line + "\n")
                owner[line.strip()] = name
    counts = {name: dict.fromkeys(MODES + ("sshguard",), 0)
              for name in lines}
    for mode in MODES:
        for line in _failures(path, mode, whole=True):
            name = owner.get(line)
            check(name is not None, "fail2ban counted a line not ours: %r"
                  % line)
            counts[name][mode] += 1
    with open(path) as f:
        text = f.read()
    for line in _sshguard(text):
        name = owner.get(line.strip())
        check(name is not None, "sshguard counted a line not ours: %r"
              % line)
        counts[name]["sshguard"] += 1
    return counts


def _run_battery(ctx, table, env_class=None, group_table=None):
    for tool in (SSHD, PARSER, "/etc/fail2ban/filter.d/sshd.conf"):
        check(os.path.exists(tool), "%s is missing (openssh-server, sshguard,"
              " fail2ban)" % tool)
    env = (env_class or Env)(ctx)
    env.groups = group_table or groups
    tab = table(env)
    logs = _run_all(ctx, env, tab)
    counts = {kind: _counts(ctx, kind, logs[kind]) for kind in logs}
    tab = [t for t in tab if t[0] in logs["sshd"]]
    dump = os.environ.get("POSTERN_LOG_PARITY_DUMP")
    if dump:
        with open(dump, "w") as f:
            for name, *_rest in tab:
                f.write("=== %s\n" % name)
                for kind in logs:
                    f.write("--- %s %s\n" % (kind, counts[kind][name]))
                    for _pid, msg, line in logs[kind][name]:
                        f.write("  [%d] %s\n" % (_pid, msg))
    errors = []
    for name, _g, _a, rxs, want, sg in tab:
        for kind in ("sshd", "postern"):
            msgs = [msg for _pid, msg, _l in logs[kind][name]]
            for rx in rxs:
                want_n = None
                if isinstance(rx, tuple) and rx[0] in ("once", "none"):
                    want_n = {"once": 1, "none": 0}[rx[0]]
                    rx = rx[1]
                elif isinstance(rx, tuple):
                    if rx[0] != kind:
                        continue
                    rx = rx[1]
                if want_n is not None:
                    n = sum(1 for m in msgs if re.fullmatch(rx, m))
                    if n != want_n:
                        errors.append("%s: %s logged %d lines %r, want %d; "
                                      "its lines:\n    %s" % (
                                          name, kind, n, rx, want_n,
                                          "\n    ".join(msgs)))
                    continue
                if not any(re.fullmatch(rx, m) for m in msgs):
                    errors.append("%s: %s logged no line %r; its lines:\n"
                                  "    %s" % (name, kind, rx,
                                              "\n    ".join(msgs)))
            c = counts[kind][name]
            for mode in MODES:
                if c[mode] != want[mode]:
                    errors.append("%s: fail2ban (%s) counted %d failures in "
                                  "%s's lines, want %d" % (
                                      name, mode, c[mode], kind, want[mode]))
            if c["sshguard"] != sg:
                errors.append("%s: sshguard counted %d attacks in %s's "
                              "lines, want %d" % (name, c["sshguard"], kind,
                                                  sg))
    if errors:
        fail("\n".join(errors))


# A hang guard, not a time limit: 63 scenarios, each against both servers
# and waiting for its log lines to settle, take 3 to 7 minutes, and under
# ASan on a busy machine more than 10.
@timeout(1200)
def test_log_parity(ctx):
    _run_battery(ctx, scenarios)


# ---------------------------------------------------------------------------
# Bytes: a client's odd text and a server's odd paths, escaped and cut as
# sshd 9.2 writes them (docs/logging.md), on syslog and on standard error.

# The client's text for each field: every class of byte log_vis() treats
# differently, and values long enough for each cut (a field's %.100s, the
# 200 bytes of "invalid user NAME", syslog's 500, a line's 1023).
ODD = {
    "backslash": b"a\\b",
    "tab": b"a\tb",
    "newline": b"a\nb",
    "cr": b"a\rb",
    "del": b"a\x7fb",
    "controls": b"a\x07b\x08c\x0bd\x0ce\x1bf\x01g h",
    "utf8": "\u00e9\U0001F600".encode(),
    "not utf8": b"a\x80\xffb",
    "long": b"L" * 300,
    "long high": b"\xff" * 300,
    "long backslashes": b"\\" * 400,
}

# paramiko: one client action with the odd text (hex) in one field.
ODD_CLIENT = r"""
import socket, struct, sys, time
import paramiko
from paramiko.common import cMSG_DISCONNECT
from paramiko.message import Message

port, what, hexval, user, key = sys.argv[1:6]
val = bytes.fromhex(hexval)
s = socket.create_connection(("127.0.0.1", int(port)), 10)
if what == "banner":
    s.sendall(b"XSH-" + val.replace(b"\n", b"N").replace(b"\r", b"R")
              + b"\r\n")
    time.sleep(0.5)
    s.close()
    sys.exit(0)
if what == "kex":
    def nl(x):
        return struct.pack(">I", len(x)) + x
    p = (bytes([20]) + b"C" * 16 + nl(b"x" + val.replace(b",", b"_"))
         + nl(b"ssh-ed25519") + nl(b"aes128-ctr") * 2
         + nl(b"hmac-sha2-256") * 2 + nl(b"none") * 2 + nl(b"") * 2
         + b"\0" * 5)
    pad = 8 - (len(p) + 5) % 8
    pad += 8 if pad < 4 else 0
    s.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
    s.sendall(struct.pack(">IB", len(p) + pad + 1, pad) + p + b"\0" * pad)
    time.sleep(0.5)
    s.close()
    sys.exit(0)
t = paramiko.Transport(s)
t.start_client(timeout=10)
if what in ("password", "disconnect"):
    try:
        t.auth_password(val if what == "password" else b"u" + val, "x")
    except (paramiko.AuthenticationException, paramiko.SSHException):
        pass
    if what == "disconnect":
        m = Message()
        m.add_byte(cMSG_DISCONNECT)
        m.add_int(11)
        m.add_string(val)
        m.add_string("")
        try:
            t._send_message(m)
        except (EOFError, OSError):
            pass
    time.sleep(0.5)
    t.close()
    sys.exit(0)
try:
    # posternd may end a ChrootDirectory failure before its
    # USERAUTH_SUCCESS reaches us; a refusal elsewhere shows in the
    # lines compared.
    t.auth_publickey(user, paramiko.Ed25519Key.from_private_key_file(key))
except (EOFError, OSError, paramiko.SSHException):
    sys.exit(0)
try:
    if what == "forward":
        try:
            t.open_channel("direct-tcpip", dest_addr=(val, 1),
                           src_addr=(val, 2))
        except paramiko.ChannelException:
            pass
    else:
        ch = t.open_session()
        if what == "subsystem":
            try:
                ch.invoke_subsystem(val)
            except paramiko.SSHException:
                pass
        else:
            ch.exec_command(val)
        ch.recv_exit_status() if what == "command" else time.sleep(0.3)
except (EOFError, OSError, paramiko.SSHException):
    sys.exit(0)  # the server ended the session (ChrootDirectory)
# As OpenSSH's ssh: SSH_MSG_DISCONNECT, so both servers log its lines.
m = Message()
m.add_byte(cMSG_DISCONNECT)
m.add_int(11)
m.add_string("disconnected by user")
m.add_string("")
try:
    t._send_message(m)
except (EOFError, OSError):
    pass
time.sleep(0.5)
s.close()
"""

# The lines of each scenario whose bytes are compared: those that carry
# the odd text (other lines are the battery's business above).
ODD_LINES = re.compile(
    r"(?:error: |fatal: )?(?:Invalid user|Failed password|Connection closed by "
    r"invalid|Received disconnect|Disconnected from invalid|Unable to "
    r"negotiate|kex_exchange_identification: client sent|subsystem "
    r"request|refused local port forward|Starting session: forced|"
    r"Accepted key|safely_chroot)")


def _odd_user(ctx):
    """A user whose home has a space, a backslash and UTF-8 in it."""
    name = "pglv_" + secrets.token_hex(3)
    home = os.path.join(ctx.dir, "home \u00e9\\" + name)
    with harness._users_lock:
        run(["useradd", "-d", home, "-s", "/bin/sh", "-p", "*", name])
    ctx.cleanups.append(lambda: ctx._userdel(name))
    os.makedirs(home)
    user = harness.User(name, ctx.new_key("odd"))
    ctx.authorize(user, user.key + ".pub")
    os.chown(home, user.uid, user.gid)
    return user


def _odd_scenarios():
    """(name, config group, client action, value)."""
    # Every field with every kind of value where no login is needed; the
    # session's fields (one login each) with fewer.
    out = []
    for field, val in ODD.items():
        out += [(w + " " + field, "plain", w, val) for w in (
            "password", "disconnect", "kex", "banner")]
        if field in ("backslash", "newline", "not utf8", "long high"):
            out += [(w + " " + field, "plain", w, val)
                    for w in ("subsystem", "forward")]
    out += [("forced command", "forced", "command", b"true"),
            ("chroot", "chroot", "command", b"true")]
    return out


def _odd_groups(user):
    odd = "\"/nonexistent \u00e9\\\\x y\""
    base = ["LogLevel VERBOSE", "UsePAM no", "PasswordAuthentication yes",
            "StrictModes yes", "AllowTcpForwarding no",
            "AuthorizedKeysFile .ssh/authorized_keys"]
    return {
        "plain": base,
        # Cut at 900 bytes by sshd, then at the line's 1023.
        "forced": base + ["Match User %s" % user.name,
                          "  ForceCommand true \"a\\\\b \u00e9\t%s\""
                          % ("\u00e9" * 400)],
        "chroot": base + ["Match User %s" % user.name,
                          "  ChrootDirectory %s" % odd],
    }


def _norm(msg):
    return re.sub(r"(port|pid) \d+", r"\1 N", msg)


def _odd_pick(msgs):
    """The compared lines, sorted, normalised: those carrying odd text
    (not our client's own "disconnected by user")."""
    return sorted(_norm(m) for m in msgs if ODD_LINES.match(m) and
                  not m.endswith(":11: disconnected by user"))


def _odd_run(ctx, user, kind, group, items, stderr, records):
    """{scenario: sorted normalised messages} of server kind; with syslog,
    records[scenario] = every (pid, message, line) of it."""
    rcv = None
    if not stderr:
        rcv = SyslogReceiver(ctx, os.path.join(ctx.dir, "syslog_odd_%s_%s"
                                               % (kind, group)), private=True)
    out = {}
    try:
        # stderr: "-e", or "E" for a -E file (to which the session
        # process logs too).
        efile = os.path.join(ctx.dir, "%s_%s.E" % (kind, group))
        args = {"-e": ("-e",), "E": ("-E", efile)}.get(stderr, ())
        peer = Peer(ctx, kind, _odd_groups(user)[group], args,
                    prefix=rcv.prefix() if rcv else ())
        if stderr == "E":
            peer.log = efile
        check(poll_until(lambda: b"Server listening" in _odd_bytes(peer),
                         10) if stderr else
              rcv.wait(r"sshd\[%d\]: Server listening" % peer.proc.pid),
              "%s: no 'Server listening' line" % kind)
        starts = []
        for name, what, val in items:
            start = len(_odd_bytes(peer)) if stderr else len(rcv.records)
            starts.append(start)
            p = subprocess.run(
                [SYSTEM_PYTHON, "-c", ODD_CLIENT, str(peer.port), what,
                 val.hex(), user.name, user.key], capture_output=True,
                timeout=60)
            if p.returncode != 0:
                tail = (_odd_bytes(peer)[start:].decode("latin-1")
                        if stderr else "\n".join(
                            l for _f, l in rcv.records[start:]))
                fail("%s: %s: client failed: %s\nserver's lines:\n%s" % (
                    name, kind, p.stderr.decode(errors="replace")[-300:],
                    tail[-3000:]))
            if stderr:
                _wait_quiet_file(peer)
                data = _odd_bytes(peer)[start:]
                # sshd ends each line with "\r\n".
                check(data == b"" or data.endswith(b"\r\n"),
                      "%s: %s's lines do not end with CR LF: %r"
                      % (name, kind, data[-80:]))
                msgs = [l.decode("latin-1") for l in data.split(b"\r\n")]
                out[name] = _odd_pick(msgs)
            else:
                _wait_quiet(rcv)
        if not stderr:
            # A line belongs to the scenario in which its process logged
            # first (a connection's last lines may come late). Only our
            # server's: a test's posternd without -e (test_isolation)
            # logs to /dev/log too (a CI run put its garbage-banner lines
            # in the chroot scenario).
            _wait_quiet(rcv, 1.5)
            first, names = {}, [n for n, _w, _v in items]
            msgs = {n: [] for n in names}
            for n in names:
                records[n] = []
            for i, pid, msg, line in _ours(rcv.records, peer.port,
                                           [user.name]):
                k = max([j for j, st in enumerate(starts) if st <= i],
                        default=None)
                if k is None:
                    continue
                if pid != peer.proc.pid:
                    k = _owner(first, pid, msg, k)
                msgs[names[k]].append(msg)
                records[names[k]].append((pid, msg, line))
            for n in names:
                out[n] = _odd_pick(msgs[n])
        peer.stop()
    finally:
        if rcv is not None:
            rcv.close()
    return out


def _odd_bytes(peer):
    with open(peer.log, "rb") as f:
        return f.read()


def _wait_quiet_file(peer, seconds=1.0):
    last = [len(_odd_bytes(peer)), time.monotonic()]

    def quiet():
        n = len(_odd_bytes(peer))
        if n != last[0]:
            last[0], last[1] = n, time.monotonic()
            return False
        return time.monotonic() - last[1] >= seconds
    poll_until(quiet, 30, interval=0.1)


def _odd_battery(ctx, stderr, names=None):
    user = _odd_user(ctx)
    only = os.environ.get("POSTERN_LOG_PARITY_ONLY")
    table = [t for t in _odd_scenarios()
             if (not only or t[0] in only.split(",")) and
             (names is None or t[0] in names)]
    order = []
    for name, group, what, val in table:
        if group not in [g for g, _i in order]:
            order.append((group, []))
        dict(order)[group].append((name, what, val))
    logs = {"sshd": {}, "postern": {}}
    records = {"sshd": {}, "postern": {}}
    for group, items in order:
        _both(lambda kind: logs[kind].update(_odd_run(
            ctx, user, kind, group, items, stderr, records[kind])))
    dump = os.environ.get("POSTERN_LOG_PARITY_DUMP")
    if dump:
        with open(dump, "a") as f:
            for name, *_r in table:
                f.write("=== %s (%s)\n" % (name, "stderr" if stderr
                                          else "syslog"))
                for kind in logs:
                    for m in logs[kind][name]:
                        f.write("  %-7s %r\n" % (kind, m))
    errors = []
    for name, _g, _w, val in table:
        want, got = logs["sshd"][name], logs["postern"][name]
        # On standard error sshd lets a newline through, which would
        # forge a line: postern writes it as \012 (docs/logging.md).
        if stderr and b"\n" in val and _w != "banner":
            check(all("\n" not in m for m in got) and len(got) == len(want),
                  "%s: postern's lines %r" % (name, got))
            continue
        if not want:
            errors.append("%s: sshd logged no line for it" % name)
        if want != got:
            errors.append("%s:\n  sshd    %r\n  postern %r" % (
                name, want, got))
    if not stderr:
        counts = {kind: _counts(ctx, kind + "_odd", records[kind])
                  for kind in records}
        for name, *_r in table:
            if counts["sshd"][name] != counts["postern"][name]:
                errors.append("%s: fail2ban/sshguard counts %s (sshd) vs "
                              "%s (postern); their lines:\n%s" % (
                                  name, counts["sshd"][name],
                                  counts["postern"][name], "\n".join(
                                      "  %-7s %s" % (kind, line)
                                      for kind in ("sshd", "postern")
                                      for _p, _m, line in
                                      records[kind][name])))
    if errors:
        fail("\n".join(errors))


@timeout(1200)
def test_log_parity_bytes(ctx):
    """Through syslog: each line that carries a client's odd text or an
    odd path, byte for byte sshd's; fail2ban and sshguard count the
    same."""
    _odd_battery(ctx, stderr=False)


@timeout(1200)
def test_log_parity_bytes_stderr(ctx):
    """The same on standard error (-D -e): "\\r\\n" line ends included."""
    _odd_battery(ctx, stderr="-e")


@timeout(600)
def test_log_parity_bytes_logfile(ctx):
    """A few of them in a -E file, the session process's lines included."""
    _odd_battery(ctx, stderr="E", names=(
        "password backslash", "password utf8", "kex long high",
        "subsystem backslash", "subsystem not utf8", "forward long high"))


# ---------------------------------------------------------------------------
# Accounts sshd refuses, and clients not seen above. Without PAM: with it
# each failure costs both servers pam_unix's delay, and the PAM paths are
# those of the scenarios above (the whole table with PAM, 51 scenarios,
# matched sshd's counts when it was made, in 7 minutes).

class AccountEnv(Env):
    def __init__(self, ctx):
        Env.__init__(self, ctx)
        self.expired = self._account(["chage", "-E", "0"])
        self.locked = self._account(["usermod", "-L"])
        self.bang = self._account(["usermod", "-p", "!"])
        self.badshell_path = os.path.join(ctx.dir, "noexec_shell")
        with open(self.badshell_path, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(self.badshell_path, 0o644)
        self.badshell = self._account(["usermod", "-s", self.badshell_path])
        self.nologin = self._account(["usermod", "-s", "/usr/sbin/nologin"])

    def _account(self, change):
        u = self.ctx.make_user()
        subprocess.run(["chpasswd"], check=True, input=(
            "%s:%s\n" % (u.name, self.password)).encode())
        with harness._users_lock:
            run(change + [u.name])
        return u

    def users(self):
        return Env.users(self) + [u.name for u in (
            self.expired, self.locked, self.bang, self.badshell,
            self.nologin)]


def account_groups(env):
    gr = groups(env)
    gr["startups"] = BASE + ["UsePAM no", "MaxStartups 1"]
    return gr


# fail2ban's counts (modes normal, ddos, aggressive) and sshguard's, as
# sshd 9.2's lines gave them.
ACCOUNT_COUNTS = {
    "expired key nopam": (1, 2, 2, 1),
    "expired password nopam": (2, 3, 3, 2),
    "expired password info": (1, 2, 2, 2),
    "locked key nopam": (1, 2, 2, 1),
    "locked password nopam": (2, 3, 3, 2),
    "locked password info": (1, 2, 2, 2),
    "bang key nopam": (1, 2, 2, 1),
    "bang password nopam": (2, 3, 3, 2),
    "bang password info": (1, 2, 2, 2),
    "badshell key nopam": (0, 1, 1, 1),
    "badshell password nopam": (1, 2, 2, 2),
    "badshell password info": (1, 2, 2, 2),
    "nologin key nopam": (0, 0, 0, 0),
    "password max tries": (4, 4, 4, 3),
    "password max tries invalid": (5, 5, 5, 5),
    "max startups": (0, 1, 1, 0),
    "no common mac": (0, 0, 1, 1),
    "empty user": (2, 3, 3, 0),
    "space user": (2, 3, 3, 2),
    "special user": (2, 3, 3, 3),
    "keyscan": (0, 1, 5, 5),
    "plink wrong password": (1, 2, 2, 2),
    "plink invalid user": (2, 3, 3, 3),
    "banner then close": (0, 0, 0, 0),
    "tls hello": (0, 1, 1, 0),
}


def account_scenarios(env):
    """As scenarios(), for accounts sshd refuses and clients not seen
    there; the counts from ACCOUNT_COUNTS."""
    pw, g = env.password, env.good

    def pref(method):
        return ["-o", "PreferredAuthentications=" + method]
    out = []
    for who in ("expired", "locked", "bang", "badshell", "nologin"):
        u = getattr(env, who)
        for grp in ("nopam", "info"):
            out.append(("%s key %s" % (who, grp), grp,
                        lambda s, u=u: s.ssh(u, key=u.key), []))
            out.append(("%s password %s" % (who, grp), grp,
                        lambda s, u=u: s.ssh(u, password=pw,
                                             extra=pref("password")), []))
    out += [
        ("password max tries", "nopam",
         lambda s: s.paramiko(g, "passwords4", "x"), []),
        ("password max tries invalid", "nopam",
         lambda s: s.paramiko(env.invalid, "passwords4", "x"), []),
        ("max startups", "startups", lambda s: s.startups(),
         [r"drop connection #1 from \[127\.0\.0\.1\]:\d+ on "
          r"\[127\.0\.0\.1\]:\d+ past MaxStartups"]),
        ("no common mac", "nopam",
         lambda s: s.ssh(g, extra=["-o", "Ciphers=aes128-ctr",
                                   "-o", "MACs=hmac-md5"]),
         [r"Unable to negotiate with %s: no matching MAC found\. Their "
          r"offer: hmac-md5 \[preauth\]" % P]),
        ("empty user", "nopam", lambda s: s.paramiko("", "password", "x"),
         [r"Invalid user  from %s" % P]),
        ("space user", "nopam",
         lambda s: s.paramiko("a b", "password", "x"),
         [r"Invalid user a b from %s" % P]),
        ("special user", "nopam",
         lambda s: s.paramiko("r$(id);`x`'\"", "password", "x"), []),
        ("keyscan", "nopam", lambda s: s.keyscan(), []),
        ("plink wrong password", "nopam", lambda s: s.plink(g, "x" + pw),
         [r"Failed password for %s from %s ssh2" % (re.escape(g.name), P)]),
        ("plink invalid user", "nopam",
         lambda s: s.plink(env.invalid, "x"), []),
        # A scanner's identification, then gone without reading the
        # server's: the server's KEXINIT meets the reset (EPIPE).
        ("banner then close", "nopam", lambda s: s.banner_close(),
         [r"ssh_dispatch_run_fatal: Connection from %s: Broken pipe "
          r"\[preauth\]" % P, ("none", r"Connection closed by .*")]),
        ("tls hello", "nopam",
         lambda s: s.raw(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"
                         + bytes(40)), []),
    ]
    table = []
    for name, group, action, rxs in out:
        if name not in ACCOUNT_COUNTS:
            continue
        n, d, a, sg = ACCOUNT_COUNTS[name]
        table.append((name, group, action, rxs,
                      {"normal": n, "ddos": d, "aggressive": a}, sg))
    return table


@timeout(1200)
def test_log_parity_accounts(ctx):
    _run_battery(ctx, account_scenarios, AccountEnv, account_groups)
