//! Identifiers: codice fiscale, ID ANPR, codice meccanografico, school
//! year (all pure `anist_core`, no network).

use std::ffi::c_char;

use anist_core::anpr::IdAnpr;
use anist_core::cf::{
    CodiceFiscale, FieldMatch, MatchQuery, MostRecentNotFuture, PersonData, PlacePart, Sex,
};
use anist_core::meccanografico::{CheckStatus, CodiceMeccanografico, SchoolRole};
use anist_core::school::{obligation_status, ObligationStatus, SchoolYear};
use chrono::{Datelike, NaiveDate};

use crate::error::{guard, Failure};
use crate::strings::{arg_bytes, arg_str, c_string, fixed, opt_str, out_ptr, write_out};

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str, name: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Failure::invalid(name, "write the date as YYYY-MM-DD, e.g. 2015-03-10"))
}

/// Today (local calendar of the machine, as the CLI does).
pub(crate) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// The date argument `name`, or today when NULL.
fn date_or_today(ptr: *const c_char, name: &str) -> Result<NaiveDate, Failure> {
    match opt_str(ptr, name)? {
        Some(s) => parse_date(s, name),
        None => Ok(today()),
    }
}

fn parse_sex(s: &str, name: &str) -> Result<Sex, Failure> {
    s.parse::<Sex>()
        .map_err(|_| Failure::invalid(name, "the sex is \"M\" or \"F\""))
}

/// Checks a 16-character codice fiscale: format, check character, date,
/// place known. Blanks and hyphens are ignored, lower case is accepted.
/// The input need not be UTF-8.
///
/// Returns [`crate::ANIST_OK`] when valid, [`crate::ANIST_ERR_INVALID_CF`]
/// (read why with [`crate::anist_last_error_code`] / message / position),
/// or [`crate::ANIST_ERR_NULL_ARGUMENT`].
#[no_mangle]
pub extern "C" fn anist_cf_validate(code: *const c_char) -> i32 {
    guard(|| {
        CodiceFiscale::parse_bytes(arg_bytes(code, "code")?)?;
        Ok(())
    })
}

/// Parses a codice fiscale and returns it in normal form (16 upper-case
/// characters, no blanks) in `*out_code`, to free with
/// [`crate::anist_string_free`]. Statuses as [`anist_cf_validate`].
#[no_mangle]
pub extern "C" fn anist_cf_parse(code: *const c_char, out_code: *mut *mut c_char) -> i32 {
    guard(|| {
        let input = arg_bytes(code, "code")?;
        out_ptr(out_code, "out_code")?;
        let cf = CodiceFiscale::parse_bytes(input)?;
        write_out(out_code, c_string(cf.as_str()));
        Ok(())
    })
}

/// `sex` of [`AnistCfFields`]: male.
pub const ANIST_SEX_MALE: i32 = 1;
/// `sex` of [`AnistCfFields`]: female.
pub const ANIST_SEX_FEMALE: i32 = 2;

/// What a codice fiscale says about its holder.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistCfFields {
    /// [`ANIST_SEX_MALE`] or [`ANIST_SEX_FEMALE`].
    pub sex: i32,
    /// Year of birth, the century chosen as the most recent one not in
    /// the future of the reference date; 0 when the date cannot be
    /// resolved (29 February of a non-leap century year).
    pub birth_year: i32,
    /// Month of birth, 1-12.
    pub birth_month: i32,
    /// Day of birth, 1-31.
    pub birth_day: i32,
    /// Belfiore code of the place of birth (`H501`), NUL-terminated.
    pub belfiore: [c_char; 5],
    /// Omocodia level 0-7 (0: the ordinary code).
    pub omocodia_level: i32,
    /// 1 when the place existed at the birth date (or cannot be judged),
    /// 0 when it did not: an advisory warning, never a reason to reject.
    pub place_plausible: i32,
}

