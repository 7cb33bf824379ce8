//! Bindings of `anist_core`: codice fiscale, ID ANPR, codice meccanografico,
//! school years, compulsory education and synthetic data.

use anist_core::anpr::IdAnpr;
use anist_core::cf::{
    BelfioreCode, CodiceFiscale, FieldMatch, MatchQuery, MostRecentNotFuture, PersonData,
    PlaceFinding, PlacePart, Sex,
};
use anist_core::meccanografico::{CheckStatus, CodiceMeccanografico, SchoolKind, SchoolRole};
use anist_core::place;
use anist_core::school::{self, ObligationStatus, SchoolCycle, SchoolYear};
use anist_core::synthetic::{mixed_corpus, SyntheticPeople};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::errors::{self, guard};

/// Today (UTC): the reference of the default century policy.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The text of a Python `str`.
fn text<'a>(s: &'a Bound<'_, PyString>) -> PyResult<std::borrow::Cow<'a, str>> {
    s.to_cow()
}

fn parse_sex(s: &str) -> PyResult<Sex> {
    s.parse::<Sex>().map_err(|_| {
        errors::new(
            anist_core::ErrorKind::InvalidArgument,
            "sex must be \"M\" or \"F\"".to_string(),
            "sex_invalid",
        )
    })
}

/// A valid 16-character codice fiscale of a person.
#[pyclass(module = "anist._anist", name = "CodiceFiscale", frozen, eq, hash, ord)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PyCodiceFiscale(pub CodiceFiscale);

impl PyCodiceFiscale {
    fn birth_date_ref(&self, reference: NaiveDate) -> Option<NaiveDate> {
        self.0.birth_date_relative_to(reference)
    }
}

#[pymethods]
impl PyCodiceFiscale {
    /// Parses and fully validates a code (format, check character, date, place).
    #[staticmethod]
    fn parse(s: &Bound<'_, PyString>) -> PyResult<Self> {
        guard(|| {
            CodiceFiscale::parse(&text(s)?)
                .map(Self)
                .map_err(|e| errors::error(&e))
        })
    }

    /// Format, check character and date only: accepts a Belfiore code the
    /// compiled-in table does not know.
    #[staticmethod]
    fn parse_formal(s: &Bound<'_, PyString>) -> PyResult<Self> {
        guard(|| {
            CodiceFiscale::parse_formal(&text(s)?)
                .map(Self)
                .map_err(|e| errors::error(&e))
        })
    }

    /// Builds the code of a person.
    #[staticmethod]
    #[pyo3(signature = (surname, name, birth_date, sex, place, omocodia_level = 0))]
    fn encode(
        surname: &str,
        name: &str,
        birth_date: NaiveDate,
        sex: &str,
        place: &str,
        omocodia_level: u8,
    ) -> PyResult<Self> {
        guard(|| {
            let place = match BelfioreCode::parse(place) {
                Some(_) => PlacePart::Code(place),
                None => PlacePart::Name(place),
            };
            CodiceFiscale::encode(&PersonData {
                surname,
                name,
                birth_date,
                sex: parse_sex(sex)?,
                place,
                omocodia_level,
            })
            .map(Self)
            .map_err(|e| errors::error(&e))
        })
    }

    /// The 16 upper-case characters.
    #[getter]
    fn code(&self) -> &str {
        self.0.as_str()
    }

