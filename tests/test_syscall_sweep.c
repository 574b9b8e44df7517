/*
 * tests/test_syscall_sweep.c: the system-call failure sweep (style.md
 * item 9, reliability-tests.md R4's counterpart for the operating system):
 * representative runs on the posix spawner and clock with the filesystem
 * cache store, repeated while the 1st, 2nd, ... Nth call of one entry of a
 * system-call seam fails, until a run no longer reaches call N.
 *
 * The seams: the posix spawner's (backends/spawn_posix.h: pipe, fcntl,
 * posix_spawn, fork, waitpid, select, read, kill, pidfd_open where the
 * table has it) and the library's file I/O (lib/sys.h: open, openat, read,
 * write, close, fsync, fchmod, rename, mkdir, unlink, unlinkat, rmdir, the
 * stat family, opendir, fdopendir, readdir).  Each entry fails with a
 * fitting errno (the `faults` table): EINTR or EAGAIN where the library is
 * expected to retry (transient mode only: one failure, and the run must
 * then equal the failure-free one exactly), otherwise EMFILE, ENOSPC, EIO
 * (or EPERM for kill, which has no I/O error) in both modes, transient
 * (only call N fails) and persistent (every call from N on fails).  The
 * calls of the clean-up paths (removing a failed store's temporary, a
 * restore's staged files) are swept once more while rename fails all
 * along, which is what makes those paths run.  The spawner's seam is
 * swept over every scenario, and over "store" once more with the fork+exec
 * path forced.
 *
 * The scenarios (a hazfile load is pure parsing and is not swept here):
 *   store    a fresh workspace: every task misses and is stored, one task
 *            fails and skips its dependant;
 *   restore  the same workspace after a run, with two outputs deleted: the
 *            tasks are hits and their outputs are restored;
 *   cancel   a run cancelled (SIGINT) when a task prints, after another
 *            was stored; the printing task is killed while it sleeps.
 * Only haz_run() runs with the fault armed; setting up and checking run
 * with the seams restored.  After every run:
 *   - haz_run returned HAZ_OK or an error with a message in the context;
 *     with HAZ_OK, every task outcome is the failure-free run's, or the
 *     task errored with a message (its error and errno say what failed),
 *     or it was skipped because of an upstream task that did not succeed,
 *     or cancelled in the "cancel" scenario, or it
 *     completed with the same state and key from another source (a cache
 *     entry that could not be read is a miss, CACHE-016);
 *   - no process group the run created is left (every child leads its
 *     own; on Linux the test is a child subreaper, so grandchildren killed
 *     with their group come back to it and are reaped), no child is left
 *     (waitpid(-1, WNOHANG) gives ECHILD) and no descriptor is left open;
 *   - haz_cache_fs_verify finds no broken entry and no temporary (the only
 *     exception: persistent mode, when the failing call is the one the
 *     clean-up itself needs; such runs are counted and printed), and every
 *     output in the workspace is absent or complete (or was being written
 *     by its task when a failure had it killed); a task with an output in
 *     the workspace is not reported as never started (HAZ_TERR_SPAWN),
 *     unless the spawner killed it after losing its exec report;
 *   - a run that saw no failure left the reference number of entries.
 *
 * Workspaces go to $HAZ_SWEEP_TMPDIR, else /dev/shm, else the build tree
 * (tests/sweeputil.h).  HAZ_SWEEP_VERBOSE=1 prints every run's result.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"
#include "sweeputil.h"
#include "sys.h"
#include "../backends/spawn_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* More iterations than this and the sweep is stuck (never ends). */
#define SWEEP_LIMIT 5000UL

/* ------------------------------------------------------------------------
 * Fault injection: one armed entry, counting its calls.
 * ---------------------------------------------------------------------- */

enum { SEAM_IO, SEAM_PX };

static struct {
    unsigned long calls;       /* calls of the armed entry so far */
    unsigned long fail_at;     /* the call to fail, 0 = none */
    unsigned long failures;    /* calls made to fail */
    int persistent;            /* fail every call from fail_at on */
    int err;                   /* the errno of a failure */
    const char *also;          /* a file I/O entry that always fails */
    int also_err;              /* with this errno */
    unsigned long also_failures;
    int seam;                  /* the armed entry */
    const char *name;
} inj;

/* Count a call of entry `name` of `seam`; 1 when it must fail (errno is
 * then set).  The companion entry inj.also fails every time, uncounted. */
static int hit(int seam, const char *name)
{
    if (seam == SEAM_IO && inj.also != NULL && strcmp(name, inj.also) == 0) {
        inj.also_failures++;
        errno = inj.also_err;
        return 1;
    }
    if (inj.name == NULL || seam != inj.seam || strcmp(name, inj.name) != 0)
        return 0;               /* only recording (posix_spawn, fork) */
    inj.calls++;
    if (inj.fail_at != 0 && (inj.calls == inj.fail_at ||
                             (inj.persistent && inj.calls > inj.fail_at))) {
        inj.failures++;
        errno = inj.err;
        return 1;
    }
    return 0;
}

/* The file I/O seam (lib/sys.h). */
#define IO(name, type) ((type)haz__io_syscall_default(name))

static int io_open(const char *p, int f, unsigned m)
{
    if (hit(SEAM_IO, "open"))
        return -1;
    return IO("open", haz__io_open_fn)(p, f, m);
}

static int io_openat(int d, const char *p, int f, unsigned m)
{
    if (hit(SEAM_IO, "openat"))
        return -1;
    return IO("openat", haz__io_openat_fn)(d, p, f, m);
}

static ssize_t io_read(int fd, void *b, size_t n)
{
    if (hit(SEAM_IO, "read"))
        return -1;
    return IO("read", haz__io_read_fn)(fd, b, n);
}

