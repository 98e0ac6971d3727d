/*
 * authkeys.h: authorized_keys lookup for the root monitor, read with the
 * user's privileges and checked as OpenSSH's StrictModes does.
 */
#ifndef POSTERN_AUTHKEYS_H
#define POSTERN_AUTHKEYS_H

#include <pwd.h>

struct sshkey;

/* Longest line considered, as OpenSSH's SSH_MAX_PUBKEY_BYTES. */
#define AUTHKEYS_LINE_MAX 16384

/*
 * authkeys_find: look for key in the authorized_keys file path of user pw.
 * Returns 0 when a plain key line matches (*linep, if non-NULL, gets its
 * 1-based line number); ERR_NOT_FOUND when no line matches or the file is
 * missing or unreadable; ERR_PERM when StrictModes (strict_modes != 0)
 * refuses the file or a directory above it, or when it is not a regular
 * file. Lines with an options prefix are skipped (options are not yet
 * supported) and never match. When running as root the file is opened,
 * checked and read with the user's uid, gid and groups, and root is
 * restored before returning; failing to restore is fatal.
 */
int authkeys_find(const struct passwd *pw, const char *path,
    const struct sshkey *key, int strict_modes, unsigned long *linep);

/*
 * authkeys_expand_path: expand an AuthorizedKeysFile pattern: %% %h (home)
 * %u (user name) %U (numeric uid); a relative result is taken relative to
 * the home directory. Returns a malloc'd path, or NULL for an unknown or
 * truncated % token, an over-long result or allocation failure.
 */
char *authkeys_expand_path(const char *pattern, const struct passwd *pw);

#endif
