/*
 * tests/test_observers.c: unit tests for the built-in observers
 * (include/hazexec/observer.h): the live observer and the buffered observer
 * of EXEC-016, their rendering of cache-hit replays (EXEC-017), and the
 * recording observer with its trace grammar (docs/observer-trace.md).
 *
 * Each observer is driven by calling its methods table directly with
 * hand-made task ids and outcome records.  Output is captured in scratch
 * files under $HAZ_TEST_BUILDDIR/tests/tmp (files, not pipes, because the
 * observers write synchronously and a pipe would fill up), or, where the
 * number of write() calls matters, through a datagram socket pair, which
 * keeps one datagram per write.  Every check compares exact bytes.
 *
 * Suites: live, buffered, recording, oom (allocation-failure sweeps over
 * creating each observer and feeding it a sequence of events).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Task ids, records and event helpers.
 * ---------------------------------------------------------------------- */

static const haz_task_id T_A = {0, "p", "a", "p:a"};
static const haz_task_id T_B = {1, "p", "b", "p:b"};
static const haz_task_id T_C = {5, "core", "build", "core:build"};
static const haz_task_id T_FAR = {1000000, "far", "away", "far:away"};

static haz_task_outcome rec_of(const haz_task_id *t, haz_outcome_kind kind)
{
    haz_task_outcome o;

    memset(&o, 0, sizeof o);
    o.task = *t;
    o.kind = kind;
    return o;
}

static void ev_started(const haz_observer *ob, const haz_task_id *t)
{
    if (ob->methods->on_task_started != NULL)
        ob->methods->on_task_started(ob->ud, t);
}

static void ev_out(const haz_observer *ob, const haz_task_id *t,
                   haz_stream s, const void *data, size_t n)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(ob->methods->on_output);
    ob->methods->on_output(ob->ud, t, s, data, n);
}

static void ev_stdout(const haz_observer *ob, const haz_task_id *t,
                      const char *s)
{
    ev_out(ob, t, HAZ_STREAM_STDOUT, s, strlen(s));
}

static void ev_stderr(const haz_observer *ob, const haz_task_id *t,
                      const char *s)
{
    ev_out(ob, t, HAZ_STREAM_STDERR, s, strlen(s));
}

/* A fresh run that succeeded. */
static void ev_finished(const haz_observer *ob, const haz_task_id *t)
{
    haz_task_outcome o = rec_of(t, HAZ_OUTCOME_COMPLETED);

    o.status.kind = HAZ_EXIT_CODE;
    ob->methods->on_task_finished(ob->ud, &o);
}

static void ev_cancelled(const haz_observer *ob, const haz_task_id *t)
{
    haz_task_outcome o = rec_of(t, HAZ_OUTCOME_CANCELLED);

    o.cancel_kind = HAZ_CANCEL_SIGNALED_IN_FLIGHT;
    o.status.kind = HAZ_EXIT_SIGNAL;
    o.status.signo = 15;
    ob->methods->on_task_cancelled(ob->ud, &o);
}

static void ev_errored(const haz_observer *ob, const haz_task_id *t)
{
    haz_task_outcome o = rec_of(t, HAZ_OUTCOME_ERRORED);

    o.error = HAZ_TERR_STREAM_READ;
    o.message = "read failed";
    ob->methods->on_task_errored(ob->ud, &o);
}

static void ev_skipped(const haz_observer *ob, const haz_task_id *t)
{
    haz_task_outcome o = rec_of(t, HAZ_OUTCOME_SKIPPED);

    o.skip_cause = HAZ_SKIP_UPSTREAM_FAILED;
    o.upstream = &T_A;
    ob->methods->on_task_skipped(ob->ud, &o);
}

/* ------------------------------------------------------------------------
 * Capturing output.
 * ---------------------------------------------------------------------- */

typedef struct cap {
    char dir[1024];
    int out;
    int err;
} cap;

static int open_scratch(const char *dir, const char *name)
{
    char path[1100];
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0666);
    CU_ASSERT_FATAL(fd >= 0);
    return fd;
}

static void cap_open(cap *c)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(c->dir, sizeof c->dir,
                                                  "observers"));
    c->out = open_scratch(c->dir, "out");
    c->err = open_scratch(c->dir, "err");
}

static void cap_close(cap *c)
{
    close(c->out);
    close(c->err);
    CU_ASSERT_EQUAL(haz_test_rmtree(c->dir), 0);
}

/* Empty both files again. */
static void cap_reset(cap *c)
{
    CU_ASSERT_EQUAL(ftruncate(c->out, 0), 0);
    CU_ASSERT_EQUAL(ftruncate(c->err, 0), 0);
    CU_ASSERT_EQUAL(lseek(c->out, 0, SEEK_SET), 0);
    CU_ASSERT_EQUAL(lseek(c->err, 0, SEEK_SET), 0);
}

/* Everything written to fd so far, NUL-terminated, in a malloc'd buffer;
 * the offset is left at the end so that later writes append. */
static char *slurp(int fd, size_t *len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    char *buf;
    long got;

    CU_ASSERT_FATAL(end >= 0);
    buf = malloc((size_t)end + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL_FATAL(lseek(fd, 0, SEEK_SET), 0);
    got = haz_test_read_fd(fd, buf, (size_t)end);
    CU_ASSERT_EQUAL_FATAL(got, (long)end);
    buf[end] = '\0';
    CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_END), end);
    *len = (size_t)end;
    return buf;
}

/* Compare bytes; on a mismatch say where, for a readable failure. */
static int same_bytes(const char *got, size_t glen, const char *want,
                      size_t wlen, const char *what, int line)
{
    size_t i;

    if (glen == wlen && memcmp(got, want, wlen) == 0)
        return 1;
    for (i = 0; i < glen && i < wlen && got[i] == want[i]; i++)
        ;
    fprintf(stderr, "\n  line %d: %s: %lu bytes, expected %lu; first "
            "difference at offset %lu\n", line, what, (unsigned long)glen,
            (unsigned long)wlen, (unsigned long)i);
    if (glen < 4096 && wlen < 4096)
        fprintf(stderr, "  got:  \"%.*s\"\n  want: \"%.*s\"\n", (int)glen,
                got, (int)wlen, want);
    return 0;
}

static void check_fd_n(int fd, const char *want, size_t wlen,
                       const char *what, int line)
{
    size_t len;
    char *got = slurp(fd, &len);

    CU_ASSERT(same_bytes(got, len, want, wlen, what, line));
    free(got);
}

#define CHECK_FD(fd, want) \
    check_fd_n((fd), (want), strlen(want), #fd, __LINE__)
#define CHECK_FD_N(fd, want, n) check_fd_n((fd), (want), (n), #fd, __LINE__)

/* A context on the counting allocator, and the check that everything but
 * the context itself was given back. */
static haz_ctx *new_ctx(haz_test_mem *tm)
{
    haz_ctx *ctx = NULL;

    haz_test_mem_init(tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm->mem), HAZ_OK);
    return ctx;
}

static void free_ctx(haz_ctx *ctx, haz_test_mem *tm)
{
    CU_ASSERT_EQUAL(tm->live, 1);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm->live, 0);
}

/* What the live observer must write for `n` bytes of one task and stream
 * fed through it and then ended: every '\n'-terminated line prefixed, and
 * a last partial line with "\n" added.  Written independently of the
 * observer, as the plain definition. */
