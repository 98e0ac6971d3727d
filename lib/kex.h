/* kex.h: what the key exchange offers, for configuration and -Q. */
#ifndef POSTERN_KEX_H
#define POSTERN_KEX_H

/* Every key exchange method postern implements, comma-separated. */
const char *kex_supported_list(void);

#endif
