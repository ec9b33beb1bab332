// SPDX-License-Identifier: GPL-2.0

//! Named regression tests: each would fail had the engine one of the flaws
//! of the upstream C code listed in known-bugs.md.

mod common;

use common::{run, run_with, try_run, Dir, Granting, Options, Pair, Scenario, SgeModel};
use smbdirect::wire::{
    DataTransfer, DataTransferRepr, NegotiateRequest, NegotiateRequestRepr, NegotiateResponse,
    NegotiateResponseRepr, SMB_DIRECT_RESPONSE_REQUESTED, STATUS_NOT_SUPPORTED,
};
use smbdirect::{
    Action, Config, Consumer, DecodeError, DisconnectReason, Engine, Error, Instant, LocalError,
    ProtocolError, RecvOutcome, Role, SendError, SendToken, State, TransmitKind,
};

const T0: Instant = Instant(0);

fn data(
    requested: u16,
    granted: u16,
    flags: u16,
    remaining: u32,
    offset: u32,
    len: u32,
) -> Vec<u8> {
    let mut b = vec![0u8; 24 + len as usize];
    let mut p = DataTransfer::new_unchecked(&mut b[..]);
    p.set_credits_requested(requested);
    p.set_credits_granted(granted);
    p.set_flags(flags);
    p.set_remaining_data_length(remaining);
    p.set_data_offset(offset);
    p.set_data_length(len);
    b
}

/// Polls every action, reporting each `PostReceives` as posted at once, as
/// a single-threaded transport does.
fn drive(e: &mut Engine) -> Vec<Action> {
    let mut out = vec![];
    while let Some(a) = e.poll_action() {
        if let Action::PostReceives(n) = a {
            e.on_receives_posted(T0, n).unwrap();
        }
        out.push(a);
    }
    out
}

/// A receive completion, with a `Repost` reposted and reported.
fn recv(e: &mut Engine, bytes: &[u8]) -> Result<RecvOutcome, Error> {
    let r = e.on_recv(T0, bytes);
    if r == Ok(RecvOutcome::Repost) {
        e.on_receives_posted(T0, 1).unwrap();
    }
    r
}

fn connected_pair() -> Pair {
    let mut p = Pair::new(Config::default_client(), Config::default_server());
    p.connect();
    p.settle();
    p
}

/// Feeds raw bytes to the server of a connected pair and returns the result
/// and the disconnect reason that follows.
fn server_receives(bytes: &[u8]) -> (Result<RecvOutcome, Error>, Option<DisconnectReason>) {
    let mut p = connected_pair();
    let r = p.server.engine.on_recv(T0, bytes);
    p.server.drain(&mut p.s2c);
    (r, p.server.disconnect)
}

/// Known bug 7: credits are never granted for receives that are not
/// posted, whatever the completion order. The simulator checks at every
/// step that the credits a side holds, plus the messages and grants in
/// flight, never exceed the receives the other side really posted.
#[test]
fn credit_granting_race() {
    for seed in 0..40 {
        let cfg = Config {
            receive_credit_max: 3 + (seed % 5) as u16,
            send_credit_target: 8,
            max_send_size: 65_560,
            max_receive_size: 65_560,
            max_fragmented_recv_size: 131_072,
            ..Config::default_client()
        };
        // The transport posts and reports receives at random later steps,
        // as threads that interleave with completions and sends do.
        run_with(
            &Scenario {
                seed: 1000 + seed,
                client: cfg,
                server: cfg,
                messages_each_way: 16,
                max_message: 131_072,
                consume_percent: 5 + seed * 2,
                max_steps: 2_000_000,
            },
            &Options {
                lazy_posts: true,
                ..Options::default()
            },
        );
    }
    // Directly: the negotiate response grants only receives reported
    // posted, and waits for those asked for.
    let mut server = Engine::new(Role::Server, Config::default_server(), T0).unwrap();
    assert_eq!(server.poll_receives(), Some(1));
    let req = emit_request(&smbdirect::negotiate::build_request(
        &Config::default_client(),
    ));
    // The request overtakes the report of its receive's post.
    assert_eq!(server.on_recv(T0, &req), Ok(RecvOutcome::Repost));
    server.on_receives_posted(T0, 1).unwrap();
    let n = server.poll_receives().unwrap();
    assert_eq!(n, 254);
    assert_eq!(server.poll_transmit(u32::MAX), None);
    server.on_receives_posted(T0, 200).unwrap();
    assert_eq!(server.poll_transmit(u32::MAX), None);
    server.on_receives_posted(T0, 54).unwrap();
    server.on_receives_posted(T0, 1).unwrap();
    let t = server.poll_transmit(u32::MAX).unwrap();
    let granted = NegotiateResponse::new_unchecked(t.header()).credits_granted();
    assert_eq!(server.stats().posted_receives, 255);
    // All but the one kept in reserve for the last-credit rule.
    assert_eq!(granted, 254);
    assert_eq!(
        server.on_receives_posted(T0, 1),
        Err(Error::Local(LocalError::TooManyPosted {
            reported: 1,
            requested: 0
        }))
    );
}

