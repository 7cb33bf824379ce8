//! The sandbox's composition root: which backends it has — ANIST
//! ([`super::anist`]), INPS ISEE ([`super::inps`]), ANPR E002, massive and
//! SOAP 3002 ([`super::anpr`]) —, the default registry that publishes
//! their e-services ([`Registry::default_builder`]), the states they keep
//! while a sandbox runs, the [`SandboxConfig`] knobs that set those states
//! and the [`SandboxHandle`] methods that read them.
//!
//! The registry, the gateway and the front see a backend only as a
//! [`ServiceBackend`](super::backend::ServiceBackend); the backends import
//! none of this. A new backend (SIDI…) gets its folder, implements the
//! trait, registers its e-services, and is listed here: in
//! [`all_backends`] (and [`BACKEND_NAMES`]), in
//! [`Registry::default_builder`] and, if it keeps state, in [`start`].

use std::sync::Arc;
use std::time::Duration;

use anist_core::anpr::IdAnpr;
use anist_core::cf::CodiceFiscale;
use anist_core::isee::Esito;
use anist_core::school::SchoolYear;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use chrono::NaiveDate;

use super::anist::{AnistBackend, AnistConfig, AnistState, Population, ANIST_ESERVICES};
use super::anpr::massive::{MassiveBackend, MassiveState, ANPR_MASSIVE_ESERVICES};
use super::anpr::soap::{DocumentiSandbox, ANPR_SOAP_PATH};
use super::anpr::{Anpr, AnprBackend, AnprCase, AnprState, ANPR_ESERVICES};
use super::backend::BackendStates;
use super::inps::{InpsBackend, InpsConfig, InpsState, IseePopulation, INPS_ESERVICES};
use super::registry::{
    Agreement, Backend, Client, Descriptor, EService, Front, Purpose, Registry, RegistryBuilder,
    Tenant, DEFAULT_CLIENT, DEFAULT_CONSUMER, DEFAULT_PRODUCER, ECHO_AUDIENCE, ECHO_DESCRIPTOR,
    ECHO_EROGATORE, ECHO_ESERVICE, ECHO_PURPOSE, ECHO_SERVICE,
};
use super::tls::ViaTls;
use super::{anist, anpr, inps, Inner, SandboxConfig, SandboxError, SandboxHandle};
use crate::clock::Clock;
use crate::keys::{PrivateKey, PublicKey, RsaBits};

// ---- The backends -------------------------------------------------------

/// Every backend of the sandbox, in [`BACKEND_NAMES`] order.
fn all_backends() -> impl Iterator<Item = Backend> {
    std::iter::once(Backend::Echo)
        .chain(AnistBackend::ALL.into_iter().map(Backend::service))
        .chain(InpsBackend::ALL.into_iter().map(Backend::service))
        .chain(AnprBackend::ALL.into_iter().map(Backend::service))
        .chain(MassiveBackend::ALL.into_iter().map(Backend::service))
}

/// The name of every backend (the `backend` of a registry file).
pub(super) const BACKEND_NAMES: &[&str] = &[
    "echo",
    "anist-verifica",
    "anist-accertamento",
    "anist-verifica-massiva",
    "anist-accertamento-massivo",
    "inps-indicatore-operatori",
    "inps-attestazione-operatori",
    "inps-indicatore-residenti",
    "inps-attestazione-residenti",
    "inps-indicatore-riscontro",
    "inps-indicatore-nucleo-riscontro",
    "inps-indicatore",
    "inps-attestazione",
    "inps-v1",
    "anpr-c030",
    "anpr-c015",
    "anpr-c020",
    "anpr-c021",
    "anpr-c030-massivo",
    "anpr-c020-massivo",
];

/// The backend named `name` ([`BACKEND_NAMES`]).
pub(super) fn backend_named(name: &str) -> Option<Backend> {
    all_backends().find(|b| b.name() == name)
}

// ---- Their configuration and states --------------------------------------

/// The backends' part of a [`SandboxConfig`].
#[derive(Debug, Clone, Default)]
pub(super) struct BackendConfig {
    anist: AnistConfig,
    inps: InpsConfig,
}

