"""
test_audit.py: the audit trail through Debian's real auditd. posternd's
monitor writes, through libaudit, USER_AUTH for every authentication
verdict (with the key's fingerprint and the authorized_keys file and line
that matched), USER_LOGIN on success and at each failed attempt, CRYPTO_SESSION
for the transport, CRYPTO_KEY_USER when the session keys are gone and
USER_START/USER_END around the session; packaging/audit/postern.rules
loads, and a file watch records posternd reading authorized_keys. Read back
with ausearch, as docs/audit.md shows. auditd is started when it is not
running, and the system is left as it was found: rules removed, auditd
stopped, the kernel's audit switch restored.

When the kernel has no audit interface, posternd says so once and goes on.
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import time

import harness
from harness import (check, fail, fingerprint, poll_until,
                     run, timeout)

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = os.path.join(HERE, "..", "..", "packaging", "audit", "postern.rules")

AUDITD_CONF = """local_events = yes
write_logs = yes
log_file = {log}
log_format = ENRICHED
flush = DATA
freq = 0
max_log_file = 64
num_logs = 0
max_log_file_action = IGNORE
space_left = 75
space_left_action = IGNORE
admin_space_left = 50
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
plugin_dir = {dir}/plugins.d
q_depth = 2000
overflow_action = SYSLOG
end_of_event_timeout = 2
use_libwrap = no
transport = TCP
distribute_network = no
"""


def _audit_status():
    """auditctl -s as a dict; fails the test (never skips) when the kernel
    has no audit support."""
    p = run(["auditctl", "-s"], check_rc=False)
    if p.returncode != 0:
        fail("the kernel audit interface is not usable here (auditctl -s: "
             "%s)" % (p.stdout + p.stderr).decode(errors="replace").strip())
    st = {}
    for line in p.stdout.decode().splitlines():
        k, _, v = line.partition(" ")
        st[k] = v.strip()
    return st


def _rule_lines(path):
    with open(path) as f:
        return [l.split() for l in f
                if l.strip() and not l.lstrip().startswith("#")]


class Auditd:
    """A running auditd to read records from: the system's, or one started
    for the test (auditd -n, private config and log). undo() puts back
    what the test changed."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.proc = None
        self.added = []          # auditctl -w argument lists
        # One kernel audit daemon per machine: suites running side by side
        # take turns.
        self.lock = harness.HostLock("auditd")
        ctx.take_turn(self.lock.__enter__,
                      lambda: self.lock.__exit__(None, None, None),
                      "the audit daemon")
        st = _audit_status()
        self.enabled_before = st.get("enabled", "0")
        pid = int(st.get("pid", "0") or 0)
        ctx.cleanups.append(self.undo)
        if pid and os.path.exists("/proc/%d" % pid):
            self.log = None      # ausearch reads the system's log
            return
        d = os.path.join(ctx.dir, "auditd")
        os.makedirs(os.path.join(d, "plugins.d"), 0o700)
        self.log = os.path.join(d, "audit.log")
        conf = os.path.join(d, "auditd.conf")
        with open(conf, "w") as f:
            f.write(AUDITD_CONF.format(log=self.log, dir=d))
        os.chmod(conf, 0o600)
        out = open(os.path.join(d, "auditd.out"), "wb")
        self.proc = subprocess.Popen(["auditd", "-n", "-c", d],
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=out, start_new_session=True)
        out.close()
        ok = poll_until(lambda: self.proc.poll() is not None or
                        _audit_status().get("pid") == str(self.proc.pid), 10)
        check(self.proc.poll() is None and ok,
              "auditd did not start: %s" % open(os.path.join(
                  d, "auditd.out"), errors="replace").read())

    def watch(self, argv):
        """Add a rule given as auditctl -w or -a arguments; removed by
        undo()."""
        run(["auditctl"] + argv)
        self.added.append(argv)

    def undo(self):
        for argv in reversed(self.added):
            run(["auditctl", "-W" if argv[0] == "-w" else "-d"] + argv[1:],
                check_rc=False)
        self.added = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            # auditd switched auditing on; without it, leave it as found.
            run(["auditctl", "-e", self.enabled_before], check_rc=False)
        if self.lock is not None:
            self.lock.__exit__(None, None, None)
            self.lock = None

    def search(self, args, want, timeout_s=10):
        """ausearch ARGS -i until a line matches regex want; the output."""
        argv = ["ausearch"] + (["-if", self.log] if self.log else []) + \
            list(args) + ["-i"]
        rx = re.compile(want, re.M)
        last = {"out": ""}

        def look():
            p = run(argv, check_rc=False)
            last["out"] = p.stdout.decode(errors="replace")
            return rx.search(last["out"])
        if poll_until(look, timeout_s) is None:
            fail("no audit record matches %r in `%s`:\n%s" % (
                want, " ".join(argv), "\n".join(last["out"].splitlines()[-30:])))
        return last["out"]


def load_rules(ad, ctx):
    """Load packaging/audit/postern.rules, its exe= the server under test
    (the rules name the installed /usr/sbin/posternd)."""
    exe = "exe=" + os.path.realpath(ctx.server_path)
    # A watch needs its directory (root's .ssh), which a fresh machine may
    # lack; ad holds the auditd lock, so no other test removes it meanwhile.
    if not os.path.isdir("/root/.ssh"):
        os.mkdir("/root/.ssh", 0o700)
        ctx.cleanups.append(lambda: os.rmdir("/root/.ssh"))
    for words in _rule_lines(RULES):
        check(words[0] in ("-w", "-a"),
              "postern.rules: not a watch or rule: %s" % words)
        ad.watch([exe if w == "exe=/usr/sbin/posternd" else w
                  for w in words])


def _authorize_on_line_2(ctx, u):
    """authorized_keys with a comment first: the key is on line 2."""
    sshdir = os.path.join(u.home, ".ssh")
    os.makedirs(sshdir, exist_ok=True)
    with open(os.path.join(sshdir, "authorized_keys"), "w") as f:
        f.write("# keys of %s\n" % u.name)
    ctx.authorize(u, u.pubkey)
    return os.path.join(sshdir, "authorized_keys")


