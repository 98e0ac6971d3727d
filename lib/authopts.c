/*
 * authopts.c: authorized_keys options: the parser (OpenSSH's grammar and
 * error strings), line splitting, source and expiry checks, merging and
 * the IPC encoding of a set.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authdebug.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "match.h"
#include "sshkey.h"
#include "sshkey_sk.h"
#include "authopts.h"

#define HOST_MAX 1025 /* NI_MAXHOST: longest permit host OpenSSH takes */

/* string vectors */

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Append s, taking ownership of it only on success. */
static int
strv_push(char ***vp, size_t *np, char *s)
{
	char **nv;

	if ((nv = reallocarray(*vp, *np + 1, sizeof(*nv))) == NULL)
		return ERR_ALLOC;
	nv[(*np)++] = s;
	*vp = nv;
	return 0;
}

static int
strv_push_copy(char ***vp, size_t *np, const char *s)
{
	char *c;

	if ((c = strdup(s)) == NULL)
		return ERR_ALLOC;
	if (strv_push(vp, np, c) != 0) {
		free(c);
		return ERR_ALLOC;
	}
	return 0;
}

static int
strv_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Append those of src not already in *vp. */
static int
strv_union(char ***vp, size_t *np, char *const *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strv_has(*vp, *np, src[i]))
			continue;
		if (strv_push_copy(vp, np, src[i]) != 0)
			return ERR_ALLOC;
	}
	return 0;
}

/* permit lists */

void
authopts_permits_free(struct authopts_permits *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].host);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static int
permits_has(const struct authopts_permits *p, const char *host, int port)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].port == port && strcmp(p->v[i].host, host) == 0)
			return 1;
	return 0;
}

/* Append host:port (copied). */
static int
permits_push(struct authopts_permits *p, const char *host, int port)
{
	struct authopts_permit *nv;
	char *h;

	if (p->n >= AUTHOPTS_PERMIT_MAX)
		return ERR_LIMIT;
	if ((h = strdup(host)) == NULL)
		return ERR_ALLOC;
	if ((nv = reallocarray(p->v, p->n + 1, sizeof(*nv))) == NULL) {
		free(h);
		return ERR_ALLOC;
	}
	nv[p->n].host = h;
	nv[p->n].port = port;
	p->v = nv;
	p->n++;
	return 0;
}

/* The same, unless already present (the parser; lines are short). */
static int
permits_add(struct authopts_permits *p, const char *host, int port)
{
	if (permits_has(p, host, port))
		return 0;
	return permits_push(p, host, port);
}

static int
permits_copy(struct authopts_permits *dst, const struct authopts_permits *src)
{
	size_t i;
	int r;

	dst->restricted = src->restricted;
	for (i = 0; i < src->n; i++)
		if ((r = permits_push(dst, src->v[i].host, src->v[i].port)) !=
		    0)
			return r;
	return 0;
}

/* sets */

struct authopts *
authopts_new(int permit_all)
{
	struct authopts *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->tunnel = AUTHOPTS_TUN_NONE;
	o->permit_pty = o->permit_port_forwarding = permit_all ? 1 : 0;
	o->permit_agent_forwarding = o->permit_x11_forwarding = o->permit_pty;
	o->permit_user_rc = o->permit_pty;
	return o;
}

void
authopts_free(struct authopts *o)
{
	if (o == NULL)
		return;
	free(o->principals);
	free(o->force_command);
	strv_free(o->env, o->nenv);
	strv_free(o->from, o->nfrom);
	strv_free(o->source_address, o->nsource_address);
	authopts_permits_free(&o->permitopen);
	authopts_permits_free(&o->permitlisten);
	free(o);
}

static int
dup_opt(char **dst, const char *src)
{
	if (src != NULL && (*dst = strdup(src)) == NULL)
		return ERR_ALLOC;
	return 0;
}

struct authopts *
authopts_copy(const struct authopts *o)
{
	struct authopts *c;

	if ((c = authopts_new(0)) == NULL)
		return NULL;
	c->permit_pty = o->permit_pty;
	c->permit_port_forwarding = o->permit_port_forwarding;
	c->permit_agent_forwarding = o->permit_agent_forwarding;
	c->permit_x11_forwarding = o->permit_x11_forwarding;
	c->permit_user_rc = o->permit_user_rc;
	c->restricted = o->restricted;
	c->no_require_user_presence = o->no_require_user_presence;
	c->require_verify = o->require_verify;
	c->cert_authority = o->cert_authority;
	c->expiry = o->expiry;
	c->tunnel = o->tunnel;
	if (dup_opt(&c->principals, o->principals) != 0 ||
	    dup_opt(&c->force_command, o->force_command) != 0 ||
	    strv_union(&c->env, &c->nenv, o->env, o->nenv) != 0 ||
	    strv_union(&c->from, &c->nfrom, o->from, o->nfrom) != 0 ||
	    strv_union(&c->source_address, &c->nsource_address,
	        o->source_address, o->nsource_address) != 0 ||
	    permits_copy(&c->permitopen, &o->permitopen) != 0 ||
	    permits_copy(&c->permitlisten, &o->permitlisten) != 0) {
		authopts_free(c);
		return NULL;
	}
	return c;
}

/* numbers as OpenBSD's strtonum(3) reads them */

static int
number_in(const char *s, long long lo, long long hi, long long *vp)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE || v < lo || v > hi)
		return -1;
	*vp = v;
	return 0;
}

