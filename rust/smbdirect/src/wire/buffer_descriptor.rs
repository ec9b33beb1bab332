// SPDX-License-Identifier: GPL-2.0

//! The buffer descriptor (§2.2.3.1) that SMB2 READ and WRITE embed.

use super::{check_len, get_u32, get_u64, set_u32, set_u64, DecodeError};

/// Byte ranges of the buffer descriptor fields (§2.2.3.1).
mod field {
    use super::super::Field;

    pub(super) const OFFSET: Field = 0..8;
    pub(super) const TOKEN: Field = 8..12;
    pub(super) const LENGTH: Field = 12..16;
    pub(super) const LEN: usize = 16;
}

/// A read/write view of one `SMB_DIRECT_BUFFER_DESCRIPTOR_V1` (§2.2.3.1).
#[derive(Debug, Clone)]
pub struct BufferDescriptorV1<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> BufferDescriptorV1<T> {
    /// The length of a buffer descriptor in bytes.
    pub const LEN: usize = field::LEN;

    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        BufferDescriptorV1 { buffer }
    }

    /// Wraps a buffer after checking that it holds 16 bytes.
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds the 16 bytes of a descriptor.
    pub fn check_len(&self) -> Result<(), DecodeError> {
        check_len(self.buffer.as_ref(), field::LEN)
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Returns the Offset field (the remote address, e.g. an MR's iova).
    pub fn offset(&self) -> u64 {
        get_u64(self.buffer.as_ref(), field::OFFSET)
    }

    /// Returns the Token field (the steering tag, e.g. an MR's rkey).
    pub fn token(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::TOKEN)
    }

    /// Returns the Length field.
    pub fn length(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::LENGTH)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> BufferDescriptorV1<T> {
    /// Sets the Offset field.
    pub fn set_offset(&mut self, value: u64) {
        set_u64(self.buffer.as_mut(), field::OFFSET, value)
    }

    /// Sets the Token field.
    pub fn set_token(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::TOKEN, value)
    }

    /// Sets the Length field.
    pub fn set_length(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::LENGTH, value)
    }
}

/// The content of one buffer descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferDescriptorV1Repr {
    /// The remote address of the first byte.
    pub offset: u64,
    /// The steering tag (rkey) of the registered memory.
    pub token: u32,
    /// The number of bytes described.
    pub length: u32,
}

impl BufferDescriptorV1Repr {
    /// Parses one descriptor; a zero Length or an Offset + Length that
    /// overflows 64 bits is refused.
    pub fn parse<T: AsRef<[u8]>>(packet: &BufferDescriptorV1<T>) -> Result<Self, DecodeError> {
        Self::parse_at(packet, 0)
    }

    fn parse_at<T: AsRef<[u8]>>(
        packet: &BufferDescriptorV1<T>,
        index: u32,
    ) -> Result<Self, DecodeError> {
        packet.check_len()?;
        let repr = BufferDescriptorV1Repr {
            offset: packet.offset(),
            token: packet.token(),
            length: packet.length(),
        };
        if repr.length == 0 {
            return Err(DecodeError::ZeroLengthDescriptor { index });
        }
        if repr.offset.checked_add(u64::from(repr.length)).is_none() {
            return Err(DecodeError::DescriptorOverflow { index });
        }
        Ok(repr)
    }

    /// Returns the number of bytes `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        field::LEN
    }

    /// Writes the descriptor into a view whose buffer holds 16 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut BufferDescriptorV1<T>) {
        packet.set_offset(self.offset);
        packet.set_token(self.token);
        packet.set_length(self.length);
    }
}

/// A validated array of buffer descriptors, as found in the channel info of
/// an SMB2 READ or WRITE request.
#[derive(Debug, Clone, Copy)]
pub struct DescriptorList<'a> {
    bytes: &'a [u8],
    total: u64,
    /// The length of the last descriptor used, after clamping.
    last_len: u32,
}

