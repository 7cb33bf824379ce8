//! SIDI sync on the sandbox school: every conflict case of the issue, the
//! SQLite store (atomic, interrupted apply leaves before-or-after, file
//! 0600, locks), and the interchange readers (JSON and CSV round trips,
//! tolerant CSV). Synthetic people only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use anist_client::sidi::interchange::{read_csv, read_json, write_csv, write_json};
use anist_client::sidi::sandbox::{self, SandboxSchool};
use anist_client::sidi::{apply_plan, full_changeset, LocalStore, SqliteStore, StoreError};
use anist_core::sidi::{
    self, ActionKind, Decision, DuplicateReason, Entity, Plan, Side, SidiError, SidiMark,
    StatoFrequenza, SyncField, TableKind, FLAG_KEPT,
};
use anist_core::ErrorCode;

fn school() -> SandboxSchool {
    sandbox::generate(17, 300, 2026)
}

fn plan_of(s: &SandboxSchool) -> Plan {
    sidi::diff(&s.local, &s.sidi)
}

fn kinds_for<'a>(plan: &'a Plan, key: &str) -> Vec<&'a ActionKind> {
    plan.actions
        .iter()
        .filter(|a| a.key == key)
        .map(|a| &a.kind)
        .collect()
}

fn store_with(s: &SandboxSchool) -> SqliteStore {
    let mut store = SqliteStore::in_memory().unwrap();
    store.commit(&full_changeset(&s.local)).unwrap();
    store
}

#[test]
fn sandbox_is_deterministic_and_synthetic_sized() {
    let a = school();
    let b = school();
    assert_eq!(a.sidi, b.sidi);
    assert_eq!(a.local, b.local);
    assert!(a.sidi.alunni.len() >= 300);
    assert_ne!(sandbox::generate(18, 300, 2026).sidi, a.sidi);
    // Every SIDI code is a valid codice fiscale.
    for p in &a.sidi.alunni {
        assert!(anist_core::cf::AnyCodiceFiscale::parse(&p.codice_fiscale).is_ok());
    }
}

#[test]
fn order_is_sidi_order() {
    let s = school();
    let plan = plan_of(&s);
    let rank = |a: &sidi::Action| match (&a.entity, &a.kind) {
        (Entity::Sede, _) => 0,
        (Entity::Classe, ActionKind::UpdateCode { .. } | ActionKind::UnknownCode { .. }) => 2,
        (Entity::Classe, _) => 1,
        (Entity::Alunno, _) => 3,
    };
    let ranks: Vec<_> = plan.actions.iter().map(rank).collect();
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_eq!(ranks, sorted);
    for (i, a) in plan.actions.iter().enumerate() {
        assert_eq!(a.id, i + 1);
    }
}

#[test]
fn new_pupils_are_imported_automatically() {
    let s = school();
    let plan = plan_of(&s);
    for cf in &s.drift.new_pupils {
        let kinds = kinds_for(&plan, cf);
        assert!(
            kinds
                .iter()
                .any(|k| matches!(k, ActionKind::Import { local_id, .. } if *local_id == format!("sidi-{cf}"))),
            "{kinds:?}"
        );
    }
}

#[test]
fn withdrawn_pupils_are_aligned_automatically() {
    let s = school();
    let plan = plan_of(&s);
    for cf in &s.drift.withdrawn {
        let a = plan.actions.iter().find(|a| a.key == *cf).unwrap();
        let ActionKind::Align { changes, .. } = &a.kind else {
            panic!("{a:?}")
        };
        assert!(changes
            .iter()
            .any(|c| c.field == SyncField::StatoFrequenza && !c.conflict));
        assert!(!a.needs_decision());
    }
}

