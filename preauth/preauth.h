/* preauth.h: postern-preauth internals. */
#ifndef POSTERN_PREAUTH_H
#define POSTERN_PREAUTH_H

#include <stdint.h>

struct buf;
struct transport;

/* File descriptors set up by the monitor before exec. */
#define PREAUTH_SOCK_FD 3
#define PREAUTH_IPC_FD 4

/* Exit codes: how the connection ended, for the monitor's log line. */
#define PREAUTH_EXIT_AUTHENTICATED 0
#define PREAUTH_EXIT_ERROR 1
#define PREAUTH_EXIT_CLOSED 10         /* peer closed the connection */
#define PREAUTH_EXIT_DISCONNECTED 11   /* peer sent SSH_MSG_DISCONNECT */
#define PREAUTH_EXIT_BANNER 12         /* bad identification string */
#define PREAUTH_EXIT_BANNER_CLOSED 13  /* closed before identifying */
#define PREAUTH_EXIT_BANNER_RESET 14   /* reset before identifying */
#define PREAUTH_EXIT_RESET 15          /* peer reset the connection */
#define PREAUTH_EXIT_BANNER_VERSION 16 /* identified another protocol */
#define PREAUTH_EXIT_BANNER_PROBE 17   /* a scanner sshd turns away */

struct userauth {
	int service_ok;      /* ssh-userauth accepted */
	int requested;       /* a USERAUTH_REQUEST has been read */
	int last_was_kbdint; /* the last request was keyboard-interactive */
	int info_pending;    /* an INFO_REQUEST awaits its INFO_RESPONSE */
	uint32_t info_nreq;  /* the prompts of that INFO_REQUEST */
	int authenticated;
};

/*
 * userauth_dispatch: handle one packet of the userauth protocol (RFC 4252),
 * asking the monitor for every verdict. Returns 0, or an error that ends
 * the connection.
 */
int userauth_dispatch(struct userauth *ua, struct transport *t, int ipc_fd,
    uint8_t type, struct buf *payload);

#endif
