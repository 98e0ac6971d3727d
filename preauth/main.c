/*
 * postern-preauth: the sandboxed, unprivileged process that speaks the SSH
 * transport and userauth protocols to an unauthenticated client. It holds
 * no host private key and decides nothing: the monitor signs and judges.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "fdutil.h"
#include "ipc.h"
#include "kexaudit.h"
#include "log.h"
#include "preauth.h"
#include "proctitle.h"
#include "sandbox/sandbox.h"
#include "transport.h"

#define MAX_HOSTKEYS IPC_HOSTKEY_ENTRIES_MAX /* monitor.h hostkeys.keys */
/* The monitor signs two exchange hashes before authentication (its
 * MAX_SIGNATURES): the first exchange and one rekey. */
#define PREAUTH_KEX_MAX 2

struct init_params {
	char *version, *kex, *hostkey_algs, *ciphers, *macs, *comp, *sig_algs;
	char *peer_addr, *chroot_dir;
	uint32_t peer_port, log_level, uid, gid, nhostkeys;
	struct transport_params rekey; /* only RekeyLimit's two fields */
	struct transport_hostkey hostkeys[MAX_HOSTKEYS];
	char *hk_alg[MAX_HOSTKEYS];
	uint8_t *hk_blob[MAX_HOSTKEYS];
};

static int ipc_fd = PREAUTH_IPC_FD;

/* Relay every log line to the monitor, which logs it with " [preauth]". */
static void
relay_log(enum log_level level, const char *msg, void *ctx)
{
	struct buf *b;

	if ((b = buf_new(4096)) == NULL)
		return;
	if (buf_put_u32(b, (uint32_t)level) == 0 &&
	    buf_put_cstring(b, msg) == 0)
		(void)ipc_send(ipc_fd, IPC_LOG, b, -1);
	buf_free(b);
}

static int
gex_via_monitor(void *ctx, uint32_t min, uint32_t n, uint32_t max,
    struct buf *p, struct buf *g)
{
	return ipc_gex_request(ipc_fd, min, n, max, p, g);
}

static int
sign_via_monitor(void *ctx, const char *alg, const uint8_t *hash,
    size_t hashlen, struct buf *sig)
{
	return ipc_sign_request(
	    ipc_fd, IPC_SIGN_REQ, IPC_SIGN_REPLY, alg, hash, hashlen, sig);
}