/// Known bug 8: both ends low on credits (three receive buffers each, slow
/// consumers, traffic both ways at once) keep making progress. With the old
/// rule (the last credit may go if the peer is believed to hold one) both
/// ends spend their last credit concurrently and stall.
#[test]
fn last_credit_deadlock() {
    for seed in 0..60 {
        let cfg = Config {
            receive_credit_max: 3,
            send_credit_target: 3,
            max_send_size: 65_560,
            max_receive_size: 65_560,
            max_fragmented_recv_size: 131_072,
            ..Config::default_client()
        };
        run(&Scenario {
            seed: 2000 + seed,
            client: cfg,
            server: cfg,
            messages_each_way: 20,
            max_message: 131_072,
            consume_percent: 2 + seed,
            max_steps: 2_000_000,
        });
    }
}

/// Known bug 8, engine level: with few credits and data queued after an
/// idle period, the pair still makes progress, and the last credit of
/// either side only ever leaves with a fresh grant (the simulator asserts
/// this on every transmit).
#[test]
fn last_credit_needs_fresh_grant() {
    let cfg = Config {
        receive_credit_max: 3,
        send_credit_target: 3,
        consumer: Consumer::Streaming,
        ..Config::default_client()
    };
    let mut p = Pair::new(cfg, cfg);
    p.connect();
    p.settle();
    for round in 0..20u8 {
        for k in 0..5u8 {
            p.client.to_send.push_back(vec![round ^ k; 10 + k as usize]);
            p.server.to_send.push_back(vec![round; 2000]);
        }
        p.settle();
        assert_eq!(p.server.received.len(), 5 * (round as usize + 1));
        assert_eq!(p.client.received.len(), 5 * (round as usize + 1));
    }
    // The sends that left a side at zero credits all granted one.
    for side in [&p.client, &p.server] {
        assert!(side.engine.stats().send_credits >= 1);
    }
}

/// Known bug 9: an immediate credit-only or keepalive message never lands
/// between two fragments of one upper-layer message, even when the peer
/// asks for a response, the keepalive timer fires and the peer runs out of
/// credits while the message is blocked half-way.
#[test]
fn fragment_interleaving_corruption() {
    let cfg = Config {
        receive_credit_max: 4,
        send_credit_target: 4,
        keepalive_interval_ms: 10,
        keepalive_timeout_ms: 1_000_000,
        consumer: Consumer::Streaming,
        ..Config::default_client()
    };
    let mut p = Pair::new(cfg, cfg);
    p.connect();
    p.settle();
    let msg: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    p.client.to_send.push_back(msg.clone());
    p.client.drain(&mut p.c2s);
    // The client is blocked mid-message (4 credits, 15 fragments).
    assert!(p.client.engine.stats().send_blocked_no_credit > 0);
    // The server asks for a response and grants nothing; the client's
    // keepalive timer fires; the server's messages use the client's credits.
    let rr = data(4, 0, SMB_DIRECT_RESPONSE_REQUESTED, 0, 0, 0);
    assert_eq!(
        recv(&mut p.client.engine, &rr[..20]),
        Ok(RecvOutcome::Repost)
    );
    p.advance(20);
    for _ in 0..10_000 {
        p.drain();
        p.deliver(Dir::C2S);
        p.deliver(Dir::S2C);
        Pair::complete(&mut p.client, p.now);
        Pair::complete(&mut p.server, p.now);
        p.server.consume(p.now, 1);
        if p.server.received.len() == 1 {
            break;
        }
    }
    assert_eq!(p.server.received, vec![msg]);
    let mut in_message = false;
    let mut rr_on_fragment = false;
    for l in p
        .client
        .log
        .iter()
        .filter(|l| l.kind == TransmitKind::DataTransfer)
    {
        let r = l.repr.unwrap();
        if in_message {
            assert!(r.data_length > 0, "empty message between fragments");
            rr_on_fragment |= r.response_requested();
        }
        in_message = r.remaining_data_length > 0;
    }
    // The keepalive rode on a fragment instead.
    assert!(rr_on_fragment);
    assert!(p.client.engine.stats().keepalives_sent >= 1);
}

/// Known bug 11: the negotiate response is the first message that grants
/// credits; nothing else is transmitted before it, whatever the upper layer
/// or the timers do in between.
#[test]
fn no_credit_grant_before_negotiate_response() {
    let mut server = Engine::new(Role::Server, Config::default_server(), T0).unwrap();
    assert_eq!(drive(&mut server), [Action::PostReceives(1)]);
    // Before the request: nothing but waiting.
    server.on_timeout(Instant(10));
    assert_eq!(server.poll_action(), None);
    let req = emit_request(&smbdirect::negotiate::build_request(
        &Config::default_client(),
    ));
    assert_eq!(recv(&mut server, &req), Ok(RecvOutcome::Repost));
    // The upper layer queues data and the refill path returns buffers.
    let id = server.send_message(Instant(20), 100).unwrap();
    assert!(server.buffers_consumed(Instant(20), 0).is_ok());
    server.on_timeout(Instant(30));
    let mut first_transmit = None;
    for a in drive(&mut server) {
        if let Action::Transmit(t) = a {
            first_transmit.get_or_insert(t.kind);
            assert_ne!(
                (t.kind, first_transmit),
                (TransmitKind::DataTransfer, Some(TransmitKind::DataTransfer)),
                "a data transfer went out before the negotiate response"
            );
        }
    }
    assert_eq!(first_transmit, Some(TransmitKind::NegotiateResponse));
    // The server has no send credit until the client grants some, so the
    // queued message waits.
    assert_eq!(server.stats().send_credits, 0);
    assert_eq!(server.stats().fragments_sent, 0);
    let _ = id;
    // The client never sends a data transfer before the response either.
    let mut client = Engine::new(Role::Client, Config::default_client(), T0).unwrap();
    assert_eq!(client.send_message(T0, 10), Err(SendError::NotConnected));
    let mut kinds = vec![];
    for a in drive(&mut client) {
        if let Action::Transmit(t) = a {
            kinds.push(t.kind);
        }
    }
    assert_eq!(kinds, [TransmitKind::NegotiateRequest]);
}

