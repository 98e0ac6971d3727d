"""
test_sftp.py: postern's own session serving SFTP: `Subsystem sftp
internal-sftp [flags]` (the engine inside the session process, no program
run), ForceCommand internal-sftp, and a Subsystem that runs an external
program, all driven by the real OpenSSH sftp, scp and ssh clients.
"""

import json
import os
import re
import resource
import secrets
import shutil
import subprocess
import tempfile

from harness import (check, descendants, exe_of, fail,
                     find_descendant_by_exe, run, timeout)
from test_sftp_engine import (_client_opts, _sftp, _sha256, operations,
                              put_get, read_only, scp_both_ways)


def _start(ctx, lines=("Subsystem sftp internal-sftp",)):
    ctx.start_server(list(lines))
    return ctx.make_user()


def test_sftp_put_get(ctx):
    """20 MB up and down, pipelined, byte for byte, owned by the user,
    resumed (test_sftp_engine.put_get)."""
    u = _start(ctx)
    put_get(ctx, u)
    check(ctx.wait_log(r"Starting session: subsystem 'sftp' for %s"
                       % u.name, 5),
          "no \"Starting session: subsystem 'sftp'\" line")


def test_sftp_put_get_200mb(ctx):
    """200 MB of random bytes up and down with the client's defaults
    (requests as large as the limits extension allows, many in flight,
    the channel window filled both ways), sha256 equal, then resumed
    (reget) from the middle."""
    u = _start(ctx)
    src, want, size = ctx.random_file(200 * 1024 * 1024)
    back = os.path.join(ctx.dir, "back200.bin")
    _sftp(ctx, u, ["put %s big.bin" % src, "get big.bin %s" % back],
          timeout_s=600)
    remote = os.path.join(u.home, "big.bin")
    check(os.path.getsize(remote) == size,
          "uploaded %d bytes, want %d" % (os.path.getsize(remote), size))
    check(_sha256(remote) == want, "uploaded file differs from the source")
    check(_sha256(back) == want, "downloaded file differs from the source")
    with open(back, "r+b") as f:
        f.truncate(size // 2 + 4097)
    _sftp(ctx, u, ["reget big.bin %s" % back], timeout_s=600)
    check(_sha256(back) == want, "reget did not complete the file")


def test_sftp_in_process(ctx):
    """internal-sftp is served by the session process itself: while a
    client is connected the session has no child process; -e lines go to
    its stderr, which sshd (9.2, checked side by side) never sends for a
    subsystem: the client sees none."""
    u = _start(ctx, ["Subsystem sftp internal-sftp -e -l INFO"])
    argv = ["sftp"] + _client_opts(ctx, u) + ["-P", str(ctx.port), "-b",
                                               "-", "%s@127.0.0.1" % u.name]
    p = ctx.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                  stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"pwd\n")
        p.stdin.flush()
        sess = find_descendant_by_exe(ctx.proc.pid, "postern-session")
        # Once the request was answered the engine is certainly running
        # (batch mode echoes the command first).
        lines = [p.stdout.readline() for _ in range(2)]
        check(any(b"Remote working directory" in x for x in lines),
              "no answer to pwd: %r" % lines)
        kids = [exe_of(k) for k in descendants(sess)]
        check(kids == [], "the session runs children for internal-sftp: %s"
              % kids)
        out, err = p.communicate(b"ls\n", timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("sftp did not finish")
    check(p.returncode == 0, "sftp exited %d: %r" % (p.returncode, err))
    check(b"local user" not in err,
          "-e: a subsystem's stderr reached the client: %r" % err)


def test_sftp_query_and_usage(ctx):
    """internal-sftp -Q requests lists the requests on stdout and exits 0;
    a bad flag exits 1 (a bad -u 255), as sftp-server; its usage goes to
    stderr, which sshd drops for a subsystem, and a bad flag's value is
    logged in sftp-server's words (before, nothing was)."""
    u = _start(ctx, ["Subsystem sftp internal-sftp -Q requests",
                     "Subsystem bad internal-sftp -Z",
                     "Subsystem badumask internal-sftp -u abc",
                     "Subsystem badlevel internal-sftp -l bogus"])
    r = ctx.ssh(u, "sftp", extra=["-s"])
    names = r.stdout.decode().split()
    check(r.rc == 0, "-Q requests exited %s" % r.rc)
    for n in ("open", "read", "write", "posix-rename", "copy-data"):
        check(n in names, "-Q requests lacks %s: %s" % (n, names))
    r = ctx.ssh(u, "bad", extra=["-s"])
    check(r.rc == 1, "a bad flag exited %s, want 1" % r.rc)
    check(b"usage:" not in r.stderr,
          "a subsystem's stderr reached the client: %r" % r.stderr)
    # Logged, as sftp-server logs them, in its words: an admin sees why.
    # A bad umask is sftp-server's fatal(): status 255.
    for sub, line, rc in (("badumask", r'Invalid umask "abc"', 255),
                          ("badlevel", r'Invalid log level "bogus"', 1)):
        r = ctx.ssh(u, sub, extra=["-s"])
        check(r.rc == rc, "%s exited %s, want %d" % (sub, r.rc, rc))
        check(ctx.wait_log(r"^((error|fatal): )?%s$" % line, 5),
              "no log line %r for internal-sftp's bad option" % line)


def test_sftp_operations(ctx):
    """mkdir, rename, rm, ls, symlink, ln, chmod, df and their errors
    (test_sftp_engine.operations)."""
    operations(ctx, _start(ctx))


def test_sftp_scp(ctx):
    """scp in its default (SFTP) mode, both ways and recursively
    (test_sftp_engine.scp_both_ways)."""
    scp_both_ways(ctx, _start(ctx))


def test_sftp_read_only_and_unknown(ctx):
    """internal-sftp -R refuses changes (test_sftp_engine.read_only); an
    unknown subsystem is refused."""
    u = _start(ctx, ["Subsystem sftp internal-sftp -R -l INFO"])
    read_only(ctx, u)
    r = ctx.ssh(u, "nosuch", extra=["-s"])
    check(r.rc != 0, "an unknown subsystem was accepted")
    check(ctx.wait_log(r"subsystem request for nosuch by user %s failed"
                       % u.name, 5), "no log line for the unknown subsystem")


def test_sftp_force_command(ctx):
    """ForceCommand internal-sftp: sftp works, a command gets no shell."""
    # As in OpenSSH the subsystem must exist; the forced command replaces
    # its program (which does not exist here).
    u = _start(ctx, ["Subsystem sftp /nonexistent/sftp-server",
                     "ForceCommand internal-sftp -d /tmp"])
    rc, out, err = _sftp(ctx, u, ["pwd"])
    check("Remote working directory: /tmp" in out,
          "-d of the forced internal-sftp not applied:\n%s" % out)
    marker = os.path.join(ctx.dir, "ran")
    # The SFTP server reads the command's stdin as requests: what is no
    # SFTP packet ends it with a failure; nothing is run.
    r = ctx.ssh(u, "touch %s; echo shell-ran" % marker,
                input=b"not an sftp packet\n")
    check(r.rc != 0, "a command under ForceCommand internal-sftp exited 0")
    check(b"shell-ran" not in r.stdout and not os.path.exists(marker),
          "a command ran under ForceCommand internal-sftp")


def test_sftp_external_subsystem(ctx):
    """Subsystem NAME /path/program args: run through the user's shell
    (so, as with sshd, quotes in the config group nothing for it: the
    arguments are re-joined by spaces), stdin read, output and exit status
    arriving, stderr dropped, no SSH_ORIGINAL_COMMAND."""
    bindir = tempfile.mkdtemp(prefix="postern-subsys-")
    # Removed whatever the outcome (a failed check raises).
    ctx.cleanups.append(lambda: shutil.rmtree(bindir, ignore_errors=True))
    os.chmod(bindir, 0o755)
    script = os.path.join(bindir, "subsys.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                "echo \"args:$1:$2\"\n"
                "echo \"orig:${SSH_ORIGINAL_COMMAND-unset}\"\n"
                "echo \"who:$(id -un)\"\n"
                "cat\n"
                "echo err >&2\n"
                "exit 3\n")
    os.chmod(script, 0o755)
    u = _start(ctx, ["Subsystem sftp internal-sftp",
                     "Subsystem hello %s one 'two words'" % script])
    r = ctx.ssh(u, "hello", extra=["-s"], input=b"from stdin\n")
    want = ("args:one:two\norig:unset\nwho:%s\nfrom stdin\n"
            % u.name).encode()
    check(r.stdout == want, "subsystem output %r, want %r"
          % (r.stdout, want))
    # As sshd 9.2 (this test passes against it): a subsystem's stderr is
    # read and dropped, never sent.
    check(r.stderr == b"", "subsystem stderr reached the client: %r"
          % r.stderr)
    check(r.rc == 3, "subsystem exit status %s, want 3" % r.rc)
    # scp also works next to it with the same config.
    src = os.path.join(ctx.dir, "a.txt")
    with open(src, "w") as f:
        f.write("a\n")
    run(["scp"] + _client_opts(ctx, u) + ["-P", str(ctx.port), src,
        "%s@127.0.0.1:a.txt" % u.name])
    check(os.path.exists(os.path.join(u.home, "a.txt")), "scp failed")


# paramiko (in /usr/bin/python3 only), one connection; argv: a JSON spec.
# "renamed": the start directory (-d) is renamed and a new one made in its
# place; then REALPATH ".", SETSTAT size of a relative name, and READ of
# it. "handles": N sftp channels each open files until refused, then an
# exec channel runs `echo ok`.
_PARAMIKO = r'''
import json, socket, sys
import paramiko

spec = json.loads(sys.argv[1])
s = socket.create_connection(("127.0.0.1", spec["port"]), timeout=30)
t = paramiko.Transport(s)
t.start_client(timeout=20)
t.auth_publickey(spec["user"],
                 paramiko.Ed25519Key.from_private_key_file(spec["key"]))
res = {}
if spec["mode"] == "renamed":
    sf = paramiko.SFTPClient.from_transport(t)
    start, moved = spec["start"], spec["start"] + "2"
    sf.rename(start, moved)
    sf.mkdir(start)
    with sf.open(start + "/t", "w") as f:
        f.write(b"NEW-CONTENT")
    res["realpath"] = sf.normalize(".")
    sf.truncate("t", 3)
    with sf.open("t") as f:
        res["read"] = f.read().decode()
else:
    chans = [paramiko.SFTPClient.from_transport(t)
             for _ in range(spec["channels"])]
    res["handles"] = []
    keep = []
    for n, sf in enumerate(chans):
        got = 0
        while got < 2000:
            try:
                keep.append(sf.open("f%d_%d" % (n, got), "w"))
            except IOError:
                break
            got += 1
        res["handles"].append(got)
    ch = t.open_session()
    ch.exec_command("echo ok")
    res["exec"] = ch.makefile().read().decode()
    res["exec_status"] = ch.recv_exit_status()
print(json.dumps(res), flush=True)
t.close()
'''


def _paramiko(ctx, u, **spec):
    spec.update(port=ctx.port, user=u.name, key=u.key)
    p = subprocess.run(["/usr/bin/python3", "-c", _PARAMIKO,
                        json.dumps(spec)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and p.stdout,
          "the paramiko client failed: %r" % p.stderr[-800:])
    return json.loads(p.stdout.splitlines()[-1])


def test_sftp_start_dir_renamed(ctx):
    """The start directory (-d) renamed during the session: relative names
    still mean the directory itself, wherever it now is, as with
    sftp-server (which works in it), for every request: REALPATH "."
    names it where it is now, and SETSTAT's size (truncate(2), which has
    no *at form) cuts the same file that OPEN reads, not one that took
    the old name."""
    u = ctx.make_user()
    start = os.path.join(u.home, "sub")
    os.mkdir(start)
    with open(os.path.join(start, "t"), "w") as f:
        f.write("OLD-CONTENT")
    os.chown(start, u.uid, u.gid)
    os.chown(os.path.join(start, "t"), u.uid, u.gid)
    ctx.start_server(["Subsystem sftp internal-sftp -d %s" % start])
    r = _paramiko(ctx, u, mode="renamed", start=start)
    check(r["realpath"] == start + "2",
          "REALPATH . after the rename: %r, not %r" % (r["realpath"],
                                                       start + "2"))
    check(r["read"] == "OLD",
          "SETSTAT size and OPEN of one name reached different files: "
          "read %r" % r["read"])
    with open(os.path.join(start, "t")) as f:
        new = f.read()
    check(new == "NEW-CONTENT",
          "the file that took the old directory's name was cut: %r" % new)


def test_sftp_handles_shared_by_channels(ctx):
    """Several sftp channels of one connection share the session's
    descriptors: all their handles together stay within half the
    open-files limit (each channel's own cap is that half too, as
    sftp-server's), so the connection can still run a command."""
    ctx.start_server(["Subsystem sftp internal-sftp"])
    u = ctx.make_user()
    # The connection's processes inherit the listener's limit.
    resource.prlimit(ctx.proc.pid, resource.RLIMIT_NOFILE, (96, 96))
    r = _paramiko(ctx, u, mode="handles", channels=3)
    check(sum(r["handles"]) <= 48 and r["handles"][0] > 0,
          "handles per channel %r: more than half of 96 in all"
          % r["handles"])
    check(r["exec"] == "ok\n" and r["exec_status"] == 0,
          "no descriptors were left for a command: %r" % r)


def test_sftp_file_size_limit(ctx):
    """A write past the user's file size limit (RLIMIT_FSIZE, pam_limits'
    fsize) fails that request only, as with sshd's internal-sftp child:
    the session process serves every channel and must not die of
    SIGXFSZ. The user's programs still get the default action."""
    lim = 4 * 1024 * 1024

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim, lim))
    ctx.write_config(["Subsystem sftp internal-sftp"])
    ctx.launch_server(preexec_fn=limited)
    u = ctx.make_user()
    src, _, _ = ctx.random_file(lim * 2)
    rc, out, err = _sftp(ctx, u, ["-put %s big.bin" % src, "ls -l big.bin",
                                  "put %s small.bin" % __file__], ok=False)
    check(rc == 0 and "big.bin" in out,
          "after a put past the file size limit the session did not go on: "
          "rc %d\n%s\n%s" % (rc, out[-1000:], err[-1000:]))
    check(os.path.getsize(os.path.join(u.home, "big.bin")) == lim and
          os.path.exists(os.path.join(u.home, "small.bin")),
          "want the big file cut at the limit and the small one written")
    r = ctx.ssh(u, "head -c %d /dev/zero > over.bin; kill -l $?" % (lim + 1))
    check(r.stdout.strip() == b"XFSZ",
          "a program past the limit should die of SIGXFSZ: %r %r"
          % (r.stdout, r.stderr))


