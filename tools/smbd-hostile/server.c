// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-hostile server: listens for an SMB Direct client (cifs mount -o
 * rdma), reads its negotiate request and answers it per case: a negotiate
 * response that breaks a rule of [MS-SMBD] 3.1.5.7, or a good one followed
 * by a malformed reply to the client's first data transfer (its SMB2
 * NEGOTIATE), or silence. The verdict is what the client did:
 *   disconnected     it hung up (what a conforming client does)
 *   accepted         it took the negotiate response and sent data
 *   still-connected  it kept the connection past the hold; we hung up
 *   no-connection    nobody connected in time
 *   hung-up          a hang-up case: we disconnected as the case says
 * Connections that follow the first (a client retrying) get the same
 * answer and are counted (conns=N).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbd-hostile.h"

enum { NEG, DT };

struct scase {
	const char *name;
	const char *expect;
	const char *section;
	int kind;
	int arg;
	int hold_ms;		/* 0: HOLD_MS */
};

#define HOLD_MS		10000
#define REQ_WAIT_MS	25000
#define DATA_WAIT_MS	10000
/* What we announce: our receives are SLOT_SIZE bytes. */
#define OUR_MAX_RECV	SLOT_SIZE
#define OUR_MAX_FRAG	1048576

static const struct scase cases[] = {
	{ "neg_ok", "accepted", "3.1.5.7", NEG, 0 },
	{ "neg_status_failure", "disconnected", "3.1.5.7", NEG, 1 },
	{ "neg_version_bad", "disconnected", "3.1.5.7", NEG, 2 },
	{ "neg_credits_granted_0", "disconnected", "3.1.5.7", NEG, 3 },
	{ "neg_credits_requested_0", "disconnected", "3.1.5.7", NEG, 4 },
	{ "neg_max_receive_127", "disconnected", "3.1.5.7", NEG, 5 },
	{ "neg_max_fragmented_131071", "disconnected", "3.1.5.7", NEG, 6 },
	{ "neg_preferred_send_huge", "disconnected", "3.1.5.7", NEG, 7 },
	{ "neg_preferred_send_0", "accepted", "3.1.5.7", NEG, 8 },
	{ "neg_max_read_write_0", "accepted|disconnected", "3.1.5.7", NEG, 9 },
	{ "neg_max_read_write_huge", "accepted", "3.1.5.7", NEG, 10 },
	{ "neg_short", "disconnected", "3.1.5.7", NEG, 11 },
	{ "neg_empty", "disconnected", "3.1.5.7", NEG, 12 },
	{ "neg_silence", "disconnected", "3.1.5.2", NEG, 13, 30000 },
	{ "neg_long", "accepted", "2.2.2", NEG, 14 },
	/* Nothing wrong on the wire: we hang up right after a good
	 * negotiate response, or on the client's first data transfer,
	 * racing its setup and its first send.
	 */
	{ "hangup_after_negotiate", "hung-up", "3.1.5.7", NEG, 15 },
	{ "dt_offset_beyond", "disconnected", "3.1.5.8", DT, 0 },
	{ "dt_offset_overflow", "disconnected", "3.1.5.8", DT, 1 },
	{ "dt_offset_misaligned", "disconnected", "2.2.3", DT, 2 },
	{ "dt_remaining_grows", "disconnected", "3.1.5.8", DT, 3 },
	{ "dt_too_long_buffer", "disconnected", "3.1.5.8", DT, 4 },
	{ "dt_too_long_negotiated", "disconnected", "3.1.5.8", DT, 5 },
	{ "dt_credits_requested_0", "disconnected", "3.1.5.8", DT, 6 },
	/* The point is that the client sends nothing without a credit
	 * (client_exceeded_credits would say it did); whether it gives up
	 * before we do is its upper layer's business.
	 */
	{ "dt_credits_granted_0", "disconnected|still-connected", "3.1.5.9",
	  DT, 7, 25000 },
	{ "dt_silence", "disconnected", "3.1.5.8", DT, 8, 30000 },
	{ "dt_total_too_large", "disconnected", "3.1.5.8", DT, 9 },
	{ "dt_remaining_without_data", "disconnected", "3.1.5.1", DT, 10 },
	{ "dt_short", "disconnected", "3.1.5.8", DT, 11 },
	{ "hangup_at_first_data", "hung-up", "3.1.5.8", DT, 12 },
};

#define NCASES ARRAY_SIZE(cases)

/* What one connection showed. */
struct sres {
	struct negreq req;
	int got_req;
	unsigned int data;	/* data transfers the client sent */
	u32 granted;	/* credits we granted it in all */
	const char *outcome;
	char note[96];
};

