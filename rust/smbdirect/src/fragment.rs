// SPDX-License-Identifier: GPL-2.0

//! Fragmentation of outgoing and reassembly of incoming upper-layer messages
//! (§3.1.4.2, §3.1.5.1, §3.1.5.8).
//!
//! Sending: an upper-layer message of N bytes becomes data transfer messages
//! with DataOffset 24, DataOffset + DataLength <= MaxSendSize and a
//! RemainingDataLength that counts down to zero. Fragments go out one at a
//! time in strict order and the messages of the queue never interleave: the
//! engine only sends a credit-only or keepalive message when no message is
//! partially sent (known bug 9), and piggybacks grants on fragments instead.
//!
//! Receiving: [`Reassembly`] checks that each continuing fragment carries on
//! where the previous one stopped, and tells the transport where the payload
//! is and whether the message is complete.

use super::error::{CancelError, ProtocolError, SendError};
use super::wire::{DataTransfer, DataTransferRepr};

/// The DataOffset of every fragment this engine sends.
pub const DATA_OFFSET: u32 = DataTransfer::<&[u8]>::DATA_OFFSET;

/// The largest `send_queue_depth`: the send queue is a fixed array of this
/// many 12-byte entries, so that the engine never allocates.
pub const MAX_SEND_QUEUE_DEPTH: u16 = 255;

const QUEUE_SLOTS: usize = MAX_SEND_QUEUE_DEPTH as usize;

/// Returns the payload bytes one message of `max_send_size` bytes carries.
pub const fn max_fragment_payload(max_send_size: u32) -> u32 {
    max_send_size.saturating_sub(DATA_OFFSET)
}

/// One fragment of an upper-layer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// The offset of the fragment's payload in the upper-layer message.
    pub offset: u32,
    /// The number of payload bytes (DataLength).
    pub length: u32,
    /// The bytes left after this fragment (RemainingDataLength).
    pub remaining: u32,
}

/// Returns the fragment that starts at `sent` in a message of `len` bytes,
/// or `None` when the message is fully sent or no payload fits.
pub fn next_fragment(len: u32, sent: u32, max_payload: u32) -> Option<Fragment> {
    let left = len.checked_sub(sent)?;
    if left == 0 || max_payload == 0 {
        return None;
    }
    let length = left.min(max_payload);
    Some(Fragment {
        offset: sent,
        length,
        remaining: left.saturating_sub(length),
    })
}

/// An iterator over the fragments of one upper-layer message.
#[derive(Debug, Clone)]
pub struct Fragments {
    len: u32,
    sent: u32,
    max_payload: u32,
}

impl Fragments {
    /// Splits a message of `len` bytes for a connection whose MaxSendSize
    /// is `max_send_size`.
    pub const fn new(len: u32, max_send_size: u32) -> Self {
        Fragments {
            len,
            sent: 0,
            max_payload: max_fragment_payload(max_send_size),
        }
    }
}

impl Iterator for Fragments {
    type Item = Fragment;

    fn next(&mut self) -> Option<Fragment> {
        let f = next_fragment(self.len, self.sent, self.max_payload)?;
        self.sent = self.sent.saturating_add(f.length);
        Some(f)
    }
}

/// The identifier the engine gives to each queued upper-layer message.
///
/// Identifiers are handed out in order, starting at 1, and never reused on
/// a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// The next fragment of the send queue and what it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextFragment {
    /// The message the fragment belongs to.
    pub message: MessageId,
    /// The offset in that message where the fragment starts.
    pub offset: u32,
    /// The bytes of the message left from `offset`.
    pub left: u32,
}

/// A send-with-invalidate entry flag: `invalidate` holds a remote token.
const HAS_INVALIDATE: u8 = 1;

/// One upper-layer message in the send queue; a zero `len` marks a
/// cancelled message (an empty message is never queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct SendEntry {
    len: u32,
    invalidate: u32,
    in_flight: u16,
    flags: u8,
}

