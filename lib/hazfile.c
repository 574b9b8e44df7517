/*
 * lib/hazfile.c: the `hazfile` workspace format (hazexec/hazfile.h,
 * docs/hazfile.md).
 *
 * The parser makes one pass over the text, line by line, and builds the
 * graph through the public graph.h calls as it goes, calling
 * haz_graph_set_source() before each item so that graph validation can name
 * the line an item came from.  Everything that can be checked on one line
 * alone (line syntax, section headers, keys, value forms, names, paths,
 * patterns, references, mutex specs, environment names) is checked here and
 * reported with the exact line.  Cross-item rules (unknown references,
 * cycles, output collisions, ...) are left to haz_graph_validate(), which
 * runs only when the text had no error of its own: a file with a syntax
 * error never yields graph diagnostics computed from a half-read graph.
 *
 * Parser diagnostics are collected in a pending list kept in line order (a
 * task without an action is found when its section ends but is reported at
 * its header line), then handed to the caller's list at the end.  After
 * HF_MAX_ERRORS errors the parser stops with a final note, so no input can
 * make it keep gigabytes of messages.
 *
 * Sections of this file: small helpers (blanks, quoting, numbers); the
 * string map used for duplicate detection; the parser state and its
 * diagnostics; sections; keys and values; the public entry points.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HF_LINE_MAX 65536u                 /* bytes per line, line end excluded */
#define HF_FILE_MAX (64u * 1024u * 1024u)  /* haz_hazfile_load() limit */
#define HF_MAX_ERRORS 1000u                /* then the parser gives up */
#define HF_QUOTE_MAX 80u                   /* source bytes quoted in a message */
#define HF_QBUF (HF_QUOTE_MAX * 4u + 8u)   /* room for a quoted text */
#define HF_PATH_QUOTE_MAX 1000u            /* ... of a path (the context's
                                              message holds 1024 bytes) */
#define HF_SECONDS_MAX 1000000u            /* cancel_grace and timeout */

static const char *const hf_no_names[1] = { NULL };

static const char hf_name_rule[] =
    "names are 1 to 64 bytes of [A-Za-z0-9_-], starting with a letter or digit";

/* ------------------------------------------------------------------------
 * Small helpers.
 * ---------------------------------------------------------------------- */

static int hf_is_blank(int c)
{
    return c == ' ' || c == '\t';
}

static int hf_is_key_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static char *hf_skip_blanks(char *s)
{
    while (hf_is_blank((unsigned char)*s))
        s++;
    return s;
}

/* Cut the blanks at the end of s in place. */
static void hf_rtrim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && hf_is_blank((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/*
 * The length of the well-formed UTF-8 sequence at s (at most n bytes), or
 * 0 when the bytes there are not one, or encode a C1 control character.
 */
static size_t hf_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len, i;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        if (c == 0xc2)
            lo = 0xa0;  /* U+0080..U+009F are C1 controls */
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/*
 * Write the first `n` bytes of `s` into dst (at least max * 4 + 4 bytes)
 * for quoting in a message: control bytes and bytes that are not
 * well-formed UTF-8 become \xNN; after `max` source bytes the text is cut
 * and "..." added.
 */
static const char *hf_quote_max(char *dst, const char *s, size_t n,
                                size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;

    while (i < n) {
        unsigned char c = u[i];
        size_t len = 1;

        if (c >= 0x80)
            len = hf_utf8_len(u + i, n - i);
        if (i + (len ? len : 1) > max) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f || len == 0) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
            i++;
        } else {
            memcpy(dst + o, u + i, len);
            o += len;
            i += len;
        }
    }
    dst[o] = '\0';
    return dst;
}

/* Quote s into dst (HF_QBUF bytes), cut after HF_QUOTE_MAX bytes. */
static const char *hf_quote(char *dst, const char *s)
{
    return hf_quote_max(dst, s, strlen(s), HF_QUOTE_MAX);
}

/*
 * Parse a decimal integer of digits only (no sign, no blank) into *out.
 * Returns 0, -1 (not of that form) or -2 (greater than `max`).
 */
static int hf_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        unsigned d;

        if (*s < '0' || *s > '9')
            return -1;
        d = (unsigned)(*s - '0');
        if (v > (max - d) / 10) {
            /* Too large; keep checking the form so "99x" reads as junk. */
            while (*s >= '0' && *s <= '9')
                s++;
            return *s ? -1 : -2;
        }
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/*
 * Parse non-negative decimal seconds, "5", "0", "2.5", "0.25", into
 * nanoseconds without floating point (so no locale, no rounding):
 * DIGITS [ "." DIGITS ].  Returns 0, -1 (not of that form), -2 (more than
 * HF_SECONDS_MAX seconds) or -3 (more than 9 decimal places).
 */
static int hf_parse_seconds(const char *s, uint64_t *out_ns)
{
    uint64_t whole = 0, frac = 0, scale = UINT64_C(100000000);
    int big = 0, places = 0;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (!big) {
            whole = whole * 10 + (uint64_t)(*s - '0');
            if (whole > HF_SECONDS_MAX)
                big = 1;
        }
    }
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (++places <= 9) {
                frac += (uint64_t)(*s - '0') * scale;
                scale /= 10;
            }
        }
    }
    if (*s != '\0')
        return -1;
    if (places > 9)
        return -3;
    if (big || (whole == HF_SECONDS_MAX && frac > 0))
        return -2;
    *out_ns = whole * UINT64_C(1000000000) + frac;
    return 0;
}

/* ------------------------------------------------------------------------
 * A string -> line map (open addressing), for duplicate sections and
 * duplicate env.NAME keys.  Keys are copied.
 * ---------------------------------------------------------------------- */

typedef struct hf_slot {
    char *key;              /* NULL: empty slot */
    unsigned long line;
} hf_slot;

typedef struct hf_map {
    hf_slot *slots;
    size_t cap;             /* 0 or a power of two */
    size_t n;
} hf_map;

static size_t hf_hash(const char *s)
{
    size_t h = (size_t)2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * (size_t)16777619u;
    return h;
}