@timeout(120)
def test_audit_records(ctx):
    ad = Auditd(ctx)
    u = ctx.make_user(with_key=False)
    ak = _authorize_on_line_2(ctx, u)
    wkey = "postern-test-%s" % u.name
    # The first rule that matches names the event: before the shipped ones.
    ad.watch(["-w", ak, "-p", "r", "-k", wkey])
    load_rules(ad, ctx)
    listed = run(["auditctl", "-l"]).stdout.decode()
    for d, key in (("/home", "postern-user-files"),
                   ("/root", "postern-user-files"),
                   ("/etc/ssh", "postern-ssh-files")):
        check(re.search(r"^-a always,exit -F arch=b64 -S openat "
                        r"-F dir=%s -F perm=r "
                        r"-F exe=%s -F key=%s$" % (
                            re.escape(d), re.escape(os.path.realpath(
                                ctx.server_path)), key), listed, re.M),
              "auditctl -l lacks the rule on posternd's reads under %s:\n%s"
              % (d, listed))
    for path, key in (("/root/.ssh/authorized_keys", "postern-authorized-keys"),
                      ("/etc/ssh/sshd_config", "postern-config"),
                      ("/etc/ssh/sshd_config.d", "postern-config"),
                      ("/etc/users.oath", "postern-totp")):
        check(re.search(r"^-w %s -p rwa -k %s$" % (re.escape(path), key),
                        listed, re.M),
              "auditctl -l lacks the watch on %s:\n%s" % (path, listed))

    ctx.start_server()
    fp = fingerprint(u.pubkey)
    other = ctx.new_key("stranger")
    other_fp = fingerprint(other + ".pub")

    # A refused key first, then the login.
    r = ctx.ssh(u, "true", key=other)
    check(r.rc == 255, "a key not in authorized_keys logged in: %r" % r)
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    m = ctx.wait_log(r"^Accepted publickey for %s from 127\.0\.0\.1 port "
                     r"(\d+) ssh2: ED25519 %s$"
                     % (re.escape(u.name), re.escape(fp)), 10)
    check(m, "no Accepted line for %s" % u.name)
    rport = m.group(1)
    check(ctx.wait_log(r"^Disconnected from user %s " % re.escape(u.name), 10),
          "the session did not end")

    acct = r"acct=%s " % re.escape(u.name)
    exe = r"exe=%s " % re.escape(os.path.realpath(ctx.server_path))
    tail = r"hostname=127\.0\.0\.1 addr=127\.0\.0\.1 terminal=ssh res=%s"
    uid = r"id=(%d|%s) " % (u.uid, re.escape(u.name))  # raw or -i
    auth_ok = (r"type=USER_AUTH .* msg='op=publickey %skey_type=ED25519 "
               r"key_fp=%s file=%s line=2 chain=complete %s" + tail) % (
        acct, re.escape(fp), re.escape(ak), exe, "success")
    auth_bad = (r"type=USER_AUTH .* msg='op=publickey %skey_type=ED25519 "
                r"key_fp=%s %s" + tail) % (acct, re.escape(other_fp), exe,
                                           "failed")
    # Each record is written when its decision is made: wait for the last
    # one (the successful login), then check the others.
    login_ok = (r"type=USER_LOGIN .* msg='op=login %s%s" + tail) % (
        uid, exe, "success")
    ad.search(["-m", "USER_AUTH,USER_LOGIN", "-ts", "recent"], auth_ok)
    out = ad.search(["-m", "USER_AUTH,USER_LOGIN", "-ts", "recent"], login_ok)
    check(re.search(auth_bad, out, re.M),
          "no USER_AUTH res=failed record for the refused key %s" % other_fp)
    check(re.search((r"type=USER_LOGIN .* msg='op=login %s%s" + tail)
                    % (uid, exe, "success"), out, re.M),
          "no USER_LOGIN res=success record for %s" % u.name)
    # A failed login as sshd's: the name, no host name, terminal=sshd.
    check(re.search(r"type=USER_LOGIN .* msg='op=login %s%shostname=\? "
                    r"addr=127\.0\.0\.1 terminal=sshd res=failed"
                    % (acct, exe), out, re.M),
          "no USER_LOGIN res=failed record for the refused connection")

    # A certificate through a cert-authority line (line 3): its ID, serial
    # and CA are recorded with the line.
    ca = ctx.new_key("ca")
    with open(ak, "a") as f:
        f.write("cert-authority %s" % open(ca + ".pub").read())
    ukey = ctx.new_key("certified")
    run(["ssh-keygen", "-q", "-s", ca, "-I", "audit id 7", "-n", u.name,
         "-z", "7", ukey + ".pub"])
    ctx.ssh_ok(u, "true", key=ukey)
    cert_ok = (r"type=USER_AUTH .* msg='op=publickey %skey_type=ED25519-CERT "
               r"key_fp=%s cert_id=%s cert_serial=7 ca_type=ED25519 ca_fp=%s "
               r"file=%s line=3 chain=complete %s" + tail) % (
        acct, re.escape(fingerprint(ukey + ".pub")),
        "61756469742069642037",  # "audit id 7", hex-encoded: it has blanks
        re.escape(fingerprint(ca + ".pub")), re.escape(ak), exe, "success")
    ad.search(["-m", "USER_AUTH", "-ts", "recent"], cert_ok)

    # The transport the session took over, and its end.
    out = ad.search(["-m", "CRYPTO_SESSION,CRYPTO_KEY_USER", "-ts",
                     "recent"], r"op=destroy kind=session .*rport=%s " % rport)
    for direction in ("from-client", "from-server"):
        check(re.search(r"type=CRYPTO_SESSION .* msg='op=start direction=%s "
                        r"cipher=\S+ ksize=\d+ mac=\S+ "
                        r"pfs=(?:sntrup761x25519-sha512|mlkem768x25519-sha256|"
                        r"curve25519-sha256)"
                        r"\S* hostkey=ssh-ed25519 spid=\d+ suid=postern "
                        r"rport=%s laddr=127\.0\.0\.1 lport=%d " % (
                            direction, rport, ctx.port), out, re.M),
              "no CRYPTO_SESSION %s record for port %s" % (direction, rport))
        check(re.search(r"type=CRYPTO_KEY_USER .* msg='op=destroy "
                        r"kind=session fp=\? direction=%s spid=\d+ suid=%s "
                        r"rport=%s " % (direction, re.escape(u.name), rport),
                        out, re.M),
              "no CRYPTO_KEY_USER destroy %s record for port %s"
              % (direction, rport))
    out = ad.search(["-m", "USER_START,USER_END", "-ts", "recent"],
                    r"type=USER_END .* msg='op=login %s" % acct)
    check(re.search(r"type=USER_START .* msg='op=login %s%s" % (acct, exe),
                    out, re.M), "no USER_START record for %s" % u.name)

    # The watch: posternd's monitor (comm sshd) read authorized_keys.
    out = ad.search(["-k", wkey], r"name=%s " % re.escape(ak))
    check(re.search(r"type=SYSCALL .* comm=sshd %s" % exe.rstrip(), out,
                    re.M),
          "the authorized_keys read was not recorded for comm=sshd:\n%s"
          % "\n".join(out.splitlines()[-12:]))
    # The shipped rules record it for every user under /home.
    v = ctx.make_user()
    ctx.ssh_ok(v, "true")
    vak = os.path.join(v.home, ".ssh", "authorized_keys")
    out = ad.search(["-k", "postern-user-files"], r"name=%s " %
                    re.escape(vak))
    check(re.search(r"type=SYSCALL .* comm=sshd %s" % exe.rstrip(), out,
                    re.M),
          "the shipped rules did not record posternd reading %s:\n%s"
          % (vak, "\n".join(out.splitlines()[-12:])))
    # Opens only: not the readlink() calls of realpath() in the path
    # checks, which aureport -k listed as failed accesses (review).
    check(not re.search(r"type=SYSCALL .*syscall=readlink ", out, re.M),
          "the shipped rules record posternd's readlink calls:\n%s"
          % "\n".join(l for l in out.splitlines() if "readlink" in l)[-2000:])
    # The shipped rules record a read of sshd_config too.
    if os.path.exists("/etc/ssh/sshd_config"):
        run(["head", "-c", "1", "/etc/ssh/sshd_config"])
        ad.search(["-k", "postern-config", "-ts", "recent"],
                  r"type=SYSCALL .* comm=head .*key=postern-config")



