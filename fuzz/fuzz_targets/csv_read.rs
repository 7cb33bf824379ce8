//! Arbitrary bytes into the tolerant CSV reader. The first byte picks the
//! options (strict or not, a small record limit, the encoding, the chunk
//! size of the input); the rest is the file.
//!
//! Asserts: no panic and termination; lines go forward; strict rows have the
//! header's width; the result does not depend on how the input is chunked;
//! the good rows written back with the writer read back the same.
#![no_main]

use std::io::{self, Read};

use anist_core::csvio::{
    CsvReader, CsvWriter, InputEncoding, ReadOutcome, ReaderBuilder, Row, WriterOptions,
};
use libfuzzer_sys::fuzz_target;

struct Trickle<'a> {
    data: &'a [u8],
    n: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.n.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}

/// Header, good rows, and (line, code) of every record in order.
type Read_ = (Vec<String>, Vec<Vec<String>>, Vec<(u64, &'static str)>);

fn read_all(builder: ReaderBuilder, input: impl Read, strict: bool) -> Option<Read_> {
    use anist_core::ErrorCode;
    let mut reader = builder.from_reader(input).ok()?;
    let header = reader.headers().names().to_vec();
    let mut rows = Vec::new();
    let mut trace = Vec::new();
    let mut row = Row::new();
    let mut last = 0u64;
    loop {
        match reader.read_row(&mut row) {
            Ok(ReadOutcome::Row) => {
                assert!(row.line() > last, "lines go forward");
                last = row.line();
                if strict {
                    assert_eq!(row.len(), header.len());
                }
                rows.push(row.to_vec());
                trace.push((row.line(), "row"));
            }
            Ok(ReadOutcome::Bad(e)) => {
                assert!(e.is_row_error());
                let line = e.line().unwrap_or(0);
                assert!(line > last, "lines go forward");
                last = line;
                trace.push((line, e.code()));
            }
            Ok(ReadOutcome::End) => break,
            Err(_) => unreachable!("no I/O errors from memory"),
        }
    }
    assert!(reader.lines_read() + 1 >= last);
    Some((header, rows, trace))
}

fuzz_target!(|data: &[u8]| {
    let Some((&opts, file)) = data.split_first() else {
        return;
    };
    let strict = opts & 1 == 1;
    let encoding = match (opts >> 1) & 3 {
        0 => InputEncoding::Utf8,
        1 => InputEncoding::Windows1252,
        _ => InputEncoding::Auto,
    };
    let builder = || {
        let b = ReaderBuilder::new().strict(strict).encoding(encoding);
        if opts & 8 == 8 {
            b.max_record_bytes(1024)
        } else {
            b
        }
    };
    let chunk = usize::from(opts >> 4) + 1;
    let whole = read_all(builder(), file, strict);
    let trickled = read_all(builder(), Trickle { data: file, n: chunk }, strict);
    assert_eq!(whole, trickled, "chunking changed the result");

    // Write the good rows back and read them again.
    let Some((header, rows, _)) = whole else {
        return;
    };
    let mut w = CsvWriter::new(Vec::new(), WriterOptions::machine());
    w.write_row(&header).unwrap();
    for r in &rows {
        w.write_row(r).unwrap();
    }
    let out = w.into_inner().unwrap();
    // A one-column header cannot show the delimiter: then give it.
    let reread = match header.len() {
        1 => ReaderBuilder::new().delimiter(b','),
        _ => ReaderBuilder::new(),
    };
    let again = read_all(reread.strict(false), &out[..], false)
        .expect("a written file has a header");
    assert_eq!(again.0, header);
    assert_eq!(again.1, rows);
    let _ = CsvReader::new(&out[..]);
});
