//! Rendering the published 개인정보 처리방침 from a [`Policy`], in Korean or English.
//!
//! Every fact (items, bases, purposes, consents, periods, partners, processors, cookies,
//! contacts, dates, version) comes from the policy; the connecting sentences are fixed
//! and describe what the jikimi system itself does (encryption per member key, key
//! destruction, access logs, deadlines). Section ids are stable:
//! `general`, `items`, `collection_method`, `consent`, `purposes`, `access_correction`,
//! `withdrawal`, `retention`, `destruction`, `children`, `third_party`, `processors`,
//! `safeguards`, `cookies`, `rights`, `office`, `pseudonymised`, `changes`.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::capability::{Capabilities, Capability};
use crate::model::*;

/// The rendered policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Language it is written in.
    pub lang: Lang,
    /// Title (`meta.title`).
    pub title: String,
    /// Full policy version (hex SHA-256).
    pub version: String,
    /// Date from which it applies.
    pub effective_date: NaiveDate,
    /// Sections, in order.
    pub sections: Vec<Section>,
}

/// One section of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Stable id (see the module docs).
    pub id: &'static str,
    /// Heading, without number.
    pub heading: String,
    /// Content.
    pub blocks: Vec<Block>,
    /// What each block promises, by index (as long as `blocks`): the capabilities that keep
    /// it. Empty for a block that promises nothing (a fact of the policy file, a definition,
    /// a legal note).
    pub promises: Vec<Vec<Capability>>,
}

/// A block of content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    /// A paragraph.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table; every row has as many cells as there are headers.
    Table {
        /// Column headers.
        headers: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
    },
}

/// All section ids, in document order.
pub const SECTION_IDS: [&str; 18] = [
    "general",
    "items",
    "collection_method",
    "consent",
    "purposes",
    "access_correction",
    "withdrawal",
    "retention",
    "destruction",
    "children",
    "third_party",
    "processors",
    "safeguards",
    "cookies",
    "rights",
    "office",
    "pseudonymised",
    "changes",
];

/// Renders the 개인정보 처리방침 of `policy` in `lang`, with the promises the running build
/// keeps ([`Capabilities::running`]) and the organisational ones the policy declares.
pub fn document(policy: &Policy, lang: Lang) -> Document {
    document_with(policy, lang, &Capabilities::running())
}

/// Renders the 개인정보 처리방침 of `policy` in `lang` as a build with `caps` would: a
/// sentence that promises a mechanism is printed only if its capability is in `caps` or is an
/// organisational promise the policy declares (`[promises] organisational`).
pub fn document_with(policy: &Policy, lang: Lang, caps: &Capabilities) -> Document {
    let r = R {
        p: policy,
        l: lang,
        caps: policy.capabilities_with(caps),
    };
    Document {
        lang,
        title: policy.meta.title.get(lang).to_owned(),
        version: policy.version().as_str().to_owned(),
        effective_date: policy.meta.effective_date,
        sections: vec![
            r.general(),
            r.items(),
            r.collection_method(),
            r.consent(),
            r.purposes(),
            r.access_correction(),
            r.withdrawal(),
            r.retention(),
            r.destruction(),
            r.children(),
            r.third_party(),
            r.processors(),
            r.safeguards(),
            r.cookies(),
            r.rights(),
            r.office(),
            r.pseudonymised(),
            r.changes(),
        ],
    }
}

/// Heading of a section id in a language (`None` for an unknown id).
pub fn heading(id: &str, lang: Lang) -> Option<&'static str> {
    let (ko, en) = match id {
        "general" => ("총칙", "General provisions"),
        "items" => ("처리하는 개인정보 항목", "Personal data we process"),
        "collection_method" => (
            "개인정보의 수집범위 및 수집방법",
            "Scope and method of collection",
        ),
        "consent" => ("개인정보 수집에 대한 동의", "Consent to collection"),
        "purposes" => (
            "개인정보의 수집목적 및 이용목적",
            "Purposes of collection and use",
        ),
        "access_correction" => ("개인정보의 열람·정정", "Viewing and correcting your data"),
        "withdrawal" => ("동의철회 및 회원탈퇴", "Withdrawing consent and leaving"),
        "retention" => (
            "개인정보의 보유기간 및 이용기간",
            "Retention and use periods",
        ),
        "destruction" => (
            "개인정보의 파기 절차 및 방법",
            "Destruction: procedure and method",
        ),
        "children" => ("아동의 개인정보보호", "Protecting children's personal data"),
        "third_party" => (
            "목적외 사용 및 제3자 제공",
            "Use beyond the purposes and provision to third parties",
        ),
        "processors" => ("개인정보의 위탁처리", "Entrusted processing"),
        "safeguards" => (
            "안전성 확보조치 (기술적 대책 및 관리적 대책)",
            "Safeguards (technical and managerial measures)",
        ),
        "cookies" => (
            "쿠키 등 자동수집장치의 설치·운영 및 거부",
            "Automatic collection tools (cookies): use and refusal",
        ),
        "rights" => (
            "정보주체와 법정대리인의 권리·의무 및 행사방법",
            "Rights and duties of data subjects and guardians, and how to use them",
        ),
        "office" => (
            "개인정보 보호책임자 및 의견수렴·불만처리",
            "Privacy officer, opinions and complaints",
        ),
        "pseudonymised" => ("가명정보의 처리", "Pseudonymised data"),
        "changes" => (
            "처리방침의 변경 (고지의 의무)",
            "Changes to this policy (duty to notify)",
        ),
        _ => return None,
    };
    Some(match lang {
        Lang::Ko => ko,
        Lang::En => en,
    })
}

/// Renderer state: the policy, the language and the capabilities present.
struct R<'a> {
    p: &'a Policy,
    l: Lang,
    caps: Capabilities,
}

/// A block and the capabilities that keep what it promises.
type Part = (Block, Vec<Capability>);

/// A block that promises nothing.
fn fact(b: Block) -> Part {
    (b, Vec::new())
}

/// A date as written in `lang`: "2026년 12월 1일", "1 December 2026".
fn date_in(lang: Lang, d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match lang {
        Lang::Ko => format!("{}년 {}월 {}일", d.year(), d.month(), d.day()),
        Lang::En => format!(
            "{} {} {}",
            d.day(),
            MONTHS.get(d.month0() as usize).copied().unwrap_or(""),
            d.year()
        ),
    }
}

fn para(s: impl Into<String>) -> Block {
    Block::Paragraph(s.into())
}

