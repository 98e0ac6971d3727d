/*
 * grace.h: LoginGraceTime as a hard deadline for the monitor, one that
 * holds while it is stuck in a module, a file read or a command.
 */
#ifndef POSTERN_GRACE_H
#define POSTERN_GRACE_H

#include <stdint.h>

/*
 * grace_arm: from now, seconds (> 0) until SIGALRM, at its default
 * disposition, ends the monitor; the listener that reaps it logs the
 * timeout. 0, or -1 if no timer could be made (the deadline of
 * grace_left_ms, which the caller polls against, is then all there is).
 */
int grace_arm(int seconds);

/*
 * grace_claim: stop the timer before acting on a verdict. If the deadline
 * already passed (the signal is pending), the monitor dies of it here and
 * never returns; otherwise nothing can end it any more. Idempotent; a
 * no-op when no timer is armed.
 */
void grace_claim(void);

/* grace_left_ms: ms until the deadline (0 when past), -1 when there is
 * none (LoginGraceTime 0, or claimed). */
int64_t grace_left_ms(void);

#endif
