/*
 * examples/hazrun_cache.c: `hazrun cache info|verify|clean|clear`.
 *
 * Maintenance of the workspace's filesystem cache, ROOT/.haz/cache,
 * through haz_cache_fs_*: info and verify print the statistics (verify
 * exits 1 when an entry is broken), clear removes the whole cache, clean
 * removes broken entries and leftovers (the default), entries older than
 * --max-age, or the oldest entries until the cache fits --max-size;
 * --dry-run only counts.  Reports go to stdout, errors to stderr.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hazrun.h"

/* Parse a size: digits with an optional K, M or G (powers of 1024). */
static int parse_size(const char *s, uint64_t *value)
{
    uint64_t v = 0, mul = 1;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (*s == 'K' || *s == 'k')
        mul = UINT64_C(1) << 10;
    else if (*s == 'M' || *s == 'm')
        mul = UINT64_C(1) << 20;
    else if (*s == 'G' || *s == 'g')
        mul = UINT64_C(1) << 30;
    if (mul != 1)
        s++;
    if (*s != '\0' || v > UINT64_MAX / mul)
        return -1;
    *value = v * mul;
    return 0;
}

static void print_line(const char *s)
{
    out o;

    out_init(&o, 1);
    out_puts(&o, s);
    out_flush(&o);
}

static void print_stats(const char *dir, const haz_cache_stats *st)
{
    char line[256];
    out o;

    out_init(&o, 1);
    out_puts(&o, "cache: ");
    out_text(&o, dir);
    (void)snprintf(line, sizeof line,
                   "\nentries: %llu\nbytes: %llu\nbroken: %llu\n"
                   "temporaries: %llu\n",
                   (unsigned long long)st->entries,
                   (unsigned long long)st->bytes,
                   (unsigned long long)st->broken,
                   (unsigned long long)st->temporaries);
    out_puts(&o, line);
    out_flush(&o);
}

int cache_command(const options *opt, const char *file)
{
    haz_ctx *ctx = NULL;
    haz_clock *clock = NULL;
    haz_cache_stats st;
    haz_cache_clean_options co;
    char *root = workspace_root(file), *dir = NULL, line[256];
    const char *sub = opt->n_cmd_args > 0 ? opt->cmd_args[0] : NULL;
    int i, rc = 0, status = EXIT_INTERNAL, mode_given = 0;

    memset(&st, 0, sizeof st);
    memset(&co, 0, sizeof co);
    if (sub == NULL) {
        status = usage_error("%s", "cache needs a subcommand: info, verify, "
                                   "clean or clear");
        goto done;
    }
    if (strcmp(sub, "info") != 0 && strcmp(sub, "verify") != 0 &&
        strcmp(sub, "clear") != 0 && strcmp(sub, "clean") != 0) {
        status = usage_error("unknown cache subcommand '%s'", sub);
        goto done;
    }
    for (i = 1; i < opt->n_cmd_args; i++) {
        const char *a = opt->cmd_args[i];
        const char *v = i + 1 < opt->n_cmd_args ? opt->cmd_args[i + 1]
                                                : NULL;
        uint64_t x;

        if (strcmp(sub, "clean") != 0) {
            status = usage_error("unexpected argument '%s'", a);
            goto done;
        }
        if (strcmp(a, "--dry-run") == 0) {
            co.dry_run = 1;
        } else if (strcmp(a, "--broken") == 0) {
            co.broken = 1;
            mode_given = 1;
        } else if (strcmp(a, "--max-age") == 0 && v != NULL) {
            if (parse_seconds(v, &x) != 0 || x < UINT64_C(1000000000)) {
                status = usage_error("--max-age needs whole seconds >= 1, "
                                     "got '%s'", v);
                goto done;
            }
            co.max_age_s = (int64_t)(x / UINT64_C(1000000000));
            mode_given = 1;
            i++;
        } else if (strcmp(a, "--max-size") == 0 && v != NULL) {
            if (parse_size(v, &co.max_bytes) != 0 || co.max_bytes == 0) {
                status = usage_error("--max-size needs a size such as 500M, "
                                     "got '%s'", v);
                goto done;
            }
            mode_given = 1;
            i++;
        } else {
            status = usage_error("unknown cache clean option '%s'", a);
            goto done;
        }
    }
    if (!mode_given)
        co.broken = 1;
    if (root == NULL) {
        say("cannot resolve the directory of '%s': %s", file,
            strerror(errno));
        status = EXIT_BADINPUT;
        goto done;
    }
    dir = malloc(strlen(root) + sizeof "/.haz/cache");
    if (dir == NULL || haz_ctx_new(&ctx, NULL) != 0 ||
        haz_clock_open(ctx, &haz_clock_posix, NULL, &clock) != 0) {
        say("out of memory");
        goto done;
    }
    strcpy(dir, strcmp(root, "/") == 0 ? "" : root);
    strcat(dir, "/.haz/cache");
    if (strcmp(sub, "info") == 0) {
        rc = haz_cache_fs_info(ctx, dir, &st);
        if (rc == 0)
            print_stats(dir, &st);
    } else if (strcmp(sub, "verify") == 0) {
        rc = haz_cache_fs_verify(ctx, dir, &haz_hash_sha256, &st);
        if (rc == 0 || rc == HAZ_ECORRUPT) {
            print_stats(dir, &st);
            (void)snprintf(line, sizeof line, "verify: %llu entries ok, "
                           "%llu broken\n", (unsigned long long)st.entries,
                           (unsigned long long)st.broken);
            print_line(line);
            status = rc == 0 ? EXIT_OK : 1;
            goto done;
        }
    } else if (strcmp(sub, "clear") == 0) {
        rc = haz_cache_fs_clear(ctx, dir, &st);
        if (rc == 0) {
            (void)snprintf(line, sizeof line, "cleared: %llu entries, "
                           "%llu bytes\n", (unsigned long long)st.removed,
                           (unsigned long long)st.removed_bytes);
            print_line(line);
        }
    } else {
        rc = haz_cache_fs_clean(ctx, dir, &co, clock, &st);
        if (rc == 0) {
            (void)snprintf(line, sizeof line, "%s: %llu entries or "
                           "temporaries, %llu bytes\n",
                           co.dry_run ? "would remove" : "removed",
                           (unsigned long long)st.removed,
                           (unsigned long long)st.removed_bytes);
            print_line(line);
        }
    }
    if (rc != 0) {
        say("cache %s: %s", sub, haz_ctx_errmsg(ctx));
        goto done;
    }
    status = EXIT_OK;
done:
    haz_clock_close(clock);
    haz_ctx_free(ctx);
    free(dir);
    free(root);
    return status;
}
