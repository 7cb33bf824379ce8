//! The SIDI plan and apply rules, as properties over random small schools:
//! applying the plan makes local == SIDI on every synced field; applying
//! twice is a no-op; local-only fields are never touched; a locked field
//! cannot be edited locally; a plan survives JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use anist_core::sidi::{
    self, class_key, ActionKind, CodeTables, Decision, Entity, LocalRecord, LocalSchool,
    Provenance, SidiAlunno, SidiClasse, SidiError, SidiMark, SidiSede, SidiSnapshot,
    StatoFrequenza, SyncField, Tracked,
};
use anist_core::synthetic::{SyntheticPeople, SyntheticPerson};
use chrono::NaiveDate;
use proptest::prelude::*;

const SEDE: &str = "RMEE81701L";

fn pool() -> &'static [SyntheticPerson] {
    static POOL: OnceLock<Vec<SyntheticPerson>> = OnceLock::new();
    POOL.get_or_init(|| {
        let from = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2020, 12, 31).unwrap();
        let mut people = SyntheticPeople::new(99, from, to);
        let mut out: Vec<SyntheticPerson> = Vec::new();
        while out.len() < 8 {
            let p = people.next_person();
            if out.iter().all(|q| q.codice_fiscale != p.codice_fiscale) {
                out.push(p);
            }
        }
        out
    })
}

const CLASSES: [(u8, &str); 3] = [(1, "A"), (2, "A"), (3, "B")];

fn pupil(idx: usize, variant: bool, class: usize, validated: bool, stato: u8) -> SidiAlunno {
    let p = &pool()[idx];
    let (anno, sez) = CLASSES[class % 3];
    SidiAlunno {
        codice_fiscale: p.codice_fiscale.to_string(),
        cf_validato_ade: validated,
        cf_provvisorio: false,
        cf_precedente: None,
        cognome: if variant {
            format!("{} BIS", p.surname)
        } else {
            p.surname.to_owned()
        },
        nome: p.name.to_owned(),
        sesso: "F".into(),
        data_nascita: p.birth_date,
        luogo_nascita: p.place_code.to_owned(),
        cittadinanza: "ITALIANA".into(),
        classe: class_key(SEDE, anno, sez),
        anno_scolastico: "2026/2027".into(),
        stato: match stato {
            0 => StatoFrequenza::Frequentante,
            1 => StatoFrequenza::Ritirato,
            _ => StatoFrequenza::Altro("Z9".into()),
        },
    }
}

#[derive(Debug, Clone)]
struct LocalSpec {
    idx: usize,
    variant: bool,
    class: usize,
    from_sidi: bool,
    locked: bool,
    mark: u8,
    extra: Vec<(String, String)>,
    provisional: bool,
}

fn local_spec() -> impl Strategy<Value = LocalSpec> {
    (
        0..8usize,
        any::<bool>(),
        0..3usize,
        any::<bool>(),
        any::<bool>(),
        0..4u8,
        prop::collection::vec(("[a-z]{1,5}", "[a-z0-9 ]{0,8}"), 0..3),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            |(idx, variant, class, from_sidi, locked, mark, extra, provisional)| LocalSpec {
                idx,
                variant,
                class,
                from_sidi,
                locked,
                mark,
                extra,
                provisional,
            },
        )
}

