//! Deterministic synthetic people and codici fiscali for tests, benchmarks,
//! samples and the sandbox. Never real people: surnames and names are drawn
//! from short invented lists, places from the Belfiore table.
//!
//! The generator is a hand-written SplitMix64 so that the same seed gives the
//! same population in every release (general-purpose RNG crates do not
//! promise value stability across versions).
//!
//! ```
//! use anist_core::synthetic::SyntheticPeople;
//! use chrono::NaiveDate;
//! let from = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
//! let to = NaiveDate::from_ymd_opt(2020, 12, 31).unwrap();
//! let mut people = SyntheticPeople::new(42, from, to);
//! let a = people.next_person();
//! let b = SyntheticPeople::new(42, from, to).next_person();
//! assert_eq!(a.codice_fiscale, b.codice_fiscale);
//! ```

use chrono::{Days, NaiveDate};

use crate::cf::{CodiceFiscale, PersonData, PlacePart, Sex};
use crate::place::{self, PlaceKind};

/// SplitMix64: tiny, fast, value-stable.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`; 0 gives 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// An element of a non-empty slice (`None` if empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
}

const SURNAMES: &[&str] = &[
    "Abbadessa",
    "Bellomo",
    "Caruselli",
    "Dondolini",
    "Esposti",
    "Fabbretti",
    "Galluzzo",
    "Iannelli",
    "Lombrosi",
    "Marzotti",
    "Nardelli",
    "Orlandini",
    "Pezzella",
    "Quaranti",
    "Rinaldesi",
    "Sartorello",
    "Tavernini",
    "Urbinati",
    "Valsecchi",
    "Zanfretta",
    "D'Ambrosi",
    "De Lucchi",
    "Nuñez Ortu",
    "Li",
    "Wu",
    "Ö",
    "Kovač",
];
const NAMES_M: &[&str] = &[
    "Alessio",
    "Bruno",
    "Cosimo",
    "Dario",
    "Elia",
    "Filippo",
    "Gianfranco",
    "Ivo",
    "Leandro",
    "Matteo",
    "Nicolò",
    "Oreste",
    "Pietro",
    "Rocco",
    "Samuele",
    "Tommaso",
    "Ugo",
    "Yuri",
];
const NAMES_F: &[&str] = &[
    "Alba", "Beatrice", "Carlotta", "Debora", "Elena", "Fiamma", "Gaia", "Ilaria", "Licia",
    "Marta", "Noemi", "Ottavia", "Petra", "Rebecca", "Sveva", "Teresa", "Ursula", "Zoë",
];

/// One synthetic person.
#[derive(Clone, PartialEq, Eq)]
pub struct SyntheticPerson {
    /// Surname.
    pub surname: &'static str,
    /// Given name.
    pub name: &'static str,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// Belfiore code of the place of birth (valid at the birth date).
    pub place_code: &'static str,
    /// The person's code (omocodia level 0).
    pub codice_fiscale: CodiceFiscale,
}

/// Masked like every personal record.
impl std::fmt::Debug for SyntheticPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyntheticPerson")
            .field("codice_fiscale", &self.codice_fiscale)
            .finish_non_exhaustive()
    }
}

/// A synthetic given name for `sex`, chosen by `index` (any number: it
/// wraps around the list), for a person whose other data come from
/// elsewhere (e.g. a sandbox household member of a known sex).
pub fn given_name(sex: Sex, index: u64) -> &'static str {
    let names = if sex == Sex::Male { NAMES_M } else { NAMES_F };
    let len = u64::try_from(names.len()).unwrap_or(1).max(1);
    usize::try_from(index % len)
        .ok()
        .and_then(|i| names.get(i))
        .copied()
        .unwrap_or("Maria")
}

/// A deterministic stream of synthetic people born in a date range.
#[derive(Debug, Clone)]
pub struct SyntheticPeople {
    rng: SplitMix64,
    from: NaiveDate,
    span_days: u64,
}

