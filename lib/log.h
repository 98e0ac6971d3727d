/*
 * log.h: logging to stderr and syslog with OpenSSH's levels and wording.
 * Log lines are an interface: fail2ban and sshguard read them.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>

/*
 * The syslog ident, and the process name and title prefix (proctitle.h):
 * OpenSSH's, so that fail2ban, sshguard and journalctl -t sshd find them.
 */
#ifndef POSTERN_SYSLOG_IDENT
#define POSTERN_SYSLOG_IDENT "sshd"
#endif

/* Same order and names as OpenSSH's LogLevel. */
enum log_level {
	LL_QUIET = 0,
	LL_FATAL,
	LL_ERROR,
	LL_INFO,
	LL_VERBOSE,
	LL_DEBUG1,
	LL_DEBUG2,
	LL_DEBUG3,
};

/* A handler replaces stderr/syslog output (preauth relays lines over IPC). */
typedef void (*log_handler_fn)(
    enum log_level level, const char *msg, void *ctx);

void log_init(
    const char *ident, enum log_level level, int facility, int to_stderr);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_facility(int facility);
int log_get_facility(void);
void log_set_stderr(int on);
void log_set_file(int fd);
void log_set_handler(log_handler_fn fn, void *ctx);
/* Appended to every line, e.g. " [preauth]". */
void log_set_suffix(const char *suffix);

/* Names: QUIET FATAL ERROR INFO VERBOSE DEBUG DEBUG1 DEBUG2 DEBUG3. */
int log_level_from_name(const char *name);
const char *log_level_name(enum log_level level);
/* Names: DAEMON USER AUTH AUTHPRIV LOCAL0..LOCAL7. -1 if unknown. */
int log_facility_from_name(const char *name);

/* Emit msg (already formatted) as if logged at level; used for relaying. */
void log_emit(enum log_level level, const char *msg);

void log_msg(enum log_level level, const char *func, int with_func,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_vmsg(enum log_level level, const char *func, int with_func,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
void fatal_msg(const char *func, int with_func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/*
 * sanitise: copy a peer-controlled string for logging; control and non-ASCII
 * bytes become \ooo escapes (like strnvis VIS_SAFE|VIS_OCTAL). dst is always
 * NUL-terminated.
 */
void sanitise(char *dst, size_t dstlen, const char *src);

#define logit(...) log_msg(LL_INFO, __func__, 0, __VA_ARGS__)
#define verbose(...) log_msg(LL_VERBOSE, __func__, 0, __VA_ARGS__)
#define error(...) log_msg(LL_ERROR, __func__, 0, __VA_ARGS__)
#define error_f(...) log_msg(LL_ERROR, __func__, 1, __VA_ARGS__)
#define debug(...) log_msg(LL_DEBUG1, __func__, 0, __VA_ARGS__)
#define debug_f(...) log_msg(LL_DEBUG1, __func__, 1, __VA_ARGS__)
#define debug2(...) log_msg(LL_DEBUG2, __func__, 0, __VA_ARGS__)
#define debug2_f(...) log_msg(LL_DEBUG2, __func__, 1, __VA_ARGS__)
#define debug3(...) log_msg(LL_DEBUG3, __func__, 0, __VA_ARGS__)
#define debug3_f(...) log_msg(LL_DEBUG3, __func__, 1, __VA_ARGS__)
#define fatal(...) fatal_msg(__func__, 0, __VA_ARGS__)
#define fatal_f(...) fatal_msg(__func__, 1, __VA_ARGS__)

/* Process hook called by fatal() before exit (e.g. cleanup of children). */
void log_set_fatal_cleanup(void (*fn)(void));

#endif
