//! The INPS ISEE client ([`anist_client::isee::client::IseeClient`])
//! against a stub SOAP server on 127.0.0.1 started by each test: what the
//! client sends (URL, headers, envelope), how every `Esito`, SOAP fault and
//! bare 429 is read, the retries, and what is refused before sending.
//! Vouchers come from the sandbox's PDND authorization server.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anist_client::call::{CallError, ServiceProfile};
use anist_client::isee::client::{
    IseeClient, IseeEnte, Loa, OperatorIdentity, SecretAssertion, SoapHeaderCarrier,
    DEFAULT_ASSERTION_HEADER,
};
use anist_client::isee::soap::{self, Answer, SoapFault, XmlEsito};
use anist_client::isee::{session_name, IseeAnswer, IseeError, IseeLookup, IseeQuery, LEGACY_V1};
use anist_client::sandbox::anist::ECHO;
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_client::session::{Service, Session};
use anist_client::transport::Backoff;
use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    Esito, IpaCategory, IseeKind, IseeService, PrestazioneDaErogare, StatoDomanda,
};
use anist_core::synthetic::SyntheticPeople;
use anist_core::ErrorCode;
use axum::body::Body as AxumBody;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use chrono::NaiveDate;

const SEED: u64 = 20_260_601;
const ENTE_CF: &str = "00000010008";

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

struct Reply {
    status: u16,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct StubState {
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
}

async fn handle(State(st): State<StubState>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec();
    st.seen.lock().unwrap().push(Seen {
        path,
        headers,
        body,
    });
    let reply = st.replies.lock().unwrap().pop_front().unwrap_or(Reply {
        status: 500,
        body: b"no canned reply left".to_vec(),
    });
    Response::builder()
        .status(reply.status)
        .header("Content-Type", "text/xml; charset=utf-8")
        .body(AxumBody::from(reply.body))
        .unwrap()
}

struct Stub {
    url: String,
    state: StubState,
}

impl Stub {
    async fn start() -> Self {
        let state = StubState::default();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, state }
    }

    fn reply(&self, status: u16, body: Vec<u8>) {
        self.state
            .replies
            .lock()
            .unwrap()
            .push_back(Reply { status, body });
    }

    fn answer(&self, operation: &str, esito: Esito, xml: Option<XmlEsito>) {
        self.reply(
            200,
            soap::write_response(&Answer {
                operation: operation.into(),
                id_richiesta: Some("REQ-1".into()),
                esito,
                descrizione: Some("descrizione INPS".into()),
                xml_esito: xml,
            }),
        );
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

struct Fixture {
    sandbox: SandboxHandle,
    stub: Stub,
    session: Arc<Session>,
}

/// A sandbox (for vouchers) and a stub; every ISEE service name, and
/// [`LEGACY_V1`], at `<stub>/<name>`, with `adjust` applied to the profile.
async fn fixture_with(adjust: impl Fn(&str, ServiceProfile) -> ServiceProfile) -> Fixture {
    let sandbox =
        Sandbox::start(SandboxConfig::with_client_key(SEED, common::client_key()).unwrap())
            .await
            .unwrap();
    let stub = Stub::start().await;
    let purpose = sandbox
        .services()
        .into_iter()
        .find(|(n, _)| n == ECHO)
        .map(|(_, s)| s.purpose().clone())
        .unwrap();
    let mut session = sandbox.session().unwrap();
    let names = IseeService::ALL
        .into_iter()
        .map(session_name)
        .chain([LEGACY_V1]);
    for name in names {
        let url = format!("{}/{name}", stub.url);
        let profile = adjust(name, ServiceProfile::new(&url, &url).integrity(false));
        session = session.service(name, Service::new(profile, purpose.clone()));
    }
    Fixture {
        sandbox,
        stub,
        session: Arc::new(session),
    }
}

async fn fixture() -> Fixture {
    fixture_with(|_, p| p).await
}

fn fast() -> Backoff {
    Backoff {
        max_attempts: 3,
        base: Duration::from_millis(2),
        cap: Duration::from_millis(5),
        seed: Some(1),
        ..Backoff::inps_outage()
    }
}

fn client(f: &Fixture, category: IpaCategory) -> IseeClient {
    IseeClient::new(Arc::clone(&f.session), IseeEnte::new(category, ENTE_CF)).retry_policy(fast())
}

fn person(n: u64) -> CodiceFiscale {
    SyntheticPeople::new(
        SEED + n,
        NaiveDate::from_ymd_opt(1960, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2010, 12, 31).unwrap(),
    )
    .next_person()
    .codice_fiscale
}

fn any(n: u64) -> AnyCodiceFiscale {
    AnyCodiceFiscale::Persona(person(n))
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn indicatore_xml() -> XmlEsito {
    XmlEsito::Indicatore(b64(
        r#"<Indicatore xmlns="http://inps.it/ISEERiforma" TipoIndicatore="Ordinario" ISEE="12345.67" ProtocolloDSU="INPS-ISEE-2026-00000001A-00" DataPresentazione="2026-01-20"/>"#,
    ))
}

fn attestazione_xml(cf: &CodiceFiscale) -> XmlEsito {
    let cf = cf.as_str();
    XmlEsito::Attestazione(b64(&format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<EsitoAttestazione xmlns="http://inps.it/ISEERiforma">
  <Attestazione CodiceFiscaleDichiarante="{cf}" NumeroProtocolloDSU="INPS-ISEE-2026-00000001A-00"
      DataPresentazione="2026-01-20" DataValidita="2026-12-31">
    <Ordinario>
      <NucleoFamiliare>
        <ComponenteNucleo RapportoConDichiarante="D" Cognome="PROVA" Nome="SINTETICO" CodiceFiscale="{cf}"/>
      </NucleoFamiliare>
      <ISEEOrdinario DataRilascio="2026-01-22">
        <Valori ISE="15000.00" ScalaEquivalenza="1.00" ISEE="15000.00" ISR="12000.00" ISP="15000.00"/>
      </ISEEOrdinario>
    </Ordinario>
  </Attestazione>
</EsitoAttestazione>"#
    )))
}

fn header<'a>(s: &'a Seen, name: &str) -> Option<&'a str> {
    s.headers.get(name).map(|v| v.to_str().unwrap())
}

