//! The Comune's ANPR SOAP channel, service **3002** ("richiesta della scheda
//! interrogazione cittadino/famiglia/convivenza"), restricted to the search
//! by identity document (reference §1.4): carta d'identità (number with the
//! issuing comune or consulate), permesso di soggiorno (number with the
//! questura) or a foreigner's passport. PDND's E002 cannot search by
//! document: only this channel, with the Comune's certificate and an
//! anagrafe operator id, can.
//!
//! Element names, order and simple types follow the public XSDs
//! (italia/anpr `src/wsdl/comuni/3000consultazione.xsd`,
//! `vocabolario3000consultazione.xsd`, `tipoDato.xsd`): see [`XSD_FIELDS`].
//!
//! - [`Richiesta3002`]: the request; [`Richiesta3002::validate`] applies,
//!   before any call, the rules ANPR answers with `EHR41` / `EHR67` /
//!   `EHR68` (same codes, Italian messages) and the XSD shapes;
//! - [`envelope`] / [`parse_richiesta`]: the SOAP request and its reader
//!   (the sandbox reads with it; the tests round-trip through it);
//! - [`parse_risposta`] / [`write_risposta`]: the answer
//!   (`Risposta3002_OK` or `rispostaKO`), read strictly with limits;
//! - [`Esito3002`]: found subjects (codice fiscale, ID ANPR, generalità,
//!   residence, documents) or "not found" (`EN122`, `EN130`, `EN133`), an
//!   outcome, never an error.
//!
//! The operator's anagrafe user id travels in the SOAP header as
//! `wsse:Security/wsse:UsernameToken/wsse:Username` (the XSD testata has no
//! field for it).
//!
//! ```
//! use anist_core::anpr::soap3002::{Documento, Richiesta3002, Testata3002};
//! use anist_core::anpr::e002::IdOperazioneClient;
//!
//! let testata = Testata3002::new(IdOperazioneClient::from_number(7), "001272", "2026-12-02T10:00:00");
//! let mut r = Richiesta3002::new(testata, Documento::carta("CA00000AA", Some("001272"), None), "2026-12-02");
//! assert!(r.validate().is_ok());
//! r.criterio = Documento::carta("CA00000AA", None, None);
//! assert_eq!(anist_core::ErrorCode::code(&r.validate().unwrap_err()), "anpr_soap_ehr41");
//! ```

use std::fmt;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::dati::DatoRichiesto;
use super::e002::{ErroreAnomalia, IdOperazioneClient};
use super::mask;
use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// The largest answer accepted, in bytes.
pub const MAX_XML_BYTES: usize = 4 * 1024 * 1024;
/// The most elements an answer may have.
pub const MAX_ELEMENTS: usize = 200_000;
/// The deepest nesting accepted.
pub const MAX_DEPTH: usize = 40;

/// The XSD names this module writes and reads, in XSD order per type
/// (the wire-shape tests check the XML against this list).
pub const XSD_FIELDS: &[(&str, &[&str])] = &[
    (
        "Richiesta3002",
        &[
            "testataRichiesta",
            "criteriRicerca",
            "datiNascita",
            "residenzaIscrizioneAIRE",
            "datiRichiesta",
        ],
    ),
    (
        "tipoDatoTestataRichiesta",
        &[
            "idOperazioneComune",
            "codMittente",
            "codDestinatario",
            "operazioneRichiesta",
            "dataOraRichiesta",
            "tipoOperazione",
            "protocolloComune",
            "dataProtocolloComune",
            "tipoInvio",
        ],
    ),
    (
        "tipoCriteriRicerca",
        &[
            "codiceFiscale",
            "cognome",
            "senzaCognome",
            "nome",
            "senzaNome",
            "sesso",
            "soggettoAIRE",
            "idSchedaSoggettoComune",
            "idSchedaSoggettoANPR",
            "tipoScheda",
            "idFamigliaConvivenzaComune",
            "identificativoANPR",
            "cartaIdentita3000",
            "permessoDiSoggiorno3000",
            "idANPR",
        ],
    ),
    (
        "tipoCartaIdentita3000",
        &["comuneRilascio", "codiceConsolatoRilascio", "numero"],
    ),
    (
        "tipoPermessoDiSoggiorno3000",
        &["numeroPassaporto", "datiSoggiorno30XX"],
    ),
    (
        "tipoDatiSoggiorno3000",
        &["questuraRilascioSoggiorno", "numeroSoggiorno"],
    ),
    (
        "tipoComuneRichiesta",
        &["nomeComune", "codiceIstat", "siglaProvinciaIstat"],
    ),
    (
        "tipoDatiRichiesta",
        &[
            "schedaAnagraficaRichiesta",
            "dataRiferimentoRichiesta",
            "datiAnagraficiRichiesti",
            "ricercaNazionale",
            "comuneResidenza",
        ],
    ),
    (
        "Risposta3002_OK",
        &[
            "testataRisposta",
            "listaSoggetti",
            "datiFamigliaConvivenza",
            "listaAnomalie",
        ],
    ),
    ("rispostaKO", &["testataRisposta", "listaErrori"]),
    ("Risposta3002", &["Risposta3002_OK", "rispostaKO"]),
    ("tipoListaSoggetti", &["datiSoggetto"]),
    ("tipoListaErrori", &["errore"]),
    ("tipoIdentificativi", &["idANPR"]),
    (
        "tipoLuogoEvento",
        &["luogoEccezionale", "comune", "localita"],
    ),
    (
        "tipoComune",
        &[
            "nomeComune",
            "codiceIstat",
            "siglaProvinciaIstat",
            "descrizioneLocalita",
        ],
    ),
    (
        "tipoToponimo",
        &["codSpecie", "specie", "denominazioneToponimo"],
    ),
    ("tipoNumeroCivico", &["codiceCivico", "numero"]),
    (
        "tipoDatoTestataRisposta",
        &[
            "idOperazioneComune",
            "codMittente",
            "codDestinatario",
            "operazioneRichiesta",
            "dataOraRichiesta",
            "protocolloComune",
            "dataProtocolloComune",
            "dataDecorrenza",
            "idOperazioneANPR",
            "esitoOperazione",
        ],
    ),
    (
        "tipoDatiRispostaEstrazioneSoggetti",
        &[
            "identificativi",
            "generalita",
            "residenza",
            "cartaIdentita",
            "permessoSoggiorno",
        ],
    ),
    (
        "tipoGeneralita",
        &[
            "codiceFiscale",
            "cognome",
            "nome",
            "sesso",
            "dataNascita",
            "luogoNascita",
        ],
    ),
    (
        "tipoCodiceFiscale",
        &["codFiscale", "validitaCF", "dataAttribuzioneValidita"],
    ),
    (
        "tipoResidenza",
        &["tipoIndirizzo", "indirizzo", "dataDecorrenzaResidenza"],
    ),
    (
        "tipoIndirizzo",
        &["cap", "comune", "frazione", "toponimo", "numeroCivico"],
    ),
    (
        "tipoCartaIdentita",
        &[
            "numero",
            "dataRilascio",
            "cartaceaElettronica",
            "comuneRilascio",
            "consolatoRilascio",
            "dataScadenza",
        ],
    ),
    (
        "tipoPermessoSoggiorno",
        &[
            "numeroSoggiorno",
            "tipoSoggiorno",
            "dataRilascio",
            "dataScadenza",
            "questuraRilascioSoggiorno",
            "numeroPassaporto",
        ],
    ),
    (
        "tipoErroriAnomalia",
        &[
            "codiceErroreAnomalia",
            "tipoErroreAnomalia",
            "testoErroreAnomalia",
            "oggettoErroreAnomalia",
        ],
    ),
];

