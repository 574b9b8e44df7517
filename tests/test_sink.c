/*
 * tests/test_sink.c: the live and buffered observers against a hostile
 * output sink (reliability-tests.md R7, lib/observe_sink.c), without a
 * run: the observer callbacks are called directly.
 *   - a pipe whose reader has gone: no death by SIGPIPE (ignored here, as
 *     a host must), the write error is EPIPE and kept by
 *     haz_observer_sink_errno(); later writes go on failing quietly;
 *   - a non-blocking pipe drained by a slow child process: 1 MiB of lines
 *     through the live observer and 1 MiB blocks through the buffered one
 *     arrive exactly once and in order (EAGAIN and short writes waited
 *     out), and no error is reported;
 *   - /dev/full: ENOSPC kept.
 * Every case checks that no descriptor and no child is left.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FDMAX 1024
#define LINES 65536             /* 16 bytes each: 1 MiB */

static void fd_snapshot(unsigned char *fds)
{
    int fd;

    for (fd = 0; fd < FDMAX; fd++)
        fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void fds_same(const unsigned char *before)
{
    unsigned char after[FDMAX];

    fd_snapshot(after);
    CU_ASSERT(memcmp(before, after, FDMAX) == 0);
}

typedef int (*obs_new_fn)(haz_ctx *, int, int, haz_observer_obj **,
                          haz_observer *);

static const haz_task_id tid = {0, "p", "t", "p:t"};

static void finish(const haz_observer *obs)
{
    haz_task_outcome o;

    memset(&o, 0, sizeof o);
    o.task = tid;
    o.kind = HAZ_OUTCOME_COMPLETED;
    obs->methods->on_task_finished(obs->ud, &o);
}

/* R7 (a): the reader of the pipe has gone. */
static void epipe_case(obs_new_fn make)
{
    unsigned char fds[FDMAX];
    struct sigaction ign, old;
    haz_test_mem tm;
    haz_ctx *ctx = NULL;
    haz_observer_obj *obj = NULL;
    haz_observer obs;
    int p[2];

    fd_snapshot(fds);
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    CU_ASSERT_EQUAL_FATAL(sigaction(SIGPIPE, &ign, &old), 0);
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    close(p[0]);
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(make(ctx, p[1], p[1], &obj, &obs), HAZ_OK);
    CU_ASSERT_EQUAL(haz_observer_sink_errno(obj), 0);
    errno = 1234;
    obs.methods->on_output(obs.ud, &tid, HAZ_STREAM_STDOUT, "hello\n", 6);
    obs.methods->on_output(obs.ud, &tid, HAZ_STREAM_STDERR, "part", 4);
    finish(&obs);
    CU_ASSERT_EQUAL(errno, 1234);               /* preserved */
    CU_ASSERT_EQUAL(haz_observer_sink_errno(obj), EPIPE);
    haz_observer_free(obj);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
    close(p[1]);
    CU_ASSERT_EQUAL(sigaction(SIGPIPE, &old, NULL), 0);
    fds_same(fds);
}

static void test_epipe_live(void)
{
    epipe_case(haz_observer_live_new);
}

static void test_epipe_buffered(void)
{
    epipe_case(haz_observer_buffered_new);
}

/* A child that reads the pipe slowly (4 KiB, then 1 ms, ...) and writes
 * what it got to `path`.  It closes its copy of the write end first, or
 * it would never see the end of the stream. */
static pid_t slow_reader(int rfd, int wfd, const char *path)
{
    pid_t pid = fork();

    if (pid == 0) {
        char buf[4096];
        struct timespec ms = {0, 1000000L};
        int out;
        ssize_t r;

        close(wfd);
        out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (out < 0)
            _exit(2);
        while ((r = read(rfd, buf, sizeof buf)) != 0) {
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                _exit(3);
            }
            if (write(out, buf, (size_t)r) != r)
                _exit(4);
            nanosleep(&ms, NULL);
        }
        _exit(close(out) == 0 ? 0 : 5);
    }
    return pid;
}

