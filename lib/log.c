/* log.c: stderr/syslog output, levels, relaying hook, sshd's escaping. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024

static const char *log_ident = POSTERN_SYSLOG_IDENT;
static enum log_level log_level_cur = LL_INFO;
static int log_facility_cur = LOG_AUTH;
static int log_to_stderr;
static int log_fd = -1;
static int log_opened;
static log_handler_fn log_handler;
static void *log_handler_ctx;
static char log_suffix[32];
static void (*fatal_cleanup)(void);

static const struct {
	const char *name;
	enum log_level level;
} level_names[] = {
    {"QUIET", LL_QUIET},
    {"FATAL", LL_FATAL},
    {"ERROR", LL_ERROR},
    {"INFO", LL_INFO},
    {"VERBOSE", LL_VERBOSE},
    {"DEBUG", LL_DEBUG1},
    {"DEBUG1", LL_DEBUG1},
    {"DEBUG2", LL_DEBUG2},
    {"DEBUG3", LL_DEBUG3},
};

static const struct {
	const char *name;
	int facility;
} facility_names[] = {
    {"DAEMON", LOG_DAEMON},
    {"USER", LOG_USER},
    {"AUTH", LOG_AUTH},
    {"AUTHPRIV", LOG_AUTHPRIV},
    {"LOCAL0", LOG_LOCAL0},
    {"LOCAL1", LOG_LOCAL1},
    {"LOCAL2", LOG_LOCAL2},
    {"LOCAL3", LOG_LOCAL3},
    {"LOCAL4", LOG_LOCAL4},
    {"LOCAL5", LOG_LOCAL5},
    {"LOCAL6", LOG_LOCAL6},
    {"LOCAL7", LOG_LOCAL7},
};

/*
 * Name the process for syslog now (no connection is made yet): what PAM
 * modules log through syslog(3) then carries "sshd[PID]", as sshd's, and
 * not the program name, even before posternd logged a line itself.
 */
static void
log_name_syslog(void)
{
	if (log_opened) {
		closelog();
		log_opened = 0;
	}
	if (!log_to_stderr && log_fd == -1) {
		openlog(log_ident, LOG_PID, log_facility_cur);
		log_opened = 1;
	} else {
		/*
		 * -e or -E: no openlog, as sshd opens none then, so a
		 * library's own syslog(3) lines (PAM's modules) take glibc's
		 * program_invocation_short_name, without the pid; that points
		 * into argv[0], overwritten by the process title ("iv]:
		 * pam_unix(...)"). sshd's name instead, as sshd sets
		 * __progname: "sshd: pam_unix(...)".
		 */
		program_invocation_short_name = (char *)(uintptr_t)log_ident;
	}
}

void
log_init(const char *ident, enum log_level level, int facility, int to_stderr)
{
	if (ident != NULL)
		log_ident = ident;
	log_level_cur = level;
	log_facility_cur = facility;
	log_to_stderr = to_stderr;
	log_name_syslog();
}

void
log_set_level(enum log_level level)
{
	log_level_cur = level;
}

enum log_level
log_get_level(void)
{
	return log_level_cur;
}

void
log_set_facility(int facility)
{
	log_set_name(log_ident, facility);
}

int
log_get_facility(void)
{
	return log_facility_cur;
}

void
log_set_name(const char *ident, int facility)
{
	log_ident = ident;
	log_facility_cur = facility;
	/* Open: openlog(3) renames it in place, keeping the connection
	 * (internal-sftp's lines switch at each one). */
	if (log_opened && !log_to_stderr)
		openlog(log_ident, LOG_PID, log_facility_cur);
	else
		log_name_syslog();
}

const char *
log_get_ident(void)
{
	return log_ident;
}

void
log_set_stderr(int on)
{
	log_to_stderr = on;
}

int
log_get_stderr(void)
{
	return log_to_stderr || log_fd != -1;
}

void
log_set_file(int fd)
{
	log_fd = fd;
	log_name_syslog();
}

int
log_get_file(void)
{
	return log_fd;
}

void
log_set_handler(log_handler_fn fn, void *ctx)
{
	log_handler = fn;
	log_handler_ctx = ctx;
}

void
log_set_suffix(const char *suffix)
{
	snprintf(log_suffix, sizeof(log_suffix), "%s", suffix ? suffix : "");
}

void
log_set_fatal_cleanup(void (*fn)(void))
{
	fatal_cleanup = fn;
}

int
log_level_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i].name) == 0)
			return level_names[i].level;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (level_names[i].level == level)
			return level_names[i].name;
	return "UNKNOWN";
}

int
log_facility_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(facility_names) / sizeof(facility_names[0]); i++)
		if (strcasecmp(name, facility_names[i].name) == 0)
			return facility_names[i].facility;
	return -1;
}

/*
 * One byte as sshd 9.2 writes it (strnvis(3) with VIS_CSTYLE|VIS_NL|
 * VIS_TAB|VIS_OCTAL for syslog, VIS_SAFE|VIS_OCTAL for standard error and
 * -E): into e (at least 5 bytes); its length.
 */