/// Parses a codice fiscale and decodes its fields into `*out`.
/// `reference_date` (`YYYY-MM-DD`, NULL for today) picks the century of
/// the birth year. Statuses as [`anist_cf_validate`], plus
/// [`crate::ANIST_ERR_INVALID_ARGUMENT`] for a bad reference date.
#[no_mangle]
pub extern "C" fn anist_cf_decode(
    code: *const c_char,
    reference_date: *const c_char,
    out: *mut AnistCfFields,
) -> i32 {
    guard(|| {
        let input = arg_bytes(code, "code")?;
        out_ptr(out, "out")?;
        let reference = date_or_today(reference_date, "reference_date")?;
        let cf = CodiceFiscale::parse_bytes(input)?;
        let policy = MostRecentNotFuture::new(reference);
        let fields = AnistCfFields {
            sex: match cf.sex() {
                Sex::Male => ANIST_SEX_MALE,
                Sex::Female => ANIST_SEX_FEMALE,
            },
            birth_year: cf.birth_date(&policy).map_or(0, |d| d.year()),
            birth_month: i32::from(cf.birth_month()),
            birth_day: i32::from(cf.birth_day()),
            belfiore: fixed(cf.belfiore_code().as_str()),
            omocodia_level: i32::from(cf.omocodia_level()),
            place_plausible: i32::from(cf.place_plausible(&policy)),
        };
        write_out(out, fields);
        Ok(())
    })
}

/// Builds the codice fiscale of a person into `*out_code` (free it with
/// [`crate::anist_string_free`]). `birth_date` is `YYYY-MM-DD`; `sex` is
/// `"M"` or `"F"`; `place` is a Belfiore code (`H501`) or a comune or
/// foreign-state name (`Roma`, `Calliano (AT)`), resolved at the birth
/// date; `omocodia_level` 0-7 (0: the ordinary code).
///
/// Returns [`crate::ANIST_ERR_INVALID_CF`] (`cf_encode_*`),
/// [`crate::ANIST_ERR_PLACE`] (`place_*`), or
/// [`crate::ANIST_ERR_INVALID_ARGUMENT`].
#[no_mangle]
pub extern "C" fn anist_cf_encode(
    surname: *const c_char,
    name: *const c_char,
    birth_date: *const c_char,
    sex: *const c_char,
    place: *const c_char,
    omocodia_level: u32,
    out_code: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let surname = arg_str(surname, "surname")?;
        let name = arg_str(name, "name")?;
        let birth_date = parse_date(arg_str(birth_date, "birth_date")?, "birth_date")?;
        let sex = parse_sex(arg_str(sex, "sex")?, "sex")?;
        let place = arg_str(place, "place")?;
        out_ptr(out_code, "out_code")?;
        let omocodia_level = u8::try_from(omocodia_level)
            .ok()
            .filter(|l| *l <= 7)
            .ok_or_else(|| Failure::invalid("omocodia_level", "it is 0-7"))?;
        let place = if anist_core::cf::BelfioreCode::parse(place).is_some() {
            PlacePart::Code(place.trim())
        } else {
            PlacePart::Name(place)
        };
        let cf = CodiceFiscale::encode(&PersonData {
            surname,
            name,
            birth_date,
            sex,
            place,
            omocodia_level,
        })
        .map_err(|e| Failure::of(&e))?;
        write_out(out_code, c_string(cf.as_str()));
        Ok(())
    })
}

/// A field of [`AnistMatchReport`]: no value given, or not comparable.
pub const ANIST_MATCH_UNKNOWN: i32 = 0;
/// A field of [`AnistMatchReport`]: the code agrees with the value.
pub const ANIST_MATCH_MATCHED: i32 = 1;
/// A field of [`AnistMatchReport`]: the code disagrees with the value.
pub const ANIST_MATCH_MISMATCHED: i32 = 2;

/// Field-by-field comparison of a codice fiscale with a person's data:
/// each field is an `ANIST_MATCH_*` value.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistMatchReport {
    /// Positions 1-3 against the surname.
    pub surname: i32,
    /// Positions 4-6 against the given name.
    pub name: i32,
    /// Positions 7-11 against the birth date.
    pub birth_date: i32,
    /// Positions 10-11 against the sex.
    pub sex: i32,
    /// Positions 12-15 against the place of birth.
    pub place: i32,
    /// 1 when no field mismatched (unknown fields allowed), else 0.
    pub no_mismatch: i32,
}

fn match_value(m: FieldMatch) -> i32 {
    match m {
        FieldMatch::Matched => ANIST_MATCH_MATCHED,
        FieldMatch::Mismatched => ANIST_MATCH_MISMATCHED,
        FieldMatch::Unknown => ANIST_MATCH_UNKNOWN,
    }
}

