/*
 * sftp_names.c: names as the SFTP engine shows them: OpenSSH's "ls -l"
 * longname for READDIR, cached user and group names, REALPATH's path
 * resolution and "~" expansion.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sftp_int.h"

#define SFTP_MAX_SYMLINKS 32

/* BSD strmode(3): "drwxr-xr-x " (ten characters and a space). */
void
sftp_strmode(unsigned mode, char out[12])
{
	char *p = out;

	switch (mode & S_IFMT) {
	case S_IFDIR:
		*p++ = 'd';
		break;
	case S_IFCHR:
		*p++ = 'c';
		break;
	case S_IFBLK:
		*p++ = 'b';
		break;
	case S_IFREG:
		*p++ = '-';
		break;
	case S_IFLNK:
		*p++ = 'l';
		break;
	case S_IFSOCK:
		*p++ = 's';
		break;
	case S_IFIFO:
		*p++ = 'p';
		break;
	default:
		*p++ = '?';
		break;
	}
	*p++ = (mode & S_IRUSR) ? 'r' : '-';
	*p++ = (mode & S_IWUSR) ? 'w' : '-';
	switch (mode & (S_IXUSR | S_ISUID)) {
	case 0:
		*p++ = '-';
		break;
	case S_IXUSR:
		*p++ = 'x';
		break;
	case S_ISUID:
		*p++ = 'S';
		break;
	default:
		*p++ = 's';
		break;
	}
	*p++ = (mode & S_IRGRP) ? 'r' : '-';
	*p++ = (mode & S_IWGRP) ? 'w' : '-';
	switch (mode & (S_IXGRP | S_ISGID)) {
	case 0:
		*p++ = '-';
		break;
	case S_IXGRP:
		*p++ = 'x';
		break;
	case S_ISGID:
		*p++ = 'S';
		break;
	default:
		*p++ = 's';
		break;
	}
	*p++ = (mode & S_IROTH) ? 'r' : '-';
	*p++ = (mode & S_IWOTH) ? 'w' : '-';
	switch (mode & (S_IXOTH | S_ISVTX)) {
	case 0:
		*p++ = '-';
		break;
	case S_IXOTH:
		*p++ = 'x';
		break;
	case S_ISVTX:
		*p++ = 'T';
		break;
	default:
		*p++ = 't';
		break;
	}
	*p++ = ' ';
	*p = '\0';
}

static const char *
cached_name(struct sftp_idname *cache, unsigned id, int groups)
{
	struct sftp_idname *e = &cache[id % SFTP_IDCACHE];
	struct passwd *pw;
	struct group *gr;
	const char *name = NULL;

	if (e->valid && e->id == id)
		return e->name;
	if (groups) {
		if ((gr = getgrgid((gid_t)id)) != NULL)
			name = gr->gr_name;
	} else if ((pw = getpwuid((uid_t)id)) != NULL)
		name = pw->pw_name;
	free(e->name);
	e->name = name != NULL ? strdup(name) : NULL;
	/* Out of memory: not cached, the number is shown. */
	e->valid = name == NULL || e->name != NULL;
	e->id = id;
	return e->name;
}

const char *
sftp_user_name(struct sftp_server *s, unsigned uid)
{
	return cached_name(s->users, uid, 0);
}

const char *
sftp_group_name(struct sftp_server *s, unsigned gid)
{
	return cached_name(s->groups, gid, 1);
}

void
sftp_idnames_free(struct sftp_server *s)
{
	unsigned i;

	for (i = 0; i < SFTP_IDCACHE; i++) {
		free(s->users[i].name);
		free(s->groups[i].name);
		s->users[i].name = s->groups[i].name = NULL;
		s->users[i].valid = s->groups[i].valid = 0;
	}
}

/*
 * OpenSSH's ls_file() for a local file: mode, link count, owner and group
 * (at least 8 wide), size, date (time if within six months) and name.
 */
void
sftp_longname(struct sftp_server *s, char *out, size_t outlen, const char *name,
    const struct stat *st)
{
	char mode[12], lc[16], ubuf[16], gbuf[16], tbuf[16];
	const char *user, *group;
	time_t now, mt = st->st_mtime;
	struct tm tm;
	size_t ulen, glen, sz = 0;

	sftp_strmode(st->st_mode, mode);
	snprintf(lc, sizeof(lc), "%u", (unsigned)st->st_nlink);
	if ((user = sftp_user_name(s, st->st_uid)) == NULL) {
		snprintf(ubuf, sizeof(ubuf), "%u", (unsigned)st->st_uid);
		user = ubuf;
	}
	if ((group = sftp_group_name(s, st->st_gid)) == NULL) {
		snprintf(gbuf, sizeof(gbuf), "%u", (unsigned)st->st_gid);
		group = gbuf;
	}
	if (localtime_r(&mt, &tm) != NULL) {
		now = time(NULL);
		if (now - (365 * 24 * 60 * 60) / 2 < mt && now >= mt)
			sz = strftime(tbuf, sizeof(tbuf), "%b %e %H:%M", &tm);
		else
			sz = strftime(tbuf, sizeof(tbuf), "%b %e  %Y", &tm);
	}
	if (sz == 0)
		tbuf[0] = '\0';
	ulen = strlen(user) > 8 ? strlen(user) : 8;
	glen = strlen(group) > 8 ? strlen(group) : 8;
	snprintf(out, outlen, "%s %3s %-*s %-*s %8llu %s %s", mode, lc,
	    (int)ulen, user, (int)glen, group, (unsigned long long)st->st_size,
	    tbuf, name);
}

