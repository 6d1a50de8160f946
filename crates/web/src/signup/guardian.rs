//! A child under 14 asks a legal guardian, and the guardian consents (issue 16, S13).
//!
//! The child (refused by the age gate, nothing stored) gives their name and the guardian's name and
//! contact at `/signup/guardian`; their browser keeps the request's child token (sealed cookie) and
//! `/signup/guardian/wait` says where the request stands. The guardian's link (`/guardian?t=…`)
//! moves its token into a sealed cookie and out of the address; `/guardian` shows whose request it
//! is, then — where the policy verifies identities — 본인확인 (`/guardian/identity`,
//! `/guardian/verify`), then the same notice and consent choices an adult sees, the relationship,
//! and 동의 / 거부. Once the guardian consented, `/signup/guardian/continue` carries the child into
//! the ordinary sign-up with the request's token: the child's own 본인확인 and the details form
//! let the child through on it, and the guardian's choices are the consents.

use jikimi_core::guardians::{ChildView, GUARDIAN_DAYS, GuardianDecision, GuardianMethod, state};

use crate::page::*;

const ASK: &str = "/signup/guardian";
const WAIT: &str = "/signup/guardian/wait";
const GUARDIAN: &str = "/guardian";
const G_IDENTITY: &str = "/guardian/identity";
const G_VERIFY: &str = "/guardian/verify";

/// The child's token of their request (as long as a request can live, and an hour).
pub(crate) const CHILD_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_child");
/// The guardian's link token, once the link was opened (kept out of the address).
const LINK_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_guardian");
const LINK_MINUTES: i64 = 60;

#[derive(Template)]
#[template(path = "guardian_ask.html")]
pub(crate) struct GuardianAskPage {
    pub(crate) c: Chrome,
    /// The policy's words for children (R-CHD-05), if it has them.
    pub(crate) child_notice: Option<String>,
    pub(crate) fields: Vec<Field>,
    pub(crate) errors: Vec<(String, String)>,
}

/// The age gate sent a child here: the request form where children may join with a guardian,
/// else the statement that they cannot.
pub(crate) async fn ask_page(State(s): State<AppState>, v: Visit) -> Response {
    let t = T(v.lang);
    if !s.app.admits_children() {
        return message(
            v,
            &s,
            t.s("guardian_title"),
            vec![t.s("guardian_body").into()],
            Some(("/", t.s("home"))),
        );
    }
    let form = v.flash.form();
    let errors = v.flash.errors.clone();
    let fields = s
        .app
        .child_ask_items()
        .iter()
        .map(|i| item_field(i, v.lang, form.get(&format!("item.{}", i.id)), &errors))
        .collect();
    let page = GuardianAskPage {
        c: v.chrome(&s),
        child_notice: s
            .app
            .policy()
            .meta
            .child_notice
            .as_ref()
            .map(|n| n.get(v.lang).to_owned()),
        fields,
        errors: v.error_list_by(item_anchor),
    };
    v.render(page)
}

pub(crate) async fn ask_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, ASK, &form).await;
    }
    let given: BTreeMap<String, Revealed> = form
        .prefixed("item.")
        .into_iter()
        .map(|(k, val)| (k, Revealed::new(val)))
        .collect();
    let site = s.app.mail_site().url;
    let link = |token: &str| format!("{site}{GUARDIAN}?t={token}");
    match s.app.ask_guardian(client, &given, link).await {
        Ok(token) => {
            let minutes = GUARDIAN_DAYS * 24 * 60 + 60;
            match seal_cookie(&s, CHILD_COOKIE, minutes, &token.expose().to_owned()).await {
                Ok(mut c) => {
                    // Unlike the other sealed cookies this one outlives the browser: the
                    // guardian has days to answer (the policy's cookie table says so).
                    c.set_max_age(cookie::time::Duration::minutes(minutes));
                    let mut v = v;
                    v.jar = v.jar.add(c);
                    v.redirect(WAIT)
                }
                Err(e) => error_page(e),
            }
        }
        Err(CoreError::Invalid(errors)) => v.back_to(&s, ASK, &form, errors, None).await,
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => {
            let ko = crate::i18n::limited(Lang::Ko, action, retry_after);
            let en = crate::i18n::limited(Lang::En, action, retry_after);
            v.back_to(&s, ASK, &form, vec![], Some((&ko, &en))).await
        }
        Err(e) => error_page(e),
    }
}

/// The child's request behind their cookie, if any.
async fn child_request(s: &AppState, v: &Visit) -> Option<(String, Option<ChildView>)> {
    let token: String = open_cookie(s, &v.jar, CHILD_COOKIE).await?;
    let view = s.app.child_view(&token).await.ok();
    Some((token, view))
}

