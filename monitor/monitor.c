/*
 * monitor.c: the per-connection monitor. Runs as root for the life of the
 * connection: spawns the sandboxed preauth process, signs its exchange
 * hashes, judges its auth requests, then spawns the session process as the
 * user and hands it the transport state.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "alglist.h"
#include "audit.h"
#include "auth.h"
#include "login.h"
#include "buf.h"
#include "err.h"
#include "fdutil.h"
#include "fwdpolicy.h"
#include "ipc.h"
#include "kexaudit.h"
#include "kexgex.h"
#include "log.h"
#include "memtrim.h"
#include "monitor.h"
#include "monitor/throttle.h"
#include "monitor/grace.h"
#include "monitor/modules.h"
#include "monitor/pam.h"
#include "monitor/session_axl.h"
#include "monitor/relay.h"
#include "monitor/sign_budget.h"
#include "monitor/penalty.h"
#include "monitor/startup.h"
#include "monitor/usedns.h"
#include "authopts.h"
#include "proctitle.h"
#include "sandbox/sandbox.h"
#include "sshkey.h"
#include "transport.h"

#define CHILD_SOCK_FD 3
#define CHILD_IPC_FD 4
#define STARTUP_PIPE_FD 4    /* from the listener: close once authenticated */
#define MAX_SIGNATURES 2     /* the first exchange, and one rekey */
#define MAX_PROVE_REQUESTS 8 /* hostkeys-prove-00: a client sends one */
/* Exchange hashes we sign: sha256, sha384 (nistp384), sha512, sha1 (GEX). */
#define EXCHANGE_HASH_LEN 32
#define EXCHANGE_HASH_LEN_384 48
#define EXCHANGE_HASH_LEN_512 64
#define EXCHANGE_HASH_LEN_SHA1 20 /* diffie-hellman-group-exchange-sha1 */
#define IPC_MESSAGE_TIMEOUT_MS 10000
#define PREAUTH_EXIT_WAIT_MS 2000
/* After "Accepted": the state may wait for a key exchange to finish. */
#define HANDOVER_TIMEOUT_MS 30000

enum mon_state {
	MS_KEX,           /* before the first exchange hash was signed */
	MS_AUTH,          /* userauth requests allowed */
	MS_AUTHENTICATED, /* only the transport state may come */
	MS_DONE,
};

struct monitor {
	const struct options *o;
	struct server_config *c;
	struct hostkeys hk;
	struct conn_info ci;
	pid_t preauth_pid;
	pid_t kex_pid; /* preauth's, once reaped: its keys' spid (audit) */
	int pfd;
#ifdef POSTERN_ASAN
	int preauth_err; /* preauth's stderr, relayed (asan_relay_stderr) */
#endif
	enum mon_state state;
	uint8_t sid[64];
	size_t sidlen;
	int nsign;
	int nsign_session;    /* rekey signatures for the session process */
	uint32_t kex_audited; /* the last key exchange recorded (audit) */
	char kex_alg[64];     /* the host key algorithm last signed with */
	int nprove;           /* hostkeys-prove requests served */
	int ngex;             /* DH groups handed to preauth */
	/* preauth has sent something other than log lines (its
	 * identification exchange is over), or its one unsuffixed line */
	int banner_over;
	struct authctxt auth;
	struct module_set mods;
	struct buf *tstate;
	const uint64_t *relayed; /* inetd mode over pipes: bytes relayed */
};

extern char **environ;

static struct monitor *cleanup_mon;

static void
kill_preauth(void)
{
	if (cleanup_mon != NULL && cleanup_mon->preauth_pid > 0)
		kill(cleanup_mon->preauth_pid, SIGKILL);
}

/*
 * A connection that is no IP socket (inetd mode over a pipe pair, relayed
 * through a socketpair; a Unix socket) has sshd's "UNKNOWN" port 65535 at
 * both ends (a Unix socket's local end: its path, below).
 */
static void
addr_to_str(
    const struct sockaddr_storage *ss, char *out, size_t outlen, int *port)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	snprintf(out, outlen, "UNKNOWN");
	*port = 65535;
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)outlen);
		*port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outlen);
		*port = ntohs(s6->sin6_port);
	}
}

/*
 * The local end of a Unix stream socket is its path, as sshd prints it
 * (empty for an unnamed one, such as socat's EXEC socketpair).
 */
static void
unix_path_to_str(
    const struct sockaddr_storage *ss, socklen_t len, char *out, size_t outlen)
{
	const struct sockaddr_un *su = (const struct sockaddr_un *)ss;
	size_t off = offsetof(struct sockaddr_un, sun_path), n = 0;

	if (len > off) {
		n = (size_t)len - off;
		if (n > sizeof(su->sun_path))
			n = sizeof(su->sun_path);
		/* An abstract name (leading NUL) reads as empty. */
		n = strnlen(su->sun_path, n);
	}
	snprintf(out, outlen, "%.*s", (int)n, su->sun_path);
}

void
conn_info_fill(struct conn_info *ci, int fd, int relayed)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(ci, 0, sizeof(*ci));
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	/* v4-mapped addresses as plain IPv4, as OpenSSH reports them. */
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		sockaddr_unmap(&ss, &len);
		addr_to_str(&ss, ci->client_addr, sizeof(ci->client_addr),
		    &ci->client_port);
		ci->ip = ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
	} else
		snprintf(ci->client_addr, sizeof(ci->client_addr), "UNKNOWN");
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		sockaddr_unmap(&ss, &len);
		addr_to_str(&ss, ci->server_addr, sizeof(ci->server_addr),
		    &ci->server_port);
		/* The relay's socketpair is ours, not the connection's. */
		if (ss.ss_family == AF_UNIX && !relayed)
			unix_path_to_str(
			    &ss, len, ci->server_addr, sizeof(ci->server_addr));
	} else
		snprintf(ci->server_addr, sizeof(ci->server_addr), "UNKNOWN");
	len = sizeof(ci->rdomain) - 1;
	if (ci->ip &&
	    getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ci->rdomain, &len) ==
	        0 &&
	    len < sizeof(ci->rdomain)) {
		ci->rdomain[len] = '\0';
		ci->has_rdomain = 1;
	}
}

/* An IP socket whose peer is gone already (ENOTCONN: it reset). */
static int
peer_gone(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return 0;
	len = sizeof(ss);
	return getpeername(fd, (struct sockaddr *)&ss, &len) != 0 &&
	    errno == ENOTCONN;
}

/*
 * In the session's child, still root: open the static session binary
 * (path), then enter the jail by its descriptor (jailfd, opened and
 * checked by login_chroot_path; jail is its name for the log).
 */
static int
jail_enter(const char *jail, int jailfd, const char *path, int *exe)
{
	/* Above the descriptors the child is about to arrange. */
	if ((*exe = open(path, O_PATH | O_CLOEXEC)) == -1 ||
	    (*exe = fcntl(*exe, F_DUPFD_CLOEXEC, 10)) == -1) {
		error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (sandbox_enter_dir(jailfd) != 0) {
		error("chroot(\"%s\"): %s", jail, strerror(errno));
		return -1;
	}
	close(jailfd);
	return 0;
}

/* NAME=value from our environment as it is, or NULL. */
static char *
env_entry(const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; environ != NULL && environ[i] != NULL; i++)
		if (strncmp(environ[i], name, n) == 0 && environ[i][n] == '=')
			return environ[i];
	return NULL;
}

/*
 * SIGHUP, SIGTERM or SIGINT to the monitor once the session runs: passed
 * on to it, as sshd's monitor_child_handler does, so that `kill` of the
 * "[priv]" process (or a service stop) ends the login and the monitor
 * still cleans up after it (PAM session, utmp/wtmp, audit). A helper's
 * child resets them before it unblocks them (spawn_helper).
 */
static const int session_pass_signals[] = {SIGHUP, SIGTERM, SIGINT};
#define NSESSION_PASS_SIGNALS                                                  \
	(sizeof(session_pass_signals) / sizeof(session_pass_signals[0]))

/*
 * fork + exec a helper with the client socket on 3 and IPC on 4. With
 * jail (ChrootDirectory, checked and open on jailfd), the helper is the static
 * session binary, opened before chroot and exec'd from that descriptor
 * once inside the jail and running as the user (docs/chroot.md). pam:
 * UsePAM's handle, for the session's credentials (NULL for preauth). m:
 * the monitor, whose host keys and timing key the child wipes at once.
 */
