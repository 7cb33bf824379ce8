#![allow(clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn utc(y: i32, m: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, mi, 0).unwrap()
}

fn service(id: &str, authorised: NaiveDate, activation: Option<NaiveDate>) -> Service {
    Service {
        id: id.into(),
        kind: ServiceType::MicroNido,
        name: format!("Micro-nido {id}"),
        address: "Via Sintetica 1".into(),
        manager: "Cooperativa Esempio".into(),
        capacity: 20,
        authorisation: act("Det. 1", authorised),
        activation,
        first_authorisation: None,
        added_by_comune: false,
    }
}

fn monthly(from: (i32, u32), n: usize, children: u32) -> Vec<AttendanceCount> {
    let (mut y, mut m) = from;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(AttendanceCount {
            unit: CountUnit::month(y, m).unwrap(),
            children,
        });
        m += 1;
        if m == 13 {
            m = 1;
            y += 1;
        }
    }
    out
}

fn cfg() -> SurveyConfig {
    SurveyConfig::piemonte_2026()
}

// ---- the three period rules ---------------------------------------------

#[test]
fn authorised_before_3_march_2025_takes_the_whole_reference_period() {
    for auth in [d(2010, 1, 1), d(2025, 3, 2), d(2025, 3, 3)] {
        let p = cfg().attendance_period(&service("A", auth, None)).unwrap();
        assert_eq!(
            (p.start, p.end, p.rule),
            (d(2025, 3, 3), d(2026, 2, 27), PeriodRule::Reference)
        );
    }
}

#[test]
fn authorised_after_3_march_2025_starts_at_the_authorisation() {
    for auth in [d(2025, 3, 4), d(2025, 9, 1), d(2026, 2, 27)] {
        let p = cfg().attendance_period(&service("B", auth, None)).unwrap();
        assert_eq!(
            (p.start, p.end, p.rule),
            (auth, d(2026, 2, 27), PeriodRule::FromAuthorisation)
        );
    }
    // Authorised before, active later: from when it is both.
    let p = cfg()
        .attendance_period(&service("B2", d(2024, 6, 1), Some(d(2025, 9, 8))))
        .unwrap();
    assert_eq!(
        (p.start, p.rule),
        (d(2025, 9, 8), PeriodRule::FromAuthorisation)
    );
}

#[test]
fn activated_in_the_february_april_gap_runs_to_27_april() {
    for act_day in [d(2026, 2, 28), d(2026, 3, 16), d(2026, 4, 27)] {
        let p = cfg()
            .attendance_period(&service("C", d(2026, 1, 10), Some(act_day)))
            .unwrap();
        assert_eq!(
            (p.start, p.end, p.rule),
            (act_day, d(2026, 4, 27), PeriodRule::FromActivation)
        );
    }
    let e = cfg()
        .attendance_period(&service("D", d(2026, 4, 28), None))
        .unwrap_err();
    assert_eq!(e.code(), "infanzia_not_active");
    assert!(e.to_string().contains("28/04/2026"), "{e}");
}

#[test]
fn gap_service_average_uses_counts_up_to_27_april() {
    let mut form = Form::new("X", cfg(), vec![service("G", d(2026, 3, 1), None)]);
    let mut counts = monthly((2026, 3), 3, 9); // March, April, May
    counts[1].children = 12;
    form.record_counts("G", &counts).unwrap();
    match form.outcome(&form.services[0]) {
        ServiceOutcome::Average(a) => {
            // March and April only (May is after 27 April).
            assert_eq!(
                (a.units, a.total, a.average, a.outside_period),
                (2, 21, 11, 1)
            );
            assert_eq!(a.period.rule, PeriodRule::FromActivation);
        }
        o => panic!("{o:?}"),
    }
}

// ---- declarations -------------------------------------------------------

