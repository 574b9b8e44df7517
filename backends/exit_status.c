/*
 * backends/exit_status.c: a child's end as a haz_exit_status, shared by the
 * posix and mock spawners (backends/exit_status.h).
 */
#include "internal.h"
#include "exit_status.h"

#include <string.h>
#include <sys/wait.h>

haz_exit_status haz__exit_status(haz_exit_kind kind, int value)
{
    haz_exit_status st;

    memset(&st, 0, sizeof st);
    st.kind = kind;
    st.code = kind == HAZ_EXIT_CODE ? value : 0;
    st.signo = kind == HAZ_EXIT_SIGNAL ? value : 0;
    return st;
}

haz_exit_status haz__exit_status_wait(int wstatus)
{
    if (WIFSIGNALED(wstatus))
        return haz__exit_status(HAZ_EXIT_SIGNAL, WTERMSIG(wstatus));
    return haz__exit_status(HAZ_EXIT_CODE,
                            WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 0);
}
