// SPDX-License-Identifier: GPL-2.0

//! Queue pairs and the work requests posted on them.
//!
//! C header: [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h).
//!
//! Completions use the `ib_cqe` pattern: every posted work request carries a
//! [`Posted`] context, from a pool allocated with the queue pair (one per
//! queue slot), whose first field is the `ib_cqe` ib_core calls back. The
//! callback takes the context out of its slot, and with it the buffer,
//! memory region or context the work request used, and hands everything to
//! the queue pair's [`WorkHandler`] as a [`Done`].
//!
//! A queue pair counts the work requests it has outstanding and refuses
//! (`ENOSPC`) one that would not fit, so the slot each queue keeps for the
//! drain work request of `ib_drain_qp` is never taken, and the completion
//! queue, sized for all of them, cannot overflow.

use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::{Arc, UniqueArc};
use kernel::workqueue::{self, impl_has_work, new_work, Work, WorkItem};

use super::cm::{CmId, CmIdInner};
use super::dma::DmaBuf;
use super::mr::{Access, FastRegMr, MrInner, RemoteKey};
use super::page::{MappedPayload, SendPayload, MAX_PAYLOAD_SPANS};
use super::pool::SlotPool;
use super::rw::RwCtx;
use super::verbs::{current_task, reserve_slots, Cq, Done, Pd, WorkHandler, WorkKind};
use super::{errno, ffi};

/// Sizes of a queue pair's queues.
#[derive(Clone, Copy, Debug)]
pub struct QueuePairCaps {
    /// Send work requests outstanding at once.
    pub max_send_wr: u32,
    /// Receive work requests outstanding at once.
    pub max_recv_wr: u32,
    /// Scatter/gather entries per send.
    pub max_send_sge: u32,
    /// Scatter/gather entries per receive.
    pub max_recv_sge: u32,
    /// RDMA read/write contexts in flight at once (0 if none are used);
    /// ib_core adds their work requests to the send queue and, on iWARP,
    /// an MR pool for them.
    pub max_rdma_ctxs: u32,
}

/// The owner of one `ib_qp`, shared by the [`QueuePair`] and by RDMA
/// read/write contexts made on it (which must be destroyed before it).
///
/// # Invariants
///
/// `qp` is `id`'s queue pair, valid until `drop`; `cqe_reserved` entries of
/// `cq` are reserved for it.
pub(crate) struct QpCore {
    qp: NonNull<bindings::ib_qp>,
    pub(crate) id: Arc<CmIdInner>,
    pub(crate) pd: Pd,
    cq: Cq,
    cqe_reserved: u32,
    port_num: u32,
    iwarp: bool,
}

// SAFETY: ib_core's queue pair calls may be made from any context that may
// sleep, on any CPU; the fields are set at creation and read-only after.
unsafe impl Send for QpCore {}
// SAFETY: As above.
unsafe impl Sync for QpCore {}

impl QpCore {
    pub(crate) fn as_ptr(&self) -> *mut bindings::ib_qp {
        self.qp.as_ptr()
    }

    pub(crate) fn port_num(&self) -> u32 {
        self.port_num
    }
}

impl Drop for QpCore {
    fn drop(&mut self) {
        // SAFETY: The queue pair was drained when its `QueuePair` was dropped
        // and every RDMA read/write context made on it (they hold this
        // value) is destroyed, so nothing references it any more.
        unsafe { bindings::rdma_destroy_qp(self.id.as_ptr()) };
        self.cq.inner.unreserve(self.cqe_reserved);
        self.id.release_qp();
    }
}

/// The context of one posted work request.
///
/// `cqe` must stay the first field: ib_core hands back a pointer to it.
#[repr(C)]
struct Posted<H: WorkHandler> {
    cqe: bindings::ib_cqe,
    kind: WorkKind,
    /// Send queue slots the work request takes (0 for a receive).
    send_slots: u32,
    /// The queue pair's shared state; valid until this completes, because
    /// the queue pair is drained before that state is freed.
    qp: *const QpShared<H>,
    buf: Option<DmaBuf>,
    mr: Option<Arc<MrInner>>,
    rw: Option<RwCtx>,
    /// Caller pages a send maps; unmapped and released when this context
    /// is freed, after the completion.
    payload: Option<MappedPayload>,
    tag: H::Tag,
    /// Next on the list of contexts of partly posted chains (see `post_rw`).
    next_orphan: *mut Posted<H>,
}

