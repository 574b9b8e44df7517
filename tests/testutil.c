/*
 * tests/testutil.c: the CUnit harness (haz_test_main), the counting and
 * failing allocator, and the file helpers declared in testutil.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Running the suites.
 * ---------------------------------------------------------------------- */

int haz_test_main(int argc, char **argv, CU_SuiteInfo *suites)
{
    CU_pSuite suite = NULL;
    CU_pTest test = NULL;
    CU_ErrorCode err;
    int status;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "%s: CUnit: %s\n", argv[0], CU_get_error_msg());
        return 99;
    }
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        fprintf(stderr, "%s: CUnit: %s\n", argv[0], CU_get_error_msg());
        CU_cleanup_registry();
        return 99;
    }

    if (argc > 1) {
        suite = CU_get_suite_by_name(argv[1], CU_get_registry());
        if (suite == NULL) {
            fprintf(stderr, "%s: no suite named '%s'\n", argv[0], argv[1]);
            CU_cleanup_registry();
            return 1;
        }
        if (argc > 2) {
            test = CU_get_test_by_name(argv[2], suite);
            if (test == NULL) {
                fprintf(stderr, "%s: no test named '%s' in suite '%s'\n",
                        argv[0], argv[2], argv[1]);
                CU_cleanup_registry();
                return 1;
            }
        }
    }

    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (test != NULL)
        err = CU_basic_run_test(suite, test);
    else if (suite != NULL)
        err = CU_basic_run_suite(suite);
    else
        err = CU_basic_run_tests();

    if (err != CUE_SUCCESS) {
        fprintf(stderr, "%s: CUnit: %s\n", argv[0], CU_get_error_msg());
        status = 99;
    } else if (CU_get_number_of_failures() != 0 ||
               CU_get_number_of_tests_failed() != 0 ||
               CU_get_number_of_suites_failed() != 0) {
        status = 1;
    } else {
        status = 0;
    }
    /* CUnit prints its summary without a final newline. */
    printf("\n");
    CU_cleanup_registry();
    return status;
}

/* ------------------------------------------------------------------------
 * The counting, failing allocator.
 * ---------------------------------------------------------------------- */

/* Count one allocation call; nonzero when this call must fail. */
static int must_fail(haz_test_mem *tm)
{
    tm->calls++;
    if (tm->fail_at != 0 &&
        (tm->calls == tm->fail_at ||
         (tm->persistent && tm->calls > tm->fail_at))) {
        tm->failures++;
        return 1;
    }
    return 0;
}

static void *tm_malloc(size_t size, void *ud)
{
    haz_test_mem *tm = ud;
    void *p;

    if (must_fail(tm))
        return NULL;
    p = malloc(size ? size : 1);
    if (p != NULL)
        tm->live++;
    return p;
}

static void tm_free(void *ptr, void *ud)
{
    haz_test_mem *tm = ud;

    if (ptr == NULL)
        return;
    tm->live--;
    free(ptr);
}

static void *tm_calloc(size_t nmemb, size_t size, void *ud)
{
    haz_test_mem *tm = ud;
    void *p;

    if (must_fail(tm))
        return NULL;
    p = (nmemb == 0 || size == 0) ? calloc(1, 1) : calloc(nmemb, size);
    if (p != NULL)
        tm->live++;
    return p;
}

static void *tm_realloc(void *ptr, size_t size, void *ud)
{
    haz_test_mem *tm = ud;
    void *p;

    if (must_fail(tm))
        return NULL;
    p = realloc(ptr, size ? size : 1);
    if (p != NULL && ptr == NULL)
        tm->live++;
    return p;
}

void haz_test_mem_init(haz_test_mem *tm)
{
    memset(tm, 0, sizeof *tm);
    tm->mem.ud = tm;
    tm->mem.malloc_fn = tm_malloc;
    tm->mem.free_fn = tm_free;
    tm->mem.calloc_fn = tm_calloc;
    tm->mem.realloc_fn = tm_realloc;
}

void haz_test_mem_fail_at(haz_test_mem *tm, unsigned long n, int persistent)
{
    tm->calls = 0;
    tm->failures = 0;
    tm->fail_at = n;
    tm->persistent = persistent;
}

/* ------------------------------------------------------------------------
 * Files.
 * ---------------------------------------------------------------------- */

static const char *env_dir(const char *name)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : ".";
}

const char *haz_test_srcdir(void)
{
    return env_dir("HAZ_TEST_SRCDIR");
}

