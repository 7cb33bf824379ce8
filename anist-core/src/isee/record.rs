//! The records read from the INPS answers: [`Indicatore`] and
//! [`Attestazione`], with their parts, and the DSU validity rule.
//!
//! Every record holding a codice fiscale, a name or an ISEE value has a
//! hand-written `Debug` that masks the code (as [`CodiceFiscale`]'s own
//! `Debug` does) and prints names and amounts as `<redacted>`.
//!
//! [`CodiceFiscale`]: crate::cf::CodiceFiscale

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::kind::IseeKind;
use super::money::{Euro, Scala};
use super::prestazioni::{PrestazioneDaErogare, StatoDomanda};
use crate::cf::AnyCodiceFiscale;
use crate::dsu::DsuProtocol;

/// Prints `<redacted>` in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

fn redact<T>(v: &Option<T>) -> Option<Redacted> {
    v.as_ref().map(|_| Redacted)
}

/// The last day a DSU presented on `presented_on` is valid.
///
/// - Presented from 1 January 2020: 31 December of the same year (DL 34/2019
///   as amended by DL 101/2019; INPS message 3418/2019).
/// - Presented in 2019 (transitional, an assumption): up to 31 August 2019
///   for DSU presented by 31 August, 31 December 2019 afterwards.
/// - Presented before 2019: 15 January of the following year (DPCM 159/2013,
///   art. 10).
///
/// ```
/// use anist_core::isee::dsu_valid_until;
/// use chrono::NaiveDate;
/// let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
/// assert_eq!(dsu_valid_until(d(2025, 2, 10)), d(2025, 12, 31));
/// assert_eq!(dsu_valid_until(d(2018, 3, 1)), d(2019, 1, 15));
/// ```
pub fn dsu_valid_until(presented_on: NaiveDate) -> NaiveDate {
    let y = presented_on.year();
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(presented_on);
    if y >= 2020 {
        ymd(y, 12, 31)
    } else if y == 2019 {
        if presented_on <= ymd(2019, 8, 31) {
            ymd(2019, 8, 31)
        } else {
            ymd(2019, 12, 31)
        }
    } else {
        ymd(y + 1, 1, 15)
    }
}

/// The last day an ISEE corrente is valid, from the presentation of its
/// modulo sostitutivo: six months (INPS; reference §7.4, an assumption
/// to confirm: two months when based only on a change of employment).
/// The same day of the sixth month, or its last day when the month is
/// shorter (presented on 31 August: valid until 28/29 February).
///
/// The corrente never outlives its DSU: [`Attestazione::valid_until`] and
/// [`Indicatore::valid_until`] take the earlier of the two.
///
/// ```
/// use anist_core::isee::corrente_valid_until;
/// use chrono::NaiveDate;
/// let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
/// assert_eq!(corrente_valid_until(d(2026, 1, 15)), d(2026, 7, 15));
/// assert_eq!(corrente_valid_until(d(2026, 8, 31)), d(2027, 2, 28));
/// ```
pub fn corrente_valid_until(modulo_presented_on: NaiveDate) -> NaiveDate {
    modulo_presented_on
        .checked_add_months(chrono::Months::new(6))
        .unwrap_or(NaiveDate::MAX)
}

/// The values of an indicator: `Valori/@ISEE @ISE @ISR @ISP
/// @ScalaEquivalenza`. Only the ISEE is always present.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IseeValues {
    /// Indicatore della situazione economica equivalente.
    pub isee: Euro,
    /// Indicatore della situazione economica (ISR + 20% ISP).
    pub ise: Option<Euro>,
    /// Indicatore della situazione reddituale.
    pub isr: Option<Euro>,
    /// Indicatore della situazione patrimoniale.
    pub isp: Option<Euro>,
    /// Scala di equivalenza.
    pub scala: Option<Scala>,
}

impl fmt::Debug for IseeValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IseeValues")
            .field("isee", &Redacted)
            .field("ise", &redact(&self.ise))
            .field("isr", &redact(&self.isr))
            .field("isp", &redact(&self.isp))
            .field("scala", &redact(&self.scala))
            .finish()
    }
}

/// A person an indicator is computed for (a minor, a student, a
/// beneficiary of socio-sanitary benefits).
#[derive(Clone, PartialEq, Eq)]
pub struct Beneficiario {
    /// Codice fiscale.
    pub codice_fiscale: AnyCodiceFiscale,
    /// Surname, if given.
    pub surname: Option<String>,
    /// Given name, if given.
    pub name: Option<String>,
}

