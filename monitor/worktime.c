/*
 * worktime.c: valid users' attempt times, kept and passed on (worktime.h).
 */
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "monitor/worktime.h"

static const char *const method_names[WORKTIME_METHODS] = {
    "publickey", "password", "keyboard-interactive", "hostbased"};

int
worktime_method(const char *method)
{
	int i;

	for (i = 0; i < WORKTIME_METHODS; i++)
		if (strcmp(method, method_names[i]) == 0)
			return i;
	return -1;
}

int64_t
worktime_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void
worktime_add(struct worktimes *w, int m, uint32_t us, int64_t now)
{
	if (m < 0 || m >= WORKTIME_METHODS)
		return;
	w->us[m][w->next[m]] = us < WORKTIME_MAX_US ? us : WORKTIME_MAX_US;
	w->at[m][w->next[m]] = now;
	w->next[m] = (uint8_t)((w->next[m] + 1) % WORKTIME_KEEP);
	if (w->n[m] < WORKTIME_KEEP)
		w->n[m]++;
}

void
worktime_format(const struct worktimes *w, char *out, int64_t now)
{
	size_t len = 0;
	int m, i, first;

	for (m = 0; m < WORKTIME_METHODS; m++) {
		for (first = 1, i = 0; i < w->n[m]; i++) {
			uint32_t v = w->us[m][i];
			char digits[10];
			size_t nd = 0;

			if (now - w->at[m][i] > WORKTIME_MAX_AGE_S)
				continue;
			if (!first)
				out[len++] = ',';
			first = 0;
			do {
				digits[nd++] = (char)('0' + v % 10);
				v /= 10;
			} while (v > 0);
			while (nd > 0)
				out[len++] = digits[--nd];
		}
		if (m + 1 < WORKTIME_METHODS)
			out[len++] = ';';
	}
	out[len] = '\0';
}

int
worktime_parse(struct worktimes *w, const char *s, int64_t now)
{
	uint32_t v;
	int m = 0, nd;

	memset(w, 0, sizeof(*w));
	for (;;) {
		/* A method's field: empty, or numbers separated by ','. */
		while (*s != ';' && *s != '\0') {
			for (v = 0, nd = 0; *s >= '0' && *s <= '9'; s++) {
				if (++nd > 8)
					goto bad;
				v = v * 10 + (uint32_t)(*s - '0');
			}
			if (nd == 0 || w->n[m] == WORKTIME_KEEP)
				goto bad;
			worktime_add(w, m, v, now);
			if (*s == ',' && s[1] != ';' && s[1] != '\0')
				s++;
			else if (*s != ';' && *s != '\0')
				goto bad;
		}
		if (*s == '\0')
			break;
		if (++m >= WORKTIME_METHODS)
			goto bad;
		s++;
	}
	if (m != WORKTIME_METHODS - 1)
		goto bad;
	return 0;
bad:
	memset(w, 0, sizeof(*w));
	return -1;
}

uint32_t
worktime_pick(const struct worktimes *w, int m)
{
	if (m < 0 || m >= WORKTIME_METHODS || w->n[m] == 0)
		return 0;
	return w->us[m][random_uniform(w->n[m])];
}
