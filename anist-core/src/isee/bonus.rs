//! The INPS bonus asilo nido bands, and who they apply to (children
//! under three).

use chrono::{Datelike, NaiveDate};

use super::money::Euro;
use crate::cf::AnyCodiceFiscale;

/// The bonus asilo nido is for children under this age (in years): nido
/// fees and home support for children under three.
pub const BONUS_NIDO_MAX_AGE: i32 = 3;

/// Whether the bonus asilo nido applies to the person with this codice
/// fiscale on `on`: a child under [`BONUS_NIDO_MAX_AGE`] years that day,
/// the birth date read from the code ([`crate::cf::CodiceFiscale::birth_date_relative_to`]
/// `on`: the most recent century that does not put it after `on`).
/// `false` for an 11-digit code (no birth date) and for a code whose birth
/// date cannot be read.
///
/// ```
/// use anist_core::cf::AnyCodiceFiscale;
/// use anist_core::isee::bonus_nido_applies;
/// use chrono::NaiveDate;
///
/// let on = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
/// // Born 1 January 2025: under three.
/// let baby = AnyCodiceFiscale::parse("RSSMRA25A01H501L").unwrap();
/// assert!(bonus_nido_applies(&baby, on));
/// // Born 1 January 2009: seventeen.
/// let teen = AnyCodiceFiscale::parse("RSSMRA09A01H501L").unwrap();
/// assert!(!bonus_nido_applies(&teen, on));
/// ```
pub fn bonus_nido_applies(person: &AnyCodiceFiscale, on: NaiveDate) -> bool {
    let AnyCodiceFiscale::Persona(cf) = person else {
        return false;
    };
    let Some(birth) = cf.birth_date_relative_to(on) else {
        return false;
    };
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    (0..BONUS_NIDO_MAX_AGE).contains(&age)
}

/// The yearly maximum of the bonus asilo nido for `person` on `on`
/// ([`bonus_nido_max_annual`] of the ISEE minorenni), or `None` when it
/// does not apply ([`bonus_nido_applies`]: not a child under three).
pub fn bonus_nido_for(
    person: &AnyCodiceFiscale,
    on: NaiveDate,
    isee_minorenni: Option<Euro>,
) -> Option<Euro> {
    bonus_nido_applies(person, on).then(|| bonus_nido_max_annual(isee_minorenni))
}

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

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    fn cf(s: &str) -> AnyCodiceFiscale {
        AnyCodiceFiscale::parse(s).unwrap()
    }

    #[test]
    fn only_children_under_three() {
        // Born 15 March 2024.
        let p = cf("RSSMRA24C15H501C");
        assert!(bonus_nido_applies(&p, d(2024, 3, 15)));
        assert!(bonus_nido_applies(&p, d(2027, 3, 14)));
        assert!(!bonus_nido_applies(&p, d(2027, 3, 15)));
        assert_eq!(
            bonus_nido_for(&p, d(2026, 1, 1), Some(Euro::from_cents(1_000_000))).map(Euro::cents),
            Some(300_000)
        );
        assert_eq!(bonus_nido_for(&p, d(2027, 6, 1), None), None);
        assert!(!bonus_nido_applies(&cf("00000010008"), d(2026, 1, 1)));
    }
}
