//! The kinds of ISEE (sections of the attestazione, `TipoIndicatore` of the
//! services).

use std::fmt;

/// A kind of ISEE.
///
/// Parsed leniently from the names INPS uses in `TipoIndicatore`
/// (`Ordinario`, `Minorenne`, `Universitario`, `SocioSanitario`,
/// `Residenziale`, `Dottorato`, also `ISEE Ordinario`) and from the section
/// names of the attestazione (`ISEEOrdinario`, `ISEEMin`, `ISEEUni`,
/// `ISEESocioSanRes`, `ISEERistretto`). A name it does not know is kept in
/// [`IseeKind::Other`].
///
/// ```
/// use anist_core::isee::IseeKind;
///
/// assert_eq!(IseeKind::parse("Minorenne"), IseeKind::Minorenni);
/// assert_eq!(IseeKind::parse("ISEE Ordinario"), IseeKind::Ordinario);
/// assert_eq!(IseeKind::parse("socio-sanitario residenziale"), IseeKind::SocioSanitarioResidenziale);
/// assert_eq!(IseeKind::parse("Famiglia"), IseeKind::Other("Famiglia".into()));
/// assert_eq!(IseeKind::Minorenni.tipo_indicatore(), Some("Minorenne"));
/// assert_eq!(IseeKind::Minorenni.to_string(), "ISEE minorenni");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IseeKind {
    /// ISEE ordinario (standard).
    Ordinario,
    /// ISEE corrente: recomputed on recent incomes after a change of
    /// situation (modulo sostitutivo); replaces the ordinario while valid.
    Corrente,
    /// ISEE for benefits to minors whose parents do not live together.
    Minorenni,
    /// ISEE for university study benefits.
    Universitario,
    /// ISEE for socio-sanitary benefits (non-residential).
    SocioSanitario,
    /// ISEE for residential socio-sanitary benefits.
    SocioSanitarioResidenziale,
    /// ISEE of the nucleo ristretto (reduced household).
    Ristretto,
    /// ISEE for doctoral scholarships.
    Dottorato,
    /// A kind this version does not know, by the name found.
    Other(String),
}

impl IseeKind {
    /// Parses a kind name; never fails (unknown names become
    /// [`IseeKind::Other`] with the trimmed name).
    ///
    /// Matching ignores case, blanks, `-`, `_`, a leading `ISEE` and accents.
    pub fn parse(name: &str) -> IseeKind {
        let key: String = deunicode::deunicode(name)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let key = key.strip_prefix("isee").unwrap_or(&key);
        match key {
            "ordinario" | "ord" => IseeKind::Ordinario,
            "corrente" | "ordinariocorrente" => IseeKind::Corrente,
            "minorenne" | "minorenni" | "min" | "minori" => IseeKind::Minorenni,
            "universitario" | "universita" | "uni" => IseeKind::Universitario,
            "sociosanitario" | "sociosan" => IseeKind::SocioSanitario,
            "residenziale" | "sociosanitarioresidenziale" | "sociosanres" | "sociosanitariores" => {
                IseeKind::SocioSanitarioResidenziale
            }
            "ristretto" | "ridotto" | "nucleoristretto" => IseeKind::Ristretto,
            "dottorato" | "dottoratodiricerca" => IseeKind::Dottorato,
            _ => IseeKind::Other(name.trim().to_string()),
        }
    }

    /// A stable identifier: `ordinario`, `corrente`, `minorenni`,
    /// `universitario`, `socio_sanitario`, `socio_sanitario_residenziale`,
    /// `ristretto`, `dottorato`, or the name of an [`IseeKind::Other`].
    pub fn as_str(&self) -> &str {
        match self {
            IseeKind::Ordinario => "ordinario",
            IseeKind::Corrente => "corrente",
            IseeKind::Minorenni => "minorenni",
            IseeKind::Universitario => "universitario",
            IseeKind::SocioSanitario => "socio_sanitario",
            IseeKind::SocioSanitarioResidenziale => "socio_sanitario_residenziale",
            IseeKind::Ristretto => "ristretto",
            IseeKind::Dottorato => "dottorato",
            IseeKind::Other(name) => name,
        }
    }

