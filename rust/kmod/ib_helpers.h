/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * smbdirect-rs: prototypes of the ib_verbs.h inline wrappers in
 * ib_helpers.c. The Rust side declares the same functions in rust/ib/ffi.rs.
 */
#ifndef _SMBDRS_IB_HELPERS_H
#define _SMBDRS_IB_HELPERS_H

#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <rdma/ib_verbs.h>

int smbdrs_ib_post_send(struct ib_qp *qp, const struct ib_send_wr *wr,
			const struct ib_send_wr **bad_wr);
int smbdrs_ib_post_recv(struct ib_qp *qp, const struct ib_recv_wr *wr,
			const struct ib_recv_wr **bad_wr);
u64 smbdrs_ib_dma_map_single(struct ib_device *dev, void *cpu_addr,
			     size_t size, enum dma_data_direction dir);
int smbdrs_ib_dma_mapping_error(struct ib_device *dev, u64 dma_addr);
void smbdrs_ib_dma_unmap_single(struct ib_device *dev, u64 addr, size_t size,
				enum dma_data_direction dir);
void smbdrs_ib_dma_sync_single_for_cpu(struct ib_device *dev, u64 addr,
				       size_t size,
				       enum dma_data_direction dir);
void smbdrs_ib_dma_sync_single_for_device(struct ib_device *dev, u64 addr,
					  size_t size,
					  enum dma_data_direction dir);
int smbdrs_ib_dma_map_sg(struct ib_device *dev, struct scatterlist *sg,
			 int nents, enum dma_data_direction dir);
void smbdrs_ib_dma_unmap_sg(struct ib_device *dev, struct scatterlist *sg,
			    int nents, enum dma_data_direction dir);
void smbdrs_ib_update_fast_reg_key(struct ib_mr *mr, u8 newkey);
u32 smbdrs_ib_inc_rkey(u32 rkey);
bool smbdrs_rdma_protocol_iwarp(const struct ib_device *dev, u32 port_num);
void smbdrs_sg_set_buf(struct scatterlist *sg, const void *buf,
		       unsigned int buflen);
void smbdrs_qp_event(struct ib_event *event, void *fatal_count);
void smbdrs_cq_set_event_handler(struct ib_cq *cq);
int smbdrs_ib_init(void);
void smbdrs_ib_exit(void);
struct workqueue_struct *smbdrs_ib_teardown_wq(void);
struct workqueue_struct *smbdrs_ib_pump_wq(void);

void smbdrs_sg_set_page(struct scatterlist *sg, struct page *page,
			unsigned int len, unsigned int offset);
unsigned int smbdrs_noio_save(void);
void smbdrs_noio_restore(unsigned int flags);
bool smbdrs_printk_ratelimit(void);
bool smbdrs_cq_workqueue(void);
bool smbdrs_in_task(void);
void smbdrs_spin_lock_bh(spinlock_t *lock);
void smbdrs_spin_unlock_bh(spinlock_t *lock);
typedef int (*smbdrs_page_fn)(void *ctx, struct page *page,
			      unsigned int offset, unsigned int len);
ssize_t smbdrs_iter_walk_pages(struct iov_iter *iter, size_t len,
			       smbdrs_page_fn fn, void *ctx);
int smbdrs_iter_to_sg(struct iov_iter *iter, size_t len,
		      struct scatterlist *sg, unsigned int max, size_t *bytes);
int smbdrs_kmem_to_sg(const void *buf, size_t len, struct scatterlist *sg,
		      unsigned int max, size_t *bytes);
void smbdrs_sg_put_pages(struct scatterlist *sg, unsigned int nents);
struct smbdrs_page_iter;
struct smbdrs_page_iter *smbdrs_page_iter_alloc(unsigned int max);
int smbdrs_page_iter_add(struct smbdrs_page_iter *it, struct page *page,
			 unsigned int len, unsigned int offset);
struct iov_iter *smbdrs_page_iter_start(struct smbdrs_page_iter *it,
					bool dest);
void smbdrs_page_iter_free(struct smbdrs_page_iter *it);
size_t smbdrs_iter_count(const struct iov_iter *iter);
size_t smbdrs_copy_to_iter(const void *addr, size_t bytes,
			   struct iov_iter *iter);
size_t smbdrs_copy_page_from_iter(struct page *page, size_t offset,
				  size_t bytes, struct iov_iter *iter);
ssize_t smbdrs_kmem_walk_pages(const void *buf, size_t len,
			       smbdrs_page_fn fn, void *ctx);
struct page *smbdrs_page_alloc(void);
void smbdrs_page_get(struct page *page);
void smbdrs_page_put(struct page *page);
void smbdrs_page_copy_to(struct page *page, size_t offset, const void *src,
			 size_t len);
void smbdrs_page_copy_from(struct page *page, size_t offset, void *dst,
			   size_t len);
u64 smbdrs_ib_dma_map_page(struct ib_device *dev, struct page *page,
			   size_t offset, size_t size,
			   enum dma_data_direction dir);
void smbdrs_ib_dma_unmap_page(struct ib_device *dev, u64 addr, size_t size,
			      enum dma_data_direction dir);

struct smbdrs_timer;
struct smbdrs_timer *smbdrs_timer_new(void (*fire)(void *ctx), void *ctx);
void smbdrs_timer_arm(struct smbdrs_timer *t, unsigned long delay_ms);
void smbdrs_timer_cancel_sync(struct smbdrs_timer *t);
void smbdrs_timer_free(struct smbdrs_timer *t);

int smbdrs_local_ipv4(__be32 *out, int max);
/* What changed, for the watcher's callback. */
#define SMBDRS_DEVICE_ADDED 0
#define SMBDRS_ADDRESS_ADDED 1
int smbdrs_watch_devices(void (*changed)(void *ctx, int what), void *ctx);
void smbdrs_unwatch_devices(void);

#endif /* _SMBDRS_IB_HELPERS_H */
