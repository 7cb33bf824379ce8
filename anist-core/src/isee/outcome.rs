//! The outcome of one row of an ISEE batch, decided from INPS's answer:
//! a pure rule, next to the attendance job's `decide_row`.

use crate::ErrorKind;

/// The outcome of one row of an ISEE batch. [`Self::as_str`] is the
/// stable code (the output's `codice_esito`), [`Self::label_it`] the
/// clerk's words (its `esito`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowOutcome {
    /// INPS answered with the ISEE.
    Found,
    /// INPS has no ISEE for the question.
    NoIsee,
    /// INPS refused the question (`RICHIESTA_INVALIDA`,
    /// `RISCONTRO_NON_VALIDO`) or the ente may not use the service.
    Refused,
    /// The row cannot be asked (its fields are not valid).
    InvalidInput,
    /// No answer after the retries.
    Error,
}

impl RowOutcome {
    /// Every outcome, in the output's order of counts.
    pub const ALL: [RowOutcome; 5] = [
        RowOutcome::Found,
        RowOutcome::NoIsee,
        RowOutcome::Refused,
        RowOutcome::InvalidInput,
        RowOutcome::Error,
    ];

    /// The outcome of an answer: found or not.
    pub const fn of_answer(found: bool) -> Self {
        if found {
            RowOutcome::Found
        } else {
            RowOutcome::NoIsee
        }
    }

    /// The outcome of a failed question, by its error's kind: INPS's
    /// refusal and the ente's ineligibility are answers (`refused`), any
    /// other failure is an `error`.
    pub const fn of_failure(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::IseeRefused | ErrorKind::IseeNotEligible => RowOutcome::Refused,
            _ => RowOutcome::Error,
        }
    }

    /// The stable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            RowOutcome::Found => "found",
            RowOutcome::NoIsee => "no_isee",
            RowOutcome::Refused => "refused",
            RowOutcome::InvalidInput => "invalid_input",
            RowOutcome::Error => "error",
        }
    }

    /// Reads a stable code back; an unknown code is an `error`.
    pub fn from_code(code: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == code)
            .unwrap_or(RowOutcome::Error)
    }

    /// The clerk's words.
    pub const fn label_it(self) -> &'static str {
        match self {
            RowOutcome::Found => "ISEE trovata",
            RowOutcome::NoIsee => "nessuna ISEE",
            RowOutcome::Refused => "rifiutata da INPS",
            RowOutcome::InvalidInput => "riga non valida",
            RowOutcome::Error => "errore",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn codes_read_back() {
        for o in RowOutcome::ALL {
            assert_eq!(RowOutcome::from_code(o.as_str()), o);
        }
        assert_eq!(RowOutcome::from_code("boh"), RowOutcome::Error);
    }

    proptest! {
        /// Only INPS's refusal and ineligibility are `refused`; every other
        /// failure is an `error`, never an answer.
        #[test]
        fn a_failure_is_refused_or_error(i in 0usize..ErrorKind::ALL.len()) {
            let kind = ErrorKind::ALL[i];
            let o = RowOutcome::of_failure(kind);
            let refusal = matches!(kind, ErrorKind::IseeRefused | ErrorKind::IseeNotEligible);
            prop_assert_eq!(o == RowOutcome::Refused, refusal);
            prop_assert!(matches!(o, RowOutcome::Refused | RowOutcome::Error));
        }
    }
}
