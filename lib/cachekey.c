/*
 * lib/cachekey.c: the cache key (lib/cachekey.h, docs/cache-key.md).
 *
 * Divided into: the sink that feeds bytes to the hash (and optionally to a
 * buffer, for the test vectors); the encoders of each component, which
 * sort their lists themselves; haz__cachekey_build; the resolution and
 * hashing of a task's input files; haz__task_cache_key.
 *
 * Every variable-length field is a big-endian u64 length followed by the
 * bytes, every list starts with a big-endian u64 item count, digests have
 * the fixed length of the hash named by the prefix: so the encoding can be
 * decoded from its first byte on, and two different sets of components
 * never encode alike.
 */
#include "internal.h"
#include "cachekey.h"
#include "fsutil.h"
#include "walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------
 * The sink.
 * ---------------------------------------------------------------------- */

typedef struct sink {
    const haz_hash_methods *h;
    void *state;
    haz_buf *copy;              /* NULL, or receives the bytes too */
    int rc;                     /* first failure (HAZ_ENOMEM) */
} sink;

static void put(sink *s, const void *data, size_t len)
{
    s->h->update(s->state, data, len);
    if (s->copy != NULL && s->rc == HAZ_OK &&
        haz__buf_append(s->copy, data, len) != HAZ_OK)
        s->rc = HAZ_ENOMEM;
}

static void put_u8(sink *s, unsigned v)
{
    unsigned char b = (unsigned char)v;

    put(s, &b, 1);
}

