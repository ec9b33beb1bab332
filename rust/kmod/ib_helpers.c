// SPDX-License-Identifier: GPL-2.0-only
/*
 * smbdirect-rs: C helpers for the static inline functions of ib_verbs.h and
 * scatterlist.h that the Rust ib layer (rust/ib/) calls.
 *
 * They live in this module, not in rust/helpers/: rust/helpers/ is linked
 * into vmlinux, and some of these inlines reach into ib_core (for software
 * devices such as rxe and siw, ib_dma_map_sg() calls ib_dma_virt_map_sg()),
 * so a vmlinux copy would fail to link with INFINIBAND=m. Here they resolve
 * against ib_core.ko at module load, like any ib_core user.
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fault-inject.h>
#include <linux/highmem.h>
#include <linux/inetdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/scatterlist.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <rdma/ib_verbs.h>

#include "ib_helpers.h"

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
/*
 * Sends to lose (debugfs smbdirect_rs/lose_sends): each of the next that
 * many is taken as posted and never reaches the device, so it never
 * completes, as with a device that loses completions (siw with two CPUs,
 * Documentation/known-bugs.md). The teardown must still free them.
 */
static atomic_t smbdrs_lose_sends = ATOMIC_INIT(0);

static bool smbdrs_send_lost(void)
{
	return atomic_read(&smbdrs_lose_sends) > 0 &&
	       atomic_dec_if_positive(&smbdrs_lose_sends) >= 0;
}

/*
 * A queue pair put in error after a chosen send (debugfs
 * smbdirect_rs/error_qp_after_sends = N): right after the Nth send from
 * now is posted, the send and every work request still queued complete
 * as flushed, as when the peer resets the connection with sends in
 * flight (Documentation/known-bugs.md, entry 14). Our posts run in
 * process context (the connection's resource mutex), where modifying a
 * queue pair may sleep.
 */
static atomic_t smbdrs_error_qp_after_sends = ATOMIC_INIT(0);

static void smbdrs_send_posted(struct ib_qp *qp)
{
	struct ib_qp_attr attr = { .qp_state = IB_QPS_ERR };
	int rc;

	if (atomic_read(&smbdrs_error_qp_after_sends) <= 0 ||
	    atomic_dec_if_positive(&smbdrs_error_qp_after_sends) != 0)
		return;
	rc = ib_modify_qp(qp, &attr, IB_QP_STATE);
	pr_info("smbdirect_rs: test hook: queue pair put in error after a send: %d\n",
		rc);
}
#else
static bool smbdrs_send_lost(void)
{
	return false;
}

static void smbdrs_send_posted(struct ib_qp *qp)
{
}
#endif

int smbdrs_ib_post_send(struct ib_qp *qp, const struct ib_send_wr *wr,
			const struct ib_send_wr **bad_wr)
{
	int rc;

	if (smbdrs_send_lost())
		return 0;
	rc = ib_post_send(qp, wr, bad_wr);
	if (!rc)
		smbdrs_send_posted(qp);
	return rc;
}

int smbdrs_ib_post_recv(struct ib_qp *qp, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr)
{
	return ib_post_recv(qp, wr, bad_wr);
}

/*
 * DMA mapping failures on demand (debugfs fail_smbdrs_dma, with
 * CONFIG_FAULT_INJECTION_DEBUG_FS): rxe and siw map virtually and never
 * fail, so without this the error paths of every mapping would never run.
 * A mapping chosen to fail is undone here and reported as failed, as a
 * device out of IOMMU space would.
 */
#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(smbdrs_fail_dma);

static bool smbdrs_dma_should_fail(size_t size)
{
	return should_fail(&smbdrs_fail_dma, size);
}
#else
static bool smbdrs_dma_should_fail(size_t size)
{
	return false;
}
#endif