static ssize_t io_write(int fd, const void *b, size_t n)
{
    if (hit(SEAM_IO, "write"))
        return -1;
    return IO("write", haz__io_write_fn)(fd, b, n);
}

/* A failed close still releases the descriptor, as on Linux and as the
 * library assumes. */
static int io_close(int fd)
{
    if (hit(SEAM_IO, "close")) {
        (void)IO("close", haz__io_fd_fn)(fd);
        errno = inj.err;
        return -1;
    }
    return IO("close", haz__io_fd_fn)(fd);
}

static int io_fsync(int fd)
{
    if (hit(SEAM_IO, "fsync"))
        return -1;
    return IO("fsync", haz__io_fd_fn)(fd);
}

static int io_fchmod(int fd, unsigned m)
{
    if (hit(SEAM_IO, "fchmod"))
        return -1;
    return IO("fchmod", haz__io_fchmod_fn)(fd, m);
}

static int io_rename(const char *a, const char *b)
{
    if (hit(SEAM_IO, "rename"))
        return -1;
    return IO("rename", haz__io_rename_fn)(a, b);
}

static int io_mkdir(const char *p, unsigned m)
{
    if (hit(SEAM_IO, "mkdir"))
        return -1;
    return IO("mkdir", haz__io_mkdir_fn)(p, m);
}

static int io_unlink(const char *p)
{
    if (hit(SEAM_IO, "unlink"))
        return -1;
    return IO("unlink", haz__io_path_fn)(p);
}

static int io_unlinkat(int d, const char *p, int f)
{
    if (hit(SEAM_IO, "unlinkat"))
        return -1;
    return IO("unlinkat", haz__io_unlinkat_fn)(d, p, f);
}

static int io_rmdir(const char *p)
{
    if (hit(SEAM_IO, "rmdir"))
        return -1;
    return IO("rmdir", haz__io_path_fn)(p);
}

static int io_stat(const char *p, struct stat *st)
{
    if (hit(SEAM_IO, "stat"))
        return -1;
    return IO("stat", haz__io_stat_fn)(p, st);
}

static int io_lstat(const char *p, struct stat *st)
{
    if (hit(SEAM_IO, "lstat"))
        return -1;
    return IO("lstat", haz__io_stat_fn)(p, st);
}

static int io_fstat(int fd, struct stat *st)
{
    if (hit(SEAM_IO, "fstat"))
        return -1;
    return IO("fstat", haz__io_fstat_fn)(fd, st);
}

static int io_fstatat(int d, const char *p, struct stat *st, int f)
{
    if (hit(SEAM_IO, "fstatat"))
        return -1;
    return IO("fstatat", haz__io_fstatat_fn)(d, p, st, f);
}

static DIR *io_opendir(const char *p)
{
    if (hit(SEAM_IO, "opendir"))
        return NULL;
    return IO("opendir", haz__io_opendir_fn)(p);
}

static DIR *io_fdopendir(int fd)
{
    if (hit(SEAM_IO, "fdopendir"))
        return NULL;
    return IO("fdopendir", haz__io_fdopendir_fn)(fd);
}

static struct dirent *io_readdir(DIR *d)
{
    if (hit(SEAM_IO, "readdir"))
        return NULL;
    return IO("readdir", haz__io_readdir_fn)(d);
}

/* The posix spawner's seam (backends/spawn_posix.h). */

static int px_pipe(int fds[2])
{
    if (hit(SEAM_PX, "pipe"))
        return -1;
    return HAZ__PX_DEFAULT(pipe)(fds);
}

static int px_fcntl(int fd, int cmd, int arg)
{
    if (hit(SEAM_PX, "fcntl"))
        return -1;
    return HAZ__PX_DEFAULT(fcntl)(fd, cmd, arg);
}

/* The children started in the run: each leads its own process group,
 * which must be gone after the run. */
#define MAX_SPAWNED 256
static pid_t spawned[MAX_SPAWNED];
static size_t n_spawned;
static int subreaper;           /* orphaned grandchildren come back to us */

static void record(pid_t pid)
{
    if (pid > 0 && n_spawned < MAX_SPAWNED)
        spawned[n_spawned++] = pid;
}

static pid_t px_fork(void)
{
    pid_t p;

    if (hit(SEAM_PX, "fork"))
        return -1;
    p = HAZ__PX_DEFAULT(fork)();
    record(p);
    return p;
}

static pid_t px_waitpid(pid_t pid, int *st, int opt)
{
    if (hit(SEAM_PX, "waitpid"))
        return -1;
    return HAZ__PX_DEFAULT(waitpid)(pid, st, opt);
}

static int px_select(int n, fd_set *r, fd_set *w, fd_set *x,
                     struct timeval *tv)
{
    if (hit(SEAM_PX, "select"))
        return -1;
    return HAZ__PX_DEFAULT(select)(n, r, w, x, tv);
}

/* EAGAIN only comes from a non-blocking descriptor (the output pipes, not
 * the blocking pipe on which a forked child reports its exec). */