/// ANPR's texts of the three validation errors (reference §1.4).
const EHR41: &str = "I campi comune rilascio carta di identita' e codice consolato rilascio devono essere valorizzati in alternativa";
const EHR67: &str = "Valorizzare in alternativa: questura rilascio e numero del permesso di soggiorno oppure numero passaporto";
const EHR68: &str = "Valorizzare sia questura rilascio che numero del permesso di soggiorno";

/// Why a 3002 request is invalid or its answer cannot be used.
///
/// Codes: `anpr_soap_ehr41`, `anpr_soap_ehr67`, `anpr_soap_ehr68` (the
/// same rule whether found before the call or answered by ANPR),
/// `anpr_soap_invalid_field`, `anpr_soap_error` (another ANPR error code),
/// `anpr_soap_xml`. Messages never contain a document number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Soap3002Error {
    /// Carta d'identità: give the issuing comune or the issuing consulate,
    /// exactly one (ANPR `EHR41`).
    #[error("EHR41: indicare il comune di rilascio della carta d'identità oppure il consolato di rilascio (uno solo dei due)")]
    Ehr41,
    /// Permesso di soggiorno: give questura + numero, or the passport
    /// number, exactly one of the two (ANPR `EHR67`).
    #[error("EHR67: indicare la questura di rilascio e il numero del permesso di soggiorno, oppure il numero del passaporto (non entrambi)")]
    Ehr67,
    /// Permesso di soggiorno: questura and numero go together (ANPR `EHR68`).
    #[error("EHR68: indicare sia la questura di rilascio sia il numero del permesso di soggiorno")]
    Ehr68,
    /// A field does not have the XSD shape.
    #[error("il campo {field} non è valido: {expected}")]
    InvalidField {
        /// The XSD element name.
        field: &'static str,
        /// The expected shape, in Italian.
        expected: &'static str,
    },
    /// ANPR answered with another error.
    #[error("ANPR ha risposto con l'errore {codice}: {testo}")]
    Anpr {
        /// `codiceErroreAnomalia`.
        codice: String,
        /// `testoErroreAnomalia`.
        testo: String,
    },
    /// The XML cannot be read.
    #[error("la risposta SOAP di ANPR non è leggibile ({reason}, al byte {pos}): riprovare o segnalare il problema")]
    Xml {
        /// What is wrong.
        reason: String,
        /// 1-based byte position, 0 when unknown.
        pos: usize,
    },
}

impl ErrorCode for Soap3002Error {
    fn code(&self) -> &'static str {
        match self {
            Soap3002Error::Ehr41 => "anpr_soap_ehr41",
            Soap3002Error::Ehr67 => "anpr_soap_ehr67",
            Soap3002Error::Ehr68 => "anpr_soap_ehr68",
            Soap3002Error::InvalidField { .. } => "anpr_soap_invalid_field",
            Soap3002Error::Anpr { .. } => "anpr_soap_error",
            Soap3002Error::Xml { .. } => "anpr_soap_xml",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Soap3002Error::Ehr41
            | Soap3002Error::Ehr67
            | Soap3002Error::Ehr68
            | Soap3002Error::InvalidField { .. } => ErrorKind::InvalidArgument,
            Soap3002Error::Anpr { .. } => ErrorKind::AnprRefused,
            Soap3002Error::Xml { .. } => ErrorKind::UnexpectedAnswer,
        }
    }

    fn position(&self) -> Option<usize> {
        match self {
            Soap3002Error::Xml { pos, .. } if *pos > 0 => Some(*pos),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for Soap3002Error {
    fn samples() -> Vec<Self> {
        vec![
            Soap3002Error::Ehr41,
            Soap3002Error::Ehr67,
            Soap3002Error::Ehr68,
            Soap3002Error::InvalidField {
                field: "numero",
                expected: "da 1 a 20 lettere o cifre",
            },
            Soap3002Error::Anpr {
                codice: "EN003".to_owned(),
                testo: "dati richiesta non validi".to_owned(),
            },
            Soap3002Error::xml("elemento non chiuso", 12),
        ]
    }
}

impl Soap3002Error {
    /// The ANPR code and text this validation error stands for (`EHR41`,
    /// `EHR67`, `EHR68`), for the sandbox's answers.
    pub fn anpr_code(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Soap3002Error::Ehr41 => Some(("EHR41", EHR41)),
            Soap3002Error::Ehr67 => Some(("EHR67", EHR67)),
            Soap3002Error::Ehr68 => Some(("EHR68", EHR68)),
            _ => None,
        }
    }

    fn xml(reason: impl Into<String>, pos: usize) -> Self {
        Soap3002Error::Xml {
            reason: reason.into(),
            pos,
        }
    }
}

/// `testataRichiesta` (`tipoDatoTestataRichiesta`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Testata3002 {
    /// `idOperazioneComune`: digits only, increasing (the client's store).
    pub id_operazione_comune: IdOperazioneClient,
    /// `codMittente`: the Comune's codice ISTAT (6 digits).
    pub cod_mittente: String,
    /// `dataOraRichiesta` (`xs:dateTime`, e.g. `2026-12-02T10:00:00`).
    pub data_ora_richiesta: String,
    /// `tipoInvio` (`DEFINITIVO` by default; `PROVA` on ANPR's test
    /// environment).
    pub tipo_invio: String,
}

impl Testata3002 {
    /// A testata for the Comune `istat` at `data_ora`.
    pub fn new(id: IdOperazioneClient, istat: &str, data_ora: &str) -> Self {
        Self {
            id_operazione_comune: id,
            cod_mittente: istat.to_string(),
            data_ora_richiesta: data_ora.to_string(),
            tipo_invio: "DEFINITIVO".to_string(),
        }
    }
}

/// The document searched for (`cartaIdentita3000` or
/// `permessoDiSoggiorno3000` of `tipoCriteriRicerca`). Fields mirror the
/// wire, so an incomplete search can be represented and refused.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Documento {
    /// `cartaIdentita3000`.
    CartaIdentita {
        /// `numero` (`[0-9a-zA-Z ]{1,20}`).
        numero: String,
        /// `comuneRilascio/codiceIstat` (6 digits).
        comune_rilascio: Option<String>,
        /// `codiceConsolatoRilascio` (1–7 digits).
        codice_consolato_rilascio: Option<String>,
    },
    /// `permessoDiSoggiorno3000`.
    PermessoDiSoggiorno {
        /// `numeroPassaporto` (`[0-9a-zA-Z ]{1,30}`).
        numero_passaporto: Option<String>,
        /// `datiSoggiorno30XX/questuraRilascioSoggiorno`.
        questura_rilascio: Option<String>,
        /// `datiSoggiorno30XX/numeroSoggiorno`.
        numero_soggiorno: Option<String>,
    },
}

impl fmt::Debug for Documento {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Documento::CartaIdentita {
                numero,
                comune_rilascio,
                codice_consolato_rilascio,
            } => f
                .debug_struct("CartaIdentita")
                .field("numero", &mask(numero))
                .field("comune_rilascio", comune_rilascio)
                .field("codice_consolato_rilascio", codice_consolato_rilascio)
                .finish(),
            Documento::PermessoDiSoggiorno {
                numero_passaporto,
                questura_rilascio,
                numero_soggiorno,
            } => f
                .debug_struct("PermessoDiSoggiorno")
                .field("numero_passaporto", &numero_passaporto.as_deref().map(mask))
                .field("questura_rilascio", questura_rilascio)
                .field("numero_soggiorno", &numero_soggiorno.as_deref().map(mask))
                .finish(),
        }
    }
}

