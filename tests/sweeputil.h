/*
 * tests/sweeputil.h: helpers shared by the failure sweeps
 * (tests/test_alloc_sweep.c, tests/test_syscall_sweep.c): counting open
 * descriptors, scratch directories on a tmpfs when there is one, and
 * copying a prepared workspace.  Failures are CUnit fatal assertions.
 */
#ifndef HAZ_SWEEPUTIL_H
#define HAZ_SWEEPUTIL_H

#include <stddef.h>

/* haz_sweep_fd_count: the number of open descriptors below 1024. */
int haz_sweep_fd_count(void);

/*
 * haz_sweep_mkdtemp: create a fresh, empty scratch directory named
 * "hazexec-<prefix>-XXXXXX" under $HAZ_SWEEP_TMPDIR, else under /dev/shm
 * when it is a writable directory (a tmpfs, where fsync is free), else
 * "<builddir>/tests/tmp/<prefix>-XXXXXX"; its path goes to buf (size n).
 * Returns buf, or NULL on failure.  Remove it with haz_test_rmtree.
 */
char *haz_sweep_mkdtemp(char *buf, size_t n, const char *prefix);

/* haz_sweep_write_text: create or truncate "<dir>/<rel>" holding `text`. */
void haz_sweep_write_text(const char *dir, const char *rel, const char *text);

/* haz_sweep_copy_tree: copy the tree src to dst (which must not exist):
 * directories, and regular files with their permission bits. */
void haz_sweep_copy_tree(const char *src, const char *dst);

#endif /* HAZ_SWEEPUTIL_H */
