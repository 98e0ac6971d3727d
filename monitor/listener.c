/*
 * listener.c: the long-lived posternd process: binds the listening sockets,
 * accepts, and fork+execs a fresh per-connection monitor for each client so
 * that every connection gets its own address space. Signal handlers only
 * set flags; the poll loop acts on them.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "ipc.h"
#include "crypto.h"
#include "err.h"
#include "fdutil.h"
#include "log.h"
#include "monitor.h"
#include "monitor/audit.h"
#include "monitor/auth.h"
#include "monitor/penalty.h"
#include "monitor/startup.h"
#include "monitor/throttle.h"
#include "monitor/modules.h"
#include "monitor/notify.h"
#include "monitor/relay.h"
#include "match.h"
#include "proctitle.h"
#include "sshkey.h"

#define MAX_LISTEN 64
/* A SIGHUP restart's state (see handover_save) and its mark. */
#define HANDOVER_ENV "POSTERN_LISTENER_HANDOVER"
/* Set for the restarted listener: daemonised already, it stays this pid. */
#define RESTART_ENV "POSTERN_LISTENER_RESTART"
#define MAX_STARTUPS_TRACKED 4096

/*
 * One pipe per unauthenticated connection: the monitor closes its end once
 * the user has authenticated (or exits), so the number of open pipes is
 * the number of connections still in their startup phase (MaxStartups).
 */
static size_t nstartups;

/*
 * Monitors not yet authenticated, by pid, with their client: one killed by
 * LoginGraceTime's SIGALRM (monitor/grace.c) cannot log its timeout or
 * write the login's closing audit records, so the listener does when it
 * reaps it, from what the monitor reported on its startup pipe
 * (monitor/startup.h). An entry goes when the monitor says it
 * authenticated or when it is reaped.
 */
struct preauth_monitor {
	pid_t pid;
	int fd; /* its startup pipe, -1 once that read EOF */
	char host[NI_MAXHOST];
	char port[NI_MAXSERV];
	struct conn_info ci;
	struct startup_view sv;
	struct source_block block; /* PerSourceNetBlockSize */
	/* The client's address, for block again after a reload. */
	struct sockaddr_storage peer;
	socklen_t peerlen;
};
static struct preauth_monitor monitors[MAX_STARTUPS_TRACKED];
static size_t nmonitors;

static struct throttle throttle;
/* Valid users' failed attempt times, from the monitors (worktime.h). */
static struct worktimes worktimes;

/* The times, for the next program this process execs (a connection's
 * monitor, or the listener a SIGHUP restarts). */
static void
worktimes_export(void)
{
	char times[WORKTIME_TEXT_MAX];

	worktime_format(&worktimes, times, worktime_now());
	(void)setenv(WORKTIME_ENV, times, 1);
}

/* Each connection in a session of its own (not under -d or -i), as sshd. */
static int own_session;
/*
 * The program's path, for each connection's monitor and a restart: as
 * sshd re-executes its argv[0], an upgrade's new binary serves them (as
 * it does the helpers, found by path), not the replaced one the running
 * process still holds (/proc/self/exe).
 */
static char self_path[PATH_MAX];

static void
self_path_init(const char *argv0)
{
	ssize_t n;

	if (argv0 != NULL && argv0[0] == '/' &&
	    strlen(argv0) < sizeof(self_path)) {
		memcpy(self_path, argv0, strlen(argv0) + 1);
		return;
	}
	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self_path) - 1)
		snprintf(self_path, sizeof(self_path), "/proc/self/exe");
	else
		self_path[n] = '\0';
}

/* Execute this program again; returns only if it cannot be. */
static void
exec_self(char **argv)
{
	execv(self_path, argv);
	/* The path gone or not a program now: the one that runs. */
	execv("/proc/self/exe", argv);
}

/*
 * PerSourcePenalties (monitor/penalty.h): only this process's memory, so
 * a SIGHUP restart (a fresh exec) starts with an empty table.
 */
static struct penalty_table penalties;
static const char *penalty_exempt; /* PerSourcePenaltyExemptList */

/* Inetd mode over a pipe pair: the relay, and whether it is in use. */
static struct relay relay;
static int relaying;
/*
 * Once the monitor is gone, what is still buffered is delivered, but a
 * client that takes nothing for this long is not waited for.
 */
#define RELAY_LINGER_S 10

/*
 * accept(2) out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM): the connection stays queued and the socket readable, so the
 * listening sockets rest ACCEPT_PAUSE_MS between tries instead of being
 * polled at once again. The error is logged when it starts, then once per
 * ACCEPT_REPORT_MS while it lasts, and its end with the count.
 */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_REPORT_MS (60 * 1000)
static struct {
	int64_t resume_ms;   /* no accept before this (monotonic ms) */
	int64_t reported_ms; /* when the error was last logged */
	unsigned long failures;
} acc;

static int
accept_exhausted(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}

static void
accept_pause(int err)
{
	int64_t now = ipc_now_ms();

	if (acc.failures++ == 0 || now - acc.reported_ms >= ACCEPT_REPORT_MS) {
		if (acc.failures == 1)
			error("accept: %.100s", strerror(err));
		else
			error("accept: %.100s (%lu failures so far; retrying "
			      "every %d ms)",
			    strerror(err), acc.failures, ACCEPT_PAUSE_MS);
		acc.reported_ms = now;
	}
	acc.resume_ms = now + ACCEPT_PAUSE_MS;
}

static void
accept_resumed(void)
{
	if (acc.failures == 0)
		return;
	logit("accept: accepting connections again after %lu failures",
	    acc.failures);
	acc.failures = 0;
}

/* ms until the listening sockets are polled again; 0: now. */
static int64_t
accept_paused_ms(void)
{
	int64_t left;

	if (acc.resume_ms == 0)
		return 0;
	if ((left = acc.resume_ms - ipc_now_ms()) > 0)
		return left;
	acc.resume_ms = 0;
	return 0;
}

static volatile sig_atomic_t got_sighup, got_sigterm, got_sigchld;

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		got_sighup = 1;
		break;
	case SIGCHLD:
		got_sigchld = 1;
		break;
	default:
		got_sigterm = sig;
		break;
	}
}

/*
 * SIGINT ignored when posternd started (a shell's background job, nohup):
 * as sshd, which does not touch SIGINT, it stays ignored, in the listener,
 * across a SIGHUP restart and in each connection's monitor.
 */
static int sigint_ignored;

static void
set_handlers(void)
{
	struct sigaction sa, old;

	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		sigint_ignored = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!sigint_ignored)
		sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* The signals the loop handles: blocked except inside ppoll(). */