static void hf_map_free(haz_ctx *ctx, hf_map *m)
{
    size_t i;

    for (i = 0; i < m->cap; i++)
        haz__free(ctx, m->slots[i].key);
    haz__free(ctx, m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

/* The line recorded for key, or 0. */
static unsigned long hf_map_get(const hf_map *m, const char *key)
{
    size_t i;

    if (m->cap == 0)
        return 0;
    for (i = hf_hash(key) & (m->cap - 1); m->slots[i].key;
         i = (i + 1) & (m->cap - 1))
        if (strcmp(m->slots[i].key, key) == 0)
            return m->slots[i].line;
    return 0;
}

/* Add key (not present yet).  Returns 0 or HAZ_ENOMEM. */
static int hf_map_put(haz_ctx *ctx, hf_map *m, const char *key,
                      unsigned long line)
{
    size_t i;
    char *copy;

    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16, j;
        hf_slot *ns = haz__calloc(ctx, ncap, sizeof *ns);

        if (!ns)
            return HAZ_ENOMEM;
        for (j = 0; j < m->cap; j++) {
            if (!m->slots[j].key)
                continue;
            for (i = hf_hash(m->slots[j].key) & (ncap - 1); ns[i].key;
                 i = (i + 1) & (ncap - 1))
                ;
            ns[i] = m->slots[j];
        }
        haz__free(ctx, m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    copy = haz__strdup(ctx, key);
    if (!copy)
        return HAZ_ENOMEM;
    for (i = hf_hash(key) & (m->cap - 1); m->slots[i].key;
         i = (i + 1) & (m->cap - 1))
        ;
    m->slots[i].key = copy;
    m->slots[i].line = line;
    m->n++;
    return 0;
}

/* ------------------------------------------------------------------------
 * Parser state and diagnostics.
 * ---------------------------------------------------------------------- */

typedef enum hf_section {
    HF_SEC_NONE = 0,    /* before the first header */
    HF_SEC_BAD,         /* after a header that could not be read */
    HF_SEC_WORKSPACE,
    HF_SEC_TAG,
    HF_SEC_PROJECT,
    HF_SEC_TASK
} hf_section;

/* Every key of every section; the table below says where each belongs. */
typedef enum hf_key {
    HF_K_CONCURRENCY, HF_K_CANCEL_GRACE, HF_K_OUTPUT, HF_K_WS_ENV_FROM_HOST,
    HF_K_CAP,
    HF_K_ROOT, HF_K_PROJECT_TAGS,
    HF_K_RUN, HF_K_ARGV, HF_K_INPUTS, HF_K_OUTPUTS, HF_K_DEPS,
    HF_K_WEAK_DEPS, HF_K_TAGS, HF_K_MUTEX, HF_K_ENV_FROM_HOST, HF_K_TIMEOUT,
    HF_K_COUNT
} hf_key;

static const struct {
    hf_section section;
    const char *name;
    hf_key key;
} hf_keys[] = {
    { HF_SEC_WORKSPACE, "concurrency", HF_K_CONCURRENCY },
    { HF_SEC_WORKSPACE, "cancel_grace", HF_K_CANCEL_GRACE },
    { HF_SEC_WORKSPACE, "output", HF_K_OUTPUT },
    { HF_SEC_WORKSPACE, "env_from_host", HF_K_WS_ENV_FROM_HOST },
    { HF_SEC_TAG, "cap", HF_K_CAP },
    { HF_SEC_PROJECT, "root", HF_K_ROOT },
    { HF_SEC_PROJECT, "tags", HF_K_PROJECT_TAGS },
    { HF_SEC_TASK, "run", HF_K_RUN },
    { HF_SEC_TASK, "argv", HF_K_ARGV },
    { HF_SEC_TASK, "inputs", HF_K_INPUTS },
    { HF_SEC_TASK, "outputs", HF_K_OUTPUTS },
    { HF_SEC_TASK, "deps", HF_K_DEPS },
    { HF_SEC_TASK, "weak_deps", HF_K_WEAK_DEPS },
    { HF_SEC_TASK, "tags", HF_K_TAGS },
    { HF_SEC_TASK, "mutex", HF_K_MUTEX },
    { HF_SEC_TASK, "env_from_host", HF_K_ENV_FROM_HOST },
    { HF_SEC_TASK, "timeout", HF_K_TIMEOUT }
};

/* A diagnostic waiting to be handed over, kept sorted by line. */
typedef struct hf_pending {
    unsigned long line;
    haz_diag_kind kind;
    char *message;
} hf_pending;

typedef struct hf_parser {
    haz_ctx *ctx;
    const char *file;           /* for diagnostics */
    haz_graph *g;
    haz_diags *diags;           /* caller's list, may be NULL */

    hf_pending *pend;           /* only when diags is not NULL */
    size_t n_pend, cap_pend;
    size_t n_errors;
    int stop;                   /* too many errors: read no further */

    unsigned long lineno;
    char *line;                 /* scratch copy of the current line */

    char **words;               /* items of the list being read */
    size_t n_words, cap_words;

    hf_map sections;            /* "KIND NAME" -> line of the header */

    /* The current section. */
    hf_section sec;
    int dead;                   /* checked but not added to the graph */
    unsigned long sec_line;
    char label[HF_QBUF + 32];   /* "[task core:build]" for messages */
    char *name;                 /* tag, project or task name */
    char *project;              /* [task P:T]: P */
    haz_task *task;             /* [task P:T] when not dead */
    unsigned long key_line[HF_K_COUNT];
    hf_map env_keys;            /* env.NAME keys of this task */
    char *root;                 /* [project]: deferred to the section end */
    char *tags;

    /* [workspace] results. */
    unsigned concurrency;
    uint64_t cancel_grace_ns;
    haz_output_mode output;
} hf_parser;

/*
 * Record an error at `line`.  Returns 0, or HAZ_ENOMEM when the message
 * could not be stored.
 */
static int hf_error(hf_parser *p, unsigned long line, haz_diag_kind kind,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int hf_add_pending(hf_parser *p, unsigned long line,
                          haz_diag_kind kind, char *message)
{
    size_t i;

    if (p->n_pend == p->cap_pend) {
        size_t ncap = p->cap_pend ? p->cap_pend * 2 : 16;
        hf_pending *np = haz__reallocarray(p->ctx, p->pend, ncap,
                                           sizeof *np);

        if (!np) {
            haz__free(p->ctx, message);
            return HAZ_ENOMEM;
        }
        p->pend = np;
        p->cap_pend = ncap;
    }
    /* Nearly always appended; a task's missing action moves back over the
     * errors of its own section only. */
    i = p->n_pend;
    while (i > 0 && p->pend[i - 1].line > line) {
        p->pend[i] = p->pend[i - 1];
        i--;
    }
    p->pend[i].line = line;
    p->pend[i].kind = kind;
    p->pend[i].message = message;
    p->n_pend++;
    return 0;
}

static int hf_error(hf_parser *p, unsigned long line, haz_diag_kind kind,
                    const char *fmt, ...)
{
    va_list ap;
    haz_buf b;
    int rc;

    if (p->stop)
        return 0;
    p->n_errors++;
    if (p->diags) {
        haz__buf_init(&b, p->ctx);
        va_start(ap, fmt);
        rc = haz__buf_vprintf(&b, fmt, ap);
        va_end(ap);
        if (rc != 0) {
            haz__buf_free(&b);
            return HAZ_ENOMEM;
        }
        rc = hf_add_pending(p, line, kind, b.data);
        if (rc != 0)
            return rc;
    }
    if (p->n_errors >= HF_MAX_ERRORS) {
        p->stop = 1;
        if (p->diags) {
            char *m = haz__strdup(p->ctx, "too many errors; stopping here");

            if (!m)
                return HAZ_ENOMEM;
            return hf_add_pending(p, line, HAZ_DIAG_SYNTAX, m);
        }
    }
    return 0;
}

/*
 * A graph call failed: ENOMEM is passed up; any other code is a surprise,
 * reported as an error at the current line rather than ignored.
 */
static int hf_graph_failed(hf_parser *p, int rc, const char *what)
{
    if (rc == HAZ_ENOMEM)
        return rc;
    return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                    "cannot add %s to the graph: %s", what,
                    haz_strerror(rc));
}

/* Point the graph's source location at `line`. */
static int hf_source(hf_parser *p, unsigned long line)
{
    int rc = haz_graph_set_source(p->g, p->file, line);

    return rc == 0 ? 0 : hf_graph_failed(p, rc, "a source location");
}

/*
 * Split s in place into blank-separated words, stored in p->words.
 * Returns 0 or HAZ_ENOMEM.
 */
static int hf_split(hf_parser *p, char *s)
{
    p->n_words = 0;
    for (;;) {
        s = hf_skip_blanks(s);
        if (*s == '\0')
            return 0;
        if (p->n_words == p->cap_words) {
            size_t ncap = p->cap_words ? p->cap_words * 2 : 16;
            char **nw = haz__reallocarray(p->ctx, p->words, ncap,
                                          sizeof *nw);

            if (!nw)
                return HAZ_ENOMEM;
            p->words = nw;
            p->cap_words = ncap;
        }
        p->words[p->n_words++] = s;
        while (*s && !hf_is_blank((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
}

/* ------------------------------------------------------------------------
 * Sections.
 * ---------------------------------------------------------------------- */

static void hf_section_reset(hf_parser *p)
{
    haz__free(p->ctx, p->name);
    haz__free(p->ctx, p->project);
    haz__free(p->ctx, p->root);
    haz__free(p->ctx, p->tags);
    p->name = p->project = p->root = p->tags = NULL;
    hf_map_free(p->ctx, &p->env_keys);
    memset(p->key_line, 0, sizeof p->key_line);
    p->task = NULL;
    p->dead = 0;
    p->sec = HF_SEC_NONE;
    p->sec_line = 0;
    p->label[0] = '\0';
}

/* Declare the project of a [project] section, then its tags. */
static int hf_close_project(hf_parser *p)
{
    unsigned long root_line = p->key_line[HF_K_ROOT];
    unsigned long tags_line = p->key_line[HF_K_PROJECT_TAGS];
    size_t i;
    int rc;

    if ((rc = hf_source(p, root_line ? root_line : p->sec_line)) != 0)
        return rc;
    rc = haz_graph_add_project(p->g, p->name, p->root ? p->root : ".");
    if (rc != 0)
        return hf_graph_failed(p, rc, "the project");
    if (!p->tags)
        return 0;
    if ((rc = hf_source(p, tags_line)) != 0)
        return rc;
    if ((rc = hf_split(p, p->tags)) != 0)
        return rc;
    for (i = 0; i < p->n_words; i++) {
        rc = haz_graph_add_project_tag(p->g, p->name, p->words[i]);
        if (rc != 0)
            return hf_graph_failed(p, rc, "a project tag");
    }
    return 0;
}

/* End the current section: the checks and additions that need all of it. */
static int hf_close_section(hf_parser *p)
{
    int rc = 0;

    /* A section whose header is in error (dead) is checked key by key
     * only: "no action" there would be noise. */
    if (p->sec == HF_SEC_TASK && !p->dead && !p->key_line[HF_K_RUN] &&
        !p->key_line[HF_K_ARGV])
        rc = hf_error(p, p->sec_line, HAZ_DIAG_NO_ACTION,
                      "%s has no 'run' or 'argv'", p->label);
    else if (p->sec == HF_SEC_PROJECT && !p->dead && p->n_errors == 0)
        rc = hf_close_project(p);
    hf_section_reset(p);
    return rc;
}

static int hf_check_name(hf_parser *p, const char *what, const char *name)
{
    char q[HF_QBUF];

    if (haz_name_check(name) == 0)
        return 0;
    p->dead = 1;
    return hf_error(p, p->lineno, HAZ_DIAG_BAD_NAME,
                    "invalid %s name '%s' (%s)", what, hf_quote(q, name),
                    hf_name_rule);
}

/*
 * Open a section of a known kind with argument `arg` ("" for workspace):
 * check names, detect a repeated section, create the task.
 */
static int hf_open_section(hf_parser *p, hf_section sec, const char *kind,
                           const char *arg)
{
    char q[HF_QBUF];
    haz_buf key;
    unsigned long first;
    int rc;

    p->sec = sec;
    p->sec_line = p->lineno;
    if (sec == HF_SEC_WORKSPACE)
        strcpy(p->label, "[workspace]");
    else
        snprintf(p->label, sizeof p->label, "[%s %s]", kind,
                 hf_quote(q, arg));

    if (sec == HF_SEC_TASK) {
        const char *colon = strchr(arg, ':');

        if (!colon || colon == arg || colon[1] == '\0' ||
            strchr(colon + 1, ':')) {
            p->dead = 1;
            return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                            "[task] needs PROJECT:TASK, got '%s'",
                            hf_quote(q, arg));
        }
        p->project = haz__strndup(p->ctx, arg, (size_t)(colon - arg));
        p->name = haz__strdup(p->ctx, colon + 1);
        if (!p->project || !p->name)
            return HAZ_ENOMEM;
        if ((rc = hf_check_name(p, "project", p->project)) != 0)
            return rc;
        if ((rc = hf_check_name(p, "task", p->name)) != 0)
            return rc;
    } else if (sec != HF_SEC_WORKSPACE) {
        p->name = haz__strdup(p->ctx, arg);
        if (!p->name)
            return HAZ_ENOMEM;
        rc = hf_check_name(p, sec == HF_SEC_TAG ? "tag" : "project", arg);
        if (rc != 0)
            return rc;
    }

    /* One section of each kind and name. */
    haz__buf_init(&key, p->ctx);
    if (haz__buf_printf(&key, "%d %s", (int)sec, arg) != 0) {
        haz__buf_free(&key);
        return HAZ_ENOMEM;
    }
    first = hf_map_get(&p->sections, key.data);
    if (first) {
        p->dead = 1;
        rc = hf_error(p, p->lineno, HAZ_DIAG_DUPLICATE,
                      "duplicate section %s (first at line %lu)", p->label,
                      first);
    } else {
        rc = hf_map_put(p->ctx, &p->sections, key.data, p->lineno);
    }
    haz__buf_free(&key);
    if (rc != 0 || p->dead || p->n_errors > 0)
        return rc;

    if (sec == HF_SEC_TASK) {
        if ((rc = hf_source(p, p->lineno)) != 0)
            return rc;
        rc = haz_graph_add_task(p->g, p->project, p->name, &p->task);
        if (rc != 0) {
            p->dead = 1;
            return hf_graph_failed(p, rc, "the task");
        }
    }
    return 0;
}

/* A line whose first non-blank byte is '['. */
static int hf_header(hf_parser *p, char *s)
{
    static const struct {
        const char *kind;
        hf_section sec;
    } kinds[] = {
        { "workspace", HF_SEC_WORKSPACE },
        { "tag", HF_SEC_TAG },
        { "project", HF_SEC_PROJECT },
        { "task", HF_SEC_TASK }
    };
    char q[HF_QBUF];
    char *close, *after, *kind, *arg, *end;
    size_t i;
    int rc;

    hf_rtrim(s);
    close = strchr(s, ']');
    if (!close) {
        p->sec = HF_SEC_BAD;
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "section header is missing ']': '%s'",
                        hf_quote(q, s));
    }
    after = hf_skip_blanks(close + 1);
    if (*after) {
        /* Report, then read the header anyway so that its keys are still
         * checked against the right section. */
        rc = hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                      "unexpected text after ']': '%s'", hf_quote(q, after));
        if (rc != 0)
            return rc;
    }
    *close = '\0';
    kind = hf_skip_blanks(s + 1);
    hf_rtrim(kind);
    if (*kind == '\0') {
        p->sec = HF_SEC_BAD;
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "empty section header '[]'");
    }
    end = kind;
    while (*end && !hf_is_blank((unsigned char)*end))
        end++;
    arg = hf_skip_blanks(end);
    *end = '\0';

    for (i = 0; i < HAZ_ARRAY_LEN(kinds); i++)
        if (strcmp(kind, kinds[i].kind) == 0)
            break;
    if (i == HAZ_ARRAY_LEN(kinds)) {
        p->sec = HF_SEC_BAD;
        return hf_error(p, p->lineno, HAZ_DIAG_UNKNOWN_KEY,
                        "unknown section kind '%s' (expected workspace, "
                        "tag, project or task)", hf_quote(q, kind));
    }
    if (kinds[i].sec == HF_SEC_WORKSPACE) {
        if (*arg) {
            p->sec = HF_SEC_BAD;
            return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                            "[workspace] takes no name, got '%s'",
                            hf_quote(q, arg));
        }
    } else if (*arg == '\0') {
        p->sec = HF_SEC_BAD;
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "[%s] needs a name, as in [%s %s]", kind, kind,
                        kinds[i].sec == HF_SEC_TASK ? "PROJECT:TASK" :
                        "NAME");
    } else {
        for (end = arg; *end; end++) {
            if (hf_is_blank((unsigned char)*end)) {
                p->sec = HF_SEC_BAD;
                return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                                "[%s] takes one name, got '%s'", kind,
                                hf_quote(q, arg));
            }
        }
    }
    return hf_open_section(p, kinds[i].sec, kinds[i].kind, arg);
}

