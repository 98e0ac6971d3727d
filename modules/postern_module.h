/*
 * postern_module.h: the ABI between the monitor and an authentication
 * method module, modules/NAME.so, loaded by the monitor with dlopen().
 * A module runs only in the monitor, never touches the network, and may
 * use lib/ (resolved from posternd itself) and this header, nothing else
 * of the tree. See docs/modules.md.
 */
#ifndef POSTERN_MODULE_H
#define POSTERN_MODULE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bumped on any change; the monitor refuses a module outside
 * POSTERN_MODULE_ABI_MIN..POSTERN_MODULE_ABI. Version 2 appended origin to
 * struct pm_result, which the monitor allocates and zeroes: a version 1
 * module, which never writes it, still works. Version 3 appended key_algs
 * and check_method to struct pm_module, which the monitor reads only from
 * a descriptor that says it is version 3 or later, and detail_long to
 * struct pm_result (zeroed as origin is). Version 4 appended client_host
 * to struct pm_conn, which the monitor fills for every module; version 5
 * appended ssh_connection and auth_info to it, likewise. Version 6
 * appended wire_user and login_message, pam_env and pam_password (the
 * monitor's PAM services) to struct pm_conn, and unjudged to struct
 * pm_result. Version 7 appended forget_secrets to struct pm_conn.
 * Version 8 appended sig_refused to struct pm_result, version 9
 * account_refused.
 */
#define POSTERN_MODULE_ABI 9
#define POSTERN_MODULE_ABI_MIN 1

/* Every module exports one descriptor under this name. */
#define POSTERN_MODULE_SYMBOL "postern_module_v1"

/* A longer password fails at once, unchecked: OpenSSH's MAX_PASSWORD_LEN. */
#define PM_PASSWORD_MAX 1024

enum pm_verdict {
	PM_FAILURE = 0,  /* this attempt failed */
	PM_SUCCESS = 1,  /* the method succeeded (one step of a chain) */
	PM_CONTINUE = 2, /* send res->msg to the client and wait */
};

/* The connection as the monitor knows it; read-only for a module. */
struct pm_conn {
	const char *user;  /* as the client sent it; never NULL */
	int user_valid;    /* 0: unknown or refused user; the module must
			      fail, but should take the same path */
	unsigned long uid; /* for an invalid user: the privsep account's */
	unsigned long gid;
	const char *home;
	const char *service;
	const char *client_addr;
	int client_port;
	const uint8_t *session_id;
	size_t session_id_len;
	/*
	 * An effective (Match-applied) configuration value by lower-case
	 * sshd_config keyword, as `sshd -T` prints it; idx walks a list.
	 * NULL when unset or past the end.
	 */
	const char *(*setting)(
	    const struct pm_conn *conn, const char *keyword, size_t idx);
	void *host; /* the monitor's, opaque */
	/*
	 * The method name of the request being judged, e.g.
	 * "publickey-hostbound-v00@openssh.com" for the host-bound form
	 * (OpenSSH PROTOCOL s2.5), whose extra host key field the monitor
	 * has already checked. Appended in ABI 2; older modules ignore it.
	 */
	const char *method;
	/*
	 * UseDNS yes: the client's verified host name (lower case), else its
	 * address; what from= and user@host patterns match as the host.
	 * Appended in ABI 4.
	 */
	const char *client_host;
	/*
	 * What sshd puts in PAM's environment (appended in ABI 5):
	 * ssh_connection is SSH_CONNECTION's value, "ADDR PORT LADDR LPORT"
	 * (NULL when the connection is not on an IP socket); auth_info is
	 * SSH_AUTH_INFO_0's, a line per step of the chain completed so far
	 * ("publickey ALG BASE64", "password", ...; "" before any).
	 */
	const char *ssh_connection;
	const char *auth_info;
	/*
	 * ABI 6, what sshd keeps of PAM's authentication for the rest of
	 * the login. login_message: text for the user (PAM's informational
	 * and error messages, a line each; sshd's loginmsg), sent in the
	 * banner that ends authentication and shown again in a terminal
	 * session. pam_env: a "NAME=value" PAM's authentication stack set,
	 * put into the monitor's PAM environment for the account and
	 * session phases. Both copy their argument; neither is ever NULL.
	 */
	/*
	 * ABI 6: the user name as the client's first request sent it, with
	 * a ":STYLE" suffix that user leaves out (as sshd strips it); what a
	 * publickey signature covers.
	 */
	const char *wire_user;
	void (*login_message)(const struct pm_conn *conn, const char *text);
	void (*pam_env)(const struct pm_conn *conn, const char *nameval);
	/*
	 * ABI 6, UsePAM yes: pam_authenticate(flags) in the monitor's own
	 * PAM handle, the one its account and session phases use (so what
	 * the modules keep, pam_set_data and pam_putenv, lasts the login),
	 * as sshd's password method runs in its monitor; password answers
	 * every echo-off prompt, informational text is kept as
	 * login_message's. PAM's result, or -1 without a handle.
	 */
	int (*pam_password)(
	    const struct pm_conn *conn, const char *password, int flags);
	/*
	 * ABI 7: for a process the module forks to run code that is not
	 * postern's (PAM's modules): wipe and free, in that process, what
	 * the monitor holds that it must not (the host private keys, the
	 * timing secret), as sshd's demote_sensitive_data(). Never in the
	 * monitor itself.
	 */
	void (*forget_secrets)(const struct pm_conn *conn);
};

/* What one call decided. The module fills it; the monitor frees msg and
 * opts with free(). */
struct pm_result {
	enum pm_verdict verdict;
	/* PM_CONTINUE: the SSH message to send (60: USERAUTH_PK_OK or
	 * USERAUTH_INFO_REQUEST) and its payload after the type byte. */
	uint8_t msg_type;
	uint8_t *msg;
	size_t msg_len;
	/* For OpenSSH's log lines: "ED25519 SHA256:..." after "ssh2: ". */
	char detail[160];
	/* The credential used (e.g. a key fingerprint): the monitor refuses
	 * one that already completed an earlier step of the chain. */
	char credential[96];
	/* Options the module imposes on the session, in lib/authopts.h's
	 * encoding (authopts_serialize); NULL imposes none. */
	uint8_t *opts;
	size_t opts_len;
	/* ABI 2, for the audit trail: where the credential was found, as
	 * "FILE:LINE" (an authorized_keys or principals line) or "FILE" (a
	 * TrustedUserCAKeys file, the file that judged a TOTP code); empty
	 * when it was not. */
	char origin[512];
	/* ABI 3: detail when it does not fit in detail[] (a certificate of
	 * a FIDO key and its signature count); empty: detail stands. */
	char detail_long[320];
	/*
	 * ABI 6: 1 when the request was refused before its credential was
	 * looked up, as sshd's preauth process refuses it (an algorithm not
	 * in PubkeyAcceptedAlgorithms, a key that does not decode): it
	 * counts towards MaxAuthTries, but sshd's monitor, never asked,
	 * logs no "Failed" line for it.
	 */
	int unjudged;
	/*
	 * ABI 6: text (malloc'd, freed by the monitor) sent in a banner with
	 * the reply to this request: keyboard-interactive:pam's words for a
	 * failure PAM explained. Text for the login goes to login_message.
	 */
	char *banner;
	/*
	 * ABI 6: 1 when PAM answered PAM_MAXTRIES: as sshd, the monitor ends
	 * the attempts as MaxAuthTries would.
	 */
	int maxtries;
	/*
	 * ABI 8: 1 when the credential was found but its proof failed (an
	 * authorized key whose signature does not verify, or lacks a FIDO
	 * flag it needs): sshd's monitor judged that (its keyverify) and
	 * counts it among the failures that raise its log lines' level.
	 */
	int sig_refused;
	/*
	 * ABI 9: 1 when PAM's account stack refused the user (run by
	 * keyboard-interactive:pam after its authentication): as sshd keeps
	 * that answer (sshpam_account_status), the monitor refuses every
	 * later login of the connection without asking PAM again.
	 */
	int account_refused;
};

/*
 * ABI 3, for a policy module: a method has just succeeded for one step of
 * a valid user's chain; the policy may still refuse it.
 */
struct pm_step {
	const char *method;    /* "publickey", "password", ... */
	const char *submethod; /* NULL, or "pam", "totp", ... */
	/* The session options merged along the chain so far, this step's
	 * included (lib/authopts.h's encoding), and their forced command
	 * (command=, a certificate's force-command) or NULL. */
	const uint8_t *opts;
	size_t opts_len;
	const char *forced_command;
};

struct pm_module {
	uint32_t abi; /* POSTERN_MODULE_ABI */
	/* "publickey", "keyboard-interactive", ...; NULL for a policy
	 * module (ABI 3), which has check_method and no request. */
	const char *method;
	const char *submethod; /* NULL, or a device such as "pam", "totp" */
	/* Per connection, once the user is known. 0 or a negative error. */
	int (*start)(const struct pm_conn *conn, void **state);
	/*
	 * A USERAUTH_REQUEST for this method; data/len are its
	 * method-specific fields. Return 0 with res filled, or a negative
	 * error for a malformed request (the connection ends).
	 */
	int (*request)(void *state, const struct pm_conn *conn,
	    const uint8_t *data, size_t len, struct pm_result *res);
	/* keyboard-interactive: the payload of USERAUTH_INFO_RESPONSE. */
	int (*response)(void *state, const struct pm_conn *conn,
	    const uint8_t *data, size_t len, struct pm_result *res);
	void (*finish)(void *state);
	/*
	 * ABI 3. publickey modules only: the request algorithms this module
	 * judges, a pattern list ("*-cert-v01@openssh.com"). The monitor
	 * reads the algorithm of each publickey request and hands it to the
	 * first module (in file name order) whose list matches it; NULL
	 * (and every module of ABI 1 or 2) takes the algorithms no module
	 * lists.
	 */
	const char *key_algs;
	/*
	 * ABI 3. A policy module: called after every successful step of a
	 * valid user's chain, before it counts. PM_SUCCESS lets it count;
	 * anything else (PM_FAILURE, a negative error) refuses it. Every
	 * loaded policy module is asked; each may log why it refuses.
	 */
	int (*check_method)(
	    const struct pm_conn *conn, const struct pm_step *step);
};

#endif
