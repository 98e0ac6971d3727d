/*
 * login.c: the monitor's part of a login. It stays root for the session,
 * so it allocates the ptys (owned by the user, group tty, mode 0620),
 * writes the utmp/wtmp login and logout records and lastlog for those
 * ptys only, and checks ChrootDirectory before the session starts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* TIOCGPTPEER, posix_openpt */
#endif
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <lastlog.h>
#include <limits.h>
#include <paths.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>
#include <utmpx.h>

#include "audit.h"
#include "auth.h"
#include "authdebug.h"
#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "login.h"
#include "nologin.h"
#include "monitor/pam.h"
#include "authopts.h"
#include "policy/config.h"

#define LOGIN_AUTH_INFO_MAX (64 * 1024)
#define LOGIN_LASTLOG_MSG 512

/* Flags of IPC_SESSION_LOGIN: lib/ipc.h. */

void
login_state_init(struct login_state *ls, const struct authctxt *a,
    const struct server_config *c, const struct conn_info *ci)
{
	memset(ls, 0, sizeof(*ls));
	ls->a = a;
	ls->c = c;
	ls->ci = ci;
}

/* --- ChrootDirectory ------------------------------------------------------ */

#define CHROOT_MAX_LINKS 40

/*
 * One directory on the way: root's, writable by nobody else. sshd's words,
 * its function name "safely_chroot" included, and its level: fatal (its
 * session process ends there; here the monitor ends the session).
 */
static int
chroot_dir_ok(int fd, const char *shown, int component)
{
	struct stat st;

	debug3_f("checking '%s%s'", shown,
	    component && strcmp(shown, "/") != 0 ? "/" : "");
	if (fstat(fd, &st) != 0) {
		log_msg(LL_FATAL, __func__, 0,
		    "safely_chroot: stat(\"%s\"): %s", shown, strerror(errno));
		return ERR_CONFIG;
	}
	if (st.st_uid != 0 || (st.st_mode & 022) != 0) {
		log_msg(LL_FATAL, __func__, 0,
		    "bad ownership or modes for chroot directory %s\"%s%s\"",
		    component ? "component " : "", shown,
		    component && strcmp(shown, "/") != 0 ? "/" : "");
		return ERR_CONFIG;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_msg(LL_FATAL, __func__, 0,
		    "chroot path %s\"%s%s\" is not a directory",
		    component ? "component " : "", shown,
		    component && strcmp(shown, "/") != 0 ? "/" : "");
		return ERR_CONFIG;
	}
	return 0;
}

