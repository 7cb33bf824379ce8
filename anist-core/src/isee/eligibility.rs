//! Who may use which of the eight INPS ISEE e-services on PDND, from INPS
//! message 3269 of 30 October 2025 ("Welfare as a Service").
//!
//! | services | who | what they need |
//! |---|---|---|
//! | Indicatore / Attestazione **Operatori** | the seven IPA category groups | operator with SPID ≥ L2 or CIE 3.0, the SPID/CIE assertion sent to INPS, INPS enablement of the operator (modulo MV62) |
//! | Indicatore / Attestazione **Residenti** | Comuni only | none beyond PDND: no client certificate; INPS answers only for households resident in the Comune |
//! | Indicatore **Riscontro** / Indicatore **Nucleo Riscontro** | the seven groups | the DSU protocol as check datum; no client certificate |
//! | Indicatore / Attestazione (plain) | the seven groups, but among Comuni only the capoluoghi di provincia | the INPS client certificate |
//!
//! The seven groups: Comuni and their consortia and associations; Regioni,
//! Province autonome and their consortia and associations; ASL; Università;
//! AFAM; enti per il diritto allo studio universitario; aziende e consorzi per
//! l'edilizia residenziale. Every service also needs the ente's accreditation
//! to PDND (adhesion agreement).
//!
//! Interpretation where the message is silent: the capoluogo restriction of
//! the plain services is read as covering the whole "Comuni" category, so
//! consortia and associations of Comuni are refused too
//! ([`EligibilityRule::PlainOnlyCapoluoghi`]); the Residenti services are
//! "riservati ai Comuni", so consortia of Comuni are refused there
//! ([`EligibilityRule::ResidentiOnlyComuni`]).
//!
//! ```
//! use anist_core::isee::{check_eligibility, IpaCategory, IseeService, Requirement};
//! use anist_core::ErrorCode;
//!
//! let reqs = check_eligibility(IpaCategory::Comune, IseeService::IndicatoreResidenti)?;
//! assert!(reqs.contains(&Requirement::ResidenceCheck));
//! assert!(!reqs.contains(&Requirement::ClientCertificate));
//!
//! let refused = check_eligibility(IpaCategory::Comune, IseeService::Indicatore).unwrap_err();
//! assert_eq!(refused.code(), "isee_not_eligible");
//! assert_eq!(refused.rule.code(), "plain_only_capoluoghi");
//! assert_eq!(refused.alternatives[0], IseeService::IndicatoreResidenti);
//! # Ok::<(), anist_core::isee::NotEligible>(())
//! ```

use std::fmt;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// A category of the IPA catalogue (Indice dei domicili digitali della PA),
/// as grouped by INPS message 3269/2025.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpaCategory {
    /// A Comune that is not a capoluogo di provincia.
    Comune,
    /// A Comune capoluogo di provincia.
    ComuneCapoluogo,
    /// A consortium or association of Comuni (e.g. an Unione di Comuni).
    ConsorzioComuni,
    /// A Regione or a Provincia autonoma.
    RegioneProvinciaAutonoma,
    /// A consortium or association of Regioni / Province autonome.
    ConsorzioRegioni,
    /// An Azienda Sanitaria Locale.
    Asl,
    /// A public Università or istituto di istruzione universitaria.
    Universita,
    /// An Istituzione per l'Alta Formazione Artistica, Musicale e Coreutica.
    Afam,
    /// An agenzia, ente or consorzio pubblico per il diritto allo studio
    /// universitario.
    DirittoStudio,
    /// An azienda or consorzio pubblico territoriale per l'edilizia
    /// residenziale.
    EdiliziaResidenziale,
    /// Any other category of the IPA catalogue (ministries, schools, …): not
    /// admitted to the ISEE services.
    Altro,
}

