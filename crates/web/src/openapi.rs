//! The OpenAPI 3.1 document, generated from the handlers' annotations and served at
//! `/api/openapi.json`. A test keeps it and the router in step.

use utoipa::OpenApi;

use crate::problem::{FieldProblem, Problem};
use crate::{api, office};

#[derive(OpenApi, Debug)]
#[openapi(
    info(
        title = "jikimi API",
        description = "Membership with the privacy policy as code. Errors are RFC 9457 problem documents (application/problem+json) naming the field and rule; messages follow Accept-Language (ko default, en).",
        version = "1"
    ),
    paths(
        api::policy,
        api::identity_request,
        api::identity_confirm,
        api::sandbox_sms,
        api::sign_up,
        api::login,
        api::current_session,
        api::logout,
        api::me,
        api::correct,
        api::change_password,
        api::consents,
        api::set_consent,
        api::consent_history,
        api::recipients,
        api::export,
        api::withdraw,
        api::retained,
        office::destructions,
        office::retained,
        office::hold,
        office::release,
        office::purge,
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

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
