/*
 * fuzz_monitor.c: libFuzzer target for the monitor's side of the preauth
 * IPC channel, the most exposed decoder the root process has: the input
 * is the byte stream a (hostile) preauth process writes, u32 length | u8
 * type | payload, any number of messages. It goes through the real framing
 * (ipc_recv_timeout, over a socketpair inside this process) and then
 * preauth_dispatch, the monitor's per-message state checks, decoders and
 * handlers: IPC_LOG, IPC_SIGN_REQ (signing with a real host key),
 * IPC_AUDIT_KEX, IPC_GEX_REQ, IPC_AUTH_REQ with every method (auth.c and
 * the method modules), IPC_AUTH_RESPONSE and IPC_TRANSPORT_STATE; once
 * authenticated, the rest of the stream is the session process's
 * (as session_phase's loop handles them: rekey signatures within the
 * signature budget, IPC_AUDIT_KEX, hostkeys-prove, IPC_GEX_REQ, through
 * session_dispatch; not login.c's ptys and utmp records, which
 * fuzz_session_ipc plays in a jail of its own). The monitor's replies are
 * drained and dropped.
 *
 * The method modules are compiled in, not dlopen'ed: publickey.so and
 * cert.so (lib/pkauth.c: authorized_keys, TrustedUserCAKeys, RevokedKeys
 * from files in a throwaway directory), pam_password.so with UsePAM no
 * (crypt(3) against the shadow file; nothing written), the test module
 * tests/modules/fixed.c for keyboard-interactive (request and response),
 * and rootpolicy.so. pam.so and totp.so are left out: the first runs the
 * PAM stack in a child, the second writes the user's secret file back
 * (lib/gauth.c, its parser, has fuzz_gauth). Users are looked up in the
 * real passwd database, so "root" and the system accounts are valid users.
 * The audit interface is a descriptor on /dev/null: records are built from
 * the hostile data and their writing fails, quietly (no kernel audit).
 *
 * Set FUZZ_MONITOR_SEEDS=DIR to write the seed inputs (valid conversations
 * with real signatures, which the fuzzer could not find) into DIR and
 * exit; tests/fuzz/seeds/fuzz_monitor holds their output.
 */
#define FZ_VERBOSE_ENV "FUZZ_MONITOR_VERBOSE"
#include "tests/fuzz/monitor_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT (64 * 1024)

/* Run one preauth byte stream; the monitor's last result. */
static int
fz_run(const uint8_t *data, size_t size)
{
	struct server_config c;
	struct monitor m;
	struct session_serve ss;
	struct buf *b, *reply;
	uint8_t type;
	int sp[2], r = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		fz_die("socketpair");
	/* The stream is in the socket before the monitor reads a byte. */
	if (size > 0 && write(sp[1], data, size) != (ssize_t)size)
		fz_die("write");
	if (shutdown(sp[1], SHUT_WR) != 0)
		fz_die("shutdown");
	fz_monitor_open(&m, &c, sp[0]);
	b = buf_new_secret(IPC_MAX_MESSAGE);
	reply = buf_new(IPC_MAX_MESSAGE);
	if (b == NULL || reply == NULL)
		fz_die("out of memory");
	/* preauth_loop without the poll and the deadlines. */
	for (;;) {
		if ((r = ipc_recv_timeout(m.pfd, &type, b, NULL,
		         IPC_MAX_MESSAGE, IPC_MESSAGE_TIMEOUT_MS)) != 0)
			break;
		buf_reset(reply);
		r = preauth_dispatch(&m, type, b, reply);
		if ((type == IPC_AUTH_REQ || type == IPC_AUTH_RESPONSE) &&
		    (r == 0 || r == ERR_LIMIT))
			fz_check_auth_reply(reply, &m);
		fz_drain(sp[1]);
		if (fz_verbose)
			fprintf(stderr, "message %u: %s, state %d\n", type,
			    err_str(r), m.state);
		if (r != 0 || m.state == MS_DONE)
			break;
	}
	/*
	 * Authenticated: what follows is the session process's (rekeys,
	 * audit, hostkeys-prove, DH groups). login.c's ptys and utmp
	 * records are fuzz_session_ipc's: they are root's side effects.
	 */
	memset(&ss, 0, sizeof(ss));
	login_state_init(&ss.ls, &m.auth, m.c, &m.ci);
	ss.ls.session_pid = 4242;
	sign_budget_init(&ss.sb, -1, c.rekey_limit, c.rekey_interval);
	ss.gb = ss.sb;
	while (r == 0 && m.state == MS_DONE) {
		if ((r = ipc_recv_timeout(m.pfd, &type, b, NULL,
		         IPC_MAX_MESSAGE, IPC_MESSAGE_TIMEOUT_MS)) != 0)
			break;
		if (type == IPC_SESSION_PTY_REQ ||
		    type == IPC_SESSION_LOGIN_REC ||
		    type == IPC_SESSION_LOGOUT_REC)
			continue;
		/* session_phase's handler (it leaves the kill to its loop). */
		r = session_dispatch(&m, &ss, m.pfd, type, b);
		fz_drain(sp[1]);
		if (fz_verbose)
			fprintf(stderr, "session message %u: %s\n", type,
			    err_str(r));
	}
	if (r == ERR_EOF)
		r = 0;
	/* A framing error is never a timeout: all the bytes were there. */
	if (r == ERR_TIMEOUT)
		fz_die("ipc_recv_timeout timed out on a complete stream");
	fz_monitor_close(&m, &c);
	buf_free(b);
	buf_free(reply);
	close(sp[0]);
	close(sp[1]);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz_ready) {
		fz_init();
		if (getenv("FUZZ_MONITOR_SEEDS") != NULL) {
			void fz_write_seeds(const char *dir);

			fz_write_seeds(getenv("FUZZ_MONITOR_SEEDS"));
			fz_cleanup();
			_exit(0);
		}
	}
	if (size > FZ_MAX_INPUT)
		return 0;
	(void)fz_run(data, size);
	return 0;
}