/// A bounded FIFO of upper-layer messages being sent.
///
/// Messages leave in order and never interleave: `current` is the first
/// message with bytes left to send, every message before it is fully
/// handed to the transport, and only `current` can be partly sent. The
/// identifier of the entry at position `i` is `head_id + i`, so the queue
/// stores no identifiers.
#[derive(Debug, Clone)]
pub struct SendQueue {
    entries: [SendEntry; QUEUE_SLOTS],
    capacity: u16,
    head: u16,
    count: u16,
    head_id: u64,
    current: u16,
    sent: u32,
}

impl Default for SendQueue {
    fn default() -> Self {
        Self::new(MAX_SEND_QUEUE_DEPTH)
    }
}

impl SendQueue {
    /// Creates an empty queue of at most `capacity` messages (bounded by
    /// [`MAX_SEND_QUEUE_DEPTH`]).
    pub const fn new(capacity: u16) -> Self {
        let capacity = if capacity > MAX_SEND_QUEUE_DEPTH {
            MAX_SEND_QUEUE_DEPTH
        } else {
            capacity
        };
        SendQueue {
            entries: [SendEntry {
                len: 0,
                invalidate: 0,
                in_flight: 0,
                flags: 0,
            }; QUEUE_SLOTS],
            capacity,
            head: 0,
            count: 0,
            head_id: 1,
            current: 0,
            sent: 0,
        }
    }

    /// Returns the number of queued messages, including those whose
    /// fragments are all sent but not all completed, and cancelled ones not
    /// yet at the head.
    pub const fn len(&self) -> usize {
        self.count as usize
    }