/// What a queue pair shares with its completions: the handler, the queue
/// accounting and, when dropped from its own completion context, the work
/// item that tears it down.
#[pin_data]
struct QpShared<H: WorkHandler> {
    #[pin]
    teardown: Work<QpShared<H>>,
    core: Arc<QpCore>,
    handler: Arc<H>,
    send_used: AtomicU32,
    send_cap: u32,
    recv_used: AtomicU32,
    recv_cap: u32,
    /// Contexts of RDMA read/write chains that failed part-way: their prefix
    /// may still be executing, so they are freed only after the drain.
    orphans: AtomicPtr<Posted<H>>,
    /// The contexts of posted work requests, one per queue slot, allocated
    /// with the queue pair: posting and completing do not allocate.
    #[pin]
    contexts: SlotPool<Posted<H>>,
}

impl_has_work! {
    impl{H: WorkHandler} HasWork<QpShared<H>> for QpShared<H> { self.teardown }
}

// SAFETY: The raw pointers (`orphans`) are owned by this value and freed
// only by it; everything else is `Send` and `Sync` already.
unsafe impl<H: WorkHandler> Send for QpShared<H> {}
// SAFETY: As above; `orphans` is only pushed to atomically through `&self`.
unsafe impl<H: WorkHandler> Sync for QpShared<H> {}

impl<H: WorkHandler> QpShared<H> {
    fn new(
        core: Arc<QpCore>,
        handler: Arc<H>,
        send_cap: u32,
        recv_cap: u32,
    ) -> impl PinInit<Self, Error> {
        let n_contexts = send_cap.saturating_add(recv_cap) as usize;
        try_pin_init!(Self {
            teardown <- new_work!("smbdrs_qp_teardown"),
            core,
            handler,
            send_used: AtomicU32::new(0),
            send_cap,
            recv_used: AtomicU32::new(0),
            recv_cap,
            orphans: AtomicPtr::new(core::ptr::null_mut()),
            contexts <- SlotPool::new(n_contexts),
        }? Error)
    }

    /// Takes the context of a completed or refused work request back out
    /// of its slot and returns the slot to the pool.
    ///
    /// # Safety
    ///
    /// `p` came from `QueuePair::posted` on this queue pair, holds a
    /// context, and no device or completion will use it any more.
    unsafe fn reclaim(&self, p: *mut Posted<H>) -> Posted<H> {
        // SAFETY: By the function's contract `p` holds an initialised
        // context that nothing else uses; reading moves it out.
        let posted = unsafe { p.read() };
        // SAFETY: The slot came from this pool and no longer holds a value.
        unsafe { self.contexts.give(p) };
        posted
    }

    /// Hands a context back to the handler as its completion (`status`,
    /// `byte_len` bytes), after the queue accounting.
    fn complete(
        &self,
        posted: Posted<H>,
        status: u32,
        byte_len: u32,
        invalidated_rkey: Option<u32>,
    ) {
        let ok = status == bindings::ib_wc_status_IB_WC_SUCCESS;
        if posted.kind == WorkKind::Recv {
            self.recv_used.fetch_sub(1, Ordering::AcqRel);
        } else {
            self.send_used
                .fetch_sub(posted.send_slots, Ordering::AcqRel);
        }
        if let Some(mr) = &posted.mr {
            mr.completed(posted.kind, ok);
        }
        let Posted {
            kind,
            buf,
            mr,
            rw,
            payload,
            tag,
            ..
        } = posted;
        // The MR reference goes before the handler runs: the handler may drop
        // the region's owner, and the region must not outlive it here. Caller
        // pages are unmapped and released first too: the handler may tell
        // their owner the send is done.
        drop(mr);
        drop(payload);
        let cq = &self.core.cq.inner;
        cq.set_completing(current_task());
        H::complete(
            self.handler.as_arc_borrow(),
            Done {
                kind,
                status,
                byte_len,
                invalidated_rkey,
                buf,
                rw,
                tag,
            },
        );
        cq.set_completing(core::ptr::null_mut());
    }

