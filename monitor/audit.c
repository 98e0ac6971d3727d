/*
 * audit.c: the connection's Linux audit records, through libaudit, in the
 * shape OpenSSH's Linux audit build writes them (op=, acct=, exe=,
 * hostname=, addr=, terminal=ssh, res=). A kernel without audit support is
 * reported once and otherwise ignored; a record that cannot be written is
 * logged, and the connection goes on.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <libaudit.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "err.h"
#include "ipc.h"
#include "log.h"
#include "monitor.h"
#include "transport.h"

#define AUDIT_MSG_MAX 2048
#define POSTERN_AUDIT_TTY "ssh"

static int audit_fd = -1;
static int audit_started;
static int audit_write_failed; /* logged once per process */

/* The errors of audit_open() that mean "no audit in this kernel". */
static int
audit_absent(int e)
{
	return e == EINVAL || e == EPROTONOSUPPORT || e == EAFNOSUPPORT;
}

/* Open the interface; log why not at level (absent) or as an error. */
static int
audit_open_logged(enum log_level level)
{
	int fd;

	if ((fd = audit_open()) >= 0)
		return fd;
	if (audit_absent(errno))
		log_msg(level, __func__, 0,
		    "audit: kernel audit interface not available (%s); "
		    "no audit records are written",
		    strerror(errno));
	else
		error("audit: cannot open the kernel audit interface: %s",
		    strerror(errno));
	return -1;
}

void
audit_check(void)
{
	int fd;

	if (geteuid() != 0)
		return;
	if ((fd = audit_open_logged(LL_INFO)) >= 0)
		audit_close(fd);
}

void
audit_start(void)
{
	if (audit_started)
		return;
	audit_started = 1;
	/* Writing records takes CAP_AUDIT_WRITE: as OpenSSH, only as root. */
	if (geteuid() != 0) {
		debug("audit: not running as root, no audit records");
		return;
	}
	/* The listener already said so, once for all connections. */
	if ((audit_fd = audit_open_logged(LL_DEBUG1)) < 0)
		return;
	/* The user's session and preauth must never inherit it. */
	(void)fcntl(audit_fd, F_SETFD, FD_CLOEXEC);
}

/* A libaudit call's result: > 0 written, 0 nobody listening, < 0 error. */
static void
audit_result(int rc, const char *what)
{
	if (rc >= 0 || audit_write_failed)
		return;
	audit_write_failed = 1;
	error("audit: cannot write a %s record: %s", what, strerror(-rc));
}

/*
 * audit_log_user_message() for the connection's tty, its result as
 * audit_result() reads it: libaudit 3.0 returns 0 for a send the kernel
 * refused with EPERM when it finds no CAP_AUDIT_WRITE (as under a unit
 * that drops it), leaving errno EPERM; that is a record lost, not nobody
 * listening.
 */
static int
user_message(
    int type, const char *msg, const char *host, const char *addr, int ok)
{
	int rc;

	errno = 0;
	rc = audit_log_user_message(
	    audit_fd, type, msg, host, addr, POSTERN_AUDIT_TTY, ok);
	return rc == 0 && errno == EPERM ? -EPERM : rc;
}

/* 1 if v can go into a record as it is (never mistaken for hex or split). */
static int
plain_value(const char *v)
{
	const char *p;

	if (*v == '\0')
		return 0;
	for (p = v; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || strchr("._:/+@,=<>-", *p)))
			return 0;
	return 1;
}

/*
 * Append " name=value" to msg: plain when it is one safe word, else
 * quoted or hex-encoded as auditd encodes untrusted values. always_encode
 * for the fields auparse decodes (acct, file), which must be either.
 */
static void
field(char *msg, size_t len, const char *name, const char *value,
    int always_encode)
{
	size_t n = strlen(msg);
	char *enc;

	if (value == NULL || n >= len)
		return;
	if (!always_encode && plain_value(value)) {
		snprintf(msg + n, len - n, " %s=%s", name, value);
		return;
	}
	if ((enc = audit_encode_nv_string(name, value, 0)) == NULL)
		return;
	snprintf(msg + n, len - n, " %s", enc);
	free(enc);
}

/* The account a record names: OpenSSH's audit_username(). */
#define AUDIT_ACCT_UNKNOWN "(unknown user)"

const char *
audit_acct(const struct authctxt *a)
{
	if (a->user == NULL)
		return AUDIT_ACCT_UNKNOWN;
	if (!a->valid)
		return "(invalid user)";
	return a->user;
}

/*
 * The key fields of a publickey verdict, from the module's log detail:
 * "TYPE SHA256:fp" and, for a certificate, lib/authcert.c's
 * "TYPE-CERT SHA256:fp ID key-id (serial N) CA TYPE SHA256:fp".
 */