/// The states of a running sandbox's backends, typed: the same as in its
/// [`BackendStates`], for the [`SandboxHandle`] methods.
pub(super) struct Started {
    anist: Arc<AnistState>,
    inps: Arc<InpsState>,
    anpr: Arc<AnprState>,
}

impl Started {
    /// What the ANPR backends answer from.
    fn anpr(&self) -> Anpr<'_> {
        Anpr {
            anist: &self.anist,
            inps: &self.inps,
            anpr: &self.anpr,
        }
    }
}

/// The states of a sandbox's backends, made when it starts with `seed` on
/// `clock`.
pub(super) fn start(
    config: BackendConfig,
    seed: u64,
    clock: &dyn Clock,
) -> (BackendStates, Started) {
    let inps = Arc::new(InpsState::new(config.inps, seed));
    let anist = Arc::new(AnistState::new(config.anist, seed, clock));
    let anpr = Arc::new(AnprState::default());
    let mut states = BackendStates::default();
    states.insert(Arc::clone(&anist));
    states.insert(Arc::clone(&inps));
    states.insert(Arc::clone(&anpr));
    states.insert(Arc::new(MassiveState::default()));
    (states, Started { anist, inps, anpr })
}

/// The backends' routes outside the front: ANPR's SOAP 3002 endpoint.
pub(super) fn routes() -> Router<Arc<Inner>> {
    Router::new().route(ANPR_SOAP_PATH, post(anpr_soap))
}

async fn anpr_soap(
    State(inner): State<Arc<Inner>>,
    tls: Option<Extension<ViaTls>>,
    body: Bytes,
) -> Response {
    anpr::soap::handle(&inner.services.anpr(), tls.is_some(), &body)
}

// ---- The default registry ------------------------------------------------

impl Registry {
    /// The sandbox's default population, to extend or build as is: the
    /// tenants [`DEFAULT_CONSUMER`] and [`DEFAULT_PRODUCER`], the client
    /// [`DEFAULT_CLIENT`] with `client_key` uploaded, and the echo
    /// e-service ([`ECHO_ESERVICE`], front path `AnistSandbox/echo/v1`,
    /// INTEGRITY_REST_02 and AUDIT_REST_02, 1,000 calls a day per client,
    /// 10 in flight, vouchers of 600 s) with an active agreement and the
    /// purpose [`ECHO_PURPOSE`], and the four ANIST e-services of
    /// [`anist::ANIST_ESERVICES`] with theirs, the nine INPS ISEE
    /// e-services of [`inps::INPS_ESERVICES`] (producer
    /// [`inps::INPS_PRODUCER`]) with theirs, and the ANPR ones of
    /// [`anpr::ANPR_ESERVICES`] and [`anpr::massive::ANPR_MASSIVE_ESERVICES`]
    /// (producer [`anpr::ANPR_PRODUCER`]) with theirs.
    ///
    /// ```
    /// use anist_client::keys::{PrivateKey, RsaBits};
    /// use anist_client::sandbox::registry::{Registry, ECHO_ESERVICE};
    /// let key = PrivateKey::generate(RsaBits::Rsa2048)?;
    /// let r = Registry::default_builder(key.public_key().clone()).build()?;
    /// assert!(r.eservice(ECHO_ESERVICE).unwrap().descriptor().front_profile().unwrap().has_audit());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn default_builder(client_key: PublicKey) -> RegistryBuilder {
        let builder = Registry::builder()
            .tenant(Tenant::new(DEFAULT_CONSUMER, "Comune di Prova (sandbox)"))
            .tenant(Tenant::new(
                DEFAULT_PRODUCER,
                "Erogatore di Prova (sandbox)",
            ))
            .eservice(EService::new(
                ECHO_ESERVICE,
                DEFAULT_PRODUCER,
                Descriptor::new(ECHO_DESCRIPTOR, ECHO_AUDIENCE)
                    .voucher_lifespan(600)
                    .daily_calls(1000)
                    .front(
                        Front::new(ECHO_EROGATORE, ECHO_SERVICE)
                            .integrity(true)
                            .audit(true),
                    ),
            ))
            .agreement(Agreement::new(ECHO_ESERVICE, DEFAULT_CONSUMER))
            .purpose(Purpose::new(ECHO_PURPOSE, ECHO_ESERVICE, DEFAULT_CONSUMER));
        // Each backend registers its e-services; the client gets their
        // purposes.
        let mut client = Client::new(DEFAULT_CLIENT, DEFAULT_CONSUMER)
            .key(client_key)
            .purpose(ECHO_PURPOSE);
        for s in ANIST_ESERVICES {
            client = client.purpose(s.purpose);
        }
        for s in INPS_ESERVICES {
            client = client.purpose(s.purpose);
        }
        for s in ANPR_ESERVICES {
            client = client.purpose(s.purpose);
        }
        for s in ANPR_MASSIVE_ESERVICES {
            client = client.purpose(s.purpose);
        }
        let builder = anpr::register(inps::register(builder));
        let builder = anpr::massive::register(builder);
        anist::register(builder).client(client)
    }
}

