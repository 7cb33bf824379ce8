//! Text helpers: accent folding, header folding, Windows-1252.

use encoding_rs::{DecoderResult, EncoderResult, WINDOWS_1252};

/// Base letters of U+00C0..=U+00FF (`*` where the character is not a letter
/// with a base: `×`, `÷`, `Þ`, `þ`).
const LATIN1: &[u8; 64] = b"AAAAAAACEEEEIIIIDNOOOOO*OUUUUY*saaaaaaaceeeeiiiidnooooo*ouuuuy*y";

/// Base letters of U+0100..=U+017F (Latin Extended-A).
const LATIN_EXT_A: &[u8; 128] = b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

/// The ASCII base letter of a Latin letter with diacritics (`à` → `a`,
/// `Č` → `C`, `ș` → `s`), or `None` if `c` is not one.
///
/// Covers Latin-1, Latin Extended-A and the Romanian comma-below letters:
/// the names found in Italian registers. Ligatures fold to their first letter.
pub fn fold_char(c: char) -> Option<char> {
    let u = u32::from(c);
    let b = match u {
        0xC0..=0xFF => LATIN1[(u - 0xC0) as usize],
        0x100..=0x17F => LATIN_EXT_A[(u - 0x100) as usize],
        0x218 => b'S',
        0x219 => b's',
        0x21A => b'T',
        0x21B => b't',
        _ => return None,
    };
    (b != b'*').then_some(char::from(b))
}

/// Whether `c` is a combining diacritical mark (U+0300..=U+036F), as found in
/// decomposed (NFD) text.
fn is_combining(c: char) -> bool {
    matches!(u32::from(c), 0x300..=0x36F)
}

/// Folds a header name for comparison: lower case, accents removed, every run
/// of characters that are not letters or digits (blanks, `_`, `-`, `.`, `/`,
/// …) turned into one space, trimmed; `camelCase` and `ACRONYMWord` split at
/// ASCII case changes.
///
/// The result is stable: folding it again changes nothing.
///
/// ```
/// use anist_core::csvio::fold_header;
/// assert_eq!(fold_header("  CODICE_FISCALE "), "codice fiscale");
/// assert_eq!(fold_header("Città  di Nascita"), "citta di nascita");
/// assert_eq!(fold_header("codFiscale"), "cod fiscale");
/// assert_eq!(fold_header("idANPR"), "id anpr");
/// assert_eq!(fold_header("C.F."), "c f");
/// ```
pub fn fold_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        // ASCII case boundaries: aB, and the last capital of ABc.
        let boundary = c.is_ascii_uppercase()
            && match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
        prev = Some(c);
        if boundary {
            pending_space = true;
        }
        for l in c.to_lowercase() {
            if is_combining(l) {
                continue;
            }
            let l = fold_char(l).map_or(l, |b| b.to_ascii_lowercase());
            if l.is_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(l);
            } else {
                pending_space = true;
            }
        }
    }
    out
}

/// Appends `bytes` decoded as Windows-1252 to `out`. Every byte decodes (the
/// five bytes 1252 leaves undefined become the C1 controls of the same value,
/// as in the WHATWG encoding standard).
pub(crate) fn decode_1252_into(bytes: &[u8], out: &mut String) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        if s.is_ascii() {
            out.push_str(s);
            return;
        }
    }
    let mut decoder = WINDOWS_1252.new_decoder_without_bom_handling();
    let mut src = bytes;
    loop {
        let need = decoder
            .max_utf8_buffer_length_without_replacement(src.len())
            .unwrap_or(src.len() * 3);
        out.reserve(need);
        let (result, read) = decoder.decode_to_string_without_replacement(src, out, true);
        src = src.get(read..).unwrap_or(&[]);
        match result {
            DecoderResult::InputEmpty => return,
            DecoderResult::OutputFull => continue,
            // Windows-1252 has no malformed sequences; keep going regardless.
            DecoderResult::Malformed(_, _) => out.push(char::REPLACEMENT_CHARACTER),
        }
    }
}

