//! Header names → logical fields.

use std::fmt;
use std::sync::OnceLock;

use super::text::fold_header;
use super::CsvError;

/// A logical field that headers are mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Field {
    /// Codice fiscale of the person the row is about.
    CodiceFiscale,
    /// Surname (cognome).
    Surname,
    /// Given name (nome).
    GivenName,
    /// Surname and name in one column (nominativo).
    FullName,
    /// Date of birth.
    BirthDate,
    /// Sex (M / F).
    Sex,
    /// Place of birth (comune or foreign state), as a name or a code.
    BirthPlace,
    /// Province of birth (sigla).
    BirthProvince,
    /// Citizenship.
    Citizenship,
    /// Comune of residence.
    ResidencePlace,
    /// ID ANPR (identificativo unico nazionale).
    IdAnpr,
    /// Codice meccanografico of a school.
    CodiceMeccanografico,
    /// School year (anno scolastico).
    SchoolYear,
    /// Year of the course (anno di corso, 1-5).
    YearOfCourse,
}

impl Field {
    /// Every field, in declaration order.
    pub const ALL: [Field; 14] = [
        Field::CodiceFiscale,
        Field::Surname,
        Field::GivenName,
        Field::FullName,
        Field::BirthDate,
        Field::Sex,
        Field::BirthPlace,
        Field::BirthProvince,
        Field::Citizenship,
        Field::ResidencePlace,
        Field::IdAnpr,
        Field::CodiceMeccanografico,
        Field::SchoolYear,
        Field::YearOfCourse,
    ];

    /// A stable snake-case name, e.g. `codice_fiscale`, `birth_date`.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::CodiceFiscale => "codice_fiscale",
            Field::Surname => "surname",
            Field::GivenName => "given_name",
            Field::FullName => "full_name",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::BirthPlace => "birth_place",
            Field::BirthProvince => "birth_province",
            Field::Citizenship => "citizenship",
            Field::ResidencePlace => "residence_place",
            Field::IdAnpr => "id_anpr",
            Field::CodiceMeccanografico => "codice_meccanografico",
            Field::SchoolYear => "school_year",
            Field::YearOfCourse => "year_of_course",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The built-in alias table. Matching folds both sides with
/// [`fold_header`] and ignores the spaces left, so each entry also stands for
/// its spellings with `_`, `.`, `-`, other case, accents or no blanks
/// (`codice fiscale` matches `CODICE_FISCALE`, `CodiceFiscale`,
/// `codicefiscale`, `Cod.Fiscale` does not: `cod fiscale` is its own entry).
///
/// `comune` alone is deliberately absent: in municipal lists it is as often
/// the comune of residence as that of birth. Add it with
/// [`Aliases::with`] when a file's meaning is known.
pub const BUILTIN_ALIASES: &[(Field, &[&str])] = &[
    (
        Field::CodiceFiscale,
        &[
            "codice fiscale",
            "cod fiscale",
            "cod fisc",
            "cf",
            "codice fiscale alunno",
            "cf alunno",
            "codice fiscale studente",
            "cf studente",
            "codice fiscale minore",
            "cf minore",
            "codice fiscale bambino",
            "cf bambino",
            "codice fiscale persona",
            "fiscal code",
            "tax code",
        ],
    ),
    (
        Field::Surname,
        &[
            "cognome",
            "cognome alunno",
            "cognome studente",
            "cognome minore",
            "surname",
            "last name",
            "family name",
        ],
    ),
    (
        Field::GivenName,
        &[
            "nome",
            "nome alunno",
            "nome studente",
            "nome minore",
            "name",
            "first name",
            "given name",
        ],
    ),
    (
        Field::FullName,
        &[
            "nominativo",
            "nominativo alunno",
            "cognome e nome",
            "cognome nome",
            "nome e cognome",
            "nome cognome",
            "full name",
        ],
    ),
    (
        Field::BirthDate,
        &[
            "data di nascita",
            "data nascita",
            "dt nascita",
            "data nasc",
            "dt nasc",
            "nato il",
            "nata il",
            "date of birth",
            "birth date",
            "dob",
        ],
    ),
    (Field::Sex, &["sesso", "sex", "genere", "gender"]),
    (
        Field::BirthPlace,
        &[
            "comune di nascita",
            "comune nascita",
            "luogo di nascita",
            "luogo nascita",
            "nato a",
            "nata a",
            "place of birth",
            "birth place",
        ],
    ),
    (
        Field::BirthProvince,
        &[
            "provincia di nascita",
            "provincia nascita",
            "prov nascita",
            "prov di nascita",
            "sigla provincia nascita",
        ],
    ),
    (
        Field::Citizenship,
        &["cittadinanza", "citizenship", "nazionalita"],
    ),
    (
        Field::ResidencePlace,
        &[
            "comune di residenza",
            "comune residenza",
            "residenza",
            "comune residente",
        ],
    ),
    (
        Field::IdAnpr,
        &[
            "id anpr",
            "id anpr alunno",
            "id anpr studente",
            "id anpr minore",
            "identificativo anpr",
            "id unico nazionale",
            "identificativo unico nazionale",
            "codice anpr",
        ],
    ),
    (
        Field::CodiceMeccanografico,
        &[
            "codice meccanografico",
            "cod meccanografico",
            "meccanografico",
            "codice mecc",
            "cod mecc",
            "codice scuola",
            "codice plesso",
        ],
    ),
    (
        Field::SchoolYear,
        &["anno scolastico", "anno scol", "a s", "school year"],
    ),
    (Field::YearOfCourse, &["anno di corso", "anno corso"]),
];

/// The comparison key of a header or alias: folded, parenthesised parts
/// dropped (`Data di nascita (gg/mm/aaaa)`), spaces removed.
fn key(s: &str) -> String {
    let mut stripped = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => stripped.push(c),
            _ => {}
        }
    }
    let folded = fold_header(&stripped);
    let folded = if folded.is_empty() {
        fold_header(s)
    } else {
        folded
    };
    folded.replace(' ', "")
}

