"""
test_tunnel.py: tun(4) device forwarding (ssh -w, tun@openssh.com) through
postern with the real OpenSSH client: root logs in with -w, the server
opens its device in the session process and the client its own; each is
moved into a fresh network namespace of its own, so that the only path
between the two addresses is the SSH channel, and ping and a TCP transfer
larger than the channel window must cross it. Also: SSH_TUNNEL in the
session, PermitTunnel's refusals with sshd's DEBUG text, the key option
tunnel="N", ethernet mode (tap), a datagram larger than the client's
maximum packet, and a non-root user, who cannot open /dev/net/tun.

Units 170-179 and namespaces named pt_tun_* keep clear of anything else;
devices and namespaces are removed at the end.
"""

import hashlib
import os
import secrets
import subprocess

import harness
from harness import check, fail, timeout

EXIT_FWD = ["-o", "ExitOnForwardFailure=yes"]


def _start(ctx, extra, key_options=""):
    """A server where root logs in with a key of its own (in ctx.dir, with
    key_options), and the extra config lines; the key's path."""
    ctx.stop_server()
    ctx.proc = None
    keys = os.path.join(ctx.dir, "keys")
    os.makedirs(keys, 0o755, exist_ok=True)
    key = ctx.new_key("root")
    with open(key + ".pub") as f, \
            open(os.path.join(keys, "root"), "w") as out:
        out.write((key_options + " " if key_options else "") + f.read())
    ctx.write_config(["AuthorizedKeysFile %s/%%u" % keys, "StrictModes no"]
                     + list(extra))
    with open(ctx.config_path) as f:
        lines = f.read().splitlines()
    # The base config's own lines for these would win (first value).
    lines = [l for l in lines if not (
        l.startswith(("AuthorizedKeysFile .", "StrictModes yes")))]
    with open(ctx.config_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    ctx.launch_server()
    return key


def _link_exists(name, netns=None):
    argv = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", name]
    return harness.run(argv, check_rc=False).returncode == 0


def _cleanup_devices(ctx, names):
    def clean():
        for n in names:
            harness.run(["ip", "link", "del", n], check_rc=False)
    ctx.cleanups.append(clean)


def _netns(ctx):
    name = "pt_tun_" + secrets.token_hex(4)
    harness.run(["ip", "netns", "add", name])
    ctx.cleanups.append(
        lambda: harness.run(["ip", "netns", "del", name], check_rc=False))
    return name


def _tunnel(ctx, key, local, remote, mode="point-to-point", command=None,
            extra=()):
    """ssh -w local:remote running command (default: print SSH_TUNNEL and
    wait); the Popen, with stdout piped."""
    argv = ctx.ssh_argv("root", command or 'echo "T=$SSH_TUNNEL"; sleep 120',
                        key=key, extra=["-o", "Tunnel=" + mode, "-w",
                                        "%s:%s" % (local, remote)] + EXIT_FWD
                        + list(extra))
    return ctx.popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)


def _session_line(p):
    line = p.stdout.readline().decode(errors="replace").strip()
    if not line:
        p.kill()
        fail("the session printed nothing; ssh stderr:\n%s"
             % p.stderr.read().decode(errors="replace")[-1500:])
    return line


def _pair(ctx, server_dev, client_dev, addr_a, addr_b, ethernet=False):
    """Move the server's device to netns A and the client's to netns B,
    address and bring them up; (A, B)."""
    a, b = _netns(ctx), _netns(ctx)
    for dev, ns, mine, peer in ((server_dev, a, addr_a, addr_b),
                                (client_dev, b, addr_b, addr_a)):
        harness.run(["ip", "link", "set", dev, "netns", ns])
        if ethernet:
            harness.run(["ip", "-n", ns, "addr", "add", mine + "/24",
                         "dev", dev])
        else:
            harness.run(["ip", "-n", ns, "addr", "add", mine, "peer", peer,
                         "dev", dev])
        harness.run(["ip", "-n", ns, "link", "set", dev, "up"])
    return a, b


# ICMP echo (no ping(8) here): count requests, each answered within 2 s.
PING = r'''
import os, select, socket, struct, sys, time
addr, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def csum(b):
    b += b"\0" * (len(b) & 1)
    n = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    n = (n >> 16) + (n & 0xffff)
    return ~(n + (n >> 16)) & 0xffff
ident = os.getpid() & 0xffff
for seq in range(1, count + 1):
    body = struct.pack("!HH", ident, seq) + os.urandom(56)
    s.sendto(struct.pack("!BBH", 8, 0, csum(b"\x08\0\0\0" + body)) + body,
             (addr, 0))
    end = time.monotonic() + 2
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            sys.exit("no reply to echo request %d" % seq)
        pkt, src = s.recvfrom(65536)
        icmp = pkt[(pkt[0] & 15) * 4:]
        if src[0] == addr and icmp[0] == 0 and icmp[4:] == body:
            print("reply %d from %s" % (seq, addr))
            break
'''


