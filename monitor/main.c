/*
 * posternd: command line and start-up. Same flags as OpenSSH's sshd. With
 * the internal -R flag it is the per-connection monitor for the client
 * socket on fd 3; otherwise it is the listener.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "alglist.h"
#include "buf.h"
#include "cipher.h"
#include "kex.h"
#include "mac.h"
#include "crypto.h"
#include "err.h"
#include "log.h"
#include "monitor.h"
#include "proctitle.h"
#include "sshkey.h"

#ifndef POSTERN_SYSCONFDIR
#define POSTERN_SYSCONFDIR "/etc/ssh"
#endif
#define DEFAULT_CONFIG POSTERN_SYSCONFDIR "/sshd_config"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* More of an option than posternd keeps: an error, nothing dropped. */
static void
too_many(char opt, size_t max)
{
	fprintf(
	    stderr, "posternd: too many -%c options (at most %zu)\n", opt, max);
	exit(1);
}

/* At most this many -C options. */
#define MAX_CMDLINE_SPECS 16

static void
free_specs(char **storage, size_t n)
{
	while (n-- > 0)
		free(storage[n]);
}

/*
 * One -C spec on top of those before it (mc starts zeroed): the fields it
 * names replace theirs, as each of sshd's -C fills the same connection
 * info. Each spec's text stays in storage[] (mc points into it).
 */
static int
add_conn_spec(
    const char *spec, struct match_conn *mc, char **storage, size_t *nstorage)
{
	struct match_conn one;

	if (*nstorage >= MAX_CMDLINE_SPECS)
		too_many('C', MAX_CMDLINE_SPECS);
	if (config_parse_conn_spec(spec, &one, &storage[*nstorage]) != 0) {
		free(storage[*nstorage]);
		storage[*nstorage] = NULL;
		return -1;
	}
	(*nstorage)++;
	if (one.user != NULL)
		mc->user = one.user;
	if (one.host != NULL)
		mc->host = one.host;
	if (one.addr != NULL)
		mc->addr = one.addr;
	if (one.laddr != NULL)
		mc->laddr = one.laddr;
	if (one.rdomain != NULL)
		mc->rdomain = one.rdomain;
	if (one.lport != 0)
		mc->lport = one.lport;
	if (one.invalid_user)
		mc->invalid_user = 1;
	return 0;
}

/* A configuration line from the command line (-o, and -4, -6, -c, -g). */
static void
add_cmdline_opt(struct options *o, char *line)
{
	if (o->ncmdline_opts >= N_ELEMS(o->cmdline_opts))
		too_many('o', N_ELEMS(o->cmdline_opts));
	o->cmdline_opts[o->ncmdline_opts++] = line;
}

/*
 * One -o line parsed on its own where it stands on the command line, as
 * sshd parses it: its messages (a deprecated keyword's too, said here
 * only: load_config's parse keeps to errors), and sshd's exit codes: 1
 * for an unknown keyword or a missing value, 255 for a bad value. After a
 * -p, a Port line is skipped unread, as sshd skips it.
 */
static int
check_cmdline_opt(const char *line, int ports_from_cmdline)
{
	struct server_config t;
	int r;

	config_init(&t);
	t.ports_from_cmdline = ports_from_cmdline;
	r = config_parse_line(&t, line, "command-line", 0);
	config_free(&t);
	return r == 0 ? 0 : r == ERR_FORMAT ? 1 : 255;
}

/* At most this many -c options. */
#define MAX_CMDLINE_CERTS 16

/*
 * A configuration line the command line implies (-4, -6, -c, -g), added
 * as -o adds one. Its text lives in the option slot's own static buffer,
 * as the options last as long as the process: nothing to free.
 */
static void __attribute__((format(printf, 2, 3)))
add_cmdline_line(struct options *o, const char *fmt, ...)
{
	static char lines[N_ELEMS(((struct options *)0)->cmdline_opts)][1024];
	va_list ap;

	if (o->ncmdline_opts >= N_ELEMS(lines))
		too_many('o', N_ELEMS(lines));
	va_start(ap, fmt);
	vsnprintf(lines[o->ncmdline_opts], sizeof(lines[0]), fmt, ap);
	va_end(ap);
	add_cmdline_opt(o, lines[o->ncmdline_opts]);
}

