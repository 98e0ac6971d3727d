"""
test_interop_rekey.py: rekeying mid-transfer with clients other than
OpenSSH's, data checked byte for byte (sha256) in both directions.

Client-initiated: PuTTY's RekeyBytes (a saved session with 1M), paramiko's
Transport.renegotiate_keys() called in the middle of an upload and of a
download, asyncssh's rekey_bytes=1M. dropbear 2022.83 cannot be made to
rekey: its limit is compiled in (1 GB), so it is covered by the
server-initiated case only.

paramiko 2.12 deadlocks when a CHANNEL_CLOSE reaches it while its own
renegotiation is pending (it replies from its reader thread and waits
there for the key exchange that thread alone can read; seen with postern
when the command ended during the last renegotiate_keys(), and a
property of paramiko's threading, not of the server): its download keeps
the command alive until the client's EOF.

Server-initiated: `RekeyLimit 1M` on postern with each of the four
clients, on the clients' own defaults.

Each case counts the key exchanges in the server's log ("kex: algorithm:"
at DEBUG1, logged by the session process for every exchange after the
first) so a transfer that never rekeyed cannot pass.
"""

import hashlib
import os

import interop_clients as ic
from harness import check, timeout

SIZE = 5 * 1024 * 1024 + 4321


def _data(ctx, u):
    """A random file in the user's home (to download) and its bytes."""
    data = os.urandom(SIZE)
    path = os.path.join(u.home, "down.bin")
    with open(path, "wb") as f:
        f.write(data)
    return data


def _kex_count(ctx, off):
    return ic.log_since(ctx, off).count("kex: algorithm: ")


def _expect_rekeys(ctx, off, label, at_least):
    n = _kex_count(ctx, off)
    check(n >= at_least, "%s: %d key exchanges in the server log, want at "
          "least %d" % (label, n, at_least))


def _cli_transfers(ctx, u, argv_of, env, label, data):
    """Upload through stdin to sha256sum, download with cat.

    The download goes to a file, not a pipe: dbclient 2022.83 checks for
    its last channel's end only before writing out channel data in each
    turn of its loop, so when the server's CHANNEL_CLOSE arrives while
    data still waits for a full stdout pipe, it answers the CLOSE once
    the pipe drains and then waits for the socket forever. sshd 9.2
    leaves it hanging the same way (a reader that pauses ~80 KB before
    the end does it every time); a slow reader under CI's load did it
    now and then."""
    sha = hashlib.sha256(data).hexdigest()
    p = ic.run_client(ctx, argv_of("sha256sum"), env, label + " upload",
                      input_=data)
    ic.expect_ok(p, label + " upload")
    check(p.stdout.split()[:1] == [sha.encode()],
          "%s upload: the server's sha256 %r" % (label, p.stdout[:80]))
    p = ic.run_client(ctx, argv_of("cat down.bin"), env, label + " download",
                      input_=b"",
                      stdout_path=os.path.join(ctx.dir, "download.out"))
    ic.expect_ok(p, label + " download")
    check(hashlib.sha256(p.stdout).hexdigest() == sha,
          "%s download: %d bytes, sha256 differs" % (label, len(p.stdout)))


@timeout(90)
def test_plink_rekey(ctx):
    u = ctx.make_user()
    data = _data(ctx, u)
    env = ic.client_env(ctx)
    ic.putty_session(ctx, "rekey", {"RekeyBytes": "1M"})
    ctx.start_server()
    off = ic.log_size(ctx)
    _cli_transfers(ctx, u, lambda c: ic.plink_argv(ctx, u, c, "rekey"),
                   env, "plink RekeyBytes=1M", data)
    # 5 MB each way over two connections: the first exchange of each and
    # at least two more per connection. (Not one per MB: while the peer
    # has not yet sent its NEWKEYS no new exchange may start, and a
    # client slow to read lets several MB go out under the new keys in
    # that time; sshd 9.2 does the same.)
    _expect_rekeys(ctx, off, "plink RekeyBytes=1M", 2 + 2 * 2)
    ic.restart_server(ctx, ["RekeyLimit 1M"])
    off = ic.log_size(ctx)
    _cli_transfers(ctx, u, lambda c: ic.plink_argv(ctx, u, c),
                   env, "plink, server RekeyLimit 1M", data)
    _expect_rekeys(ctx, off, "plink, server RekeyLimit 1M", 2 + 2 * 2)


@timeout(90)
def test_dbclient_server_rekey(ctx):
    u = ctx.make_user()
    data = _data(ctx, u)
    ctx.start_server(["RekeyLimit 1M"])
    off = ic.log_size(ctx)
    _cli_transfers(ctx, u, lambda c: ic.dbclient_argv(ctx, u, c),
                   ic.client_env(ctx), "dbclient, server RekeyLimit 1M", data)
    _expect_rekeys(ctx, off, "dbclient, server RekeyLimit 1M", 2 + 2 * 2)