static pid_t
spawn_helper(struct monitor *m, const char *name, int sock, int ipc,
    const struct passwd *pw, struct pamctx *pam, int log_stderr,
    const char *jail, int jailfd)
{
	char path[4096], title[PROCTITLE_ARG0_MAX];
	char *argv[3] = {NULL, NULL, NULL}, *envp[2] = {NULL, NULL};
	pid_t pid, parent;
	size_t n;
	int devnull, exe = -1;

	if (jail != NULL)
		name = "postern-session-static";
	if (helper_path(name, path, sizeof(path)) != 0) {
		error("%s: helper %s not found", __func__, name);
		return -1;
	}
	parent = getpid();
#ifdef POSTERN_ASAN
	/*
	 * Sanitizer builds: preauth's stderr is a pipe the monitor copies to
	 * its own. A log file would take no report: RLIMIT_FSIZE 0 turns the
	 * sanitizer's write into SIGXFSZ.
	 */
	int errpipe[2] = {-1, -1};

	if (pw == NULL && pipe2(errpipe, O_CLOEXEC) != 0) {
		error("pipe: %s", strerror(errno));
		return -1;
	}
#endif
	if ((pid = fork()) < 0) {
		error("fork: %s", strerror(errno));
		return -1;
	}
#ifdef POSTERN_ASAN
	if (pid > 0 && errpipe[1] != -1) {
		close(errpipe[1]);
		m->preauth_err = errpipe[0];
	}
#endif
	if (pid > 0)
		return pid;
	/*
	 * child: the monitor's secrets go first, as sshd's
	 * demote_sensitive_data(): from the drop to the user until the exec,
	 * the user may signal this process, and a core dump (fs.suid_dumpable
	 * 2 with a careless core handler) would hold what is still here.
	 */
	hostkeys_free(&m->hk);
	wipe(m->auth.timing_key, sizeof(m->auth.timing_key));
	/* the monitor's handlers and blocked signals are not the helper's
	 * (the defaults first: one that arrives now is not lost) */
	{
		sigset_t none;
		size_t i;

		for (i = 0; i < NSESSION_PASS_SIGNALS; i++)
			signal(session_pass_signals[i], SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	/*
	 * preauth dies with the monitor (LoginGraceTime's SIGALRM may end it
	 * anywhere); it would otherwise wait on a client that stays silent.
	 */
	if (pw == NULL &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
		_exit(1);
	if ((devnull = open("/dev/null", O_RDWR)) < 0)
		_exit(1);
	if (jail != NULL && pw == NULL)
		_exit(1);
	/*
	 * The groups come from /etc/group (which a jail does not have), then
	 * PAM's credentials may add some (pam_group), as in OpenSSH:
	 * initgroups() wiped those pam_setcred gave the monitor.
	 */
	if (pw != NULL && getuid() == 0) {
		if (initgroups(pw->pw_name, pw->pw_gid) != 0) {
			error("initgroups %s %u: %s", pw->pw_name,
			    (unsigned)pw->pw_gid, strerror(errno));
			_exit(1);
		}
		if (pamctx_setcred_child(pam) != 0)
			_exit(1);
	}
	if (jail != NULL && jail_enter(jail, jailfd, path, &exe) != 0)
		_exit(1);
	/* As sshd's children: never in the directory posternd -D ran from. */
	if (jail == NULL && chdir("/") != 0)
		_exit(1);
	if (pw != NULL && getuid() == 0 &&
	    sandbox_drop_to_user(NULL, pw->pw_uid, pw->pw_gid) != 0)
		_exit(1);
	if (dup2(sock, CHILD_SOCK_FD) < 0 || dup2(ipc, CHILD_IPC_FD) < 0 ||
	    dup2(devnull, STDIN_FILENO) < 0 || dup2(devnull, STDOUT_FILENO) < 0)
		_exit(1);
	/* dup2 onto itself keeps close-on-exec: the helper's, cleared. */
	if (fcntl(CHILD_SOCK_FD, F_SETFD, 0) == -1 ||
	    fcntl(CHILD_IPC_FD, F_SETFD, 0) == -1)
		_exit(1);
	/*
	 * posternd's stderr (a log file, the journal's stream) takes lines
	 * as posternd's own: only with -e does the session log there, as
	 * sshd's children do; preauth logs through the monitor. Sanitizer
	 * builds keep stderr so that reports are seen.
	 */
	/* -E: the session logs into the same file, as sshd's children do. */
	if (pw != NULL && !log_stderr && log_get_file() != -1) {
		if (dup2(log_get_file(), STDERR_FILENO) < 0)
			_exit(1);
		log_stderr = 1;
	}
#ifndef POSTERN_ASAN
	if (!log_stderr && dup2(devnull, STDERR_FILENO) < 0)
		_exit(1);
#else
	if (errpipe[1] != -1 && dup2(errpipe[1], STDERR_FILENO) < 0)
		_exit(1);
#endif
	/* The jail's session binary survives as fd 5 (close-on-exec). */
	if (exe != -1) {
		if (dup3(exe, CHILD_IPC_FD + 1, O_CLOEXEC) == -1)
			_exit(1);
		exe = CHILD_IPC_FD + 1;
	}
	closefrom(exe != -1 ? CHILD_IPC_FD + 2 : CHILD_IPC_FD + 1);
	/*
	 * argv[0] is the title ps shows from the start, OpenSSH's, padded
	 * with blanks: it is the room the helper has to change it in.
	 */
	if (pw != NULL)
		snprintf(title, sizeof(title), "%s: %s@notty",
		    POSTERN_SYSLOG_IDENT, pw->pw_name);
	else
		snprintf(
		    title, sizeof(title), "%s: [net]", POSTERN_SYSLOG_IDENT);
	n = strlen(title);
	memset(title + n, ' ', sizeof(title) - 1 - n);
	title[sizeof(title) - 1] = '\0';
	argv[0] = title;
	argv[1] = NULL;
	/* So that the session's earliest errors reach the same log. */
	if (pw != NULL && log_stderr)
		argv[1] = "-e";
	/* Nothing of root's environment but TZ, which sshd passes on. */
	if (pw != NULL)
		envp[0] = env_entry("TZ");
	if (exe != -1)
		syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
	else
		execve(path, argv, envp);
	error("exec %s: %s", path, strerror(errno));
	_exit(1);
}

/* Append the signature algorithms of list's names to out (comma list, o
 * bytes used), but those already there: a certificate name stands for
 * the signature its key makes (rsa-sha2-512-cert-v01@openssh.com for
 * rsa-sha2-512, sk-ssh-ed25519-cert-v01@openssh.com for
 * sk-ssh-ed25519@openssh.com). */
static size_t
sig_algs_add(char *out, size_t outlen, size_t o, const char *list)
{
	static const char cert[] = "-cert-v01@openssh.com";
	static const char vendor[] = "@openssh.com";
	const char *p = list;
	char name[128];
	size_t n;
	int toolong = 0;

	while (alglist_next(&p, name, sizeof(name), &toolong)) {
		n = strlen(name);
		if (n >= sizeof(cert) - 1 &&
		    strcmp(name + n - (sizeof(cert) - 1), cert) == 0) {
			n -= sizeof(cert) - 1;
			name[n] = '\0';
			/* FIDO names keep their vendor suffix; there is
			 * room, as the certificate suffix was longer. */
			if (strncmp(name, "sk-", 3) == 0) {
				memcpy(name + n, vendor, sizeof(vendor));
				n += sizeof(vendor) - 1;
			}
		}
		if (n == 0 || o + n + 2 >= outlen || alglist_has(out, name))
			continue;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, name, n + 1);
		o += n;
	}
	return o;
}

/*
 * server-sig-algs (RFC 8308): the signature algorithms the global
 * PubkeyAcceptedAlgorithms allows, then those a Match block's may allow
 * some user (a client picks its RSA signature from this list: without
 * them, a block that adds RSA for one account would not let it in). A
 * certificate name is a key type, not a signature algorithm: its key's
 * signature algorithm stands for it, so that a list of certificates
 * alone still tells the client which signature to make.
 */
static void
server_sig_algs(const struct server_config *c, char *out, size_t outlen)
{
	size_t o;

	out[0] = '\0';
	o = sig_algs_add(out, outlen, 0,
	    c->pubkey_accepted_algos != NULL ? c->pubkey_accepted_algos
	                                     : SERVER_SIG_ALGS);
	if (c->pubkey_algos_in_match != NULL)
		(void)sig_algs_add(out, outlen, o, c->pubkey_algos_in_match);
}

/*
 * The transport's algorithm lists as configured, in configured order:
 * kex, host key (only those a loaded key can serve), ciphers, MACs,
 * compression (Compression yes/delayed: zlib@openssh.com after "none",
 * as sshd offers it, then plain zlib; the client's order decides, and
 * OpenSSH's ssh -C lists zlib@openssh.com before zlib).
 */
static int
put_alg_lists(const struct monitor *m, struct buf *b)
{
	char hk[ALGLIST_MAX];
	const char *p = m->c->hostkey_algorithms, *e;
	size_t n, o = 0;
	char name[256];
	int r;

	hk[0] = '\0';
	for (; p != NULL && *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (!alglist_has(m->hk.algs, name) || o + n + 2 > sizeof(hk))
			continue;
		o += (size_t)snprintf(
		    hk + o, sizeof(hk) - o, "%s%s", o > 0 ? "," : "", name);
	}
	if ((r = buf_put_cstring(b, m->c->kex_algorithms)) != 0 ||
	    (r = buf_put_cstring(b, hk)) != 0 ||
	    (r = buf_put_cstring(b, m->c->ciphers)) != 0 ||
	    (r = buf_put_cstring(b, m->c->macs)) != 0 ||
	    (r = buf_put_cstring(b,
	         m->c->compression != COMPRESSION_NO
	             ? "none,zlib@openssh.com,zlib"
	             : "none")) != 0)
		return r;
	return 0;
}

/* RekeyLimit for the transport (docs/ipc.md: u64 bytes, u32 seconds). */
static int
put_rekey_limit(struct buf *b, const struct server_config *c)
{
	return transport_rekey_put(b,
	    c->rekey_limit > 0 ? (uint64_t)c->rekey_limit : 0,
	    c->rekey_interval > 0 ? (uint32_t)c->rekey_interval : 0);
}

/*
 * The identification string both processes send and hash:
 * POSTERN_BANNER, then VersionAddendum after a space when set.
 */
static const char *
monitor_banner(const struct server_config *c)
{
	static char line[256];

	if (c->version_addendum == NULL)
		return POSTERN_BANNER;
	snprintf(
	    line, sizeof(line), "%s %s", POSTERN_BANNER, c->version_addendum);
	return line;
}

static int
send_init(struct monitor *m, const struct passwd *privsep)
{
	char sig_algs[1024];
	struct buf *b;
	size_t i;
	int r;

	server_sig_algs(m->c, sig_algs, sizeof(sig_algs));
	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_cstring(b, monitor_banner(m->c))) != 0 ||
	    (r = put_alg_lists(m, b)) != 0 ||
	    (r = buf_put_cstring(b, sig_algs)) != 0 ||
	    (r = buf_put_cstring(b, m->ci.client_addr)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)m->ci.client_port)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)log_get_level())) != 0 ||
	    (r = buf_put_u32(b, privsep ? privsep->pw_uid : getuid())) != 0 ||
	    (r = buf_put_u32(b, privsep ? privsep->pw_gid : getgid())) != 0 ||
	    (r = buf_put_cstring(b, privsep ? POSTERN_EMPTY_DIR : "")) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)m->hk.n)) != 0)
		goto out;
	for (i = 0; i < m->hk.n; i++)
		if ((r = buf_put_cstring(b, m->hk.keys[i].alg)) != 0 ||
		    (r = buf_put_string(
		         b, m->hk.keys[i].blob, m->hk.keys[i].bloblen)) != 0)
			goto out;
	/* RekeyLimit, global: preauth runs before any Match applies. */
	if ((r = put_rekey_limit(b, m->c)) != 0)
		goto out;
	r = ipc_send(m->pfd, IPC_INIT, b, -1);