static const int loop_signals[] = {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGCHLD};
#define NLOOP_SIGNALS (sizeof(loop_signals) / sizeof(loop_signals[0]))

static void
default_handlers(void)
{
	size_t i;

	/* SIGPIPE stays ignored: the monitor and a restarted listener
	 * ignore it too. */
	for (i = 0; i < NLOOP_SIGNALS; i++)
		signal(loop_signals[i],
		    loop_signals[i] == SIGINT && sigint_ignored ? SIG_IGN
		                                                : SIG_DFL);
}

static void
reset_handlers(void)
{
	sigset_t set;

	default_handlers();
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

/*
 * Set in a listener a SIGHUP restarted: its old self's last children may
 * still hold the listening sockets for a moment (between their fork and
 * their exec, where close-on-exec lets go of them), so a bind that finds
 * the address in use is tried again for up to BIND_RETRY_MS.
 */
static int bind_patiently;
#define BIND_RETRY_MS 2000 /* in all, whatever the number of addresses */
#define BIND_RETRY_STEP_MS 10
static int bind_waited_ms;

static int
bind_retrying(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct timespec step = {0, BIND_RETRY_STEP_MS * 1000000L};
	int waited = 0;

	while (bind(fd, sa, len) != 0) {
		if (errno != EADDRINUSE || !bind_patiently ||
		    bind_waited_ms >= BIND_RETRY_MS)
			return -1;
		(void)nanosleep(&step, NULL);
		waited += BIND_RETRY_STEP_MS;
		bind_waited_ms += BIND_RETRY_STEP_MS;
	}
	if (waited > 0)
		debug("bind: address free after %d ms", waited);
	return 0;
}

/* The listening sockets, which a connection's child lets go of first
 * thing: until its exec it would keep a restarted listener from binding. */
static const int *listen_socks;
static size_t nlisten_socks;

/*
 * A reload's check of the new addresses against the sockets the running
 * listener holds (which it closes just before the restart binds again).
 */
struct bind_probe {
	const int *held;
	size_t nheld;
};

/* An IP socket address's port (network order), or -1. */
static int
sa_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)sa)->sin_port;
	if (sa->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)sa)->sin6_port;
	return -1;
}

/* Whether one of the held sockets has sa's family and port: an address
 * in use that the restart would find free once they are closed. */
static int
held_port(const struct bind_probe *pr, const struct sockaddr *sa)
{
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	for (i = 0; i < pr->nheld; i++) {
		len = sizeof(ss);
		if (getsockname(pr->held[i], (struct sockaddr *)&ss, &len) ==
		        0 &&
		    ss.ss_family == sa->sa_family &&
		    sa_port((struct sockaddr *)&ss) == sa_port(sa))
			return 1;
	}
	return 0;
}

/* A reload's bind: one try, where an address in use only by the running
 * listener counts as free. 0, or -1 with bind's errno. */
static int
probe_bind(const struct bind_probe *pr, int fd, const struct sockaddr *sa,
    socklen_t len)
{
	int e;

	if (bind(fd, sa, len) == 0)
		return 0;
	e = errno;
	if (e == EADDRINUSE && held_port(pr, sa))
		return 0;
	errno = e;
	return -1;
}

/*
 * listen_one: the sockets of one address and port, into fds. probe (a
 * reload's check): each is bound and closed again, nothing listens, and
 * only how many would is counted.
 */
static int
listen_one(const char *host, int port, int family, int *fds, size_t *nfds,
    const struct bind_probe *probe)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16], ntop[NI_MAXHOST];
	int fd, one = 1, r, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		error("bad addr or host: %s (%s)", host ? host : "<any>",
		    gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		/* As sshd (whose limit is 16). */
		if (*nfds >= MAX_LISTEN) {
			if (probe == NULL)
				fatal("Too many listen sockets. Enlarge "
				      "MAX_LISTEN_SOCKS");
			error("Too many listen sockets. Enlarge "
			      "MAX_LISTEN_SOCKS");
			/* The restart would end there: past the limit, which
			 * bind_all reports as no socket at all. */
			*nfds = MAX_LISTEN + 1;
			break;
		}
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ntop, sizeof(ntop),
		        NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(ntop, sizeof(ntop), "?");
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			verbose("socket: %.100s", strerror(errno));
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (probe == NULL)
			debug("Bind to port %d on %s.", port, ntop);
		if ((probe != NULL
		            ? probe_bind(probe, fd, ai->ai_addr, ai->ai_addrlen)
		            : bind_retrying(fd, ai->ai_addr, ai->ai_addrlen)) !=
		    0) {
			error("Bind to port %d on %s failed: %.200s.", port,
			    ntop, strerror(errno));
			close(fd);
			continue;
		}
		if (probe != NULL) {
			(*nfds)++;
			close(fd);
			continue;
		}
		if (listen(fd, 128) != 0) {
			error("listen on [%s]:%d: %.100s", ntop, port,
			    strerror(errno));
			close(fd);
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		logit("Server listening on %s port %d.", ntop, port);
		fds[(*nfds)++] = fd;
		n++;
	}
	freeaddrinfo(res);
	return n;
}

/*
 * bind_all: how many sockets listen (probe: how many would). The order is
 * sshd's: it puts each ListenAddress-and-port's addresses at the head of
 * its list, so it binds the last one first. Where two overlap (0.0.0.0 and
 * 127.0.0.1 on one port), the one bound first listens and the other's bind
 * fails, so the order decides where the server can be reached.
 */
static size_t
bind_all(
    const struct server_config *c, int *fds, const struct bind_probe *probe)
{
	size_t nfds = 0, i, j;

	for (i = c->nlisten; i-- > 0;) {
		if (c->listen[i].port != 0)
			listen_one(c->listen[i].host, c->listen[i].port,
			    c->address_family, fds, &nfds, probe);
		else
			for (j = c->nports; j-- > 0 && nfds <= MAX_LISTEN;)
				listen_one(c->listen[i].host, c->ports[j],
				    c->address_family, fds, &nfds, probe);
		/* A probe past the limit: the restart would end. */
		if (nfds > MAX_LISTEN)
			return 0;
	}
	return nfds;
}

/*
 * systemd socket activation (sd_listen_fds(3)'s protocol), as Debian's sshd
 * takes the sockets of ssh.socket (Accept=no): when LISTEN_PID is this
 * process, LISTEN_FDS listening sockets start at descriptor 3, and they are
 * served instead of ListenAddress and Port. Returns how many were taken
 * into fds (0: not activated); the variables go, so that no connection's
 * processes see them. A reload passes the sockets on (reload()).
 */
static int activated;

/* systemd's variables: for this process alone, not its connections'. */
static void
activation_env_clear(void)
{
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
}

