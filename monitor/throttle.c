/*
 * throttle.c: PerSourceNetBlockSize blocks and sshd's MaxStartups
 * throttling log lines (throttle.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <netdb.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "monitor/throttle.h"

/* sshd logs throttling still going on this often, in seconds. */
#define THROTTLE_LOG_INTERVAL (5 * 60)

static void
mask_bits(uint8_t *a, size_t len, int bits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			a[i] &= (uint8_t)(0xff << (8 - bits));
			bits = 0;
		}
	}
}

void
sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in s4;

	if (ss->ss_family != AF_INET6 ||
	    *len < (socklen_t)sizeof(struct sockaddr_in6) ||
	    !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = s6->sin6_port;
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
	*len = sizeof(s4);
}

void
source_block_of(const struct sockaddr *sa, socklen_t len, int v4bits,
    int v6bits, struct source_block *out)
{
	struct sockaddr_storage ss;

	memset(out, 0, sizeof(*out));
	if (len > (socklen_t)sizeof(ss))
		return;
	memcpy(&ss, sa, len);
	sockaddr_unmap(&ss, &len);
	if (ss.ss_family == AF_INET &&
	    len >= (socklen_t)sizeof(struct sockaddr_in)) {
		out->family = AF_INET;
		memcpy(out->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6 &&
	    len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		out->family = AF_INET6;
		memcpy(out->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	} else
		return;
	if (out->family == AF_INET)
		mask_bits(out->addr, 4, v4bits);
	else
		mask_bits(out->addr, 16, v6bits);
}

int
source_block_eq(const struct source_block *a, const struct source_block *b)
{
	return a->family != 0 && a->family == b->family &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

void
throttle_timeframe(time_t secs, char *buf, size_t len)
{
	long t = (long)(secs < 0 ? 0 : secs);
	long m = t / 60 % 60, h = t / 3600 % 24, d = t / 86400 % 7;

	if (t < 86400)
		snprintf(buf, len, "%02ld:%02ld:%02ld", h, m, t % 60);
	else if (t < 7 * 86400)
		snprintf(buf, len, "%ldd%02ldh%02ldm", d, h, m);
	else
		snprintf(buf, len, "%02ldw%ldd%02ldh", t / (7 * 86400), d, h);
}

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* Never 0, which means "not throttling". */
	return ts.tv_sec + 1;
}

void
throttle_pass(struct throttle *t, size_t nstartups, int begin)
{
	char when[32];

	if (t->last_drop == 0 || (long)nstartups >= (long)begin - 1)
		return;
	throttle_timeframe(now_s() - t->first_drop, when, sizeof(when));
	logit("exited MaxStartups throttling after %s, %u connections dropped",
	    when, t->ndropped);
	t->last_drop = 0;
}

int
socket_end_name(int fd, int local, char host[NI_MAXHOST], char port[NI_MAXSERV])
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int r;

	r = local ? getsockname(fd, (struct sockaddr *)&ss, &sl)
	          : getpeername(fd, (struct sockaddr *)&ss, &sl);
	/* No IP socket (inetd mode over pipes): as conn_info_fill. */
	if (r == 0 && ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
		snprintf(host, NI_MAXHOST, "UNKNOWN");
		snprintf(port, NI_MAXSERV, "65535");
		return 0;
	}
	/*
	 * A v4-mapped address (an IPv4 client on a dual-stack socket, as
	 * systemd's ListenStream=22 makes) as plain IPv4, as sshd and the
	 * monitor name it: the same text in every log line, and what
	 * PerSourcePenaltyExemptList's IPv4 entries are matched against.
	 */
	if (r == 0)
		sockaddr_unmap(&ss, &sl);
	if (r != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, NI_MAXHOST, port,
	        NI_MAXSERV, NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(host, NI_MAXHOST, "UNKNOWN");
		snprintf(port, NI_MAXSERV, "0");
	}
	return r;
}

void
throttle_drop(struct throttle *t, int fd, size_t nstartups)
{
	static const char msg[] = "Exceeded MaxStartups\r\n";
	char when[32], host[NI_MAXHOST], port[NI_MAXSERV];
	char lhost[NI_MAXHOST], lport[NI_MAXSERV];
	enum log_level level = LL_VERBOSE;
	time_t now = now_s();

	if (t->last_drop == 0) {
		error("beginning MaxStartups throttling");
		level = LL_INFO;
		t->first_drop = now;
		t->ndropped = 0;
	} else if (t->last_drop + THROTTLE_LOG_INTERVAL < now) {
		throttle_timeframe(now - t->first_drop, when, sizeof(when));
		error(
		    "in MaxStartups throttling for %s, %u connections dropped",
		    when, t->ndropped + 1);
		level = LL_INFO;
	}
	t->last_drop = now;
	t->ndropped++;
	/* A client that reset before the accept: port -1 and the debug line
	 * of sshd 9.2's get_peer_port(). */
	if (socket_end_name(fd, 0, host, port) != 0) {
		debug("getpeername failed: %.100s", strerror(errno));
		snprintf(port, sizeof(port), "-1");
	}
	socket_end_name(fd, 1, lhost, lport);
	log_msg(level, __func__, 0,
	    "drop connection #%zu from [%s]:%s on [%s]:%s past MaxStartups",
	    nstartups, host, port, lhost, lport);
	(void)send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}
