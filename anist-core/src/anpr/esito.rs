//! The pure interpretation of an E002 answer.
//!
//! - `200` with subjects → [`Esito::Trovato`], **every** `datiSoggetto`
//!   kept: entries sharing an `idANPR` are merged into one [`Soggetto`]
//!   (ANPR splits one subject over entries), distinct ones are distinct
//!   subjects (omocodia; the members of a family for C021);
//! - `404` + `EN122` (or `EN130` / `EN133`), and `200` with no subject →
//!   [`Esito::NonTrovato`]: an outcome, never an error;
//! - warnings (`tipoErroreAnomalia` `W`, e.g. `EN148` on searches by codice
//!   fiscale) are returned with the outcome, never dropped;
//! - `EN131` / `EN175` (several subjects match) → [`E002Error::Ambiguous`],
//!   `EN167` (not competent) → [`E002Error::NotCompetent`], any other error
//!   → [`E002Error::Refused`].
//!
//! ```
//! use anist_core::anpr::esito::{interpreta, Esito};
//!
//! let body = br#"{"idOperazioneANPR":"1","listaErrori":[
//!   {"tipoErroreAnomalia":"E","codiceErroreAnomalia":"EN122","testoErroreAnomalia":"La richiesta effettuata non produce alcun risultato"},
//!   {"tipoErroreAnomalia":"W","codiceErroreAnomalia":"EN148","testoErroreAnomalia":"usare l'ID ANPR"}]}"#;
//! match interpreta(404, body)? {
//!     Esito::NonTrovato { avvisi, .. } => assert_eq!(avvisi[0].codice(), "EN148"),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), anist_core::anpr::esito::E002Error>(())
//! ```

use super::e002::{DatiSoggetto, ErroreAnomalia, RispostaE002Ok, RispostaKo};
use super::IdAnpr;
use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// ANPR codes that mean "no subject" (an outcome).
pub const NOT_FOUND_CODES: [&str; 3] = ["EN122", "EN130", "EN133"];
/// ANPR codes that mean "several subjects match: narrow the search".
pub const AMBIGUOUS_CODES: [&str; 2] = ["EN131", "EN175"];
/// ANPR's "the sender is not competent on the comune".
pub const NOT_COMPETENT_CODE: &str = "EN167";
/// ANPR's warning on searches by codice fiscale (use the ID ANPR).
pub const CF_SEARCH_WARNING: &str = "EN148";

/// Why an E002 question got no usable answer, or was not asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum E002Error {
    /// `motivoRichiesta` is blank.
    #[error("the reason of the request (motivoRichiesta) is mandatory: give the reference of the file, e.g. the protocol number (\"prot. 123\")")]
    MotivoMissing,
    /// An `idOperazioneClient` that is not 1 to 30 digits.
    #[error("the operation id (idOperazioneClient) must be 1 to 30 digits: check the state file of the ANPR operation ids")]
    OperationId,
    /// `EN131` / `EN175`: several subjects match the criteria.
    #[error("ANPR found several subjects for these criteria ({codice}): search by ID ANPR, or by codice fiscale when you searched by generalità")]
    Ambiguous {
        /// ANPR's code (`EN131` or `EN175`).
        codice: String,
        /// The warnings that came with it.
        avvisi: Vec<ErroreAnomalia>,
    },
    /// `EN167`: the sender is not competent on the comune asked.
    #[error("ANPR says the ente is not competent for this subject's comune (EN167): the subject is resident elsewhere; ask the competent comune or use a service the agreement allows")]
    NotCompetent {
        /// The warnings that came with it.
        avvisi: Vec<ErroreAnomalia>,
    },
    /// Any other ANPR error (`tipoErroreAnomalia` `E`).
    #[error("ANPR refused the request ({codice}: {testo}): check the request data and the e-service's agreement")]
    Refused {
        /// HTTP status.
        status: u16,
        /// ANPR's code (e.g. `EN003`), or `""`.
        codice: String,
        /// ANPR's text.
        testo: String,
        /// The warnings that came with it.
        avvisi: Vec<ErroreAnomalia>,
    },
    /// An answer that is not an E002 answer.
    #[error("ANPR answered something that cannot be read (status {status}): {reason}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// What is wrong.
        reason: String,
    },
}

