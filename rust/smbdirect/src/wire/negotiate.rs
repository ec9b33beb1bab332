// SPDX-License-Identifier: GPL-2.0

//! The negotiate request (§2.2.1) and negotiate response (§2.2.2).

use super::{
    check_len, get_u16, get_u32, set_u16, set_u32, DecodeError, MIN_FRAGMENTED_SIZE,
    MIN_RECEIVE_SIZE, SMBD_VERSION_1, STATUS_SUCCESS,
};

/// Byte ranges of the negotiate request fields (§2.2.1).
mod req_field {
    use super::super::Field;

    pub(super) const MIN_VERSION: Field = 0..2;
    pub(super) const MAX_VERSION: Field = 2..4;
    pub(super) const RESERVED: Field = 4..6;
    pub(super) const CREDITS_REQUESTED: Field = 6..8;
    pub(super) const PREFERRED_SEND_SIZE: Field = 8..12;
    pub(super) const MAX_RECEIVE_SIZE: Field = 12..16;
    pub(super) const MAX_FRAGMENTED_SIZE: Field = 16..20;
    pub(super) const LEN: usize = 20;
}

/// Byte ranges of the negotiate response fields (§2.2.2).
mod resp_field {
    use super::super::Field;

    pub(super) const MIN_VERSION: Field = 0..2;
    pub(super) const MAX_VERSION: Field = 2..4;
    pub(super) const NEGOTIATED_VERSION: Field = 4..6;
    pub(super) const RESERVED: Field = 6..8;
    pub(super) const CREDITS_REQUESTED: Field = 8..10;
    pub(super) const CREDITS_GRANTED: Field = 10..12;
    pub(super) const STATUS: Field = 12..16;
    pub(super) const MAX_READ_WRITE_SIZE: Field = 16..20;
    pub(super) const PREFERRED_SEND_SIZE: Field = 20..24;
    pub(super) const MAX_RECEIVE_SIZE: Field = 24..28;
    pub(super) const MAX_FRAGMENTED_SIZE: Field = 28..32;
    pub(super) const LEN: usize = 32;
}

/// A read/write view of a negotiate request (§2.2.1).
#[derive(Debug, Clone)]
pub struct NegotiateRequest<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NegotiateRequest<T> {
    /// The length of a negotiate request in bytes.
    pub const LEN: usize = req_field::LEN;

    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        NegotiateRequest { buffer }
    }

    /// Wraps a buffer after checking that every field is inside it.
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds all 20 bytes of the request.
    pub fn check_len(&self) -> Result<(), DecodeError> {
        check_len(self.buffer.as_ref(), req_field::LEN)
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Returns the MinVersion field.
    pub fn min_version(&self) -> u16 {
        get_u16(self.buffer.as_ref(), req_field::MIN_VERSION)
    }

    /// Returns the MaxVersion field.
    pub fn max_version(&self) -> u16 {
        get_u16(self.buffer.as_ref(), req_field::MAX_VERSION)
    }

    /// Returns the Reserved field.
    pub fn reserved(&self) -> u16 {
        get_u16(self.buffer.as_ref(), req_field::RESERVED)
    }

    /// Returns the CreditsRequested field.
    pub fn credits_requested(&self) -> u16 {
        get_u16(self.buffer.as_ref(), req_field::CREDITS_REQUESTED)
    }

    /// Returns the PreferredSendSize field.
    pub fn preferred_send_size(&self) -> u32 {
        get_u32(self.buffer.as_ref(), req_field::PREFERRED_SEND_SIZE)
    }

    /// Returns the MaxReceiveSize field.
    pub fn max_receive_size(&self) -> u32 {
        get_u32(self.buffer.as_ref(), req_field::MAX_RECEIVE_SIZE)
    }

    /// Returns the MaxFragmentedSize field.
    pub fn max_fragmented_size(&self) -> u32 {
        get_u32(self.buffer.as_ref(), req_field::MAX_FRAGMENTED_SIZE)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NegotiateRequest<T> {
    /// Sets the MinVersion field.
    pub fn set_min_version(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), req_field::MIN_VERSION, value)
    }

    /// Sets the MaxVersion field.
    pub fn set_max_version(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), req_field::MAX_VERSION, value)
    }

    /// Sets the Reserved field.
    pub fn set_reserved(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), req_field::RESERVED, value)
    }

    /// Sets the CreditsRequested field.
    pub fn set_credits_requested(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), req_field::CREDITS_REQUESTED, value)
    }

    /// Sets the PreferredSendSize field.
    pub fn set_preferred_send_size(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), req_field::PREFERRED_SEND_SIZE, value)
    }

    /// Sets the MaxReceiveSize field.
    pub fn set_max_receive_size(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), req_field::MAX_RECEIVE_SIZE, value)
    }

    /// Sets the MaxFragmentedSize field.
    pub fn set_max_fragmented_size(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), req_field::MAX_FRAGMENTED_SIZE, value)
    }
}

