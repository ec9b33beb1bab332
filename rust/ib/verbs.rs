// SPDX-License-Identifier: GPL-2.0

//! Protection domains, completion queues, queue pairs and work requests.
//!
//! C header: [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h).
//!
//! Completions use the `ib_cqe` pattern: every posted work request carries a
//! heap-allocated [`Posted`] whose first field is the `ib_cqe` ib_core calls
//! back. The callback takes the allocation back, and with it the buffer or
//! memory region the work request used, and hands everything to the queue
//! pair's [`WorkHandler`] as a [`Done`].

use core::ptr::NonNull;

use kernel::bindings;
use kernel::error::{from_err_ptr, to_result};
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::Arc;

use super::cm::{CmId, CmIdInner};
use super::dma::DmaBuf;
use super::mr::{FastRegMr, MrInner, RemoteKey};
use super::rw::RwCtx;
use super::{errno, ffi, OWNER};

/// The owner of one `ib_pd`.
///
/// # Invariants
///
/// `pd` is valid until `drop`, allocated on `id`'s device.
pub(crate) struct PdInner {
    pd: NonNull<bindings::ib_pd>,
    id: Arc<CmIdInner>,
}

// SAFETY: A PD may be used and freed from any process context.
unsafe impl Send for PdInner {}
// SAFETY: Its fields are only read after allocation.
unsafe impl Sync for PdInner {}

impl PdInner {
    pub(crate) fn as_ptr(&self) -> *mut bindings::ib_pd {
        self.pd.as_ptr()
    }

    pub(crate) fn device(&self) -> *mut bindings::ib_device {
        // SAFETY: `pd` is valid by the type invariant; its device is set at
        // allocation and outlives it.
        unsafe { (*self.as_ptr()).device }
    }

    pub(crate) fn local_dma_lkey(&self) -> u32 {
        // SAFETY: `pd` is valid by the type invariant.
        unsafe { (*self.as_ptr()).local_dma_lkey }
    }
}

impl Drop for PdInner {
    fn drop(&mut self) {
        // SAFETY: The PD is valid and every object made in it (queue pairs,
        // buffers, memory regions) holds a reference to this value, so none
        // is left.
        unsafe { bindings::ib_dealloc_pd_user(self.as_ptr(), core::ptr::null_mut()) };
    }
}

/// A protection domain on the device of a [`CmId`].
#[derive(Clone)]
pub struct Pd {
    pub(crate) inner: Arc<PdInner>,
}

/// Device limits that matter to SMB Direct.
#[derive(Clone, Copy, Debug)]
pub struct DeviceLimits {
    /// Work requests per queue.
    pub max_qp_wr: u32,
    /// Completion queue entries.
    pub max_cqe: u32,
    /// Scatter/gather entries per send.
    pub max_send_sge: u32,
    /// Scatter/gather entries per receive.
    pub max_recv_sge: u32,
    /// Pages one fast-registration memory region can map.
    pub max_fast_reg_page_list_len: u32,
    /// Outstanding RDMA reads we may issue.
    pub max_qp_init_rd_atom: u32,
    /// Outstanding RDMA reads we may serve.
    pub max_qp_rd_atom: u32,
}

fn non_negative(v: c_int) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

impl Pd {
    /// Allocates a protection domain on `id`'s device (resolved or bound).
    pub fn new(id: &CmId) -> Result<Self> {
        let dev = id.inner.device()?;
        // SAFETY: `dev` is the identifier's device, valid while it is bound.
        let pd = from_err_ptr(unsafe { bindings::__ib_alloc_pd(dev, 0, OWNER.as_char_ptr()) })?;
        Ok(Self {
            inner: Arc::new(
                PdInner {
                    // SAFETY: `from_err_ptr` returned a valid pointer.
                    pd: unsafe { NonNull::new_unchecked(pd) },
                    id: id.inner.clone(),
                },
                GFP_KERNEL,
            )
            .map_err(|_| {
                // SAFETY: `pd` is valid and unused.
                unsafe { bindings::ib_dealloc_pd_user(pd, core::ptr::null_mut()) };
                ENOMEM
            })?,
        })
    }

