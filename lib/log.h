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
/* log_set_name: syslog's ident (kept, not copied) and facility at once. */
void log_set_name(const char *ident, int facility);
const char *log_get_ident(void);
void log_set_stderr(int on);
/* Whether lines go to stderr or an -E file (sshd's log_stderr: -d, -e,
 * -E), so that a command run for sshd may keep posternd's stderr. */
int log_get_stderr(void);
void log_set_file(int fd);
/* The -E file's descriptor, or -1. */
int log_get_file(void);
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

/* A line logged by the preauth process, or in its name: " [preauth]" is
 * appended and the line escaped twice, as sshd's relayed lines are. */
void log_emit_preauth(enum log_level level, const char *msg);
void log_msg_preauth(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * sshd's name for a client in its connection lines: "KIND USER ADDR port
 * PORT" ("ADDR port PORT" without a user), "KIND USER" cut at 200 bytes.
 */
#define LOG_CONN_ID_MAX 300
void log_conn_id(char *dst, size_t dstlen, const char *kind, const char *user,
    const char *addr, int port);

/*
 * log_vis: src escaped as sshd 9.2 escapes a log line into dst (dstlen
 * bytes, NUL-terminated, whole escapes only); its length. Printable ASCII
 * passes, except that a backslash is doubled. For syslog (to_stderr 0)
 * \a \b \t \n \v \f \r are written C-style; for standard error and -E
 * files bell, backspace, tab and CR pass as they are. Every other byte
 * (controls, newline on standard error, DEL, 0x80-0xff) is \ooo.
 */
size_t log_vis(char *dst, size_t dstlen, const char *src, int to_stderr);

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
#define logit_preauth(...) log_msg_preauth(LL_INFO, __VA_ARGS__)
#define error_preauth(...) log_msg_preauth(LL_ERROR, __VA_ARGS__)

/* Process hook called by fatal() before exit (e.g. cleanup of children). */
void log_set_fatal_cleanup(void (*fn)(void));

#endif
