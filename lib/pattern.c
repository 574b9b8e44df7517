/*
 * lib/pattern.c: the syntax of names, environment variable names, paths and
 * glob patterns, and the glob matcher.
 *
 * The file has four parts: the name checks (ID-001..003) and environment
 * names; literal paths (PATH-002/003) and project roots; the glob structure
 * parser shared by haz_pattern_check and the matcher; and the matcher.
 *
 * Brace alternation is handled without building the expanded strings: a
 * parsed pattern records each {...} group and the start of the alternative
 * currently chosen for it.  A position in the pattern is a plain index into
 * the original text; "normalising" a position jumps from a '{' to the chosen
 * alternative and from the end of an alternative (its ',' or '}') to just
 * after the group.  Walking tokens with that jump yields one expansion; an
 * odometer over the groups enumerates all of them (their number is capped
 * by HAZ__PATTERN_MAX_ALTERNATIVES).
 *
 * Matching one expansion uses the classic single-restart backtracking for
 * `*` inside a segment (only the last star is ever resumed), and the same
 * technique one level up for `**`, whose units are whole segments.  Both
 * are iterative, so no pattern can make them recurse or blow up
 * exponentially.
 */
#include "internal.h"

#include <string.h>

#include "pattern.h"

#define NONE ((size_t)-1)

/* ------------------------------------------------------------------------
 * Names.
 * ---------------------------------------------------------------------- */

static int is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

const char *haz__name_why_n(const char *name, size_t n)
{
    size_t i;

    if (n == 0)
        return "empty";
    if (n > HAZ_NAME_MAX)
        return "longer than 64 bytes";
    if (!is_alpha((unsigned char)name[0]) && !is_digit((unsigned char)name[0]))
        return "must start with a letter or a digit";
    for (i = 1; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-')
            return "only letters, digits, '_' and '-' are allowed";
    }
    return NULL;
}

const char *haz__name_why(const char *name)
{
    return name == NULL ? "missing" : haz__name_why_n(name, strlen(name));
}

int haz_name_check(const char *name)
{
    return haz__name_why(name) ? HAZ_EINVAL : 0;
}

const char *haz__env_name_why(const char *name)
{
    size_t i, n;

    if (name == NULL)
        return "missing";
    n = strlen(name);
    if (n == 0)
        return "empty";
    if (n > HAZ_ENV_NAME_MAX)
        return "longer than 256 bytes";
    if (!is_alpha((unsigned char)name[0]) && name[0] != '_')
        return "must start with a letter or '_'";
    for (i = 1; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_')
            return "only letters, digits and '_' are allowed";
    }
    return NULL;
}

int haz_env_name_check(const char *name)
{
    return haz__env_name_why(name) ? HAZ_EINVAL : 0;
}

/* ------------------------------------------------------------------------
 * Literal paths and roots.
 * ---------------------------------------------------------------------- */

static int set_why(const char **why, const char *reason)
{
    if (why != NULL)
        *why = reason;
    return HAZ_EINVAL;
}

int haz_path_check(const char *path, const char **why)
{
    size_t i, start, n;

    if (path == NULL)
        return set_why(why, "missing");
    n = strlen(path);
    if (n == 0)
        return set_why(why, "empty path");
    if (n == 1 && path[0] == '/')
        return set_why(why, "only '/'");
    for (i = 0; i < n; i++)
        if (is_ctl((unsigned char)path[i]))
            return set_why(why, "control character");
    /* PATH-002 per segment, PATH-003 on the whole. */
    start = path[0] == '/' ? 1 : 0;
    for (i = start; i <= n; i++) {
        size_t len;
        if (i < n && path[i] != '/')
            continue;
        len = i - start;
        if (len == 0)
            return set_why(why, i == n ? "trailing '/'" : "empty segment");
        if (len == 1 && path[start] == '.')
            return set_why(why, "'.' segment");
        if (len == 2 && path[start] == '.' && path[start + 1] == '.')
            return set_why(why, "'..' segment");
        start = i + 1;
    }
    if (why != NULL)
        *why = NULL;
    return 0;
}

const char *haz__root_why(const char *root)
{
    const char *why = NULL;

    if (root == NULL || strcmp(root, ".") == 0)
        return NULL;
    if (root[0] == '/')
        return "must be relative (no leading '/')";
    if (haz_path_check(root, &why) != 0)
        return why;
    return NULL;
}

