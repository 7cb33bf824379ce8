//! The subjects of a request: by codice fiscale, ID ANPR (matricola),
//! identity-card number, residence-permit number or passport number, typed
//! one by one or read from a file ([`read_subjects`]).

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};

use super::RivestizioneError;
use crate::anpr::IdAnpr;
use crate::cf::CodiceFiscale;
use crate::csvio::{Aliases, Field, ReadOutcome, ReaderBuilder, Row};
use crate::documents::{DocumentKind, DocumentNumber};
use crate::error::ErrorCode;

/// The kinds of identifier a request may name a subject by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// Codice fiscale.
    CodiceFiscale,
    /// ID ANPR (the matricola ANPR).
    IdAnpr,
    /// Identity-card number (CIE 3.0, CIE 2.0 or paper card).
    CartaIdentita,
    /// Residence-permit number.
    PermessoSoggiorno,
    /// Passport number.
    Passaporto,
}

impl SubjectKind {
    /// Every kind.
    pub const ALL: [SubjectKind; 5] = [
        SubjectKind::CodiceFiscale,
        SubjectKind::IdAnpr,
        SubjectKind::CartaIdentita,
        SubjectKind::PermessoSoggiorno,
        SubjectKind::Passaporto,
    ];

    /// The stable name, as the request file writes it (`CF`, `ID_ANPR`,
    /// `CI`, `PS`, `PASSAPORTO`).
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::CodiceFiscale => "CF",
            SubjectKind::IdAnpr => "ID_ANPR",
            SubjectKind::CartaIdentita => "CI",
            SubjectKind::PermessoSoggiorno => "PS",
            SubjectKind::Passaporto => "PASSAPORTO",
        }
    }

    /// The clerk's words.
    pub fn label(self) -> &'static str {
        match self {
            SubjectKind::CodiceFiscale => "codice fiscale",
            SubjectKind::IdAnpr => "ID ANPR",
            SubjectKind::CartaIdentita => "carta d'identità",
            SubjectKind::PermessoSoggiorno => "permesso di soggiorno",
            SubjectKind::Passaporto => "passaporto",
        }
    }

    /// Reads a kind: its stable name or the words for it (any case,
    /// accents, apostrophes, blanks and underscores ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let k: String = crate::csvio::fold_header(s)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        Some(match k.as_str() {
            "cf" | "codicefiscale" => SubjectKind::CodiceFiscale,
            "idanpr" | "matricola" | "matricolaanpr" | "numeromatricolaanpr" => SubjectKind::IdAnpr,
            "ci" | "cie" | "cartaidentita" | "cartadidentita" | "cartadiidentita" => {
                SubjectKind::CartaIdentita
            }
            "ps" | "permesso" | "permessosoggiorno" | "permessodisoggiorno" => {
                SubjectKind::PermessoSoggiorno
            }
            "pp" | "passaporto" => SubjectKind::Passaporto,
            _ => return None,
        })
    }
}

/// A subject of a request, by one of its identifiers. `Debug` masks it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectId {
    /// By codice fiscale.
    Cf(CodiceFiscale),
    /// By ID ANPR.
    IdAnpr(IdAnpr),
    /// By identity document (card, residence permit or passport).
    Document(DocumentNumber),
}

impl fmt::Debug for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectId::Cf(cf) => write!(f, "SubjectId({cf:?})"),
            SubjectId::IdAnpr(id) => write!(f, "SubjectId({id:?})"),
            SubjectId::Document(d) => write!(f, "SubjectId({d:?})"),
        }
    }
}

