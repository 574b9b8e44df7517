/*
 * bench/gen_graph.c: writes one task graph three times, as a hazfile, a
 * build.ninja and a GNU Makefile, for bench/throughput.sh.
 *
 *     gen_graph [-s SEED] SHAPE N COMMAND DIR
 *
 * SHAPE is one of
 *   flat     N independent tasks;
 *   chain    t(i) depends on t(i-1): one task at a time, so the rate
 *            measures the latency of starting a child and noticing its end;
 *   tree     a binary fan-in tree: t(i) depends on t(2i+1) and t(2i+2),
 *            the leaves first and t0, the root, last;
 *   random   a random DAG: t(i) depends on k distinct tasks among t(0) ..
 *            t(i-1), k drawn uniformly from 0..6 (3 on average), with a
 *            splitmix64 generator seeded by SEED (default 1), so the same
 *            arguments always give the same files.
 * Every task runs COMMAND, one line of shell text written unchanged into
 * all three files (escaped where the format needs it: `$` doubled for make
 * and ninja).  No task reads or writes a file, and all three tools run
 * exactly N commands every time:
 *   hazfile     [task b:tK] with run = COMMAND and deps = the hard edges
 *               (hazrun must be given --no-cache, or it would replay);
 *   Makefile    every tK is .PHONY (so its recipe always runs and no file
 *               is looked at), `all` depends on all of them, built-in
 *               rules are off (.SUFFIXES: and MAKEFLAGS += -r);
 *   build.ninja `build tK: run | DEPS` with the rule's command COMMAND:
 *               the output tK is never created, so every edge is dirty on
 *               every run and each command runs once (a `phony` edge would
 *               run nothing).  `default` names every task.  Ninja keeps its
 *               .ninja_log in DIR; throughput.sh removes it before a run.
 * Exit status: 0, 1 on an I/O error, 2 on a usage error.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TASKS 10000000UL
#define MAX_RANDOM_DEPS 6

enum shape { FLAT, CHAIN, TREE, RANDOM };

static const char *me = "gen_graph";

static void usage(void)
{
    fprintf(stderr,
            "usage: %s [-s SEED] flat|chain|tree|random N COMMAND DIR\n",
            me);
    exit(2);
}

/* splitmix64: tiny, seedable, the same sequence everywhere. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static unsigned long rng_below(uint64_t *state, unsigned long n)
{
    return (unsigned long)(rng_next(state) % (uint64_t)n);
}

/* The hard predecessors of every task, in one array: deps of task i are
 * dep[first[i]] .. dep[first[i + 1] - 1], in increasing order. */
typedef struct graph {
    unsigned long n;
    unsigned long *first;
    unsigned long *dep;
} graph;

static int cmp_ulong(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a;
    unsigned long y = *(const unsigned long *)b;

    return x < y ? -1 : x > y;
}

static void build(graph *g, enum shape sh, unsigned long n, uint64_t seed)
{
    unsigned long i, j, m = 0, cap = n * (MAX_RANDOM_DEPS + 2) + 1;

    g->n = n;
    g->first = malloc((n + 1) * sizeof *g->first);
    g->dep = malloc(cap * sizeof *g->dep);
    if (g->first == NULL || g->dep == NULL) {
        fprintf(stderr, "%s: out of memory\n", me);
        exit(1);
    }
    for (i = 0; i < n; i++) {
        unsigned long *d = g->dep + m, k = 0;

        g->first[i] = m;
        switch (sh) {
        case FLAT:
            break;
        case CHAIN:
            if (i > 0)
                d[k++] = i - 1;
            break;
        case TREE:
            if (2 * i + 1 < n)
                d[k++] = 2 * i + 1;
            if (2 * i + 2 < n)
                d[k++] = 2 * i + 2;
            break;
        case RANDOM: {
            unsigned long want = rng_below(&seed, MAX_RANDOM_DEPS + 1);

            if (want > i)
                want = i;
            while (k < want) {
                unsigned long c = rng_below(&seed, i);

                for (j = 0; j < k && d[j] != c; j++)
                    ;
                if (j == k)
                    d[k++] = c;
            }
            qsort(d, k, sizeof *d, cmp_ulong);
            break;
        }
        }
        m += k;
    }
    g->first[n] = m;
}

/* ------------------------------------------------------------------------
 * Writing.
 * ---------------------------------------------------------------------- */

static FILE *open_out(const char *dir, const char *name, char *path,
                      size_t len)
{
    FILE *f;

    if ((size_t)snprintf(path, len, "%s/%s", dir, name) >= len) {
        fprintf(stderr, "%s: path too long: %s/%s\n", me, dir, name);
        exit(2);
    }
    f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", me, path, strerror(errno));
        exit(1);
    }
    return f;
}

static void close_out(FILE *f, const char *path)
{
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "%s: %s: write error\n", me, path);
        exit(1);
    }
}

/* COMMAND with every `$` doubled (make and ninja). */
static void put_dollars(FILE *f, const char *cmd)
{
    for (; *cmd != '\0'; cmd++) {
        if (*cmd == '$')
            fputc('$', f);
        fputc(*cmd, f);
    }
}

