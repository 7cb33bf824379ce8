#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::anpr::dati::DatoRichiesto;

fn dato(i: u8) -> DatoRichiesto {
    DatoRichiesto::from_code(i).unwrap()
}

fn profile_strategy() -> impl Strategy<Value = Profile> {
    (prop::collection::btree_set(1u8..=30, 0..6), any::<bool>()).prop_map(|(codes, italia)| {
        Profile {
            data: codes.into_iter().map(dato).collect(),
            scope: if italia {
                Scope::Italia
            } else {
                Scope::Convenzionati
            },
        }
    })
}

fn role_strategy() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

fn state_strategy() -> impl Strategy<Value = State> {
    prop::sample::select(State::ALL.to_vec())
}

const EVENTS: [Event; 7] = [
    Event::Approve,
    Event::SilentAssent,
    Event::Reject,
    Event::Start,
    Event::Complete,
    Event::Fail,
    Event::Purge,
];

fn actor<'a>(user: &'a str, role: Role, ente: &'a str, profile: &'a Profile) -> Actor<'a> {
    Actor {
        user,
        role,
        ente,
        active: true,
        profile,
    }
}

/// Every role × action, allowed and refused, on one ente and another.
#[test]
fn the_role_matrix() {
    let full = Profile::new([DatoRichiesto::SchedaCompleta], Scope::Italia);
    let small = Profile::new([DatoRichiesto::Generalita], Scope::Convenzionati);
    let top = actor("t", Role::Top, "anagrafe", &full);
    let admin = actor("a", Role::Admin, "polizia", &small);
    let std1 = actor("s1", Role::Standard, "polizia", &small);
    let ok = |a: &Actor<'_>, x: Action<'_>| authorize(a, &x).is_ok();
    let reg = |ente, role| Action::RegisterUser { ente, role };
    // Registering users.
    assert!(ok(&top, reg("polizia", Role::Admin)));
    assert!(ok(&top, reg("tributi", Role::Top)));
    assert!(ok(&admin, reg("polizia", Role::Standard)));
    assert!(!ok(&admin, reg("polizia", Role::Admin)));
    assert!(!ok(&admin, reg("tributi", Role::Standard)));
    assert!(!ok(&std1, reg("polizia", Role::Standard)));
    // Profiling users: an ADMIN within its own profile, own ente, STANDARD only.
    let set = |ente, role, profile| Action::SetProfile {
        user: "s2",
        ente,
        role,
        profile,
    };
    assert!(ok(&top, set("polizia", Role::Standard, &full)));
    assert!(ok(&admin, set("polizia", Role::Standard, &small)));
    assert!(!ok(&admin, set("polizia", Role::Standard, &full)));
    assert!(!ok(&admin, set("tributi", Role::Standard, &small)));
    assert!(!ok(&admin, set("polizia", Role::Admin, &small)));
    assert!(!ok(&std1, set("polizia", Role::Standard, &small)));
    // Submitting: STANDARD only, within the profile.
    assert!(ok(&std1, Action::Submit { asked: &small }));
    assert!(!ok(&std1, Action::Submit { asked: &full }));
    assert!(!ok(&top, Action::Submit { asked: &small }));
    assert!(!ok(&admin, Action::Submit { asked: &small }));
    // Deciding and configuring: TOP only.
    for a in [Action::Decide, Action::Configure] {
        assert!(ok(&top, a.clone()));
        assert!(!ok(&admin, a.clone()));
        assert!(!ok(&std1, a));
    }
    // Viewing: TOP all, ADMIN own ente, STANDARD own requests.
    let view = |owner, ente| Action::View { owner, ente };
    assert!(ok(&top, view("x", "tributi")));
    assert!(ok(&admin, view("s9", "polizia")));
    assert!(!ok(&admin, view("x", "tributi")));
    assert!(ok(&std1, view("s1", "polizia")));
    assert!(!ok(&std1, view("s2", "polizia")));
    // Downloading: the requester only.
    assert!(ok(&std1, Action::Download { owner: "s1" }));
    assert!(!ok(&std1, Action::Download { owner: "s2" }));
    assert!(!ok(&top, Action::Download { owner: "s1" }));
    assert!(!ok(&admin, Action::Download { owner: "s1" }));
    // Reports: TOP all, ADMIN own ente, STANDARD none.
    assert!(ok(&top, Action::Report { ente: None }));
    assert!(ok(
        &admin,
        Action::Report {
            ente: Some("polizia")
        }
    ));
    assert!(!ok(&admin, Action::Report { ente: None }));
    assert!(!ok(
        &admin,
        Action::Report {
            ente: Some("tributi")
        }
    ));
    assert!(!ok(
        &std1,
        Action::Report {
            ente: Some("polizia")
        }
    ));
    // A disabled user may do nothing.
    let off = Actor {
        active: false,
        ..top.clone()
    };
    assert_eq!(
        authorize(&off, &Action::Decide).unwrap_err().code(),
        "rivestizione_denied"
    );
}

