//! A per-client xorshift, seeded from the OS: which member to join under, nothing secret.

pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        Rng(u64::from_le_bytes(b) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }

    pub fn seed(&mut self) -> [u8; 32] {
        let mut s = [0u8; 32];
        if getrandom::fill(&mut s).is_err() {
            for c in s.chunks_mut(8) {
                c.copy_from_slice(&(self.below(usize::MAX) as u64).to_le_bytes());
            }
        }
        s
    }
}