/* ------------------------------------------------------------------------
 * Keys and values.
 * ---------------------------------------------------------------------- */

/* Check a list of names (tags). */
static int hf_check_names(hf_parser *p, const char *what)
{
    size_t i;
    int rc;

    for (i = 0; i < p->n_words; i++)
        if ((rc = hf_check_name(p, what, p->words[i])) != 0)
            return rc;
    return 0;
}

/* Check a list of environment variable names. */
static int hf_check_env_names(hf_parser *p)
{
    char q[HF_QBUF];
    size_t i;
    int rc;

    for (i = 0; i < p->n_words; i++) {
        if (haz_env_name_check(p->words[i]) == 0)
            continue;
        p->dead = 1;
        rc = hf_error(p, p->lineno, HAZ_DIAG_BAD_ENV,
                      "invalid environment variable name '%s' (expected "
                      "[A-Za-z_][A-Za-z0-9_]*, at most 256 bytes)",
                      hf_quote(q, p->words[i]));
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* "project:task" or "~:task" with valid names. */
static int hf_ref_ok(const char *ref)
{
    const char *colon = strchr(ref, ':');
    char project[HAZ_NAME_MAX + 1];
    size_t n;

    if (!colon)
        return 0;
    n = (size_t)(colon - ref);
    if (haz_name_check(colon + 1) != 0)
        return 0;
    if (n == 1 && ref[0] == '~')
        return 1;
    if (n == 0 || n > HAZ_NAME_MAX)
        return 0;
    memcpy(project, ref, n);
    project[n] = '\0';
    return haz_name_check(project) == 0;
}

/*
 * Split a value with argv rules, in place: blanks separate words, double
 * quotes group, a backslash takes the next byte literally, inside quotes
 * and out.  Returns 0 (words in p->words), 1 (an unterminated quote),
 * 2 (a backslash at the end) or HAZ_ENOMEM.
 */
static int hf_split_argv(hf_parser *p, char *s)
{
    char *r = s, *w = s;

    p->n_words = 0;
    for (;;) {
        int quoted = 0;

        while (hf_is_blank((unsigned char)*r))
            r++;
        if (*r == '\0')
            return 0;
        if (p->n_words == p->cap_words) {
            size_t ncap = p->cap_words ? p->cap_words * 2 : 16;
            char **nw = haz__reallocarray(p->ctx, p->words, ncap,
                                          sizeof *nw);

            if (!nw)
                return HAZ_ENOMEM;
            p->words = nw;
            p->cap_words = ncap;
        }
        p->words[p->n_words++] = w;
        /* w never passes r: every byte read yields at most one written. */
        while (*r && (quoted || !hf_is_blank((unsigned char)*r))) {
            if (*r == '"') {
                quoted = !quoted;
                r++;
            } else if (*r == '\\') {
                if (r[1] == '\0')
                    return 2;
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (quoted)
            return 1;
        if (*r)
            r++;
        *w++ = '\0';
    }
}

/* [workspace] */
static int hf_workspace_key(hf_parser *p, hf_key k, char *value)
{
    char q[HF_QBUF];
    unsigned long n = 0;
    uint64_t ns = 0;
    int rc;

    switch (k) {
    case HF_K_CONCURRENCY:
        if (strcmp(value, "auto") == 0) {
            p->concurrency = 0;
            return 0;
        }
        rc = hf_parse_uint(value, UINT_MAX, &n);
        if (rc == -2)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "concurrency must be at most %u, got '%s'",
                            UINT_MAX, hf_quote(q, value));
        if (rc != 0 || n == 0)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "concurrency must be 'auto' or an integer >= 1, "
                            "got '%s'", hf_quote(q, value));
        p->concurrency = (unsigned)n;
        return 0;
    case HF_K_CANCEL_GRACE:
        rc = hf_parse_seconds(value, &ns);
        if (rc == -2)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "cancel_grace must be at most %u seconds, "
                            "got '%s'", HF_SECONDS_MAX, hf_quote(q, value));
        if (rc == -3)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "cancel_grace has more than 9 decimal places: "
                            "'%s'", hf_quote(q, value));
        if (rc != 0)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "cancel_grace must be a number of seconds >= 0 "
                            "such as 5 or 2.5, got '%s'", hf_quote(q, value));
        p->cancel_grace_ns = ns;
        return 0;
    case HF_K_OUTPUT:
        if (strcmp(value, "live") == 0)
            p->output = HAZ_OUTPUT_LIVE;
        else if (strcmp(value, "buffered") == 0)
            p->output = HAZ_OUTPUT_BUFFERED;
        else
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "output must be 'live' or 'buffered', got '%s'",
                            hf_quote(q, value));
        return 0;
    case HF_K_WS_ENV_FROM_HOST:
        if ((rc = hf_split(p, value)) != 0)
            return rc;
        if ((rc = hf_check_env_names(p)) != 0 || p->n_errors > 0)
            return rc;
        if ((rc = hf_source(p, p->lineno)) != 0)
            return rc;
        rc = haz_graph_set_env_from_host(p->g, p->n_words ?
                                         (const char *const *)p->words :
                                         hf_no_names, p->n_words);
        return rc == 0 ? 0 : hf_graph_failed(p, rc, "env_from_host");
    default:
        break;
    }
    return 0;
}

