// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-hostile client: connects to an SMB Direct server and breaks one
 * rule of [MS-SMBD] per connection. The catalogue below says for each case
 * what it sends and what a conforming server must do (expect=): refuse a
 * negotiate request with a failure Status (3.1.5.6), disconnect (3.1.5.6,
 * 3.1.5.8: "the connection MUST be terminated"), or keep a connection
 * whose messages are unusual but legal.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbd-hostile.h"

#define HOLD_MS		3000	/* how long a kept connection is watched */
#define NEG_WAIT_MS	3000	/* for the negotiate response */
#define CONNECT_MS	10000

struct cctx {
	struct hconn c;
	struct negresp resp;
	int negotiated;		/* a response with STATUS_SUCCESS came */
	int refused;		/* a response with another Status came */
	u64 t0;		/* when the offending message left */
	int hold_ms;
	char detail[200];
};

struct ccase {
	const char *name;
	const char *expect;	/* outcomes a conforming server may give */
	const char *section;
	int (*run)(struct cctx *x, const struct ccase *k);
	/* Negotiate request fields, for the negotiate cases. */
	u16 min, max, credits;
	u32 pref, maxrecv, maxfrag, len;
	long arg;
	int optin;
};

static const char *server_ip;
static int port = 445;
static int hold_ms = HOLD_MS;

/* Waits for the negotiate response: 0 accepted, 1 refused, -1 none. */
static int await_response(struct cctx *x, int ms)
{
	u8 buf[SLOT_SIZE];
	u32 len;

	if (hc_recv(&x->c, buf, &len, ms) != 1)
		return -1;
	if (len < NEG_RESP_LEN) {
		snprintf(x->detail, sizeof(x->detail),
			 "negotiate response of %u bytes", len);
		return -1;
	}
	parse_negresp(buf, &x->resp);
	if (x->resp.status != STATUS_SUCCESS) {
		x->refused = 1;
		return 1;
	}
	x->negotiated = 1;
	/* Our receives, all posted and none granted yet: the next message
	 * grants all but one.
	 */
	x->c.grant_owed = NRECV - 1;
	return 0;
}

static int negotiate(struct cctx *x, u16 credits, u32 pref)
{
	u8 req[NEG_REQ_LEN];

	neg_req(req, SMBD_VERSION, SMBD_VERSION, credits, pref, SLOT_SIZE,
		1048576);
	if (hc_send(&x->c, req, sizeof(req)))
		return -1;
	return await_response(x, NEG_WAIT_MS);
}

/* One data transfer message; the payload length is given separately from
 * what DataOffset/DataLength claim.
 */
static int send_dt(struct cctx *x, u16 credits, u16 granted,
		   u16 flags, u32 remaining, u32 offset,
		   u32 length, u32 payload)
{
	u8 b[SLOT_SIZE];
	u32 n = dt_msg(b, credits, granted, flags, remaining, offset,
			    length, payload);

	return hc_send(&x->c, b, n);
}

static int run_neg(struct cctx *x, const struct ccase *k)
{
	u8 req[64];

	memset(req, 0xff, sizeof(req));
	neg_req(req, k->min, k->max, k->credits, k->pref, k->maxrecv,
		k->maxfrag);
	x->t0 = now_ms();
	if (hc_send(&x->c, req, k->len))
		return -1;
	await_response(x, NEG_WAIT_MS);
	return 0;
}

/* Data transfer cases: a good negotiate first. */
static int setup(struct cctx *x, u16 credits, u32 pref)
{
	int rc = negotiate(x, credits, pref);

	if (rc)
		snprintf(x->detail, sizeof(x->detail),
			 "the first negotiate %s",
			 rc > 0 ? "was refused" : "got no response");
	x->t0 = now_ms();
	return rc ? -1 : 0;
}