fn opt(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn norm(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

impl Documento {
    /// A carta d'identità (number upper-cased; blank options are `None`).
    pub fn carta(numero: &str, comune: Option<&str>, consolato: Option<&str>) -> Self {
        Documento::CartaIdentita {
            numero: norm(numero),
            comune_rilascio: opt(comune),
            codice_consolato_rilascio: opt(consolato),
        }
    }

    /// A permesso di soggiorno by number and questura.
    pub fn permesso(numero: Option<&str>, questura: Option<&str>) -> Self {
        Documento::PermessoDiSoggiorno {
            numero_passaporto: None,
            questura_rilascio: opt(questura),
            numero_soggiorno: opt(numero).map(|n| n.to_ascii_uppercase()),
        }
    }

    /// A foreigner's passport.
    pub fn passaporto(numero: &str) -> Self {
        Documento::PermessoDiSoggiorno {
            numero_passaporto: opt(Some(numero)).map(|n| n.to_ascii_uppercase()),
            questura_rilascio: None,
            numero_soggiorno: None,
        }
    }

    /// The kind, as a stable English word (`carta`, `permesso`,
    /// `passaporto`).
    pub fn kind(&self) -> &'static str {
        match self {
            Documento::CartaIdentita { .. } => "carta",
            Documento::PermessoDiSoggiorno {
                numero_passaporto: Some(_),
                ..
            } => "passaporto",
            Documento::PermessoDiSoggiorno { .. } => "permesso",
        }
    }

    /// The document number searched for (carta, passport or permesso).
    pub fn numero(&self) -> &str {
        match self {
            Documento::CartaIdentita { numero, .. } => numero,
            Documento::PermessoDiSoggiorno {
                numero_passaporto,
                numero_soggiorno,
                ..
            } => numero_passaporto
                .as_deref()
                .or(numero_soggiorno.as_deref())
                .unwrap_or(""),
        }
    }

    /// The rules of `EHR41` / `EHR67` / `EHR68`, then the XSD shapes.
    ///
    /// # Errors
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), Soap3002Error> {
        match self {
            Documento::CartaIdentita {
                numero,
                comune_rilascio,
                codice_consolato_rilascio,
            } => {
                match (comune_rilascio, codice_consolato_rilascio) {
                    (Some(_), None) | (None, Some(_)) => {}
                    _ => return Err(Soap3002Error::Ehr41),
                }
                check(numero, "numero", 1, 20, alnum_space, ALNUM_20)?;
                if let Some(c) = comune_rilascio {
                    check(c, "codiceIstat", 6, 6, digit, ISTAT)?;
                }
                if let Some(c) = codice_consolato_rilascio {
                    check(c, "codiceConsolatoRilascio", 1, 7, digit, CONSOLATO)?;
                }
                Ok(())
            }
            Documento::PermessoDiSoggiorno {
                numero_passaporto,
                questura_rilascio,
                numero_soggiorno,
            } => {
                match (numero_passaporto, questura_rilascio, numero_soggiorno) {
                    (Some(_), None, None) => {}
                    (None, Some(_), Some(_)) => {}
                    (None, Some(_), None) | (None, None, Some(_)) => {
                        return Err(Soap3002Error::Ehr68)
                    }
                    _ => return Err(Soap3002Error::Ehr67),
                }
                if let Some(p) = numero_passaporto {
                    check(p, "numeroPassaporto", 1, 30, alnum_space, ALNUM_30)?;
                }
                if let Some(q) = questura_rilascio {
                    check(
                        q,
                        "questuraRilascioSoggiorno",
                        1,
                        50,
                        questura_char,
                        QUESTURA,
                    )?;
                }
                if let Some(n) = numero_soggiorno {
                    check(n, "numeroSoggiorno", 1, 20, soggiorno_char, SOGGIORNO)?;
                }
                Ok(())
            }
        }
    }
}

const ALNUM_20: &str = "da 1 a 20 tra lettere, cifre e spazi";
const ALNUM_30: &str = "da 1 a 30 tra lettere, cifre e spazi";
const ISTAT: &str = "il codice ISTAT del comune, 6 cifre";
const CONSOLATO: &str = "il codice del consolato, da 1 a 7 cifre";
const QUESTURA: &str = "da 1 a 50 tra lettere, cifre, spazi e ' - . ( )";
const SOGGIORNO: &str = "da 1 a 20 tra lettere, cifre, spazi e - . /";

fn alnum_space(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == ' '
}
fn digit(c: char) -> bool {
    c.is_ascii_digit()
}
fn questura_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " '-.()".contains(c)
}
fn soggiorno_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " -./".contains(c)
}

fn check(
    value: &str,
    field: &'static str,
    min: usize,
    max: usize,
    ok: fn(char) -> bool,
    expected: &'static str,
) -> Result<(), Soap3002Error> {
    let n = value.chars().count();
    if n < min || n > max || !value.chars().all(ok) {
        return Err(Soap3002Error::InvalidField { field, expected });
    }
    Ok(())
}

/// `Richiesta3002`, search by document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Richiesta3002 {
    /// `testataRichiesta`.
    pub testata: Testata3002,
    /// The document (`criteriRicerca`).
    pub criterio: Documento,
    /// `datiRichiesta/dataRiferimentoRichiesta` (`xs:date`).
    pub data_riferimento: String,
    /// `datiRichiesta/datiAnagraficiRichiesti` (Tabella 16 codes).
    pub dati_richiesti: Vec<DatoRichiesto>,
    /// `datiRichiesta/ricercaNazionale`: `true` = all of Italy (1), `false`
    /// = residents of [`Self::comune_residenza`] only (0).
    pub ricerca_nazionale: bool,
    /// `datiRichiesta/comuneResidenza/codiceIstat`: with a local search,
    /// the Comune (the testata's `codMittente` when `None`); never with a
    /// national one (XSD note).
    pub comune_residenza: Option<String>,
}

impl Richiesta3002 {
    /// A local search (own Comune) asking for generalità, residenza, carta
    /// d'identità and permesso di soggiorno.
    pub fn new(testata: Testata3002, criterio: Documento, data_riferimento: &str) -> Self {
        Self {
            testata,
            criterio,
            data_riferimento: data_riferimento.to_string(),
            dati_richiesti: vec![
                DatoRichiesto::Generalita,
                DatoRichiesto::Residenza,
                DatoRichiesto::CartaIdentita,
                DatoRichiesto::PermessoSoggiorno,
            ],
            ricerca_nazionale: false,
            comune_residenza: None,
        }
    }

    /// The Comune a local search is limited to (`None` when national).
    pub fn comune_filtro(&self) -> Option<&str> {
        if self.ricerca_nazionale {
            None
        } else {
            Some(
                self.comune_residenza
                    .as_deref()
                    .unwrap_or(&self.testata.cod_mittente),
            )
        }
    }