static void put_u64(sink *s, uint64_t v)
{
    unsigned char b[8];
    int i;

    for (i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    put(s, b, 8);
}

static void put_str(sink *s, const char *str)
{
    size_t n = strlen(str);

    put_u64(s, (uint64_t)n);
    put(s, str, n);
}

/* ------------------------------------------------------------------------
 * Components.
 * ---------------------------------------------------------------------- */

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_pairp(const void *a, const void *b)
{
    return strcmp((*(const haz_env_pair *const *)a)->name,
                  (*(const haz_env_pair *const *)b)->name);
}

static int cmp_inputp(const void *a, const void *b)
{
    return strcmp((*(const haz__key_input *const *)a)->path,
                  (*(const haz__key_input *const *)b)->path);
}

static int cmp_predp(const void *a, const void *b)
{
    return strcmp((*(const haz__pred_hashes *const *)a)->id,
                  (*(const haz__pred_hashes *const *)b)->id);
}

static int encode_action(haz_ctx *ctx, sink *s, const haz__key_action *act)
{
    size_t i;

    if (act->kind == HAZ_ACTION_ARGV) {
        if (act->argc == 0 || act->argv == NULL)
            return haz__error(ctx, HAZ_EINVAL, "cache key: empty argv");
        for (i = 0; i < act->argc; i++)
            if (act->argv[i] == NULL)
                return haz__error(ctx, HAZ_EINVAL, "cache key: NULL word");
        put_u8(s, HAZ__KEY_TAG_ARGV);
        put_u64(s, (uint64_t)act->argc);
        for (i = 0; i < act->argc; i++)
            put_str(s, act->argv[i]);
        return HAZ_OK;
    }
    if (act->kind == HAZ_ACTION_SHELL) {
        if (act->script == NULL)
            return haz__error(ctx, HAZ_EINVAL, "cache key: NULL script");
        put_u8(s, HAZ__KEY_TAG_SHELL);
        put_u8(s, HAZ__KEY_SHELL_POSIX_SH);
        put_str(s, act->script);
        return HAZ_OK;
    }
    return haz__error(ctx, HAZ_EINVAL, "cache key: unknown action kind %d",
                      (int)act->kind);
}

/* The host snapshot's value of `name` (first entry wins), or NULL. */
static const char *host_value(const char *const *host, const char *name)
{
    size_t len = strlen(name);

    if (host == NULL)
        return NULL;
    for (; *host != NULL; host++)
        if (strncmp(*host, name, len) == 0 && (*host)[len] == '=')
            return *host + len + 1;
    return NULL;
}

int haz__key_env_resolve(haz_ctx *ctx, const haz__key_env *env,
                         haz__key_envitem **out, size_t *n_out)
{
    static const haz__key_env none = {NULL, 0, NULL, NULL, 0};
    const char **allow;
    const haz_env_pair **ovr;
    haz__key_envitem *items;
    size_t na, no, a = 0, o = 0, n = 0, i;
    int rc = HAZ_OK;

    *out = NULL;
    *n_out = 0;
    if (env == NULL)
        env = &none;
    na = env->n_allow;
    no = env->n_overrides;
    if ((na > 0 && env->allow == NULL) || (no > 0 && env->overrides == NULL))
        return haz__error(ctx, HAZ_EINVAL, "cache key: NULL environment");
    allow = haz__reallocarray(ctx, NULL, na + 1, sizeof(*allow));
    ovr = haz__reallocarray(ctx, NULL, no + 1, sizeof(*ovr));
    items = haz__reallocarray(ctx, NULL, na + no + 1, sizeof(*items));
    if (allow == NULL || ovr == NULL || items == NULL) {
        rc = HAZ_ENOMEM;
        goto out;
    }
    for (i = 0; i < na; i++)
        if ((allow[i] = env->allow[i]) == NULL)
            rc = haz__error(ctx, HAZ_EINVAL, "cache key: NULL name");
    for (i = 0; i < no; i++) {
        ovr[i] = &env->overrides[i];
        if (ovr[i]->name == NULL || ovr[i]->value == NULL)
            rc = haz__error(ctx, HAZ_EINVAL, "cache key: NULL override");
    }
    if (rc != HAZ_OK)
        goto out;
    qsort(allow, na, sizeof(*allow), cmp_strp);
    qsort(ovr, no, sizeof(*ovr), cmp_pairp);
    for (i = 1; i < no; i++)
        if (strcmp(ovr[i - 1]->name, ovr[i]->name) == 0) {
            rc = haz__error(ctx, HAZ_EINVAL, "cache key: override '%s' "
                            "given twice", ovr[i]->name);
            goto out;
        }
    /* Merge: an override wins and the host entry of its name contributes
     * nothing (CACHE-008); a name allowed twice counts once. */
    while (a < na || o < no) {
        int c = a >= na ? 1 : o >= no ? -1 : strcmp(allow[a], ovr[o]->name);

        if (c < 0) {
            if (n == 0 || strcmp(items[n - 1].name, allow[a]) != 0) {
                items[n].name = allow[a];
                items[n].value = host_value(env->host, allow[a]);
                n++;
            }
            a++;
        } else {
            if (c == 0)
                a++;
            items[n].name = ovr[o]->name;
            items[n].value = ovr[o]->value;
            n++;
            o++;
        }
    }
out:
    haz__free(ctx, allow);
    haz__free(ctx, ovr);
    if (rc != HAZ_OK) {
        haz__free(ctx, items);
        return rc;
    }
    *out = items;
    *n_out = n;
    return HAZ_OK;
}

static int encode_env(haz_ctx *ctx, sink *s, const haz__key_env *env)
{
    haz__key_envitem *items;
    size_t n, i;
    int rc = haz__key_env_resolve(ctx, env, &items, &n);

    if (rc != HAZ_OK)
        return rc;
    put_u64(s, (uint64_t)n);
    for (i = 0; i < n; i++) {
        put_str(s, items[i].name);
        if (items[i].value == NULL) {
            put_u8(s, HAZ__KEY_ENV_ABSENT);
        } else {
            put_u8(s, HAZ__KEY_ENV_PRESENT);
            put_str(s, items[i].value);
        }
    }
    haz__free(ctx, items);
    return HAZ_OK;
}

static int encode_inputs(haz_ctx *ctx, sink *s, const haz__key_input *in,
                         size_t n)
{
    const haz__key_input **v;
    size_t i, dl = s->h->digest_len;
    int rc = HAZ_OK;

    if (n > 0 && in == NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache key: NULL inputs");
    v = haz__reallocarray(ctx, NULL, n + 1, sizeof(*v));
    if (v == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < n; i++)
        if ((v[i] = &in[i])->path == NULL)
            rc = haz__error(ctx, HAZ_EINVAL, "cache key: NULL input path");
    if (rc == HAZ_OK) {
        qsort(v, n, sizeof(*v), cmp_inputp);
        for (i = 1; i < n && rc == HAZ_OK; i++)
            if (strcmp(v[i - 1]->path, v[i]->path) == 0)
                rc = haz__error(ctx, HAZ_EINVAL, "cache key: input '%s' "
                                "given twice", v[i]->path);
    }
    if (rc == HAZ_OK) {
        put_u64(s, (uint64_t)n);
        for (i = 0; i < n; i++) {
            put_str(s, v[i]->path);
            put(s, v[i]->hash, dl);
        }
    }
    haz__free(ctx, v);
    return rc;
}

static int encode_preds(haz_ctx *ctx, sink *s, const haz__pred_hashes *p,
                        size_t n)
{
    const haz__pred_hashes **v;
    size_t i, dl = s->h->digest_len;
    int rc = HAZ_OK;

    if (n > 0 && p == NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache key: NULL predecessors");
    v = haz__reallocarray(ctx, NULL, n + 1, sizeof(*v));
    if (v == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < n; i++)
        if ((v[i] = &p[i])->id == NULL)
            rc = haz__error(ctx, HAZ_EINVAL, "cache key: NULL task id");
    if (rc == HAZ_OK) {
        qsort(v, n, sizeof(*v), cmp_predp);
        for (i = 1; i < n && rc == HAZ_OK; i++)
            if (strcmp(v[i - 1]->id, v[i]->id) == 0)
                rc = haz__error(ctx, HAZ_EINVAL, "cache key: predecessor "
                                "'%s' given twice", v[i]->id);
    }
    if (rc == HAZ_OK) {
        put_u64(s, (uint64_t)n);
        for (i = 0; i < n; i++) {
            put_str(s, v[i]->id);
            put(s, v[i]->stdout_hash, dl);
            put(s, v[i]->stderr_hash, dl);
        }
    }
    haz__free(ctx, v);
    return rc;
}

int haz__cachekey_build(haz_ctx *ctx, const haz_hash_methods *h,
                        const haz__key_action *act, const haz__key_env *env,
                        const haz__key_input *inputs, size_t n_inputs,
                        const haz__pred_hashes *preds, size_t n_preds,
                        haz_buf *encoding, unsigned char *key_out)
{
    haz_hash_state local;
    sink s;
    size_t start = encoding ? encoding->len : 0;
    int rc;

    if (ctx == NULL)
        return HAZ_EINVAL;
    if (h == NULL || act == NULL || key_out == NULL ||
        h->digest_len == 0 || h->digest_len > HAZ_HASH_MAX_DIGEST)
        return haz__error(ctx, HAZ_EINVAL, "cache key: bad argument");
    s.h = h;
    s.copy = encoding;
    s.rc = HAZ_OK;
    s.state = &local;
    if (h->context_size > sizeof(local) &&
        (s.state = haz__malloc(ctx, h->context_size)) == NULL)
        return HAZ_ENOMEM;
    h->init(s.state);
    /* The schema prefix (CACHE-003), then the components in the order of
     * docs/cache-key.md. */
    put_u8(&s, HAZ__CACHEKEY_REVISION);
    put_u8(&s, h->id & 0xffu);
    rc = encode_action(ctx, &s, act);
    if (rc == HAZ_OK)
        rc = encode_env(ctx, &s, env);
    if (rc == HAZ_OK)
        rc = encode_inputs(ctx, &s, inputs, n_inputs);
    if (rc == HAZ_OK)
        rc = encode_preds(ctx, &s, preds, n_preds);
    if (rc == HAZ_OK)
        rc = s.rc;
    if (rc == HAZ_OK)
        h->out(s.state, key_out);
    else if (encoding != NULL)
        encoding->len = start;
    if (s.state != &local)
        haz__free(ctx, s.state);
    return rc;
}

/* ------------------------------------------------------------------------
 * Input files.
 * ---------------------------------------------------------------------- */

void haz__input_set_init(haz__input_set *s, haz_ctx *ctx)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
}

void haz__input_set_free(haz__input_set *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        haz__free(s->ctx, s->v[i].path);
    haz__free(s->ctx, s->v);
    s->v = NULL;
    s->n = 0;
}

/* b = ws_root (without trailing '/') + wp. */
static int host_path(haz_buf *b, const char *ws_root, const char *wp)
{
    size_t rl = strlen(ws_root);

    while (rl > 1 && ws_root[rl - 1] == '/')
        rl--;
    if (rl == 1 && ws_root[0] == '/')
        rl = 0;
    b->len = 0;
    if (haz__buf_append(b, ws_root, rl) != HAZ_OK ||
        haz__buf_puts(b, wp) != HAZ_OK)
        return HAZ_ENOMEM;
    return HAZ_OK;
}

/* Put the task id in front of the context's message, keeping errno. */
static int prefix_error(haz_ctx *ctx, int rc, const char *id)
{
    int e = ctx->os_errno;

    if (rc == HAZ_ENOMEM)
        return rc;
    haz__error(ctx, rc, "%s: %s", id, ctx->errmsg);
    ctx->os_errno = e;
    return rc;
}

static int list_add(haz_ctx *ctx, haz_pathlist *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **v = haz__reallocarray(ctx, l->v, cap, sizeof(*v));

        if (v == NULL)
            return HAZ_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    if ((l->v[l->n] = haz__strdup(ctx, path)) == NULL)
        return HAZ_ENOMEM;
    l->n++;
    return HAZ_OK;
}

/* The paths the input patterns of t name: glob matches (regular files when
 * the walk saw them) and literals, looked at later (haz__task_inputs). */
static int resolve(haz_ctx *ctx, const char *ws_root, const haz__gtask *t,
                   haz_pathlist *list)
{
    const char *id = t->info.id ? t->info.id : "?";
    size_t i, w;
    int rc = HAZ_OK;

    for (i = 0; i < t->info.n_inputs && rc == HAZ_OK; i++) {
        const haz__gpattern *p = &t->inputs[i];

        if (p->is_glob) {
            rc = haz__resolve_patterns(ctx, ws_root, p, 1, 0, list);
            if (rc != HAZ_OK)
                rc = prefix_error(ctx, rc, id);
            continue;
        }
        rc = list_add(ctx, list, p->abs);
    }
    if (rc != HAZ_OK || list->n < 2)
        return rc;
    qsort(list->v, list->n, sizeof(*list->v), cmp_strp);
    for (i = 1, w = 1; i < list->n; i++) {
        if (strcmp(list->v[i], list->v[w - 1]) == 0)
            haz__free(ctx, list->v[i]);
        else
            list->v[w++] = list->v[i];
    }
    list->n = w;
    return HAZ_OK;
}

int haz__task_inputs(haz_ctx *ctx, const haz_hash_methods *h,
                     const char *ws_root, const haz__gtask *task,
                     haz__filestat *fsrec, haz__input_set *out)
{
    haz_pathlist list;
    haz_buf hp;
    size_t i;
    int rc;

    if (ctx == NULL)
        return HAZ_EINVAL;
    if (h == NULL || ws_root == NULL || ws_root[0] != '/' || task == NULL ||
        out == NULL || (task->info.n_inputs > 0 && task->inputs == NULL))
        return haz__error(ctx, HAZ_EINVAL, "task inputs: bad argument");
    haz__input_set_free(out);
    out->ctx = ctx;
    haz__pathlist_init(&list, ctx);
    rc = resolve(ctx, ws_root, task, &list);
    if (rc == HAZ_OK && list.n > 0 &&
        (out->v = haz__calloc(ctx, list.n, sizeof(*out->v))) == NULL)
        rc = HAZ_ENOMEM;
    haz__buf_init(&hp, ctx);
    for (i = 0; rc == HAZ_OK && i < list.n; i++) {
        haz__input_file *f = &out->v[i];
        const char *id = task->info.id ? task->info.id : "?";
        struct stat st;

        if (host_path(&hp, ws_root, list.v[i]) != HAZ_OK) {
            rc = HAZ_ENOMEM;
            break;
        }
        /* One stat serves the check and the input-hash record (a literal
         * is not looked at before: a missing or odd one fails here). */
        if (stat(hp.data, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                rc = haz__error(ctx, HAZ_ENOENT, "%s: input '%s' does not "
                                "exist", id, list.v[i]);
            else
                rc = haz__error_os(ctx, HAZ_EIO, errno, "%s: cannot stat "
                                   "input '%s'", id, list.v[i]);
            break;
        }
        if (!S_ISREG(st.st_mode)) {
            rc = haz__error(ctx, HAZ_EEXIST, "%s: input '%s' is not a "
                            "regular file", id, list.v[i]);
            break;
        }
        rc = haz__filestat_hash_stat(fsrec, ctx, h, list.v[i], hp.data, &st,
                                     f->hash, &f->id);
        if (rc != HAZ_OK) {
            rc = prefix_error(ctx, rc, id);
            break;
        }
        f->path = list.v[i];    /* the set takes the string */
        list.v[i] = NULL;
        out->n++;
    }
    haz__buf_free(&hp);
    haz__pathlist_free(&list);
    if (rc != HAZ_OK)
        haz__input_set_free(out);
    return rc;
}

int haz__input_set_changed(const char *ws_root, const haz__input_set *s,
                           const char **which)
{
    haz_buf hp;
    size_t i;
    int changed = 0;

    if (which != NULL)
        *which = NULL;
    haz__buf_init(&hp, s->ctx);
    for (i = 0; i < s->n && !changed; i++) {
        struct stat st;
        haz__fileid id;

        if (host_path(&hp, ws_root, s->v[i].path) != HAZ_OK) {
            changed = HAZ_ENOMEM;
            break;
        }
        if (stat(hp.data, &st) != 0) {
            changed = 1;
        } else {
            haz__fileid_of(&st, &id);
            changed = !haz__fileid_equal(&id, &s->v[i].id);
        }
        if (changed && which != NULL)
            *which = s->v[i].path;
    }
    haz__buf_free(&hp);
    return changed;
}

/* ------------------------------------------------------------------------
 * The key of a task.
 * ---------------------------------------------------------------------- */

int haz__task_cache_key(haz_ctx *ctx, const haz_hash_methods *h,
                        const char *ws_root, const haz__gtask *task,
                        const char *const *host_env,
                        const haz__pred_hashes *preds, size_t n_preds,
                        haz__filestat *fsrec, haz__input_set *inputs,
                        unsigned char *key_out)
{
    const haz_task_info *ti;
    haz__input_set set;
    haz__key_input *ki = NULL;
    haz__key_action act;
    haz__key_env env;
    size_t i;
    int rc;

    if (ctx == NULL)
        return HAZ_EINVAL;
    if (task == NULL || key_out == NULL || h == NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache key: bad argument");
    ti = &task->info;
    if (n_preds != ti->n_deps)
        return haz__error(ctx, HAZ_EINVAL, "%s: stream hashes of %lu hard "
                          "predecessors given, %lu expected", ti->id,
                          (unsigned long)n_preds, (unsigned long)ti->n_deps);
    haz__input_set_init(&set, ctx);
    rc = haz__task_inputs(ctx, h, ws_root, task, fsrec, &set);
    if (rc != HAZ_OK)
        return rc;
    if (set.n > 0 && (ki = haz__calloc(ctx, set.n, sizeof(*ki))) == NULL) {
        haz__input_set_free(&set);
        return HAZ_ENOMEM;
    }
    for (i = 0; i < set.n; i++) {
        ki[i].path = set.v[i].path;
        memcpy(ki[i].hash, set.v[i].hash, h->digest_len);
    }
    act.kind = ti->action;
    act.argv = ti->argv;
    act.argc = ti->argc;
    act.script = ti->script;
    env.allow = ti->env_from_host;
    env.n_allow = ti->n_env_from_host;
    env.host = host_env;
    env.overrides = ti->env;
    env.n_overrides = ti->n_env;
    rc = haz__cachekey_build(ctx, h, &act, &env, ki, set.n, preds, n_preds,
                             NULL, key_out);
    if (rc != HAZ_OK && rc != HAZ_ENOMEM)
        rc = prefix_error(ctx, rc, ti->id);
    haz__free(ctx, ki);
    if (rc == HAZ_OK && inputs != NULL) {
        haz__input_set_free(inputs);
        *inputs = set;
    } else {
        haz__input_set_free(&set);
    }
    return rc;
}
