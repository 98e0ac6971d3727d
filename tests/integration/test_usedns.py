"""
test_usedns.py: UseDNS, side by side with OpenSSH's sshd 9.2. The test
puts two addresses in /etc/hosts (the resolver's "files" source, so no DNS
server is needed): 127.0.0.71 named postern-usedns-ok.test, and 127.0.0.72
whose name is itself an address (a "nasty PTR record"); the client binds
to one of them (ssh -b). With UseDNS yes the first is known by its name
for from=, Match Host, DenyUsers USER@HOST, PAM_RHOST and the lastlog
host; the second by its address, with sshd's log line. With UseDNS no (the
default) every host is the address.
"""

import os

import harness
from harness import check, timeout

OK_ADDR, OK_NAME = "127.0.0.71", "postern-usedns-ok.test"
PTR_ADDR, PTR_NAME = "127.0.0.72", "10.1.2.3"
OTHER_ADDR, OTHER_NAME = "127.0.0.73", "postern-usedns-other.test"
MARK = "# postern-test-usedns"
_hosts_lock = harness.HostLock("etchosts")


class _Hosts:
    """Our /etc/hosts lines for the test's duration (and any a killed run
    left behind removed first)."""

    def __enter__(self):
        _hosts_lock.__enter__()
        try:
            self._rewrite(["%s %s %s" % (OK_ADDR, OK_NAME, MARK),
                           "%s %s %s" % (PTR_ADDR, PTR_NAME, MARK),
                           "%s %s %s" % (OTHER_ADDR, OTHER_NAME, MARK)])
        except BaseException:
            _hosts_lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        try:
            self._rewrite([])
        finally:
            _hosts_lock.__exit__(*exc)

    @staticmethod
    def _rewrite(extra):
        """In place, never empty: parallel tests resolve localhost from
        the same file. Our lines are last, so writing the kept lines
        again over the same bytes, then ours, then cutting what is left,
        shows every reader the kept lines whole (no truncate-then-write;
        no rename either, as /etc/hosts may be a bind mount)."""
        with open("/etc/hosts", "r+") as f:
            keep = [l for l in f.read().splitlines() if MARK not in l]
            f.seek(0)
            f.write("\n".join(keep + extra) + "\n")
            f.truncate()


def _servers():
    return ("postern", None), ("sshd", harness.openssh_sshd())


def _set_keys(u, options):
    ak = os.path.join(u.home, ".ssh", "authorized_keys")
    with open(u.pubkey) as f:
        key = f.read().strip()
    with open(ak, "w") as f:
        f.write(("%s %s" % (options, key)).strip() + "\n")


def _login(ctx, u, src, extra=()):
    return ctx.ssh(u, "echo in", extra=["-b", src] + list(extra))


def _lastlog_host(u):
    """The host of the user's lastlog entry (struct lastlog: i32 time,
    char line[32], char host[256])."""
    with open("/var/log/lastlog", "rb") as f:
        f.seek(u.uid * 292)
        entry = f.read(292)
    return entry[36:].split(b"\0", 1)[0].decode(errors="replace")


def _log_since(ctx, offset):
    return ctx.server_log()[offset:]


@timeout(180)
def test_usedns_yes_names(ctx):
    """from="NAME" and Match Host NAME hold for the address that maps to
    NAME and back; an address whose PTR name is an address, and one with
    another name (127.0.0.1 is localhost), are known by their address."""
    u = ctx.make_user()
    _set_keys(u, 'from="%s"' % OK_NAME)
    # A second key without from=, offered after the first in one case.
    key2 = os.path.join(ctx.dir, "key2")
    harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key2])
    with open(key2 + ".pub") as f:
        plain = f.read()
    with open(os.path.join(u.home, ".ssh", "authorized_keys"), "a") as f:
        f.write(plain)
    banner = os.path.join(ctx.dir, "banner")
    with open(banner, "w") as f:
        f.write("HOST-MATCHED\n")
    with _Hosts():
        for kind, server in _servers():
            start = len(ctx.server_log())
            ctx.start_server(["UseDNS yes", "Match Host %s" % OK_NAME,
                              "  Banner %s" % banner], server=server)
            r = _login(ctx, u, OK_ADDR, ["-o", "LogLevel=INFO"])
            check(r.rc == 0 and r.stdout == b"in\n",
                  "%s: login from %s (%s) refused: %r"
                  % (kind, OK_ADDR, OK_NAME, r.err))
            check("HOST-MATCHED" in r.err, "%s: Match Host %s did not "
                  "apply (no banner): %r" % (kind, OK_NAME, r.err))
            r = _login(ctx, u, PTR_ADDR)
            check(r.rc == 255, "%s: login from %s (PTR %s) was let in"
                  % (kind, PTR_ADDR, PTR_NAME))
            r = _login(ctx, u, "127.0.0.1", ["-o", "LogLevel=INFO"])
            check(r.rc == 255 and "HOST-MATCHED" not in r.err,
                  "%s: login from 127.0.0.1: rc %d, %r" % (kind, r.rc, r.err))
            # Another name: the from= key is refused, the plain one then
            # logs in, and the client is told the refusal with the name.
            r = _login(ctx, u, OTHER_ADDR, ["-v", "-i", key2])
            want = "Your host '%s' is not permitted to use this key" % OTHER_NAME
            check(r.rc == 0 and want in r.err,
                  "%s: login from %s (%s): rc %d, no %r in\n%s"
                  % (kind, OTHER_ADDR, OTHER_NAME, r.rc, want, r.err[-800:]))
            log = lambda: _log_since(ctx, start)
            for want in ('Nasty PTR record "%s" is set up for %s, ignoring'
                         % (PTR_NAME, PTR_ADDR),
                         "not from a permitted host (host=%s, ip=%s, "
                         "required=%s)." % (PTR_ADDR, PTR_ADDR, OK_NAME)):
                check(harness.poll_until(lambda: want in log(), 10),
                      "%s: no line %r in\n%s" % (kind, want,
                                                harness.tail(log())))
            ctx.stop_server()


