//! Account recovery (아이디 찾기 / 비밀번호 재설정) through the member's e-mail address.
//!
//! - **Forgotten login ID**: the e-mail address → the login ID is mailed to it.
//! - **Forgotten password**: the login ID and the e-mail address → a link with a random token
//!   (256 bits) is mailed; only the token's SHA-256 is stored; it works once, for
//!   [`RESET_VALID_MINUTES`], and using it sets the new password, ends every session of the member
//!   and uses up every other token of theirs, in one transaction.
//!
//! The answer is the same whether or not an account matches (nothing tells whether an address or
//! a login ID is a member's), and attempts are limited per client address and per target.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use jikimi_store::RecoveryTokenRow;
use jikimi_vault::Revealed;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::limits::Action;
use crate::mail::{Content, EMAIL_ITEM};
use crate::members::LOGIN_DOMAIN;
use crate::{Actor, Client, CoreError, FieldError, Jikimi, Result, validate};

/// How long a reset link works.
pub const RESET_VALID_MINUTES: i64 = 30;

fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(format!("jikimi recovery\u{0}{}", token.trim()).as_bytes()).to_vec()
}

fn bad_token() -> CoreError {
    CoreError::Invalid(vec![FieldError::new(
        "token",
        "recovery.expired",
        "비밀번호 재설정 주소가 맞지 않거나, 이미 썼거나, 기한(30분)이 지났습니다. 다시 요청해 주세요",
        "this reset address is wrong, already used or past its 30 minutes; please ask again",
    )])
}

impl Jikimi {
    /// Whether this installation recovers accounts by e-mail: mail is configured, the policy
    /// sends notices to a unique e-mail item, and members are not identified through 본인확인
    /// (then recovery goes through 본인확인: [`Jikimi::member_for_identity`]).
    pub fn recovers_by_email(&self) -> bool {
        self.policy().meta.identity != jikimi_policy::IdentityMode::Verification
            && self.sends_notices()
            && self
                .policy()
                .item(EMAIL_ITEM)
                .is_some_and(|i| i.unique && i.kind == jikimi_policy::ItemKind::Email)
    }

    /// The member whose e-mail address is `email` (its blind index), if any. An address that is
    /// not one is a field error.
    async fn member_by_email(&self, email: &str) -> Result<Option<Uuid>> {
        let item = self
            .policy()
            .item(EMAIL_ITEM)
            .cloned()
            .ok_or(CoreError::NotFound("recovery"))?;
        let n = validate::normalize(&item, email.trim()).map_err(|mut e| {
            e.field = "email".into();
            CoreError::Invalid(vec![e])
        })?;
        let Some(ix) = n.index else {
            return Ok(None);
        };
        Ok(self
            .store()
            .member_by_index(&item.id, &self.digest(&item.id, ix.expose()))
            .await?)
    }

    fn recovery_available(&self) -> Result<()> {
        if self.recovers_by_email() {
            Ok(())
        } else {
            Err(CoreError::NotFound("recovery"))
        }
    }

    /// 아이디 찾기: mails the login ID to `email` if it is a member's address. Answers the same
    /// either way.
    pub async fn send_login_id(&self, client: Client, email: &str) -> Result<()> {
        self.recovery_available()?;
        let limits = &self.settings().limits;
        let target = format!("email\u{0}{}", email.trim().to_lowercase());
        self.limit_both(
            Action::Recovery,
            client,
            limits.recovery_per_client,
            &[(&target, limits.recovery_per_target)],
        )
        .await?;
        let Some(member) = self.member_by_email(email).await? else {
            return Ok(());
        };
        let Some(login) = self.login_id_of(member).await? else {
            return Ok(());
        };
        let to = self.notice_address(member, false).await?;
        let (jobs, audit) = self
            .notice(
                &Actor::Public,
                member,
                to.as_deref(),
                &Content::LoginId {
                    login_id: login.expose().to_owned(),
                },
            )
            .await?;
        self.store()
            .enqueue(jobs, audit, self.clock().now())
            .await?;
        Ok(())
    }

