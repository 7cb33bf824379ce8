//! The ANPR SOAP 3002 client ([`anist_client::anpr::soap::AnprSoapClient`])
//! against the sandbox's 3002 endpoint over mTLS: each document kind
//! (carta d'identità by comune and by consulate, permesso di soggiorno,
//! passaporto) resolved to the codice fiscale and ID ANPR of the E002
//! population, not found (`EN122`) as an outcome, the three validation
//! errors refused before the call and answered by the endpoint, local vs
//! national search, audit, and mTLS required.
//!
//! Everything talks to 127.0.0.1 only.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::client_key;
use std::path::PathBuf;
use std::sync::Arc;

use anist_client::anpr::soap::{
    AnprSoapClient, AnprSoapError, AnprSoapSettings, RicercaDocumento, RispostaDocumento,
};
use anist_client::anpr::OperationIds;
use anist_client::audit::AuditLog;
use anist_client::sandbox::anpr_soap::{
    DocumentiSandbox, ANPR_SOAP_PATH, SANDBOX_ISTAT, SANDBOX_OPERATOR,
};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_client::voucher::http::HttpOptions;
use anist_core::anpr::e002::IdOperazioneClient;
use anist_core::anpr::soap3002::{
    envelope, parse_risposta, Documento, Esito3002, Richiesta3002, Testata3002,
};
use anist_core::cf::CodiceFiscale;
use anist_core::documents::{DocumentKind, DocumentNumber};
use anist_core::ErrorCode;
use chrono::{NaiveDate, NaiveDateTime};

const SEED: u64 = 20_261_202;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "anist-anpr-soap-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn now() -> NaiveDateTime {
    date().and_hms_opt(10, 0, 0).unwrap()
}

fn settings(sandbox: &SandboxHandle, with_identity: bool) -> AnprSoapSettings {
    let mut s = AnprSoapSettings::new(
        &sandbox.anpr_soap_url().unwrap(),
        SANDBOX_OPERATOR,
        SANDBOX_ISTAT,
    );
    s.ca_pem = Some(sandbox.ca_pem().unwrap().as_bytes().to_vec());
    if with_identity {
        let (cert, key) = sandbox.client_identity_pem().unwrap();
        s.identity_pem = Some((
            cert.as_bytes().to_vec(),
            zeroize::Zeroizing::new(key.as_bytes().to_vec()),
        ));
    }
    s
}

async fn start(dir: &Dir) -> (SandboxHandle, AnprSoapClient) {
    let sandbox = Sandbox::start(SandboxConfig::with_client_key(SEED, client_key()).unwrap())
        .await
        .unwrap();
    let ids = OperationIds::open(&dir.0.join("ids.sqlite")).unwrap();
    let client = AnprSoapClient::new(settings(&sandbox, true), ids).unwrap();
    (sandbox, client)
}

/// The first person of the sandbox whose documents satisfy `pred`.
fn person(
    sandbox: &SandboxHandle,
    pred: impl Fn(&DocumentiSandbox) -> bool,
) -> (CodiceFiscale, DocumentiSandbox) {
    sandbox
        .anpr_soap_people()
        .into_iter()
        .find_map(|cf| {
            sandbox
                .anpr_documenti(&cf, date())
                .filter(|d| pred(d))
                .map(|d| (cf, d))
        })
        .expect("no such person in the sandbox")
}

fn ricerca(documento: Documento, nazionale: bool) -> RicercaDocumento {
    RicercaDocumento {
        documento,
        nazionale,
        motivo: "prot. 77/2026".into(),
        data: date(),
    }
}

fn found_cf(r: &RispostaDocumento) -> Vec<String> {
    match &r.esito {
        Esito3002::Trovati(s) => s
            .iter()
            .map(|s| s.codice_fiscale.clone().unwrap())
            .collect(),
        other => panic!("expected subjects, got {other:?}"),
    }
}

