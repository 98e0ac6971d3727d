/*
 * fuzz_channel.c: libFuzzer target for the session process's connection
 * protocol (RFC 4254), as the client drives it once authenticated: the
 * input is decrypted payloads in any order, fed to conn_dispatch
 * (session_run.c): CHANNEL_OPEN of every type (session, direct-tcpip,
 * direct-streamlocal@openssh.com, tun@openssh.com, unknown ones),
 * OPEN_CONFIRMATION/FAILURE, WINDOW_ADJUST, DATA, EXTENDED_DATA, EOF,
 * CLOSE, CHANNEL_REQUEST with every request type, GLOBAL_REQUEST
 * (tcpip-forward and its cancel, streamlocal-forward, no-more-sessions,
 * hostkeys-prove-00), PING and the rest. Between messages the harness runs
 * what the event loop runs (channel_tick, the poll handlers), and the
 * input also scripts the world around the session: children writing,
 * closing their output and exiting, remote ends of forwarded connections
 * talking, time passing (ChannelTimeout, ClientAlive).
 *
 * Input: byte 0 chooses the login's settings (profile bits below), then
 * records of u32 length | payload. A payload whose first byte is not 0 is
 * an SSH message (type byte, fields); 0 is a harness event (fz_event).
 *
 * Nothing here touches the system beyond this process. The session's
 * sources are compiled into this file with the calls that reach out
 * replaced by macros, only while they are included, so that every line of
 * the session's own code runs as in production:
 *  - fork() in session_exec.c makes a pretend child: the parent's side
 *    runs (environment, pipes or pty, descriptors) and the child's ends
 *    stay with the harness, which plays the program; fork() elsewhere
 *    (xauth, ~/.ssh/rc) fails. waitpid() and killpg() see only pretend
 *    children.
 *  - connect() never leaves the process: a socket "connects" to one end
 *    of a socketpair (or is refused, by port), Unix sockets are refused;
 *    getaddrinfo_a() (host names) fails, numeric addresses resolve.
 *  - bind() for forwarding listeners succeeds only inside a private
 *    network namespace (as root); the agent's socket goes in its own
 *    fresh /tmp/ssh-* directory, removed again.
 *  - The monitor (pty allocation, utmp, hostkeys-prove) is played by
 *    stubs: a pty comes from /dev/ptmx, records succeed, proofs are
 *    refused or granted by a profile bit.
 *  - internal-sftp is a stand-in service (the engine has fuzz_sftp).
 *  - A tun(4) device is a SOCK_SEQPACKET socketpair (datagrams) whose
 *    far end is a peer as a connected socket's; TUNSETIFF names it, or
 *    fails for a unit ending in 3.
 * Unix-socket forwarding stays off in every profile (its listener may
 * unlink a path), and X11 has no xauth program, so x11-req is decoded and
 * checked, then refused.
 *
 * The transport is a real one on a socketpair whose peer is drained: it
 * is put past its first key exchange (kex state cleared) so that packets
 * go out in the clear at once instead of waiting for NEWKEYS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "authopts.h"
#include "buf.h"
#include "err.h"
#include "fwdpolicy.h"
#include "ipc.h"
#include "log.h"
#include "transport.h"
#include "transport_int.h"

#include "session/channel.h"
#include "session/forward.h"
#include "session/session.h"
#include "session/session_exec.h"
#include "session/session_login.h"
#include "session/session_pty.h"

/* The stand-ins the macros below name. */
static pid_t fz_fork_child(int in, int out, int err, int ctty);
static pid_t fz_fork_none(void);
static pid_t fz_waitpid(pid_t pid, int *status, int options);
static int fz_killpg(pid_t pgrp, int sig);
static int fz_connect(int s, const struct sockaddr *sa, socklen_t len);
static int fz_getaddrinfo_a(
    int mode, struct gaicb **list, int n, struct sigevent *sev);
static int fz_bind_fwd(int s, const struct sockaddr *sa, socklen_t len);
static int fz_bind_agent(int s, const struct sockaddr *sa, socklen_t len);
static int fz_ipc_send(int fd, uint8_t type, const struct buf *b, int pfd);
static int fz_ipc_recv(
    int fd, uint8_t *type, struct buf *b, int *fdp, size_t max);
static int64_t fz_monotime_ms(void);
static int fz_open_tun(const char *path, int flags);
static int fz_ioctl_tun(int fd, unsigned long req, struct ifreq *ifr);

