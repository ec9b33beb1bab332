// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * smbdirect-rs: cifs's SMB Direct entry points, routed per server to
 * upstream's C transport (smbdirect.c, whose functions are smbd_c_*) or,
 * for a mount with rdma_impl=rust, to the Rust transport of smbdirect_rs.ko.
 *
 * Built into cifs.ko as fs/smb/client/smbdirect_shim.c (a link made by
 * scripts/kernel.sh). The Rust transport is looked up when a connection is
 * made: without smbdirect_rs loaded a Rust mount fails, and while one of
 * its connections or registrations exists the module cannot be unloaded.
 *
 * A Rust connection is a struct smbd_connection whose socket parameters,
 * rdma_readwrite_threshold and max_frmr_depth (what smb2ops.c, smb2pdu.c
 * and file.c read) are filled from the Rust side; the rest of it is unused.
 */

#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "cifsglob.h"
#include "cifs_debug.h"
#include "cifsproto.h"
#include "smbdirect.h"
#include "trace.h"

#if IS_ENABLED(CONFIG_CIFS_SMB_DIRECT_RUST)

#include "../smbdirect_rs/shim/include/smbdrs_client.h"

/*
 * A Rust registration as cifs sees it: smb2pdu.c reads the buffer
 * descriptor from mr->mr (iova, rkey, length), so desc carries just those.
 */
struct smbd_rs_mr {
	struct smbd_mr mr;
	struct ib_mr desc;
};

/* A request and its data: two parts; a transform header adds one request. */
#define SMBD_RS_MAX_PARTS	(2 * (MAX_COMPOUND + 1))

static struct smbd_connection *smbd_rs_get_connection(struct TCP_Server_Info *server,
						      struct sockaddr *dstaddr)
{
	const struct smbdrs_client_config config = {
		.receive_credit_max = smbd_receive_credit_max,
		.send_credit_target = smbd_send_credit_target,
		.max_send_size = smbd_max_send_size,
		.max_fragmented_recv_size = smbd_max_fragmented_recv_size,
		.max_receive_size = smbd_max_receive_size,
		.keepalive_interval_ms = smbd_keep_alive_interval * 1000,
		.max_frmr_depth = smbd_max_frmr_depth,
	};
	const struct smbdrs_client_ops *ops;
	struct smbdirect_socket_parameters *sp;
	struct smbdrs_client_info info;
	struct smbd_connection *conn;
	int rc;

	ops = symbol_get(smbdrs_client_ops);
	if (!ops) {
		pr_warn_ratelimited("rdma_impl=rust needs the smbdirect_rs module: load it, or mount with rdma_impl=c\n");
		return NULL;
	}
	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		goto put;
	rc = ops->connect(dstaddr, &config, &conn->rs);
	if (rc) {
		cifs_dbg(VFS, "SMB Direct (Rust) connection to %pISpc failed: %d\n",
			 dstaddr, rc);
		goto free;
	}
	conn->rs_ops = ops;
	ops->info(conn->rs, &info);

	sp = &conn->socket.parameters;
	sp->recv_credit_max = info.receive_credit_max;
	sp->send_credit_target = info.send_credit_target;
	sp->max_send_size = info.max_send_size;
	sp->max_fragmented_send_size = info.max_fragmented_send_size;
	sp->max_recv_size = info.max_receive_size;
	sp->max_fragmented_recv_size = info.max_fragmented_recv_size;
	sp->max_read_write_size = info.max_read_write_size;
	sp->keepalive_interval_msec = info.keepalive_interval_ms;
	conn->socket.status = SMBDIRECT_SOCKET_CONNECTED;
	conn->protocol = info.protocol;
	conn->max_frmr_depth = info.max_frmr_depth;
	conn->responder_resources = info.responder_resources;
	conn->rdma_readwrite_threshold = min_t(int, rdma_readwrite_threshold,
					       info.max_fragmented_send_size);
	return conn;

free:
	kfree(conn);
put:
	symbol_put(smbdrs_client_ops);
	return NULL;
}

static void smbd_rs_destroy(struct TCP_Server_Info *server)
{
	struct smbd_connection *conn = server->smbd_conn;

	/* Senders see no connection from here on */
	server->smbd_conn = NULL;
	conn->rs_ops->destroy(conn->rs);
	kfree(conn);
	symbol_put(smbdrs_client_ops);
}

