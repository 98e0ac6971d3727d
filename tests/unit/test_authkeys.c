/*
 * test_authkeys.c: authorized_keys lookup as the user, StrictModes checks,
 * an options-prefixed line, line limits, log lines and path expansion
 * (options themselves: test_authopts.c).
 * Most checks need root (to chown files and switch to the test user).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "sshkey.h"
#include "authkeys.h"
#include "authopts.h"
#include "tests/unit/t.h"

#define TEST_UID 4242
#define TEST_GID 4242
#define OTHER_UID 4343

/* Made with ssh-keygen; d's line has options, a's, b's and e's are plain. */
static const char key_a[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAobB4iociU7JhqGiL0eO0dz23zx/0Mq"
    "2Sni6W3yHnRh ak-a";
static const char key_b[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOaCpqHh0NkbL0hfnlVQG1APDH7udANa"
    "Gt44+y4JnSFg ak-b";
static const char key_c[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXaYWSLkOqf4B6d9wl6WgzI/+XuqK5b"
    "KHLK0g4SY8EM ak-c";
static const char key_d[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILavPFRRdyrjuk1L9PsfdLEKI7wQDLuZ"
    "gxmCAr1Oy4TR ak-d";
static const char key_e[] =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYA"
    "AABBBLI1VUwYNl1npGt0M8JMNWqsW50EgEvyeGJhGFK3cN1Ua6CehEbkzIBvsPzoTWyL"
    "AWdquFJHrNU+hn9kUboFmNo= ak-e";

static int is_root;
static uid_t test_uid;
static gid_t test_gid;
static char base[] = "/tmp/postern-ak-XXXXXX";
static char home[320], sshdir[384], akpath[448];
static char logpath[320];
static int logfd = -1;
static struct passwd pw;

static void
log_clear(void)
{
	if (ftruncate(logfd, 0) != 0)
		perror("ftruncate");
}

/* 1 if the captured log contains needle. */
static int
log_has(const char *needle)
{
	static char text[1 << 16];
	ssize_t n;

	n = pread(logfd, text, sizeof(text) - 1, 0);
	if (n < 0)
		return 0;
	text[n] = '\0';
	return strstr(text, needle) != NULL;
}

/* 1 if expanding pattern ends the process with fatal()'s status. */
static int
expand_dies(const char *pattern, const struct passwd *p)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		free(authkeys_expand_path(pattern, p));
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 255;
}

static void
own(const char *path, uid_t uid, gid_t gid)
{
	if (is_root && chown(path, uid, gid) != 0)
		perror(path);
}

static void
write_bytes(
    const char *path, const char *content, size_t len, mode_t mode, uid_t uid)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return;
	}
	fwrite(content, 1, len, f);
	fclose(f);
	chmod(path, mode);
	own(path, uid, test_gid);
}

static void
write_file(const char *path, const char *content, mode_t mode, uid_t uid)
{
	write_bytes(path, content, strlen(content), mode, uid);
}

static int
ids_restored(int ngroups_before)
{
	return !is_root ||
	    (geteuid() == 0 && getegid() == 0 &&
	        getgroups(0, NULL) == ngroups_before);
}

static struct sshkey *
key(const char *line)
{
	struct sshkey *k = NULL;

	if (sshkey_parse_public_text(line, &k, NULL) != 0)
		return NULL;
	return k;
}

static void
test_lines(struct sshkey *a, struct sshkey *b, struct sshkey *c,
    struct sshkey *d, struct sshkey *e, int ngroups)
{
	char content[4096], want[PATH_MAX + 128];
	unsigned long line = 99;

	snprintf(content, sizeof(content),
	    "# authorized_keys for tests\n"
	    "\n"
	    "   \t  \n"
	    "ssh-ed25519 !!!notbase64 broken\n"
	    "%s\n"
	    "command=\"echo hi there\",no-pty %s\n"
	    "  %s\n"
	    "ssh-dss AAAAB3NzaC1kc3MAAACBAP== unsupported\n"
	    "%s",
	    key_e, key_d, key_a, key_b);
	write_file(akpath, content, 0600, test_uid);

	log_clear();
	T_CHECK("lines: key a found",
	    authkeys_find(&pw, akpath, a, 1, &line) == 0 && line == 7);
	T_CHECK("lines: privileges restored", ids_restored(ngroups));
	snprintf(want, sizeof(want),
	    "%s:7: matching key found: ED25519 SHA256:", akpath);
	T_CHECK("lines: debug line names file, line and key", log_has(want));
	T_CHECK("lines: Accepted key verbose line",
	    log_has("Accepted key ED25519 SHA256:"));
	T_CHECK("lines: ecdsa key e found on line 5",
	    authkeys_find(&pw, akpath, e, 1, &line) == 0 && line == 5);
	T_CHECK("lines: key b on a last line without newline",
	    authkeys_find(&pw, akpath, b, 1, &line) == 0 && line == 9);
	T_CHECK("lines: key c not listed",
	    authkeys_find(&pw, akpath, c, 1, &line) == ERR_NOT_FOUND &&
	        line == 0);
	log_clear();
	T_CHECK("lines: options line not matched by authkeys_find",
	    authkeys_find(&pw, akpath, d, 1, &line) == ERR_NOT_FOUND);
	snprintf(want, sizeof(want),
	    "%s:6: key options cannot be enforced by this caller; line "
	    "skipped",
	    akpath);
	T_CHECK("lines: options line logged", log_has(want));
	{
		struct authkeys_query q;
		struct authopts *o = NULL;

		memset(&q, 0, sizeof(q));
		q.pw = &pw;
		q.path = akpath;
		q.key = d;
		q.strict_modes = 1;
		q.remote_addr = "192.0.2.1";
		T_CHECK("lines: options line found with its options",
		    authkeys_find_opts(&q, &line, &o) == 0 && line == 6 &&
		        o != NULL && o->force_command != NULL &&
		        strcmp(o->force_command, "echo hi there") == 0 &&
		        !o->permit_pty);
		T_CHECK("lines: privileges restored after options lookup",
		    ids_restored(ngroups));
		authopts_free(o);
	}
	T_CHECK(
	    "lines: NULL linep", authkeys_find(&pw, akpath, a, 1, NULL) == 0);
}

static void
test_long_lines(struct sshkey *a)
{
	char *content, want[PATH_MAX + 64];
	size_t n, klen = strlen(key_a);
	unsigned long line = 0;

	content = malloc(3 * AUTHKEYS_LINE_MAX + 256);
	/* An over-long line, then a key line that is exactly at the limit. */
	memset(content, 'x', AUTHKEYS_LINE_MAX + 4000);
	n = AUTHKEYS_LINE_MAX + 4000;
	content[n++] = '\n';
	memcpy(content + n, key_a, klen);
	n += klen;
	memset(content + n, 'c', AUTHKEYS_LINE_MAX - klen);
	n += AUTHKEYS_LINE_MAX - klen;
	content[n++] = '\n';
	content[n] = '\0';
	write_file(akpath, content, 0600, test_uid);
	log_clear();
	T_CHECK("long: key on a line of exactly the limit found after an "
	        "over-long line",
	    authkeys_find(&pw, akpath, a, 1, &line) == 0 && line == 2);
	snprintf(want, sizeof(want), "%s line 1 exceeds size limit", akpath);
	T_CHECK(
	    "long: over-long line logged with file and line", log_has(want));

	/* One byte over the limit: the key line itself is skipped. */
	n = 0;
	memcpy(content, key_a, klen);
	n += klen;
	memset(content + n, 'c', AUTHKEYS_LINE_MAX + 1 - klen);
	n += AUTHKEYS_LINE_MAX + 1 - klen;
	n += (size_t)sprintf(content + n, "\n%s\n", key_a);
	write_file(akpath, content, 0600, test_uid);
	T_CHECK("long: line one byte over the limit skipped",
	    authkeys_find(&pw, akpath, a, 1, &line) == 0 && line == 2);

	/*
	 * A NUL early in an over-long line (a comment someone else supplied):
	 * the whole line is too long, and a key past the limit within it
	 * does not start a line of its own (review: it was found on line 2).
	 */
	n = 0;
	memcpy(content, "# note", 6);
	n += 6;
	content[n++] = '\0';
	memset(content + n, 'c', AUTHKEYS_LINE_MAX + 1 - n);
	n = AUTHKEYS_LINE_MAX + 1;
	n += (size_t)sprintf(content + n, "%s\n", key_a);
	write_bytes(akpath, content, n, 0600, test_uid);
	log_clear();
	T_CHECK("long: a key past the limit after a NUL in the same line is "
	        "not a line of its own",
	    authkeys_find(&pw, akpath, a, 1, &line) == ERR_NOT_FOUND);
	snprintf(want, sizeof(want), "%s line 1 exceeds size limit", akpath);
	T_CHECK(
	    "long: the line with the NUL is the one too long", log_has(want));
	/* A NUL in a short line ends it, as in sshd: the rest is ignored. */
	n = (size_t)sprintf(content, "# note");
	content[n++] = '\0';
	n += (size_t)sprintf(content + n, "%s\n", key_a);
	write_bytes(akpath, content, n, 0600, test_uid);
	T_CHECK("long: what follows a NUL in a line is ignored",
	    authkeys_find(&pw, akpath, a, 1, &line) == ERR_NOT_FOUND);
	free(content);
}

/* A stream that gives its text, then a read error (no end of file). */
struct failing {
	const char *text;
	size_t off;
};

static ssize_t
failing_read(void *cookie, char *buf, size_t size)
{
	struct failing *f = cookie;
	size_t n = strlen(f->text + f->off);

	if (n == 0) {
		errno = EIO;
		return -1;
	}
	if (n > size)
		n = size;
	memcpy(buf, f->text + f->off, n);
	f->off += n;
	return (ssize_t)n;
}

static void
test_read_error(struct sshkey *a)
{
	cookie_io_functions_t io = {failing_read, NULL, NULL, NULL};
	struct failing src = {key_a, 0};
	struct authkeys_query q;
	struct authopts *o = NULL;
	unsigned long line = 0;
	FILE *f;

	/* The key's line, its newline never read: cut by a read error. */
	memset(&q, 0, sizeof(q));
	q.pw = &pw;
	q.key = a;
	if ((f = fopencookie(&src, "r", io)) == NULL) {
		T_CHECK("read error: fopencookie", 0);
		return;
	}
	T_CHECK("read error: a line cut by a read error is not used",
	    authkeys_find_stream(&q, f, "failing", &line, &o) == ERR_SYSTEM &&
	        o == NULL);
	authopts_free(o);
	fclose(f);
}

static void
test_strict(struct sshkey *a, int ngroups)
{
	char content[512], want[PATH_MAX + 128], outside[384];
	char outdir[320], canon[PATH_MAX];
	unsigned long line = 0;
	struct stat st;

	snprintf(content, sizeof(content), "%s\n", key_a);
	write_file(akpath, content, 0620, test_uid);
	log_clear();
	T_CHECK("strict: group-writable file refused",
	    authkeys_find(&pw, akpath, a, 1, &line) == ERR_PERM && line == 0);
	snprintf(want, sizeof(want),
	    "Authentication refused: bad ownership or modes for file %s",
	    akpath);
	T_CHECK("strict: refusal logged in OpenSSH's words", log_has(want));
	T_CHECK(
	    "strict: privileges restored after refusal", ids_restored(ngroups));
	T_CHECK("strict: group-writable file accepted without StrictModes",
	    authkeys_find(&pw, akpath, a, 0, &line) == 0 && line == 1);
	chmod(akpath, 0600);

	chmod(home, 0777);
	log_clear();
	T_CHECK("strict: world-writable home refused",
	    authkeys_find(&pw, akpath, a, 1, &line) == ERR_PERM);
	snprintf(want, sizeof(want),
	    "Authentication refused: bad ownership or modes for directory %s",
	    home);
	T_CHECK("strict: home named in the log", log_has(want));
	T_CHECK("strict: world-writable home accepted without StrictModes",
	    authkeys_find(&pw, akpath, a, 0, &line) == 0);
	chmod(home, 0755);
	T_CHECK("strict: good modes accepted",
	    authkeys_find(&pw, akpath, a, 1, &line) == 0);

	if (!is_root)
		return;
	own(sshdir, OTHER_UID, test_gid);
	chmod(sshdir, 0755);
	log_clear();
	T_CHECK("strict: .ssh owned by another user refused",
	    authkeys_find(&pw, akpath, a, 1, &line) == ERR_PERM);
	snprintf(want, sizeof(want),
	    "Authentication refused: bad ownership or modes for directory %s",
	    sshdir);
	T_CHECK("strict: .ssh named in the log", log_has(want));
	own(sshdir, test_uid, test_gid);
	chmod(sshdir, 0700);

	write_file(akpath, content, 0644, 0);
	T_CHECK("strict: root-owned 0644 file accepted",
	    authkeys_find(&pw, akpath, a, 1, &line) == 0);
	chmod(akpath, 0600);
	log_clear();
	T_CHECK("strict: file only root can read is not read as the user",
	    authkeys_find(&pw, akpath, a, 0, &line) == ERR_NOT_FOUND);
	snprintf(want, sizeof(want),
	    "Could not open user 'postern-ak-test' authorized keys '%s': "
	    "Permission denied",
	    akpath);
	T_CHECK("strict: open failure logged", log_has(want));
	T_CHECK("strict: privileges restored after open failure",
	    ids_restored(ngroups));
	write_file(akpath, content, 0600, test_uid);

	/* Outside home the walk goes on to "/", through /tmp. */
	snprintf(outdir, sizeof(outdir), "%.200s/keys", base);
	mkdir(outdir, 0755);
	snprintf(outside, sizeof(outside), "%s/ak", outdir);
	write_file(outside, content, 0600, test_uid);
	log_clear();
	if (stat("/tmp", &st) == 0 && (st.st_mode & 022) != 0 &&
	    realpath("/tmp", canon) != NULL) {
		T_CHECK("strict: file outside home checked up to /",
		    authkeys_find(&pw, outside, a, 1, &line) == ERR_PERM);
		snprintf(want, sizeof(want),
		    "Authentication refused: bad ownership or modes for "
		    "directory %s\r\n",
		    canon);
		T_CHECK("strict: world-writable /tmp named", log_has(want));
	}
	T_CHECK("strict: file outside home without StrictModes",
	    authkeys_find(&pw, outside, a, 0, &line) == 0);
	unlink(outside);
	rmdir(outdir);
}

static void
test_files(struct sshkey *a)
{
	char path[PATH_MAX + 16], want[PATH_MAX + 128];
	unsigned long line = 0;

	snprintf(path, sizeof(path), "%s/missing", sshdir);
	log_clear();
	T_CHECK("files: missing file",
	    authkeys_find(&pw, path, a, 1, &line) == ERR_NOT_FOUND);
	T_CHECK("files: missing file logged at debug only",
	    log_has("debug1: Could not open user") &&
	        !log_has("\nCould not open user"));
	log_clear();
	T_CHECK("files: directory refused",
	    authkeys_find(&pw, sshdir, a, 1, &line) == ERR_PERM);
	snprintf(want, sizeof(want),
	    "User 'postern-ak-test' authorized keys '%s' is not a regular file",
	    sshdir);
	T_CHECK("files: directory logged", log_has(want));
	snprintf(path, sizeof(path), "%s/fifo", sshdir);
	if (mkfifo(path, 0600) == 0) {
		own(path, test_uid, test_gid);
		T_CHECK("files: FIFO refused without blocking",
		    authkeys_find(&pw, path, a, 0, &line) == ERR_PERM);
		unlink(path);
	}
}

static void
test_expand(void)
{
	struct passwd p;
	char *s;

	memset(&p, 0, sizeof(p));
	p.pw_name = "alice";
	p.pw_uid = 1001;
	p.pw_gid = 1001;
	p.pw_dir = "/home/alice";

	s = authkeys_expand_path("%h/.ssh/authorized_keys", &p);
	T_CHECK("expand: %h",
	    s != NULL && strcmp(s, "/home/alice/.ssh/authorized_keys") == 0);
	free(s);
	s = authkeys_expand_path(".ssh/authorized_keys2", &p);
	T_CHECK("expand: relative to home",
	    s != NULL && strcmp(s, "/home/alice/.ssh/authorized_keys2") == 0);
	free(s);
	s = authkeys_expand_path("/etc/ssh/keys/%u", &p);
	T_CHECK(
	    "expand: %u", s != NULL && strcmp(s, "/etc/ssh/keys/alice") == 0);
	free(s);
	s = authkeys_expand_path("/k/%U/100%%", &p);
	T_CHECK(
	    "expand: %U and %%", s != NULL && strcmp(s, "/k/1001/100%") == 0);
	free(s);
	s = authkeys_expand_path("keys/%u.%U", &p);
	T_CHECK("expand: relative with tokens",
	    s != NULL && strcmp(s, "/home/alice/keys/alice.1001") == 0);
	free(s);
	/* As sshd's monitor: percent_expand()'s lines, then fatal(). */
	log_clear();
	T_CHECK("expand: unknown token is fatal",
	    expand_dies("/k/%x", &p) &&
	        log_has("vdollar_percent_expand: unknown key %x") &&
	        log_has("percent_expand: failed"));
	log_clear();
	T_CHECK("expand: trailing % is fatal",
	    expand_dies("/k/%", &p) &&
	        log_has("vdollar_percent_expand: invalid format") &&
	        log_has("percent_expand: failed"));
}

int
main(void)
{
	struct sshkey *a, *b, *c, *d, *e;
	char tmp[PATH_MAX];
	int ngroups;

	is_root = geteuid() == 0;
	test_uid = is_root ? TEST_UID : getuid();
	test_gid = is_root ? TEST_GID : getgid();
	ngroups = getgroups(0, NULL);
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	chmod(base, 0755);
	/* Names in log lines are canonical paths. */
	if (realpath(base, tmp) == NULL || strlen(tmp) > 200)
		return 1;
	snprintf(home, sizeof(home), "%.200s/home", tmp);
	snprintf(sshdir, sizeof(sshdir), "%s/.ssh", home);
	snprintf(akpath, sizeof(akpath), "%s/authorized_keys", sshdir);
	snprintf(logpath, sizeof(logpath), "%.200s/log", tmp);
	mkdir(home, 0755);
	own(home, test_uid, test_gid);
	mkdir(sshdir, 0700);
	own(sshdir, test_uid, test_gid);

	memset(&pw, 0, sizeof(pw));
	pw.pw_name = "postern-ak-test";
	pw.pw_uid = test_uid;
	pw.pw_gid = test_gid;
	pw.pw_dir = home;

	logfd = open(logpath, O_RDWR | O_CREAT | O_APPEND | O_TRUNC, 0600);
	log_init("test_authkeys", LL_DEBUG3, LOG_AUTH, 1);
	log_set_file(logfd);

	a = key(key_a);
	b = key(key_b);
	c = key(key_c);
	d = key(key_d);
	e = key(key_e);
	T_CHECK("fixture keys parse", a && b && c && d && e);
	if (!is_root)
		printf(
		    "ok - not root: ownership and privilege checks skipped\n");
	if (a && b && c && d && e) {
		test_lines(a, b, c, d, e, ngroups);
		test_long_lines(a);
		test_read_error(a);
		test_strict(a, ngroups);
		test_files(a);
	}
	test_expand();

	sshkey_free(a);
	sshkey_free(b);
	sshkey_free(c);
	sshkey_free(d);
	sshkey_free(e);
	close(logfd);
	unlink(logpath);
	unlink(akpath);
	rmdir(sshdir);
	rmdir(home);
	rmdir(base);
	return T_DONE();
}
