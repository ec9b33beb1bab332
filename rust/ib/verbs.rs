// SPDX-License-Identifier: GPL-2.0

//! Protection domains, completion queues and what a completion reports.
//!
//! C header: [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h).
//!
//! Every C object is created last, into memory allocated before it, and freed
//! only by the `Drop` of the Rust value that owns it: no error path frees it
//! a second time (6.12's `Arc::new` drops its argument when it fails, so
//! allocating the `Arc` after the C object would free it twice).

use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use kernel::bindings;
use kernel::error::from_err_ptr;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::sync::{Arc, ArcBorrow, UniqueArc};

use super::cm::{CmId, CmIdInner};
use super::dma::DmaBuf;
use super::rw::RwCtx;
use super::{ffi, OWNER};

/// The owner of one `ib_pd`.
///
/// # Invariants
///
/// `pd` is valid until `drop`, allocated on `id`'s device.
pub(crate) struct PdInner {
    pd: NonNull<bindings::ib_pd>,
    pub(crate) id: Arc<CmIdInner>,
}

// SAFETY: A PD may be used and freed from any process context.
unsafe impl Send for PdInner {}
// SAFETY: Shared references only read `pd->device` and `pd->local_dma_lkey`,
// which ib_core sets at allocation and never changes afterwards.
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
        let slot = UniqueArc::<PdInner>::new_uninit(GFP_KERNEL)?;
        // SAFETY: `dev` is the identifier's device, valid while it is bound.
        let pd = from_err_ptr(unsafe { bindings::__ib_alloc_pd(dev, 0, OWNER.as_char_ptr()) })?;
        let inner = slot.write(PdInner {
            // SAFETY: `from_err_ptr` returned a valid pointer.
            pd: unsafe { NonNull::new_unchecked(pd) },
            id: id.inner.clone(),
        });
        Ok(Self {
            inner: inner.into(),
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

    /// Whether `self` and `other` are the same protection domain.
    pub(crate) fn same(&self, other: &Arc<PdInner>) -> bool {
        Arc::ptr_eq(&self.inner, other)
    }
}

/// The owner of one `ib_cq`.
///
/// # Invariants
///
/// `cq` is valid until `drop`, polled as its [`CqPoll`] says, and has
/// `entries` entries, of which queue pairs completing on it have
/// reserved `reserved`.
pub(crate) struct CqInner {
    cq: NonNull<bindings::ib_cq>,
    id: Arc<CmIdInner>,
    entries: u32,
    reserved: AtomicU32,
    /// The task running this CQ's completion handlers, while one runs: a
    /// queue pair dropped by that task must not drain synchronously.
    completing: AtomicPtr<bindings::task_struct>,
}

// SAFETY: A CQ may be used and freed from any process context.
unsafe impl Send for CqInner {}
// SAFETY: Shared references only touch the atomics; ib_core alone uses the
// `ib_cq` after allocation.
unsafe impl Sync for CqInner {}

impl CqInner {
    pub(crate) fn as_ptr(&self) -> *mut bindings::ib_cq {
        self.cq.as_ptr()
    }

    /// Reserves `n` entries for a queue pair's work requests.
    pub(crate) fn reserve(&self, n: u32) -> Result {
        reserve_slots(&self.reserved, self.entries, n)
    }

    pub(crate) fn unreserve(&self, n: u32) {
        self.reserved.fetch_sub(n, Ordering::AcqRel);
    }

    /// Marks the calling task as running this CQ's completions (or no
    /// longer, with `null`).
    pub(crate) fn set_completing(&self, task: *mut bindings::task_struct) {
        self.completing.store(task, Ordering::Release);
    }

    /// Whether the calling task is running one of this CQ's completions.
    pub(crate) fn in_completion(&self) -> bool {
        self.completing.load(Ordering::Acquire) == current_task()
    }
}

/// Adds `n` to `used` unless that would pass `cap` (`ENOSPC`): how queue
/// pairs take work request slots and CQ entries, from any thread.
pub(crate) fn reserve_slots(used: &AtomicU32, cap: u32, n: u32) -> Result {
    let mut cur = used.load(Ordering::Relaxed);
    loop {
        let next = cur.checked_add(n).filter(|&v| v <= cap).ok_or(ENOSPC)?;
        match used.compare_exchange(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return Ok(()),
            Err(v) => cur = v,
        }
    }
}

/// The calling task.
pub(crate) fn current_task() -> *mut bindings::task_struct {
    // SAFETY: `get_current` only reads the per-CPU current task pointer.
    unsafe { bindings::get_current() }
}

impl Drop for CqInner {
    fn drop(&mut self) {
        // SAFETY: Every queue pair completing on this CQ holds a reference
        // to it and was drained and destroyed first.
        unsafe { bindings::ib_free_cq(self.as_ptr()) };
    }
}

/// Where the completions of a [`Cq`] run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CqPoll {
    /// In process context, on ib_core's completion workqueue: handlers may
    /// sleep.
    Workqueue,
    /// In softirq, right after the device reports them (as upstream's
    /// client polls): the waiting thread is woken with no work item in
    /// between. Handlers must not sleep, and what they lock must be taken
    /// with softirqs off elsewhere ([`super::SpinLockBh`]).
    Softirq,
}