#[test]
fn each_declaration_replaces_the_average() {
    let mut form = Form::new(
        "X",
        cfg(),
        vec![
            service("S1", d(2020, 1, 1), None),
            service("S2", d(2020, 1, 1), None),
            service("S3", d(2020, 1, 1), None),
        ],
    );
    // Nothing declared, no counts: three problems at once.
    let p = form.check();
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|p| p.code == "attendance_missing"));
    form.declare("S1", Some(Declaration::cessato("Det. 44/2025").unwrap()))
        .unwrap();
    form.declare("S2", Some(Declaration::sospeso(""))).unwrap();
    form.declare(
        "S3",
        Some(Declaration::non_raggiunto("non interessato ai contributi").unwrap()),
    )
    .unwrap();
    assert!(form.check().is_empty());
    let codes: Vec<_> = form
        .services
        .iter()
        .map(|e| match form.outcome(e) {
            ServiceOutcome::Declared(d) => d.code(),
            o => panic!("{o:?}"),
        })
        .collect();
    assert_eq!(codes, ["CESSATO", "SOSPESO", "NON_RAGGIUNTO"]);
    // Withdrawn: missing again.
    form.declare("S2", None).unwrap();
    assert_eq!(form.check().len(), 1);
}

#[test]
fn non_raggiunto_reason_is_mandatory() {
    for blank in ["", "   ", "\t\n"] {
        assert_eq!(
            Declaration::non_raggiunto(blank).unwrap_err().code(),
            "infanzia_reason_missing"
        );
        assert_eq!(
            Declaration::parse("NON RAGGIUNTO", blank)
                .unwrap_err()
                .code(),
            "infanzia_reason_missing"
        );
    }
    assert_eq!(
        Declaration::cessato(" ").unwrap_err().code(),
        "infanzia_cessation_act_missing"
    );
    // A blank reason that got in anyway (e.g. from a stored file) blocks sending.
    let mut form = Form::new("X", cfg(), vec![service("S", d(2020, 1, 1), None)]);
    form.declare("S", Some(Declaration::NonRaggiunto { reason: " ".into() }))
        .unwrap();
    let err = form.send(utc(2026, 5, 4, 8, 0)).unwrap_err();
    assert_eq!(err.code(), "infanzia_check_failed");
    assert_eq!(err.problems()[0].code, "reason_missing");
    assert_eq!(form.state, FormState::Bozza);
}

#[test]
fn non_raggiunto_is_for_a_service_active_at_the_survey_start() {
    // Activated after the survey's start (27 April 2026): not NON RAGGIUNTO.
    let late = service("L", d(2026, 4, 1), Some(d(2026, 5, 2)));
    let on_time = service("T", d(2026, 4, 1), Some(d(2026, 4, 27)));
    let mut form = Form::new("X", cfg(), vec![late, on_time]);
    for id in ["L", "T"] {
        form.declare(
            id,
            Some(Declaration::non_raggiunto("non candidato").unwrap()),
        )
        .unwrap();
    }
    let problems = form.check();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].code, "non_raggiunto_not_active");
    assert_eq!(problems[0].service.as_deref(), Some("L"));
    assert!(problems[0].message.contains("27/04/2026"));
    // Declared SOSPESO instead, the form can go.
    form.declare("L", Some(Declaration::sospeso(""))).unwrap();
    assert!(form.check().is_empty());
}

#[test]
fn declaration_parse_forms() {
    assert_eq!(
        Declaration::parse("cessato", "Det. 9").unwrap().code(),
        "CESSATO"
    );
    assert_eq!(
        Declaration::parse("Sospensione", "").unwrap().code(),
        "SOSPESO"
    );
    assert_eq!(
        Declaration::parse("non_raggiunto", "r").unwrap().code(),
        "NON_RAGGIUNTO"
    );
    assert_eq!(
        Declaration::parse("chiuso", "").unwrap_err().code(),
        "infanzia_declaration_kind"
    );
}

// ---- the check lists every problem --------------------------------------

