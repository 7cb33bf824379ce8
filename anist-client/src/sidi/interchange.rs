//! The SIDI side as an interchange file. The real SIDI download format is
//! not public, so this module is the one place to swap when it is: it turns
//! bytes into an [`anist_core::sidi::SidiSnapshot`].
//!
//! # JSON layout
//!
//! The serde form of [`SidiSnapshot`]:
//!
//! ```json
//! { "sync_id": "2026-11-23T10:00", "anno_scolastico": "2026/2027",
//!   "sedi":   [ { "codice_meccanografico": "RMEE00101A", "denominazione": "…", "comune": "H501" } ],
//!   "classi": [ { "sede": "RMEE00101A", "anno_corso": 1, "sezione": "A",
//!                 "tempo_scuola": "10", "indirizzo": "" } ],
//!   "codes":  { "tempo_scuola": { "10": "24 ore settimanali" }, "indirizzi": { } },
//!   "alunni": [ { "codice_fiscale": "…", "cf_validato_ade": true, "cf_provvisorio": false,
//!                 "cf_precedente": null, "cognome": "…", "nome": "…", "sesso": "F",
//!                 "data_nascita": "2019-04-02", "luogo_nascita": "H501",
//!                 "cittadinanza": "ITALIA", "classe": "RMEE00101A/1A",
//!                 "anno_scolastico": "2026/2027", "stato": "frequentante" } ] }
//! ```
//!
//! `stato` is `frequentante`, `iscrizione_non_approvata`,
//! `iscrizione_non_confermata`, `trasferito`, `ritirato`, `trattenimento`
//! or `{"altro": "<code>"}`.
//!
//! # CSV layout
//!
//! One file, one record per row, the kind in the column `record`; read with
//! the tolerant reader of [`anist_core::csvio`] (`;` or `,`, UTF-8 or
//! Windows-1252, BOM, `sep=`), columns in any order, case and accents
//! ignored, missing columns empty:
//!
//! | `record` | columns used |
//! |---|---|
//! | `sincronizzazione` | `codice` (the sync id), `anno_scolastico` |
//! | `sede` | `codice_meccanografico`, `denominazione`, `comune` |
//! | `classe` | `codice_meccanografico`, `anno_corso`, `sezione`, `tempo_scuola`, `indirizzo` |
//! | `tempo_scuola`, `indirizzo` | `codice`, `descrizione` |
//! | `alunno` | `codice_fiscale`, `cf_validato_ade`, `cf_provvisorio`, `cf_precedente`, `cognome`, `nome`, `sesso`, `data_nascita` (`dd/mm/yyyy` or ISO), `luogo_nascita`, `cittadinanza`, `classe` (or `codice_meccanografico` + `anno_corso` + `sezione`), `anno_scolastico`, `stato_frequenza` |
//!
//! Flags are `S`/`N`, `sì`/`no`, `true`/`false`, `1`/`0`. A bad row is
//! reported with its line and a code and skipped; the others are read.

use std::io::{Read, Write};

use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::{
    format_date_it, parse_date_it, CsvError, CsvReader, CsvWriter, ReadOutcome, ReaderBuilder, Row,
    WriterOptions,
};
use anist_core::sidi::{
    class_key, SidiAlunno, SidiClasse, SidiSede, SidiSnapshot, StatoFrequenza, TableKind,
};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde::Serialize;

/// Why an interchange file cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InterchangeError {
    /// Not the documented JSON.
    #[error("il file SIDI JSON non è leggibile (riga {line}, colonna {column}): {reason}; controllare il formato documentato")]
    Json {
        /// Line (1-based).
        line: usize,
        /// Column (1-based).
        column: usize,
        /// What serde found (no values).
        reason: String,
    },
    /// The CSV cannot be read at all.
    #[error("il file SIDI CSV non è leggibile: {0}")]
    Csv(#[from] CsvError),
    /// A pupil's code is not a codice fiscale.
    #[error("l'alunno n. {index} del file SIDI ha un codice fiscale non valido ({code}): correggere il file")]
    CodiceFiscale {
        /// 1-based position among the pupils.
        index: usize,
        /// The codice fiscale error code.
        code: &'static str,
    },
    /// The file lacks the sync id or the school year.
    #[error("il file SIDI non indica {what}: aggiungerlo (record «sincronizzazione»)")]
    Missing {
        /// What is missing.
        what: &'static str,
    },
}

