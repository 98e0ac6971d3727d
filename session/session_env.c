/*
 * session_env.c: a session child's environment, built in OpenSSH's order:
 * the client's accepted env requests, the login variables, TERM and
 * DISPLAY, authorized_keys environment=, ~/.ssh/environment, PAM's,
 * SetEnv, then SSH_CLIENT, SSH_CONNECTION, SSH_TUNNEL, SSH_USER_AUTH, SSH_TTY and
 * SSH_ORIGINAL_COMMAND. A later value of a name replaces an earlier one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authopts.h"
#include "err.h"
#include "log.h"
#include "match.h"
#include "session.h"
#include "session_login.h"
#include "session_pty.h"

#define ENV_MAX 1024                /* variables in one environment */
#define ENV_FILE_LINES 1000         /* as sshd */
#define ENV_FILE_LINE (1024 * 1024) /* longer lines: skipped, "Bad line" */
#define ENV_NOTES 2048              /* its messages for the client */
#define ENV_PATH_USER "/usr/local/bin:/usr/bin:/bin:/usr/games"
#define ENV_PATH_ROOT                                                          \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ENV_MAILDIR "/var/mail"
/* PAM's variables that must not reach the session (as sshd). */
#define ENV_PAM_DENY "SSH_AUTH_INFO*,SSH_CONNECTION*"

static size_t
name_len(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq != NULL ? (size_t)(eq - s) : strlen(s);
}

int
session_env_add(char ***envp, size_t *n, const char *name, const char *value)
{
	size_t nl = strlen(name), i;
	char *v, **grown;

	if (asprintf(&v, "%s=%s", name, value) == -1)
		return ERR_ALLOC;
	for (i = 0; i < *n; i++) {
		if (name_len((*envp)[i]) == nl &&
		    strncmp((*envp)[i], name, nl) == 0) {
			free((*envp)[i]);
			(*envp)[i] = v;
			return 0;
		}
	}
	if (*n + 1 >= ENV_MAX ||
	    (grown = realloc(*envp, (*n + 2) * sizeof(**envp))) == NULL) {
		free(v);
		return *n + 1 >= ENV_MAX ? ERR_TOO_BIG : ERR_ALLOC;
	}
	*envp = grown;
	grown[(*n)++] = v;
	grown[*n] = NULL;
	return 0;
}

void
session_env_free(char **env, size_t n)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

/* Add "NAME=value" (a copy is split at its first '='). */
static int
env_add_pair(char ***envp, size_t *n, const char *pair)
{
	char *name;
	size_t nl = name_len(pair);
	int r;

	if (pair[nl] != '=' || nl == 0)
		return 0;
	if ((name = strndup(pair, nl)) == NULL)
		return ERR_ALLOC;
	r = session_env_add(envp, n, name, pair + nl + 1);
	free(name);
	return r;
}

int
session_env_accept(const struct session_login *l, const char *name)
{
	size_t i;

	if (l == NULL)
		return 0;
	for (i = 0; i < l->naccept_env; i++)
		if (match_pattern(name, l->accept_env[i]))
			return 1;
	return 0;
}

/* PermitUserEnvironment: whether name may come from the user. */
static int
user_env_allowed(const struct session_login *l, const char *name)
{
	const char *p = l->permit_user_env;

	if (p == NULL || *p == '\0')
		return 0;
	if (strcmp(p, "yes") == 0)
		return 1;
	return match_pattern_list(name, p, 0) == 1;
}

/*
 * What reading ~/.ssh/environment has to tell the client ("Bad line N in
 * FILE"): the file is read before the fork, and the child prints it on
 * the session's stderr (session_login_child), where sshd's child says it.
 */
static char env_notes[ENV_NOTES];

static void
env_note(const char *fmt, ...)
{
	size_t used = strlen(env_notes);
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(env_notes + used, sizeof(env_notes) - used, fmt, ap);
	va_end(ap);
}

const char *
session_env_notes(void)
{
	return env_notes;
}

/* ~/.ssh/environment: NAME=value lines, '#' comments (as the user). */
static int
read_env_file(
    const struct session_login *l, const char *home, char ***envp, size_t *n)
{
	char path[4096], *line = NULL, *cp, *eq;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/.ssh/environment", home);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		if (++lineno > ENV_FILE_LINES) {
			env_note(
			    "Too many lines in environment file %s\n", path);
			break;
		}
		if (len > ENV_FILE_LINE) {
			env_note("Bad line %u in %.100s\n", lineno, path);
			continue;
		}
		for (cp = line; *cp == ' ' || *cp == '\t'; cp++)
			;
		if (*cp == '\0' || *cp == '#' || *cp == '\n')
			continue;
		cp[strcspn(cp, "\n")] = '\0';
		if ((eq = strchr(cp, '=')) == NULL) {
			env_note("Bad line %u in %.100s\n", lineno, path);
			continue;
		}
		*eq = '\0';
		if (!user_env_allowed(l, cp))
			continue;
		if ((r = session_env_add(envp, n, cp, eq + 1)) != 0)
			break;
	}
	free(line);
	fclose(f);
	return r;
}

static const char *
nonempty(const char *s, const char *dflt)
{
	return s != NULL && *s != '\0' ? s : dflt;
}

