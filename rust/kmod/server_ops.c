// SPDX-License-Identifier: GPL-2.0-only
/*
 * smbdirect-rs: the table through which ksmbd's SMB Direct shim reaches the
 * Rust server transport (rust/server/). ksmbd takes it with
 * symbol_get(smbdrs_server_ops) while its transports run.
 */

#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/module.h>

#include "../../shim/include/smbdrs_server.h"
#include "server_ops.h"

/* The Rust side asserts the same size. */
static_assert(sizeof(struct smbdrs_server_config) == 16);

const struct smbdrs_server_ops smbdrs_server_ops = {
	.owner = THIS_MODULE,
	.start = smbdrs_server_start,
	.stop = smbdrs_server_stop,
	.negotiate = smbdrs_server_negotiate,
	.read = smbdrs_server_read,
	.send = smbdrs_server_send,
	.rdma = smbdrs_server_rdma,
	.abort = smbdrs_server_abort,
	.destroy = smbdrs_server_destroy,
};
EXPORT_SYMBOL_GPL(smbdrs_server_ops);