impl ErrorCode for InterchangeError {
    fn code(&self) -> &'static str {
        match self {
            InterchangeError::Json { .. } => "sidi_interchange_json",
            InterchangeError::Csv(e) => e.code(),
            InterchangeError::CodiceFiscale { .. } => "sidi_interchange_cf",
            InterchangeError::Missing { .. } => "sidi_interchange_missing",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            InterchangeError::Json { .. }
            | InterchangeError::CodiceFiscale { .. }
            | InterchangeError::Missing { .. } => ErrorKind::Sidi,
            InterchangeError::Csv(e) => e.kind(),
        }
    }
}

#[doc(hidden)]
impl CodeSamples for InterchangeError {
    fn samples() -> Vec<Self> {
        vec![
            InterchangeError::Json {
                line: 1,
                column: 1,
                reason: "expected value".into(),
            },
            // CsvError's own samples are in anist-core.
            InterchangeError::Csv(CsvError::Empty),
            InterchangeError::CodiceFiscale {
                index: 1,
                code: "cf_length",
            },
            InterchangeError::Missing {
                what: "l'anno scolastico",
            },
        ]
    }
}

/// A CSV row that was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The physical line.
    pub line: u64,
    /// A stable code (`csv_…`, `sidi_row_record`, `sidi_row_cf`, `sidi_row_date`,
    /// `sidi_row_anno_corso`).
    pub code: &'static str,
}

/// What a reader returns.
#[derive(Debug, Clone)]
pub struct ReadSnapshot {
    /// The snapshot.
    pub snapshot: SidiSnapshot,
    /// Rows skipped (CSV only).
    pub problems: Vec<RowProblem>,
}

fn check_cfs(s: &SidiSnapshot) -> Result<(), InterchangeError> {
    for (i, p) in s.alunni.iter().enumerate() {
        AnyCodiceFiscale::parse(&p.codice_fiscale).map_err(|e| {
            InterchangeError::CodiceFiscale {
                index: i + 1,
                code: e.code(),
            }
        })?;
    }
    if s.sync_id.trim().is_empty() {
        return Err(InterchangeError::Missing {
            what: "l'identificativo della sincronizzazione",
        });
    }
    Ok(())
}

/// Reads the JSON layout.
///
/// # Errors
/// [`InterchangeError::Json`], [`InterchangeError::CodiceFiscale`],
/// [`InterchangeError::Missing`].
pub fn read_json(bytes: &[u8]) -> Result<ReadSnapshot, InterchangeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let snapshot: SidiSnapshot =
        serde_json::from_slice(bytes).map_err(|e| InterchangeError::Json {
            line: e.line(),
            column: e.column(),
            reason: format!("{:?}", e.classify()),
        })?;
    check_cfs(&snapshot)?;
    Ok(ReadSnapshot {
        snapshot,
        problems: Vec::new(),
    })
}