/* session_exec.c: fork_setup's fork() (its arguments are the child's fds). */
#define fork() fz_fork_child(in, out, err, ctty)
#include "session/session_exec.c"
#undef fork

#define fork() fz_fork_none()
#define waitpid fz_waitpid
#define killpg fz_killpg
#define connect fz_connect
#define getaddrinfo_a fz_getaddrinfo_a
#define session_login_pty fz_monitor_login_pty
#define session_login_record fz_monitor_login_record
#define session_login_logout fz_monitor_login_logout
#include "session/session_login.c"
#undef session_login_pty
#undef session_login_record
#undef session_login_logout
#include "session/session_env.c"
#include "session/session_pty.c"
#include "session/channel.c"
#include "session/channel_session.c"
#include "session/channel_sock.c"
#include "session/channel_tcp.c"
#define open(path, flags) fz_open_tun(path, flags)
#define ioctl(fd, req, ifr) fz_ioctl_tun(fd, req, ifr)
#include "session/channel_tun.c"
#undef open
#undef ioctl
#define transport_monotime_ms fz_monotime_ms
#include "session/alive.c"
#undef transport_monotime_ms
#include "session/accept_pause.c"
#include "session/axl_config.c"
#define bind fz_bind_agent
#include "session/agent.c"
#undef bind
#define bind fz_bind_fwd
#include "session/forward.c"
#include "session/x11.c"
#undef bind
#define ipc_send fz_ipc_send
#define ipc_recv fz_ipc_recv
#include "session/session_hostkeys.c"
#undef ipc_send
#undef ipc_recv
#include "session/session_run.c"
#undef fork
#undef waitpid
#undef killpg
#undef connect
#undef getaddrinfo_a

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (128 * 1024)
/* Pretend children's pids: above any pid_max, so no real process has one. */
#define FZ_PID_BASE 0x40000000
#define FZ_MAX_CHILDREN 64
#define FZ_MAX_PEERS 64

/* Profile bits (input byte 0). */
#define P_FORCED 0x01     /* ForceCommand */
#define P_PWCHANGE 0x02   /* an expired password: only passwd(1) runs */
#define P_RESTRICT 0x04   /* the key said "restrict" */
#define P_PERMITOPEN 0x08 /* PermitOpen and PermitListen lists */
#define P_AGENT 0x10      /* AllowAgentForwarding */
#define P_TIMERS 0x20     /* ChannelTimeout, ClientAlive, Unused... */
#define P_PROVE 0x40      /* the monitor grants hostkeys-prove */
#define P_SLOW 0x80       /* the client reads nothing: output congests */

struct fz_child {
	pid_t pid;
	int in, out, err; /* the program's ends: stdin, stdout, stderr */
	int exited, reaped;
	int status;
};

/* The session's clock (alive.c): advanced by the input only. */
static int64_t fz_clock;

static int64_t
fz_monotime_ms(void)
{
	return fz_clock;
}

static struct fz_child children[FZ_MAX_CHILDREN];
static size_t nchildren;
static int peers[FZ_MAX_PEERS]; /* remote ends of "connected" sockets */
static size_t npeers;
static int fz_netns; /* in a private network namespace */
static int fz_profile;
static int fz_prove_n; /* blobs in the last hostkeys-prove request */
static char fz_dir[64];
static int fz_ready;

static void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz_channel: %s: %s\n", what, strerror(errno));
	abort();
}

static void
fz_quiet(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	if (ctx != NULL)
		fprintf(stderr, "session: %s\n", msg);
}

