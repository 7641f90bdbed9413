//! Everything that parses text or bytes from outside — tile paths from URLs, receipts and notes from partners,
//! checkpoints, hash tiles and entry bundles from mirrors — answers arbitrary input with a value or an error, never
//! a panic.

use forewarn_tlog::checkpoint::Checkpoint;
use forewarn_tlog::note::{self, SignerKey, VerifierKey};
use forewarn_tlog::receipt::Receipt;
use forewarn_tlog::tiles::{decode_entries, decode_hashes, TilePath};
use proptest::prelude::*;

/// Strings built from the alphabet these formats use, so that inputs get past the first check often.
fn near_valid() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[0-9x./+a-zA-Z= \n\u{2014}-]{0,120}").expect("a valid regex")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(text in prop_oneof![near_valid(), any::<String>()], bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let key = SignerKey::from_seed("log.example", [1; 32]).expect("a valid name").verifier();
        let _ = TilePath::parse(&text);
        let _ = Checkpoint::parse(&text);
        let _ = Checkpoint::open(&text, &key);
        let _ = note::open(&text, std::slice::from_ref(&key));
        let _ = VerifierKey::parse(&text);
        let _ = SignerKey::parse(&text);
        if let Ok(r) = Receipt::parse(&text) {
            let _ = r.verify(&bytes, &key);
        }
        let _ = decode_hashes(&bytes);
        let _ = decode_entries(&bytes);
    }

}

proptest! {
    // Ed25519 is slow unoptimised: fewer cases, each a signature check.
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_signed_checkpoint_with_any_byte_changed_does_not_open(at in 0usize..200, to in any::<u8>()) {
        let signer = SignerKey::from_seed("log.example", [1; 32]).expect("a valid name");
        let cp = Checkpoint { origin: "log.example".into(), size: 12345, root: forewarn_tlog::hash::leaf(b"x") };
        let mut note = signer.sign(&cp.body()).expect("a valid body").into_bytes();
        let at = at % note.len();
        prop_assume!(note[at] != to);
        note[at] = to;
        let Ok(text) = String::from_utf8(note) else { return Ok(()) };
        prop_assert_ne!(Checkpoint::open(&text, &signer.verifier()).ok(), Some(cp));
    }
}