impl R<'_> {
    /// Picks the Korean or English string.
    fn t<'s>(&self, ko: &'s str, en: &'s str) -> &'s str {
        match self.l {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }

    /// The section of `parts`, less any part whose capabilities are not all present: what
    /// [`document_with`] promises, enforced once here rather than at every block.
    fn section(&self, id: &'static str, parts: Vec<Part>) -> Section {
        let (blocks, promises) = parts
            .into_iter()
            .filter(|(_, caps)| caps.iter().all(|c| self.has(*c)))
            .unzip();
        Section {
            id,
            heading: heading(id, self.l).unwrap_or(id).to_owned(),
            blocks,
            promises,
        }
    }

    fn has(&self, c: Capability) -> bool {
        self.caps.has(c)
    }

    /// One paragraph of the sentences whose capabilities are all present (a sentence with
    /// none is a fact and always kept), tagged with those capabilities. `None` if no sentence
    /// is left.
    fn sentences(&self, parts: &[(&[Capability], &str)]) -> Option<Part> {
        let mut text = Vec::new();
        let mut caps = Vec::new();
        for (need, s) in parts {
            if s.is_empty() || !need.iter().all(|c| self.has(*c)) {
                continue;
            }
            text.push(*s);
            for c in need.iter() {
                if !caps.contains(c) {
                    caps.push(*c);
                }
            }
        }
        (!text.is_empty()).then(|| (para(text.join(" ")), caps))
    }

    /// A list of the entries whose capabilities are all present, tagged with those
    /// capabilities. `None` if no entry is left.
    fn list(&self, entries: Vec<(&[Capability], String)>) -> Option<Part> {
        let mut items = Vec::new();
        let mut caps = Vec::new();
        for (need, s) in entries {
            if !need.iter().all(|c| self.has(*c)) {
                continue;
            }
            items.push(s);
            for c in need {
                if !caps.contains(c) {
                    caps.push(*c);
                }
            }
        }
        (!items.is_empty()).then_some((Block::List(items), caps))
    }

    fn op(&self) -> &str {
        self.p.operator.name.get(self.l)
    }

    fn legacy(&self) -> bool {
        self.p.meta.consent_mode == ConsentMode::SingleAgreement
    }

    fn date(&self, d: NaiveDate) -> String {
        date_in(self.l, d)
    }

    fn join<S: AsRef<str>>(&self, parts: impl IntoIterator<Item = S>) -> String {
        let v: Vec<String> = parts.into_iter().map(|s| s.as_ref().to_owned()).collect();
        if v.is_empty() {
            self.t("없음", "none").to_owned()
        } else {
            v.join(", ")
        }
    }

    fn item_labels<'i>(&self, items: impl IntoIterator<Item = &'i Item>) -> String {
        self.join(items.into_iter().map(|i| i.label.get(self.l)))
    }

    fn item_labels_by_id(&self, ids: &[String]) -> String {
        self.item_labels(ids.iter().filter_map(|id| self.p.item(id)))
    }

    fn purpose_labels(&self, ids: &[String]) -> String {
        self.join(ids.iter().filter_map(|id| self.p.purpose(id)).map(|pp| {
            if pp.consent.is_some() {
                format!(
                    "{} {}",
                    pp.label.get(self.l),
                    self.t("(동의한 경우)", "(with consent)")
                )
            } else {
                pp.label.get(self.l).to_owned()
            }
        }))
    }

    fn retention_text(&self, id: &str) -> String {
        match self.p.retention_class(id) {
            Some(rc) => format!("{} ({})", rc.label.get(self.l), rc.period.describe(self.l)),
            None => id.to_owned(),
        }
    }

    fn required_text(&self, item: &Item) -> &'static str {
        if item.required {
            self.t("필수", "required")
        } else {
            self.t("선택", "optional")
        }
    }

    fn basis_text(&self, item: &Item) -> String {
        match item.basis {
            LegalBasis::Contract => self
                .t(
                    "계약 이행 (법 제15조제1항제4호)",
                    "contract (PIPA Art. 15(1)4)",
                )
                .to_owned(),
            LegalBasis::Law => self
                .t(
                    "법령상 의무 (법 제15조제1항제2호)",
                    "legal obligation (PIPA Art. 15(1)2)",
                )
                .to_owned(),
            LegalBasis::Consent => {
                let title = item
                    .consent
                    .as_deref()
                    .and_then(|c| self.p.consent(c))
                    .map_or(String::new(), |c| c.title.get(self.l).to_owned());
                format!("{} — {title}", self.t("동의", "consent"))
            }
        }
    }

    fn consent_title(&self, c: &ConsentCategory) -> String {
        let mut s = c.title.get(self.l).to_owned();
        if let Some(ch) = c.channel {
            let _ = write!(
                s,
                " — {}: {}",
                self.t("수신 방법", "channel"),
                ch.label(self.l)
            );
        }
        if let Some(pt) = c.partner.as_deref().and_then(|id| self.p.partner(id)) {
            let _ = write!(
                s,
                " — {}: {}",
                self.t("받는 자", "recipient"),
                pt.name.get(self.l)
            );
        }
        s
    }

    fn context_screen(&self, c: Context) -> &'static str {
        match c {
            Context::Signup => self.t("회원 가입", "sign-up"),
            Context::Payment => self.t("결제", "payment"),
            Context::Prize => self.t("경품 배송 신청", "prize delivery request"),
            Context::Guardian => self.t(
                "만 14세 미만 아동의 가입 신청과 법정대리인 동의",
                "a child's sign-up request and the guardian's consent",
            ),
        }
    }

    /// The stages that have items and whose screen this build has.
    fn contexts(&self) -> Vec<Context> {
        Context::ALL
            .into_iter()
            .filter(|c| self.p.items_in(*c).next().is_some() && self.has(c.capability()))
            .collect()
    }

    // -----------------------------------------------------------------------------------

    fn general(&self) -> Section {
        let op = self.op();
        // PIPA Art. 30: the policy names who processes the data, by the company's legal name
        // when the policy gives it.
        let company = self.p.operator.company.as_ref().map(|c| c.get(self.l));
        let mut b = vec![
            fact(para(match (self.l, company) {
                (Lang::Ko, None) => format!(
                    "회사(\"{op}\")는 회원의 개인정보를 소중히 여기며 「개인정보 보호법」과 같은 법 \
                     시행령, 개인정보보호위원회 고시를 지킵니다."
                ),
                (Lang::Ko, Some(company)) => format!(
                    "{company}(이하 \"회사\")는 {op} 회원의 개인정보를 소중히 여기며 「개인정보 \
                     보호법」과 같은 법 시행령, 개인정보보호위원회 고시를 지킵니다."
                ),
                (Lang::En, None) => format!(
                    "{op} (\"we\") values its members' personal data and complies with the Personal \
                     Information Protection Act (PIPA), its Enforcement Decree and the notices of the \
                     Personal Information Protection Commission (PIPC)."
                ),
                (Lang::En, Some(company)) => format!(
                    "{company} (\"we\"), which runs {op}, values its members' personal data and \
                     complies with the Personal Information Protection Act (PIPA), its Enforcement \
                     Decree and the notices of the Personal Information Protection Commission \
                     (PIPC)."
                ),
            })),
            // The ledger itself keeps the second sentence: every promise below is printed only
            // when its capability is present (crates/policy/tests/ledger.rs).
            fact(para(self.t(
                "이 처리방침은 회사가 어떤 개인정보를 어떤 근거로, 무엇을 위해, 얼마 동안 처리하는지와 \
                 그 정보를 지키려고 어떤 조치를 하는지 알려 드립니다. 이 문서는 시스템이 실제로 따르는 \
                 정책 파일에서 만들어지며, 시스템이 갖추지 않았거나 회사가 맡아 지키지 않는 약속은 \
                 싣지 않습니다.",
                "This policy tells you which personal data we process, on what basis, for what and \
                 for how long, and what we do to protect it. It is generated from the policy file \
                 the system itself runs on, and it carries no promise that the system does not \
                 keep or that we have not taken on ourselves.",
            ))),
        ];
        let mut facts = vec![format!(
            "{}: {}",
            self.t("누리집", "Website"),
            self.p.operator.website
        )];
        if let Some(a) = &self.p.operator.address {
            facts.push(format!("{}: {}", self.t("주소", "Address"), a.get(self.l)));
        }
        if let Some(ph) = &self.p.operator.phone {
            facts.push(format!("{}: {ph}", self.t("대표 전화", "Phone")));
        }
        b.push(fact(Block::List(facts)));
        if self.legacy() {
            b.push(fact(para(self.t(
                "이 판은 원본 방침의 운영 방식(처리방침 전체에 대한 한 번의 동의)을 그대로 재현합니다. \
                 원본 방침은 「정보통신망 이용촉진 및 정보보호 등에 관한 법률」과 당시 정보통신부의 지침을 \
                 근거로 들었으나, 그 개인정보 보호 규정은 2020년 8월 5일 「개인정보 보호법」으로 옮겨졌고 \
                 지금의 감독 기관은 개인정보보호위원회입니다.",
                "This edition reproduces how the original policy worked (one agreement to the whole \
                 policy). The original cited the Act on Promotion of Information and Communications \
                 Network Utilization and Information Protection and a guideline of the former \
                 Ministry of Information and Communication; those privacy rules moved into PIPA on \
                 5 August 2020, and the regulator today is the PIPC.",
            ))));
        }
        if self.p.collects_rrn() {
            b.push(fact(para(self.t(
                "알림: 「개인정보 보호법」 제24조의2는 법률·대통령령 등에 구체적인 근거가 없으면 \
                 주민등록번호를 처리하지 못하게 합니다. 이 판은 원본 방침을 재현하려고 주민등록번호를 \
                 받지만, 현행법에 맞게 운영하려면 주민등록번호 대신 본인확인기관을 통한 본인확인을 \
                 써야 합니다.",
                "Notice: PIPA Art. 24-2 forbids processing resident registration numbers unless a \
                 statute or decree specifically requires or permits it. This edition collects them \
                 to reproduce the original policy; operating under current law requires identity \
                 verification through a designated provider instead.",
            ))));
        }
        self.section("general", b)
    }

    fn items(&self) -> Section {
        let mut b = vec![fact(para(self.t(
            "회사가 처리하는 개인정보 항목은 다음과 같습니다. '처리 근거'는 「개인정보 보호법」 \
             제15조제1항에 따른 근거입니다.",
            "We process the personal data below. 'Basis' is the legal basis under PIPA \
             Art. 15(1).",
        )))];
        let headers: Vec<String> = [
            self.t("항목", "Item"),
            self.t("필수/선택", "Required/optional"),
            self.t("처리 근거", "Basis"),
            self.t("보유 기간", "Retention"),
            self.t("비고", "Notes"),
        ]
        .map(str::to_owned)
        .to_vec();
        for ctx in self.contexts() {
            let caps = vec![ctx.capability()];
            b.push((
                para(match self.l {
                    Lang::Ko => format!("■ {} 받는 항목", ctx.label(self.l)),
                    Lang::En => format!("■ Collected {}", ctx.label(self.l)),
                }),
                caps.clone(),
            ));
            let rows = self
                .p
                .items_in(ctx)
                .map(|it| {
                    let mut notes = Vec::new();
                    if it.sensitivity != Sensitivity::Normal {
                        notes.push(format!("[{}]", it.sensitivity.label(self.l)));
                    }
                    if let Some(h) = &it.help {
                        notes.push(h.get(self.l).to_owned());
                    }
                    vec![
                        it.label.get(self.l).to_owned(),
                        self.required_text(it).to_owned(),
                        self.basis_text(it),
                        self.retention_text(&it.retention),
                        if notes.is_empty() {
                            "-".to_owned()
                        } else {
                            notes.join(" ")
                        },
                    ]
                })
                .collect();
            b.push((
                Block::Table {
                    headers: headers.clone(),
                    rows,
                },
                caps,
            ));
        }
        b.extend(self.sentences(&[(
            &[Capability::PasswordHash],
            self.t(
                "이 밖에 로그인에 쓰는 비밀번호를 받으며, 비밀번호는 되돌릴 수 없는 방식으로만 \
                 저장합니다.",
                "We also receive the password you log in with; it is stored only in a form that \
                 cannot be reversed.",
            ),
        )]));
        if self.p.items.iter().any(|i| !i.required) {
            b.extend(self.sentences(&[(
                &[Capability::OptionalItemsFree],
                self.t(
                    "선택 항목은 입력하지 않아도 회원 가입과 서비스 이용에 아무런 제한이 없습니다.",
                    "Leaving optional items empty never limits sign-up or the service.",
                ),
            )]));
        }
        let cookies = if self.p.cookies.is_empty() {
            ""
        } else {
            self.t(
                "쿠키로 수집하는 정보는 '쿠키 등 자동수집장치' 항목에 적었습니다.",
                "What cookies collect is listed under 'Automatic collection tools (cookies)'.",
            )
        };
        b.extend(self.sentences(&[
            (
                &[Capability::LoginRecords],
                self.t(
                    "서비스를 이용하는 동안 로그인 일시와 접속 IP 주소 같은 기록이 자동으로 생깁니다.",
                    "While you use the service, records such as login times and IP addresses \
                     are created automatically.",
                ),
            ),
            (&[], cookies),
        ]));
        self.section("items", b)
    }

    fn collection_method(&self) -> Section {
        let mut scope = Vec::new();
        let mut scope_caps = Vec::new();
        for ctx in self.contexts() {
            let req: Vec<&Item> = self.p.items_in(ctx).filter(|i| i.required).collect();
            let opt: Vec<&Item> = self.p.items_in(ctx).filter(|i| !i.required).collect();
            let mut s = format!(
                "{}: {} — {}",
                ctx.label(self.l),
                self.t("필수", "required"),
                self.item_labels(req)
            );
            if !opt.is_empty() {
                let _ = write!(
                    s,
                    "; {} — {}",
                    self.t("선택", "optional"),
                    self.item_labels(opt)
                );
            }
            scope.push(s);
            scope_caps.push(ctx.capability());
        }
        // Payment items come from the payment company's window, not from a screen of the site.
        let screens = self.join(
            self.contexts()
                .into_iter()
                .filter(|c| *c != Context::Payment)
                .map(|c| self.context_screen(c)),
        );
        let mut b = vec![
            fact(para(self.t(
                "회사는 서비스 제공에 꼭 필요한 필수 항목과, 회원의 기호와 필요에 맞춘 서비스를 위한 \
                 선택 항목을 나누어 받습니다. 단계별로 받는 항목은 다음과 같습니다.",
                "We separate required items, which the service cannot do without, from optional \
                 items, which let us fit the service to your tastes and needs. By stage:",
            ))),
            (Block::List(scope), scope_caps),
        ];
        let only = match self.l {
            Lang::Ko => {
                format!(
                    "개인정보는 회원이 {screens} 화면에 직접 입력하거나 고른 정보로만 수집합니다."
                )
            }
            Lang::En => format!(
                "Personal data is collected only from what you enter or choose yourself on the \
                 {screens} pages."
            ),
        };
        b.extend(self.sentences(&[
            (&[Capability::SingleChannel], &only),
            (
                &[Capability::NoOutsideSources],
                self.t(
                    "다른 곳에서 개인정보를 사들이거나 모으지 않습니다.",
                    "We never buy or gather personal data from elsewhere.",
                ),
            ),
        ]));
        if self.contexts().contains(&Context::Payment) {
            let labels = self.item_labels(self.p.items_in(Context::Payment));
            let s = match self.l {
                Lang::Ko => format!(
                    "결제할 때의 항목은 회원이 결제대행사의 결제창에서 결제를 마치면 그 회사에서 \
                     받습니다: {labels}. 카드번호 전체와 유효기간은 결제창에만 입력하며 회사는 \
                     받지 않습니다."
                ),
                Lang::En => format!(
                    "The payment items come from the payment company once you have paid in its \
                     payment window: {labels}. The full card number and expiry date are typed \
                     only into that window; we never receive them."
                ),
            };
            b.extend(self.sentences(&[(&[Capability::PaymentGateway], &s)]));
        }
        let verified: Vec<&Item> = self
            .p
            .items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Ci | ItemKind::Di | ItemKind::BirthDate))
            .collect();
        if self.p.meta.identity == IdentityMode::Verification && !verified.is_empty() {
            let labels = self.item_labels(verified);
            let s = match self.l {
                Lang::Ko => format!(
                    "다만 다음 항목은 회원이 본인확인기관(휴대폰 본인확인 등)에서 본인확인을 마치면 \
                     그 기관에서 받습니다: {labels}. 주민등록번호는 받지 않습니다."
                ),
                Lang::En => format!(
                    "The exception is the following items, which come from the identity \
                     verification provider (e.g. mobile phone verification) once you have verified \
                     yourself there: {labels}. We do not collect resident registration numbers."
                ),
            };
            b.extend(self.sentences(&[(&[Capability::IdentityVerificationFlow], &s)]));
        }
        if self.p.meta.identity == IdentityMode::Rrn {
            let labels = self.item_labels(
                self.p
                    .items
                    .iter()
                    .filter(|i| matches!(i.kind, ItemKind::Name | ItemKind::Rrn))
                    .filter(|i| i.context == Context::Signup),
            );
            // No real-name check exists: the RRN is checked for its form and date and its
            // check digit, and against earlier sign-ups (docs/PROMISES.md row 16).
            let s = match self.l {
                Lang::Ko => format!(
                    "가입할 때 다음 항목으로 주민등록번호의 형식과 중복 가입 여부를 확인합니다: {labels}."
                ),
                Lang::En => format!(
                    "At sign-up, the following items are used to check the form of the resident \
                     registration number and that you have not joined before: {labels}."
                ),
            };
            b.extend(self.sentences(&[(&[Capability::OneAccount], &s)]));
        }
        if !self.p.cookies.is_empty() {
            // One line per cookie: a cookie's text may hold sentences of its own.
            let what: Vec<String> = self
                .p
                .cookies
                .iter()
                .map(|c| c.collects.get(self.l).to_owned())
                .collect();
            let s = self.t(
                "서비스를 이용하는 동안 쿠키를 통해 다음 정보가 자동으로 수집됩니다.",
                "While you use the service, cookies automatically collect the following.",
            );
            b.extend(self.sentences(&[(&[Capability::CookieTable], s)]));
            b.push((Block::List(what), vec![Capability::CookieTable]));
        }
        self.section("collection_method", b)
    }

    fn consent_rows(&self, cats: &[&ConsentCategory]) -> Block {
        Block::Table {
            headers: [
                self.t("동의 구분", "Consent"),
                self.t("목적", "Purpose"),
                self.t("항목", "Items"),
                self.t("보유 기간", "Retention"),
                self.t(
                    "동의를 거부할 권리와 불이익",
                    "Right to refuse and its effect",
                ),
            ]
            .map(str::to_owned)
            .to_vec(),
            rows: cats
                .iter()
                .map(|c| {
                    vec![
                        self.consent_title(c),
                        c.purpose.get(self.l).to_owned(),
                        self.item_labels(self.p.items_for_consent(&c.id)),
                        self.retention_text(&c.retention),
                        c.refusal.get(self.l).to_owned(),
                    ]
                })
                .collect(),
        }
    }

    fn consent(&self) -> Section {
        let mut b = Vec::new();
        let agreement = self
            .p
            .consents
            .iter()
            .find(|c| c.kind == ConsentKind::PolicyAgreement && c.required);
        let others: Vec<&ConsentCategory> = self
            .p
            .consents
            .iter()
            .filter(|c| c.kind != ConsentKind::PolicyAgreement)
            .collect();
        match (self.p.meta.consent_mode, agreement) {
            (ConsentMode::SingleAgreement, Some(c)) => {
                b.extend(self.sentences(&[(
                    &[Capability::SingleAgreement],
                    self.t(
                        "회원 가입 화면에서 이 처리방침을 보여 드리고 「동의함」과 「동의하지 않음」 \
                         가운데 하나를 고르게 합니다. 「동의함」을 고르셔야 가입이 진행되며, 「동의하지 \
                         않음」을 고르시면 가입이 진행되지 않고 입력하신 정보도 저장하지 않습니다.",
                        "The sign-up page shows this policy and asks you to choose either \"I \
                         agree\" (동의함) or \"I do not agree\" (동의하지 않음). Sign-up continues \
                         only with \"I agree\"; with \"I do not agree\" it stops and nothing you \
                         entered is stored.",
                    ),
                )]));
                let items = self.p.items_for_consent(&c.id);
                let (req, opt): (Vec<&Item>, Vec<&Item>) = items
                    .into_iter()
                    .filter(|i| self.has(i.context.capability()))
                    .partition(|i| i.required);
                b.push((
                    Block::Table {
                        headers: [self.t("구분", "Topic"), self.t("내용", "Details")]
                            .map(str::to_owned)
                            .to_vec(),
                        rows: vec![
                            vec![
                                self.t("동의", "Agreement").to_owned(),
                                c.title.get(self.l).to_owned(),
                            ],
                            vec![
                                self.t("목적", "Purpose").to_owned(),
                                c.purpose.get(self.l).to_owned(),
                            ],
                            vec![
                                self.t("필수 항목", "Required items").to_owned(),
                                self.item_labels(req),
                            ],
                            vec![
                                self.t("선택 항목", "Optional items").to_owned(),
                                self.item_labels(opt),
                            ],
                            vec![
                                self.t("보유 기간", "Retention").to_owned(),
                                self.retention_text(&c.retention),
                            ],
                            vec![
                                self.t(
                                    "동의를 거부할 권리와 불이익",
                                    "Right to refuse and its effect",
                                )
                                .to_owned(),
                                c.refusal.get(self.l).to_owned(),
                            ],
                        ],
                    },
                    vec![Capability::SingleAgreement, Capability::SignupItems],
                ));
                b.push(fact(para(self.t(
                    "참고: 2024년 9월 15일부터는 계약 이행에 꼭 필요한 항목은 동의 없이 알림만으로 \
                     처리하고, 그 밖의 항목만 구분하여 따로 동의를 받는 방식이 원칙입니다 \
                     (「개인정보 보호법」 제15조제1항제4호, 제22조, 같은 법 시행령 제17조).",
                    "Note: since 15 September 2024 the rule is that items strictly needed for the \
                     contract are processed on notice without consent, and only the other items are \
                     consented to, each separately (PIPA Art. 15(1)4 and 22; Enforcement Decree \
                     Art. 17).",
                ))));
                if !others.is_empty() {
                    b.extend(self.sentences(&[(
                        &[Capability::ConsentLedger],
                        self.t(
                            "이와 별도로 다음 사항은 따로 동의를 받습니다.",
                            "Apart from that, the following are asked separately.",
                        ),
                    )]));
                    b.push((self.consent_rows(&others), vec![Capability::ConsentLedger]));
                }
            }
            _ => {
                let contract: Vec<&Item> = self
                    .p
                    .signup_items()
                    .filter(|i| i.basis == LegalBasis::Contract)
                    .collect();
                let law: Vec<&Item> = self
                    .p
                    .items
                    .iter()
                    .filter(|i| i.basis == LegalBasis::Law)
                    .collect();
                let labels = self.item_labels(contract);
                let notice = match self.l {
                    Lang::Ko => format!(
                        "회원 이용계약에 꼭 필요한 항목은 동의를 받지 않고, 가입 화면과 이 처리방침으로 \
                         알려 드린 뒤 처리합니다 (「개인정보 보호법」 제15조제1항제4호, 제22조제3항). \
                         가입 시 해당 항목: {labels}."
                    ),
                    Lang::En => format!(
                        "Items the membership contract cannot do without are processed without \
                         consent, after telling you on the sign-up page and in this policy (PIPA \
                         Art. 15(1)4 and 22(3)). At sign-up these are: {labels}."
                    ),
                };
                // Only the stages that exist: a payment or a prize delivery (docs/PROMISES.md
                // row 19).
                // (The guardian's stage is on a legal basis, said below with the others.)
                let later: Vec<Context> = self
                    .contexts()
                    .into_iter()
                    .filter(|c| *c != Context::Signup)
                    .filter(|c| self.p.items_in(*c).any(|i| i.basis == LegalBasis::Contract))
                    .collect();
                let later_caps: Vec<Capability> = later.iter().map(|c| c.capability()).collect();
                let stages = self.join(later.iter().map(|c| self.context_screen(*c)));
                let later_text = if later.is_empty() {
                    String::new()
                } else {
                    match self.l {
                        Lang::Ko => format!(
                            "{stages}에 필요한 항목도 그 계약을 이행하려고 같은 방식으로 처리합니다."
                        ),
                        Lang::En => format!(
                            "Items needed for a {stages} are processed the same way, to perform \
                             that contract."
                        ),
                    }
                };
                b.extend(self.sentences(&[
                    (&[Capability::ContractNotice], &notice),
                    (&later_caps, &later_text),
                ]));
                if !law.is_empty() {
                    let labels = self.item_labels(law);
                    b.push(fact(para(match self.l {
                        Lang::Ko => format!(
                            "법령에 따른 의무를 지키려고 처리하는 항목: {labels} (법 제15조제1항제2호)."
                        ),
                        Lang::En => format!(
                            "Items processed to meet a legal obligation: {labels} (PIPA Art. 15(1)2)."
                        ),
                    })));
                }
                b.extend(self.sentences(&[
                    (
                        &[Capability::ConsentLedger],
                        self.t(
                            "그 밖의 처리는 아래 구분마다 따로 동의를 받습니다.",
                            "Everything else is asked separately, one consent per category below.",
                        ),
                    ),
                    (
                        &[Capability::UntickedConsents],
                        self.t(
                            "동의란은 모두 선택되지 않은 상태로 시작합니다.",
                            "Every box starts unticked.",
                        ),
                    ),
                    (
                        &[Capability::ConsentLedger],
                        self.t(
                            "동의는 구분마다 따로 기록되며 언제든 따로 철회할 수 있습니다.",
                            "Each consent is recorded on its own and can be withdrawn on its own \
                             at any time.",
                        ),
                    ),
                    (
                        &[Capability::OptionalItemsFree],
                        self.t(
                            "동의하지 않아도 회원 가입과 서비스 이용에는 제한이 없습니다.",
                            "Declining never stops sign-up or limits the service.",
                        ),
                    ),
                ]));
                if others.is_empty() {
                    b.push(fact(para(self.t(
                        "현재 따로 동의를 받는 처리는 없습니다.",
                        "At present nothing is processed on consent.",
                    ))));
                } else {
                    b.push((self.consent_rows(&others), vec![Capability::ConsentLedger]));
                }
            }
        }
        if self
            .p
            .consents
            .iter()
            .any(|c| c.kind == ConsentKind::AdReception)
        {
            // Each clause only once its sender keeps it (docs/PROMISES.md rows 24-26).
            b.extend(self.sentences(&[
                (
                    &[Capability::AdReconfirmation],
                    self.t(
                        "광고성 정보 수신 동의는 2년마다 다시 확인합니다.",
                        "Consent to receive advertising is reconfirmed every 2 years.",
                    ),
                ),
                (
                    &[Capability::AdQuietHours],
                    self.t(
                        "밤 9시부터 다음 날 아침 8시 사이에는 따로 동의하지 않은 분께 광고를 보내지 \
                         않습니다.",
                        "No advertising is sent between 21:00 and 08:00 without a separate consent.",
                    ),
                ),
                (
                    &[Capability::AdLabelling],
                    self.t(
                        "모든 광고에는 (광고) 표시와 무료 수신거부 방법을 함께 적습니다.",
                        "Every advertisement is marked \"(광고)\" with a free way to opt out.",
                    ),
                ),
            ]));
        }
        self.section("consent", b)
    }

    fn purposes(&self) -> Section {
        let defs = self
            .p
            .purposes
            .iter()
            .map(|pp| {
                let mut s = format!("{}: {}", pp.label.get(self.l), pp.description.get(self.l));
                if let Some(c) = pp.consent.as_deref().and_then(|c| self.p.consent(c)) {
                    let _ = match self.l {
                        Lang::Ko => write!(s, " ('{}'에 동의한 경우에만)", c.title.get(self.l)),
                        Lang::En => write!(s, " (only with '{}')", c.title.get(self.l)),
                    };
                }
                s
            })
            .collect();
        let rows = self
            .p
            .items
            .iter()
            .filter(|it| self.has(it.context.capability()))
            .map(|it| {
                vec![
                    it.label.get(self.l).to_owned(),
                    self.purpose_labels(&it.purposes),
                ]
            })
            .collect();
        let mut b = Vec::new();
        b.extend(self.sentences(&[
            (
                &[Capability::PurposeBoundReveal],
                self.t(
                    "회사는 개인정보를 다음 목적으로만 처리합니다.",
                    "We process personal data only for the purposes below.",
                ),
            ),
            (
                &[Capability::PolicyChangeNotice],
                self.t(
                    "목적이 바뀌면 바뀐 처리방침을 시행하기 전에 누리집과 전자우편으로 미리 알립니다.",
                    "If a purpose changes, we announce the changed policy on the website and by \
                     e-mail before it takes effect.",
                ),
            ),
        ]));
        b.push((Block::List(defs), vec![Capability::PurposeBoundReveal]));
        b.push(fact(para(self.t(
            "항목마다 어떤 목적으로 쓰는지는 아래 표와 같습니다.",
            "What each item is used for:",
        ))));
        b.push((
            Block::Table {
                headers: [self.t("항목", "Item"), self.t("목적", "Purposes")]
                    .map(str::to_owned)
                    .to_vec(),
                rows,
            },
            vec![Capability::PurposeBoundReveal],
        ));
        self.section("purposes", b)
    }

    fn access_correction(&self) -> Section {
        let mut b = Vec::new();
        b.extend(self.sentences(&[
            (
                &[Capability::SelfServiceAccess],
                self.t(
                    "회원은 언제든지 '개인정보수정' 화면에서 자신의 개인정보를 직접 열람하고 고칠 수 \
                     있으며, 고친 내용은 바로 반영됩니다.",
                    "You can view and correct your personal data yourself at any time on the \
                     'My data' page; a correction takes effect at once.",
                ),
            ),
            (
                &[Capability::OfficeRequests],
                self.t(
                    "개인정보 보호책임자나 담당자에게 서면, 전화, 전자우편으로 요청하셔도 되며, 요청을 \
                     받으면 지체 없이 처리합니다.",
                    "You may also ask the privacy officer or manager by letter, phone or e-mail; \
                     we act on such a request without delay.",
                ),
            ),
        ]));
        b.extend(self.sentences(&[(
            &[Capability::CorrectionHold],
            self.t(
                "정보가 잘못되었다며 정정을 요청하시면, 정정을 마칠 때까지 그 정보를 이용하거나 \
                 제공하지 않습니다.",
                "While a correction you asked for is pending, the item concerned is neither used \
                 nor provided to anyone.",
            ),
        )]));
        if !self.p.partners.is_empty() {
            b.extend(self.sentences(&[(
                &[Capability::PartnerCorrectionNotice],
                self.t(
                    "잘못된 정보를 이미 제3자에게 제공했다면, 정정한 내용을 그 제3자에게 지체 없이 \
                     알려 바로잡게 합니다.",
                    "If a wrong item was already provided to a third party, we send the correction \
                     to that party without delay so that it is corrected there too.",
                ),
            )]));
        }
        self.section("access_correction", b)
    }

    fn withdrawal(&self) -> Section {
        let mut b = Vec::new();
        b.extend(self.sentences(&[
            (
                &[Capability::SelfServiceWithdrawal],
                self.t(
                    "회원은 개인정보의 수집·이용에 대한 동의를 언제든지 철회하거나 회원에서 탈퇴할 수 \
                     있습니다. 누리집 첫 화면의 '동의철회 또는 회원탈퇴' 메뉴를 쓰시면 됩니다.",
                    "You can withdraw your consent to the collection or use of personal data, or \
                     leave membership, at any time: use 'Withdraw consent or leave' on the first \
                     page of the website.",
                ),
            ),
            (
                &[Capability::OfficeRequests],
                self.t(
                    "개인정보 보호책임자·담당자에게 서면, 전화, 전자우편으로 요청하셔도 됩니다.",
                    "You may also ask the privacy officer or manager by letter, phone or e-mail.",
                ),
            ),
            (
                &[Capability::SelfServiceWithdrawal],
                self.t(
                    "철회는 동의할 때보다 어렵지 않게 해 두었습니다.",
                    "Withdrawing is never harder than consenting was.",
                ),
            ),
        ]));
        if self.legacy() {
            // Withdrawing the agreement alone is refused with "leave instead" (docs/PROMISES.md
            // row 46).
            b.extend(self.sentences(&[(
                &[Capability::SingleAgreement],
                self.t(
                    "이 판에서는 처리방침 전체에 한 번 동의하여 가입하므로, 그 동의만 따로 철회할 수는 \
                     없습니다. 철회하시려면 회원탈퇴를 하시면 됩니다.",
                    "In this edition membership rests on one agreement to the whole policy, so \
                     that agreement cannot be withdrawn on its own: to withdraw it, leave \
                     membership.",
                ),
            )]));
        } else {
            b.extend(self.sentences(&[(
                &[Capability::ConsentWithdrawalDeletes],
                self.t(
                    "선택 동의는 하나씩 따로 철회할 수 있습니다. 철회하면 그 동의에 따라 처리하던 \
                     정보를 바로 파기하며, 회원 자격에는 영향이 없습니다.",
                    "Each optional consent can be withdrawn on its own. The data processed on that \
                     consent is then destroyed at once; your membership is not affected.",
                ),
            )]));
        }
        b.extend(self.sentences(&[(
            &[Capability::Withdrawal],
            self.t(
                "탈퇴하면 모든 로그인 세션을 끝내고, 법령에 따라 보존해야 하는 기록을 뺀 모든 \
                 개인정보를 즉시 파기합니다 ('개인정보의 파기 절차 및 방법' 참고).",
                "When you leave, all login sessions end and all personal data is destroyed at \
                 once, except the records a law requires us to keep (see 'Destruction: procedure \
                 and method').",
            ),
        )]));
        self.section("withdrawal", b)
    }

    /// Retention classes whose records something writes (see [`RetentionClass::needs`]).
    fn kept_classes(&self) -> impl Iterator<Item = &RetentionClass> {
        self.p
            .retention
            .iter()
            .filter(|rc| rc.needs().is_none_or(|c| self.has(c)))
    }

    fn retention(&self) -> Section {
        let rows = self
            .kept_classes()
            .map(|rc| {
                vec![
                    rc.label.get(self.l).to_owned(),
                    rc.records.get(self.l).to_owned(),
                    rc.period.describe(self.l),
                    rc.basis.get(self.l).to_owned(),
                ]
            })
            .collect();
        let mut b = Vec::new();
        b.extend(self.sentences(&[
            (
                &[Capability::Withdrawal],
                self.t(
                    "회원 정보는 회원 가입부터 탈퇴할 때까지 보유·이용하며, 탈퇴하면 지체 없이 \
                     파기합니다.",
                    "Membership data is kept and used from sign-up until you leave, and destroyed \
                     without delay when you do.",
                ),
            ),
            (
                &[Capability::RetentionStore],
                self.t(
                    "다만 법령이 보존을 요구하는 기록은 아래 기간 동안, 꼭 필요한 최소한의 정보만 따로 \
                     보관합니다.",
                    "Records a law requires us to keep are kept apart, with only the minimum data \
                     needed, for the periods below.",
                ),
            ),
        ]));
        b.push((
            Block::Table {
                headers: [
                    self.t("구분", "Class"),
                    self.t("보존하는 기록", "What is kept"),
                    self.t("기간", "Period"),
                    self.t("근거", "Basis"),
                ]
                .map(str::to_owned)
                .to_vec(),
                rows,
            },
            vec![Capability::RetentionStore, Capability::Purge],
        ));
        if !self.p.retention_notes.is_empty() {
            // Free text of the policy file: its author answers for it (crates/policy/README.md).
            b.push(fact(Block::List(
                self.p
                    .retention_notes
                    .iter()
                    .map(|n| n.get(self.l).to_owned())
                    .collect(),
            )));
        }
        self.section("retention", b)
    }

    fn destruction(&self) -> Section {
        let mut b = Vec::new();
        b.extend(self.sentences(&[(
            &[Capability::Purge],
            self.t(
                "보유기간이 끝난 개인정보는 지체 없이 파기합니다.",
                "Personal data whose retention period has ended is destroyed without delay.",
            ),
        )]));
        b.extend(self.sentences(&[
            (
                &[Capability::KeyDestruction],
                self.t(
                    "회원의 개인정보는 회원마다 따로 만든 암호키로 암호화하여 저장합니다. 파기할 때는 \
                     이 암호키를 없애므로, 백업을 포함한 어떤 사본에 남은 데이터도 다시 읽거나 되살릴 \
                     수 없습니다.",
                    "Each member's personal data is stored encrypted under a key made for that \
                     member alone. Destruction destroys that key, so the data left in any copy, \
                     backups included, can never be read or recovered again.",
                ),
            ),
            (
                &[Capability::DestructionRecords],
                self.t(
                    "파기한 사실은 개인정보를 담지 않은 파기 기록으로 남깁니다.",
                    "Each destruction is recorded in a destruction log that holds no personal data.",
                ),
            ),
            (
                &[Capability::PaperDestruction],
                self.t(
                    "종이에 출력한 정보는 분쇄하거나 소각합니다.",
                    "Anything printed on paper is shredded or incinerated.",
                ),
            ),
        ]));
        let kept: Vec<&RetentionClass> =
            self.kept_classes().filter(|r| r.after_withdrawal).collect();
        if kept.is_empty() {
            b.push(fact(para(self.t(
                "탈퇴한 뒤에 보존하는 기록은 없습니다.",
                "Nothing is kept after a member leaves.",
            ))));
        } else {
            b.push(fact(para(self.t(
                "탈퇴한 뒤에도 법령에 따라 보존하는 기록과 그 항목, 근거, 기간은 다음과 같습니다 \
                 (「개인정보 보호법」 제30조제1항제3호의2).",
                "Records kept after a member leaves, with their items, basis and period (PIPA \
                 Art. 30(1)3-2):",
            ))));
            let rows = kept
                .iter()
                .map(|rc| {
                    let items: Vec<&Item> = self
                        .p
                        .items
                        .iter()
                        .filter(|i| i.retention == rc.id)
                        .collect();
                    let mut what = rc.records.get(self.l).to_owned();
                    if !items.is_empty() {
                        let _ = write!(
                            what,
                            " ({}: {})",
                            self.t("해당 항목", "items"),
                            self.item_labels(items)
                        );
                    }
                    vec![
                        rc.label.get(self.l).to_owned(),
                        what,
                        rc.basis.get(self.l).to_owned(),
                        rc.period.describe(self.l),
                    ]
                })
                .collect();
            b.push((
                Block::Table {
                    headers: [
                        self.t("기록", "Record"),
                        self.t("보존 항목", "Items kept"),
                        self.t("근거", "Basis"),
                        self.t("기간", "Period"),
                    ]
                    .map(str::to_owned)
                    .to_vec(),
                    rows,
                },
                vec![Capability::RetentionStore],
            ));
            // Keys are per class and expiry day, not per record (docs/PROMISES.md row 65).
            b.extend(self.sentences(&[(
                &[Capability::RetentionStore],
                self.t(
                    "이 기록은 회원 정보와 분리된 별도 저장소에 보존 구분과 만료일마다 따로 만든 \
                     암호키로 보관하고, 보존 목적 외에는 이용하지 않으며, 기간이 끝나면 같은 방법으로 \
                     파기합니다.",
                    "These records are held in a separate store, apart from membership data, under \
                     a key made for each class and expiry day; they are used for nothing but the \
                     reason they are kept, and are destroyed the same way when their period ends.",
                ),
            )]));
        }
        self.section("destruction", b)
    }

    fn children(&self) -> Section {
        let age = self.p.meta.child_age;
        let mut b = Vec::new();
        if self.has(Capability::GuardianConsent)
            && self.p.items_in(Context::Guardian).next().is_some()
        {
            // What this policy's guardian steps really do: how the guardian is asked and how
            // the consent is verified follow from its items and its identity mode.
            let verified = self.p.meta.identity == IdentityMode::Verification;
            let by_mail = self.p.item("guardian_email").is_some();
            let s = match (self.l, verified, by_mail) {
                (Lang::Ko, v, m) => format!(
                    "만 {age}세 미만 아동은 법정대리인의 동의를 받아야 가입할 수 있습니다 \
                     (「개인정보 보호법」 제22조의2). 나이는 어떤 정보도 저장하기 전에 확인합니다. \
                     만 {age}세 미만이면 법정대리인이 동의하기 전에는 아동의 이름과 법정대리인의 \
                     이름·연락처만 받아 법정대리인에게 {} 동의를 요청합니다. 법정대리인이 \
                     실제로 동의했는지는 {} 확인하고, 동의한 방법과 시각을 기록합니다. \
                     요청일부터 5일 안에 법정대리인이 동의하고 아동이 가입하지 않으면, 또는 \
                     법정대리인이 거부하면 받은 정보를 곧바로 파기합니다.",
                    if m {
                        "전자우편으로"
                    } else {
                        "문자메시지로"
                    },
                    match (v, m) {
                        (true, _) => "법정대리인 본인의 휴대폰 본인확인(만 19세 이상)으로",
                        (false, true) =>
                            "법정대리인의 전자우편으로 보낸 주소에서 동의하는 방법으로",
                        (false, false) => "법정대리인의 휴대전화로 보낸 주소에서 동의하는 방법으로",
                    }
                ),
                (Lang::En, v, m) => format!(
                    "A child under {age} can join only with a legal guardian's consent (PIPA \
                     Art. 22-2). Age is checked before anything is stored. For a child under \
                     {age}, until the guardian has consented only the child's name and the \
                     guardian's name and contact are taken, and the guardian is asked by {}. \
                     That the guardian really consented is verified {}, and the method and time \
                     are recorded. Unless the guardian consents and the child joins within 5 \
                     days of the request, or if the guardian refuses, what was taken is destroyed \
                     at once.",
                    if m { "e-mail" } else { "text message" },
                    match (v, m) {
                        (true, _) =>
                            "by the guardian's own mobile identity verification (an adult, 19 or over)",
                        (false, true) => "by consenting at an address e-mailed to the guardian",
                        (false, false) => "by consenting at an address texted to the guardian",
                    }
                ),
            };
            b.extend(self.sentences(&[(&[Capability::GuardianConsent, Capability::AgeGate], &s)]));
        } else {
            // Until guardians are built (issue 16), a child cannot join (docs/PROMISES.md
            // rows 66-70).
            let s = match self.l {
                Lang::Ko => format!(
                    "만 {age}세 미만 아동의 개인정보를 처리하려면 법정대리인의 동의가 필요합니다 \
                     (「개인정보 보호법」 제22조의2). 회사는 아직 법정대리인의 동의를 받는 절차를 \
                     갖추지 않았으므로, 만 {age}세 미만은 지금은 가입할 수 없습니다. 나이는 어떤 \
                     정보도 저장하기 전에 확인하며, 만 {age}세 미만이면 가입을 멈추고 아무것도 \
                     저장하지 않습니다."
                ),
                Lang::En => format!(
                    "Processing the personal data of a child under {age} needs a legal \
                     guardian's consent (PIPA Art. 22-2). We have no procedure for that consent \
                     yet, so a child under {age} cannot join at present. Age is checked before \
                     anything is stored; for a child under {age}, sign-up stops and nothing is \
                     stored."
                ),
            };
            b.extend(self.sentences(&[(&[Capability::AgeGate], &s)]));
        }
        if self.p.items_in(Context::Guardian).next().is_some() {
            let s = match self.l {
                Lang::Ko => format!(
                    "동의한 법정대리인은 누리집의 '법정대리인: 자녀 회원 관리' 화면에서 동의할 때와 \
                     같은 방법으로 다시 확인한 뒤, 만 {age}세 미만 아동의 개인정보를 \
                     열람·정정하고, 동의를 하거나 철회하고, 회원탈퇴를 할 수 있습니다. 이 일은 모두 \
                     법정대리인이 한 일로 기록됩니다. 아동은 만 {age}세가 될 때까지 스스로 동의할 수 \
                     없고, 동의를 철회하는 것은 직접 할 수 있습니다."
                ),
                Lang::En => format!(
                    "The guardian who consented, verified again the way they were when \
                     consenting, can view and correct the personal data of a child under {age}, \
                     give or withdraw consents and end the membership on the website's 'Guardian: \
                     your child's membership' page. All of this is recorded as done by the \
                     guardian. Until {age} the child cannot give a consent alone, but can \
                     withdraw one."
                ),
            };
            b.extend(self.sentences(&[(&[Capability::GuardianRights], &s)]));
        }
        b.extend(self.sentences(&[(
            &[Capability::AgentRequests],
            self.t(
                "법정대리인은 서면, 전화, 전자우편으로도 아동의 개인정보를 열람·정정하거나 동의를 \
                 철회하도록 요청할 수 있으며, 회사는 요청을 받으면 지체 없이 필요한 조치를 합니다.",
                "The guardian may also ask by letter, phone or e-mail to view or correct the \
                 child's personal data or to withdraw consent, and we take the necessary steps \
                 without delay.",
            ),
        )]));
        self.section("children", b)
    }

    fn third_party(&self) -> Section {
        let mut b = Vec::new();
        b.extend(self.sentences(&[(
            &[Capability::PurposeBoundReveal, Capability::NoProvision],
            self.t(
                "회사는 개인정보를 '개인정보의 수집목적 및 이용목적'에서 알린 범위에서만 이용하며, \
                 그 범위를 넘어 이용하거나 다른 사람·기업·기관에 제공하지 않습니다. 정보주체가 따로 \
                 동의했거나 법률에 특별한 규정이 있는 경우만 예외입니다 (「개인정보 보호법」 제17조, \
                 제18조).",
                "We use personal data only within the purposes announced under 'Purposes of \
                 collection and use', and neither use it beyond them nor give it to any other \
                 person, company or body, unless you separately consented or a statute \
                 specifically provides for it (PIPA Art. 17 and 18).",
            ),
        )]));
        if self.p.partners.is_empty() {
            b.extend(self.sentences(&[(
                &[Capability::NoProvision],
                self.t(
                    "현재 개인정보를 제3자에게 제공하지 않습니다 (제공받는 자: 없음).",
                    "At present we provide personal data to no third party (recipients: none).",
                ),
            )]));
        } else if self.has(Capability::PartnerNotice) {
            b.push((
                para(self.t(
                    "따로 동의한 회원의 개인정보에 한하여 다음과 같이 제공합니다.",
                    "Personal data is provided as follows, and only for members who separately \
                     consented:",
                )),
                vec![Capability::PartnerNotice],
            ));
            let rows = self
                .p
                .partners
                .iter()
                .map(|pt| {
                    vec![
                        pt.name.get(self.l).to_owned(),
                        self.join(
                            pt.purposes
                                .iter()
                                .filter_map(|id| self.p.purpose(id))
                                .map(|pp| pp.label.get(self.l)),
                        ),
                        self.item_labels_by_id(&pt.items),
                        self.retention_text(&pt.retention),
                        self.p
                            .consent(&pt.consent)
                            .map_or(pt.consent.clone(), |c| c.title.get(self.l).to_owned()),
                    ]
                })
                .collect();
            b.push((
                Block::Table {
                    headers: [
                        self.t("받는 자", "Recipient"),
                        self.t("받는 자의 이용 목적", "Recipient's purposes"),
                        self.t("제공 항목", "Items provided"),
                        self.t("받는 자의 보유 기간", "Recipient's retention"),
                        self.t("관련 동의", "Consent"),
                    ]
                    .map(str::to_owned)
                    .to_vec(),
                    rows,
                },
                vec![Capability::PartnerNotice],
            ));
        }
        // What is true without the notices: a partner needs a new policy version and its own
        // consent category, and nothing is given without that consent (docs/PROMISES.md row 73).
        b.extend(self.sentences(&[
            (
                &[Capability::PartnerNotice],
                self.t(
                    "제휴사에 개인정보를 새로 제공하거나 함께 이용하려면, 먼저 동의하지 않은 회원 한 분 \
                     한 분께 전자우편(전자문서)으로 제휴사가 누구인지, 어떤 항목을, 왜 제공하는지, \
                     언제까지 어떻게 보호하는지를 알리고 동의를 구합니다. 그 전에는 제공하지 않습니다.",
                    "Before any new provision to or sharing with a partner, we tell each member who \
                     has not consented, individually by e-mail (a written electronic notice), who \
                     the partner is, which items, why, and until when and how they are protected, \
                     and ask for consent. Nothing is provided before that.",
                ),
            ),
            (
                &[Capability::PartnerNotice],
                self.t(
                    "제공은 보내는 순간에 동의가 유효한 분의 정보만, 동의한 항목만 하며, 누구에게 어떤 \
                     항목을 언제 제공했는지는 마이페이지 「내 정보를 받은 곳」에서 보실 수 있습니다. \
                     탈퇴하시거나 제공 동의를 철회하시면 받는 자에게도 알립니다.",
                    "Only the data of members whose consent is in force when it leaves is \
                     provided, and only the items consented to; who received which items and when \
                     is on My page under 'Who received my data'. If you leave or withdraw the \
                     consent, the recipient is told too.",
                ),
            ),
            (
                &[Capability::ConsentLedger],
                self.t(
                    "제3자에게 제공하려면 그 제공을 적은 새 처리방침과 그 제공만을 위한 동의 구분이 \
                     있어야 하며, 동의하지 않으시면 제공하지 않습니다.",
                    "Any provision needs a new version of this policy that declares it and a \
                     consent category of its own; without your consent nothing is provided.",
                ),
            ),
        ]));
        self.section("third_party", b)
    }

    fn processors(&self) -> Section {
        let mut b = Vec::new();
        let shown: Vec<&Processor> = self
            .p
            .processors
            .iter()
            .filter(|pr| self.has(pr.capability()))
            .collect();
        if shown.is_empty() {
            b.extend(self.sentences(&[
                (
                    &[Capability::NoProvision],
                    self.t(
                        "현재 개인정보 처리를 외부에 맡기지 않고 회사가 자체 처리합니다 (위탁: 없음).",
                        "At present no processing is entrusted to anyone: we process personal \
                         data in-house (processors: none).",
                    ),
                ),
                (
                    &[Capability::PolicyChangeNotice],
                    self.t(
                        "처리를 맡기게 되면 미리 알립니다.",
                        "If we ever entrust processing, we tell you in advance.",
                    ),
                ),
                (
                    &[Capability::ProcessorRegister],
                    self.t(
                        "처리를 맡기게 되면 이 처리방침에 수탁자와 맡긴 업무를 공개합니다.",
                        "If we ever entrust processing, we publish the processor and the task in \
                         this policy.",
                    ),
                ),
            ]));
        } else {
            let caps: Vec<Capability> = shown.iter().map(|pr| pr.capability()).collect();
            b.extend(self.sentences(&[
                (
                    &caps,
                    self.t(
                        "회사는 서비스를 제공하려고 다음과 같이 개인정보 처리를 위탁합니다 \
                         (「개인정보 보호법」 제26조).",
                        "To provide the service we entrust processing as follows (PIPA Art. 26).",
                    ),
                ),
                (
                    &[Capability::ProcessorRegister],
                    self.t(
                        "수탁자가 바뀌면 이 처리방침에 지체 없이 반영합니다.",
                        "Any change of processor is reflected in this policy without delay.",
                    ),
                ),
            ]));
            let rows = shown
                .iter()
                .map(|pr| {
                    vec![
                        pr.name.get(self.l).to_owned(),
                        pr.task.get(self.l).to_owned(),
                        self.item_labels_by_id(&pr.items),
                        self.join(pr.duties.iter().map(|d| d.label(self.l))),
                        if pr.contract_on_file {
                            self.t("예", "yes")
                        } else {
                            self.t("아니오", "no")
                        }
                        .to_owned(),
                    ]
                })
                .collect();
            b.push((
                Block::Table {
                    headers: [
                        self.t("수탁자", "Processor"),
                        self.t("위탁 업무", "Task"),
                        self.t("처리 항목", "Items"),
                        self.t("계약상 의무", "Contract duties"),
                        self.t("계약서 보관", "Contract on file"),
                    ]
                    .map(str::to_owned)
                    .to_vec(),
                    rows,
                },
                caps,
            ));
        }
        if self.has(Capability::ProcessorContracts) {
            b.push((
                para(self.t(
                    "처리를 맡길 때에는 위탁 계약에 다음 의무를 분명히 정하고, 그 계약서를 서면 또는 \
                     전자 문서로 보관합니다.",
                    "Whenever processing is entrusted, the contract sets out the following duties, \
                     and the contract is kept on record in writing or electronically:",
                )),
                vec![Capability::ProcessorContracts],
            ));
            b.push((
                Block::List(
                    Duty::ALL
                        .iter()
                        .map(|d| d.label(self.l).to_owned())
                        .collect(),
                ),
                vec![Capability::ProcessorContracts],
            ));
        }
        self.section("processors", b)
    }

    fn safeguards(&self) -> Section {
        let period = self.p.access_log_period().describe(self.l);
        let log = if self.has(Capability::AccessLogRetention) {
            match self.l {
                Lang::Ko => format!("{period} 동안 보관합니다."),
                Lang::En => format!("It is kept for {period}."),
            }
        } else {
            // The chain is never purged: "at least" is what is true (docs/PROMISES.md row 89).
            match self.l {
                Lang::Ko => format!("이 기록은 최소 {period} 동안 보관합니다."),
                Lang::En => format!("It is kept for at least {period}."),
            }
        };
        let access = self.t(
            "개인정보를 조회할 때마다 누가, 언제, 누구의 어떤 항목을, 왜 조회했는지를 접속기록으로 \
             남기며, 이 기록은 한 줄이라도 고치면 알아낼 수 있게 이어져 있습니다.",
            "Every reading of personal data is written to an access log (who, when, whose data, \
             which items, why), chained so that any altered entry is detected.",
        );
        let items: Vec<(&[Capability], String)> = vec![
            (
                &[Capability::PasswordHash],
                self.t(
                    "비밀번호는 되돌릴 수 없는 일방향 해시(Argon2id)로만 저장합니다.",
                    "Passwords are stored only as one-way hashes (Argon2id) that cannot be \
                     reversed.",
                )
                .to_owned(),
            ),
            (
                &[Capability::SealedItems],
                self.t(
                    "회원의 개인정보는 회원마다 따로 만든 암호키로 항목별로 암호화하여 저장하므로, \
                     데이터베이스 파일만으로는 어떤 개인정보도 읽을 수 없습니다.",
                    "Every personal item is encrypted under the member's own key, so the database \
                     files alone reveal no personal data.",
                )
                .to_owned(),
            ),
            (
                &[Capability::KeySeparation],
                self.t(
                    "회원별 암호키는 마스터 키로 다시 암호화하여 데이터와 분리된 별도의 키 저장소에 \
                     보관합니다.",
                    "Member keys are themselves encrypted under a master key and kept in a \
                     separate key store, apart from the data.",
                )
                .to_owned(),
            ),
            (
                &[Capability::Tls],
                self.t(
                    "인터넷으로 주고받는 개인정보는 TLS로 암호화합니다.",
                    "Personal data sent over the internet is encrypted with TLS.",
                )
                .to_owned(),
            ),
            (
                &[Capability::StaffLeastPrivilege],
                self.t(
                    "개인정보 처리 권한은 업무에 꼭 필요한 직원에게만 최소한으로 줍니다.",
                    "Access rights are given only to staff who need them, as narrowly as possible.",
                )
                .to_owned(),
            ),
            (
                &[Capability::PurposeBoundReveal],
                self.t(
                    "개인정보는 이 처리방침이 그 항목에 허용한 목적으로만 조회할 수 있습니다.",
                    "An item can be read only for a purpose this policy allows for it.",
                )
                .to_owned(),
            ),
            (
                &[Capability::Staff2fa],
                self.t(
                    "직원은 2단계 인증으로 로그인합니다.",
                    "Staff log in with two-factor authentication.",
                )
                .to_owned(),
            ),
            (
                &[Capability::StaffIdleLogout],
                self.t(
                    "직원은 일정 시간 쓰지 않으면 자동으로 로그아웃됩니다.",
                    "Staff are logged out when idle.",
                )
                .to_owned(),
            ),
            (&[Capability::AccessLog], format!("{access} {log}")),
            (
                &[Capability::AccessLogReview],
                self.t("접속기록은 매월 점검합니다.", "The access log is reviewed monthly.")
                    .to_owned(),
            ),
            (
                &[Capability::LoginFailureLimit],
                self.t(
                    "로그인 실패 횟수를 제한하여 비밀번호를 알아내려는 시도를 막습니다.",
                    "Failed logins are limited, to stop password guessing.",
                )
                .to_owned(),
            ),
            (
                &[Capability::RateLimits],
                self.t(
                    "요청량을 제한하여 외부의 무단 접근을 막습니다.",
                    "Request rates are limited to keep out unauthorised access from outside.",
                )
                .to_owned(),
            ),
            (
                &[Capability::BreachNotice],
                self.t(
                    "개인정보가 유출되었거나 유출되었을 가능성을 알게 되면 72시간 안에 해당 정보주체에게 \
                     유출된 항목, 시점과 경위, 피해를 줄이는 방법, 대응 조치와 피해 구제 절차, 담당 \
                     부서와 연락처를 전자우편으로 알리고, 법이 정한 경우 개인정보보호위원회 또는 \
                     한국인터넷진흥원에 신고합니다(「개인정보 보호법」 제34조).",
                    "If we learn that personal data was leaked, or may have been, we tell each person \
                     involved by e-mail within 72 hours — the items, when and how, what they can do to \
                     reduce the harm, what we do and the remedies, and whom to contact — and report \
                     to the PIPC or KISA where the law requires (PIPA Art. 34).",
                )
                .to_owned(),
            ),
        ];
        let mut b = vec![fact(para(self.t(
            "개인정보가 분실·도난·유출·위조·변조·훼손되지 않도록 다음 조치를 합니다 \
             (「개인정보 보호법」 제29조, 「개인정보의 안전성 확보조치 기준」).",
            "To keep personal data from being lost, stolen, leaked, forged, altered or \
             damaged we take the measures below (PIPA Art. 29; Standards for Securing the \
             Safety of Personal Information).",
        )))];
        b.extend(self.list(items));
        self.section("safeguards", b)
    }

    fn cookies(&self) -> Section {
        let mut b = Vec::new();
        if self.p.cookies.is_empty() {
            b.extend(self.sentences(&[(
                &[Capability::CookieTable],
                self.t(
                    "회사는 쿠키 등 자동수집장치를 쓰지 않습니다.",
                    "We use no cookies or other automatic collection tools.",
                ),
            )]));
        } else {
            b.extend(self.sentences(&[
                (
                    &[],
                    self.t(
                        "쿠키는 누리집이 이용자의 브라우저에 저장해 두었다가 다시 읽는 작은 텍스트 \
                         파일입니다.",
                        "A cookie is a small text file the website stores in your browser and reads \
                         back later.",
                    ),
                ),
                (
                    &[Capability::CookieTable],
                    self.t(
                        "회사가 쓰는 쿠키와 그것으로 수집하는 정보는 아래 표에 적은 것이 전부입니다 \
                         (「개인정보 보호법」 제30조제1항).",
                        "The cookies we use, and what they collect, are exactly those in the table \
                         below (PIPA Art. 30(1)).",
                    ),
                ),
                (
                    // Over HTTPS the site sets each name with the `__Host-` prefix (jikimi-web's
                    // `CookieName`); the table keeps the plain names.
                    &[Capability::CookieTable, Capability::Tls],
                    self.t(
                        "보안 연결(HTTPS)에서는 표의 쿠키 이름 앞에 `__Host-`가 붙습니다. 이런 쿠키는 이 \
                         누리집만 보안 연결로 저장할 수 있어 다른 누리집이 바꿔 넣을 수 없습니다.",
                        "Over a secure connection (HTTPS) each cookie name in the table is prefixed with \
                         `__Host-`: such a cookie can be stored only by this website over a secure \
                         connection, so no other site can replace it.",
                    ),
                ),
            ]));
            let rows = self
                .p
                .cookies
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.collects.get(self.l).to_owned(),
                        c.purposes.get(self.l).to_owned(),
                        c.retention.get(self.l).to_owned(),
                    ]
                })
                .collect();
            b.push((
                Block::Table {
                    headers: [
                        self.t("쿠키", "Cookie"),
                        self.t("수집하는 정보", "What it collects"),
                        self.t("목적", "Purposes"),
                        self.t("보유 기간", "Retention"),
                    ]
                    .map(str::to_owned)
                    .to_vec(),
                    rows,
                },
                vec![Capability::CookieTable],
            ));
        }
        b.push(fact(para(self.p.cookie_choices.get(self.l))));
        self.section("cookies", b)
    }

    fn rights(&self) -> Section {
        let age = self.p.meta.child_age;
        let mut b = vec![fact(para(
            match (self.l, self.has(Capability::GuardianRights)) {
                (Lang::Ko, true) => format!(
                    "정보주체(만 {age}세 미만 아동은 법정대리인)는 언제든지 다음 권리를 행사할 수 \
                     있습니다 (「개인정보 보호법」 제35조부터 제38조까지)."
                ),
                (Lang::Ko, false) => "정보주체는 「개인정보 보호법」 제35조부터 제38조까지에 따라 \
                     다음 권리를 가집니다."
                    .to_owned(),
                (Lang::En, true) => format!(
                    "You (for a child under {age}, the legal guardian) may at any time exercise \
                     the following rights (PIPA Art. 35 to 38):"
                ),
                (Lang::En, false) => {
                    "Under PIPA Art. 35 to 38 you have the following rights:".to_owned()
                }
            },
        ))];
        b.push(fact(Block::List(vec![
            self.t("개인정보 열람 요구", "to view your personal data")
                .to_owned(),
            self.t(
                "오류 등이 있을 경우 정정·삭제 요구",
                "to have it corrected or deleted",
            )
            .to_owned(),
            self.t("처리정지 요구", "to have its processing suspended")
                .to_owned(),
            self.t("동의 철회", "to withdraw consent").to_owned(),
        ])));
        b.extend(self.sentences(&[
            (
                &[
                    Capability::SelfServiceAccess,
                    Capability::SelfServiceWithdrawal,
                    Capability::ConsentWithdrawalDeletes,
                ],
                self.t(
                    "열람과 정정은 '개인정보수정' 화면에서, 동의 철회와 그에 따른 삭제는 \
                     '동의철회 또는 회원탈퇴' 메뉴에서 직접 하실 수 있으며, 화면에서 하신 요구는 \
                     바로 처리됩니다.",
                    "You can view and correct your data yourself on the 'My data' page, and \
                     withdraw consent, which deletes what was held on it, under 'Withdraw \
                     consent or leave'; what you do there takes effect at once.",
                ),
            ),
            (
                &[Capability::OfficeRequests],
                self.t(
                    "개인정보 보호책임자·담당자에게 서면, 전화, 전자우편으로 요청하실 수도 있습니다.",
                    "You may also ask the privacy officer or manager by letter, phone or e-mail.",
                ),
            ),
            (
                &[Capability::AgentRequests],
                self.t(
                    "법정대리인이나 위임을 받은 대리인을 통해서도 할 수 있으며, 이때는 위임장을 내야 \
                     합니다.",
                    "A legal guardian or an authorised agent may act for you; an agent must \
                     present a power of attorney.",
                ),
            ),
        ]));
        if !self.has(Capability::OfficeRequests) {
            b.extend(self.sentences(&[(
                &[Capability::ComplaintHandling],
                self.t(
                    "화면에서 할 수 없는 요구나 문의는 아래 개인정보 보호책임자·담당자의 전자우편으로 \
                     보내 주시면 답해 드립니다.",
                    "For anything the page cannot do, write to the privacy officer or manager \
                     at the e-mail address below, and you will be answered.",
                ),
            )]));
        }
        b.extend(self.sentences(&[
            (
                &[Capability::RightsRequestDeadlines],
                self.t(
                    "요청을 받은 날부터 10일 안에 결과를 알려 드립니다.",
                    "We answer within 10 days of receiving a request.",
                ),
            ),
            (
                &[Capability::RequestRefusalNotice],
                self.t(
                    "열람을 미루거나 거절할 때, 삭제나 처리정지를 할 수 없을 때에는 그 이유와 이의를 \
                     제기하는 방법을 함께 알려 드립니다.",
                    "If viewing is postponed or refused, or deletion or suspension cannot be done, \
                     we tell you why and how to object.",
                ),
            ),
            (
                &[],
                self.t(
                    "다른 법령이 보존하도록 정한 정보는 삭제를 요구할 수 없습니다.",
                    "Data another law requires us to keep cannot be deleted on request.",
                ),
            ),
        ]));
        b.push(fact(para(self.t(
            "정보주체는 자신의 개인정보를 정확하게 유지하고, 다른 사람의 개인정보를 침해하지 \
             않아야 합니다.",
            "You should keep your own data accurate and must not infringe anyone else's \
             personal data.",
        ))));
        self.section("rights", b)
    }

    fn office(&self) -> Section {
        let row = |who: &str, c: &Contact| {
            vec![
                who.to_owned(),
                c.name.get(self.l).to_owned(),
                c.department.get(self.l).to_owned(),
                c.title.get(self.l).to_owned(),
                c.email.clone(),
                c.phone.clone().unwrap_or_else(|| "-".to_owned()),
            ]
        };
        let mut b = Vec::new();
        b.extend(self.sentences(&[
            (
                &[],
                self.t(
                    "회사는 개인정보 처리에 관한 업무를 총괄하고 정보주체의 의견을 듣고 불만을 \
                     처리하려고 아래와 같이 개인정보 보호책임자와 담당자를 두고 있습니다 \
                     (「개인정보 보호법」 제31조).",
                    "To oversee the processing of personal data, hear your opinions and handle \
                     your complaints, we have the privacy officer and manager below (PIPA \
                     Art. 31).",
                ),
            ),
            (
                &[Capability::ComplaintHandling],
                self.t(
                    "문의나 불만을 보내 주시면 지체 없이 처리하고 그 결과를 알려 드립니다.",
                    "Send us a question or complaint and we will deal with it without delay and \
                     tell you what was done.",
                ),
            ),
        ]));
        b.push(fact(Block::Table {
            headers: [
                self.t("구분", "Role"),
                self.t("성명", "Name"),
                self.t("소속", "Department"),
                self.t("직책", "Title"),
                self.t("전자우편", "E-mail"),
                self.t("전화", "Phone"),
            ]
            .map(str::to_owned)
            .to_vec(),
            rows: vec![
                row(
                    self.t("개인정보 보호책임자", "Privacy officer"),
                    &self.p.officer,
                ),
                row(
                    self.t("개인정보 보호담당자", "Privacy manager"),
                    &self.p.manager,
                ),
            ],
        }));
        b.push(fact(para(self.t(
            "개인정보 침해에 대한 신고나 상담이 필요하면 다음 기관에도 문의하실 수 있습니다.",
            "For reports of or advice on infringements of personal data, you can also \
             contact:",
        ))));
        b.push(fact(Block::List(vec![
            self.t(
                "개인정보침해신고센터 (한국인터넷진흥원): privacy.kisa.or.kr, 국번 없이 118",
                "Personal Information Infringement Report Center (KISA): \
                 privacy.kisa.or.kr, 118",
            )
            .to_owned(),
            self.t(
                "개인정보분쟁조정위원회: www.kopico.go.kr, 1833-6972",
                "Personal Information Dispute Mediation Committee: www.kopico.go.kr, \
                 1833-6972",
            )
            .to_owned(),
            self.t(
                "대검찰청: www.spo.go.kr, 국번 없이 1301",
                "Supreme Prosecutors' Office: www.spo.go.kr, 1301",
            )
            .to_owned(),
            self.t(
                "경찰청: ecrm.police.go.kr, 국번 없이 182",
                "Korean National Police Agency: ecrm.police.go.kr, 182",
            )
            .to_owned(),
        ])));
        self.section("office", b)
    }

    fn pseudonymised(&self) -> Section {
        let mut b = Vec::new();
        b.extend(self.sentences(&[(
            &[Capability::NoPseudonymisation],
            self.t(
                "회사는 가명정보를 처리하지 않습니다. 처리하게 되면 미리 이 처리방침에 그 목적, \
                 항목과 안전조치를 공개합니다.",
                "We do not process pseudonymised data. Should we start, we will first publish its \
                 purposes, items and safeguards in this policy.",
            ),
        )]));
        self.section("pseudonymised", b)
    }

    fn changes(&self) -> Section {
        let date = self.date(self.p.meta.effective_date);
        let version = self.p.version().as_str();
        let mut b = vec![fact(para(match self.l {
            Lang::Ko => format!("이 처리방침은 {date}부터 적용됩니다."),
            Lang::En => format!("This policy applies from {date}."),
        }))];
        let stamp = match self.l {
            Lang::Ko => format!("판 식별값(SHA-256): {version}."),
            Lang::En => format!("Version (SHA-256): {version}."),
        };
        b.extend(self.sentences(&[
            (&[], &stamp),
            (
                &[Capability::ConsentLedger],
                self.t(
                    "회원의 동의 기록에는 동의할 당시의 판 식별값을 함께 남깁니다.",
                    "Every consent record stores the version in force when the consent was given.",
                ),
            ),
        ]));
        b.extend(self.sentences(&[
            (
                &[Capability::PolicyChangeNotice],
                self.t(
                    "처리방침을 바꿀 때에는 시행 7일 전부터 누리집에 알리며, 회원에게 불리한 중요한 \
                     변경은 30일 전부터 알립니다.",
                    "Changes to this policy are announced on the website at least 7 days before \
                     they take effect, and 30 days before for important changes to your \
                     disadvantage.",
                ),
            ),
            (
                &[Capability::PolicyHistory],
                self.t(
                    "이전 판은 누리집에서 계속 볼 수 있습니다.",
                    "Earlier versions remain available on the website.",
                ),
            ),
        ]));
        self.section("changes", b)
    }
}