static void
key_fields(char *msg, size_t len, const char *detail, const char *cred)
{
	char type[64], id[256], catype[64], cafp[96], serial[24];
	const char *p, *s, *ca;
	size_t n;

	if ((p = strchr(detail, ' ')) == NULL)
		return;
	n = (size_t)(p - detail);
	if (n == 0 || n >= sizeof(type))
		return;
	memcpy(type, detail, n);
	type[n] = '\0';
	field(msg, len, "key_type", type, 0);
	if (cred[0] != '\0')
		field(msg, len, "key_fp", cred, 0);
	if (n < 5 || strcmp(type + n - 5, "-CERT") != 0)
		return;
	/* After the key's fingerprint: " ID ", the ID, then the tail. */
	if ((p = strchr(p + 1, ' ')) == NULL || strncmp(p, " ID ", 4) != 0)
		return;
	p += 4;
	for (s = NULL, ca = p; (ca = strstr(ca, " (serial ")) != NULL; ca++)
		s = ca;
	if (s == NULL || (size_t)(s - p) >= sizeof(id))
		return;
	memcpy(id, p, (size_t)(s - p));
	id[s - p] = '\0';
	if (sscanf(s, " (serial %23[0-9]) CA %63s %95s", serial, catype,
	        cafp) != 3)
		return;
	/* A FIDO key's line goes on: ", signature count = N". */
	cafp[strcspn(cafp, ",")] = '\0';
	field(msg, len, "cert_id", id, 1);
	field(msg, len, "cert_serial", serial, 0);
	field(msg, len, "ca_type", catype, 0);
	field(msg, len, "ca_fp", cafp, 0);
}

/* "FILE:LINE" as file= and line=, or "FILE" as file=. */
static void
origin_fields(char *msg, size_t len, const char *origin)
{
	char path[sizeof(((struct authctxt *)0)->origin)];
	const char *colon = strrchr(origin, ':');
	size_t n;

	if (origin[0] == '\0')
		return;
	if (colon != NULL && colon[1] != '\0' &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		n = (size_t)(colon - origin);
		if (n >= sizeof(path))
			return;
		memcpy(path, origin, n);
		path[n] = '\0';
		field(msg, len, "file", path, 1);
		field(msg, len, "line", colon + 1, 0);
		return;
	}
	field(msg, len, "file", origin, 1);
}

/* hostname=: the client's host (UseDNS: its name, else its address). */
static const char *
client_host(const struct authctxt *a)
{
	return a->ci->client_host[0] != '\0' ? a->ci->client_host
	                                     : a->ci->client_addr;
}

void
audit_auth(const struct authctxt *a, const char *method, const char *submethod,
    const char *cred, int verdict)
{
	char msg[AUDIT_MSG_MAX], op[96];

	if (audit_fd < 0)
		return;
	snprintf(op, sizeof(op), "%s%s%s", method, submethod ? ":" : "",
	    submethod ? submethod : "");
	msg[0] = '\0';
	field(msg, sizeof(msg), "op", op, 0);
	field(msg, sizeof(msg), "acct", audit_acct(a), 1);
	if (strcmp(method, "publickey") == 0)
		key_fields(msg, sizeof(msg), a->detail, cred);
	origin_fields(msg, sizeof(msg), a->origin);
	if (verdict == AUTH_PARTIAL)
		field(msg, sizeof(msg), "chain", "partial", 0);
	else if (verdict == AUTH_SUCCESS)
		field(msg, sizeof(msg), "chain", "complete", 0);
	/* The leading blank of the first field is not part of the record. */
	audit_result(user_message(AUDIT_USER_AUTH, msg + 1, client_host(a),
	                 a->ci->client_addr,
	                 verdict == AUTH_SUCCESS || verdict == AUTH_PARTIAL),
	    "USER_AUTH");
}

void
audit_auth_maxtries(const struct authctxt *a)
{
	char msg[AUDIT_MSG_MAX];

	if (audit_fd < 0)
		return;
	msg[0] = '\0';
	field(msg, sizeof(msg), "op", "maxtries-exceeded", 0);
	field(msg, sizeof(msg), "acct", audit_acct(a), 1);
	audit_result(user_message(AUDIT_USER_AUTH, msg + 1, client_host(a),
	                 a->ci->client_addr, 0),
	    "USER_AUTH");
}

/* USER_LOGIN, USER_START, USER_END, USER_ERR: op=login, as OpenSSH. */
static void
acct_record_tty(const struct conn_info *ci, const char *acct, int type,
    const char *what, int ok, const char *tty)
{
	if (audit_fd < 0)
		return;
	audit_result(audit_log_acct_message(audit_fd, type, NULL, "login", acct,
	                 (unsigned)-1, NULL, ci->client_addr, tty, ok),
	    what);
}

static void
acct_record(const struct authctxt *a, int type, const char *what, int ok)
{
	acct_record_tty(
	    a->ci, audit_acct(a), type, what, ok, POSTERN_AUDIT_TTY);
}

