/*
 * tests/pidrec.h: record the pid of every child the posix spawner starts,
 * through its system-call seam (backends/spawn_posix_sys.c), so that a
 * test can check afterwards that no process group of a child is left.
 */
#ifndef HAZ_TESTS_PIDREC_H
#define HAZ_TESTS_PIDREC_H

#include <stddef.h>

/* haz_pidrec_start: forget what was recorded, then route fork and
 * posix_spawn through recorders keeping the first `cap` pids (at most
 * HAZ_PIDREC_MAX).  Children past `cap` are started but not recorded. */
#define HAZ_PIDREC_MAX 20000
void haz_pidrec_start(size_t cap);

/* haz_pidrec_stop: put the seam's fork and posix_spawn back to their
 * defaults; what was recorded stays readable. */
void haz_pidrec_stop(void);

/* haz_pidrec_count: how many pids were recorded since the last start. */
size_t haz_pidrec_count(void);

/* haz_pidrec_groups_gone: 1 when no process group of a recorded pid
 * exists any more (kill(-pid, 0) fails with ESRCH for every one), else 0,
 * naming the first one left on standard error. */
int haz_pidrec_groups_gone(void);

#endif