fn emit_request(r: &NegotiateRequestRepr) -> [u8; 20] {
    let mut b = [0u8; 20];
    r.emit(&mut NegotiateRequest::new_unchecked(&mut b[..]));
    b
}

fn emit_response(r: &NegotiateResponseRepr) -> [u8; 32] {
    let mut b = [0u8; 32];
    r.emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
    b
}

fn client_after_request() -> Engine {
    let mut c = Engine::new(Role::Client, Config::default_client(), T0).unwrap();
    drive(&mut c);
    c
}

/// Known bug 4 (§3.1.5.7): a negotiate response with Status != 0 is
/// refused; Linux 6.12 does not look at Status.
#[test]
fn negotiate_response_status_refused() {
    let mut c = client_after_request();
    let b = emit_response(&NegotiateResponseRepr::failure(STATUS_NOT_SUPPORTED));
    assert_eq!(
        c.on_recv(T0, &b),
        Err(Error::Decode(DecodeError::NegotiateFailed {
            status: STATUS_NOT_SUPPORTED
        }))
    );
    assert_eq!(
        c.poll_action(),
        Some(Action::Disconnect(DisconnectReason::NegotiateRefused {
            status: STATUS_NOT_SUPPORTED
        }))
    );
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.stats().negotiate_refused, 1);
}

/// A failure response still pending when a failure (here the negotiate
/// timer) ends the connection is not sent: nothing leaves after a failure,
/// even to a transport that polls transmits on their own.
#[test]
fn pending_failure_response_dropped_after_teardown() {
    let mut s = Engine::new(Role::Server, Config::default_server(), T0).unwrap();
    assert_eq!(drive(&mut s), [Action::PostReceives(1)]);
    let mut req = smbdirect::negotiate::build_request(&Config::default_client());
    req.min_version = 0x0200;
    req.max_version = 0x0300;
    assert!(s.on_recv(T0, &emit_request(&req)).is_err());
    assert_eq!(s.state(), State::Closing);
    let deadline = s.poll_timeout().unwrap();
    s.on_timeout(deadline);
    assert_eq!(s.poll_transmit(u32::MAX), None);
    assert_eq!(
        s.poll_event(),
        Some(smbdirect::Event::Disconnect(
            DisconnectReason::NegotiateTimeout
        ))
    );
}

/// §3.1.5.6: a request without version 1.0 in its range gets a failure
/// response with STATUS_NOT_SUPPORTED, then a disconnect; other request
/// errors disconnect without a response.
#[test]
fn server_refuses_bad_version() {
    let mut s = Engine::new(Role::Server, Config::default_server(), T0).unwrap();
    assert_eq!(drive(&mut s), [Action::PostReceives(1)]);
    let mut req = smbdirect::negotiate::build_request(&Config::default_client());
    req.min_version = 0x0200;
    req.max_version = 0x0300;
    assert!(matches!(
        s.on_recv(T0, &emit_request(&req)),
        Err(Error::Decode(DecodeError::UnsupportedVersion { .. }))
    ));
    let Some(Action::Transmit(t)) = s.poll_action() else {
        panic!()
    };
    assert_eq!(t.kind, TransmitKind::NegotiateResponse);
    let resp = NegotiateResponse::new_unchecked(t.header());
    assert_eq!(resp.status(), STATUS_NOT_SUPPORTED);
    assert_eq!(resp.credits_granted(), 0);
    assert_eq!(s.poll_action(), None);
    s.on_send_complete(T0, t.token).unwrap();
    assert_eq!(
        s.poll_action(),
        Some(Action::Disconnect(DisconnectReason::NegotiateRefused {
            status: STATUS_NOT_SUPPORTED
        }))
    );

    let mut s = Engine::new(Role::Server, Config::default_server(), T0).unwrap();
    drive(&mut s);
    let mut req = smbdirect::negotiate::build_request(&Config::default_client());
    req.credits_requested = 0;
    assert_eq!(
        s.on_recv(T0, &emit_request(&req)),
        Err(Error::Decode(DecodeError::ZeroCreditsRequested))
    );
    assert_eq!(
        s.poll_action(),
        Some(Action::Disconnect(DisconnectReason::Decode(
            DecodeError::ZeroCreditsRequested
        )))
    );
}

/// §3.1.5.8, known bug 4: DataOffset not 8-byte aligned is refused.
#[test]
fn data_offset_misaligned_refused() {
    let b = data(10, 0, 0, 0, 20, 4);
    let (r, d) = server_receives(&b);
    let e = DecodeError::MisalignedDataOffset { offset: 20 };
    assert_eq!(r, Err(Error::Decode(e)));
    assert_eq!(d, Some(DisconnectReason::Decode(e)));
}