/* [tag NAME] */
static int hf_tag_key(hf_parser *p, char *value)
{
    char q[HF_QBUF];
    unsigned long n = 0;
    int rc = hf_parse_uint(value, UINT_MAX, &n);

    if (rc == -2)
        return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                        "cap must be at most %u, got '%s'", UINT_MAX,
                        hf_quote(q, value));
    if (rc != 0 || n == 0)
        return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                        "cap must be an integer >= 1, got '%s'",
                        hf_quote(q, value));
    if (p->dead || p->n_errors > 0)
        return 0;
    if ((rc = hf_source(p, p->lineno)) != 0)
        return rc;
    rc = haz_graph_set_tag_cap(p->g, p->name, (unsigned)n);
    return rc == 0 ? 0 : hf_graph_failed(p, rc, "the tag cap");
}

/* [project NAME]: checked now, added when the section ends. */
static int hf_project_key(hf_parser *p, hf_key k, char *value)
{
    char q[HF_QBUF];
    const char *why = NULL;
    int rc;

    if (k == HF_K_ROOT) {
        if (*value == '\0')
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_PATH,
                            "root must not be empty (use '.' for the "
                            "workspace root)");
        if (value[0] == '/')
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_PATH,
                            "invalid root '%s': it must be relative to the "
                            "workspace root", hf_quote(q, value));
        if (strcmp(value, ".") != 0 && haz_path_check(value, &why) != 0)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_PATH,
                            "invalid root '%s': %s", hf_quote(q, value),
                            why ? why : "not a valid path");
        p->root = haz__strdup(p->ctx, value);
        return p->root ? 0 : HAZ_ENOMEM;
    }
    p->tags = haz__strdup(p->ctx, value);
    if (!p->tags)
        return HAZ_ENOMEM;
    if ((rc = hf_split(p, value)) != 0)
        return rc;
    return hf_check_names(p, "tag");
}

