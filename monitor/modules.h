/* modules.h: loading authentication method modules into the monitor. */
#ifndef POSTERN_MODULES_H
#define POSTERN_MODULES_H

#include <stddef.h>

#include "modules/postern_module.h"

#define MODULES_MAX 32

struct module_set {
	const struct pm_module *mods[MODULES_MAX];
	void *handles[MODULES_MAX];
	char *names[MODULES_MAX];
	size_t n;
	/* Policy modules (ABI 3: check_method, no method). */
	const struct pm_module *policies[MODULES_MAX];
	void *policy_handles[MODULES_MAX];
	size_t npolicies;
};

/*
 * The module directory: modules/ next to posternd when run from the build
 * tree, else the installed one.
 */
int modules_dir(char *out, size_t outlen);

/*
 * modules_load: dlopen every *.so in dir, in name order. The directory and
 * each file must be root-owned (when running as root) and not group- or
 * world-writable, and each must export a descriptor of this ABI version;
 * anything else is refused with a log line saying which and why (at
 * debug level when quiet: the listener already said it at start).
 * Returns the number loaded, or a negative error when the directory
 * itself cannot be trusted.
 */
int modules_load(const char *dir, struct module_set *ms, int quiet);
void modules_free(struct module_set *ms);

/* The module for method[:submethod]; submethod NULL matches any. */
const struct pm_module *modules_find(
    const struct module_set *ms, const char *method, const char *submethod);

/*
 * The publickey module that judges requests of algorithm alg: the first
 * whose key_algs lists it, else the first that lists none. NULL if none.
 */
const struct pm_module *modules_find_key(
    const struct module_set *ms, const char *alg);

#endif
