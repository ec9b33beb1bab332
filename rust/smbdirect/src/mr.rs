// SPDX-License-Identifier: GPL-2.0

//! Memory-registration and RDMA read/write planning (§2.2.3.1, §3.1.4.3,
//! §3.1.4.4).
//!
//! These are pure functions over plain numbers, so that the transport keeps
//! every RDMA object and the rules live here, tested on the host.
//!
//! Client side: [`plan_registration`] splits an I/O, given as a list of DMA
//! segments, into fast-registration memory regions that each fit the
//! device's page-list depth, and refuses segment boundaries an FRMR cannot
//! express. Once the transport has registered them, [`build_descriptors`]
//! writes the `SMB_DIRECT_BUFFER_DESCRIPTOR_V1` array that goes into the
//! channel info of an SMB2 READ or WRITE.
//!
//! Server side: the channel info is validated by
//! [`DescriptorList::parse`](super::wire::DescriptorList::parse), and
//! [`RdmaPlanner`] turns it and the local buffer into RDMA read or write
//! work requests within the device's SGE and size limits.

use super::error::MrError;
use super::wire::{BufferDescriptorV1, BufferDescriptorV1Repr, DescriptorList};

/// A DMA-mapped piece of a local buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segment {
    /// The DMA address of the first byte.
    pub addr: u64,
    /// The number of bytes.
    pub len: u32,
}

/// The limits of an RDMA device that matter for planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceLimits {
    /// The page size of fast registration, a power of two.
    pub page_size: u32,
    /// The most pages one fast-registration MR maps.
    pub max_fast_reg_page_list_len: u32,
    /// The most local SGEs in one RDMA read or write work request.
    pub max_sge_per_wr: u32,
    /// The most bytes one RDMA read or write work request moves.
    pub max_rdma_wr_size: u32,
}

impl DeviceLimits {
    fn check(&self) -> Result<u32, MrError> {
        if !self.page_size.is_power_of_two()
            || self.max_fast_reg_page_list_len == 0
            || self.max_sge_per_wr == 0
            || self.max_rdma_wr_size == 0
        {
            return Err(MrError::BadLimits);
        }
        Ok(self.page_size.trailing_zeros())
    }
}

/// The part of an I/O one memory region covers.
///
/// It starts at byte `first_offset` of segment `first_segment` and ends
/// before byte `end_offset` of segment `last_segment` (inclusive index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MrSpan {
    /// The index of the first segment.
    pub first_segment: u32,
    /// The offset of the first byte within the first segment.
    pub first_offset: u32,
    /// The index of the last segment.
    pub last_segment: u32,
    /// The offset just past the last byte within the last segment.
    pub end_offset: u32,
    /// The number of bytes covered.
    pub length: u32,
    /// The number of pages the MR maps.
    pub page_count: u32,
}

/// The result of registering one planned memory region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Registration {
    /// The I/O virtual address of the region's first byte (`mr->iova`).
    pub iova: u64,
    /// The remote key of the region (`mr->rkey`).
    pub rkey: u32,
}

/// Checks the segments and returns the total length.
fn check_segments(segments: &[Segment]) -> Result<u64, MrError> {
    if segments.is_empty() {
        return Err(MrError::NoSegments);
    }
    let mut total: u64 = 0;
    for (index, s) in (0u32..).zip(segments) {
        if s.len == 0 {
            return Err(MrError::ZeroLengthSegment { index });
        }
        s.addr
            .checked_add(u64::from(s.len))
            .ok_or(MrError::SegmentOverflow { index })?;
        total = total.saturating_add(u64::from(s.len));
    }
    Ok(total)
}

/// Returns true if an FRMR can map a segment ending at `prev_end` followed
/// by one starting at `addr`: they are contiguous, or meet on page
/// boundaries (an MR's page list has no holes inside a page).
const fn joinable(prev_end: u64, addr: u64, page_mask: u64) -> bool {
    prev_end == addr || (prev_end & page_mask == 0 && addr & page_mask == 0)
}