int
sftp_tilde(const char *home, const char *path, char *out, size_t outlen)
{
	const char *rest, *base;
	char user[256];
	struct passwd *pw;
	size_t ulen;
	int n;

	if (path[0] != '~') {
		base = "";
		rest = path;
	} else if (path[1] == '\0' || path[1] == '/') {
		if (home == NULL) {
			errno = ENOENT;
			return -1;
		}
		base = home;
		rest = path + 1;
	} else {
		rest = strchr(path, '/');
		ulen =
		    rest != NULL ? (size_t)(rest - path - 1) : strlen(path + 1);
		if (rest == NULL)
			rest = "";
		if (ulen >= sizeof(user)) {
			errno = ENOENT;
			return -1;
		}
		memcpy(user, path + 1, ulen);
		user[ulen] = '\0';
		if ((pw = getpwnam(user)) == NULL) {
			errno = ENOENT;
			return -1;
		}
		base = pw->pw_dir;
	}
	n = snprintf(out, outlen, "%s%s", base, rest);
	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Drop the last component of an absolute path ("/" stays "/"). */
static size_t
pop_component(char *res, size_t rlen)
{
	while (rlen > 1 && res[rlen - 1] != '/')
		rlen--;
	if (rlen > 1)
		rlen--;
	res[rlen] = '\0';
	return rlen;
}

/*
 * Like OpenSSH's sftp_realpath() (OpenBSD's realpath): each component is
 * looked at with lstat(2) and links are followed; a missing last
 * component is allowed, so that a client can name a file to create, but
 * not with a '/' after it ("missing/": ENOENT).
 */
int
sftp_realpath(struct sftp_server *s, const char *path, char *out, size_t outlen)
{
	char res[SFTP_PATH_MAX], left[SFTP_PATH_MAX], link[SFTP_PATH_MAX];
	char comp[SFTP_PATH_MAX];
	size_t rlen, clen, llen;
	const char *slash;
	struct stat st;
	int nlinks = 0, n;
	ssize_t ln;

	if (path[0] == '/') {
		snprintf(res, sizeof(res), "/");
		path++;
	} else {
		sftp_cwd_refresh(s);
		if ((size_t)snprintf(res, sizeof(res), "%s", s->cwd_path) >=
		    sizeof(res))
			goto toolong;
	}
	if ((size_t)snprintf(left, sizeof(left), "%s", path) >= sizeof(left))
		goto toolong;
	rlen = strlen(res);
	while (left[0] != '\0') {
		slash = strchr(left, '/');
		clen = slash != NULL ? (size_t)(slash - left) : strlen(left);
		memcpy(comp, left, clen);
		comp[clen] = '\0';
		llen = strlen(left);
		if (slash != NULL)
			memmove(left, slash + 1, llen - clen);
		else
			left[0] = '\0';
		if (clen == 0 || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			rlen = pop_component(res, rlen);
			continue;
		}
		if (rlen + 1 + clen >= sizeof(res))
			goto toolong;
		if (res[rlen - 1] != '/')
			res[rlen++] = '/';
		memcpy(res + rlen, comp, clen + 1);
		rlen += clen;
		/* Only a last component without a '/' after it may be
		 * missing (sftp-server 9.2 does not ask for a directory). */
		if (lstat(res, &st) == -1) {
			if (errno == ENOENT && slash == NULL)
				break;
			return -1;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++nlinks > SFTP_MAX_SYMLINKS) {
			errno = ELOOP;
			return -1;
		}
		if ((ln = readlink(res, link, sizeof(link) - 1)) == -1)
			return -1;
		link[ln] = '\0';
		if (link[0] == '/') {
			snprintf(res, sizeof(res), "/");
			rlen = 1;
		} else
			rlen = pop_component(res, rlen);
		/* The link's text goes in front of what is left. */
		n = slash != NULL
		    ? snprintf(comp, sizeof(comp), "%s/%s", link, left)
		    : snprintf(comp, sizeof(comp), "%s", link);
		if (n < 0 || (size_t)n >= sizeof(left))
			goto toolong;
		memcpy(left, comp, (size_t)n + 1);
	}
	if ((size_t)snprintf(out, outlen, "%s", res) >= outlen)
		goto toolong;
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}