impl SyntheticPeople {
    /// People born between `from` and `to` (inclusive), seeded.
    pub fn new(seed: u64, from: NaiveDate, to: NaiveDate) -> Self {
        let (from, to) = if from <= to { (from, to) } else { (to, from) };
        let span_days = u64::try_from((to - from).num_days()).unwrap_or(0) + 1;
        Self {
            rng: SplitMix64::new(seed),
            from,
            span_days,
        }
    }

    /// The generator, to draw other values from the same stream.
    pub fn rng(&mut self) -> &mut SplitMix64 {
        &mut self.rng
    }

    /// The next person. Places are drawn from the table among the eras valid
    /// at the birth date (mostly comuni, about one in ten abroad).
    pub fn next_person(&mut self) -> SyntheticPerson {
        let birth_date = self.from + Days::new(self.rng.below(self.span_days));
        let sex = if self.rng.below(2) == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        let names = if sex == Sex::Male { NAMES_M } else { NAMES_F };
        let surname = self.rng.pick(SURNAMES).copied().unwrap_or("Rossi");
        let name = self.rng.pick(names).copied().unwrap_or("Maria");
        let abroad = self.rng.below(10) == 0;
        let place_code = self.place_at(birth_date, abroad);
        let codice_fiscale = CodiceFiscale::encode(&PersonData {
            surname,
            name,
            birth_date,
            sex,
            place: PlacePart::Code(place_code),
            omocodia_level: 0,
        })
        .unwrap_or_else(|_| fallback_code(birth_date));
        SyntheticPerson {
            surname,
            name,
            birth_date,
            sex,
            place_code,
            codice_fiscale,
        }
    }

    fn place_at(&mut self, date: NaiveDate, abroad: bool) -> &'static str {
        let all = place::all();
        let want = if abroad {
            PlaceKind::ForeignState
        } else {
            PlaceKind::Comune
        };
        for _ in 0..64 {
            if let Some(era) = self.rng.pick(all) {
                if era.kind() == want && era.contains(date) && era.code().len() == 4 {
                    return era.code();
                }
            }
        }
        "H501"
    }
}

/// Only reached if the table were empty: a fixed valid code of the same date.
fn fallback_code(date: NaiveDate) -> CodiceFiscale {
    CodiceFiscale::encode(&PersonData {
        surname: "Rossi",
        name: "Maria",
        birth_date: date,
        sex: Sex::Female,
        place: PlacePart::Code("H501"),
        omocodia_level: 0,
    })
    .unwrap_or_else(|_| CodiceFiscale::from_valid_bytes(*b"RSSMRA80A01H501U"))
}

/// A benchmark corpus of `n` codes: 80% valid, 5% valid omocodic, 15%
/// invalid of several kinds (check character, length, month, day, character,
/// unknown place, lower case with blanks counted as valid input).
pub fn mixed_corpus(n: usize, seed: u64) -> Vec<String> {
    let from = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap_or_default();
    let mut people = SyntheticPeople::new(seed, from, to);
    (0..n)
        .map(|_| {
            let cf = people.next_person().codice_fiscale;
            let roll = people.rng().below(100);
            let mut b = *cf.as_bytes();
            match roll {
                0..=79 => cf.to_string(),
                80..=84 => {
                    let level = 1 + people.rng().below(7) as u8;
                    cf.with_omocodia_level(level).to_string()
                }
                85..=88 => {
                    b[15] = if b[15] == b'Z' { b'A' } else { b[15] + 1 };
                    String::from_utf8_lossy(&b).into_owned()
                }
                89..=90 => String::from_utf8_lossy(&b[..15]).into_owned(),
                91..=92 => {
                    b[8] = b'Z';
                    String::from_utf8_lossy(&b).into_owned()
                }
                93..=94 => {
                    b[9] = b'9';
                    String::from_utf8_lossy(&b).into_owned()
                }
                95..=96 => {
                    b[2] = b'7';
                    String::from_utf8_lossy(&b).into_owned()
                }
                _ => {
                    b[11] = b'Z';
                    b[12] = b'9';
                    b[13] = b'9';
                    b[14] = b'9';
                    b[15] = crate::cf::checks::compute_check_char(&b);
                    String::from_utf8_lossy(&b).into_owned()
                }
            }
        })
        .collect()
}