static int run_dt(struct cctx *x, const struct ccase *k)
{
	u8 b[SLOT_SIZE];
	u16 g;

	if (setup(x, 255, k->arg == 11 ? 256 : 1364))
		return -1;
	g = take_grant(&x->c);
	switch (k->arg) {
	case 0:		/* a good empty message (control) */
		return send_dt(x, 32, g, 0, 0, 0, 0, 0);
	case 1:		/* shorter than the 20-byte header */
		dt_msg(b, 32, g, 0, 0, 0, 0, 0);
		return hc_send(&x->c, b, DT_HDR_LEN - 1);
	case 2:		/* an empty Send: no header at all */
		return hc_send(&x->c, b, 0);
	case 3:		/* DataOffset + DataLength past the bytes sent */
		return send_dt(x, 32, g, 0, 0, DT_DATA_OFFSET, 200, 100);
	case 4:		/* DataOffset + DataLength wraps 32 bits */
		return send_dt(x, 32, g, 0, 0, 0xfffffff8u, 16, 16);
	case 5:		/* DataOffset not a multiple of 8 */
		return send_dt(x, 32, g, 0, 0, 28, 16, 20);
	case 6:		/* DataOffset inside the header */
		return send_dt(x, 32, g, 0, 0, 8, 8, 0);
	case 7:		/* RemainingDataLength without data */
		return send_dt(x, 32, g, 0, 100, 0, 0, 0);
	case 8:		/* CreditsRequested 0 */
		return send_dt(x, 0, g, 0, 0, DT_DATA_OFFSET, 16, 16);
	case 9:		/* the total grows between fragments */
		if (send_dt(x, 32, g, 0, 100, DT_DATA_OFFSET, 100, 100))
			return -1;
		return send_dt(x, 32, 0, 0, 100, DT_DATA_OFFSET, 100, 100);
	case 10:	/* the total shrinks: the last fragment comes early */
		if (send_dt(x, 32, g, 0, 200, DT_DATA_OFFSET, 100, 100))
			return -1;
		return send_dt(x, 32, 0, 0, 0, DT_DATA_OFFSET, 100, 100);
	case 11:	/* longer than the negotiated MaxReceiveSize (256) */
		snprintf(x->detail, sizeof(x->detail),
			 "server max_receive_size=%u sent=512",
			 x->resp.max_receive_size);
		return send_dt(x, 32, g, 0, 0, DT_DATA_OFFSET, 488, 488);
	case 12:	/* longer than any receive buffer of the server */
		return send_dt(x, 32, g, 0, 0, DT_DATA_OFFSET,
			       SLOT_SIZE - DT_DATA_OFFSET,
			       SLOT_SIZE - DT_DATA_OFFSET);
	case 13:	/* a message total past the server's MaxFragmentedSize */
		snprintf(x->detail, sizeof(x->detail),
			 "server max_fragmented_size=%u",
			 x->resp.max_fragmented_size);
		return send_dt(x, 32, g, 0, x->resp.max_fragmented_size,
			       DT_DATA_OFFSET, 100, 100);
	case 14:	/* DataLength + RemainingDataLength wraps 32 bits */
		return send_dt(x, 32, g, 0, 0xffffffffu, DT_DATA_OFFSET,
			       100, 100);
	case 15:	/* half a message, then we hang up */
		return send_dt(x, 32, g, 0, 100, DT_DATA_OFFSET, 100, 100);
	case 16:	/* a second negotiate request */
		neg_req(b, SMBD_VERSION, SMBD_VERSION, 255, 1364, SLOT_SIZE,
			1048576);
		return hc_send(&x->c, b, NEG_REQ_LEN);
	}
	return -1;
}

/*
 * Zeroes the @len bytes of an SMB2 request at @p and writes its 64-byte
 * sync header: @command, @charge credits charged, @request credits asked
 * for, MessageId @mid.
 */
