/*
 * config_rekey.c: RekeyLimit DATA [TIME]: how much data, or how long,
 * one set of session keys may be used before the server starts a new key
 * exchange. DATA is scan_scaled(3)'s form (a decimal number, an optional
 * fraction, an optional B, K, M, G, T, P or E suffix) or "default"; TIME
 * is sshd's time format or "none".
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "policy/config_int.h"

#define FRACTION_DIGITS_MAX 18

/*
 * scan_scaled: 0 with *v set, EINVAL for a malformed number, ERANGE for
 * one beyond LLONG_MAX. As scan_scaled(3), a fraction counts only with a
 * suffix above bytes and is truncated; "." alone reads as 0.
 */
static int
scan_scaled(const char *s, long long *v)
{
	static const char units[] = "BKMGTPE";
	const char *u;
	long long whole = 0, frac = 0, scale = 1;
	int sign = 1, fdigits = 0, d;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-' || *s == '+')
		sign = *s++ == '-' ? -1 : 1;
	for (; isdigit((unsigned char)*s); s++) {
		d = *s - '0';
		if (whole > (LLONG_MAX - d) / 10)
			return ERANGE;
		whole = whole * 10 + d;
	}
	if (*s == '.') {
		for (s++; isdigit((unsigned char)*s); s++) {
			if (fdigits < FRACTION_DIGITS_MAX) {
				frac = frac * 10 + (*s - '0');
				fdigits++;
			}
		}
	}
	if (*s != '\0') {
		if ((u = strchr(units, toupper((unsigned char)*s))) == NULL ||
		    s[1] != '\0')
			return EINVAL;
		scale = 1LL << (10 * (int)(u - units));
	}
	if (scale == 1) {
		*v = sign * whole;
		return 0;
	}
	if (whole > LLONG_MAX / scale)
		return ERANGE;
	whole *= scale;
	/* Keep frac * scale in range, dropping the least significant digits. */
	while (frac >= LLONG_MAX / scale) {
		frac /= 10;
		fdigits--;
	}
	frac *= scale;
	for (; fdigits > 0; fdigits--)
		frac /= 10;
	if (whole > LLONG_MAX - frac)
		return ERANGE;
	*v = sign * (whole + frac);
	return 0;
}

/*
 * As sshd, the amount and the interval are each kept from the first line
 * that sets them ("none" sets no interval).
 */
int
cfg_kw_rekey_limit(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	long long v = 0;
	int e, secs;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	if (strcmp(arg, "default") != 0) {
		if ((e = scan_scaled(arg, &v)) != 0) {
			cfg_error(a, "Bad %s number '%s': %s", a->keyword, arg,
			    strerror(e));
			return ERR_CONFIG;
		}
		if (v != 0 && v < 16) {
			cfg_error(a, "%s too small", a->keyword);
			return ERR_CONFIG;
		}
	}
	if (a->active && c->rekey_limit == CONFIG_UNSET)
		c->rekey_limit = v;
	if ((arg = cfg_next_arg(a)) == NULL || strcmp(arg, "none") == 0)
		return 0;
	if (*arg == '\0') {
		cfg_error(a, "missing time value.");
		return ERR_CONFIG;
	}
	if ((secs = cfg_time_value(arg)) < 0) {
		cfg_error(a, "invalid time value.");
		return ERR_CONFIG;
	}
	if (a->active && c->rekey_interval == CONFIG_UNSET)
		c->rekey_interval = secs;
	return 0;
}

/* "rekeylimit BYTES SECONDS", 0 for the defaults, as sshd -T prints it. */
void
cfg_dump_rekey_limit(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	fprintf(f, "rekeylimit %lld %d\n",
	    c->rekey_limit < 0 ? 0 : c->rekey_limit,
	    c->rekey_interval < 0 ? 0 : c->rekey_interval);
}