const char *haz_test_builddir(void)
{
    return env_dir("HAZ_TEST_BUILDDIR");
}

char *haz_test_data_path(char *buf, size_t n, const char *rel)
{
    int w = snprintf(buf, n, "%s/tests/data/%s", haz_test_srcdir(), rel);
    return (w < 0 || (size_t)w >= n) ? NULL : buf;
}

char *haz_test_mkdtemp(char *buf, size_t n, const char *prefix)
{
    const char *b = haz_test_builddir();
    int w;

    w = snprintf(buf, n, "%s/tests", b);
    if (w < 0 || (size_t)w >= n)
        goto toolong;
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return NULL;
    w = snprintf(buf, n, "%s/tests/tmp", b);
    if (w < 0 || (size_t)w >= n)
        goto toolong;
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return NULL;
    w = snprintf(buf, n, "%s/tests/tmp/%s-XXXXXX", b, prefix);
    if (w < 0 || (size_t)w >= n)
        goto toolong;
    return mkdtemp(buf);
toolong:
    errno = ENAMETOOLONG;
    return NULL;
}

int haz_test_rmtree(const char *path)
{
    struct stat st;
    DIR *dir;
    struct dirent *ent;
    int rc = 0;

    if (lstat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);

    dir = opendir(path);
    if (dir == NULL)
        return -1;
    while ((ent = readdir(dir)) != NULL) {
        size_t len;
        char *child;

        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        len = strlen(path) + strlen(ent->d_name) + 2;
        child = malloc(len);
        if (child == NULL) {
            rc = -1;
            break;
        }
        snprintf(child, len, "%s/%s", path, ent->d_name);
        if (haz_test_rmtree(child) != 0)
            rc = -1;
        free(child);
    }
    closedir(dir);
    if (rc == 0)
        rc = rmdir(path);
    return rc;
}

int haz_test_write_file(const char *path, const void *data, size_t n)
{
    const char *p = data;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);

    if (fd < 0)
        return -1;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            errno = e;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return close(fd);
}

long haz_test_read_fd(int fd, void *buf, size_t cap)
{
    char *p = buf;
    size_t got = 0;

    while (got < cap) {
        ssize_t r = read(fd, p + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long)got;
}

int haz_test_group_gone(long pgid, int subreaper)
{
    struct timespec ms = {0, 1000000L};
    pid_t r;
    int st, i;

    for (i = 0; i < 10000; i++) {
        if (subreaper) {
            while ((r = waitpid(-(pid_t)pgid, &st, WNOHANG)) > 0)
                ;
            if (r == -1 && errno == ECHILD)
                return 1;
        } else if (kill(-(pid_t)pgid, 0) == -1 && errno == ESRCH) {
            return 1;
        }
        (void)nanosleep(&ms, NULL);
    }
    return 0;
}

char *haz_test_replace(const char *text, const char *from, const char *to)
{
    size_t fl = from != NULL ? strlen(from) : 0, tl = strlen(to), n = 0;
    const char *p;
    char *out, *o;

    if (fl > 0)
        for (p = strstr(text, from); p != NULL; p = strstr(p + fl, from))
            n++;
    out = malloc(strlen(text) + n * (tl > fl ? tl - fl : 0) + 1);
    if (out == NULL)
        return NULL;
    for (o = out, p = text; *p != '\0';) {
        if (fl > 0 && strncmp(p, from, fl) == 0) {
            memcpy(o, to, tl);
            o += tl;
            p += fl;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

const haz_task_outcome *haz_test_outcome(const haz_run_result *r,
                                         const char *id)
{
    size_t i, n = r != NULL ? haz_run_result_count(r) : 0;

    for (i = 0; i < n; i++) {
        const haz_task_outcome *o = haz_run_result_get(r, i);

        if (o != NULL && o->task.id != NULL && strcmp(o->task.id, id) == 0)
            return o;
    }
    fprintf(stderr, "\n  no outcome for %s\n", id);
    return NULL;
}

char *haz_test_join_diags(const haz_diags *d)
{
    size_t i, n = 1;
    char *s;

    for (i = 0; i < haz_diags_count(d); i++)
        n += strlen(haz_diags_get(d, i)->text) + 1;
    s = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    s[0] = '\0';
    for (i = 0; i < haz_diags_count(d); i++) {
        strcat(s, haz_diags_get(d, i)->text);
        strcat(s, "\n");
    }
    return s;
}