    /// `"M"` or `"F"`.
    #[getter]
    fn sex(&self) -> &'static str {
        self.0.sex().as_str()
    }

    /// The birth date, in the most recent century that does not put it in
    /// the future (`None` for 29 February of a non-leap century year).
    #[getter]
    fn birth_date(&self) -> Option<NaiveDate> {
        self.birth_date_ref(today())
    }

    /// The birth date relative to `reference` instead of today.
    fn birth_date_on(&self, reference: NaiveDate) -> Option<NaiveDate> {
        self.birth_date_ref(reference)
    }

    /// Day of birth, 1-31.
    #[getter]
    fn birth_day(&self) -> u8 {
        self.0.birth_day()
    }

    /// Month of birth, 1-12.
    #[getter]
    fn birth_month(&self) -> u8 {
        self.0.birth_month()
    }

    /// The two-digit year as written (omocodia decoded).
    #[getter]
    fn birth_year_2digit(&self) -> u8 {
        self.0.birth_year_2digit()
    }

    /// The Belfiore code of the place of birth (`H501`).
    #[getter]
    fn place_code(&self) -> String {
        self.0.belfiore_code().as_str().to_string()
    }

    /// The name of the place of birth at the birth date (or its latest name).
    #[getter]
    fn place_name(&self) -> Option<&'static str> {
        let policy = MostRecentNotFuture::new(today());
        match self.0.place_finding(&policy) {
            PlaceFinding::ExistedAtBirth(era) => Some(era.name()),
            _ => place::latest(self.0.belfiore_code().as_bytes()).map(|e| e.name()),
        }
    }

    /// The province of the place of birth (`EE` abroad), if known.
    #[getter]
    fn place_province(&self) -> Option<&'static str> {
        let policy = MostRecentNotFuture::new(today());
        match self.0.place_finding(&policy) {
            PlaceFinding::ExistedAtBirth(era) => Some(era.province()),
            _ => place::latest(self.0.belfiore_code().as_bytes()).map(|e| e.province()),
        }
    }

    /// Advisory: `"existed_at_birth"`, `"out_of_period"` (a warning, never
    /// a rejection) or `"undetermined"`.
    #[getter]
    fn place_finding(&self) -> &'static str {
        match self.0.place_finding(&MostRecentNotFuture::new(today())) {
            PlaceFinding::ExistedAtBirth(_) => "existed_at_birth",
            PlaceFinding::OutOfPeriod => "out_of_period",
            PlaceFinding::Undetermined => "undetermined",
        }
    }

    /// How many digit positions are written as letters (0-7).
    #[getter]
    fn omocodia_level(&self) -> u8 {
        self.0.omocodia_level()
    }

    /// Whether any digit position is written as a letter.
    #[getter]
    fn is_omocodic(&self) -> bool {
        self.0.is_omocodic()
    }

    /// The canonical (de-omocoded) code.
    #[getter]
    fn canonical(&self) -> Self {
        Self(self.0.canonical())
    }

    /// The code as the Agenzia would issue it at omocodia `level` (0-7).
    fn with_omocodia_level(&self, level: u8) -> Self {
        Self(self.0.with_omocodia_level(level))
    }

    /// The code with year and check character hidden (`RSSMRA**A01H501*`).
    #[getter]
    fn masked(&self) -> String {
        self.0.masked()
    }

    /// Compares the code with what is known of a person: a dict of
    /// field → `"matched"`, `"mismatched"` or `"unknown"`.
    #[pyo3(signature = (*, surname = None, name = None, birth_date = None, sex = None, place = None))]
    fn matches<'py>(
        &self,
        py: Python<'py>,
        surname: Option<&str>,
        name: Option<&str>,
        birth_date: Option<NaiveDate>,
        sex: Option<&str>,
        place: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let sex = sex.map(parse_sex).transpose()?;
            let report = self.0.matches(&MatchQuery {
                surname,
                name,
                birth_date,
                sex,
                place,
            });
            let out = PyDict::new(py);
            for (field, m) in report.fields() {
                out.set_item(field, FieldMatch::as_str(m))?;
            }
            Ok(out)
        })
    }

    fn __str__(&self) -> &str {
        self.0.as_str()
    }

    fn __repr__(&self) -> String {
        format!("CodiceFiscale('{}')", self.0.masked())
    }
}

/// Whether `s` is a fully valid codice fiscale.
#[pyfunction]
pub fn is_valid_cf(s: &Bound<'_, PyAny>) -> PyResult<bool> {
    guard(|| {
        let s = s
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("is_valid_cf() expects a str"))?;
        Ok(CodiceFiscale::is_valid(&s.to_cow()?))
    })
}

/// The separator used to pass a batch of strings in one piece.
const SEP: &str = "\u{1f}";

fn code_of(s: &str) -> Option<&'static str> {
    CodiceFiscale::parse(s).err().map(|e| e.code())
}