/* run and argv. */
static int hf_action_key(hf_parser *p, hf_key k, char *value)
{
    char q[HF_QBUF];
    hf_key other = k == HF_K_RUN ? HF_K_ARGV : HF_K_RUN;
    int rc;

    if (p->key_line[other])
        return hf_error(p, p->lineno, HAZ_DIAG_DUPLICATE_KEY,
                        "'%s' conflicts with '%s' at line %lu: a task has "
                        "exactly one action", k == HF_K_RUN ? "run" : "argv",
                        k == HF_K_RUN ? "argv" : "run", p->key_line[other]);
    if (*value == '\0')
        return hf_error(p, p->lineno, HAZ_DIAG_NO_ACTION, "%s is empty",
                        k == HF_K_RUN ? "run" : "argv");
    if (k == HF_K_RUN) {
        if (p->dead || p->n_errors > 0)
            return 0;
        if ((rc = hf_source(p, p->lineno)) != 0)
            return rc;
        rc = haz_task_set_shell(p->task, value);
        return rc == 0 ? 0 : hf_graph_failed(p, rc, "run");
    }
    hf_quote(q, value);
    rc = hf_split_argv(p, value);
    if (rc == 1)
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "argv has an unterminated double quote: '%s'", q);
    if (rc == 2)
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "argv ends with a lone backslash: '%s'", q);
    if (rc != 0)
        return rc;
    if (p->words[0][0] == '\0')
        return hf_error(p, p->lineno, HAZ_DIAG_NO_ACTION,
                        "argv[0] is empty: '%s'", q);
    if (p->dead || p->n_errors > 0)
        return 0;
    if ((rc = hf_source(p, p->lineno)) != 0)
        return rc;
    rc = haz_task_set_argv(p->task, p->n_words,
                           (const char *const *)p->words);
    return rc == 0 ? 0 : hf_graph_failed(p, rc, "argv");
}

