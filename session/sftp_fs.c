/*
 * sftp_fs.c: the requests of draft-ietf-secsh-filexfer-02 as file system
 * calls. Relative paths are looked up from the engine's directory
 * descriptor; a failed call becomes a STATUS reply, never an engine error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "sftp_int.h"

#define SFTP_NAME_REPLY_MAX (SFTP_MAX_MSG_LENGTH - 8192)

/* Both paths of a request as C strings, for two-path calls. */
struct two_paths {
	char a[SFTP_PATH_MAX], b[SFTP_PATH_MAX];
};

static int
flags_from_portable(uint32_t pflags)
{
	int flags = 0;

	if ((pflags & SSH2_FXF_READ) && (pflags & SSH2_FXF_WRITE))
		flags = O_RDWR;
	else if (pflags & SSH2_FXF_READ)
		flags = O_RDONLY;
	else if (pflags & SSH2_FXF_WRITE)
		flags = O_WRONLY;
	if (pflags & SSH2_FXF_APPEND)
		flags |= O_APPEND;
	if (pflags & SSH2_FXF_CREAT)
		flags |= O_CREAT;
	if (pflags & SSH2_FXF_TRUNC)
		flags |= O_TRUNC;
	if (pflags & SSH2_FXF_EXCL)
		flags |= O_EXCL;
	return flags;
}

static const char *
string_from_portable(uint32_t pflags, char *out, size_t outlen)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {
	    {SSH2_FXF_READ, "READ"},
	    {SSH2_FXF_WRITE, "WRITE"},
	    {SSH2_FXF_APPEND, "APPEND"},
	    {SSH2_FXF_CREAT, "CREATE"},
	    {SSH2_FXF_TRUNC, "TRUNCATE"},
	    {SSH2_FXF_EXCL, "EXCL"},
	};
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(pflags & names[i].flag))
			continue;
		n += (size_t)snprintf(out + n, outlen - n, "%s%s",
		    n > 0 ? "," : "", names[i].name);
		if (n >= outlen)
			break;
	}
	return out;
}

/* The request's first path; on failure the STATUS is already queued. */
static int
path1(struct sftp_server *s, const struct sftp_req *q, char *out, int *r)
{
	if (sftp_cpath(&q->s1, out, SFTP_PATH_MAX) == 0)
		return 0;
	*r = sftp_send_errno(s, q->id, errno);
	return -1;
}

static int
paths2(struct sftp_server *s, const struct sftp_req *q, struct two_paths *p,
    int *r)
{
	if (sftp_cpath(&q->s1, p->a, sizeof(p->a)) != 0 ||
	    sftp_cpath(&q->s2, p->b, sizeof(p->b)) != 0) {
		*r = sftp_send_errno(s, q->id, errno);
		return -1;
	}
	return 0;
}

static int
send_result(struct sftp_server *s, uint32_t id, int ret)
{
	return sftp_send_errno(s, id, ret == -1 ? errno : 0);
}

/*
 * Whether fd is on a procfs (1 also when that cannot be told). The engine
 * runs inside postern-session, whose descriptor to the monitor may ask for
 * host-key signatures, and a process may write its own /proc/self files.
 * The kernel keeps the user out of its mem only while the session is not
 * dumpable (its files then belong to root); comm stays writable. No
 * handle open for writing on procfs rests on that.
 */
static int
on_procfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) != 0 || sfs.f_type == PROC_SUPER_MAGIC;
}

/*
 * Whether fd is an anonymous pipe (1 also when that cannot be told). No
 * path names one: only a magic link such as /proc/self/fd/N or /dev/fd/N
 * reaches it, and what it reaches is the pipe itself (on pipefs, which
 * on_procfs does not see). Those of this process are the session's own,
 * its loop's wake-up pipe among them: a handle on one could read the
 * loop's wake-ups or fill it. Named FIFOs are on their file system.
 */
static int
is_anon_pipe(int fd, const struct stat *st)
{
	struct statfs sfs;

	if (!S_ISFIFO(st->st_mode))
		return 0;
	return fstatfs(fd, &sfs) != 0 || sfs.f_type == PIPEFS_MAGIC;
}

