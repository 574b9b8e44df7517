/*
 * backends/exit_status.h: how a spawner backend turns the end of a child
 * into a haz_exit_status, in one place for the posix spawner (from a
 * waitpid() status) and the mock spawner (from its script).  Private to
 * the backends (haz__ names, not exported).
 */
#ifndef HAZ_EXIT_STATUS_H
#define HAZ_EXIT_STATUS_H

#include "hazexec.h"

/* haz__exit_status: the status of a child that ended as `kind`: `value` is
 * the exit code for HAZ_EXIT_CODE and the signal number for
 * HAZ_EXIT_SIGNAL (ignored for HAZ_EXIT_NONE); every other field is 0.
 * Returned by value; nothing is allocated; it cannot fail. */
haz_exit_status haz__exit_status(haz_exit_kind kind, int value);

/* haz__exit_status_wait: the status for a waitpid() status word `wstatus`
 * of a child that ended: WIFSIGNALED gives HAZ_EXIT_SIGNAL with WTERMSIG,
 * WIFEXITED HAZ_EXIT_CODE with WEXITSTATUS, anything else (a stop or a
 * continue, never asked for with WUNTRACED or WCONTINUED) HAZ_EXIT_CODE 0.
 * Returned by value; it cannot fail. */
haz_exit_status haz__exit_status_wait(int wstatus);

#endif /* HAZ_EXIT_STATUS_H */