static ssize_t px_read(int fd, void *b, size_t n)
{
    if (inj.err == EAGAIN && (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0)
        return HAZ__PX_DEFAULT(read)(fd, b, n);
    if (hit(SEAM_PX, "read"))
        return -1;
    return HAZ__PX_DEFAULT(read)(fd, b, n);
}

static int px_kill(pid_t pid, int sig)
{
    if (hit(SEAM_PX, "kill"))
        return -1;
    return HAZ__PX_DEFAULT(kill)(pid, sig);
}

static int px_pidfd_open(pid_t pid, unsigned flags)
{
    if (hit(SEAM_PX, "pidfd_open"))
        return -1;
    return HAZ__PX_DEFAULT(pidfd_open)(pid, flags);
}

#ifdef HAZ_POSIX_HAVE_SPAWN
/* posix_spawn returns its error number instead of setting errno. */
static int px_spawn(pid_t *pid, const char *path,
                    const posix_spawn_file_actions_t *fa,
                    const posix_spawnattr_t *at, char *const argv[],
                    char *const envp[])
{
    int e;

    if (hit(SEAM_PX, "posix_spawn"))
        return inj.err;
    e = HAZ__PX_DEFAULT(posix_spawn)(pid, path, fa, at, argv, envp);
    if (e == 0)
        record(*pid);
    return e;
}
#endif

/* One fault of the sweep: an entry of a seam and its errno.  `retry`: the
 * library must retry it (EINTR, or EAGAIN on a non-blocking pipe), so it is
 * swept in transient mode only and the run must equal the reference
 * (unless a companion fails).  `also`: a companion, a file I/O entry that
 * fails every time meanwhile (rename with ENOSPC), so that the clean-up
 * paths run: a store whose blob cannot be renamed removes its temporary
 * directory, a restore removes its staging directory in place; the
 * removal's own calls (openat, fdopendir, readdir, fstatat, unlinkat,
 * rmdir) are reached only then. */
typedef struct fault {
    int seam;
    const char *name;
    void (*fn)(void);
    int err;
    int retry;
    int also;                   /* rename fails meanwhile (ENOSPC) */
} fault;

#define F(f) ((void (*)(void))(f))
#define RENAME 1

static const fault faults[] = {
    {SEAM_IO, "open", F(io_open), EINTR, 1, 0},
    {SEAM_IO, "open", F(io_open), EMFILE, 0, 0},
    {SEAM_IO, "openat", F(io_openat), EINTR, 1, 0},
    {SEAM_IO, "openat", F(io_openat), EMFILE, 0, 0},
    {SEAM_IO, "read", F(io_read), EINTR, 1, 0},
    {SEAM_IO, "read", F(io_read), EIO, 0, 0},
    {SEAM_IO, "write", F(io_write), EINTR, 1, 0},
    {SEAM_IO, "write", F(io_write), ENOSPC, 0, 0},
    {SEAM_IO, "close", F(io_close), EIO, 0, 0},
    {SEAM_IO, "fsync", F(io_fsync), EIO, 0, 0},
    {SEAM_IO, "fchmod", F(io_fchmod), EIO, 0, 0},
    {SEAM_IO, "rename", F(io_rename), ENOSPC, 0, 0},
    {SEAM_IO, "mkdir", F(io_mkdir), ENOSPC, 0, 0},
    {SEAM_IO, "unlink", F(io_unlink), EIO, 0, 0},
    {SEAM_IO, "unlinkat", F(io_unlinkat), EIO, 0, 0},
    {SEAM_IO, "rmdir", F(io_rmdir), EIO, 0, 0},
    {SEAM_IO, "stat", F(io_stat), EIO, 0, 0},
    {SEAM_IO, "lstat", F(io_lstat), EIO, 0, 0},
    {SEAM_IO, "fstat", F(io_fstat), EIO, 0, 0},
    {SEAM_IO, "fstatat", F(io_fstatat), EIO, 0, 0},
    {SEAM_IO, "opendir", F(io_opendir), EMFILE, 0, 0},
    {SEAM_IO, "fdopendir", F(io_fdopendir), EMFILE, 0, 0},
    {SEAM_IO, "readdir", F(io_readdir), EIO, 0, 0},
    {SEAM_IO, "openat", F(io_openat), EINTR, 1, RENAME},
    {SEAM_IO, "openat", F(io_openat), EMFILE, 0, RENAME},
    {SEAM_IO, "fdopendir", F(io_fdopendir), EMFILE, 0, RENAME},
    {SEAM_IO, "readdir", F(io_readdir), EIO, 0, RENAME},
    {SEAM_IO, "fstatat", F(io_fstatat), EIO, 0, RENAME},
    {SEAM_IO, "unlinkat", F(io_unlinkat), EIO, 0, RENAME},
    {SEAM_IO, "rmdir", F(io_rmdir), EIO, 0, RENAME},
    {SEAM_IO, "unlink", F(io_unlink), EIO, 0, RENAME},
    {SEAM_IO, "lstat", F(io_lstat), EIO, 0, RENAME},
    {SEAM_IO, "close", F(io_close), EIO, 0, RENAME},
    {SEAM_PX, "pipe", F(px_pipe), EMFILE, 0, 0},
    {SEAM_PX, "fcntl", F(px_fcntl), EMFILE, 0, 0},
#ifdef HAZ_POSIX_HAVE_SPAWN
    {SEAM_PX, "posix_spawn", F(px_spawn), EAGAIN, 0, 0},
#endif
    {SEAM_PX, "fork", F(px_fork), EAGAIN, 0, 0},
    {SEAM_PX, "waitpid", F(px_waitpid), EINTR, 1, 0},
    {SEAM_PX, "select", F(px_select), EINTR, 1, 0},
    {SEAM_PX, "read", F(px_read), EINTR, 1, 0},
    {SEAM_PX, "read", F(px_read), EAGAIN, 1, 0},
    {SEAM_PX, "read", F(px_read), EIO, 0, 0},
    {SEAM_PX, "kill", F(px_kill), EPERM, 0, 0},
    {SEAM_PX, "pidfd_open", F(px_pidfd_open), EMFILE, 0, 0}
};
#define N_FAULTS (sizeof faults / sizeof faults[0])

/* Arm (fn) or disarm (NULL) fault f.  Returns -1 when the seam has no such
 * entry in this build. */
static int arm(const fault *f, int on)
{
    if (f->also &&
        haz__io_syscall_set("rename", on ? F(io_rename) : NULL) != 0)
        return -1;
    if (f->seam == SEAM_IO)
        return haz__io_syscall_set(f->name, on ? f->fn : NULL);
    if (haz__posix_syscall_default(f->name) == NULL)
        return -1;
    return haz__posix_syscall_set(f->name,
                                  on ? (haz__posix_syscall_fn)f->fn : NULL);
}

/* ------------------------------------------------------------------------
 * The scenarios.
 * ---------------------------------------------------------------------- */

static const char *const host_env[] = {"PATH=/bin:/usr/bin", NULL};

/* Scenarios "store" and "restore".  p:glob walks a directory (readdir,
 * stat); p:gen and p:use write outputs in a directory they create; p:bad
 * fails and p:after is skipped. */
static const char run_graph[] =
    "[workspace]\n"
    "concurrency = 2\n"
    "[task p:gen]\n"
    "run = mkdir -p out && printf generated > out/gen.txt && echo made\n"
    "inputs = src.txt\n"
    "outputs = out/gen.txt\n"
    "[task p:use]\n"
    "run = printf consumed > out/use.txt; echo warn >&2\n"
    "deps = ~:gen\n"
    "inputs = out/gen.txt\n"
    "outputs = out/use.txt\n"
    "[task p:glob]\n"
    "argv = true\n"
    "inputs = other/*.txt\n"
    "[task p:bad]\n"
    "argv = false\n"
    "[task p:after]\n"
    "argv = true\n"
    "deps = ~:bad\n";

/* Scenario "cancel": c:b_slow starts once c:a_quick is stored, prints and
 * sleeps; its output cancels the run; c:c_after waits for it. */
static const char cancel_graph[] =
    "[workspace]\n"
    "concurrency = 2\n"
    "cancel_grace = 1\n"
    "[task c:a_quick]\n"
    "run = printf quick > q.txt\n"
    "outputs = q.txt\n"
    "[task c:b_slow]\n"
    "run = echo go; exec sleep 3\n"
    "deps = ~:a_quick\n"
    "[task c:c_after]\n"
    "argv = true\n"
    "deps = ~:b_slow\n";

/* Every output file the runs may write, with its only allowed content and
 * the task that writes it. */
static const struct {
    const char *path;
    const char *text;
    const char *task;
} run_outputs[] = {
    {"out/gen.txt", "generated", "p:gen"},
    {"out/use.txt", "consumed", "p:use"},
    {"q.txt", "quick", "c:a_quick"}
};

typedef enum { SC_STORE, SC_RESTORE, SC_CANCEL, SC_COUNT } sc_kind;

static const char *const sc_names[SC_COUNT] = {"store", "restore", "cancel"};

typedef struct run_st {
    sc_kind kind;
    char ws[1100];
    char cache[1200];
    haz_ctx *ctx;
    haz_hazfile *hf;
    haz_clock *clock;
    haz_cache_store *store;
    haz_spawner *sp;
    haz_observer obs;
    haz_cancel *cancel;
    haz_run_options opt;
    haz_run_result *r;
} run_st;

static char base_dir[1024];     /* the golden workspaces and the runs */

/* The failure-free results, per scenario. */
static char *ref_outcomes[SC_COUNT];
static uint64_t ref_entries[SC_COUNT];

/* Totals for the report line. */
static unsigned long n_runs, n_points, n_left_tmp;

/* What the tasks of the run in progress printed (the first
 * sizeof out_text - 1 bytes), shown when an outcome is not accepted. */
static char out_text[4096];
static size_t out_len;

static void keep_output(const haz_task_id *task, haz_stream stream,
                        const void *data, size_t len)
{
    size_t room = sizeof out_text - 1 - out_len;
    int n;

    n = snprintf(out_text + out_len, room + 1, "[%s %s] ", task->id,
                 stream == HAZ_STREAM_STDOUT ? "out" : "err");
    if (n < 0 || (size_t)n > room) {
        out_len = sizeof out_text - 1;
        return;
    }
    out_len += (size_t)n;
    room -= (size_t)n;
    if (len > room)
        len = room;
    memcpy(out_text + out_len, data, len);
    out_len += len;
    out_text[out_len] = '\0';
}

static void quiet_on_output(void *ud, const haz_task_id *task,
                            haz_stream stream, const void *data, size_t len)
{
    (void)ud;
    keep_output(task, stream, data, len);
}

static void cancel_on_output(void *ud, const haz_task_id *task,
                             haz_stream stream, const void *data, size_t len)
{
    run_st *s = ud;

    keep_output(task, stream, data, len);
    if (strcmp(task->id, "c:b_slow") == 0)
        haz_cancel_request(s->cancel, SIGINT);
}

static const haz_observer_methods cancel_observer = {
    1, NULL, cancel_on_output, NULL, NULL, NULL, NULL, NULL
};

static const haz_observer_methods quiet_observer = {
    1, NULL, quiet_on_output, NULL, NULL, NULL, NULL, NULL
};

static void run_open(run_st *s)
{
    haz_diags *d;
    haz_cache_store_config cc;
    haz_spawner_config sc;
    const char *g = s->kind == SC_CANCEL ? cancel_graph : run_graph;

    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&s->ctx, NULL), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(s->ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_hazfile_parse(s->ctx, "hazfile", g, strlen(g),
                                            &s->hf, d), HAZ_OK);
    haz_diags_free(d);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(s->ctx, &haz_clock_posix, NULL,
                                         &s->clock), HAZ_OK);
    memset(&cc, 0, sizeof cc);
    cc.version = 1;
    cc.workspace_root = s->ws;
    cc.hash = &haz_hash_sha256;
    cc.clock = s->clock;
    CU_ASSERT_EQUAL_FATAL(haz_cache_store_open(s->ctx, &haz_cache_store_fs,
                                               &cc, &s->store), HAZ_OK);
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = s->clock;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(s->ctx, &haz_spawner_posix, &sc,
                                           &s->sp), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(s->ctx, &s->cancel), HAZ_OK);
    s->obs.methods = s->kind == SC_CANCEL ? &cancel_observer
                                          : &quiet_observer;
    s->obs.ud = s;
    haz_run_options_init(&s->opt);
    s->opt.concurrency = s->hf->concurrency;
    s->opt.cancel_grace_ns = s->hf->cancel_grace_ns;
    s->opt.workspace_root = s->ws;
    s->opt.host_env = host_env;
    s->opt.created_at = 1700000000;
}

