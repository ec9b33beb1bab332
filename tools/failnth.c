// SPDX-License-Identifier: GPL-2.0-only
/*
 * failnth: walk every fault point of one write(2), as syzkaller does.
 *
 *   failnth FILE VALUE [MAX]
 *
 * For n = 1, 2, ...: arm /proc/self/task/<tid>/fail-nth with n, write VALUE
 * to FILE (already open, so only the write itself is walked), and read
 * fail-nth back: 0 means the n-th fault point of the write failed; anything
 * else means the write had fewer than n fault points and the walk is over.
 * The smbdirect_rs self tests run inside such a write (the module's "run"
 * parameter), so every allocation they make fails once, in turn.
 *
 * Prints one line per step, "step N injected=0|1 write=OK|-ERRNO", then
 * "failnth: steps=N injected=N write_errors=N".
 * Exit status: 0 when the walk ended by itself, 1 on a usage or I/O error,
 * 2 when MAX steps were reached first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int arm(int fd, long n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -1;
}

int main(int argc, char **argv)
{
	long max = argc > 3 ? strtol(argv[3], NULL, 10) : 100000;
	long n, injected = 0, errors = 0;
	char path[64], buf[32];
	int nth, target;

	if (argc < 3) {
		fprintf(stderr, "usage: %s FILE VALUE [MAX]\n", argv[0]);
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	nth = open(path, O_RDWR);
	target = open(argv[1], O_WRONLY);
	if (nth < 0 || target < 0) {
		perror("failnth: open");
		return 1;
	}
	for (n = 1; n <= max; n++) {
		ssize_t ret, len;
		int err;

		if (arm(nth, n)) {
			perror("failnth: arm");
			return 1;
		}
		ret = pwrite(target, argv[2], strlen(argv[2]), 0);
		err = errno;
		len = pread(nth, buf, sizeof(buf) - 1, 0);
		/* Disarm before anything else can allocate. */
		arm(nth, 0);
		if (len <= 0) {
			perror("failnth: read back");
			return 1;
		}
		buf[len] = 0;
		if (ret < 0)
			errors++;
		printf("step %ld injected=%d write=%s%s\n", n, atoi(buf) == 0,
		       ret < 0 ? "-" : "OK", ret < 0 ? strerror(err) : "");
		fflush(stdout);
		if (atoi(buf) != 0)
			break;
		injected++;
	}
	printf("failnth: steps=%ld injected=%ld write_errors=%ld\n",
	       n > max ? max : n, injected, errors);
	return n > max ? 2 : 0;
}
