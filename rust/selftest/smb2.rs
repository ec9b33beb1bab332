// SPDX-License-Identifier: GPL-2.0

//! Just enough SMB2 for first light: build a NEGOTIATE request ([MS-SMB2]
//! 2.2.3, with the SMB 3.1.1 preauth integrity context of 2.2.3.1.1) and
//! read the header and dialect of a NEGOTIATE response (2.2.4). Over SMB
//! Direct an SMB2 message travels without the 4-byte transport header that
//! TCP uses.

use kernel::prelude::*;

/// The SMB2 header's protocol id, 0xFE 'S' 'M' 'B'.
pub(super) const PROTOCOL_ID: [u8; 4] = [0xfe, b'S', b'M', b'B'];
/// The size of the SMB2 header.
pub(super) const HEADER_LEN: usize = 64;
/// SMB2 NEGOTIATE.
pub(super) const NEGOTIATE: u16 = 0;

const DIALECTS: [u16; 3] = [0x0300, 0x0302, 0x0311];
const PREAUTH_INTEGRITY_CAPABILITIES: u16 = 1;
const SHA512: u16 = 1;
const SALT_LEN: usize = 32;

const NETNAME_NEGOTIATE_CONTEXT_ID: u16 = 5;

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn get16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

fn get32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

const fn align8(v: usize) -> usize {
    (v + 7) & !7
}

/// Builds an SMB2 NEGOTIATE request offering SMB 3.0, 3.0.2 and 3.1.1,
/// with the preauth integrity context and, if `netname_chars` is not zero,
/// a server name context (2.2.3.1.4) of that many UTF-16 characters: the
/// server ignores it, and it makes the request as long as a test needs.
pub(super) fn negotiate_request(netname_chars: usize) -> Result<KVec<u8>> {
    let body = HEADER_LEN;
    let ctx_off = align8(HEADER_LEN + 36 + 2 * DIALECTS.len());
    let preauth_len = 8 + 6 + SALT_LEN;
    let netname_off = align8(ctx_off + preauth_len);
    let netname_len = 2 * netname_chars;
    let total = if netname_chars == 0 {
        ctx_off + preauth_len
    } else {
        netname_off + 8 + netname_len
    };
    let mut b = KVec::from_elem(0u8, total, GFP_KERNEL)?;
    // Header (2.2.1.2): protocol id, structure size 64, command, credits.
    b[..4].copy_from_slice(&PROTOCOL_ID);
    put16(&mut b, 4, 64);
    put16(&mut b, 12, NEGOTIATE);
    put16(&mut b, 14, 1);
    // Body (2.2.3): structure size 36, dialect count, signing enabled,
    // client GUID, then the dialects and the negotiate context list.
    put16(&mut b, body, 36);
    put16(&mut b, body + 2, DIALECTS.len() as u16);
    put16(&mut b, body + 4, 1);
    for (i, g) in b[body + 12..body + 28].iter_mut().enumerate() {
        *g = 0x5a ^ i as u8;
    }
    put32(&mut b, body + 28, ctx_off as u32);
    put16(&mut b, body + 32, if netname_chars == 0 { 1 } else { 2 });
    for (i, d) in DIALECTS.iter().enumerate() {
        put16(&mut b, body + 36 + 2 * i, *d);
    }
    // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: one hash (SHA-512), a salt.
    put16(&mut b, ctx_off, PREAUTH_INTEGRITY_CAPABILITIES);
    put16(&mut b, ctx_off + 2, (6 + SALT_LEN) as u16);
    put16(&mut b, ctx_off + 8, 1);
    put16(&mut b, ctx_off + 10, SALT_LEN as u16);
    put16(&mut b, ctx_off + 12, SHA512);
    for (i, s) in b[ctx_off + 14..ctx_off + 14 + SALT_LEN]
        .iter_mut()
        .enumerate()
    {
        *s = (i as u8).wrapping_mul(7);
    }
    if netname_chars != 0 {
        put16(&mut b, netname_off, NETNAME_NEGOTIATE_CONTEXT_ID);
        put16(&mut b, netname_off + 2, netname_len as u16);
        for i in 0..netname_chars {
            put16(
                &mut b,
                netname_off + 8 + 2 * i,
                u16::from(b'a' + (i % 26) as u8),
            );
        }
    }
    Ok(b)
}

/// What first light checks in an SMB2 message header.
pub(super) struct Header {
    pub(super) command: u16,
    pub(super) status: u32,
    pub(super) is_response: bool,
}

/// Reads the SMB2 header of `msg`, or `None` if it is not one.
pub(super) fn header(msg: &[u8]) -> Option<Header> {
    if msg.len() < HEADER_LEN || msg[..4] != PROTOCOL_ID || get16(msg, 4)? != 64 {
        return None;
    }
    Some(Header {
        command: get16(msg, 12)?,
        status: get32(msg, 8)?,
        is_response: get32(msg, 16)? & 1 != 0,
    })
}

/// The dialect a NEGOTIATE response chose (2.2.4, DialectRevision).
pub(super) fn negotiate_response_dialect(msg: &[u8]) -> Option<u16> {
    if get16(msg, HEADER_LEN)? != 65 {
        return None;
    }
    get16(msg, HEADER_LEN + 4)
}

/// The dialects a NEGOTIATE request offers, as a count and the first few.
pub(super) fn negotiate_request_dialects(msg: &[u8]) -> Option<(u16, [u16; 4])> {
    if get16(msg, HEADER_LEN)? != 36 {
        return None;
    }
    let count = get16(msg, HEADER_LEN + 2)?;
    let mut first = [0u16; 4];
    for (i, d) in first.iter_mut().enumerate().take(usize::from(count)) {
        *d = get16(msg, HEADER_LEN + 36 + 2 * i)?;
    }
    Some((count, first))
}
