//! The privacy office's API tokens (`/api/v1/office`): each belongs to a staff account
//! ([`crate::staff`]), carries its role and expires; and the audit entries of office actions.

use chrono::{DateTime, Utc};
use jikimi_store::AuditEntry;

use crate::{Actor, CoreError, Jikimi, Result};

/// Office API tokens: bearer tokens of staff accounts for `/api/v1/office`. Tokens start with
/// `jko_`; only their SHA-256 is stored.
impl Jikimi {
    /// Makes (or replaces) the office API token of a staff account in force, good for `days`
    /// days (1–365), and returns it, once, with its expiry. The token carries the account's role,
    /// read from the account on every call. Audited.
    pub async fn create_office_token(
        &self,
        actor: &Actor,
        name: &str,
        days: i64,
    ) -> Result<(jikimi_vault::Revealed, DateTime<Utc>)> {
        let name = name.trim().to_lowercase();
        if !(1..=365).contains(&days) {
            return Err(CoreError::field(
                "days",
                "office.token_days",
                "토큰 유효 기간은 1일에서 365일 사이입니다",
                "a token is good for 1 to 365 days",
            ));
        }
        let token = jikimi_vault::Revealed::new(format!(
            "{OFFICE_TOKEN_PREFIX}{}",
            crate::sessions::new_token().expose()
        ));
        let now = self.clock().now();
        let expires_at = now + chrono::Duration::days(days);
        let mut entry = office_audit(now, actor, "office.token.create", &name);
        entry.detail = serde_json::json!({ "account": name, "expires_at": expires_at });
        let made = self
            .store()
            .set_office_token(
                &name,
                &crate::token_hash(token.expose()),
                now,
                expires_at,
                vec![entry],
            )
            .await?;
        if !made {
            return Err(CoreError::field(
                "name",
                "office.not_staff",
                "그런 직원 계정이 없습니다. 먼저 직원 계정을 추가하세요 (jikimi staff add)",
                "no staff account of that name is in force; add it first (jikimi staff add)",
            ));
        }
        Ok((token, expires_at))
    }

    /// Revokes a staff account's token. Audited.
    pub async fn revoke_office_token(&self, actor: &Actor, name: &str) -> Result<()> {
        let now = self.clock().now();
        if self
            .store()
            .revoke_office_token(
                name,
                now,
                vec![office_audit(now, actor, "office.token.revoke", name)],
            )
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::NotFound("office account"))
        }
    }

    /// The staff account a bearer token belongs to, with the account's role now (`None` for
    /// anything else: member tokens, unknown, revoked or expired tokens, revoked accounts).
    pub async fn office_staff(&self, token: &str) -> Result<Option<crate::staff::StaffSession>> {
        if !token.starts_with(OFFICE_TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = self.clock().now();
        let hash = crate::token_hash(token);
        Ok(self.store().office_account(&hash, now).await?.and_then(
            |(name, role, created_at, expires_at)| {
                Some(crate::staff::StaffSession {
                    name,
                    role: crate::staff::Role::parse(&role)?,
                    token_hash: hash,
                    created_at,
                    expires_at,
                })
            },
        ))
    }

    /// Records a staff access to the office API in the audit chain (the safeguards standard's
    /// access log: account, time, origin, what was done).
    pub async fn audit_office_access(
        &self,
        actor: &Actor,
        origin: Option<String>,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        let mut e = office_audit(self.clock().now(), actor, action, "");
        e.origin = origin;
        e.detail = detail;
        self.store().append_audit(vec![e]).await?;
        Ok(())
    }
}

/// The prefix of privacy-office tokens.
pub const OFFICE_TOKEN_PREFIX: &str = "jko_";

pub(crate) fn office_audit(
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    account: &str,
) -> AuditEntry {
    AuditEntry {
        at: now,
        actor: actor.audit_name(),
        origin: None,
        action: action.into(),
        member_id: None,
        items: Vec::new(),
        purpose: None,
        outcome: "ok".into(),
        detail: if account.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::json!({ "account": account })
        },
    }
}