proptest! {
    /// A request is allowed only within its user's profile: never a data
    /// set the profile does not grant, never a wider scope.
    #[test]
    fn a_request_never_exceeds_its_user_s_profile(mine in profile_strategy(), asked in profile_strategy()) {
        let me = actor("u", Role::Standard, "e", &mine);
        let allowed = authorize(&me, &Action::Submit { asked: &asked }).is_ok();
        let within = asked.data.iter().all(|d| mine.grants(*d)) && asked.scope <= mine.scope;
        prop_assert_eq!(allowed, within);
        if !allowed {
            let code = authorize(&me, &Action::Submit { asked: &asked }).unwrap_err().code();
            prop_assert_eq!(code, "rivestizione_profile");
        }
    }

    /// An ADMIN never grants more than it has, nor outside its ente.
    #[test]
    fn an_admin_grants_within_its_own_profile(mine in profile_strategy(), given in profile_strategy(), same in any::<bool>(), role in role_strategy()) {
        let admin = actor("a", Role::Admin, "e1", &mine);
        let ente = if same { "e1" } else { "e2" };
        let ok = authorize(&admin, &Action::SetProfile { user: "s", ente, role, profile: &given }).is_ok();
        prop_assert_eq!(ok, same && role == Role::Standard && mine.check_within(&given).is_ok());
    }

    /// Nobody but the requester downloads; a STANDARD user sees only its
    /// own requests, an ADMIN only its ente's.
    #[test]
    fn data_stays_with_its_requester(role in role_strategy(), me_owner in any::<bool>(), same_ente in any::<bool>()) {
        let p = Profile::none();
        let me = actor("me", role, "e1", &p);
        let owner = if me_owner { "me" } else { "other" };
        let ente = if same_ente { "e1" } else { "e2" };
        prop_assert_eq!(authorize(&me, &Action::Download { owner }).is_ok(), me_owner);
        let sees = authorize(&me, &Action::View { owner, ente }).is_ok();
        let expected = match role {
            Role::Top => true,
            Role::Admin => same_ente,
            Role::Standard => me_owner,
        };
        prop_assert_eq!(sees, expected);
    }

    /// The transition rule: nothing reaches `processing` without being
    /// approved; final states stay final; every refusal has the stable code.
    #[test]
    fn transitions_follow_the_notice(from in state_strategy(), i in 0usize..EVENTS.len()) {
        let event = EVENTS[i];
        match transition(from, event) {
            Ok(State::Processing) => prop_assert!(matches!(from, State::Approved | State::Processing)),
            Ok(State::Approved) => prop_assert_eq!(from, State::AwaitingApproval),
            Ok(to) => {
                prop_assert!(!from.is_final());
                prop_assert_ne!(to, State::AwaitingApproval);
            }
            Err(e) => prop_assert_eq!(e.code(), "rivestizione_state"),
        }
        if from.is_final() {
            prop_assert!(transition(from, event).is_err());
        }
    }

    /// Silent assent approves exactly when the delay has passed, never
    /// under manual approval.
    #[test]
    fn silent_assent_after_the_delay(delay in 0u64..1_000_000, elapsed in 0i64..2_000_000) {
        let submitted: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let now = submitted + chrono::Duration::seconds(elapsed);
        let policy = Approval::silent_assent(std::time::Duration::from_secs(delay));
        prop_assert_eq!(policy.assents(submitted, now), elapsed >= delay as i64);
        prop_assert!(!Approval::Manual.assents(submitted, now));
    }

    /// Any text in a request file: each row is one subject or one bad row
    /// with a stable code; never a panic; the same subject once.
    #[test]
    fn every_row_is_a_subject_or_reported(rows in prop::collection::vec(("\\PC{0,12}", "\\PC{0,20}"), 0..20)) {
        let mut csv = String::from("tipo;identificativo\n");
        for (k, v) in &rows {
            let clean = |s: &str| s.replace([';', '"', '\n', '\r'], "");
            csv.push_str(&format!("{};{}\n", clean(k), clean(v)));
        }
        if let Ok(file) = read_subjects(csv.as_bytes()) {
            let mut seen = std::collections::HashSet::new();
            for s in &file.subjects {
                prop_assert!(seen.insert(s.id));
                prop_assert_eq!(SubjectId::parse(s.id.kind(), s.id.value()), Ok(s.id));
            }
            for b in &file.bad {
                prop_assert!(!b.code.is_empty());
            }
        }
    }

    /// Tabella 16 lists parse back from codes and names.
    #[test]
    fn data_lists_round_trip(codes in prop::collection::btree_set(1u8..=30, 0..10), names in any::<bool>()) {
        let text: Vec<String> = codes.iter().map(|c| {
            let d = dato(*c);
            if names { d.name().to_owned() } else { c.to_string() }
        }).collect();
        let parsed = Profile::parse_data(&text.join(", ")).unwrap();
        prop_assert_eq!(parsed, codes.iter().map(|c| dato(*c)).collect());
    }
}

