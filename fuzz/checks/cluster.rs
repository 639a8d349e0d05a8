//! Checks for the records nodes write to each other's listing bucket
//! (`glou_proto::cluster`): any bytes decode to a record or an error, never a panic,
//! and a decoded record encodes to bytes that decode to the same record.

use glou_proto::cluster::{ListingRecord, MAX_RECORD};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let Ok(record) = ListingRecord::decode(data) else {
        return;
    };
    let bytes = record.encode();
    // Defaults are written out (an absent `name` as `"name":""`), so a record just
    // under the limit may encode over it.
    if bytes.len() <= MAX_RECORD {
        let again = ListingRecord::decode(&bytes).expect("our own encoding decodes");
        assert_eq!(again, record);
    }
}
