//! The ANPR massive e-services over PDND (reference §1.3), pure side:
//!
//! - [`RichiestaMassiva`]: the body of `POST /anpr-massivo-e002-richiesta`
//!   (`idOperazioneClient`, `fileInput` = base64 of the gzip of the
//!   one-identifier-per-line list, `datiRichiesta`, `tipoRicerca`);
//! - [`leggi_download`]: the download (`200`, a gzip file holding
//!   `{"risposteMassive":[…]}`), each element read tolerantly as a
//!   `RispostaE002OK`-like value (its exact shape is not public);
//! - [`riconcilia`]: what was sent against what came back. ANPR silently
//!   omits the subjects it did not find **and** often returns incomplete
//!   sets, so an omitted identifier is never "not found": it is
//!   [`EsitoMassivo::DaRichiedere`] (to be asked again singly).
//!
//! No I/O, no clock.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::e002::{
    DatiRichiesta, DatiSoggetto, ErroreAnomalia, IdOperazioneClient, RispostaE002Ok,
};
use super::esito::NOT_FOUND_CODES;
use crate::{CodeSamples, ErrorCode, ErrorKind};

/// Largest download accepted once decompressed (256 MiB): a gzip bomb is
/// refused instead of filling the memory.
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// `tipoRicerca`: what the identifiers of the list are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TipoRicerca {
    /// `"1"`: codici fiscali.
    CodiceFiscale,
    /// `"2"`: ID ANPR.
    IdAnpr,
}

impl TipoRicerca {
    /// The wire value (`"1"` or `"2"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TipoRicerca::CodiceFiscale => "1",
            TipoRicerca::IdAnpr => "2",
        }
    }

    /// Reads the wire value; anything but `"1"` / `"2"` is `None` (ANPR
    /// answers `400 Tipo ricerca non ammissibile`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "1" => Some(TipoRicerca::CodiceFiscale),
            "2" => Some(TipoRicerca::IdAnpr),
            _ => None,
        }
    }
}

/// Why a massive request could not be built or its answer read. Every
/// variant has a stable [`ErrorCode::code`]; messages carry no identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MassiveError {
    /// No identifier to send.
    #[error("the massive request has no identifier: give at least one codice fiscale or ID ANPR")]
    Empty,
    /// An identifier with a line break or a `;` / `,` (it would break the list).
    #[error("an identifier of the massive list contains a separator or a line break: clean the input column")]
    BadIdentifier,
    /// `fileInput` is not base64.
    #[error("fileInput is not base64: the massive request is damaged")]
    Base64,
    /// The bytes are not a readable gzip file (or are larger than [`MAX_DOWNLOAD_BYTES`]).
    #[error(
        "the ANPR massive file is not a readable gzip file ({reason}): download it again later"
    )]
    Gzip {
        /// What is wrong.
        reason: String,
    },
    /// The download is not `{"risposteMassive":[…]}`.
    #[error("the ANPR massive download is not the expected JSON ({reason}): download it again later, or report it to ANPR")]
    Json {
        /// What is wrong.
        reason: String,
    },
}

impl MassiveError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &[
        "anpr_massive_empty",
        "anpr_massive_identifier",
        "anpr_massive_base64",
        "anpr_massive_gzip",
        "anpr_massive_json",
    ];
}

impl ErrorCode for MassiveError {
    fn code(&self) -> &'static str {
        match self {
            MassiveError::Empty => "anpr_massive_empty",
            MassiveError::BadIdentifier => "anpr_massive_identifier",
            MassiveError::Base64 => "anpr_massive_base64",
            MassiveError::Gzip { .. } => "anpr_massive_gzip",
            MassiveError::Json { .. } => "anpr_massive_json",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            MassiveError::Empty | MassiveError::BadIdentifier => ErrorKind::InvalidArgument,
            MassiveError::Base64 | MassiveError::Gzip { .. } | MassiveError::Json { .. } => {
                ErrorKind::UnexpectedAnswer
            }
        }
    }
}

#[doc(hidden)]
impl CodeSamples for MassiveError {
    fn samples() -> Vec<Self> {
        vec![
            MassiveError::Empty,
            MassiveError::BadIdentifier,
            MassiveError::Base64,
            MassiveError::Gzip {
                reason: "invalid gzip header".to_owned(),
            },
            MassiveError::Json {
                reason: "expected risposteMassive".to_owned(),
            },
        ]
    }
}