/// Writes the JSON layout (pretty-printed).
///
/// # Errors
/// I/O errors.
pub fn write_json<W: Write>(snapshot: &SidiSnapshot, mut out: W) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, snapshot).map_err(std::io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The CSV columns, in the order [`write_csv`] writes them.
pub const CSV_COLUMNS: [&str; 23] = [
    "record",
    "codice_meccanografico",
    "denominazione",
    "comune",
    "anno_corso",
    "sezione",
    "tempo_scuola",
    "indirizzo",
    "codice",
    "descrizione",
    "codice_fiscale",
    "cf_validato_ade",
    "cf_provvisorio",
    "cf_precedente",
    "cognome",
    "nome",
    "sesso",
    "data_nascita",
    "luogo_nascita",
    "cittadinanza",
    "classe",
    "anno_scolastico",
    "stato_frequenza",
];

fn parse_flag(s: &str) -> bool {
    matches!(
        s.trim().to_lowercase().as_str(),
        "s" | "si" | "sì" | "true" | "1" | "x" | "y" | "yes" | "vero"
    )
}

/// Reads the CSV layout.
///
/// # Errors
/// [`InterchangeError::Csv`] when the file cannot be read at all;
/// [`InterchangeError::Missing`] without a `sincronizzazione` record.
pub fn read_csv<R: Read>(input: R) -> Result<ReadSnapshot, InterchangeError> {
    let mut reader: CsvReader<R> = ReaderBuilder::new().strict(false).from_reader(input)?;
    let aliases = reader.aliases().clone();
    let cols: Vec<Option<usize>> = CSV_COLUMNS
        .iter()
        .map(|c| reader.headers().find(c, &aliases))
        .collect();
    let col = |row: &Row, name: &str| -> String {
        CSV_COLUMNS
            .iter()
            .position(|c| *c == name)
            .and_then(|i| cols.get(i).copied().flatten())
            .and_then(|i| row.get(i))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let mut snapshot = SidiSnapshot::default();
    let mut problems = Vec::new();
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row)? {
            ReadOutcome::End => break,
            ReadOutcome::Bad(e) => problems.push(RowProblem {
                line: e.line().unwrap_or(0),
                code: e.code(),
            }),
            ReadOutcome::Row => {
                let line = row.line();
                let problem = |code| RowProblem { line, code };
                let anno_corso = || col(&row, "anno_corso").parse::<u8>().ok();
                match col(&row, "record").to_lowercase().as_str() {
                    "sincronizzazione" => {
                        snapshot.sync_id = col(&row, "codice");
                        snapshot.anno_scolastico = col(&row, "anno_scolastico");
                    }
                    "sede" => snapshot.sedi.push(SidiSede {
                        codice_meccanografico: col(&row, "codice_meccanografico").to_uppercase(),
                        denominazione: col(&row, "denominazione"),
                        comune: col(&row, "comune"),
                    }),
                    "classe" => match anno_corso() {
                        Some(a) => snapshot.classi.push(SidiClasse {
                            sede: col(&row, "codice_meccanografico").to_uppercase(),
                            anno_corso: a,
                            sezione: col(&row, "sezione"),
                            tempo_scuola: col(&row, "tempo_scuola"),
                            indirizzo: col(&row, "indirizzo"),
                        }),
                        None => problems.push(problem("sidi_row_anno_corso")),
                    },
                    t @ ("tempo_scuola" | "indirizzo") => {
                        let kind = TableKind::parse(t).unwrap_or(TableKind::TempoScuola);
                        snapshot
                            .codes
                            .set(kind, &col(&row, "codice"), &col(&row, "descrizione"));
                    }
                    "alunno" => {
                        let cf = col(&row, "codice_fiscale");
                        if AnyCodiceFiscale::parse(&cf).is_err() {
                            problems.push(problem("sidi_row_cf"));
                            continue;
                        }
                        let Ok(data_nascita) = parse_date_it(&col(&row, "data_nascita")) else {
                            problems.push(problem("sidi_row_date"));
                            continue;
                        };
                        let mut classe = col(&row, "classe");
                        if classe.is_empty() {
                            classe = class_key(
                                &col(&row, "codice_meccanografico").to_uppercase(),
                                anno_corso().unwrap_or(0),
                                &col(&row, "sezione"),
                            );
                        }
                        let prev = col(&row, "cf_precedente");
                        snapshot.alunni.push(SidiAlunno {
                            codice_fiscale: cf,
                            cf_validato_ade: parse_flag(&col(&row, "cf_validato_ade")),
                            cf_provvisorio: parse_flag(&col(&row, "cf_provvisorio")),
                            cf_precedente: (!prev.is_empty()).then_some(prev),
                            cognome: col(&row, "cognome"),
                            nome: col(&row, "nome"),
                            sesso: col(&row, "sesso").to_uppercase(),
                            data_nascita,
                            luogo_nascita: col(&row, "luogo_nascita").to_uppercase(),
                            cittadinanza: col(&row, "cittadinanza"),
                            classe,
                            anno_scolastico: col(&row, "anno_scolastico"),
                            stato: StatoFrequenza::parse(&col(&row, "stato_frequenza")),
                        });
                    }
                    _ => problems.push(problem("sidi_row_record")),
                }
            }
        }
    }
    if snapshot.sync_id.is_empty() {
        return Err(InterchangeError::Missing {
            what: "l'identificativo della sincronizzazione",
        });
    }
    Ok(ReadSnapshot { snapshot, problems })
}

