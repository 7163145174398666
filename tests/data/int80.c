/* 32-bit (compat) syscalls from a 64-bit process through `int $0x80`, for the
 * records corpus: the kernel audits them with arch=i386 (0x40000003) and the
 * i386 syscall numbers. Build: gcc -O0 -no-pie -o int80 int80.c
 * (no-pie keeps the strings below 4 GiB, where 32-bit pointers reach them). */
#include <stdio.h>

static char path[] = "/etc/hostname";
static unsigned int sock_args[3] = {2 /* AF_INET */, 1 /* SOCK_STREAM */, 0};

static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory");
	return ret;
}

int main(void)
{
	/* i386: 5 = open, 6 = close, 102 = socketcall (1 = SYS_SOCKET) */
	long fd = int80(5, (long)path, 0, 0);
	if (fd >= 0)
		int80(6, fd, 0, 0);
	long s = int80(102, 1, (long)sock_args, 0);
	if (s >= 0)
		int80(6, s, 0, 0);
	printf("open=%ld socket=%ld\n", fd, s);
	return 0;
}
