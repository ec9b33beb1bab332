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

use super::error::{ProtocolError, SendError};
use super::wire::{DataTransfer, DataTransferRepr};

/// The DataOffset of every fragment this engine sends.
pub const DATA_OFFSET: u32 = DataTransfer::<&[u8]>::DATA_OFFSET;

/// The number of upper-layer messages that can wait in the send queue.
pub const SEND_QUEUE_LEN: usize = 16;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// One upper-layer message in the send queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct SendEntry {
    id: u64,
    len: u32,
    sent: u32,
    in_flight: u16,
}

impl SendEntry {
    const fn done(&self) -> bool {
        self.sent >= self.len && self.in_flight == 0
    }
}

/// A bounded FIFO of upper-layer messages being sent.
#[derive(Debug, Clone)]
pub struct SendQueue {
    entries: [SendEntry; SEND_QUEUE_LEN],
    head: usize,
    count: usize,
    next_id: u64,
}

impl Default for SendQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl SendQueue {
    /// Creates an empty queue.
    pub const fn new() -> Self {
        SendQueue {
            entries: [SendEntry {
                id: 0,
                len: 0,
                sent: 0,
                in_flight: 0,
            }; SEND_QUEUE_LEN],
            head: 0,
            count: 0,
            next_id: 1,
        }
    }

    /// Returns the number of queued messages, including those whose
    /// fragments are all sent but not all completed.
    pub const fn len(&self) -> usize {
        self.count
    }

    /// Returns true if no message is queued.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn slot(&self, i: usize) -> usize {
        self.head.wrapping_add(i) % SEND_QUEUE_LEN
    }

    /// Queues a message of `len` bytes and returns its identifier.
    pub fn push(&mut self, len: u32) -> Result<MessageId, SendError> {
        if self.count >= SEND_QUEUE_LEN {
            return Err(SendError::QueueFull);
        }
        let id = self.next_id;
        let slot = self.slot(self.count);
        let entry = self.entries.get_mut(slot).ok_or(SendError::QueueFull)?;
        *entry = SendEntry {
            id,
            len,
            sent: 0,
            in_flight: 0,
        };
        self.count = self.count.saturating_add(1);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        Ok(MessageId(id))
    }

    /// Returns the index of the first message with bytes left to send.
    fn current_index(&self) -> Option<usize> {
        (0..self.count)
            .map(|i| self.slot(i))
            .find(|&s| matches!(self.entries.get(s), Some(e) if e.sent < e.len))
    }

    /// Returns true if a message is partially sent: then nothing but its
    /// next fragment may be sent.
    pub fn mid_message(&self) -> bool {
        self.current_index()
            .and_then(|s| self.entries.get(s))
            .is_some_and(|e| e.sent > 0)
    }

    /// Returns the next fragment to send and its message, without taking it.
    pub fn peek_fragment(&self, max_payload: u32) -> Option<(MessageId, Fragment)> {
        let e = self.entries.get(self.current_index()?)?;
        next_fragment(e.len, e.sent, max_payload).map(|f| (MessageId(e.id), f))
    }

    /// Records that the fragment returned by `peek_fragment` was posted.
    pub fn commit_fragment(&mut self, fragment: &Fragment) {
        if let Some(s) = self.current_index() {
            if let Some(e) = self.entries.get_mut(s) {
                e.sent = e.sent.saturating_add(fragment.length);
                e.in_flight = e.in_flight.saturating_add(1);
            }
        }
    }

    /// Records a completed send of a fragment of message `id`; returns false
    /// if no such fragment is in flight.
    pub fn on_complete(&mut self, id: MessageId) -> bool {
        for i in 0..self.count {
            let s = self.slot(i);
            if let Some(e) = self.entries.get_mut(s) {
                if e.id == id.0 && e.in_flight > 0 {
                    e.in_flight = e.in_flight.saturating_sub(1);
                    return true;
                }
            }
        }
        false
    }

    /// Removes the oldest message if all its fragments were sent and
    /// completed, and returns its identifier.
    pub fn pop_done(&mut self) -> Option<MessageId> {
        if self.count == 0 {
            return None;
        }
        let e = *self.entries.get(self.head)?;
        if !e.done() {
            return None;
        }
        self.head = self.slot(1);
        self.count = self.count.saturating_sub(1);
        Some(MessageId(e.id))
    }

    /// Returns true if some message still has bytes to send.
    pub fn has_unsent(&self) -> bool {
        self.current_index().is_some()
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
        let mut q = SendQueue::new();
        let a = q.push(3000).unwrap();
        let b = q.push(10).unwrap();
        assert_eq!(q.len(), 2);
        assert!(!q.mid_message());
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
        assert_eq!(q.pop_done(), None);
        assert!(q.on_complete(a));
        assert!(q.on_complete(a));
        assert!(q.on_complete(a));
        assert!(!q.on_complete(a));
        assert_eq!(q.pop_done(), Some(a));
        assert_eq!(q.pop_done(), None);
        assert!(q.has_unsent());
    }

    #[test]
    fn queue_full() {
        let mut q = SendQueue::new();
        for _ in 0..SEND_QUEUE_LEN {
            q.push(1).unwrap();
        }
        assert_eq!(q.push(1), Err(SendError::QueueFull));
        assert!(!q.is_empty());
    }
}
