//! ANIST records and the compulsory-education outcome.

use anist_core::attendance::{
    compliance_outcome, CheckReason, ComplianceOutcome, EsitoFrequenza, Frequenza, Lookup,
    MinorCheck, UltimoStato, Verifica,
};
use anist_core::school::ObligationStatus;
use proptest::prelude::*;

fn record(esito: i64) -> Frequenza {
    Frequenza {
        frequentante: Some(esito == 1 || esito == 3),
        codice_istituto_principale: Some("RMIC81500N".into()),
        deno_istituto_principale: Some("IC Synthetic".into()),
        codice_meccanografico: Some("RMEE81501P".into()),
        denominazione_plesso: Some("Plesso Synthetic".into()),
        percorso_studi: Some("SCUOLA PRIMARIA".into()),
        anno_corso: Some(3),
        esito_frequenza: Some(EsitoFrequenza::from_code(esito)),
        anno_scolastico: None,
    }
}

fn check(verification: Lookup<Verifica>, record: Lookup<Frequenza>) -> MinorCheck {
    MinorCheck {
        code_validity: Ok(()),
        obligation: Some(ObligationStatus::Compulsory {
            year_of_obligation: 3,
        }),
        verification,
        record,
    }
}

fn verifica(frequentante: bool) -> Lookup<Verifica> {
    Lookup::Found(Verifica {
        frequentante,
        esito_frequenza: None,
    })
}

fn failed() -> Lookup<Verifica> {
    Lookup::Failed {
        code: "gateway_refused".into(),
        message: "403".into(),
    }
}

#[test]
fn esito_codes_round_trip_and_unknown_is_kept() {
    for c in 1..=4 {
        assert_eq!(EsitoFrequenza::from_code(c).code(), c);
    }
    assert_eq!(EsitoFrequenza::from_code(9), EsitoFrequenza::Unknown(9));
    assert!(EsitoFrequenza::Frequentante.is_attending());
    assert!(EsitoFrequenza::FrequentanteAltroAnnoCorso.is_attending());
    assert!(!EsitoFrequenza::NonFrequentante.is_attending());
    assert!(!EsitoFrequenza::NonPiuFrequentante.is_attending());
    assert!(!EsitoFrequenza::Unknown(9).is_attending());
    assert_eq!(
        EsitoFrequenza::NonPiuFrequentante.to_string(),
        "Non più Frequentante"
    );
    assert_eq!(
        EsitoFrequenza::Unknown(7).to_string(),
        "Esito sconosciuto (7)"
    );
}

