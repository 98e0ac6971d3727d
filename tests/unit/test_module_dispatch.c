/*
 * test_module_dispatch.c: which publickey module judges a request
 * (monitor/modules.c modules_find_key, ABI 3 key_algs): certificates go to
 * the module that lists them, everything else to the one that lists
 * nothing, and a module of ABI 1 or 2 is never read past its end.
 */
#include <string.h>

#include "monitor/modules.h"
#include "tests/unit/t.h"

static int
req(void *st, const struct pm_conn *c, const uint8_t *d, size_t n,
    struct pm_result *res)
{
	return 0;
}

static const struct pm_module plain = {
    .abi = POSTERN_MODULE_ABI, .method = "publickey", .request = req};
static const struct pm_module cert = {.abi = POSTERN_MODULE_ABI,
    .method = "publickey",
    .request = req,
    .key_algs = "*-cert-v01@openssh.com"};
static const struct pm_module kbd = {.abi = POSTERN_MODULE_ABI,
    .method = "keyboard-interactive",
    .submethod = "x",
    .request = req};
/* Claims ABI 2, whose descriptor ends before key_algs: the monitor must
 * not read the field (here it holds a value to be ignored). */
static const struct pm_module old = {
    .abi = 2, .method = "publickey", .request = req, .key_algs = "ssh-ed25519"};

int
main(void)
{
	struct module_set ms;

	memset(&ms, 0, sizeof(ms));
	ms.mods[ms.n++] = &kbd;
	ms.mods[ms.n++] = &cert;
	ms.mods[ms.n++] = &plain;
	T_CHECK("a certificate goes to the module listing certificates",
	    modules_find_key(&ms, "ssh-ed25519-cert-v01@openssh.com") ==
	            &cert &&
	        modules_find_key(&ms,
	            "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com") == &cert);
	T_CHECK("a plain key goes to the module listing nothing",
	    modules_find_key(&ms, "ssh-ed25519") == &plain &&
	        modules_find_key(&ms, "sk-ssh-ed25519@openssh.com") == &plain &&
	        modules_find_key(&ms, "rsa-sha2-512") == &plain);
	T_CHECK("an unknown algorithm goes to the catch-all too",
	    modules_find_key(&ms, "ssh-dss") == &plain);
	ms.n = 2; /* kbd, cert: no catch-all */
	T_CHECK("without publickey.so a plain key has no module",
	    modules_find_key(&ms, "ssh-ed25519") == NULL &&
	        modules_find_key(&ms, "ssh-ed25519-cert-v01@openssh.com") ==
	            &cert);
	ms.n = 0;
	ms.mods[ms.n++] = &plain;
	T_CHECK("without cert.so a certificate reaches the catch-all, which "
	        "refuses it",
	    modules_find_key(&ms, "ssh-ed25519-cert-v01@openssh.com") ==
	        &plain);
	ms.n = 0;
	ms.mods[ms.n++] = &old;
	T_CHECK("an ABI 2 module's key_algs is not read: it takes everything",
	    modules_find_key(&ms, "ecdsa-sha2-nistp256") == &old &&
	        modules_find_key(&ms, "ssh-ed25519-cert-v01@openssh.com") ==
	            &old);
	ms.n = 0;
	ms.mods[ms.n++] = &kbd;
	T_CHECK("a keyboard-interactive module never judges publickey",
	    modules_find_key(&ms, "ssh-ed25519") == NULL);
	return T_DONE();
}
