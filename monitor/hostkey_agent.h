/*
 * hostkey_agent.h: host key signatures made by an ssh-agent that holds
 * the private keys (HostKeyAgent), over the agent protocol's
 * SSH_AGENTC_SIGN_REQUEST (draft-miller-ssh-agent).
 */
#ifndef POSTERN_HOSTKEY_AGENT_H
#define POSTERN_HOSTKEY_AGENT_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct sshkey;

/*
 * Ask the agent at socket path sock to sign data with key (its public
 * half; the agent holds the private one) under algorithm alg, and append
 * the signature blob (string alg, string sig) to out, as sshkey_sign
 * does. The agent's answer is checked: it must verify with key under
 * alg. Failures are logged ("agent sign: ...") and return an ERR_*.
 */
/*
 * Whether an agent answers at socket path sock: 0 once a connection to it
 * is made (and closed at once), else -1 with errno set.
 */
int hostkey_agent_probe(const char *sock);

int hostkey_agent_sign(const char *sock, const struct sshkey *key,
    struct buf *out, const uint8_t *data, size_t datalen, const char *alg);

#endif
