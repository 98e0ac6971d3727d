/*
 * sftp_ext.c: OpenSSH's SFTP extensions (PROTOCOL section 4): posix-rename,
 * statvfs, fstatvfs, hardlink, fsync, lsetstat, limits, expand-path,
 * copy-data, home-directory and users-groups-by-id.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "sftp_int.h"

#define COPY_CHUNK (256 * 1024)
#define COPY_STEP (16 * COPY_CHUNK) /* bytes copied per loop turn */

static int
ext_paths(
    struct sftp_server *s, const struct sftp_req *q, char *a, char *b, int *r)
{
	if (sftp_cpath(&q->s1, a, SFTP_PATH_MAX) != 0 ||
	    sftp_cpath(&q->s2, b, SFTP_PATH_MAX) != 0) {
		*r = sftp_send_errno(s, q->id, errno);
		return -1;
	}
	return 0;
}

int
sftp_do_posix_rename(struct sftp_server *s, const struct sftp_req *q)
{
	char a[SFTP_PATH_MAX], b[SFTP_PATH_MAX];
	int r, ret;

	if (ext_paths(s, q, a, b, &r) != 0)
		return r;
	sftp_log(s, LL_INFO, "posix-rename old \"%s\" new \"%s\"", a, b);
	ret = renameat(s->cwd_fd, a, s->cwd_fd, b);
	return sftp_send_errno(s, q->id, ret == -1 ? errno : 0);
}

int
sftp_do_hardlink(struct sftp_server *s, const struct sftp_req *q)
{
	char a[SFTP_PATH_MAX], b[SFTP_PATH_MAX];
	int r, ret;

	if (ext_paths(s, q, a, b, &r) != 0)
		return r;
	sftp_log(s, LL_INFO, "hardlink old \"%s\" new \"%s\"", a, b);
	ret = linkat(s->cwd_fd, a, s->cwd_fd, b, 0);
	return sftp_send_errno(s, q->id, ret == -1 ? errno : 0);
}

static int
send_statvfs(struct sftp_server *s, uint32_t id, const struct statvfs *st)
{
	uint64_t flag = 0;
	size_t mark;
	int r;

	if (st->f_flag & ST_RDONLY)
		flag |= SSH2_FXE_STATVFS_ST_RDONLY;
	if (st->f_flag & ST_NOSUID)
		flag |= SSH2_FXE_STATVFS_ST_NOSUID;
	if ((r = sftp_reply_begin(s, SSH2_FXP_EXTENDED_REPLY, id, &mark)) != 0)
		return r;
	if ((r = buf_put_u64(s->out, st->f_bsize)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_frsize)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_blocks)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_bfree)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_bavail)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_files)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_ffree)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_favail)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_fsid)) != 0 ||
	    (r = buf_put_u64(s->out, flag)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_namemax)) != 0) {
		sftp_reply_cancel(s, mark);
		return r;
	}
	return sftp_reply_end(s, mark);
}

int
sftp_do_statvfs(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX];
	struct statvfs st;
	int fd, ret, err;

	if (sftp_cpath(&q->s1, path, sizeof(path)) != 0)
		return sftp_send_errno(s, q->id, errno);
	sftp_log(s, LL_INFO, "statvfs \"%s\"", path);
	/* statvfs(2) has no *at form; an O_PATH descriptor needs no access. */
	if ((fd = openat(s->cwd_fd, path, O_PATH | O_CLOEXEC)) == -1)
		return sftp_send_errno(s, q->id, errno);
	ret = fstatvfs(fd, &st);
	err = errno;
	close(fd);
	if (ret == -1)
		return sftp_send_errno(s, q->id, err);
	return send_statvfs(s, q->id, &st);
}

int
sftp_do_fstatvfs(struct sftp_server *s, const struct sftp_req *q)
{
	struct sftp_handle *h;
	struct statvfs st;

	if ((h = sftp_handle_get(s, &q->s1, SFTP_H_FILE)) == NULL)
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	if (fstatvfs(h->fd, &st) == -1)
		return sftp_send_errno(s, q->id, errno);
	return send_statvfs(s, q->id, &st);
}