impl IpaCategory {
    /// Every category.
    pub const ALL: [IpaCategory; 11] = [
        IpaCategory::Comune,
        IpaCategory::ComuneCapoluogo,
        IpaCategory::ConsorzioComuni,
        IpaCategory::RegioneProvinciaAutonoma,
        IpaCategory::ConsorzioRegioni,
        IpaCategory::Asl,
        IpaCategory::Universita,
        IpaCategory::Afam,
        IpaCategory::DirittoStudio,
        IpaCategory::EdiliziaResidenziale,
        IpaCategory::Altro,
    ];

    /// A stable identifier (`comune`, `comune_capoluogo`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            IpaCategory::Comune => "comune",
            IpaCategory::ComuneCapoluogo => "comune_capoluogo",
            IpaCategory::ConsorzioComuni => "consorzio_comuni",
            IpaCategory::RegioneProvinciaAutonoma => "regione_provincia_autonoma",
            IpaCategory::ConsorzioRegioni => "consorzio_regioni",
            IpaCategory::Asl => "asl",
            IpaCategory::Universita => "universita",
            IpaCategory::Afam => "afam",
            IpaCategory::DirittoStudio => "diritto_studio",
            IpaCategory::EdiliziaResidenziale => "edilizia_residenziale",
            IpaCategory::Altro => "altro",
        }
    }

    /// Parses [`as_str`](Self::as_str) identifiers (case-insensitive).
    pub fn parse(s: &str) -> Option<IpaCategory> {
        let s = s.trim();
        IpaCategory::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    /// The Italian description.
    pub fn label_it(self) -> &'static str {
        match self {
            IpaCategory::Comune => "Comune (non capoluogo di provincia)",
            IpaCategory::ComuneCapoluogo => "Comune capoluogo di provincia",
            IpaCategory::ConsorzioComuni => "Consorzio o associazione di Comuni",
            IpaCategory::RegioneProvinciaAutonoma => "Regione o Provincia autonoma",
            IpaCategory::ConsorzioRegioni => {
                "Consorzio o associazione di Regioni o Province autonome"
            }
            IpaCategory::Asl => "Azienda Sanitaria Locale",
            IpaCategory::Universita => "Università o istituto di istruzione universitaria pubblica",
            IpaCategory::Afam => "Istituzione AFAM",
            IpaCategory::DirittoStudio => {
                "Agenzia, ente o consorzio pubblico per il diritto allo studio universitario"
            }
            IpaCategory::EdiliziaResidenziale => {
                "Azienda o consorzio pubblico territoriale per l'edilizia residenziale"
            }
            IpaCategory::Altro => "Altra categoria IPA",
        }
    }

    /// Whether the category is a Comune (capoluogo or not).
    pub fn is_comune(self) -> bool {
        matches!(self, IpaCategory::Comune | IpaCategory::ComuneCapoluogo)
    }

    /// Whether the category is one of the seven groups admitted to the ISEE
    /// services at all.
    pub fn is_admitted(self) -> bool {
        self != IpaCategory::Altro
    }
}

impl fmt::Display for IpaCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_it())
    }
}

/// One of the eight INPS ISEE e-services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IseeService {
    /// Consultazione Indicatore ISEE Operatori.
    IndicatoreOperatori,
    /// Consultazione Attestazione ISEE Operatori.
    AttestazioneOperatori,
    /// Consultazione Indicatore Residenti ISEE.
    IndicatoreResidenti,
    /// Consultazione Attestazione Residenti ISEE.
    AttestazioneResidenti,
    /// Consultazione Indicatore Riscontro ISEE.
    IndicatoreRiscontro,
    /// Consultazione Indicatore Nucleo Riscontro ISEE.
    IndicatoreNucleoRiscontro,
    /// Consultazione Indicatore ISEE (plain).
    Indicatore,
    /// Consultazione Attestazione ISEE (plain).
    Attestazione,
}

/// The four flavours the eight services come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceFamily {
    /// Operator-authenticated services.
    Operatori,
    /// Services reserved to Comuni for their residents.
    Residenti,
    /// Services checked with the DSU protocol.
    Riscontro,
    /// The plain services, with the INPS client certificate.
    Plain,
}

