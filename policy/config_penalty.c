/*
 * config_penalty.c: PerSourcePenalties and PerSourcePenaltyExemptList as
 * OpenSSH 9.9's sshd_config(5) describes them, with one difference: when
 * unset, penalties are off (docs/sshd_config.md). The listener applies
 * them (monitor/penalty.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"
#include "match.h"
#include "policy/config_int.h"

void
cfg_penalty_init(struct server_config *c)
{
	struct penalty_config *p = &c->penalty;

	p->enabled = CONFIG_UNSET;
	p->crash = p->authfail = p->noauth = CONFIG_UNSET;
	p->grace_exceeded = p->refuseconnection = CONFIG_UNSET;
	p->max = p->min = CONFIG_UNSET;
	p->max_sources4 = p->max_sources6 = CONFIG_UNSET;
	p->overflow4 = p->overflow6 = CONFIG_UNSET;
	c->penalty_exempt = NULL;
}

static void
dflt(int *v, int d)
{
	if (*v == CONFIG_UNSET)
		*v = d;
}

/* OpenSSH 9.9's default durations; "enabled" defaults to off here. */
void
cfg_penalty_defaults(struct server_config *c)
{
	struct penalty_config *p = &c->penalty;

	dflt(&p->enabled, 0);
	dflt(&p->crash, 90);
	dflt(&p->authfail, 5);
	dflt(&p->noauth, 1);
	dflt(&p->grace_exceeded, 20);
	dflt(&p->refuseconnection, 10);
	dflt(&p->max, 600);
	dflt(&p->min, 15);
	dflt(&p->max_sources4, 65536);
	dflt(&p->max_sources6, 65536);
	dflt(&p->overflow4, PENALTY_PERMISSIVE);
	/* overflow6 follows overflow unless set itself. */
	dflt(&p->overflow6, p->overflow4);
}

/* The word after "name:" in arg, or NULL when arg is not that item. */
static const char *
item(const char *arg, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(arg, name, n) != 0 || arg[n] != ':')
		return NULL;
	return arg + n + 1;
}

/*
 * PerSourcePenalties yes|no|ITEM:VALUE...: as sshd, the first value of
 * each item wins, "yes" and "no" only alone, and setting any item turns
 * penalties on.
 */
int
cfg_kw_penalties(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	static const struct {
		const char *name;
		size_t off;
	} times[] = {
	    {"crash", offsetof(struct penalty_config, crash)},
	    {"authfail", offsetof(struct penalty_config, authfail)},
	    {"noauth", offsetof(struct penalty_config, noauth)},
	    {"grace-exceeded", offsetof(struct penalty_config, grace_exceeded)},
	    /* OpenSSH 10.0's; accepted, no effect (no RefuseConnection). */
	    {"refuseconnection",
	        offsetof(struct penalty_config, refuseconnection)},
	    {"max", offsetof(struct penalty_config, max)},
	    {"min", offsetof(struct penalty_config, min)},
	};
	struct penalty_config *p = &c->penalty;
	const char *arg, *v, *why;
	long long n;
	int *field, value, found = 0;
	size_t i;

	while ((arg = cfg_next_arg(a)) != NULL) {
		found = 1;
		field = NULL;
		value = 0;
		if (strcasecmp(arg, "no") == 0 || strcasecmp(arg, "yes") == 0) {
			if (a->next < a->ac) {
				cfg_error(a,
				    "keyword %s \"%s\" argument "
				    "must appear alone.",
				    a->keyword, arg);
				return ERR_CONFIG;
			}
			if (a->active && p->enabled == CONFIG_UNSET)
				p->enabled = strcasecmp(arg, "yes") == 0;
			continue;
		}
		for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
			if ((v = item(arg, times[i].name)) == NULL)
				continue;
			if ((value = cfg_time_value(v)) == -1) {
				cfg_error(
				    a, "invalid %s time value.", a->keyword);
				return ERR_CONFIG;
			}
			field = (int *)(void *)((char *)p + times[i].off);
			break;
		}
		if (field != NULL)
			;
		else if ((v = item(arg, "max-sources4")) != NULL ||
		    (v = item(arg, "max-sources6")) != NULL) {
			if (cfg_parse_decimal(v, 0, INT_MAX, &n, &why) != 0) {
				cfg_error(a, "%s value %s.", a->keyword, why);
				return ERR_CONFIG;
			}
			value = (int)n;
			field = arg[11] == '4' ? &p->max_sources4
			                       : &p->max_sources6;
		} else if ((v = item(arg, "overflow")) != NULL ||
		    (v = item(arg, "overflow6")) != NULL) {
			field = arg[8] == '6' ? &p->overflow6 : &p->overflow4;
			if (strcmp(v, "deny-all") == 0)
				value = PENALTY_DENY_ALL;
			else if (strcmp(v, "permissive") == 0)
				value = PENALTY_PERMISSIVE;
			else
				field = NULL;
		}
		if (field == NULL) {
			cfg_error(
			    a, "unsupported %s keyword %s", a->keyword, arg);
			return ERR_CONFIG;
		}
		if (a->active && *field == CONFIG_UNSET) {
			*field = value;
			p->enabled = 1;
		}
	}
	if (!found) {
		cfg_error(a, "no %s specified", a->keyword);
		return ERR_CONFIG;
	}
	return 0;
}

/* OpenSSH 9.9's -T line (no refuseconnection, which 10.0 added). */
void
cfg_dump_penalties(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	const struct penalty_config *p = &c->penalty;

	if (!p->enabled) {
		fprintf(f, "persourcepenalties no\n");
		return;
	}
	fprintf(f,
	    "persourcepenalties crash:%d authfail:%d noauth:%d "
	    "grace-exceeded:%d max:%d min:%d max-sources4:%d "
	    "max-sources6:%d overflow:%s overflow6:%s\n",
	    p->crash, p->authfail, p->noauth, p->grace_exceeded, p->max, p->min,
	    p->max_sources4, p->max_sources6,
	    p->overflow4 == PENALTY_DENY_ALL ? "deny-all" : "permissive",
	    p->overflow6 == PENALTY_DENY_ALL ? "deny-all" : "permissive");
}

/*
 * PerSourcePenaltyExemptList: one comma-separated list of addresses,
 * CIDR blocks and wildcards, checked as sshd checks it; the first wins.
 */
int
cfg_kw_penalty_exempt(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing argument.");
		return ERR_CONFIG;
	}
	if (match_addr_pattern_list(NULL, arg) != 0) {
		cfg_error(
		    a, "keyword %s invalid address argument.", a->keyword);
		return ERR_CONFIG;
	}
	if (a->active && c->penalty_exempt == NULL &&
	    (c->penalty_exempt = strdup(arg)) == NULL)
		return ERR_ALLOC;
	return 0;
}

void
cfg_dump_penalty_exempt(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	fprintf(f, "persourcepenaltyexemptlist %s\n",
	    c->penalty_exempt != NULL ? c->penalty_exempt : "none");
}