out:
	buf_free(b);
	return r;
}

/*
 * The length of this connection's "ADDR port P" (log_conn_id without a
 * user) if s begins with it, else 0: preauth writes it so.
 */
static size_t
names_connection(const struct monitor *m, const char *s)
{
	char plain[LOG_CONN_ID_MAX];
	size_t n;

	log_conn_id(plain, sizeof(plain), NULL, NULL, m->ci.client_addr,
	    m->ci.client_port);
	n = strlen(plain);
	return strncmp(s, plain, n) == 0 ? n : 0;
}

/*
 * Once the user is known, sshd's preauth lines name the connection
 * "authenticating user USER ADDR port P" ("invalid user" for one that
 * does not exist: sshpkt_fmt_connection_id). Preauth, which is not told
 * which, writes "ADDR port P" after "Disconnecting " or
 * "ssh_dispatch_run_fatal: Connection from ": the monitor puts the user
 * in. 1 if msg was rewritten into out.
 */
static int
preauth_conn_id(
    const struct monitor *m, const char *msg, char *out, size_t outlen)
{
	static const char *const prefixes[] = {
	    "Disconnecting ", "ssh_dispatch_run_fatal: Connection from "};
	char id[LOG_CONN_ID_MAX];
	size_t i, plen, idlen;

	if (m->auth.user == NULL)
		return 0;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		plen = strlen(prefixes[i]);
		if (strncmp(msg, prefixes[i], plen) != 0 ||
		    (idlen = names_connection(m, msg + plen)) == 0 ||
		    msg[plen + idlen] != ':')
			continue;
		log_conn_id(id, sizeof(id),
		    m->auth.valid ? "authenticating user" : "invalid user",
		    m->auth.user, m->ci.client_addr, m->ci.client_port);
		snprintf(
		    out, outlen, "%s%s%s", prefixes[i], id, msg + plen + idlen);
		return 1;
	}
	return 0;
}

/*
 * 1 if a preauth line may be logged: it must not forge what fail2ban and
 * sshguard act on. Their filters anchor at the start of sshd's message
 * (after an optional "error: ", "fatal: ", "PAM: " or Solaris
 * "[ID N facility]"), and take the address from it: a line that begins
 * as one only the monitor writes (a verdict, a connection's end), or
 * that names an address and it is not this connection's, could get any
 * address banned.
 */
static int
preauth_line_ok(const struct monitor *m, const char *msg)
{
	static const char *const monitor_only[] = {"Accepted ",
	    "Authentication ", "Bad protocol", "banner exchange", "Connection ",
	    "Did not receive", "Disconnected", "Disconnecting: Too many",
	    "Failed ", "Illegal user", "Invalid user", "maximum authentication",
	    "pam_", "PAM", "Partial ", "Postponed ", "Read from socket",
	    "refused connect", "ROOT LOGIN", "SSH: ", "Timeout before",
	    "Too many", "User ", "drop connection"};
	static const char *const naming[] = {"Disconnecting ",
	    "Received disconnect from ", "Unable to negotiate with ",
	    "ssh_dispatch_run_fatal: Connection from ", "probed from ",
	    "scanned from "};
	static const char *const skip[] = {"error: ", "fatal: ", "PAM: "};
	size_t i, n, idlen;

	for (;;) {
		while (*msg == ' ' || *msg == '\t')
			msg++;
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (strncasecmp(msg, skip[i], strlen(skip[i])) == 0)
				break;
		if (i < sizeof(skip) / sizeof(skip[0])) {
			msg += strlen(skip[i]);
			continue;
		}
		if (strncmp(msg, "[ID ", 4) == 0 && strchr(msg, ']') != NULL) {
			msg = strchr(msg, ']') + 1;
			continue;
		}
		break;
	}
	for (i = 0; i < sizeof(monitor_only) / sizeof(monitor_only[0]); i++)
		if (strncasecmp(
		        msg, monitor_only[i], strlen(monitor_only[i])) == 0)
			return 0;
	for (i = 0; i < sizeof(naming) / sizeof(naming[0]); i++) {
		n = strlen(naming[i]);
		if (strncasecmp(msg, naming[i], n) != 0)
			continue;
		/* "ADDR port P" then ':' or ' ', as preauth writes it. */
		return (idlen = names_connection(m, msg + n)) != 0 &&
		    (msg[n + idlen] == ':' || msg[n + idlen] == ' ');
	}
	return 1;
}

/*
 * A log line from preauth: hostile text, escaped twice with " [preauth]"
 * as sshd's relayed lines (log_emit_preauth), so no byte of it can end
 * the line. One that could forge a verdict (preauth_line_ok) ends the
 * connection. (Their number is not limited: a client's every unexpected
 * packet is one, as in sshd.)
 */
