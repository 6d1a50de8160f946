//! The privacy office: its console's pages (`/office`: staff enrolment, two-factor login, the
//! dashboard) and its API (`/api/v1/office`).

pub(crate) mod ads;
pub mod api;
pub(crate) mod breaches;
pub(crate) mod dashboard;
pub(crate) mod orders;
pub(crate) mod page;
pub(crate) mod partners;
pub(crate) mod password;
pub(crate) mod prizes;
pub(crate) mod processors;
pub(crate) mod requests;
pub(crate) mod review;

pub use api::*;
