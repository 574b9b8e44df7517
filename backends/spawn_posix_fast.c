/*
 * backends/spawn_posix_fast.c: the direct-exec fast path of the posix
 * spawner (declared in backends/spawn_posix.h).  A shell action whose
 * script is a plain command line, such as `cc -c a.c -o a.o`, is started
 * without /bin/sh: the script is split on blanks and the words are run as
 * an argv action would be, the program found in the task's PATH.  That
 * saves one process start per task, as GNU make does for such recipes.
 *
 * The rule (docs/spawner-posix.md section 2a says why each part is there):
 *   - every byte of the script is a letter, a digit, one of - _ . / = : ,
 *     + @ % or a blank (space, tab), and there is at least one word;
 *   - the first word holds no '=' (an assignment) and no '%' (a job name
 *     in some shells), and is not a reserved word or a builtin of any
 *     common /bin/sh, except `true` and `false` alone;
 *   - every environment name is a valid shell name and none of IFS,
 *     OPTIND, PPID, SHELLOPTS, BASHOPTS is set (the shell would change or
 *     act on them), and PATH holds no '%' (dash's %builtin entries);
 *   - the program is found in PATH (else the shell runs the script and
 *     prints its own "not found", exit 127).
 * As the shell does, the child gets PWD: the environment's PWD when it is
 * absolute and names the working directory, else the physical working
 * directory.  A start that fails (exec error, missing #! interpreter) is
 * retried through the shell by backends/spawn_posix_start.c, so every
 * error looks exactly as it would without the fast path.
 *
 * In order: the character and word rule; the environment; preparing a
 * start; the test switch.
 */
#include "internal.h"
#include "spawn_posix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------
 * The rule.
 * ---------------------------------------------------------------------- */

/* Reserved words and builtins of POSIX sh, dash, bash, ksh, mksh and
 * busybox ash that can stand as the first word of a plain command line
 * (those spelled with other bytes, such as `[` or `{`, never reach the
 * list).  Sorted (strcmp) for bsearch.  `true` and `false` are here and
 * are let through only when they are the whole command. */
static const char *const shell_words[] = {
    ".", ":", "alias", "autoload", "bg", "bind", "break", "builtin",
    "caller", "case", "cd", "chdir", "command", "compgen", "complete",
    "compopt", "continue", "coproc", "declare", "dirs", "disown", "do",
    "done", "echo", "elif", "else", "enable", "esac", "eval", "exec",
    "exit", "export", "false", "fc", "fg", "fi", "float", "for",
    "function", "functions", "getopts", "hash", "help", "history", "if",
    "in", "integer", "jobs", "kill", "let", "local", "login", "logout",
    "mapfile", "nameref", "namespace", "newgrp", "popd", "print",
    "printf", "pushd", "pwd", "r", "read", "readarray", "readonly",
    "return", "select", "set", "shift", "shopt", "source", "suspend",
    "test", "then", "time", "times", "trap", "true", "type", "typeset",
    "ulimit", "umask", "unalias", "unset", "until", "wait", "whence",
    "while"
};

static int cmp_word(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(const char *const *)elem);
}

static int is_shell_word(const char *w)
{
    return bsearch(w, shell_words, sizeof shell_words / sizeof *shell_words,
                   sizeof *shell_words, cmp_word) != NULL;
}

static int plain_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '/' || c == '=' || c == ':' || c == ',' || c == '+' ||
           c == '@' || c == '%' || c == ' ' || c == '\t';
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

int haz__posix_sh_plain(const char *script)
{
    char first[16];
    const char *p, *w, *rest;
    size_t n;

    if (script == NULL)
        return 0;
    for (p = script; *p != '\0'; p++)
        if (!plain_byte((unsigned char)*p))
            return 0;
    for (w = script; blank(*w); w++)
        ;
    if (*w == '\0')
        return 0;                       /* no word: sh -c '' */
    for (n = 0; w[n] != '\0' && !blank(w[n]); n++)
        if (w[n] == '=' || w[n] == '%')
            return 0;
    if (n >= sizeof first)
        return 1;                       /* longer than any listed word */
    memcpy(first, w, n);
    first[n] = '\0';
    if (!is_shell_word(first))
        return 1;
    for (rest = w + n; blank(*rest); rest++)
        ;
    return *rest == '\0' &&
           (strcmp(first, "true") == 0 || strcmp(first, "false") == 0);
}

/* ------------------------------------------------------------------------
 * The environment.
 * ---------------------------------------------------------------------- */