/// Writes the CSV layout (Italian Excel: `;`, UTF-8 with BOM, dates
/// `dd/mm/yyyy`).
///
/// # Errors
/// [`CsvError`] when writing fails.
pub fn write_csv<W: Write>(s: &SidiSnapshot, out: W) -> Result<(), CsvError> {
    let mut w = CsvWriter::new(out, WriterOptions::excel());
    w.write_row(CSV_COLUMNS)?;
    let mut put = |pairs: &[(&str, String)]| {
        let row: Vec<String> = CSV_COLUMNS
            .iter()
            .map(|c| {
                pairs
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
            .collect();
        w.write_row(row)
    };
    put(&[
        ("record", "sincronizzazione".into()),
        ("codice", s.sync_id.clone()),
        ("anno_scolastico", s.anno_scolastico.clone()),
    ])?;
    for x in &s.sedi {
        put(&[
            ("record", "sede".into()),
            ("codice_meccanografico", x.codice_meccanografico.clone()),
            ("denominazione", x.denominazione.clone()),
            ("comune", x.comune.clone()),
        ])?;
    }
    for c in &s.classi {
        put(&[
            ("record", "classe".into()),
            ("codice_meccanografico", c.sede.clone()),
            ("anno_corso", c.anno_corso.to_string()),
            ("sezione", c.sezione.clone()),
            ("tempo_scuola", c.tempo_scuola.clone()),
            ("indirizzo", c.indirizzo.clone()),
        ])?;
    }
    for kind in [TableKind::TempoScuola, TableKind::Indirizzo] {
        for (code, d) in s.codes.table(kind) {
            put(&[
                ("record", kind.as_str().into()),
                ("codice", code.clone()),
                ("descrizione", d.clone()),
            ])?;
        }
    }
    let yn = |b: bool| if b { "S" } else { "N" }.to_owned();
    for p in &s.alunni {
        put(&[
            ("record", "alunno".into()),
            ("codice_fiscale", p.codice_fiscale.clone()),
            ("cf_validato_ade", yn(p.cf_validato_ade)),
            ("cf_provvisorio", yn(p.cf_provvisorio)),
            ("cf_precedente", p.cf_precedente.clone().unwrap_or_default()),
            ("cognome", p.cognome.clone()),
            ("nome", p.nome.clone()),
            ("sesso", p.sesso.clone()),
            ("data_nascita", format_date_it(p.data_nascita)),
            ("luogo_nascita", p.luogo_nascita.clone()),
            ("cittadinanza", p.cittadinanza.clone()),
            ("classe", p.classe.clone()),
            ("anno_scolastico", p.anno_scolastico.clone()),
            ("stato_frequenza", p.stato.code().to_owned()),
        ])?;
    }
    w.flush()
}

/// Reads either layout: JSON when the first non-blank byte is `{`.
///
/// # Errors
/// As [`read_json`] / [`read_csv`].
pub fn read_any(bytes: &[u8]) -> Result<ReadSnapshot, InterchangeError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        read_json(bytes)
    } else {
        read_csv(bytes)
    }
}
