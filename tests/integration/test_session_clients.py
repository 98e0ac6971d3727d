"""
test_session_clients.py: what people run over a session, with the real
clients: legacy scp (-O, which runs the server's /usr/bin/scp), rsync over
ssh, git clone and push to a bare repository (also for an account whose
shell is git-shell), and a command that writes
50 MB and exits at once (nothing lost at close).
"""

import hashlib
import os
import shutil
import subprocess

from harness import check, run


def _sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _ssh_cmd(ctx, u):
    """The ssh command line (without user@host) for -e / GIT_SSH_COMMAND."""
    return " ".join(ctx.ssh_argv(u)[:-1])


def _client_file(ctx, name, size):
    path = os.path.join(ctx.dir, name)
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    return path


def test_scp_legacy_both_ways(ctx):
    ctx.start_server()
    u = ctx.make_user()
    src = _client_file(ctx, "up.bin", 3 * 1024 * 1024 + 17)
    base = ["scp", "-O", "-q", "-P", str(ctx.port), "-i", u.key,
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"]
    r = subprocess.run(base + [src, "%s@127.0.0.1:up.bin" % u.name],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "scp -O upload: rc %s %r"
          % (r.returncode, r.stderr))
    remote = os.path.join(u.home, "up.bin")
    check(os.path.exists(remote) and _sha(remote) == _sha(src),
          "scp -O upload: the server's copy differs")
    check(os.stat(remote).st_uid == u.uid, "uploaded file not the user's")
    back = os.path.join(ctx.dir, "down.bin")
    r = subprocess.run(base + ["%s@127.0.0.1:up.bin" % u.name, back],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "scp -O download: rc %s %r"
          % (r.returncode, r.stderr))
    check(_sha(back) == _sha(src), "scp -O download differs")
    # The legacy protocol really ran the server's scp (scp -t / scp -f).
    check(ctx.wait_log(r"Starting session: command for %s" % u.name, 5),
          "no 'Starting session: command' line for legacy scp")


def test_rsync_both_ways(ctx):
    ctx.start_server()
    u = ctx.make_user()
    tree = os.path.join(ctx.dir, "tree")
    os.makedirs(os.path.join(tree, "d"))
    files = {"a.txt": b"alpha\n", "d/b.bin": os.urandom(700000)}
    for name, data in files.items():
        with open(os.path.join(tree, name), "wb") as f:
            f.write(data)
    r = subprocess.run(["rsync", "-a", "-e", _ssh_cmd(ctx, u), tree + "/",
                        "%s@127.0.0.1:tree/" % u.name],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "rsync push: rc %s %r"
          % (r.returncode, r.stderr[-400:]))
    for name, data in files.items():
        with open(os.path.join(u.home, "tree", name), "rb") as f:
            check(f.read() == data, "rsync push: %s differs" % name)
    # Change a file on the server, pull it back.
    with open(os.path.join(u.home, "tree", "c.txt"), "wb") as f:
        f.write(b"from the server\n")
    dest = os.path.join(ctx.dir, "pulled")
    r = subprocess.run(["rsync", "-a", "-e", _ssh_cmd(ctx, u),
                        "%s@127.0.0.1:tree/" % u.name, dest + "/"],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "rsync pull: rc %s %r"
          % (r.returncode, r.stderr[-400:]))
    files["c.txt"] = b"from the server\n"
    for name, data in files.items():
        with open(os.path.join(dest, name), "rb") as f:
            check(f.read() == data, "rsync pull: %s differs" % name)


def test_git_clone_and_push(ctx):
    ctx.start_server()
    u = ctx.make_user()
    bare = os.path.join(u.home, "repo.git")
    run(["runuser", "-u", u.name, "--", "git", "init", "-q", "--bare",
         "-b", "main", bare])
    env = dict(os.environ, GIT_SSH_COMMAND=_ssh_cmd(ctx, u),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               HOME=ctx.dir)
    url = "ssh://%s@127.0.0.1:%d%s" % (u.name, ctx.port, bare)
    work = os.path.join(ctx.dir, "work")
    r = subprocess.run(["git", "clone", "-q", url, work], env=env,
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "git clone: %r" % r.stderr[-400:])
    with open(os.path.join(work, "hello.txt"), "w") as f:
        f.write("hello over postern\n")
    for argv in (["git", "-C", work, "add", "hello.txt"],
                 ["git", "-C", work, "commit", "-q", "-m", "first"],
                 ["git", "-C", work, "push", "-q", "origin", "HEAD:main"]):
        r = subprocess.run(argv, env=env, capture_output=True, timeout=60)
        check(r.returncode == 0, "%s: %r" % (" ".join(argv[3:]),
                                             r.stderr[-400:]))
    r = run(["runuser", "-u", u.name, "--", "git", "-C", bare, "show",
             "main:hello.txt"])
    check(r.stdout == b"hello over postern\n",
          "pushed content on the server: %r" % r.stdout)
    # A second clone sees the pushed commit.
    again = os.path.join(ctx.dir, "again")
    r = subprocess.run(["git", "clone", "-q", url, again], env=env,
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "second clone: %r" % r.stderr[-400:])
    with open(os.path.join(again, "hello.txt")) as f:
        check(f.read() == "hello over postern\n", "second clone content")
    shutil.rmtree(again)


def test_git_shell_account(ctx):
    """A git hosting account whose login shell is git-shell (Debian's git):
    sshd runs the client's command through the shell's -c, so clone and
    push work, anything else is git-shell's to refuse, and an interactive
    login gets git-shell's own refusal."""
    ctx.start_server()
    u = ctx.make_user()
    run(["usermod", "-s", "/usr/bin/git-shell", u.name])
    bare = os.path.join(u.home, "repo.git")
    run(["runuser", "-u", u.name, "--", "git", "init", "-q", "--bare",
         "-b", "main", bare])
    env = dict(os.environ, GIT_SSH_COMMAND=_ssh_cmd(ctx, u),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               HOME=ctx.dir)
    url = "ssh://%s@127.0.0.1:%d%s" % (u.name, ctx.port, bare)
    work = os.path.join(ctx.dir, "work")
    r = subprocess.run(["git", "clone", "-q", url, work], env=env,
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "git clone through git-shell: %r"
          % r.stderr[-400:])
    with open(os.path.join(work, "f.txt"), "w") as f:
        f.write("through git-shell\n")
    for argv in (["git", "-C", work, "add", "f.txt"],
                 ["git", "-C", work, "commit", "-q", "-m", "one"],
                 ["git", "-C", work, "push", "-q", "origin", "HEAD:main"]):
        r = subprocess.run(argv, env=env, capture_output=True, timeout=60)
        check(r.returncode == 0, "%s: %r" % (" ".join(argv[3:]),
                                             r.stderr[-400:]))
    r = run(["runuser", "-u", u.name, "--", "git", "-C", bare, "show",
             "main:f.txt"])
    check(r.stdout == b"through git-shell\n", "pushed: %r" % r.stdout)
    marker = os.path.join(u.home, "ran")  # the user may write there
    r = ctx.ssh(u, "touch %s" % marker)
    check(r.rc != 0 and not os.path.exists(marker) and
          b"unrecognized command" in r.stderr,
          "git-shell ran an arbitrary command: rc %s %r"
          % (r.rc, r.stderr[-200:]))
    r = ctx.ssh(u, None, extra=("-tt",), input=b"")
    check(r.rc != 0 and b"Interactive git shell is not enabled" in
          r.stdout + r.stderr,
          "an interactive login to git-shell: rc %s %r %r"
          % (r.rc, r.stdout[-200:], r.stderr[-200:]))


def test_50mb_then_exit(ctx):
    """The command writes 50 MB and exits at once: every byte arrives."""
    ctx.start_server()
    u = ctx.make_user()
    blob = os.path.join(u.home, "blob")
    with open(blob, "wb") as f:
        f.write(os.urandom(50 * 1024 * 1024))
    os.chown(blob, u.uid, u.gid)
    argv = ctx.ssh_argv(u, "cat blob; exit 0")
    out = os.path.join(ctx.dir, "got")
    with open(out, "wb") as f:
        p = subprocess.run(argv, stdout=f, stderr=subprocess.PIPE,
                           timeout=120)
    check(p.returncode == 0, "ssh exited %s: %r" % (p.returncode, p.stderr))
    check(os.path.getsize(out) == 50 * 1024 * 1024,
          "got %d bytes, want %d" % (os.path.getsize(out), 50 * 1024 * 1024))
    check(_sha(out) == _sha(blob), "sha256 differs")
