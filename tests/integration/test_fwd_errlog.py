"""
test_fwd_errlog.py: the error lines sshd 9.2 logs for forwarding requests
that no OpenSSH client sends (a port past 65535, a socket path longer
than sockaddr_un holds), next to sshd on a port of its own: each line
must be in both servers' logs, in sshd's words.
"""

import harness
from harness import check, timeout
from test_conn_parity import run_connwire
from test_proto_parity import Server

LONG = "/tmp/" + "y" * 120
# Past the 255 bytes postern once cut its paths at: sshd logs it whole.
LONGER = "/tmp/" + "z" * 300


def _cells():
    """(steps, line sshd logs for them)."""
    return [
        ([{"open": "direct-tcpip",
           "args": [["s", "127.0.0.1"], ["u", 70000], ["s", "127.0.0.1"],
                    ["u", 5]]}],
         "server_request_direct_tcpip: invalid target port"),
        ([{"open": "direct-tcpip",
           "args": [["s", "127.0.0.1"], ["u", 22], ["s", "127.0.0.1"],
                    ["u", 70000]]}],
         "server_request_direct_tcpip: invalid originator port"),
        ([{"open": "direct-streamlocal@openssh.com",
           "args": [["s", LONG], ["s", ""], ["u", 0]]}],
         "%s: File name too long" % LONG[:100]),
        ([{"greq": "streamlocal-forward@openssh.com",
           "args": [["s", LONG]]}],
         "Local listening path too long: %s" % LONG),
        ([{"greq": "streamlocal-forward@openssh.com",
           "args": [["s", LONGER]]}],
         "Local listening path too long: %s" % LONGER),
        ([{"greq": "streamlocal-forward@openssh.com",
           "args": [["s", LONG[:108]]]}],
         'unix_listener: path "%s" too long for Unix domain socket'
         % LONG[:108]),
    ]


@timeout(120)
def test_fwd_errlog(ctx):
    u = ctx.make_user()
    harness.openssh_sshd()
    cells = _cells()
    logs = {}
    for kind in ("sshd", "postern"):
        srv = Server(ctx, kind, ["AllowStreamLocalForwarding yes"])
        run_connwire(srv, u, [c[0] for c in cells], 120)
        check(srv.proc.poll() is None, "%s exited" % kind)
        srv.stop()
        logs[kind] = harness.read_text(srv.log).splitlines()
    bad = []
    for _, want in cells:
        for kind in ("sshd", "postern"):
            if want not in logs[kind]:
                bad.append("%s lacks %r" % (kind, want))
    check(not bad, "\n".join(bad) + "\npostern's log:\n" +
          "\n".join(logs["postern"][-30:]))
