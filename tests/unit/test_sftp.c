/*
 * test_sftp.c: the SFTP engine driven with hand-built packets: every
 * request type, status codes, read-only mode and the -P/-p lists,
 * malformed packets, handle limits, READDIR's longname, SYMLINK's
 * argument order, split and batched input, and output backpressure.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "session/sftp.h"
#include "session/sftp_int.h"
#include "t.h"

static char dir[64];
static uint32_t next_id = 100;

/* ------------------------------------------------------------------ */
/* packets */

static struct buf *
req_begin(uint8_t type, uint32_t id)
{
	struct buf *b = buf_new(SFTP_MAX_MSG_LENGTH + 64);

	if (b == NULL)
		abort();
	buf_put_u32(b, 0);
	buf_put_u8(b, type);
	if (type != SSH2_FXP_INIT)
		buf_put_u32(b, id);
	return b;
}

/* The finished packet (length prefix filled in). */
static struct buf *
req_end(struct buf *b)
{
	uint32_t n = (uint32_t)(buf_len(b) - 4);
	uint8_t *p = buf_mutable_ptr(b);

	p[0] = (uint8_t)(n >> 24);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	return b;
}

static int
feed(struct sftp_server *s, struct buf *b)
{
	int r;

	req_end(b);
	r = sftp_server_input(s, buf_ptr(b), buf_len(b));
	buf_free(b);
	return r;
}

static void
put_attrs(struct buf *b, uint32_t flags, uint64_t size, uint32_t perm,
    uint32_t atime, uint32_t mtime)
{
	buf_put_u32(b, flags);
	if (flags & SSH2_FILEXFER_ATTR_SIZE)
		buf_put_u64(b, size);
	if (flags & SSH2_FILEXFER_ATTR_UIDGID) {
		buf_put_u32(b, (uint32_t)getuid());
		buf_put_u32(b, (uint32_t)getgid());
	}
	if (flags & SSH2_FILEXFER_ATTR_PERMISSIONS)
		buf_put_u32(b, perm);
	if (flags & SSH2_FILEXFER_ATTR_ACMODTIME) {
		buf_put_u32(b, atime);
		buf_put_u32(b, mtime);
	}
}

/* The next reply, moved out of the engine's queue; NULL if none. */
static struct buf *
reply(struct sftp_server *s, uint8_t *type, uint32_t *id)
{
	struct buf *b;
	const uint8_t *p = sftp_server_output_ptr(s);
	size_t have = sftp_server_output_pending(s);
	uint32_t len;

	if (have < 4)
		return NULL;
	len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (have < 4 + (size_t)len)
		return NULL;
	b = buf_from(p + 4, len);
	sftp_server_output_consume(s, 4 + (size_t)len);
	if (b == NULL || buf_get_u8(b, type) != 0 || buf_get_u32(b, id) != 0) {
		buf_free(b);
		return NULL;
	}
	return b;
}

/* The status of the next reply, which must be a STATUS for id; -1 if not. */
static int
status_of(struct sftp_server *s, uint32_t id)
{
	struct buf *b;
	uint8_t type;
	uint32_t rid, st;
	int ret = -1;

	if ((b = reply(s, &type, &rid)) == NULL)
		return -1;
	if (type == SSH2_FXP_STATUS && rid == id && buf_get_u32(b, &st) == 0 &&
	    buf_skip_string(b) == 0 && buf_skip_string(b) == 0 &&
	    buf_end(b) == 0)
		ret = (int)st;
	buf_free(b);
	return ret;
}

/* A 4-byte handle from a HANDLE reply, into h; 0 on success. */
static int
handle_of(struct sftp_server *s, uint32_t id, uint8_t h[4])
{
	struct buf *b;
	const uint8_t *p;
	size_t len;
	uint8_t type;
	uint32_t rid;
	int ret = -1;

	if ((b = reply(s, &type, &rid)) == NULL)
		return -1;
	if (type == SSH2_FXP_HANDLE && rid == id &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 4 &&
	    buf_end(b) == 0) {
		memcpy(h, p, 4);
		ret = 0;
	}
	buf_free(b);
	return ret;
}

/* The one name of a NAME reply (REALPATH, READLINK, ...) into out. */
static int
name1_of(struct sftp_server *s, uint32_t id, char *out, size_t outlen)
{
	struct sftp_attrs a;
	struct buf *b;
	char *name = NULL;
	uint8_t type;
	uint32_t rid, count;
	int ret = -1;

	if ((b = reply(s, &type, &rid)) == NULL)
		return -1;
	if (type == SSH2_FXP_NAME && rid == id && buf_get_u32(b, &count) == 0 &&
	    count == 1 && buf_get_cstring(b, &name, NULL) == 0 &&
	    buf_skip_string(b) == 0 && sftp_decode_attrs(b, &a) == 0 &&
	    buf_end(b) == 0 && a.flags == 0) {
		snprintf(out, outlen, "%s", name);
		ret = 0;
	}
	free(name);
	buf_free(b);
	return ret;
}

static struct sftp_server *
server_with(int read_only, const char *deny, const char *allow, unsigned maxh)
{
	struct sftp_options o;
	struct sftp_server *s;
	struct buf *b;
	uint8_t type;
	uint32_t id;

	sftp_options_init(&o);
	o.read_only = read_only;
	o.deny = deny;
	o.allow = allow;
	o.max_handles = maxh;
	o.start_dir = dir;
	o.home = dir;
	o.user = "tester";
	o.log_level = LL_QUIET;
	if ((s = sftp_server_new(&o)) == NULL)
		return NULL;
	b = req_begin(SSH2_FXP_INIT, 0);
	buf_put_u32(b, 3);
	if (feed(s, b) != 0 || (b = reply(s, &type, &id)) == NULL ||
	    type != SSH2_FXP_VERSION || id != 3) {
		sftp_server_free(s);
		return NULL;
	}
	buf_free(b);
	return s;
}

static struct sftp_server *
server(void)
{
	return server_with(0, NULL, NULL, 0);
}

/* Requests with one string (a path or a handle). */
static int
req_str(
    struct sftp_server *s, uint8_t type, uint32_t id, const void *p, size_t len)
{
	struct buf *b = req_begin(type, id);

	buf_put_string(b, p, len);
	return feed(s, b);
}

static int
req_path(struct sftp_server *s, uint8_t type, uint32_t id, const char *path)
{
	return req_str(s, type, id, path, strlen(path));
}

static int
req_2paths(struct sftp_server *s, uint8_t type, uint32_t id, const char *a,
    const char *b2)
{
	struct buf *b = req_begin(type, id);

	buf_put_cstring(b, a);
	buf_put_cstring(b, b2);
	return feed(s, b);
}

static struct buf *
ext_begin(uint32_t id, const char *name)
{
	struct buf *b = req_begin(SSH2_FXP_EXTENDED, id);

	buf_put_cstring(b, name);
	return b;
}

/* A copy-data request: from handle rh at roff, len bytes (0: to EOF),
 * onto wh at woff. */
static struct buf *
copy_data_req(uint32_t id, const uint8_t rh[4], uint64_t roff, uint64_t len,
    const uint8_t wh[4], uint64_t woff)
{
	struct buf *b = ext_begin(id, "copy-data");

	buf_put_string(b, rh, 4);
	buf_put_u64(b, roff);
	buf_put_u64(b, len);
	buf_put_string(b, wh, 4);
	buf_put_u64(b, woff);
	return b;
}

/* OPEN path with pflags (and permissions when perm != 0). */
static int
open_file(struct sftp_server *s, const char *path, uint32_t pflags,
    uint32_t perm, uint8_t h[4])
{
	uint32_t id = next_id++;
	struct buf *b = req_begin(SSH2_FXP_OPEN, id);

	buf_put_cstring(b, path);
	buf_put_u32(b, pflags);
	put_attrs(b, perm ? SSH2_FILEXFER_ATTR_PERMISSIONS : 0, 0, perm, 0, 0);
	if (feed(s, b) != 0)
		return -2;
	if (handle_of(s, id, h) == 0)
		return 0;
	return -1;
}

static int
open_status(struct sftp_server *s, const char *path, uint32_t pflags)
{
	uint32_t id = next_id++;
	struct buf *b = req_begin(SSH2_FXP_OPEN, id);

	buf_put_cstring(b, path);
	buf_put_u32(b, pflags);
	put_attrs(b, 0, 0, 0, 0, 0);
	if (feed(s, b) != 0)
		return -2;
	return status_of(s, id);
}

static int
close_handle(struct sftp_server *s, const uint8_t h[4])
{
	uint32_t id = next_id++;

	if (req_str(s, SSH2_FXP_CLOSE, id, h, 4) != 0)
		return -2;
	return status_of(s, id);
}

static int
write_at(struct sftp_server *s, const uint8_t h[4], uint64_t off,
    const void *data, size_t len)
{
	uint32_t id = next_id++;
	struct buf *b = req_begin(SSH2_FXP_WRITE, id);

	buf_put_string(b, h, 4);
	buf_put_u64(b, off);
	buf_put_string(b, data, len);
	if (feed(s, b) != 0)
		return -2;
	return status_of(s, id);
}

static void
send_read(struct sftp_server *s, uint32_t id, const uint8_t h[4], uint64_t off,
    uint32_t len)
{
	struct buf *b = req_begin(SSH2_FXP_READ, id);

	buf_put_string(b, h, 4);
	buf_put_u64(b, off);
	buf_put_u32(b, len);
	(void)feed(s, b);
}

/*
 * READ: the data into out (returns its length), or -(100 + status) for
 * a STATUS reply.
 */
