// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * smbdirect-rs: ksmbd's SMB Direct entry points, routed to upstream's C
 * transport (transport_rdma.c, whose entry points are ksmbd_rdma_c_*) or,
 * with the module parameter rdma_impl=rust, to the Rust transport of
 * smbdirect_rs.ko.
 *
 * Built into ksmbd.ko as fs/smb/server/transport_rdma_shim.c (a link made
 * by scripts/kernel.sh). rdma_impl is read when ksmbd starts its
 * transports (ksmbd.mountd starting the server), so it can change between
 * a ksmbd.control --shutdown and the next start. With rust chosen and
 * smbdirect_rs not loaded, the start fails and says why; while the Rust
 * transport runs, smbdirect_rs is held.
 */

#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <rdma/ib_verbs.h>

#include "glob.h"
#include "connection.h"
#include "smb_common.h"
#include "transport_rdma.h"

static char *rdma_impl = IS_ENABLED(CONFIG_SMB_SERVER_SMBDIRECT_RUST) ?
			 "rust" : "c";
module_param(rdma_impl, charp, 0644);
MODULE_PARM_DESC(rdma_impl,
		 "SMB Direct transport, read when the server starts: c (transport_rdma.c) or rust (smbdirect_rs)");

#if IS_ENABLED(CONFIG_SMB_SERVER_SMBDIRECT_RUST)

#include "../smbdirect_rs/shim/include/smbdrs_server.h"

/* The running Rust transport, or NULL when the C one (or none) runs */
static const struct smbdrs_server_ops *rs_ops;
static void *rs_server;

struct smbd_rs_transport {
	struct ksmbd_transport transport;
	void *rs;
};

#define RS_TRANS(t) container_of(t, struct smbd_rs_transport, transport)

static int smbd_rs_prepare(struct ksmbd_transport *t)
{
	return rs_ops->negotiate(RS_TRANS(t)->rs);
}

static void smbd_rs_shutdown(struct ksmbd_transport *t)
{
	rs_ops->abort(RS_TRANS(t)->rs);
}

/* Called once, when the connection's thread ends: ksmbd frees conn here */
static void smbd_rs_disconnect(struct ksmbd_transport *t)
{
	struct smbd_rs_transport *rt = RS_TRANS(t);

	rs_ops->destroy(rt->rs);
	rt->rs = NULL;
	ksmbd_conn_free(t->conn);
}

static int smbd_rs_read(struct ksmbd_transport *t, char *buf,
			unsigned int size, int max_retries)
{
	if (!RS_TRANS(t)->rs)
		return -ENOTCONN;
	return rs_ops->read(RS_TRANS(t)->rs, buf, size);
}

static int smbd_rs_writev(struct ksmbd_transport *t, struct kvec *iov,
			  int niov, int size, bool need_invalidate,
			  unsigned int remote_key)
{
	struct iov_iter iter;

	if (!RS_TRANS(t)->rs)
		return -ENOTCONN;
	/* iov[0] starts with the RFC 1002 length, which SMB Direct omits */
	if (size < 4 || niov < 1 || iov[0].iov_len < 4)
		return -EINVAL;
	iov_iter_kvec(&iter, ITER_SOURCE, iov, niov, size);
	iov_iter_advance(&iter, 4);
	return rs_ops->send(RS_TRANS(t)->rs, &iter, need_invalidate,
			    remote_key);
}

static int smbd_rs_rdma_read(struct ksmbd_transport *t, void *buf,
			     unsigned int len,
			     struct smb2_buffer_desc_v1 *desc,
			     unsigned int desc_len)
{
	if (!RS_TRANS(t)->rs)
		return -ENOTCONN;
	return rs_ops->rdma(RS_TRANS(t)->rs, false, buf, len, desc, desc_len);
}

static int smbd_rs_rdma_write(struct ksmbd_transport *t, void *buf,
			      unsigned int len,
			      struct smb2_buffer_desc_v1 *desc,
			      unsigned int desc_len)
{
	if (!RS_TRANS(t)->rs)
		return -ENOTCONN;
	return rs_ops->rdma(RS_TRANS(t)->rs, true, buf, len, desc, desc_len);
}

static void smbd_rs_free_transport(struct ksmbd_transport *t)
{
	kfree(RS_TRANS(t));
}

static const struct ksmbd_transport_ops smbd_rs_transport_ops = {
	.prepare = smbd_rs_prepare,
	.disconnect = smbd_rs_disconnect,
	.shutdown = smbd_rs_shutdown,
	.read = smbd_rs_read,
	.writev = smbd_rs_writev,
	.rdma_read = smbd_rs_rdma_read,
	.rdma_write = smbd_rs_rdma_write,
	.free_transport = smbd_rs_free_transport,
};

