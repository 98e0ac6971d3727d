"""
test_sshguard.py: posternd's log lines from a scripted run of good and bad
logins, fed to Debian sshguard's own attack parser
(/usr/libexec/sshguard/sshg-parser, the stage of sshguard that reads log
lines and prints the attacks it finds; -a marks each line it counted).

Every line of ours in a wording sshguard's sshd grammar is written to
catch (checked first on OpenSSH's own lines) must be counted as an
attack, no other line may be, no line of a good login may be, and every
bad login must give sshguard at least one attack from its address.
The lines are those of `posternd -e`, given the syslog prefix
("Mmm dd hh:mm:ss HOST sshd[PID]: ") sshguard reads from journalctl or
/var/log/auth.log.
"""

import os
import re
import secrets
import socket
import subprocess
import time

from harness import check, send_all_tolerant, timeout, wait_closed

PARSER = "/usr/libexec/sshguard/sshg-parser"
A = r"127\.0\.0\.1"
P = r" port \d+"
# OpenSSH's failure lines that sshguard's sshd grammar counts as attacks.
ATTACK = [
    r"Invalid user \S+ from %s%s" % (A, P),
    r"Failed (?!none)\S+ for (?!invalid user )\S+ from %s%s ssh2.*" % (A, P),
    r"Failed (?!none|publickey)\S+ for invalid user \S+ from %s%s ssh2.*"
    % (A, P),
    r"(?:error: )?maximum authentication attempts exceeded for .* from "
    r"%s%s ssh2 \[preauth\]" % (A, P),
    r"User \S+ from %s not allowed because .*" % A,
    r"(?:Connection closed by|Disconnected from) (?:(?:authenticating|"
    r"invalid) user \S+ )?%s%s \[preauth\]" % (A, P),
    r"Connection reset by %s%s \[preauth\]" % (A, P),
    r"Unable to negotiate with %s%s: .*" % (A, P),
    r"Did not receive identification string from %s%s" % (A, P),
    r"Bad protocol version identification .* from %s%s" % (A, P),
    r"ROOT LOGIN REFUSED FROM %s%s" % (A, P),
]
FP = "SHA256:KNi09l7qS3+lmE+zIm8ySsJRLA6tiq92so6YwPGTHg0"
# OpenSSH's own lines: sshguard must count these (else this test's idea
# of its grammar is wrong) ...
OPENSSH_ATTACKS = [
    "Invalid user nosuch_ab12 from 127.0.0.1 port 41234",
    "Failed publickey for ptst_ab12 from 127.0.0.1 port 41234 ssh2: "
    "ED25519 " + FP,
    "Failed password for ptst_ab12 from 127.0.0.1 port 41234 ssh2",
    "Failed password for invalid user ptst_ab12 from 127.0.0.1 port 41234 "
    "ssh2",
    "Failed keyboard-interactive/pam for ptst_ab12 from 127.0.0.1 port "
    "41234 ssh2",
    "error: maximum authentication attempts exceeded for ptst_ab12 from "
    "127.0.0.1 port 41234 ssh2 [preauth]",
    "User ptst_ab12 from 127.0.0.1 not allowed because listed in DenyUsers",
    "Connection closed by authenticating user ptst_ab12 127.0.0.1 port "
    "41234 [preauth]",
    "Connection closed by invalid user ptst_ab12 127.0.0.1 port 41234 "
    "[preauth]",
    "Disconnected from authenticating user ptst_ab12 127.0.0.1 port 41234 "
    "[preauth]",
    "Unable to negotiate with 127.0.0.1 port 41234: no matching cipher "
    "found. Their offer: aes128-cbc [preauth]",
    "ROOT LOGIN REFUSED FROM 127.0.0.1 port 41234",
]
# ... and, sshguard 2.4's gaps, not count these failure lines of OpenSSH's.
OPENSSH_GAPS = [
    "Failed publickey for invalid user ptst_ab12 from 127.0.0.1 port 41234 "
    "ssh2: ED25519 " + FP,
    "banner exchange: Connection from 127.0.0.1 port 41234: invalid format",
    "kex_exchange_identification: client sent invalid protocol identifier "
    "\"GET / HTTP/1.0\"",
]
SUCCESS = [
    r"Accepted \S+ for \S+ from %s%s ssh2.*" % (A, P),
    r"Accepted key .* found at .*",
    r"Postponed \S+ for .*",
    r"Partial \S+ for .*",
    r"Starting session: .*",
    r"Received disconnect from %s%s:11: .*" % (A, P),
    r"Disconnected from user \S+ %s%s" % (A, P),
]


