//! The sandbox's INPS ISEE SOAP e-services, called with raw SOAP over
//! reqwest: every service answers OK with the expected synthetic record;
//! DATI_NON_TROVATI, Residenti outside the Comune, RISCONTRO_NON_VALIDO,
//! RICHIESTA_INVALIDA (fields, search kind, Operatori evidence), injected
//! DATABASE_OFFLINE, SOAP faults (SOAPAction, mTLS on the plain port),
//! the bare 429 of the quota, and the TLS port's client certificate.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use anist_client::isee::{session_name, LEGACY_V1, SOAP_ACTION_PREFIX};
use anist_client::keys::{PrivateKey, RsaBits};
use anist_client::modi::AuditContext;
use anist_client::sandbox::inps::assertion::synthetic_saml_assertion;
use anist_client::sandbox::inps::{
    IseeExpected, IseePopulation, CALLING_COMUNE, SANDBOX_INPS_USER_ID,
};
use anist_client::sandbox::registry::{Client, Registry, Tenant, DEFAULT_CLIENT, DEFAULT_CONSUMER};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_client::session::Session;
use anist_client::voucher::http::HttpOptions;
use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::isee::{
    parse_attestazione_base64, parse_indicatore_base64, Esito, IseeKind, IseeService,
};
use base64::Engine as _;
use chrono::NaiveDate;

const SEED: u64 = 42;
const DATE: &str = "2026-06-15";

fn date() -> NaiveDate {
    NaiveDate::parse_from_str(DATE, "%Y-%m-%d").unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

struct World {
    sandbox: SandboxHandle,
    session: Session,
    plain: reqwest::Client,
    mtls: reqwest::Client,
    operator: CodiceFiscale,
}

async fn world_with(config: SandboxConfig) -> World {
    let sandbox = Sandbox::start(config).await.unwrap();
    let operator = sandbox.isee_population().sample(1)[0];
    let ctx = AuditContext::new(operator.as_str(), "c_h501")
        .unwrap()
        .with_loa("SpidL2");
    let session = sandbox.session().unwrap().operator(ctx);
    let ca = sandbox.ca_pem().unwrap().as_bytes().to_vec();
    let (cert, key) = sandbox.client_identity_pem().unwrap();
    let options = HttpOptions::default()
        .timeout(Duration::from_secs(20))
        .ca_bundle_pem(ca)
        .ca_bundle_only(true);
    let mtls = options
        .clone()
        .client_identity_pem(cert, key)
        .build_client()
        .unwrap();
    let plain = options.build_client().unwrap();
    World {
        sandbox,
        session,
        plain,
        mtls,
        operator,
    }
}

async fn world() -> World {
    world_with(SandboxConfig::with_default_client(SEED).unwrap()).await
}

/// One SOAP call as the client would make it.
struct Call {
    name: &'static str,
    operation: &'static str,
    action: Option<String>,
    request: String,
    user_id: String,
    te: bool,
    assertion: bool,
    /// The header's value, when not the sandbox operator's assertion.
    assertion_value: Option<String>,
    force_plain: bool,
}

impl Call {
    fn new(name: &'static str, operation: &'static str, request: String) -> Self {
        Call {
            name,
            operation,
            action: None,
            request,
            user_id: SANDBOX_INPS_USER_ID.to_string(),
            te: true,
            assertion: true,
            assertion_value: None,
            force_plain: false,
        }
    }
}

fn ricerca_cf(cf: &str) -> String {
    format!(
        "<con:RicercaCF><con:CodiceFiscale>{cf}</con:CodiceFiscale><con:DataValidita>{DATE}</con:DataValidita>\
         <con:PrestazioneDaErogare>A1.07</con:PrestazioneDaErogare>\
         <con:ProtocolloDomandaEnteErogatore>PROT-1</con:ProtocolloDomandaEnteErogatore>\
         <con:StatodomandaPrestazione>Da Erogare</con:StatodomandaPrestazione></con:RicercaCF>"
    )
}

fn ricerca_dsu(dsu: &str, cf: &str) -> String {
    format!(
        "<con:RicercaProtDSU><con:ProtocolloDSU>{dsu}</con:ProtocolloDSU>\
         <con:CodiceFiscaleBeneficiario>{cf}</con:CodiceFiscaleBeneficiario>\
         <con:DataValidita>{DATE}</con:DataValidita></con:RicercaProtDSU>"
    )
}

fn envelope(op: &str, user_id: &str, request: &str) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:con="http://inps.it/ConsultazioneISEE"><soapenv:Header><inps:Identity xmlns:inps="http://inps.it/"><UserId>{user_id}</UserId><CodiceUfficio>001</CodiceUfficio></inps:Identity></soapenv:Header><soapenv:Body><con:{op}><con:request>{request}</con:request></con:{op}></soapenv:Body></soapenv:Envelope>"#
    )
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    fn field(&self, name: &str) -> Option<String> {
        let open = format!("<ns1:{name}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</ns1:{name}>"))? + start;
        Some(self.body[start..end].to_string())
    }
    fn esito(&self) -> Esito {
        Esito::parse(&self.field("Esito").unwrap_or_default())
    }
}

