/* log.c: stderr/syslog output, levels, relaying hook and sanitising. */
#include <errno.h>
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
	if (!log_to_stderr) {
		openlog(log_ident, LOG_PID, log_facility_cur);
		log_opened = 1;
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
	log_facility_cur = facility;
	log_name_syslog();
}

int
log_get_facility(void)
{
	return log_facility_cur;
}

void
log_set_stderr(int on)
{
	log_to_stderr = on;
}

void
log_set_file(int fd)
{
	log_fd = fd;
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

void
sanitise(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;
	unsigned char c;

	if (dstlen == 0)
		return;
	for (; src != NULL && (c = (unsigned char)*src) != '\0'; src++) {
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else if (c == '\\') {
			if (o + 2 >= dstlen)
				break;
			dst[o++] = '\\';
			dst[o++] = '\\';
		} else {
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, 5, "\\%03o", c);
			o += 4;
		}
	}
	dst[o] = '\0';
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
 * One message, one line: a control character that reached a message (a
 * client's method name, a file's text) is written as \ooo, as OpenSSH
 * writes every line through strnvis(), so that nothing can forge a line
 * for fail2ban to read. Text sanitise() made passes unchanged.
 */
static void
escape_controls(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;
	unsigned char c;

	for (; (c = (unsigned char)*src) != '\0'; src++) {
		if (c >= 0x20 && c != 0x7f) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstlen)
				break;
			snprintf(dst + o, 5, "\\%03o", c);
			o += 4;
		}
	}
	dst[o] = '\0';
}

void
log_emit(enum log_level level, const char *msg)
{
	char raw[LOG_LINE_MAX + 64], line[LOG_LINE_MAX + 64];
	int saved = errno;

	if (level > log_level_cur)
		return;
	if (log_handler != NULL) {
		log_handler(level, msg, log_handler_ctx);
		errno = saved;
		return;
	}
	snprintf(
	    raw, sizeof(raw), "%s%s%s", level_prefix(level), msg, log_suffix);
	escape_controls(line, sizeof(line), raw);
	if (log_to_stderr || log_fd != -1) {
		size_t n = strlen(line);
		int fd = log_fd != -1 ? log_fd : STDERR_FILENO;

		line[n] = '\n';
		(void)!write(fd, line, n + 1);
		line[n] = '\0';
	} else {
		if (!log_opened) {
			openlog(log_ident, LOG_PID, log_facility_cur);
			log_opened = 1;
		}
		syslog(syslog_priority(level), "%s", line);
	}
	errno = saved;
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
