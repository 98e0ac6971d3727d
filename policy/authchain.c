/* authchain.c: AuthenticationMethods lists, advanced as OpenSSH's auth2.c. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "policy/authchain.h"

void
authchain_free(struct authchain *ac)
{
	size_t i, j;

	for (i = 0; i < ac->nlists; i++)
		for (j = 0; j < ac->lists[i].nsteps; j++)
			free(ac->lists[i].steps[j]);
	memset(ac, 0, sizeof(*ac));
}

int
authchain_init(struct authchain *ac, char *const *lists, size_t n)
{
	struct authchain_list *l;
	char *copy, *tok, *save;
	size_t i;

	memset(ac, 0, sizeof(*ac));
	if (n == 0 || (n == 1 && strcmp(lists[0], "any") == 0)) {
		ac->any = 1;
		return 0;
	}
	if (n > AUTHCHAIN_MAX_LISTS)
		return ERR_CONFIG;
	for (i = 0; i < n; i++) {
		size_t len = strlen(lists[i]);

		/* strtok would skip empty steps; refuse them instead. */
		if (len == 0 || lists[i][0] == ',' ||
		    lists[i][len - 1] == ',' || strstr(lists[i], ",,") != NULL)
			goto fail;
		l = &ac->lists[ac->nlists++];
		if ((copy = strdup(lists[i])) == NULL)
			goto fail;
		save = NULL;
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (l->nsteps >= AUTHCHAIN_MAX_STEPS ||
			    (l->steps[l->nsteps] = strdup(tok)) == NULL) {
				free(copy);
				goto fail;
			}
			l->nsteps++;
		}
		free(copy);
		if (l->nsteps == 0)
			goto fail;
	}
	return 0;
fail:
	authchain_free(ac);
	return ERR_CONFIG;
}

void
authchain_drop_list(struct authchain *ac, size_t i)
{
	size_t j;

	if (i >= ac->nlists)
		return;
	for (j = 0; j < ac->lists[i].nsteps; j++)
		free(ac->lists[i].steps[j]);
	memmove(&ac->lists[i], &ac->lists[i + 1],
	    (ac->nlists - i - 1) * sizeof(ac->lists[0]));
	ac->nlists--;
	memset(&ac->lists[ac->nlists], 0, sizeof(ac->lists[0]));
}

/*
 * A step "m:s" accepts m with submethod s. A bare "m" accepts m with its
 * default device only: no submethod, or PAM's (keyboard-interactive's
 * one device in sshd), never a device that only a list naming it may use
 * (docs/modules.md): a TOTP code must not complete a step that stands
 * for the PAM stack.
 */
static int
step_matches(const char *step, const char *method, const char *submethod)
{
	size_t mlen = strlen(method);

	if (strncmp(step, method, mlen) != 0)
		return 0;
	if (step[mlen] == '\0')
		return submethod == NULL || strcmp(submethod, "pam") == 0;
	return step[mlen] == ':' && submethod != NULL &&
	    strcmp(step + mlen + 1, submethod) == 0;
}

static const char *
next_step(const struct authchain_list *l)
{
	return l->done < l->nsteps ? l->steps[l->done] : NULL;
}

/* 1 if step is method, bare or with any submethod (the third argument
 * is step_matches()'s, unused). */
static int
step_is_method(const char *step, const char *method, const char *unused)
{
	size_t mlen = strlen(method);

	(void)unused;
	return strncmp(step, method, mlen) == 0 &&
	    (step[mlen] == '\0' || step[mlen] == ':');
}

/* 1 under any, or if match() takes the next step of some list. */
static int
some_next_step(const struct authchain *ac,
    int (*match)(const char *, const char *, const char *), const char *method,
    const char *submethod)
{
	size_t i;
	const char *s;

	if (ac->any)
		return 1;
	for (i = 0; i < ac->nlists; i++)
		if ((s = next_step(&ac->lists[i])) != NULL &&
		    match(s, method, submethod))
			return 1;
	return 0;
}

int
authchain_allowed(
    const struct authchain *ac, const char *method, const char *submethod)
{
	return some_next_step(ac, step_matches, method, submethod);
}

int
authchain_allows_method(const struct authchain *ac, const char *method)
{
	return some_next_step(ac, step_is_method, method, NULL);
}

int
authchain_names(
    const struct authchain *ac, const char *method, const char *submethod)
{
	size_t i;
	const char *s;

	/* step_matches() without its bare "m", which takes PAM's device. */
	for (i = 0; !ac->any && i < ac->nlists; i++)
		if ((s = next_step(&ac->lists[i])) != NULL &&
		    strchr(s, ':') != NULL &&
		    step_matches(s, method, submethod))
			return 1;
	return 0;
}

int
authchain_success(
    struct authchain *ac, const char *method, const char *submethod)
{
	size_t i;
	const char *s;
	int complete = 0;

	if (ac->any)
		return 1;
	for (i = 0; i < ac->nlists; i++) {
		s = next_step(&ac->lists[i]);
		if (s == NULL || !step_matches(s, method, submethod))
			continue;
		if (++ac->lists[i].done == ac->lists[i].nsteps)
			complete = 1;
	}
	return complete;
}

/* 1 if some list's next step is method (with any submethod). */
static int
method_can_continue(const struct authchain *ac, const char *method)
{
	size_t i, mlen = strlen(method);
	const char *s;

	if (ac->any)
		return 1;
	for (i = 0; i < ac->nlists; i++) {
		if ((s = next_step(&ac->lists[i])) == NULL)
			continue;
		if (strncmp(s, method, mlen) == 0 &&
		    (s[mlen] == '\0' || s[mlen] == ':'))
			return 1;
	}
	return 0;
}

void
authchain_methods(const struct authchain *ac, const char *const *enabled,
    size_t nenabled, char *out, size_t outlen)
{
	size_t i, o = 0, n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < nenabled; i++) {
		if (!method_can_continue(ac, enabled[i]))
			continue;
		n = strlen(enabled[i]);
		if (o + n + (o > 0) + 1 > outlen)
			break;
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, enabled[i], n + 1);
		o += n;
	}
}