def _syslog(lines, pid):
    stamp = time.strftime("%b %e %H:%M:%S")
    host = socket.gethostname().split(".")[0]
    return "".join("%s %s sshd[%d]: %s\n" % (stamp, host, pid, l)
                   for l in lines)


def _parse(text):
    """sshg-parser -a on text: (lines counted as attacks, stdout)."""
    check(os.access(PARSER, os.X_OK), "%s missing (package sshguard)" % PARSER)
    p = subprocess.run([PARSER, "-a"], input=text.encode(),
                       capture_output=True, timeout=30)
    check(p.returncode == 0, "sshg-parser -a exited %d: %r"
          % (p.returncode, p.stderr))
    marked = [l[2:].split("]: ", 1)[1]
              for l in p.stdout.decode(errors="replace").splitlines()
              if l.startswith("* ")]
    p2 = subprocess.run([PARSER], input=text.encode(), capture_output=True,
                        timeout=30)
    return marked, p2.stdout.decode()


def _start(ctx, extra):
    ctx.write_config(extra)
    with open(ctx.config_path) as f:
        text = f.read()
    with open(ctx.config_path, "w") as f:
        f.write(text.replace("LogLevel DEBUG1", "LogLevel VERBOSE"))
    ctx.launch_server()


def _askpass(ctx, answer):
    script = os.path.join(ctx.dir, "askpass_%s.sh" % secrets.token_hex(3))
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % answer)
    os.chmod(script, 0o755)
    return dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
                DISPLAY=":0")


def _lines(ctx):
    return [l for l in ctx.server_log().splitlines() if l.strip()]