    /// The device's limits.
    pub fn limits(&self) -> DeviceLimits {
        // SAFETY: The device outlives the PD; `attrs` is filled at
        // registration and read-only afterwards.
        let a = unsafe { &(*self.inner.device()).attrs };
        DeviceLimits {
            max_qp_wr: non_negative(a.max_qp_wr),
            max_cqe: non_negative(a.max_cqe),
            max_send_sge: non_negative(a.max_send_sge),
            max_recv_sge: non_negative(a.max_recv_sge),
            max_fast_reg_page_list_len: a.max_fast_reg_page_list_len,
            max_qp_init_rd_atom: non_negative(a.max_qp_init_rd_atom),
            max_qp_rd_atom: non_negative(a.max_qp_rd_atom),
        }
    }
}

/// The owner of one `ib_cq`.
///
/// # Invariants
///
/// `cq` is valid until `drop`, polled from a workqueue (`IB_POLL_WORKQUEUE`).
pub(crate) struct CqInner {
    cq: NonNull<bindings::ib_cq>,
    id: Arc<CmIdInner>,
}

// SAFETY: A CQ may be used and freed from any process context.
unsafe impl Send for CqInner {}
// SAFETY: Only ib_core touches the CQ after allocation.
unsafe impl Sync for CqInner {}

impl Drop for CqInner {
    fn drop(&mut self) {
        // SAFETY: Every queue pair completing on this CQ holds a reference
        // to it and was drained and destroyed first.
        unsafe { bindings::ib_free_cq(self.cq.as_ptr()) };
    }
}

/// A completion queue whose completions run in process context, on ib_core's
/// completion workqueue.
#[derive(Clone)]
pub struct Cq {
    inner: Arc<CqInner>,
}

impl Cq {
    /// Allocates a completion queue of `entries` on `id`'s device.
    pub fn new(id: &CmId, entries: u32) -> Result<Self> {
        let dev = id.inner.device()?;
        let entries = c_int::try_from(entries).map_err(|_| EINVAL)?;
        // SAFETY: `dev` is valid while the identifier is bound.
        let cq = from_err_ptr(unsafe {
            bindings::__ib_alloc_cq_any(
                dev,
                core::ptr::null_mut(),
                entries,
                bindings::ib_poll_context_IB_POLL_WORKQUEUE,
                OWNER.as_char_ptr(),
            )
        })?;
        Ok(Self {
            inner: Arc::new(
                CqInner {
                    // SAFETY: `from_err_ptr` returned a valid pointer.
                    cq: unsafe { NonNull::new_unchecked(cq) },
                    id: id.inner.clone(),
                },
                GFP_KERNEL,
            )
            .map_err(|_| {
                // SAFETY: `cq` is valid and unused.
                unsafe { bindings::ib_free_cq(cq) };
                ENOMEM
            })?,
        })
    }
}

/// What a completed work request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkKind {
    /// A send.
    Send,
    /// A receive.
    Recv,
    /// An RDMA write from a local buffer to remote memory.
    RdmaWrite,
    /// An RDMA read from remote memory into a local buffer.
    RdmaRead,
    /// A fast registration of a memory region.
    RegMr,
    /// A local invalidation of a memory region.
    LocalInv,
    /// The RDMA reads or writes of an [`RwCtx`].
    Rw,
}

/// A completed work request, with what it owned while it was posted.
pub struct Done<T> {
    /// What it was.
    pub kind: WorkKind,
    /// `IB_WC_SUCCESS` (0) or the failure status (`IB_WC_WR_FLUSH_ERR` when
    /// the queue pair was drained).
    pub status: u32,
    /// Bytes received (receives only).
    pub byte_len: u32,
    /// The buffer the work request used, if any.
    pub buf: Option<DmaBuf>,
    /// The RDMA read/write context, for [`WorkKind::Rw`].
    pub rw: Option<RwCtx>,
    /// The caller's tag.
    pub tag: T,
}

