/*
 * session_pty.c: allocate a pseudo-terminal for a session channel, size it
 * and apply the client's encoded terminal modes (RFC 4254 s8) to it.
 *
 * The monitor, root, allocates the pty and hands us its master (owned by
 * the user, group tty, 0620): it writes utmp/wtmp and lastlog only for
 * ptys it allocated for this connection. The slave comes from the master
 * (TIOCGPTPEER), which works inside a ChrootDirectory jail too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "session_login.h"
#include "session_pty.h"

/* RFC 4254 s8 opcodes with a meaning outside the flag tables. */
#define TTY_OP_END 0
#define TTY_OP_ISPEED 128
#define TTY_OP_OSPEED 129
/* Opcodes 160..255 are undefined and stop the parsing (s8). */
#define TTY_OP_LAST_ARG 159

/* Which termios word a flag opcode sets or clears. */
enum tty_field { TF_CC, TF_IFLAG, TF_LFLAG, TF_OFLAG, TF_CFLAG };

/*
 * The opcodes of RFC 4254 s8 (and IUTF8, RFC 8160) that this system has.
 * For TF_CC, what is the c_cc index; otherwise the flag bit.
 */
static const struct {
	uint8_t op;
	uint8_t field;
	tcflag_t what;
} tty_ops[] = {
    {1, TF_CC, VINTR},
    {2, TF_CC, VQUIT},
    {3, TF_CC, VERASE},
    {4, TF_CC, VKILL},
    {5, TF_CC, VEOF},
    {6, TF_CC, VEOL},
    {7, TF_CC, VEOL2},
    {8, TF_CC, VSTART},
    {9, TF_CC, VSTOP},
    {10, TF_CC, VSUSP},
#ifdef VDSUSP
    {11, TF_CC, VDSUSP},
#endif
    {12, TF_CC, VREPRINT},
    {13, TF_CC, VWERASE},
    {14, TF_CC, VLNEXT},
#ifdef VFLUSH
    {15, TF_CC, VFLUSH},
#endif
#ifdef VSWTCH
    {16, TF_CC, VSWTCH},
#elif defined(VSWTC)
    {16, TF_CC, VSWTC},
#endif
#ifdef VSTATUS
    {17, TF_CC, VSTATUS},
#endif
    {18, TF_CC, VDISCARD},
    {30, TF_IFLAG, IGNPAR},
    {31, TF_IFLAG, PARMRK},
    {32, TF_IFLAG, INPCK},
    {33, TF_IFLAG, ISTRIP},
    {34, TF_IFLAG, INLCR},
    {35, TF_IFLAG, IGNCR},
    {36, TF_IFLAG, ICRNL},
#ifdef IUCLC
    {37, TF_IFLAG, IUCLC},
#endif
    {38, TF_IFLAG, IXON},
    {39, TF_IFLAG, IXANY},
    {40, TF_IFLAG, IXOFF},
#ifdef IMAXBEL
    {41, TF_IFLAG, IMAXBEL},
#endif
#ifdef IUTF8
    {42, TF_IFLAG, IUTF8},
#endif
    {50, TF_LFLAG, ISIG},
    {51, TF_LFLAG, ICANON},
#ifdef XCASE
    {52, TF_LFLAG, XCASE},
#endif
    {53, TF_LFLAG, ECHO},
    {54, TF_LFLAG, ECHOE},
    {55, TF_LFLAG, ECHOK},
    {56, TF_LFLAG, ECHONL},
    {57, TF_LFLAG, NOFLSH},
    {58, TF_LFLAG, TOSTOP},
    {59, TF_LFLAG, IEXTEN},
#ifdef ECHOCTL
    {60, TF_LFLAG, ECHOCTL},
#endif
#ifdef ECHOKE
    {61, TF_LFLAG, ECHOKE},
#endif
#ifdef PENDIN
    {62, TF_LFLAG, PENDIN},
#endif
    {70, TF_OFLAG, OPOST},
#ifdef OLCUC
    {71, TF_OFLAG, OLCUC},
#endif
    {72, TF_OFLAG, ONLCR},
    {73, TF_OFLAG, OCRNL},
    {74, TF_OFLAG, ONOCR},
    {75, TF_OFLAG, ONLRET},
    {90, TF_CFLAG, CS7},
    {91, TF_CFLAG, CS8},
    {92, TF_CFLAG, PARENB},
    {93, TF_CFLAG, PARODD},
};

