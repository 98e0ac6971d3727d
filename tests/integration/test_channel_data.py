"""
test_channel_data.py: a command's output reaches the client intact, byte
for byte, on stdout (CHANNEL_DATA) and stderr (CHANNEL_EXTENDED_DATA), for
every packet shape the transport seals: AEAD (aes-gcm, chacha20-poly1305),
encrypt-then-MAC, MAC-then-encrypt, compression, and across key exchanges.

The session reads a child's output with one readv(2) into up to 32 data
packets laid out back to back in the transport's output and seals them in
place (transport_read_packets); the last packet of a read is short. A file
of an odd size, and output trickled in small writes, exercise full, short
and single packets; a mistake in the layout garbles the stream and the
client fails on a bad MAC or prints other bytes.

Input goes the other way: the session gathers the data packets of one
socket read and writes them to the child with one writev(2) per channel
(channel_deliver_flush), straight from the transport's input buffer; what
the child does not take waits in the channel's output buffer. The input
tests send odd-sized data in every packet shape, to a reader that is slow
to start (so writes come up short and the rest queues), and on two
channels of one connection at once (ControlMaster, packets interleaved).
"""

import os
import subprocess
import threading
import time

from harness import check, poll_until, timeout

# Not a multiple of any packet size, several reads' worth.
SIZE = 3 * 1024 * 1024 + 12345

CLIENT_CONFIGS = [
    ["-o", "Ciphers=aes128-gcm@openssh.com"],
    ["-o", "Ciphers=chacha20-poly1305@openssh.com"],
    ["-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256-etm@openssh.com"],
    ["-o", "Ciphers=aes256-ctr", "-o", "MACs=hmac-sha2-512"],
    ["-o", "Ciphers=aes128-ctr", "-o", "MACs=umac-64@openssh.com"],
    ["-o", "Compression=yes"],
    ["-o", "Ciphers=aes128-gcm@openssh.com", "-o", "RekeyLimit=256K"],
]

SERVER_CONFIG = [
    "Ciphers +aes256-ctr,aes128-ctr",
    "MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512,umac-64@openssh.com",
    "Compression yes",
]


def _blob(ctx, u):
    path = os.path.join(u.home, "blob")
    with open(path, "wb") as f:
        f.write(os.urandom(SIZE))
    os.chmod(path, 0o644)
    with open(path, "rb") as f:
        return f.read()


def test_output_intact_every_packet_shape(ctx):
    ctx.start_server(extra_config=SERVER_CONFIG)
    u = ctx.make_user()
    data = _blob(ctx, u)
    for extra in CLIENT_CONFIGS:
        r = ctx.ssh(u, "cat blob; cat blob >&2", extra=extra, timeout_s=60)
        what = " ".join(extra)
        check(r.rc == 0, "%s: ssh exited %s" % (what, r.rc))
        check(r.stdout == data, "%s: stdout has %d bytes, not the file's %d "
              "or other bytes" % (what, len(r.stdout), len(data)))
        check(r.stderr == data, "%s: stderr has %d bytes, not the file's %d "
              "or other bytes" % (what, len(r.stderr), len(data)))


def test_output_trickled_and_interleaved(ctx):
    ctx.start_server()
    u = ctx.make_user()
    # Many small writes on both pipes, some of a single byte.
    cmd = ("i=0; while [ $i -lt 300 ]; do printf 'o%d\\n' $i; "
           "printf 'e%d\\n' $i >&2; printf x; i=$((i+1)); done")
    r = ctx.ssh(u, cmd)
    want_out = b"".join(b"o%d\nx" % i for i in range(300))
    want_err = b"".join(b"e%d\n" % i for i in range(300))
    check(r.rc == 0, "ssh exited %s" % r.rc)
    check(r.stdout == want_out, "stdout %r..., want %r..."
          % (r.stdout[:80], want_out[:80]))
    check(r.stderr == want_err, "stderr %r..., want %r..."
          % (r.stderr[:80], want_err[:80]))


PIPE_SIZE_CMD = ("/usr/bin/python3 -c 'import fcntl, sys; "
                 "print(fcntl.fcntl(1, 1032), file=sys.stderr)'")  # F_GETPIPE_SZ


