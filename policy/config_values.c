/*
 * config_values.c: sshd_config(5) value syntax (numbers, times, paths,
 * ports, addresses) and the handlers of the keywords postern implements.
 * Each handler checks its arguments on every line and stores them only
 * when the line is active and the field is still unset (first value
 * wins), or appends for the keywords that accumulate.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "alglist.h"
#include "cipher.h"
#include "crypto.h"
#include "kex.h"
#include "mac.h"
#include "err.h"
#include "log.h"
#include "match.h"
#include "policy/authchain.h"
#include "policy/config_int.h"

const char *
cfg_next_arg(struct cfg_args *a)
{
	if (a->next >= a->ac)
		return NULL;
	return a->av[a->next++];
}

void
cfg_error(const struct cfg_args *a, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		error("%s line %d: %s: bad value", a->filename, a->lineno,
		    a->keyword != NULL ? a->keyword : "?");
		return;
	}
	if (a->keyword == NULL || strcasestr(msg, a->keyword) != NULL)
		error("%s line %d: %s", a->filename, a->lineno, msg);
	else
		error("%s line %d: %s: %s", a->filename, a->lineno, a->keyword,
		    msg);
	free(msg);
}

int
cfg_empty_arg(const struct cfg_args *a)
{
	cfg_error(a, "keyword %s empty argument", a->keyword);
	return ERR_FORMAT;
}

int
cfg_none_not_alone(const struct cfg_args *a)
{
	cfg_error(
	    a, "keyword %s \"none\" argument must appear alone.", a->keyword);
	return ERR_FORMAT;
}

int
cfg_missing_arg(const struct cfg_args *a)
{
	cfg_error(a, "%s missing argument.", a->keyword);
	return ERR_CONFIG;
}

/* --- value parsers -------------------------------------------------------- */

/*
 * cfg_parse_decimal: a base-10 integer in [min, max] with strtonum(3)'s
 * wording on failure ("invalid", "too small", "too large").
 */
int
cfg_parse_decimal(const char *s, long long min, long long max, long long *out,
    const char **why)
{
	char *end = NULL;
	long long v;

	*why = NULL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || end == NULL || *end != '\0') {
		*why = "invalid";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*why = "too small";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*why = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

/* config_port_value: 1..65535 or a tcp service name; -1 if neither. */
int
config_port_value(const char *s)
{
	int port = cfg_a2port(s);

	return port == 0 ? -1 : port;
}

/*
 * cfg_time_value: OpenSSH's time format, a sequence of NUMBER[unit]
 * where unit is s, m, h, d or w in either case and no unit means seconds
 * ("1h30m" = 5400); each NUMBER may have blanks and a sign before it, as
 * for strtol(3) (" 60", "1h +5m", "-0"). -1 on a malformed value, a
 * negative number or a total beyond INT_MAX.
 */
int
cfg_time_value(const char *s)
{
	long long total = 0, n, mult;
	int neg;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		/* Each number as strtol(3) reads it, as sshd's convtime():
		 * blanks, then a sign; none may be below 0 ("-0" is 0). */
		while (isspace((unsigned char)*s))
			s++;
		neg = *s == '-';
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (n = 0; isdigit((unsigned char)*s); s++) {
			n = n * 10 + (*s - '0');
			if (n > INT_MAX)
				return -1;
		}
		if (neg && n != 0)
			return -1;
		switch (*s) {
		case '\0':
			mult = 1;
			break;
		case 's':
		case 'S':
			mult = 1;
			s++;
			break;
		case 'm':
		case 'M':
			mult = 60;
			s++;
			break;
		case 'h':
		case 'H':
			mult = 60 * 60;
			s++;
			break;
		case 'd':
		case 'D':
			mult = 24 * 60 * 60;
			s++;
			break;
		case 'w':
		case 'W':
			mult = 7 * 24 * 60 * 60;
			s++;
			break;
		default:
			return -1;
		}
		total += n * mult;
		if (total > INT_MAX)
			return -1;
	}
	return (int)total;
}

int
config_tilde_expand(const char *path, uid_t uid, char **out)
{
	const struct passwd *pw;
	const char *rest, *sep;
	char user[256];
	size_t ulen, hlen;

	*out = NULL;
	if (path[0] != '~') {
		*out = strdup(path);
		return *out == NULL ? ERR_ALLOC : 0;
	}
	/*
	 * As sshd's tilde_expand(): "~user" or "~user/..." is that user's
	 * home, "~" or "~/..." uid's; then a "/" and the rest, its leading
	 * slashes dropped ("~root" is "/root/").
	 */
	ulen = strcspn(path + 1, "/");
	if (ulen >= sizeof(user)) {
		error("tilde_expand: ~username too long");
		return ERR_TOO_BIG;
	}
	memcpy(user, path + 1, ulen);
	user[ulen] = '\0';
	if ((pw = ulen == 0 ? getpwuid(uid) : getpwnam(user)) == NULL) {
		if (ulen > 0)
			error("tilde_expand: No such user %s", user);
		else
			error("tilde_expand: No such uid %ld", (long)uid);
		return ERR_NOT_FOUND;
	}
	for (rest = path + 1 + ulen; *rest == '/'; rest++)
		;
	hlen = strlen(pw->pw_dir);
	sep = hlen == 0 || pw->pw_dir[hlen - 1] != '/' ? "/" : "";
	if (asprintf(out, "%s%s%s", pw->pw_dir, sep, rest) < 0) {
		*out = NULL;
		return ERR_ALLOC;
	}
	return 0;
}

