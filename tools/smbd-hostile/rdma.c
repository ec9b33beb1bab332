// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-hostile: the RDMA side. One RC queue pair per connection, one
 * completion queue with a completion channel and an rdma_cm event channel
 * per connection, both waited on with poll(2) and a deadline: whatever the
 * peer does, no call here blocks longer than its timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "smbd-hostile.h"

#define SEND_WR_ID	0x10000u
#define CM_STEP_MS	5000
#define MAX_DEPTH	16

u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(u64 deadline)
{
	u64 t = now_ms();

	return t >= deadline ? 0 : (int)(deadline - t);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

const char *hc_why(const struct hconn *c)
{
	static char buf[96];

	if (c->wc_error) {
		snprintf(buf, sizeof(buf), "%s completion %s",
			 c->wc_send ? "send" : "recv",
			 ibv_wc_status_str(c->wc_status));
		return buf;
	}
	if (c->disconnected)
		return c->cm_why[0] ? c->cm_why : "cm DISCONNECTED";
	return "";
}

int hc_broken(const struct hconn *c)
{
	return c->disconnected || c->wc_error;
}

static int post_recv(struct hconn *c, unsigned int slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(c->mem + (size_t)slot * SLOT_SIZE),
		.length = SLOT_SIZE,
		.lkey = c->mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = slot, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;

	return ibv_post_recv(c->id->qp, &wr, &bad);
}

/* The PD, CQ, QP and buffers on c->id's device; receives posted. */
static int setup_qp(struct hconn *c)
{
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
		.cap = {
			.max_send_wr = NSEND,
			.max_recv_wr = NRECV,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
	};
	size_t len = (size_t)(NRECV + NSEND) * SLOT_SIZE;
	unsigned int i;

	c->pd = ibv_alloc_pd(c->id->verbs);
	c->cc = ibv_create_comp_channel(c->id->verbs);
	if (!c->pd || !c->cc)
		return -1;
	nonblock(c->cc->fd);
	c->cq = ibv_create_cq(c->id->verbs, NRECV + NSEND + 8, NULL, c->cc, 0);
	if (!c->cq || ibv_req_notify_cq(c->cq, 0))
		return -1;
	c->mem = calloc(1, len);
	c->rx_data = malloc((size_t)RXQ * SLOT_SIZE);
	if (!c->mem || !c->rx_data)
		return -1;
	c->mr = ibv_reg_mr(c->pd, c->mem, len, IBV_ACCESS_LOCAL_WRITE);
	if (!c->mr)
		return -1;
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	if (rdma_create_qp(c->id, c->pd, &qa))
		return -1;
	c->has_qp = 1;
	/*
	 * Receives before the connection exists: a peer may send the moment
	 * it is established, and a missing receive would cost it an RNR.
	 */
	for (i = 0; i < NRECV; i++)
		if (post_recv(c, i))
			return -1;
	return 0;
}

static void on_wc(struct hconn *c, const struct ibv_wc *wc)
{
	if (wc->status != IBV_WC_SUCCESS) {
		if (!c->closing && !c->wc_error) {
			c->wc_error = 1;
			c->wc_status = wc->status;
			c->wc_send = (wc->wr_id & SEND_WR_ID) != 0;
		}
		if (wc->wr_id & SEND_WR_ID)
			c->send_busy &= ~(1u << (wc->wr_id & 0xff));
		return;
	}
	if (wc->wr_id & SEND_WR_ID) {
		c->send_busy &= ~(1u << (wc->wr_id & 0xff));
		return;
	}
	/* A message: keep a copy, give the buffer straight back. */
	if (c->rx_tail - c->rx_head < RXQ) {
		unsigned int q = c->rx_tail % RXQ;

		c->rx_len[q] = wc->byte_len;
		memcpy(c->rx_data + (size_t)q * SLOT_SIZE,
		       c->mem + wc->wr_id * SLOT_SIZE,
		       wc->byte_len < SLOT_SIZE ? wc->byte_len : SLOT_SIZE);
		c->rx_tail++;
	} else {
		c->rx_dropped++;
	}
	if (post_recv(c, wc->wr_id) == 0)
		c->grant_owed++;
}

static void drain_cq(struct hconn *c)
{
	struct ibv_wc wc[16];
	int n, i;

	while ((n = ibv_poll_cq(c->cq, 16, wc)) > 0)
		for (i = 0; i < n; i++)
			on_wc(c, &wc[i]);
}

static void on_cm(struct hconn *c, struct rdma_cm_event *ev)
{
	switch (ev->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		c->established = 1;
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		if (!c->disconnected && !c->closing)
			snprintf(c->cm_why, sizeof(c->cm_why), "cm %s",
				 rdma_event_str(ev->event));
		c->disconnected = 1;
		break;
	case RDMA_CM_EVENT_REJECTED:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
		snprintf(c->cm_why, sizeof(c->cm_why), "cm %s status %d",
			 rdma_event_str(ev->event), ev->status);
		c->disconnected = 1;
		break;
	default:
		break;
	}
}

/*
 * Handles whatever the CQ and the CM channel have, waiting up to
 * timeout_ms for the first of it. Returns 1 if anything happened.
 */
int hc_pump(struct hconn *c, int timeout_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = c->ec->fd, .events = POLLIN },
		{ .fd = c->cc ? c->cc->fd : -1, .events = POLLIN },
	};
	struct rdma_cm_event *ev;
	int any = 0;

	if (poll(pfd, 2, timeout_ms) <= 0 && timeout_ms > 0)
		return 0;
	while (rdma_get_cm_event(c->ec, &ev) == 0) {
		if (ev->id == c->id)
			on_cm(c, ev);
		rdma_ack_cm_event(ev);
		any = 1;
	}
	if (c->cq) {
		struct ibv_cq *cq;
		void *ctx;

		while (ibv_get_cq_event(c->cc, &cq, &ctx) == 0) {
			ibv_ack_cq_events(cq, 1);
			any = 1;
		}
		ibv_req_notify_cq(c->cq, 0);
		drain_cq(c);
	}
	return any;
}

