//! The ANPR massive e-services over PDND (reference §1.3), asynchronous:
//! [`MassiveClient::submit`] posts the gzip+base64 list to
//! `POST …/anpr-massivo-e002-richiesta` and gets the resource id;
//! [`MassiveClient::poll`] asks `GET …/anpr-massivo-e002-download/resource/{id}`
//! (`404` = not ready, `500` = failed, `200` = the gzip JSON
//! `risposteMassive`). ANPR accepts one pending request per service and
//! fruitore: a second one is refused ([`MassivaError::Pending`], code
//! `anpr_massive_pending`).
//!
//! The reconciliation of what was sent with what came back is
//! [`anist_core::anpr::massive::riconcilia`]; the resumable job over a CSV
//! is [`crate::bulk::anpr_massiva`].
//!
//! Services (session names): [`C030_MASSIVO`] (`E002AccertamentoIdAnprMassivo`)
//! and [`C020_MASSIVO`] (C020 massivo, whose path is not public: the URL
//! comes from the configuration).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anist_core::anpr::e002::{CasoUso, DatiRichiesta, RispostaKo};
use anist_core::anpr::esito::E002Error;
use anist_core::anpr::massive::{
    leggi_download, ElementoMassivo, MassiveError, RichiestaMassiva, RispostaRichiestaMassiva,
    TipoRicerca,
};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use chrono::NaiveDate;

use super::{AnprClientError, OperationIds, Servizio};
use crate::call::CallError;
use crate::clock::{Clock, SystemClock};
use crate::session::Session;

/// Session service name of C030 massivo (`E002AccertamentoIdAnprMassivo`).
pub const C030_MASSIVO: &str = "anpr-c030-massivo";
/// Session service name of C020 massivo (`ElabMassivaAccertamentoResidenza`).
pub const C020_MASSIVO: &str = "anpr-c020-massivo";
/// The submit operation.
pub const SUBMIT_PATH: &str = "anpr-massivo-e002-richiesta";
/// The download resource (followed by `/{id}`).
pub const DOWNLOAD_PATH: &str = "anpr-massivo-e002-download/resource";

/// What a massive request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServizioMassivo {
    /// C030 massivo: the ID ANPR.
    IdAnpr,
    /// C020 massivo: the residence.
    Residenza,
}

impl ServizioMassivo {
    /// The session service name.
    pub fn session_name(self) -> &'static str {
        match self {
            ServizioMassivo::IdAnpr => C030_MASSIVO,
            ServizioMassivo::Residenza => C020_MASSIVO,
        }
    }

    /// Its `casoUso`.
    pub fn caso_uso(self) -> CasoUso {
        match self {
            ServizioMassivo::IdAnpr => CasoUso::C030,
            ServizioMassivo::Residenza => CasoUso::C020,
        }
    }

    /// The single service the omitted identifiers are asked again with.
    pub fn singolo(self) -> Servizio {
        match self {
            ServizioMassivo::IdAnpr => Servizio::IdAnpr,
            ServizioMassivo::Residenza => Servizio::Residenza,
        }
    }

    /// The stable name (`id-anpr`, `residenza`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServizioMassivo::IdAnpr => "id-anpr",
            ServizioMassivo::Residenza => "residenza",
        }
    }

    /// Reads [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id-anpr" => Some(ServizioMassivo::IdAnpr),
            "residenza" => Some(ServizioMassivo::Residenza),
            _ => None,
        }
    }
}