/* env.NAME = value */
static int hf_env_key(hf_parser *p, const char *key, const char *name,
                      const char *value)
{
    char q[HF_QBUF];
    unsigned long first = hf_map_get(&p->env_keys, name);
    int rc;

    if (first)
        return hf_error(p, p->lineno, HAZ_DIAG_DUPLICATE_KEY,
                        "duplicate key '%s' in %s (first at line %lu)",
                        hf_quote(q, key), p->label, first);
    if ((rc = hf_map_put(p->ctx, &p->env_keys, name, p->lineno)) != 0)
        return rc;
    if (haz_env_name_check(name) != 0)
        return hf_error(p, p->lineno, HAZ_DIAG_BAD_ENV,
                        "invalid environment variable name '%s' (expected "
                        "[A-Za-z_][A-Za-z0-9_]*, at most 256 bytes)",
                        hf_quote(q, name));
    if (p->dead || p->n_errors > 0)
        return 0;
    if ((rc = hf_source(p, p->lineno)) != 0)
        return rc;
    rc = haz_task_set_env(p->task, name, value);
    return rc == 0 ? 0 : hf_graph_failed(p, rc, "env");
}

/* Every [task] key but run, argv and env.NAME. */
static int hf_task_key(hf_parser *p, hf_key k, const char *key, char *value)
{
    char q[HF_QBUF];
    const char *why;
    uint64_t ns = 0;
    size_t i;
    int rc;

    if (k == HF_K_TIMEOUT) {
        rc = hf_parse_seconds(value, &ns);
        if (rc == -2)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "timeout must be at most %u seconds, got '%s'",
                            HF_SECONDS_MAX, hf_quote(q, value));
        if (rc == -3)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "timeout has more than 9 decimal places: '%s'",
                            hf_quote(q, value));
        if (rc != 0 || ns == 0)
            return hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                            "timeout must be a number of seconds > 0 such "
                            "as 60 or 2.5, got '%s'", hf_quote(q, value));
        if (p->dead || p->n_errors > 0)
            return 0;
        if ((rc = hf_source(p, p->lineno)) != 0)
            return rc;
        rc = haz_task_set_timeout_ns(p->task, ns);
        return rc == 0 ? 0 : hf_graph_failed(p, rc, "timeout");
    }

    if ((rc = hf_split(p, value)) != 0)
        return rc;
    /* Check every item first, so that all bad items are reported. */
    for (i = 0; i < p->n_words; i++) {
        const char *w = p->words[i];
        haz_mutex_scope scope;
        haz_mutex_mode mode;
        const char *mname;

        rc = 0;
        switch (k) {
        case HF_K_INPUTS:
        case HF_K_OUTPUTS:
            why = NULL;
            if (haz_pattern_check(w, &why) != 0)
                rc = hf_error(p, p->lineno, HAZ_DIAG_BAD_PATTERN,
                              "invalid %s pattern '%s': %s",
                              k == HF_K_INPUTS ? "input" : "output",
                              hf_quote(q, w), why ? why : "malformed");
            break;
        case HF_K_DEPS:
        case HF_K_WEAK_DEPS:
            if (!hf_ref_ok(w))
                rc = hf_error(p, p->lineno, HAZ_DIAG_BAD_REF,
                              "invalid task reference '%s' in %s (expected "
                              "PROJECT:TASK or ~:TASK)", hf_quote(q, w),
                              key);
            break;
        case HF_K_TAGS:
            if (haz_name_check(w) != 0)
                rc = hf_error(p, p->lineno, HAZ_DIAG_BAD_NAME,
                              "invalid tag name '%s' (%s)", hf_quote(q, w),
                              hf_name_rule);
            break;
        case HF_K_MUTEX:
            if (haz_mutex_parse(w, &scope, &mode, &mname) != 0)
                rc = hf_error(p, p->lineno, HAZ_DIAG_BAD_VALUE,
                              "invalid mutex '%s' (expected "
                              "[shared:|exclusive:][~:]NAME; %s)",
                              hf_quote(q, w), hf_name_rule);
            break;
        case HF_K_ENV_FROM_HOST:
            if (haz_env_name_check(w) != 0)
                rc = hf_error(p, p->lineno, HAZ_DIAG_BAD_ENV,
                              "invalid environment variable name '%s' "
                              "(expected [A-Za-z_][A-Za-z0-9_]*, at most "
                              "256 bytes)", hf_quote(q, w));
            break;
        default:
            break;
        }
        if (rc != 0)
            return rc;
    }
    if (p->dead || p->n_errors > 0)
        return 0;

    if ((rc = hf_source(p, p->lineno)) != 0)
        return rc;
    for (i = 0; i < p->n_words; i++) {
        const char *w = p->words[i];
        haz_mutex_scope scope = HAZ_MUTEX_WORKSPACE;
        haz_mutex_mode mode = HAZ_MUTEX_EXCLUSIVE;
        const char *mname = NULL;

        switch (k) {
        case HF_K_INPUTS: rc = haz_task_add_input(p->task, w); break;
        case HF_K_OUTPUTS: rc = haz_task_add_output(p->task, w); break;
        case HF_K_DEPS: rc = haz_task_add_dep(p->task, w); break;
        case HF_K_WEAK_DEPS: rc = haz_task_add_weak_dep(p->task, w); break;
        case HF_K_TAGS: rc = haz_task_add_tag(p->task, w); break;
        case HF_K_ENV_FROM_HOST:
            rc = haz_task_add_env_from_host(p->task, w);
            break;
        case HF_K_MUTEX:
            rc = haz_mutex_parse(w, &scope, &mode, &mname);
            if (rc == 0)
                rc = haz_task_add_mutex(p->task, scope, mode, mname);
            if (rc == HAZ_EEXIST) {
                rc = hf_error(p, p->lineno, HAZ_DIAG_DUPLICATE,
                              "mutex '%s' names a lock declared before in "
                              "this task", hf_quote(q, w));
                if (rc != 0)
                    return rc;
                continue;
            }
            break;
        default:
            rc = 0;
            break;
        }
        if (rc != 0)
            return hf_graph_failed(p, rc, key);
    }
    return 0;
}