/*
 * systemd's LISTEN_PID and LISTEN_FDS: 1 with the count in *n when they
 * are meant for this process, 0 when they are absent or for another, -1
 * when either is not a number.
 */
static int
activation_count(const char *pidv, const char *nv, unsigned long *n)
{
	unsigned long pid;
	char *end;

	*n = 0;
	if (pidv == NULL || nv == NULL)
		return 0;
	errno = 0;
	pid = strtoul(pidv, &end, 10);
	if (errno != 0 || end == pidv || *end != '\0')
		return -1;
	if (pid != (unsigned long)getpid())
		return 0; /* meant for another process */
	errno = 0;
	*n = strtoul(nv, &end, 10);
	if (errno != 0 || end == nv || *end != '\0')
		return -1;
	return 1;
}

static size_t
activated_sockets(int *fds)
{
	const char *pidv = getenv("LISTEN_PID"), *nv = getenv("LISTEN_FDS");
	unsigned long n;
	struct sockaddr_storage ss;
	socklen_t sl;
	char ntop[NI_MAXHOST], port[NI_MAXSERV];
	int fd, type, listening;
	socklen_t ol;

	/* (unsetenv only takes them out of environ: pidv, nv stay valid) */
	activation_env_clear();
	switch (activation_count(pidv, nv, &n)) {
	case -1:
		fatal("Invalid systemd socket activation environment");
	case 0:
		return 0;
	}
	if (n > MAX_LISTEN)
		fatal("Too many listen sockets. Enlarge MAX_LISTEN_SOCKS");
	for (fd = 3; fd < 3 + (int)n; fd++) {
		ol = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) != 0 ||
		    type != SOCK_STREAM)
			fatal("socket activation: descriptor %d is not a "
			      "stream socket",
			    fd);
		ol = sizeof(listening);
		if (getsockopt(
		        fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) != 0 ||
		    !listening)
			fatal("socket activation: descriptor %d is not a "
			      "listening socket",
			    fd);
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
		    getnameinfo((struct sockaddr *)&ss, sl, ntop, sizeof(ntop),
		        port, sizeof(port),
		        NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
			snprintf(ntop, sizeof(ntop), "?");
			snprintf(port, sizeof(port), "?");
		}
		logit("Server listening on %s port %s (socket activation).",
		    ntop, port);
		fds[fd - 3] = fd;
	}
	activated = n > 0;
	return n;
}

/*
 * As sshd's closefrom() at start: the descriptors posternd was started
 * with are not the server's (a caller's pipe would wait for ever on a
 * daemon that holds it; a script's files would stay open as root), but
 * systemd's activated sockets, from 3, and what a restart passes on
 * are. Before anything of posternd's own is opened.
 */
void
listener_close_inherited(void)
{
	unsigned long n;
	int r;

	if (getenv(RESTART_ENV) != NULL || getenv(HANDOVER_ENV) != NULL ||
	    getenv(RELOAD_CONFIG_ENV) != NULL)
		return;
	r = activation_count(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), &n);
	/* Values that are not numbers, or too many sockets, are
	 * activated_sockets()'s to refuse: nothing is closed before. */
	if (r < 0 || n > MAX_LISTEN)
		return;
	closefrom(3 + (int)n);
}

/*
 * Before a restart's exec: the activated sockets stay open for the new
 * listener, announced to it as systemd announced them (the pid does not
 * change across exec).
 */
static void
activated_pass_on(size_t nfds)
{
	char num[24];
	size_t i;

	for (i = 0; i < nfds; i++)
		(void)fcntl((int)(3 + i), F_SETFD, 0);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	(void)setenv("LISTEN_PID", num, 1);
	snprintf(num, sizeof(num), "%zu", nfds);
	(void)setenv("LISTEN_FDS", num, 1);
}

/*
 * Whether this listener has a pid file: not in inetd mode (no listener),
 * nor with -d (as sshd: it would take the place of a running server's).
 */
static int
has_pidfile(const struct options *o, const struct server_config *c)
{
	return c->pid_file != NULL && !o->inetd && !o->debug;
}