impl IseeService {
    /// The eight services.
    pub const ALL: [IseeService; 8] = [
        IseeService::IndicatoreOperatori,
        IseeService::AttestazioneOperatori,
        IseeService::IndicatoreResidenti,
        IseeService::AttestazioneResidenti,
        IseeService::IndicatoreRiscontro,
        IseeService::IndicatoreNucleoRiscontro,
        IseeService::Indicatore,
        IseeService::Attestazione,
    ];

    /// The name of the e-service in the PDND catalogue.
    pub fn name_it(self) -> &'static str {
        match self {
            IseeService::IndicatoreOperatori => "Consultazione Indicatore ISEE Operatori",
            IseeService::AttestazioneOperatori => "Consultazione Attestazione ISEE Operatori",
            IseeService::IndicatoreResidenti => "Consultazione Indicatore Residenti ISEE",
            IseeService::AttestazioneResidenti => "Consultazione Attestazione Residenti ISEE",
            IseeService::IndicatoreRiscontro => "Consultazione Indicatore Riscontro ISEE",
            IseeService::IndicatoreNucleoRiscontro => {
                "Consultazione Indicatore Nucleo Riscontro ISEE"
            }
            IseeService::Indicatore => "Consultazione Indicatore ISEE",
            IseeService::Attestazione => "Consultazione Attestazione ISEE",
        }
    }

    /// A stable identifier (`indicatore_operatori`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            IseeService::IndicatoreOperatori => "indicatore_operatori",
            IseeService::AttestazioneOperatori => "attestazione_operatori",
            IseeService::IndicatoreResidenti => "indicatore_residenti",
            IseeService::AttestazioneResidenti => "attestazione_residenti",
            IseeService::IndicatoreRiscontro => "indicatore_riscontro",
            IseeService::IndicatoreNucleoRiscontro => "indicatore_nucleo_riscontro",
            IseeService::Indicatore => "indicatore",
            IseeService::Attestazione => "attestazione",
        }
    }

    /// Parses [`as_str`](Self::as_str) identifiers (case-insensitive).
    pub fn parse(s: &str) -> Option<IseeService> {
        let s = s.trim();
        IseeService::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    /// The SOAP operation. `ConsultazioneIndicatore`,
    /// `ConsultazioneAttestazione` and `ConsultazioneAttestazioneResidenti`
    /// are documented; the others follow the same pattern (assumption U11 of
    /// the protocol notes).
    pub fn operation(self) -> &'static str {
        match self {
            IseeService::IndicatoreOperatori => "ConsultazioneIndicatoreOperatori",
            IseeService::AttestazioneOperatori => "ConsultazioneAttestazioneOperatori",
            IseeService::IndicatoreResidenti => "ConsultazioneIndicatoreResidenti",
            IseeService::AttestazioneResidenti => "ConsultazioneAttestazioneResidenti",
            IseeService::IndicatoreRiscontro => "ConsultazioneIndicatoreRiscontro",
            IseeService::IndicatoreNucleoRiscontro => "ConsultazioneIndicatoreNucleoRiscontro",
            IseeService::Indicatore => "ConsultazioneIndicatore",
            IseeService::Attestazione => "ConsultazioneAttestazione",
        }
    }

    /// The production e-service id in the PDND catalogue, where known.
    pub fn eservice_id(self) -> Option<&'static str> {
        match self {
            IseeService::IndicatoreOperatori => None,
            IseeService::AttestazioneOperatori => Some("198ac93e-9b84-4f88-a663-b343025cebfe"),
            IseeService::IndicatoreResidenti => Some("9d9fc812-0410-4ceb-a062-a987e3eb79fa"),
            IseeService::AttestazioneResidenti => Some("2303d392-6b30-462b-a9e6-6fe99498cc53"),
            IseeService::IndicatoreRiscontro => Some("7950aa09-8155-4f8b-a882-22f3fe6d7d44"),
            IseeService::IndicatoreNucleoRiscontro => Some("b78673b5-125e-4d74-b496-4c7d0911f0b2"),
            IseeService::Indicatore => Some("8ffc6245-0ab1-4e2e-8423-6e1a855c320a"),
            IseeService::Attestazione => Some("843ac013-941a-4afe-8243-e668142e73e6"),
        }
    }

    /// The flavour of the service.
    pub fn family(self) -> ServiceFamily {
        match self {
            IseeService::IndicatoreOperatori | IseeService::AttestazioneOperatori => {
                ServiceFamily::Operatori
            }
            IseeService::IndicatoreResidenti | IseeService::AttestazioneResidenti => {
                ServiceFamily::Residenti
            }
            IseeService::IndicatoreRiscontro | IseeService::IndicatoreNucleoRiscontro => {
                ServiceFamily::Riscontro
            }
            IseeService::Indicatore | IseeService::Attestazione => ServiceFamily::Plain,
        }
    }

    /// Whether the answer is a whole attestazione (otherwise an indicatore).
    pub fn returns_attestazione(self) -> bool {
        matches!(
            self,
            IseeService::AttestazioneOperatori
                | IseeService::AttestazioneResidenti
                | IseeService::Attestazione
        )
    }

    /// What an ente must have or do to use the service (when its category
    /// is admitted).
    pub fn requirements(self) -> &'static [Requirement] {
        match self.family() {
            ServiceFamily::Operatori => &[
                Requirement::PdndAdhesion,
                Requirement::OperatorSpidL2OrCie3,
                Requirement::OperatorAssertion,
                Requirement::OperatorEnablementMv62,
            ],
            ServiceFamily::Residenti => &[Requirement::PdndAdhesion, Requirement::ResidenceCheck],
            ServiceFamily::Riscontro => &[
                Requirement::PdndAdhesion,
                Requirement::DsuProtocolCheckDatum,
            ],
            ServiceFamily::Plain => &[Requirement::PdndAdhesion, Requirement::ClientCertificate],
        }
    }

    /// The services to suggest instead of this one when it is refused, in
    /// order of preference (before filtering by the category).
    fn candidates(self) -> &'static [IseeService] {
        match self {
            IseeService::Indicatore => &[
                IseeService::IndicatoreResidenti,
                IseeService::IndicatoreOperatori,
                IseeService::IndicatoreRiscontro,
            ],
            IseeService::Attestazione => &[
                IseeService::AttestazioneResidenti,
                IseeService::AttestazioneOperatori,
            ],
            IseeService::IndicatoreResidenti => &[
                IseeService::IndicatoreOperatori,
                IseeService::IndicatoreRiscontro,
                IseeService::Indicatore,
            ],
            IseeService::AttestazioneResidenti => &[
                IseeService::AttestazioneOperatori,
                IseeService::Attestazione,
            ],
            // The Operatori and Riscontro services are open to every admitted
            // category: refusing them means the category is not admitted and
            // nothing else is open either.
            _ => &[],
        }
    }
}

