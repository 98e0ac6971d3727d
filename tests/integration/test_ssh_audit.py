"""
test_ssh_audit.py: Debian's ssh-audit (2.5.0) against postern's default
configuration: no failure and no warning in the key exchange, host key
(the harness's ed25519 key), cipher and MAC sections, beyond the
"unknown"/"experimental" labels this version gives kex-strict and the
post-quantum hybrids it predates.
"""

import re

import harness
from harness import check

# ssh-audit 2.5.0 does not know these, or calls them experimental.
ALLOWED = ("kex-strict-s-v00@openssh.com", "ext-info-s",
           "mlkem768x25519-sha256", "sntrup761x25519-sha512",
           "sntrup761x25519-sha512@openssh.com")


def _audit(ctx):
    p = harness.run(["ssh-audit", "-n", "-p", str(ctx.port), "127.0.0.1"],
                    check_rc=False, timeout_s=60)
    return p.stdout.decode(errors="replace")


def _findings(out, sections):
    """Lines '(SECTION) NAME -- [fail|warn] ...' for sections, minus the
    allowed labels."""
    bad = []
    for line in out.splitlines():
        m = re.match(r"\((\w+)\) (\S+)\s+-- \[(fail|warn)\] (.*)", line)
        if not m or m.group(1) not in sections:
            continue
        name, text = m.group(2), m.group(4)
        if name in ALLOWED and re.search(r"unknown|experimental", text):
            continue
        bad.append(line)
    return bad


def test_ssh_audit_defaults(ctx):
    ctx.make_user()
    ctx.start_server()
    out = _audit(ctx)
    check("(kex) curve25519-sha256" in out and "(enc) " in out and
          "(mac) " in out, "ssh-audit gave no algorithm report:\n%s" % out)
    bad = _findings(out, ("kex", "key", "enc", "mac"))
    check(not bad, "ssh-audit fails or warns about the defaults:\n%s\n\n%s"
          % ("\n".join(bad), out))


def test_ssh_audit_sees_weak_config(ctx):
    """The check can fail: OpenSSH-style additions are reported."""
    ctx.make_user()
    ctx.start_server(["MACs +hmac-sha1,umac-64@openssh.com",
                      "KexAlgorithms +ecdh-sha2-nistp256"])
    bad = _findings(_audit(ctx), ("kex", "enc", "mac"))
    check(any("hmac-sha1" in l for l in bad) and
          any("ecdh-sha2-nistp256" in l for l in bad),
          "ssh-audit should flag hmac-sha1 and nistp256: %s" % bad)
