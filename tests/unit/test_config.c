/*
 * test_config.c: sshd_config parsing: tokenising, first value wins, lists,
 * OpenSSH's error wording, defaults and the `sshd -T` dump.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also set by GNUmakefile */
#endif
#include <sys/socket.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "alglist.h"
#include "err.h"
#include "log.h"
#include "policy/config.h"
#include "policy/config_int.h"
#include "tests/unit/t.h"
#include "tests/unit/t_config.h"

static char logbuf[8192];

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	size_t used = strlen(logbuf);

	snprintf(logbuf + used, sizeof(logbuf) - used, "%s\n", msg);
}

/*
 * parse: a fresh config from text loaded as the file t.conf, through the
 * same path as a real file (config_load_source); 0 or the error.
 */
static int
parse(struct server_config *c, const char *text)
{
	struct cfg_memfile f = {"t.conf", text, strlen(text)};
	struct config_source *src = NULL;
	int r;

	logbuf[0] = '\0';
	config_init(c);
	if ((r = cfg_source_from_memory(&f, 1, &src)) != 0)
		return r;
	r = config_load_source(c, src);
	config_source_free(src);
	return r;
}

/*
 * bad: one line must fail with exactly this message (line 1 of t.conf),
 * followed by sshd's summary line.
 */
static void
bad(const char *line, const char *msg)
{
	struct server_config c;
	char name[256], want[1024];
	int r;

	r = parse(&c, line);
	snprintf(want, sizeof(want), "%s\n%s", msg,
	    t_config_counted(msg)
	        ? "t.conf: terminating, 1 bad configuration options\n"
	        : "");
	snprintf(name, sizeof(name), "error for [%s]: %s", line, msg);
	T_CHECK(name, r == ERR_CONFIG && strcmp(logbuf, want) == 0);
	if (strcmp(logbuf, want) != 0)
		printf("# got: %s", logbuf);
	config_free(&c);
}

/* good: the line parses without any log output. */
static int
good(struct server_config *c, const char *text)
{
	int r = parse(c, text);

	if (r != 0 || logbuf[0] != '\0')
		printf("# unexpected for [%s]: %s", text, logbuf);
	return r == 0 && logbuf[0] == '\0';
}

static void
test_first_wins(void)
{
	struct server_config c;

	T_CHECK("first wins: parse",
	    good(&c,
	        "LogLevel VERBOSE\nLogLevel DEBUG\n"
	        "MaxAuthTries 3\nMaxAuthTries 4\n"
	        "MaxSessions 0\nMaxSessions 9\n"
	        "PubkeyAuthentication no\nPubkeyAuthentication yes\n"
	        "StrictModes no\nStrictModes yes\n"
	        "LoginGraceTime 30\nLoginGraceTime 60\n"
	        "AddressFamily inet6\nAddressFamily inet\n"
	        "SyslogFacility LOCAL3\nSyslogFacility AUTH\n"
	        "PidFile /a.pid\nPidFile /b.pid\n"
	        "AuthorizedKeysFile a\nAuthorizedKeysFile b c"));
	T_CHECK("first wins: LogLevel", c.log_level == LL_VERBOSE);
	T_CHECK("first wins: MaxAuthTries", c.max_auth_tries == 3);
	T_CHECK("first wins: MaxSessions 0 counts as set", c.max_sessions == 0);
	T_CHECK(
	    "first wins: PubkeyAuthentication", c.pubkey_authentication == 0);
	T_CHECK("first wins: StrictModes", c.strict_modes == 0);
	T_CHECK("first wins: LoginGraceTime", c.login_grace_time == 30);
	T_CHECK("first wins: AddressFamily", c.address_family == AF_INET6);
	T_CHECK("first wins: SyslogFacility", c.syslog_facility == LOG_LOCAL3);
	T_CHECK("first wins: PidFile", strcmp(c.pid_file, "/a.pid") == 0);
	T_CHECK("first wins: AuthorizedKeysFile takes one line",
	    c.nauthorized_keys_files == 1 &&
	        strcmp(c.authorized_keys_files[0], "a") == 0);
	config_free(&c);

	/* A later line is ignored, but still checked. */
	T_CHECK("first wins: later bad value still an error",
	    parse(&c, "LogLevel INFO\nLogLevel nope") == ERR_CONFIG &&
	        strcmp(logbuf,
	            "t.conf line 2: LogLevel: unsupported log level "
	            "'nope'\n") == 0 &&
	        c.log_level == LL_INFO);
	config_free(&c);

	T_CHECK("first wins: PidFile none then a path",
	    good(&c, "PidFile none\nPidFile /x.pid"));
	config_fill_defaults(&c);
	T_CHECK(
	    "first wins: PidFile none means no pid file", c.pid_file == NULL);
	config_free(&c);
}