static int run_go(run_st *s)
{
    haz_run_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.graph = s->hf->graph;
    cfg.spawner = s->sp;
    cfg.clock = s->clock;
    cfg.cache = s->store;
    cfg.observer = &s->obs;
    cfg.cancel = s->cancel;
    cfg.options = &s->opt;
    return haz_run(s->ctx, &cfg, &s->r);
}

static void run_close(run_st *s)
{
    haz_run_result_free(s->r);
    haz_spawner_close(s->sp);
    haz_cache_store_close(s->store);
    haz_clock_close(s->clock);
    haz_hazfile_free(s->hf);
    haz_cancel_free(s->cancel);
    haz_ctx_free(s->ctx);
    memset(&s->ctx, 0, sizeof *s - offsetof(run_st, ctx));
}

/* The golden workspaces: "inputs" (the sources only) and "primed" (after
 * one run, with two outputs deleted, so that a run restores them). */
static void make_golden(void)
{
    run_st s;
    char p[2048];

    memset(&s, 0, sizeof s);
    (void)snprintf(s.ws, sizeof s.ws, "%s/inputs", base_dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(s.ws, 0777), 0);
    (void)snprintf(p, sizeof p, "%s/other", s.ws);
    CU_ASSERT_EQUAL_FATAL(mkdir(p, 0777), 0);
    haz_sweep_write_text(s.ws, "src.txt", "source\n");
    haz_sweep_write_text(s.ws, "other/1.txt", "one\n");
    haz_sweep_write_text(s.ws, "other/2.txt", "two\n");
    (void)snprintf(p, sizeof p, "%s/primed", base_dir);
    haz_sweep_copy_tree(s.ws, p);
    (void)snprintf(s.ws, sizeof s.ws, "%s/primed", base_dir);
    s.kind = SC_STORE;
    run_open(&s);
    CU_ASSERT_EQUAL_FATAL(run_go(&s), HAZ_OK);
    CU_ASSERT_EQUAL(haz_exit_code(s.r, 0), 1);
    run_close(&s);
    (void)snprintf(p, sizeof p, "%s/out/gen.txt", s.ws);
    CU_ASSERT_EQUAL_FATAL(unlink(p), 0);
    (void)snprintf(p, sizeof p, "%s/out/use.txt", s.ws);
    CU_ASSERT_EQUAL_FATAL(unlink(p), 0);
}

