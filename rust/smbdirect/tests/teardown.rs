// SPDX-License-Identifier: GPL-2.0

//! Teardown: the first failure names the disconnect, the engine is Closing
//! until the transport has taken the `Disconnect`, and nothing after it
//! brings a second one, a send, or a timer. Also the RESPONSE_REQUESTED
//! flag a sender running out of credits puts on its fragments.

use smbdirect::wire::{
    DataTransfer, DataTransferRepr, NegotiateRequest, NegotiateResponse,
    SMB_DIRECT_RESPONSE_REQUESTED,
};
use smbdirect::{
    negotiate, Action, CancelError, Config, DecodeError, DisconnectReason, Engine, Instant,
    RecvOutcome, Role, SendToken, State,
};

const T: Instant = Instant(0);

#[test]
fn first_failure_names_the_disconnect() {
    let mut e = Engine::new(Role::Client, Config::default_client(), T).unwrap();
    assert_eq!(e.poll_action(), Some(Action::PostReceives(1)));
    e.on_receives_posted(T, 1).unwrap();
    let Some(Action::Transmit(request)) = e.poll_action() else {
        panic!("no negotiate request");
    };
    assert_eq!(e.poll_action(), None);

    // A truncated negotiate response, then the request's send fails too,
    // before the transport polls: the response is why the connection ends.
    assert!(e.on_recv(T, &[0u8; 5]).is_err());
    assert_eq!(e.state(), State::Closing);
    e.on_send_failed(T, request.token);
    assert_eq!(e.state(), State::Closing);
    let truncated = DecodeError::Truncated { needed: 32, got: 5 };
    assert_eq!(
        e.poll_action(),
        Some(Action::Disconnect(DisconnectReason::Decode(truncated)))
    );
    assert_eq!(e.state(), State::Closed);
    assert_eq!(e.stats().decode_errors, 1);
    assert_eq!(e.stats().transport_errors, 1);

    // Failures after the Disconnect change nothing.
    e.on_recv_failed(T);
    e.on_send_failed(T, request.token);
    e.close(T);
    assert_eq!(e.state(), State::Closed);
    assert_eq!(e.poll_action(), None);
}

/// A client connected by a server that granted it `credits + 1` send
/// credits, with every receive reported posted. Its first message, a
/// credit-only one granting the server its credits, spends one: `credits`
/// are left.
fn client_with_credits(credits: u16) -> Engine {
    let (mut e, held) = client_holding_credit_message(credits);
    e.on_send_complete(T, held).unwrap();
    e
}

/// A connected client holding `credits` send credits whose first
/// credit-only message (the grant that follows the negotiation) is still in
/// flight; returns its token.
fn client_holding_credit_message(credits: u16) -> (Engine, SendToken) {
    let cfg = Config::default_client();
    let mut e = Engine::new(Role::Client, cfg, T).unwrap();
    assert_eq!(e.poll_action(), Some(Action::PostReceives(1)));
    e.on_receives_posted(T, 1).unwrap();
    let Some(Action::Transmit(request)) = e.poll_action() else {
        panic!("no negotiate request");
    };
    e.on_send_complete(T, request.token).unwrap();
    let server = Config::default_server();
    let params = negotiate::process_request(&server, request.header()).unwrap();
    let mut b = [0u8; 32];
    negotiate::build_response(&server, &params, credits + 1)
        .emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
    assert_eq!(e.on_recv(T, &b), Ok(RecvOutcome::Repost));
    e.on_receives_posted(T, 1).unwrap();
    let mut credit_only = Vec::new();
    while let Some(a) = e.poll_action() {
        match a {
            Action::PostReceives(n) => e.on_receives_posted(T, n).unwrap(),
            Action::Transmit(t) => {
                assert_eq!(t.payload_len, 0);
                credit_only.push(t.token);
            }
            _ => {}
        }
    }
    assert_eq!(credit_only.len(), 1);
    assert_eq!(e.state(), State::Connected);
    assert_eq!(e.stats().send_credits, credits);
    // The request builder agrees with what was sent.
    let mut r = [0u8; 20];
    negotiate::build_request(&cfg).emit(&mut NegotiateRequest::new_unchecked(&mut r[..]));
    assert_eq!(&r[..], request.header());
    (e, credit_only[0])
}

