//! A guardian acts for a child member (issue 16, S13): verified again — by 본인확인 where the
//! policy verifies identities (the same person who consented), else by a one-time link mailed to
//! the address the guardian consented through — the guardian sees the child's data, corrects
//! it, gives or withdraws consents and can end the membership, while the child is under 14.
//! Every act is the guardian's in the audit chain. The verified access lives in a sealed cookie
//! for [`ACCESS_MINUTES`] minutes and core checks it again on every request.

use jikimi_core::guardians::{ACCESS_MINUTES, GuardianAccess};

use crate::page::*;

const HERE: &str = "/guardian/child";
const G_IDENTITY: &str = "/guardian/child/identity";
const G_VERIFY: &str = "/guardian/child/verify";
const ACCESS_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_guardian_access");

#[derive(Template)]
#[template(path = "guardian_child.html")]
pub(crate) struct GuardianChildPage {
    pub(crate) c: Chrome,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) access: bool,
    pub(crate) needs_identity: bool,
    pub(crate) verified: bool,
    pub(crate) login_id: String,
    /// (label, value) of the child's items.
    pub(crate) items: Vec<(String, String)>,
    pub(crate) fields: Vec<Field>,
    pub(crate) consents: Vec<ConsentRow>,
    /// A mailed link's token waiting to be taken with a press (a GET spends nothing: mail
    /// scanners open links).
    pub(crate) link_token: Option<String>,
}

names_errors!(GuardianChildPage);

/// The guardian's access in this browser, if it still holds.
async fn access_of(s: &AppState, v: &Visit) -> Result<Option<GuardianAccess>, CoreError> {
    let Some(a): Option<GuardianAccess> = open_cookie(s, &v.jar, ACCESS_COOKIE).await else {
        return Ok(None);
    };
    Ok(s.app.guardian_access_valid(&a).await?.then_some(a))
}

/// The access in a sealed cookie, and on to the child's page (whose flash is replaced: the used
/// verification goes).
async fn with_access(s: &AppState, v: Visit, a: GuardianAccess) -> Response {
    match seal_cookie(s, ACCESS_COOKIE, ACCESS_MINUTES, &a).await {
        Ok(c) => {
            let mut v = v;
            v.jar = v.jar.add(c);
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            v.notice_to(s, HERE, ko.s("gc_opened"), en.s("gc_opened"))
                .await
        }
        Err(e) => error_page(e),
    }
}

fn verifies_identity(s: &AppState) -> bool {
    s.app.policy().meta.identity == IdentityMode::Verification
}