    /// Drains the queue pair, then frees what was left with it.
    fn finish(self: Pin<KBox<Self>>) {
        // SAFETY: The queue pair is valid (`core` holds it). Draining moves
        // it to the error state and returns once every posted work request
        // has completed (flushed) and its completion handler has returned.
        unsafe { bindings::ib_drain_qp(self.core.as_ptr()) };
        let mut p = self.orphans.swap(core::ptr::null_mut(), Ordering::AcqRel);
        while !p.is_null() {
            // SAFETY: Orphans were kept by `post_rw` and, once the queue
            // pair is drained, nothing uses them any more.
            let orphan = unsafe { self.reclaim(p) };
            p = orphan.next_orphan;
            drop(orphan);
        }
        self.flush_lost();
        drop(self);
    }

    /// Completes, as flushed, the work requests the device accepted and
    /// never completed, not even in the drain (siw with two CPUs, when its
    /// device is deleted under traffic: Documentation/known-bugs.md). Left
    /// in their slots, their buffers would keep the protection domain, and
    /// so the rdma_cm identifier and the device, forever.
    fn flush_lost(&self) {
        let left = self.send_used.load(Ordering::Acquire) + self.recv_used.load(Ordering::Acquire);
        if left == 0 {
            return;
        }
        let taken = self.contexts.taken();
        let lost = taken.iter().filter(|&&t| t).count();
        pr_warn_ratelimited!(
            "smbdirect-rs: the device never completed {} work requests ({} slots), not even in the drain; completing them as flushed\n",
            lost,
            left
        );
        for i in (0..taken.len()).filter(|&i| taken[i]) {
            let p = self.contexts.slot(i);
            // SAFETY: A slot still taken after the drain holds the context
            // of a work request the device accepted: the drain's own work
            // requests, posted after it, have completed, so the device will
            // never complete it, and no post is under way (the queue pair's
            // owner has let it go).
            let posted = unsafe { self.reclaim(p) };
            self.complete(posted, bindings::ib_wc_status_IB_WC_WR_FLUSH_ERR, 0, None);
        }
    }
}

impl<H: WorkHandler> WorkItem for QpShared<H> {
    type Pointer = Pin<KBox<Self>>;

    fn run(this: Pin<KBox<Self>>) {
        this.finish();
    }
}

/// The `ib_cqe.done` callback of every work request posted by
/// [`QueuePair`].
///
/// # Safety
///
/// Called by ib_core only, with a work completion whose `wr_cqe` is the
/// `cqe` of a [`Posted<H>`] leaked by [`QueuePair`], exactly once.
unsafe extern "C" fn work_done<H: WorkHandler>(
    _cq: *mut bindings::ib_cq,
    wc: *mut bindings::ib_wc,
) {
    // SAFETY: ib_core passes a valid completion for the call's duration.
    let wc = unsafe { &*wc };
    // SAFETY: Every work request we post sets `wr_cqe`, so that is the
    // union member ib_core fills in.
    let cqe = unsafe { wc.__bindgen_anon_1.wr_cqe };
    let p = cqe.cast::<Posted<H>>();
    // SAFETY: `cqe` is the first field of a `#[repr(C)]` `Posted<H>` in a
    // slot of its queue pair's context pool. The queue pair's shared state
    // is freed only after the queue pair is drained, which cannot finish
    // before this handler returns: the drain's own completion is handled
    // after this one, by this same task.
    let qp = unsafe { &*(*p).qp };
    // SAFETY: This completion is the context's only one, so it comes back
    // here once; the device is done with it.
    let posted = unsafe { qp.reclaim(p) };
    let ok = wc.status == bindings::ib_wc_status_IB_WC_SUCCESS;
    let with_inv = (wc.wc_flags as u32) & bindings::ib_wc_flags_IB_WC_WITH_INVALIDATE != 0;
    let invalidated_rkey = if ok && posted.kind == WorkKind::Recv && with_inv {
        // SAFETY: With IB_WC_WITH_INVALIDATE set the union holds the rkey.
        Some(unsafe { wc.ex.invalidate_rkey })
    } else {
        None
    };
    qp.complete(posted, wc.status, wc.byte_len, invalidated_rkey);
}

/// The error of a refused post: why, and what the work request owned.
pub type PostError<B, T> = (Error, Option<B>, T);

/// The error of a refused [`QueuePair::post_rw`]: why, and the context and
/// tag back, unless the chain was refused part-way (then both are kept
/// until the queue pair is drained).
pub type RwPostError<T> = (Error, Option<(RwCtx, T)>);

