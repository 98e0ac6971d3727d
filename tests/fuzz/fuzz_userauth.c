/*
 * fuzz_userauth.c: libFuzzer target for user authentication end to end,
 * from the client's packets to the monitor's verdict and back: the input
 * is the decrypted payloads a client sends after the key exchange
 * (SERVICE_REQUEST, USERAUTH_REQUEST of every method, INFO_RESPONSE,
 * anything else), fed to preauth's userauth_dispatch (preauth/userauth.c),
 * whose IPC requests go straight to the monitor's preauth_dispatch with
 * the method modules (monitor_harness.h, as in fuzz_monitor) and whose
 * replies come back over a socketpair through the real ipc_recv. The
 * monitor has signed the first exchange (its session id is seed_sid), so
 * a seed can carry a valid publickey signature.
 *
 * Input: records of u32 length | payload (message type, fields). Types
 * the transport consumes itself (1-4, 20-49) are skipped. The transport
 * is a real one on a socketpair whose peer is drained, put past its
 * first key exchange as in fuzz_channel.
 *
 * FUZZ_USERAUTH_SEEDS=DIR writes the seed inputs into DIR and exits;
 * FUZZ_USERAUTH_VERBOSE=1 shows the log.
 */
#define FZ_VERBOSE_ENV "FUZZ_USERAUTH_VERBOSE"
#include "tests/fuzz/monitor_harness.h"

#include "preauth/preauth.h"
#include "transport_int.h"

/* preauth's IPC goes to the monitor in this process. */
static int fz_pa_ipc_send(int fd, uint8_t type, const struct buf *b, int p);
static int fz_pa_ipc_recv(
    int fd, uint8_t *type, struct buf *b, int *fdp, size_t max);
#define ipc_send fz_pa_ipc_send
#define ipc_recv fz_pa_ipc_recv
#include "preauth/userauth.c"
#undef ipc_send
#undef ipc_recv

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (64 * 1024)

static struct monitor *fz_m;
static struct buf *fz_reply;
static int fz_mon_sp[2];  /* [0] the monitor's end, [1] preauth's */
static int fz_mon_closed; /* the monitor ended the connection */

static int
fz_pa_ipc_send(int fd, uint8_t type, const struct buf *b, int p)
{
	struct buf *copy;
	int r;

	(void)fd;
	(void)p;
	if (fz_mon_closed)
		return ERR_EOF;
	if ((copy = buf_from(buf_ptr(b), buf_len(b))) == NULL)
		fz_die("out of memory");
	buf_reset(fz_reply);
	r = preauth_dispatch(fz_m, type, copy, fz_reply);
	buf_free(copy);
	if ((type == IPC_AUTH_REQ || type == IPC_AUTH_RESPONSE) &&
	    (r == 0 || r == ERR_LIMIT))
		fz_check_auth_reply(fz_reply, fz_m);
	if (fz_verbose)
		fprintf(stderr, "monitor: message %u: %s, state %d\n", type,
		    err_str(r), fz_m->state);
	/* The monitor's loop ends on any of these (after its reply). */
	if (r != 0 || fz_m->state == MS_DONE)
		fz_mon_closed = 1;
	return 0;
}

static int
fz_pa_ipc_recv(int fd, uint8_t *type, struct buf *b, int *fdp, size_t max)
{
	char c;

	(void)fd;
	/* Nothing sent and the monitor gone: preauth reads end-of-file. */
	if (recv(fz_mon_sp[1], &c, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
		return ERR_EOF;
	return ipc_recv(fz_mon_sp[1], type, b, fdp, max);
}

/* The monitor signs the first exchange: from now on userauth is allowed. */
static void
fz_first_kex(struct monitor *m)
{
	struct buf *b = buf_new(1024);
	char tmp[4096];

	if (b == NULL || buf_put_cstring(b, "ssh-ed25519") != 0 ||
	    buf_put_string(b, seed_sid, sizeof(seed_sid)) != 0 ||
	    preauth_dispatch(m, IPC_SIGN_REQ, b, fz_reply) != 0 ||
	    m->state != MS_AUTH)
		fz_die("the first exchange's signature");
	buf_free(b);
	while (recv(fz_mon_sp[1], tmp, sizeof(tmp), MSG_DONTWAIT) > 0)
		;
}

static struct transport *
fz_transport(int fd)
{
	static struct transport_hostkey hk;
	struct transport_params tp;
	struct transport *t;

	hk.alg = "ssh-ed25519";
	hk.blob = fz_hk.pub[0].blob;
	hk.bloblen = fz_hk.pub[0].bloblen;
	memset(&tp, 0, sizeof(tp));
	tp.version = POSTERN_BANNER;
	tp.kex_algs = "curve25519-sha256";
	tp.hostkey_algs = "ssh-ed25519";
	tp.ciphers = "aes128-ctr";
	tp.macs = "hmac-sha2-256";
	tp.hostkeys = &hk;
	tp.nhostkeys = 1;
	tp.peer_addr = "192.0.2.7";
	tp.peer_port = 50022;
	if ((t = transport_new(fd, &tp)) == NULL)
		fz_die("transport_new");
	/* As after the first exchange: nothing waits for NEWKEYS. */
	kex_state_free(t);
	t->kex = KEX_NONE;
	return t;
}

/* The transport layer's own messages never reach userauth. */
static int
fz_transport_type(uint8_t type)
{
	return (type >= 1 && type <= 4) || (type >= 20 && type <= 49);
}

static void
fz_run(const uint8_t *data, size_t size)
{
	struct server_config c;
	struct monitor m;
	struct userauth ua;
	struct transport *t;
	struct buf *payload;
	char tmp[65536];
	uint32_t len;
	int csp[2], r = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fz_mon_sp) !=
	        0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	        csp) != 0)
		fz_die("socketpair");
	fz_monitor_open(&m, &c, fz_mon_sp[0]);
	fz_m = &m;
	fz_mon_closed = 0;
	fz_first_kex(&m);
	t = fz_transport(csp[0]);
	memset(&ua, 0, sizeof(ua));
	while (r == 0 && !ua.authenticated && size >= 5) {
		len = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		    (uint32_t)data[2] << 8 | data[3];
		data += 4;
		size -= 4;
		if (len == 0 || len > size)
			break;
		if (!fz_transport_type(data[0])) {
			if ((payload = buf_from(data + 1, len - 1)) == NULL)
				fz_die("out of memory");
			r = userauth_dispatch(&ua, t, -1, data[0], payload);
			buf_free(payload);
			if (fz_verbose)
				fprintf(stderr, "preauth: message %u: %s\n",
				    data[0], err_str(r));
		}
		data += len;
		size -= len;
		/* The client reads everything. */
		if (transport_output_pending(t) > 0 && transport_write(t) != 0)
			fz_die("transport_write");
		while (recv(csp[1], tmp, sizeof(tmp), MSG_DONTWAIT) > 0)
			;
	}
	/* Both sides agree on the outcome. */
	if (ua.authenticated &&
	    (m.state != MS_AUTHENTICATED || !m.auth.authenticated))
		fz_die("preauth authenticated without the monitor");
	fz_monitor_close(&m, &c);
	transport_free(t);
	close(csp[0]);
	close(csp[1]);
	close(fz_mon_sp[0]);
	close(fz_mon_sp[1]);
}

