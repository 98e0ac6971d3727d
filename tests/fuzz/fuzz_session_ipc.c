/*
 * fuzz_session_ipc.c: libFuzzer target for the monitor's post-auth loop,
 * what a session process taken over by its user (it runs as the user)
 * can send root: the input is a flags byte, then the byte stream of
 * u32 length | u8 type | payload messages the session writes. It goes
 * through the real framing (ipc_recv_timeout over a socketpair inside
 * this process) and session_dispatch, session_phase's own handler:
 * rekey signatures and DH groups within their budgets, IPC_AUDIT_KEX,
 * hostkeys-prove, and login.c's ptys, utmp/wtmp login and logout records
 * and lastlog; then login_end, as when the session goes.
 *
 * The flags byte sets what the login earned: PermitTTY, MaxSessions (0,
 * 1, 10 or 100, above login.c's own cap), PrintLastLog, the key's
 * no-pty, the user (root or daemon), a host name too long for utmp. The
 * monitor starts as after a login: one exchange signed and audited, the
 * session id known; the session's pid is FZ_SESSION_PID.
 *
 * Nothing outside the process is written. utmp, wtmp and lastlog are
 * files in a throwaway directory (their paths are redirected before
 * login.c is compiled in, and utmpxname() points glibc's utmp functions
 * there), emptied before each input. Run as root, the target first moves
 * into a private mount namespace with its own devpts instance on
 * /dev/pts, so the ptys the monitor allocates and hands over (owned by
 * the user, group tty) are no host pty; it refuses to run as root
 * without it. As another user the ptys are the host's, the user's own,
 * as any program may open (their chown fails, as login.c allows then).
 *
 * After each input, what root did must be what the session could have
 * had: no descriptor kept, at most min(MaxSessions, 64) ptys held at a
 * time and none refused while allowed, only granted ptys in the records,
 * every utmp login closed, in wtmp each line's login before its logout,
 * the user's own name, host and the monitor's pid in each record, and
 * lastlog written at the user's entry only. A reply that does not match
 * its request aborts.
 *
 * Set FUZZ_SESSION_IPC_SEEDS=DIR to write the seeds into DIR and exit;
 * tests/fuzz/seeds/fuzz_session_ipc holds their output. They name
 * /dev/pts/0..: what a private devpts instance gives.
 * FUZZ_SESSION_IPC_VERBOSE=1 shows the monitor's log.
 */
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/time.h>
#include <dirent.h>
#include <grp.h>
#include <lastlog.h>
#include <paths.h>
#include <poll.h>
#include <pwd.h>
#include <utmp.h>
#include <utmpx.h>

/* login.c's records go to these files (fz_records_init). */
static char fz_utmp_path[128], fz_wtmp_path[128], fz_lastlog_path[128];
#undef _PATH_UTMPX
#undef _PATH_WTMPX
#undef _PATH_LASTLOG
#define _PATH_UTMPX fz_utmp_path
#define _PATH_WTMPX fz_wtmp_path
#define _PATH_LASTLOG fz_lastlog_path

#define FZ_VERBOSE_ENV "FUZZ_SESSION_IPC_VERBOSE"
#include "tests/fuzz/monitor_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (64 * 1024)
#define FZ_SESSION_PID 4242 /* never signalled: nothing here kills */
#define FZ_MAX_GRANTED 256  /* ptys granted in one input, remembered */

/* The flags byte. */
#define FZF_NO_PERMIT_TTY 0x01
#define FZF_MAX_SESSIONS 0x06 /* 0, 1, 10, 100 */
#define FZF_NO_LASTLOG 0x08
#define FZF_UTMP_ADDR 0x10
#define FZF_ROOT 0x20
#define FZF_NO_PTY 0x40

static const int fz_max_sessions[] = {10, 1, 0, 100};
static char fz_rec_dir[64];
static int fz_devpts; /* in a private namespace with a devpts of its own */

static void
fz_records_cleanup(void)
{
	(void)unlink(fz_utmp_path);
	(void)unlink(fz_wtmp_path);
	(void)unlink(fz_lastlog_path);
	(void)rmdir(fz_rec_dir);
}

