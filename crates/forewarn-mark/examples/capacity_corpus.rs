//! Prints each section's automatic points under both schemes (a development aid for the dictionaries).
fn main() {
    for path in std::env::args().skip(1) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let body = forewarn_mark::base_text_with(&text, forewarn_mark::Scheme::CURRENT);
        for scheme in [forewarn_mark::Scheme::V1, forewarn_mark::Scheme::V2] {
            let Ok(p) = forewarn_mark::prepare::prepare_with(&body, scheme) else { continue };
            let c = forewarn_mark::capacity::capacity(&p);
            println!(
                "{path} v{}: dictionary {} serial {} lists {} code {} | prose {} words {} sentences {:.1} nats; code {:.1} nats",
                scheme.number(), c.dictionary, c.serial_comma, c.list_order, c.code, c.prose_words, c.prose_sentences, c.prose_nats, c.code_nats
            );
        }
    }
}
