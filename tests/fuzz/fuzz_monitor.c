/*
 * fuzz_monitor.c: libFuzzer target for the monitor's side of the preauth
 * IPC channel, the most exposed decoder the root process has: the input
 * is the byte stream a (hostile) preauth process writes, u32 length | u8
 * type | payload, any number of messages. It goes through the real framing
 * (ipc_recv_timeout, over a socketpair inside this process) and then
 * preauth_dispatch, the monitor's per-message state checks, decoders and
 * handlers: IPC_LOG, IPC_SIGN_REQ (signing with a real host key),
 * IPC_AUDIT_KEX, IPC_GEX_REQ, IPC_AUTH_REQ with every method (auth.c and
 * the method modules), IPC_AUTH_RESPONSE and IPC_TRANSPORT_STATE. The
 * monitor's replies are drained and dropped.
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
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"

#include "monitor/audit.c"
#include "monitor/auth.c"
#include "monitor/hostkeys.c"
#include "monitor/login.c"
#include "monitor/modules.c"
#include "monitor/monitor.c"
#include "monitor/pam.c"
#include "monitor/session_axl.c"

#define postern_module_v1 fz_mod_publickey
#include "modules/publickey.c"
#undef postern_module_v1
#define postern_module_v1 fz_mod_cert
#include "modules/cert.c"
#undef postern_module_v1
#define postern_module_v1 fz_mod_password
#include "modules/pam_password.c"
#undef postern_module_v1
#define postern_module_v1 fz_mod_rootpolicy
#include "modules/rootpolicy.c"
#undef postern_module_v1
#define postern_module_v1 fz_mod_fixed
#include "tests/modules/fixed.c"
#undef postern_module_v1

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* monitor/main.c is not compiled in: spawning helpers never happens. */
int
helper_path(const char *name, char *out, size_t outlen)
{
	(void)name;
	(void)out;
	(void)outlen;
	return ERR_NOT_FOUND;
}

#define FZ_MAX_INPUT (64 * 1024)

