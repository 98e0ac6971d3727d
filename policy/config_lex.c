/*
 * config_lex.c: sshd_config(5) lines cut into a keyword and arguments by
 * OpenSSH's rules (strdelim for the keyword and Match criteria, argv_split
 * for arguments).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy/config_int.h"

char *
cfg_strdelim(char **sp)
{
	char *start = *sp, *p, *q;
	int was_equals;

	if (start == NULL)
		return NULL;
	p = start + strcspn(start, CFG_WHITESPACE "\"=");
	if (*p == '\0') {
		*sp = NULL;
		return start;
	}
	if (*p == '"') {
		/* Drop the opening quote; the word ends at the closing one. */
		for (q = p; (q[0] = q[1]) != '\0'; q++)
			;
		if ((p = strchr(p, '"')) == NULL)
			return NULL;
		*p++ = '\0';
		*sp = p + strspn(p, CFG_WHITESPACE);
		return start;
	}
	was_equals = *p == '=';
	*p++ = '\0';
	p += strspn(p, CFG_WHITESPACE);
	if (!was_equals && *p == '=') {
		p++;
		p += strspn(p, CFG_WHITESPACE);
	}
	*sp = p;
	return start;
}

int
cfg_split_line(char *line, char **kwp, char **restp)
{
	char *rest = line, *kw;
	size_t len;

	*kwp = NULL;
	*restp = NULL;
	/* Trailing whitespace (and a form feed) is not part of the value. */
	for (len = strlen(line); len > 0; len--) {
		if (strchr(CFG_WHITESPACE "\f", line[len - 1]) == NULL)
			break;
		line[len - 1] = '\0';
	}
	kw = cfg_strdelim(&rest);
	/* Leading whitespace or '=' yields an empty first word. */
	if (kw != NULL && *kw == '\0' && rest != NULL)
		kw = cfg_strdelim(&rest);
	if (kw == NULL)
		return ERR_FORMAT;
	if (*kw == '\0' || *kw == '#')
		return 0;
	*kwp = kw;
	*restp = rest;
	return 0;
}

/*
 * Words are separated by spaces or tabs; '#' at the start of a word ends
 * the line; single or double quotes group; backslash escapes a quote, a
 * backslash, or (outside quotes) a space.
 */
int
cfg_split_args(const char *s, struct cfg_args *a)
{
	size_t len = strlen(s), o = 0;
	char *buf, quote;

	a->av = NULL;
	a->ac = 0;
	a->next = 0;
	/* Output never exceeds input; words need at most len + 1 slots. */
	if ((a->av = calloc(len + 2, sizeof(*a->av))) == NULL)
		return ERR_ALLOC;
	if ((buf = malloc(len + 1)) == NULL) {
		free(a->av);
		a->av = NULL;
		return ERR_ALLOC;
	}
	a->av[0] = buf; /* owner of every word, freed through av[0] */
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			break;
		a->av[a->ac++] = buf + o;
		quote = 0;
		for (; *s != '\0'; s++) {
			if (*s == '\\' &&
			    (s[1] == '\'' || s[1] == '"' || s[1] == '\\' ||
			        (quote == 0 && s[1] == ' '))) {
				buf[o++] = *++s;
			} else if (quote == 0 && (*s == ' ' || *s == '\t')) {
				break;
			} else if (quote == 0 && (*s == '"' || *s == '\'')) {
				quote = *s;
			} else if (quote != 0 && *s == quote) {
				quote = 0;
			} else {
				buf[o++] = *s;
			}
		}
		buf[o++] = '\0';
		if (quote != 0)
			return ERR_FORMAT;
	}
	return 0;
}

void
cfg_free_args(struct cfg_args *a)
{
	if (a->av != NULL) {
		/* av[0] is the word buffer even when ac is 0. */
		free(a->av[0]);
		free(a->av);
	}
	a->av = NULL;
	a->ac = 0;
	a->next = 0;
}
