/*
 * rootpolicy.so: PermitRootLogin as a policy module (ABI 3). After every
 * step of root's chain succeeds, OpenSSH's auth_root_allowed() decides
 * whether it may count, and logs a refusal in OpenSSH's words.
 */
#include <string.h>

#include "log.h"
#include "modules/postern_module.h"

static int
root_check(const struct pm_conn *c, const struct pm_step *step)
{
	const char *prl;

	if (!c->user_valid || c->uid != 0)
		return PM_SUCCESS;
	/* Unset or unknown reads as the strictest value. */
	if ((prl = c->setting(c, "permitrootlogin", 0)) == NULL)
		prl = "no";
	if (strcmp(prl, "yes") == 0)
		return PM_SUCCESS;
	if (strcmp(prl, "prohibit-password") == 0 ||
	    strcmp(prl, "without-password") == 0) {
		if (strcmp(step->method, "publickey") == 0)
			return PM_SUCCESS;
	} else if (strcmp(prl, "forced-commands-only") == 0) {
		if (step->forced_command != NULL) {
			logit("Root login accepted for forced command.");
			return PM_SUCCESS;
		}
	}
	logit("ROOT LOGIN REFUSED FROM %.200s port %d", c->client_addr,
	    c->client_port);
	return PM_FAILURE;
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = NULL,
    .check_method = root_check,
};
