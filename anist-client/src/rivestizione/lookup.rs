//! How the worker asks about one subject: a trait (tests and other
//! channels plug in), and [`AnprLookup`] on the ANPR clients: a document
//! is resolved to its subject through the Comune's SOAP 3002 channel, then
//! the PDND e-services give the generalità (C015), the residence (C020:
//! also the scope check) and the family (C021) the request asks. With the
//! massive e-services ([`AnprLookup::with_massive`]), a request's many
//! codici fiscali get their ID ANPR in one massive C030 request first,
//! which spares each of them its single C030 call.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anist_core::anpr::dati::DatoRichiesto;
use anist_core::anpr::e002::DatiSoggetto;
use anist_core::anpr::esito::Esito;
use anist_core::anpr::massive::{riconcilia, EsitoMassivo, TipoRicerca};
use anist_core::anpr::soap3002::{Documento, Esito3002};
use anist_core::anpr::IdAnpr;
use anist_core::cf::CodiceFiscale;
use anist_core::documents::DocumentKind;
use anist_core::rivestizione::{Scope, SubjectId};
use anist_core::{ErrorCode, ErrorKind};
use chrono::NaiveDate;

use super::store::{Outcome, RequestRecord, SubjectData, SubjectOutcome, SubjectRecord};
use crate::anpr::massive::{MassiveClient, ServizioMassivo, Stato};
use crate::anpr::soap::{AnprSoapClient, RicercaDocumento};
use crate::anpr::{AnprClient, Richiesta, Servizio, Soggetto};

/// A lookup in flight.
pub type LookupTask<'a> = Pin<Box<dyn Future<Output = SubjectOutcome> + Send + 'a>>;

/// A preparation in flight.
pub type PrepareTask<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Asks about one subject of a request. The outcome should carry the data
/// sets the request asked, and the residence when its scope is the
/// convenzionati; whatever it carries, the worker keeps only what the
/// request asked and makes a non-resident `out_of_scope` (no data).
pub trait SubjectLookup: Send + Sync {
    /// The outcome for `subject` of `request`, with the Comuni served
    /// (`comuni`, ISTAT codes).
    fn lookup<'a>(
        &'a self,
        request: &'a RequestRecord,
        subject: &'a SubjectRecord,
        comuni: &'a [String],
    ) -> LookupTask<'a>;

    /// Called by the worker once per pass with a request's subjects still
    /// to ask, before their lookups: a lookup may resolve them in bulk
    /// (the massive e-services) and use that in [`Self::lookup`]. Nothing
    /// by default; a failure here only means single lookups.
    fn prepare<'a>(
        &'a self,
        _request: &'a RequestRecord,
        _subjects: &'a [SubjectRecord],
    ) -> PrepareTask<'a> {
        Box::pin(async {})
    }
}

/// The massive C030 step of [`AnprLookup`].
struct Massive {
    client: MassiveClient,
    /// Codici fiscali asked at least this many at once go through it.
    threshold: usize,
    /// The wait between two polls of its download.
    poll_interval: Duration,
    /// Polls before giving up (the subjects are then asked singly).
    max_polls: u32,
}

/// [`SubjectLookup`] on the ANPR clients (PDND E002; SOAP 3002 for the
/// documents, when the Comune's channel is configured).
pub struct AnprLookup {
    client: AnprClient,
    massive: Option<Massive>,
    /// The ID ANPR of codici fiscali resolved by the massive step.
    resolved: Mutex<HashMap<String, IdAnpr>>,
    /// How many subjects the massive step resolved.
    resolved_in_bulk: AtomicU64,
    /// ANPR refuses an `idOperazioneClient` lower than the last it
    /// received: the calls go one at a time, so that they arrive in the
    /// order of their ids.
    gate: tokio::sync::Mutex<()>,
    soap: Option<AnprSoapClient>,
    /// The ISTAT code of the Comune that issued an identity card whose row
    /// does not say.
    comune: String,
}

impl std::fmt::Debug for AnprLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnprLookup")
            .field("documents", &self.soap.is_some())
            .finish_non_exhaustive()
    }
}