/// Compares a codice fiscale with what is known of a person. Every data
/// argument may be NULL (not known): `birth_date` `YYYY-MM-DD`, `sex`
/// `"M"`/`"F"`, `place` a Belfiore code or a name. Statuses as
/// [`anist_cf_validate`], plus [`crate::ANIST_ERR_INVALID_ARGUMENT`].
#[no_mangle]
pub extern "C" fn anist_cf_match(
    code: *const c_char,
    surname: *const c_char,
    name: *const c_char,
    birth_date: *const c_char,
    sex: *const c_char,
    place: *const c_char,
    out: *mut AnistMatchReport,
) -> i32 {
    guard(|| {
        let input = arg_bytes(code, "code")?;
        out_ptr(out, "out")?;
        let query = MatchQuery {
            surname: opt_str(surname, "surname")?,
            name: opt_str(name, "name")?,
            birth_date: opt_str(birth_date, "birth_date")?
                .map(|d| parse_date(d, "birth_date"))
                .transpose()?,
            sex: opt_str(sex, "sex")?
                .map(|s| parse_sex(s, "sex"))
                .transpose()?,
            place: opt_str(place, "place")?,
        };
        let cf = CodiceFiscale::parse_bytes(input)?;
        let report = cf.matches(&query);
        write_out(
            out,
            AnistMatchReport {
                surname: match_value(report.surname),
                name: match_value(report.name),
                birth_date: match_value(report.birth_date),
                sex: match_value(report.sex),
                place: match_value(report.place),
                no_mismatch: i32::from(report.no_mismatch()),
            },
        );
        Ok(())
    })
}

/// Parses an ID ANPR (9 letters and digits; blanks ignored) into
/// `*out_code` (normal form, free with [`crate::anist_string_free`]).
/// `out_probable_check_ok` may be NULL; otherwise it receives 1 when the
/// last character matches the *probable* (unofficial) check character,
/// 0 when not: advisory only, never a reason to reject.
///
/// Returns [`crate::ANIST_ERR_INVALID_ID_ANPR`] (`anpr_*`) when invalid.
#[no_mangle]
pub extern "C" fn anist_id_anpr_parse(
    input: *const c_char,
    out_code: *mut *mut c_char,
    out_probable_check_ok: *mut i32,
) -> i32 {
    guard(|| {
        let input = arg_str(input, "input")?;
        out_ptr(out_code, "out_code")?;
        let id = IdAnpr::parse(input).map_err(|e| Failure::of(&e))?;
        write_out(out_probable_check_ok, i32::from(id.probable_check_ok()));
        write_out(out_code, c_string(id.as_str()));
        Ok(())
    })
}

/// `role` of [`AnistMeccInfo`]: an istituto (sede di direttivo).
pub const ANIST_ROLE_ISTITUTO: i32 = 1;
/// `role` of [`AnistMeccInfo`]: a plesso of an istituto.
pub const ANIST_ROLE_PLESSO: i32 = 2;
/// `role` of [`AnistMeccInfo`]: the type code allows both.
pub const ANIST_ROLE_EITHER: i32 = 3;

/// `check` of [`AnistMeccInfo`]: the check character matches.
pub const ANIST_MECC_CHECK_VALID: i32 = 1;
/// `check` of [`AnistMeccInfo`]: the check character differs (a probable
/// typo: warn, never reject; the algorithm is not official).
pub const ANIST_MECC_CHECK_MISMATCH: i32 = 2;
/// `check` of [`AnistMeccInfo`]: the algorithm does not apply to this code.
pub const ANIST_MECC_CHECK_NOT_APPLICABLE: i32 = 3;

/// A parsed codice meccanografico.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistMeccInfo {
    /// The code in normal form (10 characters), NUL-terminated.
    pub code: [c_char; 11],
    /// The province letters (positions 1-2).
    pub province: [c_char; 3],
    /// The type code (positions 3-4), e.g. `IC`, `EE`, `PS`.
    pub type_code: [c_char; 3],
    /// `ANIST_ROLE_*`: what the type code says the school is.
    pub role: i32,
    /// `ANIST_MECC_CHECK_*`: the advisory check character test.
    pub check: i32,
    /// With [`ANIST_MECC_CHECK_MISMATCH`], the expected check character;
    /// otherwise 0.
    pub expected_check_char: c_char,
}

