// SPDX-License-Identifier: GPL-2.0

//! Property tests: encode/decode round trips, fragmentation and reassembly,
//! credit accounting invariants, decoders that never panic, and the
//! simulated pair under generated schedules.

mod common;

use proptest::prelude::*;
use smbdirect::credits::Credits;
use smbdirect::fragment::{Fragments, Reassembly};
use smbdirect::wire::{
    BufferDescriptorV1, BufferDescriptorV1Repr, DataTransfer, DataTransferRepr, DescriptorList,
    NegotiateRequest, NegotiateRequestRepr, NegotiateResponse, NegotiateResponseRepr,
};
use smbdirect::{Config, Engine, Instant, Role};

/// Cases per property; the simulated-pair property uses fewer.
const CASES: u32 = 512;

fn request() -> impl Strategy<Value = NegotiateRequestRepr> {
    (
        0u16..=0x0100,
        0x0100u16..,
        1u16..,
        any::<u32>(),
        128u32..,
        131_072u32..,
    )
        .prop_map(|(a, b, c, d, e, f)| NegotiateRequestRepr {
            min_version: a,
            max_version: b,
            credits_requested: c,
            preferred_send_size: d,
            max_receive_size: e,
            max_fragmented_size: f,
        })
}

fn response() -> impl Strategy<Value = NegotiateResponseRepr> {
    (
        any::<(u16, u16)>(),
        1u16..,
        1u16..,
        any::<(u32, u32)>(),
        128u32..,
        131_072u32..,
    )
        .prop_map(|((a, b), c, d, (e, f), g, h)| NegotiateResponseRepr {
            min_version: a,
            max_version: b,
            negotiated_version: 0x0100,
            credits_requested: c,
            credits_granted: d,
            status: 0,
            max_read_write_size: e,
            preferred_send_size: f,
            max_receive_size: g,
            max_fragmented_size: h,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Every valid negotiate request survives emit then parse.
    #[test]
    fn negotiate_request_round_trip(r in request()) {
        let mut b = [0u8; 20];
        r.emit(&mut NegotiateRequest::new_unchecked(&mut b[..]));
        prop_assert_eq!(NegotiateRequestRepr::parse(&NegotiateRequest::new_checked(&b[..]).unwrap()), Ok(r));
    }

    /// Every valid negotiate response survives emit then parse.
    #[test]
    fn negotiate_response_round_trip(r in response()) {
        let mut b = [0u8; 32];
        r.emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
        prop_assert_eq!(NegotiateResponseRepr::parse(&NegotiateResponse::new_checked(&b[..]).unwrap()), Ok(r));
    }

    /// Every valid data transfer header survives emit then parse.
    #[test]
    fn data_transfer_round_trip(
        req in 1u16.., granted in any::<u16>(), flags in any::<u16>(),
        len in 0u32..2000, remaining in 0u32..100_000, pad in 0u32..4,
    ) {
        let offset = if len == 0 { 0 } else { 24 + 8 * pad };
        let remaining = if len == 0 { 0 } else { remaining };
        let r = DataTransferRepr {
            credits_requested: req,
            credits_granted: granted,
            flags,
            remaining_data_length: remaining,
            data_offset: offset,
            data_length: len,
        };
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut DataTransfer::new_unchecked(&mut b[..]));
        prop_assert_eq!(r.header_len(), if len == 0 { 20 } else { offset as usize });
        prop_assert_eq!(DataTransferRepr::parse(&DataTransfer::new_checked(&b[..]).unwrap()), Ok(r));
    }

    /// Every buffer descriptor survives emit then parse.
    #[test]
    fn buffer_descriptor_round_trip(offset in 0u64..(u64::MAX / 2), token in any::<u32>(), length in 1u32..) {
        let r = BufferDescriptorV1Repr { offset, token, length };
        let mut b = [0u8; 16];
        r.emit(&mut BufferDescriptorV1::new_unchecked(&mut b[..]));
        prop_assert_eq!(BufferDescriptorV1Repr::parse(&BufferDescriptorV1::new_checked(&b[..]).unwrap()), Ok(r));
        let list = DescriptorList::parse(&b, u64::from(length), 1).unwrap();
        prop_assert_eq!(list.get(0), Some(r));
    }

    /// The data transfer parser never panics, and whatever it accepts obeys
    /// every rule of §3.1.5.8.
    #[test]
    fn data_transfer_parse_total(bytes in proptest::collection::vec(any::<u8>(), 0..64), max in any::<u32>()) {
        if let Ok(r) = DataTransferRepr::parse(&DataTransfer::new_unchecked(&bytes[..])) {
            prop_assert!(bytes.len() >= 20);
            prop_assert!(r.credits_requested >= 1);
            prop_assert_eq!(r.data_offset % 8, 0);
            if r.data_length > 0 {
                prop_assert!(u64::from(r.data_offset) + u64::from(r.data_length) <= bytes.len() as u64);
                // DataLength + RemainingDataLength <= max is the engine's check now.
                let _ = max;
            }
        }
    }

    /// Fragmentation followed by reassembly restores any message up to the
    /// maximum fragmented size, for any MaxSendSize.
    #[test]
    fn fragment_then_reassemble(len in 1u32..=173_910, max_send in 128u32..=16_384, seed in any::<u64>()) {
        let mut rng = common::Rng::new(seed);
        let mut msg = vec![0u8; len as usize];
        rng.fill(&mut msg);
        let mut out = Vec::with_capacity(msg.len());
        let mut r = Reassembly::new();
        let mut done = false;
        for (n, f) in Fragments::new(len, max_send).enumerate() {
            prop_assert!(!done);
            let repr = DataTransferRepr {
                credits_requested: 1,
                credits_granted: 0,
                flags: 0,
                remaining_data_length: f.remaining,
                data_offset: 24,
                data_length: f.length,
            };
            let mut wire = vec![0u8; repr.buffer_len()];
            repr.emit(&mut DataTransfer::new_unchecked(&mut wire[..]));
            wire[24..].copy_from_slice(&msg[f.offset as usize..(f.offset + f.length) as usize]);
            prop_assert!(wire.len() as u32 <= max_send);
            let parsed = DataTransferRepr::parse(&DataTransfer::new_checked(&wire[..]).unwrap()).unwrap();
            let d = r.accept(&parsed).unwrap();
            prop_assert_eq!(d.start_of_message, n == 0);
            prop_assert_eq!(d.message_length, len);
            out.extend_from_slice(&wire[d.data_offset as usize..(d.data_offset + d.data_length) as usize]);
            done = d.end_of_message;
        }
        prop_assert!(done);
        prop_assert_eq!(out, msg);
    }

    /// Credit accounting never goes negative, never grants an unposted
    /// receive and never posts more than the buffers.
    #[test]
    fn credit_invariants(max in 3u16..64, ops in proptest::collection::vec((0u8..7, any::<u16>()), 0..400)) {
        let mut c = Credits::new(max, 16);
        c.set_initial_send_credits(4);
        for (op, v) in ops {
            match op {
                0 => { let n = c.request_receives(v % 8); let _ = c.receives_posted(n); }
                1 => { let _ = c.on_receive(true); }
                2 => { c.repost(); let _ = c.receives_posted(c.requested()); }
                3 => { if c.can_send() { let before = c.send_credits(); let g = c.spend_and_grant(); prop_assert!(before > 1 || g > 0); } }
                4 => { let _ = c.apply_grant(v % 4); }
                5 => { c.park(); }
                _ => { let _ = c.consume(v % 3); c.set_receive_credit_target(v % 300); }
            }
            prop_assert!(c.receive_credits() <= c.posted());
            prop_assert!(u32::from(c.posted()) + u32::from(c.parked()) <= u32::from(max));
            prop_assert_eq!(c.free_buffers() + c.posted() + c.requested() + c.parked(), max);
        }
    }

    /// Arbitrary receives never panic the engine in any role or state.
    #[test]
    fn engine_survives_garbage(server in any::<bool>(), msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..48), 0..8)) {
        let role = if server { Role::Server } else { Role::Client };
        let mut e = Engine::new(role, Config::default_for(role), Instant(0)).unwrap();
        for m in msgs {
            while e.poll_action().is_some() {}
            let _ = e.on_recv(Instant(1), &m);
        }
        while e.poll_action().is_some() {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The simulated pair delivers everything in order under generated
    /// schedules and configurations.
    #[test]
    fn simulated_pair(seed in any::<u64>(), credits in 3u16..40, consume in 5u64..100) {
        let cfg = Config {
            receive_credit_max: credits,
            send_credit_target: credits,
            max_send_size: 8192,
            max_receive_size: 8192,
            max_fragmented_recv_size: 131_072,
            consumer: smbdirect::Consumer::Streaming,
            ..Config::default_client()
        };
        common::run(&common::Scenario {
            seed,
            client: cfg,
            server: cfg,
            messages_each_way: 8,
            max_message: 131_072,
            consume_percent: consume,
            max_steps: 2_000_000,
        });
    }
}
