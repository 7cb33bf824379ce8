//! The sandbox's ANPR SOAP 3002 endpoint (search by document), at
//! [`ANPR_SOAP_PATH`] on the TLS port only (mTLS: a client certificate
//! issued by the sandbox CA; on the plain port it answers `403`).
//!
//! Same population as the E002 backends ([`super`]): the people are
//! the first [`SOAP_POPULATION`] codes of the sandbox sample
//! ([`SandboxHandle::anpr_soap_people`](crate::sandbox::SandboxHandle::anpr_soap_people));
//! each has documents derived from (seed, codice fiscale)
//! ([`SandboxHandle::anpr_documenti`](crate::sandbox::SandboxHandle::anpr_documenti)): Italians a
//! carta d'identità (CIE 3.0 `CA00000AA` shape, or paper `AA1234567`)
//! issued by their comune of residence (one in ten by a consulate),
//! foreigners (born abroad, or one in five) a permesso di soggiorno with its
//! questura and a passport. People ANPR does not know
//! ([`super::AnprCase::NotFound`]) have no documents.
//!
//! Answers: `EHR41` / `EHR67` / `EHR68` for incomplete criteria, `EN122`
//! when nobody matches, the subjects otherwise; `ricercaNazionale` 0
//! limits to the residents of `comuneResidenza` (the sandbox Comune is
//! [`SANDBOX_ISTAT`]; other comuni get a synthetic code `9xxxxx`).

use anist_core::anpr::e002::ErroreAnomalia;
use anist_core::anpr::soap3002::{
    parse_richiesta, write_risposta, CartaIdentita, Documento, PermessoSoggiorno, Residenza3002,
    Risposta3002, Soggetto3002, TestataRisposta3002,
};
use anist_core::cf::CodiceFiscale;
use anist_core::synthetic::SplitMix64;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use super::{anpr_case, Anpr, AnprCase};

/// The path of the 3000 services (as ANPR's `AnprService3000`).
pub const ANPR_SOAP_PATH: &str = "/ANPR3000ServiziConsultazione/AnprService3000";
/// The sandbox Comune's codice ISTAT.
pub const SANDBOX_ISTAT: &str = "001272";
/// The anagrafe operator id `anist sandbox` writes in the configuration.
pub const SANDBOX_OPERATOR: &str = "ANAG0001";
/// How many people of the sandbox sample have documents.
pub const SOAP_POPULATION: usize = 300;

const QUESTURE: [&str; 5] = ["TORINO", "MILANO", "ROMA", "NAPOLI", "BOLOGNA"];

/// The documents the sandbox's ANPR knows for one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentiSandbox {
    /// The carta d'identità (Italians): number, issuing comune ISTAT or
    /// consulate code.
    pub carta: Option<(String, Option<String>, Option<String>)>,
    /// The permesso di soggiorno (foreigners): number and questura.
    pub permesso: Option<(String, String)>,
    /// The passport (foreigners).
    pub passaporto: Option<String>,
    /// The codice ISTAT of the comune of residence.
    pub residenza_istat: String,
}

fn rng(seed: u64, cf: &CodiceFiscale, salt: u64) -> SplitMix64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed.rotate_left(29) ^ salt;
    for b in cf.canonical().as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    SplitMix64::new(h)
}

fn letter(r: &mut SplitMix64) -> char {
    char::from(b'A' + u8::try_from(r.below(26)).unwrap_or(0))
}

fn digits(r: &mut SplitMix64, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + u8::try_from(r.below(10)).unwrap_or(0)))
        .collect()
}

fn istat_of(world: &Anpr<'_>, belfiore: &str) -> String {
    if belfiore == world.inps.population().comune() {
        return SANDBOX_ISTAT.to_string();
    }
    let mut h: u64 = 0;
    for b in belfiore.bytes() {
        h = h.wrapping_mul(131).wrapping_add(u64::from(b));
    }
    format!("9{:05}", h % 100_000)
}