/// Where the child's request stands: waiting (look again), consented (go on), or over.
pub(crate) async fn wait_page(State(s): State<AppState>, v: Visit) -> Response {
    let t = T(v.lang);
    let Some((_, view)) = child_request(&s, &v).await else {
        return v.redirect(ASK);
    };
    match view {
        Some(cv) if cv.state == state::PENDING => {
            let until = kst(cv.expires_at);
            message(
                v,
                &s,
                t.s("gd_wait_title"),
                vec![
                    t.s("gd_wait_body").into(),
                    t.s("gd_wait_until").replace("{until}", &until),
                ],
                Some((WAIT, t.s("gd_check_again"))),
            )
        }
        Some(cv) if cv.state == state::CONSENTED => message(
            v,
            &s,
            t.s("gd_consented_title"),
            vec![t.s("gd_consented_body").into()],
            Some(("/signup/guardian/continue", t.s("gd_continue"))),
        ),
        Some(cv) if cv.state == state::JOINED => {
            let mut v = v;
            v.jar = v.jar.remove(removal(&s, CHILD_COOKIE));
            message(
                v,
                &s,
                t.s("joined_title"),
                vec![t.s("joined_body").into()],
                Some(("/login", t.s("login"))),
            )
        }
        _ => {
            let mut v = v;
            v.jar = v.jar.remove(removal(&s, CHILD_COOKIE));
            message(
                v,
                &s,
                t.s("gd_child_gone_title"),
                vec![t.s("gd_child_gone_body").into()],
                Some((ASK, t.s("gd_ask_again"))),
            )
        }
    }
}

/// The guardian consented: the child goes on with the ordinary sign-up, carrying the request.
pub(crate) async fn continue_signup(State(s): State<AppState>, v: Visit) -> Response {
    let Some((token, Some(cv))) = child_request(&s, &v).await else {
        return v.redirect(WAIT);
    };
    if cv.state != state::CONSENTED {
        return v.redirect(WAIT);
    }
    let flow = SignupFlow {
        chosen: true,
        consents: cv.granted,
        guardian: Some(token),
        ..SignupFlow::default()
    };
    let next = next_step(&s, &flow);
    flow_to(v, &s, &flow, next).await
}

// ----- the guardian ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "guardian.html")]
pub(crate) struct GuardianPage {
    pub(crate) c: Chrome,
    pub(crate) child: String,
    pub(crate) until: String,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) needs_identity: bool,
    /// The whole policy, where one agreement covers it (the seed).
    pub(crate) doc: Option<Document>,
    pub(crate) notice_rows: Vec<NoticeRow>,
    pub(crate) consents: Vec<ConsentBlock>,
    /// The relationship.
    pub(crate) fields: Vec<Field>,
    /// How the consent is verified, as the guardian reads it.
    pub(crate) method: &'static str,
}