    /// Checks the request before any call.
    ///
    /// # Errors
    /// `EHR41` / `EHR67` / `EHR68` rules, then the XSD shapes of the
    /// testata, the document and `datiRichiesta`.
    pub fn validate(&self) -> Result<(), Soap3002Error> {
        self.criterio.validate()?;
        check(
            &self.testata.cod_mittente,
            "codMittente",
            6,
            6,
            digit,
            ISTAT,
        )?;
        check(
            &self.testata.tipo_invio,
            "tipoInvio",
            1,
            20,
            alnum_space,
            "da 1 a 20 lettere",
        )?;
        if chrono::NaiveDateTime::parse_from_str(
            &self.testata.data_ora_richiesta,
            "%Y-%m-%dT%H:%M:%S",
        )
        .is_err()
        {
            return Err(Soap3002Error::InvalidField {
                field: "dataOraRichiesta",
                expected: "data e ora AAAA-MM-GGThh:mm:ss",
            });
        }
        if chrono::NaiveDate::parse_from_str(&self.data_riferimento, "%Y-%m-%d").is_err() {
            return Err(Soap3002Error::InvalidField {
                field: "dataRiferimentoRichiesta",
                expected: "una data AAAA-MM-GG",
            });
        }
        if let Some(c) = &self.comune_residenza {
            if self.ricerca_nazionale {
                return Err(Soap3002Error::InvalidField {
                    field: "comuneResidenza",
                    expected: "vuoto nella ricerca nazionale",
                });
            }
            check(c, "comuneResidenza", 6, 6, digit, ISTAT)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- writing

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn el(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&esc(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn el_opt(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        el(out, name, v);
    }
}

/// The namespace of the 3000 services' messages.
pub const NAMESPACE: &str = "http://sogei.it/ANPR/3000consultazione";

/// The SOAP 1.1 envelope of `r`, with the operator's user id in the
/// header. Does not validate: call [`Richiesta3002::validate`] first.
pub fn envelope(r: &Richiesta3002, operatore: &str) -> String {
    let mut o = String::with_capacity(1024);
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    o.push_str("<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">");
    o.push_str("<soapenv:Header><wsse:Security><wsse:UsernameToken>");
    el(&mut o, "wsse:Username", operatore);
    o.push_str("</wsse:UsernameToken></wsse:Security></soapenv:Header><soapenv:Body>");
    o.push_str("<ns:Richiesta3002 xmlns:ns=\"");
    o.push_str(NAMESPACE);
    o.push_str("\"><testataRichiesta>");
    let t = &r.testata;
    el(
        &mut o,
        "idOperazioneComune",
        t.id_operazione_comune.as_str(),
    );
    el(&mut o, "codMittente", &t.cod_mittente);
    el(&mut o, "codDestinatario", "ANPR02");
    el(&mut o, "operazioneRichiesta", "3002");
    el(&mut o, "dataOraRichiesta", &t.data_ora_richiesta);
    el(&mut o, "tipoOperazione", "C");
    el(&mut o, "tipoInvio", &t.tipo_invio);
    o.push_str("</testataRichiesta><criteriRicerca>");
    match &r.criterio {
        Documento::CartaIdentita {
            numero,
            comune_rilascio,
            codice_consolato_rilascio,
        } => {
            o.push_str("<cartaIdentita3000>");
            if let Some(c) = comune_rilascio {
                o.push_str("<comuneRilascio>");
                el(&mut o, "codiceIstat", c);
                o.push_str("</comuneRilascio>");
            }
            el_opt(
                &mut o,
                "codiceConsolatoRilascio",
                codice_consolato_rilascio.as_deref(),
            );
            el(&mut o, "numero", numero);
            o.push_str("</cartaIdentita3000>");
        }
        Documento::PermessoDiSoggiorno {
            numero_passaporto,
            questura_rilascio,
            numero_soggiorno,
        } => {
            o.push_str("<permessoDiSoggiorno3000>");
            el_opt(&mut o, "numeroPassaporto", numero_passaporto.as_deref());
            if questura_rilascio.is_some() || numero_soggiorno.is_some() {
                o.push_str("<datiSoggiorno30XX>");
                el_opt(
                    &mut o,
                    "questuraRilascioSoggiorno",
                    questura_rilascio.as_deref(),
                );
                el_opt(&mut o, "numeroSoggiorno", numero_soggiorno.as_deref());
                o.push_str("</datiSoggiorno30XX>");
            }
            o.push_str("</permessoDiSoggiorno3000>");
        }
    }
    o.push_str("</criteriRicerca><datiRichiesta>");
    el(&mut o, "schedaAnagraficaRichiesta", "1");
    el(&mut o, "dataRiferimentoRichiesta", &r.data_riferimento);
    for d in &r.dati_richiesti {
        el(&mut o, "datiAnagraficiRichiesti", &d.code().to_string());
    }
    el(
        &mut o,
        "ricercaNazionale",
        if r.ricerca_nazionale { "1" } else { "0" },
    );
    if let Some(c) = r.comune_filtro() {
        o.push_str("<comuneResidenza>");
        el(&mut o, "codiceIstat", c);
        o.push_str("</comuneResidenza>");
    }
    o.push_str("</datiRichiesta></ns:Richiesta3002></soapenv:Body></soapenv:Envelope>");
    o
}

// ---------------------------------------------------------------- reading

/// A parsed element: local name, text, children, byte position.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
    pos: usize,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn path(&self, path: &[&str]) -> Option<&Node> {
        let mut n = self;
        for p in path {
            n = n.child(p)?;
        }
        Some(n)
    }
    fn text_at(&self, path: &[&str]) -> Option<String> {
        self.path(path)
            .map(|n| n.text.trim().to_string())
            .filter(|s| !s.is_empty())
    }
    fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
}

fn local(s: &str) -> String {
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.to_string(),
    }
}

fn tree(input: &[u8]) -> Result<Node, Soap3002Error> {
    if input.len() > MAX_XML_BYTES {
        return Err(Soap3002Error::xml(
            format!("più di {MAX_XML_BYTES} byte"),
            0,
        ));
    }
    let text = std::str::from_utf8(input)
        .map_err(|e| Soap3002Error::xml("non è UTF-8", e.valid_up_to() + 1))?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut count = 0usize;
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(0) + 1;
        let ev = reader
            .read_event()
            .map_err(|_| Soap3002Error::xml("XML non ben formato", pos))?;
        match ev {
            Event::Start(e) | Event::Empty(e) if stack.len() > MAX_DEPTH => {
                let _ = e;
                return Err(Soap3002Error::xml("annidamento troppo profondo", pos));
            }
            Event::Start(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(Soap3002Error::xml("troppi elementi", pos));
                }
                stack.push(Node {
                    name: local(e.name().as_ref()),
                    pos,
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(Soap3002Error::xml("troppi elementi", pos));
                }
                let node = Node {
                    name: local(e.name().as_ref()),
                    pos,
                    ..Node::default()
                };
                if let Some(top) = stack.last_mut() {
                    top.children.push(node);
                }
            }
            Event::End(_) => {
                if stack.len() < 2 {
                    return Err(Soap3002Error::xml("chiusura inattesa", pos));
                }
                let node = stack.pop().unwrap_or_default();
                if let Some(top) = stack.last_mut() {
                    top.children.push(node);
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    match r.xml10_content().as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    }
                };
                let ch = ch.ok_or_else(|| Soap3002Error::xml("entità sconosciuta", pos))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push(ch);
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(c.as_ref());
                }
            }
            Event::DocType(_) => return Err(Soap3002Error::xml("DTD non ammessa", pos)),
            Event::Eof => break,
            _ => {}
        }
    }
    if stack.len() != 1 {
        return Err(Soap3002Error::xml("documento troncato", input.len()));
    }
    let root = stack.pop().unwrap_or_default();
    if root.children.is_empty() {
        return Err(Soap3002Error::xml("documento vuoto", 1));
    }
    Ok(root)
}

fn missing(name: &str, pos: usize) -> Soap3002Error {
    Soap3002Error::xml(format!("manca <{name}>"), pos)
}