/* OpenSSH's a2port(): a number 0..65535 or a tcp service name; -1 if bad. */
static int
port_number(const char *s)
{
	struct servent *se;
	long long v;

	if (number_in(s, 0, 65535, &v) == 0)
		return (int)v;
	if (*s != '\0' && (se = getservbyname(s, "tcp")) != NULL)
		return ntohs((uint16_t)se->s_port);
	return -1;
}

/* OpenSSH's a2tun() without the remote part; -2 if bad. */
static int
tunnel_number(const char *s)
{
	long long v;

	if (strcasecmp(s, "any") == 0)
		return AUTHOPTS_TUN_ANY;
	if (number_in(s, 0, AUTHOPTS_TUN_MAX, &v) != 0)
		return -2;
	return (int)v;
}

/* time */

static int
two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int
authopts_parse_time(const char *s, uint64_t *tp)
{
	struct tm tm;
	size_t i, l = strlen(s);
	time_t t;
	int utc = 0;

	*tp = 0;
	if (l > 1 && (s[l - 1] == 'Z' || s[l - 1] == 'z')) {
		utc = 1;
		l--;
	} else if (l > 3 && strncasecmp(s + l - 3, "UTC", 3) == 0) {
		utc = 1;
		l -= 3;
	}
	if (l != 8 && l != 12 && l != 14)
		return ERR_FORMAT;
	for (i = 0; i < l; i++)
		if (s[i] < '0' || s[i] > '9')
			return ERR_FORMAT;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = two_digits(s) * 100 + two_digits(s + 2) - 1900;
	tm.tm_mon = two_digits(s + 4) - 1;
	tm.tm_mday = two_digits(s + 6);
	if (l >= 12) {
		tm.tm_hour = two_digits(s + 8);
		tm.tm_min = two_digits(s + 10);
	}
	if (l == 14)
		tm.tm_sec = two_digits(s + 12);
	/* The ranges strptime(3) accepts for %m %d %H %M %S. */
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 61)
		return ERR_FORMAT;
	/*
	 * OpenSSH leaves tm_isdst 0, which reads a summer date an hour late;
	 * asking mktime() to work DST out keeps the wall-clock time written.
	 */
	tm.tm_isdst = -1;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t <= 0)
		return ERR_FORMAT;
	*tp = (uint64_t)t;
	return 0;
}

void
authopts_format_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = t > (uint64_t)INT64_MAX ? (time_t)INT64_MAX : (time_t)t;
	struct tm tm;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%llu", (unsigned long long)t);
}

int
authopts_check_expiry(const struct authopts *o, time_t now)
{
	return o->expiry == 0 || now <= 0 || o->expiry >= (uint64_t)now;
}

/* A refusal of authopts_authorise: at debug, as sshd, and to the client
 * when remote. */