static long
read_at(struct sftp_server *s, const uint8_t h[4], uint64_t off, uint32_t len,
    uint8_t *out, size_t outlen)
{
	uint32_t id = next_id++, rid, st;
	const uint8_t *p;
	struct buf *b;
	uint8_t type;
	size_t n;
	long ret = -1;

	send_read(s, id, h, off, len);
	if ((b = reply(s, &type, &rid)) == NULL || rid != id) {
		buf_free(b);
		return -1;
	}
	if (type == SSH2_FXP_DATA && buf_get_string_direct(b, &p, &n) == 0 &&
	    buf_end(b) == 0 && n <= outlen) {
		memcpy(out, p, n);
		ret = (long)n;
	} else if (type == SSH2_FXP_STATUS && buf_get_u32(b, &st) == 0)
		ret = -100 - (long)st;
	buf_free(b);
	return ret;
}

/* STAT/LSTAT/FSTAT: 0 and the attributes, or the STATUS code + 100. */
static int
stat_of(struct sftp_server *s, uint8_t type, const void *p, size_t len,
    struct sftp_attrs *a)
{
	uint32_t id = next_id++, rid, st;
	struct buf *b;
	uint8_t rtype;
	int ret = -1;

	if (req_str(s, type, id, p, len) != 0)
		return -2;
	if ((b = reply(s, &rtype, &rid)) == NULL || rid != id) {
		buf_free(b);
		return -1;
	}
	if (rtype == SSH2_FXP_ATTRS && sftp_decode_attrs(b, a) == 0 &&
	    buf_end(b) == 0)
		ret = 0;
	else if (rtype == SSH2_FXP_STATUS && buf_get_u32(b, &st) == 0)
		ret = 100 + (int)st;
	buf_free(b);
	return ret;
}

static int
write_file(const char *name, const char *content)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(content, f);
	return fclose(f);
}

