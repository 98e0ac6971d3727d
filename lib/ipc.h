/*
 * ipc.h: framing for every pair of postern processes:
 * u32 length | u8 type | payload (SSH wire encoding), descriptors passed with
 * SCM_RIGHTS. The message table is docs/ipc.md.
 */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* Message types: see docs/ipc.md for direction, fields and states. */
enum ipc_type {
	IPC_INIT = 1,       /* monitor -> preauth: parameters */
	IPC_LOG = 2,        /* preauth -> monitor: a log line */
	IPC_SIGN_REQ = 3,   /* preauth -> monitor: sign exchange hash */
	IPC_SIGN_REPLY = 4, /* monitor -> preauth: signature */
	IPC_AUTH_REQ = 5,   /* preauth -> monitor: judge userauth request */
	IPC_AUTH_REPLY = 6, /* monitor -> preauth: verdict */
	IPC_TRANSPORT_STATE = 7,  /* preauth -> monitor: keys after success */
	IPC_SESSION_INIT = 8,     /* monitor -> session: transport + identity */
	IPC_SESSION_SIGN_REQ = 9, /* session -> monitor: rekey signature */
	IPC_SESSION_SIGN_REPLY = 10, /* monitor -> session */
	IPC_AUTH_RESPONSE = 11,      /* preauth -> monitor: INFO_RESPONSE */
	IPC_AUDIT_KEX =
	    12, /* preauth/session -> monitor: a key exchange done */
	/* The login (monitor/login.c, session/session_login.c). */
	IPC_SESSION_LOGIN = 20,       /* monitor -> session: login settings */
	IPC_SESSION_PTY_REQ = 21,     /* session -> monitor: allocate a pty */
	IPC_SESSION_PTY_REPLY = 22,   /* monitor -> session: its master */
	IPC_SESSION_LOGIN_REC = 23,   /* session -> monitor: utmp login */
	IPC_SESSION_LOGIN_REPLY = 24, /* monitor -> session: last login */
	IPC_SESSION_LOGOUT_REC = 25,  /* session -> monitor: utmp logout */
	IPC_SESSION_PROVE_REQ = 30,   /* session -> monitor: hostkeys-prove */
	IPC_SESSION_PROVE_REPLY = 31, /* monitor -> session: signatures */
	IPC_GEX_REQ = 32,   /* preauth or session -> monitor: a DH group */
	IPC_GEX_REPLY = 33, /* monitor -> preauth or session: p, g */
};

/* Verdicts in IPC_AUTH_REPLY. */
enum auth_verdict {
	AUTH_FAILURE = 0,
	AUTH_SUCCESS = 1,
	AUTH_PARTIAL = 2,
	AUTH_CONTINUE =
	    3, /* send the message in extra (PK_OK, INFO_REQUEST), wait */
	AUTH_TOO_MANY = 4, /* MaxAuthTries exceeded: disconnect */
	AUTH_DENIED = 5,   /* disconnect: user change or service */
};

#define IPC_MAX_MESSAGE (256 * 1024)

/*
 * Host keys the monitor loads (a HostKey file past these is skipped with
 * an error; sshd has no limit), and the entries IPC_INIT and
 * IPC_SESSION_INIT carry: the offer (at most 16 algorithm names) then the
 * further keys of an offered type (monitor.h struct hostkeys).
 */
#define IPC_HOSTKEYS_MAX 64
#define IPC_HOSTKEY_ENTRIES_MAX (IPC_HOSTKEYS_MAX + 32)

/* IPC_SESSION_INIT's forwarding settings: the largest X11DisplayOffset
 * and XAuthLocation the session takes (docs/ipc.md). */
#define AXL_X11_OFFSET_MAX 60000
#define AXL_STR_MAX 4096

/*
 * ipc_send: blocking; pass_fd < 0 sends no descriptor. ERR_TIMEOUT when
 * the socket's SO_SNDTIMEO passed with the message not sent whole.
 */
