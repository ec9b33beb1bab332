/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smbdirect-rs: the server transport's entry points, defined in Rust
 * (rust/server/ffi.rs) and gathered into smbdrs_server_ops by server_ops.c.
 */
#ifndef _SMBDRS_SERVER_OPS_H
#define _SMBDRS_SERVER_OPS_H

#include <linux/types.h>

struct iov_iter;
struct smbdrs_server_config;

int smbdrs_server_start(const struct smbdrs_server_config *config,
			void **server);
void smbdrs_server_stop(void *server);
int smbdrs_server_negotiate(void *conn);
int smbdrs_server_read(void *conn, void *buf, unsigned int size);
int smbdrs_server_send(void *conn, struct iov_iter *iter, bool invalidate,
		       u32 rkey);
int smbdrs_server_rdma(void *conn, bool write, void *buf, unsigned int len,
		       const void *desc, unsigned int desc_len);
void smbdrs_server_abort(void *conn);
void smbdrs_server_destroy(void *conn);

#endif /* _SMBDRS_SERVER_OPS_H */
