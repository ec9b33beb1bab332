// SPDX-License-Identifier: GPL-2.0

//! Fast-registration memory regions (FRMR): the memory an SMB Direct client
//! exposes to the server's RDMA reads and writes.
//!
//! C header: [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h).
//!
//! Life of a registration, one state checked by every operation:
//!
//! ```text
//!   Free --map--> Mapped --post_reg_mr--> RegPosted --ok--> Registered
//!    ^              |                         |                 |
//!    +----unmap-----+                       fail          post_local_inv or
//!    +----unmap------------ Invalid <--ok-- InvPosted <-----remote invalidation
//!    +----recover--------- Failed <--fail-----+
//! ```
//!
//! The buffer lives inside the region's shared state and is freed only after
//! the region is deregistered, when the last reference (the owner's or that
//! of a work request in flight) goes: no path can free memory the peer may
//! still reach.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU8, Ordering};

use kernel::bindings;
use kernel::error::from_err_ptr;
use kernel::ffi::c_uint;
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::workqueue::{impl_has_work, new_work, Work, WorkItem};

use super::dma::{PageBuf, SgBuf};
use super::ffi;
use super::qp::teardown_queue;
use super::verbs::{Pd, PdInner, WorkKind};
use super::{in_task, new_spinlock_bh, SpinLockBh};

/// What the peer needs to reach registered memory: the buffer descriptor
/// of [MS-SMBD] 2.2.3.1 carries exactly these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteKey {
    /// The remote address (iova) of the first byte.
    pub addr: u64,
    /// The steering tag (rkey).
    pub rkey: u32,
    /// Bytes reachable from `addr`.
    pub length: u64,
}

/// The access a registration grants (`IB_ACCESS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access(u32);

impl Access {
    /// The local device may write the memory (needed with remote write).
    pub const LOCAL_WRITE: Access = Access(bindings::ib_access_flags_IB_ACCESS_LOCAL_WRITE);
    /// The peer may RDMA-write into the memory.
    pub const REMOTE_WRITE: Access = Access(bindings::ib_access_flags_IB_ACCESS_REMOTE_WRITE);
    /// The peer may RDMA-read the memory.
    pub const REMOTE_READ: Access = Access(bindings::ib_access_flags_IB_ACCESS_REMOTE_READ);

    /// Both.
    pub const fn union(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }

    pub(crate) const fn bits(self) -> u32 {
        self.0
    }
}

/// Where a region is in its life; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MrState {
    /// No buffer.
    Free = 0,
    /// A buffer is mapped; not valid for the peer.
    Mapped = 1,
    /// A registration is posted.
    RegPosted = 2,
    /// Valid for the peer.
    Registered = 3,
    /// An invalidation is posted.
    InvPosted = 4,
    /// No longer valid for the peer; the buffer may be had back.
    Invalid = 5,
    /// A registration or invalidation failed: the peer's access is unknown
    /// until the region is deregistered ([`FastRegMr::recover`]).
    Failed = 6,
}

impl MrState {
    fn from_raw(v: u8) -> Self {
        match v {
            0 => Self::Free,
            1 => Self::Mapped,
            2 => Self::RegPosted,
            3 => Self::Registered,
            4 => Self::InvPosted,
            5 => Self::Invalid,
            _ => Self::Failed,
        }
    }
}

/// The owner of one `ib_mr` and of the buffer it maps, shared with work
/// requests in flight.
///
/// # Invariants
///
/// `mr` is a fast-registration region of `pd`, valid until `drop`, which
/// deregisters it before `buf` is freed. The `ib_mr`'s key and page list
/// change only in state `Free`, when no work request uses it.
#[pin_data(PinnedDrop)]
pub(crate) struct MrInner {
    mr: NonNull<bindings::ib_mr>,
    pd: Arc<PdInner>,
    state: AtomicU8,
    /// Locked in softirq too, by a completion's last reference.
    #[pin]
    buf: SpinLockBh<Option<SgBuf>>,
    /// Where the region goes to be deregistered when its last reference
    /// is dropped in softirq (by a completion), where deregistering may
    /// not sleep as drivers do; allocated up front, so dropping cannot
    /// fail.
    late: Option<Pin<KBox<LateDereg>>>,
}

