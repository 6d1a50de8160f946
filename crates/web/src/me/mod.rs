//! 개인정보수정: the member's own data, consents, history and export — pages and API.

pub mod api;
pub(crate) mod guardian;
pub(crate) mod orders;
pub(crate) mod page;
pub(crate) mod prizes;
pub(crate) mod requests;
