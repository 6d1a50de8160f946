//! Advertising campaigns in the privacy office (`/office/ads`, issue 17; R-MKT-01..03). The
//! officer or a manager sees how many members each channel may reach now (both consents in
//! force), writes a message and sends it: it goes only to those members, never between 21:00
//! and 08:00 KST (made then, it starts at 08:00), marked "(광고)" with the sender, its contact
//! and a refusal that works without logging in. The list shows each campaign with how many
//! members it went to.

use jikimi_core::campaigns::channel;
use jikimi_core::staff::Power;
use jikimi_policy::Channel;

use crate::office::page::{OfficeChrome, OfficeVisit};
use crate::page::*;

const HERE: &str = "/office/ads";

#[derive(Template)]
#[template(path = "office_ads.html")]
pub(crate) struct OfficeAdsPage {
    pub(crate) c: OfficeChrome,
    /// (channel id, label, members reachable now)
    pub(crate) channels: Vec<(&'static str, &'static str, usize)>,
    /// (made, channel label, subject or the message's start, starts at, members)
    pub(crate) campaigns: Vec<(String, &'static str, String, String, i64)>,
    pub(crate) notice: Option<String>,
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) form: FormData,
}

fn label(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "ad_sms",
        _ => "ad_email",
    }
}

fn id(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "sms",
        _ => "email",
    }
}

pub(crate) fn runs(s: &AppState) -> bool {
    !s.app.ad_channels().is_empty()
}

pub(crate) async fn ads_page(
    State(s): State<AppState>,
    ov: OfficeVisit,
    ClientAddr(client): ClientAddr,
) -> Response {
    if !runs(&s) {
        return not_found_page(&s, ov.v.lang);
    }
    let (ov, _st) = match ov
        .viewing(&s, Power::AllRequests, client, "office.ads.view")
        .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = T(ov.v.lang);
    let mut channels = Vec::new();
    for c in s.app.ad_channels() {
        let n = match s.app.ad_reach(c).await {
            Ok(n) => n,
            Err(e) => return error_page(e),
        };
        channels.push((id(c), t.s(label(c)), n));
    }
    let campaigns = match s.app.ad_campaigns().await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let page = OfficeAdsPage {
        c: ov.chrome(&s),
        channels,
        campaigns: campaigns
            .into_iter()
            .map(|(r, n)| {
                let what = if r.subject.is_empty() {
                    r.body.chars().take(40).collect()
                } else {
                    r.subject.clone()
                };
                (
                    kst(r.created_at),
                    t.s(label(channel(&r.channel).unwrap_or(Channel::Email))),
                    what,
                    kst(r.send_at),
                    n,
                )
            })
            .collect(),
        notice: ov.v.notice(),
        errors: ov.v.error_list(),
        form: ov.v.flash.form(),
    };
    ov.v.render(page)
}

/// `POST /office/ads`: `channel`, `subject` (e-mail), `body`.
pub(crate) async fn ads_submit(
    State(s): State<AppState>,
    ov: OfficeVisit,
    form: FormData,
) -> Response {
    let (ov, st) = match ov.signed_form(&s, &form, HERE).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !runs(&s) || st.require(Power::AllRequests).is_err() {
        return not_found_page(&s, ov.v.lang);
    }
    let Some(c) = channel(form.get("channel")) else {
        let (ko, en) = (T(Lang::Ko), T(Lang::En));
        let e = FieldError::new(
            "channel",
            "ad.channel",
            ko.s("ad_pick_channel"),
            en.s("ad_pick_channel"),
        );
        return ov.v.back_to(&s, HERE, &form, vec![e], None).await;
    };
    match s
        .app
        .create_ad_campaign(&st.actor(), c, form.get("subject"), form.get("body"))
        .await
    {
        Ok(row) => {
            let (ko, en) = (T(Lang::Ko), T(Lang::En));
            let at = kst(row.send_at);
            let ko = ko.s("ad_made").replace("{at}", &at);
            let en = en.s("ad_made").replace("{at}", &at);
            ov.v.notice_to(&s, HERE, &ko, &en).await
        }
        Err(CoreError::Invalid(errors)) => ov.v.back_to(&s, HERE, &form, errors, None).await,
        Err(e) => error_page(e),
    }
}
