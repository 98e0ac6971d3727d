/*
 * config_match.c: Match criteria (User, Group, Host, Address, LocalAddress,
 * LocalPort, RDomain, Invalid-User, All) evaluated as OpenSSH's sshd does,
 * and the -C connection specification.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"
#include "match.h"
#include "policy/config_int.h"

#define GROUPS_MAX 65536 /* sanity bound on one user's group list */

int
cfg_a2port(const char *s)
{
	struct servent *se;
	char *end = NULL;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end == '\0' && errno == 0) {
		/* strtonum(3) semantics: a number in range, or an error. */
		return v >= 0 && v <= 65535 ? (int)v : -1;
	}
	if ((se = getservbyname(s, "tcp")) != NULL)
		return ntohs((uint16_t)se->s_port);
	return -1;
}

/* OpenSSH's ga_match_pattern_list over the user's groups. */
static int
match_group(const char *pats, int lineno, const char *user)
{
	struct passwd *pw;
	struct group *gr;
	gid_t *groups = NULL, gid;
	char *name = NULL;
	int n = 64, i, found = 0, want;

	if ((pw = getpwnam(user)) == NULL) {
		debug("Can't match group at line %d because user %.100s does "
		      "not exist",
		    lineno, user);
		return 0;
	}
	gid = pw->pw_gid;
	if ((name = strdup(pw->pw_name)) == NULL)
		return 0;
	for (;;) {
		if ((groups = calloc((size_t)n, sizeof(*groups))) == NULL)
			goto out;
		want = n;
		if (getgrouplist(name, gid, groups, &want) != -1) {
			n = want;
			break;
		}
		free(groups);
		groups = NULL;
		if (want <= n || want > GROUPS_MAX)
			goto out;
		n = want;
	}
	for (i = 0; i < n; i++) {
		if ((gr = getgrgid(groups[i])) == NULL)
			continue;
		switch (match_pattern_list(gr->gr_name, pats, 0)) {
		case -1:
			/* A negated pattern matching any group wins. */
			found = 0;
			goto out;
		case 1:
			found = 1;
			break;
		default:
			break;
		}
	}
out:
	if (found)
		debug("user %.100s matched group list %.100s at line %d", user,
		    pats, lineno);
	else
		debug("user %.100s does not match group list %.100s at line "
		      "%d",
		    user, pats, lineno);
	free(groups);
	free(name);
	return found;
}

/* match_addr_criterion: Address or LocalAddress; 1, 0, or -1 on error. */
static int
match_addr_criterion(const char *what, const char *addr, const char *arg,
    int lineno, int syntax_only)
{
	if (syntax_only || addr == NULL) {
		if (match_addr_pattern_list(NULL, arg) != 0) {
			error("Invalid Match %s argument '%s' at line %d", what,
			    arg, lineno);
			return -1;
		}
		return 0;
	}
	switch (match_addr_pattern_list(addr, arg)) {
	case 1:
		debug("connection from %.100s matched '%s %.100s' at line %d",
		    addr,
		    strcmp(what, "address") == 0 ? "Address" : "LocalAddress",
		    arg, lineno);
		return 1;
	case -2:
		error("Invalid Match %s argument '%s' at line %d", what, arg,
		    lineno);
		return -1;
	default:
		return 0;
	}
}

