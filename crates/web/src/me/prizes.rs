//! 이벤트 경품 (S3): a winner's prizes (`/mypage/prizes`) and the delivery items form
//! (`/mypage/prizes/{id}`). The items are the policy's prize items, asked for only here, only of a
//! winner, and kept sealed under the entry's own key (`Jikimi::enter_prize`).

use jikimi_core::prizes::{PRIZE_CLASS, PrizeEventRow, PrizeWinnerRow, state};

use crate::page::*;

const HERE: &str = "/mypage/prizes";

/// One prize as the winner reads it.
#[derive(Debug, Clone)]
pub(crate) struct PrizeView {
    pub(crate) id: String,
    pub(crate) event: String,
    pub(crate) prize: String,
    pub(crate) state: &'static str,
    /// The delivery items can be entered or changed.
    pub(crate) open: bool,
    /// Entered already (the link says "change").
    pub(crate) entered: bool,
    /// What happens next, or what happened.
    pub(crate) note: String,
}

#[derive(Template)]
#[template(path = "prizes.html")]
pub(crate) struct PrizesPage {
    pub(crate) c: Chrome,
    pub(crate) prizes: Vec<PrizeView>,
    pub(crate) notice: Option<String>,
}

/// The i18n key of an entry's state.
pub(crate) fn state_key(s: &str) -> &'static str {
    match s {
        state::AWAITING => "pz_awaiting",
        state::ENTERED => "pz_entered",
        state::DELIVERED => "pz_delivered",
        state::DESTROYED => "pz_destroyed",
        state::WITHDRAWN => "pz_withdrawn",
        _ => "od_unknown",
    }
}

/// How long the items are kept after delivery, from the policy's class.
pub(crate) fn kept(s: &AppState, lang: Lang) -> String {
    s.app
        .policy()
        .retention_class(PRIZE_CLASS)
        .map(|c| c.period.describe(lang))
        .unwrap_or_default()
}

fn view(w: &PrizeWinnerRow, e: &PrizeEventRow, lang: Lang) -> PrizeView {
    let t = T(lang);
    let note = match w.state.as_str() {
        state::AWAITING => t.s("pz_note_awaiting").to_owned(),
        state::ENTERED => t.s("pz_note_entered").to_owned(),
        state::DELIVERED => t
            .s("pz_note_delivered")
            .replace("{at}", &w.delivered_at.map(kst).unwrap_or_default())
            .replace(
                "{until}",
                &w.expires_on.map(|d| d.to_string()).unwrap_or_default(),
            ),
        state::DESTROYED => t.s("pz_note_destroyed").to_owned(),
        _ => String::new(),
    };
    PrizeView {
        id: w.id.to_string(),
        event: e.title.clone(),
        prize: e.prize.clone(),
        state: t.s(state_key(&w.state)),
        open: w.state == state::AWAITING || w.state == state::ENTERED,
        entered: w.state == state::ENTERED,
        note,
    }
}

pub(crate) async fn prizes_page(State(s): State<AppState>, Signed { v, si }: Signed) -> Response {
    let lang = v.lang;
    if !s.app.runs_prizes() {
        return not_found_page(&s, lang);
    }
    let prizes = page_try!(s.app.member_prizes(si.member).await);
    let page = PrizesPage {
        c: v.chrome(&s),
        prizes: prizes.iter().map(|(w, e)| view(w, e, lang)).collect(),
        notice: v.notice(),
    };
    v.render(page)
}

#[derive(Template)]
#[template(path = "prize_entry.html")]
pub(crate) struct PrizeEntryPage {
    pub(crate) c: Chrome,
    pub(crate) id: String,
    pub(crate) event: String,
    pub(crate) prize: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) errors: Vec<(String, String)>,
    /// What is asked, why, for how long, and what refusing means (R-CON: notice before
    /// collection).
    pub(crate) notice_items: String,
    pub(crate) kept: String,
}

/// The winner's entry of `id`, with its event, or the page to show instead.
async fn own(
    s: &AppState,
    v: &Visit,
    member: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<(PrizeWinnerRow, PrizeEventRow), Response> {
    if !s.app.runs_prizes() {
        return Err(not_found_page(s, v.lang));
    }
    match s.app.member_prizes(member).await {
        Ok(all) => all
            .into_iter()
            .find(|(w, _)| w.id == id)
            .ok_or_else(|| not_found_page(s, v.lang)),
        Err(e) => Err(error_page(e)),
    }
}

pub(crate) async fn entry_page(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    let lang = v.lang;
    let (w, e) = match own(&s, &v, si.member, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if w.state != state::AWAITING && w.state != state::ENTERED {
        return v.redirect(HERE);
    }
    let items = s.app.prize_items();
    let typed = v.flash.form();
    let after_error = !v.flash.errors.is_empty();
    let errors = v.flash.errors.clone();
    let stored = if after_error {
        BTreeMap::new()
    } else {
        page_try!(s.app.own_prize_entry(si.member, id).await)
    };
    let fields = items
        .iter()
        .map(|i| {
            let val = if after_error {
                typed.get(&format!("item.{}", i.id)).to_owned()
            } else {
                stored
                    .get(&i.id)
                    .map(|x| jikimi_core::validate::display(i.kind, x))
                    .unwrap_or_default()
            };
            item_field(i, lang, &val, &errors)
        })
        .collect();
    let labels: Vec<&str> = items.iter().map(|i| i.label.get(lang)).collect();
    let page = PrizeEntryPage {
        c: v.chrome(&s),
        id: id.to_string(),
        event: e.title,
        prize: e.prize,
        fields,
        errors: v.error_list_by(item_anchor),
        notice_items: labels.join(", "),
        kept: kept(&s, lang),
    };
    let mut r = v.render(page);
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

pub(crate) async fn entry_submit(
    State(s): State<AppState>,
    Signed { v, si }: Signed,
    Path(id): Path<uuid::Uuid>,
    form: FormData,
) -> Response {
    let here = format!("{HERE}/{id}");
    if !v.csrf_ok(&form) {
        return csrf_failed(v, &s, &here, &form).await;
    }
    // Core refuses another member's entry, or a site without prizes, as not found.
    let given: BTreeMap<String, Revealed> = form
        .prefixed("item.")
        .into_iter()
        .map(|(k, v)| (k, Revealed::new(v)))
        .collect();
    let (ko, en) = (T(Lang::Ko), T(Lang::En));
    match s.app.enter_prize(si.member, id, &given).await {
        Ok(()) => {
            v.notice_to(&s, HERE, ko.s("pz_saved"), en.s("pz_saved"))
                .await
        }
        Err(CoreError::Invalid(errors)) => v.back_to(&s, &here, &form, errors, None).await,
        Err(CoreError::Conflict(_)) => {
            v.notice_to(&s, HERE, ko.s("pz_closed"), en.s("pz_closed"))
                .await
        }
        Err(CoreError::NotFound(_)) => not_found_page(&s, v.lang),
        Err(e) => error_page(e),
    }
}