/// Validates every string of `codes` (any iterable of `str`); returns a
/// list with `None` for a valid code and the stable error code otherwise.
/// The validation runs with the GIL released.
#[pyfunction]
pub fn validate_cf_many<'py>(
    py: Python<'py>,
    codes: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    guard(|| {
        let list = match codes.cast::<PyList>() {
            Ok(l) => l.clone(),
            Err(_) => PyList::new(py, codes.try_iter()?.collect::<PyResult<Vec<_>>>()?)?,
        };
        let n = list.len();
        // Fast path: join in C, copy once, split in Rust. Falls back to one
        // string at a time when an item is not a str or holds the separator.
        let joined = PyString::new(py, SEP)
            .call_method1("join", (&list,))
            .ok()
            .and_then(|j| j.cast_into::<PyString>().ok());
        let results: Vec<Option<&'static str>> = match joined {
            Some(j) => {
                let text = j.to_cow()?.into_owned();
                py.detach(|| {
                    let out: Vec<Option<&'static str>> = if n == 0 {
                        Vec::new()
                    } else {
                        text.split(SEP).map(code_of).collect()
                    };
                    (out.len() == n).then_some(out)
                })
                .map_or_else(|| per_item(py, &list), Ok)?
            }
            None => per_item(py, &list)?,
        };
        let none = py.None();
        let mut cache: Vec<(&'static str, Bound<'py, PyString>)> = Vec::new();
        let mut items: Vec<Bound<'py, PyAny>> = Vec::with_capacity(n);
        for r in results {
            match r {
                None => items.push(none.bind(py).clone()),
                Some(code) => {
                    let s = match cache.iter().find(|(c, _)| *c == code) {
                        Some((_, s)) => s.clone(),
                        None => {
                            let s = PyString::intern(py, code);
                            cache.push((code, s.clone()));
                            s
                        }
                    };
                    items.push(s.into_any());
                }
            }
        }
        PyList::new(py, items)
    })
}

fn per_item(py: Python<'_>, list: &Bound<'_, PyList>) -> PyResult<Vec<Option<&'static str>>> {
    let mut owned = Vec::with_capacity(list.len());
    for item in list.iter() {
        let s = item
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("validate_cf_many() expects an iterable of str"))?;
        owned.push(s.to_cow()?.into_owned());
    }
    Ok(py.detach(|| owned.iter().map(|s| code_of(s)).collect()))
}

/// An ID ANPR (9 letters and digits).
#[pyclass(module = "anist._anist", name = "IdAnpr", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyIdAnpr(pub IdAnpr);

#[pymethods]
impl PyIdAnpr {
    /// Parses an ID ANPR (blanks removed, upper-cased).
    #[staticmethod]
    fn parse(s: &str) -> PyResult<Self> {
        guard(|| IdAnpr::parse(s).map(Self).map_err(|e| errors::error(&e)))
    }

    /// The 9 characters.
    #[getter]
    fn code(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the last character matches the probable check algorithm
    /// (advisory: the algorithm is not published).
    fn probable_check_ok(&self) -> bool {
        self.0.probable_check_ok()
    }

    fn __str__(&self) -> &str {
        self.0.as_str()
    }

    fn __repr__(&self) -> String {
        format!("IdAnpr('{}')", self.0.as_str())
    }
}

fn school_kind_name(kind: SchoolKind) -> String {
    let snake = |s: String| {
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    };
    match kind {
        SchoolKind::Liceo(k) => format!("liceo_{}", snake(format!("{k:?}"))),
        SchoolKind::Tecnico(k) => format!("tecnico_{}", snake(format!("{k:?}"))),
        SchoolKind::Professionale(k) => format!("professionale_{}", snake(format!("{k:?}"))),
        SchoolKind::Other([a, b]) => format!("other_{a}{b}"),
        other => snake(format!("{other:?}")),
    }
}

/// A structurally valid codice meccanografico (school code).
#[pyclass(
    module = "anist._anist",
    name = "CodiceMeccanografico",
    frozen,
    eq,
    hash
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyCodiceMeccanografico(pub CodiceMeccanografico);

#[pymethods]
impl PyCodiceMeccanografico {
    /// Parses a school code (structure only; see `check_status`).
    #[staticmethod]
    fn parse(s: &str) -> PyResult<Self> {
        guard(|| {
            CodiceMeccanografico::parse(s)
                .map(Self)
                .map_err(|e| errors::error(&e))
        })
    }

