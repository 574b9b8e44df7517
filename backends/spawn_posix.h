/*
 * backends/spawn_posix.h: private to the posix spawner (backends/
 * spawn_posix.c, spawn_posix_start.c, spawn_posix_sys.c) and to its tests.
 *
 * Three parts: the system-call seam (style.md item 9), through which every
 * pipe, fcntl, posix_spawn, fork, execve, waitpid, select, kill, read,
 * pidfd_open and sched_yield of the backend goes, so that a test can make
 * the Nth call fail or script its result; the start routine shared by the methods (program lookup, pipes,
 * posix_spawn or fork+exec); and a few test hooks.  Nothing here is exported from the
 * shared library (haz__ names).
 */
#ifndef HAZ_SPAWN_POSIX_H
#define HAZ_SPAWN_POSIX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#ifdef HAVE_SYS_SELECT_H
#include <sys/select.h>
#endif
#include <sys/time.h>

#include "hazexec.h"

/* posix_spawn is used when configure found it and was not told
 * --without-posix-spawn; the fork+exec path is always compiled. */
#if defined(HAVE_POSIX_SPAWN) && defined(HAVE_SPAWN_H) && \
    !defined(HAZ_NO_POSIX_SPAWN)
#define HAZ_POSIX_HAVE_SPAWN 1
#include <spawn.h>
#endif

/* ------------------------------------------------------------------------
 * The system-call seam.  A table {name, current, default}; the backend
 * calls through `current`.  Names and the real types of the functions:
 *   "pipe"        int (*)(int fds[2])   default: both ends close-on-exec
 *   "fcntl"       int (*)(int fd, int cmd, int arg)
 *   "posix_spawn" posix_spawn's type (NULL default when not built)
 *   "fork"        pid_t (*)(void)
 *   "execve"      int (*)(const char *, char *const [], char *const [])
 *   "waitpid"     pid_t (*)(pid_t, int *, int)
 *   "select"      int (*)(int, fd_set *, fd_set *, fd_set *,
 *                         struct timeval *)
 *   "kill"        int (*)(pid_t, int)
 *   "read"        ssize_t (*)(int, void *, size_t)
 *   "pidfd_open"  int (*)(pid_t pid, unsigned flags)   default: Linux's
 *                 pidfd_open(2) where configure found it (the libc call,
 *                 else syscall(SYS_pidfd_open)), elsewhere one that fails
 *                 with ENOSYS; the descriptor is close-on-exec
 *   "sched_yield" int (*)(haz_clock *clock)   default: sched_yield(),
 *                 then 1 when it took at least HAZ_POSIX_YIELD_SLOW_NS
 *                 by `clock` (the processor went to another process for
 *                 a while), 0 when it came back sooner, -1 when
 *                 sched_yield failed
 * The table is process-wide test machinery, like SQLite's aSyscall[]: set
 * it only while no spawner is in use on another thread.
 * ---------------------------------------------------------------------- */
typedef void (*haz__posix_syscall_fn)(void);

/* The real type of each entry, for replacements and pass-through calls
 * (sched_yield's entry takes the spawner's clock, see above). */
typedef int (*haz__px_pipe_fn)(int *);
typedef int (*haz__px_fcntl_fn)(int, int, int);
typedef pid_t (*haz__px_fork_fn)(void);
typedef int (*haz__px_execve_fn)(const char *, char *const *, char *const *);
typedef pid_t (*haz__px_waitpid_fn)(pid_t, int *, int);
typedef int (*haz__px_select_fn)(int, fd_set *, fd_set *, fd_set *,
                                 struct timeval *);
typedef int (*haz__px_kill_fn)(pid_t, int);
typedef ssize_t (*haz__px_read_fn)(int, void *, size_t);
typedef int (*haz__px_pidfd_open_fn)(pid_t, unsigned);
typedef int (*haz__px_sched_yield_fn)(haz_clock *);
#ifdef HAZ_POSIX_HAVE_SPAWN
typedef int (*haz__px_posix_spawn_fn)(pid_t *, const char *,
                                      const posix_spawn_file_actions_t *,
                                      const posix_spawnattr_t *,
                                      char *const *, char *const *);
#endif

/* haz__posix_syscall_set: route `name` to fn (cast from its real type);
 * NULL restores the default.  Returns 0, or -1 for an unknown name. */
int haz__posix_syscall_set(const char *name, haz__posix_syscall_fn fn);

