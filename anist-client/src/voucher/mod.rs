//! PDND vouchers: the client assertion that asks for one.

pub mod assertion;