static int
fz_dup_keep(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* fork() of fork_setup: keep the child's ends, as the program would. */
static pid_t
fz_fork_child(int in, int out, int err, int ctty)
{
	struct fz_child *ch;

	if (nchildren == FZ_MAX_CHILDREN) {
		errno = EAGAIN;
		return -1;
	}
	ch = &children[nchildren];
	memset(ch, 0, sizeof(*ch));
	ch->pid = FZ_PID_BASE + (pid_t)nchildren;
	ch->in = fz_dup_keep(in);
	ch->out = fz_dup_keep(out);
	ch->err = ctty ? -1 : fz_dup_keep(err); /* a pty: stderr merged */
	/*
	 * The program writes what fits: a blocking write into a pty (whose
	 * room depends on when the kernel moves the data on) or a full pipe
	 * would wait for a session that runs only once the write returns,
	 * and libFuzzer would call that a timeout.
	 */
	if (ch->out >= 0)
		(void)fcntl(ch->out, F_SETFL, O_NONBLOCK);
	if (ch->err >= 0)
		(void)fcntl(ch->err, F_SETFL, O_NONBLOCK);
	nchildren++;
	return ch->pid;
}

static pid_t
fz_fork_none(void)
{
	errno = EAGAIN;
	return -1;
}

static struct fz_child *
fz_child_by_pid(pid_t pid)
{
	size_t i;

	for (i = 0; i < nchildren; i++)
		if (children[i].pid == pid)
			return &children[i];
	return NULL;
}

static pid_t
fz_waitpid(pid_t pid, int *status, int options)
{
	struct fz_child *ch = fz_child_by_pid(pid);

	(void)options;
	if (ch == NULL || ch->reaped) {
		errno = ECHILD;
		return -1;
	}
	if (!ch->exited)
		return 0;
	ch->reaped = 1;
	*status = ch->status;
	return pid;
}

static int
fz_killpg(pid_t pgrp, int sig)
{
	struct fz_child *ch = fz_child_by_pid(pgrp);

	if (ch == NULL || ch->reaped) {
		errno = ESRCH;
		return -1;
	}
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGHUP) {
		ch->exited = 1;
		ch->status = sig; /* killed by it */
	}
	return 0;
}

/* Port % 3: 0 refused, 1 in progress, 2 connected at once. */
static int
fz_connect(int s, const struct sockaddr *sa, socklen_t len)
{
	unsigned port = 0;
	int sp[2];

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6))
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else {
		errno = ECONNREFUSED;
		return -1;
	}
	if (port % 3 == 0 || npeers == FZ_MAX_PEERS) {
		errno = ECONNREFUSED;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	        sp) != 0)
		return -1;
	if (dup3(sp[0], s, O_CLOEXEC) == -1) {
		close(sp[0]);
		close(sp[1]);
		return -1;
	}
	close(sp[0]);
	peers[npeers++] = sp[1];
	if (port % 3 == 1) {
		errno = EINPROGRESS;
		return -1;
	}
	return 0;
}

/* /dev/net/tun: one end of a datagram socketpair, the other a peer. */
static int
fz_open_tun(const char *path, int flags)
{
	int sp[2];

	if (npeers == FZ_MAX_PEERS) {
		errno = ENFILE;
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
	        0, sp) != 0)
		return -1;
	peers[npeers++] = sp[1];
	return sp[0];
}

/* TUNSETIFF: "tun0"/"tap0" for any unit; a unit ending in 3 is busy. */
static int
fz_ioctl_tun(int fd, unsigned long req, struct ifreq *ifr)
{
	size_t len = strnlen(ifr->ifr_name, sizeof(ifr->ifr_name));

	if (len > 0 && ifr->ifr_name[len - 1] == '3') {
		errno = EBUSY;
		return -1;
	}
	if (len == 0)
		snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s0",
		    ifr->ifr_flags & IFF_TAP ? "tap" : "tun");
	return 0;
}

static int
fz_getaddrinfo_a(int mode, struct gaicb **list, int n, struct sigevent *sev)
{
	(void)mode;
	(void)list;
	(void)n;
	(void)sev;
	return EAI_AGAIN;
}

static int
fz_bind_fwd(int s, const struct sockaddr *sa, socklen_t len)
{
	if (!fz_netns || sa->sa_family == AF_UNIX) {
		errno = EADDRINUSE;
		return -1;
	}
	return bind(s, sa, len);
}

/* Only the agent's own socket, in the directory it just made. */
static int
fz_bind_agent(int s, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_un *sun = (const struct sockaddr_un *)sa;

	if (sa->sa_family != AF_UNIX ||
	    strncmp(sun->sun_path, "/tmp/ssh-", 9) != 0) {
		errno = EACCES;
		return -1;
	}
	return bind(s, sa, len);
}

/* The monitor's half of hostkeys-prove: refuse, or "sign" every blob. */
static int
fz_ipc_send(int fd, uint8_t type, const struct buf *b, int pfd)
{
	struct buf tmp = *b;
	int n = 0;

	(void)fd;
	(void)pfd;
	if (type != IPC_SESSION_PROVE_REQ)
		return ERR_PROTOCOL;
	while (buf_len(&tmp) > 0 && buf_skip_string(&tmp) == 0)
		n++;
	fz_prove_n = n;
	return 0;
}