static void smb2_header(u8 *p, u32 len, u16 command, u16 charge, u16 request,
			u64 mid)
{
	memset(p, 0, len);
	p[0] = 0xfe;
	p[1] = 'S';
	p[2] = 'M';
	p[3] = 'B';
	put16(p + 4, 64);	/* StructureSize */
	put16(p + 6, charge);	/* CreditCharge */
	put16(p + 12, command);
	put16(p + 14, request);	/* CreditRequest */
	put32(p + 24, (u32)mid);	/* MessageId */
	put32(p + 28, (u32)(mid >> 32));
}

/*
 * An SMB2 NEGOTIATE request offering SMB 3.0.2 alone (no negotiate
 * contexts), as the payload of one data transfer message: the server's
 * upper layer answers it, so a response is on its way when we hang up.
 */
static int send_smb2_negotiate(struct cctx *x, u16 granted)
{
	u8 b[SLOT_SIZE];
	u8 *p = b + DT_DATA_OFFSET;
	const u32 len = 64 + 36 + 2;
	u32 n = dt_msg(b, 32, granted, SMBD_RESPONSE_REQUESTED, 0,
		       DT_DATA_OFFSET, len, len);

	smb2_header(p, len, 0x0000, 0, 1, 0);	/* NEGOTIATE */
	put16(p + 64, 36);	/* NEGOTIATE StructureSize */
	put16(p + 66, 1);	/* DialectCount */
	put16(p + 68, 1);	/* SecurityMode: signing enabled */
	memset(p + 76, 0x5a, 16);	/* ClientGuid */
	put16(p + 100, 0x0302);	/* Dialects[0] */
	return hc_send(&x->c, b, n);
}

/* An SMB2 ECHO request (allowed before a session) with MessageId @mid. */
static int send_smb2_echo(struct cctx *x, u64 mid)
{
	u8 b[SLOT_SIZE];
	u8 *p = b + DT_DATA_OFFSET;
	const u32 len = 64 + 4;
	u32 n = dt_msg(b, 32, take_grant(&x->c), 0, 0, DT_DATA_OFFSET, len,
		       len);

	smb2_header(p, len, 0x000d, 1, 8, mid);	/* ECHO */
	put16(p + 64, 4);	/* ECHO StructureSize */
	return hc_send(&x->c, b, n);
}

/*
 * Waits up to NEG_WAIT_MS for a message carrying data (an SMB2 response),
 * counting the send credits granted on the way; 1 when one came.
 */
static int await_data(struct cctx *x)
{
	u64 deadline = now_ms() + NEG_WAIT_MS;
	u8 buf[SLOT_SIZE];
	u32 len;

	while (now_ms() < deadline &&
	       hc_recv(&x->c, buf, &len, (int)(deadline - now_ms())) == 1) {
		if (len >= DT_HDR_LEN)
			x->c.send_credits += get16(buf + 2);
		if (len >= DT_DATA_OFFSET && get32(buf + 16) > 0) {
			snprintf(x->detail, sizeof(x->detail),
				 "hung up on a response of %u bytes", len);
			return 1;
		}
	}
	return 0;
}

/* The SMB2 ECHOs of hangup_after_echoes. */
#define HANGUP_ECHOES 8

/*
 * Hang-up cases: a good negotiate, then we disconnect at once (arg 0),
 * right after an SMB2 NEGOTIATE whose response the server is about to send
 * (arg 1), as its response arrives (arg 2), or right after a burst of SMB2
 * ECHOs that follows it, their responses on their way (arg 3: the hang-up
 * after the Nth data message). Nothing is wrong on the wire; the server's
 * teardown races its own receives, sends and hand-offs to the upper layer.
 */
