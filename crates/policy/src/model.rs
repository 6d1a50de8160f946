//! The public, validated policy model.
//!
//! Values of this module are produced by the loader (`Policy::from_toml_str`,
//! `Policy::load_file`, `Policy::builtin`), which guarantees that every reference between
//! them resolves, or read back from the JSON a loaded policy serialised to (the `document` a
//! store records for each version): a [`Policy`] deserialises with its version computed from
//! what was read, so a caller compares it with the version it expects. Enum values serialise in `snake_case`, [`Period`] as its TOML form
//! (`"5y"`), and [`Lang`] as `"ko"` / `"en"`.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::period::Period;
use crate::version::PolicyVersion;

/// The two languages the policy is written in.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Korean (the default).
    #[default]
    Ko,
    /// English.
    En,
}

impl Lang {
    /// Both languages, Korean first.
    pub const ALL: [Lang; 2] = [Lang::Ko, Lang::En];

    /// `"ko"` → `Ko`, `"en"` → `En` (case-insensitive, surrounding blanks ignored).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ko" => Some(Lang::Ko),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language code, `"ko"` or `"en"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lang::parse(s).ok_or_else(|| format!("unknown language {s:?} (expected \"ko\" or \"en\")"))
    }
}

/// A text in Korean and English. In TOML: `{ ko = "…", en = "…" }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Korean.
    pub ko: String,
    /// English.
    pub en: String,
}

impl Text {
    /// Builds a text from its two translations.
    pub fn new(ko: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            ko: ko.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ko => &self.ko,
            Lang::En => &self.en,
        }
    }

    /// True if the Korean text contains [`SAMPLE_MARKER`]: an example, not a real declaration.
    pub fn is_sample(&self) -> bool {
        self.ko.contains(SAMPLE_MARKER)
    }
}

/// The marker of a sample entry: an entry whose Korean text contains it is an example
/// written so that a section renders, and must not be shown on a live site
/// ([`Policy::sample_entries`], warning `sample_entry`).
pub const SAMPLE_MARKER: &str = "(예시)";

/// An entry of the policy marked as a sample ([`SAMPLE_MARKER`] in one of its Korean texts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SampleEntry {
    /// The table it is in: `meta`, `operator`, `officer`, `manager`, `purpose`, `item`,
    /// `consent`, `retention`, `retention_note`, `partner`, `processor`, `cookie` or
    /// `cookie_choices`.
    pub table: &'static str,
    /// The entry's id in an array of tables (for `retention_note`, its 0-based index); empty
    /// for a single table such as `operator`.
    pub id: String,
}

impl SampleEntry {
    /// The key path, as in warnings: `partner.sample_insurer`, `retention_note[0]`, `operator`.
    pub fn key(&self) -> String {
        match (self.table, self.id.as_str()) {
            (t, "") => t.to_owned(),
            ("retention_note", i) => format!("retention_note[{i}]"),
            (t, id) => format!("{t}.{id}"),
        }
    }
}

impl fmt::Display for SampleEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The whole privacy policy: the single source of truth of what is processed, why, on
/// which basis and for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "PolicyFields")]
pub struct Policy {
    /// Identity, title, date and modes of the policy.
    pub meta: Meta,
    /// Who processes the data (개인정보처리자).
    pub operator: Operator,
    /// 개인정보 보호책임자.
    pub officer: Contact,
    /// 개인정보 보호담당자.
    pub manager: Contact,
    /// Processing purposes, in declared order.
    pub purposes: Vec<Purpose>,
    /// Personal items, in declared order (this is the form order).
    pub items: Vec<Item>,
    /// Consent categories, in declared order (this is the consent screen order).
    pub consents: Vec<ConsentCategory>,
    /// Retention classes.
    pub retention: Vec<RetentionClass>,
    /// Recipients of third-party provision (제3자 제공).
    pub partners: Vec<Partner>,
    /// Processors (수탁자, 처리위탁).
    pub processors: Vec<Processor>,
    /// Cookies and other automatic collection tools.
    pub cookies: Vec<Cookie>,
    /// How a person accepts all cookies, is asked each time, or refuses them.
    pub cookie_choices: Text,
    /// Extra retention promises without a fixed period, rendered in the retention section
    /// (e.g. periods announced in advance or individually consented to).
    pub retention_notes: Vec<Text>,
    /// Promises kept by people, not code, that the operator declares under `[promises]
    /// organisational` (only [`crate::Kind::Organisational`] capabilities).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organisational: Vec<crate::Capability>,
    /// SHA-256 of the canonical form, computed once at load.
    #[serde(skip)]
    pub(crate) version: PolicyVersion,
}