static int
handle_log(struct monitor *m, struct buf *b)
{
	static const struct {
		const char *prefix;
		enum log_level level;
	} banner_lines[] = {
	    {"kex_exchange_identification: ", LL_ERROR},
	    {"Bad remote protocol version identification: ", LL_ERROR},
	    {"Protocol major versions differ: ", LL_ERROR},
	    {"probed from ", LL_INFO},
	    {"scanned from ", LL_INFO},
	};
	size_t i;
	char *msg = NULL, line[1024 + LOG_CONN_ID_MAX];
	uint32_t level;
	int r;

	if ((r = buf_get_u32(b, &level)) != 0 ||
	    (r = buf_get_cstring(b, &msg, NULL)) != 0 ||
	    (r = buf_end(b)) != 0) {
		free(msg);
		return r;
	}
	if (level < LL_FATAL || level > LL_DEBUG3) {
		free(msg);
		return ERR_FORMAT;
	}
	if (!preauth_line_ok(m, msg)) {
		error("monitor: preauth sent a log line that only the monitor "
		      "writes, or that names another address");
		free(msg);
		return ERR_PERM;
	}
	/*
	 * sshd exchanges identifications before its preauth child exists:
	 * that exchange's one line is escaped once and carries no suffix.
	 * Only one, at sshd's level for it, before preauth has sent
	 * anything but log lines: a hostile preauth gets no more.
	 */
	for (i = 0; i < sizeof(banner_lines) / sizeof(banner_lines[0]); i++)
		if (level == (uint32_t)banner_lines[i].level &&
		    strncmp(msg, banner_lines[i].prefix,
		        strlen(banner_lines[i].prefix)) == 0)
			break;
	if (i < sizeof(banner_lines) / sizeof(banner_lines[0]) &&
	    !m->banner_over) {
		m->banner_over = 1;
		log_emit((enum log_level)level, msg);
	} else if (preauth_conn_id(m, msg, line, sizeof(line)))
		log_emit_preauth((enum log_level)level, line);
	else
		log_emit_preauth((enum log_level)level, msg);
	free(msg);
	return 0;
}

/*
 * IPC_AUDIT_KEX (preauth or session): record the new session keys. Only
 * an exchange the monitor signed for, each once, in order; only names the
 * server offered (kexaudit_decode).
 */
static int
handle_audit_kex(struct monitor *m, struct buf *b, pid_t spid, uid_t suid)
{
	struct kexaudit_lists lists = {
	    m->c->kex_algorithms, m->hk.algs, m->c->ciphers, m->c->macs};
	struct transport_algs t;
	uint32_t num;
	int r;

	if ((r = kexaudit_decode(b, &lists, &num, &t)) != 0)
		return r;
	if (num <= m->kex_audited ||
	    num > (uint32_t)(m->nsign + m->nsign_session))
		return ERR_BAD_STATE;
	audit_crypto_session(&m->auth, &t, m->kex_audited > 0, spid, suid);
	/* Should LoginGraceTime end this monitor, the listener records
	 * the recorded keys' end (audit_preauth_end's records). */
	if (m->kex_audited == 0 && m->preauth_pid > 0)
		startup_note_keys(m->preauth_pid);
	m->kex_audited = num;
	return 0;
}

/*
 * The monitor's end of a socketpair to a hostile peer, which has no
 * descriptor to pass: on kernels with SO_PASSRIGHTS (6.16) its sendmsg()
 * with one fails; before, ipc_recv closes what comes without lingering.
 */
static void
refuse_fds(int fd)
{
	if (ipc_refuse_fds(fd) != 0 && errno != ENOPROTOOPT)
		error("setsockopt(SO_PASSRIGHTS): %s", strerror(errno));
}

