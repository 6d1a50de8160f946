//! 개인정보수정: the member's data, corrections, password, consents, history, export.

use crate::page::*;

#[derive(Debug, Clone)]
pub struct ItemRow {
    pub id: String,
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct ConsentRow {
    pub id: String,
    pub title: String,
    pub granted: bool,
    pub at: String,
    /// The policy version's 시행일 (effective date), as members read a version.
    pub version_date: String,
    /// The version's hash, for the link to that version's text.
    pub version: String,
    pub withdrawable: bool,
}

#[derive(Template)]
#[template(path = "mypage.html")]
pub(crate) struct MyPage {
    pub(crate) c: Chrome,
    /// The site sells something: My page links to the orders.
    pub(crate) payments: bool,
    /// The site delivers prizes: My page links to the member's prizes.
    pub(crate) prizes: bool,
    /// Prizes won whose delivery details are not entered yet (the prompt).
    pub(crate) prizes_waiting: usize,
    pub(crate) items: Vec<ItemRow>,
    pub(crate) revealed: bool,
    pub(crate) consents: Vec<ConsentRow>,
    pub(crate) notice: Option<String>,
    /// A child member: that a guardian consented, when and how (issue 16).
    pub(crate) guardian: Option<String>,
    /// Who received the member's data (issue 17).
    pub(crate) recipients: Vec<RecipientRow>,
}

/// A delivery of the member's data to a partner, as My page shows it.
pub(crate) struct RecipientRow {
    pub(crate) partner: String,
    pub(crate) purposes: String,
    pub(crate) items: String,
    pub(crate) kind: &'static str,
    pub(crate) when: String,
    /// What the partner said: confirmed, awaited, or failed.
    pub(crate) received: &'static str,
}

/// Who received the member's data, in the page's language.
pub(crate) async fn recipient_rows(
    s: &AppState,
    member: uuid::Uuid,
    lang: Lang,
) -> Result<Vec<RecipientRow>, CoreError> {
    let policy = s.app.policy().clone();
    let t = T(lang);
    Ok(s.app
        .member_recipients(member)
        .await?
        .into_iter()
        .map(|r| {
            let partner = policy.partner(&r.partner);
            RecipientRow {
                partner: partner.map_or(r.partner.clone(), |p| p.name.get(lang).to_owned()),
                purposes: partner
                    .map(|p| {
                        p.purposes
                            .iter()
                            .filter_map(|id| policy.purpose(id))
                            .map(|x| x.label.get(lang).to_owned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
                items: r
                    .items
                    .iter()
                    .filter_map(|id| policy.item(id))
                    .map(|i| i.label.get(lang).to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                kind: t.s(if r.kind == jikimi_core::partners::CORRECTION {
                    "pt_correction"
                } else {
                    "pt_provision"
                }),
                when: kst(r.sent_at),
                received: t.s(match r.state.as_str() {
                    jikimi_core::partners::state::ACKNOWLEDGED => "rp_yes",
                    jikimi_core::partners::state::FAILED => "rp_failed",
                    _ => "rp_waiting",
                }),
            }
        })
        .collect())
}

#[derive(Debug, Deserialize)]
pub struct MyQuery {
    pub(crate) reveal: Option<String>,
}

/// The member's consents as rows, each with its policy version's effective date.
pub(crate) async fn consent_rows(
    s: &AppState,
    member: uuid::Uuid,
    lang: Lang,
) -> Result<Vec<ConsentRow>, CoreError> {
    let policy = s.app.policy().clone();
    let versions = s.app.policy_versions().await?;
    let state = s.app.consent_state(member).await?;
    Ok(state
        .into_iter()
        .filter_map(|c| {
            let cat = policy.consent(&c.category)?;
            let version = c.policy_version.unwrap_or_default();
            Some(ConsentRow {
                id: c.category.clone(),
                title: cat.title.get(lang).to_owned(),
                granted: c.granted,
                at: c.at.map(kst).unwrap_or_default(),
                version_date: version_label(s, &versions, &version),
                version,
                withdrawable: !cat.required,
            })
        })
        .collect())
}

pub(crate) async fn mypage(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Query(q): Query<MyQuery>,
) -> Response {
    let lang = v.lang;
    let member = si.member;
    let policy = s.app.policy().clone();
    let reveal = q.reveal.is_some();
    let values = if reveal {
        s.app.disclose_own(&si, Disclosure::Everything).await
    } else {
        s.app.view_masked(&Actor::Member(member), member).await
    };
    let values: BTreeMap<String, String> = match values {
        Ok(m) => m,
        Err(CoreError::ReauthRequired) => {
            return v.redirect("/mypage/reauth?next=/mypage?reveal=1");
        }
        Err(e) => return error_page(e),
    };
    let items = policy
        .items
        .iter()
        .filter_map(|i| {
            values.get(&i.id).map(|val| ItemRow {
                id: i.id.clone(),
                label: i.label.get(lang).to_owned(),
                value: val.clone(),
            })
        })
        .collect();
    let consents = page_try!(consent_rows(&s, member, lang).await);
    let prizes = s.app.runs_prizes();
    let prizes_waiting = if prizes {
        page_try!(s.app.prizes_awaiting(member).await)
    } else {
        0
    };
    let t = T(lang);
    let record = page_try!(s.app.member_guardian(member).await);
    // A member who joined as a child and is 14 now manages their own consents (issue 16).
    let now_own = record.is_some() && !page_try!(s.app.is_child_member(member).await);
    let guardian = record.map(|g| {
        use jikimi_core::guardians::GuardianMethod;
        let how = t.s(g.method.unwrap_or(GuardianMethod::SmsLink).label_key());
        let said = t
            .s("gd_my_page")
            .replace("{when}", &kst(g.consented_at))
            .replace("{method}", how);
        if now_own {
            format!("{said} {}", t.s("gd_now_14"))
        } else {
            said
        }
    });
    let recipients = page_try!(recipient_rows(&s, member, lang).await);
    let page = MyPage {
        c: v.chrome(&s),
        guardian,
        recipients,
        payments: s.app.payments().is_some(),
        prizes,
        prizes_waiting,
        items,
        revealed: reveal,
        consents,
        notice: v.notice(),
    };
    v.render(page)
}

#[derive(Template)]
#[template(path = "reauth.html")]
pub(crate) struct ReauthPage {
    pub(crate) c: Chrome,
    pub(crate) next: String,
    pub(crate) error: Option<String>,
}

pub(crate) async fn reauth_page(
    State(s): State<AppState>,
    Signed { v, .. }: Signed,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = ReauthPage {
        c: v.chrome(&s),
        next: safe_next(q.next.as_deref().unwrap_or("/mypage")),
        error: v.flash.errors.first().map(|e| e.message(v.lang).to_owned()),
    };
    v.render(page)
}

pub(crate) async fn reauth_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    let next = safe_next(form.get("next"));
    let here = format!(
        "/mypage/reauth?next={}",
        login_href(&next).trim_start_matches("/login?next=")
    );
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, &here, &form).await;
    }
    match s
        .app
        .reauthenticate_from(client, &si, &Revealed::new(form.get("password").to_owned()))
        .await
    {
        Ok(()) => v.redirect(&next),
        Err(CoreError::BadCredentials) => {
            let e = FieldError::new(
                "password",
                "password.wrong",
                T(Lang::Ko).s("password_wrong"),
                T(Lang::En).s("password_wrong"),
            );
            v.back_to(&s, &here, &form, vec![e], None).await
        }
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "edit.html")]
pub(crate) struct EditPage {
    pub(crate) c: Chrome,
    pub(crate) fields: Vec<Field>,
    pub(crate) errors: Vec<(String, String)>,
}

/// The input an item's error names on a form of items (`f-<item>`; a stale form token, none).
pub(crate) fn item_anchor(field: &str) -> String {
    match field {
        "csrf" => String::new(),
        f => format!("f-{f}"),
    }
}

/// The items a member may correct on the page (core's rule).
pub(crate) async fn editable(s: &AppState, member: uuid::Uuid) -> Result<Vec<Item>, CoreError> {
    s.app.correctable_items(member).await
}

pub(crate) async fn edit_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let fields = page_try!(edit_fields(&s, &v, &Actor::Member(si.member), si.member).await);
    let page = EditPage {
        c: v.chrome(&s),
        fields,
        errors: v.error_list_by(item_anchor),
    };
    v.render(page)
}

/// The correction form's fields for `member`, read as `actor` (the member, or the guardian of a
/// child): after an error what was typed, else what is stored.
pub(crate) async fn edit_fields(
    s: &AppState,
    v: &Visit,
    actor: &Actor,
    member: uuid::Uuid,
) -> Result<Vec<Field>, CoreError> {
    let items = editable(s, member).await?;
    let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let values = s.app.subject_items(actor, member, &ids).await?;
    let typed = v.flash.form();
    let after_error = !v.flash.errors.is_empty();
    let errors = &v.flash.errors;
    Ok(items
        .iter()
        .map(|i| {
            let val = if after_error {
                typed.get(&format!("item.{}", i.id)).to_owned()
            } else {
                values.get(&i.id).cloned().unwrap_or_default()
            };
            item_field(i, v.lang, &val, errors)
        })
        .collect())
}

pub(crate) async fn edit_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    form: FormData,
) -> Response {
    const HERE: &str = "/mypage/edit";
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let member = si.member;
    edit_apply(
        &s,
        v,
        &Actor::Member(member),
        member,
        &form,
        HERE,
        "/mypage",
    )
    .await
}

