/* interrupt.h - SIGINT and SIGTERM during long runs. The first signal only
 * sets a flag: the sweep abandons the point in progress at the next check,
 * keeps every row already written and exits 128 + signal. A second signal
 * of either kind ends the process at once (its results file is still whole:
 * rows are committed by an atomic rename). */
#ifndef ATTN_INTERRUPT_H
#define ATTN_INTERRUPT_H

#include <signal.h>

/* The signal that asked to stop (SIGINT, SIGTERM), 0 while none did. */
extern volatile sig_atomic_t attn_stop_signal;

/* Install / remove the handlers (idempotent). */
void attn_catch_stop_signals(void);
void attn_release_stop_signals(void);

/* The exit code for the signal received: 130 for SIGINT, 143 for SIGTERM. */
int attn_stop_exit_code(void);

#endif
