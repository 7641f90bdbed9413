//! `render_for` and the CSAF form, for any view: a copy holds exactly the sections the view shows, and no text of a
//! hidden section appears anywhere in its CSAF document — not in notes, titles, remediations or the history.

use std::collections::BTreeSet;

use forewarn_core::{
    Advisory, AdvisoryFlag, AdvisoryId, AdvisoryState, Attachment, CountryCode, Cvss, Partner, PartnerId,
    PartnerStatus, Product, RevisionMeta, SectionKind, Sections, TierName, Username,
};
use forewarn_policy::{view, AdvisoryFacts, Policy};
use forewarn_render::{csaf, render_for, Content};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

fn marker(kind: SectionKind) -> String {
    format!("HIDDEN-MARKER-{}", kind.as_str().to_uppercase())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn copies_hold_exactly_the_visible_sections(
        tier in prop::sample::select(vec!["validate", "ans", "entry"]),
        country in prop::sample::select(vec!["US", "CN", "DE"]),
        probation in any::<bool>(),
        exploited in any::<bool>(),
        present in prop::sample::subsequence(SectionKind::ALL.to_vec(), 1..=5),
        hours_before_t in -72i64..200,
        fingerprinted in any::<bool>(),
        // Characters JSON escapes, beside plain and non-ASCII ones, in every section's text.
        awkward in "[\"\\\\\n\t\r\x01\x1f a-zé✓—]{0,24}",
    ) {
        let policy = Policy::parse(forewarn_policy::DEFAULT_POLICY).unwrap();
        let t: Timestamp = "2026-12-08T18:00:00Z".parse().unwrap();
        let now = t - SignedDuration::from_hours(hours_before_t);
        let mut flags = BTreeSet::new();
        if probation {
            flags.insert("probation".to_owned());
        }
        let partner = Partner {
            id: PartnerId::parse("p-test").unwrap(),
            name: "P".into(),
            country: CountryCode::parse(country).unwrap(),
            tier: TierName::parse(tier).unwrap(),
            status: PartnerStatus::Active,
            status_reason: None,
            status_changed_at: t,
            agreement_expires_at: None,
            contacts: vec![],
            flags,
            created_at: t,
        };
        let advisory = Advisory {
            id: AdvisoryId::parse("ADV-2026-0001").unwrap(),
            state: AdvisoryState::Scheduled,
            release_at: Some(t),
            current_revision: 1,
            approved_revision: Some(1),
            created_by: Username::parse("alice").unwrap(),
            created_at: t,
            updated_at: t,
            withdrawn_reason: None,
        };
        let meta = RevisionMeta {
            title: "Contoso Widget: a flaw".into(),
            products: vec![Product::new("Contoso Widget", vec!["1.0 through 1.4".into()]).unwrap()],
            cvss: Some(Cvss::parse("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap()),
            cwe: None,
            cves: vec![],
            flags: if exploited { vec![AdvisoryFlag::ExploitedInTheWild] } else { vec![] },
            marking: 2,
        };
        let mut sections = Sections::new();
        for k in &present {
            // With fingerprint alternatives and dictionary forms, so marked copies differ from the author's text.
            sections
                .set(*k, &format!("Text of the {k} {{{{section|part}}}}, for example. {} The behavior cannot change. {awkward}", marker(*k)))
                .unwrap();
        }
        let key = forewarn_mark::code::Key::from_bytes([5; 32]);
        let marked: Vec<(SectionKind, std::sync::Arc<forewarn_render::MarkedSection>)> = present
            .iter()
            .map(|k| {
                let section = forewarn_render::code_section("ADV-2026-0001", 1, *k);
                let m = forewarn_render::MarkedSection::prepare(
                    &key,
                    &section,
                    sections.get(*k).unwrap(),
                    forewarn_mark::Scheme::CURRENT,
                )
                .unwrap();
                (*k, std::sync::Arc::new(m))
            })
            .collect();
        let attachments: std::sync::Arc<[Attachment]> =
            std::sync::Arc::from(vec![Attachment::new("trigger.py", b"print('HIDDEN-MARKER-ATTACHMENT')".to_vec()).unwrap()]);
        // The script is fingerprinted too (its quotes and a raw prefix).
        let marked_attachments = [forewarn_render::prepare_attachment(
            &key, "ADV-2026-0001", 1, 0, &attachments[0], forewarn_mark::Scheme::CURRENT,
        )
        .map(std::sync::Arc::new)];
        prop_assert!(marked_attachments[0].is_some());
        let marking = fingerprinted
            .then_some(forewarn_render::Marking { key: &key, sections: &marked, attachments: &marked_attachments });
        let v = view(&policy, &partner, &AdvisoryFacts { advisory: &advisory, meta: &meta, sections: &present }, now);
        let content = Content { number: 1, meta: &meta, sections: &sections, attachments: &attachments, approved_at: Some(t), marking };
        let copy = render_for(&partner, &advisory, content, &v, now);
        match copy {
            None => prop_assert!(v.visible.is_empty()),
            Some(copy) => {
                let kinds: Vec<SectionKind> = copy.sections.iter().map(|(k, _)| *k).collect();
                prop_assert_eq!(&kinds, &v.visible);
                prop_assert_eq!(copy.attachments.is_empty(), !v.shows(SectionKind::Poc));
                // A fingerprinted copy's attachment is the partner's own, and reads back to the partner's symbols.
                if let (Some(a), true) = (copy.attachments.first(), fingerprinted) {
                    let m = marked_attachments[0].as_ref().unwrap();
                    let section = forewarn_render::code_attachment("ADV-2026-0001", 1, 0).unwrap();
                    let text = String::from_utf8(a.bytes.clone()).unwrap();
                    let read = m.prepared.read(&forewarn_mark::prepare::normalize(&text));
                    let symbols = m.symbols(&key, &section, "p-test");
                    prop_assert_eq!(read, symbols.iter().map(|s| Some(*s)).collect::<Vec<_>>(), "{}", text);
                    prop_assert!(text.contains("HIDDEN-MARKER-ATTACHMENT"));
                }
                // No marker syntax reaches a copy; a fingerprinted copy says a codeword, an unmarked one does not.
                for (_, text) in &copy.sections {
                    prop_assert!(!text.contains("{{") && !text.contains("}}"), "{}", text.text());
                    prop_assert!(text.contains("section") || text.contains("part"));
                }
                prop_assert_eq!(copy.fingerprint.is_some(), fingerprinted);
                let publisher = csaf::Publisher { name: "PSIRT".into(), namespace: "https://psirt.example.com".into() };
                let document = csaf::document(&copy, &publisher);
                // What is served is serde_json's pretty form of the document, byte for byte.
                let mut pretty = serde_json::to_vec_pretty(&document).unwrap();
                pretty.push(b'\n');
                prop_assert_eq!(document.to_bytes(), pretty);
                let doc = serde_json::to_string(&document).unwrap();
                for k in SectionKind::ALL {
                    let shown = v.shows(k) && present.contains(&k);
                    prop_assert_eq!(doc.contains(&marker(k)), shown, "{} in the CSAF document: {}", k, shown);
                }
                prop_assert!(!doc.contains("HIDDEN-MARKER-ATTACHMENT"), "attachments never travel in CSAF");
                prop_assert_eq!(doc.contains("\"status\":\"final\""), now >= t);
                // This copy's template gives a partner of the same standing its own document, and is refused by a
                // partner whose copy has another shape (or gives it exactly its own document if it has the same).
                let template = csaf::Template::of(&copy, &publisher);
                for (id, tier) in [("p-twin", tier), ("p-other", if tier == "entry" { "validate" } else { "entry" })] {
                    let other = Partner { id: PartnerId::parse(id).unwrap(), tier: TierName::parse(tier).unwrap(), ..partner.clone() };
                    let v2 = view(&policy, &other, &AdvisoryFacts { advisory: &advisory, meta: &meta, sections: &present }, now);
                    let Some(copy2) = render_for(&other, &advisory, content, &v2, now) else { continue };
                    let own = csaf::document(&copy2, &publisher).to_bytes();
                    match template.fill(&copy2, &publisher) {
                        Some(filled) => prop_assert_eq!(filled, own),
                        None => prop_assert!(id != "p-twin" || !template.reusable(), "a twin's copy has the same shape"),
                    }
                }
            }
        }
    }
}