/// A correction form sent by `actor` for `member`: only what changed is corrected (and audited);
/// the answer goes on to `done` with a notice, or back to `here` with the errors by item.
pub(crate) async fn edit_apply(
    s: &AppState,
    v: Visit,
    actor: &Actor,
    member: uuid::Uuid,
    form: &FormData,
    here: &str,
    done: &str,
) -> Response {
    let items = page_try!(editable(s, member).await);
    let submitted = form.prefixed("item.");
    let current_ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let current = page_try!(s.app.subject_items(actor, member, &current_ids).await);
    let mut changes: BTreeMap<String, Option<Revealed>> = BTreeMap::new();
    for i in &items {
        let new = submitted
            .get(&i.id)
            .map(|x| x.trim().to_owned())
            .unwrap_or_default();
        let old = current.get(&i.id).cloned().unwrap_or_default();
        if new != old {
            changes.insert(
                i.id.clone(),
                if new.is_empty() {
                    None
                } else {
                    Some(Revealed::new(new))
                },
            );
        }
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    if changes.is_empty() {
        return v
            .notice_to(s, done, ko.s("nothing_changed"), en.s("nothing_changed"))
            .await;
    }
    match s.app.correct(actor, member, changes).await {
        Ok(()) => v.notice_to(s, done, ko.s("saved"), en.s("saved")).await,
        Err(CoreError::Invalid(errors)) => v.back_to(s, here, form, errors, None).await,
        Err(CoreError::AlreadyMember { field, .. }) => {
            // Another account holds the same value: named by the item's label, never its id.
            let label = s.app.policy().item(&field).map(|i| i.label.clone());
            let (l_ko, l_en) = label.map(|l| (l.ko, l.en)).unwrap_or_default();
            let err = FieldError::new(
                &field,
                "already_member",
                format!("{l_ko}: {}", ko.s("already_used")),
                format!("{l_en}: {}", en.s("already_used")),
            );
            v.back_to(s, here, form, vec![err], None).await
        }
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "password.html")]
pub(crate) struct PasswordPage {
    pub(crate) c: Chrome,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) current_invalid: bool,
    pub(crate) new_invalid: bool,
}