/* cand: the path of name in shown (the walk's directory, ".." known). */
static int
chroot_name(char *cand, size_t len, char *shown, const char *name)
{
	char *slash;
	int n;

	if (strcmp(name, "..") == 0) {
		if ((slash = strrchr(shown, '/')) != NULL)
			slash[slash == shown ? 1 : 0] = '\0';
		name = "";
	}
	n = snprintf(cand, len, "%s%s%s", shown,
	    strcmp(shown, "/") == 0 || name[0] == '\0' ? "" : "/", name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * chroot_open: walk path from "/" one name at a time with O_NOFOLLOW,
 * checking each directory reached. A symlink is read and its target walked
 * the same way, so every directory the jail is reached through is checked,
 * not only the names as written. *fdp is an O_PATH descriptor of the very
 * directory checked last: the session enters it by descriptor, so nothing
 * can be swapped in between the check and the chroot.
 */
static int
chroot_open(const char *path, int *fdp)
{
	char todo[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	char shown[PATH_MAX], cand[PATH_MAX];
	char *name, *rest;
	struct stat st;
	int dirfd = -1, fd = -1, nlinks = 0, r = ERR_CONFIG, n, slash;
	ssize_t len;

	*fdp = -1;
	if (path[0] != '/') {
		log_msg(LL_FATAL, __func__, 0,
		    "chroot path does not begin at root");
		return ERR_CONFIG;
	}
	if (strlen(path) >= sizeof(todo)) {
		log_msg(LL_FATAL, __func__, 0, "chroot path too long");
		return ERR_CONFIG;
	}
	snprintf(todo, sizeof(todo), "%s", path);
	snprintf(shown, sizeof(shown), "/");
	if ((dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_msg(LL_FATAL, __func__, 0, "safely_chroot: open(\"/\"): %s",
		    strerror(errno));
		return ERR_CONFIG;
	}
	if (chroot_dir_ok(dirfd, shown, 1) != 0)
		goto out;
	for (rest = todo;;) {
		while (*rest == '/')
			rest++;
		if (*rest == '\0')
			break;
		name = rest;
		rest = strchrnul(rest, '/');
		/* A name with a slash after it, the last one too ("J/"), is
		 * sshd's component "NAME/", stat()ed with its slash. */
		slash = *rest == '/';
		if (*rest != '\0')
			*rest++ = '\0';
		while (*rest == '/')
			rest++;
		if (strcmp(name, ".") == 0)
			continue;
		if (chroot_name(cand, sizeof(cand), shown, name) != 0) {
			log_msg(LL_FATAL, __func__, 0, "chroot path too long");
			goto out;
		}
		fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 || fstat(fd, &st) != 0) {
			log_msg(LL_FATAL, __func__, 0,
			    "safely_chroot: stat(\"%s\"): %s", cand,
			    strerror(errno));
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			/* Walk the target from here (or from "/"). */
			if (++nlinks > CHROOT_MAX_LINKS) {
				log_msg(LL_FATAL, __func__, 0,
				    "safely_chroot: stat(\"%s\"): %s", cand,
				    strerror(ELOOP));
				goto out;
			}
			len = readlinkat(fd, "", target, sizeof(target) - 1);
			if (len <= 0) {
				log_msg(LL_FATAL, __func__, 0,
				    "safely_chroot: readlink(\"%s\"): %s", cand,
				    len == 0 ? "empty" : strerror(errno));
				goto out;
			}
			target[len] = '\0';
			/* The link's slash, if any, goes on after its
			 * target: "L/" is a component, "L" the jail. */
			n = snprintf(next, sizeof(next), "%s%s%s", target,
			    slash ? "/" : "", rest);
			if (n < 0 || (size_t)n >= sizeof(next)) {
				log_msg(LL_FATAL, __func__, 0,
				    "chroot path too long");
				goto out;
			}
			memcpy(todo, next, (size_t)n + 1);
			rest = todo;
			close(fd);
			fd = -1;
			if (target[0] == '/') {
				close(dirfd);
				snprintf(shown, sizeof(shown), "/");
				dirfd =
				    open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
				if (dirfd == -1) {
					log_msg(LL_FATAL, __func__, 0,
					    "safely_chroot: open(\"/\"): %s",
					    strerror(errno));
					goto out;
				}
			}
			continue;
		}
		if (slash && !S_ISDIR(st.st_mode)) {
			/* As sshd's stat("COMPONENT/") of a file on the way. */
			log_msg(LL_FATAL, __func__, 0,
			    "safely_chroot: stat(\"%s/\"): %s", cand,
			    strerror(ENOTDIR));
			goto out;
		}
		snprintf(shown, sizeof(shown), "%s", cand);
		if (chroot_dir_ok(fd, shown, slash) != 0)
			goto out;
		close(dirfd);
		dirfd = fd;
		fd = -1;
	}
	*fdp = dirfd;
	dirfd = -1;
	r = 0;
out:
	if (fd != -1)
		close(fd);
	if (dirfd != -1)
		close(dirfd);
	return r;
}

int
login_chroot_path(const struct authctxt *a, const struct server_config *c,
    char **pathp, int *fdp)
{
	struct token_values tv;
	char uid[32];
	char *path, *tilde;
	int r;

	*pathp = NULL;
	*fdp = -1;
	if (c->chroot_directory == NULL)
		return 0;
	if (getuid() != 0) {
		log_msg(LL_FATAL, __func__, 0,
		    "server lacks privileges to chroot to ChrootDirectory");
		return ERR_CONFIG;
	}
	memset(&tv, 0, sizeof(tv));
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)a->pw.pw_uid);
	tv.home = a->pw.pw_dir;
	tv.user = a->pw.pw_name;
	tv.uid = uid;
	/* As sshd's tilde_expand_filename() for the user, then the tokens. */
	if (config_tilde_expand(c->chroot_directory, a->pw.pw_uid, &tilde) != 0)
		return ERR_CONFIG;
	path = config_expand_tokens(tilde, &tv, CONFIG_TOKENS_CHROOT_DIRECTORY);
	free(tilde);
	if (path == NULL) {
		/* As sshd's percent_expand(): fatal, the connection ends. */
		log_msg(LL_FATAL, __func__, 0, "percent_expand: failed");
		return ERR_CONFIG;
	}
	if ((r = chroot_open(path, fdp)) != 0) {
		free(path);
		return r;
	}
	*pathp = path;
	return 0;
}

/* --- IPC_SESSION_LOGIN ---------------------------------------------------- */

/*
 * OpenSSH's do_nologin() with UsePAM no (with UsePAM yes pam_nologin
 * decides): for anyone but root, an /etc/nologin file ends every session
 * with its text. 1 if it applies, *textp its text (maybe empty).
 */
static int
nologin_text(
    const struct authctxt *a, const struct server_config *c, char **textp)
{
	*textp = NULL;
	if (c->use_pam == 1 || a->pw.pw_uid == 0)
		return 0;
	return nologin_read(textp);
}

static int
put_list(struct buf *b, char *const *list, size_t n)
{
	size_t i;
	int r;

	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = buf_put_cstring(b, list[i])) != 0)
			return r;
	return 0;
}

