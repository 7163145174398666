/* Reference for bench/records/bench.py: libauparse walks every event, record
 * and field of an audit log and interprets every field (auparse_interpret_field,
 * the default TTY escaping), as a consumer of interpreted records must.
 *
 * Build: gcc -O2 -o auparse_walk auparse_walk.c -lauparse -laudit
 * Run:   ./auparse_walk LOG   -> "records=N fields=N seconds=S"
 */
#include <auparse.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s LOG\n", argv[0]);
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	auparse_state_t *au = auparse_init(AUSOURCE_FILE, argv[1]);
	if (au == NULL) {
		perror("auparse_init");
		return 1;
	}
	unsigned long records = 0, fields = 0, bytes = 0;
	while (auparse_next_event(au) > 0) {
		do {
			records++;
			if (auparse_first_field(au) <= 0)
				continue;
			do {
				const char *v = auparse_interpret_field(au);
				if (v)
					bytes += strlen(v);
				fields++;
			} while (auparse_next_field(au) > 0);
		} while (auparse_next_record(au) > 0);
	}
	auparse_destroy(au);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("records=%lu fields=%lu bytes=%lu seconds=%.3f\n", records, fields, bytes, s);
	return 0;
}
