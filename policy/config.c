/*
 * config.c: sshd_config(5) reader: OpenSSH's tokenising rules, one keyword
 * table driving parsing and the `sshd -T` dump, defaults, error wording.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "policy/config.h"

#ifndef POSTERN_SYSCONFDIR
#define POSTERN_SYSCONFDIR "/etc/ssh"
#endif

#define CFG_WHITESPACE " \t\r\n"
#define CFG_HINT_MAX 48 /* longest keyword considered for "did you mean" */

/* One line after tokenising; handlers consume av[next...]. */
struct cfg_args {
	const char *filename;
	int lineno;
	const char *keyword; /* as written, for messages */
	char **av;
	int ac;
	int next;
	/*
	 * 0 inside a Match block that does not apply: arguments are still
	 * checked but nothing is stored.
	 */
	int active;
};

struct keyword;
typedef int (*kw_parse_fn)(
    struct server_config *, const struct keyword *, struct cfg_args *);
typedef void (*kw_dump_fn)(
    const struct server_config *, const struct keyword *, FILE *);

/* Flags of a keyword. */
#define KW_MATCH 0x01 /* may appear inside a Match block */

struct choice {
	const char *name;
	int value;
};

struct keyword {
	const char *name; /* canonical spelling; lowercased for the dump */
	kw_parse_fn parse;
	kw_dump_fn dump;  /* NULL: not shown by config_dump */
	size_t off;       /* offsetof the field in struct server_config */
	size_t count_off; /* list keywords: offsetof the size_t count */
	const struct choice *choices; /* multi-state keywords */
	unsigned flags;
};

static const struct choice choices_yesno[] = {
    {"yes", 1},
    {"no", 0},
    {NULL, 0},
};

static const struct choice choices_family[] = {
    {"any", AF_UNSPEC},
    {"inet", AF_INET},
    {"inet6", AF_INET6},
    {NULL, 0},
};

/* --- field access ------------------------------------------------------ */

static int *
field_int(struct server_config *c, const struct keyword *k)
{
	return (int *)(void *)((char *)c + k->off);
}

static const int *
field_int_c(const struct server_config *c, const struct keyword *k)
{
	return (const int *)(const void *)((const char *)c + k->off);
}