static char *live_expect(const char *id, const char *data, size_t n,
                         size_t *outlen)
{
    size_t plen = strlen(id) + 3, lines = 1, i, o = 0;
    char *buf;

    for (i = 0; i < n; i++)
        lines += data[i] == '\n';
    buf = malloc(n + lines * (plen + 1) + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    i = 0;
    while (i < n) {
        const char *nl = memchr(data + i, '\n', n - i);
        size_t end = nl != NULL ? (size_t)(nl - data) : n;

        o += (size_t)sprintf(buf + o, "[%s] ", id);
        memcpy(buf + o, data + i, end - i);
        o += end - i;
        buf[o++] = '\n';
        i = end + 1;
    }
    buf[o] = '\0';
    *outlen = o;
    return buf;
}

/* ------------------------------------------------------------------------
 * Live observer (EXEC-016: line-prefixed, line-atomic).
 * ---------------------------------------------------------------------- */

typedef struct live_fx {
    haz_test_mem tm;
    haz_ctx *ctx;
    cap c;
    haz_observer_obj *obj;
    haz_observer ob;
} live_fx;

static void live_setup(live_fx *f, int same_fd)
{
    f->ctx = new_ctx(&f->tm);
    cap_open(&f->c);
    CU_ASSERT_EQUAL_FATAL(haz_observer_live_new(f->ctx, f->c.out,
                                                same_fd ? f->c.out : f->c.err,
                                                &f->obj, &f->ob), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->obj);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->ob.methods);
    CU_ASSERT_PTR_EQUAL(f->ob.ud, f->obj);
    CU_ASSERT_EQUAL(f->ob.methods->version, HAZ_OBSERVER_METHODS_VERSION);
}

static void live_teardown(live_fx *f)
{
    haz_observer_free(f->obj);
    cap_close(&f->c);
    free_ctx(f->ctx, &f->tm);
}

/* A line split over several chunks comes out once, whole. */
static void test_live_split(void)
{
    live_fx f;

    live_setup(&f, 0);
    ev_started(&f.ob, &T_A);
    ev_stdout(&f.ob, &T_A, "hel");
    CHECK_FD(f.c.out, "");
    ev_stdout(&f.ob, &T_A, "lo\nwor");
    CHECK_FD(f.c.out, "[p:a] hello\n");
    ev_stdout(&f.ob, &T_A, "l");
    ev_stdout(&f.ob, &T_A, "d\n");
    CHECK_FD(f.c.out, "[p:a] hello\n[p:a] world\n");
    ev_stdout(&f.ob, &T_A, "\n\n");             /* empty lines count too */
    CHECK_FD(f.c.out, "[p:a] hello\n[p:a] world\n[p:a] \n[p:a] \n");
    ev_finished(&f.ob, &T_A);
    CHECK_FD(f.c.out, "[p:a] hello\n[p:a] world\n[p:a] \n[p:a] \n");
    CHECK_FD(f.c.err, "");
    live_teardown(&f);
}

/* Two tasks: their lines alternate, but only at line boundaries. */
static void test_live_interleave(void)
{
    live_fx f;

    live_setup(&f, 0);
    ev_started(&f.ob, &T_A);
    ev_started(&f.ob, &T_B);
    ev_stdout(&f.ob, &T_A, "a1\na2");
    ev_stdout(&f.ob, &T_B, "b1\nb");
    ev_stdout(&f.ob, &T_A, "-more");
    ev_stdout(&f.ob, &T_C, "c");
    ev_stdout(&f.ob, &T_B, "2\nb3\n");
    ev_stdout(&f.ob, &T_A, "\n");
    CHECK_FD(f.c.out, "[p:a] a1\n[p:b] b1\n[p:b] b2\n[p:b] b3\n"
             "[p:a] a2-more\n");
    ev_finished(&f.ob, &T_B);
    ev_finished(&f.ob, &T_A);
    ev_finished(&f.ob, &T_C);
    CHECK_FD(f.c.out, "[p:a] a1\n[p:b] b1\n[p:b] b2\n[p:b] b3\n"
             "[p:a] a2-more\n[core:build] c\n");
    live_teardown(&f);
}

/* A partial last line is flushed with "\n" at every terminal event:
 * finished, cancelled, errored; stdout's first, then stderr's (checked
 * with both streams on one descriptor). */
static void test_live_partial_flush(void)
{
    live_fx f;

    live_setup(&f, 1);
    ev_stdout(&f.ob, &T_A, "out-a");
    ev_stderr(&f.ob, &T_A, "err-a");
    ev_stderr(&f.ob, &T_B, "err-b");
    ev_stdout(&f.ob, &T_B, "out-b");
    ev_stdout(&f.ob, &T_C, "line\nout-c");
    CHECK_FD(f.c.out, "[core:build] line\n");
    ev_finished(&f.ob, &T_A);
    CHECK_FD(f.c.out, "[core:build] line\n[p:a] out-a\n[p:a] err-a\n");
    ev_cancelled(&f.ob, &T_B);
    CHECK_FD(f.c.out, "[core:build] line\n[p:a] out-a\n[p:a] err-a\n"
             "[p:b] out-b\n[p:b] err-b\n");
    ev_errored(&f.ob, &T_C);
    CHECK_FD(f.c.out, "[core:build] line\n[p:a] out-a\n[p:a] err-a\n"
             "[p:b] out-b\n[p:b] err-b\n[core:build] out-c\n");
    /* the task is forgotten: a second terminal event writes nothing */
    ev_finished(&f.ob, &T_A);
    ev_stdout(&f.ob, &T_A, "again\n");
    CHECK_FD(f.c.out, "[core:build] line\n[p:a] out-a\n[p:a] err-a\n"
             "[p:b] out-b\n[p:b] err-b\n[core:build] out-c\n"
             "[p:a] again\n");
    live_teardown(&f);
}

/* Stdout lines go to out_fd, stderr lines to err_fd, and each stream holds
 * its own partial line. */
static void test_live_routing(void)
{
    live_fx f;

    live_setup(&f, 0);
    ev_stdout(&f.ob, &T_A, "o1\no");
    ev_stderr(&f.ob, &T_A, "e1\ne");
    ev_stdout(&f.ob, &T_A, "2\n");
    CHECK_FD(f.c.out, "[p:a] o1\n[p:a] o2\n");
    CHECK_FD(f.c.err, "[p:a] e1\n");
    ev_stderr(&f.ob, &T_A, "2");
    ev_finished(&f.ob, &T_A);
    CHECK_FD(f.c.out, "[p:a] o1\n[p:a] o2\n");
    CHECK_FD(f.c.err, "[p:a] e1\n[p:a] e2\n");
    live_teardown(&f);
}

/* One chunk of many lines, then the same bytes one at a time. */
static void test_live_many_lines(void)
{
    enum { N = 1000 };
    live_fx f;
    char *data, *want;
    size_t n = 0, wlen, i;

    data = malloc(N * 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    for (i = 0; i < N; i++)
        n += (size_t)sprintf(data + n, "line %lu\n", (unsigned long)i);
    want = live_expect("p:a", data, n, &wlen);

    live_setup(&f, 0);
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDOUT, data, n);
    CHECK_FD_N(f.c.out, want, wlen);
    cap_reset(&f.c);
    for (i = 0; i < n; i++)
        ev_out(&f.ob, &T_B, HAZ_STREAM_STDOUT, data + i, 1);
    ev_finished(&f.ob, &T_B);
    free(want);
    want = live_expect("p:b", data, n, &wlen);
    CHECK_FD_N(f.c.out, want, wlen);
    live_teardown(&f);
    free(want);
    free(data);
}

/* Empty chunks change nothing, before or inside a partial line. */
static void test_live_empty_chunk(void)
{
    live_fx f;

    live_setup(&f, 0);
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDOUT, "", 0);
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDERR, "", 0);
    ev_out(&f.ob, &T_B, HAZ_STREAM_STDOUT, "", 0);
    ev_finished(&f.ob, &T_B);
    CHECK_FD(f.c.out, "");
    ev_stdout(&f.ob, &T_A, "ab");
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDOUT, "", 0);
    ev_stdout(&f.ob, &T_A, "c\n");
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDOUT, "", 0);
    ev_finished(&f.ob, &T_A);
    CHECK_FD(f.c.out, "[p:a] abc\n");
    CHECK_FD(f.c.err, "");
    live_teardown(&f);
}

/* B4: every byte value, NUL runs, CR, invalid UTF-8 and escapes pass
 * through verbatim; only '\n' splits.  Fed whole, in odd-sized chunks and a
 * byte at a time. */
