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
 * module, which never writes it, still works.
 */
#define POSTERN_MODULE_ABI 2
#define POSTERN_MODULE_ABI_MIN 1

/* Every module exports one descriptor under this name. */
#define POSTERN_MODULE_SYMBOL "postern_module_v1"

enum pm_verdict {
	PM_FAILURE = 0,  /* this attempt failed */
	PM_SUCCESS = 1,  /* the method succeeded (one step of a chain) */
	PM_CONTINUE = 2, /* send res->msg to the client and wait */
};

/* The connection as the monitor knows it; read-only for a module. */
struct pm_conn {
	const char *user;  /* as the client sent it (sanitise before logging) */
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
	 * TrustedUserCAKeys file); empty when it was not. */
	char origin[512];
};

struct pm_module {
	uint32_t abi;          /* POSTERN_MODULE_ABI */
	const char *method;    /* "publickey", "keyboard-interactive", ... */
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
};

#endif