_COPY_KEEPALIVE = r"""
port, user, key, src, dst = sys.argv[1:6]
t = transport(port)
t.auth_publickey(user, load_key(key))
ch = t.open_session(timeout=20)
ch.settimeout(60)
ch.invoke_subsystem("sftp")

def pk(*parts):
    b = b"".join(parts)
    ch.sendall(struct.pack(">I", len(b)) + b)

def st(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">I", len(x)) + x

def recv():
    def n(k):
        b = b""
        while len(b) < k:
            d = ch.recv(k - len(b))
            if not d:
                raise SystemExit("channel closed")
            b += d
        return b
    return n(struct.unpack(">I", n(4))[0])

u32 = lambda v: struct.pack(">I", v)
u64 = lambda v: struct.pack(">Q", v)
pk(b"\x01", u32(3))
recv()
pk(b"\x03", u32(1), st(src), u32(1), u32(0))
h1 = recv()[5:]
pk(b"\x03", u32(2), st(dst), u32(2 | 8 | 16), u32(0))
h2 = recv()[5:]
pk(b"\xc8", u32(3), st("copy-data"), h1, u64(0), u64(0), h2, u64(0))
# sshd answers keepalive@openssh.com with REQUEST_FAILURE; paramiko's
# reader takes packets in order, so a status already in the channel
# arrived before that answer.
t.global_request("keepalive@openssh.com", wait=True)
early = ch.recv_ready()
r = recv()
print(json.dumps({"status_first": early, "type": r[0],
                  "code": struct.unpack(">I", r[5:9])[0]}))
"""


