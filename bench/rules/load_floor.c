/* The kernel's floor for bench/rules/bench_load_rules.py: add already encoded rules
 * (struct audit_rule_data payloads, no parsing) over a bare NETLINK_AUDIT socket, in
 * batches of B requests per datagram, the last one asking for an ack (the kernel
 * acks a refused request anyway), as load_rules does.
 * What is left is the kernel's own work per rule (audit_rule_change: the copy, the
 * duplicate check against the rules of the same list, the CONFIG_CHANGE record)
 * plus the syscalls.
 *
 * Usage: load_floor RULES_FILE [B [unconnected]]
 *   RULES_FILE: records of (u32 length, native endian; payload), one per rule.
 *   unconnected: address each datagram to the kernel instead of connect()ing
 *   the socket to it first (auditlink's client connects; this measures what
 *   that costs or saves).
 * Prints "rules total_seconds send_seconds": total from socket() to close(), send
 * the time spent inside send() (where the kernel adds the rules).
 * Exits 1 if any rule is refused. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    size_t cap = 1 << 20, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Wait for the ack of request `last`; returns the number of refused requests. */
static int take_acks(int fd, uint32_t last) {
    static unsigned char buf[1 << 16];
    int refused = 0, done = 0;
    while (!done) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("recv");
            exit(2);
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type != NLMSG_ERROR) continue;
            struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error != 0) refused++;
            if (h->nlmsg_seq == last) done = 1;
        }
    }
    return refused;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: load_floor RULES_FILE [B]\n"); return 2; }
    int per_batch = argc > 2 ? atoi(argv[2]) : 48;
    int connected = !(argc > 3 && strcmp(argv[3], "unconnected") == 0);
    size_t len;
    unsigned char *in = read_all(argv[1], &len);
    unsigned char *out = malloc(len + 64 * (len / 4 + 1));

    double t0 = now(), in_send = 0;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (fd < 0) { perror("socket"); return 2; }
    int one = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (connected && connect(fd, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        perror("connect");
        return 2;
    }

    int rules = 0, refused = 0, in_batch = 0;
    size_t used = 0, pos = 0;
    uint32_t seq = 1;
    while (pos + 4 <= len) {
        uint32_t n;
        memcpy(&n, in + pos, 4);
        pos += 4;
        if (pos + n > len) { fprintf(stderr, "truncated rules file\n"); return 2; }
        struct nlmsghdr *h = (struct nlmsghdr *)(out + used);
        h->nlmsg_len = NLMSG_LENGTH(n);
        h->nlmsg_type = AUDIT_ADD_RULE;
        h->nlmsg_flags = NLM_F_REQUEST;
        h->nlmsg_seq = seq++;
        h->nlmsg_pid = 0;
        memcpy(NLMSG_DATA(h), in + pos, n);
        used += NLMSG_ALIGN(h->nlmsg_len);
        pos += n;
        rules++;
        in_batch++;
        if (in_batch == per_batch || pos + 4 > len) {
            h->nlmsg_flags |= NLM_F_ACK;
            double s = now();
            if (sendto(fd, out, used, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)used) {
                perror("send");
                return 2;
            }
            in_send += now() - s;
            refused += take_acks(fd, h->nlmsg_seq);
            used = 0;
            in_batch = 0;
        }
    }
    close(fd);
    double t1 = now();
    printf("%d %.6f %.6f\n", rules, t1 - t0, in_send);
    return refused ? 1 : 0;
}
