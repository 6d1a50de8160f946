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
    OpenApiRouter::new()
        .routes(routes!(policy))
        .routes(routes!(payment_webhook))
}

// ---------------------------------------------------------------------------------------------
// PortOne's webhooks

/// PortOne's webhook (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`
/// over the raw body, with the secret from PortOne's console; 5 minutes' tolerance). A verified
/// `Transaction.Paid` settles its order from PortOne's own answer; a delivery already handled is
/// acknowledged again without acting. 400 `webhook_refused` for a missing, forged or stale
/// signature; 404 when payments are not configured; 503 when PortOne cannot be asked (PortOne
/// delivers again).
#[utoipa::path(post, path = "/api/v1/payments/webhook", tag = "payments",
    request_body(content = Object, content_type = "application/json", description = "PortOne's webhook body"),
    responses((status = 200, description = "Handled (or already handled)"),
        (status = 400, response = crate::problem::doc::BadRequest),
        (status = 404, response = crate::problem::doc::NotFound),
        (status = 503, response = crate::problem::doc::Unavailable)))]
pub async fn payment_webhook(
    State(s): State<AppState>,
    crate::extract::ReqLang(lang): crate::extract::ReqLang,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use jikimi_core::payments::WebhookError;
    if s.app.payments().is_none() {
        return ApiError::not_found(lang).into_response();
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match s
        .app
        .payment_webhook(
            h("webhook-id"),
            h("webhook-timestamp"),
            h("webhook-signature"),
            &body,
        )
        .await
    {
        Ok(()) => axum::http::StatusCode::OK.into_response(),
        Err(WebhookError::Refused(why)) => {
            tracing::warn!(reason = ?why, "a payment webhook was refused");
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "webhook_refused",
                "the webhook's signature is missing, wrong or out of time".into(),
            )
            .into_response()
        }
        Err(WebhookError::Core(e)) => ApiError::core(e, lang).into_response(),
    }
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