/// §3.1.5.8, known bug 4: CreditsRequested 0 is refused.
#[test]
fn credits_requested_zero_refused() {
    let b = data(0, 0, 0, 0, 24, 4);
    let (r, d) = server_receives(&b);
    assert_eq!(r, Err(Error::Decode(DecodeError::ZeroCreditsRequested)));
    assert!(d.is_some());
}

/// §3.1.5.8, known bug 2: DataLength + RemainingDataLength beyond the
/// maximum fragmented receive size is refused.
#[test]
fn remaining_plus_length_over_max_refused() {
    let max = Config::default_server().max_fragmented_recv_size;
    let b = data(10, 0, 0, max - 3, 24, 4);
    let (r, _) = server_receives(&b);
    assert_eq!(
        r,
        Err(Error::Decode(DecodeError::FragmentTooLarge {
            total: max + 1,
            max
        }))
    );
}

/// §3.1.5.8, known bug 1 (CVE-2025-39943): DataOffset + DataLength that
/// wraps around 32 bits is refused instead of passing a bounds check.
#[test]
fn u32_overflow_in_offset_plus_length_refused() {
    let mut b = data(10, 0, 0, 0, 24, 8);
    let mut p = DataTransfer::new_unchecked(&mut b[..]);
    p.set_data_offset(0xffff_fff8);
    p.set_data_length(0x20);
    let (r, _) = server_receives(&b);
    assert_eq!(
        r,
        Err(Error::Decode(DecodeError::DataOffsetOverflow {
            offset: 0xffff_fff8,
            length: 0x20
        }))
    );
    // An offset past the received bytes is refused too.
    let b = data(10, 0, 0, 0, 32, 1);
    let (r, _) = server_receives(&b);
    assert!(matches!(
        r,
        Err(Error::Decode(DecodeError::DataOutOfBounds { .. }))
    ));
}

/// A message longer than the negotiated MaxReceiveSize is refused.
#[test]
fn message_too_long_refused() {
    let b = data(10, 0, 0, 0, 24, 1400);
    let (r, _) = server_receives(&b);
    assert_eq!(
        r,
        Err(Error::Decode(DecodeError::TooLong {
            max: 1364,
            got: 1424
        }))
    );
}

/// §3.1.5.8: a peer that sends more messages than it was granted is
/// refused.
#[test]
fn send_without_credit_refused() {
    let mut p = connected_pair();
    let granted = p.server.engine.stats().receive_credits;
    let msg = data(10, 0, 0, 0, 0, 0);
    for _ in 0..granted {
        assert_eq!(
            recv(&mut p.server.engine, &msg[..20]),
            Ok(RecvOutcome::Repost)
        );
    }
    // The reposted receives are not granted until the server sends.
    assert_eq!(
        p.server.engine.on_recv(T0, &msg[..20]),
        Err(Error::Protocol(ProtocolError::NoReceiveCredit))
    );
}

/// A grant that pushes send credits past 65535 is refused.
#[test]
fn credit_overflow_refused() {
    let mut p = connected_pair();
    let b = data(10, u16::MAX, 0, 0, 0, 0);
    assert_eq!(
        p.client.engine.on_recv(T0, &b[..20]),
        Err(Error::Protocol(ProtocolError::CreditOverflow {
            held: p.client.engine.stats().send_credits,
            granted: u16::MAX
        }))
    );
}

/// §3.1.5.8: a continuing fragment inconsistent with the previous one is
/// refused.
#[test]
fn fragment_mismatch_refused() {
    let mut p = connected_pair();
    let first = data(10, 0, 0, 1000, 24, 100);
    assert!(matches!(
        p.server.engine.on_recv(T0, &first),
        Ok(RecvOutcome::Deliver(_))
    ));
    let bad = data(10, 0, 0, 1000, 24, 100);
    assert_eq!(
        p.server.engine.on_recv(T0, &bad),
        Err(Error::Protocol(ProtocolError::FragmentMismatch {
            expected: 1000,
            got: 1100
        }))
    );
}

/// A truncated data transfer message is refused.
#[test]
fn truncated_message_refused() {
    let (r, _) = server_receives(&[1, 0, 0, 0, 0]);
    assert_eq!(
        r,
        Err(Error::Decode(DecodeError::Truncated { needed: 20, got: 5 }))
    );
}

/// Upper-layer send errors.
#[test]
fn send_errors() {
    let mut p = connected_pair();
    let max = p.client.engine.params().unwrap().max_fragmented_send_size;
    assert_eq!(
        p.client.engine.send_message(T0, max + 1),
        Err(SendError::MessageTooLarge { len: max + 1, max })
    );
    assert_eq!(
        p.client.engine.send_message(T0, 0),
        Err(SendError::EmptyMessage)
    );
    // The configured depth (255), not a fixed 16.
    for _ in 0..p.client.engine.config().send_queue_depth {
        p.client.engine.send_message(T0, max).unwrap();
    }
    assert_eq!(
        p.client.engine.send_message(T0, 1),
        Err(SendError::QueueFull)
    );
    assert_eq!(p.client.engine.stats().sends_rejected, 3);
}