static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    size_t cap = 4 << 20;
    char *buf = malloc(cap);
    long n;

    CU_ASSERT_FATAL(fd >= 0 && buf != NULL);
    n = haz_test_read_fd(fd, buf, cap);
    close(fd);
    CU_ASSERT_FATAL(n >= 0);
    *len = (size_t)n;
    return buf;
}

/* R7 (b): EAGAIN and short writes on a non-blocking pipe. */
static void eagain_case(obs_new_fn make, int live)
{
    unsigned char fds[FDMAX];
    char dir[4096], path[4200], line[32];
    haz_test_mem tm;
    haz_ctx *ctx = NULL;
    haz_observer_obj *obj = NULL;
    haz_observer obs;
    char *want, *got;
    size_t wlen = 0, glen, i;
    int p[2], st;
    pid_t pid;

    fd_snapshot(fds);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(dir, sizeof dir, "sink"));
    snprintf(path, sizeof path, "%s/got", dir);
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    CU_ASSERT_EQUAL_FATAL(fcntl(p[1], F_SETFL,
                                fcntl(p[1], F_GETFL) | O_NONBLOCK), 0);
    pid = slow_reader(p[0], p[1], path);
    CU_ASSERT_FATAL(pid > 0);
    close(p[0]);
    want = malloc((size_t)LINES * 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(make(ctx, p[1], p[1], &obj, &obs), HAZ_OK);
    for (i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof line, "line %09lu\n",
                         (unsigned long)i);

        /* Live: "[p:t] " before each line; buffered: the bytes as given. */
        if (live) {
            memcpy(want + wlen, "[p:t] ", 6);
            wlen += 6;
        }
        memcpy(want + wlen, line, (size_t)n);
        wlen += (size_t)n;
        obs.methods->on_output(obs.ud, &tid, HAZ_STREAM_STDOUT, line,
                               (size_t)n);
    }
    finish(&obs);
    CU_ASSERT_EQUAL(haz_observer_sink_errno(obj), 0);
    haz_observer_free(obj);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
    close(p[1]);
    CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    got = read_file(path, &glen);
    CU_ASSERT_EQUAL(glen, wlen);
    CU_ASSERT(glen == wlen && memcmp(got, want, wlen) == 0);
    free(got);
    free(want);
    CU_ASSERT_EQUAL(haz_test_rmtree(dir), 0);
    fds_same(fds);
}

static void test_eagain_live(void)
{
    eagain_case(haz_observer_live_new, 1);
}

static void test_eagain_buffered(void)
{
    eagain_case(haz_observer_buffered_new, 0);
}

/* R7 (c): a full device. */
static void test_full(void)
{
    unsigned char fds[FDMAX];
    haz_test_mem tm;
    haz_ctx *ctx = NULL;
    haz_observer_obj *obj = NULL;
    haz_observer obs;
    int fd;

    fd = open("/dev/full", O_WRONLY);
    if (fd < 0) {
        fprintf(stderr, "\n  /dev/full is not available: not checked\n");
        return;
    }
    close(fd);
    fd_snapshot(fds);
    fd = open("/dev/full", O_WRONLY);
    CU_ASSERT_FATAL(fd >= 0);
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_observer_live_new(ctx, fd, fd, &obj, &obs),
                          HAZ_OK);
    obs.methods->on_output(obs.ud, &tid, HAZ_STREAM_STDOUT, "x\n", 2);
    CU_ASSERT_EQUAL(haz_observer_sink_errno(obj), ENOSPC);
    haz_observer_free(obj);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
    close(fd);
    fds_same(fds);
    /* Not a live or buffered observer, or none: 0. */
    CU_ASSERT_EQUAL(haz_observer_sink_errno(NULL), 0);
}

static CU_TestInfo sink_tests[] = {
    {"R7a EPIPE, live", test_epipe_live},
    {"R7a EPIPE, buffered", test_epipe_buffered},
    {"R7b EAGAIN and short writes, live", test_eagain_live},
    {"R7b EAGAIN and short writes, buffered", test_eagain_buffered},
    {"R7c ENOSPC", test_full},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("R7 output sink", sink_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