/// The validated content of a negotiate request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiateRequestRepr {
    /// The lowest protocol version the sender supports.
    pub min_version: u16,
    /// The highest protocol version the sender supports.
    pub max_version: u16,
    /// The number of send credits the sender asks for.
    pub credits_requested: u16,
    /// The largest message the sender wants to send.
    pub preferred_send_size: u32,
    /// The largest message the sender can receive.
    pub max_receive_size: u32,
    /// The largest reassembled upper-layer message the sender can receive.
    pub max_fragmented_size: u32,
}

impl NegotiateRequestRepr {
    /// Parses a request and applies the receiver checks of §3.1.5.6.
    ///
    /// A version range without 0x0100 returns `UnsupportedVersion`, which
    /// the server answers with a failure response; every other error means
    /// the connection is terminated without a response. The Reserved field
    /// is ignored, as §2.2.1 requires of a receiver.
    pub fn parse<T: AsRef<[u8]>>(packet: &NegotiateRequest<T>) -> Result<Self, DecodeError> {
        packet.check_len()?;
        let repr = NegotiateRequestRepr {
            min_version: packet.min_version(),
            max_version: packet.max_version(),
            credits_requested: packet.credits_requested(),
            preferred_send_size: packet.preferred_send_size(),
            max_receive_size: packet.max_receive_size(),
            max_fragmented_size: packet.max_fragmented_size(),
        };
        if repr.min_version > SMBD_VERSION_1 || repr.max_version < SMBD_VERSION_1 {
            return Err(DecodeError::UnsupportedVersion {
                min: repr.min_version,
                max: repr.max_version,
            });
        }
        if repr.credits_requested == 0 {
            return Err(DecodeError::ZeroCreditsRequested);
        }
        if repr.max_receive_size < MIN_RECEIVE_SIZE {
            return Err(DecodeError::MaxReceiveSizeTooSmall {
                value: repr.max_receive_size,
            });
        }
        if repr.max_fragmented_size < MIN_FRAGMENTED_SIZE {
            return Err(DecodeError::MaxFragmentedSizeTooSmall {
                value: repr.max_fragmented_size,
            });
        }
        Ok(repr)
    }

    /// Returns the number of bytes `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        req_field::LEN
    }

    /// Writes the request into a view whose buffer holds `buffer_len` bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut NegotiateRequest<T>) {
        packet.set_min_version(self.min_version);
        packet.set_max_version(self.max_version);
        packet.set_reserved(0);
        packet.set_credits_requested(self.credits_requested);
        packet.set_preferred_send_size(self.preferred_send_size);
        packet.set_max_receive_size(self.max_receive_size);
        packet.set_max_fragmented_size(self.max_fragmented_size);
    }
}