impl fmt::Debug for Beneficiario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Beneficiario")
            .field("codice_fiscale", &self.codice_fiscale)
            .field("surname", &redact(&self.surname))
            .field("name", &redact(&self.name))
            .finish()
    }
}

/// How an indicator of a beneficiary was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Calcolo {
    /// Computed on the section's own household (`Valori` of the section).
    Proprio,
    /// The same value as the ISEE ordinario (`ISEEOrd`).
    UgualeOrdinario,
    /// A non-cohabiting parent is attracted into the household
    /// (`ISEEMinAttr`, `ISEEUniAttr`).
    ComponenteAttratta,
    /// A non-cohabiting parent adds a component (`ISEEMinAgg`, `ISEEUniAgg`,
    /// `ISEEOrdAgg`, `ISEESocioSanResAgg`).
    ComponenteAggiuntiva,
    /// The student is attracted into a parent's household
    /// (`ISEEUniStudAttratto…`).
    StudenteAttratto,
    /// The indicator cannot be computed (`ISEENonCalcolabile`), e.g. the
    /// other parent's data are missing.
    NonCalcolabile,
}

/// One indicator of an attestazione: a kind, optionally for a given
/// beneficiary, with its values.
#[derive(Clone, PartialEq, Eq)]
pub struct IseeEntry {
    /// The kind of ISEE.
    pub kind: IseeKind,
    /// For whom, when the indicator is per person (minorenni, universitario,
    /// socio-sanitario residenziale); `None` for the whole household.
    pub beneficiary: Option<Beneficiario>,
    /// The ISEE value, when there is one (`None` when not computable).
    pub isee: Option<Euro>,
    /// The detailed values, when the section has them.
    pub values: Option<IseeValues>,
    /// `DataRilascio`: when INPS issued the indicator.
    pub issued_on: Option<NaiveDate>,
    /// How it was obtained.
    pub calcolo: Calcolo,
    /// Whether it is computed on the nucleo ristretto (section `Ridotto`).
    pub nucleo_ristretto: bool,
    /// The element the values were read from (e.g. `ISEEOrdinario`,
    /// `ISEEMinAgg`), for tracing.
    pub section: String,
}

impl fmt::Debug for IseeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IseeEntry")
            .field("kind", &self.kind)
            .field("beneficiary", &self.beneficiary)
            .field("isee", &redact(&self.isee))
            .field("values", &self.values)
            .field("issued_on", &self.issued_on)
            .field("calcolo", &self.calcolo)
            .field("nucleo_ristretto", &self.nucleo_ristretto)
            .field("section", &self.section)
            .finish()
    }
}

/// A member of the household (`NucleoFamiliare/ComponenteNucleo`).
#[derive(Clone, PartialEq, Eq)]
pub struct ComponenteNucleo {
    /// Codice fiscale.
    pub codice_fiscale: AnyCodiceFiscale,
    /// Surname.
    pub surname: Option<String>,
    /// Given name.
    pub name: Option<String>,
    /// `RapportoConDichiarante`, the code of the relationship with the
    /// declarant as INPS writes it (`D` is the declarant; `C`, `F`, `FC`, `P`
    /// … are kept as found).
    pub relationship: Option<String>,
    /// `FlagAssenzaReddito`: the member declares no income.
    pub flag_assenza_reddito: Option<bool>,
}

impl ComponenteNucleo {
    /// Whether this member is the declarant (`RapportoConDichiarante="D"`).
    pub fn is_dichiarante(&self) -> bool {
        self.relationship.as_deref() == Some("D")
    }
}

impl fmt::Debug for ComponenteNucleo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponenteNucleo")
            .field("codice_fiscale", &self.codice_fiscale)
            .field("surname", &redact(&self.surname))
            .field("name", &redact(&self.name))
            .field("relationship", &self.relationship)
            .field("flag_assenza_reddito", &self.flag_assenza_reddito)
            .finish()
    }
}

/// A member of the nucleo ristretto (`NucleoRistretto/ComponenteNucleoRistretto`).
#[derive(Clone, PartialEq, Eq)]
pub struct ComponenteNucleoRistretto {
    /// Codice fiscale.
    pub codice_fiscale: AnyCodiceFiscale,
    /// Surname.
    pub surname: Option<String>,
    /// Given name.
    pub name: Option<String>,
    /// `RelazioneConBeneficiario`, as found.
    pub relationship: Option<String>,
}