static int
fz_ipc_recv(int fd, uint8_t *type, struct buf *b, int *fdp, size_t max)
{
	int i, r;

	(void)fd;
	(void)fdp;
	(void)max;
	buf_reset(b);
	*type = IPC_SESSION_PROVE_REPLY;
	if ((r = buf_put_bool(b, (fz_profile & P_PROVE) != 0)) != 0 ||
	    (r = buf_put_u32(b, (fz_profile & P_PROVE) ? fz_prove_n : 0)) != 0)
		return r;
	for (i = 0; (fz_profile & P_PROVE) && i < fz_prove_n; i++)
		if ((r = buf_put_cstring(b, "signature")) != 0)
			return r;
	return 0;
}

/* The monitor's pty: a real one from /dev/ptmx, as it would send. */
int
session_login_pty(int fd, int *master, int *slave, char *name, size_t len)
{
	unsigned int ptn;
	int m;

	(void)fd;
	*master = *slave = -1;
	if ((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return ERR_SYSTEM;
	if (unlockpt(m) != 0 || ioctl(m, TIOCGPTN, &ptn) == -1 ||
	    (*slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) ==
	        -1) {
		close(m);
		return ERR_SYSTEM;
	}
	snprintf(name, len, "/dev/pts/%u", ptn);
	*master = m;
	return 0;
}

int
session_login_record(int fd, const char *tty, pid_t pid, char **msg)
{
	(void)fd;
	(void)tty;
	(void)pid;
	*msg = strdup("Last login: never");
	return 0;
}

int
session_login_logout(int fd, const char *tty)
{
	(void)fd;
	(void)tty;
	return 0;
}

/* internal-sftp's stand-in: takes all data, ends when the harness says. */
static int fz_svc_end_status = -1;

static int
fz_svc_data(struct conn *conn, struct channel *c, const uint8_t *p, size_t n)
{
	(void)conn;
	(void)p;
	c->local_consumed += (uint32_t)n;
	return 0;
}

static int
fz_svc_pump(struct conn *conn, struct channel *c)
{
	static const uint8_t hello[] = "sftp stand-in\n";
	size_t sent;
	int r;

	if ((r = channel_send_data(
	         conn, c, 0, hello, sizeof(hello) - 1, &sent)) != 0)
		return r;
	if (fz_svc_end_status >= 0) {
		c->svc = NULL;
		channel_session_service_done(conn, c, fz_svc_end_status, 0);
	}
	return 0;
}

static void
fz_svc_free(struct conn *conn, struct channel *c)
{
	(void)conn;
	(void)c;
}

static const struct channel_service fz_svc = {
    fz_svc_data, fz_svc_pump, fz_svc_free};

int
chan_sftp_reaped(struct channel *c, pid_t pid)
{
	(void)c;
	(void)pid;
	return 0;
}

int
chan_is_sftp(const struct channel *c)
{
	return c->svc == &fz_svc;
}

int
chan_sftp_start(struct conn *conn, struct channel *c, const char *command,
    pid_t rc_pid, int rc_fd)
{
	(void)conn;
	(void)rc_pid;
	if (rc_fd >= 0)
		close(rc_fd);
	if (strstr(command, "-P") != NULL)
		return ERR_CONFIG; /* as a bad command line is refused */
	c->svc = &fz_svc;
	c->svc_ctx = NULL;
	return 0;
}

/* As root: a network namespace of our own, loopback up. */
static void
fz_private_net(void)
{
	struct ifreq ifr;
	int s;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		return;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) == 0)
			fz_netns = 1;
	}
	close(s);
}

static void
fz_cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/.ssh/environment", fz_dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/.ssh", fz_dir);
	(void)rmdir(path);
	(void)rmdir(fz_dir);
}

static void
fz_init(void)
{
	char path[128];
	int fd;

	log_set_handler(
	    fz_quiet, getenv("FUZZ_CHANNEL_VERBOSE") != NULL ? fz_dir : NULL);
	if (getenv("FUZZ_CHANNEL_VERBOSE") != NULL)
		log_set_level(LL_DEBUG3);
	signal(SIGPIPE, SIG_IGN);
	fz_private_net();
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/fuzz_channel.XXXXXX");
	if (mkdtemp(fz_dir) == NULL)
		fz_die("mkdtemp");
	atexit(fz_cleanup);
	snprintf(path, sizeof(path), "%s/.ssh", fz_dir);
	if (mkdir(path, 0700) != 0)
		fz_die(path);
	snprintf(path, sizeof(path), "%s/.ssh/environment", fz_dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, "FUZZ_FILE=1\n# comment\nPATH=/x\n", 31) != 31)
		fz_die(path);
	close(fd);
	fz_ready = 1;
}