/// Gzips `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Gunzips `bytes`, refusing more than `limit` decompressed bytes.
///
/// # Errors
/// [`MassiveError::Gzip`].
pub fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, MassiveError> {
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(bytes).take(limit.saturating_add(1));
    dec.read_to_end(&mut out).map_err(|e| MassiveError::Gzip {
        reason: e.to_string(),
    })?;
    if out.len() as u64 > limit {
        return Err(MassiveError::Gzip {
            reason: format!("more than {limit} bytes once decompressed"),
        });
    }
    Ok(out)
}

/// Normalises an identifier for matching (trimmed, upper case).
pub fn normalizza(id: &str) -> String {
    id.trim().to_ascii_uppercase()
}

/// `fileInput`: base64 of the gzip of the list, one identifier per line,
/// no header.
///
/// # Errors
/// [`MassiveError::Empty`], [`MassiveError::BadIdentifier`].
pub fn file_input<S: AsRef<str>>(ids: &[S]) -> Result<String, MassiveError> {
    if ids.is_empty() {
        return Err(MassiveError::Empty);
    }
    let mut csv = String::new();
    for id in ids {
        let id = normalizza(id.as_ref());
        if id.is_empty() || id.contains(['\n', '\r', ';', ',']) {
            return Err(MassiveError::BadIdentifier);
        }
        csv.push_str(&id);
        csv.push('\n');
    }
    Ok(STANDARD.encode(gzip(csv.as_bytes())))
}

/// Reads `fileInput` back into its identifiers (blank lines skipped).
///
/// # Errors
/// [`MassiveError::Base64`], [`MassiveError::Gzip`].
pub fn leggi_file_input(b64: &str) -> Result<Vec<String>, MassiveError> {
    let gz = STANDARD
        .decode(b64.trim())
        .map_err(|_| MassiveError::Base64)?;
    let csv = gunzip(&gz, MAX_DOWNLOAD_BYTES)?;
    Ok(String::from_utf8_lossy(&csv)
        .lines()
        .map(normalizza)
        .filter(|l| !l.is_empty())
        .collect())
}

/// The body of `POST /anpr-massivo-e002-richiesta`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RichiestaMassiva {
    /// `idOperazioneClient`.
    pub id_operazione_client: IdOperazioneClient,
    /// `fileInput`: base64 of gzip of the list ([`file_input`]).
    pub file_input: String,
    /// `datiRichiesta`.
    pub dati_richiesta: DatiRichiesta,
    /// `tipoRicerca` (`"1"` / `"2"`, [`TipoRicerca::as_str`]).
    pub tipo_ricerca: String,
}

impl fmt::Debug for RichiestaMassiva {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RichiestaMassiva")
            .field("id_operazione_client", &self.id_operazione_client)
            .field("file_input_len", &self.file_input.len())
            .field("dati_richiesta", &self.dati_richiesta)
            .field("tipo_ricerca", &self.tipo_ricerca)
            .finish()
    }
}

impl RichiestaMassiva {
    /// The request for `ids` of kind `tipo`.
    ///
    /// # Errors
    /// As [`file_input`].
    pub fn new<S: AsRef<str>>(
        id: IdOperazioneClient,
        tipo: TipoRicerca,
        ids: &[S],
        dati: DatiRichiesta,
    ) -> Result<Self, MassiveError> {
        Ok(Self {
            id_operazione_client: id,
            file_input: file_input(ids)?,
            dati_richiesta: dati,
            tipo_ricerca: tipo.as_str().to_string(),
        })
    }
}

/// The answer to the submit: `{"idOperazioneANPR":"…","stato":"0"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RispostaRichiestaMassiva {
    /// `idOperazioneANPR`: the resource to poll.
    #[serde(default, rename = "idOperazioneANPR")]
    pub id_operazione_anpr: Option<String>,
    /// `stato` (`0` inserita, `1` in corso…).
    #[serde(default)]
    pub stato: Option<String>,
}

/// One element of `risposteMassive`, read tolerantly: the subjects it
/// holds (`listaSoggetti.datiSoggetto[]`, or the element itself when it
/// is a bare `datiSoggetto`), its errors and warnings, and the identifier
/// it echoes when it has one (`codiceFiscale` / `idANPR` at its top).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ElementoMassivo {
    /// `idOperazioneANPR`, when present.
    pub id_operazione_anpr: Option<String>,
    /// The subjects.
    pub soggetti: Vec<DatiSoggetto>,
    /// `listaErrori` and `listaAnomalie`.
    pub anomalie: Vec<ErroreAnomalia>,
    /// The identifier asked, when the element echoes it.
    pub richiesto: Option<String>,
}