impl fmt::Display for IseeService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_it())
    }
}

/// Something an ente must have or do to use a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Accreditation to PDND with the adhesion agreement (all services).
    PdndAdhesion,
    /// The operator authenticates with SPID level 2 or higher, or CIE 3.0.
    OperatorSpidL2OrCie3,
    /// The SPID / CIE assertion of the operator's authentication is sent to
    /// INPS with the request.
    OperatorAssertion,
    /// The operator holds the INPS enablement to consult the ISEE database
    /// (requested with modulo MV62 to the local INPS office).
    OperatorEnablementMv62,
    /// The ente holds the client authentication certificate issued by INPS.
    ClientCertificate,
    /// INPS answers only for households resident in the Comune (checked on
    /// the Comune of residence declared in the DSU).
    ResidenceCheck,
    /// The DSU protocol of the person is sent as the check datum (dato di
    /// riscontro).
    DsuProtocolCheckDatum,
}

impl Requirement {
    /// A stable identifier.
    pub fn code(self) -> &'static str {
        match self {
            Requirement::PdndAdhesion => "pdnd_adhesion",
            Requirement::OperatorSpidL2OrCie3 => "operator_spid_l2_or_cie3",
            Requirement::OperatorAssertion => "operator_assertion",
            Requirement::OperatorEnablementMv62 => "operator_enablement_mv62",
            Requirement::ClientCertificate => "client_certificate",
            Requirement::ResidenceCheck => "residence_check",
            Requirement::DsuProtocolCheckDatum => "dsu_protocol_check_datum",
        }
    }

    /// An Italian description.
    pub fn description_it(self) -> &'static str {
        match self {
            Requirement::PdndAdhesion => "accreditamento alla PDND con accordo di adesione",
            Requirement::OperatorSpidL2OrCie3 => {
                "operatore autenticato con SPID almeno di livello 2 o CIE 3.0"
            }
            Requirement::OperatorAssertion => {
                "invio all'INPS dell'asserzione SPID o CIE dell'autenticazione dell'operatore"
            }
            Requirement::OperatorEnablementMv62 => {
                "abilitazione dell'operatore alla consultazione della banca dati ISEE (modulo MV62)"
            }
            Requirement::ClientCertificate => {
                "certificato digitale di autenticazione client emesso dall'INPS"
            }
            Requirement::ResidenceCheck => {
                "solo nuclei residenti nel Comune (verifica sul modello base della DSU)"
            }
            Requirement::DsuProtocolCheckDatum => "protocollo della DSU come dato di riscontro",
        }
    }
}