static int name_byte(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* Variables the shell would replace (IFS, OPTIND, PPID), act on
 * (SHELLOPTS, BASHOPTS: bash options) or drop (invalid names: dash). */
static int env_plain(const char *const *envp)
{
    static const char *const special[] = {
        "IFS=", "OPTIND=", "PPID=", "SHELLOPTS=", "BASHOPTS="
    };
    size_t i, k;

    for (i = 0; envp != NULL && envp[i] != NULL; i++) {
        const char *e = envp[i];

        if (!name_byte(e[0], 1))
            return 0;
        for (k = 1; e[k] != '=' && e[k] != '\0'; k++)
            if (!name_byte(e[k], 0))
                return 0;
        if (e[k] != '=')
            return 0;
        for (k = 0; k < sizeof special / sizeof *special; k++)
            if (strncmp(e, special[k], strlen(special[k])) == 0)
                return 0;
    }
    return 1;
}

/* Does entry e ("NAME=VALUE") sort before the name PWD? */
static int before_pwd(const char *e)
{
    size_t k = strcspn(e, "=");
    int c = strncmp(e, "PWD", k < 3 ? k : 3);

    return c < 0 || (c == 0 && k < 3);
}

/* The environment the shell would hand its command: the plan's, with PWD
 * kept when it is absolute and names the working directory, else set to
 * the physical working directory (what dash and bash both do).  Returns 1
 * with fp->envp set (NULL: the plan's is right as it is), 0 when the
 * shell should run the script instead, or HAZ_ENOMEM. */
static int env_with_pwd(haz_ctx *ctx, const haz_spawn_plan *plan,
                        haz__posix_fast *fp)
{
    const char *const *envp = plan->envp;
    size_t n, at = 0, i, k;
    struct stat cwd_st, pwd_st;
    int found = 0;
    char *real;

    if (stat(plan->cwd, &cwd_st) != 0)
        return 0;
    for (n = 0; envp != NULL && envp[n] != NULL; n++) {
        if (strncmp(envp[n], "PWD=", 4) == 0) {
            const char *v = envp[n] + 4;

            if (v[0] == '/' && stat(v, &pwd_st) == 0 &&
                pwd_st.st_dev == cwd_st.st_dev &&
                pwd_st.st_ino == cwd_st.st_ino)
                return 1;
            found = 1;
            at = n;
        } else if (!found && before_pwd(envp[n])) {
            at = n + 1;
        }
    }
    errno = 0;
    real = realpath(plan->cwd, NULL);
    if (real == NULL)
        return errno == ENOMEM ? haz__error(ctx, HAZ_ENOMEM, "out of memory")
                               : 0;
    fp->pwd = haz__malloc(ctx, strlen(real) + 5);
    fp->envp = haz__calloc(ctx, n + 2, sizeof *fp->envp);
    if (fp->pwd == NULL || fp->envp == NULL) {
        free(real);
        return HAZ_ENOMEM;
    }
    memcpy(fp->pwd, "PWD=", 4);
    memcpy(fp->pwd + 4, real, strlen(real) + 1);
    free(real);
    /* The entries before PWD's place, PWD, the rest (without the old
     * PWD when there was one). */
    for (i = 0, k = 0; i < n; i++) {
        if (i == at)
            fp->envp[k++] = fp->pwd;
        if (!(found && i == at))
            fp->envp[k++] = (char *)envp[i];
    }
    if (at == n)
        fp->envp[k++] = fp->pwd;
    fp->envp[k] = NULL;
    return 1;
}

/* ------------------------------------------------------------------------
 * Preparing a start.
 * ---------------------------------------------------------------------- */

void haz__posix_fast_free(haz_ctx *ctx, haz__posix_fast *fp)
{
    haz__free(ctx, fp->argv);
    haz__free(ctx, fp->words);
    haz__free(ctx, fp->envp);
    haz__free(ctx, fp->pwd);
    haz__free(ctx, fp->path);
    fp->argv = NULL;
    fp->words = NULL;
    fp->envp = NULL;
    fp->pwd = NULL;
    fp->path = NULL;
}

/* Split the (plain) script into words at blanks. */
static int split(haz_ctx *ctx, const char *script, haz__posix_fast *fp)
{
    size_t len = strlen(script), n = 0, i;
    char *w;

    fp->words = haz__malloc(ctx, len + 1);
    fp->argv = haz__calloc(ctx, len / 2 + 2, sizeof *fp->argv);
    if (fp->words == NULL || fp->argv == NULL)
        return HAZ_ENOMEM;
    memcpy(fp->words, script, len + 1);
    for (w = fp->words, i = 0; i < len;) {
        while (i < len && blank(w[i]))
            w[i++] = '\0';
        if (i == len)
            break;
        fp->argv[n++] = w + i;
        while (i < len && !blank(w[i]))
            i++;
    }
    fp->argv[n] = NULL;
    fp->argc = n;
    return HAZ_OK;
}

int haz__posix_fast_prepare(haz_ctx *ctx, const haz_spawn_plan *plan,
                            haz__posix_fast *fp)
{
    haz_spawn_plan direct;
    haz_buf path;
    int rc;

    memset(fp, 0, sizeof *fp);
    if (haz__posix_shell_forced() || plan->action != HAZ_ACTION_SHELL ||
        !haz__posix_sh_plain(plan->script) || !env_plain(plan->envp) ||
        plan->path == NULL || strchr(plan->path, '%') != NULL)
        return 0;
    rc = split(ctx, plan->script, fp);
    if (rc == HAZ_OK) {
        direct = *plan;
        direct.action = HAZ_ACTION_ARGV;
        direct.argv = (const char *const *)fp->argv;
        direct.argc = fp->argc;
        haz__buf_init(&path, ctx);
        rc = haz__posix_resolve(ctx, &direct, &path);
        fp->path = path.data;   /* taken over (freed with haz__free) */
        if (rc != HAZ_OK && rc != HAZ_ENOMEM) {
            /* Not found, not executable ...: the shell says so. */
            haz__error_clear(ctx);
            haz__posix_fast_free(ctx, fp);
            return 0;
        }
    }
    if (rc == HAZ_OK)
        rc = env_with_pwd(ctx, plan, fp);
    if (rc != 1)
        haz__posix_fast_free(ctx, fp);
    return rc;
}

/* ------------------------------------------------------------------------
 * The test switch.
 * ---------------------------------------------------------------------- */

static int force_shell;

void haz__posix_spawner_use_shell(int on)
{
    force_shell = on != 0;
}

int haz__posix_shell_forced(void)
{
    return force_shell;
}