    /// 비밀번호 재설정, first step: mails a reset link to the member whose login ID is
    /// `login_id` and whose e-mail address is `email` (both must match). Answers the same either
    /// way. `link` turns the token into the address to open.
    pub async fn send_password_reset(
        &self,
        client: Client,
        login_id: &str,
        email: &str,
        link: impl Fn(&str) -> String,
    ) -> Result<()> {
        self.recovery_available()?;
        let login = login_id.trim().to_lowercase();
        let mut errors = Vec::new();
        if login.is_empty() {
            errors.push(FieldError::new(
                "login_id",
                "required",
                "아이디를 입력해 주세요",
                "please enter your login ID",
            ));
        }
        if email.trim().is_empty() {
            errors.push(FieldError::new(
                "email",
                "required",
                "전자우편 주소를 입력해 주세요",
                "please enter your e-mail address",
            ));
        }
        if !errors.is_empty() {
            return Err(CoreError::Invalid(errors));
        }
        let limits = &self.settings().limits;
        let target = format!("login\u{0}{login}");
        self.limit_both(
            Action::Recovery,
            client,
            limits.recovery_per_client,
            &[(&target, limits.recovery_per_target)],
        )
        .await?;
        let by_email = self.member_by_email(email).await?;
        let by_login = self
            .store()
            .member_by_login(&self.digest(LOGIN_DOMAIN, &login))
            .await?
            .map(|r| r.id);
        let (Some(member), Some(same)) = (by_email, by_login) else {
            return Ok(());
        };
        if member != same {
            return Ok(());
        }
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = zeroize::Zeroizing::new(URL_SAFE_NO_PAD.encode(raw));
        let now = self.clock().now();
        let valid_for = Duration::minutes(RESET_VALID_MINUTES);
        let to = self.notice_address(member, false).await?;
        let (jobs, mut audit) = self
            .notice(
                &Actor::Public,
                member,
                to.as_deref(),
                &Content::PasswordReset {
                    link: link(&token),
                    valid_for,
                },
            )
            .await?;
        if jobs.is_empty() {
            return Ok(());
        }
        audit.push(crate::members::audit_entry(
            now,
            &Actor::Public,
            "member.password_reset_request",
            member,
        ));
        self.store()
            .insert_recovery(
                RecoveryTokenRow {
                    token_hash: token_digest(&token),
                    member_id: member,
                    created_at: now,
                    expires_at: now + valid_for,
                    used_at: None,
                },
                jobs,
                audit,
            )
            .await?;
        Ok(())
    }

    /// Whether a reset token is good now (the page shows the new-password form, or says why not).
    pub async fn reset_token_valid(&self, token: &str) -> Result<bool> {
        let now = self.clock().now();
        Ok(self
            .store()
            .recovery_token(&token_digest(token))
            .await?
            .is_some_and(|t| t.used_at.is_none() && t.expires_at > now))
    }

    /// 비밀번호 재설정, second step: sets the new password with a good token. Every session of
    /// the member ends and every token of theirs is used up, in the same transaction; the
    /// member is told by mail.
    pub async fn reset_password(&self, token: &str, new: &Revealed) -> Result<()> {
        let now = self.clock().now();
        let digest = token_digest(token);
        let row = self
            .store()
            .recovery_token(&digest)
            .await?
            .filter(|t| t.used_at.is_none() && t.expires_at > now)
            .ok_or_else(bad_token)?;
        let mut change = self
            .new_password_change(row.member_id, new, "member.password_reset", false)
            .await?;
        // No session is kept (an empty hash matches none); the token and every other of the
        // member's are used up.
        change.end_sessions_except = Some(Vec::new());
        change.use_recovery = Some(digest);
        let jobs = change.jobs.clone();
        let result = self.store().apply(change).await.map_err(|e| match e {
            jikimi_store::StoreError::Conflict(_) | jikimi_store::StoreError::NotFound(_) => {
                bad_token()
            }
            other => CoreError::Store(other),
        });
        if result.is_err() {
            // The notices were never queued.
            self.discard_letters(&jobs).await;
        }
        result.map(|_| ())
    }

    /// 아이디 찾기 with 본인확인 (`lifeplan`): the member whose CI the verified identity behind
    /// `token` carries, and their login ID; `None` if no member has it. The token is not used up
    /// (the page goes on to the new password with it).
    pub async fn member_for_identity(&self, token: &str) -> Result<Option<(Uuid, Revealed)>> {
        let id = self.identity_for(token).await?;
        let Some(member) = self.member_by_ci(&id.ci).await? else {
            return Ok(None);
        };
        Ok(self.login_id_of(member).await?.map(|login| (member, login)))
    }

    async fn member_by_ci(&self, ci: &str) -> Result<Option<Uuid>> {
        let policy = self.policy().clone();
        for item in policy
            .items
            .iter()
            .filter(|i| i.kind == jikimi_policy::ItemKind::Ci)
        {
            let Ok(n) = validate::normalize(item, ci) else {
                continue;
            };
            let Some(ix) = n.index else { continue };
            if let Some(m) = self
                .store()
                .member_by_index(&item.id, &self.digest(&item.id, ix.expose()))
                .await?
            {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// 비밀번호 재설정 with 본인확인: sets the new password of the member the verified identity
    /// names, using up the token; every session of the member ends in the same transaction and
    /// the member is told by mail.
    pub async fn reset_password_with_identity(&self, token: &str, new: &Revealed) -> Result<()> {
        let Some((member, _)) = self.member_for_identity(token).await? else {
            return Err(CoreError::NotFound("member"));
        };
        let mut change = self
            .new_password_change(member, new, "member.password_reset", false)
            .await?;
        if let Some(e) = change.audit.first_mut() {
            e.detail = serde_json::json!({ "by": "identity_verification" });
        }
        change.end_sessions_except = Some(Vec::new());
        // Used up only now that the new password is good: a refused password can be retried.
        if let Err(e) = self.take_identity(token).await {
            self.discard_letters(&change.jobs).await;
            return Err(e);
        }
        self.store().apply(change).await?;
        Ok(())
    }
}
