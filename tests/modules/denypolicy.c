/*
 * denypolicy.so: a test-only policy module (ABI 3) that refuses every
 * step of every user's chain, to show that a third party can add a
 * policy without touching the core. Never install it.
 */
#include "log.h"
#include "modules/postern_module.h"

static int
deny_check(const struct pm_conn *c, const struct pm_step *step)
{
	logit("denypolicy: refusing %s for %.127s", step->method, c->user);
	return PM_FAILURE;
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .check_method = deny_check,
};
