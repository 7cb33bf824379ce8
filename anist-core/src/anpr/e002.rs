//! The wire types of the ANPR E002 e-services over PDND
//! (`POST …/anpr-service-e002`), field names exactly as in the public
//! OpenAPI files (reference §1.1: C001, C021, C030 YAMLs). Optional
//! members are omitted when absent; unknown members of an answer are
//! ignored (ANPR's YAMLs differ per service).
//!
//! Anything holding a codice fiscale, a name, an ID ANPR or an address
//! masks it in `Debug`.
//!
//! ```
//! use anist_core::anpr::e002::{CasoUso, CriteriRicerca, DatiRichiesta, IdOperazioneClient, RichiestaE002};
//! use chrono::NaiveDate;
//!
//! let dati = DatiRichiesta::new(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(), "prot. 123", CasoUso::C030)?;
//! let req = RichiestaE002::new(
//!     IdOperazioneClient::parse("1764633600000")?,
//!     CriteriRicerca::codice_fiscale("RSSMRA80A01H501U"),
//!     dati,
//! );
//! let json = serde_json::to_string(&req).unwrap();
//! assert_eq!(
//!     json,
//!     r#"{"idOperazioneClient":"1764633600000","criteriRicerca":{"codiceFiscale":"RSSMRA80A01H501U"},"datiRichiesta":{"dataRiferimentoRichiesta":"2026-12-02","motivoRichiesta":"prot. 123","casoUso":"C030"}}"#
//! );
//! assert!(!format!("{req:?}").contains("RSSMRA80A01H501U"));
//! # Ok::<(), anist_core::anpr::esito::E002Error>(())
//! ```

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::esito::E002Error;
use super::mask;

/// Longest `idOperazioneClient` (SOAP XSD `tipoIdOperazioneClient`).
pub const ID_OPERAZIONE_MAX_LEN: usize = 30;

/// `idOperazioneClient`: digits only, 1..=30 of them. ANPR answers a
/// reused id with the earlier answer and refuses one lower than the last
/// sent, so ids must be strictly increasing per ente ([`Self::next`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdOperazioneClient(String);

impl IdOperazioneClient {
    /// Checks `s`: 1..=30 ASCII digits.
    ///
    /// # Errors
    /// [`E002Error::OperationId`].
    pub fn parse(s: &str) -> Result<Self, E002Error> {
        if s.is_empty() || s.len() > ID_OPERAZIONE_MAX_LEN || !s.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(E002Error::OperationId);
        }
        Ok(Self(s.to_string()))
    }

    /// The id of number `n`.
    pub fn from_number(n: u64) -> Self {
        Self(n.to_string())
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pure rule for the next id: the current time in milliseconds
    /// (readable in logs), or `last + 1` when the clock did not move past
    /// the last id (same millisecond, clock set back). Always `> last`.
    pub fn next(last: u64, now_millis: u64) -> u64 {
        now_millis.max(last.saturating_add(1))
    }
}

impl fmt::Display for IdOperazioneClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `casoUso`: the e-service the request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum CasoUso {
    /// C001 — consultazione (servizio notifica): the subject's generalità.
    C001,
    /// C015 — accertamento generalità.
    C015,
    /// C020 — accertamento residenza.
    C020,
    /// C021 — accertamento stato di famiglia.
    C021,
    /// C030 — accertamento identificativo unico nazionale (codice fiscale → ID ANPR).
    C030,
}

impl CasoUso {
    /// The code as sent (`"C030"`).
    pub fn as_str(self) -> &'static str {
        match self {
            CasoUso::C001 => "C001",
            CasoUso::C015 => "C015",
            CasoUso::C020 => "C020",
            CasoUso::C021 => "C021",
            CasoUso::C030 => "C030",
        }
    }
}

/// `RichiestaE002`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RichiestaE002 {
    /// `idOperazioneClient`.
    pub id_operazione_client: IdOperazioneClient,
    /// `criteriRicerca`.
    pub criteri_ricerca: CriteriRicerca,
    /// `datiRichiesta`.
    pub dati_richiesta: DatiRichiesta,
}

