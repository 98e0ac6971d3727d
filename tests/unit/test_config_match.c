/*
 * test_config_match.c: Match blocks (every criterion, lists, negation,
 * precedence), Include (globbing, order, nesting, depth, Match scoping),
 * the config source's wire form and the -C connection specification.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/stat.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "policy/config.h"
#include "policy/config_int.h"
#include "tests/unit/t.h"

#define MAIN "/etc/ssh/sshd_config"

static char logbuf[16384];
/* What config_parse_conn_spec wrote to stderr (as sshd's, not logged). */
static char errbuf[1024];

static int
spec_stderr(const char *spec, struct match_conn *mc, char **st)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), r;
	size_t n = 0;

	errbuf[0] = '\0';
	if (tmp == NULL || saved < 0)
		return ERR_SYSTEM;
	fflush(stderr);
	dup2(fileno(tmp), 2);
	r = config_parse_conn_spec(spec, mc, st);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, tmp);
	errbuf[n] = '\0';
	fclose(tmp);
	return r;
}

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	size_t used = strlen(logbuf);

	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

/* source: MAIN with text, then (path, text) pairs, NULL-terminated. */
static struct config_source *
source(const char *text, ...)
{
	struct cfg_memfile files[16];
	struct config_source *src = NULL;
	size_t n = 0;
	va_list ap;

	files[n].path = MAIN;
	files[n].text = text;
	files[n++].len = strlen(text);
	va_start(ap, text);
	while (n < 16 && (files[n].path = va_arg(ap, const char *)) != NULL) {
		files[n].text = va_arg(ap, const char *);
		files[n].len = strlen(files[n].text);
		n++;
	}
	va_end(ap);
	logbuf[0] = '\0';
	if (cfg_source_from_memory(files, n, &src) != 0)
		return NULL;
	return src;
}

/* load: the global pass and the defaults; 0 or the error. */
static int
load(struct server_config *c, const struct config_source *src)
{
	int r;

	config_init(c);
	if (src == NULL)
		return ERR_INTERNAL;
	if ((r = config_load_source(c, src)) != 0)
		return r;
	config_fill_defaults(c);
	return 0;
}

/* conn: a connection as the monitor describes it. */
static struct match_conn
conn(const char *user, const char *addr)
{
	struct match_conn mc;

	memset(&mc, 0, sizeof(mc));
	mc.user = user;
	mc.host = addr;
	mc.addr = addr;
	mc.laddr = "192.0.2.1";
	mc.lport = 22;
	return mc;
}

/*
 * matches: whether the Match line `cond' applies to mc, seen through a
 * block that sets MaxSessions 3.
 */
static int
matches(const char *cond, const struct match_conn *mc)
{
	struct server_config c;
	struct config_source *src;
	char text[512];
	int r, m;

	snprintf(text, sizeof(text), "MaxSessions 9\nMatch %s\nMaxSessions 3\n",
	    cond);
	src = source(text, NULL);
	r = load(&c, src);
	if (r == 0)
		r = config_apply_match(&c, src, mc);
	m = r == 0 ? c.max_sessions == 3 : -1;
	config_free(&c);
	config_source_free(src);
	return m;
}

static void
check_match(const char *cond, const struct match_conn *mc, int want)
{
	char name[256];
	int got = matches(cond, mc);

	snprintf(name, sizeof(name), "match: [%s] %s", cond,
	    want ? "matches" : "does not match");
	T_CHECK(name, got == want);
	if (got == -1)
		printf("# log: %s", logbuf);
}

