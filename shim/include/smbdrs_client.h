/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smbdirect-rs: the interface between cifs's SMB Direct shim
 * (shim/cifs/smbdirect_shim.c, built into cifs.ko as
 * fs/smb/client/smbdirect_shim.c) and the Rust client transport in
 * smbdirect_rs.ko (rust/client/).
 *
 * cifs looks the ops up with symbol_get(smbdrs_client_ops), which pins
 * smbdirect_rs.ko for as long as a connection uses it, and fails if the
 * module is not loaded. Every function may sleep.
 */
#ifndef _SMBDRS_CLIENT_H
#define _SMBDRS_CLIENT_H

#include <linux/types.h>

struct iov_iter;
struct module;
struct sockaddr;

/* What cifs asks for: its /proc/fs/cifs/smbd_* tunables. */
struct smbdrs_client_config {
	u32 receive_credit_max;
	u32 send_credit_target;
	u32 max_send_size;
	u32 max_fragmented_recv_size;
	u32 max_receive_size;
	u32 keepalive_interval_ms;
	u32 max_frmr_depth;
};

/* A connection as cifs shows it: negotiated values and counters. */
struct smbdrs_client_info {
	/* Negotiated ([MS-SMBD] 3.1.1.1). */
	u32 protocol;
	u32 receive_credit_max;
	u32 send_credit_target;
	u32 max_send_size;
	u32 max_receive_size;
	u32 max_fragmented_send_size;
	u32 max_fragmented_recv_size;
	u32 max_read_write_size;
	u32 keepalive_interval_ms;
	u32 max_frmr_depth;
	u32 responder_resources;
	u32 initiator_depth;
	/* Now. */
	u32 connected;
	u32 send_credits;
	u32 receive_credits;
	u32 receive_credit_target;
	u32 receives_posted;
	u32 unread_fragments;
	u32 free_headers;
	u32 mrs_in_use;
	/* Since the connection was made. */
	u64 messages_sent;
	u64 messages_read;
	u64 bytes_sent;
	u64 bytes_received;
	u64 keepalives_sent;
	u64 send_waits;
	u64 registrations;
	u64 remote_invalidations;
	u64 local_invalidations;
	u64 mr_recoveries;
	u64 mr_waits;
	u64 context_misses;
	u64 softirq_completions;
	u64 deferred_pumps;
};

/* A registration's buffer descriptor ([MS-SMBD] 2.2.3.1), host order. */
struct smbdrs_buffer_desc {
	u64 offset;
	u32 token;
	u32 length;
};

struct smbdrs_client_ops {
	struct module *owner;
	/* Connects to @dst's address and negotiates; *@conn on success. */
	int (*connect)(const struct sockaddr *dst,
		       const struct smbdrs_client_config *config, void **conn);
	/* Ends @conn, waits for its work in flight, frees it. */
	void (*destroy)(void *conn);
	/* Sends the bytes of @parts, in order, as one message. */
	int (*send)(void *conn, struct iov_iter *parts, unsigned int nparts);
	/*
	 * Fills @to from the received stream: 4 bytes at a message start
	 * give its length (big endian, as the RFC 1002 header cifs reads
	 * first); otherwise the message's next bytes. Returns the bytes
	 * read, -EAGAIN if nothing came for a while.
	 */
	int (*recv)(void *conn, struct iov_iter *to);
	/* Registers @iter's pages for the server's RDMA; advances @iter. */
	int (*register_mr)(void *conn, struct iov_iter *iter, bool writing,
			   struct smbdrs_buffer_desc *desc, void **reg);
	/* Invalidates and frees a registration. */
	int (*deregister_mr)(void *reg);
	void (*info)(void *conn, struct smbdrs_client_info *info);
};

extern const struct smbdrs_client_ops smbdrs_client_ops;

#endif /* _SMBDRS_CLIENT_H */
