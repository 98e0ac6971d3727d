/*
 * sftp_decode.c: the SFTP request decoder. One function turns a packet
 * into a struct sftp_req, checking every field; bytes after the last
 * field are skipped, as by OpenSSH's sftp-server.
 */
#include <string.h>

#include "buf.h"
#include "err.h"
#include "sftp_int.h"

static const char *const ext_names[SFTP_EXT_COUNT] = {
    [SFTP_EXT_POSIX_RENAME] = "posix-rename@openssh.com",
    [SFTP_EXT_STATVFS] = "statvfs@openssh.com",
    [SFTP_EXT_FSTATVFS] = "fstatvfs@openssh.com",
    [SFTP_EXT_HARDLINK] = "hardlink@openssh.com",
    [SFTP_EXT_FSYNC] = "fsync@openssh.com",
    [SFTP_EXT_LSETSTAT] = "lsetstat@openssh.com",
    [SFTP_EXT_LIMITS] = "limits@openssh.com",
    [SFTP_EXT_EXPAND_PATH] = "expand-path@openssh.com",
    [SFTP_EXT_COPY_DATA] = "copy-data",
    [SFTP_EXT_HOME_DIRECTORY] = "home-directory",
    [SFTP_EXT_USERS_GROUPS_BY_ID] = "users-groups-by-id@openssh.com",
};

const char *
sftp_ext_name(enum sftp_ext ext)
{
	if ((unsigned)ext >= SFTP_EXT_COUNT)
		return NULL;
	return ext_names[ext];
}

static int
get_str(struct buf *b, struct sftp_str *s)
{
	return buf_get_string_direct(b, &s->p, &s->len);
}

/* A path or a user name: a string without NUL bytes. */
static int
get_name(struct buf *b, struct sftp_str *s)
{
	int r;

	if ((r = get_str(b, s)) != 0)
		return r;
	if (buf_cstring_trim(s->p, &s->len) != 0)
		return ERR_STRING_NUL;
	return 0;
}

int
sftp_decode_attrs(struct buf *b, struct sftp_attrs *a)
{
	uint32_t i, count;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = buf_get_u32(b, &a->flags)) != 0)
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_SIZE) &&
	    (r = buf_get_u64(b, &a->size)) != 0)
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_UIDGID) &&
	    ((r = buf_get_u32(b, &a->uid)) != 0 ||
	        (r = buf_get_u32(b, &a->gid)) != 0))
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_PERMISSIONS) &&
	    (r = buf_get_u32(b, &a->perm)) != 0)
		return r;
	if ((a->flags & SSH2_FILEXFER_ATTR_ACMODTIME) &&
	    ((r = buf_get_u32(b, &a->atime)) != 0 ||
	        (r = buf_get_u32(b, &a->mtime)) != 0))
		return r;
	if (a->flags & SSH2_FILEXFER_ATTR_EXTENDED) {
		/* Named extensions we do not interpret: skipped. */
		if ((r = buf_get_u32(b, &count)) != 0)
			return r;
		for (i = 0; i < count; i++) {
			if ((r = buf_skip_string(b)) != 0 ||
			    (r = buf_skip_string(b)) != 0)
				return r;
		}
	}
	return 0;
}

/* A string that holds a list of u32 (users-groups-by-id). */
static int
get_id_list(struct buf *b, struct sftp_str *s)
{
	int r;

	if ((r = get_str(b, s)) != 0)
		return r;
	return s->len % 4 == 0 ? 0 : ERR_FORMAT;
}