/// A [`Policy`] as serialised, without its version: what a policy is deserialised through
/// (for example the `document` a store recorded), so that the version of a policy read back
/// is computed from its fields exactly as at load. Deserialising does not validate: it is
/// for reading back what a loaded policy serialised, which the version hash confirms.
#[derive(Deserialize)]
struct PolicyFields {
    meta: Meta,
    operator: Operator,
    officer: Contact,
    manager: Contact,
    purposes: Vec<Purpose>,
    items: Vec<Item>,
    consents: Vec<ConsentCategory>,
    retention: Vec<RetentionClass>,
    partners: Vec<Partner>,
    processors: Vec<Processor>,
    cookies: Vec<Cookie>,
    cookie_choices: Text,
    retention_notes: Vec<Text>,
    #[serde(default)]
    organisational: Vec<crate::Capability>,
}

impl From<PolicyFields> for Policy {
    fn from(f: PolicyFields) -> Policy {
        let mut policy = Policy {
            meta: f.meta,
            operator: f.operator,
            officer: f.officer,
            manager: f.manager,
            purposes: f.purposes,
            items: f.items,
            consents: f.consents,
            retention: f.retention,
            partners: f.partners,
            processors: f.processors,
            cookies: f.cookies,
            cookie_choices: f.cookie_choices,
            retention_notes: f.retention_notes,
            organisational: f.organisational,
            version: PolicyVersion::default(),
        };
        policy.version = policy.compute_version();
        policy
    }
}

/// Identity, title, date and modes of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Profile id, e.g. `"lifeplan"`.
    pub id: String,
    /// Title of the published document.
    pub title: Text,
    /// Date from which this version applies.
    pub effective_date: NaiveDate,
    /// How consent is asked at sign-up.
    pub consent_mode: ConsentMode,
    /// How a member's identity is established.
    pub identity: IdentityMode,
    /// Below this age (만 나이, full years) a legal guardian must consent. 14 under PIPA.
    pub child_age: u32,
    /// What a child under `child_age` reads before asking a guardian, in plain words
    /// (R-CHD-05): the child's screens show it. Not serialised when absent, so earlier versions
    /// keep their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_notice: Option<Text>,
    /// What this version changes from the one before, for the announcement (R-POL-02). Absent
    /// in a first version; not serialised when absent, so earlier versions keep their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// What a new version of the policy changes, as announced to members before it applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Change {
    /// What changes, in a sentence or two.
    pub summary: Text,
    /// The change is to members' disadvantage (a new purpose, a longer period, a new
    /// recipient): announced 30 days ahead instead of 7.
    #[serde(default)]
    pub disadvantage: bool,
}

impl Change {
    /// Days the change must be announced before it applies: 30 to members' disadvantage, else 7.
    pub fn notice_days(change: Option<&Change>) -> u64 {
        if change.is_some_and(|c| c.disadvantage) {
            30
        } else {
            7
        }
    }
}

/// How consent is asked at sign-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// Current law: contract items on notice, one unchecked box per optional category.
    Separate,
    /// The seed: the whole policy is shown and the person clicks 동의함 or 동의하지 않음.
    SingleAgreement,
}

/// How a member's identity is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMode {
    /// 본인확인 through a designated provider: CI/DI and birth date.
    Verification,
    /// Name and 주민등록번호 (the seed; restricted by PIPA Art. 24-2).
    Rrn,
}

/// The operator (개인정보처리자), with the company information Korean sites show in their
/// footer (전자상거래법 제10조: 상호, 대표자, 주소, 전화, 전자우편, 사업자등록번호,
/// 통신판매업 신고번호). See [`Policy::operator_lines`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// Name of the site or service as members know it (e.g. 라이프플랜).
    pub name: Text,
    /// Website address.
    pub website: String,
    /// 상호: the company's legal name (e.g. 주식회사 라이프플랜). Optional in the file; a
    /// policy without it loads with warning `operator_info`.
    pub company: Option<Text>,
    /// 대표자: the representative's name. Optional; warning `operator_info` if absent.
    pub representative: Option<Text>,
    /// Postal address (주소), if published.
    pub address: Option<Text>,
    /// 사업자등록번호 as `NNN-NN-NNNNN`, check digit verified at load. Optional; warning
    /// `operator_info` if absent.
    pub business_number: Option<String>,
    /// 통신판매업 신고번호, free text as issued (e.g. `제2026-서울중구-0000호`), if any.
    pub mail_order_number: Option<String>,
    /// Main phone number (대표전화, 고객센터), if published.
    pub phone: Option<String>,
    /// Customer-centre e-mail address, if published.
    pub email: Option<String>,
    /// Holds data of 50,000+ people or unique identifiers: staff access logs are kept 2
    /// years instead of 1 (안전성 확보조치 기준 제8조).
    pub large_scale: bool,
}