/* Waits for one CM event of c->id; 0 when it is `want`. */
static int cm_wait(struct hconn *c, enum rdma_cm_event_type want, int ms)
{
	u64 deadline = now_ms() + ms;
	struct pollfd pfd = { .fd = c->ec->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type got;
	int status;

	for (;;) {
		if (rdma_get_cm_event(c->ec, &ev) == 0) {
			got = ev->event;
			status = ev->status;
			rdma_ack_cm_event(ev);
			if (got == want)
				return 0;
			snprintf(c->cm_why, sizeof(c->cm_why), "cm %s status %d",
				 rdma_event_str(got), status);
			return -1;
		}
		if (!left_ms(deadline)) {
			snprintf(c->cm_why, sizeof(c->cm_why),
				 "no %s in %d ms", rdma_event_str(want), ms);
			return -1;
		}
		poll(&pfd, 1, left_ms(deadline));
	}
}

static void depths(struct hconn *c, struct rdma_conn_param *p)
{
	struct ibv_device_attr da;
	int ird = MAX_DEPTH, ord = MAX_DEPTH;

	if (ibv_query_device(c->id->verbs, &da) == 0) {
		if (da.max_qp_rd_atom < ird)
			ird = da.max_qp_rd_atom;
		if (da.max_qp_init_rd_atom < ord)
			ord = da.max_qp_init_rd_atom;
	}
	if (p->responder_resources == 0 || p->responder_resources > ird)
		p->responder_resources = ird;
	if (p->initiator_depth == 0 || p->initiator_depth > ord)
		p->initiator_depth = ord;
}

/*
 * Connects to ip:port. MS-SMBD's private data (the legacy iWARP IRD/ORD)
 * is optional and both Linux servers take a request without any, so none
 * is sent. Returns 0 when established, -1 with c->cm_why otherwise.
 */
int hc_connect(struct hconn *c, const char *ip, int port, int timeout_ms)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *ai;
	struct rdma_conn_param p = { .retry_count = 6, .rnr_retry_count = 7 };
	char ports[8];

	memset(c, 0, sizeof(*c));
	snprintf(ports, sizeof(ports), "%d", port);
	c->ec = rdma_create_event_channel();
	if (!c->ec) {
		snprintf(c->cm_why, sizeof(c->cm_why), "no event channel");
		return -1;
	}
	nonblock(c->ec->fd);
	if (rdma_getaddrinfo(ip, ports, &hints, &ai)) {
		snprintf(c->cm_why, sizeof(c->cm_why), "bad address %s", ip);
		return -1;
	}
	if (rdma_create_id(c->ec, &c->id, c, RDMA_PS_TCP) ||
	    rdma_resolve_addr(c->id, NULL, ai->ai_dst_addr, CM_STEP_MS)) {
		rdma_freeaddrinfo(ai);
		snprintf(c->cm_why, sizeof(c->cm_why), "resolve_addr: %m");
		return -1;
	}
	rdma_freeaddrinfo(ai);
	if (cm_wait(c, RDMA_CM_EVENT_ADDR_RESOLVED, CM_STEP_MS))
		return -1;
	if (rdma_resolve_route(c->id, CM_STEP_MS) ||
	    cm_wait(c, RDMA_CM_EVENT_ROUTE_RESOLVED, CM_STEP_MS))
		return -1;
	if (setup_qp(c)) {
		snprintf(c->cm_why, sizeof(c->cm_why), "queue pair: %m");
		return -1;
	}
	depths(c, &p);
	if (rdma_connect(c->id, &p)) {
		snprintf(c->cm_why, sizeof(c->cm_why), "rdma_connect: %m");
		return -1;
	}
	if (cm_wait(c, RDMA_CM_EVENT_ESTABLISHED, timeout_ms))
		return -1;
	c->established = 1;
	return 0;
}