impl E002Error {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &[
        "anpr_motivo_missing",
        "anpr_operation_id",
        "anpr_ambiguous",
        "anpr_not_competent",
        "anpr_refused",
        "anpr_unexpected_answer",
    ];
}

impl ErrorCode for E002Error {
    fn code(&self) -> &'static str {
        match self {
            E002Error::MotivoMissing => "anpr_motivo_missing",
            E002Error::OperationId => "anpr_operation_id",
            E002Error::Ambiguous { .. } => "anpr_ambiguous",
            E002Error::NotCompetent { .. } => "anpr_not_competent",
            E002Error::Refused { .. } => "anpr_refused",
            E002Error::Unexpected { .. } => "anpr_unexpected_answer",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            E002Error::MotivoMissing | E002Error::OperationId => ErrorKind::InvalidArgument,
            E002Error::Ambiguous { .. } => ErrorKind::AnprAmbiguous,
            E002Error::NotCompetent { .. } => ErrorKind::AnprNotCompetent,
            E002Error::Refused { .. } => ErrorKind::AnprRefused,
            E002Error::Unexpected { .. } => ErrorKind::UnexpectedAnswer,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for E002Error {
    fn samples() -> Vec<Self> {
        vec![
            E002Error::MotivoMissing,
            E002Error::OperationId,
            E002Error::Ambiguous {
                codice: AMBIGUOUS_CODES[0].to_owned(),
                avvisi: Vec::new(),
            },
            E002Error::NotCompetent { avvisi: Vec::new() },
            E002Error::Refused {
                status: 400,
                codice: "EN003".to_owned(),
                testo: "dati richiesta non validi".to_owned(),
                avvisi: Vec::new(),
            },
            E002Error::Unexpected {
                status: 200,
                reason: "not JSON".to_owned(),
            },
        ]
    }
}

/// One subject of an answer: the merge of the `datiSoggetto` entries that
/// share its `idANPR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soggetto {
    /// Its ID ANPR, when ANPR sent a well-formed one.
    pub id_anpr: Option<IdAnpr>,
    /// The merged data (first `generalita`, `datiDecesso`, `legameSoggetto`,
    /// `identificativi` seen; every `residenza` and `infoSoggettoEnte`).
    pub dati: DatiSoggetto,
}

impl Soggetto {
    /// Whether ANPR reports the subject deceased (`datiDecesso` present).
    pub fn deceduto(&self) -> bool {
        self.dati.dati_decesso.is_some()
    }
}

/// What an answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Esito {
    /// One subject or more (several: omocodia, or a family for C021).
    Trovato {
        /// `idOperazioneANPR`.
        id_operazione_anpr: Option<String>,
        /// The subjects, in the order of their first entry.
        soggetti: Vec<Soggetto>,
        /// Warnings (`listaAnomalie`).
        avvisi: Vec<ErroreAnomalia>,
    },
    /// No subject: an outcome, not an error.
    NonTrovato {
        /// `idOperazioneANPR`.
        id_operazione_anpr: Option<String>,
        /// Warnings that came with it (e.g. `EN148`).
        avvisi: Vec<ErroreAnomalia>,
    },
}

impl Esito {
    /// The warnings.
    pub fn avvisi(&self) -> &[ErroreAnomalia] {
        match self {
            Esito::Trovato { avvisi, .. } | Esito::NonTrovato { avvisi, .. } => avvisi,
        }
    }

    /// The subjects (empty when not found).
    pub fn soggetti(&self) -> &[Soggetto] {
        match self {
            Esito::Trovato { soggetti, .. } => soggetti,
            Esito::NonTrovato { .. } => &[],
        }
    }
}

