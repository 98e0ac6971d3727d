"""
test_monitor_ipc.py: the root monitor against its peers. A client whose
userauth requests never fail (key queries answered PK_OK) is cut off
after sshd's 1024 requests.
"""

import os

import harness
from harness import check, run, timeout

HERE = os.path.dirname(os.path.abspath(__file__))

# paramiko is in /usr/bin/python3 only. pkwire.Conn sends hand-made
# publickey requests; each query is answered PK_OK ("pk_ok") until the
# connection ends ("closed").
QUERIES = r"""
import sys
sys.path.insert(0, sys.argv[1])
import pkwire
port, user, pub, n = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
conn = pkwire.Conn(port, user)
blob = pkwire.blob_of(pub)
done, last = 0, ""
for _ in range(n):
    last = conn.request("ssh-ed25519", blob)
    if last != "pk_ok":
        break
    done += 1
print(done, last, flush=True)
conn.t.close()
"""


@timeout(240)
def test_userauth_requests_capped(ctx):
    """1100 key queries that never fail: 1024 are answered, then the
    monitor ends the connection with sshd's lines."""
    u = ctx.make_user()
    ctx.start_server()
    script = os.path.join(ctx.dir, "queries.py")
    with open(script, "w") as f:
        f.write(QUERIES)
    argv = ["/usr/bin/python3", script, HERE, str(ctx.port), u.name,
            u.pubkey, "1100"]
    p = run(argv, 200, check_rc=False)
    ctx._note_client(argv, p.returncode, p.stderr)
    out = p.stdout.decode(errors="replace").strip()
    check(out == "1024 closed", "1100 key queries: %r (want '1024 "
          "closed')\n%s" % (out, p.stderr[-2000:]))
    check(ctx.wait_log(r"^maximum authentication attempts exceeded "
                       r"for %s from 127\.0\.0\.1 port \d+ ssh2 \[preauth\]$"
                       % u.name, 10),
          "no maximum-attempts line:\n%s" % harness.tail(ctx.server_log()))
    check(ctx.wait_log(r"Disconnecting authenticating user %s 127\.0\.0\.1 "
                       r"port \d+: Too many authentication failures "
                       r"\[preauth\]" % u.name, 10),
          "no Disconnecting line:\n%s" % harness.tail(ctx.server_log()))