/* config_tilde_expand for the current user, naming the line if it fails. */
static int
tilde_expand(const char *path, struct cfg_args *a, char **out)
{
	int r = config_tilde_expand(path, getuid(), out);

	if (r == ERR_TOO_BIG)
		cfg_error(a, "user name too long in %s", path);
	else if (r == ERR_NOT_FOUND)
		cfg_error(a, "no such user in %s", path);
	return r == 0 || r == ERR_ALLOC ? r : ERR_CONFIG;
}

/*
 * absolute_path: tilde_expand, then a relative path made absolute against
 * the current directory, as sshd's derelativise_path() does for HostKey,
 * PidFile and Banner. "none", in any case, is kept as "none".
 */
static int
absolute_path(const char *path, struct cfg_args *a, char **out)
{
	char cwd[PATH_MAX], *exp = NULL;
	int r;

	*out = NULL;
	if (strcasecmp(path, "none") == 0) {
		*out = strdup("none"); /* in any case, as sshd keeps it */
		return *out == NULL ? ERR_ALLOC : 0;
	}
	if ((r = tilde_expand(path, a, &exp)) != 0)
		return r;
	if (exp[0] == '/') {
		*out = exp;
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		cfg_error(a, "getcwd: %s", strerror(errno));
		free(exp);
		return ERR_CONFIG;
	}
	r = asprintf(out, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", exp);
	free(exp);
	if (r < 0) {
		*out = NULL;
		return ERR_ALLOC;
	}
	return 0;
}

int
config_add_host_key(struct server_config *c, const char *path)
{
	struct cfg_args a;
	char *abs = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	a.filename = "command-line";
	a.keyword = "HostKey";
	a.active = 1;
	if (c->nhost_key_files >= CONFIG_MAX_LIST) {
		cfg_error(&a, "too many HostKey entries.");
		return ERR_CONFIG;
	}
	if ((r = absolute_path(path, &a, &abs)) != 0)
		return r == ERR_ALLOC ? r : ERR_CONFIG;
	c->host_key_files[c->nhost_key_files++] = abs;
	return 0;
}

/* --- keyword handlers ----------------------------------------------------- */

/* A whole decimal number 0..max for k's int field (first value wins). */
static int
kw_int_upto(struct server_config *c, const struct keyword *k,
    struct cfg_args *a, long long max)
{
	const char *arg = cfg_next_arg(a), *why;
	int *field = field_int(c, k);
	long long v;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "%s integer value missing.", a->keyword);
		return ERR_CONFIG;
	}
	if (cfg_parse_decimal(arg, 0, max, &v, &why) != 0) {
		cfg_error(a, "%s integer value %s.", a->keyword, why);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = (int)v;
	return 0;
}

int
cfg_kw_int(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return kw_int_upto(c, k, a, INT_MAX);
}

/* TOTPWindow: at most 10 steps (liboath's search grows with it). */
int
cfg_kw_totp_window(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return kw_int_upto(c, k, a, 10);
}

/* One %d of sscanf(3): blanks, a sign, digits; 0 if there is none. */
static int
scan_int(const char **pp, long long *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(*pp, &end, 10);
	if (end == *pp || errno == ERANGE || x < INT_MIN || x > INT_MAX)
		return 0;
	*v = x;
	*pp = end;
	return 1;
}

/*
 * MaxStartups start[:rate:full]; a single number n means n:RATE:n, RATE
 * that of an earlier line or 30. Read as sshd's sscanf("%d:%d:%d"): what
 * follows the numbers read is not looked at ("10:30:100x" is 10:30:100),
 * one or three numbers; start at least 1 (0 or less would turn the limit
 * off), start <= full, rate 1..100.
 */
int
cfg_kw_max_startups(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a), *p;
	long long v[3] = {0, 30, 0};
	size_t n = 0;
	int ok;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing argument.");
		return ERR_CONFIG;
	}
	for (p = arg; n < 3 && scan_int(&p, &v[n]);) {
		n++;
		if (n < 3 && *p++ != ':')
			break;
	}
	ok = n == 1 || n == 3;
	if (ok && n == 1)
		v[2] = v[0];
	else if (ok)
		ok = v[0] <= v[2] && v[1] >= 1 && v[1] <= 100;
	ok = ok && v[0] >= 1 && v[2] >= 1;
	if (!ok) {
		cfg_error(a, "Invalid %s spec.", a->keyword);
		return ERR_CONFIG;
	}
	/* As sshd: each line overrides the last; one number keeps the rate. */
	if (a->active) {
		c->max_startups_begin = (int)v[0];
		c->max_startups = (int)v[2];
		if (n == 3 || c->max_startups_rate == CONFIG_UNSET)
			c->max_startups_rate = (int)v[1];
	}
	return 0;
}

void
cfg_dump_max_startups(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	fprintf(f, "maxstartups %d:%d:%d\n", c->max_startups_begin,
	    c->max_startups_rate, c->max_startups);
}

/* PerSourceMaxStartups none|N; as sshd, each line overrides the last. */
int
cfg_kw_per_source_max(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a), *why;
	long long v = INT_MAX;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing argument.");
		return ERR_CONFIG;
	}
	if (strcmp(arg, "none") != 0 &&
	    cfg_parse_decimal(arg, 0, INT_MAX, &v, &why) != 0) {
		cfg_error(a, "%s integer value %s.", a->keyword, why);
		return ERR_CONFIG;
	}
	if (a->active)
		c->per_source_max_startups = (int)v;
	return 0;
}