/// Merges `entries` by `idANPR` (see the module doc). Entries without an
/// `idANPR` join the only subject when there is exactly one, otherwise
/// each is a subject of its own.
pub fn unisci(entries: Vec<DatiSoggetto>) -> Vec<Soggetto> {
    let mut keyed: Vec<(Option<String>, DatiSoggetto)> = Vec::new();
    let mut loose: Vec<DatiSoggetto> = Vec::new();
    for e in entries {
        let key = e.id_anpr().map(|s| s.trim().to_ascii_uppercase());
        match key {
            None => loose.push(e),
            Some(k) => match keyed.iter_mut().find(|(kk, _)| kk.as_deref() == Some(&k)) {
                Some((_, into)) => merge(into, e),
                None => keyed.push((Some(k), e)),
            },
        }
    }
    if keyed.len() == 1 {
        if let Some((_, into)) = keyed.first_mut() {
            for e in loose.drain(..) {
                merge(into, e);
            }
        }
    }
    keyed.extend(loose.into_iter().map(|e| (None, e)));
    keyed
        .into_iter()
        .map(|(k, dati)| Soggetto {
            id_anpr: k.and_then(|k| IdAnpr::parse(&k).ok()),
            dati,
        })
        .collect()
}

fn merge(into: &mut DatiSoggetto, e: DatiSoggetto) {
    if into.generalita.is_none() {
        into.generalita = e.generalita;
    }
    if into.dati_decesso.is_none() {
        into.dati_decesso = e.dati_decesso;
    }
    if into.legame_soggetto.is_none() {
        into.legame_soggetto = e.legame_soggetto;
    }
    if into.identificativi.is_none() {
        into.identificativi = e.identificativi;
    }
    into.residenza.extend(e.residenza);
    into.info_soggetto_ente.extend(e.info_soggetto_ente);
}

fn unexpected(status: u16, reason: impl Into<String>) -> E002Error {
    E002Error::Unexpected {
        status,
        reason: reason.into(),
    }
}

/// Parses `body` as the JSON object `what` (a JSON array is refused, not
/// read field by field).
fn object<T: serde::de::DeserializeOwned>(
    status: u16,
    body: &[u8],
    what: &str,
) -> Result<T, E002Error> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| unexpected(status, format!("not a {what}: {e}")))?;
    if !value.is_object() {
        return Err(unexpected(
            status,
            format!("not a {what}: not a JSON object"),
        ));
    }
    serde_json::from_value(value).map_err(|e| unexpected(status, format!("not a {what}: {e}")))
}

/// Interprets the `status` and `body` of an E002 answer (see the module
/// doc).
///
/// # Errors
/// [`E002Error::Ambiguous`], [`E002Error::NotCompetent`],
/// [`E002Error::Refused`] for ANPR's errors, [`E002Error::Unexpected`] for
/// a body that is not an E002 answer or a status E002 does not use.
pub fn interpreta(status: u16, body: &[u8]) -> Result<Esito, E002Error> {
    match status {
        200 => {
            let ok: RispostaE002Ok = object(status, body, "RispostaE002OK")?;
            let mut avvisi = Vec::new();
            let mut errors = Vec::new();
            for a in ok.lista_anomalie {
                if a.is_warning() {
                    avvisi.push(a);
                } else {
                    errors.push(a);
                }
            }
            let entries = ok
                .lista_soggetti
                .map(|l| l.dati_soggetto)
                .unwrap_or_default();
            if entries.is_empty() {
                // An error in listaAnomalie of an empty 200 decides as a KO would.
                if let Some(e) = errors.into_iter().next() {
                    return classify(status, e, avvisi, ok.id_operazione_anpr);
                }
                return Ok(Esito::NonTrovato {
                    id_operazione_anpr: ok.id_operazione_anpr,
                    avvisi,
                });
            }
            // With data, an "E" anomaly is still reported, as a warning.
            avvisi.extend(errors);
            Ok(Esito::Trovato {
                id_operazione_anpr: ok.id_operazione_anpr,
                soggetti: unisci(entries),
                avvisi,
            })
        }
        400 | 404 | 500 => {
            let ko: RispostaKo = object(status, body, "RispostaKO")?;
            let (warnings, errors): (Vec<_>, Vec<_>) = ko
                .lista_errori
                .into_iter()
                .partition(ErroreAnomalia::is_warning);
            // The decisive error: a "not found" first, then the first one.
            let decisive = errors
                .iter()
                .position(|e| NOT_FOUND_CODES.contains(&e.codice().trim()))
                .unwrap_or(0);
            let mut errors = errors;
            if errors.is_empty() {
                return Err(unexpected(
                    status,
                    "a RispostaKO without any error in listaErrori",
                ));
            }
            let e = errors.swap_remove(decisive);
            classify(status, e, warnings, ko.id_operazione_anpr)
        }
        _ => Err(unexpected(status, "E002 answers 200, 400, 404 or 500")),
    }
}

