//! The home page, the published 개인정보 처리방침, and the policy over the API.

pub(crate) mod ads;
pub mod api;
pub(crate) mod breaches;
pub(crate) mod complaints;
pub(crate) mod page;
pub(crate) mod recovery;
