"""
test_deb.py: `make deb` (packaging/make-deb.sh) makes a Debian package of
the build tree that dpkg installs: posternd from /usr/sbin with its
helpers and modules from /usr/lib/postern serves a real login, the host
keys exist, the modes posternd insists on are the
package's, and dpkg removes it all again. The test installs the package
on this machine for its duration and purges it after.
"""

import os
import re
import subprocess

from harness import check, run, timeout

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _dpkg_installed(name):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", name],
                       capture_output=True)
    return r.returncode == 0 and b"installed" in r.stdout and \
        b"not-installed" not in r.stdout


def _make_deb(ctx):
    """packaging/make-deb.sh of the server's build tree, into ctx.dir."""
    build = os.path.dirname(os.path.abspath(ctx.server_path))
    env = dict(os.environ, BUILD=os.path.relpath(build, TOP))
    r = subprocess.run([os.path.join(TOP, "packaging", "make-deb.sh"),
                        ctx.dir], cwd=TOP, env=env, capture_output=True,
                       timeout=150)
    check(r.returncode == 0, "make-deb.sh failed: %r" % r.stderr[-800:])
    deb = r.stdout.decode().strip().splitlines()[-1]
    check(os.path.isfile(deb), "no package at %r" % deb)
    return deb


@timeout(300)
def test_deb_installs_and_serves(ctx):
    check(not _dpkg_installed("postern"),
          "a postern package is already installed on this machine")
    deb = _make_deb(ctx)

    info = run(["dpkg-deb", "-f", deb]).stdout.decode()
    version = run([ctx.server_path, "-V"], check_rc=False)
    want_version = re.search(r"postern_(\S+?),",
                             (version.stdout + version.stderr).decode())
    check(want_version is not None, "posternd -V: %r" % version)
    fields = dict(re.findall(r"^(\S+): (.*)$", info, re.M))
    check(fields.get("Package") == "postern" and
          fields.get("Version") == want_version.group(1),
          "control fields: %r" % fields)
    depends = {d.strip() for d in fields.get("Depends", "").split(",")}
    for pkg in ("libc6", "libssl3", "libpam0g", "libseccomp2", "libaudit1",
                "liboath0", "zlib1g", "passwd"):
        check(pkg in depends, "Depends lacks %s: %r" % (pkg, depends))

    listing = run(["dpkg-deb", "-c", deb]).stdout.decode()
    modes = {}
    for line in listing.splitlines():
        parts = line.split()
        modes[parts[-1].lstrip(".")] = (parts[0], parts[1])
    for path, mode in (("/usr/sbin/posternd", "-rwxr-xr-x"),
                       ("/usr/sbin/postern-keygen", "-rwxr-xr-x"),
                       ("/usr/lib/postern/postern-preauth", "-rwxr-xr-x"),
                       ("/usr/lib/postern/postern-session", "-rwx--x--x"),
                       ("/usr/lib/postern/modules/publickey.so",
                        "-rwxr-xr-x"),
                       ("/lib/systemd/system/postern.service",
                        "-rw-r--r--"),
                       ("/usr/share/doc/postern/examples/sshd_config.d/"
                        "20-totp.conf", "-rw-r--r--")):
        check(modes.get(path) == (mode, "root/root"),
              "%s in the package: %r, want %s root/root"
              % (path, modes.get(path), mode))

    ctx.cleanups.append(lambda: subprocess.run(
        ["dpkg", "--purge", "postern"], capture_output=True))
    r = subprocess.run(["dpkg", "-i", deb], capture_output=True, timeout=120)
    check(r.returncode == 0, "dpkg -i: %r" % (r.stdout + r.stderr)[-800:])
    check(_dpkg_installed("postern"), "dpkg does not list postern")
    for key in ("ssh_host_ed25519_key", "ssh_host_rsa_key"):
        check(os.path.exists(os.path.join("/etc/ssh", key)),
              "no /etc/ssh/%s after install" % key)

    # The installed server, not the build tree's, serves a login.
    installed = "/usr/sbin/posternd"
    u = ctx.make_user()
    ctx.write_config()
    t = subprocess.run([installed, "-t", "-f", ctx.config_path],
                       capture_output=True, timeout=30)
    check(t.returncode == 0, "installed posternd -t: %r" % t.stderr)
    ctx.server_path = installed
    ctx.start_server()
    ctx.ssh_ok(u, "echo installed", expect_out=b"installed\n")
    check(os.readlink("/proc/%d/exe" % ctx.proc.pid) == installed,
          "the server running is %s" % os.readlink(
              "/proc/%d/exe" % ctx.proc.pid))
    ctx.stop_server()

    r = subprocess.run(["dpkg", "--purge", "postern"], capture_output=True,
                       timeout=120)
    check(r.returncode == 0, "dpkg --purge: %r" % r.stderr[-600:])
    for path in (installed, "/usr/lib/postern/postern-session",
                 "/usr/lib/postern/modules"):
        check(not os.path.exists(path), "%s left after purge" % path)