impl fmt::Debug for ElementoMassivo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElementoMassivo")
            .field("id_operazione_anpr", &self.id_operazione_anpr)
            .field("soggetti", &self.soggetti)
            .field("anomalie", &self.anomalie)
            .field("richiesto", &self.richiesto.as_deref().map(super::mask))
            .finish()
    }
}

impl ElementoMassivo {
    /// Whether the element says "not found" (`EN122`, `EN130`, `EN133`)
    /// and holds no subject.
    pub fn non_trovato(&self) -> bool {
        self.soggetti.is_empty()
            && self
                .anomalie
                .iter()
                .any(|a| !a.is_warning() && NOT_FOUND_CODES.contains(&a.codice()))
    }
}

fn echoed(obj: &serde_json::Map<String, Value>) -> Option<String> {
    for key in ["codiceFiscale", "idANPR", "identificativo", "idAnpr"] {
        if let Some(Value::String(s)) = obj.get(key) {
            return Some(normalizza(s));
        }
    }
    None
}

fn elemento(v: Value) -> ElementoMassivo {
    let Value::Object(obj) = v else {
        return ElementoMassivo::default();
    };
    let richiesto = echoed(&obj);
    let mut anomalie: Vec<ErroreAnomalia> = obj
        .get("listaErrori")
        .cloned()
        .and_then(|e| serde_json::from_value(e).ok())
        .unwrap_or_default();
    if obj.contains_key("listaSoggetti") || obj.contains_key("listaAnomalie") {
        let ok: RispostaE002Ok =
            serde_json::from_value(Value::Object(obj.clone())).unwrap_or_default();
        anomalie.extend(ok.lista_anomalie);
        return ElementoMassivo {
            id_operazione_anpr: ok.id_operazione_anpr,
            soggetti: ok
                .lista_soggetti
                .map(|l| l.dati_soggetto)
                .unwrap_or_default(),
            anomalie,
            richiesto,
        };
    }
    let id_operazione_anpr = match obj.get("idOperazioneANPR") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let bare = obj.contains_key("generalita") || obj.contains_key("identificativi");
    let soggetti = if bare {
        serde_json::from_value::<DatiSoggetto>(Value::Object(obj))
            .ok()
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    ElementoMassivo {
        id_operazione_anpr,
        soggetti,
        anomalie,
        richiesto,
    }
}

/// Reads the JSON of a download (already decompressed).
///
/// # Errors
/// [`MassiveError::Json`] when it is not an object with a
/// `risposteMassive` array.
pub fn leggi_download_json(json: &[u8]) -> Result<Vec<ElementoMassivo>, MassiveError> {
    let v: Value = serde_json::from_slice(json).map_err(|e| MassiveError::Json {
        reason: format!("not JSON at line {} column {}", e.line(), e.column()),
    })?;
    match v {
        Value::Object(mut obj) => match obj.remove("risposteMassive") {
            Some(Value::Array(items)) => Ok(items.into_iter().map(elemento).collect()),
            Some(Value::Null) | None => Err(MassiveError::Json {
                reason: "no risposteMassive array".into(),
            }),
            Some(_) => Err(MassiveError::Json {
                reason: "risposteMassive is not an array".into(),
            }),
        },
        _ => Err(MassiveError::Json {
            reason: "not a JSON object".into(),
        }),
    }
}

/// Reads a download: the `200` body, gzip (a body that is already plain
/// JSON is accepted too).
///
/// # Errors
/// [`MassiveError::Gzip`], [`MassiveError::Json`].
pub fn leggi_download(body: &[u8]) -> Result<Vec<ElementoMassivo>, MassiveError> {
    if body.starts_with(&[0x1f, 0x8b]) {
        let json = gunzip(body, MAX_DOWNLOAD_BYTES)?;
        leggi_download_json(&json)
    } else {
        leggi_download_json(body)
    }
}

/// What the massive request says of one identifier sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EsitoMassivo {
    /// Found: its subjects (two with omocodia).
    Trovato(Vec<DatiSoggetto>),
    /// The download says explicitly "not found" for it.
    NonTrovato,
    /// Omitted from the download: to be asked again singly (ANPR omits the
    /// not-found **and** returns incomplete sets).
    DaRichiedere,
}