/// API misuse by the transport tears the connection down, it never panics.
#[test]
fn misuse_errors() {
    let mut p = connected_pair();
    assert_eq!(
        p.client.engine.on_send_complete(T0, SendToken::from_raw(0)),
        Err(Error::Local(LocalError::UnexpectedSendCompletion))
    );
    let mut p = connected_pair();
    assert_eq!(
        p.client.engine.buffers_consumed(T0, 1),
        Err(Error::Local(LocalError::TooManyConsumed {
            consumed: 1,
            parked: 0
        }))
    );
    let mut p = connected_pair();
    p.client.engine.send_message(T0, 10).unwrap();
    let Some(Action::Transmit(_)) = p.client.engine.poll_action() else {
        panic!()
    };
    assert_eq!(
        p.client
            .engine
            .on_send_complete(T0, SendToken::from_raw(999)),
        Err(Error::Local(LocalError::UnknownSendToken))
    );
    assert!(matches!(
        p.client.engine.poll_action(),
        Some(Action::Disconnect(DisconnectReason::Misuse(_)))
    ));
    assert_eq!(p.client.engine.poll_action(), None);
}

/// Transport failures, local close and peer disconnect.
#[test]
fn teardown_paths() {
    let mut p = connected_pair();
    p.client.engine.on_send_failed(T0, SendToken::from_raw(0));
    assert_eq!(
        p.client.engine.poll_action(),
        Some(Action::Disconnect(DisconnectReason::TransportFailure))
    );
    let mut p = connected_pair();
    p.client.engine.on_recv_failed(T0);
    assert_eq!(
        p.client.engine.poll_action(),
        Some(Action::Disconnect(DisconnectReason::TransportFailure))
    );
    // Flushed receives after the disconnect are released quietly.
    assert_eq!(
        p.client.engine.on_recv(T0, &[0; 20]),
        Ok(RecvOutcome::Release)
    );
    let mut p = connected_pair();
    p.client.engine.close(T0);
    assert_eq!(
        p.client.engine.poll_action(),
        Some(Action::Disconnect(DisconnectReason::LocalClose))
    );
    assert_eq!(
        p.client.engine.send_message(T0, 1),
        Err(SendError::NotConnected)
    );
    let mut p = connected_pair();
    p.server.engine.on_disconnected(T0);
    assert_eq!(p.server.engine.poll_action(), None);
    assert_eq!(p.server.engine.poll_timeout(), None);
    assert_eq!(p.server.engine.state(), State::Closed);
}

/// The engine stays small: a fixed send queue of 255 12-byte entries and
/// counters. A kernel transport keeps it in its (heap) connection object.
#[test]
fn engine_is_small() {
    let size = std::mem::size_of::<Engine>();
    println!("size_of::<Engine>() = {size}");
    assert!(size < 4096, "Engine is {size} bytes");
}

/// A message with RESPONSE_REQUESTED is answered promptly even when
/// nothing else is to be sent.
#[test]
fn response_requested_is_answered() {
    let mut p = connected_pair();
    let rr = data(255, 0, SMB_DIRECT_RESPONSE_REQUESTED, 0, 0, 0);
    assert_eq!(
        recv(&mut p.server.engine, &rr[..20]),
        Ok(RecvOutcome::Repost)
    );
    let Some(Action::Transmit(t)) = p.server.engine.poll_action() else {
        panic!()
    };
    let r = DataTransferRepr::parse(&DataTransfer::new_unchecked(t.header())).unwrap();
    assert_eq!(r.data_length, 0);
    assert!(!r.response_requested());
}

/// Known bug 3: buffer descriptor lists (SMB2 READ/WRITE channel info) are
/// validated before any RDMA: a count of 0, a length that is not a multiple
/// of 16, a zero-length descriptor, more descriptors than RDMA credits, and
/// lengths summing to less than the I/O are refused; a list longer than the
/// I/O is clamped as ksmbd does, so no RDMA goes past the I/O.
#[test]
fn buffer_descriptor_validation() {
    use smbdirect::wire::{BufferDescriptorV1, BufferDescriptorV1Repr, DescriptorList};
    let list = |d: &[(u64, u32, u32)]| {
        let mut b = vec![0u8; d.len() * 16];
        for (i, &(offset, token, length)) in d.iter().enumerate() {
            BufferDescriptorV1Repr {
                offset,
                token,
                length,
            }
            .emit(&mut BufferDescriptorV1::new_unchecked(&mut b[i * 16..]));
        }
        b
    };
    let credits = Config::default_server().rdma_credit_max as u32;
    assert_eq!(
        DescriptorList::parse(&[], 4096, credits).unwrap_err(),
        DecodeError::NoDescriptors
    );
    let one = list(&[(0x1000, 7, 4096)]);
    assert_eq!(
        DescriptorList::parse(&one[..12], 4096, credits).unwrap_err(),
        DecodeError::DescriptorListLength { len: 12 }
    );
    assert_eq!(
        DescriptorList::parse(&list(&[(0x1000, 7, 4096), (0, 8, 0)]), 4096, credits).unwrap_err(),
        DecodeError::ZeroLengthDescriptor { index: 1 }
    );
    let many = list(&vec![(0x1000, 7, 1); credits as usize + 1]);
    assert_eq!(
        DescriptorList::parse(&many, u64::from(credits) + 1, credits).unwrap_err(),
        DecodeError::TooManyDescriptors {
            count: credits + 1,
            max: credits
        }
    );
    assert_eq!(
        DescriptorList::parse(&one, 4097, credits).unwrap_err(),
        DecodeError::DescriptorsTooShort {
            total: 4096,
            expected: 4097
        }
    );
    // Longer than the I/O: the third descriptor is dropped, the second
    // shortened, and an RDMA plan moves exactly the I/O.
    let long = list(&[(0x1000, 7, 4096), (0x9000, 8, 4096), (0x20000, 9, 4096)]);
    let l = DescriptorList::parse(&long, 6000, credits).unwrap();
    assert_eq!((l.len(), l.total_len()), (2, 6000));
    assert_eq!(l.get(1).unwrap().length, 6000 - 4096);
    assert_eq!(l.get(2), None);
    assert_eq!(l.iter().map(|d| u64::from(d.length)).sum::<u64>(), 6000);
    let local = [smbdirect::mr::Segment {
        addr: 0x5000_0000,
        len: 8192,
    }];
    let limits = smbdirect::mr::DeviceLimits {
        page_size: 4096,
        max_fast_reg_page_list_len: 256,
        max_sge_per_wr: 4,
        max_rdma_wr_size: 1 << 20,
    };
    let mut p = smbdirect::mr::RdmaPlanner::new(l, &local, 6000, &limits).unwrap();
    let mut sges = [smbdirect::mr::Segment::default(); 4];
    let mut wrs = vec![];
    while let Some(wr) = p.next_wr(&mut sges) {
        wrs.push((wr.rkey, wr.length));
    }
    assert_eq!(wrs, [(7, 4096), (8, 6000 - 4096)]);
}