int
sftp_do_open(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX], fls[64];
	struct stat st;
	unsigned old;
	int r, flags, mode, fd, h, err, fl;

	if (path1(s, q, path, &r) != 0)
		return r;
	flags = flags_from_portable(q->u32);
	mode = (q->a.flags & SSH2_FILEXFER_ATTR_PERMISSIONS) ? (int)q->a.perm
	                                                     : 0666;
	sftp_log(s, LL_INFO, "open \"%s\" flags %s mode 0%o", path,
	    string_from_portable(q->u32, fls, sizeof(fls)), (unsigned)mode);
	if (s->read_only &&
	    ((flags & O_ACCMODE) != O_RDONLY ||
	        (flags & (O_CREAT | O_TRUNC)) != 0)) {
		sftp_log(
		    s, LL_VERBOSE, "Refusing open request in read-only mode");
		return sftp_send_status(s, q->id, SSH2_FX_PERMISSION_DENIED);
	}
	/* Non-blocking so that a FIFO or a device never stalls the loop. */
	old = sftp_umask_begin(s);
	fd = openat(s->cwd_fd, path, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
	    (mode_t)(mode & 07777));
	err = errno;
	sftp_umask_end(s, old);
	if (fd == -1)
		return sftp_send_errno(s, q->id, err);
	if ((flags & O_ACCMODE) != O_RDONLY && on_procfs(fd)) {
		close(fd);
		sftp_log(s, LL_INFO,
		    "Refusing open for writing on procfs: \"%s\"", path);
		return sftp_send_status(s, q->id, SSH2_FX_PERMISSION_DENIED);
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		close(fd);
		return sftp_send_errno(s, q->id, err);
	}
	if (is_anon_pipe(fd, &st)) {
		close(fd);
		sftp_log(s, LL_INFO, "Refusing open of a pipe: \"%s\"", path);
		return sftp_send_status(s, q->id, SSH2_FX_PERMISSION_DENIED);
	}
	if (S_ISREG(st.st_mode) && (fl = fcntl(fd, F_GETFL)) != -1)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if ((h = sftp_handle_new(s, SFTP_H_FILE, fd, NULL, flags, path)) < 0) {
		close(fd);
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	}
	return sftp_send_handle(s, q->id, (unsigned)h);
}

int
sftp_do_close(struct sftp_server *s, const struct sftp_req *q)
{
	struct sftp_handle *h;

	if ((h = sftp_handle_get(s, &q->s1, SFTP_H_FILE)) == NULL &&
	    (h = sftp_handle_get(s, &q->s1, SFTP_H_DIR)) == NULL)
		return sftp_send_errno(s, q->id, ENOENT);
	sftp_handle_log_close(s, h, "");
	return send_result(s, q->id, sftp_handle_close(s, h));
}

/*
 * Whether the handle's file can be positioned at off: 0 or an errno. As
 * OpenSSH's sftp-server, which seeks before each read and write, an
 * offset past what the file system allows is EINVAL (BAD_MESSAGE), not
 * an EOF or a failed write. Asked only once a read or write came short:
 * off the path of every request.
 */
static int
seek_error(struct sftp_server *s, const struct sftp_handle *h, uint64_t off,
    const char *who)
{
	int err;

	if (off > (uint64_t)INT64_MAX)
		err = EINVAL;
	else if (lseek(h->fd, (off_t)off, SEEK_SET) == -1)
		err = errno;
	else
		return 0;
	/* sftp-server's line for its failed lseek. */
	sftp_log(s, LL_ERROR, "%s: seek \"%.100s\": %s", who, h->name,
	    strerror(err));
	return err;
}