/// Parses a codice meccanografico (structure only: a wrong check
/// character is reported in `check`, not as an error) into `*out`.
///
/// Returns [`crate::ANIST_ERR_INVALID_MECC`] (`mecc_*`) when invalid.
#[no_mangle]
pub extern "C" fn anist_mecc_parse(input: *const c_char, out: *mut AnistMeccInfo) -> i32 {
    guard(|| {
        let input = arg_str(input, "input")?;
        out_ptr(out, "out")?;
        let code = CodiceMeccanografico::parse(input).map_err(|e| Failure::of(&e))?;
        let (check, expected) = match code.check_status() {
            CheckStatus::Valid => (ANIST_MECC_CHECK_VALID, 0),
            CheckStatus::Mismatch { expected, .. } => (
                ANIST_MECC_CHECK_MISMATCH,
                u8::try_from(expected).unwrap_or(0),
            ),
            CheckStatus::NotApplicable => (ANIST_MECC_CHECK_NOT_APPLICABLE, 0),
        };
        write_out(
            out,
            AnistMeccInfo {
                code: fixed(code.as_str()),
                province: fixed(code.province()),
                type_code: fixed(code.type_code()),
                role: match code.role() {
                    SchoolRole::Istituto => ANIST_ROLE_ISTITUTO,
                    SchoolRole::Plesso => ANIST_ROLE_PLESSO,
                    SchoolRole::Either => ANIST_ROLE_EITHER,
                },
                check,
                expected_check_char: expected as c_char,
            },
        );
        Ok(())
    })
}

/// Parses a school year (`2025/2026`, `2025/26`, `2025-2026`, `202526`)
/// and gives its first calendar year (2025) in `*out_start_year`.
///
/// Returns [`crate::ANIST_ERR_INVALID_SCHOOL_YEAR`] (`school_year_*`).
#[no_mangle]
pub extern "C" fn anist_school_year_parse(input: *const c_char, out_start_year: *mut i32) -> i32 {
    guard(|| {
        let input = arg_str(input, "input")?;
        out_ptr(out_start_year, "out_start_year")?;
        let year = SchoolYear::parse(input).map_err(|e| Failure::of(&e))?;
        write_out(out_start_year, i32::from(year.start_year()));
        Ok(())
    })
}

/// The school year (1 September - 31 August) a date falls in: its first
/// calendar year in `*out_start_year`. `date` is `YYYY-MM-DD`, NULL for
/// today.
#[no_mangle]
pub extern "C" fn anist_school_year_containing(
    date: *const c_char,
    out_start_year: *mut i32,
) -> i32 {
    guard(|| {
        out_ptr(out_start_year, "out_start_year")?;
        let date = date_or_today(date, "date")?;
        write_out(
            out_start_year,
            i32::from(SchoolYear::containing(date).start_year()),
        );
        Ok(())
    })
}

/// Obligation status: too young for compulsory education this school year.
pub const ANIST_OBLIGATION_NOT_YET: i32 = 1;
/// Obligation status: within the ten years of compulsory education.
pub const ANIST_OBLIGATION_COMPULSORY: i32 = 2;
/// Obligation status: within the diritto-dovere (up to 18).
pub const ANIST_OBLIGATION_DIRITTO_DOVERE: i32 = 3;
/// Obligation status: beyond every obligation.
pub const ANIST_OBLIGATION_BEYOND: i32 = 4;

pub(crate) fn school_year_of(start_year: i32) -> Result<SchoolYear, Failure> {
    let start = u16::try_from(start_year)
        .map_err(|_| Failure::invalid("school_year", "give the first calendar year, e.g. 2025"))?;
    SchoolYear::starting(start).map_err(|e| Failure::of(&e))
}

