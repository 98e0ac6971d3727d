/*
 * audit.h: the Linux audit trail (libaudit) of one connection, written by
 * its monitor with the record types and fields of OpenSSH's Linux audit
 * build. docs/audit.md lists every record and field.
 */
#ifndef POSTERN_AUDIT_H
#define POSTERN_AUDIT_H

#include <sys/types.h>

struct authctxt;
struct buf;

/*
 * audit_check: the listener, at start: say once (at INFO) when the kernel
 * has no audit interface, so that the absence of records is explained.
 */
void audit_check(void);

/*
 * audit_start: a monitor, before its first record: open the audit
 * interface for this process. Without one (the listener said so) or when
 * not running as root, every record below is skipped.
 */
void audit_start(void);

/*
 * USER_AUTH for one verdict of an authentication method: AUTH_SUCCESS,
 * AUTH_PARTIAL or AUTH_FAILURE (ipc.h); method and submethod as run, cred
 * the credential the module reported. The key, certificate and the file
 * and line it matched come from a.
 */
void audit_auth(const struct authctxt *a, const char *method,
    const char *submethod, const char *cred, int verdict);
/* USER_AUTH with op=maxtries-exceeded: MaxAuthTries ended the attempts. */
void audit_auth_maxtries(const struct authctxt *a);

/*
 * USER_LOGIN res=success terminal=ssh: the login, in the form of sshd's
 * audit_session_open() (id=UID, hostname=).
 */
void audit_login(const struct authctxt *a);

/* USER_LOGIN op=login res=success terminal=/dev/pts/N: a login recorded
 * on a pty (utmp), as sshd's audit_session_open(), likewise. */
void audit_login_tty(const struct authctxt *a, const char *tty);

struct transport_algs;

/*
 * CRYPTO_SESSION, one per direction, for a set of session keys: the
 * algorithms (checked, see lib/kexaudit.h) the process spid, running as
 * suid, negotiated. A rekey first records the old keys' destruction.
 */
void audit_crypto_session(const struct authctxt *a,
    const struct transport_algs *t, int rekey, pid_t spid, uid_t suid);
/* The uid preauth runs as (the privsep user's), for suid=. */
uid_t audit_preauth_uid(void);

/* USER_START: the user's session process runs. */
void audit_session_start(const struct authctxt *a);

/*
 * The session process spid ended, and with it the session keys:
 * CRYPTO_KEY_USER op=destroy per direction, then USER_END (ok) or USER_ERR
 * (it died or was killed).
 */
void audit_session_end(const struct authctxt *a, int ok, pid_t spid);

/*
 * A failed login, as sshd writes one: USER_LOGIN op=login res=failed
 * terminal=sshd, the account as audit_acct(). sshd writes it at each
 * attempt its monitor judged and logged as Failed (a refused key of an
 * invalid user is neither), and twice when the user named does not exist
 * (its monitor and its preauth child each report that).
 */
void audit_login_failed(const struct authctxt *a);

/*
 * A connection that ended without a session: CRYPTO_KEY_USER op=destroy
 * per direction when the preauth process spid had negotiated keys, and
 * USER_LOGIN res=failed when it had authenticated (ChrootDirectory
 * refused it); the failed attempts were recorded as they failed.
 */
void audit_preauth_end(const struct authctxt *a, int had_keys, pid_t spid);

struct conn_info;

/*
 * The same for a connection whose monitor LoginGraceTime killed, written
 * by the listener from what the monitor reported (monitor/startup.h):
 * keys_spid the pid of preauth if it had session keys, else 0. No
 * USER_LOGIN, as sshd: the attempts that failed were recorded then.
 */
void audit_login_abandoned(const struct conn_info *ci, pid_t keys_spid);

/* The account a record names: the user's name, "(invalid user)" or
 * "(unknown user)" (OpenSSH's audit_username()). */
const char *audit_acct(const struct authctxt *a);

#endif