/// The comparison keys of [`BUILTIN_ALIASES`], computed once.
fn builtin_keys() -> &'static [(String, Field)] {
    static KEYS: OnceLock<Vec<(String, Field)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        BUILTIN_ALIASES
            .iter()
            .flat_map(|(f, names)| names.iter().map(move |n| (key(n), *f)))
            .collect()
    })
}

/// Header aliases: the built-in table plus the caller's own, which take
/// precedence.
///
/// ```
/// use anist_core::csvio::{Aliases, Field};
/// let aliases = Aliases::new().with("matricola fiscale", Field::CodiceFiscale);
/// assert_eq!(aliases.lookup("Codice Fiscale Alunno"), Some(Field::CodiceFiscale));
/// assert_eq!(aliases.lookup("MATRICOLA_FISCALE"), Some(Field::CodiceFiscale));
/// assert_eq!(aliases.lookup("Data di nascita (gg/mm/aaaa)"), Some(Field::BirthDate));
/// assert_eq!(aliases.lookup("Comune"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    custom: Vec<(String, Field)>,
}

impl Aliases {
    /// The built-in table ([`BUILTIN_ALIASES`]) only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an alias (folded like headers); the caller's aliases win over the
    /// built-in ones, the latest added first.
    pub fn with(mut self, alias: &str, field: Field) -> Self {
        self.add(alias, field);
        self
    }

    /// Adds an alias in place. See [`with`](Self::with).
    pub fn add(&mut self, alias: &str, field: Field) {
        self.custom.insert(0, (key(alias), field));
    }

    /// The logical field a header name stands for, if any.
    pub fn lookup(&self, header: &str) -> Option<Field> {
        let k = key(header);
        if k.is_empty() {
            return None;
        }
        if let Some((_, f)) = self.custom.iter().find(|(a, _)| *a == k) {
            return Some(*f);
        }
        builtin_keys()
            .iter()
            .find(|(a, _)| *a == k)
            .map(|(_, f)| *f)
    }
}