/* A line that is not blank, a comment or a header: `key = value`. */
static int hf_key_line(hf_parser *p, char *s)
{
    char q[HF_QBUF];
    char *eq, *key, *value, *c;
    size_t i;

    hf_rtrim(s);
    eq = strchr(s, '=');
    if (!eq)
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "expected 'key = value', got '%s'", hf_quote(q, s));
    *eq = '\0';
    key = s;
    hf_rtrim(key);
    value = hf_skip_blanks(eq + 1);
    if (*key == '\0')
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "missing key before '='");
    for (c = key; *c; c++)
        if (!hf_is_key_char((unsigned char)*c))
            return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                            "invalid key '%s' (keys are made of "
                            "[A-Za-z0-9_.])", hf_quote(q, key));

    switch (p->sec) {
    case HF_SEC_NONE:
        return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX,
                        "key '%s' before any section header",
                        hf_quote(q, key));
    case HF_SEC_BAD:
        return 0;   /* the header was reported; its keys are skipped */
    default:
        break;
    }

    if (p->sec == HF_SEC_TASK && strncmp(key, "env.", 4) == 0)
        return hf_env_key(p, key, key + 4, value);

    for (i = 0; i < HAZ_ARRAY_LEN(hf_keys); i++)
        if (hf_keys[i].section == p->sec &&
            strcmp(hf_keys[i].name, key) == 0)
            break;
    if (i == HAZ_ARRAY_LEN(hf_keys))
        return hf_error(p, p->lineno, HAZ_DIAG_UNKNOWN_KEY,
                        "unknown key '%s' in %s", hf_quote(q, key),
                        p->label);
    if (p->key_line[hf_keys[i].key])
        return hf_error(p, p->lineno, HAZ_DIAG_DUPLICATE_KEY,
                        "duplicate key '%s' in %s (first at line %lu)", key,
                        p->label, p->key_line[hf_keys[i].key]);
    p->key_line[hf_keys[i].key] = p->lineno;

    switch (p->sec) {
    case HF_SEC_WORKSPACE:
        return hf_workspace_key(p, hf_keys[i].key, value);
    case HF_SEC_TAG:
        return hf_tag_key(p, value);
    case HF_SEC_PROJECT:
        return hf_project_key(p, hf_keys[i].key, value);
    default:
        break;
    }
    if (hf_keys[i].key == HF_K_RUN || hf_keys[i].key == HF_K_ARGV)
        return hf_action_key(p, hf_keys[i].key, value);
    return hf_task_key(p, hf_keys[i].key, key, value);
}

/*
 * A line that cannot be read (too long, or with a NUL byte).  When it looks
 * like a section header, the current section ends and the keys that follow
 * are skipped, so that they cannot land in the section before it.
 */
static int hf_bad_line(hf_parser *p, const char *s, size_t n,
                       const char *message)
{
    const char *end = s + n;
    int rc;

    while (s < end && hf_is_blank((unsigned char)*s))
        s++;
    if (s < end && *s == '[') {
        if ((rc = hf_close_section(p)) != 0)
            return rc;
        p->sec = HF_SEC_BAD;
    }
    return hf_error(p, p->lineno, HAZ_DIAG_SYNTAX, "%s", message);
}

/* One line, without its line end, `n` bytes at `s`. */
static int hf_line(hf_parser *p, const char *s, size_t n)
{
    char *l;

    if (n > HF_LINE_MAX)
        return hf_bad_line(p, s, n, "line is longer than 65536 bytes");
    if (memchr(s, '\0', n))
        return hf_bad_line(p, s, n, "NUL byte in line");
    memcpy(p->line, s, n);
    p->line[n] = '\0';
    l = hf_skip_blanks(p->line);
    if (*l == '\0' || *l == '#')
        return 0;
    if (*l == '[') {
        int rc = hf_close_section(p);

        return rc != 0 ? rc : hf_header(p, l);
    }
    return hf_key_line(p, l);
}

/* ------------------------------------------------------------------------
 * Public entry points.
 * ---------------------------------------------------------------------- */

/* The object handed out: the public struct first, then what frees it. */
typedef struct hf_object {
    haz_hazfile pub;
    haz_ctx *ctx;
    char *path;
} hf_object;

static void hf_parser_free(hf_parser *p)
{
    size_t i;

    hf_section_reset(p);
    for (i = 0; i < p->n_pend; i++)
        haz__free(p->ctx, p->pend[i].message);
    haz__free(p->ctx, p->pend);
    haz__free(p->ctx, p->line);
    haz__free(p->ctx, p->words);
    hf_map_free(p->ctx, &p->sections);
    haz_graph_free(p->g);
}