impl<T> Done<T> {
    /// Whether the work request succeeded.
    pub fn is_ok(&self) -> bool {
        self.status == bindings::ib_wc_status_IB_WC_SUCCESS
    }
}

/// Receives the completions of a queue pair's work requests.
pub trait WorkHandler: Send + Sync + Sized + 'static {
    /// What the caller attaches to each work request.
    type Tag: Send + 'static;

    /// Called once per posted work request, successful or not, in process
    /// context on ib_core's completion workqueue. Must not drop the last
    /// reference to the queue pair (dropping drains it, which waits for
    /// this workqueue).
    fn complete(&self, done: Done<Self::Tag>);
}

/// The context of one posted work request.
///
/// `cqe` must stay the first field: ib_core hands back a pointer to it.
#[repr(C)]
struct Posted<H: WorkHandler> {
    cqe: bindings::ib_cqe,
    kind: WorkKind,
    handler: Arc<H>,
    buf: Option<DmaBuf>,
    mr: Option<Arc<MrInner>>,
    rw: Option<RwCtx>,
    tag: H::Tag,
}

/// The `ib_cqe.done` callback of every work request posted by
/// [`QueuePair`].
///
/// # Safety
///
/// Called by ib_core only, with a work completion whose `wr_cqe` is the
/// `cqe` of a [`Posted<H>`] leaked by [`QueuePair::post`], exactly once.
unsafe extern "C" fn work_done<H: WorkHandler>(
    _cq: *mut bindings::ib_cq,
    wc: *mut bindings::ib_wc,
) {
    // SAFETY: ib_core passes a valid completion for the call's duration.
    let wc = unsafe { &*wc };
    // SAFETY: Every work request we post sets `wr_cqe`, so that is the
    // union member ib_core fills in.
    let cqe = unsafe { wc.__bindgen_anon_1.wr_cqe };
    // SAFETY: `cqe` is the first field of a `#[repr(C)]` `Posted<H>` that
    // `post` leaked with `KBox::into_raw`; this completion is its only one,
    // so ownership comes back here once.
    let posted = unsafe { KBox::from_raw(cqe.cast::<Posted<H>>()) };
    let Posted {
        kind,
        handler,
        buf,
        mr,
        rw,
        tag,
        ..
    } = KBox::into_inner(posted);
    if let Some(mr) = mr {
        mr.completed(kind, wc.status == bindings::ib_wc_status_IB_WC_SUCCESS);
    }
    handler.complete(Done {
        kind,
        status: wc.status,
        byte_len: wc.byte_len,
        buf,
        rw,
        tag,
    });
}

/// Sizes of a queue pair's queues.
#[derive(Clone, Copy, Debug)]
pub struct QueuePairCaps {
    /// Send queue depth.
    pub max_send_wr: u32,
    /// Receive queue depth.
    pub max_recv_wr: u32,
    /// Scatter/gather entries per send.
    pub max_send_sge: u32,
    /// Scatter/gather entries per receive.
    pub max_recv_sge: u32,
    /// RDMA read/write contexts in flight at once (0 if none are used);
    /// ib_core sizes the send queue and, on iWARP, an MR pool for them.
    pub max_rdma_ctxs: u32,
}

/// The owner of one `ib_qp`, shared by the [`QueuePair`] and by RDMA
/// read/write contexts made on it (which must be destroyed before it).
///
/// # Invariants
///
/// `qp` is `id`'s queue pair, valid until `drop`.
pub(crate) struct QpCore {
    qp: NonNull<bindings::ib_qp>,
    pub(crate) id: Arc<CmIdInner>,
    pd: Pd,
    _cq: Cq,
}

// SAFETY: ib_core's queue pair calls are thread safe.
unsafe impl Send for QpCore {}
// SAFETY: As above.
unsafe impl Sync for QpCore {}

impl QpCore {
    pub(crate) fn as_ptr(&self) -> *mut bindings::ib_qp {
        self.qp.as_ptr()
    }