u64 smbdrs_ib_dma_map_single(struct ib_device *dev, void *cpu_addr,
			     size_t size, enum dma_data_direction dir)
{
	u64 addr = ib_dma_map_single(dev, cpu_addr, size, dir);

	if (!ib_dma_mapping_error(dev, addr) && smbdrs_dma_should_fail(size)) {
		ib_dma_unmap_single(dev, addr, size, dir);
		return DMA_MAPPING_ERROR;
	}
	return addr;
}

int smbdrs_ib_dma_mapping_error(struct ib_device *dev, u64 dma_addr)
{
	/* Virtual devices report no error, even for an injected failure. */
	if (dma_addr == DMA_MAPPING_ERROR)
		return -ENOMEM;
	return ib_dma_mapping_error(dev, dma_addr);
}

void smbdrs_ib_dma_unmap_single(struct ib_device *dev, u64 addr, size_t size,
				enum dma_data_direction dir)
{
	ib_dma_unmap_single(dev, addr, size, dir);
}

void smbdrs_ib_dma_sync_single_for_cpu(struct ib_device *dev, u64 addr,
				       size_t size,
				       enum dma_data_direction dir)
{
	ib_dma_sync_single_for_cpu(dev, addr, size, dir);
}

void smbdrs_ib_dma_sync_single_for_device(struct ib_device *dev, u64 addr,
					  size_t size,
					  enum dma_data_direction dir)
{
	ib_dma_sync_single_for_device(dev, addr, size, dir);
}

int smbdrs_ib_dma_map_sg(struct ib_device *dev, struct scatterlist *sg,
			 int nents, enum dma_data_direction dir)
{
	int mapped = ib_dma_map_sg(dev, sg, nents, dir);

	if (mapped > 0 && smbdrs_dma_should_fail(sg->length)) {
		ib_dma_unmap_sg(dev, sg, nents, dir);
		return 0;
	}
	return mapped;
}

void smbdrs_ib_dma_unmap_sg(struct ib_device *dev, struct scatterlist *sg,
			    int nents, enum dma_data_direction dir)
{
	ib_dma_unmap_sg(dev, sg, nents, dir);
}

void smbdrs_ib_update_fast_reg_key(struct ib_mr *mr, u8 newkey)
{
	ib_update_fast_reg_key(mr, newkey);
}

u32 smbdrs_ib_inc_rkey(u32 rkey)
{
	return ib_inc_rkey(rkey);
}

bool smbdrs_rdma_protocol_iwarp(const struct ib_device *dev, u32 port_num)
{
	return rdma_protocol_iwarp(dev, port_num);
}

void smbdrs_sg_set_buf(struct scatterlist *sg, const void *buf,
		       unsigned int buflen)
{
	sg_set_buf(sg, buf, buflen);
}

/*
 * Asynchronous QP events: rate-limited, because a broken link can raise
 * one per queue pair per second. Fatal ones are counted for the owner.
 */
void smbdrs_qp_event(struct ib_event *event, void *fatal_count)
{
	switch (event->event) {
	case IB_EVENT_QP_FATAL:
	case IB_EVENT_QP_REQ_ERR:
	case IB_EVENT_QP_ACCESS_ERR:
	case IB_EVENT_PATH_MIG_ERR:
		if (fatal_count)
			atomic_inc(fatal_count);
		/*
		 * On iWARP a peer's message longer than the receive posted
		 * for it breaks the queue pair this way (siw: TERMINATE, DDP
		 * too long) rather than failing the receive.
		 */
		pr_warn_ratelimited("smbdirect-rs: %s: QP event %s, connection broken (one cause: a peer message longer than the agreed receive length)\n",
				    dev_name(&event->device->dev),
				    ib_event_msg(event->event));
		break;
	default:
		pr_info_ratelimited("smbdirect_rs: %s: QP event %s\n",
				    dev_name(&event->device->dev),
				    ib_event_msg(event->event));
		break;
	}
}

static void smbdrs_cq_event(struct ib_event *event, void *context)
{
	pr_warn_ratelimited("smbdirect_rs: %s: CQ event %s\n",
			    dev_name(&event->device->dev),
			    ib_event_msg(event->event));
}