void
cfg_dump_per_source_max(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	if (c->per_source_max_startups == INT_MAX)
		fprintf(f, "persourcemaxstartups none\n");
	else
		fprintf(
		    f, "persourcemaxstartups %d\n", c->per_source_max_startups);
}

/*
 * PerSourceNetBlockSize V4[:V6]: prefix lengths that group client
 * addresses. As sshd, V6 is 0 when only V4 is given, and each line
 * overrides the last.
 */
int
cfg_kw_netblock(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int v4, v6 = 0, n;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing argument.");
		return ERR_CONFIG;
	}
	n = sscanf(arg, "%d:%d", &v4, &v6);
	if (n < 1 || v4 < 0 || v4 > 32 || v6 < 0 || v6 > 128) {
		cfg_error(a, "Invalid %s spec.", a->keyword);
		return ERR_CONFIG;
	}
	if (a->active) {
		c->per_source_masklen_v4 = v4;
		c->per_source_masklen_v6 = v6;
	}
	return 0;
}

void
cfg_dump_netblock(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	fprintf(f, "persourcenetblocksize %d:%d\n", c->per_source_masklen_v4,
	    c->per_source_masklen_v6);
}

int
cfg_kw_choice(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	size_t i;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing argument.");
		return ERR_CONFIG;
	}
	for (i = 0; k->choices[i].name != NULL; i++) {
		if (strcasecmp(arg, k->choices[i].name) == 0)
			break;
	}
	if (k->choices[i].name == NULL) {
		cfg_error(a, "unsupported option \"%s\".", arg);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = k->choices[i].value;
	return 0;
}

int
cfg_kw_time(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	int v;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing time value.");
		return ERR_CONFIG;
	}
	if ((v = cfg_time_value(arg)) == -1) {
		cfg_error(a, "invalid time value.");
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = v;
	return 0;
}

int
cfg_kw_log_level(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	int v;

	if (arg == NULL)
		arg = "";
	/* sshd also accepts SILENT, its name for QUIET. */
	v = strcasecmp(arg, "SILENT") == 0 ? (int)LL_QUIET
	                                   : log_level_from_name(arg);
	if (v < 0) {
		cfg_error(a, "unsupported log level '%s'", arg);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = v;
	return 0;
}

int
cfg_kw_facility(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	int v;

	if (arg == NULL)
		arg = "";
	if ((v = log_facility_from_name(arg)) < 0) {
		cfg_error(a, "unsupported log facility '%s'", arg);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = v;
	return 0;
}

/* FingerprintHash: a digest name, any case; as sshd, the last value wins
 * (a command-line -o one too, which comes before the file). */
int
cfg_kw_fp_hash(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int *field = field_int(c, k);
	int v;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	if ((v = digest_from_name(arg)) < 0) {
		cfg_error(a, "Invalid %s algorithm \"%s\".", a->keyword, arg);
		return ERR_CONFIG;
	}
	if (a->active)
		*field = v;
	return 0;
}

/* path (malloc'd) into *field unless a value is there: first one wins. */
static void
keep_first(char **field, struct cfg_args *a, char *path)
{
	if (a->active && *field == NULL)
		*field = path;
	else
		free(path);
}

/* cfg_kw_path: one file name, made absolute; first value wins. */
int
cfg_kw_path(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	char *path = NULL;
	int r;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing file name.");
		return ERR_CONFIG;
	}
	/*
	 * As sshd: a line that does not apply (a Match block for others) is
	 * not expanded, so a ~user whose account is gone fails only the
	 * logins the line applies to, not every one.
	 */
	if (!a->active)
		return 0;
	if ((r = absolute_path(arg, a, &path)) != 0)
		return r;
	keep_first(field_str(c, k), a, path);
	return 0;
}

/*
 * HostKeyAgent: the agent's socket, made absolute like a file name, or
 * "SSH_AUTH_SOCK" (the variable's value when the keys are loaded), or
 * "none"; first value wins.
 */
int
cfg_kw_host_key_agent(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	char *path = NULL;
	int r;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing socket name.");
		return ERR_CONFIG;
	}
	if (strcmp(arg, "SSH_AUTH_SOCK") == 0) {
		if ((path = strdup(arg)) == NULL)
			return ERR_ALLOC;
	} else if ((r = absolute_path(arg, a, &path)) != 0)
		return r;
	keep_first(&c->host_key_agent, a, path);
	return 0;
}

/* cfg_kw_path_list: one file name per line, lines accumulate (HostKey). */
int
cfg_kw_path_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	char **list = field_str(c, k);
	size_t *n = field_count(c, k);
	char *path = NULL;
	int r;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing file name.");
		return ERR_CONFIG;
	}
	if (a->active && *n >= CONFIG_MAX_LIST) {
		cfg_error(a, "too many %s entries.", k->name);
		return ERR_CONFIG;
	}
	if ((r = absolute_path(arg, a, &path)) != 0)
		return r;
	if (a->active)
		list[(*n)++] = path;
	else
		free(path);
	return 0;
}

/*
 * cfg_kw_word_list: every argument of the first line that sets the keyword
 * (AuthorizedKeysFile), each with a leading ~ expanded as sshd does;
 * later lines are checked but ignored.
 */