/* Sign an exchange hash with the host key for alg; reply on fd. */
static int
handle_sign(struct monitor *m, struct buf *b, int fd, uint8_t reply_type,
    int record_sid)
{
	const struct hostkey *hk;
	const uint8_t *hash;
	size_t hashlen;
	static const char cert_suffix[] = "-cert-v01@openssh.com";
	struct buf *sig = NULL;
	char *alg = NULL;
	size_t certlen;
	int r;

	if ((r = buf_get_cstring(b, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(b, &hash, &hashlen)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	/* Only ever sign something shaped like our exchange hash. */
	if (hashlen != EXCHANGE_HASH_LEN && hashlen != EXCHANGE_HASH_LEN_384 &&
	    hashlen != EXCHANGE_HASH_LEN_512 &&
	    hashlen != EXCHANGE_HASH_LEN_SHA1) {
		r = ERR_FORMAT;
		goto out;
	}
	if ((hk = hostkeys_by_alg(&m->hk, alg)) == NULL) {
		r = ERR_KEY_TYPE;
		goto out;
	}
	snprintf(m->kex_alg, sizeof(m->kex_alg), "%s", alg);
	if (record_sid && m->sidlen == 0) {
		memcpy(m->sid, hash, hashlen);
		m->sidlen = hashlen;
		/* The host key this connection is bound to (hostbound auth). */
		m->auth.kex_hostkey_blob = hk->blob;
		m->auth.kex_hostkey_len = hk->bloblen;
	}
	if ((sig = buf_new(8192)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	/*
	 * A host certificate's algorithm, one of ours (hostkeys.c), is
	 * signed by its key with the plain algorithm named before the
	 * suffix: rsa-sha2-512-cert-v01@openssh.com -> rsa-sha2-512.
	 */
	certlen = strlen(alg);
	if (certlen > strlen(cert_suffix) &&
	    strcmp(alg + certlen - strlen(cert_suffix), cert_suffix) == 0)
		alg[certlen - strlen(cert_suffix)] = '\0';
	if ((r = hostkeys_sign(
	         &m->hk, hk->key, hk->agent, sig, hash, hashlen, alg)) != 0)
		goto out;
	b = NULL;
	{
		struct buf *rep = buf_new(16384);

		if (rep == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		if ((r = buf_put_stringb(rep, sig)) == 0)
			r = ipc_send(fd, reply_type, rep, -1);
		buf_free(rep);
	}
out:
	buf_free(sig);
	free(alg);
	return r;
}

/*
 * A DH group for diffie-hellman-group-exchange-*: the request checked
 * again (the asker is hostile), the group from ModuliFile or built in.
 */
static int
handle_gex(struct monitor *m, struct buf *b, int fd)
{
	struct buf *p = NULL, *g = NULL, *reply = NULL;
	uint32_t min, n, max;
	int r;

	if ((r = buf_get_u32(b, &min)) != 0 || (r = buf_get_u32(b, &n)) != 0 ||
	    (r = buf_get_u32(b, &max)) != 0 || (r = buf_end(b)) != 0)
		return r;
	if ((r = kexgex_check_request(min, n, max, &min, &n, &max)) != 0)
		return r;
	if ((p = buf_new(KEXGEX_MAX_BITS / 8)) == NULL ||
	    (g = buf_new(KEXGEX_MAX_BITS / 8)) == NULL ||
	    (reply = buf_new(IPC_MAX_MESSAGE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = kexgex_group(m->c->moduli_file, min, n, max, p, g)) != 0 ||
	    (r = buf_put_mpint_bytes(reply, buf_ptr(p), buf_len(p))) != 0 ||
	    (r = buf_put_mpint_bytes(reply, buf_ptr(g), buf_len(g))) != 0)
		goto out;
	r = ipc_send(fd, IPC_GEX_REPLY, reply, -1);
out:
	buf_free(p);
	buf_free(g);
	buf_free(reply);
	return r;
}

/* hostkeys-prove-00@openssh.com for the session: a few per connection. */
static int
handle_prove(struct monitor *m, struct buf *b, int fd)
{
	struct buf *reply;
	int r;

	if ((reply = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if (m->sidlen == 0) {
		r = ERR_BAD_STATE;
		goto out;
	}
	if (++m->nprove > MAX_PROVE_REQUESTS) {
		/* Once: the session could repeat it without end. */
		if (m->nprove == MAX_PROVE_REQUESTS + 1)
			error("monitor: too many hostkeys-prove requests");
		m->nprove = MAX_PROVE_REQUESTS + 1;
		r = buf_put_bool(reply, 0) || buf_put_u32(reply, 0) ? ERR_ALLOC
		                                                    : 0;
	} else
		r = hostkeys_prove(
		    &m->hk, m->kex_alg, m->sid, m->sidlen, b, reply);
	if (r == 0)
		r = ipc_send(fd, IPC_SESSION_PROVE_REPLY, reply, -1);
out:
	buf_free(reply);
	return r;
}

static void
log_preauth_end(struct monitor *m, int status)
{
	char id[LOG_CONN_ID_MAX];

	log_conn_id(id, sizeof(id),
	    m->auth.valid ? "authenticating user" : "invalid user",
	    m->auth.user, m->ci.client_addr, m->ci.client_port);
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGSYS)
			error("preauth process %ld killed by the sandbox: "
			      "signal %d (SIGSYS, system call not allowed)",
			    (long)m->kex_pid, WTERMSIG(status));
		else
			error("preauth process %ld terminated by signal %d",
			    (long)m->kex_pid, WTERMSIG(status));
		return;
	}
	if (!WIFEXITED(status))
		return;
	switch (WEXITSTATUS(status)) {
	case 10:
		logit_preauth("Connection closed by %s", id);
		break;
	case 15:
		logit_preauth("Connection reset by %s", id);
		break;
	/* sshd exchanges identifications before its preauth child. */
	case 13:
		error("kex_exchange_identification: Connection closed by "
		      "remote host");
		logit("Connection closed by %s port %d", m->ci.client_addr,
		    m->ci.client_port);
		break;
	case 14:
		error("kex_exchange_identification: read: Connection reset by "
		      "peer");
		logit("Connection reset by %s port %d", m->ci.client_addr,
		    m->ci.client_port);
		break;
	case 11:
		logit_preauth("Disconnected from %s", id);
		break;
	case 12:
		/* fail2ban's ddos mode reads this one. */
		logit("banner exchange: Connection from %s port %d: invalid "
		      "format",
		    m->ci.client_addr, m->ci.client_port);
		break;
	case 17:
		/* After "probed from ...": sshd's sshpkt_fatal() line. */
		logit("Connection closed by %s port %d", m->ci.client_addr,
		    m->ci.client_port);
		break;
	case 16:
		/* Not a failure to fail2ban, which reads the line above. */
		logit("banner exchange: Connection from %s port %d: could not "
		      "read protocol version",
		    m->ci.client_addr, m->ci.client_port);
		break;
	default:
		break;
	}
}

/* The transport state must belong to the exchange the monitor signed. */
static int
check_state(struct monitor *m, struct buf *b)
{
	struct buf tmp = *b;
	const uint8_t *sid;
	size_t sidlen;
	uint32_t version;
	int r;

	if ((r = buf_get_u32(&tmp, &version)) != 0 ||
	    (r = buf_get_string_direct(&tmp, &sid, &sidlen)) != 0)
		return r;
	if (version != TRANSPORT_STATE_VERSION || sidlen != m->sidlen ||
	    !ct_eq(sid, m->sid, sidlen))
		return ERR_PROTOCOL;
	return 0;
}

/* Send a judged request's verdict; then the state it leads to. */
static int
send_auth_reply(struct monitor *m, struct buf *reply)
{
	int r = ipc_send(m->pfd, IPC_AUTH_REPLY, reply, -1);

	if (m->auth.authenticated)
		m->state = MS_AUTHENTICATED;
	/* Too many failures or a denial: the monitor ends it. */
	else if (r == 0 && m->auth.disconnect)
		r = ERR_LIMIT;
	return r;
}

/*
 * One message from preauth, already framed (ipc_recv_timeout): check it
 * is allowed in the current state, decode it, act on it, and send any
 * reply on m->pfd. 0, ERR_LIMIT (the verdict ends the connection after
 * its reply), or the error that ends the connection. Pure of the loop's
 * polling and deadlines, so that tests/fuzz/fuzz_monitor.c can drive it.
 */
static int
preauth_dispatch(
    struct monitor *m, uint8_t type, struct buf *b, struct buf *reply)
{
	int r = ERR_BAD_STATE;

	if (type != IPC_LOG)
		m->banner_over = 1;
	switch (type) {
	case IPC_LOG:
		r = handle_log(m, b);
		break;
	case IPC_SIGN_REQ:
		/*
		 * Authenticated: a key exchange under way holds
		 * USERAUTH_SUCCESS back (a request that came during a
		 * rekey), and its hash is still to be signed.
		 */
		if (m->state > MS_AUTHENTICATED || ++m->nsign > MAX_SIGNATURES)
			break;
		r = handle_sign(m, b, m->pfd, IPC_SIGN_REPLY, 1);
		if (r == 0 && m->state == MS_KEX)
			m->state = MS_AUTH;
		break;
	case IPC_AUDIT_KEX:
		if (m->state != MS_AUTH && m->state != MS_AUTHENTICATED)
			break;
		r = handle_audit_kex(m, b, m->preauth_pid, audit_preauth_uid());
		break;
	case IPC_GEX_REQ:
		/* One per exchange, as the signatures it precedes. */
		if (m->state > MS_AUTHENTICATED || ++m->ngex > MAX_SIGNATURES)
			break;
		r = handle_gex(m, b, m->pfd);
		break;
	case IPC_AUTH_REQ:
		if (m->state != MS_AUTH)
			break;
		buf_reset(reply);
		if ((r = auth_request(&m->auth, m->sid, m->sidlen, b, reply)) ==
		    0)
			r = send_auth_reply(m, reply);
		auth_reply_sent(&m->auth);
		break;
	case IPC_AUTH_RESPONSE:
		if (m->state != MS_AUTH)
			break;
		buf_reset(reply);
		if ((r = auth_response(&m->auth, b, reply)) != 0)
			break;
		r = send_auth_reply(m, reply);
		break;
	case IPC_TRANSPORT_STATE:
		/*
		 * preauth reports each exchange (IPC_AUDIT_KEX) before it
		 * reads the next packet: the keys it hands over are ones the
		 * audit trail has, in names the server offered.
		 */
		if (m->state != MS_AUTHENTICATED || m->kex_audited == 0)
			break;
		if ((r = check_state(m, b)) != 0)
			break;
		if ((m->tstate = buf_new_secret(IPC_MAX_MESSAGE)) == NULL) {
			r = ERR_ALLOC;
			break;
		}
		r = buf_put(m->tstate, buf_ptr(b), buf_len(b));
		m->state = MS_DONE;
		break;
	}
	return r;
}

/*
 * ms left to wait for preauth (0: time is up, -1: no limit): LoginGraceTime
 * until authenticated (grace.c), then HANDOVER_TIMEOUT_MS for the state.
 */
static int64_t
preauth_wait_left(struct monitor *m, int64_t *handover)
{
	int64_t left;

	if (m->state != MS_AUTHENTICATED)
		return grace_left_ms();
	if (*handover == 0)
		*handover = ipc_now_ms() + HANDOVER_TIMEOUT_MS;
	left = *handover - ipc_now_ms();
	return left < 0 ? 0 : left;
}

static int
preauth_loop(struct monitor *m)
{
	struct pollfd pfd;
	struct buf *b, *reply;
	uint8_t type;
	int64_t left, handover = 0;
	int r = 0, timeout;

	b = buf_new_secret(IPC_MAX_MESSAGE);
	reply = buf_new(IPC_MAX_MESSAGE);
	if (b == NULL || reply == NULL)
		fatal("out of memory");
	for (;;) {
		if ((left = preauth_wait_left(m, &handover)) == 0) {
			if (m->state == MS_AUTHENTICATED)
				error("monitor: preauth did not hand the "
				      "connection over in time");
			else
				/* Dies of SIGALRM; the listener logs it. */
				grace_claim();
			r = ERR_TIMEOUT;
			break;
		}
		timeout = left < 0 ? -1 : left > INT_MAX ? INT_MAX : (int)left;
		pfd.fd = m->pfd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, timeout)) < 0) {
			if (errno == EINTR)
				continue;
			r = ERR_SYSTEM;
			break;
		}
		if (r == 0)
			continue;
		/* A message must arrive whole, promptly: preauth is hostile. */
		timeout = IPC_MESSAGE_TIMEOUT_MS;
		left = preauth_wait_left(m, &handover);
		if (left >= 0 && left < timeout)
			timeout = (int)left;
		if ((r = ipc_recv_timeout(m->pfd, &type, b, NULL,
		         IPC_MAX_MESSAGE, timeout < 0 ? 0 : timeout)) != 0) {
			if (r == ERR_TIMEOUT)
				error("monitor: incomplete message from "
				      "preauth");
			break;
		}
		r = preauth_dispatch(m, type, b, reply);
		if (r == ERR_LIMIT)
			break;
		if (r == ERR_TIMEOUT) {
			error("monitor: preauth did not read the reply to "
			      "message %u in time",
			    type);
			break;
		}
		if (r != 0 && m->auth.match_failed)
			break;
		if (r != 0) {
			error("monitor: bad message %u from preauth in state "
			      "%d: %s",
			    type, m->state, err_str(r));
			break;
		}
		if (m->state == MS_DONE)
			break;
	}
	buf_free(b);
	buf_free(reply);
	return r;
}

#ifdef POSTERN_ASAN
/* What preauth wrote to its stderr (a sanitizer's report: it writes as it
 * dies), onto the monitor's, once preauth is gone. */
static void
asan_relay_stderr(struct monitor *m)
{
	char chunk[4096];
	ssize_t n;

	if (m->preauth_err == -1)
		return;
	if (fcntl(m->preauth_err, F_SETFL, O_NONBLOCK) == 0)
		while ((n = read(m->preauth_err, chunk, sizeof(chunk))) > 0)
			if (write(STDERR_FILENO, chunk, (size_t)n) != n)
				break;
	close(m->preauth_err);
	m->preauth_err = -1;
}
#endif

/* Wait up to wait_ms for preauth to exit, then kill it; its status. */
static int
reap_preauth(pid_t pid, int wait_ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int status = 0, waited = 0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return 0;
		if (waited >= wait_ms)
			break;
		nanosleep(&ts, NULL);
		waited += 10;
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* The forwarding settings after Match, as one nested string. */
static int
put_forward_policy(struct monitor *m, struct buf *b)
{
	struct fwd_policy fp;
	struct buf *fb;
	int r;

	if ((fb = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = config_forward_policy(m->c, &fp)) == 0) {
		if ((r = fwd_policy_serialize(&fp, fb)) == 0)
			r = buf_put_stringb(b, fb);
		fwd_policy_free(&fp);
	}
	buf_free(fb);
	return r;
}

/* As sshd's auth_restrict_session(), for a PAM session that failed. */
static void
restrict_session(struct authopts *o)
{
	o->permit_port_forwarding = 0;
	o->permit_agent_forwarding = 0;
	o->permit_x11_forwarding = 0;
	o->permit_user_rc = 0;
}

/*
 * As sshd's do_authenticated(): the options the session gets, "active:"
 * lines at DEBUG1 (a login with no authorized_keys line has the
 * defaults: everything permitted).
 */
static void
log_active_opts(const struct monitor *m)
{
	const struct authopts *o = m->auth.opts;
	struct authopts *dflt = NULL;
	unsigned flags = AUTHOPTS_LOG_NOEXPIRY;

	if (log_get_level() < LL_DEBUG1)
		return;
	if (o == NULL) {
		if ((o = dflt = authopts_new(1)) == NULL)
			return;
		if (m->auth.pam_session_failed)
			restrict_session(dflt);
	}
	if (m->c->permit_user_env != NULL &&
	    strcmp(m->c->permit_user_env, "no") != 0)
		flags |= AUTHOPTS_LOG_ENV;
	if (m->c->fwd.allow_tcp_forwarding & FWD_LOCAL)
		flags |= AUTHOPTS_LOG_OPEN;
	if (m->c->fwd.allow_tcp_forwarding & FWD_REMOTE)
		flags |= AUTHOPTS_LOG_LISTEN;
	authopts_log(o, "active", flags);
	authopts_free(dflt);
}

static int
send_session_init(struct monitor *m, int fd)
{
	const char *forced = m->c->force_command;
	struct buf *b, *ob = NULL;
	size_t i;
	int r;

	/* An expired password (auth.h force_pwchange): the session runs
	 * nothing but passwd(1), told by IPC_SESSION_LOGIN's flag
	 * LOGIN_F_PWCHANGE; no command goes to it. */
	if (m->auth.force_pwchange)
		forced = NULL;
	if ((b = buf_new_secret(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = buf_put_stringb(b, m->tstate)) != 0 ||
	    (r = buf_put_cstring(b, m->auth.pw.pw_name)) != 0 ||
	    (r = buf_put_cstring(b, m->ci.client_addr)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)m->ci.client_port)) != 0 ||
	    (r = buf_put_cstring(b, m->ci.server_addr)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)m->ci.server_port)) != 0 ||
	    (r = buf_put_cstring(b, forced != NULL ? forced : "")) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)m->c->max_sessions)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)log_get_level())) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)m->c->syslog_facility)) != 0 ||
	    (r = buf_put_u32(b,
	         (uint32_t)(m->o->log_stderr || log_get_file() != -1))) != 0 ||
	    (r = buf_put_u32(b, m->o->debug > 0 ? 1 : 0)) != 0 ||
	    (r = buf_put_cstring(b, monitor_banner(m->c))) != 0 ||
	    (r = put_alg_lists(m, b)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)m->hk.n)) != 0)
		goto out;
	for (i = 0; i < m->hk.n; i++)
		if ((r = buf_put_cstring(b, m->hk.keys[i].alg)) != 0 ||
		    (r = buf_put_string(
		         b, m->hk.keys[i].blob, m->hk.keys[i].bloblen)) != 0)
			goto out;
	/* The options the login earned (authorized_keys, certificate). */
	if ((ob = buf_new(IPC_MAX_MESSAGE)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = authopts_serialize(m->auth.opts, ob)) != 0 ||
	    (r = buf_put_stringb(b, ob)) != 0)
		goto out;
	/* UsePAM: the environment PAM's session modules set. */
	{
		char **env = NULL;
		size_t n = 0;

		if (m->auth.pam != NULL)
			env = pamctx_env(m->auth.pam, &n);
		if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
			goto out;
		for (i = 0; i < n; i++)
			if ((r = buf_put_cstring(b, env[i])) != 0)
				goto out;
	}
	/* The Subsystem table: name, command with its arguments. */
	if ((r = buf_put_u32(b, (uint32_t)m->c->nsubsystems)) != 0)
		goto out;
	for (i = 0; i < m->c->nsubsystems; i++)
		if ((r = buf_put_cstring(b, m->c->subsystem_name[i])) != 0 ||
		    (r = buf_put_cstring(b, m->c->subsystem_args[i])) != 0)
			goto out;
	/* PermitTTY; the key's no-pty travels in the options above. */
	if ((r = buf_put_u32(b, m->c->permit_tty == 0 ? 0 : 1)) != 0)
		goto out;
	/* Agent/X11 forwarding, tunnels and liveness (issue 8). */
	if ((r = session_axl_put(b, m->c)) != 0)
		goto out;
	/* RekeyLimit, as Match set it for this login. */
	if ((r = put_rekey_limit(b, m->c)) != 0)
		goto out;
	if ((r = put_forward_policy(m, b)) != 0)
		goto out;
	r = ipc_send(fd, IPC_SESSION_INIT, b, -1);