/* The SSH_MSG_DEBUG lines the login's key checks left (lib/authdebug.h). */
static int
put_auth_debug(struct buf *b)
{
	size_t i, n = authdebug_count();
	int r;

	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = buf_put_cstring(b, authdebug_get(i))) != 0)
			return r;
	return 0;
}

int
login_send(int fd, const struct authctxt *a, const struct server_config *c,
    int chrooted)
{
	struct buf *b;
	uint32_t flags = 0;
	char *nologin = NULL;
	int r;

	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if (nologin_text(a, c, &nologin))
		flags |= LOGIN_F_NOLOGIN;
	if (c->use_pam == 1)
		flags |= LOGIN_F_USE_PAM;
	if (c->print_motd == 1)
		flags |= LOGIN_F_PRINT_MOTD;
	if (c->print_lastlog == 1)
		flags |= LOGIN_F_PRINT_LASTLOG;
	if (c->permit_user_rc == 1)
		flags |= LOGIN_F_PERMIT_USER_RC;
	if (chrooted)
		flags |= LOGIN_F_CHROOTED;
	else if (c->use_pam != 1 && a->pw.pw_uid != 0)
		flags |= LOGIN_F_NOLOGIN_LIVE;
	if (c->force_command != NULL)
		flags |= LOGIN_F_ADMIN_FORCED;
	/* An expired password (auth.h force_pwchange): the session runs
	 * passwd(1) directly, as OpenSSH's do_pwchange(), whatever is asked. */
	if (a->force_pwchange)
		flags |= LOGIN_F_PWCHANGE;
	if (a->pam_session_failed)
		flags |= LOGIN_F_PAM_FAILED;
	if ((r = buf_put_u32(b, (uint32_t)a->pw.pw_uid)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)a->pw.pw_gid)) != 0 ||
	    (r = buf_put_cstring(b, a->pw.pw_dir)) != 0 ||
	    (r = buf_put_cstring(b, a->pw.pw_shell)) != 0 ||
	    (r = buf_put_u32(b, flags)) != 0 ||
	    (r = buf_put_cstring(b,
	         c->permit_user_env == NULL ? "" : c->permit_user_env)) != 0 ||
	    (r = put_list(b, c->accept_env, c->naccept_env)) != 0 ||
	    (r = put_list(b, c->set_env, c->nset_env)) != 0 ||
	    (r = buf_put_cstring(b,
	         c->expose_auth_info == 1 && a->auth_info != NULL ? a->auth_info
	                                                          : "")) != 0 ||
	    (r = buf_put_cstring(b, pamctx_loginmsg(a->pam))) != 0 ||
	    (r = buf_put_cstring(b, nologin != NULL ? nologin : "")) != 0 ||
	    (r = put_auth_debug(b)) != 0)
		goto out;
	r = ipc_send(fd, IPC_SESSION_LOGIN, b, -1);