/* A connection the Rust transport accepted becomes a ksmbd connection */
static int smbd_rs_accepted(void *rs, const struct sockaddr *peer)
{
	struct smbd_rs_transport *rt;
	struct task_struct *handler;
	struct ksmbd_conn *conn;

	rt = kzalloc(sizeof(*rt), KSMBD_DEFAULT_GFP);
	if (!rt)
		return -ENOMEM;
	conn = ksmbd_conn_alloc();
	if (!conn) {
		kfree(rt);
		return -ENOMEM;
	}
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;

		conn->inet_addr = sin->sin_addr.s_addr;
		memcpy(&conn->peer_addr, sin, sizeof(*sin));
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)peer;

		memcpy(conn->inet6_addr, &sin6->sin6_addr, 16);
		memcpy(&conn->peer_addr, sin6, sizeof(*sin6));
	}
	rt->rs = rs;
	rt->transport.conn = conn;
	rt->transport.ops = &smbd_rs_transport_ops;
	conn->transport = &rt->transport;

	down_write(&conn_list_lock);
	hash_add(conn_list, &conn->hlist, 0);
	up_write(&conn_list_lock);

	handler = kthread_run(ksmbd_conn_handler_loop, conn, "ksmbd:rs");
	if (IS_ERR(handler)) {
		pr_err("smb_direct (rust): cannot start a connection thread: %ld\n",
		       PTR_ERR(handler));
		/* The caller destroys the Rust side: forget it here */
		rt->rs = NULL;
		ksmbd_conn_free(conn);
		return PTR_ERR(handler);
	}
	return 0;
}

static int smbd_rs_init(void)
{
	const struct smbdrs_server_config config = {
		.max_read_write_size = get_smbd_max_read_write_size(),
		.accepted = smbd_rs_accepted,
	};
	int rc;

	rs_ops = symbol_get(smbdrs_server_ops);
	if (!rs_ops) {
		pr_err("rdma_impl=rust needs the smbdirect_rs module: load it, or set ksmbd's rdma_impl=c\n");
		return -ENOENT;
	}
	rc = rs_ops->start(&config, &rs_server);
	if (rc) {
		pr_err("smb_direct (rust) cannot start: %d\n", rc);
		rs_ops = NULL;
		symbol_put(smbdrs_server_ops);
		return rc;
	}
	pr_info("smb_direct: serving with the Rust transport (smbdirect_rs)\n");
	return 0;
}

static bool smbd_rs_running(void)
{
	return rs_ops;
}

static void smbd_rs_stop_listening(void)
{
	if (rs_server) {
		rs_ops->stop(rs_server);
		rs_server = NULL;
	}
}

/* After stop_sessions: no Rust connection is left */
static void smbd_rs_destroy(void)
{
	smbd_rs_stop_listening();
	rs_ops = NULL;
	symbol_put(smbdrs_server_ops);
}

#else /* !CONFIG_SMB_SERVER_SMBDIRECT_RUST */

static int smbd_rs_init(void)
{
	pr_err("rdma_impl=rust: this kernel has only the C transport (CONFIG_SMB_SERVER_SMBDIRECT_RUST is off)\n");
	return -EINVAL;
}

static bool smbd_rs_running(void)
{
	return false;
}

static void smbd_rs_stop_listening(void)
{
}

static void smbd_rs_destroy(void)
{
}

#endif /* CONFIG_SMB_SERVER_SMBDIRECT_RUST */

int ksmbd_rdma_init(void)
{
	/* sysfs_streq: a value written through sysfs ends with a newline */
	if (sysfs_streq(rdma_impl, "rust"))
		return smbd_rs_init();
	if (!sysfs_streq(rdma_impl, "c")) {
		pr_err("rdma_impl=%s: c or rust\n", rdma_impl);
		return -EINVAL;
	}
	return ksmbd_rdma_c_init();
}

void ksmbd_rdma_stop_listening(void)
{
	if (smbd_rs_running())
		smbd_rs_stop_listening();
	else
		ksmbd_rdma_c_stop_listening();
}

void ksmbd_rdma_destroy(void)
{
	if (smbd_rs_running())
		smbd_rs_destroy();
	else
		ksmbd_rdma_c_destroy();
}

/* FSCTL_QUERY_NETWORK_INTERFACE_INFO: whichever transport runs */
bool ksmbd_rdma_capable_netdev(struct net_device *netdev)
{
	struct ib_device *ibdev;

	if (!smbd_rs_running())
		return ksmbd_rdma_c_capable_netdev(netdev);
	ibdev = ib_device_get_by_netdev(netdev, RDMA_DRIVER_UNKNOWN);
	if (!ibdev)
		return false;
	ib_device_put(ibdev);
	return true;
}