fn build(
    sidi_specs: &BTreeMap<usize, (bool, usize, bool, u8)>,
    locals: &[LocalSpec],
    local_classes: usize,
) -> (SidiSnapshot, LocalSchool) {
    let mut codes = CodeTables::default();
    codes.set(sidi::TableKind::TempoScuola, "10", "24 ORE SETTIMANALI");
    let sidi = SidiSnapshot {
        sync_id: "prop".into(),
        anno_scolastico: "2026/2027".into(),
        sedi: vec![SidiSede {
            codice_meccanografico: SEDE.into(),
            denominazione: "PLESSO".into(),
            comune: "H501".into(),
        }],
        classi: CLASSES
            .iter()
            .map(|(a, s)| SidiClasse {
                sede: SEDE.into(),
                anno_corso: *a,
                sezione: (*s).into(),
                tempo_scuola: "10".into(),
                indirizzo: String::new(),
            })
            .collect(),
        codes,
        alunni: sidi_specs
            .iter()
            .map(|(i, (v, c, val, st))| pupil(*i, *v, *c, *val, *st))
            .collect(),
    };
    let mut local = LocalSchool::default();
    for c in sidi.classi.iter().take(local_classes) {
        local
            .classi
            .insert(c.key(), LocalRecord::from_values(c.values()));
    }
    for (n, s) in locals.iter().enumerate() {
        let p = pupil(s.idx, s.variant, s.class, false, 0);
        let prov = if s.from_sidi {
            Provenance::Sidi {
                sync_id: "old".into(),
            }
        } else {
            Provenance::Local
        };
        let mut rec = LocalRecord::default();
        for (f, v) in p.values() {
            rec.fields.insert(
                f,
                Tracked {
                    value: v,
                    provenance: prov.clone(),
                    locked: s.from_sidi && s.locked,
                },
            );
        }
        if s.provisional {
            rec.fields.insert(
                SyncField::CodiceFiscale,
                Tracked::local(format!("9000000000{}", s.idx)),
            );
            rec.fields
                .insert(SyncField::CfProvvisorio, Tracked::local("true"));
        }
        rec.mark = match s.mark {
            1 => Some(SidiMark::LocalOnly),
            2 => Some(SidiMark::NotForSidi),
            _ => None,
        };
        rec.local_only = s.extra.iter().cloned().collect();
        local.alunni.insert(format!("L{n}"), rec);
    }
    (sidi, local)
}

fn decide_all(plan: &mut sidi::Plan) {
    sidi::decide_with(plan, |a| match &a.kind {
        ActionKind::LocalOnly { .. } => Some(Decision::KeepLocalOnly),
        ActionKind::Duplicate { local_ids, .. } => Some(Decision::Merge {
            keep: local_ids[0].clone(),
        }),
        _ => Some(Decision::AcceptSidi),
    });
}

