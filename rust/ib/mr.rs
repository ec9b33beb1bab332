// SPDX-License-Identifier: GPL-2.0

//! Fast-registration memory regions (FRMR): the memory an SMB Direct client
//! exposes to the server's RDMA reads and writes.
//!
//! C header: [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h).
//!
//! Life of a registration: [`FastRegMr::map`] takes an [`SgBuf`] and maps its
//! pages into the region under a fresh key; [`super::QueuePair::post_reg_mr`]
//! makes it valid for remote access; [`super::QueuePair::post_local_inv`]
//! ends that access; then [`FastRegMr::unmap`] gives the buffer back. The
//! buffer cannot be had back while the registration is valid, and dropping
//! the region deregisters it before the buffer is freed.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use kernel::bindings;
use kernel::error::from_err_ptr;
use kernel::ffi::c_uint;
use kernel::prelude::*;
use kernel::sync::Arc;

use super::dma::SgBuf;
use super::ffi;
use super::verbs::{Pd, PdInner, WorkKind};

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

/// The owner of one `ib_mr`, shared with work requests in flight.
///
/// # Invariants
///
/// `mr` is a fast-registration region of `pd`, valid until `drop`.
pub(crate) struct MrInner {
    mr: NonNull<bindings::ib_mr>,
    // Keeps the PD (and device) alive until the region is deregistered.
    _pd: Arc<PdInner>,
    registered: AtomicBool,
    in_flight: AtomicU32,
}

// SAFETY: Memory regions may be used and freed from any process context.
unsafe impl Send for MrInner {}
// SAFETY: Mutation goes through `&mut FastRegMr` or ib_core.
unsafe impl Sync for MrInner {}

impl MrInner {
    pub(crate) fn as_ptr(&self) -> *mut bindings::ib_mr {
        self.mr.as_ptr()
    }

    /// Notes a work request that uses the region.
    pub(crate) fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    /// Notes the outcome of a registration or invalidation.
    pub(crate) fn completed(&self, kind: WorkKind, ok: bool) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        match kind {
            WorkKind::RegMr => self.registered.store(ok, Ordering::Release),
            WorkKind::LocalInv if ok => self.registered.store(false, Ordering::Release),
            _ => {}
        }
    }
}

impl Drop for MrInner {
    fn drop(&mut self) {
        // SAFETY: The region is valid and no work request references it (they
        // hold this value). Deregistering ends any remote access.
        unsafe { bindings::ib_dereg_mr_user(self.as_ptr(), core::ptr::null_mut()) };
    }
}

/// A fast-registration memory region and the buffer it maps.
pub struct FastRegMr {
    pub(crate) inner: Arc<MrInner>,
    max_pages: u32,
    // Declared after `inner`: dropped after the region is deregistered
    // (when we hold the last reference).
    buf: Option<SgBuf>,
}

impl FastRegMr {
    /// Allocates a region that can map up to `max_pages` pages.
    pub fn new(pd: &Pd, max_pages: u32) -> Result<Self> {
        if max_pages == 0 || max_pages > pd.limits().max_fast_reg_page_list_len {
            return Err(EINVAL);
        }
        // SAFETY: The PD is valid.
        let mr = from_err_ptr(unsafe {
            bindings::ib_alloc_mr(
                pd.inner.as_ptr(),
                bindings::ib_mr_type_IB_MR_TYPE_MEM_REG,
                max_pages,
            )
        })?;
        let inner = Arc::new(
            MrInner {
                // SAFETY: `from_err_ptr` returned a valid pointer.
                mr: unsafe { NonNull::new_unchecked(mr) },
                _pd: pd.inner.clone(),
                registered: AtomicBool::new(false),
                in_flight: AtomicU32::new(0),
            },
            GFP_KERNEL,
        )
        .map_err(|_| {
            // SAFETY: `mr` is valid and unused.
            unsafe { bindings::ib_dereg_mr_user(mr, core::ptr::null_mut()) };
            ENOMEM
        })?;
        Ok(Self {
            inner,
            max_pages,
            buf: None,
        })
    }

    /// The current key; remote peers use it as the token.
    pub fn rkey(&self) -> u32 {
        // SAFETY: The region is valid.
        unsafe { (*self.inner.as_ptr()).rkey }
    }

    /// Maps all of `buf` under a fresh key, ready for
    /// [`super::QueuePair::post_reg_mr`].
    pub fn map(&mut self, mut buf: SgBuf) -> Result<RemoteKey, (Error, SgBuf)> {
        if self.buf.is_some() || self.inner.registered.load(Ordering::Acquire) {
            return Err((EBUSY, buf));
        }
        let pages = buf.len() / bindings::PAGE_SIZE;
        if pages > self.max_pages as usize {
            return Err((EINVAL, buf));
        }
        let mr = self.inner.as_ptr();
        // SAFETY: The region is valid and not registered (checked above), so
        // changing its key cannot affect a peer's access.
        unsafe {
            let key = ffi::smbdrs_ib_inc_rkey((*mr).rkey);
            ffi::smbdrs_ib_update_fast_reg_key(mr, key as u8);
        }
        let nents = buf.mapped();
        // SAFETY: `buf`'s scatterlist is DMA-mapped with `nents` segments;
        // the region keeps the page addresses only.
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
        self.buf = Some(buf);
        Ok(key)
    }

    /// Whether the registration is currently valid for remote access.
    pub fn is_registered(&self) -> bool {
        self.inner.registered.load(Ordering::Acquire)
    }

    /// Gives the buffer back once the registration is invalidated.
    pub fn unmap(&mut self) -> Result<SgBuf> {
        if self.is_registered() {
            return Err(EBUSY);
        }
        self.buf.take().ok_or(EINVAL)
    }
}

impl Drop for FastRegMr {
    fn drop(&mut self) {
        if self.inner.in_flight.load(Ordering::Acquire) != 0 {
            // A registration or invalidation is still posted, so the region
            // outlives us and may stay valid for the peer: its memory must
            // never be freed. Leak it, loudly, rather than risk a DMA into
            // freed memory. Draining the queue pair first avoids this.
            pr_err!("memory region dropped with work in flight; leaking its buffer\n");
            if let Some(buf) = self.buf.take() {
                core::mem::forget(buf);
            }
        }
    }
}