#[test]
fn check_lists_every_problem_at_once() {
    let mut bad = service("B", d(2024, 5, 1), Some(d(2024, 4, 1)));
    bad.name = " ".into();
    bad.authorisation.reference = String::new();
    bad.kind = ServiceType::AsiloNido;
    bad.capacity = 80;
    let late = service("L", d(2026, 5, 1), None);
    let mut zero = service("Z", d(2020, 1, 1), None);
    zero.capacity = 0;
    let mut form = Form::new(
        "X",
        cfg(),
        vec![bad, late, zero, service("B", d(2020, 1, 1), None)],
    );
    form.declare("Z", Some(Declaration::sospeso(""))).unwrap();
    let codes: Vec<_> = form
        .check()
        .into_iter()
        .map(|p| (p.code, p.service.unwrap()))
        .collect();
    let expect = [
        ("name_missing", "B"),
        ("act_reference_missing", "B"),
        ("activation_before_authorisation", "B"),
        ("capacity_out_of_range", "B"),
        ("attendance_missing", "B"),
        ("not_active", "L"),
        ("attendance_missing", "L"),
        ("capacity_missing", "Z"),
        ("duplicate_service", "B"),
        ("attendance_missing", "B"),
    ];
    let expect: Vec<_> = expect
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect();
    // not_active and attendance_missing are exclusive for one service.
    let expect: Vec<_> = expect
        .into_iter()
        .filter(|(c, s)| !(c == "attendance_missing" && s == "L"))
        .collect();
    assert_eq!(codes, expect);
    for p in form.check() {
        assert!(Problem::CODES.contains(&p.code.as_str()));
    }
    assert_eq!(Form::new("X", cfg(), vec![]).check()[0].code, "no_services");
}

// ---- state machine ------------------------------------------------------

fn ready_form() -> Form {
    let mut form = Form::new("X", cfg(), vec![service("A", d(2020, 1, 1), None)]);
    form.record_counts("A", &monthly((2025, 3), 12, 15))
        .unwrap();
    form
}

#[test]
fn life_cycle_with_refusal_and_resend() {
    let mut form = ready_form();
    assert_eq!(form.state, FormState::Bozza);
    // Validate / reject need INVIATO.
    assert_eq!(
        form.validate(utc(2026, 5, 1, 8, 0)).unwrap_err().code(),
        "infanzia_invalid_transition"
    );
    assert_eq!(
        form.reject("x", utc(2026, 5, 1, 8, 0)).unwrap_err().code(),
        "infanzia_invalid_transition"
    );
    form.send(utc(2026, 4, 28, 8, 0)).unwrap();
    assert_eq!(form.state, FormState::Inviato);
    // Not editable, not re-sendable while INVIATO.
    assert_eq!(
        form.declare("A", None).unwrap_err().code(),
        "infanzia_not_editable"
    );
    assert_eq!(
        form.record_counts("A", &[]).unwrap_err().code(),
        "infanzia_not_editable"
    );
    assert_eq!(
        form.send(utc(2026, 4, 28, 9, 0)).unwrap_err().code(),
        "infanzia_invalid_transition"
    );
    // Refusal needs notes.
    assert_eq!(
        form.reject("  ", utc(2026, 5, 2, 8, 0)).unwrap_err().code(),
        "infanzia_notes_missing"
    );
    form.reject(
        "capienza da correggere secondo Det. 2/2026",
        utc(2026, 5, 2, 8, 0),
    )
    .unwrap();
    assert_eq!(form.state.code(), "RIFIUTATO");
    assert!(form.state.is_editable());
    // Editable again: fix and re-send.
    let mut s = form.services[0].service.clone();
    s.capacity = 22;
    s.authorisation = act("Det. 2/2026", d(2026, 1, 15));
    assert_eq!(
        form.update_service(s).unwrap(),
        ["capacity", "authorisation"]
    );
    assert_eq!(form.services[0].changes[0].act, "Det. 2/2026");
    form.send(utc(2026, 5, 3, 8, 0)).unwrap();
    assert_eq!(form.state, FormState::Inviato);
    form.validate(utc(2026, 5, 10, 8, 0)).unwrap();
    assert_eq!(form.state, FormState::Validato);
    assert_eq!(
        form.send(utc(2026, 5, 11, 8, 0)).unwrap_err().code(),
        "infanzia_invalid_transition"
    );
    assert_eq!(
        form.reject("x", utc(2026, 5, 11, 8, 0)).unwrap_err().code(),
        "infanzia_invalid_transition"
    );
    let path: Vec<_> = form
        .history
        .iter()
        .map(|t| format!("{}>{}", t.from, t.to))
        .collect();
    assert_eq!(
        path,
        [
            "BOZZA>INVIATO",
            "INVIATO>RIFIUTATO",
            "RIFIUTATO>INVIATO",
            "INVIATO>VALIDATO"
        ]
    );
    assert!(form.history[1]
        .notes
        .as_deref()
        .unwrap()
        .contains("capienza"));
    // The whole form survives JSON.
    let json = serde_json::to_string(&form).unwrap();
    let back: Form = serde_json::from_str(&json).unwrap();
    assert_eq!(back, form);
}

