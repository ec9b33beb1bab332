/* SPDX-License-Identifier: GPL-2.0 */
/*
 * smbd-hostile: a hostile [MS-SMBD] peer on rdma-core, for testing what the
 * kernel's SMB Direct transports do with a peer that breaks the protocol.
 *
 * The tool speaks MS-SMBD byte by byte over a plain RC queue pair: nothing
 * here validates what it sends, which is the point. Every wait is bounded,
 * so a peer that never answers costs a timeout, never a hang.
 */
#ifndef SMBD_HOSTILE_H
#define SMBD_HOSTILE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include <rdma/rdma_cma.h>

/* [MS-SMBD] 2.2 constants. */
#define SMBD_VERSION		0x0100
#define SMBD_RESPONSE_REQUESTED	0x0001
#define STATUS_SUCCESS		0x00000000u
#define STATUS_NOT_SUPPORTED	0xc00000bbu
#define NEG_REQ_LEN		20	/* 2.2.1 */
#define NEG_RESP_LEN		32	/* 2.2.2 */
#define DT_HDR_LEN		20	/* 2.2.3, without its padding */
#define DT_DATA_OFFSET		24	/* the header padded to 8 bytes */

/*
 * Our buffers: every receive and send slot is SLOT_SIZE bytes, larger than
 * any message a Linux peer sends (1364) and than any we send on purpose
 * (the "too long" cases send a whole slot).
 */
#define SLOT_SIZE	8192
#define NRECV		64
#define NSEND		16
#define RXQ		256	/* received messages kept until read */

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Little-endian field access ([MS-SMBD] 2.2: all integers). */
static inline void put16(u8 *p, u16 v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put32(u8 *p, u32 v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static inline u16 get16(const u8 *p)
{
	return p[0] | p[1] << 8;
}

static inline u32 get32(const u8 *p)
{
	return get16(p) | (u32)get16(p + 2) << 16;
}

/* One RDMA CM connection and what the peer did on it. */
struct hconn {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	u8 *mem;		/* NRECV receive slots, then NSEND send slots */
	int has_qp;
	unsigned int send_busy;	/* bitmap of send slots in flight */
	int closing;		/* our own disconnect: flushes are ours */

	/* What happened. */
	int established;
	int disconnected;	/* RDMA_CM_EVENT_DISCONNECTED (or worse) */
	int wc_error;		/* a completion in error before we closed */
	enum ibv_wc_status wc_status;
	int wc_send;		/* that completion was a send */
	char cm_why[64];	/* why a connect failed */

	/* Received messages, oldest first. */
	u32 rx_len[RXQ];
	u8 *rx_data;
	unsigned int rx_head, rx_tail;
	unsigned int rx_dropped;

	/* Credits, kept by the case code. */
	u32 send_credits;	/* the peer's grants we have not spent */
	u32 granted;	/* credits we granted the peer in all */
	u32 peer_msgs;	/* data transfer messages it sent us */
	u32 grant_owed;	/* receives reposted and not yet granted */
};

/* rdma.c */
u64 now_ms(void);
int hc_connect(struct hconn *c, const char *ip, int port, int timeout_ms);
int hc_listen(struct rdma_event_channel **ec, struct rdma_cm_id **lid,
	      const char *ip, int port);
int hc_accept(struct hconn *c, struct rdma_event_channel *lec,
	      int timeout_ms);
int hc_send(struct hconn *c, const void *buf, u32 len);
int hc_recv(struct hconn *c, u8 *buf, u32 *len, int timeout_ms);
int hc_pump(struct hconn *c, int timeout_ms);
int hc_broken(const struct hconn *c);
int hc_wait_broken(struct hconn *c, int timeout_ms);
void hc_close(struct hconn *c);
const char *hc_why(const struct hconn *c);

/* A parsed negotiate response ([MS-SMBD] 2.2.2). */
struct negresp {
	u16 min_version, max_version, negotiated_version;
	u16 credits_requested, credits_granted;
	u32 status, max_read_write_size, preferred_send_size;
	u32 max_receive_size, max_fragmented_size;
};

/* A parsed negotiate request ([MS-SMBD] 2.2.1). */
struct negreq {
	u16 min_version, max_version, credits_requested;
	u32 preferred_send_size, max_receive_size, max_fragmented_size;
};

/* wire.c: message builders, with every field given, never checked. */
void neg_req(u8 *b, u16 min, u16 max, u16 credits,
	     u32 pref_send, u32 max_recv, u32 max_frag);
void neg_resp(u8 *b, const struct negresp *r);
void parse_negresp(const u8 *b, struct negresp *r);
void parse_negreq(const u8 *b, struct negreq *r);
u32 dt_msg(u8 *b, u16 credits_req, u16 granted, u16 flags, u32 remaining,
	   u32 offset, u32 length, u32 payload_len);
int absorb(struct hconn *c, int timeout_ms, unsigned int *resp_req);
u16 take_grant(struct hconn *c);

/* client.c, server.c */
int client_main(int argc, char **argv);
int server_main(int argc, char **argv);

/* The one verdict line per case (main.c). */
void verdict(const char *role, const char *name, const char *outcome,
	     const char *expect, u64 t0, const char *fmt, ...);

extern int verbose;

#endif