static int
exists(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* ------------------------------------------------------------------ */

static void
test_init(void)
{
	static const char *const want[] = {
	    "posix-rename@openssh.com",
	    "1",
	    "statvfs@openssh.com",
	    "2",
	    "fstatvfs@openssh.com",
	    "2",
	    "hardlink@openssh.com",
	    "1",
	    "fsync@openssh.com",
	    "1",
	    "lsetstat@openssh.com",
	    "1",
	    "limits@openssh.com",
	    "1",
	    "expand-path@openssh.com",
	    "1",
	    "copy-data",
	    "1",
	    "home-directory",
	    "1",
	    "users-groups-by-id@openssh.com",
	    "1",
	};
	struct sftp_options o;
	struct sftp_server *s;
	struct buf *b;
	uint8_t type;
	uint32_t ver;
	char *str;
	size_t i;
	int ok = 1;

	sftp_options_init(&o);
	o.start_dir = dir;
	o.log_level = LL_QUIET;
	s = sftp_server_new(&o);
	T_CHECK("new", s != NULL);
	if (s == NULL)
		return;
	T_CHECK("want input at start", sftp_server_want_input(s) == 1);
	T_CHECK("no output before INIT", sftp_server_output_pending(s) == 0);
	b = req_begin(SSH2_FXP_INIT, 0);
	buf_put_u32(b, 3);
	/* A client may send extension pairs in INIT; like sftp-server,
	 * nothing after the version is read, whole pairs or not. */
	buf_put_cstring(b, "some-ext@example.com");
	buf_put_cstring(b, "1");
	buf_put_u32(b, 5);
	buf_put(b, "ab", 2);
	T_CHECK("INIT accepted", feed(s, b) == 0);
	b = reply(s, &type, &ver);
	T_CHECK("VERSION 3", b != NULL && type == SSH2_FXP_VERSION && ver == 3);
	for (i = 0; b != NULL && i < sizeof(want) / sizeof(want[0]); i++) {
		str = NULL;
		if (buf_get_cstring(b, &str, NULL) != 0 ||
		    strcmp(str, want[i]) != 0)
			ok = 0;
		free(str);
	}
	T_CHECK("VERSION lists OpenSSH's extensions in order",
	    ok && b != NULL && buf_end(b) == 0);
	buf_free(b);
	b = req_begin(SSH2_FXP_INIT, 0);
	buf_put_u32(b, 3);
	T_CHECK("a second INIT is taken, as by sftp-server", feed(s, b) == 0);
	b = reply(s, &type, &ver);
	T_CHECK("and answered with VERSION 3 again",
	    b != NULL && type == SSH2_FXP_VERSION && ver == 3);
	buf_free(b);
	sftp_server_free(s);

	s = sftp_server_new(&o);
	T_CHECK("request before INIT is a protocol error",
	    s != NULL && req_path(s, SSH2_FXP_STAT, 1, ".") == ERR_PROTOCOL);
	sftp_server_free(s);
}

static void
test_files(void)
{
	struct sftp_server *s = server();
	uint8_t h[4], h2[4], data[SFTP_MAX_MSG_LENGTH];
	struct sftp_attrs a;
	struct stat st;
	char path[256];
	long n;

	if (s == NULL) {
		T_CHECK("server", 0);
		return;
	}
	T_CHECK("open for write",
	    open_file(s, "f1", SSH2_FXF_WRITE | SSH2_FXF_CREAT | SSH2_FXF_TRUNC,
	        0640, h) == 0);
	T_CHECK("write at 0", write_at(s, h, 0, "hello world", 11) == 0);
	T_CHECK("write at 6", write_at(s, h, 6, "WORLD", 5) == 0);
	T_CHECK("fstat of the write handle",
	    stat_of(s, SSH2_FXP_FSTAT, h, 4, &a) == 0 && a.size == 11 &&
	        (a.perm & 0777) == (0640 & ~(unsigned)0));
	/* EBADF maps to NO_SUCH_FILE, as in OpenSSH's errno_to_portable. */
	T_CHECK("read on a write-only handle fails",
	    read_at(s, h, 0, 10, data, sizeof(data)) ==
	        -100 - SSH2_FX_NO_SUCH_FILE);
	T_CHECK("close", close_handle(s, h) == SSH2_FX_OK);
	T_CHECK("closed handle is gone",
	    close_handle(s, h) == SSH2_FX_NO_SUCH_FILE);
	T_CHECK("write to a closed handle",
	    write_at(s, h, 0, "x", 1) == SSH2_FX_FAILURE);

	T_CHECK("open for read", open_file(s, "f1", SSH2_FXF_READ, 0, h) == 0);
	n = read_at(s, h, 0, 100, data, sizeof(data));
	T_CHECK(
	    "read the file", n == 11 && memcmp(data, "hello WORLD", 11) == 0);
	n = read_at(s, h, 6, 3, data, sizeof(data));
	T_CHECK("read at an offset", n == 3 && memcmp(data, "WOR", 3) == 0);
	T_CHECK("read at EOF is SSH_FX_EOF",
	    read_at(s, h, 11, 10, data, sizeof(data)) == -100 - SSH2_FX_EOF);
	T_CHECK("read of length 0 is empty DATA",
	    read_at(s, h, 0, 0, data, sizeof(data)) == 0);
	T_CHECK("read at a huge offset",
	    read_at(s, h, UINT64_MAX, 10, data, sizeof(data)) ==
	        -100 - SSH2_FX_BAD_MESSAGE);
	T_CHECK("write on a read-only handle fails",
	    write_at(s, h, 0, "x", 1) == SSH2_FX_NO_SUCH_FILE);
	T_CHECK("close", close_handle(s, h) == SSH2_FX_OK);

	/* A read longer than the cap is shortened, not refused. */
	snprintf(path, sizeof(path), "%s/big", dir);
	memset(data, 'b', sizeof(data));
	T_CHECK("open big",
	    open_file(s, "big", SSH2_FXF_WRITE | SSH2_FXF_CREAT, 0, h) == 0 &&
	        write_at(s, h, 0, data, SFTP_MAX_READ_LENGTH) == 0 &&
	        write_at(s, h, SFTP_MAX_READ_LENGTH, data, 4096) == 0 &&
	        close_handle(s, h) == 0);
	T_CHECK(
	    "open big for read", open_file(s, "big", SSH2_FXF_READ, 0, h) == 0);
	n = read_at(s, h, 0, 1u << 30, data, sizeof(data));
	T_CHECK(
	    "read capped at the max read length", n == SFTP_MAX_READ_LENGTH);
	close_handle(s, h);

	T_CHECK("open missing file: NO_SUCH_FILE",
	    open_status(s, "nope", SSH2_FXF_READ) == SSH2_FX_NO_SUCH_FILE);
	T_CHECK("create exclusive of an existing file: FAILURE",
	    open_status(
	        s, "f1", SSH2_FXF_WRITE | SSH2_FXF_CREAT | SSH2_FXF_EXCL) ==
	        SSH2_FX_FAILURE);
	T_CHECK("open a directory for writing: FAILURE",
	    open_status(s, ".", SSH2_FXF_WRITE) == SSH2_FX_FAILURE);
	T_CHECK("open below a file: NO_SUCH_FILE",
	    open_status(s, "f1/x", SSH2_FXF_READ) == SSH2_FX_NO_SUCH_FILE);

	/* Append mode ignores the offset. */
	T_CHECK("open append",
	    open_file(s, "f1", SSH2_FXF_WRITE | SSH2_FXF_APPEND, 0, h) == 0 &&
	        write_at(s, h, 0, "!", 1) == 0 && close_handle(s, h) == 0);
	T_CHECK("append landed at the end",
	    stat(strcat(strcpy(path, dir), "/f1"), &st) == 0 &&
	        st.st_size == 12);

	/* Two handles on one file, read and write. */
	T_CHECK("two handles",
	    open_file(s, "f1", SSH2_FXF_READ | SSH2_FXF_WRITE, 0, h) == 0 &&
	        open_file(s, "f1", SSH2_FXF_READ, 0, h2) == 0 &&
	        memcmp(h, h2, 4) != 0);
	T_CHECK("rw write", write_at(s, h, 0, "J", 1) == 0);
	n = read_at(s, h2, 0, 5, data, sizeof(data));
	T_CHECK(
	    "other handle sees it", n == 5 && memcmp(data, "Jello", 5) == 0);
	close_handle(s, h);
	close_handle(s, h2);
	snprintf(path, sizeof(path), "%s/f1", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/big", dir);
	unlink(path);
	sftp_server_free(s);
}

static void
test_umask(void)
{
	struct sftp_options o;
	struct sftp_server *s;
	struct buf *b;
	struct stat st;
	uint8_t h[4], type;
	uint32_t id;
	char path[256];

	sftp_options_init(&o);
	o.start_dir = dir;
	o.umask = 077;
	o.log_level = LL_QUIET;
	s = sftp_server_new(&o);
	b = req_begin(SSH2_FXP_INIT, 0);
	buf_put_u32(b, 3);
	feed(s, b);
	buf_free(reply(s, &type, &id));
	T_CHECK("-u 077: create",
	    open_file(s, "um", SSH2_FXF_WRITE | SSH2_FXF_CREAT, 0666, h) == 0 &&
	        close_handle(s, h) == 0);
	snprintf(path, sizeof(path), "%s/um", dir);
	T_CHECK("-u 077: mode 0600",
	    stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	id = next_id++;
	b = req_begin(SSH2_FXP_MKDIR, id);
	buf_put_cstring(b, "umd");
	put_attrs(b, 0, 0, 0, 0, 0);
	feed(s, b);
	snprintf(path, sizeof(path), "%s/umd", dir);
	T_CHECK("-u 077: mkdir 0700",
	    status_of(s, id) == 0 && stat(path, &st) == 0 &&
	        (st.st_mode & 0777) == 0700);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/um", dir);
	unlink(path);
	T_CHECK("the process umask is back", umask(022) != 077);
	sftp_server_free(s);
}

static void
test_stat_setstat(void)
{
	struct sftp_server *s = server();
	struct sftp_attrs a;
	struct buf *b;
	struct stat st;
	uint8_t h[4];
	uint32_t id;
	char path[256];

	write_file("s1", "0123456789");
	snprintf(path, sizeof(path), "%s/s1", dir);
	T_CHECK("stat",
	    stat_of(s, SSH2_FXP_STAT, "s1", 2, &a) == 0 && a.size == 10 &&
	        a.flags ==
	            (SSH2_FILEXFER_ATTR_SIZE | SSH2_FILEXFER_ATTR_UIDGID |
	                SSH2_FILEXFER_ATTR_PERMISSIONS |
	                SSH2_FILEXFER_ATTR_ACMODTIME) &&
	        a.uid == getuid() && (a.perm & S_IFMT) == S_IFREG);
	T_CHECK("stat of a missing file: NO_SUCH_FILE",
	    stat_of(s, SSH2_FXP_STAT, "none", 4, &a) ==
	        100 + SSH2_FX_NO_SUCH_FILE);
	T_CHECK("stat with an absolute path",
	    stat_of(s, SSH2_FXP_STAT, path, strlen(path), &a) == 0 &&
	        a.size == 10);

	id = next_id++;
	b = req_begin(SSH2_FXP_SETSTAT, id);
	buf_put_cstring(b, "s1");
	put_attrs(b,
	    SSH2_FILEXFER_ATTR_SIZE | SSH2_FILEXFER_ATTR_PERMISSIONS |
	        SSH2_FILEXFER_ATTR_ACMODTIME,
	    4, 0600, 1000000000, 1000000001);
	T_CHECK("setstat", feed(s, b) == 0 && status_of(s, id) == 0);
	T_CHECK("setstat applied",
	    stat(path, &st) == 0 && st.st_size == 4 &&
	        (st.st_mode & 07777) == 0600 && st.st_mtime == 1000000001 &&
	        st.st_atime == 1000000000);
	id = next_id++;
	b = req_begin(SSH2_FXP_SETSTAT, id);
	buf_put_cstring(b, "none");
	put_attrs(b, SSH2_FILEXFER_ATTR_PERMISSIONS, 0, 0600, 0, 0);
	T_CHECK("setstat of a missing file",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_NO_SUCH_FILE);

	T_CHECK("open", open_file(s, "s1", SSH2_FXF_WRITE, 0, h) == 0);
	id = next_id++;
	b = req_begin(SSH2_FXP_FSETSTAT, id);
	buf_put_string(b, h, 4);
	put_attrs(b,
	    SSH2_FILEXFER_ATTR_SIZE | SSH2_FILEXFER_ATTR_PERMISSIONS |
	        SSH2_FILEXFER_ATTR_ACMODTIME | SSH2_FILEXFER_ATTR_UIDGID,
	    2, 0644, 2000000000, 2000000002);
	T_CHECK("fsetstat", feed(s, b) == 0 && status_of(s, id) == 0);
	T_CHECK("fsetstat applied",
	    stat(path, &st) == 0 && st.st_size == 2 &&
	        (st.st_mode & 07777) == 0644 && st.st_mtime == 2000000002);
	close_handle(s, h);
	id = next_id++;
	b = req_begin(SSH2_FXP_FSETSTAT, id);
	buf_put_string(b, h, 4);
	put_attrs(b, SSH2_FILEXFER_ATTR_PERMISSIONS, 0, 0600, 0, 0);
	T_CHECK("fsetstat on a closed handle",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_FAILURE);

	/* Attribute extensions are skipped. */
	id = next_id++;
	b = req_begin(SSH2_FXP_SETSTAT, id);
	buf_put_cstring(b, "s1");
	buf_put_u32(
	    b, SSH2_FILEXFER_ATTR_PERMISSIONS | SSH2_FILEXFER_ATTR_EXTENDED);
	buf_put_u32(b, 0640);
	buf_put_u32(b, 1);
	buf_put_cstring(b, "x@example.com");
	buf_put_cstring(b, "data");
	T_CHECK("setstat with attribute extensions",
	    feed(s, b) == 0 && status_of(s, id) == 0 && stat(path, &st) == 0 &&
	        (st.st_mode & 0777) == 0640);

	T_CHECK("lstat of a link is the link",
	    symlink("s1", strcat(strcpy(path, dir), "/sl")) == 0 &&
	        stat_of(s, SSH2_FXP_LSTAT, "sl", 2, &a) == 0 &&
	        (a.perm & S_IFMT) == S_IFLNK);
	T_CHECK("stat of a link is the target",
	    stat_of(s, SSH2_FXP_STAT, "sl", 2, &a) == 0 &&
	        (a.perm & S_IFMT) == S_IFREG);
	unlink(path);
	snprintf(path, sizeof(path), "%s/s1", dir);
	unlink(path);
	sftp_server_free(s);
}

/* The NAME entries of one READDIR reply; -status if it was a STATUS. */
static int
readdir_names(struct sftp_server *s, const uint8_t h[4], char names[][64],
    char longnames[][256], int max)
{
	uint32_t id = next_id++, rid, count, st, i;
	struct sftp_attrs a;
	struct buf *b;
	uint8_t type;
	char *n = NULL, *l = NULL;
	int ret = -1000;

	req_str(s, SSH2_FXP_READDIR, id, h, 4);
	if ((b = reply(s, &type, &rid)) == NULL || rid != id)
		goto out;
	if (type == SSH2_FXP_STATUS && buf_get_u32(b, &st) == 0) {
		ret = -(int)st;
		goto out;
	}
	if (type != SSH2_FXP_NAME || buf_get_u32(b, &count) != 0)
		goto out;
	for (i = 0; i < count; i++) {
		if (buf_get_cstring(b, &n, NULL) != 0 ||
		    buf_get_cstring(b, &l, NULL) != 0 ||
		    sftp_decode_attrs(b, &a) != 0)
			goto out;
		if ((int)i < max) {
			snprintf(names[i], 64, "%s", n);
			snprintf(longnames[i], 256, "%s", l);
		}
		free(n);
		free(l);
		n = l = NULL;
	}
	if (buf_end(b) == 0)
		ret = (int)count;
out:
	free(n);
	free(l);
	buf_free(b);
	return ret;
}

static void
test_readdir(void)
{
	struct sftp_server *s = server();
	char names[128][64], longs[128][256], want[512], path[256];
	char user[64], group[64];
	struct timeval tv[2] = {{978433200, 0}, {978433200, 0}};
	struct passwd *pw;
	struct group *gr;
	struct tm tm;
	time_t t = 978433200;
	int n, i, found = 0, total = 0;
	uint8_t h[4];

	T_CHECK("mkdir for readdir",
	    snprintf(path, sizeof(path), "%s/rd", dir) > 0 &&
	        mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/rd/file.txt", dir);
	write_file("rd/file.txt", "0123456789");
	chmod(path, 0640);
	utimes(path, tv);
	T_CHECK("opendir",
	    req_path(s, SSH2_FXP_OPENDIR, next_id, "rd") == 0 &&
	        handle_of(s, next_id++, h) == 0);
	n = readdir_names(s, h, names, longs, 128);
	T_CHECK("readdir: ., .. and the file", n == 3);
	pw = getpwuid(getuid());
	gr = getgrgid(getgid());
	snprintf(user, sizeof(user), "%s", pw ? pw->pw_name : "?");
	snprintf(group, sizeof(group), "%s", gr ? gr->gr_name : "?");
	localtime_r(&t, &tm);
	{
		char date[32];

		/* Older than six months: the year, two spaces before it. */
		strftime(date, sizeof(date), "%b %e  %Y", &tm);
		snprintf(want, sizeof(want),
		    "-rw-r-----    1 %-8s %-8s       10 %s file.txt", user,
		    group, date);
	}
	for (i = 0; i < n && i < 128; i++)
		if (strcmp(names[i], "file.txt") == 0)
			found = strcmp(longs[i], want) == 0;
	T_CHECK("longname as OpenSSH's ls -l", found);
	if (!found)
		for (i = 0; i < n && i < 128; i++)
			printf(
			    "# %s: [%s] want [%s]\n", names[i], longs[i], want);
	T_CHECK(
	    "then EOF", readdir_names(s, h, names, longs, 128) == -SSH2_FX_EOF);
	T_CHECK("readdir on a file handle fails",
	    readdir_names(s, (const uint8_t *)"\0\0\0\x63", names, longs, 1) ==
	        -SSH2_FX_FAILURE);
	T_CHECK("closedir", close_handle(s, h) == 0);
	unlink(path);

	/* Many entries come in batches of 100. */
	for (i = 0; i < 150; i++) {
		char nm[32];

		snprintf(nm, sizeof(nm), "rd/n%03d", i);
		write_file(nm, "");
	}
	T_CHECK("opendir again",
	    req_path(s, SSH2_FXP_OPENDIR, next_id, "rd") == 0 &&
	        handle_of(s, next_id++, h) == 0);
	while ((n = readdir_names(s, h, names, longs, 128)) > 0) {
		T_CHECK("batch of at most 100", n <= 100);
		total += n;
	}
	T_CHECK("152 names in all", total == 152 && n == -SSH2_FX_EOF);
	close_handle(s, h);
	for (i = 0; i < 150; i++) {
		snprintf(path, sizeof(path), "%s/rd/n%03d", dir, i);
		unlink(path);
	}
	T_CHECK("opendir of a file",
	    write_file("nd", "x") == 0 &&
	        req_path(s, SSH2_FXP_OPENDIR, next_id, "nd") == 0 &&
	        status_of(s, next_id++) == SSH2_FX_NO_SUCH_FILE);
	T_CHECK("opendir of a missing dir",
	    req_path(s, SSH2_FXP_OPENDIR, next_id, "nodir") == 0 &&
	        status_of(s, next_id++) == SSH2_FX_NO_SUCH_FILE);
	snprintf(path, sizeof(path), "%s/nd", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rd", dir);
	rmdir(path);

	{
		char m[12];
		struct stat st;

		sftp_strmode(S_IFDIR | 01777, m);
		T_CHECK("strmode sticky", strcmp(m, "drwxrwxrwt ") == 0);
		sftp_strmode(S_IFREG | 06644, m);
		T_CHECK("strmode setuid/setgid no x",
		    strcmp(m, "-rwSr-Sr-- ") == 0);
		sftp_strmode(S_IFREG | 06711, m);
		T_CHECK(
		    "strmode setuid/setgid x", strcmp(m, "-rws--s--x ") == 0);
		sftp_strmode(S_IFIFO | 0600, m);
		T_CHECK("strmode fifo", strcmp(m, "prw------- ") == 0);
		memset(&st, 0, sizeof(st));
		st.st_mode = S_IFREG | 0644;
		st.st_nlink = 2;
		st.st_uid = 4000000;
		st.st_gid = 4000001;
		st.st_size = 123456789;
		st.st_mtime = time(NULL) - 60;
		localtime_r(&st.st_mtime, &tm);
		{
			char date[32];

			strftime(date, sizeof(date), "%b %e %H:%M", &tm);
			snprintf(want, sizeof(want),
			    "-rw-r--r--    2 4000000  4000001  123456789 %s x",
			    date);
		}
		sftp_longname(s, path, sizeof(path), "x", &st);
		T_CHECK("longname: recent file, unknown ids",
		    strcmp(path, want) == 0);
	}
	sftp_server_free(s);
}

static void
test_paths(void)
{
	struct sftp_server *s = server();
	char out[SFTP_PATH_MAX], want[SFTP_PATH_MAX], path[256];
	struct buf *b;
	struct stat st;
	uint32_t id;

	id = next_id++;
	b = req_begin(SSH2_FXP_MKDIR, id);
	buf_put_cstring(b, "md");
	put_attrs(b, SSH2_FILEXFER_ATTR_PERMISSIONS, 0, 0700, 0, 0);
	snprintf(path, sizeof(path), "%s/md", dir);
	T_CHECK("mkdir",
	    feed(s, b) == 0 && status_of(s, id) == 0 && stat(path, &st) == 0 &&
	        S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	id = next_id++;
	b = req_begin(SSH2_FXP_MKDIR, id);
	buf_put_cstring(b, "md");
	put_attrs(b, 0, 0, 0, 0, 0);
	T_CHECK("mkdir existing: FAILURE",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_FAILURE);

	id = next_id++;
	T_CHECK("realpath .",
	    req_path(s, SSH2_FXP_REALPATH, id, ".") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, dir) == 0);
	id = next_id++;
	T_CHECK("realpath empty is .",
	    req_path(s, SSH2_FXP_REALPATH, id, "") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, dir) == 0);
	id = next_id++;
	snprintf(want, sizeof(want), "%s/md", dir);
	T_CHECK("realpath with . and .. and //",
	    req_path(s, SSH2_FXP_REALPATH, id, "./md/../md//.") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, want) == 0);
	id = next_id++;
	snprintf(want, sizeof(want), "%s/md/new", dir);
	T_CHECK("realpath of a missing last component",
	    req_path(s, SSH2_FXP_REALPATH, id, "md/new") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, want) == 0);
	id = next_id++;
	T_CHECK("realpath of a missing last component with a '/' after it: "
	        "NO_SUCH_FILE, as sftp-server",
	    req_path(s, SSH2_FXP_REALPATH, id, "md/new/") == 0 &&
	        status_of(s, id) == SSH2_FX_NO_SUCH_FILE);
	id = next_id++;
	T_CHECK("realpath below a missing dir: NO_SUCH_FILE",
	    req_path(s, SSH2_FXP_REALPATH, id, "nodir/new") == 0 &&
	        status_of(s, id) == SSH2_FX_NO_SUCH_FILE);
	id = next_id++;
	T_CHECK("realpath /..",
	    req_path(s, SSH2_FXP_REALPATH, id, "/..") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, "/") == 0);

	/* SYMLINK: OpenSSH sends the target first, then the link path. */
	id = next_id++;
	T_CHECK("symlink (target, link)",
	    req_2paths(s, SSH2_FXP_SYMLINK, id, "md", "lnk") == 0 &&
	        status_of(s, id) == 0);
	snprintf(path, sizeof(path), "%s/lnk", dir);
	T_CHECK("the link is lnk and points at md",
	    readlink(path, out, sizeof(out)) == 2 && memcmp(out, "md", 2) == 0);
	id = next_id++;
	T_CHECK("readlink",
	    req_path(s, SSH2_FXP_READLINK, id, "lnk") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, "md") == 0);
	id = next_id++;
	snprintf(want, sizeof(want), "%s/md", dir);
	T_CHECK("realpath follows links",
	    req_path(s, SSH2_FXP_REALPATH, id, "lnk") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, want) == 0);
	id = next_id++;
	T_CHECK("readlink of a file: FAILURE (EINVAL is BAD_MESSAGE)",
	    req_path(s, SSH2_FXP_READLINK, id, "md") == 0 &&
	        status_of(s, id) == SSH2_FX_BAD_MESSAGE);
	id = next_id++;
	T_CHECK("symlink over an existing name: FAILURE",
	    req_2paths(s, SSH2_FXP_SYMLINK, id, "x", "lnk") == 0 &&
	        status_of(s, id) == SSH2_FX_FAILURE);
	id = next_id++;
	T_CHECK("realpath of a link loop: NO_SUCH_FILE (ELOOP)",
	    symlink("loop2", strcat(strcpy(path, dir), "/loop1")) == 0 &&
	        symlink("loop1", strcat(strcpy(path, dir), "/loop2")) == 0 &&
	        req_path(s, SSH2_FXP_REALPATH, id, "loop1/x") == 0 &&
	        status_of(s, id) == SSH2_FX_NO_SUCH_FILE);

	/* RENAME refuses to replace; posix-rename replaces. */
	write_file("r1", "one");
	write_file("r2", "two");
	id = next_id++;
	T_CHECK("rename onto an existing file: FAILURE",
	    req_2paths(s, SSH2_FXP_RENAME, id, "r1", "r2") == 0 &&
	        status_of(s, id) == SSH2_FX_FAILURE && exists("r1"));
	id = next_id++;
	T_CHECK("rename to a new name",
	    req_2paths(s, SSH2_FXP_RENAME, id, "r1", "r3") == 0 &&
	        status_of(s, id) == 0 && !exists("r1") && exists("r3"));
	id = next_id++;
	T_CHECK("rename of a missing file",
	    req_2paths(s, SSH2_FXP_RENAME, id, "r1", "r4") == 0 &&
	        status_of(s, id) == SSH2_FX_NO_SUCH_FILE);
	id = next_id++;
	b = ext_begin(id, "posix-rename@openssh.com");
	buf_put_cstring(b, "r3");
	buf_put_cstring(b, "r2");
	T_CHECK("posix-rename replaces",
	    feed(s, b) == 0 && status_of(s, id) == 0 && !exists("r3") &&
	        exists("r2"));

	id = next_id++;
	T_CHECK("remove",
	    req_path(s, SSH2_FXP_REMOVE, id, "r2") == 0 &&
	        status_of(s, id) == 0 && !exists("r2"));
	id = next_id++;
	T_CHECK("remove missing: NO_SUCH_FILE",
	    req_path(s, SSH2_FXP_REMOVE, id, "r2") == 0 &&
	        status_of(s, id) == SSH2_FX_NO_SUCH_FILE);
	id = next_id++;
	T_CHECK("remove a directory: FAILURE",
	    req_path(s, SSH2_FXP_REMOVE, id, "md") == 0 &&
	        status_of(s, id) == SSH2_FX_FAILURE);
	id = next_id++;
	T_CHECK("rmdir through a link fails",
	    req_path(s, SSH2_FXP_RMDIR, id, "lnk") == 0 &&
	        status_of(s, id) == SSH2_FX_NO_SUCH_FILE);
	req_path(s, SSH2_FXP_REMOVE, next_id, "lnk");
	status_of(s, next_id++);
	req_path(s, SSH2_FXP_REMOVE, next_id, "loop1");
	status_of(s, next_id++);
	req_path(s, SSH2_FXP_REMOVE, next_id, "loop2");
	status_of(s, next_id++);
	id = next_id++;
	T_CHECK("rmdir",
	    req_path(s, SSH2_FXP_RMDIR, id, "md") == 0 &&
	        status_of(s, id) == 0 && !exists("md"));
	id = next_id++;
	T_CHECK("rmdir missing",
	    req_path(s, SSH2_FXP_RMDIR, id, "md") == 0 &&
	        status_of(s, id) == SSH2_FX_NO_SUCH_FILE);

	/* A path longer than PATH_MAX is refused with BAD_MESSAGE. */
	{
		static char longp[SFTP_PATH_MAX + 100];

		memset(longp, 'a', sizeof(longp) - 1);
		id = next_id++;
		T_CHECK("overlong path: BAD_MESSAGE",
		    req_path(s, SSH2_FXP_STAT, id, longp) == 0 &&
		        status_of(s, id) == SSH2_FX_BAD_MESSAGE);
	}
	sftp_server_free(s);
}

