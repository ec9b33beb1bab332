// SPDX-License-Identifier: GPL-2.0

//! The engine driven by an arbitrary sequence of events: no panic, the
//! credit invariants hold after every step, and every data transfer message
//! it emits is valid, spends a credit it holds, and grants at least one
//! credit when it spends the last (§3.1.5.9, known bug 8).

#![no_main]

use libfuzzer_sys::fuzz_target;
use smbdirect::engine::MAX_HEADER_LEN;
use smbdirect::wire::{DataTransfer, DataTransferRepr, NegotiateResponse, NegotiateResponseRepr};
use smbdirect::{
    negotiate, Action, Config, Engine, Instant, RecvOutcome, Role, SendToken, Transmit,
    TransmitKind,
};

/// Checks a transmit against the rules on what the engine sends, given the
/// send credits it held before returning it.
fn check_transmit(e: &Engine, t: &Transmit, credits_before: u16) {
    assert!(t.header().len() <= MAX_HEADER_LEN);
    if t.kind != TransmitKind::DataTransfer {
        return;
    }
    // The message as the peer receives it: the header, then the payload.
    let mut msg = t.header().to_vec();
    msg.resize(msg.len() + t.payload_len as usize, 0);
    let repr = DataTransferRepr::parse(&DataTransfer::new_unchecked(&msg[..]))
        .expect("the engine sent a data transfer message its own parser refuses");
    assert_eq!(repr.data_length, t.payload_len);
    if let Some(p) = e.params() {
        assert!(t.total_len() <= p.max_send_size);
    }
    // Every message spends one send credit the engine holds.
    assert!(credits_before >= 1, "sent without a send credit");
    assert_eq!(e.stats().send_credits, credits_before - 1);
    // The last credit goes only with a grant, or both ends can stall with
    // no credit to send the grant that would free the other (known bug 8).
    if credits_before == 1 {
        assert!(
            repr.credits_granted >= 1,
            "the last send credit went without a grant"
        );
    }
}

/// Drains the engine's actions as a transport would: receives are posted
/// at once, sends are kept for a later completion.
fn drain(e: &mut Engine, tokens: &mut Vec<SendToken>) {
    for _ in 0..10_000 {
        let credits_before = e.stats().send_credits;
        match e.poll_action() {
            None => return,
            Some(Action::Transmit(t)) => {
                check_transmit(e, &t, credits_before);
                tokens.push(t.token);
            }
            Some(Action::PostReceives(n)) => {
                let _ = e.on_receives_posted(Instant(0), n);
            }
            Some(_) => {}
        }
    }
    panic!("poll_action did not settle");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let role = if mode & 1 == 0 {
        Role::Client
    } else {
        Role::Server
    };
    let cfg = Config {
        receive_credit_max: 3 + u16::from(mode >> 4),
        keepalive_interval_ms: 100,
        keepalive_timeout_ms: 100,
        negotiate_timeout_ms: 100,
        consumer: smbdirect::Consumer::Streaming,
        ..Config::default_for(role)
    };
    let Ok(mut e) = Engine::new(role, cfg, Instant(0)) else {
        return;
    };
    let mut tokens = Vec::new();
    let mut parked = 0u16;
    let mut now = 0u64;
    drain(&mut e, &mut tokens);
    // Optionally start connected, so that the data path is reached.
    if mode & 2 != 0 {
        if role == Role::Client {
            let sp = negotiate::process_request(&Config::default_server(), &{
                let mut b = [0u8; 20];
                negotiate::build_request(&cfg).emit(
                    &mut smbdirect::wire::NegotiateRequest::new_unchecked(&mut b[..]),
                );
                b
            })
            .unwrap();
            let mut b = [0u8; 32];
            NegotiateResponseRepr {
                credits_granted: 1 + u16::from(mode >> 2 & 3),
                ..negotiate::build_response(&Config::default_server(), &sp, 8)
            }
            .emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
            if e.on_recv(Instant(0), &b) == Ok(RecvOutcome::Repost) {
                let _ = e.on_receives_posted(Instant(0), 1);
            }
        } else {
            let mut b = [0u8; 20];
            negotiate::build_request(&Config::default_client()).emit(
                &mut smbdirect::wire::NegotiateRequest::new_unchecked(&mut b[..]),
            );
            if e.on_recv(Instant(0), &b) == Ok(RecvOutcome::Repost) {
                let _ = e.on_receives_posted(Instant(0), 1);
            }
        }
        drain(&mut e, &mut tokens);
    }
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 8 {
            0 | 1 => {
                let len = usize::from(rest.first().copied().unwrap_or(0)).min(rest.len());
                let (msg, tail) = rest.split_at(len);
                rest = tail;
                match e.on_recv(Instant(now), msg.get(1..).unwrap_or(&[])) {
                    Ok(RecvOutcome::Deliver(_)) => parked = parked.saturating_add(1),
                    // The buffer is posted again, as a transport does.
                    Ok(RecvOutcome::Repost) => {
                        let _ = e.on_receives_posted(Instant(now), 1);
                    }
                    _ => {}
                }
            }
            2 => {
                let len = u32::from(op >> 3) * 4099 + 1;
                let _ = e.send_message(Instant(now), len);
            }
            3 => {
                if !tokens.is_empty() {
                    let t = tokens.remove(0);
                    let _ = e.on_send_complete(Instant(now), t);
                }
            }
            4 => {
                let n = u16::from(op >> 3).min(parked);
                parked -= n;
                let _ = e.buffers_consumed(Instant(now), n);
            }
            5 => {
                now += u64::from(op >> 3) * 7;
                e.on_timeout(Instant(now));
            }
            6 => match op >> 3 {
                0 => e.on_recv_failed(Instant(now)),
                1 => e.on_send_failed(Instant(now), SendToken::from_raw(0)),
                2 => e.close(Instant(now)),
                3 => e.on_disconnected(Instant(now)),
                _ => {}
            },
            _ => {
                // A completion with an arbitrary token.
                let _ = e.on_send_complete(Instant(now), SendToken::from_raw(u64::from(op >> 3)));
            }
        }
        drain(&mut e, &mut tokens);
        let s = e.stats();
        assert!(s.receive_credits <= s.posted_receives);
        assert!(
            u32::from(s.posted_receives)
                + u32::from(s.requested_receives)
                + u32::from(s.parked_receives)
                <= u32::from(cfg.receive_credit_max)
        );
        let _ = e.poll_timeout();
    }
});