#[test]
fn local_only_pupils_wait_for_a_decision() {
    let s = school();
    let mut plan = plan_of(&s);
    let ids: Vec<usize> = plan
        .actions
        .iter()
        .filter(|a| matches!(a.kind, ActionKind::LocalOnly { .. }))
        .map(|a| a.id)
        .collect();
    let keys: BTreeSet<_> = ids
        .iter()
        .map(|i| plan.action(*i).unwrap().key.clone())
        .collect();
    assert_eq!(keys, s.drift.local_only.iter().cloned().collect());
    // The record already marked "not for SIDI" is not compared at all.
    assert!(plan
        .actions
        .iter()
        .all(|a| a.key != s.drift.not_for_sidi[0]));
    plan.decide(ids[0], Decision::KeepLocalOnly).unwrap();
    plan.decide(ids[1], Decision::MarkNotForSidi).unwrap();
    let err = plan.decide(ids[0], Decision::AcceptSidi).unwrap_err();
    assert_eq!(err.code(), "sidi_decision_not_allowed");
    let mut local = s.local.clone();
    sidi::apply(&mut local, &plan);
    let k0 = &plan.action(ids[0]).unwrap().key;
    let k1 = &plan.action(ids[1]).unwrap().key;
    assert_eq!(local.alunni[k0].mark, Some(SidiMark::LocalOnly));
    assert_eq!(local.alunni[k1].mark, Some(SidiMark::NotForSidi));
    // Decided: not asked again.
    let again = sidi::diff(&local, &s.sidi);
    assert!(again.actions.iter().all(|a| a.key != *k0 && a.key != *k1));
}

#[test]
fn corrected_names_validated_are_automatic_and_local_edits_conflict() {
    let s = school();
    let plan = plan_of(&s);
    for cf in &s.drift.corrected_names {
        let a = plan.actions.iter().find(|a| a.key == *cf).unwrap();
        let ActionKind::Align { changes, .. } = &a.kind else {
            panic!()
        };
        let c = changes
            .iter()
            .find(|c| c.field == SyncField::Cognome)
            .unwrap();
        assert!(c.sidi.ends_with("DE SANTIS"));
        assert!(!a.needs_decision());
    }
    let cf = &s.drift.conflicting_names[0];
    let a = plan.actions.iter().find(|a| a.key == *cf).unwrap();
    assert!(a.needs_decision());
    let ActionKind::Align {
        changes, local_id, ..
    } = &a.kind
    else {
        panic!()
    };
    assert!(changes
        .iter()
        .any(|c| c.field == SyncField::Nome && c.conflict));

    // Keep and flag: the local name stays, unlocked; the record is flagged.
    let mut keep = plan.clone();
    keep.decide(a.id, Decision::KeepAndFlag).unwrap();
    let mut local = s.local.clone();
    sidi::apply(&mut local, &keep);
    let rec = &local.alunni[local_id];
    assert_eq!(rec.flag.as_deref(), Some(FLAG_KEPT));
    assert!(!rec.is_locked(SyncField::Nome));
    assert!(rec.value(SyncField::Nome).ends_with('A'));
    assert!(rec.is_locked(SyncField::Cognome));

    // Accept SIDI: SIDI's name, locked.
    let mut accept = plan.clone();
    accept.decide(a.id, Decision::AcceptSidi).unwrap();
    let mut local = s.local.clone();
    sidi::apply(&mut local, &accept);
    let p = s.sidi.alunni.iter().find(|p| p.cf() == *cf).unwrap();
    assert_eq!(local.alunni[local_id].value(SyncField::Nome), p.nome);
    assert!(local.alunni[local_id].is_locked(SyncField::Nome));
}

#[test]
fn codes_validated_by_the_agenzia_are_synced() {
    let s = school();
    let plan = plan_of(&s);
    let mut local = s.local.clone();
    sidi::apply(&mut local, &plan);
    for cf in &s.drift.validated {
        let a = plan.actions.iter().find(|a| a.key == *cf).unwrap();
        assert!(!a.needs_decision());
        let ActionKind::Align { local_id, .. } = &a.kind else {
            panic!()
        };
        let rec = &local.alunni[local_id];
        assert_eq!(rec.value(SyncField::CfValidatoAde), "true");
        assert!(rec.is_locked(SyncField::CfValidatoAde));
        assert!(rec.is_locked(SyncField::Cognome));
    }
}