static void
test_read_only(void)
{
	struct sftp_options o;
	struct sftp_server *s = server_with(1, NULL, NULL, 0);
	struct buf *b;
	uint8_t h[4], data[16], type;
	uint32_t id, ver;
	char *str;
	int found = 0;

	write_file("ro", "data");
	T_CHECK("-R: open for write denied",
	    open_status(s, "ro", SSH2_FXF_WRITE) == SSH2_FX_PERMISSION_DENIED);
	T_CHECK("-R: create denied",
	    open_status(s, "new", SSH2_FXF_READ | SSH2_FXF_CREAT) ==
	            SSH2_FX_PERMISSION_DENIED &&
	        !exists("new"));
	T_CHECK("-R: truncate denied",
	    open_status(s, "ro", SSH2_FXF_READ | SSH2_FXF_TRUNC) ==
	        SSH2_FX_PERMISSION_DENIED);
	T_CHECK("-R: open for read",
	    open_file(s, "ro", SSH2_FXF_READ, 0, h) == 0 &&
	        read_at(s, h, 0, 16, data, sizeof(data)) == 4);
	T_CHECK("-R: write denied",
	    write_at(s, h, 0, "x", 1) == SSH2_FX_PERMISSION_DENIED);
	close_handle(s, h);
	id = next_id++;
	T_CHECK("-R: remove denied",
	    req_path(s, SSH2_FXP_REMOVE, id, "ro") == 0 &&
	        status_of(s, id) == SSH2_FX_PERMISSION_DENIED && exists("ro"));
	id = next_id++;
	b = req_begin(SSH2_FXP_MKDIR, id);
	buf_put_cstring(b, "d");
	put_attrs(b, 0, 0, 0, 0, 0);
	T_CHECK("-R: mkdir denied",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_PERMISSION_DENIED);
	id = next_id++;
	T_CHECK("-R: symlink denied",
	    req_2paths(s, SSH2_FXP_SYMLINK, id, "ro", "l") == 0 &&
	        status_of(s, id) == SSH2_FX_PERMISSION_DENIED);
	id = next_id++;
	b = ext_begin(id, "hardlink@openssh.com");
	buf_put_cstring(b, "ro");
	buf_put_cstring(b, "ro2");
	T_CHECK("-R: hardlink denied",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_PERMISSION_DENIED);
	id = next_id++;
	T_CHECK("-R: stat allowed",
	    req_path(s, SSH2_FXP_STAT, id, "ro") == 0 && buf_len(s->out) > 0 &&
	        status_of(s, id) == -1);
	sftp_server_free(s);

	/* Write extensions are not advertised in read-only mode. */
	sftp_options_init(&o);
	o.read_only = 1;
	o.start_dir = dir;
	o.log_level = LL_QUIET;
	s = sftp_server_new(&o);
	b = req_begin(SSH2_FXP_INIT, 0);
	buf_put_u32(b, 3);
	feed(s, b);
	b = reply(s, &type, &ver);
	while (b != NULL && buf_len(b) > 0) {
		str = NULL;
		if (buf_get_cstring(b, &str, NULL) != 0)
			break;
		if (strcmp(str, "posix-rename@openssh.com") == 0 ||
		    strcmp(str, "copy-data") == 0 ||
		    strcmp(str, "hardlink@openssh.com") == 0)
			found++;
		if (strcmp(str, "statvfs@openssh.com") == 0)
			found += 100;
		free(str);
	}
	T_CHECK(
	    "-R: VERSION has statvfs but no write extensions", found == 100);
	buf_free(b);
	sftp_server_free(s);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/ro", dir);
		unlink(path);
	}
}