void smbdrs_cq_set_event_handler(struct ib_cq *cq)
{
	cq->event_handler = smbdrs_cq_event;
}

/*
 * One rate limit for every message the Rust side prints about the peer or
 * the device: a hostile or broken peer must not flood the log.
 */
void smbdrs_sg_set_page(struct scatterlist *sg, struct page *page,
			unsigned int len, unsigned int offset)
{
	sg_set_page(sg, page, len, offset);
}

/*
 * Allocation scopes: within one, every allocation of the task behaves as
 * GFP_NOIO, so the cifs writeback path never recurses into reclaim that
 * could wait for the I/O it is doing.
 */
unsigned int smbdrs_noio_save(void)
{
	return memalloc_noio_save();
}

void smbdrs_noio_restore(unsigned int flags)
{
	memalloc_noio_restore(flags);
}

/*
 * Connection completion queues are polled in softirq, as upstream's client
 * polls its own: a completion then wakes the thread waiting for it straight
 * from the device's softirq, with no hop through a work item. Setting this
 * before a connection is made polls its queue from ib_core's workqueue
 * instead (for comparison, or for a driver that misbehaves in softirq).
 */
static bool cq_workqueue;
module_param(cq_workqueue, bool, 0644);
MODULE_PARM_DESC(cq_workqueue,
		 "Poll connection completion queues from a workqueue, not softirq");

bool smbdrs_cq_workqueue(void)
{
	return READ_ONCE(cq_workqueue);
}

bool smbdrs_in_task(void)
{
	return in_task();
}

void smbdrs_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void smbdrs_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

bool smbdrs_printk_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(smbdrs_rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&smbdrs_rs);
}

struct page *smbdrs_page_alloc(void)
{
	return alloc_page(GFP_KERNEL);
}

void smbdrs_page_get(struct page *page)
{
	get_page(page);
}

void smbdrs_page_put(struct page *page)
{
	put_page(page);
}

void smbdrs_page_copy_to(struct page *page, size_t offset, const void *src,
			 size_t len)
{
	void *addr = kmap_local_page(page);

	memcpy(addr + offset, src, len);
	kunmap_local(addr);
}

void smbdrs_page_copy_from(struct page *page, size_t offset, void *dst,
			   size_t len)
{
	void *addr = kmap_local_page(page);

	memcpy(dst, addr + offset, len);
	kunmap_local(addr);
}

/*
 * Calls @fn for each page piece of the next @len bytes of the kernel
 * iterator @iter (KVEC, BVEC, FOLIOQ or XARRAY; user memory is refused),
 * advancing it. iov_iter_extract_pages() takes no page reference for these
 * iterators: @fn takes its own. Returns @len, or a negative errno (-EIO
 * when the iterator holds fewer bytes, or what @fn returned).
 */
ssize_t smbdrs_iter_walk_pages(struct iov_iter *iter, size_t len,
			       smbdrs_page_fn fn, void *ctx)
{
	struct page *batch[16];
	size_t done = 0;

	if (user_backed_iter(iter))
		return -EFAULT;
	while (done < len) {
		struct page **pages = batch;
		size_t off, left;
		ssize_t got;
		int i, rc;

		got = iov_iter_extract_pages(iter, &pages, len - done,
					     ARRAY_SIZE(batch), 0, &off);
		if (got < 0)
			return got;
		if (got == 0)
			return -EIO;
		left = got;
		for (i = 0; left; i++) {
			size_t piece = min_t(size_t, left, PAGE_SIZE - off);

			rc = fn(ctx, pages[i], off, piece);
			if (rc)
				return rc;
			left -= piece;
			off = 0;
		}
		done += got;
	}
	return done;
}

/*
 * Describes the next bytes of @iter (kernel memory, as above) in @sg, one
 * entry per page piece, each holding a reference to its page: at most @len
 * bytes and @max entries, whichever comes first. @sg's entries are set up
 * afresh (a table may be reused), the last one marked as the end. *@bytes
 * gets the bytes described, by which @iter is advanced. Returns the entries
 * filled, or a negative errno with no reference held and @iter reverted.
 * One loop without per-page calls: a registration of 1 MiB fills 256.
 */