def _ping(ns, addr, count=3):
    return harness.run(["ip", "netns", "exec", ns, "python3", "-c", PING,
                        addr, str(count)], check_rc=False, timeout_s=30)


def _wait_devices(ctx, p, names):
    ok = harness.poll_until(lambda: all(_link_exists(n) for n in names)
                            or p.poll() is not None, 10)
    if p.poll() is not None or not ok:
        fail("devices %s not there (ssh rc %s):\n%s" % (
            names, p.poll(), p.stderr.read().decode(errors="replace")
            if p.poll() is not None else ""))


SINK = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5170)); s.listen(1)
print("ready", flush=True)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b); n += len(b)
data = (h.hexdigest() + " %d\n" % n).encode() * 40000
c.sendall(data); c.close()
"""

SOURCE = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], 5170), timeout=60)
f = open(sys.argv[2], "rb"); c.sendall(f.read()); c.shutdown(socket.SHUT_WR)
back = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    back += b
sys.stdout.write(back.decode()[:200].splitlines()[0] + " %d\n" % len(back))
"""


@timeout(120)
def test_tunnel_device_deleted_ends_write_side(ctx):
    """The server's device is deleted while the tunnel is up: a write to
    it fails (EBADFD), which ends the channel's write side, as sshd's
    chan_write_failed, instead of dropping every later packet into a dead
    descriptor while the channel stays half open."""
    _cleanup_devices(ctx, ["tun175", "tun176"])
    key = _start(ctx, ["PermitTunnel point-to-point"])
    p = _tunnel(ctx, key, 176, 175)
    check(_session_line(p) == "T=tun175", "no SSH_TUNNEL=tun175")
    _wait_devices(ctx, p, ["tun175", "tun176"])
    a, b = _pair(ctx, "tun175", "tun176", "10.175.0.1", "10.175.0.2")
    r = _ping(b, "10.175.0.1", 1)
    check(r.returncode == 0, "ping before the deletion failed:\n%s%s"
          % (r.stdout.decode(), r.stderr.decode()))
    harness.run(["ip", "-n", a, "link", "del", "tun175"])
    r = _ping(b, "10.175.0.1", 2)
    check(r.returncode != 0, "a ping crossed a deleted device")
    check(ctx.wait_log(r"channel \d+: tunnel write failed: ", 10),
          "no 'tunnel write failed' line: the write side stayed open")
    check(p.poll() is None, "ssh ended with the device: rc %s" % p.poll())
    p.kill()