int
cfg_match_line(char **condp, int lineno, const struct match_conn *mc)
{
	char *cp = *condp, *attrib, *arg;
	int result = 1, attributes = 0, port, r;

	if (mc != NULL)
		debug3("checking match for '%s' user %.127s host %s addr %s "
		       "laddr %s lport %d",
		    cp != NULL ? cp : "",
		    mc->user != NULL ? mc->user : "(null)",
		    mc->host != NULL ? mc->host : "(null)",
		    mc->addr != NULL ? mc->addr : "(null)",
		    mc->laddr != NULL ? mc->laddr : "(null)", mc->lport);
	while ((attrib = cfg_strdelim(&cp)) != NULL && *attrib != '\0') {
		/* The rest of the line is a comment. */
		if (*attrib == '#') {
			cp = NULL;
			break;
		}
		arg = NULL;
		attributes++;
		/* "All" takes no argument and must appear alone. */
		if (strcasecmp(attrib, "all") == 0) {
			if (attributes > 1 ||
			    ((arg = cfg_strdelim(&cp)) != NULL &&
			        *arg != '\0' && *arg != '#')) {
				error("'all' cannot be combined with other "
				      "Match attributes");
				return -1;
			}
			if (arg != NULL && *arg == '#')
				cp = NULL;
			*condp = cp;
			return 1;
		}
		/* OpenSSH 10's Invalid-User also takes no argument. */
		if (strcasecmp(attrib, "invalid-user") == 0) {
			if (mc == NULL || !mc->invalid_user)
				result = 0;
			else
				debug(
				    "matched invalid-user at line %d", lineno);
			continue;
		}
		if ((arg = cfg_strdelim(&cp)) == NULL || *arg == '\0' ||
		    *arg == '#') {
			error("Missing Match criteria for %s", attrib);
			return -1;
		}
		if (strcasecmp(attrib, "user") == 0) {
			if (mc == NULL || mc->user == NULL) {
				result = 0;
				continue;
			}
			if (match_pattern_list(mc->user, arg, 0) != 1)
				result = 0;
			else
				debug("user %.100s matched 'User %.100s' at "
				      "line %d",
				    mc->user, arg, lineno);
		} else if (strcasecmp(attrib, "group") == 0) {
			if (mc == NULL || mc->user == NULL) {
				result = 0;
				continue;
			}
			if (match_group(arg, lineno, mc->user) != 1)
				result = 0;
		} else if (strcasecmp(attrib, "host") == 0) {
			if (mc == NULL || mc->host == NULL) {
				result = 0;
				continue;
			}
			if (match_pattern_list(mc->host, arg, 1) != 1)
				result = 0;
			else
				debug("connection from %.100s matched 'Host "
				      "%.100s' at line %d",
				    mc->host, arg, lineno);
		} else if (strcasecmp(attrib, "address") == 0) {
			r = match_addr_criterion("address",
			    mc != NULL ? mc->addr : NULL, arg, lineno,
			    mc == NULL);
			if (r < 0)
				return -1;
			if (r == 0)
				result = 0;
		} else if (strcasecmp(attrib, "localaddress") == 0) {
			r = match_addr_criterion("localaddress",
			    mc != NULL ? mc->laddr : NULL, arg, lineno,
			    mc == NULL);
			if (r < 0)
				return -1;
			if (r == 0)
				result = 0;
		} else if (strcasecmp(attrib, "localport") == 0) {
			if ((port = cfg_a2port(arg)) == -1) {
				error("Invalid LocalPort '%s' on Match line",
				    arg);
				return -1;
			}
			if (mc == NULL) {
				result = 0;
				continue;
			}
			if (mc->lport <= 0) {
				error("'Match LocalPort' in configuration but "
				      "'lport' not in connection test "
				      "specification.");
				return -1;
			}
			if (port == mc->lport)
				debug(
				    "connection from %.100s matched 'LocalPort "
				    "%d' at line %d",
				    mc->laddr != NULL ? mc->laddr : "(null)",
				    port, lineno);
			else
				result = 0;
		} else if (strcasecmp(attrib, "rdomain") == 0) {
			if (mc == NULL || mc->rdomain == NULL) {
				result = 0;
				continue;
			}
			if (match_pattern_list(mc->rdomain, arg, 0) != 1)
				result = 0;
			else
				debug("user %.100s matched 'RDomain %.100s' at "
				      "line %d",
				    mc->rdomain, arg, lineno);
		} else {
			error("Unsupported Match attribute %s", attrib);
			return -1;
		}
	}
	if (attributes == 0) {
		error("One or more attributes required for Match");
		return -1;
	}
	if (mc != NULL)
		debug3("match %sfound", result ? "" : "not ");
	*condp = cp;
	return result;
}

/* As sshd's: its complaints go to stderr as they are (it is -C's). */
int
config_parse_conn_spec(const char *spec, struct match_conn *mc, char **storage)
{
	char *rest, *p;
	int port;

	memset(mc, 0, sizeof(*mc));
	if ((*storage = strdup(spec)) == NULL)
		return ERR_ALLOC;
	rest = *storage;
	/* As sshd: an empty element ends the list. */
	while ((p = strsep(&rest, ",")) != NULL && *p != '\0') {
		if (strncmp(p, "addr=", 5) == 0)
			mc->addr = p + 5;
		else if (strncmp(p, "host=", 5) == 0)
			mc->host = p + 5;
		else if (strncmp(p, "user=", 5) == 0)
			mc->user = p + 5;
		else if (strncmp(p, "laddr=", 6) == 0)
			mc->laddr = p + 6;
		else if (strncmp(p, "rdomain=", 8) == 0)
			mc->rdomain = p + 8;
		else if (strncmp(p, "lport=", 6) == 0) {
			if ((port = cfg_a2port(p + 6)) == -1) {
				fprintf(stderr,
				    "Invalid port '%s' in test mode "
				    "specification %s\n",
				    p + 6, p);
				return ERR_CONFIG;
			}
			mc->lport = port;
		} else if (strcmp(p, "invalid-user") == 0)
			mc->invalid_user = 1;
		else {
			fprintf(
			    stderr, "Invalid test mode specification %s\n", p);
			return ERR_CONFIG;
		}
	}
	return 0;
}