/// Why a massive call failed. Every variant has a stable
/// [`ErrorCode::code`]; messages carry no identifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MassivaError {
    /// ANPR refuses a new request while one is pending on the service.
    #[error("ANPR non accetta una nuova richiesta massiva finché quella in attesa non è elaborata (anpr_massive_pending): riprova più tardi, o riprendi il lavoro che l'ha inviata con il suo giornale")]
    Pending,
    /// The download answered `500`: ANPR could not process the request.
    #[error("ANPR non è riuscito a elaborare la richiesta massiva {id} (500): gli identificativi si chiedono di nuovo uno per uno")]
    Failed {
        /// The resource id.
        id: String,
    },
    /// The submit was accepted without an `idOperazioneANPR`.
    #[error("ANPR ha accettato la richiesta massiva senza restituire idOperazioneANPR: riprova")]
    NoId,
    /// The request or the download cannot be built or read.
    #[error(transparent)]
    Massive(#[from] MassiveError),
    /// As for the single lookups (call, ANPR's refusal, operation ids, audit).
    #[error(transparent)]
    Client(#[from] AnprClientError),
}

impl MassivaError {
    /// Every code specific to this type (the wrapped errors have theirs).
    pub const CODES: &'static [&'static str] = &[
        "anpr_massive_pending",
        "anpr_massive_failed",
        "anpr_massive_no_id",
    ];

    /// The call error underneath, if any.
    pub fn call(&self) -> Option<&CallError> {
        match self {
            MassivaError::Client(AnprClientError::Call(e)) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for MassivaError {
    fn code(&self) -> &'static str {
        match self {
            MassivaError::Pending => "anpr_massive_pending",
            MassivaError::Failed { .. } => "anpr_massive_failed",
            MassivaError::NoId => "anpr_massive_no_id",
            MassivaError::Massive(e) => e.code(),
            MassivaError::Client(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            MassivaError::Pending => ErrorKind::JobNotReady,
            MassivaError::Failed { .. } => ErrorKind::Job,
            MassivaError::NoId => ErrorKind::UnexpectedAnswer,
            MassivaError::Massive(e) => e.kind(),
            MassivaError::Client(e) => e.kind(),
        }
    }

    fn request_sent(&self) -> Option<anist_core::Sent> {
        match self {
            MassivaError::Client(e) => e.request_sent(),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            MassivaError::Client(e) => e.retry_after(),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for MassivaError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            MassivaError::Pending,
            MassivaError::Failed { id: "42".into() },
            MassivaError::NoId,
            // MassiveError's own samples are in anist-core.
            MassivaError::Massive(MassiveError::Empty),
        ];
        v.extend(
            AnprClientError::samples()
                .into_iter()
                .map(MassivaError::Client),
        );
        v
    }
}

impl From<CallError> for MassivaError {
    fn from(e: CallError) -> Self {
        MassivaError::Client(AnprClientError::Call(e))
    }
}

impl From<E002Error> for MassivaError {
    fn from(e: E002Error) -> Self {
        MassivaError::Client(AnprClientError::Anpr(e))
    }
}

/// Where a massive request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stato {
    /// `404`: not ready yet.
    InAttesa,
    /// `200`: the elements of the download.
    Pronto(Vec<ElementoMassivo>),
}

/// The massive e-services through a [`Session`] whose services are named
/// [`C030_MASSIVO`] / [`C020_MASSIVO`]. Cheap to clone.
#[derive(Clone)]
pub struct MassiveClient {
    session: Arc<Session>,
    ids: Arc<OperationIds>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MassiveClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MassiveClient")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

fn ko_text(body: &[u8]) -> String {
    serde_json::from_slice::<RispostaKo>(body)
        .ok()
        .and_then(|k| k.lista_errori.into_iter().next())
        .map(|e| e.testo().to_string())
        .unwrap_or_default()
}

impl MassiveClient {
    /// A client over `session`, its operation ids from `ids` (the same
    /// store as the single lookups'), on the system clock.
    pub fn new(session: Arc<Session>, ids: Arc<OperationIds>) -> Self {
        Self {
            session,
            ids,
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads the time of the operation ids from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Submits `ids` (of kind `tipo`) to `servizio`: the resource id to poll.
    ///
    /// # Errors
    /// [`MassivaError::Pending`] when ANPR refuses it because another
    /// request is pending; [`MassivaError`] otherwise.
    pub async fn submit<S: AsRef<str>>(
        &self,
        servizio: ServizioMassivo,
        tipo: TipoRicerca,
        ids: &[S],
        data: NaiveDate,
        motivo: &str,
    ) -> Result<String, MassivaError> {
        let dati = DatiRichiesta::new(data, motivo, servizio.caso_uso())?;
        let now_ms = u64::try_from(self.clock.now())
            .unwrap_or(0)
            .saturating_mul(1000);
        let id = self.ids.next(now_ms)?;
        let req = RichiestaMassiva::new(id, tipo, ids, dati)?;
        let body = serde_json::to_vec(&req).unwrap_or_default();
        match self
            .session
            .post_json(servizio.session_name(), SUBMIT_PATH, &body)
            .await
        {
            Ok(resp) => {
                let ok: RispostaRichiestaMassiva =
                    serde_json::from_slice(resp.body()).map_err(|e| E002Error::Unexpected {
                        status: resp.status(),
                        reason: format!("the massive submit answer is not JSON: {e}"),
                    })?;
                ok.id_operazione_anpr
                    .filter(|s| !s.trim().is_empty())
                    .ok_or(MassivaError::NoId)
            }
            Err(e) => {
                let pending = match &e {
                    CallError::Refused { problem } => {
                        problem.status == 409
                            || problem
                                .service_body
                                .as_ref()
                                .is_some_and(|b| ko_text(&b.0).contains("attesa di elaborazione"))
                    }
                    _ => false,
                };
                if pending {
                    return Err(MassivaError::Pending);
                }
                if let CallError::Refused { problem } = &e {
                    if let Some(b) = problem.service_body.as_ref() {
                        // ANPR's own refusal (e.g. `Tipo ricerca non ammissibile`).
                        if let Err(err) = anist_core::anpr::esito::interpreta(problem.status, &b.0)
                        {
                            return Err(err.into());
                        }
                    }
                }
                Err(e.into())
            }
        }
    }

    /// Polls the resource `id` of `servizio` once.
    ///
    /// # Errors
    /// [`MassivaError::Failed`] on `500`; [`MassivaError`] otherwise.
    pub async fn poll(&self, servizio: ServizioMassivo, id: &str) -> Result<Stato, MassivaError> {
        let path = format!("{DOWNLOAD_PATH}/{id}");
        match self.session.get(servizio.session_name(), &path).await {
            Ok(resp) => Ok(Stato::Pronto(leggi_download(resp.body())?)),
            Err(CallError::Refused { problem }) if problem.status == 404 => Ok(Stato::InAttesa),
            Err(CallError::Server { problem })
                if problem.status == 500 && problem.service_body.is_some() =>
            {
                Err(MassivaError::Failed { id: id.to_string() })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Polls `id` every `interval` until it is ready, at most `max_polls`
    /// times (`None` when still not ready).
    ///
    /// # Errors
    /// As [`Self::poll`].
    pub async fn wait(
        &self,
        servizio: ServizioMassivo,
        id: &str,
        interval: Duration,
        max_polls: u32,
    ) -> Result<Option<Vec<ElementoMassivo>>, MassivaError> {
        for n in 0..max_polls.max(1) {
            if n > 0 {
                tokio::time::sleep(interval).await;
            }
            if let Stato::Pronto(els) = self.poll(servizio, id).await? {
                return Ok(Some(els));
            }
        }
        Ok(None)
    }
}
