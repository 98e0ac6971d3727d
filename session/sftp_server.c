/*
 * sftp_server.c: the SFTP engine's life cycle, packet framing, request
 * dispatch with the -R/-P/-p checks, the reply queue and the handle table.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "sftp_int.h"

/* Output: the high-water mark plus one largest reply. */
#define SFTP_OUT_MAX (SFTP_OUT_HIGH + SFTP_MAX_MSG_LENGTH + 4096)
/* Input held back while the output is full; the channel window bounds it. */
#define SFTP_IN_MAX (4 * 1024 * 1024 + SFTP_MAX_MSG_LENGTH)

typedef int (*sftp_fn)(struct sftp_server *, const struct sftp_req *);

struct sftp_handler {
	const char *name; /* for -P/-p and -Q requests */
	uint8_t type;
	enum sftp_ext ext;
	const char *version; /* advertised in VERSION (extensions) */
	int does_write;      /* refused by -R */
	sftp_fn fn;
};

/* OPEN checks -R itself: opening for reading is allowed. */
static const struct sftp_handler handlers[] = {
    {"open", SSH2_FXP_OPEN, SFTP_EXT_NONE, NULL, 0, sftp_do_open},
    {"close", SSH2_FXP_CLOSE, SFTP_EXT_NONE, NULL, 0, sftp_do_close},
    {"read", SSH2_FXP_READ, SFTP_EXT_NONE, NULL, 0, sftp_do_read},
    {"write", SSH2_FXP_WRITE, SFTP_EXT_NONE, NULL, 1, sftp_do_write},
    {"lstat", SSH2_FXP_LSTAT, SFTP_EXT_NONE, NULL, 0, sftp_do_stat},
    {"fstat", SSH2_FXP_FSTAT, SFTP_EXT_NONE, NULL, 0, sftp_do_fstat},
    {"setstat", SSH2_FXP_SETSTAT, SFTP_EXT_NONE, NULL, 1, sftp_do_setstat},
    {"fsetstat", SSH2_FXP_FSETSTAT, SFTP_EXT_NONE, NULL, 1, sftp_do_fsetstat},
    {"opendir", SSH2_FXP_OPENDIR, SFTP_EXT_NONE, NULL, 0, sftp_do_opendir},
    {"readdir", SSH2_FXP_READDIR, SFTP_EXT_NONE, NULL, 0, sftp_do_readdir},
    {"remove", SSH2_FXP_REMOVE, SFTP_EXT_NONE, NULL, 1, sftp_do_remove},
    {"mkdir", SSH2_FXP_MKDIR, SFTP_EXT_NONE, NULL, 1, sftp_do_mkdir},
    {"rmdir", SSH2_FXP_RMDIR, SFTP_EXT_NONE, NULL, 1, sftp_do_rmdir},
    {"realpath", SSH2_FXP_REALPATH, SFTP_EXT_NONE, NULL, 0, sftp_do_realpath},
    {"stat", SSH2_FXP_STAT, SFTP_EXT_NONE, NULL, 0, sftp_do_stat},
    {"rename", SSH2_FXP_RENAME, SFTP_EXT_NONE, NULL, 1, sftp_do_rename},
    {"readlink", SSH2_FXP_READLINK, SFTP_EXT_NONE, NULL, 0, sftp_do_readlink},
    {"symlink", SSH2_FXP_SYMLINK, SFTP_EXT_NONE, NULL, 1, sftp_do_symlink},
    /* In the order OpenSSH advertises them. */
    {"posix-rename", SSH2_FXP_EXTENDED, SFTP_EXT_POSIX_RENAME, "1", 1,
        sftp_do_posix_rename},
    {"statvfs", SSH2_FXP_EXTENDED, SFTP_EXT_STATVFS, "2", 0, sftp_do_statvfs},
    {"fstatvfs", SSH2_FXP_EXTENDED, SFTP_EXT_FSTATVFS, "2", 0,
        sftp_do_fstatvfs},
    {"hardlink", SSH2_FXP_EXTENDED, SFTP_EXT_HARDLINK, "1", 1,
        sftp_do_hardlink},
    {"fsync", SSH2_FXP_EXTENDED, SFTP_EXT_FSYNC, "1", 1, sftp_do_fsync},
    {"lsetstat", SSH2_FXP_EXTENDED, SFTP_EXT_LSETSTAT, "1", 1,
        sftp_do_lsetstat},
    {"limits", SSH2_FXP_EXTENDED, SFTP_EXT_LIMITS, "1", 0, sftp_do_limits},
    {"expand-path", SSH2_FXP_EXTENDED, SFTP_EXT_EXPAND_PATH, "1", 0,
        sftp_do_expand_path},
    {"copy-data", SSH2_FXP_EXTENDED, SFTP_EXT_COPY_DATA, "1", 1,
        sftp_do_copy_data},
    {"home-directory", SSH2_FXP_EXTENDED, SFTP_EXT_HOME_DIRECTORY, "1", 0,
        sftp_do_home_directory},
    {"users-groups-by-id", SSH2_FXP_EXTENDED, SFTP_EXT_USERS_GROUPS_BY_ID, "1",
        0, sftp_do_users_groups},
};
#define NHANDLERS (sizeof(handlers) / sizeof(handlers[0]))

