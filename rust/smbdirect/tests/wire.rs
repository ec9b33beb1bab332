// SPDX-License-Identifier: GPL-2.0

//! The wire layer through its public API: every accessor reads and writes
//! its own bytes, Reserved fields are written as zero whatever the buffer
//! held (§2.2.1, §2.2.2, §2.2.3), `buffer_len` is the length `emit`
//! writes, and each minimum of §3.1.5.6 and §3.1.5.7 is accepted at the
//! limit and refused one below it.

use smbdirect::wire::{
    BufferDescriptorV1, BufferDescriptorV1Repr, DataTransfer, DataTransferRepr, DescriptorList,
    NegotiateRequest, NegotiateRequestRepr, NegotiateResponse, NegotiateResponseRepr,
    MIN_FRAGMENTED_SIZE, MIN_RECEIVE_SIZE, SMBD_VERSION_1,
};
use smbdirect::DecodeError;

fn request() -> NegotiateRequestRepr {
    NegotiateRequestRepr {
        min_version: SMBD_VERSION_1,
        max_version: SMBD_VERSION_1,
        credits_requested: 255,
        preferred_send_size: 1364,
        max_receive_size: 1364,
        max_fragmented_size: 173_910,
    }
}

fn response() -> NegotiateResponseRepr {
    NegotiateResponseRepr {
        min_version: SMBD_VERSION_1,
        max_version: SMBD_VERSION_1,
        negotiated_version: SMBD_VERSION_1,
        credits_requested: 255,
        credits_granted: 254,
        status: 0,
        max_read_write_size: 1 << 20,
        preferred_send_size: 1364,
        max_receive_size: 1364,
        max_fragmented_size: 173_910,
    }
}

/// Emits into a buffer of `repr.buffer_len()` bytes that starts out all
/// 0xff, so that a field `emit` forgets shows up.
fn emit_request(r: &NegotiateRequestRepr) -> Vec<u8> {
    let mut b = vec![0xff; r.buffer_len()];
    r.emit(&mut NegotiateRequest::new_unchecked(&mut b[..]));
    b
}

fn emit_response(r: &NegotiateResponseRepr) -> Vec<u8> {
    let mut b = vec![0xff; r.buffer_len()];
    r.emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
    b
}

fn parse_request(b: &[u8]) -> Result<NegotiateRequestRepr, DecodeError> {
    NegotiateRequestRepr::parse(&NegotiateRequest::new_checked(b)?)
}

fn parse_response(b: &[u8]) -> Result<NegotiateResponseRepr, DecodeError> {
    NegotiateResponseRepr::parse(&NegotiateResponse::new_checked(b)?)
}

fn parse_data(b: &[u8]) -> Result<DataTransferRepr, DecodeError> {
    DataTransferRepr::parse(&DataTransfer::new_checked(b)?)
}

/// `buffer_len` is the fixed length of §2.2.1 (20), §2.2.2 (32) and
/// §2.2.3.1 (16), the view's `LEN`, and exactly what `new_checked` needs.
#[test]
fn buffer_len_is_the_message_length() {
    assert_eq!(request().buffer_len(), 20);
    assert_eq!(request().buffer_len(), NegotiateRequest::<&[u8]>::LEN);
    assert_eq!(response().buffer_len(), 32);
    assert_eq!(response().buffer_len(), NegotiateResponse::<&[u8]>::LEN);
    let d = BufferDescriptorV1Repr {
        offset: 0x1000,
        token: 7,
        length: 4096,
    };
    assert_eq!(d.buffer_len(), 16);
    assert_eq!(d.buffer_len(), BufferDescriptorV1::<&[u8]>::LEN);

    // One byte less is truncated, the length itself is enough.
    let b = emit_request(&request());
    assert!(NegotiateRequest::new_checked(&b[..b.len() - 1]).is_err());
    assert_eq!(parse_request(&b), Ok(request()));
    let b = emit_response(&response());
    assert!(NegotiateResponse::new_checked(&b[..b.len() - 1]).is_err());
    assert_eq!(parse_response(&b), Ok(response()));
    let mut b = vec![0xff; d.buffer_len()];
    d.emit(&mut BufferDescriptorV1::new_unchecked(&mut b[..]));
    assert!(BufferDescriptorV1::new_checked(&b[..b.len() - 1]).is_err());
    assert_eq!(
        BufferDescriptorV1Repr::parse(&BufferDescriptorV1::new_checked(&b[..]).unwrap()),
        Ok(d)
    );
}