static void
test_accumulate(void)
{
	struct server_config c;

	T_CHECK("accumulate: parse",
	    good(&c,
	        "Port 2222\nPort 2223\nPort 2222\n"
	        "HostKey /k1\nHostKey /k2\n"
	        "ListenAddress 127.0.0.1\nListenAddress [::1]:2224"));
	T_CHECK("accumulate: ports in order",
	    c.nports == 3 && c.ports[0] == 2222 && c.ports[1] == 2223 &&
	        c.ports[2] == 2222);
	T_CHECK("accumulate: host keys",
	    c.nhost_key_files == 2 && strcmp(c.host_key_files[0], "/k1") == 0 &&
	        strcmp(c.host_key_files[1], "/k2") == 0);
	T_CHECK("accumulate: listen addresses",
	    c.nlisten == 2 && strcmp(c.listen[0].host, "127.0.0.1") == 0 &&
	        c.listen[0].port == 0 && strcmp(c.listen[1].host, "::1") == 0 &&
	        c.listen[1].port == 2224);
	config_free(&c);
	T_CHECK("config_free resets",
	    c.nports == 0 && c.nlisten == 0 && c.nhost_key_files == 0 &&
	        c.log_level == CONFIG_UNSET);
}

static void
test_syntax(void)
{
	static const char *const forms[] = {
	    "Port=24",
	    "Port = 24",
	    "Port =24",
	    "Port= 24",
	    "Port\t=\t24",
	    "port 24",
	    "PORT\t24",
	    "\"Port\" 24",
	    "Port \"24\"",
	    "Port '24'",
	    "Port \"2\"'4'",
	    "  \tPort 24",
	    "Port 24  \t",
	    "Port 24\r",
	    "= Port 24",
	    "Port 24 # a comment",
	    "Port 24 #",
	};
	struct server_config c;
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(
		    name, sizeof(name), "syntax: [%s] is Port 24", forms[i]);
		T_CHECK(name,
		    good(&c, forms[i]) && c.nports == 1 && c.ports[0] == 24);
		config_free(&c);
	}
	T_CHECK("syntax: comments and blank lines ignored",
	    good(&c, "# Port 1\n#Port 2\n   # Port 3\n\n \t \n") &&
	        c.nports == 0);
	config_free(&c);
	T_CHECK("syntax: a lone '=' is an empty line", good(&c, "="));
	config_free(&c);

	T_CHECK("quotes: words with spaces, escapes and mixed quotes",
	    good(&c,
	        "AuthorizedKeysFile \"a b\" 'c d' e\\ f g\\\"h "
	        "'i\"j' k#l #m n") &&
	        c.nauthorized_keys_files == 6 &&
	        strcmp(c.authorized_keys_files[0], "a b") == 0 &&
	        strcmp(c.authorized_keys_files[1], "c d") == 0 &&
	        strcmp(c.authorized_keys_files[2], "e f") == 0 &&
	        strcmp(c.authorized_keys_files[3], "g\"h") == 0 &&
	        strcmp(c.authorized_keys_files[4], "i\"j") == 0 &&
	        strcmp(c.authorized_keys_files[5], "k#l") == 0);
	config_free(&c);
	T_CHECK("quotes: unknown escape keeps the backslash",
	    good(&c, "AuthorizedKeysFile a\\xb") &&
	        strcmp(c.authorized_keys_files[0], "a\\xb") == 0);
	config_free(&c);
	T_CHECK("tokens: %h and %u kept for later expansion",
	    good(&c, "AuthorizedKeysFile %h/.ssh/keys /etc/keys/%u") &&
	        c.nauthorized_keys_files == 2 &&
	        strcmp(c.authorized_keys_files[0], "%h/.ssh/keys") == 0);
	config_free(&c);
	T_CHECK("AuthorizedKeysFile none is kept as the word",
	    good(&c, "AuthorizedKeysFile none") &&
	        c.nauthorized_keys_files == 1 &&
	        strcmp(c.authorized_keys_files[0], "none") == 0);
	config_free(&c);
}

