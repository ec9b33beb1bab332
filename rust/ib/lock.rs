// SPDX-License-Identifier: GPL-2.0

//! A spinlock that keeps softirqs off while held (`spin_lock_bh`), for
//! state that completion handlers running in softirq share with process
//! context. The kernel crate of 6.12 has only the plain spinlock: taken in
//! process context with softirqs on, a completion arriving on the same CPU
//! would spin on it forever.
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use kernel::sync::lock::{Backend, Guard, Lock};

use super::ffi;

/// A spinlock taken with softirqs disabled; see the module documentation.
pub type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// A guard of a [`SpinLockBh`].
pub type SpinLockBhGuard<'a, T> = Guard<'a, T, SpinLockBhBackend>;

/// The `spinlock_t` backend of [`SpinLockBh`], locked with `spin_lock_bh`.
pub struct SpinLockBhBackend;

// SAFETY: The kernel's `spinlock_t` gives mutual exclusion whichever way it
// is taken; `relock` is the default one, which calls `lock` again, so a lock
// released and taken again (a condition variable's wait) uses the same
// method.
unsafe impl Backend for SpinLockBhBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: By the trait's contract `ptr` is valid for writes and
        // `name` and `key` live forever.
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: By the trait's contract `ptr` was initialised by `init`.
        unsafe { ffi::smbdrs_spin_lock_bh(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: By the trait's contract the caller holds the lock, taken
        // by `lock` with softirqs disabled, on this CPU.
        unsafe { ffi::smbdrs_spin_unlock_bh(ptr) }
    }
}

/// Creates a [`SpinLockBh`] initialiser with a name and a new lock class,
/// as `new_spinlock!` does for the plain spinlock.
macro_rules! new_spinlock_bh {
    ($inner:expr, $name:literal $(,)?) => {
        $crate::ib::SpinLockBh::new(
            $inner,
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}
pub(crate) use new_spinlock_bh;