int smbdrs_iter_to_sg(struct iov_iter *iter, size_t len,
		      struct scatterlist *sg, unsigned int max, size_t *bytes)
{
	struct page *batch[16];
	unsigned int n = 0;
	size_t done = 0;
	ssize_t err = -EIO;

	*bytes = 0;
	if (user_backed_iter(iter))
		return -EFAULT;
	while (done < len && n < max) {
		struct page **pages = batch;
		size_t off, left;
		ssize_t got;
		int i;

		got = iov_iter_extract_pages(iter, &pages, len - done,
					     min_t(unsigned int, max - n,
						   ARRAY_SIZE(batch)),
					     0, &off);
		if (got <= 0) {
			err = got;
			goto undo;
		}
		left = got;
		for (i = 0; left; i++, n++) {
			size_t piece = min_t(size_t, left, PAGE_SIZE - off);

			sg_init_table(&sg[n], 1);
			if (n)
				sg_unmark_end(&sg[n - 1]);
			get_page(pages[i]);
			sg_set_page(&sg[n], pages[i], piece, off);
			left -= piece;
			off = 0;
		}
		done += got;
	}
	if (!n)
		return -EINVAL;
	*bytes = done;
	return n;
undo:
	if (!err)
		err = -EIO;
	smbdrs_sg_put_pages(sg, n);
	iov_iter_revert(iter, done);
	return err;
}

/* The same over @len bytes of kernel memory at @buf (kmalloc or vmalloc). */
int smbdrs_kmem_to_sg(const void *buf, size_t len, struct scatterlist *sg,
		      unsigned int max, size_t *bytes)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
	return smbdrs_iter_to_sg(&iter, len, sg, max, bytes);
}

/* Drops the page references of @nents entries filled by smbdrs_iter_to_sg. */
void smbdrs_sg_put_pages(struct scatterlist *sg, unsigned int nents)
{
	unsigned int i;

	for (i = 0; i < nents; i++)
		put_page(sg_page(&sg[i]));
}

/*
 * A BVEC iterator over pages its owner keeps alive: memory handed to the
 * transport the way cifs hands its folios, for the in-kernel tests.
 */
struct smbdrs_page_iter {
	struct iov_iter iter;
	unsigned int nr, max;
	size_t count;
	struct bio_vec bvec[];
};

struct smbdrs_page_iter *smbdrs_page_iter_alloc(unsigned int max)
{
	struct smbdrs_page_iter *it;

	it = kzalloc(struct_size(it, bvec, max), GFP_KERNEL);
	if (it)
		it->max = max;
	return it;
}

int smbdrs_page_iter_add(struct smbdrs_page_iter *it, struct page *page,
			 unsigned int len, unsigned int offset)
{
	if (it->nr == it->max)
		return -ENOSPC;
	bvec_set_page(&it->bvec[it->nr++], page, len, offset);
	it->count += len;
	return 0;
}

/* Starts the iterator over the pages added; @dest: data goes into them. */
struct iov_iter *smbdrs_page_iter_start(struct smbdrs_page_iter *it,
					bool dest)
{
	iov_iter_bvec(&it->iter, dest ? ITER_DEST : ITER_SOURCE, it->bvec,
		      it->nr, it->count);
	return &it->iter;
}

void smbdrs_page_iter_free(struct smbdrs_page_iter *it)
{
	kfree(it);
}

size_t smbdrs_iter_count(const struct iov_iter *iter)
{
	return iov_iter_count(iter);
}

size_t smbdrs_copy_to_iter(const void *addr, size_t bytes,
			   struct iov_iter *iter)
{
	return copy_to_iter(addr, bytes, iter);
}

/* Copies @bytes from @iter into @page at @offset, advancing @iter. */
size_t smbdrs_copy_page_from_iter(struct page *page, size_t offset,
				  size_t bytes, struct iov_iter *iter)
{
	return copy_page_from_iter(page, offset, bytes, iter);
}