/// Reads a 3002 request envelope (the sandbox's side): the operator id
/// from the header and the request. Absent documents read as an empty
/// carta d'identità, so [`Richiesta3002::validate`] refuses them.
///
/// # Errors
/// [`Soap3002Error::Xml`] when the XML is not a `Richiesta3002` or a
/// value cannot be represented (an unknown Tabella 16 code, a bad id).
pub fn parse_richiesta(input: &[u8]) -> Result<(String, Richiesta3002), Soap3002Error> {
    let root = tree(input)?;
    let operatore = root
        .find("Username")
        .map(|n| n.text.trim().to_string())
        .unwrap_or_default();
    let r = root
        .find("Richiesta3002")
        .ok_or_else(|| missing("Richiesta3002", 1))?;
    let t = r
        .child("testataRichiesta")
        .ok_or_else(|| missing("testataRichiesta", r.pos))?;
    let id = t.text_at(&["idOperazioneComune"]).unwrap_or_default();
    let id = IdOperazioneClient::parse(&id)
        .map_err(|_| Soap3002Error::xml("idOperazioneComune non valido", t.pos))?;
    let testata = Testata3002 {
        id_operazione_comune: id,
        cod_mittente: t.text_at(&["codMittente"]).unwrap_or_default(),
        data_ora_richiesta: t.text_at(&["dataOraRichiesta"]).unwrap_or_default(),
        tipo_invio: t.text_at(&["tipoInvio"]).unwrap_or_default(),
    };
    let c = r
        .child("criteriRicerca")
        .ok_or_else(|| missing("criteriRicerca", r.pos))?;
    let criterio = if let Some(p) = c.child("permessoDiSoggiorno3000") {
        Documento::PermessoDiSoggiorno {
            numero_passaporto: p.text_at(&["numeroPassaporto"]),
            questura_rilascio: p.text_at(&["datiSoggiorno30XX", "questuraRilascioSoggiorno"]),
            numero_soggiorno: p.text_at(&["datiSoggiorno30XX", "numeroSoggiorno"]),
        }
    } else {
        let ci = c.child("cartaIdentita3000");
        Documento::CartaIdentita {
            numero: ci.and_then(|n| n.text_at(&["numero"])).unwrap_or_default(),
            comune_rilascio: ci.and_then(|n| n.text_at(&["comuneRilascio", "codiceIstat"])),
            codice_consolato_rilascio: ci.and_then(|n| n.text_at(&["codiceConsolatoRilascio"])),
        }
    };
    let d = r
        .child("datiRichiesta")
        .ok_or_else(|| missing("datiRichiesta", r.pos))?;
    let mut dati = Vec::new();
    for n in d.all("datiAnagraficiRichiesti") {
        let code = n
            .text
            .trim()
            .parse::<u8>()
            .ok()
            .and_then(DatoRichiesto::from_code)
            .ok_or_else(|| Soap3002Error::xml("datiAnagraficiRichiesti non valido", n.pos))?;
        dati.push(code);
    }
    // XSD: ricercaNazionale defaults to 1 when absent.
    let ricerca_nazionale = d.text_at(&["ricercaNazionale"]).as_deref() != Some("0");
    let comune_residenza = d.text_at(&["comuneResidenza", "codiceIstat"]);
    let comune_residenza = match comune_residenza {
        Some(c) if !ricerca_nazionale && c == testata.cod_mittente => None,
        other => other,
    };
    Ok((
        operatore,
        Richiesta3002 {
            testata,
            criterio,
            data_riferimento: d.text_at(&["dataRiferimentoRichiesta"]).unwrap_or_default(),
            dati_richiesti: dati,
            ricerca_nazionale,
            comune_residenza,
        },
    ))
}

/// A carta d'identità of a subject (`tipoCartaIdentita`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CartaIdentita {
    /// `numero`.
    pub numero: String,
    /// `dataRilascio`.
    pub data_rilascio: Option<String>,
    /// `cartaceaElettronica` (as ANPR sends it).
    pub cartacea_elettronica: Option<String>,
    /// `comuneRilascio/codiceIstat`.
    pub comune_rilascio: Option<String>,
    /// `consolatoRilascio` (its text, e.g. the consulate code).
    pub consolato_rilascio: Option<String>,
    /// `dataScadenza`.
    pub data_scadenza: Option<String>,
}

impl fmt::Debug for CartaIdentita {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CartaIdentita")
            .field("numero", &mask(&self.numero))
            .field("comune_rilascio", &self.comune_rilascio)
            .field("data_scadenza", &self.data_scadenza)
            .finish_non_exhaustive()
    }
}

/// A permesso di soggiorno of a subject (`tipoPermessoSoggiorno`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PermessoSoggiorno {
    /// `numeroSoggiorno`.
    pub numero_soggiorno: Option<String>,
    /// `tipoSoggiorno` (1 permesso, 2 carta di soggiorno, …).
    pub tipo_soggiorno: Option<String>,
    /// `dataRilascio`.
    pub data_rilascio: Option<String>,
    /// `dataScadenza`.
    pub data_scadenza: Option<String>,
    /// `questuraRilascioSoggiorno`.
    pub questura_rilascio: Option<String>,
    /// `numeroPassaporto`.
    pub numero_passaporto: Option<String>,
}

impl fmt::Debug for PermessoSoggiorno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermessoSoggiorno")
            .field(
                "numero_soggiorno",
                &self.numero_soggiorno.as_deref().map(mask),
            )
            .field("questura_rilascio", &self.questura_rilascio)
            .field(
                "numero_passaporto",
                &self.numero_passaporto.as_deref().map(mask),
            )
            .field("data_scadenza", &self.data_scadenza)
            .finish_non_exhaustive()
    }
}

/// The residence (`tipoResidenza`, the parts used here).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Residenza3002 {
    /// `tipoIndirizzo`.
    pub tipo_indirizzo: Option<String>,
    /// `indirizzo/cap`.
    pub cap: Option<String>,
    /// `indirizzo/comune/codiceIstat`.
    pub comune_istat: Option<String>,
    /// `indirizzo/comune/nomeComune`.
    pub comune_nome: Option<String>,
    /// `indirizzo/comune/siglaProvinciaIstat`.
    pub provincia: Option<String>,
    /// `indirizzo/toponimo/specie` (via, piazza, …).
    pub specie: Option<String>,
    /// `indirizzo/toponimo/denominazioneToponimo`.
    pub toponimo: Option<String>,
    /// `indirizzo/numeroCivico/numero`.
    pub civico: Option<String>,
    /// `dataDecorrenzaResidenza`.
    pub data_decorrenza: Option<String>,
}

/// One subject of `listaSoggetti/datiSoggetto`. `Debug` masks the
/// codice fiscale and the names.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Soggetto3002 {
    /// `identificativi/idANPR`.
    pub id_anpr: Option<String>,
    /// `generalita/codiceFiscale/codFiscale`.
    pub codice_fiscale: Option<String>,
    /// `generalita/codiceFiscale/validitaCF` (1 validato, 9 non validato).
    pub validita_cf: Option<String>,
    /// `generalita/cognome`.
    pub cognome: Option<String>,
    /// `generalita/nome`.
    pub nome: Option<String>,
    /// `generalita/sesso`.
    pub sesso: Option<String>,
    /// `generalita/dataNascita`.
    pub data_nascita: Option<String>,
    /// `generalita/luogoNascita/comune/nomeComune` (or `localita`).
    pub luogo_nascita: Option<String>,
    /// `residenza` (all of them, in order).
    pub residenze: Vec<Residenza3002>,
    /// `cartaIdentita` (all of them).
    pub carte_identita: Vec<CartaIdentita>,
    /// `permessoSoggiorno` (all of them).
    pub permessi_soggiorno: Vec<PermessoSoggiorno>,
}

impl fmt::Debug for Soggetto3002 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Soggetto3002")
            .field("id_anpr", &self.id_anpr)
            .field("codice_fiscale", &self.codice_fiscale.as_deref().map(mask))
            .field("cognome", &self.cognome.as_deref().map(mask))
            .field("nome", &self.nome.as_deref().map(mask))
            .field("residenze", &self.residenze.len())
            .field("carte_identita", &self.carte_identita)
            .field("permessi_soggiorno", &self.permessi_soggiorno)
            .finish_non_exhaustive()
    }
}

/// `testataRisposta` (the parts used).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestataRisposta3002 {
    /// `idOperazioneComune` (echo).
    pub id_operazione_comune: Option<String>,
    /// `idOperazioneANPR`.
    pub id_operazione_anpr: Option<String>,
    /// `esitoOperazione`.
    pub esito_operazione: Option<String>,
}

