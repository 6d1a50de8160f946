//! `jikimi_core::validate::normalize`, the validation every item value of a sign-up or a
//! correction goes through, for every item kind: a value it accepts is a fixed point (its
//! stored form normalises to itself), respects the item's length limit, and has a blind index
//! exactly when the kind or the item asks for one; an error names the item and does not quote
//! the value.
#![no_main]

use std::sync::OnceLock;

use jikimi_core::validate::{birth_date, normalize};
use jikimi_fuzz::shift_digits;
use jikimi_policy::{Item, ItemKind, Policy};
use libfuzzer_sys::fuzz_target;

const KINDS: [ItemKind; 21] = [
    ItemKind::Name,
    ItemKind::Rrn,
    ItemKind::Email,
    ItemKind::Mobile,
    ItemKind::Phone,
    ItemKind::PostalCode,
    ItemKind::Address,
    ItemKind::AddressDetail,
    ItemKind::BirthDate,
    ItemKind::Ci,
    ItemKind::Di,
    ItemKind::Text,
    ItemKind::Choice,
    ItemKind::MultiChoice,
    ItemKind::BankName,
    ItemKind::AccountNumber,
    ItemKind::AccountHolder,
    ItemKind::CardType,
    ItemKind::CardNumber,
    ItemKind::CardExpiry,
    ItemKind::Installment,
];

/// One item of every kind, built from the shipped policy's `occupation` item (which has
/// choices), with a short length limit on half of them so the limit is reached.
fn items() -> &'static [Item] {
    static ITEMS: OnceLock<Vec<Item>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        let base = Policy::builtin("lifeplan")
            .and_then(Result::ok)
            .and_then(|l| l.policy.item("occupation").cloned());
        let Some(base) = base else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (n, kind) in KINDS.into_iter().enumerate() {
            for (max_len, unique) in [(None, false), (Some(12), true)] {
                let mut item = base.clone();
                item.id = format!("fuzz_{n}");
                item.kind = kind;
                item.max_len = max_len;
                item.unique = unique;
                out.push(item);
            }
        }
        out
    })
}

fuzz_target!(|data: &[u8]| {
    let items = items();
    assert_eq!(
        items.len(),
        2 * KINDS.len(),
        "the shipped policy lost its occupation item"
    );
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let item = &items[usize::from(pick) % items.len()];
    let _ = birth_date(raw);
    match normalize(item, raw) {
        Ok(n) => {
            let stored = n.stored.expose();
            // Text is stored as typed (trimmed, NFC), so it keeps the item's length limit;
            // other kinds are stored in a canonical form (E.164, digits only) of their own length.
            let free_text = matches!(
                item.kind,
                ItemKind::Name
                    | ItemKind::AccountHolder
                    | ItemKind::Address
                    | ItemKind::AddressDetail
                    | ItemKind::Text
                    | ItemKind::BankName
                    | ItemKind::CardType
            );
            let max = item.max_len.unwrap_or(200);
            if free_text {
                let n = stored.chars().count();
                assert!(
                    n <= max,
                    "{:?}: stored value of {n} characters, over {max}",
                    item.kind
                );
            }
            // The canonical form of a phone (E.164) or date may be longer than what was typed:
            // the length limit applies to the input, so the stored form is re-read without it.
            let mut unlimited = item.clone();
            if !free_text {
                unlimited.max_len = None;
            }
            let again = normalize(&unlimited, stored);
            let again = match again {
                Ok(a) => a,
                Err(e) => panic!("{:?}: the stored form is refused: {}", item.kind, e.code),
            };
            assert_eq!(
                again.stored.expose(),
                stored,
                "{:?}: not idempotent",
                item.kind
            );
            let indexed_kind = matches!(
                item.kind,
                ItemKind::Rrn
                    | ItemKind::Email
                    | ItemKind::Mobile
                    | ItemKind::Phone
                    | ItemKind::Ci
                    | ItemKind::Di
            );
            assert_eq!(n.index.is_some(), item.unique, "{:?}", item.kind);
            if let (Some(a), Some(b)) = (&n.index, &again.index) {
                assert_eq!(a.expose(), b.expose(), "{:?}: index not stable", item.kind);
            }
            if item.unique && !indexed_kind {
                assert_eq!(n.index.as_ref().map(|i| i.expose()), Some(stored));
            }
        }
        Err(e) => {
            assert_eq!(e.field, item.id);
            assert!(!e.code.is_empty());
            assert!(!e.ko.is_empty() && !e.en.is_empty());
            // The same failure for the digit-shifted twin gives the same message: the value
            // is not in it.
            let twin = shift_digits(raw);
            if let Err(t) = normalize(item, &twin)
                && t.code == e.code
            {
                assert_eq!(
                    (&t.ko, &t.en),
                    (&e.ko, &e.en),
                    "{:?}: the message quotes the value",
                    item.kind
                );
            }
        }
    }
});
