//! The privacy office (개인정보 보호책임자 and staff): office accounts and their bearer tokens
//! for the office API (`/api/v1/office`), and the audit entries of office actions.

use chrono::{DateTime, Utc};
use jikimi_store::AuditEntry;

use crate::{Actor, CoreError, Jikimi, Result};

/// Privacy-office accounts: a name and a bearer token for the office API (`/api/v1/office`).
/// Tokens start with `jko_`; only their SHA-256 is stored.
impl Jikimi {
    /// Makes (or replaces) the token of a staff account and returns it, once. Audited.
    pub async fn create_office_token(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<jikimi_vault::Revealed> {
        let name = name.trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(CoreError::field(
                "name",
                "office.name",
                "이름은 영문자, 숫자, -, _, . 로 64자까지 쓸 수 있습니다",
                "a name is 1–64 letters, digits, '-', '_' or '.'",
            ));
        }
        let token = jikimi_vault::Revealed::new(format!(
            "{OFFICE_TOKEN_PREFIX}{}",
            crate::sessions::new_token().expose()
        ));
        let now = self.clock().now();
        self.store()
            .set_office_token(
                name,
                &crate::token_hash(token.expose()),
                now,
                vec![office_audit(now, actor, "office.token.create", name)],
            )
            .await?;
        Ok(token)
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

    /// The staff account a bearer token belongs to (`None` for anything else, member tokens too).
    pub async fn office_actor(&self, token: &str) -> Result<Option<Actor>> {
        if !token.starts_with(OFFICE_TOKEN_PREFIX) {
            return Ok(None);
        }
        Ok(self
            .store()
            .office_account(&crate::token_hash(token))
            .await?
            .map(Actor::Staff))
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
