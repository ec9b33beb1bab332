// SPDX-License-Identifier: GPL-2.0

//! A kernel `iov_iter` lent by C for one call: the buffers cifs and ksmbd
//! hand their transports.
//!
//! C header: [`include/linux/uio.h`](srctree/include/linux/uio.h).

use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::{c_uint, c_void};
use kernel::prelude::*;

use super::ffi;
use super::page::{spans_from_iter, within_page, PageRef, PageSpan, SpanSink};

/// A borrowed iterator over kernel memory (KVEC, BVEC, FOLIOQ or XARRAY).
/// Reading or taking spans from it advances it, as the C callers expect.
pub struct KernelIter<'a> {
    iter: NonNull<bindings::iov_iter>,
    _borrow: PhantomData<&'a mut bindings::iov_iter>,
}

impl KernelIter<'_> {
    /// Borrows the iterator at `iter`.
    ///
    /// # Safety
    ///
    /// `iter` points to a valid `iov_iter` over kernel memory that nothing
    /// else uses while the returned value lives, and its memory stays valid
    /// that long.
    pub unsafe fn from_raw(iter: NonNull<bindings::iov_iter>) -> Self {
        Self {
            iter,
            _borrow: PhantomData,
        }
    }

    /// The iterator, for a helper that advances it (`&mut`: ours for the
    /// call).
    pub(crate) fn as_ptr(&mut self) -> *mut bindings::iov_iter {
        self.iter.as_ptr()
    }

    /// Bytes left in the iterator.
    pub fn count(&self) -> usize {
        // SAFETY: By the type invariant the iterator is valid.
        unsafe { ffi::smbdrs_iter_count(self.iter.as_ptr()) }
    }

    /// Copies `bytes` into the iterator's memory (a destination iterator)
    /// and advances it; `EFAULT` if it has less room, in which case it is
    /// advanced by what did fit.
    pub fn copy_in(&mut self, bytes: &[u8]) -> Result {
        // SAFETY: By the type invariant the iterator is valid and ours for
        // the call; `bytes` is valid for reads of its length.
        let copied = unsafe {
            ffi::smbdrs_copy_to_iter(
                bytes.as_ptr().cast::<c_void>(),
                bytes.len(),
                self.iter.as_ptr(),
            )
        };
        if copied == bytes.len() {
            Ok(())
        } else {
            Err(EFAULT)
        }
    }

    /// Copies the next `len` bytes into `page` at `offset` and advances
    /// the iterator; `EINVAL` past the page, `EFAULT` if the iterator had
    /// fewer bytes (it is then advanced by those it had).
    pub fn copy_to_page(&mut self, page: &mut PageRef, offset: usize, len: usize) -> Result {
        within_page(offset, len)?;
        // SAFETY: By the type invariants the iterator and the page are
        // valid; the range lies within the page, and `&mut` makes this the
        // only access through a caller's handle.
        let copied = unsafe {
            ffi::smbdrs_copy_page_from_iter(page.as_ptr(), offset, len, self.iter.as_ptr())
        };
        if copied == len {
            Ok(())
        } else {
            Err(EFAULT)
        }
    }

    /// Appends the next `len` bytes as page spans (each holding a reference
    /// to its page) to `out`, advancing the iterator; nothing is copied.
    pub fn take_spans<S: SpanSink>(&mut self, len: usize, out: &mut S) -> Result<usize> {
        // SAFETY: By the type invariant the iterator is valid, over kernel
        // memory that stays valid for the call.
        unsafe { spans_from_iter(self.iter.as_ptr(), len, out) }
    }
}

/// A BVEC iterator over page spans the caller keeps: memory handed to the
/// transports the way cifs hands its folios, for the in-kernel tests.
///
/// # Invariants
///
/// `it` is a `smbdrs_page_iter` of ours, started over the pages of the
/// spans borrowed for `'a`, and `iter` is its iterator.
pub struct SpansIter<'a> {
    it: NonNull<c_void>,
    iter: NonNull<bindings::iov_iter>,
    _spans: PhantomData<&'a [PageSpan]>,
}

impl<'a> SpansIter<'a> {
    /// An iterator over `spans`, in order; `dest` when data goes into
    /// them (an SMB2 READ's buffer), otherwise out of them.
    pub fn new(spans: &'a [PageSpan], dest: bool) -> Result<Self> {
        let max = c_uint::try_from(spans.len()).map_err(|_| EINVAL)?;
        // SAFETY: Plain allocation.
        let it = NonNull::new(unsafe { ffi::smbdrs_page_iter_alloc(max) }).ok_or(ENOMEM)?;
        // Freed by `drop` from here on, whatever fails below.
        let mut this = Self {
            it,
            iter: NonNull::dangling(),
            _spans: PhantomData,
        };
        for span in spans {
            // SAFETY: `it` is ours with room for `max` entries; the span's
            // page is valid for `'a` and the range lies within it.
            let rc = unsafe {
                ffi::smbdrs_page_iter_add(
                    it.as_ptr(),
                    span.page().as_ptr(),
                    span.len(),
                    span.offset(),
                )
            };
            if rc != 0 {
                return Err(Error::from_errno(rc));
            }
        }
        // SAFETY: `it` is ours; its pages were added above.
        let iter = unsafe { ffi::smbdrs_page_iter_start(it.as_ptr(), dest) };
        this.iter = NonNull::new(iter).ok_or(EINVAL)?;
        Ok(this)
    }

    /// The iterator, advanced by whatever takes bytes from it.
    pub fn iter(&mut self) -> KernelIter<'_> {
        // SAFETY: By the type invariant `iter` is a valid iterator over
        // pages that live for `'a`; `&mut self` makes it ours for the
        // borrow.
        unsafe { KernelIter::from_raw(self.iter) }
    }
}

impl Drop for SpansIter<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `it` is ours; no `KernelIter`
        // borrowed from it outlives `self`.
        unsafe { ffi::smbdrs_page_iter_free(self.it.as_ptr()) };
    }
}