impl CqPoll {
    /// The poll context a connection's queue uses: softirq, unless the
    /// `cq_workqueue` module parameter says otherwise.
    pub fn for_connections() -> Self {
        // SAFETY: Reads a module parameter.
        if unsafe { ffi::smbdrs_cq_workqueue() } {
            Self::Workqueue
        } else {
            Self::Softirq
        }
    }
}

/// A completion queue; its completions run as its [`CqPoll`] says.
#[derive(Clone)]
pub struct Cq {
    pub(crate) inner: Arc<CqInner>,
}

impl Cq {
    /// Allocates a completion queue of `entries` on `id`'s device.
    ///
    /// Every queue pair made on it reserves one entry per work request it
    /// can have outstanding (drain included); [`super::QueuePair::new`]
    /// refuses a queue pair that does not fit.
    pub fn new(id: &CmId, entries: u32, poll: CqPoll) -> Result<Self> {
        let dev = id.inner.device()?;
        let want = c_int::try_from(entries).map_err(|_| EINVAL)?;
        let slot = UniqueArc::<CqInner>::new_uninit(GFP_KERNEL)?;
        // SAFETY: `dev` is valid while the identifier is bound.
        let cq = from_err_ptr(unsafe {
            bindings::__ib_alloc_cq_any(
                dev,
                core::ptr::null_mut(),
                want,
                match poll {
                    CqPoll::Workqueue => bindings::ib_poll_context_IB_POLL_WORKQUEUE,
                    CqPoll::Softirq => bindings::ib_poll_context_IB_POLL_SOFTIRQ,
                },
                OWNER.as_char_ptr(),
            )
        })?;
        // SAFETY: `cq` is valid; setting the event handler before any event
        // can be raised for it is how ib_core users do it.
        unsafe { ffi::smbdrs_cq_set_event_handler(cq) };
        // SAFETY: `cq` is valid; `cqe` is the size the driver granted.
        let granted = non_negative(unsafe { (*cq).cqe });
        let inner = slot.write(CqInner {
            // SAFETY: `from_err_ptr` returned a valid pointer.
            cq: unsafe { NonNull::new_unchecked(cq) },
            id: id.inner.clone(),
            entries: granted,
            reserved: AtomicU32::new(0),
            completing: AtomicPtr::new(core::ptr::null_mut()),
        });
        Ok(Self {
            inner: inner.into(),
        })
    }

    /// Entries not yet reserved by a queue pair.
    pub fn unreserved(&self) -> u32 {
        self.inner
            .entries
            .saturating_sub(self.inner.reserved.load(Ordering::Acquire))
    }

    pub(crate) fn id(&self) -> &Arc<CmIdInner> {
        &self.inner.id
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
    /// The rkey the peer invalidated with a send-with-invalidate, if this
    /// is a receive that carried one.
    pub invalidated_rkey: Option<u32>,
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

    /// Called once per posted work request, successful or not, in the
    /// context of the queue pair's [`Cq`] (process context on ib_core's
    /// workqueue, or softirq, where it must not sleep; [`super::in_task`]
    /// tells which). It may drop the queue pair
    /// (its teardown is then deferred to a work item), but the handler must
    /// not own its own queue pair: the queue pair owns the handler. `this`
    /// lets it take a reference to itself for deferred work.
    fn complete(this: ArcBorrow<'_, Self>, done: Done<Self::Tag>);
}

/// Whether a work completion `status` is a flush: the queue pair went to
/// the error state (a teardown), not a failure of this work request.
pub fn wc_flushed(status: u32) -> bool {
    status == bindings::ib_wc_status_IB_WC_WR_FLUSH_ERR
}

/// ib_core's name for a work completion `status` ("local length error").
pub fn wc_status_msg(status: u32) -> &'static CStr {
    // SAFETY: `ib_wc_status_msg` returns a static NUL-terminated string for
    // every value ("unrecognized status" for unknown ones).
    unsafe { CStr::from_char_ptr(bindings::ib_wc_status_msg(status)) }
}

/// Connection-level failures of an RDMA work request, as errors.
pub fn wc_error(status: u32) -> Error {
    if wc_flushed(status) {
        super::errno(bindings::ECONNRESET)
    } else {
        EIO
    }
}
