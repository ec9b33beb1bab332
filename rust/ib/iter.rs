// SPDX-License-Identifier: GPL-2.0

//! A kernel `iov_iter` lent by C for one call: the buffers cifs and ksmbd
//! hand their transports.
//!
//! C header: [`include/linux/uio.h`](srctree/include/linux/uio.h).

use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;

use super::ffi;
use super::page::{spans_from_iter, within_page, PageRef, SpanSink};

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
