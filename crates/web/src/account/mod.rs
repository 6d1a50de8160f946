//! Login and logout: the pages and the API's sessions.

pub mod api;
pub(crate) mod page;