@timeout(120)
def test_audit_sk_certificate(ctx):
    """A certificate of a FIDO key (ed25519-sk, through the test's
    software authenticator): its CA's fingerprint is recorded as it is
    (review: the log line goes on with ", signature count = N" after it,
    and ca_fp= kept the comma)."""
    ad = Auditd(ctx)
    so = os.path.join(os.path.dirname(os.path.abspath(ctx.server_path)),
                      "tests", "soft_sk.so")
    check(os.path.exists(so), "%s missing (make builds it)" % so)
    u = ctx.make_user(with_key=False)
    key = os.path.join(ctx.dir, "sk_%s" % u.name)
    run(["ssh-keygen", "-q", "-t", "ed25519-sk", "-w", so, "-N", "", "-f",
         key], stdin=subprocess.DEVNULL)
    ca = ctx.new_key("sk_ca")
    run(["ssh-keygen", "-q", "-s", ca, "-I", "skid", "-n", u.name, "-z", "9",
         key + ".pub"])
    ctx.start_server(extra_config=["TrustedUserCAKeys %s.pub" % ca])
    ctx.ssh_ok(u, "true", key=key,
               extra=["-o", "SecurityKeyProvider=%s" % so])
    want = (r"type=USER_AUTH .* msg='op=publickey acct=%s "
            r"key_type=ED25519-SK-CERT key_fp=%s cert_id=\S+ cert_serial=9 "
            r"ca_type=ED25519 ca_fp=%s file=%s chain=complete " % (
                re.escape(u.name), re.escape(fingerprint(key + ".pub")),
                re.escape(fingerprint(ca + ".pub")),
                re.escape(ca + ".pub")))
    ad.search(["-m", "USER_AUTH", "-ts", "recent"], want)


@timeout(120)
def test_audit_totp_second_factor(ctx):
    """publickey then keyboard-interactive:totp (a TOTPUsersFile and
    ~/.google_authenticator): USER_AUTH for each verdict, the key's with
    chain=partial, the code's with file= naming the file that judged it
    (res=failed for a wrong code, chain=complete res=success for the
    right one)."""
    import test_totp as tt
    ad = Auditd(ctx)
    a = ctx.make_user(with_key=False)
    ak = _authorize_on_line_2(ctx, a)
    b = ctx.make_user()
    key = tt._hexkey()
    users = tt._users_file(ctx, ["HOTP/T30 %s - %s" % (a.name, key)])
    secret = tt._b32key()
    ga = tt._ga_file(b, "%s\n\" TOTP_AUTH\n" % secret)
    ctx.start_server(extra_config=[
        "TOTPUsersFile " + users, "KbdInteractiveAuthentication yes",
        "AuthenticationMethods publickey,keyboard-interactive:totp"])
    now = time.time()
    p = tt._login(ctx, a, tt._wrong([tt._totp(key, s, when=now)
                                     for s in (-2, -1, 0, 1, 2)]))
    check(tt._refused(p), "a wrong code logged in: rc %s" % p.returncode)
    p = tt._login(ctx, a, tt._totp(key, when=now))
    check(tt._admitted(p), "key + code did not log in: rc %s %s"
          % (p.returncode, p.stderr[-300:]))
    p = tt._login(ctx, b, tt._totp(secret, base32=True, when=now))
    check(tt._admitted(p), "key + code (~/.google_authenticator) did not "
          "log in: rc %s %s" % (p.returncode, p.stderr[-300:]))

    exe = r"exe=%s " % re.escape(os.path.realpath(ctx.server_path))
    tail = r"hostname=127\.0\.0\.1 addr=127\.0\.0\.1 terminal=ssh res=%s"
    totp = r"type=USER_AUTH .* msg='op=keyboard-interactive:totp acct=%s "
    out = ad.search(["-m", "USER_AUTH", "-ts", "recent"],
                    (totp + r"file=%s chain=complete %s" + tail) % (
                        re.escape(b.name), re.escape(ga), exe, "success"))
    for want, what in (
            ((r"type=USER_AUTH .* msg='op=publickey acct=%s key_type=ED25519 "
              r"key_fp=%s file=%s line=2 chain=partial %s" + tail) % (
                  re.escape(a.name), re.escape(harness.fingerprint(a.pubkey)),
                  re.escape(ak), exe, "success"), "the key's partial success"),
            ((totp + r"file=%s %s" + tail) % (
                re.escape(a.name), re.escape(users), exe, "failed"),
             "the wrong code's failure"),
            ((totp + r"file=%s chain=complete %s" + tail) % (
                re.escape(a.name), re.escape(users), exe, "success"),
             "the code's success")):
        check(re.search(want, out, re.M), "no USER_AUTH record for %s:\n%s"
              % (what, "\n".join(l for l in out.splitlines()
                                 if "USER_AUTH" in l)[-3000:]))


