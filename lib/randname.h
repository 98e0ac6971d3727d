/*
 * randname.h: random characters for a temporary name, as OpenBSD's
 * mkstemp(3) and mkdtemp(3) draw them for every trailing X (glibc's draw
 * only the last six): sshd's /tmp/ssh-XXXXXXXXXX agent directory and
 * /tmp/sshauth.XXXXXXXXXXXXXXX ExposeAuthInfo file.
 */
#ifndef POSTERN_RANDNAME_H
#define POSTERN_RANDNAME_H

#include <stddef.h>

/*
 * randname_fill: n characters from [A-Za-z0-9], each as likely as any
 * other (getrandom(2)), then a NUL: dst holds n + 1 bytes. 0, or -1 when
 * the kernel gives no randomness.
 */
int randname_fill(char *dst, size_t n);

#endif
