// SPDX-License-Identifier: GPL-2.0

//! The RDMA channel of a connection: registering a caller's pages for the
//! peer's RDMA (the client's side of SMB2 READ and WRITE), and RDMA reads
//! and writes of a caller's pages against the peer's buffer descriptors
//! (the server's side).
//!
//! Registration takes fast-registration MRs from a pool made with the
//! connection (sized by the device's page-list limit and the configured
//! I/O size), splits the pages at that limit, and posts each REG_MR without
//! waiting for it: a send queue executes in order, so the registration is
//! in place before the message that carries its descriptor leaves (as
//! upstream's client and NFS over RDMA rely on). Its completion is awaited
//! at deregistration. Deregistration skips the local invalidation of a
//! region the peer invalidated with a Send with Invalidate, and replaces a
//! region whose registration or invalidation failed. RDMA reads and writes go through
//! `rdma_rw` contexts, as many in flight as the engine's read/write credits
//! allow, so more descriptors than credits only means waiting.

use kernel::alloc::allocator::Kmalloc;
use kernel::alloc::IntoIter;
use kernel::prelude::*;
use kernel::sync::ArcBorrow;

use super::core::{ConnCore, Tag};
use super::state::State;
use super::Connection;
use crate::ib::{
    errno, Access, DmaDir, FastRegMr, KernelIter, NoIoScope, PageBuf, PageSpan, RemoteKey, RwCtx,
    RwDir, SgBuf, PAGE_SIZE,
};
use crate::smbdirect::{RdmaError, RdmaOp};

/// One operation a caller waits for: a registration, an invalidation or an
/// RDMA read/write context.
#[derive(Default)]
pub(super) struct OpSlot {
    pub(super) busy: bool,
    /// The completion status, once completed.
    pub(super) status: Option<u32>,
    /// The context of a completed RDMA read/write.
    pub(super) rw: Option<RwCtx>,
}

/// One region of a registration.
struct RegPart {
    mr: FastRegMr,
    key: RemoteKey,
    /// The operation slot of the posted REG_MR, until its completion is
    /// collected.
    posted: Option<u16>,
}

/// Caller pages registered for the peer's RDMA: one region per device
/// page-list's worth, each a buffer descriptor to send the peer.
pub struct Registration {
    parts: KVec<RegPart>,
}

impl Registration {
    /// The buffer descriptors, in order ([MS-SMBD] 2.2.3.1).
    pub fn descriptors(&self) -> impl Iterator<Item = RemoteKey> + '_ {
        self.parts.iter().map(|p| p.key)
    }

    /// Bytes registered.
    pub fn len(&self) -> u64 {
        self.parts.iter().map(|p| p.key.length).sum()
    }

    /// Whether nothing is registered (never: registration needs a page).
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

impl ConnCore {
    /// Takes a free operation slot, waiting for one.
    fn op_claim(&self, left: &mut kernel::time::Jiffies) -> Result<u16> {
        let mut st = self.state.lock();
        loop {
            if let Some(e) = st.broken() {
                return Err(e);
            }
            if let Some(i) = st.ops.iter().position(|o| !o.busy) {
                st.ops[i] = OpSlot {
                    busy: true,
                    ..OpSlot::default()
                };
                return Ok(i as u16);
            }
            if !Self::wait(&self.ops, &mut st, left)? {
                return Err(errno(kernel::bindings::ETIMEDOUT));
            }
        }
    }