@timeout(120)
def test_tunnel_point_to_point_ping(ctx):
    """-w 178:177 point-to-point: tun177 opened by the session, SSH_TUNNEL,
    ping both ways and a TCP transfer of 6 MiB one way and 2.9 MiB back
    (more than the channel window) across namespaces joined only by the channel."""
    _cleanup_devices(ctx, ["tun177", "tun178"])
    key = _start(ctx, ["PermitTunnel point-to-point"])
    p = _tunnel(ctx, key, 178, 177)
    line = _session_line(p)
    check(line == "T=tun177", "SSH_TUNNEL in the session: %r" % line)
    _wait_devices(ctx, p, ["tun177", "tun178"])
    check(ctx.wait_log(r"Tunnel forwarding using interface tun177$"),
          "no 'Tunnel forwarding using interface tun177' in the log")
    a, b = _pair(ctx, "tun177", "tun178", "10.177.0.1", "10.177.0.2")
    r = _ping(b, "10.177.0.1")
    check(r.returncode == 0, "ping from the client's side failed:\n%s%s"
          % (r.stdout.decode(), r.stderr.decode()))
    r = _ping(a, "10.177.0.2")
    check(r.returncode == 0, "ping from the server's side failed:\n%s%s"
          % (r.stdout.decode(), r.stderr.decode()))
    # More than the 2 MiB window each way: WINDOW_ADJUST must flow.
    blob = os.path.join(ctx.dir, "blob")
    with open(blob, "wb") as f:
        f.write(os.urandom(6 * 1024 * 1024))
    with open(blob, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    sink = ctx.popen(["ip", "netns", "exec", a, "python3", "-c", SINK,
                      "10.177.0.1"], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
    check(sink.stdout.readline().strip() == b"ready", "sink did not start")
    r = harness.run(["ip", "netns", "exec", b, "python3", "-c", SOURCE,
                     "10.177.0.1", blob], check_rc=False, timeout_s=60)
    check(r.returncode == 0, "transfer failed: %s" % r.stderr.decode()[-800:])
    got = r.stdout.decode().split()
    reply_len = (len(want) + len(" %d\n" % (6 * 1024 * 1024))) * 40000
    check(got == [want, str(6 * 1024 * 1024), str(reply_len)],
          "transfer through the tunnel: %r, want %s and %d bytes back"
          % (got, want, reply_len))
    # A datagram larger than the client's maximum packet (32 KiB) is
    # dropped by the server, which goes on forwarding. (sshd reads at
    # most 16 KiB and sends such a packet truncated: postern's own.)
    harness.run(["ip", "-n", a, "link", "set", "tun177", "mtu", "60000"])
    harness.run(["ip", "netns", "exec", a, "python3", "-c",
                 "import socket; s = socket.socket(socket.AF_INET, "
                 "socket.SOCK_DGRAM); s.sendto(b'x' * 40000, "
                 "('10.177.0.2', 9))"])
    check(ctx.wait_log(r"channel \d+: datagram too big$"),
          "no 'datagram too big' for a 40000-byte datagram")
    r = _ping(b, "10.177.0.1", count=1)
    check(r.returncode == 0, "ping after the big datagram failed")
    check(p.poll() is None, "ssh exited (rc %s)" % p.poll())
    p.kill()


def test_tunnel_refused_by_permit_tunnel(ctx):
    """PermitTunnel no (the default), and ethernet for a point-to-point
    request: refused with sshd's DEBUG text, no device is created."""
    _cleanup_devices(ctx, ["tun171", "tun172"])
    key = _start(ctx, [])
    for config in ([], ["PermitTunnel ethernet"]):
        if config:
            key = _start(ctx, config)
        r = ctx.ssh("root", "echo ran", key=key, verbose=True,
                    extra=["-w", "172:171", "-o", "Tunnel=point-to-point"]
                    + EXIT_FWD)
        check("Server has rejected tunnel device forwarding" in r.err,
              "%s: no DEBUG text in ssh -v:\n%s" % (config, r.err[-1500:]))
        check(r.rc != 0 and b"ran" not in r.stdout,
              "%s: the tunnel's refusal did not stop ssh (rc %s)"
              % (config, r.rc))
        check(not _link_exists("tun171"), "tun171 was created")
        check(ctx.wait_log(r"refused tun@openssh\.com channel from user root "
                           r"127\.0\.0\.1 port \d+: PermitTunnel does not "
                           r"allow it$"), "no refusal line in the log")


def test_tunnel_forced_by_key_option(ctx):
    """tunnel="174": a request for any device gets tun174; one for another
    device fails ("Failed to open the tunnel device.")."""
    _cleanup_devices(ctx, ["tun173", "tun174", "tun175", "tun176"])
    key = _start(ctx, ["PermitTunnel yes"], key_options='tunnel="174"')
    p = _tunnel(ctx, key, 175, "any")
    line = _session_line(p)
    check(line == "T=tun174", "SSH_TUNNEL with tunnel=\"174\": %r" % line)
    check(_link_exists("tun174"), "tun174 not created")
    p.kill()
    p.wait()
    r = ctx.ssh("root", "echo ran", key=key, verbose=True,
                extra=["-w", "176:173", "-o", "Tunnel=point-to-point"]
                + EXIT_FWD)
    check("Failed to open the tunnel device." in r.err,
          "no DEBUG text for a device other than the forced one:\n%s"
          % r.err[-1500:])
    check(r.rc != 0 and b"ran" not in r.stdout,
          "the failed tunnel did not stop ssh (rc %s)" % r.rc)
    check(not _link_exists("tun173"), "tun173 was created")


@timeout(90)
def test_tunnel_ethernet_tap(ctx):
    """-w 170:179 -o Tunnel=ethernet: the server's tap179 and the client's
    tap170 carry frames (ARP, then ping)."""
    _cleanup_devices(ctx, ["tap170", "tap179"])
    key = _start(ctx, ["PermitTunnel ethernet"])
    p = _tunnel(ctx, key, 170, 179, mode="ethernet")
    line = _session_line(p)
    check(line == "T=tap179", "SSH_TUNNEL in ethernet mode: %r" % line)
    _wait_devices(ctx, p, ["tap179", "tap170"])
    a, b = _pair(ctx, "tap179", "tap170", "10.179.0.1", "10.179.0.2",
                 ethernet=True)
    r = _ping(b, "10.179.0.1")
    check(r.returncode == 0, "ping over tap failed:\n%s%s"
          % (r.stdout.decode(), r.stderr.decode()))
    p.kill()


def test_tunnel_user_without_access(ctx):
    """An ordinary user: the device is opened as the user, who may not
    open /dev/net/tun (mode 0600 here) or, where it is open to all, may
    not create a device; the open fails as sshd's does."""
    if os.stat("/dev/net/tun").st_mode & 0o006:
        why = (r'sys_tun_open: failed to configure tunnel \(mode 1\): '
               r'Operation not permitted$')
    else:
        why = (r'sys_tun_open: failed to open tunnel control device '
               r'"/dev/net/tun": Permission denied$')
    u = ctx.make_user()
    ctx.start_server(["PermitTunnel yes"])
    r = ctx.ssh(u, "echo ran", verbose=True,
                extra=["-w", "any:any", "-o", "Tunnel=point-to-point"]
                + EXIT_FWD)
    check("Failed to open the tunnel device." in r.err,
          "no DEBUG text:\n%s" % r.err[-1500:])
    check(r.rc != 0, "ssh went on without its tunnel")
    check(ctx.wait_log(why), "no sys_tun_open line in the log")