impl RichiestaE002 {
    /// A request.
    pub fn new(id: IdOperazioneClient, criteri: CriteriRicerca, dati: DatiRichiesta) -> Self {
        Self {
            id_operazione_client: id,
            criteri_ricerca: criteri,
            dati_richiesta: dati,
        }
    }
}

/// `criteriRicerca` (`TipoCriteriRicercaE002`): by codice fiscale or by
/// ID ANPR (the search by full generalità is not offered yet).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CriteriRicerca {
    /// `codiceFiscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_fiscale: Option<String>,
    /// `idANPR`.
    #[serde(default, rename = "idANPR", skip_serializing_if = "Option::is_none")]
    pub id_anpr: Option<String>,
}

impl CriteriRicerca {
    /// By codice fiscale.
    pub fn codice_fiscale(cf: &str) -> Self {
        Self {
            codice_fiscale: Some(cf.to_string()),
            id_anpr: None,
        }
    }

    /// By ID ANPR.
    pub fn id_anpr(id: &str) -> Self {
        Self {
            codice_fiscale: None,
            id_anpr: Some(id.to_string()),
        }
    }
}

impl fmt::Debug for CriteriRicerca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CriteriRicerca")
            .field("codice_fiscale", &self.codice_fiscale.as_deref().map(mask))
            .field("id_anpr", &self.id_anpr.as_deref().map(mask))
            .finish()
    }
}

/// `datiRichiesta` (`TipoDatiRichiestaE002`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatiRichiesta {
    /// `dataRiferimentoRichiesta` (`YYYY-MM-DD`).
    pub data_riferimento_richiesta: String,
    /// `motivoRichiesta`: the reference of the file the lookup is for
    /// (protocollo, fascicolo…). Mandatory.
    pub motivo_richiesta: String,
    /// `casoUso`.
    pub caso_uso: CasoUso,
}

/// A date as ANPR writes it, `YYYY-MM-DD`. Written by hand rather than
/// with chrono's `format`, whose optimised formatter makes valgrind report a
/// (harmless) uninitialised read in the C library's examples.
pub fn iso_date(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

impl DatiRichiesta {
    /// The request data; `motivo` is trimmed.
    ///
    /// # Errors
    /// [`E002Error::MotivoMissing`] when `motivo` is blank.
    pub fn new(date: NaiveDate, motivo: &str, caso_uso: CasoUso) -> Result<Self, E002Error> {
        let motivo = motivo.trim();
        if motivo.is_empty() {
            return Err(E002Error::MotivoMissing);
        }
        Ok(Self {
            data_riferimento_richiesta: iso_date(date),
            motivo_richiesta: motivo.to_string(),
            caso_uso,
        })
    }
}

/// `TipoErroriAnomalia`: one error or warning. `Debug` masks
/// `valoreErroreAnomalia` (it may echo an identifier).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErroreAnomalia {
    /// `codiceErroreAnomalia` (e.g. `EN122`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_errore_anomalia: Option<String>,
    /// `tipoErroreAnomalia`: `E` error, `W` warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tipo_errore_anomalia: Option<String>,
    /// `testoErroreAnomalia`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testo_errore_anomalia: Option<String>,
    /// `oggettoErroreAnomalia`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oggetto_errore_anomalia: Option<String>,
    /// `campoErroreAnomalia`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campo_errore_anomalia: Option<String>,
    /// `valoreErroreAnomalia` (may echo an identifier: never print it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valore_errore_anomalia: Option<String>,
}

impl fmt::Debug for ErroreAnomalia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErroreAnomalia")
            .field("codice", &self.codice_errore_anomalia)
            .field("tipo", &self.tipo_errore_anomalia)
            .field("testo", &self.testo_errore_anomalia)
            .field("campo", &self.campo_errore_anomalia)
            .field("valore", &self.valore_errore_anomalia.as_deref().map(mask))
            .finish_non_exhaustive()
    }
}

impl ErroreAnomalia {
    /// An entry with a code, a type (`E`/`W`) and a text.
    pub fn new(codice: &str, tipo: &str, testo: &str) -> Self {
        Self {
            codice_errore_anomalia: Some(codice.to_string()),
            tipo_errore_anomalia: Some(tipo.to_string()),
            testo_errore_anomalia: Some(testo.to_string()),
            ..Self::default()
        }
    }