impl fmt::Debug for ComponenteNucleoRistretto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponenteNucleoRistretto")
            .field("codice_fiscale", &self.codice_fiscale)
            .field("surname", &redact(&self.surname))
            .field("name", &redact(&self.name))
            .field("relationship", &self.relationship)
            .finish()
    }
}

/// A financial relationship (bank account, deposit, …) found omitted or
/// different by the Agenzia delle Entrate (`OmissioneDifformita/Rapporto`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Rapporto {
    /// `TipoRapporto`, as found.
    pub tipo: Option<String>,
    /// `Identificativo` of the relationship (e.g. an account number).
    pub identificativo: Option<String>,
    /// `CodiceFiscale` of the financial operator, as found.
    pub codice_fiscale_operatore: Option<String>,
    /// `DescrizioneOperatoreFinanziario`.
    pub operatore: Option<String>,
    /// `DataInizio`.
    pub data_inizio: Option<NaiveDate>,
    /// `DataFine`.
    pub data_fine: Option<NaiveDate>,
    /// `Saldo3112`: balance at 31 December.
    pub saldo_31_12: Option<Euro>,
    /// `Valore`.
    pub valore: Option<Euro>,
    /// `ConsistenzaMedia`: average balance.
    pub consistenza_media: Option<Euro>,
}

impl fmt::Debug for Rapporto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rapporto")
            .field("tipo", &self.tipo)
            .field("identificativo", &redact(&self.identificativo))
            .field(
                "codice_fiscale_operatore",
                &redact(&self.codice_fiscale_operatore),
            )
            .field("operatore", &self.operatore)
            .field("data_inizio", &self.data_inizio)
            .field("data_fine", &self.data_fine)
            .field("saldo_31_12", &redact(&self.saldo_31_12))
            .field("valore", &redact(&self.valore))
            .field("consistenza_media", &redact(&self.consistenza_media))
            .finish()
    }
}

/// An omission or discrepancy found in the DSU by the checks of the Agenzia
/// delle Entrate (`OmissioneDifformita`). The ISEE is still issued, but the
/// ente may ask for documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct OmissioneDifformita {
    /// The member concerned.
    pub codice_fiscale: Option<AnyCodiceFiscale>,
    /// `TipoOmissioneDifformita`, as found.
    pub tipo: Option<String>,
    /// `DataControlloAE`: when the Agenzia delle Entrate checked.
    pub data_controllo_ae: Option<NaiveDate>,
    /// The financial relationships concerned.
    pub rapporti: Vec<Rapporto>,
    /// Whether incomes known to the Agenzia delle Entrate are reported
    /// (`RedditoAE`).
    pub reddito_ae: bool,
}

impl fmt::Debug for OmissioneDifformita {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OmissioneDifformita")
            .field("codice_fiscale", &self.codice_fiscale)
            .field("tipo", &self.tipo)
            .field("data_controllo_ae", &self.data_controllo_ae)
            .field("rapporti", &self.rapporti)
            .field("reddito_ae", &self.reddito_ae)
            .finish()
    }
}

/// A discrepancy contested on the DSU (`Variazione/DiscordanzeContestazione`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discordanza {
    /// `CDDiscordanza`.
    pub codice: Option<String>,
    /// `TipologiaDiscordanza`.
    pub tipologia: Option<String>,
    /// `SpecificaDiscordanza`.
    pub specifica: Option<String>,
}

/// A change of the attestazione (`Variazione`): a rettifica, or discrepancies
/// contested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variazione {
    /// `Tipovariazione`, as found.
    pub tipo: Option<String>,
    /// `DataVariazione`.
    pub data: Option<NaiveDate>,
    /// `NumeroProtocolloDSUVariata`: the DSU that was changed.
    pub protocollo_dsu_variata: Option<DsuProtocol>,
    /// `DiscordanzeContestazione` items.
    pub discordanze: Vec<Discordanza>,
}

/// The ISEE corrente data of an attestazione (`Ordinario/@Corrente` and the
/// modulo sostitutivo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrente {
    /// `DataPresentazioneModuloSostitutivo`.
    pub modulo_presented_on: Option<NaiveDate>,
    /// `ProtocolloDSUModuloSostitutivo`, as found.
    pub modulo_protocol: Option<String>,
}