static void test_live_binary(void)
{
    static const size_t sizes[] = {0, 1, 2, 7, 255, 256};
    static const char mix[] =
        "\0\0\0\r\r\n\xff\xc0\xaf\xed\xa0\x80\x1b[31m\r";
    char data[1024];
    size_t n = 0, i, k, wlen;
    char *want;
    live_fx f;

    for (i = 0; i < 256; i++)
        data[n++] = (char)i;
    memcpy(data + n, mix, sizeof mix - 1);
    n += sizeof mix - 1;
    for (i = 0; i < 256; i++)
        data[n++] = (char)(255 - i);
    data[n++] = '\xe2';                   /* a final partial sequence */
    want = live_expect("p:a", data, n, &wlen);
    live_setup(&f, 0);
    for (k = 0; k < HAZ_ARRAY_LEN(sizes); k++) {
        size_t step = sizes[k] ? sizes[k] : n;

        cap_reset(&f.c);
        for (i = 0; i < n; i += step)
            ev_out(&f.ob, &T_A, HAZ_STREAM_STDERR, data + i,
                   n - i < step ? n - i : step);
        ev_finished(&f.ob, &T_A);
        CHECK_FD_N(f.c.err, want, wlen);
        CHECK_FD(f.c.out, "");
    }
    live_teardown(&f);
    free(want);
}

/* A 1 MiB line without a newline, in 4093-byte chunks then in one chunk
 * completed by a later "\n"; and 64 KiB a byte at a time (B5). */
static void test_live_huge_line(void)
{
    size_t n = (size_t)1 << 20, i, wlen;
    char *data = malloc(n), *want;
    live_fx f;

    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    for (i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    want = live_expect("p:a", data, n, &wlen);
    live_setup(&f, 0);
    for (i = 0; i < n; i += 4093)
        ev_out(&f.ob, &T_A, HAZ_STREAM_STDOUT, data + i,
               n - i < 4093 ? n - i : 4093);
    CHECK_FD(f.c.out, "");
    ev_finished(&f.ob, &T_A);
    CHECK_FD_N(f.c.out, want, wlen);

    cap_reset(&f.c);
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDOUT, data, n);
    CHECK_FD(f.c.out, "");
    ev_stdout(&f.ob, &T_A, "\n");
    CHECK_FD_N(f.c.out, want, wlen);
    ev_finished(&f.ob, &T_A);
    CHECK_FD_N(f.c.out, want, wlen);
    free(want);

    cap_reset(&f.c);
    for (i = 0; i < 65536; i++)
        ev_out(&f.ob, &T_B, HAZ_STREAM_STDOUT, data + i, 1);
    ev_cancelled(&f.ob, &T_B);
    want = live_expect("p:b", data, 65536, &wlen);
    CHECK_FD_N(f.c.out, want, wlen);
    live_teardown(&f);
    free(want);
    free(data);
}

/* Each line is exactly one write(): a datagram socket keeps one datagram
 * per write, so the datagrams must be the lines. */
static void test_live_one_write_per_line(void)
{
    static const char *const want[] = {
        "[p:a] one\n", "[p:b] two-parts\n", "[p:a] three\n",
        "[p:a] tail\n", "[p:b] err-tail\n"
    };
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj;
    haz_observer ob;
    char buf[256];
    size_t i;
    int sv[2];

    CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    CU_ASSERT_EQUAL_FATAL(haz_observer_live_new(ctx, sv[0], sv[0], &obj, &ob),
                          HAZ_OK);
    ev_stdout(&ob, &T_A, "one\nthr");
    ev_stdout(&ob, &T_B, "two-");
    ev_stdout(&ob, &T_B, "parts\n");
    ev_stdout(&ob, &T_A, "ee\ntail");
    ev_stderr(&ob, &T_B, "err-tail");
    ev_finished(&ob, &T_A);
    ev_errored(&ob, &T_B);
    haz_observer_free(obj);
    CU_ASSERT_NOT_EQUAL(fcntl(sv[1], F_SETFL, O_NONBLOCK), -1);
    for (i = 0; i < HAZ_ARRAY_LEN(want); i++) {
        ssize_t r = recv(sv[1], buf, sizeof buf, 0);

        CU_ASSERT_EQUAL(r, (ssize_t)strlen(want[i]));
        if (r >= 0)
            CU_ASSERT(same_bytes(buf, (size_t)r, want[i], strlen(want[i]),
                                 "datagram", __LINE__));
    }
    CU_ASSERT_EQUAL(recv(sv[1], buf, sizeof buf, 0), -1);  /* no more */
    close(sv[0]);
    close(sv[1]);
    free_ctx(ctx, &tm);
}

/* EXEC-017: a cache hit replays each stream in one call; the output looks
 * like that of a fresh run with arbitrary chunks. */
static void test_live_cache_hit(void)
{
    live_fx f;

    live_setup(&f, 0);
    ev_stdout(&f.ob, &T_A, "x\ny\nz");
    ev_stderr(&f.ob, &T_A, "warn\n");
    ev_finished(&f.ob, &T_A);
    ev_stdout(&f.ob, &T_B, "x");
    ev_stdout(&f.ob, &T_B, "\ny");
    ev_stderr(&f.ob, &T_B, "wa");
    ev_stdout(&f.ob, &T_B, "\nz");
    ev_stderr(&f.ob, &T_B, "rn\n");
    ev_finished(&f.ob, &T_B);
    CHECK_FD(f.c.out, "[p:a] x\n[p:a] y\n[p:a] z\n"
             "[p:b] x\n[p:b] y\n[p:b] z\n");
    CHECK_FD(f.c.err, "[p:a] warn\n[p:b] warn\n");
    live_teardown(&f);
}

/* Skipped tasks have no output; a terminal event for a task never seen
 * writes nothing; and an index far beyond the others works. */
static void test_live_terminal_misc(void)
{
    live_fx f;

    live_setup(&f, 0);
    ev_skipped(&f.ob, &T_B);
    ev_finished(&f.ob, &T_FAR);
    ev_cancelled(&f.ob, &T_C);
    CHECK_FD(f.c.out, "");
    ev_stdout(&f.ob, &T_FAR, "far\nfa");
    ev_stdout(&f.ob, &T_A, "near");
    ev_stdout(&f.ob, &T_FAR, "r");
    ev_finished(&f.ob, &T_FAR);
    ev_skipped(&f.ob, &T_A);         /* flushes, should it ever happen */
    CHECK_FD(f.c.out, "[far:away] far\n[far:away] far\n[p:a] near\n");
    live_teardown(&f);
}

/* haz_observer_free writes held partial lines of tasks that never ended,
 * in index order, stdout then stderr per task. */
static void test_live_free_flushes(void)
{
    live_fx f;

    live_setup(&f, 1);
    ev_stdout(&f.ob, &T_C, "c-out");
    ev_stderr(&f.ob, &T_B, "b-err");
    ev_stdout(&f.ob, &T_B, "b-out");
    ev_stderr(&f.ob, &T_C, "c-err\nc-err2");
    haz_observer_free(f.obj);
    f.obj = NULL;
    CHECK_FD(f.c.out, "[core:build] c-err\n[p:b] b-out\n[p:b] b-err\n"
             "[core:build] c-out\n[core:build] c-err2\n");
    live_teardown(&f);
}

/* Write errors are ignored (EXEC-016): a closed descriptor (EBADF) and a
 * pipe without reader (EPIPE, SIGPIPE ignored for the test); errno is left
 * as the caller had it. */
