// SPDX-License-Identifier: GPL-2.0

//! Every decoder on arbitrary bytes: it must not panic, and what it accepts
//! must re-encode to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smbdirect::wire::{
    BufferDescriptorV1, BufferDescriptorV1Repr, DataTransfer, DataTransferRepr, NegotiateRequest,
    NegotiateRequestRepr, NegotiateResponse, NegotiateResponseRepr,
};
use smbdirect::{negotiate, Config};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = NegotiateRequest::new_checked(data) {
        if let Ok(r) = NegotiateRequestRepr::parse(&p) {
            let mut b = [0u8; 20];
            r.emit(&mut NegotiateRequest::new_unchecked(&mut b[..]));
            assert_eq!(
                NegotiateRequestRepr::parse(&NegotiateRequest::new_unchecked(&b[..])),
                Ok(r)
            );
        }
    }
    if let Ok(p) = NegotiateResponse::new_checked(data) {
        if let Ok(r) = NegotiateResponseRepr::parse(&p) {
            let mut b = [0u8; 32];
            r.emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
            assert_eq!(
                &b[..],
                &data[..32]
                    .iter()
                    .enumerate()
                    .map(|(i, x)| if (6..8).contains(&i) { 0 } else { *x })
                    .collect::<Vec<u8>>()[..]
            );
        }
    }
    if let Ok(r) = DataTransferRepr::parse(&DataTransfer::new_unchecked(data)) {
        assert!(r.data_offset % 8 == 0 && r.credits_requested > 0);
        if r.data_length > 0 {
            assert!(r.data_offset as usize + r.data_length as usize <= data.len());
            let p = DataTransfer::new_unchecked(data);
            assert_eq!(p.payload().len(), r.data_length as usize);
        }
        let mut b = vec![0u8; r.header_len()];
        r.emit(&mut DataTransfer::new_unchecked(&mut b[..]));
    }
    if let Ok(p) = BufferDescriptorV1::new_checked(data) {
        let _ = BufferDescriptorV1Repr::parse(&p);
    }
    let _ = negotiate::process_request(&Config::default_server(), data);
    let _ = negotiate::process_response(&Config::default_client(), data);
});
