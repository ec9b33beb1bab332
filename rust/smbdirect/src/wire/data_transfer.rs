// SPDX-License-Identifier: GPL-2.0

//! The data transfer message (§2.2.3).

use super::SMB_DIRECT_RESPONSE_REQUESTED;
use super::{check_len, get_u16, get_u32, set_u16, set_u32, DecodeError};

/// Byte ranges of the data transfer header fields (§2.2.3).
mod field {
    use super::super::Field;

    pub(super) const CREDITS_REQUESTED: Field = 0..2;
    pub(super) const CREDITS_GRANTED: Field = 2..4;
    pub(super) const FLAGS: Field = 4..6;
    pub(super) const RESERVED: Field = 6..8;
    pub(super) const REMAINING_DATA_LENGTH: Field = 8..12;
    pub(super) const DATA_OFFSET: Field = 12..16;
    pub(super) const DATA_LENGTH: Field = 16..20;
    pub(super) const PADDING: Field = 20..24;
}

/// A read/write view of a data transfer message (§2.2.3).
#[derive(Debug, Clone)]
pub struct DataTransfer<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DataTransfer<T> {
    /// The length of the header without padding, used by empty messages.
    pub const MIN_HEADER_LEN: usize = 20;

    /// The DataOffset of every message with payload that this engine sends
    /// (the 20-byte header padded to an 8-byte boundary, §3.1.5.1).
    pub const DATA_OFFSET: u32 = 24;

    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        DataTransfer { buffer }
    }

    /// Wraps a buffer after checking that every header field is inside it.
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the 20-byte header.
    pub fn check_len(&self) -> Result<(), DecodeError> {
        check_len(self.buffer.as_ref(), Self::MIN_HEADER_LEN)
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Returns the CreditsRequested field (a total, not an increment).
    pub fn credits_requested(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CREDITS_REQUESTED)
    }

    /// Returns the CreditsGranted field (an increment).
    pub fn credits_granted(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CREDITS_GRANTED)
    }

    /// Returns the Flags field.
    pub fn flags(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::FLAGS)
    }

    /// Returns the Reserved field.
    pub fn reserved(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::RESERVED)
    }

    /// Returns the RemainingDataLength field.
    pub fn remaining_data_length(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::REMAINING_DATA_LENGTH)
    }

    /// Returns the DataOffset field.
    pub fn data_offset(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::DATA_OFFSET)
    }

    /// Returns the DataLength field.
    pub fn data_length(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::DATA_LENGTH)
    }

    /// Returns the payload, or an empty slice if the fields point outside
    /// the buffer.
    pub fn payload(&self) -> &[u8] {
        let start = self.data_offset() as usize;
        let end = start.saturating_add(self.data_length() as usize);
        self.buffer.as_ref().get(start..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DataTransfer<T> {
    /// Sets the CreditsRequested field.
    pub fn set_credits_requested(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CREDITS_REQUESTED, value)
    }

    /// Sets the CreditsGranted field.
    pub fn set_credits_granted(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CREDITS_GRANTED, value)
    }

    /// Sets the Flags field.
    pub fn set_flags(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::FLAGS, value)
    }

    /// Sets the Reserved field.
    pub fn set_reserved(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::RESERVED, value)
    }

    /// Sets the RemainingDataLength field.
    pub fn set_remaining_data_length(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::REMAINING_DATA_LENGTH, value)
    }

    /// Sets the DataOffset field.
    pub fn set_data_offset(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::DATA_OFFSET, value)
    }

    /// Sets the DataLength field.
    pub fn set_data_length(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::DATA_LENGTH, value)
    }
}

/// The validated header of a data transfer message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataTransferRepr {
    /// The total number of send credits the sender wants to hold.
    pub credits_requested: u16,
    /// The number of new send credits granted to the receiver.
    pub credits_granted: u16,
    /// The Flags field; only `SMB_DIRECT_RESPONSE_REQUESTED` is defined.
    pub flags: u16,
    /// The bytes of the upper-layer message still to come after this one.
    pub remaining_data_length: u32,
    /// The offset of the payload from the start of the message, 0 if none.
    pub data_offset: u32,
    /// The number of payload bytes in this message.
    pub data_length: u32,
}

