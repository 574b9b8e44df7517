/*
 * backends/mock_script.c: the mock spawner's script object, built through
 * the public haz_mock_script_* and haz_mock_proc_* calls (spawner.h) or by
 * the text parser (mock_parse.c).  A script is an ordered list of entries;
 * each entry says what one fake child does (backends/mock.h has the
 * layout).  The spawner only reads a script, so one script can drive many
 * spawners, each getting the same behaviour.
 *
 * In order: creating and freeing scripts and entries; the match string;
 * output chunks (kept sorted by time, stable); exit, death and hanging;
 * spawn errors; the SIGTERM reaction; files, whose paths are checked here so
 * that a script can never write outside the workspace, and written here
 * when the spawner says so.
 */
#include "internal.h"
#include "fdutil.h"
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int haz_mock_script_new(haz_ctx *ctx, haz_mock_script **out)
{
    haz_mock_script *s;

    if (ctx == NULL)
        return HAZ_EINVAL;
    if (out == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_mock_script_new: out is NULL");
    *out = NULL;
    s = haz__calloc(ctx, 1, sizeof *s);
    if (s == NULL)
        return HAZ_ENOMEM;
    s->ctx = ctx;
    *out = s;
    return HAZ_OK;
}

static void proc_free(haz_ctx *ctx, haz_mock_proc *p)
{
    size_t i;

    for (i = 0; i < p->n_out; i++)
        haz__free(ctx, p->out[i].data);
    for (i = 0; i < p->n_files; i++) {
        haz__free(ctx, p->files[i].path);
        haz__free(ctx, p->files[i].data);
    }
    haz__free(ctx, p->out);
    haz__free(ctx, p->files);
    haz__free(ctx, p->match);
    haz__free(ctx, p);
}

void haz_mock_script_free(haz_mock_script *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++)
        proc_free(s->ctx, s->procs[i]);
    haz__free(s->ctx, s->procs);
    haz__free(s->ctx, s);
}

/* Make room for `more` entries. */
static int reserve_procs(haz_mock_script *s, size_t more)
{
    haz_mock_proc **procs;
    size_t cap;

    if (more <= s->cap - s->n)
        return HAZ_OK;
    if (more > SIZE_MAX / 2 - s->n)
        return haz__error(s->ctx, HAZ_ENOMEM, "mock script too large");
    cap = s->cap ? s->cap : 8;
    while (cap - s->n < more)
        cap *= 2;
    procs = haz__reallocarray(s->ctx, s->procs, cap, sizeof *procs);
    if (procs == NULL)
        return HAZ_ENOMEM;
    s->procs = procs;
    s->cap = cap;
    return HAZ_OK;
}

int haz__mock_script_merge(haz_mock_script *to, haz_mock_script *from)
{
    size_t i;

    if (reserve_procs(to, from->n) != HAZ_OK)
        return HAZ_ENOMEM;
    for (i = 0; i < from->n; i++) {
        haz_mock_proc *p = from->procs[i];

        p->script = to;
        p->number = to->n + 1;
        to->procs[to->n++] = p;
    }
    from->n = 0;
    return HAZ_OK;
}

/* Classify and check a match string; *key receives the text after its
 * prefix.  Returns the kind, or -1 with the error recorded. */
static int match_kind(haz_ctx *ctx, const char *match, size_t *key)
{
    const char *colon;
    size_t i;

    *key = 0;
    if (match == NULL)
        return MOCK_MATCH_FIFO;
    if (strncmp(match, "argv:", 5) == 0 || strncmp(match, "sh:", 3) == 0) {
        *key = match[0] == 'a' ? 5 : 3;
        if (match[*key] == '\0') {
            haz__error(ctx, HAZ_EINVAL, "empty match '%s'", match);
            return -1;
        }
        return match[0] == 'a' ? MOCK_MATCH_ARGV : MOCK_MATCH_SH;
    }
    colon = strchr(match, ':');
    for (i = 0; match[i] != '\0'; i++)
        if ((unsigned char)match[i] <= 0x20 || match[i] == 0x7f)
            break;
    if (colon == NULL || colon == match || colon[1] == '\0' ||
        match[i] != '\0') {
        char q[80];

        haz__mock_quote(q, sizeof q, match, strlen(match));
        haz__error(ctx, HAZ_EINVAL,
                   "bad match '%s': expected project:task, argv:WORDS or "
                   "sh:SCRIPT", q);
        return -1;
    }
    return MOCK_MATCH_TASK;
}