/// Where a person born on `birth_date` (`YYYY-MM-DD`) stands with respect
/// to compulsory education in the school year starting in
/// `school_year_start`: `ANIST_OBLIGATION_*` in `*out_status`, and, when
/// compulsory, the year of obligation 1-10 in `*out_year_of_obligation`
/// (0 otherwise; may be NULL). A screening filter, not a legal finding.
#[no_mangle]
pub extern "C" fn anist_obligation_status(
    birth_date: *const c_char,
    school_year_start: i32,
    out_status: *mut i32,
    out_year_of_obligation: *mut i32,
) -> i32 {
    guard(|| {
        let birth = parse_date(arg_str(birth_date, "birth_date")?, "birth_date")?;
        out_ptr(out_status, "out_status")?;
        let year = school_year_of(school_year_start)?;
        let (status, nth) = match obligation_status(birth, year) {
            ObligationStatus::NotYetObliged { .. } => (ANIST_OBLIGATION_NOT_YET, 0),
            ObligationStatus::Compulsory { year_of_obligation } => {
                (ANIST_OBLIGATION_COMPULSORY, i32::from(year_of_obligation))
            }
            ObligationStatus::DirittoDovere => (ANIST_OBLIGATION_DIRITTO_DOVERE, 0),
            ObligationStatus::Beyond => (ANIST_OBLIGATION_BEYOND, 0),
        };
        write_out(out_year_of_obligation, nth);
        write_out(out_status, status);
        Ok(())
    })
}

/// Bytes per code in the buffer [`anist_synthetic_codes`] fills.
pub const ANIST_SYNTHETIC_STRIDE: usize = 32;

