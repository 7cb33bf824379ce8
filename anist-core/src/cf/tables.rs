//! Lookup tables for the 16-character codice fiscale, built at compile time.

/// Class bits of a byte.
pub(crate) const LETTER: u8 = 1;
pub(crate) const DIGIT: u8 = 2;
/// Omocodia substitutes `L`..`V` (0..9).
pub(crate) const OMO: u8 = 4;
/// Month letters `ABCDEHLMPRST`.
pub(crate) const MONTH: u8 = 8;

/// The month letters, January first.
pub(crate) const MONTH_LETTERS: &[u8; 12] = b"ABCDEHLMPRST";
/// The omocodia substitute of each digit, `0` first.
pub(crate) const OMOCODE_LETTERS: &[u8; 10] = b"LMNPQRSTUV";
/// 0-based positions that hold digits (or their omocodia letters), rightmost first:
/// the order in which the Agenzia delle Entrate substitutes them.
pub(crate) const DIGIT_POSITIONS_RTL: [usize; 7] = [14, 13, 12, 10, 9, 7, 6];

const fn build_class() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = b'A';
    while b <= b'Z' {
        t[b as usize] |= LETTER;
        b += 1;
    }
    let mut b = b'0';
    while b <= b'9' {
        t[b as usize] |= DIGIT;
        b += 1;
    }
    let mut i = 0;
    while i < 10 {
        t[OMOCODE_LETTERS[i] as usize] |= OMO;
        i += 1;
    }
    let mut i = 0;
    while i < 12 {
        t[MONTH_LETTERS[i] as usize] |= MONTH;
        i += 1;
    }
    t
}

/// Class bits of every byte value.
pub(crate) static CLASS: [u8; 256] = build_class();

/// Which classes each of the 16 positions accepts.
pub(crate) const REQUIRED: [u8; 16] = [
    LETTER,
    LETTER,
    LETTER,
    LETTER,
    LETTER,
    LETTER,
    DIGIT | OMO,
    DIGIT | OMO,
    MONTH,
    DIGIT | OMO,
    DIGIT | OMO,
    LETTER,
    DIGIT | OMO,
    DIGIT | OMO,
    DIGIT | OMO,
    LETTER,
];

/// Words for the error message of each position.
pub(crate) const EXPECTED: [&str; 16] = [
    "a letter (surname)",
    "a letter (surname)",
    "a letter (surname)",
    "a letter (name)",
    "a letter (name)",
    "a letter (name)",
    "a digit or L-V (year)",
    "a digit or L-V (year)",
    "a month letter",
    "a digit or L-V (day)",
    "a digit or L-V (day)",
    "a letter (place)",
    "a digit or L-V (place)",
    "a digit or L-V (place)",
    "a digit or L-V (place)",
    "a letter (check character)",
];

/// Value of a digit or of its omocodia letter; 0 for anything else.
const fn build_digit_value() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        t[OMOCODE_LETTERS[i] as usize] = i as u8;
        i += 1;
    }
    t
}

/// Numeric value of a digit position, omocodia letters decoded.
pub(crate) static DIGIT_VALUE: [u8; 256] = build_digit_value();

/// Month number (1-12) of a month letter; 0 for anything else.
const fn build_month_number() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 12 {
        t[MONTH_LETTERS[i] as usize] = i as u8 + 1;
        i += 1;
    }
    t
}

/// Month number of each month letter.
pub(crate) static MONTH_NUMBER: [u8; 256] = build_month_number();

/// Check-character values of characters in odd (1-based) positions, A-Z and 0-9.
const ODD_LETTERS: [u8; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

const fn build_odd() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = ODD_LETTERS[i];
        i += 1;
    }
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = ODD_LETTERS[i];
        i += 1;
    }
    t
}

const fn build_even() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    t
}

/// Check-character values in odd (1-based) positions.
pub(crate) static ODD: [u8; 256] = build_odd();
/// Check-character values in even (1-based) positions.
pub(crate) static EVEN: [u8; 256] = build_even();

/// Days in a month (1-12) of a year that is (or is not) a leap year.
pub(crate) const fn month_len(month: u8, leap: bool) -> u8 {
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => 0,
    }
}