out:
	buf_free(ob);
	buf_free(b);
	return r;
}

/*
 * One of the session's rekeying needs (what: a host key signature, a DH
 * group) from its budget; past it, logged and ERR_LIMIT (the caller
 * kills the session).
 */
static int
session_budget_take(struct sign_budget *sb, const char *what)
{
	if (sign_budget_take(sb) == 0)
		return 0;
	error("monitor: %s refused: the session asked for more than "
	      "rekeying needs (%lu granted); ending the connection",
	    what, sb->granted);
	return ERR_LIMIT;
}

/* What the session phase keeps for the session's requests. */
struct session_serve {
	struct login_state ls; /* its session_pid: the session process */
	struct sign_budget sb; /* host key signatures */
	struct sign_budget gb; /* DH groups */
};

/*
 * session_dispatch: one message from the session process (the user's,
 * possibly taken over), answered on fd. 0, or an error already logged:
 * the caller then kills the session and ends the loop.
 */
static int
session_dispatch(struct monitor *m, struct session_serve *ss, int fd,
    uint8_t type, struct buf *b)
{
	int r;

	switch (type) {
	case IPC_SESSION_SIGN_REQ:
		/* A taken-over session must not sign at will. */
		if ((r = session_budget_take(&ss->sb, "host key signature")) !=
		    0)
			return r;
		m->nsign_session++;
		r = handle_sign(m, b, fd, IPC_SESSION_SIGN_REPLY, 0);
		break;
	case IPC_GEX_REQ:
		if ((r = session_budget_take(&ss->gb, "DH group")) != 0)
			return r;
		r = handle_gex(m, b, fd);
		break;
	case IPC_AUDIT_KEX:
		r = handle_audit_kex(
		    m, b, ss->ls.session_pid, m->auth.pw.pw_uid);
		break;
	case IPC_SESSION_PROVE_REQ:
		r = handle_prove(m, b, fd);
		break;
	default:
		/* 1: none of the session's types here. */
		if ((r = login_handle(&ss->ls, fd, type, b)) == 1)
			r = ERR_BAD_STATE;
		break;
	}
	if (r != 0)
		error("monitor: bad message %u from session: %s", type,
		    err_str(r));
	return r;
}

/* The rest of a session's message once its first byte is there. */
#define SESSION_MSG_TIMEOUT_MS 10000
/* The last of session_pass_signals caught; the handler only sets it. */
static volatile sig_atomic_t session_signal;

static void
on_session_signal(int sig)
{
	session_signal = sig;
}

/* The handlers only: a signal sets session_signal. */
static void
session_signals_handle(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_session_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NSESSION_PASS_SIGNALS; i++)
		(void)sigaction(session_pass_signals[i], &sa, NULL);
}

