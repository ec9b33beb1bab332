/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smbdirect-rs: the interface between ksmbd's SMB Direct shim
 * (shim/ksmbd/transport_rdma_shim.c, built into ksmbd.ko as
 * fs/smb/server/transport_rdma_shim.c) and the Rust server transport in
 * smbdirect_rs.ko (rust/server/).
 *
 * ksmbd looks the ops up with symbol_get(smbdrs_server_ops) when it
 * starts its transports and puts them when it stops: smbdirect_rs.ko
 * stays loaded while ksmbd serves SMB Direct through it. Every function
 * may sleep except abort.
 */
#ifndef _SMBDRS_SERVER_H
#define _SMBDRS_SERVER_H

#include <linux/types.h>

struct iov_iter;
struct module;
struct sockaddr;

struct smbdrs_server_config {
	/* ksmbd-tools' "smbd max io size": the largest RDMA read or write */
	u32 max_read_write_size;
	/*
	 * Called from a work item with each connection accepted (before its
	 * MS-SMBD negotiation, which negotiate() finishes); a non-zero return
	 * refuses it, and the transport destroys it.
	 */
	int (*accepted)(void *conn, const struct sockaddr *peer);
};

struct smbdrs_server_ops {
	struct module *owner;
	/*
	 * Listens on every RDMA device's addresses (445 on InfiniBand and
	 * RoCE, 5445 on iWARP), devices that come later included.
	 */
	int (*start)(const struct smbdrs_server_config *config, void **server);
	/* Stops listening and accepting; accepted connections stay. */
	void (*stop)(void *server);
	/* Waits for the client's negotiate request and answers it. */
	int (*negotiate)(void *conn);
	/*
	 * Reads exactly @size bytes of the received stream into @buf: 4 at a
	 * message start are its length (big endian), then the message.
	 */
	int (*read)(void *conn, void *buf, unsigned int size);
	/* Sends @iter as one message; @invalidate: Send with Invalidate. */
	int (*send)(void *conn, struct iov_iter *iter, bool invalidate,
		    u32 rkey);
	/*
	 * RDMA-reads (write == false) or -writes @len bytes at @buf from or
	 * to the client's buffer descriptors @desc (@desc_len bytes of
	 * struct smb2_buffer_desc_v1, as the request carries them).
	 */
	int (*rdma)(void *conn, bool write, void *buf, unsigned int len,
		    const void *desc, unsigned int desc_len);
	/* Ends the connection without waiting; wakes a blocked read. */
	void (*abort)(void *conn);
	/* Ends the connection, waits for its work in flight, frees it. */
	void (*destroy)(void *conn);
};

extern const struct smbdrs_server_ops smbdrs_server_ops;

#endif /* _SMBDRS_SERVER_H */
