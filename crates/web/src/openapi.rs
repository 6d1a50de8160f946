//! The OpenAPI 3.1 document, generated from the handlers' annotations and served at
//! `/api/openapi.json`. Routes and operations come from one list (utoipa-axum).

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{RefOr, Response};
use utoipa::{OpenApi, ToResponse};

use crate::problem::doc;
use crate::problem::{FieldProblem, Problem};
use crate::{account, leave, me, office, public, signup};

#[derive(OpenApi, Debug)]
#[openapi(
    info(
        title = "jikimi API",
        description = "Membership with the privacy policy as code. Every error is an RFC 9457 problem document (application/problem+json) naming the field and rule; messages follow Accept-Language (ko default, en). Every operation lists the errors it can give; 414, 431 and 500 can come from any of them; 400 from any with parameters; 400, 413 and 415 from any that takes a body; 401 from any that needs a credential.",
        version = "1"
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

/// The security scheme of the session cookie (members' operations take it or a bearer token).
pub const SESSION_COOKIE_SCHEME: &str = "session_cookie";

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A member's session token (from `POST /api/v1/sessions`) or, for `/api/v1/office`, an office token (`jikimi office token NAME`)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION_COOKIE_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::extract::SESSION_COOKIE.plain,
                "The session cookie set by `POST /api/v1/sessions` (named `__Host-jikimi_session` over HTTPS); unsafe methods also need `X-CSRF-Token` (403 `csrf` without it)",
            ))),
        );
    }
}

/// The API's router and its document, from one list of routes (each feature's `api::routes`, and `office::routes`):
/// a route without its operation cannot exist.
pub fn router_and_document() -> (axum::Router<crate::AppState>, utoipa::openapi::OpenApi) {
    let (router, document) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(public::api::routes())
        .merge(signup::api::routes())
        .merge(account::api::routes())
        .merge(me::api::routes())
        .merge(leave::api::routes())
        .merge(office::routes())
        .split_for_parts();
    (router, complete(document))
}

/// Every reusable problem response, by name.
fn problem_responses() -> Vec<(&'static str, RefOr<Response>)> {
    vec![
        doc::BadRequest::response(),
        doc::Unauthorized::response(),
        doc::Forbidden::response(),
        doc::NotFound::response(),
        doc::Conflict::response(),
        doc::RequestTimeout::response(),
        doc::PayloadTooLarge::response(),
        doc::UriTooLong::response(),
        doc::UnsupportedMediaType::response(),
        doc::Unprocessable::response(),
        doc::TooManyRequests::response(),
        doc::HeadersTooLarge::response(),
        doc::InternalError::response(),
        doc::Unavailable::response(),
    ]
}

/// Adds the answers an operation gives because of its shape rather than its handler, so that no
/// operation can forget them: 414, 431 (the request-head limits) and 500 on every operation; 400
/// where a path or query parameter may not parse; 400, 408, 413, 415 where a JSON body is read; 401
/// where a credential is required; 403 (`csrf`) where a cookie session may send an unsafe method.
/// The handler-specific answers (403, 404, 409, 422, 429) are in each operation's annotation.
fn complete(mut d: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let components = d.components.get_or_insert_with(Default::default);
    for (name, response) in problem_responses() {
        components.responses.insert(name.to_owned(), response);
    }
    for item in d.paths.paths.values_mut() {
        for (unsafe_method, op) in operations(item) {
            let mut add = |status: u16, name: &str| {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::Ref(utoipa::openapi::Ref::from_response_name(name)));
            };
            add(414, "UriTooLong");
            add(431, "HeadersTooLarge");
            add(500, "InternalError");
            let params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            if params {
                add(400, "BadRequest");
            }
            if op.request_body.is_some() {
                add(400, "BadRequest");
                add(408, "RequestTimeout");
                add(413, "PayloadTooLarge");
                add(415, "UnsupportedMediaType");
            }
            let schemes: Vec<String> = op
                .security
                .iter()
                .flatten()
                .filter_map(|r| serde_json::to_value(r).ok())
                .filter_map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
                .flatten()
                .collect();
            if !schemes.is_empty() {
                add(401, "Unauthorized");
            }
            if unsafe_method && schemes.iter().any(|s| s == SESSION_COOKIE_SCHEME) {
                add(403, "Forbidden");
            }
        }
    }
    d
}

/// A path's operations, each with whether its method is unsafe.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [
        (false, item.get.as_mut()),
        (false, item.head.as_mut()),
        (false, item.options.as_mut()),
        (true, item.put.as_mut()),
        (true, item.post.as_mut()),
        (true, item.delete.as_mut()),
        (true, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(unsafe_method, op)| op.map(|op| (unsafe_method, op)))
}

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(router_and_document().1).unwrap_or_default()
}
