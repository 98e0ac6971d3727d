/*
 * monitor_harness.h: what fuzz_monitor.c and fuzz_userauth.c share: the
 * monitor's sources and the method modules compiled in, fixed keys, the
 * configuration and files in a throwaway directory, and one connection's
 * monitor state (fz_monitor_open/close). Included once, by one target.
 * See fuzz_monitor.c for what is compiled in and what is left out.
 */
#ifndef POSTERN_FUZZ_MONITOR_HARNESS_H
#define POSTERN_FUZZ_MONITOR_HARNESS_H

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
/* The failure delay is computed, not waited for: no sleep per input. */
static int
fz_nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)req;
	(void)rem;
	return 0;
}
#define nanosleep fz_nanosleep
#include "monitor/auth_fail_delay.c"
#undef nanosleep
#include "monitor/grace.c"
#include "monitor/hostkeys.c"
/* Failed logins are recorded nowhere (the fuzzer runs as root). */
#define LOGIN_BTMP_PATH "/nonexistent/postern-fuzz-btmp"
#include "monitor/login.c"
#include "monitor/modules.c"
#include "monitor/monitor.c"
#include "monitor/pam.c"
#include "monitor/session_axl.c"
#include "monitor/startup.c"
/* monitor/sign_budget.c (linux/tcp.h, which clashes with netinet/tcp.h in
 * one file) comes from libfuzzdeps.a. */
#include "monitor/sign_budget.h"

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

/*
 * sandbox/ is not compiled in: only spawn_helper, which never runs here,
 * calls these (an optimising build drops it and them).
 */
int
sandbox_drop_to_user(const char *user, uid_t uid, gid_t gid)
{
	(void)user;
	(void)uid;
	(void)gid;
	abort();
}

int
sandbox_enter_dir(int dirfd)
{
	(void)dirfd;
	abort();
}

/* monitor/main.c is not compiled in: spawning helpers never happens. */
int
helper_path(const char *name, char *out, size_t outlen)
{
	(void)name;
	(void)out;
	(void)outlen;
	return ERR_NOT_FOUND;
}

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

