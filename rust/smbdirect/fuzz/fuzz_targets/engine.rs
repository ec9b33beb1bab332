// SPDX-License-Identifier: GPL-2.0

//! The engine driven by an arbitrary sequence of events: no panic, and the
//! credit invariants hold after every step.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smbdirect::wire::{NegotiateResponse, NegotiateResponseRepr};
use smbdirect::{negotiate, Action, Config, Engine, Instant, Role, SendToken};

fn drain(e: &mut Engine, tokens: &mut Vec<SendToken>, _parked: &mut u16) {
    for _ in 0..10_000 {
        match e.poll_action() {
            None => return,
            Some(Action::Transmit(t)) => {
                assert!(t.header().len() <= 32);
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
    drain(&mut e, &mut tokens, &mut parked);
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
            let _ = e.on_recv(Instant(0), &b);
        } else {
            let mut b = [0u8; 20];
            negotiate::build_request(&Config::default_client()).emit(
                &mut smbdirect::wire::NegotiateRequest::new_unchecked(&mut b[..]),
            );
            let _ = e.on_recv(Instant(0), &b);
        }
        drain(&mut e, &mut tokens, &mut parked);
    }
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 8 {
            0 | 1 => {
                let len = usize::from(rest.first().copied().unwrap_or(0)).min(rest.len());
                let (msg, tail) = rest.split_at(len);
                rest = tail;
                if let Ok(smbdirect::RecvOutcome::Deliver(_)) =
                    e.on_recv(Instant(now), msg.get(1..).unwrap_or(&[]))
                {
                    parked = parked.saturating_add(1);
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
        drain(&mut e, &mut tokens, &mut parked);
        let s = e.stats();
        assert!(s.receive_credits <= s.posted_receives);
        assert!(
            u32::from(s.posted_receives) + u32::from(s.parked_receives)
                <= u32::from(cfg.receive_credit_max)
        );
        let _ = e.poll_timeout();
    }
});