/* Everything one connection owns; built from the profile. */
struct fz_conn {
	struct session_ctx ctx;
	struct session_login login;
	struct session_axl axl;
	struct channel_timeout timeouts[2];
	struct fwd_policy fwd;
	struct authopts *opts;
	struct transport_hostkey hk;
	struct transport *t;
	struct conn conn;
	int sp[2];
};

static char *subsys_name[] = {"sftp", "internal", "bad", "odd"};
static char *subsys_args[] = {"/usr/lib/openssh/sftp-server -l INFO",
    "internal-sftp -R", "internal-sftp -P", "/nonexistent/prog arg"};
static char *accept_env[] = {"LANG", "LC_*", "FUZZ_*"};
static char *set_env[] = {"SETENV_VAR=set"};
static char hk_alg[] = "ssh-ed25519";
static const uint8_t hk_blob[] = {0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd',
    '2', '5', '5', '1', '9', 0, 0, 0, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    32};

static void
fz_permits(struct authopts_permits *p, int listen)
{
	static char *const open_words[] = {
	    "127.0.0.1:7", "[::1]:8", "localhost:22", "10.1.2.3:*"};
	static char *const listen_words[] = {"localhost:*", "127.0.0.1:8022"};
	const char *why;

	if (fwd_policy_add_permits(p, listen ? listen_words : open_words,
	        listen ? 2 : 4, listen, &why) != 0) {
		fprintf(stderr, "fuzz_channel: %s\n", why);
		abort();
	}
}

static void
fz_conn_init(struct fz_conn *f)
{
	struct transport_params tp;
	struct session_ctx *ctx = &f->ctx;

	memset(f, 0, sizeof(*f));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	        f->sp) != 0)
		fz_die("socketpair");
	f->hk.alg = hk_alg;
	f->hk.blob = hk_blob;
	f->hk.bloblen = sizeof(hk_blob);
	memset(&tp, 0, sizeof(tp));
	tp.version = "SSH-2.0-postern_fuzz";
	tp.kex_algs = "curve25519-sha256";
	tp.hostkey_algs = "ssh-ed25519";
	tp.ciphers = "aes128-ctr";
	tp.macs = "hmac-sha2-256";
	tp.hostkeys = &f->hk;
	tp.nhostkeys = 1;
	tp.peer_addr = "192.0.2.7";
	tp.peer_port = 50022;
	if ((f->t = transport_new(f->sp[0], &tp)) == NULL)
		fz_die("transport_new");
	/* As after the first exchange: nothing is held back for NEWKEYS. */
	kex_state_free(f->t);
	f->t->kex = KEX_NONE;

	f->login.uid = getuid();
	f->login.gid = getgid();
	f->login.home = fz_dir;
	f->login.shell = "/bin/sh";
	f->login.flags = LOGIN_F_PERMIT_USER_RC |
	    ((fz_profile & P_PWCHANGE) ? LOGIN_F_PWCHANGE : 0);
	f->login.permit_user_env = "FUZZ_*";
	f->login.accept_env = accept_env;
	f->login.naccept_env = 3;
	f->login.set_env = set_env;
	f->login.nset_env = 1;
	f->login.auth_info = "publickey ssh-ed25519 AAAA\n";
	f->login.loginmsg = NULL; /* heap-owned: the first session frees it */

	f->axl.allow_agent_forwarding = (fz_profile & P_AGENT) != 0;
	f->axl.x11_forwarding = 1;
	f->axl.x11_display_offset = 10;
	f->axl.x11_use_localhost = 1;
	f->axl.xauth_location = "/nonexistent/xauth";
	f->axl.permit_tunnel = 1;
	if (fz_profile & P_TIMERS) {
		f->timeouts[0].type = "session:*";
		f->timeouts[0].secs = 5;
		f->timeouts[1].type = "direct-tcpip";
		f->timeouts[1].secs = 2;
		f->axl.timeouts = f->timeouts;
		f->axl.ntimeouts = 2;
		f->axl.client_alive_interval = 3;
		f->axl.client_alive_count_max = 2;
		f->axl.unused_connection_timeout = 60;
	}

	fwd_policy_init(&f->fwd);
	f->fwd.allow_streamlocal = 0; /* a listener may unlink its path */
	f->fwd.gateway_ports = FWD_GATEWAY_NO;
	if (fz_profile & P_PERMITOPEN) {
		fz_permits(&f->fwd.permitopen, 0);
		fz_permits(&f->fwd.permitlisten, 1);
	}

	if ((f->opts = authopts_new(1)) == NULL)
		fz_die("authopts_new");
	if (fz_profile & P_RESTRICT) {
		f->opts->restricted = 1;
		f->opts->permit_pty = 0;
		f->opts->permit_port_forwarding = 0;
		f->opts->permit_agent_forwarding = 0;
		f->opts->permit_x11_forwarding = 0;
		f->opts->permit_user_rc = 0;
	}

	ctx->t = f->t;
	ctx->monitor_fd = -1;
	ctx->user = "fuzz";
	ctx->uid = f->login.uid;
	ctx->gid = f->login.gid;
	ctx->home = fz_dir;
	ctx->shell = "/bin/sh";
	if (fz_profile & P_FORCED) {
		ctx->forced_command = (fz_profile & P_RESTRICT)
		    ? "internal-sftp"
		    : "/usr/bin/printf forced";
		ctx->forced_command_source = "(config)";
	}
	ctx->opts = f->opts;
	ctx->client_addr = "192.0.2.7";
	ctx->client_port = 50022;
	ctx->server_addr = "192.0.2.1";
	ctx->server_port = 22;
	ctx->max_sessions = 4;
	ctx->permit_tty = 1;
	ctx->subsys_name = subsys_name;
	ctx->subsys_args = subsys_args;
	ctx->nsubsys = 4;
	ctx->hostkeys = &f->hk;
	ctx->nhostkeys = 1;
	ctx->login = &f->login;
	ctx->axl = &f->axl;
	ctx->fwd = &f->fwd;

	f->conn.ctx = ctx;
	f->conn.t = f->t;
	f->conn.kex_reported = -1;
	f->conn.max_sessions = ctx->max_sessions;
	fz_clock = 1000000;
	conn_timers_init(&f->conn);
}

