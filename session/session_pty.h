/* session_pty.h: pseudo-terminals for session channels (RFC 4254 s6.2). */
#ifndef POSTERN_SESSION_PTY_H
#define POSTERN_SESSION_PTY_H

#include <stddef.h>
#include <stdint.h>

/* A pty allocated by "pty-req", owned by its session channel. */
struct session_pty {
	int master;    /* ours: read, written and resized; -1 if none */
	int slave;     /* the child's terminal until it is started; -1 after */
	char name[64]; /* the slave's path, for SSH_TTY */
	int logged_in; /* a utmp login record was asked for */
	char *term;    /* TERM from the request, "" if none */
};

/* session_pty_init: an empty pty (no fds), safe to free. */
void session_pty_init(struct session_pty *p);
/*
 * session_pty_open: a pty from the monitor (monitor_fd), set its size
 * (characters and pixels) and apply the RFC 4254 s8 encoded terminal modes
 * to the slave. term is copied. Returns 0 or an ERR_* code.
 */
int session_pty_open(struct session_pty *p, int monitor_fd, const char *term,
    uint32_t cols, uint32_t rows, uint32_t xpix, uint32_t ypix,
    const uint8_t *modes, size_t modeslen);
/*
 * session_pty_modes_check: ERR_SHORT if an opcode 1..159 of the encoded
 * modes lacks its uint32 argument before the modes stop (opcode 0 or
 * 160..255), ERR_ALLOC, else 0.
 */
int session_pty_modes_check(const uint8_t *p, size_t len);
/* session_pty_resize: TIOCSWINSZ on the master; the program gets SIGWINCH. */
int session_pty_resize(struct session_pty *p, uint32_t cols, uint32_t rows,
    uint32_t xpix, uint32_t ypix);
/* session_pty_close_slave: drop our copy of the slave once the child has it. */
void session_pty_close_slave(struct session_pty *p);
/* session_pty_free: close what is left and free term. */
void session_pty_free(struct session_pty *p);

#endif