#[test]
fn registry_changes_need_the_latest_act() {
    let mut form = ready_form();
    let mut s = form.services[0].service.clone();
    s.name = "Nuovo nome".into();
    s.authorisation.reference = " ".into();
    assert_eq!(
        form.update_service(s.clone()).unwrap_err().code(),
        "infanzia_act_reference_missing"
    );
    s.authorisation = act("Det. vecchia", d(2019, 1, 1));
    assert_eq!(
        form.update_service(s.clone()).unwrap_err().code(),
        "infanzia_act_older"
    );
    s.authorisation = act("Det. 7/2025", d(2025, 7, 1));
    assert_eq!(form.update_service(s).unwrap(), ["name", "authorisation"]);
    assert_eq!(form.services[0].changes.len(), 1);
}

#[test]
fn a_newer_act_keeps_the_first_authorisation_date() {
    // Authorised and active since September 2025; a later act (more posti)
    // must not move the attendance period nor make the activation look
    // earlier than the authorisation.
    let mut form = Form::new(
        "X",
        cfg(),
        vec![service("N", d(2025, 9, 15), Some(d(2025, 9, 15)))],
    );
    form.record_counts("N", &monthly((2025, 9), 6, 14)).unwrap();
    let mut s = form.services[0].service.clone();
    s.capacity = 22;
    s.authorisation = act("Det. 61/2025", d(2025, 11, 20));
    form.update_service(s).unwrap();
    let after = &form.services[0].service;
    assert_eq!(after.first_authorisation, Some(d(2025, 9, 15)));
    assert_eq!(after.authorised_since(), d(2025, 9, 15));
    assert!(form.check().is_empty(), "{:?}", form.check());
    match form.outcome(&form.services[0]) {
        ServiceOutcome::Average(a) => assert_eq!((a.period.start, a.units), (d(2025, 9, 15), 6)),
        o => panic!("{o:?}"),
    }
    // JSON keeps it.
    let back: Form = serde_json::from_str(&serde_json::to_string(&form).unwrap()).unwrap();
    assert_eq!(back, form);
}

#[test]
fn add_missing_service_only_if_authorised_and_active() {
    let mut form = ready_form();
    let mut s = service("NEW", d(2025, 10, 1), None);
    s.authorisation.reference = String::new();
    assert_eq!(
        form.add_service(s.clone()).unwrap_err().code(),
        "infanzia_act_reference_missing"
    );
    s.authorisation.reference = "Det. 12/2025".into();
    let mut late = s.clone();
    late.activation = Some(d(2026, 6, 1));
    assert_eq!(
        form.add_service(late).unwrap_err().code(),
        "infanzia_not_active"
    );
    form.add_service(s.clone()).unwrap();
    assert!(form.services[1].service.added_by_comune);
    assert_eq!(
        form.add_service(s).unwrap_err().code(),
        "infanzia_duplicate_service"
    );
}

// ---- the window, with DST -----------------------------------------------

