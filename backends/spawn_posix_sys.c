/*
 * backends/spawn_posix_sys.c: the system-call seam of the posix spawner
 * (style.md item 9, after SQLite's aSyscall[] in os_unix.c).  Every call the
 * spawner makes to pipe, fcntl, posix_spawn, fork, execve, waitpid, select,
 * kill, read, pidfd_open and sched_yield goes through the table below, so a
 * test can replace one entry (fail the Nth call, inject EINTR, lose a
 * status, make a yield slow) and restore it.
 *
 * In order: the default functions; the table; the setter and getter; the
 * typed call wrappers the spawner uses; the test switch that forces the
 * fork+exec path.
 */
#include "internal.h"
#include "fdutil.h"
#include "spawn_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* pidfd_open(2) (Linux >= 5.3): the libc function where it is declared
 * (glibc >= 2.36), else the raw system call where the headers name it;
 * neither in a --enable-strict-posix build (POSIX.1-2008 interfaces only).
 * Both are probes (configure.ac); the run-time fallback on ENOSYS, EPERM
 * and the like is the spawner's (backends/spawn_posix_child.c). */
#if defined(HAZ_STRICT_POSIX)
/* the default below fails with ENOSYS */
#elif defined(HAVE_PIDFD_OPEN) && defined(HAVE_SYS_PIDFD_H) && \
    defined(HAVE_DECL_PIDFD_OPEN) && HAVE_DECL_PIDFD_OPEN
#include <sys/pidfd.h>
#define PIDFD_LIBC 1
#elif defined(HAVE_SYS_SYSCALL_H) && defined(HAVE_DECL_SYS_PIDFD_OPEN) && \
    HAVE_DECL_SYS_PIDFD_OPEN && defined(HAVE_DECL_SYSCALL) && \
    HAVE_DECL_SYSCALL
#include <sys/syscall.h>
#define PIDFD_SYSCALL 1
#endif

/* The defaults: the libc calls, or thin wrappers where the libc type does
 * not fit the table (fcntl is variadic; pipe must be close-on-exec). */
static int default_pipe(int fds[2])
{
    return haz__pipe_cloexec(fds, 0);
}

static int default_fcntl(int fd, int cmd, int arg)
{
    return fcntl(fd, cmd, arg);
}

static int default_pidfd_open(pid_t pid, unsigned flags)
{
#if defined(PIDFD_LIBC)
    return pidfd_open(pid, flags);
#elif defined(PIDFD_SYSCALL)
    return (int)syscall(SYS_pidfd_open, pid, flags);
#else
    (void)pid;
    (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

/* sched_yield(), timed by the spawner's clock: whether the processor went
 * to another process for a while is what the wait after EOF adapts to
 * (backends/spawn_posix_child.c). */
static int default_sched_yield(haz_clock *clock)
{
    uint64_t t0 = haz_clock_now_ns(clock);

    if (sched_yield() != 0)
        return -1;
    return haz_clock_now_ns(clock) - t0 >= HAZ_POSIX_YIELD_SLOW_NS;
}

#define FN(f) ((haz__posix_syscall_fn)(f))

enum { SYS_PIPE, SYS_FCNTL, SYS_SPAWN, SYS_FORK, SYS_EXECVE, SYS_WAITPID,
       SYS_SELECT, SYS_KILL, SYS_READ, SYS_PIDFD_OPEN, SYS_SCHED_YIELD,
       SYS_COUNT };

static struct {
    const char *name;
    haz__posix_syscall_fn current;
    haz__posix_syscall_fn dflt;
} syscalls[SYS_COUNT] = {
    {"pipe", FN(default_pipe), FN(default_pipe)},
    {"fcntl", FN(default_fcntl), FN(default_fcntl)},
#ifdef HAZ_POSIX_HAVE_SPAWN
    {"posix_spawn", FN(posix_spawn), FN(posix_spawn)},
#else
    {"posix_spawn", NULL, NULL},
#endif
    {"fork", FN(fork), FN(fork)},
    {"execve", FN(execve), FN(execve)},
    {"waitpid", FN(waitpid), FN(waitpid)},
    {"select", FN(select), FN(select)},
    {"kill", FN(kill), FN(kill)},
    {"read", FN(read), FN(read)},
    {"pidfd_open", FN(default_pidfd_open), FN(default_pidfd_open)},
    {"sched_yield", FN(default_sched_yield), FN(default_sched_yield)}
};

static int find(const char *name)
{
    int i;

    for (i = 0; name != NULL && i < SYS_COUNT; i++)
        if (strcmp(syscalls[i].name, name) == 0)
            return i;
    return -1;
}

int haz__posix_syscall_set(const char *name, haz__posix_syscall_fn fn)
{
    int i = find(name);

    if (i < 0)
        return -1;
    syscalls[i].current = fn != NULL ? fn : syscalls[i].dflt;
    return 0;
}

haz__posix_syscall_fn haz__posix_syscall_default(const char *name)
{
    int i = find(name);

    return i < 0 ? NULL : syscalls[i].dflt;
}

/* ------------------------------------------------------------------------
 * Typed calls through the table.
 * ---------------------------------------------------------------------- */

/* The current function of entry ID, with the real type of entry NAME. */
#define CURRENT(ID, NAME) ((haz__px_##NAME##_fn)syscalls[ID].current)

int haz__sys_pipe(int fds[2])
{
    return CURRENT(SYS_PIPE, pipe)(fds);
}

int haz__sys_fcntl(int fd, int cmd, int arg)
{
    return CURRENT(SYS_FCNTL, fcntl)(fd, cmd, arg);
}

pid_t haz__sys_fork(void)
{
    return CURRENT(SYS_FORK, fork)();
}

int haz__sys_execve(const char *path, char *const argv[], char *const envp[])
{
    return CURRENT(SYS_EXECVE, execve)(path, argv, envp);
}

pid_t haz__sys_waitpid(pid_t pid, int *status, int options)
{
    return CURRENT(SYS_WAITPID, waitpid)(pid, status, options);
}

int haz__sys_select(int nfds, fd_set *r, fd_set *w, fd_set *x,
                    struct timeval *tv)
{
    return CURRENT(SYS_SELECT, select)(nfds, r, w, x, tv);
}

int haz__sys_kill(pid_t pid, int signo)
{
    return CURRENT(SYS_KILL, kill)(pid, signo);
}

ssize_t haz__sys_read(int fd, void *buf, size_t n)
{
    return CURRENT(SYS_READ, read)(fd, buf, n);
}

int haz__sys_pidfd_open(pid_t pid, unsigned flags)
{
    return CURRENT(SYS_PIDFD_OPEN, pidfd_open)(pid, flags);
}

int haz__sys_sched_yield(haz_clock *clock)
{
    return CURRENT(SYS_SCHED_YIELD, sched_yield)(clock);
}

#ifdef HAZ_POSIX_HAVE_SPAWN
int haz__sys_posix_spawn(pid_t *pid, const char *path,
                         const posix_spawn_file_actions_t *fa,
                         const posix_spawnattr_t *attr, char *const argv[],
                         char *const envp[])
{
    return CURRENT(SYS_SPAWN, posix_spawn)(pid, path, fa, attr, argv, envp);
}
#endif

/* ------------------------------------------------------------------------
 * The fork switch (read by backends/spawn_posix_start.c).
 * ---------------------------------------------------------------------- */

static int force_fork;

void haz__posix_spawner_use_fork(int on)
{
    force_fork = on != 0;
}

int haz__posix_fork_forced(void)
{
    return force_fork;
}
