// SPDX-License-Identifier: GPL-2.0

//! What a connection keeps under its state spinlock: the engine, the
//! messages being sent, the fragments delivered and not yet read, and the
//! preallocated buffer pools. Nothing here sleeps or allocates; every
//! collection is sized when the connection is made.

use kernel::prelude::*;

use super::rdma::OpSlot;
use crate::ib::{DmaBuf, FastRegMr, PageSpan, SendPayload};
use crate::smbdirect::{Delivery, Engine, MessageId, NegotiatedParams};

/// A list of page spans that keeps its memory when cleared (the kernel's
/// `KVec` has no `clear`), so a sender reusing one allocates only to grow.
#[derive(Default)]
pub(super) struct SpanList {
    items: KVec<Option<PageSpan>>,
    used: usize,
}

impl SpanList {
    pub(super) fn push(&mut self, span: PageSpan) -> Result {
        match self.items.get_mut(self.used) {
            Some(slot) => *slot = Some(span),
            None => self.items.push(Some(span), GFP_KERNEL)?,
        }
        self.used += 1;
        Ok(())
    }

    pub(super) fn clear(&mut self) {
        for slot in self.items.iter_mut().take(self.used) {
            *slot = None;
        }
        self.used = 0;
    }

    pub(super) fn get(&self, i: usize) -> Option<&PageSpan> {
        if i >= self.used {
            return None;
        }
        self.items.get(i)?.as_ref()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &PageSpan> {
        self.items.iter().take(self.used).flatten()
    }
}

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// rdma_cm and the MS-SMBD negotiation are under way.
    Connecting,
    /// Negotiated: messages flow.
    Connected,
    /// Ended, with the error every caller now gets.
    Broken(Error),
}

/// A message being sent: its spans, lent by the sender until the engine
/// reports it sent (or the connection breaks).
pub(super) struct Slot {
    /// The engine's identifier, while the slot is in use.
    pub(super) id: Option<MessageId>,
    /// The message's bytes, in order.
    pub(super) spans: SpanList,
    /// Set when the message has left (all fragments completed).
    pub(super) sent: bool,
    /// Nobody waits for this message (a copy the connection owns): the
    /// completion handler frees the slot once it has left.
    pub(super) detached: bool,
    /// The message offset where `span_index` starts, to find the next
    /// fragment's first span without scanning from the start.
    cursor_offset: u32,
    cursor_index: usize,
}

impl Slot {
    fn new() -> Self {
        Self {
            id: None,
            spans: SpanList::default(),
            sent: false,
            detached: false,
            cursor_offset: 0,
            cursor_index: 0,
        }
    }

    /// Moves the cursor to the span holding message offset `offset`.
    fn seek(&mut self, offset: u32) {
        if offset < self.cursor_offset {
            self.cursor_offset = 0;
            self.cursor_index = 0;
        }
        while let Some(span) = self.spans.get(self.cursor_index) {
            let end = self.cursor_offset.saturating_add(span.len());
            if offset < end {
                break;
            }
            self.cursor_offset = end;
            self.cursor_index += 1;
        }
    }

    /// Bytes the next `spans` spans hold from `offset`: the most one send
    /// can carry from there.
    pub(super) fn reach(&mut self, offset: u32, spans: usize) -> u32 {
        self.seek(offset);
        let within = offset.saturating_sub(self.cursor_offset);
        let n = self
            .spans
            .iter()
            .skip(self.cursor_index)
            .take(spans)
            .fold(0u32, |n, s| n.saturating_add(s.len()));
        n.saturating_sub(within)
    }

    /// Fills `payload` with the message bytes at `offset`, up to `max`
    /// bytes and as many spans as `payload` holds; returns the bytes taken.
    pub(super) fn payload_at(&mut self, offset: u32, max: u32, payload: &mut SendPayload) -> u32 {
        self.seek(offset);
        let mut taken = 0u32;
        let mut within = offset.saturating_sub(self.cursor_offset);
        for span in self.spans.iter().skip(self.cursor_index) {
            if taken >= max {
                break;
            }
            let n = span.len().saturating_sub(within).min(max - taken);
            if n == 0 || payload.push_shared(span, within, n).is_err() {
                break;
            }
            taken += n;
            within = 0;
        }
        taken
    }

    fn reset(&mut self) {
        self.id = None;
        self.sent = false;
        self.detached = false;
        self.cursor_offset = 0;
        self.cursor_index = 0;
    }
}

/// A fixed-capacity FIFO.
pub(super) struct Ring<T> {
    slots: KVec<Option<T>>,
    head: usize,
    len: usize,
}

