//! A sandbox SIDI: a deterministic synthetic school (an istituto
//! comprensivo with a primaria and a secondaria di I grado, some hundreds
//! of pupils) and a local database that drifted from it in every way the
//! comparison must handle. Synthetic people only
//! ([`anist_core::synthetic`]).

use std::collections::BTreeMap;

use anist_core::sidi::{
    class_key, CodeTables, LocalRecord, LocalSchool, Provenance, SidiAlunno, SidiClasse, SidiMark,
    SidiSede, SidiSnapshot, StatoFrequenza, SyncField, Tracked,
};
use anist_core::synthetic::{SplitMix64, SyntheticPeople};
use chrono::{Datelike, NaiveDate};

/// The primaria plesso of the sandbox school.
pub const SEDE_PRIMARIA: &str = "RMEE81701L";
/// The secondaria di I grado plesso of the sandbox school.
pub const SEDE_MEDIA: &str = "RMMM81701G";
/// The sync id of the earlier sync the local database came from.
pub const PREVIOUS_SYNC: &str = "sandbox-precedente";

/// The keys of the drift, one list per case (codici fiscali for SIDI
/// pupils, local ids for local records), for tests and demos.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Pupils only on SIDI (to import).
    pub new_pupils: Vec<String>,
    /// Pupils withdrawn or transferred on SIDI.
    pub withdrawn: Vec<String>,
    /// Local pupils no longer on SIDI (local ids).
    pub local_only: Vec<String>,
    /// The local pupil already marked "not for SIDI" (local id).
    pub not_for_sidi: Vec<String>,
    /// Names corrected on SIDI for pupils validated by the Agenzia delle
    /// Entrate (automatic).
    pub corrected_names: Vec<String>,
    /// A local name edit against a pupil not validated (conflict).
    pub conflicting_names: Vec<String>,
    /// Codes now validated by the Agenzia delle Entrate.
    pub validated: Vec<String>,
    /// A pupil moved to another class.
    pub class_change: Vec<String>,
    /// Two local records of one pupil (the pupil's code).
    pub duplicate: Vec<String>,
    /// A provisional local code replaced on SIDI without saying so (the
    /// new code).
    pub provisional_replaced: Vec<String>,
    /// A provisional local code replaced on SIDI with `cf_precedente` (the
    /// new code).
    pub provisional_declared: Vec<String>,
    /// A tempo-scuola code unknown on both sides.
    pub unknown_code: Vec<String>,
    /// A pupil's class missing among SIDI's classes (class key).
    pub unknown_class: Vec<String>,
    /// A local class SIDI does not have (class key).
    pub local_class: Vec<String>,
    /// A pupil whose birth year does not fit the class.
    pub incongruence: Vec<String>,
}

impl std::fmt::Debug for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drift")
            .field("new_pupils", &self.new_pupils.len())
            .field("withdrawn", &self.withdrawn.len())
            .field("local_only", &self.local_only.len())
            .finish_non_exhaustive()
    }
}

/// A sandbox school: SIDI's side, the drifted local side, and what drifted.
#[derive(Debug, Clone)]
pub struct SandboxSchool {
    /// SIDI's download.
    pub sidi: SidiSnapshot,
    /// The local database.
    pub local: LocalSchool,
    /// The cases planted.
    pub drift: Drift,
}

fn tables() -> CodeTables {
    let mut t = CodeTables::default();
    // "10 = 24 ore settimanali" is attested (Argo); the other codes are
    // examples, the real table is not public.
    for (c, d) in [
        ("10", "24 ORE SETTIMANALI"),
        ("11", "27 ORE SETTIMANALI"),
        ("12", "30 ORE SETTIMANALI"),
        ("13", "40 ORE A TEMPO PIENO"),
        ("20", "30 ORE DI ORARIO ORDINARIO"),
        ("21", "36 ORE A TEMPO PROLUNGATO"),
    ] {
        t.tempo_scuola.insert(c.to_owned(), d.to_owned());
    }
    t.indirizzi
        .insert("MUS".to_owned(), "INDIRIZZO MUSICALE".to_owned());
    t
}

fn record_from(p: &SidiAlunno, provenance: &Provenance, locked: bool) -> LocalRecord {
    let mut rec = LocalRecord::default();
    for (f, v) in p.values() {
        rec.fields.insert(
            f,
            Tracked {
                value: v,
                provenance: provenance.clone(),
                locked,
            },
        );
    }
    rec
}