int
cfg_kw_word_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	char **list = field_str(c, k);
	size_t *n = field_count(c, k);
	int store = a->active && *n == 0, first = a->next, r;
	const char *arg;
	char *word;

	if (a->ac - a->next > CONFIG_MAX_LIST) {
		cfg_error(a, "too many %s entries.", k->name);
		return ERR_CONFIG;
	}
	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0')
			return cfg_empty_arg(a);
		if ((r = tilde_expand(arg, a, &word)) != 0)
			return r;
		free(word);
	}
	if (!store)
		return 0;
	for (a->next = first; (arg = cfg_next_arg(a)) != NULL;) {
		if ((r = tilde_expand(arg, a, &list[*n])) != 0)
			return r;
		(*n)++;
	}
	return 0;
}

/* cfg_kw_port: Port lines accumulate. */
int
cfg_kw_port(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	int port;

	/* As sshd: with -p, Port lines are consumed, not even checked. */
	if (c->ports_from_cmdline) {
		while (cfg_next_arg(a) != NULL)
			;
		return 0;
	}
	if (a->active && c->nports >= CONFIG_MAX_LIST) {
		cfg_error(a, "too many ports.");
		return ERR_CONFIG;
	}
	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing port number.");
		return ERR_CONFIG;
	}
	if ((port = config_port_value(arg)) <= 0) {
		cfg_error(a, "Badly formatted port number.");
		return ERR_CONFIG;
	}
	if (a->active)
		c->ports[c->nports++] = port;
	return 0;
}

/*
 * split_host_port: ListenAddress's forms. An address with two or more
 * colons and no brackets is a bare IPv6 address; "[host]" may carry
 * ":port"; otherwise the first colon separates the port. Returns the host
 * in *host (pointing into arg, modified) and the port string or NULL.
 */
static int
split_host_port(char *arg, char **host, char **port)
{
	char *p;

	*host = arg;
	*port = NULL;
	if (strchr(arg, '[') == NULL && (p = strchr(arg, ':')) != NULL &&
	    strchr(p + 1, ':') != NULL)
		return 0;
	if (arg[0] == '[') {
		if ((p = strchr(arg, ']')) == NULL)
			return -1;
		if (p[1] != '\0' && p[1] != ':')
			return -1;
		if (p[1] == ':')
			*port = p + 2;
		*p = '\0';
		*host = arg + 1;
		return 0;
	}
	p = arg + strcspn(arg, ":/");
	if (*p == '/')
		return -1;
	if (*p == ':') {
		*p = '\0';
		*port = p + 1;
	}
	return 0;
}

int
cfg_kw_listen(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a), *extra;
	char *copy = NULL, *host, *portstr;
	struct listen_addr *la;
	int port = 0, r = ERR_CONFIG;

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing address");
		return ERR_CONFIG;
	}
	if ((copy = strdup(arg)) == NULL)
		return ERR_ALLOC;
	if (split_host_port(copy, &host, &portstr) != 0) {
		cfg_error(a, "bad address:port usage");
		goto out;
	}
	if (portstr != NULL && (port = config_port_value(portstr)) <= 0) {
		cfg_error(a, "bad port number");
		goto out;
	}
	if (*host == '\0') {
		cfg_error(a, "missing address");
		goto out;
	}
	if ((extra = cfg_next_arg(a)) != NULL) {
		if (strcmp(extra, "rdomain") != 0 || cfg_next_arg(a) == NULL)
			cfg_error(a, "bad ListenAddress syntax");
		else
			cfg_error(a,
			    "ListenAddress rdomain is not "
			    "supported");
		goto out;
	}
	if (!a->active) {
		r = 0;
		goto out;
	}
	if (c->nlisten >= CONFIG_MAX_LIST) {
		cfg_error(a, "too many listen addresses.");
		goto out;
	}
	la = &c->listen[c->nlisten];
	if ((la->host = strdup(host)) == NULL ||
	    (la->file = strdup(a->filename)) == NULL) {
		free(la->host);
		la->host = NULL;
		r = ERR_ALLOC;
		goto out;
	}
	la->line = a->lineno;
	la->port = port;
	c->nlisten++;
	r = 0;
out:
	free(copy);
	return r;
}

/* --- access rules --------------------------------------------------------- */

/*
 * cfg_vec_push: a copy of s at the end of a grown array, whose size
 * doubles when n reaches a power of two. 0, ERR_CONFIG past
 * CONFIG_MAX_ACCESS, or ERR_ALLOC.
 */
int
cfg_vec_push(char ***list, size_t *n, const char *s)
{
	char **grown;

	if (*n >= CONFIG_MAX_ACCESS)
		return ERR_CONFIG;
	if ((*n & (*n - 1)) == 0) {
		grown =
		    reallocarray(*list, *n == 0 ? 8 : *n * 2, sizeof(**list));
		if (grown == NULL)
			return ERR_ALLOC;
		*list = grown;
	}
	if (((*list)[*n] = strdup(s)) == NULL)
		return ERR_ALLOC;
	(*n)++;
	return 0;
}

void
cfg_vec_free(char ***list, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

/* push_access: an access list entry, or sshd-style errors. */
static int
push_access(struct server_config *c, const struct keyword *k,
    struct cfg_args *a, const char *arg)
{
	int r = cfg_vec_push(field_vec(c, k), field_count(c, k), arg);

	if (r == ERR_CONFIG)
		cfg_error(a, "too many %s entries.", k->name);
	return r;
}

/* AllowUsers, DenyUsers: USER[@HOST] patterns accumulate. */
int
cfg_kw_user_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg, *at;
	int r;

	while ((arg = cfg_next_arg(a)) != NULL) {
		/* As sshd's match_user() in test mode: the host part parses. */
		at = strchr(arg, '@');
		if (*arg == '\0' ||
		    (at != NULL &&
		        match_addr_pattern_list(NULL, at + 1) == -2)) {
			cfg_error(
			    a, "invalid %s pattern: \"%s\"", a->keyword, arg);
			return ERR_CONFIG;
		}
		if (a->active && (r = push_access(c, k, a, arg)) != 0)
			return r;
	}
	return 0;
}