    /// The 10 characters.
    #[getter]
    fn code(&self) -> &str {
        self.0.as_str()
    }

    /// The province letters (characters 1-2).
    #[getter]
    fn province(&self) -> &str {
        self.0.province()
    }

    /// The type code (characters 3-4).
    #[getter]
    fn type_code(&self) -> &str {
        self.0.type_code()
    }

    /// The progressive (characters 5-9).
    #[getter]
    fn progressive(&self) -> &str {
        self.0.progressive()
    }

    /// The check character (character 10).
    #[getter]
    fn check_char(&self) -> char {
        self.0.check_char()
    }

    /// The kind of school, snake case (`primaria`, `liceo_scientifico`…).
    #[getter]
    fn school_kind(&self) -> String {
        school_kind_name(self.0.school_kind())
    }

    /// `"istituto"`, `"plesso"` or `"either"`, from the type code.
    #[getter]
    fn role(&self) -> &'static str {
        match self.0.role() {
            SchoolRole::Istituto => "istituto",
            SchoolRole::Plesso => "plesso",
            SchoolRole::Either => "either",
        }
    }

    /// Whether the type code is one of the paritarie (`1A`, `1E`, `1M`).
    #[getter]
    fn is_paritaria_by_code(&self) -> bool {
        self.0.is_paritaria_by_code()
    }

    /// Advisory check character: `"valid"`, `"mismatch"` or `"not_applicable"`.
    #[getter]
    fn check_status(&self) -> &'static str {
        match self.0.check_status() {
            CheckStatus::Valid => "valid",
            CheckStatus::Mismatch { .. } => "mismatch",
            CheckStatus::NotApplicable => "not_applicable",
        }
    }

    /// The school cycles of the code's type (`primaria`…).
    #[getter]
    fn cycles(&self) -> Vec<&'static str> {
        SchoolCycle::of_school(&self.0)
            .iter()
            .map(|c| c.as_str())
            .collect()
    }

    fn __str__(&self) -> &str {
        self.0.as_str()
    }

    fn __repr__(&self) -> String {
        format!("CodiceMeccanografico('{}')", self.0.as_str())
    }
}

/// An anno scolastico, 1 September – 31 August.
#[pyclass(module = "anist._anist", name = "SchoolYear", frozen, eq, hash, ord)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PySchoolYear(pub SchoolYear);

#[pymethods]
impl PySchoolYear {
    /// Parses `2025/2026`, `2025/26`, `2025-2026` or `202526`.
    #[staticmethod]
    fn parse(s: &str) -> PyResult<Self> {
        guard(|| {
            SchoolYear::parse(s)
                .map(Self)
                .map_err(|e| errors::error(&e))
        })
    }

    /// The school year starting on 1 September of `start_year`.
    #[staticmethod]
    fn starting(start_year: u16) -> PyResult<Self> {
        guard(|| {
            SchoolYear::starting(start_year)
                .map(Self)
                .map_err(|e| errors::error(&e))
        })
    }

    /// The school year `date` falls in.
    #[staticmethod]
    fn containing(date: NaiveDate) -> Self {
        Self(SchoolYear::containing(date))
    }

    /// The school year of today.
    #[staticmethod]
    fn current() -> Self {
        Self(SchoolYear::containing(today()))
    }

    /// The first calendar year.
    #[getter]
    fn start_year(&self) -> u16 {
        self.0.start_year()
    }

    /// The second calendar year.
    #[getter]
    fn end_year(&self) -> u16 {
        self.0.end_year()
    }

    /// 1 September of the first year.
    #[getter]
    fn first_day(&self) -> NaiveDate {
        self.0.first_day()
    }

    /// 31 August of the second year.
    #[getter]
    fn last_day(&self) -> NaiveDate {
        self.0.last_day()
    }

    /// Whether `date` falls within the school year.
    fn contains(&self, date: NaiveDate) -> bool {
        self.0.contains(date)
    }

    /// The school year before.
    fn previous(&self) -> Self {
        Self(self.0.previous())
    }

    /// The school year after.
    fn next(&self) -> Self {
        Self(self.0.next())
    }