fn set_local(rec: &mut LocalRecord, field: SyncField, value: &str) {
    rec.fields.insert(field, Tracked::local(value));
}

/// Takes the first pupil of `order` that `pred` accepts.
fn take(
    order: &mut Vec<usize>,
    sidi: &SidiSnapshot,
    pred: impl Fn(&SidiAlunno) -> bool,
) -> Option<usize> {
    let pos = order.iter().position(|&i| pred(&sidi.alunni[i]))?;
    Some(order.remove(pos))
}

/// A provisional (11-digit) code from a number.
fn provisional(n: u64) -> String {
    format!("9{:010}", n % 10_000_000_000)
}

/// Generates the sandbox school: `pupils` pupils (at least 40) on SIDI for
/// the school year starting in `start_year`, seeded.
pub fn generate(seed: u64, pupils: usize, start_year: u16) -> SandboxSchool {
    let pupils = pupils.max(40);
    let year = i32::from(start_year);
    let anno = format!("{}/{}", start_year, start_year + 1);
    let mut rng = SplitMix64::new(seed ^ 0x5151_D1D1);
    let from = NaiveDate::from_ymd_opt(year - 13, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year - 6, 12, 31).unwrap_or_default();
    let mut people = SyntheticPeople::new(seed, from, to);

    let mut sidi = SidiSnapshot {
        sync_id: format!("sandbox-{seed}-{start_year}"),
        anno_scolastico: anno.clone(),
        sedi: vec![
            SidiSede {
                codice_meccanografico: SEDE_PRIMARIA.to_owned(),
                denominazione: "PLESSO GIANNI RODARI (sandbox)".to_owned(),
                comune: "H501".to_owned(),
            },
            SidiSede {
                codice_meccanografico: SEDE_MEDIA.to_owned(),
                denominazione: "SCUOLA MEDIA ADA NEGRI (sandbox)".to_owned(),
                comune: "H501".to_owned(),
            },
        ],
        codes: tables(),
        ..SidiSnapshot::default()
    };
    let sections = ["A", "B", "C"];
    for a in 1..=5u8 {
        for (i, s) in sections.iter().enumerate() {
            let tempo = ["10", "12", "13"][i];
            sidi.classi.push(SidiClasse {
                sede: SEDE_PRIMARIA.to_owned(),
                anno_corso: a,
                sezione: (*s).to_owned(),
                tempo_scuola: tempo.to_owned(),
                indirizzo: String::new(),
            });
        }
    }
    for a in 1..=3u8 {
        for (i, s) in sections.iter().enumerate() {
            sidi.classi.push(SidiClasse {
                sede: SEDE_MEDIA.to_owned(),
                anno_corso: a,
                sezione: (*s).to_owned(),
                tempo_scuola: if i == 2 { "21" } else { "20" }.to_owned(),
                indirizzo: if i == 0 { "MUS" } else { "" }.to_owned(),
            });
        }
    }

    let mut seen = std::collections::BTreeSet::new();
    let mut next_pupil = |people: &mut SyntheticPeople, rng: &mut SplitMix64| loop {
        let p = people.next_person();
        if !seen.insert(p.codice_fiscale.to_string()) {
            continue;
        }
        let born = p.birth_date.year();
        let (sede, anno_corso) = if born >= year - 10 {
            (SEDE_PRIMARIA, u8::try_from(year - 5 - born).unwrap_or(1))
        } else {
            (SEDE_MEDIA, u8::try_from(year - 10 - born).unwrap_or(1))
        };
        let sezione = sections[usize::try_from(rng.below(3)).unwrap_or(0)];
        let validated = rng.below(10) != 0;
        return SidiAlunno {
            codice_fiscale: p.codice_fiscale.to_string(),
            cf_validato_ade: validated,
            cf_provvisorio: false,
            cf_precedente: None,
            cognome: p.surname.to_uppercase(),
            nome: p.name.to_uppercase(),
            sesso: match p.sex {
                anist_core::cf::Sex::Male => "M",
                anist_core::cf::Sex::Female => "F",
            }
            .to_owned(),
            data_nascita: p.birth_date,
            luogo_nascita: p.place_code.to_owned(),
            cittadinanza: if p.place_code.starts_with('Z') {
                "ESTERA"
            } else {
                "ITALIANA"
            }
            .to_owned(),
            classe: class_key(sede, anno_corso, sezione),
            anno_scolastico: anno.clone(),
            stato: StatoFrequenza::Frequentante,
        };
    };
    for _ in 0..pupils {
        let p = next_pupil(&mut people, &mut rng);
        sidi.alunni.push(p);
    }

    // The local database: the previous sync, validated pupils locked, the
    // others entered locally; local-only fields on every pupil.
    let prev = Provenance::Sidi {
        sync_id: PREVIOUS_SYNC.to_owned(),
    };
    let mut local = LocalSchool {
        codes: tables(),
        ..LocalSchool::default()
    };
    for s in &sidi.sedi {
        let mut rec = LocalRecord::default();
        for (f, v) in s.values() {
            rec.fields.insert(
                f,
                Tracked {
                    value: v,
                    provenance: prev.clone(),
                    locked: true,
                },
            );
        }
        local.sedi.insert(s.codice_meccanografico.clone(), rec);
    }
    for c in &sidi.classi {
        let mut rec = LocalRecord::default();
        for (f, v) in c.values() {
            rec.fields.insert(
                f,
                Tracked {
                    value: v,
                    provenance: prev.clone(),
                    locked: true,
                },
            );
        }
        local.classi.insert(c.key(), rec);
    }
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (i, p) in sidi.alunni.iter().enumerate() {
        let id = format!("A{:05}", i + 1);
        let mut rec = if p.cf_validato_ade {
            record_from(p, &prev, true)
        } else {
            record_from(p, &Provenance::Local, false)
        };
        rec.local_only
            .insert("telefono".to_owned(), format!("06 5550{:04}", i % 10_000));
        rec.local_only
            .insert("note".to_owned(), "recapito sintetico".to_owned());
        ids.insert(p.cf(), id.clone());
        local.alunni.insert(id, rec);
    }

    let mut drift = Drift::default();
    let n = sidi.alunni.len();
    // Disjoint pupils for each case, taken from a shuffled order.
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
    let validated = |p: &SidiAlunno| p.cf_validato_ade;
    let not_validated = |p: &SidiAlunno| !p.cf_validato_ade;
    let any = |_: &SidiAlunno| true;

    // Withdrawn / transferred on SIDI.
    for stato in [
        StatoFrequenza::Ritirato,
        StatoFrequenza::Trasferito,
        StatoFrequenza::IscrizioneNonConfermata,
    ] {
        if let Some(i) = take(&mut order, &sidi, validated) {
            sidi.alunni[i].stato = stato;
            drift.withdrawn.push(sidi.alunni[i].cf());
        }
    }
    // Names corrected on SIDI (validated: automatic).
    for _ in 0..2 {
        if let Some(i) = take(&mut order, &sidi, validated) {
            let p = &mut sidi.alunni[i];
            p.cognome = format!("{} DE SANTIS", p.cognome);
            drift.corrected_names.push(p.cf());
        }
    }
    // A local edit of a name SIDI has otherwise, not validated: conflict.
    if let Some(i) = take(&mut order, &sidi, not_validated) {
        let p = &sidi.alunni[i];
        if let Some(rec) = ids.get(&p.cf()).and_then(|id| local.alunni.get_mut(id)) {
            set_local(rec, SyncField::Nome, &format!("{}A", p.nome));
        }
        drift.conflicting_names.push(p.cf());
    }
    // Codes validated by the Agenzia delle Entrate since.
    for _ in 0..3 {
        if let Some(i) = take(&mut order, &sidi, not_validated) {
            sidi.alunni[i].cf_validato_ade = true;
            drift.validated.push(sidi.alunni[i].cf());
        }
    }
    // A class change.
    if let Some(i) = take(&mut order, &sidi, validated) {
        let p = &mut sidi.alunni[i];
        let (sede, rest) = p.classe.split_once('/').unwrap_or((SEDE_PRIMARIA, "1A"));
        let anno_corso = rest
            .chars()
            .next()
            .and_then(|c| c.to_digit(10))
            .unwrap_or(1);
        let new_section = if rest.ends_with('A') { "B" } else { "A" };
        p.classe = class_key(sede, u8::try_from(anno_corso).unwrap_or(1), new_section);
        drift.class_change.push(p.cf());
    }
    // Two local records of one pupil.
    if let Some(i) = take(&mut order, &sidi, validated) {
        let p = &sidi.alunni[i];
        let mut rec = record_from(p, &Provenance::Local, false);
        rec.local_only
            .insert("note".to_owned(), "inserito due volte".to_owned());
        local.alunni.insert("D00001".to_owned(), rec);
        drift.duplicate.push(p.cf());
    }
    // A provisional local code, replaced on SIDI without cf_precedente.
    if let Some(i) = take(&mut order, &sidi, any) {
        let p = &sidi.alunni[i];
        if let Some(rec) = ids.get(&p.cf()).and_then(|id| local.alunni.get_mut(id)) {
            *rec = record_from(p, &Provenance::Local, false);
            set_local(rec, SyncField::CodiceFiscale, &provisional(rng.next_u64()));
            set_local(rec, SyncField::CfProvvisorio, "true");
            set_local(rec, SyncField::CfValidatoAde, "false");
        }
        drift.provisional_replaced.push(p.cf());
    }
    // … and one with cf_precedente.
    if let Some(i) = take(&mut order, &sidi, any) {
        let old = provisional(rng.next_u64());
        let p = &mut sidi.alunni[i];
        p.cf_precedente = Some(old.clone());
        if let Some(rec) = ids.get(&p.cf()).and_then(|id| local.alunni.get_mut(id)) {
            *rec = record_from(p, &Provenance::Local, false);
            set_local(rec, SyncField::CodiceFiscale, &old);
            set_local(rec, SyncField::CfProvvisorio, "true");
        }
        drift.provisional_declared.push(p.cf());
    }
    // An incongruence: born six years before the class's usual year.
    if let Some(i) = take(&mut order, &sidi, validated) {
        let p = &mut sidi.alunni[i];
        let d = p.data_nascita;
        p.data_nascita = NaiveDate::from_ymd_opt(d.year() - 6, d.month(), 1).unwrap_or(d);
        drift.incongruence.push(p.cf());
    }
    // Pupils gone from SIDI: local only.
    for _ in 0..2 {
        if let Some(i) = take(&mut order, &sidi, any) {
            let p = sidi.alunni.remove(i);
            for o in &mut order {
                if *o > i {
                    *o -= 1;
                }
            }
            if let Some(id) = ids.get(&p.cf()) {
                drift.local_only.push(id.clone());
            }
        }
    }
    // A local pupil marked "not for SIDI" (never sent).
    let mut extra = next_pupil(&mut people, &mut rng);
    extra.cf_validato_ade = false;
    let mut rec = record_from(&extra, &Provenance::Local, false);
    rec.mark = Some(SidiMark::NotForSidi);
    local.alunni.insert("N00001".to_owned(), rec);
    drift.not_for_sidi.push("N00001".to_owned());
    // New pupils on SIDI.
    for _ in 0..5 {
        let p = next_pupil(&mut people, &mut rng);
        drift.new_pupils.push(p.cf());
        sidi.alunni.push(p);
    }
    // A pupil in a class SIDI's class list lacks.
    let mut orphan = next_pupil(&mut people, &mut rng);
    let born = orphan.data_nascita.year();
    let anno_corso = u8::try_from((year - 5 - born).clamp(1, 5)).unwrap_or(1);
    orphan.classe = class_key(SEDE_PRIMARIA, anno_corso, "Z");
    drift.unknown_class.push(orphan.classe.clone());
    drift.new_pupils.push(orphan.cf());
    sidi.alunni.push(orphan);
    // A new class with a tempo-scuola code unknown on both sides.
    sidi.classi.push(SidiClasse {
        sede: SEDE_PRIMARIA.to_owned(),
        anno_corso: 1,
        sezione: "D".to_owned(),
        tempo_scuola: "99".to_owned(),
        indirizzo: String::new(),
    });
    drift.unknown_code.push("99".to_owned());
    // A new code in SIDI's table, and a description changed.
    sidi.codes
        .tempo_scuola
        .insert("14".to_owned(), "29 ORE SETTIMANALI".to_owned());
    sidi.codes.tempo_scuola.insert(
        "10".to_owned(),
        "24 ORE SETTIMANALI (ORARIO ORDINARIO)".to_owned(),
    );
    // A local class SIDI does not have.
    let key = class_key(SEDE_PRIMARIA, 5, "E");
    let mut rec = LocalRecord::from_values([
        (SyncField::Sede, SEDE_PRIMARIA.to_owned()),
        (SyncField::AnnoCorso, "5".to_owned()),
        (SyncField::Sezione, "E".to_owned()),
        (SyncField::TempoScuola, "10".to_owned()),
        (SyncField::Indirizzo, String::new()),
    ]);
    rec.local_only
        .insert("aula".to_owned(), "piano terra".to_owned());
    local.classi.insert(key.clone(), rec);
    drift.local_class.push(key);

    SandboxSchool { sidi, local, drift }
}