static int run_hangup(struct cctx *x, const struct ccase *k)
{
	unsigned int i, sent = 0;

	if (setup(x, 255, 1364))
		return -1;
	x->c.send_credits = x->resp.credits_granted;
	if (k->arg >= 1) {
		if (send_smb2_negotiate(x, take_grant(&x->c)))
			return -1;
		x->c.send_credits--;
	}
	/* Credit grants (no data) may come first: wait for the response. */
	if (k->arg >= 2)
		await_data(x);
	for (i = 0; k->arg == 3 && i < HANGUP_ECHOES; i++) {
		if (!x->c.send_credits)
			absorb(&x->c, 100, NULL);
		if (!x->c.send_credits || send_smb2_echo(x, i + 1))
			break;
		x->c.send_credits--;
		sent++;
	}
	if (k->arg == 3)
		snprintf(x->detail, sizeof(x->detail),
			 "hung up after %u SMB2 ECHOs", sent);
	x->c.closing = 1;
	rdma_disconnect(x->c.id);
	return 0;
}

/* A data transfer message where the negotiate request belongs. */
static int run_dt_first(struct cctx *x, const struct ccase *k)
{
	(void)k;
	x->t0 = now_ms();
	if (send_dt(x, 255, 63, 0, 0, DT_DATA_OFFSET, 8, 8))
		return -1;
	await_response(x, NEG_WAIT_MS);
	return 0;
}

static int run_credits(struct cctx *x, const struct ccase *k)
{
	u32 i, g;

	if (setup(x, k->arg == 0 ? 4 : 255, 1364))
		return -1;
	g = x->resp.credits_granted;
	switch (k->arg) {
	case 0:
		/*
		 * More messages than the credits granted, granting the
		 * server none, so that it cannot grant us more.
		 */
		snprintf(x->detail, sizeof(x->detail),
			 "granted=%u sent=%u", g, g + 2);
		for (i = 0; i < g + 2; i++)
			if (send_dt(x, 4, 0, 0, 0, 0, 0, 0))
				return -1;
		return 0;
	case 1:		/* 65535 credits in one grant */
		return send_dt(x, 32, 0xffff, 0, 0, 0, 0, 0);
	case 2:		/* two grants of 65535: the sum overflows */
		if (send_dt(x, 32, 0xffff, 0, 0, 0, 0, 0))
			return -1;
		return send_dt(x, 32, 0xffff, 0, 0, 0, 0, 0);
	case 3:		/* more than the server asked for */
		snprintf(x->detail, sizeof(x->detail),
			 "server requested=%u granted=%u",
			 x->resp.credits_requested,
			 x->resp.credits_requested + 100);
		return send_dt(x, 32, x->resp.credits_requested + 100, 0, 0,
			       0, 0, 0);
	}
	return -1;
}

/*
 * Keepalive flood: empty messages with SMB_DIRECT_RESPONSE_REQUESTED, as
 * fast as the server's credits allow, every grant of ours backed by a
 * posted receive: a legal, if rude, peer (3.1.5.8 says a response is sent
 * "as soon as possible", not one per request).
 */
static int run_flood(struct cctx *x, const struct ccase *k)
{
	u64 deadline;
	unsigned int replies = 0;
	long sent = 0;

	if (setup(x, 255, 1364))
		return -1;
	x->c.send_credits = x->resp.credits_granted;
	deadline = now_ms() + 60000;
	while (sent < k->arg && now_ms() < deadline) {
		absorb(&x->c, 0, &replies);
		if (hc_broken(&x->c))
			break;
		if (!x->c.send_credits) {
			absorb(&x->c, 100, &replies);
			continue;
		}
		if (send_dt(x, 32, take_grant(&x->c), SMBD_RESPONSE_REQUESTED,
			    0, 0, 0, 0))
			break;
		x->c.send_credits--;
		sent++;
	}
	absorb(&x->c, 500, &replies);
	snprintf(x->detail, sizeof(x->detail),
		 "sent=%ld server_msgs=%u of_which_requesting=%u%s", sent,
		 x->c.peer_msgs, replies,
		 x->c.peer_msgs > x->c.granted ? " server_exceeded_credits" :
						 "");
	return 0;
}

static int run_silence(struct cctx *x, const struct ccase *k)
{
	(void)k;
	x->t0 = now_ms();
	x->hold_ms = 130000;
	return 0;
}