async fn send(w: &World, call: &Call) -> Answer {
    let service = w.session.lookup(call.name).unwrap();
    let key = w.session.voucher_key(service).unwrap();
    let cached = w.session.caller().cache().get(&key).await.unwrap();
    let mut url = service.profile().url().to_string();
    if call.name != LEGACY_V1 {
        url = format!("{url}/{}", call.operation);
    }
    let mut http = if url.starts_with("https://") {
        &w.mtls
    } else {
        &w.plain
    };
    if call.force_plain {
        let tls = w.sandbox.tls_base_url().unwrap();
        url = url.replacen(tls, w.sandbox.base_url(), 1);
        http = &w.plain;
    }
    let action = call
        .action
        .clone()
        .unwrap_or_else(|| format!("\"{SOAP_ACTION_PREFIX}{}\"", call.operation));
    let mut req = http
        .post(&url)
        .header("content-type", "text/xml; charset=utf-8")
        .header("soapaction", action)
        .header(
            "authorization",
            format!("Bearer {}", cached.voucher().access_token().as_str()),
        )
        .header("INPS-Identity-UserId", &call.user_id)
        .header("INPS-Identity-CodiceUfficio", "001")
        .body(envelope(call.operation, &call.user_id, &call.request));
    if let (true, Some(te)) = (call.te, cached.tracking_evidence()) {
        req = req.header("agid-jwt-trackingevidence", te.jws().as_str());
    }
    if call.assertion {
        let value = call
            .assertion_value
            .clone()
            .unwrap_or_else(|| b64(&synthetic_saml_assertion(w.operator.as_str())));
        req = req.header("INPS-Identity-Assertion", value);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        body: resp.text().await.unwrap(),
    }
}

/// A code of the sample whose expectation satisfies `pred`.
fn pick(
    pop: &IseePopulation,
    pred: impl Fn(&IseeExpected, &AnyCodiceFiscale) -> bool,
) -> AnyCodiceFiscale {
    pop.sample(500)
        .into_iter()
        .map(AnyCodiceFiscale::Persona)
        .find(|cf| pred(&pop.expected(cf, date()), cf))
        .expect("a code for the outcome")
}

fn resident(e: &IseeExpected) -> bool {
    e.household().is_some_and(|h| h.resides_in(CALLING_COMUNE))
}