static void
test_errors(void)
{
	bad("Prot 22",
	    "t.conf: line 1: Bad configuration option: Prot (did you mean "
	    "Port?)");
	bad("MaxSesions 3",
	    "t.conf: line 1: Bad configuration option: MaxSesions (did you "
	    "mean MaxSessions?)");
	bad("hostkeys /k",
	    "t.conf: line 1: Bad configuration option: hostkeys (did you "
	    "mean HostKey?)");
	bad("PubkeyAuthentications yes",
	    "t.conf: line 1: Bad configuration option: PubkeyAuthentications "
	    "(did you mean PubkeyAuthentication?)");
	bad("FooBarBaz 1",
	    "t.conf: line 1: Bad configuration option: "
	    "FooBarBaz");
	bad("Bannner /etc/issue",
	    "t.conf: line 1: Bad configuration option: Bannner (did you mean "
	    "Banner?)");
	bad("Protocoll 2",
	    "t.conf: line 1: Bad configuration option: Protocoll");
	bad("Port", "t.conf line 1: no argument after keyword \"Port\"");
	bad("Prot", "t.conf line 1: no argument after keyword \"Prot\"");
	bad("Port=", "t.conf line 1: no argument after keyword \"Port\"");
	bad("Port = ", "t.conf line 1: no argument after keyword \"Port\"");
	bad("Port \"22", "t.conf line 1: Port: invalid quotes");
	bad("\"Port 22", "t.conf line 1: invalid quotes");
	bad("Port 22 23",
	    "t.conf line 1: keyword Port extra arguments at end of line");
	bad("maxsessions 1 2",
	    "t.conf line 1: keyword maxsessions extra arguments at end of "
	    "line");
	bad("Port 22 \\# x",
	    "t.conf line 1: keyword Port extra arguments at end of line");
	bad("Port \"\"", "t.conf line 1: missing port number.");
	bad("Port 0", "t.conf line 1: Badly formatted port number.");
	bad("Port 65536", "t.conf line 1: Badly formatted port number.");
	bad("Port 22x", "t.conf line 1: Badly formatted port number.");
	bad("Port 0x16", "t.conf line 1: Badly formatted port number.");
	bad("Port==27", "t.conf line 1: Badly formatted port number.");
	bad("Port 30#x", "t.conf line 1: Badly formatted port number.");
	bad("AddressFamily foo",
	    "t.conf line 1: AddressFamily: unsupported option \"foo\".");
	bad("AddressFamily \"\"",
	    "t.conf line 1: AddressFamily: missing argument.");
	bad("PubkeyAuthentication true",
	    "t.conf line 1: PubkeyAuthentication: unsupported option "
	    "\"true\".");
	bad("StrictModes \"\"",
	    "t.conf line 1: StrictModes: missing argument.");
	bad("LogLevel loud",
	    "t.conf line 1: LogLevel: unsupported log level 'loud'");
	bad("LogLevel \"\"",
	    "t.conf line 1: LogLevel: unsupported log level ''");
	bad("SyslogFacility SECURITY",
	    "t.conf line 1: SyslogFacility: unsupported log facility "
	    "'SECURITY'");
	bad("PidFile \"\"", "t.conf line 1: PidFile: missing file name.");
	bad("HostKey \"\"", "t.conf line 1: HostKey: missing file name.");
	bad("LoginGraceTime \"\"",
	    "t.conf line 1: LoginGraceTime: missing time value.");
	bad("LoginGraceTime 1x",
	    "t.conf line 1: LoginGraceTime: invalid time value.");
	bad("MaxAuthTries \"\"",
	    "t.conf line 1: MaxAuthTries integer value missing.");
	bad("MaxAuthTries abc",
	    "t.conf line 1: MaxAuthTries integer value invalid.");
	bad("maxauthtries 0x10",
	    "t.conf line 1: maxauthtries integer value invalid.");
	bad("MaxAuthTries -1",
	    "t.conf line 1: MaxAuthTries integer value too small.");
	bad("MaxSessions 2147483648",
	    "t.conf line 1: MaxSessions integer value too large.");
	bad("AuthorizedKeysFile a \"\"",
	    "t.conf line 1: keyword AuthorizedKeysFile empty argument");
	bad("ListenAddress \"\"",
	    "t.conf line 1: ListenAddress: missing address");
	bad("ListenAddress [::1",
	    "t.conf line 1: ListenAddress: bad address:port usage");
	bad("ListenAddress [::1]5",
	    "t.conf line 1: ListenAddress: bad address:port usage");
	bad("ListenAddress 1.2.3.4/23",
	    "t.conf line 1: ListenAddress: bad address:port usage");
	bad("ListenAddress 1.2.3.4:0",
	    "t.conf line 1: ListenAddress: bad port number");
	bad("ListenAddress 1.2.3.4:",
	    "t.conf line 1: ListenAddress: bad port number");
	bad("ListenAddress [::1]:5:6",
	    "t.conf line 1: ListenAddress: bad port number");
	bad("ListenAddress 1.2.3.4 foo",
	    "t.conf line 1: bad ListenAddress syntax");
	bad("ListenAddress 1.2.3.4 rdomain",
	    "t.conf line 1: bad ListenAddress syntax");
	bad("ListenAddress 1.2.3.4 rdomain vrf0",
	    "t.conf line 1: ListenAddress rdomain is not supported");
	bad("ListenAddress :22",
	    "t.conf line 1: ListenAddress: missing address");
}

