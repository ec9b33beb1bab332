// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-hostile: [MS-SMBD] 2.2 messages, built field by field. Nothing is
 * checked on the way out: the cases decide every value, legal or not.
 */
#include "smbd-hostile.h"

/* 2.2.1 Negotiate request. */
void neg_req(u8 *b, u16 min, u16 max, u16 credits,
	     u32 pref_send, u32 max_recv, u32 max_frag)
{
	put16(b + 0, min);
	put16(b + 2, max);
	put16(b + 4, 0);
	put16(b + 6, credits);
	put32(b + 8, pref_send);
	put32(b + 12, max_recv);
	put32(b + 16, max_frag);
}

void parse_negreq(const u8 *b, struct negreq *r)
{
	r->min_version = get16(b + 0);
	r->max_version = get16(b + 2);
	r->credits_requested = get16(b + 6);
	r->preferred_send_size = get32(b + 8);
	r->max_receive_size = get32(b + 12);
	r->max_fragmented_size = get32(b + 16);
}

/* 2.2.2 Negotiate response. */
void neg_resp(u8 *b, const struct negresp *r)
{
	put16(b + 0, r->min_version);
	put16(b + 2, r->max_version);
	put16(b + 4, r->negotiated_version);
	put16(b + 6, 0);
	put16(b + 8, r->credits_requested);
	put16(b + 10, r->credits_granted);
	put32(b + 12, r->status);
	put32(b + 16, r->max_read_write_size);
	put32(b + 20, r->preferred_send_size);
	put32(b + 24, r->max_receive_size);
	put32(b + 28, r->max_fragmented_size);
}

void parse_negresp(const u8 *b, struct negresp *r)
{
	r->min_version = get16(b + 0);
	r->max_version = get16(b + 2);
	r->negotiated_version = get16(b + 4);
	r->credits_requested = get16(b + 8);
	r->credits_granted = get16(b + 10);
	r->status = get32(b + 12);
	r->max_read_write_size = get32(b + 16);
	r->preferred_send_size = get32(b + 20);
	r->max_receive_size = get32(b + 24);
	r->max_fragmented_size = get32(b + 28);
}

/*
 * 2.2.3 Data transfer: the header with the given fields, padding zeroed,
 * then payload_len bytes of a counting pattern from DT_DATA_OFFSET (the
 * payload bytes sent, whatever DataOffset/DataLength claim). Returns the
 * length of the whole message: the header alone when payload_len is 0.
 */
u32 dt_msg(u8 *b, u16 credits_req, u16 granted, u16 flags, u32 remaining,
	   u32 offset, u32 length, u32 payload_len)
{
	u32 i;

	put16(b + 0, credits_req);
	put16(b + 2, granted);
	put16(b + 4, flags);
	put16(b + 6, 0);
	put32(b + 8, remaining);
	put32(b + 12, offset);
	put32(b + 16, length);
	if (!payload_len)
		return DT_HDR_LEN;
	if (payload_len > SLOT_SIZE - DT_DATA_OFFSET)
		payload_len = SLOT_SIZE - DT_DATA_OFFSET;
	put32(b + 20, 0);
	for (i = 0; i < payload_len; i++)
		b[DT_DATA_OFFSET + i] = (u8)(i * 7 + 1);
	return DT_DATA_OFFSET + payload_len;
}

/*
 * Reads every data transfer the peer sent (waiting up to timeout_ms for the
 * first): its grants become our send credits, and requests for a response
 * are counted. Returns the number read, -1 if the connection broke first.
 */
int absorb(struct hconn *c, int timeout_ms, unsigned int *resp_req)
{
	u8 buf[SLOT_SIZE];
	u32 len;
	int n = 0, rc;

	while ((rc = hc_recv(c, buf, &len, n ? 0 : timeout_ms)) == 1) {
		n++;
		c->peer_msgs++;
		if (len < DT_HDR_LEN)
			continue;
		c->send_credits += get16(buf + 2);
		if (resp_req && (get16(buf + 4) & SMBD_RESPONSE_REQUESTED))
			(*resp_req)++;
	}
	return rc < 0 && !n ? -1 : n;
}

/* The CreditsGranted of our next message: every receive reposted since. */
u16 take_grant(struct hconn *c)
{
	u16 g = c->grant_owed > 0xffff ? 0xffff : c->grant_owed;

	c->grant_owed -= g;
	c->granted += g;
	return g;
}