/// A read/write view of a negotiate response (§2.2.2).
#[derive(Debug, Clone)]
pub struct NegotiateResponse<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NegotiateResponse<T> {
    /// The length of a negotiate response in bytes.
    pub const LEN: usize = resp_field::LEN;

    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        NegotiateResponse { buffer }
    }

    /// Wraps a buffer after checking that every field is inside it.
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the buffer holds all 32 bytes of the response.
    pub fn check_len(&self) -> Result<(), DecodeError> {
        check_len(self.buffer.as_ref(), resp_field::LEN)
    }

    /// Returns the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Returns the MinVersion field.
    pub fn min_version(&self) -> u16 {
        get_u16(self.buffer.as_ref(), resp_field::MIN_VERSION)
    }

    /// Returns the MaxVersion field.
    pub fn max_version(&self) -> u16 {
        get_u16(self.buffer.as_ref(), resp_field::MAX_VERSION)
    }

    /// Returns the NegotiatedVersion field.
    pub fn negotiated_version(&self) -> u16 {
        get_u16(self.buffer.as_ref(), resp_field::NEGOTIATED_VERSION)
    }

    /// Returns the Reserved field.
    pub fn reserved(&self) -> u16 {
        get_u16(self.buffer.as_ref(), resp_field::RESERVED)
    }

    /// Returns the CreditsRequested field.
    pub fn credits_requested(&self) -> u16 {
        get_u16(self.buffer.as_ref(), resp_field::CREDITS_REQUESTED)
    }

    /// Returns the CreditsGranted field.
    pub fn credits_granted(&self) -> u16 {
        get_u16(self.buffer.as_ref(), resp_field::CREDITS_GRANTED)
    }

    /// Returns the Status field (an NTSTATUS value).
    pub fn status(&self) -> u32 {
        get_u32(self.buffer.as_ref(), resp_field::STATUS)
    }

    /// Returns the MaxReadWriteSize field.
    pub fn max_read_write_size(&self) -> u32 {
        get_u32(self.buffer.as_ref(), resp_field::MAX_READ_WRITE_SIZE)
    }

    /// Returns the PreferredSendSize field.
    pub fn preferred_send_size(&self) -> u32 {
        get_u32(self.buffer.as_ref(), resp_field::PREFERRED_SEND_SIZE)
    }

    /// Returns the MaxReceiveSize field.
    pub fn max_receive_size(&self) -> u32 {
        get_u32(self.buffer.as_ref(), resp_field::MAX_RECEIVE_SIZE)
    }

    /// Returns the MaxFragmentedSize field.
    pub fn max_fragmented_size(&self) -> u32 {
        get_u32(self.buffer.as_ref(), resp_field::MAX_FRAGMENTED_SIZE)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NegotiateResponse<T> {
    /// Sets the MinVersion field.
    pub fn set_min_version(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), resp_field::MIN_VERSION, value)
    }

    /// Sets the MaxVersion field.
    pub fn set_max_version(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), resp_field::MAX_VERSION, value)
    }

    /// Sets the NegotiatedVersion field.
    pub fn set_negotiated_version(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), resp_field::NEGOTIATED_VERSION, value)
    }

    /// Sets the Reserved field.
    pub fn set_reserved(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), resp_field::RESERVED, value)
    }

    /// Sets the CreditsRequested field.
    pub fn set_credits_requested(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), resp_field::CREDITS_REQUESTED, value)
    }

    /// Sets the CreditsGranted field.
    pub fn set_credits_granted(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), resp_field::CREDITS_GRANTED, value)
    }

    /// Sets the Status field.
    pub fn set_status(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), resp_field::STATUS, value)
    }

    /// Sets the MaxReadWriteSize field.
    pub fn set_max_read_write_size(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), resp_field::MAX_READ_WRITE_SIZE, value)
    }

    /// Sets the PreferredSendSize field.
    pub fn set_preferred_send_size(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), resp_field::PREFERRED_SEND_SIZE, value)
    }

    /// Sets the MaxReceiveSize field.
    pub fn set_max_receive_size(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), resp_field::MAX_RECEIVE_SIZE, value)
    }

    /// Sets the MaxFragmentedSize field.
    pub fn set_max_fragmented_size(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), resp_field::MAX_FRAGMENTED_SIZE, value)
    }
}