static void
test_criteria(void)
{
	struct match_conn mc = conn("alice", "10.1.2.3"), none;
	struct group *gr = getgrgid(0);
	char cond[128];

	check_match("User alice", &mc, 1);
	check_match("user ALICE", &mc, 0); /* user names are case-sensitive */
	check_match("User bob", &mc, 0);
	check_match("User al*", &mc, 1);
	check_match("User a?ice", &mc, 1);
	check_match("User bob,alice", &mc, 1);
	check_match("User *,!alice", &mc, 0);
	check_match("User !bob", &mc, 0); /* no positive entry matched */
	check_match("User !bob,*", &mc, 1);
	check_match("Host 10.1.2.3", &mc, 1);
	check_match("Host 10.1.*", &mc, 1);
	check_match("Address 10.0.0.0/8", &mc, 1);
	check_match("Address 10.1.2.3", &mc, 1);
	check_match("Address 10.1.2.*", &mc, 1);
	check_match("Address 192.168.0.0/16", &mc, 0);
	check_match("Address 10.0.0.0/8,!10.1.0.0/16", &mc, 0);
	check_match("Address !192.168.0.0/16,10.0.0.0/8", &mc, 1);
	check_match("Address ::1", &mc, 0);
	check_match("LocalAddress 192.0.2.0/24", &mc, 1);
	check_match("LocalAddress 192.0.3.1", &mc, 0);
	check_match("LocalPort 22", &mc, 1);
	check_match("LocalPort ssh", &mc, 1);
	check_match("LocalPort 2222", &mc, 0);
	check_match("RDomain *", &mc, 0); /* no routing domain */
	check_match("Invalid-User", &mc, 0);
	check_match("All", &mc, 1);
	check_match("all # comment", &mc, 1);
	/* Several criteria: all must match. */
	check_match("User alice Address 10.0.0.0/8", &mc, 1);
	check_match("User alice Address 192.168.0.0/16", &mc, 0);
	check_match("User=alice LocalPort=22", &mc, 1);
	check_match("User alice # the rest is a comment", &mc, 1);
	mc.rdomain = "vrf-blue";
	check_match("RDomain vrf-*", &mc, 1);
	check_match("RDomain vrf-red", &mc, 0);
	mc.host = "Client.Example.COM";
	check_match("Host *.example.com", &mc, 1); /* host names fold case */
	check_match("Host *.example.com,!client.*", &mc, 0);
	mc.invalid_user = 1;
	check_match("Invalid-User", &mc, 1);
	check_match("Invalid-User User alice", &mc, 1);

	mc = conn("root", "10.1.2.3");
	if (gr != NULL) {
		snprintf(cond, sizeof(cond), "Group %s", gr->gr_name);
		check_match(cond, &mc, 1);
		snprintf(
		    cond, sizeof(cond), "Group nosuchgroup,%s", gr->gr_name);
		check_match(cond, &mc, 1);
		snprintf(cond, sizeof(cond), "Group *,!%s", gr->gr_name);
		check_match(cond, &mc, 0);
	}
	check_match("Group nosuchgroup", &mc, 0);
	mc.user = "no-such-user-xyz";
	check_match("Group *", &mc, 0);

	/* What is not known does not match; -T without -C is like this. */
	memset(&none, 0, sizeof(none));
	none.lport = 22;
	check_match("User *", &none, 0);
	check_match("Group *", &none, 0);
	check_match("Host *", &none, 0);
	check_match("Address *", &none, 0);
	check_match("LocalAddress *", &none, 0);
	check_match("All", &none, 1);
	T_CHECK("match: NULL connection is nobody",
	    matches("All", NULL) == -1 || matches("All", NULL) == 1);
}

static void
bad_match(const char *cond, const char *msg)
{
	struct server_config c;
	struct config_source *src;
	char text[512], want[1024], name[256];
	int r;

	snprintf(text, sizeof(text), "Match %s\nMaxSessions 3\n", cond);
	src = source(text, NULL);
	r = load(&c, src);
	/* sshd's fatal(): no summary. */
	snprintf(want, sizeof(want), "%s" MAIN " line 1: Bad Match condition\n",
	    msg);
	snprintf(name, sizeof(name), "bad match: [%s]", cond);
	T_CHECK(name, r == ERR_CONFIG && strcmp(logbuf, want) == 0);
	if (strcmp(logbuf, want) != 0)
		printf("# got: %s", logbuf);
	config_free(&c);
	config_source_free(src);
}