fn dsu() -> DsuProtocol {
    DsuProtocol::parse("INPS-ISEE-2026-00000042B-01").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residenti_request_is_exactly_what_inps_expects() {
    let f = fixture().await;
    let op = "ConsultazioneIndicatoreResidenti";
    f.stub.answer(op, Esito::Ok, Some(indicatore_xml()));
    let cf = any(1);
    let query = IseeQuery::by_cf(cf)
        .valid_on(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
        .kind(IseeKind::Minorenni)
        .prestazione(PrestazioneDaErogare::parse("A1.01").unwrap())
        .protocollo_domanda("PROT-<1>&2")
        .stato(StatoDomanda::DaErogare);
    let answer = client(&f, IpaCategory::Comune)
        .indicatore(IseeService::IndicatoreResidenti, &query)
        .await
        .unwrap();
    assert_eq!(answer.id_richiesta(), Some("REQ-1"));
    assert_eq!(answer.record().unwrap().isee().cents(), 1_234_567);

    let seen = f.stub.seen();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.path, format!("/isee-indicatore-residenti/{op}"));
    assert_eq!(header(s, "content-type"), Some("text/xml; charset=utf-8"));
    assert_eq!(
        header(s, "soapaction"),
        Some(format!("\"http://inps.it/ConsultazioneISEE/ISvcConsultazione/{op}\"").as_str())
    );
    assert_eq!(header(s, "inps-identity-userid"), Some(ENTE_CF));
    assert_eq!(header(s, "inps-identity-codiceufficio"), Some("001"));
    assert!(header(s, "authorization").unwrap().starts_with("Bearer "));
    for absent in [
        "agid-jwt-signature",
        "digest",
        "agid-jwt-trackingevidence",
        DEFAULT_ASSERTION_HEADER,
    ] {
        assert!(header(s, absent).is_none(), "{absent} sent");
    }
    // The envelope: Identity header, then the fields in the XSD's order.
    let text = String::from_utf8(s.body.clone()).unwrap();
    assert!(text.contains(r#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/""#));
    assert!(text.contains(&format!(
        r#"<inps:Identity xmlns:inps="http://inps.it/"><UserId>{ENTE_CF}</UserId><CodiceUfficio>001</CodiceUfficio></inps:Identity>"#
    )));
    let mut at = 0;
    for part in [
        format!(r#"<con:{op} xmlns:con="http://inps.it/ConsultazioneISEE"><con:request>"#),
        "<con:TipoIndicatore>Minorenne</con:TipoIndicatore>".into(),
        "<con:RicercaCF>".into(),
        format!("<con:CodiceFiscale>{}</con:CodiceFiscale>", person(1).as_str()),
        "<con:DataValidita>2026-11-23</con:DataValidita>".into(),
        "<con:PrestazioneDaErogare>A1.01</con:PrestazioneDaErogare>".into(),
        "<con:ProtocolloDomandaEnteErogatore>PROT-&lt;1&gt;&amp;2</con:ProtocolloDomandaEnteErogatore>".into(),
        "<con:StatodomandaPrestazione>Da Erogare</con:StatodomandaPrestazione>".into(),
        "</con:RicercaCF></con:request>".to_string(),
    ] {
        let i = text[at..]
            .find(&part)
            .unwrap_or_else(|| panic!("{part} not after byte {at}"));
        at += i + part.len();
    }
    let parsed = soap::parse_request(&s.body).unwrap();
    assert_eq!(parsed.search, query.search);
    assert_eq!(parsed.domanda, query.domanda);
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attestazione_residenti_and_every_esito() {
    let f = fixture().await;
    let op = "ConsultazioneAttestazioneResidenti";
    let isee = client(&f, IpaCategory::Comune).retry_policy(Backoff::never());
    let svc = IseeService::AttestazioneResidenti;
    let q = IseeQuery::by_cf(any(2));

    f.stub
        .answer(op, Esito::Ok, Some(attestazione_xml(&person(2))));
    let a = isee.attestazione(svc, &q).await.unwrap();
    assert_eq!(
        a.record().unwrap().isee().map(|e| e.cents()),
        Some(1_500_000)
    );
    assert_eq!(a.record().unwrap().household_size(), 1);
    // Attestazione requests carry no TipoIndicatore.
    let body = String::from_utf8(f.stub.seen()[0].body.clone()).unwrap();
    assert!(!body.contains("TipoIndicatore"), "{body}");

    f.stub.answer(op, Esito::DatiNonTrovati, None);
    match isee.attestazione(svc, &q).await.unwrap() {
        IseeAnswer::NoIsee {
            id_richiesta,
            description,
        } => {
            assert_eq!(id_richiesta.as_deref(), Some("REQ-1"));
            assert_eq!(description.as_deref(), Some("descrizione INPS"));
        }
        other => panic!("{other:?}"),
    }

    f.stub.answer(op, Esito::RichiestaInvalida, None);
    let e = isee.attestazione(svc, &q).await.unwrap_err();
    assert_eq!(e.code(), "isee_richiesta_invalida");
    assert!(e.to_string().contains("descrizione INPS"), "{e}");
    assert!(!e.is_retryable());

    f.stub.answer(op, Esito::Other("NUOVO_ESITO".into()), None);
    let e = isee.attestazione(svc, &q).await.unwrap_err();
    assert!(
        matches!(&e, IseeError::UnknownEsito { esito } if esito == "NUOVO_ESITO"),
        "{e:?}"
    );

    // OK without the document is not an answer.
    f.stub.answer(op, Esito::Ok, None);
    let e = isee.attestazione(svc, &q).await.unwrap_err();
    assert_eq!(e.code(), "isee_unexpected_answer");

    // Not SOAP at all.
    f.stub.reply(200, b"{\"json\":true}".to_vec());
    let e = isee.attestazione(svc, &q).await.unwrap_err();
    assert_eq!(e.code(), "isee_unexpected_answer");

    // A document that does not parse is a record error.
    f.stub
        .answer(op, Esito::Ok, Some(XmlEsito::Attestazione(b64("<Nope/>"))));
    let e = isee.attestazione(svc, &q).await.unwrap_err();
    assert!(matches!(e, IseeError::Record(_)), "{e:?}");
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn riscontro_by_dsu_and_its_refusal() {
    let f = fixture().await;
    let op = "ConsultazioneIndicatoreNucleoRiscontro";
    let isee = client(&f, IpaCategory::Universita);
    let q = IseeQuery::by_dsu(dsu(), any(3));
    f.stub.answer(op, Esito::Ok, Some(indicatore_xml()));
    let a = isee
        .indicatore(IseeService::IndicatoreNucleoRiscontro, &q)
        .await
        .unwrap();
    assert!(a.record().is_some());
    let s = &f.stub.seen()[0];
    assert_eq!(s.path, format!("/isee-indicatore-nucleo-riscontro/{op}"));
    let text = String::from_utf8(s.body.clone()).unwrap();
    assert!(text.contains(&format!(
        "<con:TipoIndicatore>Ordinario</con:TipoIndicatore><con:RicercaProtDSU><con:ProtocolloDSU>INPS-ISEE-2026-00000042B-01</con:ProtocolloDSU><con:CodiceFiscaleBeneficiario>{}</con:CodiceFiscaleBeneficiario></con:RicercaProtDSU>",
        person(3).as_str()
    )), "{text}");

    f.stub.answer(
        "ConsultazioneIndicatoreRiscontro",
        Esito::RiscontroNonValido,
        None,
    );
    let e = isee
        .indicatore(IseeService::IndicatoreRiscontro, &q)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "isee_riscontro_non_valido");
    assert!(matches!(
        e,
        IseeError::Refused {
            esito: Esito::RiscontroNonValido,
            ..
        }
    ));
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_offline_is_asked_again_then_unavailable() {
    let f = fixture().await;
    let op = "ConsultazioneIndicatoreResidenti";
    let isee = client(&f, IpaCategory::Comune);
    let q = IseeQuery::by_cf(any(4));
    f.stub.answer(op, Esito::DatabaseOffline, None);
    f.stub.answer(op, Esito::ErroreInterno, None);
    f.stub.answer(op, Esito::Ok, Some(indicatore_xml()));
    let a = isee
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .unwrap();
    assert!(a.record().is_some());
    assert_eq!(f.stub.seen().len(), 3);

    for _ in 0..3 {
        f.stub.answer(op, Esito::DatabaseOffline, None);
    }
    let e = isee
        .indicatore(IseeService::IndicatoreResidenti, &q)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            IseeError::Unavailable {
                esito: Esito::DatabaseOffline,
                attempts: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), "isee_database_offline");
    assert!(e.is_retryable());
    assert_eq!(f.stub.seen().len(), 6);
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soap_faults_and_quota_are_call_errors() {
    let f = fixture().await;
    let isee = client(&f, IpaCategory::Comune);
    let q = IseeQuery::by_cf(any(5));
    let svc = IseeService::IndicatoreResidenti;

    f.stub.reply(
        503,
        soap::write_fault(&SoapFault {
            code: Some("SOAP-ENV:Server.APIUnavailable".into()),
            string: Some("The API Implementation is temporary unavailable".into()),
            problem_title: Some("APIUnavailable".into()),
            problem_status: Some(503),
            problem_detail: Some("The API Implementation is temporary unavailable".into()),
            govway_id: Some("gw-503-x".into()),
            ..SoapFault::default()
        }),
    );
    let e = isee.indicatore(svc, &q).await.unwrap_err();
    match &e {
        IseeError::Call(c @ CallError::Server { problem }) => {
            assert_eq!(c.govway_id(), Some("gw-503-x"));
            assert_eq!(c.title(), Some("APIUnavailable"));
            assert_eq!(
                problem.fault_code.as_deref(),
                Some("SOAP-ENV:Server.APIUnavailable")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(e.is_retryable());
    assert_eq!(f.stub.seen().len(), 1, "a fault is not an Esito to retry");

    f.stub.reply(
        400,
        soap::write_fault(&SoapFault {
            code: Some("SOAP-ENV:Client.InteroperabilityInvalidRequest".into()),
            string: Some("bad request".into()),
            govway_id: Some("gw-400".into()),
            ..SoapFault::default()
        }),
    );
    let e = isee.indicatore(svc, &q).await.unwrap_err();
    match &e {
        IseeError::Call(c @ CallError::Refused { .. }) => {
            assert_eq!(c.title(), Some("InteroperabilityInvalidRequest"));
            assert_eq!(c.govway_id(), Some("gw-400"));
        }
        other => panic!("{other:?}"),
    }

    // A bare 429 (text/xml, empty body): the daily quota (U15).
    f.stub.reply(429, Vec::new());
    let e = isee.indicatore(svc, &q).await.unwrap_err();
    assert!(e.is_quota_exceeded(), "{e:?}");
    assert_eq!(e.code(), "gateway_quota_exceeded");
    assert!(!e.is_retryable());
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_locally_sends_nothing() {
    let f = fixture().await;
    let cf = IseeQuery::by_cf(any(6));
    // A Comune that is not a capoluogo may not use the plain services.
    let e = client(&f, IpaCategory::Comune)
        .indicatore(IseeService::Indicatore, &cf)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "isee_not_eligible");
    // Only Comuni use the Residenti services.
    let e = client(&f, IpaCategory::RegioneProvinciaAutonoma)
        .attestazione(IseeService::AttestazioneResidenti, &cf)
        .await
        .unwrap_err();
    assert!(matches!(e, IseeError::NotEligible(_)), "{e:?}");
    // Riscontro needs the DSU protocol.
    for q in [cf.clone(), IseeQuery::by_mittente("CAF-1", any(6))] {
        let e = client(&f, IpaCategory::Comune)
            .indicatore(IseeService::IndicatoreRiscontro, &q)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "isee_invalid_request");
        assert!(e.to_string().contains("by_dsu"), "{e}");
    }
    // The wrong method for the service.
    let e = client(&f, IpaCategory::Comune)
        .indicatore(IseeService::AttestazioneResidenti, &cf)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "isee_invalid_request");
    let e = client(&f, IpaCategory::Comune)
        .attestazione(IseeService::IndicatoreResidenti, &cf)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "isee_invalid_request");
    // Operatori without the operator.
    let e = client(&f, IpaCategory::Comune)
        .attestazione(IseeService::AttestazioneOperatori, &cf)
        .await
        .unwrap_err();
    assert!(matches!(e, IseeError::OperatorRequired), "{e:?}");
    // Field limits and kinds that cannot be asked.
    let long = cf.clone().protocollo_domanda(&"x".repeat(257));
    let e = client(&f, IpaCategory::Comune)
        .indicatore(IseeService::IndicatoreResidenti, &long)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "isee_invalid_request");
    let corrente = cf.clone().kind(IseeKind::Corrente);
    let e = client(&f, IpaCategory::Comune)
        .indicatore(IseeService::IndicatoreResidenti, &corrente)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "isee_invalid_request");
    assert!(f.stub.seen().is_empty(), "something was sent");
    f.sandbox.shutdown().await;
}

fn jwt_payload(jws: &str) -> serde_json::Value {
    let part = jws.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operatori_carry_the_operator() {
    let f = fixture().await;
    let op = "ConsultazioneAttestazioneOperatori";
    let operator_cf = person(7);
    let assertion = b"<samlp:Response>synthetic</samlp:Response>".to_vec();
    let isee = client(&f, IpaCategory::Asl).operator(OperatorIdentity {
        codice_fiscale: operator_cf,
        loa: Loa::Substantial,
        assertion: Some(SecretAssertion::new(assertion.clone())),
    });
    assert!(!format!("{isee:?}").contains(operator_cf.as_str()));
    let q = IseeQuery::by_cf(any(8));
    f.stub
        .answer(op, Esito::Ok, Some(attestazione_xml(&person(8))));
    isee.attestazione(IseeService::AttestazioneOperatori, &q)
        .await
        .unwrap();
    let s = &f.stub.seen()[0];
    assert_eq!(s.path, format!("/isee-attestazione-operatori/{op}"));
    assert_eq!(
        header(s, "inps-identity-userid"),
        Some(operator_cf.as_str())
    );
    let te = jwt_payload(header(s, "agid-jwt-trackingevidence").expect("TrackingEvidence"));
    assert_eq!(te["userID"], operator_cf.as_str());
    assert_eq!(te["LoA"], "LoA3");
    assert_eq!(te["userLocation"], ENTE_CF);
    assert_eq!(
        header(s, DEFAULT_ASSERTION_HEADER),
        Some(
            base64::engine::general_purpose::STANDARD
                .encode(&assertion)
                .as_str()
        )
    );
    let parsed = soap::parse_request(&s.body).unwrap();
    assert_eq!(parsed.user_id, operator_cf.as_str());
    assert!(parsed.headers.is_empty());

    // The same operator, the assertion in the SOAP header instead.
    let isee = isee.assertion_carrier(SoapHeaderCarrier::default());
    f.stub.answer(
        "ConsultazioneIndicatoreOperatori",
        Esito::Ok,
        Some(indicatore_xml()),
    );
    isee.indicatore(IseeService::IndicatoreOperatori, &q)
        .await
        .unwrap();
    let s = &f.stub.seen()[1];
    assert!(header(s, DEFAULT_ASSERTION_HEADER).is_none());
    let te = jwt_payload(header(s, "agid-jwt-trackingevidence").unwrap());
    assert_eq!(te["userID"], operator_cf.as_str());
    let parsed = soap::parse_request(&s.body).unwrap();
    assert_eq!(parsed.headers.len(), 1);
    assert_eq!(parsed.headers[0].name, "Assertion");
    assert_eq!(
        parsed.headers[0].text,
        base64::engine::general_purpose::STANDARD.encode(&assertion)
    );
    // Non-Operatori services of the same client do not send the operator.
    f.stub.answer(
        "ConsultazioneIndicatoreRiscontro",
        Esito::DatiNonTrovati,
        None,
    );
    isee.indicatore(
        IseeService::IndicatoreRiscontro,
        &IseeQuery::by_dsu(dsu(), any(8)),
    )
    .await
    .unwrap();
    let s = &f.stub.seen()[2];
    assert_eq!(header(s, "inps-identity-userid"), Some(ENTE_CF));
    assert!(header(s, "agid-jwt-trackingevidence").is_none());
    f.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_v1_and_configured_operations() {
    let f = fixture_with(|name, p| {
        if name == session_name(IseeService::IndicatoreRiscontro) {
            p.operation(Some("ConsultaRiscontroV3"))
                .soap_action(Some("urn:inps:riscontro"))
        } else {
            p
        }
    })
    .await;
    let isee = client(&f, IpaCategory::RegioneProvinciaAutonoma).legacy_v1(true);
    let q = IseeQuery::by_cf(any(9));
    f.stub
        .answer("ConsultazioneIndicatore", Esito::Ok, Some(indicatore_xml()));
    isee.indicatore(IseeService::Indicatore, &q).await.unwrap();
    f.stub.answer(
        "ConsultazioneAttestazione",
        Esito::Ok,
        Some(attestazione_xml(&person(9))),
    );
    isee.attestazione(IseeService::Attestazione, &q)
        .await
        .unwrap();
    let seen = f.stub.seen();
    assert_eq!(seen[0].path, "/isee-v1");
    assert_eq!(seen[1].path, "/isee-v1");
    assert_eq!(
        header(&seen[0], "soapaction"),
        Some("\"http://inps.it/ConsultazioneISEE/ISvcConsultazione/ConsultazioneIndicatore\"")
    );
    assert_eq!(
        header(&seen[1], "soapaction"),
        Some("\"http://inps.it/ConsultazioneISEE/ISvcConsultazione/ConsultazioneAttestazione\"")
    );
    assert_eq!(
        soap::parse_request(&seen[1].body).unwrap().operation,
        "ConsultazioneAttestazione"
    );
    // Without legacy_v1 the plain services have their own endpoints.
    f.stub
        .answer("ConsultazioneIndicatore", Esito::Ok, Some(indicatore_xml()));
    client(&f, IpaCategory::RegioneProvinciaAutonoma)
        .indicatore(IseeService::Indicatore, &q)
        .await
        .unwrap();
    assert_eq!(
        f.stub.seen()[2].path,
        "/isee-indicatore/ConsultazioneIndicatore"
    );
    // A configured operation name and SOAPAction.
    f.stub
        .answer("ConsultaRiscontroV3", Esito::Ok, Some(indicatore_xml()));
    isee.indicatore(
        IseeService::IndicatoreRiscontro,
        &IseeQuery::by_dsu(dsu(), any(9)),
    )
    .await
    .unwrap();
    let s = &f.stub.seen()[3];
    assert_eq!(s.path, "/isee-indicatore-riscontro/ConsultaRiscontroV3");
    assert_eq!(header(s, "soapaction"), Some("\"urn:inps:riscontro\""));
    assert_eq!(
        soap::parse_request(&s.body).unwrap().operation,
        "ConsultaRiscontroV3"
    );
    f.sandbox.shutdown().await;
}
