// SPDX-License-Identifier: GPL-2.0

//! A completion ring the self tests wait on: the queue pair's work handler
//! stores each completion; the test thread takes them, by kind or in order.

use kernel::prelude::*;
use kernel::sync::{new_condvar, Arc, ArcBorrow, CondVar, CondVarTimeoutResult};
use kernel::time::msecs_to_jiffies;

use crate::ib::{new_spinlock_bh, Done, SpinLockBh, WorkHandler, WorkKind};

const RING: usize = 64;

/// Completions of one queue pair, kept until the test thread takes them.
#[pin_data]
pub(super) struct Completions {
    /// Filled by completions, in softirq on a softirq queue.
    #[pin]
    ring: SpinLockBh<Ring>,
    #[pin]
    cond: CondVar,
}

struct Ring {
    slots: [Option<Done<u64>>; RING],
    head: usize,
    len: usize,
    dropped: u32,
}

impl Completions {
    pub(super) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                ring <- new_spinlock_bh!(
                    Ring { slots: [const { None }; RING], head: 0, len: 0, dropped: 0 },
                    "smbdrs_selftest_ring"
                ),
                cond <- new_condvar!("smbdrs_selftest_cond"),
            }),
            GFP_KERNEL,
        )
    }

    /// Waits up to `timeout_ms` for the oldest completion; `None` on
    /// timeout.
    pub(super) fn wait_any(&self, timeout_ms: u32) -> Result<Option<Done<u64>>> {
        let mut ring = self.ring.lock();
        let mut left = msecs_to_jiffies(timeout_ms);
        loop {
            if ring.len > 0 {
                let head = ring.head;
                let done = ring.slots[head].take();
                ring.head = (head + 1) % RING;
                ring.len -= 1;
                return Ok(done);
            }
            match self.cond.wait_interruptible_timeout(&mut ring, left) {
                CondVarTimeoutResult::Timeout => return Ok(None),
                CondVarTimeoutResult::Signal { .. } => return Err(ERESTARTSYS),
                CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
            }
        }
    }

    /// Waits up to `timeout_ms` for the next successful completion of
    /// `kind`, dropping others; a failed one is an error.
    pub(super) fn wait(&self, kind: WorkKind, timeout_ms: u32) -> Result<Done<u64>> {
        loop {
            let Some(done) = self.wait_any(timeout_ms)? else {
                return Err(crate::ib::errno(kernel::bindings::ETIMEDOUT));
            };
            if done.kind != kind {
                continue;
            }
            if !done.is_ok() {
                pr_err!(
                    "selftest: {:?} completed with status {}\n",
                    kind,
                    done.status
                );
                return Err(EIO);
            }
            return Ok(done);
        }
    }
}

impl WorkHandler for Completions {
    type Tag = u64;

    fn complete(this: ArcBorrow<'_, Self>, done: Done<u64>) {
        let this = &*this;
        let mut ring = this.ring.lock();
        if ring.len == RING {
            ring.dropped = ring.dropped.saturating_add(1);
            drop(ring);
            // Frees the buffer outside the lock.
            drop(done);
            return;
        }
        let tail = (ring.head + ring.len) % RING;
        ring.slots[tail] = Some(done);
        ring.len += 1;
        drop(ring);
        this.cond.notify_all();
    }
}