@timeout(120)
def test_sshguard_parser(ctx):
    marked, _ = _parse(_syslog(OPENSSH_ATTACKS + OPENSSH_GAPS, 4242))
    missing = [s for s in OPENSSH_ATTACKS if s not in marked]
    check(not missing, "sshguard does not count OpenSSH's lines this test "
          "expects it to: %s" % missing)
    gaps = [s for s in OPENSSH_GAPS if s in marked]
    check(not gaps, "sshguard now counts lines this test takes for gaps: "
          "%s" % gaps)
    for sample in OPENSSH_ATTACKS:
        check(any(re.fullmatch(rx, sample) for rx in ATTACK),
              "ATTACK does not describe OpenSSH's %r" % sample)
    for sample in OPENSSH_GAPS:
        check(not any(re.fullmatch(rx, sample) for rx in ATTACK),
              "ATTACK wrongly describes %r" % sample)

    good = ctx.make_user()
    denied = ctx.make_user()
    secret = "pw-" + secrets.token_hex(6)
    subprocess.run(["chpasswd"], input=("%s:%s\n" % (good.name, secret))
                   .encode(), check=True)
    _start(ctx, ["MaxAuthTries 3", "DenyUsers %s" % denied.name,
                 "PasswordAuthentication yes", "UsePAM no"])
    wrong = [ctx.new_key("wrong%d" % i) for i in range(4)]

    def pwd(user, password):
        argv = ctx.ssh_argv(user, "echo ok", batch=False, extra=(
            "-o", "PreferredAuthentications=password",
            "-o", "NumberOfPasswordPrompts=1"))
        return subprocess.run(argv, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=30,
                              env=_askpass(ctx, password))

    def garbage():
        s = ctx.raw_connect()
        send_all_tolerant(s, b"GET / HTTP/1.0\r\n\r\n")
        wait_closed(s, 10)
        s.close()
        return 255

    extra = []
    for k in wrong:
        extra += ["-i", k]
    # (name, bad, run): each opens exactly one connection.
    scenarios = [
        ("key accepted", False,
         lambda: ctx.ssh(good, "echo ok").rc == 0),
        ("password accepted", False,
         lambda: pwd(good, secret).returncode == 0),
        ("wrong key", True,
         lambda: ctx.ssh(good, "true", key=wrong[0]).rc == 255),
        ("invalid user", True,
         lambda: ctx.ssh("nosuch_" + good.name[5:], "true",
                         key=wrong[0]).rc == 255),
        ("wrong password", True,
         lambda: pwd(good, "wrong-" + secret).returncode == 255),
        ("DenyUsers", True, lambda: ctx.ssh(denied, "true").rc == 255),
        ("MaxAuthTries", True,
         lambda: ctx.ssh(good, "true", key=wrong[0], extra=extra).rc == 255),
        ("no common cipher", True,
         lambda: ctx.ssh(good, "true",
                         extra=["-o", "Ciphers=aes128-cbc"]).rc == 255),
        # sshguard 2.4 counts neither of OpenSSH's lines for this one.
        ("garbage banner", None, lambda: garbage() == 255),
    ]
    conns = []
    rx_conn = re.compile(r"^Connection from 127\.0\.0\.1 port (\d+) on ")
    for name, bad, run in scenarios:
        before = len([l for l in _lines(ctx) if rx_conn.match(l)])
        check(run(), "scenario %r did not end as scripted" % name)
        ok = ctx.wait_log(r"^Connection from 127\.0\.0\.1 port \d+ on ", 5)
        check(ok, "no Connection from line")
        conns_now = [rx_conn.match(l).group(1) for l in _lines(ctx)
                     if rx_conn.match(l)]
        check(len(conns_now) == before + 1,
              "scenario %r: %d connections" % (name,
                                                len(conns_now) - before))
        port = conns_now[-1]
        # Its last line: the connection is over.
        check(ctx.wait_log(r"(?:Disconnected from|Connection closed by|"
                           r"Unable to negotiate with|banner exchange: "
                           r"Connection from|maximum authentication "
                           r"attempts exceeded for) .*127\.0\.0\.1 port "
                           r"%s\b" % port, 10),
              "scenario %r: the connection's end was not logged" % name)
        conns.append((name, bad, port))
    time.sleep(0.5)  # the last monitor's final line
    ctx.stop_server()

    lines = [l for l in _lines(ctx) if not l.startswith("debug")]
    marked, attacks = _parse(_syslog(lines, ctx.proc.pid if ctx.proc
                                     else 1))
    should = [l for l in lines if any(re.fullmatch(rx, l) for rx in ATTACK)]
    missed = [l for l in should if l not in marked]
    extra_ = [l for l in marked if l not in should]
    check(not missed and not extra_,
          "sshguard\n  did not count:\n    %s\n  counted lines it should "
          "not:\n    %s\nlog:\n%s" % ("\n    ".join(missed) or "(none)",
                                      "\n    ".join(extra_) or "(none)",
                                      "\n".join(lines)))
    for l in marked:
        check(not any(re.fullmatch(rx, l) for rx in SUCCESS),
              "a success line counted as an attack: %s" % l)
    for name, bad, port in conns:
        mine = [l for l in lines if re.search(r" port %s\b" % port, l)]
        hits = [l for l in mine if l in marked]
        if bad:
            check(hits, "bad login %r gave sshguard no attack:\n%s"
                  % (name, "\n".join(mine)))
        elif bad is False:
            check(not hits, "good login %r counted as an attack: %s"
                  % (name, hits))
    check(attacks.strip() and all(a.split()[1] == "127.0.0.1"
                                  for a in attacks.splitlines()),
          "sshguard's attacks are not from 127.0.0.1: %r" % attacks)