/* The same over @len bytes of kernel memory at @buf (kmalloc or vmalloc). */
ssize_t smbdrs_kmem_walk_pages(const void *buf, size_t len,
			       smbdrs_page_fn fn, void *ctx)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
	return smbdrs_iter_walk_pages(&iter, len, fn, ctx);
}

u64 smbdrs_ib_dma_map_page(struct ib_device *dev, struct page *page,
			   size_t offset, size_t size,
			   enum dma_data_direction dir)
{
	u64 addr = ib_dma_map_page(dev, page, offset, size, dir);

	if (!ib_dma_mapping_error(dev, addr) && smbdrs_dma_should_fail(size)) {
		ib_dma_unmap_page(dev, addr, size, dir);
		return DMA_MAPPING_ERROR;
	}
	return addr;
}

void smbdrs_ib_dma_unmap_page(struct ib_device *dev, u64 addr, size_t size,
			      enum dma_data_direction dir)
{
	ib_dma_unmap_page(dev, addr, size, dir);
}

/*
 * A queue pair dropped from its own completion handler cannot be drained
 * there (the drain waits for that very workqueue); its teardown runs on this
 * queue instead. destroy_workqueue() at module exit waits for it, so no
 * teardown outlives the module's code.
 */
static struct workqueue_struct *smbdrs_teardown_wq;

/*
 * What a completion handled in softirq leaves to post (receives to post
 * again, sends it gave credits to) is posted from this queue: high
 * priority, on the completing CPU. Destroyed at module exit, before the
 * teardown queue its work items may still feed.
 */
static struct workqueue_struct *smbdrs_pump_wq;

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static struct dentry *smbdrs_fail_dma_dir;
static struct dentry *smbdrs_debug_dir;
#endif

