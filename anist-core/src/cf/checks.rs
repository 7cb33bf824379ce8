//! The four tiers of codice fiscale checks, each callable alone on 16
//! normalised bytes (see [`CodiceFiscale::parse`](super::CodiceFiscale::parse)
//! for normalisation). Every function accepts any bytes without panicking; a
//! tier assumes nothing about the earlier ones except where it says so.

use super::error::CfError;
use super::tables::{
    month_len, CLASS, DIGIT_VALUE, EVEN, EXPECTED, MONTH, MONTH_NUMBER, ODD, REQUIRED,
};
use crate::place;

/// Tier 1: every position holds a character of the right class (letters,
/// digits or omocodia letters L-V, month letter at position 9).
pub fn format(code: &[u8; 16]) -> Result<(), CfError> {
    if format_ok(code) {
        return Ok(());
    }
    for i in 0..16 {
        let b = code[i];
        if CLASS[usize::from(b)] & REQUIRED[i] == 0 {
            let ch = char::from(b);
            if REQUIRED[i] == MONTH && b.is_ascii_uppercase() {
                return Err(CfError::Month { ch });
            }
            return Err(CfError::Char {
                pos: i as u8 + 1,
                ch,
                expected: EXPECTED[i],
            });
        }
    }
    Ok(())
}

/// Tier 1 as a branch-free yes/no (the hot path of bulk validation).
#[inline]
pub fn format_ok(code: &[u8; 16]) -> bool {
    let mut ok = true;
    for i in 0..16 {
        ok &= CLASS[usize::from(code[i])] & REQUIRED[i] != 0;
    }
    ok
}

/// The check character of the first 15 bytes (the 16th is ignored).
/// Bytes outside `A-Z0-9` count as 0.
pub fn compute_check_char(code: &[u8; 16]) -> u8 {
    let mut sum = u32::from(ODD[usize::from(code[14])]);
    for i in (0..14).step_by(2) {
        sum += u32::from(ODD[usize::from(code[i])]) + u32::from(EVEN[usize::from(code[i + 1])]);
    }
    b'A' + (sum % 26) as u8
}

/// Tier 2: position 16 is the check character of positions 1-15.
pub fn check_char(code: &[u8; 16]) -> Result<(), CfError> {
    let expected = compute_check_char(code);
    if code[15] == expected {
        Ok(())
    } else {
        Err(CfError::CheckChar {
            expected: char::from(expected),
            found: char::from(code[15]),
        })
    }
}

/// Tier 3: a real calendar day. Month letter, day 1-31 (men) or 41-71
/// (women) within the month's length; 29 February only when the two-digit
/// year is a multiple of 4 (`00` is read as 2000, a leap year).
/// Assumes tier 1 passed for positions 7-11 (other bytes read as 0).
pub fn date(code: &[u8; 16]) -> Result<(), CfError> {
    let month = MONTH_NUMBER[usize::from(code[8])];
    if month == 0 {
        return Err(CfError::Month {
            ch: char::from(code[8]),
        });
    }
    let yy = DIGIT_VALUE[usize::from(code[6])] * 10 + DIGIT_VALUE[usize::from(code[7])];
    let raw = DIGIT_VALUE[usize::from(code[9])] * 10 + DIGIT_VALUE[usize::from(code[10])];
    let day = if raw > 40 { raw - 40 } else { raw };
    if day == 0 || (raw > 31 && raw < 41) || day > month_len(month, yy.is_multiple_of(4)) {
        return Err(CfError::Day { raw, month });
    }
    Ok(())
}

/// The Belfiore code at positions 12-15, omocodia letters decoded.
pub fn belfiore_bytes(code: &[u8; 16]) -> [u8; 4] {
    [
        code[11],
        b'0' + DIGIT_VALUE[usize::from(code[12])],
        b'0' + DIGIT_VALUE[usize::from(code[13])],
        b'0' + DIGIT_VALUE[usize::from(code[14])],
    ]
}

/// Tier 4: positions 12-15 are the Belfiore code of a comune (of any era) or
/// of a foreign state. Whether it existed at the birth date is a separate,
/// advisory finding.
pub fn place(code: &[u8; 16]) -> Result<(), CfError> {
    let b = belfiore_bytes(code);
    if place::is_known(&b) {
        Ok(())
    } else {
        Err(CfError::PlaceUnknown {
            code: String::from_utf8_lossy(&b).into_owned(),
        })
    }
}