    /// The code, or `""`.
    pub fn codice(&self) -> &str {
        self.codice_errore_anomalia.as_deref().unwrap_or("")
    }

    /// Whether it is a warning (`tipoErroreAnomalia` `W`).
    pub fn is_warning(&self) -> bool {
        self.tipo_errore_anomalia
            .as_deref()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("W"))
    }

    /// The text, or `""`.
    pub fn testo(&self) -> &str {
        self.testo_errore_anomalia.as_deref().unwrap_or("")
    }
}

/// `RispostaE002OK` (200).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RispostaE002Ok {
    /// `idOperazioneANPR`.
    #[serde(
        default,
        rename = "idOperazioneANPR",
        skip_serializing_if = "Option::is_none"
    )]
    pub id_operazione_anpr: Option<String>,
    /// `listaSoggetti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lista_soggetti: Option<ListaSoggetti>,
    /// `listaAnomalie`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lista_anomalie: Vec<ErroreAnomalia>,
}

/// `RispostaKO` (400 / 404 / 500, `application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RispostaKo {
    /// `idOperazioneANPR`.
    #[serde(
        default,
        rename = "idOperazioneANPR",
        skip_serializing_if = "Option::is_none"
    )]
    pub id_operazione_anpr: Option<String>,
    /// `listaErrori`.
    #[serde(default)]
    pub lista_errori: Vec<ErroreAnomalia>,
}

/// `TipoListaSoggetti`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListaSoggetti {
    /// `datiSoggetto`: possibly several entries, for one subject (ANPR
    /// splits) or several (omocodia, the members of a family).
    #[serde(default)]
    pub dati_soggetto: Vec<DatiSoggetto>,
}

/// `TipoDatiSoggettiEnte`: what ANPR says about one subject (each service
/// fills only its blocks).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatiSoggetto {
    /// `generalita`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generalita: Option<Generalita>,
    /// `residenza` (C020).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub residenza: Vec<Residenza>,
    /// `datiDecesso`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dati_decesso: Option<DatiEvento>,
    /// `legameSoggetto` (C021: the member's relation in the family).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legame_soggetto: Option<LegameSoggetto>,
    /// `infoSoggettoEnte`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub info_soggetto_ente: Vec<InfoSoggettoEnte>,
    /// `identificativi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identificativi: Option<Identificativi>,
}

impl DatiSoggetto {
    /// `identificativi.idANPR`, if present.
    pub fn id_anpr(&self) -> Option<&str> {
        self.identificativi.as_ref()?.id_anpr.as_deref()
    }
}

/// `TipoIdentificativi`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identificativi {
    /// `idANPR`.
    #[serde(default, rename = "idANPR", skip_serializing_if = "Option::is_none")]
    pub id_anpr: Option<String>,
}

impl fmt::Debug for Identificativi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identificativi")
            .field("id_anpr", &self.id_anpr.as_deref().map(mask))
            .finish()
    }
}

/// `TipoCodiceFiscale`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodiceFiscaleAnpr {
    /// `codFiscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_fiscale: Option<String>,
    /// `validitaCF`: `1` validated with the Agenzia delle Entrate, `9` not.
    #[serde(
        default,
        rename = "validitaCF",
        skip_serializing_if = "Option::is_none"
    )]
    pub validita_cf: Option<String>,
    /// `dataAttribuzioneValidita`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_attribuzione_validita: Option<String>,
}

impl fmt::Debug for CodiceFiscaleAnpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodiceFiscaleAnpr")
            .field("cod_fiscale", &self.cod_fiscale.as_deref().map(mask))
            .field("validita_cf", &self.validita_cf)
            .finish_non_exhaustive()
    }
}

