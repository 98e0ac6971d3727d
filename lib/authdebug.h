/*
 * authdebug.h: the SSH_MSG_DEBUG lines sshd sends after a publickey login
 * (what the client shows with -v as "Remote: ..."): the monitor collects
 * them while it judges authorized_keys lines and certificates, and hands
 * them to the session process, which sends them after USERAUTH_SUCCESS.
 */
#ifndef POSTERN_AUTHDEBUG_H
#define POSTERN_AUTHDEBUG_H

#include <stddef.h>

/* Hard caps: lines kept, bytes per line (past it, cut). */
#define AUTHDEBUG_MAX_LINES 256
#define AUTHDEBUG_MAX_LEN 1024

/*
 * authdebug_add: keep one line for the client, control characters
 * replaced by '?'. Past AUTHDEBUG_MAX_LINES the line is dropped. Text
 * only the server wrote (file names, option words, the user's own
 * authorized_keys entries); never a secret.
 */
void authdebug_add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The lines kept so far, in order; authdebug_get(i) for i < count. */
size_t authdebug_count(void);
const char *authdebug_get(size_t i);
void authdebug_clear(void);

#endif
