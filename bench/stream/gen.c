/* Audited load generator for bench/stream_bench.py.
 * Waits for a line on stdin (so the driver can install a rule matching this pid),
 * then makes N getppid() syscalls and prints "calls seconds cpu-seconds" (wall time,
 * then the time it was on a CPU: the rest it waited, runnable or blocked). Bounded: N calls. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 1;
    struct timespec a, b, ca, cb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ca);
    for (long i = 0; i < n; i++) syscall(SYS_getppid);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cb);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%ld %.9f %.9f\n", n, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
           (cb.tv_sec - ca.tv_sec) + (cb.tv_nsec - ca.tv_nsec) / 1e9);
    return 0;
}
