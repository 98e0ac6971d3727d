/*
 * memtrim.c: give a process's dead heap and stack pages back to the
 * kernel, so that an idle connection costs what it holds, not what its
 * login once needed.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memtrim.h"

/* Left alone below the caller's frame: room for the calls made from here
 * (madvise itself) and the ABI's red zone. */
#define MEMTRIM_STACK_KEEP (4 * 1024)

/* The lowest address of the mapping that holds sp, if it is "[stack]". */
static int
stack_low(uintptr_t sp, uintptr_t *lowp)
{
	char line[512];
	uintmax_t lo, hi;
	FILE *f;
	int found = -1;

	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%jx-%jx", &lo, &hi) != 2 || sp < lo ||
		    sp >= hi)
			continue;
		if (strstr(line, "[stack]") != NULL) {
			*lowp = (uintptr_t)lo;
			found = 0;
		}
		break;
	}
	fclose(f);
	return found;
}

void
mem_trim(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), low, top;
	long page = sysconf(_SC_PAGESIZE);

	(void)malloc_trim(0);
	if (page <= 0 || sp < MEMTRIM_STACK_KEEP || stack_low(sp, &low) != 0)
		return;
	top = (sp - MEMTRIM_STACK_KEEP) & ~((uintptr_t)page - 1);
	/* Frames below sp are dead: the pages come back zeroed if needed. */
	if (top > low)
		(void)madvise((void *)low, top - low, MADV_DONTNEED);
}