impl<'a> DescriptorList<'a> {
    /// Validates a channel-info byte slice.
    ///
    /// It is refused if it is empty, not a multiple of 16 bytes, holds more
    /// than `max_descriptors` entries, holds a zero-length descriptor or one
    /// whose Offset + Length overflows, or if the lengths add up to less than
    /// `expected_len` (the I/O length of the request). Descriptors adding up
    /// to more are clamped as ksmbd's `smb_direct_rdma_xmit` does: the list
    /// ends with the descriptor that reaches `expected_len`, shortened to
    /// end there, and the descriptors after it are not used.
    pub fn parse(
        bytes: &'a [u8],
        expected_len: u64,
        max_descriptors: u32,
    ) -> Result<Self, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::NoDescriptors);
        }
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        if bytes.len() % field::LEN != 0 {
            return Err(DecodeError::DescriptorListLength { len });
        }
        let count = len / 16;
        if count > max_descriptors {
            return Err(DecodeError::TooManyDescriptors {
                count,
                max: max_descriptors,
            });
        }
        let mut total: u64 = 0;
        let mut used: Option<(usize, u32)> = None;
        for (index, chunk) in (0u32..).zip(bytes.chunks_exact(field::LEN)) {
            let d =
                BufferDescriptorV1Repr::parse_at(&BufferDescriptorV1::new_unchecked(chunk), index)?;
            if used.is_none() {
                let left = expected_len.saturating_sub(total);
                if u64::from(d.length) >= left {
                    let n = usize::try_from(index)
                        .unwrap_or(usize::MAX)
                        .saturating_add(1);
                    // `left` <= d.length, so it fits in 32 bits.
                    used = Some((n, u32::try_from(left).unwrap_or(d.length)));
                }
            }
            // At most 2^32 entries of less than 2^32 bytes each: no overflow.
            total = total.saturating_add(u64::from(d.length));
        }
        let Some((used, last_len)) = used.filter(|&(_, last)| last > 0) else {
            return Err(DecodeError::DescriptorsTooShort {
                total,
                expected: expected_len,
            });
        };
        let bytes = bytes
            .get(..used.saturating_mul(field::LEN))
            .unwrap_or(bytes);
        Ok(DescriptorList {
            bytes,
            total: expected_len,
            last_len,
        })
    }

    /// Returns the number of descriptors.
    pub fn len(&self) -> usize {
        self.bytes.len() / field::LEN
    }

    /// Returns true if the list has no descriptor (never, once validated).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Returns the sum of the descriptor lengths used, the I/O length.
    pub fn total_len(&self) -> u64 {
        self.total
    }

    /// Returns the descriptor at `index`, if any, the last one clamped.
    pub fn get(&self, index: usize) -> Option<BufferDescriptorV1Repr> {
        let start = index.checked_mul(field::LEN)?;
        let chunk = self.bytes.get(start..start.checked_add(field::LEN)?)?;
        let p = BufferDescriptorV1::new_unchecked(chunk);
        let last = start.checked_add(field::LEN)? == self.bytes.len();
        Some(BufferDescriptorV1Repr {
            offset: p.offset(),
            token: p.token(),
            length: if last { self.last_len } else { p.length() },
        })
    }

    /// Iterates over the descriptors used, the last one clamped.
    pub fn iter(&self) -> impl Iterator<Item = BufferDescriptorV1Repr> + 'a {
        let list = *self;
        (0..self.len()).filter_map(move |i| list.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(descs: &[(u64, u32, u32)]) -> std::vec::Vec<u8> {
        let mut out = std::vec![0u8; descs.len() * 16];
        for (i, (o, t, l)) in descs.iter().enumerate() {
            let r = BufferDescriptorV1Repr {
                offset: *o,
                token: *t,
                length: *l,
            };
            r.emit(&mut BufferDescriptorV1::new_unchecked(
                &mut out[i * 16..i * 16 + 16],
            ));
        }
        out
    }

    /// §2.2.3.1 layout: Offset u64, Token u32, Length u32.
    #[test]
    fn layout_round_trip() {
        let b = list(&[(0x1122_3344_5566_7788, 0xaabb_ccdd, 4096)]);
        assert_eq!(
            b,
            [
                0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xdd, 0xcc, 0xbb, 0xaa, 0, 0x10, 0,
                0
            ]
        );
        let r = BufferDescriptorV1Repr::parse(&BufferDescriptorV1::new_checked(&b[..]).unwrap());
        assert_eq!(r.unwrap().length, 4096);
        assert!(BufferDescriptorV1::new_checked(&b[..15]).is_err());
    }

    #[test]
    fn list_ok() {
        let b = list(&[(0x1000, 1, 100), (0x9000, 2, 200)]);
        let l = DescriptorList::parse(&b, 300, 4).unwrap();
        assert_eq!(l.len(), 2);
        assert!(!l.is_empty());
        assert_eq!(l.total_len(), 300);
        assert_eq!(l.get(1).unwrap().token, 2);
        assert_eq!(l.get(2), None);
        assert_eq!(l.iter().count(), 2);
    }

    /// Known bug 3: a descriptor count of 0 is refused.
    #[test]
    fn count_zero() {
        assert_eq!(
            DescriptorList::parse(&[], 0, 4).unwrap_err(),
            DecodeError::NoDescriptors
        );
    }

    /// Known bug 3: a length that is not a multiple of 16 is refused.
    #[test]
    fn misaligned_length() {
        let b = list(&[(0x1000, 1, 100)]);
        assert_eq!(
            DescriptorList::parse(&b[..15], 100, 4).unwrap_err(),
            DecodeError::DescriptorListLength { len: 15 }
        );
        let mut b2 = b.clone();
        b2.push(0);
        assert_eq!(
            DescriptorList::parse(&b2, 100, 4).unwrap_err(),
            DecodeError::DescriptorListLength { len: 17 }
        );
    }

    /// Known bug 3: a zero-length descriptor is refused.
    #[test]
    fn zero_length() {
        let b = list(&[(0x1000, 1, 100), (0x2000, 1, 0)]);
        assert_eq!(
            DescriptorList::parse(&b, 100, 4).unwrap_err(),
            DecodeError::ZeroLengthDescriptor { index: 1 }
        );
    }

    #[test]
    fn offset_overflow() {
        let b = list(&[(u64::MAX - 10, 1, 100)]);
        assert_eq!(
            DescriptorList::parse(&b, 100, 4).unwrap_err(),
            DecodeError::DescriptorOverflow { index: 0 }
        );
    }

    /// Known bug 3: more descriptors than allowed are refused.
    #[test]
    fn too_many() {
        let b = list(&[(0, 1, 1), (0, 1, 1), (0, 1, 1)]);
        assert_eq!(
            DescriptorList::parse(&b, 3, 2).unwrap_err(),
            DecodeError::TooManyDescriptors { count: 3, max: 2 }
        );
    }

    /// Known bug 3: lengths summing to less than the request are refused.
    #[test]
    fn total_mismatch() {
        let b = list(&[(0x1000, 1, 100), (0x9000, 2, 200)]);
        assert_eq!(
            DescriptorList::parse(&b, 301, 4).unwrap_err(),
            DecodeError::DescriptorsTooShort {
                total: 300,
                expected: 301
            }
        );
        // Longer than the I/O: clamped as ksmbd does.
        let l = DescriptorList::parse(&b, 299, 4).unwrap();
        assert_eq!((l.len(), l.total_len()), (2, 299));
        assert_eq!(l.get(1).unwrap().length, 199);
    }
}