/* What the client would read: everything, unless it is a slow one. */
static void
fz_client_read(struct fz_conn *f)
{
	char tmp[65536];

	if (transport_output_pending(f->t) > 0 && transport_write(f->t) != 0) {
		/* the socketpair is ours: it cannot fail but for a bug */
		fz_die("transport_write");
	}
	if (fz_profile & P_SLOW)
		return;
	while (recv(f->sp[1], tmp, sizeof(tmp), MSG_DONTWAIT) > 0)
		;
}

/*
 * What must hold between messages whatever the client sent: every byte
 * the client may still send, or sent and was not yet credited back, or
 * waits in obuf, adds up to the window we granted; the table's counts
 * match its slots.
 */
static void
fz_check(struct conn *conn)
{
	struct channel *c;
	uint32_t id, open = 0;
	int sessions = 0;

	for (id = 0; id < conn->nslots; id++) {
		if ((c = conn->chans[id]) == NULL)
			continue;
		open++;
		if (c->id != id)
			fz_die("channel id is not its slot");
		if ((uint64_t)c->local_window + c->local_consumed +
		        buf_len(c->obuf) !=
		    c->local_window_max)
			fz_die("channel window accounting");
		if (c->type == &channel_type_session && c->priv != NULL)
			sessions++;
	}
	/* A closed session whose child still runs keeps its place. */
	if (open != conn->nopen ||
	    sessions + conn->ndetached != conn->nsessions ||
	    conn->ndetached < 0 || conn->ndetached > conn->max_sessions)
		fz_die("channel table counts");
}