/// The validated content of a negotiate response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiateResponseRepr {
    /// The lowest protocol version the server supports.
    pub min_version: u16,
    /// The highest protocol version the server supports.
    pub max_version: u16,
    /// The version the server selected.
    pub negotiated_version: u16,
    /// The number of send credits the server asks for.
    pub credits_requested: u16,
    /// The number of send credits the server grants.
    pub credits_granted: u16,
    /// The NTSTATUS result of the negotiation.
    pub status: u32,
    /// The largest RDMA read or write the server performs.
    pub max_read_write_size: u32,
    /// The largest message the server wants to send.
    pub preferred_send_size: u32,
    /// The largest message the server can receive.
    pub max_receive_size: u32,
    /// The largest reassembled upper-layer message the server can receive.
    pub max_fragmented_size: u32,
}

impl NegotiateResponseRepr {
    /// Builds the failure response of §3.1.5.3: only the version range and
    /// the status are set.
    pub const fn failure(status: u32) -> Self {
        NegotiateResponseRepr {
            min_version: SMBD_VERSION_1,
            max_version: SMBD_VERSION_1,
            negotiated_version: 0,
            credits_requested: 0,
            credits_granted: 0,
            status,
            max_read_write_size: 0,
            preferred_send_size: 0,
            max_receive_size: 0,
            max_fragmented_size: 0,
        }
    }

    /// Parses a response and applies the context-free checks of §3.1.5.7.
    ///
    /// A non-zero Status is refused first, because a failure response
    /// carries zero in the other fields (Linux 6.12 forgets this check). The
    /// check of PreferredSendSize against our own MaxReceiveSize needs the
    /// local configuration and is done by the negotiate module.
    pub fn parse<T: AsRef<[u8]>>(packet: &NegotiateResponse<T>) -> Result<Self, DecodeError> {
        packet.check_len()?;
        let repr = NegotiateResponseRepr {
            min_version: packet.min_version(),
            max_version: packet.max_version(),
            negotiated_version: packet.negotiated_version(),
            credits_requested: packet.credits_requested(),
            credits_granted: packet.credits_granted(),
            status: packet.status(),
            max_read_write_size: packet.max_read_write_size(),
            preferred_send_size: packet.preferred_send_size(),
            max_receive_size: packet.max_receive_size(),
            max_fragmented_size: packet.max_fragmented_size(),
        };
        if repr.status != STATUS_SUCCESS {
            return Err(DecodeError::NegotiateFailed {
                status: repr.status,
            });
        }
        if repr.negotiated_version != SMBD_VERSION_1 {
            return Err(DecodeError::UnsupportedVersion {
                min: repr.negotiated_version,
                max: repr.negotiated_version,
            });
        }
        if repr.credits_requested == 0 {
            return Err(DecodeError::ZeroCreditsRequested);
        }
        if repr.credits_granted == 0 {
            return Err(DecodeError::ZeroCreditsGranted);
        }
        if repr.max_receive_size < MIN_RECEIVE_SIZE {
            return Err(DecodeError::MaxReceiveSizeTooSmall {
                value: repr.max_receive_size,
            });
        }
        if repr.max_fragmented_size < MIN_FRAGMENTED_SIZE {
            return Err(DecodeError::MaxFragmentedSizeTooSmall {
                value: repr.max_fragmented_size,
            });
        }
        Ok(repr)
    }

    /// Returns the number of bytes `emit` writes.
    pub const fn buffer_len(&self) -> usize {
        resp_field::LEN
    }