#[test]
fn class_change_is_synced() {
    let s = school();
    let plan = plan_of(&s);
    let cf = &s.drift.class_change[0];
    let a = plan.actions.iter().find(|a| a.key == *cf).unwrap();
    let ActionKind::Align { changes, .. } = &a.kind else {
        panic!()
    };
    let c = changes
        .iter()
        .find(|c| c.field == SyncField::Classe)
        .unwrap();
    assert_ne!(c.local.as_deref(), Some(c.sidi.as_str()));
    assert!(!a.needs_decision());
}

#[test]
fn duplicates_are_merged_on_decision() {
    let s = school();
    let mut plan = plan_of(&s);
    let cf = &s.drift.duplicate[0];
    let a = plan.actions.iter().find(|a| a.key == *cf).unwrap().clone();
    let ActionKind::Duplicate {
        local_ids, reason, ..
    } = &a.kind
    else {
        panic!("{a:?}")
    };
    assert_eq!(*reason, DuplicateReason::SamePerson);
    assert_eq!(local_ids.len(), 2);
    assert!(local_ids.contains(&"D00001".to_owned()));
    let keep = local_ids.iter().find(|i| *i != "D00001").unwrap().clone();
    let err = plan
        .decide(
            a.id,
            Decision::Merge {
                keep: "nope".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "sidi_decision_not_allowed");
    plan.decide(a.id, Decision::Merge { keep: keep.clone() })
        .unwrap();
    let mut local = s.local.clone();
    let report = sidi::apply(&mut local, &plan);
    assert!(report.records_removed >= 1);
    assert!(!local.alunni.contains_key("D00001"));
    let kept = &local.alunni[&keep];
    assert_eq!(kept.value(SyncField::CodiceFiscale), cf);
    assert!(kept.is_locked(SyncField::CodiceFiscale));
    // The kept record keeps its own local-only fields.
    assert_eq!(
        s.local.alunni[&keep].local_only["note"],
        kept.local_only["note"]
    );
}

#[test]
fn provisional_codes_replaced() {
    let s = school();
    let mut plan = plan_of(&s);
    // Without cf_precedente: a probable duplicate, decided.
    let cf = &s.drift.provisional_replaced[0];
    let a = plan.actions.iter().find(|a| a.key == *cf).unwrap().clone();
    let ActionKind::Duplicate {
        local_ids, reason, ..
    } = &a.kind
    else {
        panic!("{a:?}")
    };
    assert_eq!(*reason, DuplicateReason::ProvisionalReplaced);
    assert_eq!(local_ids.len(), 1);
    let id = local_ids[0].clone();
    plan.decide(a.id, Decision::AcceptSidi).unwrap();
    // With cf_precedente: aligned automatically, the code replaced.
    let cf2 = &s.drift.provisional_declared[0];
    let b = plan.actions.iter().find(|a| a.key == *cf2).unwrap();
    assert!(!b.needs_decision());
    let ActionKind::Align { local_id, .. } = &b.kind else {
        panic!("{b:?}")
    };
    let id2 = local_id.clone();
    let mut local = s.local.clone();
    sidi::apply(&mut local, &plan);
    assert_eq!(local.alunni[&id].value(SyncField::CodiceFiscale), cf);
    assert_eq!(local.alunni[&id].value(SyncField::CfProvvisorio), "false");
    assert_eq!(local.alunni[&id2].value(SyncField::CodiceFiscale), cf2);
}

#[test]
fn unknown_codes_and_classes_are_reported_never_dropped() {
    let s = school();
    let plan = plan_of(&s);
    assert!(plan.actions.iter().any(|a| matches!(&a.kind,
        ActionKind::UnknownCode { table: TableKind::TempoScuola, code } if code == "99")));
    let class = &s.drift.unknown_class[0];
    assert!(plan.actions.iter().any(|a| matches!(&a.kind,
        ActionKind::UnknownClass { classe, missing_on: Side::Local } if classe == class)));
    let local_class = &s.drift.local_class[0];
    assert!(plan.actions.iter().any(|a| matches!(&a.kind,
        ActionKind::NotOnSidi { local_id } if local_id == local_class)));
    // Code table updates: a new code and a changed description.
    assert!(plan.actions.iter().any(|a| matches!(&a.kind,
        ActionKind::UpdateCode { code, local: None, .. } if code == "14")));
    assert!(plan.actions.iter().any(|a| matches!(&a.kind,
        ActionKind::UpdateCode { code, local: Some(_), .. } if code == "10")));
    let mut local = s.local.clone();
    sidi::apply(&mut local, &plan);
    // The class with the unknown code is imported with its code kept.
    let key = anist_core::sidi::class_key(sandbox::SEDE_PRIMARIA, 1, "D");
    assert_eq!(local.classi[&key].value(SyncField::TempoScuola), "99");
    assert_eq!(local.codes.tempo_scuola["14"], "29 ORE SETTIMANALI");
    // The pupil of the unknown class has it.
    let orphan = local
        .alunni
        .values()
        .find(|r| r.value(SyncField::Classe) == class)
        .unwrap();
    assert!(orphan.is_locked(SyncField::Classe));
    // The local class is untouched; the school can update its tables.
    assert_eq!(local.classi[local_class], s.local.classi[local_class]);
    local
        .codes
        .set(TableKind::TempoScuola, "99", "ORARIO SPERIMENTALE");
    let again = sidi::diff(&local, &s.sidi);
    assert!(!again
        .actions
        .iter()
        .any(|a| matches!(a.kind, ActionKind::UnknownCode { .. })));
}

#[test]
fn birth_year_incongruence_is_reported() {
    let s = school();
    let plan = plan_of(&s);
    let cf = &s.drift.incongruence[0];
    assert!(plan
        .actions
        .iter()
        .any(|a| a.key == *cf && matches!(a.kind, ActionKind::Incongruence { .. })));
    // Only planted ones (and the orphan's, possibly): the generator is congruent.
    let n = plan
        .actions
        .iter()
        .filter(|a| matches!(a.kind, ActionKind::Incongruence { .. }))
        .count();
    assert!(n <= 2, "{n}");
}

#[test]
fn sqlite_store_round_trips_and_applies_atomically() {
    let s = school();
    let mut store = store_with(&s);
    assert_eq!(store.load().unwrap(), s.local);
    let plan = plan_of(&s);

    // An apply interrupted in its transaction leaves the database as before.
    store.fail_after(Some(7));
    let err = apply_plan(&mut store, &plan).unwrap_err();
    assert!(matches!(err, StoreError::Interrupted));
    assert_eq!(err.code(), "sidi_store_interrupted");
    assert_eq!(store.load().unwrap(), s.local);

    // Completed: as after the in-memory apply.
    store.fail_after(None);
    let report = apply_plan(&mut store, &plan).unwrap();
    let mut expected = s.local.clone();
    sidi::apply(&mut expected, &plan);
    assert_eq!(store.load().unwrap(), expected);
    assert_eq!(report.pending, plan.pending());
    // Twice: nothing more.
    let again = apply_plan(&mut store, &plan).unwrap();
    assert_eq!(again.records_written, 0);
    assert_eq!(store.load().unwrap(), expected);
}

#[test]
fn sqlite_refuses_local_edits_of_locked_fields() {
    let s = school();
    let mut store = store_with(&s);
    let plan = plan_of(&s);
    apply_plan(&mut store, &plan).unwrap();
    let cf = &s.drift.new_pupils[0];
    let id = format!("sidi-{cf}");
    let err = store
        .edit(Entity::Alunno, &id, SyncField::Cognome, "ALTRO")
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Sidi(SidiError::Locked {
            field: SyncField::Cognome
        })
    ));
    assert_eq!(err.code(), "sidi_locked");
    assert!(err.to_string().contains("modificare su SIDI"));
    // The conflicting pupil's name was kept pending: still editable.
    let cf = &s.drift.conflicting_names[0];
    let ActionKind::Align { local_id, .. } =
        &plan.actions.iter().find(|a| a.key == *cf).unwrap().kind
    else {
        panic!()
    };
    store
        .edit(Entity::Alunno, local_id, SyncField::Nome, "NUOVO")
        .unwrap();
    assert_eq!(
        store.load().unwrap().alunni[local_id].value(SyncField::Nome),
        "NUOVO"
    );
}