/// A 3002 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Risposta3002 {
    /// `Risposta3002_OK`.
    Ok {
        /// `testataRisposta`.
        testata: TestataRisposta3002,
        /// `listaSoggetti/datiSoggetto`, all of them.
        soggetti: Vec<Soggetto3002>,
        /// `listaAnomalie/errore` (warnings).
        anomalie: Vec<ErroreAnomalia>,
    },
    /// `rispostaKO`.
    Ko {
        /// `testataRisposta`.
        testata: TestataRisposta3002,
        /// `listaErrori/errore`.
        errori: Vec<ErroreAnomalia>,
    },
}

/// What a 3002 search found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Esito3002 {
    /// One or more subjects (all of them, never the first only).
    Trovati(Vec<Soggetto3002>),
    /// ANPR found nobody (`EN122`, `EN130`, `EN133`).
    NonTrovato {
        /// The code ANPR answered with.
        codice: String,
    },
}

/// Codes that mean "nobody found".
pub const NOT_FOUND_CODES: [&str; 3] = ["EN122", "EN130", "EN133"];

impl Risposta3002 {
    /// The outcome: subjects, not found, or ANPR's error (the `EHR41` /
    /// `EHR67` / `EHR68` codes map to the validation variants).
    ///
    /// # Errors
    /// [`Soap3002Error`] for any other error answer.
    pub fn esito(&self) -> Result<(Esito3002, Vec<ErroreAnomalia>), Soap3002Error> {
        match self {
            Risposta3002::Ok {
                soggetti, anomalie, ..
            } => {
                if soggetti.is_empty() {
                    let codice = anomalie
                        .iter()
                        .map(ErroreAnomalia::codice)
                        .find(|c| NOT_FOUND_CODES.contains(c))
                        .unwrap_or("EN122")
                        .to_string();
                    Ok((Esito3002::NonTrovato { codice }, anomalie.clone()))
                } else {
                    Ok((Esito3002::Trovati(soggetti.clone()), anomalie.clone()))
                }
            }
            Risposta3002::Ko { errori, .. } => {
                let first = errori.iter().find(|e| !e.is_warning()).or(errori.first());
                let codice = first.map(ErroreAnomalia::codice).unwrap_or("");
                if NOT_FOUND_CODES.contains(&codice) {
                    return Ok((
                        Esito3002::NonTrovato {
                            codice: codice.to_string(),
                        },
                        errori.iter().filter(|e| e.is_warning()).cloned().collect(),
                    ));
                }
                Err(match codice {
                    "EHR41" => Soap3002Error::Ehr41,
                    "EHR67" => Soap3002Error::Ehr67,
                    "EHR68" => Soap3002Error::Ehr68,
                    _ => Soap3002Error::Anpr {
                        codice: clip(codice, 16),
                        testo: clip(first.map(ErroreAnomalia::testo).unwrap_or(""), 240),
                    },
                })
            }
        }
    }
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn testata_risposta(n: Option<&Node>) -> TestataRisposta3002 {
    let Some(n) = n else {
        return TestataRisposta3002::default();
    };
    TestataRisposta3002 {
        id_operazione_comune: n.text_at(&["idOperazioneComune"]),
        id_operazione_anpr: n.text_at(&["idOperazioneANPR"]),
        esito_operazione: n.text_at(&["esitoOperazione"]),
    }
}

fn errori(n: Option<&Node>) -> Vec<ErroreAnomalia> {
    let Some(n) = n else { return Vec::new() };
    n.all("errore")
        .map(|e| ErroreAnomalia {
            codice_errore_anomalia: e.text_at(&["codiceErroreAnomalia"]),
            tipo_errore_anomalia: e.text_at(&["tipoErroreAnomalia"]),
            testo_errore_anomalia: e.text_at(&["testoErroreAnomalia"]),
            oggetto_errore_anomalia: e.text_at(&["oggettoErroreAnomalia"]),
            ..ErroreAnomalia::default()
        })
        .collect()
}

fn soggetto(n: &Node) -> Soggetto3002 {
    let g = n.child("generalita");
    let gt = |p: &[&str]| g.and_then(|g| g.text_at(p));
    Soggetto3002 {
        id_anpr: n.text_at(&["identificativi", "idANPR"]),
        codice_fiscale: gt(&["codiceFiscale", "codFiscale"]),
        validita_cf: gt(&["codiceFiscale", "validitaCF"]),
        cognome: gt(&["cognome"]),
        nome: gt(&["nome"]),
        sesso: gt(&["sesso"]),
        data_nascita: gt(&["dataNascita"]),
        luogo_nascita: gt(&["luogoNascita", "comune", "nomeComune"])
            .or_else(|| gt(&["luogoNascita", "localita", "descrizioneLocalita"])),
        residenze: n
            .all("residenza")
            .map(|r| Residenza3002 {
                tipo_indirizzo: r.text_at(&["tipoIndirizzo"]),
                cap: r.text_at(&["indirizzo", "cap"]),
                comune_istat: r.text_at(&["indirizzo", "comune", "codiceIstat"]),
                comune_nome: r.text_at(&["indirizzo", "comune", "nomeComune"]),
                provincia: r.text_at(&["indirizzo", "comune", "siglaProvinciaIstat"]),
                specie: r.text_at(&["indirizzo", "toponimo", "specie"]),
                toponimo: r.text_at(&["indirizzo", "toponimo", "denominazioneToponimo"]),
                civico: r.text_at(&["indirizzo", "numeroCivico", "numero"]),
                data_decorrenza: r.text_at(&["dataDecorrenzaResidenza"]),
            })
            .collect(),
        carte_identita: n
            .all("cartaIdentita")
            .map(|c| CartaIdentita {
                numero: c.text_at(&["numero"]).unwrap_or_default(),
                data_rilascio: c.text_at(&["dataRilascio"]),
                cartacea_elettronica: c.text_at(&["cartaceaElettronica"]),
                comune_rilascio: c.text_at(&["comuneRilascio", "codiceIstat"]),
                consolato_rilascio: c.text_at(&["consolatoRilascio"]),
                data_scadenza: c.text_at(&["dataScadenza"]),
            })
            .collect(),
        permessi_soggiorno: n
            .all("permessoSoggiorno")
            .map(|p| PermessoSoggiorno {
                numero_soggiorno: p.text_at(&["numeroSoggiorno"]),
                tipo_soggiorno: p.text_at(&["tipoSoggiorno"]),
                data_rilascio: p.text_at(&["dataRilascio"]),
                data_scadenza: p.text_at(&["dataScadenza"]),
                questura_rilascio: p.text_at(&["questuraRilascioSoggiorno"]),
                numero_passaporto: p.text_at(&["numeroPassaporto"]),
            })
            .collect(),
    }
}

/// Reads a 3002 answer (SOAP envelope or bare `Risposta3002`): a SOAP
/// `Fault` is an error; unknown elements are skipped.
///
/// # Errors
/// [`Soap3002Error::Xml`] when not well-formed, over the limits, or
/// neither `Risposta3002_OK` nor `rispostaKO`; [`Soap3002Error::Anpr`]
/// for a SOAP fault.
pub fn parse_risposta(input: &[u8]) -> Result<Risposta3002, Soap3002Error> {
    let root = tree(input)?;
    if let Some(f) = root.find("Fault") {
        return Err(Soap3002Error::Anpr {
            codice: clip(&f.text_at(&["faultcode"]).unwrap_or_default(), 16),
            testo: clip(&f.text_at(&["faultstring"]).unwrap_or_default(), 240),
        });
    }
    if let Some(ok) = root.find("Risposta3002_OK") {
        let soggetti = ok
            .child("listaSoggetti")
            .map(|l| l.all("datiSoggetto").map(soggetto).collect())
            .unwrap_or_default();
        return Ok(Risposta3002::Ok {
            testata: testata_risposta(ok.child("testataRisposta")),
            soggetti,
            anomalie: errori(ok.child("listaAnomalie")),
        });
    }
    if let Some(ko) = root.find("rispostaKO") {
        return Ok(Risposta3002::Ko {
            testata: testata_risposta(ko.child("testataRisposta")),
            errori: errori(ko.child("listaErrori")),
        });
    }
    Err(missing("Risposta3002_OK", 1))
}

fn write_errori(o: &mut String, list: &str, errori: &[ErroreAnomalia]) {
    if errori.is_empty() {
        return;
    }
    o.push('<');
    o.push_str(list);
    o.push('>');
    for e in errori {
        o.push_str("<errore>");
        el_opt(
            o,
            "codiceErroreAnomalia",
            e.codice_errore_anomalia.as_deref(),
        );
        el_opt(o, "tipoErroreAnomalia", e.tipo_errore_anomalia.as_deref());
        el_opt(o, "testoErroreAnomalia", e.testo_errore_anomalia.as_deref());
        el_opt(
            o,
            "oggettoErroreAnomalia",
            e.oggetto_errore_anomalia.as_deref(),
        );
        o.push_str("</errore>");
    }
    o.push_str("</");
    o.push_str(list);
    o.push('>');
}

fn write_testata(o: &mut String, t: &TestataRisposta3002) {
    o.push_str("<testataRisposta>");
    el_opt(o, "idOperazioneComune", t.id_operazione_comune.as_deref());
    el_opt(o, "idOperazioneANPR", t.id_operazione_anpr.as_deref());
    el_opt(o, "esitoOperazione", t.esito_operazione.as_deref());
    o.push_str("</testataRisposta>");
}

fn write_soggetto(o: &mut String, s: &Soggetto3002) {
    o.push_str("<datiSoggetto>");
    if let Some(id) = &s.id_anpr {
        o.push_str("<identificativi>");
        el(o, "idANPR", id);
        o.push_str("</identificativi>");
    }
    o.push_str("<generalita>");
    if s.codice_fiscale.is_some() || s.validita_cf.is_some() {
        o.push_str("<codiceFiscale>");
        el_opt(o, "codFiscale", s.codice_fiscale.as_deref());
        el_opt(o, "validitaCF", s.validita_cf.as_deref());
        o.push_str("</codiceFiscale>");
    }
    el_opt(o, "cognome", s.cognome.as_deref());
    el_opt(o, "nome", s.nome.as_deref());
    el_opt(o, "sesso", s.sesso.as_deref());
    el_opt(o, "dataNascita", s.data_nascita.as_deref());
    if let Some(l) = &s.luogo_nascita {
        o.push_str("<luogoNascita><comune>");
        el(o, "nomeComune", l);
        o.push_str("</comune></luogoNascita>");
    }
    o.push_str("</generalita>");
    for r in &s.residenze {
        o.push_str("<residenza>");
        el_opt(o, "tipoIndirizzo", r.tipo_indirizzo.as_deref());
        o.push_str("<indirizzo>");
        el_opt(o, "cap", r.cap.as_deref());
        o.push_str("<comune>");
        el_opt(o, "nomeComune", r.comune_nome.as_deref());
        el_opt(o, "codiceIstat", r.comune_istat.as_deref());
        el_opt(o, "siglaProvinciaIstat", r.provincia.as_deref());
        o.push_str("</comune><toponimo>");
        el_opt(o, "specie", r.specie.as_deref());
        el_opt(o, "denominazioneToponimo", r.toponimo.as_deref());
        o.push_str("</toponimo><numeroCivico>");
        el_opt(o, "numero", r.civico.as_deref());
        o.push_str("</numeroCivico></indirizzo>");
        el_opt(o, "dataDecorrenzaResidenza", r.data_decorrenza.as_deref());
        o.push_str("</residenza>");
    }
    for c in &s.carte_identita {
        o.push_str("<cartaIdentita>");
        el(o, "numero", &c.numero);
        el_opt(o, "dataRilascio", c.data_rilascio.as_deref());
        el_opt(o, "cartaceaElettronica", c.cartacea_elettronica.as_deref());
        if let Some(istat) = &c.comune_rilascio {
            o.push_str("<comuneRilascio>");
            el(o, "codiceIstat", istat);
            o.push_str("</comuneRilascio>");
        }
        el_opt(o, "consolatoRilascio", c.consolato_rilascio.as_deref());
        el_opt(o, "dataScadenza", c.data_scadenza.as_deref());
        o.push_str("</cartaIdentita>");
    }
    for p in &s.permessi_soggiorno {
        o.push_str("<permessoSoggiorno>");
        el_opt(o, "numeroSoggiorno", p.numero_soggiorno.as_deref());
        el_opt(o, "tipoSoggiorno", p.tipo_soggiorno.as_deref());
        el_opt(o, "dataRilascio", p.data_rilascio.as_deref());
        el_opt(o, "dataScadenza", p.data_scadenza.as_deref());
        el_opt(
            o,
            "questuraRilascioSoggiorno",
            p.questura_rilascio.as_deref(),
        );
        el_opt(o, "numeroPassaporto", p.numero_passaporto.as_deref());
        o.push_str("</permessoSoggiorno>");
    }
    o.push_str("</datiSoggetto>");
}

/// The SOAP envelope of an answer (the sandbox's side).
pub fn write_risposta(r: &Risposta3002) -> String {
    let mut o = String::with_capacity(2048);
    o.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    o.push_str("<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>");
    o.push_str("<ns:Risposta3002 xmlns:ns=\"");
    o.push_str(NAMESPACE);
    o.push_str("\">");
    match r {
        Risposta3002::Ok {
            testata,
            soggetti,
            anomalie,
        } => {
            o.push_str("<ns:Risposta3002_OK>");
            write_testata(&mut o, testata);
            if !soggetti.is_empty() {
                o.push_str("<listaSoggetti>");
                for s in soggetti {
                    write_soggetto(&mut o, s);
                }
                o.push_str("</listaSoggetti>");
            }
            write_errori(&mut o, "listaAnomalie", anomalie);
            o.push_str("</ns:Risposta3002_OK>");
        }
        Risposta3002::Ko { testata, errori } => {
            o.push_str("<ns:rispostaKO>");
            write_testata(&mut o, testata);
            write_errori(&mut o, "listaErrori", errori);
            o.push_str("</ns:rispostaKO>");
        }
    }
    o.push_str("</ns:Risposta3002></soapenv:Body></soapenv:Envelope>");
    o
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn testata() -> Testata3002 {
        Testata3002::new(
            IdOperazioneClient::from_number(42),
            "001272",
            "2026-12-02T10:00:00",
        )
    }

    fn names_in(xml: &str) -> Vec<String> {
        let root = tree(xml.as_bytes()).unwrap();
        let mut out = Vec::new();
        fn walk(n: &Node, out: &mut Vec<String>) {
            for c in &n.children {
                out.push(c.name.clone());
                walk(c, out);
            }
        }
        walk(&root, &mut out);
        out
    }

    fn xsd_names() -> Vec<&'static str> {
        let mut v: Vec<&str> = XSD_FIELDS.iter().map(|(t, _)| *t).collect();
        v.extend(XSD_FIELDS.iter().flat_map(|(_, f)| f.iter().copied()));
        v
    }