PARAMIKO_REKEY = ic.PARAMIKO_PRELUDE + r"""
port, user, key, mode = sys.argv[1:5]
data = sys.stdin.buffer.read()
t = transport(port)
t.auth_publickey(user, load_key(key))
res = {}
# Upload, with renegotiate_keys() after each MB when mode is "client".
ch = t.open_session()
ch.exec_command("sha256sum")
step = 1 << 20
for i in range(0, len(data), step):
    ch.sendall(data[i:i + step])
    if mode == "client":
        t.renegotiate_keys()
ch.shutdown_write()
out = read_all(ch.recv)
res["up"] = out.split()[0].decode()
res["up_status"] = ch.recv_exit_status()
ch.close()
# Download, again renegotiating after each MB read. The command then waits
# for our EOF, so no CHANNEL_CLOSE can arrive during our renegotiation
# (paramiko would answer it from its reader thread, which then waits for
# the very key exchange it alone can read: a deadlock of paramiko's).
ch = t.open_session()
ch.exec_command("cat down.bin; cat >/dev/null")
got = bytearray()
mark = step
while len(got) < len(data):
    b = ch.recv(65536)
    if not b:
        break
    got += b
    if mode == "client" and len(got) >= mark:
        t.renegotiate_keys()
        mark += step
ch.shutdown_write()
got += read_all(ch.recv)
res["down"] = hashlib.sha256(bytes(got)).hexdigest()
res["down_status"] = ch.recv_exit_status()
t.close()
print(json.dumps(res))
"""


def _python_rekey(ctx, client, script, extra_args, client_rekeys):
    """A client script (paramiko, asyncssh) up- and downloads the data,
    once rekeying itself ("client"), once under RekeyLimit 1M ("server");
    both hashes must match and the exchanges be logged: the first, then
    client_rekeys or 4."""
    u = ctx.make_user()
    data = _data(ctx, u)
    sha = hashlib.sha256(data).hexdigest()
    for mode, lines in (("client", []), ("server", ["RekeyLimit 1M"])):
        ic.restart_server(ctx, lines)
        off = ic.log_size(ctx)
        res = ic.run_python(ctx, "%s_rekey.py" % client, script,
                            [ctx.port, u.name, u.key] + extra_args(ctx)
                            + [mode],
                            "%s rekey %s" % (client, mode), input_=data,
                            timeout_s=80)
        check(res == {"up": sha, "up_status": 0, "down": sha,
                      "down_status": 0},
              "%s (%s-initiated rekey): %r" % (client, mode, res))
        _expect_rekeys(ctx, off, "%s %s-initiated" % (client, mode),
                       1 + (client_rekeys if mode == "client" else 4))


@timeout(90)
def test_paramiko_rekey(ctx):
    _python_rekey(ctx, "paramiko", PARAMIKO_REKEY, lambda c: [], 8)


ASYNCSSH_REKEY = ic.ASYNCSSH_PRELUDE + r"""
port, user, key, hostkeys, mode = sys.argv[1:6]
data = sys.stdin.buffer.read()

async def main():
    kw = {"rekey_bytes": 1 << 20} if mode == "client" else {}
    async with await connect(port, user, key, hostkeys, **kw) as conn:
        up = await conn.run("sha256sum", input=data, encoding=None)
        down = await conn.run("cat down.bin", encoding=None)
        print(json.dumps({"up": up.stdout.split()[0].decode(),
                          "up_status": up.exit_status,
                          "down": hashlib.sha256(down.stdout).hexdigest(),
                          "down_status": down.exit_status}))

asyncio.run(main())
"""


@timeout(90)
def test_asyncssh_rekey(ctx):
    # asyncssh counts only the bytes it sends, and (against OpenSSH's
    # sshd 9.2 as well) rekeys twice in a 5 MB upload.
    _python_rekey(ctx, "asyncssh", ASYNCSSH_REKEY,
                  lambda c: [c.host_key], 2)


@timeout(60)
def test_rekey_limit_bounds_each_key_set(ctx):
    """RekeyLimit 1M and a 5 MB download to plink: each set of keys
    carries about 1 MB, so at least 4 exchanges follow the first. postern
    used to go on sending channel data under its new keys until PuTTY's
    NEWKEYS arrived, when no new exchange may start yet; a slow reader let
    3 MB out under one set (two exchanges in 5 MB). As sshd, it now sends
    no channel data while an exchange runs."""
    u = ctx.make_user()
    data = _data(ctx, u)
    ctx.start_server(["RekeyLimit 1M"])
    env = ic.client_env(ctx)
    for i in range(2):
        off = ic.log_size(ctx)
        p = ic.run_client(ctx, ic.plink_argv(ctx, u, "cat down.bin"), env,
                          "plink download", input_=b"")
        ic.expect_ok(p, "plink download")
        check(p.stdout == data, "plink download: %d bytes, data differs"
              % len(p.stdout))
        _expect_rekeys(ctx, off, "plink download, RekeyLimit 1M", 1 + 4)
