// SPDX-License-Identifier: GPL-2.0

//! What the errors say when printed. A transport logs them (`{}` in a
//! `pr_warn!`) when it tears a connection down, so the line a user finds in
//! dmesg must name the broken rule and carry the values that broke it.

use smbdirect::{DecodeError, Error, LocalError, ProtocolError};

/// Each error with words its message must contain.
fn decode_errors() -> Vec<(DecodeError, &'static [&'static str])> {
    vec![
        (
            DecodeError::Truncated {
                needed: 20,
                got: 19,
            },
            &["Truncated", "20", "19"],
        ),
        (
            DecodeError::TooLong {
                max: 1364,
                got: 1365,
            },
            &["TooLong", "1364", "1365"],
        ),
        (
            DecodeError::UnsupportedVersion {
                min: 0x0200,
                max: 0x0300,
            },
            // 0x0200 and 0x0300 in decimal, as Debug prints them.
            &["UnsupportedVersion", "512", "768"],
        ),
        (DecodeError::ZeroCreditsRequested, &["ZeroCreditsRequested"]),
        (DecodeError::ZeroCreditsGranted, &["ZeroCreditsGranted"]),
        (
            DecodeError::MaxReceiveSizeTooSmall { value: 127 },
            &["MaxReceiveSizeTooSmall", "127"],
        ),
        (
            DecodeError::MaxFragmentedSizeTooSmall { value: 131_071 },
            &["MaxFragmentedSizeTooSmall", "131071"],
        ),
        (
            DecodeError::PreferredSendSizeTooLarge {
                value: 8192,
                max: 1364,
            },
            &["PreferredSendSizeTooLarge", "8192", "1364"],
        ),
        (
            DecodeError::NegotiateFailed {
                status: 0xC000_00BB,
            },
            &["NegotiateFailed", "3221225659"],
        ),
        (
            DecodeError::MisalignedDataOffset { offset: 25 },
            &["MisalignedDataOffset", "25"],
        ),
        (
            DecodeError::DataOffsetInHeader { offset: 16 },
            &["DataOffsetInHeader", "16"],
        ),
        (
            DecodeError::DataOffsetOverflow {
                offset: 4_294_967_288,
                length: 16,
            },
            &["DataOffsetOverflow", "4294967288", "16"],
        ),
        (
            DecodeError::DataOutOfBounds {
                end: 29,
                received: 28,
            },
            &["DataOutOfBounds", "29", "28"],
        ),
        (
            DecodeError::FragmentTooLarge {
                total: 173_911,
                max: 173_910,
            },
            &["FragmentTooLarge", "173911", "173910"],
        ),
        (
            DecodeError::RemainingWithoutData { remaining: 100 },
            &["RemainingWithoutData", "100"],
        ),
        (DecodeError::NoDescriptors, &["NoDescriptors"]),
        (
            DecodeError::DescriptorListLength { len: 17 },
            &["DescriptorListLength", "17"],
        ),
        (
            DecodeError::ZeroLengthDescriptor { index: 3 },
            &["ZeroLengthDescriptor", "3"],
        ),
        (
            DecodeError::DescriptorOverflow { index: 2 },
            &["DescriptorOverflow", "2"],
        ),
        (
            DecodeError::TooManyDescriptors { count: 9, max: 8 },
            &["TooManyDescriptors", "9", "8"],
        ),
        (
            DecodeError::DescriptorsTooShort {
                total: 300,
                expected: 301,
            },
            &["DescriptorsTooShort", "300", "301"],
        ),
    ]
}

fn protocol_errors() -> Vec<(ProtocolError, &'static [&'static str])> {
    vec![
        (ProtocolError::NoReceiveCredit, &["NoReceiveCredit"]),
        (
            ProtocolError::CreditOverflow {
                held: 65_000,
                granted: 600,
            },
            &["CreditOverflow", "65000", "600"],
        ),
        (
            ProtocolError::FragmentMismatch {
                expected: 4000,
                got: 4001,
            },
            &["FragmentMismatch", "4000", "4001"],
        ),
    ]
}

fn says(message: &str, words: &[&str]) {
    for w in words {
        assert!(message.contains(w), "{message:?} does not say {w:?}");
    }
}

/// Every wire-format error names its rule and the values that broke it,
/// and no two print the same.
#[test]
fn decode_error_messages() {
    let all = decode_errors();
    let mut seen = Vec::new();
    for (e, words) in &all {
        let m = e.to_string();
        says(&m, words);
        assert!(!seen.contains(&m), "{m:?} printed twice");
        seen.push(m);
    }
}

/// Every connection-state error names its rule and its values.
#[test]
fn protocol_error_messages() {
    for (e, words) in protocol_errors() {
        says(&e.to_string(), words);
    }
}

/// An engine `Error` says which side broke a rule (the peer's message, the
/// peer's state, or the caller) and carries the inner error's message.
#[test]
fn error_messages() {
    for (e, words) in decode_errors() {
        let m = Error::Decode(e).to_string();
        says(&m, &["Decode"]);
        says(&m, words);
    }
    for (e, words) in protocol_errors() {
        let m = Error::Protocol(e).to_string();
        says(&m, &["Protocol"]);
        says(&m, words);
    }
    let m = Error::Local(LocalError::TooManyConsumed {
        consumed: 5,
        parked: 4,
    })
    .to_string();
    says(&m, &["Local", "TooManyConsumed", "5", "4"]);
    says(&Error::Closed.to_string(), &["Closed"]);
}

/// The `From` conversions keep the inner error.
#[test]
fn error_from_inner() {
    let d = DecodeError::ZeroCreditsRequested;
    assert_eq!(Error::from(d), Error::Decode(d));
    let p = ProtocolError::NoReceiveCredit;
    assert_eq!(Error::from(p), Error::Protocol(p));
    let l = LocalError::UnknownSendToken;
    assert_eq!(Error::from(l), Error::Local(l));
}