int
sftp_do_fsync(struct sftp_server *s, const struct sftp_req *q)
{
	struct sftp_handle *h, *any;

	h = sftp_handle_get(s, &q->s1, SFTP_H_FILE);
	any = h != NULL ? h : sftp_handle_get(s, &q->s1, SFTP_H_DIR);
	/* As sftp-server, which names an unknown handle "(null)". */
	sftp_log(
	    s, LL_VERBOSE, "fsync \"%s\"", any != NULL ? any->name : "(null)");
	/* As OpenSSH: an unknown handle, or a directory's, is NO_SUCH_FILE. */
	if (h == NULL)
		return sftp_send_status(s, q->id, SSH2_FX_NO_SUCH_FILE);
	return sftp_send_errno(s, q->id, fsync(h->fd) == -1 ? errno : 0);
}

int
sftp_do_lsetstat(struct sftp_server *s, const struct sftp_req *q)
{
	return sftp_setstat_path(s, q, 1);
}

int
sftp_do_limits(struct sftp_server *s, const struct sftp_req *q)
{
	size_t mark;
	int r;

	sftp_log(s, LL_DEBUG1, "request %u: limits", q->id);
	if ((r = sftp_reply_begin(s, SSH2_FXP_EXTENDED_REPLY, q->id, &mark)) !=
	    0)
		return r;
	if ((r = buf_put_u64(s->out, SFTP_MAX_MSG_LENGTH)) != 0 ||
	    (r = buf_put_u64(s->out, SFTP_MAX_READ_LENGTH)) != 0 ||
	    (r = buf_put_u64(s->out, SFTP_MAX_MSG_LENGTH - 1024)) != 0 ||
	    (r = buf_put_u64(s->out, s->max_handles)) != 0) {
		sftp_reply_cancel(s, mark);
		return r;
	}
	return sftp_reply_end(s, mark);
}

/*
 * expand-path@openssh.com: "~" and "~/..." are the directory the engine
 * started in (-d, else the home), as OpenSSH's sftp-server, which
 * expands them with its working directory: in a ChrootDirectory jail the
 * passwd entry's home is usually not there. "~user" is that user's home.
 */
int
sftp_do_expand_path(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX], exp[SFTP_PATH_MAX], res[SFTP_PATH_MAX];

	if (sftp_cpath(&q->s1, path, sizeof(path)) != 0)
		return sftp_send_errno(s, q->id, errno);
	sftp_log(
	    s, LL_DEBUG3, "request %u: expand, original \"%s\"", q->id, path);
	sftp_cwd_refresh(s);
	if (path[0] == '\0')
		snprintf(exp, sizeof(exp), ".");
	else if (sftp_tilde(s->cwd_path, path, exp, sizeof(exp)) != 0) {
		if (errno == ENOENT)
			return sftp_send_status_msg(
			    s, q->id, SSH2_FX_NO_SUCH_FILE, "no such user");
		return sftp_send_errno(s, q->id, errno);
	}
	sftp_log(s, LL_VERBOSE, "expand \"%s\"", exp);
	if (sftp_realpath(s, exp, res, sizeof(res)) != 0)
		return sftp_send_errno(s, q->id, errno);
	return sftp_send_name1(s, q->id, res);
}