const char *
sftp_request_name(unsigned i)
{
	return i < NHANDLERS ? handlers[i].name : NULL;
}

/* ------------------------------------------------------------------ */
/* logging */

/*
 * As sshd's internal-sftp (sftp_server_main's log_init): its lines carry
 * its own name, "internal-sftp[PID]", and facility AUTH unless -f says
 * otherwise, whatever SyslogFacility is (rsyslog rules that file them by
 * program name work as with sshd).
 */
void
sftp_host_log_line(int facility, int level, const char *msg)
{
	enum log_level global = log_get_level();
	const char *old_ident = log_get_ident();
	int old = log_get_facility();

	log_set_name("internal-sftp", facility >= 0 ? facility : LOG_AUTH);
	/* -l is the engine's level: let its lines past the process's. */
	if (level > (int)global)
		log_set_level((enum log_level)level);
	log_emit((enum log_level)level, msg);
	if (level > (int)global)
		log_set_level(global);
	log_set_name(old_ident, old);
}

void
sftp_log(struct sftp_server *s, enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if ((int)level > s->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->log_fn != NULL)
		s->log_fn(s->log_ctx, (int)level, msg);
	else
		sftp_host_log_line(-1, (int)level, msg);
	/* A failure logged on its way out keeps its errno: the callers
	 * answer with it (sftp_host_open takes EINVAL for a refused -d). */
	errno = saved;
}

/* ------------------------------------------------------------------ */
/* replies */

