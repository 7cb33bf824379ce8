//! Who may use which INPS ISEE e-service (INPS message 3269/2025): the
//! whole table of IPA categories × the eight services.

// Test helpers outside #[test] functions unwrap too: a panic is a failing test.
#![allow(clippy::unwrap_used)]

use anist_core::isee::{
    check_eligibility, eligibility, Eligibility, EligibilityRule, IpaCategory, IseeService,
    NotEligible, Requirement, ServiceFamily,
};
use anist_core::ErrorCode;

use IpaCategory as C;
use IseeService as S;

/// Columns, in this order: IndicatoreOperatori, AttestazioneOperatori,
/// IndicatoreResidenti, AttestazioneResidenti, IndicatoreRiscontro,
/// IndicatoreNucleoRiscontro, Indicatore, Attestazione.
/// `A` allowed, `C` category not admitted, `R` Residenti only for Comuni,
/// `P` plain services only for capoluoghi among Comuni.
const TABLE: [(IpaCategory, &str); 11] = [
    (C::Comune, "AAAAAAPP"),
    (C::ComuneCapoluogo, "AAAAAAAA"),
    (C::ConsorzioComuni, "AARRAAPP"),
    (C::RegioneProvinciaAutonoma, "AARRAAAA"),
    (C::ConsorzioRegioni, "AARRAAAA"),
    (C::Asl, "AARRAAAA"),
    (C::Universita, "AARRAAAA"),
    (C::Afam, "AARRAAAA"),
    (C::DirittoStudio, "AARRAAAA"),
    (C::EdiliziaResidenziale, "AARRAAAA"),
    (C::Altro, "CCCCCCCC"),
];

const SERVICES: [IseeService; 8] = [
    S::IndicatoreOperatori,
    S::AttestazioneOperatori,
    S::IndicatoreResidenti,
    S::AttestazioneResidenti,
    S::IndicatoreRiscontro,
    S::IndicatoreNucleoRiscontro,
    S::Indicatore,
    S::Attestazione,
];

