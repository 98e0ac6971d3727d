/*
 * test_authopts.c: authorized_keys options as OpenSSH parses them, line
 * splitting, merging, from= and expiry checks, the IPC encoding, and
 * lookups in a real authorized_keys file with option lines.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "sshkey.h"
#include "authkeys.h"
#include "authopts.h"
#include "tests/unit/t.h"

/* Made with ssh-keygen. */
static const char key_a[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAobB4iociU7JhqGiL0eO0dz23zx/0Mq"
    "2Sni6W3yHnRh ak-a";
static const char key_b[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOaCpqHh0NkbL0hfnlVQG1APDH7udANa"
    "Gt44+y4JnSFg ak-b";
static const char key_c[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXaYWSLkOqf4B6d9wl6WgzI/+XuqK5b"
    "KHLK0g4SY8EM ak-c";
static const char key_d[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILavPFRRdyrjuk1L9PsfdLEKI7wQDLuZ"
    "gxmCAr1Oy4TR ak-d";
static const char key_e[] =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYA"
    "AABBBLI1VUwYNl1npGt0M8JMNWqsW50EgEvyeGJhGFK3cN1Ua6CehEbkzIBvsPzoTWyL"
    "AWdquFJHrNU+hn9kUboFmNo= ak-e";

static char logbuf[1 << 17];
static size_t loglen;

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	int n;

	(void)ctx;
	n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%d %s\n",
	    (int)level, msg);
	if (n > 0 && (size_t)n < sizeof(logbuf) - loglen)
		loglen += (size_t)n;
}

static void
log_clear(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

static int
log_has(const char *needle)
{
	return strstr(logbuf, needle) != NULL;
}

/* 1 if needle was logged at exactly level. */
static int
log_has_at(enum log_level level, const char *needle)
{
	char pfx[8];
	const char *p = logbuf, *hit, *bol;

	snprintf(pfx, sizeof(pfx), "%d ", (int)level);
	while ((hit = strstr(p, needle)) != NULL) {
		for (bol = hit; bol > logbuf && bol[-1] != '\n'; bol--)
			;
		if (strncmp(bol, pfx, strlen(pfx)) == 0)
			return 1;
		p = hit + 1;
	}
	return 0;
}

static struct authopts *
parse(const char *s)
{
	struct authopts *o = NULL;
	const char *err = NULL;

	if (authopts_parse(s, &o, &err) != 0) {
		printf("# parse \"%s\": %s\n", s, err ? err : "?");
		return NULL;
	}
	return o;
}

/* 1 if s is refused with exactly the reason want. */
static int
refused(const char *s, const char *want)
{
	struct authopts *o = NULL;
	const char *err = NULL;
	int r;

	r = authopts_parse(s, &o, &err);
	if (r != ERR_FORMAT || o != NULL || err == NULL ||
	    strcmp(err, want) != 0) {
		printf("# \"%s\": r=%d err=\"%s\" want \"%s\"\n", s, r,
		    err ? err : "(null)", want);
		authopts_free(o);
		return 0;
	}
	return 1;
}

static int
all_permits(const struct authopts *o, int v)
{
	return o->permit_pty == v && o->permit_port_forwarding == v &&
	    o->permit_agent_forwarding == v && o->permit_x11_forwarding == v &&
	    o->permit_user_rc == v;
}

static int
permit_is(
    const struct authopts_permits *p, size_t i, const char *host, int port)
{
	return i < p->n && strcmp(p->v[i].host, host) == 0 &&
	    p->v[i].port == port;
}

static void
test_defaults(void)
{
	struct authopts *o;

	o = parse(NULL);
	T_CHECK("defaults: NULL gives everything permitted",
	    o != NULL && all_permits(o, 1) && !o->restricted &&
	        o->tunnel == AUTHOPTS_TUN_NONE && o->expiry == 0 &&
	        o->force_command == NULL && o->nenv == 0 && o->nfrom == 0 &&
	        !o->permitopen.restricted && !o->permitlisten.restricted &&
	        !o->cert_authority && !o->require_verify &&
	        !o->no_require_user_presence && authopts_is_unrestricted(o));
	authopts_free(o);
	o = parse("");
	T_CHECK("defaults: empty string", o != NULL && all_permits(o, 1));
	authopts_free(o);
	o = authopts_new(0);
	T_CHECK("defaults: certificate start has nothing permitted",
	    o != NULL && all_permits(o, 0) && !authopts_is_unrestricted(o));
	authopts_free(o);
}

static void
test_flags(void)
{
	static const struct {
		const char *opt;
		size_t off;
		int want;
	} cases[] = {
	    {"no-agent-forwarding",
	        offsetof(struct authopts, permit_agent_forwarding), 0},
	    {"no-port-forwarding",
	        offsetof(struct authopts, permit_port_forwarding), 0},
	    {"no-pty", offsetof(struct authopts, permit_pty), 0},
	    {"no-user-rc", offsetof(struct authopts, permit_user_rc), 0},
	    {"no-X11-forwarding",
	        offsetof(struct authopts, permit_x11_forwarding), 0},
	    {"cert-authority", offsetof(struct authopts, cert_authority), 1},
	    {"no-touch-required",
	        offsetof(struct authopts, no_require_user_presence), 1},
	    {"verify-required", offsetof(struct authopts, require_verify), 1},
	    {"restrict", offsetof(struct authopts, restricted), 1},
	};
	struct authopts *o;
	char name[96];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = parse(cases[i].opt);
		snprintf(name, sizeof(name), "flags: %s", cases[i].opt);
		T_CHECK(name,
		    o != NULL &&
		        *(int *)((char *)o + cases[i].off) == cases[i].want);
		authopts_free(o);
	}
	o = parse("restrict");
	T_CHECK("flags: restrict clears every permission",
	    o != NULL && all_permits(o, 0) && o->restricted);
	authopts_free(o);
	o = parse("restrict,agent-forwarding,port-forwarding,pty,user-rc,"
	          "X11-forwarding");
	T_CHECK("flags: each positive flag re-enables after restrict",
	    o != NULL && all_permits(o, 1) && o->restricted);
	authopts_free(o);
	o = parse("restrict,pty");
	T_CHECK("flags: restrict,pty allows a pty and nothing else",
	    o != NULL && o->permit_pty && !o->permit_port_forwarding &&
	        !o->permit_agent_forwarding && !o->permit_x11_forwarding &&
	        !o->permit_user_rc);
	authopts_free(o);
	o = parse("pty,restrict");
	T_CHECK("flags: order matters, pty then restrict has no pty",
	    o != NULL && !o->permit_pty);
	authopts_free(o);
	o = parse("NO-PTY,No-Agent-Forwarding,x11-FORWARDING");
	T_CHECK("flags: names are case-insensitive",
	    o != NULL && !o->permit_pty && !o->permit_agent_forwarding &&
	        o->permit_x11_forwarding);
	authopts_free(o);
	o = parse("no-touch-required,touch-required,no-verify-required");
	T_CHECK("flags: touch-required and no-verify-required (parsed as "
	        "sshd does)",
	    o != NULL && !o->no_require_user_presence && !o->require_verify);
	authopts_free(o);
	o = parse("no-pty,pty");
	T_CHECK("flags: last setting wins", o != NULL && o->permit_pty);
	authopts_free(o);
	T_CHECK("flags: trailing comma at the end is refused",
	    refused(",,no-pty,", "unexpected end-of-options"));
	o = parse(",,no-pty, ssh-ed25519 AAAA");
	T_CHECK("flags: empty options skipped as sshd does",
	    o != NULL && !o->permit_pty);
	authopts_free(o);
	o = parse("no-pty\tno-user-rc");
	T_CHECK("flags: a tab ends the options",
	    o != NULL && !o->permit_pty && o->permit_user_rc);
	authopts_free(o);
}

/* 2031-07-15 at hour:min, the date the expiry-time cases write. */
static struct tm
july_15_2031(int hour, int min)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 2031 - 1900;
	tm.tm_mon = 6;
	tm.tm_mday = 15;
	tm.tm_hour = hour;
	tm.tm_min = min;
	return tm;
}

static void
test_values(void)
{
	struct authopts *o;
	uint64_t t;

	o = parse("command=\"echo \\\"hi there\\\" \\\\n, ok\"");
	T_CHECK("command: \\\" is a quote, other backslashes stay, blanks and "
	        "commas inside quotes",
	    o != NULL && o->force_command != NULL &&
	        strcmp(o->force_command, "echo \"hi there\" \\\\n, ok") == 0 &&
	        !authopts_is_unrestricted(o));
	authopts_free(o);
	o = parse("COMMAND=\"\"");
	T_CHECK("command: empty and upper-case name",
	    o != NULL && o->force_command != NULL && o->force_command[0] == 0);
	authopts_free(o);
	o = parse("command=\"a\\\\\"b\"");
	T_CHECK("command: backslash before \\\" (sshd reads a\\\"b)",
	    o != NULL && strcmp(o->force_command, "a\\\"b") == 0);
	authopts_free(o);

	o = parse("environment=\"FOO=bar baz\",environment=\"_X1=\","
	          "environment=\"FOO=second\",environment=\"A=b=c\"");
	T_CHECK("environment: several, first setting of a name wins",
	    o != NULL && o->nenv == 3 &&
	        strcmp(o->env[0], "FOO=bar baz") == 0 &&
	        strcmp(o->env[1], "_X1=") == 0 &&
	        strcmp(o->env[2], "A=b=c") == 0);
	authopts_free(o);

	o = parse("from=\"*.example.com,!bad.example.com,10.0.0.0/8\"");
	T_CHECK("from: stored as one list",
	    o != NULL && o->nfrom == 1 &&
	        strcmp(o->from[0],
	            "*.example.com,!bad.example.com,10.0.0.0/8") == 0 &&
	        authopts_is_unrestricted(o));
	authopts_free(o);

	o = parse("principals=\"alice,bob\",cert-authority");
	T_CHECK("principals: stored",
	    o != NULL && strcmp(o->principals, "alice,bob") == 0 &&
	        o->cert_authority);
	authopts_free(o);

	o = parse("tunnel=\"0\"");
	T_CHECK("tunnel: 0", o != NULL && o->tunnel == 0);
	authopts_free(o);
	o = parse("tunnel=\"5\",tunnel=\"ANY\"");
	T_CHECK("tunnel: any, last wins",
	    o != NULL && o->tunnel == AUTHOPTS_TUN_ANY);
	authopts_free(o);

	o = parse(
	    "permitopen=\"192.0.2.1:80\",permitopen=\"[2001:db8::1]:443\","
	    "permitopen=\"host.example:*\",permitopen=\"h/22\","
	    "permitopen=\"srv:ssh\"");
	T_CHECK("permitopen: host:port, [v6]:port, port *, host/port, service",
	    o != NULL && o->permitopen.restricted && o->permitopen.n == 5 &&
	        permit_is(&o->permitopen, 0, "192.0.2.1", 80) &&
	        permit_is(&o->permitopen, 1, "2001:db8::1", 443) &&
	        permit_is(
	            &o->permitopen, 2, "host.example", AUTHOPTS_PORT_ANY) &&
	        permit_is(&o->permitopen, 3, "h", 22) &&
	        permit_is(&o->permitopen, 4, "srv", 22) &&
	        !o->permitlisten.restricted);
	authopts_free(o);
	o = parse("permitlisten=\"8080\",permitlisten=\"localhost:8081\","
	          "permitlisten=\"[::1]:22000\",permitlisten=\"*\"");
	T_CHECK("permitlisten: bare port, host:port, [v6]:port, *",
	    o != NULL && o->permitlisten.restricted && o->permitlisten.n == 4 &&
	        permit_is(&o->permitlisten, 0, "*", 8080) &&
	        permit_is(&o->permitlisten, 1, "localhost", 8081) &&
	        permit_is(&o->permitlisten, 2, "::1", 22000) &&
	        permit_is(&o->permitlisten, 3, "*", AUTHOPTS_PORT_ANY));
	authopts_free(o);

	o = parse("expiry-time=\"20300101Z\",expiry-time=\"202501021230Z\","
	          "expiry-time=\"20260101000000Z\"");
	T_CHECK("expiry-time: several, the earliest wins (UTC)",
	    o != NULL && o->expiry == 1735821000ULL);
	authopts_free(o);
	T_CHECK("expiry-time: YYYYMMDDZ",
	    authopts_parse_time("19700102Z", &t) == 0 && t == 86400);
	T_CHECK("expiry-time: YYYYMMDDHHMMSSZ",
	    authopts_parse_time("20240229235959Z", &t) == 0 &&
	        t == 1709251199ULL);
	T_CHECK("expiry-time: lower-case z and UTC suffix",
	    authopts_parse_time("202401010000z", &t) == 0 && t == 1704067200 &&
	        authopts_parse_time("20240101UTC", &t) == 0 && t == 1704067200);
	{
		struct tm tm = july_15_2031(12, 30);
		time_t want;

		tm.tm_isdst = -1;
		want = mktime(&tm);
		T_CHECK("expiry-time: without Z it is local time",
		    authopts_parse_time("203107151230", &t) == 0 &&
		        t == (uint64_t)want);
	}
	{
		/* Summer time (a POSIX TZ: no tzdata needed): the wall-clock
		 * time written, 12:30 CEST = 10:30 UTC, where sshd 9.2 takes
		 * it as 12:30 CET, an hour later. */
		char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
		struct tm tm = july_15_2031(10, 30);

		setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
		tzset();
		T_CHECK("expiry-time: a summer date is the wall-clock time",
		    authopts_parse_time("203107151230", &t) == 0 &&
		        t == (uint64_t)timegm(&tm));
		if (old != NULL)
			setenv("TZ", old, 1);
		else
			unsetenv("TZ");
		tzset();
		free(old);
	}
}

static void
test_malformed(void)
{
	T_CHECK("bad: unterminated quote",
	    refused("command=\"echo hi", "missing end quote"));
	T_CHECK("bad: value without quotes",
	    refused("command=echo", "missing start quote"));
	T_CHECK("bad: unknown option", refused("bogus", "unknown key option"));
	T_CHECK("bad: unknown after a good one",
	    refused("no-pty,bogus=\"x\"", "unknown key option"));
	T_CHECK(
	    "bad: flag with a suffix", refused("ptyx", "unknown key option"));
	T_CHECK("bad: restrict cannot be negated",
	    refused("no-restrict", "unknown key option"));
	T_CHECK("bad: text after a quoted value",
	    refused("command=\"a\"b", "unknown key option"));
	T_CHECK("bad: flag given a value",
	    refused("pty=\"1\"", "unknown key option"));
	T_CHECK("bad: trailing comma",
	    refused("no-pty,", "unexpected end-of-options"));
	T_CHECK("bad: duplicate command",
	    refused(
	        "command=\"a\",command=\"a\"", "multiple \"command\" clauses"));
	T_CHECK("bad: duplicate from",
	    refused("from=\"a\",FROM=\"b\"", "multiple \"from\" clauses"));
	T_CHECK("bad: duplicate principals",
	    refused("principals=\"a\",principals=\"b\"",
	        "multiple \"principals\" clauses"));
	T_CHECK("bad: environment without =",
	    refused("environment=\"FOO\"", "invalid environment string"));
	T_CHECK("bad: environment with an empty name",
	    refused("environment=\"=x\"", "invalid environment string"));
	T_CHECK("bad: environment name with a dash",
	    refused("environment=\"A-B=1\"", "invalid environment string"));
	T_CHECK("bad: expiry with dashes",
	    refused("expiry-time=\"2025-01-01\"", "invalid expires time"));
	T_CHECK("bad: expiry month 13",
	    refused("expiry-time=\"20251301\"", "invalid expires time"));
	T_CHECK("bad: expiry length 10",
	    refused("expiry-time=\"2025010112\"", "invalid expires time"));
	T_CHECK("bad: expiry before 1970",
	    refused("expiry-time=\"19691231Z\"", "invalid expires time"));
	T_CHECK("bad: expiry at the epoch is 0",
	    refused("expiry-time=\"19700101Z\"", "invalid expires time"));
	T_CHECK("bad: permitopen without port",
	    refused("permitopen=\"host\"", "invalid permission port"));
	T_CHECK("bad: permitopen port 0",
	    refused("permitopen=\"host:0\"", "invalid permission port"));
	T_CHECK("bad: permitopen port 65536",
	    refused("permitopen=\"host:65536\"", "invalid permission port"));
	T_CHECK("bad: permitopen unknown service",
	    refused("permitopen=\"host:no-such-service-x\"",
	        "invalid permission port"));
	T_CHECK("bad: permitopen unclosed bracket",
	    refused("permitopen=\"[::1:22\"", "invalid permission hostname"));
	T_CHECK("bad: permitopen text after bracket",
	    refused("permitopen=\"[::1]x:22\"", "invalid permission hostname"));
	T_CHECK("bad: permitopen bare v6",
	    refused("permitopen=\"::1:22\"", "invalid permission port"));
	T_CHECK("bad: permitlisten bad port",
	    refused("permitlisten=\"localhost:x\"", "invalid permission port"));
	T_CHECK("bad: tunnel negative",
	    refused("tunnel=\"-1\"", "invalid tun device"));
	T_CHECK("bad: tunnel past the maximum",
	    refused("tunnel=\"2147483646\"", "invalid tun device"));
	T_CHECK("bad: tunnel word",
	    refused("tunnel=\"tun0\"", "invalid tun device"));
	{
		char *big = malloc(AUTHOPTS_PERMIT_MAX * 24 + 64);
		size_t n = 0, i;

		for (i = 0; big != NULL && i <= AUTHOPTS_PERMIT_MAX; i++)
			n += (size_t)sprintf(big + n, "%spermitopen=\"h:%zu\"",
			    i ? "," : "", i % 60000 + 1);
		T_CHECK("bad: too many permitopen",
		    big != NULL &&
		        refused(big, "too many permission directives"));
		free(big);
	}
}

static void
test_split(void)
{
	const char *opts, *key;
	size_t len;
	char line[1024];
	struct sshkey *k = NULL;
	struct authopts *o = NULL;
	const char *why;

	T_CHECK("split: plain key has no options",
	    authkeys_split_line(key_a, &opts, &len, &key) == 0 &&
	        opts == NULL && len == 0 && key == key_a);
	snprintf(line, sizeof(line), "  %s", key_a);
	T_CHECK("split: leading blanks skipped",
	    authkeys_split_line(line, &opts, &len, &key) == 0 &&
	        key == line + 2 && opts == NULL);
	snprintf(
	    line, sizeof(line), "command=\"a b\\\" c\",no-pty \t %s", key_a);
	T_CHECK("split: quoted blanks stay in the options",
	    authkeys_split_line(line, &opts, &len, &key) == 0 && opts == line &&
	        len == strlen("command=\"a b\\\" c\",no-pty") &&
	        strncmp(key, "ssh-ed25519 ", 12) == 0);
	snprintf(line, sizeof(line), "command=\"a b %s", key_a);
	T_CHECK("split: unterminated quote",
	    authkeys_split_line(line, &opts, &len, &key) == ERR_FORMAT);
	T_CHECK("split: comment",
	    authkeys_split_line("# x", &opts, &len, &key) == ERR_NOT_FOUND);
	T_CHECK("split: blank",
	    authkeys_split_line(" \t", &opts, &len, &key) == ERR_NOT_FOUND);
	T_CHECK("split: no key after options",
	    authkeys_split_line("no-pty junk", &opts, &len, &key) ==
	        ERR_NOT_FOUND);
	T_CHECK("split: broken key",
	    authkeys_split_line("ssh-ed25519 !!!notbase64", &opts, &len,
	        &key) == ERR_NOT_FOUND);
	T_CHECK("split: options alone",
	    authkeys_split_line("no-pty", &opts, &len, &key) == ERR_NOT_FOUND);

	snprintf(
	    line, sizeof(line), "cert-authority,principals=\"u\" %s", key_d);
	T_CHECK("parse_line: cert-authority line flagged",
	    authkeys_parse_line(line, &k, &o, &why) == 0 && k != NULL &&
	        o != NULL && o->cert_authority);
	sshkey_free(k);
	authopts_free(o);
	snprintf(line, sizeof(line), "no-pty,bogus %s", key_d);
	T_CHECK("parse_line: bad options keep the key, no options",
	    authkeys_parse_line(line, &k, &o, &why) == ERR_FORMAT &&
	        k != NULL && o == NULL &&
	        strcmp(why, "unknown key option") == 0);
	sshkey_free(k);
	snprintf(line, sizeof(line), "command=\"x %s", key_d);
	T_CHECK("parse_line: unterminated quote",
	    authkeys_parse_line(line, &k, &o, &why) == ERR_FORMAT &&
	        k == NULL && o == NULL &&
	        strcmp(why, "invalid key option string") == 0);
}

static void
test_from(void)
{
	struct authopts *o;

	o = parse("from=\"*.example.com,!bad.example.com,192.0.2.0/24,"
	          "2001:db8::/32,!10.0.0.5,10.0.0.*\"");
	if (o == NULL)
		return;
	T_CHECK("from: host pattern",
	    authopts_check_from(o, "ok.example.com", "203.0.113.9") == 1);
	T_CHECK("from: host pattern is case-insensitive",
	    authopts_check_from(o, "OK.Example.COM", "203.0.113.9") == 1);
	T_CHECK("from: negated host wins",
	    authopts_check_from(o, "bad.example.com", "192.0.2.1") == 0);
	T_CHECK("from: CIDR v4",
	    authopts_check_from(o, "x.other", "192.0.2.200") == 1);
	T_CHECK("from: CIDR v6",
	    authopts_check_from(o, "x.other", "2001:db8::5") == 1);
	T_CHECK("from: outside every entry",
	    authopts_check_from(o, "x.other", "198.51.100.1") == 0);
	T_CHECK("from: address wildcard",
	    authopts_check_from(o, "x.other", "10.0.0.7") == 1);
	T_CHECK("from: negated address wins",
	    authopts_check_from(o, "ok.example.com", "10.0.0.5") == 0);
	T_CHECK("from: UseDNS no, host is the address",
	    authopts_check_from(o, NULL, "10.0.0.9") == 1 &&
	        authopts_check_from(o, NULL, "198.51.100.1") == 0);
	T_CHECK("from: no address",
	    authopts_check_from(o, "ok.example.com", NULL) == 0);
	authopts_free(o);

	o = parse("from=\"10.0.0.1/8\"");
	T_CHECK("from: CIDR with host bits is invalid criteria",
	    o != NULL && authopts_check_from(o, NULL, "10.0.0.1") == -1);
	authopts_free(o);
	o = parse("from=\"10.0.0.0/33\"");
	T_CHECK("from: v4 mask over 32 is invalid criteria",
	    o != NULL && authopts_check_from(o, NULL, "10.0.0.1") == -1);
	authopts_free(o);
	o = parse("from=\"10.0.0.1,\"");
	T_CHECK("from: empty entry is invalid criteria",
	    o != NULL && authopts_check_from(o, "h", "10.0.0.1") == -1);
	authopts_free(o);
	o = parse("from=\"10.0.0.0/x,192.0.2.1\"");
	T_CHECK("from: a non-CIDR is a pattern, not an error",
	    o != NULL && authopts_check_from(o, NULL, "192.0.2.1") == 1);
	authopts_free(o);
	o = parse("from=\"!192.0.2.1\"");
	T_CHECK("from: only negations never admit",
	    o != NULL && authopts_check_from(o, NULL, "192.0.2.2") == 0);
	authopts_free(o);

	o = authopts_new(1);
	T_CHECK("source-address: added",
	    o != NULL &&
	        authopts_add_source_address(o, "192.0.2.0/24,::1") == 0);
	T_CHECK("source-address: wildcard refused",
	    o != NULL &&
	        authopts_add_source_address(o, "10.0.0.*") == ERR_FORMAT);
	T_CHECK("source-address: host bits refused",
	    o != NULL &&
	        authopts_add_source_address(o, "10.0.0.1/8") == ERR_FORMAT);
	T_CHECK("source-address: admits inside",
	    o != NULL && authopts_check_from(o, "h", "192.0.2.7") == 1);
	T_CHECK("source-address: refuses outside (host name ignored)",
	    o != NULL && authopts_check_from(o, "192.0.2.7", "10.1.1.1") == 0);
	authopts_free(o);
}

static void
test_expiry(void)
{
	struct authopts *o = parse("expiry-time=\"20300101Z\"");

	T_CHECK("expiry: before",
	    o != NULL && authopts_check_expiry(o, 1893455999) == 1);
	T_CHECK("expiry: at the second itself still valid",
	    o != NULL && authopts_check_expiry(o, 1893456000) == 1);
	T_CHECK("expiry: after",
	    o != NULL && authopts_check_expiry(o, 1893456001) == 0);
	authopts_free(o);
	o = parse(NULL);
	T_CHECK("expiry: none never expires",
	    o != NULL && authopts_check_expiry(o, 4000000000) == 1);
	authopts_free(o);
}

static void
test_permit_checks(void)
{
	struct authopts *o;

	o = parse("permitopen=\"db:5432\",permitopen=\"*:80\","
	          "permitlisten=\"localhost:8080\",permitlisten=\"*.lan:*\"");
	if (o == NULL)
		return;
	T_CHECK("permitopen_ok: listed", authopts_permitopen_ok(o, "db", 5432));
	T_CHECK("permitopen_ok: literal host only",
	    !authopts_permitopen_ok(o, "DB", 5432) &&
	        !authopts_permitopen_ok(o, "db", 5433));
	T_CHECK("permitopen_ok: * host", authopts_permitopen_ok(o, "any", 80));
	T_CHECK("permitlisten_ok: listed",
	    authopts_permitlisten_ok(o, "LocalHost", 8080) &&
	        !authopts_permitlisten_ok(o, "127.0.0.1", 8080));
	T_CHECK("permitlisten_ok: pattern and any port",
	    authopts_permitlisten_ok(o, "a.lan", 9));
	o->permit_port_forwarding = 0;
	T_CHECK("permit checks: no-port-forwarding refuses all",
	    !authopts_permitopen_ok(o, "db", 5432) &&
	        !authopts_permitlisten_ok(o, "a.lan", 9));
	authopts_free(o);
	o = parse(NULL);
	T_CHECK("permit checks: no lists allow anything",
	    o != NULL && authopts_permitopen_ok(o, "x", 1) &&
	        authopts_permitlisten_ok(o, "x", 1));
	authopts_free(o);
}

static void
test_merge(void)
{
	struct authopts *a, *b, *m;

	a = parse("no-pty,no-touch-required,command=\"backup\","
	          "environment=\"A=1\",expiry-time=\"20300101Z\","
	          "from=\"10.0.0.0/8\",permitopen=\"db:5432\","
	          "permitopen=\"*:80\",principals=\"x\",cert-authority");
	b = parse("no-agent-forwarding,verify-required,no-touch-required,"
	          "environment=\"A=2\",environment=\"B=3\","
	          "expiry-time=\"20290101Z\",from=\"*.lan\","
	          "permitopen=\"web:80\",permitopen=\"db:*\","
	          "permitlisten=\"9000\"");
	if (a == NULL || b == NULL)
		return;
	m = authopts_merge(a, b);
	T_CHECK("merge: permissions ANDed",
	    m != NULL && !m->permit_pty && !m->permit_agent_forwarding &&
	        m->permit_port_forwarding && m->permit_x11_forwarding &&
	        m->permit_user_rc);
	T_CHECK("merge: no-touch-required ANDed, verify-required ORed",
	    m != NULL && m->no_require_user_presence && m->require_verify);
	T_CHECK("merge: one command kept",
	    m != NULL && m->force_command != NULL &&
	        strcmp(m->force_command, "backup") == 0);
	T_CHECK("merge: earliest expiry", m != NULL && m->expiry == 1861920000);
	T_CHECK("merge: both from lists kept",
	    m != NULL && m->nfrom == 2 &&
	        strcmp(m->from[0], "10.0.0.0/8") == 0 &&
	        strcmp(m->from[1], "*.lan") == 0);
	T_CHECK("merge: both from lists must match",
	    m != NULL && authopts_check_from(m, "h.lan", "10.1.1.1") == 1 &&
	        authopts_check_from(m, "h.other", "10.1.1.1") == 0 &&
	        authopts_check_from(m, "h.lan", "192.0.2.1") == 0);
	T_CHECK("merge: environment concatenated, first name wins",
	    m != NULL && m->nenv == 2 && strcmp(m->env[0], "A=1") == 0 &&
	        strcmp(m->env[1], "B=3") == 0);
	/* {db:5432, *:80} and {web:80, db:*} overlap in three places. */
	T_CHECK("merge: permitopen intersected",
	    m != NULL && m->permitopen.restricted && m->permitopen.n == 3 &&
	        permit_is(&m->permitopen, 0, "db", 5432) &&
	        permit_is(&m->permitopen, 1, "web", 80) &&
	        permit_is(&m->permitopen, 2, "db", 80) &&
	        !authopts_permitopen_ok(m, "web", 443));
	T_CHECK("merge: permitlisten from the only side that has it",
	    m != NULL && m->permitlisten.restricted && m->permitlisten.n == 1 &&
	        permit_is(&m->permitlisten, 0, "*", 9000));
	T_CHECK("merge: CA flag and principals cleared",
	    m != NULL && !m->cert_authority && m->principals == NULL);
	authopts_free(m);
	authopts_free(b);

	b = parse("permitopen=\"other:1\",command=\"backup\",tunnel=\"any\"");
	m = authopts_merge(a, b);
	T_CHECK("merge: disjoint permitopen allows nothing",
	    m != NULL && m->permitopen.restricted && m->permitopen.n == 0 &&
	        !authopts_permitopen_ok(m, "db", 5432));
	T_CHECK("merge: tunnel any from one side",
	    m != NULL && m->tunnel == AUTHOPTS_TUN_ANY);
	authopts_free(m);
	authopts_free(b);

	b = parse("command=\"shell\"");
	log_clear();
	m = authopts_merge(a, b);
	T_CHECK("merge: different commands refuse", m == NULL);
	T_CHECK("merge: refusal logged",
	    log_has("forced command options do not match"));
	authopts_free(b);
	authopts_free(a);

	a = parse("tunnel=\"1\"");
	b = parse("tunnel=\"any\"");
	m = authopts_merge(a, b);
	T_CHECK(
	    "merge: specific tunnel beats any", m != NULL && m->tunnel == 1);
	authopts_free(m);
	authopts_free(b);
	b = parse("tunnel=\"2\"");
	m = authopts_merge(a, b);
	T_CHECK("merge: different tunnels refuse", m == NULL);
	authopts_free(b);
	m = authopts_merge(NULL, a);
	T_CHECK("merge: NULL side copies the other",
	    m != NULL && m->tunnel == 1 && m != a);
	authopts_free(m);
	b = parse("restrict,pty");
	m = authopts_merge(a, b);
	T_CHECK("merge: restrict carried",
	    m != NULL && m->restricted && m->permit_pty &&
	        !m->permit_port_forwarding);
	authopts_free(m);
	authopts_free(b);
	authopts_free(a);
}

static void
test_serialize(void)
{
	struct authopts *o, *d = NULL;
	struct buf *b1 = buf_new(0), *b2 = buf_new(0), *t = NULL;
	int r;

	o = parse("restrict,pty,no-touch-required,verify-required,"
	          "cert-authority,principals=\"p1,p2\",command=\"c \\\"q\\\"\","
	          "environment=\"A=1\",environment=\"B=2\",from=\"*.lan\","
	          "expiry-time=\"20300101Z\",tunnel=\"3\","
	          "permitopen=\"db:5432\",permitlisten=\"*\"");
	if (o == NULL || b1 == NULL || b2 == NULL)
		return;
	T_CHECK("serialize: source-address added",
	    authopts_add_source_address(o, "192.0.2.0/24") == 0);
	T_CHECK("serialize: encodes", authopts_serialize(o, b1) == 0);
	t = buf_from(buf_ptr(b1), buf_len(b1));
	r = authopts_deserialize(t, &d);
	T_CHECK("serialize: decodes, consumed exactly",
	    r == 0 && d != NULL && buf_len(t) == 0);
	buf_free(t);
	T_CHECK("serialize: round trip gives the same bytes",
	    d != NULL && authopts_serialize(d, b2) == 0 &&
	        buf_len(b1) == buf_len(b2) &&
	        memcmp(buf_ptr(b1), buf_ptr(b2), buf_len(b1)) == 0);
	T_CHECK("serialize: fields survive",
	    d != NULL && d->restricted && d->permit_pty && !d->permit_user_rc &&
	        d->cert_authority && strcmp(d->principals, "p1,p2") == 0 &&
	        strcmp(d->force_command, "c \"q\"") == 0 && d->nenv == 2 &&
	        d->expiry == 1893456000 && d->tunnel == 3 && d->nfrom == 1 &&
	        d->nsource_address == 1 &&
	        permit_is(&d->permitopen, 0, "db", 5432) &&
	        permit_is(&d->permitlisten, 0, "*", AUTHOPTS_PORT_ANY));
	authopts_free(d);
	d = NULL;

	/* One trailing byte. */
	t = buf_from(buf_ptr(b1), buf_len(b1));
	buf_set_max(t, buf_len(b1) + 1);
	buf_put_u8(t, 0);
	T_CHECK("serialize: trailing byte refused",
	    authopts_deserialize(t, &d) == ERR_TRAILING && d == NULL);
	buf_free(t);
	/* Every truncation fails. */
	{
		size_t n;
		int all = 1;

		for (n = 0; n < buf_len(b1); n++) {
			t = buf_from(buf_ptr(b1), n);
			if (authopts_deserialize(t, &d) == 0 || d != NULL)
				all = 0;
			buf_free(t);
		}
		T_CHECK("serialize: every truncation refused", all);
	}
	/* A flag byte of 2. */
	t = buf_from(buf_ptr(b1), buf_len(b1));
	buf_mutable_ptr(t)[0] = 2;
	T_CHECK("serialize: flag out of range refused",
	    authopts_deserialize(t, &d) == ERR_FORMAT);
	buf_free(t);
	authopts_free(o);

	/* Defaults: tunnel none, nothing optional. */
	o = parse(NULL);
	buf_reset(b1);
	t = NULL;
	if (o != NULL && authopts_serialize(o, b1) == 0)
		t = buf_from(buf_ptr(b1), buf_len(b1));
	T_CHECK("serialize: defaults round trip",
	    t != NULL && authopts_deserialize(t, &d) == 0 &&
	        d->tunnel == AUTHOPTS_TUN_NONE && d->force_command == NULL &&
	        all_permits(d, 1) && authopts_is_unrestricted(d));
	buf_free(t);
	authopts_free(d);
	authopts_free(o);
	buf_free(b1);
	buf_free(b2);
}

/* authorized_keys lookups with option lines */

static char dir[] = "/tmp/postern-ao-XXXXXX";
static char akpath[PATH_MAX];
static struct passwd pw;

static struct sshkey *
key(const char *line)
{
	struct sshkey *k = NULL;

	if (sshkey_parse_public_text(line, &k, NULL) != 0)
		return NULL;
	return k;
}

static int
find(const struct sshkey *k, int want_ca, const char *addr, unsigned long *line,
    struct authopts **o)
{
	struct authkeys_query q;

	memset(&q, 0, sizeof(q));
	q.pw = &pw;
	q.path = akpath;
	q.key = k;
	q.want_ca = want_ca;
	q.strict_modes = 1;
	q.remote_addr = addr;
	return authkeys_find_opts(&q, line, o);
}

static void
test_file(void)
{
	struct sshkey *a = key(key_a), *b = key(key_b), *c = key(key_c);
	struct sshkey *d = key(key_d), *e = key(key_e);
	struct authopts *o = NULL;
	unsigned long line = 0;
	char want[PATH_MAX + 256];
	FILE *f;

	T_CHECK("file: fixture keys", a && b && c && d && e);
	if (!(a && b && c && d && e) || (f = fopen(akpath, "w")) == NULL)
		goto out;
	fprintf(f, "# option lines\n");                                /* 1 */
	fprintf(f, "from=\"10.0.0.0/8\" %s\n", key_a);                 /* 2 */
	fprintf(f, "command=\"echo \\\"hi\\\"\",no-pty %s\n", key_a);  /* 3 */
	fprintf(f, "expiry-time=\"20000101\" %s\n", key_b);            /* 4 */
	fprintf(f, "restrict,pty %s\n", key_b);                        /* 5 */
	fprintf(f, "no-pty,bogus %s\n", key_c);                        /* 6 */
	fprintf(f, "command=\"unterminated %s\n", key_c);              /* 7 */
	fprintf(f, "cert-authority,principals=\"alice\" %s\n", key_d); /* 8 */
	fprintf(f, "principals=\"x\" %s\n", key_e);                    /* 9 */
	fprintf(f, "environment=\"A=1\",environment=\"A=2\" %s\n", key_e);
	fprintf(f, "no-pty,bogus %s\n", key_b); /* 11 */
	fclose(f);
	chmod(akpath, 0600);

	log_clear();
	T_CHECK("file: from= match takes line 2",
	    find(a, 0, "10.1.2.3", &line, &o) == 0 && line == 2 && o != NULL &&
	        o->nfrom == 1 && o->force_command == NULL);
	authopts_free(o);
	o = NULL;
	log_clear();
	T_CHECK("file: from= mismatch falls through to line 3",
	    find(a, 0, "192.0.2.1", &line, &o) == 0 && line == 3 && o != NULL &&
	        strcmp(o->force_command, "echo \"hi\"") == 0 && !o->permit_pty);
	authopts_free(o);
	o = NULL;
	snprintf(want, sizeof(want),
	    "%s:2: Authentication tried for %s with correct key but not from "
	    "a permitted host (host=192.0.2.1, ip=192.0.2.1, "
	    "required=10.0.0.0/8).",
	    akpath, pw.pw_name);
	T_CHECK("file: from= refusal in sshd's words, at INFO",
	    log_has_at(LL_INFO, want));
	snprintf(want, sizeof(want), "Refused by key options");
	T_CHECK("file: refusal in sshd's words",
	    log_has_at(LL_ERROR, want) &&
	        !log_has_at(LL_ERROR, "Refused by key options at"));
	snprintf(want, sizeof(want), "Accepted key ED25519 SHA256:");
	T_CHECK("file: Accepted key logged", log_has_at(LL_VERBOSE, want));

	log_clear();
	T_CHECK("file: expired line 4 skipped, restrict,pty on line 5",
	    find(b, 0, "192.0.2.1", &line, &o) == 0 && line == 5 && o != NULL &&
	        o->restricted && o->permit_pty && !o->permit_port_forwarding);
	authopts_free(o);
	o = NULL;
	snprintf(want, sizeof(want),
	    "%s:4: entry expired at 2000-01-01T00:00:00", akpath);
	T_CHECK("file: expiry logged with file and line", log_has(want));

	log_clear();
	T_CHECK("file: malformed lines 6 and 7 never match",
	    find(c, 0, "192.0.2.1", &line, &o) == ERR_NOT_FOUND && o == NULL &&
	        line == 0);
	snprintf(want, sizeof(want),
	    "%s:6: bad key options: unknown key option", akpath);
	T_CHECK("file: bad options logged at INFO for the key's own line",
	    log_has_at(LL_INFO, want));
	snprintf(want, sizeof(want), "invalid key option string");
	T_CHECK("file: unterminated quote logged in sshd's words",
	    log_has_at(LL_ERROR, want) &&
	        !log_has_at(LL_ERROR, "invalid key option string at"));
	snprintf(want, sizeof(want),
	    "%s:7: key options unreadable; line skipped", akpath);
	T_CHECK("file: its place in a debug line", log_has_at(LL_DEBUG1, want));
	log_clear();
	T_CHECK("file: cert-authority line is no match for a user key",
	    find(d, 0, "192.0.2.1", &line, &o) == ERR_NOT_FOUND);
	snprintf(want, sizeof(want), "%s:11: bad key options", akpath);
	T_CHECK("file: another key's bad line is only a debug line",
	    log_has_at(LL_DEBUG1, want) && !log_has_at(LL_INFO, want));
	log_clear();
	T_CHECK("file: cert-authority line found as CA",
	    find(d, 1, "192.0.2.1", &line, &o) == 0 && line == 8 && o != NULL &&
	        o->cert_authority && strcmp(o->principals, "alice") == 0);
	authopts_free(o);
	o = NULL;
	T_CHECK("file: CA match logged", log_has("matching CA found"));
	T_CHECK("file: plain key not found as CA",
	    find(a, 1, "10.1.1.1", &line, &o) == ERR_NOT_FOUND);

	log_clear();
	T_CHECK("file: principals on a plain key refused, next line matches",
	    find(e, 0, "192.0.2.1", &line, &o) == 0 && line == 10 &&
	        o != NULL && o->nenv == 1 && strcmp(o->env[0], "A=1") == 0);
	authopts_free(o);
	o = NULL;
	snprintf(want, sizeof(want), "%s:9: principals on non-CA key", akpath);
	T_CHECK("file: principals refusal logged", log_has(want));

	/* Callers that cannot apply options. */
	log_clear();
	T_CHECK("file: authkeys_find refuses restricted lines",
	    authkeys_find(&pw, akpath, b, 1, &line) == ERR_NOT_FOUND);
	snprintf(want, sizeof(want),
	    "%s:5: key options cannot be enforced by this caller", akpath);
	T_CHECK("file: and says so", log_has(want));
	T_CHECK("file: authkeys_find with from= but no address",
	    authkeys_find(&pw, akpath, a, 1, &line) == ERR_NOT_FOUND);
	T_CHECK("file: authkeys_find_opts without optsp",
	    find(a, 0, "10.9.9.9", &line, NULL) == 0 && line == 2);
out:
	sshkey_free(a);
	sshkey_free(b);
	sshkey_free(c);
	sshkey_free(d);
	sshkey_free(e);
	unlink(akpath);
}

int
main(void)
{
	struct passwd *me;

	log_init("test_authopts", LL_DEBUG3, LOG_AUTH, 1);
	log_set_handler(capture, NULL);
	test_defaults();
	test_flags();
	test_values();
	test_malformed();
	test_split();
	test_from();
	test_expiry();
	test_permit_checks();
	test_merge();
	test_serialize();

	if (mkdtemp(dir) == NULL || (me = getpwuid(geteuid())) == NULL) {
		printf("not ok - file fixture\n");
		return 1;
	}
	pw = *me;
	pw.pw_dir = dir;
	snprintf(akpath, sizeof(akpath), "%s/authorized_keys", dir);
	test_file();
	rmdir(dir);
	return T_DONE();
}