static void good_resp(struct negresp *r, const struct negreq *q)
{
	memset(r, 0, sizeof(*r));
	r->min_version = SMBD_VERSION;
	r->max_version = SMBD_VERSION;
	r->negotiated_version = SMBD_VERSION;
	r->credits_requested = 255;
	r->credits_granted = q->credits_requested < NRECV - 1 ?
			     q->credits_requested : NRECV - 1;
	r->status = STATUS_SUCCESS;
	r->max_read_write_size = 1048576;
	/* No more than the client can take (3.1.5.7). */
	r->preferred_send_size = q->max_receive_size < 1364 ?
				 q->max_receive_size : 1364;
	r->max_receive_size = OUR_MAX_RECV;
	r->max_fragmented_size = OUR_MAX_FRAG;
}

/* The negotiate response of a NEG case; its length in *len. */
static void bad_resp(u8 *b, u32 *len, const struct scase *k,
		     const struct negreq *q)
{
	struct negresp r;

	good_resp(&r, q);
	*len = NEG_RESP_LEN;
	switch (k->arg) {
	case 1:
		/* Every other field good: a client that skips the Status
		 * check (Linux 6.12's C client) goes on.
		 */
		r.status = STATUS_NOT_SUPPORTED;
		break;
	case 2:
		r.negotiated_version = 0x0200;
		break;
	case 3:
		r.credits_granted = 0;
		break;
	case 4:
		r.credits_requested = 0;
		break;
	case 5:
		r.max_receive_size = 127;
		break;
	case 6:
		r.max_fragmented_size = 131071;
		break;
	case 7:
		r.preferred_send_size = 0xffffffffu;
		break;
	case 8:
		r.preferred_send_size = 0;
		break;
	case 9:
		r.max_read_write_size = 0;
		break;
	case 10:
		r.max_read_write_size = 0xffffffffu;
		break;
	case 11:
		*len = NEG_RESP_LEN - 1;
		break;
	case 12:
		*len = 0;
		break;
	case 14:
		*len = 64;
		break;
	}
	memset(b, 0xff, 64);
	neg_resp(b, &r);
}

/* Reads what the client sends for up to ms: counts its data transfers,
 * stops at the first when stop_at_data.
 */
static void watch(struct hconn *c, struct sres *s, int ms, int stop_at_data)
{
	u64 deadline = now_ms() + ms;
	u8 buf[SLOT_SIZE];
	u32 len;

	while (now_ms() < deadline) {
		int rc = hc_recv(c, buf, &len, (int)(deadline - now_ms()));

		if (rc < 0) {
			s->outcome = "disconnected";
			return;
		}
		if (rc == 0)
			break;
		s->data++;
		if (stop_at_data) {
			s->outcome = "accepted";
			return;
		}
	}
	s->outcome = hc_broken(c) ? "disconnected" : "still-connected";
}

/* Our answer to the client's first data transfer in a DT case. */
static int bad_reply(struct hconn *c, const struct scase *k,
		     const struct negreq *q, struct sres *s)
{
	u8 b[SLOT_SIZE];
	u32 n;

	switch (k->arg) {
	case 0:
		n = dt_msg(b, 255, 1, 0, 0, DT_DATA_OFFSET, 200, 100);
		break;
	case 1:
		n = dt_msg(b, 255, 1, 0, 0, 0xfffffff8u, 16, 16);
		break;
	case 2:
		n = dt_msg(b, 255, 1, 0, 0, 28, 16, 20);
		break;
	case 3:
		n = dt_msg(b, 255, 1, 0, 100, DT_DATA_OFFSET, 100, 100);
		if (hc_send(c, b, n))
			return -1;
		n = dt_msg(b, 255, 0, 0, 100, DT_DATA_OFFSET, 100, 100);
		break;
	case 4:
		/* Longer than its receive buffers (its MaxReceiveSize). */
		n = dt_msg(b, 255, 1, 0, 0, DT_DATA_OFFSET,
			   SLOT_SIZE - DT_DATA_OFFSET,
			   SLOT_SIZE - DT_DATA_OFFSET);
		break;
	case 5:
		/* PreferredSendSize was 512: 1000 bytes break it. */
		n = dt_msg(b, 255, 1, 0, 0, DT_DATA_OFFSET, 976, 976);
		break;
	case 6:
		n = dt_msg(b, 0, 1, 0, 0, DT_DATA_OFFSET, 16, 16);
		break;
	case 7:
		/*
		 * The negotiate response granted one credit, which the
		 * SMB2 NEGOTIATE used: ask for a response and grant
		 * nothing. The client must stay silent (3.1.5.9).
		 */
		n = dt_msg(b, 255, 0, SMBD_RESPONSE_REQUESTED, 0, 0, 0, 0);
		break;
	case 8:
		return 0;
	case 9:
		snprintf(s->note, sizeof(s->note), "client max_frag=%u",
			 q->max_fragmented_size);
		n = dt_msg(b, 255, 1, 0, q->max_fragmented_size,
			   DT_DATA_OFFSET, 100, 100);
		break;
	case 10:
		n = dt_msg(b, 255, 1, 0, 100, 0, 0, 0);
		break;
	default:
		n = dt_msg(b, 255, 1, 0, 0, 0, 0, 0) - 1;
		break;
	}
	return hc_send(c, b, n);
}