/* haz__posix_syscall_default: the default of `name` (NULL if unknown or
 * not built), so that a replacement can pass calls through. */
haz__posix_syscall_fn haz__posix_syscall_default(const char *name);

/* The default of entry NAME (an identifier) with its real type:
 * HAZ__PX_DEFAULT(fork)() is fork(). */
#define HAZ__PX_DEFAULT(NAME)                                               \
    ((haz__px_##NAME##_fn)haz__posix_syscall_default(#NAME))

/* The calls themselves, through the table. */
int haz__sys_pipe(int fds[2]);
int haz__sys_fcntl(int fd, int cmd, int arg);
pid_t haz__sys_fork(void);
int haz__sys_execve(const char *path, char *const argv[],
                    char *const envp[]);
pid_t haz__sys_waitpid(pid_t pid, int *status, int options);
int haz__sys_select(int nfds, fd_set *r, fd_set *w, fd_set *x,
                    struct timeval *tv);
int haz__sys_kill(pid_t pid, int signo);
ssize_t haz__sys_read(int fd, void *buf, size_t n);
int haz__sys_pidfd_open(pid_t pid, unsigned flags);
int haz__sys_sched_yield(haz_clock *clock);
#ifdef HAZ_POSIX_HAVE_SPAWN
int haz__sys_posix_spawn(pid_t *pid, const char *path,
                         const posix_spawn_file_actions_t *fa,
                         const posix_spawnattr_t *attr, char *const argv[],
                         char *const envp[]);
#endif

/* ------------------------------------------------------------------------
 * The spawner's state (backends/spawn_posix.c) and one child's life
 * (backends/spawn_posix_child.c).  The bounds of docs/spawner-posix.md:
 * ---------------------------------------------------------------------- */
#define HAZ_POSIX_MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define HAZ_POSIX_BUF_SIZE (256u * 1024u)   /* per wait; events point in */
#define HAZ_POSIX_READ_MAX (64u * 1024u)    /* one read() */
#define HAZ_POSIX_OPEN_POLL_NS HAZ_POSIX_MS(100) /* waitpid period, pipes
                                                    open */
#define HAZ_POSIX_EOF_SPINS 8u              /* after EOF on both pipes:
                                               waitpid, sched_yield, at
                                               most this many times
                                               (then a pidfd, or the
                                               backoff below) */
#define HAZ_POSIX_YIELD_SLOW_NS UINT64_C(100000) /* a yield this long went
                                                    to another process:
                                                    the next children's
                                                    exits are watched with
                                                    a pidfd at once */
#define HAZ_POSIX_PROBE_EVERY 16u           /* in that mode, every this
                                               many-th late child yields
                                               again, to see whether the
                                               yield has become cheap */
#define HAZ_POSIX_STEP_MIN_NS UINT64_C(100000)  /* then a backoff from ... */
#define HAZ_POSIX_STEP_MAX_NS HAZ_POSIX_MS(100) /* ... doubling to this */
#define HAZ_POSIX_DRAIN_NS HAZ_POSIX_MS(100)   /* after the exit: EOF wait */
#define HAZ_POSIX_SWEEP_BYTES (1024u * 1024u)  /* then at most this more */
#define HAZ_POSIX_CANCEL_POLL_NS HAZ_POSIX_MS(100) /* an unselectable token */

typedef struct haz__pchild {
    haz_child id;
    pid_t pid;                  /* also the process group id */
    int fd[2];                  /* stdout, stderr read ends; -1: closed */
    int pidfd;                  /* pipes closed, not reaped: a pidfd that
                                   select() watches for the exit; -1:
                                   none */
    char *task;
    unsigned reaped : 1;        /* its status is known (or lost: ECHILD) */
    unsigned sweeping : 1;      /* drain time is over: final reads */
    unsigned no_pidfd : 1;      /* its pidfd failed or has fired: the
                                   exit is polled for instead */
    unsigned spins;             /* yields left for an exit right after EOF */
    haz_exit_status status;
    int os_errno;
    uint64_t poll_at;           /* not reaped: next waitpid(WNOHANG) */
    uint64_t step;              /* not reaped, pipes closed: backoff */
    uint64_t drain_end;         /* reaped: when to stop waiting for EOF */
    size_t sweep_left;
} haz__pchild;

typedef struct haz__posix_spawner {
    haz_spawner base;
    haz_clock *clock;
    haz__pchild *kids;          /* sorted by id (spawn order) */
    size_t n_kids, cap_kids;
    haz_child next_id;
    unsigned char *buf;         /* HAZ_POSIX_BUF_SIZE bytes */
    size_t used;
    size_t turn;                /* round robin: where reading starts */
    unsigned long via[4];       /* children started, by HAZ_POSIX_VIA_* */
    int pidfd_off;              /* pidfd_open refused (ENOSYS, EPERM, ...):
                                   never tried again by this spawner */
    unsigned long pidfds;       /* pidfds opened (test hook) */
    int pidfd_first;            /* the last yields measured were slow: a
                                   child still exiting at EOF gets a pidfd
                                   without yielding first */
    unsigned probe_left;        /* pidfd_first: late children until the
                                   next one yields again (a probe) */
} haz__posix_spawner;

/* One wait's output: where its events go. */
typedef struct haz__batch {
    haz_spawn_event *ev;
    size_t cap, *n;
} haz__batch;

/* Close the child's stream s (0 stdout, 1 stderr); any still open? */
void haz__pchild_close(haz__pchild *c, int s);
int haz__pchild_open(const haz__pchild *c);

/* Close the child's pidfd, if it has one. */
void haz__pchild_close_pidfd(haz__pchild *c);

/* select() found the child's pidfd readable: the child has exited.  The
 * pidfd is closed and the child is polled at once. */
void haz__pchild_exited(haz__pchild *c, uint64_t now);

/* waitpid(WNOHANG) on a child whose poll is due: on success it is reaped
 * (status, or lost with ECHILD) and its drain starts; else its next poll
 * is scheduled.  Returns 0 or HAZ_EINTERNAL. */
int haz__pchild_reap(haz__posix_spawner *ps, haz__pchild *c, uint64_t now);

/* Room for one more event and some bytes in this wait? */
int haz__posix_room(const haz__posix_spawner *ps, const haz__batch *b);

/* One read of stream s: 1 when the pipe is empty for now, 0 after an
 * output event, EOF, or a failed read (a HAZ_EV_STREAM_ERROR event); at
 * EOF and after a failure the pipe is closed.  Takes one event slot of
 * the batch at most. */
int haz__pchild_read(haz__posix_spawner *ps, haz__pchild *c, int s,
                     haz__batch *b);

/* After a read: a running child with both pipes at EOF is polled at once. */
void haz__pchild_eof(haz__pchild *c, uint64_t now);

/* Reaped children whose drain time is over: read what their pipes hold,
 * then close them.  Returns 0 or HAZ_EIO. */
int haz__posix_sweep(haz__posix_spawner *ps, uint64_t now, haz__batch *b);

/* ------------------------------------------------------------------------
 * Test hooks.
 * ---------------------------------------------------------------------- */

/* haz__posix_spawner_use_fork: with on != 0, every spawn takes the
 * fork+exec path even where posix_spawn is usable (process-wide). */
void haz__posix_spawner_use_fork(int on);
int haz__posix_fork_forced(void);

/* haz__posix_spawner_closes_fds: 1 when a child of the current path
 * (posix_spawn or fork, see use_fork) gets no descriptor >= 3 even from a
 * descriptor the embedding program left without FD_CLOEXEC; 0 when such
 * descriptors leak (documented in docs/spawner-posix.md). */
int haz__posix_spawner_closes_fds(void);

/* haz__posix_spawner_pidfds: how many pidfds this spawner opened to watch
 * exits (0 where pidfd_open is missing or refused), or -1 when sp is not
 * the posix spawner. */
long haz__posix_spawner_pidfds(const haz_spawner *sp);

/* haz__posix_spawner_pidfd_first: 1 when the next child found still
 * exiting at EOF gets a pidfd at once (the last yields measured were
 * slow), 0 when it yields first, -1 when sp is not the posix spawner. */
int haz__posix_spawner_pidfd_first(const haz_spawner *sp);

/* haz__posix_child_pid: the process id (= process group id) of a child
 * that has not retired, else -1. */
long haz__posix_child_pid(const haz_spawner *sp, haz_child child);

/* ------------------------------------------------------------------------
 * The checks before a start (backends/spawn_posix_lookup.c).
 * ---------------------------------------------------------------------- */

/* haz__posix_fail: record code, a message that states the cause itself and
 * os_errno (haz__error_os would append strerror).  Returns code. */
int haz__posix_fail(haz_ctx *ctx, int code, int os_errno, const char *fmt,
                    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* haz__posix_check_cwd: cwd is absolute (else HAZ_EINVAL), exists and is a
 * directory (else HAZ_ESPAWN).  Returns 0 or one of those. */
int haz__posix_check_cwd(haz_ctx *ctx, const char *task, const char *cwd);

/* haz__posix_resolve: the absolute path of the program of an argv plan,
 * into out.  Returns 0 or HAZ_EINVAL (empty name), HAZ_ESPAWN (not found,
 * not executable, ...; the message names the task and the program),
 * HAZ_ENOMEM. */
struct haz_buf;
int haz__posix_resolve(haz_ctx *ctx, const haz_spawn_plan *p,
                       struct haz_buf *out);

/* ------------------------------------------------------------------------
 * The direct-exec fast path (backends/spawn_posix_fast.c,
 * docs/spawner-posix.md section 2a).
 * ---------------------------------------------------------------------- */

/* haz__posix_sh_plain: 1 when the shell script is a plain command line
 * (the byte and first-word rule), else 0. */
int haz__posix_sh_plain(const char *script);

/* What a direct start of a shell action uses; every pointer is owned
 * (haz__posix_fast_free). */
typedef struct haz__posix_fast {
    char **argv;                /* the words, NULL-terminated */
    size_t argc;
    char *words;                /* the buffer argv points into */
    char *path;                 /* the program found in PATH */
    char **envp;                /* the plan's plus PWD; NULL: the plan's */
    char *pwd;                  /* the "PWD=..." entry of envp */
} haz__posix_fast;

/* haz__posix_fast_prepare: when the plan is a shell action that may skip
 * the shell (the whole rule, program lookup included), fill *fp and return
 * 1; else return 0 with nothing held and the context untouched (the shell
 * runs the script); or HAZ_ENOMEM. */
int haz__posix_fast_prepare(haz_ctx *ctx, const haz_spawn_plan *plan,
                            haz__posix_fast *fp);
void haz__posix_fast_free(haz_ctx *ctx, haz__posix_fast *fp);

/* haz__posix_spawner_use_shell: with on != 0, every shell action runs
 * through /bin/sh (process-wide test switch, like use_fork). */
void haz__posix_spawner_use_shell(int on);
int haz__posix_shell_forced(void);

/* How haz__posix_start started a child. */
enum {
    HAZ_POSIX_VIA_ARGV = 0,     /* an argv action */
    HAZ_POSIX_VIA_SHELL = 1,    /* /bin/sh -c SCRIPT */
    HAZ_POSIX_VIA_DIRECT = 2,   /* a shell action started directly */
    HAZ_POSIX_VIA_RETRY = 3     /* a direct start failed; then the shell */
};

/* haz__posix_spawner_counts: how many children this spawner started each
 * way (indexed by HAZ_POSIX_VIA_*), into counts[4].  0, or -1 when sp is
 * not the posix spawner. */
int haz__posix_spawner_counts(const haz_spawner *sp, unsigned long *counts);

/* ------------------------------------------------------------------------
 * Starting a child (backends/spawn_posix_start.c).
 * ---------------------------------------------------------------------- */

/*
 * haz__posix_start: check the plan's working directory, find the program,
 * make the two output pipes and start the child (posix_spawn, or fork+exec
 * where needed) in its own process group; a shell action skips the shell
 * when the fast path allows it.  On success *pid is the child, *via says
 * how it was started (HAZ_POSIX_VIA_*), and rfd[0], rfd[1] are the
 * non-blocking, close-on-exec read ends of its stdout and stderr, both
 * below FD_SETSIZE.  On failure nothing is left behind (no
 * descriptor, no child) and the message is in ctx.
 * Returns 0 or HAZ_EINVAL (relative cwd, empty program), HAZ_ESPAWN,
 * HAZ_ELIMIT (a descriptor >= FD_SETSIZE), HAZ_ENOMEM.
 */
int haz__posix_start(haz_ctx *ctx, const haz_spawn_plan *plan, pid_t *pid,
                     int rfd[2], int *via);

/* The read ends at or above this many descriptors are refused at spawn:
 * select() cannot watch them. */
#define HAZ_POSIX_FD_LIMIT FD_SETSIZE

#endif /* HAZ_SPAWN_POSIX_H */