out:
	free(nologin);
	buf_free(b);
	return r;
}

/* --- ptys ----------------------------------------------------------------- */

/* Allocate a pty for the user: reply with its name and master. */
static int
pty_alloc(struct login_state *ls, int fd)
{
	const struct authctxt *a = ls->a;
	struct login_pty *p;
	struct buf *rep = NULL;
	struct group *gr;
	char name[LOGIN_TTY_MAX];
	int master = -1, slave = -1, ok = 0, r, n;
	unsigned int ptn;
	gid_t gid;
	mode_t mode;

	if (ls->c->permit_tty == 0 || a->opts == NULL || !a->opts->permit_pty) {
		debug("pty request refused: not permitted for this login");
		goto reply;
	}
	if (ls->nptys >= LOGIN_MAX_PTYS ||
	    ls->nptys >= (size_t)ls->c->max_sessions) {
		/* Once: a session could ask again without end. */
		if (!ls->limit_logged)
			error("pty request refused: %zu ptys allocated",
			    ls->nptys);
		ls->limit_logged = 1;
		goto reply;
	}
	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(master) == -1 || unlockpt(master) == -1 ||
	    ioctl(master, TIOCGPTN, &ptn) == -1) {
		error("openpty: %s", strerror(errno));
		goto reply;
	}
	n = snprintf(name, sizeof(name), "/dev/pts/%u", ptn);
	if (n < 0 || (size_t)n >= sizeof(name))
		goto reply;
	if ((slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY)) == -1) {
		error("openpty: %s: %s", name, strerror(errno));
		goto reply;
	}
	/* As sshd's pty_setowner: the user's, group tty, 0620. */
	gr = getgrnam("tty");
	gid = gr != NULL ? gr->gr_gid : a->pw.pw_gid;
	mode = gr != NULL ? 0620 : 0600;
	if (fchown(slave, a->pw.pw_uid, gid) == -1 && getuid() == 0) {
		error("chown(%.100s, %u, %u) failed: %s", name,
		    (unsigned)a->pw.pw_uid, (unsigned)gid, strerror(errno));
		goto reply;
	}
	if (fchmod(slave, mode) == -1 && getuid() == 0) {
		error("chmod(%.100s, 0%o) failed: %s", name, (unsigned)mode,
		    strerror(errno));
		goto reply;
	}
	ok = 1;
reply:
	if (slave != -1)
		close(slave);
	if ((rep = buf_new(256)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_u32(rep, (uint32_t)ok)) != 0 ||
	    (r = buf_put_cstring(rep, ok ? name : "")) != 0)
		goto out;
	r = ipc_send(fd, IPC_SESSION_PTY_REPLY, rep, ok ? master : -1);
	if (r == 0 && ok) {
		/* The monitor's copy holds the pty number until logout_rec. */
		p = &ls->ptys[ls->nptys++];
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->master = master;
		p->logged_in = 0;
		master = -1;
		debug("pty allocated: %s", name);
	}
out:
	if (master != -1)
		close(master);
	buf_free(rep);
	return r;
}

/* pty_release: close the monitor's master (the number may be reused). */
static void
pty_release(struct login_state *ls, struct login_pty *p)
{
	close(p->master);
	*p = ls->ptys[--ls->nptys];
	memset(&ls->ptys[ls->nptys], 0, sizeof(ls->ptys[0]));
}

