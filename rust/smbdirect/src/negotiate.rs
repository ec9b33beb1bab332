// SPDX-License-Identifier: GPL-2.0

//! The negotiate exchange for both roles (§3.1.5.2, §3.1.5.3, §3.1.5.6,
//! §3.1.5.7).
//!
//! These are pure functions from the local [`Config`] and the peer's bytes
//! to the [`NegotiatedParams`] of the connection; the engine calls them and
//! keeps the state.

use super::config::{Config, Consumer, Role};
use super::error::DecodeError;
use super::fragment::max_fragment_payload;
use super::wire::{
    NegotiateRequest, NegotiateRequestRepr, NegotiateResponse, NegotiateResponseRepr,
    MIN_FRAGMENTED_SIZE, MIN_RECEIVE_SIZE, SMBD_VERSION_1, STATUS_SUCCESS,
};

/// The connection parameters both ends agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiatedParams {
    /// The role of the local end.
    pub role: Role,
    /// The largest message we may send, header included.
    pub max_send_size: u32,
    /// The largest message the peer may send us, header included.
    pub max_receive_size: u32,
    /// The largest upper-layer message we may send (the peer's
    /// MaxFragmentedSize).
    pub max_fragmented_send_size: u32,
    /// The largest upper-layer message we reassemble.
    pub max_fragmented_recv_size: u32,
    /// The largest RDMA read or write of the connection.
    pub max_read_write_size: u32,
    /// The send credits granted by the negotiate response (0 on a server,
    /// whose credits come with the client's first data transfer message).
    pub initial_send_credits: u16,
    /// The number of receive credits the peer asks us to keep granted
    /// (Connection.ReceiveCreditTarget).
    pub receive_credit_target: u16,
}

/// Builds the client's negotiate request (§3.1.5.2).
pub const fn build_request(config: &Config) -> NegotiateRequestRepr {
    NegotiateRequestRepr {
        min_version: SMBD_VERSION_1,
        max_version: SMBD_VERSION_1,
        credits_requested: config.send_credit_target,
        preferred_send_size: config.max_send_size,
        max_receive_size: config.max_receive_size,
        max_fragmented_size: config.max_fragmented_recv_size,
    }
}

/// Returns `min(own, peer)` floored at the protocol minimum of 128 bytes.
fn negotiated_receive_size(own: u32, peer_preferred_send: u32) -> u32 {
    own.min(peer_preferred_send).max(MIN_RECEIVE_SIZE)
}

/// Returns the MaxFragmentedSize a server announces (§3.1.5.3). A
/// whole-message consumer keeps a message's buffers until it is complete,
/// so when the client sends fragments shorter than our buffers (its
/// PreferredSendSize) the announced size shrinks to what the buffers hold,
/// down to the protocol minimum (known bug 10).
fn fragmented_recv_size(config: &Config, max_receive_size: u32) -> u32 {
    match config.consumer {
        Consumer::Streaming => config.max_fragmented_recv_size,
        Consumer::WholeMessage => {
            let fits = u32::from(config.receive_credit_max.saturating_sub(1))
                .saturating_mul(max_fragment_payload(max_receive_size));
            config
                .max_fragmented_recv_size
                .min(fits)
                .max(MIN_FRAGMENTED_SIZE)
        }
    }
}

/// Processes a negotiate request on the server (§3.1.5.6).
///
/// `DecodeError::UnsupportedVersion` means the server must answer with a
/// failure response carrying `STATUS_NOT_SUPPORTED`; every other error means
/// the connection is dropped without an answer.
pub fn process_request(config: &Config, bytes: &[u8]) -> Result<NegotiatedParams, DecodeError> {
    let req = NegotiateRequestRepr::parse(&NegotiateRequest::new_checked(bytes)?)?;
    let max_receive_size =
        negotiated_receive_size(config.max_receive_size, req.preferred_send_size);
    Ok(NegotiatedParams {
        role: Role::Server,
        max_send_size: config.max_send_size.min(req.max_receive_size),
        max_receive_size,
        max_fragmented_send_size: req.max_fragmented_size,
        max_fragmented_recv_size: fragmented_recv_size(config, max_receive_size),
        max_read_write_size: config.max_read_write_size,
        initial_send_credits: 0,
        receive_credit_target: req.credits_requested,
    })
}

