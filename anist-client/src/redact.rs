//! The last guard of log lines: whatever a log sink writes (the CLI's
//! `-v` / `RUST_LOG`, the C log callback) passes through [`redact`], which
//! masks anything shaped like a codice fiscale and anything shaped like a
//! token or a key. The events themselves are written to carry codes,
//! counts and statuses only; this catches what an answer from outside (a
//! gateway's problem `detail`, a SOAP fault) may echo.
//!
//! ```
//! use anist_client::redact::redact;
//! let line = "refused: codiceFiscale RSSMRA80A01H501U non valido";
//! assert_eq!(redact(line), "refused: codiceFiscale RSSMRA**A01H501* non valido");
//! let jwt = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
//! assert_eq!(redact(jwt), "Bearer [redatto]");
//! ```

/// Runs of token characters at least this long (between two `/`), mixing
/// upper case, lower case and digits, are masked (a JWT, a base64 key, a
/// secret).
const TOKEN_MIN: usize = 24;

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '=' | '+' | '/')
}

/// Whether `w` (16 ASCII alphanumerics) has the shape of a codice fiscale:
/// letters where the code has letters, digits (or their omocodic letters)
/// where it has digits.
fn is_cf_shape(w: &[u8]) -> bool {
    const OMOCODIC: &[u8] = b"LMNPQRSTUV";
    w.len() == 16
        && w.iter().enumerate().all(|(i, b)| {
            let b = b.to_ascii_uppercase();
            match i {
                0..=5 | 8 | 11 | 15 => b.is_ascii_uppercase(),
                _ => b.is_ascii_digit() || OMOCODIC.contains(&b),
            }
        })
}

/// `text` with every codice-fiscale-shaped word masked as the codes'
/// `Debug` masks them (`RSSMRA**A01H501*`) and every token-shaped run
/// (at least 32 characters of base64/JWT alphabet mixing upper case, lower
/// case and digits) replaced by `[redatto]`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if is_token_char(c) {
            let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
            let run = &rest[..end];
            out.push_str(&redact_run(run));
            rest = &rest[end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn redact_run(run: &str) -> String {
    // A path (`/inps/ISEE/…`) is looked at segment by segment; a JWT has no
    // `/`, a base64 key's segments between its `/` are long enough.
    if run.contains('/') {
        return run.split('/').map(redact_run).collect::<Vec<_>>().join("/");
    }
    let mixed = run.chars().any(|c| c.is_ascii_uppercase())
        && run.chars().any(|c| c.is_ascii_lowercase())
        && run.chars().any(|c| c.is_ascii_digit());
    if run.len() >= TOKEN_MIN && mixed {
        return String::from("[redatto]");
    }
    // Codes inside the run: alphanumeric words of exactly 16 characters.
    let mut out = String::with_capacity(run.len());
    let mut rest = run;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        if is_cf_shape(word.as_bytes()) {
            out.push_str(&word[..6]);
            out.push_str("**");
            out.push_str(&word[8..15]);
            out.push('*');
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
        if let Some(c) = rest.chars().next() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;
    use proptest::prelude::*;

    #[test]
    fn codes_and_tokens_are_masked_the_rest_kept() {
        assert_eq!(redact("cf=rssmra80a01h501u,x"), "cf=rssmra**a01h501*,x");
        assert_eq!(
            redact("omocodic RSSMRA8LA01H50MU"),
            "omocodic RSSMRA**A01H50M*"
        );
        assert_eq!(
            redact("status=401 govway_id=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
            "status=401 govway_id=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        );
        assert_eq!(
            redact("url=https://127.0.0.1:48080/anist/verifica-frequenza/v1"),
            "url=https://127.0.0.1:48080/anist/verifica-frequenza/v1"
        );
        assert_eq!(
            redact("url=http://127.0.0.1:45351/inps/ISEE/ConsultazioneIndicatoreResidenti/v2"),
            "url=http://127.0.0.1:45351/inps/ISEE/ConsultazioneIndicatoreResidenti/v2"
        );
        // A base64 key line: its long segments go.
        let key = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj/MrsZ3PqlnRqX2kHCWqIqjL4oQ4a9gZUk8b";
        let red = redact(key);
        assert!(!red.contains("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), "{red}");
        assert!(red.contains("[redatto]"), "{red}");
        assert_eq!(redact("€ àè"), "€ àè");
    }

    proptest! {
        /// No codice-fiscale-shaped word survives, whatever surrounds it.
        #[test]
        fn no_code_survives(pre in "[ -~]{0,20}", post in "[ -~]{0,20}",
                            code in "[A-Z]{6}[0-9]{2}[A-Z][0-9]{2}[A-Z][0-9]{3}[A-Z]") {
            let line = format!("{pre} {code} {post}");
            let red = redact(&line);
            prop_assert!(!red.contains(&code), "{red}");
        }

        /// Redacting never panics and is idempotent.
        #[test]
        fn idempotent(s in "\\PC{0,80}") {
            let once = redact(&s);
            prop_assert_eq!(redact(&once), once.clone());
        }
    }
}