/// Known bug 5: a transport that maps messages zero-copy with few SGEs per
/// send asks for fragments that fit (`poll_transmit(max)`), and every send
/// stays within `max_send_sge`; ksmbd 6.12 overran it and ib_post_send
/// failed. Both directions, random pages, random schedules.
#[test]
fn max_send_sges_respected() {
    for seed in 0..20 {
        let cfg = Config {
            max_send_size: 8192,
            max_receive_size: 8192,
            receive_credit_max: 32,
            send_credit_target: 32,
            max_fragmented_recv_size: 131_072,
            // Short fragments: a whole message would not fit the buffers.
            consumer: Consumer::Streaming,
            ..Config::default_client()
        };
        let o = Options {
            sge: Some(SgeModel {
                max_send_sge: 3,
                page: 1000 + seed as u32 * 97,
            }),
            ..Options::default()
        };
        let s = Scenario {
            seed: 3000 + seed,
            client: cfg,
            server: cfg,
            messages_each_way: 10,
            max_message: 131_072,
            consume_percent: 50,
            max_steps: 2_000_000,
        };
        let out = run_with(&s, &o);
        // Shorter fragments than MaxSendSize allows were needed and used.
        assert!(out.client_stats.fragments_sent > out.client_stats.bytes_sent / 8168);
    }
}

/// Known bug 10: a consumer that keeps a message's buffers until the whole
/// message is there needs the buffers to hold the largest message. The
/// configuration is checked (ksmbd 6.12's 1 MiB against 255 buffers of
/// 1340 bytes is refused), the Linux default of 173910 bytes moves the
/// largest messages both ways, and without the check the pair stalls.
#[test]
fn reassembly_exhaustion() {
    let ksmbd_612 = Config {
        max_fragmented_recv_size: 1 << 20,
        ..Config::default_server()
    };
    assert_eq!(
        Engine::new(Role::Server, ksmbd_612, T0).unwrap_err(),
        smbdirect::ConfigError::ReassemblyExhaustion {
            needed: 783,
            buffers: 255
        }
    );
    // The defaults hold a whole message: the largest go through.
    let s = Scenario {
        seed: 10,
        client: Config::default_client(),
        server: Config::default_server(),
        messages_each_way: 6,
        max_message: u32::MAX,
        consume_percent: 20,
        max_steps: 2_000_000,
    };
    let o = run(&s);
    assert!(o.server_stats.messages_received == 6);
    // Past the check (a streaming engine config), a whole-message upper
    // layer deadlocks: what the check prevents.
    let mut pair = Pair::new(
        Config {
            consumer: Consumer::Streaming,
            max_fragmented_recv_size: 1 << 20,
            ..Config::default_client()
        },
        Config {
            consumer: Consumer::Streaming,
            ..ksmbd_612
        },
    );
    pair.connect();
    pair.server.to_send.push_back(vec![7; 1 << 20]);
    for _ in 0..20_000 {
        pair.drain();
        pair.deliver(Dir::S2C);
        pair.deliver(Dir::C2S);
        Pair::complete(&mut pair.client, pair.now);
        Pair::complete(&mut pair.server, pair.now);
        // Whole-message consumer: nothing is returned before the end.
        if pair.client.parked.iter().any(|(_, d)| d.end_of_message) {
            pair.client.consume(pair.now, usize::MAX);
        }
    }
    assert!(pair.client.received.is_empty());
    assert_eq!(pair.client.parked.len(), 255);
    // A peer sending shorter fragments than the check assumed is caught
    // instead of stalling.
    let cfg = Config {
        receive_credit_max: 3,
        send_credit_target: 3,
        max_send_size: 65_560,
        max_receive_size: 65_560,
        max_fragmented_recv_size: 131_072,
        ..Config::default_client()
    };
    let mut p = Pair::new(cfg, cfg);
    p.connect();
    p.settle();
    for i in 0..3u32 {
        p.c2s.push_back(common::WireMsg {
            bytes: data(3, 0, 0, 131_072 - 1000 * (i + 1), 24, 1000),
            granted: 0,
            kind: TransmitKind::DataTransfer,
        });
        p.deliver(Dir::C2S);
        // The server grants its last buffer for the rest of the message.
        p.drain();
    }
    assert_eq!(
        p.server.errors,
        [Error::Protocol(ProtocolError::ReassemblyExhausted {
            parked: 3
        })]
    );
}