/// Plans the fast-registration memory regions of an I/O.
///
/// Inside one MR every segment but the first must start on a page boundary
/// and every segment but the last must end on one, unless the two segments
/// are contiguous. Where two segments do not meet that way (a gap), the
/// region is closed and another starts at the second segment, so the I/O
/// gets one more buffer descriptor instead of being refused. A region is
/// also closed when it reaches `max_fast_reg_page_list_len` pages, and the
/// next one starts at the page boundary. The total must not exceed `max_read_write_size`. Returns the
/// number of entries written to `out`.
pub fn plan_registration(
    segments: &[Segment],
    limits: &DeviceLimits,
    max_read_write_size: u32,
    out: &mut [MrSpan],
) -> Result<usize, MrError> {
    let shift = limits.check()?;
    let page_mask = u64::from(limits.page_size).saturating_sub(1);
    let total = check_segments(segments)?;
    if total > u64::from(max_read_write_size) {
        return Err(MrError::TooLarge {
            len: total,
            max: max_read_write_size,
        });
    }
    let depth = u64::from(limits.max_fast_reg_page_list_len);
    let max_mrs = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let mut count: usize = 0;
    let mut current: Option<MrSpan> = None;
    // The last page counted in the current MR and the address where the
    // previous piece ended, to count a page shared by contiguous pieces once.
    let mut last_page: u64 = 0;
    let mut prev_end: u64 = 0;

    for (index, seg) in (0u32..).zip(segments) {
        if current.is_some() && !joinable(prev_end, seg.addr, page_mask) {
            let done = current.take().unwrap_or_default();
            let slot = out
                .get_mut(count)
                .ok_or(MrError::TooManyMrs { max: max_mrs })?;
            *slot = done;
            count = count.saturating_add(1);
        }
        let mut off: u32 = 0;
        while off < seg.len {
            let addr = seg.addr.saturating_add(u64::from(off));
            let left = seg.len.saturating_sub(off);
            let first = addr >> shift;
            let last = addr.saturating_add(u64::from(left)).saturating_sub(1) >> shift;
            let span = current.get_or_insert(MrSpan {
                first_segment: index,
                first_offset: off,
                last_segment: index,
                end_offset: off,
                length: 0,
                page_count: 0,
            });
            let shared = span.page_count > 0 && prev_end == addr && last_page == first;
            let new_pages = last
                .saturating_sub(first)
                .saturating_add(1)
                .saturating_sub(u64::from(shared));
            let room = depth.saturating_sub(u64::from(span.page_count));
            let take = if new_pages <= room {
                left
            } else {
                // Take whole pages up to the region's depth, then cut at the
                // next page boundary.
                let pages = room.saturating_add(u64::from(shared));
                let cut = first.saturating_add(pages) << shift;
                u32::try_from(cut.saturating_sub(addr))
                    .unwrap_or(0)
                    .min(left)
            };
            if take > 0 {
                let end = addr.saturating_add(u64::from(take));
                let taken_last = end.saturating_sub(1) >> shift;
                let taken_pages = taken_last
                    .saturating_sub(first)
                    .saturating_add(1)
                    .saturating_sub(u64::from(shared));
                span.last_segment = index;
                span.end_offset = off.saturating_add(take);
                span.length = span.length.saturating_add(take);
                span.page_count = span
                    .page_count
                    .saturating_add(u32::try_from(taken_pages).unwrap_or(u32::MAX));
                last_page = taken_last;
                prev_end = end;
                off = off.saturating_add(take);
            }
            if take < left {
                // The region is full: emit it and start a new one here.
                let done = current.take().unwrap_or_default();
                let slot = out
                    .get_mut(count)
                    .ok_or(MrError::TooManyMrs { max: max_mrs })?;
                *slot = done;
                count = count.saturating_add(1);
            }
        }
    }
    if let Some(done) = current {
        let slot = out
            .get_mut(count)
            .ok_or(MrError::TooManyMrs { max: max_mrs })?;
        *slot = done;
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// Writes the buffer descriptors of registered regions into `out`.
///
/// Each descriptor is Offset = iova, Token = rkey, Length = the region's
/// length, as Linux sends them. Returns the number of bytes written, 16 per
/// region.
pub fn build_descriptors(
    spans: &[MrSpan],
    registrations: &[Registration],
    out: &mut [u8],
) -> Result<usize, MrError> {
    if spans.len() != registrations.len() {
        return Err(MrError::RegistrationMismatch {
            spans: u32::try_from(spans.len()).unwrap_or(u32::MAX),
            registrations: u32::try_from(registrations.len()).unwrap_or(u32::MAX),
        });
    }
    let needed = spans.len().saturating_mul(BufferDescriptorV1::<&[u8]>::LEN);
    if out.len() < needed {
        return Err(MrError::BufferTooSmall {
            needed: u32::try_from(needed).unwrap_or(u32::MAX),
            got: u32::try_from(out.len()).unwrap_or(u32::MAX),
        });
    }
    // An index walk rather than `zip(chunks_exact_mut(..))`: in the kernel,
    // the latter's specialised `Zip::new` ends in a panic path that 6.12's
    // objtool does not recognise ("falls through to next function").
    let len = BufferDescriptorV1::<&[u8]>::LEN;
    let mut at = 0usize;
    for (span, reg) in spans.iter().zip(registrations) {
        let end = at.saturating_add(len);
        let Some(chunk) = out.get_mut(at..end) else {
            break;
        };
        at = end;
        let repr = BufferDescriptorV1Repr {
            offset: reg.iova,
            token: reg.rkey,
            length: span.length,
        };
        repr.emit(&mut BufferDescriptorV1::new_unchecked(chunk));
    }
    Ok(needed)
}

/// One RDMA read or write work request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdmaWr {
    /// The remote address (descriptor Offset plus progress).
    pub remote_addr: u64,
    /// The remote key (descriptor Token).
    pub rkey: u32,
    /// The number of bytes moved.
    pub length: u32,
    /// The number of local SGEs written to the caller's array.
    pub sge_count: u32,
}

/// Splits a transfer between remote descriptors and a local buffer into
/// RDMA work requests.
///
/// Each work request stays within one remote descriptor, uses at most
/// `max_sge_per_wr` local SGEs and moves at most `max_rdma_wr_size` bytes.
#[derive(Debug, Clone)]
pub struct RdmaPlanner<'a> {
    descriptors: DescriptorList<'a>,
    local: &'a [Segment],
    max_sge: u32,
    max_wr_size: u32,
    desc_index: usize,
    desc_off: u64,
    local_index: usize,
    local_off: u32,
    remaining: u64,
}

