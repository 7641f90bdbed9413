//! Every personalised CSAF document of the demo — every partner, three moments — passes the CSAF 2.0 schema and the
//! mandatory tests of the reference implementation (csaf-rs, preset "basic"). `.ci/run` also runs the BSI/secvisogram
//! validator over a corpus exported the same way.

use crate::common::Program;

fn next_patch_tuesday() -> jiff::Timestamp {
    forewarn_core::ReleaseCalendar::patch_tuesday().next_after(jiff::Timestamp::now()).unwrap()
}

#[test]
fn every_personalised_document_of_the_demo_is_valid_csaf_at_three_moments() {
    let p = Program::new();
    p.ok(&["demo", "--no-serve"]);
    let pt = next_patch_tuesday();
    let moments = [
        jiff::Timestamp::now(),
        pt - jiff::SignedDuration::from_hours(50), // between leads for the next Patch Tuesday
        pt + jiff::SignedDuration::from_hours(1),  // after T
    ];
    let mut checked = 0;
    for (i, at) in moments.iter().enumerate() {
        let out = p.dir.path().join(format!("corpus-{i}"));
        p.ok(&["csaf", "export", "--out", out.to_str().unwrap(), "--at", &at.to_string()]);
        for partner in std::fs::read_dir(&out).unwrap() {
            for doc in std::fs::read_dir(partner.unwrap().path()).unwrap() {
                let path = doc.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let loaded = csaf_rs::csaf2_0::loader::load_document(text.as_str()).unwrap();
                let result = csaf_rs::validation::validate_by_preset(&loaded, "2.0", "basic").unwrap();
                assert!(
                    result.success,
                    "{}: {:#?}",
                    path.display(),
                    result
                        .test_results
                        .iter()
                        .filter(|t| !matches!(
                            t.status,
                            csaf_rs::validation::TestResultStatus::Success
                                | csaf_rs::validation::TestResultStatus::NotFound
                                | csaf_rs::validation::TestResultStatus::Skipped
                        ))
                        .collect::<Vec<_>>()
                );
                checked += 1;
            }
        }
    }
    // 37 partners, seven advisories, three moments: hundreds of documents, not a handful.
    assert!(checked > 200, "only {checked} documents were generated");

    // The validator does catch a broken document: a version that does not match the revision history.
    let any = std::fs::read_dir(p.dir.path().join("corpus-2")).unwrap().next().unwrap().unwrap().path();
    let doc = std::fs::read_dir(any).unwrap().next().unwrap().unwrap().path();
    let mut broken: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(doc).unwrap()).unwrap();
    broken["document"]["tracking"]["version"] = serde_json::json!("99");
    let loaded = csaf_rs::csaf2_0::loader::load_document(broken).unwrap();
    assert!(!csaf_rs::validation::validate_by_preset(&loaded, "2.0", "basic").unwrap().success);
}