static void
test_request_lists(void)
{
	struct sftp_server *s = server_with(0, "remove,mkdir", NULL, 0);
	struct buf *b;
	uint32_t id;
	char out[SFTP_PATH_MAX];

	write_file("pl", "x");
	id = next_id++;
	T_CHECK("-P remove: remove denied",
	    req_path(s, SSH2_FXP_REMOVE, id, "pl") == 0 &&
	        status_of(s, id) == SSH2_FX_PERMISSION_DENIED && exists("pl"));
	id = next_id++;
	T_CHECK("-P: realpath allowed",
	    req_path(s, SSH2_FXP_REALPATH, id, ".") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0);
	sftp_server_free(s);

	s = server_with(0, NULL, "realpath,stat,lstat,home-directory", 0);
	id = next_id++;
	T_CHECK("-p: realpath allowed",
	    req_path(s, SSH2_FXP_REALPATH, id, ".") == 0 &&
	        name1_of(s, id, out, sizeof(out)) == 0);
	id = next_id++;
	T_CHECK("-p: remove not allowed",
	    req_path(s, SSH2_FXP_REMOVE, id, "pl") == 0 &&
	        status_of(s, id) == SSH2_FX_PERMISSION_DENIED);
	id = next_id++;
	T_CHECK("-p: opendir not allowed",
	    req_path(s, SSH2_FXP_OPENDIR, id, ".") == 0 &&
	        status_of(s, id) == SSH2_FX_PERMISSION_DENIED);
	id = next_id++;
	b = ext_begin(id, "limits@openssh.com");
	T_CHECK("-p: extension not allowed",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_PERMISSION_DENIED);
	id = next_id++;
	b = ext_begin(id, "home-directory");
	buf_put_cstring(b, "");
	T_CHECK("-p: extension allowed",
	    feed(s, b) == 0 && name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, dir) == 0);
	sftp_server_free(s);

	/* Deny is applied before allow. */
	s = server_with(0, "stat", "stat,realpath", 0);
	id = next_id++;
	T_CHECK("-P before -p",
	    req_path(s, SSH2_FXP_STAT, id, "pl") == 0 &&
	        status_of(s, id) == SSH2_FX_PERMISSION_DENIED);
	sftp_server_free(s);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/pl", dir);
		unlink(path);
	}
}

static void
test_malformed(void)
{
	struct sftp_server *s;
	struct buf *b;
	uint8_t raw[16];

	s = server();
	b = req_begin(SSH2_FXP_STAT, 1);
	buf_put_u32(b, 10); /* string length past the end */
	buf_put(b, "abc", 3);
	T_CHECK("short string: error", feed(s, b) == ERR_SHORT);
	T_CHECK("nothing sent for it", sftp_server_output_pending(s) == 0);
	sftp_server_free(s);

	s = server();
	b = req_begin(SSH2_FXP_STAT, 1);
	buf_put_cstring(b, ".");
	buf_put_u8(b, 0);
	T_CHECK("trailing byte: skipped, as by OpenSSH, and answered",
	    feed(s, b) == 0 && sftp_server_output_pending(s) > 0);
	sftp_server_free(s);

	s = server();
	b = req_begin(SSH2_FXP_READ, 1);
	buf_put_string(b, "\0\0\0\0", 4);
	buf_put_u64(b, 0);
	T_CHECK("READ without its length: error", feed(s, b) == ERR_SHORT);
	sftp_server_free(s);

	s = server();
	raw[0] = 0x7f;
	raw[1] = raw[2] = raw[3] = 0xff;
	T_CHECK("huge length: error at once",
	    sftp_server_input(s, raw, 4) == ERR_TOO_BIG);
	T_CHECK(
	    "and from then on", sftp_server_input(s, raw, 1) == ERR_TOO_BIG);
	sftp_server_free(s);

	s = server();
	memcpy(raw, "\0\x04\0\x01", 4); /* 256 KiB + 1 */
	T_CHECK("one byte over the cap: error",
	    sftp_server_input(s, raw, 4) == ERR_TOO_BIG);
	sftp_server_free(s);

	s = server();
	memset(raw, 0, 4);
	T_CHECK(
	    "empty packet: error", sftp_server_input(s, raw, 4) == ERR_SHORT);
	sftp_server_free(s);

	s = server();
	b = req_begin(SSH2_FXP_STAT, 1);
	buf_put_string(b, "a\0b", 3);
	T_CHECK("NUL in a path: error", feed(s, b) == ERR_STRING_NUL);
	sftp_server_free(s);

	s = server();
	b = req_begin(SSH2_FXP_OPEN, 1);
	buf_put_cstring(b, "x");
	buf_put_u32(b, SSH2_FXF_READ);
	buf_put_u32(b, SSH2_FILEXFER_ATTR_SIZE); /* size missing */
	T_CHECK("truncated attributes: error", feed(s, b) == ERR_SHORT);
	sftp_server_free(s);

	s = server();
	b = ext_begin(1, "users-groups-by-id@openssh.com");
	buf_put_string(b, "\0\0\0", 3);
	buf_put_string(b, "", 0);
	T_CHECK("id list not a multiple of 4: error", feed(s, b) == ERR_FORMAT);
	sftp_server_free(s);

	s = server();
	b = ext_begin(1, "statvfs@openssh.com");
	buf_put_cstring(b, ".");
	buf_put_cstring(b, "extra");
	T_CHECK("extension with trailing bytes: skipped and answered",
	    feed(s, b) == 0 && sftp_server_output_pending(s) > 0);
	sftp_server_free(s);

	/* Unknown requests are answered, not fatal. */
	s = server();
	b = req_begin(99, 7);
	buf_put_cstring(b, "whatever");
	T_CHECK("unknown type: OP_UNSUPPORTED",
	    feed(s, b) == 0 && status_of(s, 7) == SSH2_FX_OP_UNSUPPORTED);
	b = req_begin(SSH2_FXP_STATUS, 8);
	T_CHECK("a reply type from the client: OP_UNSUPPORTED",
	    feed(s, b) == 0 && status_of(s, 8) == SSH2_FX_OP_UNSUPPORTED);
	b = ext_begin(9, "nonesuch@example.com");
	buf_put_cstring(b, "arbitrary");
	buf_put_u8(b, 1);
	T_CHECK("unknown extension: OP_UNSUPPORTED",
	    feed(s, b) == 0 && status_of(s, 9) == SSH2_FX_OP_UNSUPPORTED);
	T_CHECK("bad handle length: FAILURE",
	    req_str(s, SSH2_FXP_FSTAT, 10, "abc", 3) == 0 &&
	        status_of(s, 10) == SSH2_FX_FAILURE);
	T_CHECK("handle out of range: FAILURE",
	    req_str(s, SSH2_FXP_FSTAT, 11, "\xff\xff\xff\xff", 4) == 0 &&
	        status_of(s, 11) == SSH2_FX_FAILURE);
	sftp_server_free(s);
}

