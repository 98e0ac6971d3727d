/*
 * sftp_int.h: what the files of the SFTP engine share: protocol numbers,
 * the decoded request, the server state and the reply helpers.
 */
#ifndef POSTERN_SFTP_INT_H
#define POSTERN_SFTP_INT_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "log.h"
#include "sftp.h"

struct buf;

/* draft-ietf-secsh-filexfer-02 section 3: packet types */
#define SSH2_FXP_INIT 1
#define SSH2_FXP_VERSION 2
#define SSH2_FXP_OPEN 3
#define SSH2_FXP_CLOSE 4
#define SSH2_FXP_READ 5
#define SSH2_FXP_WRITE 6
#define SSH2_FXP_LSTAT 7
#define SSH2_FXP_FSTAT 8
#define SSH2_FXP_SETSTAT 9
#define SSH2_FXP_FSETSTAT 10
#define SSH2_FXP_OPENDIR 11
#define SSH2_FXP_READDIR 12
#define SSH2_FXP_REMOVE 13
#define SSH2_FXP_MKDIR 14
#define SSH2_FXP_RMDIR 15
#define SSH2_FXP_REALPATH 16
#define SSH2_FXP_STAT 17
#define SSH2_FXP_RENAME 18
#define SSH2_FXP_READLINK 19
#define SSH2_FXP_SYMLINK 20
#define SSH2_FXP_STATUS 101
#define SSH2_FXP_HANDLE 102
#define SSH2_FXP_DATA 103
#define SSH2_FXP_NAME 104
#define SSH2_FXP_ATTRS 105
#define SSH2_FXP_EXTENDED 200
#define SSH2_FXP_EXTENDED_REPLY 201

/* section 5: attribute flags */
#define SSH2_FILEXFER_ATTR_SIZE 0x00000001
#define SSH2_FILEXFER_ATTR_UIDGID 0x00000002
#define SSH2_FILEXFER_ATTR_PERMISSIONS 0x00000004
#define SSH2_FILEXFER_ATTR_ACMODTIME 0x00000008
#define SSH2_FILEXFER_ATTR_EXTENDED 0x80000000

/* section 6.3: open pflags */
#define SSH2_FXF_READ 0x00000001
#define SSH2_FXF_WRITE 0x00000002
#define SSH2_FXF_APPEND 0x00000004
#define SSH2_FXF_CREAT 0x00000008
#define SSH2_FXF_TRUNC 0x00000010
#define SSH2_FXF_EXCL 0x00000020

/* section 7: status codes */
#define SSH2_FX_OK 0
#define SSH2_FX_EOF 1
#define SSH2_FX_NO_SUCH_FILE 2
#define SSH2_FX_PERMISSION_DENIED 3
#define SSH2_FX_FAILURE 4
#define SSH2_FX_BAD_MESSAGE 5
#define SSH2_FX_NO_CONNECTION 6
#define SSH2_FX_CONNECTION_LOST 7
#define SSH2_FX_OP_UNSUPPORTED 8
#define SSH2_FX_MAX 8

/* PROTOCOL 4.4: statvfs f_flag bits */
#define SSH2_FXE_STATVFS_ST_RDONLY 0x1
#define SSH2_FXE_STATVFS_ST_NOSUID 0x2

#define SFTP_VERSION 3
#define SFTP_HANDLE_LEN 4      /* a handle is a u32 table index */
#define SFTP_READDIR_BATCH 100 /* names per READDIR reply, as OpenSSH */
#define SFTP_PATH_MAX 4096     /* a path with its NUL */
/*
 * Replies queue up to SFTP_OUT_HIGH; then requests wait until the host
 * has taken the queue below SFTP_OUT_LOW, so that little is left to move
 * when the queue is compacted.
 */
#define SFTP_OUT_HIGH (512 * 1024)
#define SFTP_OUT_LOW (64 * 1024)

/* The extended requests the decoder knows (index into its name table). */
enum sftp_ext {
	SFTP_EXT_NONE = 0, /* not an EXTENDED request */
	SFTP_EXT_UNKNOWN,  /* EXTENDED with a name we do not implement */
	SFTP_EXT_POSIX_RENAME,
	SFTP_EXT_STATVFS,
	SFTP_EXT_FSTATVFS,
	SFTP_EXT_HARDLINK,
	SFTP_EXT_FSYNC,
	SFTP_EXT_LSETSTAT,
	SFTP_EXT_LIMITS,
	SFTP_EXT_EXPAND_PATH,
	SFTP_EXT_COPY_DATA,
	SFTP_EXT_HOME_DIRECTORY,
	SFTP_EXT_USERS_GROUPS_BY_ID,
	SFTP_EXT_COUNT
};

