/* test_authchain.c: AuthenticationMethods lists advanced as OpenSSH does. */
#include <string.h>

#include "policy/authchain.h"
#include "t.h"

static const char *const enabled[] = {
    "publickey", "password", "keyboard-interactive"};

static int
methods_are(const struct authchain *ac, const char *want)
{
	char out[256];

	authchain_methods(ac, enabled, 3, out, sizeof(out));
	if (strcmp(out, want) != 0)
		printf("# methods: got \"%s\" want \"%s\"\n", out, want);
	return strcmp(out, want) == 0;
}

int
main(void)
{
	struct authchain ac;
	char *any[] = {"any"};
	char *chain[] = {"publickey,keyboard-interactive:totp"};
	char *alts[] = {"publickey,password", "publickey,keyboard-interactive"};
	char *twice[] = {"publickey,publickey"};
	char *kbd[] = {"keyboard-interactive"};
	char *bad[] = {"publickey,,password"};
	char *mixed[] = {"publickey,keyboard-interactive:totp,password",
	    "publickey,keyboard-interactive"};

	T_CHECK("any: init", authchain_init(&ac, any, 1) == 0 && ac.any);
	T_CHECK("any: everything allowed",
	    authchain_allowed(&ac, "password", NULL));
	T_CHECK("any: one method completes",
	    authchain_success(&ac, "publickey", NULL) == 1);
	authchain_free(&ac);
	T_CHECK("none configured is any",
	    authchain_init(&ac, NULL, 0) == 0 && ac.any);
	authchain_free(&ac);

	T_CHECK("chain: init", authchain_init(&ac, chain, 1) == 0);
	T_CHECK("chain: totp not first",
	    !authchain_allowed(&ac, "keyboard-interactive", "totp"));
	T_CHECK("chain: offers publickey only", methods_are(&ac, "publickey"));
	T_CHECK("chain: publickey is partial",
	    authchain_success(&ac, "publickey", NULL) == 0);
	T_CHECK("chain: then only keyboard-interactive",
	    methods_are(&ac, "keyboard-interactive"));
	T_CHECK("chain: publickey no longer allowed",
	    !authchain_allowed(&ac, "publickey", NULL));
	T_CHECK("chain: wrong device refused",
	    !authchain_allowed(&ac, "keyboard-interactive", "pam"));
	T_CHECK("chain: right device allowed",
	    authchain_allowed(&ac, "keyboard-interactive", "totp"));
	T_CHECK("chain: totp completes",
	    authchain_success(&ac, "keyboard-interactive", "totp") == 1);
	authchain_free(&ac);

	T_CHECK("alternatives: init", authchain_init(&ac, alts, 2) == 0);
	T_CHECK("alternatives: publickey first", methods_are(&ac, "publickey"));
	T_CHECK("alternatives: partial",
	    authchain_success(&ac, "publickey", NULL) == 0);
	T_CHECK("alternatives: either second step offered",
	    methods_are(&ac, "password,keyboard-interactive"));
	T_CHECK("alternatives: password completes",
	    authchain_success(&ac, "password", NULL) == 1);
	authchain_free(&ac);

	T_CHECK("twice: init", authchain_init(&ac, twice, 1) == 0);
	T_CHECK("twice: first is partial",
	    authchain_success(&ac, "publickey", NULL) == 0);
	T_CHECK(
	    "twice: publickey still offered", methods_are(&ac, "publickey"));
	T_CHECK("twice: second completes",
	    authchain_success(&ac, "publickey", NULL) == 1);
	authchain_free(&ac);

	T_CHECK("bare method: init", authchain_init(&ac, kbd, 1) == 0);
	T_CHECK("bare method accepts PAM's device (or none named)",
	    authchain_allowed(&ac, "keyboard-interactive", "pam") &&
	        authchain_allowed(&ac, "keyboard-interactive", NULL));
	T_CHECK("bare method: not a device only its name admits",
	    !authchain_allowed(&ac, "keyboard-interactive", "totp"));
	T_CHECK("bare method: a TOTP success does not complete it",
	    authchain_success(&ac, "keyboard-interactive", "totp") == 0);
	T_CHECK("bare method: not a prefix of another name",
	    !authchain_allowed(&ac, "keyboard", NULL));
	T_CHECK("bare method names no device",
	    !authchain_names(&ac, "keyboard-interactive", "totp") &&
	        !authchain_names(&ac, "keyboard-interactive", "pam"));
	authchain_free(&ac);
	T_CHECK("names: any names no device",
	    authchain_init(&ac, any, 1) == 0 &&
	        !authchain_names(&ac, "keyboard-interactive", "totp"));
	authchain_free(&ac);
	T_CHECK("names: init", authchain_init(&ac, chain, 1) == 0);
	T_CHECK("names: not before its step",
	    !authchain_names(&ac, "keyboard-interactive", "totp"));
	(void)authchain_success(&ac, "publickey", NULL);
	T_CHECK("names: its step names it",
	    authchain_names(&ac, "keyboard-interactive", "totp") &&
	        !authchain_names(&ac, "keyboard-interactive", "tot") &&
	        !authchain_names(&ac, "keyboard", "interactive:totp"));
	authchain_free(&ac);

	/* A code must not stand in for the PAM stack in another list. */
	T_CHECK("mixed: init", authchain_init(&ac, mixed, 2) == 0);
	(void)authchain_success(&ac, "publickey", NULL);
	T_CHECK("mixed: totp advances only the list naming it",
	    authchain_success(&ac, "keyboard-interactive", "totp") == 0);
	T_CHECK("mixed: then password completes that list",
	    authchain_success(&ac, "password", NULL) == 1);
	authchain_free(&ac);

	T_CHECK("empty step rejected", authchain_init(&ac, bad, 1) != 0);
	return T_DONE();
}
