//! The privacy office's console (`/office`): staff enrolment through the one-time link, two-factor
//! login, the dashboard, and staff management for the officer. Korean first with the English
//! switch, server-rendered, no JavaScript. Staff sessions live in their own cookie
//! (`jikimi_office`), never the members'.

use jikimi_core::staff::{Power, Role, StaffSession, staff_password_rule};

use crate::page::*;

/// The staff session cookie: HttpOnly, SameSite=Strict, `__Host-` over HTTPS (which needs
/// `Path=/`; the console lives under `/office` and no member page reads it).
pub(crate) const OFFICE_COOKIE: crate::CookieName = crate::cookie_name!("jikimi_office");

/// What the console's layout needs on every page.
#[derive(Debug, Clone)]
pub(crate) struct OfficeChrome {
    pub(crate) t: T,
    pub(crate) csrf: String,
    pub(crate) site: String,
    pub(crate) switch_href: String,
    /// "name (role)" of the staff member logged in.
    pub(crate) staff: Option<String>,
    /// The seed profile collects resident registration numbers: a standing warning (PIPA Art.
    /// 24-2 allows it only where a law requires it).
    pub(crate) rrn_warning: bool,
}

/// A visit to the console: the page machinery's [`Visit`] and the staff session, if any.
pub(crate) struct OfficeVisit {
    pub(crate) v: Visit,
    pub(crate) staff: Option<StaffSession>,
    /// A staff cookie came with the request but opened no live session (idle, expired, revoked).
    pub(crate) ended: bool,
}

impl FromRequestParts<AppState> for OfficeVisit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Response> {
        let v = Visit::from_request_parts(parts, s).await?;
        if !office_allowed(parts, s) {
            return Err(outside(v, s));
        }
        let token = v
            .jar
            .get(s.cookie(OFFICE_COOKIE))
            .map(|c| c.value().to_owned());
        let staff = match &token {
            Some(t) => s.app.staff_session(t).await.map_err(error_page)?,
            None => None,
        };
        Ok(Self {
            ended: token.is_some() && staff.is_none(),
            v,
            staff,
        })
    }
}

impl OfficeVisit {
    pub(crate) fn chrome(&self, s: &AppState) -> OfficeChrome {
        let lang = self.v.lang;
        let p = s.app.policy();
        OfficeChrome {
            t: T(lang),
            csrf: self.v.csrf.clone(),
            site: p.operator.name.get(lang).to_owned(),
            switch_href: switch_href(&self.v.here, T(lang).other_code()),
            staff: self
                .staff
                .as_ref()
                .map(|st| format!("{} ({})", st.name, st.role.label(lang))),
            rrn_warning: p
                .items
                .iter()
                .any(|i| i.kind == jikimi_policy::ItemKind::Rrn),
        }
    }

    /// [`Self::signed`] for a form's POST: also checks the form's CSRF token (a failure goes back
    /// to `page` saying so).
    pub(crate) async fn signed_form(
        self,
        s: &AppState,
        form: &FormData,
        page: &str,
    ) -> Result<(Self, StaffSession), Response> {
        let (ov, st) = self.signed(s).await?;
        if !ov.v.csrf_ok(form) {
            return Err(csrf_failed(ov.v, s, page, form).await);
        }
        Ok((ov, st))
    }

    /// [`Self::signed`] for a page that needs `power` and whose viewing goes into the access log
    /// as `action` (403 for a role without the power).
    pub(crate) async fn viewing(
        self,
        s: &AppState,
        power: Power,
        client: Option<std::net::IpAddr>,
        action: &str,
    ) -> Result<(Self, StaffSession), Response> {
        let (ov, st) = self.signed(s).await?;
        if st.require(power).is_err() {
            return Err(forbidden(ov, s));
        }
        log_access(s, &st, client, action).await?;
        Ok((ov, st))
    }