impl DataTransferRepr {
    /// Parses a received message and applies the checks of §3.1.5.8.
    ///
    /// `packet` must wrap exactly the received bytes. The checks are the
    /// per-message ones: at least 20 bytes, CreditsRequested >= 1,
    /// DataOffset 8-byte aligned, a payload that starts after the header and
    /// ends inside the message (without 32-bit overflow), and no
    /// RemainingDataLength without payload. Reserved and unknown flag bits
    /// are ignored, as §2.2.3 requires of a receiver. DataLength +
    /// RemainingDataLength against Connection.MaxFragmentedRecvSize is a
    /// rule of the connection: the engine checks it (`Engine::on_recv`).
    pub fn parse<T: AsRef<[u8]>>(packet: &DataTransfer<T>) -> Result<Self, DecodeError> {
        packet.check_len()?;
        let received = u32::try_from(packet.buffer.as_ref().len()).unwrap_or(u32::MAX);
        let repr = DataTransferRepr {
            credits_requested: packet.credits_requested(),
            credits_granted: packet.credits_granted(),
            flags: packet.flags(),
            remaining_data_length: packet.remaining_data_length(),
            data_offset: packet.data_offset(),
            data_length: packet.data_length(),
        };
        if repr.credits_requested == 0 {
            return Err(DecodeError::ZeroCreditsRequested);
        }
        if repr.data_offset % 8 != 0 {
            return Err(DecodeError::MisalignedDataOffset {
                offset: repr.data_offset,
            });
        }
        if repr.data_length == 0 {
            if repr.remaining_data_length != 0 {
                return Err(DecodeError::RemainingWithoutData {
                    remaining: repr.remaining_data_length,
                });
            }
            return Ok(repr);
        }
        if (repr.data_offset as usize) < DataTransfer::<&[u8]>::MIN_HEADER_LEN {
            return Err(DecodeError::DataOffsetInHeader {
                offset: repr.data_offset,
            });
        }
        let end = repr.data_offset.checked_add(repr.data_length).ok_or(
            DecodeError::DataOffsetOverflow {
                offset: repr.data_offset,
                length: repr.data_length,
            },
        )?;
        if end > received {
            return Err(DecodeError::DataOutOfBounds { end, received });
        }
        Ok(repr)
    }

    /// Returns true if the sender asked for a prompt reply.
    pub const fn response_requested(&self) -> bool {
        self.flags & SMB_DIRECT_RESPONSE_REQUESTED != 0
    }

    /// Returns the header length `emit` writes: 20 bytes for an empty
    /// message, DataOffset bytes (header and padding) otherwise.
    pub fn header_len(&self) -> usize {
        if self.data_length == 0 {
            DataTransfer::<&[u8]>::MIN_HEADER_LEN
        } else {
            (self.data_offset as usize).max(DataTransfer::<&[u8]>::MIN_HEADER_LEN)
        }
    }

    /// Returns the length of the whole message, header plus payload.
    pub fn buffer_len(&self) -> usize {
        if self.data_length == 0 {
            self.header_len()
        } else {
            self.header_len().saturating_add(self.data_length as usize)
        }
    }