static void run_setup(run_st *s, sc_kind kind)
{
    char golden[2048];

    memset(s, 0, sizeof *s);
    s->kind = kind;
    (void)snprintf(s->ws, sizeof s->ws, "%s/ws", base_dir);
    (void)snprintf(s->cache, sizeof s->cache, "%s/.haz/cache", s->ws);
    (void)snprintf(golden, sizeof golden, "%s/%s", base_dir,
                   kind == SC_RESTORE ? "primed" : "inputs");
    haz_sweep_copy_tree(golden, s->ws);
    run_open(s);
}

/* One line per task, without times. */
static char *dump_outcomes(const haz_run_result *r, size_t i)
{
    const haz_task_outcome *o = haz_run_result_get(r, i);
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1] = "";
    char line[1024];

    if (o->has_key)
        haz_hash_hex(o->key, o->hash_len, hex);
    (void)snprintf(line, sizeof line, "%s %s src=%d state=%d exit=%d/%d/%d "
                   "skip=%d cancel=%d err=%d key=%.12s up=%s\n", o->task.id,
                   haz_outcome_kind_name(o->kind), (int)o->source,
                   (int)o->state, (int)o->status.kind, o->status.code,
                   o->status.signo, (int)o->skip_cause, (int)o->cancel_kind,
                   (int)o->error, hex,
                   o->upstream != NULL ? o->upstream->id : "-");
    return strdup(line);
}