/// A reliable-connection queue pair made on a [`CmId`].
///
/// Dropping it drains it (every outstanding work request completes with a
/// flush status and gives its buffer back through the handler) and then
/// drops the handler; the queue pair itself is destroyed once no RDMA
/// read/write context uses it any more, and its [`Cq`], [`Pd`] and [`CmId`]
/// go after it. Dropped from a completion handler of its own completion
/// queue, where draining would wait for itself, it is torn down the same way
/// on a work item instead.
pub struct QueuePair<H: WorkHandler> {
    // Taken out only by `drop`.
    shared: ManuallyDrop<Pin<KBox<QpShared<H>>>>,
}

impl<H: WorkHandler> QueuePair<H> {
    /// Creates the queue pair of `id`, completing both queues on `cq`.
    ///
    /// The queues get one more slot each for the drain work requests; the
    /// completion queue must have room for every work request the queue pair
    /// can have outstanding, or this fails with `ENOSPC`.
    pub fn new(id: &CmId, pd: &Pd, cq: &Cq, caps: QueuePairCaps, handler: Arc<H>) -> Result<Self> {
        if !Arc::ptr_eq(&pd.inner.id, &id.inner) || !Arc::ptr_eq(cq.id(), &id.inner) {
            return Err(EINVAL);
        }
        if caps.max_send_wr == 0 || caps.max_recv_wr == 0 {
            return Err(EINVAL);
        }
        let slot = UniqueArc::<QpCore>::new_uninit(GFP_KERNEL)?;
        let port_num = id.inner.port_num();
        let iwarp = id.is_iwarp()?;
        id.inner.claim_qp()?;
        let mut attr = bindings::ib_qp_init_attr {
            event_handler: Some(ffi::smbdrs_qp_event),
            send_cq: cq.inner.as_ptr(),
            recv_cq: cq.inner.as_ptr(),
            cap: bindings::ib_qp_cap {
                max_send_wr: caps.max_send_wr.saturating_add(1),
                max_recv_wr: caps.max_recv_wr.saturating_add(1),
                max_send_sge: caps.max_send_sge,
                max_recv_sge: caps.max_recv_sge,
                max_rdma_ctxs: caps.max_rdma_ctxs,
                ..Default::default()
            },
            sq_sig_type: bindings::ib_sig_type_IB_SIGNAL_REQ_WR,
            qp_type: bindings::ib_qp_type_IB_QPT_RC,
            port_num,
            ..Default::default()
        };
        // SAFETY: `id` is valid and has no queue pair (claimed above); `pd`
        // and the CQ are on its device; `attr` is copied, and filled with
        // the sizes the driver granted.
        let ret =
            unsafe { bindings::rdma_create_qp(id.inner.as_ptr(), pd.inner.as_ptr(), &mut attr) };
        if let Err(e) = to_result(ret) {
            id.inner.release_qp();
            return Err(e);
        }
        // SAFETY: `rdma_create_qp` succeeded, so `id->qp` is set.
        let qp = unsafe { (*id.inner.as_ptr()).qp };
        // `ib_qp_init_attr.cap` now holds the granted sizes, the send queue
        // grown by ib_core for the RDMA read/write contexts.
        let send_total = attr.cap.max_send_wr;
        let recv_total = attr.cap.max_recv_wr;
        let fits = cq.inner.reserve(send_total.saturating_add(recv_total));
        let core: Arc<QpCore> = slot
            .write(QpCore {
                // SAFETY: Set by a successful `rdma_create_qp`.
                qp: unsafe { NonNull::new_unchecked(qp) },
                id: id.inner.clone(),
                pd: pd.clone(),
                cq: cq.clone(),
                cqe_reserved: if fits.is_ok() {
                    send_total.saturating_add(recv_total)
                } else {
                    0
                },
                port_num,
                iwarp,
            })
            .into();
        if let Err(e) = fits {
            pr_err!(
                "queue pair needs {} completion queue entries, {} are free\n",
                send_total.saturating_add(recv_total),
                cq.unreserved()
            );
            // Dropping `core` destroys the queue pair.
            return Err(e);
        }
        // One slot of each queue stays free for the drain work requests.
        let send_cap = send_total.saturating_sub(1);
        let recv_cap = recv_total.saturating_sub(1);
        // On failure the initializer drops `core`, destroying the queue pair.
        let shared = KBox::pin_init(QpShared::new(core, handler, send_cap, recv_cap), GFP_KERNEL)?;
        Ok(Self {
            shared: ManuallyDrop::new(shared),
        })
    }

