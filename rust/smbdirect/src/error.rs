// SPDX-License-Identifier: GPL-2.0

//! Error types of the engine, one variant per rule that can be broken.
//!
//! The errors are split by who broke the rule: [`DecodeError`] is a message
//! from the peer that violates a wire-format rule, [`ProtocolError`] is a peer
//! that breaks a connection-state rule (credits, fragment order),
//! [`LocalError`] is a caller of the engine that breaks the API contract, and
//! [`SendError`] is an upper-layer send that cannot be accepted. Every
//! variant names the [MS-SMBD] rule it enforces.

use core::fmt;

/// A message from the peer violates a wire-format rule of [MS-SMBD].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The message is shorter than the fixed part of its header.
    Truncated {
        /// The number of bytes the header needs.
        needed: u32,
        /// The number of bytes that were received.
        got: u32,
    },
    /// The message is longer than the negotiated maximum receive size.
    TooLong {
        /// The negotiated maximum receive size.
        max: u32,
        /// The number of bytes that were received.
        got: u32,
    },
    /// The version range of a negotiate request does not include 0x0100
    /// (§3.1.5.6), or a negotiate response selected another version
    /// (§3.1.5.7).
    UnsupportedVersion {
        /// The lowest version the peer offered or selected.
        min: u16,
        /// The highest version the peer offered or selected.
        max: u16,
    },
    /// CreditsRequested is zero (§3.1.5.6, §3.1.5.7, §3.1.5.8).
    ZeroCreditsRequested,
    /// CreditsGranted of a negotiate response is zero (§3.1.5.7).
    ZeroCreditsGranted,
    /// MaxReceiveSize is below the protocol minimum of 128 bytes.
    MaxReceiveSizeTooSmall {
        /// The value the peer announced.
        value: u32,
    },
    /// MaxFragmentedSize is below the protocol minimum of 131072 bytes.
    MaxFragmentedSizeTooSmall {
        /// The value the peer announced.
        value: u32,
    },
    /// PreferredSendSize of a negotiate response exceeds our MaxReceiveSize
    /// (§3.1.5.7).
    PreferredSendSizeTooLarge {
        /// The value the peer announced.
        value: u32,
        /// Our maximum receive size.
        max: u32,
    },
    /// The Status of a negotiate response is not STATUS_SUCCESS (§3.1.5.7).
    NegotiateFailed {
        /// The NTSTATUS value of the response.
        status: u32,
    },
    /// DataOffset is not 8-byte aligned (§2.2.3, §3.1.5.8).
    MisalignedDataOffset {
        /// The DataOffset of the message.
        offset: u32,
    },
    /// DataOffset points into the fixed 20-byte header although DataLength
    /// is not zero (§2.2.3).
    DataOffsetInHeader {
        /// The DataOffset of the message.
        offset: u32,
    },
    /// DataOffset + DataLength overflows 32 bits (§3.1.5.8).
    DataOffsetOverflow {
        /// The DataOffset of the message.
        offset: u32,
        /// The DataLength of the message.
        length: u32,
    },
    /// DataOffset + DataLength exceeds the received length (§3.1.5.8).
    DataOutOfBounds {
        /// The end of the payload, DataOffset + DataLength.
        end: u32,
        /// The number of bytes that were received.
        received: u32,
    },
    /// DataLength + RemainingDataLength exceeds the maximum fragmented
    /// receive size, or overflows 32 bits (§3.1.5.8).
    FragmentTooLarge {
        /// DataLength + RemainingDataLength, saturated at `u32::MAX`.
        total: u32,
        /// Our maximum fragmented receive size.
        max: u32,
    },
    /// RemainingDataLength is not zero in a message without payload
    /// (§3.1.5.1: an empty message has no RemainingDataLength).
    RemainingWithoutData {
        /// The RemainingDataLength of the message.
        remaining: u32,
    },
    /// A buffer descriptor list is empty.
    NoDescriptors,
    /// A buffer descriptor list is not a multiple of 16 bytes long.
    DescriptorListLength {
        /// The length of the list in bytes.
        len: u32,
    },
    /// A buffer descriptor has a zero Length.
    ZeroLengthDescriptor {
        /// The index of the descriptor in the list.
        index: u32,
    },
    /// A buffer descriptor's Offset + Length overflows 64 bits.
    DescriptorOverflow {
        /// The index of the descriptor in the list.
        index: u32,
    },
    /// A buffer descriptor list has more entries than allowed (ksmbd allows
    /// no more than its RDMA read/write credits, known bug 3).
    TooManyDescriptors {
        /// The number of descriptors in the list.
        count: u32,
        /// The largest number accepted.
        max: u32,
    },
    /// The descriptors of a list add up to less than the I/O length.
    DescriptorsTooShort {
        /// The sum of the descriptor lengths.
        total: u64,
        /// The I/O length.
        expected: u64,
    },
}