pub(crate) async fn child_page(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let access = page_try!(access_of(&s, &v).await);
    let (items, fields, consents) = match access {
        Some(a) => {
            let actor = a.actor();
            // Masked as My page shows them; the correction form has the editable ones in full.
            let values = page_try!(s.app.view_masked(&actor, a.member).await);
            let policy = s.app.policy().clone();
            let items = policy
                .items
                .iter()
                .filter_map(|i| {
                    values
                        .get(&i.id)
                        .map(|val| (i.label.get(lang).to_owned(), val.clone()))
                })
                .collect();
            let fields = page_try!(edit_fields(&s, &v, &actor, a.member).await);
            let consents = page_try!(consent_rows(&s, a.member, lang).await);
            (items, fields, consents)
        }
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let page = GuardianChildPage {
        c: v.chrome(&s),
        notice: v.notice(),
        errors: v.error_list_by(|f| match f {
            "csrf" => String::new(),
            "login_id" => "login_id".into(),
            other => format!("f-{other}"),
        }),
        access: access.is_some(),
        needs_identity: verifies_identity(&s),
        verified: !v.flash.get("identity_token").is_empty(),
        login_id: v.flash.get("login_id").to_owned(),
        items,
        fields,
        consents,
        link_token: None,
    };
    let mut r = v.render(page);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// The child's login ID (and, where the link is the proof, the guardian's e-mail address).
pub(crate) async fn child_open(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    let identity = v.flash.get("identity_token").to_owned();
    let carry = FormData::of(&[
        ("login_id", form.get("login_id")),
        ("identity_token", &identity),
    ]);
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &carry).await;
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    if verifies_identity(&s) {
        if identity.is_empty() {
            return v.redirect(G_IDENTITY);
        }
        return match s
            .app
            .guardian_access_by_identity(client, form.get("login_id"), &identity)
            .await
        {
            Ok(a) => with_access(&s, v, a).await,
            Err(CoreError::Invalid(errors)) => {
                // The verification is used up: asked for again with the error.
                let again = FormData::of(&[("login_id", form.get("login_id"))]);
                v.back_to(&s, HERE, &again, errors, None).await
            }
            Err(CoreError::Identity(_)) => {
                v.notice_to(
                    &s,
                    HERE,
                    ko.s("identity_expired_plain"),
                    en.s("identity_expired_plain"),
                )
                .await
            }
            Err(CoreError::RateLimited {
                action,
                retry_after,
            }) => {
                let k = crate::i18n::limited(Lang::Ko, action, retry_after);
                let e = crate::i18n::limited(Lang::En, action, retry_after);
                v.notice_to(&s, HERE, &k, &e).await
            }
            Err(e) => error_page(e),
        };
    }
    let site = s.app.mail_site().url;
    let link = |token: &str| format!("{site}{HERE}/open?t={token}");
    match s
        .app
        .send_guardian_access(client, form.get("login_id"), form.get("email"), link)
        .await
    {
        Ok(()) => {
            v.notice_to(&s, HERE, ko.s("gc_sent"), en.s("gc_sent"))
                .await
        }
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => {
            let k = crate::i18n::limited(Lang::Ko, action, retry_after);
            let e = crate::i18n::limited(Lang::En, action, retry_after);
            v.notice_to(&s, HERE, &k, &e).await
        }
        Err(e) => error_page(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LinkQuery {
    t: Option<String>,
}

/// The mailed link: a page with one button (opening it spends nothing, so a mail scanner that
/// follows links does not use it up).
pub(crate) async fn child_link(
    State(s): State<AppState>,
    v: Visit,
    Query(q): Query<LinkQuery>,
) -> Response {
    let page = GuardianChildPage {
        c: v.chrome(&s),
        notice: None,
        errors: Vec::new(),
        access: false,
        needs_identity: false,
        verified: false,
        login_id: String::new(),
        items: Vec::new(),
        fields: Vec::new(),
        consents: Vec::new(),
        link_token: Some(q.t.unwrap_or_default()),
    };
    let mut r = v.render(page);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// The button of the mailed link: the token is taken once, then the access lives in the cookie.
pub(crate) async fn child_link_take(
    State(s): State<AppState>,
    v: Visit,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &FormData::default()).await;
    }
    match s.app.guardian_access_by_link(form.get("t")).await {
        Ok(a) => with_access(&s, v, a).await,
        Err(CoreError::NotFound(_)) => {
            let t = T(v.lang);
            message(
                v,
                &s,
                t.s("gd_gone_title"),
                vec![t.s("gc_link_gone").into()],
                Some((HERE, t.s("gc_title"))),
            )
        }
        Err(e) => error_page(e),
    }
}

/// The access behind this request, or the start page.
async fn required(s: &AppState, v: &Visit) -> Result<GuardianAccess, Response> {
    match access_of(s, v).await {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(Redirect::to(HERE).into_response()),
        Err(e) => Err(error_page(e)),
    }
}

pub(crate) async fn child_correct(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let a = match required(&s, &v).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    edit_apply(&s, v, &a.actor(), a.member, &form, HERE, HERE).await
}

pub(crate) async fn child_consent(
    State(s): State<AppState>,
    v: Visit,
    Path(category): Path<String>,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let a = match required(&s, &v).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let policy = s.app.policy().clone();
    let Some(cat) = policy.consent(&category).cloned() else {
        return not_found_page(&s, v.lang);
    };
    let granted = form.get("granted") == "yes";
    let deleted: Vec<(String, String)> = if granted {
        vec![]
    } else {
        match (
            held_under(&s, a.member, &category, Lang::Ko).await,
            held_under(&s, a.member, &category, Lang::En).await,
        ) {
            (Ok(k), Ok(e)) => k.into_iter().zip(e).collect(),
            (Err(e), _) | (_, Err(e)) => return error_page(e),
        }
    };
    match s
        .app
        .set_consent(&a.actor(), a.member, &category, granted, "guardian")
        .await
    {
        Ok(()) => {
            let today = s.app.clock().today_kst().to_string();
            let (ko, en) = consent_result(&policy, &cat, granted, &today, &deleted);
            v.notice_to(&s, "/guardian/child#consents", &ko, &en).await
        }
        Err(CoreError::Invalid(e)) => v.back_to(&s, HERE, &form, e, None).await,
        Err(e) => error_page(e),
    }
}

pub(crate) async fn child_withdraw(
    State(s): State<AppState>,
    v: Visit,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let a = match required(&s, &v).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let t = T(v.lang);
    if form.get("confirm") != "yes" {
        let e = FieldError::new(
            "confirm",
            "required",
            T(Lang::Ko).s("gc_withdraw_confirm"),
            T(Lang::En).s("gc_withdraw_confirm"),
        );
        return v.back_to(&s, HERE, &form, vec![e], None).await;
    }
    match s.app.withdraw(&a.actor(), a.member, "guardian").await {
        Ok(receipt) => {
            let mut v = v;
            v.jar = v.jar.remove(removal(&s, ACCESS_COOKIE));
            message(
                v,
                &s,
                t.s("gc_withdrawn_title"),
                vec![
                    t.s("gc_withdrawn_body").into(),
                    format!("{} {}", t.s("gc_receipt"), receipt.code),
                ],
                Some(("/retained", t.s("gc_retained"))),
            )
        }
        Err(e) => error_page(e),
    }
}

pub(crate) async fn child_leave(State(s): State<AppState>, v: Visit, form: FormData) -> Response {
    if !v.csrf_ok(&form) {
        return v.redirect(HERE);
    }
    let mut v = v;
    v.jar = v.jar.remove(removal(&s, ACCESS_COOKIE));
    v.redirect("/")
}

pub(crate) async fn identity_page(State(s): State<AppState>, v: Visit) -> Response {
    SignupIdentityPage::show(v, &s, "gd_identity_body", G_IDENTITY, (HERE, "gc_back"))
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

fn steps() -> CodeSteps {
    CodeSteps {
        here: G_VERIFY,
        start: G_IDENTITY,
        next: HERE,
        verified: Some((T(Lang::Ko).s("gc_verified"), T(Lang::En).s("gc_verified"))),
    }
}

pub(crate) async fn verify_page(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    Query(back): Query<crate::signup::window::Returned>,
) -> Response {
    code_step_page(&s, v, client, back, steps()).await
}

pub(crate) async fn verify_submit(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    confirm_identity_code(&s, v, client, &form, steps()).await
}