    fn shared(&self) -> &QpShared<H> {
        &self.shared
    }

    pub(crate) fn core(&self) -> &Arc<QpCore> {
        &self.shared().core
    }

    /// The protection domain.
    pub fn pd(&self) -> &Pd {
        &self.core().pd
    }

    /// Whether the device speaks iWARP.
    pub fn is_iwarp(&self) -> bool {
        self.core().iwarp
    }

    /// Send work requests that may be posted before one completes.
    pub fn send_capacity(&self) -> u32 {
        self.shared().send_cap
    }

    /// Work request contexts allocated because the preallocated ones were
    /// all in use (0 when the pool is sized right).
    pub fn context_misses(&self) -> u64 {
        self.shared()
            .contexts
            .misses
            .load(core::sync::atomic::Ordering::Relaxed)
    }

    /// Receive work requests that may be posted at once.
    pub fn recv_capacity(&self) -> u32 {
        self.shared().recv_cap
    }

    /// Takes a context for a work request from the pool, and its queue
    /// slots.
    fn posted(
        &self,
        kind: WorkKind,
        send_slots: u32,
        buf: Option<DmaBuf>,
        mr: Option<Arc<MrInner>>,
        tag: H::Tag,
    ) -> Result<*mut Posted<H>, PostError<DmaBuf, H::Tag>> {
        let shared = self.shared();
        let (used, cap, n) = if kind == WorkKind::Recv {
            (&shared.recv_used, shared.recv_cap, 1)
        } else {
            (&shared.send_used, shared.send_cap, send_slots)
        };
        if let Err(e) = reserve_slots(used, cap, n) {
            return Err((e, buf, tag));
        }
        let slot = match shared.contexts.take(GFP_KERNEL) {
            Ok(slot) => slot,
            Err(_) => {
                used.fetch_sub(n, Ordering::AcqRel);
                return Err((ENOMEM, buf, tag));
            }
        };
        let posted = Posted {
            cqe: bindings::ib_cqe {
                done: Some(work_done::<H>),
            },
            kind,
            send_slots: if kind == WorkKind::Recv { 0 } else { n },
            qp: shared,
            buf,
            mr,
            rw: None,
            payload: None,
            tag,
            next_orphan: core::ptr::null_mut(),
        };
        // SAFETY: `slot` is an uninitialised slot for a `Posted<H>`, ours.
        unsafe { slot.write(posted) };
        Ok(slot)
    }

    /// Takes back a [`Posted`] whose work request ib_core refused, and its
    /// queue slots.
    ///
    /// # Safety
    ///
    /// `p` came from `posted` and was not posted.
    unsafe fn unpost(&self, p: *mut Posted<H>, e: Error) -> (Error, Posted<H>) {
        let shared = self.shared();
        // SAFETY: By the function's contract we still own `p`, and the
        // device never saw it.
        let p = unsafe { shared.reclaim(p) };
        if p.kind == WorkKind::Recv {
            shared.recv_used.fetch_sub(1, Ordering::AcqRel);
        } else {
            shared.send_used.fetch_sub(p.send_slots, Ordering::AcqRel);
        }
        (e, p)
    }

    fn post_send_wr(
        &self,
        wr: &bindings::ib_send_wr,
        p: *mut Posted<H>,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        let mut bad = core::ptr::null();
        // SAFETY: `qp` is valid; `wr` and its scatter/gather list are copied
        // by the driver before the call returns; its `wr_cqe` points to `p`,
        // which stays allocated until the completion.
        let ret = unsafe { ffi::smbdrs_ib_post_send(self.core().as_ptr(), wr, &mut bad) };
        if ret != 0 {
            // SAFETY: A single work request that was refused was not
            // posted, so no completion will come for `p`.
            let (e, p) = unsafe { self.unpost(p, Error::from_errno(ret)) };
            if let Some(mr) = &p.mr {
                mr.post_refused(p.kind);
            }
            return Err((e, p.buf, p.tag));
        }
        Ok(())
    }