impl SubjectId {
    /// Parses `value` as an identifier of `kind`. An identity-card number
    /// is read as a CIE 3.0, a CIE 2.0 or a paper card, whichever shape
    /// it fits.
    ///
    /// # Errors
    /// The identifier's own error ([`crate::cf::CfError`],
    /// [`crate::anpr::AnprError`], [`crate::documents::DocError`]), boxed
    /// as a [`RivestizioneError::Subject`] with its stable code.
    pub fn parse(kind: SubjectKind, value: &str) -> Result<Self, RivestizioneError> {
        let bad = |e: &dyn ErrorCode| RivestizioneError::Subject {
            read_as: kind,
            code: e.code(),
            code_kind: e.kind(),
            message: e.to_string(),
        };
        match kind {
            SubjectKind::CodiceFiscale => CodiceFiscale::parse(value)
                .map(SubjectId::Cf)
                .map_err(|e| bad(&e)),
            SubjectKind::IdAnpr => IdAnpr::parse(value)
                .map(SubjectId::IdAnpr)
                .map_err(|e| bad(&e)),
            SubjectKind::CartaIdentita => {
                let fits = DocumentNumber::classify(value);
                let card = [
                    DocumentKind::Cie3,
                    DocumentKind::Cie2,
                    DocumentKind::CartaIdentitaCartacea,
                ]
                .into_iter()
                .find(|k| fits.contains(*k))
                .unwrap_or(DocumentKind::Cie3);
                DocumentNumber::parse(card, value)
                    .map(SubjectId::Document)
                    .map_err(|e| bad(&e))
            }
            SubjectKind::PermessoSoggiorno => {
                DocumentNumber::parse(DocumentKind::PermessoSoggiorno, value)
                    .map(SubjectId::Document)
                    .map_err(|e| bad(&e))
            }
            SubjectKind::Passaporto => DocumentNumber::parse(DocumentKind::Passaporto, value)
                .map(SubjectId::Document)
                .map_err(|e| bad(&e)),
        }
    }

    /// The identifier's kind.
    pub fn kind(&self) -> SubjectKind {
        match self {
            SubjectId::Cf(_) => SubjectKind::CodiceFiscale,
            SubjectId::IdAnpr(_) => SubjectKind::IdAnpr,
            SubjectId::Document(d) => match d.kind() {
                DocumentKind::PermessoSoggiorno => SubjectKind::PermessoSoggiorno,
                DocumentKind::Passaporto => SubjectKind::Passaporto,
                _ => SubjectKind::CartaIdentita,
            },
        }
    }

    /// The normalised value (upper case, no blanks).
    pub fn value(&self) -> &str {
        match self {
            SubjectId::Cf(cf) => cf.as_str(),
            SubjectId::IdAnpr(id) => id.as_str(),
            SubjectId::Document(d) => d.as_str(),
        }
    }

    /// Whether ANPR can be asked by it over PDND (codice fiscale, ID
    /// ANPR); a document is first resolved to a subject through the
    /// Comune's SOAP channel (service 3002).
    pub fn is_direct(&self) -> bool {
        !matches!(self, SubjectId::Document(_))
    }
}

/// One subject read from a request file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRow {
    /// The physical line where the row starts (the header is line 1).
    pub line: u64,
    /// The identifier.
    pub id: SubjectId,
    /// Who issued the document (a Comune's ISTAT code, a questura), when
    /// the file says.
    pub rilascio: Option<String>,
}

impl SubjectRow {
    /// A subject typed at a terminal (line 0).
    pub fn typed(id: SubjectId) -> Self {
        Self {
            line: 0,
            id,
            rilascio: None,
        }
    }
}

/// A row of a request file that is not sent, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// The physical line.
    pub line: u64,
    /// The stable code (`cf_*`, `anpr_*`, `doc_*`, `csv_*`,
    /// `rivestizione_subject_kind`, `rivestizione_duplicate`).
    pub code: &'static str,
    /// What to do, in Italian.
    pub message: String,
}

/// What a request file holds: the subjects to ask about, in file order,
/// once each, and the rows that are not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectFile {
    /// The subjects, in file order, each once.
    pub subjects: Vec<SubjectRow>,
    /// The rows not sent, in file order.
    pub bad: Vec<BadRow>,
}

/// How the file's columns are read.
enum Layout {
    /// A kind column and a value column.
    Typed { kind: usize, value: usize },
    /// One column of identifiers of one kind.
    Single { value: usize, kind: SubjectKind },
}

