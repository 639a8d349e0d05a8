//! Checks for the GGZ metaserver codec: any bytes decode to a request (never a panic),
//! a decoded request re-encodes to one that decodes the same, and any bytes parse
//! as a config file or fail with an error; a parsed config's entries encode as
//! replies that stay well-formed enough to be answered.

use glou_proto::ggzmeta::{Config, MAX_REQUEST, Reply, Request};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let request = Request::decode(data);
    // The encoding adds a prolog and a newline, so it may outgrow one read; and
    // framing eats a type's trailing CR, which a URI request cannot carry.
    let encoded = request.encode();
    let cr = matches!(&request, Request::Uri { kind, .. } if kind.ends_with('\r'));
    if !matches!(request, Request::Invalid(_)) && encoded.len() <= MAX_REQUEST && !cr {
        assert_eq!(Request::decode(&encoded), request);
    }
    if let Ok(config) = Config::parse(data) {
        let entries: Vec<_> = config.entries.iter().collect();
        let _ = Reply::Uris(entries.clone()).encode();
        let _ = Reply::Results {
            entries,
            with_class: true,
        }
        .encode();
    }
}