    fn check_buf(&self, buf: &DmaBuf, len: u32) -> Result<bindings::ib_sge> {
        if !self.pd().same(buf.pd_inner()) {
            pr_err!("work request with a buffer of another protection domain refused\n");
            return Err(EINVAL);
        }
        if len == 0 {
            return Err(EINVAL);
        }
        buf.sge(len).ok_or(EINVAL)
    }

    /// Posts `buf` as a receive buffer.
    pub fn post_recv(&self, buf: DmaBuf, tag: H::Tag) -> Result<(), PostError<DmaBuf, H::Tag>> {
        let len = u32::try_from(buf.len()).unwrap_or(0);
        let mut sge = match self.check_buf(&buf, len) {
            Ok(sge) => sge,
            Err(e) => return Err((e, Some(buf), tag)),
        };
        let p = self.posted(WorkKind::Recv, 0, Some(buf), None, tag)?;
        let mut wr = bindings::ib_recv_wr {
            sg_list: &mut sge,
            num_sge: 1,
            ..Default::default()
        };
        wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        let mut bad = core::ptr::null();
        // SAFETY: As in `post_send_wr`.
        let ret = unsafe { ffi::smbdrs_ib_post_recv(self.core().as_ptr(), &wr, &mut bad) };
        if ret != 0 {
            // SAFETY: The single receive was refused, so it is not posted.
            let (e, p) = unsafe { self.unpost(p, Error::from_errno(ret)) };
            return Err((e, p.buf, p.tag));
        }
        Ok(())
    }

    /// Sends the first `len` (> 0) bytes of `buf`.
    pub fn post_send(
        &self,
        buf: DmaBuf,
        len: u32,
        tag: H::Tag,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        self.post_buf_wr(
            WorkKind::Send,
            bindings::ib_wr_opcode_IB_WR_SEND,
            buf,
            len,
            None,
            tag,
        )
    }

    /// Sends the first `header_len` (> 0) bytes of `header` followed by the
    /// caller pages of `payload`, which are DMA-mapped where they lie, not
    /// copied; with `invalidate`, as a Send with Invalidate of that rkey of
    /// the peer. The work request keeps references to the pages until it
    /// completes.
    pub fn post_send_gather(
        &self,
        header: DmaBuf,
        header_len: u32,
        payload: SendPayload,
        invalidate: Option<u32>,
        tag: H::Tag,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        let mut sges = [bindings::ib_sge::default(); MAX_PAYLOAD_SPANS + 1];
        match self.check_buf(&header, header_len) {
            Ok(sge) => sges[0] = sge,
            Err(e) => return Err((e, Some(header), tag)),
        }
        let spans = payload.spans();
        let mapped = match payload.map(&self.core().pd.inner, &mut sges[1..]) {
            Ok(m) => m,
            Err(e) => return Err((e, Some(header), tag)),
        };
        let p = self.posted(WorkKind::Send, 1, Some(header), None, tag)?;
        // SAFETY: `p` is ours until posted.
        unsafe { (*p).payload = Some(mapped) };
        let mut wr = bindings::ib_send_wr {
            sg_list: sges.as_mut_ptr(),
            // At most MAX_PAYLOAD_SPANS + 1, which fits.
            num_sge: (spans + 1) as c_int,
            opcode: bindings::ib_wr_opcode_IB_WR_SEND,
            send_flags: bindings::ib_send_flags_IB_SEND_SIGNALED as c_int,
            ..Default::default()
        };
        if let Some(rkey) = invalidate {
            wr.opcode = bindings::ib_wr_opcode_IB_WR_SEND_WITH_INV;
            wr.ex.invalidate_rkey = rkey;
        }
        wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        self.post_send_wr(&wr, p)
    }

    /// Writes the first `len` (> 0) bytes of `buf` into the peer's `remote`.
    pub fn post_rdma_write(
        &self,
        buf: DmaBuf,
        len: u32,
        remote: RemoteKey,
        tag: H::Tag,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        self.post_buf_wr(
            WorkKind::RdmaWrite,
            bindings::ib_wr_opcode_IB_WR_RDMA_WRITE,
            buf,
            len,
            Some(remote),
            tag,
        )
    }

