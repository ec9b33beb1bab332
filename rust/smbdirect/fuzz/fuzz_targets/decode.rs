// SPDX-License-Identifier: GPL-2.0

//! Every decoder on arbitrary bytes: it must not panic, and what it accepts
//! must encode back to the same bytes (Reserved and padding, which a
//! receiver ignores and a sender zeroes, aside) and decode again to the
//! same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smbdirect::wire::{
    BufferDescriptorV1, BufferDescriptorV1Repr, DataTransfer, DataTransferRepr, NegotiateRequest,
    NegotiateRequestRepr, NegotiateResponse, NegotiateResponseRepr,
};
use smbdirect::{negotiate, Config};

/// `data[..len]` with the bytes in `zeroed` set to zero: what a sender
/// emits for a message it received as `data`.
fn expected(data: &[u8], len: usize, zeroed: core::ops::Range<usize>) -> Vec<u8> {
    let mut b = data[..len].to_vec();
    b[zeroed].fill(0);
    b
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = NegotiateRequest::new_checked(data) {
        if let Ok(r) = NegotiateRequestRepr::parse(&p) {
            let mut b = [0xffu8; 20];
            r.emit(&mut NegotiateRequest::new_unchecked(&mut b[..]));
            // §2.2.1: Reserved is bytes 4..6.
            assert_eq!(&b[..], &expected(data, 20, 4..6)[..]);
            assert_eq!(
                NegotiateRequestRepr::parse(&NegotiateRequest::new_unchecked(&b[..])),
                Ok(r)
            );
        }
    }
    if let Ok(p) = NegotiateResponse::new_checked(data) {
        if let Ok(r) = NegotiateResponseRepr::parse(&p) {
            let mut b = [0xffu8; 32];
            r.emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
            // §2.2.2: Reserved is bytes 6..8.
            assert_eq!(&b[..], &expected(data, 32, 6..8)[..]);
            assert_eq!(
                NegotiateResponseRepr::parse(&NegotiateResponse::new_unchecked(&b[..])),
                Ok(r)
            );
        }
    }
    if let Ok(r) = DataTransferRepr::parse(&DataTransfer::new_unchecked(data)) {
        assert!(r.data_offset % 8 == 0 && r.credits_requested > 0);
        let received = DataTransfer::new_unchecked(data);
        let payload = received.payload();
        assert_eq!(payload.len(), r.data_length as usize);
        // Emitted: the 20-byte header with Reserved (6..8) zeroed, zeroed
        // padding up to DataOffset, then the payload.
        let mut b = vec![0xffu8; r.buffer_len()];
        r.emit(&mut DataTransfer::new_unchecked(&mut b[..]));
        let header = r.header_len();
        assert_eq!(&b[..20], &expected(data, 20, 6..8)[..]);
        assert!(b[20..header].iter().all(|&x| x == 0));
        b[header..].copy_from_slice(payload);
        if r.data_length > 0 {
            assert_eq!(header, r.data_offset as usize);
            assert_eq!(&b[header..], &data[header..header + payload.len()]);
        }
        assert_eq!(
            DataTransferRepr::parse(&DataTransfer::new_unchecked(&b[..])),
            Ok(r)
        );
    }
    if let Ok(p) = BufferDescriptorV1::new_checked(data) {
        if let Ok(r) = BufferDescriptorV1Repr::parse(&p) {
            // §2.2.3.1 has no reserved bytes: all 16 come back.
            let mut b = [0xffu8; 16];
            r.emit(&mut BufferDescriptorV1::new_unchecked(&mut b[..]));
            assert_eq!(&b[..], &data[..16]);
            assert!(r.length > 0);
        }
    }
    let client = Config::default_client();
    let server = Config::default_server();
    if let Ok(p) = negotiate::process_request(&server, data) {
        // The sizes the server settles on never exceed its own.
        assert!(p.max_receive_size <= server.max_receive_size);
        assert!(p.max_send_size <= server.max_send_size);
        assert!(p.max_receive_size >= 128 && p.max_send_size >= 128);
    }
    if let Ok(p) = negotiate::process_response(&client, data) {
        assert!(p.max_receive_size <= client.max_receive_size);
        assert!(p.max_send_size <= client.max_send_size);
        assert!(p.initial_send_credits >= 1);
    }
});