int haz_mock_script_add(haz_mock_script *s, const char *match,
                        haz_mock_proc **out)
{
    haz_mock_proc *p;
    size_t key;
    int kind;

    if (out != NULL)
        *out = NULL;
    if (s == NULL)
        return HAZ_EINVAL;
    kind = match_kind(s->ctx, match, &key);
    if (kind < 0)
        return HAZ_EINVAL;
    if (reserve_procs(s, 1) != HAZ_OK)
        return HAZ_ENOMEM;
    p = haz__calloc(s->ctx, 1, sizeof *p);
    if (p == NULL)
        return HAZ_ENOMEM;
    if (match != NULL) {
        p->match = haz__strdup(s->ctx, match);
        if (p->match == NULL) {
            haz__free(s->ctx, p);
            return HAZ_ENOMEM;
        }
        p->key = p->match + key;
    }
    p->script = s;
    p->kind = (mock_match_kind)kind;
    p->number = s->n + 1;
    s->procs[s->n++] = p;
    if (out != NULL)
        *out = p;
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * What the child does.
 * ---------------------------------------------------------------------- */

/* Insert a chunk (output, or a read error when data is NULL) after every
 * chunk at the same time or earlier: stable.  Takes `copy`, even on
 * failure. */
static int add_chunk(haz_mock_proc *p, uint64_t at_ns, haz_stream stream,
                     unsigned char *copy, size_t len, int err)
{
    haz_ctx *ctx = p->script->ctx;
    mock_chunk *c;
    size_t pos;

    if (p->n_out == p->cap_out) {
        size_t cap = p->cap_out ? p->cap_out * 2 : 4;

        c = haz__reallocarray(ctx, p->out, cap, sizeof *c);
        if (c == NULL) {
            haz__free(ctx, copy);
            return HAZ_ENOMEM;
        }
        p->out = c;
        p->cap_out = cap;
    }
    pos = p->n_out;
    while (pos > 0 && p->out[pos - 1].at_ns > at_ns)
        pos--;
    c = &p->out[pos];
    memmove(c + 1, c, (p->n_out - pos) * sizeof *c);
    c->data = copy;
    c->at_ns = at_ns;
    c->stream = stream;
    c->len = len;
    c->err = err;
    p->n_out++;
    return HAZ_OK;
}

static int check_chunk(haz_mock_proc *p, uint64_t at_ns, haz_stream stream)
{
    haz_ctx *ctx = p->script->ctx;

    if (stream != HAZ_STREAM_STDOUT && stream != HAZ_STREAM_STDERR)
        return haz__error(ctx, HAZ_EINVAL, "bad output stream %d",
                          (int)stream);
    if (at_ns == HAZ_MOCK_NEVER)
        return haz__error(ctx, HAZ_EINVAL, "output time out of range");
    return HAZ_OK;
}

int haz_mock_proc_output(haz_mock_proc *p, uint64_t at_ns, haz_stream stream,
                         const void *data, size_t len)
{
    unsigned char *copy;
    int rc;

    if (p == NULL)
        return HAZ_EINVAL;
    if ((rc = check_chunk(p, at_ns, stream)) != HAZ_OK)
        return rc;
    if (len == 0 || data == NULL)
        return haz__error(p->script->ctx, HAZ_EINVAL, "empty output chunk");
    copy = haz__malloc(p->script->ctx, len);
    if (copy == NULL)
        return HAZ_ENOMEM;
    memcpy(copy, data, len);
    return add_chunk(p, at_ns, stream, copy, len, 0);
}

int haz_mock_proc_read_error(haz_mock_proc *p, uint64_t at_ns,
                             haz_stream stream, int os_errno)
{
    int rc;

    if (p == NULL)
        return HAZ_EINVAL;
    if ((rc = check_chunk(p, at_ns, stream)) != HAZ_OK)
        return rc;
    if (os_errno <= 0)
        return haz__error(p->script->ctx, HAZ_EINVAL,
                          "read error %d: errno must be positive", os_errno);
    return add_chunk(p, at_ns, stream, NULL, 0, os_errno);
}

static int set_end(haz_mock_proc *p, uint64_t at_ns, haz_exit_kind kind,
                   int value)
{
    if (p->has_end)
        return haz__error(p->script->ctx, HAZ_EINVAL,
                          "the end (exit, die or hang) is already scripted");
    p->has_end = 1;
    p->end_ns = at_ns;
    p->end.kind = kind;
    if (kind == HAZ_EXIT_CODE)
        p->end.code = value;
    else
        p->end.signo = value;
    return HAZ_OK;
}

int haz_mock_proc_exit(haz_mock_proc *p, uint64_t at_ns, int code)
{
    if (p == NULL)
        return HAZ_EINVAL;
    if (code < 0 || code > 255)
        return haz__error(p->script->ctx, HAZ_EINVAL,
                          "exit code %d out of range (0 to 255)", code);
    return set_end(p, at_ns, HAZ_EXIT_CODE, code);
}

int haz_mock_proc_die(haz_mock_proc *p, uint64_t at_ns, int signo)
{
    if (p == NULL)
        return HAZ_EINVAL;
    if (signo < 1 || signo > 127)
        return haz__error(p->script->ctx, HAZ_EINVAL,
                          "signal %d out of range (1 to 127)", signo);
    return set_end(p, at_ns, HAZ_EXIT_SIGNAL, signo);
}

int haz_mock_proc_spawn_error(haz_mock_proc *p, int os_errno)
{
    if (p == NULL)
        return HAZ_EINVAL;
    if (os_errno <= 0)
        return haz__error(p->script->ctx, HAZ_EINVAL,
                          "spawn error %d: errno must be positive", os_errno);
    if (p->spawn_errno != 0)
        return haz__error(p->script->ctx, HAZ_EINVAL,
                          "the spawn error is already scripted");
    p->spawn_errno = os_errno;
    return HAZ_OK;
}

int haz_mock_proc_on_sigterm(haz_mock_proc *p, haz_mock_term how,
                             uint64_t delay_ns, int code)
{
    haz_ctx *ctx;

    if (p == NULL)
        return HAZ_EINVAL;
    ctx = p->script->ctx;
    if (how != HAZ_MOCK_TERM_EXIT && how != HAZ_MOCK_TERM_DELAY &&
        how != HAZ_MOCK_TERM_IGNORE)
        return haz__error(ctx, HAZ_EINVAL, "bad SIGTERM reaction %d",
                          (int)how);
    if (how != HAZ_MOCK_TERM_IGNORE && (code < 0 || code > 255))
        return haz__error(ctx, HAZ_EINVAL,
                          "exit code %d out of range (0 to 255)", code);
    if (how == HAZ_MOCK_TERM_DELAY && delay_ns == HAZ_MOCK_NEVER)
        return haz__error(ctx, HAZ_EINVAL, "SIGTERM delay out of range");
    if (p->has_term)
        return haz__error(ctx, HAZ_EINVAL,
                          "the SIGTERM reaction is already scripted");
    p->has_term = 1;
    p->term = how;
    p->term_delay_ns = how == HAZ_MOCK_TERM_DELAY ? delay_ns : 0;
    p->term_code = how == HAZ_MOCK_TERM_IGNORE ? 0 : code;
    return HAZ_OK;
}

/* A file path: optional leading '/', then segments separated by single
 * '/', none empty, "." or "..".  Returns the offset past the '/' or -1. */
static long check_path(const char *path)
{
    const char *seg, *end;
    size_t skip = path[0] == '/' ? 1 : 0;

    seg = path + skip;
    for (;;) {
        size_t n;

        end = strchr(seg, '/');
        n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return -1;
        if (end == NULL)
            return (long)skip;
        seg = end + 1;
    }
}

int haz_mock_proc_create_file(haz_mock_proc *p, const char *path,
                              const void *data, size_t len)
{
    haz_ctx *ctx;
    mock_file *f;
    long skip;

    if (p == NULL)
        return HAZ_EINVAL;
    ctx = p->script->ctx;
    if (path == NULL || (data == NULL && len > 0))
        return haz__error(ctx, HAZ_EINVAL, "file: NULL argument");
    skip = check_path(path);
    if (skip < 0) {
        char q[80];

        haz__mock_quote(q, sizeof q, path, strlen(path));
        return haz__error(ctx, HAZ_EINVAL,
                          "bad file path '%s': empty, '.' or '..' segment", q);
    }
    if (p->n_files == p->cap_files) {
        size_t cap = p->cap_files ? p->cap_files * 2 : 2;

        f = haz__reallocarray(ctx, p->files, cap, sizeof *f);
        if (f == NULL)
            return HAZ_ENOMEM;
        p->files = f;
        p->cap_files = cap;
    }
    f = &p->files[p->n_files];
    f->path = haz__strdup(ctx, path + skip);
    if (f->path == NULL)
        return HAZ_ENOMEM;
    f->data = NULL;
    f->len = len;
    if (len > 0) {
        f->data = haz__malloc(ctx, len);
        if (f->data == NULL) {
            haz__free(ctx, f->path);
            return HAZ_ENOMEM;
        }
        memcpy(f->data, data, len);
    }
    p->n_files++;
    return HAZ_OK;
}

int haz__mock_file_write(const char *root, const mock_file *f, char *path,
                         size_t size)
{
    size_t skip = strlen(root) + 1;
    char *slash;
    int fd, n, e = 0;

    n = snprintf(path, size, "%s/%s", root, f->path);
    if (n < 0 || (size_t)n >= size)
        return ENAMETOOLONG;
    for (slash = strchr(path + skip, '/'); slash != NULL;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            e = errno;
        *slash = '/';
        if (e != 0)
            return e;
    }
    fd = haz__open_cloexec(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return errno;
    if (haz__write_all(fd, f->data, f->len) != 0 || fchmod(fd, 0644) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    return e;
}