static void
test_match_errors(void)
{
	struct server_config c;
	struct config_source *src;
	struct match_conn mc;

	bad_match("Foo bar", "Unsupported Match attribute Foo\n");
	bad_match(
	    "all x", "'all' cannot be combined with other Match attributes\n");
	bad_match("User x All",
	    "'all' cannot be combined with other Match attributes\n");
	bad_match("User", "Missing Match criteria for User\n");
	bad_match("User #x", "Missing Match criteria for User\n");
	bad_match(
	    "# only a comment", "One or more attributes required for Match\n");
	bad_match("LocalPort abc", "Invalid LocalPort 'abc' on Match line\n");
	bad_match("Address 10.0.0.1/8",
	    "Invalid Match address argument '10.0.0.1/8' at line 1\n");
	bad_match("Address 10.0.0.0/33",
	    "Invalid Match address argument '10.0.0.0/33' at line 1\n");
	bad_match("Address 10.0.0.0/8,,10.1.0.0/16",
	    "Invalid Match address argument '10.0.0.0/8,,10.1.0.0/16' at "
	    "line 1\n");
	bad_match("LocalAddress fe80::1/10",
	    "Invalid Match localaddress argument 'fe80::1/10' at line 1\n");

	/* sshd accepts what is not an address as a wildcard pattern. */
	src = source("Match Address foo,1.2.3.4/,10.*\nMaxSessions 3\n", NULL);
	T_CHECK("match: non-addresses are patterns",
	    load(&c, src) == 0 && logbuf[0] == '\0');
	config_free(&c);
	config_source_free(src);

	/* As sshd: an unknown keyword in a Match block is also no Match
	 * keyword (fatal there: no summary). */
	src = source("Match User x\nBogus 1\n", NULL);
	T_CHECK("match: unknown keyword inside",
	    load(&c, src) == ERR_CONFIG &&
	        strcmp(logbuf,
	            MAIN ": line 2: Bad configuration option: Bogus\n" MAIN
	                 " line 2: Directive 'Bogus' is not allowed within a "
	                 "Match block\n") == 0);
	config_free(&c);
	config_source_free(src);

	src = source("Match User x\nPort 22\nPidFile /x\n", NULL);
	T_CHECK("match: global keywords refused inside",
	    load(&c, src) == ERR_CONFIG &&
	        strcmp(logbuf,
	            MAIN " line 2: Directive 'Port' is not allowed within a "
	                 "Match block\n" MAIN
	                 " line 3: Directive 'PidFile' is not allowed within a "
	                 "Match block\n") == 0);
	config_free(&c);
	config_source_free(src);

	/* After "Match all" the lines are global again, as in sshd. */
	src = source("Match User x\nMatch all\nPort 2222\n", NULL);
	T_CHECK("match: Match all makes the rest global",
	    load(&c, src) == 0 && c.nports == 1 && c.ports[0] == 2222);
	config_free(&c);
	config_source_free(src);

	src = source("Match User x Bogus\nMaxSessions 1\n", NULL);
	T_CHECK("match: bad attribute after a good one",
	    load(&c, src) == ERR_CONFIG);
	config_free(&c);
	config_source_free(src);

	/* sshd -T: a LocalPort criterion needs lport in the spec. */
	src = source("Match LocalPort 22\nMaxSessions 1\n", NULL);
	memset(&mc, 0, sizeof(mc));
	T_CHECK("match: load ok", load(&c, src) == 0);
	logbuf[0] = '\0';
	T_CHECK("match: LocalPort with no port known is an error",
	    config_apply_match(&c, src, &mc) == ERR_CONFIG &&
	        strstr(logbuf,
	            "'Match LocalPort' in configuration but "
	            "'lport' not in connection test "
	            "specification.\n") == logbuf);
	config_free(&c);
	config_source_free(src);
}