/// The rule that refuses a category a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EligibilityRule {
    /// The category is none of the seven admitted groups.
    CategoryNotAdmitted,
    /// The Residenti services are reserved to Comuni.
    ResidentiOnlyComuni,
    /// Among Comuni, only capoluoghi di provincia may use the plain services.
    PlainOnlyCapoluoghi,
}

impl EligibilityRule {
    /// A stable identifier: `category_not_admitted`, `residenti_only_comuni`,
    /// `plain_only_capoluoghi`.
    pub fn code(self) -> &'static str {
        match self {
            EligibilityRule::CategoryNotAdmitted => "category_not_admitted",
            EligibilityRule::ResidentiOnlyComuni => "residenti_only_comuni",
            EligibilityRule::PlainOnlyCapoluoghi => "plain_only_capoluoghi",
        }
    }

    /// Why, in words.
    pub fn reason(self) -> &'static str {
        match self {
            EligibilityRule::CategoryNotAdmitted => {
                "the IPA category is not among those admitted to the ISEE services"
            }
            EligibilityRule::ResidentiOnlyComuni => "the Residenti services are reserved to Comuni",
            EligibilityRule::PlainOnlyCapoluoghi => {
                "among Comuni, only capoluoghi di provincia may use the plain Indicatore / \
                 Attestazione services"
            }
        }
    }
}

/// A refusal: the category may not use the service. Code `isee_not_eligible`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotEligible {
    /// The category asking.
    pub category: IpaCategory,
    /// The service asked for.
    pub service: IseeService,
    /// The rule that refuses it.
    pub rule: EligibilityRule,
    /// Services this category may use instead, best first (empty when
    /// nothing is open to it).
    pub alternatives: Vec<IseeService>,
}

impl fmt::Display for NotEligible {
    /// E.g. `Comune (non capoluogo di provincia) may not use «Consultazione
    /// Indicatore ISEE»: among Comuni, only capoluoghi …; use instead
    /// «Consultazione Indicatore Residenti ISEE» or …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} may not use «{}»: {}",
            self.category,
            self.service,
            self.rule.reason()
        )?;
        for (i, s) in self.alternatives.iter().enumerate() {
            let sep = if i == 0 { "; use instead " } else { " or " };
            write!(f, "{sep}«{s}»")?;
        }
        Ok(())
    }
}

impl std::error::Error for NotEligible {}

