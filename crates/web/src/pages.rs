use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use jikimi_policy::Lang;
use jikimi_policy::render::Document;
use serde::Deserialize;

use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

fn lang_of(q: &LangQuery) -> Lang {
    match q.lang.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Ko,
    }
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage<'a> {
    lang: &'static str,
    other_lang: &'static str,
    other_label: &'static str,
    doc: &'a Document,
}

/// The 개인정보 처리방침 of the active policy, generated from the policy file.
pub async fn privacy(State(s): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let lang = lang_of(&q);
    let doc = jikimi_policy::render::document(s.app.policy(), lang);
    let (code, other_lang, other_label) = match lang {
        Lang::Ko => ("ko", "en", "English"),
        Lang::En => ("en", "ko", "한국어"),
    };
    let page = PrivacyPage {
        lang: code,
        other_lang,
        other_label,
        doc: &doc,
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "privacy page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
