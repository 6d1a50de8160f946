//! Sign-up: consent (or the seed's single agreement), 본인확인, the details form.

use crate::page::*;
use crate::signup::window::{Returned, launch};

/// A consent category as the consent screen shows it (R-CON-04, R-CON-07).
#[derive(Debug, Clone)]
pub struct ConsentBlock {
    pub id: String,
    pub title: String,
    pub purpose: String,
    pub items: String,
    pub retention: String,
    pub refusal: String,
    pub recipient: Option<String>,
    pub checked: bool,
    /// Key facts are emphasised: marketing contact, third-party recipient.
    pub emphasise_purpose: bool,
}

pub(crate) fn consent_blocks(s: &AppState, lang: Lang, chosen: &[String]) -> Vec<ConsentBlock> {
    let p = s.app.policy();
    p.consents
        .iter()
        .filter(|c| !c.required)
        .map(|c| {
            let items: Vec<String> = p
                .items_for_consent(&c.id)
                .iter()
                .map(|i| i.label.get(lang).to_owned())
                .collect();
            let retention = p
                .retention_class(&c.retention)
                .map(|r| format!("{} ({})", r.label.get(lang), r.period.describe(lang)))
                .unwrap_or_default();
            ConsentBlock {
                id: c.id.clone(),
                title: c.title.get(lang).to_owned(),
                purpose: c.purpose.get(lang).to_owned(),
                items: items.join(", "),
                retention,
                refusal: c.refusal.get(lang).to_owned(),
                recipient: c
                    .partner
                    .as_deref()
                    .and_then(|id| p.partner(id))
                    .map(|pt| pt.name.get(lang).to_owned()),
                checked: chosen.contains(&c.id),
                emphasise_purpose: matches!(
                    c.kind,
                    ConsentKind::Marketing | ConsentKind::AdReception | ConsentKind::ThirdParty
                ),
            }
        })
        .collect()
}

/// A contract item as the notice lists it.
#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub label: String,
    pub purposes: String,
    pub retention: String,
}

pub(crate) fn notice_rows(s: &AppState, lang: Lang) -> Vec<NoticeRow> {
    let p = s.app.policy();
    p.signup_items()
        .filter(|i| i.basis != LegalBasis::Consent)
        .map(|i| NoticeRow {
            label: i.label.get(lang).to_owned(),
            purposes: i
                .purposes
                .iter()
                .filter_map(|id| p.purpose(id).map(|pp| pp.label.get(lang).to_owned()))
                .collect::<Vec<_>>()
                .join(", "),
            retention: p
                .retention_class(&i.retention)
                .map(|r| r.period.describe(lang))
                .unwrap_or_default(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "signup_seed.html")]
pub(crate) struct SignupSeedPage<'a> {
    pub(crate) c: Chrome,
    pub(crate) doc: &'a Document,
}

#[derive(Template)]
#[template(path = "signup_consent.html")]
pub(crate) struct SignupConsentPage {
    pub(crate) c: Chrome,
    pub(crate) notice_rows: Vec<NoticeRow>,
    pub(crate) consents: Vec<ConsentBlock>,
}

/// The sign-up's progress, carried between its steps in a sealed cookie.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct SignupFlow {
    /// The consent step is done: the seed's agreement given, or the optional consents chosen.
    pub(crate) chosen: bool,
    /// The consents given (the optional ones chosen, or the seed's required ones).
    pub(crate) consents: Vec<String>,
    /// The 본인확인 request waiting for its SMS code.
    pub(crate) request_id: Option<String>,
    /// The verified identity's one-time token, used up by the sign-up.
    pub(crate) identity_token: Option<String>,
    /// A child's token of the request their guardian consented to (issue 16): the child's
    /// 본인확인 and sign-up go through on it.
    #[serde(default)]
    pub(crate) guardian: Option<String>,
}

pub(crate) const SIGNUP_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_signup");
/// As long as a verified identity waits for its sign-up.
pub(crate) const SIGNUP_MINUTES: i64 = 30;

pub(crate) async fn flow_of(s: &AppState, v: &Visit) -> SignupFlow {
    open_cookie(s, &v.jar, SIGNUP_COOKIE)
        .await
        .unwrap_or_default()
}