    /// The staff session, or the login page (saying the session ended, if it did).
    pub(crate) async fn signed(self, s: &AppState) -> Result<(Self, StaffSession), Response> {
        match self.staff.clone() {
            Some(st) => Ok((self, st)),
            None if self.ended => {
                let mut v = self.v;
                v.jar = v.jar.remove(office_cookie_removal(s));
                Err(v
                    .notice_to(
                        s,
                        "/office/login",
                        T(Lang::Ko).s("office_session_ended"),
                        T(Lang::En).s("office_session_ended"),
                    )
                    .await)
            }
            None => Err(self.v.redirect("/office/login")),
        }
    }
}

/// Whether the office answers this request's client (`serve --office-allow`, R-ACC-06). With a
/// list, a client whose address is unknown is outside it.
pub(crate) fn office_allowed(parts: &Parts, s: &AppState) -> bool {
    s.office_allow.is_empty()
        || ClientAddr::of(parts, &s.trusted_proxies)
            .0
            .is_some_and(|ip| s.office_allow.contains(&ip))
}

/// The console's answer outside the allowed addresses: 403, saying why, nothing else.
fn outside(v: Visit, s: &AppState) -> Response {
    let ov = OfficeVisit {
        v,
        staff: None,
        ended: false,
    };
    let texts = ["office_outside_title", "office_outside_body"];
    office_message(
        ov,
        s,
        StatusCode::FORBIDDEN,
        texts,
        ("/", "office_site_home"),
    )
}

