/*
 * acceptall.so: a test-only, deliberately broken method,
 * keyboard-interactive:acceptall, that answers every request with success,
 * even for an invalid user, against the module contract. It shows that the
 * monitor itself never lets an invalid user in. Never install it.
 */
#include "modules/postern_module.h"

static int
acceptall_request(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	(void)state;
	(void)c;
	(void)data;
	(void)len;
	res->verdict = PM_SUCCESS;
	return 0;
}

static int
acceptall_response(void *state, const struct pm_conn *c, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	return acceptall_request(state, c, data, len, res);
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI,
    .method = "keyboard-interactive",
    .submethod = "acceptall",
    .request = acceptall_request,
    .response = acceptall_response,
};