/* One turn of conn_loop without the transport and without waiting. */
static int
fz_loop_turn(struct fz_conn *f)
{
	struct conn *conn = &f->conn;
	int r;

	if ((r = channel_tick(conn)) != 0)
		return r;
	conn->npfds = 0;
	if ((r = conn_pfd_add(conn, f->sp[0], POLLIN)) < 0 ||
	    (r = conn_pfd_add(conn, f->sp[0], POLLIN)) < 0 ||
	    (r = channel_poll_prepare(conn)) < 0 ||
	    (r = agent_poll_prepare(conn)) < 0 ||
	    (r = x11_poll_prepare(conn)) < 0 ||
	    (r = fwd_poll_prepare(conn)) < 0)
		return r;
	/* The first two entries stand for the transport and SIGCHLD. */
	conn->pfds[0].fd = conn->pfds[1].fd = -1;
	/* As conn_loop: a signal (libFuzzer's timer) is not an error. */
	while (poll(conn->pfds, conn->npfds, 0) < 0)
		if (errno != EINTR)
			return ERR_SYSTEM;
	if ((r = channel_poll_handle(conn)) != 0 ||
	    (r = agent_poll_handle(conn)) != 0 ||
	    (r = x11_poll_handle(conn)) != 0 ||
	    (r = fwd_poll_handle(conn)) != 0)
		return r;
	if ((r = channel_tick(conn)) != 0)
		return r;
	fz_client_read(f);
	fz_check(conn);
	return 0;
}

static void
fz_close(int *fdp)
{
	if (*fdp >= 0) {
		close(*fdp);
		*fdp = -1;
	}
}

/* The last SSH message the client sent, for event 11. */
static uint8_t fz_last_type;
static const uint8_t *fz_last_msg;
static size_t fz_last_len;

/* One SSH message from the client, then what the loop does after it. */
static int
fz_message(struct fz_conn *f, uint8_t type, const uint8_t *p, size_t n)
{
	struct buf *m;
	int r;

	if ((m = buf_from(p, n)) == NULL)
		fz_die("buf_from");
	r = conn_dispatch(&f->conn, type, m);
	if (r != 0 && conn_is_decode_error(r))
		r = conn_protocol_error(
		    &f->conn, "message %u: %s", type, err_str(r));
	buf_free(m);
	if (r == 0)
		r = conn_timers_run(&f->conn, 1);
	if (r == 0)
		r = fz_loop_turn(f);
	return r;
}

static int
fz_repeat(struct fz_conn *f, unsigned count)
{
	unsigned i;
	int r = 0;

	if (fz_last_msg == NULL)
		return 0;
	for (i = 0; r == 0 && i < count && i < 4096; i++)
		r = fz_message(f, fz_last_type, fz_last_msg, fz_last_len);
	return r;
}