def test_stdout_pipe_grows_for_streaming(ctx):
    ctx.start_server()
    u = ctx.make_user()
    # A quiet command keeps the 256 KiB pipe the session made ...
    r = ctx.ssh(u, PIPE_SIZE_CMD)
    check(r.rc == 0 and r.stderr.strip() == b"262144",
          "a quiet command's stdout pipe: %r (rc %s), want 262144"
          % (r.stderr, r.rc))
    # ... one that streams has it enlarged to 1 MiB (CHAN_PIPE_BYTES), so it
    # can run ahead of our 256 KiB reads.
    # The client reads nothing for a while, so the pipe certainly fills
    # (a reader that keeps up would never see it full).
    p = subprocess.Popen(
        ctx.ssh_argv(u, "head -c 20000000 /dev/zero; " + PIPE_SIZE_CMD),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        time.sleep(2)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    check(p.returncode == 0 and len(out) == 20000000 and
          err.strip() == b"1048576",
          "after 20 MB of output, the stdout pipe: %r (rc %s, %d bytes), "
          "want 1048576" % (err, p.returncode, len(out)))


def _check_received(u, name, data, what):
    """The command wrote what it read to ~/NAME: all of data, as sent."""
    try:
        with open(os.path.join(u.home, name), "rb") as f:
            got = f.read()
    except FileNotFoundError:
        got = None
    check(got == data, "%s: the command got %s bytes, not the %d sent or "
          "other bytes" % (what, None if got is None else len(got),
                           len(data)))


def _upload(ctx, u, command, name, data, extra, what):
    r = ctx.ssh(u, command, extra=extra, input=data, timeout_s=60)
    check(r.rc == 0, "%s: ssh exited %s" % (what, r.rc))
    _check_received(u, name, data, what)


# OpenSSH's client uploads slowly across its own key exchanges (about 1 s
# each, with sshd 9.2 too): the RekeyLimit=256K upload alone takes ~12 s
# on an idle machine, and the whole test twice that in a loaded ASan run.
@timeout(180)
def test_input_intact_every_packet_shape(ctx):
    ctx.start_server(extra_config=SERVER_CONFIG)
    u = ctx.make_user()
    data = os.urandom(SIZE)
    for i, extra in enumerate(CLIENT_CONFIGS):
        _upload(ctx, u, "cat > in%d" % i, "in%d" % i, data, extra,
                " ".join(extra))


def test_input_to_slow_reader(ctx):
    # The reader starts late: the pipe fills, writes come up short and the
    # rest of each gathered read waits in the channel's buffer, in order.
    ctx.start_server(extra_config=SERVER_CONFIG)
    u = ctx.make_user()
    data = os.urandom(SIZE)
    for i, extra in enumerate((["-o", "Ciphers=aes128-gcm@openssh.com"],
                               ["-o", "Compression=yes"])):
        _upload(ctx, u, "sleep 2; cat > slow%d" % i, "slow%d" % i, data,
                extra, "slow reader, " + " ".join(extra))


def test_input_two_channels_interleaved(ctx):
    # Two sessions on one connection (ControlMaster) upload at once: the
    # master interleaves their packets, so one read of the session holds
    # both channels' data, and each must reach its own command, in order.
    ctx.start_server()
    u = ctx.make_user()
    path = os.path.join(ctx.dir, "cm")
    mux = ["-o", "ControlPath=" + path]
    master = subprocess.Popen(
        ctx.ssh_argv(u, "sleep 120", extra=mux + ["-o", "ControlMaster=yes"]),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    procs = []
    try:
        check(poll_until(lambda: os.path.exists(path), 20),
              "the ControlMaster connection did not come up")
        blobs = [os.urandom(8 * 1024 * 1024 + 777 * i) for i in range(2)]
        procs = [subprocess.Popen(ctx.ssh_argv(u, "cat > two%d" % i,
                                               extra=mux),
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
                 for i in range(2)]
        feeders = [threading.Thread(target=_feed, args=(p, b))
                   for p, b in zip(procs, blobs)]
        for f in feeders:
            f.start()
        for f in feeders:
            f.join(120)
        for i, p in enumerate(procs):
            check(p.wait(timeout=60) == 0, "session %d: ssh exited %s"
                  % (i, p.returncode))
            _check_received(u, "two%d" % i, blobs[i], "session %d" % i)
    finally:
        for p in procs + [master]:
            if p.poll() is None:
                p.kill()
                p.wait()


def _feed(p, blob):
    try:
        p.stdin.write(blob)
    finally:
        p.stdin.close()


def test_server_rekey_limit_not_overshot(ctx):
    """RekeyLimit 64K on the server, 2 MiB of output: a key exchange
    starts about every 64 KiB sent (as sshd checks the limit before each
    packet), not once per 256 KiB batch read from the command."""
    u = ctx.make_user()
    ctx.start_server(extra_config=["RekeyLimit 64K"])
    r = ctx.ssh(u, "head -c 2097152 /dev/zero | tr '\\0' x", verbose=True)
    check(r.rc == 0 and r.stdout == b"x" * 2097152,
          "the output: rc %s, %d bytes" % (r.rc, len(r.stdout)))
    n = r.err.count("SSH2_MSG_KEXINIT received")
    # 2 MiB / (64 KiB + a packet of at most 32 KiB) is 21; per batch it
    # was 8.
    check(n >= 17, "%d key exchanges for 2 MiB under RekeyLimit 64K" % n)