#[test]
fn window_edges_in_rome_summer_time() {
    let c = cfg();
    // 27 April 2026 is CEST (UTC+2): 11:59 Rome = 09:59 UTC.
    let e = c.check_window(utc(2026, 4, 27, 9, 59)).unwrap_err();
    assert_eq!(e.code(), "infanzia_window_not_open");
    assert!(
        e.to_string().contains("lunedì 27/04/2026 alle 12:00"),
        "{e}"
    );
    assert!(e.to_string().contains("11:59"), "{e}");
    assert!(c.check_window(utc(2026, 4, 27, 10, 0)).is_ok());
    // 18 May 2026 is CEST: 11:59 Rome = 09:59 UTC still open, 12:00 closed.
    assert!(c.check_window(utc(2026, 5, 18, 9, 59)).is_ok());
    let e = c.check_window(utc(2026, 5, 18, 10, 0)).unwrap_err();
    assert_eq!(e.code(), "infanzia_window_closed");
    assert!(
        e.to_string().contains("lunedì 18/05/2026 alle 12:00"),
        "{e}"
    );
    // A naive UTC+1 reading would be wrong by an hour: 11:00 UTC is 13:00 in Rome.
    assert_eq!(c.window_status(utc(2026, 5, 18, 10, 30)).code(), "closed");
    assert_eq!(c.window_status(utc(2026, 4, 27, 10, 30)).code(), "open");
}

#[test]
fn send_at_the_window_edges() {
    let mut form = ready_form();
    assert_eq!(
        form.send(utc(2026, 4, 27, 9, 59)).unwrap_err().code(),
        "infanzia_window_not_open"
    );
    let mut late = ready_form();
    assert_eq!(
        late.send(utc(2026, 5, 18, 10, 0)).unwrap_err().code(),
        "infanzia_window_closed"
    );
    assert_eq!(late.state, FormState::Bozza);
    late.send(utc(2026, 5, 18, 9, 59)).unwrap();
    form.send(utc(2026, 4, 27, 10, 0)).unwrap();
}

#[test]
fn winter_window_uses_utc_plus_one() {
    // A hypothetical year with a window in winter: 12:00 Rome = 11:00 UTC.
    let mut c = cfg();
    c.window_opens = d(2026, 1, 12).and_hms_opt(12, 0, 0).unwrap();
    c.window_closes = d(2026, 11, 2).and_hms_opt(12, 0, 0).unwrap();
    assert!(c.validate().is_ok());
    assert_eq!(
        c.window_status(utc(2026, 1, 12, 10, 59)).code(),
        "not_yet_open"
    );
    assert_eq!(c.window_status(utc(2026, 1, 12, 11, 0)).code(), "open");
    assert_eq!(c.window_status(utc(2026, 11, 2, 10, 59)).code(), "open");
    assert_eq!(c.window_status(utc(2026, 11, 2, 11, 0)).code(), "closed");
}

#[test]
fn config_is_data_and_round_trips() {
    let c = cfg();
    let json = serde_json::to_string(&c).unwrap();
    assert!(
        json.contains("\"window_opens\":\"2026-04-27T12:00\""),
        "{json}"
    );
    let back: SurveyConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    let mut bad = c.clone();
    bad.reference_end = d(2026, 5, 1);
    assert_eq!(bad.validate().unwrap_err().code(), "infanzia_config");
    assert_eq!(SurveyConfig::for_year(2026), Some(c));
    assert_eq!(SurveyConfig::for_year(2027), None);
}

#[test]
fn service_type_parsing() {
    assert_eq!(
        ServiceType::parse("Asilo nido").unwrap(),
        ServiceType::AsiloNido
    );
    assert_eq!(
        ServiceType::parse("MICRO-NIDO").unwrap(),
        ServiceType::MicroNido
    );
    assert_eq!(
        ServiceType::parse("sezione_primavera").unwrap(),
        ServiceType::SezionePrimavera
    );
    assert_eq!(
        ServiceType::parse("Agri-TATA").unwrap(),
        ServiceType::NidoInFamiglia
    );
    assert_eq!(
        ServiceType::parse("Baby parking").unwrap(),
        ServiceType::CentroCustodiaOraria
    );
    assert_eq!(
        ServiceType::parse("ludoteca").unwrap_err().code(),
        "infanzia_service_type"
    );
    for t in ServiceType::ALL {
        assert_eq!(ServiceType::parse(t.code()).unwrap(), t);
        assert_eq!(ServiceType::parse(t.label()).unwrap(), t);
    }
}