@timeout(120)
def test_audit_login_success_not_failed(ctx):
    """A login that succeeds writes USER_LOGIN res=success only, in the
    form of sshd's (id=UID, hostname=, which aulast reads): no res=failed
    record, and no CRYPTO_KEY_USER destroy of preauth's keys, which live on
    in the session. The client's first "none" request, which checks no
    password, is not audited, as sshd does not: aureport counts no
    failed authentication for a login that succeeded."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    ctx.start_server()
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    m = ctx.wait_log(r"^Accepted publickey for %s from 127\.0\.0\.1 port "
                     r"(\d+) " % re.escape(u.name), 10)
    check(m, "no Accepted line for %s" % u.name)
    rport = m.group(1)
    acct = r"acct=%s " % re.escape(u.name)
    # USER_END is the connection's last record.
    out = ad.search(["-m", "USER_AUTH,USER_LOGIN,USER_END,CRYPTO_KEY_USER",
                     "-ts", "recent"], r"type=USER_END .* msg='op=login %s"
                    % acct)
    logins = [l for l in out.splitlines()
              if re.search(r"type=USER_LOGIN .* msg='op=login (%s|id=%s )"
                           % (acct, re.escape(u.name)), l)]
    check(len(logins) == 1 and
          logins[0].rstrip().endswith("res=success'") and
          "hostname=127.0.0.1 " in logins[0],
          "want one USER_LOGIN res=success for %s, got:\n%s"
          % (u.name, "\n".join(logins)))
    destroys = [l for l in _crypto_records(out, rport, ctx.port)
                if "type=CRYPTO_KEY_USER" in l]
    check(len(destroys) == 2 and
          all("suid=%s " % u.name in l for l in destroys),
          "want the session's two CRYPTO_KEY_USER destroy records only "
          "(suid=%s), got:\n%s" % (u.name, "\n".join(destroys)))
    check(not re.search(r"type=USER_AUTH .* msg='op=none %s" % acct, out,
                        re.M),
          "the client's first request (none) was audited:\n%s" % "\n".join(
              l for l in out.splitlines() if acct in l))



def test_audit_aulast_lists_login(ctx):
    """aulast, which reads a login's id= and session, lists a postern
    login as it lists sshd's: UsePAM yes with pam_loginuid (Debian's
    sshd stack) gives the monitor the user's audit session."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    svc = ctx.pam_service(["auth required pam_unix.so",
                           "account required pam_unix.so",
                           "session required pam_loginuid.so",
                           "session required pam_unix.so"])
    ctx.start_server(extra_config=["UsePAM yes", "PAMServiceName " + svc])
    r = ctx.ssh(u, "tty", extra=("-tt",))
    check(r.rc == 0, "pty login failed: rc %s %r" % (r.rc, r.stderr[-300:]))
    ad.search(["-m", "USER_END", "-ts", "recent"],
              r"type=USER_END .* msg='op=login acct=%s " % re.escape(u.name))
    raw = run(["ausearch"] + (["-if", ad.log] if ad.log else []) +
              ["-ts", "recent", "--raw"], check_rc=False).stdout
    p = run(["aulast", "--stdin"], check_rc=False, input=raw)
    out = p.stdout.decode(errors="replace")
    # aulast shows the first 8 bytes of a name.
    check(p.returncode == 0 and re.search(r"^%s\s+pts/\d+\s+127\.0\.0\.1 "
                                          % re.escape(u.name[:8]), out,
                                          re.M),
          "aulast does not list the pty login from 127.0.0.1: rc %s %r"
          % (p.returncode, out[-800:]))