static void
write_pidfile(const struct options *o, const struct server_config *c)
{
	FILE *f;

	if (!has_pidfile(o, c))
		return;
	if ((f = fopen(c->pid_file, "w")) == NULL) {
		error("Couldn't create pid file \"%s\": %s", c->pid_file,
		    strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/* The empty, root-owned directory preauth chroots into. */
static void
ensure_empty_dir(void)
{
	struct stat st;

	if (getuid() != 0)
		return;
	if (mkdir(POSTERN_EMPTY_DIR, 0755) != 0 && errno != EEXIST)
		fatal("Missing privilege separation directory: %s: %s",
		    POSTERN_EMPTY_DIR, strerror(errno));
	if (lstat(POSTERN_EMPTY_DIR, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 022) != 0)
		fatal("%s must be owned by root and not group or "
		      "world-writable.",
		    POSTERN_EMPTY_DIR);
}

/* OpenSSH's MaxStartups policy: random early drop between begin and full. */
static int
should_drop(const struct server_config *c)
{
	unsigned p;

	/* The table's size first: MaxStartups may be set above it. */
	if (nmonitors >= MAX_STARTUPS_TRACKED)
		return 1;
	if (nstartups < (size_t)c->max_startups_begin)
		return 0;
	if (nstartups >= (size_t)c->max_startups)
		return 1;
	p = 100 - (unsigned)c->max_startups_rate;
	p *= (unsigned)(nstartups - (size_t)c->max_startups_begin);
	p /= (unsigned)(c->max_startups - c->max_startups_begin);
	p += (unsigned)c->max_startups_rate;
	return random_uniform(100) < p;
}

static void
source_block_of_fd(
    int fd, const struct server_config *c, struct source_block *b)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(b, 0, sizeof(*b));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		source_block_of((struct sockaddr *)&ss, len,
		    c->per_source_masklen_v4, c->per_source_masklen_v6, b);
}

/*
 * PerSourceMaxStartups: 1 if connections from b's block already hold as
 * many startups as allowed. A client whose address family is unknown is
 * not limited (as sshd).
 */
static int
source_full(const struct server_config *c, const struct source_block *b)
{
	size_t i, n = 0;

	if (c->per_source_max_startups == INT_MAX || b->family == 0)
		return 0;
	for (i = 0; i < nmonitors; i++) {
		if (monitors[i].fd != -1 &&
		    source_block_eq(&monitors[i].block, b))
			n++;
	}
	return n >= (size_t)c->per_source_max_startups;
}

/*
 * config_memfd_make: src serialized into a sealed memfd, close-on-exec;
 * 0 or an ERR_ code (errno kept for ERR_SYSTEM).
 */
static int
config_memfd_make(const struct config_source *src, int *fdp)
{
	struct buf *b;
	const uint8_t *p;
	size_t off = 0, len;
	ssize_t n;
	int fd = -1, r;

	if ((b = buf_new(CONFIG_SOURCE_MAX)) == NULL)
		return ERR_ALLOC;
	if ((r = config_source_serialize(src, b)) != 0)
		goto out;
	p = buf_ptr(b);
	len = buf_len(b);
	r = ERR_SYSTEM;
	if ((fd = memfd_create(
	         "postern-config", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0)
		goto out;
	while (off < len) {
		if ((n = write(fd, p + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS,
	        F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
		goto out;
	*fdp = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0) {
		int e = errno;

		close(fd);
		errno = e;
	}
	buf_free(b);
	return r;
}

/*
 * A sealed memfd holding the running configuration source, serialised,
 * for every connection: a file edited on disk takes effect only on SIGHUP.
 */
static int
config_memfd(const struct config_source *src)
{
	int fd, r;

	if ((r = config_memfd_make(src, &fd)) != 0)
		fatal("config memfd: %s",
		    r == ERR_SYSTEM ? strerror(errno) : err_str(r));
	return fd;
}

/*
 * postern-session runs as the user; if the user could read it, the kernel
 * would leave it dumpable (ptrace-able) for its first instructions.
 */
static void
check_helpers(void)
{
	char path[4096];
	struct stat st;
	/* The static session is needed only for ChrootDirectory. */
	const char *names[] = {
	    "postern-preauth", "postern-session", "postern-session-static"};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (helper_path(names[i], path, sizeof(path)) != 0 ||
		    stat(path, &st) != 0) {
			if (i == 2)
				continue;
			fatal("helper %s not found next to posternd or in %s",
			    names[i], POSTERN_LIBEXECDIR);
		}
		if (getuid() != 0)
			continue;
		if (st.st_uid != 0 || (st.st_mode & 022) != 0)
			fatal("%s must be owned by root and not group or "
			      "world-writable",
			    path);
		if (i >= 1 && (st.st_mode & 044) != 0)
			fatal("%s must not be readable by group or others "
			      "(mode 0711): it runs as the user",
			    path);
	}
}

/* OpenSSH's listener title: the command line and the startups in flight. */
static void
listener_title(const struct server_config *c, char **argv)
{
	char cmd[256];
	size_t i, n = 0;

	cmd[0] = '\0';
	for (i = 0; argv[i] != NULL && n < sizeof(cmd); i++)
		n += (size_t)snprintf(
		    cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", argv[i]);
	proctitle_set("%s [listener] %zu of %d-%d startups", cmd, nstartups,
	    c->max_startups_begin, c->max_startups);
}

static void
monitor_forget(size_t i)
{
	if (monitors[i].fd != -1) {
		close(monitors[i].fd);
		nstartups--;
	}
	monitors[i] = monitors[--nmonitors];
}

/*
 * Its startup pipe is readable: records (monitor/startup.h), the last of
 * them when it authenticated, else EOF. 1 if the entry is gone.
 */
static int
monitor_startup_read(size_t i)
{
	struct preauth_monitor *pm = &monitors[i];
	uint8_t in[512];
	ssize_t n;

	for (;;) {
		if ((n = read(pm->fd, in, sizeof(in))) < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n > 0) {
			if (startup_feed(&pm->sv, in, (size_t)n) != 0)
				error("startup pipe of monitor %ld: bad record",
				    (long)pm->pid);
			if (pm->sv.authenticated) {
				monitor_forget(i);
				return 1;
			}
			continue;
		}
		/* Exiting: no startup any more, the entry waits for the
		 * reaping. */
		close(pm->fd);
		pm->fd = -1;
		nstartups--;
		return 0;
	}
}

static int64_t
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* 1 if PerSourcePenaltyExemptList names the numeric address host. */
static int
penalty_exempted(const char *host)
{
	return penalty_exempt != NULL &&
	    match_addr_pattern_list(host, penalty_exempt) == 1;
}

/*
 * A monitor that never reported authenticating ended with status: what
 * PerSourcePenalties makes of it, as sshd judges its own children.
 */
static void
penalise(const struct preauth_monitor *pm, int status)
{
	enum penalty_kind k;

	if (!penalties.cfg.enabled || penalty_exempted(pm->host))
		return;
	if (pm->sv.crashed ||
	    (WIFSIGNALED(status) && penalty_crash_signal(WTERMSIG(status))))
		k = PENALTY_CRASH;
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		k = PENALTY_GRACE;
	else if (WIFSIGNALED(status))
		k = PENALTY_NONE; /* killed from outside (SIGTERM, SIGKILL) */
	else if (pm->sv.authfail)
		k = PENALTY_AUTHFAIL;
	else
		k = PENALTY_NOAUTH;
	penalty_add(&penalties, &pm->block, k, now_seconds());
}

/*
 * A connection from a penalised source, dropped before any fork with
 * sshd 9.8's line and words to the client; the lines are rate-limited
 * (penalty_log_take), the drops beyond the limit counted in one line.
 */
static void
penalty_drop(
    int fd, size_t nth, const char *reason, const char *host, const char *port)
{
	static const char msg[] = "Not allowed at this time\r\n";
	static struct penalty_log lim;
	char lhost[NI_MAXHOST], lport[NI_MAXSERV];
	unsigned unlogged;

	if (penalty_log_take(&lim, now_seconds(), &unlogged)) {
		if (unlogged > 0)
			logit("%u more connections from penalised sources "
			      "dropped without a line each",
			    unlogged);
		socket_end_name(fd, 1, lhost, lport);
		logit("drop connection #%zu from [%s]:%s on [%s]:%s %s", nth,
		    host, port, lhost, lport, reason);
	}
	(void)send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* 1 if the connection on fd, from block b, is refused for a penalty. */
static int
penalty_refuses(int fd, const struct source_block *b)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];
	const char *reason = NULL;

	if (!penalties.cfg.enabled)
		return 0;
	socket_end_name(fd, 0, host, port);
	if (penalty_exempted(host) ||
	    !penalty_check(&penalties, b, now_seconds(), &reason))
		return 0;
	penalty_drop(fd, nstartups, reason, host, port);
	return 1;
}

/*
 * Across a SIGHUP restart, the monitors not yet authenticated: the new
 * listener counts them for MaxStartups, and logs and audits the end of
 * those that LoginGraceTime kills, as it would have. The table goes in a
 * memfd named by HANDOVER_ENV, the startup pipes stay open across the
 * exec; a listener that is not the same process (daemon() forked it: the
 * monitors are not its children to reap) takes none of it.
 *
 * The memfd holds the head, then the n pipe descriptors (-1 for none) as
 * int32, then the n entries. The head and the descriptors keep this
 * layout whatever a release does to the entries: a listener that cannot
 * take the entries (another entry_size after an upgrade) still closes the
 * pipes instead of keeping them, uncounted and open across every later
 * exec.
 */
#define HANDOVER_MAGIC 0x70737433U

struct handover_head {
	uint32_t magic;
	uint32_t entry_size;
	uint32_t n;
	int32_t pid;
	/* A MaxStartups throttling episode in progress, so that its end is
	 * still logged (monotonic seconds: the same clock after the exec). */
	struct throttle throttle;
};

static int
handover_io(int fd, void *p, size_t len, int out)
{
	uint8_t *b = p;
	ssize_t n;

	while (len > 0) {
		n = out ? write(fd, b, len) : read(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
handover_save(void)
{
	static int32_t pipes[MAX_STARTUPS_TRACKED];
	struct handover_head h;
	char num[16];
	size_t i;
	int fd;

	if (nmonitors == 0 && throttle.last_drop == 0)
		return;
	memset(&h, 0, sizeof(h));
	h.magic = HANDOVER_MAGIC;
	h.entry_size = sizeof(monitors[0]);
	h.n = (uint32_t)nmonitors;
	h.pid = (int32_t)getpid();
	h.throttle = throttle;
	/* Not close-on-exec: the new listener reads it. */
	for (i = 0; i < nmonitors; i++)
		pipes[i] = monitors[i].fd;
	if ((fd = memfd_create("postern-handover", 0)) < 0 ||
	    handover_io(fd, &h, sizeof(h), 1) != 0 ||
	    handover_io(fd, pipes, nmonitors * sizeof(pipes[0]), 1) != 0 ||
	    handover_io(fd, monitors, nmonitors * sizeof(monitors[0]), 1) !=
	        0 ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		error("Received SIGHUP; connections before authentication are "
		      "not handed over: %s",
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	for (i = 0; i < nmonitors; i++) {
		if (monitors[i].fd != -1)
			(void)fcntl(monitors[i].fd, F_SETFD, 0);
	}
	snprintf(num, sizeof(num), "%d", fd);
	(void)setenv(HANDOVER_ENV, num, 1);
}

/* The handed-over pipes from index from on that were not taken. */
static void
handover_close_rest(const int32_t *pipes, uint32_t from, uint32_t n)
{
	for (; from < n; from++) {
		if (pipes[from] > 2)
			close(pipes[from]);
	}
}

/*
 * In the restarted listener, before any child is started; c: the config
 * it runs with, whose PerSourceNetBlockSize gives each entry its block.
 */
static void
handover_restore(const struct server_config *c)
{
	static int32_t pipes[MAX_STARTUPS_TRACKED];
	const char *v = getenv(HANDOVER_ENV);
	struct handover_head h;
	struct preauth_monitor pm;
	char *end;
	long fd;
	uint32_t i;
	int ours;

	if (v == NULL)
		return;
	errno = 0;
	fd = strtol(v, &end, 10);
	(void)unsetenv(HANDOVER_ENV);
	if (*v == '\0' || *end != '\0' || errno != 0 || fd < 3 || fd > INT_MAX)
		return;
	if (handover_io((int)fd, &h, sizeof(h), 0) != 0 ||
	    h.magic != HANDOVER_MAGIC || h.n > MAX_STARTUPS_TRACKED ||
	    handover_io((int)fd, pipes, h.n * sizeof(pipes[0]), 0) != 0) {
		close((int)fd);
		return;
	}
	ours = h.pid == (int32_t)getpid();
	if (h.entry_size != sizeof(pm) || !ours) {
		handover_close_rest(pipes, 0, h.n);
		close((int)fd);
		return;
	}
	throttle = h.throttle;
	for (i = 0; i < h.n; i++) {
		if (handover_io((int)fd, &pm, sizeof(pm), 0) != 0 ||
		    pm.fd != pipes[i])
			break;
		/* Each pipe is closed again on exec. */
		if (pm.fd != -1 && fcntl(pm.fd, F_SETFD, FD_CLOEXEC) != 0) {
			close(pm.fd);
			pm.fd = -1;
		}
		/* The old process's pointer means nothing here. */
		pm.sv.times = &worktimes;
		/* PerSourceNetBlockSize may have changed. */
		if (pm.peerlen > 0 && pm.peerlen <= sizeof(pm.peer))
			source_block_of((struct sockaddr *)&pm.peer, pm.peerlen,
			    c->per_source_masklen_v4, c->per_source_masklen_v6,
			    &pm.block);
		monitors[nmonitors++] = pm;
		if (pm.fd != -1)
			nstartups++;
	}
	handover_close_rest(pipes, i, h.n);
	close((int)fd);
}

/* A child was reaped: OpenSSH's line if LoginGraceTime killed it. */
static void
monitor_reaped(pid_t pid, int status)
{
	size_t i;

	for (i = 0; i < nmonitors; i++) {
		if (monitors[i].pid != pid)
			continue;
		/* What it wrote before it died. */
		if (monitors[i].fd != -1 && monitor_startup_read(i))
			return;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
			logit("Timeout before authentication for %s port %s",
			    monitors[i].host, monitors[i].port);
			audit_login_abandoned(
			    &monitors[i].ci, monitors[i].sv.keys_spid);
		}
		penalise(&monitors[i], status);
		monitor_forget(i);
		return;
	}
}

/* In the child: what kept the connection's monitor from starting. */
static void __attribute__((noreturn))
spawn_failed(const char *host, const char *port, const char *what)
{
	error("cannot start the monitor for %s port %s: %s: %.100s", host, port,
	    what, strerror(errno));
	_exit(1);
}

static void
spawn_monitor(int fd, int cfgfd, char **argv, const struct source_block *block)
{
	char **nargv, host[NI_MAXHOST], port[NI_MAXSERV];
	size_t n;
	pid_t pid;
	int sp[2];

	if (pipe2(sp, O_CLOEXEC) != 0) {
		error("pipe: %.100s", strerror(errno));
		return;
	}
	socket_end_name(fd, 0, host, port);
	if ((pid = fork()) < 0) {
		error("fork: %.100s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return;
	}
	if (pid == 0)
		for (n = 0; n < nlisten_socks; n++)
			close(listen_socks[n]);
	if (pid > 0) {
		struct preauth_monitor *pm = &monitors[nmonitors++];

		close(sp[1]);
		memset(pm, 0, sizeof(*pm));
		pm->pid = pid;
		pm->fd = sp[0];
		pm->sv.times = &worktimes;
		/* Read what there is, never wait (a reaped monitor's). */
		(void)fcntl(pm->fd, F_SETFL, O_NONBLOCK);
		memcpy(pm->host, host, sizeof(pm->host));
		memcpy(pm->port, port, sizeof(pm->port));
		conn_info_fill(&pm->ci, fd, relaying);
		pm->block = *block;
		pm->peerlen = sizeof(pm->peer);
		if (getpeername(
		        fd, (struct sockaddr *)&pm->peer, &pm->peerlen) != 0)
			pm->peerlen = 0;
		nstartups++;
		return;
	}
	/*
	 * As sshd: a new session and process group, so that what reaches
	 * the listener's (a terminal's ^C or hangup under -D) does not end
	 * every connection. Before the signals are unblocked, so that this
	 * new connection is not ended by one either.
	 */
	if (own_session && setsid() == -1)
		error("setsid: %.100s", strerror(errno));
	reset_handlers();
	close(sp[0]);
	/* Only the listener speaks to the service manager. */
	unsetenv("NOTIFY_SOCKET");
	worktimes_export();
	for (n = 0; argv[n] != NULL; n++)
		;
	if ((nargv = calloc(n + 2, sizeof(*nargv))) == NULL)
		spawn_failed(host, port, "memory");
	/* First, ahead of a "--" that would make it an operand. */
	nargv[0] = argv[0];
	nargv[1] = "-R";
	if (n > 1)
		memcpy(nargv + 2, argv + 1, (n - 1) * sizeof(*nargv));
	/* Socket on 3, startup pipe on 4, config source on 5 (monitor_run). */
	if ((fd = fcntl(fd, F_DUPFD_CLOEXEC, 10)) < 0 ||
	    (sp[1] = fcntl(sp[1], F_DUPFD_CLOEXEC, 10)) < 0 ||
	    (cfgfd = fcntl(cfgfd, F_DUPFD_CLOEXEC, 10)) < 0)
		spawn_failed(host, port, "descriptors");
	/* And the relay's byte count on 6 (relay.h: above 10 already). */
	if (dup2(fd, 3) < 0 || dup2(sp[1], 4) < 0 ||
	    dup2(cfgfd, CONFIG_TEXT_FD) < 0 ||
	    (relaying && dup2(relay.count_fd, RELAY_COUNT_FD) < 0))
		spawn_failed(host, port, "descriptors");
	closefrom(relaying ? RELAY_COUNT_FD + 1 : CONFIG_TEXT_FD + 1);
	exec_self(nargv);
	spawn_failed(host, port, "exec");
}

/*
 * Inetd mode (-i): the connection is standard input, a stream socket (as
 * inetd and systemd's Accept=yes give it), or standard input and output
 * when they are not a socket (a pipe pair, as a ProxyCommand, xinetd or
 * socat give it): then this process relays them to a socketpair whose
 * other end is the connection (monitor/relay.c). Descriptors 0-2 then
 * read and write /dev/null (standard error too, unless -e): nothing any
 * process writes there may reach the client's stream.
 */
static int
inetd_socket(const struct options *o)
{
	socklen_t len = sizeof(int);
	int fd, null, type, in, out;

	if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
		if (type != SOCK_STREAM)
			fatal("inetd mode (-i): standard input is not a "
			      "stream socket");
		if ((fd = fcntl(0, F_DUPFD_CLOEXEC, 10)) < 0)
			fatal("inetd mode (-i): %s", strerror(errno));
	} else if (errno == ENOTSOCK) {
		if ((fcntl(0, F_GETFL) & O_ACCMODE) == O_WRONLY ||
		    (fcntl(1, F_GETFL) & O_ACCMODE) == O_RDONLY)
			fatal("inetd mode (-i): standard input must be "
			      "readable and standard output writable");
		if ((in = fcntl(0, F_DUPFD_CLOEXEC, 10)) < 0 ||
		    (out = fcntl(1, F_DUPFD_CLOEXEC, 10)) < 0 ||
		    relay_start(&relay, in, out, &fd) != 0)
			fatal("inetd mode (-i): %s", strerror(errno));
		relaying = 1;
	} else
		fatal("inetd mode (-i): standard input: %s", strerror(errno));
	if ((null = open("/dev/null", O_RDWR)) < 0)
		fatal("inetd mode (-i): %s", strerror(errno));
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    (!o->log_stderr && dup2(null, 2) < 0))
		fatal("inetd mode (-i): %s", strerror(errno));
	if (null > 2)
		close(null);
	return fd;
}

/*
 * SIGHUP: read and check the new configuration; if it holds (it parses,
 * a host key loads), restart this listener on it, else keep serving with
 * the running one. The restarted listener gets what was checked here, not
 * the files again (RELOAD_CONFIG_ENV).
 */
static void
reload(const struct options *o, const struct server_config *c, int *fds,
    size_t nfds, char **argv)
{
	struct config_source *nsrc = NULL;
	struct server_config nc;
	char num[16];
	size_t i;
	int bad, nfd = -1, r;

	config_init(&nc);
	/* A config that does not read or parse, including a broken
	 * Include'd file, keeps this one. Relative -f: as it was given,
	 * from where posternd started (a daemon is in / now). */
	bad = config_source_read_reload(o->config_path_abs != NULL
	              ? o->config_path_abs
	              : o->config_file,
	          &nsrc) != 0;
	/* The restarted listener reports what it ignores. */
	if (!bad) {
		config_source_set_quiet(nsrc, 1);
		config_source_set_reload(nsrc);
		bad = load_config(o, nsrc, &nc) != 0;
	}
	/* Nor does one with which no host key loads. The keys that do not
	 * load are named once: by the restarted listener, or here, for a
	 * configuration kept out, with the reason sshd would exit with. */
	if (!bad && hostkeys_probe(&nc) != 0) {
		enum log_level was = log_get_level();
		struct hostkeys hk;

		if ((bad = hostkeys_load(&nc, &hk) != 0)) {
			hostkeys_use_log_level();
			error("sshd: no hostkeys available");
			log_set_level(was);
		}
		hostkeys_free(&hk); /* also a partial load */
	}
	/* Nor one whose addresses the restart could not listen on (it would
	 * end the server): the activated sockets are passed on instead. */
	if (!bad && !activated) {
		struct bind_probe probe = {fds, nfds};

		if (bind_all(&nc, NULL, &probe) == 0) {
			error("Cannot bind any address.");
			bad = 1;
		}
	}
	config_free(&nc);
	if (bad) {
		config_source_free(nsrc);
		error("Received SIGHUP; new configuration is invalid, keeping "
		      "the running one.");
		return;
	}
	r = config_memfd_make(nsrc, &nfd);
	config_source_free(nsrc);
	if (r != 0) {
		error("Received SIGHUP; cannot pass the new configuration on: "
		      "%s",
		    r == ERR_SYSTEM ? strerror(errno) : err_str(r));
		return;
	}
	logit("Received SIGHUP; restarting.");
	/* As sshd: the pid file goes; the restarted listener writes its own
	 * once it serves. */
	if (has_pidfile(o, c))
		unlink(c->pid_file);
	if (activated)
		activated_pass_on(nfds);
	else
		for (i = 0; i < nfds; i++)
			close(fds[i]);
	/*
	 * The loop's signals stay blocked across the exec: one that comes
	 * while the new listener starts waits for its loop (another SIGHUP
	 * restarts it again) instead of finding the default action, which
	 * ends the server.
	 */
	default_handlers();
	handover_save();
	/* Not close-on-exec: the restarted listener reads it. */
	(void)fcntl(nfd, F_SETFD, 0);
	snprintf(num, sizeof(num), "%d", nfd);
	(void)setenv(RELOAD_CONFIG_ENV, num, 1);
	if (o->config_path_abs != NULL)
		(void)setenv(RELOAD_PATH_ENV, o->config_path_abs, 1);
	(void)setenv(RESTART_ENV, "1", 1);
	worktimes_export();
	exec_self(argv);
	fatal("RESTART FAILED: %s", strerror(errno));
}

/*
 * Each step of the AuthenticationMethods lists needs a loaded module: a
 * list naming a device none serves (keyboard-interactive:totp without
 * totp.so) can never complete, and only DEBUG1 said so at each login.
 * Said once at start; a bare keyboard-interactive is PAM's device.
 */
static void
check_methods_served(
    const struct server_config *c, const struct module_set *ms, const char *dir)
{
	struct authchain ac;
	char method[128];
	const char *step, *sub;
	size_t i, j, len;

	if (authchain_init(&ac, c->auth_methods, c->nauth_methods) != 0)
		return; /* config_check said */
	for (i = 0; i < ac.nlists; i++)
		for (j = 0; j < ac.lists[i].nsteps; j++) {
			step = ac.lists[i].steps[j];
			len = strcspn(step, ":");
			sub = step[len] == ':' ? step + len + 1 : NULL;
			snprintf(
			    method, sizeof(method), "%.*s", (int)len, step);
			if (sub == NULL &&
			    strcmp(method, "keyboard-interactive") == 0)
				sub = "pam";
			/* sshd's switched-off methods: config_check said. */
			if (strcmp(method, "hostbased") == 0 ||
			    strcmp(method, "gssapi-with-mic") == 0)
				continue;
			if (modules_find(ms, method, sub) == NULL)
				error("AuthenticationMethods list \"%s\": no "
				      "module in %s serves %s%s%s",
				    c->auth_methods[i], dir, method,
				    sub != NULL ? ":" : "",
				    sub != NULL ? sub : "");
		}
	authchain_free(&ac);
}

int
listener_run(const struct options *o, struct server_config *c,
    const struct config_source *src, char **argv)
{
	struct pollfd pfds[MAX_LISTEN + MAX_STARTUPS_TRACKED + RELAY_NPOLL];
	struct timespec linger = {RELAY_LINGER_S, 0}, backoff, *tsp;
	int64_t paused;
	struct source_block blk;
	int fds[MAX_LISTEN], fd, status;
	size_t nfds, nrelay = 0, i;
	pid_t pid;
	int handled = 0, cfgfd, inetd_fd = -1, inetd_status = -1, r;
	int restarted;
	pid_t inetd_pid = -1;
	sigset_t block, waitmask;

	own_session = !o->debug && !o->inetd;
	self_path_init(argv[0]);
	/* As sshd: a SIGHUP restart keeps the pid (and so the connections'
	 * monitors as its children). */
	restarted = getenv(RESTART_ENV) != NULL;
	(void)unsetenv(RESTART_ENV);
	bind_patiently = restarted;
	/* Valid users' attempt times, kept across the restart. */
	if (restarted && getenv(WORKTIME_ENV) != NULL)
		(void)worktime_parse(
		    &worktimes, getenv(WORKTIME_ENV), worktime_now());
	(void)unsetenv(WORKTIME_ENV);
	ensure_empty_dir();
	check_helpers();
	audit_check();
	/* For the records of logins that LoginGraceTime ended. */
	audit_start();
	/* Say once, at start, which method modules load and which do not. */
	{
		struct module_set ms;
		char dir[4096];
		int n;

		modules_dir(dir, sizeof(dir));
		if ((n = modules_load(dir, &ms, 0)) <= 0)
			fatal("no authentication method modules could be "
			      "loaded from %s",
			    dir);
		verbose("%d authentication method module%s loaded from %s", n,
		    n == 1 ? "" : "s", dir);
		check_methods_served(c, &ms, dir);
		modules_free(&ms);
	}
	if (getuid() == 0 && getpwnam(POSTERN_PRIVSEP_USER) == NULL)
		fatal("Privilege separation user %s does not exist",
		    POSTERN_PRIVSEP_USER);
	{
		struct hostkeys hk;
		char fp[SSHKEY_FP_LEN];
		size_t k;

		/* As sshd's first debug lines. */
		debug("posternd version %s, %s", POSTERN_VERSION,
		    OpenSSL_version(OPENSSL_VERSION));
		if (hostkeys_load(c, &hk) != 0) {
			/* As sshd: logit() and exit 1. */
			hostkeys_use_log_level();
			logit("sshd: no hostkeys available -- exiting.");
			exit(1);
		}
		for (k = 0; k < hk.npub; k++)
			if (sshkey_fingerprint(hk.pub[k].key, fp, sizeof(fp)) ==
			    0)
				debug("%s host key #%zu: %s %s",
				    hk.pub[k].agent ? "public" : "private", k,
				    sshkey_type_name(hk.pub[k].key), fp);
		hostkeys_free(&hk);
	}
	/*
	 * Handled from before the port listens: a SIGHUP (or SIGTERM) sent
	 * once a client can connect, or once systemd hears READY=1, must not
	 * find the default action, which ends the listener. Signals stay
	 * blocked except inside ppoll(), so one that arrives before the loop,
	 * or between checking the flags and sleeping, still wakes it.
	 */
	set_handlers();
	sigemptyset(&block);
	for (i = 0; i < NLOOP_SIGNALS; i++)
		sigaddset(&block, loop_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	/* Blocked already when a SIGHUP restart exec'd this listener. */
	for (i = 0; i < NLOOP_SIGNALS; i++)
		sigdelset(&waitmask, loop_signals[i]);
	if (o->inetd) {
		/* One connection, already accepted; no sockets, no pidfile
		 * (systemd's Accept=yes also announces the connection as a
		 * LISTEN_FDS socket: not for the connection's processes). */
		activation_env_clear();
		inetd_fd = inetd_socket(o);
		nfds = 0;
	} else {
		if ((nfds = activated_sockets(fds)) == 0 &&
		    (nfds = bind_all(c, fds, NULL)) == 0)
			fatal("Cannot bind any address.");
		listen_socks = fds;
		nlisten_socks = nfds;
		if (!o->foreground && !o->debug && !restarted) {
			if (daemon(0, 0) != 0)
				fatal(
				    "daemon() failed: %.200s", strerror(errno));
		}
		write_pidfile(o, c);
		handover_restore(c);
		/*
		 * A monitor that ended while the old listener restarted left a
		 * SIGCHLD that the exec lost (the old loop took SIGHUP first,
		 * or the signal came while reload() had it blocked and
		 * default_handlers() discarded it): look for such exits once.
		 */
		if (restarted)
			got_sigchld = 1;
	}
	cfgfd = config_memfd(src);
	penalty_init(&penalties, &c->penalty, c->per_source_masklen_v4,
	    c->per_source_masklen_v6);
	penalty_exempt = c->penalty_exempt;
	/* Type=notify: ready (again, after a SIGHUP restart), as sshd. */
	if (!o->inetd)
		service_notify("READY=1");
	if (o->inetd) {
		/*
		 * This process stays as the connection's listener: it reaps the
		 * monitor, logging and auditing a LoginGraceTime kill, and
		 * exits with it.
		 */
		source_block_of_fd(inetd_fd, c, &blk);
		spawn_monitor(inetd_fd, cfgfd, argv, &blk);
		close(inetd_fd);
		if (nmonitors == 0)
			exit(255);
		inetd_pid = monitors[0].pid;
	}
	for (;;) {
		if (got_sigterm) {
			logit("Received signal %d; terminating.",
			    (int)got_sigterm);
			if (has_pidfile(o, c))
				unlink(c->pid_file);
			/* As sshd: SIGTERM is a clean stop, 0 (systemd's
			 * "inactive", not "failed"); SIGINT, SIGQUIT 255. */
			exit(got_sigterm == SIGTERM ? 0 : 255);
		}
		if (got_sighup && o->inetd)
			got_sighup = 0; /* no listener to restart */
		/* As sshd -d, whose SIGHUP is back to its default action once
		 * the one connection is accepted: the end, no second listener. */
		if (got_sighup && o->debug && handled) {
			logit("Received signal %d; terminating.", SIGHUP);
			exit(255);
		}
		if (got_sighup) {
			got_sighup = 0;
			reload(o, c, fds, nfds, argv);
		}
		if (got_sigchld) {
			got_sigchld = 0;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				monitor_reaped(pid, status);
				/* sshd -d's exit code is its monitor's: 255. */
				if (o->debug && handled)
					exit(255);
				if (pid == inetd_pid)
					inetd_status = WIFEXITED(status)
					    ? WEXITSTATUS(status)
					    : 255;
			}
		}
		/*
		 * With a relay, the connection ends when both have; without the
		 * monitor (and so its children), nothing reads the client's
		 * bytes any more.
		 */
		if (inetd_status != -1 && relaying)
			relay_stop_input(&relay);
		if (inetd_status != -1 && (!relaying || relay_done(&relay)))
			exit(inetd_status);
		paused = accept_paused_ms();
		for (i = 0; i < nfds; i++) {
			/* A negative fd is skipped by poll. */
			pfds[i].fd = paused > 0 ? -1 : fds[i];
			pfds[i].events = POLLIN;
		}
		tsp = NULL;
		if (inetd_status != -1)
			tsp = &linger;
		else if (paused > 0) {
			backoff.tv_sec = paused / 1000;
			backoff.tv_nsec = (paused % 1000) * 1000000;
			tsp = &backoff;
		}
		for (i = 0; i < nmonitors; i++) {
			pfds[nfds + i].fd = monitors[i].fd;
			pfds[nfds + i].events = POLLIN;
		}
		if (relaying)
			nrelay = relay_poll(&relay, pfds + nfds + nmonitors);
		/* The title as the loop goes to sleep: the count is settled. */
		listener_title(c, argv);
		/* fd_ppoll: a pending signal gets in even under a flood. */
		if ((r = fd_ppoll(pfds, nfds + nmonitors + nrelay, tsp,
		         &waitmask, &block)) < 0) {
			if (errno != EINTR)
				error("poll: %.100s", strerror(errno));
			continue;
		}
		if (r == 0 && tsp == &backoff)
			continue;
		if (r == 0) {
			/* The monitor is gone and the client takes nothing. */
			relay_abort(&relay);
			continue;
		}
		if (nrelay > 0)
			relay_run(&relay, pfds + nfds + nmonitors, nrelay);
		/* A startup pipe that is readable: authenticated or gone. */
		for (i = nmonitors; i-- > 0;) {
			if (pfds[nfds + i].fd != -1 &&
			    pfds[nfds + i].revents != 0)
				(void)monitor_startup_read(i);
		}
		for (i = 0; i < nfds; i++) {
			if (!(pfds[i].revents & POLLIN))
				continue;
			fd = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) {
				if (accept_exhausted(errno)) {
					accept_pause(errno);
					break;
				}
				if (errno != EAGAIN && errno != EINTR &&
				    errno != ECONNABORTED)
					error(
					    "accept: %.100s", strerror(errno));
				continue;
			}
			accept_resumed();
			source_block_of_fd(fd, c, &blk);
			/* sshd 9.8 checks penalties before MaxStartups. */
			if (penalty_refuses(fd, &blk)) {
				close(fd);
				continue;
			}
			if (should_drop(c) || source_full(c, &blk)) {
				throttle_drop(&throttle, fd, nstartups);
				close(fd);
				continue;
			}
			throttle_pass(
			    &throttle, nstartups, c->max_startups_begin);
			spawn_monitor(fd, cfgfd, argv, &blk);
			close(fd);
			handled = 1;
			if (o->debug) {
				/* As sshd -d: one connection; the next one is
				 * refused (the sockets close), not served. */
				debug("Server will not fork when running in "
				      "debugging mode.");
				for (i = 0; i < nfds; i++)
					close(fds[i]);
				nfds = nlisten_socks = 0;
				/* Its monitor did not start: nothing to wait for. */
				if (nmonitors == 0)
					exit(255);
				break;
			}
		}
	}
}