/* Line speeds in bits per second and their termios codes. */
static const struct {
	uint32_t baud;
	speed_t code;
} tty_speeds[] = {
    {0, B0},
    {50, B50},
    {75, B75},
    {110, B110},
    {134, B134},
    {150, B150},
    {200, B200},
    {300, B300},
    {600, B600},
    {1200, B1200},
    {1800, B1800},
    {2400, B2400},
    {4800, B4800},
    {9600, B9600},
    {19200, B19200},
    {38400, B38400},
#ifdef B57600
    {57600, B57600},
#endif
#ifdef B115200
    {115200, B115200},
#endif
#ifdef B230400
    {230400, B230400},
#endif
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B921600
    {921600, B921600},
#endif
};

/* The code of the fastest listed speed not above baud. */
static speed_t
tty_speed(uint32_t baud)
{
	size_t i, best = 0;

	for (i = 0; i < sizeof(tty_speeds) / sizeof(tty_speeds[0]); i++)
		if (tty_speeds[i].baud <= baud)
			best = i;
	return tty_speeds[best].code;
}

/* Set or clear one flag (or, for the character sizes, select it). */
static void
tty_set_flag(struct termios *tio, int field, tcflag_t bit, uint32_t on)
{
	tcflag_t *w;

	switch (field) {
	case TF_IFLAG:
		w = &tio->c_iflag;
		break;
	case TF_LFLAG:
		w = &tio->c_lflag;
		break;
	case TF_OFLAG:
		w = &tio->c_oflag;
		break;
	default:
		w = &tio->c_cflag;
		/* CS7 and CS8 are values of the CSIZE field, not bits. */
		if (bit == CS7 || bit == CS8) {
			if (on)
				*w = (*w & ~(tcflag_t)CSIZE) | bit;
			return;
		}
		break;
	}
	if (on)
		*w |= bit;
	else
		*w &= ~bit;
}

/* Apply one opcode with its argument; unknown ones are skipped. */
static void
tty_apply_op(struct termios *tio, uint8_t op, uint32_t arg)
{
	size_t i;

	if (op == TTY_OP_ISPEED) {
		if (cfsetispeed(tio, tty_speed(arg)) == -1)
			debug("pty: cannot set input speed %u", arg);
		return;
	}
	if (op == TTY_OP_OSPEED) {
		if (cfsetospeed(tio, tty_speed(arg)) == -1)
			debug("pty: cannot set output speed %u", arg);
		return;
	}
	for (i = 0; i < sizeof(tty_ops) / sizeof(tty_ops[0]); i++) {
		if (tty_ops[i].op != op)
			continue;
		if (tty_ops[i].field == TF_CC)
			/* 255 means "no character" on the wire. */
			tio->c_cc[tty_ops[i].what] =
			    arg == 255 ? _POSIX_VDISABLE : (cc_t)arg;
		else
			tty_set_flag(
			    tio, tty_ops[i].field, tty_ops[i].what, arg);
		return;
	}
	debug3("pty: ignoring terminal mode %u = %u", op, arg);
}

/*
 * Walk the encoded modes (RFC 4254 s8) through the buf API: each opcode
 * 1..159 with its uint32 argument, applied to tio unless tio is NULL,
 * until opcode 0, an undefined opcode (160..255, logged as sshd when
 * applying) or the end. 0 with *left the bytes after where it stopped,
 * ERR_SHORT for an argument cut off, ERR_ALLOC.
 */
