/*
 * alglist.c: OpenSSH's "+list", "-list", "^list" and pattern syntax for
 * algorithm lists, resolved against the names OpenSSH knows.
 */
#include <stdlib.h>
#include <string.h>

#include "alglist.h"
#include "err.h"
#include "match.h"

/* A list being built: comma-separated names in a fixed-size buffer. */
struct names {
	char s[ALGLIST_MAX];
	size_t len;
};

int
alglist_next(const char **p, char *e, size_t elen, int *toolong)
{
	size_t n;

	if (*p == NULL)
		return 0;
	n = strcspn(*p, ",");
	*toolong = n >= elen;
	if (!*toolong) {
		memcpy(e, *p, n);
		e[n] = '\0';
	} else
		e[0] = '\0';
	*p = (*p)[n] == ',' ? *p + n + 1 : NULL;
	return 1;
}

int
alglist_has(const char *list, const char *name)
{
	size_t n = strlen(name), m;
	const char *p = list;

	for (;;) {
		m = strcspn(p, ",");
		if (m == n && memcmp(p, name, n) == 0)
			return 1;
		if (p[m] == '\0')
			return 0;
		p += m + 1;
	}
}

/* Append name unless it is already there. */
static int
names_add(struct names *l, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || (l->len > 0 && alglist_has(l->s, name)))
		return 0;
	if (l->len + n + 2 > sizeof(l->s))
		return ERR_TOO_BIG;
	if (l->len > 0)
		l->s[l->len++] = ',';
	memcpy(l->s + l->len, name, n + 1);
	l->len += n;
	return 0;
}

/* Every entry of list, in order, without duplicates. */
static int
names_add_list(struct names *l, const char *list)
{
	char e[ALGLIST_MAX];
	const char *p = list;
	int toolong, r;

	while (alglist_next(&p, e, sizeof(e), &toolong)) {
		if (toolong)
			return ERR_TOO_BIG;
		if ((r = names_add(l, e)) != 0)
			return r;
	}
	return 0;
}

/* The names of `from' that pattern-list filter admits (deny: rejects). */
static int
names_filter(struct names *l, const char *from, const char *filter, int deny)
{
	char e[ALGLIST_MAX];
	const char *p = from;
	int toolong, m, r;

	while (alglist_next(&p, e, sizeof(e), &toolong)) {
		if (toolong)
			return ERR_TOO_BIG;
		if (e[0] == '\0')
			continue;
		m = match_pattern_list(e, filter, 0);
		if ((deny && m == 1) || (!deny && m != 1))
			continue;
		if ((r = names_add(l, e)) != 0)
			return r;
	}
	return 0;
}

int
alglist_names_valid(const char *spec, const char *all)
{
	char e[ALGLIST_MAX], name[ALGLIST_MAX];
	const char *p, *q;
	int toolong, ok;

	if (spec == NULL || *spec == '\0')
		return 0;
	if (*spec == '-')
		return 1;
	p = *spec == '+' || *spec == '^' ? spec + 1 : spec;
	if (*p == '\0')
		return 0;
	while (alglist_next(&p, e, sizeof(e), &toolong)) {
		if (toolong)
			return 0;
		/* As sshd (its strsep() loops end there): an empty entry, of
		 * "a,,b" or a trailing comma, ends what is checked; names
		 * after it that are none of all's are then left out. */
		if (e[0] == '\0')
			return 1;
		for (ok = 0, q = all;
		     !ok && alglist_next(&q, name, sizeof(name), &toolong);)
			ok = !toolong && match_pattern_list(name, e, 0) != 0;
		if (!ok)
			return 0;
	}
	return 1;
}

static int
assemble(const char *spec, const char *def, const char *all, int keep_empty,
    char **out)
{
	struct names *list = NULL, *ret = NULL;
	char e[ALGLIST_MAX];
	const char *p;
	int toolong, r;

	*out = NULL;
	if ((list = calloc(1, sizeof(*list))) == NULL ||
	    (ret = calloc(1, sizeof(*ret))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if (spec == NULL || *spec == '\0') {
		r = names_add_list(ret, def);
		goto done;
	}
	switch (*spec) {
	case '-':
		if ((r = names_filter(ret, def, spec + 1, 1)) != 0)
			goto out;
		if (ret->len == 0 && !keep_empty)
			r = names_add_list(ret, def);
		goto done;
	case '+':
		if ((r = names_add_list(list, def)) != 0 ||
		    (r = names_add_list(list, spec + 1)) != 0)
			goto out;
		break;
	case '^':
		if ((r = names_add_list(list, spec + 1)) != 0 ||
		    (r = names_add_list(list, def)) != 0)
			goto out;
		break;
	default:
		if ((r = names_add_list(list, spec)) != 0)
			goto out;
		break;
	}
	/* Each entry (a name or pattern) becomes the known names it matches. */
	for (p = list->s; alglist_next(&p, e, sizeof(e), &toolong);) {
		if (toolong) {
			r = ERR_TOO_BIG;
			goto out;
		}
		if (e[0] == '!') {
			r = ERR_FORMAT;
			goto out;
		}
		if ((r = names_filter(ret, all, e, 0)) != 0)
			goto out;
	}
	if (ret->len == 0) {
		r = ERR_FORMAT;
		goto out;
	}
	r = 0;
done:
	if (r == 0 && (*out = strdup(ret->s)) == NULL)
		r = ERR_ALLOC;
out:
	free(list);
	free(ret);
	return r;
}

int
alglist_assemble(const char *spec, const char *def, const char *all, char **out)
{
	return assemble(spec, def, all, 0, out);
}

int
alglist_assemble_match(
    const char *spec, const char *def, const char *all, char **out)
{
	return assemble(spec, def, all, 1, out);
}
