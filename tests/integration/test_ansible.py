"""
test_ansible.py: Ansible (Debian's ansible-core), the most common thing
that drives sshd besides people: ad-hoc modules through the OpenSSH client
with ControlMaster/ControlPersist, so many sessions share one connection,
files copied by each transfer method Ansible has (sftp, scp, piped
through dd), with pipelining (the module on the session's stdin), and
become through sudo (NOPASSWD, on a pty Ansible asks for with -tt).
"""

import json
import os
import subprocess

from harness import check, timeout

SFTP = "Subsystem sftp internal-sftp"


def _ansible(ctx, u, module, args, extra_vars=(), become=False):
    inv = os.path.join(ctx.dir, "inventory.ini")
    with open(inv, "w") as f:
        f.write("target ansible_host=127.0.0.1 ansible_port=%d "
                "ansible_user=%s ansible_ssh_private_key_file=%s "
                "ansible_python_interpreter=/usr/bin/python3\n"
                % (ctx.port, u.name, u.key))
    env = dict(os.environ,
               HOME=ctx.dir,
               ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCAL_TEMP=os.path.join(ctx.dir, "ansible-local"),
               ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(ctx.dir, "cp"),
               ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=20s"
                                " -o UserKnownHostsFile=/dev/null"
                                " -o IdentitiesOnly=yes",
               ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_NOCOLOR="1")
    argv = ["ansible", "-i", inv, "target", "-m", module, "-a", args]
    for v in extra_vars:
        argv += ["-e", v]
    if become:
        argv.append("--become")
    # Its own stdin: ansible refuses a non-blocking one, and the runner's
    # may have been left so by a killed ssh client that shared it.
    p = subprocess.run(argv, capture_output=True, timeout=120, env=env,
                       cwd=ctx.dir, stdin=subprocess.DEVNULL)
    ctx._note_client(argv, p.returncode, p.stderr)
    label = "ansible -m %s %s" % (module, " ".join(extra_vars))
    check(p.returncode == 0, "%s exited %d: %s %s"
          % (label, p.returncode, p.stdout.decode(errors="replace")[-1500:],
             p.stderr.decode(errors="replace")[-500:]))
    res = json.loads(p.stdout)["plays"][0]["tasks"][0]["hosts"]["target"]
    check(not res.get("failed") and not res.get("unreachable"),
          "%s: %r" % (label, res))
    return res


@timeout(240)
def test_ansible_modules_transfers_become(ctx):
    ctx.start_server([SFTP])
    u = ctx.make_user()
    res = _ansible(ctx, u, "ping", "")
    check(res.get("ping") == "pong", "ping: %r" % res)

    src = os.path.join(ctx.dir, "payload.bin")
    body = os.urandom(700 * 1024 + 3)
    with open(src, "wb") as f:
        f.write(body)
    for method in ("sftp", "scp", "piped"):
        dest = os.path.join(u.home, "copy-%s.bin" % method)
        _ansible(ctx, u, "copy", "src=%s dest=%s mode=0640" % (src, dest),
                 ["ansible_ssh_transfer_method=" + method])
        with open(dest, "rb") as f:
            check(f.read() == body, "copy over %s: the file differs" % method)
        st = os.stat(dest)
        check(st.st_uid == u.uid and st.st_mode & 0o777 == 0o640,
              "copy over %s: uid %d mode %o" % (method, st.st_uid,
                                                st.st_mode & 0o777))

    res = _ansible(ctx, u, "command", "id -un",
                   ["ansible_pipelining=true"])
    check(res.get("stdout") == u.name, "pipelined command: %r" % res)

    fetched = os.path.join(ctx.dir, "fetched")
    _ansible(ctx, u, "fetch", "src=%s/copy-sftp.bin dest=%s/ flat=yes"
             % (u.home, fetched))
    with open(os.path.join(fetched, "copy-sftp.bin"), "rb") as f:
        check(f.read() == body, "fetch: the file differs")

    sudoers = "/etc/sudoers.d/postern-test-%s" % u.name
    with open(sudoers, "w") as f:
        f.write("%s ALL=(ALL) NOPASSWD: ALL\n" % u.name)
    os.chmod(sudoers, 0o440)
    ctx.cleanups.append(lambda: os.path.exists(sudoers) and
                        os.unlink(sudoers))
    res = _ansible(ctx, u, "command", "id -u", become=True)
    check(res.get("stdout") == "0", "become (sudo): %r" % res)
    root_file = "/root/postern-ansible-%s" % u.name
    ctx.cleanups.append(lambda: os.path.exists(root_file) and
                        os.unlink(root_file))
    _ansible(ctx, u, "copy", "src=%s dest=%s mode=0600" % (src, root_file),
             become=True)
    st = os.stat(root_file)
    check(st.st_uid == 0, "become copy: owned by uid %d" % st.st_uid)