    /// The six-digit form of MIM open data (`202526`).
    fn compact(&self) -> String {
        self.0.compact()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("SchoolYear('{}')", self.0)
    }
}

/// Where a person born on `birth_date` stands with respect to compulsory
/// education in `year`: `not_yet_obliged`, `compulsory`, `diritto_dovere`
/// or `beyond` (a screening filter, not a legal finding).
#[pyfunction]
pub fn obligation_status(birth_date: NaiveDate, year: &PySchoolYear) -> &'static str {
    school::obligation_status(birth_date, year.0).as_str()
}

/// The year of compulsory education (1-10) in `year`, or `None` when
/// outside the ten years.
#[pyfunction]
pub fn year_of_obligation(birth_date: NaiveDate, year: &PySchoolYear) -> Option<u8> {
    match school::obligation_status(birth_date, year.0) {
        ObligationStatus::Compulsory { year_of_obligation } => Some(year_of_obligation),
        _ => None,
    }
}

/// The cycle and class a regular pupil born on `birth_date` attends in
/// `year`, e.g. `("primaria", 3)`; `None` outside school age.
#[pyfunction]
pub fn expected_class(birth_date: NaiveDate, year: &PySchoolYear) -> Option<(&'static str, u8)> {
    school::expected_class(birth_date, year.0).map(|(c, n)| (c.as_str(), n))
}

/// `n` synthetic codici fiscali (invented people, deterministic in
/// `seed`). With `mixed=True`, the benchmark corpus: 80% valid, 5% valid
/// omocodic, 15% invalid of several kinds.
#[pyfunction]
#[pyo3(signature = (n, seed = 2026, mixed = false))]
pub fn synthetic_codes(py: Python<'_>, n: usize, seed: u64, mixed: bool) -> PyResult<Vec<String>> {
    guard(|| {
        Ok(py.detach(|| {
            if mixed {
                mixed_corpus(n, seed)
            } else {
                let from = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default();
                let to = NaiveDate::from_ymd_opt(2020, 12, 31).unwrap_or_default();
                let mut people = SyntheticPeople::new(seed, from, to);
                (0..n)
                    .map(|_| people.next_person().codice_fiscale.as_str().to_string())
                    .collect()
            }
        }))
    })
}

/// `n` synthetic people (invented), as dicts with `surname`, `name`,
/// `birth_date`, `sex`, `place_code` and `codice_fiscale`.
#[pyfunction]
#[pyo3(signature = (n, seed = 2026))]
pub fn synthetic_people<'py>(
    py: Python<'py>,
    n: usize,
    seed: u64,
) -> PyResult<Vec<Bound<'py, PyDict>>> {
    guard(|| {
        let from = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default();
        let to = NaiveDate::from_ymd_opt(2020, 12, 31).unwrap_or_default();
        let mut people = SyntheticPeople::new(seed, from, to);
        (0..n)
            .map(|_| {
                let p = people.next_person();
                let d = PyDict::new(py);
                d.set_item("surname", p.surname)?;
                d.set_item("name", p.name)?;
                d.set_item("birth_date", p.birth_date)?;
                d.set_item("sex", p.sex.as_str())?;
                d.set_item("place_code", p.place_code)?;
                d.set_item("codice_fiscale", p.codice_fiscale.as_str())?;
                Ok(d)
            })
            .collect()
    })
}

/// For the tests: panics inside the guard (must surface as `AnistError`).
#[pyfunction]
pub fn _panic_for_test(message: &str) -> PyResult<()> {
    guard(|| -> PyResult<()> { panic!("{message}") })
}

/// For the tests: the pid that built the shared runtime, if any.
#[pyfunction]
pub fn _runtime_pid() -> Option<u32> {
    crate::runtime::runtime_pid()
}

/// For the agreement test of the bindings: one exception per sample of
/// the workspace's error catalogue, raised through the same functions as
/// every call (`tests/test_errors.py` checks each class against ERRORS.md).
#[pyfunction]
pub fn _error_samples(py: Python<'_>) -> Vec<Py<PyAny>> {
    errors::samples()
        .into_iter()
        .map(|e| e.into_value(py).into_any())
        .collect()
}