/// Builds the server's success response (§3.1.5.3); `credits_granted` is
/// the number of receives actually posted.
pub const fn build_response(
    config: &Config,
    params: &NegotiatedParams,
    credits_granted: u16,
) -> NegotiateResponseRepr {
    NegotiateResponseRepr {
        min_version: SMBD_VERSION_1,
        max_version: SMBD_VERSION_1,
        negotiated_version: SMBD_VERSION_1,
        credits_requested: config.send_credit_target,
        credits_granted,
        status: STATUS_SUCCESS,
        max_read_write_size: params.max_read_write_size,
        preferred_send_size: params.max_send_size,
        max_receive_size: params.max_receive_size,
        max_fragmented_size: params.max_fragmented_recv_size,
    }
}

/// Processes the negotiate response on the client (§3.1.5.7), including the
/// Status check that Linux 6.12 lacks.
pub fn process_response(config: &Config, bytes: &[u8]) -> Result<NegotiatedParams, DecodeError> {
    let resp = NegotiateResponseRepr::parse(&NegotiateResponse::new_checked(bytes)?)?;
    if resp.preferred_send_size > config.max_receive_size {
        return Err(DecodeError::PreferredSendSizeTooLarge {
            value: resp.preferred_send_size,
            max: config.max_receive_size,
        });
    }
    Ok(NegotiatedParams {
        role: Role::Client,
        max_send_size: config.max_send_size.min(resp.max_receive_size),
        max_receive_size: negotiated_receive_size(
            config.max_receive_size,
            resp.preferred_send_size,
        ),
        max_fragmented_send_size: resp.max_fragmented_size,
        max_fragmented_recv_size: config.max_fragmented_recv_size,
        max_read_write_size: config.max_read_write_size.min(resp.max_read_write_size),
        initial_send_credits: resp.credits_granted,
        receive_credit_target: resp.credits_requested,
    })
}

#[cfg(test)]
mod tests {
    use super::super::wire::STATUS_NOT_SUPPORTED;
    use super::*;

    fn emit_req(r: &NegotiateRequestRepr) -> [u8; 20] {
        let mut b = [0u8; 20];
        r.emit(&mut NegotiateRequest::new_unchecked(&mut b[..]));
        b
    }

    fn emit_resp(r: &NegotiateResponseRepr) -> [u8; 32] {
        let mut b = [0u8; 32];
        r.emit(&mut NegotiateResponse::new_unchecked(&mut b[..]));
        b
    }

    /// §3.1.5.2: the request carries the local parameters.
    #[test]
    fn request_from_config() {
        let c = Config::default_client();
        let r = build_request(&c);
        assert_eq!((r.min_version, r.max_version), (0x0100, 0x0100));
        assert_eq!(r.credits_requested, 255);
        assert_eq!(r.preferred_send_size, 1364);
        assert_eq!(r.max_receive_size, 1364);
        assert_eq!(r.max_fragmented_size, 173_910);
    }

    /// §4.1 worked example, both directions.
    #[test]
    fn worked_example() {
        let client = Config {
            send_credit_target: 10,
            max_send_size: 1024,
            max_receive_size: 1024,
            max_fragmented_recv_size: 131_072,
            ..Config::default_client()
        };
        let server = Config {
            send_credit_target: 10,
            max_send_size: 1024,
            max_receive_size: 1024,
            max_fragmented_recv_size: 131_072,
            max_read_write_size: 1_048_576,
            ..Config::default_server()
        };
        let sp = process_request(&server, &emit_req(&build_request(&client))).unwrap();
        assert_eq!(sp.receive_credit_target, 10);
        assert_eq!(sp.max_send_size, 1024);
        assert_eq!(sp.initial_send_credits, 0);
        let resp = build_response(&server, &sp, 10);
        let cp = process_response(&client, &emit_resp(&resp)).unwrap();
        assert_eq!(cp.initial_send_credits, 10);
        assert_eq!(cp.receive_credit_target, 10);
        assert_eq!(cp.max_read_write_size, 1_048_576);
        assert_eq!(cp.max_send_size, 1024);
        assert_eq!(cp.max_receive_size, 1024);
        assert_eq!(cp.max_fragmented_send_size, 131_072);
    }