/// The documents of `cf` on `date` (`None` when ANPR does not know the
/// person).
pub(in crate::sandbox) fn documenti(
    world: &Anpr<'_>,
    cf: &CodiceFiscale,
    date: NaiveDate,
) -> Option<DocumentiSandbox> {
    let seed = world.anist.population().seed();
    if anpr_case(seed, cf) == AnprCase::NotFound {
        return None;
    }
    let belfiore = super::residence_belfiore(world, cf, date);
    let residenza_istat = istat_of(world, &belfiore);
    let mut r = rng(seed, cf, 0x0D0C_3002);
    let foreigner = cf.belfiore_code().as_str().starts_with('Z') || r.below(5) == 0;
    if foreigner {
        let numero = format!("I{}", digits(&mut r, 8));
        let questura = QUESTURE[usize::try_from(r.below(5)).unwrap_or(0)].to_string();
        let pass = format!("{}{}{}", letter(&mut r), letter(&mut r), digits(&mut r, 7));
        return Some(DocumentiSandbox {
            carta: None,
            permesso: Some((numero, questura)),
            passaporto: Some(pass),
            residenza_istat,
        });
    }
    let numero = if r.below(10) < 7 {
        format!(
            "C{}{}{}{}",
            letter(&mut r),
            digits(&mut r, 5),
            letter(&mut r),
            letter(&mut r)
        )
    } else {
        format!("{}{}{}", letter(&mut r), letter(&mut r), digits(&mut r, 7))
    };
    let (comune, consolato) = if r.below(10) == 0 {
        (None, Some(format!("{}", 1000 + r.below(9000))))
    } else {
        (Some(residenza_istat.clone()), None)
    };
    Some(DocumentiSandbox {
        carta: Some((numero, comune, consolato)),
        permesso: None,
        passaporto: None,
        residenza_istat,
    })
}

/// The people with documents.
pub(in crate::sandbox) fn people(world: &Anpr<'_>) -> Vec<CodiceFiscale> {
    world.inps.population().sample(SOAP_POPULATION)
}

fn matches(doc: &Documento, d: &DocumentiSandbox) -> bool {
    let eq = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    match doc {
        Documento::CartaIdentita {
            numero,
            comune_rilascio,
            codice_consolato_rilascio,
        } => d.carta.as_ref().is_some_and(|(n, c, k)| {
            eq(n, numero) && (c == comune_rilascio && k == codice_consolato_rilascio)
        }),
        Documento::PermessoDiSoggiorno {
            numero_passaporto: Some(p),
            ..
        } => d.passaporto.as_deref().is_some_and(|x| eq(x, p)),
        Documento::PermessoDiSoggiorno {
            questura_rilascio: Some(q),
            numero_soggiorno: Some(n),
            ..
        } => d
            .permesso
            .as_ref()
            .is_some_and(|(pn, pq)| eq(pn, n) && eq(pq, q)),
        _ => false,
    }
}