/// What a header column was mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// The column holds this logical field.
    Field(Field),
    /// The header names this field, but an earlier column already holds it;
    /// this one is not used for the field.
    Duplicate(Field),
    /// No alias matches the header.
    Unmapped,
}

/// The header line: column names and their logical fields.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    names: Vec<String>,
    mappings: Vec<Mapping>,
    by_field: [Option<usize>; Field::ALL.len()],
}

impl Headers {
    /// Maps `names` (trimmed) with `aliases`. When two columns map to the
    /// same field the first wins and the other is a [`Mapping::Duplicate`].
    pub fn new(names: Vec<String>, aliases: &Aliases) -> Self {
        let names: Vec<String> = names.into_iter().map(|n| n.trim().to_owned()).collect();
        let mut by_field = [None; Field::ALL.len()];
        let mappings = names
            .iter()
            .enumerate()
            .map(|(i, n)| match aliases.lookup(n) {
                Some(f) if by_field[f.index()].is_some() => Mapping::Duplicate(f),
                Some(f) => {
                    by_field[f.index()] = Some(i);
                    Mapping::Field(f)
                }
                None => Mapping::Unmapped,
            })
            .collect();
        Self {
            names,
            mappings,
            by_field,
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The column names, trimmed, in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The mapping of column `i` (0-based).
    pub fn mapping(&self, i: usize) -> Option<Mapping> {
        self.mappings.get(i).copied()
    }

    /// `(name, mapping)` for every column, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Mapping)> + '_ {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.mappings.iter().copied())
    }

    /// The 0-based column holding `field`, if any.
    pub fn index(&self, field: Field) -> Option<usize> {
        self.by_field[field.index()]
    }

    /// As [`index`](Self::index), or [`CsvError::MissingColumn`].
    pub fn require(&self, field: Field) -> Result<usize, CsvError> {
        self.index(field).ok_or_else(|| CsvError::MissingColumn {
            wanted: field.as_str().to_owned(),
        })
    }

    /// The 0-based column a user names: a header equal to `column` once both
    /// are folded, else the column mapped to the field `column` is an alias
    /// of (in `aliases`), else the field whose [`Field::as_str`] it is.
    pub fn find(&self, column: &str, aliases: &Aliases) -> Option<usize> {
        let k = fold_header(column).replace(' ', "");
        if k.is_empty() {
            return None;
        }
        self.names
            .iter()
            .position(|n| fold_header(n).replace(' ', "") == k)
            .or_else(|| aliases.lookup(column).and_then(|f| self.index(f)))
            .or_else(|| {
                Field::ALL
                    .iter()
                    .find(|f| f.as_str().replace('_', "") == k)
                    .and_then(|f| self.index(*f))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_aliases_are_unambiguous() {
        let mut seen = std::collections::HashMap::new();
        for (f, names) in BUILTIN_ALIASES {
            for n in *names {
                let k = key(n);
                assert!(!k.is_empty(), "{n}");
                if let Some(other) = seen.insert(k.clone(), *f) {
                    panic!("alias {n:?} ({k}) maps to both {other:?} and {f:?}");
                }
            }
        }
        // Every field has aliases.
        for f in Field::ALL {
            assert!(BUILTIN_ALIASES.iter().any(|(g, _)| *g == f), "{f}");
        }
    }

    #[test]
    fn id_anpr_headers_map_to_id_anpr() {
        let a = Aliases::new();
        for h in [
            "id_anpr",
            "ID ANPR",
            "idANPR",
            "Id Anpr Alunno",
            "Identificativo ANPR",
        ] {
            assert_eq!(a.lookup(h), Some(Field::IdAnpr), "{h}");
        }
    }

    #[test]
    fn field_names_are_distinct_and_ordered() {
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
    }
}
