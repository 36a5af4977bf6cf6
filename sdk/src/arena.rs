//! A bump allocator for plugins that parse big replies: `nbfacts_sdk::use_call_arena!();`.
//!
//! The host runs every collection in a fresh instance and throws the instance away afterwards,
//! so a plugin's heap never outlives one call. [`CallArena`] uses that:
//!
//! * allocating moves a pointer forward through regions of at least 1 MiB that the arena
//!   takes from the C allocator (which owns the plugin's initial memory and grows linear
//!   memory, contiguously, when that is used up);
//! * the most recent allocation is given back, grown or shrunk in place (so a growing `Vec` or
//!   `String` at the top is extended without a copy);
//! * other blocks of 256 bytes or more are kept on free lists by size (powers of two) and
//!   handed out again, so per-item buffers (a reply read per interface, the tree parsed from
//!   it) do not add up over a call;
//! * smaller blocks are reclaimed when the instance ends.
//!
//! Measured on the Junos plugin (`cargo bench -p nbfacts-tests --bench plugin_runtime`), this
//! removes the allocator's share of a MAC-table parse inside the sandbox (about 14 % of the
//! guest's time with Rust's default `dlmalloc`). The cost is memory: small blocks are not
//! reused within the call. That suits collectors that keep most of what they allocate (parsers
//! building facts). The host's memory cap applies either way: running out fails that call with
//! a memory-limit error.
//!
//! Growing linear memory costs more than it seems: each growth `mprotect`s the new pages, and
//! the next instance in the same pooled slot `mprotect`s them away again, both walking every
//! resident page. A plugin that declares a larger initial memory avoids both for calls that
//! fit in it; the Junos plugin starts with 16 MiB (in its `build.rs`:
//! `cargo:rustc-link-arg-cdylib=--initial-memory=16777216`). Untouched pages cost nothing, and
//! a bigger call still finds its memory in one piece: the C allocator grows memory right after
//! its initial part, so a 48 MB reply starts near the bottom of memory, not above 16 MiB.
//!
//! Only WebAssembly builds use it; native builds (unit tests) keep the system allocator.

// Native builds only test the heap; they never allocate through it.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use core::alloc::Layout;
use core::cell::Cell;
use core::ptr::null_mut;

/// The bump allocator; install it with [`use_call_arena!`](crate::use_call_arena).
#[derive(Debug)]
pub struct CallArena {
    heap: Heap<LinearMemory>,
}

// SAFETY: a `wasm32-wasip2` component instance runs on one thread; nothing in it can touch
// the arena concurrently. (Native builds never install it as the global allocator.)
#[allow(unsafe_code)]
unsafe impl Sync for CallArena {}

impl CallArena {
    /// An arena that takes its first region from the C allocator on first use.
    pub const fn new() -> Self {
        Self {
            heap: Heap::new(LinearMemory),
        }
    }
}

impl Default for CallArena {
    fn default() -> Self {
        Self::new()
    }
}

/// Blocks of at least this many bytes are reused once freed.
const REUSE_FROM: usize = 256;

/// Free lists: index `k` holds blocks of at least `2^k` bytes.
const CLASSES: usize = usize::BITS as usize;

/// Where a [`Heap`] gets its memory: the C allocator in a plugin, a buffer in tests.
trait Source {
    /// A region of at least `bytes`, as `(start, end)`; `None` when refused. It may or may
    /// not follow the previous one.
    fn grow(&self, bytes: usize) -> Option<(usize, usize)>;
}

/// The allocator's state. Invariants: `[next, end)` is free and no block on a free list lies
/// in it (free blocks were bumped out of it earlier, and `next` only moves back over `last`,
/// which is never on a list); `last`, if not 0, is the start of the most recent bump
/// allocation, which is live and ends at `next`.
#[derive(Debug)]
struct Heap<S> {
    source: S,
    /// First free byte.
    next: Cell<usize>,
    /// End of the region being bumped through; 0 before first use.
    end: Cell<usize>,
    /// Start of the most recent bump allocation (0: none).
    last: Cell<usize>,
    /// Heads of the free lists (0: empty); a free block's first word links to the next one.
    free: [Cell<usize>; CLASSES],
}

// The allocator's raw memory operations: the block bookkeeping above is what makes them sound.
#[allow(unsafe_code)]
impl<S: Source> Heap<S> {
    const fn new(source: S) -> Self {
        Self {
            source,
            next: Cell::new(0),
            end: Cell::new(0),
            last: Cell::new(0),
            free: [const { Cell::new(0) }; CLASSES],
        }
    }