static void test_live_write_errors(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj;
    haz_observer ob;
    struct sigaction ign, old;
    int p[2], bad;

    bad = open("/dev/null", O_WRONLY);
    CU_ASSERT_FATAL(bad >= 0);
    close(bad);
    CU_ASSERT_EQUAL_FATAL(haz_observer_live_new(ctx, bad, bad, &obj, &ob),
                          HAZ_OK);
    errno = EDOM;
    ev_stdout(&ob, &T_A, "lost\npartial");
    ev_stderr(&ob, &T_A, "x");
    ev_finished(&ob, &T_A);
    CU_ASSERT_EQUAL(errno, EDOM);
    haz_observer_free(obj);

    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    CU_ASSERT_EQUAL_FATAL(sigaction(SIGPIPE, &ign, &old), 0);
    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    close(p[0]);
    CU_ASSERT_EQUAL_FATAL(haz_observer_live_new(ctx, p[1], p[1], &obj, &ob),
                          HAZ_OK);
    ev_stdout(&ob, &T_A, "to nobody\npartial");
    ev_stderr(&ob, &T_B, "held");
    ev_cancelled(&ob, &T_A);
    CU_ASSERT_EQUAL(errno, EDOM);
    haz_observer_free(obj);                 /* flushes T_B into the void */
    close(p[1]);
    CU_ASSERT_EQUAL(sigaction(SIGPIPE, &old, NULL), 0);
    free_ctx(ctx, &tm);
}