/* ------------------------------------------------------------------------
 * UTF-8.
 * ---------------------------------------------------------------------- */

size_t haz__utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c, min;
    size_t len, i;

    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if (u[0] >= 0xc2 && u[0] <= 0xdf) {
        len = 2; c = u[0] & 0x1f; min = 0x80;
    } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        len = 3; c = u[0] & 0x0f; min = 0x800;
    } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        len = 4; c = u[0] & 0x07; min = 0x10000;
    } else {
        goto invalid;
    }
    if (len > n)
        goto invalid;
    for (i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80)
            goto invalid;
        c = (c << 6) | (u[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        goto invalid;
    *cp = c;
    return len;
invalid:
    *cp = 0xdc00 + u[0];
    return 1;
}

/* ------------------------------------------------------------------------
 * Glob structure.
 * ---------------------------------------------------------------------- */

int haz_pattern_is_glob(const char *pattern)
{
    return pattern != NULL && strpbrk(pattern, "*?[{\\") != NULL;
}

/* A parsed glob: its text and its brace groups, each with the start of the
 * alternative currently chosen. */
typedef struct pat {
    const char *p;
    size_t n;
    size_t ng;
    size_t open[HAZ__PATTERN_MAX_GROUPS];  /* index of '{' */
    size_t close[HAZ__PATTERN_MAX_GROUPS]; /* index of '}' */
    size_t alt[HAZ__PATTERN_MAX_GROUPS];   /* first byte of chosen alt */
} pat;

/* Read one class member at p[*j]: an escaped or plain UTF-8 character.
 * Returns 0, or a reason when the class cannot be closed. */
static const char *class_member(const char *p, size_t n, size_t *j,
                                uint32_t *cp)
{
    size_t k = *j;

    if (p[k] == '\\')
        k++;
    if (k >= n)
        return "unclosed '['";
    if (p[k] == '/')
        return "'/' inside '[...]'";
    *j = k + haz__utf8_decode(p + k, n - k, cp);
    return NULL;
}

/* Scan the class opening at p[i]; on success *end is the index after ']'. */
static const char *class_scan(const char *p, size_t n, size_t i, size_t *end)
{
    size_t j = i + 1;
    int first = 1;

    if (j < n && (p[j] == '!' || p[j] == '^'))
        j++;
    for (;;) {
        uint32_t lo = 0, hi = 0;
        const char *why;
        if (j >= n)
            return "unclosed '['";
        if (p[j] == ']' && !first) {
            *end = j + 1;
            return NULL;
        }
        first = 0;
        if ((why = class_member(p, n, &j, &lo)) != NULL)
            return why;
        if (j + 1 < n && p[j] == '-' && p[j + 1] != ']') {
            j++;
            if ((why = class_member(p, n, &j, &hi)) != NULL)
                return why;
            if (hi < lo)
                return "invalid range in '[...]'";
        }
    }
}

/* Does the class at p[i] (known to be well formed) match character cp? */
static int class_match(const char *p, size_t n, size_t i, uint32_t cp)
{
    size_t j = i + 1;
    int neg = 0, first = 1, hit = 0;

    if (p[j] == '!' || p[j] == '^') {
        neg = 1;
        j++;
    }
    for (;;) {
        uint32_t lo = 0, hi = 0;
        if (p[j] == ']' && !first)
            break;
        first = 0;
        (void)class_member(p, n, &j, &lo);
        hi = lo;
        if (j + 1 < n && p[j] == '-' && p[j + 1] != ']') {
            j++;
            (void)class_member(p, n, &j, &hi);
        }
        if (cp >= lo && cp <= hi)
            hit = 1;
    }
    return hit != neg;
}

/* Length of the raw token at p[i]: an escape pair, a whole class or one
 * byte.  Only called on well-formed patterns. */
static size_t tok_len(const pat *P, size_t i)
{
    size_t end;

    if (P->p[i] == '\\')
        return i + 1 < P->n ? 2 : 1;
    if (P->p[i] == '[' && class_scan(P->p, P->n, i, &end) == NULL)
        return end - i;
    return 1;
}

/* Parse the structure of a glob: escapes, classes, brace groups.  Chooses
 * the first alternative of every group. */
static const char *pat_parse(pat *P, const char *p)
{
    size_t i = 0, alts = 0, product = 1;
    int in_group = 0;

    P->p = p;
    P->n = strlen(p);
    P->ng = 0;
    while (i < P->n) {
        const char *why;
        size_t end;
        switch (p[i]) {
        case '\\':
            if (i + 1 >= P->n)
                return "trailing '\\'";
            if (p[i + 1] == '/')
                return "'\\' before '/'";
            i += 2;
            continue;
        case '[':
            if ((why = class_scan(p, P->n, i, &end)) != NULL)
                return why;
            i = end;
            continue;
        case '{':
            if (in_group)
                return "nested '{'";                   /* PATH-014 */
            if (P->ng == HAZ__PATTERN_MAX_GROUPS)
                return "too many '{...}' groups";
            P->open[P->ng] = i;
            P->alt[P->ng] = i + 1;
            in_group = 1;
            alts = 1;
            break;
        case ',':
            if (in_group)
                alts++;
            break;
        case '}':
            if (!in_group)
                return "unmatched '}'";
            P->close[P->ng++] = i;
            in_group = 0;
            product *= alts;
            if (product > HAZ__PATTERN_MAX_ALTERNATIVES)
                return "too many '{...}' alternatives";
            break;
        default:
            break;
        }
        i++;
    }
    if (in_group)
        return "unclosed '{'";
    return NULL;
}

/* The group whose text (from '{' to '}') contains index i, or NONE. */
static size_t group_at(const pat *P, size_t i)
{
    size_t lo = 0, hi = P->ng;

    while (lo < hi) {               /* first group with open > i */
        size_t mid = lo + (hi - lo) / 2;
        if (P->open[mid] <= i)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || i > P->close[lo - 1])
        return NONE;
    return lo - 1;
}

/* Bring a token-start position onto a real token of the current
 * expansion: enter the chosen alternative of a '{', leave a group at the
 * end of an alternative.  Returns P->n at the end of the pattern. */
static size_t norm(const pat *P, size_t i)
{
    for (;;) {
        size_t g;
        if (i >= P->n)
            return P->n;
        if (P->p[i] != '{' && P->p[i] != ',' && P->p[i] != '}')
            return i;
        g = group_at(P, i);
        if (g == NONE)
            return i;               /* a literal ',' */
        i = P->p[i] == '{' ? P->alt[g] : P->close[g] + 1;
    }
}

static size_t next(const pat *P, size_t i)
{
    return norm(P, i + tok_len(P, i));
}

/* The alternative after the one starting at `a` in group g, or NONE. */
static size_t next_alt(const pat *P, size_t g, size_t a)
{
    size_t i = a;

    while (i < P->close[g]) {
        if (P->p[i] == ',')
            return i + 1;
        i += tok_len(P, i);
    }
    return NONE;
}

/* Step the odometer of chosen alternatives; 0 once every expansion has
 * been visited (the choices are then back at the first ones). */
static int pat_advance(pat *P)
{
    size_t g;

    for (g = 0; g < P->ng; g++) {
        size_t a = next_alt(P, g, P->alt[g]);
        if (a != NONE) {
            P->alt[g] = a;
            return 1;
        }
        P->alt[g] = P->open[g] + 1;
    }
    return 0;
}

/* Is the token at i a plain (unescaped) byte c? */
static int at(const pat *P, size_t i, char c)
{
    return i < P->n && P->p[i] == c;
}

/* Check the segments of the current expansion (PATH-002/003 and the
 * whole-segment rule for `**`). */
static const char *check_expansion(const pat *P)
{
    size_t i = norm(P, 0);

    if (at(P, i, '/')) {
        if (P->p[0] != '/')
            return "'/' at the start of a '{...}' alternative";
        i = next(P, i);
        if (i >= P->n)
            return "only '/'";
    }
    if (i >= P->n)
        return "empty pattern";
    for (;;) {
        size_t ntok = 0, dots = 0;
        int prev_star = 0, double_star = 0;
        while (i < P->n && P->p[i] != '/') {
            char c = P->p[i] == '\\' ? P->p[i + 1] : P->p[i];
            if (c == '.')
                dots++;
            if (P->p[i] == '*') {
                if (prev_star)
                    double_star = 1;
                prev_star = 1;
            } else {
                prev_star = 0;
            }
            ntok++;
            i = next(P, i);
        }
        if (ntok == 0)
            return i >= P->n ? "trailing '/'" : "empty segment";
        if (dots == ntok && ntok == 1)
            return "'.' segment";
        if (dots == ntok && ntok == 2)
            return "'..' segment";
        if (double_star && ntok != 2)
            return "'**' must be a whole segment";
        if (i >= P->n)
            return NULL;
        i = next(P, i);             /* past the '/' */
    }
}

int haz_pattern_check(const char *pattern, const char **why)
{
    const char *reason;
    size_t i;
    pat P;

    if (pattern == NULL)
        return set_why(why, "missing");
    if (!haz_pattern_is_glob(pattern))
        return haz_path_check(pattern, why);
    for (i = 0; pattern[i] != '\0'; i++)
        if (is_ctl((unsigned char)pattern[i]))
            return set_why(why, "control character");
    if ((reason = pat_parse(&P, pattern)) != NULL)
        return set_why(why, reason);
    do {
        if ((reason = check_expansion(&P)) != NULL)
            return set_why(why, reason);
    } while (pat_advance(&P));
    if (why != NULL)
        *why = NULL;
    return 0;
}

/* ------------------------------------------------------------------------
 * Matching.
 * ---------------------------------------------------------------------- */

/* Match the pattern tokens from i against the segment s[si..se) (no '/').
 * Returns the position of the token that ends the pattern segment (a '/'
 * or P->n), or NONE. */
static size_t seg_match(const pat *P, size_t i, const char *s, size_t si,
                        size_t se)
{
    size_t star_i = NONE, star_s = 0;

    for (;;) {
        if (at(P, i, '*')) {
            while (at(P, i, '*'))
                i = next(P, i);
            star_i = i;
            star_s = si;
            continue;
        }
        if (si == se) {
            if (i >= P->n || P->p[i] == '/')
                return i;
        } else if (i < P->n && P->p[i] != '/') {
            uint32_t cp;
            size_t len;
            switch (P->p[i]) {
            case '?':
                si += haz__utf8_decode(s + si, se - si, &cp);
                i = next(P, i);
                continue;
            case '[':
                len = haz__utf8_decode(s + si, se - si, &cp);
                if (class_match(P->p, P->n, i, cp)) {
                    si += len;
                    i = next(P, i);
                    continue;
                }
                break;
            case '\\':
                if (s[si] == P->p[i + 1]) {
                    si++;
                    i = next(P, i);
                    continue;
                }
                break;
            default:
                if (s[si] == P->p[i]) {
                    si++;
                    i = next(P, i);
                    continue;
                }
                break;
            }
        }
        /* Mismatch: let the last star take one more character. */
        if (star_i == NONE || star_s >= se)
            return NONE;
        {
            uint32_t cp;
            star_s += haz__utf8_decode(s + star_s, se - star_s, &cp);
        }
        si = star_s;
        i = star_i;
    }
}

/* Is the segment starting at token i exactly `**`?  *after receives the
 * token after it ('/' or P->n). */
static int globstar(const pat *P, size_t i, size_t *after)
{
    size_t j;

    if (!at(P, i, '*'))
        return 0;
    j = next(P, i);
    if (!at(P, j, '*'))
        return 0;
    j = next(P, j);
    if (j < P->n && P->p[j] != '/')
        return 0;
    *after = j;
    return 1;
}

static size_t seg_end(const char *s, size_t si, size_t sn)
{
    const char *e = memchr(s + si, '/', sn - si);
    return e ? (size_t)(e - s) : sn;
}

/* Match the current expansion against the whole path. */
static int match_expansion(const pat *P, const char *s, size_t sn)
{
    size_t i = norm(P, 0), si = 0;
    size_t star_i = NONE, star_s = 0;
    int pabs = at(P, i, '/'), sabs = sn > 0 && s[0] == '/';

    if (pabs != sabs)
        return 0;
    if (pabs) {
        i = next(P, i);
        si = 1;
    }
    if (si >= sn)
        return 0;
    for (;;) {
        size_t after, se, r;
        if (globstar(P, i, &after)) {
            if (after >= P->n) {
                /* A trailing `**` takes one or more segments. */
                if (si < sn)
                    return 1;
                goto fail;
            }
            star_i = next(P, after);
            star_s = si;
            i = star_i;
            continue;
        }
        if (si >= sn)
            goto fail;
        se = seg_end(s, si, sn);
        r = seg_match(P, i, s, si, se);
        if (r == NONE)
            goto fail;
        if (r >= P->n && se >= sn)
            return 1;
        if (r < P->n && se < sn) {
            i = next(P, r);
            si = se + 1;
            continue;
        }
fail:
        /* Let the last `**` take one more segment. */
        if (star_i == NONE)
            return 0;
        se = seg_end(s, star_s, sn);
        if (se >= sn)
            return 0;
        star_s = se + 1;
        si = star_s;
        i = star_i;
    }
}

int haz__pattern_match(const char *pattern, const char *path)
{
    size_t sn;
    pat P;

    if (pattern == NULL || path == NULL
        || haz_pattern_check(pattern, NULL) != 0)
        return 0;
    (void)pat_parse(&P, pattern);
    sn = strlen(path);
    do {
        if (match_expansion(&P, path, sn))
            return 1;
    } while (pat_advance(&P));
    return 0;
}

/* ------------------------------------------------------------------------
 * Canonical workspace-absolute paths.
 * ---------------------------------------------------------------------- */

size_t haz__canonical_join(char *dst, const char *root, const char *path,
                           int escape_root)
{
    size_t len = 0, i;

#define PUT(c) do { if (dst != NULL) dst[len] = (c); len++; } while (0)
    if (path[0] != '/') {
        PUT('/');
        if (root != NULL && strcmp(root, ".") != 0 && root[0] != '\0') {
            for (i = 0; root[i] != '\0'; i++) {
                if (escape_root && strchr("*?[]{}\\", root[i]) != NULL)
                    PUT('\\');
                PUT(root[i]);
            }
            PUT('/');
        }
    }
    for (i = 0; path[i] != '\0'; i++)
        PUT(path[i]);
    if (dst != NULL)
        dst[len] = '\0';
#undef PUT
    return len;
}

static int join_alloc(haz_ctx *ctx, const char *root, const char *path,
                      int escape_root, char **out)
{
    size_t len;
    char *s;

    if (ctx == NULL || path == NULL || out == NULL)
        return HAZ_EINVAL;
    len = haz__canonical_join(NULL, root, path, escape_root);
    s = haz__malloc(ctx, len + 1);
    if (s == NULL)
        return HAZ_ENOMEM;
    (void)haz__canonical_join(s, root, path, escape_root);
    *out = s;
    return 0;
}

int haz__path_join_canonical(haz_ctx *ctx, const char *project_root,
                             const char *path, char **out)
{
    return join_alloc(ctx, project_root, path, 0, out);
}

int haz__pattern_join_canonical(haz_ctx *ctx, const char *project_root,
                                const char *pattern, char **out)
{
    return join_alloc(ctx, project_root, pattern,
                      pattern != NULL && haz_pattern_is_glob(pattern), out);
}

/* ------------------------------------------------------------------------
 * Mutex specs.
 * ---------------------------------------------------------------------- */

int haz_mutex_parse(const char *spec, haz_mutex_scope *scope,
                    haz_mutex_mode *mode, const char **name)
{
    haz_mutex_mode m = HAZ_MUTEX_EXCLUSIVE;
    haz_mutex_scope sc = HAZ_MUTEX_WORKSPACE;
    const char *s = spec;

    if (s == NULL)
        return HAZ_EINVAL;
    if (strncmp(s, "shared:", 7) == 0) {
        m = HAZ_MUTEX_SHARED;
        s += 7;
    } else if (strncmp(s, "exclusive:", 10) == 0) {
        s += 10;
    }
    if (strncmp(s, "~:", 2) == 0) {
        sc = HAZ_MUTEX_PROJECT;
        s += 2;
    }
    /* An unknown prefix leaves a ':' in the name, which the check refuses. */
    if (haz_name_check(s) != 0)
        return HAZ_EINVAL;
    if (scope != NULL)
        *scope = sc;
    if (mode != NULL)
        *mode = m;
    if (name != NULL)
        *name = s;
    return 0;
}
