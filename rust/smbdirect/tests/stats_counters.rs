// SPDX-License-Identifier: GPL-2.0

//! The counters of `Stats` against what really crossed the wire: two
//! engines joined in memory exchange messages, every transmit is logged,
//! and each side's byte, fragment, credit and receive counters must equal
//! the sums of the log.

use smbdirect::wire::{DataTransfer, DataTransferRepr, NegotiateResponse, NegotiateResponseRepr};
use smbdirect::{Action, Config, Engine, Instant, RecvOutcome, Role, State, TransmitKind};

const T0: Instant = Instant(0);

/// What one side did, counted by the transport rather than the engine.
#[derive(Debug, Default)]
struct Tally {
    receives_posted: u64,
    payload_sent: u64,
    fragments_sent: u64,
    empty_sent: u64,
    granted: u64,
    payload_received: u64,
}

/// Runs `from`'s actions: receives reported posted at once, each transmit
/// delivered to `to` (payload bytes are not needed by the engine) and
/// completed, delivered buffers handed back at once. Returns whether there
/// was anything to do.
fn pump(from: &mut Engine, ft: &mut Tally, to: &mut Engine, tt: &mut Tally) -> bool {
    let mut any = false;
    while let Some(a) = from.poll_action() {
        any = true;
        match a {
            Action::PostReceives(n) => {
                from.on_receives_posted(T0, n).unwrap();
                ft.receives_posted += u64::from(n);
            }
            Action::Transmit(t) => {
                let mut msg = t.header().to_vec();
                msg.resize(msg.len() + t.payload_len as usize, 0x5a);
                assert_eq!(t.total_len() as usize, msg.len());
                match t.kind {
                    TransmitKind::DataTransfer => {
                        let r = DataTransferRepr::parse(&DataTransfer::new_unchecked(&msg[..]))
                            .unwrap();
                        ft.granted += u64::from(r.credits_granted);
                        ft.payload_sent += u64::from(r.data_length);
                        if r.data_length == 0 {
                            ft.empty_sent += 1;
                        } else {
                            ft.fragments_sent += 1;
                        }
                    }
                    TransmitKind::NegotiateResponse => {
                        let r = NegotiateResponseRepr::parse(&NegotiateResponse::new_unchecked(
                            &msg[..],
                        ))
                        .unwrap();
                        ft.granted += u64::from(r.credits_granted);
                    }
                    _ => {}
                }
                match to.on_recv(T0, &msg).unwrap() {
                    RecvOutcome::Repost => {
                        to.on_receives_posted(T0, 1).unwrap();
                        tt.receives_posted += 1;
                    }
                    RecvOutcome::Deliver(d) => {
                        tt.payload_received += u64::from(d.data_length);
                        to.buffers_consumed(T0, 1).unwrap();
                    }
                    other => panic!("{other:?}"),
                }
                from.on_send_complete(T0, t.token).unwrap();
            }
            _ => {}
        }
    }
    any
}

fn settle(c: &mut Engine, ct: &mut Tally, s: &mut Engine, st: &mut Tally) {
    for _ in 0..10_000 {
        let a = pump(c, ct, s, st);
        let b = pump(s, st, c, ct);
        if !a && !b {
            return;
        }
    }
    panic!("the pair did not settle");
}

#[test]
fn counters_match_the_wire() {
    let cfg = Config {
        consumer: smbdirect::Consumer::Streaming,
        ..Config::default_client()
    };
    // Different targets each way, so that each is seen where it belongs.
    let ccfg = Config {
        send_credit_target: 200,
        ..cfg
    };
    let scfg = Config {
        send_credit_target: 150,
        ..cfg
    };
    let mut c = Engine::new(Role::Client, ccfg, T0).unwrap();
    let mut s = Engine::new(Role::Server, scfg, T0).unwrap();
    let (mut ct, mut st) = (Tally::default(), Tally::default());
    // The server posts its receive before the request leaves.
    pump(&mut s, &mut st, &mut c, &mut ct);
    settle(&mut c, &mut ct, &mut s, &mut st);
    assert_eq!((c.state(), s.state()), (State::Connected, State::Connected));

    // Messages of several fragments each way, and one of a single byte.
    for len in [3000, 1, 20_000] {
        c.send_message(T0, len).unwrap();
        s.send_message(T0, len + 7).unwrap();
        settle(&mut c, &mut ct, &mut s, &mut st);
    }

    for (e, mine, peer) in [(&c, &ct, &st), (&s, &st, &ct)] {
        let x = e.stats();
        assert_eq!(x.receives_posted, mine.receives_posted, "{mine:?}");
        assert_eq!(x.bytes_sent, mine.payload_sent, "{mine:?}");
        assert_eq!(x.fragments_sent, mine.fragments_sent, "{mine:?}");
        assert_eq!(x.empty_sent, mine.empty_sent, "{mine:?}");
        assert_eq!(x.credits_granted, mine.granted, "{mine:?}");
        assert_eq!(x.credits_received, peer.granted, "{peer:?}");
        assert_eq!(x.bytes_received, mine.payload_received, "{mine:?}");
        assert_eq!(x.messages_sent, 3);
        assert_eq!(x.messages_received, 3);
    }
    // CreditsRequested carries each side's target to the other.
    let (cs, ss) = (c.stats(), s.stats());
    assert_eq!(
        (cs.send_credit_target, ss.receive_credit_target),
        (200, 200)
    );
    assert_eq!(
        (ss.send_credit_target, cs.receive_credit_target),
        (150, 150)
    );
    assert_eq!(c.stats().bytes_sent, 23_001);
    assert_eq!(s.stats().bytes_sent, 23_022);
    assert_eq!(s.stats().bytes_received, 23_001);
    assert!(c.stats().receives_posted > 0 && ct.granted > 0 && st.granted > 0);
}
