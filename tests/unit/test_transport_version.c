/*
 * test_transport_version.c: the client's identification line as sshd 9.2
 * reads it (lib/transport.c scan_version): "SSH-%d.%d-%[^\n]", then
 * protocol 2 or 1.99; what a refused line gets back on the wire.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "tests/unit/t.h"
#include "tests/unit/t_transport.h"

enum want { OK, BAD, OTHER_PROTOCOL, NOT_SSH, SCANNER };

static const struct {
	const char *line;
	enum want want;
} cases[] = {
    {"SSH-2.0-OpenSSH_9.2p1 Debian-2", OK},
    {"SSH-1.99-old", OK},
    {"SSH-2.5-minor", OK},
    {"SSH-02.0-zero", OK},
    {"SSH- 2.0-space", OK}, /* %d skips white space */
    {"SSH-+2.0-sign", OK},
    {"SSH-2.0-x y\001z", OK},
    {"SSH-2.0-", BAD}, /* no software version */
    {"SSH-2.0", BAD},
    {"SSH-2-nominor", BAD},
    {"SSH-x.0-letters", BAD},
    {"SSH-2.-x", BAD},
    {"SSH-1.5-old", OTHER_PROTOCOL},
    {"SSH-1.98-x", OTHER_PROTOCOL},
    {"SSH-3.0-x", OTHER_PROTOCOL},
    {"SSH--2.0-x", OTHER_PROTOCOL},
    /* glibc's sscanf: strtol's LONG_MAX cut to an int, -1 */
    {"SSH-99999999999999999999999.0-x", OTHER_PROTOCOL},
    /* 2^32 + 2 cut to an int is 2; 2^32 + 99 is 99 */
    {"SSH-4294967298.0-wraps", OK},
    {"SSH-1.4294967395-wraps", OK},
    {"SSH-9223372036854775807.0-x", OTHER_PROTOCOL},
    {"SSH--9223372036854775808.0-x", OTHER_PROTOCOL},
    {"SSH-18446744073709551618.0-x", OTHER_PROTOCOL},
    /* sshd's compat patterns "Probe-*" and "*SSH_Version_Mapper*" */
    {"SSH-2.0-Probe-x", SCANNER},
    {"SSH-1.99-Probe-", SCANNER},
    {"SSH-2.0-a SSH_Version_Mapper b", SCANNER},
    {"SSH-2.0-probe-x", OK},
    {"SSH-2.0-xProbe-y", OK},
    {"SSH-1.5-Probe-x", OTHER_PROTOCOL},
    {"SSH-", NOT_SSH},
    {"GET / HTTP/1.0", NOT_SSH},
};

/* Everything the server sent (its identification, its binary KEXINIT
 * and any answer) until it closed: its length, 0 if it did not fit. */
static size_t
drain(int fd, char *out, size_t outlen)
{
	size_t have = 0;
	ssize_t n;

	while (have < outlen - 1 &&
	    (n = read(fd, out + have, outlen - 1 - have)) > 0)
		have += (size_t)n;
	out[have] = '\0';
	return have < outlen - 1 ? have : 0;
}

/*
 * What the transport makes of a line given as len bytes from bytes (no
 * NUL added): the next_packet result, ERR_AGAIN once accepted.
 */
static int
feed_raw(const char *bytes, size_t len, int *accepted)
{
	struct transport *t;
	struct buf *payload;
	uint8_t type;
	int sv[2], r;

	if ((t = t_transport_new(sv)) == NULL)
		return ERR_SYSTEM;
	(void)transport_write(t);
	if (write(sv[1], bytes, len) != (ssize_t)len) {
		transport_free(t);
		return ERR_SYSTEM;
	}
	(void)transport_read(t);
	r = transport_next_packet(t, &type, &payload);
	*accepted = transport_peer_version(t) != NULL;
	transport_free(t);
	close(sv[0]);
	close(sv[1]);
	return r;
}

/* sshd's limit is 8192 bytes before the LF; CRs count here too. */
static void
test_line_limit(void)
{
	static char line[8192 + 8];
	int accepted, r;

	memcpy(line, "SSH-2.0-", 8);
	memset(line + 8, 'a', 8192 - 8);
	memcpy(line + 8192, "\r\n", 2);
	r = feed_raw(line, 8192 + 2, &accepted);
	T_CHECK("8192 bytes, CR, LF: accepted", r == ERR_AGAIN && accepted);
	memcpy(line + 8192, "\r\r\n", 3);
	r = feed_raw(line, 8192 + 3, &accepted);
	T_CHECK(
	    "8192 bytes and two CRs: too long", r == ERR_PROTOCOL && !accepted);
	memset(line, '\r', sizeof(line));
	r = feed_raw(line, sizeof(line), &accepted);
	T_CHECK("CRs and no LF: too long (not waiting for more)",
	    r == ERR_PROTOCOL && !accepted);
}

int
main(void)
{
	static const char bad[] = "Invalid SSH identification string.\r\n";
	static const char other[] = "Protocol major versions differ.\r\n";
	struct transport *t;
	struct buf *payload;
	char line[256], tail[16384], name[320];
	uint8_t type;
	size_t i, n;
	int sv[2], r, refused, other_protocol, accepted;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((t = t_transport_new(sv)) == NULL)
			return 1;
		(void)transport_write(t);
		n = (size_t)snprintf(
		    line, sizeof(line), "%s\r\n", cases[i].line);
		if (write(sv[1], line, n) != (ssize_t)n)
			return 1;
		(void)transport_read(t);
		r = transport_next_packet(t, &type, &payload);
		refused = transport_version_refused(t);
		other_protocol = refused == TRANSPORT_VERSION_OTHER;
		accepted = transport_peer_version(t) != NULL;
		transport_free(t);
		close(sv[0]);
		n = drain(sv[1], tail, sizeof(tail));
		close(sv[1]);
		snprintf(name, sizeof(name), "%s: %s", cases[i].line,
		    cases[i].want == OK            ? "accepted"
		        : cases[i].want == BAD     ? "bad format"
		        : cases[i].want == NOT_SSH ? "not an identification"
		        : cases[i].want == SCANNER ? "scanner, told nothing"
		                                   : "other protocol");
		switch (cases[i].want) {
		case OK:
			T_CHECK(name, r == ERR_AGAIN && accepted);
			break;
		case BAD:
		case NOT_SSH:
			T_CHECK(name,
			    r == ERR_PROTOCOL && refused == 0 &&
			        n >= sizeof(bad) - 1 &&
			        memcmp(tail + n - (sizeof(bad) - 1), bad,
			            sizeof(bad) - 1) == 0);
			break;
		case SCANNER:
			T_CHECK(name,
			    r == ERR_PROTOCOL &&
			        refused == TRANSPORT_VERSION_PROBE &&
			        memmem(tail, n, bad, sizeof(bad) - 1) == NULL &&
			        memmem(tail, n, other, sizeof(other) - 1) ==
			            NULL);
			break;
		case OTHER_PROTOCOL:
			T_CHECK(name,
			    r == ERR_PROTOCOL && other_protocol &&
			        n >= sizeof(other) - 1 &&
			        memcmp(tail + n - (sizeof(other) - 1), other,
			            sizeof(other) - 1) == 0);
			break;
		}
	}
	test_line_limit();
	return T_DONE();
}
