/*
 * fuzz/fuzz_pattern.c: libFuzzer target for the pattern syntax check and
 * the glob matcher (lib/pattern.c: haz_pattern_check, haz__pattern_match).
 *
 * The input is "PATTERN\nPATH": the bytes before the first newline are the
 * pattern, the rest the path (both read as C strings, so each ends at its
 * first NUL byte; no newline: the path is empty).
 *
 * Checked on every input:
 *   - the check returns 0 (reason NULL) or HAZ_EINVAL (with a reason);
 *   - matching gives 0 or 1, the same both times; an invalid pattern
 *     matches nothing;
 *   - a valid literal pattern (no glob character) matches itself, and a
 *     path exactly when the two are equal;
 *   - a valid pattern without braces means the same inside one group:
 *     "{P,P}", when valid, matches what P matches;
 *   - generalising never loses a match: in a valid pattern without
 *     classes or escapes, one plain ASCII byte (chosen by the input) turned
 *     into '?', or into '*', gives a pattern that, when valid, matches
 *     every path the original matches;
 *   - when the path is a valid literal path: its escaped form (a '\'
 *     before each of *?[]{}\) is a valid pattern that matches it; a
 *     globstar matches it ("**" when it is relative, "/" then "**" when
 *     absolute) and the other one does not; "*" matches it exactly when it
 *     is one relative segment; "**", "/" and its last segment, escaped,
 *     match a relative path.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "pattern.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static char *dup_n(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    HAZ_FUZZ_CHECK(s != NULL);
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* s with a '\' before every glob character; malloc'ed. */
static char *escape(const char *s)
{
    size_t n = strlen(s), i, j = 0;
    char *e = malloc(2 * n + 1);

    HAZ_FUZZ_CHECK(e != NULL);
    for (i = 0; i < n; i++) {
        if (strchr("*?[]{}\\", s[i]) != NULL)
            e[j++] = '\\';
        e[j++] = s[i];
    }
    e[j] = '\0';
    return e;
}

static int match(const char *pattern, const char *path)
{
    int m = haz__pattern_match(pattern, path);

    HAZ_FUZZ_CHECK(m == 0 || m == 1);
    HAZ_FUZZ_CHECK(haz__pattern_match(pattern, path) == m);
    return m;
}

/* Turn the k-th (modulo their number) plain ASCII byte of `pattern` into
 * `by` and check that, when the result is valid, it matches at least
 * what the pattern matches (m: whether the pattern matches path). */
static void check_generalise(const char *pattern, const char *path, int m,
                             size_t k, char by)
{
    size_t n = strlen(pattern), i, count = 0;
    char *g;

    for (i = 0; i < n; i++)
        if ((unsigned char)pattern[i] < 0x80 &&
            strchr("*?{},/", pattern[i]) == NULL)
            count++;
    if (count == 0)
        return;
    k %= count;
    g = malloc(n + 1);
    HAZ_FUZZ_CHECK(g != NULL);
    memcpy(g, pattern, n + 1);
    for (i = 0; i < n; i++)
        if ((unsigned char)g[i] < 0x80 && strchr("*?{},/", g[i]) == NULL &&
            k-- == 0) {
            g[i] = by;
            break;
        }
    if (haz_pattern_check(g, NULL) == 0 && m)
        HAZ_FUZZ_CHECK(match(g, path) == 1);
    free(g);
}

static void check_path_properties(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *esc = escape(path), *p;
    size_t n;

    HAZ_FUZZ_CHECK(haz_pattern_check(esc, NULL) == 0);
    HAZ_FUZZ_CHECK(match(esc, path) == 1);
    free(esc);
    if (path[0] == '/') {
        HAZ_FUZZ_CHECK(match("/**", path) == 1);
        HAZ_FUZZ_CHECK(match("**", path) == 0);
        HAZ_FUZZ_CHECK(match("*", path) == 0);
        return;
    }
    HAZ_FUZZ_CHECK(match("**", path) == 1);
    HAZ_FUZZ_CHECK(match("/**", path) == 0);
    HAZ_FUZZ_CHECK(match("*", path) == (slash == NULL));
    esc = escape(slash != NULL ? slash + 1 : path);
    n = strlen(esc);
    p = malloc(n + 4);
    HAZ_FUZZ_CHECK(p != NULL);
    memcpy(p, "**/", 3);
    memcpy(p + 3, esc, n + 1);
    HAZ_FUZZ_CHECK(haz_pattern_check(p, NULL) == 0);
    HAZ_FUZZ_CHECK(match(p, path) == 1);
    free(p);
    free(esc);
}

int haz_fuzz_pattern(const uint8_t *data, size_t size)
{
    const uint8_t *nl = size > 0 ? memchr(data, '\n', size) : NULL;
    size_t plen = nl != NULL ? (size_t)(nl - data) : size;
    char *pattern = dup_n(data, plen);
    char *path = nl != NULL ? dup_n(nl + 1, size - plen - 1) : dup_n(data, 0);
    const char *why = "unset";
    int rc, m;

    rc = haz_pattern_check(pattern, &why);
    HAZ_FUZZ_CHECK(rc == 0 || rc == HAZ_EINVAL);
    HAZ_FUZZ_CHECK(rc == 0 ? why == NULL : why != NULL && why[0] != '\0');
    HAZ_FUZZ_CHECK(haz_pattern_check(pattern, NULL) == rc);
    m = match(pattern, path);
    if (rc != 0)
        HAZ_FUZZ_CHECK(m == 0);
    if (rc == 0 && !haz_pattern_is_glob(pattern)) {
        HAZ_FUZZ_CHECK(match(pattern, pattern) == 1);
        HAZ_FUZZ_CHECK(m == (strcmp(pattern, path) == 0));
    }
    if (rc == 0 && strpbrk(pattern, "{},") == NULL) {
        size_t n = strlen(pattern);
        char *g = malloc(2 * n + 4);

        HAZ_FUZZ_CHECK(g != NULL);
        g[0] = '{';
        memcpy(g + 1, pattern, n);
        g[n + 1] = ',';
        memcpy(g + n + 2, pattern, n);
        g[2 * n + 2] = '}';
        g[2 * n + 3] = '\0';
        if (haz_pattern_check(g, NULL) == 0)
            HAZ_FUZZ_CHECK(match(g, path) == m);
        free(g);
    }
    if (rc == 0 && strpbrk(pattern, "[]\\") == NULL) {
        check_generalise(pattern, path, m, size, '?');
        check_generalise(pattern, path, m, size / 3, '*');
    }
    if (haz_path_check(path, NULL) == 0)
        check_path_properties(path);
    free(pattern);
    free(path);
    return 0;
}

#ifndef HAZ_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return haz_fuzz_pattern(data, size);
}
#endif
