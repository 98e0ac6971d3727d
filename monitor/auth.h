/* auth.h: the monitor's authentication decisions for one connection. */
#ifndef POSTERN_AUTH_H
#define POSTERN_AUTH_H

#include <sys/types.h>

#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "modules/postern_module.h"
#include "monitor/modules.h"
#include "policy/authchain.h"
#include "policy/config.h"
#include "sshkey.h"

struct buf;
struct config_source;
struct authopts;
struct pamctx;
struct sshkey;
struct hostkeys;

struct conn_info {
	char client_addr[64];
	int client_port;
	char server_addr[112]; /* an IP address, or a Unix socket's path */
	int server_port;
	int ip; /* an IP socket (else both ends are "UNKNOWN" port 65535) */
	/* UseDNS yes: the verified PTR name, else the address (usedns.c). */
	char client_host[256];
	int utmp_addr; /* -u: client_host is too long for utmp: the address */
	/* The routing domain, as sshd on Linux reads it: the device the
	 * socket is bound to (SO_BINDTODEVICE), "" when none; NULL off an IP
	 * socket or when it cannot be read (has_rdomain 0). Match RDomain. */
	int has_rdomain;
	char rdomain[32];
};

#define AUTH_MAX_USED_KEYS 16
/*
 * The Banner sent, at most (with what PAM says after it): what fits one
 * reply to preauth (IPC_MAX_MESSAGE) and one packet an OpenSSH client
 * takes (256 KiB). sshd sends a file of up to 1 MiB, which its own
 * client refuses above that; a larger file is none, as in sshd.
 */
#define AUTH_BANNER_MAX (192 * 1024)
#define AUTH_BANNER_FILE_MAX (1024 * 1024)
/* Userauth requests a connection may make, judged or not (as sshd). */
#define AUTH_MAX_ATTEMPTS 1024

struct authctxt {
	/* The connection's config: Match blocks are applied to it once the
	 * user is known. */
	struct server_config *c;
	const struct config_source *src;
	const struct conn_info *ci;
	struct authchain chain; /* AuthenticationMethods progress */
	const struct module_set *mods;
	void *states[MODULES_MAX]; /* each module's per-connection state */
	int started[MODULES_MAX];
	struct pm_conn conn; /* what modules see */
	struct pamctx *pam;  /* UsePAM yes, valid users */
	/* The host key blob the first exchange sent (a certificate's, for a
	 * host certificate): what publickey-hostbound requests must name. */
	const uint8_t *kex_hostkey_blob;
	size_t kex_hostkey_len;
	/* The keyboard-interactive module whose INFO_RESPONSE is awaited. */
	const struct pm_module *active;
	/* Keys that completed a step: "publickey,publickey" needs two. */
	char used_keys[AUTH_MAX_USED_KEYS][SSHKEY_FP_LEN];
	size_t nused_keys;
	/* Options earned so far, merged most-restrictively along the chain;
	 * the session gets them at the end. */
	struct authopts *opts;
	char *user;       /* as sent by the client (fixed after first request),
		       without a ":STYLE" suffix */
	char *wire_user;  /* with it: what the client's signatures cover */
	char *fail_text;  /* the latest failure's words for the client */
	int pam_maxtries; /* PAM said PAM_MAXTRIES: no more attempts */
	char *service;
	int valid;        /* user exists and may log in */
	struct passwd pw; /* owned copy; a fake one for invalid users */
	int failures;
	int judged_failures; /* those sshd's monitor counts (auth_log) */
	int attempts;
	int judged;       /* a module judged this request (it is logged) */
	int root_refused; /* PermitRootLogin refused this step */
	int root_forced;  /* forced-commands-only let root's step count */
	int authenticated;
	/* The password has expired: the session runs passwd(1) instead of
	 * anything asked for, without forwarding (OpenSSH's force_pwchange). */
	int force_pwchange;
	/* UsePAM no: the shadow expiry was looked at (once a connection, at
	 * the first password checked). */
	int pwexp_checked;
	/* Passwords checked on this connection (sshd's monitor counts its
	 * auth_password calls, "none"'s empty one too), and whether this
	 * request's is the first and empty: sshd logs that one as "none". */
	int password_checks;
	int password_logs_none;
	int none_logs_password; /* a "none" that is not the first check */
	int sig_refused;        /* this request's key signature failed */
	int none_done;  /* a "none" request was judged (sshd's runs once) */
	int disconnect; /* the monitor ends the connection after replying */
	/* A Match block's value failed for this connection (a ~user gone
	 * since the start): logged, and the connection ends, as sshd's
	 * monitor does, with no line of the monitor's own. */
	int match_failed;
	/* An invalid user's btmp record, written once the reply is sent:
	 * the file write is not in the time the client can measure. */
	int btmp_pending;
	uint8_t *approved_blob; /* key the last PK_OK approved */
	size_t approved_len;
	char method[32];  /* method that succeeded */
	char detail[320]; /* "ED25519 SHA256:..." for log lines */
	char origin[512]; /* where it matched, "FILE:LINE": audit records */
	/* ExposeAuthInfo: a line per successful step (monitor/login.c). */
	char *auth_info;
	size_t auth_info_before; /* its length before the latest step */
	/* keyboard-interactive/pam's own account check passed: the monitor
	 * does not run the account stack again (as sshd's cached answer). */
	int pam_account_done;
	/* PAM's account stack refused the user (ABI 9): kept for the
	 * connection, as sshd's sshpam_account_status */
	int pam_account_refused;
	/* pam_open_session failed: the session is restricted and runs
	 * nothing (LOGIN_F_PAM_FAILED), as sshd's auth_restrict_session. */
	int pam_session_failed;
	/* How much of PAM's loginmsg a banner has already shown. */
	size_t loginmsg_shown;
	/* SSH_CONNECTION for PAM: "ADDR PORT LADDR LPORT" (an IP socket). */
	char ssh_connection[256];
	const struct buf *step_req; /* the request being judged, or NULL */
	/* The minimum time of a failed password or keyboard-interactive
	 * attempt (auth_fail_delay.c): when the request came in, and the
	 * host keys its per-server secret derives from. */
	struct timespec tstart;
	const struct hostkeys *hostkeys;
	uint8_t timing_key[32];
	int have_timing_key;
};