/* FZ_VERBOSE_ENV set (FUZZ_MONITOR_VERBOSE=1...) shows the log. */
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

	log_set_handler(fz_log, getenv(FZ_VERBOSE_ENV) != NULL ? fz_dir : NULL);
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
	    "DenyUsers sync\n"
	    "Match User daemon\n"
	    "  AuthenticationMethods publickey,publickey "
	    "publickey,keyboard-interactive:fixed password\n"
	    "Match User bin\n"
	    "  AuthenticationMethods publickey,password\n"
	    "  PubkeyAcceptedAlgorithms ssh-ed25519-cert-v01@openssh.com\n"
	    "Match User games\n"
	    "  Banner /nonexistent/banner\n"
	    "  MaxAuthTries 2\n"
	    "  PubkeyAuthentication no\n"
	    "Match User man\n"
	    "  AuthenticationMethods keyboard-interactive:fixed,publickey\n"
	    "  PermitEmptyPasswords yes\n",
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
	if (getenv(FZ_VERBOSE_ENV) != NULL) {
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

/* A connection's monitor, talking to preauth on pfd, before any message. */
static void
fz_monitor_open(struct monitor *m, struct server_config *c, int pfd)
{
	fz_config(c);
	memset(m, 0, sizeof(*m));
	m->c = c;
	m->hk = fz_hk;
	m->pfd = pfd;
	m->preauth_pid = 0;
	snprintf(m->ci.client_addr, sizeof(m->ci.client_addr), "192.0.2.7");
	m->ci.client_port = 50022;
	snprintf(m->ci.server_addr, sizeof(m->ci.server_addr), "192.0.2.1");
	m->ci.server_port = 22;
	auth_init(&m->auth, c, fz_src, &m->ci, &fz_mods);
	auth_set_hostkeys(&m->auth, &m->hk);
}

/* What every run checks at the end, then frees. */
static void
fz_monitor_close(struct monitor *m, struct server_config *c)
{
	if (m->state == MS_DONE &&
	    (m->tstate == NULL || !m->auth.authenticated || m->sidlen == 0))
		fz_die("transport state accepted before authentication");
	buf_free(m->tstate);
	auth_free(&m->auth);
	config_free(c);
}

/*
 * An IPC_AUTH_REPLY the monitor sent (docs/ipc.md) must be well formed and
 * agree with its own state, whatever preauth asked.
 */
static void
fz_check_auth_reply(const struct buf *reply, const struct monitor *m)
{
	struct buf tmp = *reply;
	const uint8_t *extra, *banner;
	size_t elen, blen;
	char *methods = NULL;
	uint32_t verdict;

	if (buf_get_u32(&tmp, &verdict) != 0 ||
	    buf_get_cstring(&tmp, &methods, NULL) != 0 ||
	    buf_get_string_direct(&tmp, &extra, &elen) != 0 ||
	    buf_get_string_direct(&tmp, &banner, &blen) != 0 ||
	    buf_end(&tmp) != 0)
		fz_die("malformed IPC_AUTH_REPLY");
	free(methods);
	if (verdict > AUTH_DENIED)
		fz_die("unknown verdict");
	if ((verdict == AUTH_SUCCESS) != (m->auth.authenticated != 0))
		fz_die("verdict and state disagree on success");
	if (verdict == AUTH_CONTINUE &&
	    (elen < 1 || extra[0] != SSH2_MSG_USERAUTH_PK_OK))
		fz_die("AUTH_CONTINUE without a message to relay");
	if ((verdict == AUTH_TOO_MANY || verdict == AUTH_DENIED) &&
	    !m->auth.disconnect)
		fz_die("a final refusal that does not end the connection");
}

/* The session id the harness's first exchange signs (seeds sign it too). */
static const uint8_t seed_sid[32] = {0x5e, 0x55, 0x10, 0x4e, 0x1d, 0x01, 0x02,
    0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
    0x1b};

/*
 * The method fields of a publickey (or -hostbound) request for user with
 * the user key or certificate blob, signed over seed_sid if sign.
 */
static void
fz_pubkey_fields(struct buf *m, const char *user, const char *method,
    const char *alg, const struct buf *blob, int sign)
{
	struct buf *tbs = buf_new(IPC_MAX_MESSAGE), *sig = buf_new(8192);
	struct sshkey *k = NULL;
	int hb = strcmp(method, HOSTBOUND_METHOD) == 0;

	if (tbs == NULL || sig == NULL)
		fz_die("out of memory");
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
	buf_free(tbs);
	buf_free(sig);
}

/* The user key's public blob and its certificate, for seeds. */
static void
fz_user_blobs(struct buf *key, struct buf *cert)
{
	struct sshkey *k = NULL;
	uint8_t raw[2048];
	size_t n;

	if (sshkey_parse_private(
	        (const uint8_t *)user_key, strlen(user_key), &k) != 0 ||
	    sshkey_to_blob(k, key) != 0)
		fz_die("user key");
	sshkey_free(k);
	if (base64_decode(user_cert, strlen(user_cert), raw, sizeof(raw), &n) !=
	        0 ||
	    buf_put(cert, raw, n) != 0)
		fz_die("user cert");
}

/* Seeds: a stream of frames (uint32 length of type and payload, the type,
 * the payload): IPC messages for fuzz_monitor, packets for fuzz_userauth. */
static struct buf *seed;

static struct buf *
seed_new(void)
{
	struct buf *p = buf_new(IPC_MAX_MESSAGE);

	if (p == NULL)
		fz_die("out of memory");
	return p;
}

static void
seed_frame(uint8_t type, const struct buf *p)
{
	if (buf_put_u32(seed, (uint32_t)buf_len(p) + 1) != 0 ||
	    buf_put_u8(seed, type) != 0 ||
	    buf_put(seed, buf_ptr(p), buf_len(p)))
		fz_die("seed_frame");
}

/*
 * A rekey after login as the session asks for it: the host key signature
 * over seed_sid (an IPC_SESSION_SIGN_REQ), then the new keys audited
 * (IPC_AUDIT_KEX number num, aes256-gcm both ways), into p's frames.
 */
static void
seed_session_rekey(struct buf *p, uint32_t num)
{
	buf_reset(p);
	buf_put_cstring(p, "ssh-ed25519");
	buf_put_string(p, seed_sid, sizeof(seed_sid));
	seed_frame(IPC_SESSION_SIGN_REQ, p);
	buf_reset(p);
	buf_put_u32(p, num);
	buf_put_cstring(p, "curve25519-sha256");
	buf_put_cstring(p, "ssh-ed25519");
	buf_put_cstring(p, "aes256-gcm@openssh.com");
	buf_put_cstring(p, "aes256-gcm@openssh.com");
	buf_put_cstring(p, "");
	buf_put_cstring(p, "");
	seed_frame(IPC_AUDIT_KEX, p);
}

/*
 * One userauth request of user for method with the method's fields m,
 * framed as the target reads it (an IPC_AUTH_REQ for fuzz_monitor, a
 * USERAUTH_REQUEST packet for fuzz_userauth): each target defines it.
 */
static void seed_userauth(
    const char *user, const char *method, const struct buf *m);

/* publickey (or -hostbound) with key blob; signed if sign. */
static void
seed_pubkey(const char *user, const char *method, const char *alg,
    const struct buf *blob, int sign)
{
	struct buf *m = seed_new();

	fz_pubkey_fields(m, user, method, alg, blob, sign);
	seed_userauth(user, method, m);
	buf_free(m);
}

static void
seed_password(const char *user, const char *password)
{
	struct buf *m = seed_new();

	buf_put_bool(m, 0);
	buf_put_cstring(m, password);
	seed_userauth(user, "password", m);
	buf_free(m);
}

static void
seed_none(const char *user)
{
	struct buf *m = seed_new();

	seed_userauth(user, "none", m);
	buf_free(m);
}

/* The seed written so far into DIR/name; seed starts again empty. */
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

#endif
