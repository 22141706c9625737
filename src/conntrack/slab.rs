//! The storage of the connection table's entries: a growable array indexed like a `Vec`,
//! kept in fixed-size chunks so that growing never moves what is stored.
//!
//! Why not a `Vec`: with hundreds of thousands of connections (mix_10m, ~450k live, 320 bytes
//! each) a `Vec` that doubles copies everything it holds into a new buffer whose pages the
//! kernel must clear first; a sampling profile of mix_10m put 8% of the replay's time in that
//! copy and its page clearing, and the two buffers side by side raise the peak memory. A
//! chunk here is allocated once at its full size and filled in place; only its pages that
//! entries reach are ever touched. The price is one more load per access, from the chunk
//! list, which is small (one pointer per 1,024 entries) and stays in the cache.
//!
//! Invariant: every chunk but the last is full, each chunk holds [`CHUNK`] elements (those
//! past the length are default values) and is never reallocated, so element `i` lives in
//! chunk `i / CHUNK` at `i % CHUNK`.

/// Elements per chunk (a power of two, so that an index splits with a shift and a mask; small
/// enough that a table's first chunk, allocated whole, costs little).
const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A growable array of `T` in chunks; see the module docs.
#[derive(Debug, Clone)]
pub(super) struct Slab<T> {
    /// Whole chunks: a fixed-size array needs no bounds check once the chunk is found.
    chunks: Vec<Box<[T; CHUNK]>>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Slab<T> {
        Slab {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone + Default> Slab<T> {
    /// Number of elements.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Element `i`; past [`Slab::len`] in the last chunk, a default value (the chunk is
    /// allocated whole, filled with them), beyond it `None`. Every access of a packet goes
    /// through here, so it checks only the chunk list's bounds.
    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<&T> {
        let chunk = self.chunks.get(i >> CHUNK_BITS)?;
        Some(&chunk[i & (CHUNK - 1)])
    }

    /// Element `i`, mutably, as [`Slab::get`] finds it.
    #[inline]
    pub(super) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        let chunk = self.chunks.get_mut(i >> CHUNK_BITS)?;
        Some(&mut chunk[i & (CHUNK - 1)])
    }

    /// Appends an element; its index is the old [`Slab::len`].
    #[cfg(test)]
    pub(super) fn push(&mut self, v: T) {
        if let Some((_, slot)) = self.grow() {
            *slot = v;
        }
    }

    /// Appends an element for the caller to fill in place (a large element built first
    /// and then pushed is copied on the way): its index, the old [`Slab::len`], and the
    /// element, which holds whatever its place held (a default value, or what the caller
    /// wrote through [`Slab::get_mut`] past the length). `None` only if a chunk could not
    /// be made, which leaves the slab as it was.
    pub(super) fn grow(&mut self) -> Option<(usize, &mut T)> {
        let i = self.len;
        if i >> CHUNK_BITS >= self.chunks.len() {
            // Allocated at its full size once, so this chunk never moves (built on the heap:
            // a chunk is too big for the stack).
            let whole = vec![T::default(); CHUNK].into_boxed_slice();
            if let Ok(chunk) = whole.try_into() {
                self.chunks.push(chunk);
            }
        }
        let chunk = self.chunks.get_mut(i >> CHUNK_BITS)?;
        self.len += 1;
        Some((i, &mut chunk[i & (CHUNK - 1)]))
    }

    /// The elements in index order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter()).take(self.len)
    }

    /// The elements in index order, mutably.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> + '_ {
        let len = self.len;
        self.chunks.iter_mut().flat_map(|c| c.iter_mut()).take(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Indexing, iteration and growth agree with a `Vec` across several chunk boundaries,
    /// and a full chunk's buffer never moves when the slab grows.
    #[test]
    fn behaves_like_a_vec_and_never_moves_elements() {
        let mut s: Slab<u64> = Slab::default();
        let mut v: Vec<u64> = Vec::new();
        assert!(s.get(0).is_none() && s.len() == 0);
        let n = 3 * CHUNK + 17;
        let mut first_at = None;
        for i in 0..n as u64 {
            s.push(i * 7);
            v.push(i * 7);
            first_at.get_or_insert(s.get(0).map(|r| r as *const u64));
        }
        assert_eq!(s.len(), v.len());
        assert_eq!(s.get(0).map(|r| r as *const u64), first_at.flatten());
        for i in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 5, n - 1] {
            assert_eq!(s.get(i), v.get(i), "{i}");
        }
        // Past the end: defaults up to the end of the last chunk, then nothing.
        assert_eq!((s.get(n), s.get(4 * CHUNK - 1)), (Some(&0), Some(&0)));
        assert_eq!((s.get(4 * CHUNK), s.get(n + CHUNK)), (None, None));
        if let Some(x) = s.get_mut(CHUNK + 3) {
            *x = 1;
        }
        v[CHUNK + 3] = 1;
        assert!(s.iter().eq(v.iter()));
        for x in s.iter_mut() {
            *x += 1;
        }
        assert!(s.iter().zip(&v).all(|(a, b)| *a == b + 1));
        assert_eq!(s.chunks.len(), 4);
    }
}