    /// Waits for operation `i` to complete and frees its slot; its status
    /// and context. A broken connection still completes every posted
    /// operation (flushed) when it is drained.
    fn op_wait(
        this: ArcBorrow<'_, Self>,
        i: u16,
        left: &mut kernel::time::Jiffies,
    ) -> (Result<u32>, Option<RwCtx>) {
        let mut st = this.state.lock();
        loop {
            let slot = &mut st.ops[usize::from(i)];
            if let Some(status) = slot.status {
                let rw = slot.rw.take();
                *slot = OpSlot::default();
                drop(st);
                this.ops.notify_all();
                return (Ok(status), rw);
            }
            let why = match Self::wait(&this.ops, &mut st, left) {
                Ok(true) => continue,
                Ok(false) => errno(kernel::bindings::ETIMEDOUT),
                Err(e) => e,
            };
            // The work request is still posted and its slot stays claimed
            // until it completes; an RDMA operation that does not finish
            // in time means the connection is no good: end it, which
            // flushes the work request.
            pr_err_ratelimited!(
                "smbdirect-rs: an RDMA operation did not complete ({:?}); ending the connection\n",
                why
            );
            Self::fail(this, &mut st, why);
            // The work request still reads or writes the caller's memory.
            Self::wait_drained(&this.ops, &mut st);
            return (Err(why), None);
        }
    }

    /// Frees the slot of operation `i`, which was never posted.
    fn op_release(&self, i: u16) {
        self.state.lock().ops[usize::from(i)] = OpSlot::default();
        self.ops.notify_all();
    }

    /// Records the completion of operation `i` (completion context).
    pub(super) fn op_done(st: &mut State, i: u16, status: u32, rw: Option<RwCtx>) {
        if let Some(slot) = st.ops.get_mut(usize::from(i)) {
            if slot.busy {
                slot.status = Some(status);
                slot.rw = rw;
                return;
            }
        }
        // A context nobody waits for any more is dropped here.
        drop(rw);
    }

    /// Takes a free memory region from the pool, waiting for one.
    fn mr_take(&self, left: &mut kernel::time::Jiffies) -> Result<FastRegMr> {
        let mut st = self.state.lock();
        loop {
            if let Some(e) = st.broken() {
                return Err(e);
            }
            if let Some(mr) = st.free_mrs.pop() {
                st.counters.mrs_in_use += 1;
                return Ok(mr);
            }
            st.counters.mr_waits += 1;
            if !Self::wait(&self.ops, &mut st, left)? {
                return Err(errno(kernel::bindings::ETIMEDOUT));
            }
        }
    }

    /// Returns a region to the pool (dropped if the connection ended).
    fn mr_put(&self, mr: FastRegMr) {
        let mut st = self.state.lock();
        st.counters.mrs_in_use = st.counters.mrs_in_use.saturating_sub(1);
        if st.broken().is_some() {
            drop(st);
            drop(mr);
            return;
        }
        if let Err(mr) = st.free_mrs.push(mr) {
            drop(st);
            drop(mr);
            return;
        }
        drop(st);
        self.ops.notify_all();
    }

    /// Posts the registration of `buf` (at most one region's worth) in
    /// `mr` for `access`; the slot of the posted REG_MR comes back with the
    /// region, for [`ConnCore::registered`] to collect.
    fn register_one(
        this: ArcBorrow<'_, Self>,
        mut mr: FastRegMr,
        buf: PageBuf,
        access: Access,
        left: &mut kernel::time::Jiffies,
    ) -> Result<RegPart, (Error, FastRegMr)> {
        let dir = if access == Access::LOCAL_WRITE.union(Access::REMOTE_WRITE) {
            DmaDir::FromDevice
        } else {
            DmaDir::ToDevice
        };
        let op = match this.op_claim(left) {
            Ok(op) => op,
            Err(e) => return Err((e, mr)),
        };
        let posted = {
            let res = this.res.lock();
            let Some(r) = res.as_ref() else {
                drop(res);
                this.op_release(op);
                return Err((errno(kernel::bindings::ENOTCONN), mr));
            };
            let sg = match SgBuf::from_buf(&r.pd, buf, dir) {
                Ok(sg) => sg,
                Err((e, buf)) => {
                    drop(res);
                    mr.keep_table(buf.into_table());
                    this.op_release(op);
                    return Err((e, mr));
                }
            };
            let key = match mr.map(sg) {
                Ok(key) => key,
                Err((e, sg)) => {
                    drop(res);
                    mr.keep_table(sg.into_table());
                    this.op_release(op);
                    pr_err_ratelimited!("smbdirect-rs: mapping a memory region failed: {:?}\n", e);
                    return Err((e, mr));
                }
            };
            r.qp.post_reg_mr(&mr, access, Tag::Op(op)).map(|()| key)
        };
        match posted {
            Ok(key) => {
                this.state.lock().counters.registrations += 1;
                Ok(RegPart {
                    mr,
                    key,
                    posted: Some(op),
                })
            }
            Err((e, _, _)) => {
                this.op_release(op);
                this.state.lock().counters.post_errors += 1;
                Err((e, mr))
            }
        }
    }