@timeout(180)
def test_usedns_no_is_the_address(ctx):
    """The default (UseDNS no): the host is the address, even for one
    /etc/hosts names; no lookup is made."""
    u = ctx.make_user()
    _set_keys(u, 'from="%s"' % OK_NAME)
    with _Hosts():
        for kind, server in _servers():
            start = len(ctx.server_log())
            ctx.start_server(["LogLevel DEBUG3"], server=server)
            r = _login(ctx, u, OK_ADDR)
            check(r.rc == 255, "%s: from=%s let %s in with UseDNS no"
                  % (kind, OK_NAME, OK_ADDR))
            want = ("not from a permitted host (host=%s, ip=%s, "
                    "required=%s)." % (OK_ADDR, OK_ADDR, OK_NAME))
            check(harness.poll_until(
                lambda: want in _log_since(ctx, start), 10),
                "%s: no line %r" % (kind, want))
            check("Trying to reverse map" not in _log_since(ctx, start),
                  "%s: a reverse lookup with UseDNS no" % kind)
            ctx.stop_server()


@timeout(180)
def test_usedns_deny_users(ctx):
    """UseDNS yes: DenyUsers USER@NAME refuses that user from that host
    only, and the log line names the host by its name."""
    u = ctx.make_user()
    with _Hosts():
        for kind, server in _servers():
            start = len(ctx.server_log())
            ctx.start_server(["UseDNS yes",
                              "DenyUsers %s@%s" % (u.name, OK_NAME)],
                             server=server)
            r = _login(ctx, u, OK_ADDR)
            check(r.rc == 255, "%s: DenyUsers %s@%s let the user in"
                  % (kind, u.name, OK_NAME))
            want = ("User %s from %s not allowed because listed in DenyUsers"
                    % (u.name, OK_NAME))
            check(harness.poll_until(
                lambda: want in _log_since(ctx, start), 10),
                "%s: no line %r in\n%s" % (kind, want,
                                          harness.tail(_log_since(ctx,
                                                                  start))))
            r = _login(ctx, u, "127.0.0.1")
            check(r.rc == 0, "%s: DenyUsers %s@%s refused a login from "
                  "127.0.0.1" % (kind, u.name, OK_NAME))
            ctx.stop_server()


@timeout(180)
def test_usedns_pam_rhost_lastlog(ctx):
    """UseDNS yes: PAM_RHOST is the name (a pam_exec account step records
    it); the lastlog host is the name ("Last login: ... from NAME")."""
    v = ctx.make_user()
    prog, rec = ctx.pam_exec_recorder("rhost", ("PAM_USER", "PAM_RHOST"))
    svc = ctx.pam_service(["auth required pam_unix.so",
                           "account optional pam_exec.so quiet " + prog,
                           "account required pam_permit.so",
                           "session required pam_permit.so"])
    with _Hosts():
        ctx.start_server(["UseDNS yes", "UsePAM yes",
                          "PAMServiceName " + svc])
        r = _login(ctx, v, OK_ADDR)
        check(r.rc == 0, "login of %s from %s failed: %r"
              % (v.name, OK_ADDR, r.err))
        with open(rec) as f:
            seen = f.read().split("\n")
        check("%s %s" % (v.name, OK_NAME) in seen,
              "PAM_RHOST for %s was not %s: %r" % (v.name, OK_NAME, seen))
        r = ctx.ssh(v, "true", extra=["-tt", "-b", OK_ADDR])
        check(r.rc == 0, "pty login failed: %r" % r.err)
        host = _lastlog_host(v)
        check(host == OK_NAME, "lastlog host %r, want %r" % (host, OK_NAME))
        # A login shell is told where the last login came from.
        r = ctx.ssh(v, None, extra=["-tt", "-b", OK_ADDR], input=b"exit\n")
        check(("Last login: ").encode() in r.stdout and
              (" from %s\r" % OK_NAME).encode() in r.stdout,
              "no 'Last login: ... from %s': %r" % (OK_NAME, r.stdout))


@timeout(180)
def test_usedns_utmp_length(ctx):
    """posternd -u LEN (as sshd -u): a host name longer than LEN is
    recorded in utmp/wtmp/lastlog as the address; -u 0 always."""
    v = ctx.make_user()
    with _Hosts():
        ctx.write_config(["UseDNS yes"])
        ctx.launch_server(["-u", "5"])
        r = ctx.ssh(v, "true", extra=["-tt", "-b", OK_ADDR])
        check(r.rc == 0, "pty login failed: %r" % r.err)
        host = _lastlog_host(v)
        check(host == OK_ADDR, "-u 5: lastlog host %r, want %r"
              % (host, OK_ADDR))
