/*
 * penalty.c: the PerSourcePenalties table (penalty.h). One sorted array
 * of blocks, searched by bisection; entries whose time is over are
 * removed at most once a second, and on overflow (permissive) those
 * closest to their end go first, as sshd_config(5) says.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "monitor/penalty.h"

void
penalty_init(struct penalty_table *t, const struct penalty_config *cfg,
    int v4bits, int v6bits)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->v4bits = v4bits;
	t->v6bits = v6bits;
}

void
penalty_free(struct penalty_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int
penalty_log_take(struct penalty_log *l, int64_t now, unsigned *flush)
{
	*flush = 0;
	if (l->logged == 0 || now - l->window >= PENALTY_LOG_WINDOW) {
		*flush = l->unlogged;
		l->window = now;
		l->logged = l->unlogged = 0;
	}
	if (l->logged < PENALTY_LOG_BURST) {
		l->logged++;
		return 1;
	}
	l->unlogged++;
	return 0;
}

int
penalty_crash_signal(int sig)
{
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGFPE:
	case SIGABRT:
	case SIGTRAP:
	case SIGSYS:
		return 1;
	default:
		return 0;
	}
}

static const char *
kind_reason(enum penalty_kind k)
{
	switch (k) {
	case PENALTY_CRASH:
		return "penalty: caused crash";
	case PENALTY_AUTHFAIL:
		return "penalty: failed authentication";
	case PENALTY_NOAUTH:
		return "penalty: connections without attempting authentication";
	case PENALTY_GRACE:
		return "penalty: exceeded LoginGraceTime";
	default:
		return "penalty";
	}
}

static int
kind_secs(const struct penalty_config *c, enum penalty_kind k)
{
	switch (k) {
	case PENALTY_CRASH:
		return c->crash;
	case PENALTY_AUTHFAIL:
		return c->authfail;
	case PENALTY_NOAUTH:
		return c->noauth;
	case PENALTY_GRACE:
		return c->grace_exceeded;
	default:
		return 0;
	}
}

void
penalty_block_name(const struct penalty_table *t, const struct source_block *b,
    char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(b->family, b->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "UNKNOWN");
	snprintf(
	    out, len, "%s/%d", a, b->family == AF_INET ? t->v4bits : t->v6bits);
}

static int
block_cmp(const struct source_block *a, const struct source_block *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* The index of b, or where it would go (*found 0). */
static size_t
find(const struct penalty_table *t, const struct source_block *b, int *found)
{
	size_t lo = 0, hi = t->n, mid;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = block_cmp(&t->v[mid].block, b)) == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t *
family_count(struct penalty_table *t, int family)
{
	return family == AF_INET ? &t->n4 : &t->n6;
}

static void
remove_at(struct penalty_table *t, size_t i)
{
	(*family_count(t, t->v[i].block.family))--;
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
	t->n--;
}

/* Entries whose end is past; a full pass at most once a second. */
static void
expire(struct penalty_table *t, int64_t now)
{
	size_t i, j = 0;

	if (t->last_expire == now)
		return;
	t->last_expire = now;
	for (i = 0; i < t->n; i++) {
		if (t->v[i].expiry < now) {
			(*family_count(t, t->v[i].block.family))--;
			continue;
		}
		if (i != j)
			t->v[j] = t->v[i];
		j++;
	}
	t->n = j;
}

/* overflow:permissive: drop the family's entries nearest their end. */
static void
evict(struct penalty_table *t, int family, size_t max)
{
	size_t i, best;
	int have;

	while (*family_count(t, family) > max) {
		have = 0;
		best = 0;
		for (i = 0; i < t->n; i++) {
			if (t->v[i].block.family != family)
				continue;
			if (!have || t->v[i].expiry < t->v[best].expiry) {
				best = i;
				have = 1;
			}
		}
		if (!have)
			return;
		debug3("penalty table overflow, forgetting a block");
		remove_at(t, best);
	}
}

static size_t
family_max(const struct penalty_table *t, int family)
{
	return (size_t)(family == AF_INET ? t->cfg.max_sources4
	                                  : t->cfg.max_sources6);
}

static int
family_deny_all(const struct penalty_table *t, int family)
{
	return (family == AF_INET ? t->cfg.overflow4 : t->cfg.overflow6) ==
	    PENALTY_DENY_ALL;
}

int
penalty_check(struct penalty_table *t, const struct source_block *b,
    int64_t now, const char **reason)
{
	struct penalty *p;
	size_t i;
	int found;

	if (!t->cfg.enabled || b->family == 0)
		return 0;
	expire(t, now);
	if (*family_count(t, b->family) >= family_max(t, b->family) &&
	    family_deny_all(t, b->family)) {
		*reason = "penalty: too many penalised addresses";
		return 1;
	}
	i = find(t, b, &found);
	if (!found)
		return 0;
	p = &t->v[i];
	if (p->expiry < now) {
		remove_at(t, i);
		return 0;
	}
	if (!p->active)
		return 0;
	*reason = kind_reason(p->why);
	return 1;
}

void
penalty_add(struct penalty_table *t, const struct source_block *b,
    enum penalty_kind k, int64_t now)
{
	const struct penalty_config *c = &t->cfg;
	const char *fam = b->family == AF_INET ? "ipv4" : "ipv6";
	char name[INET6_ADDRSTRLEN + 8];
	struct penalty *p, *nv;
	int64_t left;
	int secs, found;
	size_t i, ncap;

	if (!c->enabled || b->family == 0 || k == PENALTY_NONE)
		return;
	if ((secs = kind_secs(c, k)) <= 0)
		return;
	/* A first penalty is capped at max too (sshd caps only sums). */
	if (secs > c->max)
		secs = c->max;
	penalty_block_name(t, b, name, sizeof(name));
	expire(t, now);
	i = find(t, b, &found);
	if (found) {
		p = &t->v[i];
		p->expiry += secs;
		if (p->expiry - now > c->max)
			p->expiry = now + c->max;
		p->why = k;
		left = p->expiry - now;
		if (!p->active && left > c->min) {
			p->active = 1;
			verbose("%s: activating %s penalty of %lld seconds for "
			        "%s",
			    name, fam, (long long)left, kind_reason(k));
		} else
			debug("%s penalty for %s %s extended, %lld seconds "
			      "remaining",
			    p->active ? "active" : "inactive", fam, name,
			    (long long)left);
		return;
	}
	if (*family_count(t, b->family) >= family_max(t, b->family) &&
	    family_deny_all(t, b->family)) {
		verbose("%s penalty table full, cannot penalise %s for %s", fam,
		    name, kind_reason(k));
		return;
	}
	if (t->n == t->cap) {
		ncap = t->cap ? t->cap * 2 : 64;
		if ((nv = realloc(t->v, ncap * sizeof(*nv))) == NULL) {
			error("%s: out of memory, %s not penalised", __func__,
			    name);
			return;
		}
		t->v = nv;
		t->cap = ncap;
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(t->v[0]));
	p = &t->v[i];
	memset(p, 0, sizeof(*p));
	p->block = *b;
	p->expiry = now + secs;
	p->why = k;
	p->active = secs > c->min;
	t->n++;
	(*family_count(t, b->family))++;
	verbose("%s: new %s %s penalty of %d seconds for %s", fam, name,
	    p->active ? "active" : "deferred", secs, kind_reason(k));
	if (*family_count(t, b->family) > family_max(t, b->family))
		evict(t, b->family, family_max(t, b->family));
}