    /// Reads `len` (> 0) bytes of the peer's `remote` into `buf`.
    ///
    /// Not on iWARP (`EOPNOTSUPP`), where the sink of an RDMA read must be
    /// registered for remote write: use an [`RwCtx`] there, which does that.
    pub fn post_rdma_read(
        &self,
        buf: DmaBuf,
        len: u32,
        remote: RemoteKey,
        tag: H::Tag,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        if self.is_iwarp() {
            return Err((errno(bindings::EOPNOTSUPP), Some(buf), tag));
        }
        self.post_buf_wr(
            WorkKind::RdmaRead,
            bindings::ib_wr_opcode_IB_WR_RDMA_READ,
            buf,
            len,
            Some(remote),
            tag,
        )
    }

    fn post_buf_wr(
        &self,
        kind: WorkKind,
        opcode: bindings::ib_wr_opcode,
        buf: DmaBuf,
        len: u32,
        remote: Option<RemoteKey>,
        tag: H::Tag,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        let mut sge = match self.check_buf(&buf, len) {
            Ok(sge) => sge,
            Err(e) => return Err((e, Some(buf), tag)),
        };
        if remote.is_some_and(|r| u64::from(len) > r.length) {
            return Err((EINVAL, Some(buf), tag));
        }
        let p = self.posted(kind, 1, Some(buf), None, tag)?;
        let mut wr = bindings::ib_rdma_wr::default();
        wr.wr.sg_list = &mut sge;
        wr.wr.num_sge = 1;
        wr.wr.opcode = opcode;
        wr.wr.send_flags = bindings::ib_send_flags_IB_SEND_SIGNALED as c_int;
        wr.wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        if let Some(r) = remote {
            wr.remote_addr = r.addr;
            wr.rkey = r.rkey;
        }
        self.post_send_wr(&wr.wr, p)
    }

    /// Registers `mr`'s current mapping (see [`FastRegMr::map`]) for the
    /// `access` the peer gets; fails with `EINVAL` unless the region is
    /// mapped and idle, and made in this queue pair's protection domain.
    pub fn post_reg_mr(
        &self,
        mr: &FastRegMr,
        access: Access,
        tag: H::Tag,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        let p = self.mr_posted(mr, WorkKind::RegMr, tag)?;
        let mut wr = bindings::ib_reg_wr {
            mr: mr.inner.as_ptr(),
            key: mr.rkey(),
            access: access.bits() as c_int,
            ..Default::default()
        };
        wr.wr.opcode = bindings::ib_wr_opcode_IB_WR_REG_MR;
        wr.wr.send_flags = bindings::ib_send_flags_IB_SEND_SIGNALED as c_int;
        wr.wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        self.post_send_wr(&wr.wr, p)
    }

    /// Invalidates `mr`'s registration, ending remote access; fails with
    /// `EINVAL` unless the region is registered.
    pub fn post_local_inv(
        &self,
        mr: &FastRegMr,
        tag: H::Tag,
    ) -> Result<(), PostError<DmaBuf, H::Tag>> {
        let p = self.mr_posted(mr, WorkKind::LocalInv, tag)?;
        let mut wr = bindings::ib_send_wr {
            opcode: bindings::ib_wr_opcode_IB_WR_LOCAL_INV,
            send_flags: bindings::ib_send_flags_IB_SEND_SIGNALED as c_int,
            ..Default::default()
        };
        wr.ex.invalidate_rkey = mr.rkey();
        wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        self.post_send_wr(&wr, p)
    }

    /// Checks that `mr` belongs to this queue pair's PD and may start
    /// `kind` (moving it to the posted state), then allocates the context
    /// of that work request; undoes the state change if that fails.
    fn mr_posted(
        &self,
        mr: &FastRegMr,
        kind: WorkKind,
        tag: H::Tag,
    ) -> Result<*mut Posted<H>, PostError<DmaBuf, H::Tag>> {
        if !self.pd().same(mr.inner.pd()) {
            pr_err!(
                "{:?} of a memory region of another protection domain refused\n",
                kind
            );
            return Err((EINVAL, None, tag));
        }
        if let Err(e) = mr.inner.start(kind) {
            return Err((e, None, tag));
        }
        self.posted(kind, 1, None, Some(mr.inner.clone()), tag)
            .inspect_err(|_| mr.inner.post_refused(kind))
    }