/*
 * A successful login's USER_LOGIN, as sshd's audit_session_open() writes
 * it: the user by id= (what aulast reads), the client's host (UseDNS:
 * its name, else its address) in hostname= (aulastlog's "From").
 */
void
audit_login_tty(const struct authctxt *a, const char *tty)
{
	if (audit_fd < 0)
		return;
	audit_result(audit_log_acct_message(audit_fd, AUDIT_USER_LOGIN, NULL,
	                 "login", NULL, (unsigned)a->pw.pw_uid, client_host(a),
	                 a->ci->client_addr, tty, 1),
	    "USER_LOGIN");
}

void
audit_login(const struct authctxt *a)
{
	audit_login_tty(a, POSTERN_AUDIT_TTY);
}

void
audit_session_start(const struct authctxt *a)
{
	acct_record(a, AUDIT_USER_START, "USER_START", 1);
}

/* The connection's ends, as OpenSSH's records carry them. */
static void
conn_fields(
    char *msg, size_t len, const struct conn_info *ci, pid_t spid, uid_t suid)
{
	size_t n = strlen(msg);

	if (n < len)
		snprintf(msg + n, len - n,
		    " spid=%ld suid=%lu rport=%d laddr=%s lport=%d", (long)spid,
		    (unsigned long)suid, ci->client_port,
		    ci->ip ? ci->server_addr : "UNKNOWN", ci->server_port);
}

/* The uid preauth runs as: the privsep user's (root runs it). */
uid_t
audit_preauth_uid(void)
{
	struct passwd *pw = getpwnam(POSTERN_PRIVSEP_USER);

	return pw != NULL ? pw->pw_uid : (uid_t)-1;
}

static void keys_destroyed(const struct conn_info *ci, pid_t spid, uid_t suid);

void
audit_crypto_session(const struct authctxt *a, const struct transport_algs *t,
    int rekey, pid_t spid, uid_t suid)
{
	char msg[AUDIT_MSG_MAX], bits[16];
	int out;

	if (audit_fd < 0)
		return;
	if (rekey)
		keys_destroyed(a->ci, spid, suid);
	for (out = 0; out < 2; out++) {
		msg[0] = '\0';
		field(msg, sizeof(msg), "op", "start", 0);
		field(msg, sizeof(msg), "direction",
		    out ? "from-server" : "from-client", 0);
		field(msg, sizeof(msg), "cipher",
		    out ? t->cipher_out : t->cipher_in, 0);
		snprintf(bits, sizeof(bits), "%u",
		    out ? t->key_bits_out : t->key_bits_in);
		field(msg, sizeof(msg), "ksize", bits, 0);
		field(msg, sizeof(msg), "mac", out ? t->mac_out : t->mac_in, 0);
		field(msg, sizeof(msg), "pfs", t->kex, 0);
		field(msg, sizeof(msg), "hostkey", t->hostkey, 0);
		conn_fields(msg, sizeof(msg), a->ci, spid, suid);
		audit_result(user_message(AUDIT_CRYPTO_SESSION, msg + 1, NULL,
		                 a->ci->client_addr, 1),
		    "CRYPTO_SESSION");
	}
}

/* CRYPTO_KEY_USER op=destroy for both directions' session keys. */
static void
keys_destroyed(const struct conn_info *ci, pid_t spid, uid_t suid)
{
	char msg[AUDIT_MSG_MAX];
	int out;

	for (out = 0; out < 2; out++) {
		snprintf(msg, sizeof(msg),
		    "op=destroy kind=session fp=? direction=%s",
		    out ? "from-server" : "from-client");
		conn_fields(msg, sizeof(msg), ci, spid, suid);
		audit_result(user_message(AUDIT_CRYPTO_KEY_USER, msg, NULL,
		                 ci->client_addr, 1),
		    "CRYPTO_KEY_USER");
	}
}

void
audit_session_end(const struct authctxt *a, int ok, pid_t spid)
{
	if (audit_fd < 0)
		return;
	keys_destroyed(a->ci, spid, a->pw.pw_uid);
	if (ok)
		acct_record(a, AUDIT_USER_END, "USER_END", 1);
	else
		acct_record(a, AUDIT_USER_ERR, "USER_ERR", 0);
}

void
audit_login_failed(const struct authctxt *a)
{
	/* sshd's failed logins say terminal=sshd. */
	acct_record_tty(
	    a->ci, audit_acct(a), AUDIT_USER_LOGIN, "USER_LOGIN", 0, "sshd");
}

void
audit_preauth_end(const struct authctxt *a, int had_keys, pid_t spid)
{
	if (audit_fd < 0)
		return;
	if (had_keys)
		keys_destroyed(a->ci, spid, audit_preauth_uid());
	if (a->authenticated)
		audit_login_failed(a);
}

void
audit_login_abandoned(const struct conn_info *ci, pid_t keys_spid)
{
	if (audit_fd >= 0 && keys_spid > 0)
		keys_destroyed(ci, keys_spid, audit_preauth_uid());
}