/* A long list of names, wrapped with `cont` (" \\\n\t" for make, " $\n    "
 * for ninja) every 16 names. */
static void put_names(FILE *f, unsigned long from, unsigned long to,
                      const char *cont)
{
    unsigned long i;

    for (i = from; i < to; i++) {
        if (i > from && (i - from) % 16 == 0)
            fputs(cont, f);
        fprintf(f, " t%lu", i);
    }
}

static void write_hazfile(const graph *g, const char *cmd, const char *dir,
                          const char *desc)
{
    char path[4096];
    FILE *f = open_out(dir, "hazfile", path, sizeof path);
    unsigned long i, j;

    fprintf(f, "# %s\n[workspace]\nconcurrency = auto\noutput = live\n"
               "env_from_host = PATH\n", desc);
    for (i = 0; i < g->n; i++) {
        fprintf(f, "\n[task b:t%lu]\nrun = %s\n", i, cmd);
        if (g->first[i] == g->first[i + 1])
            continue;
        fputs("deps =", f);
        for (j = g->first[i]; j < g->first[i + 1]; j++)
            fprintf(f, " b:t%lu", g->dep[j]);
        fputc('\n', f);
    }
    close_out(f, path);
}

static void write_makefile(const graph *g, const char *cmd, const char *dir,
                           const char *desc)
{
    char path[4096];
    FILE *f = open_out(dir, "Makefile", path, sizeof path);
    unsigned long i, j;

    fprintf(f, "# %s\nMAKEFLAGS += -r\n.SUFFIXES:\n\nall:", desc);
    put_names(f, 0, g->n, " \\\n\t");
    fputs("\n\n.PHONY: all", f);
    put_names(f, 0, g->n, " \\\n\t");
    fputs("\n", f);
    for (i = 0; i < g->n; i++) {
        fprintf(f, "\nt%lu:", i);
        for (j = g->first[i]; j < g->first[i + 1]; j++)
            fprintf(f, " t%lu", g->dep[j]);
        fputs("\n\t", f);
        put_dollars(f, cmd);
        fputc('\n', f);
    }
    close_out(f, path);
}

static void write_ninja(const graph *g, const char *cmd, const char *dir,
                        const char *desc)
{
    char path[4096];
    FILE *f = open_out(dir, "build.ninja", path, sizeof path);
    unsigned long i, j;

    fprintf(f, "# %s\nninja_required_version = 1.5\n\nrule run\n"
               "  command = ", desc);
    put_dollars(f, cmd);
    fputs("\n\n", f);
    for (i = 0; i < g->n; i++) {
        fprintf(f, "build t%lu: run", i);
        if (g->first[i] != g->first[i + 1])
            fputs(" |", f);
        for (j = g->first[i]; j < g->first[i + 1]; j++)
            fprintf(f, " t%lu", g->dep[j]);
        fputc('\n', f);
    }
    fputs("\ndefault", f);
    put_names(f, 0, g->n, " $\n   ");
    fputc('\n', f);
    close_out(f, path);
}

int main(int argc, char **argv)
{
    static const char *const names[] = {"flat", "chain", "tree", "random"};
    unsigned long n, seed = 1;
    enum shape sh = FLAT;
    char desc[512], *end;
    const char *cmd;
    int a = 1, k;
    graph g;

    if (argc > 2 && strcmp(argv[1], "-s") == 0) {
        errno = 0;
        seed = strtoul(argv[2], &end, 10);
        if (errno != 0 || *end != '\0' || end == argv[2])
            usage();
        a = 3;
    }
    if (argc - a != 4)
        usage();
    for (k = 0; k < 4 && strcmp(argv[a], names[k]) != 0; k++)
        ;
    if (k == 4)
        usage();
    sh = (enum shape)k;
    errno = 0;
    n = strtoul(argv[a + 1], &end, 10);
    if (errno != 0 || *end != '\0' || n == 0 || n > MAX_TASKS)
        usage();
    cmd = argv[a + 2];
    if (cmd[0] == '\0' || strchr(cmd, '\n') != NULL ||
        cmd[0] == ' ' || cmd[0] == '\t' ||
        cmd[strlen(cmd) - 1] == ' ' || cmd[strlen(cmd) - 1] == '\t') {
        fprintf(stderr, "%s: COMMAND must be one line without leading or "
                "trailing blanks\n", me);
        return 2;
    }
    build(&g, sh, n, (uint64_t)seed);
    snprintf(desc, sizeof desc, "gen_graph -s %lu %s %lu: %lu tasks, %lu "
             "edges; generated, do not edit", seed, names[k], n, n,
             g.first[n]);
    write_hazfile(&g, cmd, argv[a + 3], desc);
    write_makefile(&g, cmd, argv[a + 3], desc);
    write_ninja(&g, cmd, argv[a + 3], desc);
    free(g.first);
    free(g.dep);
    return 0;
}
