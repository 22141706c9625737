//! The hasher of the connection table: FxHash, as rustc uses it.
//!
//! Tuples are small fixed-size keys and a replay is not exposed to hash flooding (the capture is
//! the user's own), so a multiply-rotate hash beats SipHash here. Invariant: deterministic, so a
//! replay never depends on a random seed.

use std::hash::Hasher;

/// FxHash (rustc's hasher): fast and good enough for tuples, which are not attacker-chosen here.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    #[test]
    fn equal_keys_hash_equal_and_different_keys_differ() {
        let h = |k: &(u32, u16)| {
            let mut s = FxHasher::default();
            k.hash(&mut s);
            s.finish()
        };
        assert_eq!(h(&(1, 2)), h(&(1, 2)));
        assert_ne!(h(&(1, 2)), h(&(2, 1)));
        let mut s = FxHasher::default();
        s.write(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_ne!(s.finish(), 0);
    }
}