    /// Collects the completion of a part's posted REG_MR (long done, as a
    /// rule: the peer answered the message that carried its descriptor).
    /// On a failure the region is left failed, for `deregister_one` to
    /// replace. `Err(None)` if it did not complete in time: the region is
    /// still in the work request's hands (the connection is ended).
    fn registered(
        this: ArcBorrow<'_, Self>,
        part: &mut RegPart,
        left: &mut kernel::time::Jiffies,
    ) -> Result<(), Option<Error>> {
        let Some(op) = part.posted.take() else {
            return Ok(());
        };
        match Self::op_wait(this, op, left) {
            (Ok(0), _) => Ok(()),
            (Ok(status), _) => {
                pr_err_ratelimited!(
                    "smbdirect-rs: memory registration failed (status {})\n",
                    status
                );
                this.state.lock().counters.mr_failures += 1;
                Err(Some(crate::ib::wc_error(status)))
            }
            (Err(_), _) => Err(None),
        }
    }

    /// Ends the peer's access to `mr` and frees its pages: nothing to do
    /// if the peer invalidated it, a local invalidation otherwise; a region
    /// that failed is replaced.
    fn deregister_one(
        this: ArcBorrow<'_, Self>,
        mut part: RegPart,
        left: &mut kernel::time::Jiffies,
    ) -> Result {
        let mut result = Ok(());
        match Self::registered(this, &mut part, left) {
            Ok(()) => {}
            Err(Some(e)) => result = Err(e),
            Err(None) => {
                // Still posted: the region cannot be reused; dropping it is
                // safe (the work request holds what it needs).
                drop(part);
                let mut st = this.state.lock();
                st.counters.mrs_in_use = st.counters.mrs_in_use.saturating_sub(1);
                return Err(errno(kernel::bindings::ETIMEDOUT));
            }
        }
        let mut mr = part.mr;
        let rkey = mr.rkey();
        let remote = this.state.lock().take_remote_invalidation(rkey);
        if remote && mr.remotely_invalidated(rkey).is_ok() {
            this.state.lock().counters.remote_invalidations += 1;
        } else if mr.is_registered() {
            let r = Self::invalidate(this, &mr, left);
            if result.is_ok() {
                result = r;
            }
        }
        match mr.unmap() {
            Ok(sg) => {
                let table = sg.into_table();
                mr.keep_table(table);
            }
            Err(_) => {
                // Failed or still in use by the peer's view of it: a fresh
                // region takes its place, the old one goes once nothing uses
                // it.
                this.state.lock().counters.mr_recoveries += 1;
                if let Err(e) = mr.recover() {
                    drop(mr);
                    let mut st = this.state.lock();
                    st.counters.mrs_in_use = st.counters.mrs_in_use.saturating_sub(1);
                    return Err(e);
                }
            }
        }
        this.mr_put(mr);
        result
    }

    fn invalidate(
        this: ArcBorrow<'_, Self>,
        mr: &FastRegMr,
        left: &mut kernel::time::Jiffies,
    ) -> Result {
        let op = this.op_claim(left)?;
        let posted = {
            let res = this.res.lock();
            match res.as_ref() {
                Some(r) => r.qp.post_local_inv(mr, Tag::Op(op)).map_err(|(e, _, _)| e),
                None => Err(errno(kernel::bindings::ENOTCONN)),
            }
        };
        if let Err(e) = posted {
            this.op_release(op);
            return Err(e);
        }
        match Self::op_wait(this, op, left) {
            (Ok(0), _) => {
                this.state.lock().counters.local_invalidations += 1;
                Ok(())
            }
            (Ok(status), _) => Err(crate::ib::wc_error(status)),
            (Err(e), _) => Err(e),
        }
    }
}