static struct login_pty *
pty_find(struct login_state *ls, const char *name)
{
	size_t i;

	for (i = 0; i < ls->nptys; i++)
		if (strcmp(ls->ptys[i].name, name) == 0)
			return &ls->ptys[i];
	return NULL;
}

/* --- utmp, wtmp, lastlog -------------------------------------------------- */

/* Failed logins, where sshd writes them (lastb(1) reads it). */
#ifndef LOGIN_BTMP_PATH
#define LOGIN_BTMP_PATH "/var/log/btmp"
#endif

/* The host utmp, wtmp and lastlog record: UseDNS's name, or the address
 * when the name is longer than -u allows (as sshd). */
static const char *
utmp_host(const struct conn_info *ci)
{
	return ci->utmp_addr ? ci->client_addr : ci->client_host;
}

static void
copy_field(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);

	memset(dst, 0, dstlen);
	memcpy(dst, src, n < dstlen ? n : dstlen);
}

/* A record's ut_addr_v6: an IPv4 address in its first word, or IPv6. */
static void
copy_addr(int32_t addr_v6[4], const char *addr)
{
	if (inet_pton(AF_INET, addr, addr_v6) != 1)
		(void)inet_pton(AF_INET6, addr, addr_v6);
}

/* A USER_PROCESS (login) or DEAD_PROCESS (logout) record in utmp, wtmp. */
static void
utmp_record(const struct login_state *ls, const struct login_pty *p, int in)
{
	const char *line = p->name + strlen("/dev/");
	struct utmpx ut;
	struct timeval tv;
	size_t len = strlen(line);

	memset(&ut, 0, sizeof(ut));
	ut.ut_type = in ? USER_PROCESS : DEAD_PROCESS;
	ut.ut_pid = p->pid;
	copy_field(ut.ut_line, sizeof(ut.ut_line), line);
	/* The id: the line's last characters ("ts/3"), as login(1) does. */
	copy_field(ut.ut_id, sizeof(ut.ut_id),
	    len > sizeof(ut.ut_id) ? line + len - sizeof(ut.ut_id) : line);
	if (in) {
		copy_field(ut.ut_user, sizeof(ut.ut_user), ls->a->pw.pw_name);
		copy_field(ut.ut_host, sizeof(ut.ut_host), utmp_host(ls->ci));
		copy_addr(ut.ut_addr_v6, ls->ci->client_addr);
	}
	gettimeofday(&tv, NULL);
	ut.ut_tv.tv_sec = (int32_t)tv.tv_sec;
	ut.ut_tv.tv_usec = (int32_t)tv.tv_usec;
	setutxent();
	if (pututxline(&ut) == NULL)
		debug("utmp: %s: %s", _PATH_UTMPX, strerror(errno));
	endutxent();
	updwtmpx(_PATH_WTMPX, &ut);
}

void
login_failed_record(const char *user, const struct conn_info *ci)
{
	struct utmp ut;
	struct stat st;
	ssize_t n;
	int fd;

	if (geteuid() != 0)
		return;
	if ((fd = open(LOGIN_BTMP_PATH,
	         O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) <
	    0) {
		debug("Unable to open the btmp file %s: %s", LOGIN_BTMP_PATH,
		    strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IXGRP | S_IRWXO)) != 0) {
		logit("Excess permission or bad ownership on file %s",
		    LOGIN_BTMP_PATH);
		close(fd);
		return;
	}
	memset(&ut, 0, sizeof(ut));
	ut.ut_type = LOGIN_PROCESS;
	ut.ut_pid = getpid();
	copy_field(ut.ut_line, sizeof(ut.ut_line), "ssh:notty");
	copy_field(ut.ut_user, sizeof(ut.ut_user), user);
	copy_field(ut.ut_host, sizeof(ut.ut_host), ci->client_host);
	copy_addr(ut.ut_addr_v6, ci->client_addr);
	/* Whole seconds, as sshd writes them. */
	ut.ut_tv.tv_sec = (int32_t)time(NULL);
	n = write(fd, &ut, sizeof(ut));
	if (n != (ssize_t)sizeof(ut))
		error("Failed to write to %s: %s", LOGIN_BTMP_PATH,
		    n < 0 ? strerror(errno) : "short write");
	close(fd);
}