/// `DataTransferRepr::buffer_len` is the 20-byte header alone without
/// payload (§3.1.5.1), DataOffset + DataLength with it.
#[test]
fn data_transfer_buffer_len() {
    let empty = DataTransferRepr {
        credits_requested: 1,
        credits_granted: 1,
        flags: 0,
        remaining_data_length: 0,
        data_offset: 0,
        data_length: 0,
    };
    assert_eq!(empty.buffer_len(), 20);
    let full = DataTransferRepr {
        data_offset: 32,
        data_length: 5,
        ..empty
    };
    assert_eq!(full.header_len(), 32);
    assert_eq!(full.buffer_len(), 37);
    let mut b = vec![0xff; full.buffer_len()];
    full.emit(&mut DataTransfer::new_unchecked(&mut b[..]));
    // Padding between the 20-byte header and DataOffset is zeroed, the
    // payload is left alone.
    assert_eq!(&b[20..32], &[0; 12]);
    assert_eq!(&b[32..], &[0xff; 5]);
    assert_eq!(parse_data(&b), Ok(full));
    assert!(parse_data(&b[..b.len() - 1]).is_err());
}

/// §2.2.1: Reserved is bytes 4..6 of the request; the sender sets it to 0,
/// the receiver ignores it.
#[test]
fn negotiate_request_reserved() {
    let b = emit_request(&request());
    assert_eq!(&b[4..6], &[0, 0]);
    assert_eq!(NegotiateRequest::new_unchecked(&b[..]).reserved(), 0);

    let mut b = b;
    let mut p = NegotiateRequest::new_unchecked(&mut b[..]);
    p.set_reserved(0xa55a);
    assert_eq!(p.reserved(), 0xa55a);
    assert_eq!(&b[4..6], &[0x5a, 0xa5]);
    // Only Reserved changed: the neighbours read as before, and a receiver
    // accepts the same request.
    let p = NegotiateRequest::new_unchecked(&b[..]);
    assert_eq!(p.max_version(), SMBD_VERSION_1);
    assert_eq!(p.credits_requested(), 255);
    assert_eq!(parse_request(&b), Ok(request()));
}

/// §2.2.2: Reserved is bytes 6..8 of the response; the sender sets it to
/// 0, the receiver ignores it.
#[test]
fn negotiate_response_reserved() {
    let b = emit_response(&response());
    assert_eq!(&b[6..8], &[0, 0]);
    assert_eq!(NegotiateResponse::new_unchecked(&b[..]).reserved(), 0);

    let mut b = b;
    let mut p = NegotiateResponse::new_unchecked(&mut b[..]);
    p.set_reserved(0xa55a);
    assert_eq!(p.reserved(), 0xa55a);
    assert_eq!(&b[6..8], &[0x5a, 0xa5]);
    let p = NegotiateResponse::new_unchecked(&b[..]);
    assert_eq!(p.negotiated_version(), SMBD_VERSION_1);
    assert_eq!(p.credits_requested(), 255);
    assert_eq!(parse_response(&b), Ok(response()));

    // The failure response of §3.1.5.3 also has Reserved zero.
    let b = emit_response(&NegotiateResponseRepr::failure(0xC000_00BB));
    assert_eq!(&b[6..8], &[0, 0]);
}

