/* Reference receiver for bench/stream_bench.py: registers as the audit daemon
 * (libaudit audit_set_pid), then a plain recv() loop, touching each record's type
 * and bytes. Stops after `expect` records or `idle_ms` without one (bounded).
 * Prints JSON: records, bytes, seconds (first to last record), rss_kb.
 * Usage: recv_c EXPECT IDLE_MS RCVBUF_BYTES */
#include <errno.h>
#include <libaudit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long expect = argc > 1 ? atol(argv[1]) : 600000;
    int idle_ms = argc > 2 ? atoi(argv[2]) : 2000;
    int rcvbuf = argc > 3 ? atoi(argv[3]) : 0;
    int fd = audit_open();
    if (fd < 0) { perror("audit_open"); return 1; }
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    if (audit_set_pid(fd, getpid(), WAIT_YES) <= 0) { fprintf(stderr, "set_pid failed\n"); return 1; }
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    printf("ready\n");
    fflush(stdout);
    static char buf[65536];
    long records = 0, bytes = 0, overruns = 0;
    unsigned long touch = 0;
    double first = 0, last = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (records < expect) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) { overruns++; continue; }
            if (errno != EAGAIN && errno != EINTR) { perror("recv"); break; }
            int r = poll(&p, 1, records ? idle_ms : 30000);
            if (r == 0) break; /* idle: the burst is over */
            continue;
        }
        if (n < (ssize_t)sizeof(struct nlmsghdr)) continue;
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (h->nlmsg_seq != 0 || h->nlmsg_type < 1100) continue; /* acks/replies */
        /* touch type and data, like the Python consumer does */
        touch += h->nlmsg_type + (unsigned char)buf[n - 1];
        bytes += n - NLMSG_HDRLEN;
        if (!records) first = now();
        records++;
        last = now();
    }
    audit_set_pid(fd, 0, WAIT_NO);
    long rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) { long size; if (fscanf(f, "%ld %ld", &size, &rss) != 2) rss = 0; fclose(f); }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6
               + (ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec) + (ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf("{\"records\": %ld, \"bytes\": %ld, \"seconds\": %.6f, \"overruns\": %ld, "
           "\"rss_kb\": %ld, \"touch\": %lu, \"cpu\": %.6f, \"csw\": %ld}\n",
           records, bytes, last - first, overruns, rss * (sysconf(_SC_PAGESIZE) / 1024), touch,
           cpu, ru.ru_nvcsw + ru.ru_nivcsw - ru0.ru_nvcsw - ru0.ru_nivcsw);
    audit_close(fd);
    return 0;
}