/// A peer breaks a rule of the connection state of [MS-SMBD].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The peer sent a message although it held no send credit: more
    /// receives completed than we granted (§3.1.5.8).
    NoReceiveCredit,
    /// The peer's CreditsGranted would push our send credits past 65535.
    CreditOverflow {
        /// The send credits we held.
        held: u16,
        /// The credits the peer granted.
        granted: u16,
    },
    /// A continuing fragment's DataLength + RemainingDataLength does not
    /// equal the previous fragment's RemainingDataLength (§3.1.5.8).
    FragmentMismatch {
        /// The RemainingDataLength announced by the previous fragment.
        expected: u32,
        /// DataLength + RemainingDataLength of this fragment.
        got: u32,
    },
    /// The start of a message holds every receive buffer of a
    /// [`Consumer::WholeMessage`](super::config::Consumer) upper layer, so
    /// the rest can never be received: the peer sends shorter fragments
    /// than the configuration allowed for (known bug 10).
    ReassemblyExhausted {
        /// The buffers parked.
        parked: u16,
    },
}

/// A caller of the engine breaks the API contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalError {
    /// A receive completed but the engine had no receive posted.
    UnexpectedReceive,
    /// A send completed but the engine had no send in flight.
    UnexpectedSendCompletion,
    /// A send completion carried a token of no message in flight.
    UnknownSendToken,
    /// The transport reported more receives posted (or failed) than the
    /// engine asked for.
    TooManyPosted {
        /// The number reported.
        reported: u16,
        /// The number asked for and not yet reported.
        requested: u16,
    },
    /// The transport released more RDMA read/write credits than it held.
    TooManyRdmaReleased {
        /// The number released.
        released: u16,
        /// The number held.
        held: u16,
    },
    /// The upper layer returned more receive buffers than it was given.
    TooManyConsumed {
        /// The number of buffers returned.
        consumed: u16,
        /// The number of buffers held by the upper layer.
        parked: u16,
    },
}

/// An upper-layer message cannot be queued for sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is not (or no longer) connected.
    NotConnected,
    /// The message is empty; an SMB message has at least one byte.
    EmptyMessage,
    /// The message exceeds the peer's MaxFragmentedSize (§3.1.4.2).
    MessageTooLarge {
        /// The length of the message.
        len: u32,
        /// The peer's maximum fragmented size.
        max: u32,
    },
    /// The send queue (`send_queue_depth` messages) is full; retry after a
    /// `MessageSent` event.
    QueueFull,
}

/// A queued message cannot be cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelError {
    /// No queued message has this identifier (it was sent and released, or
    /// cancelled already).
    Unknown,
    /// A fragment of the message was already handed to the transport: a
    /// message cannot be half sent (§3.1.4.2 sends every fragment in strict
    /// order), so it goes out whole; wait for its `MessageSent`, or close
    /// the connection.
    Started,
}

/// An RDMA read or write cannot be started now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RdmaError {
    /// The connection is not connected.
    NotConnected,
    /// Not enough credits are free now; retry after a release.
    WouldBlock,
    /// More credits than the connection will ever have: split the I/O.
    TooLarge {
        /// The credits asked for.
        wanted: u16,
        /// The most that can ever be held at once for this operation.
        max: u16,
    },
}