/// Keeps the flow in its cookie on this visit's answer.
async fn keep_flow(mut v: Visit, s: &AppState, flow: &SignupFlow) -> Result<Visit, Response> {
    let c = seal_cookie(s, SIGNUP_COOKIE, SIGNUP_MINUTES, flow)
        .await
        .map_err(error_page)?;
    v.jar = v.jar.add(c);
    Ok(v)
}

/// Stores the flow and goes on to `to`.
pub(crate) async fn flow_to(v: Visit, s: &AppState, flow: &SignupFlow, to: &str) -> Response {
    match keep_flow(v, s, flow).await {
        Ok(v) => v.redirect(to),
        Err(r) => r,
    }
}

/// Back to 본인확인 with the flow as it is now (the consents stay chosen) and why (`notice`, a
/// text key).
async fn identity_again(v: Visit, s: &AppState, flow: &SignupFlow, notice: &str) -> Response {
    match keep_flow(v, s, flow).await {
        Ok(v) => {
            v.notice_to(
                s,
                "/signup/identity",
                T(Lang::Ko).s(notice),
                T(Lang::En).s(notice),
            )
            .await
        }
        Err(r) => r,
    }
}

/// Ends the flow (joined, declined, or stopped for a child) and goes on to `to`.
pub(crate) fn flow_end(mut v: Visit, s: &AppState, to: &str) -> Response {
    v.jar = v
        .jar
        .remove(removal(s, SIGNUP_COOKIE))
        .remove(removal(s, FORM_COOKIE));
    if to == "/signup/done" {
        // A child who joined is done with their request too.
        v.jar = v
            .jar
            .remove(removal(s, crate::signup::guardian::CHILD_COOKIE));
    }
    v.redirect(to)
}

pub(crate) fn verified(s: &AppState) -> bool {
    s.app.policy().meta.identity == IdentityMode::Verification
}

/// Where a visitor with this progress goes next.
pub(crate) fn next_step(s: &AppState, flow: &SignupFlow) -> &'static str {
    if !flow.chosen {
        "/signup"
    } else if verified(s) && flow.identity_token.is_none() {
        if flow.request_id.is_some() {
            "/signup/verify"
        } else {
            "/signup/identity"
        }
    } else {
        "/signup/details"
    }
}

pub(crate) async fn signup_start(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let flow = flow_of(&s, &v).await;
    let c = v.chrome(&s);
    match s.app.policy().meta.consent_mode {
        ConsentMode::SingleAgreement => {
            let doc = jikimi_policy::render::document(s.app.policy(), lang);
            v.render(SignupSeedPage { c, doc: &doc })
        }
        ConsentMode::Separate => v.render(SignupConsentPage {
            c,
            notice_rows: notice_rows(&s, lang),
            consents: consent_blocks(&s, lang, &flow.consents),
        }),
    }
}

/// `/signup/consent` is where the consent form posts; a GET of it (a reload, a bookmark) starts
/// again at the consent page, keeping what was chosen.
pub(crate) async fn signup_restart() -> Response {
    Redirect::to("/signup").into_response()
}

pub(crate) fn chosen_consents(form: &FormData) -> Vec<String> {
    form.all("consent").into_iter().map(str::to_owned).collect()
}

/// The consent decisions as the core takes them: every category, true or false.
pub(crate) fn consent_map(s: &AppState, chosen: &[String]) -> BTreeMap<String, bool> {
    s.app
        .policy()
        .consents
        .iter()
        .map(|c| (c.id.clone(), chosen.contains(&c.id)))
        .collect()
}

pub(crate) async fn signup_consent(
    State(s): State<AppState>,
    v: Visit,
    form: FormData,
) -> Response {
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, "/signup", &form).await;
    }
    let policy = s.app.policy().clone();
    let mut flow = flow_of(&s, &v).await;
    if policy.meta.consent_mode == ConsentMode::SingleAgreement {
        if form.get("decision") != "agree" {
            // S5: 동의하지 않음 ends sign-up; nothing was or will be stored.
            return flow_end(v, &s, "/signup/declined");
        }
        flow.consents = policy
            .consents
            .iter()
            .filter(|c| c.required)
            .map(|c| c.id.clone())
            .collect();
    } else {
        // Only categories of the policy, and never a required one by this door.
        flow.consents = chosen_consents(&form)
            .into_iter()
            .filter(|id| policy.consent(id).is_some_and(|c| !c.required))
            .collect();
    }
    flow.chosen = true;
    let next = next_step(&s, &flow);
    flow_to(v, &s, &flow, next).await
}