/* READ: pread straight into the reply at the end of the output queue. */
int
sftp_do_read(struct sftp_server *s, const struct sftp_req *q)
{
	struct sftp_handle *h;
	uint32_t len = q->u32;
	uint8_t *dst;
	size_t mark;
	ssize_t n = 0;
	int r, err, serr;

	if ((h = sftp_handle_get(s, &q->s1, SFTP_H_FILE)) == NULL)
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	if (len > SFTP_MAX_READ_LENGTH) {
		sftp_log(s, LL_DEBUG2, "read change len %u to %u", len,
		    SFTP_MAX_READ_LENGTH);
		len = SFTP_MAX_READ_LENGTH;
	}
	if ((r = sftp_reply_begin(s, SSH2_FXP_DATA, q->id, &mark)) != 0)
		return r;
	if ((r = buf_put_u32(s->out, len)) != 0 ||
	    (r = buf_reserve(s->out, len, &dst)) != 0) {
		sftp_reply_cancel(s, mark);
		return r;
	}
	if (len > 0) {
		do {
			n = pread(h->fd, dst, len, (off_t)q->off);
		} while (n == -1 && errno == EINTR);
	}
	/* Nothing read (or asked): an unreachable offset says so first. */
	err = errno;
	if (n <= 0 && (serr = seek_error(s, h, q->off, "process_read")) != 0) {
		sftp_reply_cancel(s, mark);
		return sftp_send_errno(s, q->id, serr);
	}
	if (n == -1 || (n == 0 && len > 0)) {
		sftp_reply_cancel(s, mark);
		if (n == 0)
			return sftp_send_status(s, q->id, SSH2_FX_EOF);
		sftp_log(s, LL_ERROR, "process_read: read \"%.100s\": %s",
		    h->name, strerror(err));
		return sftp_send_errno(s, q->id, err);
	}
	if ((r = buf_consume_end(s->out, len - (size_t)n)) != 0)
		return r;
	sftp_reply_poke_u32(s, mark, 9, (uint32_t)n);
	h->nread += (uint64_t)n;
	return sftp_reply_end(s, mark);
}

/* WRITE: the data is written from where the packet lies, no copy. */
int
sftp_do_write(struct sftp_server *s, const struct sftp_req *q)
{
	struct sftp_handle *h;
	const uint8_t *p = q->data.p;
	size_t left = q->data.len;
	uint64_t off = q->off;
	ssize_t n;
	int err, serr;

	if ((h = sftp_handle_get(s, &q->s1, SFTP_H_FILE)) == NULL)
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	/* An O_APPEND handle writes at the end whatever the offset, as
	 * sftp-server, which does not seek it. */
	if (!(h->oflags & O_APPEND) && off > (uint64_t)INT64_MAX - left)
		return sftp_send_errno(s, q->id, EINVAL);
	while (left > 0) {
		/* Linux's pwrite ignores the offset on O_APPEND files. */
		if (h->oflags & O_APPEND)
			n = write(h->fd, p, left);
		else {
			n = pwrite(h->fd, p, left, (off_t)off);
			/* A file may take no pwrite (ESPIPE) yet seek, as
			 * procfs and sysfs files opened read-only: seek and
			 * write, as sftp-server, which then gets its EBADF. */
			if (n == -1 && errno == ESPIPE &&
			    lseek(h->fd, (off_t)off, SEEK_SET) != -1)
				n = write(h->fd, p, left);
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? ENOSPC : errno;
			/* An unreachable offset, as sftp-server's seek. */
			if (!(h->oflags & O_APPEND) &&
			    (serr = seek_error(
			         s, h, q->off, "process_write")) != 0)
				return sftp_send_errno(s, q->id, serr);

			sftp_log(s, LL_ERROR,
			    "process_write: write \"%.100s\": %s", h->name,
			    strerror(err));
			return sftp_send_errno(s, q->id, err);
		}
		h->nwritten += (uint64_t)n;
		p += n;
		off += (uint64_t)n;
		left -= (size_t)n;
	}
	return sftp_send_status(s, q->id, SSH2_FX_OK);
}

static int
send_attrs(struct sftp_server *s, uint32_t id, const struct stat *st)
{
	struct sftp_attrs a;
	size_t mark;
	int r;

	sftp_attrs_from_stat(&a, st);
	sftp_log(
	    s, LL_DEBUG1, "request %u: sent attrib have 0x%x", id, a.flags);
	if ((r = sftp_reply_begin(s, SSH2_FXP_ATTRS, id, &mark)) != 0)
		return r;
	if ((r = sftp_put_attrs(s->out, &a)) != 0) {
		sftp_reply_cancel(s, mark);
		return r;
	}
	return sftp_reply_end(s, mark);
}

/* STAT and LSTAT */
int
sftp_do_stat(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX];
	int lst = q->type == SSH2_FXP_LSTAT;
	struct stat st;
	int r;

	if (path1(s, q, path, &r) != 0)
		return r;
	sftp_log(s, LL_VERBOSE, "%sstat name \"%s\"", lst ? "l" : "", path);
	if (fstatat(s->cwd_fd, path, &st, lst ? AT_SYMLINK_NOFOLLOW : 0) == -1)
		return sftp_send_errno(s, q->id, errno);
	return send_attrs(s, q->id, &st);
}