static void
test_precedence(void)
{
	struct server_config c;
	struct config_source *src;
	struct match_conn mc = conn("alice", "10.1.2.3");

	src = source("PasswordAuthentication no\n"
	             "MaxAuthTries 4\n"
	             "AllowUsers a b\n"
	             "Banner /etc/issue\n"
	             "ForceCommand /bin/global\n"
	             "Match User alice\n"
	             "PasswordAuthentication yes\n"
	             "AllowUsers c\n"
	             "Banner none\n"
	             "LogLevel DEBUG2\n"
	             "Match Address 10.0.0.0/8\n"
	             "PasswordAuthentication no\n"
	             "MaxAuthTries 2\n"
	             "AllowUsers d\n"
	             "ForceCommand none\n"
	             "AuthenticationMethods publickey,password\n"
	             "Match User bob\n"
	             "MaxAuthTries 1\n",
	    NULL);
	T_CHECK("precedence: load", load(&c, src) == 0 && logbuf[0] == '\0');
	T_CHECK("precedence: Match blocks not applied when loading",
	    c.password_authentication == 0 && c.max_auth_tries == 4 &&
	        c.nallow_users == 2 && c.banner != NULL &&
	        c.log_level == LL_INFO);
	T_CHECK("precedence: apply", config_apply_match(&c, src, &mc) == 0);
	T_CHECK("precedence: a matching block overrides the global value",
	    c.password_authentication == 1);
	T_CHECK(
	    "precedence: the first matching block wins", c.max_auth_tries == 2);
	T_CHECK("precedence: lists from matching blocks replace the global one",
	    c.nallow_users == 2 && strcmp(c.allow_users[0], "c") == 0 &&
	        strcmp(c.allow_users[1], "d") == 0);
	T_CHECK("precedence: Banner none clears", c.banner == NULL);
	T_CHECK(
	    "precedence: ForceCommand none clears", c.force_command == NULL);
	T_CHECK("precedence: AuthenticationMethods from a block",
	    c.nauth_methods == 1 &&
	        strcmp(c.auth_methods[0], "publickey,password") == 0);
	T_CHECK("precedence: LogLevel", c.log_level == LL_DEBUG2);
	config_free(&c);

	/* Not matching: the global values stay. */
	mc = conn("carol", "192.168.1.1");
	T_CHECK("precedence: load again", load(&c, src) == 0);
	T_CHECK("precedence: no block matches",
	    config_apply_match(&c, src, &mc) == 0 &&
	        c.password_authentication == 0 && c.max_auth_tries == 4 &&
	        c.nallow_users == 2 && c.banner != NULL &&
	        strcmp(c.force_command, "/bin/global") == 0 &&
	        c.nauth_methods == 0);
	config_free(&c);
	config_source_free(src);

	/* -o values come first but a matching block still overrides them. */
	src = source("Match all\nMaxAuthTries 5\n", NULL);
	config_init(&c);
	T_CHECK("precedence: -o then file",
	    config_parse_line(&c, "MaxAuthTries 1", "command-line", 1) == 0 &&
	        config_load_source(&c, src) == 0 && c.max_auth_tries == 1);
	config_fill_defaults(&c);
	mc = conn("alice", "10.1.2.3");
	T_CHECK("precedence: Match over -o",
	    config_apply_match(&c, src, &mc) == 0 && c.max_auth_tries == 5);
	config_free(&c);
	config_source_free(src);

	src = source("Match User alice\nAuthenticationMethods any\n", NULL);
	T_CHECK("precedence: AuthenticationMethods any in a block",
	    load(&c, src) == 0 && config_apply_match(&c, src, &mc) == 0 &&
	        c.nauth_methods == 0);
	config_free(&c);
	config_source_free(src);

	/* sshd's rule: "any" after a list an earlier line set is an error. */
	src = source("AuthenticationMethods publickey\n"
	             "Match User x\nAuthenticationMethods any\n",
	    NULL);
	T_CHECK("precedence: any after a list",
	    load(&c, src) == ERR_CONFIG &&
	        strstr(logbuf,
	            MAIN " line 3: \"any\" must appear alone in "
	                 "AuthenticationMethods\n") == logbuf);
	config_free(&c);
	config_source_free(src);
}