/// §2.2.3: Reserved is bytes 6..8 of a data transfer message; the sender
/// sets it to 0, the receiver ignores it.
#[test]
fn data_transfer_reserved() {
    let r = DataTransferRepr {
        credits_requested: 10,
        credits_granted: 3,
        flags: 1,
        remaining_data_length: 0,
        data_offset: 24,
        data_length: 4,
    };
    let mut b = vec![0xff; r.buffer_len()];
    r.emit(&mut DataTransfer::new_unchecked(&mut b[..]));
    assert_eq!(&b[6..8], &[0, 0]);
    assert_eq!(DataTransfer::new_unchecked(&b[..]).reserved(), 0);

    let mut p = DataTransfer::new_unchecked(&mut b[..]);
    p.set_reserved(0xa55a);
    assert_eq!(p.reserved(), 0xa55a);
    assert_eq!(&b[6..8], &[0x5a, 0xa5]);
    let p = DataTransfer::new_unchecked(&b[..]);
    assert_eq!(p.flags(), 1);
    assert_eq!(p.remaining_data_length(), 0);
    assert_eq!(parse_data(&b), Ok(r));
}

/// Accessors on a buffer too short for the field read 0, never panic.
#[test]
fn reserved_of_a_short_buffer_reads_zero() {
    let b = [0xffu8; 5];
    assert_eq!(NegotiateRequest::new_unchecked(&b[..]).reserved(), 0);
    assert_eq!(NegotiateResponse::new_unchecked(&b[..]).reserved(), 0);
    assert_eq!(DataTransfer::new_unchecked(&b[..]).reserved(), 0);
}

/// §3.1.5.6: MaxReceiveSize >= 128 and MaxFragmentedSize >= 131072, both
/// limits included.
#[test]
fn negotiate_request_minima_boundaries() {
    let at = |rs: u32, fs: u32| {
        parse_request(&emit_request(&NegotiateRequestRepr {
            max_receive_size: rs,
            max_fragmented_size: fs,
            ..request()
        }))
    };
    assert!(at(MIN_RECEIVE_SIZE, MIN_FRAGMENTED_SIZE).is_ok());
    assert_eq!(
        at(MIN_RECEIVE_SIZE - 1, MIN_FRAGMENTED_SIZE),
        Err(DecodeError::MaxReceiveSizeTooSmall { value: 127 })
    );
    assert_eq!(
        at(MIN_RECEIVE_SIZE, MIN_FRAGMENTED_SIZE - 1),
        Err(DecodeError::MaxFragmentedSizeTooSmall { value: 131_071 })
    );
    // A range with 1.0 at either end is accepted, one that ends just below
    // or starts just above it is not.
    let range = |min: u16, max: u16| {
        parse_request(&emit_request(&NegotiateRequestRepr {
            min_version: min,
            max_version: max,
            ..request()
        }))
    };
    assert!(range(SMBD_VERSION_1, 0x0300).is_ok());
    assert!(range(0x0001, SMBD_VERSION_1).is_ok());
    assert!(range(0x0001, SMBD_VERSION_1 - 1).is_err());
    assert!(range(SMBD_VERSION_1 + 1, 0x0300).is_err());
}

/// §3.1.5.7: the same minima in the response, both limits included.
#[test]
fn negotiate_response_minima_boundaries() {
    let at = |rs: u32, fs: u32| {
        parse_response(&emit_response(&NegotiateResponseRepr {
            max_receive_size: rs,
            max_fragmented_size: fs,
            ..response()
        }))
    };
    assert!(at(MIN_RECEIVE_SIZE, MIN_FRAGMENTED_SIZE).is_ok());
    assert_eq!(
        at(MIN_RECEIVE_SIZE - 1, MIN_FRAGMENTED_SIZE),
        Err(DecodeError::MaxReceiveSizeTooSmall { value: 127 })
    );
    assert_eq!(
        at(MIN_RECEIVE_SIZE, MIN_FRAGMENTED_SIZE - 1),
        Err(DecodeError::MaxFragmentedSizeTooSmall { value: 131_071 })
    );
    // One credit requested and one granted are enough.
    assert!(parse_response(&emit_response(&NegotiateResponseRepr {
        credits_requested: 1,
        credits_granted: 1,
        ..response()
    }))
    .is_ok());
}