static void
test_time(void)
{
	static const struct {
		const char *text;
		int seconds;
	} times[] = {
	    {"120", 120},
	    {"0", 0},
	    {"2m", 120},
	    {"2M", 120},
	    {"90s", 90},
	    {"90S", 90},
	    {"1h30m", 5400},
	    {"1d1s", 86401},
	    {"1w", 604800},
	    {"1m1m", 120},
	    {"3s5", 8},
	    {"2147483647", 2147483647},
	    /* Each number as strtol(3) reads it, as sshd's convtime(). */
	    {"1h 30m", 5400},
	    {" 60", 60},
	    {"\t60", 60},
	    {"-0", 0},
	    {"1h-0m", 3600},
	    {"+1h +5", 3605},
	};
	static const char *const bad_times[] = {
	    "abc",
	    "-1",
	    "1x",
	    "m",
	    "60 ",
	    "1h -30m",
	    "- 5",
	    "+-5",
	    "2147483648",
	    "99999999999",
	    "4000w",
	};
	struct server_config c;
	char line[64], name[96];
	size_t i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		snprintf(
		    line, sizeof(line), "LoginGraceTime \"%s\"", times[i].text);
		snprintf(name, sizeof(name), "time: %s = %d", times[i].text,
		    times[i].seconds);
		T_CHECK(name,
		    good(&c, line) && c.login_grace_time == times[i].seconds);
		config_free(&c);
	}
	for (i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		snprintf(
		    line, sizeof(line), "LoginGraceTime \"%s\"", bad_times[i]);
		snprintf(name, sizeof(name), "time: %s refused", bad_times[i]);
		bad(line, "t.conf line 1: LoginGraceTime: invalid time value.");
		config_free(&c);
	}
}

static void
test_listen_forms(void)
{
	static const struct {
		const char *arg;
		const char *host;
		int port;
	} forms[] = {
	    {"1.2.3.4", "1.2.3.4", 0},
	    {"1.2.3.4:99", "1.2.3.4", 99},
	    {"1.2.3.4:065535", "1.2.3.4", 65535},
	    {"[1.2.3.4]", "1.2.3.4", 0},
	    {"[1.2.3.4]:5", "1.2.3.4", 5},
	    {"::", "::", 0},
	    {"::2", "::2", 0},
	    {"::1:5", "::1:5", 0}, /* bare IPv6: no port taken */
	    {"fe80::1%lo", "fe80::1%lo", 0},
	    {"[::1]", "::1", 0},
	    {"[::1]:2224", "::1", 2224},
	    {"host.example", "host.example", 0},
	    {"host.example:2222", "host.example", 2222},
	    {"0.0.0.0:ssh", "0.0.0.0", 22},
	};
	struct server_config c;
	char line[96], name[128];
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(line, sizeof(line), "ListenAddress %s", forms[i].arg);
		snprintf(name, sizeof(name), "listen: %s is host %s port %d",
		    forms[i].arg, forms[i].host, forms[i].port);
		T_CHECK(name,
		    good(&c, line) && c.nlisten == 1 &&
		        strcmp(c.listen[0].host, forms[i].host) == 0 &&
		        c.listen[0].port == forms[i].port);
		config_free(&c);
	}
	T_CHECK("port: service name",
	    good(&c, "Port ssh") && c.nports == 1 && c.ports[0] == 22);
	config_free(&c);
	T_CHECK("port: leading zero and plus are decimal",
	    good(&c, "Port 022\nPort +23") && c.ports[0] == 22 &&
	        c.ports[1] == 23);
	config_free(&c);
}