fn office_cookie(s: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build((s.cookie(OFFICE_COOKIE), token.to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(s.secure_cookies)
        .path("/")
        .build()
}

fn office_cookie_removal(s: &AppState) -> Cookie<'static> {
    let mut c = office_cookie(s, "");
    c.make_removal();
    c
}

/// A page answered with a status other than 200.
fn with_status(mut r: Response, status: StatusCode) -> Response {
    *r.status_mut() = status;
    r
}

// ---------------------------------------------------------------------------------------------
// Login and logout

#[derive(Template)]
#[template(path = "office_login.html")]
pub(crate) struct OfficeLoginPage {
    pub(crate) c: OfficeChrome,
    pub(crate) name: String,
    pub(crate) error: Option<String>,
    pub(crate) notice: Option<String>,
}

pub(crate) async fn office_login_page(State(s): State<AppState>, ov: OfficeVisit) -> Response {
    if ov.staff.is_some() {
        return ov.v.redirect("/office");
    }
    let page = OfficeLoginPage {
        c: ov.chrome(&s),
        name: ov.v.flash.get("name").to_owned(),
        error: ov
            .v
            .flash
            .errors
            .first()
            .map(|e| e.message(ov.v.lang).to_owned()),
        notice: ov.v.notice(),
    };
    ov.v.render(page)
}

pub(crate) async fn office_login_submit(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    if !ov.v.csrf_ok(&form) {
        return csrf_failed(ov.v, &s, "/office/login", &form).await;
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    let kept = FormData::of(&[("name", form.get("name"))]);
    match s
        .app
        .staff_login(
            client,
            form.get("name"),
            &Revealed::new(form.get("password").to_owned()),
            form.get("code"),
        )
        .await
    {
        Ok(new) => {
            let mut v = ov.v;
            v.jar = v
                .jar
                .add(office_cookie(&s, new.token.expose()))
                .remove(removal(&s, FORM_COOKIE));
            v.redirect("/office")
        }
        Err(CoreError::BadCredentials) => {
            let e = FieldError::new(
                "login",
                "office.login_failed",
                ko.s("office_login_failed"),
                en.s("office_login_failed"),
            );
            ov.v.back_to(&s, "/office/login", &kept, vec![e], None)
                .await
        }
        Err(CoreError::TooManyAttempts { retry_after }) => {
            let minutes = ((retry_after + 59) / 60).to_string();
            let error = T(ov.v.lang)
                .s("office_login_locked")
                .replace("{n}", &minutes);
            login_refused(ov, &s, form.get("name"), error, retry_after)
        }
        Err(CoreError::RateLimited {
            action,
            retry_after,
        }) => {
            let error = crate::i18n::limited(ov.v.lang, action, retry_after);
            login_refused(ov, &s, form.get("name"), error, retry_after)
        }
        Err(e) => error_page(e),
    }
}

/// A login refused by a limit: the login form again, at once, with status 429, the reason and
/// how long to wait, and `Retry-After`.
fn login_refused(
    ov: OfficeVisit,
    s: &AppState,
    name: &str,
    error: String,
    retry_after: i64,
) -> Response {
    let page = OfficeLoginPage {
        c: ov.chrome(s),
        name: name.to_owned(),
        error: Some(error),
        notice: None,
    };
    with_retry_after(
        with_status(ov.v.render(page), StatusCode::TOO_MANY_REQUESTS),
        retry_after,
    )
}

pub(crate) async fn office_logout(
    State(s): State<AppState>,
    ov: OfficeVisit,
    form: FormData,
) -> Response {
    if !ov.v.csrf_ok(&form) {
        return csrf_failed(ov.v, &s, "/office", &form).await;
    }
    if let Some(st) = &ov.staff
        && let Err(e) = s.app.staff_logout(st).await
    {
        return error_page(e);
    }
    let mut v = ov.v;
    v.jar = v.jar.remove(office_cookie_removal(&s));
    v.notice_to(
        &s,
        "/office/login",
        T(Lang::Ko).s("office_logged_out"),
        T(Lang::En).s("office_logged_out"),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Enrolment

#[derive(Template)]
#[template(path = "office_enrol.html")]
pub(crate) struct EnrolPage {
    pub(crate) c: OfficeChrome,
    pub(crate) action: String,
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) expires: String,
    /// The QR code of the `otpauth://` URI, as inline SVG made here (no script, no image).
    pub(crate) qr: String,
    /// The secret as text, in groups of four.
    pub(crate) secret: String,
    pub(crate) rule: &'static str,
    pub(crate) errors: Vec<(String, String)>,
    /// Which inputs an error names (`aria-invalid`).
    pub(crate) bad_password: bool,
    pub(crate) bad_confirm: bool,
    pub(crate) bad_code: bool,
}

#[derive(Template)]
#[template(path = "office_recovery.html")]
pub(crate) struct RecoveryPage {
    pub(crate) c: OfficeChrome,
    pub(crate) codes: Vec<String>,
}

/// The QR code of `text` as an SVG element sized by CSS.
fn qr_svg(text: &str) -> Result<String, CoreError> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| CoreError::Setup(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A console page that only says something (texts by key), with where to go from here, answered
/// with `status`.
fn office_message(
    ov: OfficeVisit,
    s: &AppState,
    status: StatusCode,
    [title, body]: [&str; 2],
    (href, label): (&'static str, &str),
) -> Response {
    let t = T(ov.v.lang);
    let page = OfficeMessagePage {
        c: ov.chrome(s),
        heading: t.s(title).to_owned(),
        paragraphs: vec![t.s(body).to_owned()],
        link: (href, t.s(label)),
    };
    with_status(ov.v.render(page), status)
}

fn used_link(ov: OfficeVisit, s: &AppState) -> Response {
    let texts = ["office_enrol_gone_title", "office_enrol_gone_body"];
    office_message(
        ov,
        s,
        StatusCode::NOT_FOUND,
        texts,
        ("/office/login", "office_login"),
    )
}

#[derive(Template)]
#[template(path = "office_message.html")]
pub(crate) struct OfficeMessagePage {
    pub(crate) c: OfficeChrome,
    pub(crate) heading: String,
    pub(crate) paragraphs: Vec<String>,
    /// Where to go from here: (href, label).
    pub(crate) link: (&'static str, &'static str),
}

pub(crate) async fn enrol_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path(token): Path<String>,
) -> Response {
    let e = match s.app.staff_enrolment(&token).await {
        Ok(e) => e,
        Err(CoreError::NotFound(_)) => return used_link(ov, &s),
        Err(e) => return error_page(e),
    };
    let qr = match qr_svg(e.uri.expose()) {
        Ok(q) => q,
        Err(e) => return error_page(e),
    };
    let lang = ov.v.lang;
    let page = EnrolPage {
        c: ov.chrome(&s),
        action: format!("/office/enrol/{token}"),
        name: e.name,
        role: e.role.label(lang).to_owned(),
        expires: kst(e.expires_at),
        qr,
        secret: grouped(e.secret.expose()),
        rule: staff_password_rule(lang),
        bad_password: ov.v.flash.errors.iter().any(|e| e.field == "password"),
        bad_confirm: ov
            .v
            .flash
            .errors
            .iter()
            .any(|e| e.field == "password_confirm"),
        bad_code: ov.v.flash.errors.iter().any(|e| e.field == "code"),
        errors: ov
            .v
            .flash
            .errors
            .iter()
            .map(|e| (e.field.clone(), e.message(lang).to_owned()))
            .collect(),
    };
    ov.v.render(page)
}

pub(crate) async fn enrol_submit(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path(token): Path<String>,
    form: FormData,
) -> Response {
    let here = format!("/office/enrol/{token}");
    if !ov.v.csrf_ok(&form) {
        return csrf_failed(ov.v, &s, &here, &form).await;
    }
    let password = form.get("password");
    if password != form.get("password_confirm") {
        let (ko, en) = (T(Lang::Ko), T(Lang::En));
        let e = FieldError::new(
            "password_confirm",
            "password.confirm",
            ko.s("passwords_differ"),
            en.s("passwords_differ"),
        );
        return ov
            .v
            .back_to(&s, &here, &FormData::default(), vec![e], None)
            .await;
    }
    match s
        .app
        .enrol_staff(
            &token,
            &Revealed::new(password.to_owned()),
            form.get("code"),
        )
        .await
    {
        Ok(codes) => {
            let page = RecoveryPage {
                c: ov.chrome(&s),
                codes: codes.iter().map(|c| c.expose().to_owned()).collect(),
            };
            let mut v = ov.v;
            v.jar = v.jar.remove(removal(&s, FORM_COOKIE));
            v.render(page)
        }
        Err(CoreError::Invalid(errors)) => {
            ov.v.back_to(&s, &here, &FormData::default(), errors, None)
                .await
        }
        Err(CoreError::NotFound(_)) => used_link(ov, &s),
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard

#[derive(Template)]
#[template(path = "office_home.html")]
pub(crate) struct OfficeHomePage {
    pub(crate) c: OfficeChrome,
    pub(crate) name: String,
    pub(crate) role: String,
    /// What this role may do, in the page's language.
    pub(crate) powers: Vec<&'static str>,
    pub(crate) manage_staff: bool,
    pub(crate) destructions: bool,
    /// Works requests (all, or those assigned).
    pub(crate) requests: bool,
    /// Reviews the access log.
    pub(crate) review: bool,
    /// Refunds orders (the site sells, and the role works every request).
    pub(crate) orders: bool,
    /// Delivers event prizes (the policy declares them, and the role reads members' data).
    pub(crate) prizes: bool,
    /// Provides to partners (the policy declares them, and the role works every request).
    pub(crate) partners: bool,
    /// Keeps processor records (the policy declares processors, and the role works every
    /// request).
    pub(crate) processors: bool,
    /// Sends advertising (a channel with both consents and a transport, and the role works
    /// every request).
    pub(crate) ads: bool,
    /// Keeps the breach register (the role works every request).
    pub(crate) breaches: bool,
    pub(crate) logged_in_at: String,
    pub(crate) idle_minutes: i64,
    pub(crate) notice: Option<String>,
    pub(crate) d: super::dashboard::Dashboard,
}

fn power_key(p: Power) -> &'static str {
    match p {
        Power::ManageStaff => "office_power_manage_staff",
        Power::AllRequests => "office_power_all_requests",
        Power::AssignedRequests => "office_power_assigned_requests",
        Power::MemberData => "office_power_member_data",
        Power::Holds => "office_power_holds",
        Power::Purge => "office_power_purge",
        Power::Destructions => "office_power_destructions",
        Power::AccessReview => "office_power_access_review",
    }
}

pub(crate) async fn office_home(State(s): State<AppState>, ov: OfficeVisit) -> Response {
    let (ov, st) = match ov.signed(&s).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = T(ov.v.lang);
    let d = match super::dashboard::Dashboard::of(&s, &st, ov.v.lang).await {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let page = OfficeHomePage {
        d,
        c: ov.chrome(&s),
        name: st.name.clone(),
        role: st.role.label(ov.v.lang).to_owned(),
        powers: Power::ALL
            .into_iter()
            .filter(|p| st.role.can(*p))
            .map(|p| t.s(power_key(p)))
            .collect(),
        manage_staff: st.role.can(Power::ManageStaff),
        destructions: st.role.can(Power::Destructions),
        requests: st.role.can(Power::AssignedRequests),
        review: st.role.can(Power::AccessReview),
        orders: s.app.payments().is_some() && st.role.can(Power::AllRequests),
        prizes: s.app.runs_prizes() && st.role.can(Power::MemberData),
        partners: super::partners::runs(&s) && st.role.can(Power::AllRequests),
        processors: super::processors::runs(&s) && st.role.can(Power::AllRequests),
        ads: super::ads::runs(&s) && st.role.can(Power::AllRequests),
        breaches: st.role.can(Power::AllRequests),
        logged_in_at: kst(st.created_at),
        idle_minutes: s.app.settings().staff_idle.num_minutes(),
        notice: ov.v.notice(),
    };
    ov.v.render(page)
}

// ---------------------------------------------------------------------------------------------
// Staff management (officer)

#[derive(Template)]
#[template(path = "office_staff.html")]
pub(crate) struct StaffPage {
    pub(crate) c: OfficeChrome,
    pub(crate) me: String,
    /// (name, role code, role label, state)
    pub(crate) accounts: Vec<(String, &'static str, &'static str, String, bool)>,
    /// (when, name, change, role label, by)
    pub(crate) grants: Vec<(String, String, String, String, String)>,
    pub(crate) roles: Vec<(&'static str, &'static str)>,
    pub(crate) name: String,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) notice: Option<String>,
    /// A new enrolment link, shown once, right after it was made.
    pub(crate) link: Option<String>,
}

async fn staff_page_for(
    s: &AppState,
    ov: OfficeVisit,
    st: &StaffSession,
    link: Option<String>,
) -> Response {
    let lang = ov.v.lang;
    let t = T(lang);
    let accounts = match s.app.staff_accounts().await {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    let grants = match s.app.staff_grants().await {
        Ok(g) => g,
        Err(e) => return error_page(e),
    };
    let role_label = |code: &str| {
        Role::parse(code)
            .map(|r| r.label(lang).to_owned())
            .unwrap_or_else(|| code.to_owned())
    };
    let page = StaffPage {
        c: ov.chrome(s),
        me: st.name.clone(),
        accounts: accounts
            .into_iter()
            .map(|a| {
                let state = match (a.disabled_at, a.enrolled_at) {
                    (Some(at), _) => format!("{} {}", t.s("office_state_revoked"), kst(at)),
                    (None, Some(at)) => {
                        format!("{} {}", t.s("office_state_enrolled"), kst(at))
                    }
                    (None, None) => t.s("office_state_waiting").to_owned(),
                };
                let active = a.disabled_at.is_none();
                (a.name, a.role.name(), a.role.label(lang), state, active)
            })
            .collect(),
        grants: grants
            .into_iter()
            .rev()
            .map(|g| {
                let change = match g.change.as_str() {
                    "grant" => t.s("office_change_grant"),
                    "role" => t.s("office_change_role"),
                    "reset" => t.s("office_change_reset"),
                    "revoke" => t.s("office_change_revoke"),
                    _ => "",
                };
                let by = match g.actor.strip_prefix("staff:") {
                    Some(name) => name.to_owned(),
                    None if g.actor == "cli" => t.s("office_by_cli").to_owned(),
                    None => g.actor.clone(),
                };
                (
                    kst(g.at),
                    g.name,
                    change.to_owned(),
                    role_label(&g.role),
                    by,
                )
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| (r.name(), r.label(lang)))
            .collect(),
        name: ov.v.flash.get("name").to_owned(),
        errors: ov
            .v
            .flash
            .errors
            .iter()
            .map(|e| (e.field.clone(), e.message(lang).to_owned()))
            .collect(),
        notice: ov.v.notice(),
        link,
    };
    ov.v.render(page)
}

/// The enrolment link of a token on the site's address (the policy's website), as the command
/// line prints it.
fn enrol_link(s: &AppState, token: &Revealed) -> String {
    format!(
        "{}/office/enrol/{}",
        s.app.policy().operator.website.trim_end_matches('/'),
        token.expose()
    )
}

#[derive(Template)]
#[template(path = "office_confirm.html")]
pub(crate) struct ConfirmRevokePage {
    pub(crate) c: OfficeChrome,
    pub(crate) action: String,
    pub(crate) question: String,
}

/// The console's answer to a role that may not open a page: 403 with the reason.
pub(crate) fn forbidden(ov: OfficeVisit, s: &AppState) -> Response {
    let texts = ["office_forbidden_title", "office_forbidden_body"];
    office_message(
        ov,
        s,
        StatusCode::FORBIDDEN,
        texts,
        ("/office", "office_home"),
    )
}

pub(crate) async fn staff_page(State(s): State<AppState>, ov: OfficeVisit) -> Response {
    let (ov, st) = match ov.signed(&s).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if st.require(Power::ManageStaff).is_err() {
        return forbidden(ov, &s);
    }
    staff_page_for(&s, ov, &st, None).await
}

pub(crate) async fn staff_add(
    State(s): State<AppState>,
    ov: OfficeVisit,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, "/office/staff").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(role) = Role::parse(form.get("role")) else {
        let e = FieldError::new(
            "role",
            "staff.role",
            T(Lang::Ko).s("office_role_needed"),
            T(Lang::En).s("office_role_needed"),
        );
        return ov
            .v
            .back_to(&s, "/office/staff", &form, vec![e], None)
            .await;
    };
    match s.app.add_staff(&st.actor(), form.get("name"), role).await {
        Ok(token) => {
            let link = enrol_link(&s, &token);
            let mut ov = ov;
            ov.v.jar = ov.v.jar.remove(removal(&s, FORM_COOKIE));
            staff_page_for(&s, ov, &st, Some(link)).await
        }
        Err(CoreError::Invalid(errors)) => {
            ov.v.back_to(&s, "/office/staff", &form, errors, None).await
        }
        Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
        Err(e) => error_page(e),
    }
}

pub(crate) async fn staff_change(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path((name, what)): Path<(String, String)>,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, "/office/staff").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let actor = st.actor();
    if what == "reset" {
        return match s.app.reset_staff(&actor, &name).await {
            Ok(token) => {
                let link = enrol_link(&s, &token);
                staff_page_for(&s, ov, &st, Some(link)).await
            }
            Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
            Err(CoreError::Conflict(_)) => {
                let t = (T(Lang::Ko), T(Lang::En));
                let (ko, en) = (
                    t.0.s("office_not_own_account"),
                    t.1.s("office_not_own_account"),
                );
                ov.v.notice_to(&s, "/office/staff", ko, en).await
            }
            Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
            Err(e) => error_page(e),
        };
    }
    let (done, ko, en) = match what.as_str() {
        "role" => match Role::parse(form.get("role")) {
            Some(role) => (
                s.app.set_staff_role(&actor, &name, role).await,
                T(Lang::Ko).s("office_role_changed"),
                T(Lang::En).s("office_role_changed"),
            ),
            None => return not_found_page(&s, ov.v.lang),
        },
        // Revoking cannot be undone (the name stays taken): the first POST asks again.
        "revoke" if form.get("confirm") != "yes" => {
            if st.require(Power::ManageStaff).is_err() {
                return forbidden(ov, &s);
            }
            let page = ConfirmRevokePage {
                c: ov.chrome(&s),
                action: format!("/office/staff/{name}/revoke"),
                question: T(ov.v.lang)
                    .s("office_revoke_confirm")
                    .replace("{name}", &name),
            };
            return ov.v.render(page);
        }
        "revoke" => (
            s.app.disable_staff(&actor, &name).await,
            T(Lang::Ko).s("office_revoked"),
            T(Lang::En).s("office_revoked"),
        ),
        _ => return not_found_page(&s, ov.v.lang),
    };
    match done {
        Ok(()) => {
            let ko = ko.replace("{name}", &name);
            let en = en.replace("{name}", &name);
            ov.v.notice_to(&s, "/office/staff", &ko, &en).await
        }
        Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
        Err(CoreError::Conflict(_)) => {
            let (ko, en) = (
                T(Lang::Ko).s("office_not_own_account"),
                T(Lang::En).s("office_not_own_account"),
            );
            ov.v.notice_to(&s, "/office/staff", ko, en).await
        }
        Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------------------------------------
// The destruction report and the retention store (with legal holds)

/// Records a staff view or action in the access log (the audit chain), with the client's
/// address, as the office API does.
async fn log_access(
    s: &AppState,
    st: &StaffSession,
    origin: Option<std::net::IpAddr>,
    action: &str,
) -> Result<(), Response> {
    s.app
        .audit_office_access(
            &st.actor(),
            origin.map(|ip| ip.to_string()),
            action,
            serde_json::Value::Null,
        )
        .await
        .map_err(error_page)
}

#[derive(Template)]
#[template(path = "office_destructions.html")]
pub(crate) struct DestructionsPage {
    pub(crate) c: OfficeChrome,
    /// (when, event, class, period, count, method, by)
    pub(crate) rows: Vec<[String; 7]>,
}

/// A retention class's label in the page's language (its id if the policy no longer has it).
fn class_label(s: &AppState, class: &str, lang: Lang) -> String {
    s.app
        .policy()
        .retention
        .iter()
        .find(|r| r.id == class)
        .map(|r| r.label.get(lang).to_owned())
        .unwrap_or_else(|| class.to_owned())
}

/// A destruction record's period as people read it: `until_withdrawal`, or the class's period
/// with the expiry days its run destroyed (`5y, expired 2031-12-02..2031-12-09`).
fn period_label(period: &str, t: T) -> String {
    match period {
        "until_withdrawal" => t.s("office_period_until_withdrawal").to_owned(),
        "expired" => t.s("office_period_expired").to_owned(),
        other => other.replace("expired", t.s("office_period_expired")),
    }
}

/// Who did it, as the console shows it: a staff name, the operator, or jikimi itself.
pub(crate) fn actor_label(actor: &str, t: T) -> String {
    match actor {
        "cli" => t.s("office_by_cli").to_owned(),
        "system" => t.s("office_by_system").to_owned(),
        other => other
            .strip_prefix("staff:")
            .or_else(|| {
                other
                    .strip_prefix("member:")
                    .map(|_| t.s("office_by_member"))
            })
            .unwrap_or(other)
            .to_owned(),
    }
}

pub(crate) async fn destructions_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    let (ov, _) = match ov
        .viewing(&s, Power::Destructions, client, "office.destructions.list")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let records = match s.app.destruction_records().await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let lang = ov.v.lang;
    let t = T(lang);
    let rows = records
        .into_iter()
        .rev()
        .map(|d| {
            let event = match d.event.as_str() {
                "withdrawal" => t.s("office_event_withdrawal"),
                "purge" => t.s("office_event_purge"),
                "consent_withdrawal" => t.s("office_event_consent_withdrawal"),
                _ => d.event.as_str(),
            }
            .to_owned();
            let method = match d.method.as_str() {
                "key_destruction" => t.s("office_method_key"),
                "deletion" => t.s("office_method_deletion"),
                _ => d.method.as_str(),
            }
            .to_owned();
            [
                kst(d.at),
                event,
                class_label(&s, &d.class, lang),
                period_label(&d.period, t),
                d.count.to_string(),
                method,
                actor_label(&d.actor, t),
            ]
        })
        .collect();
    let page = DestructionsPage {
        c: ov.chrome(&s),
        rows,
    };
    ov.v.render(page)
}

#[derive(Template)]
#[template(path = "office_retained.html")]
pub(crate) struct RetainedPage {
    pub(crate) c: OfficeChrome,
    /// (id, class label, kept through, hold: (reason, by, since) if any)
    pub(crate) rows: Vec<(String, String, String, Option<HoldView>)>,
    pub(crate) holds: bool,
    /// The next page's query, when there may be more.
    pub(crate) next: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) notice: Option<String>,
}

/// A legal hold as the page shows it: (reason, by, since).
pub(crate) type HoldView = (String, String, String);

/// How many kept records a page lists.
const RETAINED_PAGE: i64 = 50;

#[derive(Debug, Deserialize)]
pub(crate) struct RetainedQuery {
    after_day: Option<chrono::NaiveDate>,
    after_id: Option<uuid::Uuid>,
}

pub(crate) async fn retained_office_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
    Query(q): Query<RetainedQuery>,
) -> Response {
    let (ov, st) = match ov
        .viewing(&s, Power::Destructions, client, "office.retained.list")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let metas = match s
        .app
        .retained_records(q.after_day.zip(q.after_id), RETAINED_PAGE)
        .await
    {
        Ok(m) => m,
        Err(e) => return error_page(e),
    };
    let lang = ov.v.lang;
    let t = T(lang);
    let next = (metas.len() as i64 == RETAINED_PAGE)
        .then(|| metas.last())
        .flatten()
        .map(|m| format!("?after_day={}&after_id={}", m.expires_on, m.id));
    let rows = metas
        .into_iter()
        .map(|m| {
            let hold = m.hold_reason.map(|reason| {
                (
                    reason,
                    m.held_by
                        .as_deref()
                        .map(|a| actor_label(a, t))
                        .unwrap_or_default(),
                    m.held_at.map(kst).unwrap_or_default(),
                )
            });
            (
                m.id.to_string(),
                class_label(&s, &m.class, lang),
                m.expires_on.to_string(),
                hold,
            )
        })
        .collect();
    let page = RetainedPage {
        c: ov.chrome(&s),
        rows,
        holds: st.role.can(Power::Holds),
        next,
        errors: ov
            .v
            .flash
            .errors
            .iter()
            .map(|e| (e.field.clone(), e.message(lang).to_owned()))
            .collect(),
        notice: ov.v.notice(),
    };
    ov.v.render(page)
}

/// `POST /office/retained/{id}/hold` (with a reason) and `…/release`.
pub(crate) async fn retained_hold_change(
    State(s): State<AppState>,
    ov: OfficeVisit,
    Path((id, what)): Path<(uuid::Uuid, String)>,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, "/office/retained").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let actor = st.actor();
    let (done, ko, en) = match what.as_str() {
        "hold" => (
            s.app.hold_retained(&actor, id, form.get("reason")).await,
            T(Lang::Ko).s("office_held"),
            T(Lang::En).s("office_held"),
        ),
        "release" => (
            s.app.release_retained(&actor, id).await,
            T(Lang::Ko).s("office_released"),
            T(Lang::En).s("office_released"),
        ),
        _ => return not_found_page(&s, ov.v.lang),
    };
    match done {
        Ok(()) => ov.v.notice_to(&s, "/office/retained", ko, en).await,
        Err(CoreError::Invalid(errors)) => {
            // The error links to this record's reason field.
            let errors = errors
                .into_iter()
                .map(|mut e| {
                    if e.field == "reason" {
                        e.field = format!("reason-{id}");
                    }
                    e
                })
                .collect();
            ov.v.back_to(&s, "/office/retained", &FormData::default(), errors, None)
                .await
        }
        Err(CoreError::Forbidden(_)) => forbidden(ov, &s),
        Err(CoreError::NotFound(_)) => not_found_page(&s, ov.v.lang),
        Err(CoreError::Conflict(_)) => ov.v.redirect("/office/retained"),
        Err(e) => error_page(e),
    }
}
