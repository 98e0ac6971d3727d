/*
 * test_worktime.c: valid users' command times (monitor/worktime.h): the
 * text the listener passes on reads back as the same samples, anything
 * else is refused whole, the ring keeps the newest WORKTIME_KEEP, and a
 * pick is always one of the samples.
 */
#include <string.h>

#include "monitor/worktime.h"
#include "t.h"

/* 1 if a holds the same samples as b, in any order. */
static int
same_samples(const struct worktimes *a, const struct worktimes *b)
{
	int i, j, found;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		for (found = 0, j = 0; j < b->n && !found; j++)
			found = a->us[i] == b->us[j];
		if (!found)
			return 0;
	}
	return 1;
}

int
main(void)
{
	/* Among them the old per-method text a listener before this one
	 * exported: refused, so nothing is kept across such an upgrade. */
	static const char *const bad[] = {";", "1;;;", ";;;", "x", "1,", ",1",
	    "1,,2", "123456789", "-1", " 1", "1 ", "1;2", NULL};
	struct worktimes w, r;
	char text[WORKTIME_TEXT_MAX];
	uint32_t v;
	int i, ok;

	memset(&w, 0, sizeof(w));
	worktime_format(&w, text, 100);
	T_CHECK("empty: text", strcmp(text, "") == 0);
	T_CHECK(
	    "empty: parses", worktime_parse(&r, text, 100) == 0 && r.n == 0);
	T_CHECK("empty: no pick", worktime_pick(&r) == 0);

	worktime_add(&w, 1200, 100);
	worktime_add(&w, 0, 100);
	worktime_add(&w, 99999999, 100);
	worktime_add(&w, 4000000000U, 100); /* cut to 30 s */
	worktime_format(&w, text, 100);
	T_CHECK("some: text", strcmp(text, "1200,0,30000000,30000000") == 0);
	T_CHECK("some: parses back",
	    worktime_parse(&r, text, 100) == 0 && same_samples(&w, &r));

	/* The ring: the newest WORKTIME_KEEP, whatever came before. */
	memset(&w, 0, sizeof(w));
	for (i = 0; i < 3 * WORKTIME_KEEP; i++)
		worktime_add(&w, (uint32_t)i, 100);
	T_CHECK("ring: full", w.n == WORKTIME_KEEP);
	for (ok = 1, i = 0; i < WORKTIME_KEEP; i++)
		ok &= w.us[i] >= 2 * WORKTIME_KEEP;
	T_CHECK("ring: the newest kept", ok);
	for (ok = 1, i = 0; i < 200; i++) {
		v = worktime_pick(&w);
		ok &= v >= 2 * WORKTIME_KEEP && v < 3 * WORKTIME_KEEP;
	}
	T_CHECK("pick: one of the samples", ok);

	/* The longest text fits, and reads back. */
	for (i = 0; i < WORKTIME_KEEP; i++)
		worktime_add(&w, WORKTIME_MAX_US, 100);
	worktime_format(&w, text, 100);
	T_CHECK("full: fits", strlen(text) < sizeof(text));
	T_CHECK("full: parses back",
	    worktime_parse(&r, text, 100) == 0 && r.n == WORKTIME_KEEP &&
	        same_samples(&w, &r));

	/* More than WORKTIME_KEEP is no text we write. */
	strcpy(text, "1");
	for (i = 1; i <= WORKTIME_KEEP; i++)
		strcat(text, ",1");
	T_CHECK(
	    "too many samples refused", worktime_parse(&r, text, 100) == -1);

	/* Samples older than WORKTIME_MAX_AGE_S are not passed on. */
	memset(&w, 0, sizeof(w));
	worktime_add(&w, 7, 100);
	worktime_add(&w, 8, 100 + WORKTIME_MAX_AGE_S);
	worktime_add(&w, 9, 100);
	worktime_format(&w, text, 100 + WORKTIME_MAX_AGE_S);
	T_CHECK("age: all still young", strcmp(text, "7,8,9") == 0);
	worktime_format(&w, text, 101 + WORKTIME_MAX_AGE_S);
	T_CHECK("age: the old ones go", strcmp(text, "8") == 0);

	for (i = 0; bad[i] != NULL; i++)
		T_CHECK(
		    bad[i], worktime_parse(&r, bad[i], 100) == -1 && r.n == 0);
	return T_DONE();
}