pub(crate) async fn password_page(State(s): State<AppState>, Signed { v, .. }: Signed) -> Response {
    let lang = v.lang;
    let errors = v
        .flash
        .errors
        .iter()
        .map(|e| {
            let anchor = if e.field == "csrf" { "" } else { &e.field };
            (anchor.to_owned(), e.message(lang).to_owned())
        })
        .collect();
    let invalid = |f: &str| v.flash.errors.iter().any(|e| e.field == f);
    let page = PasswordPage {
        current_invalid: invalid("current_password"),
        new_invalid: invalid("new_password"),
        c: v.chrome(&s),
        errors,
    };
    v.render(page)
}

pub(crate) async fn password_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    ClientAddr(client): ClientAddr,
    form: FormData,
) -> Response {
    const HERE: &str = "/mypage/password";
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, HERE, &form).await;
    }
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    let errors = if form.get("new_password") != form.get("new_password_confirm") {
        vec![FieldError::new(
            "new_password",
            "password.confirm",
            ko.s("passwords_differ"),
            en.s("passwords_differ"),
        )]
    } else {
        match s
            .app
            .change_password_from(
                client,
                &si,
                &Revealed::new(form.get("current_password").to_owned()),
                &Revealed::new(form.get("new_password").to_owned()),
            )
            .await
        {
            Ok(_) => {
                return v
                    .notice_to(
                        &s,
                        "/mypage",
                        ko.s("password_changed"),
                        en.s("password_changed"),
                    )
                    .await;
            }
            Err(CoreError::Invalid(e)) => e
                .into_iter()
                .map(|mut e| {
                    if e.field == "password" {
                        e.field = "new_password".into();
                    }
                    e
                })
                .collect(),
            Err(e) => return error_page(e),
        }
    };
    v.back_to(&s, HERE, &form, errors, None).await
}

// ---------------------------------------------------------------------------------------------
// Consents