    /// Posts the RDMA reads or writes of `ctx` (made on this queue pair);
    /// one completion of kind [`WorkKind::Rw`] hands `ctx` back.
    ///
    /// If the device refuses the chain part-way, its first work requests may
    /// already be executing: the context is then kept until the queue pair
    /// is drained, and the error comes back without it.
    pub fn post_rw(&self, ctx: RwCtx, tag: H::Tag) -> Result<(), RwPostError<H::Tag>> {
        if !Arc::ptr_eq(ctx.core(), self.core()) {
            return Err((EINVAL, Some((ctx, tag))));
        }
        let p = match self.posted(WorkKind::Rw, ctx.work_requests(), None, None, tag) {
            Ok(p) => p,
            Err((e, _, tag)) => return Err((e, Some((ctx, tag)))),
        };
        // SAFETY: `p` is ours until posted.
        let raw = unsafe { (*p).rw.insert(ctx).as_ptr() };
        let mut bad: *const bindings::ib_send_wr = core::ptr::null();
        let core = self.core();
        // SAFETY: `raw` is an initialised context on this queue pair, kept
        // alive in `p` until the completion; the last work request of the
        // chain signals `p`'s cqe. `rdma_rw_ctx_wrs` only builds the chain.
        let first = unsafe {
            bindings::rdma_rw_ctx_wrs(
                raw,
                core.as_ptr(),
                core.port_num(),
                p.cast::<bindings::ib_cqe>(),
                core::ptr::null_mut(),
            )
        };
        // SAFETY: `first` is the chain built above, over memory owned by
        // the context in `p`.
        let ret = unsafe { ffi::smbdrs_ib_post_send(core.as_ptr(), first, &mut bad) };
        if ret == 0 {
            return Ok(());
        }
        if bad == first.cast_const() {
            // SAFETY: Nothing of the chain was posted.
            let (e, p) = unsafe { self.unpost(p, Error::from_errno(ret)) };
            return Err((e, p.rw.map(|ctx| (ctx, p.tag))));
        }
        // Part of the chain is posted and no completion will come for `p`:
        // keep it (and the buffer it maps) until the drain.
        pr_err!(
            "RDMA read/write chain refused part-way ({}): kept until teardown\n",
            ret
        );
        let shared = self.shared();
        let mut head = shared.orphans.load(Ordering::Acquire);
        loop {
            // SAFETY: `p` is ours: it was not handed to the device as a cqe.
            unsafe { (*p).next_orphan = head };
            match shared
                .orphans
                .compare_exchange(head, p, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(h) => head = h,
            }
        }
        Err((Error::from_errno(ret), None))
    }
}

impl<H: WorkHandler> Drop for QueuePair<H> {
    fn drop(&mut self) {
        // SAFETY: `shared` is taken once, here, and not used afterwards.
        let shared = unsafe { ManuallyDrop::take(&mut self.shared) };
        if shared.core.cq.inner.in_completion() {
            teardown_queue().enqueue(shared);
        } else {
            shared.finish();
        }
    }
}

/// The work queue deferred teardowns run on; module unload waits for it.
pub fn teardown_queue() -> &'static workqueue::Queue {
    // SAFETY: The queue is created at module load (`init`) and destroyed at
    // unload (`exit`), after everything made by the module's code (which
    // alone calls this) is gone; it is valid for as long as callers run.
    unsafe { workqueue::Queue::from_raw(ffi::smbdrs_ib_teardown_wq()) }
}

/// The work queue that posts what completions handled in softirq leave to
/// post; module unload waits for it.
pub fn pump_queue() -> &'static workqueue::Queue {
    // SAFETY: As for `teardown_queue`: created at load, destroyed at unload
    // after everything the module's code made is gone.
    unsafe { workqueue::Queue::from_raw(ffi::smbdrs_ib_pump_wq()) }
}

/// Starts the ib layer: the work queues that deferred teardowns and
/// posting run on.
pub fn init() -> Result {
    // SAFETY: Called once, at module load.
    to_result(unsafe { ffi::smbdrs_ib_init() })
}

/// Stops the ib layer, waiting for deferred teardowns to finish.
pub fn exit() {
    // SAFETY: Called once, at module unload, after a successful `init`.
    unsafe { ffi::smbdrs_ib_exit() };
}

/// ENOSPC as returned when a queue has no free slot.
pub fn is_queue_full(e: Error) -> bool {
    e == errno(bindings::ENOSPC)
}