static void
test_handles(void)
{
	struct sftp_server *s = server_with(0, NULL, NULL, 4);
	uint8_t h[5][4];
	int i, ok = 1;

	for (i = 0; i < 4; i++)
		if (open_file(s, ".", SSH2_FXF_READ, 0, h[i]) != 0)
			ok = 0;
	T_CHECK("4 handles open", ok);
	T_CHECK("the 5th: FAILURE",
	    open_status(s, ".", SSH2_FXF_READ) == SSH2_FX_FAILURE);
	T_CHECK("opendir as 5th: FAILURE",
	    req_path(s, SSH2_FXP_OPENDIR, next_id, ".") == 0 &&
	        status_of(s, next_id++) == SSH2_FX_FAILURE);
	T_CHECK("close one", close_handle(s, h[1]) == 0);
	T_CHECK("then one more opens",
	    open_file(s, ".", SSH2_FXF_READ, 0, h[4]) == 0);
	T_CHECK("the freed slot is reused", memcmp(h[4], h[1], 4) == 0);
	T_CHECK("a file handle is not a dir handle",
	    readdir_names(s, h[0], NULL, NULL, 0) == -SSH2_FX_FAILURE);
	/* sftp_server_free closes what is left open. */
	sftp_server_free(s);
}

static void
test_extensions(void)
{
	struct sftp_server *s = server();
	uint8_t h[4], h2[4], h3[4], data[64], type;
	struct buf *b;
	uint32_t id, rid;
	uint64_t v[11];
	char out[SFTP_PATH_MAX], want[SFTP_PATH_MAX];
	struct stat st;
	int i, ok;

	id = next_id++;
	b = ext_begin(id, "limits@openssh.com");
	feed(s, b);
	b = reply(s, &type, &rid);
	ok = b != NULL && type == SSH2_FXP_EXTENDED_REPLY && rid == id;
	for (i = 0; ok && i < 4; i++)
		ok = buf_get_u64(b, &v[i]) == 0;
	T_CHECK("limits",
	    ok && buf_end(b) == 0 && v[0] == 256 * 1024 &&
	        v[1] == 256 * 1024 - 1024 && v[2] == 256 * 1024 - 1024 &&
	        v[3] > 0 && v[3] <= SFTP_MAX_HANDLES_DEFAULT);
	buf_free(b);

	id = next_id++;
	b = ext_begin(id, "statvfs@openssh.com");
	buf_put_cstring(b, ".");
	feed(s, b);
	b = reply(s, &type, &rid);
	ok = b != NULL && type == SSH2_FXP_EXTENDED_REPLY && rid == id;
	for (i = 0; ok && i < 11; i++)
		ok = buf_get_u64(b, &v[i]) == 0;
	T_CHECK("statvfs: 11 fields", ok && buf_end(b) == 0 && v[0] > 0);
	buf_free(b);
	id = next_id++;
	b = ext_begin(id, "statvfs@openssh.com");
	buf_put_cstring(b, "missing");
	T_CHECK("statvfs of a missing path",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_NO_SUCH_FILE);

	write_file("e1", "0123456789abcdef");
	T_CHECK("open e1",
	    open_file(s, "e1", SSH2_FXF_READ | SSH2_FXF_WRITE, 0, h) == 0);
	id = next_id++;
	b = ext_begin(id, "fstatvfs@openssh.com");
	buf_put_string(b, h, 4);
	feed(s, b);
	b = reply(s, &type, &rid);
	T_CHECK("fstatvfs",
	    b != NULL && type == SSH2_FXP_EXTENDED_REPLY && buf_len(b) == 88);
	buf_free(b);
	id = next_id++;
	b = ext_begin(id, "fsync@openssh.com");
	buf_put_string(b, h, 4);
	T_CHECK("fsync", feed(s, b) == 0 && status_of(s, id) == 0);

	/* copy-data: a range, then to EOF, then refusals. */
	T_CHECK("open e2",
	    open_file(s, "e2", SSH2_FXF_READ | SSH2_FXF_WRITE | SSH2_FXF_CREAT,
	        0, h2) == 0);
	id = next_id++;
	b = copy_data_req(id, h, 4, 6, h2, 2);
	T_CHECK(
	    "copy-data of a range", feed(s, b) == 0 && status_of(s, id) == 0);
	T_CHECK("copied bytes",
	    read_at(s, h2, 0, 64, data, sizeof(data)) == 8 &&
	        memcmp(data + 2, "456789", 6) == 0);
	id = next_id++;
	b = copy_data_req(id, h, 10, 0, h2, 0);
	T_CHECK("copy-data to EOF", feed(s, b) == 0 && status_of(s, id) == 0);
	T_CHECK("copied to EOF",
	    read_at(s, h2, 0, 64, data, sizeof(data)) == 8 &&
	        memcmp(data, "abcdef89", 8) == 0);
	id = next_id++;
	b = copy_data_req(id, h, 10, 100, h2, 0);
	T_CHECK("copy-data past EOF: EOF",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_EOF);
	id = next_id++;
	b = copy_data_req(id, h, 0, 1, h, 0);
	T_CHECK("copy-data onto the same handle: FAILURE",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_FAILURE);
	/* A device never ends (or never fills): refused. */
	T_CHECK("open /dev/null",
	    open_file(s, "/dev/null", SSH2_FXF_WRITE, 0, h3) == 0);
	id = next_id++;
	b = copy_data_req(id, h, 0, 0, h3, 0);
	T_CHECK("copy-data into a device: FAILURE",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_FAILURE);
	close_handle(s, h3);
	close_handle(s, h);
	close_handle(s, h2);

	/*
	 * A long copy runs in steps, one per call (a loop turn of the
	 * session); the requests after it wait and keep their order.
	 */
	{
		static char big[9 * 1024 * 1024 + 7];
		uint32_t sid;
		int steps = 0, order_ok;

		memset(big, 'q', sizeof(big) - 1);
		write_file("e4", big);
		T_CHECK("open e4 and e5",
		    open_file(s, "e4", SSH2_FXF_READ, 0, h) == 0 &&
		        open_file(s, "e5",
		            SSH2_FXF_WRITE | SSH2_FXF_CREAT | SSH2_FXF_TRUNC, 0,
		            h2) == 0);
		id = next_id++;
		b = copy_data_req(id, h, 0, 0, h2, 0);
		sid = next_id++;
		{
			struct buf *b2 = req_begin(SSH2_FXP_STAT, sid);

			buf_put_cstring(b2, "e1");
			req_end(b2);
			req_end(b);
			T_CHECK("copy-data and a STAT in one input",
			    buf_put(b, buf_ptr(b2), buf_len(b2)) == 0);
			buf_free(b2);
		}
		T_CHECK("a long copy-data is under way, nothing answered",
		    sftp_server_input(s, buf_ptr(b), buf_len(b)) == 0 &&
		        sftp_server_busy(s) == 1 &&
		        sftp_server_output_pending(s) == 0);
		buf_free(b);
		while (sftp_server_busy(s) && steps < 100) {
			steps++;
			T_CHECK("a step", sftp_server_input(s, NULL, 0) == 0);
		}
		T_CHECK("it ended in a few steps",
		    steps >= 1 && steps < 10 && !sftp_server_busy(s));
		T_CHECK("its status first", status_of(s, id) == 0);
		b = reply(s, &type, &rid);
		order_ok = b != NULL && type == SSH2_FXP_ATTRS && rid == sid;
		buf_free(b);
		T_CHECK("then the STAT after it", order_ok);
		snprintf(out, sizeof(out), "%s/e5", dir);
		T_CHECK("the whole file copied",
		    stat(out, &st) == 0 && st.st_size == (off_t)strlen(big));
		close_handle(s, h);
		close_handle(s, h2);
	}

	id = next_id++;
	b = ext_begin(id, "hardlink@openssh.com");
	buf_put_cstring(b, "e1");
	buf_put_cstring(b, "e3");
	snprintf(out, sizeof(out), "%s/e3", dir);
	T_CHECK("hardlink",
	    feed(s, b) == 0 && status_of(s, id) == 0 && stat(out, &st) == 0 &&
	        st.st_nlink == 2);
	id = next_id++;
	b = ext_begin(id, "hardlink@openssh.com");
	buf_put_cstring(b, "e1");
	buf_put_cstring(b, "e3");
	T_CHECK("hardlink onto an existing name: FAILURE",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_FAILURE);

	id = next_id++;
	b = ext_begin(id, "lsetstat@openssh.com");
	buf_put_cstring(b, "el");
	put_attrs(b, SSH2_FILEXFER_ATTR_ACMODTIME, 0, 0, 5, 1234567890);
	T_CHECK("lsetstat times on a link",
	    symlink("e1", strcat(strcpy(out, dir), "/el")) == 0 &&
	        feed(s, b) == 0 && status_of(s, id) == 0 &&
	        lstat(out, &st) == 0 && st.st_mtime == 1234567890);
	T_CHECK("lsetstat left the target alone",
	    stat(out, &st) == 0 && st.st_mtime != 1234567890);
	id = next_id++;
	b = ext_begin(id, "lsetstat@openssh.com");
	buf_put_cstring(b, "el");
	put_attrs(b, SSH2_FILEXFER_ATTR_SIZE, 0, 0, 0, 0);
	T_CHECK("lsetstat size: BAD_MESSAGE",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_BAD_MESSAGE);

	id = next_id++;
	b = ext_begin(id, "expand-path@openssh.com");
	buf_put_cstring(b, "~");
	T_CHECK("expand-path ~",
	    feed(s, b) == 0 && name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, dir) == 0);
	id = next_id++;
	b = ext_begin(id, "expand-path@openssh.com");
	buf_put_cstring(b, "~/e1/../e3");
	snprintf(want, sizeof(want), "%s/e3", dir);
	T_CHECK("expand-path ~/x",
	    feed(s, b) == 0 && name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, want) == 0);
	id = next_id++;
	b = ext_begin(id, "expand-path@openssh.com");
	buf_put_cstring(b, "~root");
	{
		struct passwd *pw = getpwnam("root");
		char real[SFTP_PATH_MAX];

		T_CHECK("expand-path ~root",
		    feed(s, b) == 0 && name1_of(s, id, out, sizeof(out)) == 0 &&
		        pw != NULL && realpath(pw->pw_dir, real) != NULL &&
		        strcmp(out, real) == 0);
	}
	id = next_id++;
	b = ext_begin(id, "expand-path@openssh.com");
	buf_put_cstring(b, "~nosuchuser_x/y");
	T_CHECK("expand-path of an unknown user: NO_SUCH_FILE",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_NO_SUCH_FILE);

	id = next_id++;
	b = ext_begin(id, "home-directory");
	buf_put_cstring(b, "");
	T_CHECK("home-directory of the user",
	    feed(s, b) == 0 && name1_of(s, id, out, sizeof(out)) == 0 &&
	        strcmp(out, dir) == 0);
	id = next_id++;
	b = ext_begin(id, "home-directory");
	buf_put_cstring(b, "nosuchuser_x");
	T_CHECK("home-directory of an unknown user: FAILURE",
	    feed(s, b) == 0 && status_of(s, id) == SSH2_FX_FAILURE);

	id = next_id++;
	b = ext_begin(id, "users-groups-by-id@openssh.com");
	buf_put_u32(b, 8);
	buf_put_u32(b, 0);
	buf_put_u32(b, 4000000);
	buf_put_u32(b, 4);
	buf_put_u32(b, 0);
	feed(s, b);
	b = reply(s, &type, &rid);
	ok = b != NULL && type == SSH2_FXP_EXTENDED_REPLY && rid == id;
	{
		struct buf *u = buf_new(0), *g = buf_new(0);
		char *n1 = NULL, *n2 = NULL, *g1 = NULL;

		ok = ok && buf_get_stringb(b, u) == 0 &&
		    buf_get_stringb(b, g) == 0 && buf_end(b) == 0 &&
		    buf_get_cstring(u, &n1, NULL) == 0 &&
		    buf_get_cstring(u, &n2, NULL) == 0 && buf_end(u) == 0 &&
		    buf_get_cstring(g, &g1, NULL) == 0 && buf_end(g) == 0;
		T_CHECK("users-groups-by-id",
		    ok && strcmp(n1, "root") == 0 && strcmp(n2, "") == 0 &&
		        strcmp(g1, "root") == 0);
		free(n1);
		free(n2);
		free(g1);
		buf_free(u);
		buf_free(g);
	}
	buf_free(b);
	for (i = 1; i <= 5; i++) {
		snprintf(out, sizeof(out), "%s/e%d", dir, i);
		unlink(out);
	}
	snprintf(out, sizeof(out), "%s/el", dir);
	unlink(out);
	sftp_server_free(s);
}