int
session_env_build(const struct session_ctx *ctx, const struct session_child *ch,
    const char *shell, const char *original, const struct session_pty *pty,
    char ***envp)
{
	const struct session_login *l = ctx->login;
	const char *caddr = nonempty(ctx->client_addr, "UNKNOWN");
	/* Empty for an unnamed Unix socket, as in sshd's SSH_CONNECTION. */
	const char *saddr =
	    ctx->server_addr != NULL ? ctx->server_addr : "UNKNOWN";
	/* As sshd: an empty home field is an empty HOME (the session runs
	 * in / after "Could not chdir to home directory : ..."). */
	const char *home = ctx->home != NULL ? ctx->home : "";
	char buf[512], **env = NULL;
	size_t n = 0, i;
	int r = ERR_ALLOC;

	env_notes[0] = '\0';
	if ((env = calloc(1, sizeof(*env))) == NULL)
		return ERR_ALLOC;
	/* The client's first: the login variables override them. */
	for (i = 0; ch != NULL && i < ch->nenv; i++)
		if ((r = env_add_pair(&env, &n, ch->env[i])) != 0)
			goto fail;
	if ((r = session_env_add(&env, &n, "USER", ctx->user)) != 0 ||
	    (r = session_env_add(&env, &n, "LOGNAME", ctx->user)) != 0 ||
	    (r = session_env_add(&env, &n, "HOME", home)) != 0 ||
	    (r = session_env_add(&env, &n, "PATH",
	         ctx->uid == 0 ? ENV_PATH_ROOT : ENV_PATH_USER)) != 0)
		goto fail;
	/* With UsePAM, pam_mail sets MAIL (as sshd leaves it to PAM). */
	if (l == NULL || !(l->flags & LOGIN_F_USE_PAM)) {
		snprintf(buf, sizeof(buf), "%s/%s", ENV_MAILDIR, ctx->user);
		if ((r = session_env_add(&env, &n, "MAIL", buf)) != 0)
			goto fail;
	}
	if ((r = session_env_add(&env, &n, "SHELL", shell)) != 0)
		goto fail;
	if (getenv("TZ") != NULL &&
	    (r = session_env_add(&env, &n, "TZ", getenv("TZ"))) != 0)
		goto fail;
	if (pty != NULL && pty->term != NULL && pty->term[0] != '\0' &&
	    (r = session_env_add(&env, &n, "TERM", pty->term)) != 0)
		goto fail;
	if (ch != NULL && ch->display != NULL &&
	    (r = session_env_add(&env, &n, "DISPLAY", ch->display)) != 0)
		goto fail;
	/* PermitUserEnvironment: environment= options, ~/.ssh/environment. */
	if (ch != NULL && ch->agent_sock != NULL &&
	    (r = session_env_add(&env, &n, "SSH_AUTH_SOCK", ch->agent_sock)) !=
	        0)
		goto fail;
	if (l != NULL && l->permit_user_env != NULL &&
	    l->permit_user_env[0] != '\0') {
		for (i = 0; ctx->opts != NULL && i < ctx->opts->nenv; i++) {
			size_t nl = name_len(ctx->opts->env[i]);
			char *name = strndup(ctx->opts->env[i], nl);

			if (name == NULL) {
				r = ERR_ALLOC;
				goto fail;
			}
			r = user_env_allowed(l, name)
			    ? env_add_pair(&env, &n, ctx->opts->env[i])
			    : 0;
			free(name);
			if (r != 0)
				goto fail;
		}
		if ((r = read_env_file(l, home, &env, &n)) != 0)
			goto fail;
	}
	/* UsePAM: what PAM's modules set, less what it must not. */
	for (i = 0; i < ctx->npam_env; i++) {
		char *name =
		    strndup(ctx->pam_env[i], name_len(ctx->pam_env[i]));

		if (name == NULL) {
			r = ERR_ALLOC;
			goto fail;
		}
		r = match_pattern_list(name, ENV_PAM_DENY, 0) == 1
		    ? 0
		    : env_add_pair(&env, &n, ctx->pam_env[i]);
		free(name);
		if (r != 0)
			goto fail;
	}
	/* SetEnv overrides all of the above. */
	for (i = 0; l != NULL && i < l->nset_env; i++)
		if ((r = env_add_pair(&env, &n, l->set_env[i])) != 0)
			goto fail;
	snprintf(buf, sizeof(buf), "%.50s %d %d", caddr, ctx->client_port,
	    ctx->server_port);
	if ((r = session_env_add(&env, &n, "SSH_CLIENT", buf)) != 0)
		goto fail;
	snprintf(buf, sizeof(buf), "%.64s %d %.110s %d", caddr,
	    ctx->client_port, saddr, ctx->server_port);
	if ((r = session_env_add(&env, &n, "SSH_CONNECTION", buf)) != 0)
		goto fail;
	if (ctx->tun_names != NULL &&
	    (r = session_env_add(&env, &n, "SSH_TUNNEL", ctx->tun_names)) != 0)
		goto fail;
	if (l != NULL && l->auth_file != NULL &&
	    (r = session_env_add(&env, &n, "SSH_USER_AUTH", l->auth_file)) != 0)
		goto fail;
	if (pty != NULL &&
	    (r = session_env_add(&env, &n, "SSH_TTY", pty->name)) != 0)
		goto fail;
	if (original != NULL &&
	    (r = session_env_add(&env, &n, "SSH_ORIGINAL_COMMAND", original)) !=
	        0)
		goto fail;
	*envp = env;
	return 0;
fail:
	session_env_free(env, n);
	return r;
}