/// Known bug 12: a configuration is checked against the device (queue
/// depths with the RDMA credits and a drain slot, CQ size, SGEs, MR size),
/// and fitted to a small device instead of failing the connection.
#[test]
fn device_limits() {
    use smbdirect::DeviceCaps;
    let rxe = DeviceCaps {
        max_qp_wr: 1 << 14,
        max_cqe: (1 << 15) - 1,
        max_send_sge: 32,
        max_recv_sge: 32,
        max_fast_reg_page_list_len: 512,
        page_size: 4096,
    };
    assert_eq!(Config::default_server().check_device(&rxe), Ok(()));
    let small = DeviceCaps {
        max_qp_wr: 128,
        max_cqe: 256,
        max_fast_reg_page_list_len: 256,
        ..rxe
    };
    let server = Config::default_server();
    let rdma = u32::from(server.rdma_credit_max);
    assert_eq!(
        server.check_device(&small),
        Err(smbdirect::ConfigError::QueueTooDeep {
            needed: 255 + rdma + 1,
            max_qp_wr: 128
        })
    );
    let cq = DeviceCaps {
        max_cqe: 400,
        ..rxe
    };
    assert_eq!(
        server.check_device(&cq),
        Err(smbdirect::ConfigError::CqTooSmall {
            needed: 255 + rdma + 1 + 256,
            max_cqe: 400
        })
    );
    assert_eq!(
        server.check_device(&DeviceCaps {
            max_send_sge: 0,
            ..rxe
        }),
        Err(smbdirect::ConfigError::TooFewSge)
    );
    // A client registers one MR per I/O.
    assert_eq!(
        Config::default_client().check_device(&DeviceCaps {
            max_fast_reg_page_list_len: 128,
            ..rxe
        }),
        Err(smbdirect::ConfigError::ReadWriteTooLarge { max: 1 << 19 })
    );
    let fitted = server.fit_device(&small).unwrap();
    assert_eq!(fitted.check_device(&small), Ok(()));
    assert!(fitted.receive_credit_max <= 127 && fitted.send_queue_depth <= 127);
    let client = Config::default_client().fit_device(&small).unwrap();
    // The fitted pair still connects and moves the largest messages.
    run(&Scenario {
        seed: 12,
        client,
        server: fitted,
        messages_each_way: 6,
        max_message: u32::MAX,
        consume_percent: 30,
        max_steps: 2_000_000,
    });
}

/// §3.1.4.2, known bug 22: Send-with-Invalidate of a remote token goes on
/// the last fragment of its message only.
#[test]
fn send_with_invalidate_on_last_fragment() {
    let mut p = connected_pair();
    let id = p
        .client
        .engine
        .send_message_with_invalidate(T0, 3000, 0x1234)
        .unwrap();
    let mut seen = vec![];
    while let Some(t) = p.client.engine.poll_transmit(u32::MAX) {
        assert_eq!(t.message, Some(id));
        seen.push((t.payload_len, t.invalidate));
    }
    assert_eq!(seen, [(1340, None), (1340, None), (320, Some(0x1234))]);
}

/// A queued message can be cancelled until its first fragment leaves; then
/// it goes out whole, and no MessageSent follows a cancelled one.
#[test]
fn cancel_queued_message() {
    let mut p = connected_pair();
    let e = &mut p.client.engine;
    let a = e.send_message(T0, 3000).unwrap();
    let b = e.send_message(T0, 100).unwrap();
    let t = e.poll_transmit(u32::MAX).unwrap();
    assert_eq!(t.message, Some(a));
    assert_eq!(
        e.cancel_message(T0, a),
        Err(smbdirect::CancelError::Started)
    );
    assert_eq!(e.cancel_message(T0, b), Ok(()));
    assert_eq!(
        e.cancel_message(T0, b),
        Err(smbdirect::CancelError::Unknown)
    );
    let mut tokens = vec![t.token];
    while let Some(t) = e.poll_transmit(u32::MAX) {
        assert_eq!(t.message, Some(a));
        tokens.push(t.token);
    }
    assert_eq!(tokens.len(), 3);
    for t in tokens {
        e.on_send_complete(T0, t).unwrap();
    }
    assert_eq!(e.poll_event(), Some(smbdirect::Event::MessageSent(a)));
    assert_eq!(e.poll_event(), None);
    assert_eq!(e.stats().messages_cancelled, 1);
}