@timeout(120)
def test_audit_login_refused_by_chroot(ctx):
    """A login that authenticates but is refused before its session
    (ChrootDirectory with unsafe modes) is a failed login for the audit
    trail: USER_LOGIN res=failed, never res=success, and the keys it
    negotiated are destroyed (CRYPTO_KEY_USER, both directions)."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    jail = os.path.join(ctx.dir, "jail")
    os.mkdir(jail)
    os.chmod(jail, 0o777)   # and its parent /tmp is world-writable
    ctx.start_server(extra_config=["ChrootDirectory " + jail])
    r = ctx.ssh(u, "echo ok")
    check(r.rc != 0 and r.stdout == b"", "the chroot was not refused: %r"
          % (r,))
    m = ctx.wait_log(r"^Accepted publickey for %s from 127\.0\.0\.1 port "
                     r"(\d+) " % re.escape(u.name), 10)
    check(m, "no Accepted line for %s" % u.name)
    rport = m.group(1)
    check(ctx.wait_log(r"^bad ownership or modes for chroot", 10),
          "no chroot refusal line")
    acct = r"acct=%s " % re.escape(u.name)
    out = ad.search(["-m", "USER_LOGIN,CRYPTO_KEY_USER", "-ts", "recent"],
                    r"type=USER_LOGIN .* msg='op=login %s.*res=failed" % acct)
    check(not re.search(r"type=USER_LOGIN .* msg='op=login (%s|id=%s ).*"
                        r"res=success" % (acct, re.escape(u.name)), out,
                        re.M),
          "a login refused by ChrootDirectory was recorded as a success:\n%s"
          % out)
    destroys = [l for l in _crypto_records(out, rport, ctx.port)
                if "type=CRYPTO_KEY_USER" in l]
    for direction in ("from-client", "from-server"):
        check(any("direction=%s " % direction in l for l in destroys),
              "no CRYPTO_KEY_USER destroy %s for the refused login (port "
              "%s):\n%s" % (direction, rport, "\n".join(destroys)))



@timeout(120)
def test_audit_rules_file_loads_whole(ctx):
    """The shipped file as auditctl -R (augenrules --load) reads it, after
    the documented install -d of root's .ssh (here: the root watch moved
    to a directory the test makes): every rule loads, exit status 0."""
    ad = Auditd(ctx)
    exe = "exe=" + os.path.realpath(ctx.server_path)
    root_ssh = os.path.join(ctx.dir, "root.ssh")
    os.mkdir(root_ssh, 0o700)
    moved = os.path.join(root_ssh, "authorized_keys")
    path = os.path.join(ctx.dir, "postern.rules")
    with open(RULES) as f, open(path, "w") as o:
        text = f.read()
        check("-w /root/.ssh/authorized_keys " in text,
              "postern.rules has no watch on root's authorized_keys")
        o.write(text.replace("-w /root/.ssh/authorized_keys ",
                             "-w %s " % moved)
                .replace("exe=/usr/sbin/posternd", exe))
    rules = _rule_lines(path)
    check(all(w[0] in ("-w", "-a") for w in rules),
          "postern.rules has a line that is not a watch or rule: %r" % rules)
    # Each rule is removed again by ad.undo().
    ad.added.extend(rules)
    r = run(["auditctl", "-R", path], check_rc=False)
    check(r.returncode == 0, "auditctl -R failed (exit %d):\n%s"
          % (r.returncode, r.stderr.decode(errors="replace")))
    listed = run(["auditctl", "-l"]).stdout.decode()
    for w in rules:
        if w[0] == "-w":
            # (auditctl -l shows a directory without its last slash)
            want = r"^-w %s -p " % re.escape(w[1].rstrip("/") or "/")
        else:
            d = [x for x in w if x.startswith("dir=")]
            check(len(d) == 1, "postern.rules: rule without dir=: %s" % w)
            want = r"^-a always,exit .*-F %s .*-F key=%s$" % (
                re.escape(d[0]), re.escape(w[-1]))
        check(re.search(want, listed, re.M),
              "%s is not loaded:\n%s" % (" ".join(w), listed))


@timeout(120)
def test_audit_rules_cover_central_authorized_keys(ctx):
    """AuthorizedKeysFile /etc/ssh/authorized_keys/%u: the shipped rules
    record posternd reading it (postern-ssh-files), and the USER_AUTH
    record names it with the line."""
    ad = Auditd(ctx)
    load_rules(ad, ctx)
    u = ctx.make_user(with_key=False)
    d = "/etc/ssh/authorized_keys"
    if not os.path.isdir(d):
        os.makedirs(d, 0o755)
        ctx.cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
    ak = os.path.join(d, u.name)
    with open(u.key + ".pub") as f, open(ak, "w") as o:
        o.write(f.read())
    os.chmod(ak, 0o644)
    ctx.cleanups.append(lambda: os.path.exists(ak) and os.unlink(ak))
    # (the harness's AuthorizedKeysFile comes first: Match overrides it)
    ctx.start_server(extra_config=["Match User " + u.name,
                                   "AuthorizedKeysFile %s/%%u" % d])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    exe = "exe=%s" % re.escape(os.path.realpath(ctx.server_path))
    out = ad.search(["-k", "postern-ssh-files", "-ts", "recent"],
                    r"name=%s " % re.escape(ak))
    check(re.search(r"type=SYSCALL .* comm=sshd %s" % exe, out, re.M),
          "the shipped rules did not record posternd reading %s:\n%s"
          % (ak, "\n".join(out.splitlines()[-12:])))
    ad.search(["-m", "USER_AUTH", "-ts", "recent"],
              r"type=USER_AUTH .* msg='op=publickey acct=%s .* file=%s "
              r"line=1 chain=complete %s" % (re.escape(u.name),
                                             re.escape(ak), exe))



@timeout(120)
def test_audit_pty_login(ctx):
    """A session on a pty is recorded with its terminal, as sshd records a
    pty login: USER_LOGIN op=login terminal=/dev/pts/N res=success, when
    the login is written to utmp; the connection's own records keep
    terminal=ssh."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    ctx.start_server()
    r = ctx.ssh(u, "tty", extra=("-tt",))
    tty = r.stdout.decode(errors="replace").strip()
    check(r.rc == 0 and re.match(r"^/dev/pts/\d+$", tty),
          "no pty session: rc %s %r" % (r.rc, r.stdout))
    acct = r"acct=%s " % re.escape(u.name)
    exe = r"exe=%s " % re.escape(os.path.realpath(ctx.server_path))
    out = ad.search(["-m", "USER_LOGIN,USER_END", "-ts", "recent"],
                    r"type=USER_END .* msg='op=login %s" % acct)
    uid = r"id=%s " % re.escape(u.name)  # ausearch -i names the uid
    check(re.search(r"type=USER_LOGIN .* msg='op=login %s%shostname="
                    r"127\.0\.0\.1 addr=127\.0\.0\.1 terminal=%s "
                    r"res=success'" % (uid, exe, re.escape(tty)), out, re.M),
          "no USER_LOGIN record with terminal=%s:\n%s" % (tty, "\n".join(
              l for l in out.splitlines() if acct in l)))
    check(re.search(r"type=USER_LOGIN .* msg='op=login %s%shostname="
                    r"127\.0\.0\.1 addr=127\.0\.0\.1 terminal=ssh "
                    r"res=success'" % (uid, exe), out, re.M),
          "no USER_LOGIN terminal=ssh record for the connection")


def _crypto_records(out, rport, lport):
    """The CRYPTO_SESSION and CRYPTO_KEY_USER lines of one connection: its
    client's port and the server's (another test's client may have had
    the same port)."""
    return [l for l in out.splitlines()
            if re.search(r"type=CRYPTO_(?:SESSION|KEY_USER) .* rport=%s "
                         r"laddr=\S+ lport=%s " % (rport, lport), l)]


def _preauth_keys_destroyed(ad, rport, lport, types="CRYPTO_KEY_USER"):
    """Wait for the CRYPTO_KEY_USER destroy records, both directions, of
    preauth's keys on the connection from port rport to port lport;
    ausearch's output (records of the given types)."""
    rx = (r"type=CRYPTO_KEY_USER .* msg='op=destroy kind=session fp=\? "
          r"direction=%s spid=\d+ suid=postern rport=%s laddr=\S+ "
          r"lport=%s ")
    out = ad.search(["-m", types, "-ts", "recent"],
                    rx % ("from-server", rport, lport))
    check(re.search(rx % ("from-client", rport, lport), out),
          "no CRYPTO_KEY_USER destroy from-client for port %s" % rport)
    return out


def _login_records(ad, ctx, *since):
    """The USER_LOGIN records this test's server wrote since SINCE."""
    q = run(["ausearch"] + (["-if", ad.log] if ad.log else []) +
            ["-m", "USER_LOGIN", "-ts"] + list(since) + ["-i"],
            check_rc=False)
    exe = "exe=%s " % os.path.realpath(ctx.server_path)
    return [l for l in q.stdout.decode(errors="replace").splitlines()
            if exe in l]