static int smbd_rs_send(struct smbd_connection *conn, int num_rqst,
			struct smb_rqst *rqst)
{
	struct iov_iter parts[SMBD_RS_MAX_PARTS];
	unsigned int n = 0;
	int i, j;

	if (num_rqst < 1 || num_rqst > MAX_COMPOUND + 1)
		return -EINVAL;
	for (i = 0; i < num_rqst; i++) {
		size_t len = 0;

		for (j = 0; j < rqst[i].rq_nvec; j++)
			len += rqst[i].rq_iov[j].iov_len;
		iov_iter_kvec(&parts[n++], ITER_SOURCE, rqst[i].rq_iov,
			      rqst[i].rq_nvec, len);
		/* A copy: a request sent again starts from its beginning */
		if (iov_iter_count(&rqst[i].rq_iter))
			parts[n++] = rqst[i].rq_iter;
	}
	return conn->rs_ops->send(conn->rs, parts, n);
}

static struct smbd_mr *smbd_rs_register_mr(struct smbd_connection *conn,
					   struct iov_iter *iter, bool writing,
					   bool need_invalidate)
{
	struct smbdrs_buffer_desc desc;
	struct smbd_rs_mr *m;
	int rc;

	m = kzalloc(sizeof(*m), GFP_NOFS);
	if (!m)
		return NULL;
	rc = conn->rs_ops->register_mr(conn->rs, iter, writing, &desc,
				       &m->mr.rs);
	if (rc) {
		cifs_dbg(VFS, "SMB Direct (Rust) registration failed: %d\n", rc);
		kfree(m);
		return NULL;
	}
	/* The connection's reference keeps the module: take one for this */
	__module_get(conn->rs_ops->owner);
	m->mr.rs_ops = conn->rs_ops;
	m->mr.mr = &m->desc;
	m->desc.iova = desc.offset;
	m->desc.rkey = desc.token;
	m->desc.length = desc.length;
	m->mr.state = MR_REGISTERED;
	m->mr.dir = writing ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	m->mr.need_invalidate = need_invalidate;
	return &m->mr;
}

static int smbd_rs_deregister_mr(struct smbd_mr *mr)
{
	struct module *owner = mr->rs_ops->owner;
	int rc;

	rc = mr->rs_ops->deregister_mr(mr->rs);
	kfree(container_of(mr, struct smbd_rs_mr, mr));
	module_put(owner);
	return rc;
}

void smbd_rs_debug_show(struct seq_file *m, struct smbd_connection *conn)
{
	struct smbdrs_client_info i;

	conn->rs_ops->info(conn->rs, &i);
	seq_puts(m, "\nSMBDirect implementation: rust (smbdirect_rs)");
	/* The lines and names upstream prints, so tools read both alike */
	seq_printf(m, "\nSMBDirect (in hex) protocol version: %x transport status: %x",
		   i.protocol, i.connected ? SMBDIRECT_SOCKET_CONNECTED :
		   SMBDIRECT_SOCKET_DISCONNECTED);
	seq_printf(m, "\nConn receive_credit_max: %x send_credit_target: %x max_send_size: %x",
		   i.receive_credit_max, i.send_credit_target, i.max_send_size);
	seq_printf(m, "\nConn max_fragmented_recv_size: %x max_fragmented_send_size: %x max_receive_size:%x",
		   i.max_fragmented_recv_size, i.max_fragmented_send_size,
		   i.max_receive_size);
	seq_printf(m, "\nConn keep_alive_interval: %x max_readwrite_size: %x rdma_readwrite_threshold: %x",
		   i.keepalive_interval_ms * 1000, i.max_read_write_size,
		   conn->rdma_readwrite_threshold);
	seq_printf(m, "\nCurrent Credits send_credits: %x receive_credits: %x receive_credit_target: %x",
		   i.send_credits, i.receive_credits, i.receive_credit_target);
	seq_printf(m, "\nMR responder_resources: %x initiator_depth: %x max_frmr_depth: %x",
		   i.responder_resources, i.initiator_depth, i.max_frmr_depth);
	seq_printf(m, "\nRust (decimal) messages_sent: %llu messages_read: %llu bytes_sent: %llu bytes_received: %llu keepalives_sent: %llu send_waits: %llu",
		   i.messages_sent, i.messages_read, i.bytes_sent,
		   i.bytes_received, i.keepalives_sent, i.send_waits);
	seq_printf(m, "\nRust (decimal) receives_posted: %u unread_fragments: %u free_headers: %u context_misses: %llu",
		   i.receives_posted, i.unread_fragments, i.free_headers,
		   i.context_misses);
	seq_printf(m, "\nRust (decimal) registrations: %llu remote_invalidations: %llu local_invalidations: %llu mr_recoveries: %llu",
		   i.registrations, i.remote_invalidations,
		   i.local_invalidations, i.mr_recoveries);
	seq_printf(m, "\nRust (decimal) mrs_in_use: %u mr_waits: %llu",
		   i.mrs_in_use, i.mr_waits);
	seq_printf(m, "\nRust (decimal) softirq_completions: %llu deferred_pumps: %llu",
		   i.softirq_completions, i.deferred_pumps);
}

