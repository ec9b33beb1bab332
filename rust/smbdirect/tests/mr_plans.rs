// SPDX-License-Identifier: GPL-2.0

//! Memory-registration and RDMA planning through the public API: each
//! device limit is checked alone, page counts are exact, and the RDMA
//! planner's `remaining` counts down to zero.

use smbdirect::mr::{plan_registration, DeviceLimits, MrSpan, RdmaPlanner, Segment};
use smbdirect::wire::{BufferDescriptorV1, BufferDescriptorV1Repr, DescriptorList};
use smbdirect::MrError;

const LIMITS: DeviceLimits = DeviceLimits {
    page_size: 4096,
    max_fast_reg_page_list_len: 256,
    max_sge_per_wr: 4,
    max_rdma_wr_size: 65536,
};

fn plan(segs: &[Segment], limits: &DeviceLimits) -> Result<Vec<MrSpan>, MrError> {
    let mut out = [MrSpan::default(); 8];
    let n = plan_registration(segs, limits, 1 << 20, &mut out)?;
    Ok(out[..n].to_vec())
}

/// Each limit alone being zero (or a page size that is not a power of
/// two) is refused.
#[test]
fn each_bad_limit_refused() {
    let seg = [Segment {
        addr: 0x1000,
        len: 100,
    }];
    for bad in [
        DeviceLimits {
            page_size: 3000,
            ..LIMITS
        },
        DeviceLimits {
            max_fast_reg_page_list_len: 0,
            ..LIMITS
        },
        DeviceLimits {
            max_sge_per_wr: 0,
            ..LIMITS
        },
        DeviceLimits {
            max_rdma_wr_size: 0,
            ..LIMITS
        },
    ] {
        assert_eq!(plan(&seg, &bad), Err(MrError::BadLimits), "{bad:?}");
    }
    assert!(plan(&seg, &LIMITS).is_ok());
}

/// A region maps exactly the pages its bytes touch.
#[test]
fn exact_page_counts() {
    let count = |addr: u64, len: u32| {
        let v = plan(&[Segment { addr, len }], &LIMITS).unwrap();
        assert_eq!(v.len(), 1);
        v[0].page_count
    };
    assert_eq!(count(0x1000, 0x3000), 3);
    assert_eq!(count(0x1000, 1), 1);
    assert_eq!(count(0x1fff, 2), 2);
    assert_eq!(count(0x1800, 0x1000), 2);
    assert_eq!(count(0x10_0000, 0x10_0000), 256);
}

/// `remaining` starts at the transfer length and reaches zero with the
/// last work request.
#[test]
fn planner_remaining_counts_down() {
    let mut b = [0u8; 32];
    for (i, chunk) in b.chunks_exact_mut(16).enumerate() {
        BufferDescriptorV1Repr {
            offset: 0x10_0000 * (i as u64 + 1),
            token: 7,
            length: 100_000,
        }
        .emit(&mut BufferDescriptorV1::new_unchecked(chunk));
    }
    let list = DescriptorList::parse(&b, 150_000, 4).unwrap();
    let local = [Segment {
        addr: 0x9000_0000,
        len: 150_000,
    }];
    let mut p = RdmaPlanner::new(list, &local, 150_000, &LIMITS).unwrap();
    assert_eq!(p.remaining(), 150_000);
    let mut sges = [Segment::default(); 4];
    let mut moved = 0u64;
    while let Some(wr) = p.next_wr(&mut sges) {
        moved += u64::from(wr.length);
        assert_eq!(p.remaining(), 150_000 - moved);
    }
    assert_eq!((moved, p.remaining()), (150_000, 0));
}