/// A configuration value is out of the range the protocol allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `receive_credit_max` is below 3: one posted receive is kept in
    /// reserve for the last-credit rule, and with a single grantable credit
    /// per side every credit-only message would have to be answered by
    /// another, forever.
    ReceiveCreditMaxTooSmall,
    /// `send_credit_target` is zero.
    ZeroSendCreditTarget,
    /// `send_queue_depth` is zero.
    ZeroSendQueueDepth,
    /// `max_send_size` is below 128 bytes.
    MaxSendSizeTooSmall,
    /// `max_receive_size` is below 128 bytes.
    MaxReceiveSizeTooSmall,
    /// `max_fragmented_recv_size` is below 131072 bytes.
    MaxFragmentedSizeTooSmall,
    /// A timer interval is zero.
    ZeroTimeout,
    /// `send_queue_depth` exceeds [`MAX_SEND_QUEUE_DEPTH`](super::fragment::MAX_SEND_QUEUE_DEPTH).
    SendQueueDepthTooLarge,
    /// A consumer that keeps a message's buffers until it is complete
    /// cannot reassemble a `max_fragmented_recv_size` message in
    /// `receive_credit_max - 1` buffers of `max_receive_size - 24` payload
    /// bytes (one stays the reserve receive):
    /// every buffer would end up parked and no credit could be granted
    /// (known bug 10).
    ReassemblyExhaustion {
        /// The buffers one largest message needs.
        needed: u32,
        /// The receive buffers there are.
        buffers: u16,
    },
    /// The device's queue pair cannot hold the configured sends (plus RDMA
    /// read/write work and one drain request) or receives (known bug 12).
    QueueTooDeep {
        /// The work requests needed.
        needed: u32,
        /// The device's `max_qp_wr`.
        max_qp_wr: u32,
    },
    /// The device's completion queue cannot hold every completion.
    CqTooSmall {
        /// The completion entries needed.
        needed: u32,
        /// The device's `max_cqe`.
        max_cqe: u32,
    },
    /// The device cannot send a header and one payload segment in one work
    /// request (`max_send_sge < 2`) or receive into one buffer.
    TooFewSge,
    /// One fast-registration MR of the device cannot cover
    /// `max_read_write_size` within the MRs a transfer may use.
    ReadWriteTooLarge {
        /// The bytes the device can register for one transfer.
        max: u64,
    },
}

/// Why the engine asks the transport to tear the connection down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The local upper layer closed the connection.
    LocalClose,
    /// The transport reported that the peer disconnected.
    PeerDisconnected,
    /// The negotiate exchange did not finish in time.
    NegotiateTimeout,
    /// The server refused the negotiate request with a failure response.
    NegotiateRefused {
        /// The NTSTATUS value sent or received.
        status: u32,
    },
    /// The peer did not answer a keepalive in time (§3.1.2.2).
    IdleTimeout,
    /// A message from the peer violated a wire-format rule.
    Decode(DecodeError),
    /// The peer violated a connection-state rule.
    Protocol(ProtocolError),
    /// The transport violated the engine API contract.
    Misuse(LocalError),
    /// A send or receive work request failed in the transport.
    TransportFailure,
}

/// Any error an engine input can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// See [`DecodeError`].
    Decode(DecodeError),
    /// See [`ProtocolError`].
    Protocol(ProtocolError),
    /// See [`LocalError`].
    Local(LocalError),
    /// The connection is closed; the input was ignored.
    Closed,
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

impl From<LocalError> for Error {
    fn from(e: LocalError) -> Self {
        Error::Local(e)
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A memory-registration or RDMA read/write plan cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MrError {
    /// The I/O has no segment.
    NoSegments,
    /// A segment has length zero.
    ZeroLengthSegment {
        /// The index of the segment.
        index: u32,
    },
    /// A segment's address + length overflows 64 bits.
    SegmentOverflow {
        /// The index of the segment.
        index: u32,
    },
    /// The I/O is longer than the negotiated MaxReadWriteSize.
    TooLarge {
        /// The I/O length.
        len: u64,
        /// The largest allowed length.
        max: u32,
    },
    /// The plan needs more memory regions than the caller provided room for.
    TooManyMrs {
        /// The room the caller provided.
        max: u32,
    },
    /// A device limit is zero, or the page size is not a power of two.
    BadLimits,
    /// The number of registrations does not match the number of regions.
    RegistrationMismatch {
        /// The number of regions planned.
        spans: u32,
        /// The number of registrations given.
        registrations: u32,
    },
    /// The output buffer is too small.
    BufferTooSmall {
        /// The bytes needed.
        needed: u32,
        /// The bytes available.
        got: u32,
    },
    /// The local buffer is shorter than the transfer.
    LocalTooShort {
        /// The length of the local buffer.
        have: u64,
        /// The length of the transfer.
        need: u64,
    },
    /// The transfer is longer than the remote descriptors.
    RemoteTooShort {
        /// The sum of the descriptor lengths.
        have: u64,
        /// The length of the transfer.
        need: u64,
    },
}