static void refused(int remote, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
refused(int remote, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	debug("%s", line);
	if (remote)
		authdebug_add("%s", line);
}

int
authopts_authorise(const struct authopts *o, time_t now, int allow_ca,
    const char *user, const char *host, const char *addr, const char *loc,
    unsigned log_flags)
{
	char when[64];
	int remote = (log_flags & AUTHOPTS_LOG_REMOTE) != 0;
	int r;

	if (host == NULL)
		host = addr;
	if (!authopts_check_expiry(o, now)) {
		authopts_format_time(o->expiry, when, sizeof(when));
		refused(remote, "%s: entry expired at %s", loc, when);
		return -1;
	}
	if (o->principals != NULL && !o->cert_authority) {
		refused(remote, "%s: principals on non-CA key", loc);
		return -1;
	}
	if (!allow_ca && o->cert_authority) {
		refused(remote, "%s: cert-authority flag invalid here", loc);
		return -1;
	}
	if (o->nfrom == 0 || (r = authopts_check_from(o, host, addr)) == 1)
		return 0;
	if (r == -1)
		refused(remote, "%s: invalid from criteria", loc);
	logit("%s: Authentication tried for %.100s with correct key but not "
	      "from a permitted host (host=%.200s, ip=%.200s, "
	      "required=%.200s).",
	    loc, user != NULL ? user : "UNKNOWN",
	    host != NULL ? host : "UNKNOWN", addr != NULL ? addr : "UNKNOWN",
	    o->from[0] != NULL ? o->from[0] : "UNKNOWN");
	if (remote)
		authdebug_add("%s: Your host '%.200s' is not permitted to use "
		              "this key for login.",
		    loc, host != NULL ? host : "UNKNOWN");
	return -1;
}

/* the options parser */

/*
 * Flag options. "no-NAME" clears a negatable one; "touch-required" is
 * stored inverted, as no_require_user_presence.
 */
static const struct flag_opt {
	const char *name;
	int negatable;
	int inverted;
	size_t off;
} flag_opts[] = {
    {"cert-authority", 0, 0, offsetof(struct authopts, cert_authority)},
    {"port-forwarding", 1, 0,
        offsetof(struct authopts, permit_port_forwarding)},
    {"agent-forwarding", 1, 0,
        offsetof(struct authopts, permit_agent_forwarding)},
    {"x11-forwarding", 1, 0, offsetof(struct authopts, permit_x11_forwarding)},
    {"touch-required", 1, 1,
        offsetof(struct authopts, no_require_user_presence)},
    {"verify-required", 1, 0, offsetof(struct authopts, require_verify)},
    {"pty", 1, 0, offsetof(struct authopts, permit_pty)},
    {"user-rc", 1, 0, offsetof(struct authopts, permit_user_rc)},
};

static int
ends_option(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\0';
}

/*
 * A flag at *sp: 1 set, 0 negated, -1 not this flag. OpenSSH compares a
 * prefix and then insists on a separator, which is the same as comparing
 * whole words.
 */
static int
match_flag(const char **sp, const char *name, int negatable)
{
	const char *s = *sp;
	size_t len = strlen(name);
	int neg = 0;

	if (negatable && strncasecmp(s, "no-", 3) == 0) {
		s += 3;
		neg = 1;
	}
	if (strncasecmp(s, name, len) != 0 || !ends_option(s[len]))
		return -1;
	*sp = s + len;
	return !neg;
}

/* "NAME=" at *sp: advance past it and return 1. */
static int
match_valued(const char **sp, const char *name)
{
	size_t len = strlen(name);

	if (strncasecmp(*sp, name, len) != 0 || (*sp)[len] != '=')
		return 0;
	*sp += len + 1;
	return 1;
}

/* A double-quoted value at *sp; \" is a quote, other backslashes stay. */
static int
dequote(const char **sp, char **out, const char **errp)
{
	const char *s = *sp, *p;
	size_t n = 0, i = 0;
	char *v;

	if (*s != '"') {
		*errp = "missing start quote";
		return ERR_FORMAT;
	}
	s++;
	for (p = s; *p != '\0' && *p != '"'; p++, n++)
		if (p[0] == '\\' && p[1] == '"')
			p++;
	if (*p == '\0') {
		*errp = "missing end quote";
		return ERR_FORMAT;
	}
	if ((v = malloc(n + 1)) == NULL) {
		*errp = "memory allocation failed";
		return ERR_ALLOC;
	}
	for (p = s; *p != '"'; p++) {
		if (p[0] == '\\' && p[1] == '"')
			p++;
		v[i++] = *p;
	}
	v[i] = '\0';
	*sp = p + 1;
	*out = v;
	return 0;
}

/* OpenSSH's valid_env_name(): one or more ASCII letters, digits or '_'. */
static int
env_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Index of the entry setting the same name as s ("NAME=..."), or n. */
static size_t
env_find(char *const *env, size_t n, const char *s)
{
	size_t i, len = strcspn(s, "=");

	for (i = 0; i < n; i++)
		if (strncmp(env[i], s, len) == 0 && env[i][len] == '=')
			return i;
	return n;
}

static int
parse_env(const char **sp, struct authopts *o, const char **errp)
{
	char *v = NULL, *eq;
	int r;

	if (o->nenv >= AUTHOPTS_ENV_MAX) {
		*errp = "too many environment strings";
		return ERR_FORMAT;
	}
	if ((r = dequote(sp, &v, errp)) != 0)
		return r;
	if ((eq = strchr(v, '=')) == NULL ||
	    !env_name_ok(v, (size_t)(eq - v))) {
		free(v);
		*errp = "invalid environment string";
		return ERR_FORMAT;
	}
	/* Since OpenSSH 8.7 the first setting of a name wins. */
	if (env_find(o->env, o->nenv, v) < o->nenv) {
		free(v);
		return 0;
	}
	if (strv_push(&o->env, &o->nenv, v) != 0) {
		free(v);
		*errp = "memory allocation failed";
		return ERR_ALLOC;
	}
	return 0;
}

/*
 * Split "host:port", "host/port" or "[host]:port" in place as OpenSSH's
 * hpdelim() does; *portp is NULL when there is no delimiter. NULL for a
 * malformed bracketed host.
 */
static char *
split_host_port(char *s, char **portp)
{
	char *p = s;

	*portp = NULL;
	if (*p == '[') {
		if ((p = strchr(p, ']')) == NULL)
			return NULL;
		p++;
	} else
		p += strcspn(p, ":/");
	if (*p == '\0')
		return s;
	if (*p != ':' && *p != '/')
		return NULL;
	*p = '\0';
	*portp = p + 1;
	return s;
}

/* OpenSSH's cleanhostname(): "[addr]" becomes "addr". */
static char *
clean_host(char *h)
{
	size_t len = strlen(h);

	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h[len - 1] = '\0';
		return h + 1;
	}
	return h;
}

int
authopts_permits_add_spec(struct authopts_permits *p, const char *written,
    int listen, const char **errp)
{
	char *spec = NULL, *host, *port_s;
	int port, r;

	if (p->n >= AUTHOPTS_PERMIT_MAX) {
		*errp = "too many permission directives";
		return ERR_FORMAT;
	}
	/* A bare port in permitlisten means any listen address. */
	if (asprintf(&spec, "%s%s",
	        listen && strchr(written, ':') == NULL ? "*:" : "",
	        written) == -1) {
		*errp = "memory allocation failed";
		return ERR_ALLOC;
	}
	if ((host = split_host_port(spec, &port_s)) == NULL ||
	    strlen(host) >= HOST_MAX) {
		*errp = "invalid permission hostname";
		r = ERR_FORMAT;
		goto out;
	}
	if (port_s == NULL) {
		*errp = "invalid permission port";
		r = ERR_FORMAT;
		goto out;
	}
	if (strcmp(port_s, "*") == 0)
		port = AUTHOPTS_PORT_ANY;
	else if ((port = port_number(port_s)) <= 0) {
		*errp = "invalid permission port";
		r = ERR_FORMAT;
		goto out;
	}
	p->restricted = 1;
	if ((r = permits_add(p, clean_host(host), port)) != 0)
		*errp = r == ERR_LIMIT ? "too many permission directives"
		                       : "memory allocation failed";
	if (r == ERR_LIMIT)
		r = ERR_FORMAT;
out:
	free(spec);
	return r;
}