#[derive(Template)]
#[template(path = "consent.html")]
pub(crate) struct ConsentPage {
    pub(crate) c: Chrome,
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) granted: bool,
    /// Given to a partner whose facts changed since: asked again.
    pub(crate) outdated: bool,
    pub(crate) block: ConsentBlock,
    /// What withdrawing deletes now: the labels of the items held under this consent.
    pub(crate) deletes: Vec<String>,
    pub(crate) error: Option<String>,
}

/// The labels of the items this member holds under `category`'s consent.
pub(crate) async fn held_under(
    s: &AppState,
    member: uuid::Uuid,
    category: &str,
    lang: Lang,
) -> Result<Vec<String>, CoreError> {
    let policy = s.app.policy().clone();
    let held = s.app.held_item_ids(member).await?;
    Ok(policy
        .items_for_consent(category)
        .iter()
        .filter(|i| i.basis == LegalBasis::Consent && held.contains(&i.id))
        .map(|i| i.label.get(lang).to_owned())
        .collect())
}

/// One consent: what it is for, its state, and what withdrawing it deletes — asked before
/// anything is deleted.
pub(crate) async fn consent_page(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Path(category): Path<String>,
) -> Response {
    let lang = v.lang;
    let policy = s.app.policy().clone();
    let Some(cat) = policy.consent(&category).filter(|c| !c.required) else {
        return not_found_page(&s, lang);
    };
    let granted = match s.app.consent_state(si.member).await {
        Ok(st) => st.iter().any(|c| c.category == category && c.granted),
        Err(e) => return error_page(e),
    };
    let outdated = page_try!(s.app.consent_outdated(si.member, &category).await);
    let deletes = page_try!(held_under(&s, si.member, &category, lang).await);
    let Some(block) = consent_blocks(&s, lang, &[])
        .into_iter()
        .find(|b| b.id == category)
    else {
        return not_found_page(&s, lang);
    };
    let page = ConsentPage {
        c: v.chrome(&s),
        id: category.clone(),
        title: cat.title.get(lang).to_owned(),
        granted,
        outdated,
        block,
        deletes,
        error: v.flash.errors.first().map(|e| e.message(lang).to_owned()),
    };
    v.render(page)
}

pub(crate) async fn consent_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Path(category): Path<String>,
    form: FormData,
) -> Response {
    let lang = v.lang;
    let here = format!("/mypage/consents/{category}");
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, &here, &form).await;
    }
    let policy = s.app.policy().clone();
    let Some(cat) = policy.consent(&category).cloned() else {
        return not_found_page(&s, lang);
    };
    let granted = form.get("granted") == "yes";
    // Withdrawing a consent that deletes items is confirmed first, on its own page.
    if !granted && form.get("confirm") != "yes" {
        match held_under(&s, si.member, &category, lang).await {
            Ok(d) if !d.is_empty() => return v.redirect(&here),
            Ok(_) => {}
            Err(e) => return error_page(e),
        }
    }
    // What withdrawing deletes, named in both languages for the notice after the redirect.
    let deleted: Vec<(String, String)> = if granted {
        vec![]
    } else {
        match (
            held_under(&s, si.member, &category, Lang::Ko).await,
            held_under(&s, si.member, &category, Lang::En).await,
        ) {
            (Ok(k), Ok(e)) => k.into_iter().zip(e).collect(),
            (Err(e), _) | (_, Err(e)) => return error_page(e),
        }
    };
    match s
        .app
        .set_consent(
            &Actor::Member(si.member),
            si.member,
            &category,
            granted,
            "web",
        )
        .await
    {
        Ok(()) => {
            let today = s.app.clock().today_kst().to_string();
            let (ko, en) = consent_result(&policy, &cat, granted, &today, &deleted);
            v.notice_to(&s, "/mypage#consents", &ko, &en).await
        }
        Err(CoreError::Invalid(e)) => v.back_to(&s, &here, &form, e, None).await,
        Err(CoreError::ChildNeedsGuardian { .. }) => {
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            v.notice_to(
                &s,
                "/mypage#consents",
                ko.s("gd_child_consent"),
                en.s("gd_child_consent"),
            )
            .await
        }
        Err(e) => error_page(e),
    }
}