def test_sftp_copy_data_keeps_connection_served(ctx):
    """copy-data runs in steps (4 MiB per loop turn): a global request
    sent right after a long copy is answered before it ends (the client's
    keepalives, rekeying and other channels are not held up; before, a
    copy longer than ServerAliveInterval x CountMax dropped the client).
    The copy then ends with OK and the whole file."""
    import interop_clients as ic
    u = _start(ctx)
    src = os.path.join(u.home, "sparse.bin")
    size = 256 * 1024 * 1024
    with open(src, "wb") as f:
        f.truncate(size)
    os.chown(src, u.uid, u.gid)
    res = ic.run_python(ctx, "copy_keepalive.py",
                        ic.PARAMIKO_PRELUDE + "import struct\n" +
                        _COPY_KEEPALIVE,
                        [ctx.port, u.name, u.key, "sparse.bin", "copy.bin"],
                        "paramiko copy-data", timeout_s=120)
    dst = os.path.join(u.home, "copy.bin")
    check(res["type"] == 101 and res["code"] == 0 and
          os.path.getsize(dst) == size,
          "copy-data: %r, %d bytes copied" % (res, os.path.getsize(dst)))
    check(not res["status_first"],
          "the connection answered nothing while copy-data ran: %r" % res)
    os.unlink(dst)