    /// Returns true if no message is queued.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn slot(&self, i: u16) -> usize {
        usize::from(self.head).wrapping_add(usize::from(i)) % QUEUE_SLOTS
    }

    fn entry(&self, i: u16) -> Option<&SendEntry> {
        if i >= self.count {
            return None;
        }
        self.entries.get(self.slot(i))
    }

    fn entry_mut(&mut self, i: u16) -> Option<&mut SendEntry> {
        if i >= self.count {
            return None;
        }
        let s = self.slot(i);
        self.entries.get_mut(s)
    }

    /// Returns the position of message `id` in the queue.
    fn position(&self, id: MessageId) -> Option<u16> {
        let rel = id.0.checked_sub(self.head_id)?;
        u16::try_from(rel).ok().filter(|&i| i < self.count)
    }

    /// Queues a message of `len` bytes (not zero) and returns its
    /// identifier; `invalidate` is a remote token for Send-with-Invalidate
    /// on its last fragment (§3.1.4.2).
    pub fn push(&mut self, len: u32, invalidate: Option<u32>) -> Result<MessageId, SendError> {
        if len == 0 {
            return Err(SendError::EmptyMessage);
        }
        if self.count >= self.capacity {
            return Err(SendError::QueueFull);
        }
        let id = self.head_id.wrapping_add(u64::from(self.count));
        let slot = self.slot(self.count);
        let entry = self.entries.get_mut(slot).ok_or(SendError::QueueFull)?;
        *entry = SendEntry {
            len,
            invalidate: invalidate.unwrap_or(0),
            in_flight: 0,
            flags: if invalidate.is_some() {
                HAS_INVALIDATE
            } else {
                0
            },
        };
        self.count = self.count.saturating_add(1);
        Ok(MessageId(id))
    }

    /// Moves `current` past cancelled messages.
    fn skip_cancelled(&mut self) {
        while self.sent == 0 && self.entry(self.current).is_some_and(|e| e.len == 0) {
            self.current = self.current.saturating_add(1);
        }
    }

    /// Returns true if a message is partially sent: then nothing but its
    /// next fragment may be sent.
    pub const fn mid_message(&self) -> bool {
        self.sent > 0
    }

    /// Returns where the next fragment starts, if some message has bytes
    /// left to send.
    pub fn next_fragment_start(&self) -> Option<NextFragment> {
        let e = self.entry(self.current)?;
        Some(NextFragment {
            message: MessageId(self.head_id.wrapping_add(u64::from(self.current))),
            offset: self.sent,
            left: e.len.saturating_sub(self.sent),
        })
    }

    /// Returns the next fragment to send and its message, without taking it.
    pub fn peek_fragment(&self, max_payload: u32) -> Option<(MessageId, Fragment)> {
        let next = self.next_fragment_start()?;
        let e = self.entry(self.current)?;
        next_fragment(e.len, self.sent, max_payload).map(|f| (next.message, f))
    }

    /// Returns the remote token to invalidate with `fragment`: only the last
    /// fragment of a message carries it (known bug 22).
    pub fn invalidate_for(&self, fragment: &Fragment) -> Option<u32> {
        let e = self.entry(self.current)?;
        (fragment.remaining == 0 && e.flags & HAS_INVALIDATE != 0).then_some(e.invalidate)
    }

    /// Records that the fragment returned by `peek_fragment` was posted.
    pub fn commit_fragment(&mut self, fragment: &Fragment) {
        let current = self.current;
        let sent = self.sent.saturating_add(fragment.length);
        let Some(e) = self.entry_mut(current) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_add(1);
        if sent >= e.len {
            self.current = current.saturating_add(1);
            self.sent = 0;
            self.skip_cancelled();
        } else {
            self.sent = sent;
        }
    }

    /// Records a completed send of a fragment of message `id`; returns false
    /// if no such fragment is in flight.
    pub fn on_complete(&mut self, id: MessageId) -> bool {
        let Some(i) = self.position(id) else {
            return false;
        };
        match self.entry_mut(i) {
            Some(e) if e.in_flight > 0 => {
                e.in_flight = e.in_flight.saturating_sub(1);
                true
            }
            _ => false,
        }
    }

    /// Cancels message `id` if none of its fragments was handed out yet.
    pub fn cancel(&mut self, id: MessageId) -> Result<(), CancelError> {
        let i = self.position(id).ok_or(CancelError::Unknown)?;
        let started = i < self.current || (i == self.current && self.sent > 0);
        let e = self.entry_mut(i).ok_or(CancelError::Unknown)?;
        if e.len == 0 {
            return Err(CancelError::Unknown);
        }
        if started {
            return Err(CancelError::Started);
        }
        *e = SendEntry::default();
        self.skip_cancelled();
        Ok(())
    }

    /// Whether [`SendQueue::pop_done`] may have something to pop (a
    /// cancelled head counts: popping it is work).
    pub fn has_done(&self) -> bool {
        match self.entry(0) {
            Some(e) => e.len == 0 || (self.current != 0 && e.in_flight == 0),
            None => false,
        }
    }

    /// Removes the oldest message if all its fragments were sent and
    /// completed, and returns its identifier; cancelled messages at the head
    /// are dropped on the way.
    pub fn pop_done(&mut self) -> Option<MessageId> {
        loop {
            let e = *self.entry(0)?;
            let cancelled = e.len == 0;
            if !cancelled && (self.current == 0 || e.in_flight > 0) {
                return None;
            }
            let id = self.head_id;
            self.head = u16::try_from(self.slot(1)).unwrap_or(0);
            self.count = self.count.saturating_sub(1);
            self.head_id = self.head_id.wrapping_add(1);
            self.current = self.current.saturating_sub(1);
            if !cancelled {
                return Some(MessageId(id));
            }
        }
    }

    /// Returns true if some message still has bytes to send.
    pub fn has_unsent(&self) -> bool {
        self.current < self.count
    }
}

/// Where a received payload goes, returned to the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// The offset of the payload in the receive buffer.
    pub data_offset: u32,
    /// The number of payload bytes.
    pub data_length: u32,
    /// The length of the whole upper-layer message (DataLength +
    /// RemainingDataLength of its first fragment).
    pub message_length: u32,
    /// The offset of this payload within the upper-layer message.
    pub message_offset: u32,
    /// True if this is the first fragment of the message.
    pub start_of_message: bool,
    /// True if this fragment completes the message.
    pub end_of_message: bool,
}

/// The reassembly state of incoming fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reassembly {
    in_progress: bool,
    message_length: u32,
    received: u32,
    remaining: u32,
}

impl Reassembly {
    /// Creates the state with no message in progress.
    pub const fn new() -> Self {
        Reassembly {
            in_progress: false,
            message_length: 0,
            received: 0,
            remaining: 0,
        }
    }

