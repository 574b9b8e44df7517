/*
 * bench/stopwatch.c: times one command for bench/throughput.sh, since POSIX
 * sh has no clock finer than a second.
 *
 *     stopwatch PROG [ARG...]
 *
 * Runs PROG (found in PATH like execvp) with stdin from /dev/null, stdout
 * to /dev/null and stderr inherited, waits for it and prints one line:
 *
 *     SECONDS STATUS
 *
 * SECONDS is the wall-clock time from just before the fork to just after
 * the wait (CLOCK_MONOTONIC, microsecond precision); STATUS is the exit
 * status, or 128+N when the command died of signal N.  The stopwatch's own
 * exit status is 0 once it printed the line, 1 when it could not start or
 * wait for the command, 2 on a usage error.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double t0, t1;
    pid_t pid;
    int st, code;

    if (argc < 2) {
        fprintf(stderr, "usage: stopwatch PROG [ARG...]\n");
        return 2;
    }
    t0 = now();
    pid = fork();
    if (pid == -1) {
        fprintf(stderr, "stopwatch: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY), out = open("/dev/null",
                                                         O_WRONLY);

        if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
            _exit(126);
        if (in > 2)
            close(in);
        if (out > 2)
            close(out);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "stopwatch: %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &st, 0) == -1) {
        if (errno != EINTR) {
            fprintf(stderr, "stopwatch: waitpid: %s\n", strerror(errno));
            return 1;
        }
    }
    t1 = now();
    code = WIFEXITED(st) ? WEXITSTATUS(st)
                         : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
    printf("%.6f %d\n", t1 - t0, code);
    return 0;
}
