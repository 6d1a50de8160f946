//! 본인확인 in the provider's own window (PortOne): with the payment window's, the only pages of
//! the site with a script.
//!
//! The flows that verify (sign-up, a held login, account recovery) go as with a texted code,
//! with the window in the code's place: the identity step's form (one button) asks the server
//! for a verification id, which the visitor's sealed cookie carries (the sign-up's flow, or the
//! form cookie); the verify step's page loads the provider's SDK, which opens the window with
//! that id and comes back to the same address with `?identityVerificationId=…`. The server then
//! takes the id (once: issued here, not used, not expired, the one the cookie holds) and asks
//! the provider for the result ([`jikimi_core::Jikimi::identity_window_return_from`]).

use axum::http::{HeaderValue, header};
use jikimi_core::identity::Window;

use crate::page::*;

/// The query the provider's window comes back with. Its `code` (and `message`) say the window
/// ended without a verification; the server asks the provider either way, so they are not read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Returned {
    #[serde(rename = "identityVerificationId")]
    pub(crate) id: Option<String>,
}

#[derive(Template)]
#[template(path = "identity_window.html")]
pub(crate) struct WindowPage {
    pub(crate) c: Chrome,
    pub(crate) win: Window,
    /// The verification id the window is opened with.
    pub(crate) id: String,
    /// Where the window comes back to (this page's path).
    pub(crate) ret: &'static str,
    /// The way back: (href, i18n key of its label).
    pub(crate) back: (&'static str, &'static str),
}

/// The CSP of the window page: the site's own, plus the provider's script, and what that script
/// needs to open the window (its API, the agencies' windows as frames or forms).
pub(crate) fn window_csp(origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' {origin}; connect-src 'self' {origin} https://*.portone.io https://*.iamport.co; frame-src {origin} https:; form-action 'self' {origin} https:; style-src 'self'; img-src 'self' {origin} https:; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The page that opens the provider's window for the verification `id`.
pub(crate) fn launch(
    v: Visit,
    s: &AppState,
    win: Window,
    id: &str,
    ret: &'static str,
    back: (&'static str, &'static str),
) -> Response {
    let csp = window_csp(&win.origin);
    let page = WindowPage {
        c: v.chrome(s),
        win,
        id: id.to_owned(),
        ret,
        back,
    };
    with_csp(v.render(page), &csp)
}

/// `r` with the window page's CSP.
pub(crate) fn with_csp(mut r: Response, csp: &str) -> Response {
    match HeaderValue::from_str(csp) {
        Ok(csp) => {
            r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        // An origin that cannot be a header value: the page keeps the site's CSP (no script).
        Err(_) => tracing::warn!("the window's origin cannot go into a CSP"),
    }
    r
}

/// The window pages' script (`data-kind` identity or payment): opens PortOne's window once per
/// id (not again on Back), and again from its button; a window that ends in the page (popup,
/// iframe) comes back the same way as a redirect.
pub(crate) const SCRIPT: &str = r#"(function () {
  "use strict";
  var el = document.getElementById("portone-window");
  var button = document.getElementById("open-window");
  if (!el || !button) { return; }
  var kind = el.getAttribute("data-kind");
  var id = el.getAttribute("data-id");
  var param = kind === "payment" ? "paymentId" : "identityVerificationId";
  var ret = new URL(el.getAttribute("data-return"), window.location.href).toString();
  function back(result) {
    var u = new URL(ret);
    u.searchParams.set(param, id);
    if (result && result.code) { u.searchParams.set("code", result.code); }
    window.location.replace(u.toString());
  }
  function open() {
    if (!window.PortOne) { return; }
    try { window.sessionStorage.setItem("jikimi-window:" + id, "1"); } catch (e) {}
    var common = {
      storeId: el.getAttribute("data-store-id"),
      channelKey: el.getAttribute("data-channel-key"),
      redirectUrl: ret,
      windowType: { pc: "REDIRECTION", mobile: "REDIRECTION" }
    };
    var request;
    if (kind === "payment") {
      common.paymentId = id;
      common.orderName = el.getAttribute("data-order-name");
      common.totalAmount = Number(el.getAttribute("data-amount"));
      common.currency = "CURRENCY_KRW";
      common.payMethod = "CARD";
      request = window.PortOne.requestPayment(common);
    } else {
      common.identityVerificationId = id;
      request = window.PortOne.requestIdentityVerification(common);
    }
    request.then(function (r) { if (r) { back(r); } }, function () { back({ code: "SDK_ERROR" }); });
  }
  button.addEventListener("click", open);
  var opened = false;
  try { opened = window.sessionStorage.getItem("jikimi-window:" + id) === "1"; } catch (e) {}
  if (!opened) { open(); }
})();
"#;

/// `GET /assets/portone-window.js`.
pub(crate) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}
