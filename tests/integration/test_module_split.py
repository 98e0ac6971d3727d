"""
test_module_split.py: certificates (cert.so), plain keys (publickey.so)
and the root policy (rootpolicy.so) are separate modules (ABI 3,
docs/modules.md). Each test runs copies of the server whose module
directory lacks, or refuses, one of them, and shows that exactly that
module's part stops working while the rest goes on.
"""

import os
import re
import shutil

import harness
from harness import check


def _copy(ctx, dest, drop=(), extra=(), writable=()):
    """A copy of the server in ctx.dir/dest; returns (posternd, modules)."""
    bindir = os.path.dirname(os.path.abspath(ctx.suite.server))
    server = harness.copy_server(ctx.suite.server, os.path.join(ctx.dir, dest))
    mdir = os.path.join(ctx.dir, dest, "modules")
    for name in drop:
        os.unlink(os.path.join(mdir, name))
    for name in extra:
        shutil.copyfile(os.path.join(bindir, "tests", "modules", name),
                        os.path.join(mdir, name))
        os.chmod(os.path.join(mdir, name), 0o755)
    for name in writable:
        os.chmod(os.path.join(mdir, name), 0o775)
    return server, mdir


def _keygen(ctx, name):
    path = os.path.join(ctx.dir, name)
    harness.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                 "-f", path])
    return path


def _start(ctx, server, config):
    if ctx.proc is not None:
        ctx.stop_server()
        ctx.proc = None
    ctx.start_server(extra_config=config, server=server)


def _ok(r, what):
    check(r.rc == 0 and r.stdout == b"ok\n",
          "%s should log in: rc %s %s" % (what, r.rc, r.err[-300:]))


def _refused(r, what):
    check(r.rc == 255 and r.stdout == b"",
          "%s should be refused: rc %s %r" % (what, r.rc, r.stdout))


def test_cert_module_separate(ctx):
    u = ctx.make_user()
    ca = _keygen(ctx, "split_ca")
    certkey = _keygen(ctx, "split_certkey")
    harness.run(["ssh-keygen", "-q", "-s", ca, "-I", "split", "-n", u.name,
                 certkey + ".pub"])
    config = ["TrustedUserCAKeys %s.pub" % ca]

    # Without cert.so: plain keys work, certificates do not.
    server, _ = _copy(ctx, "nocert", drop=["cert.so"])
    _start(ctx, server, config)
    _ok(ctx.ssh(u, "echo ok"), "without cert.so, a plain key")
    _refused(ctx.ssh(u, "echo ok", key=certkey),
             "without cert.so, a certificate")
    check(not re.search(r"^Accepted publickey for %s .*-CERT" % u.name,
                        ctx.server_log(), re.M),
          "a certificate was accepted without cert.so")

    # cert.so group-writable: refused at start, with the same result.
    server, mdir = _copy(ctx, "badcert", writable=["cert.so"])
    _start(ctx, server, config)
    check(ctx.wait_log(r"^module %s/cert\.so refused: group or world "
                       r"writable$" % re.escape(mdir), 5),
          "no log line refusing the writable cert.so")
    _ok(ctx.ssh(u, "echo ok"), "with cert.so refused, a plain key")
    _refused(ctx.ssh(u, "echo ok", key=certkey),
             "with cert.so refused, a certificate")

    # Without publickey.so: certificates work, plain keys do not.
    server, _ = _copy(ctx, "nopk", drop=["publickey.so"])
    _start(ctx, server, config)
    _ok(ctx.ssh(u, "echo ok", key=certkey), "without publickey.so, a cert")
    _refused(ctx.ssh(u, "echo ok"), "without publickey.so, a plain key")
    check(ctx.wait_log(r"^Accepted publickey for %s .* ED25519-CERT "
                       % u.name, 5), "no Accepted line for the certificate")


def _root_key(ctx):
    keys = os.path.join(ctx.dir, "keys")
    os.makedirs(keys, 0o755, exist_ok=True)
    key = ctx.new_key("root")
    with open(key + ".pub") as f, \
            open(os.path.join(keys, "root"), "w") as out:
        out.write(f.read())
    return key, keys


def _root_config(ctx, keys, value):
    """The base config with root's keys file and PermitRootLogin value."""
    return ["AuthorizedKeysFile %s/%%u" % keys, "StrictModes no",
            "PermitRootLogin " + value]


def _start_root(ctx, server, keys, value):
    if ctx.proc is not None:
        ctx.stop_server()
        ctx.proc = None
    ctx.server_path = server
    ctx.write_config(_root_config(ctx, keys, value))
    # The first value obtained wins: drop the base config's own lines.
    with open(ctx.config_path) as f:
        lines = f.read().splitlines()
    extra = set(_root_config(ctx, keys, value))
    lines = [ln for ln in lines if ln in extra or not ln.startswith(
        ("AuthorizedKeysFile ", "StrictModes ", "PermitRootLogin "))]
    with open(ctx.config_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    ctx.launch_server()


def test_rootpolicy_module_separate(ctx):
    key, keys = _root_key(ctx)
    # With rootpolicy.so: PermitRootLogin yes admits root.
    server, _ = _copy(ctx, "withroot")
    _start_root(ctx, server, keys, "yes")
    _ok(ctx.ssh("root", "echo ok", key=key), "root with rootpolicy.so")
    # Without it, root is refused whatever PermitRootLogin says: a missing
    # policy module never opens root logins. Other users are unaffected.
    server, _ = _copy(ctx, "noroot", drop=["rootpolicy.so"])
    _start_root(ctx, server, keys, "yes")
    _refused(ctx.ssh("root", "echo ok", key=key), "root without rootpolicy.so")
    check(ctx.wait_log(r"^no policy module loaded to apply "
                       r"PermitRootLogin$", 5), "no log line for the refusal")
    check(ctx.wait_log(r"^ROOT LOGIN REFUSED FROM 127\.0\.0\.1 port \d+$", 5),
          "no ROOT LOGIN REFUSED line")


def test_third_party_policy_module(ctx):
    u = ctx.make_user()
    server, _ = _copy(ctx, "deny", extra=["denypolicy.so"])
    _start(ctx, server, [])
    _refused(ctx.ssh(u, "echo ok"), "a key under a policy that refuses all")
    check(ctx.wait_log(r"^denypolicy: refusing publickey for %s$" % u.name,
                       5), "the policy module was not asked")
    check(ctx.wait_log(r"^Failed publickey for %s " % u.name, 5),
          "no Failed publickey line")