/// The page for a link that no longer works.
fn link_gone(v: Visit, s: &AppState) -> Response {
    let t = T(v.lang);
    let mut v = v;
    v.jar = v.jar.remove(removal(s, LINK_COOKIE));
    message(
        v,
        s,
        t.s("gd_gone_title"),
        vec![t.s("gd_gone_body").into()],
        Some(("/", t.s("home"))),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct LinkQuery {
    t: Option<String>,
}

pub(crate) async fn guardian_page(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<LinkQuery>,
) -> Response {
    // The token leaves the address at once (history, a shared screen, Referer).
    if let Some(token) = q.t.filter(|t| !t.trim().is_empty()) {
        return match seal_cookie(&s, LINK_COOKIE, LINK_MINUTES, &token.trim().to_owned()).await {
            Ok(c) => {
                let mut v = v;
                v.jar = v.jar.add(c);
                v.redirect(GUARDIAN)
            }
            Err(e) => error_page(e),
        };
    }
    let Some(token): Option<String> = open_cookie(&s, &v.jar, LINK_COOKIE).await else {
        return link_gone(v, &s);
    };
    let view = match s.app.guardian_view(&token).await {
        Ok(view) => view,
        Err(CoreError::NotFound(_)) => return link_gone(v, &s),
        Err(e) => return error_page(e),
    };
    let lang = v.lang;
    let t = T(lang);
    if view.state != state::PENDING {
        return message(
            v,
            &s,
            t.s("gd_done_title"),
            vec![t.s("gd_done_body").into()],
            Some(("/", t.s("home"))),
        );
    }
    let form = v.flash.form();
    let errors = v.flash.errors.clone();
    let verified = !v.flash.get("identity_token").is_empty();
    let policy = s.app.policy().clone();
    let single = policy.meta.consent_mode == ConsentMode::SingleAgreement;
    let chosen: Vec<String> = form.all("consent").into_iter().map(str::to_owned).collect();
    let fields = s
        .app
        .relationship_item()
        .iter()
        .map(|i| item_field(i, lang, form.get(&format!("item.{}", i.id)), &errors))
        .collect();
    let method = if view.needs_identity {
        GuardianMethod::MobileIdentity
    } else if s
        .app
        .child_ask_items()
        .iter()
        .any(|i| i.kind == ItemKind::Email)
    {
        GuardianMethod::EmailLink
    } else {
        GuardianMethod::SmsLink
    };
    let page = GuardianPage {
        c: v.chrome(&s),
        child: view.child_name,
        until: kst(view.expires_at),
        notice: v.notice(),
        errors: v.error_list_by(item_anchor),
        needs_identity: view.needs_identity && !verified,
        doc: single.then(|| jikimi_policy::render::document(&policy, lang)),
        notice_rows: if single {
            Vec::new()
        } else {
            notice_rows(&s, lang)
        },
        consents: if single {
            Vec::new()
        } else {
            consent_blocks(&s, lang, &chosen)
        },
        fields,
        method: t.s(method.label_key()),
    };
    let mut r = v.render(page);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

pub(crate) async fn guardian_submit(
    State(s): State<AppState>,
    v: Visit,
    form: FormData,
) -> Response {
    let identity = v.flash.get("identity_token").to_owned();
    let relationship_field = format!("item.{}", jikimi_core::guardians::GUARDIAN_RELATIONSHIP);
    let relationship = form.get(&relationship_field).to_owned();
    let chosen = chosen_consents(&form);
    // What the page keeps after an error: the choices and, while unused, the verification.
    let carry = |with_identity: bool| {
        let mut pairs: Vec<(&str, &str)> = chosen.iter().map(|c| ("consent", c.as_str())).collect();
        pairs.push((relationship_field.as_str(), relationship.as_str()));
        if with_identity && !identity.is_empty() {
            pairs.push(("identity_token", identity.as_str()));
        }
        FormData::of(&pairs)
    };
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, GUARDIAN, &carry(true)).await;
    }
    let Some(token): Option<String> = open_cookie(&s, &v.jar, LINK_COOKIE).await else {
        return link_gone(v, &s);
    };
    let t = T(v.lang);
    if form.get("decision") == "refuse" {
        return match s.app.guardian_refuse(&token).await {
            Ok(()) => {
                let mut v = v;
                v.jar = v.jar.remove(removal(&s, LINK_COOKIE));
                message(
                    v,
                    &s,
                    t.s("gd_refused_title"),
                    vec![t.s("gd_refused_body").into()],
                    Some(("/", t.s("home"))),
                )
            }
            Err(CoreError::NotFound(_)) => link_gone(v, &s),
            Err(CoreError::Conflict(_)) => v.redirect(GUARDIAN),
            Err(e) => error_page(e),
        };
    }
    let policy = s.app.policy().clone();
    let consents = if policy.meta.consent_mode == ConsentMode::SingleAgreement {
        // The seed's one agreement: 동의 agrees to every required category.
        policy
            .consents
            .iter()
            .map(|c| (c.id.clone(), c.required))
            .collect()
    } else {
        consent_map(&s, &chosen)
    };
    let decision = GuardianDecision {
        consents,
        relationship: relationship.clone(),
        identity_token: (!identity.is_empty()).then(|| identity.clone()),
    };
    match s.app.guardian_consent(&token, decision).await {
        Ok(()) => {
            let mut v = v;
            v.jar = v.jar.remove(removal(&s, LINK_COOKIE));
            message(
                v,
                &s,
                t.s("gd_thanks_title"),
                vec![t.s("gd_thanks_body").into()],
                Some(("/guardian/child", t.s("gc_title"))),
            )
        }
        Err(CoreError::Invalid(errors)) => {
            // A verification that was used (not an adult) or missing is asked for again.
            let keep = !errors.iter().any(|e| e.field == "identity");
            v.back_to(&s, GUARDIAN, &carry(keep), errors, None).await
        }
        Err(CoreError::Identity(_)) => {
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            v.back_to(
                &s,
                GUARDIAN,
                &carry(false),
                vec![],
                Some((
                    ko.s("identity_expired_plain"),
                    en.s("identity_expired_plain"),
                )),
            )
            .await
        }
        Err(CoreError::NotFound(_)) => link_gone(v, &s),
        Err(CoreError::Conflict(_)) => v.redirect(GUARDIAN),
        Err(e) => error_page(e),
    }
}

/// The guardian's 본인확인: the sign-up's form, sent here; the verified identity's token goes on
/// to `/guardian` in the form cookie (never in the page or the address).
pub(crate) async fn identity_page(State(s): State<AppState>, v: Visit) -> Response {
    SignupIdentityPage::show(v, &s, "gd_identity_body", G_IDENTITY, (GUARDIAN, "gd_back"))
}

pub(crate) async fn identity_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, G_IDENTITY, &form).await;
    }
    request_identity(&s, v, client, &form, G_IDENTITY, G_VERIFY).await
}

fn guardian_steps() -> CodeSteps {
    CodeSteps {
        here: G_VERIFY,
        start: G_IDENTITY,
        next: GUARDIAN,
        verified: Some((T(Lang::Ko).s("gd_verified"), T(Lang::En).s("gd_verified"))),
    }
}

pub(crate) async fn verify_page(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    Query(back): Query<crate::signup::window::Returned>,
) -> Response {
    code_step_page(&s, v, client, back, guardian_steps()).await
}

pub(crate) async fn verify_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    confirm_identity_code(&s, v, client, &form, guardian_steps()).await
}