    /// The value of `TipoIndicatore` in a `ConsultazioneIndicatore` request
    /// (`Ordinario`, `Minorenne`, `Universitario`, `SocioSanitario`,
    /// `Dottorato`, `Residenziale`), or `None` for kinds that cannot be asked
    /// for (corrente and ristretto come with the ordinario / socio-sanitario
    /// answers).
    pub fn tipo_indicatore(&self) -> Option<&'static str> {
        match self {
            IseeKind::Ordinario => Some("Ordinario"),
            IseeKind::Minorenni => Some("Minorenne"),
            IseeKind::Universitario => Some("Universitario"),
            IseeKind::SocioSanitario => Some("SocioSanitario"),
            IseeKind::SocioSanitarioResidenziale => Some("Residenziale"),
            IseeKind::Dottorato => Some("Dottorato"),
            IseeKind::Corrente | IseeKind::Ristretto | IseeKind::Other(_) => None,
        }
    }
}

impl fmt::Display for IseeKind {
    /// The Italian name, e.g. `ISEE minorenni`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            IseeKind::Ordinario => "ISEE ordinario",
            IseeKind::Corrente => "ISEE corrente",
            IseeKind::Minorenni => "ISEE minorenni",
            IseeKind::Universitario => "ISEE università",
            IseeKind::SocioSanitario => "ISEE socio-sanitario",
            IseeKind::SocioSanitarioResidenziale => "ISEE socio-sanitario residenziale",
            IseeKind::Ristretto => "ISEE nucleo ristretto",
            IseeKind::Dottorato => "ISEE dottorato di ricerca",
            IseeKind::Other(name) => return write!(f, "ISEE {name}"),
        };
        f.write_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_and_section_names() {
        let cases = [
            ("Ordinario", IseeKind::Ordinario),
            ("ISEE Ordinario", IseeKind::Ordinario),
            ("ISEEOrdinario", IseeKind::Ordinario),
            ("ordinario", IseeKind::Ordinario),
            ("Corrente", IseeKind::Corrente),
            ("ISEE corrente", IseeKind::Corrente),
            ("Minorenne", IseeKind::Minorenni),
            ("ISEEMin", IseeKind::Minorenni),
            ("minorenni", IseeKind::Minorenni),
            ("Universitario", IseeKind::Universitario),
            ("ISEEUni", IseeKind::Universitario),
            ("Università", IseeKind::Universitario),
            ("SocioSanitario", IseeKind::SocioSanitario),
            ("socio-sanitario", IseeKind::SocioSanitario),
            ("Residenziale", IseeKind::SocioSanitarioResidenziale),
            ("ISEESocioSanRes", IseeKind::SocioSanitarioResidenziale),
            (
                "socio_sanitario_residenziale",
                IseeKind::SocioSanitarioResidenziale,
            ),
            ("ISEERistretto", IseeKind::Ristretto),
            ("Ridotto", IseeKind::Ristretto),
            ("Dottorato", IseeKind::Dottorato),
            (" Famiglia ", IseeKind::Other("Famiglia".into())),
            ("", IseeKind::Other(String::new())),
        ];
        for (name, kind) in cases {
            assert_eq!(IseeKind::parse(name), kind, "{name:?}");
        }
    }

    #[test]
    fn identifiers_round_trip() {
        for k in [
            IseeKind::Ordinario,
            IseeKind::Corrente,
            IseeKind::Minorenni,
            IseeKind::Universitario,
            IseeKind::SocioSanitario,
            IseeKind::SocioSanitarioResidenziale,
            IseeKind::Ristretto,
            IseeKind::Dottorato,
        ] {
            assert_eq!(IseeKind::parse(k.as_str()), k);
            if let Some(t) = k.tipo_indicatore() {
                assert_eq!(IseeKind::parse(t), k);
            }
            assert!(k.to_string().starts_with("ISEE "));
        }
        assert_eq!(IseeKind::Other("X".into()).as_str(), "X");
        assert_eq!(IseeKind::Other("X".into()).to_string(), "ISEE X");
        assert_eq!(IseeKind::Corrente.tipo_indicatore(), None);
    }
}