    #[test]
    fn validation_rules() {
        let ok = Documento::carta("CA00000AA", Some("001272"), None);
        assert!(ok.validate().is_ok());
        assert_eq!(
            Documento::carta("CA00000AA", Some("001272"), Some("123")).validate(),
            Err(Soap3002Error::Ehr41)
        );
        assert_eq!(
            Documento::carta("CA00000AA", None, None).validate(),
            Err(Soap3002Error::Ehr41)
        );
        assert!(Documento::carta("AA1234567", None, Some("1234"))
            .validate()
            .is_ok());
        assert_eq!(
            Documento::permesso(Some("I12345678"), None).validate(),
            Err(Soap3002Error::Ehr68)
        );
        assert_eq!(
            Documento::permesso(None, Some("Torino")).validate(),
            Err(Soap3002Error::Ehr68)
        );
        assert_eq!(
            Documento::permesso(None, None).validate(),
            Err(Soap3002Error::Ehr67)
        );
        let both = Documento::PermessoDiSoggiorno {
            numero_passaporto: Some("X1".into()),
            questura_rilascio: Some("Torino".into()),
            numero_soggiorno: Some("I1".into()),
        };
        assert_eq!(both.validate(), Err(Soap3002Error::Ehr67));
        assert!(Documento::permesso(Some("I12345678"), Some("Torino"))
            .validate()
            .is_ok());
        assert!(Documento::passaporto("YA1234567").validate().is_ok());
        assert_eq!(
            Documento::carta("CA-0000", Some("001272"), None)
                .validate()
                .unwrap_err()
                .code(),
            "anpr_soap_invalid_field"
        );
        assert_eq!(Soap3002Error::Ehr67.anpr_code().unwrap().0, "EHR67");
    }

