// SPDX-License-Identifier: GPL-2.0

//! Sending upper-layer messages: zero-copy from the caller's pages, waiting
//! until the device is done with them, or copied into a page of the
//! connection's and left to go on their own.

use kernel::prelude::*;

use super::core::ConnCore;
use super::state::{Phase, SpanList, StateGuard};
use super::{Connection, OutMessage};
use crate::ib::{errno, NoIoScope, PageRef, PageSpan, PAGE_SIZE};
use crate::smbdirect::SendError;

/// The longest message [`Connection::send_copy`] takes: one page.
pub const COPY_MAX: usize = PAGE_SIZE;

impl Connection {
    /// Sends `msg` as one upper-layer message and returns once every
    /// fragment has completed, so the caller may reuse its pages; waits at
    /// most `timeout_ms` for room and credits.
    ///
    /// Many threads may send at once; messages leave whole, one after the
    /// other, in the order their senders got in. A message longer than the
    /// peer's maximum fragmented size fails with `EMSGSIZE`. A timeout (or
    /// a signal) before any fragment left cancels the message; after that
    /// it ends the connection, since a message cannot be half sent.
    pub fn send(&self, msg: &mut OutMessage, timeout_ms: u32) -> Result {
        self.send_message(msg, None, timeout_ms)
    }

    /// Sends `msg` like [`Connection::send`], its last fragment as a Send
    /// with Invalidate of the peer's `rkey` (a region the peer registered
    /// for this I/O, [MS-SMBD] 3.1.4.2): the peer need not invalidate it.
    pub fn send_with_invalidate(&self, msg: &mut OutMessage, rkey: u32, timeout_ms: u32) -> Result {
        self.send_message(msg, Some(rkey), timeout_ms)
    }

    /// Sends `len` bytes (1 to [`COPY_MAX`]) that `fill` copies into a
    /// page at offset 0, as one message, its last fragment a Send with
    /// Invalidate of `invalidate` if given; returns once it is queued.
    ///
    /// The device reads the copy, which the connection owns, so the
    /// caller's memory is free at once and nobody waits for the send to
    /// complete: most SMB2 requests and responses are a few hundred bytes,
    /// and copying them costs far less than a completion's round trip
    /// through the completion queue's work item and back to the sender
    /// (cifs holds its server mutex over a send, ksmbd a worker). Waits at
    /// most `timeout_ms` for room to queue it. Messages go in the order
    /// they were queued, copied or not; a send that fails later ends the
    /// connection, which every later call reports.
    pub fn send_copy(
        &self,
        len: usize,
        invalidate: Option<u32>,
        timeout_ms: u32,
        fill: impl FnOnce(&mut PageRef) -> Result,
    ) -> Result {
        if len == 0 || len > COPY_MAX {
            return Err(EINVAL);
        }
        let mut spans = SpanList::default();
        {
            // A sender may be writing back pages: no I/O to reclaim.
            let _noio = NoIoScope::enter();
            let mut page = PageRef::alloc()?;
            fill(&mut page)?;
            spans.push(PageSpan::new(page, 0, len as u32)?)?;
        }
        let core = self.core.as_arc_borrow();
        let mut left = ConnCore::jiffies(timeout_ms);
        let mut st = core.state.lock();
        let slot = Self::queue(core, &mut st, &mut spans, len as u32, invalidate, &mut left)?;
        // Under the same lock as the queueing: the completion handler
        // frees the slot (and the page) once the message has left.
        st.slots[slot].detached = true;
        st.counters.messages_queued += 1;
        st.counters.messages_copied += 1;
        drop(st);
        ConnCore::pump(core);
        Ok(())
    }

    /// Queues a message of `len` bytes whose spans are in `spans`, waiting
    /// for a free slot and room in the engine's queue; the slot it took
    /// (holding the spans). On an error `spans` is left as it was.
    fn queue(
        core: kernel::sync::ArcBorrow<'_, ConnCore>,
        st: &mut StateGuard<'_>,
        spans: &mut SpanList,
        len: u32,
        invalidate: Option<u32>,
        left: &mut kernel::time::Jiffies,
    ) -> Result<usize> {
        loop {
            if let Some(e) = st.broken() {
                return Err(e);
            }
            if st.phase != Phase::Connected {
                return Err(errno(kernel::bindings::ENOTCONN));
            }
            if st.has_free_slot() {
                let now = core.now();
                let queued = match invalidate {
                    Some(rkey) => st.engine.send_message_with_invalidate(now, len, rkey),
                    None => st.engine.send_message(now, len),
                };
                match queued {
                    Ok(id) => match st.claim_slot(id, ::core::mem::take(spans)) {
                        Ok(i) => return Ok(i),
                        Err(back) => {
                            *spans = back;
                            let _ = st.engine.cancel_message(now, id);
                        }
                    },
                    Err(SendError::QueueFull) => {}
                    Err(SendError::MessageTooLarge { len, max }) => {
                        pr_err_ratelimited!(
                            "smbdirect-rs: message of {} bytes refused, the peer takes {}\n",
                            len,
                            max
                        );
                        return Err(errno(kernel::bindings::EMSGSIZE));
                    }
                    Err(SendError::EmptyMessage) => return Err(EINVAL),
                    Err(_) => return Err(errno(kernel::bindings::ENOTCONN)),
                }
            }
            st.counters.send_waits += 1;
            if !ConnCore::wait(&core.sendable, st, left)? {
                return Err(errno(kernel::bindings::ETIMEDOUT));
            }
        }
    }

    fn send_message(
        &self,
        msg: &mut OutMessage,
        invalidate: Option<u32>,
        timeout_ms: u32,
    ) -> Result {
        let core = self.core.as_arc_borrow();
        let mut left = ConnCore::jiffies(timeout_ms);
        let mut st = core.state.lock();
        let slot = Self::queue(
            core,
            &mut st,
            &mut msg.spans,
            msg.len,
            invalidate,
            &mut left,
        )?;
        st.counters.messages_queued += 1;
        drop(st);
        ConnCore::pump(core);

        let mut st = core.state.lock();
        let result = loop {
            if st.slots[slot].sent {
                break Ok(());
            }
            if let Some(e) = st.broken() {
                // Fragments of this message may still be with the device.
                ConnCore::wait_drained(&core.sendable, &mut st);
                break Err(e);
            }
            let why = match ConnCore::wait(&core.sendable, &mut st, &mut left) {
                Ok(true) => continue,
                Ok(false) => errno(kernel::bindings::ETIMEDOUT),
                Err(e) => e,
            };
            let now = core.now();
            let cancelled = match st.slots[slot].id {
                Some(id) => st.engine.cancel_message(now, id).is_ok(),
                None => false,
            };
            if !cancelled {
                pr_err_ratelimited!(
                    "smbdirect-rs: a message could not be sent in time ({:?}); ending the connection\n",
                    why
                );
                ConnCore::fail(core, &mut st, why);
                ConnCore::wait_drained(&core.sendable, &mut st);
            }
            break Err(why);
        };
        msg.spans = st.release_slot(slot);
        drop(st);
        // A freed slot may let another sender in.
        core.sendable.notify_all();
        result
    }
}
