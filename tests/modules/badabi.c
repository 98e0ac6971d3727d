/*
 * badabi.so: a test-only module that claims a future ABI version; the
 * monitor must refuse it at start. Never install it.
 */
#include <stddef.h>

#include "modules/postern_module.h"

static int
badabi_request(void *state, const struct pm_conn *conn, const uint8_t *data,
    size_t len, struct pm_result *res)
{
	res->verdict = PM_SUCCESS; /* would accept anything: must never load */
	return 0;
}

__attribute__((visibility("default")))
const struct pm_module postern_module_v1 = {
    .abi = POSTERN_MODULE_ABI + 1,
    .method = "keyboard-interactive",
    .submethod = "badabi",
    .request = badabi_request,
};
