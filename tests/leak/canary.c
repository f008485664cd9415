/* canary.c - a deliberate leak. `make test` runs it with the same
 * sanitizer settings as the leak run and requires LeakSanitizer to report
 * it: proof that the leak checking the suite relies on is switched on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *volatile held;

/* Allocate out of line, so that no register or stack slot of main keeps a
 * copy of the pointer once held is cleared. */
__attribute__((noinline)) static void allocate(void)
{
	held = malloc(64);
	if (held)
		strcpy(held, "leaked on purpose");
}

/* Overwrite the stack the allocation used. */
__attribute__((noinline)) static void scrub(void)
{
	volatile char junk[4096];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = 0;
}

int main(void)
{
	allocate();
	if (!held)
		return 1;
	printf("%s\n", held);
	held = NULL; /* the only pointer is gone: a definite leak */
	scrub();
	return 0;
}