#[test]
fn the_whole_table() {
    assert_eq!(SERVICES, IseeService::ALL);
    let cats: Vec<IpaCategory> = TABLE.iter().map(|(c, _)| *c).collect();
    assert_eq!(cats, IpaCategory::ALL.to_vec());
    let mut checked = 0;
    for (cat, row) in TABLE {
        for (svc, want) in SERVICES.iter().zip(row.chars()) {
            let got = eligibility(cat, *svc);
            let as_result = check_eligibility(cat, *svc);
            match (want, &got) {
                ('A', Eligibility::Allowed { requirements }) => {
                    assert_eq!(*requirements, svc.requirements());
                    assert_eq!(as_result, Ok(svc.requirements()));
                }
                (rule, Eligibility::Refused(e)) => {
                    let expected = match rule {
                        'C' => EligibilityRule::CategoryNotAdmitted,
                        'R' => EligibilityRule::ResidentiOnlyComuni,
                        'P' => EligibilityRule::PlainOnlyCapoluoghi,
                        _ => panic!("{cat:?} × {svc:?}: expected allowed, got {e}"),
                    };
                    assert_eq!(e.rule, expected, "{cat:?} × {svc:?}");
                    assert_eq!((e.category, e.service), (cat, *svc));
                    assert_eq!(e.code(), "isee_not_eligible");
                    assert_eq!(as_result.as_ref().err(), Some(e));
                }
                _ => panic!("{cat:?} × {svc:?}: expected {want}, got {got:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 8 * 11);
}

fn refusal(cat: IpaCategory, svc: IseeService) -> NotEligible {
    match check_eligibility(cat, svc) {
        Ok(r) => panic!("{cat:?} × {svc:?} allowed with {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn comune_not_capoluogo_is_pointed_to_residenti() {
    let e = refusal(C::Comune, S::Indicatore);
    assert_eq!(e.rule.code(), "plain_only_capoluoghi");
    assert_eq!(
        e.alternatives,
        vec![
            S::IndicatoreResidenti,
            S::IndicatoreOperatori,
            S::IndicatoreRiscontro
        ]
    );
    let msg = e.to_string();
    assert!(msg.contains("Consultazione Indicatore ISEE»"), "{msg}");
    assert!(
        msg.contains("use instead «Consultazione Indicatore Residenti ISEE»"),
        "{msg}"
    );
    let e = refusal(C::Comune, S::Attestazione);
    assert_eq!(
        e.alternatives,
        vec![S::AttestazioneResidenti, S::AttestazioneOperatori]
    );
}

#[test]
fn non_comuni_asking_residenti_are_pointed_to_operatori_and_riscontro() {
    let e = refusal(C::Asl, S::IndicatoreResidenti);
    assert_eq!(e.rule.code(), "residenti_only_comuni");
    assert_eq!(
        e.alternatives,
        vec![
            S::IndicatoreOperatori,
            S::IndicatoreRiscontro,
            S::Indicatore
        ]
    );
    let e = refusal(C::Universita, S::AttestazioneResidenti);
    assert_eq!(
        e.alternatives,
        vec![S::AttestazioneOperatori, S::Attestazione]
    );
    // A consortium of Comuni may not use the plain services either, so they
    // are not suggested.
    let e = refusal(C::ConsorzioComuni, S::IndicatoreResidenti);
    assert_eq!(
        e.alternatives,
        vec![S::IndicatoreOperatori, S::IndicatoreRiscontro]
    );
    let e = refusal(C::ConsorzioComuni, S::Indicatore);
    assert_eq!(
        e.alternatives,
        vec![S::IndicatoreOperatori, S::IndicatoreRiscontro]
    );
    let e = refusal(C::ConsorzioComuni, S::AttestazioneResidenti);
    assert_eq!(e.alternatives, vec![S::AttestazioneOperatori]);
}

#[test]
fn other_categories_get_nothing() {
    for s in IseeService::ALL {
        let e = refusal(C::Altro, s);
        assert_eq!(e.rule, EligibilityRule::CategoryNotAdmitted);
        assert!(e.alternatives.is_empty());
        assert!(!e.to_string().contains("use instead"));
    }
}

#[test]
fn requirements_per_family() {
    use Requirement as R;
    for s in IseeService::ALL {
        let r = s.requirements();
        assert!(r.contains(&R::PdndAdhesion));
        match s.family() {
            ServiceFamily::Operatori => {
                assert!(r.contains(&R::OperatorSpidL2OrCie3));
                assert!(r.contains(&R::OperatorAssertion));
                assert!(r.contains(&R::OperatorEnablementMv62));
                assert!(!r.contains(&R::ClientCertificate));
            }
            ServiceFamily::Residenti => {
                assert_eq!(r, &[R::PdndAdhesion, R::ResidenceCheck]);
            }
            ServiceFamily::Riscontro => {
                assert_eq!(r, &[R::PdndAdhesion, R::DsuProtocolCheckDatum]);
            }
            ServiceFamily::Plain => {
                assert_eq!(r, &[R::PdndAdhesion, R::ClientCertificate]);
            }
        }
        for req in r {
            assert!(!req.code().is_empty() && !req.description_it().is_empty());
        }
    }
}

#[test]
fn service_metadata() {
    assert_eq!(
        S::AttestazioneResidenti.operation(),
        "ConsultazioneAttestazioneResidenti"
    );
    assert_eq!(S::Indicatore.operation(), "ConsultazioneIndicatore");
    assert_eq!(S::IndicatoreOperatori.eservice_id(), None);
    assert_eq!(
        S::IndicatoreResidenti.eservice_id(),
        Some("9d9fc812-0410-4ceb-a062-a987e3eb79fa")
    );
    let attestazioni: Vec<IseeService> = IseeService::ALL
        .into_iter()
        .filter(|s| s.returns_attestazione())
        .collect();
    assert_eq!(
        attestazioni,
        vec![
            S::AttestazioneOperatori,
            S::AttestazioneResidenti,
            S::Attestazione
        ]
    );
    let mut ops: Vec<&str> = IseeService::ALL.iter().map(|s| s.operation()).collect();
    ops.sort_unstable();
    ops.dedup();
    assert_eq!(ops.len(), 8);
}