pub(crate) async fn signup_declined(State(s): State<AppState>, v: Visit) -> Response {
    let t = T(v.lang);
    message(
        v,
        &s,
        t.s("declined_title"),
        vec![t.s("declined_body").into()],
        Some(("/", t.s("home"))),
    )
}

#[derive(Template)]
#[template(path = "signup_identity.html")]
pub(crate) struct SignupIdentityPage {
    pub(crate) c: Chrome,
    /// The i18n key of the text above the form.
    pub(crate) body: &'static str,
    /// Where the form is sent.
    pub(crate) action: &'static str,
    /// The way back: (href, i18n key of its label).
    pub(crate) back: (&'static str, &'static str),
    pub(crate) notice: Option<String>,
    pub(crate) name: String,
    pub(crate) birth_date: String,
    pub(crate) mobile: String,
    pub(crate) carrier: String,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) name_error: Option<String>,
    pub(crate) birth_error: Option<String>,
    pub(crate) mobile_error: Option<String>,
    pub(crate) carrier_error: Option<String>,
    /// The provider verifies in its own window: the form is one button.
    pub(crate) window: bool,
}

impl SignupIdentityPage {
    /// The 본인확인 form (sign-up's, and login's for a held login ID) with the values and errors
    /// the last attempt left in the flash.
    pub(crate) fn show(
        v: Visit,
        s: &AppState,
        body: &'static str,
        action: &'static str,
        back: (&'static str, &'static str),
    ) -> Response {
        let lang = v.lang;
        let f = &v.flash;
        let errors = &f.errors;
        let page = Self {
            c: v.chrome(s),
            body,
            action,
            back,
            notice: v.notice(),
            name: f.get("name").to_owned(),
            birth_date: f.get("birth_date").to_owned(),
            mobile: f.get("mobile").to_owned(),
            carrier: f.get("carrier").to_owned(),
            errors: summary(errors, lang, |field| match field {
                "csrf" => "name".to_owned(),
                other => other.to_owned(),
            }),
            name_error: field_error(errors, "name", lang),
            birth_error: field_error(errors, "birth_date", lang),
            mobile_error: field_error(errors, "mobile", lang),
            carrier_error: field_error(errors, "carrier", lang),
            window: s.app.identity_window().is_some(),
        };
        v.render(page)
    }
}

/// Errors as the summary box lists them: (the id of the input to jump to, message).
pub(crate) fn summary(
    errors: &[FieldError],
    lang: Lang,
    anchor: impl Fn(&str) -> String,
) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (anchor(&e.field), e.message(lang).to_owned()))
        .collect()
}

pub(crate) async fn signup_identity_page(State(s): State<AppState>, v: Visit) -> Response {
    let flow = flow_of(&s, &v).await;
    if !flow.chosen || !verified(&s) {
        return v.redirect(next_step(&s, &flow));
    }
    SignupIdentityPage::show(
        v,
        &s,
        "identity_body",
        "/signup/identity",
        ("/signup", "back_to_consents"),
    )
}

/// The 본인확인 form's fields as a request: the date of birth and the carrier are read here (the
/// provider checks the rest); each one that does not read is named with its rule.
pub(crate) fn identity_request_of(form: &FormData) -> Result<IdentityRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let birth = jikimi_core::validate::birth_date(form.get("birth_date"));
    if birth.is_none() {
        errors.push(FieldError::new(
            "birth_date",
            "date.format",
            "생년월일 8자리를 입력해 주세요 (예: 19900101)",
            "Enter the date of birth as 8 digits, year month day (e.g. 19900101)",
        ));
    }
    let carrier = Carrier::parse(form.get("carrier"));
    if carrier.is_none() {
        errors.push(FieldError::new(
            "carrier",
            "carrier.unknown",
            "통신사를 골라 주세요",
            "Choose the carrier",
        ));
    }
    let (Some(birth_date), Some(carrier)) = (birth, carrier) else {
        return Err(errors);
    };
    Ok(IdentityRequest {
        name: form.get("name").to_owned(),
        birth_date,
        mobile: form.get("mobile").to_owned(),
        carrier,
    })
}

