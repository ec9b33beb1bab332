// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C helpers in `rust/kmod/ib_helpers.c`.
//!
//! They wrap static inline functions of `ib_verbs.h` and `scatterlist.h`; see
//! that file for why they live in this module rather than in `rust/helpers/`.

use kernel::bindings;
use kernel::ffi::{c_int, c_uint, c_void};

/// `smbdrs_page_fn`: called per page piece of an iterator walk.
pub(crate) type PageFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    page: *mut bindings::page,
    offset: c_uint,
    len: c_uint,
) -> c_int;

/// `SMBDRS_ADDRESS_ADDED` of `ib_helpers.h`: what a watch callback reports
/// for an address (`SMBDRS_DEVICE_ADDED`, 0, for a device).
pub(crate) const SMBDRS_ADDRESS_ADDED: c_int = 1;

// `ib_device` embeds `struct dev_msi_info`, which is empty in configurations
// without MSI support; the lint depends on the configuration, hence `allow`.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn smbdrs_ib_post_send(
        qp: *mut bindings::ib_qp,
        wr: *const bindings::ib_send_wr,
        bad_wr: *mut *const bindings::ib_send_wr,
    ) -> c_int;
    pub(crate) fn smbdrs_ib_post_recv(
        qp: *mut bindings::ib_qp,
        wr: *const bindings::ib_recv_wr,
        bad_wr: *mut *const bindings::ib_recv_wr,
    ) -> c_int;
    pub(crate) fn smbdrs_ib_dma_map_single(
        dev: *mut bindings::ib_device,
        cpu_addr: *mut c_void,
        size: usize,
        dir: bindings::dma_data_direction,
    ) -> u64;
    pub(crate) fn smbdrs_ib_dma_mapping_error(dev: *mut bindings::ib_device, addr: u64) -> c_int;
    pub(crate) fn smbdrs_ib_dma_unmap_single(
        dev: *mut bindings::ib_device,
        addr: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    pub(crate) fn smbdrs_ib_dma_sync_single_for_cpu(
        dev: *mut bindings::ib_device,
        addr: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    pub(crate) fn smbdrs_ib_dma_sync_single_for_device(
        dev: *mut bindings::ib_device,
        addr: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    pub(crate) fn smbdrs_ib_dma_map_sg(
        dev: *mut bindings::ib_device,
        sg: *mut bindings::scatterlist,
        nents: c_int,
        dir: bindings::dma_data_direction,
    ) -> c_int;
    pub(crate) fn smbdrs_ib_dma_unmap_sg(
        dev: *mut bindings::ib_device,
        sg: *mut bindings::scatterlist,
        nents: c_int,
        dir: bindings::dma_data_direction,
    );
    pub(crate) fn smbdrs_ib_update_fast_reg_key(mr: *mut bindings::ib_mr, newkey: u8);
    pub(crate) fn smbdrs_ib_inc_rkey(rkey: u32) -> u32;
    pub(crate) fn smbdrs_rdma_protocol_iwarp(dev: *const bindings::ib_device, port: u32) -> bool;
    pub(crate) fn smbdrs_sg_set_buf(
        sg: *mut bindings::scatterlist,
        buf: *const c_void,
        len: c_uint,
    );
    pub(crate) fn smbdrs_qp_event(event: *mut bindings::ib_event, fatal_count: *mut c_void);
    pub(crate) fn smbdrs_cq_set_event_handler(cq: *mut bindings::ib_cq);
    pub(crate) fn smbdrs_ib_init() -> c_int;
    pub(crate) fn smbdrs_ib_exit();
    pub(crate) fn smbdrs_ib_teardown_wq() -> *mut bindings::workqueue_struct;
    pub(crate) fn smbdrs_ib_pump_wq() -> *mut bindings::workqueue_struct;
    pub(crate) fn smbdrs_sg_set_page(
        sg: *mut bindings::scatterlist,
        page: *mut bindings::page,
        len: c_uint,
        offset: c_uint,
    );
    pub(crate) fn smbdrs_noio_save() -> c_uint;
    pub(crate) fn smbdrs_noio_restore(flags: c_uint);
    pub(crate) fn smbdrs_printk_ratelimit() -> bool;
    pub(crate) fn smbdrs_cq_workqueue() -> bool;
    pub(crate) fn smbdrs_in_task() -> bool;
    pub(crate) fn smbdrs_spin_lock_bh(lock: *mut bindings::spinlock_t);
    pub(crate) fn smbdrs_spin_unlock_bh(lock: *mut bindings::spinlock_t);
    pub(crate) fn smbdrs_timer_new(
        fire: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
        ctx: *mut c_void,
    ) -> *mut c_void;
    pub(crate) fn smbdrs_timer_arm(t: *mut c_void, delay_ms: kernel::ffi::c_ulong);
    pub(crate) fn smbdrs_timer_cancel_sync(t: *mut c_void);
    pub(crate) fn smbdrs_timer_free(t: *mut c_void);
    pub(crate) fn smbdrs_page_alloc() -> *mut bindings::page;
    pub(crate) fn smbdrs_iter_walk_pages(
        iter: *mut bindings::iov_iter,
        len: usize,
        f: Option<PageFn>,
        ctx: *mut c_void,
    ) -> isize;
    pub(crate) fn smbdrs_local_ipv4(out: *mut u32, max: c_int) -> c_int;
    pub(crate) fn smbdrs_watch_devices(
        changed: Option<unsafe extern "C" fn(ctx: *mut c_void, what: c_int)>,
        ctx: *mut c_void,
    ) -> c_int;
    pub(crate) fn smbdrs_unwatch_devices();
    pub(crate) fn smbdrs_iter_to_sg(
        iter: *mut bindings::iov_iter,
        len: usize,
        sg: *mut bindings::scatterlist,
        max: c_uint,
        bytes: *mut usize,
    ) -> c_int;
    pub(crate) fn smbdrs_kmem_to_sg(
        buf: *const c_void,
        len: usize,
        sg: *mut bindings::scatterlist,
        max: c_uint,
        bytes: *mut usize,
    ) -> c_int;
    pub(crate) fn smbdrs_sg_put_pages(sg: *mut bindings::scatterlist, nents: c_uint);
    pub(crate) fn smbdrs_page_iter_alloc(max: c_uint) -> *mut c_void;
    pub(crate) fn smbdrs_page_iter_add(
        it: *mut c_void,
        page: *mut bindings::page,
        len: c_uint,
        offset: c_uint,
    ) -> c_int;
    pub(crate) fn smbdrs_page_iter_start(it: *mut c_void, dest: bool) -> *mut bindings::iov_iter;
    pub(crate) fn smbdrs_page_iter_free(it: *mut c_void);
    pub(crate) fn smbdrs_iter_count(iter: *const bindings::iov_iter) -> usize;
    pub(crate) fn smbdrs_copy_to_iter(
        addr: *const c_void,
        bytes: usize,
        iter: *mut bindings::iov_iter,
    ) -> usize;
    pub(crate) fn smbdrs_copy_page_from_iter(
        page: *mut bindings::page,
        offset: usize,
        bytes: usize,
        iter: *mut bindings::iov_iter,
    ) -> usize;
    pub(crate) fn smbdrs_kmem_walk_pages(
        buf: *const c_void,
        len: usize,
        f: Option<PageFn>,
        ctx: *mut c_void,
    ) -> isize;
    pub(crate) fn smbdrs_page_get(page: *mut bindings::page);
    pub(crate) fn smbdrs_page_put(page: *mut bindings::page);
    pub(crate) fn smbdrs_page_copy_to(
        page: *mut bindings::page,
        offset: usize,
        src: *const c_void,
        len: usize,
    );
    pub(crate) fn smbdrs_page_copy_from(
        page: *mut bindings::page,
        offset: usize,
        dst: *mut c_void,
        len: usize,
    );
    pub(crate) fn smbdrs_ib_dma_map_page(
        dev: *mut bindings::ib_device,
        page: *mut bindings::page,
        offset: usize,
        size: usize,
        dir: bindings::dma_data_direction,
    ) -> u64;
    pub(crate) fn smbdrs_ib_dma_unmap_page(
        dev: *mut bindings::ib_device,
        addr: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
}