/* Fixed keys, so that the seeds' signatures stay valid. */
static const char host_key[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDByM+Wm7mWO803k1ISLkVHIdGbz9jww7scUw1FGhEDHgAAAJD0DwFx9A8B\n"
    "cQAAAAtzc2gtZWQyNTUxOQAAACDByM+Wm7mWO803k1ISLkVHIdGbz9jww7scUw1FGhEDHg\n"
    "AAAEAI/UchfXhhKeCkc6gQL+g/PneUcsH+PglvbepXVmkk/8HIz5abuZY7zTeTUhIuRUch\n"
    "0ZvP2PDDuxxTDUUaEQMeAAAACWZ1enotaG9zdAECAwQ=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
static const char user_key[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDxT0Fs+aCGktb2hQy/XseBiensfTzxGIHODZ64QzB0cAAAAJD/7ck2/+3J\n"
    "NgAAAAtzc2gtZWQyNTUxOQAAACDxT0Fs+aCGktb2hQy/XseBiensfTzxGIHODZ64QzB0cA\n"
    "AAAEALF9ffWMREGvO2fXmnm4QaU3Kmo9ELrreM1d5YErUUBPFPQWz5oIaS1vaFDL9ex4GJ\n"
    "6ex9PPEYgc4NnrhDMHRwAAAACWZ1enotdXNlcgECAwQ=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
/* The user key, certified by ca_pub for root, daemon, bin and fuzz. */
static const char user_cert[] =
    "AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAINMaCj+2cTyjfxm7rqhT"
    "dMPqKoHFYy9xqV+4IZzk5mSBAAAAIPFPQWz5oIaS1vaFDL9ex4GJ6ex9PPEYgc4NnrhDMHRw"
    "AAAAAAAAAAAAAAABAAAACGZ1enpjZXJ0AAAAIQAAAARyb290AAAABmRhZW1vbgAAAANiaW4A"
    "AAAEZnV6egAAAAAAAAAA//////////8AAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRp"
    "bmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1m"
    "b3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAA"
    "AAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACCHsi4KR8XSH9ZMrc0kzZFmnZCN4RbX4E1+VWaR"
    "g8sjagAAAFMAAAALc3NoLWVkMjU1MTkAAABAKkC7Kiat2sNoaU9n31qR83yp54J0Q7zfmKT2"
    "r9/sOcbaDhE/3RAS9yPVDj7SDFSXW6pzWWtwlOCCJdr1bzUtDA==";
static const char ca_pub[] = "ssh-ed25519 "
                             "AAAAC3NzaC1lZDI1NTE5AAAAIIeyLgpHxdIf1kytzSTNkWad"
                             "kI3hFtfgTX5VZpGDyyNq fuzz-ca\n";
static const char user_pub[] = "ssh-ed25519 "
                               "AAAAC3NzaC1lZDI1NTE5AAAAIPFPQWz5oIaS1vaFDL9e"
                               "x4GJ6ex9PPEYgc4NnrhDMHRw fuzz-user";

static char fz_dir[64];
static struct config_source *fz_src;
static struct hostkeys fz_hk;
static struct module_set fz_mods;
static int fz_ready, fz_verbose;

/* FUZZ_MONITOR_VERBOSE=1 shows the monitor's log (to read a seed's run). */
static void
fz_log(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	if (ctx != NULL)
		fprintf(stderr, "monitor: %s\n", msg);
}

static void
fz_die(const char *what)
{
	fprintf(stderr, "fuzz_monitor: %s\n", what);
	abort();
}

static void
fz_file(const char *name, const char *content, mode_t mode)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", fz_dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1 ||
	    write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		fz_die(path);
	close(fd);
}

static void
fz_cleanup(void)
{
	static const char *const names[] = {
	    "hostkey", "authorized_keys", "ca.pub", "banner", "sshd_config"};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fz_dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(fz_dir);
}

/* The configuration every input starts from (Match applies per input). */
static void
fz_config(struct server_config *c)
{
	config_init(c);
	if (config_load_source(c, fz_src) != 0)
		fz_die("config_load_source");
	config_fill_defaults(c);
	if (config_check(c) != 0)
		fz_die("config_check");
}

static void
fz_init(void)
{
	struct server_config c;
	char text[2048], keys[512];

	log_set_handler(
	    fz_log, getenv("FUZZ_MONITOR_VERBOSE") != NULL ? fz_dir : NULL);
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/fuzz_monitor.XXXXXX");
	if (mkdtemp(fz_dir) == NULL || chmod(fz_dir, 0755) != 0)
		fz_die("mkdtemp");
	atexit(fz_cleanup);
	fz_file("hostkey", host_key, 0600);
	snprintf(keys, sizeof(keys),
	    "%s\n"
	    "restrict,pty,command=\"/bin/true\",from=\"127.0.0.1,::1\" %s\n"
	    "cert-authority,principals=\"fuzz\" %s",
	    user_pub, user_pub, ca_pub);
	fz_file("authorized_keys", keys, 0644);
	fz_file("ca.pub", ca_pub, 0644);
	fz_file("banner", "Authorised use only.\n", 0644);
	snprintf(text, sizeof(text),
	    "HostKey %s/hostkey\n"
	    "AuthorizedKeysFile %s/authorized_keys\n"
	    "TrustedUserCAKeys %s/ca.pub\n"
	    "Banner %s/banner\n"
	    "StrictModes no\n"
	    "UsePAM no\n"
	    "PasswordAuthentication yes\n"
	    "KbdInteractiveAuthentication yes\n"
	    "PermitRootLogin prohibit-password\n"
	    "MaxAuthTries 8\n"
	    "Match User daemon\n"
	    "  AuthenticationMethods publickey,publickey "
	    "publickey,keyboard-interactive:fixed password\n"
	    "Match User bin\n"
	    "  AuthenticationMethods publickey,password\n"
	    "  PubkeyAcceptedAlgorithms ssh-ed25519-cert-v01@openssh.com\n",
	    fz_dir, fz_dir, fz_dir, fz_dir);
	fz_file("sshd_config", text, 0644);
	snprintf(text, sizeof(text), "%s/sshd_config", fz_dir);
	if (config_source_read(text, &fz_src) != 0)
		fz_die("config_source_read");
	fz_config(&c);
	if (hostkeys_load(&c, &fz_hk) != 0)
		fz_die("hostkeys_load");
	config_free(&c);
	fz_mods.mods[fz_mods.n++] = &fz_mod_cert;
	fz_mods.mods[fz_mods.n++] = &fz_mod_fixed;
	fz_mods.mods[fz_mods.n++] = &fz_mod_password;
	fz_mods.mods[fz_mods.n++] = &fz_mod_publickey;
	fz_mods.policies[fz_mods.npolicies++] = &fz_mod_rootpolicy;
	/* Records are formatted, and written nowhere. */
	if ((audit_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		fz_die("/dev/null");
	audit_started = 1;
	audit_write_failed = 1;
	if (getenv("FUZZ_MONITOR_VERBOSE") != NULL) {
		fz_verbose = 1;
		log_set_level(LL_DEBUG3);
	}
	fz_ready = 1;
}

/* Throw away what the monitor replied (it must never block). */
static void
fz_drain(int fd)
{
	char tmp[65536];

	while (recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT) > 0)
		;
}

/* Run one preauth byte stream; the monitor's last result. */
static int
fz_run(const uint8_t *data, size_t size)
{
	struct server_config c;
	struct monitor m;
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
	fz_config(&c);
	memset(&m, 0, sizeof(m));
	m.c = &c;
	m.hk = fz_hk;
	m.pfd = sp[0];
	m.preauth_pid = 0;
	snprintf(m.ci.client_addr, sizeof(m.ci.client_addr), "192.0.2.7");
	m.ci.client_port = 50022;
	snprintf(m.ci.server_addr, sizeof(m.ci.server_addr), "192.0.2.1");
	m.ci.server_port = 22;
	auth_init(&m.auth, &c, fz_src, &m.ci, &fz_mods);
	b = buf_new_secret(IPC_MAX_MESSAGE);
	reply = buf_new(IPC_MAX_MESSAGE);
	if (b == NULL || reply == NULL)
		fz_die("out of memory");
	/* preauth_loop without the poll and the deadlines. */
	for (;;) {
		if ((r = ipc_recv_timeout(m.pfd, &type, b, NULL,
		         IPC_MAX_MESSAGE, IPC_MESSAGE_TIMEOUT_MS)) != 0)
			break;
		r = preauth_dispatch(&m, type, b, reply);
		fz_drain(sp[1]);
		if (fz_verbose)
			fprintf(stderr, "message %u: %s, state %d\n", type,
			    err_str(r), m.state);
		if (r != 0 || m.state == MS_DONE)
			break;
	}
	/* A framing error is never a timeout: all the bytes were there. */
	if (r == ERR_TIMEOUT)
		fz_die("ipc_recv_timeout timed out on a complete stream");
	if (m.state == MS_DONE &&
	    (m.tstate == NULL || !m.auth.authenticated || m.sidlen == 0))
		fz_die("transport state accepted before authentication");
	buf_free(m.tstate);
	buf_free(b);
	buf_free(reply);
	auth_free(&m.auth);
	config_free(&c);
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

static struct buf *seed;
static const uint8_t seed_sid[32] = {0x5e, 0x55, 0x10, 0x4e, 0x1d, 0x01, 0x02,
    0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b};

static void
seed_msg(uint8_t type, const struct buf *p)
{
	if (buf_put_u32(seed, (uint32_t)buf_len(p) + 1) != 0 ||
	    buf_put_u8(seed, type) != 0 ||
	    buf_put(seed, buf_ptr(p), buf_len(p)))
		fz_die("seed_msg");
}

static struct buf *
seed_new(void)
{
	struct buf *p = buf_new(IPC_MAX_MESSAGE);

	if (p == NULL)
		fz_die("out of memory");
	return p;
}

static void
seed_log(const char *text)
{
	struct buf *p = seed_new();

	buf_put_u32(p, LL_INFO);
	buf_put_cstring(p, text);
	seed_msg(IPC_LOG, p);
	buf_free(p);
}

/* The first exchange: sign, then report the new keys. */
static void
seed_kex(void)
{
	struct buf *p = seed_new();

	buf_put_cstring(p, "ssh-ed25519");
	buf_put_string(p, seed_sid, sizeof(seed_sid));
	seed_msg(IPC_SIGN_REQ, p);
	buf_reset(p);
	buf_put_u32(p, 1);
	buf_put_cstring(p, "curve25519-sha256");
	buf_put_cstring(p, "ssh-ed25519");
	buf_put_cstring(p, "chacha20-poly1305@openssh.com");
	buf_put_cstring(p, "aes128-ctr");
	buf_put_cstring(p, "");
	buf_put_cstring(p, "hmac-sha2-256-etm@openssh.com");
	seed_msg(IPC_AUDIT_KEX, p);
	buf_free(p);
}

static void
seed_auth(const char *user, const char *method, const struct buf *m)
{
	struct buf *p = seed_new();

	buf_put_cstring(p, user);
	buf_put_cstring(p, "ssh-connection");
	buf_put_cstring(p, method);
	buf_put_stringb(p, m);
	seed_msg(IPC_AUTH_REQ, p);
	buf_free(p);
}

/* publickey (or -hostbound) with key blob; signed if sign. */
static void
seed_pubkey(const char *user, const char *method, const char *alg,
    const struct buf *blob, int sign)
{
	struct buf *m = seed_new(), *tbs = seed_new(), *sig = seed_new();
	struct sshkey *k = NULL;
	int hb = strcmp(method, HOSTBOUND_METHOD) == 0;

	buf_put_bool(m, sign);
	buf_put_cstring(m, alg);
	buf_put_stringb(m, blob);
	if (hb)
		buf_put_string(m, fz_hk.pub[0].blob, fz_hk.pub[0].bloblen);
	if (sign) {
		buf_put_string(tbs, seed_sid, sizeof(seed_sid));
		buf_put_u8(tbs, 50);
		buf_put_cstring(tbs, user);
		buf_put_cstring(tbs, "ssh-connection");
		buf_put_cstring(tbs, method);
		buf_put_bool(tbs, 1);
		buf_put_cstring(tbs, alg);
		buf_put_stringb(tbs, blob);
		if (hb)
			buf_put_string(
			    tbs, fz_hk.pub[0].blob, fz_hk.pub[0].bloblen);
		if (sshkey_parse_private(
		        (const uint8_t *)user_key, strlen(user_key), &k) != 0 ||
		    sshkey_sign(
		        k, sig, buf_ptr(tbs), buf_len(tbs), "ssh-ed25519") != 0)
			fz_die("sign");
		buf_put_stringb(m, sig);
		sshkey_free(k);
	}
	seed_auth(user, method, m);
	buf_free(m);
	buf_free(tbs);
	buf_free(sig);
}

static void
seed_password(const char *user, const char *password)
{
	struct buf *m = seed_new();

	buf_put_bool(m, 0);
	buf_put_cstring(m, password);
	seed_auth(user, "password", m);
	buf_free(m);
}

static void
seed_kbdint(const char *user, const char *answer)
{
	struct buf *m = seed_new();

	buf_put_cstring(m, "");
	buf_put_cstring(m, "fixed");
	seed_auth(user, "keyboard-interactive", m);
	buf_reset(m);
	buf_put_u32(m, 1);
	buf_put_cstring(m, answer);
	{
		struct buf *p = seed_new();

		buf_put_stringb(p, m);
		seed_msg(IPC_AUTH_RESPONSE, p);
		buf_free(p);
	}
	buf_free(m);
}

static void
seed_none(const char *user)
{
	struct buf *m = seed_new();

	seed_auth(user, "none", m);
	buf_free(m);
}

static void
seed_gex(void)
{
	struct buf *p = seed_new();

	buf_put_u32(p, 2048);
	buf_put_u32(p, 3072);
	buf_put_u32(p, 8192);
	seed_msg(IPC_GEX_REQ, p);
	buf_free(p);
}

static void
seed_state(void)
{
	struct buf *p = seed_new();

	buf_put_u32(p, TRANSPORT_STATE_VERSION);
	buf_put_string(p, seed_sid, sizeof(seed_sid));
	buf_put_cstring(p, "the rest is the session's to decode");
	seed_msg(IPC_TRANSPORT_STATE, p);
	buf_free(p);
}

static void
seed_save(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(buf_ptr(seed), 1, buf_len(seed), f) != buf_len(seed) ||
	    fclose(f) != 0)
		fz_die(path);
	buf_reset(seed);
}

void
fz_write_seeds(const char *dir)
{
	struct buf *ukb = seed_new(), *cert = seed_new();
	struct sshkey *k = NULL;
	uint8_t raw[2048];
	size_t n;

	seed = seed_new();
	if (sshkey_parse_private(
	        (const uint8_t *)user_key, strlen(user_key), &k) != 0 ||
	    sshkey_to_blob(k, ukb) != 0)
		fz_die("user key");
	sshkey_free(k);
	if (base64_decode(user_cert, strlen(user_cert), raw, sizeof(raw), &n) !=
	        0 ||
	    buf_put(cert, raw, n) != 0)
		fz_die("user cert");

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

	/* A change of user is refused. */
	seed_kex();
	seed_none("root");
	seed_none("daemon");
	seed_save(dir, "user-change");

	buf_free(ukb);
	buf_free(cert);
	buf_free(seed);
}