impl<T> Ring<T> {
    pub(super) fn with_capacity(n: usize) -> Result<Self> {
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(None, GFP_KERNEL)?;
        }
        Ok(Self {
            slots,
            head: 0,
            len: 0,
        })
    }

    /// Appends `v`, or gives it back when full.
    pub(super) fn push(&mut self, v: T) -> Result<(), T> {
        let cap = self.slots.len();
        if self.len == cap || cap == 0 {
            return Err(v);
        }
        let tail = (self.head + self.len) % cap;
        self.slots[tail] = Some(v);
        self.len += 1;
        Ok(())
    }

    pub(super) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let v = self.slots[self.head].take();
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        v
    }

    pub(super) fn peek(&self) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        self.slots[self.head].as_ref()
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Takes everything (the storage with it, so nothing is allocated),
    /// leaving an empty ring of capacity 0.
    pub(super) fn take_all(&mut self) -> Self {
        let taken = Self {
            slots: core::mem::take(&mut self.slots),
            head: self.head,
            len: self.len,
        };
        self.head = 0;
        self.len = 0;
        taken
    }
}

/// Counters of the connection layer, beside the engine's own.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnCounters {
    /// Upper-layer messages handed to `send` or `send_copy`.
    pub messages_queued: u64,
    /// Of those, messages copied (`send_copy`), not waited for.
    pub messages_copied: u64,
    /// Page spans mapped for sends (zero-copy payload pieces).
    pub payload_spans_mapped: u64,
    /// Times a sender waited for a free message slot or queue room.
    pub send_waits: u64,
    /// Upper-layer messages read by `recv`.
    pub messages_read: u64,
    /// Receive buffers put back in the pool for reuse (after their payload
    /// was read, or at once when they carried none).
    pub receives_recycled: u64,
    /// Work requests the device refused.
    pub post_errors: u64,
    /// Work requests that completed with an error (flushes included).
    pub completion_errors: u64,
    /// Memory regions registered for the peer.
    pub registrations: u64,
    /// Memory regions out of the pool now.
    pub mrs_in_use: u64,
    /// Times a registration waited for a free memory region.
    pub mr_waits: u64,
    /// Registrations that failed.
    pub mr_failures: u64,
    /// Regions replaced after a failed registration or invalidation.
    pub mr_recoveries: u64,
    /// Regions the peer invalidated (Send with Invalidate).
    pub remote_invalidations: u64,
    /// Regions invalidated locally (LOCAL_INV).
    pub local_invalidations: u64,
    /// RDMA read contexts completed.
    pub rdma_reads: u64,
    /// RDMA write contexts completed.
    pub rdma_writes: u64,
    /// Work request contexts the queue pair allocated on the data path
    /// (as of the last pump).
    pub context_misses: u64,
    /// Completions handled in softirq (the rest ran in process context:
    /// on the workqueue, or flushed by a teardown).
    pub softirq_completions: u64,
    /// Posting passes a completion in softirq left to the pump work item.
    pub deferred_pumps: u64,
}

/// The state lock held: what waits and the reader's recycling take.
pub(super) type StateGuard<'a> = crate::ib::SpinLockBhGuard<'a, State>;

/// Everything behind the state lock.
pub(super) struct State {
    /// Boxed: the engine is over 3 KiB, and a connection is set up on the
    /// caller's stack (a mount's, 16 KiB without KASAN).
    pub(super) engine: KBox<Engine>,
    pub(super) phase: Phase,
    pub(super) params: Option<NegotiatedParams>,
    /// Whether rdma_cm established the connection: sends wait until then.
    pub(super) established: bool,
    pub(super) slots: KVec<Slot>,
    /// Delivered fragments, in arrival order, with their buffers.
    pub(super) ready: Ring<(DmaBuf, Delivery)>,
    /// The fragment the reader stopped in: its buffer, its delivery and
    /// the payload bytes already read. Kept here, not with the reader, so
    /// that the teardown frees it with the other buffers.
    pub(super) partial: Option<(DmaBuf, Delivery, u32)>,
    /// Receive buffers not posted.
    pub(super) free_recvs: Ring<DmaBuf>,
    /// Receives to post again at once (the engine's `Repost`), counted
    /// here because only the posting path may touch the queue pair.
    pub(super) reposts_owed: u16,
    /// The engine deadline (ms) the timer is armed for, if any. Re-armed
    /// only for an earlier one: a later deadline lets the timer fire early,
    /// once, and re-arm then (moving a delayed work on every completion
    /// costs more than an early wakeup per keepalive interval).
    pub(super) timer_at: Option<u64>,
    /// The teardown has drained the queue pair: no work request holds a
    /// caller's memory any more.
    pub(super) drained: bool,
    /// Header buffers of sends not in flight.
    pub(super) free_headers: Ring<DmaBuf>,
    /// Fast-registration regions not in use.
    pub(super) free_mrs: Ring<FastRegMr>,
    /// Pages one region maps.
    pub(super) mr_pages: usize,
    /// Registrations the peer may use: (rkey, invalidated by the peer),
    /// one entry per region.
    registered: KVec<Option<(u32, bool)>>,
    /// Operations callers wait for (registrations, invalidations, RDMA
    /// read/write contexts).
    pub(super) ops: KVec<OpSlot>,
    pub(super) counters: ConnCounters,
}