static void test_live_invalid(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj = (haz_observer_obj *)&tm;
    haz_observer ob = {(const haz_observer_methods *)&tm, &tm};

    CU_ASSERT_EQUAL(haz_observer_live_new(NULL, 1, 2, &obj, &ob), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(obj);
    CU_ASSERT_PTR_NULL(ob.methods);
    CU_ASSERT_PTR_NULL(ob.ud);
    CU_ASSERT_EQUAL(haz_observer_live_new(ctx, 1, 2, NULL, &ob), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_live_new(ctx, 1, 2, &obj, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_live_new(ctx, -1, 2, &obj, &ob), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_live_new(ctx, 1, -1, &obj, &ob), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(obj);
    CU_ASSERT_PTR_NULL(haz_observer_recording_text(obj, NULL));
    haz_observer_free(NULL);
    free_ctx(ctx, &tm);
}

/* ------------------------------------------------------------------------
 * Buffered observer (EXEC-016: one block per stream at the task's end).
 * ---------------------------------------------------------------------- */

static void buffered_setup(live_fx *f, int same_fd)
{
    f->ctx = new_ctx(&f->tm);
    cap_open(&f->c);
    CU_ASSERT_EQUAL_FATAL(haz_observer_buffered_new(f->ctx, f->c.out,
                                                    same_fd ? f->c.out
                                                            : f->c.err,
                                                    &f->obj, &f->ob), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->obj);
    CU_ASSERT_PTR_EQUAL(f->ob.ud, f->obj);
    CU_ASSERT_EQUAL(f->ob.methods->version, HAZ_OBSERVER_METHODS_VERSION);
}

/* Nothing is written while the task runs; at its end, its stdout block to
 * out_fd and its stderr block to err_fd, verbatim, no newline added. */
static void test_buffered_blocks(void)
{
    live_fx f;

    buffered_setup(&f, 0);
    ev_started(&f.ob, &T_A);
    ev_stdout(&f.ob, &T_A, "o1\n");
    ev_stderr(&f.ob, &T_A, "e1");
    ev_stdout(&f.ob, &T_A, "o2");
    ev_stderr(&f.ob, &T_A, "\ne2");
    CHECK_FD(f.c.out, "");
    CHECK_FD(f.c.err, "");
    ev_finished(&f.ob, &T_A);
    CHECK_FD(f.c.out, "o1\no2");
    CHECK_FD(f.c.err, "e1\ne2");
    /* the buffers were emptied: a second end writes nothing more */
    ev_finished(&f.ob, &T_A);
    CHECK_FD(f.c.out, "o1\no2");
    live_teardown(&f);
}

/* Two tasks interleaved at the event level give contiguous blocks, in the
 * order the tasks end, stdout block before stderr block (one descriptor
 * for both, to see the order). */
static void test_buffered_interleaved(void)
{
    live_fx f;

    buffered_setup(&f, 1);
    ev_stdout(&f.ob, &T_A, "A-out-1 ");
    ev_stderr(&f.ob, &T_B, "B-err-1 ");
    ev_stderr(&f.ob, &T_A, "A-err-1 ");
    ev_stdout(&f.ob, &T_B, "B-out-1 ");
    ev_stdout(&f.ob, &T_A, "A-out-2 ");
    ev_stderr(&f.ob, &T_B, "B-err-2 ");
    ev_stdout(&f.ob, &T_B, "B-out-2 ");
    ev_stderr(&f.ob, &T_A, "A-err-2 ");
    ev_finished(&f.ob, &T_B);
    CHECK_FD(f.c.out, "B-out-1 B-out-2 B-err-1 B-err-2 ");
    ev_stdout(&f.ob, &T_A, "A-out-3 ");
    ev_finished(&f.ob, &T_A);
    CHECK_FD(f.c.out, "B-out-1 B-out-2 B-err-1 B-err-2 "
             "A-out-1 A-out-2 A-out-3 A-err-1 A-err-2 ");
    live_teardown(&f);
}

/* B4: every byte value verbatim; EXEC-017: a cache hit (one call per
 * stream) and the same bytes in many chunks give the same blocks. */
static void test_buffered_binary(void)
{
    char data[512];
    size_t i;
    live_fx f;

    for (i = 0; i < 512; i++)
        data[i] = (char)(i * 7);
    buffered_setup(&f, 0);
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDOUT, data, 512);
    ev_out(&f.ob, &T_A, HAZ_STREAM_STDERR, data + 100, 300);
    ev_finished(&f.ob, &T_A);
    CHECK_FD_N(f.c.out, data, 512);
    CHECK_FD_N(f.c.err, data + 100, 300);
    cap_reset(&f.c);
    for (i = 0; i < 512; i += 3)
        ev_out(&f.ob, &T_B, HAZ_STREAM_STDOUT, data + i,
               512 - i < 3 ? 512 - i : 3);
    for (i = 100; i < 400; i++)
        ev_out(&f.ob, &T_B, HAZ_STREAM_STDERR, data + i, 1);
    ev_finished(&f.ob, &T_B);
    CHECK_FD_N(f.c.out, data, 512);
    CHECK_FD_N(f.c.err, data + 100, 300);
    live_teardown(&f);
}

/* Cancelled and errored end a task like finished; skipped tasks and tasks
 * without output write nothing; empty chunks are nothing. */
static void test_buffered_terminals(void)
{
    live_fx f;

    buffered_setup(&f, 0);
    ev_stdout(&f.ob, &T_A, "a");
    ev_stderr(&f.ob, &T_B, "b");
    ev_out(&f.ob, &T_C, HAZ_STREAM_STDOUT, "", 0);
    ev_cancelled(&f.ob, &T_A);
    CHECK_FD(f.c.out, "a");
    CHECK_FD(f.c.err, "");
    ev_errored(&f.ob, &T_B);
    CHECK_FD(f.c.err, "b");
    ev_finished(&f.ob, &T_C);
    ev_skipped(&f.ob, &T_FAR);
    ev_started(&f.ob, &T_FAR);
    ev_finished(&f.ob, &T_FAR);
    CHECK_FD(f.c.out, "a");
    CHECK_FD(f.c.err, "b");
    live_teardown(&f);
}

/* haz_observer_free writes the blocks of tasks that never ended, in index
 * order; a large index and a 1 MiB block work. */
static void test_buffered_free_flushes(void)
{
    size_t n = (size_t)1 << 20, i;
    char *data = malloc(n), *want;
    live_fx f;

    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    want = malloc(n + 18);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    for (i = 0; i < n; i++)
        data[i] = (char)(i % 251);
    buffered_setup(&f, 1);
    for (i = 0; i < n; i += 4096)
        ev_out(&f.ob, &T_FAR, HAZ_STREAM_STDOUT, data + i, 4096);
    ev_stderr(&f.ob, &T_C, "C-err ");
    ev_stdout(&f.ob, &T_B, "B-out ");
    ev_stdout(&f.ob, &T_C, "C-out ");
    CHECK_FD(f.c.out, "");
    haz_observer_free(f.obj);
    f.obj = NULL;
    memcpy(want, "B-out C-out C-err ", 18);
    memcpy(want + 18, data, n);
    CHECK_FD_N(f.c.out, want, n + 18);
    live_teardown(&f);
    free(want);
    free(data);
}

static void test_buffered_invalid(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj = (haz_observer_obj *)&tm;
    haz_observer ob = {(const haz_observer_methods *)&tm, &tm};

    CU_ASSERT_EQUAL(haz_observer_buffered_new(NULL, 1, 2, &obj, &ob),
                    HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(obj);
    CU_ASSERT_PTR_NULL(ob.methods);
    CU_ASSERT_EQUAL(haz_observer_buffered_new(ctx, 1, 2, NULL, &ob),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_buffered_new(ctx, 1, 2, &obj, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_buffered_new(ctx, -3, 2, &obj, &ob),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_buffered_new(ctx, 1, -3, &obj, &ob),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_buffered_new(ctx, 1, 2, &obj, &ob), HAZ_OK);
    CU_ASSERT_PTR_NULL(haz_observer_recording_text(obj, NULL));
    haz_observer_free(obj);
    free_ctx(ctx, &tm);
}

/* ------------------------------------------------------------------------
 * Recording observer (docs/observer-trace.md).
 * ---------------------------------------------------------------------- */

static void check_text(const haz_observer_obj *obj, const char *want,
                       int line)
{
    size_t len = 12345;
    const char *got = haz_observer_recording_text(obj, &len);

    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(strlen(got), len);
    CU_ASSERT(same_bytes(got, len, want, strlen(want), "trace", line));
}

#define CHECK_TEXT(obj, want) check_text((obj), (want), __LINE__)

/* Every event kind and every optional field, exactly. */
static void test_record_events(void)
{
    static const haz_task_id odd = {9, "p", "sp ace", "p:sp ace\t\\"};
    const haz_task_id *members[3];
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj;
    haz_observer ob;
    haz_task_outcome o;
    haz_violation v;

    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, NULL, &obj, &ob),
                          HAZ_OK);
    CHECK_TEXT(obj, "");
    ev_started(&ob, &T_C);
    ev_stdout(&ob, &T_C, "hello\n");
    ev_out(&ob, &T_C, HAZ_STREAM_STDERR, "a\\b\tc\rd\0e\x7f\x80\xff \x1b", 14);
    ev_out(&ob, &T_C, HAZ_STREAM_STDOUT, "", 0);
    ev_started(&ob, &odd);
    ev_started(&ob, NULL);
    CHECK_TEXT(obj,
        "started core:build\n"
        "stdout core:build 6 hello\\n\n"
        "stderr core:build 14 a\\\\b\\tc\\rd\\x00e\\x7f\\x80\\xff \\x1b\n"
        "stdout core:build 0\n"
        "started p:sp\\x20ace\\t\\\\\n"
        "started ?\n");
    ob.methods->on_task_finished(ob.ud, NULL);      /* nothing */

    haz_observer_free(obj);
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, NULL, &obj, &ob),
                          HAZ_OK);
    /* finished */
    o = rec_of(&T_A, HAZ_OUTCOME_COMPLETED);
    o.status.kind = HAZ_EXIT_CODE;
    ob.methods->on_task_finished(ob.ud, &o);
    o.status.code = 3;
    o.state = HAZ_STATE_FAILED;
    ob.methods->on_task_finished(ob.ud, &o);
    o.status.kind = HAZ_EXIT_SIGNAL;
    o.status.signo = 9;
    o.timed_out = 1;
    ob.methods->on_task_finished(ob.ud, &o);
    o = rec_of(&T_B, HAZ_OUTCOME_COMPLETED);
    o.source = HAZ_SOURCE_CACHE_HIT;
    ob.methods->on_task_finished(ob.ud, &o);
    o.state = HAZ_STATE_CANCELLED;
    o.source = HAZ_SOURCE_FRESH;
    ob.methods->on_task_finished(ob.ud, &o);
    CHECK_TEXT(obj,
        "finished p:a fresh succeeded exit=0\n"
        "finished p:a fresh failed exit=3\n"
        "finished p:a fresh failed signal=9 timed-out\n"
        "finished p:b cache-hit succeeded none\n"
        "finished p:b fresh cancelled none\n");

    haz_observer_free(obj);
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, NULL, &obj, &ob),
                          HAZ_OK);
    /* skipped: every cause, with and without upstream */
    o = rec_of(&T_B, HAZ_OUTCOME_SKIPPED);
    o.skip_cause = HAZ_SKIP_UPSTREAM_FAILED;
    o.upstream = &T_A;
    ob.methods->on_task_skipped(ob.ud, &o);
    o.skip_cause = HAZ_SKIP_UPSTREAM_ERRORED;
    ob.methods->on_task_skipped(ob.ud, &o);
    o.upstream = NULL;
    o.skip_cause = HAZ_SKIP_RUNTIME_CYCLE;
    ob.methods->on_task_skipped(ob.ud, &o);
    o.skip_cause = HAZ_SKIP_ADMISSION_CLOSED;
    ob.methods->on_task_skipped(ob.ud, &o);
    o.skip_cause = (haz_skip_cause)0;
    ob.methods->on_task_skipped(ob.ud, &o);
    /* cancelled: every kind, with upstream, with an exit status */
    o = rec_of(&T_C, HAZ_OUTCOME_CANCELLED);
    o.cancel_kind = HAZ_CANCEL_SIGNALED_IN_FLIGHT;
    o.status.kind = HAZ_EXIT_SIGNAL;
    o.status.signo = 15;
    ob.methods->on_task_cancelled(ob.ud, &o);
    o.status.kind = HAZ_EXIT_CODE;
    o.status.code = 143;
    ob.methods->on_task_cancelled(ob.ud, &o);
    o.status.kind = HAZ_EXIT_NONE;
    ob.methods->on_task_cancelled(ob.ud, &o);
    o.cancel_kind = HAZ_CANCEL_RUN_CANCELLED;
    ob.methods->on_task_cancelled(ob.ud, &o);
    o.cancel_kind = HAZ_CANCEL_UPSTREAM_CANCELLED;
    o.upstream = &T_A;
    ob.methods->on_task_cancelled(ob.ud, &o);
    CHECK_TEXT(obj,
        "skipped p:b upstream-failed p:a\n"
        "skipped p:b upstream-errored p:a\n"
        "skipped p:b runtime-cycle\n"
        "skipped p:b admission-closed\n"
        "skipped p:b unknown\n"
        "cancelled core:build signaled-in-flight signal=15\n"
        "cancelled core:build signaled-in-flight exit=143\n"
        "cancelled core:build signaled-in-flight\n"
        "cancelled core:build run-cancelled\n"
        "cancelled core:build upstream-cancelled p:a\n");

    haz_observer_free(obj);
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, NULL, &obj, &ob),
                          HAZ_OK);
    /* errored: message escaped, NULL and empty message */
    o = rec_of(&T_A, HAZ_OUTCOME_ERRORED);
    o.error = HAZ_TERR_SPAWN;
    o.os_errno = ENOENT;
    o.message = "p:a: cannot run 'cc':\nNo such file";
    ob.methods->on_task_errored(ob.ud, &o);
    o.error = HAZ_TERR_OUTPUT_NOT_REGULAR;
    o.message = NULL;
    ob.methods->on_task_errored(ob.ud, &o);
    o.error = HAZ_TERR_INTERNAL;
    o.message = "";
    ob.methods->on_task_errored(ob.ud, &o);
    /* violations */
    memset(&v, 0, sizeof v);
    v.kind = HAZ_VIOLATION_OUTPUT_OVERLAP;
    v.first = &T_A;
    v.second = &T_B;
    v.path = "/ws/out/my file";
    ob.methods->on_violation(ob.ud, &v);
    memset(&v, 0, sizeof v);
    v.kind = HAZ_VIOLATION_RUNTIME_CYCLE;
    v.first = &T_B;
    v.second = &T_A;
    members[0] = &T_A;
    members[1] = &T_B;
    members[2] = &T_C;
    v.cycle = members;
    v.n_cycle = 3;
    ob.methods->on_violation(ob.ud, &v);
    v.n_cycle = 0;
    ob.methods->on_violation(ob.ud, &v);
    v.kind = (haz_violation_kind)77;
    ob.methods->on_violation(ob.ud, &v);
    ob.methods->on_violation(ob.ud, NULL);
    CHECK_TEXT(obj,
        "errored p:a spawn: p:a: cannot run 'cc':\\nNo such file\n"
        "errored p:a output-not-regular:\n"
        "errored p:a internal:\n"
        "violation output-overlap p:a p:b /ws/out/my\\x20file\n"
        "violation runtime-cycle p:b p:a p:a p:b core:build\n"
        "violation runtime-cycle p:b p:a\n"
        "violation unknown p:b p:a\n");
    haz_observer_free(obj);
    free_ctx(ctx, &tm);
}