/* The handlers, and the signals blocked (*block) except while waiting
 * (*waitmask: the mask before). */
static void
session_signals_catch(sigset_t *block, sigset_t *waitmask)
{
	size_t i;

	session_signals_handle();
	sigemptyset(block);
	for (i = 0; i < NSESSION_PASS_SIGNALS; i++)
		sigaddset(block, session_pass_signals[i]);
	sigprocmask(SIG_BLOCK, block, waitmask);
}

/* No session starts: the login's end is recorded and PAM's session
 * closed, as at the end of a session. */
static void __attribute__((noreturn))
session_abandon(struct monitor *m, int status)
{
	audit_session_end(&m->auth, 0, getpid());
	pamctx_end(m->auth.pam);
	exit(status);
}

/* A signal that came while the session was being set up (a service stop
 * while a slow PAM session module ran). */
static void
session_setup_signalled(struct monitor *m)
{
	if (session_signal == 0)
		return;
	debug("monitor: received signal %d before the session started",
	    (int)session_signal);
	session_abandon(m, 255);
}

/* sig passed on to the session (*passed: the last); 0: none. */
static void
session_pass(pid_t pid, int sig, int *passed)
{
	if (sig == 0)
		return;
	debug("monitor: received signal %d: passed to the session", sig);
	kill(pid, sig);
	*passed = sig;
}

/* The signal the handler caught since, passed on. */
static void
session_pass_caught(pid_t pid, int *passed)
{
	int sig = session_signal;

	session_signal = 0;
	session_pass(pid, sig, passed);
}

/*
 * Wait for the session's next message (or its end), passing on the
 * signals that arrive meanwhile. fd_ppoll lets a pending signal in even
 * while the session keeps its socket readable.
 */
static void
session_wait(int fd, pid_t pid, const sigset_t *block, const sigset_t *waitmask,
    int *passed)
{
	struct pollfd pfd;
	int n, intr;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = fd_ppoll(&pfd, 1, NULL, waitmask, block);
		intr = n < 0 && errno == EINTR; /* before logging touches it */
		session_pass_caught(pid, passed);
		if (!intr)
			return; /* ready, or ipc_recv reports what is wrong */
	}
}

/*
 * Reap the session, still passing on the signals (blocked: taken with
 * sigtimedwait, which SIGCHLD, blocked meanwhile, wakes as the session
 * ends) until it has gone: a session that closed its socket may not have
 * exited yet. The pid, or -1 with errno.
 */