PASSWORDS_CLIENT = r"""
import socket, sys
import paramiko
port, user, n, src = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
t = paramiko.Transport(socket.create_connection(("127.0.0.1", port), 10,
                                                source_address=(src, 0)))
t.start_client(timeout=10)
for i in range(n):
    try:
        t.auth_password(user, "wrong-%d" % i)
    except paramiko.AuthenticationException:
        pass
t.close()
"""


@timeout(120)
def test_audit_failed_login_per_attempt(ctx):
    """USER_LOGIN res=failed as sshd 9.2 writes them (checked side by
    side): one per attempt logged as Failed, as it fails, two for a user
    that does not exist (sshd's monitor and its preauth child each report
    that), one for a user DenyUsers refuses (its preauth child only);
    aureport --login --failed counts the same (review: one per
    connection, at its end)."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    subprocess.run(["chpasswd"], check=True,
                   input=("%s:Right-pw-%s\n" % (u.name, secrets.token_hex(4))
                          ).encode())
    denied = ctx.make_user()
    ctx.start_server(extra_config=["PasswordAuthentication yes",
                                   "DenyUsers " + denied.name])
    bad = "nosuch" + secrets.token_hex(3)
    # The client's own loopback address: other tests' records do not count.
    src = "127.%d.%d.%d" % tuple(secrets.randbelow(250) + 2 for _ in range(3))
    for user, tries, want in ((u.name, 3, 3), (bad, 1, 3),
                              (denied.name, 1, 2)):
        since = time.strftime("%x %H:%M:%S").split()
        time.sleep(1)  # records of this second on
        p = subprocess.run(["/usr/bin/python3", "-c", PASSWORDS_CLIENT,
                            str(ctx.port), user, str(tries), src],
                           capture_output=True, timeout=60)
        check(p.returncode == 0, "paramiko client: %r" % p.stderr[-300:])
        acct = "acct=%s " % (u.name if user == u.name else "(invalid user)")

        def failed():
            return [l for l in _login_records(ad, ctx, *since)
                    if acct in l and "res=failed" in l and
                    " addr=%s " % src in l]
        poll_until(lambda: len(failed()) >= want, 10)
        time.sleep(1)  # and no more come
        got = failed()
        check(len(got) == want, "%s: want %d USER_LOGIN res=failed, got "
              "%d:\n%s" % (acct, want, len(got), "\n".join(got)))


NONE_CLIENT = r"""
import socket, sys
import paramiko
port, user, src = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t = paramiko.Transport(socket.create_connection(("127.0.0.1", port), 10,
                                                source_address=(src, 0)))
t.start_client(timeout=10)
try:
    t.auth_none(user)
except paramiko.BadAuthenticationType:
    pass
t.close()
"""


@timeout(120)
def test_audit_pam_ends_with_failed_connection(ctx):
    """UsePAM yes: a connection that ends without a login ends PAM too, as
    sshd: its modules clean up, and libpam writes its USER_ERR
    op=PAM:bad_ident for a handle no PAM step used (review: the monitor
    exited without pam_end)."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    ctx.start_server(extra_config=["UsePAM yes"])
    src = "127.%d.%d.%d" % tuple(secrets.randbelow(250) + 2 for _ in range(3))
    p = subprocess.run(["/usr/bin/python3", "-c", NONE_CLIENT, str(ctx.port),
                        u.name, src], capture_output=True, timeout=60)
    check(p.returncode == 0, "paramiko client: %r" % p.stderr[-300:])
    ad.search(["-m", "USER_ERR", "-ts", "recent"],
              r"type=USER_ERR .* msg='op=PAM:bad_ident .* addr=%s "
              r"terminal=ssh res=failed" % re.escape(src))