    #[test]
    fn request_wire_shape_uses_only_xsd_names() {
        let mut r = Richiesta3002::new(
            testata(),
            Documento::permesso(Some("I12345678"), Some("Torino")),
            "2026-12-02",
        );
        let xml = envelope(&r, "OP01");
        let allowed = xsd_names();
        let soap = [
            "Envelope",
            "Header",
            "Body",
            "Security",
            "UsernameToken",
            "Username",
        ];
        for n in names_in(&xml) {
            assert!(
                allowed.contains(&n.as_str()) || soap.contains(&n.as_str()),
                "{n} is not an XSD name"
            );
        }
        assert!(xml.contains("<ricercaNazionale>0</ricercaNazionale><comuneResidenza><codiceIstat>001272</codiceIstat></comuneResidenza>"));
        r.ricerca_nazionale = true;
        let xml = envelope(&r, "OP01");
        assert!(xml.contains("<ricercaNazionale>1</ricercaNazionale></datiRichiesta>"));
        // order of the carta block as in tipoCartaIdentita3000
        let r = Richiesta3002::new(
            testata(),
            Documento::carta("CA00000AA", Some("001272"), None),
            "2026-12-02",
        );
        let xml = envelope(&r, "OP01");
        let a = xml.find("<comuneRilascio>").unwrap();
        let b = xml.find("<numero>").unwrap();
        assert!(a < b);
    }

    #[test]
    fn answer_wire_shape_and_esito() {
        let s = Soggetto3002 {
            id_anpr: Some("AB12345CD".into()),
            codice_fiscale: Some("RSSMRA80A01L219X".into()),
            cognome: Some("ROSSI".into()),
            nome: Some("MARIO".into()),
            residenze: vec![Residenza3002 {
                comune_istat: Some("001272".into()),
                ..Residenza3002::default()
            }],
            carte_identita: vec![CartaIdentita {
                numero: "CA00000AA".into(),
                comune_rilascio: Some("001272".into()),
                ..CartaIdentita::default()
            }],
            ..Soggetto3002::default()
        };
        let r = Risposta3002::Ok {
            testata: TestataRisposta3002::default(),
            soggetti: vec![s.clone()],
            anomalie: vec![],
        };
        let xml = write_risposta(&r);
        let allowed = xsd_names();
        let extra = ["Envelope", "Body"];
        for n in names_in(&xml) {
            assert!(
                allowed.contains(&n.as_str()) || extra.contains(&n.as_str()),
                "{n}"
            );
        }
        assert_eq!(parse_risposta(xml.as_bytes()).unwrap(), r);
        assert!(!format!("{s:?}").contains("RSSMRA80A01L219X"));
        let (e, _) = r.esito().unwrap();
        assert_eq!(e, Esito3002::Trovati(vec![s]));
        let ko = Risposta3002::Ko {
            testata: TestataRisposta3002::default(),
            errori: vec![ErroreAnomalia::new("EN122", "E", "nessun risultato")],
        };
        let back = parse_risposta(write_risposta(&ko).as_bytes()).unwrap();
        assert_eq!(
            back.esito().unwrap().0,
            Esito3002::NonTrovato {
                codice: "EN122".into()
            }
        );
        let ko = Risposta3002::Ko {
            testata: TestataRisposta3002::default(),
            errori: vec![ErroreAnomalia::new("EHR68", "E", EHR68)],
        };
        assert_eq!(ko.esito().unwrap_err(), Soap3002Error::Ehr68);
    }

    #[test]
    fn malformed_answers_are_errors() {
        for bad in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<!DOCTYPE x><a/>",
            b"<a>&foo;</a>",
            b"<Envelope><Body><Other/></Body></Envelope>",
        ] {
            assert_eq!(parse_risposta(bad).unwrap_err().code(), "anpr_soap_xml");
        }
        let fault = b"<Envelope><Body><Fault><faultcode>s:Client</faultcode><faultstring>no</faultstring></Fault></Body></Envelope>";
        assert_eq!(parse_risposta(fault).unwrap_err().code(), "anpr_soap_error");
    }

    fn documento() -> impl Strategy<Value = Documento> {
        let num = "[A-Z0-9]{1,20}";
        prop_oneof![
            (
                num,
                prop::option::of("[0-9]{6}"),
                prop::option::of("[0-9]{1,7}")
            )
                .prop_map(|(n, c, k)| Documento::CartaIdentita {
                    numero: n,
                    comune_rilascio: c,
                    codice_consolato_rilascio: k,
                }),
            (
                prop::option::of("[A-Z0-9]{1,30}"),
                prop::option::of("[A-Za-z]([A-Za-z' ().-]{0,10}[A-Za-z])?"),
                prop::option::of("[A-Z0-9./-]{1,20}")
            )
                .prop_map(|(p, q, n)| Documento::PermessoDiSoggiorno {
                    numero_passaporto: p,
                    questura_rilascio: q,
                    numero_soggiorno: n,
                }),
        ]
    }

    proptest! {
        #[test]
        fn request_round_trips(
            id in 1u64..u64::MAX,
            doc in documento(),
            nazionale in any::<bool>(),
            codes in prop::collection::vec(1u8..=30, 0..5),
            op in "[A-Z0-9]{1,16}",
        ) {
            let mut r = Richiesta3002::new(
                Testata3002::new(IdOperazioneClient::from_number(id), "001272", "2026-12-02T10:00:00"),
                doc,
                "2026-12-02",
            );
            r.ricerca_nazionale = nazionale;
            r.dati_richiesti = codes.into_iter().filter_map(DatoRichiesto::from_code).collect();
            let xml = envelope(&r, &op);
            let (op2, back) = parse_richiesta(xml.as_bytes()).unwrap();
            prop_assert_eq!(op2, op);
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(back.validate(), r.validate());
        }

        #[test]
        fn validation_matches_the_ehr_rules(doc in documento()) {
            let v = doc.validate();
            match &doc {
                Documento::CartaIdentita { comune_rilascio, codice_consolato_rilascio, .. } => {
                    let one = comune_rilascio.is_some() != codice_consolato_rilascio.is_some();
                    prop_assert_eq!(v.is_ok(), one);
                    if !one { prop_assert_eq!(v, Err(Soap3002Error::Ehr41)); }
                }
                Documento::PermessoDiSoggiorno { numero_passaporto, questura_rilascio, numero_soggiorno } => {
                    let p = numero_passaporto.is_some();
                    let (q, n) = (questura_rilascio.is_some(), numero_soggiorno.is_some());
                    let expected = if p && !q && !n || !p && q && n {
                        Ok(())
                    } else if !p && q != n {
                        Err(Soap3002Error::Ehr68)
                    } else {
                        Err(Soap3002Error::Ehr67)
                    };
                    prop_assert_eq!(v, expected);
                }
            }
        }

        #[test]
        fn parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_risposta(&bytes);
            let _ = parse_richiesta(&bytes);
        }
    }
}
