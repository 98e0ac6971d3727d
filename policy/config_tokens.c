/*
 * config_tokens.c: the %-tokens of sshd_config(5) (TOKENS), expanded when
 * a connection needs them; each keyword allows its own set.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "authkeys.h"
#include "log.h"
#include "policy/config.h"

static const char *
token_value(const struct token_values *tv, char t)
{
	switch (t) {
	case 'h':
		return tv->home;
	case 'u':
		return tv->user;
	case 'U':
		return tv->uid;
	case 'C':
		return tv->conn;
	case 'D':
		return tv->rdomain;
	case 'f':
		return tv->fp;
	case 'k':
		return tv->key;
	case 't':
		return tv->key_type;
	case 'i':
		return tv->key_id;
	case 's':
		return tv->serial;
	case 'F':
		return tv->ca_fp;
	case 'K':
		return tv->ca_key;
	case 'T':
		return tv->ca_type;
	default:
		return NULL;
	}
}

static int
append(char *out, size_t *o, const char *s, size_t n)
{
	if (n >= CONFIG_TOKENS_MAX - *o) {
		error("token expansion: result longer than %d bytes",
		    CONFIG_TOKENS_MAX);
		return -1;
	}
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

char *
config_expand_tokens(
    const char *s, const struct token_values *tv, const char *allowed)
{
	const char *p, *v;
	char *out;
	size_t o = 0;

	if ((out = malloc(CONFIG_TOKENS_MAX)) == NULL)
		return NULL;
	out[0] = '\0';
	for (p = s; *p != '\0'; p++) {
		if (*p != '%') {
			if (append(out, &o, p, 1) != 0)
				goto fail;
			continue;
		}
		p++;
		if (*p == '%') {
			if (append(out, &o, "%", 1) != 0)
				goto fail;
			continue;
		}
		/* sshd's vdollar_percent_expand() words. */
		if (*p == '\0' || !isalpha((unsigned char)*p) ||
		    strchr(allowed, *p) == NULL) {
			authkeys_percent_error(*p);
			goto fail;
		}
		if ((v = token_value(tv, *p)) == NULL) {
			error("percent_expand: no value for %%%c", *p);
			goto fail;
		}
		if (append(out, &o, v, strlen(v)) != 0)
			goto fail;
	}
	return out;
fail:
	free(out);
	return NULL;
}