static void
test_paths(void)
{
	struct server_config c;
	struct passwd *pw = getpwuid(getuid());
	char cwd[PATH_MAX], want[PATH_MAX + 16];

	T_CHECK("paths: getcwd", getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(want, sizeof(want), "%s/rel_key", cwd);
	T_CHECK("paths: relative HostKey made absolute",
	    good(&c, "HostKey rel_key") &&
	        strcmp(c.host_key_files[0], want) == 0);
	config_free(&c);
	snprintf(want, sizeof(want), "%s/x.pid", pw != NULL ? pw->pw_dir : "?");
	T_CHECK("paths: ~/ expands to the home directory",
	    good(&c, "PidFile ~/x.pid") && strcmp(c.pid_file, want) == 0);
	config_free(&c);
	T_CHECK("paths: ~root/ expands",
	    good(&c, "HostKey ~root/k") &&
	        strncmp(c.host_key_files[0], "/", 1) == 0 &&
	        strstr(c.host_key_files[0], "/k") != NULL);
	config_free(&c);
	T_CHECK("paths: unknown ~user refused",
	    parse(&c, "HostKey ~no-such-user-xyz/k") == ERR_CONFIG);
	config_free(&c);
}

static void
test_defaults(void)
{
	struct server_config c;

	config_init(&c);
	config_fill_defaults(&c);
	T_CHECK("defaults: port 22", c.nports == 1 && c.ports[0] == 22);
	T_CHECK("defaults: one wildcard listen entry",
	    c.nlisten == 1 && c.listen[0].host == NULL &&
	        c.listen[0].port == 0);
	T_CHECK("defaults: address family any", c.address_family == AF_UNSPEC);
	T_CHECK("defaults: three host keys",
	    c.nhost_key_files == 3 &&
	        strcmp(c.host_key_files[0], "/etc/ssh/ssh_host_rsa_key") == 0 &&
	        strcmp(c.host_key_files[1], "/etc/ssh/ssh_host_ecdsa_key") ==
	            0 &&
	        strcmp(c.host_key_files[2], "/etc/ssh/ssh_host_ed25519_key") ==
	            0);
	T_CHECK("defaults: authorized keys files",
	    c.nauthorized_keys_files == 2 &&
	        strcmp(c.authorized_keys_files[0], ".ssh/authorized_keys") ==
	            0 &&
	        strcmp(c.authorized_keys_files[1], ".ssh/authorized_keys2") ==
	            0);
	T_CHECK("defaults: yes/yes",
	    c.pubkey_authentication == 1 && c.strict_modes == 1);
	T_CHECK("defaults: INFO, AUTH",
	    c.log_level == LL_INFO && c.syslog_facility == LOG_AUTH);
	T_CHECK("defaults: pid file",
	    c.pid_file != NULL && strcmp(c.pid_file, "/run/sshd.pid") == 0);
	T_CHECK("defaults: 120 / 6 / 10",
	    c.login_grace_time == 120 && c.max_auth_tries == 6 &&
	        c.max_sessions == 10);
	config_free(&c);

	T_CHECK("defaults: set values are kept",
	    good(&c, "Port 2222\nHostKey /k\nAuthorizedKeysFile none"));
	config_fill_defaults(&c);
	T_CHECK("defaults: nothing added to set lists",
	    c.nports == 1 && c.nhost_key_files == 1 &&
	        c.nauthorized_keys_files == 1);
	config_free(&c);
}

/* dump_text: config_dump into a string (caller frees). */
static char *
dump_text(const struct server_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	config_dump(c, f);
	fclose(f);
	return text;
}

static void
test_dump(void)
{
	struct server_config c;
	char *text;
	const char *want =
	    "port 2222\n"
	    "port 2223\n"
	    "addressfamily any\n"
	    "listenaddress 127.0.0.1:2222\n"
	    "listenaddress 127.0.0.1:2223\n"
	    "listenaddress [::1]:2224\n"
	    "listenaddress [::2]:2222\n"
	    "listenaddress [::2]:2223\n"
	    "listenaddress 10.0.0.1:99\n"
	    "usepam no\n"
	    "logingracetime 5400\n"
	    "x11displayoffset 10\n"
	    "maxauthtries 3\n"
	    "maxsessions 10\n"
	    "clientaliveinterval 0\n"
	    "clientalivecountmax 3\n"
	    "requiredrsasize 1024\n"
	    "streamlocalbindmask 0177\n"
	    "unusedconnectiontimeout none\n"
	    "permitrootlogin without-password\n"
	    "ignorerhosts yes\n"
	    "hostbasedauthentication no\n"
	    "pubkeyauthentication no\n"
	    "kerberosauthentication no\n"
	    "gssapiauthentication no\n"
	    "gssapikeyexchange no\n"
	    "passwordauthentication yes\n"
	    "kbdinteractiveauthentication yes\n"
	    "printmotd yes\n"
	    "printlastlog yes\n"
	    "x11forwarding no\n"
	    "x11uselocalhost yes\n"
	    "permittty yes\n"
	    "permituserrc yes\n"
	    "strictmodes yes\n"
	    "tcpkeepalive yes\n"
	    "permitemptypasswords no\n"
	    "compression yes\n"
	    "gatewayports no\n"
	    "usedns no\n"
	    "allowtcpforwarding yes\n"
	    "allowagentforwarding yes\n"
	    "disableforwarding no\n"
	    "allowstreamlocalforwarding yes\n"
	    "streamlocalbindunlink no\n"
	    "fingerprinthash SHA256\n"
	    "exposeauthinfo no\n"
	    "pidfile none\n"
	    "modulifile /etc/ssh/moduli\n"
	    "xauthlocation /usr/bin/xauth\n"
	    "ciphers " ALGLIST_CIPHER_DEFAULT "\n"
	    "macs " ALGLIST_MAC_DEFAULT "\n"
	    "banner none\n"
	    "forcecommand none\n"
	    "chrootdirectory none\n"
	    "trustedusercakeys none\n"
	    "revokedkeys none\n"
	    "authorizedprincipalsfile none\n"
	    "versionaddendum none\n"
	    "authorizedkeyscommand none\n"
	    "authorizedkeyscommanduser none\n"
	    "authorizedprincipalscommand none\n"
	    "authorizedprincipalscommanduser none\n"
	    "hostkeyagent none\n"
	    "kexalgorithms " ALGLIST_KEX_DEFAULT "\n"
	    "casignaturealgorithms " ALGLIST_CA_SIG_DEFAULT "\n"
	    "hostkeyalgorithms " ALGLIST_HOSTKEY_DEFAULT "\n"
	    "pubkeyacceptedalgorithms " ALGLIST_PUBKEY_DEFAULT "\n"
	    "loglevel DEBUG\n"
	    "syslogfacility LOCAL7\n"
	    "authorizedkeysfile .ssh/a b c\n"
	    "hostkey /etc/ssh/k1\n"
	    "hostkey /etc/ssh/k2\n"
	    "authenticationmethods any\n"
	    "maxstartups 10:30:100\n"
	    "persourcemaxstartups none\n"
	    "persourcenetblocksize 32:128\n"
	    "persourcepenalties no\n"
	    "persourcepenaltyexemptlist none\n"
	    "permittunnel no\n"
	    "ipqos lowdelay throughput\n"
	    "rekeylimit 0 0\n"
	    "permitopen any\n"
	    "permitlisten any\n"
	    "permituserenvironment no\n"
	    "pubkeyauthoptions none\n";

	T_CHECK("dump: parse sample",
	    good(&c,
	        "# sample\n"
	        "Port 2222\n"
	        "ListenAddress 127.0.0.1\n"
	        "ListenAddress [::1]:2224\n"
	        "Port 2223\n"
	        "ListenAddress ::2\n"
	        "ListenAddress 10.0.0.1:99\n"
	        "HostKey /etc/ssh/k1\n"
	        "HostKey /etc/ssh/k2\n"
	        "LoginGraceTime 1h30m\n"
	        "MaxAuthTries 3\n"
	        "PubkeyAuthentication no\n"
	        "PidFile none\n"
	        "LogLevel DEBUG1\n"
	        "SyslogFacility local7\n"
	        "AuthorizedKeysFile .ssh/a b c\n"));
	config_fill_defaults(&c);
	text = dump_text(&c);
	T_CHECK(
	    "dump: sshd -T format", text != NULL && strcmp(text, want) == 0);
	if (text != NULL && strcmp(text, want) != 0)
		printf("# got:\n%s", text);
	free(text);
	config_free(&c);

	T_CHECK("dump: defaults parse", good(&c, ""));
	config_fill_defaults(&c);
	text = dump_text(&c);
	T_CHECK("dump: default listen is [::] then 0.0.0.0 per port",
	    text != NULL &&
	        strstr(text,
	            "port 22\naddressfamily any\n"
	            "listenaddress [::]:22\n"
	            "listenaddress 0.0.0.0:22\n"
	            "usepam no\n"
	            "logingracetime 120\n") == text);
	T_CHECK("dump: default tail",
	    text != NULL &&
	        strstr(text,
	            "pidfile /run/sshd.pid\nmodulifile /etc/ssh/moduli\n"
	            "xauthlocation /usr/bin/xauth\n"
	            "ciphers " ALGLIST_CIPHER_DEFAULT "\n"
	            "macs " ALGLIST_MAC_DEFAULT "\n"
	            "banner none\n"
	            "forcecommand none\nchrootdirectory none\n"
	            "trustedusercakeys none\n"
	            "revokedkeys none\nauthorizedprincipalsfile none\n"
	            "versionaddendum none\n"
	            "authorizedkeyscommand none\n"
	            "authorizedkeyscommanduser none\n"
	            "authorizedprincipalscommand none\n"
	            "authorizedprincipalscommanduser none\n"
	            "hostkeyagent none\n"
	            "kexalgorithms " ALGLIST_KEX_DEFAULT "\n"
	            "casignaturealgorithms " ALGLIST_CA_SIG_DEFAULT "\n"
	            "hostkeyalgorithms " ALGLIST_HOSTKEY_DEFAULT "\n"
	            "pubkeyacceptedalgorithms " ALGLIST_PUBKEY_DEFAULT "\n"
	            "loglevel INFO\n"
	            "syslogfacility AUTH\nauthorizedkeysfile "
	            ".ssh/authorized_keys .ssh/authorized_keys2\n"
	            "hostkey /etc/ssh/ssh_host_rsa_key\n") != NULL);
	free(text);
	config_free(&c);

	T_CHECK("dump: AddressFamily inet parse",
	    good(&c, "AddressFamily inet\nLogLevel QUIET"));
	config_fill_defaults(&c);
	text = dump_text(&c);
	T_CHECK("dump: AddressFamily inet lists only 0.0.0.0",
	    text != NULL &&
	        strstr(text,
	            "addressfamily inet\n"
	            "listenaddress 0.0.0.0:22\n"
	            "usepam no\n") != NULL);
	T_CHECK("dump: QUIET shows as SILENT like sshd -T",
	    text != NULL && strstr(text, "\nloglevel SILENT\n") != NULL);
	free(text);
	config_free(&c);
}

/* load_path: a source read from disk, then its global settings. */
static int
load_path(struct server_config *c, const char *path)
{
	struct config_source *src = NULL;
	int r;

	config_init(c);
	logbuf[0] = '\0';
	if ((r = config_source_read(path, &src)) != 0)
		return r;
	r = config_load_source(c, src);
	config_source_free(src);
	return r;
}

static void
test_load_file(void)
{
	struct server_config c;
	char path[] = "/tmp/postern-config-XXXXXX";
	char *want = NULL;
	FILE *f;
	int fd, r;

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		T_CHECK("load: temp file", 0);
		return;
	}
	fputs("# postern test\n"
	      "Port 2222\n"
	      "Prot 22\n"
	      "\n"
	      "LogLevel nope\n"
	      "MaxAuthTries 3\n"
	      "Port 99999\n",
	    f);
	fclose(f);
	r = load_path(&c, path);
	T_CHECK("load: bad lines give ERR_CONFIG", r == ERR_CONFIG);
	/* Every bad line is reported; a value sshd would fatal() on (two
	 * here) leaves out its summary, which counts only the unknown
	 * keyword's kind of refusal. */
	if (asprintf(&want,
	        "%s: line 3: Bad configuration option: Prot (did you mean "
	        "Port?)\n"
	        "%s line 5: LogLevel: unsupported log level 'nope'\n"
	        "%s line 7: Badly formatted port number.\n",
	        path, path, path) < 0)
		want = NULL;
	T_CHECK("load: every error reported with its line",
	    want != NULL && strcmp(logbuf, want) == 0);
	if (want != NULL && strcmp(logbuf, want) != 0)
		printf("# got:\n%s", logbuf);
	free(want);
	T_CHECK("load: good lines still read",
	    c.nports == 1 && c.ports[0] == 2222 && c.max_auth_tries == 3);
	config_free(&c);

	f = fopen(path, "w");
	if (f != NULL) {
		fputs("Port 2200\r\nLogLevel VERBOSE\r\nMaxSessions 4", f);
		fclose(f);
	}
	T_CHECK("load: CRLF lines and no final newline",
	    load_path(&c, path) == 0 && logbuf[0] == '\0' &&
	        c.ports[0] == 2200 && c.log_level == LL_VERBOSE &&
	        c.max_sessions == 4);
	config_free(&c);
	unlink(path);

	/* sshd's perror() line goes to stderr, not the log. */
	T_CHECK("load: missing file",
	    load_path(&c, "/nonexistent/sshd_config") == ERR_NOT_FOUND &&
	        logbuf[0] == '\0');
	config_free(&c);
}