/* The example of docs/observer-trace.md, byte for byte. */
static void test_record_doc_example(void)
{
    static const haz_task_id gen = {0, "core", "gen", "core:gen"};
    static const haz_task_id build = {1, "core", "build", "core:build"};
    static const haz_task_id link = {2, "app", "link", "app:link"};
    static const haz_task_id test = {3, "app", "test", "app:test"};
    static const haz_task_id pack = {4, "app", "pack", "app:pack"};
    static const haz_task_id x = {5, "lib", "x", "lib:x"};
    static const haz_task_id y = {6, "lib", "y", "lib:y"};
    static const haz_task_id va = {7, "a", "x", "a:x"};
    static const haz_task_id vb = {8, "b", "y", "b:y"};
    const haz_task_id *members[2];
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj;
    haz_observer ob;
    haz_task_outcome o;
    haz_violation v;

    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, NULL, &obj, &ob),
                          HAZ_OK);
    ev_started(&ob, &gen);
    ev_stdout(&ob, &gen, "generating\n");
    ev_out(&ob, &gen, HAZ_STREAM_STDERR, "warning:\tx\0y\r\n", 14);
    ev_finished(&ob, &gen);
    ev_started(&ob, &build);
    o = rec_of(&build, HAZ_OUTCOME_ERRORED);
    o.error = HAZ_TERR_SPAWN;
    o.message = "core:build: cannot run cc: No such file or directory";
    ob.methods->on_task_errored(ob.ud, &o);
    o = rec_of(&link, HAZ_OUTCOME_SKIPPED);
    o.skip_cause = HAZ_SKIP_UPSTREAM_ERRORED;
    o.upstream = &build;
    ob.methods->on_task_skipped(ob.ud, &o);
    ev_started(&ob, &test);
    ev_cancelled(&ob, &test);
    o = rec_of(&pack, HAZ_OUTCOME_CANCELLED);
    o.cancel_kind = HAZ_CANCEL_UPSTREAM_CANCELLED;
    o.upstream = &test;
    ob.methods->on_task_cancelled(ob.ud, &o);
    ev_started(&ob, &x);
    o = rec_of(&x, HAZ_OUTCOME_COMPLETED);
    o.source = HAZ_SOURCE_CACHE_HIT;
    ob.methods->on_task_finished(ob.ud, &o);
    ev_started(&ob, &y);
    o = rec_of(&y, HAZ_OUTCOME_COMPLETED);
    o.state = HAZ_STATE_FAILED;
    o.status.kind = HAZ_EXIT_SIGNAL;
    o.status.signo = 9;
    o.timed_out = 1;
    ob.methods->on_task_finished(ob.ud, &o);
    memset(&v, 0, sizeof v);
    v.kind = HAZ_VIOLATION_OUTPUT_OVERLAP;
    v.first = &va;
    v.second = &vb;
    v.path = "/out/f";
    ob.methods->on_violation(ob.ud, &v);
    v.kind = HAZ_VIOLATION_RUNTIME_CYCLE;
    v.path = NULL;
    members[0] = &va;
    members[1] = &vb;
    v.cycle = members;
    v.n_cycle = 2;
    ob.methods->on_violation(ob.ud, &v);
    CHECK_TEXT(obj,
        "started core:gen\n"
        "stdout core:gen 11 generating\\n\n"
        "stderr core:gen 14 warning:\\tx\\x00y\\r\\n\n"
        "finished core:gen fresh succeeded exit=0\n"
        "started core:build\n"
        "errored core:build spawn: core:build: cannot run cc: No such file "
        "or directory\n"
        "skipped app:link upstream-errored core:build\n"
        "started app:test\n"
        "cancelled app:test signaled-in-flight signal=15\n"
        "cancelled app:pack upstream-cancelled app:test\n"
        "started lib:x\n"
        "finished lib:x cache-hit succeeded none\n"
        "started lib:y\n"
        "finished lib:y fresh failed signal=9 timed-out\n"
        "violation output-overlap a:x b:y /out/f\n"
        "violation runtime-cycle a:x b:y a:x b:y\n");
    haz_observer_free(obj);
    free_ctx(ctx, &tm);
}

/* All 256 byte values: only printable ASCII appears raw. */
static void test_record_escape_all(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj;
    haz_observer ob;
    char data[256], want[2048];
    size_t i, n = 0, len;
    const char *got;

    for (i = 0; i < 256; i++)
        data[i] = (char)i;
    n += (size_t)sprintf(want, "stdout p:a 256 ");
    for (i = 0; i < 256; i++) {
        if (i == '\n')
            n += (size_t)sprintf(want + n, "\\n");
        else if (i == '\t')
            n += (size_t)sprintf(want + n, "\\t");
        else if (i == '\r')
            n += (size_t)sprintf(want + n, "\\r");
        else if (i == '\\')
            n += (size_t)sprintf(want + n, "\\\\");
        else if (i < 0x20 || i >= 0x7f)
            n += (size_t)sprintf(want + n, "\\x%02x", (unsigned)i);
        else
            want[n++] = (char)i;
    }
    want[n++] = '\n';
    want[n] = '\0';
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, NULL, &obj, &ob),
                          HAZ_OK);
    ev_out(&ob, &T_A, HAZ_STREAM_STDOUT, data, 256);
    got = haz_observer_recording_text(obj, &len);
    CU_ASSERT(same_bytes(got, len, want, n, "escaped", __LINE__));
    for (i = 0; i < len; i++)
        CU_ASSERT(got[i] == '\n' || (got[i] >= 0x20 && got[i] < 0x7f));
    haz_observer_free(obj);
    free_ctx(ctx, &tm);
}

/* A methods table that counts calls, for chaining checks. */
typedef struct counter {
    int started, output, finished, skipped, cancelled, errored, violation;
    size_t bytes;
} counter;

static void cnt_started(void *ud, const haz_task_id *t)
{
    (void)t;
    ((counter *)ud)->started++;
}

static void cnt_output(void *ud, const haz_task_id *t, haz_stream s,
                       const void *d, size_t n)
{
    (void)t;
    (void)s;
    (void)d;
    ((counter *)ud)->output++;
    ((counter *)ud)->bytes += n;
}

static void cnt_finished(void *ud, const haz_task_outcome *o)
{
    (void)o;
    ((counter *)ud)->finished++;
}

static void cnt_skipped(void *ud, const haz_task_outcome *o)
{
    (void)o;
    ((counter *)ud)->skipped++;
}

static void cnt_cancelled(void *ud, const haz_task_outcome *o)
{
    (void)o;
    ((counter *)ud)->cancelled++;
}

static void cnt_errored(void *ud, const haz_task_outcome *o)
{
    (void)o;
    ((counter *)ud)->errored++;
}

static void cnt_violation(void *ud, const haz_violation *v)
{
    (void)v;
    ((counter *)ud)->violation++;
}

static const haz_observer_methods counter_methods = {
    HAZ_OBSERVER_METHODS_VERSION, cnt_started, cnt_output, cnt_finished,
    cnt_skipped, cnt_cancelled, cnt_errored, cnt_violation
};