/*
 * lastlog: the previous login as "Last login: ..." (empty if none or
 * PrintLastLog is off), then this login written in its place.
 */
static void
lastlog_record(const struct login_state *ls, const struct login_pty *p,
    char *msg, size_t msglen)
{
	struct lastlog ll;
	char when[64], host[sizeof(ll.ll_host) + 1];
	off_t off = (off_t)ls->a->pw.pw_uid * (off_t)sizeof(ll);
	time_t t;
	struct tm tm;
	int fd;

	msg[0] = '\0';
	if ((fd = open(_PATH_LASTLOG, O_RDWR | O_CLOEXEC)) == -1) {
		debug("lastlog: %s: %s", _PATH_LASTLOG, strerror(errno));
		return;
	}
	memset(&ll, 0, sizeof(ll));
	if (pread(fd, &ll, sizeof(ll), off) == (ssize_t)sizeof(ll) &&
	    ll.ll_time != 0 && ls->c->print_lastlog == 1) {
		t = (time_t)ll.ll_time;
		if (localtime_r(&t, &tm) != NULL &&
		    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm) >
		        0) {
			memcpy(host, ll.ll_host, sizeof(ll.ll_host));
			host[sizeof(ll.ll_host)] = '\0';
			if (host[0] != '\0')
				snprintf(msg, msglen,
				    "Last login: %s from %s\r\n", when, host);
			else
				snprintf(
				    msg, msglen, "Last login: %s\r\n", when);
		}
	}
	memset(&ll, 0, sizeof(ll));
	ll.ll_time = (int32_t)time(NULL);
	copy_field(ll.ll_line, sizeof(ll.ll_line), p->name + strlen("/dev/"));
	copy_field(ll.ll_host, sizeof(ll.ll_host), utmp_host(ls->ci));
	if (pwrite(fd, &ll, sizeof(ll), off) != (ssize_t)sizeof(ll))
		error("lastlog: write %s: %s", _PATH_LASTLOG, strerror(errno));
	close(fd);
}

/* IPC_SESSION_LOGIN_REC: string tty, u32 pid. */
static int
login_rec(struct login_state *ls, int fd, struct buf *b)
{
	struct login_pty *p;
	struct buf *rep = NULL;
	char *tty = NULL, msg[LOGIN_LASTLOG_MSG], held[LOGIN_TTY_MAX];
	unsigned int ptn;
	uint32_t pid;
	int r, n;

	msg[0] = '\0';
	if ((r = buf_get_cstring(b, &tty, NULL)) != 0 ||
	    (r = buf_get_u32(b, &pid)) != 0 || (r = buf_end(b)) != 0)
		goto out;
	/* Only a pty this monitor allocated, recorded once. */
	if ((p = pty_find(ls, tty)) == NULL || p->logged_in) {
		error("monitor: login record refused for a pty this "
		      "connection does not hold");
		r = ERR_PROTOCOL;
		goto out;
	}
	/* The session names itself; root writes no pid of its choosing. */
	if (ls->session_pid <= 0 || pid != (uint32_t)ls->session_pid) {
		error("monitor: login record refused: pid %u is not the "
		      "session's",
		    (unsigned)pid);
		r = ERR_PROTOCOL;
		goto out;
	}
	/* The master we hold is still that pty (it cannot have moved). */
	if (ioctl(p->master, TIOCGPTN, &ptn) == -1 ||
	    (n = snprintf(held, sizeof(held), "/dev/pts/%u", ptn)) < 0 ||
	    (size_t)n >= sizeof(held) || strcmp(held, p->name) != 0) {
		error("monitor: login record refused: %s is not the pty held",
		    p->name);
		r = ERR_PROTOCOL;
		goto out;
	}
	/* ut_pid is this monitor's, as sshd 9.2 records its [priv]
	 * process: w(1) shows the shell, started later, not the session
	 * process that forked it in the same clock tick. */
	p->pid = getpid();
	p->logged_in = 1;
	lastlog_record(ls, p, msg, sizeof(msg));
	utmp_record(ls, p, 1);
	audit_login_tty(ls->a, p->name);
	debug("login recorded on %s for %s", p->name, ls->a->pw.pw_name);
	if ((rep = buf_new(LOGIN_LASTLOG_MSG + 16)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_cstring(rep, msg)) == 0)
		r = ipc_send(fd, IPC_SESSION_LOGIN_REPLY, rep, -1);
out:
	buf_free(rep);
	free(tty);
	return r;
}