/* Serves one accepted connection per case k. */
static void serve(struct hconn *c, const struct scase *k, struct sres *s)
{
	u8 b[SLOT_SIZE];
	struct negresp r;
	u32 len;
	int hold = k->hold_ms ? k->hold_ms : HOLD_MS;

	if (hc_recv(c, b, &len, REQ_WAIT_MS) != 1 || len < NEG_REQ_LEN) {
		s->outcome = hc_broken(c) ? "disconnected" : "still-connected";
		snprintf(s->note, sizeof(s->note), "no negotiate request");
		return;
	}
	s->got_req = 1;
	parse_negreq(b, &s->req);
	if (k->kind == NEG) {
		if (k->arg != 13) {
			bad_resp(b, &len, k, &s->req);
			if (hc_send(c, b, len))
				goto out;
		}
		if (k->arg == 15) {
			s->outcome = "hung-up";
			return;
		}
		watch(c, s, hold, 1);
		return;
	}
	good_resp(&r, &s->req);
	if (k->arg == 5)
		r.preferred_send_size = 512;
	if (k->arg == 7)
		r.credits_granted = 1;
	s->granted = r.credits_granted;
	neg_resp(b, &r);
	if (hc_send(c, b, NEG_RESP_LEN))
		goto out;
	/* The client's first data transfer: its SMB2 NEGOTIATE. */
	if (hc_recv(c, b, &len, DATA_WAIT_MS) != 1) {
		s->outcome = hc_broken(c) ? "disconnected" : "still-connected";
		snprintf(s->note, sizeof(s->note), "no data transfer");
		return;
	}
	s->data++;
	if (k->arg == 12) {
		s->outcome = "hung-up";
		return;
	}
	if (bad_reply(c, k, &s->req, s))
		goto out;
	watch(c, s, hold, 0);
	if (k->arg == 7 && s->data > s->granted)
		snprintf(s->note, sizeof(s->note),
			 "client_exceeded_credits granted=%u", s->granted);
	return;
out:
	s->outcome = "disconnected";
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: smbd-hostile server --listen IP [--port 445|5445]\n"
		"       --case NAME [--timeout S] [--linger MS] [--list]\n");
}

int server_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'L' },
		{ "port", required_argument, NULL, 'p' },
		{ "case", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "linger", required_argument, NULL, 'g' },
		{ "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ip = NULL, *want = NULL;
	const struct scase *k = NULL;
	struct rdma_event_channel *lec;
	struct rdma_cm_id *lid;
	int port = 445, timeout_s = 60, linger_ms = 1000, o, conns = 0;
	struct sres first = { 0 };
	u64 t0, end, t_end = 0;
	size_t i;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'L':
			ip = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			want = optarg;
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'g':
			linger_ms = atoi(optarg);
			break;
		case 'l':
			for (i = 0; i < NCASES; i++)
				printf("%s expect=%s section=%s\n",
				       cases[i].name, cases[i].expect,
				       cases[i].section);
			return 0;
		default:
			usage();
			return 2;
		}
	}
	for (i = 0; want && i < NCASES; i++)
		if (!strcmp(want, cases[i].name))
			k = &cases[i];
	if (!ip || !k) {
		usage();
		return 2;
	}
	if (hc_listen(&lec, &lid, ip, port)) {
		fprintf(stderr, "smbd-hostile: cannot listen on %s:%d: %m\n",
			ip, port);
		return 1;
	}
	/* Ready: the caller may start the client now. */
	fprintf(stderr, "smbd-hostile: listening on %s:%d case %s\n", ip,
		port, k->name);
	t0 = now_ms();
	end = t0 + (u64)timeout_s * 1000;
	first.outcome = "no-connection";
	while (now_ms() < end) {
		struct hconn c;
		struct sres s = { 0 };
		int wait = (int)(end - now_ms());
		int rc;

		/* After the first connection, only a retry's worth. */
		if (conns && wait > linger_ms)
			wait = linger_ms;
		rc = hc_accept(&c, lec, wait);
		if (rc == 0) {
			hc_close(&c);
			break;
		}
		conns++;
		if (rc < 0) {
			s.outcome = "accept-failed";
			snprintf(s.note, sizeof(s.note), "%s", c.cm_why);
		} else {
			if (conns == 1)
				t0 = now_ms();
			serve(&c, k, &s);
		}
		hc_close(&c);
		if (conns == 1) {
			first = s;
			t_end = now_ms();
		}
	}
	/* time_ms: from the first connection to its end. */
	if (t_end)
		t0 = now_ms() - (t_end - t0);
	verdict("server", k->name, first.outcome, k->expect, t0,
		"conns=%d client_data=%u req=%s%x-%x,cr%u,ps%u,mr%u,mf%u %s",
		conns, first.data, first.got_req ? "" : "none:",
		first.req.min_version, first.req.max_version,
		first.req.credits_requested, first.req.preferred_send_size,
		first.req.max_receive_size, first.req.max_fragmented_size,
		first.note);
	rdma_destroy_id(lid);
	rdma_destroy_event_channel(lec);
	return 0;
}