/*
 * As root: a private mount namespace and a devpts instance of its own on
 * /dev/pts (/dev/ptmx, a node or a link to pts/ptmx, opens the devpts
 * at "pts" beside it). Checked: a pty's slave must be on it.
 */
static void
fz_private_devpts(void)
{
	struct stat pts, slave;
	int master, fd;

	if (geteuid() != 0)
		return;
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("fuzzpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	        "newinstance,ptmxmode=0666,mode=0620,max=512") != 0)
		fz_die("no private devpts for the ptys (run as root in a "
		       "namespace that allows mounts, or as another user)");
	if ((master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    unlockpt(master) != 0 ||
	    (fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY)) == -1 ||
	    fstat(fd, &slave) != 0 || stat("/dev/pts", &pts) != 0 ||
	    slave.st_dev != pts.st_dev)
		fz_die("the ptys are not the private devpts's");
	close(fd);
	close(master);
	fz_devpts = 1;
}

static void
fz_records_init(void)
{
	snprintf(
	    fz_rec_dir, sizeof(fz_rec_dir), "/tmp/fuzz_session_ipc.XXXXXX");
	if (mkdtemp(fz_rec_dir) == NULL)
		fz_die("mkdtemp");
	snprintf(fz_utmp_path, sizeof(fz_utmp_path), "%s/utmp", fz_rec_dir);
	snprintf(fz_wtmp_path, sizeof(fz_wtmp_path), "%s/wtmp", fz_rec_dir);
	snprintf(
	    fz_lastlog_path, sizeof(fz_lastlog_path), "%s/lastlog", fz_rec_dir);
	atexit(fz_records_cleanup);
	if (utmpxname(fz_utmp_path) != 0)
		fz_die("utmpxname");
}

/* Each input's records start empty (lastlog must exist to be written). */
static void
fz_records_reset(void)
{
	const char *const paths[] = {
	    fz_utmp_path, fz_wtmp_path, fz_lastlog_path};
	size_t i;
	int fd;

	for (i = 0; i < 3; i++) {
		if ((fd = open(paths[i],
		         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1)
			fz_die(paths[i]);
		close(fd);
	}
}

/* Descriptors open now (one of them the directory's, each time). */
static int
fz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		fz_die("/proc/self/fd");
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * glibc's utmp file locking cancels the ITIMER_REAL timer with alarm(0)
 * and restores only its remaining whole seconds: libFuzzer's periodic
 * -timeout check would stop. Put its interval back after each input.
 */
static struct itimerval fz_timer;

static void
fz_timer_restore(void)
{
	struct itimerval now;

	if (fz_timer.it_interval.tv_sec == 0 &&
	    fz_timer.it_interval.tv_usec == 0)
		return;
	if (getitimer(ITIMER_REAL, &now) != 0)
		return;
	if (now.it_interval.tv_sec == fz_timer.it_interval.tv_sec &&
	    now.it_interval.tv_usec == fz_timer.it_interval.tv_usec)
		return;
	if (now.it_value.tv_sec == 0 && now.it_value.tv_usec == 0)
		now.it_value = fz_timer.it_interval;
	now.it_interval = fz_timer.it_interval;
	(void)setitimer(ITIMER_REAL, &now, NULL);
}

/* One input's session, as the harness plays it. */
struct fz_session {
	char granted[FZ_MAX_GRANTED][LOGIN_TTY_MAX];
	size_t ngranted;
	int held[LOGIN_MAX_PTYS * 2]; /* the session's masters */
	size_t nheld;
	int limit;       /* ptys the monitor may hold at a time */
	int pty_allowed; /* PermitTTY and the key allow ptys */
};

/* line: a record's field of len bytes, maybe without its NUL. */
static int
fz_was_granted(const struct fz_session *s, const char *line, size_t len)
{
	char name[64];
	size_t i;

	snprintf(name, sizeof(name), "/dev/%.*s", (int)len, line);
	for (i = 0; i < s->ngranted; i++)
		if (strcmp(s->granted[i], name) == 0)
			return 1;
	return 0;
}

/* IPC_SESSION_PTY_REPLY as the session gets it. */
static void
fz_check_pty_reply(struct fz_session *s, struct buf *b, int fd, size_t held)
{
	char *tty = NULL, want[LOGIN_TTY_MAX];
	uint32_t granted;
	unsigned int ptn;

	if (buf_get_u32(b, &granted) != 0 ||
	    buf_get_cstring(b, &tty, NULL) != 0 || buf_end(b) != 0 ||
	    granted > 1)
		fz_die("malformed IPC_SESSION_PTY_REPLY");
	if (!granted) {
		if (fd != -1 || tty[0] != '\0')
			fz_die("a refused pty with a name or a master");
		/* Refused while allowed: only at the limit (or if the
		 * system has none left, which the private devpts's max
		 * keeps well above the limit). */
		if (s->pty_allowed && (int)held < s->limit && fz_devpts)
			fz_die("a pty refused below the limit");
		free(tty);
		return;
	}
	if (!s->pty_allowed)
		fz_die("a pty granted that the login does not allow");
	if ((int)held > s->limit)
		fz_die("more ptys held than MaxSessions allows");
	if (fd == -1 || ioctl(fd, TIOCGPTN, &ptn) != 0)
		fz_die("a granted pty without its master");
	snprintf(want, sizeof(want), "/dev/pts/%u", ptn);
	if (strcmp(want, tty) != 0)
		fz_die("a pty's name is not its master's");
	if (s->ngranted < FZ_MAX_GRANTED)
		snprintf(s->granted[s->ngranted++], LOGIN_TTY_MAX, "%s", tty);
	/* The session keeps its masters, as the real one does. */
	if (s->nheld < sizeof(s->held) / sizeof(s->held[0]))
		s->held[s->nheld++] = fd;
	else
		close(fd);
	free(tty);
}

/* Every reply the monitor sent for the message of type asked. */
static void
fz_take_replies(struct fz_session *s, int sfd, uint8_t asked, size_t held)
{
	static const struct {
		uint8_t req, rep;
	} pairs[] = {
	    {IPC_SESSION_SIGN_REQ, IPC_SESSION_SIGN_REPLY},
	    {IPC_GEX_REQ, IPC_GEX_REPLY},
	    {IPC_SESSION_PROVE_REQ, IPC_SESSION_PROVE_REPLY},
	    {IPC_SESSION_PTY_REQ, IPC_SESSION_PTY_REPLY},
	    {IPC_SESSION_LOGIN_REC, IPC_SESSION_LOGIN_REPLY},
	};
	struct buf *b = buf_new(IPC_MAX_MESSAGE);
	struct pollfd pfd;
	uint8_t type;
	size_t i;
	char *msg;
	int fd, n = 0;

	if (b == NULL)
		fz_die("out of memory");
	for (;;) {
		pfd.fd = sfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
			break;
		if (ipc_recv(sfd, &type, b, &fd, IPC_MAX_MESSAGE) != 0)
			fz_die("a reply that cannot be framed");
		for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
			if (pairs[i].req == asked)
				break;
		if (++n > 1 || i == sizeof(pairs) / sizeof(pairs[0]) ||
		    pairs[i].rep != type)
			fz_die("a reply to no request, or not to this one");
		if (type == IPC_SESSION_PTY_REPLY)
			fz_check_pty_reply(s, b, fd, held);
		else if (fd != -1)
			fz_die("a descriptor with a reply that has none");
		else if (type == IPC_SESSION_LOGIN_REPLY) {
			if (buf_get_cstring(b, &msg, NULL) != 0 ||
			    buf_end(b) != 0)
				fz_die("malformed IPC_SESSION_LOGIN_REPLY");
			free(msg);
		}
	}
	buf_free(b);
}

/* What utmp, wtmp and lastlog hold once the session has gone. */
static void
fz_check_records(const struct fz_session *s, const struct authctxt *a,
    const struct conn_info *ci)
{
	struct utmpx ut;
	struct lastlog ll;
	const char *host = ci->utmp_addr ? ci->client_addr : ci->client_host;
	/* Per granted pty: 1 while a wtmp login is open. */
	int open_[FZ_MAX_GRANTED] = {0}, fd;
	size_t i;
	ssize_t n;
	off_t off;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		fd = open(pass == 0 ? fz_utmp_path : fz_wtmp_path,
		    O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			fz_die("open records");
		while ((n = read(fd, &ut, sizeof(ut))) == (ssize_t)sizeof(ut)) {
			if (ut.ut_pid != getpid())
				fz_die("a record with another pid");
			if (strncmp(ut.ut_line, "pts/", 4) != 0 ||
			    !fz_was_granted(s, ut.ut_line, sizeof(ut.ut_line)))
				fz_die("a record for a pty never granted");
			if (ut.ut_type == USER_PROCESS) {
				if (pass == 0)
					fz_die("a utmp login left open");
				if (strncmp(ut.ut_user, a->pw.pw_name,
				        sizeof(ut.ut_user)) != 0 ||
				    strncmp(ut.ut_host, host,
				        sizeof(ut.ut_host)) != 0)
					fz_die("a login record's user or host");
			} else if (ut.ut_type != DEAD_PROCESS)
				fz_die("a record of another type");
			if (pass == 0)
				continue;
			for (i = 0; i < s->ngranted; i++)
				if (strncmp(s->granted[i] + 5, ut.ut_line,
				        sizeof(ut.ut_line)) == 0)
					break;
			if (i == s->ngranted)
				continue; /* past FZ_MAX_GRANTED */
			/* A pty number is one login at a time, in order. */
			if (ut.ut_type == USER_PROCESS && open_[i])
				fz_die("a second login on a pty logged in");
			if (ut.ut_type == DEAD_PROCESS && !open_[i])
				fz_die("a logout of a pty not logged in");
			open_[i] = ut.ut_type == USER_PROCESS;
		}
		if (n != 0)
			fz_die("a record cut short");
		close(fd);
	}
	for (i = 0; i < s->ngranted; i++)
		if (open_[i])
			fz_die("a wtmp login never closed");
	if ((fd = open(fz_lastlog_path, O_RDONLY | O_CLOEXEC)) == -1)
		fz_die("open lastlog");
	for (off = 0;; off += (off_t)sizeof(ll)) {
		n = pread(fd, &ll, sizeof(ll), off);
		if (n == 0)
			break;
		if (n != (ssize_t)sizeof(ll))
			fz_die("lastlog cut short");
		if (off != (off_t)a->pw.pw_uid * (off_t)sizeof(ll)) {
			if (ll.ll_time != 0 || ll.ll_line[0] != '\0')
				fz_die("lastlog written for another uid");
			continue;
		}
		if (ll.ll_time == 0)
			continue;
		if (!fz_was_granted(s, ll.ll_line, sizeof(ll.ll_line)) ||
		    strncmp(ll.ll_host, host, sizeof(ll.ll_host)) != 0)
			fz_die("a lastlog entry's line or host");
	}
	close(fd);
}

/* The monitor as session_phase has it once the session has started. */
static void
fz_login(struct monitor *m, struct server_config *c, int fd, uint8_t flags)
{
	struct passwd *pw;

	fz_monitor_open(m, c, fd);
	c->permit_tty = (flags & FZF_NO_PERMIT_TTY) ? 0 : 1;
	c->max_sessions = fz_max_sessions[(flags & FZF_MAX_SESSIONS) >> 1];
	c->print_lastlog = (flags & FZF_NO_LASTLOG) ? 0 : 1;
	snprintf(m->ci.client_host, sizeof(m->ci.client_host),
	    "a-client-name-longer-than-utmp-keeps.example.org");
	m->ci.utmp_addr = (flags & FZF_UTMP_ADDR) != 0;
	if ((pw = getpwnam((flags & FZF_ROOT) ? "root" : "daemon")) == NULL)
		fz_die("getpwnam");
	m->auth.pw.pw_name = strdup(pw->pw_name);
	m->auth.pw.pw_dir = strdup(pw->pw_dir);
	m->auth.pw.pw_shell = strdup(pw->pw_shell);
	m->auth.pw.pw_uid = pw->pw_uid;
	m->auth.pw.pw_gid = pw->pw_gid;
	m->auth.user = strdup(pw->pw_name);
	m->auth.valid = 1;
	m->auth.authenticated = 1;
	if ((m->auth.opts = authopts_new(1)) == NULL ||
	    m->auth.pw.pw_name == NULL || m->auth.pw.pw_dir == NULL ||
	    m->auth.pw.pw_shell == NULL || m->auth.user == NULL)
		fz_die("out of memory");
	if (flags & FZF_NO_PTY)
		m->auth.opts->permit_pty = 0;
	/* The first exchange, signed for preauth and audited. */
	memcpy(m->sid, seed_sid, sizeof(seed_sid));
	m->sidlen = sizeof(seed_sid);
	m->nsign = 1;
	m->kex_audited = 1;
	snprintf(m->kex_alg, sizeof(m->kex_alg), "ssh-ed25519");
	m->state = MS_DONE;
}

static void
fz_run(const uint8_t *data, size_t size)
{
	struct timeval deadline = {IPC_MESSAGE_TIMEOUT_MS / 1000, 0};
	struct server_config c;
	struct monitor m;
	struct session_serve ss;
	struct fz_session *s;
	struct buf *b;
	uint8_t type, flags;
	size_t i, held;
	int sp[2], r, fds;

	if (size < 1 || size > FZ_MAX_INPUT)
		return;
	flags = data[0];
	data++;
	size--;
	fz_records_reset();
	fds = fz_count_fds();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		fz_die("socketpair");
	/* As session_phase: a reply left unread cannot hold the monitor. */
	if (setsockopt(sp[0], SOL_SOCKET, SO_SNDTIMEO, &deadline,
	        sizeof(deadline)) != 0)
		fz_die("SO_SNDTIMEO");
	if (size > 0 && write(sp[1], data, size) != (ssize_t)size)
		fz_die("write");
	if (shutdown(sp[1], SHUT_WR) != 0)
		fz_die("shutdown");
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		fz_die("out of memory");
	fz_login(&m, &c, sp[0], flags);
	s->limit =
	    c.max_sessions < LOGIN_MAX_PTYS ? c.max_sessions : LOGIN_MAX_PTYS;
	s->pty_allowed = c.permit_tty != 0 && m.auth.opts->permit_pty;
	memset(&ss, 0, sizeof(ss));
	login_state_init(&ss.ls, &m.auth, m.c, &m.ci);
	ss.ls.session_pid = FZ_SESSION_PID;
	sign_budget_init(&ss.sb, -1, c.rekey_limit, c.rekey_interval);
	ss.gb = ss.sb;
	/* session_phase's loop, without the poll and the kill. */
	for (;;) {
		if ((r = ipc_recv_timeout(sp[0], &type, b, NULL,
		         IPC_MAX_MESSAGE, IPC_MESSAGE_TIMEOUT_MS)) != 0)
			break;
		r = session_dispatch(&m, &ss, sp[0], type, b);
		/* The ptys held as the reply was sent (one more if granted). */
		held = ss.ls.nptys;
		fz_take_replies(s, sp[1], type, held);
		if ((int)ss.ls.nptys > s->limit)
			fz_die("more ptys held than MaxSessions allows");
		if (fz_verbose)
			fprintf(stderr, "session message %u: %s, %zu ptys\n",
			    type, err_str(r), ss.ls.nptys);
		if (r != 0)
			break;
	}
	/* A complete stream is never a timeout. */
	if (r == ERR_TIMEOUT)
		fz_die("ipc_recv_timeout timed out on a complete stream");
	login_end(&ss.ls);
	fz_check_records(s, &m.auth, &m.ci);
	for (i = 0; i < s->nheld; i++)
		close(s->held[i]);
	auth_free(&m.auth);
	config_free(&c);
	buf_free(b);
	free(s);
	close(sp[0]);
	close(sp[1]);
	if (fz_count_fds() != fds)
		fz_die("a descriptor left open");
	fz_timer_restore();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz_ready) {
		fz_private_devpts();
		fz_records_init();
		fz_init();
		(void)getitimer(ITIMER_REAL, &fz_timer);
		if (getenv("FUZZ_SESSION_IPC_SEEDS") != NULL) {
			void fz_write_seeds(const char *dir);

			fz_write_seeds(getenv("FUZZ_SESSION_IPC_SEEDS"));
			fz_cleanup();
			fz_records_cleanup();
			_exit(0);
		}
	}
	fz_run(data, size);
	return 0;
}

/* Seeds: the flags byte, then the session's messages. */

/* Unused here: the harness's userauth seeds are fuzz_monitor's. */
static void
seed_userauth(const char *user, const char *method, const struct buf *m)
{
	(void)user;
	(void)method;
	(void)m;
	fz_die("seed_userauth");
}

static void
seed_flags(uint8_t flags)
{
	if (buf_put_u8(seed, flags) != 0)
		fz_die("seed_flags");
}

static void
seed_empty(uint8_t type)
{
	struct buf *p = seed_new();

	seed_frame(type, p);
	buf_free(p);
}

static void
seed_tty(uint8_t type, unsigned int n, uint32_t pid)
{
	struct buf *p = seed_new();
	char tty[LOGIN_TTY_MAX];

	snprintf(tty, sizeof(tty), "/dev/pts/%u", n);
	buf_put_cstring(p, tty);
	if (type == IPC_SESSION_LOGIN_REC)
		buf_put_u32(p, pid);
	seed_frame(type, p);
	buf_free(p);
}

static void
seed_rekey(uint32_t num)
{
	struct buf *p = seed_new();

	buf_put_u32(p, 2048);
	buf_put_u32(p, 3072);
	buf_put_u32(p, 8192);
	seed_frame(IPC_GEX_REQ, p);
	seed_session_rekey(p, num);
	buf_reset(p);
	buf_put_string(p, fz_hk.pub[0].blob, fz_hk.pub[0].bloblen);
	seed_frame(IPC_SESSION_PROVE_REQ, p);
	buf_free(p);
}

void
fz_write_seeds(const char *dir)
{
	int i;

	seed = seed_new();

	/* A pty, its login and logout, then another. */
	seed_flags(FZF_ROOT);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 0, FZ_SESSION_PID);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 1, FZ_SESSION_PID);
	seed_tty(IPC_SESSION_LOGOUT_REC, 0, 0);
	/* The session still holds pts/0's master: the next is pts/2. */
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 2, FZ_SESSION_PID);
	seed_tty(IPC_SESSION_LOGOUT_REC, 2, 0);
	seed_save(dir, "pty-login-logout");

	/* Left logged in: login_end closes the records. */
	seed_flags(FZF_UTMP_ADDR);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 0, FZ_SESSION_PID);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_save(dir, "pty-left-open");

	/* The refusals: a second login, a logout then a login, a pid. */
	seed_flags(0);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 0, FZ_SESSION_PID);
	seed_tty(IPC_SESSION_LOGIN_REC, 0, FZ_SESSION_PID);
	seed_save(dir, "login-twice");
	seed_flags(0);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGOUT_REC, 0, 0);
	seed_tty(IPC_SESSION_LOGIN_REC, 0, FZ_SESSION_PID);
	seed_save(dir, "logout-then-login");
	seed_flags(0);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 0, 1);
	seed_save(dir, "login-other-pid");
	seed_flags(0);
	seed_tty(IPC_SESSION_LOGIN_REC, 7, FZ_SESSION_PID);
	seed_save(dir, "login-not-held");

	/* The limits: MaxSessions 1, 100 (login.c's 64), no pty at all. */
	seed_flags(0x02);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGOUT_REC, 0, 0);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_save(dir, "max-sessions-1");
	seed_flags(0x06 | FZF_NO_LASTLOG);
	for (i = 0; i < LOGIN_MAX_PTYS + 2; i++)
		seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 63, FZ_SESSION_PID);
	seed_save(dir, "pty-cap");
	seed_flags(FZF_NO_PTY);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_save(dir, "no-pty");
	seed_flags(FZF_NO_PERMIT_TTY | 0x04);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_save(dir, "no-permit-tty");

	/* Rekeys with their audit and hostkeys-prove, between ptys. */
	seed_flags(FZF_ROOT);
	seed_rekey(2);
	seed_empty(IPC_SESSION_PTY_REQ);
	seed_tty(IPC_SESSION_LOGIN_REC, 0, FZ_SESSION_PID);
	seed_rekey(3);
	seed_tty(IPC_SESSION_LOGOUT_REC, 0, 0);
	seed_save(dir, "rekeys");

	/* A type the session may not send. */
	seed_flags(0);
	seed_empty(IPC_LOG);
	seed_save(dir, "bad-type");

	buf_free(seed);
}
