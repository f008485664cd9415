/* no_symbol.c - a shared library without the attnbench_backends symbol:
 * attnbench must refuse it. */
int attnbench_not_a_backend(void);

int attnbench_not_a_backend(void)
{
	return 42;
}