// SAFETY: Memory regions may be used and freed from any process context.
unsafe impl Send for MrInner {}
// SAFETY: Through `&MrInner`, the `ib_mr` is only read (its pointer, and its
// key by the owner); the key and page list are written by `FastRegMr::map`
// with `&mut FastRegMr` in state `Free`, when no work request references the
// region. The state is atomic and the buffer behind a lock.
unsafe impl Sync for MrInner {}

#[pinned_drop]
impl PinnedDrop for MrInner {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Only `late`, which is not structurally pinned, is
        // changed through this reference; nothing pinned is moved.
        let this = unsafe { self.get_unchecked_mut() };
        if !in_task() {
            if let Some(mut late) = this.late.take() {
                let buf = this.buf.lock().take();
                late.as_mut().hold(this.mr, buf, this.pd.clone());
                // A box is queued unconditionally (it is never queued yet).
                teardown_queue().enqueue(late);
                return;
            }
        }
        // SAFETY: The region is valid and no work request references it (they
        // hold this value). Deregistering ends any remote access, so the
        // buffer, dropped after this, is no longer reachable by the peer.
        unsafe { bindings::ib_dereg_mr_user(this.mr.as_ptr(), core::ptr::null_mut()) };
    }
}

/// A region whose last reference went in softirq, with its buffer and its
/// protection domain, on its way to be deregistered in process context
/// (see [`MrInner`]'s `late`).
#[pin_data]
struct LateDereg {
    #[pin]
    work: Work<LateDereg>,
    mr: Option<NonNull<bindings::ib_mr>>,
    buf: Option<SgBuf>,
    pd: Option<Arc<PdInner>>,
}

// SAFETY: The region it holds is no longer used by anyone else; ib_core
// deregisters a region from any process context.
unsafe impl Send for LateDereg {}

impl_has_work! {
    impl HasWork<Self> for LateDereg { self.work }
}

impl LateDereg {
    fn new() -> Result<Pin<KBox<Self>>> {
        KBox::pin_init(
            pin_init!(Self {
                work <- new_work!("smbdrs_mr_late_dereg"),
                mr: None,
                buf: None,
                pd: None,
            }),
            GFP_KERNEL,
        )
    }

    fn hold(
        self: Pin<&mut Self>,
        mr: NonNull<bindings::ib_mr>,
        buf: Option<SgBuf>,
        pd: Arc<PdInner>,
    ) {
        let this = self.fields();
        this.mr = Some(mr);
        this.buf = buf;
        this.pd = Some(pd);
    }

    fn fields(self: Pin<&mut Self>) -> &mut Self {
        // SAFETY: Callers change only the fields other than `work`, which
        // are not structurally pinned; `work` is neither moved nor touched.
        unsafe { self.get_unchecked_mut() }
    }
}

impl WorkItem for LateDereg {
    type Pointer = Pin<KBox<Self>>;

    fn run(mut this: Pin<KBox<Self>>) {
        let fields = this.as_mut().fields();
        if let Some(mr) = fields.mr.take() {
            // SAFETY: The region was handed over by its owner's last
            // reference, so nothing uses it; it is deregistered once, here,
            // before its buffer and its protection domain go.
            unsafe { bindings::ib_dereg_mr_user(mr.as_ptr(), core::ptr::null_mut()) };
        }
        drop(fields.buf.take());
        drop(fields.pd.take());
    }
}

impl MrInner {
    fn new(domain: Arc<PdInner>, max_pages: u32) -> impl PinInit<Self, Error> {
        let raw_pd = domain.as_ptr();
        try_pin_init!(Self {
            pd: domain,
            state: AtomicU8::new(MrState::Free as u8),
            buf <- new_spinlock_bh!(None, "smbdrs_mr_buf"),
            late: Some(LateDereg::new()?),
            // Created last: if anything before failed, there is nothing to
            // deregister, and once it exists only `drop` frees it.
            mr: {
                // SAFETY: The PD is valid: `pd` holds it.
                let mr = from_err_ptr(unsafe {
                    bindings::ib_alloc_mr(
                        raw_pd,
                        bindings::ib_mr_type_IB_MR_TYPE_MEM_REG,
                        max_pages,
                    )
                })?;
                // SAFETY: `from_err_ptr` returned a valid pointer.
                unsafe { NonNull::new_unchecked(mr) }
            },
        }? Error)
    }

