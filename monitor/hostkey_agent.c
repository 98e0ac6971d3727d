/*
 * hostkey_agent.c: SSH_AGENTC_SIGN_REQUEST for host keys held by an
 * ssh-agent (hostkey_agent.h).
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "monitor/hostkey_agent.h"
#include "sshkey.h"

/* draft-miller-ssh-agent */
#define AGENT_FAILURE 5
#define AGENTC_SIGN_REQUEST 13
#define AGENT_SIGN_RESPONSE 14
#define AGENT_RSA_SHA2_256 0x02
#define AGENT_RSA_SHA2_512 0x04

#define AGENT_REPLY_MAX (256 * 1024)
#define AGENT_TIMEOUT_S 10 /* per read or write: a stuck agent is an error */

static int
agent_connect(const char *sock)
{
	struct timeval tv = {AGENT_TIMEOUT_S, 0};
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* All of len bytes to or from fd; 0, or -1 with errno (0 on EOF). */
static int
io_all(int fd, uint8_t *p, size_t len, int writing)
{
	ssize_t n;

	while (len > 0) {
		n = writing ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint32_t
sign_flags(const char *alg)
{
	if (strcmp(alg, "rsa-sha2-256") == 0)
		return AGENT_RSA_SHA2_256;
	if (strcmp(alg, "rsa-sha2-512") == 0)
		return AGENT_RSA_SHA2_512;
	return 0;
}

int
hostkey_agent_sign(const char *sock, const struct sshkey *key, struct buf *out,
    const uint8_t *data, size_t datalen, const char *alg)
{
	struct buf *blob = NULL, *req = NULL, *rep = NULL;
	const uint8_t *sig;
	uint8_t head[4], *p;
	size_t siglen;
	uint32_t len;
	uint8_t type;
	const char *why = NULL;
	int fd = -1, r;

	if ((blob = buf_new(16384)) == NULL ||
	    (req = buf_new(16384 + datalen + 64)) == NULL ||
	    (rep = buf_new(AGENT_REPLY_MAX)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = sshkey_to_blob(key, blob)) != 0 ||
	    (r = buf_put_u32(req, 0)) != 0 || /* length, set below */
	    (r = buf_put_u8(req, AGENTC_SIGN_REQUEST)) != 0 ||
	    (r = buf_put_stringb(req, blob)) != 0 ||
	    (r = buf_put_string(req, data, datalen)) != 0 ||
	    (r = buf_put_u32(req, sign_flags(alg))) != 0)
		goto out;
	p = buf_mutable_ptr(req);
	len = (uint32_t)(buf_len(req) - 4);
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	r = ERR_SYSTEM;
	if ((fd = agent_connect(sock)) < 0) {
		why = strerror(errno);
		goto out;
	}
	if (io_all(fd, buf_mutable_ptr(req), buf_len(req), 1) != 0 ||
	    io_all(fd, head, sizeof(head), 0) != 0) {
		why = errno ? strerror(errno) : "agent closed the connection";
		goto out;
	}
	len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
	    (uint32_t)head[2] << 8 | head[3];
	if (len == 0 || len > AGENT_REPLY_MAX) {
		why = "bad reply length";
		goto out;
	}
	if ((r = buf_reserve(rep, len, &p)) != 0)
		goto out;
	r = ERR_SYSTEM;
	if (io_all(fd, p, len, 0) != 0) {
		why = errno ? strerror(errno) : "agent closed the connection";
		goto out;
	}
	r = ERR_SIGNATURE;
	if (buf_get_u8(rep, &type) != 0) {
		why = "empty reply";
		goto out;
	}
	if (type == AGENT_FAILURE) {
		why = "agent refused operation";
		goto out;
	}
	if (type != AGENT_SIGN_RESPONSE ||
	    buf_get_string_direct(rep, &sig, &siglen) != 0 ||
	    buf_end(rep) != 0) {
		why = "unexpected reply";
		goto out;
	}
	/* The agent is trusted with the key, not with what it answers. */
	if (sshkey_verify(key, sig, siglen, data, datalen, alg, 0) != 0) {
		why = "signature does not verify";
		goto out;
	}
	r = buf_put(out, sig, siglen);
out:
	if (why != NULL)
		error("agent sign: %s", why);
	if (fd >= 0)
		close(fd);
	buf_free(blob);
	buf_free(req);
	buf_free(rep);
	return r;
}
