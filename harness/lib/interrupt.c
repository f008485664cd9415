/* interrupt.c - see interrupt.h. */
#include "lib/interrupt.h"

#include <string.h>

volatile sig_atomic_t attn_stop_signal = 0;

static void on_stop(int sig)
{
	if (attn_stop_signal) {
		/* asked twice: stop now, the way the default action would */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	attn_stop_signal = sig;
}

static void set_handler(void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void attn_catch_stop_signals(void)
{
	set_handler(on_stop);
}

void attn_release_stop_signals(void)
{
	set_handler(SIG_DFL);
}

int attn_stop_exit_code(void)
{
	return 128 + (int)attn_stop_signal;
}
