// SPDX-License-Identifier: GPL-2.0

//! Buffers mapped for DMA by an RDMA device.
//!
//! C header: [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h).

use kernel::bindings;
use kernel::ffi::{c_int, c_uint, c_void};
use kernel::prelude::*;
use kernel::sync::Arc;

use super::ffi;
use super::iter::KernelIter;
use super::page::PageSpan;
use super::verbs::{Pd, PdInner};
use super::PAGE_SIZE;

/// The direction of a DMA mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaDir {
    /// The device reads the buffer (sends, RDMA write sources).
    ToDevice,
    /// The device writes the buffer (receives, RDMA read sinks).
    FromDevice,
    /// Both.
    Bidirectional,
}

impl DmaDir {
    pub(crate) fn raw(self) -> bindings::dma_data_direction {
        match self {
            Self::ToDevice => bindings::dma_data_direction_DMA_TO_DEVICE,
            Self::FromDevice => bindings::dma_data_direction_DMA_FROM_DEVICE,
            Self::Bidirectional => bindings::dma_data_direction_DMA_BIDIRECTIONAL,
        }
    }
}

/// A kmalloc'd buffer mapped for DMA with `ib_dma_map_single`.
///
/// Owns the memory and the mapping, and keeps its [`Pd`] (and so the device)
/// alive; unmaps before freeing.
///
/// # Invariants
///
/// `addr` is a successful mapping of all of `data` for `pd`'s device in
/// direction `dir`, valid until `drop`.
pub struct DmaBuf {
    pd: Arc<PdInner>,
    data: KVec<u8>,
    addr: u64,
    dir: DmaDir,
}

impl DmaBuf {
    /// Allocates `len` zeroed bytes and maps them for `pd`'s device.
    pub fn new(pd: &Pd, len: usize, dir: DmaDir) -> Result<Self> {
        if len == 0 {
            return Err(EINVAL);
        }
        let mut data = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        let dev = pd.inner.device();
        // SAFETY: `dev` is valid while `pd` lives; `data` is `len` bytes of
        // kmalloc memory, which may be mapped for DMA.
        let addr = unsafe {
            ffi::smbdrs_ib_dma_map_single(dev, data.as_mut_ptr().cast::<c_void>(), len, dir.raw())
        };
        // SAFETY: `addr` came from mapping on `dev`.
        if unsafe { ffi::smbdrs_ib_dma_mapping_error(dev, addr) } != 0 {
            return Err(ENOMEM);
        }
        Ok(Self {
            pd: pd.inner.clone(),
            data,
            addr,
            dir,
        })
    }

    /// The buffer's length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Always false: buffers are never empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Lets the CPU read what the device wrote, then gives the buffer back
    /// to the device.
    pub fn read<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let dev = self.pd.device();
        let len = self.len();
        // SAFETY: By the type invariant `addr` maps `len` bytes on `dev`.
        unsafe { ffi::smbdrs_ib_dma_sync_single_for_cpu(dev, self.addr, len, self.dir.raw()) };
        let r = f(&self.data);
        // SAFETY: As above.
        unsafe { ffi::smbdrs_ib_dma_sync_single_for_device(dev, self.addr, len, self.dir.raw()) };
        r
    }

    /// Lets the CPU fill the buffer, then hands it to the device.
    pub fn write<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let dev = self.pd.device();
        let len = self.len();
        // SAFETY: By the type invariant `addr` maps `len` bytes on `dev`.
        unsafe { ffi::smbdrs_ib_dma_sync_single_for_cpu(dev, self.addr, len, self.dir.raw()) };
        let r = f(&mut self.data);
        // SAFETY: As above.
        unsafe { ffi::smbdrs_ib_dma_sync_single_for_device(dev, self.addr, len, self.dir.raw()) };
        r
    }

    pub(crate) fn pd_inner(&self) -> &Arc<PdInner> {
        &self.pd
    }

    /// A scatter/gather entry for the first `len` bytes, or `None` if the
    /// buffer is shorter.
    pub(crate) fn sge(&self, len: u32) -> Option<bindings::ib_sge> {
        if usize::try_from(len).ok()? > self.len() {
            return None;
        }
        Some(bindings::ib_sge {
            addr: self.addr,
            length: len,
            lkey: self.pd.local_dma_lkey(),
        })
    }
}

impl Drop for DmaBuf {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the mapping is live and covers the
        // whole buffer; a posted work request owns its buffer, so the
        // device no longer uses it.
        unsafe {
            ffi::smbdrs_ib_dma_unmap_single(self.pd.device(), self.addr, self.len(), self.dir.raw())
        };
    }
}