    pub(crate) fn port_num(&self) -> u32 {
        self.id.port_num()
    }
}

impl Drop for QpCore {
    fn drop(&mut self) {
        // SAFETY: The queue pair was drained when its `QueuePair` was dropped
        // and every RDMA read/write context made on it (they hold this
        // value) is destroyed, so nothing references it any more.
        unsafe { bindings::rdma_destroy_qp(self.id.as_ptr()) };
        self.id.release_qp();
    }
}

/// A reliable-connection queue pair made on a [`CmId`].
///
/// Dropping it drains it (every outstanding work request completes with a
/// flush status and gives its buffer back through the handler); the queue
/// pair itself is destroyed once no RDMA read/write context uses it any
/// more, and its [`Cq`], [`Pd`] and [`CmId`] go after it.
pub struct QueuePair<H: WorkHandler> {
    pub(crate) core: Arc<QpCore>,
    handler: Arc<H>,
}

impl<H: WorkHandler> QueuePair<H> {
    /// Creates the queue pair of `id`, completing both queues on `cq`.
    pub fn new(id: &CmId, pd: &Pd, cq: &Cq, caps: QueuePairCaps, handler: Arc<H>) -> Result<Self> {
        if !Arc::ptr_eq(&pd.inner.id, &id.inner) || !Arc::ptr_eq(&cq.inner.id, &id.inner) {
            return Err(EINVAL);
        }
        id.inner.claim_qp()?;
        let mut attr = bindings::ib_qp_init_attr {
            send_cq: cq.inner.cq.as_ptr(),
            recv_cq: cq.inner.cq.as_ptr(),
            cap: bindings::ib_qp_cap {
                max_send_wr: caps.max_send_wr,
                max_recv_wr: caps.max_recv_wr,
                max_send_sge: caps.max_send_sge,
                max_recv_sge: caps.max_recv_sge,
                max_rdma_ctxs: caps.max_rdma_ctxs,
                ..Default::default()
            },
            sq_sig_type: bindings::ib_sig_type_IB_SIGNAL_REQ_WR,
            qp_type: bindings::ib_qp_type_IB_QPT_RC,
            port_num: id.inner.port_num(),
            ..Default::default()
        };
        // SAFETY: `id` is valid and has no queue pair (claimed above); `pd`
        // and the CQ are on its device; `attr` is copied.
        let ret =
            unsafe { bindings::rdma_create_qp(id.inner.as_ptr(), pd.inner.as_ptr(), &mut attr) };
        if let Err(e) = to_result(ret) {
            id.inner.release_qp();
            return Err(e);
        }
        // SAFETY: `rdma_create_qp` succeeded, so `id->qp` is set.
        let qp = unsafe { (*id.inner.as_ptr()).qp };
        let core = QpCore {
            // SAFETY: Set by a successful `rdma_create_qp`.
            qp: unsafe { NonNull::new_unchecked(qp) },
            id: id.inner.clone(),
            pd: pd.clone(),
            _cq: cq.clone(),
        };
        // On failure `core` drops here, which destroys the queue pair.
        let core = Arc::new(core, GFP_KERNEL)?;
        Ok(Self { core, handler })
    }

    /// The protection domain.
    pub fn pd(&self) -> &Pd {
        &self.core.pd
    }

    fn posted(
        &self,
        kind: WorkKind,
        buf: Option<DmaBuf>,
        mr: Option<Arc<MrInner>>,
        tag: H::Tag,
    ) -> Result<*mut Posted<H>, (Error, Option<DmaBuf>, H::Tag)> {
        let slot = match KBox::<Posted<H>>::new_uninit(GFP_KERNEL) {
            Ok(slot) => slot,
            Err(_) => return Err((ENOMEM, buf, tag)),
        };
        if let Some(mr) = &mr {
            mr.started();
        }
        let posted = slot.write(Posted {
            cqe: bindings::ib_cqe {
                done: Some(work_done::<H>),
            },
            kind,
            handler: self.handler.clone(),
            buf,
            mr,
            rw: None,
            tag,
        });
        Ok(KBox::into_raw(posted))
    }