static size_t
vis_byte(char *e, unsigned char c, int to_stderr)
{
	static const char cstyle[] = "\aa\bb\tt\nn\vv\ff\rr";
	size_t i;

	if (c == '\\') {
		e[0] = e[1] = '\\';
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		e[0] = (char)c;
		return 1;
	}
	if (to_stderr) {
		/* VIS_SAFE: bell, backspace, tab and CR pass. sshd lets a
		 * newline pass too; postern does not (a forged line). */
		if (c == '\a' || c == '\b' || c == '\t' || c == '\r') {
			e[0] = (char)c;
			return 1;
		}
	} else {
		for (i = 0; cstyle[i] != '\0'; i += 2)
			if ((unsigned char)cstyle[i] == c) {
				e[0] = '\\';
				e[1] = cstyle[i + 1];
				return 2;
			}
	}
	e[0] = '\\';
	e[1] = (char)('0' + ((c >> 6) & 7));
	e[2] = (char)('0' + ((c >> 3) & 7));
	e[3] = (char)('0' + (c & 7));
	return 4;
}

size_t
log_vis(char *dst, size_t dstlen, const char *src, int to_stderr)
{
	size_t o = 0, n;
	char e[5];

	if (dstlen == 0)
		return 0;
	/* Whole escapes only: one that does not fit ends the line. */
	for (; *src != '\0'; src++) {
		n = vis_byte(e, (unsigned char)*src, to_stderr);
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, e, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LL_FATAL:
		return LOG_CRIT;
	case LL_ERROR:
		return LOG_ERR;
	case LL_INFO:
	case LL_VERBOSE:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/*
 * As sshd: every level but INFO and VERBOSE is named in the line, except
 * that error and fatal lines are not on standard error or a -E file
 * (syslog keeps "error: ", which fail2ban's filters allow for).
 */
static const char *
level_prefix(enum log_level level)
{
	int to_file = log_to_stderr || log_fd != -1;

	switch (level) {
	case LL_DEBUG1:
		return "debug1: ";
	case LL_DEBUG2:
		return "debug2: ";
	case LL_DEBUG3:
		return "debug3: ";
	case LL_ERROR:
		return to_file ? "" : "error: ";
	case LL_FATAL:
		return to_file ? "" : "fatal: ";
	default:
		return "";
	}
}

/*
 * One message, one line, sshd's bytes: the formatted line (level prefix
 * included) is cut at LOG_LINE_MAX - 1 bytes, escaped whole by log_vis()
 * within LOG_LINE_MAX - 1 bytes, then written as "%.1021s\r\n" to
 * standard error or a -E file, or as "%.500s" to syslog. No byte of a
 * message can end its line early.
 */
void
log_emit(enum log_level level, const char *msg)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
	int saved = errno, to_file = log_to_stderr || log_fd != -1;

	if (level > log_level_cur)
		return;
	if (log_handler != NULL) {
		log_handler(level, msg, log_handler_ctx);
		errno = saved;
		return;
	}
	snprintf(
	    raw, sizeof(raw), "%s%s%s", level_prefix(level), msg, log_suffix);
	log_vis(line, sizeof(line), raw, to_file);
	if (to_file) {
		char out[LOG_LINE_MAX];
		int n = snprintf(
		    out, sizeof(out), "%.*s\r\n", (int)sizeof(out) - 3, line);

		(void)!write(
		    log_fd != -1 ? log_fd : STDERR_FILENO, out, (size_t)n);
	} else {
		if (!log_opened) {
			openlog(log_ident, LOG_PID, log_facility_cur);
			log_opened = 1;
		}
		syslog(syslog_priority(level), "%.500s", line);
	}
	errno = saved;
}

/*
 * A line of the preauth process, or one the monitor logs in its name: sshd's
 * preauth child escapes its line and its monitor escapes it again with
 * " [preauth]" added, so a backslash there is four and \303 is \\303.
 */
void
log_emit_preauth(enum log_level level, const char *msg)
{
	static const char suffix[] = " [preauth]";
	char once[LOG_LINE_MAX], line[LOG_LINE_MAX];
	size_t n;

	log_vis(once, sizeof(once), msg, log_to_stderr || log_fd != -1);
	/* As sshd's "%s [preauth]" into its 1024-byte buffer: cut there. */
	n = strlen(once);
	memcpy(line, once, n);
	snprintf(line + n, sizeof(line) - n, "%s", suffix);
	log_emit(level, line);
}

void
log_conn_id(char *dst, size_t dstlen, const char *kind, const char *user,
    const char *addr, int port)
{
	char pre[LOG_CONN_ID_MAX];

	pre[0] = '\0';
	if (user != NULL)
		snprintf(pre, sizeof(pre), "%s %s", kind, user);
	snprintf(dst, dstlen, "%.200s%s%s port %d", pre,
	    pre[0] != '\0' ? " " : "", addr, port);
}

void
log_msg_preauth(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit_preauth(level, msg);
}

void
log_vmsg(enum log_level level, const char *func, int with_func, const char *fmt,
    va_list ap)
{
	char msg[LOG_LINE_MAX];
	int n = 0;

	if (level > log_level_cur)
		return;
	if (with_func && func != NULL)
		n = snprintf(msg, sizeof(msg), "%s: ", func);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	log_emit(level, msg);
}

void
log_msg(
    enum log_level level, const char *func, int with_func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, func, with_func, fmt, ap);
	va_end(ap);
}

void
fatal_msg(const char *func, int with_func, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LL_FATAL, func, with_func, fmt, ap);
	va_end(ap);
	if (fatal_cleanup != NULL)
		fatal_cleanup();
	_exit(255);
}