/* AllowGroups, DenyGroups: group name patterns accumulate. */
int
cfg_kw_group_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg;
	int r;

	while ((arg = cfg_next_arg(a)) != NULL) {
		if (*arg == '\0') {
			cfg_error(a, "empty %s pattern", a->keyword);
			return ERR_CONFIG;
		}
		if (a->active && (r = push_access(c, k, a, arg)) != 0)
			return r;
	}
	return 0;
}

/*
 * auth_method_ok: one element of a comma list: publickey, password or
 * keyboard-interactive[:SUBMETHOD], or hostbased and gssapi-with-mic,
 * which postern never offers: as sshd with those methods switched off, a
 * list naming one is a disabled list (config_check, and at login). "none"
 * is refused.
 */
static int
auth_method_ok(const char *m, struct cfg_args *a)
{
	static const char *const plain[] = {
	    "publickey", "password", "hostbased", "gssapi-with-mic"};
	const char *colon = strchr(m, ':');
	size_t len = colon != NULL ? (size_t)(colon - m) : strlen(m), i;

	if (len == strlen("keyboard-interactive") &&
	    strncmp(m, "keyboard-interactive", len) == 0) {
		if (colon == NULL)
			return 1;
		if (colon[1] == '\0' || strchr(colon + 1, ':') != NULL) {
			cfg_error(
			    a, "%s: bad submethod in \"%s\"", a->keyword, m);
			return 0;
		}
		return 1;
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (len != strlen(plain[i]) || strncmp(m, plain[i], len) != 0)
			continue;
		if (colon == NULL)
			return 1;
		cfg_error(a, "%s: method %.*s has no submethods (\"%s\")",
		    a->keyword, (int)len, m, m);
		return 0;
	}
	if (len == strlen("none") && strncmp(m, "none", len) == 0) {
		cfg_error(a,
		    "%s method \"none\" is not supported by "
		    "postern",
		    a->keyword);
		return 0;
	}
	/* As sshd, which names the method without its submethod. */
	error("Unknown authentication method \"%.*s\" in list", (int)len, m);
	cfg_error(a, "invalid %s method list.", a->keyword);
	return 0;
}

static int
auth_list_ok(const char *list, struct cfg_args *a)
{
	const char *p = list, *comma;
	char method[128];
	size_t len, steps = 0;

	if (*list == '\0') {
		error("empty authentication method list");
		cfg_error(a, "invalid %s method list.", a->keyword);
		return 0;
	}
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len >= sizeof(method)) {
			cfg_error(a, "invalid %s method list.", a->keyword);
			return 0;
		}
		memcpy(method, p, len);
		method[len] = '\0';
		if (!auth_method_ok(method, a))
			return 0;
		/* The monitor's chains hold that many (sshd has no limit). */
		if (++steps > AUTHCHAIN_MAX_STEPS) {
			cfg_error(a, "%s list of more than %d methods.",
			    a->keyword, AUTHCHAIN_MAX_STEPS);
			return 0;
		}
		if (comma == NULL)
			return 1;
		p = comma + 1;
	}
}

/*
 * AuthenticationMethods: the lists of the first line that sets it; "any"
 * must stand alone, also against a list an earlier line set (sshd's rule,
 * checked whether or not the line is active).
 */
int
cfg_kw_auth_methods(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	int store = a->active && c->nauth_methods == 0, any = 0, seen = 0;
	const char *arg;

	while ((arg = cfg_next_arg(a)) != NULL) {
		seen = 1;
		if (strcmp(arg, "any") == 0) {
			if (c->nauth_methods > 0) {
				cfg_error(a,
				    "\"any\" must appear alone "
				    "in %s",
				    a->keyword);
				return ERR_CONFIG;
			}
			any = 1;
		} else if (any) {
			cfg_error(
			    a, "\"any\" must appear alone in %s", a->keyword);
			return ERR_CONFIG;
		} else if (!auth_list_ok(arg, a))
			return ERR_CONFIG;
		if (!store)
			continue;
		if (c->nauth_methods >= CONFIG_MAX_LIST) {
			cfg_error(a, "too many %s entries.", k->name);
			return ERR_CONFIG;
		}
		if ((c->auth_methods[c->nauth_methods] = strdup(arg)) == NULL)
			return ERR_ALLOC;
		c->nauth_methods++;
	}
	if (!seen) { /* "AuthenticationMethods # comment", as sshd */
		cfg_error(a, "no %s specified", a->keyword);
		return ERR_CONFIG;
	}
	return 0;
}

/* ForceCommand: the rest of the line as written, first value wins. */
int
cfg_kw_force_command(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *cmd = a->rest != NULL ? a->rest : "";

	cmd += strspn(cmd, CFG_WHITESPACE);
	if (*cmd == '\0')
		return cfg_missing_arg(a);
	if (a->active && c->force_command == NULL &&
	    (c->force_command = strdup(cmd)) == NULL)
		return ERR_ALLOC;
	a->next = a->ac;
	return 0;
}

/*
 * VersionAddendum: the rest of the line, a '#' and what follows included
 * (as sshd sends it), after the identification string (monitor_banner());
 * first value wins, "none" is none. Longer than CONFIG_ADDENDUM_MAX, the
 * line would pass the 255 bytes RFC 4253 allows it: refused (sshd would
 * send it).
 */