fn classify(
    status: u16,
    e: ErroreAnomalia,
    avvisi: Vec<ErroreAnomalia>,
    id_operazione_anpr: Option<String>,
) -> Result<Esito, E002Error> {
    let codice = e.codice().trim().to_string();
    if NOT_FOUND_CODES.contains(&codice.as_str()) {
        return Ok(Esito::NonTrovato {
            id_operazione_anpr,
            avvisi,
        });
    }
    if AMBIGUOUS_CODES.contains(&codice.as_str()) {
        return Err(E002Error::Ambiguous { codice, avvisi });
    }
    if codice == NOT_COMPETENT_CODE {
        return Err(E002Error::NotCompetent { avvisi });
    }
    Err(E002Error::Refused {
        status,
        testo: e.testo().to_string(),
        codice,
        avvisi,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::anpr::e002::{
        Generalita, Identificativi, InfoSoggettoEnte, InfoValore, ListaSoggetti,
    };
    use proptest::prelude::*;

    fn entry(id: Option<&str>, with_gen: bool) -> DatiSoggetto {
        DatiSoggetto {
            generalita: with_gen.then(|| Generalita {
                cognome: Some("ROSSI".into()),
                ..Generalita::default()
            }),
            identificativi: id.map(|i| Identificativi {
                id_anpr: Some(i.to_string()),
            }),
            info_soggetto_ente: vec![InfoSoggettoEnte {
                valore: Some(InfoValore::Si),
                ..InfoSoggettoEnte::default()
            }],
            ..DatiSoggetto::default()
        }
    }

    fn ok_body(entries: Vec<DatiSoggetto>, anomalie: Vec<ErroreAnomalia>) -> Vec<u8> {
        serde_json::to_vec(&RispostaE002Ok {
            id_operazione_anpr: Some("42".into()),
            lista_soggetti: Some(ListaSoggetti {
                dati_soggetto: entries,
            }),
            lista_anomalie: anomalie,
        })
        .unwrap()
    }

    fn ko_body(errs: &[(&str, &str)]) -> Vec<u8> {
        serde_json::to_vec(&RispostaKo {
            id_operazione_anpr: Some("43".into()),
            lista_errori: errs
                .iter()
                .map(|(c, t)| ErroreAnomalia::new(c, t, "testo"))
                .collect(),
        })
        .unwrap()
    }

    #[test]
    fn split_subject_is_merged_c019_style() {
        let body = ok_body(
            vec![
                entry(Some("AF41450AS"), false),
                entry(Some("af41450as"), true),
            ],
            vec![ErroreAnomalia::new("EN148", "W", "usare l'ID ANPR")],
        );
        let e = interpreta(200, &body).unwrap();
        assert_eq!(e.soggetti().len(), 1);
        let s = &e.soggetti()[0];
        assert_eq!(s.id_anpr.unwrap().as_str(), "AF41450AS");
        assert!(s.dati.generalita.is_some());
        assert_eq!(s.dati.info_soggetto_ente.len(), 2);
        assert_eq!(e.avvisi()[0].codice(), "EN148");
    }

    #[test]
    fn omocodia_gives_two_subjects() {
        let body = ok_body(
            vec![
                entry(Some("AF41450AS"), true),
                entry(Some("FL46721JJ"), true),
            ],
            vec![],
        );
        assert_eq!(interpreta(200, &body).unwrap().soggetti().len(), 2);
    }

    #[test]
    fn not_found_is_an_outcome() {
        let e = interpreta(404, &ko_body(&[("EN148", "W"), ("EN122", "E")])).unwrap();
        assert!(matches!(e, Esito::NonTrovato { .. }));
        assert_eq!(e.avvisi().len(), 1);
        assert!(matches!(
            interpreta(200, br#"{"listaSoggetti":{"datiSoggetto":[]}}"#).unwrap(),
            Esito::NonTrovato { .. }
        ));
        assert!(matches!(
            interpreta(200, b"{}").unwrap(),
            Esito::NonTrovato { .. }
        ));
    }

    #[test]
    fn errors_have_distinct_codes() {
        for (code, expect) in [
            ("EN131", "anpr_ambiguous"),
            ("EN175", "anpr_ambiguous"),
            ("EN167", "anpr_not_competent"),
            ("EN003", "anpr_refused"),
            ("999", "anpr_refused"),
        ] {
            let e = interpreta(400, &ko_body(&[(code, "E")])).unwrap_err();
            assert_eq!(e.code(), expect, "{code}");
            assert!(E002Error::CODES.contains(&e.code()));
        }
        for (status, body) in [
            (200, &b"[]"[..]),
            (404, b"{}"),
            (404, b"<html>"),
            (302, b"{}"),
            (
                200,
                br#"{"listaSoggetti":{"datiSoggetto":[{"infoSoggettoEnte":[{"valore":"X"}]}]}}"#,
            ),
        ] {
            assert_eq!(
                interpreta(status, body).unwrap_err().code(),
                "anpr_unexpected_answer"
            );
        }
    }

    #[test]
    fn info_valore_meaning() {
        let v: Vec<InfoValore> = serde_json::from_str(r#"["S","N","A"]"#).unwrap();
        assert_eq!(
            v,
            [InfoValore::Si, InfoValore::No, InfoValore::Indeterminabile]
        );
        assert_eq!(InfoValore::Indeterminabile.label(), "non determinabile");
    }

    #[test]
    fn operation_ids() {
        use crate::anpr::e002::IdOperazioneClient;
        assert!(IdOperazioneClient::parse("0123").is_ok());
        for bad in ["", "12a", "-1", &"1".repeat(31)] {
            assert_eq!(
                IdOperazioneClient::parse(bad).unwrap_err().code(),
                "anpr_operation_id"
            );
        }
        assert_eq!(IdOperazioneClient::next(10, 5), 11);
        assert_eq!(IdOperazioneClient::next(10, 50), 50);
    }

    #[test]
    fn debug_masks_personal_data() {
        let mut e = entry(Some("AF41450AS"), true);
        e.generalita.as_mut().unwrap().nome = Some("MARIO".into());
        let s = format!("{e:?}");
        assert!(
            !s.contains("AF41450AS") && !s.contains("ROSSI") && !s.contains("MARIO"),
            "{s}"
        );
    }

    fn arb_id() -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop::sample::select(vec![
            "AF41450AS".to_string(),
            "FL46721JJ".to_string(),
            "UK79569LF".to_string(),
        ]))
    }

    proptest! {
        #[test]
        fn interpreta_never_panics(status in prop::sample::select(vec![200u16, 400, 404, 500, 503]), body in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Err(e) = interpreta(status, &body) {
                prop_assert!(E002Error::CODES.contains(&e.code()));
            }
        }

        #[test]
        fn every_distinct_id_is_a_subject(ids in prop::collection::vec(arb_id(), 1..8), warn in any::<bool>()) {
            let entries: Vec<_> = ids.iter().map(|i| entry(i.as_deref(), true)).collect();
            let anomalie = if warn { vec![ErroreAnomalia::new("EN148", "W", "t")] } else { vec![] };
            let e = interpreta(200, &ok_body(entries, anomalie)).unwrap();
            let mut distinct: Vec<&String> = ids.iter().flatten().collect();
            distinct.sort();
            distinct.dedup();
            let loose = ids.iter().filter(|i| i.is_none()).count();
            let expected = if distinct.len() == 1 { 1 } else { distinct.len() + loose };
            prop_assert_eq!(e.soggetti().len(), expected);
            // Nothing is lost: every infoSoggettoEnte entry is kept.
            let infos: usize = e.soggetti().iter().map(|s| s.dati.info_soggetto_ente.len()).sum();
            prop_assert_eq!(infos, ids.len());
            prop_assert_eq!(e.avvisi().len(), usize::from(warn));
        }

        #[test]
        fn ids_strictly_increase(last in 0u64..u64::MAX / 2, now in 0u64..u64::MAX / 2) {
            let next = crate::anpr::e002::IdOperazioneClient::next(last, now);
            prop_assert!(next > last);
            prop_assert!(crate::anpr::e002::IdOperazioneClient::parse(&next.to_string()).is_ok());
        }
    }
}