pub(crate) async fn signup_identity(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    const HERE: &str = "/signup/identity";
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let mut flow = flow_of(&s, &v).await;
    if !flow.chosen {
        return v.redirect("/signup");
    }
    if s.app.identity_window().is_some() {
        return match s.app.identity_window_issue_from(client).await {
            Ok(id) => {
                flow.request_id = Some(id);
                flow.identity_token = None;
                flow_to(v, &s, &flow, "/signup/verify").await
            }
            Err(CoreError::RateLimited {
                action,
                retry_after,
            }) => limited_again(v, &s, &flow, action, retry_after).await,
            Err(e) => error_page(e),
        };
    }
    let req = match identity_request_of(&form) {
        Ok(req) => req,
        Err(errors) => return v.back_to(&s, HERE, &form, errors, None).await,
    };
    match s.app.identity_request_from(client, req).await {
        Ok(request_id) => {
            flow.request_id = Some(request_id);
            flow.identity_token = None;
            flow_to(v, &s, &flow, "/signup/verify").await
        }
        Err(CoreError::Invalid(e)) => v.back_to(&s, HERE, &form, e, None).await,
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "signup_code.html")]
pub(crate) struct SignupCodePage {
    pub(crate) c: Chrome,
    /// Where the form is sent, and where a new code is asked for.
    pub(crate) action: &'static str,
    pub(crate) resend: &'static str,
    pub(crate) notice: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) sandbox: bool,
}

pub(crate) async fn signup_verify_page(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    Query(back): Query<Returned>,
) -> Response {
    let lang = v.lang;
    let mut flow = flow_of(&s, &v).await;
    if let Some(win) = s.app.identity_window() {
        let Some(request_id) = flow.request_id.take() else {
            // Back from the window after the flow ended or expired: start the step again.
            return match back.id {
                Some(_) if flow.chosen => identity_again(v, &s, &flow, "identity_expired").await,
                _ => v.redirect(next_step(&s, &flow)),
            };
        };
        let Some(id) = back.id else {
            return launch(
                v,
                &s,
                win,
                &request_id,
                "/signup/verify",
                ("/signup/identity", "window_restart"),
            );
        };
        if !crate::extract::same_token(&id, &request_id) {
            return identity_again(v, &s, &flow, "window_not_done").await;
        }
        return match s
            .app
            .identity_window_return_as(client, &request_id, flow.guardian.as_deref())
            .await
        {
            Ok(token) => {
                flow.identity_token = Some(token.expose().to_owned());
                flow_to(v, &s, &flow, "/signup/details").await
            }
            Err(CoreError::ChildNeedsGuardian { .. }) => flow_end(v, &s, "/signup/guardian"),
            Err(CoreError::Identity(_)) => identity_again(v, &s, &flow, "window_not_done").await,
            Err(CoreError::Unavailable(_)) => {
                identity_again(v, &s, &flow, "provider_unavailable").await
            }
            Err(CoreError::RateLimited {
                action,
                retry_after,
            }) => limited_again(v, &s, &flow, action, retry_after).await,
            Err(e) => error_page(e),
        };
    }
    if flow.request_id.is_none() {
        return v.redirect(next_step(&s, &flow));
    }
    let page = SignupCodePage {
        c: v.chrome(&s),
        action: "/signup/verify",
        resend: "/signup/identity",
        notice: v.notice(),
        error: v.flash.errors.first().map(|e| e.message(lang).to_owned()),
        sandbox: s.app.sandbox_outbox().is_some(),
    };
    v.render(page)
}