    /// Takes back a [`Posted`] whose work request ib_core refused.
    ///
    /// # Safety
    ///
    /// `p` came from `posted` and was not (successfully) posted.
    unsafe fn unpost(p: *mut Posted<H>, e: Error) -> (Error, Option<DmaBuf>, H::Tag) {
        // SAFETY: By the function's contract we still own `p`.
        let p = KBox::into_inner(unsafe { KBox::from_raw(p) });
        if let Some(mr) = &p.mr {
            mr.completed(p.kind, false);
        }
        (e, p.buf, p.tag)
    }

    fn post_send_wr(
        &self,
        wr: &bindings::ib_send_wr,
        p: *mut Posted<H>,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        let mut bad = core::ptr::null();
        // SAFETY: `qp` is valid; `wr` and its scatter/gather list are copied
        // by the driver before the call returns; its `wr_cqe` points to `p`,
        // which stays allocated until the completion.
        let ret = unsafe { ffi::smbdrs_ib_post_send(self.core.as_ptr(), wr, &mut bad) };
        // SAFETY: `p` came from `posted` and `ret` is the result of posting it.
        unsafe { Self::posted_result(p, ret) }
    }

    /// Turns the result of posting `p` into ours, taking `p` back if the
    /// driver refused it.
    ///
    /// # Safety
    ///
    /// `p` came from `posted`, and `ret` is what posting its work request
    /// returned.
    unsafe fn posted_result(
        p: *mut Posted<H>,
        ret: c_int,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        if ret != 0 {
            // SAFETY: The work request was not posted, so no completion will
            // come for `p`, which is still ours.
            return Err(unsafe { Self::unpost(p, Error::from_errno(ret)) });
        }
        Ok(())
    }

    /// Posts `buf` as a receive buffer.
    pub fn post_recv(
        &self,
        buf: DmaBuf,
        tag: H::Tag,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        let Some(mut sge) = u32::try_from(buf.len()).ok().and_then(|l| buf.sge(l)) else {
            return Err((EINVAL, Some(buf), tag));
        };
        let p = self.posted(WorkKind::Recv, Some(buf), None, tag)?;
        let mut wr = bindings::ib_recv_wr {
            sg_list: &mut sge,
            num_sge: 1,
            ..Default::default()
        };
        wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        let mut bad = core::ptr::null();
        // SAFETY: As in `post_send_wr`.
        let ret = unsafe { ffi::smbdrs_ib_post_recv(self.core.as_ptr(), &wr, &mut bad) };
        // SAFETY: `p` came from `posted` and `ret` is the result of posting it.
        unsafe { Self::posted_result(p, ret) }
    }

    /// Sends the first `len` bytes of `buf`.
    pub fn post_send(
        &self,
        buf: DmaBuf,
        len: u32,
        tag: H::Tag,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        self.post_buf_wr(
            WorkKind::Send,
            bindings::ib_wr_opcode_IB_WR_SEND,
            buf,
            len,
            None,
            tag,
        )
    }

    /// Writes the first `len` bytes of `buf` into the peer's `remote`.
    pub fn post_rdma_write(
        &self,
        buf: DmaBuf,
        len: u32,
        remote: RemoteKey,
        tag: H::Tag,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        self.post_buf_wr(
            WorkKind::RdmaWrite,
            bindings::ib_wr_opcode_IB_WR_RDMA_WRITE,
            buf,
            len,
            Some(remote),
            tag,
        )
    }

