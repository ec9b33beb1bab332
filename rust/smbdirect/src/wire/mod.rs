// SPDX-License-Identifier: GPL-2.0

//! Zero-copy views and validated representations of the [MS-SMBD] messages.
//!
//! Each message has two types, in the style of smoltcp's wire layer. The view
//! (`NegotiateRequest<T>`, `NegotiateResponse<T>`, `DataTransfer<T>`,
//! `BufferDescriptorV1<T>`) wraps a byte buffer; after `new_checked` none of
//! its accessors can fail. The representation (`...Repr`) is the parsed
//! meaning: `Repr::parse` performs every semantic check of the specification
//! and returns a [`DecodeError`] naming the broken rule, `Repr::emit` writes
//! the message back and `Repr::buffer_len` says how many bytes it needs.
//!
//! All integers are little-endian.

mod buffer_descriptor;
mod data_transfer;
mod negotiate;

pub use buffer_descriptor::{BufferDescriptorV1, BufferDescriptorV1Repr, DescriptorList};
pub use data_transfer::{DataTransfer, DataTransferRepr};
pub use negotiate::{
    NegotiateRequest, NegotiateRequestRepr, NegotiateResponse, NegotiateResponseRepr,
};

pub use super::error::DecodeError;

/// A byte range of a header field.
type Field = core::ops::Range<usize>;

/// The only protocol version, 1.0 (§1.7, §2.2.1).
pub const SMBD_VERSION_1: u16 = 0x0100;

/// The NTSTATUS value for success.
pub const STATUS_SUCCESS: u32 = 0;

/// The NTSTATUS a server sends when the version range is not supported
/// (§3.1.5.6).
pub const STATUS_NOT_SUPPORTED: u32 = 0xC000_00BB;

/// The smallest MaxReceiveSize a peer may announce (§3.1.5.6, §3.1.5.7).
pub const MIN_RECEIVE_SIZE: u32 = 128;

/// The smallest MaxFragmentedSize a peer may announce (§3.1.5.6, §3.1.5.7).
pub const MIN_FRAGMENTED_SIZE: u32 = 131_072;

/// The flag asking the receiver to reply promptly (§2.2.3).
pub const SMB_DIRECT_RESPONSE_REQUESTED: u16 = 0x0001;

/// Reads a little-endian `u16` field, or 0 if the buffer is too short.
fn get_u16(buf: &[u8], field: Field) -> u16 {
    match buf.get(field) {
        Some(&[a, b]) => u16::from_le_bytes([a, b]),
        _ => 0,
    }
}

/// Reads a little-endian `u32` field, or 0 if the buffer is too short.
fn get_u32(buf: &[u8], field: Field) -> u32 {
    match buf.get(field) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Reads a little-endian `u64` field, or 0 if the buffer is too short.
fn get_u64(buf: &[u8], field: Field) -> u64 {
    match buf.get(field) {
        Some(&[a, b, c, d, e, f, g, h]) => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
        _ => 0,
    }
}

/// Writes bytes into a field, ignoring what does not fit.
fn put(buf: &mut [u8], field: Field, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(field) {
        for (d, s) in dst.iter_mut().zip(bytes) {
            *d = *s;
        }
    }
}

/// Writes a little-endian `u16` field.
fn set_u16(buf: &mut [u8], field: Field, value: u16) {
    put(buf, field, &value.to_le_bytes());
}

/// Writes a little-endian `u32` field.
fn set_u32(buf: &mut [u8], field: Field, value: u32) {
    put(buf, field, &value.to_le_bytes());
}

/// Writes a little-endian `u64` field.
fn set_u64(buf: &mut [u8], field: Field, value: u64) {
    put(buf, field, &value.to_le_bytes());
}

/// Returns `Truncated` unless `buf` holds at least `needed` bytes.
fn check_len(buf: &[u8], needed: usize) -> Result<(), DecodeError> {
    if buf.len() < needed {
        Err(DecodeError::Truncated {
            needed: u32::try_from(needed).unwrap_or(u32::MAX),
            got: u32::try_from(buf.len()).unwrap_or(u32::MAX),
        })
    } else {
        Ok(())
    }
}
