//! The name table of a [`super::Doc`]: element and attribute names interned to small integers.
//!
//! A document has a few dozen distinct names and looks one up for every element it parses and
//! every query it answers, so this is an open-addressing table over the name ids, probed by a
//! hash of the name's length and its first and last eight bytes (no loop over the name), and
//! confirmed with the scanner's word-at-a-time comparison. `std`'s `HashMap<str, _>` did the
//! same job with a byte loop for the hash and a `memcmp` call for equality, which inside
//! WebAssembly made it the largest single cost of building a tree.

use std::borrow::Cow;

use super::scan::name_is;

/// Interned names, each with its id (its index in `by_id`).
#[derive(Debug)]
pub(super) struct Names<'a> {
    by_id: Vec<Cow<'a, str>>,
    /// Open addressing: `0` is free, otherwise `id + 1`. Its length is a power of two, at
    /// least twice the number of names.
    slots: Vec<u32>,
}

impl<'a> Names<'a> {
    pub(super) fn with_capacity(names: usize) -> Self {
        Self {
            by_id: Vec::with_capacity(names),
            slots: vec![0; (names * 2).next_power_of_two().max(16)],
        }
    }

    /// The id of `name`, if it has one.
    pub(super) fn get(&self, name: &str) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut at = hash(name) & mask;
        loop {
            let slot = *self.slots.get(at)?;
            if slot == 0 {
                return None;
            }
            if self
                .by_id
                .get(slot as usize - 1)
                .is_some_and(|known| name_is(known, name))
            {
                return Some(slot - 1);
            }
            at = (at + 1) & mask;
        }
    }

    /// The id of `name`, interning it (without a copy when it is borrowed) if it is new.
    pub(super) fn intern(&mut self, name: Cow<'a, str>) -> u32 {
        if let Some(id) = self.get(&name) {
            return id;
        }
        if (self.by_id.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let id = self.by_id.len() as u32;
        self.place(hash(&name), id);
        self.by_id.push(name);
        id
    }

    /// The name with id `id`.
    pub(super) fn name(&self, id: u32) -> Option<&str> {
        self.by_id.get(id as usize).map(|n| n.as_ref())
    }

    fn place(&mut self, hash: usize, id: u32) {
        let mask = self.slots.len() - 1;
        let mut at = hash & mask;
        while let Some(slot) = self.slots.get_mut(at) {
            if *slot == 0 {
                *slot = id + 1;
                return;
            }
            at = (at + 1) & mask;
        }
    }

    fn grow(&mut self) {
        self.slots = vec![0; self.slots.len() * 2];
        for id in 0..self.by_id.len() {
            let h = self.by_id.get(id).map_or(0, |n| hash(n));
            self.place(h, id as u32);
        }
    }
}

/// The length and the first and last (up to) eight bytes of `name`, mixed: fixed-size loads
/// only (a variable-length copy into a buffer is a `memcpy` call inside WebAssembly).
fn hash(name: &str) -> usize {
    let bytes = name.as_bytes();
    let n = bytes.len();
    let u64_at = |at: usize| -> u64 {
        bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    };
    let u32_at = |at: usize| -> u64 {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
    };
    let byte = |at: usize| -> u64 { bytes.get(at).map_or(0, |&b| u64::from(b)) };
    let (first, last) = if n >= 8 {
        (u64_at(0), u64_at(n - 8))
    } else if n >= 4 {
        (u32_at(0), u32_at(n - 4))
    } else {
        (byte(0) | byte(n / 2) << 8, byte(n.wrapping_sub(1)))
    };
    let h = (first ^ last.rotate_left(29) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_finds_names_across_growth() {
        let mut names = Names::with_capacity(4);
        let words: Vec<String> = (0..300)
            .map(|i| match i % 3 {
                0 => format!("arp-table-entry-{i}"),
                1 => format!("{i}"),
                _ => format!("interface-name-with-a-long-common-prefix-{i}-x"),
            })
            .collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(names.intern(Cow::Owned(w.clone())), i as u32);
        }
        for (i, w) in words.iter().enumerate() {
            assert_eq!(names.get(w), Some(i as u32), "{w}");
            assert_eq!(names.intern(Cow::Borrowed(w.as_str())), i as u32);
            assert_eq!(names.name(i as u32), Some(w.as_str()));
        }
        assert_eq!(names.get("arp-table-entry-1"), None);
        assert_eq!(names.get(""), None);
        assert_eq!(names.intern(Cow::Borrowed("")), 300);
        assert_eq!(names.get(""), Some(300));
    }
}