static char *dump_all(const haz_run_result *r)
{
    size_t i, len = 0;
    char *all = calloc(1, 1);

    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    (void)snprintf(all, 1, "%s", "");
    for (i = 0; i < haz_run_result_count(r); i++) {
        char *line = dump_outcomes(r, i);
        char *n;

        CU_ASSERT_PTR_NOT_NULL_FATAL(line);
        n = realloc(all, len + strlen(line) + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(n);
        all = n;
        memcpy(all + len, line, strlen(line) + 1);
        len += strlen(line);
        free(line);
    }
    return all;
}

/* The reference line of task `id`, or NULL. */
static const char *ref_line(sc_kind k, const char *id, size_t *len)
{
    const char *p = ref_outcomes[k];
    size_t n = strlen(id);

    while (p != NULL && *p != '\0') {
        const char *e = strchr(p, '\n');

        if (strncmp(p, id, n) == 0 && p[n] == ' ') {
            *len = (size_t)(e - p) + 1;
            return p;
        }
        p = e + 1;
    }
    return NULL;
}

/* The text of field `name=` in an outcome line. */
static int field(const char *line, size_t len, const char *name,
                 char *out, size_t cap)
{
    const char *p = strstr(line, name);
    size_t n = 0;

    if (p == NULL || p >= line + len)
        return -1;
    p += strlen(name);
    while (p[n] != ' ' && p[n] != '\n' && n + 1 < cap) {
        out[n] = p[n];
        n++;
    }
    out[n] = '\0';
    return 0;
}

/* The run in progress, for messages. */
static const fault *g_fault;
static int g_sc;
static int g_fork;              /* the spawner's fork+exec path forced */

static void note(const char *what)
{
    fprintf(stderr, "\n  %s: %s %s at %lu%s%s: %s\n", sc_names[g_sc],
            g_fault != NULL ? g_fault->name : "-",
            g_fault != NULL ? strerror(g_fault->err) : "-", inj.fail_at,
            inj.persistent ? " persistent" : "",
            inj.also != NULL ? " (rename failing)" : "", what);
}

/* 1 when task `id` completed and succeeded in run result r. */
static int succeeded(const haz_run_result *r, const char *id)
{
    size_t k;

    for (k = 0; k < haz_run_result_count(r); k++) {
        const haz_task_outcome *o = haz_run_result_get(r, k);

        if (strcmp(o->task.id, id) == 0)
            return o->kind == HAZ_OUTCOME_COMPLETED &&
                   o->state == HAZ_STATE_SUCCEEDED;
    }
    return 0;
}

/* Check one task's outcome against the reference run's (see the top of
 * the file for what may differ). */
static void check_outcome(run_st *s, size_t i, int exact)
{
    const haz_task_outcome *o = haz_run_result_get(s->r, i);
    char *line = dump_outcomes(s->r, i);
    const char *ref;
    size_t rlen = 0;
    int ok;

    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    ref = ref_line(s->kind, o->task.id, &rlen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    ok = strlen(line) == rlen && memcmp(line, ref, rlen) == 0;
    if (!ok && !exact) {
        char a[32], b[32];

        switch (o->kind) {
        case HAZ_OUTCOME_ERRORED:
            ok = o->error != 0 && o->message != NULL &&
                 o->message[0] != '\0';
            break;
        case HAZ_OUTCOME_SKIPPED:
            /* Because of an upstream task that did not succeed. */
            ok = o->upstream != NULL && !succeeded(s->r, o->upstream->id);
            break;
        case HAZ_OUTCOME_CANCELLED:
            /* Only the "cancel" scenario asks for a cancellation. */
            ok = s->kind == SC_CANCEL;
            break;
        case HAZ_OUTCOME_COMPLETED:
            /* Executed instead of restored: a cache entry that cannot be
             * read is a miss (CACHE-016); the same key, the same end. */
            ok = field(line, strlen(line), "state=", a, sizeof a) == 0 &&
                 field(ref, rlen, "state=", b, sizeof b) == 0 &&
                 strcmp(a, b) == 0 &&
                 field(line, strlen(line), "key=", a, sizeof a) == 0 &&
                 field(ref, rlen, "key=", b, sizeof b) == 0 &&
                 strcmp(a, b) == 0;
            break;
        default:
            ok = 0;
            break;
        }
    }
    if (!ok) {
        note("a task outcome is neither the reference nor a clear error");
        fprintf(stderr, "  got       %s  reference %.*s", line, (int)rlen,
                ref);
        if (o->message != NULL)
            fprintf(stderr, "  message: %s\n", o->message);
        fprintf(stderr, "  output: %s\n", out_text);
    }
    CU_ASSERT(ok);
    free(line);
}

/* Install (on) or remove the recorders of posix_spawn and fork. */
static void record_spawns(int on)
{
#ifdef HAZ_POSIX_HAVE_SPAWN
    CU_ASSERT_EQUAL_FATAL(haz__posix_syscall_set("posix_spawn",
        on ? (haz__posix_syscall_fn)px_spawn : NULL), 0);
#endif
    CU_ASSERT_EQUAL_FATAL(haz__posix_syscall_set("fork",
        on ? (haz__posix_syscall_fn)px_fork : NULL), 0);
}

/* Whatever happened: no child, no process group, no descriptor, a clean
 * cache.  Returns the number of complete cache entries. */
static uint64_t check_invariants(run_st *s, int fds)
{
    haz_cache_stats stats;
    struct stat st;
    int status;
    size_t i;
    pid_t pid;

    /* A group still there after the run holds grandchildren: killed with
     * the group, they come back to us (the subreaper) to be reaped. */
    for (i = 0; i < n_spawned; i++)
        if (!haz_test_group_gone((long)spawned[i], subreaper)) {
            note("a process group is left");
            CU_FAIL("a process group is left");
        }
    pid = waitpid(-1, &status, WNOHANG);
    if (pid != -1 || errno != ECHILD) {
        note("a child is left");
        while (pid > 0)
            pid = waitpid(-1, &status, 0);
        CU_FAIL("a child is left");
    }
    if (haz_sweep_fd_count() != fds) {
        note("a descriptor leaked");
        CU_FAIL("a descriptor leaked");
    }
    memset(&stats, 0, sizeof stats);
    if (stat(s->cache, &st) == 0) {
        haz_ctx *ctx;

        CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, NULL), HAZ_OK);
        CU_ASSERT_EQUAL(haz_cache_fs_verify(ctx, s->cache, &haz_hash_sha256,
                                            &stats), HAZ_OK);
        haz_ctx_free(ctx);
    }
    CU_ASSERT_EQUAL(stats.broken, 0);
    if (stats.temporaries != 0) {
        if (inj.persistent) {
            n_left_tmp++;
            if (getenv("HAZ_SWEEP_VERBOSE") != NULL)
                note("a cache temporary is left (persistent)");
        } else {
            note("a cache temporary is left");
            CU_FAIL("a cache temporary is left");
        }
    }
    return stats.entries;
}

/* An output of `task` is in the workspace (whose outputs were all absent
 * before the run): its program ran, or the cache restored it.  So the task
 * must not be reported as never started (HAZ_TERR_SPAWN), unless the
 * spawner says it lost the start and killed the child: the fork path
 * reading the child's exec report (read failing) cannot tell whether exec
 * happened, and the program may have run before the kill. */
