/*
 * tests/pidrec.c: the pid recorder of tests/pidrec.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "../backends/spawn_posix.h"
#include "pidrec.h"
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

static long pids[HAZ_PIDREC_MAX];
static size_t npids, cap_pids;

static void note(pid_t p)
{
    if (npids < cap_pids)
        pids[npids++] = (long)p;
}


static pid_t rec_fork(void)
{
    pid_t p = HAZ__PX_DEFAULT(fork)();

    if (p > 0)
        note(p);
    return p;
}

#ifdef HAZ_POSIX_HAVE_SPAWN

static int rec_spawn(pid_t *pid, const char *path,
                     const posix_spawn_file_actions_t *fa,
                     const posix_spawnattr_t *at, char *const argv[],
                     char *const envp[])
{
    int r = HAZ__PX_DEFAULT(posix_spawn)(pid, path, fa, at, argv, envp);

    if (r == 0)
        note(*pid);
    return r;
}
#endif

void haz_pidrec_start(size_t cap)
{
    npids = 0;
    cap_pids = cap < HAZ_PIDREC_MAX ? cap : HAZ_PIDREC_MAX;
    haz__posix_syscall_set("fork", (haz__posix_syscall_fn)rec_fork);
#ifdef HAZ_POSIX_HAVE_SPAWN
    haz__posix_syscall_set("posix_spawn", (haz__posix_syscall_fn)rec_spawn);
#endif
}

void haz_pidrec_stop(void)
{
    haz__posix_syscall_set("fork", NULL);
    haz__posix_syscall_set("posix_spawn", NULL);
}

size_t haz_pidrec_count(void)
{
    return npids;
}

int haz_pidrec_groups_gone(void)
{
    size_t i;

    for (i = 0; i < npids; i++)
        if (!haz_test_group_gone(pids[i], 0)) {
            fprintf(stderr, "\n  process group %ld is still there\n",
                    pids[i]);
            return 0;
        }
    return 1;
}
