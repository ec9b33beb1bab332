// SPDX-License-Identifier: GPL-2.0

//! Safe Rust over ib_core and rdma_cm, for the smbdirect-rs transports.
//!
//! C headers: [`include/rdma/ib_verbs.h`](srctree/include/rdma/ib_verbs.h),
//! [`include/rdma/rdma_cm.h`](srctree/include/rdma/rdma_cm.h).
//!
//! All of the project's `unsafe` for RDMA lives in this module and in the C
//! helpers of `rust/kmod/ib_helpers.c`.
//!
//! # Ownership and teardown order
//!
//! The verbs objects hold reference-counted handles to what they depend on,
//! so the order in which ib_core requires them to go away follows from the
//! types and cannot be got wrong from safe code, on error paths included:
//!
//! ```text
//!   QueuePair ──> QpShared ──> QpCore ──> Pd ──> CmId    DmaBuf ──> Pd
//!                    │  ^        │  ^                ^      FastRegMr ──> MrInner ──> Pd
//!   Posted (per WR) ─┘  │        │  └── RwCtx        │      (MrInner owns the mapped buffer)
//!                  handler       └──────> Cq ────────┘
//! ```
//!
//! - A [`QueuePair`] is drained when dropped (every posted work request
//!   completes, with a flush status if need be, and hands its buffer back);
//!   dropped from its own completion handler, where a drain would wait for
//!   itself, the same teardown runs on a work item. The `ib_qp` is destroyed
//!   when no [`RwCtx`] uses it any more, and before the [`Cq`] it completes
//!   on is freed and its [`Pd`] deallocated.
//! - Work requests in flight reference the queue pair's shared state (its
//!   handler and queue accounting), which outlives them because it is freed
//!   only after the drain.
//! - Buffers and memory regions keep their [`Pd`] (and so the device) alive
//!   until they are unmapped and deregistered; a registered buffer is freed
//!   only after its region is deregistered.
//! - The [`CmId`] is destroyed last, after every object made on its device.
//!
//! A posted work request owns its buffer until its completion returns it, so
//! no buffer can be freed while the device may still access it.

pub mod cm;
pub mod devices;
pub mod dma;
mod ffi;
pub mod iter;
mod lock;
pub mod mr;
pub mod page;
mod pool;
pub mod qp;
pub mod rw;
pub mod timer;
pub mod verbs;

pub use cm::{
    socket_addr_from_raw, with_raw_sockaddr, CmEvent, CmId, CmWatcher, ConnParam, DeviceName,
    Incoming, Listener,
};
pub use devices::{local_ipv4, DeviceListener, DeviceWatch};
pub use dma::{DmaBuf, DmaDir, PageBuf, SgBuf};
pub use iter::{KernelIter, SpansIter};
pub(crate) use lock::new_spinlock_bh;
pub use lock::{SpinLockBh, SpinLockBhGuard};
pub use mr::{Access, FastRegMr, MrState, RemoteKey};
pub use page::{
    spans_from_iter, spans_from_slice, PageRef, PageSpan, SendPayload, SpanSink, MAX_PAYLOAD_SPANS,
};
pub use qp::{
    exit, init, pump_queue, teardown_queue, PostError, QueuePair, QueuePairCaps, RwPostError,
};
pub use rw::{RwBuf, RwCtx, RwDir};
pub use timer::{sleep_ms, Timer, TimerHandler};
pub use verbs::{
    wc_error, wc_flushed, wc_status_msg, Cq, CqPoll, DeviceLimits, Done, Pd, WorkHandler, WorkKind,
};

/// The size of a page, the unit of memory registration.
pub const PAGE_SIZE: usize = kernel::bindings::PAGE_SIZE;

/// The module name recorded by ib_core as the owner of our objects.
const OWNER: &kernel::str::CStr = kernel::c_str!("smbdirect_rs");

/// A scope in which the task's allocations do no I/O to reclaim memory
/// (`memalloc_noio_save`): what the RDMA channel allocates per I/O runs in
/// one, because cifs calls it from writeback, where reclaim could wait for
/// the very I/O being done. Ends when dropped; scopes nest.
pub struct NoIoScope {
    saved: kernel::ffi::c_uint,
}

impl NoIoScope {
    /// Enters the scope.
    pub fn enter() -> Self {
        // SAFETY: Only sets a flag of the current task; `drop` restores it.
        let saved = unsafe { ffi::smbdrs_noio_save() };
        Self { saved }
    }
}

impl Drop for NoIoScope {
    fn drop(&mut self) {
        // SAFETY: Restores what `enter` saved, on the same task (the scope
        // is neither `Send` nor leaked by the code using it).
        unsafe { ffi::smbdrs_noio_restore(self.saved) };
    }
}

/// Whether a rate-limited message may be printed now (the kernel's default
/// limit, shared by every such message of the module).
pub fn print_allowed() -> bool {
    // SAFETY: The helper only updates its own static rate-limit state.
    unsafe { ffi::smbdrs_printk_ratelimit() }
}

/// Whether the caller runs in a task (process context), not in an interrupt
/// or a softirq: a completion handler tells by it whether it may sleep.
pub fn in_task() -> bool {
    // SAFETY: Reads the preempt count of the current CPU only.
    unsafe { ffi::smbdrs_in_task() }
}

/// Turns a positive errno constant from the bindings into an [`Error`].
///
/// [`Error`]: kernel::error::Error
pub(crate) fn errno(code: u32) -> kernel::error::Error {
    // Errno constants are small positive numbers; the cast cannot truncate.
    kernel::error::Error::from_errno(-(code as i32))
}