static void
test_include(void)
{
	struct server_config c;
	struct config_source *src;
	struct match_conn mc = conn("bob", "10.1.2.3");
	char text[64 * 20];
	char paths[20][64], texts[20][96];
	struct cfg_memfile files[20];
	int i, r;

	/* Lexical order; relative patterns are under /etc/ssh. */
	src = source("Include sshd_config.d/*.conf\nMaxAuthTries 5\n",
	    "/etc/ssh/sshd_config.d/20-b.conf", "MaxSessions 2\nPort 2020\n",
	    "/etc/ssh/sshd_config.d/10-a.conf", "MaxSessions 1\nPort 1010\n",
	    "/etc/ssh/sshd_config.d/README", "Bogus line\n", NULL);
	T_CHECK("include: load", load(&c, src) == 0 && logbuf[0] == '\0');
	T_CHECK("include: first file wins, in lexical order",
	    c.max_sessions == 1 && c.max_auth_tries == 5);
	T_CHECK("include: lists accumulate in order",
	    c.nports == 2 && c.ports[0] == 1010 && c.ports[1] == 2020);
	config_free(&c);
	config_source_free(src);

	/* A Match in an included file ends with that file. */
	src = source("Include /etc/ssh/a.conf\nPasswordAuthentication no\n",
	    "/etc/ssh/a.conf", "Match User bob\nPermitTTY no\n", NULL);
	T_CHECK("include: Match does not leak out",
	    load(&c, src) == 0 && c.password_authentication == 0);
	T_CHECK("include: its Match applies",
	    config_apply_match(&c, src, &mc) == 0 && c.permit_tty == 0 &&
	        c.password_authentication == 0);
	config_free(&c);
	config_source_free(src);

	/* Include inside a Match block: conditional. */
	src = source("Match User bob\nInclude /etc/ssh/bob.conf\n",
	    "/etc/ssh/bob.conf",
	    "PermitTTY no\nMatch Address 10.0.0.0/8\nMaxSessions 4\n", NULL);
	T_CHECK("include: in Match, load",
	    load(&c, src) == 0 && c.permit_tty == 1 && c.max_sessions == 10);
	T_CHECK("include: in Match, applies for bob",
	    config_apply_match(&c, src, &mc) == 0 && c.permit_tty == 0 &&
	        c.max_sessions == 4);
	config_free(&c);
	mc.user = "carol";
	T_CHECK("include: in Match, not for carol",
	    load(&c, src) == 0 && config_apply_match(&c, src, &mc) == 0 &&
	        c.permit_tty == 1 && c.max_sessions == 10);
	config_free(&c);
	config_source_free(src);
	mc.user = "bob";

	/* A global keyword in a file included inside a Match block. */
	src = source("Match User bob\nInclude /etc/ssh/g.conf\n",
	    "/etc/ssh/g.conf", "Port 22\n", NULL);
	T_CHECK("include: global keyword in conditional include refused",
	    load(&c, src) == ERR_CONFIG &&
	        strstr(logbuf,
	            "/etc/ssh/g.conf line 1: Directive 'Port' is not "
	            "allowed within a Match block\n") == logbuf);
	config_free(&c);
	config_source_free(src);

	/* A pattern that matches nothing is fine; no argument is not. */
	src = source("Include /etc/ssh/none/*.conf\nInclude\n", NULL);
	T_CHECK("include: no files is not an error, no argument is",
	    load(&c, src) == ERR_CONFIG &&
	        strcmp(logbuf,
	            MAIN " line 2: no argument after keyword "
	                 "\"Include\"\n" MAIN
	                 ": terminating, 1 bad configuration "
	                 "options\n") == 0);
	config_free(&c);
	config_source_free(src);

	/* An error in an included file stops with that file's summary. */
	src = source("Include /etc/ssh/bad.conf\nBogus2 x\n",
	    "/etc/ssh/bad.conf", "Bogus1 x\n", NULL);
	T_CHECK("include: error in included file",
	    load(&c, src) == ERR_CONFIG &&
	        strcmp(logbuf,
	            "/etc/ssh/bad.conf: line 1: Bad configuration option: "
	            "Bogus1\n/etc/ssh/bad.conf: terminating, 1 bad "
	            "configuration options\n") == 0);
	config_free(&c);
	config_source_free(src);

	/* Including itself: OpenSSH's depth limit. */
	src = source("Include /etc/ssh/sshd_config\n", NULL);
	T_CHECK("include: recursion stops at the depth limit",
	    src == NULL &&
	        strcmp(logbuf,
	            "Too many recursive configuration includes\n"
	            "/etc/ssh/sshd_config line 1: Include "
	            "/etc/ssh/sshd_config: "
	            "more than 16 levels of Include\n") == 0);

	/* 16 levels of nesting are fine, 17 are not. */
	for (i = 0; i < 18; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/etc/ssh/n%02d", i);
		snprintf(texts[i], sizeof(texts[i]), "Include /etc/ssh/n%02d\n",
		    i + 1);
		files[i].path = paths[i];
		files[i].text = texts[i];
		files[i].len = strlen(texts[i]);
	}
	snprintf(texts[16], sizeof(texts[16]), "MaxSessions 7\n");
	files[16].len = strlen(texts[16]);
	logbuf[0] = '\0';
	r = cfg_source_from_memory(files, 17, &src);
	T_CHECK("include: 16 levels read", r == 0);
	T_CHECK("include: 16 levels parse",
	    r == 0 && load(&c, src) == 0 && c.max_sessions == 7);
	config_free(&c);
	config_source_free(src);
	snprintf(texts[16], sizeof(texts[16]), "Include /etc/ssh/n17\n");
	files[16].len = strlen(texts[16]);
	snprintf(texts[17], sizeof(texts[17]), "MaxSessions 7\n");
	files[17].len = strlen(texts[17]);
	logbuf[0] = '\0';
	T_CHECK("include: 17 levels refused",
	    cfg_source_from_memory(files, 18, &src) == ERR_CONFIG &&
	        strcmp(logbuf,
	            "Too many recursive configuration includes\n"
	            "/etc/ssh/n16 line 1: Include /etc/ssh/n17: more than 16 "
	            "levels of Include\n") == 0);

	/* Include lines inside Match blocks that never match are read too. */
	snprintf(
	    text, sizeof(text), "Match User nobody\nInclude /etc/ssh/x.conf\n");
	src =
	    source(text, "/etc/ssh/x.conf", "Match all\nMaxSessions 5\n", NULL);
	T_CHECK("include: under a Match that does not apply",
	    load(&c, src) == 0 && c.max_sessions == 10);
	T_CHECK("include: its Match never applies",
	    config_apply_match(&c, src, &mc) == 0 && c.max_sessions == 10);
	config_free(&c);
	config_source_free(src);
}