static pid_t
session_reap(pid_t pid, const sigset_t *block, int *status, int *passed)
{
	const struct timespec tick = {1, 0};
	sigset_t wait, old;
	pid_t w;
	int sig;

	wait = *block;
	sigaddset(&wait, SIGCHLD);
	sigprocmask(SIG_BLOCK, &wait, &old);
	for (;;) {
		if ((w = waitpid(pid, status, WNOHANG)) != 0) {
			if (w < 0 && errno == EINTR)
				continue;
			break;
		}
		session_pass_caught(pid, passed);
		if ((sig = sigtimedwait(&wait, NULL, &tick)) > 0 &&
		    sig != SIGCHLD)
			session_pass(pid, sig, passed);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return w;
}

static void __attribute__((noreturn)) session_phase(struct monitor *m, int sock)
{
	struct session_serve ss;
	struct timeval reply_deadline = {IPC_MESSAGE_TIMEOUT_MS / 1000, 0};
	struct buf *b;
	char *jail = NULL;
	int sp[2], status, jailfd = -1, code, passed = 0, killed = 0;
	sigset_t block, waitmask;
	pid_t pid, w;
	uint8_t type;
	int r;

	/*
	 * From here a SIGTERM, SIGHUP or SIGINT must not end the monitor with
	 * PAM's session open and the login's end unrecorded: caught, acted on
	 * before the session starts. Not blocked yet: a mask, unlike the
	 * handlers, would outlive the execs of PAM's modules (pam_exec).
	 */
	session_signals_handle();
	/* UsePAM: credentials and session open before the user's session. */
	if (m->auth.pam != NULL)
		pamctx_expose_auth_info(m->auth.pam, "do_pam_session",
		    m->auth.auth_info,
		    m->auth.auth_info != NULL ? strlen(m->auth.auth_info) : 0);
	/*
	 * As sshd 9.2 (auth_restrict_session): a session PAM could not open
	 * goes on restricted, no forwarding and no ~/.ssh/rc, and every
	 * session request shows PAM's messages and exits 254.
	 */
	r = m->auth.pam != NULL ? pamctx_open_session(m->auth.pam) : 0;
	if (r == PAMCTX_CRED_FAILED) {
		/* As sshd: no session without PAM's credentials. */
		audit_preauth_end(&m->auth, m->kex_audited > 0, m->kex_pid);
		pamctx_end(m->auth.pam);
		exit(1);
	}
	if (r != 0) {
		debug("auth_restrict_session: restricting session");
		m->auth.pam_session_failed = 1;
		if (m->auth.opts != NULL)
			restrict_session(m->auth.opts);
	}
	/*
	 * ChrootDirectory: checked here, where a refusal can be logged. A
	 * refused login is no login for the audit trail: USER_LOGIN
	 * res=failed, and the keys it negotiated are gone.
	 */
	if (login_chroot_path(&m->auth, m->c, &jail, &jailfd) != 0) {
		audit_preauth_end(&m->auth, m->kex_audited > 0, m->kex_pid);
		pamctx_end(m->auth.pam);
		exit(1);
	}
	audit_login(&m->auth);
	if (jail != NULL)
		verbose("Changed root directory to \"%s\"", jail);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		fatal("socketpair: %s", strerror(errno));
	/* The session (the user's) passes the monitor no descriptor: one it
	 * would have to close could hold it (ipc.h). */
	refuse_fds(sp[0]);
	/* From before the fork: none may end the monitor and leave the
	 * session behind (the child unblocks them). */
	session_signals_catch(&block, &waitmask);
	session_setup_signalled(m);
	if ((pid = spawn_helper(m, "postern-session", sock, sp[1], &m->auth.pw,
	         m->auth.pam, m->o->log_stderr, jail, jailfd)) < 0)
		session_abandon(m, 1);
	verbose("User child is on pid %ld", (long)pid);
	log_active_opts(m);
	if (jailfd != -1)
		close(jailfd);
	close(sp[1]);
	/* Kept until the session ends: its byte counts (sign_budget.c). */
	sign_budget_init(&ss.sb, sock, m->c->rekey_limit, m->c->rekey_interval);
	if (m->relayed != NULL)
		sign_budget_relayed(&ss.sb, m->relayed);
	/* A DH group (ModuliFile read as root) comes before each signature:
	 * the same budget, its own bucket. */
	ss.gb = ss.sb;
	if ((r = send_session_init(m, sp[0])) != 0 ||
	    (r = login_send(sp[0], &m->auth, m->c, jail != NULL)) != 0) {
		/* Its child gone already (pam_setcred failed there, say):
		 * PAM's session still closes. */
		error("monitor: cannot start session: %s", err_str(r));
		kill(pid, SIGKILL);
		audit_session_end(&m->auth, 0, pid);
		pamctx_end(m->auth.pam);
		exit(1);
	}
	buf_free(m->tstate);
	m->tstate = NULL;
	/*
	 * A session that leaves the replies unread (a taken-over one) must
	 * not hold the monitor in a send for ever, deaf to the SIGTERM it
	 * should pass on: past the deadline the send fails and the session
	 * is killed. After the start, which a slow exec may read late.
	 */
	if (setsockopt(sp[0], SOL_SOCKET, SO_SNDTIMEO, &reply_deadline,
	        sizeof(reply_deadline)) != 0)
		error("setsockopt(SO_SNDTIMEO): %s", strerror(errno));
	audit_session_start(&m->auth);
	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		fatal("out of memory");
	free(jail);
	login_state_init(&ss.ls, &m->auth, m->c, &m->ci);
	ss.ls.session_pid = pid;
	/* Logged in: what authentication needed goes back to the kernel. */
	mem_trim();
	/* Serve the session (rekey signatures, ptys, utmp) until it goes. */
	for (;;) {
		/*
		 * A message that cannot be framed (too long, with a
		 * descriptor, cut short) ends the session as a bad one does:
		 * left running, it would go on without its monitor.
		 */
		session_wait(sp[0], pid, &block, &waitmask, &passed);
		/* Ready: a whole message follows at once, or the session is
		 * hung (and signals are blocked meanwhile). */
		if ((r = ipc_recv_timeout(sp[0], &type, b, NULL,
		         IPC_MAX_MESSAGE, SESSION_MSG_TIMEOUT_MS)) != 0) {
			if (r != ERR_EOF) {
				error("monitor: bad message from session: %s",
				    err_str(r));
				kill(pid, SIGKILL);
				killed = 1;
			}
			break;
		}
		if (session_dispatch(m, &ss, sp[0], type, b) != 0) {
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
	}
	close(sock);
	buf_free(b);
	login_end(&ss.ls);
	status = 0;
	w = session_reap(pid, &block, &status, &passed);
	/* The handlers stay (a signal now only sets the flag): the cleanup
	 * below runs to its end, as sshd's monitor's does. */
	sigprocmask(SIG_SETMASK, &waitmask, NULL);
	if (w < 0)
		error("waitpid %ld: %s", (long)pid, strerror(errno));
	else if (WIFSIGNALED(status) && WTERMSIG(status) != passed) {
		/* A crash is a bug of ours; any other signal came from
		 * outside (an admin's kill, the OOM killer), for which
		 * sshd's monitor logs nothing. */
		if (killed || penalty_crash_signal(WTERMSIG(status)))
			error("session process %ld terminated by signal %d",
			    (long)pid, WTERMSIG(status));
		else
			debug("session process %ld terminated by signal %d",
			    (long)pid, WTERMSIG(status));
	}
	code = w == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	audit_session_end(
	    &m->auth, code == 0 || code == SESSION_EXIT_CLOSED, pid);
	/* The session process logged how the connection ended, as sshd's
	 * child does ("Disconnected from user ..." after a DISCONNECT). */
	/* UsePAM: the monitor closes the PAM session (as root). */
	pamctx_end(m->auth.pam);
	m->auth.pam = NULL;
	exit(0);
}

void
monitor_run(const struct options *o, struct server_config *c,
    const struct config_source *src)
{
	struct monitor m;
	struct passwd *privsep = NULL;
	struct timeval reply_deadline = {IPC_MESSAGE_TIMEOUT_MS / 1000, 0};
	int sp[2], status, one = 1, r, startup_fd;
	int sock = CHILD_SOCK_FD;

	/*
	 * As sshd: a write to a peer that has gone (a log pipe whose reader
	 * went under -e, a PAM module's socket) fails with EPIPE instead of
	 * ending the login. The helpers and commands it starts get the
	 * default back.
	 */
	signal(SIGPIPE, SIG_IGN);
	/* Keep the startup pipe off the descriptors children inherit. */
	startup_fd = fcntl(STARTUP_PIPE_FD, F_DUPFD_CLOEXEC, 10);
	close(STARTUP_PIPE_FD);
	startup_open(startup_fd);
	/*
	 * Nor the client's connection (fd 3, where the listener's dup2 left
	 * it inheritable): only the helper gets it (spawn_helper); what PAM
	 * modules run as root for the login (pam_motd's scripts) must not.
	 */
	if (fcntl(sock, F_SETFD, FD_CLOEXEC) == -1)
		fatal("client socket: %s", strerror(errno));
	auth_worktimes_load();
	memset(&m, 0, sizeof(m));
#ifdef POSTERN_ASAN
	m.preauth_err = -1;
#endif
	m.o = o;
	m.c = c;
	m.pfd = -1;
	/* Not a child's to inherit: mapped, then closed. */
	m.relayed = relay_count_map(RELAY_COUNT_FD);
	{
		char dir[4096];

		modules_dir(dir, sizeof(dir));
		if (modules_load(dir, &m.mods, 1) <= 0)
			fatal("no authentication method modules could be "
			      "loaded from %s",
			    dir);
	}
	auth_init(&m.auth, c, src, &m.ci, &m.mods);
	cleanup_mon = &m;
	log_set_fatal_cleanup(kill_preauth);
	/* Host private keys live here: no core dumps, no ptrace by users. */
	prctl(PR_SET_DUMPABLE, 0);
	proctitle_set("[accepted]");
	audit_start();
	conn_info_fill(&m.ci, sock, m.relayed != NULL);
	/*
	 * As sshd: a TCP client that reset the connection before it was
	 * served (getpeername fails) is let go without a word at INFO.
	 */
	if (peer_gone(sock)) {
		debug("Connection ended before it was served");
		exit(255);
	}
	/* LoginGraceTime holds even while the monitor is busy (grace.c). */
	(void)grace_arm(c->login_grace_time);
	/* Off an IP socket (or unknown), sshd names no routing domain. */
	verbose("Connection from %s port %d on %s port %d%s%s%s",
	    m.ci.client_addr, m.ci.client_port, m.ci.server_addr,
	    m.ci.server_port, m.ci.has_rdomain ? " rdomain \"" : "",
	    m.ci.has_rdomain ? m.ci.rdomain : "", m.ci.has_rdomain ? "\"" : "");
	conn_host_resolve(&m.ci, c->use_dns);
	m.ci.utmp_addr = strlen(m.ci.client_host) > (size_t)o->utmp_host_len;
	(void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* TCPKeepAlive (global only): the kernel probes an idle peer. */
	if (c->tcp_keepalive != 0)
		(void)setsockopt(
		    sock, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if ((r = hostkeys_load(c, &m.hk)) != 0)
		fatal("sshd: no hostkeys available -- exiting.");
	auth_set_hostkeys(&m.auth, &m.hk);
	/*
	 * As sshd, which runs from "/": PAM's modules and the commands the
	 * monitor runs never start in the directory posternd -D ran from.
	 */
	if (chdir("/") != 0)
		error("chdir(\"/\"): %s", strerror(errno));
	if (getuid() == 0) {
		if ((privsep = getpwnam(POSTERN_PRIVSEP_USER)) == NULL)
			fatal("Privilege separation user %s does not exist",
			    POSTERN_PRIVSEP_USER);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		fatal("socketpair: %s", strerror(errno));
	refuse_fds(sp[0]);
	if ((m.preauth_pid = spawn_helper(&m, "postern-preauth", sock, sp[1],
	         NULL, NULL, 0, NULL, -1)) < 0)
		exit(1);
	close(sp[1]);
	m.pfd = sp[0];
	/*
	 * preauth is hostile: a reply it does not read must not hold the
	 * monitor for ever (once an "Accepted" stopped LoginGraceTime, the
	 * connection would count against MaxStartups until a restart).
	 */
	if (setsockopt(m.pfd, SOL_SOCKET, SO_SNDTIMEO, &reply_deadline,
	        sizeof(reply_deadline)) != 0)
		fatal("setsockopt(SO_SNDTIMEO): %s", strerror(errno));
	if ((r = send_init(&m, privsep)) != 0)
		fatal("monitor: cannot start preauth: %s", err_str(r));
	r = preauth_loop(&m);
	/* From here on the monitor reports its own ending. */
	grace_claim();
	/*
	 * The audit trail: a failed login. A handed-over transport's keys
	 * live on in the session; IPC_AUDIT_KEX recorded them.
	 */
	if (m.state != MS_DONE)
		audit_preauth_end(&m.auth, m.kex_audited > 0, m.preauth_pid);
	close(m.pfd);
	/*
	 * preauth never outlives this point. It closed its end (EOF) when it
	 * is exiting, and after a final verdict it still has to send its
	 * DISCONNECT: give it a moment. In every other case, and after the
	 * hand-over, kill it.
	 */
	status = reap_preauth(m.preauth_pid,
	    r == ERR_EOF || r == ERR_LIMIT ? PREAUTH_EXIT_WAIT_MS : 0);
#ifdef POSTERN_ASAN
	asan_relay_stderr(&m);
#endif
	m.kex_pid = m.preauth_pid;
	m.preauth_pid = 0;
	/* PerSourcePenalties' "crash": the listener is told. */
	if (m.state != MS_DONE && WIFSIGNALED(status) &&
	    penalty_crash_signal(WTERMSIG(status)))
		startup_note_crash();
	if (m.state != MS_DONE) {
		/* A crash (SIGSYS included) is logged however the IPC read
		 * ended; a signal the monitor sent itself is not. */
		if (r == ERR_EOF ||
		    (WIFSIGNALED(status) &&
		        penalty_crash_signal(WTERMSIG(status))))
			log_preauth_end(&m, status);
		/* As sshd: PAM ends too (its modules clean up, and libpam
		 * writes its USER_ERR record for a handle nothing used). */
		pamctx_end(m.auth.pam);
		m.auth.pam = NULL;
		exit(1);
	}
	/*
	 * Authenticated: no longer counts against MaxStartups. The byte tells
	 * the listener this was no timeout (an EOF alone: the monitor ends).
	 */
	startup_authenticated();
	session_phase(&m, sock);
}