/// One line of the operator's company information, as shown in a site footer
/// ([`Policy::operator_lines`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorLine {
    /// Stable key: `company`, `representative`, `address`, `business_number`,
    /// `mail_order_number`, `phone` or `email`.
    pub key: &'static str,
    /// Label in the requested language (e.g. `사업자등록번호`).
    pub label: &'static str,
    /// Value in the requested language.
    pub value: String,
}

/// A person of the privacy office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name.
    pub name: Text,
    /// Department (소속).
    pub department: Text,
    /// Title (직책).
    pub title: Text,
    /// E-mail address.
    pub email: String,
    /// Phone number, if published.
    pub phone: Option<String>,
}

/// A processing purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    /// Stable id (`snake_case`).
    pub id: String,
    /// Short label.
    pub label: Text,
    /// What the purpose covers.
    pub description: Text,
    /// If set, the purpose is pursued only for people who gave this consent category
    /// (e.g. marketing use of a contract item).
    pub consent: Option<String>,
}

/// A personal item (a form field, or a value received from a provider).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id (`snake_case`); outside clients rely on it.
    pub id: String,
    /// Label shown on forms and in the policy.
    pub label: Text,
    /// Format of the value.
    pub kind: ItemKind,
    /// Must be given in its context.
    pub required: bool,
    /// Legal basis of processing.
    pub basis: LegalBasis,
    /// Consent category covering the item (set iff `basis == Consent`).
    pub consent: Option<String>,
    /// Purpose ids (at least one).
    pub purposes: Vec<String>,
    /// Sensitivity class.
    pub sensitivity: Sensitivity,
    /// Retention class id.
    pub retention: String,
    /// When the item is collected.
    pub context: Context,
    /// Maximum length in characters, if limited.
    pub max_len: Option<usize>,
    /// Choices for `Choice` / `MultiChoice`.
    pub choices: Vec<Choice>,
    /// Help text shown with the field.
    pub help: Option<Text>,
    /// Unique among members (checked through a blind index).
    pub unique: bool,
}

/// One choice of a `Choice` / `MultiChoice` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable id stored as the value.
    pub id: String,
    /// Label shown.
    pub label: Text,
}

/// Format of an item's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// Person's name.
    Name,
    /// 주민등록번호.
    Rrn,
    /// E-mail address.
    Email,
    /// Mobile phone number.
    Mobile,
    /// Landline phone number (일반전화).
    Phone,
    /// 5-digit postal code.
    PostalCode,
    /// Road-name address.
    Address,
    /// Address detail line (동·층·호).
    AddressDetail,
    /// Birth date.
    BirthDate,
    /// Connecting information (CI) from 본인확인.
    Ci,
    /// Duplicate-joining information (DI) from 본인확인.
    Di,
    /// Free text.
    Text,
    /// One of `choices`.
    Choice,
    /// Any of `choices`.
    MultiChoice,
    /// Bank name.
    BankName,
    /// Bank account number.
    AccountNumber,
    /// Account holder name.
    AccountHolder,
    /// Card type / issuer.
    CardType,
    /// Card number.
    CardNumber,
    /// Card expiry (MM/YY).
    CardExpiry,
    /// Instalment months.
    Installment,
}

/// Legal basis of processing an item (PIPA Art. 15(1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Necessary for the contract with the person (Art. 15(1)4): processed on notice.
    Contract,
    /// Required by law (Art. 15(1)2).
    Law,
    /// Consent (Art. 15(1)1).
    Consent,
}

/// How sensitive an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Ordinary personal information.
    Normal,
    /// Unique identifier (고유식별정보) or an identifier treated like one (CI/DI).
    UniqueIdentifier,
    /// Sensitive information (민감정보, Art. 23).
    Sensitive,
    /// Account or card data (must be encrypted at rest).
    Financial,
}

