// SPDX-License-Identifier: GPL-2.0

//! The receive accounting of `Credits` on the paths a concurrent transport
//! takes (known bug 7 at the API boundary): a failed post, and a receive
//! that completes before its post is reported. And the two credit targets,
//! which `Stats` reports.

use smbdirect::credits::Credits;
use smbdirect::{Action, Config, DisconnectReason, Engine, Instant, LocalError, Role};

/// Failing to post some of the requested receives frees them; reporting
/// more failures than requests is the transport's error.
#[test]
fn post_failures_free_requested_receives() {
    let mut c = Credits::new(8, 8);
    assert_eq!(c.request_receives(4), 4);
    assert_eq!(c.receive_post_failed(3), Ok(()));
    assert_eq!((c.requested(), c.free_buffers()), (1, 7));
    assert_eq!(c.receive_post_failed(1), Ok(()));
    assert_eq!(c.requested(), 0);
    assert_eq!(
        c.receive_post_failed(1),
        Err(LocalError::TooManyPosted {
            reported: 1,
            requested: 0
        })
    );
    assert_eq!(c.free_buffers(), 8);
}

/// A receive that completes before the transport reports its post is not
/// counted as posted when the report comes: it is gone already, and
/// granting it would over-grant.
#[test]
fn completion_overtaking_its_post_report() {
    let mut c = Credits::new(8, 8);
    assert_eq!(c.request_receives(2), 2);
    // The negotiate message needs no credit.
    assert!(c.on_receive(false).is_ok());
    assert_eq!((c.posted(), c.requested()), (0, 1));
    // Both posts reported now: only one receive is still out there.
    assert_eq!(c.receives_posted(2), Ok(()));
    assert_eq!((c.posted(), c.requested()), (1, 0));
    assert!(c.receive_credits() <= c.posted());
}

/// A flushed receive (teardown) with none out changes nothing: it must not
/// be remembered as a completion overtaking a post report, or the next
/// real post would be swallowed.
#[test]
fn flush_with_nothing_out() {
    let mut c = Credits::new(8, 8);
    c.on_receive_flushed();
    assert_eq!(c, Credits::new(8, 8));
    assert_eq!(c.request_receives(1), 1);
    assert_eq!(c.receives_posted(1), Ok(()));
    assert_eq!(c.posted(), 1);
    c.on_receive_flushed();
    c.on_receive_flushed();
    assert_eq!((c.posted(), c.requested()), (0, 0));
    assert_eq!(
        c.receives_posted(1),
        Err(LocalError::TooManyPosted {
            reported: 1,
            requested: 0
        })
    );
}

/// A credit-only message goes when the peer holds less than half its
/// target, not at exactly half (§3.1.5.9 leaves the threshold to us).
#[test]
fn credit_message_below_half_the_target() {
    let mut c = Credits::new(20, 20);
    c.set_receive_credit_target(10);
    assert_eq!(c.request_receives(10), 10);
    assert_eq!(c.receives_posted(10), Ok(()));
    c.set_initial_send_credits(5);
    // Up to the target, one receive kept in reserve.
    assert_eq!(c.spend_and_grant(), 9);
    // The peer spends four credits; their buffers are posted again.
    for _ in 0..4 {
        assert!(c.on_receive(true).is_ok());
        c.repost();
    }
    assert_eq!(c.receives_posted(4), Ok(()));
    assert_eq!((c.receive_credits(), c.posted()), (5, 10));
    assert!(!c.wants_credit_message());
    assert!(c.on_receive(true).is_ok());
    c.repost();
    assert_eq!(c.receives_posted(1), Ok(()));
    assert_eq!(c.receive_credits(), 4);
    assert!(c.wants_credit_message());
}

/// The engine turns a failed post into a transport failure, and a report
/// of more failures than requests into misuse.
#[test]
fn engine_post_failure_reasons() {
    let t = Instant(0);
    let mut e = Engine::new(Role::Server, Config::default_server(), t).unwrap();
    assert_eq!(e.poll_action(), Some(Action::PostReceives(1)));
    e.on_receive_post_failed(t, 1);
    assert_eq!(
        e.poll_action(),
        Some(Action::Disconnect(DisconnectReason::TransportFailure))
    );

    let mut e = Engine::new(Role::Server, Config::default_server(), t).unwrap();
    assert_eq!(e.poll_action(), Some(Action::PostReceives(1)));
    e.on_receive_post_failed(t, 2);
    assert_eq!(
        e.poll_action(),
        Some(Action::Disconnect(DisconnectReason::Misuse(
            LocalError::TooManyPosted {
                reported: 2,
                requested: 1
            }
        )))
    );
}

/// The targets are what was configured (send) and what the peer asked
/// for (receive), neither 0 nor 1 unless asked.
#[test]
fn credit_targets() {
    let mut c = Credits::new(100, 200);
    assert_eq!(c.send_credit_target(), 200);
    c.set_receive_credit_target(77);
    assert_eq!(c.receive_credit_target(), 77);
    // Bounded by our buffers when used.
    c.set_receive_credit_target(300);
    assert_eq!(c.receive_credit_target(), 300);
    assert_eq!(c.effective_target(), 100);
}