/// `TipoGeneralita`.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generalita {
    /// `codiceFiscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_fiscale: Option<CodiceFiscaleAnpr>,
    /// `cognome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognome: Option<String>,
    /// `senzaCognome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senza_cognome: Option<String>,
    /// `nome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nome: Option<String>,
    /// `senzaNome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senza_nome: Option<String>,
    /// `sesso` (`M` / `F`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sesso: Option<String>,
    /// `dataNascita` (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_nascita: Option<String>,
    /// `senzaGiorno`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senza_giorno: Option<String>,
    /// `senzaGiornoMese`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senza_giorno_mese: Option<String>,
    /// `luogoNascita`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub luogo_nascita: Option<LuogoEvento>,
    /// `soggettoAIRE` (`S` when registered abroad).
    #[serde(
        default,
        rename = "soggettoAIRE",
        skip_serializing_if = "Option::is_none"
    )]
    pub soggetto_aire: Option<String>,
    /// `annoEspatrio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anno_espatrio: Option<String>,
    /// `idSchedaSoggettoANPR`.
    #[serde(
        default,
        rename = "idSchedaSoggettoANPR",
        skip_serializing_if = "Option::is_none"
    )]
    pub id_scheda_soggetto_anpr: Option<String>,
    /// `note`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Generalita {
    /// `codiceFiscale.codFiscale`, if present.
    pub fn cf(&self) -> Option<&str> {
        self.codice_fiscale.as_ref()?.cod_fiscale.as_deref()
    }
}

impl fmt::Debug for Generalita {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generalita")
            .field("codice_fiscale", &self.codice_fiscale)
            .field("cognome", &self.cognome.as_deref().map(mask))
            .field("nome", &self.nome.as_deref().map(mask))
            .field("sesso", &self.sesso)
            .field("data_nascita", &self.data_nascita.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// `TipoLuogoEvento`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LuogoEvento {
    /// `luogoEccezionale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub luogo_eccezionale: Option<String>,
    /// `comune`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comune: Option<Comune>,
    /// `localita` (abroad).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localita: Option<Localita>,
}

/// `TipoComune`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comune {
    /// `nomeComune`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nome_comune: Option<String>,
    /// `codiceIstat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_istat: Option<String>,
    /// `siglaProvinciaIstat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigla_provincia_istat: Option<String>,
    /// `descrizioneLocalita`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descrizione_localita: Option<String>,
}

/// `TipoLocalita`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Localita {
    /// `descrizioneLocalita`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descrizione_localita: Option<String>,
    /// `descrizioneStato`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub descrizione_stato: Option<String>,
    /// `codiceStato`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_stato: Option<String>,
    /// `provinciaContea`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provincia_contea: Option<String>,
}

/// `TipoResidenza` (C020).
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Residenza {
    /// `tipoIndirizzo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tipo_indirizzo: Option<String>,
    /// `noteIndirizzo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_indirizzo: Option<String>,
    /// `indirizzo` (in Italy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indirizzo: Option<Indirizzo>,
    /// `localitaEstera` (abroad), kept as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localita_estera: Option<serde_json::Value>,
    /// `presso`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presso: Option<String>,
    /// `dataDecorrenzaResidenza` (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_decorrenza_residenza: Option<String>,
}

impl fmt::Debug for Residenza {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let comune = self
            .indirizzo
            .as_ref()
            .and_then(|i| i.comune.as_ref())
            .and_then(|c| c.nome_comune.as_deref());
        f.debug_struct("Residenza")
            .field("comune", &comune)
            .field("data_decorrenza_residenza", &self.data_decorrenza_residenza)
            .finish_non_exhaustive()
    }
}

/// `indirizzo` of `TipoResidenza`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Indirizzo {
    /// `cap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<String>,
    /// `comune`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comune: Option<Comune>,
    /// `frazione`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frazione: Option<String>,
    /// `toponimo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toponimo: Option<Toponimo>,
    /// `numeroCivico`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numero_civico: Option<NumeroCivico>,
}

/// `toponimo` of an address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Toponimo {
    /// `codSpecie`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_specie: Option<String>,
    /// `specie` (`VIA`, `PIAZZA`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specie: Option<String>,
    /// `specieFonte`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specie_fonte: Option<String>,
    /// `codToponimo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cod_toponimo: Option<String>,
    /// `denominazioneToponimo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominazione_toponimo: Option<String>,
    /// `toponimoFonte`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toponimo_fonte: Option<String>,
}