/// When an item is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// At sign-up (S1).
    Signup,
    /// When paying (S2).
    Payment,
    /// When a prize is to be delivered (S3).
    Prize,
    /// When a child under the policy's age asks a legal guardian to consent, and the guardian
    /// consents (S13).
    Guardian,
}

impl Context {
    /// All contexts, in the order they are presented.
    pub const ALL: [Context; 4] = [
        Context::Signup,
        Context::Guardian,
        Context::Payment,
        Context::Prize,
    ];
}

/// A consent category: one checkbox and one ledger row per member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCategory {
    /// Stable id.
    pub id: String,
    /// What kind of consent.
    pub kind: ConsentKind,
    /// Title on the consent screen.
    pub title: Text,
    /// Purpose shown before consent.
    pub purpose: Text,
    /// Channel of an `AdReception` consent.
    pub channel: Option<Channel>,
    /// Only a `PolicyAgreement` may be required.
    pub required: bool,
    /// Explicit items (ThirdParty / Marketing / AdReception). For OptionalItems and
    /// PolicyAgreement use [`Policy::items_for_consent`].
    pub items: Vec<String>,
    /// Retention class id of data processed under this consent.
    pub retention: String,
    /// The right to refuse and what refusing means.
    pub refusal: Text,
    /// Partner id of a `ThirdParty` consent.
    pub partner: Option<String>,
}

/// Kind of consent category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Collection and use of optional items (Art. 15(1)1).
    OptionalItems,
    /// Provision to a third party (Art. 17(1)1).
    ThirdParty,
    /// Processing for marketing (Art. 22(1)7).
    Marketing,
    /// Receiving advertising on one channel (정보통신망법 Art. 50).
    AdReception,
    /// The seed's single agreement to the whole policy.
    PolicyAgreement,
}

/// Channel of advertising.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// E-mail.
    Email,
    /// SMS / messenger.
    Sms,
    /// App push.
    Push,
}

/// A retention class: how long a kind of record is kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionClass {
    /// Stable id.
    pub id: String,
    /// Label.
    pub label: Text,
    /// Period.
    pub period: Period,
    /// Legal basis, e.g. 전자상거래법 시행령 제6조.
    pub basis: Text,
    /// What is kept.
    pub records: Text,
    /// Kept in the separate retention store after the member leaves.
    pub after_withdrawal: bool,
    /// A record of this class is made for every member at withdrawal (for example the
    /// membership contract and its withdrawal), sealed into the retention store.
    pub withdrawal_record: bool,
    /// What that record keeps: item ids (the minimal basic information the law allows, for
    /// example the name) and `login_id` / `consent_history`; everything else is destroyed with
    /// the member's key.
    pub keeps: Vec<String>,
}

/// A recipient of third-party provision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// Stable id.
    pub id: String,
    /// Recipient name.
    pub name: Text,
    /// The recipient's purposes (purpose ids).
    pub purposes: Vec<String>,
    /// Items provided (item ids).
    pub items: Vec<String>,
    /// The recipient's retention (retention class id).
    pub retention: String,
    /// The `ThirdParty` consent category id.
    pub consent: String,
}

/// A processor (수탁자).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processor {
    /// Stable id.
    pub id: String,
    /// Processor name.
    pub name: Text,
    /// Entrusted task.
    pub task: Text,
    /// Items the processor handles (item ids).
    pub items: Vec<String>,
    /// Contract duties (all four are required).
    pub duties: Vec<Duty>,
    /// The contract is kept on record (in writing or electronically).
    pub contract_on_file: bool,
    /// The capability that hands the items to the processor (`needs`; `None`:
    /// [`crate::Capability::ProcessorIntegration`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<crate::Capability>,
}

/// A duty in an entrustment contract (PIPA Art. 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    /// Follow the controller's instructions on personal data.
    FollowInstructions,
    /// Keep personal data confidential.
    Confidentiality,
    /// Never provide it onward to anyone else.
    NoOnwardSharing,
    /// Bear liability for incidents.
    Liability,
}

impl Duty {
    /// The four duties every entrustment contract must contain.
    pub const ALL: [Duty; 4] = [
        Duty::FollowInstructions,
        Duty::Confidentiality,
        Duty::NoOnwardSharing,
        Duty::Liability,
    ];
}

