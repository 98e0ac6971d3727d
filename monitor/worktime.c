/*
 * worktime.c: valid users' attempt times, kept and passed on (worktime.h).
 */
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "monitor/worktime.h"

int64_t
worktime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void
worktime_add(struct worktimes *w, uint32_t us, int64_t now)
{
	w->us[w->next] = us < WORKTIME_MAX_US ? us : WORKTIME_MAX_US;
	w->at[w->next] = now;
	w->next = (uint8_t)((w->next + 1) % WORKTIME_KEEP);
	if (w->n < WORKTIME_KEEP)
		w->n++;
}

void
worktime_format(const struct worktimes *w, char *out, int64_t now)
{
	size_t len = 0;
	int i;

	for (i = 0; i < w->n; i++) {
		uint32_t v = w->us[i];
		char digits[10];
		size_t nd = 0;

		if (now - w->at[i] > WORKTIME_MAX_AGE_S)
			continue;
		if (len > 0)
			out[len++] = ',';
		do {
			digits[nd++] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		while (nd > 0)
			out[len++] = digits[--nd];
	}
	out[len] = '\0';
}

int
worktime_parse(struct worktimes *w, const char *s, int64_t now)
{
	uint32_t v;
	int nd;

	memset(w, 0, sizeof(*w));
	/* Empty, or numbers separated by ','. */
	while (*s != '\0') {
		for (v = 0, nd = 0; *s >= '0' && *s <= '9'; s++) {
			if (++nd > 8)
				goto bad;
			v = v * 10 + (uint32_t)(*s - '0');
		}
		if (nd == 0 || w->n == WORKTIME_KEEP)
			goto bad;
		worktime_add(w, v, now);
		if (*s == ',' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			goto bad;
	}
	return 0;
bad:
	memset(w, 0, sizeof(*w));
	return -1;
}

uint32_t
worktime_pick(const struct worktimes *w)
{
	if (w->n == 0)
		return 0;
	return w->us[random_uniform(w->n)];
}
