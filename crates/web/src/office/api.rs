//! The privacy office's API (`/api/v1/office`): the destruction report, the retention store's
//! records (without content), legal holds, and the purge. Authenticated by an office token of a
//! staff account (`jikimi office token NAME`), which expires and carries the account's role:
//! each call needs its power (least privilege, R-ACC-01). Every call is written to the audit
//! chain with the staff account, its address and what was done (the safeguards standard's access
//! log).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::NaiveDate;
use jikimi_core::staff::{Power, StaffSession};
use jikimi_core::{Actor, ClassPurge, PurgeReport};
use jikimi_core::{DestructionRecord, RetainedMeta};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ReqLang, bearer_token, lang_of};
use crate::problem::doc::{Conflict, Forbidden, NotFound, Unprocessable};
use crate::problem::{ApiError, OrProblem};

/// The privacy office's routes, each with its OpenAPI operation (one list).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(destructions))
        .routes(routes!(retained))
        .routes(routes!(hold, release))
        .routes(routes!(purge))
}

/// A privacy-office staff account, from `Authorization: Bearer jko_…`.
#[derive(Debug, Clone)]
pub struct Office {
    pub actor: Actor,
    pub staff: StaffSession,
    pub origin: Option<String>,
}

impl FromRequestParts<AppState> for Office {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(parts);
        if !crate::office::page::office_allowed(parts, state) {
            return Err(ApiError::forbidden(
                lang,
                "office_address",
                "이 주소에서는 개인정보 보호 업무 API를 쓸 수 없습니다",
                "The privacy office's API does not answer this address",
            ));
        }
        let token = bearer_token(parts).ok_or_else(|| ApiError::unauthorized(lang))?;
        let staff = state
            .app
            .office_staff(token)
            .await
            .or_problem(lang)?
            .ok_or_else(|| ApiError::unauthorized(lang))?;
        let origin = crate::client::ClientAddr::of(parts, &state.trusted_proxies)
            .0
            .map(|ip| ip.to_string());
        Ok(Self {
            actor: staff.actor(),
            staff,
            origin,
        })
    }
}

impl Office {
    /// Refuses (403 `role`) what the account's role may not do.
    fn require(&self, power: Power, lang: jikimi_policy::Lang) -> Result<(), ApiError> {
        self.staff.require(power).or_problem(lang)
    }

    async fn log(
        &self,
        s: &AppState,
        lang: jikimi_policy::Lang,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        s.app
            .audit_office_access(&self.actor, self.origin.clone(), action, detail)
            .await
            .or_problem(lang)
    }
}

/// Every destruction: withdrawals and purges, by class, period, count, method, time and actor.
/// No personal data.
#[utoipa::path(get, path = "/api/v1/office/destructions", tag = "office",
    security(("bearer" = [])),
    responses((status = 200, body = [DestructionView]), (status = 403, response = Forbidden)))]