/* write_file: path under dir with text. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* Real files: glob(3) order and the reading of every included file. */
static void
test_include_files(void)
{
	char dir[] = "/tmp/postern-inc-XXXXXX", path[512], text[1024];
	struct config_source *src = NULL, *back = NULL;
	struct server_config c;
	struct buf *b;
	int r;

	if (mkdtemp(dir) == NULL) {
		T_CHECK("files: temp dir", 0);
		return;
	}
	snprintf(path, sizeof(path), "%s/d", dir);
	mkdir(path, 0700);
	write_file(dir, "d/b.conf", "Port 2\n");
	write_file(dir, "d/a.conf",
	    "Port 1\nInclude "
	    "/dev/null\n");
	write_file(dir, "d/c.txt", "Port 3\n");
	write_file(dir, "d/10.conf", "Port 10\n");
	snprintf(text, sizeof(text),
	    "Include %s/d/*.conf %s/none*.conf\nPort 4\n", dir, dir);
	write_file(dir, "main", text);
	snprintf(path, sizeof(path), "%s/main", dir);
	logbuf[0] = '\0';
	r = config_source_read(path, &src);
	T_CHECK("files: read", r == 0 && logbuf[0] == '\0');
	T_CHECK("files: every file read once",
	    src != NULL && src->nfiles == 5 && src->nincs == 3);
	T_CHECK("files: glob order is lexical",
	    load(&c, src) == 0 && c.nports == 4 && c.ports[0] == 10 &&
	        c.ports[1] == 1 && c.ports[2] == 2 && c.ports[3] == 4);
	config_free(&c);

	/* The wire form keeps everything; nothing is read again. */
	b = buf_new(CONFIG_SOURCE_MAX);
	T_CHECK("wire: serialize", config_source_serialize(src, b) == 0);
	snprintf(path, sizeof(path), "%s/d/a.conf", dir);
	unlink(path);
	T_CHECK("wire: deserialize",
	    config_source_deserialize(b, &back) == 0 && back->quiet);
	T_CHECK("wire: same result without the files",
	    load(&c, back) == 0 && c.nports == 4 && c.ports[1] == 1);
	config_free(&c);
	buf_free(b);
	config_source_free(back);
	config_source_free(src);

	/* A directory reads as an empty file, as for sshd. */
	snprintf(text, sizeof(text), "Include %s/d\nPort 4\n", dir);
	write_file(dir, "main", text);
	snprintf(path, sizeof(path), "%s/main", dir);
	logbuf[0] = '\0';
	T_CHECK("files: a directory as include reads as empty",
	    config_source_read(path, &src) == 0 && load(&c, src) == 0 &&
	        c.nports == 1 && c.ports[0] == 4);
	config_free(&c);
	config_source_free(src);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
}

