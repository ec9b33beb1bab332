// SPDX-License-Identifier: GPL-2.0

//! Tests for entries of known-bugs.md that no other test covered
//! (Documentation/known-bugs.md maps every entry to its tests): each fails
//! with the upstream flaw put back into the engine.

mod common;

use common::Pair;
use smbdirect::wire::{DataTransfer, DataTransferRepr, SMB_DIRECT_RESPONSE_REQUESTED};
use smbdirect::{
    Action, Config, Consumer, DecodeError, DisconnectReason, Engine, Error, Instant, RecvOutcome,
    TransmitKind,
};

const T0: Instant = Instant(0);

/// A data transfer message: a 24-byte header and `len` zero bytes.
fn data(requested: u16, flags: u16, remaining: u32, offset: u32, len: u32) -> Vec<u8> {
    let mut b = vec![0u8; 24 + len as usize];
    let mut p = DataTransfer::new_unchecked(&mut b[..]);
    p.set_credits_requested(requested);
    p.set_credits_granted(0);
    p.set_flags(flags);
    p.set_remaining_data_length(remaining);
    p.set_data_offset(offset);
    p.set_data_length(len);
    b
}

fn connected_pair(cfg: Config) -> Pair {
    let mut p = Pair::new(cfg, cfg);
    p.connect();
    p.settle();
    p
}

/// Polls every action of `e`, reporting receives posted at once; returns
/// the data transfer headers it transmitted.
fn transmitted(e: &mut Engine) -> Vec<DataTransferRepr> {
    let mut out = vec![];
    while let Some(a) = e.poll_action() {
        match a {
            Action::PostReceives(n) => e.on_receives_posted(T0, n).unwrap(),
            Action::Transmit(t) => {
                assert_eq!(t.kind, TransmitKind::DataTransfer);
                let h = DataTransfer::new_unchecked(t.header());
                out.push(DataTransferRepr::parse(&h).unwrap());
            }
            _ => {}
        }
    }
    out
}

/// Known bug 2, checklist "remaining huge": DataLength +
/// RemainingDataLength is checked against MaxFragmentedRecvSize without
/// wrapping around 32 bits. A sum compared after the wrap (8 + 2^32 - 4 =
/// 4) would pass, and the peer could announce a message of 4 GiB.
#[test]
fn remaining_plus_length_overflow_refused() {
    let mut p = connected_pair(Config::default_server());
    let max = p.server.engine.params().unwrap().max_fragmented_recv_size;
    let b = data(10, 0, u32::MAX - 3, 24, 8);
    let r = p.server.engine.on_recv(T0, &b);
    p.server.drain(&mut p.s2c);
    let e = DecodeError::FragmentTooLarge {
        total: u32::MAX,
        max,
    };
    assert_eq!(r, Err(Error::Decode(e)));
    assert_eq!(p.server.disconnect, Some(DisconnectReason::Decode(e)));
}

/// Checklist 4.4 "a RESPONSE_REQUESTED flood": every message the peer may
/// send asks for a response. The requests pending at once get one answer,
/// every answer spends a send credit the engine holds (the peer grants
/// none), the connection stays up, and once the credits are gone nothing
/// more leaves however long the flood goes on.
#[test]
fn response_requested_flood() {
    let cfg = Config {
        receive_credit_max: 8,
        send_credit_target: 8,
        consumer: Consumer::Streaming,
        ..Config::default_server()
    };
    let mut p = connected_pair(cfg);
    let e = &mut p.server.engine;
    let held = e.stats().send_credits;
    // The messages the peer may send: the credits it holds.
    let mut peer = e.stats().receive_credits;
    assert!(held >= 2 && peer >= 2, "held {held}, peer {peer}");
    let rr = data(8, SMB_DIRECT_RESPONSE_REQUESTED, 0, 0, 0);
    // A burst: every credit the peer holds, one answer.
    for _ in 0..peer {
        let r = e.on_recv(T0, &rr[..20]);
        assert_eq!(r, Ok(RecvOutcome::Repost));
        e.on_receives_posted(T0, 1).unwrap();
    }
    let mut sent = transmitted(e);
    assert_eq!(sent.len(), 1, "a burst of requests answered more than once");
    peer = sent.iter().map(|r| r.credits_granted).sum();
    // Then one at a time, as long as the peer has a credit.
    for _ in 0..1000 {
        if peer == 0 {
            break;
        }
        peer -= 1;
        assert_eq!(e.on_recv(T0, &rr[..20]), Ok(RecvOutcome::Repost));
        e.on_receives_posted(T0, 1).unwrap();
        let answers = transmitted(e);
        peer += answers.iter().map(|r| r.credits_granted).sum::<u16>();
        sent.extend(answers);
    }
    assert!(
        sent.len() <= usize::from(held),
        "{} answers on {held} send credits",
        sent.len()
    );
    assert!(sent.iter().all(|r| r.data_length == 0));
    assert_eq!(e.stats().send_credits, held - sent.len() as u16);
    assert_eq!(e.poll_event(), None);
}