impl State {
    /// Whether a pump would find anything to post or a timer to arm
    /// sooner: receives owed or wanted, something to transmit, an event,
    /// or an engine deadline earlier than the one armed.
    pub(super) fn needs_pump(&self) -> bool {
        if self.reposts_owed > 0 || !self.engine.is_idle() {
            return true;
        }
        match self.engine.poll_timeout() {
            Some(t) => self.timer_at.map_or(true, |armed| t.as_millis() < armed),
            None => false,
        }
    }

    pub(super) fn new(
        engine: KBox<Engine>,
        slots: usize,
        recvs: usize,
        headers: usize,
        mrs: usize,
        mr_pages: usize,
        ops: usize,
    ) -> Result<Self> {
        let mut s = KVec::with_capacity(slots, GFP_KERNEL)?;
        for _ in 0..slots {
            s.push(Slot::new(), GFP_KERNEL)?;
        }
        let mut op_slots = KVec::with_capacity(ops, GFP_KERNEL)?;
        for _ in 0..ops {
            op_slots.push(OpSlot::default(), GFP_KERNEL)?;
        }
        Ok(Self {
            engine,
            phase: Phase::Connecting,
            params: None,
            established: false,
            slots: s,
            ready: Ring::with_capacity(recvs)?,
            partial: None,
            free_recvs: Ring::with_capacity(recvs)?,
            reposts_owed: 0,
            timer_at: None,
            drained: false,
            free_headers: Ring::with_capacity(headers)?,
            free_mrs: Ring::with_capacity(mrs)?,
            mr_pages,
            registered: KVec::from_elem(None, mrs, GFP_KERNEL)?,
            ops: op_slots,
            counters: ConnCounters::default(),
        })
    }

    /// The error callers get, if the connection ended.
    pub(super) fn broken(&self) -> Option<Error> {
        match self.phase {
            Phase::Broken(e) => Some(e),
            _ => None,
        }
    }

    /// The slot of message `id`.
    pub(super) fn slot_of(&mut self, id: MessageId) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.id == Some(id))
    }

    /// Marks message `id` sent; a detached one's slot is freed, dropping
    /// its copy (a page reference: no sleeping, no allocation).
    pub(super) fn message_sent(&mut self, id: MessageId) {
        let Some(i) = self.slots.iter().position(|s| s.id == Some(id)) else {
            return;
        };
        if self.slots[i].detached {
            drop(self.release_slot(i));
        } else {
            self.slots[i].sent = true;
        }
    }

    /// Takes a free slot for message `id` with `spans`; gives the spans
    /// back if every slot is in use.
    pub(super) fn claim_slot(&mut self, id: MessageId, spans: SpanList) -> Result<usize, SpanList> {
        match self.slots.iter().position(|s| s.id.is_none()) {
            Some(i) => {
                let slot = &mut self.slots[i];
                slot.reset();
                slot.id = Some(id);
                slot.spans = spans;
                Ok(i)
            }
            None => Err(spans),
        }
    }

    /// Starts tracking a registration, so a Send with Invalidate of its
    /// key can be told from a stray one.
    pub(super) fn track_registration(&mut self, rkey: u32) {
        let free = self
            .registered
            .iter_mut()
            .find(|e| e.map_or(true, |(k, _)| k == rkey));
        if let Some(e) = free {
            *e = Some((rkey, false));
        }
    }

    /// Records the peer's Send with Invalidate of `rkey`; false if no
    /// registration of ours has that key.
    pub(super) fn note_remote_invalidation(&mut self, rkey: u32) -> bool {
        for (k, invalidated) in self.registered.iter_mut().flatten() {
            if *k == rkey {
                *invalidated = true;
                return true;
            }
        }
        false
    }

    /// Stops tracking `rkey`; whether the peer invalidated it.
    pub(super) fn take_remote_invalidation(&mut self, rkey: u32) -> bool {
        for e in self.registered.iter_mut() {
            if let Some((k, invalidated)) = *e {
                if k == rkey {
                    *e = None;
                    return invalidated;
                }
            }
        }
        false
    }

    /// Whether a slot is free.
    pub(super) fn has_free_slot(&self) -> bool {
        self.slots.iter().any(|s| s.id.is_none())
    }

    /// Frees slot `i` and gives its spans back.
    pub(super) fn release_slot(&mut self, i: usize) -> SpanList {
        let slot = &mut self.slots[i];
        slot.reset();
        core::mem::take(&mut slot.spans)
    }
}