/* Seeds: whole conversations, with valid signatures. */

static void
seed_log(const char *text)
{
	struct buf *p = seed_new();

	buf_put_u32(p, LL_INFO);
	buf_put_cstring(p, text);
	seed_frame(IPC_LOG, p);
	buf_free(p);
}

/* The first exchange: sign, then report the new keys. */
static void
seed_kex(void)
{
	struct buf *p = seed_new();

	buf_put_cstring(p, "ssh-ed25519");
	buf_put_string(p, seed_sid, sizeof(seed_sid));
	seed_frame(IPC_SIGN_REQ, p);
	buf_reset(p);
	buf_put_u32(p, 1);
	buf_put_cstring(p, "curve25519-sha256");
	buf_put_cstring(p, "ssh-ed25519");
	buf_put_cstring(p, "chacha20-poly1305@openssh.com");
	buf_put_cstring(p, "aes128-ctr");
	buf_put_cstring(p, "");
	buf_put_cstring(p, "hmac-sha2-256-etm@openssh.com");
	seed_frame(IPC_AUDIT_KEX, p);
	buf_free(p);
}

static void
seed_userauth(const char *user, const char *method, const struct buf *m)
{
	struct buf *p = seed_new();

	buf_put_cstring(p, user);
	buf_put_cstring(p, "ssh-connection");
	buf_put_cstring(p, method);
	buf_put_stringb(p, m);
	seed_frame(IPC_AUTH_REQ, p);
	buf_free(p);
}

static void
seed_kbdint(const char *user, const char *answer)
{
	struct buf *m = seed_new();

	buf_put_cstring(m, "");
	buf_put_cstring(m, "fixed");
	seed_userauth(user, "keyboard-interactive", m);
	buf_reset(m);
	buf_put_u32(m, 1);
	buf_put_cstring(m, answer);
	{
		struct buf *p = seed_new();

		buf_put_stringb(p, m);
		seed_frame(IPC_AUTH_RESPONSE, p);
		buf_free(p);
	}
	buf_free(m);
}

static void
seed_gex(void)
{
	struct buf *p = seed_new();

	buf_put_u32(p, 2048);
	buf_put_u32(p, 3072);
	buf_put_u32(p, 8192);
	seed_frame(IPC_GEX_REQ, p);
	buf_free(p);
}

static void
seed_state(void)
{
	struct buf *p = seed_new();

	buf_put_u32(p, TRANSPORT_STATE_VERSION);
	buf_put_string(p, seed_sid, sizeof(seed_sid));
	buf_put_cstring(p, "the rest is the session's to decode");
	seed_frame(IPC_TRANSPORT_STATE, p);
	buf_free(p);
}