/* permitopen="host:port" or permitlisten="[host:]port". */
static int
parse_permit(
    const char **sp, int listen, struct authopts_permits *p, const char **errp)
{
	char *v = NULL;
	int r;

	if (p->n >= AUTHOPTS_PERMIT_MAX) {
		*errp = "too many permission directives";
		return ERR_FORMAT;
	}
	if ((r = dequote(sp, &v, errp)) != 0)
		return r;
	r = authopts_permits_add_spec(p, v, listen, errp);
	free(v);
	return r;
}

static void
set_restrict(struct authopts *o)
{
	o->restricted = 1;
	o->permit_pty = o->permit_port_forwarding = 0;
	o->permit_agent_forwarding = o->permit_x11_forwarding = 0;
	o->permit_user_rc = 0;
}

/* A valued option that may appear once: command=, principals=, from=. */
static int
parse_once(const char **sp, char **dst, const char *dupmsg, const char **errp)
{
	if (*dst != NULL) {
		*errp = dupmsg;
		return ERR_FORMAT;
	}
	return dequote(sp, dst, errp);
}

/* One option at *sp: 0, an ERR_* code, or 1 when it is no option we know. */
static int
parse_one(const char **sp, struct authopts *o, const char **errp)
{
	char *v = NULL;
	uint64_t t;
	size_t i;
	int f, r;

	if (match_flag(sp, "restrict", 0) != -1) {
		set_restrict(o);
		return 0;
	}
	for (i = 0; i < sizeof(flag_opts) / sizeof(flag_opts[0]); i++) {
		f = match_flag(sp, flag_opts[i].name, flag_opts[i].negatable);
		if (f == -1)
			continue;
		*(int *)((char *)o + flag_opts[i].off) =
		    flag_opts[i].inverted ? !f : f;
		return 0;
	}
	if (match_valued(sp, "command"))
		return parse_once(sp, &o->force_command,
		    "multiple \"command\" clauses", errp);
	if (match_valued(sp, "principals"))
		return parse_once(sp, &o->principals,
		    "multiple \"principals\" clauses", errp);
	if (match_valued(sp, "from")) {
		if (o->nfrom > 0) {
			*errp = "multiple \"from\" clauses";
			return ERR_FORMAT;
		}
		if ((r = dequote(sp, &v, errp)) != 0)
			return r;
		if (strv_push(&o->from, &o->nfrom, v) != 0) {
			free(v);
			*errp = "memory allocation failed";
			return ERR_ALLOC;
		}
		return 0;
	}
	if (match_valued(sp, "expiry-time")) {
		if ((r = dequote(sp, &v, errp)) != 0)
			return r;
		r = authopts_parse_time(v, &t);
		free(v);
		if (r != 0) {
			*errp = "invalid expires time";
			return ERR_FORMAT;
		}
		/* Several are allowed; the earliest wins. */
		if (o->expiry == 0 || t < o->expiry)
			o->expiry = t;
		return 0;
	}
	if (match_valued(sp, "environment"))
		return parse_env(sp, o, errp);
	if (match_valued(sp, "permitopen"))
		return parse_permit(sp, 0, &o->permitopen, errp);
	if (match_valued(sp, "permitlisten"))
		return parse_permit(sp, 1, &o->permitlisten, errp);
	if (match_valued(sp, "tunnel")) {
		if ((r = dequote(sp, &v, errp)) != 0)
			return r;
		/* Several are allowed; the last wins, as in OpenSSH. */
		f = tunnel_number(v);
		free(v);
		if (f == -2) {
			*errp = "invalid tun device";
			return ERR_FORMAT;
		}
		o->tunnel = f;
		return 0;
	}
	return 1;
}

int
authopts_parse(const char *s, struct authopts **out, const char **errstrp)
{
	struct authopts *o;
	const char *err = NULL;
	int r;

	*out = NULL;
	if (errstrp != NULL)
		*errstrp = NULL;
	if ((o = authopts_new(1)) == NULL) {
		if (errstrp != NULL)
			*errstrp = "memory allocation failed";
		return ERR_ALLOC;
	}
	while (s != NULL && *s != '\0' && *s != ' ' && *s != '\t') {
		/*
		 * Text that is no option is left in place and must then be
		 * a comma: OpenSSH skips empty options (",,") this way.
		 */
		if ((r = parse_one(&s, o, &err)) < 0)
			goto fail;
		if (*s == '\0' || *s == ' ' || *s == '\t')
			break;
		if (*s != ',') {
			err = "unknown key option";
			r = ERR_FORMAT;
			goto fail;
		}
		if (*++s == '\0') {
			err = "unexpected end-of-options";
			r = ERR_FORMAT;
			goto fail;
		}
	}
	*out = o;
	return 0;
fail:
	authopts_free(o);
	if (errstrp != NULL)
		*errstrp = err;
	return r;
}

/* lines */

/* End of the options field: the first blank outside quotes; NULL if open. */
static const char *
skip_options(const char *cp)
{
	int quoted = 0;

	for (; *cp != '\0' && (quoted || (*cp != ' ' && *cp != '\t')); cp++) {
		if (cp[0] == '\\' && cp[1] == '"')
			cp++;
		else if (*cp == '"')
			quoted = !quoted;
	}
	return quoted ? NULL : cp;
}

