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
    /// A buffer descriptor list has more entries than allowed.
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
    /// The descriptors of a list add up to more than the I/O length.
    DescriptorsTooLong {
        /// The sum of the descriptor lengths.
        total: u64,
        /// The I/O length.
        expected: u64,
    },
}

/// A peer breaks a rule of the connection state of [MS-SMBD].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// A caller of the engine breaks the API contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalError {
    /// A receive completed but the engine had no receive posted.
    UnexpectedReceive,
    /// A send completed but the engine had no send in flight.
    UnexpectedSendCompletion,
    /// A send completion carried a token of no message in flight.
    UnknownSendToken,
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
    /// The send queue is full; retry after a `MessageSent` action.
    QueueFull,
}

/// A configuration value is out of the range the protocol allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// Why the engine asks the transport to tear the connection down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// Two segments meet at a point a fast-registration MR cannot express:
    /// they are not contiguous, and the first does not end or the second
    /// does not start on a page boundary.
    Gap {
        /// The index of the second segment.
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