    /// Reads `len` bytes of the peer's `remote` into `buf`.
    pub fn post_rdma_read(
        &self,
        buf: DmaBuf,
        len: u32,
        remote: RemoteKey,
        tag: H::Tag,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
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
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        let Some(mut sge) = buf.sge(len) else {
            return Err((EINVAL, Some(buf), tag));
        };
        if let Some(r) = remote {
            if u64::from(len) > r.length {
                return Err((EINVAL, Some(buf), tag));
            }
        }
        let p = self.posted(kind, Some(buf), None, tag)?;
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

    /// Registers `mr`'s current mapping (see [`FastRegMr::map`]) with the
    /// given `IB_ACCESS_*` flags.
    pub fn post_reg_mr(
        &self,
        mr: &FastRegMr,
        access: u32,
        tag: H::Tag,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        let p = self.posted(WorkKind::RegMr, None, Some(mr.inner.clone()), tag)?;
        let mut wr = bindings::ib_reg_wr {
            mr: mr.inner.as_ptr(),
            key: mr.rkey(),
            access: access as c_int,
            ..Default::default()
        };
        wr.wr.opcode = bindings::ib_wr_opcode_IB_WR_REG_MR;
        wr.wr.send_flags = bindings::ib_send_flags_IB_SEND_SIGNALED as c_int;
        wr.wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        self.post_send_wr(&wr.wr, p)
    }

    /// Invalidates `mr`'s registration, ending remote access.
    pub fn post_local_inv(
        &self,
        mr: &FastRegMr,
        tag: H::Tag,
    ) -> Result<(), (Error, Option<DmaBuf>, H::Tag)> {
        let p = self.posted(WorkKind::LocalInv, None, Some(mr.inner.clone()), tag)?;
        let mut wr = bindings::ib_send_wr {
            opcode: bindings::ib_wr_opcode_IB_WR_LOCAL_INV,
            send_flags: bindings::ib_send_flags_IB_SEND_SIGNALED as c_int,
            ..Default::default()
        };
        wr.ex.invalidate_rkey = mr.rkey();
        wr.__bindgen_anon_1.wr_cqe = p.cast::<bindings::ib_cqe>();
        self.post_send_wr(&wr, p)
    }
}

impl<H: WorkHandler> QueuePair<H> {
    /// Posts the RDMA reads or writes of `ctx` (made on this queue pair);
    /// one completion of kind [`WorkKind::Rw`] hands `ctx` back.
    pub fn post_rw(&self, ctx: RwCtx, tag: H::Tag) -> Result<(), (Error, Option<RwCtx>, H::Tag)> {
        if !Arc::ptr_eq(ctx.core(), &self.core) {
            return Err((EINVAL, Some(ctx), tag));
        }
        let p = match self.posted(WorkKind::Rw, None, None, tag) {
            Ok(p) => p,
            Err((e, _, tag)) => return Err((e, Some(ctx), tag)),
        };
        // SAFETY: `p` is ours until posted.
        let raw = unsafe {
            (*p).rw = Some(ctx);
            (*p).rw
                .as_mut()
                .map(|c| c.as_ptr())
                .unwrap_or(core::ptr::null_mut())
        };
        // SAFETY: `raw` is an initialised context on this queue pair, kept
        // alive in `p` until the completion; the last work request of the
        // chain signals `p`'s cqe.
        let ret = unsafe {
            bindings::rdma_rw_ctx_post(
                raw,
                self.core.as_ptr(),
                self.core.port_num(),
                p.cast::<bindings::ib_cqe>(),
                core::ptr::null_mut(),
            )
        };
        if ret != 0 {
            // SAFETY: Not posted, so no completion will come for `p`.
            let p = KBox::into_inner(unsafe { KBox::from_raw(p) });
            return Err((Error::from_errno(ret), p.rw, p.tag));
        }
        Ok(())
    }
}

impl<H: WorkHandler> Drop for QueuePair<H> {
    fn drop(&mut self) {
        // SAFETY: The queue pair is valid (`core` holds it). Draining moves
        // it to the error state and waits until every posted work request
        // has completed (flushed), so every `Posted` has been handed back.
        unsafe { bindings::ib_drain_qp(self.core.as_ptr()) };
    }
}

/// Connection-level failures of an RDMA work request, as errors.
pub fn wc_error(status: u32) -> Error {
    if status == bindings::ib_wc_status_IB_WC_WR_FLUSH_ERR {
        errno(bindings::ECONNRESET)
    } else {
        EIO
    }
}