/// Control messages (credit-only, keepalive, negotiate) are tracked: a
/// completion with the control token when none is in flight is misuse.
#[test]
fn control_sends_tracked() {
    let mut p = connected_pair();
    let e = &mut p.client.engine;
    e.send_message(T0, 10).unwrap();
    let t = e.poll_transmit(u32::MAX).unwrap();
    assert_ne!(t.token, SendToken::from_raw(0));
    // One data send in flight, no control send.
    assert_eq!(
        e.on_send_complete(T0, SendToken::from_raw(0)),
        Err(Error::Local(LocalError::UnknownSendToken))
    );
}

/// §3.1.5.6/§3.1.5.3 through the engine: a client asking for 10 credits
/// gets 10 in the negotiate response, not every posted receive.
#[test]
fn negotiate_response_grants_credits_requested() {
    let client = Config {
        send_credit_target: 10,
        ..Config::default_client()
    };
    let mut server = Engine::new(Role::Server, Config::default_server(), T0).unwrap();
    drive(&mut server);
    let req = emit_request(&smbdirect::negotiate::build_request(&client));
    recv(&mut server, &req).unwrap();
    let t = drive(&mut server)
        .into_iter()
        .find_map(|a| match a {
            Action::Transmit(t) => Some(t),
            _ => None,
        })
        .unwrap();
    let granted = NegotiateResponse::new_unchecked(t.header()).credits_granted();
    assert_eq!(granted, 10);
    assert_eq!(server.stats().posted_receives, 255);
}

/// RDMA read/write credits are lent only while connected, reads within the
/// negotiated ORD, and a release beyond what is held is misuse.
#[test]
fn rdma_credits() {
    use smbdirect::{RdmaError, RdmaOp};
    let mut e = Engine::new(Role::Server, Config::default_server(), T0).unwrap();
    assert_eq!(
        e.rdma_acquire(T0, RdmaOp::Write, 1),
        Err(RdmaError::NotConnected)
    );
    let mut p = connected_pair();
    let e = &mut p.server.engine;
    let ord = smbdirect::rdma::negotiate_ird_ord(smbdirect::IrdOrd { ird: 4, ord: 4 }, 16, 2);
    e.set_rdma_ord(ord.ord);
    e.rdma_acquire(T0, RdmaOp::Read, 2).unwrap();
    assert_eq!(
        e.rdma_acquire(T0, RdmaOp::Read, 1),
        Err(RdmaError::WouldBlock)
    );
    let max = Config::default_server().rdma_credit_max;
    e.rdma_acquire(T0, RdmaOp::Write, 14).unwrap();
    e.rdma_acquire(T0, RdmaOp::Write, max - 16).unwrap();
    assert_eq!(
        e.rdma_acquire(T0, RdmaOp::Write, 1),
        Err(RdmaError::WouldBlock)
    );
    assert_eq!(e.stats().rdma_credits_held, max);
    e.rdma_release(T0, RdmaOp::Write, max - 16).unwrap();
    e.rdma_release(T0, RdmaOp::Read, 2).unwrap();
    assert_eq!(
        e.rdma_release(T0, RdmaOp::Write, 15),
        Err(Error::Local(LocalError::TooManyRdmaReleased {
            released: 15,
            held: 14
        }))
    );
    assert!(matches!(
        e.poll_action(),
        Some(Action::Disconnect(DisconnectReason::Misuse(_)))
    ));
}

/// The engine against a model of Linux 6.12's granting (only the receives
/// it posted since its last message, no reserve) on the other end, either
/// role, with and without lazily reported posts: nothing stalls and every
/// byte arrives.
#[test]
fn conservative_peer() {
    for seed in 0..24u64 {
        // Linux 6.12's own refill path (`check_and_send_immediate`). A peer
        // granting only with data and keepalive answers can leave us at
        // zero credits with nothing to send: see `data_only_peer`.
        let granting = Granting::OnPost;
        let credits = [255u16, 32, 8][(seed % 3) as usize];
        let cfg = Config {
            receive_credit_max: credits,
            send_credit_target: credits,
            consumer: Consumer::Streaming,
            ..Config::default_client()
        };
        let o = if seed % 4 < 2 {
            Options {
                server_peer: Some(granting),
                lazy_posts: seed % 8 < 4,
                ..Options::default()
            }
        } else {
            Options {
                client_peer: Some(granting),
                lazy_posts: seed % 8 < 4,
                ..Options::default()
            }
        };
        let s = Scenario {
            seed: 5000 + seed,
            client: cfg,
            server: cfg,
            messages_each_way: 12,
            max_message: 131_072,
            consume_percent: 20 + seed * 3,
            max_steps: 3_000_000,
        };
        try_run(&s, &o).unwrap_or_else(|e| panic!("{granting:?} {o:?}: {}", e.0));
    }
}

/// A peer that grants only with data (and keepalive answers) still moves
/// data both ways against the engine while it has data to send.
#[test]
fn data_only_peer() {
    for seed in 0..8u64 {
        let cfg = Config {
            consumer: Consumer::Streaming,
            ..Config::default_client()
        };
        let o = Options {
            server_peer: Some(Granting::DataOnly),
            ..Options::default()
        };
        let s = Scenario {
            seed: 6000 + seed,
            client: cfg,
            server: cfg,
            messages_each_way: 12,
            max_message: 131_072,
            consume_percent: 90,
            max_steps: 3_000_000,
        };
        try_run(&s, &o).unwrap_or_else(|e| panic!("{}", e.0));
    }
}