int smbdrs_ib_init(void)
{
	smbdrs_teardown_wq = alloc_workqueue("smbdrs_teardown",
					     WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!smbdrs_teardown_wq)
		return -ENOMEM;
	smbdrs_pump_wq = alloc_workqueue("smbdrs_pump",
					 WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	if (!smbdrs_pump_wq) {
		destroy_workqueue(smbdrs_teardown_wq);
		return -ENOMEM;
	}
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	/*
	 * Quiet: a failure's stack trace would read as a kernel report, and
	 * the per-task fail-nth walks of the self tests reach these points
	 * too. Optional: without debugfs, no failure is ever injected.
	 */
	smbdrs_fail_dma.verbose = 0;
	smbdrs_fail_dma_dir = fault_create_debugfs_attr("fail_smbdrs_dma", NULL,
							&smbdrs_fail_dma);
	smbdrs_debug_dir = debugfs_create_dir("smbdirect_rs", NULL);
	debugfs_create_atomic_t("lose_sends", 0600, smbdrs_debug_dir,
				&smbdrs_lose_sends);
	debugfs_create_atomic_t("error_qp_after_sends", 0600, smbdrs_debug_dir,
				&smbdrs_error_qp_after_sends);
#endif
	return 0;
}

void smbdrs_ib_exit(void)
{
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	if (!IS_ERR_OR_NULL(smbdrs_fail_dma_dir))
		debugfs_remove_recursive(smbdrs_fail_dma_dir);
	debugfs_remove_recursive(smbdrs_debug_dir);
#endif
	destroy_workqueue(smbdrs_pump_wq);
	destroy_workqueue(smbdrs_teardown_wq);
}

struct workqueue_struct *smbdrs_ib_teardown_wq(void)
{
	return smbdrs_teardown_wq;
}

struct workqueue_struct *smbdrs_ib_pump_wq(void)
{
	return smbdrs_pump_wq;
}

/*
 * A delayed work item that calls back into Rust: the Rust side owns the
 * allocation and arms, stops and frees it (rust/ib/timer.rs).
 */
struct smbdrs_timer {
	struct delayed_work work;
	void (*fire)(void *ctx);
	void *ctx;
};

static void smbdrs_timer_work(struct work_struct *work)
{
	struct smbdrs_timer *t =
		container_of(to_delayed_work(work), struct smbdrs_timer, work);

	t->fire(t->ctx);
}

struct smbdrs_timer *smbdrs_timer_new(void (*fire)(void *ctx), void *ctx)
{
	struct smbdrs_timer *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	INIT_DELAYED_WORK(&t->work, smbdrs_timer_work);
	t->fire = fire;
	t->ctx = ctx;
	return t;
}

void smbdrs_timer_arm(struct smbdrs_timer *t, unsigned long delay_ms)
{
	mod_delayed_work(system_wq, &t->work, msecs_to_jiffies(delay_ms));
}

void smbdrs_timer_cancel_sync(struct smbdrs_timer *t)
{
	cancel_delayed_work_sync(&t->work);
}

void smbdrs_timer_free(struct smbdrs_timer *t)
{
	kfree(t);
}

/*
 * The IPv4 addresses of the init namespace's interfaces that are up, not
 * loopback: where a server may listen. Up to @max into @out; returns how
 * many.
 */
int smbdrs_local_ipv4(__be32 *out, int max)
{
	struct net_device *dev;
	int n = 0;

	rcu_read_lock();
	for_each_netdev_rcu(&init_net, dev) {
		struct in_device *in_dev;
		const struct in_ifaddr *ifa;

		if (!(dev->flags & IFF_UP) || (dev->flags & IFF_LOOPBACK))
			continue;
		in_dev = __in_dev_get_rcu(dev);
		if (!in_dev)
			continue;
		in_dev_for_each_ifa_rcu(ifa, in_dev) {
			if (n < max)
				out[n++] = ifa->ifa_local;
		}
	}
	rcu_read_unlock();
	return n;
}

/*
 * One watcher of RDMA devices at a time (a server): ib_core calls the
 * client's add for every device present when it registers and for every
 * device added later, with no context of ours, hence the statics. An IPv4
 * address added to an interface counts too: it may be where a device
 * already present can be listened on.
 */
static void (*smbdrs_devices_changed)(void *ctx, int what);
static void *smbdrs_devices_ctx;

static int smbdrs_device_add(struct ib_device *dev)
{
	smbdrs_devices_changed(smbdrs_devices_ctx, SMBDRS_DEVICE_ADDED);
	return 0;
}

static void smbdrs_device_remove(struct ib_device *dev, void *client_data)
{
}

static struct ib_client smbdrs_device_client = {
	.name = "smbdirect_rs",
	.add = smbdrs_device_add,
	.remove = smbdrs_device_remove,
};

/* Process context, under RTNL: the callback only queues work. */
static int smbdrs_inetaddr_event(struct notifier_block *nb,
				 unsigned long event, void *ptr)
{
	const struct in_ifaddr *ifa = ptr;

	if (event == NETDEV_UP && net_eq(dev_net(ifa->ifa_dev->dev), &init_net))
		smbdrs_devices_changed(smbdrs_devices_ctx, SMBDRS_ADDRESS_ADDED);
	return NOTIFY_DONE;
}

static struct notifier_block smbdrs_inetaddr_nb = {
	.notifier_call = smbdrs_inetaddr_event,
};

int smbdrs_watch_devices(void (*changed)(void *ctx, int what), void *ctx)
{
	int rc;

	smbdrs_devices_changed = changed;
	smbdrs_devices_ctx = ctx;
	rc = register_inetaddr_notifier(&smbdrs_inetaddr_nb);
	if (rc)
		return rc;
	rc = ib_register_client(&smbdrs_device_client);
	if (rc)
		unregister_inetaddr_notifier(&smbdrs_inetaddr_nb);
	return rc;
}

/* Returns once no callback runs any more. */
void smbdrs_unwatch_devices(void)
{
	ib_unregister_client(&smbdrs_device_client);
	unregister_inetaddr_notifier(&smbdrs_inetaddr_nb);
}