    /// §3.1.5.6 and §3.1.5.7: sizes are the minimum of both ends.
    #[test]
    fn sizes_are_minima() {
        let client = Config {
            max_send_size: 8192,
            max_receive_size: 8192,
            ..Config::default_client()
        };
        let server = Config::default_server();
        let sp = process_request(&server, &emit_req(&build_request(&client))).unwrap();
        assert_eq!(sp.max_send_size, 1364);
        assert_eq!(sp.max_receive_size, 1364);
        let cp = process_response(&client, &emit_resp(&build_response(&server, &sp, 5))).unwrap();
        assert_eq!(cp.max_send_size, 1364);
        assert_eq!(cp.max_receive_size, 1364);
        assert_eq!(cp.max_read_write_size, 1_048_576);
    }

    /// Known bug 10: a whole-message server facing a client that sends
    /// short fragments announces a MaxFragmentedSize its buffers can hold.
    #[test]
    fn whole_message_server_shrinks_fragmented_size() {
        let mut r = build_request(&Config::default_client());
        r.preferred_send_size = 1024;
        let server = Config::default_server();
        let sp = process_request(&server, &emit_req(&r)).unwrap();
        // 254 buffers of 1000 payload bytes, one kept in reserve.
        assert_eq!(sp.max_fragmented_recv_size, 173_910);
        let small = Config {
            receive_credit_max: 151,
            ..server
        };
        let sp = process_request(&small, &emit_req(&r)).unwrap();
        assert_eq!(sp.max_fragmented_recv_size, 150_000);
        let streaming = Config {
            consumer: Consumer::Streaming,
            ..small
        };
        let sp = process_request(&streaming, &emit_req(&r)).unwrap();
        assert_eq!(sp.max_fragmented_recv_size, 173_910);
    }

    /// §3.1.5.6: a peer PreferredSendSize below 128 is floored at 128.
    #[test]
    fn receive_size_floor() {
        let mut r = build_request(&Config::default_client());
        r.preferred_send_size = 16;
        let sp = process_request(&Config::default_server(), &emit_req(&r)).unwrap();
        assert_eq!(sp.max_receive_size, 128);
    }

    /// §3.1.5.7: PreferredSendSize larger than our MaxReceiveSize is refused.
    #[test]
    fn preferred_send_size_too_large() {
        let server = Config::default_server();
        let sp = process_request(
            &server,
            &emit_req(&build_request(&Config::default_client())),
        )
        .unwrap();
        let mut resp = build_response(&server, &sp, 1);
        resp.preferred_send_size = 1365;
        assert_eq!(
            process_response(&Config::default_client(), &emit_resp(&resp)),
            Err(DecodeError::PreferredSendSizeTooLarge {
                value: 1365,
                max: 1364
            })
        );
    }

    /// Known bug 4: the client refuses a failure response (Status != 0).
    #[test]
    fn negotiate_response_status_refused() {
        let b = emit_resp(&NegotiateResponseRepr::failure(STATUS_NOT_SUPPORTED));
        assert_eq!(
            process_response(&Config::default_client(), &b),
            Err(DecodeError::NegotiateFailed {
                status: STATUS_NOT_SUPPORTED
            })
        );
    }

    /// §3.1.5.6: a truncated request is refused.
    #[test]
    fn truncated_request() {
        let b = emit_req(&build_request(&Config::default_client()));
        assert!(matches!(
            process_request(&Config::default_server(), &b[..10]),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