/* Bytes fed one at a time, and many packets at once, work alike. */
static void
test_framing(void)
{
	struct sftp_server *s = server();
	struct buf *all = buf_new(0), *b;
	char out[SFTP_PATH_MAX];
	size_t i;
	int ok = 1;

	for (i = 0; i < 5; i++) {
		b = req_begin(SSH2_FXP_REALPATH, 500 + (uint32_t)i);
		buf_put_cstring(b, ".");
		req_end(b);
		buf_put(all, buf_ptr(b), buf_len(b));
		buf_free(b);
	}
	for (i = 0; i < buf_len(all); i++)
		if (sftp_server_input(s, buf_ptr(all) + i, 1) != 0)
			ok = 0;
	for (i = 0; i < 5; i++)
		if (name1_of(s, 500 + (uint32_t)i, out, sizeof(out)) != 0)
			ok = 0;
	T_CHECK("byte at a time", ok && sftp_server_output_pending(s) == 0);
	T_CHECK("batch in one call",
	    sftp_server_input(s, buf_ptr(all), buf_len(all)) == 0);
	for (i = 0; i < 5; i++)
		if (name1_of(s, 500 + (uint32_t)i, out, sizeof(out)) != 0)
			ok = 0;
	T_CHECK("five replies in order", ok);
	/* A packet split across calls at every position. */
	for (i = 1; i < buf_len(all) && ok; i += 7) {
		if (sftp_server_input(s, buf_ptr(all), i) != 0 ||
		    sftp_server_input(s, buf_ptr(all) + i, buf_len(all) - i) !=
		        0)
			ok = 0;
		for (size_t j = 0; j < 5; j++)
			if (name1_of(s, 500 + (uint32_t)j, out, sizeof(out)) !=
			    0)
				ok = 0;
	}
	T_CHECK("split at many places", ok);
	/* Found by fuzz_sftp: a resume while a partial packet is held. */
	T_CHECK("resume with a partial packet held",
	    sftp_server_input(s, buf_ptr(all), 6) == 0 &&
	        sftp_server_input(s, NULL, 0) == 0 &&
	        sftp_server_input(s, buf_ptr(all) + 6, buf_len(all) - 6) == 0);
	for (i = 0; i < 5; i++)
		if (name1_of(s, 500 + (uint32_t)i, out, sizeof(out)) != 0)
			ok = 0;
	T_CHECK("and the packet completes later", ok);
	buf_free(all);
	sftp_server_free(s);
}

/* 64 pipelined 32 KiB reads: the output queue stays bounded. */
static void
test_backpressure(void)
{
	struct sftp_server *s = server();
	static uint8_t data[32768];
	struct buf *all = buf_new(0), *b;
	const uint8_t *p;
	uint8_t h[4], type;
	uint32_t rid, i, expect = 1000;
	size_t max_pending = 0, n, got = 0;
	int ok = 1, stalled = 0, rounds = 0;

	memset(data, 'z', sizeof(data));
	T_CHECK("big file",
	    open_file(s, "bp", SSH2_FXF_WRITE | SSH2_FXF_CREAT, 0, h) == 0);
	for (i = 0; i < 64; i++)
		write_at(s, h, (uint64_t)i * sizeof(data), data, sizeof(data));
	close_handle(s, h);
	T_CHECK("open big file", open_file(s, "bp", SSH2_FXF_READ, 0, h) == 0);
	for (i = 0; i < 64; i++) {
		b = req_begin(SSH2_FXP_READ, 1000 + i);
		buf_put_string(b, h, 4);
		buf_put_u64(b, (uint64_t)i * sizeof(data));
		buf_put_u32(b, sizeof(data));
		req_end(b);
		buf_put(all, buf_ptr(b), buf_len(b));
		buf_free(b);
	}
	T_CHECK("64 reads in",
	    sftp_server_input(s, buf_ptr(all), buf_len(all)) == 0);
	T_CHECK("engine stops taking input", sftp_server_want_input(s) == 0);
	while (got < 64 && rounds++ < 1000) {
		if (sftp_server_output_pending(s) > max_pending)
			max_pending = sftp_server_output_pending(s);
		if (sftp_server_want_input(s) == 0)
			stalled = 1;
		/* Take one reply at a time, as a slow channel would. */
		while ((b = reply(s, &type, &rid)) != NULL) {
			if (type != SSH2_FXP_DATA || rid != expect++ ||
			    buf_get_string_direct(b, &p, &n) != 0 ||
			    n != sizeof(data) || p[0] != 'z')
				ok = 0;
			buf_free(b);
			got++;
			break;
		}
		if (sftp_server_input(s, NULL, 0) != 0)
			ok = 0;
	}
	T_CHECK("all 64 replies, in order", ok && got == 64);
	T_CHECK("held back while full", stalled);
	T_CHECK(
	    "queue bounded", max_pending < SFTP_OUT_HIGH + sizeof(data) + 64);
	T_CHECK("wants input again", sftp_server_want_input(s) == 1);
	close_handle(s, h);
	buf_free(all);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/bp", dir);
		unlink(path);
	}
	sftp_server_free(s);
}

static char logged[8192];

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	size_t n = strlen(logged);

	(void)level;
	(void)ctx;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