/// How a request looked the ISEE up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RicercaKind {
    /// `RicercaCF`: by codice fiscale.
    CodiceFiscale,
    /// `RicercaProtDSU`: by DSU protocol (the Riscontro services).
    ProtocolloDsu,
    /// `RicercaProtMittente`: by the sender's protocol.
    ProtocolloMittente,
}

/// The request as echoed by INPS (`Ricerca/RicercaCF`, `RicercaProtDSU`,
/// `RicercaProtMittente`).
#[derive(Clone, PartialEq, Eq)]
pub struct Ricerca {
    /// How the request looked the ISEE up.
    pub kind: RicercaKind,
    /// `CodiceFiscale` or `CodiceFiscaleBeneficiario`.
    pub codice_fiscale: Option<AnyCodiceFiscale>,
    /// `DataValidita`: the date the ISEE was asked for.
    pub data_validita: Option<NaiveDate>,
    /// `PrestazioneDaErogare`, as found (see [`Ricerca::prestazione`]).
    pub prestazione_da_erogare: Option<String>,
    /// `ProtocolloDomandaEnteErogatore`: the ente's own application number.
    pub protocollo_domanda: Option<String>,
    /// `StatodomandaPrestazione`, as found (see [`Ricerca::stato_domanda`]).
    pub stato_domanda: Option<String>,
    /// `ProtocolloDSU`.
    pub protocollo_dsu: Option<DsuProtocol>,
    /// `ProtocolloMittente`.
    pub protocollo_mittente: Option<String>,
}

impl Ricerca {
    /// The benefit code, if it is one of the table.
    pub fn prestazione(&self) -> Option<PrestazioneDaErogare> {
        self.prestazione_da_erogare
            .as_deref()
            .and_then(|s| PrestazioneDaErogare::parse(s).ok())
    }

    /// The state of the application, if recognised.
    pub fn stato_domanda(&self) -> Option<StatoDomanda> {
        self.stato_domanda.as_deref().and_then(StatoDomanda::parse)
    }
}

impl fmt::Debug for Ricerca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ricerca")
            .field("kind", &self.kind)
            .field("codice_fiscale", &self.codice_fiscale)
            .field("data_validita", &self.data_validita)
            .field("prestazione_da_erogare", &self.prestazione_da_erogare)
            .field("protocollo_domanda", &self.protocollo_domanda)
            .field("stato_domanda", &self.stato_domanda)
            .field("protocollo_dsu", &self.protocollo_dsu)
            .field("protocollo_mittente", &self.protocollo_mittente)
            .finish()
    }
}

/// The answer of the Indicatore services (`Indicatore` element of
/// `http://inps.it/ISEERiforma`).
#[derive(Clone, PartialEq, Eq)]
pub struct Indicatore {
    /// `TipoIndicatore`.
    pub kind: Option<IseeKind>,
    /// The values (`@ISEE`, `@ISE`, `@ISR`, `@ISP`, `@ScalaEquivalenza`).
    pub values: IseeValues,
    /// `ProtocolloDSU`.
    pub protocollo_dsu: Option<DsuProtocol>,
    /// `DataPresentazione` of the DSU.
    pub presented_on: Option<NaiveDate>,
    /// `DataScadenzaDSUCorrente`: for an ISEE corrente (`TipoIndicatore`
    /// `Corrente`), its last day of validity, when INPS writes it.
    pub corrente_valid_until: Option<NaiveDate>,
    /// The request as echoed.
    pub ricerca: Option<Ricerca>,
    /// The household, when the service returns it (Nucleo Riscontro).
    pub household: Vec<ComponenteNucleo>,
    /// The document as received, decoded to UTF-8 (never shown by `Debug`).
    pub raw_xml: String,
}

impl Indicatore {
    /// The ISEE value.
    pub fn isee(&self) -> Euro {
        self.values.isee
    }

    /// Whether the indicator is an ISEE corrente.
    pub fn is_corrente(&self) -> bool {
        self.kind == Some(IseeKind::Corrente)
    }