#[test]
fn error_codes_are_listed() {
    let samples = [
        InfanziaError::ReasonMissing,
        InfanziaError::NotesMissing,
        InfanziaError::CheckFailed { problems: vec![] },
        InfanziaError::ActReferenceMissing,
    ];
    for e in samples {
        assert!(InfanziaError::CODES.contains(&e.code()));
    }
}

// ---- properties ---------------------------------------------------------

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (0i64..3000).prop_map(|n| d(2020, 1, 1) + chrono::Duration::days(n))
}

proptest! {
    #[test]
    fn period_rules_partition_the_dates(auth in any_date(), act_off in proptest::option::of(0i64..400)) {
        let activation = act_off.map(|o| auth + chrono::Duration::days(o));
        let s = service("P", auth, activation);
        let since = s.operating_since();
        let c = cfg();
        match c.attendance_period(&s) {
            Ok(p) => {
                prop_assert!(p.start <= p.end);
                prop_assert!(since <= c.survey_start);
                prop_assert!(p.start >= c.reference_start);
                match p.rule {
                    PeriodRule::Reference => prop_assert!(since <= c.reference_start),
                    PeriodRule::FromAuthorisation => {
                        prop_assert_eq!(p.start, since);
                        prop_assert_eq!(p.end, c.reference_end);
                    }
                    PeriodRule::FromActivation => {
                        prop_assert!(since > c.reference_end);
                        prop_assert_eq!(p.end, c.survey_start);
                    }
                }
            }
            Err(e) => {
                prop_assert_eq!(e.code(), "infanzia_not_active");
                prop_assert!(since > c.survey_start);
            }
        }
    }

    #[test]
    fn window_open_iff_between_edges(secs in 1_776_000_000i64..1_780_000_000i64) {
        let now = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
        let c = cfg();
        let open = c.check_window(now).is_ok();
        // 10:00 UTC on both days (CEST).
        prop_assert_eq!(open, now >= utc(2026, 4, 27, 10, 0) && now < utc(2026, 5, 18, 10, 0));
    }

    #[test]
    fn check_never_passes_an_undeclared_service_without_counts(
        n in 1usize..6,
        declared in proptest::collection::vec(0u8..4, 6),
        with_counts in proptest::collection::vec(any::<bool>(), 6),
    ) {
        let services: Vec<_> = (0..n).map(|i| service(&format!("S{i}"), d(2020, 1, 1), None)).collect();
        let mut form = Form::new("X", cfg(), services);
        for i in 0..n {
            let id = format!("S{i}");
            let decl = match declared[i] {
                0 => None,
                1 => Some(Declaration::sospeso("")),
                2 => Some(Declaration::cessato("Det. 1").unwrap()),
                _ => Some(Declaration::non_raggiunto("motivo").unwrap()),
            };
            form.declare(&id, decl).unwrap();
            if with_counts[i] {
                form.record_counts(&id, &monthly((2025, 3), 2, 5)).unwrap();
            }
        }
        let missing = (0..n).filter(|&i| declared[i] == 0 && !with_counts[i]).count();
        let problems = form.check();
        prop_assert_eq!(problems.len(), missing);
        let sent = form.send(utc(2026, 5, 4, 8, 0));
        prop_assert_eq!(sent.is_ok(), missing == 0);
        if let Err(e) = sent {
            prop_assert_eq!(e.problems().len(), missing);
        }
    }

    #[test]
    fn non_raggiunto_accepts_exactly_non_blank_reasons(reason in "\\PC{0,12}") {
        let r = Declaration::non_raggiunto(&reason);
        prop_assert_eq!(r.is_ok(), !reason.trim().is_empty());
    }
}