#[test]
fn wire_names_and_tolerant_types() {
    let json = r#"{"frequentante":false,"codiceIstitutoPrincipale":"RMIC81500N",
        "denoIstitutoPrincipale":"IC X","codiceMeccanografico":"RMEE81501P",
        "denominazionePlesso":"P","percorsoStudi":"PRIMARIA","annoCorso":2,
        "esitoFrequenza":"4","campoNuovo":"ignored"}"#;
    let f: Frequenza = serde_json::from_str(json).expect("parses");
    assert_eq!(f.esito_frequenza, Some(EsitoFrequenza::NonPiuFrequentante));
    assert_eq!(f.anno_corso, Some(2));
    assert_eq!(f.is_attending(), Some(false));
    assert_eq!(
        f.istituto().map(|c| c.to_string()),
        Some("RMIC81500N".into())
    );
    let back = serde_json::to_value(&f).expect("serialises");
    assert_eq!(back["esitoFrequenza"], 4);
    assert_eq!(back["codiceIstitutoPrincipale"], "RMIC81500N");
    assert!(back.get("annoScolastico").is_none());
    // Unknown esito code kept; annoCorso empty string treated as absent.
    let f: Frequenza = serde_json::from_str(r#"{"esitoFrequenza":12,"annoCorso":""}"#).expect("ok");
    assert_eq!(f.esito_frequenza, Some(EsitoFrequenza::Unknown(12)));
    assert_eq!(f.anno_corso, None);
    assert!(serde_json::from_str::<Frequenza>(r#"{"esitoFrequenza":"x"}"#).is_err());
    // Verification and last status.
    let v: Verifica = serde_json::from_str(r#"{"frequentante":true}"#).expect("ok");
    assert!(v.frequentante && v.esito_frequenza.is_none());
    let u: UltimoStato = serde_json::from_str(
        r#"{"annoScolastico":"2025/2026","esitoFrequenza":1,"annoCorso":"1"}"#,
    )
    .expect("ok");
    assert_eq!(u.anno_scolastico.to_string(), "2025/2026");
    assert_eq!(u.frequenza.anno_corso, Some(1));
}

#[test]
fn outcome_rules() {
    use ComplianceOutcome as O;
    // Attending by verification alone, or by record.
    assert_eq!(
        compliance_outcome(&check(verifica(true), Lookup::NotAsked)).as_str(),
        "compliant"
    );
    assert_eq!(
        compliance_outcome(&check(Lookup::NotAsked, Lookup::Found(record(3)))),
        O::Compliant {
            record: Some(record(3))
        }
    );
    // Not attending: to be checked, with the reason from the record.
    assert_eq!(
        compliance_outcome(&check(verifica(false), Lookup::Found(record(2)))),
        O::ToBeChecked {
            reason: CheckReason::NotAttending,
            record: Some(record(2))
        }
    );
    assert_eq!(
        compliance_outcome(&check(verifica(false), Lookup::Found(record(4)))),
        O::ToBeChecked {
            reason: CheckReason::NoLongerAttending,
            record: Some(record(4))
        }
    );
    let mut unknown = record(9);
    unknown.frequentante = None;
    assert_eq!(
        compliance_outcome(&check(Lookup::NotAsked, Lookup::Found(unknown.clone()))),
        O::ToBeChecked {
            reason: CheckReason::UnknownEsito(9),
            record: Some(unknown)
        }
    );
    assert_eq!(
        compliance_outcome(&check(verifica(false), Lookup::NotFound)),
        O::ToBeChecked {
            reason: CheckReason::NotAttending,
            record: None
        }
    );
    // Disagreement between the two services.
    assert_eq!(
        compliance_outcome(&check(verifica(false), Lookup::Found(record(1)))).as_str(),
        "to_be_checked"
    );
    assert!(matches!(
        compliance_outcome(&check(verifica(true), Lookup::Found(record(2)))),
        O::ToBeChecked {
            reason: CheckReason::Inconsistent,
            ..
        }
    ));
    // No data.
    assert_eq!(
        compliance_outcome(&check(Lookup::NotFound, Lookup::NotAsked)),
        O::NotInAnist
    );
    assert_eq!(
        compliance_outcome(&check(Lookup::NotFound, Lookup::NotFound)),
        O::NotInAnist
    );
    // A failure is an error, never "not attending"...
    assert_eq!(
        compliance_outcome(&check(failed(), Lookup::NotAsked)).as_str(),
        "error"
    );
    assert_eq!(
        compliance_outcome(&check(
            verifica(false),
            Lookup::Failed {
                code: "timeout".into(),
                message: "t".into()
            }
        )),
        O::ToBeChecked {
            reason: CheckReason::NotAttending,
            record: None
        }
    );
    // ...unless the other service answered conclusively.
    assert_eq!(
        compliance_outcome(&check(failed(), Lookup::Found(record(1)))).as_str(),
        "compliant"
    );
    assert_eq!(
        compliance_outcome(&check(failed(), Lookup::NotFound)),
        O::NotInAnist
    );
    // Nothing asked.
    assert_eq!(
        compliance_outcome(&check(Lookup::NotAsked, Lookup::NotAsked)),
        O::Error {
            code: "anist_not_checked".into(),
            message: "neither the verification nor the detailed record was asked".into()
        }
    );
    // Invalid code and not obliged come first.
    let mut c = check(verifica(false), Lookup::NotAsked);
    c.code_validity = Err("cf_check_char".into());
    assert_eq!(
        compliance_outcome(&c),
        O::InvalidCode {
            code: "cf_check_char".into()
        }
    );
    let mut c = check(verifica(false), Lookup::NotAsked);
    c.obligation = Some(ObligationStatus::DirittoDovere);
    assert_eq!(
        compliance_outcome(&c),
        O::NotObliged {
            status: ObligationStatus::DirittoDovere
        }
    );
    // Unknown obligation (no birth date): the minor is checked.
    let mut c = check(verifica(true), Lookup::NotAsked);
    c.obligation = None;
    assert_eq!(compliance_outcome(&c).as_str(), "compliant");
}

fn arb_lookup_v() -> impl Strategy<Value = Lookup<Verifica>> {
    prop_oneof![
        Just(Lookup::NotAsked),
        Just(Lookup::NotFound),
        any::<bool>().prop_map(verifica),
        Just(failed()),
    ]
}

fn arb_lookup_r() -> impl Strategy<Value = Lookup<Frequenza>> {
    prop_oneof![
        Just(Lookup::NotAsked),
        Just(Lookup::NotFound),
        (1i64..=5).prop_map(|e| Lookup::Found(record(e))),
        Just(Lookup::Failed {
            code: "timeout".into(),
            message: "t".into()
        }),
    ]
}

proptest! {
    /// A failed call never becomes a finding about attendance unless the
    /// other service answered; "compliant" always rests on an attending answer.
    #[test]
    fn failures_never_become_findings(v in arb_lookup_v(), r in arb_lookup_r()) {
        let out = compliance_outcome(&check(v.clone(), r.clone()));
        let v_answered = matches!(v, Lookup::Found(_) | Lookup::NotFound);
        let r_answered = matches!(r, Lookup::Found(_) | Lookup::NotFound);
        if !v_answered && !r_answered {
            prop_assert_eq!(out.as_str(), "error");
        }
        if out.as_str() == "compliant" {
            let v_yes = matches!(&v, Lookup::Found(x) if x.frequentante);
            let r_yes = matches!(&r, Lookup::Found(x) if x.is_attending() == Some(true));
            prop_assert!(v_yes || r_yes);
        }
    }
}

fn record_at(esito: i64, school: bool) -> Frequenza {
    Frequenza {
        frequentante: Some(EsitoFrequenza::from_code(esito).is_attending()),
        esito_frequenza: Some(EsitoFrequenza::from_code(esito)),
        codice_istituto_principale: school.then(|| "RMIC81500N".into()),
        ..Frequenza::default()
    }
}

fn any_record() -> impl Strategy<Value = Option<Frequenza>> {
    proptest::option::of((1i64..=5, any::<bool>()).prop_map(|(e, s)| record_at(e, s)))
}

fn any_lookup<T: Clone + std::fmt::Debug>(
    found: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<Lookup<T>>> {
    prop_oneof![
        Just(None),
        found.prop_map(|t| Some(Lookup::Found(t))),
        Just(Some(Lookup::NotFound)),
        Just(Some(Lookup::Failed {
            code: "gateway_timeout".into(),
            message: "timed out".into()
        })),
    ]
}

fn any_verifica() -> impl Strategy<Value = Verifica> {
    (1i64..=5).prop_map(|e| Verifica {
        frequentante: EsitoFrequenza::from_code(e).is_attending(),
        esito_frequenza: Some(EsitoFrequenza::from_code(e)),
    })
}

proptest! {
    /// A record is shown whenever there is one; this year's when it says
    /// attending or names a school, else last year's if any.
    #[test]
    fn the_record_shown(cur in any_record(), prev in any_record()) {
        use anist_core::attendance::shown_record;
        let shown = shown_record(cur.as_ref(), prev.as_ref());
        prop_assert_eq!(shown.is_some(), cur.is_some() || prev.is_some());
        if let Some(c) = &cur {
            let school = c.codice_istituto_principale.is_some();
            if c.is_attending() == Some(true) || school || prev.is_none() {
                prop_assert_eq!(shown, Some((c.clone(), false)));
            } else {
                prop_assert_eq!(shown, prev.clone().map(|p| (p, true)));
            }
        }
    }

    /// The row rule: ascertain exactly when the verification found "not
    /// attending"; an outcome exactly once every needed answer is in; a
    /// verification that did not find the pupil never waits for the
    /// ascertainments.
    #[test]
    fn a_row_is_decided_once_its_answers_are_in(
        verify in any_lookup(any_verifica()),
        cur in any_lookup(any_record().prop_filter_map("a record", |r| r)),
        prev in any_lookup(any_record().prop_filter_map("a record", |r| r)),
    ) {
        use anist_core::attendance::decide_row;
        let d = decide_row(verify.clone(), cur.clone(), prev.clone());
        let not_attending = matches!(
            &verify,
            Some(Lookup::Found(v)) if !v.esito_frequenza.map_or(v.frequentante, EsitoFrequenza::is_attending)
        );
        prop_assert_eq!(d.need_ascertain, not_attending);
        let complete = verify.is_some() && (!not_attending || (cur.is_some() && prev.is_some()));
        prop_assert_eq!(d.outcome.is_some(), complete);
        if !not_attending {
            prop_assert!(d.shown.is_none() && d.current.is_none());
        }
        if let (true, Some(Lookup::Found(c))) = (complete && not_attending, &cur) {
            prop_assert_eq!(d.current.as_ref(), Some(c));
        }
    }
}