/* A plain key, or (skp non-NULL) a FIDO security key, at s. */
static int
parse_key_text(const char *s, struct sshkey **kp, struct sshkey_sk **skp)
{
	if (sshkey_parse_public_text(s, kp, NULL) == 0)
		return 0;
	if (skp != NULL && sshkey_sk_parse_public_text(s, skp, NULL) == 0)
		return 0;
	return ERR_NOT_FOUND;
}

static int
split_line(const char *line, const char **optsp, size_t *optslenp,
    const char **keyp, struct sshkey **kp, struct sshkey_sk **skp)
{
	const char *cp = line + strspn(line, " \t"), *end, *key;

	*optsp = NULL;
	*optslenp = 0;
	*keyp = NULL;
	*kp = NULL;
	if (skp != NULL)
		*skp = NULL;
	if (*cp == '\0' || *cp == '#' || *cp == '\n' || *cp == '\r')
		return ERR_NOT_FOUND;
	/* As sshd: a key first; failing that, options and then a key. */
	if (parse_key_text(cp, kp, skp) == 0) {
		*keyp = cp;
		return 0;
	}
	if ((end = skip_options(cp)) == NULL)
		return ERR_FORMAT;
	key = end + strspn(end, " \t");
	if (*key == '\0' || parse_key_text(key, kp, skp) != 0)
		return ERR_NOT_FOUND;
	*optsp = cp;
	*optslenp = (size_t)(end - cp);
	*keyp = key;
	return 0;
}

int
authkeys_split_line(
    const char *line, const char **optsp, size_t *optslenp, const char **keyp)
{
	struct sshkey *k = NULL;
	int r;

	r = split_line(line, optsp, optslenp, keyp, &k, NULL);
	sshkey_free(k);
	return r;
}

int
authkeys_parse_line(const char *line, struct sshkey **keyp,
    struct authopts **optsp, const char **errstrp)
{
	return authkeys_parse_line_sk(line, keyp, NULL, optsp, errstrp);
}

int
authkeys_parse_line_sk(const char *line, struct sshkey **keyp,
    struct sshkey_sk **skp, struct authopts **optsp, const char **errstrp)
{
	const char *opts, *key, *err = NULL;
	size_t optslen;
	int r;

	*keyp = NULL;
	*optsp = NULL;
	*errstrp = NULL;
	r = split_line(line, &opts, &optslen, &key, keyp, skp);
	if (r == ERR_FORMAT)
		*errstrp = "invalid key option string";
	if (r != 0)
		return r;
	/* The parser stops at the blank that ends the field. */
	if ((r = authopts_parse(opts, optsp, &err)) != 0)
		*errstrp = err;
	return r;
}

/* source checks */

int
authopts_check_from(
    const struct authopts *o, const char *host, const char *addr)
{
	size_t i;
	int r, ret = 1;

	if (host == NULL)
		host = addr;
	for (i = 0; i < o->nfrom; i++) {
		if ((r = match_host_and_ip(host, addr, o->from[i])) == -1)
			return -1;
		if (r != 1)
			ret = 0;
	}
	for (i = 0; i < o->nsource_address; i++) {
		if ((r = match_cidr_list(addr, o->source_address[i])) == -1)
			return -1;
		if (r != 1)
			ret = 0;
	}
	return ret;
}

int
authopts_add_source_address(struct authopts *o, const char *list)
{
	if (match_cidr_list(NULL, list) == -1)
		return ERR_FORMAT;
	if (strv_has(o->source_address, o->nsource_address, list))
		return 0;
	if (o->nsource_address >= AUTHOPTS_FROM_MAX)
		return ERR_LIMIT;
	return strv_push_copy(&o->source_address, &o->nsource_address, list);
}

int
authopts_is_unrestricted(const struct authopts *o)
{
	return o->permit_pty && o->permit_port_forwarding &&
	    o->permit_agent_forwarding && o->permit_x11_forwarding &&
	    o->permit_user_rc && !o->restricted &&
	    !o->no_require_user_presence && !o->require_verify &&
	    !o->cert_authority && o->principals == NULL &&
	    o->force_command == NULL && o->nenv == 0 &&
	    o->tunnel == AUTHOPTS_TUN_NONE && !o->permitopen.restricted &&
	    !o->permitlisten.restricted;
}

int
authopts_permits_open_ok(
    const struct authopts_permits *p, const char *host, int port)
{
	const struct authopts_permit *e;
	size_t i;

	if (!p->restricted)
		return 1;
	for (i = 0; i < p->n; i++) {
		e = &p->v[i];
		if ((e->port == AUTHOPTS_PORT_ANY || e->port == port) &&
		    (strcmp(e->host, "*") == 0 || strcmp(e->host, host) == 0))
			return 1;
	}
	return 0;
}