static int
read_init(struct init_params *ip)
{
	struct buf *b;
	uint8_t type;
	uint32_t i;
	size_t len;
	int r;

	if ((b = buf_new(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = ipc_recv(ipc_fd, &type, b, NULL, IPC_MAX_MESSAGE)) != 0)
		goto out;
	if (type != IPC_INIT) {
		r = ERR_PROTOCOL;
		goto out;
	}
	if ((r = buf_get_cstring(b, &ip->version, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ip->kex, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ip->hostkey_algs, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ip->ciphers, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ip->macs, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ip->comp, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ip->sig_algs, NULL)) != 0 ||
	    (r = buf_get_cstring(b, &ip->peer_addr, NULL)) != 0 ||
	    (r = buf_get_u32(b, &ip->peer_port)) != 0 ||
	    (r = buf_get_u32(b, &ip->log_level)) != 0 ||
	    (r = buf_get_u32(b, &ip->uid)) != 0 ||
	    (r = buf_get_u32(b, &ip->gid)) != 0 ||
	    (r = buf_get_cstring(b, &ip->chroot_dir, NULL)) != 0 ||
	    (r = buf_get_u32(b, &ip->nhostkeys)) != 0)
		goto out;
	if (ip->nhostkeys > MAX_HOSTKEYS) { /* none: no key exchange succeeds */
		r = ERR_FORMAT;
		goto out;
	}
	for (i = 0; i < ip->nhostkeys; i++) {
		if ((r = buf_get_cstring(b, &ip->hk_alg[i], NULL)) != 0 ||
		    (r = buf_get_string(b, &ip->hk_blob[i], &len)) != 0)
			goto out;
		ip->hostkeys[i].alg = ip->hk_alg[i];
		ip->hostkeys[i].blob = ip->hk_blob[i];
		ip->hostkeys[i].bloblen = len;
	}
	if ((r = transport_rekey_get(b, &ip->rekey)) != 0)
		goto out;
	r = buf_end(b);
out:
	buf_free(b);
	return r;
}

/* Write everything queued, waiting for the socket as needed. */
static int
flush_all(struct transport *t)
{
	struct pollfd pfd;
	int r;

	while (transport_output_pending(t) > 0) {
		if ((r = transport_write(t)) != 0)
			return r;
		if (transport_output_pending(t) == 0)
			break;
		pfd.fd = transport_fd(t);
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return ERR_SYSTEM;
	}
	return 0;
}

static int
hand_over(struct transport *t)
{
	struct buf *state;
	int r;

	if ((r = flush_all(t)) != 0)
		return r;
	if ((state = buf_new_secret(IPC_MAX_MESSAGE)) == NULL)
		return ERR_ALLOC;
	if ((r = transport_export(t, state)) == 0)
		r = ipc_send(ipc_fd, IPC_TRANSPORT_STATE, state, -1);
	buf_free(state);
	return r;
}

/*
 * Once auth succeeded, only the key exchange that holds USERAUTH_SUCCESS
 * back (one we started as the client's request crossed our KEXINIT) may
 * go on; the client has nothing else to send before it sees success.
 */
static int
dispatch(
    struct userauth *ua, struct transport *t, uint8_t type, struct buf *payload)
{
	if (!ua->authenticated)
		return userauth_dispatch(ua, t, ipc_fd, type, payload);
	error(
	    "preauth: message type %u before USERAUTH_SUCCESS was sent", type);
	transport_disconnect(
	    t, SSH2_DISCONNECT_PROTOCOL_ERROR, "unexpected message");
	return ERR_PROTOCOL;
}

/*
 * Output past this much unsent: the client is not reading what it asked
 * for (each out-of-place packet earns an UNIMPLEMENTED), so its further
 * packets wait, in the kernel and then in its socket, as sshd's wait for
 * its output to be written before it reads again. Preauth output is a few
 * KiB otherwise.
 */
#define PREAUTH_OUTPUT_PAUSE (256 * 1024)

/*
 * Handle the packets already read, while the output is not backed up;
 * 1 in *handed once the connection went to the monitor.
 */
static int
handle_input(
    struct userauth *ua, struct transport *t, int *kex_reported, int *handed)
{
	struct buf *payload;
	uint8_t type;
	int r;

	while (transport_output_pending(t) < PREAUTH_OUTPUT_PAUSE) {
		r = transport_next_packet(t, &type, &payload);
		/* Each new set of keys, for the audit trail. */
		if ((r == 0 || r == ERR_AGAIN) &&
		    kexaudit_report(t, ipc_fd, kex_reported) != 0)
			return ERR_SYSTEM;
		if (r == ERR_AGAIN)
			break;
		if (r != 0)
			return r;
		if ((r = dispatch(ua, t, type, payload)) != 0)
			return r;
		if (ua->authenticated && !transport_kex_busy(t)) {
			*handed = 1;
			return hand_over(t);
		}
	}
	/* A key exchange held USERAUTH_SUCCESS back. */
	if (ua->authenticated && !transport_kex_busy(t)) {
		*handed = 1;
		return hand_over(t);
	}
	return 0;
}

static int
run(struct transport *t)
{
	struct userauth ua;
	struct pollfd pfd;
	int r, rr = 0, kex_reported = 0, handed = 0, paused;

	memset(&ua, 0, sizeof(ua));
	for (;;) {
		paused = transport_output_pending(t) >= PREAUTH_OUTPUT_PAUSE;
		pfd.fd = transport_fd(t);
		pfd.events = paused || rr != 0 ? 0 : POLLIN;
		if (transport_output_pending(t) > 0)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, transport_rekey_poll_ms(t)) < 0) {
			if (errno == EINTR)
				continue;
			return ERR_SYSTEM;
		}
		if ((r = transport_rekey_timer(t)) != 0)
			return r;
		if ((pfd.revents & POLLOUT) && (r = transport_write(t)) != 0)
			return r;
		/* Process what arrived even if the peer then closed. */
		if (!paused && rr == 0 &&
		    (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			rr = transport_read(t);
		if ((r = handle_input(&ua, t, &kex_reported, &handed)) != 0 ||
		    handed)
			return r;
		/* The peer's end (or a read error) once all it sent is
		 * handled. */
		if (rr != 0 &&
		    transport_output_pending(t) < PREAUTH_OUTPUT_PAUSE)
			return rr;
		if ((r = transport_write(t)) != 0)
			return r;
	}
}

int
main(int argc, char **argv)
{
	struct init_params ip;
	struct transport_params tp;
	struct transport *t;
	pid_t monitor = getppid();
	int r, broken;

	/* Named and titled as OpenSSH's unprivileged child: "sshd: [net]". */
	proctitle_init(argc, argv);
	proctitle_name();
	proctitle_set("[net]");
	memset(&ip, 0, sizeof(ip));
	log_init(POSTERN_SYSLOG_IDENT, LL_INFO, 0, 0);
	log_set_handler(relay_log, NULL);
	if ((r = read_init(&ip)) != 0)
		fatal("preauth: bad init message: %s", err_str(r));
	log_set_level((enum log_level)ip.log_level);
	crypto_init();
	if (ip.chroot_dir[0] != '\0' &&
	    sandbox_chroot_drop(ip.chroot_dir, ip.uid, ip.gid) != 0)
		fatal("preauth: privilege drop failed");
	/*
	 * The drop cleared the death signal the monitor set: die with it
	 * again (LoginGraceTime's SIGALRM may end it while this waits on a
	 * silent client).
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != monitor)
		_exit(1);
	/*
	 * As sshd: a write to a client that reset the connection is an
	 * error (EPIPE) that ends it with its usual lines, not a signal.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (sandbox_rlimits() != 0)
		fatal("preauth: rlimits failed");
	if (fd_set_nonblock(PREAUTH_SOCK_FD) < 0)
		fatal("preauth: fcntl: %s", strerror(errno));
	if (sandbox_seccomp() != 0)
		fatal("preauth: seccomp sandbox failed");
#ifdef POSTERN_TEST_FORBIDDEN_SYSCALL
	/* Test-only build: a system call the allowlist forbids. */
	(void)socket(AF_INET, SOCK_STREAM, 0);
#endif
	memset(&tp, 0, sizeof(tp));
	tp.version = ip.version;
	tp.kex_algs = ip.kex;
	tp.hostkey_algs = ip.hostkey_algs;
	tp.ciphers = ip.ciphers;
	tp.macs = ip.macs;
	tp.compression = ip.comp;
	tp.hostkeys = ip.hostkeys;
	tp.nhostkeys = ip.nhostkeys;
	tp.sign = sign_via_monitor;
	tp.gex_group = gex_via_monitor;
	tp.server_sig_algs = ip.sig_algs;
	tp.peer_addr = ip.peer_addr;
	tp.peer_port = (int)ip.peer_port;
	tp.rekey_limit = ip.rekey.rekey_limit;
	tp.rekey_interval = ip.rekey.rekey_interval;
	tp.kex_max = PREAUTH_KEX_MAX;
	tp.out_pause = PREAUTH_OUTPUT_PAUSE;
	if ((t = transport_new(PREAUTH_SOCK_FD, &tp)) == NULL)
		fatal("preauth: out of memory");
	r = run(t);
	if (r == 0)
		_exit(PREAUTH_EXIT_AUTHENTICATED);
	/* Before the last write, which may break the pipe too. */
	broken = r == ERR_EOF && transport_write_broken(t) &&
	    transport_peer_version(t) != NULL;
	(void)transport_write(t);
	if (broken) {
		/* A write to a client that reset the connection, then closed
		 * its socket (a scanner that sends its identification and
		 * goes without reading ours): sshd's fatal line, which
		 * fail2ban's ddos mode and sshguard do not count, where
		 * "Connection closed by" would be. */
		transport_log_fatal(t, "Broken pipe");
		_exit(PREAUTH_EXIT_ERROR);
	}
	if (transport_peer_version(t) == NULL && r != ERR_EOF) {
		int why = transport_version_refused(t);

		_exit(why == TRANSPORT_VERSION_OTHER
		        ? PREAUTH_EXIT_BANNER_VERSION
		        : why == TRANSPORT_VERSION_PROBE
		        ? PREAUTH_EXIT_BANNER_PROBE
		        : PREAUTH_EXIT_BANNER);
	}
	if (transport_peer_version(t) == NULL)
		_exit(transport_peer_reset(t) ? PREAUTH_EXIT_BANNER_RESET
		                              : PREAUTH_EXIT_BANNER_CLOSED);
	if (r == ERR_EOF)
		_exit(transport_peer_reset(t) ? PREAUTH_EXIT_RESET
		                              : PREAUTH_EXIT_CLOSED);
	if (r == ERR_DISCONNECTED)
		_exit(PREAUTH_EXIT_DISCONNECTED);
	if (r == ERR_SHORT || r == ERR_TRAILING || r == ERR_TOO_BIG ||
	    r == ERR_FORMAT || r == ERR_STRING_NUL)
		/* A message that does not parse: sshd's fatal line. */
		transport_log_fatal(t, err_sshd_words(r));
	else if (r != ERR_PROTOCOL && r != ERR_LIMIT && r != ERR_NO_MATCH &&
	    r != ERR_MAC)
		error("preauth: connection ended: %s", err_str(r));
	_exit(PREAUTH_EXIT_ERROR);
}