static int
decode_extended(struct buf *b, struct sftp_req *q)
{
	unsigned i;
	int r;

	if ((r = get_str(b, &q->ext_name)) != 0)
		return r;
	q->ext = SFTP_EXT_UNKNOWN;
	for (i = SFTP_EXT_UNKNOWN + 1; i < SFTP_EXT_COUNT; i++) {
		if (strlen(ext_names[i]) == q->ext_name.len &&
		    memcmp(ext_names[i], q->ext_name.p, q->ext_name.len) == 0) {
			q->ext = (enum sftp_ext)i;
			break;
		}
	}
	q->head = 1;
	switch (q->ext) {
	case SFTP_EXT_POSIX_RENAME:
	case SFTP_EXT_HARDLINK:
		if ((r = get_name(b, &q->s1)) != 0 ||
		    (r = get_name(b, &q->s2)) != 0)
			return r;
		break;
	case SFTP_EXT_STATVFS:
	case SFTP_EXT_EXPAND_PATH:
	case SFTP_EXT_HOME_DIRECTORY:
		if ((r = get_name(b, &q->s1)) != 0)
			return r;
		break;
	case SFTP_EXT_FSTATVFS:
	case SFTP_EXT_FSYNC:
		if ((r = get_str(b, &q->s1)) != 0)
			return r;
		break;
	case SFTP_EXT_LSETSTAT:
		if ((r = get_name(b, &q->s1)) != 0 ||
		    (r = sftp_decode_attrs(b, &q->a)) != 0)
			return r;
		break;
	case SFTP_EXT_LIMITS:
		break;
	case SFTP_EXT_COPY_DATA:
		if ((r = get_str(b, &q->s1)) != 0 ||
		    (r = buf_get_u64(b, &q->off)) != 0 ||
		    (r = buf_get_u64(b, &q->len64)) != 0 ||
		    (r = get_str(b, &q->s2)) != 0 ||
		    (r = buf_get_u64(b, &q->off2)) != 0)
			return r;
		break;
	case SFTP_EXT_USERS_GROUPS_BY_ID:
		if ((r = get_id_list(b, &q->data)) != 0 ||
		    (r = get_id_list(b, &q->s2)) != 0)
			return r;
		break;
	default:
		/* Not ours: its fields are unknown, so nothing to check. */
		break;
	}
	return 0;
}

/*
 * INIT: the version; what follows (a client's extension pairs) is not
 * read, as sftp-server reads only the version and skips the rest, well
 * formed or not.
 */
static int
decode_init(struct buf *b, struct sftp_req *q)
{
	return buf_get_u32(b, &q->u32);
}

int
sftp_decode(struct buf *b, struct sftp_req *q)
{
	int r;

	memset(q, 0, sizeof(*q));
	if ((r = buf_get_u8(b, &q->type)) != 0)
		return r;
	if (q->type == SSH2_FXP_INIT)
		return decode_init(b, q);
	if ((r = buf_get_u32(b, &q->id)) != 0)
		return r;
	q->head = q->type != SSH2_FXP_EXTENDED;
	switch (q->type) {
	case SSH2_FXP_OPEN:
		if ((r = get_name(b, &q->s1)) != 0 ||
		    (r = buf_get_u32(b, &q->u32)) != 0 ||
		    (r = sftp_decode_attrs(b, &q->a)) != 0)
			return r;
		break;
	case SSH2_FXP_CLOSE:
	case SSH2_FXP_FSTAT:
	case SSH2_FXP_READDIR:
		if ((r = get_str(b, &q->s1)) != 0)
			return r;
		break;
	case SSH2_FXP_READ:
		if ((r = get_str(b, &q->s1)) != 0 ||
		    (r = buf_get_u64(b, &q->off)) != 0 ||
		    (r = buf_get_u32(b, &q->u32)) != 0)
			return r;
		break;
	case SSH2_FXP_WRITE:
		if ((r = get_str(b, &q->s1)) != 0 ||
		    (r = buf_get_u64(b, &q->off)) != 0 ||
		    (r = get_str(b, &q->data)) != 0)
			return r;
		break;
	case SSH2_FXP_LSTAT:
	case SSH2_FXP_STAT:
	case SSH2_FXP_OPENDIR:
	case SSH2_FXP_REMOVE:
	case SSH2_FXP_RMDIR:
	case SSH2_FXP_REALPATH:
	case SSH2_FXP_READLINK:
		if ((r = get_name(b, &q->s1)) != 0)
			return r;
		break;
	case SSH2_FXP_SETSTAT:
	case SSH2_FXP_MKDIR:
		if ((r = get_name(b, &q->s1)) != 0 ||
		    (r = sftp_decode_attrs(b, &q->a)) != 0)
			return r;
		break;
	case SSH2_FXP_FSETSTAT:
		if ((r = get_str(b, &q->s1)) != 0 ||
		    (r = sftp_decode_attrs(b, &q->a)) != 0)
			return r;
		break;
	case SSH2_FXP_RENAME:
	case SSH2_FXP_SYMLINK:
		if ((r = get_name(b, &q->s1)) != 0 ||
		    (r = get_name(b, &q->s2)) != 0)
			return r;
		break;
	case SSH2_FXP_EXTENDED:
		if ((r = decode_extended(b, q)) != 0)
			return r;
		break;
	default:
		/* Unknown type: answered OP_UNSUPPORTED, body unchecked. */
		break;
	}
	/* Bytes after the fields are ignored, as by OpenSSH's sftp-server. */
	return buf_consume(b, buf_len(b));
}
