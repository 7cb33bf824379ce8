//! ANPR E002 over PDND from C: one lookup by codice fiscale or ID ANPR, the
//! answer as a JSON string (ANPR's own field names), every call audited.

use std::ffi::c_char;
use std::path::Path;
use std::sync::Arc;

use anist_client::anpr::{AnprClient, OperationIds, Richiesta, Servizio, Soggetto};
use anist_core::anpr::IdAnpr;
use anist_core::cf::CodiceFiscale;

use crate::client::client_ref;
use crate::client::open_audit;
use crate::error::{guard, Failure};
use crate::ids::parse_date;
use crate::strings::{arg_str, c_string, opt_str, out_ptr, write_out};

/// Service of [`anist_anpr_cerca`]: the generalità (C015).
pub const ANIST_ANPR_GENERALITA: i32 = 1;
/// Service of [`anist_anpr_cerca`]: the residence (C020).
pub const ANIST_ANPR_RESIDENZA: i32 = 2;
/// Service of [`anist_anpr_cerca`]: the family (C021), one subject per
/// member.
pub const ANIST_ANPR_FAMIGLIA: i32 = 3;
/// Service of [`anist_anpr_cerca`]: only the ID ANPR (C030; by codice
/// fiscale).
pub const ANIST_ANPR_ID_ANPR: i32 = 4;

fn servizio_of(servizio: i32) -> Result<Servizio, Failure> {
    match servizio {
        ANIST_ANPR_GENERALITA => Ok(Servizio::Generalita),
        ANIST_ANPR_RESIDENZA => Ok(Servizio::Residenza),
        ANIST_ANPR_FAMIGLIA => Ok(Servizio::Famiglia),
        ANIST_ANPR_ID_ANPR => Ok(Servizio::IdAnpr),
        other => Err(Failure::invalid(
            "servizio",
            format!("{other} is not an ANIST_ANPR_* service"),
        )),
    }
}

/// Looks a person up in ANPR (E002 over PDND): by `codice_fiscale` (C030
/// first, then the service by ID ANPR) or by `id_anpr` (exactly one of
/// them non-NULL), for `servizio` (`ANIST_ANPR_*`), with `motivo` (the
/// reference of the file, mandatory) and `date` (`YYYY-MM-DD`, NULL:
/// today). Every call is recorded in the audit trail `audit` (NULL: the
/// client's, see [`crate::anist_client_set_audit`]; its secret
/// `<audit>.key`); `ids` is the store of
/// the operation ids shared by every program of the ente (NULL:
/// `anist-anpr-ids.sqlite`).
///
/// Writes the answer into `*out_json` as JSON (free it with
/// [`crate::anist_string_free`]): `esito` (`"trovato"` / `"non_trovato"`:
/// not found is an answer, not an error), `servizio`, `id_anpr`, `avvisi`
/// (ANPR's warnings, e.g. `EN148`), `soggetti` (every subject with ANPR's
/// blocks: `generalita`, `residenza`, …, and `deceduto`).
///
/// Returns [`crate::ANIST_OK`], or [`crate::ANIST_ERR_INVALID_ARGUMENT`]
/// (no or two subjects, a bad service or date, blank `motivo`: nothing
/// sent), [`crate::ANIST_ERR_INVALID_CF`],
/// [`crate::ANIST_ERR_ANPR_AMBIGUOUS`], [`crate::ANIST_ERR_ANPR_NOT_COMPETENT`],
/// [`crate::ANIST_ERR_ANPR_REFUSED`], [`crate::ANIST_ERR_AUDIT`] and the
/// transport statuses.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn anist_anpr_cerca(
    client: *const crate::AnistClient,
    codice_fiscale: *const c_char,
    id_anpr: *const c_char,
    servizio: i32,
    motivo: *const c_char,
    date: *const c_char,
    audit: *const c_char,
    ids: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        let client = client_ref(client)?;
        out_ptr(out_json, "out_json")?;
        let soggetto = match (
            opt_str(codice_fiscale, "codice_fiscale")?,
            opt_str(id_anpr, "id_anpr")?,
        ) {
            (Some(cf), None) => {
                Soggetto::CodiceFiscale(CodiceFiscale::parse(cf).map_err(|e| Failure::of(&e))?)
            }
            (None, Some(id)) => Soggetto::IdAnpr(IdAnpr::parse(id).map_err(|e| Failure::of(&e))?),
            _ => {
                return Err(Failure::invalid(
                    "codice_fiscale / id_anpr",
                    "give exactly one of them",
                ))
            }
        };
        let servizio = servizio_of(servizio)?;
        if servizio == Servizio::IdAnpr && matches!(soggetto, Soggetto::IdAnpr(_)) {
            return Err(Failure::invalid(
                "servizio",
                "ANIST_ANPR_ID_ANPR looks up the ID ANPR of a codice fiscale",
            ));
        }
        let data = opt_str(date, "date")?
            .map(|d| parse_date(d, "date"))
            .transpose()?;
        let richiesta = Richiesta {
            soggetto,
            servizio,
            motivo: arg_str(motivo, "motivo")?.to_owned(),
            data,
        };
        let ids_path = opt_str(ids, "ids")?.unwrap_or("anist-anpr-ids.sqlite");
        let ids = OperationIds::open(Path::new(ids_path)).map_err(|e| Failure::of(&e))?;
        let inner = &client.inner;
        // `audit`, else the client's trail; an ANPR lookup is always
        // recorded, at the default path if the client opted out.
        let trail = match opt_str(audit, "audit")? {
            Some(a) => Arc::new(open_audit(Path::new(a))?),
            None => match inner.trail()? {
                Some(t) => t,
                None => Arc::new(open_audit(Path::new(anist_client::audit::DEFAULT_FILE))?),
            },
        };
        let anpr =
            AnprClient::new(Arc::clone(inner.anist.session()), Arc::new(ids)).with_audit(trail);
        let risposta = inner
            .runtime()?
            .block_on(anpr.cerca(&richiesta))
            .map_err(|e| Failure::of(&e))?;
        write_out(out_json, c_string(&risposta.to_json(servizio).to_string()));
        Ok(())
    })
}
