//! [`AnprClient`]: the ANPR E002 lookups over a [`Session`].

use std::fmt;
use std::sync::Arc;

use anist_core::anpr::e002::{CriteriRicerca, DatiRichiesta, ErroreAnomalia};
use anist_core::anpr::esito::{E002Error, Esito};
use anist_core::anpr::IdAnpr;
use anist_core::ErrorCode;
use chrono::{DateTime, NaiveDate};

use super::codec;
use super::{AnprClientError, OperationIds, Richiesta, Risposta, Servizio, Soggetto};
use crate::audit::{AuditLog, LookupCall};
use crate::call::CallError;
use crate::clock::{Clock, SystemClock};
use crate::session::Session;

/// The ANPR E002 e-services through a [`Session`] whose services are named
/// [`super::C030`], [`super::C015`], [`super::C020`], [`super::C021`].
/// Cheap to clone.
#[derive(Clone)]
pub struct AnprClient {
    session: Arc<Session>,
    ids: Arc<OperationIds>,
    clock: Arc<dyn Clock>,
    audit: Option<Arc<AuditLog>>,
}

impl fmt::Debug for AnprClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnprClient")
            .field("session", &self.session)
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

/// The status and body of ANPR's own error answer (400 / 404 / 500 with a
/// `RispostaKO`), as opposed to the gateway's problems.
fn service_answer(e: &CallError) -> Option<(u16, &[u8])> {
    match e {
        CallError::Refused { problem } | CallError::Server { problem }
            if matches!(problem.status, 400 | 404 | 500) =>
        {
            let body = problem.service_body.as_ref()?;
            Some((problem.status, body.0.as_slice()))
        }
        _ => None,
    }
}

fn push_unique(into: &mut Vec<ErroreAnomalia>, from: &[ErroreAnomalia]) {
    for a in from {
        if !into
            .iter()
            .any(|b| b.codice() == a.codice() && b.testo() == a.testo())
        {
            into.push(a.clone());
        }
    }
}

impl AnprClient {
    /// A client over `session`, taking its operation ids from `ids`, on
    /// the system clock, without audit trail.
    pub fn new(session: Arc<Session>, ids: Arc<OperationIds>) -> Self {
        Self {
            session,
            ids,
            clock: Arc::new(SystemClock),
            audit: None,
        }
    }

    /// Reads today's date (the default `dataRiferimentoRichiesta`) and the
    /// time of the operation ids from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Records every call in `audit` (subject as a keyed hash).
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Seconds since the epoch on the client's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Today (UTC) on the client's clock.
    pub fn today(&self) -> NaiveDate {
        DateTime::from_timestamp(self.clock.now(), 0)
            .map(|d| d.date_naive())
            .unwrap_or_default()
    }

    /// `GET <url>/status` of `servizio`'s e-service, **without**
    /// `Agid-JWT-Signature` (ANPR's GovWay refuses one there): `Ok` when
    /// it answers 200.
    ///
    /// # Errors
    /// [`AnprClientError::Call`].
    pub async fn status(&self, servizio: Servizio) -> Result<(), AnprClientError> {
        let service = self.session.lookup(servizio.session_name())?;
        let key = self.session.voucher_key(service)?;
        let profile = service.profile().clone().integrity(false);
        self.session
            .caller()
            .get(&profile, &key, codec::STATUS_PATH)
            .await?;
        Ok(())
    }

