/*
 * authchain.h: AuthenticationMethods state for one connection. A comma
 * means every method in order, whitespace separates alternative lists,
 * "method:submethod" names a device. The monitor owns this state.
 */
#ifndef POSTERN_AUTHCHAIN_H
#define POSTERN_AUTHCHAIN_H

#include <stddef.h>

#define AUTHCHAIN_MAX_LISTS 64
#define AUTHCHAIN_MAX_STEPS 16

struct authchain_list {
	char *steps
	    [AUTHCHAIN_MAX_STEPS]; /* "publickey", "keyboard-interactive:pam" */
	size_t nsteps;
	size_t done; /* steps completed, in order */
};

struct authchain {
	int any; /* no AuthenticationMethods (or "any"): one method suffices */
	struct authchain_list lists[AUTHCHAIN_MAX_LISTS];
	size_t nlists;
};

/*
 * authchain_init: from the config's AuthenticationMethods elements (each
 * one comma-separated list). ERR_CONFIG for a malformed list.
 */
int authchain_init(struct authchain *ac, char *const *lists, size_t n);
void authchain_free(struct authchain *ac);

/* authchain_drop_list: list i is no longer a way in (the later ones move
 * down one). */
void authchain_drop_list(struct authchain *ac, size_t i);

/* 1 if method, with any submethod, is the next step of some list (or
 * any): sshd's auth2_method_allowed() without a submethod. */
int authchain_allows_method(const struct authchain *ac, const char *method);
/* 1 if the next step of some list is method:submethod itself (not a
 * bare method, not any). */
int authchain_names(
    const struct authchain *ac, const char *method, const char *submethod);
/* 1 if method[:submethod] is the next step of some list (or any). */
int authchain_allowed(
    const struct authchain *ac, const char *method, const char *submethod);

/*
 * authchain_success: method[:submethod] succeeded; advance every list whose
 * next step it is. Returns 1 when a list is complete (authenticated), 0 for
 * partial success.
 */
int authchain_success(
    struct authchain *ac, const char *method, const char *submethod);

/*
 * authchain_methods: the comma-separated method names (no submethods) of
 * enabled[] that can continue some list, in enabled[] order, into out.
 */
void authchain_methods(const struct authchain *ac, const char *const *enabled,
    size_t nenabled, char *out, size_t outlen);

#endif
