/* Reference for bench/status_roundtrip.py: N get-status round trips with libaudit
 * (audit_request_status + audit_get_reply), the way auditctl -s does one.
 * Usage: status_c N   -> prints "round_trips seconds" */
#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000;
    int fd = audit_open();
    if (fd < 0) { perror("audit_open"); return 1; }
    struct audit_reply rep;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (audit_request_status(fd) <= 0) { fprintf(stderr, "request failed\n"); return 1; }
        /* Skip anything that is not the status reply (libaudit already consumed the ack). */
        for (;;) {
            int rc = audit_get_reply(fd, &rep, GET_REPLY_BLOCKING, 0);
            if (rc <= 0) { fprintf(stderr, "get_reply failed %d\n", rc); return 1; }
            if (rep.type == AUDIT_GET) break;
        }
    }
    double t1 = now();
    printf("%ld %.6f\n", n, t1 - t0);
    audit_close(fd);
    return 0;
}