/* IPC_SESSION_LOGOUT_REC: string tty; the logout record, the pty released. */
static int
logout_rec(struct login_state *ls, struct buf *b)
{
	struct login_pty *p;
	char *tty = NULL;
	int r;

	if ((r = buf_get_cstring(b, &tty, NULL)) != 0 || (r = buf_end(b)) != 0)
		goto out;
	if ((p = pty_find(ls, tty)) == NULL) {
		error("monitor: release of a pty this connection does not "
		      "hold");
		r = ERR_PROTOCOL;
		goto out;
	}
	if (p->logged_in) {
		utmp_record(ls, p, 0);
		debug("logout recorded on %s", p->name);
	}
	/* Only now may the number go to another login; the slot is free. */
	pty_release(ls, p);
out:
	free(tty);
	return r;
}

int
login_handle(struct login_state *ls, int fd, uint8_t type, struct buf *b)
{
	switch (type) {
	case IPC_SESSION_PTY_REQ:
		if (buf_end(b) != 0)
			return ERR_FORMAT;
		return pty_alloc(ls, fd);
	case IPC_SESSION_LOGIN_REC:
		return login_rec(ls, fd, b);
	case IPC_SESSION_LOGOUT_REC:
		return logout_rec(ls, b);
	default:
		return 1;
	}
}

void
login_end(struct login_state *ls)
{
	struct login_pty *p;

	while (ls->nptys > 0) {
		p = &ls->ptys[ls->nptys - 1];
		if (p->logged_in)
			utmp_record(ls, p, 0);
		pty_release(ls, p);
	}
}

/* --- ExposeAuthInfo ------------------------------------------------------- */

void
login_auth_info_add(char **info, const char *method, const struct buf *req)
{
	struct buf tmp, *kb = NULL;
	const uint8_t *blob;
	char *alg = NULL, *b64 = NULL, *line = NULL, *grown;
	size_t bloblen, have = *info != NULL ? strlen(*info) : 0;
	int has_sig;

	/* The key's own type (the blob's first string), as sshd writes it. */
	if (strcmp(method, "publickey") == 0 && req != NULL) {
		tmp = *req;
		if (buf_get_bool(&tmp, &has_sig) != 0 ||
		    buf_skip_string(&tmp) != 0 ||
		    buf_get_string_direct(&tmp, &blob, &bloblen) != 0 ||
		    bloblen > 16384 || (kb = buf_from(blob, bloblen)) == NULL ||
		    buf_get_cstring(kb, &alg, NULL) != 0 ||
		    (b64 = malloc(bloblen / 3 * 4 + 8)) == NULL ||
		    base64_encode(blob, bloblen, b64, bloblen / 3 * 4 + 8) != 0)
			goto out;
		if (asprintf(&line, "publickey %s %s\n", alg, b64) == -1)
			line = NULL;
	} else if (asprintf(&line, "%s\n", method) == -1)
		line = NULL;
	if (line == NULL || have + strlen(line) > LOGIN_AUTH_INFO_MAX)
		goto out;
	if ((grown = realloc(*info, have + strlen(line) + 1)) == NULL)
		goto out;
	memcpy(grown + have, line, strlen(line) + 1);
	*info = grown;
out:
	buf_free(kb);
	free(alg);
	free(b64);
	free(line);
}