    /// The last day of validity of an ISEE corrente:
    /// `DataScadenzaDSUCorrente` when given, otherwise
    /// [`corrente_valid_until`] of the DSU's presentation date (the
    /// indicator does not carry the modulo sostitutivo's date, which is
    /// never earlier: the expiry may come out early, never late). `None`
    /// for other kinds.
    pub fn corrente_expires_on(&self) -> Option<NaiveDate> {
        if !self.is_corrente() {
            return None;
        }
        self.corrente_valid_until
            .or_else(|| self.presented_on.map(corrente_valid_until))
    }

    /// The last day of validity: of the DSU ([`dsu_valid_until`] of the
    /// presentation date), or, for an ISEE corrente, of the corrente
    /// ([`corrente_expires_on`](Self::corrente_expires_on)) when earlier;
    /// `None` when the presentation date is not given.
    pub fn valid_until(&self) -> Option<NaiveDate> {
        let dsu = self.presented_on.map(dsu_valid_until)?;
        Some(match self.corrente_expires_on() {
            Some(c) => dsu.min(c),
            None => dsu,
        })
    }

    /// Whether the indicator is valid on `date`: presented on or before
    /// it, and `date` within [`valid_until`](Self::valid_until) (six months
    /// for an ISEE corrente). `false` when the presentation date is not
    /// given.
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        match (self.presented_on, self.valid_until()) {
            (Some(from), Some(to)) => from <= date && date <= to,
            _ => false,
        }
    }
}

impl fmt::Debug for Indicatore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Indicatore")
            .field("kind", &self.kind)
            .field("values", &self.values)
            .field("protocollo_dsu", &self.protocollo_dsu)
            .field("presented_on", &self.presented_on)
            .field("corrente_valid_until", &self.corrente_valid_until)
            .field("ricerca", &self.ricerca)
            .field("household", &self.household)
            .field("raw_xml", &format_args!("<{} bytes>", self.raw_xml.len()))
            .finish()
    }
}

/// The answer of the Attestazione services (`EsitoAttestazione/Attestazione`
/// of `http://inps.it/ISEERiforma`): the DSU, the household and every
/// indicator INPS computed for it.
#[derive(Clone, PartialEq, Eq)]
pub struct Attestazione {
    /// `CodiceFiscaleDichiarante`.
    pub dichiarante: AnyCodiceFiscale,
    /// `NumeroProtocolloDSU`.
    pub protocollo_dsu: DsuProtocol,
    /// `ProtocolloMittente` (e.g. the CAF's protocol).
    pub protocollo_mittente: Option<String>,
    /// `DataPresentazione` of the DSU.
    pub presented_on: NaiveDate,
    /// `DataValidita`: the last day of validity, as INPS writes it.
    pub data_validita: Option<NaiveDate>,
    /// `DataScadenzaDSUCorrente`: the last day of validity of the ISEE
    /// corrente.
    pub corrente_valid_until: Option<NaiveDate>,
    /// Set when the attestazione is an ISEE corrente.
    pub corrente: Option<Corrente>,
    /// The household (`Ordinario/NucleoFamiliare`).
    pub household: Vec<ComponenteNucleo>,
    /// The nucleo ristretto (`Ridotto/NucleoRistretto`), if any.
    pub nucleo_ristretto: Vec<ComponenteNucleoRistretto>,
    /// Every indicator, in document order.
    pub entries: Vec<IseeEntry>,
    /// Omissions and discrepancies found by the Agenzia delle Entrate.
    pub omissioni_difformita: Vec<OmissioneDifformita>,
    /// A change of the attestazione, if any.
    pub variazione: Option<Variazione>,
    /// The request as echoed (`Ricerca`).
    pub ricerca: Option<Ricerca>,
    /// The document as received, decoded to UTF-8 (never shown by `Debug`).
    pub raw_xml: String,
}

impl Attestazione {
    /// The household's main indicator: the ISEE ordinario, or the ISEE
    /// corrente that replaces it.
    pub fn headline(&self) -> Option<&IseeEntry> {
        self.entries.iter().find(|e| {
            e.beneficiary.is_none()
                && !e.nucleo_ristretto
                && matches!(e.kind, IseeKind::Ordinario | IseeKind::Corrente)
        })
    }

    /// The ISEE of [`headline`](Self::headline).
    pub fn isee(&self) -> Option<Euro> {
        self.headline().and_then(|e| e.isee)
    }

