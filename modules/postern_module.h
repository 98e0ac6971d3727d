/*
 * postern_module.h: the ABI between the monitor and an authentication
 * method module (modules/NAME.so, dlopen'd by the monitor at start).
 * A module runs only in the monitor, never touches the network, and sees
 * the connection only through the host functions below. See
 * docs/modules.md.
 */
#ifndef POSTERN_MODULE_H
#define POSTERN_MODULE_H

#include <stddef.h>
#include <stdint.h>

/* Bumped on any incompatible change; the monitor refuses other values. */
#define POSTERN_MODULE_ABI 1

/* The symbol every module exports. */
#define POSTERN_MODULE_SYMBOL "postern_module_v1"

/* Verdicts a module returns for a request or a response. */
enum pm_verdict {
	PM_FAILURE = 0,	  /* this attempt failed */
	PM_SUCCESS = 1,	  /* the method succeeded for this step */
	PM_NEED_MORE = 2, /* send the prepared message and wait (PK_OK,
			     keyboard-interactive INFO_REQUEST) */
};

/* Messages a module may ask preauth to send (payload after the type). */
enum pm_message {
	PM_MSG_NONE = 0,
	PM_MSG_PK_OK = 60,	  /* SSH2_MSG_USERAUTH_PK_OK */
	PM_MSG_INFO_REQUEST = 60, /* SSH2_MSG_USERAUTH_INFO_REQUEST */
};

struct pm_buf; /* a bounded byte buffer owned by the monitor */

/* What the monitor offers a module (all pointers valid for the call). */
struct pm_host {
	uint32_t abi;
	/* The connection: user as sent, validity, client address/port. */
	const char *user;
	int user_valid; /* 0 for unknown or refused users: fail, same path */
	unsigned long uid, gid;
	const char *home;
	const char *client_addr;
	int client_port;
	const uint8_t *session_id;
	size_t session_id_len;
	/* Logging with OpenSSH's levels (0 QUIET .. 7 DEBUG3). */
	void (*log)(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
	/* A configuration value by sshd_config keyword, NULL if unset. */
	const char *(*config)(const char *keyword);
	/* Append to a reply message / read a request: wire encoding. */
	int (*put_u32)(struct pm_buf *b, uint32_t v);
	int (*put_string)(struct pm_buf *b, const void *s, size_t len);
	int (*put_bool)(struct pm_buf *b, int v);
	int (*get_u32)(struct pm_buf *b, uint32_t *v);
	int (*get_string)(struct pm_buf *b, const uint8_t **s, size_t *len);
	int (*get_bool)(struct pm_buf *b, int *v);
	int (*get_end)(struct pm_buf *b); /* 0 if all consumed */
	/* Options the module imposes on the session (most restrictive
	 * combination across a chain is the monitor's job). */
	int (*set_force_command)(const char *cmd);
	int (*set_restrict)(void);
};

/* One authentication method (or method:submethod). */
struct pm_module {
	uint32_t abi;	       /* POSTERN_MODULE_ABI */
	const char *method;    /* "publickey", "keyboard-interactive", ... */
	const char *submethod; /* NULL, or e.g. "pam", "totp" */
	/* Per-connection state; called once the user is known. */
	int (*start)(const struct pm_host *host, void **state);
	/*
	 * A USERAUTH_REQUEST for this method: req reads the method-specific
	 * fields. For PM_NEED_MORE, *msg is set and reply holds its payload.
	 */
	enum pm_verdict (*request)(void *state, struct pm_buf *req,
	    enum pm_message *msg, struct pm_buf *reply);
	/* A follow-up (keyboard-interactive INFO_RESPONSE), same contract. */
	enum pm_verdict (*response)(void *state, struct pm_buf *resp,
	    enum pm_message *msg, struct pm_buf *reply);
	void (*finish)(void *state);
};

#endif