/// Whether `c` can be written in Windows-1252.
pub fn is_1252_encodable(c: char) -> bool {
    let mut buf = [0u8; 4];
    let mut out = [0u8; 4];
    let s = c.encode_utf8(&mut buf);
    let mut encoder = WINDOWS_1252.new_encoder();
    let (result, _, _) = encoder.encode_from_utf8_without_replacement(s, &mut out, true);
    result == EncoderResult::InputEmpty
}

/// Appends `s` encoded as Windows-1252. On a character 1252 cannot hold,
/// `substitute` decides: `Some(f)` writes `f(c)` instead (an ASCII byte),
/// `None` stops and returns the character.
pub(crate) fn encode_1252_into(
    s: &str,
    out: &mut Vec<u8>,
    substitute: Option<fn(char) -> u8>,
) -> Result<(), char> {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
        return Ok(());
    }
    let mut encoder = WINDOWS_1252.new_encoder();
    let mut src = s;
    loop {
        let start = out.len();
        // One output byte per input character at most.
        out.resize(start + src.len() + 1, 0);
        let (result, read, written) =
            encoder.encode_from_utf8_without_replacement(src, &mut out[start..], true);
        out.truncate(start + written);
        src = src.get(read..).unwrap_or("");
        match result {
            EncoderResult::InputEmpty => return Ok(()),
            EncoderResult::OutputFull => continue,
            EncoderResult::Unmappable(c) => match substitute {
                Some(f) => out.push(f(c)),
                None => return Err(c),
            },
        }
    }
}

/// The substitute for a character Windows-1252 cannot hold: its ASCII base
/// letter if it has one (`č` → `c`), else `?`.
pub(crate) fn ascii_substitute(c: char) -> u8 {
    fold_char(c)
        .filter(char::is_ascii)
        .map_or(b'?', |b| b as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_tables() {
        assert_eq!(fold_char('à'), Some('a'));
        assert_eq!(fold_char('Ì'), Some('I'));
        assert_eq!(fold_char('č'), Some('c'));
        assert_eq!(fold_char('Ł'), Some('L'));
        assert_eq!(fold_char('ž'), Some('z'));
        assert_eq!(fold_char('ſ'), Some('s'));
        assert_eq!(fold_char('ș'), Some('s'));
        assert_eq!(fold_char('×'), None);
        assert_eq!(fold_char('a'), None);
        assert_eq!(fold_char('€'), None);
        // Every entry of the tables is a letter.
        for u in 0xC0u32..=0x17F {
            let c = char::from_u32(u).unwrap();
            if let Some(b) = fold_char(c) {
                assert!(b.is_ascii_alphabetic(), "{c}");
                assert_eq!(c.is_uppercase(), b.is_ascii_uppercase(), "case of {c}");
            }
        }
    }

    #[test]
    fn decode_1252() {
        let mut s = String::new();
        decode_1252_into(b"Citt\xe0 \x80 5", &mut s);
        assert_eq!(s, "Città € 5");
        // Agrees with encoding_rs for every byte.
        for b in 0u8..=255 {
            let mut s = String::new();
            decode_1252_into(&[b], &mut s);
            let byte = [b];
            let (cow, _) = WINDOWS_1252.decode_without_bom_handling(&byte);
            assert_eq!(s, cow, "byte {b:#x}");
        }
    }

    #[test]
    fn encode_1252() {
        let mut out = Vec::new();
        encode_1252_into("Città €", &mut out, None).unwrap();
        assert_eq!(out, b"Citt\xe0 \x80");
        out.clear();
        assert_eq!(encode_1252_into("Kovač", &mut out, None), Err('č'));
        out.clear();
        encode_1252_into("Kovač → ok", &mut out, Some(ascii_substitute)).unwrap();
        assert_eq!(out, b"Kovac ? ok");
        assert!(is_1252_encodable('€'));
        assert!(is_1252_encodable('ÿ'));
        assert!(!is_1252_encodable('č'));
    }
}