/// What a [`PageBuf`]'s scatterlist points at.
enum Backing {
    /// Page-aligned bytes of our own.
    Owned(KVec<u8>),
    /// The caller's pages, each span held by a page reference.
    Spans(KVec<PageSpan>),
    /// The caller's pages, `len` bytes, each entry of the table holding a
    /// reference to its page (filled straight from an iterator).
    TableRefs { len: usize },
}

/// Memory and a scatterlist over it, not DMA-mapped: [`SgBuf`] maps it
/// itself, `rdma_rw` maps it for an [`super::RwCtx`]. Either page-aligned
/// bytes of its own, one entry per page, or the caller's pages, one entry
/// per page piece (registered or moved in place, not copied).
///
/// # Invariants
///
/// The first `nents` entries of `sg` are an initialised scatterlist (the
/// last marked as the end) over the backing; with [`Backing::TableRefs`]
/// each of them holds one reference to its page, dropped by `drop` or
/// [`PageBuf::into_table`].
pub struct PageBuf {
    backing: Backing,
    sg: KVec<bindings::scatterlist>,
    nents: usize,
}

impl PageBuf {
    /// Allocates `pages` zeroed pages (a power of two, so kmalloc aligns
    /// them to a page).
    pub fn new(pages: usize) -> Result<Self> {
        let page = bindings::PAGE_SIZE;
        if pages == 0 || !pages.is_power_of_two() {
            return Err(EINVAL);
        }
        let len = pages.checked_mul(page).ok_or(EINVAL)?;
        let mut data = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        if data.as_ptr() as usize % page != 0 {
            return Err(EINVAL);
        }
        let mut sg = new_table(pages)?;
        for (i, chunk) in data.chunks_mut(page).enumerate() {
            // SAFETY: `i < pages`, so the entry exists; `chunk` is one page
            // of `data`, which lives as long as the scatterlist.
            unsafe {
                ffi::smbdrs_sg_set_buf(
                    sg.as_mut_ptr().add(i),
                    chunk.as_mut_ptr().cast::<c_void>(),
                    page as c_uint,
                )
            };
        }
        Ok(Self {
            backing: Backing::Owned(data),
            sg,
            nents: pages,
        })
    }

    /// An empty scatterlist table of `n` entries, for
    /// [`PageBuf::from_iter`] to fill again and again.
    pub fn table(n: usize) -> Result<KVec<bindings::scatterlist>> {
        if n == 0 || c_uint::try_from(n).is_err() {
            return Err(EINVAL);
        }
        Ok(KVec::from_elem(
            bindings::scatterlist::default(),
            n,
            GFP_KERNEL,
        )?)
    }

    /// The buffer a fill helper made of `table`: `n` entries (or a
    /// negative errno) over `bytes` bytes, each entry holding a page
    /// reference.
    fn filled(
        table: KVec<bindings::scatterlist>,
        n: c_int,
        bytes: usize,
    ) -> Result<Self, (Error, KVec<bindings::scatterlist>)> {
        match usize::try_from(n) {
            Ok(nents) if nents > 0 => Ok(Self {
                backing: Backing::TableRefs { len: bytes },
                sg: table,
                nents,
            }),
            _ => Err((Error::from_errno(n.min(-1)), table)),
        }
    }

    /// Describes the next bytes of `iter`, at most `len`, in `table` (reused:
    /// a region keeps one): one entry per page piece, each holding a
    /// reference to its page, until `len` bytes or the table's entries run
    /// out. The iterator is advanced by [`PageBuf::len`] bytes. Nothing is
    /// copied, and no memory is allocated.
    pub fn from_iter(
        mut table: KVec<bindings::scatterlist>,
        iter: &mut KernelIter<'_>,
        len: usize,
    ) -> Result<Self, (Error, KVec<bindings::scatterlist>)> {
        let Ok(max) = c_uint::try_from(table.len()) else {
            return Err((EINVAL, table));
        };
        let mut bytes = 0usize;
        // SAFETY: The iterator is valid and ours for the call; `table` has
        // `max` entries, which the helper initialises before use.
        let n = unsafe {
            ffi::smbdrs_iter_to_sg(iter.as_ptr(), len, table.as_mut_ptr(), max, &mut bytes)
        };
        Self::filled(table, n, bytes)
    }