static void
test_max_startups(void)
{
	struct server_config c;

	T_CHECK("maxstartups: single number", good(&c, "MaxStartups 100"));
	T_CHECK("maxstartups: n means n:30:n",
	    c.max_startups_begin == 100 && c.max_startups_rate == 30 &&
	        c.max_startups == 100);
	config_free(&c);
	T_CHECK("maxstartups: triple", good(&c, "MaxStartups 10:30:60"));
	T_CHECK("maxstartups: triple values",
	    c.max_startups_begin == 10 && c.max_startups_rate == 30 &&
	        c.max_startups == 60);
	config_free(&c);
	/* As sshd, the last line wins; a single number keeps the rate. */
	T_CHECK("maxstartups: last line wins",
	    good(&c, "MaxStartups 10:50:60\nMaxStartups 3") &&
	        c.max_startups_begin == 3 && c.max_startups_rate == 50 &&
	        c.max_startups == 3);
	config_free(&c);
	bad("MaxStartups 5:50:4", "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups 10:101:20",
	    "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups x", "t.conf line 1: Invalid MaxStartups spec.");
	/* A negative or zero start would turn the limit off. */
	bad("MaxStartups -1:30:10", "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups 0:30:10", "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups 0", "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups -5", "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups 10:0:20", "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups 10:30:99999999999",
	    "t.conf line 1: Invalid MaxStartups spec.");
	bad("MaxStartups 10:30", "t.conf line 1: Invalid MaxStartups spec.");
	/* As sshd's sscanf("%d:%d:%d"): what follows the numbers read is
	 * not looked at (sshd 9.2 side by side); a number past int is
	 * refused (sshd's sscanf wraps it). */
	T_CHECK("maxstartups: a fourth part is not read",
	    good(&c, "MaxStartups 1:2:3:4") && c.max_startups_begin == 1 &&
	        c.max_startups_rate == 2 && c.max_startups == 3);
	config_free(&c);
	T_CHECK("maxstartups: 10::20 is 10, as one number",
	    good(&c, "MaxStartups 10::20") && c.max_startups_begin == 10 &&
	        c.max_startups == 10);
	config_free(&c);
	T_CHECK("maxstartups: 10:30:100x is 10:30:100",
	    good(&c, "MaxStartups 10:30:100x") && c.max_startups == 100);
	config_free(&c);
	/* The keyword as written, as sshd reports it. */
	bad("maxstartups -1:30:10", "t.conf line 1: Invalid maxstartups spec.");
	T_CHECK("maxstartups: 1:100:1", good(&c, "MaxStartups 1:100:1"));
	config_free(&c);
}

