// SPDX-License-Identifier: GPL-2.0

//! Teardown: the first failure names the disconnect, the engine is Closing
//! until the transport has taken the `Disconnect`, and nothing after it
//! brings a second one or reopens the connection.

use smbdirect::{Action, Config, DecodeError, DisconnectReason, Engine, Instant, Role, State};

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