static int
modes_walk(const uint8_t *p, size_t len, struct termios *tio, size_t *left)
{
	struct buf *b;
	uint32_t arg;
	uint8_t op;
	int r = 0;

	*left = 0;
	if ((b = buf_from(p, len)) == NULL)
		return ERR_ALLOC;
	while (buf_len(b) > 0) {
		if ((r = buf_get_u8(b, &op)) != 0 || op == TTY_OP_END)
			break;
		if (op > TTY_OP_LAST_ARG) {
			if (tio != NULL)
				logit("ssh_tty_parse_modes: unknown opcode %u",
				    op);
			break;
		}
		if ((r = buf_get_u32(b, &arg)) != 0)
			break;
		if (tio != NULL)
			tty_apply_op(tio, op, arg);
	}
	*left = buf_len(b);
	buf_free(b);
	return r;
}

/* Decode the modes string and apply it to the slave. */
static void
tty_apply_modes(int fd, const uint8_t *p, size_t len)
{
	struct termios tio;
	size_t left;
	int r;

	if (len == 0)
		return;
	if (tcgetattr(fd, &tio) == -1) {
		error_f("tcgetattr: %s", strerror(errno));
		return;
	}
	if ((r = modes_walk(p, len, &tio, &left)) != 0) {
		debug("pty: terminal modes: %s", err_str(r));
		return;
	}
	/* As sshd: modes that do not end where the string ends are not set. */
	if (left > 0) {
		logit("ssh_tty_parse_modes: %zu bytes left", left);
		return;
	}
	if (tcsetattr(fd, TCSANOW, &tio) == -1)
		error_f("tcsetattr: %s", strerror(errno));
}

int
session_pty_modes_check(const uint8_t *p, size_t len)
{
	size_t left;

	return modes_walk(p, len, NULL, &left);
}

void
session_pty_init(struct session_pty *p)
{
	memset(p, 0, sizeof(*p));
	p->master = p->slave = -1;
}

int
session_pty_resize(struct session_pty *p, uint32_t cols, uint32_t rows,
    uint32_t xpix, uint32_t ypix)
{
	struct winsize ws;

	if (p->master < 0)
		return ERR_INTERNAL;
	memset(&ws, 0, sizeof(ws));
	/* The kernel keeps 16 bits each; clamp rather than wrap. */
	ws.ws_col = (unsigned short)(cols > 0xffff ? 0xffff : cols);
	ws.ws_row = (unsigned short)(rows > 0xffff ? 0xffff : rows);
	ws.ws_xpixel = (unsigned short)(xpix > 0xffff ? 0xffff : xpix);
	ws.ws_ypixel = (unsigned short)(ypix > 0xffff ? 0xffff : ypix);
	if (ioctl(p->master, TIOCSWINSZ, &ws) == -1) {
		error_f("TIOCSWINSZ: %s", strerror(errno));
		return ERR_SYSTEM;
	}
	return 0;
}

int
session_pty_open(struct session_pty *p, int monitor_fd, const char *term,
    uint32_t cols, uint32_t rows, uint32_t xpix, uint32_t ypix,
    const uint8_t *modes, size_t modeslen)
{
	int r;

	session_pty_init(p);
	if ((p->term = strdup(term)) == NULL)
		return ERR_ALLOC;
	/* The monitor allocates it (it records utmp for its own ptys). */
	if ((r = session_login_pty(monitor_fd, &p->master, &p->slave, p->name,
	         sizeof(p->name))) != 0)
		goto fail;
	if ((r = session_pty_resize(p, cols, rows, xpix, ypix)) != 0)
		goto fail;
	tty_apply_modes(p->slave, modes, modeslen);
	if (fcntl(p->master, F_SETFL, O_NONBLOCK) == -1) {
		error_f("fcntl: %s", strerror(errno));
		r = ERR_SYSTEM;
		goto fail;
	}
	debug("pty: allocated %s", p->name);
	return 0;
fail:
	session_pty_free(p);
	return r;
}

void
session_pty_close_slave(struct session_pty *p)
{
	if (p->slave >= 0) {
		close(p->slave);
		p->slave = -1;
	}
}

void
session_pty_free(struct session_pty *p)
{
	session_pty_close_slave(p);
	if (p->master >= 0)
		close(p->master);
	free(p->term);
	session_pty_init(p);
}