static void fz_write_seeds(const char *dir);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz_ready) {
		fz_init();
		if ((fz_reply = buf_new(IPC_MAX_MESSAGE)) == NULL)
			fz_die("out of memory");
		if (getenv("FUZZ_USERAUTH_SEEDS") != NULL) {
			fz_write_seeds(getenv("FUZZ_USERAUTH_SEEDS"));
			fz_cleanup();
			_exit(0);
		}
	}
	if (size <= FZ_MAX_INPUT)
		fz_run(data, size);
	return 0;
}

/* Seeds: a client's side of whole authentications. */

static void
seed_service(void)
{
	struct buf *p = seed_new();

	buf_put_cstring(p, "ssh-userauth");
	seed_frame(SSH2_MSG_SERVICE_REQUEST, p);
	buf_free(p);
}

/* USERAUTH_REQUEST: user, service, method, then the method's fields. */
static void
seed_userauth(const char *user, const char *method, const struct buf *m)
{
	struct buf *p = seed_new();

	buf_put_cstring(p, user);
	buf_put_cstring(p, "ssh-connection");
	buf_put_cstring(p, method);
	buf_put(p, buf_ptr(m), buf_len(m));
	seed_frame(SSH2_MSG_USERAUTH_REQUEST, p);
	buf_free(p);
}

static void
seed_kbdint(const char *user, const char *answer)
{
	struct buf *m = seed_new();

	buf_put_cstring(m, "");
	buf_put_cstring(m, "fixed,pam");
	seed_userauth(user, "keyboard-interactive", m);
	buf_reset(m);
	buf_put_u32(m, 1);
	buf_put_cstring(m, answer);
	seed_frame(SSH2_MSG_USERAUTH_INFO_RESPONSE, m);
	buf_free(m);
}

static void
fz_write_seeds(const char *dir)
{
	struct buf *ukb = seed_new(), *cert = seed_new(), *p = seed_new();

	seed = seed_new();
	fz_user_blobs(ukb, cert);

	seed_service();
	seed_none("root");
	seed_pubkey("root", "publickey", "ssh-ed25519", ukb, 0);
	seed_pubkey("root", "publickey", "ssh-ed25519", ukb, 1);
	seed_save(dir, "publickey-root");

	seed_service();
	seed_pubkey("root", HOSTBOUND_METHOD,
	    "ssh-ed25519-cert-v01@openssh.com", cert, 1);
	seed_save(dir, "hostbound-cert-root");

	seed_service();
	seed_pubkey("daemon", "publickey", "ssh-ed25519", ukb, 1);
	seed_kbdint("daemon", "postern-fixed-answer");
	seed_save(dir, "chain-daemon");

	seed_service();
	seed_pubkey(
	    "bin", "publickey", "ssh-ed25519-cert-v01@openssh.com", cert, 1);
	seed_password("bin", "wrong");
	seed_save(dir, "chain-bin");

	/* Out of order, unknown and unexpected messages. */
	seed_none("root");
	seed_service();
	buf_put_u32(p, 0);
	seed_frame(SSH2_MSG_USERAUTH_INFO_RESPONSE, p);
	seed_frame(SSH2_MSG_PING, p);
	seed_frame(90, p);
	seed_none("nosuchuser");
	seed_password("nosuchuser", "x");
	seed_kbdint("nosuchuser", "y");
	seed_none("root");
	buf_reset(p);
	buf_put_cstring(p, "ssh-userauth");
	seed_frame(SSH2_MSG_SERVICE_REQUEST, p);
	seed_save(dir, "disorder");

	buf_free(p);
	buf_free(ukb);
	buf_free(cert);
	buf_free(seed);
}