/// Splits `spans` into pieces of at most `max_pages` spans.
fn split_spans(spans: KVec<PageSpan>, max_pages: usize) -> Result<KVec<KVec<PageSpan>>> {
    let mut out = KVec::with_capacity(spans.len().div_ceil(max_pages.max(1)), GFP_KERNEL)?;
    if !spans.is_empty() && spans.len() <= max_pages {
        // One region's worth, as every cifs I/O: the list as it is.
        out.push(spans, GFP_KERNEL)?;
        return Ok(out);
    }
    let mut cur = KVec::new();
    for span in spans {
        if cur.len() == max_pages {
            out.push(core::mem::take(&mut cur), GFP_KERNEL)?;
        }
        cur.push(span, GFP_KERNEL)?;
    }
    if !cur.is_empty() {
        out.push(cur, GFP_KERNEL)?;
    }
    Ok(out)
}

/// The spans covering bytes `at..at + len` of `spans`, sharing their pages.
/// The operations one RDMA call has in flight, oldest first: (slot,
/// credits held). Kept in place, as most calls post one; a call with more
/// waits for each beyond this many at once.
struct Inflight {
    ops: [(u16, u16); Inflight::MAX],
    head: usize,
    len: usize,
}

impl Inflight {
    const MAX: usize = 16;

