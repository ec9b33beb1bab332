// SPDX-License-Identifier: GPL-2.0

//! Counters and gauges of one connection, for debugfs-style reporting.

/// A snapshot of a connection's counters.
///
/// The gauges (credits, queue depths) describe the moment of the snapshot;
/// the counters only grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// The send credits we hold.
    pub send_credits: u16,
    /// The send credits we ask the peer for.
    pub send_credit_target: u16,
    /// The credits granted to the peer and not yet used.
    pub receive_credits: u16,
    /// The credits the peer asks us to keep granted.
    pub receive_credit_target: u16,
    /// The receives currently posted (reported by the transport).
    pub posted_receives: u16,
    /// The receives asked for and not yet reported posted or failed.
    pub requested_receives: u16,
    /// The RDMA read/write credits held by work in flight.
    pub rdma_credits_held: u16,
    /// The receive buffers held by the upper layer.
    pub parked_receives: u16,
    /// The sends posted and not yet completed.
    pub sends_in_flight: u16,
    /// The upper-layer messages in the send queue.
    pub send_queue_len: u16,

    /// Upper-layer messages fully sent and completed.
    pub messages_sent: u64,
    /// Upper-layer payload bytes posted for sending.
    pub bytes_sent: u64,
    /// Data transfer messages with payload posted.
    pub fragments_sent: u64,
    /// Data transfer messages without payload posted.
    pub empty_sent: u64,
    /// Keepalive requests (RESPONSE_REQUESTED) sent.
    pub keepalives_sent: u64,
    /// Upper-layer messages whose last fragment was received.
    pub messages_received: u64,
    /// Upper-layer payload bytes received.
    pub bytes_received: u64,
    /// Data transfer messages with payload received.
    pub fragments_received: u64,
    /// Data transfer messages without payload received.
    pub empty_received: u64,
    /// Received messages that asked for a prompt response.
    pub response_requests_received: u64,
    /// Credits granted to the peer in total.
    pub credits_granted: u64,
    /// Credits the peer granted to us in total.
    pub credits_received: u64,
    /// Receives the transport reported posted in total.
    pub receives_posted: u64,
    /// Times a send had to wait for a credit.
    pub send_blocked_no_credit: u64,
    /// Upper-layer sends that were refused.
    pub sends_rejected: u64,
    /// Queued upper-layer messages cancelled before they left.
    pub messages_cancelled: u64,

    /// Connections dropped because a message broke a wire-format rule.
    pub decode_errors: u64,
    /// Connections dropped because the peer broke a state rule.
    pub protocol_errors: u64,
    /// Connections dropped because the transport misused the engine.
    pub local_errors: u64,
    /// Connections dropped because a work request failed.
    pub transport_errors: u64,
    /// Negotiations that timed out.
    pub negotiate_timeouts: u64,
    /// Negotiations refused by a failure response.
    pub negotiate_refused: u64,
    /// Connections dropped after an unanswered keepalive.
    pub idle_timeouts: u64,
}

/// Adds one to a counter without overflow.
pub(super) fn bump(counter: &mut u64) {
    *counter = counter.saturating_add(1);
}

/// Adds `n` to a counter without overflow.
pub(super) fn add(counter: &mut u64, n: u64) {
    *counter = counter.saturating_add(n);
}