pub(crate) async fn signup_verify(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    const HERE: &str = "/signup/verify";
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let mut flow = flow_of(&s, &v).await;
    let Some(request_id) = flow.request_id.clone() else {
        return v.redirect(next_step(&s, &flow));
    };
    match s
        .app
        .identity_confirm_as(
            client,
            &request_id,
            form.get("code"),
            flow.guardian.as_deref(),
        )
        .await
    {
        Ok(token) => {
            flow.identity_token = Some(token.expose().to_owned());
            flow.request_id = None;
            flow_to(v, &s, &flow, "/signup/details").await
        }
        Err(CoreError::Invalid(e)) => v.back_to(&s, HERE, &form, e, None).await,
        Err(CoreError::ChildNeedsGuardian { .. }) => flow_end(v, &s, "/signup/guardian"),
        Err(CoreError::Identity(_)) => {
            // Too many wrong codes, or too late: a new code is needed; the consents stay chosen.
            flow.request_id = None;
            identity_again(v, &s, &flow, "code_expired").await
        }
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => {
            // Too many codes (for this request, or from this client): the request is spent and
            // the identity step says how long to wait; the consents stay chosen.
            flow.request_id = None;
            limited_again(v, &s, &flow, action, retry_after).await
        }
        Err(e) => error_page(e),
    }
}

/// Back to 본인확인 saying how long a limit makes the visitor wait; the consents stay chosen.
async fn limited_again(
    v: Visit,
    s: &AppState,
    flow: &SignupFlow,
    action: jikimi_core::Action,
    retry_after: i64,
) -> Response {
    let say = |lang: Lang| {
        format!(
            "{} {}",
            crate::i18n::limited(lang, action, retry_after),
            T(lang).s("consents_kept")
        )
    };
    match keep_flow(v, s, flow).await {
        Ok(v) => {
            v.notice_to(s, "/signup/identity", &say(Lang::Ko), &say(Lang::En))
                .await
        }
        Err(r) => r,
    }
}

#[derive(Template)]
#[template(path = "signup_form.html")]
pub(crate) struct SignupFormPage {
    pub(crate) c: Chrome,
    pub(crate) notice: Option<String>,
    pub(crate) login_id: String,
    pub(crate) login_error: Option<String>,
    pub(crate) password_error: Option<String>,
    pub(crate) fields: Vec<Field>,
    pub(crate) errors: Vec<(String, String)>,
}

/// Items 본인확인 fills: CI, DI, birth date, name, and a required mobile number.
pub(crate) fn supplied_by_identity(i: &Item) -> bool {
    matches!(
        i.kind,
        ItemKind::Ci | ItemKind::Di | ItemKind::BirthDate | ItemKind::Name
    ) || (i.kind == ItemKind::Mobile && i.required)
}

/// The input a form error jumps to.
pub(crate) fn anchor_of(field: &str) -> String {
    match field {
        "login_id" | "csrf" | "identity" => "login_id".to_owned(),
        "password" => "password".to_owned(),
        f => format!("f-{}", f.strip_prefix("consents.").unwrap_or(f)),
    }
}

pub(crate) async fn signup_details_page(State(s): State<AppState>, v: Visit) -> Response {
    let lang = v.lang;
    let flow = flow_of(&s, &v).await;
    if next_step(&s, &flow) != "/signup/details" {
        return v.redirect(next_step(&s, &flow));
    }
    let policy = s.app.policy().clone();
    // The verified mobile number fills the mobile field until something else was typed.
    let verified_mobile = match &flow.identity_token {
        Some(token) if v.flash.page.is_empty() => s
            .app
            .identity_for(token)
            .await
            .ok()
            .and_then(|id| jikimi_kr::Phone::from_e164(&id.mobile).ok())
            .map(|p| p.display()),
        _ => None,
    };
    let form = v.flash.form();
    let errors = v.flash.errors.clone();
    let is_verified = verified(&s);
    let fields = policy
        .signup_items()
        // Values that 본인확인 supplies are not typed in.
        .filter(|i| !(is_verified && supplied_by_identity(i)))
        // Consent-based items only when their consent was given.
        .filter(|i| {
            i.basis != LegalBasis::Consent
                || i.consent
                    .as_ref()
                    .is_some_and(|c| flow.consents.contains(c))
        })
        .map(|i| {
            let typed = form.get(&format!("item.{}", i.id));
            let value = match (&verified_mobile, i.kind) {
                (Some(m), ItemKind::Mobile) if typed.is_empty() => m.as_str(),
                _ => typed,
            };
            item_field(i, lang, value, &errors)
        })
        .collect();
    let page = SignupFormPage {
        c: v.chrome(&s),
        notice: v.notice(),
        login_id: form.get("login_id").to_owned(),
        login_error: field_error(&errors, "login_id", lang),
        password_error: field_error(&errors, "password", lang),
        fields,
        errors: summary(&errors, lang, anchor_of),
    };
    v.render(page)
}