static void
poke_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * A reply is built in place at the end of the output queue; mark is its
 * offset from the unread start, which compaction of the queue preserves.
 * (VERSION has no id: its version number takes the id's place.)
 */
int
sftp_reply_begin(struct sftp_server *s, uint8_t type, uint32_t id, size_t *mark)
{
	int r;

	*mark = buf_len(s->out);
	if ((r = buf_put_u32(s->out, 0)) != 0 ||
	    (r = buf_put_u8(s->out, type)) != 0 ||
	    (r = buf_put_u32(s->out, id)) != 0) {
		sftp_reply_cancel(s, *mark);
		return r;
	}
	return 0;
}

int
sftp_reply_end(struct sftp_server *s, size_t mark)
{
	size_t len = buf_len(s->out) - mark - 4;

	if (len > SFTP_MAX_MSG_LENGTH) {
		sftp_reply_cancel(s, mark);
		return ERR_TOO_BIG;
	}
	poke_u32(buf_mutable_ptr(s->out) + mark, (uint32_t)len);
	return 0;
}

void
sftp_reply_poke_u32(struct sftp_server *s, size_t mark, size_t off, uint32_t v)
{
	if (mark + off + 4 <= buf_len(s->out))
		poke_u32(buf_mutable_ptr(s->out) + mark + off, v);
}

void
sftp_reply_cancel(struct sftp_server *s, size_t mark)
{
	if (buf_len(s->out) > mark)
		(void)buf_consume_end(s->out, buf_len(s->out) - mark);
}

static const char *
status_message(uint32_t status)
{
	static const char *const msgs[] = {
	    "Success",
	    "End of file",
	    "No such file",
	    "Permission denied",
	    "Failure",
	    "Bad message",
	    "No connection",
	    "Connection lost",
	    "Operation unsupported",
	};

	return status <= SSH2_FX_MAX ? msgs[status] : "Unknown error";
}

int
sftp_send_status_msg(
    struct sftp_server *s, uint32_t id, uint32_t status, const char *msg)
{
	size_t mark;
	int r;

	sftp_log(s, LL_DEBUG3, "request %u: sent status %u", id, status);
	if (s->log_level > LL_VERBOSE ||
	    (status != SSH2_FX_OK && status != SSH2_FX_EOF))
		sftp_log(s, LL_INFO, "sent status %s", status_message(status));
	if ((r = sftp_reply_begin(s, SSH2_FXP_STATUS, id, &mark)) != 0)
		return r;
	if ((r = buf_put_u32(s->out, status)) != 0 ||
	    (r = buf_put_cstring(s->out, msg)) != 0 ||
	    (r = buf_put_cstring(s->out, "")) != 0) {
		sftp_reply_cancel(s, mark);
		return r;
	}
	return sftp_reply_end(s, mark);
}

int
sftp_send_status(struct sftp_server *s, uint32_t id, uint32_t status)
{
	return sftp_send_status_msg(s, id, status, status_message(status));
}

/* As OpenSSH's errno_to_portable(). */
int
sftp_errno_to_status(int err)
{
	switch (err) {
	case 0:
		return SSH2_FX_OK;
	case ENOENT:
	case ENOTDIR:
	case EBADF:
	case ELOOP:
		return SSH2_FX_NO_SUCH_FILE;
	case EPERM:
	case EACCES:
	case EFAULT:
		return SSH2_FX_PERMISSION_DENIED;
	case ENAMETOOLONG:
	case EINVAL:
		return SSH2_FX_BAD_MESSAGE;
	case ENOSYS:
		return SSH2_FX_OP_UNSUPPORTED;
	default:
		return SSH2_FX_FAILURE;
	}
}

int
sftp_send_errno(struct sftp_server *s, uint32_t id, int err)
{
	return sftp_send_status(s, id, (uint32_t)sftp_errno_to_status(err));
}

int
sftp_send_handle(struct sftp_server *s, uint32_t id, unsigned h)
{
	size_t mark;
	int r;

	sftp_log(s, LL_DEBUG1, "request %u: sent handle handle %u", id, h);
	if ((r = sftp_reply_begin(s, SSH2_FXP_HANDLE, id, &mark)) != 0)
		return r;
	if ((r = buf_put_u32(s->out, SFTP_HANDLE_LEN)) != 0 ||
	    (r = buf_put_u32(s->out, h)) != 0) {
		sftp_reply_cancel(s, mark);
		return r;
	}
	return sftp_reply_end(s, mark);
}

int
sftp_send_name1(struct sftp_server *s, uint32_t id, const char *name)
{
	struct sftp_attrs none = {0};
	size_t mark;
	int r;

	sftp_log(s, LL_DEBUG1, "request %u: sent names count 1", id);
	if ((r = sftp_reply_begin(s, SSH2_FXP_NAME, id, &mark)) != 0)
		return r;
	if ((r = buf_put_u32(s->out, 1)) != 0 ||
	    (r = buf_put_cstring(s->out, name)) != 0 ||
	    (r = buf_put_cstring(s->out, name)) != 0 ||
	    (r = sftp_put_attrs(s->out, &none)) != 0) {
		sftp_reply_cancel(s, mark);
		return r;
	}
	return sftp_reply_end(s, mark);
}

int
sftp_put_attrs(struct buf *b, const struct sftp_attrs *a)
{
	int r;

	if ((r = buf_put_u32(b, a->flags)) != 0)
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_SIZE) &&
	    (r = buf_put_u64(b, a->size)) != 0)
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_UIDGID) &&
	    ((r = buf_put_u32(b, a->uid)) != 0 ||
	        (r = buf_put_u32(b, a->gid)) != 0))
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_PERMISSIONS) &&
	    (r = buf_put_u32(b, a->perm)) != 0)
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_ACMODTIME) &&
	    ((r = buf_put_u32(b, a->atime)) != 0 ||
	        (r = buf_put_u32(b, a->mtime)) != 0))
		return r;
	return 0;
}

void
sftp_attrs_from_stat(struct sftp_attrs *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->flags = SSH2_FILEXFER_ATTR_SIZE | SSH2_FILEXFER_ATTR_UIDGID |
	    SSH2_FILEXFER_ATTR_PERMISSIONS | SSH2_FILEXFER_ATTR_ACMODTIME;
	a->size = (uint64_t)st->st_size;
	a->uid = (uint32_t)st->st_uid;
	a->gid = (uint32_t)st->st_gid;
	a->perm = (uint32_t)st->st_mode;
	/* Version 3 times are 32 bits. */
	a->atime = (uint32_t)st->st_atime;
	a->mtime = (uint32_t)st->st_mtime;
}