int
sftp_do_fstat(struct sftp_server *s, const struct sftp_req *q)
{
	struct sftp_handle *h;
	struct stat st;

	if ((h = sftp_handle_get(s, &q->s1, SFTP_H_FILE)) == NULL)
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	if (fstat(h->fd, &st) == -1)
		return sftp_send_errno(s, q->id, errno);
	return send_attrs(s, q->id, &st);
}

static void
times_from_attrs(const struct sftp_attrs *a, struct timespec ts[2])
{
	ts[0].tv_sec = (time_t)a->atime;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = (time_t)a->mtime;
	ts[1].tv_nsec = 0;
}

static const char *
mtime_string(const struct sftp_attrs *a, char *out, size_t outlen)
{
	time_t t = (time_t)a->mtime;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%Y%m%d-%H:%M:%S", &tm) == 0)
		snprintf(out, outlen, "%u", a->mtime);
	return out;
}

/* truncate(2) has no *at form: relative names from within our directory
 * (by its descriptor, so wherever it is now). */
static int
truncate_at(struct sftp_server *s, const char *path, uint64_t size)
{
	int r, back;

	if (size > (uint64_t)INT64_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (path[0] == '/')
		return truncate(path, (off_t)size);
	if (sftp_cwd_enter(s, &back) != 0)
		return -1;
	r = truncate(path, (off_t)size);
	sftp_cwd_leave(back);
	return r;
}

/*
 * SETSTAT and lsetstat@openssh.com: each attribute in OpenSSH's order;
 * the status is that of the last one to fail.
 */
int
sftp_setstat_path(struct sftp_server *s, const struct sftp_req *q, int nofollow)
{
	char path[SFTP_PATH_MAX], tb[64];
	const struct sftp_attrs *a = &q->a;
	int r, atflag = nofollow ? AT_SYMLINK_NOFOLLOW : 0;
	int status = SSH2_FX_OK;
	struct timespec ts[2];

	if (path1(s, q, path, &r) != 0)
		return r;
	sftp_log(s, LL_DEBUG1, "request %u: %ssetstat name \"%s\"", q->id,
	    nofollow ? "l" : "", path);
	if (a->flags & SSH2_FILEXFER_ATTR_SIZE) {
		if (nofollow)
			/* Links have no size to set. */
			return sftp_send_status(s, q->id, SSH2_FX_BAD_MESSAGE);
		sftp_log(s, LL_INFO, "set \"%s\" size %llu", path,
		    (unsigned long long)a->size);
		if (truncate_at(s, path, a->size) == -1)
			status = sftp_errno_to_status(errno);
	}
	if (a->flags & SSH2_FILEXFER_ATTR_PERMISSIONS) {
		sftp_log(s, LL_INFO, "set \"%s\" mode %04o", path, a->perm);
		if (fchmodat(s->cwd_fd, path, a->perm & 07777, atflag) == -1)
			status = sftp_errno_to_status(errno);
	}
	if (a->flags & SSH2_FILEXFER_ATTR_ACMODTIME) {
		sftp_log(s, LL_INFO, "set \"%s\" modtime %s", path,
		    mtime_string(a, tb, sizeof(tb)));
		times_from_attrs(a, ts);
		if (utimensat(s->cwd_fd, path, ts, atflag) == -1)
			status = sftp_errno_to_status(errno);
	}
	if (a->flags & SSH2_FILEXFER_ATTR_UIDGID) {
		sftp_log(s, LL_INFO, "set \"%s\" owner %lu group %lu", path,
		    (unsigned long)a->uid, (unsigned long)a->gid);
		if (fchownat(s->cwd_fd, path, (uid_t)a->uid, (gid_t)a->gid,
		        atflag) == -1)
			status = sftp_errno_to_status(errno);
	}
	return sftp_send_status(s, q->id, (uint32_t)status);
}

int
sftp_do_setstat(struct sftp_server *s, const struct sftp_req *q)
{
	return sftp_setstat_path(s, q, 0);
}

int
sftp_do_fsetstat(struct sftp_server *s, const struct sftp_req *q)
{
	const struct sftp_attrs *a = &q->a;
	char tb[64];
	struct sftp_handle *h;
	struct timespec ts[2];
	int status = SSH2_FX_OK;

	if ((h = sftp_handle_get(s, &q->s1, SFTP_H_FILE)) == NULL)
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	if (a->flags & SSH2_FILEXFER_ATTR_SIZE) {
		sftp_log(s, LL_INFO, "set \"%s\" size %llu", h->name,
		    (unsigned long long)a->size);
		if (a->size > (uint64_t)INT64_MAX) {
			status = sftp_errno_to_status(EINVAL);
		} else if (ftruncate(h->fd, (off_t)a->size) == -1)
			status = sftp_errno_to_status(errno);
	}
	if (a->flags & SSH2_FILEXFER_ATTR_PERMISSIONS) {
		sftp_log(s, LL_INFO, "set \"%s\" mode %04o", h->name, a->perm);
		if (fchmod(h->fd, a->perm & 07777) == -1)
			status = sftp_errno_to_status(errno);
	}
	if (a->flags & SSH2_FILEXFER_ATTR_ACMODTIME) {
		sftp_log(s, LL_INFO, "set \"%s\" modtime %s", h->name,
		    mtime_string(a, tb, sizeof(tb)));
		times_from_attrs(a, ts);
		if (futimens(h->fd, ts) == -1)
			status = sftp_errno_to_status(errno);
	}
	if (a->flags & SSH2_FILEXFER_ATTR_UIDGID) {
		sftp_log(s, LL_INFO, "set \"%s\" owner %lu group %lu", h->name,
		    (unsigned long)a->uid, (unsigned long)a->gid);
		if (fchown(h->fd, (uid_t)a->uid, (gid_t)a->gid) == -1)
			status = sftp_errno_to_status(errno);
	}
	return sftp_send_status(s, q->id, (uint32_t)status);
}

int
sftp_do_opendir(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX];
	DIR *dir;
	int r, fd, h, err;

	if (path1(s, q, path, &r) != 0)
		return r;
	sftp_log(s, LL_INFO, "opendir \"%s\"", path);
	fd = openat(s->cwd_fd, path,
	    O_RDONLY | O_DIRECTORY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return sftp_send_errno(s, q->id, errno);
	if ((dir = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		return sftp_send_errno(s, q->id, err);
	}
	if ((h = sftp_handle_new(s, SFTP_H_DIR, -1, dir, 0, path)) < 0) {
		closedir(dir);
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	}
	return sftp_send_handle(s, q->id, (unsigned)h);
}

/* READDIR: up to SFTP_READDIR_BATCH names with their "ls -l" lines. */
int
sftp_do_readdir(struct sftp_server *s, const struct sftp_req *q)
{
	char longname[1024 + 512];
	struct sftp_attrs a;
	struct sftp_handle *h;
	struct dirent *de;
	struct stat st;
	uint32_t count = 0;
	size_t mark;
	int r;

	if ((h = sftp_handle_get(s, &q->s1, SFTP_H_DIR)) == NULL)
		return sftp_send_status(s, q->id, SSH2_FX_FAILURE);
	if ((r = sftp_reply_begin(s, SSH2_FXP_NAME, q->id, &mark)) != 0)
		return r;
	if ((r = buf_put_u32(s->out, 0)) != 0)
		goto fail;
	while (count < SFTP_READDIR_BATCH &&
	    buf_len(s->out) - mark < SFTP_NAME_REPLY_MAX) {
		errno = 0;
		if ((de = readdir(h->dir)) == NULL)
			break;
		if (fstatat(dirfd(h->dir), de->d_name, &st,
		        AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		sftp_longname(s, longname, sizeof(longname), de->d_name, &st);
		sftp_attrs_from_stat(&a, &st);
		if ((r = buf_put_cstring(s->out, de->d_name)) != 0 ||
		    (r = buf_put_cstring(s->out, longname)) != 0 ||
		    (r = sftp_put_attrs(s->out, &a)) != 0)
			goto fail;
		count++;
	}
	if (count == 0) {
		sftp_reply_cancel(s, mark);
		if (errno != 0)
			return sftp_send_errno(s, q->id, errno);
		return sftp_send_status(s, q->id, SSH2_FX_EOF);
	}
	sftp_log(s, LL_DEBUG1, "request %u: sent names count %u", q->id, count);
	sftp_reply_poke_u32(s, mark, 9, count);
	return sftp_reply_end(s, mark);
fail:
	sftp_reply_cancel(s, mark);
	return r;
}

int
sftp_do_remove(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX];
	int r;

	if (path1(s, q, path, &r) != 0)
		return r;
	sftp_log(s, LL_INFO, "remove name \"%s\"", path);
	return send_result(s, q->id, unlinkat(s->cwd_fd, path, 0));
}

int
sftp_do_mkdir(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX];
	unsigned old, mode;
	int r, ret, err;

	if (path1(s, q, path, &r) != 0)
		return r;
	mode = (q->a.flags & SSH2_FILEXFER_ATTR_PERMISSIONS) ? q->a.perm & 07777
	                                                     : 0777;
	sftp_log(s, LL_INFO, "mkdir name \"%s\" mode 0%o", path, mode);
	old = sftp_umask_begin(s);
	ret = mkdirat(s->cwd_fd, path, (mode_t)mode);
	err = errno;
	sftp_umask_end(s, old);
	return sftp_send_errno(s, q->id, ret == -1 ? err : 0);
}

int
sftp_do_rmdir(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX];
	int r;

	if (path1(s, q, path, &r) != 0)
		return r;
	sftp_log(s, LL_INFO, "rmdir name \"%s\"", path);
	return send_result(s, q->id, unlinkat(s->cwd_fd, path, AT_REMOVEDIR));
}

int
sftp_do_realpath(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX], res[SFTP_PATH_MAX];
	int r;

	if (path1(s, q, path, &r) != 0)
		return r;
	if (path[0] == '\0')
		snprintf(path, sizeof(path), ".");
	sftp_log(s, LL_VERBOSE, "realpath \"%s\"", path);
	if (sftp_realpath(s, path, res, sizeof(res)) != 0)
		return sftp_send_errno(s, q->id, errno);
	return sftp_send_name1(s, q->id, res);
}

