/*
 * bench/gen_cache_graph.c: the workspace of bench/cache_bench.sh, and its
 * stopwatch.
 *
 *     gen_cache_graph gen DIR N [BYTES]
 *     gen_cache_graph time [-o FILE] PROG [ARG...]
 *
 * `gen` creates DIR (which must not exist) holding
 *   hazfile          N independent tasks b:t00000 .. b:tN-1, each
 *                        argv = cp in/K.txt out/K.txt
 *                        inputs = in/K.txt
 *                        outputs = out/K.txt
 *                    (a command action: no shell, so the cold run measures
 *                    one cp per task rather than a shell and a cp);
 *   in/K.txt         BYTES bytes (default 1024) of text unique to K;
 *   out/             empty: cp does not create directories.
 *
 * `time` runs PROG (found in PATH) with stdin on /dev/null and stdout on
 * /dev/null (with -o: stdout and stderr both to FILE, created or
 * truncated) and stderr inherited, waits for it, and prints one line
 * "SECONDS STATUS CPU": the wall-clock time from before the fork to after
 * the wait (CLOCK_MONOTONIC, microseconds), the exit status (128+N for
 * signal N), and the user + system CPU seconds of PROG and its children
 * (getrusage RUSAGE_CHILDREN), which other load on the machine disturbs
 * less than the wall clock.  POSIX sh has no finer clock than a second.
 *
 * Exit status: 0, 1 on an I/O or process error, 2 on a usage error.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: gen_cache_graph gen DIR N [BYTES]\n"
                    "       gen_cache_graph time [-o FILE] PROG [ARG...]\n");
    return 2;
}

static int fail(const char *what, const char *path)
{
    fprintf(stderr, "gen_cache_graph: %s '%s': %s\n", what, path,
            strerror(errno));
    return 1;
}

static int write_input(const char *path, unsigned long k, unsigned long bytes)
{
    char line[64];
    unsigned long done = 0;
    FILE *fp = fopen(path, "w");

    if (fp == NULL)
        return -1;
    while (done < bytes) {
        int n = snprintf(line, sizeof line, "input %lu line %lu\n", k, done);
        unsigned long take = (unsigned long)n;

        if (take > bytes - done)
            take = bytes - done;
        if (fwrite(line, 1, take, fp) != take)
            break;
        done += take;
    }
    if (fclose(fp) != 0 || done < bytes)
        return -1;
    return 0;
}

static int gen(const char *dir, unsigned long n, unsigned long bytes)
{
    char path[4096];
    unsigned long k;
    FILE *hf;

    if (mkdir(dir, 0777) != 0)
        return fail("cannot create", dir);
    (void)snprintf(path, sizeof path, "%s/in", dir);
    if (mkdir(path, 0777) != 0)
        return fail("cannot create", path);
    (void)snprintf(path, sizeof path, "%s/out", dir);
    if (mkdir(path, 0777) != 0)
        return fail("cannot create", path);
    (void)snprintf(path, sizeof path, "%s/hazfile", dir);
    hf = fopen(path, "w");
    if (hf == NULL)
        return fail("cannot create", path);
    fprintf(hf, "# bench/gen_cache_graph.c: %lu tasks, each copying one "
                "input of %lu bytes\n[workspace]\nconcurrency = auto\n",
            n, bytes);
    for (k = 0; k < n; k++) {
        fprintf(hf, "\n[task b:t%05lu]\nargv = cp in/%lu.txt out/%lu.txt\n"
                    "inputs = in/%lu.txt\noutputs = out/%lu.txt\n",
                k, k, k, k, k);
        (void)snprintf(path, sizeof path, "%s/in/%lu.txt", dir, k);
        if (write_input(path, k, bytes) != 0) {
            (void)fclose(hf);
            return fail("cannot write", path);
        }
    }
    (void)snprintf(path, sizeof path, "%s/hazfile", dir);
    if (fclose(hf) != 0)
        return fail("cannot write", path);
    return 0;
}

static double now(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_of_children(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int stopwatch(const char *log, char **argv)
{
    double t0, t1, c0 = cpu_of_children();
    int status, code;
    pid_t pid;

    t0 = now();
    pid = fork();
    if (pid < 0)
        return fail("cannot fork for", argv[0]);
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);

        if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
            _exit(127);
        if (fd > 2)
            (void)close(fd);
        if (log != NULL) {
            fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                _exit(127);
            if (fd > 2)
                (void)close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return fail("cannot wait for", argv[0]);
    t1 = now();
    code = WIFEXITED(status) ? WEXITSTATUS(status)
           : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
    printf("%.6f %d %.3f\n", t1 - t0, code, cpu_of_children() - c0);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    char *end;
    unsigned long n, bytes = 1024;

    if (argc >= 5 && strcmp(argv[1], "time") == 0 &&
        strcmp(argv[2], "-o") == 0)
        return stopwatch(argv[3], argv + 4);
    if (argc >= 3 && strcmp(argv[1], "time") == 0)
        return stopwatch(NULL, argv + 2);
    if (argc < 4 || argc > 5 || strcmp(argv[1], "gen") != 0)
        return usage();
    errno = 0;
    n = strtoul(argv[3], &end, 10);
    if (errno != 0 || *end != '\0' || n == 0 || n > 1000000)
        return usage();
    if (argc == 5) {
        bytes = strtoul(argv[4], &end, 10);
        if (errno != 0 || *end != '\0' || bytes > 1048576)
            return usage();
    }
    return gen(argv[2], n, bytes);
}
