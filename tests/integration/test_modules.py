"""
test_modules.py: authentication methods as modules. A third party's
method (tests/modules/fixed.c, keyboard-interactive:fixed) works through
AuthenticationMethods without touching the core; modules that are
writable by others or speak another ABI version are refused at start
with a log line saying which and why.
"""

import os
import re
import shutil
import subprocess

import harness
from harness import check

FIXED_ANSWER = "postern-fixed-answer"


def _server_with(ctx, extra_modules=(), mode=None):
    bindir = os.path.dirname(os.path.abspath(ctx.server_path))
    server = harness.copy_server(ctx.server_path, os.path.join(ctx.dir, "bin"))
    mdir = os.path.join(ctx.dir, "bin", "modules")
    for name in extra_modules:
        dst = os.path.join(mdir, name)
        shutil.copyfile(os.path.join(bindir, "tests", "modules", name), dst)
        os.chmod(dst, mode if mode is not None else 0o755)
    return server


def _askpass(ctx, answer):
    script = os.path.join(ctx.dir, "askpass_%d.sh" % len(answer))
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' '%s'\n" % answer)
    os.chmod(script, 0o755)
    return dict(os.environ, SSH_ASKPASS=script, SSH_ASKPASS_REQUIRE="force",
                DISPLAY=":0")


def _ssh_kbdint(ctx, u, answer):
    argv = ctx.ssh_argv(u, "echo ok", batch=False,
                        extra=("-o", "KbdInteractiveAuthentication=yes",
                               "-o", "NumberOfPasswordPrompts=1"))
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=30,
                          env=_askpass(ctx, answer))


def test_third_party_module_in_chain(ctx):
    ctx.server_path = _server_with(ctx, ["fixed.so"])
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "AuthenticationMethods publickey,keyboard-interactive:fixed"])
    r = _ssh_kbdint(ctx, u, FIXED_ANSWER)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "publickey then the module's question answered right should log "
          "in: rc %s %r %s" % (r.returncode, r.stdout, r.stderr[-300:]))
    check(ctx.wait_log(r"^Partial publickey for %s " % u.name, 5),
          "the key alone must be only partial success")
    check(ctx.wait_log(r"^Accepted keyboard-interactive for %s from "
                       r"127\.0\.0\.1 port \d+ ssh2" % u.name, 5),
          "no 'Accepted keyboard-interactive' line")
    r = _ssh_kbdint(ctx, u, "wrong answer")
    check(r.returncode == 255 and r.stdout == b"",
          "a wrong answer must be refused: rc %s" % r.returncode)
    check(ctx.wait_log(r"^Failed keyboard-interactive for %s " % u.name, 5),
          "no 'Failed keyboard-interactive' line")


def test_module_of_abi_1_still_works(ctx):
    # ABI 2 only appended a field the monitor zeroes (docs/modules.md).
    ctx.server_path = _server_with(ctx, ["abi1.so"])
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "AuthenticationMethods publickey,keyboard-interactive:fixed"])
    r = _ssh_kbdint(ctx, u, FIXED_ANSWER)
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "a module of ABI version 1 should still log in: rc %s %r %s"
          % (r.returncode, r.stdout, r.stderr[-300:]))
    check(not re.search(r"^module .* refused", ctx.server_log(),
                        re.M),
          "a module was refused:\n%s" % ctx.server_log())


def test_module_refused_at_start(ctx):
    ctx.server_path = _server_with(ctx, ["badabi.so"])
    mdir = os.path.join(ctx.dir, "bin", "modules")
    # A second bad one: group-writable.
    shutil.copyfile(os.path.join(mdir, "publickey.so"),
                    os.path.join(mdir, "writable.so"))
    os.chmod(os.path.join(mdir, "writable.so"), 0o775)
    u = ctx.make_user()
    ctx.start_server(extra_config=[
        "AuthenticationMethods publickey keyboard-interactive:badabi"])
    check(ctx.wait_log(r"^module %s/badabi\.so refused: ABI version "
                       r"\d+, this posternd speaks \d+$" % re.escape(mdir), 5),
          "no log line refusing the wrong-ABI module")
    check(ctx.wait_log(r"^module %s/writable\.so refused: group or "
                       r"world writable$" % re.escape(mdir), 5),
          "no log line refusing the group-writable module")
    # The refused module must not be usable: its method always 'succeeds'.
    r = _ssh_kbdint(ctx, u, "anything")
    check(r.returncode == 0 and r.stdout == b"ok\n",
          "publickey (the other alternative) should still work: rc %s"
          % r.returncode)
    check(not re.search(r"^Accepted keyboard-interactive", ctx.server_log(),
                        re.M), "a refused module authenticated someone")


def _start_in_foreground(ctx):
    ctx.write_config()
    return subprocess.run([ctx.server_path, "-D", "-e", "-f",
                           ctx.config_path], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=20)


def test_insecure_module_dir_refused(ctx):
    ctx.server_path = _server_with(ctx)
    mdir = os.path.join(ctx.dir, "bin", "modules")
    os.chmod(mdir, 0o777)
    r = _start_in_foreground(ctx)
    check(r.returncode != 0, "posternd started with a world-writable module "
          "directory")
    check(b"module directory" in r.stderr and
          b"group or world writable" in r.stderr,
          "no clear message: %r" % r.stderr[-300:])


def test_module_dir_under_user_owned_parent_refused(ctx):
    # Whoever owns a directory above the module directory can rename the
    # module directory away and put their own in its place.
    ctx.server_path = _server_with(ctx)
    mdir = os.path.join(ctx.dir, "bin", "modules")
    parent = os.path.join(ctx.dir, "bin")
    u = ctx.make_user()
    os.chown(parent, u.uid, u.gid)
    r = _start_in_foreground(ctx)
    check(r.returncode != 0, "posternd started with a module directory "
          "whose parent a user owns")
    want = ("module directory %s refused: %s is not owned by root"
            % (mdir, parent)).encode()
    check(want in r.stderr, "no clear message: %r" % r.stderr[-300:])
    # Root-owned but sticky and world-writable (as /tmp) is safe: nobody
    # else may rename the root-owned entry in it.
    os.chown(parent, 0, 0)
    os.chmod(parent, 0o1777)
    ctx.start_server()
    r = ctx.ssh(u, "echo ok")
    check(r.rc == 0 and r.stdout == b"ok\n",
          "a sticky root-owned parent should do: rc %s %s"
          % (r.rc, r.stderr[-300:]))


def test_missing_module_for_a_list_said_at_start(ctx):
    """An AuthenticationMethods list naming a device no loaded module
    serves (keyboard-interactive:totp with totp.so gone) can never
    complete: the listener says so at start, naming the list and the
    module directory, instead of DEBUG1 at each login (review). Lists
    that are served are not named."""
    server = harness.copy_server(ctx.server_path, os.path.join(ctx.dir, "bin"))
    os.unlink(os.path.join(ctx.dir, "bin", "modules", "totp.so"))
    ctx.start_server(server=server, extra_config=[
        "AuthenticationMethods publickey,keyboard-interactive:totp "
        "publickey,password"])
    mods = re.escape(os.path.join(ctx.dir, "bin", "modules"))
    check(ctx.wait_log(r'^AuthenticationMethods list "publickey,'
                       r'keyboard-interactive:totp": no module in %s serves '
                       r'keyboard-interactive:totp$' % mods, 5),
          "no line about the list no module serves")
    check(not re.search(r'list "publickey,password"', ctx.server_log()),
          "a list that loaded modules serve was named")
