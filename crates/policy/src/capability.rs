//! The promise ledger: every mechanism the published 처리방침 may promise is a named
//! [`Capability`]. A capability is kept either by code (and then names the tests that prove
//! it) or by people (organisational: the policy file declares it under `[promises]`).
//!
//! The renderer prints a promise only when its capability is present
//! ([`crate::render::document_with`]); `jikimi policy check` and `serve` refuse a policy whose
//! sections need a capability that is missing ([`crate::Loaded::missing_capabilities`]).
//! Names and statuses follow `docs/PROMISES.md`.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Who keeps a promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The code keeps it; named tests fail without it.
    Code,
    /// People keep it (the officer reading a letter, paper being shredded). Present only if
    /// the policy file declares it in `[promises] organisational`.
    Organisational,
}

macro_rules! capabilities {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $kind:ident, $desc:literal, [$($test:literal),* $(,)?]; )*) => {
        /// A mechanism a sentence of the 처리방침 may promise. See the module docs.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum Capability {
            $( $(#[$doc])* $variant, )*
        }

        impl Capability {
            /// Every capability, in declaration order.
            pub const ALL: &'static [Capability] = &[$(Capability::$variant),*];

            /// The snake_case name (as in `docs/PROMISES.md` and the policy file).
            pub fn name(self) -> &'static str {
                match self { $(Capability::$variant => $name,)* }
            }

            /// Who keeps it.
            pub fn kind(self) -> Kind {
                match self { $(Capability::$variant => Kind::$kind,)* }
            }

            /// What it is, in one sentence.
            pub fn description(self) -> &'static str {
                match self { $(Capability::$variant => $desc,)* }
            }

            /// For a code capability, the tests that prove it, as
            /// `"crate/path/file.rs::test_name"` (paths under `crates/`). Empty for
            /// organisational ones and for code not built yet.
            pub fn tests(self) -> &'static [&'static str] {
                match self { $(Capability::$variant => &[$($test),*],)* }
            }
        }
    };
}

