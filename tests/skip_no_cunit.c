/*
 * tests/skip_no_cunit.c: stands in for the unit tests when configure did not
 * find CUnit.  Exit status 77 makes the automake harness report SKIP.
 */
#include <stdio.h>

int main(void)
{
    fputs("CUnit was not found by configure: unit tests skipped\n", stderr);
    return 77;
}