impl NotEligible {
    /// The only code of this error.
    pub const CODES: &'static [&'static str] = &["isee_not_eligible"];
}

impl ErrorCode for NotEligible {
    fn code(&self) -> &'static str {
        "isee_not_eligible"
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::IseeNotEligible
    }
}

#[doc(hidden)]
impl CodeSamples for NotEligible {
    fn samples() -> Vec<Self> {
        vec![NotEligible {
            category: IpaCategory::Comune,
            service: IseeService::Indicatore,
            rule: EligibilityRule::PlainOnlyCapoluoghi,
            alternatives: vec![IseeService::IndicatoreResidenti],
        }]
    }
}

/// The answer for a (category, service) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    /// The category may use the service if it meets the requirements.
    Allowed {
        /// What is needed.
        requirements: &'static [Requirement],
    },
    /// The category may not use the service.
    Refused(NotEligible),
}

impl Eligibility {
    /// Whether the service is open to the category.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Eligibility::Allowed { .. })
    }

    /// The requirements, or the refusal as an error.
    ///
    /// # Errors
    ///
    /// The [`NotEligible`] refusal.
    pub fn into_result(self) -> Result<&'static [Requirement], NotEligible> {
        match self {
            Eligibility::Allowed { requirements } => Ok(requirements),
            Eligibility::Refused(e) => Err(e),
        }
    }
}

/// Whether `category` may use `service`, and with what requirements.
pub fn eligibility(category: IpaCategory, service: IseeService) -> Eligibility {
    match refusal_rule(category, service) {
        None => Eligibility::Allowed {
            requirements: service.requirements(),
        },
        Some(rule) => {
            let alternatives = service
                .candidates()
                .iter()
                .copied()
                .filter(|&alt| refusal_rule(category, alt).is_none())
                .collect();
            Eligibility::Refused(NotEligible {
                category,
                service,
                rule,
                alternatives,
            })
        }
    }
}

/// As [`eligibility`], as a `Result`.
///
/// # Errors
///
/// [`NotEligible`] (code `isee_not_eligible`) naming the rule and the
/// services to use instead.
pub fn check_eligibility(
    category: IpaCategory,
    service: IseeService,
) -> Result<&'static [Requirement], NotEligible> {
    eligibility(category, service).into_result()
}

fn refusal_rule(category: IpaCategory, service: IseeService) -> Option<EligibilityRule> {
    if !category.is_admitted() {
        return Some(EligibilityRule::CategoryNotAdmitted);
    }
    match service.family() {
        ServiceFamily::Operatori | ServiceFamily::Riscontro => None,
        ServiceFamily::Residenti => {
            (!category.is_comune()).then_some(EligibilityRule::ResidentiOnlyComuni)
        }
        ServiceFamily::Plain => {
            matches!(category, IpaCategory::Comune | IpaCategory::ConsorzioComuni)
                .then_some(EligibilityRule::PlainOnlyCapoluoghi)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for c in IpaCategory::ALL {
            assert_eq!(IpaCategory::parse(c.as_str()), Some(c));
            assert_eq!(c.to_string(), c.label_it());
        }
        for s in IseeService::ALL {
            assert_eq!(IseeService::parse(s.as_str()), Some(s));
            assert!(s.operation().starts_with("Consultazione"));
            assert_eq!(s.to_string(), s.name_it());
        }
        assert_eq!(IpaCategory::parse("x"), None);
        assert_eq!(IseeService::parse("x"), None);
    }

    #[test]
    fn refusal_names_the_rule_and_never_suggests_a_refused_service() {
        for c in IpaCategory::ALL {
            for s in IseeService::ALL {
                if let Eligibility::Refused(e) = eligibility(c, s) {
                    for alt in &e.alternatives {
                        assert!(eligibility(c, *alt).is_allowed(), "{c:?} {s:?} -> {alt:?}");
                        assert_eq!(alt.returns_attestazione(), s.returns_attestazione());
                    }
                    assert!(e.to_string().contains(e.rule.reason()));
                }
            }
        }
    }
}