pub async fn destructions(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    office: Office,
) -> Result<Json<Vec<DestructionView>>, ApiError> {
    office.require(Power::Destructions, lang)?;
    office
        .log(
            &s,
            lang,
            "office.destructions.list",
            serde_json::Value::Null,
        )
        .await?;
    let records = s.app.destruction_records().await.or_problem(lang)?;
    Ok(Json(
        records.into_iter().map(DestructionView::from).collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DestructionView {
    pub id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    /// `withdrawal` or `purge`.
    pub event: String,
    pub class: String,
    pub period: String,
    pub count: i64,
    /// `key_destruction` or `deletion`.
    pub method: String,
    pub actor: String,
    pub run_id: Option<Uuid>,
}

impl From<DestructionRecord> for DestructionView {
    fn from(d: DestructionRecord) -> Self {
        Self {
            id: d.id,
            at: d.at,
            event: d.event,
            class: d.class,
            period: d.period,
            count: d.count,
            method: d.method,
            actor: d.actor,
            run_id: d.run_id,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RetainedQuery {
    /// Continue after this record (its expiry day and id, from the previous page's last row).
    #[param(nullable = false)]
    pub after_day: Option<NaiveDate>,
    #[param(nullable = false)]
    pub after_id: Option<Uuid>,
    /// At most this many (1–1000, default 100; otherwise 422 `limit.range`).
    #[param(minimum = 1, maximum = 1000, nullable = false)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetainedMetaView {
    pub id: Uuid,
    pub class: String,
    pub expires_on: NaiveDate,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub hold_reason: Option<String>,
    pub held_at: Option<chrono::DateTime<chrono::Utc>>,
    pub held_by: Option<String>,
}

impl From<RetainedMeta> for RetainedMetaView {
    fn from(r: RetainedMeta) -> Self {
        Self {
            id: r.id,
            class: r.class,
            expires_on: r.expires_on,
            created_at: r.created_at,
            hold_reason: r.hold_reason,
            held_at: r.held_at,
            held_by: r.held_by,
        }
    }
}

/// The retention store's records without their content, oldest expiry first.
#[utoipa::path(get, path = "/api/v1/office/retained", tag = "office", params(RetainedQuery),
    security(("bearer" = [])),
    responses((status = 200, body = [RetainedMetaView]), (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn retained(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    office: Office,
    ApiQuery(q): ApiQuery<RetainedQuery>,
) -> Result<Json<Vec<RetainedMetaView>>, ApiError> {
    office.require(Power::Destructions, lang)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::fields(
            lang,
            &[jikimi_core::FieldError::new(
                "limit",
                "limit.range",
                "limit은 1부터 1000까지입니다",
                "limit must be from 1 to 1000",
            )],
        ));
    }
    office
        .log(&s, lang, "office.retained.list", serde_json::Value::Null)
        .await?;
    let after = q.after_day.zip(q.after_id);
    let rows = s
        .app
        .retained_records(after, limit)
        .await
        .or_problem(lang)?;
    Ok(Json(rows.into_iter().map(RetainedMetaView::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// Why the record must outlive its period (a dispute, an investigation); not blank.
    #[schema(pattern = r"\S")]
    pub reason: String,
}

/// Places a legal hold: purges keep the record until it is released.
#[utoipa::path(put, path = "/api/v1/office/retained/{id}/hold", tag = "office", request_body = HoldBody,
    params(("id" = Uuid, Path, description = "The retained record")),
    security(("bearer" = [])),
    responses((status = 204, description = "The record is on hold"), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 422, response = Unprocessable)))]
pub async fn hold(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    office: Office,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<HoldBody>,
) -> Result<StatusCode, ApiError> {
    office.require(Power::Holds, lang)?;
    s.app
        .hold_retained(&office.actor, id, &b.reason)
        .await
        .or_problem(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a legal hold: the next purge destroys the record if it has expired.
#[utoipa::path(delete, path = "/api/v1/office/retained/{id}/hold", tag = "office",
    params(("id" = Uuid, Path, description = "The retained record")),
    security(("bearer" = [])),
    responses((status = 204, description = "The hold is lifted"), (status = 403, response = Forbidden), (status = 404, response = NotFound),
        (status = 409, response = Conflict)))]
pub async fn release(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    office: Office,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    office.require(Power::Holds, lang)?;
    s.app
        .release_retained(&office.actor, id)
        .await
        .or_problem(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurgeBody {
    /// Only say what would be destroyed.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurgeView {
    pub run_id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    pub today: NaiveDate,
    pub dry_run: bool,
    pub classes: Vec<ClassPurgeView>,
    pub held: i64,
    pub pending: u64,
    pub orphan_keys: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassPurgeView {
    pub class: String,
    pub records: i64,
    pub keys: i64,
    pub first_expired_on: Option<NaiveDate>,
    pub last_expired_on: Option<NaiveDate>,
}

impl From<PurgeReport> for PurgeView {
    fn from(r: PurgeReport) -> Self {
        Self {
            run_id: r.run_id,
            at: r.at,
            today: r.today,
            dry_run: r.dry_run,
            classes: r
                .classes
                .into_iter()
                .map(|c: ClassPurge| ClassPurgeView {
                    class: c.class,
                    records: c.records,
                    keys: c.keys,
                    first_expired_on: c.first_expired_on,
                    last_expired_on: c.last_expired_on,
                })
                .collect(),
            held: r.held,
            pending: r.pending,
            orphan_keys: r.orphan_keys,
        }
    }
}

/// Runs a purge now (or, with `dry_run`, says what it would destroy). The daily purge runs by
/// itself; this is for an officer who needs it now.
#[utoipa::path(post, path = "/api/v1/office/purge", tag = "office", request_body = PurgeBody,
    security(("bearer" = [])),
    responses((status = 200, body = PurgeView), (status = 403, response = Forbidden)))]
pub async fn purge(
    State(s): State<AppState>,
    ReqLang(lang): ReqLang,
    office: Office,
    ApiJson(b): ApiJson<PurgeBody>,
) -> Result<Json<PurgeView>, ApiError> {
    office.require(Power::Purge, lang)?;
    office
        .log(
            &s,
            lang,
            "office.purge",
            serde_json::json!({ "dry_run": b.dry_run }),
        )
        .await?;
    let report = s
        .app
        .purge(&office.actor, b.dry_run, &|_, _| {})
        .await
        .or_problem(lang)?;
    Ok(Json(report.into()))
}
