/* A stand-in for a central auditd on another machine, for the host-cost
 * measurement of bench/daemon_forward_bench.py (--receiver ack): it speaks
 * the receiving side of the audit remote logging protocol (a 16-byte
 * little-endian header: magic 0xff0000fe, header version 0, message version,
 * type, length, sequence; then `length` bytes of record text), answers each
 * message and heartbeat with an ACK carrying its sequence, and appends each
 * message's text and a newline to LOG, as auditd's log would hold it. It does
 * nothing else, so nearly all the CPU the receiving side takes here is gone,
 * as if the central server were elsewhere. Protocol facts from
 * linux-audit/audit-userspace lib/private.h and src/auditd-listen.c.
 *
 * Usage: remote_ack LOG   Listens on 127.0.0.1 on a port the kernel picks,
 * prints it on stdout, serves one connection after another until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HDR 16
#define MAGIC 0xff0000feu
#define TYPE_MESSAGE 0u
#define TYPE_HEARTBEAT 1u
#define TYPE_ACK 0x40000000u
#define BUF (1 << 20)

static uint32_t le32(const unsigned char *p) {
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = v >> (8 * i);
}

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Serve one connection: returns when the peer closes or breaks the protocol. */
static void serve(int fd, FILE *log) {
    static unsigned char in[BUF], acks[BUF];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, in + have, BUF - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        have += (size_t)n;
        size_t at = 0, nacks = 0;
        while (have - at >= HDR) {
            const unsigned char *h = in + at;
            uint32_t type = le32(h + 6), seq = le32(h + 12);
            size_t len = h[10] | h[11] << 8;
            if (le32(h) != MAGIC || h[4] != 0) {
                fprintf(stderr, "remote_ack: bad header\n");
                return;
            }
            if (have - at < HDR + len) break;
            if (type == TYPE_MESSAGE) {
                fwrite(h + HDR, 1, len, log);
                fputc('\n', log);
            }
            if (type == TYPE_MESSAGE || type == TYPE_HEARTBEAT) {
                unsigned char *a = acks + nacks * HDR;
                memset(a, 0, HDR);
                put32(a, MAGIC);
                a[5] = h[5];
                put32(a + 6, TYPE_ACK);
                put32(a + 12, seq);
                nacks++;
            }
            at += HDR + len;
        }
        memmove(in, in + at, have - at);
        have -= at;
        /* What arrived is in the log before it is acknowledged. */
        fflush(log);
        if (nacks && write_all(fd, acks, nacks * HDR) < 0) return;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: remote_ack LOG\n");
        return 2;
    }
    FILE *log = fopen(argv[1], "ab");
    if (!log) { perror(argv[1]); return 2; }
    setvbuf(log, NULL, _IOFBF, BUF);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 16) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) < 0) {
        perror("remote_ack: listen");
        return 2;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            perror("remote_ack: accept");
            return 2;
        }
        serve(fd, log);
        close(fd);
    }
}
