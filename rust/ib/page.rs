// SPDX-License-Identifier: GPL-2.0

//! Caller pages sent without copying: counted page references, the spans of
//! a message that live in them, and their DMA mappings while a send work
//! request uses them.
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h).
//!
//! A send work request holds its own reference to every page it maps, so
//! the memory stays valid until the device is done with it whatever the
//! caller does meanwhile; the mapping is undone and the reference dropped
//! when the work request's context is freed, after its completion.

use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;
use kernel::sync::Arc;

use super::dma::DmaDir;
use super::ffi;
use super::verbs::PdInner;
use super::PAGE_SIZE;

/// The most payload spans one send work request carries; with the header
/// that makes six SGEs, what siw offers and what upstream uses.
pub const MAX_PAYLOAD_SPANS: usize = 5;

/// `EINVAL` unless `len` bytes at `offset` lie within one page.
pub(crate) fn within_page(offset: usize, len: usize) -> Result {
    match offset.checked_add(len) {
        Some(end) if end <= PAGE_SIZE => Ok(()),
        _ => Err(EINVAL),
    }
}

/// A counted reference to a kernel page.
///
/// # Invariants
///
/// `page` is a valid `struct page` on which this value holds one reference.
pub struct PageRef {
    page: NonNull<bindings::page>,
}

// SAFETY: Page references may be taken and dropped from any context.
unsafe impl Send for PageRef {}
// SAFETY: Shared references only read the pointer; byte access through
// `&self` is read-only.
unsafe impl Sync for PageRef {}

impl PageRef {
    /// Allocates a page (`GFP_KERNEL`).
    pub fn alloc() -> Result<Self> {
        // SAFETY: Plain page allocation.
        let page = unsafe { ffi::smbdrs_page_alloc() };
        Ok(Self {
            page: NonNull::new(page).ok_or(ENOMEM)?,
        })
    }

    /// Takes a new reference to `page`.
    ///
    /// # Safety
    ///
    /// `page` is a valid page on which the caller holds a reference for the
    /// duration of the call, and that may be reference counted (not a slab
    /// page).
    pub unsafe fn from_raw(page: NonNull<bindings::page>) -> Self {
        // SAFETY: By the function's contract the page is valid and counted.
        unsafe { ffi::smbdrs_page_get(page.as_ptr()) };
        Self { page }
    }

    /// Another reference to the same page; crate-only, so that the only
    /// handles through which callers write are the ones they allocated.
    pub(crate) fn share(&self) -> Self {
        // SAFETY: By the type invariant the page is valid and we hold a
        // reference to it.
        unsafe { Self::from_raw(self.page) }
    }

    /// Copies `src` into the page at `offset`.
    pub fn write(&mut self, offset: usize, src: &[u8]) -> Result {
        within_page(offset, src.len())?;
        // SAFETY: The range lies within the page, which is valid; `&mut`
        // makes this the only access through a caller's handle.
        unsafe {
            ffi::smbdrs_page_copy_to(
                self.page.as_ptr(),
                offset,
                src.as_ptr().cast::<c_void>(),
                src.len(),
            )
        };
        Ok(())
    }

    /// Copies bytes of the page at `offset` into `dst`.
    pub fn read(&self, offset: usize, dst: &mut [u8]) -> Result {
        within_page(offset, dst.len())?;
        // SAFETY: The range lies within the page, which is valid.
        unsafe {
            ffi::smbdrs_page_copy_from(
                self.page.as_ptr(),
                offset,
                dst.as_mut_ptr().cast::<c_void>(),
                dst.len(),
            )
        };
        Ok(())
    }

    /// The `struct page`.
    pub fn as_ptr(&self) -> *mut bindings::page {
        self.page.as_ptr()
    }
}

impl Drop for PageRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold one reference.
        unsafe { ffi::smbdrs_page_put(self.page.as_ptr()) };
    }
}

/// Bytes of one page: `len` bytes at `offset`.
///
/// # Invariants
///
/// `len > 0` and `offset + len <= PAGE_SIZE`.
pub struct PageSpan {
    page: PageRef,
    offset: u32,
    len: u32,
}

impl PageSpan {
    /// A span, checked to lie within its page and not be empty.
    pub fn new(page: PageRef, offset: u32, len: u32) -> Result<Self> {
        if len == 0 {
            return Err(EINVAL);
        }
        within_page(offset as usize, len as usize)?;
        Ok(Self { page, offset, len })
    }

    /// The page.
    pub fn page(&self) -> &PageRef {
        &self.page
    }

    /// Where the bytes start in the page.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// How many bytes.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Always false: spans are never empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `len` bytes at `offset` of this span, sharing its page.
    pub(crate) fn slice(&self, offset: u32, len: u32) -> Result<Self> {
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        if len == 0 || end > self.len {
            return Err(EINVAL);
        }
        Ok(Self {
            page: self.page.share(),
            offset: self.offset + offset,
            len,
        })
    }
}

/// The payload of one send: up to [`MAX_PAYLOAD_SPANS`] page spans, each
/// with its own page reference.
#[derive(Default)]
pub struct SendPayload {
    spans: [Option<PageSpan>; MAX_PAYLOAD_SPANS],
    len: usize,
}

impl SendPayload {
    /// An empty payload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a span that shares the page of `span`; `ENOSPC` when full.
    pub fn push_shared(&mut self, span: &PageSpan, offset: u32, len: u32) -> Result {
        if self.len == MAX_PAYLOAD_SPANS {
            return Err(ENOSPC);
        }
        self.spans[self.len] = Some(span.slice(offset, len)?);
        self.len += 1;
        Ok(())
    }

