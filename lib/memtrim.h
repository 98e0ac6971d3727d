/*
 * memtrim.h: hand a long-lived process's dead memory back to the kernel
 * before it settles down to wait (a monitor or session after login).
 */
#ifndef POSTERN_MEMTRIM_H
#define POSTERN_MEMTRIM_H

/*
 * mem_trim: release free heap pages (malloc_trim) and the stack pages
 * below the caller's frame, which deep calls made earlier (configuration,
 * authentication, key exchange) left dirty but which hold nothing live.
 * Best effort; call it from a shallow frame of the main thread.
 */
void mem_trim(void);

#endif