static void
test_wire(void)
{
	struct config_source *src, *back = NULL;
	struct server_config c;
	struct buf *b, *t;
	size_t len, i;
	int bad = 0;

	src = source("Include /etc/ssh/a.conf\nKerberosAuthentication yes\n",
	    "/etc/ssh/a.conf", "MaxSessions 3\n", NULL);
	b = buf_new(CONFIG_SOURCE_MAX);
	T_CHECK("wire: serialize",
	    src != NULL && config_source_serialize(src, b) == 0);
	len = buf_len(b);
	/* Every truncation is refused. */
	for (i = 0; i < len; i++) {
		t = buf_from(buf_ptr(b), i);
		if (config_source_deserialize(t, &back) == 0) {
			bad++;
			config_source_free(back);
		}
		buf_free(t);
	}
	T_CHECK("wire: truncations refused", bad == 0);
	/* Trailing bytes, a bad magic, a bad file index. */
	t = buf_new(len + 1);
	buf_put(t, buf_ptr(b), len);
	buf_put_u8(t, 0);
	T_CHECK("wire: trailing byte refused",
	    config_source_deserialize(t, &back) == ERR_TRAILING);
	buf_free(t);
	t = buf_from(buf_ptr(b), len);
	buf_mutable_ptr(t)[0] ^= 1;
	T_CHECK("wire: bad magic refused",
	    config_source_deserialize(t, &back) == ERR_FORMAT);
	buf_free(t);
	t = buf_from(buf_ptr(b), len);
	buf_mutable_ptr(t)[len - 1] = 9;
	T_CHECK("wire: bad file index refused",
	    config_source_deserialize(t, &back) == ERR_FORMAT);
	buf_free(t);

	/* The listener warned already: the connection stays quiet. */
	T_CHECK("wire: load warns from disk",
	    load(&c, src) == 0 && strstr(logbuf, "Unsupported option") != NULL);
	config_free(&c);
	T_CHECK("wire: round trip", config_source_deserialize(b, &back) == 0);
	logbuf[0] = '\0';
	T_CHECK("wire: handed-over source is quiet",
	    load(&c, back) == 0 && logbuf[0] == '\0' && c.max_sessions == 3);
	config_free(&c);
	config_source_free(back);
	config_source_free(src);
	buf_free(b);
}

static void
test_conn_spec(void)
{
	struct match_conn mc;
	char *st = NULL;

	T_CHECK("spec: full",
	    config_parse_conn_spec("user=u,host=h.example,addr=10.0.0.1,"
	                           "laddr=10.0.0.2,lport=2222,rdomain=r1",
	        &mc, &st) == 0 &&
	        strcmp(mc.user, "u") == 0 &&
	        strcmp(mc.host, "h.example") == 0 &&
	        strcmp(mc.addr, "10.0.0.1") == 0 &&
	        strcmp(mc.laddr, "10.0.0.2") == 0 && mc.lport == 2222 &&
	        strcmp(mc.rdomain, "r1") == 0 && !mc.invalid_user);
	free(st);
	T_CHECK("spec: invalid-user and a service port",
	    config_parse_conn_spec("user=x,invalid-user,lport=ssh", &mc, &st) ==
	            0 &&
	        mc.invalid_user && mc.lport == 22 && mc.addr == NULL);
	free(st);
	T_CHECK("spec: an empty element ends the list",
	    config_parse_conn_spec("user=a,,host=b", &mc, &st) == 0 &&
	        strcmp(mc.user, "a") == 0 && mc.host == NULL);
	free(st);
	T_CHECK("spec: unknown key",
	    spec_stderr("user=a,colour=red", &mc, &st) == ERR_CONFIG &&
	        strcmp(errbuf,
	            "Invalid test mode specification colour=red\n") == 0);
	free(st);
	T_CHECK("spec: bad port",
	    spec_stderr("lport=99999", &mc, &st) == ERR_CONFIG &&
	        strcmp(errbuf,
	            "Invalid port '99999' in test mode "
	            "specification lport=99999\n") == 0);
	free(st);
}

int
main(void)
{
	log_init("test_config_match", LL_INFO, LOG_AUTH, 1);
	log_set_handler(capture, NULL);
	test_criteria();
	test_match_errors();
	test_precedence();
	test_include();
	test_include_files();
	test_wire();
	test_conn_spec();
	return T_DONE();
}
