//! The sandbox's synthetic ISEE data: a pure function of (seed, codice
//! fiscale, date), so that any valid code gets an answer and tests can ask
//! what it will be ([`IseePopulation::expected`]).

use std::fmt;

use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    corrente_valid_until, dsu_valid_until, entry_section, Attestazione, Beneficiario, Calcolo,
    ComponenteNucleo, Corrente, Euro, Indicatore, IseeEntry, IseeKind, IseeValues,
    OmissioneDifformita, Rapporto, Scala,
};
use anist_core::synthetic::{SplitMix64, SyntheticPeople};
use chrono::{Datelike, Days, NaiveDate};

/// Share of codes without an ISEE (`DATI_NON_TROVATI`), percent.
pub const NOT_FOUND_PERCENT: u64 = 8;

/// Share of households residing in another Comune than the calling one,
/// percent.
pub const ELSEWHERE_PERCENT: u64 = 15;

/// Comuni (Belfiore codes) the other households reside in: Milano, Torino,
/// Napoli, Bologna, Palermo, Roma.
const OTHER_COMUNI: [&str; 6] = ["F205", "L219", "F839", "A944", "G273", "H501"];

/// The synthetic ISEE of every codice fiscale, for one seed and one
/// calling Comune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IseePopulation {
    seed: u64,
    comune: String,
}

/// What the sandbox answers for a code on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IseeExpected {
    /// No valid ISEE on that date: `DATI_NON_TROVATI` (also for 11-digit
    /// codes and codes whose check character is wrong).
    NotFound,
    /// The household and its attestazione.
    Found(Box<IseeHousehold>),
}

impl IseeExpected {
    /// The household, if found.
    pub fn household(&self) -> Option<&IseeHousehold> {
        match self {
            IseeExpected::NotFound => None,
            IseeExpected::Found(h) => Some(h),
        }
    }
}

/// A household with its DSU: the attestazione INPS would return (without
/// the echoed request and `raw_xml`) and the Comune of residence (not in
/// the XML; used by the Residenti services).
#[derive(Clone, PartialEq, Eq)]
pub struct IseeHousehold {
    /// Belfiore code of the Comune of residence of the household.
    pub comune: String,
    /// The attestazione (`ricerca` `None`, `raw_xml` empty).
    pub attestazione: Attestazione,
}

impl fmt::Debug for IseeHousehold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IseeHousehold")
            .field("comune", &self.comune)
            .field("attestazione", &self.attestazione)
            .finish()
    }
}

impl IseeHousehold {
    /// Whether the household resides in the Comune with this Belfiore code.
    pub fn resides_in(&self, belfiore: &str) -> bool {
        self.comune.eq_ignore_ascii_case(belfiore)
    }

    /// The indicatore of `kind` for `person` (a member): the household's
    /// for ordinario (or corrente) and socio-sanitario, the person's own
    /// entry for minorenni and universitario; `None` when the DSU has no
    /// such indicator (`DATI_NON_TROVATI`). `household` is left empty (the
    /// Nucleo Riscontro service adds it).
    pub fn indicatore(&self, person: &AnyCodiceFiscale, kind: &IseeKind) -> Option<Indicatore> {
        let att = &self.attestazione;
        let headline = att.headline()?;
        let entry = match kind {
            IseeKind::Ordinario | IseeKind::Corrente => headline,
            IseeKind::Minorenni | IseeKind::Universitario => att
                .entries_of(kind)
                .find(|e| e.beneficiary.as_ref().map(|b| &b.codice_fiscale) == Some(person))?,
            other => att.entries_of(other).find(|e| e.beneficiary.is_none())?,
        };
        let mut values = entry.values.or(headline.values)?;
        if let Some(v) = entry.isee {
            values.isee = v;
        }
        Some(Indicatore {
            kind: Some(entry.kind.clone()),
            values,
            protocollo_dsu: Some(att.protocollo_dsu),
            presented_on: Some(att.presented_on),
            corrente_valid_until: (entry.kind == IseeKind::Corrente)
                .then(|| att.corrente_expires_on())
                .flatten(),
            ricerca: None,
            household: Vec::new(),
            raw_xml: String::new(),
        })
    }
}

