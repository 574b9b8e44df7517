/*
 * tests/test_pattern.c: the syntax helpers of graph.h and the private glob
 * matcher (lib/pattern.c): names (ID-001..003), environment variable names,
 * paths (PATH-002/003), patterns (PATH-008..016), glob classification
 * (PATH-015), mutex specs, UTF-8 decoding, canonical joins and truth tables
 * for haz__pattern_match, including pathological patterns.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"

#include <string.h>

#include "pattern.h"

/* A string of n copies of c (n < sizeof buf). */
static const char *rep(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

/* ------------------------------------------------------------------------
 * Names (ID-001..003) and environment variable names.
 * ---------------------------------------------------------------------- */

static void test_name_valid(void)
{
    static const char *ok[] = {
        "a", "A", "0", "9z", "lib_core", "test_unit", "db_a", "a-b",
        "a_-_b", "Native", "native", "x0-_"
    };
    char buf[80];
    size_t i;

    for (i = 0; i < HAZ_ARRAY_LEN(ok); i++) {
        CU_ASSERT_EQUAL(haz_name_check(ok[i]), 0);
        CU_ASSERT_PTR_NULL(haz__name_why(ok[i]));
    }
    /* ID-003: 64 bytes is the limit. */
    CU_ASSERT_EQUAL(haz_name_check(rep(buf, 'n', 64)), 0);
}

static void test_name_invalid(void)
{
    char buf[80];

    CU_ASSERT_EQUAL(haz_name_check(NULL), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz__name_why(NULL), "missing");
    CU_ASSERT_EQUAL(haz_name_check(""), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz__name_why(""), "empty");
    /* ID-003 */
    CU_ASSERT_EQUAL(haz_name_check(rep(buf, 'n', 65)), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz__name_why(buf), "longer than 64 bytes");
    /* ID-002: the first byte is alphanumeric. */
    CU_ASSERT_STRING_EQUAL(haz__name_why("_a"),
                           "must start with a letter or a digit");
    CU_ASSERT_STRING_EQUAL(haz__name_why("-a"),
                           "must start with a letter or a digit");
    CU_ASSERT_STRING_EQUAL(haz__name_why("\x01" "a"),
                           "must start with a letter or a digit");
    /* ID-001: the alphabet of the other bytes. */
    CU_ASSERT_STRING_EQUAL(haz__name_why("a b"),
                           "only letters, digits, '_' and '-' are allowed");
    CU_ASSERT_EQUAL(haz_name_check("a:b"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_name_check("a.b"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_name_check("a/b"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_name_check("a~"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_name_check("a\x01"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_name_check("a\x7f"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_name_check("caf\xc3\xa9"), HAZ_EINVAL);
    /* Length-bounded variant. */
    CU_ASSERT_PTR_NULL(haz__name_why_n("core:x", 4));
    CU_ASSERT_STRING_EQUAL(haz__name_why_n("core", 0), "empty");
}

static void test_env_name(void)
{
    static const char *ok[] = { "PATH", "_", "_A1", "a", "HOME", "x_Y_9" };
    char buf[300];
    size_t i;

    for (i = 0; i < HAZ_ARRAY_LEN(ok); i++)
        CU_ASSERT_EQUAL(haz_env_name_check(ok[i]), 0);
    CU_ASSERT_EQUAL(haz_env_name_check(rep(buf, 'E', 256)), 0);
    CU_ASSERT_EQUAL(haz_env_name_check(rep(buf, 'E', 257)), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz__env_name_why(buf), "longer than 256 bytes");
    CU_ASSERT_EQUAL(haz_env_name_check(NULL), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz__env_name_why(""), "empty");
    CU_ASSERT_STRING_EQUAL(haz__env_name_why("1A"),
                           "must start with a letter or '_'");
    CU_ASSERT_STRING_EQUAL(haz__env_name_why("A-B"),
                           "only letters, digits and '_' are allowed");
    CU_ASSERT_EQUAL(haz_env_name_check("A=B"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_env_name_check("A B"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_env_name_check("A\n"), HAZ_EINVAL);
}

/* ------------------------------------------------------------------------
 * Paths (PATH-002/003) and roots.
 * ---------------------------------------------------------------------- */

static void test_path_valid(void)
{
    static const char *ok[] = {
        "a", "a/b", "/a", "/a/b/c.txt", "a.b", "...", ".a", "a..", "a b",
        "caf\xc3\xa9", "a]", "a}", "a,b", "-", "/lib_core/src/main.rs"
    };
    const char *why = "unset";
    size_t i;

    for (i = 0; i < HAZ_ARRAY_LEN(ok); i++) {
        CU_ASSERT_EQUAL(haz_path_check(ok[i], &why), 0);
        CU_ASSERT_PTR_NULL(why);
        why = "unset";
    }
    CU_ASSERT_EQUAL(haz_path_check("a", NULL), 0);
}

static void expect_path(const char *path, const char *reason)
{
    const char *why = NULL;

    CU_ASSERT_EQUAL(haz_path_check(path, &why), HAZ_EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    CU_ASSERT_STRING_EQUAL(why, reason);
}

static void test_path_invalid(void)
{
    expect_path(NULL, "missing");
    expect_path("", "empty path");                         /* PATH-002 */
    expect_path("/", "only '/'");                          /* PATH-003 */
    expect_path("a/", "trailing '/'");                     /* PATH-003 */
    expect_path("/a/", "trailing '/'");
    expect_path("a//b", "empty segment");                  /* PATH-003 */
    expect_path("//a", "empty segment");
    expect_path("a//b/", "empty segment");
    expect_path(".", "'.' segment");                       /* PATH-002 */
    expect_path("./a", "'.' segment");
    expect_path("a/./b", "'.' segment");
    expect_path("..", "'..' segment");
    expect_path("a/..", "'..' segment");
    expect_path("/../a", "'..' segment");
    expect_path("a\x01", "control character");             /* PATH-002 */
    expect_path("a\tb", "control character");
    expect_path("a\nb", "control character");
    expect_path("a\x7f", "control character");
    expect_path("a//\x1f", "control character");   /* bytes checked first */
    CU_ASSERT_EQUAL(haz_path_check("a/", NULL), HAZ_EINVAL);
}

static void test_root(void)
{
    CU_ASSERT_PTR_NULL(haz__root_why(NULL));
    CU_ASSERT_PTR_NULL(haz__root_why("."));
    CU_ASSERT_PTR_NULL(haz__root_why("core"));
    CU_ASSERT_PTR_NULL(haz__root_why("libs/core"));
    CU_ASSERT_STRING_EQUAL(haz__root_why("/core"),
                           "must be relative (no leading '/')");
    CU_ASSERT_STRING_EQUAL(haz__root_why("../x"), "'..' segment");
    CU_ASSERT_STRING_EQUAL(haz__root_why("core/"), "trailing '/'");
    CU_ASSERT_STRING_EQUAL(haz__root_why(""), "empty path");
    CU_ASSERT_STRING_EQUAL(haz__root_why("./core"), "'.' segment");
}

/* ------------------------------------------------------------------------
 * Patterns (PATH-008..016).
 * ---------------------------------------------------------------------- */

static void test_is_glob(void)
{
    /* PATH-015: any of * ? [ { \ makes a glob. */
    CU_ASSERT_EQUAL(haz_pattern_is_glob("src/lib.rs"), 0);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("/lib_core/src/main.rs"), 0);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("a]"), 0);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("a}"), 0);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("a,b"), 0);
    CU_ASSERT_EQUAL(haz_pattern_is_glob(NULL), 0);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("src/**/*.rs"), 1);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("a?"), 1);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("[a]"), 1);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("{a}"), 1);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("with\\*literal.txt"), 1);
    CU_ASSERT_EQUAL(haz_pattern_is_glob("a\\b"), 1);
}

static void test_pattern_valid(void)
{
    static const char *ok[] = {
        "src/lib.rs", "/lib_core/src/main.rs", "a]", "a}",   /* literals */
        "*.c", "src/**/*.rs", "/lib_core/src/**/*.rs", "**", "**/x",
        "x/**", "a/**/b", "**/**", "a?c", "?", "[abc]", "[!a]", "[^a]",
        "[a-z]", "[]]", "[!]]", "[a-]", "[-a]", "[\\]]", "[{]", "[,]",
        "[*?]", "[\xc3\xa0-\xc3\xbf]", "{a,b}", "{a,b}/c", "a{,.bak}",
        "x{}", "{a}", "*.{c,h}", "{src,include/sub}/*.h", "{a\\,b,c}",
        "with\\*literal.txt", "\\[a]", "a\\?b", "..a/*", "*.", ".*",
        "{x,**}/y", "/*", "a,b*"
    };
    const char *why = "unset";
    size_t i;

    for (i = 0; i < HAZ_ARRAY_LEN(ok); i++) {
        int r = haz_pattern_check(ok[i], &why);
        CU_ASSERT_EQUAL(r, 0);
        CU_ASSERT_PTR_NULL(why);
        if (r != 0)
            fprintf(stderr, "\n  rejected '%s': %s\n", ok[i], why);
        why = "unset";
    }
}

static void expect_pattern(const char *pattern, const char *reason)
{
    const char *why = NULL;

    CU_ASSERT_EQUAL(haz_pattern_check(pattern, &why), HAZ_EINVAL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(why);
    if (strcmp(why, reason) != 0)
        fprintf(stderr, "\n  '%s': got '%s', want '%s'\n", pattern, why,
                reason);
    CU_ASSERT_STRING_EQUAL(why, reason);
}

static void test_pattern_invalid(void)
{
    char buf[200];
    size_t i;

    expect_pattern(NULL, "missing");
    /* Literals go through haz_path_check (PATH-002/003). */
    expect_pattern("", "empty path");
    expect_pattern("a//b", "empty segment");
    expect_pattern("../a", "'..' segment");
    expect_pattern("/", "only '/'");
    /* The same rules inside globs. */
    expect_pattern("*//a", "empty segment");
    expect_pattern("*/", "trailing '/'");
    expect_pattern("./*", "'.' segment");
    expect_pattern("../*", "'..' segment");
    expect_pattern("\\./*", "'.' segment");
    expect_pattern("*\x01", "control character");
    expect_pattern("[\x01]", "control character");
    /* Each expansion of the braces is checked. */
    expect_pattern("{.,a}/*", "'.' segment");
    expect_pattern("a/{/b,c}", "empty segment");
    expect_pattern("a/{b,}", "trailing '/'");
    expect_pattern("{/a,b}", "'/' at the start of a '{...}' alternative");
    expect_pattern("/{a,}", "only '/'");
    expect_pattern("{}", "empty pattern");
    /* `**` is a whole segment. */
    expect_pattern("a**", "'**' must be a whole segment");
    expect_pattern("**a", "'**' must be a whole segment");
    expect_pattern("***", "'**' must be a whole segment");
    expect_pattern("x/a**/y", "'**' must be a whole segment");
    /* Classes. */
    expect_pattern("[abc", "unclosed '['");
    expect_pattern("[]", "unclosed '['");
    expect_pattern("[!]", "unclosed '['");
    expect_pattern("[a\\", "unclosed '['");
    expect_pattern("[z-a]", "invalid range in '[...]'");
    expect_pattern("[a/b]", "'/' inside '[...]'");
    expect_pattern("[\\/]", "'/' inside '[...]'");
    /* Braces: PATH-014 forbids nesting. */
    expect_pattern("{a,{b,c}}", "nested '{'");
    expect_pattern("{a,b", "unclosed '{'");
    expect_pattern("*}", "unmatched '}'");
    expect_pattern("\\{a,b}", "unmatched '}'");
    /* Escapes. */
    expect_pattern("a\\", "trailing '\\'");
    expect_pattern("a\\/b", "'\\' before '/'");
    /* Limits on alternation. */
    buf[0] = '\0';
    for (i = 0; i < 33; i++)
        strcat(buf, "{a}");
    expect_pattern(buf, "too many '{...}' groups");
    buf[0] = '\0';
    for (i = 0; i < 11; i++)
        strcat(buf, "{a,b}");                   /* 2^11 = 2048 */
    expect_pattern(buf, "too many '{...}' alternatives");
    buf[0] = '\0';
    for (i = 0; i < 10; i++)
        strcat(buf, "{a,b}");                   /* 2^10 = 1024: allowed */
    CU_ASSERT_EQUAL(haz_pattern_check(buf, NULL), 0);
    CU_ASSERT_EQUAL(haz_pattern_check("[abc", NULL), HAZ_EINVAL);
}

/* ------------------------------------------------------------------------
 * Mutex specs (MUTEX-001, design 2.2).
 * ---------------------------------------------------------------------- */

static void test_mutex_parse(void)
{
    haz_mutex_scope scope;
    haz_mutex_mode mode;
    const char *name, *spec;

    spec = "db";
    CU_ASSERT_EQUAL(haz_mutex_parse(spec, &scope, &mode, &name), 0);
    CU_ASSERT_EQUAL(scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_EQUAL(mode, HAZ_MUTEX_EXCLUSIVE);
    CU_ASSERT_PTR_EQUAL(name, spec);

    spec = "~:scratch";
    CU_ASSERT_EQUAL(haz_mutex_parse(spec, &scope, &mode, &name), 0);
    CU_ASSERT_EQUAL(scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_EQUAL(mode, HAZ_MUTEX_EXCLUSIVE);
    CU_ASSERT_PTR_EQUAL(name, spec + 2);

    spec = "shared:cfg";
    CU_ASSERT_EQUAL(haz_mutex_parse(spec, &scope, &mode, &name), 0);
    CU_ASSERT_EQUAL(scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_EQUAL(mode, HAZ_MUTEX_SHARED);
    CU_ASSERT_STRING_EQUAL(name, "cfg");

    spec = "shared:~:cfg";
    CU_ASSERT_EQUAL(haz_mutex_parse(spec, &scope, &mode, &name), 0);
    CU_ASSERT_EQUAL(scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_EQUAL(mode, HAZ_MUTEX_SHARED);
    CU_ASSERT_STRING_EQUAL(name, "cfg");

    spec = "exclusive:~:x";
    CU_ASSERT_EQUAL(haz_mutex_parse(spec, &scope, &mode, &name), 0);
    CU_ASSERT_EQUAL(scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_EQUAL(mode, HAZ_MUTEX_EXCLUSIVE);
    CU_ASSERT_STRING_EQUAL(name, "x");

    /* The outputs are optional. */
    CU_ASSERT_EQUAL(haz_mutex_parse("shared:x", NULL, NULL, NULL), 0);

    CU_ASSERT_EQUAL(haz_mutex_parse(NULL, &scope, &mode, &name), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("", &scope, &mode, &name), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("shared:", &scope, &mode, &name),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("~:", &scope, &mode, &name), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("foo:bar", &scope, &mode, &name),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("shared:shared:x", &scope, &mode, &name),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("~:shared:x", &scope, &mode, &name),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("~:~:x", &scope, &mode, &name),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_mutex_parse("d b", &scope, &mode, &name),
                    HAZ_EINVAL);
}

/* ------------------------------------------------------------------------
 * UTF-8 decoding.
 * ---------------------------------------------------------------------- */

static void test_utf8(void)
{
    uint32_t cp;

    CU_ASSERT_EQUAL(haz__utf8_decode("a", 1, &cp), 1);
    CU_ASSERT_EQUAL(cp, 'a');
    CU_ASSERT_EQUAL(haz__utf8_decode("\xc3\xa9", 2, &cp), 2);
    CU_ASSERT_EQUAL(cp, 0xe9);
    CU_ASSERT_EQUAL(haz__utf8_decode("\xe2\x82\xac", 3, &cp), 3);
    CU_ASSERT_EQUAL(cp, 0x20ac);
    CU_ASSERT_EQUAL(haz__utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
    CU_ASSERT_EQUAL(cp, 0x1f600);
    /* Invalid: one byte, mapped to a lone surrogate. */
    CU_ASSERT_EQUAL(haz__utf8_decode("\xc0\xaf", 2, &cp), 1);   /* overlong */
    CU_ASSERT_EQUAL(cp, 0xdcc0);
    /* An encoded surrogate. */
    CU_ASSERT_EQUAL(haz__utf8_decode("\xed\xa0\x80", 3, &cp), 1);
    CU_ASSERT_EQUAL(cp, 0xdced);
    CU_ASSERT_EQUAL(haz__utf8_decode("\xe2\x82", 2, &cp), 1);  /* truncated */
    CU_ASSERT_EQUAL(haz__utf8_decode("\xe2\x82\xac", 2, &cp), 1);  /* n cut */
    CU_ASSERT_EQUAL(haz__utf8_decode("\xff", 1, &cp), 1);
    CU_ASSERT_EQUAL(cp, 0xdcff);
    CU_ASSERT_EQUAL(haz__utf8_decode("\x80", 1, &cp), 1);
    /* Above U+10FFFF. */
    CU_ASSERT_EQUAL(haz__utf8_decode("\xf4\x90\x80\x80", 4, &cp), 1);
}

/* ------------------------------------------------------------------------
 * The matcher.
 * ---------------------------------------------------------------------- */

typedef struct mcase {
    const char *pattern;
    const char *path;
    int want;
} mcase;

static void run_cases(const mcase *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int got = haz__pattern_match(c[i].pattern, c[i].path);
        if (got != c[i].want)
            fprintf(stderr, "\n  match('%s', '%s') = %d, want %d\n",
                    c[i].pattern, c[i].path, got, c[i].want);
        CU_ASSERT_EQUAL(got, c[i].want);
    }
}

static void test_match_literal_and_anchoring(void)
{
    static const mcase c[] = {
        { "a/b", "a/b", 1 }, { "a/b", "a/c", 0 }, { "a", "a/b", 0 },
        { "a/b", "a", 0 }, { "a/b", "xa/b", 0 }, { "a/b", "a/bx", 0 },
        { "/a/b", "/a/b", 1 }, { "/a", "a", 0 }, { "a", "/a", 0 },
        { "*", "/a", 0 }, { "/*", "a", 0 }, { "/*", "/a", 1 },
        { "a,b", "a,b", 1 }, { "", "", 0 }, { "a", "", 0 }, { "*", "", 0 },
        { "/*", "/", 0 },
    };
    run_cases(c, HAZ_ARRAY_LEN(c));
    CU_ASSERT_EQUAL(haz__pattern_match(NULL, "a"), 0);
    CU_ASSERT_EQUAL(haz__pattern_match("a", NULL), 0);
}

static void test_match_star_question(void)
{
    static const mcase c[] = {
        /* `*` never crosses '/' (literal_separator). */
        { "*.c", "a.c", 1 }, { "*.c", ".c", 1 }, { "*.c", "dir/a.c", 0 },
        { "*", ".hidden", 1 }, { "a*", "a", 1 }, { "a*", "abc", 1 },
        { "*a*", "bab", 1 }, { "*a*", "bbb", 0 }, { "a*b*c", "axxbyyc", 1 },
        { "a*b*c", "axxbyy", 0 }, { "a*b", "a/b", 0 },
        { "*/*.c", "d/a.c", 1 }, { "*/*.c", "d/e/a.c", 0 },
        { "a*a", "aa", 1 }, { "a*a", "a", 0 }, { "*ab", "aab", 1 },
        /* `?` is one character, never '/'. */
        { "?.c", "a.c", 1 }, { "?.c", "ab.c", 0 }, { "?.c", ".c", 0 },
        { "a?b", "a/b", 0 }, { "a?b", "axb", 1 },
        { "?", "\xc3\xa9", 1 }, { "??", "\xc3\xa9", 0 },
        { "*??", "\xf0\x9f\x98\x80", 0 }, { "*?", "\xf0\x9f\x98\x80", 1 },
        { "?", "\xff", 1 },
    };
    run_cases(c, HAZ_ARRAY_LEN(c));
}

static void test_match_globstar(void)
{
    static const mcase c[] = {
        { "**", "a", 1 }, { "**", "a/b/c", 1 },
        { "**/x", "x", 1 }, { "**/x", "a/b/x", 1 }, { "**/x", "a/b/y", 0 },
        { "**/x", "a/x/y", 0 },
        /* A trailing `**` matches what is inside, not the directory. */
        { "x/**", "x", 0 }, { "x/**", "x/a", 1 }, { "x/**", "x/a/b", 1 },
        { "x/**", "y/a", 0 },
        { "a/**/b", "a/b", 1 }, { "a/**/b", "a/x/y/b", 1 },
        { "a/**/b", "a/x/y/c", 0 }, { "a/**/b", "a/b/b", 1 },
        { "a/**/b/**/c", "a/b/c", 1 }, { "a/**/b/**/c", "a/x/b/y/z/c", 1 },
        { "a/**/b/**/c", "a/x/c/y/b", 0 },
        { "src/**/*.rs", "src/lib.rs", 1 },
        { "src/**/*.rs", "src/a/b/lib.rs", 1 },
        { "src/**/*.rs", "lib.rs", 0 }, { "src/**/*.rs", "src/a/lib.c", 0 },
        { "/**/*.c", "/a/b.c", 1 }, { "/**/*.c", "/b.c", 1 },
        { "**/*.c", "/a.c", 0 },
        { "/lib_core/src/**/*.rs", "/lib_core/src/x/main.rs", 1 },
        { "**/**", "a", 1 }, { "**/**/x", "x", 1 },
        { "**/a/**", "x/a", 0 }, { "**/a/**", "x/a/y", 1 },
        { "a/**/**", "a", 0 }, { "a/**/**", "a/b", 1 },
    };
    run_cases(c, HAZ_ARRAY_LEN(c));
}

static void test_match_classes(void)
{
    static const mcase c[] = {
        { "[abc]", "b", 1 }, { "[abc]", "d", 0 }, { "[abc]", "ab", 0 },
        { "[!abc]", "d", 1 }, { "[!abc]", "a", 0 }, { "[^abc]", "a", 0 },
        { "[^abc]", "z", 1 },
        { "[a-c]x", "bx", 1 }, { "[a-c]x", "dx", 0 },
        { "[a-cx-z]", "y", 1 }, { "[a-cx-z]", "m", 0 },
        { "[]]", "]", 1 }, { "[!]]", "]", 0 }, { "[!]]", "a", 1 },
        { "[]a]", "a", 1 },
        { "[a-]", "-", 1 }, { "[-a]", "-", 1 }, { "[\\]]", "]", 1 },
        { "[\\-a]", "-", 1 }, { "[*?]", "*", 1 }, { "[*?]", "a", 0 },
        { "[{]", "{", 1 }, { "[,]", ",", 1 },
        { "[\xc3\xa9]", "\xc3\xa9", 1 }, { "[\xc3\xa9]", "e", 0 },
        { "[\xc3\xa0-\xc3\xbf]", "\xc3\xa9", 1 },
        { "[!\xc3\xa9]x", "\xc3\xa9x", 0 }, { "[!\xc3\xa9]x", "ex", 1 },
        { "*[0-9]", "file7", 1 }, { "*[0-9]", "file", 0 },
    };
    run_cases(c, HAZ_ARRAY_LEN(c));
}

static void test_match_braces(void)
{
    static const mcase c[] = {
        { "{a,b}", "a", 1 }, { "{a,b}", "b", 1 }, { "{a,b}", "c", 0 },
        { "{a,b}", "ab", 0 },
        { "*.{c,h}", "x.h", 1 }, { "*.{c,h}", "x.o", 0 },
        { "{src,include/sub}/*.h", "include/sub/a.h", 1 },
        { "{src,include/sub}/*.h", "src/a.h", 1 },
        { "{src,include/sub}/*.h", "include/a.h", 0 },
        { "a{,.bak}", "a", 1 }, { "a{,.bak}", "a.bak", 1 },
        { "a{,.bak}", "a.b", 0 },
        { "{a,b}{c,d}", "bd", 1 }, { "{a,b}{c,d}", "bb", 0 },
        { "x{}y", "xy", 1 }, { "{a}", "a", 1 },
        { "{x,**}/y", "a/b/y", 1 }, { "{x,**}/y", "x/y", 1 },
        { "{a\\,b,c}", "a,b", 1 }, { "{a\\,b,c}", "c", 1 },
        { "{a\\,b,c}", "a", 0 },
        { "{[ab],c}d", "bd", 1 }, { "{[,],c}d", ",d", 1 },
        { "src/{a,b}/**/*.{c,h}", "src/b/x/y/z.h", 1 },
        { "src/{a,b}/**/*.{c,h}", "src/c/x/y/z.h", 0 },
    };
    run_cases(c, HAZ_ARRAY_LEN(c));
}

static void test_match_escapes(void)
{
    static const mcase c[] = {
        { "\\*", "*", 1 }, { "\\*", "a", 0 }, { "a\\?b", "a?b", 1 },
        { "a\\?b", "axb", 0 }, { "\\[a]", "[a]", 1 }, { "\\[a]", "a", 0 },
        { "with\\*literal.txt", "with*literal.txt", 1 },
        { "with\\*literal.txt", "withXliteral.txt", 0 },
        { "\\{a,b\\}", "{a,b}", 1 }, { "\\{a,b\\}", "a", 0 },
        { "\\\\", "\\", 1 }, { "a\\bc", "abc", 1 },
        { "*\\*", "x*", 1 }, { "*\\*", "xy", 0 },
    };
    run_cases(c, HAZ_ARRAY_LEN(c));
}

static void test_match_invalid_patterns(void)
{
    /* A pattern haz_pattern_check rejects never matches. */
    static const mcase c[] = {
        { "[abc", "[abc", 0 }, { "[abc", "a", 0 }, { "{a,b", "a", 0 },
        { "{a,{b}}", "b", 0 }, { "a\\", "a", 0 }, { "*}", "a}", 0 },
        { "\\{a,b}", "{a,b}", 0 }, { "**.c", "a.c", 0 }, { "a//b", "a//b", 0 },
        { "./a", "./a", 0 }, { "{.,a}/*", "a/b", 0 },
    };
    run_cases(c, HAZ_ARRAY_LEN(c));
}

static void test_match_pathological(void)
{
    static char s[20001];
    static char deep[4001];
    char pat[400];
    size_t i;

    /* Exponential for naive backtracking; one restart point here. */
    memset(s, 'a', 20000);
    s[20000] = '\0';
    CU_ASSERT_EQUAL(haz__pattern_match("*a*a*a*a*a*a*a*a*a*a*a*b", s), 0);
    CU_ASSERT_EQUAL(haz__pattern_match("*a*a*a*a*a*a*a*a*a*a*a*a", s), 1);
    CU_ASSERT_EQUAL(haz__pattern_match("a*a*a*a*a*a*a*a*a*a*a*?", s), 1);
    /* The same at segment level with `**`. */
    for (i = 0; i < 2000; i++) {
        deep[2 * i] = 'a';
        deep[2 * i + 1] = '/';
    }
    deep[3999] = '\0';                          /* "a/a/.../a" */
    CU_ASSERT_EQUAL(haz__pattern_match("**/a/**/a/**/a/**/a/**/b", deep), 0);
    CU_ASSERT_EQUAL(haz__pattern_match("**/a/**/a/**/a/**/a/**/a", deep), 1);
    CU_ASSERT_EQUAL(haz__pattern_match("**/*a*a*a*a*b/**", deep), 0);
    /* The largest brace product allowed, with stars in every expansion. */
    pat[0] = '\0';
    for (i = 0; i < 10; i++)
        strcat(pat, "{*a,a*}");
    strcat(pat, "b");
    CU_ASSERT_EQUAL(haz__pattern_match(pat, s + 19000), 0);
}

/* ------------------------------------------------------------------------
 * Canonical joins (PATH-004/005).
 * ---------------------------------------------------------------------- */

static void join_is(const char *root, const char *path, int esc,
                    const char *want)
{
    char buf[128];
    size_t n = haz__canonical_join(NULL, root, path, esc);

    CU_ASSERT_EQUAL(n, strlen(want));
    CU_ASSERT_EQUAL(haz__canonical_join(buf, root, path, esc), n);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_join(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = NULL;
    char *out = NULL;
    unsigned long n;
    int r;

    join_is("core", "a.o", 0, "/core/a.o");
    join_is(".", "a.o", 0, "/a.o");
    join_is(NULL, "a.o", 0, "/a.o");
    join_is("core", "/x/y", 0, "/x/y");
    join_is("a/b", "c/d", 0, "/a/b/c/d");
    join_is("x*y", "*.c", 1, "/x\\*y/*.c");
    join_is("x*y", "a.c", 0, "/x*y/a.c");
    join_is("[a]{b}\\?", "*", 1, "/\\[a\\]\\{b\\}\\\\\\?/*");

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), 0);
    CU_ASSERT_EQUAL(haz__path_join_canonical(ctx, "core", "a.o", &out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/core/a.o");
    haz__free(ctx, out);
    CU_ASSERT_EQUAL(haz__path_join_canonical(ctx, "x*y", "a.c", &out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/x*y/a.c");
    haz__free(ctx, out);
    CU_ASSERT_EQUAL(haz__pattern_join_canonical(ctx, "x*y", "*.c", &out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/x\\*y/*.c");
    /* The escaped root still matches itself literally. */
    CU_ASSERT_EQUAL(haz__pattern_match(out, "/x*y/a.c"), 1);
    CU_ASSERT_EQUAL(haz__pattern_match(out, "/xzy/a.c"), 0);
    haz__free(ctx, out);
    CU_ASSERT_EQUAL(haz__pattern_join_canonical(ctx, "x*y", "a.c", &out), 0);
    CU_ASSERT_STRING_EQUAL(out, "/x*y/a.c");
    haz__free(ctx, out);
    CU_ASSERT_EQUAL(haz__path_join_canonical(ctx, "core", NULL, &out),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz__path_join_canonical(ctx, "core", "a", NULL),
                    HAZ_EINVAL);
    for (n = 1;; n++) {
        out = NULL;
        haz_test_mem_fail_at(&tm, n, 0);
        r = haz__path_join_canonical(ctx, "core", "a.o", &out);
        haz_test_mem_fail_at(&tm, 0, 0);
        if (r == 0) {
            haz__free(ctx, out);
            break;
        }
        CU_ASSERT_EQUAL(r, HAZ_ENOMEM);
        CU_ASSERT_PTR_NULL(out);
    }
    CU_ASSERT_EQUAL(n, 2);                  /* one allocation */
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static CU_TestInfo name_tests[] = {
    { "names: valid (ID-001..003)", test_name_valid },
    { "names: invalid with reasons (ID-001..003)", test_name_invalid },
    { "environment variable names", test_env_name },
    CU_TEST_INFO_NULL
};

static CU_TestInfo path_tests[] = {
    { "valid paths (PATH-002/003)", test_path_valid },
    { "invalid paths with reasons (PATH-002/003)", test_path_invalid },
    { "project roots", test_root },
    { "glob classification (PATH-015)", test_is_glob },
    { "valid patterns (PATH-008..016)", test_pattern_valid },
    { "invalid patterns with reasons (PATH-008..016)", test_pattern_invalid },
    { "mutex specs (MUTEX-001)", test_mutex_parse },
    { "UTF-8 decoding", test_utf8 },
    { "canonical joins (PATH-004/005)", test_join },
    CU_TEST_INFO_NULL
};

static CU_TestInfo match_tests[] = {
    { "literals and anchoring", test_match_literal_and_anchoring },
    { "* and ?", test_match_star_question },
    { "** segments", test_match_globstar },
    { "[...] classes", test_match_classes },
    { "{a,b} alternation", test_match_braces },
    { "\\ escapes", test_match_escapes },
    { "invalid patterns match nothing", test_match_invalid_patterns },
    { "pathological patterns", test_match_pathological },
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("names", name_tests),
    HAZ_TEST_SUITE("paths", path_tests),
    HAZ_TEST_SUITE("match", match_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
