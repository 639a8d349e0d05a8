//! Checks for the Quake 3 master decoder: any datagram decodes or fails cleanly, and a
//! decoded list response re-encodes to the same addresses.

use glou_proto::q3master;

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let _ = q3master::decode(data);
    if let Some(servers) = q3master::parse_servers_response(data) {
        let back: Vec<_> = q3master::servers_response(true, &servers)
            .iter()
            .flat_map(|d| q3master::parse_servers_response(d).expect("our own encoding parses"))
            .collect();
        assert_eq!(back, servers);
    }
}