/*
 * RENAME in version 3 must not replace an existing target, unlike
 * rename(2) (posix-rename@openssh.com is that).
 */
int
sftp_do_rename(struct sftp_server *s, const struct sftp_req *q)
{
	struct two_paths p;
	struct stat st;
	int r, ret;

	if (paths2(s, q, &p, &r) != 0)
		return r;
	sftp_log(s, LL_INFO, "rename old \"%s\" new \"%s\"", p.a, p.b);
	ret = renameat2(s->cwd_fd, p.a, s->cwd_fd, p.b, RENAME_NOREPLACE);
	if (ret == -1 &&
	    (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
		/* No RENAME_NOREPLACE here: check, then rename (racy). */
		if (fstatat(s->cwd_fd, p.b, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			errno = EEXIST;
			ret = -1;
		} else
			ret = renameat(s->cwd_fd, p.a, s->cwd_fd, p.b);
	}
	/*
	 * As sftp-server: what is not a regular file replaces a name that
	 * does not resolve (a dangling symlink); a regular file never
	 * replaces anything (its link() fails).
	 */
	if (ret == -1 && errno == EEXIST) {
		if (fstatat(s->cwd_fd, p.a, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(st.st_mode) &&
		    fstatat(s->cwd_fd, p.b, &st, 0) == -1)
			ret = renameat(s->cwd_fd, p.a, s->cwd_fd, p.b);
		else
			errno = EEXIST; /* not the checks' */
	}
	return send_result(s, q->id, ret);
}

int
sftp_do_readlink(struct sftp_server *s, const struct sftp_req *q)
{
	char path[SFTP_PATH_MAX], link[SFTP_PATH_MAX];
	ssize_t n;
	int r;

	if (path1(s, q, path, &r) != 0)
		return r;
	sftp_log(s, LL_VERBOSE, "readlink \"%s\"", path);
	if ((n = readlinkat(s->cwd_fd, path, link, sizeof(link) - 1)) == -1)
		return sftp_send_errno(s, q->id, errno);
	link[n] = '\0';
	return sftp_send_name1(s, q->id, link);
}

/* OpenSSH's order (PROTOCOL 4.1): target first, then the link's path. */
int
sftp_do_symlink(struct sftp_server *s, const struct sftp_req *q)
{
	struct two_paths p;
	int r;

	if (paths2(s, q, &p, &r) != 0)
		return r;
	sftp_log(s, LL_INFO, "symlink old \"%s\" new \"%s\"", p.a, p.b);
	return send_result(s, q->id, symlinkat(p.a, s->cwd_fd, p.b));
}