/// Reads a request file.
///
/// A CSV read with the tolerant reader (any encoding and delimiter it
/// accepts; blank lines skipped), with a header:
///
/// - `tipo` and `identificativo`: the kind of each row's identifier
///   (`CF`, `ID_ANPR`, `CI`, `PS`, `PASSAPORTO`; the words `codice
///   fiscale`, `matricola`, `carta d'identità`, `permesso di soggiorno`,
///   `passaporto` too, any case) and its value; or
/// - one codice fiscale column (`codice_fiscale`, `CF`…) or one ID ANPR
///   column (`id_anpr`): every row is of that kind.
///
/// An optional `rilascio` column (`comune_rilascio`, `questura`) says who
/// issued a document: the ISTAT code of the Comune that issued an identity
/// card (the Comune of the request when empty), the questura of a
/// residence permit (required by ANPR's search by permit). Other columns
/// are ignored. A row whose identifier is not valid is
/// reported with its line and the error's code, and never sent; the same
/// subject twice is asked once (the repetition is reported).
///
/// ```
/// use anist_core::rivestizione::{read_subjects, SubjectKind};
/// let csv = "tipo;identificativo\nCF;RSSMRA80A01H501U\nPASSAPORTO;YA1234567\nCI;boh\n";
/// let file = read_subjects(csv.as_bytes()).unwrap();
/// assert_eq!(file.subjects.len(), 2);
/// assert_eq!(file.subjects[1].id.kind(), SubjectKind::Passaporto);
/// assert_eq!((file.bad[0].line, file.bad[0].code), (4, "doc_length"));
/// # Ok::<(), anist_core::rivestizione::RivestizioneError>(())
/// ```
///
/// # Errors
/// [`RivestizioneError::File`] when the input is not a CSV the reader
/// accepts, [`RivestizioneError::Columns`] when it has none of the
/// layout's columns. A bad row is not an error: it is in
/// [`SubjectFile::bad`].
pub fn read_subjects<R: Read>(input: R) -> Result<SubjectFile, RivestizioneError> {
    let file_error = |e: &dyn ErrorCode| RivestizioneError::File {
        code: e.code(),
        code_kind: e.kind(),
        message: e.to_string(),
    };
    let aliases = Aliases::new();
    let mut reader = ReaderBuilder::new()
        .strict(false)
        .aliases(aliases.clone())
        .from_reader(input)
        .map_err(|e| file_error(&e))?;
    let headers = reader.headers().clone();
    let any = |names: &[&str]| names.iter().find_map(|n| headers.find(n, &aliases));
    let rilascio = any(&["rilascio", "comune_rilascio", "questura"]);
    let layout = match (
        any(&["tipo", "tipo_identificativo", "tipo identificativo"]),
        any(&["identificativo", "numero", "valore"]),
    ) {
        (Some(kind), Some(value)) => Layout::Typed { kind, value },
        _ => match (
            headers.index(Field::CodiceFiscale),
            headers.index(Field::IdAnpr),
        ) {
            (Some(value), _) => Layout::Single {
                value,
                kind: SubjectKind::CodiceFiscale,
            },
            (None, Some(value)) => Layout::Single {
                value,
                kind: SubjectKind::IdAnpr,
            },
            (None, None) => return Err(RivestizioneError::Columns),
        },
    };
    let mut out = SubjectFile::default();
    let mut seen: HashMap<SubjectId, u64> = HashMap::new();
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row) {
            Ok(ReadOutcome::Row) => {
                let line = row.line();
                match parse_row(&layout, &row) {
                    Ok(id) => match seen.get(&id) {
                        Some(first) => out.bad.push(BadRow {
                            line,
                            code: "rivestizione_duplicate",
                            message: format!(
                                "lo stesso soggetto è già alla riga {first}: è chiesto una volta sola"
                            ),
                        }),
                        None => {
                            seen.insert(id, line);
                            let rilascio = rilascio
                                .and_then(|i| row.get(i))
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(|s| s.chars().take(40).collect());
                            out.subjects.push(SubjectRow { line, id, rilascio });
                        }
                    },
                    Err(e) => out.bad.push(BadRow {
                        line,
                        code: e.code(),
                        message: e.to_string(),
                    }),
                }
            }
            Ok(ReadOutcome::Bad(e)) => out.bad.push(BadRow {
                line: e.line().unwrap_or(0),
                code: e.code(),
                message: e.to_string(),
            }),
            Ok(ReadOutcome::End) => break,
            Err(e) => return Err(file_error(&e)),
        }
    }
    Ok(out)
}

fn parse_row(layout: &Layout, row: &Row) -> Result<SubjectId, RivestizioneError> {
    match *layout {
        Layout::Typed { kind, value } => {
            let given = row.get(kind).unwrap_or("");
            let kind = SubjectKind::parse(given).ok_or_else(|| RivestizioneError::SubjectKind {
                given: given.chars().take(40).collect(),
            })?;
            SubjectId::parse(kind, row.get(value).unwrap_or(""))
        }
        Layout::Single { value, kind } => SubjectId::parse(kind, row.get(value).unwrap_or("")),
    }
}