void auth_init(struct authctxt *a, struct server_config *c,
    const struct config_source *src, const struct conn_info *ci,
    const struct module_set *mods);
void auth_free(struct authctxt *a);

/* After each userauth request, once its IPC_AUTH_REPLY is sent (or the
 * request ended the connection): what the monitor does off the clock. */
void auth_reply_sent(struct authctxt *a);

/*
 * auth_request: judge one IPC_AUTH_REQ payload; append the IPC_AUTH_REPLY
 * payload to reply. sid is the session id the monitor recorded.
 * Returns 0, or an error that ends the connection (malformed request).
 */
int auth_request(struct authctxt *a, const uint8_t *sid, size_t sidlen,
    struct buf *req, struct buf *reply);

/*
 * auth_response: a keyboard-interactive INFO_RESPONSE (IPC_AUTH_RESPONSE)
 * for the exchange in progress; same reply as auth_request.
 */
int auth_response(struct authctxt *a, struct buf *req, struct buf *reply);

/*
 * auth_set_hostkeys: the host keys the minimum failure time's per-server
 * secret is derived from (borrowed for the life of a).
 */
void auth_set_hostkeys(struct authctxt *a, const struct hostkeys *hk);

/*
 * auth_fail_delay: as OpenSSH's ensure_minimum_time_since(): hold a
 * failed attempt that began at a->tstart to a per-user minimum (5 to
 * 9 ms, from a keyed hash of the user name), doubled until it exceeds the
 * time the attempt took, so failures of real and unknown users last the
 * same. The time a valid user's attempt spent in AuthorizedKeysCommand or
 * AuthorizedPrincipalsCommand is reported to the listener; an invalid
 * user's attempt that skipped them counts as that much longer by one of
 * those the listener passed on (auth_worktimes_load), drawn at random.
 */
void auth_fail_delay(struct authctxt *a);

/* auth_worktimes_load: the listener's valid users' attempt times, from
 * the environment (monitor/worktime.h), which then no longer has them. */
void auth_worktimes_load(void);

/* The prefix of OpenSSH's log lines: "invalid user " or "". */
const char *auth_invalid_prefix(const struct authctxt *a);

#endif