fn mix(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = SplitMix64::new(seed ^ 0x15ee_15ee_15ee_15ee).next_u64();
    for &b in bytes {
        h = SplitMix64::new(h ^ u64::from(b)).next_u64();
    }
    h
}

fn cents(rng: &mut SplitMix64, max_euros: u64) -> i64 {
    i64::try_from(rng.below(max_euros * 100)).unwrap_or(0)
}

/// Scala di equivalenza by household size (DPCM 159/2013 table), in
/// ten-thousandths.
fn scala_for(size: usize) -> u32 {
    match size {
        0 | 1 => 10_000,
        2 => 15_700,
        3 => 20_400,
        4 => 24_600,
        5 => 28_500,
        n => 28_500 + 3_500 * u32::try_from(n - 5).unwrap_or(1),
    }
}

fn age_on(birth: NaiveDate, date: NaiveDate) -> i32 {
    let mut age = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// One member being built.
struct Member {
    cf: CodiceFiscale,
    surname: String,
    name: String,
    relationship: &'static str,
    birth: NaiveDate,
}

impl IseePopulation {
    /// The population of `seed`, called by the Comune with Belfiore code
    /// `comune` (most households reside there).
    pub fn new(seed: u64, comune: &str) -> Self {
        Self {
            seed,
            comune: comune.to_ascii_uppercase(),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The calling Comune (Belfiore code).
    pub fn comune(&self) -> &str {
        &self.comune
    }

    /// `n` synthetic codes (deterministic for the seed), to pick one for
    /// each outcome with [`Self::expected`].
    pub fn sample(&self, n: usize) -> Vec<CodiceFiscale> {
        let from = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default();
        let to = NaiveDate::from_ymd_opt(2022, 12, 31).unwrap_or_default();
        let mut people = SyntheticPeople::new(self.seed ^ 0x5a3b_1e00, from, to);
        (0..n)
            .map(|_| people.next_person().codice_fiscale)
            .collect()
    }

    /// What the sandbox answers for `cf` asked, on `date`, for the ISEE
    /// valid on that same date: [`Self::expected_on`] with `today` =
    /// `date`.
    pub fn expected(&self, cf: &AnyCodiceFiscale, date: NaiveDate) -> IseeExpected {
        self.expected_on(cf, date, date)
    }

    /// What the sandbox answers, on `today`, for the ISEE of `cf` valid on
    /// `date` (`DataValidita`): about [`NOT_FOUND_PERCENT`]% of codes have
    /// no ISEE; the others have a DSU presented in the first two months of
    /// `date`'s year, valid to 31 December. Nothing when that DSU is
    /// presented after `date` or after `today` (no DSU from the future: a
    /// date next year finds nothing until its DSU is presented).
    ///
    /// About 10% of the DSU are ISEE corrente (a modulo sostitutivo 1–20
    /// days after the DSU), valid six months
    /// ([`anist_core::isee::corrente_valid_until`]): asked for a date
    /// after that, the answer is the household's ISEE ordinario, never the
    /// expired corrente.
    pub fn expected_on(
        &self,
        cf: &AnyCodiceFiscale,
        date: NaiveDate,
        today: NaiveDate,
    ) -> IseeExpected {
        let AnyCodiceFiscale::Persona(person) = cf else {
            return IseeExpected::NotFound;
        };
        let mut rng = SplitMix64::new(mix(self.seed, person.as_str().as_bytes()));
        if rng.below(100) < NOT_FOUND_PERCENT {
            return IseeExpected::NotFound;
        }
        let year = date.year();
        let Ok(year16) = u16::try_from(year) else {
            return IseeExpected::NotFound;
        };
        if !(DsuProtocol::MIN_YEAR..=DsuProtocol::MAX_YEAR).contains(&year16) {
            return IseeExpected::NotFound;
        }
        let Some(jan2) = NaiveDate::from_ymd_opt(year, 1, 2) else {
            return IseeExpected::NotFound;
        };
        let presented_on = jan2 + Days::new(rng.below(60));
        if date.min(today) < presented_on {
            return IseeExpected::NotFound;
        }
        let Ok(protocollo_dsu) = DsuProtocol::parse(&format!(
            "INPS-ISEE-{year}-{:08}{}-00",
            rng.below(100_000_000),
            char::from(b'A' + u8::try_from(rng.below(26)).unwrap_or(0))
        )) else {
            return IseeExpected::NotFound;
        };
        let comune = if rng.below(100) < ELSEWHERE_PERCENT {
            OTHER_COMUNI
                .iter()
                .copied()
                .filter(|c| !c.eq_ignore_ascii_case(&self.comune))
                .nth(usize::try_from(rng.below(5)).unwrap_or(0))
                .unwrap_or("F205")
                .to_string()
        } else {
            self.comune.clone()
        };

        // The household: the person, and 0..=5 others.
        let size = 1 + usize::try_from(rng.below(6)).unwrap_or(0);
        let person_birth = person.birth_date_relative_to(date).unwrap_or(date);
        let minor = age_on(person_birth, date) < 18;
        let ymd = |y: i32, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(date);
        let mut people_adults =
            SyntheticPeople::new(rng.next_u64(), ymd(year - 75, 1, 1), ymd(year - 25, 12, 31));
        let mut people_young =
            SyntheticPeople::new(rng.next_u64(), ymd(year - 24, 1, 1), ymd(year, 1, 1));
        let family = people_adults.next_person();
        let surname = family.surname.to_string();
        let mut members: Vec<Member> = Vec::with_capacity(size);
        let as_member = |p: anist_core::synthetic::SyntheticPerson, rel: &'static str| Member {
            cf: p.codice_fiscale,
            surname: surname.clone(),
            name: p.name.to_string(),
            relationship: rel,
            birth: p.birth_date,
        };
        // The person's given name agrees with the sex of their code.
        let drawn = people_young.next_person();
        let name = if drawn.sex == person.sex() {
            drawn.name
        } else {
            anist_core::synthetic::given_name(
                person.sex(),
                drawn.birth_date.num_days_from_ce().unsigned_abs().into(),
            )
        };
        let me = Member {
            cf: *person,
            surname: surname.clone(),
            name: name.to_string(),
            relationship: if minor { "F" } else { "D" },
            birth: person_birth,
        };
        if minor {
            members.push(as_member(family, "D"));
            members.push(me);
        } else {
            members.push(me);
        }
        while members.len() < size {
            let spouse_missing = !members.iter().any(|m| m.relationship == "C");
            if spouse_missing && rng.below(2) == 0 {
                members.push(as_member(people_adults.next_person(), "C"));
            } else {
                members.push(as_member(people_young.next_person(), "F"));
            }
        }
        let dichiarante = members
            .iter()
            .find(|m| m.relationship == "D")
            .map(|m| m.cf)
            .unwrap_or_else(|| *person);

        // The values.
        let isr = Euro::from_cents(cents(&mut rng, 60_000));
        let isp = Euro::from_cents(cents(&mut rng, 200_000));
        let ise = Euro::from_cents(isr.cents() + isp.cents() / 5);
        let scala_tt = scala_for(members.len());
        let isee = Euro::from_cents(ise.cents() * 10_000 / i64::from(scala_tt));
        let values = IseeValues {
            isee,
            ise: Some(ise),
            isr: Some(isr),
            isp: Some(isp),
            scala: Scala::from_ten_thousandths(scala_tt),
        };
        let issued_on = Some(presented_on + Days::new(2));
        let corrente = (rng.below(100) < 10)
            .then(|| {
                let on = presented_on + Days::new(1 + rng.below(20));
                Corrente {
                    modulo_presented_on: Some(on),
                    modulo_protocol: protocollo_dsu.with_version(1).map(|p| p.to_string()),
                }
            })
            // An expired corrente is no longer the answer: the ordinario is.
            .filter(|c| {
                c.modulo_presented_on
                    .is_some_and(|on| date <= corrente_valid_until(on))
            });
        let is_corrente = corrente.is_some();
        let mut entries = Vec::new();
        let push = |e: IseeEntry, entries: &mut Vec<IseeEntry>| {
            let section = entry_section(&e, is_corrente);
            entries.push(IseeEntry { section, ..e });
        };
        push(
            IseeEntry {
                kind: if is_corrente {
                    IseeKind::Corrente
                } else {
                    IseeKind::Ordinario
                },
                beneficiary: None,
                isee: Some(isee),
                values: Some(values),
                issued_on,
                calcolo: Calcolo::Proprio,
                nucleo_ristretto: false,
                section: String::new(),
            },
            &mut entries,
        );
        for m in &members {
            let age = age_on(m.birth, date);
            let kind = if age < 18 {
                IseeKind::Minorenni
            } else if (18..=26).contains(&age) && m.relationship == "F" && rng.below(2) == 0 {
                IseeKind::Universitario
            } else {
                continue;
            };
            let beneficiary = Some(Beneficiario {
                codice_fiscale: AnyCodiceFiscale::Persona(m.cf),
                surname: Some(m.surname.clone()),
                name: Some(m.name.clone()),
            });
            let entry = if rng.below(4) == 0 {
                // A non-cohabiting parent adds a component: a higher ISEE.
                let own = Euro::from_cents(isee.cents() + isee.cents() * 15 / 100);
                IseeEntry {
                    kind,
                    beneficiary,
                    isee: Some(own),
                    values: Some(IseeValues {
                        isee: own,
                        ..values
                    }),
                    issued_on,
                    calcolo: Calcolo::ComponenteAggiuntiva,
                    nucleo_ristretto: false,
                    section: String::new(),
                }
            } else {
                IseeEntry {
                    kind,
                    beneficiary,
                    isee: Some(isee),
                    values: None,
                    issued_on,
                    calcolo: Calcolo::UgualeOrdinario,
                    nucleo_ristretto: false,
                    section: String::new(),
                }
            };
            push(entry, &mut entries);
        }
        if rng.below(100) < 20 {
            let ss = Euro::from_cents(isee.cents() * 9 / 10);
            push(
                IseeEntry {
                    kind: IseeKind::SocioSanitario,
                    beneficiary: None,
                    isee: Some(ss),
                    values: Some(IseeValues { isee: ss, ..values }),
                    issued_on,
                    calcolo: Calcolo::Proprio,
                    nucleo_ristretto: false,
                    section: String::new(),
                },
                &mut entries,
            );
        }
        let omissioni_difformita = if rng.below(100) < 15 {
            vec![OmissioneDifformita {
                codice_fiscale: Some(AnyCodiceFiscale::Persona(dichiarante)),
                tipo: Some(if rng.below(2) == 0 {
                    "OMISSIONE".to_string()
                } else {
                    "DIFFORMITA".to_string()
                }),
                data_controllo_ae: Some(presented_on + Days::new(1)),
                rapporti: vec![Rapporto {
                    tipo: Some("01".to_string()),
                    identificativo: Some(format!("IT{:020}", rng.below(u64::MAX / 2))),
                    codice_fiscale_operatore: None,
                    operatore: Some("Banca Sandbox S.p.A.".to_string()),
                    data_inizio: None,
                    data_fine: None,
                    saldo_31_12: Some(Euro::from_cents(cents(&mut rng, 30_000))),
                    valore: None,
                    consistenza_media: Some(Euro::from_cents(cents(&mut rng, 30_000))),
                }],
                reddito_ae: false,
            }]
        } else {
            Vec::new()
        };
        let protocollo_mittente =
            (rng.below(100) < 70).then(|| format!("CAF-{year}-{:06}", rng.below(1_000_000)));
        let corrente_expiry = corrente
            .as_ref()
            .and_then(|c| c.modulo_presented_on)
            .map(corrente_valid_until);
        let household = members
            .iter()
            .map(|m| ComponenteNucleo {
                codice_fiscale: AnyCodiceFiscale::Persona(m.cf),
                surname: Some(m.surname.clone()),
                name: Some(m.name.clone()),
                relationship: Some(m.relationship.to_string()),
                flag_assenza_reddito: Some(age_on(m.birth, date) < 18),
            })
            .collect();
        IseeExpected::Found(Box::new(IseeHousehold {
            comune,
            attestazione: Attestazione {
                dichiarante: AnyCodiceFiscale::Persona(dichiarante),
                protocollo_dsu,
                protocollo_mittente,
                presented_on,
                data_validita: Some(dsu_valid_until(presented_on)),
                corrente_valid_until: corrente_expiry,
                corrente,
                household,
                nucleo_ristretto: Vec::new(),
                entries,
                omissioni_difformita,
                variazione: None,
                ricerca: None,
                raw_xml: String::new(),
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anist_core::isee::{parse_attestazione, write_attestazione};

    #[test]
    fn deterministic_mixed_and_round_trips() {
        let pop = IseePopulation::new(7, "H501");
        let date = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        let codes = pop.sample(400);
        assert_eq!(codes, IseePopulation::new(7, "H501").sample(400));
        let (mut not_found, mut elsewhere, mut minors, mut corrente, mut omissioni) =
            (0, 0, 0, 0, 0);
        for cf in &codes {
            let any = AnyCodiceFiscale::Persona(*cf);
            let e = pop.expected(&any, date);
            assert_eq!(e, pop.expected(&any, date));
            let Some(h) = e.household() else {
                not_found += 1;
                continue;
            };
            let att = &h.attestazione;
            assert!(att.member(&any).is_some());
            assert!(att.is_valid_on(date));
            assert!((1..=6).contains(&att.household_size()));
            elsewhere += usize::from(!h.resides_in("H501"));
            minors += usize::from(att.kinds().contains(&IseeKind::Minorenni));
            corrente += usize::from(att.is_corrente());
            omissioni += usize::from(att.has_omissioni_difformita());
            let mut back = parse_attestazione(write_attestazione(att).as_bytes()).unwrap();
            back.raw_xml.clear();
            assert_eq!(&back, att);
            assert!(h.indicatore(&any, &IseeKind::Ordinario).is_some());
        }
        assert!((10..=60).contains(&not_found), "{not_found}");
        assert!(elsewhere > 20, "{elsewhere}");
        assert!(minors > 50, "{minors}");
        assert!(corrente > 10, "{corrente}");
        assert!(omissioni > 20, "{omissioni}");
        // Before the DSU of the year is presented: nothing.
        let jan = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let any = AnyCodiceFiscale::Persona(codes[0]);
        assert_eq!(pop.expected(&any, jan), IseeExpected::NotFound);
        // No DSU from the future: asked today (2 December 2026) for next
        // June, nothing; asked in June for June, the DSU of the year.
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let next_june = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
        for cf in &codes {
            let any = AnyCodiceFiscale::Persona(*cf);
            assert_eq!(
                pop.expected_on(&any, next_june, today),
                IseeExpected::NotFound
            );
        }
        // Never an expired corrente, whatever the date asked.
        let mut expired_seen = 0;
        for cf in &codes {
            let any = AnyCodiceFiscale::Persona(*cf);
            for month in 1..=12 {
                let on = NaiveDate::from_ymd_opt(2026, month, 28).unwrap();
                let Some(h) = pop.expected_on(&any, on, today).household().cloned() else {
                    continue;
                };
                let att = &h.attestazione;
                assert!(att.presented_on <= on);
                assert!(att.is_valid_on(on), "{on}: {:?}", att.valid_until());
                if let Some(end) = att.corrente_expires_on() {
                    assert!(on <= end);
                }
                let ind = h.indicatore(&any, &IseeKind::Ordinario).unwrap();
                assert!(ind.is_valid_on(on), "{on}");
                // The same household in December: the corrente, if any,
                // has expired and the ordinario answers.
                let dec = pop
                    .expected_on(&any, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), today)
                    .household()
                    .cloned()
                    .unwrap();
                if att.is_corrente() {
                    expired_seen += 1;
                    assert!(!dec.attestazione.is_corrente());
                    assert_eq!(
                        dec.attestazione.headline().unwrap().kind,
                        IseeKind::Ordinario
                    );
                    assert_eq!(dec.attestazione.protocollo_dsu, att.protocollo_dsu);
                }
            }
        }
        assert!(expired_seen > 10, "{expired_seen}");
        // Another seed, other households.
        let other = IseePopulation::new(8, "H501");
        assert!(codes.iter().any(|c| {
            let a = AnyCodiceFiscale::Persona(*c);
            other.expected(&a, date) != pop.expected(&a, date)
        }));
    }
}