#else /* !CONFIG_CIFS_SMB_DIRECT_RUST: no connection has rs set */

static struct smbd_connection *smbd_rs_get_connection(struct TCP_Server_Info *server,
						      struct sockaddr *dstaddr)
{
	return NULL;
}

static void smbd_rs_destroy(struct TCP_Server_Info *server)
{
}

static int smbd_rs_send(struct smbd_connection *conn, int num_rqst,
			struct smb_rqst *rqst)
{
	return -EINVAL;
}

static struct smbd_mr *smbd_rs_register_mr(struct smbd_connection *conn,
					   struct iov_iter *iter, bool writing,
					   bool need_invalidate)
{
	return NULL;
}

static int smbd_rs_deregister_mr(struct smbd_mr *mr)
{
	return -EINVAL;
}

void smbd_rs_debug_show(struct seq_file *m, struct smbd_connection *conn)
{
}

#endif /* CONFIG_CIFS_SMB_DIRECT_RUST */

struct smbd_connection *smbd_get_connection(struct TCP_Server_Info *server,
					    struct sockaddr *dstaddr)
{
	if (server->rdma_rust)
		return smbd_rs_get_connection(server, dstaddr);
	return smbd_c_get_connection(server, dstaddr);
}

int smbd_reconnect(struct TCP_Server_Info *server)
{
	if (!server->rdma_rust)
		return smbd_c_reconnect(server);
	if (server->smbd_conn)
		smbd_destroy(server);
	server->smbd_conn =
		smbd_rs_get_connection(server, (struct sockaddr *)&server->dstaddr);
	if (!server->smbd_conn) {
		trace_smb3_smbd_connect_err(server->hostname, server->conn_id,
					    &server->dstaddr);
		return -ENOENT;
	}
	cifs_dbg(VFS, "RDMA transport re-established (rust)\n");
	trace_smb3_smbd_connect_done(server->hostname, server->conn_id,
				     &server->dstaddr);
	return 0;
}

void smbd_destroy(struct TCP_Server_Info *server)
{
	if (server->smbd_conn && server->smbd_conn->rs)
		smbd_rs_destroy(server);
	else
		smbd_c_destroy(server);
}

int smbd_recv(struct smbd_connection *info, struct msghdr *msg)
{
	if (!info->rs)
		return smbd_c_recv(info, msg);
	if (WARN_ON_ONCE(iov_iter_rw(&msg->msg_iter) == WRITE))
		return -EINVAL;
	return info->rs_ops->recv(info->rs, &msg->msg_iter);
}

int smbd_send(struct TCP_Server_Info *server, int num_rqst,
	      struct smb_rqst *rqst)
{
	struct smbd_connection *info = server->smbd_conn;

	if (!info || !info->rs)
		return smbd_c_send(server, num_rqst, rqst);
	return smbd_rs_send(info, num_rqst, rqst);
}

struct smbd_mr *smbd_register_mr(struct smbd_connection *info,
				 struct iov_iter *iter, bool writing,
				 bool need_invalidate)
{
	if (!info->rs)
		return smbd_c_register_mr(info, iter, writing, need_invalidate);
	return smbd_rs_register_mr(info, iter, writing, need_invalidate);
}

int smbd_deregister_mr(struct smbd_mr *mr)
{
	if (!mr->rs)
		return smbd_c_deregister_mr(mr);
	return smbd_rs_deregister_mr(mr);
}