static char **
field_str(struct server_config *c, const struct keyword *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static char *const *
field_str_c(const struct server_config *c, const struct keyword *k)
{
	return (char *const *)(const void *)((const char *)c + k->off);
}

static size_t *
field_count(struct server_config *c, const struct keyword *k)
{
	return (size_t *)(void *)((char *)c + k->count_off);
}

static const size_t *
field_count_c(const struct server_config *c, const struct keyword *k)
{
	return (const size_t *)(const void *)((const char *)c + k->count_off);
}

/* next_arg: the next argument, or NULL when the line has no more. */
static const char *
next_arg(struct cfg_args *a)
{
	if (a->next >= a->ac)
		return NULL;
	return a->av[a->next++];
}

/* --- value parsers ----------------------------------------------------- */

/*
 * parse_decimal: a base-10 integer in [min, max] with strtonum(3)'s
 * wording on failure ("invalid", "too small", "too large").
 */
static int
parse_decimal(const char *s, long long min, long long max, long long *out,
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

/* port_number: 1..65535 or a tcp service name; -1 if neither. */
static int
port_number(const char *s)
{
	struct servent *se;
	const char *why;
	long long v;

	if (parse_decimal(s, 0, 65535, &v, &why) == 0)
		return v == 0 ? -1 : (int)v;
	if (*s != '\0' && (se = getservbyname(s, "tcp")) != NULL)
		return ntohs((uint16_t)se->s_port);
	return -1;
}

/*
 * time_value: OpenSSH's time format, a sequence of NUMBER[unit] where unit
 * is s, m, h, d or w in either case and no unit means seconds
 * ("1h30m" = 5400). -1 on a malformed value or one beyond INT_MAX.
 */
static int
time_value(const char *s)
{
	long long total = 0, n, mult;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s == '+')
			s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		for (n = 0; isdigit((unsigned char)*s); s++) {
			n = n * 10 + (*s - '0');
			if (n > INT_MAX)
				return -1;
		}
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

/*
 * absolute_path: "~/x" and "~user/x" expanded, then a relative path made
 * absolute against the current directory, as sshd does for HostKey and
 * PidFile. "none" is kept as is.
 */
static int
absolute_path(const char *path, struct cfg_args *a, char **out)
{
	const struct passwd *pw;
	const char *slash, *rest;
	char user[256], cwd[PATH_MAX];
	size_t ulen, hlen;

	*out = NULL;
	if (strcasecmp(path, "none") == 0 || path[0] == '/') {
		*out = strdup(path);
		return *out == NULL ? ERR_ALLOC : 0;
	}
	if (path[0] == '~') {
		slash = strchr(path, '/');
		ulen = slash != NULL ? (size_t)(slash - path - 1)
		                     : strlen(path + 1);
		rest = slash != NULL ? slash : "";
		if (ulen >= sizeof(user)) {
			error("%s line %d: user name too long in %s",
			    a->filename, a->lineno, path);
			return ERR_CONFIG;
		}
		memcpy(user, path + 1, ulen);
		user[ulen] = '\0';
		pw = ulen == 0 ? getpwuid(getuid()) : getpwnam(user);
		if (pw == NULL) {
			error("%s line %d: no such user in %s", a->filename,
			    a->lineno, path);
			return ERR_CONFIG;
		}
		/* "/" as home must not give "//x". */
		hlen = strlen(pw->pw_dir);
		if (hlen > 0 && pw->pw_dir[hlen - 1] == '/' && rest[0] == '/')
			hlen--;
		if (asprintf(out, "%.*s%s", (int)hlen, pw->pw_dir, rest) < 0) {
			*out = NULL;
			return ERR_ALLOC;
		}
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		error("%s line %d: getcwd: %s", a->filename, a->lineno,
		    strerror(errno));
		return ERR_CONFIG;
	}
	if (asprintf(out, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/",
	        path) < 0) {
		*out = NULL;
		return ERR_ALLOC;
	}
	return 0;
}

/* --- keyword handlers ---------------------------------------------------- */

static int
kw_int(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a), *why;
	int *field = field_int(c, k);
	long long v;

	if (arg == NULL || *arg == '\0') {
		error("%s line %d: %s integer value missing.", a->filename,
		    a->lineno, a->keyword);
		return ERR_CONFIG;
	}
	if (parse_decimal(arg, 0, INT_MAX, &v, &why) != 0) {
		error("%s line %d: %s integer value %s.", a->filename,
		    a->lineno, a->keyword, why);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = (int)v;
	return 0;
}

/* MaxStartups start[:rate:full]; a single number n means n:30:n. */
static int
kw_max_startups(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	int begin, rate = 30, full, n = 0;

	if (arg == NULL || *arg == '\0') {
		error("%s line %d: missing argument.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if (sscanf(arg, "%d:%d:%d%n", &begin, &rate, &full, &n) == 3 &&
	    arg[n] == '\0') {
		if (begin > full || full < 1 || rate > 100 || rate < 1)
			n = -1;
	} else if (sscanf(arg, "%d%n", &begin, &n) == 1 && arg[n] == '\0' &&
	    begin >= 1) {
		full = begin;
	} else
		n = -1;
	if (n < 0) {
		error("%s line %d: Invalid MaxStartups spec.", a->filename,
		    a->lineno);
		return ERR_CONFIG;
	}
	if (a->active && c->max_startups == CONFIG_UNSET) {
		c->max_startups_begin = begin;
		c->max_startups_rate = rate;
		c->max_startups = full;
	}
	return 0;
}

static void
dump_max_startups(
    const struct server_config *c, const struct keyword *k, FILE *f)
{
	fprintf(f, "maxstartups %d:%d:%d\n", c->max_startups_begin,
	    c->max_startups_rate, c->max_startups);
}

static int
kw_choice(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	int *field = field_int(c, k);
	size_t i;

	if (arg == NULL || *arg == '\0') {
		error("%s line %d: missing argument.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	for (i = 0; k->choices[i].name != NULL; i++) {
		if (strcasecmp(arg, k->choices[i].name) == 0)
			break;
	}
	if (k->choices[i].name == NULL) {
		error("%s line %d: unsupported option \"%s\".", a->filename,
		    a->lineno, arg);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = k->choices[i].value;
	return 0;
}

static int
kw_time(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	int *field = field_int(c, k);
	int v;

	if (arg == NULL || *arg == '\0') {
		error(
		    "%s line %d: missing time value.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if ((v = time_value(arg)) == -1) {
		error(
		    "%s line %d: invalid time value.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = v;
	return 0;
}

static int
kw_log_level(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	int *field = field_int(c, k);
	int v;

	if (arg == NULL)
		arg = "";
	/* sshd also accepts SILENT, its name for QUIET. */
	v = strcasecmp(arg, "SILENT") == 0 ? (int)LL_QUIET
	                                   : log_level_from_name(arg);
	if (v < 0) {
		error("%s line %d: unsupported log level '%s'", a->filename,
		    a->lineno, arg);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = v;
	return 0;
}

static int
kw_facility(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	int *field = field_int(c, k);
	int v;

	if (arg == NULL)
		arg = "";
	if ((v = log_facility_from_name(arg)) < 0) {
		error("%s line %d: unsupported log facility '%s'", a->filename,
		    a->lineno, arg);
		return ERR_CONFIG;
	}
	if (a->active && *field == CONFIG_UNSET)
		*field = v;
	return 0;
}

/* kw_path: one file name, made absolute; first value wins. */
static int
kw_path(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	char **field = field_str(c, k);
	char *path = NULL;
	int r;

	if (arg == NULL || *arg == '\0') {
		error("%s line %d: missing file name.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if ((r = absolute_path(arg, a, &path)) != 0)
		return r;
	if (a->active && *field == NULL) {
		*field = path;
		path = NULL;
	}
	free(path);
	return 0;
}

/* kw_path_list: one file name per line, lines accumulate (HostKey). */
static int
kw_path_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	char **list = field_str(c, k);
	size_t *n = field_count(c, k);
	char *path = NULL;
	int r;

	if (arg == NULL || *arg == '\0') {
		error("%s line %d: missing file name.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if (a->active && *n >= CONFIG_MAX_LIST) {
		error("%s line %d: too many %s entries.", a->filename,
		    a->lineno, k->name);
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
 * kw_word_list: every argument of the first line that sets the keyword
 * (AuthorizedKeysFile); later lines are checked but ignored.
 */
static int
kw_word_list(
    struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	char **list = field_str(c, k);
	size_t *n = field_count(c, k);
	int store = a->active && *n == 0, first = a->next;
	const char *arg;

	if (a->ac - a->next > CONFIG_MAX_LIST) {
		error("%s line %d: too many %s entries.", a->filename,
		    a->lineno, k->name);
		return ERR_CONFIG;
	}
	while ((arg = next_arg(a)) != NULL) {
		if (*arg == '\0') {
			error("%s line %d: keyword %s empty argument",
			    a->filename, a->lineno, a->keyword);
			return ERR_CONFIG;
		}
	}
	if (!store)
		return 0;
	for (a->next = first; (arg = next_arg(a)) != NULL;) {
		if ((list[*n] = strdup(arg)) == NULL)
			return ERR_ALLOC;
		(*n)++;
	}
	return 0;
}

/* kw_port: Port lines accumulate. */
static int
kw_port(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a);
	int port;

	if (a->active && c->nports >= CONFIG_MAX_LIST) {
		error("%s line %d: too many ports.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if (arg == NULL || *arg == '\0') {
		error(
		    "%s line %d: missing port number.", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if ((port = port_number(arg)) <= 0) {
		error("%s line %d: Badly formatted port number.", a->filename,
		    a->lineno);
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

static int
kw_listen(struct server_config *c, const struct keyword *k, struct cfg_args *a)
{
	const char *arg = next_arg(a), *extra;
	char *copy = NULL, *host, *portstr;
	int port = 0, r = ERR_CONFIG;

	if (arg == NULL || *arg == '\0') {
		error("%s line %d: missing address", a->filename, a->lineno);
		return ERR_CONFIG;
	}
	if ((copy = strdup(arg)) == NULL)
		return ERR_ALLOC;
	if (split_host_port(copy, &host, &portstr) != 0) {
		error("%s line %d: bad address:port usage", a->filename,
		    a->lineno);
		goto out;
	}
	if (portstr != NULL && (port = port_number(portstr)) <= 0) {
		error("%s line %d: bad port number", a->filename, a->lineno);
		goto out;
	}
	if (*host == '\0') {
		error("%s line %d: missing address", a->filename, a->lineno);
		goto out;
	}
	if ((extra = next_arg(a)) != NULL) {
		if (strcmp(extra, "rdomain") != 0 || next_arg(a) == NULL)
			error("%s line %d: bad ListenAddress syntax",
			    a->filename, a->lineno);
		else
			error("%s line %d: ListenAddress rdomain is not "
			      "supported",
			    a->filename, a->lineno);
		goto out;
	}
	if (!a->active) {
		r = 0;
		goto out;
	}
	if (c->nlisten >= CONFIG_MAX_LIST) {
		error("%s line %d: too many listen addresses.", a->filename,
		    a->lineno);
		goto out;
	}
	if ((c->listen[c->nlisten].host = strdup(host)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	c->listen[c->nlisten++].port = port;
	r = 0;
out:
	free(copy);
	return r;
}

/* --- dump ---------------------------------------------------------------- */

static void
dump_key(FILE *f, const struct keyword *k)
{
	const char *p;

	for (p = k->name; *p != '\0'; p++)
		fputc(tolower((unsigned char)*p), f);
	fputc(' ', f);
}

static void
dump_int(const struct server_config *c, const struct keyword *k, FILE *f)
{
	dump_key(f, k);
	fprintf(f, "%d\n", *field_int_c(c, k));
}

static void
dump_choice(const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);
	size_t i;

	for (i = 0; k->choices[i].name != NULL; i++) {
		if (k->choices[i].value == v) {
			dump_key(f, k);
			fprintf(f, "%s\n", k->choices[i].name);
			return;
		}
	}
	dump_key(f, k);
	fprintf(f, "UNKNOWN\n");
}

static void
dump_log_level(const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);

	dump_key(f, k);
	/* sshd -T's names: QUIET shows as SILENT, DEBUG1 as DEBUG. */
	fprintf(f, "%s\n",
	    v == LL_QUIET ? "SILENT" : log_level_name((enum log_level)v));
}

static const struct {
	int facility;
	const char *name;
} facility_names[] = {
    {LOG_DAEMON, "DAEMON"},
    {LOG_USER, "USER"},
    {LOG_AUTH, "AUTH"},
    {LOG_AUTHPRIV, "AUTHPRIV"},
    {LOG_LOCAL0, "LOCAL0"},
    {LOG_LOCAL1, "LOCAL1"},
    {LOG_LOCAL2, "LOCAL2"},
    {LOG_LOCAL3, "LOCAL3"},
    {LOG_LOCAL4, "LOCAL4"},
    {LOG_LOCAL5, "LOCAL5"},
    {LOG_LOCAL6, "LOCAL6"},
    {LOG_LOCAL7, "LOCAL7"},
};

static void
dump_facility(const struct server_config *c, const struct keyword *k, FILE *f)
{
	int v = *field_int_c(c, k);
	const char *name = "UNKNOWN";
	size_t i;

	for (i = 0; i < sizeof(facility_names) / sizeof(facility_names[0]);
	     i++) {
		if (facility_names[i].facility == v)
			name = facility_names[i].name;
	}
	dump_key(f, k);
	fprintf(f, "%s\n", name);
}

static void
dump_str(const struct server_config *c, const struct keyword *k, FILE *f)
{
	const char *v = *field_str_c(c, k);

	dump_key(f, k);
	fprintf(f, "%s\n", v != NULL ? v : "none");
}

/* dump_list_lines: one line per entry (hostkey). */
static void
dump_list_lines(const struct server_config *c, const struct keyword *k, FILE *f)
{
	char *const *list = field_str_c(c, k);
	size_t i, n = *field_count_c(c, k);

	for (i = 0; i < n; i++) {
		dump_key(f, k);
		fprintf(f, "%s\n", list[i]);
	}
}

/* dump_list_words: all entries on one line (authorizedkeysfile). */
static void
dump_list_words(const struct server_config *c, const struct keyword *k, FILE *f)
{
	char *const *list = field_str_c(c, k);
	size_t i, n = *field_count_c(c, k);

	if (n == 0)
		return;
	dump_key(f, k);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i == 0 ? "" : " ", list[i]);
	fputc('\n', f);
}

static void
dump_ports(const struct server_config *c, const struct keyword *k, FILE *f)
{
	size_t i;

	for (i = 0; i < c->nports; i++) {
		dump_key(f, k);
		fprintf(f, "%d\n", c->ports[i]);
	}
}

/*
 * dump_addrinfo_reversed: sshd keeps each lookup's addresses in reverse
 * (for a wildcard: [::] before 0.0.0.0), so -T lists them that way.
 */
static void
dump_addrinfo_reversed(
    const struct keyword *k, const struct addrinfo *ai, int port, FILE *f)
{
	char addr[NI_MAXHOST];

	if (ai == NULL)
		return;
	dump_addrinfo_reversed(k, ai->ai_next, port, f);
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL,
	        0, NI_NUMERICHOST) != 0)
		return;
	dump_key(f, k);
	if (ai->ai_family == AF_INET6)
		fprintf(f, "[%s]:%d\n", addr, port);
	else
		fprintf(f, "%s:%d\n", addr, port);
}

/* dump_one_listen: host:port resolved to numeric addresses like sshd -T. */
static void
dump_one_listen(const struct server_config *c, const struct keyword *k,
    const char *host, int port, FILE *f)
{
	struct addrinfo hints, *res = NULL;
	char portstr[8];
	int gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family =
	    c->address_family == CONFIG_UNSET ? AF_UNSPEC : c->address_family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (host == NULL ? AI_PASSIVE : 0);
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		error("bad addr or host: %s (%s)", host != NULL ? host : "",
		    gai_strerror(gai));
		return;
	}
	dump_addrinfo_reversed(k, res, port, f);
	freeaddrinfo(res);
}

/* dump_listen: every address with its own port or with each Port. */
static void
dump_listen(const struct server_config *c, const struct keyword *k, FILE *f)
{
	size_t i, j;

	for (i = 0; i < c->nlisten; i++) {
		if (c->listen[i].port != 0) {
			dump_one_listen(
			    c, k, c->listen[i].host, c->listen[i].port, f);
			continue;
		}
		for (j = 0; j < c->nports; j++)
			dump_one_listen(
			    c, k, c->listen[i].host, c->ports[j], f);
	}
}

/* --- the keyword table ---------------------------------------------------- */

#define OFF(field) offsetof(struct server_config, field)

/*
 * Order is the order of `sshd -T` output. Adding a keyword is one row: a
 * generic handler (kw_int, kw_choice, kw_time, kw_path, ...) with the
 * field's offset, or a handler of its own. An alias is a row with the same
 * field and dump NULL; KW_MATCH marks what a Match block may set.
 */
static const struct keyword keywords[] = {
    {.name = "Port", .parse = kw_port, .dump = dump_ports},
    {.name = "AddressFamily",
        .parse = kw_choice,
        .dump = dump_choice,
        .off = OFF(address_family),
        .choices = choices_family},
    {.name = "ListenAddress", .parse = kw_listen, .dump = dump_listen},
    {.name = "LoginGraceTime",
        .parse = kw_time,
        .dump = dump_int,
        .off = OFF(login_grace_time)},
    {.name = "MaxAuthTries",
        .parse = kw_int,
        .dump = dump_int,
        .off = OFF(max_auth_tries),
        .flags = KW_MATCH},
    {.name = "MaxSessions",
        .parse = kw_int,
        .dump = dump_int,
        .off = OFF(max_sessions),
        .flags = KW_MATCH},
    {.name = "PubkeyAuthentication",
        .parse = kw_choice,
        .dump = dump_choice,
        .off = OFF(pubkey_authentication),
        .choices = choices_yesno,
        .flags = KW_MATCH},
    {.name = "StrictModes",
        .parse = kw_choice,
        .dump = dump_choice,
        .off = OFF(strict_modes),
        .choices = choices_yesno},
    {.name = "PidFile",
        .parse = kw_path,
        .dump = dump_str,
        .off = OFF(pid_file)},
    {.name = "LogLevel",
        .parse = kw_log_level,
        .dump = dump_log_level,
        .off = OFF(log_level),
        .flags = KW_MATCH},
    {.name = "SyslogFacility",
        .parse = kw_facility,
        .dump = dump_facility,
        .off = OFF(syslog_facility)},
    {.name = "AuthorizedKeysFile",
        .parse = kw_word_list,
        .dump = dump_list_words,
        .off = OFF(authorized_keys_files),
        .count_off = OFF(nauthorized_keys_files),
        .flags = KW_MATCH},
    {.name = "HostKey",
        .parse = kw_path_list,
        .dump = dump_list_lines,
        .off = OFF(host_key_files),
        .count_off = OFF(nhost_key_files)},
    {.name = "MaxStartups",
        .parse = kw_max_startups,
        .dump = dump_max_startups},
};

#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static const struct keyword *
keyword_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYWORDS; i++) {
		if (strcasecmp(name, keywords[i].name) == 0)
			return &keywords[i];
	}
	return NULL;
}

/*
 * edit_distance: case-insensitive optimal string alignment distance
 * (insert, delete, substitute, swap adjacent), or INT_MAX when too long.
 */
static int
edit_distance(const char *a, const char *b)
{
	int d[CFG_HINT_MAX + 1][CFG_HINT_MAX + 1];
	size_t la = strlen(a), lb = strlen(b), i, j;
	int cost, best;

	if (la > CFG_HINT_MAX || lb > CFG_HINT_MAX)
		return INT_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = tolower((unsigned char)a[i - 1]) ==
			        tolower((unsigned char)b[j - 1])
			    ? 0
			    : 1;
			best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) ==
			        tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
			        tolower((unsigned char)b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

static void
report_unknown(const char *kw, const char *filename, int lineno)
{
	const char *hint = NULL;
	int best = 3, dist;
	size_t i;

	for (i = 0; i < NKEYWORDS; i++) {
		if ((dist = edit_distance(kw, keywords[i].name)) < best) {
			best = dist;
			hint = keywords[i].name;
		}
	}
	if (hint != NULL)
		error("%s: line %d: Bad configuration option: %s (did you "
		      "mean %s?)",
		    filename, lineno, kw, hint);
	else
		error("%s: line %d: Bad configuration option: %s", filename,
		    lineno, kw);
}

/* --- tokenising ------------------------------------------------------------ */

/*
 * cut_keyword: the keyword at *sp as sshd reads it. It ends at whitespace,
 * '=' or a double-quoted part; the separator may be whitespace, one '=',
 * or whitespace around one '='. *sp is left at the arguments, or NULL at
 * the end of the line. Returns NULL for an unterminated quote.
 */
static char *
cut_keyword(char **sp)
{
	char *start = *sp, *p;
	int was_equals;

	if (start == NULL)
		return NULL;
	p = start + strcspn(start, CFG_WHITESPACE "\"=");
	if (*p == '\0') {
		*sp = NULL;
		return start;
	}
	if (*p == '"') {
		/* Drop the opening quote by moving the quoted text left. */
		for (; p[1] != '"'; p++) {
			if (p[1] == '\0')
				return NULL;
			p[0] = p[1];
		}
		*p = '\0';
		p += 2;
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

/*
 * split_args: the arguments as sshd splits them. Words are separated by
 * spaces or tabs; '#' at the start of a word ends the line; single or
 * double quotes group; backslash escapes a quote, a backslash, or (outside
 * quotes) a space. Returns ERR_FORMAT for an unterminated quote.
 */
static int
split_args(const char *s, struct cfg_args *a)
{
	size_t len = strlen(s), o = 0;
	char *buf, quote;

	/* Output never exceeds input; words need at most len + 1 slots. */
	if ((a->av = calloc(len + 2, sizeof(*a->av))) == NULL)
		return ERR_ALLOC;
	if ((buf = malloc(len + 1)) == NULL)
		return ERR_ALLOC;
	a->av[0] = buf; /* owner of every word, freed through av[0] */
	a->ac = 0;
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

static void
free_args(struct cfg_args *a)
{
	if (a->av != NULL) {
		/* av[0] is the word buffer even when ac is 0. */
		free(a->av[0]);
		free(a->av);
	}
	a->av = NULL;
	a->ac = 0;
}

/* --- public interface --------------------------------------------------- */

void
config_init(struct server_config *c)
{
	memset(c, 0, sizeof(*c));
	c->address_family = CONFIG_UNSET;
	c->pubkey_authentication = CONFIG_UNSET;
	c->strict_modes = CONFIG_UNSET;
	c->log_level = CONFIG_UNSET;
	c->syslog_facility = CONFIG_UNSET;
	c->login_grace_time = CONFIG_UNSET;
	c->max_auth_tries = CONFIG_UNSET;
	c->max_sessions = CONFIG_UNSET;
	c->max_startups = CONFIG_UNSET;
}

void
config_free(struct server_config *c)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++)
		free(c->listen[i].host);
	for (i = 0; i < c->nhost_key_files; i++)
		free(c->host_key_files[i]);
	for (i = 0; i < c->nauthorized_keys_files; i++)
		free(c->authorized_keys_files[i]);
	free(c->pid_file);
	config_init(c);
}

int
config_parse_line(
    struct server_config *c, const char *line, const char *filename, int lineno)
{
	struct cfg_args a;
	const struct keyword *k;
	char *copy, *rest, *kw;
	size_t len;
	int r = 0;

	memset(&a, 0, sizeof(a));
	if (filename == NULL)
		filename = "command-line";
	if ((copy = strdup(line)) == NULL)
		return ERR_ALLOC;
	/* Trailing whitespace (and a form feed) is not part of the value. */
	for (len = strlen(copy); len > 0; len--) {
		if (strchr(CFG_WHITESPACE "\f", copy[len - 1]) == NULL)
			break;
		copy[len - 1] = '\0';
	}
	rest = copy;
	kw = cut_keyword(&rest);
	/* Leading whitespace or '=' yields an empty first word. */
	if (kw != NULL && *kw == '\0' && rest != NULL)
		kw = cut_keyword(&rest);
	if (kw == NULL) {
		error("%s line %d: invalid quotes", filename, lineno);
		r = ERR_CONFIG;
		goto out;
	}
	if (*kw == '\0' || *kw == '#')
		goto out;
	if (rest == NULL || *rest == '\0') {
		error("%s line %d: no argument after keyword \"%s\"", filename,
		    lineno, kw);
		r = ERR_CONFIG;
		goto out;
	}
	if ((k = keyword_find(kw)) == NULL) {
		report_unknown(kw, filename, lineno);
		r = ERR_CONFIG;
		goto out;
	}
	if ((r = split_args(rest, &a)) != 0) {
		if (r == ERR_FORMAT) {
			error("%s line %d: invalid quotes", filename, lineno);
			r = ERR_CONFIG;
		}
		goto out;
	}
	a.filename = filename;
	a.lineno = lineno;
	a.keyword = kw;
	a.active = 1;
	if ((r = k->parse(c, k, &a)) != 0)
		goto out;
	if (a.next < a.ac) {
		error("%s line %d: keyword %s extra arguments at end of line",
		    filename, lineno, kw);
		r = ERR_CONFIG;
	}
out:
	free_args(&a);
	free(copy);
	return r;
}

int
config_read_file(const char *path, char **textp, size_t *lenp)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, n;
	int r;

	*textp = NULL;
	*lenp = 0;
	if ((f = fopen(path, "r")) == NULL) {
		error("%s: %s", path, strerror(errno));
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_SYSTEM;
	}
	if ((text = malloc(CONFIG_TEXT_MAX + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	while ((n = fread(text + len, 1, CONFIG_TEXT_MAX + 1 - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		error("%s: read error: %s", path, strerror(errno));
		r = ERR_SYSTEM;
		goto out;
	}
	if (len > CONFIG_TEXT_MAX) {
		error("%s: file too large", path);
		r = ERR_TOO_BIG;
		goto out;
	}
	text[len] = '\0';
	/* Keep only what the file needs: every connection holds a copy. */
	if ((*textp = realloc(text, len + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	*lenp = len;
	text = NULL;
	r = 0;
out:
	free(text);
	fclose(f);
	return r;
}

int
config_load_text(
    struct server_config *c, const char *text, size_t len, const char *name)
{
	const char *p = text, *end = text + len, *nl;
	char *line = NULL;
	int lineno = 0, bad = 0, r = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		free(line);
		if ((line = strndup(p, (size_t)(nl - p))) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		p = nl < end ? nl + 1 : end;
		/* Keep counting after a bad line so every mistake is shown. */
		if (lineno < INT_MAX)
			lineno++;
		r = config_parse_line(c, line, name, lineno);
		if (r == ERR_ALLOC)
			goto out;
		if (r != 0)
			bad++;
	}
	r = 0;
	if (bad > 0) {
		error(
		    "%s: terminating, %d bad configuration options", name, bad);
		r = ERR_CONFIG;
	}
out:
	free(line);
	return r;
}

int
config_load_file(struct server_config *c, const char *path)
{
	char *text;
	size_t len;
	int r;

	if ((r = config_read_file(path, &text, &len)) != 0)
		return r;
	r = config_load_text(c, text, len, path);
	free(text);
	return r;
}

static void
set_default_int(int *field, int value)
{
	if (*field == CONFIG_UNSET)
		*field = value;
}

/* Defaults go into empty lists only, so there is always room. */
static char *
xstrdup_default(const char *s)
{
	char *dup;

	if ((dup = strdup(s)) == NULL)
		fatal_f("out of memory");
	return dup;
}

static void
add_default_str(char **list, size_t *n, const char *value)
{
	list[(*n)++] = xstrdup_default(value);
}

void
config_fill_defaults(struct server_config *c)
{
	static const char *const host_keys[] = {
	    POSTERN_SYSCONFDIR "/ssh_host_rsa_key",
	    POSTERN_SYSCONFDIR "/ssh_host_ecdsa_key",
	    POSTERN_SYSCONFDIR "/ssh_host_ed25519_key",
	};
	size_t i;

	if (c->nports == 0)
		c->ports[c->nports++] = 22;
	set_default_int(&c->address_family, AF_UNSPEC);
	/*
	 * No ListenAddress: one wildcard entry, resolved per port with
	 * getaddrinfo(NULL, port, AI_PASSIVE) in AddressFamily, which gives
	 * :: and 0.0.0.0 in the order sshd binds and lists them.
	 */
	if (c->nlisten == 0) {
		c->listen[0].host = NULL;
		c->listen[0].port = 0;
		c->nlisten = 1;
	}
	if (c->nhost_key_files == 0) {
		for (i = 0; i < sizeof(host_keys) / sizeof(host_keys[0]); i++)
			add_default_str(c->host_key_files, &c->nhost_key_files,
			    host_keys[i]);
	}
	if (c->nauthorized_keys_files == 0) {
		add_default_str(c->authorized_keys_files,
		    &c->nauthorized_keys_files, ".ssh/authorized_keys");
		add_default_str(c->authorized_keys_files,
		    &c->nauthorized_keys_files, ".ssh/authorized_keys2");
	}
	set_default_int(&c->pubkey_authentication, 1);
	set_default_int(&c->strict_modes, 1);
	set_default_int(&c->log_level, LL_INFO);
	set_default_int(&c->syslog_facility, LOG_AUTH);
	set_default_int(&c->login_grace_time, 120);
	set_default_int(&c->max_auth_tries, 6);
	set_default_int(&c->max_sessions, 10);
	if (c->max_startups == CONFIG_UNSET) {
		c->max_startups_begin = 10;
		c->max_startups_rate = 30;
		c->max_startups = 100;
	}
	/*
	 * "PidFile none" is kept as the word while parsing, so that it counts
	 * as set (first value wins), and becomes NULL here.
	 */
	if (c->pid_file == NULL)
		c->pid_file = xstrdup_default("/run/sshd.pid");
	else if (strcasecmp(c->pid_file, "none") == 0) {
		free(c->pid_file);
		c->pid_file = NULL;
	}
}

void
config_dump(const struct server_config *c, FILE *f)
{
	size_t i;

	for (i = 0; i < NKEYWORDS; i++) {
		if (keywords[i].dump != NULL)
			keywords[i].dump(c, &keywords[i], f);
	}
}