static void
seed_session(void)
{
	struct buf *p = seed_new();

	seed_session_rekey(p, 2);
	buf_reset(p);
	buf_put_string(p, fz_hk.pub[0].blob, fz_hk.pub[0].bloblen);
	buf_put_string(p, "not a key", 9);
	seed_frame(IPC_SESSION_PROVE_REQ, p);
	buf_reset(p);
	seed_frame(IPC_SESSION_PTY_REQ, p);
	buf_put_u32(p, 1024);
	buf_put_u32(p, 2048);
	buf_put_u32(p, 4096);
	seed_frame(IPC_GEX_REQ, p);
	buf_free(p);
}

void
fz_write_seeds(const char *dir)
{
	struct buf *ukb = seed_new(), *cert = seed_new();

	seed = seed_new();
	fz_user_blobs(ukb, cert);

	/* root: none, a query, then the signed key (prohibit-password). */
	seed_log("Connection from 192.0.2.7");
	seed_gex();
	seed_kex();
	seed_none("root");
	seed_pubkey("root", "publickey", "ssh-ed25519", ukb, 0);
	seed_pubkey("root", "publickey", "ssh-ed25519", ukb, 1);
	seed_state();
	seed_save(dir, "publickey-root");

	seed_kex();
	seed_pubkey("root", HOSTBOUND_METHOD, "ssh-ed25519", ukb, 1);
	seed_state();
	seed_save(dir, "hostbound-root");

	/* Then the session's: a rekey, its audit, hostkeys-prove, a group. */
	seed_kex();
	seed_pubkey("root", "publickey", "ssh-ed25519", ukb, 1);
	seed_state();
	seed_session();
	seed_save(dir, "session-phase");

	seed_kex();
	seed_pubkey(
	    "root", "publickey", "ssh-ed25519-cert-v01@openssh.com", cert, 0);
	seed_pubkey(
	    "root", "publickey", "ssh-ed25519-cert-v01@openssh.com", cert, 1);
	seed_state();
	seed_save(dir, "cert-root");

	/* daemon: two steps of a chain, the second by keyboard-interactive. */
	seed_kex();
	seed_pubkey("daemon", "publickey", "ssh-ed25519", ukb, 1);
	seed_kbdint("daemon", "wrong answer");
	seed_pubkey(
	    "daemon", "publickey", "ssh-ed25519-cert-v01@openssh.com", cert, 1);
	seed_kbdint("daemon", "postern-fixed-answer");
	seed_state();
	seed_save(dir, "chain-daemon");

	/* bin: certificate only, then password. */
	seed_kex();
	seed_pubkey(
	    "bin", "publickey", "ssh-ed25519-cert-v01@openssh.com", cert, 1);
	seed_password("bin", "not the password");
	seed_save(dir, "chain-bin");

	/* An invalid user, every method, until MaxAuthTries. */
	seed_kex();
	seed_none("nosuchuser");
	seed_password("nosuchuser", "secret");
	seed_kbdint("nosuchuser", "postern-fixed-answer");
	seed_pubkey("nosuchuser", "publickey", "ssh-ed25519", ukb, 1);
	seed_password("nosuchuser", "");
	seed_password("nosuchuser", "a");
	seed_password("nosuchuser", "b");
	seed_password("nosuchuser", "c");
	seed_password("nosuchuser", "d");
	seed_save(dir, "invalid-user");

	/* Users the configuration treats apart: denied, restricted. */
	seed_kex();
	seed_none("games");
	seed_pubkey("games", "publickey", "ssh-ed25519", ukb, 1);
	seed_password("games", "");
	seed_save(dir, "user-games");
	seed_kex();
	seed_kbdint("man", "postern-fixed-answer");
	seed_pubkey("man", "publickey", "ssh-ed25519", ukb, 1);
	seed_save(dir, "user-man");
	seed_kex();
	seed_password("sync", "");
	seed_save(dir, "user-sync");

	/* A change of user is refused. */
	seed_kex();
	seed_none("root");
	seed_none("daemon");
	seed_save(dir, "user-change");

	buf_free(ukb);
	buf_free(cert);
	buf_free(seed);
}