    /// Returns true if a message is partially received.
    pub const fn in_progress(&self) -> bool {
        self.in_progress
    }

    /// Accepts a validated fragment with payload.
    ///
    /// A continuing fragment must satisfy DataLength + RemainingDataLength ==
    /// the previous RemainingDataLength; anything else means the peer
    /// interleaved or corrupted its fragments.
    pub fn accept(&mut self, repr: &DataTransferRepr) -> Result<Delivery, ProtocolError> {
        let total = repr
            .data_length
            .checked_add(repr.remaining_data_length)
            .ok_or(ProtocolError::FragmentMismatch {
                expected: self.remaining,
                got: u32::MAX,
            })?;
        let start = !self.in_progress;
        if start {
            self.message_length = total;
            self.received = 0;
        } else if total != self.remaining {
            return Err(ProtocolError::FragmentMismatch {
                expected: self.remaining,
                got: total,
            });
        }
        let delivery = Delivery {
            data_offset: repr.data_offset,
            data_length: repr.data_length,
            message_length: self.message_length,
            message_offset: self.received,
            start_of_message: start,
            end_of_message: repr.remaining_data_length == 0,
        };
        self.received = self.received.saturating_add(repr.data_length);
        self.remaining = repr.remaining_data_length;
        self.in_progress = repr.remaining_data_length != 0;
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(length: u32, remaining: u32) -> DataTransferRepr {
        DataTransferRepr {
            credits_requested: 1,
            credits_granted: 0,
            flags: 0,
            remaining_data_length: remaining,
            data_offset: 24,
            data_length: length,
        }
    }

    /// §3.1.5.1: fragments obey DataOffset + DataLength <= MaxSendSize and
    /// RemainingDataLength counts down to zero.
    #[test]
    fn split_counts_down() {
        let v: std::vec::Vec<Fragment> = Fragments::new(3000, 1364).collect();
        assert_eq!(
            v,
            [
                Fragment {
                    offset: 0,
                    length: 1340,
                    remaining: 1660
                },
                Fragment {
                    offset: 1340,
                    length: 1340,
                    remaining: 320
                },
                Fragment {
                    offset: 2680,
                    length: 320,
                    remaining: 0
                },
            ]
        );
        assert_eq!(Fragments::new(0, 1364).count(), 0);
        assert_eq!(Fragments::new(10, 24).count(), 0);
        assert_eq!(next_fragment(5, 6, 100), None);
    }

    #[test]
    fn reassemble() {
        let mut r = Reassembly::new();
        let d = r.accept(&frag(100, 50)).unwrap();
        assert!(d.start_of_message && !d.end_of_message);
        assert_eq!(d.message_length, 150);
        assert!(r.in_progress());
        let d = r.accept(&frag(50, 0)).unwrap();
        assert!(!d.start_of_message && d.end_of_message);
        assert_eq!(d.message_offset, 100);
        assert!(!r.in_progress());
    }

    /// §3.1.5.8: a continuing fragment inconsistent with the previous
    /// RemainingDataLength is refused.
    #[test]
    fn fragment_mismatch() {
        let mut r = Reassembly::new();
        r.accept(&frag(100, 50)).unwrap();
        assert_eq!(
            r.accept(&frag(100, 50)),
            Err(ProtocolError::FragmentMismatch {
                expected: 50,
                got: 150
            })
        );
    }

    #[test]
    fn queue_order_and_completion() {
        let mut q = SendQueue::new(16);
        let a = q.push(3000, None).unwrap();
        let b = q.push(10, None).unwrap();
        assert_eq!(q.len(), 2);
        assert!(!q.mid_message());
        // Nothing sent: nothing done.
        assert!(!q.has_done());
        let (id, f) = q.peek_fragment(1340).unwrap();
        assert_eq!(id, a);
        q.commit_fragment(&f);
        assert!(q.mid_message());
        // The second message cannot start before the first is fully sent.
        while let Some((id, f)) = q.peek_fragment(1340) {
            if id == b {
                break;
            }
            q.commit_fragment(&f);
        }
        assert!(!q.mid_message());
        // Sent, not completed: not done.
        assert!(!q.has_done());
        assert_eq!(q.pop_done(), None);
        assert!(q.on_complete(a));
        assert!(q.on_complete(a));
        assert!(!q.has_done());
        assert!(q.on_complete(a));
        assert!(!q.on_complete(a));
        assert!(q.has_done());
        assert_eq!(q.pop_done(), Some(a));
        assert!(!q.has_done());
        assert_eq!(q.pop_done(), None);
        assert!(q.has_unsent());
    }

    /// The queue holds the configured depth, not a fixed 16, and at most
    /// [`MAX_SEND_QUEUE_DEPTH`].
    #[test]
    fn queue_full() {
        for depth in [1u16, 16, 200, 255, 1000] {
            let mut q = SendQueue::new(depth);
            for _ in 0..depth.min(MAX_SEND_QUEUE_DEPTH) {
                q.push(1, None).unwrap();
            }
            assert_eq!(q.push(1, None), Err(SendError::QueueFull));
            assert_eq!(q.len(), usize::from(depth.min(MAX_SEND_QUEUE_DEPTH)));
            assert!(!q.is_empty());
        }
        assert_eq!(
            SendQueue::new(4).push(0, None),
            Err(SendError::EmptyMessage)
        );
    }

    /// A message can be cancelled until its first fragment is handed out;
    /// after that it goes out whole.
    #[test]
    fn cancel_before_first_fragment_only() {
        let mut q = SendQueue::new(8);
        let a = q.push(3000, None).unwrap();
        let b = q.push(10, None).unwrap();
        let c = q.push(20, None).unwrap();
        let (_, f) = q.peek_fragment(1340).unwrap();
        q.commit_fragment(&f);
        assert_eq!(q.cancel(a), Err(CancelError::Started));
        assert_eq!(q.cancel(b), Ok(()));
        assert_eq!(q.cancel(b), Err(CancelError::Unknown));
        assert_eq!(q.cancel(MessageId(99)), Err(CancelError::Unknown));
        // The rest of a, then c: b's bytes never go out.
        let mut sent = std::vec::Vec::new();
        while let Some((id, f)) = q.peek_fragment(1340) {
            q.commit_fragment(&f);
            sent.push((id, f.length));
        }
        assert_eq!(sent, [(a, 1340), (a, 320), (c, 20)]);
        assert_eq!(q.cancel(c), Err(CancelError::Started));
        for _ in 0..3 {
            assert!(q.on_complete(a));
        }
        assert!(!q.on_complete(b));
        assert!(q.on_complete(c));
        assert_eq!(q.pop_done(), Some(a));
        // A cancelled head is work to pop.
        assert!(q.has_done());
        // The cancelled message is dropped silently on the way to c.
        assert_eq!(q.pop_done(), Some(c));
        assert!(q.is_empty());
        // Identifiers are never reused.
        assert_eq!(q.push(1, None), Ok(MessageId(4)));
    }

    /// Known bug 22: the remote token rides on the last fragment only.
    #[test]
    fn invalidate_on_last_fragment() {
        let mut q = SendQueue::new(4);
        q.push(3000, Some(0xabcd)).unwrap();
        q.push(10, None).unwrap();
        let mut tokens = std::vec::Vec::new();
        while let Some((_, f)) = q.peek_fragment(1340) {
            tokens.push(q.invalidate_for(&f));
            q.commit_fragment(&f);
        }
        assert_eq!(tokens, [None, None, Some(0xabcd), None]);
    }

    /// A shorter fragment than the maximum is taken when asked for.
    #[test]
    fn caller_sized_fragments() {
        let mut q = SendQueue::new(4);
        let a = q.push(1000, None).unwrap();
        let (_, f) = q.peek_fragment(300).unwrap();
        q.commit_fragment(&f);
        assert_eq!(
            q.next_fragment_start(),
            Some(NextFragment {
                message: a,
                offset: 300,
                left: 700
            })
        );
        assert_eq!(q.peek_fragment(0), None);
    }
}
