/*
 * sftp_options.c: the command-line flags of internal-sftp and
 * sftp-server(8), parsed without getopt's global state.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "log.h"
#include "sftp.h"

void
sftp_options_init(struct sftp_options *o)
{
	memset(o, 0, sizeof(*o));
	o->umask = -1;
	o->log_level = LL_ERROR;
	o->log_facility = -1;
}

const char *
sftp_usage(void)
{
	return "[-ehR] [-d start_directory] [-f log_facility] "
	       "[-l log_level] [-P denied_requests] [-p allowed_requests] "
	       "[-u umask]";
}

/* The words of the last refusal that names its argument (one session
 * process parses one command line at a time). */
static char bad_arg_msg[256];

static const char *
bad_arg(const char *what, const char *arg)
{
	snprintf(bad_arg_msg, sizeof(bad_arg_msg), "Invalid %s \"%.200s\"",
	    what, arg);
	return bad_arg_msg;
}

static int
set_flag(
    struct sftp_options *o, char flag, const char *arg, const char **errmsg)
{
	char *end;
	long v;
	int n;

	switch (flag) {
	case 'd':
		o->start_dir = arg;
		break;
	case 'f':
		if ((n = log_facility_from_name(arg)) == -1) {
			*errmsg = bad_arg("log facility", arg);
			return ERR_CONFIG;
		}
		o->log_facility = n;
		break;
	case 'l':
		if ((n = log_level_from_name(arg)) == -1) {
			*errmsg = bad_arg("log level", arg);
			return ERR_CONFIG;
		}
		o->log_level = n;
		break;
	case 'P':
		if (o->deny != NULL) {
			*errmsg = "Refused requests already set";
			o->bad_flag_fatal = 1;
			return ERR_CONFIG;
		}
		o->deny = arg;
		break;
	case 'p':
		if (o->allow != NULL) {
			*errmsg = "Permitted requests already set";
			o->bad_flag_fatal = 1;
			return ERR_CONFIG;
		}
		o->allow = arg;
		break;
	case 'Q':
		if (strcasecmp(arg, "requests") != 0) {
			*errmsg = "Invalid query type";
			return ERR_CONFIG;
		}
		o->query_requests = 1;
		break;
	case 'u':
		errno = 0;
		v = strtol(arg, &end, 8);
		if (*arg == '\0' || *end != '\0' || errno != 0 || v < 0 ||
		    v > 0777) {
			*errmsg = bad_arg("umask", arg);
			o->bad_flag_fatal = 1;
			return ERR_CONFIG;
		}
		o->umask = (int)v;
		break;
	default:
		*errmsg = "unknown option";
		return ERR_CONFIG;
	}
	return 0;
}

int
sftp_parse_options(
    int argc, char **argv, struct sftp_options *o, const char **errmsg)
{
	const char *a, *arg;
	int i, r;

	*errmsg = NULL;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			break; /* operands end the flags, as with getopt */
		if (strcmp(a, "--") == 0)
			break;
		for (a++; *a != '\0'; a++) {
			switch (*a) {
			case 'R':
				o->read_only = 1;
				continue;
			case 'e':
				o->log_stderr = 1;
				continue;
			case 'c':
				/* sshd runs "internal-sftp -c ...": the rest
				 * are the shell's arguments. */
				return 0;
			case 'h':
				*errmsg = "usage";
				return ERR_CONFIG;
			case 'd':
			case 'f':
			case 'l':
			case 'P':
			case 'p':
			case 'Q':
			case 'u':
				break;
			default:
				*errmsg = "unknown option";
				return ERR_CONFIG;
			}
			/* A flag with an argument: the rest, or the next word. */
			if (a[1] != '\0')
				arg = a + 1;
			else if (i + 1 < argc)
				arg = argv[++i];
			else {
				*errmsg = "option requires an argument";
				return ERR_CONFIG;
			}
			if ((r = set_flag(o, *a, arg, errmsg)) != 0)
				return r;
			break;
		}
	}
	return 0;
}

/*
 * sftp_split_args: a command line into words as OpenSSH's argv_split: blanks
 * separate, '...' and "..." quote, a backslash escapes a quote, a
 * backslash or a blank. line is modified; returns the count or -1.
 */
int
sftp_split_args(char *line, char **argv, int max)
{
	char *src = line, *dst, quote;
	int argc = 0;

	for (;;) {
		while (*src == ' ' || *src == '\t')
			src++;
		if (*src == '\0')
			break;
		if (argc + 1 >= max)
			return -1;
		argv[argc++] = dst = src;
		quote = 0;
		while (*src != '\0') {
			if (quote == 0 && (*src == ' ' || *src == '\t'))
				break;
			if (*src == '\\' &&
			    (src[1] == '\'' || src[1] == '"' ||
			        src[1] == '\\' ||
			        (quote == 0 && src[1] == ' '))) {
				*dst++ = src[1];
				src += 2;
			} else if (quote == 0 && (*src == '\'' || *src == '"'))
				quote = *src++;
			else if (quote != 0 && *src == quote) {
				quote = 0;
				src++;
			} else
				*dst++ = *src++;
		}
		if (quote != 0)
			return -1;
		if (*src != '\0')
			src++;
		*dst = '\0';
	}
	argv[argc] = NULL;
	return argc;
}