int
cfg_kw_version_addendum(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *text = a->rest != NULL ? a->rest : "";
	char *v;
	size_t n;

	text += strspn(text, CFG_WHITESPACE);
	n = strlen(text);
	while (n > 0 && strchr(CFG_WHITESPACE, text[n - 1]) != NULL)
		n--;
	if (n == 0)
		return cfg_missing_arg(a);
	if (memchr(text, '\r', n) != NULL || n > CONFIG_ADDENDUM_MAX) {
		cfg_error(a, "Invalid %s argument", a->keyword);
		return ERR_CONFIG;
	}
	a->next = a->ac;
	if ((v = strndup(text, n)) == NULL)
		return ERR_ALLOC;
	keep_first(&c->version_addendum, a, v);
	return 0;
}

/*
 * UsePAM: yes runs PAM's account check after authentication and its
 * credentials and session phases around the session (monitor/pam.c).
 */
int
cfg_kw_use_pam(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return cfg_kw_choice(c, k, a);
}

/* PAMServiceName (OpenSSH >= 10): the PAM service; default "sshd". */
int
cfg_kw_pam_service(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = a->next < a->ac ? a->av[a->next++] : NULL;

	if (arg == NULL || *arg == '\0' || strchr(arg, '/') != NULL) {
		cfg_error(a, "%s needs a PAM service name.", a->keyword);
		return ERR_CONFIG;
	}
	if (a->active && c->pam_service_name == NULL &&
	    (c->pam_service_name = strdup(arg)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/*
 * cfg_kw_tilde_path: one file name with a leading ~ expanded and nothing
 * else (AuthorizedPrincipalsFile: tokens are expanded per user, and a
 * relative name is taken under the home directory); first value wins.
 */
int
cfg_kw_tilde_path(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	char **field = field_str(c, k);
	char *path = NULL;
	int r;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	if (!a->active) /* not expanded, as in cfg_kw_path */
		return 0;
	if (strcasecmp(arg, "none") == 0)
		arg = "none"; /* in any case, as sshd keeps it */
	if ((r = tilde_expand(arg, a, &path)) != 0)
		return r;
	keep_first(field, a, path);
	return 0;
}

/*
 * cfg_kw_command: AuthorizedKeysCommand, AuthorizedPrincipalsCommand: the
 * rest of the line, an absolute path or "none".
 */
int
cfg_kw_command(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *cmd = a->rest != NULL ? a->rest : "";
	char **field = field_str(c, k);

	cmd += strspn(cmd, CFG_WHITESPACE);
	if (*cmd == '\0')
		return cfg_missing_arg(a);
	if (cmd[0] != '/' && strcasecmp(cmd, "none") != 0) {
		cfg_error(a, "%s must be an absolute path", a->keyword);
		return ERR_CONFIG;
	}
	a->next = a->ac;
	/*
	 * sshd 9.x tests authorized_keys_command for both keywords: the
	 * first AuthorizedKeysCommand wins, AuthorizedPrincipalsCommand is
	 * replaced by each later one until an AuthorizedKeysCommand is set
	 * and ignored from then on. Copied, so that -T agrees.
	 */
	if (a->active && c->authorized_keys_command == NULL) {
		free(*field);
		if ((*field = strdup(cmd)) == NULL)
			return ERR_ALLOC;
	}
	return 0;
}

/* cfg_kw_local_user: one user name (AuthorizedKeysCommandUser). */
int
cfg_kw_local_user(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = cfg_next_arg(a);
	char **field = field_str(c, k);

	if (arg == NULL || *arg == '\0') {
		cfg_error(a, "missing %s argument.", a->keyword);
		return ERR_CONFIG;
	}
	if (a->active && *field == NULL && (*field = strdup(arg)) == NULL)
		return ERR_ALLOC;
	return 0;
}

/*
 * Warn about the names of an algorithm list (not a "-list") that OpenSSH
 * knows but postern does not implement: they are left out of what is
 * offered. Quiet when the listener already said so (a connection's copy).
 */
static void
warn_unimplemented(struct cfg_args *a, const char *arg, const char *unimpl)
{
	char e[128];
	const char *p = strchr("+^", *arg) != NULL ? arg + 1 : arg;
	int toolong;

	if (*arg == '-' || (a->pass != NULL && a->pass->quiet))
		return;
	while (alglist_next(&p, e, sizeof(e), &toolong)) {
		if (e[0] != '\0' && alglist_has(unimpl, e))
			logit(
			    "%s line %d: %s %s is not implemented by postern; "
			    "left out",
			    a->filename, a->lineno, a->keyword, e);
	}
}

/*
 * cfg_report_bad_kex: sshd's first complaint about a bad key exchange list
 * (KexAlgorithms, GSSAPIKexAlgorithms): the first entry that is not one of
 * the names of valid (a GSSAPI one by its prefix), as written.
 */
void
cfg_report_bad_kex(const char *list, const char *valid)
{
	char *e, *canon;
	const char *p = list;
	size_t n;
	int ok;

	for (;; p += n + 1) {
		n = strcspn(p, ",");
		if (n > 0) {
			/* Out of memory: the line is left out, not wrong. */
			if ((e = strndup(p, n)) == NULL)
				return;
			ok = (canon = cfg_gss_kex_canon(e)) == NULL ||
			    alglist_has(valid, canon);
			free(canon);
			if (!ok)
				error(
				    "Unsupported KEX algorithm \"%.100s\"", e);
			free(e);
			if (!ok)
				return;
		}
		if (p[n] == '\0')
			return;
	}
}

/*
 * cfg_gss_kex_canon: Debian's sshd takes a GSSAPI key exchange name by its
 * prefix (kex_alg_by_name()): one that starts with a name of
 * ALGLIST_GSS_KEX ("gss-group14-sha256-" and then the mechanism's OID
 * hash, as the client offers it) is that key exchange. A copy of list with
 * each such name cut to its prefix (what follows it, "*" too, is not
 * looked at, as by sshd); NULL if out of memory.
 */
char *
cfg_gss_kex_canon(const char *list)
{
	const char *p = list, *q;
	char *out, *o;
	size_t n, m;

	if ((out = o = malloc(strlen(list) + 1)) == NULL)
		return NULL;
	if (*p == '+' || *p == '-' || *p == '^')
		*o++ = *p++;
	for (;;) {
		n = strcspn(p, ",");
		for (q = ALGLIST_GSS_KEX;; q += m + 1) {
			m = strcspn(q, ",");
			if (m < n && memcmp(p, q, m) == 0) {
				n = m; /* the prefix, q's */
				break;
			}
			if (q[m] == '\0') {
				q = p;
				break;
			}
		}
		memcpy(o, q, n);
		o += n;
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* Whether arg, which leaves none of `all', would leave some of `unimpl'. */
static int
only_unimplemented(
    const char *arg, const char *def, const char *all, const char *unimpl)
{
	char *both = NULL, *out = NULL;
	int r;

	if (asprintf(&both, "%s,%s", all, unimpl) < 0)
		return 0;
	r = alglist_assemble(arg, def, both, &out) == 0;
	free(out);
	free(both);
	return r;
}

/*
 * An algorithm list: its names checked as sshd checks them when it reads
 * the line (against `valid'), and the list resolved once against `all',
 * the names postern implements, to be sure it can be. `unimpl' (or NULL):
 * names of `valid' postern does not implement, accepted and left out; a
 * list that has them (Ciphers, MACs, KexAlgorithms) takes no patterns
 * outside a "-list", as sshd.
 * Stored as written; config_fill_defaults() resolves it.
 */
static int
algo_list_checked(struct server_config *c, const struct keyword *k,
    struct cfg_args *a, const char *def, const char *all, const char *valid,
    const char *unimpl, int patterns, const char *bad)
{
	const char *written = cfg_next_arg(a), *arg = written;
	char **field = field_str(c, k);
	char *out = NULL, *canon = NULL;
	int r;

	if (arg == NULL || *arg == '\0')
		return cfg_missing_arg(a);
	if (k->parse == cfg_kw_kex_algos) {
		if ((canon = cfg_gss_kex_canon(written)) == NULL)
			return ERR_ALLOC;
		arg = canon;
	}
	/* sshd takes exact cipher, MAC and kex names outside a "-list". */
	if (!alglist_names_valid(arg, valid) ||
	    (!patterns && *arg != '-' && strpbrk(arg, "*?!") != NULL)) {
		if (k->parse == cfg_kw_kex_algos)
			cfg_report_bad_kex(strchr("+^", *written) != NULL
			        ? written + 1
			        : written,
			    valid);
		cfg_error(a, "Bad %s '%s'.", bad, written);
		r = ERR_CONFIG;
		goto out;
	}
	if ((r = alglist_assemble(arg, def, all, &out)) != 0) {
		if (r == ERR_ALLOC)
			goto out;
		r = ERR_CONFIG;
		if (unimpl != NULL &&
		    only_unimplemented(arg, def, all, unimpl)) {
			cfg_error(a,
			    "%s '%s': postern implements none of "
			    "these",
			    a->keyword, written);
			goto out;
		}
		/* A "!name" outside a "-list", or no name it can use. */
		cfg_error(a, "invalid %s list '%s'", a->keyword, written);
		goto out;
	}
	free(out);
	if (unimpl != NULL)
		warn_unimplemented(a, arg, unimpl);
	if (a->active && *field == NULL && (*field = strdup(arg)) == NULL)
		r = ERR_ALLOC;
out:
	free(canon);
	return r;
}

/*
 * Key algorithm lists: every key or certificate name OpenSSH knows, with
 * its patterns; the DSA names (ALGLIST_KEY_UNIMPLEMENTED) are accepted,
 * with a warning, and left out (all: what postern implements).
 */
static int
algo_list(struct server_config *c, const struct keyword *k, struct cfg_args *a,
    const char *def, const char *all, const char *bad)
{
	return algo_list_checked(c, k, a, def, all, ALGLIST_KEY_ALL,
	    ALGLIST_KEY_UNIMPLEMENTED, 1, bad);
}

/*
 * Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms: names postern supports,
 * and those OpenSSH 9.2 (Debian's, with its GSSAPI key exchanges) knows
 * that postern does not implement (unimpl, or NULL): accepted, with a
 * warning, and left out. An unknown name is an error naming the file,
 * line and keyword.
 */
static int
transport_list(struct server_config *c, const struct keyword *k,
    struct cfg_args *a, const char *def, const char *all, const char *unimpl,
    const char *bad)
{
	char *valid = NULL;
	int r;

	if (unimpl == NULL)
		return algo_list_checked(c, k, a, def, all, all, NULL, 0, bad);
	if (asprintf(&valid, "%s,%s", all, unimpl) < 0)
		return ERR_ALLOC;
	r = algo_list_checked(c, k, a, def, all, valid, unimpl, 0, bad);
	free(valid);
	return r;
}

int
cfg_kw_ciphers(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return transport_list(c, k, a, ALGLIST_CIPHER_DEFAULT,
	    cipher_supported_list(), ALGLIST_CIPHER_UNIMPLEMENTED,
	    "SSH2 cipher spec");
}

int
cfg_kw_macs(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return transport_list(c, k, a, ALGLIST_MAC_DEFAULT,
	    mac_supported_list(), ALGLIST_MAC_UNIMPLEMENTED, "SSH2 mac spec");
}

int
cfg_kw_kex_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return transport_list(c, k, a, ALGLIST_KEX_DEFAULT,
	    kex_supported_list(), ALGLIST_KEX_UNIMPLEMENTED,
	    "SSH2 KexAlgorithms");
}

int
cfg_kw_hostkey_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return algo_list(
	    c, k, a, ALGLIST_HOSTKEY_DEFAULT, ALGLIST_KEY_IMPL, "key types");
}

/* PubkeyAcceptedAlgorithms (and its old name PubkeyAcceptedKeyTypes). */
int
cfg_kw_pubkey_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *spec = a->next < a->ac ? a->av[a->next] : NULL;
	char *names = NULL, *plus;
	int r;

	if ((r = algo_list(c, k, a, ALGLIST_PUBKEY_DEFAULT, ALGLIST_KEY_IMPL,
	         "key types")) != 0)
		return r;
	/* Loading, inside a Match block (`Match all` too, which is active
	 * then): what it may allow, for some user. */
	if (spec == NULL || a->pass == NULL || a->pass->apply ||
	    a->fflags == NULL || !(*a->fflags & CFG_IN_MATCH))
		return 0;
	if ((r = alglist_assemble(
	         spec, ALGLIST_PUBKEY_DEFAULT, ALGLIST_KEY_IMPL, &names)) != 0)
		return r == ERR_ALLOC ? r : 0; /* reported by algo_list */
	/* Added to the earlier blocks' names, as OpenSSH's "+list" adds. */
	r = asprintf(&plus, "+%s", names) < 0 ? ERR_ALLOC : 0;
	free(names);
	if (r != 0)
		return r;
	r = alglist_assemble(plus,
	    c->pubkey_algos_in_match != NULL ? c->pubkey_algos_in_match : "",
	    ALGLIST_KEY_IMPL, &names);
	free(plus);
	if (r != 0)
		return r;
	free(c->pubkey_algos_in_match);
	c->pubkey_algos_in_match = names;
	return 0;
}

/* CASignatureAlgorithms: what a CA may have signed a certificate with. */
int
cfg_kw_ca_sig_algos(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	return algo_list(
	    c, k, a, ALGLIST_CA_SIG_DEFAULT, ALGLIST_SIG_IMPL, "key types");
}

/* PubkeyAuthOptions: none, touch-required, verify-required (any case). */
int
cfg_kw_pubkey_auth_options(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg;
	int value = 0;

	while ((arg = cfg_next_arg(a)) != NULL) {
		if (strcasecmp(arg, "none") == 0)
			continue;
		if (strcasecmp(arg, "touch-required") == 0)
			value |= PUBKEYAUTH_TOUCH_REQUIRED;
		else if (strcasecmp(arg, "verify-required") == 0)
			value |= PUBKEYAUTH_VERIFY_REQUIRED;
		else {
			/* sshd's error(), not fatal(): a bad line, counted
			 * ("terminating, N bad configuration options"), and
			 * exit 1 for a bad -o. */
			cfg_error(
			    a, "unsupported %s option %s", a->keyword, arg);
			return ERR_FORMAT;
		}
	}
	if (a->active && c->pubkey_auth_options == CONFIG_UNSET)
		c->pubkey_auth_options = value;
	return 0;
}

/*
 * Subsystem NAME COMMAND [ARGS...]: lines accumulate; a later line for a
 * name already defined is ignored (the first wins, as OpenSSH >= 9.5).
 * The command and its arguments are kept joined by single spaces.
 */
int
cfg_kw_subsystem(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *name = cfg_next_arg(a), *arg;
	char *joined = NULL, *dupname = NULL, *p;
	size_t i, len;

	if (name == NULL || *name == '\0')
		return cfg_missing_arg(a);
	if ((arg = cfg_next_arg(a)) == NULL || *arg == '\0') {
		cfg_error(a, "Missing subsystem command.");
		return ERR_CONFIG;
	}
	if (!a->active) {
		a->next = a->ac;
		return 0;
	}
	for (i = 0; i < c->nsubsystems; i++) {
		if (strcmp(c->subsystem_name[i], name) == 0) {
			debug("%s line %d: Subsystem '%s' already defined.",
			    a->filename, a->lineno, name);
			a->next = a->ac;
			return 0;
		}
	}
	if (c->nsubsystems >= CONFIG_MAX_LIST) {
		cfg_error(a, "too many subsystems defined.");
		return ERR_CONFIG;
	}
	if ((joined = strdup(arg)) == NULL)
		return ERR_ALLOC;
	while ((arg = cfg_next_arg(a)) != NULL) {
		len = strlen(joined) + 1 + strlen(arg) + 1;
		if ((p = realloc(joined, len)) == NULL) {
			free(joined);
			return ERR_ALLOC;
		}
		joined = p;
		strcat(joined, " ");
		strcat(joined, arg);
	}
	if ((dupname = strdup(name)) == NULL) {
		free(joined);
		return ERR_ALLOC;
	}
	c->subsystem_name[c->nsubsystems] = dupname;
	c->subsystem_args[c->nsubsystems] = joined;
	c->nsubsystems++;
	return 0;
}