/* "KEYWORD VALUE" as add_cmdline_line adds it, but put first, so that it
 * wins over every -o (the first value wins). */
static void
add_cmdline_first(struct options *o, const char *keyword, const char *value)
{
	char *line;
	size_t i;

	add_cmdline_line(o, "%s %s", keyword, value);
	line = o->cmdline_opts[o->ncmdline_opts - 1];
	for (i = o->ncmdline_opts - 1; i > 0; i--)
		o->cmdline_opts[i] = o->cmdline_opts[i - 1];
	o->cmdline_opts[0] = line;
	/* The -o lines before the first -p moved up by one too. */
	if (o->ports_from_cmdline)
		o->nopts_before_p++;
}

static void
usage(void)
{
	/* As sshd: the version first. */
	fprintf(stderr, "%s, %s\n", POSTERN_VERSION,
	    OpenSSL_version(OPENSSL_VERSION));
	fprintf(stderr,
	    "usage: posternd [-46DdeiqTtV] [-C connection_spec] "
	    "[-c host_cert_file]\n"
	    "                [-E log_file] [-f config_file] [-g "
	    "login_grace_time]\n"
	    "                [-h host_key_file] [-o option] [-p port] "
	    "[-Q query] [-u len]\n");
	exit(1);
}

int
helper_path(const char *name, char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n;

	if (out == NULL || outlen == 0)
		return ERR_INTERNAL;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(out, outlen, "%s/%s", dirname(self), name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	snprintf(out, outlen, "%s/%s", POSTERN_LIBEXECDIR, name);
	return access(out, X_OK) == 0 ? 0 : ERR_NOT_FOUND;
}

/* 1 if the command line's option text opt is a -h file name (the same
 * argv string), not an -o line. */
static int
is_cmdline_hostkey(const struct options *o, const char *opt)
{
	size_t i;

	for (i = 0; i < o->ncmdline_hostkeys; i++)
		if (o->cmdline_hostkeys[i] == opt)
			return 1;
	return 0;
}

/* The LogLevel of the command line's -o options (load_config). */
static int cmdline_log_level = CONFIG_UNSET;

int
load_config(const struct options *o, const struct config_source *src,
    struct server_config *c)
{
	int early[CONFIG_MAX_LIST];
	size_t i, nearly = 0;
	enum log_level level;
	int bad = 0, r;

	config_init(c);
	cmdline_log_level = CONFIG_UNSET;
	/* Command-line options come first, so they win. As sshd, each is
	 * "command-line line 0", and the first bad one ends the run (with
	 * ERR_FORMAT the caller exits 1, as sshd; config_parse_line). */
	for (i = 0; i <= o->ncmdline_opts; i++) {
		/* As sshd reads its command line, -p's ports follow those of
		 * the -o Port options before the first -p; a later one gives
		 * way to -p, as the files' Port lines do. */
		if (i == o->nopts_before_p) {
			memcpy(early, c->ports, c->nports * sizeof(*early));
			nearly = c->nports;
			c->ports_from_cmdline = o->ports_from_cmdline;
		}
		if (i == o->ncmdline_opts)
			break;
		/* Less than an error was said by check_cmdline_opt. */
		level = log_get_level();
		if (level > LL_ERROR)
			log_set_level(LL_ERROR);
		if (is_cmdline_hostkey(o, o->cmdline_opts[i]))
			r = config_add_host_key(c, o->cmdline_opts[i]);
		else
			r = config_parse_line(
			    c, o->cmdline_opts[i], "command-line", 0);
		log_set_level(level);
		if (r != 0)
			return r == ERR_FORMAT ? ERR_FORMAT : ERR_CONFIG;
	}
	cmdline_log_level = c->log_level; /* a -o LogLevel, else unset */
	/* As sshd's -E: the files' messages go to the log file; those of
	 * -o and of a file that cannot be read stay on stderr. */
	if (o->log_fd != -1)
		log_set_file(o->log_fd);
	/* -q and -d, else a -o LogLevel, set the level of the files'
	 * messages, not of those of -o or of a file that cannot be read
	 * (sshd's perror()), as sshd: its log_init() takes the command
	 * line's level before it reads the files. */
	if (o->cmdline_ll != -1)
		log_set_level((enum log_level)o->cmdline_ll);
	else if (cmdline_log_level != CONFIG_UNSET)
		log_set_level((enum log_level)cmdline_log_level);
	if (config_load_source(c, src) != 0)
		bad++;
	if (bad)
		return ERR_CONFIG;
	if (o->ncmdline_ports > 0) {
		/* -p replaces the Port lines of the configuration. */
		if (nearly + o->ncmdline_ports > CONFIG_MAX_LIST) {
			error("command-line: too many ports.");
			return ERR_CONFIG;
		}
		memcpy(c->ports, early, nearly * sizeof(*early));
		c->nports = nearly;
		for (i = 0; i < o->ncmdline_ports; i++)
			c->ports[c->nports++] = o->cmdline_ports[i];
	}
	config_fill_defaults(c);
	if (!o->rexec && config_check_listen(c) != 0)
		return ERR_CONFIG;
	return config_check(c);
}

/*
 * The per-connection monitor reads the listener's configuration source,
 * serialised in a sealed memfd, from fd; nothing is read from disk.
 */
static int
read_source_fd(int fd, struct config_source **srcp)
{
	struct buf *b = NULL;
	struct stat st;
	uint8_t *dst;
	size_t len, off = 0;
	ssize_t n;
	int r;

	*srcp = NULL;
	if (fstat(fd, &st) != 0) {
		r = ERR_SYSTEM;
		goto out;
	}
	if (st.st_size <= 0 || (uintmax_t)st.st_size > CONFIG_SOURCE_MAX) {
		r = ERR_TOO_BIG;
		goto out;
	}
	len = (size_t)st.st_size;
	if ((b = buf_new(len)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	if ((r = buf_reserve(b, len, &dst)) != 0)
		goto out;
	while (off < len) {
		if ((n = pread(fd, dst + off, len - off, (off_t)off)) < 0) {
			if (errno == EINTR)
				continue;
			r = ERR_SYSTEM;
			goto out;
		}
		if (n == 0) {
			r = ERR_SHORT;
			goto out;
		}
		off += (size_t)n;
	}
	r = config_source_deserialize(b, srcp);
out:
	close(fd);
	buf_free(b);
	return r;
}

/*
 * A SIGHUP restart's configuration (listener.c, reload): the source in the
 * fd named by RELOAD_CONFIG_ENV, read into *srcp; ERR_NOT_FOUND when
 * there is none. The variable goes, so that no child sees it.
 */
static int
restart_source(struct config_source **srcp)
{
	const char *v = getenv(RELOAD_CONFIG_ENV);
	char *end;
	long fd;
	int r;

	if (v == NULL)
		return ERR_NOT_FOUND;
	errno = 0;
	fd = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || fd < 3 || fd > INT_MAX)
		r = ERR_NOT_FOUND; /* not one of ours: the files */
	else if ((r = read_source_fd((int)fd, srcp)) == 0)
		/* What the listener checked before it restarted; its ignored
		 * keywords are reported again, as when read. */
		config_source_set_quiet(*srcp, 0);
	(void)unsetenv(RELOAD_CONFIG_ENV);
	if (r != 0 && r != ERR_NOT_FOUND)
		error("restart: configuration not passed on (%s); reading the "
		      "files",
		    err_str(r));
	return r;
}

/*
 * config_path_abs: a relative -f made absolute from where posternd was
 * started, for SIGHUP's reads once a daemon is in /; a restarted
 * listener keeps its predecessor's (RELOAD_PATH_ENV).
 */
static void
set_config_path_abs(struct options *o)
{
	const char *v = getenv(RELOAD_PATH_ENV);
	char cwd[PATH_MAX];

	if (v != NULL && v[0] == '/')
		o->config_path_abs = strdup(v);
	else if (o->config_file[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL &&
	    asprintf(&o->config_path_abs, "%s/%s", cwd, o->config_file) < 0)
		o->config_path_abs = NULL;
	(void)unsetenv(RELOAD_PATH_ENV);
}

/*
 * -Q what: the algorithms postern supports, one per line, as `ssh -Q`
 * prints them: cipher, mac, kex, key, key-cert, sig, compression.
 */
static int
query(const char *what)
{
	static const char *const keys =
	    "ssh-ed25519,sk-ssh-ed25519@openssh.com,"
	    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
	    "ecdsa-sha2-nistp521,"
	    "sk-ecdsa-sha2-nistp256@openssh.com,"
	    "ssh-rsa";
	/* ssh -Q key-cert's, less DSA's. */
	static const char *const certs =
	    "ssh-ed25519-cert-v01@openssh.com,"
	    "sk-ssh-ed25519-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
	    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
	    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,"
	    "ssh-rsa-cert-v01@openssh.com";
	/* Every signature postern verifies (ssh-rsa: SHA-1, if allowed). */
	static const char *const sigs = ALGLIST_SIG_IMPL;
	const char *list = NULL, *p;

	if (strcmp(what, "cipher") == 0 || strcmp(what, "ciphers") == 0)
		list = cipher_supported_list();
	else if (strcmp(what, "mac") == 0 || strcmp(what, "macs") == 0)
		list = mac_supported_list();
	else if (strcmp(what, "kex") == 0)
		list = kex_supported_list();
	else if (strcmp(what, "compression") == 0)
		list = "none,zlib@openssh.com,zlib";
	else if (strcmp(what, "key") == 0 || strcmp(what, "key-plain") == 0)
		list = keys;
	else if (strcmp(what, "key-cert") == 0)
		list = certs;
	else if (strcmp(what, "sig") == 0)
		list = sigs;
	if (list == NULL) {
		fprintf(stderr, "Unsupported query \"%s\"\n", what);
		return 1;
	}
	for (p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		printf("%.*s\n", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct server_config c;
	struct config_source *src = NULL;
	struct match_conn mc;
	char **saved_argv;
	int ch, i, r, cmdline_level;
	char *conn_spec = NULL, *conn_storage[MAX_CMDLINE_SPECS] = {NULL};
	const char *family = NULL, *grace = NULL; /* -4/-6, -g: the last */
	const char *log_path = NULL;              /* -E: the last */
	int monitor_argv;
	size_t nconn_storage = 0;
	size_t ncerts = 0;

	/*
	 * As sshd's sanitise_stdfd(): a closed standard descriptor is
	 * /dev/null, before a socket or a log file can take its number and
	 * be lost to daemon(3) or written to as stderr.
	 */
	for (i = 0; i <= 2; i++)
		if (fcntl(i, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR) != i)
			return 1;
	/* Before anything reads argv: the title takes over its memory. */
	proctitle_init(argc, argv);
	proctitle_name();
	memset(&o, 0, sizeof(o));
	memset(&mc, 0, sizeof(mc));
	o.utmp_host_len = UTMP_HOST_LEN_MAX;
	o.log_fd = -1;
	o.cmdline_ll = -1;
	o.config_file = DEFAULT_CONFIG;
	/* Keep argv as given: the listener re-execs itself with it. */
	if ((saved_argv = calloc((size_t)argc + 1, sizeof(*saved_argv))) ==
	    NULL)
		return 1;
	for (i = 0; i < argc; i++)
		saved_argv[i] = argv[i];
	log_init(POSTERN_SYSLOG_IDENT, LL_INFO, LOG_AUTH, 1);
	/*
	 * As sshd: whatever umask it was started with, never one that lets
	 * group or others write what it, its sessions and their programs
	 * create (a shell's 000 or 002, a container's entry point).
	 */
	umask(umask(077) | 022);
	/* The listener starts each connection's monitor with its own
	 * arguments and "-R" first (spawn_monitor). */
	monitor_argv = argc > 1 && strcmp(argv[1], "-R") == 0;
	/* A monitor's descriptors are the listener's to give (-R). */
	if (!monitor_argv)
		listener_close_inherited();
	/* Bad options reported in sshd's words (its getopt's), not glibc's. */
	opterr = 0;
	while ((ch = getopt(argc, argv,
	            ":46b:C:c:DdE:ef:g:h:ik:o:p:Q:qRrTtu:V")) != -1) {
		switch (ch) {
		case '4':
		case '6':
			family = ch == '4' ? "inet" : "inet6";
			break;
		case 'C':
			/* -T applies the Match blocks for this connection; as
			 * sshd, a bad spec ends the run at once, and each -C
			 * adds to the ones before. */
			if (add_conn_spec(optarg, &mc, conn_storage,
			        &nconn_storage) != 0) {
				free(saved_argv);
				return 1;
			}
			conn_spec = optarg;
			break;
		case 'c':
			/* As sshd: a HostCertificate before the file's. */
			if (ncerts++ >= MAX_CMDLINE_CERTS)
				too_many('c', MAX_CMDLINE_CERTS);
			add_cmdline_line(&o, "HostCertificate \"%s\"", optarg);
			break;
		case 'D':
			o.foreground = 1;
			break;
		case 'd':
			/* As sshd: the first -d is DEBUG1, each later one a
			 * level more (up to DEBUG3) from wherever -q left it. */
			if (o.debug++ == 0)
				o.cmdline_ll = LL_DEBUG1;
			else if (o.cmdline_ll < LL_DEBUG3)
				o.cmdline_ll++;
			break;
		case 'E':
			/* As sshd: the last -E is the log file. */
			log_path = optarg;
			break;
		case 'e':
			o.log_stderr = 1;
			break;
		case 'f':
			o.config_file = optarg;
			break;
		case 'g':
			if (config_time_value(optarg) < 0) {
				fprintf(stderr, "Invalid login grace time.\n");
				free(saved_argv);
				return 1;
			}
			grace = optarg;
			break;
		case 'h':
			if (o.ncmdline_hostkeys >= N_ELEMS(o.cmdline_hostkeys))
				too_many('h', N_ELEMS(o.cmdline_hostkeys));
			/* As sshd: a file name as given, among the -o lines
			 * in command-line order (load_config). */
			o.cmdline_hostkeys[o.ncmdline_hostkeys++] = optarg;
			add_cmdline_opt(&o, optarg);
			break;
		case 'i':
			o.inetd = 1;
			break;
		case 'o':
			/* As sshd, a bad -o ends the run where it stands on
			 * the command line (load_config parses it again). */
			if ((r = check_cmdline_opt(
			         optarg, o.ports_from_cmdline)) != 0) {
				free(saved_argv);
				return r;
			}
			add_cmdline_opt(&o, optarg);
			break;
		case 'p':
			if (!o.ports_from_cmdline)
				o.nopts_before_p = o.ncmdline_opts;
			o.ports_from_cmdline = 1;
			/* A connection's monitor binds nothing: its listener
			 * resolved the ports (no service lookup per login). */
			if (monitor_argv)
				break;
			if (o.ncmdline_ports >= N_ELEMS(o.cmdline_ports))
				too_many('p', N_ELEMS(o.cmdline_ports));
			if ((o.cmdline_ports[o.ncmdline_ports++] =
			            config_port_value(optarg)) < 0) {
				fprintf(stderr, "Bad port number.\n");
				free(saved_argv);
				return 1;
			}
			break;
		case 'q':
			o.cmdline_ll = LL_QUIET;
			break;
		case 'Q':
			r = query(optarg);
			free(saved_argv);
			return r;
		case 'R':
			o.rexec = 1;
			break;
		case 'T':
			/* As sshd: the last of -t and -T decides. */
			o.dump_config = 1;
			o.test_only = 0;
			break;
		case 't':
			o.test_only = 1;
			o.dump_config = 0;
			break;
		case 'u': {
			/* As sshd's strtonum(0, 66): a number 0..65; anything
			 * else reads as 0 but 66, which is refused. A longer
			 * host name is recorded as the address. */
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end != '\0' || v < 0 ||
			    v > UTMP_HOST_LEN_MAX + 1)
				v = 0;
			if (v > UTMP_HOST_LEN_MAX) {
				fprintf(stderr, "Invalid utmp length.\n");
				free(saved_argv);
				return 1;
			}
			o.utmp_host_len = (int)v;
			break;
		}
		case 'b':
		case 'k':
			/* SSH protocol 1's server key options: sshd 9.2 still
			 * takes and ignores them. */
			break;
		case 'r':
			/* sshd's "do not re-exec": every posternd connection is
			 * a fresh exec (DESIGN.md), so this changes nothing. */
			break;
		case 'V':
			/* As sshd -V: the version, on standard error. */
			fprintf(stderr, "%s, %s\n", POSTERN_VERSION,
			    OpenSSL_version(OPENSSL_VERSION));
			free(saved_argv);
			return 0;
		case ':':
			fprintf(stderr, "option requires an argument -- %c\n",
			    optopt);
			usage();
			break;
		default:
			fprintf(stderr, "unknown option -- %c\n", optopt);
			usage();
		}
	}
	if (optind < argc) {
		fprintf(stderr, "Extra argument %s.\n", argv[optind]);
		return 1;
	}
	if (log_path != NULL &&
	    (o.log_fd = open(log_path,
	         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		fprintf(stderr, "Couldn't open logfile %s: %s\n", log_path,
		    strerror(errno));
		free(saved_argv);
		return 1;
	}
	/* As sshd, which sets these fields outright: the last -4/-6 and -g
	 * win, over any -o for the same keyword (before or after). */
	if (family != NULL)
		add_cmdline_first(&o, "AddressFamily", family);
	if (grace != NULL)
		add_cmdline_first(&o, "LoginGraceTime", grace);
	/* As sshd: -C goes with -T, never silently dropped (without it
	 * posternd would go on to serve). */
	if (conn_spec != NULL && !o.dump_config) {
		error("Config test connection parameter (-C) provided "
		      "without test mode (-T)");
		free_specs(conn_storage, nconn_storage);
		free(saved_argv);
		return 255;
	}
	if (o.debug) {
		o.foreground = 1;
		o.log_stderr = 1;
	}
	if (o.test_only || o.dump_config)
		log_set_stderr(1);
	if (o.rexec)
		r = read_source_fd(CONFIG_TEXT_FD, &src);
	else {
		set_config_path_abs(&o);
		if ((r = restart_source(&src)) != 0)
			r = config_source_read(o.config_file, &src);
	}
	if (r != 0) {
		if (o.rexec)
			error("cannot read configuration from listener: %s",
			    err_str(r));
		free(saved_argv);
		free(o.config_path_abs);
		/* As sshd: a file (or Include'd file) it cannot open, 1. */
		return !o.rexec && (r == ERR_NOT_FOUND || r == ERR_SYSTEM)
		    ? 1
		    : 255;
	}
	if ((r = load_config(&o, src, &c)) != 0) {
		config_free(&c);
		config_source_free(src);
		free_specs(conn_storage, nconn_storage);
		free(saved_argv);
		free(o.config_path_abs);
		/* As sshd: an unknown -o keyword or one without a value, 1. */
		return r == ERR_FORMAT ? 1 : 255;
	}
	if (o.cmdline_ll != -1)
		c.log_level = o.cmdline_ll;
	/* The command line's level: -q, -d, a -o LogLevel, else INFO. */
	cmdline_level = o.cmdline_ll != -1      ? c.log_level
	    : cmdline_log_level != CONFIG_UNSET ? cmdline_log_level
	                                        : LL_INFO;
	/* Host keys load at least at the command line's level (hostkeys.c). */
	hostkeys_set_log_level(cmdline_level);
	/* -t and -T report on stderr, as sshd (e.g. a bad -C spec), at the
	 * command line's level: as sshd 9.2, a LogLevel in the file does not
	 * make -T -C print its Match lines' debug. */
	log_init(POSTERN_SYSLOG_IDENT,
	    (enum log_level)(
	        o.test_only || o.dump_config ? cmdline_level : c.log_level),
	    c.syslog_facility, o.log_stderr || o.test_only || o.dump_config);
	(void)sshkey_set_fingerprint_digest(c.fingerprint_hash);
	if (o.dump_config || o.test_only) {
		struct hostkeys hk;

		r = 0;
		/* -t and -T both load the host keys first, as sshd. */
		if (hostkeys_load(&c, &hk) != 0) {
			hostkeys_use_log_level();
			error("sshd: no hostkeys available -- exiting.");
			r = 1;
		} else
			hostkeys_free(&hk);
		if (r == 0 && o.dump_config) {
			/* As sshd -T: Match blocks for -C, else for nobody. */
			if (config_apply_match(&c, src, &mc) != 0)
				r = 255;
			else
				config_dump(&c, stdout);
		}
		free_specs(conn_storage, nconn_storage);
		config_free(&c);
		config_source_free(src);
		free(saved_argv);
		free(o.config_path_abs);
		return r;
	}
	crypto_init_config(); /* no transport here: no cipher tables */
	if (o.rexec)
		monitor_run(&o, &c, src);
	return listener_run(&o, &c, src, saved_argv) == 0 ? 0 : 1;
}