int hc_listen(struct rdma_event_channel **ec, struct rdma_cm_id **lid,
	      const char *ip, int port)
{
	struct rdma_addrinfo hints = {
		.ai_flags = RAI_PASSIVE,
		.ai_port_space = RDMA_PS_TCP,
	}, *ai;
	char ports[8];
	int rc;

	snprintf(ports, sizeof(ports), "%d", port);
	*ec = rdma_create_event_channel();
	if (!*ec)
		return -1;
	nonblock((*ec)->fd);
	if (rdma_getaddrinfo(ip, ports, &hints, &ai))
		return -1;
	rc = rdma_create_id(*ec, lid, NULL, RDMA_PS_TCP) ||
	     rdma_bind_addr(*lid, ai->ai_src_addr) || rdma_listen(*lid, 4);
	rdma_freeaddrinfo(ai);
	return rc ? -1 : 0;
}

/*
 * Waits up to timeout_ms for a connect request on the listener's channel
 * and accepts it on a channel of its own. Returns 1 when established, 0 on
 * timeout, -1 when the request could not be accepted.
 */
int hc_accept(struct hconn *c, struct rdma_event_channel *lec, int timeout_ms)
{
	u64 deadline = now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = lec->fd, .events = POLLIN };
	struct rdma_conn_param p = { .retry_count = 6, .rnr_retry_count = 7 };
	struct rdma_cm_event *ev;
	struct rdma_cm_id *id = NULL;

	memset(c, 0, sizeof(*c));
	while (!id) {
		if (rdma_get_cm_event(lec, &ev) == 0) {
			if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
				id = ev->id;
				/* Already from our side: theirs swapped. */
				p.responder_resources =
					ev->param.conn.responder_resources;
				p.initiator_depth =
					ev->param.conn.initiator_depth;
			}
			rdma_ack_cm_event(ev);
			continue;
		}
		if (!left_ms(deadline))
			return 0;
		poll(&pfd, 1, left_ms(deadline));
	}
	c->id = id;
	c->ec = rdma_create_event_channel();
	if (!c->ec || rdma_migrate_id(id, c->ec)) {
		snprintf(c->cm_why, sizeof(c->cm_why), "migrate: %m");
		return -1;
	}
	nonblock(c->ec->fd);
	if (setup_qp(c)) {
		snprintf(c->cm_why, sizeof(c->cm_why), "queue pair: %m");
		return -1;
	}
	depths(c, &p);
	if (rdma_accept(id, &p)) {
		snprintf(c->cm_why, sizeof(c->cm_why), "rdma_accept: %m");
		return -1;
	}
	if (cm_wait(c, RDMA_CM_EVENT_ESTABLISHED, CM_STEP_MS))
		return -1;
	c->established = 1;
	return 1;
}