def test_audit_no_failed_login_without_attempt(ctx):
    """A connection that never had an attempt judged (a client with no
    usable method, whose "none" checks no password) is no failed login,
    as sshd writes none: its keys' CRYPTO_KEY_USER records, no
    USER_LOGIN res=failed (which aureport --failed would count). One
    refused key is."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    ctx.start_server()
    r = ctx.ssh(u, "true", extra=("-o", "PreferredAuthentications=password"))
    check(r.rc == 255, "no method should have logged in: %r" % (r,))
    m = ctx.wait_log(r"^Connection closed by authenticating user %s "
                     r"127\.0\.0\.1 port (\d+) \[preauth\]"
                     % re.escape(u.name), 10)
    check(m, "no 'Connection closed by authenticating user' line")
    rport = m.group(1)
    other = ctx.new_key("stranger")
    r = ctx.ssh(u, "true", key=other)
    check(r.rc == 255, "a key not in authorized_keys logged in: %r" % (r,))
    m = ctx.wait_log(r"^Connection closed by authenticating user %s "
                     r"127\.0\.0\.1 port (?!%s)(\d+) \[preauth\]"
                     % (re.escape(u.name), rport), 10)
    check(m, "no closing line for the refused key's connection")
    kport = m.group(1)
    pids = {}
    for port in (rport, kport):
        out = _preauth_keys_destroyed(ad, port, ctx.port)
        line = _crypto_records(out, port, ctx.port)[0]
        pids[port] = re.search(r" pid=(\d+) ", line).group(1)
    out = ad.search(["-m", "USER_LOGIN", "-ts", "recent"],
                    r"type=USER_LOGIN .* pid=%s .*res=failed" % pids[kport])
    check(not re.search(r"type=USER_LOGIN .* pid=%s " % pids[rport], out),
          "a connection without a judged attempt wrote USER_LOGIN:\n%s"
          % "\n".join(l for l in out.splitlines()
                      if "pid=%s " % pids[rport] in l))


def test_audit_keyscan_leaves_no_key_records(ctx):
    """ssh-keyscan takes the host key and leaves before NEWKEYS: no
    session keys were recorded (no CRYPTO_SESSION start), so none is
    recorded as destroyed either. A client that completes the exchange
    and is refused gets both, as before."""
    ad = Auditd(ctx)
    u = ctx.make_user()
    ctx.start_server()
    p = run(["ssh-keyscan", "-t", "ed25519", "-p", str(ctx.port),
             "127.0.0.1"], check_rc=False)
    check(b"ssh-ed25519" in p.stdout, "ssh-keyscan got no key: %r"
          % p.stdout)
    m = ctx.wait_log(r"^Connection from 127\.0\.0\.1 port (\d+) ", 10)
    check(m, "no Connection line for ssh-keyscan")
    sport = m.group(1)
    r = ctx.ssh(u, "true", key=ctx.new_key("stranger"))
    check(r.rc == 255, "a key not in authorized_keys logged in: %r" % (r,))
    m = ctx.wait_log(r"^Connection from 127\.0\.0\.1 port (?!%s)(\d+) "
                     % sport, 10)
    check(m, "no Connection line for the refused client")
    out = _preauth_keys_destroyed(ad, m.group(1), ctx.port,
                                  "CRYPTO_KEY_USER,CRYPTO_SESSION")
    mine = _crypto_records(out, sport, ctx.port)
    check(not mine, "ssh-keyscan's connection left key records:\n%s"
          % "\n".join(mine))


@timeout(120)
def test_audit_crypto_unauthenticated_and_rekey(ctx):
    ad = Auditd(ctx)
    u = ctx.make_user()
    ctx.start_server()
    # A connection that never authenticates: its keys are recorded when
    # they are made (IPC_AUDIT_KEX from preauth) and when they go.
    stranger = ctx.new_key("stranger")
    r = ctx.ssh(u, "true", key=stranger)
    check(r.rc == 255, "a stranger's key logged in: %r" % r)
    m = ctx.wait_log(r"^Failed publickey for %s from 127\.0\.0\.1 port "
                     r"(\d+) " % re.escape(u.name), 10)
    check(m, "no Failed publickey line")
    bad_port = m.group(1)
    out = _preauth_keys_destroyed(ad, bad_port, ctx.port,
                                  "CRYPTO_SESSION,CRYPTO_KEY_USER")
    lines = _crypto_records(out, bad_port, ctx.port)
    for direction in ("from-client", "from-server"):
        check(any(re.search(r"type=CRYPTO_SESSION .* msg='op=start "
                            r"direction=%s cipher=\S+ ksize=\d+ mac=\S+ "
                            r"pfs=\S+ hostkey=ssh-ed25519 spid=\d+ "
                            r"suid=postern rport=%s " % (direction, bad_port),
                            l) for l in lines),
              "no CRYPTO_SESSION %s record for the unauthenticated "
              "connection (port %s):\n%s" % (direction, bad_port,
                                               "\n".join(lines)))

    # A login that rekeys (RekeyLimit): every new set of keys is recorded
    # by the session process's monitor, the old ones destroyed first.
    data = os.urandom(3 * 1024 * 1024)
    r = ctx.ssh(u, "cat", input=data, extra=("-o", "RekeyLimit=1M"))
    check(r.rc == 0 and r.stdout == data, "the transfer failed: rc %s" % r.rc)
    m = ctx.wait_log(r"^Accepted publickey for %s from 127\.0\.0\.1 port "
                     r"(\d+) " % re.escape(u.name), 10)
    rport = m.group(1)
    check(ctx.wait_log(r"^Disconnected from user %s 127\.0\.0\.1 port %s"
                       % (re.escape(u.name), rport), 10),
          "the session did not end")
    rekeys = ctx.server_log().count("SSH2_MSG_NEWKEYS received") - 2
    check(rekeys >= 2, "expected rekeys, saw %d" % rekeys)
    # The session's last record, USER_END, is written after its keys'
    # final destroy records, and auditd writes a sender's records in
    # order: once it is in the log, so are all the crypto records. (A
    # destroy record of the session's would come with the first rekey,
    # before auditd has the rest.)
    out = ad.search(["-m", "CRYPTO_SESSION,CRYPTO_KEY_USER,USER_END", "-ts",
                     "recent"],
                    r"type=USER_END .* msg='op=login acct=%s "
                    % re.escape(u.name))
    lines = _crypto_records(out, rport, ctx.port)
    starts = [l for l in lines if "type=CRYPTO_SESSION" in l and
              "direction=from-client" in l]
    by_user = [l for l in starts if "suid=%s " % u.name in l]
    check(len(starts) >= 1 + rekeys and len(by_user) >= rekeys,
          "expected a CRYPTO_SESSION record per key exchange (1 + %d "
          "rekeys, %d from the session): %d, %d\n%s"
          % (rekeys, rekeys, len(starts), len(by_user), "\n".join(lines)))
    destroys = [l for l in lines if "type=CRYPTO_KEY_USER" in l and
                "direction=from-client" in l]
    check(len(destroys) >= 1 + rekeys,
          "expected a CRYPTO_KEY_USER destroy per replaced or final set of "
          "keys: %d\n%s" % (len(destroys), "\n".join(lines)))


def _keys_command(ctx, name, body):
    """An AuthorizedKeysCommand script NAME running sh BODY, in a directory
    sshd's checks accept (root's, not writable by others); removed with
    the test."""
    d = "/run/postern-it-audit-" + secrets.token_hex(4)
    os.mkdir(d, 0o755)
    os.chmod(d, 0o755)
    ctx.cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
    cmd = os.path.join(d, name)
    with open(cmd, "w") as f:
        f.write("#!/bin/sh\n%s\n" % body)
    os.chmod(cmd, 0o755)
    return cmd


@timeout(120)
def test_audit_keys_command_watch(ctx):
    """AuthorizedKeysCommand: the shipped rules do not see its runs; the
    watch docs/audit.md gives (-w CMD -p x) records each one, with the
    expanded command line in its EXECVE record, and a key the command
    refused leaves a USER_AUTH res=failed without file= (review: the docs
    did not say how a command's reads of authorized keys are recorded)."""
    ad = Auditd(ctx)
    u = ctx.make_user(with_key=False)
    cmd = _keys_command(ctx, "keys", "exit 0")
    key = "postern-test-cmd-%s" % u.name
    ad.watch(["-w", cmd, "-p", "x", "-k", key])
    ctx.start_server(extra_config=[
        "AuthorizedKeysFile none",
        "AuthorizedKeysCommand %s %%u %%f" % cmd,
        "AuthorizedKeysCommandUser nobody"])
    r = ctx.ssh(u, "true", key=u.key)
    check(r.rc == 255, "a key the command did not print logged in: %r"
          % (r,))
    fp = fingerprint(u.pubkey)
    out = ad.search(["-k", key, "-ts", "recent"],
                    r"type=EXECVE .* a1=%s a2=%s a3=%s" % (
                        re.escape(cmd), re.escape(u.name), re.escape(fp)))
    check(re.search(r"type=SYSCALL .* syscall=execve success=yes .* "
                    r"uid=nobody .*key=%s" % re.escape(key), out, re.M),
          "no execve record of the command as nobody:\n%s"
          % "\n".join(out.splitlines()[-12:]))
    exe = "exe=%s" % re.escape(os.path.realpath(ctx.server_path))
    ad.search(["-m", "USER_AUTH", "-ts", "recent"],
              r"type=USER_AUTH .* msg='op=publickey acct=%s "
              r"key_type=ED25519 key_fp=%s %s (?:(?!file=)[^\n])*"
              r"res=failed" % (re.escape(u.name), re.escape(fp), exe))


@timeout(120)
def test_audit_login_ended_by_grace_time(ctx):
    """LoginGraceTime kills a monitor while AuthorizedKeysCommand keeps it
    busy: it cannot write the login's closing records, so the listener
    does, from what the monitor reported on its startup pipe (preauth's
    keys). No USER_LOGIN res=failed: no attempt was judged, and sshd
    writes none at a timeout (review: one was written for every
    connection LoginGraceTime ended, port probes included)."""
    ad = Auditd(ctx)
    u = ctx.make_user(with_key=False)
    cmd = _keys_command(ctx, "slow-keys", "sleep 20")
    ctx.start_server(extra_config=[
        "LoginGraceTime 2", "AuthorizedKeysFile none",
        "AuthorizedKeysCommand %s %%u" % cmd,
        "AuthorizedKeysCommandUser nobody"])
    r = ctx.ssh(u, "true", key=u.key, timeout_s=60)
    check(r.rc == 255, "the login did not fail: %r" % r)
    m = ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.1 "
                     r"port (\d+)$", 10)
    check(m, "no timeout line")
    port = m.group(1)
    _preauth_keys_destroyed(ad, port, ctx.port)
    # A bare TCP connection that LoginGraceTime ends: no record either.
    s = socket.create_connection(("127.0.0.1", ctx.port), 10)
    ctx.sockets.append(s)
    check(ctx.wait_log(r"^Timeout before authentication for 127\.0\.0\.1 "
                       r"port %d$" % s.getsockname()[1], 10),
          "no timeout line for the bare connection")
    time.sleep(1)  # auditd has what the listener wrote by now
    mine = [l for l in _login_records(ad, ctx, "recent")
            if " pid=%d " % ctx.proc.pid in l]
    check(not mine, "the listener wrote USER_LOGIN for logins "
          "LoginGraceTime ended without a judged attempt:\n%s"
          % "\n".join(mine))


