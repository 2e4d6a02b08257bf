//! The seeded generator behind reproducible sampling and recovery-point choice.
//!
//! Why not `rand::rngs::StdRng`: its algorithm is documented as subject to change between rand releases, and a
//! drill's choice must be the same for a run id forever (a resumed run, a report rebuilt next year, an auditor
//! re-deriving the sample). SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
//! OOPSLA 2014; the seeder of xoshiro) is fully specified in a few lines, passes BigCrush, and needs no
//! dependency. It is not cryptographic, and nothing here needs it to be: the seed (the run id) is public anyway.
//! The seed is the run id hashed with 64-bit FNV-1a, which is equally fixed.

/// 64-bit FNV-1a (Fowler, Noll, Vo) of the UTF-8 bytes of `text`: fixed forever, which is all it is used for.
pub fn fnv1a64(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeds from text (FNV-1a 64 of its UTF-8 bytes).
    pub fn from_text(text: &str) -> Self {
        SplitMix64(fnv1a64(text))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number in `0..bound` (`bound` > 0; 0 gives 0), without modulo bias (Lemire's multiply-shift with
    /// rejection).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(bound);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // Reference values of SplitMix64 seeded with 0 (as in the xoshiro authors' splitmix64.c).
        let mut r = SplitMix64(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        // FNV-1a 64 of "" is the offset basis; of "a" is af63dc4c8601ec8c.
        assert_eq!(SplitMix64::from_text("").0, 0xcbf2_9ce4_8422_2325);
        assert_eq!(SplitMix64::from_text("a").0, 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = SplitMix64::from_text("x");
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = r.below(7);
            assert!(v < 7);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
    }
}
