/*
 * usedns.c: UseDNS yes. The client's host name is its address's PTR name,
 * lower-cased, kept only when it is not itself an address and resolves
 * back to the address (sshd's rule); in every other case, and with
 * UseDNS no, the "host" of Match Host, user@host, from= and PAM_RHOST is
 * the address. The name comes from whoever runs the address's reverse
 * zone: it only ever matches patterns and is logged bounded.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "log.h"
#include "monitor/usedns.h"

/* s as a numeric address, without any lookup; 0 if it is one. */
static int
numeric_addr(const char *s, struct addrinfo **ai)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	*ai = NULL;
	if (getaddrinfo(s, NULL, &hints, ai) != 0 || *ai == NULL)
		return -1;
	return 0;
}

/* The address's PTR name in name (size len); 0 if there is one. */
static int
reverse_name(const char *addr, int *family, char *name, size_t len)
{
	struct addrinfo *ai;
	int r;

	if (numeric_addr(addr, &ai) != 0)
		return -1;
	*family = ai->ai_family;
	r = getnameinfo(ai->ai_addr, ai->ai_addrlen, name, (socklen_t)len, NULL,
	    0, NI_NAMEREQD);
	freeaddrinfo(ai);
	return r == 0 ? 0 : -1;
}

/* 1 if name is an address (a PTR record naming one would pass for it). */
static int
is_numeric(const char *name)
{
	struct addrinfo *ai;

	if (numeric_addr(name, &ai) != 0)
		return 0;
	freeaddrinfo(ai);
	return 1;
}

/* 1 if name's addresses of this family include addr; -1 if the lookup
 * failed. */
static int
maps_back(const char *name, int family, const char *addr)
{
	struct addrinfo hints, *ai = NULL, *p;
	char num[NI_MAXHOST];
	int found = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(name, NULL, &hints, &ai) != 0)
		return -1;
	for (p = ai; p != NULL && !found; p = p->ai_next) {
		if (getnameinfo(p->ai_addr, p->ai_addrlen, num, sizeof(num),
		        NULL, 0, NI_NUMERICHOST) == 0 &&
		    strcmp(num, addr) == 0)
			found = 1;
	}
	freeaddrinfo(ai);
	return found;
}

void
conn_host_resolve(struct conn_info *ci, int use_dns)
{
	char name[NI_MAXHOST];
	const char *addr = ci->client_addr;
	size_t i, n;
	int family = 0, r;

	snprintf(ci->client_host, sizeof(ci->client_host), "%s", addr);
	/* No address to look up (inetd mode over pipes): "UNKNOWN". */
	if (!use_dns || !ci->ip)
		return;
	debug3("Trying to reverse map address %.100s.", addr);
	if (reverse_name(addr, &family, name, sizeof(name)) != 0)
		return;
	if (is_numeric(name)) {
		logit("Nasty PTR record \"%.600s\" is set up for %s, ignoring",
		    name, addr);
		return;
	}
	for (i = 0; name[i] != '\0'; i++)
		name[i] = (char)tolower((unsigned char)name[i]);
	if ((r = maps_back(name, family, addr)) < 0) {
		logit("reverse mapping checking getaddrinfo for %.700s [%s] "
		      "failed.",
		    name, addr);
		return;
	}
	if (r == 0) {
		logit("Address %.100s maps to %.600s, but this does not map "
		      "back to the address.",
		    addr, name);
		return;
	}
	/* A DNS name has at most 253 characters; longer is no name. */
	if ((n = strlen(name)) < sizeof(ci->client_host))
		memcpy(ci->client_host, name, n + 1);
}
