/*
 * tests/test_fuzz_regress.c: the fuzz targets of fuzz/ without libFuzzer
 * (docs/FUZZING.md).
 *
 * Suite "corpus" replays every committed input (each file under
 * tests/fuzz-corpus/TARGET) through the target's own function (fuzz/fuzz_TARGET.c, built here with
 * HAZ_FUZZ_NO_ENTRY), so each input is checked against the same
 * invariants as under the fuzzer, in every configuration `make check`
 * runs (gcc, clang, the sanitizers, distcheck).  A broken invariant
 * aborts the program after naming the input.
 *
 * A problem that fuzzing finds gets its input in the corpus and, in a
 * suite "findings" here, a test that writes the input out and asserts the
 * behaviour the fix guarantees (docs/FUZZING.md, "When a target fails").
 * The campaigns so far found none.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"
#include "../fuzz/fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every file of tests/fuzz-corpus/<target> through fn, in name order.
 * Returns the number of inputs run. */
static size_t replay(const char *target, fuzz_fn fn)
{
    char dir[2048], path[4096];
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    struct dirent *de;
    DIR *dp;

    (void)snprintf(dir, sizeof dir, "%s/tests/fuzz-corpus/%s",
                   haz_test_srcdir(), target);
    dp = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
            CU_ASSERT_PTR_NOT_NULL_FATAL(names);
        }
        names[n] = strdup(de->d_name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(names[n]);
        n++;
    }
    closedir(dp);
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n; i++) {
        FILE *fp;
        unsigned char *buf;
        long len;

        (void)snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        fp = fopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
        CU_ASSERT_EQUAL_FATAL(fseek(fp, 0, SEEK_END), 0);
        len = ftell(fp);
        CU_ASSERT_FATAL(len >= 0 && len <= 1024 * 1024);
        rewind(fp);
        buf = malloc((size_t)len + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
        CU_ASSERT_EQUAL_FATAL(fread(buf, 1, (size_t)len, fp), (size_t)len);
        fclose(fp);
        haz_fuzz_input_name = path;
        CU_ASSERT_EQUAL(fn(buf, (size_t)len), 0);
        haz_fuzz_input_name = NULL;
        free(buf);
        free(names[i]);
    }
    free(names);
    return n;
}

static void test_corpus_hazfile(void)
{
    CU_ASSERT(replay("hazfile", haz_fuzz_hazfile) >= 5);
}

static void test_corpus_manifest(void)
{
    CU_ASSERT(replay("manifest", haz_fuzz_manifest) >= 5);
}

static void test_corpus_mock_script(void)
{
    CU_ASSERT(replay("mock_script", haz_fuzz_mock_script) >= 5);
}

static void test_corpus_pattern(void)
{
    CU_ASSERT(replay("pattern", haz_fuzz_pattern) >= 5);
}

/* The targets also take inputs no file holds: nothing at all, and bytes
 * that are not text. */
static void test_edge_inputs(void)
{
    static const uint8_t junk[] = { 0, 0xff, '\n', '[', 0, ']', '\r' };
    fuzz_fn fns[4];
    size_t i;

    fns[0] = haz_fuzz_hazfile;
    fns[1] = haz_fuzz_manifest;
    fns[2] = haz_fuzz_mock_script;
    fns[3] = haz_fuzz_pattern;
    for (i = 0; i < HAZ_ARRAY_LEN(fns); i++) {
        CU_ASSERT_EQUAL(fns[i](junk, 0), 0);
        CU_ASSERT_EQUAL(fns[i](junk, sizeof junk), 0);
    }
}

static CU_TestInfo corpus_tests[] = {
    {"hazfile", test_corpus_hazfile},
    {"manifest", test_corpus_manifest},
    {"mock_script", test_corpus_mock_script},
    {"pattern", test_corpus_pattern},
    {"empty and binary inputs", test_edge_inputs},
    CU_TEST_INFO_NULL
};

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        HAZ_TEST_SUITE("corpus", corpus_tests),
        CU_SUITE_INFO_NULL
    };

    return haz_test_main(argc, argv, suites);
}