_FAKE_SYSTEMD = r'''
set -e
mount -t tmpfs none /run
mkdir -p /run/systemd/system
mount -t tmpfs none /etc/systemd/system
etc=/etc/systemd/system
mkdir -p $etc/multi-user.target.wants $etc/sockets.target.wants
ln -s /lib/systemd/system/postern.service \
    $etc/multi-user.target.wants/postern.service
ln -s /lib/systemd/system/postern.socket \
    $etc/sockets.target.wants/postern.socket
ln -s /lib/systemd/system/$ALIAS $etc/sshd.service
PATH="$FAKEBIN:$PATH" sh "$SCRIPT" $ARGS
cd $etc && find . -mindepth 1 | sort > "$OUT"
'''


@timeout(180)
def test_deb_maintainer_scripts_under_systemd(ctx):
    """The maintainer scripts where systemd runs (faked in a mount
    namespace of the test's own: /run/systemd/system exists, systemctl
    is a script that writes down what it is asked): removing the package
    stops postern.socket and postern.service, as openssh-server's prerm
    stops ssh.service; an upgrade does not stop them; a purge removes the
    links `systemctl enable` made, and the sshd.service alias only when
    it is postern's."""
    deb = _make_deb(ctx)
    scripts = os.path.join(ctx.dir, "DEBIAN")
    run(["dpkg-deb", "-e", deb, scripts])
    fakebin = os.path.join(ctx.dir, "bin")
    os.makedirs(fakebin)
    calls = os.path.join(ctx.dir, "systemctl.calls")
    with open(os.path.join(fakebin, "systemctl"), "w") as f:
        f.write('#!/bin/sh\necho "$*" >> %s\n' % calls)
    os.chmod(os.path.join(fakebin, "systemctl"), 0o755)

    def maint(script, args, alias="postern.service"):
        if os.path.exists(calls):
            os.unlink(calls)
        out = os.path.join(ctx.dir, "links")
        r = subprocess.run(
            ["unshare", "-m", "sh", "-c", _FAKE_SYSTEMD],
            env=dict(os.environ, FAKEBIN=fakebin, ALIAS=alias, OUT=out,
                     SCRIPT=os.path.join(scripts, script), ARGS=args),
            capture_output=True, timeout=60)
        check(r.returncode == 0, "%s %s: %r" % (script, args, r.stderr))
        said = open(calls).read().splitlines() if os.path.exists(calls) \
            else []
        return said, open(out).read().split()

    said, _ = maint("prerm", "remove")
    check("stop postern.socket postern.service" in said,
          "prerm remove did not stop the service: %r" % said)
    said, _ = maint("prerm", "upgrade 0.1")
    check(not any(c.startswith("stop") for c in said),
          "prerm upgrade stopped the service: %r" % said)
    said, links = maint("postrm", "remove")
    check("./sshd.service" in links and
          "./multi-user.target.wants/postern.service" in links,
          "postrm remove took the enable links: %r" % links)
    said, links = maint("postrm", "purge")
    check(not any("postern" in x or "sshd.service" in x for x in links),
          "postrm purge left links: %r" % links)
    check("daemon-reload" in said, "postrm purge: %r" % said)
    said, links = maint("postrm", "purge", alias="ssh.service")
    check("./sshd.service" in links,
          "postrm purge took openssh-server's sshd.service: %r" % links)
