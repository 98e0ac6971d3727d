/*
 * nologin.h: /etc/nologin as OpenSSH's do_nologin() reads it, for the
 * monitor at login and the session at each session request.
 */
#ifndef POSTERN_NOLOGIN_H
#define POSTERN_NOLOGIN_H

/* What /etc/nologin's text shows, at most (OpenSSH prints it all). */
#define NOLOGIN_TEXT_MAX (64 * 1024)

/*
 * nologin_read: 1 if /etc/nologin exists, *textp then its text as far as
 * this process may read it (empty if not at all), malloc'd (NULL when out
 * of memory); 0 with *textp NULL if there is no such file.
 */
int nologin_read(char **textp);

#endif