/* A connection to addr (a listener's own address, wildcards as loopback). */
static void
fz_connect_to(struct sockaddr_storage *ss, socklen_t len)
{
	int s;

	if (npeers == FZ_MAX_PEERS)
		return;
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (in->sin_addr.s_addr == htonl(INADDR_ANY))
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			in6->sin6_addr = in6addr_loopback;
	}
	if ((s = socket(ss->ss_family,
	         SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (connect(s, (struct sockaddr *)ss, len) == 0 || errno == EINPROGRESS)
		peers[npeers++] = s;
	else
		close(s);
}

/* Forwarding listeners (only ever bound in the private namespace), agent. */
static void
fz_connect_listeners(struct conn *conn)
{
	struct sockaddr_storage ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	socklen_t len;
	size_t i;
	int j;

	for (i = 0; conn->fwd != NULL && i < conn->fwd->n; i++)
		for (j = 0; j < conn->fwd->l[i]->nfds; j++) {
			len = sizeof(ss);
			if (getsockname(conn->fwd->l[i]->fds[j],
			        (struct sockaddr *)&ss, &len) == 0 &&
			    ss.ss_family != AF_UNIX)
				fz_connect_to(&ss, len);
		}
	if (conn->agent != NULL && conn->agent->lfd >= 0) {
		memset(&ss, 0, sizeof(ss));
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s",
		    conn->agent->path);
		fz_connect_to(&ss, sizeof(*sun));
	}
}

/*
 * A harness event: p[0] what, p[1] which (child or peer index), the rest
 * its data.
 *  0: a loop turn          1: the child exits (status p[2])
 *  2: the child writes     3: the child writes to stderr
 *  4: the child closes its output   5: the child reads its input
 *  6: a peer writes        7: a peer closes   8: time passes (p[1] s)
 *  9: the stand-in sftp service ends (status p[2])
 * 10: a local program connects to every listener (forwards, the agent)
 * 11: the last SSH message again, p[1] | p[2] << 8 times (at most 4096):
 *     floods (windows, the channel table, env) in a short input
 */
static int
fz_event(struct fz_conn *f, const uint8_t *p, size_t n)
{
	struct conn *conn = &f->conn;
	struct fz_child *ch = NULL;
	char tmp[4096];
	int *peer = NULL, r = 0;

	if (n < 2)
		return fz_loop_turn(f);
	if (nchildren > 0)
		ch = &children[p[1] % nchildren];
	if (npeers > 0)
		peer = &peers[p[1] % npeers];
	switch (p[0] % 12) {
	case 0:
		return fz_loop_turn(f);
	case 1:
		if (ch == NULL || ch->exited)
			break;
		fz_close(&ch->in);
		fz_close(&ch->out);
		fz_close(&ch->err);
		ch->exited = 1;
		ch->status =
		    n > 2 ? (p[2] & 0x80 ? p[2] & 0x7f : p[2] << 8) : 0;
		/* What conn_reap does on SIGCHLD. */
		if (!ch->reaped) {
			ch->reaped = 1;
			channel_session_reaped(conn, ch->pid, ch->status);
		}
		break;
	case 2:
	case 3:
		if (ch == NULL)
			break;
		if (p[0] % 12 == 3 && ch->err >= 0)
			(void)!write(ch->err, p + 2, n - 2);
		else if (ch->out >= 0)
			(void)!write(ch->out, p + 2, n - 2);
		break;
	case 4:
		if (ch != NULL) {
			fz_close(&ch->out);
			fz_close(&ch->err);
		}
		break;
	case 5:
		if (ch != NULL && ch->in >= 0) {
			(void)fcntl(ch->in, F_SETFL, O_NONBLOCK);
			while (read(ch->in, tmp, sizeof(tmp)) > 0)
				;
		}
		break;
	case 6:
		if (peer != NULL && *peer >= 0) {
			(void)!send(*peer, p + 2, n - 2, MSG_DONTWAIT);
			while (recv(*peer, tmp, sizeof(tmp), MSG_DONTWAIT) > 0)
				;
		}
		break;
	case 7:
		if (peer != NULL)
			fz_close(peer);
		break;
	case 8:
		fz_clock += (int64_t)p[1] * 1000;
		r = conn_timers_run(conn, 0);
		break;
	case 9:
		fz_svc_end_status = n > 2 ? p[2] : 0;
		r = fz_loop_turn(f);
		fz_svc_end_status = -1;
		break;
	case 10:
		fz_connect_listeners(conn);
		break;
	case 11:
		r = fz_repeat(f, n > 2 ? p[1] | p[2] << 8 : p[1]);
		break;
	}
	if (r == 0)
		r = fz_loop_turn(f);
	return r;
}

static void
fz_conn_free(struct fz_conn *f)
{
	struct conn *conn = &f->conn;
	size_t i;

	channel_free_all(conn);
	x11_cleanup_all(conn);
	agent_cleanup(conn);
	fwd_free(conn);
	free(conn->pfds);
	transport_free(f->t);
	close(f->sp[0]);
	close(f->sp[1]);
	fwd_policy_free(&f->fwd);
	authopts_free(f->opts);
	free(f->ctx.tun_names);
	for (i = 0; i < nchildren; i++) {
		fz_close(&children[i].in);
		fz_close(&children[i].out);
		fz_close(&children[i].err);
	}
	nchildren = 0;
	for (i = 0; i < npeers; i++)
		fz_close(&peers[i]);
	npeers = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_conn f;
	uint32_t len;
	int r = 0, rounds;

	if (!fz_ready)
		fz_init();
	if (size < 1 || size > FZ_MAX_INPUT)
		return 0;
	fz_profile = data[0];
	data++;
	size--;
	fz_conn_init(&f);
	fz_last_msg = NULL;
	while (r == 0 && size >= 5) {
		len = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		    (uint32_t)data[2] << 8 | data[3];
		data += 4;
		size -= 4;
		if (len == 0 || len > size)
			break;
		if (data[0] == 0)
			r = fz_event(&f, data + 1, len - 1);
		else {
			fz_last_type = data[0];
			fz_last_msg = data + 1;
			fz_last_len = len - 1;
			r = fz_message(&f, data[0], data + 1, len - 1);
		}
		data += len;
		size -= len;
	}
	/* Let what is under way settle, as the loop would. */
	for (rounds = 0; r == 0 && rounds < 4; rounds++)
		r = fz_loop_turn(&f);
	if (r != 0 && r != ERR_PROTOCOL && r != ERR_TIMEOUT && r != ERR_ALLOC &&
	    r != ERR_DISCONNECTED && r != ERR_LIMIT)
		fprintf(stderr, "fuzz_channel: ended with %s\n", err_str(r));
	fz_conn_free(&f);
	return 0;
}
