//! A bump allocator for plugins that parse big replies: `nbfacts_sdk::use_call_arena!();`.
//!
//! The host runs every collection in a fresh instance and throws the instance away afterwards,
//! so a plugin's heap never outlives one call. [`CallArena`] uses that: allocating moves a
//! pointer forward (growing linear memory in steps of at least 1 MiB), freeing gives memory
//! back only when it is the most recent allocation (so a growing `Vec` or `String` at the top
//! is extended in place), and everything else is reclaimed when the instance ends.
//!
//! Measured on the Junos plugin (`cargo bench -p nbfacts-tests --bench plugin_runtime`), this
//! removes the allocator's share of a MAC-table parse inside the sandbox (about 14 % of the
//! guest's time with Rust's default `dlmalloc`). The cost is memory: freed blocks are not
//! reused within the call, so peak memory is everything the call allocated. That suits
//! collectors that keep most of what they allocate (parsers building facts); a collector that
//! loops over many large temporary buffers should keep the default allocator. The host's
//! memory cap applies either way: running out fails that call with a memory-limit error.
//!
//! Only WebAssembly builds use it; native builds (unit tests) keep the system allocator.

use core::cell::Cell;

/// The bump allocator; install it with [`use_call_arena!`](crate::use_call_arena).
// Native builds never use the fields (the allocator only exists in WebAssembly).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
#[derive(Debug)]
pub struct CallArena {
    /// First free byte.
    next: Cell<usize>,
    /// End of the memory the arena owns.
    end: Cell<usize>,
    /// Start of the most recent allocation (0: none), which may grow or shrink in place.
    last: Cell<usize>,
}

// SAFETY: a `wasm32-wasip2` component instance runs on one thread; nothing in it can touch
// the arena concurrently. (Native builds never install it as the global allocator.)
#[allow(unsafe_code)]
unsafe impl Sync for CallArena {}

impl CallArena {
    /// An arena that takes its memory from the end of linear memory on first use.
    pub const fn new() -> Self {
        Self {
            next: Cell::new(0),
            end: Cell::new(0),
            last: Cell::new(0),
        }
    }
}

impl Default for CallArena {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod wasm {
    use core::alloc::{GlobalAlloc, Layout};
    use core::arch::wasm32::{memory_grow, memory_size};
    use core::ptr::null_mut;

    use super::CallArena;

    const PAGE: usize = 64 * 1024;
    const MIN_GROWTH: usize = 16; // pages: 1 MiB

    impl CallArena {
        /// Makes `self.end >= needed`, growing linear memory; false if the host refuses.
        fn reserve(&self, needed: usize) -> bool {
            if self.end.get() == 0 {
                let base = memory_size(0) * PAGE;
                self.next.set(base);
                self.end.set(base);
                if needed == 0 {
                    return true;
                }
            }
            if needed <= self.end.get() {
                return true;
            }
            let pages = (needed - self.end.get()).div_ceil(PAGE).max(MIN_GROWTH);
            let previous = memory_grow(0, pages);
            if previous == usize::MAX {
                return false;
            }
            if previous * PAGE != self.end.get() {
                // Something else grew memory since: start again after it.
                self.next.set(previous * PAGE);
                self.last.set(0);
            }
            self.end.set((previous + pages) * PAGE);
            needed <= self.end.get() || self.reserve(needed)
        }
    }

    // SAFETY: every block handed out lies in linear memory owned by the arena alone (grown
    // by it and never returned), is aligned as `layout` asks, and does not overlap a live
    // block: `next` only moves back over the most recent block when that block is freed or
    // shrunk, and a block is only extended in place when it is the most recent one.
    unsafe impl GlobalAlloc for CallArena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if self.end.get() == 0 && !self.reserve(0) {
                return null_mut();
            }
            let align = layout.align();
            let Some(start) = self
                .next
                .get()
                .checked_add(align - 1)
                .map(|n| n & !(align - 1))
            else {
                return null_mut();
            };
            let Some(end) = start.checked_add(layout.size()) else {
                return null_mut();
            };
            if !self.reserve(end) {
                return null_mut();
            }
            self.next.set(end);
            self.last.set(start);
            start as *mut u8
        }

        unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
            if ptr as usize == self.last.get() {
                self.next.set(ptr as usize);
                self.last.set(0);
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let at = ptr as usize;
            if at == self.last.get() {
                let Some(end) = at.checked_add(new_size) else {
                    return null_mut();
                };
                if !self.reserve(end) {
                    return null_mut();
                }
                // `reserve` forgets the last block if it had to skip memory grown by someone
                // else; then the block cannot grow in place.
                if self.last.get() == at {
                    self.next.set(end);
                    return ptr;
                }
            }
            // SAFETY: `align` comes from a valid layout and `new_size` is what the caller
            // asks for (GlobalAlloc::realloc's contract).
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: as for `alloc`.
            let new = unsafe { self.alloc(new_layout) };
            if !new.is_null() {
                // SAFETY: both blocks are live, at least `min(old, new)` long, and distinct
                // (the new one starts at or after the old one's end).
                unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            }
            new
        }
    }
}

/// Installs [`CallArena`] as the plugin's global allocator in WebAssembly builds. Use it once,
/// next to [`export_collector!`](crate::export_collector).
#[macro_export]
macro_rules! use_call_arena {
    () => {
        #[cfg(target_arch = "wasm32")]
        #[global_allocator]
        static NBFACTS_CALL_ARENA: $crate::arena::CallArena = $crate::arena::CallArena::new();
    };
}