/// Test and benchmark helper: fills `buf` with `count` synthetic codes
/// (invented people only), each NUL-terminated in a slot of
/// [`ANIST_SYNTHETIC_STRIDE`] bytes: 80% valid, 5% valid omocodic, 15%
/// invalid of several kinds (the corpus of the Rust benchmarks,
/// `anist_core::synthetic::mixed_corpus(count, seed)`). `buf_len` must
/// be at least `count * ANIST_SYNTHETIC_STRIDE`.
#[no_mangle]
pub extern "C" fn anist_synthetic_codes(
    seed: u64,
    count: usize,
    buf: *mut c_char,
    buf_len: usize,
) -> i32 {
    guard(|| {
        out_ptr(buf, "buf")?;
        let needed = count
            .checked_mul(ANIST_SYNTHETIC_STRIDE)
            .filter(|n| *n <= buf_len)
            .ok_or_else(|| {
                Failure::new(
                    anist_core::ErrorKind::InvalidArgument,
                    "invalid_argument",
                    "the buffer is too small: give count * ANIST_SYNTHETIC_STRIDE bytes",
                )
            })?;
        let corpus = anist_core::synthetic::mixed_corpus(count, seed);
        // SAFETY: the caller promises `buf` points to `buf_len` writable
        // bytes, and `needed <= buf_len`.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), needed) };
        for (slot, code) in out.chunks_exact_mut(ANIST_SYNTHETIC_STRIDE).zip(&corpus) {
            slot.fill(0);
            let n = code.len().min(ANIST_SYNTHETIC_STRIDE - 1);
            slot[..n].copy_from_slice(&code.as_bytes()[..n]);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::*;
    use std::ffi::{CStr, CString};

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    fn fixed_str(field: &[c_char]) -> String {
        let bytes: Vec<u8> = field
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        String::from_utf8(bytes).unwrap()
    }

    fn last_code() -> String {
        let mut buf = [0 as c_char; 64];
        assert_eq!(anist_last_error_code(buf.as_mut_ptr(), buf.len()), ANIST_OK);
        // SAFETY: NUL-terminated by anist_last_error_code.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn validate_gives_the_status_and_the_stable_code() {
        assert_eq!(anist_cf_validate(c("RSSMRA80A01H501U").as_ptr()), ANIST_OK);
        assert_eq!(last_code(), "");
        assert_eq!(
            anist_cf_validate(c("RSSMRA80A01H501X").as_ptr()),
            ANIST_ERR_INVALID_CF
        );
        assert_eq!(last_code(), "cf_check_char");
        assert_eq!(anist_last_error_position(), 16);
        assert_eq!(anist_cf_validate(std::ptr::null()), ANIST_ERR_NULL_ARGUMENT);
        assert_eq!(last_code(), "null_argument");
    }

    #[test]
    fn encode_decode_and_match_agree() {
        let mut out: *mut c_char = std::ptr::null_mut();
        let status = anist_cf_encode(
            c("Rossi").as_ptr(),
            c("Mario").as_ptr(),
            c("1980-01-01").as_ptr(),
            c("M").as_ptr(),
            c("H501").as_ptr(),
            0,
            &mut out,
        );
        assert_eq!(status, ANIST_OK);
        // SAFETY: written on success by anist_cf_encode.
        let code = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_string();
        crate::anist_string_free(out);
        assert_eq!(code, "RSSMRA80A01H501U");

        let mut fields = std::mem::MaybeUninit::<AnistCfFields>::uninit();
        let status = anist_cf_decode(
            c(&code).as_ptr(),
            c("2026-01-01").as_ptr(),
            fields.as_mut_ptr(),
        );
        assert_eq!(status, ANIST_OK);
        // SAFETY: written on success.
        let fields = unsafe { fields.assume_init() };
        assert_eq!(
            (fields.birth_year, fields.birth_month, fields.birth_day),
            (1980, 1, 1)
        );
        assert_eq!(fields.sex, ANIST_SEX_MALE);
        assert_eq!(fixed_str(&fields.belfiore), "H501");

        let mut report = std::mem::MaybeUninit::<AnistMatchReport>::uninit();
        let status = anist_cf_match(
            c(&code).as_ptr(),
            c("Rossi").as_ptr(),
            c("Luigi").as_ptr(),
            std::ptr::null(),
            c("M").as_ptr(),
            std::ptr::null(),
            report.as_mut_ptr(),
        );
        assert_eq!(status, ANIST_OK);
        // SAFETY: written on success.
        let report = unsafe { report.assume_init() };
        assert_eq!(report.surname, ANIST_MATCH_MATCHED);
        assert_eq!(report.name, ANIST_MATCH_MISMATCHED);
        assert_eq!(report.birth_date, ANIST_MATCH_UNKNOWN);
        assert_eq!(report.no_mismatch, 0);
    }

    #[test]
    fn out_params_are_untouched_on_failure() {
        let mut start = -7;
        assert_eq!(
            anist_school_year_parse(c("2025/2027").as_ptr(), &mut start),
            ANIST_ERR_INVALID_SCHOOL_YEAR
        );
        assert_eq!(start, -7);
        assert_eq!(last_code(), "school_year_not_consecutive");
        assert_eq!(
            anist_school_year_parse(c("2025/26").as_ptr(), &mut start),
            ANIST_OK
        );
        assert_eq!(start, 2025);
        let mut out: *mut c_char = std::ptr::null_mut();
        assert_eq!(
            anist_id_anpr_parse(c("FL46721J").as_ptr(), &mut out, std::ptr::null_mut()),
            ANIST_ERR_INVALID_ID_ANPR
        );
        assert!(out.is_null());
        assert_eq!(
            anist_cf_encode(
                c("Rossi").as_ptr(),
                c("Mario").as_ptr(),
                c("1980-13-01").as_ptr(),
                c("M").as_ptr(),
                c("H501").as_ptr(),
                0,
                &mut out,
            ),
            ANIST_ERR_INVALID_ARGUMENT
        );
        assert!(out.is_null());
    }

    #[test]
    fn mecc_and_obligation() {
        let mut info = std::mem::MaybeUninit::<AnistMeccInfo>::uninit();
        assert_eq!(
            anist_mecc_parse(c("rmic8e200x").as_ptr(), info.as_mut_ptr()),
            ANIST_OK
        );
        // SAFETY: written on success.
        let info = unsafe { info.assume_init() };
        assert_eq!(info.role, ANIST_ROLE_ISTITUTO);
        assert_eq!(fixed_str(&info.code), "RMIC8E200X");
        let (mut status, mut nth) = (0, -1);
        assert_eq!(
            anist_obligation_status(c("2015-03-10").as_ptr(), 2025, &mut status, &mut nth),
            ANIST_OK
        );
        assert_eq!((status, nth), (ANIST_OBLIGATION_COMPULSORY, 5));
    }

    #[test]
    fn synthetic_codes_fill_their_slots() {
        let mut buf = vec![0x55 as c_char; 10 * ANIST_SYNTHETIC_STRIDE];
        assert_eq!(
            anist_synthetic_codes(1, 10, buf.as_mut_ptr(), buf.len()),
            ANIST_OK
        );
        let valid = buf
            .chunks(ANIST_SYNTHETIC_STRIDE)
            .filter(|slot| anist_cf_validate(slot.as_ptr()) == ANIST_OK)
            .count();
        assert!(valid >= 5, "{valid}");
        assert_eq!(
            anist_synthetic_codes(1, 11, buf.as_mut_ptr(), buf.len()),
            ANIST_ERR_INVALID_ARGUMENT
        );
    }
}