int
authopts_permits_listen_ok(
    const struct authopts_permits *p, const char *host, int port)
{
	const struct authopts_permit *e;
	char *lhost, *s;
	size_t i;
	int ok = 0;

	if (!p->restricted)
		return 1;
	if (host == NULL || (lhost = strdup(host)) == NULL)
		return 0;
	for (s = lhost; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	for (i = 0; i < p->n && !ok; i++) {
		e = &p->v[i];
		ok = (e->port == AUTHOPTS_PORT_ANY || e->port == port) &&
		    match_pattern(lhost, e->host);
	}
	free(lhost);
	return ok;
}

int
authopts_permitopen_ok(const struct authopts *o, const char *host, int port)
{
	return o->permit_port_forwarding &&
	    authopts_permits_open_ok(&o->permitopen, host, port);
}

int
authopts_permitlisten_ok(const struct authopts *o, const char *host, int port)
{
	return o->permit_port_forwarding &&
	    authopts_permits_listen_ok(&o->permitlisten, host, port);
}

/* merging */

/* Where two permit entries overlap, as one entry; 0 if they do not. */
static int
permit_meet(const struct authopts_permit *a, const struct authopts_permit *b,
    const char **hostp, int *portp)
{
	if (a->port != b->port && a->port != AUTHOPTS_PORT_ANY &&
	    b->port != AUTHOPTS_PORT_ANY)
		return 0;
	*portp = a->port == AUTHOPTS_PORT_ANY ? b->port : a->port;
	if (strcmp(a->host, b->host) == 0 || strcmp(b->host, "*") == 0)
		*hostp = a->host;
	else if (strcmp(a->host, "*") == 0)
		*hostp = b->host;
	else
		return 0;
	return 1;
}

/*
 * Both lists restrict: keep what both allow. Overlaps of two different
 * wildcard patterns are dropped, so the result may allow less than the
 * true intersection, never more.
 */
static int
permits_merge(struct authopts_permits *dst, const struct authopts_permits *a,
    const struct authopts_permits *b)
{
	const char *host;
	size_t i, j;
	int port, r;

	if (!a->restricted || !b->restricted)
		return permits_copy(dst, a->restricted ? a : b);
	dst->restricted = 1;
	for (i = 0; i < a->n; i++)
		for (j = 0; j < b->n; j++) {
			if (!permit_meet(&a->v[i], &b->v[j], &host, &port))
				continue;
			/* Linear in the pairs; more than the cap refuses. */
			if ((r = permits_push(dst, host, port)) != 0)
				return r;
		}
	return 0;
}

static int
merge_env(
    struct authopts *m, const struct authopts *a, const struct authopts *b)
{
	size_t i;

	if (strv_union(&m->env, &m->nenv, a->env, a->nenv) != 0)
		return ERR_ALLOC;
	for (i = 0; i < b->nenv; i++) {
		if (env_find(m->env, m->nenv, b->env[i]) < m->nenv)
			continue;
		if (m->nenv >= AUTHOPTS_ENV_MAX)
			return ERR_LIMIT;
		if (strv_push_copy(&m->env, &m->nenv, b->env[i]) != 0)
			return ERR_ALLOC;
	}
	return 0;
}

struct authopts *
authopts_merge(const struct authopts *a, const struct authopts *b)
{
	struct authopts *m;
	const char *why = NULL;

	if ((m = authopts_merge_why(a, b, &why)) == NULL && why != NULL)
		error("%s", why); /* sshd's words, as its callers log them */
	return m;
}

struct authopts *
authopts_merge_why(
    const struct authopts *a, const struct authopts *b, const char **whyp)
{
	struct authopts *m;
	const char *why = "out of memory";

	*whyp = NULL;
	if (a == NULL || b == NULL)
		return a == NULL && b == NULL ? NULL : authopts_copy(a ? a : b);
	if ((m = authopts_new(0)) == NULL)
		goto fail;
	m->permit_pty = a->permit_pty && b->permit_pty;
	m->permit_port_forwarding =
	    a->permit_port_forwarding && b->permit_port_forwarding;
	m->permit_agent_forwarding =
	    a->permit_agent_forwarding && b->permit_agent_forwarding;
	m->permit_x11_forwarding =
	    a->permit_x11_forwarding && b->permit_x11_forwarding;
	m->permit_user_rc = a->permit_user_rc && b->permit_user_rc;
	m->restricted = a->restricted || b->restricted;
	m->no_require_user_presence =
	    a->no_require_user_presence && b->no_require_user_presence;
	m->require_verify = a->require_verify || b->require_verify;

	m->expiry = a->expiry;
	if (b->expiry != 0 && (m->expiry == 0 || b->expiry < m->expiry))
		m->expiry = b->expiry;

	if (a->force_command != NULL && b->force_command != NULL &&
	    strcmp(a->force_command, b->force_command) != 0) {
		why = "forced command options do not match";
		goto fail;
	}
	if (dup_opt(&m->force_command,
	        a->force_command ? a->force_command : b->force_command) != 0)
		goto fail;

	m->tunnel = a->tunnel;
	if (m->tunnel == AUTHOPTS_TUN_NONE || m->tunnel == AUTHOPTS_TUN_ANY)
		m->tunnel =
		    b->tunnel == AUTHOPTS_TUN_NONE ? a->tunnel : b->tunnel;
	else if (b->tunnel != AUTHOPTS_TUN_NONE &&
	    b->tunnel != AUTHOPTS_TUN_ANY && b->tunnel != a->tunnel) {
		why = "tunnel device options do not match";
		goto fail;
	}

	if (strv_union(&m->from, &m->nfrom, a->from, a->nfrom) != 0 ||
	    strv_union(&m->from, &m->nfrom, b->from, b->nfrom) != 0 ||
	    strv_union(&m->source_address, &m->nsource_address,
	        a->source_address, a->nsource_address) != 0 ||
	    strv_union(&m->source_address, &m->nsource_address,
	        b->source_address, b->nsource_address) != 0)
		goto fail;
	if (m->nfrom > AUTHOPTS_FROM_MAX ||
	    m->nsource_address > AUTHOPTS_FROM_MAX) {
		why = "too many source restrictions";
		goto fail;
	}
	if (merge_env(m, a, b) != 0) {
		why = "too many environment strings";
		goto fail;
	}
	if (permits_merge(&m->permitopen, &a->permitopen, &b->permitopen) !=
	        0 ||
	    permits_merge(
	        &m->permitlisten, &a->permitlisten, &b->permitlisten) != 0) {
		why = "too many permission directives";
		goto fail;
	}
	return m;
fail:
	*whyp = why;
	authopts_free(m);
	return NULL;
}

/* logging */

/* "LOC: permitted WHAT: HOST:PORT" for each entry, as sshd writes them. */
static void
log_permits(const char *loc, const char *what, const struct authopts_permits *p)
{
	char port[16];
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (p->v[i].port == AUTHOPTS_PORT_ANY)
			snprintf(port, sizeof(port), "*");
		else
			snprintf(port, sizeof(port), "%d", p->v[i].port);
		debug("%s: permitted %s: %s%s%s:%s", loc, what,
		    strchr(p->v[i].host, ':') != NULL ? "[" : "", p->v[i].host,
		    strchr(p->v[i].host, ':') != NULL ? "]" : "", port);
	}
}