/* Read every line.  Returns 0 or HAZ_ENOMEM. */
static int hf_parse_lines(hf_parser *p, const char *text, size_t len)
{
    size_t pos = 0;
    int rc;

    while (pos < len && !p->stop) {
        const char *s = text + pos;
        const char *lf = memchr(s, '\n', len - pos);
        size_t n = lf ? (size_t)(lf - s) : len - pos;

        pos += n + (lf ? 1 : 0);
        p->lineno++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if ((rc = hf_line(p, s, n)) != 0)
            return rc;
    }
    return p->stop ? 0 : hf_close_section(p);
}

HAZ_API int haz_hazfile_parse(haz_ctx *ctx, const char *filename,
                              const char *text, size_t len,
                              haz_hazfile **out, haz_diags *diags)
{
    hf_parser p;
    hf_object *obj = NULL;
    size_t i;
    int rc;

    if (out)
        *out = NULL;
    if (!ctx)
        return HAZ_EINVAL;
    if (!out || !filename || (!text && len > 0))
        return haz__error(ctx, HAZ_EINVAL, "haz_hazfile_parse: %s",
                          !out ? "out is NULL" : !filename ?
                          "filename is NULL" : "text is NULL");

    memset(&p, 0, sizeof p);
    p.ctx = ctx;
    p.file = filename;
    p.diags = diags;
    p.cancel_grace_ns = HAZ_DEFAULT_CANCEL_GRACE_NS;
    p.output = HAZ_OUTPUT_LIVE;

    rc = haz_graph_new(ctx, &p.g);
    if (rc == 0) {
        p.line = haz__malloc(ctx, HF_LINE_MAX + 1);
        if (!p.line)
            rc = HAZ_ENOMEM;
    }
    if (rc == 0)
        rc = hf_parse_lines(&p, text, len);
    /* Hand the parser's diagnostics over, in line order. */
    for (i = 0; rc == 0 && i < p.n_pend; i++)
        rc = haz__diag_add(diags, p.pend[i].kind, filename, p.pend[i].line,
                           NULL, NULL, "%s", p.pend[i].message);
    if (rc == 0 && p.n_errors > 0) {
        rc = haz__error(ctx, HAZ_EPARSE, "%s: %lu error%s", filename,
                        (unsigned long)p.n_errors,
                        p.n_errors == 1 ? "" : "s");
    } else if (rc == 0) {
        rc = haz_graph_validate(p.g, diags);
        if (rc == HAZ_EGRAPH)
            rc = haz__error(ctx, HAZ_EGRAPH, "%s: invalid task graph",
                            filename);
    }
    if (rc == 0) {
        obj = haz__calloc(ctx, 1, sizeof *obj);
        if (obj)
            obj->path = haz__strdup(ctx, filename);
        if (!obj || !obj->path) {
            haz__free(ctx, obj);
            obj = NULL;
            rc = HAZ_ENOMEM;
        }
    }
    if (rc == HAZ_ENOMEM)
        haz__error(ctx, HAZ_ENOMEM, "%s: out of memory", filename);
    if (rc != 0) {
        hf_parser_free(&p);
        return rc;
    }
    obj->ctx = ctx;
    obj->pub.graph = p.g;
    obj->pub.path = obj->path;
    obj->pub.concurrency = p.concurrency;
    obj->pub.cancel_grace_ns = p.cancel_grace_ns;
    obj->pub.output = p.output;
    p.g = NULL;
    hf_parser_free(&p);
    *out = &obj->pub;
    return 0;
}

HAZ_API void haz_hazfile_free(haz_hazfile *hf)
{
    hf_object *obj = (hf_object *)hf;

    if (!hf)
        return;
    haz_graph_free(obj->pub.graph);
    haz__free(obj->ctx, obj->path);
    haz__free(obj->ctx, obj);
}

/* open() retrying EINTR, close-on-exec where the system has it. */
static int hf_open(const char *path)
{
    int fd;
#ifdef O_CLOEXEC
    int flags = O_RDONLY | O_CLOEXEC;
#else
    int flags = O_RDONLY;
#endif

    do
        fd = open(path, flags);
    while (fd < 0 && errno == EINTR);
    return fd;
}

HAZ_API int haz_hazfile_load(haz_ctx *ctx, const char *path,
                             haz_hazfile **out, haz_diags *diags)
{
    char q[HF_PATH_QUOTE_MAX * 4 + 4];
    struct stat st;
    char *data = NULL;
    size_t len = 0, cap = 0;
    int fd, rc, err;

    if (out)
        *out = NULL;
    if (!ctx)
        return HAZ_EINVAL;
    if (!path || !out)
        return haz__error(ctx, HAZ_EINVAL, "haz_hazfile_load: %s is NULL",
                          !path ? "path" : "out");
    hf_quote_max(q, path, strlen(path), HF_PATH_QUOTE_MAX);
    fd = hf_open(path);
    if (fd < 0)
        return haz__error_os(ctx, HAZ_EIO, errno, "cannot open '%s'", q);
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uintmax_t)st.st_size > HF_FILE_MAX) {
            close(fd);
            return haz__error(ctx, HAZ_ERANGE,
                              "'%s' is larger than 64 MiB", q);
        }
        cap = (size_t)st.st_size + 1;   /* +1 sees growth and EOF at once */
    }
    if (cap < 4096)
        cap = 4096;
    for (;;) {
        ssize_t r;

        if (len == cap || !data) {
            size_t ncap = data ? cap * 2 : cap;
            char *nd;

            if (ncap > HF_FILE_MAX + 1)
                ncap = HF_FILE_MAX + 1;
            nd = haz__realloc(ctx, data, ncap);
            if (!nd) {
                rc = haz__error(ctx, HAZ_ENOMEM, "cannot read '%s': out of "
                                "memory", q);
                goto fail;
            }
            data = nd;
            cap = ncap;
        }
        r = read(fd, data + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = haz__error_os(ctx, HAZ_EIO, errno, "cannot read '%s'", q);
            goto fail;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > HF_FILE_MAX) {
            rc = haz__error(ctx, HAZ_ERANGE, "'%s' is larger than 64 MiB",
                            q);
            goto fail;
        }
    }
    close(fd);
    rc = haz_hazfile_parse(ctx, path, data, len, out, diags);
    haz__free(ctx, data);
    return rc;

fail:
    err = errno;
    close(fd);
    haz__free(ctx, data);
    errno = err;
    return rc;
}