/* -l INFO logs transactions in OpenSSH's words; the default, ERROR, not. */
static void
test_logging(void)
{
	struct sftp_options o;
	struct sftp_server *s;
	struct buf *b;
	uint8_t h[4], type;
	uint32_t id;
	char path[256];

	log_set_handler(capture, NULL);
	log_set_level(LL_ERROR);
	sftp_options_init(&o);
	o.start_dir = dir;
	o.user = "tester";
	o.client_addr = "192.0.2.1";
	o.log_level = LL_INFO;
	s = sftp_server_new(&o);
	b = req_begin(SSH2_FXP_INIT, 0);
	buf_put_u32(b, 3);
	feed(s, b);
	buf_free(reply(s, &type, &id));
	open_file(
	    s, "lg", SSH2_FXF_WRITE | SSH2_FXF_CREAT | SSH2_FXF_TRUNC, 0644, h);
	write_at(s, h, 0, "hello", 5);
	close_handle(s, h);
	open_status(s, "missing\001", SSH2_FXF_READ);
	sftp_server_free(s);
	T_CHECK("log: session opened",
	    strstr(logged,
	        "session opened for local user tester from "
	        "[192.0.2.1]\n") != NULL);
	T_CHECK("log: open",
	    strstr(logged,
	        "open \"lg\" flags "
	        "WRITE,CREATE,TRUNCATE mode "
	        "0644\n") != NULL);
	T_CHECK("log: close",
	    strstr(logged, "close \"lg\" bytes read 0 written 5\n") != NULL);
	T_CHECK("log: a failure's status",
	    strstr(logged, "sent status No such file\n") != NULL);
	/* Raw to the host: log_emit() escapes whole lines (test_log). */
	T_CHECK("log: client strings reach the host as sent",
	    strstr(logged, "open \"missing\001\"") != NULL);
	T_CHECK("log: session closed",
	    strstr(logged,
	        "session closed for local user tester from "
	        "[192.0.2.1]\n") != NULL);
	T_CHECK(
	    "log: the process level is restored", log_get_level() == LL_ERROR);

	logged[0] = '\0';
	o.log_level = LL_ERROR;
	s = sftp_server_new(&o);
	b = req_begin(SSH2_FXP_INIT, 0);
	buf_put_u32(b, 3);
	feed(s, b);
	buf_free(reply(s, &type, &id));
	open_status(s, "missing", SSH2_FXF_READ);
	sftp_server_free(s);
	T_CHECK("log: nothing at -l ERROR", logged[0] == '\0');
	log_set_handler(NULL, NULL);
	log_set_level(LL_QUIET);
	snprintf(path, sizeof(path), "%s/lg", dir);
	unlink(path);
}

static int
parse(const char *line, struct sftp_options *o, const char **msg)
{
	char copy[256], *argv[16], *p;
	int argc = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (p = strtok(copy, " "); p != NULL && argc < 15;
	     p = strtok(NULL, " "))
		argv[argc++] = p;
	argv[argc] = NULL;
	sftp_options_init(o);
	return sftp_parse_options(argc, argv, o, msg);
}

/* internal-sftp's command line split as OpenSSH's argv_split does. */
static void
test_split_args(void)
{
	char line[128], *argv[8];
	int n;

	snprintf(line, sizeof(line), "internal-sftp  -d '/a b' -P\t\"x y\"");
	n = sftp_split_args(line, argv, 8);
	T_CHECK("split: quotes group, blanks separate",
	    n == 5 && strcmp(argv[0], "internal-sftp") == 0 &&
	        strcmp(argv[1], "-d") == 0 && strcmp(argv[2], "/a b") == 0 &&
	        strcmp(argv[3], "-P") == 0 && argv[4] != NULL &&
	        strcmp(argv[4], "x y") == 0 && argv[5] == NULL);
	snprintf(line, sizeof(line), "a\\ b c\\'d \"e\\\"f\"");
	n = sftp_split_args(line, argv, 8);
	T_CHECK("split: backslash escapes a blank and quotes",
	    n == 3 && strcmp(argv[0], "a b") == 0 &&
	        strcmp(argv[1], "c'd") == 0 && strcmp(argv[2], "e\"f") == 0);
	snprintf(line, sizeof(line), "a 'unterminated");
	T_CHECK("split: unterminated quote refused",
	    sftp_split_args(line, argv, 8) == -1);
	snprintf(line, sizeof(line), "a b c d");
	T_CHECK("split: too many words refused",
	    sftp_split_args(line, argv, 4) == -1);
	snprintf(line, sizeof(line), "   ");
	T_CHECK("split: blank line has no words",
	    sftp_split_args(line, argv, 4) == 0 && argv[0] == NULL);
}

static void
test_options(void)
{
	struct sftp_options o;
	const char *msg;
	static char line[] = "internal-sftp -R -u 027 -l VERBOSE -f LOCAL0 "
	                     "-d /srv/%u -P remove,rmdir -p read,open -e";

	T_CHECK("defaults",
	    parse("internal-sftp", &o, &msg) == 0 && o.umask == -1 &&
	        o.log_level == LL_ERROR && o.read_only == 0 &&
	        o.log_facility == -1);
	T_CHECK("every flag",
	    parse(line, &o, &msg) == 0 && o.read_only && o.umask == 027 &&
	        o.log_level == LL_VERBOSE &&
	        o.log_facility == log_facility_from_name("LOCAL0") &&
	        o.log_stderr == 0 + 1 && o.start_dir != NULL);
	T_CHECK("attached arguments and grouped flags",
	    parse("sftp-server -eRlDEBUG3 -u077", &o, &msg) == 0 &&
	        o.read_only && o.log_stderr && o.log_level == LL_DEBUG3 &&
	        o.umask == 077);
	T_CHECK("bad umask", parse("x -u 999", &o, &msg) == ERR_CONFIG);
	T_CHECK("umask not octal", parse("x -u 08", &o, &msg) == ERR_CONFIG);
	T_CHECK("bad level", parse("x -l LOUD", &o, &msg) == ERR_CONFIG);
	T_CHECK("bad facility", parse("x -f KERN", &o, &msg) == ERR_CONFIG);
	T_CHECK("unknown flag", parse("x -z", &o, &msg) == ERR_CONFIG);
	T_CHECK("-h", parse("x -h", &o, &msg) == ERR_CONFIG);
	T_CHECK("missing argument", parse("x -d", &o, &msg) == ERR_CONFIG);
	T_CHECK("-P twice", parse("x -P a -P b", &o, &msg) == ERR_CONFIG);
	T_CHECK("-Q requests",
	    parse("x -Q requests", &o, &msg) == 0 && o.query_requests);
	T_CHECK("-Q other", parse("x -Q ciphers", &o, &msg) == ERR_CONFIG);
	T_CHECK("-c ends the flags",
	    parse("x -R -c -z whatever", &o, &msg) == 0 && o.read_only);
	T_CHECK("request names",
	    strcmp(sftp_request_name(0), "open") == 0 &&
	        sftp_request_name(100) == NULL);
}

static void
test_start_dir(void)
{
	struct sftp_options o;
	struct sftp_server *s;
	char sub[128], tmpl[128];

	snprintf(sub, sizeof(sub), "%s/tester", dir);
	mkdir(sub, 0755);
	sftp_options_init(&o);
	o.log_level = LL_QUIET;
	o.home = dir;
	o.user = "tester";
	snprintf(tmpl, sizeof(tmpl), "%%d/%%u");
	o.start_dir = tmpl;
	s = sftp_server_new(&o);
	T_CHECK("-d %d/%u", s != NULL && strcmp(s->cwd_path, sub) == 0);
	sftp_server_free(s);
	o.start_dir = "~/tester";
	s = sftp_server_new(&o);
	T_CHECK("-d ~/x", s != NULL && strcmp(s->cwd_path, sub) == 0);
	sftp_server_free(s);
	o.start_dir = "tester";
	s = sftp_server_new(&o);
	T_CHECK("-d relative: from the home",
	    s != NULL && strcmp(s->cwd_path, sub) == 0);
	sftp_server_free(s);
	o.start_dir = "%x";
	s = sftp_server_new(&o);
	T_CHECK("-d with an unknown token fails", s == NULL);
	o.start_dir = "/nonexistent/dir";
	s = sftp_server_new(&o);
	T_CHECK("-d missing: home instead",
	    s != NULL && strcmp(s->cwd_path, dir) == 0);
	sftp_server_free(s);
	rmdir(sub);
}

/* A host's log function that leaves errno changed, as syslog(3) may. */
static void
log_clobbers_errno(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
	errno = EINVAL;
}

/*
 * sftp_server_new's errno is the failure's, not what logging left:
 * sftp_host_open takes EINVAL for a -d sftp-server refuses (exit 255,
 * no "cannot start" line), so a failure logged on the way must keep it.
 */
static void
test_start_errno(void)
{
	struct sftp_options o;
	struct sftp_server *s;
	char gone[128];
	int fd, saved;

	snprintf(gone, sizeof(gone), "%s/gone", dir);
	if ((fd = open(".", O_RDONLY | O_DIRECTORY)) == -1 ||
	    mkdir(gone, 0755) != 0 || chdir(gone) != 0 || rmdir(gone) != 0) {
		T_CHECK("start errno: setup", 0);
		if (fd != -1)
			close(fd);
		return;
	}
	sftp_options_init(&o);
	o.user = "tester";
	o.log_fn = log_clobbers_errno;
	/* No -d, no home, and "." is gone: nothing to start in. */
	errno = 0;
	s = sftp_server_new(&o);
	saved = errno;
	if (fchdir(fd) != 0)
		T_CHECK("start errno: back to the directory", 0);
	close(fd);
	T_CHECK("start errno: no directory, the failure's errno (ENOENT)",
	    s == NULL && saved == ENOENT);
	sftp_server_free(s);
}

int
main(void)
{
	char *real;

	log_init("test_sftp", LL_QUIET, 0, 1);
	snprintf(dir, sizeof(dir), "/tmp/test_sftp.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* /tmp may be a link: compare against the resolved name. */
	if ((real = realpath(dir, NULL)) != NULL) {
		snprintf(dir, sizeof(dir), "%s", real);
		free(real);
	}
	test_init();
	test_files();
	test_umask();
	test_stat_setstat();
	test_readdir();
	test_paths();
	test_read_only();
	test_request_lists();
	test_malformed();
	test_handles();
	test_extensions();
	test_framing();
	test_backpressure();
	test_options();
	test_split_args();
	test_start_dir();
	test_start_errno();
	test_logging();
	if (rmdir(dir) != 0)
		printf("# leftover files in %s\n", dir);
	T_CHECK("temp dir removed", rmdir(dir) != 0 && errno == ENOENT);
	return T_DONE();
}
