//! Seeded draws: the hash behind `seeded_random`, `sample-dataset`'s choice of files and every
//! shuffle. A draw depends only on the seed and the key values, so results are the same
//! whatever the thread count, batch size or file order.

/// FNV-1a over the key bytes, seeded, finished with splitmix64.
pub struct KeyHasher(u64);

impl KeyHasher {
    pub fn new(seed: i64) -> Self {
        KeyHasher(splitmix64(seed as u64 ^ 0xcbf2_9ce4_8422_2325))
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        self.0 = splitmix64(h ^ bytes.len() as u64);
    }

    pub fn write_null(&mut self) {
        self.0 = splitmix64(self.0 ^ 0x9e37_79b9_7f4a_7c15);
    }

    /// Uniform in [0, 1) with 53 bits of randomness.
    pub fn finish(&self) -> f64 {
        (splitmix64(self.0) >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(seed: i64, keys: &[&[u8]]) -> f64 {
        let mut h = KeyHasher::new(seed);
        keys.iter().for_each(|k| h.write(k));
        h.finish()
    }

    #[test]
    fn depends_on_seed_and_every_key() {
        let base = hash(42, &[b"a", b"bc"]);
        assert_eq!(base, hash(42, &[b"a", b"bc"]));
        assert_ne!(base, hash(43, &[b"a", b"bc"]));
        assert_ne!(base, hash(42, &[b"ab", b"c"]));
        assert!((0.0..1.0).contains(&base));
    }

    #[test]
    fn roughly_uniform() {
        let n = 100_000;
        let mean: f64 = (0..n)
            .map(|i: u64| hash(7, &[&i.to_le_bytes()]))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }
}