/* Write all of p at off (or at the end for an O_APPEND handle). */
static int
write_all(struct sftp_handle *h, const uint8_t *p, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		if (h->oflags & O_APPEND)
			n = write(h->fd, p, len);
		else
			n = pwrite(h->fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		h->nwritten += (uint64_t)n;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * copy-data: read-data-length bytes (0: up to EOF) from one handle to
 * another. OpenSSH's runs to the end in one call; here it runs in steps
 * of COPY_STEP bytes, one per loop turn of the session (sftp_copy_step),
 * so that a long copy does not hold the connection's other channels,
 * keepalives or rekeying: the requests after it wait, so replies keep
 * their order and the handles stay open. The work must end: both handles
 * must be regular files (a device never reaches EOF, /dev/null never
 * fills), and no more is read than the source held when the request came
 * (a file copied onto its own end under another name would otherwise
 * grow as fast as it is read).
 */
int
sftp_do_copy_data(struct sftp_server *s, const struct sftp_req *q)
{
	struct sftp_handle *rh, *wh;
	struct sftp_copy *cp;
	struct stat rst, wst;

	rh = sftp_handle_get(s, &q->s1, SFTP_H_FILE);
	wh = sftp_handle_get(s, &q->s2, SFTP_H_FILE);
	sftp_log(s, LL_DEBUG1,
	    "request %u: copy-data off %llu len %llu to off %llu", q->id,
	    (unsigned long long)q->off, (unsigned long long)q->len64,
	    (unsigned long long)q->off2);
	if (rh == NULL || wh == NULL || rh == wh ||
	    strcmp(rh->name, wh->name) == 0)
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	if (q->off > (uint64_t)INT64_MAX || q->off2 > (uint64_t)INT64_MAX)
		return sftp_send_errno(s, q->id, EINVAL);
	if (fstat(rh->fd, &rst) == -1 || fstat(wh->fd, &wst) == -1)
		return sftp_send_errno(s, q->id, errno);
	if (!S_ISREG(rst.st_mode) || !S_ISREG(wst.st_mode)) {
		sftp_log(s, LL_VERBOSE, "copy-data: not a regular file");
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	}
	if ((cp = calloc(1, sizeof(*cp))) == NULL ||
	    (cp->buf = malloc(COPY_CHUNK)) == NULL) {
		free(cp);
		return ERR_ALLOC;
	}
	cp->id = q->id;
	cp->rh = rh;
	cp->wh = wh;
	cp->roff = q->off;
	cp->woff = q->off2;
	cp->left = q->len64;
	cp->until_eof = q->len64 == 0;
	cp->end = (uint64_t)rst.st_size;
	s->copy = cp;
	return sftp_copy_step(s);
}

/* One chunk of the copy: 1 when it ended, with *status; else 0. */
static int
copy_chunk(struct sftp_server *s, struct sftp_copy *cp, int *status)
{
	size_t chunk = COPY_CHUNK;
	ssize_t n;

	if (!cp->until_eof && cp->left < chunk)
		chunk = (size_t)cp->left;
	if (!cp->until_eof && cp->left == 0) {
		*status = SSH2_FX_OK;
		return 1;
	}
	if (cp->roff >= cp->end) {
		*status = cp->until_eof ? SSH2_FX_OK : SSH2_FX_EOF;
		return 1;
	}
	if (cp->end - cp->roff < chunk)
		chunk = (size_t)(cp->end - cp->roff);
	if (cp->roff > (uint64_t)INT64_MAX - chunk ||
	    cp->woff > (uint64_t)INT64_MAX - chunk) {
		*status = sftp_errno_to_status(EINVAL);
		return 1;
	}
	do {
		n = pread(cp->rh->fd, cp->buf, chunk, (off_t)cp->roff);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		sftp_log(
		    s, LL_ERROR, "copy-data: read failed: %s", strerror(errno));
		*status = sftp_errno_to_status(errno);
		return 1;
	}
	if (n == 0) {
		*status = cp->until_eof ? SSH2_FX_OK : SSH2_FX_EOF;
		return 1;
	}
	cp->rh->nread += (uint64_t)n;
	if (write_all(cp->wh, cp->buf, (size_t)n, cp->woff) != 0) {
		sftp_log(s, LL_ERROR, "copy-data: write failed: %s",
		    strerror(errno));
		*status = sftp_errno_to_status(errno);
		return 1;
	}
	cp->roff += (uint64_t)n;
	cp->woff += (uint64_t)n;
	if (!cp->until_eof)
		cp->left -= (uint64_t)n;
	return 0;
}

int
sftp_copy_step(struct sftp_server *s)
{
	struct sftp_copy *cp = s->copy;
	size_t i;
	int ended = 0, status = SSH2_FX_OK;
	uint32_t id;

	if (cp == NULL)
		return 0;
	for (i = 0; i < COPY_STEP / COPY_CHUNK && !ended; i++)
		ended = copy_chunk(s, cp, &status);
	if (!ended)
		return 0;
	id = cp->id;
	sftp_copy_free(s);
	return sftp_send_status(s, id, (uint32_t)status);
}

void
sftp_copy_free(struct sftp_server *s)
{
	if (s->copy == NULL)
		return;
	free(s->copy->buf);
	free(s->copy);
	s->copy = NULL;
}

int
sftp_do_home_directory(struct sftp_server *s, const struct sftp_req *q)
{
	char user[SFTP_PATH_MAX];
	struct passwd *pw;
	const char *dir;

	if (sftp_cpath(&q->s1, user, sizeof(user)) != 0)
		return sftp_send_errno(s, q->id, errno);
	sftp_log(
	    s, LL_DEBUG3, "request %u: home-directory \"%s\"", q->id, user);
	if (user[0] == '\0' && s->home != NULL)
		dir = s->home;
	else if ((pw = user[0] == '\0' ? getpwuid(getuid()) : getpwnam(user)) !=
	    NULL)
		dir = pw->pw_dir;
	else
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	sftp_log(s, LL_VERBOSE, "home-directory \"%s\"", dir);
	return sftp_send_name1(s, q->id, dir);
}

/* Names for a list of ids as a string of strings ("" when unknown). */
static int
names_for(struct sftp_server *s, const struct sftp_str *ids, int groups,
    struct buf *out, unsigned *count)
{
	struct buf v;
	uint32_t id;
	const char *name;
	int r;

	memset(&v, 0, sizeof(v));
	v.data = (uint8_t *)(uintptr_t)ids->p; /* read-only view */
	v.wpos = v.cap = v.max = ids->len;
	*count = 0;
	while (buf_len(&v) > 0) {
		if ((r = buf_get_u32(&v, &id)) != 0)
			return r;
		name = groups ? sftp_group_name(s, id) : sftp_user_name(s, id);
		if ((r = buf_put_cstring(out, name != NULL ? name : "")) != 0)
			return r;
		(*count)++;
	}
	return 0;
}

int
sftp_do_users_groups(struct sftp_server *s, const struct sftp_req *q)
{
	struct buf *users = NULL, *groups = NULL;
	unsigned nu = 0, ng = 0;
	size_t mark;
	int r;

	/* Both lists must fit one reply; too many names is a FAILURE. */
	if ((users = buf_new(SFTP_MAX_MSG_LENGTH - 1024)) == NULL ||
	    (groups = buf_new(SFTP_MAX_MSG_LENGTH - 1024)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = names_for(s, &q->data, 0, users, &nu)) != 0 ||
	    (r = names_for(s, &q->s2, 1, groups, &ng)) != 0 ||
	    buf_len(users) + buf_len(groups) > SFTP_MAX_MSG_LENGTH - 1024) {
		r = r == ERR_ALLOC
		    ? r
		    : sftp_send_status(s, q->id, SSH2_FX_FAILURE);
		goto out;
	}
	sftp_log(
	    s, LL_VERBOSE, "users-groups-by-id: %u users, %u groups", nu, ng);
	if ((r = sftp_reply_begin(s, SSH2_FXP_EXTENDED_REPLY, q->id, &mark)) !=
	    0)
		goto out;
	if ((r = buf_put_stringb(s->out, users)) != 0 ||
	    (r = buf_put_stringb(s->out, groups)) != 0) {
		sftp_reply_cancel(s, mark);
		goto out;
	}
	r = sftp_reply_end(s, mark);
out:
	buf_free(users);
	buf_free(groups);
	return r;
}