int ipc_send(int fd, uint8_t type, const struct buf *payload, int pass_fd);
/*
 * ipc_recv: blocking; resets payload and fills it with the message body.
 * *fdp (if non-NULL) gets a received descriptor or -1; a descriptor that
 * arrives when none is expected is closed and is an error. ERR_EOF on a
 * clean close before a header, ERR_SHORT on a close mid-message.
 */
int ipc_recv(int fd, uint8_t *type, struct buf *payload, int *fdp, size_t max);
/*
 * ipc_refuse_fds: fd's peer can pass no descriptor: its sendmsg() with
 * SCM_RIGHTS fails (EPERM). A descriptor the receiver only closes could
 * still hold it there (the last close of a TCP socket with SO_LINGER and
 * unsent data waits for the peer, of a FUSE file for its daemon). 0, or
 * -1 with errno (ENOPROTOOPT: a kernel before 6.16, without
 * SO_PASSRIGHTS; ipc_recv then closes stray sockets without lingering).
 */
int ipc_refuse_fds(int fd);

/* ipc_now_ms: the monotonic clock, in ms, that IPC deadlines use. */
int64_t ipc_now_ms(void);

/*
 * ipc_recv_timeout: the same, but the whole message must arrive within
 * timeout_ms (-1 = no limit), else ERR_TIMEOUT: a peer that sends half a
 * message cannot stall the receiver.
 */
int ipc_recv_timeout(int fd, uint8_t *type, struct buf *payload, int *fdp,
    size_t max, int timeout_ms);

/*
 * ipc_sign_request: ask the monitor on fd to sign an exchange hash with the
 * host key for alg (req_type/reply_type: the preauth or session pair);
 * appends the signature blob to sig.
 */
int ipc_sign_request(int fd, uint8_t req_type, uint8_t reply_type,
    const char *alg, const uint8_t *hash, size_t hashlen, struct buf *sig);

/*
 * ipc_gex_request: ask the monitor on fd for a DH group of about n bits
 * in [min, max] (IPC_GEX_REQ); p and g get big-endian magnitudes.
 */
int ipc_gex_request(int fd, uint32_t min, uint32_t n, uint32_t max,
    struct buf *p, struct buf *g);

/*
 * postern-session's exit code when the client closed or reset the
 * connection without a DISCONNECT: the session logged it, as sshd's
 * child does, and the monitor adds no "Disconnected from user" line.
 * 0 is any other orderly end, 1 an error (docs/ipc.md).
 */
#define SESSION_EXIT_CLOSED 10

/* Flags of IPC_SESSION_LOGIN (monitor/login.c sends, session reads). */
#define LOGIN_F_USE_PAM 0x01
#define LOGIN_F_PRINT_MOTD 0x02
#define LOGIN_F_PRINT_LASTLOG 0x04
#define LOGIN_F_PERMIT_USER_RC 0x08
#define LOGIN_F_CHROOTED 0x10
#define LOGIN_F_ADMIN_FORCED 0x20 /* ForceCommand (not a key's command=) */
/* An expired password: every session request runs only passwd(1). */
#define LOGIN_F_PWCHANGE 0x40
/* UsePAM no, not root, /etc/nologin exists: every session request shows
 * its text and exits 254, as OpenSSH's do_nologin(). */
#define LOGIN_F_NOLOGIN 0x80
/* UsePAM yes and pam_open_session failed: every session request shows
 * PAM's messages (the loginmsg) and exits 254, as sshd 9.2 does. */
#define LOGIN_F_PAM_FAILED 0x100
/* UsePAM no, not root, no ChrootDirectory: the session looks for
 * /etc/nologin again at each session request (sshd's do_child() does);
 * in a jail the host's file is out of reach, LOGIN_F_NOLOGIN decides. */
#define LOGIN_F_NOLOGIN_LIVE 0x200

#endif