void
authopts_log(const struct authopts *o, const char *loc, unsigned flags)
{
	char line[AUTHDEBUG_MAX_LEN], tun[32] = "";
	int env = (flags & AUTHOPTS_LOG_ENV) != 0 && o->nenv > 0;
	size_t i;

	if ((log_get_level() < LL_DEBUG1 || (flags & AUTHOPTS_LOG_NOLOCAL)) &&
	    !(flags & AUTHOPTS_LOG_REMOTE))
		return;
	if (o->tunnel != AUTHOPTS_TUN_NONE)
		snprintf(tun, sizeof(tun), " tun=%d", o->tunnel);
	/* sshd 9.2's words and order, its missing blank before "expires"
	 * included: the client compares what it shows with -v. */
	snprintf(line, sizeof(line),
	    "%s: key options:%s%s%s%s%s%s%s%s%s%s%s%s%s%s", loc,
	    o->permit_agent_forwarding ? " agent-forwarding" : "",
	    o->force_command != NULL ? " command" : "",
	    env ? " environment" : "",
	    o->expiry != 0 && !(flags & AUTHOPTS_LOG_NOEXPIRY) ? "expires" : "",
	    o->no_require_user_presence ? " no-touch-required" : "",
	    o->permitopen.n > 0 && (flags & AUTHOPTS_LOG_OPEN) ? " permitopen"
	                                                       : "",
	    o->permitlisten.n > 0 && (flags & AUTHOPTS_LOG_LISTEN)
	        ? " permitlisten"
	        : "",
	    o->permit_port_forwarding ? " port-forwarding" : "",
	    o->principals != NULL ? " principals" : "",
	    o->permit_pty ? " pty" : "", o->require_verify ? " uv" : "", tun,
	    o->permit_user_rc ? " user-rc" : "",
	    o->permit_x11_forwarding ? " x11-forwarding" : "");
	if (!(flags & AUTHOPTS_LOG_NOLOCAL))
		debug("%s", line);
	if (flags & AUTHOPTS_LOG_REMOTE)
		authdebug_add("%s", line);
	for (i = 0; env && i < o->nenv; i++) {
		if (!(flags & AUTHOPTS_LOG_NOLOCAL))
			debug("%s: environment: %s", loc, o->env[i]);
		if (flags & AUTHOPTS_LOG_REMOTE)
			authdebug_add("%s: environment: %s", loc, o->env[i]);
	}
	/* As sshd's auth_log_authopts(): the details stay in the log. */
	if ((flags & AUTHOPTS_LOG_NOLOCAL) || log_get_level() < LL_DEBUG1)
		return;
	if (o->expiry != 0 && !(flags & AUTHOPTS_LOG_NOEXPIRY)) {
		authopts_format_time(o->expiry, tun, sizeof(tun));
		debug("%s: expires at %s", loc, tun);
	}
	if (o->principals != NULL)
		debug("%s: authorized principals: \"%s\"", loc, o->principals);
	if (o->force_command != NULL)
		debug("%s: forced command: \"%s\"", loc, o->force_command);
	if (flags & AUTHOPTS_LOG_OPEN)
		log_permits(loc, "open", &o->permitopen);
	if (flags & AUTHOPTS_LOG_LISTEN)
		log_permits(loc, "listen", &o->permitlisten);
}

/* IPC encoding */

static int
put_nullable(struct buf *b, const char *s)
{
	int r;

	if ((r = buf_put_bool(b, s != NULL)) != 0 || s == NULL)
		return r;
	return buf_put_cstring(b, s);
}

static int
put_strv(struct buf *b, char *const *v, size_t n)
{
	size_t i;
	int r;

	if (n > UINT32_MAX)
		return ERR_TOO_BIG;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = buf_put_cstring(b, v[i])) != 0)
			return r;
	return 0;
}

int
authopts_permits_put(struct buf *b, const struct authopts_permits *p)
{
	size_t i;
	int r;

	if ((r = buf_put_bool(b, p->restricted)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->n)) != 0)
		return r;
	for (i = 0; i < p->n; i++)
		if ((r = buf_put_cstring(b, p->v[i].host)) != 0 ||
		    (r = buf_put_u32(b, (uint32_t)p->v[i].port)) != 0)
			return r;
	return 0;
}