impl AnprLookup {
    /// Lookups through `client`, documents through `soap` when given, an
    /// identity card without its issuer taken as issued by `comune`.
    pub fn new(client: AnprClient, soap: Option<AnprSoapClient>, comune: &str) -> Self {
        Self {
            client,
            massive: None,
            resolved: Mutex::new(HashMap::new()),
            resolved_in_bulk: AtomicU64::new(0),
            gate: tokio::sync::Mutex::new(()),
            soap,
            comune: comune.to_owned(),
        }
    }
}

fn failed(outcome: Outcome, code: &str) -> SubjectOutcome {
    SubjectOutcome {
        outcome,
        code: Some(code.to_owned()),
        data: None,
    }
}

/// The outcome of a failed call, by its kind.
fn of_error(e: &dyn ErrorCode) -> SubjectOutcome {
    let outcome = match e.kind() {
        ErrorKind::AnprAmbiguous => Outcome::Ambiguous,
        ErrorKind::AnprNotCompetent
        | ErrorKind::AnprRefused
        | ErrorKind::Refused
        | ErrorKind::AuthRefused => Outcome::Refused,
        _ => Outcome::Error,
    };
    failed(outcome, e.code())
}

fn iso_today(client: &AnprClient) -> NaiveDate {
    client.today()
}

impl AnprLookup {
    /// Resolves the codici fiscali of a request in one massive C030
    /// request when there are at least `threshold` of them (default
    /// below: 100), polling its download every `poll_interval` up to
    /// `max_polls` times; what it does not resolve is asked singly.
    #[must_use]
    pub fn with_massive(
        mut self,
        client: MassiveClient,
        threshold: usize,
        poll_interval: Duration,
        max_polls: u32,
    ) -> Self {
        self.massive = Some(Massive {
            client,
            threshold: threshold.max(1),
            poll_interval,
            max_polls: max_polls.max(1),
        });
        self
    }

    /// How many subjects the massive step resolved so far.
    pub fn resolved_in_bulk(&self) -> u64 {
        self.resolved_in_bulk.load(Ordering::Relaxed)
    }

