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
#include "ipc.h"
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
#define AGENT_TIMEOUT_S 10 /* a stuck agent is an error, not a hang */

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
	/* ipc_send has no deadline of its own; the reply has one. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
hostkey_agent_probe(const char *sock)
{
	int fd;

	if ((fd = agent_connect(sock)) < 0)
		return -1;
	close(fd);
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
	size_t siglen;
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
	    (r = buf_put_stringb(req, blob)) != 0 ||
	    (r = buf_put_string(req, data, datalen)) != 0 ||
	    (r = buf_put_u32(req, sign_flags(alg))) != 0)
		goto out;
	/* The agent protocol frames messages as postern's IPC does. */
	if ((fd = agent_connect(sock)) < 0) {
		r = ERR_SYSTEM;
		why = strerror(errno);
		goto out;
	}
	if ((r = ipc_send(fd, AGENTC_SIGN_REQUEST, req, -1)) != 0 ||
	    (r = ipc_recv_timeout(fd, &type, rep, NULL, AGENT_REPLY_MAX,
	         AGENT_TIMEOUT_S * 1000)) != 0) {
		why = r == ERR_EOF || r == ERR_SHORT
		    ? "agent closed the connection"
		    : err_str(r);
		goto out;
	}
	r = ERR_SIGNATURE;
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
