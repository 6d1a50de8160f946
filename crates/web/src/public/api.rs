//! The published policy over the API.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::ApiError;

/// This feature's API routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(policy))
}

// ---------------------------------------------------------------------------------------------
// Policy

/// The policy in force: items, consent categories, retention classes, purposes, office — and its
/// version; with `announced` (`version`, `effective_date`) when a later version is announced
/// and not yet in force (R-POL-02).
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy",
    responses((status = 200, description = "The policy in force as JSON, and the announced version if any", body = Object)))]
pub async fn policy(State(s): State<AppState>) -> Response {
    let p = s.app.policy();
    match serde_json::to_value(p.as_ref()) {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.insert("version".into(), p.version().as_str().into());
                if let Some(next) = s.app.announced_policy() {
                    o.insert(
                        "announced".into(),
                        serde_json::json!({
                            "version": next.version().as_str(),
                            "effective_date": next.meta.effective_date,
                        }),
                    );
                }
            }
            Json(v).into_response()
        }
        Err(e) => ApiError::internal(&e).into_response(),
    }
}
