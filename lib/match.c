/* match.c: wildcard, list, negation and CIDR matching as OpenSSH defines. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

static int
match_pattern_case(const char *s, const char *p, int icase)
{
	/* Iterative glob with single-star backtracking: linear enough. */
	const char *star = NULL, *ss = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			ss = s;
		} else if (*p == '?' ||
		    (icase ? tolower((unsigned char)*p) ==
		                tolower((unsigned char)*s)
		           : *p == *s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++ss;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0' && *s == '\0';
}

int
match_pattern(const char *s, const char *pattern)
{
	return match_pattern_case(s, pattern, 0);
}

/* Walk a comma list; fn judges one (non-negated) entry. */
static int
match_list(const char *s, const char *list,
    int (*fn)(const char *s, const char *entry, void *ctx), void *ctx)
{
	char *copy, *entry, *save = NULL;
	int got = 0, neg, r;

	if ((copy = strdup(list)) == NULL)
		return 0;
	for (entry = strtok_r(copy, ",", &save); entry != NULL;
	     entry = strtok_r(NULL, ",", &save)) {
		neg = entry[0] == '!';
		if (neg)
			entry++;
		r = fn(s, entry, ctx);
		if (r == -2) {
			got = -2;
			break;
		}
		if (r == 1) {
			if (neg) {
				got = -1;
				break;
			}
			got = 1;
		}
	}
	free(copy);
	return got;
}

static int
entry_pattern(const char *s, const char *entry, void *ctx)
{
	return match_pattern_case(s, entry, *(int *)ctx);
}

int
match_pattern_list(const char *s, const char *list, int icase)
{
	return match_list(s, list, entry_pattern, &icase);
}

/*
 * numeric_addr: an IPv4 or IPv6 address as OpenSSH's addr_pton() reads
 * one, getaddrinfo(AI_NUMERICHOST): IPv4 in inet_aton(3)'s forms too
 * ("127.1", "10" is 0.0.0.10, octal and hex parts). 0, or -1 if it is none.
 */
static int
numeric_addr(const char *s, int *family, unsigned char *a)
{
	struct addrinfo hints, *ai = NULL;
	int r = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(s, NULL, &hints, &ai) != 0 || ai == NULL)
		return -1;
	if (ai->ai_family == AF_INET &&
	    ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
		memcpy(a, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		*family = AF_INET;
		r = 0;
	} else if (ai->ai_family == AF_INET6 &&
	    ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
		memcpy(a, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		*family = AF_INET6;
		r = 0;
	}
	freeaddrinfo(ai);
	return r;
}

/* Parse "addr[/bits]" into family, bytes and prefix length. */
static int
parse_cidr(const char *entry, int *family, unsigned char *a, int *bits)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *ep;
	long b;

	if (strlen(entry) >= sizeof(buf))
		return -1;
	strcpy(buf, entry);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (numeric_addr(buf, family, a) != 0)
		return -1;
	*bits = *family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		b = strtol(slash, &ep, 10);
		if (*slash == '\0' || *ep != '\0' || b < 0 || b > *bits)
			return -1;
		*bits = (int)b;
	}
	return 0;
}

static int
prefix_equal(const unsigned char *x, const unsigned char *y, int bits)
{
	int i, full = bits / 8, rem = bits % 8;

	for (i = 0; i < full; i++)
		if (x[i] != y[i])
			return 0;
	if (rem != 0 && ((x[full] ^ y[full]) & (0xff << (8 - rem)) & 0xff))
		return 0;
	return 1;
}

