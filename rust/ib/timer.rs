// SPDX-License-Identifier: GPL-2.0

//! A one-shot timer on delayed work: fires a handler in process context on
//! the system workqueue. (The kernel's Rust API of 6.12 has no delayed
//! work; the C side is `smbdrs_timer_*` in `rust/kmod/ib_helpers.c`.)
//!
//! The connection arms it for the engine's next deadline (keepalive, idle
//! and negotiation timeouts) and stops it at teardown. Stopping waits for
//! a running handler, so it must not be done from the handler itself.

use core::ptr::NonNull;

use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::sync::{new_spinlock, Arc, ArcBorrow, SpinLock};

use super::ffi;

/// What a [`Timer`] calls when it fires.
pub trait TimerHandler: Send + Sync + 'static {
    /// The timer fired (process context; may sleep).
    fn fire(this: ArcBorrow<'_, Self>);
}

struct TimerState<T> {
    target: Option<Arc<T>>,
    stopped: bool,
}

/// What the C side's context points to.
#[pin_data]
struct TimerShared<T: TimerHandler> {
    #[pin]
    state: SpinLock<TimerState<T>>,
}

/// A timer that calls `T::fire` on its target once per arming.
///
/// # Invariants
///
/// `raw` is a `struct smbdrs_timer` whose context is `ctx`, one reference
/// to `shared` (from `Arc::into_raw`); both are released in `drop` after
/// the work is cancelled.
pub struct Timer<T: TimerHandler> {
    raw: NonNull<c_void>,
    shared: Arc<TimerShared<T>>,
    /// The reference the C side's context holds.
    ctx: *const TimerShared<T>,
}

// SAFETY: The C timer may be armed, cancelled and freed from any process
// context; the shared state is behind a lock.
unsafe impl<T: TimerHandler> Send for Timer<T> {}
// SAFETY: As above; `arm` and `stop` take the lock.
unsafe impl<T: TimerHandler> Sync for Timer<T> {}

/// The C timer's callback.
///
/// # Safety
///
/// `ctx` is the context of a live timer: a reference to a `TimerShared<T>`
/// from `Arc::into_raw`, released only after the work is cancelled.
unsafe extern "C" fn fire<T: TimerHandler>(ctx: *mut c_void) {
    // SAFETY: By the function's contract the shared state outlives this
    // call (`drop` cancels the work, waiting for it, before releasing it).
    let shared = unsafe { ArcBorrow::<TimerShared<T>>::from_raw(ctx.cast()) };
    let target = {
        let st = shared.state.lock();
        if st.stopped {
            return;
        }
        st.target.clone()
    };
    if let Some(t) = target {
        T::fire(t.as_arc_borrow());
    }
}

impl<T: TimerHandler> Timer<T> {
    /// An unarmed timer for `target`.
    pub fn new(target: Arc<T>) -> Result<Self> {
        let shared = Arc::pin_init(
            pin_init!(TimerShared {
                state <- new_spinlock!(
                    TimerState { target: Some(target), stopped: false },
                    "smbdrs_timer"
                ),
            }),
            GFP_KERNEL,
        )?;
        let ctx = Arc::into_raw(shared.clone());
        // SAFETY: `fire::<T>` matches the callback type; `ctx` is a
        // reference handed to the timer, released in `drop`.
        let raw = unsafe { ffi::smbdrs_timer_new(Some(fire::<T>), ctx.cast_mut().cast()) };
        let Some(raw) = NonNull::new(raw) else {
            // SAFETY: The timer was not created; the reference is ours.
            drop(unsafe { Arc::from_raw(ctx) });
            return Err(ENOMEM);
        };
        Ok(Self { raw, shared, ctx })
    }

    /// Fires once in `delay_ms` (re-arming moves the deadline); nothing
    /// once stopped.
    pub fn arm(&self, delay_ms: u64) {
        let st = self.shared.state.lock();
        if st.stopped {
            return;
        }
        let ms = kernel::ffi::c_ulong::try_from(delay_ms).unwrap_or(kernel::ffi::c_ulong::MAX);
        // SAFETY: By the type invariant `raw` is a live timer.
        unsafe { ffi::smbdrs_timer_arm(self.raw.as_ptr(), ms) };
    }

    /// Stops the timer for good and waits for a running handler; drops the
    /// reference to the target. Not from the handler itself.
    pub fn stop(&self) {
        let target = {
            let mut st = self.shared.state.lock();
            st.stopped = true;
            st.target.take()
        };
        // SAFETY: By the type invariant `raw` is a live timer.
        unsafe { ffi::smbdrs_timer_cancel_sync(self.raw.as_ptr()) };
        drop(target);
    }
}

impl<T: TimerHandler> Drop for Timer<T> {
    fn drop(&mut self) {
        self.stop();
        // SAFETY: The work is cancelled and cannot be armed again
        // (`stopped`), so nothing uses the timer or its context any more.
        unsafe {
            ffi::smbdrs_timer_free(self.raw.as_ptr());
            drop(Arc::from_raw(self.ctx));
        }
    }
}

/// Sleeps `ms` milliseconds (process context, may sleep).
pub fn sleep_ms(ms: u32) {
    // SAFETY: `msleep` has no precondition beyond a context that may
    // sleep, which `might_sleep` inside it checks.
    unsafe { kernel::bindings::msleep(ms) };
}