static void started_ok(const run_st *s, const char *task, const char *path)
{
    size_t k;

    for (k = 0; s->r != NULL && k < haz_run_result_count(s->r); k++) {
        const haz_task_outcome *o = haz_run_result_get(s->r, k);

        if (strcmp(o->task.id, task) != 0 ||
            o->kind != HAZ_OUTCOME_ERRORED || o->error != HAZ_TERR_SPAWN)
            continue;
        if (o->message != NULL &&
            strstr(o->message, "(the child was killed)") != NULL)
            continue;
        note("a task reported as not started left an output");
        fprintf(stderr, "  %s: %s; message: %s\n", task, path,
                o->message != NULL ? o->message : "(none)");
        CU_FAIL("a task reported as not started left an output");
    }
}

/* Every output in the workspace is absent or complete.  The cache only
 * ever puts whole files in place (a staged copy, then a rename); a partial
 * one may only come from its task itself, killed while writing it after a
 * failure (its outcome then says so), or from a run that ended in error. */
static void check_outputs(const run_st *s, int rc)
{
    size_t i, k;

    for (i = 0; i < sizeof run_outputs / sizeof run_outputs[0]; i++) {
        char path[2048], buf[64];
        int fd, killed = rc != HAZ_OK;
        ssize_t n;

        (void)snprintf(path, sizeof path, "%s/%s", s->ws,
                       run_outputs[i].path);
        fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        started_ok(s, run_outputs[i].task, run_outputs[i].path);
        n = read(fd, buf, sizeof buf);
        close(fd);
        if (n == (ssize_t)strlen(run_outputs[i].text) &&
            memcmp(buf, run_outputs[i].text, (size_t)n) == 0)
            continue;
        for (k = 0; s->r != NULL && k < haz_run_result_count(s->r); k++) {
            const haz_task_outcome *o = haz_run_result_get(s->r, k);

            if (strcmp(o->task.id, run_outputs[i].task) == 0)
                killed = o->kind != HAZ_OUTCOME_COMPLETED;
        }
        if (!killed) {
            note("an output file is partial");
            CU_FAIL("an output file is partial");
        }
    }
}

/* One run of scenario k with fault f armed at call n (0: none).  Returns 1
 * when the run saw a failure (call n was reached). */
static int sweep_one(sc_kind k, const fault *f, unsigned long n,
                     int persistent)
{
    run_st s;
    int rc, fds, failed, any, reference = ref_outcomes[k] == NULL;
    uint64_t entries;
    size_t i;

    g_sc = (int)k;
    g_fault = f;
    fds = haz_sweep_fd_count();
    run_setup(&s, k);
    memset(&inj, 0, sizeof inj);
    inj.fail_at = n;
    inj.persistent = persistent;
    inj.err = f != NULL ? f->err : 0;
    if (f != NULL && f->also) {
        inj.also = "rename";
        inj.also_err = ENOSPC;
    }
    if (f != NULL) {
        inj.seam = f->seam;
        inj.name = f->name;
    }
    n_spawned = 0;
    out_len = 0;
    out_text[0] = '\0';
    record_spawns(1);
    if (f != NULL)
        CU_ASSERT_EQUAL_FATAL(arm(f, 1), 0);
    rc = run_go(&s);
    if (f != NULL)
        CU_ASSERT_EQUAL_FATAL(arm(f, 0), 0);
    record_spawns(0);
    failed = inj.failures != 0;
    any = failed || inj.also_failures != 0;
    n_runs++;
    if (getenv("HAZ_SWEEP_VERBOSE") != NULL) {
        note("done");
        fprintf(stderr, "  rc %d %s\n", rc, haz_ctx_errmsg(s.ctx));
    }
    if (rc != HAZ_OK) {
        const char *m = haz_ctx_errmsg(s.ctx);

        if (!any || (f->retry && !f->also) || m == NULL || m[0] == '\0') {
            note("haz_run failed");
            fprintf(stderr, "  rc %d: %s\n", rc, m != NULL ? m : "(none)");
        }
        CU_ASSERT(any);
        CU_ASSERT(f == NULL || !f->retry || f->also);
        CU_ASSERT(m != NULL && m[0] != '\0');
        CU_ASSERT_PTR_NULL(s.r);
    } else if (ref_outcomes[k] == NULL) {
        ref_outcomes[k] = dump_all(s.r);
        if (getenv("HAZ_SWEEP_VERBOSE") != NULL)
            fprintf(stderr, "\n%s reference:\n%s", sc_names[k],
                    ref_outcomes[k]);
    } else {
        int exact = !any || (f->retry && !f->also);

        CU_ASSERT_EQUAL(haz_run_result_count(s.r), haz_graph_task_count(
                            s.hf->graph));
        for (i = 0; i < haz_run_result_count(s.r); i++)
            check_outcome(&s, i, exact);
    }
    check_outputs(&s, rc);
    run_close(&s);
    entries = check_invariants(&s, fds);
    if (reference)
        ref_entries[k] = entries;
    else if (!any)
        CU_ASSERT_EQUAL(entries, ref_entries[k]);
    CU_ASSERT_EQUAL(haz_test_rmtree(s.ws), 0);
    return failed;
}