#[test]
fn request_files_by_kind_and_by_column() {
    let csv = "Tipo identificativo;Identificativo;note\n\
               cf;rssmra80a01h501u;x\n\
               carta d'identità;CA00000AA;\n\
               ID_ANPR;AF41450AS;\n\
               permesso di soggiorno;I12345678;\n\
               passaporto;YA1234567;\n\
               CF;RSSMRA80A01H501U;again\n\
               patente;AB123;\n\
               CF;RSSMRA80A01H501X;\n";
    let f = read_subjects(csv.as_bytes()).unwrap();
    let kinds: Vec<_> = f.subjects.iter().map(|s| s.id.kind()).collect();
    assert_eq!(
        kinds,
        [
            SubjectKind::CodiceFiscale,
            SubjectKind::CartaIdentita,
            SubjectKind::IdAnpr,
            SubjectKind::PermessoSoggiorno,
            SubjectKind::Passaporto
        ]
    );
    assert_eq!(f.subjects[0].line, 2);
    let bad: Vec<_> = f.bad.iter().map(|b| (b.line, b.code)).collect();
    assert_eq!(
        bad,
        [
            (7, "rivestizione_duplicate"),
            (8, "rivestizione_subject_kind"),
            (9, "cf_check_char")
        ]
    );
    // No identifier leaks through Debug.
    assert!(!format!("{:?}", f.subjects[0]).contains("RSSMRA80A01H501U"));

    // One codice fiscale column.
    let f = read_subjects("Codice fiscale\nRSSMRA80A01H501U\n".as_bytes()).unwrap();
    assert_eq!(f.subjects.len(), 1);
    // No usable column.
    let e = read_subjects("nome;cognome\nA;B\n".as_bytes()).unwrap_err();
    assert_eq!(e.code(), "rivestizione_file_columns");
}

#[test]
fn motivo_is_required_and_bounded() {
    assert_eq!(check_motivo("  prot. 123/2026 "), Ok("prot. 123/2026"));
    assert_eq!(check_motivo(" ").unwrap_err().code(), "rivestizione_motivo");
    assert!(check_motivo(&"x".repeat(201)).is_err());
    assert!(check_motivo("a\u{7}b").is_err());
}