def test_audit_write_refused_logged(ctx):
    """Root without CAP_AUDIT_WRITE (a unit that drops it): the kernel
    refuses every record. libaudit hides that refusal as 0 from
    audit_log_user_message(); the first record of the connection that
    failed (CRYPTO_SESSION, written before any login) is logged, once,
    and the login goes on. Before, only the USER_LOGIN one was."""
    u = ctx.make_user()
    ctx.write_config()
    ctx.launch_server(prefix=["setpriv", "--bounding-set", "-audit_write",
                              "--inh-caps", "-audit_write"])
    ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    check(ctx.wait_log(r"^Accepted publickey for %s " % u.name, 5),
          "no Accepted line")
    lines = re.findall(r"^audit: cannot write a (\S+) record: (.*)$",
                       ctx.server_log(), re.M)
    check(lines == [("CRYPTO_SESSION", "Operation not permitted")],
          "want one CRYPTO_SESSION line (the connection's first record), "
          "got %r:\n%s" % (lines, ctx.server_log()[-1500:]))


def test_audit_unavailable_logged_once(ctx):
    # A kernel without CONFIG_AUDIT refuses the audit netlink socket with
    # EPROTONOSUPPORT; a seccomp filter does the same here for
    # socket(AF_NETLINK, *, NETLINK_AUDIT) only, as systemd's
    # RestrictAddressFamilies does for whole families.
    wrapper = os.path.join(ctx.dir, "no_audit.py")
    with open(wrapper, "w") as f:
        f.write(NO_AUDIT_WRAPPER)
    u = ctx.make_user()
    ctx.write_config()
    ctx.launch_server(prefix=["python3", wrapper])
    for _ in range(2):
        ctx.ssh_ok(u, "echo ok", expect_out=b"ok\n")
    check(ctx.wait_log(r"^debug1: audit: kernel audit interface not "
                       r"available", 5),
          "the monitor did not notice the missing audit interface")
    lines = re.findall(r"^audit: kernel audit interface not available "
                       r"\(Protocol not supported\); no audit records are "
                       r"written$", ctx.server_log(), re.M)
    check(len(lines) == 1, "want the 'audit unavailable' line once, got %d:"
          "\n%s" % (len(lines), ctx.server_log()))


NO_AUDIT_WRAPPER = r'''
# no_audit.py SERVER ARGS...: exec SERVER with socket(AF_NETLINK, *,
# NETLINK_AUDIT) failing with EPROTONOSUPPORT, as on a kernel built
# without audit support (libseccomp through ctypes).
import ctypes, errno, os, sys
AF_NETLINK, NETLINK_AUDIT = 16, 9
SCMP_ACT_ALLOW = 0x7fff0000
SCMP_ACT_ERRNO = lambda e: 0x00050000 | (e & 0xffff)
SCMP_CMP_EQ = 4
class Cmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]
lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32,
    ctypes.c_int, ctypes.c_uint, ctypes.POINTER(Cmp)]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
f = lib.seccomp_init(SCMP_ACT_ALLOW)
nr = lib.seccomp_syscall_resolve_name(b"socket")
cmps = (Cmp * 2)(Cmp(0, SCMP_CMP_EQ, AF_NETLINK, 0),
                 Cmp(2, SCMP_CMP_EQ, NETLINK_AUDIT, 0))
if not f or nr < 0 or \
        lib.seccomp_rule_add_array(f, SCMP_ACT_ERRNO(errno.EPROTONOSUPPORT),
                                   nr, 2, cmps) != 0 or \
        lib.seccomp_load(f) != 0:
    sys.exit("no_audit.py: cannot install the seccomp filter")
os.execv(sys.argv[1], sys.argv[1:])
'''
