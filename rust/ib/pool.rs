// SPDX-License-Identifier: GPL-2.0

//! A pool of preallocated, uninitialised heap slots: the contexts of posted
//! work requests come from it, so posting and completing do not allocate.
//!
//! A slot is either in the pool or owned by whoever took it; the owner
//! writes a value in, moves it out again before giving the slot back, and
//! never gives back a slot holding a value. When the pool is empty a slot
//! is allocated instead (counted, so a pool that is too small shows), and
//! freed when given back. The pool's own slots are one allocation, so it
//! can tell which are taken ([`SlotPool::taken`]): a queue pair finds there
//! the work requests a device never completed.

use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel::alloc::Flags;
use kernel::prelude::*;

use super::{new_spinlock_bh, SpinLockBh};

struct Stack<T> {
    /// The pool's own slots, in one allocation (stable: the buffer of a
    /// vector does not move with it).
    arena: KVVec<MaybeUninit<T>>,
    /// The free slots: `slots[..free]`.
    slots: KVec<*mut MaybeUninit<T>>,
    free: usize,
    /// Scratch for [`SlotPool::taken`], one flag per slot of `arena`.
    marks: KVec<bool>,
}

impl<T> Stack<T> {
    /// Where `p` is in the arena, if it is one of the pool's own slots.
    fn index(&self, p: *mut MaybeUninit<T>) -> Option<usize> {
        let size = core::mem::size_of::<T>().max(1);
        let off = (p as usize).wrapping_sub(self.arena.as_ptr() as usize);
        (off % size == 0 && off / size < self.arena.len()).then_some(off / size)
    }
}

// SAFETY: The pointers are slots owned by the stack, holding no value (so
// whatever `T` is), touched only under the pool's lock.
unsafe impl<T> Send for Stack<T> {}

/// Preallocated heap slots for values of `T`.
#[pin_data]
pub(crate) struct SlotPool<T> {
    /// Taken by posting (process context) and by completions (softirq).
    #[pin]
    stack: SpinLockBh<Stack<T>>,
    /// Slots allocated because the pool was empty.
    pub(crate) misses: AtomicU64,
}

impl<T> SlotPool<T> {
    /// A pool of `n` slots, allocated now.
    pub(crate) fn new(n: usize) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            stack <- new_spinlock_bh!(Self::fill(n)?, "smbdrs_slot_pool"),
            misses: AtomicU64::new(0),
        }? Error)
    }

    fn fill(n: usize) -> Result<Stack<T>> {
        let mut stack = Stack {
            arena: KVVec::with_capacity(n, GFP_KERNEL)?,
            slots: KVec::with_capacity(n, GFP_KERNEL)?,
            free: 0,
            marks: KVec::from_elem(false, n, GFP_KERNEL)?,
        };
        for _ in 0..n {
            // Within capacity: cannot fail or allocate.
            stack.arena.push(MaybeUninit::uninit(), GFP_KERNEL)?;
        }
        for i in 0..n {
            let slot = stack.arena.as_mut_ptr().wrapping_add(i);
            stack.slots.push(slot, GFP_KERNEL)?;
            stack.free += 1;
        }
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
            // The pool's own slots go back on the stack, which holds them
            // all; a slot allocated on a miss is freed.
            if st.index(p).is_some() {
                let i = st.free;
                st.slots[i] = p;
                st.free += 1;
                return;
            }
        }
        // SAFETY: By the function's contract `p` came from `take`; not in
        // the arena, it is a `KBox<MaybeUninit<T>>` allocation, with no value.
        drop(unsafe { KBox::from_raw(p) });
    }

    /// Flags the pool's own slots taken now (`true`), by index: for the end
    /// of the pool's use, once (the pool hands over its scratch, so a
    /// second call flags nothing). Slots allocated on a miss are not seen.
    pub(crate) fn taken(&self) -> KVec<bool> {
        let mut st = self.stack.lock();
        let mut taken = core::mem::take(&mut st.marks);
        taken.iter_mut().for_each(|t| *t = true);
        for k in 0..st.free {
            if let Some(t) = st.index(st.slots[k]).and_then(|i| taken.get_mut(i)) {
                *t = false;
            }
        }
        taken
    }

    /// The pool's own slot `i` (of [`SlotPool::taken`]'s flags).
    pub(crate) fn slot(&self, i: usize) -> *mut T {
        self.stack.lock().arena.as_mut_ptr().wrapping_add(i).cast()
    }
}