    /// One call of `servizio` with `criteri`: the exact request, a fresh
    /// operation id, the answer interpreted, the call audited
    /// (`subject` is the code asked about).
    ///
    /// # Errors
    /// [`AnprClientError`].
    pub async fn call(
        &self,
        servizio: Servizio,
        criteri: CriteriRicerca,
        subject: &str,
        data: NaiveDate,
        motivo: &str,
    ) -> Result<Esito, AnprClientError> {
        let name = servizio.session_name();
        // Refuses early, with the configuration hint, when it is missing.
        self.session.lookup(name)?;
        let dati = DatiRichiesta::new(data, motivo, servizio.caso_uso())?;
        let now_ms = u64::try_from(self.clock.now())
            .unwrap_or(0)
            .saturating_mul(1000);
        let id = self.ids.next(now_ms)?;
        let body = codec::encode(&anist_core::anpr::e002::RichiestaE002::new(
            id, criteri, dati,
        ));
        let govway: Option<String>;
        let outcome: Result<Esito, AnprClientError> =
            match self.session.post_json(name, codec::PATH, &body).await {
                Ok(resp) => {
                    govway = resp.govway_id().map(str::to_string);
                    codec::decode(resp.status(), resp.body()).map_err(Into::into)
                }
                Err(e) => {
                    govway = e.govway_id().map(str::to_string);
                    match service_answer(&e) {
                        // ANPR's own RispostaKO (not found, EN131…).
                        Some((status, body)) => codec::decode(status, body).map_err(Into::into),
                        None => Err(e.into()),
                    }
                }
            };
        let code: &str = match &outcome {
            Ok(Esito::Trovato { .. }) => "found",
            Ok(Esito::NonTrovato { .. }) => "not_found",
            Err(e) => e.code(),
        };
        if let Some(audit) = &self.audit {
            audit.record_lookup(
                &self.session,
                &LookupCall {
                    eservice: name,
                    operation: servizio.caso_uso().as_str(),
                    subject,
                    outcome: code,
                    correlation_id: None,
                    govway_id: govway.as_deref(),
                },
            )?;
        }
        outcome
    }

    /// A lookup: by ID ANPR, the service directly; by codice fiscale,
    /// C030 first, then the service by each ID ANPR found (two with
    /// omocodia: both subjects are returned). Warnings of every call reach
    /// [`Risposta::avvisi`].
    ///
    /// # Errors
    /// [`AnprClientError`]; a blank `motivo` is refused before any call
    /// ([`E002Error::MotivoMissing`]).
    pub async fn cerca(&self, richiesta: &Richiesta) -> Result<Risposta, AnprClientError> {
        let data = richiesta.data.unwrap_or_else(|| self.today());
        // Checks the motivo before spending an operation id.
        DatiRichiesta::new(data, &richiesta.motivo, richiesta.servizio.caso_uso())?;
        let mut avvisi = Vec::new();
        let ids: Vec<IdAnpr> = match richiesta.soggetto {
            Soggetto::IdAnpr(id) => {
                if richiesta.servizio == Servizio::IdAnpr {
                    return Err(CallError::NotSent {
                        reason: "C030 finds the ID ANPR of a codice fiscale: ask another service with an ID ANPR".into(),
                    }
                    .into());
                }
                vec![id]
            }
            Soggetto::CodiceFiscale(cf) => {
                let esito = self
                    .call(
                        Servizio::IdAnpr,
                        CriteriRicerca::codice_fiscale(cf.as_str()),
                        cf.as_str(),
                        data,
                        &richiesta.motivo,
                    )
                    .await?;
                push_unique(&mut avvisi, esito.avvisi());
                let ids: Vec<IdAnpr> = esito.soggetti().iter().filter_map(|s| s.id_anpr).collect();
                if richiesta.servizio == Servizio::IdAnpr
                    || matches!(esito, Esito::NonTrovato { .. })
                {
                    return Ok(Risposta {
                        esito,
                        id_anpr: ids,
                        avvisi,
                    });
                }
                if ids.is_empty() {
                    return Err(E002Error::Unexpected {
                        status: 200,
                        reason:
                            "C030 found the subject without a well-formed identificativi.idANPR"
                                .into(),
                    }
                    .into());
                }
                ids
            }
        };
        let mut soggetti = Vec::new();
        let mut last_id = None;
        for id in &ids {
            let esito = self
                .call(
                    richiesta.servizio,
                    CriteriRicerca::id_anpr(id.as_str()),
                    id.as_str(),
                    data,
                    &richiesta.motivo,
                )
                .await?;
            push_unique(&mut avvisi, esito.avvisi());
            if let Esito::Trovato {
                id_operazione_anpr,
                soggetti: found,
                ..
            } = esito
            {
                soggetti.extend(found);
                last_id = id_operazione_anpr;
            }
        }
        let esito = if soggetti.is_empty() {
            Esito::NonTrovato {
                id_operazione_anpr: last_id,
                avvisi: avvisi.clone(),
            }
        } else {
            Esito::Trovato {
                id_operazione_anpr: last_id,
                soggetti,
                avvisi: avvisi.clone(),
            }
        };
        Ok(Risposta {
            esito,
            id_anpr: ids,
            avvisi,
        })
    }
}