static const haz_observer_methods empty_methods = {
    HAZ_OBSERVER_METHODS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

/* One event of every kind through `ob`. */
static void feed_all_kinds(const haz_observer *ob)
{
    haz_violation v;

    memset(&v, 0, sizeof v);
    v.kind = HAZ_VIOLATION_OUTPUT_OVERLAP;
    v.first = &T_A;
    v.second = &T_B;
    v.path = "/f";
    ev_started(ob, &T_A);
    ev_stdout(ob, &T_A, "12345\n");
    ev_stderr(ob, &T_A, "err");
    ev_finished(ob, &T_A);
    ev_skipped(ob, &T_B);
    ev_cancelled(ob, &T_C);
    ev_errored(ob, &T_FAR);
    ob->methods->on_violation(ob->ud, &v);
}

static const char all_kinds_trace[] =
    "started p:a\n"
    "stdout p:a 6 12345\\n\n"
    "stderr p:a 3 err\n"
    "finished p:a fresh succeeded exit=0\n"
    "skipped p:b upstream-failed p:a\n"
    "cancelled core:build signaled-in-flight signal=15\n"
    "errored far:away stream-read: read failed\n"
    "violation output-overlap p:a p:b /f\n";

/* Chaining: events are recorded, then forwarded; chains nest; a chained
 * table with NULL slots is fine; a live observer can be chained. */
static void test_record_chain(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *inner, *outer, *live, *rec2;
    haz_observer ob_inner, ob_outer, ob_live, ob_rec2, chain;
    counter cnt;
    cap c;

    memset(&cnt, 0, sizeof cnt);
    chain.methods = &counter_methods;
    chain.ud = &cnt;
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, &chain, &inner,
                                                     &ob_inner), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, &ob_inner, &outer,
                                                     &ob_outer), HAZ_OK);
    feed_all_kinds(&ob_outer);
    CHECK_TEXT(outer, all_kinds_trace);
    CHECK_TEXT(inner, all_kinds_trace);
    CU_ASSERT_EQUAL(cnt.started, 1);
    CU_ASSERT_EQUAL(cnt.output, 2);
    CU_ASSERT_EQUAL(cnt.bytes, 9);
    CU_ASSERT_EQUAL(cnt.finished, 1);
    CU_ASSERT_EQUAL(cnt.skipped, 1);
    CU_ASSERT_EQUAL(cnt.cancelled, 1);
    CU_ASSERT_EQUAL(cnt.errored, 1);
    CU_ASSERT_EQUAL(cnt.violation, 1);
    haz_observer_free(outer);
    haz_observer_free(inner);

    chain.methods = &empty_methods;
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, &chain, &rec2,
                                                     &ob_rec2), HAZ_OK);
    feed_all_kinds(&ob_rec2);
    CHECK_TEXT(rec2, all_kinds_trace);
    haz_observer_free(rec2);

    cap_open(&c);
    CU_ASSERT_EQUAL_FATAL(haz_observer_live_new(ctx, c.out, c.err, &live,
                                                &ob_live), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(ctx, &ob_live, &rec2,
                                                     &ob_rec2), HAZ_OK);
    feed_all_kinds(&ob_rec2);
    CHECK_TEXT(rec2, all_kinds_trace);
    CHECK_FD(c.out, "[p:a] 12345\n");
    CHECK_FD(c.err, "[p:a] err\n");
    haz_observer_free(rec2);
    haz_observer_free(live);
    cap_close(&c);
    free_ctx(ctx, &tm);
}

