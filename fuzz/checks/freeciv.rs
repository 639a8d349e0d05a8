//! Checks for the freeciv metaserver codec: any field list (one `name=value` per line)
//! decodes to a report, a list request or an error, never a panic, and a decoded
//! report re-encodes to fields that decode the same; any text reads as a server list
//! or fails cleanly, and a list read back from its own encoding is the same list.

use glou_proto::freeciv;

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);

    let fields: Vec<(String, String)> = text
        .split('\n')
        .map(|line| match line.split_once('=') {
            Some((name, value)) => (name.to_string(), value.replace("\\n", "\n")),
            None => (line.to_string(), String::new()),
        })
        .collect();
    let _ = freeciv::decode(&fields);
    if let Ok(report) = freeciv::Report::from_fields(&fields) {
        let again = freeciv::Report::from_fields(&report.to_fields())
            .expect("a report's own fields decode");
        // A goodbye drops what freeciv does not send with `bye`.
        assert_eq!(again.to_fields(), report.to_fields());
        if !report.bye {
            assert_eq!(again, report);
        }
        let _ = freeciv::encode_list(&[freeciv::ListedServer::from(&report)]);
    }

    if let Ok(list) = freeciv::decode_list(&text) {
        let encoded = freeciv::encode_list(&list);
        // Defaults (empty servers, players) can make the encoding outgrow the bound.
        if encoded.len() <= freeciv::MAX_LIST_BYTES {
            let again = freeciv::decode_list(&encoded).expect("our own list decodes");
            assert_eq!(again, list);
        }
    }
}
