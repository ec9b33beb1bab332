/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smbdirect-rs: the client transport's entry points, defined in Rust
 * (rust/client/ffi.rs) and gathered into smbdrs_client_ops by client_ops.c.
 */
#ifndef _SMBDRS_CLIENT_OPS_H
#define _SMBDRS_CLIENT_OPS_H

#include <linux/types.h>

struct iov_iter;
struct sockaddr;
struct smbdrs_buffer_desc;
struct smbdrs_client_config;
struct smbdrs_client_info;

int smbdrs_client_connect(const struct sockaddr *dst,
			  const struct smbdrs_client_config *config,
			  void **conn);
void smbdrs_client_destroy(void *conn);
int smbdrs_client_send(void *conn, struct iov_iter *parts,
		       unsigned int nparts);
int smbdrs_client_recv(void *conn, struct iov_iter *to);
int smbdrs_client_register_mr(void *conn, struct iov_iter *iter,
			      bool writing, struct smbdrs_buffer_desc *desc,
			      void **reg);
int smbdrs_client_deregister_mr(void *reg);
void smbdrs_client_info(void *conn, struct smbdrs_client_info *info);

#endif /* _SMBDRS_CLIENT_OPS_H */