/* A string field: points into the packet, not NUL-terminated. */
struct sftp_str {
	const uint8_t *p;
	size_t len;
};

struct sftp_attrs {
	uint32_t flags;
	uint64_t size;
	uint32_t uid, gid;
	uint32_t perm;
	uint32_t atime, mtime;
};

/*
 * A decoded request. Which fields are set depends on type (and ext):
 *  s1, s2: paths, handles or names, in wire order (SYMLINK: s1 is the
 *      target and s2 the link, OpenSSH's order, PROTOCOL 4.1);
 *  u32: INIT version, OPEN pflags, READ length;
 *  off, len64, off2, s2: READ/WRITE offset; copy-data's read offset,
 *      length, write handle and write offset;
 *  data: WRITE's bytes; users-groups-by-id's uids (data) and gids (s2).
 */
struct sftp_req {
	uint8_t type;
	int head; /* type, id and (EXTENDED) the name read: even on error */
	uint32_t id;
	enum sftp_ext ext;
	struct sftp_str ext_name;
	struct sftp_str s1, s2, data;
	uint32_t u32;
	uint64_t off, len64, off2;
	struct sftp_attrs a;
};

enum sftp_handle_kind {
	SFTP_H_UNUSED = 0,
	SFTP_H_FILE,
	SFTP_H_DIR,
};

struct sftp_handle {
	enum sftp_handle_kind kind;
	int fd;     /* SFTP_H_FILE */
	DIR *dir;   /* SFTP_H_DIR */
	int oflags; /* open(2) flags of a file */
	char *name; /* as the client gave it, for logs */
	uint64_t nread, nwritten;
};

#define SFTP_IDCACHE 64

struct sftp_idname {
	unsigned id;
	int valid;
	char *name; /* NULL: the number is shown */
};

/* A copy-data request in progress (sftp_ext.c): no other request runs
 * until it ends, so its handles stay open. */
struct sftp_copy {
	uint32_t id;
	struct sftp_handle *rh, *wh;
	uint64_t roff, woff, left, end;
	int until_eof;
	uint8_t *buf;
};

struct sftp_server {
	struct buf *in;  /* a partial packet, or requests held back */
	struct buf *out; /* replies not yet taken by the host */
	int dead;        /* the ERR_* that stopped the engine, or 0 */
	int too_long;    /* it was a request longer than the limit */
	int full;        /* output reached SFTP_OUT_HIGH, not yet LOW */
	int init_done;
	uint32_t client_version;

	int read_only;
	int umask; /* -1: the process's own */
	int log_level;
	sftp_log_fn log_fn; /* the host's sink for our lines, or NULL */
	void *log_ctx;
	char *deny, *allow; /* -P, -p */
	char *user, *home, *client_addr;
	int cwd_fd; /* relative paths are looked up from here */
	int opened; /* "session opened" was logged */
	/* Its absolute name, for REALPATH and "~": sftp_cwd_refresh takes it
	 * again, as the directory may have been renamed since. */
	char *cwd_path;

	struct sftp_handle *handles;
	unsigned nhandles; /* slots allocated */
	unsigned max_handles;
	unsigned nopen;

	struct sftp_idname users[SFTP_IDCACHE], groups[SFTP_IDCACHE];
	struct sftp_copy *copy; /* copy-data in progress, or NULL */
};

/* sftp_decode.c */
/*
 * sftp_decode: one packet (type byte onwards, length prefix removed) into
 * req, whose strings point into pkt. Every field is checked; bytes after
 * the last one are skipped (as by sftp-server); an unknown EXTENDED name
 * decodes only its id and name. Returns 0 or ERR_SHORT/ERR_FORMAT/...,
 * with req->head set once the type, id (and extension name) were read.
 */
int sftp_decode(struct buf *pkt, struct sftp_req *req);
int sftp_decode_attrs(struct buf *b, struct sftp_attrs *a);
const char *sftp_ext_name(enum sftp_ext ext);