// ---------------------------------------------------------------------------------------
// Output formats
// ---------------------------------------------------------------------------------------

/// Width of the text output, in terminal columns.
const TEXT_WIDTH: usize = 80;

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// Display width in terminal columns (Hangul and other East Asian wide characters count 2).
fn width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

/// Word-wraps `text` to `max` columns; the first line starts with `first`, the others with
/// `rest`.
fn wrap(text: &str, max: usize, first: &str, rest: &str, out: &mut String) {
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && width(&line) + 1 + width(word) > max {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_owned();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

fn text_table(headers: &[String], rows: &[Vec<String>], out: &mut String) {
    let cols = headers.len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .chain(headers.get(c))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total: usize = widths.iter().sum::<usize>() + 3 * cols.saturating_sub(1) + 2;
    if total <= TEXT_WIDTH {
        let line = |cells: &[String], out: &mut String| {
            let parts: Vec<String> = (0..cols)
                .map(|c| pad(cells.get(c).map_or("", String::as_str), widths[c]))
                .collect();
            out.push_str("  ");
            out.push_str(parts.join(" | ").trim_end());
            out.push('\n');
        };
        line(headers, out);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out.push_str("  ");
        out.push_str(&rule.join("-+-"));
        out.push('\n');
        for r in rows {
            line(r, out);
        }
    } else {
        // Too wide for a grid: one record per row, "header: value" lines.
        for r in rows {
            let title = r.first().map_or("", String::as_str);
            wrap(title, TEXT_WIDTH, "  * ", "    ", out);
            for (h, v) in headers.iter().zip(r.iter()).skip(1) {
                wrap(&format!("{h}: {v}"), TEXT_WIDTH, "      ", "        ", out);
            }
        }
    }
}

fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

impl Document {
    /// The section with this id.
    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    fn labels(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::Ko => ("판 식별값", "시행일"),
            Lang::En => ("Version", "Effective"),
        }
    }

    fn date_text(&self) -> String {
        date_in(self.lang, self.effective_date)
    }

    /// Plain text, wrapped to 80 terminal columns (Hangul counted as 2).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.title);
        out.push('\n');
        out.push_str(&"=".repeat(width(&self.title)));
        out.push('\n');
        let (v, e) = self.labels();
        let _ = writeln!(out, "{v}: {}", self.version);
        let _ = writeln!(out, "{e}: {}", self.date_text());
        for (n, s) in self.sections.iter().enumerate() {
            out.push('\n');
            let h = format!("{}. {}", n + 1, s.heading);
            out.push_str(&h);
            out.push('\n');
            out.push_str(&"-".repeat(width(&h)));
            out.push('\n');
            for b in &s.blocks {
                out.push('\n');
                match b {
                    Block::Paragraph(p) => wrap(p, TEXT_WIDTH, "", "", &mut out),
                    Block::List(items) => {
                        for i in items {
                            wrap(i, TEXT_WIDTH, "  - ", "    ", &mut out);
                        }
                    }
                    Block::Table { headers, rows } => text_table(headers, rows, &mut out),
                }
            }
        }
        out
    }

    /// Markdown (CommonMark with GFM tables).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", self.title);
        let (v, e) = self.labels();
        let _ = writeln!(out, "- {v}: `{}`", self.version);
        let _ = writeln!(out, "- {e}: {}", self.date_text());
        for (n, s) in self.sections.iter().enumerate() {
            let _ = writeln!(out, "\n## {}. {}", n + 1, s.heading);
            for b in &s.blocks {
                out.push('\n');
                match b {
                    Block::Paragraph(p) => {
                        out.push_str(p);
                        out.push('\n');
                    }
                    Block::List(items) => {
                        for i in items {
                            let _ = writeln!(out, "- {i}");
                        }
                    }
                    Block::Table { headers, rows } => {
                        let cells: Vec<String> = headers.iter().map(|h| md_cell(h)).collect();
                        let _ = writeln!(out, "| {} |", cells.join(" | "));
                        let _ = writeln!(out, "|{}", " --- |".repeat(headers.len()));
                        for r in rows {
                            let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
                            let _ = writeln!(out, "| {} |", cells.join(" | "));
                        }
                    }
                }
            }
        }
        out
    }
}
