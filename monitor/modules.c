/*
 * modules.c: find, check and dlopen authentication method modules. Only
 * root-owned, non-writable files in a root-owned, non-writable directory
 * are loaded; nothing a peer sends chooses a file.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "match.h"
#include "monitor/modules.h"

#ifndef POSTERN_MODULEDIR
#define POSTERN_MODULEDIR POSTERN_LIBEXECDIR "/modules"
#endif

int
modules_dir(char *out, size_t outlen)
{
	char self[PATH_MAX];
	struct stat st;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(out, outlen, "%s/modules", dirname(self));
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	snprintf(out, outlen, "%s", POSTERN_MODULEDIR);
	return 0;
}

/* Root-owned (when we are root) and writable by nobody else. */
static const char *
untrusted(const struct stat *st)
{
	if (getuid() == 0 && st->st_uid != 0)
		return "not owned by root";
	if (getuid() != 0 && st->st_uid != 0 && st->st_uid != getuid())
		return "owned by another user";
	if (st->st_mode & 022)
		return "group or world writable";
	return NULL;
}

/*
 * The directories above a module directory: whoever may rename one of
 * them can put another directory in the module directory's place. Each
 * must be trusted as the directory itself is, except that a sticky one
 * (/tmp) is fine: there only the owner of an entry, checked one level
 * down, may rename it. Returns the reason and sets *where, or NULL.
 */
static const char *
untrusted_ancestor(const char *dir, char *where, size_t wherelen)
{
	char path[PATH_MAX];
	struct stat st;
	const char *why;
	char *slash;

	if (realpath(dir, path) == NULL) {
		snprintf(where, wherelen, "%s", dir);
		return "not resolvable to a path";
	}
	for (;;) {
		if ((slash = strrchr(path, '/')) == NULL || path[1] == '\0')
			return NULL;
		slash[slash == path ? 1 : 0] = '\0';
		if (stat(path, &st) != 0) {
			snprintf(where, wherelen, "%s", path);
			return "not readable";
		}
		/* root-owned and sticky: only its writability is at fault */
		if (st.st_uid == 0 && (st.st_mode & S_ISVTX))
			continue;
		if ((why = untrusted(&st)) != NULL) {
			snprintf(where, wherelen, "%s", path);
			return why;
		}
	}
}

/* The publickey algorithms a module lists (ABI 3), or NULL: the rest. */
static const char *
key_algs(const struct pm_module *m)
{
	return m->abi >= 3 ? m->key_algs : NULL;
}

/* 1 if a module for the same method:submethod is already loaded. */
static int
already_loaded(const struct module_set *ms, const struct pm_module *m)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		const struct pm_module *o = ms->mods[i];

		if (strcmp(o->method, m->method) != 0)
			continue;
		/* Key handlers share "publickey", each for its own keys. */
		if ((key_algs(o) == NULL) != (key_algs(m) == NULL) ||
		    (key_algs(o) != NULL &&
		        strcmp(key_algs(o), key_algs(m)) != 0))
			continue;
		if (o->submethod == NULL && m->submethod == NULL)
			return 1;
		if (o->submethod != NULL && m->submethod != NULL &&
		    strcmp(o->submethod, m->submethod) == 0)
			return 1;
	}
	return 0;
}

static int refuse_level = LL_ERROR;

#define refused(...) log_msg(refuse_level, __func__, 0, __VA_ARGS__)

