//! Helpers shared by the anist-core integration tests.
#![allow(dead_code)]

use std::io::{self, Read};

/// A reader that hands out at most `n` bytes per call, to exercise buffer
/// boundaries in streaming parsers.
pub struct Trickle<'a> {
    /// What is left to read.
    pub data: &'a [u8],
    /// The largest chunk per `read` call.
    pub n: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.n.min(buf.len()).min(self.data.len());
        buf[..k].copy_from_slice(&self.data[..k]);
        self.data = &self.data[k..];
        Ok(k)
    }
}