@timeout(120)
def test_sftp_syslog_name_and_facility(ctx):
    """As sshd's internal-sftp: its lines reach syslog as
    "internal-sftp[PID]" with facility AUTH whatever SyslogFacility is,
    or the one its -f names; sshd's own lines keep "sshd" and
    SyslogFacility."""
    from test_fail2ban import LOG_AUTH, SyslogReceiver, _start_syslog_server
    local3, local5 = 19, 21
    rcv = SyslogReceiver(ctx, os.path.join(ctx.dir, "syslog"))
    u = ctx.make_user()
    _start_syslog_server(ctx, ["SyslogFacility LOCAL3",
                               "Subsystem sftp internal-sftp -l INFO",
                               "Match User " + u.name,
                               "\tForceCommand internal-sftp -l INFO "
                               "-f LOCAL5"])
    other = ctx.make_user()
    _sftp(ctx, other, ["ls"])
    _sftp(ctx, u, ["ls"])
    opened = r" internal-sftp\[\d+\]: session opened for local user %s "
    check(rcv.wait(opened % u.name) and rcv.wait(opened % other.name),
          "no 'internal-sftp[PID]: session opened' records:\n%s"
          % "\n".join(rcv.lines()[-20:]))
    facs = {}
    for fac, line in rcv.records:
        for who in (u, other):
            if re.search(opened % who.name, line):
                facs[who.name] = fac
            if re.search(r" sshd\[\d+\]: Accepted publickey for %s "
                         % who.name, line):
                facs["sshd " + who.name] = fac
    rcv.close()
    check(facs == {other.name: LOG_AUTH, u.name: local5,
                   "sshd " + other.name: local3, "sshd " + u.name: local3},
          "facilities: %r" % facs)