/* Sweep scenario k through every fault of seam `seam`. */
static void sweep(sc_kind k, int seam)
{
    unsigned long runs0 = n_runs, points0 = n_points;
    size_t i;

    for (i = 0; i < N_FAULTS; i++) {
        const fault *f = &faults[i];
        int persistent;

        if (f->seam != seam || arm(f, 0) != 0)
            continue;
        for (persistent = 0; persistent <= !f->retry; persistent++) {
            unsigned long n;

            for (n = 1; n <= SWEEP_LIMIT; n++)
                if (!sweep_one(k, f, n, persistent))
                    break;
            CU_ASSERT(n <= SWEEP_LIMIT);
            if (!persistent)
                n_points += n - 1;
            if (getenv("HAZ_SWEEP_VERBOSE") != NULL)
                fprintf(stderr, "\n  %s: %s %s%s%s: %lu calls\n",
                        sc_names[k], f->name, strerror(f->err),
                        persistent ? " persistent" : "",
                        f->also ? " (rename failing)" : "", n - 1);
        }
    }
    printf("[%s, %s seam: %lu failure points, %lu runs] ", sc_names[k],
           seam == SEAM_IO ? "file I/O" : g_fork ? "spawner (fork+exec)"
                                                 : "spawner",
           n_points - points0, n_runs - runs0);
    fflush(stdout);
}

/* The scratch directory goes when the tests end (main), also when a test
 * was run alone or stopped at a fatal assertion.  (Not through atexit():
 * some toolchains, pcc among them, cannot link it into a program.) */
static void remove_base_dir(void)
{
    if (base_dir[0] != '\0')
        (void)haz_test_rmtree(base_dir);
    base_dir[0] = '\0';
}

static void start(void)
{
    if (base_dir[0] != '\0')
        return;
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_sweep_mkdtemp(base_dir, sizeof base_dir,
                                                   "syscall-sweep"));
    make_golden();
}

static void test_scenario(sc_kind k, int seam)
{
    start();
    if (ref_outcomes[k] == NULL) {
        sweep_one(k, NULL, 0, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ref_outcomes[k]);
    }
    sweep(k, seam);
}

static void test_io_store(void)
{
    test_scenario(SC_STORE, SEAM_IO);
    /* The reference: p:gen, p:use, p:glob, p:after ran, p:bad failed
     * (exit 1) and skipped p:after; three entries were stored. */
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_STORE],
                                  "p:gen completed src=0 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_STORE],
                                  "p:bad completed src=0 state=1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_STORE], "p:after skipped"));
    CU_ASSERT_EQUAL(ref_entries[SC_STORE], 3);
}

static void test_io_restore(void)
{
    test_scenario(SC_RESTORE, SEAM_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_RESTORE],
                                  "p:gen completed src=1 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_RESTORE],
                                  "p:use completed src=1 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_RESTORE],
                                  "p:glob completed src=1 state=0"));
}

static void test_io_cancel(void)
{
    test_scenario(SC_CANCEL, SEAM_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_CANCEL],
                                  "c:a_quick completed src=0 state=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_CANCEL],
                                  "c:b_slow cancelled"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ref_outcomes[SC_CANCEL],
                                  "c:c_after cancelled"));
    CU_ASSERT_EQUAL(ref_entries[SC_CANCEL], 1);
}

static void test_px_store(void)
{
    test_scenario(SC_STORE, SEAM_PX);
}

static void test_px_restore(void)
{
    test_scenario(SC_RESTORE, SEAM_PX);
}

static void test_px_cancel(void)
{
    test_scenario(SC_CANCEL, SEAM_PX);
}

/* The fork+exec path of the posix spawner (where posix_spawn is not used):
 * fork, and the exec report read from the child, fail in turn. */
static void test_px_fork(void)
{
    g_fork = 1;
    haz__posix_spawner_use_fork(1);
    test_scenario(SC_STORE, SEAM_PX);
    haz__posix_spawner_use_fork(0);
    g_fork = 0;
}

static void test_table(void)
{
    size_t i;

    /* Every entry of the file I/O seam is swept. */
    for (i = 0; haz__io_syscall_name(i) != NULL; i++) {
        size_t k;
        int found = 0;

        for (k = 0; k < N_FAULTS; k++)
            if (faults[k].seam == SEAM_IO &&
                strcmp(faults[k].name, haz__io_syscall_name(i)) == 0)
                found = 1;
        if (!found)
            fprintf(stderr, "\n  entry %s is not swept\n",
                    haz__io_syscall_name(i));
        CU_ASSERT(found);
        CU_ASSERT_PTR_NOT_NULL(haz__io_syscall_default(
                                   haz__io_syscall_name(i)));
    }
    CU_ASSERT(i >= 19);
    CU_ASSERT_EQUAL(haz__io_syscall_set("nonesuch", NULL), -1);
    CU_ASSERT_PTR_NULL(haz__io_syscall_default("nonesuch"));
    CU_ASSERT_PTR_NULL(haz__io_syscall_default(NULL));
}

static void cleanup(void)
{
    size_t k;

    for (k = 0; k < SC_COUNT; k++) {
        free(ref_outcomes[k]);
        ref_outcomes[k] = NULL;
    }
    if (base_dir[0] != '\0')
        CU_ASSERT_EQUAL(haz_test_rmtree(base_dir), 0);
    base_dir[0] = '\0';
    if (n_left_tmp > 0)
        printf("[%lu persistent run(s) left a cache temporary] ",
               n_left_tmp);
}

static CU_TestInfo tests[] = {
    {"the file I/O seam's table", test_table},
    {"file I/O: run with misses that store", test_io_store},
    {"file I/O: run with hits that restore", test_io_restore},
    {"file I/O: cancelled run", test_io_cancel},
    {"spawner: run with misses that store", test_px_store},
    {"spawner: run with hits that restore", test_px_restore},
    {"spawner: cancelled run", test_px_cancel},
    {"spawner, fork+exec: run with misses that store", test_px_fork},
    {"clean up", cleanup},
    CU_TEST_INFO_NULL
};

int main(int argc, char **argv)
{
    int rc;
    CU_SuiteInfo suites[] = {
        HAZ_TEST_SUITE("syscall-sweep", tests),
        CU_SUITE_INFO_NULL
    };

#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
    subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#endif
    rc = haz_test_main(argc, argv, suites);
    remove_base_dir();
    return rc;
}
