// SPDX-License-Identifier: GPL-2.0

//! A pool of preallocated, uninitialised heap slots: the contexts of posted
//! work requests come from it, so posting and completing do not allocate.
//!
//! A slot is either in the pool or owned by whoever took it; the owner
//! writes a value in, moves it out again before giving the slot back, and
//! never gives back a slot holding a value. When the pool is empty a slot
//! is allocated instead (counted, so a pool that is too small shows), and
//! freed when given back. The pool knows its own slots, so that the ones
//! still taken can be listed ([`SlotPool::taken`]): a queue pair finds
//! there the work requests a device never completed.

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel::alloc::Flags;
use kernel::prelude::*;
use kernel::sync::{new_spinlock, SpinLock};

struct Stack<T> {
    slots: KVec<*mut MaybeUninit<T>>,
    free: usize,
    /// Every slot of the pool, sorted by address (misses excluded).
    own: KVec<*mut MaybeUninit<T>>,
    /// Scratch for [`SlotPool::taken`], one flag per slot of `own`.
    marks: KVec<bool>,
}

impl<T> Stack<T> {
    fn index(&self, p: *mut MaybeUninit<T>) -> Option<usize> {
        self.own.binary_search(&p).ok()
    }
}

// SAFETY: The pointers are heap slots owned by the stack, holding no value
// (so whatever `T` is), touched only under the pool's lock.
unsafe impl<T> Send for Stack<T> {}

impl<T> Drop for Stack<T> {
    fn drop(&mut self) {
        // Also on the error path of `fill`, with the stack partly filled.
        for &p in self.slots.iter().take(self.free) {
            // SAFETY: Free slots are heap slots of ours holding no value.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

/// Preallocated heap slots for values of `T`.
#[pin_data]
pub(crate) struct SlotPool<T> {
    #[pin]
    stack: SpinLock<Stack<T>>,
    /// Slots allocated because the pool was empty.
    pub(crate) misses: AtomicU64,
}

impl<T> SlotPool<T> {
    /// A pool of `n` slots, allocated now.
    pub(crate) fn new(n: usize) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            stack <- new_spinlock!(Self::fill(n)?, "smbdrs_slot_pool"),
            misses: AtomicU64::new(0),
        }? Error)
    }

    fn fill(n: usize) -> Result<Stack<T>> {
        let mut stack = Stack {
            slots: KVec::with_capacity(n, GFP_KERNEL)?,
            free: 0,
            own: KVec::with_capacity(n, GFP_KERNEL)?,
            marks: KVec::from_elem(false, n, GFP_KERNEL)?,
        };
        for _ in 0..n {
            let slot = KBox::into_raw(KBox::<T>::new_uninit(GFP_KERNEL)?);
            // Within capacity: cannot fail or allocate.
            stack.slots.push(slot, GFP_KERNEL)?;
            stack.own.push(slot, GFP_KERNEL)?;
            stack.free += 1;
        }
        stack.own.sort_unstable();
        Ok(stack)
    }

    /// An uninitialised slot: from the pool, or allocated with `flags` when
    /// the pool is empty.
    pub(crate) fn take(&self, flags: Flags) -> Result<*mut T> {
        {
            let mut st = self.stack.lock();
            if st.free > 0 {
                st.free -= 1;
                let i = st.free;
                return Ok(st.slots[i].cast());
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        Ok(KBox::into_raw(KBox::<T>::new_uninit(flags)?).cast())
    }

    /// Gives back a slot from [`SlotPool::take`].
    ///
    /// # Safety
    ///
    /// `p` came from `take` on this pool, and holds no value (it was never
    /// written, or its value was moved out or dropped in place).
    pub(crate) unsafe fn give(&self, p: *mut T) {
        let p = p.cast::<MaybeUninit<T>>();
        {
            let mut st = self.stack.lock();
            // Only the pool's own slots go back on the stack, so it never
            // overflows and `taken` can tell which are out.
            if st.index(p).is_some() && st.free < st.slots.len() {
                let i = st.free;
                st.slots[i] = p;
                st.free += 1;
                return;
            }
        }
        // SAFETY: By the function's contract `p` is a heap slot of ours
        // (all slots are `KBox<MaybeUninit<T>>` allocations) with no value.
        drop(unsafe { KBox::from_raw(p) });
    }

    /// Appends to `out` the pool's own slots that are taken now (`ENOMEM`
    /// if it cannot hold them: give it the pool's size in capacity, as this
    /// runs under a spinlock). Slots allocated on a miss are not listed.
    pub(crate) fn taken(&self, out: &mut KVec<*mut T>) -> Result {
        let mut st = self.stack.lock();
        let st = &mut *st;
        st.marks.iter_mut().for_each(|m| *m = false);
        for k in 0..st.free {
            if let Some(i) = st.index(st.slots[k]) {
                st.marks[i] = true;
            }
        }
        for (i, &p) in st.own.iter().enumerate() {
            if !st.marks[i] {
                out.push(p.cast(), GFP_ATOMIC)?;
            }
        }
        Ok(())
    }
}
