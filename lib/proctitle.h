/*
 * proctitle.h: process names and titles in OpenSSH's shape, so that the
 * tools admins already run find postern's processes: the name (comm, what
 * the journal records as _COMM and fail2ban matches) is "sshd", and the
 * title (what ps shows) reads "sshd: user [priv]", "sshd: user@notty".
 */
#ifndef POSTERN_PROCTITLE_H
#define POSTERN_PROCTITLE_H

/*
 * The size of argv[0] a parent gives a helper it execs: its initial title
 * padded with blanks, which is the room the helper has for later titles.
 */
#define PROCTITLE_ARG0_MAX 80

/*
 * proctitle_init: call first thing in main(). Moves the argument strings
 * and the environment to the heap (argv[i] and environ are repointed, so
 * they keep working) and keeps the memory they occupied for the title.
 * Without it, proctitle_set does nothing.
 */
void proctitle_init(int argc, char **argv);

/*
 * proctitle_set: "sshd: " followed by the formatted text becomes the
 * process's command line as ps and /proc/PID/cmdline show it; cut to the
 * space the original arguments and environment took.
 */
void proctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* proctitle_name: set the process name (comm) to POSTERN_SYSLOG_IDENT. */
void proctitle_name(void);

#endif