/// What a consent change did, in both languages. For consents to receive advertising, the
/// 처리결과 the law asks to be told: sender, date, result (정보통신망법 Art. 50(7)).
pub(crate) fn consent_result(
    policy: &jikimi_policy::Policy,
    cat: &jikimi_policy::ConsentCategory,
    granted: bool,
    today: &str,
    deleted: &[(String, String)],
) -> (String, String) {
    let sender = (
        policy.operator.name.ko.clone(),
        policy.operator.name.en.clone(),
    );
    let (state_ko, state_en) = if granted {
        ("동의", "given")
    } else {
        ("철회", "withdrawn")
    };
    let mut ko = format!("「{}」 {state_ko}를 처리했습니다.", cat.title.ko);
    let mut en = format!("The consent “{}” is {state_en}.", cat.title.en);
    if cat.kind == ConsentKind::AdReception {
        let (r_ko, r_en) = if granted {
            ("수신 동의", "consent to receive")
        } else {
            ("수신 거부", "refusal to receive")
        };
        ko.push_str(&format!(
            " 처리결과 안내 — 전송자: {}, 처리일: {today}, 처리결과: {r_ko}.",
            sender.0
        ));
        en.push_str(&format!(
            " Result — sender: {}, date: {today}, result: {r_en}.",
            sender.1
        ));
    }
    if !deleted.is_empty() {
        let (k, e): (Vec<&str>, Vec<&str>) = deleted
            .iter()
            .map(|(k, e)| (k.as_str(), e.as_str()))
            .unzip();
        ko.push_str(&format!(" 삭제한 항목: {}.", k.join(", ")));
        en.push_str(&format!(" Deleted: {}.", e.join(", ")));
    }
    (ko, en)
}

// ---------------------------------------------------------------------------------------------
// History, export, print

/// A consent event as the history lists it.
pub struct HistoryRow {
    pub at: String,
    pub title: String,
    pub granted: bool,
    pub version_date: String,
    pub version: String,
    pub channel: String,
}

#[derive(Template)]
#[template(path = "history.html")]
pub(crate) struct HistoryPage {
    pub(crate) c: Chrome,
    pub(crate) rows: Vec<HistoryRow>,
}

/// Where a consent decision was made, as a member reads it.
pub(crate) fn channel_label(channel: &str, t: T) -> String {
    match channel {
        "web" => t.s("channel_web").to_owned(),
        "api" => t.s("channel_api").to_owned(),
        other => other.to_owned(),
    }
}

pub(crate) async fn history_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    let events = page_try!(s.app.consent_history(si.member).await);
    let versions = page_try!(s.app.policy_versions().await);
    let policy = s.app.policy().clone();
    let rows = events
        .into_iter()
        .rev()
        .map(|e| HistoryRow {
            at: kst(e.at),
            title: policy
                .consent(&e.category)
                .map(|c| c.title.get(lang).to_owned())
                .unwrap_or(e.category),
            granted: e.granted,
            version_date: version_label(&s, &versions, &e.policy_version),
            version: e.policy_version,
            channel: channel_label(&e.channel, T(lang)),
        })
        .collect();
    let page = HistoryPage {
        c: v.chrome(&s),
        rows,
    };
    v.render(page)
}

pub(crate) async fn export_json(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    match s.app.export_own(&si).await {
        Ok(data) => {
            let mut res = axum::Json(data).into_response();
            res.headers_mut().insert(
                axum::http::header::CONTENT_DISPOSITION,
                axum::http::HeaderValue::from_static(
                    "attachment; filename=\"jikimi-my-data.json\"",
                ),
            );
            res
        }
        Err(CoreError::ReauthRequired) => v.redirect("/mypage/reauth?next=/mypage/export.json"),
        Err(e) => error_page(e),
    }
}

#[derive(Template)]
#[template(path = "print.html")]
pub(crate) struct PrintPage {
    pub(crate) c: Chrome,
    pub(crate) login_id: String,
    pub(crate) since: String,
    pub(crate) items: Vec<ItemRow>,
    pub(crate) consents: Vec<ConsentRow>,
    pub(crate) printed_at: String,
}

pub(crate) async fn print_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    let data = match s.app.export_own(&si).await {
        Ok(d) => d,
        Err(CoreError::ReauthRequired) => return v.redirect("/mypage/reauth?next=/mypage/print"),
        Err(e) => return error_page(e),
    };
    let consents = page_try!(consent_rows(&s, si.member, lang).await);
    let policy = s.app.policy().clone();
    let items = policy
        .items
        .iter()
        .filter_map(|i| {
            data.items.get(&i.id).map(|val| ItemRow {
                id: i.id.clone(),
                label: i.label.get(lang).to_owned(),
                value: val.clone(),
            })
        })
        .collect();
    let page = PrintPage {
        c: v.chrome(&s),
        login_id: data.login_id.clone().unwrap_or_default(),
        since: kst(data.member_since),
        items,
        consents,
        printed_at: kst(s.app.clock().now()),
    };
    v.render(page)
}
