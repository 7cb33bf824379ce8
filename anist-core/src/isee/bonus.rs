//! The INPS bonus asilo nido bands.

use super::money::Euro;

/// Upper bound of the first bonus nido band: 25,000.00 € of ISEE minorenni.
pub const BONUS_NIDO_FIRST_BAND_LIMIT: Euro = Euro::from_cents(2_500_000);
/// Upper bound of the second bonus nido band: 40,000.00 € of ISEE minorenni.
pub const BONUS_NIDO_SECOND_BAND_LIMIT: Euro = Euro::from_cents(4_000_000);

/// The yearly maximum of the INPS bonus asilo nido for an ISEE minorenni
/// (in corso di validità: checking that is the caller's business).
///
/// - ISEE up to 25,000.00 € → 3,000 €;
/// - from 25,000.01 € up to 40,000.00 € → 2,500 €;
/// - above 40,000.00 €, or no ISEE → 1,500 €.
///
/// ```
/// use anist_core::isee::{bonus_nido_max_annual, Euro};
///
/// let band = |s: &str| bonus_nido_max_annual(Some(Euro::parse_decimal(s).unwrap())).to_string();
/// assert_eq!(band("25000.00"), "3.000,00 €");
/// assert_eq!(band("25000.01"), "2.500,00 €");
/// assert_eq!(band("40000.01"), "1.500,00 €");
/// assert_eq!(bonus_nido_max_annual(None).to_string(), "1.500,00 €");
/// ```
pub fn bonus_nido_max_annual(isee_minorenni: Option<Euro>) -> Euro {
    match isee_minorenni {
        Some(v) if v <= BONUS_NIDO_FIRST_BAND_LIMIT => Euro::from_cents(300_000),
        Some(v) if v <= BONUS_NIDO_SECOND_BAND_LIMIT => Euro::from_cents(250_000),
        _ => Euro::from_cents(150_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(cents: i64) -> i64 {
        bonus_nido_max_annual(Some(Euro::from_cents(cents))).cents()
    }

    #[test]
    fn boundaries() {
        assert_eq!(band(0), 300_000);
        assert_eq!(band(-100), 300_000);
        assert_eq!(band(2_499_999), 300_000);
        assert_eq!(band(2_500_000), 300_000);
        assert_eq!(band(2_500_001), 250_000);
        assert_eq!(band(3_999_999), 250_000);
        assert_eq!(band(4_000_000), 250_000);
        assert_eq!(band(4_000_001), 150_000);
        assert_eq!(band(i64::MAX), 150_000);
        assert_eq!(bonus_nido_max_annual(None).cents(), 150_000);
    }
}