/// A failed data send is accounted to its message only: a credit-only
/// message still in flight completes normally afterwards, and a second
/// completion of it is refused.
#[test]
fn failed_send_leaves_other_sends_accounted() {
    let (mut e, control) = client_holding_credit_message(3);
    e.send_message(T, 100).unwrap();
    let Some(Action::Transmit(data)) = e.poll_action() else {
        panic!("no data transmit");
    };
    assert!(data.payload_len > 0);
    e.on_send_failed(T, data.token);
    assert_eq!(e.state(), State::Closing);
    assert_eq!(e.on_send_complete(T, control), Ok(()));
    assert!(e.on_send_complete(T, control).is_err());
}

/// The flags of the next transmit, which must be a data fragment.
fn next_fragment_flags(e: &mut Engine) -> u16 {
    let Some(Action::Transmit(t)) = e.poll_action() else {
        panic!("no transmit");
    };
    assert!(t.payload_len > 0);
    let mut msg = t.header().to_vec();
    msg.resize(msg.len() + t.payload_len as usize, 0);
    DataTransferRepr::parse(&DataTransfer::new_unchecked(&msg[..]))
        .unwrap()
        .flags
}

/// A fragment that leaves the sender one credit or none asks the peer to
/// answer promptly (RESPONSE_REQUESTED, §2.2.3), so that fresh credits come
/// back without waiting for the peer's own traffic; one that leaves two does
/// not.
#[test]
fn low_credits_ask_for_a_response() {
    let mut e = client_with_credits(3);
    e.send_message(T, 3000).unwrap();
    // 1340 + 1340 + 320 bytes, leaving 2, 1 and 0 credits.
    assert_eq!(next_fragment_flags(&mut e), 0);
    assert_eq!(next_fragment_flags(&mut e), SMB_DIRECT_RESPONSE_REQUESTED);
    assert_eq!(next_fragment_flags(&mut e), SMB_DIRECT_RESPONSE_REQUESTED);
    assert_eq!(e.stats().send_credits, 0);
}

/// Between a failure and the `Disconnect`, a queued message neither leaves
/// nor offers its next fragment; after the transport's own disconnect
/// report, no timer is left.
#[test]
fn nothing_leaves_after_a_failure() {
    let mut e = client_with_credits(10);
    e.send_message(T, 100).unwrap();
    assert!(e.next_fragment().is_some());
    e.on_recv_failed(T);
    assert_eq!(e.state(), State::Closing);
    assert_eq!(e.next_fragment(), None);
    assert_eq!(e.poll_transmit(u32::MAX), None);
    assert_eq!(
        e.poll_action(),
        Some(Action::Disconnect(DisconnectReason::TransportFailure))
    );

    let mut e = Engine::new(Role::Client, Config::default_client(), T).unwrap();
    assert!(e.poll_timeout().is_some());
    e.on_disconnected(T);
    assert_eq!(e.state(), State::Closed);
    assert_eq!(e.poll_timeout(), None);
}

/// A message queued behind no credit has not started: it can be
/// cancelled, once.
#[test]
fn queued_message_cancelled_before_it_starts() {
    let mut e = client_with_credits(0);
    let id = e.send_message(T, 100).unwrap();
    assert_eq!(e.poll_transmit(u32::MAX), None);
    assert_eq!(e.cancel_message(T, id), Ok(()));
    assert_eq!(e.cancel_message(T, id), Err(CancelError::Unknown));
    assert_eq!(e.stats().messages_cancelled, 1);
}