static void test_record_invalid(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_observer_obj *obj = (haz_observer_obj *)&tm;
    haz_observer ob = {(const haz_observer_methods *)&tm, &tm};
    haz_observer bad = {NULL, NULL};
    haz_observer_methods old = empty_methods;
    size_t len = 99;

    CU_ASSERT_EQUAL(haz_observer_recording_new(NULL, NULL, &obj, &ob),
                    HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(obj);
    CU_ASSERT_PTR_NULL(ob.methods);
    CU_ASSERT_EQUAL(haz_observer_recording_new(ctx, NULL, NULL, &ob),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_recording_new(ctx, NULL, &obj, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_observer_recording_new(ctx, &bad, &obj, &ob),
                    HAZ_EINVAL);
    old.version = 0;
    bad.methods = &old;
    CU_ASSERT_EQUAL(haz_observer_recording_new(ctx, &bad, &obj, &ob),
                    HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(obj);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(haz_observer_recording_text(NULL, &len));
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(haz_observer_recording_new(ctx, NULL, &obj, &ob), HAZ_OK);
    len = 99;
    CU_ASSERT_STRING_EQUAL(haz_observer_recording_text(obj, &len), "");
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_PTR_NOT_NULL(haz_observer_recording_text(obj, NULL));
    haz_observer_free(obj);
    free_ctx(ctx, &tm);
}

/* ------------------------------------------------------------------------
 * Allocation-failure sweeps: fail allocation call i (once, then from i on)
 * while creating an observer and feeding it events, for every i until a
 * run needs no failure.  Creation returns 0 or HAZ_ENOMEM; nothing leaks;
 * and what the observer writes still holds every byte, in order, with each
 * line belonging to one task.
 * ---------------------------------------------------------------------- */

/* Three tasks with separate alphabets, so their bytes can be told apart
 * even when a degraded path splits blocks or lines.  Long chunks make held
 * lines and blocks grow past their first allocation, so that growing them
 * can fail too. */
typedef struct step {
    const haz_task_id *task;
    haz_stream stream;      /* 0: the task's terminal event */
    const char *data;
} step;

static const step oom_steps[] = {
    {&T_A, HAZ_STREAM_STDOUT, "alpha\nbe"},
    {&T_B, HAZ_STREAM_STDOUT, "ONE\nTW"},
    {&T_A, HAZ_STREAM_STDOUT, "ta"},
    {&T_A, HAZ_STREAM_STDOUT, "abcdefghijklmnopqrstuvwxyzabcdefghijklm"
                              "nopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
                              "abcdefghijklmnopqrstuvwxyz"},
    {&T_A, HAZ_STREAM_STDERR, "erra\ner"},
    {&T_FAR, HAZ_STREAM_STDOUT, "12\n34"},
    {&T_A, HAZ_STREAM_STDOUT, "\ngamma\ndelta"},
    {&T_B, HAZ_STREAM_STDERR, "X"},
    {&T_A, 0, NULL},
    {&T_B, HAZ_STREAM_STDOUT, "OABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLM"
                              "NOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "\nTHREE"},
    {&T_FAR, HAZ_STREAM_STDERR, "5"},
    {&T_B, 0, NULL}
    /* T_FAR is left for haz_observer_free to flush */
};

static void feed_steps(const haz_observer *ob)
{
    size_t i;

    for (i = 0; i < HAZ_ARRAY_LEN(oom_steps); i++) {
        const step *s = &oom_steps[i];

        if (s->stream == 0)
            ev_finished(ob, s->task);
        else
            ev_out(ob, s->task, s->stream, s->data, strlen(s->data));
    }
}

/* The bytes task t sent on stream s, '\n' removed when `strip`. */
static size_t sent(const haz_task_id *t, haz_stream s, int strip, char *out)
{
    size_t i, n = 0;
    const char *p;

    for (i = 0; i < HAZ_ARRAY_LEN(oom_steps); i++)
        if (oom_steps[i].task == t && oom_steps[i].stream == s)
            for (p = oom_steps[i].data; *p != '\0'; p++)
                if (!strip || *p != '\n')
                    out[n++] = *p;
    out[n] = '\0';
    return n;
}

static int in_alphabet(const haz_task_id *t, char c)
{
    if (t == &T_A)
        return c >= 'a' && c <= 'z';
    if (t == &T_B)
        return c >= 'A' && c <= 'Z';
    return c >= '0' && c <= '9';
}

/* Live: every line is "[id] " + bytes of that task only + "\n"; the
 * payloads of each task, newlines removed, are what it sent. */
static void check_live_oom(int fd, haz_stream s)
{
    static const haz_task_id *const tasks[] = {&T_A, &T_B, &T_FAR};
    char got[3][1024], want[1024];
    size_t n[3] = {0, 0, 0}, len, k;
    char *text = slurp(fd, &len), *p = text, *end = text + len;

    CU_ASSERT(len == 0 || text[len - 1] == '\n');
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        int found = 0;

        if (nl == NULL)
            break;
        for (k = 0; k < 3; k++) {
            size_t plen = strlen(tasks[k]->id);

            if (p[0] == '[' && strncmp(p + 1, tasks[k]->id, plen) == 0 &&
                p[plen + 1] == ']' && p[plen + 2] == ' ') {
                for (p += plen + 3; p < nl; p++) {
                    CU_ASSERT(in_alphabet(tasks[k], *p));
                    if (n[k] < sizeof got[k])
                        got[k][n[k]++] = *p;
                }
                found = 1;
                break;
            }
        }
        CU_ASSERT(found);
        p = nl + 1;
    }
    for (k = 0; k < 3; k++) {
        size_t wn = sent(tasks[k], s, 1, want);

        CU_ASSERT(same_bytes(got[k], n[k], want, wn, tasks[k]->id,
                             __LINE__));
    }
    free(text);
}

/* Buffered: the bytes of each task, in order, are what it sent. */
static void check_buffered_oom(int fd, haz_stream s)
{
    static const haz_task_id *const tasks[] = {&T_A, &T_B, &T_FAR};
    char got[1024], want[1024];
    size_t len, i, k, n;
    char *text = slurp(fd, &len);

    for (k = 0; k < 3; k++) {
        n = 0;
        for (i = 0; i < len && n < sizeof got; i++)
            if (text[i] != '\n' && in_alphabet(tasks[k], text[i]))
                got[n++] = text[i];
        CU_ASSERT(same_bytes(got, n, want, sent(tasks[k], s, 1, want),
                             tasks[k]->id, __LINE__));
    }
    free(text);
}

typedef enum oom_kind { OOM_LIVE, OOM_BUFFERED } oom_kind;

static void oom_sweep(oom_kind kind)
{
    int persistent;

    for (persistent = 0; persistent <= 1; persistent++) {
        unsigned long i;
        int clean = 0;

        for (i = 1; i < 10000 && !clean; i++) {
            haz_test_mem tm;
            haz_ctx *ctx = new_ctx(&tm);
            haz_observer_obj *obj = NULL;
            haz_observer ob;
            cap c;
            int rc;

            cap_open(&c);
            haz_test_mem_fail_at(&tm, i, persistent);
            if (kind == OOM_LIVE)
                rc = haz_observer_live_new(ctx, c.out, c.err, &obj, &ob);
            else
                rc = haz_observer_buffered_new(ctx, c.out, c.err, &obj, &ob);
            CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
            if (rc == HAZ_OK) {
                feed_steps(&ob);
                haz_observer_free(obj);
                if (kind == OOM_LIVE) {
                    check_live_oom(c.out, HAZ_STREAM_STDOUT);
                    check_live_oom(c.err, HAZ_STREAM_STDERR);
                } else {
                    check_buffered_oom(c.out, HAZ_STREAM_STDOUT);
                    check_buffered_oom(c.err, HAZ_STREAM_STDERR);
                }
            } else {
                CU_ASSERT_PTR_NULL(obj);
            }
            clean = tm.failures == 0;
            haz_test_mem_fail_at(&tm, 0, 0);
            free_ctx(ctx, &tm);
            cap_close(&c);
        }
        CU_ASSERT(clean);
        CU_ASSERT(i > 2);
    }
}

static void test_oom_live(void)
{
    oom_sweep(OOM_LIVE);
}

static void test_oom_buffered(void)
{
    oom_sweep(OOM_BUFFERED);
}

/* Recording: the trace is the full trace with some lines left out, each
 * run of left-out lines announced by "lost N" before the next recorded
 * line; the chained observer sees every event regardless. */
static void test_oom_recording(void)
{
    int persistent;

    for (persistent = 0; persistent <= 1; persistent++) {
        unsigned long i;
        int clean = 0;

        for (i = 1; i < 10000 && !clean; i++) {
            haz_test_mem tm;
            haz_ctx *ctx = new_ctx(&tm);
            haz_observer_obj *obj = NULL;
            haz_observer ob, chain;
            counter cnt;
            int rc;

            memset(&cnt, 0, sizeof cnt);
            chain.methods = &counter_methods;
            chain.ud = &cnt;
            haz_test_mem_fail_at(&tm, i, persistent);
            rc = haz_observer_recording_new(ctx, &chain, &obj, &ob);
            CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
            if (rc == HAZ_OK) {
                const char *ref = all_kinds_trace, *p;
                size_t len;

                feed_all_kinds(&ob);
                p = haz_observer_recording_text(obj, &len);
                CU_ASSERT_PTR_NOT_NULL_FATAL(p);
                CU_ASSERT_EQUAL(strlen(p), len);
                while (*p != '\0') {
                    const char *nl = strchr(p, '\n');
                    unsigned long lost;

                    CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
                    if (sscanf(p, "lost %lu", &lost) == 1) {
                        CU_ASSERT(lost > 0);
                        for (; lost > 0 && *ref != '\0'; lost--)
                            ref = strchr(ref, '\n') + 1;
                        CU_ASSERT_EQUAL(lost, 0);
                    } else {
                        CU_ASSERT_FATAL(*ref != '\0');
                        CU_ASSERT(strncmp(p, ref, (size_t)(nl - p + 1))
                                  == 0);
                        ref = strchr(ref, '\n') + 1;
                    }
                    p = nl + 1;
                }
                CU_ASSERT(tm.failures > 0 || *ref == '\0');
                CU_ASSERT_EQUAL(cnt.started + cnt.output + cnt.finished +
                                cnt.skipped + cnt.cancelled + cnt.errored +
                                cnt.violation, 8);
                haz_observer_free(obj);
            } else {
                CU_ASSERT_PTR_NULL(obj);
            }
            clean = tm.failures == 0;
            haz_test_mem_fail_at(&tm, 0, 0);
            free_ctx(ctx, &tm);
        }
        CU_ASSERT(clean);
        CU_ASSERT(i > 2);
    }
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo live_tests[] = {
    {"line split across chunks", test_live_split},
    {"tasks interleave at line boundaries", test_live_interleave},
    {"partial line flushed at finish/cancel/error", test_live_partial_flush},
    {"stdout and stderr routing", test_live_routing},
    {"many lines in one chunk and byte by byte", test_live_many_lines},
    {"empty chunks", test_live_empty_chunk},
    {"binary bytes verbatim (B4)", test_live_binary},
    {"1 MiB line without newline (B5)", test_live_huge_line},
    {"one write per line", test_live_one_write_per_line},
    {"cache-hit replay (EXEC-017)", test_live_cache_hit},
    {"skipped, unknown and far tasks", test_live_terminal_misc},
    {"free flushes held lines", test_live_free_flushes},
    {"write errors ignored", test_live_write_errors},
    {"invalid arguments", test_live_invalid},
    CU_TEST_INFO_NULL
};

static CU_TestInfo buffered_tests[] = {
    {"stdout block then stderr block", test_buffered_blocks},
    {"interleaved tasks give contiguous blocks", test_buffered_interleaved},
    {"binary bytes verbatim, cache hit (B4, EXEC-017)", test_buffered_binary},
    {"terminal events", test_buffered_terminals},
    {"free flushes pending blocks", test_buffered_free_flushes},
    {"invalid arguments", test_buffered_invalid},
    CU_TEST_INFO_NULL
};

static CU_TestInfo recording_tests[] = {
    {"every event kind", test_record_events},
    {"documented example", test_record_doc_example},
    {"escaping of all byte values", test_record_escape_all},
    {"chaining", test_record_chain},
    {"invalid arguments and text accessor", test_record_invalid},
    CU_TEST_INFO_NULL
};

static CU_TestInfo oom_tests[] = {
    {"live", test_oom_live},
    {"buffered", test_oom_buffered},
    {"recording", test_oom_recording},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("live", live_tests),
    HAZ_TEST_SUITE("buffered", buffered_tests),
    HAZ_TEST_SUITE("recording", recording_tests),
    HAZ_TEST_SUITE("oom", oom_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
