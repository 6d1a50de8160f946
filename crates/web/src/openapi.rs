//! The OpenAPI 3.1 document, generated from the handlers' annotations and served at
//! `/api/openapi.json`. Routes and operations come from one list (utoipa-axum).

use utoipa::OpenApi;

use crate::problem::{FieldProblem, Problem};
use crate::{account, leave, me, office, public, signup};

#[derive(OpenApi, Debug)]
#[openapi(
    info(
        title = "jikimi API",
        description = "Membership with the privacy policy as code. Errors are RFC 9457 problem documents (application/problem+json) naming the field and rule; messages follow Accept-Language (ko default, en).",
        version = "1"
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's router and its document, from one list of routes (each feature's `api::routes`, and `office::routes`):
/// a route without its operation cannot exist.
pub fn router_and_document() -> (axum::Router<crate::AppState>, utoipa::openapi::OpenApi) {
    utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public::api::routes())
        .merge(signup::api::routes())
        .merge(account::api::routes())
        .merge(me::api::routes())
        .merge(leave::api::routes())
        .merge(office::routes())
        .split_for_parts()
}

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(router_and_document().1).unwrap_or_default()
}
