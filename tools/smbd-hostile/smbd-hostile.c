// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-hostile: a hostile [MS-SMBD] (SMB Direct) peer for testing the
 * kernel's transports, as a client against a server or as a server that a
 * client mounts against. See Documentation/hostile.md for the catalogue.
 *
 *   smbd-hostile client --server IP [--port N] --case NAME|--all
 *                       [--random K --seed N] [--list]
 *   smbd-hostile server --listen IP [--port N] --case NAME [--list]
 *
 * Each case prints one line:
 *   case NAME: outcome=WHAT expect=WHAT time_ms=N detail=...
 * The exit status is 0 when every case ran, whatever the verdicts (the
 * caller judges them); non-zero only for the tool's own failure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbd-hostile.h"

int verbose;

void verdict(const char *role, const char *name, const char *outcome,
	     const char *expect, u64 t0, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	char *p;

	(void)role;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* One line, whatever the detail holds. */
	for (p = detail; *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("case %s: outcome=%s expect=%s time_ms=%llu detail=%s\n", name,
	       outcome, expect, (unsigned long long)(now_ms() - t0), detail);
	fflush(stdout);
}

/* Fails early, with a clear message, on a machine without RDMA. */
static int have_device(void)
{
	struct ibv_device **l;
	int n = 0;

	l = ibv_get_device_list(&n);
	if (l)
		ibv_free_device_list(l);
	return n > 0;
}

int main(int argc, char **argv)
{
	int list = argc > 2 && !strcmp(argv[2], "--list");

	if (argc < 2) {
		fprintf(stderr, "usage: smbd-hostile client|server ...\n");
		return 2;
	}
	/* Unbuffered verdicts even through a pipe: a killed run keeps them. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!list && !have_device()) {
		fprintf(stderr, "smbd-hostile: no RDMA device\n");
		return 1;
	}
	if (!strcmp(argv[1], "client"))
		return client_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "server"))
		return server_main(argc - 1, argv + 1);
	fprintf(stderr, "smbd-hostile: unknown role %s\n", argv[1]);
	return 2;
}