    fn resolved(&self) -> std::sync::MutexGuard<'_, HashMap<String, IdAnpr>> {
        self.resolved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The massive C030 step: the ID ANPR of the request's codici fiscali
    /// not yet resolved, when they are many enough.
    async fn resolve_in_bulk(&self, request: &RequestRecord, subjects: &[SubjectRecord]) {
        let Some(m) = &self.massive else { return };
        let cfs: Vec<String> = {
            let done = self.resolved();
            subjects
                .iter()
                .filter_map(|s| match s.id {
                    Some(SubjectId::Cf(cf)) if !done.contains_key(cf.as_str()) => {
                        Some(cf.as_str().to_owned())
                    }
                    _ => None,
                })
                .collect()
        };
        if cfs.len() < m.threshold {
            return;
        }
        let today = iso_today(&self.client);
        let submitted = {
            let _in_order = self.gate.lock().await;
            m.client
                .submit(
                    ServizioMassivo::IdAnpr,
                    TipoRicerca::CodiceFiscale,
                    &cfs,
                    today,
                    &request.motivo,
                )
                .await
        };
        // Refused (e.g. another massive request pending): single lookups.
        let Ok(id) = submitted else { return };
        for n in 0..m.max_polls {
            if n > 0 {
                tokio::time::sleep(m.poll_interval).await;
            }
            match m.client.poll(ServizioMassivo::IdAnpr, &id).await {
                Ok(Stato::InAttesa) => continue,
                Ok(Stato::Pronto(elements)) => {
                    let outcomes = riconcilia(TipoRicerca::CodiceFiscale, &cfs, &elements);
                    let mut done = self.resolved();
                    for (cf, o) in cfs.iter().zip(outcomes) {
                        // One subject with a well-formed ID ANPR only:
                        // omocodia and the rest are asked singly.
                        if let EsitoMassivo::Trovato(found) = o {
                            if let [one] = found.as_slice() {
                                if let Some(id) = one.id_anpr().and_then(|i| IdAnpr::parse(i).ok())
                                {
                                    done.insert(cf.clone(), id);
                                    self.resolved_in_bulk.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    return;
                }
                Err(_) => return,
            }
        }
    }

    /// The subject a document identifies (by codice fiscale or ID ANPR),
    /// or the outcome when there is none or several.
    async fn resolve(
        &self,
        request: &RequestRecord,
        subject: &SubjectRecord,
        doc: &anist_core::documents::DocumentNumber,
    ) -> Result<Soggetto, SubjectOutcome> {
        let Some(soap) = &self.soap else {
            return Err(failed(Outcome::Error, "rivestizione_no_document_channel"));
        };
        let rilascio = subject.rilascio.as_deref();
        let documento = match doc.kind() {
            DocumentKind::Passaporto => Documento::passaporto(doc.as_str()),
            DocumentKind::PermessoSoggiorno => Documento::permesso(Some(doc.as_str()), rilascio),
            _ => Documento::carta(doc.as_str(), Some(rilascio.unwrap_or(&self.comune)), None),
        };
        let ricerca = RicercaDocumento {
            documento,
            nazionale: request.asked.scope == Scope::Italia,
            motivo: request.motivo.clone(),
            data: iso_today(&self.client),
        };
        let now = chrono::DateTime::from_timestamp(self.client_now(), 0)
            .unwrap_or_default()
            .naive_utc();
        let answer = {
            let _in_order = self.gate.lock().await;
            soap.cerca(&ricerca, now).await
        };
        match answer {
            Ok(r) => match r.esito {
                Esito3002::NonTrovato { .. } => Err(SubjectOutcome {
                    outcome: Outcome::NotFound,
                    code: None,
                    data: None,
                }),
                Esito3002::Trovati(found) if found.len() == 1 => {
                    // The codice fiscale first: the subject's key on both
                    // channels.
                    let s = &found[0];
                    if let Some(cf) = s
                        .codice_fiscale
                        .as_deref()
                        .and_then(|c| CodiceFiscale::parse(c).ok())
                    {
                        Ok(Soggetto::CodiceFiscale(cf))
                    } else if let Some(id) =
                        s.id_anpr.as_deref().and_then(|i| IdAnpr::parse(i).ok())
                    {
                        Ok(Soggetto::IdAnpr(id))
                    } else {
                        Err(failed(Outcome::Error, "anpr_unexpected_answer"))
                    }
                }
                Esito3002::Trovati(_) => Err(failed(Outcome::Ambiguous, "anpr_ambiguous")),
                _ => Err(failed(Outcome::Error, "anpr_unexpected_answer")),
            },
            Err(e) => Err(of_error(&e)),
        }
    }

    fn client_now(&self) -> i64 {
        self.client.now()
    }

    /// One service about `soggetto`: its one subject's data, or the outcome.
    async fn one(
        &self,
        request: &RequestRecord,
        soggetto: Soggetto,
        servizio: Servizio,
    ) -> Result<Vec<DatiSoggetto>, SubjectOutcome> {
        let r = Richiesta {
            soggetto,
            servizio,
            motivo: request.motivo.clone(),
            data: None,
        };
        let answer = {
            let _in_order = self.gate.lock().await;
            self.client.cerca(&r).await
        };
        match answer {
            Ok(risposta) => match risposta.esito {
                Esito::NonTrovato { .. } => Err(SubjectOutcome {
                    outcome: Outcome::NotFound,
                    code: None,
                    data: None,
                }),
                Esito::Trovato { soggetti, .. } => {
                    if servizio != Servizio::Famiglia && soggetti.len() > 1 {
                        return Err(failed(Outcome::Ambiguous, "anpr_ambiguous"));
                    }
                    Ok(soggetti.into_iter().map(|s| s.dati).collect())
                }
            },
            Err(e) => Err(of_error(&e)),
        }
    }

    async fn ask(
        &self,
        request: &RequestRecord,
        subject: &SubjectRecord,
    ) -> Result<SubjectData, SubjectOutcome> {
        let soggetto = match subject.id {
            None => return Err(failed(Outcome::Error, "rivestizione_purged")),
            Some(SubjectId::Cf(cf)) => match self.resolved().get(cf.as_str()) {
                Some(id) => Soggetto::IdAnpr(*id),
                None => Soggetto::CodiceFiscale(cf),
            },
            Some(SubjectId::IdAnpr(id)) => Soggetto::IdAnpr(id),
            Some(SubjectId::Document(d)) => self.resolve(request, subject, &d).await?,
        };
        let asked = &request.asked;
        let gen = self.one(request, soggetto, Servizio::Generalita).await?;
        let first = gen.first().cloned().unwrap_or_default();
        // Later services by ID ANPR: one C030 only.
        let soggetto = first
            .id_anpr()
            .and_then(|i| IdAnpr::parse(i).ok())
            .map_or(soggetto, Soggetto::IdAnpr);
        let mut data = SubjectData {
            id_anpr: first.id_anpr().unwrap_or_default().to_owned(),
            ..SubjectData::default()
        };
        if asked.data.contains(&DatoRichiesto::Generalita) {
            data.generalita = Some(generalita(&first));
        }
        let needs_residence =
            asked.data.contains(&DatoRichiesto::Residenza) || asked.scope == Scope::Convenzionati;
        if needs_residence {
            // Also for the scope check: the worker keeps it only when asked.
            let res = self.one(request, soggetto, Servizio::Residenza).await?;
            data.residenza = Some(res.first().map(residenza).unwrap_or_default());
        }
        if asked.data.contains(&DatoRichiesto::FamigliaConvivenza) {
            let fam = self.one(request, soggetto, Servizio::Famiglia).await?;
            data.famiglia = fam.iter().map(membro).collect();
        }
        Ok(data)
    }
}

impl SubjectLookup for AnprLookup {
    fn lookup<'a>(
        &'a self,
        request: &'a RequestRecord,
        subject: &'a SubjectRecord,
        _comuni: &'a [String],
    ) -> LookupTask<'a> {
        Box::pin(async move {
            match self.ask(request, subject).await {
                Ok(data) => SubjectOutcome {
                    outcome: Outcome::Found,
                    code: None,
                    data: Some(data),
                },
                Err(o) => o,
            }
        })
    }

    fn prepare<'a>(
        &'a self,
        request: &'a RequestRecord,
        subjects: &'a [SubjectRecord],
    ) -> PrepareTask<'a> {
        Box::pin(self.resolve_in_bulk(request, subjects))
    }
}