int
sftp_cpath(const struct sftp_str *str, char *out, size_t outlen)
{
	if (str->len >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (str->len > 0)
		memcpy(out, str->p, str->len);
	out[str->len] = '\0';
	return 0;
}

unsigned
sftp_umask_begin(const struct sftp_server *s)
{
	if (s->umask < 0)
		return ~0u;
	return (unsigned)umask((mode_t)s->umask);
}

void
sftp_umask_end(const struct sftp_server *s, unsigned old)
{
	if (old != ~0u)
		(void)umask((mode_t)old);
}

int
sftp_cwd_enter(const struct sftp_server *s, int *back)
{
	if ((*back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fchdir(s->cwd_fd) == 0)
		return 0;
	close(*back);
	*back = -1;
	return -1;
}

void
sftp_cwd_leave(int back)
{
	int saved = errno;

	(void)!fchdir(back);
	close(back);
	errno = saved;
}

void
sftp_cwd_refresh(struct sftp_server *s)
{
	char now[PATH_MAX], *dup;
	int back;

	if (sftp_cwd_enter(s, &back) != 0)
		return;
	/* glibc refuses a name outside our root (ENOENT): that stays. */
	if (getcwd(now, sizeof(now)) != NULL && now[0] == '/' &&
	    strcmp(now, s->cwd_path) != 0 && (dup = strdup(now)) != NULL) {
		free(s->cwd_path);
		s->cwd_path = dup;
	}
	sftp_cwd_leave(back);
}

/* ------------------------------------------------------------------ */
/* handles */

/*
 * Handles of every engine in this process (the session's sftp channels
 * share its descriptors): at most half the open-files limit in all
 * (sftp_open_max, taken with each engine's own cap in sftp_server_new),
 * so that one connection's transfers leave room for its other channels.
 */
static unsigned sftp_open_total, sftp_open_max = UINT_MAX;

int
sftp_handle_new(struct sftp_server *s, enum sftp_handle_kind kind, int fd,
    DIR *dir, int oflags, const char *name)
{
	struct sftp_handle *n, *h;
	unsigned i, ncap;

	if (s->nopen >= s->max_handles || sftp_open_total >= sftp_open_max)
		return -1;
	for (i = 0; i < s->nhandles; i++)
		if (s->handles[i].kind == SFTP_H_UNUSED)
			break;
	if (i == s->nhandles) {
		ncap = s->nhandles == 0 ? 8 : s->nhandles * 2;
		if (ncap > s->max_handles)
			ncap = s->max_handles;
		if ((n = reallocarray(s->handles, ncap, sizeof(*n))) == NULL)
			return -1;
		memset(n + s->nhandles, 0, (ncap - s->nhandles) * sizeof(*n));
		s->handles = n;
		s->nhandles = ncap;
	}
	h = &s->handles[i];
	if ((h->name = strdup(name)) == NULL)
		return -1;
	h->kind = kind;
	h->fd = fd;
	h->dir = dir;
	h->oflags = oflags;
	h->nread = h->nwritten = 0;
	s->nopen++;
	sftp_open_total++;
	return (int)i;
}

struct sftp_handle *
sftp_handle_get(struct sftp_server *s, const struct sftp_str *hs,
    enum sftp_handle_kind kind)
{
	struct buf v;
	uint32_t i;

	if (hs->len != SFTP_HANDLE_LEN)
		return NULL;
	/* A read-only view of the handle string: only getters touch it. */
	memset(&v, 0, sizeof(v));
	v.data = (uint8_t *)(uintptr_t)hs->p;
	v.wpos = v.cap = v.max = hs->len;
	if (buf_get_u32(&v, &i) != 0 || i >= s->nhandles ||
	    s->handles[i].kind != kind)
		return NULL;
	return &s->handles[i];
}

void
sftp_handle_log_close(
    struct sftp_server *s, struct sftp_handle *h, const char *why)
{
	if (h->kind == SFTP_H_FILE)
		sftp_log(s, LL_INFO,
		    "%s%sclose \"%s\" bytes read %llu written %llu", why,
		    *why ? " " : "", h->name, (unsigned long long)h->nread,
		    (unsigned long long)h->nwritten);
	else
		sftp_log(s, LL_INFO, "%s%sclosedir \"%s\"", why,
		    *why ? " " : "", h->name);
}

int
sftp_handle_close(struct sftp_server *s, struct sftp_handle *h)
{
	int ret = 0;

	if (h->kind == SFTP_H_FILE)
		ret = close(h->fd);
	else if (h->kind == SFTP_H_DIR)
		ret = closedir(h->dir);
	free(h->name);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	s->nopen--;
	sftp_open_total--;
	return ret;
}

/* ------------------------------------------------------------------ */
/* dispatch */

/* sftp-server reads no more of a -p list than this many names. */
#define SFTP_LIST_MAX 40

/*
 * An exact name in a comma-separated list. An allow list (-p, whole = 0)
 * is read as sftp-server reads it: it ends at its first empty name or
 * after SFTP_LIST_MAX names, so "open,,mkdir" names open alone. A deny
 * list (-P, whole = 1) is read to its end, empty names skipped: every name
 * written there is refused, where sftp-server would permit those after an
 * empty name or past the 40th (docs/sftp.md, intentional differences).
 */
static int
list_has(const char *list, const char *name, int whole)
{
	size_t n = strlen(name);
	const char *p = list, *e;
	int i;

	for (i = 0; *p != '\0'; i++) {
		if (!whole && (i >= SFTP_LIST_MAX || *p == ','))
			break;
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
			return 1;
		p = *e == ',' ? e + 1 : e;
	}
	return 0;
}

/*
 * Whether -R, -P and -p let the request through; a refusal is logged,
 * also when VERSION leaves out a refused extension (as by sftp-server).
 */
static int
request_permitted(struct sftp_server *s, const struct sftp_handler *h)
{
	if (s->read_only && h->does_write) {
		sftp_log(s, LL_VERBOSE, "Refusing %s request in read-only mode",
		    h->name);
		return 0;
	}
	if (s->deny != NULL && list_has(s->deny, h->name, 1)) {
		sftp_log(
		    s, LL_VERBOSE, "Refusing denylisted %s request", h->name);
		return 0;
	}
	if (s->allow != NULL) {
		if (list_has(s->allow, h->name, 0)) {
			sftp_log(s, LL_DEBUG2,
			    "Permitting allowlisted %s request", h->name);
			return 1;
		}
		sftp_log(s, LL_VERBOSE, "Refusing non-allowlisted %s request",
		    h->name);
		return 0;
	}
	return 1;
}

static int
process_init(struct sftp_server *s, const struct sftp_req *q)
{
	size_t mark, i;
	int r;

	s->client_version = q->u32;
	sftp_log(s, LL_VERBOSE, "received client version %u", q->u32);
	if ((r = sftp_reply_begin(s, SSH2_FXP_VERSION, SFTP_VERSION, &mark)) !=
	    0)
		return r;
	for (i = 0; i < NHANDLERS; i++) {
		if (handlers[i].version == NULL)
			continue;
		/* What this engine refuses is not advertised. */
		if (!request_permitted(s, &handlers[i])) {
			sftp_log(s, LL_DEBUG2,
			    "compose_extension: refusing to advertise "
			    "disallowed extension %s",
			    sftp_ext_name(handlers[i].ext));
			continue;
		}
		if ((r = buf_put_cstring(
		         s->out, sftp_ext_name(handlers[i].ext))) != 0 ||
		    (r = buf_put_cstring(s->out, handlers[i].version)) != 0) {
			sftp_reply_cancel(s, mark);
			return r;
		}
	}
	return sftp_reply_end(s, mark);
}

static const struct sftp_handler *
find_handler(const struct sftp_req *q)
{
	size_t i;

	for (i = 0; i < NHANDLERS; i++)
		if (handlers[i].type == q->type && handlers[i].ext == q->ext)
			return &handlers[i];
	return NULL;
}

/* One packet: the type byte and what follows. */
static int
dispatch(struct sftp_server *s, struct buf *pkt)
{
	const struct sftp_handler *h;
	struct sftp_req q;
	char name[128];
	int r;

	if ((r = sftp_decode(pkt, &q)) != 0) {
		/*
		 * As sftp-server: a refused request (-R, -P, -p) is refused
		 * by its type (and extension name) before its fields are
		 * read, so a malformed one is refused as any other.
		 */
		if (q.head && s->init_done && (h = find_handler(&q)) != NULL &&
		    !request_permitted(s, h))
			return sftp_send_status(
			    s, q.id, SSH2_FX_PERMISSION_DENIED);
		sftp_log(s, LL_ERROR, "bad message from %s local user %s: %s",
		    s->client_addr, s->user, err_str(r));
		return r;
	}
	if (q.type == SSH2_FXP_INIT) {
		/* As sftp-server 9.2, a second INIT gets a second VERSION. */
		s->init_done = 1;
		return process_init(s, &q);
	}
	if (!s->init_done) {
		sftp_log(
		    s, LL_ERROR, "Received %u request before init", q.type);
		return ERR_PROTOCOL;
	}
	if ((h = find_handler(&q)) == NULL) {
		if (q.type == SSH2_FXP_EXTENDED) {
			snprintf(name, sizeof(name), "%.*s",
			    (int)(q.ext_name.len > 100 ? 100 : q.ext_name.len),
			    (const char *)q.ext_name.p);
			sftp_log(s, LL_ERROR, "Unknown extended request \"%s\"",
			    name);
		} else
			sftp_log(s, LL_ERROR, "Unknown message %u", q.type);
		return sftp_send_status(s, q.id, SSH2_FX_OP_UNSUPPORTED);
	}
	if (!request_permitted(s, h))
		return sftp_send_status(s, q.id, SSH2_FX_PERMISSION_DENIED);
	return h->fn(s, &q);
}

/*
 * Whether p[0, avail) starts with a whole packet: 1 (with its size,
 * prefix included, in *total), 0 if more bytes are needed, or an error
 * for a length over the cap.
 */
static int
packet_ready(
    struct sftp_server *s, const uint8_t *p, size_t avail, size_t *total)
{
	struct buf v;
	uint32_t len;

	if (avail < 4)
		return 0;
	memset(&v, 0, sizeof(v));
	v.data = (uint8_t *)(uintptr_t)p; /* read-only view */
	v.wpos = v.cap = v.max = avail;
	if (buf_peek_u32(&v, &len) != 0)
		return ERR_INTERNAL;
	if (len > SFTP_MAX_MSG_LENGTH) {
		sftp_log(s, LL_ERROR, "bad message from %s local user %s",
		    s->client_addr, s->user);
		s->too_long = 1;
		return ERR_TOO_BIG;
	}
	*total = (size_t)len + 4;
	return avail >= *total ? 1 : 0;
}

/* Run the packet that starts at p, prefix included, in place. */
static int
run_packet(struct sftp_server *s, const uint8_t *p, size_t total)
{
	struct buf v;

	memset(&v, 0, sizeof(v));
	v.data = (uint8_t *)(uintptr_t)(p + 4); /* read-only view */
	v.wpos = v.cap = v.max = total - 4;
	return dispatch(s, &v);
}

/* Room for replies, with hysteresis between the two marks. */
static int
room(const struct sftp_server *s)
{
	size_t n = buf_len(s->out);

	return s->full ? n <= SFTP_OUT_LOW : n < SFTP_OUT_HIGH;
}

/* Room for replies and no copy-data in progress: a request may run. */
static int
can_work(struct sftp_server *s)
{
	s->full = !room(s);
	return !s->full && s->copy == NULL;
}

/* The whole packets queued in s->in, while there is room for replies. */
static int
drain_queue(struct sftp_server *s)
{
	size_t total;
	int r;

	while (can_work(s) && buf_len(s->in) > 0) {
		r = packet_ready(s, buf_ptr(s->in), buf_len(s->in), &total);
		if (r <= 0)
			return r;
		/* Replies go to s->out: s->in stays put while this runs. */
		if ((r = run_packet(s, buf_ptr(s->in), total)) != 0)
			return r;
		if ((r = buf_consume(s->in, total)) != 0)
			return r;
	}
	return 0;
}

static int
queue_input(struct sftp_server *s, const uint8_t *data, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	if ((r = buf_put(s->in, data, len)) != 0)
		sftp_log(s, LL_ERROR, "input queue overflow (%zu bytes held)",
		    buf_len(s->in));
	return r;
}

static int
input(struct sftp_server *s, const uint8_t *data, size_t len)
{
	size_t total, have, take;
	int r;

	/* A copy in progress goes on first; the requests after it wait. */
	if (s->copy != NULL && room(s) && (r = sftp_copy_step(s)) != 0)
		return r;
	if ((r = drain_queue(s)) != 0)
		return r;
	if (len == 0)
		return 0; /* only a resume: nothing new to frame */
	if (buf_len(s->in) > 0) {
		/* Held back requests go first; new bytes queue behind. */
		if (!can_work(s))
			return queue_input(s, data, len);
		/* Otherwise s->in holds one partial packet: complete it. */
		have = buf_len(s->in);
		if (have < 4) {
			take = len < 4 - have ? len : 4 - have;
			if ((r = queue_input(s, data, take)) != 0)
				return r;
			data += take;
			len -= take;
		}
		if (buf_len(s->in) < 4)
			return 0;
		if ((r = packet_ready(
		         s, buf_ptr(s->in), buf_len(s->in), &total)) < 0)
			return r;
		take = total - buf_len(s->in);
		if (take > len)
			take = len;
		if ((r = queue_input(s, data, take)) != 0)
			return r;
		data += take;
		len -= take;
		if (buf_len(s->in) < total)
			return 0;
		if ((r = drain_queue(s)) != 0)
			return r;
	}
	/* Whole packets straight from the caller's bytes: no copy. */
	while (len > 0 && can_work(s)) {
		if ((r = packet_ready(s, data, len, &total)) < 0)
			return r;
		if (r == 0)
			break;
		if ((r = run_packet(s, data, total)) != 0)
			return r;
		data += total;
		len -= total;
	}
	return queue_input(s, data, len);
}

int
sftp_server_input(struct sftp_server *s, const uint8_t *data, size_t len)
{
	int r;

	if (s->dead != 0)
		return s->dead;
	if ((r = input(s, data, len)) != 0)
		s->dead = r;
	return r;
}

size_t
sftp_server_output_pending(const struct sftp_server *s)
{
	return buf_len(s->out);
}

const uint8_t *
sftp_server_output_ptr(const struct sftp_server *s)
{
	return buf_ptr(s->out);
}

void
sftp_server_output_consume(struct sftp_server *s, size_t n)
{
	if (n > buf_len(s->out))
		n = buf_len(s->out);
	(void)buf_consume(s->out, n);
}

int
sftp_server_exit_status(const struct sftp_server *s)
{
	if (s->dead == 0)
		return 0;
	return s->too_long ? 11 : 255;
}

size_t
sftp_server_input_queued(const struct sftp_server *s)
{
	return buf_len(s->in);
}

int
sftp_server_busy(const struct sftp_server *s)
{
	return s != NULL && s->dead == 0 && s->copy != NULL;
}

int
sftp_server_want_input(const struct sftp_server *s)
{
	return s->dead == 0 && room(s) &&
	    buf_len(s->in) <= SFTP_MAX_MSG_LENGTH + 4;
}

/* ------------------------------------------------------------------ */
/* life cycle */

static char *
dup_or_null(const char *str, int *fail)
{
	char *d;

	if (str == NULL)
		return NULL;
	if ((d = strdup(str)) == NULL)
		*fail = 1;
	return d;
}

/* -d: ~ as for the user, then %d (home), %u (user), %U (uid), %%. */
static int
expand_start_dir(struct sftp_server *s, const struct sftp_options *o, char *out,
    size_t outlen)
{
	char tilde[SFTP_PATH_MAX], uid[32];
	const char *p, *add;
	size_t n = 0, alen, ulen;

	if (sftp_tilde(o->home, o->start_dir, tilde, sizeof(tilde)) != 0) {
		/* ~NAME: sftp-server's words; it exits 255. */
		if (errno == ENOENT && o->start_dir[1] != '\0' &&
		    o->start_dir[1] != '/') {
			ulen = strcspn(o->start_dir + 1, "/");
			sftp_log(s, LL_ERROR, "tilde_expand: No such user %.*s",
			    (int)ulen, o->start_dir + 1);
			errno = EINVAL;
		}
		return -1;
	}
	snprintf(uid, sizeof(uid), "%llu", (unsigned long long)getuid());
	for (p = tilde; *p != '\0'; p++) {
		char one[2] = {*p, '\0'};

		add = one;
		if (*p == '%') {
			switch (p[1]) {
			case '%':
				add = "%";
				break;
			case 'd':
				add = o->home;
				break;
			case 'u':
				add = o->user;
				break;
			case 'U':
				add = uid;
				break;
			default:
				add = NULL;
				break;
			}
			if (add == NULL) {
				/* sftp-server's percent_expand() words; it
				 * exits 255. */
				if (p[1] == '\0')
					sftp_log(s, LL_ERROR,
					    "vdollar_percent_expand: invalid "
					    "format");
				else
					sftp_log(s, LL_ERROR,
					    "vdollar_percent_expand: unknown "
					    "key %%%c",
					    p[1]);
				sftp_log(s, LL_FATAL, "percent_expand: failed");
				errno = EINVAL;
				return -1;
			}
			p++;
		}
		alen = strlen(add);
		if (n + alen >= outlen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(out + n, add, alen);
		n += alen;
	}
	out[n] = '\0';
	return 0;
}

/*
 * The directory relative paths start from: -d, else home, else ".". Only
 * a failed -d is logged, as OpenSSH: a ChrootDirectory jail seldom holds
 * the home, and its session starts in / without a word. A relative -d
 * starts from the home (else from "."), where sshd runs internal-sftp.
 */
static int
open_start_dir(
    struct sftp_server *s, const struct sftp_options *o, const char *want)
{
	char rel[SFTP_PATH_MAX];
	const char *cands[3];
	char *real;
	int i, n = 0, fd, len, given, saved;

	if (want != NULL) {
		cands[n++] = want;
		if (want[0] != '/' && o->home != NULL &&
		    (real = realpath(o->home, NULL)) != NULL) {
			len = snprintf(rel, sizeof(rel), "%s/%s", real, want);
			free(real);
			if (len < 0 || (size_t)len >= sizeof(rel)) {
				errno = ENAMETOOLONG;
				return -1;
			}
			cands[0] = rel;
		}
	}
	if (o->home != NULL)
		cands[n++] = o->home;
	cands[n++] = ".";
	for (i = 0; i < n; i++) {
		if ((real = realpath(cands[i], NULL)) != NULL) {
			fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
			/* O_PATH needs no search permission; chdir does. */
			if (fd >= 0 && faccessat(fd, ".", X_OK, 0) == 0) {
				s->cwd_fd = fd;
				s->cwd_path = real;
				return 0;
			}
			if (fd >= 0) {
				saved = errno;
				close(fd);
				errno = saved;
			}
			free(real);
		}
		/* -d is named as given, as sftp-server names it. */
		given = i == 0 && want != NULL;
		if (given || i == n - 1)
			sftp_log(s, LL_ERROR, "chdir to \"%s\" failed: %s",
			    given ? want : cands[i], strerror(errno));
	}
	return -1;
}

struct sftp_server *
sftp_server_new(const struct sftp_options *o)
{
	struct sftp_server *s;
	struct rlimit rl;
	char want[SFTP_PATH_MAX];
	int fail = 0, saved;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->cwd_fd = -1;
	s->read_only = o->read_only;
	s->umask = o->umask;
	s->log_level = o->log_level;
	s->log_fn = o->log_fn;
	s->log_ctx = o->log_ctx;
	s->deny = dup_or_null(o->deny, &fail);
	s->allow = dup_or_null(o->allow, &fail);
	s->user = dup_or_null(o->user != NULL ? o->user : "UNKNOWN", &fail);
	s->home = dup_or_null(o->home, &fail);
	s->client_addr = dup_or_null(
	    o->client_addr != NULL ? o->client_addr : "UNKNOWN", &fail);
	s->max_handles =
	    o->max_handles != 0 ? o->max_handles : SFTP_MAX_HANDLES_DEFAULT;
	/* Leave descriptors for the rest of the session. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < UINT_MAX) {
		sftp_open_max = (unsigned)(rl.rlim_cur / 2);
		if (sftp_open_max < s->max_handles)
			s->max_handles = sftp_open_max > 0 ? sftp_open_max : 1;
	}
	s->in = buf_new(SFTP_IN_MAX);
	s->out = buf_new(SFTP_OUT_MAX);
	if (fail || s->in == NULL || s->out == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	/* As sftp-server: -d's expansion errors come before "session
	 * opened", a -d it cannot enter after. */
	if (o->start_dir != NULL &&
	    expand_start_dir(s, o, want, sizeof(want)) != 0)
		goto fail;
	sftp_log(s, LL_INFO, "session opened for local user %s from [%s]",
	    s->user, s->client_addr);
	s->opened = 1;
	if (open_start_dir(s, o, o->start_dir != NULL ? want : NULL) != 0)
		goto fail;
	return s;
fail:
	saved = errno;
	sftp_server_free(s);
	errno = saved;
	return NULL;
}

static void
server_free(struct sftp_server *s, int quiet)
{
	unsigned i;

	if (s == NULL)
		return;
	sftp_copy_free(s);
	for (i = 0; i < s->nhandles; i++) {
		if (s->handles[i].kind == SFTP_H_UNUSED)
			continue;
		if (!quiet)
			sftp_handle_log_close(s, &s->handles[i], "forced");
		(void)sftp_handle_close(s, &s->handles[i]);
	}
	if (s->opened && !quiet)
		sftp_log(s, LL_INFO,
		    "session closed for local user %s from [%s]", s->user,
		    s->client_addr);
	free(s->handles);
	sftp_idnames_free(s);
	buf_free(s->in);
	buf_free(s->out);
	if (s->cwd_fd >= 0)
		close(s->cwd_fd);
	free(s->cwd_path);
	free(s->deny);
	free(s->allow);
	free(s->user);
	free(s->home);
	free(s->client_addr);
	free(s);
}

void
sftp_server_free(struct sftp_server *s)
{
	server_free(s, 0);
}

void
sftp_server_kill(struct sftp_server *s)
{
	server_free(s, 1);
}