// ---- The backends' knobs -------------------------------------------------

impl SandboxConfig {
    /// The default registry ([`Registry::default_builder`]: echo, the
    /// ANIST, INPS ISEE and ANPR e-services) for a freshly generated RSA
    /// 2048 client key, seed `seed` (ids and the populations). Start it,
    /// then take [`SandboxHandle::session`].
    ///
    /// # Errors
    /// [`SandboxError::Key`] if the key cannot be generated, or a
    /// registry that does not build (never with the defaults).
    pub fn with_default_client(seed: u64) -> Result<Self, SandboxError> {
        let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048)?);
        Self::with_client_key(seed, key)
    }

    /// As [`Self::with_default_client`], with this client key (e.g. one
    /// kept in a file, to reuse a configuration).
    ///
    /// # Errors
    /// As [`Self::with_default_client`].
    pub fn with_client_key(seed: u64, key: Arc<PrivateKey>) -> Result<Self, SandboxError> {
        let registry = Registry::default_builder(key.public_key().clone())
            .build()
            .map_err(|e| {
                SandboxError::Key(crate::keys::KeyError::Invalid {
                    reason: format!("the default registry does not build: {e}"),
                })
            })?;
        Ok(Self::with_client_registry(seed, key, registry))
    }

    /// A sandbox on `registry`, whose client [`DEFAULT_CLIENT`] has `key`
    /// (registered in `registry` by the caller): [`SandboxHandle::session`]
    /// then works as with [`Self::with_default_client`].
    pub fn with_client_registry(seed: u64, key: Arc<PrivateKey>, registry: Registry) -> Self {
        let mut config = SandboxConfig::new(registry).seed(seed);
        config.client_key = Some(key);
        config
    }

    /// ANIST answers "no data" with the legacy `500` "La richiesta
    /// effettuata non produce alcun risultato" instead of `404` (U9).
    #[must_use]
    pub fn legacy_not_found_500(mut self, on: bool) -> Self {
        self.backends.anist.legacy_not_found_500 = on;
        self
    }

    /// How long a massive job takes: `base` plus `per_row` per question
    /// (default 200 ms + 1 ms), on the monotonic clock.
    #[must_use]
    pub fn massive_delay(mut self, base: Duration, per_row: Duration) -> Self {
        self.backends.anist.massive_base = base;
        self.backends.anist.massive_per_row = per_row;
        self
    }

    /// The school year ANIST treats as current (default: the one containing
    /// the sandbox's date at start). Set it to the year a job checks to
    /// see the whole mix of outcomes for that year (the year before it
    /// then has data too; other years have none).
    #[must_use]
    pub fn current_school_year(mut self, year: SchoolYear) -> Self {
        self.backends.anist.current_year = Some(year);
        self
    }

    /// How many pupils [`Population::pupils`] lists (default 500). Any
    /// valid codice fiscale gets an answer anyway.
    #[must_use]
    pub fn population_size(mut self, pupils: usize) -> Self {
        self.backends.anist.population_size = pupils;
        self
    }

    /// Whether the INPS `backend` requires the client certificate (only on
    /// the TLS port), overriding its front's setting (by default
    /// [`InpsBackend::mtls_by_default`]).
    #[must_use]
    pub fn inps_mtls(mut self, backend: InpsBackend, required: bool) -> Self {
        self.backends.inps.mtls.insert(backend, required);
        self
    }

    /// The Belfiore code of the Comune calling the INPS services (default
    /// [`inps::CALLING_COMUNE`]): the Residenti services answer for
    /// households residing there.
    #[must_use]
    pub fn inps_calling_comune(mut self, belfiore: &str) -> Self {
        self.backends.inps.comune = belfiore.to_ascii_uppercase();
        self
    }
}