impl<'a> RdmaPlanner<'a> {
    /// Plans a transfer of `len` bytes (at most the descriptors' total, for
    /// a short read) between `descriptors` and `local`.
    pub fn new(
        descriptors: DescriptorList<'a>,
        local: &'a [Segment],
        len: u64,
        limits: &DeviceLimits,
    ) -> Result<Self, MrError> {
        limits.check()?;
        // An empty SGE reads as 2 GiB to some providers, and a segment
        // whose end wraps cannot be mapped: refused as for registrations.
        let have = check_segments(local)?;
        if have < len {
            return Err(MrError::LocalTooShort { have, need: len });
        }
        if descriptors.total_len() < len {
            return Err(MrError::RemoteTooShort {
                have: descriptors.total_len(),
                need: len,
            });
        }
        Ok(RdmaPlanner {
            descriptors,
            local,
            max_sge: limits.max_sge_per_wr,
            max_wr_size: limits.max_rdma_wr_size,
            desc_index: 0,
            desc_off: 0,
            local_index: 0,
            local_off: 0,
            remaining: len,
        })
    }

    /// Returns the bytes not yet planned.
    pub const fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Returns the next work request and writes its local SGEs to `sges`,
    /// or `None` when the transfer is fully planned (or `sges` is empty).
    pub fn next_wr(&mut self, sges: &mut [Segment]) -> Option<RdmaWr> {
        if self.remaining == 0 {
            return None;
        }
        // Skip exhausted descriptors.
        let desc = loop {
            let d = self.descriptors.get(self.desc_index)?;
            if self.desc_off < u64::from(d.length) {
                break d;
            }
            self.desc_index = self.desc_index.saturating_add(1);
            self.desc_off = 0;
        };
        let in_desc = u64::from(desc.length).saturating_sub(self.desc_off);
        let mut want = in_desc.min(u64::from(self.max_wr_size)).min(self.remaining);
        let max_sge = usize::try_from(self.max_sge).unwrap_or(usize::MAX);
        let mut used: usize = 0;
        let mut length: u64 = 0;
        for sge in sges.iter_mut().take(max_sge) {
            if want == 0 {
                break;
            }
            let seg = self.local.get(self.local_index)?;
            let left = seg.len.saturating_sub(self.local_off);
            let n = u32::try_from(u64::from(left).min(want)).unwrap_or(left);
            *sge = Segment {
                addr: seg.addr.saturating_add(u64::from(self.local_off)),
                len: n,
            };
            used = used.saturating_add(1);
            length = length.saturating_add(u64::from(n));
            want = want.saturating_sub(u64::from(n));
            self.local_off = self.local_off.saturating_add(n);
            if self.local_off >= seg.len {
                self.local_index = self.local_index.saturating_add(1);
                self.local_off = 0;
            }
        }
        if used == 0 {
            return None;
        }
        let wr = RdmaWr {
            remote_addr: desc.offset.saturating_add(self.desc_off),
            rkey: desc.token,
            length: u32::try_from(length).unwrap_or(u32::MAX),
            sge_count: u32::try_from(used).unwrap_or(u32::MAX),
        };
        self.desc_off = self.desc_off.saturating_add(length);
        self.remaining = self.remaining.saturating_sub(length);
        Some(wr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const LIMITS: DeviceLimits = DeviceLimits {
        page_size: 4096,
        max_fast_reg_page_list_len: 256,
        max_sge_per_wr: 4,
        max_rdma_wr_size: 65536,
    };

    fn pages(n: u32, base: u64) -> Vec<Segment> {
        (0..n)
            .map(|i| Segment {
                addr: base + u64::from(i) * 0x10000,
                len: 4096,
            })
            .collect()
    }

    fn plan(segs: &[Segment], limits: &DeviceLimits, max: u32) -> Result<Vec<MrSpan>, MrError> {
        let mut out = [MrSpan::default(); 64];
        let n = plan_registration(segs, limits, max, &mut out)?;
        Ok(out[..n].to_vec())
    }

    /// A 1 MiB I/O of scattered pages fits one MR of depth 256.
    #[test]
    fn one_mib_one_mr() {
        let segs = pages(256, 0x100000);
        let v = plan(&segs, &LIMITS, 1 << 20).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].length, 1 << 20);
        assert_eq!(v[0].page_count, 256);
        assert_eq!((v[0].first_segment, v[0].last_segment), (0, 255));
    }