fn s(o: Option<&String>) -> String {
    o.cloned().unwrap_or_default()
}

/// codice fiscale, cognome, nome, sesso, data di nascita, comune di nascita.
fn generalita(d: &DatiSoggetto) -> [String; 6] {
    let g = d.generalita.as_ref();
    [
        g.and_then(|g| g.cf()).unwrap_or_default().to_owned(),
        s(g.and_then(|g| g.cognome.as_ref())),
        s(g.and_then(|g| g.nome.as_ref())),
        s(g.and_then(|g| g.sesso.as_ref())),
        s(g.and_then(|g| g.data_nascita.as_ref())),
        s(g.and_then(|g| g.luogo_nascita.as_ref())
            .and_then(|l| l.comune.as_ref())
            .and_then(|c| c.nome_comune.as_ref())),
    ]
}

/// indirizzo, CAP, comune, codice ISTAT, decorrenza.
fn residenza(d: &DatiSoggetto) -> [String; 5] {
    let r = d.residenza.first();
    let i = r.and_then(|r| r.indirizzo.as_ref());
    let top = i.and_then(|i| i.toponimo.as_ref());
    let indirizzo = [
        top.and_then(|t| t.specie.clone()),
        top.and_then(|t| t.denominazione_toponimo.clone()),
        i.and_then(|i| i.numero_civico.as_ref())
            .and_then(|n| n.numero.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let comune = i.and_then(|i| i.comune.as_ref());
    [
        indirizzo,
        s(i.and_then(|i| i.cap.as_ref())),
        s(comune.and_then(|c| c.nome_comune.as_ref())),
        s(comune.and_then(|c| c.codice_istat.as_ref())),
        s(r.and_then(|r| r.data_decorrenza_residenza.as_ref())),
    ]
}

/// codice fiscale, cognome, nome, legame.
fn membro(d: &DatiSoggetto) -> [String; 4] {
    let g = generalita(d);
    [
        g[0].clone(),
        g[1].clone(),
        g[2].clone(),
        s(d.legame_soggetto
            .as_ref()
            .and_then(|l| l.tipo_legame.as_ref().or(l.codice_legame.as_ref()))),
    ]
}