capabilities! {
    // ----- kept by code in this build (KEPT in docs/PROMISES.md) -------------------------
    /// Sign-up takes exactly the declared items, on their basis.
    SignupItems = "signup_items", Code,
        "sign-up refuses undeclared items and checks each item's basis and consent",
        ["core/tests/invariants.rs::failed_signups_leave_nothing_behind",
         "web/tests/api.rs::an_item_added_to_the_policy_file_appears_everywhere"];
    /// Passwords are stored only as Argon2id hashes.
    PasswordHash = "password_hash", Code,
        "passwords are stored only as one-way Argon2id hashes",
        ["vault/src/password.rs::owasp_hash_verifies_and_records_parameters",
         "core/tests/invariants.rs::raw_files_hold_no_personal_values_on_both_profiles"];
    /// Refusing optional items or consents never limits sign-up.
    OptionalItemsFree = "optional_items_free", Code,
        "refusing every optional item and consent still signs up",
        ["core/tests/invariants.rs::refusing_every_optional_consent_still_signs_up",
         "web/tests/browser.rs::lifeplan_every_optional_consent_refused_still_joins"];
    /// Items come only from the sign-up and correction screens; no import path.
    SingleChannel = "single_channel", Code,
        "items enter only through sign-up and correction; core is the only door to the store",
        ["core/tests/boundaries.rs::no_crate_but_core_reaches_the_store_or_the_key_ring",
         "core/tests/invariants.rs::failed_signups_leave_nothing_behind"];
    /// CI, DI and birth date come from the 본인확인 step, not from the member's typing.
    IdentityVerificationFlow = "identity_verification_flow", Code,
        "verified items come from the identity provider's answer, one sign-up per verification",
        ["core/tests/sessions.rs::identity_verification_by_sms_code_feeds_one_sign_up",
         "web/tests/browser.rs::lifeplan_sign_up_with_identity_verification_correct_and_withdraw",
         "core/tests/portone.rs::a_portone_verification_feeds_one_sign_up_and_the_same_person_cannot_join_twice",
         "core/tests/portone.rs::only_a_verified_answer_for_an_id_issued_here_once_and_in_time_is_taken",
         "web/tests/portone.rs::a_visitor_cancels_the_portone_window_once_then_joins_through_it"];
    /// One account per person (RRN, CI or DI unique).
    OneAccount = "one_account", Code,
        "a second sign-up of the same person is refused, even concurrently",
        ["core/tests/invariants.rs::failed_signups_leave_nothing_behind",
         "jikimi/tests/cluster.rs::fifty_concurrent_sign_ups_of_one_person_make_one_member"];
    /// The cookie table is exactly the cookies the site sets.
    CookieTable = "cookie_table", Code,
        "every Set-Cookie name the site sends is a declared cookie",
        ["web/tests/pages.rs::lifeplan_every_page_fits_and_is_accessible",
         "web/tests/pages.rs::seed_every_page_fits_and_is_accessible"];
    /// Contract items are processed on notice, without a consent box.
    ContractNotice = "contract_notice", Code,
        "contract items are shown on the sign-up page without a consent box",
        ["web/tests/browser.rs::lifeplan_sign_up_with_identity_verification_correct_and_withdraw"];
    /// Every consent box starts unticked.
    UntickedConsents = "unticked_consents", Code,
        "every consent box of the sign-up page starts unticked",
        ["web/tests/browser.rs::lifeplan_sign_up_with_identity_verification_correct_and_withdraw"];
    /// One append-only ledger row per consent category, with the policy version.
    ConsentLedger = "consent_ledger", Code,
        "each consent is recorded on its own, append-only, with the policy version",
        ["core/tests/invariants.rs::consent_ledger_is_append_only_and_withdrawal_deletes_optional_items",
         "web/tests/browser.rs::withdrawing_a_consent_says_what_it_deletes_and_what_happened"];
    /// The seed's single agreement: disagreeing stores nothing.
    SingleAgreement = "single_agreement", Code,
        "the single agreement to the policy: 「동의하지 않음」 stores nothing",
        ["web/tests/browser.rs::seed_profile_disagree_stores_nothing",
         "core/tests/invariants.rs::failed_signups_leave_nothing_behind"];
    /// Every read names a purpose the policy lists for the item.
    PurposeBoundReveal = "purpose_bound_reveal", Code,
        "every read of an item names a purpose the policy lists for it (and its consent)",
        ["core/tests/invariants.rs::reveal_needs_a_purpose_the_policy_lists",
         "core/tests/invariants.rs::a_purpose_tied_to_consent_needs_that_consent"];
    /// Nothing is provided to a third party but a partner the policy lists, and only with its
    /// consent: with no partner listed, nothing is provided and recipients are empty.
    NoProvision = "no_provision", Code,
        "nothing leaves for anyone outside but a partner the policy lists, with its consent; with none, recipients are empty",
        ["web/tests/api.rs::a_member_does_everything_over_the_api_on_both_profiles",
         "core/tests/boundaries.rs::no_crate_but_core_reaches_the_store_or_the_key_ring"];
    /// Age checked before anything is stored; under-14s are stopped.
    AgeGate = "age_gate", Code,
        "age is checked before anything is stored and a child is stopped",
        ["core/tests/invariants.rs::under_14_is_stopped_before_anything_is_stored",
         "core/tests/sessions.rs::a_child_is_stopped_at_identity_confirmation_with_nothing_stored"];
    /// A member views, corrects and deletes optional items online.
    SelfServiceAccess = "self_service_access", Code,
        "a member views, exports, corrects and empties optional items on the website",
        ["web/tests/browser.rs::seed_profile_sign_up_correct_and_withdraw",
         "core/tests/invariants.rs::correction_validates_and_reindexes",
         "web/tests/api.rs::a_member_does_everything_over_the_api_on_both_profiles"];
    /// Consent withdrawal and leaving from the first page's menu.
    SelfServiceWithdrawal = "self_service_withdrawal", Code,
        "the first page leads to consent withdrawal and leaving, one toggle each",
        ["web/tests/browser.rs::a_visitor_who_wants_to_leave_is_told_to_log_in_first",
         "web/tests/browser.rs::withdrawing_a_consent_says_what_it_deletes_and_what_happened"];
    /// Withdrawing an optional consent destroys its items at once.
    ConsentWithdrawalDeletes = "consent_withdrawal_deletes", Code,
        "withdrawing an optional consent destroys the items processed on it",
        ["core/tests/invariants.rs::consent_ledger_is_append_only_and_withdrawal_deletes_optional_items"];
    /// Leaving ends every session and destroys the member's data.
    Withdrawal = "withdrawal", Code,
        "leaving ends every session and makes every copy of the member's data unreadable",
        ["core/tests/sessions.rs::withdrawal_ends_every_session_and_reauthentication_is_recent",
         "core/tests/invariants.rs::withdrawal_makes_an_earlier_copy_of_the_data_unreadable",
         "web/tests/api.rs::tokens_stop_after_logout_password_change_and_withdrawal"];
    /// Statutory records kept in the separate retention store, per class and expiry day.
    RetentionStore = "retention_store", Code,
        "records kept after leaving live in a separate store under keys per class and expiry day",
        ["core/tests/retention.rs::every_class_is_kept_through_its_last_day_and_destroyed_the_day_after",
         "core/tests/retention.rs::a_held_record_survives_purges_until_released"];
    /// A former member sees what is kept, with the receipt.
    RetainedLookup = "retained_lookup", Code,
        "a former member sees the records kept about them with the withdrawal receipt",
        ["core/tests/invariants.rs::former_member_sees_what_is_kept_with_the_receipt"];
    /// The daily purge destroys what has expired.
    Purge = "purge", Code,
        "the daily purge destroys every record the day after its period ends",
        ["core/tests/retention.rs::every_class_is_kept_through_its_last_day_and_destroyed_the_day_after",
         "core/tests/retention.rs::the_daily_purge_runs_once_across_instances"];
    /// Destruction by destroying the member's key.
    KeyDestruction = "key_destruction", Code,
        "destruction destroys the member key, so earlier copies cannot be read",
        ["core/tests/invariants.rs::withdrawal_makes_an_earlier_copy_of_the_data_unreadable"];
    /// Destructions are logged without personal data.
    DestructionRecords = "destruction_records", Code,
        "each destruction is logged without personal values",
        ["jikimi/tests/cli.rs::purge_report_and_legal_hold_from_the_cli",
         "web/tests/api.rs::the_privacy_office_sees_destructions_and_holds_records"];
    /// Items encrypted per member and per item.
    SealedItems = "sealed_items", Code,
        "every item is sealed under its member's key; the database files reveal nothing",
        ["core/tests/invariants.rs::raw_files_hold_no_personal_values_on_both_profiles",
         "core/tests/invariants.rs::sealed_values_cannot_be_moved_between_members"];
    /// Member keys wrapped by the master key in a separate key store.
    KeySeparation = "key_separation", Code,
        "member keys are wrapped by the master key and kept in a separate key store",
        ["core/tests/invariants.rs::master_key_is_checked_and_rotation_keeps_the_data",
         "jikimi/tests/cluster.rs::the_key_store_lives_under_its_own_role"];
    /// Every read is logged (actor, time, member, items, purpose, outcome) in a chain that
    /// shows an altered row, kept at least the statutory period (it is never purged).
    AccessLog = "access_log", Code,
        "every read appends who, when, whose items and why to an HMAC chain that names an altered row",
        ["core/tests/invariants.rs::reveal_needs_a_purpose_the_policy_lists",
         "core/tests/invariants.rs::a_changed_audit_row_is_named_by_verify",
         "core/tests/invariants.rs::cutting_the_end_of_the_audit_chain_is_detected"];
    /// Failed logins are limited: five from one client lock that client out of the login ID;
    /// thirty an hour from everywhere hold the ID until 본인확인 (issue 11).
    LoginFailureLimit = "login_failure_limit", Code,
        "five failed logins from one client lock that client out of the login, across instances; many from everywhere need 본인확인",
        ["core/tests/sessions.rs::five_failures_lock_the_login_even_with_the_right_password",
         "core/tests/limits.rs::failures_from_one_client_do_not_lock_the_member_out_elsewhere",
         "core/tests/limits.rs::many_failures_to_one_login_id_need_identity_verification",
         "jikimi/tests/cluster.rs::login_limits_hold_across_instances"];
    /// Personal data travels over TLS: present only when `serve` runs with `--tls-cert` (TLS 1.2
    /// and 1.3 of its own) or `--behind-proxy` (the operator's TLS proxy); `serve` refuses plain
    /// HTTP off loopback.
    Tls = "tls", Code,
        "serve speaks TLS 1.2/1.3 with --tls-cert (HSTS, __Host- Secure cookies) or sits behind the operator's TLS proxy; plain HTTP off loopback is refused",
        ["jikimi/tests/cli.rs::serve_refuses_plain_http_on_a_public_address",
         "jikimi/tests/transport.rs::tls_serves_https_with_hsts_and_host_cookies",
         "jikimi/tests/transport.rs::old_versions_and_weak_suites_are_refused"];

    /// Staff accounts with roles, each with only the powers its work needs (issue 13).
    StaffLeastPrivilege = "staff_least_privilege", Code,
        "staff accounts with roles (officer, manager, handler, auditor), each with only the powers its work needs, changed and revoked with a record of who and when",
        ["core/tests/staff.rs::roles_give_only_their_powers_and_changes_take_effect_at_once",
         "core/tests/staff.rs::every_grant_change_and_revocation_is_recorded_with_who_and_when",
         "web/tests/office.rs::each_role_opens_only_its_pages_and_the_seed_console_warns_about_rrns",
         "web/tests/api.rs::the_privacy_office_sees_destructions_and_holds_records"];
    /// Staff log in with a password and a TOTP authenticator (issue 13).
    Staff2fa = "staff_2fa", Code,
        "staff log in to the office with a password and a code from a TOTP authenticator (or a one-time recovery code)",
        ["core/tests/staff.rs::a_staff_member_enrols_with_an_authenticator_and_logs_in_with_both_factors",
         "core/tests/staff.rs::a_code_is_taken_once_and_a_recovery_code_once",
         "web/tests/office.rs::a_staff_member_enrols_logs_in_with_two_factors_and_is_logged_out_when_idle"];
    /// Staff sessions end when idle (issue 13).
    StaffIdleLogout = "staff_idle_logout", Code,
        "a staff session ends after 15 minutes without use, and 8 hours after login",
        ["core/tests/staff.rs::staff_sessions_end_when_idle_and_at_their_absolute_limit",
         "web/tests/office.rs::a_staff_member_enrols_logs_in_with_two_factors_and_is_logged_out_when_idle"];

    /// Complaints taken in (public form, letters, calls), answered, and their records kept in
    /// the retention store for their period (issue 13).
    ComplaintRecords = "complaint_records", Code,
        "complaints recorded, answered and kept for their period",
        ["core/tests/requests.rs::a_complaint_is_answered_and_its_record_moves_to_the_retention_store",
         "web/tests/office.rs::a_complaint_from_the_public_form_is_answered_and_kept"];
    /// A correction asked for holds the item until done (issue 13, S8).
    CorrectionHold = "correction_hold", Code,
        "an item under a requested correction is neither used nor provided",
        ["core/tests/requests.rs::a_correction_request_holds_its_items_until_a_handler_corrects_them",
         "core/tests/invariants.rs::an_item_held_for_correction_is_not_used",
         "web/tests/office.rs::a_member_asks_for_a_correction_and_a_handler_makes_it"];
    /// Rights requests tracked against their 10-day deadline (issue 13).
    RightsRequestDeadlines = "rights_request_deadlines", Code,
        "rights requests tracked and answered within 10 days",
        ["core/tests/requests.rs::deadlines_are_ten_days_from_the_kst_day_of_receipt_and_overdue_from_day_eleven",
         "web/tests/office.rs::a_member_asks_for_a_correction_and_a_handler_makes_it"];
    /// Reasons and objection route on refusal or postponement (issue 13).
    RequestRefusalNotice = "request_refusal_notice", Code,
        "a refused or postponed request is answered with reasons and how to object",
        ["core/tests/requests.rs::extensions_and_refusals_carry_reason_basis_and_objection"];

    /// Requests by letter, phone, e-mail or fax recorded by the office, which acts on them for
    /// the member: reads with a reason, corrects, stops processing, withdraws a consent or the
    /// member (issue 13).
    OfficeRequests = "office_requests", Code,
        "the office views, corrects, suspends and deletes for a member on request",
        ["core/tests/requests.rs::staff_record_requests_from_letters_with_the_identity_check_and_the_agent",
         "core/tests/requests.rs::staff_read_with_a_reason_stop_processing_and_withdraw_on_requests",
         "web/tests/office.rs::a_manager_reads_with_a_reason_stops_processing_and_withdraws_on_requests"];
    /// Processing stopped for a purpose on request: reveals for it are refused (issue 13).
    ProcessingSuspension = "processing_suspension", Code,
        "processing suspended for a purpose on request",
        ["core/tests/requests.rs::staff_read_with_a_reason_stop_processing_and_withdraw_on_requests",
         "web/tests/office.rs::a_manager_reads_with_a_reason_stops_processing_and_withdraws_on_requests"];
    /// Requests by agents, recorded with their power of attorney (issues 13, 16).
    AgentRequests = "agent_requests", Code,
        "requests by a guardian or an authorised agent",
        ["core/tests/requests.rs::staff_record_requests_from_letters_with_the_identity_check_and_the_agent"];

    /// The access log reviewed every month, with a signed record (issue 13, R-LOG-03).
    AccessLogReview = "access_log_review", Code,
        "the access log reviewed every month, with a record of the review",
        ["core/tests/requests.rs::the_monthly_access_review_flags_what_deserves_a_look_and_is_signed_off",
         "web/tests/office.rs::an_auditor_reviews_the_month_and_signs_it_off"];
    /// Members told before a policy or purpose change (issue 14): a new version is refused at
    /// start unless announced 7 (30) days ahead, shown on /privacy and mailed to every member.
    PolicyChangeNotice = "policy_change_notice", Code,
        "policy and purpose changes announced to members ahead of time",
        ["core/tests/mail.rs::a_policy_change_is_announced_to_every_member_once_before_it_applies",
         "web/tests/mail.rs::a_policy_change_is_announced_mailed_and_applies_on_its_date"];
    /// Ad-reception consent reconfirmed every 2 years (issue 14, R-MKT-04): a daily job tells
    /// each member whose consent day plus 2, 4, … years has come, once per cycle, recorded; each
    /// ad choice is confirmed too (정보통신망법 Art. 50(7)).
    AdReconfirmation = "ad_reconfirmation", Code,
        "ad-reception consent reconfirmed every 2 years",
        ["core/tests/ads.rs::exactly_the_members_due_are_reminded_every_two_years_once",
         "core/tests/ads.rs::an_ad_choice_is_confirmed_by_mail"];
    /// Mail to members really goes out (issue 14): welcome, password changed, withdrawal
    /// receipt, login ID and password reset, through a sealed outbox that keeps no content once
    /// sent.
    MailDelivery = "mail_delivery", Code,
        "notices and mail sent to members",
        ["core/tests/mail.rs::the_welcome_mail_arrives_encoded_and_leaves_nothing_behind",
         "core/tests/mail.rs::a_refusing_or_absent_server_makes_the_job_retry_and_loses_nothing",
         "core/tests/mail.rs::a_permanent_refusal_gives_up_and_the_office_sees_it",
         "core/tests/mail.rs::a_forgotten_password_is_reset_through_a_mailed_link",
         "core/tests/mail.rs::the_password_change_and_the_withdrawal_are_mailed",
         "core/tests/mail.rs::a_password_change_is_also_texted_through_solapi"];

    // ----- kept by people: present only if the policy file declares them ----------------
    /// The operator never buys or gathers personal data elsewhere.
    NoOutsideSources = "no_outside_sources", Organisational,
        "the operator does not buy or gather personal data from elsewhere", [];
    /// The officer and manager read and answer questions and complaints.
    ComplaintHandling = "complaint_handling", Organisational,
        "the privacy officer and manager answer questions and complaints sent to their addresses", [];
    /// Printed personal data is shredded or burnt.
    PaperDestruction = "paper_destruction", Organisational,
        "paper printouts are shredded or incinerated", [];
    /// Processor contracts carry the statutory duties and are kept on file.
    ProcessorContracts = "processor_contracts", Organisational,
        "every processing contract sets out the statutory duties and is kept on file", [];
    /// The operator publishes any change of processor in the policy.
    ProcessorRegister = "processor_register", Organisational,
        "a change of processor is published in a new policy version", [];
    /// No pseudonymised data is processed; it would be published first.
    NoPseudonymisation = "no_pseudonymisation", Organisational,
        "no pseudonymised data is processed", [];

    // ----- not built yet (NOT BUILT / PARTLY in docs/PROMISES.md) ------------------------
    /// Login time and IP records are written and kept (no issue yet).
    LoginRecords = "login_records", Code,
        "a login record (time, IP address) per login, kept for its period", [];
    /// Payments through a payment gateway (issue 15): present only when `serve` sells
    /// (`--products`, through PortOne), which then requires the policy's payment items and the
    /// gateway as a processor (`needs = "payment_gateway"`).
    PaymentGateway = "payment_gateway", Code,
        "a payment flow that takes payment items and charges and refunds through a PG",
        ["core/tests/payments.rs::an_order_is_fulfilled_only_when_paid_at_its_amount",
         "core/tests/payments.rs::a_payment_record_keeps_only_the_items_the_policy_declares",
         "web/tests/payments.rs::a_member_pays_in_portones_window_and_cancels_another_time",
         "jikimi/tests/cli.rs::serve_with_products_names_what_is_missing"];
    /// Payment records written to the retention store (issue 15): present only when `serve`
    /// sells (`--products`, through PortOne), which then requires the policy's class.
    PaymentRecords = "payment_records", Code,
        "payment records sealed into the retention store when an order is paid or refunded, kept through their period after withdrawal",
        ["core/tests/payments.rs::an_order_is_fulfilled_only_when_paid_at_its_amount",
         "core/tests/payments.rs::payment_records_outlive_a_withdrawal_for_five_years_and_go_the_day_after",
         "web/tests/payments.rs::a_member_pays_in_portones_window_and_cancels_another_time"];
    /// Prize delivery (issue 15): winners recorded by the office enter the prize items on My
    /// page; staff open them for the `delivery` purpose, mark the prize delivered, and the purge
    /// destroys them when the class's period after delivery ends.
    PrizeDelivery = "prize_delivery", Code,
        "a prize delivery request flow and its records",
        ["core/tests/prizes.rs::a_prize_is_entered_revealed_for_delivery_and_destroyed_after_its_period",
         "core/tests/prizes.rs::a_winner_who_leaves_takes_the_delivery_items_along",
         "web/tests/prizes.rs::a_winner_enters_the_delivery_items_and_the_office_delivers_the_prize"];
    /// Advertising records (issue 17).
    AdvertisingRecords = "advertising_records", Code,
        "records of advertising sent, kept for their period",
        ["core/tests/campaigns.rs::advertising_records_are_destroyed_six_months_after_sending"];
    /// Retention of the staff access log for a fixed period (issue 13).
    AccessLogRetention = "access_log_retention", Code,
        "the access log kept for exactly its period, then destroyed", [];
    /// A writer for an after-withdrawal class jikimi does not know.
    RecordWriter = "record_writer", Code,
        "code that writes the records of this retention class", [];
    /// Handing personal data to an outside processor (issues 14, 15, 17).
    ProcessorIntegration = "processor_integration", Code,
        "code that hands personal data to an outside processor for its task", [];
    /// Earlier policy versions shown on the website, with a test (issue 10).
    PolicyHistory = "policy_history", Code,
        "earlier versions of the policy stay viewable on the website", [];
    /// Guardian consent for under-14s (issue 16): only the child's name and the guardian's name
    /// and contact before the guardian consents, sealed; the guardian told by text or e-mail,
    /// verified (본인확인 of an adult, or the link sent to the contact), the method and time
    /// recorded; a request not consented to in 5 days, or refused, destroyed with its record.
    GuardianConsent = "guardian_consent", Code,
        "a child joins with a verified guardian's consent",
        ["core/tests/guardians.rs::a_child_joins_on_an_adult_guardians_verified_consent",
         "core/tests/guardians.rs::a_request_left_for_5_days_is_destroyed_with_its_record",
         "core/tests/guardians.rs::the_seed_guardian_consents_through_the_mailed_link_or_refuses",
         "web/tests/guardians.rs::a_child_asks_the_guardian_consents_after_verifying_and_the_child_joins",
         "web/tests/guardians.rs::a_seed_guardian_is_mailed_and_refuses"];
    /// Guardian rights (issue 16): the guardian, verified again the same way, views, corrects,
    /// gives or withdraws consents and ends the membership of a child under 14, as the guardian
    /// in the audit chain.
    GuardianRights = "guardian_rights", Code,
        "a guardian views, corrects or withdraws for the child",
        ["core/tests/guardians.rs::a_child_joins_on_an_adult_guardians_verified_consent",
         "web/tests/guardians.rs::a_child_asks_the_guardian_consents_after_verifying_and_the_child_joins",
         "web/tests/guardians.rs::a_seed_guardian_is_mailed_and_refuses"];
    /// Individual notice before a new partner (issue 17, S15): the office tells every member
    /// who has not consented by e-mail (who, why, which items, how long, how protected, the
    /// consent asked) before the first provision, which is refused until then; only members
    /// whose consent is in force when the data leaves receive anything, each provision
    /// recorded (items, time, consent version) and shown to the member.
    PartnerNotice = "partner_notice", Code,
        "each member told by e-mail before any new provision; provision only with consent in force when the data leaves, recorded and shown to the member",
        ["core/tests/partners.rs::provision_respects_the_consent_at_the_moment_of_provision",
         "web/tests/partners.rs::the_office_asks_provides_and_the_member_sees_who_received_the_data"];
    /// Corrections passed on to recipients (issue 17, S9): a correction of an item a partner
    /// received, a member's leaving and a withdrawn consent reach the partner, which
    /// acknowledges; the office sends again what it has not.
    PartnerCorrectionNotice = "partner_correction_notice", Code,
        "a correction sent on to every recipient of the item, acknowledged",
        ["core/tests/partners.rs::corrections_and_departures_follow_the_data_and_are_acknowledged",
         "web/tests/partners.rs::the_office_asks_provides_and_the_member_sees_who_received_the_data"];
    /// No ads 21:00-08:00 KST (issue 17, R-MKT-02): a campaign made then starts at 08:00, a
    /// page due then waits for 08:00 (no policy declares the separate night-time consent).
    AdQuietHours = "ad_quiet_hours", Code,
        "no advertising sent between 21:00 and 08:00 without its own consent",
        ["core/tests/campaigns.rs::ads_wait_for_morning_reach_only_consenting_members_and_can_be_refused",
         "core/tests/campaigns.rs::the_quiet_hours_are_21_to_8_kst"];
    /// "(광고)" marker, the sender and its contact, and a free one-step refusal without login
    /// (a link; e-mail List-Unsubscribe one-click), confirmed to the member (issue 17, R-MKT-03).
    AdLabelling = "ad_labelling", Code,
        "every advertisement marked (광고) with a free opt-out",
        ["core/tests/campaigns.rs::ads_wait_for_morning_reach_only_consenting_members_and_can_be_refused",
         "web/tests/ads.rs::an_ad_reaches_only_consenting_members_and_is_refused_without_login"];
    /// Breach notices (issue 17, PIPA Art. 34, R-BRE-01..03): the office's register of
    /// incidents, confirmed or suspected, with their members (from the audit chain when an
    /// account's reads are the cause); a notice to each member with the five items and the
    /// remedies; the 72-hour clock on the dashboard; the report to the PIPC/KISA prepared when
    /// the law requires it.
    BreachNotice = "breach_notice", Code,
        "members told of a breach or its possibility within 72 hours, with the five items and the remedies; the report to the PIPC/KISA when required",
        ["core/tests/breaches.rs::an_accounts_reads_become_the_incident_and_each_member_is_told_the_five_items",
         "core/tests/breaches.rs::the_report_is_required_on_any_one_condition_and_the_clock_runs_72_hours",
         "core/tests/breaches.rs::a_breach_of_1200_members_sends_1200_notices_and_prepares_the_report",
         "web/tests/breaches.rs::the_office_records_a_breach_tells_the_members_and_prepares_the_report"];
    /// Request-rate limits (issue 11): sign-up, 본인확인 requests and codes, login,
    /// re-authentication and receipt look-ups, per client address and per target, counted in the
    /// database across instances.
    RateLimits = "rate_limits", Code,
        "requests limited per client address and per target (mobile number, login ID, receipt code, 본인확인 request), across instances",
        ["core/tests/limits.rs::text_messages_are_limited_per_mobile_number_and_per_client",
         "core/tests/limits.rs::code_guesses_are_limited_per_request_and_per_client",
         "core/tests/limits.rs::reauthentication_is_limited_per_member_and_per_client",
         "core/tests/limits.rs::receipt_look_ups_are_limited_per_client_and_per_code",
         "core/tests/limits.rs::sign_ups_and_id_checks_are_limited_per_client_and_per_login_id",
         "core/tests/limits.rs::counters_hold_no_address_or_number_and_are_swept",
         "core/tests/instances.rs::abuse_limits_are_shared_by_instances",
         "jikimi/tests/cluster.rs::abuse_limits_hold_across_instances",
         "web/tests/api.rs::text_messages_to_one_number_are_limited_with_429_and_retry_after",
         "web/tests/api.rs::limited_api_actions_answer_429_per_client_and_per_target",
         "web/tests/pages.rs::a_limited_login_shows_the_login_page_again_with_429"];
    /// Interests shape pages and suggestions (no issue).
    Personalisation = "personalisation", Code,
        "pages and suggestions shaped by the member's interests", [];
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Capability {
    /// The capability with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// What this build of the code keeps: the code capabilities with tests (KEPT in
/// `docs/PROMISES.md`), except those that depend on configuration ([`Capability::Tls`],
/// [`Capability::PaymentRecords`], [`Capability::PaymentGateway`]).
const BUILT: &[Capability] = &[
    Capability::SignupItems,
    Capability::PasswordHash,
    Capability::OptionalItemsFree,
    Capability::SingleChannel,
    Capability::IdentityVerificationFlow,
    Capability::OneAccount,
    Capability::CookieTable,
    Capability::ContractNotice,
    Capability::UntickedConsents,
    Capability::ConsentLedger,
    Capability::SingleAgreement,
    Capability::PurposeBoundReveal,
    Capability::NoProvision,
    Capability::PartnerNotice,
    Capability::PartnerCorrectionNotice,
    Capability::AdQuietHours,
    Capability::AdLabelling,
    Capability::AdvertisingRecords,
    Capability::BreachNotice,
    Capability::AgeGate,
    Capability::SelfServiceAccess,
    Capability::SelfServiceWithdrawal,
    Capability::ConsentWithdrawalDeletes,
    Capability::Withdrawal,
    Capability::RetentionStore,
    Capability::RetainedLookup,
    Capability::Purge,
    Capability::KeyDestruction,
    Capability::DestructionRecords,
    Capability::SealedItems,
    Capability::KeySeparation,
    Capability::AccessLog,
    Capability::LoginFailureLimit,
    Capability::RateLimits,
    Capability::StaffLeastPrivilege,
    Capability::Staff2fa,
    Capability::StaffIdleLogout,
    Capability::ComplaintRecords,
    Capability::CorrectionHold,
    Capability::RightsRequestDeadlines,
    Capability::RequestRefusalNotice,
    Capability::OfficeRequests,
    Capability::ProcessingSuspension,
    Capability::AgentRequests,
    Capability::AccessLogReview,
    Capability::MailDelivery,
    Capability::PolicyChangeNotice,
    Capability::AdReconfirmation,
    Capability::PrizeDelivery,
    Capability::GuardianConsent,
    Capability::GuardianRights,
];

/// A set of capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities(BTreeSet<Capability>);

/// Capabilities declared by the running process's configuration (see
/// [`Capabilities::declare`]).
static DECLARED: OnceLock<Capabilities> = OnceLock::new();

impl Capabilities {
    /// The empty set.
    pub fn none() -> Self {
        Self::default()
    }

    /// What this build keeps by code, whatever its configuration.
    pub fn built() -> Self {
        BUILT.iter().copied().collect()
    }

    /// Every capability (for showing what a future build would print).
    pub fn all() -> Self {
        Capability::ALL.iter().copied().collect()
    }

    /// What the running process keeps: [`Capabilities::built`] plus what its configuration
    /// declared with [`Capabilities::declare`]. [`crate::render::document`] renders against
    /// this set.
    pub fn running() -> Self {
        let mut out = Self::built();
        if let Some(d) = DECLARED.get() {
            out.0.extend(d.0.iter().copied());
        }
        out
    }

    /// Declares capabilities that the configuration provides (e.g. [`Capability::Tls`] when
    /// `serve` runs with `--tls-cert` or `--behind-proxy`). Once per process, at start-up, before anything renders;
    /// returns false if something was declared already (the first declaration stands).
    pub fn declare(extra: impl IntoIterator<Item = Capability>) -> bool {
        DECLARED.set(extra.into_iter().collect()).is_ok()
    }

    /// True if `c` is in the set.
    pub fn has(&self, c: Capability) -> bool {
        self.0.contains(&c)
    }

    /// The set with `c` added.
    #[must_use]
    pub fn with(mut self, c: Capability) -> Self {
        self.0.insert(c);
        self
    }

    /// The set without `c`.
    #[must_use]
    pub fn without(mut self, c: Capability) -> Self {
        self.0.remove(&c);
        self
    }

    /// The capabilities, in order.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Extend<Capability> for Capabilities {
    fn extend<I: IntoIterator<Item = Capability>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// A section of the file and the capability it needs, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// What the section needs.
    pub capability: Capability,
    /// Key path of the section, e.g. `item.card_number.context`.
    pub key: String,
    /// File name as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Need {
    /// The problem `policy check` and `serve` report when the capability is missing.
    pub fn problem(&self) -> crate::Problem {
        crate::Problem {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            key: self.key.clone(),
            message: format!(
                "this section needs capability \"{}\" ({}), which this build does not have; \
                 remove the section or build the capability",
                self.capability,
                self.capability.description()
            ),
        }
    }
}

/// The capability an after-withdrawal retention class needs when jikimi writes no
/// withdrawal record for it (or any class of a flow not built).
fn writer_of(class: &str) -> Capability {
    match class {
        "payment_records" => Capability::PaymentRecords,
        "complaint_records" => Capability::ComplaintRecords,
        "advertising_records" => Capability::AdvertisingRecords,
        "login_records" => Capability::LoginRecords,
        "access_logs" => Capability::AccessLogRetention,
        "prize_delivery" => Capability::PrizeDelivery,
        _ => Capability::RecordWriter,
    }
}

impl crate::Context {
    /// The capability behind the screen that collects this context's items.
    pub fn capability(self) -> Capability {
        match self {
            crate::Context::Signup => Capability::SignupItems,
            crate::Context::Payment => Capability::PaymentGateway,
            crate::Context::Prize => Capability::PrizeDelivery,
            crate::Context::Guardian => Capability::GuardianConsent,
        }
    }
}

impl crate::RetentionClass {
    /// The capability that writes this class's records, if jikimi does not already: an
    /// after-withdrawal class without `withdrawal_record`, or the `prize_delivery` class.
    pub fn needs(&self) -> Option<Capability> {
        ((self.after_withdrawal && !self.withdrawal_record) || self.id == "prize_delivery")
            .then(|| writer_of(&self.id))
    }
}

impl crate::Processor {
    /// The capability that hands this processor its items.
    pub fn capability(&self) -> Capability {
        self.needs.unwrap_or(Capability::ProcessorIntegration)
    }
}

impl crate::Policy {
    /// Every section of the policy that promises a mechanism, by key path, with the
    /// capability it needs, in file order within each table: `item.<id>.context` (payment,
    /// prize), `retention.<id>` (records with no writer), `partner.<id>` (notices to members
    /// and to recipients), `processor.<id>` (the hand-over).
    pub fn section_needs(&self) -> Vec<(String, Capability)> {
        let mut out = Vec::new();
        for it in &self.items {
            if it.context != crate::Context::Signup {
                out.push((format!("item.{}.context", it.id), it.context.capability()));
            }
        }
        for rc in &self.retention {
            if let Some(c) = rc.needs() {
                out.push((format!("retention.{}", rc.id), c));
            }
        }
        for pt in &self.partners {
            for c in [
                Capability::PartnerNotice,
                Capability::PartnerCorrectionNotice,
            ] {
                out.push((format!("partner.{}", pt.id), c));
            }
        }
        for pr in &self.processors {
            out.push((format!("processor.{}", pr.id), pr.capability()));
        }
        out
    }
}