static int
entry_addr(const char *addr, const char *entry, void *ctx)
{
	unsigned char net[16], host[16];
	int fam, hfam, bits, hbits;

	(void)ctx;
	/* Entries with wildcards are plain patterns (e.g. 192.168.*). */
	if (strpbrk(entry, "*?") != NULL)
		return addr != NULL && match_pattern(addr, entry);
	if (parse_cidr(entry, &fam, net, &bits) != 0)
		return -2;
	/* A CIDR with host bits set is malformed, as OpenSSH says. */
	{
		unsigned char masked[16];
		int i;

		memcpy(masked, net, sizeof(masked));
		for (i = bits; i < (fam == AF_INET ? 32 : 128); i++)
			masked[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
		if (memcmp(masked, net, fam == AF_INET ? 4 : 16) != 0)
			return -2;
	}
	if (addr == NULL || parse_cidr(addr, &hfam, host, &hbits) != 0 ||
	    hfam != fam)
		return 0;
	return prefix_equal(host, net, bits);
}

int
match_addr_list(const char *addr, const char *list)
{
	return match_list(addr, list, entry_addr, NULL);
}

/*
 * How OpenSSH's addr_pton_cidr() takes one list entry: 0 an address or
 * CIDR block, -1 not one (it is then a wildcard pattern), -2 a CIDR block
 * with an impossible mask. Host bits set are left to match_addr_list().
 */
static int
cidr_kind(const char *entry)
{
	unsigned char a[16];
	char addr[64], *slash, *end;
	unsigned long bits = 0;
	int family;

	if (strlen(entry) >= sizeof(addr))
		return -1;
	strcpy(addr, entry);
	if ((slash = strchr(addr, '/')) != NULL) {
		*slash++ = '\0';
		if (*slash < '0' || *slash > '9')
			return -1;
		errno = 0;
		bits = strtoul(slash, &end, 10);
		if (*end != '\0' || errno == ERANGE || bits > 128)
			return -1;
	}
	if (numeric_addr(addr, &family, a) != 0)
		return -1;
	if (slash != NULL && family == AF_INET && bits > 32)
		return -2;
	return 0;
}

static int
addr_ok(const char *addr)
{
	unsigned char a[16];
	int family;

	return numeric_addr(addr, &family, a) == 0;
}

/*
 * OpenSSH's addr_match_list(): 1 if addr is in list, -1 if a negated entry
 * matched, 0 if nothing did, -2 if the list is malformed (an empty entry
 * or a bad CIDR block). addr NULL only checks the list.
 */
int
match_addr_pattern_list(const char *addr, const char *list)
{
	char *copy, *rest, *entry;
	int neg, kind = 0, m, ret = 0;

	if (addr != NULL && !addr_ok(addr))
		return 0;
	if ((copy = strdup(list)) == NULL)
		return -2;
	rest = copy;
	while ((entry = strsep(&rest, ",")) != NULL) {
		if ((neg = *entry == '!'))
			entry++;
		if (*entry == '\0' || (kind = cidr_kind(entry)) == -2) {
			ret = -2;
			break;
		}
		if (kind == 0) {
			if ((m = match_addr_list(addr, entry)) == -2) {
				ret = -2;
				break;
			}
		} else
			m = addr != NULL && match_pattern(addr, entry);
		if (m != 1)
			continue;
		if (neg) {
			ret = -1;
			break;
		}
		ret = 1;
	}
	free(copy);
	return ret;
}

/* OpenSSH's match_host_and_ip(): 1 match, 0 none, -1 bad patterns. */
int
match_host_and_ip(const char *host, const char *addr, const char *list)
{
	int mip, mhost;

	if ((mip = match_addr_pattern_list(addr, list)) == -2)
		return -1;
	if (host == NULL || addr == NULL || mip == -1)
		return 0;
	if ((mhost = match_pattern_list(host, list, 1)) == -1)
		return 0;
	return mhost == 1 || mip == 1;
}

/*
 * OpenSSH's addr_match_cidr_list(): addresses and CIDR blocks only, no
 * negation. 1 match, 0 none, -1 malformed.
 */
int
match_cidr_list(const char *addr, const char *list)
{
	char *copy, *rest, *entry;
	int ret = 0, m = 0;

	if (addr != NULL && !addr_ok(addr))
		return 0;
	if ((copy = strdup(list)) == NULL)
		return -1;
	rest = copy;
	while ((entry = strsep(&rest, ",")) != NULL) {
		if (*entry == '\0' || strlen(entry) > INET6_ADDRSTRLEN + 3 ||
		    strspn(entry, "0123456789abcdefABCDEF.:/") !=
		        strlen(entry) ||
		    cidr_kind(entry) != 0 ||
		    (m = match_addr_list(addr, entry)) == -2) {
			ret = -1;
			break;
		}
		if (m == 1)
			ret = 1;
	}
	free(copy);
	return ret;
}

int
match_user_host(
    const char *user, const char *host, const char *addr, const char *pattern)
{
	/* As sshd 9.2's match_user(): USER ends at the first '@'. */
	const char *at = strchr(pattern, '@');
	char *upat;
	int r;

	if (at == NULL)
		return match_pattern(user, pattern);
	if ((upat = strndup(pattern, (size_t)(at - pattern))) == NULL)
		return 0;
	r = match_pattern(user, upat);
	free(upat);
	if (!r)
		return 0;
	/* As OpenSSH's match_user(): HOST is a list of both kinds. */
	return match_host_and_ip(host != NULL ? host : addr, addr, at + 1) == 1;
}