    /// `GlobalAlloc::alloc`: null when memory cannot grow.
    #[inline]
    fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= REUSE_FROM
            && let Some(block) = self.reuse(layout)
        {
            return block as *mut u8;
        }
        match self.bump(layout) {
            Some(start) => start as *mut u8,
            None => self.alloc_slow(layout),
        }
    }

    /// Places `layout` at `next` if it fits in the current region.
    #[inline]
    fn bump(&self, layout: Layout) -> Option<usize> {
        let align = layout.align();
        let start = self.next.get().checked_add(align - 1)? & !(align - 1);
        let end = start.checked_add(layout.size())?;
        if end > self.end.get() {
            return None;
        }
        self.next.set(end);
        self.last.set(start);
        Some(start)
    }

    /// First use, or the region is full: take memory from the source, then place the block.
    #[cold]
    #[inline(never)]
    fn alloc_slow(&self, layout: Layout) -> *mut u8 {
        // `size + align` is room for the block whether or not the new memory continues the
        // region (at most `align - 1` bytes go to alignment either way).
        let Some(bytes) = layout.size().checked_add(layout.align()) else {
            return null_mut();
        };
        if self.more(bytes).is_none() {
            return null_mut();
        }
        self.bump(layout)
            .map_or(null_mut(), |start| start as *mut u8)
    }

    /// Takes at least `bytes` more from the source. `Some(true)` when the region was extended
    /// in place, `Some(false)` when it was replaced by a new one (the end of the old one is
    /// abandoned), `None` when the source refused. (Before first use `end` is 0, which no
    /// region starts at.)
    fn more(&self, bytes: usize) -> Option<bool> {
        let (start, end) = self.source.grow(bytes)?;
        let contiguous = start == self.end.get();
        if !contiguous {
            self.next.set(start);
            self.last.set(0);
        }
        self.end.set(end);
        Some(contiguous)
    }

    /// A block from the free list that guarantees `layout.size()` bytes, if it is aligned.
    #[inline]
    fn reuse(&self, layout: Layout) -> Option<usize> {
        // Smallest k with 2^k >= size: every block on list k is at least that big.
        let class = (usize::BITS - (layout.size() - 1).leading_zeros()) as usize;
        let head = self.free.get(class)?;
        let block = head.get();
        if block == 0 || block & (layout.align() - 1) != 0 {
            return None;
        }
        // SAFETY: `block` is a free block of at least REUSE_FROM bytes owned by this heap;
        // its first word was written by `release`.
        head.set(unsafe { (block as *const usize).read_unaligned() });
        Some(block)
    }

    /// Puts a freed block of `size` bytes on its free list.
    ///
    /// # Safety
    ///
    /// `block` is a block of this heap, at least `size >= REUSE_FROM` bytes, no longer in use.
    unsafe fn release(&self, block: usize, size: usize) {
        // Largest k with 2^k <= size.
        let class = (usize::BITS - 1 - size.leading_zeros()) as usize;
        if let Some(head) = self.free.get(class) {
            // SAFETY: the caller's guarantee; the block's first word becomes the link.
            unsafe { (block as *mut usize).write_unaligned(head.get()) };
            head.set(block);
        }
    }

    /// `GlobalAlloc::dealloc`.
    ///
    /// # Safety
    ///
    /// `ptr` is a live block of this heap allocated with `layout`.
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let at = ptr as usize;
        if at == self.last.get() {
            self.next.set(at);
            self.last.set(0);
        } else if layout.size() >= REUSE_FROM {
            // SAFETY: the caller's guarantee.
            unsafe { self.release(at, layout.size()) };
        }
    }

    /// `GlobalAlloc::realloc`.
    ///
    /// # Safety
    ///
    /// `ptr` is a live block of this heap allocated with `layout`; `new_size` is not zero and,
    /// rounded up to `layout.align()`, does not overflow `isize`.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let at = ptr as usize;
        if at == self.last.get() {
            let Some(end) = at.checked_add(new_size) else {
                return null_mut();
            };
            if end <= self.end.get()
                || (self.more(end - self.end.get()) == Some(true) && self.last.get() == at)
            {
                self.next.set(end);
                return ptr;
            }
        } else if new_size <= layout.size() {
            // Shrunk in place; the tail is not reused (a later free files the block by its
            // new size, which its real size only exceeds).
            return ptr;
        }
        // SAFETY: `align` comes from a valid layout and the caller vouches for `new_size`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = self.alloc(new_layout);
        if !new.is_null() {
            // SAFETY: both blocks are live and at least `min(old, new)` long; they do not
            // overlap (the new one came off a free list or out of the free `[next, end)`).
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` was live with `layout` and is not used again.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

/// The plugin's linear memory, through the C allocator.
#[derive(Debug)]
struct LinearMemory;

#[cfg(not(target_arch = "wasm32"))]
impl Source for LinearMemory {
    fn grow(&self, _bytes: usize) -> Option<(usize, usize)> {
        None
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod wasm {
    use core::alloc::{GlobalAlloc, Layout};

    use super::{CallArena, LinearMemory, Source};

    /// Regions are at least 1 MiB.
    const MIN_REGION: usize = 1 << 20;

    impl Source for LinearMemory {
        /// A block of the C allocator's. It owns the memory the module starts with (above
        /// static data and the stack) and grows linear memory when that is used up, extending
        /// its free top, so consecutive regions are nearly contiguous (a few bytes of its
        /// bookkeeping between them) and memory is grown only once the initial part is full.
        fn grow(&self, bytes: usize) -> Option<(usize, usize)> {
            let size = bytes.checked_next_multiple_of(64 * 1024)?.max(MIN_REGION);
            // Alignment 8 is plain `malloc`; the heap aligns blocks itself.
            let layout = Layout::from_size_align(size, 8).ok()?;
            // SAFETY: `layout` has a non-zero size.
            let start = unsafe { std::alloc::System.alloc(layout) } as usize;
            (start != 0).then(|| (start, start + size))
        }
    }

    // SAFETY: blocks come from `Heap`, which hands out memory it took from the C allocator
    // and never hands out a byte of a live block twice: see the invariants on `Heap`.
    unsafe impl GlobalAlloc for CallArena {
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.heap.alloc(layout)
        }

        #[inline]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: GlobalAlloc::dealloc's contract is Heap::dealloc's.
            unsafe { self.heap.dealloc(ptr, layout) };
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: GlobalAlloc::realloc's contract is Heap::realloc's.
            unsafe { self.heap.realloc(ptr, layout, new_size) }
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

#[cfg(test)]
#[allow(unsafe_code, clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const SLOT: usize = 1 << 20;

    /// A buffer standing in for the C allocator: a large first region if asked for, then
    /// regions in 1 MiB steps, with a gap now and then as between blocks of an allocator.
    struct Buffer {
        base: usize,
        len: usize,
        first: usize,
        top: Cell<usize>,
        gap_every: usize,
        grows: Cell<usize>,
        /// Memory "grown by others": never to be handed out.
        gaps: std::cell::RefCell<Vec<(usize, usize)>>,
        _memory: Vec<u64>,
    }

    impl Buffer {
        fn new(len: usize, first: usize, gap_every: usize) -> Self {
            let mut memory = vec![0u64; len / 8];
            let base = memory.as_mut_ptr() as usize;
            Self {
                base,
                len,
                first,
                top: Cell::new(base),
                gap_every,
                grows: Cell::new(0),
                gaps: std::cell::RefCell::new(Vec::new()),
                _memory: memory,
            }
        }

        fn owns(&self, start: usize, len: usize) -> bool {
            let end = start + len;
            start >= self.base
                && end <= self.base + self.len
                && self
                    .gaps
                    .borrow()
                    .iter()
                    .all(|&(a, b)| end <= a || start >= b)
        }
    }

    impl Source for &Buffer {
        fn grow(&self, bytes: usize) -> Option<(usize, usize)> {
            let bytes = if self.grows.get() == 0 {
                bytes.max(self.first)
            } else {
                bytes
            };
            self.grows.set(self.grows.get() + 1);
            if self.gap_every > 0 && self.grows.get().is_multiple_of(self.gap_every) {
                let top = self.top.get();
                self.gaps.borrow_mut().push((top, top + 4096));
                self.top.set(top + 4096);
            }
            let start = self.top.get();
            let end = start + bytes.div_ceil(SLOT).max(1) * SLOT;
            if end > self.base + self.len {
                return None;
            }
            self.top.set(end);
            Some((start, end))
        }
    }

    /// xorshift64*: deterministic and good enough to mix operations.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    struct Live {
        ptr: *mut u8,
        layout: Layout,
        fill: u8,
    }

    fn fill(block: &Live) {
        // SAFETY: `block` is live and `layout.size()` long.
        unsafe { core::ptr::write_bytes(block.ptr, block.fill, block.layout.size()) };
    }

    fn intact(block: &Live, len: usize) -> bool {
        // SAFETY: as for `fill`, for the first `len` bytes.
        let bytes = unsafe { core::slice::from_raw_parts(block.ptr, len) };
        bytes.iter().all(|&b| b == block.fill)
    }

    fn no_overlap(live: &[Live]) {
        let mut spans: Vec<(usize, usize)> = live
            .iter()
            .map(|b| (b.ptr as usize, b.ptr as usize + b.layout.size()))
            .collect();
        spans.sort_unstable();
        for pair in spans.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "blocks overlap: {pair:?}");
        }
    }

    /// Random allocations, frees and reallocations of small and large blocks with mixed
    /// alignments: every live block keeps its contents, none overlaps another, and all of
    /// them lie in memory the source handed out.
    fn churn(first: usize, gap_every: usize, seed: u64) {
        let buffer = Buffer::new(256 << 20, first, gap_every);
        let heap = Heap::new(&buffer);
        let mut rng = Rng(seed);
        let mut live: Vec<Live> = Vec::new();
        for step in 0..20_000u32 {
            match rng.below(10) {
                0..=4 => {
                    let size = match rng.below(40) {
                        0 => 1 + rng.below(100_000),
                        1..=12 => 256 + rng.below(8_000),
                        _ => 1 + rng.below(255),
                    };
                    let align = 1 << rng.below(5);
                    let layout = Layout::from_size_align(size, align).unwrap();
                    let ptr = heap.alloc(layout);
                    assert!(!ptr.is_null());
                    assert_eq!(ptr as usize % align, 0, "misaligned");
                    assert!(
                        buffer.owns(ptr as usize, size),
                        "outside the source's memory"
                    );
                    let block = Live {
                        ptr,
                        layout,
                        fill: step as u8,
                    };
                    fill(&block);
                    live.push(block);
                }
                5..=7 if !live.is_empty() => {
                    let block = live.swap_remove(rng.below(live.len()));
                    assert!(intact(&block, block.layout.size()), "a live block changed");
                    // SAFETY: `block` is live with this layout and dropped here.
                    unsafe { heap.dealloc(block.ptr, block.layout) };
                }
                8 | 9 if !live.is_empty() => {
                    let i = if rng.below(2) == 0 {
                        live.len() - 1
                    } else {
                        rng.below(live.len())
                    };
                    let old = &live[i];
                    let new_size = 1 + rng.below(old.layout.size() * 3);
                    let kept = old.layout.size().min(new_size);
                    // SAFETY: `old` is live with this layout; `new_size` is small.
                    let ptr = unsafe { heap.realloc(old.ptr, old.layout, new_size) };
                    assert!(!ptr.is_null());
                    let block = Live {
                        ptr,
                        layout: Layout::from_size_align(new_size, old.layout.align()).unwrap(),
                        fill: old.fill,
                    };
                    assert!(intact(&block, kept), "realloc lost contents");
                    assert!(buffer.owns(ptr as usize, new_size));
                    fill(&block);
                    live[i] = block;
                }
                _ => {}
            }
            if step.is_multiple_of(1000) {
                no_overlap(&live);
            }
        }
        no_overlap(&live);
        for block in &live {
            assert!(intact(block, block.layout.size()));
        }
    }

    #[test]
    fn blocks_stay_separate_and_intact_from_growth_alone() {
        churn(0, 0, 1);
    }

    #[test]
    fn blocks_stay_separate_and_intact_with_a_large_first_region() {
        churn(4 << 20, 0, 2);
    }

    #[test]
    fn blocks_stay_separate_and_intact_when_regions_are_apart() {
        churn(1 << 20, 3, 3);
    }

    #[test]
    fn freed_large_blocks_are_reused() {
        let buffer = Buffer::new(16 << 20, 1 << 20, 0);
        let heap = Heap::new(&buffer);
        let layout = Layout::from_size_align(2000, 8).unwrap();
        let keep = Layout::from_size_align(16, 8).unwrap();
        let first = heap.alloc(layout);
        // Something allocated after it, so freeing it cannot just move the top back.
        let _kept = heap.alloc(keep);
        // SAFETY: `first` is live with `layout`.
        unsafe { heap.dealloc(first, layout) };
        // `first` (2,000 bytes) is on the list of blocks of at least 1,024 bytes, which is
        // where a request for 1,000 bytes looks.
        let smaller = Layout::from_size_align(1000, 8).unwrap();
        assert_eq!(heap.alloc(smaller), first);
        // The most recent allocation grows in place.
        let top = heap.alloc(layout);
        // SAFETY: `top` is live with `layout`.
        let grown = unsafe { heap.realloc(top, layout, 9000) };
        assert_eq!(grown, top);
    }

    #[test]
    fn a_refusing_source_is_a_null_allocation() {
        let buffer = Buffer::new(2 << 20, 0, 0);
        let heap = Heap::new(&buffer);
        let huge = Layout::from_size_align(4 << 20, 8).unwrap();
        assert!(heap.alloc(huge).is_null());
        // The heap still works afterwards.
        assert!(
            !heap
                .alloc(Layout::from_size_align(100, 8).unwrap())
                .is_null()
        );
    }
}