    fn new() -> Self {
        Self {
            ops: [(0, 0); Self::MAX],
            head: 0,
            len: 0,
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Appends `op`, or gives it back when full.
    fn push(&mut self, op: (u16, u16)) -> Result<(), (u16, u16)> {
        if self.len == Self::MAX {
            return Err(op);
        }
        self.ops[(self.head + self.len) % Self::MAX] = op;
        self.len += 1;
        Ok(())
    }

    fn pop(&mut self) -> Option<(u16, u16)> {
        if self.len == 0 {
            return None;
        }
        let op = self.ops[self.head];
        self.head = (self.head + 1) % Self::MAX;
        self.len -= 1;
        Some(op)
    }
}

fn sub_spans(spans: &[PageSpan], at: u64, len: u64) -> Result<KVec<PageSpan>> {
    let mut out = KVec::new();
    let mut pos = 0u64;
    let end = at.checked_add(len).ok_or(EINVAL)?;
    for span in spans {
        let s_end = pos + u64::from(span.len());
        if s_end > at && pos < end {
            let from = at.max(pos) - pos;
            let to = end.min(s_end) - pos;
            out.push(span.slice(from as u32, (to - from) as u32)?, GFP_KERNEL)?;
        }
        pos = s_end;
    }
    if out.is_empty() {
        return Err(EINVAL);
    }
    Ok(out)
}

/// The local side of an RDMA read or write, cut into one buffer per
/// context.
pub trait RwLocal {
    /// Bytes in all.
    fn total(&self) -> u64;
    /// A buffer over bytes `at..at + len`, sharing the caller's pages.
    fn chunk(&self, at: u64, len: u64) -> Result<PageBuf>;
}

/// Page spans the caller collected (the shared connection's tests).
impl RwLocal for [PageSpan] {
    fn total(&self) -> u64 {
        self.iter().map(|s| u64::from(s.len())).sum()
    }

    fn chunk(&self, at: u64, len: u64) -> Result<PageBuf> {
        PageBuf::from_spans(sub_spans(self, at, len)?).map_err(|(e, _)| e)
    }
}

/// Kernel memory (ksmbd's buffers), described page by page in the
/// context's own table: no span list in between.
impl RwLocal for [u8] {
    fn total(&self) -> u64 {
        self.len() as u64
    }

    fn chunk(&self, at: u64, len: u64) -> Result<PageBuf> {
        let at = usize::try_from(at).map_err(|_| EINVAL)?;
        let len = usize::try_from(len).map_err(|_| EINVAL)?;
        let end = at.checked_add(len).ok_or(EINVAL)?;
        PageBuf::from_kmem(self.get(at..end).ok_or(EINVAL)?)
    }
}

/// Where the parts of a registration come from, one region's worth at a
/// time.
trait PartSource {
    /// Whether another part is due.
    fn more(&mut self) -> bool;
    /// The next part's pages, for `mr` (which may lend its table).
    fn fill(&mut self, mr: &mut FastRegMr) -> Result<PageBuf>;
}

/// Span lists already cut to a region's size.
struct SpanPieces(core::iter::Peekable<IntoIter<KVec<PageSpan>, Kmalloc>>);

/// The next bytes of a kernel iterator.
struct IterPieces<'a, 'b> {
    iter: &'a mut KernelIter<'b>,
    left: usize,
}

impl PartSource for SpanPieces {
    fn more(&mut self) -> bool {
        self.0.peek().is_some()
    }

    fn fill(&mut self, _mr: &mut FastRegMr) -> Result<PageBuf> {
        let piece = self.0.next().ok_or(EINVAL)?;
        PageBuf::from_spans(piece).map_err(|(e, _)| e)
    }
}

impl PartSource for IterPieces<'_, '_> {
    fn more(&mut self) -> bool {
        self.left > 0
    }

    fn fill(&mut self, mr: &mut FastRegMr) -> Result<PageBuf> {
        let table = mr.take_table()?;
        match PageBuf::from_iter(table, self.iter, self.left) {
            Ok(buf) => {
                self.left -= buf.len().min(self.left);
                Ok(buf)
            }
            Err((e, table)) => {
                mr.keep_table(table);
                Err(e)
            }
        }
    }
}

impl Connection {
    /// Registers the caller's `spans` for the peer to RDMA-write into
    /// (`writable`) or RDMA-read from, splitting them at the device's
    /// page-list limit; every span but the first must start a page and
    /// every span but the last end one. Waits at most `timeout_ms` for
    /// free regions and registrations.
    pub fn register(
        &self,
        spans: KVec<PageSpan>,
        writable: bool,
        timeout_ms: u32,
    ) -> Result<Registration> {
        let max_pages = self.core.state.lock().mr_pages;
        let mut pieces = SpanPieces(split_spans(spans, max_pages)?.into_iter().peekable());
        self.register_parts(&mut pieces, writable, timeout_ms)
    }

    /// Registers the next `len` bytes of `iter` as [`Connection::register`]
    /// does spans, but described in place: each region's own scatterlist
    /// table is filled straight from the iterator, so a registration
    /// allocates nothing per page.
    pub fn register_iter(
        &self,
        iter: &mut KernelIter<'_>,
        len: usize,
        writable: bool,
        timeout_ms: u32,
    ) -> Result<Registration> {
        if len == 0 {
            return Err(EINVAL);
        }
        let mut source = IterPieces { iter, left: len };
        self.register_parts(&mut source, writable, timeout_ms)
    }

    fn register_parts(
        &self,
        source: &mut impl PartSource,
        writable: bool,
        timeout_ms: u32,
    ) -> Result<Registration> {
        let _noio = NoIoScope::enter();
        let core = self.core.as_arc_borrow();
        let mut left = ConnCore::jiffies(timeout_ms);
        let access = if writable {
            Access::LOCAL_WRITE.union(Access::REMOTE_WRITE)
        } else {
            Access::REMOTE_READ
        };
        let mut reg = Registration { parts: KVec::new() };
        while source.more() {
            // Room for the part first: a posted part is never dropped on
            // the floor (its REG_MR's slot is collected at deregistration).
            if let Err(e) = reg.parts.reserve(1, GFP_KERNEL) {
                let _ = self.deregister(reg, timeout_ms);
                return Err(e.into());
            }
            let mut mr = match core.mr_take(&mut left) {
                Ok(mr) => mr,
                Err(e) => {
                    let _ = self.deregister(reg, timeout_ms);
                    return Err(e);
                }
            };
            let buf = match source.fill(&mut mr) {
                Ok(buf) => buf,
                Err(e) => {
                    core.mr_put(mr);
                    let _ = self.deregister(reg, timeout_ms);
                    return Err(e);
                }
            };
            match ConnCore::register_one(core, mr, buf, access, &mut left) {
                Ok(part) => {
                    let rkey = part.mr.rkey();
                    core.state.lock().track_registration(rkey);
                    // Within the capacity reserved above: cannot fail.
                    if let Err(e) = reg.parts.push(part, GFP_KERNEL) {
                        let _ = self.deregister(reg, timeout_ms);
                        return Err(e.into());
                    }
                }
                Err((e, mut mr)) => {
                    if mr.unmap().is_err() {
                        let _ = mr.recover();
                    }
                    core.mr_put(mr);
                    let _ = self.deregister(reg, timeout_ms);
                    return Err(e);
                }
            }
        }
        if reg.is_empty() {
            return Err(EINVAL);
        }
        Ok(reg)
    }

    /// Ends the peer's access to `reg` and releases its pages; waits at
    /// most `timeout_ms` for the invalidations.
    pub fn deregister(&self, reg: Registration, timeout_ms: u32) -> Result {
        let _noio = NoIoScope::enter();
        let core = self.core.as_arc_borrow();
        let mut left = ConnCore::jiffies(timeout_ms);
        let mut result = Ok(());
        for part in reg.parts {
            let r = ConnCore::deregister_one(core, part, &mut left);
            if result.is_ok() {
                result = r;
            }
        }
        result
    }

    /// RDMA-writes the caller's `local` bytes into the peer's `remote`
    /// buffers, in order.
    pub fn rdma_write<L: RwLocal + ?Sized>(
        &self,
        local: &L,
        remote: &[RemoteKey],
        timeout_ms: u32,
    ) -> Result {
        self.rdma_rw(local, remote, RwDir::Write, timeout_ms)
    }

    /// RDMA-reads the peer's `remote` buffers into the caller's `local`
    /// pages, in order.
    pub fn rdma_read<L: RwLocal + ?Sized>(
        &self,
        local: &mut L,
        remote: &[RemoteKey],
        timeout_ms: u32,
    ) -> Result {
        self.rdma_rw(local, remote, RwDir::Read, timeout_ms)
    }

    fn rdma_rw<L: RwLocal + ?Sized>(
        &self,
        local: &L,
        remote: &[RemoteKey],
        dir: RwDir,
        timeout_ms: u32,
    ) -> Result {
        let _noio = NoIoScope::enter();
        let core = self.core.as_arc_borrow();
        let mut left = ConnCore::jiffies(timeout_ms);
        let total = local.total();
        let remote_total: u64 = remote.iter().map(|k| k.length).sum();
        if total == 0 || total != remote_total {
            return Err(EINVAL);
        }
        let op_kind = match dir {
            RwDir::Read => RdmaOp::Read,
            RwDir::Write => RdmaOp::Write,
        };
        let mut inflight = Inflight::new();
        let mut result = Ok(());
        let mut at = 0u64;
        'descriptors: for key in remote {
            let mut done = 0u64;
            // Contexts are cut so their work requests fit the credits.
            let mut chunk = key.length;
            while done < key.length {
                let len = chunk.min(key.length - done);
                let buf = match local.chunk(at + done, len) {
                    Ok(b) => b,
                    Err(e) => {
                        result = Err(e);
                        break 'descriptors;
                    }
                };
                let sub = RemoteKey {
                    addr: key.addr + done,
                    rkey: key.rkey,
                    length: len,
                };
                let ctx = {
                    let res = core.res.lock();
                    let Some(r) = res.as_ref() else {
                        result = Err(errno(kernel::bindings::ENOTCONN));
                        break 'descriptors;
                    };
                    match RwCtx::new(&r.qp, buf, sub, dir) {
                        Ok(ctx) => ctx,
                        Err((e, _)) => {
                            result = Err(e);
                            break 'descriptors;
                        }
                    }
                };
                let wrs = u16::try_from(ctx.work_requests()).unwrap_or(u16::MAX);
                // Take the credits, waiting for our own earlier contexts.
                let acquired = loop {
                    let now = core.now();
                    let mut st = core.state.lock();
                    let r = st.engine.rdma_acquire(now, op_kind, wrs);
                    match r {
                        Ok(()) => break Ok(()),
                        Err(RdmaError::WouldBlock) if inflight.len() > 0 => {
                            drop(st);
                            let (op, n) = inflight.pop().unwrap_or((0, 0));
                            let r = Self::finish_rw(core, op, n, op_kind, &mut left);
                            if result.is_ok() {
                                result = r;
                            }
                        }
                        Err(RdmaError::WouldBlock) => {
                            // Other callers hold the credits: wait for a
                            // release.
                            match ConnCore::wait(&core.ops, &mut st, &mut left) {
                                Ok(true) => {}
                                Ok(false) => break Err(Some(errno(kernel::bindings::ETIMEDOUT))),
                                Err(e) => break Err(Some(e)),
                            }
                        }
                        Err(RdmaError::TooLarge { .. }) if len > PAGE_SIZE as u64 => {
                            break Err(None);
                        }
                        Err(e) => {
                            pr_err_ratelimited!("smbdirect-rs: RDMA credits: {:?}\n", e);
                            break Err(Some(errno(kernel::bindings::EAGAIN)));
                        }
                    }
                };
                match acquired {
                    Ok(()) => {}
                    Err(None) => {
                        // Too many work requests for the credits: halve.
                        drop(ctx);
                        chunk = (len / 2).max(PAGE_SIZE as u64);
                        continue;
                    }
                    Err(Some(e)) => {
                        result = Err(e);
                        break 'descriptors;
                    }
                }
                let op = match core.op_claim(&mut left) {
                    Ok(op) => op,
                    Err(e) => {
                        let now = core.now();
                        let _ = core.state.lock().engine.rdma_release(now, op_kind, wrs);
                        result = Err(e);
                        break 'descriptors;
                    }
                };
                let posted = {
                    let res = core.res.lock();
                    match res.as_ref() {
                        Some(r) => r.qp.post_rw(ctx, Tag::Op(op)).map_err(|(e, _)| e),
                        None => Err(errno(kernel::bindings::ENOTCONN)),
                    }
                };
                if let Err(e) = posted {
                    core.op_release(op);
                    let now = core.now();
                    let _ = core.state.lock().engine.rdma_release(now, op_kind, wrs);
                    core.state.lock().counters.post_errors += 1;
                    result = Err(e);
                    break 'descriptors;
                }
                if let Err((op, n)) = inflight.push((op, wrs)) {
                    let r = Self::finish_rw(core, op, n, op_kind, &mut left);
                    if result.is_ok() {
                        result = r;
                    }
                }
                done += len;
            }
            at += key.length;
        }
        while let Some((op, n)) = inflight.pop() {
            let r = Self::finish_rw(core, op, n, op_kind, &mut left);
            if result.is_ok() {
                result = r;
            }
        }
        result
    }

    /// Waits for an RDMA read/write context and returns its credits.
    fn finish_rw(
        core: ArcBorrow<'_, ConnCore>,
        op: u16,
        credits: u16,
        kind: RdmaOp,
        left: &mut kernel::time::Jiffies,
    ) -> Result {
        let (status, rw) = ConnCore::op_wait(core, op, left);
        // Destroying the context unmaps the caller's pages.
        drop(rw);
        let status = status?;
        let now = core.now();
        let mut st = core.state.lock();
        let _ = st.engine.rdma_release(now, kind, credits);
        // Other callers may be waiting for these credits.
        core.ops.notify_all();
        if status == 0 {
            match kind {
                RdmaOp::Read => st.counters.rdma_reads += 1,
                RdmaOp::Write => st.counters.rdma_writes += 1,
            }
            Ok(())
        } else {
            st.counters.completion_errors += 1;
            Err(crate::ib::wc_error(status))
        }
    }
}