fn soggetto(
    world: &Anpr<'_>,
    cf: &CodiceFiscale,
    d: &DocumentiSandbox,
    date: NaiveDate,
) -> Soggetto3002 {
    let s = super::subject_of(world, cf, date);
    let res = super::residence_of(world, cf, date);
    let g = s.generalita.unwrap_or_default();
    let ind = res.indirizzo.unwrap_or_default();
    let com = ind.comune.unwrap_or_default();
    let top = ind.toponimo.unwrap_or_default();
    Soggetto3002 {
        id_anpr: super::ids_of(world, cf)
            .first()
            .map(|i| i.as_str().to_string()),
        codice_fiscale: Some(cf.as_str().to_string()),
        validita_cf: Some("1".into()),
        cognome: g.cognome,
        nome: g.nome,
        sesso: g.sesso,
        data_nascita: g.data_nascita,
        luogo_nascita: g
            .luogo_nascita
            .and_then(|l| l.comune)
            .and_then(|c| c.nome_comune.or(c.descrizione_localita)),
        residenze: vec![Residenza3002 {
            tipo_indirizzo: res.tipo_indirizzo,
            cap: ind.cap,
            comune_istat: Some(d.residenza_istat.clone()),
            comune_nome: com.nome_comune,
            provincia: com.sigla_provincia_istat,
            specie: top.specie,
            toponimo: top.denominazione_toponimo,
            civico: ind.numero_civico.and_then(|n| n.numero),
            data_decorrenza: res.data_decorrenza_residenza,
        }],
        carte_identita: d
            .carta
            .iter()
            .map(|(n, c, k)| CartaIdentita {
                numero: n.clone(),
                cartacea_elettronica: Some(if n.starts_with('C') { "E" } else { "C" }.into()),
                comune_rilascio: c.clone(),
                consolato_rilascio: k.clone(),
                ..CartaIdentita::default()
            })
            .collect(),
        permessi_soggiorno: d
            .permesso
            .iter()
            .map(|(n, q)| PermessoSoggiorno {
                numero_soggiorno: Some(n.clone()),
                tipo_soggiorno: Some("1".into()),
                questura_rilascio: Some(q.clone()),
                numero_passaporto: d.passaporto.clone(),
                ..PermessoSoggiorno::default()
            })
            .collect(),
    }
}

fn soap(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn fault(status: StatusCode, code: &str, text: &str) -> Response {
    soap(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><soapenv:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        ),
    )
}

/// Answers `POST` [`ANPR_SOAP_PATH`] (`via_tls`: on the TLS port, with a
/// client certificate).
pub(in crate::sandbox) fn handle(world: &Anpr<'_>, via_tls: bool, body: &[u8]) -> Response {
    if !via_tls {
        return fault(
            StatusCode::FORBIDDEN,
            "soapenv:Client",
            "client certificate required (mTLS)",
        );
    }
    let Ok((operatore, req)) = parse_richiesta(body) else {
        return fault(
            StatusCode::BAD_REQUEST,
            "soapenv:Client",
            "not a Richiesta3002",
        );
    };
    if operatore.trim().is_empty() {
        return fault(
            StatusCode::FORBIDDEN,
            "wsse:FailedAuthentication",
            "operator user id missing",
        );
    }
    let testata = TestataRisposta3002 {
        id_operazione_comune: Some(req.testata.id_operazione_comune.as_str().to_string()),
        id_operazione_anpr: Some(format!("3002{}", req.testata.id_operazione_comune.as_str())),
        esito_operazione: None,
    };
    let ko = |codice: &str, testo: &str| {
        let r = Risposta3002::Ko {
            testata: TestataRisposta3002 {
                esito_operazione: Some("KO".into()),
                ..testata.clone()
            },
            errori: vec![ErroreAnomalia::new(codice, "E", testo)],
        };
        soap(StatusCode::OK, write_risposta(&r))
    };
    if let Err(e) = req.validate() {
        return match e.anpr_code() {
            Some((c, t)) => ko(c, t),
            None => ko("EN400", "Dati della richiesta non validi"),
        };
    }
    let date = NaiveDate::parse_from_str(&req.data_riferimento, "%Y-%m-%d").unwrap_or_default();
    let filtro = req.comune_filtro().map(str::to_string);
    let found: Vec<Soggetto3002> = people(world)
        .iter()
        .filter_map(|cf| documenti(world, cf, date).map(|d| (cf, d)))
        .filter(|(_, d)| matches(&req.criterio, d))
        .filter(|(_, d)| filtro.as_deref().is_none_or(|f| f == d.residenza_istat))
        .map(|(cf, d)| soggetto(world, cf, &d, date))
        .collect();
    if found.is_empty() {
        return ko(
            "EN122",
            "La richiesta effettuata non produce alcun risultato",
        );
    }
    let r = Risposta3002::Ok {
        testata: TestataRisposta3002 {
            esito_operazione: Some("OK".into()),
            ..testata
        },
        soggetti: found,
        anomalie: Vec::new(),
    };
    soap(StatusCode::OK, write_risposta(&r))
}