/*
 * As sshd 9.2 reads lines: a NUL byte ends the line's text and takes its
 * newline with it, so the next line, its leading blanks gone, continues
 * it ("Port 2201" and "MaxAuthTries 2" make "Port 2201MaxAuthTries 2").
 */
static void
test_nul_bytes(void)
{
	static const char bad_text[] = "Port 2201\0junk\nMaxAuthTries 2";
	static const char good_text[] =
	    "AllowUsers alice\0x\n \t\rbob\nMaxAuthTries 2\0";
	struct cfg_memfile f = {"mem", bad_text, sizeof(bad_text) - 1};
	struct config_source *src = NULL;
	struct server_config c;

	config_init(&c);
	logbuf[0] = '\0';
	T_CHECK("nul: source", cfg_source_from_memory(&f, 1, &src) == 0);
	T_CHECK("nul: the next line continues the one with a NUL",
	    src != NULL && config_load_source(&c, src) != 0 &&
	        strstr(logbuf, "mem line 1: Badly formatted port number.") !=
	            NULL);
	config_free(&c);
	config_source_free(src);
	src = NULL;

	f.text = good_text;
	f.len = sizeof(good_text) - 1;
	config_init(&c);
	logbuf[0] = '\0';
	T_CHECK("nul: source 2", cfg_source_from_memory(&f, 1, &src) == 0);
	T_CHECK("nul: joined without the next line's leading blanks",
	    src != NULL && config_load_source(&c, src) == 0 &&
	        c.nallow_users == 1 &&
	        strcmp(c.allow_users[0], "alicebob") == 0 &&
	        c.max_auth_tries == 2 && logbuf[0] == '\0');
	config_free(&c);
	config_source_free(src);
}