    /// Every indicator of a kind.
    pub fn entries_of(&self, kind: &IseeKind) -> impl Iterator<Item = &IseeEntry> + '_ {
        let kind = kind.clone();
        self.entries.iter().filter(move |e| e.kind == kind)
    }

    /// The ISEE of a kind for a person.
    ///
    /// For per-person kinds (minorenni, universitario, …) the entry of that
    /// beneficiary; for household kinds (ordinario, corrente, ristretto) the
    /// household entry, if the person is a member. `None` when there is no
    /// such entry or its value is not computable.
    pub fn isee_for(&self, kind: &IseeKind, person: &AnyCodiceFiscale) -> Option<Euro> {
        let per_person = self
            .entries_of(kind)
            .find(|e| e.beneficiary.as_ref().map(|b| &b.codice_fiscale) == Some(person));
        if let Some(e) = per_person {
            return e.isee;
        }
        let member = self.household.iter().any(|m| &m.codice_fiscale == person)
            || self
                .nucleo_ristretto
                .iter()
                .any(|m| &m.codice_fiscale == person);
        if !member {
            return None;
        }
        self.entries_of(kind)
            .find(|e| e.beneficiary.is_none())
            .and_then(|e| e.isee)
    }

    /// The distinct kinds present, in document order.
    pub fn kinds(&self) -> Vec<IseeKind> {
        let mut out: Vec<IseeKind> = Vec::new();
        for e in &self.entries {
            if !out.contains(&e.kind) {
                out.push(e.kind.clone());
            }
        }
        out
    }

    /// Number of household members (count of `ComponenteNucleo`).
    pub fn household_size(&self) -> usize {
        self.household.len()
    }

    /// The household member with this codice fiscale.
    pub fn member(&self, cf: &AnyCodiceFiscale) -> Option<&ComponenteNucleo> {
        self.household.iter().find(|m| &m.codice_fiscale == cf)
    }

    /// Whether the attestazione reports omissions or discrepancies.
    pub fn has_omissioni_difformita(&self) -> bool {
        !self.omissioni_difformita.is_empty()
    }

    /// Whether it is an ISEE corrente.
    pub fn is_corrente(&self) -> bool {
        self.corrente.is_some()
    }

    /// The last day of validity of the DSU: `DataValidita` when INPS gives
    /// it, otherwise [`dsu_valid_until`] of the presentation date. For an
    /// ISEE corrente see [`valid_until`](Self::valid_until).
    pub fn dsu_valid_until(&self) -> NaiveDate {
        self.data_validita
            .unwrap_or_else(|| dsu_valid_until(self.presented_on))
    }

    /// The last day of validity of an ISEE corrente:
    /// `DataScadenzaDSUCorrente` when INPS gives it, otherwise six months
    /// from the modulo sostitutivo ([`corrente_valid_until`]; from the DSU
    /// when the modulo's date is missing). `None` when not a corrente.
    pub fn corrente_expires_on(&self) -> Option<NaiveDate> {
        let c = self.corrente.as_ref()?;
        Some(self.corrente_valid_until.unwrap_or_else(|| {
            corrente_valid_until(c.modulo_presented_on.unwrap_or(self.presented_on))
        }))
    }

    /// The last day the attestazione's headline ISEE is valid: the DSU's
    /// ([`dsu_valid_until`](Self::dsu_valid_until)), or, for an ISEE
    /// corrente, the corrente's when earlier
    /// ([`corrente_expires_on`](Self::corrente_expires_on)): a corrente
    /// presented in January is valid until July, not 31 December.
    pub fn valid_until(&self) -> NaiveDate {
        let dsu = self.dsu_valid_until();
        match self.corrente_expires_on() {
            Some(c) => dsu.min(c),
            None => dsu,
        }
    }

    /// Whether the attestazione is valid on `date`: presented on or before
    /// it and `date` within [`valid_until`](Self::valid_until) (for an
    /// ISEE corrente: within six months, or `DataScadenzaDSUCorrente`).
    ///
    /// The date is passed in, never read from the clock.
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.presented_on <= date && date <= self.valid_until()
    }
}

impl fmt::Debug for Attestazione {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attestazione")
            .field("dichiarante", &self.dichiarante)
            .field("protocollo_dsu", &self.protocollo_dsu)
            .field("protocollo_mittente", &self.protocollo_mittente)
            .field("presented_on", &self.presented_on)
            .field("data_validita", &self.data_validita)
            .field("corrente_valid_until", &self.corrente_valid_until)
            .field("corrente", &self.corrente)
            .field("household", &self.household)
            .field("nucleo_ristretto", &self.nucleo_ristretto)
            .field("entries", &self.entries)
            .field("omissioni_difformita", &self.omissioni_difformita)
            .field("variazione", &self.variazione)
            .field("ricerca", &self.ricerca)
            .field("raw_xml", &format_args!("<{} bytes>", self.raw_xml.len()))
            .finish()
    }
}