    /// Writes the header (and zeroed padding) into a view whose buffer holds
    /// at least `header_len` bytes; the payload is not touched.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut DataTransfer<T>) {
        packet.set_credits_requested(self.credits_requested);
        packet.set_credits_granted(self.credits_granted);
        packet.set_flags(self.flags);
        packet.set_reserved(0);
        packet.set_remaining_data_length(self.remaining_data_length);
        packet.set_data_offset(self.data_offset);
        packet.set_data_length(self.data_length);
        if self.data_length != 0 {
            let pad_end = self.header_len();
            let buf = packet.buffer.as_mut();
            if let Some(pad) = buf.get_mut(field::PADDING.start..pad_end) {
                pad.fill(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_FRAG: u32 = 1_048_576;

    fn msg(
        requested: u16,
        remaining: u32,
        offset: u32,
        length: u32,
        total_len: usize,
    ) -> std::vec::Vec<u8> {
        let mut b = std::vec![0u8; total_len];
        let mut p = DataTransfer::new_unchecked(&mut b[..]);
        p.set_credits_requested(requested);
        p.set_credits_granted(1);
        p.set_remaining_data_length(remaining);
        p.set_data_offset(offset);
        p.set_data_length(length);
        b
    }

    fn parse(b: &[u8]) -> Result<DataTransferRepr, DecodeError> {
        DataTransferRepr::parse(&DataTransfer::new_unchecked(b))
    }

    /// §2.2.3: field layout of a message with payload at offset 24.
    #[test]
    fn layout_round_trip() {
        let repr = DataTransferRepr {
            credits_requested: 255,
            credits_granted: 7,
            flags: SMB_DIRECT_RESPONSE_REQUESTED,
            remaining_data_length: 1000,
            data_offset: 24,
            data_length: 4,
        };
        let mut b = [0xffu8; 28];
        repr.emit(&mut DataTransfer::new_unchecked(&mut b[..]));
        assert_eq!(
            &b[..24],
            &[255, 0, 7, 0, 1, 0, 0, 0, 0xe8, 3, 0, 0, 24, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(parse(&b), Ok(repr));
        assert!(repr.response_requested());
        assert_eq!(repr.header_len(), 24);
        assert_eq!(repr.buffer_len(), 28);
        assert_eq!(DataTransfer::new_unchecked(&b[..]).payload(), &[0xff; 4]);
    }

    /// §3.1.5.1: an empty message is the 20-byte header alone.
    #[test]
    fn empty_message() {
        let b = msg(10, 0, 0, 0, 20);
        let r = parse(&b).unwrap();
        assert_eq!(r.data_length, 0);
        assert_eq!(r.header_len(), 20);
    }

    /// §3.1.5.8: a message shorter than 20 bytes is refused.
    #[test]
    fn truncated() {
        let b = msg(10, 0, 0, 0, 20);
        assert_eq!(
            parse(&b[..19]),
            Err(DecodeError::Truncated {
                needed: 20,
                got: 19
            })
        );
    }

    /// §3.1.5.8: CreditsRequested 0 is refused (Linux 6.12 does not check).
    #[test]
    fn credits_requested_zero_refused() {
        let b = msg(0, 0, 24, 4, 28);
        assert_eq!(parse(&b), Err(DecodeError::ZeroCreditsRequested));
    }

    /// §3.1.5.8: a DataOffset that is not 8-byte aligned is refused (Linux
    /// 6.12 does not check).
    #[test]
    fn data_offset_misaligned_refused() {
        let b = msg(1, 0, 20, 4, 28);
        assert_eq!(
            parse(&b),
            Err(DecodeError::MisalignedDataOffset { offset: 20 })
        );
        let b = msg(1, 0, 25, 1, 28);
        assert_eq!(
            parse(&b),
            Err(DecodeError::MisalignedDataOffset { offset: 25 })
        );
    }

    /// §2.2.3: a payload must not overlap the header.
    #[test]
    fn data_offset_in_header() {
        let b = msg(1, 0, 16, 4, 28);
        assert_eq!(
            parse(&b),
            Err(DecodeError::DataOffsetInHeader { offset: 16 })
        );
        let b = msg(1, 0, 0, 4, 28);
        assert_eq!(
            parse(&b),
            Err(DecodeError::DataOffsetInHeader { offset: 0 })
        );
    }

    /// §3.1.5.8: DataOffset + DataLength must not wrap around 32 bits
    /// (CVE-2025-39943 class).
    #[test]
    fn u32_overflow_in_offset_plus_length_refused() {
        let b = msg(1, 0, 0xffff_fff8, 0x10, 28);
        assert_eq!(
            parse(&b),
            Err(DecodeError::DataOffsetOverflow {
                offset: 0xffff_fff8,
                length: 0x10
            })
        );
    }

    /// §3.1.5.8: DataOffset + DataLength must be within the received bytes.
    #[test]
    fn data_out_of_bounds() {
        let b = msg(1, 0, 24, 5, 28);
        assert_eq!(
            parse(&b),
            Err(DecodeError::DataOutOfBounds {
                end: 29,
                received: 28
            })
        );
        let b = msg(1, 0, 32, 1, 28);
        assert!(matches!(
            parse(&b),
            Err(DecodeError::DataOutOfBounds { .. })
        ));
    }

    /// §3.1.5.8's DataLength + RemainingDataLength bound is the
    /// connection's MaxFragmentedRecvSize, checked by the engine
    /// (`remaining_plus_length_over_max_refused` in tests/regressions.rs):
    /// the parser judges the message alone, even when the sum wraps.
    #[test]
    fn fragmented_size_left_to_the_engine() {
        let b = msg(1, MAX_FRAG - 3, 24, 4, 28);
        assert!(parse(&b).is_ok());
        let b = msg(1, u32::MAX, 24, 4, 28);
        assert_eq!(parse(&b).unwrap().remaining_data_length, u32::MAX);
    }

    /// §3.1.5.1: an empty message has RemainingDataLength 0.
    #[test]
    fn remaining_without_data() {
        let b = msg(1, 100, 0, 0, 20);
        assert_eq!(
            parse(&b),
            Err(DecodeError::RemainingWithoutData { remaining: 100 })
        );
    }

    /// §2.2.3: Reserved and undefined flags are ignored on receipt.
    #[test]
    fn reserved_and_unknown_flags_ignored() {
        let mut b = msg(1, 0, 24, 4, 28);
        let mut p = DataTransfer::new_unchecked(&mut b[..]);
        p.set_reserved(0x5555);
        p.set_flags(0xfffe);
        let r = parse(&b).unwrap();
        assert!(!r.response_requested());
    }

    /// Accessors never panic on short buffers: they read zero.
    #[test]
    fn short_buffer_accessors() {
        let p = DataTransfer::new_unchecked(&[1u8, 2, 3][..]);
        assert_eq!(p.data_length(), 0);
        assert_eq!(p.credits_requested(), 0x0201);
        assert_eq!(p.payload(), &[] as &[u8]);
    }
}