    /// Depth limits split the I/O at page boundaries.
    #[test]
    fn depth_split() {
        let limits = DeviceLimits {
            max_fast_reg_page_list_len: 3,
            ..LIMITS
        };
        let segs = [Segment {
            addr: 0x1000_0800,
            len: 5 * 4096,
        }];
        let v = plan(&segs, &limits, 1 << 20).unwrap();
        // Pages: 0x10000000..0x10006000 (6 pages) split 3 + 3.
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].length, 3 * 4096 - 0x800);
        assert_eq!(v[0].page_count, 3);
        assert_eq!(v[1].first_offset, 3 * 4096 - 0x800);
        assert_eq!(v[1].length, 2 * 4096 + 0x800);
        assert_eq!(v[1].page_count, 3);
        assert_eq!(v.iter().map(|s| s.length).sum::<u32>(), 5 * 4096);
    }

    /// Unaligned first and last segments share one MR; a gap inside the
    /// I/O starts another MR (another buffer descriptor) instead of failing.
    #[test]
    fn gap_starts_another_descriptor() {
        let ok = [
            Segment {
                addr: 0x1100,
                len: 0xf00,
            },
            Segment {
                addr: 0x5000,
                len: 0x1000,
            },
            Segment {
                addr: 0x9000,
                len: 0x10,
            },
        ];
        assert_eq!(plan(&ok, &LIMITS, 1 << 20).unwrap().len(), 1);
        // Ends mid-page, then a segment elsewhere: two regions.
        let gap = [
            Segment {
                addr: 0x1100,
                len: 0x100,
            },
            Segment {
                addr: 0x5000,
                len: 0x1000,
            },
        ];
        let v = plan(&gap, &LIMITS, 1 << 20).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[0].first_segment, v[0].last_segment, v[0].length),
            (0, 0, 0x100)
        );
        assert_eq!((v[1].first_segment, v[1].first_offset), (1, 0));
        assert_eq!((v[1].length, v[1].page_count), (0x1000, 1));
        // Starts mid-page after a page-aligned end: two regions too.
        let gap2 = [
            Segment {
                addr: 0x1000,
                len: 0x1000,
            },
            Segment {
                addr: 0x5010,
                len: 0x1000,
            },
            Segment {
                addr: 0x6010,
                len: 0x10,
            },
        ];
        let v = plan(&gap2, &LIMITS, 1 << 20).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[1].first_segment, v[1].last_segment), (1, 2));
        assert_eq!(v[1].length, 0x1010);
        assert_eq!(v[1].page_count, 2);
        // No room for the second region.
        let mut one = [MrSpan::default(); 1];
        assert_eq!(
            plan_registration(&gap, &LIMITS, 1 << 20, &mut one),
            Err(MrError::TooManyMrs { max: 1 })
        );
    }

    /// Contiguous segments sharing a page count the page once.
    #[test]
    fn contiguous_shared_page() {
        let segs = [
            Segment {
                addr: 0x1000,
                len: 0x800,
            },
            Segment {
                addr: 0x1800,
                len: 0x800,
            },
        ];
        let v = plan(&segs, &LIMITS, 1 << 20).unwrap();
        assert_eq!(v[0].page_count, 1);
    }

    #[test]
    fn plan_errors() {
        assert_eq!(plan(&[], &LIMITS, 1), Err(MrError::NoSegments));
        assert_eq!(
            plan(&[Segment { addr: 0, len: 0 }], &LIMITS, 1),
            Err(MrError::ZeroLengthSegment { index: 0 })
        );
        assert_eq!(
            plan(
                &[Segment {
                    addr: u64::MAX,
                    len: 2
                }],
                &LIMITS,
                10
            ),
            Err(MrError::SegmentOverflow { index: 0 })
        );
        assert_eq!(
            plan(&pages(2, 0), &LIMITS, 4096),
            Err(MrError::TooLarge {
                len: 8192,
                max: 4096
            })
        );
        let bad = DeviceLimits {
            page_size: 3000,
            ..LIMITS
        };
        assert_eq!(plan(&pages(1, 0), &bad, 1 << 20), Err(MrError::BadLimits));
        let tiny = DeviceLimits {
            max_fast_reg_page_list_len: 1,
            ..LIMITS
        };
        let mut out = [MrSpan::default(); 2];
        assert_eq!(
            plan_registration(&pages(3, 0), &tiny, 1 << 20, &mut out),
            Err(MrError::TooManyMrs { max: 2 })
        );
    }

    /// The descriptor array round-trips through the server-side parser.
    #[test]
    fn descriptors_round_trip() {
        let limits = DeviceLimits {
            max_fast_reg_page_list_len: 2,
            ..LIMITS
        };
        let segs = pages(5, 0x4000_0000);
        let v = plan(&segs, &limits, 1 << 20).unwrap();
        assert_eq!(v.len(), 3);
        let regs: Vec<Registration> = (0..3)
            .map(|i| Registration {
                iova: 0x7000_0000 + i * 0x100000,
                rkey: 0x100 + i as u32,
            })
            .collect();
        let mut buf = [0u8; 48];
        assert_eq!(build_descriptors(&v, &regs, &mut buf), Ok(48));
        let list = DescriptorList::parse(&buf, 5 * 4096, 16).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list.get(2).unwrap().token, 0x102);
        assert_eq!(
            build_descriptors(&v, &regs[..2], &mut buf),
            Err(MrError::RegistrationMismatch {
                spans: 3,
                registrations: 2
            })
        );
        assert_eq!(
            build_descriptors(&v, &regs, &mut buf[..40]),
            Err(MrError::BufferTooSmall {
                needed: 48,
                got: 40
            })
        );
    }

    /// Work requests respect SGE and size limits and stay in one descriptor.
    #[test]
    fn rdma_plan() {
        let mut descs = [0u8; 32];
        let regs = [
            Registration {
                iova: 0xa000_0000,
                rkey: 1,
            },
            Registration {
                iova: 0xb000_0000,
                rkey: 2,
            },
        ];
        let spans = [
            MrSpan {
                length: 10_000,
                ..MrSpan::default()
            },
            MrSpan {
                length: 6_384,
                ..MrSpan::default()
            },
        ];
        build_descriptors(&spans, &regs, &mut descs).unwrap();
        let list = DescriptorList::parse(&descs, 16_384, 4).unwrap();
        let local = pages(4, 0x1_0000_0000);
        let limits = DeviceLimits {
            max_sge_per_wr: 2,
            max_rdma_wr_size: 6000,
            ..LIMITS
        };
        let mut p = RdmaPlanner::new(list, &local, 16_384, &limits).unwrap();
        let mut sges = [Segment::default(); 8];
        let mut wrs = Vec::new();
        let mut moved = 0u64;
        while let Some(wr) = p.next_wr(&mut sges) {
            assert!(wr.sge_count <= 2);
            assert!(wr.length <= 6000);
            let sum: u32 = sges[..wr.sge_count as usize].iter().map(|s| s.len).sum();
            assert_eq!(sum, wr.length);
            moved += u64::from(wr.length);
            wrs.push(wr);
        }
        assert_eq!(moved, 16_384);
        assert_eq!(p.remaining(), 0);
        assert_eq!(wrs[0].remote_addr, 0xa000_0000);
        assert_eq!(wrs[0].rkey, 1);
        // No work request crosses from descriptor 1 into descriptor 2.
        let first_desc: u64 = wrs
            .iter()
            .filter(|w| w.rkey == 1)
            .map(|w| u64::from(w.length))
            .sum();
        assert_eq!(first_desc, 10_000);
        assert_eq!(
            RdmaPlanner::new(list, &local[..1], 16_384, &limits).unwrap_err(),
            MrError::LocalTooShort {
                have: 4096,
                need: 16_384
            }
        );
        assert_eq!(
            RdmaPlanner::new(list, &local, 20_000, &limits).unwrap_err(),
            MrError::LocalTooShort {
                have: 16_384,
                need: 20_000
            }
        );
        let more = pages(8, 0);
        assert_eq!(
            RdmaPlanner::new(list, &more, 20_000, &limits).unwrap_err(),
            MrError::RemoteTooShort {
                have: 16_384,
                need: 20_000
            }
        );
        // An empty local segment would become an empty SGE; a wrapping one
        // cannot be mapped.
        let mut holed = pages(4, 0);
        holed[1].len = 0;
        assert_eq!(
            RdmaPlanner::new(list, &holed, 8192, &limits).unwrap_err(),
            MrError::ZeroLengthSegment { index: 1 }
        );
        let mut wrapping = pages(4, 0);
        wrapping[3].addr = u64::MAX - 100;
        assert_eq!(
            RdmaPlanner::new(list, &wrapping, 8192, &limits).unwrap_err(),
            MrError::SegmentOverflow { index: 3 }
        );
    }
}