/// The items of a details form: `item.<id>` fields, a resident registration number put together
/// from its two halves.
pub(crate) fn submitted_items(s: &AppState, form: &FormData) -> BTreeMap<String, Revealed> {
    let mut items = form.prefixed("item.");
    for item in s
        .app
        .policy()
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Rrn)
    {
        let front = items.remove(&item.id).unwrap_or_default();
        let back = form.get(&format!("rrn_back.{}", item.id));
        if !front.is_empty() || !back.is_empty() {
            items.insert(item.id.clone(), format!("{}-{}", front.trim(), back.trim()));
        }
    }
    items
        .into_iter()
        .map(|(k, val)| (k, Revealed::new(val)))
        .collect()
}

pub(crate) async fn signup_details(
    State(s): State<AppState>,
    v: Visit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    const HERE: &str = "/signup/details";
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let mut flow = flow_of(&s, &v).await;
    if next_step(&s, &flow) != HERE {
        return v.redirect(next_step(&s, &flow));
    }
    // 아이디 중복확인: checks the login ID only, keeps the form.
    if form.get("action") == "check_id" {
        return match s
            .app
            .check_login_id_from(client, form.get("login_id"))
            .await
        {
            Ok(()) => {
                let (ko, en) = (T(Lang::Ko).s("id_available"), T(Lang::En).s("id_available"));
                v.back_to(
                    &s,
                    "/signup/details#login_id",
                    &form,
                    vec![],
                    Some((ko, en)),
                )
                .await
            }
            Err(CoreError::Invalid(e)) => {
                v.back_to(&s, "/signup/details#login_id", &form, e, None)
                    .await
            }
            Err(e) => error_page(e),
        };
    }
    if form.get("password") != form.get("password_confirm") {
        let e = vec![FieldError::new(
            "password",
            "password.confirm",
            T(Lang::Ko).s("passwords_differ"),
            T(Lang::En).s("passwords_differ"),
        )];
        return v.back_to(&s, HERE, &form, e, None).await;
    }
    let signup = jikimi_core::SignUp {
        login_id: form.get("login_id").to_owned(),
        password: Revealed::new(form.get("password").to_owned()),
        items: submitted_items(&s, &form),
        consents: consent_map(&s, &flow.consents),
        identity: None,
        channel: "web".into(),
        client,
        guardian: flow.guardian.clone(),
    };
    // The verification is used up only by a successful sign-up: a typo costs nothing.
    let result = match &flow.identity_token {
        Some(token) => s.app.sign_up_with_identity_token(signup, token).await,
        None => s.app.sign_up(signup).await,
    };
    match result {
        Ok(_) => flow_end(v, &s, "/signup/done"),
        Err(CoreError::Invalid(errors)) => v.back_to(&s, HERE, &form, errors, None).await,
        Err(CoreError::AlreadyMember { masked_login, .. }) => {
            let mut v = v;
            v.jar = v.jar.remove(removal(&s, SIGNUP_COOKIE));
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            let login = masked_login.unwrap_or_default();
            v.notice_to(
                &s,
                "/login",
                &format!("{} {login}", ko.s("already_body")),
                &format!("{} {login}", en.s("already_body")),
            )
            .await
        }
        Err(CoreError::ChildNeedsGuardian { .. }) => flow_end(v, &s, "/signup/guardian"),
        Err(CoreError::AgreementDeclined) => flow_end(v, &s, "/signup/declined"),
        Err(CoreError::Identity(_)) => {
            flow.identity_token = None;
            flow.request_id = None;
            identity_again(v, &s, &flow, "identity_expired").await
        }
        Err(e) => error_page(e),
    }
}

pub(crate) async fn signup_done(State(s): State<AppState>, v: Visit) -> Response {
    let t = T(v.lang);
    message(
        v,
        &s,
        t.s("joined_title"),
        vec![t.s("joined_body").into()],
        Some(("/login", t.s("login"))),
    )
}