/// §3.1.5.8: a payload may end exactly at the end of the message and start
/// right after the (padded) header; one byte further either way is refused.
#[test]
fn data_transfer_boundaries() {
    let msg = |offset: u32, length: u32, remaining: u32, total: usize| {
        let mut b = vec![0u8; total];
        let mut p = DataTransfer::new_unchecked(&mut b[..]);
        p.set_credits_requested(1);
        p.set_data_offset(offset);
        p.set_data_length(length);
        p.set_remaining_data_length(remaining);
        b
    };
    let parse = |b: &[u8]| DataTransferRepr::parse(&DataTransfer::new_unchecked(b));

    assert!(parse(&msg(24, 8, 0, 32)).is_ok());
    assert_eq!(
        parse(&msg(24, 9, 0, 32)),
        Err(DecodeError::DataOutOfBounds {
            end: 33,
            received: 32
        })
    );
    // The first offset past the 20-byte header that is 8-aligned is 24;
    // 16 overlaps the header, 20 is misaligned.
    assert_eq!(
        parse(&msg(16, 8, 0, 32)),
        Err(DecodeError::DataOffsetInHeader { offset: 16 })
    );
    assert_eq!(
        parse(&msg(20, 8, 0, 32)),
        Err(DecodeError::MisalignedDataOffset { offset: 20 })
    );
    // DataLength + RemainingDataLength against the connection's maximum is
    // the engine's check (remaining_plus_length_over_max_refused in
    // tests/regressions.rs); the parser takes any sum, even one that wraps.
    assert!(parse(&msg(24, 8, u32::MAX, 32)).is_ok());
    // Exactly 20 bytes hold an empty message; 19 do not.
    assert!(parse(&msg(0, 0, 0, 20)).is_ok());
    assert!(matches!(
        parse(&msg(0, 0, 0, 20)[..19]),
        Err(DecodeError::Truncated {
            needed: 20,
            got: 19
        })
    ));
}

/// A validated descriptor list is never empty, and `len`, `get`, `iter`
/// and `total_len` agree with the bytes.
#[test]
fn descriptor_list_accessors() {
    let mut b = vec![0u8; 48];
    for (i, chunk) in b.chunks_exact_mut(16).enumerate() {
        let i = i as u32;
        BufferDescriptorV1Repr {
            offset: u64::from(i) << 32,
            token: 100 + i,
            length: 1000 * (i + 1),
        }
        .emit(&mut BufferDescriptorV1::new_unchecked(chunk));
    }
    let l = DescriptorList::parse(&b, 6000, 3).unwrap();
    assert!(!l.is_empty());
    assert_eq!(l.len(), 3);
    assert_eq!(l.total_len(), 6000);
    assert_eq!(l.get(2).map(|d| (d.offset, d.token)), Some((2 << 32, 102)));
    assert_eq!(l.get(3), None);
    assert_eq!(l.get(usize::MAX), None);
    assert_eq!(
        l.iter().map(|d| d.length).collect::<Vec<_>>(),
        [1000, 2000, 3000]
    );
}

/// A descriptor list for an I/O of zero bytes is refused: no descriptor
/// would be used (known bug 3).
#[test]
fn descriptor_list_for_nothing_refused() {
    let mut b = [0u8; 16];
    BufferDescriptorV1Repr {
        offset: 0x1000,
        token: 1,
        length: 100,
    }
    .emit(&mut BufferDescriptorV1::new_unchecked(&mut b[..]));
    assert!(matches!(
        DescriptorList::parse(&b, 0, 4),
        Err(DecodeError::DescriptorsTooShort { .. })
    ));
    assert!(DescriptorList::parse(&b, 1, 4).is_ok());
}