#define NEG(n, e, s, mi, ma, cr, pr, mr, mf, l) \
	{ n, e, s, run_neg, mi, ma, cr, pr, mr, mf, l, 0, 0 }
#define DT(n, e, s, a) { n, e, s, run_dt, .arg = a }
#define CR(n, e, s, a) { n, e, s, run_credits, .arg = a }

static const struct ccase cases[] = {
	NEG("neg_ok", "still-connected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 255, 1364, SLOT_SIZE, 1048576, 20),
	NEG("neg_version_high", "refused", "3.1.5.6",
	    0x0200, 0x0200, 255, 1364, SLOT_SIZE, 1048576, 20),
	NEG("neg_version_low", "refused", "3.1.5.6",
	    0x0001, 0x00ff, 255, 1364, SLOT_SIZE, 1048576, 20),
	NEG("neg_version_inverted", "refused", "3.1.5.6",
	    0x0200, 0x0001, 255, 1364, SLOT_SIZE, 1048576, 20),
	NEG("neg_version_wide", "still-connected", "3.1.5.6",
	    0x0001, 0x0200, 255, 1364, SLOT_SIZE, 1048576, 20),
	NEG("neg_short", "disconnected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 255, 1364, SLOT_SIZE, 1048576, 19),
	NEG("neg_empty", "disconnected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 255, 1364, SLOT_SIZE, 1048576, 0),
	NEG("neg_long", "still-connected", "2.2.1",
	    SMBD_VERSION, SMBD_VERSION, 255, 1364, SLOT_SIZE, 1048576, 64),
	NEG("neg_credits_0", "disconnected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 0, 1364, SLOT_SIZE, 1048576, 20),
	NEG("neg_credits_65535", "still-connected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 65535, 1364, SLOT_SIZE, 1048576, 20),
	NEG("neg_max_receive_127", "disconnected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 255, 1364, 127, 1048576, 20),
	NEG("neg_max_fragmented_131071", "disconnected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 255, 1364, SLOT_SIZE, 131071, 20),
	NEG("neg_preferred_send_0", "still-connected", "3.1.5.6",
	    SMBD_VERSION, SMBD_VERSION, 255, 0, SLOT_SIZE, 1048576, 20),
	{ "dt_before_negotiate", "refused|disconnected", "3.1.5.6",
	  run_dt_first },
	DT("dt_second_negotiate", "disconnected", "3.1.5.8", 16),
	DT("dt_valid_empty", "still-connected", "3.1.5.8", 0),
	DT("dt_short", "disconnected", "3.1.5.8", 1),
	DT("dt_empty_send", "disconnected", "3.1.5.8", 2),
	DT("dt_offset_beyond", "disconnected", "3.1.5.8", 3),
	DT("dt_offset_overflow", "disconnected", "3.1.5.8", 4),
	DT("dt_offset_misaligned", "disconnected", "2.2.3", 5),
	DT("dt_offset_in_header", "disconnected", "2.2.3", 6),
	DT("dt_remaining_without_data", "disconnected", "3.1.5.1", 7),
	DT("dt_credits_requested_0", "disconnected", "3.1.5.8", 8),
	DT("dt_remaining_grows", "disconnected", "3.1.5.8", 9),
	DT("dt_remaining_shrinks", "disconnected", "3.1.5.8", 10),
	DT("dt_too_long_negotiated", "disconnected", "3.1.5.8", 11),
	DT("dt_too_long_buffer", "disconnected", "3.1.5.8", 12),
	DT("dt_total_too_large", "disconnected", "3.1.5.8", 13),
	DT("dt_remaining_overflow", "disconnected", "3.1.5.8", 14),
	DT("dt_hangup_mid_message", "still-connected", "3.1.5.8", 15),
	CR("credits_exceeded", "disconnected", "3.1.5.8", 0),
	CR("credits_granted_65535", "still-connected", "3.1.5.9", 1),
	CR("credits_overflow", "disconnected", "3.1.5.9", 2),
	CR("credits_more_than_requested", "still-connected", "3.1.5.9", 3),
	{ "hangup_after_negotiate", "disconnected", "3.1.5.6", run_hangup,
	  .arg = 0 },
	{ "hangup_after_request", "disconnected", "3.1.5.8", run_hangup,
	  .arg = 1 },
	{ "hangup_at_response", "disconnected", "3.1.5.8", run_hangup,
	  .arg = 2 },
	{ "hangup_after_echoes", "disconnected", "3.1.5.8", run_hangup,
	  .arg = 3 },
	{ "keepalive_flood", "still-connected", "3.1.5.8", run_flood,
	  .arg = 2000 },
	{ "silence", "disconnected", "3.1.5.6", run_silence, .optin = 1 },
};

#define NCASES ARRAY_SIZE(cases)

/* Runs one case on a fresh connection and prints its verdict. */
static void run_case(const struct ccase *k)
{
	struct cctx x;
	char outcome[48];
	int rc;

	memset(&x, 0, sizeof(x));
	x.hold_ms = hold_ms;
	x.t0 = now_ms();
	if (hc_connect(&x.c, server_ip, port, CONNECT_MS)) {
		verdict("client", k->name, "connect-failed", k->expect, x.t0,
			"%s", x.c.cm_why);
		hc_close(&x.c);
		return;
	}
	rc = k->run(&x, k);
	if (rc && !hc_broken(&x.c) && !x.detail[0])
		snprintf(x.detail, sizeof(x.detail), "could not send");
	/* The hold counts from the offending message: a server that
	 * neither answered nor hung up by then keeps the connection.
	 */
	if (!x.refused && !hc_broken(&x.c) &&
	    now_ms() < x.t0 + (u64)x.hold_ms)
		hc_wait_broken(&x.c, (int)(x.t0 + x.hold_ms - now_ms()));
	if (x.refused)
		snprintf(outcome, sizeof(outcome), "refused(status=0x%08x)",
			 x.resp.status);
	else if (hc_broken(&x.c))
		snprintf(outcome, sizeof(outcome), "disconnected");
	else
		snprintf(outcome, sizeof(outcome), "still-connected");
	verdict("client", k->name, outcome, k->expect, x.t0, "%s%s%s%s",
		x.detail, x.detail[0] && hc_broken(&x.c) ? " " : "",
		hc_why(&x.c), x.negotiated ? " negotiated" : "");
	hc_close(&x.c);
}

/* xorshift64*: small, seedable, the same sequence everywhere. */
static u64 rng_state;

static u32 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (u32)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static u32 edge(void)
{
	static const u32 v[] = {
		0, 1, 7, 8, 19, 20, 23, 24, 25, 1364, 8192, 131072,
		0x7fffffff, 0xfffffff8u, 0xffffffffu, 0xffff, 0x10000,
	};

	return rnd() % 4 == 0 ? rnd() : v[rnd() % ARRAY_SIZE(v)];
}

/*
 * One random connection: a good negotiate, then 1 to 6 data transfer
 * messages, each a good one with 1 to 3 mutations: a header field set to an
 * edge value, a bit flipped, the message cut short or padded with garbage.
 */
static void run_random(unsigned int i, unsigned long long seed)
{
	static const u8 field_off[] = { 0, 2, 4, 8, 12, 16 };
	char name[32], outcome[48], what[160] = "";
	struct cctx x;
	u8 b[SLOT_SIZE];
	u32 n, len, m, j, nmsg;
	size_t w = 0;

	memset(&x, 0, sizeof(x));
	snprintf(name, sizeof(name), "random-%u", i);
	if (hc_connect(&x.c, server_ip, port, CONNECT_MS)) {
		verdict("client", name, "connect-failed", "any", now_ms(),
			"%s", x.c.cm_why);
		hc_close(&x.c);
		return;
	}
	if (setup(&x, 255, 1364)) {
		verdict("client", name, "disconnected", "any", x.t0,
			"seed=%llu %s", seed, x.detail);
		hc_close(&x.c);
		return;
	}
	nmsg = 1 + rnd() % 6;
	for (n = 0; n < nmsg && !hc_broken(&x.c); n++) {
		u32 pay = rnd() % 2 ? rnd() % 1000 : 0;

		len = dt_msg(b, 32, take_grant(&x.c),
			     rnd() % 2 ? SMBD_RESPONSE_REQUESTED : 0, 0,
			     pay ? DT_DATA_OFFSET : 0, pay, pay);
		for (m = 1 + rnd() % 3; m; m--) {
			switch (rnd() % 4) {
			case 0:
				j = field_off[rnd() % sizeof(field_off)];
				if (j < 8)
					put16(b + j, edge());
				else
					put32(b + j, edge());
				w += snprintf(what + w, sizeof(what) - w,
					      "%u:f%u ", n, j);
				break;
			case 1:
				j = rnd() % len;
				b[j] ^= 1 << (rnd() % 8);
				w += snprintf(what + w, sizeof(what) - w,
					      "%u:bit%u ", n, j);
				break;
			case 2:
				len = rnd() % len;
				w += snprintf(what + w, sizeof(what) - w,
					      "%u:cut%u ", n, len);
				break;
			default:
				j = rnd() % 512;
				for (; j && len < SLOT_SIZE; j--)
					b[len++] = rnd();
				w += snprintf(what + w, sizeof(what) - w,
					      "%u:pad%u ", n, len);
				break;
			}
			if (w >= sizeof(what))
				w = sizeof(what) - 1;
		}
		hc_send(&x.c, b, len);
	}
	if (!hc_broken(&x.c))
		hc_wait_broken(&x.c, 1500);
	snprintf(outcome, sizeof(outcome), "%s",
		 hc_broken(&x.c) ? "disconnected" : "still-connected");
	verdict("client", name, outcome, "any", x.t0, "msgs=%u %s%s", nmsg,
		what, hc_why(&x.c));
	hc_close(&x.c);
}

static void list_cases(void)
{
	static const char *const optin[] = { "", " opt-in" };
	size_t i;

	for (i = 0; i < NCASES; i++)
		printf("%s expect=%s section=%s%s\n", cases[i].name,
		       cases[i].expect, cases[i].section,
		       optin[cases[i].optin != 0]);
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: smbd-hostile client --server IP [--port 445|5445]\n"
		"       [--case NAME[,NAME...]|--all] [--hold MS]\n"
		"       [--random K [--seed N]] [--list]\n");
}

int client_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "case", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "hold", required_argument, NULL, 'h' },
		{ "random", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 'S' },
		{ "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long seed = 0;
	char *want = NULL;
	int all = 0, nrand = 0, o, ran = 0;
	size_t i;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			server_ip = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			want = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			hold_ms = atoi(optarg);
			break;
		case 'r':
			nrand = atoi(optarg);
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'l':
			list_cases();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (!server_ip || (!want && !all && !nrand)) {
		usage();
		return 2;
	}
	for (i = 0; i < NCASES; i++) {
		const char *p = want;
		size_t l = strlen(cases[i].name);
		int hit = all && !cases[i].optin;

		while (p && !hit) {
			if (!strncmp(p, cases[i].name, l) &&
			    (p[l] == ',' || !p[l]))
				hit = 1;
			p = strchr(p, ',');
			if (p)
				p++;
		}
		if (hit) {
			run_case(&cases[i]);
			ran++;
		}
	}
	if (want && !ran) {
		fprintf(stderr, "smbd-hostile: no case named %s\n", want);
		return 2;
	}
	if (nrand) {
		if (!seed)
			seed = now_ms();
		printf("random: seed=%llu count=%d\n", seed, nrand);
		fflush(stdout);
		rng_state = seed ? seed : 1;
		for (o = 0; o < nrand; o++)
			run_random(o, seed);
	}
	return 0;
}
