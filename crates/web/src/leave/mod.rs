//! Withdrawal (회원탈퇴) and what is kept after it — pages and API.

pub mod api;
pub(crate) mod page;
