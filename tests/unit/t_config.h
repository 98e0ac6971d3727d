/*
 * t_config.h: which refused configuration lines sshd 9.2 follows with its
 * summary, "FILE: terminating, N bad configuration options". It counts
 * only what it refuses with error() and goes on: an unknown keyword, no
 * or an empty argument, extra arguments, bad quotes, a "none" that is not
 * alone, a PubkeyAuthOptions word it does not know. Any other refusal
 * is its fatal(), which ends it first; posternd goes on to show every bad
 * line, but prints no summary then.
 */
#ifndef POSTERN_T_CONFIG_H
#define POSTERN_T_CONFIG_H

#include <string.h>

static inline int
t_config_counted(const char *msg)
{
	static const char *const words[] = {"Bad configuration option",
	    "no argument after keyword", "empty argument",
	    "extra arguments at end of line", "invalid quotes",
	    "\"none\" argument must appear alone.",
	    "unsupported PubkeyAuthOptions option"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(msg, words[i]) != NULL)
			return 1;
	return 0;
}

#endif