/* -o lines: before the file, and Include/Match refused there. */
static void
test_command_line(void)
{
	struct server_config c;

	config_init(&c);
	logbuf[0] = '\0';
	T_CHECK("cmdline: an option parses",
	    config_parse_line(&c, "MaxAuthTries=4", "command-line", 1) == 0 &&
	        c.max_auth_tries == 4);
	T_CHECK("cmdline: Include refused",
	    config_parse_line(&c, "Include /etc/ssh/x", "command-line", 2) ==
	            ERR_CONFIG &&
	        strcmp(logbuf,
	            "Include directive not supported as a "
	            "command-line option\n") == 0);
	logbuf[0] = '\0';
	T_CHECK("cmdline: Match refused",
	    config_parse_line(&c, "Match User x", "command-line", 3) ==
	            ERR_CONFIG &&
	        strcmp(logbuf,
	            "Match directive not supported as a "
	            "command-line option\n") == 0);
	config_free(&c);
}

int
main(void)
{
	log_init("test_config", LL_INFO, LOG_AUTH, 1);
	log_set_handler(capture, NULL);
	test_first_wins();
	test_accumulate();
	test_syntax();
	test_errors();
	test_time();
	test_listen_forms();
	test_paths();
	test_defaults();
	test_dump();
	test_load_file();
	test_max_startups();
	test_nul_bytes();
	test_command_line();
	return T_DONE();
}
