//! A small seeded generator (SplitMix64) for what must be reproducible:
//! retry jitter in tests, the sandbox's ids. Not for secrets: keys, `jti`s
//! and nonces come from the system's secure generator.

use crate::encoding::random_fill;

/// SplitMix64 (Steele, Lea, Flood 2014): 64 bits of state, full period,
/// good enough statistics for jitter and synthetic ids.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator that always produces the same sequence for `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator seeded from the system's secure generator (falling back
    /// to the time if that fails: jitter only needs to differ between
    /// processes).
    pub(crate) fn from_entropy() -> Self {
        let mut b = [0u8; 8];
        if random_fill(&mut b).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            // Truncation is the intent: the low bits vary fastest.
            b = (nanos as u64).to_le_bytes();
        }
        Self(u64::from_le_bytes(b))
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..=max` (tiny modulo bias, irrelevant for jitter).
    pub(crate) fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(span) => self.next_u64() % span,
            None => self.next_u64(),
        }
    }

    /// A version-4 UUID, lower-case hyphenated, from this generator.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub(crate) fn uuid_v4(&mut self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_be_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_be_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = crate::encoding::hex_lower(&b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::is_uuid_v4;

    #[test]
    fn seeded_sequences_repeat() {
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        // Reference value of SplitMix64 with seed 0 (Vigna's splitmix64.c).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn bounded_and_uuids() {
        let mut r = SplitMix64::new(7);
        for _ in 0..1000 {
            assert!(r.up_to(10) <= 10);
        }
        assert_eq!(r.up_to(0), 0);
        let _ = r.up_to(u64::MAX);
        let u = r.uuid_v4();
        assert!(is_uuid_v4(&u), "{u}");
        assert_ne!(u, r.uuid_v4());
        assert_ne!(
            SplitMix64::from_entropy().next_u64(),
            SplitMix64::from_entropy().next_u64()
        );
    }
}