/*
 * Posts one Send of len bytes (0 allowed: an empty Send is a message the
 * peer must judge too). Waits up to 5 s for a free send slot. Returns -1
 * if the connection broke or no slot freed.
 */
int hc_send(struct hconn *c, const void *buf, u32 len)
{
	u64 deadline = now_ms() + 5000;
	struct ibv_sge sge;
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
		.sg_list = &sge,
	};
	struct ibv_send_wr *bad;
	unsigned int slot;
	u8 *p;

	if (len > SLOT_SIZE)
		len = SLOT_SIZE;
	for (;;) {
		if (hc_broken(c))
			return -1;
		for (slot = 0; slot < NSEND; slot++)
			if (!(c->send_busy & (1u << slot)))
				break;
		if (slot < NSEND)
			break;
		if (!left_ms(deadline))
			return -1;
		hc_pump(c, left_ms(deadline));
	}
	p = c->mem + (size_t)(NRECV + slot) * SLOT_SIZE;
	memcpy(p, buf, len);
	sge.addr = (uintptr_t)p;
	sge.length = len;
	sge.lkey = c->mr->lkey;
	wr.num_sge = len ? 1 : 0;
	wr.wr_id = SEND_WR_ID | slot;
	if (ibv_post_send(c->id->qp, &wr, &bad))
		return -1;
	c->send_busy |= 1u << slot;
	return 0;
}

/*
 * The oldest received message into buf (SLOT_SIZE bytes): 1 when there was
 * one, 0 on timeout, -1 when the connection broke with nothing left.
 */
int hc_recv(struct hconn *c, u8 *buf, u32 *len, int timeout_ms)
{
	u64 deadline = now_ms() + timeout_ms;

	for (;;) {
		hc_pump(c, 0);
		if (c->rx_head != c->rx_tail) {
			unsigned int q = c->rx_head++ % RXQ;

			*len = c->rx_len[q];
			memcpy(buf, c->rx_data + (size_t)q * SLOT_SIZE,
			       *len < SLOT_SIZE ? *len : SLOT_SIZE);
			return 1;
		}
		if (hc_broken(c))
			return -1;
		if (!left_ms(deadline))
			return 0;
		hc_pump(c, left_ms(deadline));
	}
}

/* Waits until the peer breaks the connection: 1 if it did in time. */
int hc_wait_broken(struct hconn *c, int timeout_ms)
{
	u64 deadline = now_ms() + timeout_ms;

	while (!hc_broken(c) && left_ms(deadline))
		hc_pump(c, left_ms(deadline));
	return hc_broken(c);
}

/* Our side hangs up and frees everything; bounded by a second. */
void hc_close(struct hconn *c)
{
	u64 deadline = now_ms() + 1000;

	c->closing = 1;
	if (c->id && c->established) {
		rdma_disconnect(c->id);
		while (c->send_busy && left_ms(deadline))
			hc_pump(c, left_ms(deadline));
	}
	if (c->has_qp)
		rdma_destroy_qp(c->id);
	if (c->mr)
		ibv_dereg_mr(c->mr);
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->cc)
		ibv_destroy_comp_channel(c->cc);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->ec)
		rdma_destroy_event_channel(c->ec);
	free(c->mem);
	free(c->rx_data);
	memset(c, 0, sizeof(*c));
}