/// The outcome of an INPS ISEE SOAP call (`Esito`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Esito {
    /// `OK`: the inner document follows.
    Ok,
    /// `RICHIESTA_INVALIDA`: the request was rejected.
    RichiestaInvalida,
    /// `DATI_NON_TROVATI`: no ISEE for that person / date (not an error of
    /// the call).
    DatiNonTrovati,
    /// `DATABASE_OFFLINE`: temporary, retryable.
    DatabaseOffline,
    /// `ERRORE_INTERNO`: INPS internal error, retryable.
    ErroreInterno,
    /// `RISCONTRO_NON_VALIDO`: the DSU protocol does not match the person.
    RiscontroNonValido,
    /// Any other value, as found.
    Other(String),
}

impl Esito {
    /// Parses the wire value (trimmed, case-insensitive); never fails.
    pub fn parse(s: &str) -> Esito {
        let t = s.trim();
        match t.to_ascii_uppercase().as_str() {
            "OK" => Esito::Ok,
            "RICHIESTA_INVALIDA" => Esito::RichiestaInvalida,
            "DATI_NON_TROVATI" => Esito::DatiNonTrovati,
            "DATABASE_OFFLINE" => Esito::DatabaseOffline,
            "ERRORE_INTERNO" => Esito::ErroreInterno,
            "RISCONTRO_NON_VALIDO" => Esito::RiscontroNonValido,
            _ => Esito::Other(t.to_string()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Esito::Ok => "OK",
            Esito::RichiestaInvalida => "RICHIESTA_INVALIDA",
            Esito::DatiNonTrovati => "DATI_NON_TROVATI",
            Esito::DatabaseOffline => "DATABASE_OFFLINE",
            Esito::ErroreInterno => "ERRORE_INTERNO",
            Esito::RiscontroNonValido => "RISCONTRO_NON_VALIDO",
            Esito::Other(s) => s,
        }
    }

    /// Whether asking again later may succeed (`DATABASE_OFFLINE`,
    /// `ERRORE_INTERNO`).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Esito::DatabaseOffline | Esito::ErroreInterno)
    }
}

impl fmt::Display for Esito {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn dsu_validity_rule() {
        assert_eq!(dsu_valid_until(d(2020, 1, 1)), d(2020, 12, 31));
        assert_eq!(dsu_valid_until(d(2020, 12, 31)), d(2020, 12, 31));
        assert_eq!(dsu_valid_until(d(2026, 11, 23)), d(2026, 12, 31));
        assert_eq!(dsu_valid_until(d(2019, 1, 10)), d(2019, 8, 31));
        assert_eq!(dsu_valid_until(d(2019, 8, 31)), d(2019, 8, 31));
        assert_eq!(dsu_valid_until(d(2019, 9, 1)), d(2019, 12, 31));
        assert_eq!(dsu_valid_until(d(2015, 1, 1)), d(2016, 1, 15));
        assert_eq!(dsu_valid_until(d(2018, 12, 31)), d(2019, 1, 15));
    }

    #[test]
    fn esito() {
        for s in [
            "OK",
            "RICHIESTA_INVALIDA",
            "DATI_NON_TROVATI",
            "DATABASE_OFFLINE",
            "ERRORE_INTERNO",
            "RISCONTRO_NON_VALIDO",
        ] {
            let e = Esito::parse(s);
            assert!(!matches!(e, Esito::Other(_)), "{s}");
            assert_eq!(e.as_str(), s);
            assert_eq!(Esito::parse(&s.to_lowercase()), e);
        }
        assert_eq!(Esito::parse(" ok "), Esito::Ok);
        assert_eq!(Esito::parse("BOH"), Esito::Other("BOH".into()));
        assert!(Esito::DatabaseOffline.is_retryable());
        assert!(Esito::ErroreInterno.is_retryable());
        assert!(!Esito::DatiNonTrovati.is_retryable());
        assert!(!Esito::Ok.is_retryable());
    }
}