    /// A scatterlist over `bytes` of kernel memory (kmalloc'd or
    /// vmalloc'd), one entry per page piece, each holding a reference to
    /// its page. Nothing is copied: the bytes must stay as they are until
    /// whatever uses the buffer (an RDMA read or write) is done.
    pub fn from_kmem(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Err(EINVAL);
        }
        let first = bytes.as_ptr() as usize % PAGE_SIZE;
        let pages = (first + bytes.len()).div_ceil(PAGE_SIZE);
        let mut table = Self::table(pages)?;
        // `table` checked that the count fits.
        let max = pages as c_uint;
        let mut filled = 0usize;
        // SAFETY: `bytes` is kernel memory valid for the call (the entries'
        // page references keep the pages afterwards); `table` has `max`
        // entries, which the helper initialises before use.
        let n = unsafe {
            ffi::smbdrs_kmem_to_sg(
                bytes.as_ptr().cast::<c_void>(),
                bytes.len(),
                table.as_mut_ptr(),
                max,
                &mut filled,
            )
        };
        let buf = Self::filled(table, n, filled).map_err(|(e, _)| e)?;
        // A short walk (never, for pages counted as above) is refused; the
        // references go with `buf`.
        if filled != bytes.len() {
            return Err(EIO);
        }
        Ok(buf)
    }

    /// A scatterlist over the caller's `spans`, in order (at least one).
    pub fn from_spans(spans: KVec<PageSpan>) -> Result<Self, (Error, KVec<PageSpan>)> {
        if spans.is_empty() {
            return Err((EINVAL, spans));
        }
        let mut sg = match new_table(spans.len()) {
            Ok(sg) => sg,
            Err(e) => return Err((e, spans)),
        };
        for (i, span) in spans.iter().enumerate() {
            // SAFETY: `i` is within the table; the span lies within its page
            // (a `PageSpan` invariant), which the span's reference keeps
            // alive as long as the scatterlist.
            unsafe {
                ffi::smbdrs_sg_set_page(
                    sg.as_mut_ptr().add(i),
                    span.page().as_ptr(),
                    span.len(),
                    span.offset(),
                )
            };
        }
        let nents = spans.len();
        Ok(Self {
            backing: Backing::Spans(spans),
            sg,
            nents,
        })
    }

    /// The bytes of a buffer of its own (never while the device may access
    /// them); empty for one over the caller's pages.
    pub fn data(&self) -> &[u8] {
        match &self.backing {
            Backing::Owned(d) => d,
            _ => &[],
        }
    }

    /// The bytes of a buffer of its own, for the CPU to fill; empty for one
    /// over the caller's pages.
    pub fn data_mut(&mut self) -> &mut [u8] {
        match &mut self.backing {
            Backing::Owned(d) => d,
            _ => &mut [],
        }
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        match &self.backing {
            Backing::Owned(d) => d.len(),
            Backing::Spans(s) => s.iter().map(|s| s.len() as usize).sum(),
            Backing::TableRefs { len } => *len,
        }
    }

    /// Always false: buffers are never empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn sg_ptr(&mut self) -> *mut bindings::scatterlist {
        self.sg.as_mut_ptr()
    }

    pub(crate) fn nents(&self) -> u32 {
        self.nents as u32
    }

    /// Gives up the bytes of a buffer of its own (empty for one over the
    /// caller's pages, whose references `drop` releases).
    pub fn into_data(mut self) -> KVec<u8> {
        match &mut self.backing {
            Backing::Owned(d) => core::mem::take(d),
            _ => KVec::new(),
        }
    }

    /// Gives the caller's spans back (empty for a buffer of its own).
    pub fn into_spans(mut self) -> KVec<PageSpan> {
        match &mut self.backing {
            Backing::Spans(s) => core::mem::take(s),
            _ => KVec::new(),
        }
    }

    /// Drops the pages (or their references) and gives the table back, to
    /// be filled again.
    pub fn into_table(mut self) -> KVec<bindings::scatterlist> {
        self.put_table_refs();
        core::mem::take(&mut self.sg)
    }

    /// Drops the table's page references, if it holds any; once: no entry
    /// holds one afterwards.
    fn put_table_refs(&mut self) {
        if let Backing::TableRefs { .. } = self.backing {
            // SAFETY: By the type invariant the first `nents` entries each
            // hold a page reference; `nents` is then cleared.
            unsafe { ffi::smbdrs_sg_put_pages(self.sg.as_mut_ptr(), self.nents as c_uint) };
            self.nents = 0;
        }
    }
}

impl Drop for PageBuf {
    fn drop(&mut self) {
        self.put_table_refs();
    }
}

/// An initialised scatterlist table of `n` entries.
fn new_table(n: usize) -> Result<KVec<bindings::scatterlist>> {
    let mut sg = KVec::from_elem(bindings::scatterlist::default(), n, GFP_KERNEL)?;
    let entries = c_uint::try_from(n).map_err(|_| EINVAL)?;
    // SAFETY: `sg` has `n` entries; `sg_init_table` initialises them and
    // marks the last.
    unsafe { bindings::sg_init_table(sg.as_mut_ptr(), entries) };
    Ok(sg)
}