impl EsitoMassivo {
    /// The stable code: `trovato`, `non_trovato`, `da_richiedere`.
    pub fn code(&self) -> &'static str {
        match self {
            EsitoMassivo::Trovato(_) => "trovato",
            EsitoMassivo::NonTrovato => "non_trovato",
            EsitoMassivo::DaRichiedere => "da_richiedere",
        }
    }
}

/// The identifier a subject answers for: its codice fiscale (`tipo` 1) or
/// its ID ANPR (`tipo` 2), normalised.
fn chiave(tipo: TipoRicerca, s: &DatiSoggetto) -> Option<String> {
    match tipo {
        TipoRicerca::CodiceFiscale => s.generalita.as_ref().and_then(|g| g.cf()).map(normalizza),
        TipoRicerca::IdAnpr => s.id_anpr().map(normalizza),
    }
}

/// Reconciles `sent` (the identifiers of the request, of kind `tipo`)
/// with the `download`: one outcome per element of `sent`, in order
/// (duplicates get the same outcome). A subject is matched by the
/// element's echoed identifier, else by its codice fiscale (`tipo` 1) or
/// ID ANPR (`tipo` 2); subjects matching nothing sent are ignored (never
/// invented into a row); an identifier with no subject is
/// [`EsitoMassivo::NonTrovato`] only when an element echoing it says so,
/// [`EsitoMassivo::DaRichiedere`] otherwise.
pub fn riconcilia<S: AsRef<str>>(
    tipo: TipoRicerca,
    sent: &[S],
    download: &[ElementoMassivo],
) -> Vec<EsitoMassivo> {
    let wanted: std::collections::HashSet<String> =
        sent.iter().map(|s| normalizza(s.as_ref())).collect();
    let mut found: HashMap<String, Vec<DatiSoggetto>> = HashMap::new();
    let mut not_found: std::collections::HashSet<String> = std::collections::HashSet::new();
    for el in download {
        if el.non_trovato() {
            if let Some(r) = &el.richiesto {
                not_found.insert(r.clone());
            }
            continue;
        }
        for s in &el.soggetti {
            let key = el.richiesto.clone().or_else(|| chiave(tipo, s));
            if let Some(k) = key.filter(|k| wanted.contains(k)) {
                found.entry(k).or_default().push(s.clone());
            }
        }
    }
    sent.iter()
        .map(|s| {
            let k = normalizza(s.as_ref());
            match found.get(&k) {
                Some(v) => EsitoMassivo::Trovato(v.clone()),
                None if not_found.contains(&k) => EsitoMassivo::NonTrovato,
                None => EsitoMassivo::DaRichiedere,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::anpr::e002::{
        CasoUso, CodiceFiscaleAnpr, Generalita, Identificativi, ListaSoggetti,
    };
    use proptest::prelude::*;

    fn subject(cf: &str, id: &str) -> DatiSoggetto {
        DatiSoggetto {
            generalita: Some(Generalita {
                codice_fiscale: Some(CodiceFiscaleAnpr {
                    cod_fiscale: Some(cf.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            identificativi: Some(Identificativi {
                id_anpr: Some(id.into()),
            }),
            ..Default::default()
        }
    }

    fn download(subjects: &[DatiSoggetto]) -> Vec<u8> {
        let items: Vec<RispostaE002Ok> = subjects
            .iter()
            .map(|s| RispostaE002Ok {
                id_operazione_anpr: Some("1".into()),
                lista_soggetti: Some(ListaSoggetti {
                    dati_soggetto: vec![s.clone()],
                }),
                lista_anomalie: Vec::new(),
            })
            .collect();
        gzip(&serde_json::to_vec(&serde_json::json!({ "risposteMassive": items })).unwrap())
    }

    #[test]
    fn request_body_uses_the_wire_names_and_round_trips_the_list() {
        let dati = DatiRichiesta::new(
            chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
            "prot. 1",
            CasoUso::C030,
        )
        .unwrap();
        let r = RichiestaMassiva::new(
            IdOperazioneClient::from_number(7),
            TipoRicerca::IdAnpr,
            &["af41450as", "CO42350NF"],
            dati,
        )
        .unwrap();
        let v: Value = serde_json::to_value(&r).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "datiRichiesta",
                "fileInput",
                "idOperazioneClient",
                "tipoRicerca"
            ]
        );
        assert_eq!(v["tipoRicerca"], "2");
        assert_eq!(
            leggi_file_input(&r.file_input).unwrap(),
            ["AF41450AS", "CO42350NF"]
        );
        assert!(!format!("{r:?}").contains("AF41450AS"));
        assert_eq!(
            file_input::<&str>(&[]).unwrap_err().code(),
            "anpr_massive_empty"
        );
        assert_eq!(
            file_input(&["A;B"]).unwrap_err().code(),
            "anpr_massive_identifier"
        );
    }

    #[test]
    fn omitted_subjects_are_to_ask_again_and_strangers_are_ignored() {
        let body = download(&[
            subject("RSSMRA80A01H501U", "AA00000AA"),
            subject("XXXXXX00X00X000X", "ZZ99999ZZ"),
        ]);
        let els = leggi_download(&body).unwrap();
        let sent = ["rssmra80a01h501u", "BNCLRA85B41F205X"];
        let out = riconcilia(TipoRicerca::CodiceFiscale, &sent, &els);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].code(), "trovato");
        assert_eq!(out[1], EsitoMassivo::DaRichiedere);
        let by_id = riconcilia(TipoRicerca::IdAnpr, &["aa00000aa"], &els);
        assert_eq!(by_id[0].code(), "trovato");
    }

    #[test]
    fn an_explicit_not_found_element_is_not_found() {
        let json = br#"{"risposteMassive":[{"idANPR":"AA00000AA","listaErrori":[{"codiceErroreAnomalia":"EN122","tipoErroreAnomalia":"E"}]}]}"#;
        let els = leggi_download(json).unwrap();
        assert_eq!(
            riconcilia(TipoRicerca::IdAnpr, &["AA00000AA"], &els),
            [EsitoMassivo::NonTrovato]
        );
    }

    #[test]
    fn bad_downloads_are_errors_with_codes() {
        assert_eq!(
            leggi_download(b"[]").unwrap_err().code(),
            "anpr_massive_json"
        );
        assert_eq!(
            leggi_download(&[0x1f, 0x8b, 0, 1]).unwrap_err().code(),
            "anpr_massive_gzip"
        );
        assert_eq!(
            leggi_download(br#"{"risposteMassive":3}"#)
                .unwrap_err()
                .code(),
            "anpr_massive_json"
        );
        // Tolerant: unknown elements are kept empty, not refused.
        let els = leggi_download(br#"{"risposteMassive":[1,{"x":2}]}"#).unwrap();
        assert!(els.iter().all(|e| e.soggetti.is_empty()));
        assert_eq!(TipoRicerca::parse("3"), None);
    }

    fn arb_id() -> impl Strategy<Value = String> {
        "[A-Z]{2}[0-9]{5}[A-Z]{2}"
    }

    proptest! {
        #[test]
        fn every_sent_identifier_gets_exactly_one_outcome_and_nothing_is_invented(
            sent in proptest::collection::vec(arb_id(), 0..40),
            keep in proptest::collection::vec(any::<bool>(), 40),
            strangers in proptest::collection::vec(arb_id(), 0..5),
        ) {
            let returned: Vec<String> = sent.iter().zip(&keep).filter(|(_, k)| **k).map(|(s, _)| s.clone()).collect();
            let mut subjects: Vec<DatiSoggetto> = returned.iter().map(|id| subject("X", id)).collect();
            subjects.extend(strangers.iter().map(|id| subject("X", id)));
            let els = leggi_download(&download(&subjects)).unwrap();
            let out = riconcilia(TipoRicerca::IdAnpr, &sent, &els);
            prop_assert_eq!(out.len(), sent.len());
            for (id, o) in sent.iter().zip(&out) {
                match o {
                    EsitoMassivo::Trovato(v) => {
                        prop_assert!(returned.contains(id));
                        prop_assert!(v.iter().all(|s| s.id_anpr() == Some(id.as_str())));
                    }
                    EsitoMassivo::DaRichiedere => prop_assert!(!returned.contains(id)),
                    EsitoMassivo::NonTrovato => prop_assert!(false, "nothing said not found"),
                }
            }
        }

        #[test]
        fn file_input_round_trips(ids in proptest::collection::vec(arb_id(), 1..50)) {
            prop_assert_eq!(leggi_file_input(&file_input(&ids).unwrap()).unwrap(), ids);
        }

        #[test]
        fn the_download_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = leggi_download(&bytes);
            let _ = leggi_download(&gzip(&bytes));
        }
    }
}