    /// Writes the response into a view whose buffer holds `buffer_len` bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut NegotiateResponse<T>) {
        packet.set_min_version(self.min_version);
        packet.set_max_version(self.max_version);
        packet.set_negotiated_version(self.negotiated_version);
        packet.set_reserved(0);
        packet.set_credits_requested(self.credits_requested);
        packet.set_credits_granted(self.credits_granted);
        packet.set_status(self.status);
        packet.set_max_read_write_size(self.max_read_write_size);
        packet.set_preferred_send_size(self.preferred_send_size);
        packet.set_max_receive_size(self.max_receive_size);
        packet.set_max_fragmented_size(self.max_fragmented_size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request of the worked example in §4.1.
    fn example_request() -> NegotiateRequestRepr {
        NegotiateRequestRepr {
            min_version: 0x0100,
            max_version: 0x0100,
            credits_requested: 10,
            preferred_send_size: 1024,
            max_receive_size: 1024,
            max_fragmented_size: 131_072,
        }
    }

    fn example_response() -> NegotiateResponseRepr {
        NegotiateResponseRepr {
            min_version: 0x0100,
            max_version: 0x0100,
            negotiated_version: 0x0100,
            credits_requested: 10,
            credits_granted: 10,
            status: 0,
            max_read_write_size: 1_048_576,
            preferred_send_size: 1024,
            max_receive_size: 1024,
            max_fragmented_size: 131_072,
        }
    }

    fn emit_req(r: &NegotiateRequestRepr) -> [u8; 20] {
        let mut buf = [0u8; 20];
        r.emit(&mut NegotiateRequest::new_unchecked(&mut buf[..]));
        buf
    }

    fn emit_resp(r: &NegotiateResponseRepr) -> [u8; 32] {
        let mut buf = [0u8; 32];
        r.emit(&mut NegotiateResponse::new_unchecked(&mut buf[..]));
        buf
    }

    fn parse_req(b: &[u8]) -> Result<NegotiateRequestRepr, DecodeError> {
        NegotiateRequestRepr::parse(&NegotiateRequest::new_unchecked(b))
    }

    fn parse_resp(b: &[u8]) -> Result<NegotiateResponseRepr, DecodeError> {
        NegotiateResponseRepr::parse(&NegotiateResponse::new_unchecked(b))
    }

    /// §2.2.1 field layout, checked against the §4.1 example bytes.
    #[test]
    fn request_layout() {
        let b = emit_req(&example_request());
        assert_eq!(
            b,
            [
                0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04,
                0x00, 0x00, 0x00, 0x00, 0x02, 0x00
            ]
        );
        assert_eq!(parse_req(&b), Ok(example_request()));
    }

    /// §2.2.2 field layout.
    #[test]
    fn response_layout() {
        let b = emit_resp(&example_response());
        assert_eq!(&b[4..6], &[0x00, 0x01]);
        assert_eq!(&b[10..12], &[10, 0]);
        assert_eq!(&b[16..20], &[0x00, 0x00, 0x10, 0x00]);
        assert_eq!(parse_resp(&b), Ok(example_response()));
    }

    /// §3.1.5.6: a request shorter than 20 bytes terminates the connection.
    #[test]
    fn request_truncated() {
        let b = emit_req(&example_request());
        assert_eq!(
            parse_req(&b[..19]),
            Err(DecodeError::Truncated {
                needed: 20,
                got: 19
            })
        );
        assert!(NegotiateRequest::new_checked(&b[..19]).is_err());
        assert!(NegotiateRequest::new_checked(&b[..]).is_ok());
    }

    /// §3.1.5.6: the version range must include 0x0100.
    #[test]
    fn request_version_range() {
        let mut r = example_request();
        r.min_version = 0x0200;
        r.max_version = 0x0300;
        assert_eq!(
            parse_req(&emit_req(&r)),
            Err(DecodeError::UnsupportedVersion {
                min: 0x0200,
                max: 0x0300
            })
        );
        r.min_version = 0x0000;
        r.max_version = 0x00ff;
        assert!(matches!(
            parse_req(&emit_req(&r)),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
        // A range that includes 1.0 is accepted.
        r.min_version = 0x0001;
        r.max_version = 0x0200;
        assert!(parse_req(&emit_req(&r)).is_ok());
    }

    /// §3.1.5.6: CreditsRequested must be greater than zero.
    #[test]
    fn request_zero_credits() {
        let mut r = example_request();
        r.credits_requested = 0;
        assert_eq!(
            parse_req(&emit_req(&r)),
            Err(DecodeError::ZeroCreditsRequested)
        );
    }

    /// §3.1.5.6: MaxReceiveSize must be at least 128.
    #[test]
    fn request_max_receive_127() {
        let mut r = example_request();
        r.max_receive_size = 127;
        assert_eq!(
            parse_req(&emit_req(&r)),
            Err(DecodeError::MaxReceiveSizeTooSmall { value: 127 })
        );
        r.max_receive_size = 128;
        assert!(parse_req(&emit_req(&r)).is_ok());
    }

    /// §3.1.5.6: MaxFragmentedSize must be at least 131072.
    #[test]
    fn request_max_fragmented_131071() {
        let mut r = example_request();
        r.max_fragmented_size = 131_071;
        assert_eq!(
            parse_req(&emit_req(&r)),
            Err(DecodeError::MaxFragmentedSizeTooSmall { value: 131_071 })
        );
    }

    /// §2.2.1: Reserved is ignored on receipt.
    #[test]
    fn request_reserved_ignored() {
        let mut b = emit_req(&example_request());
        b[4] = 0xaa;
        assert_eq!(parse_req(&b), Ok(example_request()));
    }

    /// §3.1.5.7: a response shorter than 32 bytes terminates the connection.
    #[test]
    fn response_truncated() {
        let b = emit_resp(&example_response());
        assert_eq!(
            parse_resp(&b[..31]),
            Err(DecodeError::Truncated {
                needed: 32,
                got: 31
            })
        );
    }

    /// §3.1.5.7: a response with Status != 0 is refused (Linux forgets it).
    #[test]
    fn response_status_refused() {
        let b = emit_resp(&NegotiateResponseRepr::failure(0xC000_00BB));
        assert_eq!(
            parse_resp(&b),
            Err(DecodeError::NegotiateFailed {
                status: 0xC000_00BB
            })
        );
        // Even a response whose other fields look valid is refused.
        let mut r = example_response();
        r.status = 0xC000_0001;
        assert_eq!(
            parse_resp(&emit_resp(&r)),
            Err(DecodeError::NegotiateFailed {
                status: 0xC000_0001
            })
        );
    }

    /// §3.1.5.7: NegotiatedVersion must be 0x0100.
    #[test]
    fn response_version() {
        let mut r = example_response();
        r.negotiated_version = 0x0200;
        assert_eq!(
            parse_resp(&emit_resp(&r)),
            Err(DecodeError::UnsupportedVersion {
                min: 0x0200,
                max: 0x0200
            })
        );
    }

    /// §3.1.5.7: CreditsRequested and CreditsGranted must be non-zero.
    #[test]
    fn response_zero_credits() {
        let mut r = example_response();
        r.credits_requested = 0;
        assert_eq!(
            parse_resp(&emit_resp(&r)),
            Err(DecodeError::ZeroCreditsRequested)
        );
        let mut r = example_response();
        r.credits_granted = 0;
        assert_eq!(
            parse_resp(&emit_resp(&r)),
            Err(DecodeError::ZeroCreditsGranted)
        );
    }

    /// §3.1.5.7: MaxReceiveSize >= 128 and MaxFragmentedSize >= 131072.
    #[test]
    fn response_minima() {
        let mut r = example_response();
        r.max_receive_size = 127;
        assert_eq!(
            parse_resp(&emit_resp(&r)),
            Err(DecodeError::MaxReceiveSizeTooSmall { value: 127 })
        );
        let mut r = example_response();
        r.max_fragmented_size = 131_071;
        assert_eq!(
            parse_resp(&emit_resp(&r)),
            Err(DecodeError::MaxFragmentedSizeTooSmall { value: 131_071 })
        );
    }
}