/// A [`PageBuf`] mapped with `ib_dma_map_sg`, for fast-registration memory
/// regions.
///
/// # Invariants
///
/// `buf`'s scatterlist of `nents` entries is mapped for `pd`'s device into
/// `mapped` (> 0) DMA segments until `unmap`, which unmaps with the
/// original `nents` (not the mapped count: the DMA API wants the number that
/// was passed to the mapping call; CVE-2026-23093 was that mistake).
pub struct SgBuf {
    pd: Arc<PdInner>,
    buf: Option<PageBuf>,
    nents: c_int,
    mapped: c_int,
    dir: DmaDir,
}

impl SgBuf {
    /// Allocates `pages` zeroed, page-aligned pages and maps them.
    pub fn new(pd: &Pd, pages: usize, dir: DmaDir) -> Result<Self> {
        Self::map(pd, PageBuf::new(pages)?, dir).map_err(|(e, _)| e)
    }

    /// Maps `buf` (the buffer comes back on failure).
    pub fn from_buf(pd: &Pd, buf: PageBuf, dir: DmaDir) -> Result<Self, (Error, PageBuf)> {
        Self::map(pd, buf, dir)
    }

    /// Maps the caller's `spans` (for a fast registration: every span but
    /// the first starts a page, every span but the last ends one).
    pub fn from_spans(
        pd: &Pd,
        spans: KVec<PageSpan>,
        dir: DmaDir,
    ) -> Result<Self, (Error, KVec<PageSpan>)> {
        let buf = PageBuf::from_spans(spans)?;
        Self::map(pd, buf, dir).map_err(|(e, buf)| (e, buf.into_spans()))
    }

    fn map(pd: &Pd, mut buf: PageBuf, dir: DmaDir) -> Result<Self, (Error, PageBuf)> {
        let Ok(nents) = c_int::try_from(buf.nents()) else {
            return Err((EINVAL, buf));
        };
        let dev = pd.inner.device();
        // SAFETY: The scatterlist is an initialised table of `nents` entries
        // over `buf`, which `Self` keeps until it is unmapped.
        let mapped = unsafe { ffi::smbdrs_ib_dma_map_sg(dev, buf.sg_ptr(), nents, dir.raw()) };
        if mapped <= 0 {
            return Err((ENOMEM, buf));
        }
        Ok(Self {
            pd: pd.inner.clone(),
            buf: Some(buf),
            nents,
            mapped,
            dir,
        })
    }

    /// The buffer's length in bytes.
    pub fn len(&self) -> usize {
        self.buf.as_ref().map_or(0, PageBuf::len)
    }

    /// Whether the buffer is empty (never, while mapped).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn sg_ptr(&mut self) -> *mut bindings::scatterlist {
        self.buf
            .as_mut()
            .map_or(core::ptr::null_mut(), PageBuf::sg_ptr)
    }

    pub(crate) fn pd_inner(&self) -> &Arc<PdInner> {
        &self.pd
    }

    pub(crate) fn mapped(&self) -> c_int {
        self.mapped
    }

    /// Ends the device's access and returns the bytes to the CPU.
    pub fn into_data(mut self) -> KVec<u8> {
        self.unmap().map(PageBuf::into_data).unwrap_or_default()
    }

    /// Ends the device's access and gives the caller's spans back.
    pub fn into_spans(mut self) -> KVec<PageSpan> {
        self.unmap().map(PageBuf::into_spans).unwrap_or_default()
    }

    /// Ends the device's access, drops the caller's pages and gives the
    /// table back, to be filled again.
    pub fn into_table(mut self) -> KVec<bindings::scatterlist> {
        self.unmap().map(PageBuf::into_table).unwrap_or_default()
    }

    /// The scatterlist's entries (pages or spans) before mapping.
    pub(crate) fn entries(&self) -> usize {
        self.nents as usize
    }

    fn unmap(&mut self) -> Option<PageBuf> {
        let mut buf = self.buf.take()?;
        // SAFETY: By the type invariant the table is mapped; it is unmapped
        // with the original entry count, once (`buf` is taken).
        unsafe {
            ffi::smbdrs_ib_dma_unmap_sg(self.pd.device(), buf.sg_ptr(), self.nents, self.dir.raw())
        };
        Some(buf)
    }
}

impl Drop for SgBuf {
    fn drop(&mut self) {
        drop(self.unmap());
    }
}