@timeout(120)
def test_sftp_bad_flags_as_sftp_server(ctx):
    """What sftp-server 9.2 refuses with fatal() (a second -P or -p, a bad
    -u, a -d with an unknown %-token or ~NAME) is a "fatal:" line in its
    words and exit status 255; a -d it cannot enter is logged after
    "session opened", as sftp-server logs it."""
    from test_fail2ban import SyslogReceiver, _start_syslog_server
    rcv = SyslogReceiver(ctx, os.path.join(ctx.dir, "syslog"))
    tag = secrets.token_hex(4)
    subs = {"dupdeny": ("-P remove -P rename",
                        ["fatal: Refused requests already set"]),
            "dupallow": ("-p open -p close",
                         ["fatal: Permitted requests already set"]),
            "badumask": ("-u 9%s" % tag[:2],
                         ['fatal: Invalid umask "9%s"' % tag[:2]]),
            "token": ("-d /x%s/%%h" % tag,
                      ["error: vdollar_percent_expand: unknown key %h",
                       "fatal: percent_expand: failed"]),
            "tilde": ("-d ~nouser%s/x" % tag,
                      ["error: tilde_expand: No such user nouser%s" % tag])}
    _start_syslog_server(
        ctx, ["Subsystem %s internal-sftp %s" % (k, v[0])
              for k, v in subs.items()] +
        ["Subsystem missing internal-sftp -l INFO -d /nonexist-%s" % tag])
    u = ctx.make_user()
    for sub, (_flags, lines) in subs.items():
        r = ctx.ssh(u, sub, extra=["-s"])
        check(r.rc == 255, "%s exited %s, want 255 as sftp-server" % (sub, r.rc))
        for line in lines:
            check(rcv.wait(r" internal-sftp\[\d+\]: %s$" % re.escape(line)),
                  "%s: no line %r:\n%s" % (sub, line,
                                           "\n".join(rcv.lines()[-20:])))
    r = ctx.ssh(u, "missing", extra=["-s"])
    check(r.rc == 0, "a missing -d exited %s" % r.rc)
    opened = r" internal-sftp\[(\d+)\]: session opened for local user %s " \
        % u.name
    chdir = r' internal-sftp\[(\d+)\]: error: chdir to "/nonexist-%s" ' \
        r'failed: ' % tag
    check(rcv.wait(opened) and rcv.wait(chdir), "no opened or chdir line")
    at = {}
    for i, line in enumerate(rcv.lines()):
        for k, rx in (("opened", opened), ("chdir", chdir)):
            m = re.search(rx, line)
            if m and k not in at:
                at[k] = (i, m.group(1))
    check(at["opened"][1] == at["chdir"][1] and
          at["opened"][0] < at["chdir"][0],
          "chdir's line is not after 'session opened': %r" % at)