#[cfg(unix)]
#[test]
fn sqlite_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("anist-sidi-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("locale.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut store = SqliteStore::open(&path).unwrap();
    store
        .commit(&full_changeset(&sandbox::generate(1, 40, 2026).local))
        .unwrap();
    drop(store);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load().unwrap(), sandbox::generate(1, 40, 2026).local);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn interchange_json_and_csv_round_trip() {
    let s = school();
    let mut json = Vec::new();
    write_json(&s.sidi, &mut json).unwrap();
    assert_eq!(read_json(&json).unwrap().snapshot, s.sidi);
    let mut csv = Vec::new();
    write_csv(&s.sidi, &mut csv).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let back = read_csv(&csv[..]).unwrap();
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    assert_eq!(back.snapshot, s.sidi);
    assert_eq!(anist_client::sidi::read_any(&csv).unwrap().snapshot, s.sidi);
}

#[test]
fn interchange_csv_is_tolerant() {
    // Windows-1252, `,`, other column order and case, a bad row, ISO and
    // Italian dates, S/N flags, class by its parts.
    let text = "RECORD,Codice,Anno Scolastico,Codice Fiscale,Cognome,Nome,Sesso,Data Nascita,Luogo Nascita,Codice Meccanografico,Anno Corso,Sezione,CF Validato ADE,Stato Frequenza\r\n\
        sincronizzazione,S1,2026/2027,,,,,,,,,,,\r\n\
        alunno,,2026/2027,RSSMRA20A01H501G,ROSSI,NICOL\u{f2},M,01/01/2020,H501,RMEE81701L,1,A,S,ritirato\r\n\
        alunno,,2026/2027,NOTACODE,ROSSI,ADA,F,2020-01-01,H501,RMEE81701L,1,A,N,\r\n\
        classe,,,,,,,,,RMEE81701L,x,A,,\r\n\
        boh,,,,,,,,,,,,,\r\n";
    let bytes = latin1(text);
    let r = read_csv(&bytes[..]).unwrap();
    assert_eq!(r.snapshot.sync_id, "S1");
    assert_eq!(r.snapshot.alunni.len(), 1);
    let p = &r.snapshot.alunni[0];
    assert_eq!(p.nome, "NICOL\u{f2}");
    assert_eq!(p.classe, "RMEE81701L/1A");
    assert!(p.cf_validato_ade);
    assert_eq!(p.stato, StatoFrequenza::Ritirato);
    let codes: Vec<_> = r.problems.iter().map(|p| (p.line, p.code)).collect();
    assert_eq!(
        codes,
        [
            (4, "sidi_row_cf"),
            (5, "sidi_row_anno_corso"),
            (6, "sidi_row_record")
        ]
    );
    // No sync record: refused with a code.
    let err = read_csv(&b"record;codice\nsede;X\n"[..]).unwrap_err();
    assert_eq!(err.code(), "sidi_interchange_missing");
    let err = read_json(b"{\"sync_id\": 3}").unwrap_err();
    assert_eq!(err.code(), "sidi_interchange_json");
}

/// Latin-1 subset of Windows-1252: every char below U+0100 is one byte.
fn latin1(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect()
}