    /// The number of spans.
    pub fn spans(&self) -> usize {
        self.len
    }

    /// Maps every span for `pd`'s device and writes their SGEs to `sges`.
    pub(crate) fn map(
        self,
        pd: &Arc<PdInner>,
        sges: &mut [bindings::ib_sge],
    ) -> Result<MappedPayload> {
        let mut mapped = MappedPayload {
            pd: pd.clone(),
            spans: [const { None }; MAX_PAYLOAD_SPANS],
        };
        let dev = pd.device();
        for (i, span) in self.spans.into_iter().flatten().enumerate() {
            let sge = sges.get_mut(i).ok_or(EINVAL)?;
            // SAFETY: `dev` is valid while `pd` lives; the span lies within
            // its page (checked at construction), which we hold a reference
            // to.
            let addr = unsafe {
                ffi::smbdrs_ib_dma_map_page(
                    dev,
                    span.page.as_ptr(),
                    span.offset as usize,
                    span.len as usize,
                    DmaDir::ToDevice.raw(),
                )
            };
            // SAFETY: `addr` came from mapping on `dev`.
            if unsafe { ffi::smbdrs_ib_dma_mapping_error(dev, addr) } != 0 {
                // Dropping `mapped` unmaps the spans mapped so far.
                return Err(ENOMEM);
            }
            *sge = bindings::ib_sge {
                addr,
                length: span.len,
                lkey: pd.local_dma_lkey(),
            };
            mapped.spans[i] = Some((span, addr));
        }
        Ok(mapped)
    }
}

/// The spans of a payload mapped for DMA, owned by the send work request
/// that uses them.
///
/// # Invariants
///
/// Every `(span, addr)` is a live `DMA_TO_DEVICE` mapping of `span` on
/// `pd`'s device, undone by `drop`.
pub(crate) struct MappedPayload {
    pd: Arc<PdInner>,
    spans: [Option<(PageSpan, u64)>; MAX_PAYLOAD_SPANS],
}

impl Drop for MappedPayload {
    fn drop(&mut self) {
        let dev = self.pd.device();
        for (span, addr) in self.spans.iter().flatten() {
            // SAFETY: By the type invariant the mapping is live; the work
            // request that used it has completed (or was never posted).
            unsafe {
                ffi::smbdrs_ib_dma_unmap_page(dev, *addr, span.len as usize, DmaDir::ToDevice.raw())
            };
        }
    }
}

/// Where the page walks below put their spans: a plain list, or straight
/// into a message being built (no list in between).
pub trait SpanSink {
    /// Appends one span.
    fn push_span(&mut self, span: PageSpan) -> Result;
}

/// Appends one page piece of an iterator walk to the `S` at `ctx`, taking
/// a reference to the page.
///
/// # Safety
///
/// `ctx` is a `&mut S` for the call; `page` is a valid, reference-counted
/// page, and `offset + len` lies within it.
unsafe extern "C" fn push_span<S: SpanSink>(
    ctx: *mut c_void,
    page: *mut bindings::page,
    offset: c_uint,
    len: c_uint,
) -> c_int {
    // SAFETY: By the function's contract.
    let out = unsafe { &mut *ctx.cast::<S>() };
    let Some(page) = NonNull::new(page) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's contract the page is valid and counted.
    let page = unsafe { PageRef::from_raw(page) };
    let pushed = PageSpan::new(page, offset, len).and_then(|span| out.push_span(span));
    match pushed {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn walked(ret: isize, len: usize) -> Result<usize> {
    match usize::try_from(ret) {
        Ok(n) if n == len => Ok(n),
        Ok(_) => Err(EIO),
        Err(_) => Err(Error::from_errno(ret as c_int)),
    }
}

/// Appends the next `len` bytes of the kernel iterator `iter` (KVEC, BVEC,
/// FOLIOQ or XARRAY, as cifs and ksmbd hand them over) to `out` as page
/// spans, each holding a reference to its page, and advances the iterator.
/// Nothing is copied: the spans describe the iterator's memory.
///
/// # Safety
///
/// `iter` is a valid iterator over kernel memory whose pages stay valid for
/// the call (the spans' references keep them afterwards).
pub unsafe fn spans_from_iter<S: SpanSink>(
    iter: *mut bindings::iov_iter,
    len: usize,
    out: &mut S,
) -> Result<usize> {
    let ctx = core::ptr::from_mut(out).cast::<c_void>();
    // SAFETY: By the function's contract `iter` is valid; `push_span`
    // matches the callback type and `ctx` is `out` for the call.
    let ret = unsafe { ffi::smbdrs_iter_walk_pages(iter, len, Some(push_span::<S>), ctx) };
    walked(ret, len)
}

/// Appends `bytes` (kernel memory: kmalloc'd, vmalloc'd or a kernel stack)
/// to `out` as page spans, each holding a reference to its page. Nothing is
/// copied: the bytes must stay as they are until whatever uses the spans
/// (a send) is done with them.
pub fn spans_from_slice<S: SpanSink>(bytes: &[u8], out: &mut S) -> Result<usize> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let ctx = core::ptr::from_mut(out).cast::<c_void>();
    // SAFETY: `bytes` is valid kernel memory for the call (a shared
    // borrow); the pages of kernel memory are reference-counted; `ctx` is
    // `out` for the call.
    let ret = unsafe {
        ffi::smbdrs_kmem_walk_pages(
            bytes.as_ptr().cast::<c_void>(),
            bytes.len(),
            Some(push_span::<S>),
            ctx,
        )
    };
    walked(ret, bytes.len())
}