static int
load_one(const char *dir, const char *name, struct module_set *ms)
{
	char path[PATH_MAX];
	const struct pm_module *m;
	struct stat st;
	const char *why;
	void *h;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return 0;
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		refused("module %s refused: not a regular file", path);
		return 0;
	}
	if ((why = untrusted(&st)) != NULL) {
		refused("module %s refused: %s", path, why);
		return 0;
	}
	if (ms->n >= MODULES_MAX) {
		refused("module %s refused: too many modules", path);
		return 0;
	}
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		refused("module %s refused: %s", path, dlerror());
		return 0;
	}
	if ((m = dlsym(h, POSTERN_MODULE_SYMBOL)) == NULL) {
		refused("module %s refused: no %s descriptor", path,
		    POSTERN_MODULE_SYMBOL);
		dlclose(h);
		return 0;
	}
	if (m->abi < POSTERN_MODULE_ABI_MIN || m->abi > POSTERN_MODULE_ABI) {
		refused(
		    "module %s refused: ABI version %u, this posternd speaks "
		    "%u",
		    path, m->abi, POSTERN_MODULE_ABI);
		dlclose(h);
		return 0;
	}
	if (m->method == NULL && m->abi >= 3 && m->check_method != NULL) {
		if (ms->npolicies >= MODULES_MAX) {
			refused("module %s refused: too many modules", path);
			dlclose(h);
			return 0;
		}
		ms->policies[ms->npolicies] = m;
		ms->policy_handles[ms->npolicies++] = h;
		debug("module %s: policy", path);
		return 1;
	}
	if (m->method == NULL || m->request == NULL ||
	    (key_algs(m) != NULL && strcmp(m->method, "publickey") != 0)) {
		refused("module %s refused: incomplete descriptor", path);
		dlclose(h);
		return 0;
	}
	if (already_loaded(ms, m)) {
		refused("module %s refused: method %s%s%s already provided",
		    path, m->method, m->submethod ? ":" : "",
		    m->submethod ? m->submethod : "");
		dlclose(h);
		return 0;
	}
	ms->mods[ms->n] = m;
	ms->handles[ms->n] = h;
	ms->names[ms->n] = strdup(name);
	ms->n++;
	debug("module %s: %s%s%s", path, m->method, m->submethod ? ":" : "",
	    m->submethod ? m->submethod : "");
	return 1;
}

static int
so_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 3 &&
	    strcmp(d->d_name + n - 3, ".so") == 0;
}

int
modules_load(const char *dir, struct module_set *ms, int quiet)
{
	struct dirent **list = NULL;
	char above[PATH_MAX];
	struct stat st;
	const char *why;
	int i, n, loaded = 0;

	memset(ms, 0, sizeof(*ms));
	refuse_level = quiet ? LL_DEBUG1 : LL_ERROR;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		error("module directory %s: %s", dir,
		    errno ? strerror(errno) : "not a directory");
		return ERR_NOT_FOUND;
	}
	if ((why = untrusted(&st)) != NULL) {
		error("module directory %s refused: %s", dir, why);
		return ERR_PERM;
	}
	if ((why = untrusted_ancestor(dir, above, sizeof(above))) != NULL) {
		error("module directory %s refused: %s is %s", dir, above, why);
		return ERR_PERM;
	}
	if ((n = scandir(dir, &list, so_filter, alphasort)) < 0) {
		error("module directory %s: %s", dir, strerror(errno));
		return ERR_SYSTEM;
	}
	for (i = 0; i < n; i++) {
		loaded += load_one(dir, list[i]->d_name, ms);
		free(list[i]);
	}
	free(list);
	return loaded;
}

void
modules_free(struct module_set *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		dlclose(ms->handles[i]);
		free(ms->names[i]);
	}
	for (i = 0; i < ms->npolicies; i++)
		dlclose(ms->policy_handles[i]);
	memset(ms, 0, sizeof(*ms));
}

const struct pm_module *
modules_find(
    const struct module_set *ms, const char *method, const char *submethod)
{
	size_t i;

	for (i = 0; i < ms->n; i++) {
		if (strcmp(ms->mods[i]->method, method) != 0)
			continue;
		if (submethod == NULL)
			return ms->mods[i];
		if (ms->mods[i]->submethod != NULL &&
		    strcmp(ms->mods[i]->submethod, submethod) == 0)
			return ms->mods[i];
		if (ms->mods[i]->submethod == NULL && submethod[0] == '\0')
			return ms->mods[i];
	}
	return NULL;
}

const struct pm_module *
modules_find_key(const struct module_set *ms, const char *alg)
{
	const struct pm_module *rest = NULL;
	size_t i;

	for (i = 0; i < ms->n; i++) {
		if (strcmp(ms->mods[i]->method, "publickey") != 0)
			continue;
		if (key_algs(ms->mods[i]) == NULL) {
			if (rest == NULL)
				rest = ms->mods[i];
		} else if (match_pattern_list(alg, key_algs(ms->mods[i]), 0) ==
		    1)
			return ms->mods[i];
	}
	return rest;
}