#[tokio::test]
async fn each_document_kind_resolves_to_the_subject() {
    let dir = Dir::new("kinds");
    let (sandbox, client) = start(&dir).await;

    // Carta d'identità issued by the sandbox Comune, local search.
    let (cf, d) = person(&sandbox, |d| {
        d.carta.as_ref().is_some_and(|c| c.1.is_some()) && d.residenza_istat == SANDBOX_ISTAT
    });
    let (numero, comune, _) = d.carta.clone().unwrap();
    let kinds = DocumentNumber::classify(&numero);
    assert!(
        kinds.contains(DocumentKind::Cie3) || kinds.contains(DocumentKind::CartaIdentitaCartacea)
    );
    let r = client
        .cerca(
            &ricerca(Documento::carta(&numero, comune.as_deref(), None), false),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(found_cf(&r), vec![cf.as_str().to_string()]);
    let Esito3002::Trovati(s) = &r.esito else {
        unreachable!()
    };
    let ids = sandbox.anpr_ids(&cf);
    assert_eq!(s[0].id_anpr.as_deref(), Some(ids[0].as_str()));
    assert_eq!(s[0].carte_identita[0].numero, numero);
    assert!(s[0].cognome.is_some() && !s[0].residenze.is_empty());

    // Carta issued by a consulate (national search).
    let (cf, d) = person(&sandbox, |d| {
        d.carta.as_ref().is_some_and(|c| c.2.is_some())
    });
    let (numero, _, consolato) = d.carta.unwrap();
    let r = client
        .cerca(
            &ricerca(Documento::carta(&numero, None, consolato.as_deref()), true),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(found_cf(&r), vec![cf.as_str().to_string()]);

    // Permesso di soggiorno with its questura, and the same person's passport.
    let (cf, d) = person(&sandbox, |d| d.permesso.is_some());
    let (numero, questura) = d.permesso.unwrap();
    DocumentNumber::parse(DocumentKind::PermessoSoggiorno, &numero).unwrap();
    let r = client
        .cerca(
            &ricerca(Documento::permesso(Some(&numero), Some(&questura)), true),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(found_cf(&r), vec![cf.as_str().to_string()]);
    let pass = d.passaporto.unwrap();
    DocumentNumber::parse(DocumentKind::Passaporto, &pass).unwrap();
    let r = client
        .cerca(&ricerca(Documento::passaporto(&pass), true), now())
        .await
        .unwrap();
    assert_eq!(found_cf(&r), vec![cf.as_str().to_string()]);
    // A wrong questura finds nobody.
    let r = client
        .cerca(
            &ricerca(Documento::permesso(Some(&numero), Some("AOSTA")), true),
            now(),
        )
        .await
        .unwrap();
    assert!(matches!(r.esito, Esito3002::NonTrovato { .. }));
}

#[tokio::test]
async fn not_found_is_an_outcome_and_local_search_limits_to_residents() {
    let dir = Dir::new("local");
    let (sandbox, client) = start(&dir).await;
    let r = client
        .cerca(
            &ricerca(
                Documento::carta("CZ99999ZZ", Some(SANDBOX_ISTAT), None),
                true,
            ),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(
        r.esito,
        Esito3002::NonTrovato {
            codice: "EN122".into()
        }
    );

    // Resident elsewhere: the local search does not find them, the
    // national one does.
    let (cf, d) = person(&sandbox, |d| {
        d.carta.as_ref().is_some_and(|c| c.1.is_some()) && d.residenza_istat != SANDBOX_ISTAT
    });
    let (numero, comune, _) = d.carta.unwrap();
    let doc = Documento::carta(&numero, comune.as_deref(), None);
    let local = client
        .cerca(&ricerca(doc.clone(), false), now())
        .await
        .unwrap();
    assert!(matches!(local.esito, Esito3002::NonTrovato { .. }));
    let national = client.cerca(&ricerca(doc, true), now()).await.unwrap();
    assert_eq!(found_cf(&national), vec![cf.as_str().to_string()]);
    // Operation ids strictly increase.
    assert!(
        national.id_operazione.parse::<u64>().unwrap()
            > local.id_operazione.parse::<u64>().unwrap()
    );
}

#[tokio::test]
async fn validation_errors_before_the_call_and_from_the_endpoint() {
    let dir = Dir::new("ehr");
    let (sandbox, client) = start(&dir).await;
    let cases = [
        (Documento::carta("CA00000AA", None, None), "anpr_soap_ehr41"),
        (
            Documento::carta("CA00000AA", Some(SANDBOX_ISTAT), Some("1234")),
            "anpr_soap_ehr41",
        ),
        (Documento::permesso(None, None), "anpr_soap_ehr67"),
        (
            Documento::permesso(Some("I12345678"), None),
            "anpr_soap_ehr68",
        ),
        (Documento::permesso(None, Some("TORINO")), "anpr_soap_ehr68"),
    ];
    // Refused by the client before any call.
    for (doc, code) in &cases {
        let e = client
            .cerca(&ricerca(doc.clone(), true), now())
            .await
            .unwrap_err();
        assert_eq!(e.code(), *code, "{doc:?}");
        assert!(matches!(e, AnprSoapError::Anpr(_)));
    }
    // Answered by the endpoint with ANPR's codes when sent anyway.
    let (cert, key) = sandbox.client_identity_pem().unwrap();
    let http = HttpOptions::default()
        .ca_bundle_pem(sandbox.ca_pem().unwrap().as_bytes().to_vec())
        .client_identity_pem(cert, key)
        .build_client()
        .unwrap();
    for (i, (doc, code)) in cases.iter().enumerate() {
        let testata = Testata3002::new(
            IdOperazioneClient::from_number(100 + i as u64),
            SANDBOX_ISTAT,
            "2026-11-30T10:00:00",
        );
        let req = Richiesta3002::new(testata, doc.clone(), "2026-11-30");
        let body = envelope(&req, SANDBOX_OPERATOR);
        let resp = http
            .post(sandbox.anpr_soap_url().unwrap())
            .body(body)
            .send()
            .await
            .unwrap();
        let bytes = resp.bytes().await.unwrap();
        let e = parse_risposta(&bytes).unwrap().esito().unwrap_err();
        assert_eq!(e.code(), *code);
    }
}

#[tokio::test]
async fn mtls_is_required_and_calls_are_audited() {
    let dir = Dir::new("mtls");
    let (sandbox, client) = start(&dir).await;
    // No client certificate: the handshake is refused.
    let ids = OperationIds::open(&dir.0.join("ids2.sqlite")).unwrap();
    let bare = AnprSoapClient::new(settings(&sandbox, false), ids).unwrap();
    let e = bare
        .cerca(
            &ricerca(
                Documento::carta("CA00000AA", Some(SANDBOX_ISTAT), None),
                true,
            ),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "anpr_soap_http");
    // The plain port refuses the path.
    let resp = reqwest::Client::new()
        .post(format!("{}{ANPR_SOAP_PATH}", sandbox.base_url()))
        .body("<x/>")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // An http:// endpoint is refused by the client.
    let mut s = settings(&sandbox, true);
    s.endpoint = format!("{}{ANPR_SOAP_PATH}", sandbox.base_url());
    let ids = OperationIds::open(&dir.0.join("ids3.sqlite")).unwrap();
    assert_eq!(
        AnprSoapClient::new(s, ids).unwrap_err().code(),
        "anpr_soap_config"
    );

    // Audit: one row per call, the document hashed.
    let audit =
        Arc::new(AuditLog::open(&dir.0.join("audit.sqlite"), &dir.0.join("audit.key")).unwrap());
    let client = client.audited(Arc::clone(&audit));
    let (_, d) = person(&sandbox, |d| d.passaporto.is_some());
    let pass = d.passaporto.unwrap();
    client
        .cerca(&ricerca(Documento::passaporto(&pass), true), now())
        .await
        .unwrap();
    let rows = audit.rows(None, None).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].eservice, "anpr-soap-3002");
    assert_eq!(rows[0].operation, "passaporto");
    assert_eq!(rows[0].outcome, "found:1");
    assert_ne!(rows[0].subject.as_deref(), Some(pass.as_str()));
}

#[test]
fn the_anpr_soap_section_is_read_and_checked() {
    use anist_client::config::Config;
    let dir = Dir::new("config");
    std::fs::write(dir.0.join("cert.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
    std::fs::write(dir.0.join("key.pem"), "-----BEGIN PRIVATE KEY-----\n").unwrap();
    let base = "environment = \"sandbox\"\nclient_id = \"8f0e3a56-4b9c-4d2e-9f1a-0123456789ab\"\nkey = \"key.pem\"\n";
    let section = |url: &str, istat: &str, op: &str, cert: &str| {
        format!(
            "{base}\n[anpr_soap]\nurl = \"{url}\"\noperator_id = \"{op}\"\ncodice_istat = \"{istat}\"\ncert = \"{cert}\"\nkey = \"key.pem\"\n"
        )
    };
    let load = |text: String| {
        Config::from_toml_str(&text)
            .unwrap()
            .with_origin(dir.0.join("anist.toml"))
    };
    let ok = load(section(
        "https://anpr.example/3000",
        "001272",
        "ANAG1",
        "cert.pem",
    ));
    let s = ok.anpr_soap_settings().unwrap();
    assert_eq!(s.codice_istat, "001272");
    assert_eq!(s.operatore, "ANAG1");
    assert!(s.identity_pem.is_some());
    assert!(!ok.check(0).failed("anpr_soap"));
    for (text, field) in [
        (
            section("http://anpr.example/3000", "001272", "ANAG1", "cert.pem"),
            "anpr_soap.url",
        ),
        (
            section("https://anpr.example/3000", "1272", "ANAG1", "cert.pem"),
            "anpr_soap.codice_istat",
        ),
        (
            section("https://anpr.example/3000", "001272", " ", "cert.pem"),
            "anpr_soap.operator_id",
        ),
        (
            section(
                "https://anpr.example/3000",
                "001272",
                "ANAG1",
                "missing.pem",
            ),
            "anpr_soap.cert",
        ),
    ] {
        let c = load(text);
        let e = c.anpr_soap_settings().unwrap_err();
        assert!(e.to_string().contains(field), "{e}");
        assert!(c.check(0).failed("anpr_soap"), "{field}");
    }
    // Unknown fields are refused.
    assert!(
        Config::from_toml_str(&format!("{base}\n[anpr_soap]\nurl = \"x\"\nbogus = 1\n")).is_err()
    );
}
