/*
 * config_source.c: the configuration as read from disk: the main file and
 * every file an Include names (globbed, sorted, nested to OpenSSH's depth
 * limit), and its wire form for the hand-over to each connection.
 */
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "policy/config_int.h"

#define SOURCE_MAGIC 0x70636631u          /* "pcf1" */
#define SOURCE_TEXT_MAX (8 * 1024 * 1024) /* all files of one source */
#define SOURCE_PATH_MAX 4096

struct builder {
	struct config_source *src;
	const struct cfg_reader *rd;
};

static int scan_file(struct builder *b, size_t idx, int depth);

/* A SIGHUP's read (config_source_read_reload): a daemon's stderr may go
 * nowhere, so a file that cannot be opened is also logged. */
static int reading_reload;

int
cfg_read_file(const char *path, char **textp, size_t *lenp)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, n;
	int r;

	*textp = NULL;
	*lenp = 0;
	if ((f = fopen(path, "r")) == NULL) {
		int e = errno;

		/* sshd's perror(): on stderr whatever -q, -e or -E say, and
		 * ending in "\n", not a log line's "\r\n". */
		fprintf(stderr, "%s: %s\n", path, strerror(e));
		if (reading_reload)
			error("%s: %s", path, strerror(e));
		return e == ENOENT ? ERR_NOT_FOUND : ERR_SYSTEM;
	}
	if ((text = malloc(CONFIG_TEXT_MAX + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	while ((n = fread(text + len, 1, CONFIG_TEXT_MAX + 1 - len, f)) > 0)
		len += n;
	/* sshd reads a directory (e.g. a conf.d/x.conf one) as empty. */
	if (ferror(f) && !(errno == EISDIR && len == 0)) {
		error("%s: read error: %s", path, strerror(errno));
		r = ERR_SYSTEM;
		goto out;
	}
	if (len > CONFIG_TEXT_MAX) {
		error("%s: file too large", path);
		r = ERR_TOO_BIG;
		goto out;
	}
	text[len] = '\0';
	/* Keep only what the file needs: every connection holds a copy. */
	if ((*textp = realloc(text, len + 1)) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	*lenp = len;
	text = NULL;
	r = 0;
out:
	free(text);
	fclose(f);
	return r;
}

int
cfg_include_selector(const char *arg, char **out)
{
	/* sshd resolves a relative pattern against its config directory. */
	if (arg[0] != '/' && arg[0] != '~') {
		if (asprintf(out, "%s/%s", POSTERN_SYSCONFDIR, arg) < 0) {
			*out = NULL;
			return ERR_ALLOC;
		}
		return 0;
	}
	return (*out = strdup(arg)) == NULL ? ERR_ALLOC : 0;
}

const struct config_include *
cfg_source_include(const struct config_source *src, const char *selector)
{
	size_t i;

	for (i = 0; i < src->nincs; i++) {
		if (strcmp(src->incs[i].selector, selector) == 0)
			return &src->incs[i];
	}
	return NULL;
}

/*
 * The text as sshd's load_server_config() keeps a file: each line without
 * its leading spaces, tabs and CRs, and up to its first NUL byte, where
 * the line's newline goes too (so the next line continues it: sshd reads
 * "Port 22<NUL>x<LF>Port 23" as "Port 22Port 23"). The new length.
 */
static size_t
sshd_lines(char *text, size_t len)
{
	size_t i = 0, o = 0, end, keep;
	char *nul;

	while (i < len) {
		while (i < len &&
		    (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
			i++;
		for (end = i; end < len && text[end] != '\n'; end++)
			;
		if (end < len)
			end++; /* the newline */
		/* Up to a NUL, which takes the newline with it. */
		nul = memchr(text + i, '\0', end - i);
		keep = nul != NULL ? (size_t)(nul - (text + i)) : end - i;
		memmove(text + o, text + i, keep);
		o += keep;
		i = end;
	}
	text[o] = '\0';
	return o;
}

/* add_file: takes text; its index in *idxp. */
static int
add_file(struct config_source *src, const char *path, char *text, size_t len,
    size_t *idxp)
{
	struct config_file *nf;
	char *p;

	len = sshd_lines(text, len);
	if (src->nfiles >= CFG_MAX_FILES) {
		error("%s: too many configuration files", path);
		free(text);
		return ERR_TOO_BIG;
	}
	if (strlen(path) >= SOURCE_PATH_MAX || len > CONFIG_TEXT_MAX ||
	    src->total + len > SOURCE_TEXT_MAX) {
		error("%s: configuration too large", path);
		free(text);
		return ERR_TOO_BIG;
	}
	if ((p = strdup(path)) == NULL ||
	    (nf = reallocarray(src->files, src->nfiles + 1, sizeof(*nf))) ==
	        NULL) {
		free(p);
		free(text);
		return ERR_ALLOC;
	}
	src->files = nf;
	nf[src->nfiles].path = p;
	nf[src->nfiles].text = text;
	nf[src->nfiles].len = len;
	*idxp = src->nfiles++;
	src->total += len;
	return 0;
}

static void
free_paths(char **paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* include_one: read what one Include argument names, once per pattern. */
static int
include_one(struct builder *b, const char *arg, const char *filename,
    int lineno, int depth)
{
	struct config_source *src = b->src;
	struct config_include *ni;
	char *selector = NULL, **paths = NULL, *text;
	size_t npaths = 0, *idxs = NULL, i, len;
	int r;

	if ((r = cfg_include_selector(arg, &selector)) != 0)
		return r;
	if (cfg_source_include(src, selector) != NULL) {
		free(selector);
		return 0;
	}
	if (strlen(selector) >= SOURCE_PATH_MAX) {
		error("%s line %d: include \"%s\" glob failed", filename,
		    lineno, selector);
		r = ERR_CONFIG;
		goto out;
	}
	if ((r = b->rd->glob(b->rd->ctx, selector, &paths, &npaths)) != 0) {
		error("%s line %d: include \"%s\" glob failed", filename,
		    lineno, selector);
		r = ERR_CONFIG;
		goto out;
	}
	if (npaths > 0 && (idxs = calloc(npaths, sizeof(*idxs))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < npaths; i++) {
		/* sshd's words, then which line went too deep. */
		if (depth + 1 > CFG_MAX_DEPTH) {
			error("Too many recursive configuration includes");
			error("%s line %d: Include %s: more than %d levels of "
			      "Include",
			    filename, lineno, paths[i], CFG_MAX_DEPTH);
			r = ERR_CONFIG;
			goto out;
		}
		if ((r = b->rd->read(b->rd->ctx, paths[i], &text, &len)) != 0 ||
		    (r = add_file(src, paths[i], text, len, &idxs[i])) != 0 ||
		    (r = scan_file(b, idxs[i], depth + 1)) != 0)
			goto out;
	}
	/* As OpenSSH's include cache: recorded once its files are read. */
	if (cfg_source_include(src, selector) != NULL) {
		r = 0;
		goto out;
	}
	if (src->nincs >= CFG_MAX_INCLUDES) {
		error(
		    "%s line %d: too many Include patterns", filename, lineno);
		r = ERR_TOO_BIG;
		goto out;
	}
	if ((ni = reallocarray(src->incs, src->nincs + 1, sizeof(*ni))) ==
	    NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	src->incs = ni;
	ni[src->nincs].selector = selector;
	ni[src->nincs].files = idxs;
	ni[src->nincs].nfiles = npaths;
	src->nincs++;
	selector = NULL;
	idxs = NULL;
	r = 0;
out:
	free_paths(paths, npaths);
	free(idxs);
	free(selector);
	return r;
}

/*
 * scan_file: every Include line of one file, tokenised as the parser
 * will, whether or not inside a Match block (sshd reads those too).
 */
static int
scan_file(struct builder *b, size_t idx, int depth)
{
	/* The files array may move while scanning; these strings do not. */
	const char *text = b->src->files[idx].text;
	const char *path = b->src->files[idx].path;
	const char *p = text, *end = text + b->src->files[idx].len, *nl;
	struct cfg_args a;
	char *line = NULL, *kw, *rest;
	int lineno = 0, r = 0, i;

	memset(&a, 0, sizeof(a));
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		free(line);
		if ((line = strndup(p, (size_t)(nl - p))) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		p = nl < end ? nl + 1 : end;
		lineno++;
		if (cfg_split_line(line, &kw, &rest) != 0 || kw == NULL ||
		    strcasecmp(kw, "include") != 0 || rest == NULL)
			continue;
		/* Malformed lines are left for the parser to report. */
		if (cfg_split_args(rest, &a) != 0) {
			cfg_free_args(&a);
			continue;
		}
		for (i = 0; i < a.ac; i++) {
			if (*a.av[i] == '\0')
				continue;
			if ((r = include_one(
			         b, a.av[i], path, lineno, depth)) != 0)
				goto out;
		}
		cfg_free_args(&a);
	}
out:
	cfg_free_args(&a);
	free(line);
	return r;
}

int
cfg_source_build(
    const char *path, const struct cfg_reader *rd, struct config_source **srcp)
{
	struct builder b;
	char *text;
	size_t len, idx;
	int r;

	*srcp = NULL;
	if ((b.src = calloc(1, sizeof(*b.src))) == NULL)
		return ERR_ALLOC;
	b.rd = rd;
	if ((r = rd->read(rd->ctx, path, &text, &len)) != 0 ||
	    (r = add_file(b.src, path, text, len, &idx)) != 0 ||
	    (r = scan_file(&b, idx, 0)) != 0) {
		config_source_free(b.src);
		return r;
	}
	*srcp = b.src;
	return 0;
}

/* --- the filesystem ------------------------------------------------------- */

static int
fs_glob(void *ctx, const char *pattern, char ***pathsp, size_t *np)
{
	glob_t g;
	char **paths;
	size_t i;
	int r;

	(void)ctx;
	*pathsp = NULL;
	*np = 0;
	memset(&g, 0, sizeof(g));
	if ((r = glob(pattern, 0, NULL, &g)) == GLOB_NOMATCH)
		return 0;
	if (r != 0) {
		globfree(&g);
		return ERR_SYSTEM;
	}
	if (g.gl_pathc > CFG_MAX_FILES ||
	    (paths = calloc(g.gl_pathc + 1, sizeof(*paths))) == NULL) {
		globfree(&g);
		return ERR_TOO_BIG;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		if ((paths[i] = strdup(g.gl_pathv[i])) == NULL) {
			free_paths(paths, i);
			globfree(&g);
			return ERR_ALLOC;
		}
	}
	*pathsp = paths;
	*np = g.gl_pathc;
	globfree(&g);
	return 0;
}

static int
fs_read(void *ctx, const char *path, char **textp, size_t *lenp)
{
	(void)ctx;
	return cfg_read_file(path, textp, lenp);
}

static const struct cfg_reader fs_reader = {fs_glob, fs_read, NULL};

int
config_source_read_reload(const char *path, struct config_source **srcp)
{
	int r;

	reading_reload = 1;
	r = config_source_read(path, srcp);
	reading_reload = 0;
	return r;
}

int
config_source_read(const char *path, struct config_source **srcp)
{
	return cfg_source_build(path, &fs_reader, srcp);
}

/* --- memory (tests, fuzzing) ---------------------------------------------- */

struct memfs {
	const struct cfg_memfile *files;
	size_t n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
mem_glob(void *ctx, const char *pattern, char ***pathsp, size_t *np)
{
	const struct memfs *m = ctx;
	char **paths;
	size_t i, n = 0;

	*pathsp = NULL;
	*np = 0;
	if ((paths = calloc(m->n + 1, sizeof(*paths))) == NULL)
		return ERR_ALLOC;
	for (i = 0; i < m->n; i++) {
		if (fnmatch(pattern, m->files[i].path,
		        FNM_PATHNAME | FNM_PERIOD) != 0)
			continue;
		if ((paths[n] = strdup(m->files[i].path)) == NULL) {
			free_paths(paths, n);
			return ERR_ALLOC;
		}
		n++;
	}
	qsort(paths, n, sizeof(*paths), cmp_str);
	*pathsp = paths;
	*np = n;
	return 0;
}

static int
mem_read(void *ctx, const char *path, char **textp, size_t *lenp)
{
	const struct memfs *m = ctx;
	size_t i;

	*textp = NULL;
	*lenp = 0;
	for (i = 0; i < m->n; i++) {
		if (strcmp(m->files[i].path, path) != 0)
			continue;
		if (m->files[i].len > CONFIG_TEXT_MAX) {
			error("%s: file too large", path);
			return ERR_TOO_BIG;
		}
		if ((*textp = malloc(m->files[i].len + 1)) == NULL)
			return ERR_ALLOC;
		if (m->files[i].len > 0)
			memcpy(*textp, m->files[i].text, m->files[i].len);
		(*textp)[m->files[i].len] = '\0';
		*lenp = m->files[i].len;
		return 0;
	}
	error("%s: %s", path, strerror(ENOENT));
	return ERR_NOT_FOUND;
}

int
cfg_source_from_memory(
    const struct cfg_memfile *files, size_t n, struct config_source **srcp)
{
	struct memfs m = {files, n};
	struct cfg_reader rd = {mem_glob, mem_read, &m};

	*srcp = NULL;
	if (n == 0)
		return ERR_NOT_FOUND;
	return cfg_source_build(files[0].path, &rd, srcp);
}

/* --- wire form ------------------------------------------------------------ */

int
config_source_serialize(const struct config_source *src, struct buf *out)
{
	size_t i, j;
	int r;

	if ((r = buf_put_u32(out, SOURCE_MAGIC)) != 0 ||
	    (r = buf_put_u32(out, (uint32_t)src->nfiles)) != 0)
		return r;
	for (i = 0; i < src->nfiles; i++) {
		if ((r = buf_put_cstring(out, src->files[i].path)) != 0 ||
		    (r = buf_put_string(
		         out, src->files[i].text, src->files[i].len)) != 0)
			return r;
	}
	if ((r = buf_put_u32(out, (uint32_t)src->nincs)) != 0)
		return r;
	for (i = 0; i < src->nincs; i++) {
		if ((r = buf_put_cstring(out, src->incs[i].selector)) != 0 ||
		    (r = buf_put_u32(out, (uint32_t)src->incs[i].nfiles)) != 0)
			return r;
		for (j = 0; j < src->incs[i].nfiles; j++) {
			if ((r = buf_put_u32(
			         out, (uint32_t)src->incs[i].files[j])) != 0)
				return r;
		}
	}
	return 0;
}

int
config_source_deserialize(struct buf *in, struct config_source **srcp)
{
	struct config_source *src = NULL;
	struct config_include *inc;
	uint32_t magic, n, m, idx, i, j;
	uint8_t *text = NULL;
	char *path = NULL;
	size_t len, fidx;
	int r;

	*srcp = NULL;
	if ((src = calloc(1, sizeof(*src))) == NULL)
		return ERR_ALLOC;
	if ((r = buf_get_u32(in, &magic)) != 0 ||
	    (r = buf_get_u32(in, &n)) != 0)
		goto out;
	if (magic != SOURCE_MAGIC || n == 0 || n > CFG_MAX_FILES) {
		r = ERR_FORMAT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(in, &path, NULL)) != 0 ||
		    (r = buf_get_string(in, &text, &len)) != 0)
			goto out;
		r = add_file(src, path, (char *)text, len, &fidx);
		text = NULL; /* add_file owns it now */
		free(path);
		path = NULL;
		if (r != 0)
			goto out;
	}
	if ((r = buf_get_u32(in, &n)) != 0)
		goto out;
	if (n > CFG_MAX_INCLUDES) {
		r = ERR_FORMAT;
		goto out;
	}
	if (n > 0 && (src->incs = calloc(n, sizeof(*src->incs))) == NULL) {
		r = ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		inc = &src->incs[src->nincs++];
		if ((r = buf_get_cstring(in, &inc->selector, NULL)) != 0 ||
		    (r = buf_get_u32(in, &m)) != 0)
			goto out;
		if (m > CFG_MAX_FILES) {
			r = ERR_FORMAT;
			goto out;
		}
		if (m > 0 &&
		    (inc->files = calloc(m, sizeof(*inc->files))) == NULL) {
			r = ERR_ALLOC;
			goto out;
		}
		for (j = 0; j < m; j++) {
			if ((r = buf_get_u32(in, &idx)) != 0)
				goto out;
			if (idx >= src->nfiles) {
				r = ERR_FORMAT;
				goto out;
			}
			inc->files[inc->nfiles++] = idx;
		}
	}
	if ((r = buf_end(in)) != 0)
		goto out;
	/* The listener reported the ignored keywords when it read these. */
	src->quiet = 1;
	*srcp = src;
	src = NULL;
out:
	free(path);
	free(text);
	config_source_free(src);
	return r;
}

void
config_source_set_quiet(struct config_source *src, int quiet)
{
	src->quiet = quiet;
}

void
config_source_set_reload(struct config_source *src)
{
	src->reload = 1;
}

void
config_source_free(struct config_source *src)
{
	size_t i;

	if (src == NULL)
		return;
	for (i = 0; i < src->nfiles; i++) {
		free(src->files[i].path);
		free(src->files[i].text);
	}
	for (i = 0; i < src->nincs; i++) {
		free(src->incs[i].selector);
		free(src->incs[i].files);
	}
	free(src->files);
	free(src->incs);
	free(src);
}
