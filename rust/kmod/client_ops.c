// SPDX-License-Identifier: GPL-2.0-only
/*
 * smbdirect-rs: the table through which cifs's SMB Direct shim reaches the
 * Rust client transport (rust/client/). cifs takes it with
 * symbol_get(smbdrs_client_ops), which holds this module while a
 * connection uses it.
 */

#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/module.h>
#include <linux/uio.h>

#include "../../shim/include/smbdrs_client.h"
#include "client_ops.h"

/* The Rust side asserts the same sizes. */
static_assert(sizeof(struct smbdrs_client_config) == 28);
static_assert(sizeof(struct smbdrs_client_info) == 192);
static_assert(sizeof(struct smbdrs_buffer_desc) == 16);

const struct smbdrs_client_ops smbdrs_client_ops = {
	.owner = THIS_MODULE,
	.connect = smbdrs_client_connect,
	.destroy = smbdrs_client_destroy,
	.send = smbdrs_client_send,
	.recv = smbdrs_client_recv,
	.register_mr = smbdrs_client_register_mr,
	.deregister_mr = smbdrs_client_deregister_mr,
	.info = smbdrs_client_info,
};
EXPORT_SYMBOL_GPL(smbdrs_client_ops);