    pub(crate) fn as_ptr(&self) -> *mut bindings::ib_mr {
        self.mr.as_ptr()
    }

    pub(crate) fn pd(&self) -> &Arc<PdInner> {
        &self.pd
    }

    fn state(&self) -> MrState {
        MrState::from_raw(self.state.load(Ordering::Acquire))
    }

    fn transition(&self, from: MrState, to: MrState) -> bool {
        self.state
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Moves to the posted state of `kind`, or fails if the region is not
    /// ready for it.
    pub(crate) fn start(&self, kind: WorkKind) -> Result {
        let ok = match kind {
            WorkKind::RegMr => self.transition(MrState::Mapped, MrState::RegPosted),
            WorkKind::LocalInv => self.transition(MrState::Registered, MrState::InvPosted),
            _ => false,
        };
        if !ok {
            pr_err!("{:?} refused: memory region is {:?}\n", kind, self.state());
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Undoes `start` for a work request that was not posted.
    pub(crate) fn post_refused(&self, kind: WorkKind) {
        match kind {
            WorkKind::RegMr => self.transition(MrState::RegPosted, MrState::Mapped),
            WorkKind::LocalInv => self.transition(MrState::InvPosted, MrState::Registered),
            _ => false,
        };
    }

    /// Records the outcome of a registration or invalidation.
    pub(crate) fn completed(&self, kind: WorkKind, ok: bool) {
        let (from, to) = match (kind, ok) {
            (WorkKind::RegMr, true) => (MrState::RegPosted, MrState::Registered),
            (WorkKind::LocalInv, true) => (MrState::InvPosted, MrState::Invalid),
            (WorkKind::RegMr, false) => (MrState::RegPosted, MrState::Failed),
            (WorkKind::LocalInv, false) => (MrState::InvPosted, MrState::Failed),
            _ => return,
        };
        self.transition(from, to);
    }
}

/// A fast-registration memory region and the buffer it maps.
pub struct FastRegMr {
    pub(crate) inner: Arc<MrInner>,
    pd: Pd,
    max_pages: u32,
    /// A scatterlist table of `max_pages` entries kept between
    /// registrations, so that one costs no allocation.
    table: Option<KVec<bindings::scatterlist>>,
}

impl FastRegMr {
    /// Allocates a region that can map up to `max_pages` pages.
    pub fn new(pd: &Pd, max_pages: u32) -> Result<Self> {
        if max_pages == 0 || max_pages > pd.limits().max_fast_reg_page_list_len {
            return Err(EINVAL);
        }
        Ok(Self {
            inner: Arc::pin_init(MrInner::new(pd.inner.clone(), max_pages), GFP_KERNEL)?,
            pd: pd.clone(),
            max_pages,
            table: None,
        })
    }

    /// The region's scatterlist table, of as many entries as it maps pages
    /// (allocated on first use, then handed back by
    /// [`FastRegMr::keep_table`]).
    pub fn take_table(&mut self) -> Result<KVec<bindings::scatterlist>> {
        match self.table.take() {
            Some(t) => Ok(t),
            None => PageBuf::table(self.max_pages as usize),
        }
    }

    /// Keeps `table` for the next registration, if it is one of this
    /// region's size.
    pub fn keep_table(&mut self, table: KVec<bindings::scatterlist>) {
        if table.len() == self.max_pages as usize {
            self.table = Some(table);
        }
    }

    /// The current key; remote peers use it as the token.
    pub fn rkey(&self) -> u32 {
        // SAFETY: The region is valid; the key changes only in `map`, which
        // needs `&mut self`.
        unsafe { (*self.inner.as_ptr()).rkey }
    }

    /// Where the region is in its life.
    pub fn state(&self) -> MrState {
        self.inner.state()
    }

    /// Maps all of `buf` (mapped on this region's device) under a fresh key,
    /// ready for [`super::QueuePair::post_reg_mr`]. Only a free region can
    /// be mapped (`EBUSY` otherwise).
    pub fn map(&mut self, mut buf: SgBuf) -> Result<RemoteKey, (Error, SgBuf)> {
        if !self.pd.same(buf.pd_inner()) {
            pr_err!("memory region refused a buffer of another protection domain\n");
            return Err((EINVAL, buf));
        }
        if self.state() != MrState::Free {
            return Err((EBUSY, buf));
        }
        let pages = buf.entries();
        if pages == 0 || pages > self.max_pages as usize {
            return Err((EINVAL, buf));
        }
        let mr = self.inner.as_ptr();
        // SAFETY: The region is valid and free: no work request uses it and
        // the peer cannot reach it, so its key may change.
        unsafe {
            let key = ffi::smbdrs_ib_inc_rkey((*mr).rkey);
            ffi::smbdrs_ib_update_fast_reg_key(mr, key as u8);
        }
        let nents = buf.mapped();
        // SAFETY: `buf`'s scatterlist is DMA-mapped with `nents` segments;
        // the region keeps the page addresses only, and `buf` stays in the
        // region's state until it is deregistered or unmapped.
        let n = unsafe {
            bindings::ib_map_mr_sg(
                mr,
                buf.sg_ptr(),
                nents,
                core::ptr::null_mut(),
                bindings::PAGE_SIZE as c_uint,
            )
        };
        if n != nents {
            return Err((if n < 0 { Error::from_errno(n) } else { EINVAL }, buf));
        }
        // SAFETY: A successful map set iova and length.
        let key = unsafe {
            RemoteKey {
                addr: (*mr).iova,
                rkey: (*mr).rkey,
                length: (*mr).length,
            }
        };
        *self.inner.buf.lock() = Some(buf);
        self.inner.transition(MrState::Free, MrState::Mapped);
        Ok(key)
    }

    /// Whether the registration is currently valid for remote access.
    pub fn is_registered(&self) -> bool {
        self.state() == MrState::Registered
    }

    /// Records that the peer invalidated `rkey` with a send-with-invalidate;
    /// `EINVAL` unless that is this region's registered key.
    pub fn remotely_invalidated(&self, rkey: u32) -> Result {
        if rkey != self.rkey() || !self.inner.transition(MrState::Registered, MrState::Invalid) {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Gives the buffer back once the peer can no longer reach it: mapped
    /// and never registered, or invalidated. `EBUSY` while a registration is
    /// posted, valid or being invalidated; `EIO` after a failure (see
    /// [`FastRegMr::recover`]).
    pub fn unmap(&mut self) -> Result<SgBuf> {
        match self.state() {
            MrState::Mapped | MrState::Invalid => {}
            MrState::Free => return Err(EINVAL),
            MrState::Failed => return Err(EIO),
            _ => return Err(EBUSY),
        }
        let buf = self.inner.buf.lock().take().ok_or(EINVAL)?;
        self.inner
            .state
            .store(MrState::Free as u8, Ordering::Release);
        Ok(buf)
    }

    /// Replaces a region whose registration or invalidation failed (or any
    /// region not in use by a work request) with a new one, deregistering the
    /// old. The buffer comes back if nothing else held the old region;
    /// otherwise it is freed when the last work request that used it
    /// completes.
    pub fn recover(&mut self) -> Result<Option<SgBuf>> {
        if matches!(self.state(), MrState::RegPosted | MrState::InvPosted) {
            return Err(EBUSY);
        }
        let fresh = Arc::pin_init(
            MrInner::new(self.pd.inner.clone(), self.max_pages),
            GFP_KERNEL,
        )?;
        let old = core::mem::replace(&mut self.inner, fresh);
        match old.into_unique_or_drop() {
            Some(unique) => {
                let buf = unique.buf.lock().take();
                // Deregisters the old region before `buf` is handed back.
                drop(unique);
                Ok(buf)
            }
            None => Ok(None),
        }
    }
}