// ---- What the backends know ----------------------------------------------

impl SandboxHandle {
    /// The ANIST population.
    pub fn population(&self) -> &Population {
        self.inner.services.anist.population()
    }

    /// How many massive jobs were submitted (and are kept until the
    /// sandbox stops).
    pub fn anist_jobs(&self) -> usize {
        self.inner.services.anist.jobs()
    }

    /// What the sandbox's ANPR says about `cf` ([`AnprCase`]).
    pub fn anpr_case(&self, cf: &CodiceFiscale) -> AnprCase {
        anpr::anpr_case(self.inner.services.anist.population().seed(), cf)
    }

    /// The ID ANPR(s) the sandbox's ANPR gives `cf` (two with omocodia,
    /// none when not found).
    pub fn anpr_ids(&self, cf: &CodiceFiscale) -> Vec<IdAnpr> {
        anpr::ids_of(&self.inner.services.anpr(), cf)
    }

    /// The people of the sandbox with documents in the SOAP 3002 endpoint.
    pub fn anpr_soap_people(&self) -> Vec<CodiceFiscale> {
        anpr::soap::people(&self.inner.services.anpr())
    }

    /// The documents the SOAP 3002 endpoint knows for `cf` on `date`
    /// (`None` when ANPR does not know the person).
    pub fn anpr_documenti(&self, cf: &CodiceFiscale, date: NaiveDate) -> Option<DocumentiSandbox> {
        anpr::soap::documenti(&self.inner.services.anpr(), cf, date)
    }

    /// The SOAP 3002 endpoint URL (on the TLS port), when TLS is on.
    pub fn anpr_soap_url(&self) -> Option<String> {
        self.tls_base_url().map(|b| format!("{b}{ANPR_SOAP_PATH}"))
    }

    /// The synthetic ISEE population the INPS services answer from.
    pub fn isee_population(&self) -> &IseePopulation {
        self.inner.services.inps.population()
    }

    /// The next `times` INPS calls that reach the backend with a readable
    /// envelope answer `esito` (e.g. [`Esito::DatabaseOffline`],
    /// [`Esito::ErroreInterno`]) instead of looking the ISEE up. 0 clears.
    pub fn inject_inps_esito(&self, esito: Esito, times: u32) {
        self.inner.services.inps.inject(esito, times);
    }

    /// Whether calls to the INPS e-service `eservice_id` need the client
    /// certificate (and so go to [`Self::tls_base_url`]).
    pub fn inps_requires_mtls(&self, eservice_id: &str) -> bool {
        let Some(front) = self
            .inner
            .registry
            .eservice(eservice_id)
            .and_then(|e| e.descriptor().front_profile())
        else {
            return false;
        };
        match front.backend_kind() {
            Backend::Service(b) => b.requires_mtls(&self.inner.backends, front.requires_mtls()),
            Backend::Echo => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backend_is_named_once() {
        let names: Vec<String> = all_backends().map(|b| b.name().to_string()).collect();
        assert_eq!(names, BACKEND_NAMES);
        for name in BACKEND_NAMES {
            assert_eq!(
                backend_named(name).map(|b| b.name().to_string()).as_deref(),
                Some(*name)
            );
        }
        assert!(backend_named("anpr").is_none());
    }

    #[test]
    fn every_state_is_started() {
        let (states, _) = start(
            BackendConfig::default(),
            1,
            &crate::clock::ManualClock::new(1_764_000_000),
        );
        assert!(states.get::<AnistState>().is_some());
        assert!(states.get::<InpsState>().is_some());
        assert!(states.get::<AnprState>().is_some());
        assert!(states.get::<MassiveState>().is_some());
        assert!(Anpr::from_states(&states).is_some());
    }
}