/* sftp_server.c: replies, status, handles, logging */
void sftp_log(struct sftp_server *s, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int sftp_reply_begin(
    struct sftp_server *s, uint8_t type, uint32_t id, size_t *mark);
int sftp_reply_end(struct sftp_server *s, size_t mark);
void sftp_reply_cancel(struct sftp_server *s, size_t mark);
/* sftp_reply_poke_u32: fill in a field at off bytes past the mark. */
void sftp_reply_poke_u32(
    struct sftp_server *s, size_t mark, size_t off, uint32_t v);
int sftp_send_status(struct sftp_server *s, uint32_t id, uint32_t status);
int sftp_send_status_msg(
    struct sftp_server *s, uint32_t id, uint32_t status, const char *msg);
int sftp_send_errno(struct sftp_server *s, uint32_t id, int err);
int sftp_send_handle(struct sftp_server *s, uint32_t id, unsigned h);
/* sftp_send_name1: NAME with one entry, longname = name, no attributes. */
int sftp_send_name1(struct sftp_server *s, uint32_t id, const char *name);
int sftp_errno_to_status(int err);
int sftp_put_attrs(struct buf *b, const struct sftp_attrs *a);
void sftp_attrs_from_stat(struct sftp_attrs *a, const struct stat *st);
/* sftp_cpath: the string as a C path in out, or -1 with ENAMETOOLONG. */
int sftp_cpath(const struct sftp_str *str, char *out, size_t outlen);
/* sftp_handle_new: a slot for fd or dir; -1 when the table is full. */
int sftp_handle_new(struct sftp_server *s, enum sftp_handle_kind kind, int fd,
    DIR *dir, int oflags, const char *name);
/* sftp_handle_get: the open handle the string names and is of kind. */
struct sftp_handle *sftp_handle_get(
    struct sftp_server *s, const struct sftp_str *h, enum sftp_handle_kind);
int sftp_handle_close(struct sftp_server *s, struct sftp_handle *h);
/* sftp_handle_log_close: OpenSSH's "close"/"closedir" line; why: prefix. */
void sftp_handle_log_close(
    struct sftp_server *s, struct sftp_handle *h, const char *why);
/*
 * sftp_cwd_enter/leave: the process works in the engine's directory (its
 * current place, whatever it was renamed to) around a call that has no
 * *at form, then where it was (*back) again; errno is kept.
 * sftp_cwd_refresh: cwd_path is the directory's current name, when the
 * kernel can tell it.
 */
int sftp_cwd_enter(const struct sftp_server *s, int *back);
void sftp_cwd_leave(int back);
void sftp_cwd_refresh(struct sftp_server *s);
/* sftp_umask_begin/end: apply -u around one call that creates a file. */
unsigned sftp_umask_begin(const struct sftp_server *s);
void sftp_umask_end(const struct sftp_server *s, unsigned old);

/* sftp_fs.c: the draft's requests (each returns 0 or a fatal ERR_*) */
int sftp_do_open(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_close(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_read(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_write(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_stat(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_fstat(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_setstat(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_fsetstat(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_opendir(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_readdir(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_remove(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_mkdir(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_rmdir(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_realpath(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_rename(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_readlink(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_symlink(struct sftp_server *s, const struct sftp_req *q);
/* sftp_setstat_path: SETSTAT, or lsetstat@openssh.com with nofollow. */
int sftp_setstat_path(
    struct sftp_server *s, const struct sftp_req *q, int nofollow);

/* sftp_ext.c: OpenSSH's extensions */
int sftp_do_posix_rename(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_statvfs(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_fstatvfs(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_hardlink(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_fsync(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_lsetstat(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_limits(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_expand_path(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_copy_data(struct sftp_server *s, const struct sftp_req *q);
/* sftp_copy_step: the next part of copy-data in progress, its status
 * reply when it ends; sftp_copy_free drops it. */
int sftp_copy_step(struct sftp_server *s);
void sftp_copy_free(struct sftp_server *s);
int sftp_do_home_directory(struct sftp_server *s, const struct sftp_req *q);
int sftp_do_users_groups(struct sftp_server *s, const struct sftp_req *q);

/* sftp_names.c: names as ls and realpath show them */
/* sftp_longname: OpenSSH's "ls -l" line for a READDIR entry. */
void sftp_longname(struct sftp_server *s, char *out, size_t outlen,
    const char *name, const struct stat *st);
void sftp_strmode(unsigned mode, char out[12]);
/*
 * sftp_realpath: path made absolute against the engine's directory, with
 * ".", ".." and symbolic links resolved; the last component may be
 * missing. 0, or -1 with errno.
 */
int sftp_realpath(
    struct sftp_server *s, const char *path, char *out, size_t outlen);
/* sftp_tilde: "~", "~/x", "~user/x" expanded (home: "~"); -1 if no user. */
int sftp_tilde(const char *home, const char *path, char *out, size_t outlen);
/* sftp_user_name/sftp_group_name: cached look-ups; NULL if unknown. */
const char *sftp_user_name(struct sftp_server *s, unsigned uid);
const char *sftp_group_name(struct sftp_server *s, unsigned gid);
/* sftp_idnames_free: the uid/gid name caches. */
void sftp_idnames_free(struct sftp_server *s);

#endif
