//! Sign-up: the pages (consent, 본인확인, details) and the API.

pub mod api;
pub(crate) mod guardian;
pub(crate) mod page;
pub(crate) mod window;