/// A cookie or other automatic collection tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cookie {
    /// Stable id.
    pub id: String,
    /// Cookie name as set in the browser.
    pub name: String,
    /// What it collects.
    pub collects: Text,
    /// Why.
    pub purposes: Text,
    /// How long.
    pub retention: Text,
}

macro_rules! labels {
    ($ty:ty { $($variant:ident => $ko:literal, $en:literal;)* }) => {
        impl $ty {
            /// Human-readable label in `lang`.
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (<$ty>::$variant, Lang::Ko) => $ko, (<$ty>::$variant, Lang::En) => $en, )*
                }
            }
        }
    };
}

labels!(LegalBasis {
    Contract => "계약 이행", "performance of the contract";
    Law => "법령상 의무", "legal obligation";
    Consent => "동의", "consent";
});

labels!(Sensitivity {
    Normal => "일반", "ordinary";
    UniqueIdentifier => "고유 식별값", "unique identifier";
    Sensitive => "민감정보", "sensitive information";
    Financial => "금융정보", "financial information";
});

labels!(Context {
    Signup => "회원가입 시", "at sign-up";
    Payment => "요금 결제 시", "when paying";
    Prize => "이벤트 경품 배송 시", "for event prize delivery";
    Guardian => "만 14세 미만 아동의 법정대리인 동의 시", "when a guardian consents for a child under 14";
});

labels!(ConsentKind {
    OptionalItems => "선택 항목 수집·이용", "collection and use of optional items";
    ThirdParty => "제3자 제공", "provision to a third party";
    Marketing => "마케팅 목적 이용", "use for marketing";
    AdReception => "광고성 정보 수신", "receiving advertising";
    PolicyAgreement => "개인정보 처리방침 동의", "agreement to the privacy policy";
});

labels!(Channel {
    Email => "전자우편", "e-mail";
    Sms => "문자메시지", "text message";
    Push => "앱 푸시", "app push";
});

labels!(Duty {
    FollowInstructions => "개인정보 보호에 관한 지시 준수", "following instructions on personal data";
    Confidentiality => "개인정보의 비밀 유지", "keeping personal data confidential";
    NoOnwardSharing => "제3자 제공 금지", "no provision to anyone else";
    Liability => "사고 발생 시 책임 부담", "liability for incidents";
});

labels!(ConsentMode {
    Separate => "항목별 개별 동의", "separate consent per category";
    SingleAgreement => "처리방침 일괄 동의", "single agreement to the policy";
});

labels!(IdentityMode {
    Verification => "본인확인기관을 통한 본인확인", "identity verification through a provider";
    Rrn => "성명·주민등록번호", "name and resident registration number";
});

// ---------------------------------------------------------------------------------------
// Sample entries: an entry is a sample if any of its Korean texts carries SAMPLE_MARKER.
// ---------------------------------------------------------------------------------------

fn any_sample<'a>(texts: impl IntoIterator<Item = &'a Text>) -> bool {
    texts.into_iter().any(Text::is_sample)
}

impl Operator {
    /// True if a text of the operator is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample(
            [Some(&self.name), self.company.as_ref()]
                .into_iter()
                .chain([self.representative.as_ref(), self.address.as_ref()])
                .flatten(),
        )
    }
}

impl Contact {
    /// True if a text of the contact is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample([&self.name, &self.department, &self.title])
    }
}

impl Purpose {
    /// True if the label or description is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample([&self.label, &self.description])
    }
}

impl Item {
    /// True if the label, help or a choice label is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample(
            std::iter::once(&self.label)
                .chain(self.help.as_ref())
                .chain(self.choices.iter().map(|c| &c.label)),
        )
    }
}

impl ConsentCategory {
    /// True if the title, purpose or refusal text is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample([&self.title, &self.purpose, &self.refusal])
    }
}

impl RetentionClass {
    /// True if the label, basis or records text is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample([&self.label, &self.basis, &self.records])
    }
}

impl Partner {
    /// True if the name is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        self.name.is_sample()
    }
}

impl Processor {
    /// True if the name or task is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample([&self.name, &self.task])
    }
}

impl Cookie {
    /// True if a text of the cookie is marked [`SAMPLE_MARKER`].
    pub fn is_sample(&self) -> bool {
        any_sample([&self.collects, &self.purposes, &self.retention])
    }
}