/// `numeroCivico` of an address (the inner-address block kept as received).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumeroCivico {
    /// `codiceCivico`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_civico: Option<String>,
    /// `civicoFonte`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civico_fonte: Option<String>,
    /// `numero`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numero: Option<String>,
    /// `metrico`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrico: Option<String>,
    /// `progSNC`.
    #[serde(default, rename = "progSNC", skip_serializing_if = "Option::is_none")]
    pub prog_snc: Option<String>,
    /// `lettera`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lettera: Option<String>,
    /// `esponente1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esponente1: Option<String>,
    /// `colore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colore: Option<String>,
    /// `civicoInterno`, kept as received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civico_interno: Option<serde_json::Value>,
}

/// `TipoDatiEvento` (e.g. `datiDecesso`). `Debug` masks the date.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatiEvento {
    /// `dataEvento` (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_evento: Option<String>,
    /// `senzaGiorno`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senza_giorno: Option<String>,
    /// `senzaGiornoMese`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub senza_giorno_mese: Option<String>,
    /// `luogoEvento`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub luogo_evento: Option<LuogoEvento>,
}

impl fmt::Debug for DatiEvento {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatiEvento")
            .field("data_evento", &self.data_evento.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// `TipoLegameSoggettoCompleto` (C021).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegameSoggetto {
    /// `tipoLegame`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tipo_legame: Option<String>,
    /// `dataDecorrenza`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_decorrenza: Option<String>,
    /// `codiceLegame` (ANPR's relation table: `1` intestatario scheda…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_legame: Option<String>,
    /// `progressivoComponente`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progressivo_componente: Option<String>,
    /// `dataDecorrenzaLegame`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_decorrenza_legame: Option<String>,
}

/// `TipoInfoValore`: `S` yes, `N` no, `A` cannot be determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InfoValore {
    /// `S` — sì.
    #[serde(rename = "S")]
    Si,
    /// `N` — no.
    #[serde(rename = "N")]
    No,
    /// `A` — impossibile determinare.
    #[serde(rename = "A")]
    Indeterminabile,
}

impl InfoValore {
    /// The Italian wording for clerks.
    pub fn label(self) -> &'static str {
        match self {
            InfoValore::Si => "sì",
            InfoValore::No => "no",
            InfoValore::Indeterminabile => "non determinabile",
        }
    }
}

/// `TipoInfoSoggettoEnte`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoSoggettoEnte {
    /// `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `chiave` (what the information is about).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chiave: Option<String>,
    /// `valore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valore: Option<InfoValore>,
    /// `valoreTesto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valore_testo: Option<String>,
    /// `valoreData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valore_data: Option<String>,
    /// `dettaglio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dettaglio: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    const REQUEST_NAMES: &[&str] = &[
        "idOperazioneClient",
        "criteriRicerca",
        "datiRichiesta",
        "codiceFiscale",
        "idANPR",
        "dataRiferimentoRichiesta",
        "motivoRichiesta",
        "casoUso",
    ];

    fn names(v: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(m) = v {
            for (k, v) in m {
                out.push(k.clone());
                names(v, out);
            }
        }
    }

    proptest! {
        #[test]
        fn requests_round_trip_with_only_openapi_names(
            id in 0u64..u64::MAX,
            by_cf in any::<bool>(),
            who in "[A-Z0-9]{9,16}",
            motivo in "[ -~]{0,40}",
            days in 0u64..40_000,
        ) {
            let date = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new(days);
            let criteri = if by_cf { CriteriRicerca::codice_fiscale(&who) } else { CriteriRicerca::id_anpr(&who) };
            match DatiRichiesta::new(date, &motivo, CasoUso::C021) {
                Err(e) => prop_assert!(motivo.trim().is_empty() && e == E002Error::MotivoMissing),
                Ok(dati) => {
                    let req = RichiestaE002::new(IdOperazioneClient::from_number(id), criteri, dati);
                    let json = serde_json::to_value(&req).unwrap();
                    let mut seen = Vec::new();
                    names(&json, &mut seen);
                    prop_assert_eq!(seen.len(), 7);
                    for n in &seen {
                        prop_assert!(REQUEST_NAMES.contains(&n.as_str()), "{}", n);
                    }
                    prop_assert_eq!(serde_json::from_value::<RichiestaE002>(json).unwrap(), req);
                }
            }
        }
    }
}