#[tokio::test]
async fn every_service_answers_the_expected_record() {
    let w = world().await;
    let pop = w.sandbox.isee_population();
    let cf = pick(pop, |e, _| resident(e));
    let household = pop.expected(&cf, date()).household().unwrap().clone();
    let dsu = household.attestazione.protocollo_dsu.to_string();
    for service in IseeService::ALL {
        let name = session_name(service);
        let request = if service.family() == anist_core::isee::ServiceFamily::Riscontro {
            ricerca_dsu(&dsu, cf.as_str())
        } else if service.returns_attestazione() {
            ricerca_cf(cf.as_str())
        } else {
            format!(
                "<con:TipoIndicatore>Ordinario</con:TipoIndicatore>{}",
                ricerca_cf(cf.as_str())
            )
        };
        let mut call = Call::new(name, service.operation(), request);
        if service.family() == anist_core::isee::ServiceFamily::Operatori {
            call.user_id = w.operator.as_str().to_string();
        }
        let a = send(&w, &call).await;
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        assert_eq!(a.esito(), Esito::Ok, "{name}: {}", a.body);
        assert!(a.content_type.starts_with("text/xml"));
        assert!(a
            .body
            .contains(&format!("<ns1:{}Response", service.operation())));
        if service.returns_attestazione() {
            let mut att =
                parse_attestazione_base64(&a.field("XmlEsitoAttestazione").unwrap()).unwrap();
            let ricerca = att.ricerca.take().unwrap();
            assert_eq!(ricerca.codice_fiscale.as_ref(), Some(&cf));
            assert_eq!(ricerca.protocollo_domanda.as_deref(), Some("PROT-1"));
            att.raw_xml.clear();
            assert_eq!(att, household.attestazione, "{name}");
        } else {
            let mut ind = parse_indicatore_base64(&a.field("XmlEsitoIndicatore").unwrap()).unwrap();
            assert!(ind.ricerca.take().is_some());
            ind.raw_xml.clear();
            let mut expected = household.indicatore(&cf, &IseeKind::Ordinario).unwrap();
            if service == IseeService::IndicatoreNucleoRiscontro {
                expected.household = household.attestazione.household.clone();
                assert!(!ind.household.is_empty());
            }
            assert_eq!(ind, expected, "{name}");
        }
    }
    // The legacy v1 endpoint: both operations on one URL.
    for op in ["ConsultazioneIndicatore", "ConsultazioneAttestazione"] {
        let a = send(&w, &Call::new(LEGACY_V1, op, ricerca_cf(cf.as_str()))).await;
        assert_eq!(a.esito(), Esito::Ok, "{op}: {}", a.body);
    }
    // Same seed, same records.
    assert_eq!(
        IseePopulation::new(SEED, CALLING_COMUNE).expected(&cf, date()),
        pop.expected(&cf, date())
    );
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn outcomes_other_than_ok() {
    let w = world().await;
    let pop = w.sandbox.isee_population().clone();
    let residenti = session_name(IseeService::IndicatoreResidenti);
    let op = IseeService::IndicatoreResidenti.operation();
    let ask = |cf: &AnyCodiceFiscale| Call::new(residenti, op, ricerca_cf(cf.as_str()));

    // No ISEE.
    let none = pick(&pop, |e, _| matches!(e, IseeExpected::NotFound));
    let a = send(&w, &ask(&none)).await;
    assert_eq!(
        (a.status, a.esito()),
        (200, Esito::DatiNonTrovati),
        "{}",
        a.body
    );
    assert!(a.field("XmlEsitoIndicatore").is_none());

    // Residenti: a household residing elsewhere is not revealed.
    let elsewhere = pick(&pop, |e, _| e.household().is_some() && !resident(e));
    let a = send(&w, &ask(&elsewhere)).await;
    assert_eq!(a.esito(), Esito::DatiNonTrovati, "{}", a.body);
    // ... while a plain Attestazione (mTLS) finds it.
    let att = IseeService::Attestazione;
    let a = send(
        &w,
        &Call::new(
            session_name(att),
            att.operation(),
            ricerca_cf(elsewhere.as_str()),
        ),
    )
    .await;
    assert_eq!(a.esito(), Esito::Ok, "{}", a.body);

    // Riscontro with another DSU protocol.
    let found = pick(&pop, |e, _| resident(e));
    let ris = IseeService::IndicatoreRiscontro;
    let a = send(
        &w,
        &Call::new(
            session_name(ris),
            ris.operation(),
            ricerca_dsu("INPS-ISEE-2026-00000001A-00", found.as_str()),
        ),
    )
    .await;
    assert_eq!(a.esito(), Esito::RiscontroNonValido, "{}", a.body);

    // RICHIESTA_INVALIDA: bad CF pattern, bad date, unknown prestazione,
    // a long protocol, unknown TipoIndicatore, wrong search kind.
    let bad_requests = [
        ricerca_cf("rssmra80a01h501u"),
        ricerca_cf(found.as_str()).replace(DATE, "15/06/2026"),
        ricerca_cf(found.as_str()).replace("A1.07", "B9.99"),
        ricerca_cf(found.as_str()).replace("PROT-1", &"x".repeat(257)),
        format!(
            "<con:TipoIndicatore>Famiglia</con:TipoIndicatore>{}",
            ricerca_cf(found.as_str())
        ),
        ricerca_dsu("INPS-ISEE-2026-00000001A-00", found.as_str()),
    ];
    for request in bad_requests {
        let a = send(&w, &Call::new(residenti, op, request)).await;
        assert_eq!(
            (a.status, a.esito()),
            (200, Esito::RichiestaInvalida),
            "{}",
            a.body
        );
        assert!(!a.field("DescrizioneErrore").unwrap().is_empty());
    }
    let a = send(
        &w,
        &Call::new(
            session_name(ris),
            ris.operation(),
            ricerca_cf(found.as_str()),
        ),
    )
    .await;
    assert_eq!(a.esito(), Esito::RichiestaInvalida);
    assert!(a
        .field("DescrizioneErrore")
        .unwrap()
        .contains("RicercaProtDSU"));

    // Identity: the SOAP header and the HTTP headers must agree.
    let mut call = ask(&found);
    call.user_id = String::new();
    let a = send(&w, &call).await;
    assert_eq!(a.esito(), Esito::RichiestaInvalida, "{}", a.body);

    // Operatori: without the evidence, without the assertion, with an
    // evidence of another person.
    let opr = IseeService::IndicatoreOperatori;
    let req = format!(
        "<con:TipoIndicatore>Ordinario</con:TipoIndicatore>{}",
        ricerca_cf(found.as_str())
    );
    let mut call = Call::new(session_name(opr), opr.operation(), req.clone());
    call.user_id = w.operator.as_str().to_string();
    call.te = false;
    let a = send(&w, &call).await;
    assert_eq!(a.esito(), Esito::RichiestaInvalida, "{}", a.body);
    assert!(a
        .field("DescrizioneErrore")
        .unwrap()
        .contains("TrackingEvidence"));
    call.te = true;
    call.assertion = false;
    let a = send(&w, &call).await;
    assert_eq!(a.esito(), Esito::RichiestaInvalida);
    assert!(a
        .field("DescrizioneErrore")
        .unwrap()
        .contains("INPS-Identity-Assertion"));
    call.assertion = true;
    call.user_id = SANDBOX_INPS_USER_ID.to_string();
    let a = send(&w, &call).await;
    assert_eq!(a.esito(), Esito::RichiestaInvalida);
    call.user_id = w.operator.as_str().to_string();
    assert_eq!(send(&w, &call).await.esito(), Esito::Ok);
    // A malformed SPID assertion: refused as GovWay refuses an
    // unauthenticated call (any bytes passed before).
    let good = synthetic_saml_assertion(w.operator.as_str());
    for bad in [
        b64("<saml:Assertion/>"),
        b64("any bytes"),
        String::from("not base64!"),
        b64(&good.replace("SpidL2", "SpidL1")),
        b64(&good.replace("</saml:Assertion>", "")),
    ] {
        call.assertion_value = Some(bad.clone());
        let a = send(&w, &call).await;
        assert_eq!(a.status, 403, "{bad}: {}", a.body);
        assert!(
            a.body.contains("SOAP-ENV:Client.AuthorizationDenied"),
            "{}",
            a.body
        );
    }
    call.assertion_value = None;
    assert_eq!(send(&w, &call).await.esito(), Esito::Ok);

    // Injected DATABASE_OFFLINE, twice, then back to normal.
    w.sandbox.inject_inps_esito(Esito::DatabaseOffline, 2);
    for _ in 0..2 {
        let a = send(&w, &ask(&found)).await;
        assert_eq!((a.status, a.esito()), (200, Esito::DatabaseOffline));
    }
    assert_eq!(send(&w, &ask(&found)).await.esito(), Esito::Ok);

    // Wrong SOAPAction: a client fault with the problem and govway_id.
    let mut call = ask(&found);
    call.action = Some(format!("\"{SOAP_ACTION_PREFIX}ConsultazioneAttestazione\""));
    let a = send(&w, &call).await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.content_type.starts_with("text/xml"));
    assert!(
        a.body
            .contains("<faultcode>SOAP-ENV:Client.BadRequest</faultcode>"),
        "{}",
        a.body
    );
    assert!(a.body.contains(r#"<problem xmlns="urn:ietf:rfc:7807">"#));
    assert!(a.body.contains("<status>400</status>"));
    let gid = a
        .body
        .split("<govway_id>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert_eq!(gid.len(), 36);
    // Unquoted, too.
    let mut call = ask(&found);
    call.action = Some(format!("{SOAP_ACTION_PREFIX}{op}"));
    assert_eq!(send(&w, &call).await.status, 400);
    // A malformed envelope: a client fault.
    let mut call = ask(&found);
    call.request = "<con:RicercaCF>".into();
    let a = send(&w, &call).await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("SOAP-ENV:Client.InvalidRequestContent"));

    // An mTLS service on the plain port: 403 fault.
    let mut call = Call::new(
        session_name(att),
        att.operation(),
        ricerca_cf(found.as_str()),
    );
    call.force_plain = true;
    let a = send(&w, &call).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.body.contains("SOAP-ENV:Client.Authorization"));
    assert!(a.body.contains("client certificate"));
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_tls_port_requires_the_client_certificate() {
    let w = world().await;
    let tls = w.sandbox.tls_base_url().unwrap().to_string();
    assert!(tls.starts_with("https://localhost:"));
    // Without a certificate the handshake is refused.
    let url = format!("{tls}/status");
    assert!(w.plain.get(&url).send().await.is_err());
    // With it, the same routes answer.
    let r = w.mtls.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Residenti services are on the plain port, the others on TLS.
    let url_of = |s: IseeService| {
        w.session
            .lookup(session_name(s))
            .unwrap()
            .profile()
            .url()
            .to_string()
    };
    // Only the plain services (d) want INPS's client certificate (INPS
    // message 3269/2025): Residenti, Riscontro and Operatori go without.
    for s in [
        IseeService::AttestazioneResidenti,
        IseeService::IndicatoreResidenti,
        IseeService::IndicatoreRiscontro,
        IseeService::IndicatoreNucleoRiscontro,
        IseeService::IndicatoreOperatori,
        IseeService::AttestazioneOperatori,
    ] {
        assert!(url_of(s).starts_with(w.sandbox.base_url()), "{s:?}");
    }
    assert!(url_of(IseeService::Indicatore).starts_with(&tls));
    assert!(url_of(IseeService::Attestazione).starts_with(&tls));
    assert!(w
        .session
        .lookup(LEGACY_V1)
        .unwrap()
        .profile()
        .url()
        .ends_with("/INPS/ConsultazioneISEE/v1"));
    w.sandbox.shutdown().await;
}

#[tokio::test]
async fn the_daily_quota_is_a_bare_429() {
    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let mut client = Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER).key(key.public_key().clone());
    for s in anist_client::sandbox::inps::INPS_ESERVICES {
        client = client.purpose(s.purpose);
    }
    let builder =
        Registry::builder().tenant(Tenant::new(DEFAULT_CONSUMER, "Comune di Roma (sandbox)"));
    let registry = anist_client::sandbox::inps::register_with_limits(builder, 1, 0)
        .client(client)
        .build()
        .unwrap();
    let w = world_with(SandboxConfig::with_client_registry(SEED, key, registry)).await;
    let cf = pick(w.sandbox.isee_population(), |e, _| resident(e));
    let s = IseeService::AttestazioneResidenti;
    let call = Call::new(session_name(s), s.operation(), ricerca_cf(cf.as_str()));
    assert_eq!(send(&w, &call).await.esito(), Esito::Ok);
    let a = send(&w, &call).await;
    assert_eq!(a.status, 429);
    assert!(a.content_type.starts_with("text/xml"));
    assert!(a.body.is_empty());
    w.sandbox.shutdown().await;
}

/// No DSU presented after the requested date or after today: asked today
/// for a date next year (`--data 2027-06-01` on 02/12/2026), the sandbox
/// finds nothing (it answered a DSU "presentata il 12/01/2027"); and an
/// ISEE corrente past its six months is never the answer.
#[tokio::test]
async fn no_dsu_from_the_future_and_no_expired_corrente() {
    let w = world().await;
    let pop = w.sandbox.isee_population().clone();
    let s = IseeService::AttestazioneResidenti;
    let today = chrono::Utc::now().date_naive();
    let next_year = NaiveDate::from_ymd_opt(chrono::Datelike::year(&today) + 1, 6, 1).unwrap();
    let codes: Vec<AnyCodiceFiscale> = pop
        .sample(60)
        .into_iter()
        .map(AnyCodiceFiscale::Persona)
        .collect();
    for cf in &codes {
        let request = ricerca_cf(cf.as_str()).replace(DATE, &next_year.to_string());
        let a = send(&w, &Call::new(session_name(s), s.operation(), request)).await;
        assert_eq!(a.esito(), Esito::DatiNonTrovati, "{}", a.body);
    }
    // A corrente household, asked in December of the DSU's year: the
    // ordinario answers, valid on that date.
    let june = date();
    let dec = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    if today < dec {
        w.sandbox.shutdown().await;
        return;
    }
    let cf = pick(&pop, |e, _| {
        resident(e) && e.household().is_some_and(|h| h.attestazione.is_corrente())
    });
    let june_att = pop
        .expected(&cf, june)
        .household()
        .unwrap()
        .attestazione
        .clone();
    assert!(june_att.is_valid_on(june));
    let request = ricerca_cf(cf.as_str()).replace(DATE, &dec.to_string());
    let a = send(&w, &Call::new(session_name(s), s.operation(), request)).await;
    assert_eq!(a.esito(), Esito::Ok, "{}", a.body);
    let att = parse_attestazione_base64(&a.field("XmlEsitoAttestazione").unwrap()).unwrap();
    assert!(!att.is_corrente());
    assert_eq!(att.headline().unwrap().kind, IseeKind::Ordinario);
    assert!(att.is_valid_on(dec));
    w.sandbox.shutdown().await;
}

#[test]
fn a_person_s_given_name_agrees_with_the_sex_of_their_code() {
    use anist_core::cf::Sex;
    use anist_core::synthetic::given_name;
    let names = |sex| (0..64).map(|i| given_name(sex, i)).collect::<Vec<_>>();
    let (male, female) = (names(Sex::Male), names(Sex::Female));
    let pop = IseePopulation::new(42, CALLING_COMUNE);
    let mut checked = 0;
    for cf in pop.sample(300) {
        let any = AnyCodiceFiscale::Persona(cf);
        let e = pop.expected(&any, date());
        let Some(h) = e.household() else { continue };
        let me = h
            .attestazione
            .household
            .iter()
            .find(|m| m.codice_fiscale == any)
            .expect("the person is in their household");
        let name = me.name.as_deref().expect("a name");
        let list = if cf.sex() == Sex::Male {
            &male
        } else {
            &female
        };
        assert!(list.contains(&name), "{name} for a {:?} code", cf.sex());
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}