fn sidi_specs() -> impl Strategy<Value = BTreeMap<usize, (bool, usize, bool, u8)>> {
    prop::collection::btree_map(
        0..8usize,
        (any::<bool>(), 0..3usize, any::<bool>(), 0..3u8),
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn apply_aligns_is_idempotent_and_keeps_local_fields(
        specs in sidi_specs(),
        locals in prop::collection::vec(local_spec(), 0..10),
        local_classes in 0..4usize,
    ) {
        let (snapshot, before) = build(&specs, &locals, local_classes);
        let mut plan = sidi::diff(&before, &snapshot);
        decide_all(&mut plan);
        prop_assert!(plan.pending().is_empty());
        let mut after = before.clone();
        let report = sidi::apply(&mut after, &plan);
        prop_assert!(report.pending.is_empty());
        prop_assert!(report.stale.is_empty());

        // Local == SIDI on every synced field, and locked.
        for p in &snapshot.alunni {
            let values: BTreeMap<_, _> = p.values().into_iter().collect();
            let found = after.alunni.values().any(|r| {
                values.iter().all(|(f, v)| {
                    r.fields.get(f).is_some_and(|t| t.value == *v && t.locked)
                })
            });
            prop_assert!(found, "no aligned local record for a SIDI pupil");
        }
        for c in &snapshot.classi {
            let r = after.classi.get(&c.key()).unwrap();
            for (f, v) in c.values() {
                prop_assert_eq!(r.value(f), v.as_str());
                prop_assert!(r.is_locked(f));
            }
        }

        // Applying twice changes nothing; comparing again finds nothing to do.
        let (again, _) = sidi::changes(&after, &plan);
        prop_assert!(again.is_empty(), "second apply wrote {:?}", again);
        let second = sidi::diff(&after, &snapshot);
        prop_assert!(
            second.actions.iter().all(|a| a.is_report()),
            "second diff: {:?}", second.actions
        );

        // Local-only fields are never touched (merges only add keys).
        for (id, rec) in &after.alunni {
            if let Some(old) = before.alunni.get(id) {
                for (k, v) in &old.local_only {
                    prop_assert_eq!(rec.local_only.get(k), Some(v));
                }
            }
        }
        // Records marked "not for SIDI" are untouched.
        for (id, old) in &before.alunni {
            if old.mark == Some(SidiMark::NotForSidi) {
                prop_assert_eq!(after.alunni.get(id), Some(old));
            }
        }

        // A locked field cannot be edited locally.
        let locked: Vec<(Entity, String, SyncField)> = after
            .locks()
            .into_iter()
            .map(|(e, id, f, _)| (e, id.to_owned(), f))
            .collect();
        for (e, id, f) in locked {
            let err = after.edit(e, &id, f, "X").unwrap_err();
            prop_assert_eq!(err, SidiError::Locked { field: f });
        }
    }

    #[test]
    fn automatic_apply_is_idempotent_and_leaves_pending(
        specs in sidi_specs(),
        locals in prop::collection::vec(local_spec(), 0..10),
    ) {
        let (snapshot, before) = build(&specs, &locals, 3);
        let plan = sidi::diff(&before, &snapshot);
        let mut after = before.clone();
        let report = sidi::apply(&mut after, &plan);
        prop_assert_eq!(report.pending, plan.pending());
        prop_assert!(sidi::changes(&after, &plan).0.is_empty());
        // Records waiting for a decision are untouched.
        for a in &plan.actions {
            if a.needs_decision() {
                let ids: Vec<&String> = match &a.kind {
                    ActionKind::Align { local_id, .. } | ActionKind::LocalOnly { local_id } => vec![local_id],
                    ActionKind::Duplicate { local_ids, .. } => local_ids.iter().collect(),
                    _ => vec![],
                };
                for id in ids {
                    prop_assert_eq!(after.alunni.get(id), before.alunni.get(id));
                }
            }
        }
    }

    #[test]
    fn plan_survives_json(
        specs in sidi_specs(),
        locals in prop::collection::vec(local_spec(), 0..10),
    ) {
        let (snapshot, before) = build(&specs, &locals, 2);
        let mut plan = sidi::diff(&before, &snapshot);
        decide_all(&mut plan);
        let json = serde_json::to_string(&plan).unwrap();
        let back: sidi::Plan = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &plan);
        let snap_json = serde_json::to_string(&snapshot).unwrap();
        let snap_back: SidiSnapshot = serde_json::from_str(&snap_json).unwrap();
        prop_assert_eq!(snap_back, snapshot);
    }

    #[test]
    fn unlocked_fields_stay_editable(value in "[A-Z]{1,10}") {
        let mut rec = LocalRecord::from_values([(SyncField::Cognome, "ROSSI")]);
        prop_assert!(rec.edit(SyncField::Cognome, &value).is_ok());
        prop_assert_eq!(rec.value(SyncField::Cognome), value.as_str());
        rec.fields.get_mut(&SyncField::Cognome).unwrap().locked = true;
        prop_assert!(rec.edit(SyncField::Cognome, "X").is_err());
    }
}

#[test]
fn locked_error_says_what_to_do() {
    let e = SidiError::Locked {
        field: SyncField::Cognome,
    };
    assert_eq!(anist_core::ErrorCode::code(&e), "sidi_locked");
    assert!(e
        .to_string()
        .contains("modificare su SIDI e sincronizzare di nuovo"));
}

#[test]
fn debug_masks_personal_data() {
    let p = pupil(0, false, 0, true, 0);
    let cf = p.codice_fiscale.clone();
    let debug = format!("{p:?}");
    assert!(!debug.contains(&cf));
    assert!(!debug.contains(&p.cognome));
    let local = LocalRecord::from_values(p.values());
    let debug = format!("{local:?}");
    assert!(!debug.contains(&cf));
    assert!(!debug.contains(&p.cognome));
    let plan = sidi::diff(
        &LocalSchool::default(),
        &SidiSnapshot {
            sync_id: "x".into(),
            anno_scolastico: "2026/2027".into(),
            alunni: vec![p.clone()],
            ..SidiSnapshot::default()
        },
    );
    assert!(!format!("{plan:?}").contains(&cf));
}