int
authopts_serialize(const struct authopts *o, struct buf *b)
{
	const int flags[] = {o->permit_pty, o->permit_port_forwarding,
	    o->permit_agent_forwarding, o->permit_x11_forwarding,
	    o->permit_user_rc, o->restricted, o->no_require_user_presence,
	    o->require_verify, o->cert_authority};
	size_t i;
	int r;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if ((r = buf_put_bool(b, flags[i])) != 0)
			return r;
	if ((r = buf_put_u64(b, o->expiry)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)o->tunnel)) != 0 ||
	    (r = put_nullable(b, o->principals)) != 0 ||
	    (r = put_nullable(b, o->force_command)) != 0 ||
	    (r = put_strv(b, o->env, o->nenv)) != 0 ||
	    (r = put_strv(b, o->from, o->nfrom)) != 0 ||
	    (r = put_strv(b, o->source_address, o->nsource_address)) != 0 ||
	    (r = authopts_permits_put(b, &o->permitopen)) != 0 ||
	    (r = authopts_permits_put(b, &o->permitlisten)) != 0)
		return r;
	return 0;
}

/* A bool that must be exactly 0 or 1. */
static int
get_flag(struct buf *b, int *v)
{
	uint8_t x;
	int r;

	if ((r = buf_get_u8(b, &x)) != 0)
		return r;
	if (x > 1)
		return ERR_FORMAT;
	*v = x;
	return 0;
}

static int
get_nullable(struct buf *b, char **sp)
{
	int present, r;

	if ((r = get_flag(b, &present)) != 0 || !present)
		return r;
	return buf_get_cstring(b, sp, NULL);
}

static int
get_strv(struct buf *b, char ***vp, size_t *np, size_t max, int env)
{
	uint32_t n, i;
	char *s;
	int r;

	if ((r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > max)
		return ERR_LIMIT;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(b, &s, NULL)) != 0)
			return r;
		if (env &&
		    (strchr(s, '=') == NULL ||
		        !env_name_ok(s, strcspn(s, "=")) ||
		        env_find(*vp, *np, s) < *np)) {
			free(s);
			return ERR_FORMAT;
		}
		if (strv_push(vp, np, s) != 0) {
			free(s);
			return ERR_ALLOC;
		}
	}
	return 0;
}

int
authopts_permits_get(struct buf *b, struct authopts_permits *p)
{
	uint32_t n, i, port;
	char *host;
	int r;

	if ((r = get_flag(b, &p->restricted)) != 0 ||
	    (r = buf_get_u32(b, &n)) != 0)
		return r;
	if (n > AUTHOPTS_PERMIT_MAX || (n > 0 && !p->restricted))
		return ERR_FORMAT;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(b, &host, NULL)) != 0)
			return r;
		r = buf_get_u32(b, &port);
		if (r == 0 && (port > 65535 || strlen(host) >= HOST_MAX))
			r = ERR_FORMAT;
		if (r == 0)
			r = permits_push(p, host, (int)port);
		free(host);
		if (r != 0)
			return r;
	}
	return 0;
}

int
authopts_deserialize(struct buf *b, struct authopts **out)
{
	struct authopts *o;
	uint32_t tun;
	int r;

	*out = NULL;
	if ((o = authopts_new(0)) == NULL)
		return ERR_ALLOC;
	if ((r = get_flag(b, &o->permit_pty)) != 0 ||
	    (r = get_flag(b, &o->permit_port_forwarding)) != 0 ||
	    (r = get_flag(b, &o->permit_agent_forwarding)) != 0 ||
	    (r = get_flag(b, &o->permit_x11_forwarding)) != 0 ||
	    (r = get_flag(b, &o->permit_user_rc)) != 0 ||
	    (r = get_flag(b, &o->restricted)) != 0 ||
	    (r = get_flag(b, &o->no_require_user_presence)) != 0 ||
	    (r = get_flag(b, &o->require_verify)) != 0 ||
	    (r = get_flag(b, &o->cert_authority)) != 0 ||
	    (r = buf_get_u64(b, &o->expiry)) != 0 ||
	    (r = buf_get_u32(b, &tun)) != 0)
		goto out;
	if (tun == UINT32_MAX)
		o->tunnel = AUTHOPTS_TUN_NONE;
	else if (tun <= AUTHOPTS_TUN_MAX || tun == AUTHOPTS_TUN_ANY)
		o->tunnel = (int)tun;
	else {
		r = ERR_FORMAT;
		goto out;
	}
	if ((r = get_nullable(b, &o->principals)) != 0 ||
	    (r = get_nullable(b, &o->force_command)) != 0 ||
	    (r = get_strv(b, &o->env, &o->nenv, AUTHOPTS_ENV_MAX, 1)) != 0 ||
	    (r = get_strv(b, &o->from, &o->nfrom, AUTHOPTS_FROM_MAX, 0)) != 0 ||
	    (r = get_strv(b, &o->source_address, &o->nsource_address,
	         AUTHOPTS_FROM_MAX, 0)) != 0 ||
	    (r = authopts_permits_get(b, &o->permitopen)) != 0 ||
	    (r = authopts_permits_get(b, &o->permitlisten)) != 0 ||
	    (r = buf_end(b)) != 0)
		goto out;
	*out = o;
	o = NULL;
out:
	authopts_free(o);
	return r;
}
