//! Who may announce what: the announced address must be the caller's own IP (a
//! server behind NAT announces only its port) unless the caller is in a trusted
//! network; loopback and private addresses only with `allow_private`.

use std::net::{IpAddr, SocketAddr};

use axum::http::StatusCode;
use ipnet::IpNet;

use super::error::ApiError;

/// Where an announced server is, and whom its entry counts against.
#[derive(Debug, PartialEq, Eq)]
pub struct Admitted {
    pub address: String,
    pub owner: IpAddr,
}

#[derive(Debug)]
pub struct Admission<'a> {
    pub trusted: &'a [IpNet],
    pub allow_private: bool,
}

impl Admission<'_> {
    pub fn admit(
        &self,
        address: Option<&str>,
        port: Option<u16>,
        caller: IpAddr,
    ) -> Result<Admitted, ApiError> {
        let caller = caller.to_canonical();
        let trusted = self.trusted.iter().any(|net| net.contains(&caller));
        let addr = match (address, port) {
            (Some(a), _) => match a.parse::<SocketAddr>() {
                Ok(sa) if sa.ip().is_unspecified() => SocketAddr::new(caller, sa.port()),
                Ok(sa) => SocketAddr::new(sa.ip().to_canonical(), sa.port()),
                // Host names are only taken from trusted callers, as they are.
                Err(_) if trusted && is_host_port(a) => {
                    return Ok(Admitted {
                        address: a.to_string(),
                        owner: caller,
                    });
                }
                Err(_) => {
                    return Err(ApiError::bad_request(
                        "invalid_address",
                        format!("address: expected IP:port, got {a:?}"),
                    ));
                }
            },
            (None, Some(port)) => SocketAddr::new(caller, port),
            (None, None) => {
                return Err(ApiError::bad_request(
                    "invalid_address",
                    "address: expected \"IP:port\", or a port",
                ));
            }
        };
        if addr.port() == 0 {
            return Err(ApiError::bad_request(
                "invalid_address",
                "address: port 0 is not a port",
            ));
        }
        if addr.ip() != caller && !trusted {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "address_mismatch",
                format!(
                    "address: {} is not the caller's address {caller}",
                    addr.ip()
                ),
            ));
        }
        if !self.allow_private && !is_public(addr.ip()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "private_address",
                format!(
                    "address: {} is not a public address (the server runs without allow_private)",
                    addr.ip()
                ),
            ));
        }
        let owner = if trusted { addr.ip() } else { caller };
        Ok(Admitted {
            address: addr.to_string(),
            owner,
        })
    }
}

fn is_host_port(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((host, port)) => {
            port.parse::<u16>().is_ok_and(|p| p > 0)
                && !host.is_empty()
                && host.len() <= 253
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }
        None => false,
    }
}

/// Whether the internet at large could reach this address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admit(
        a: &Admission<'_>,
        address: Option<&str>,
        port: Option<u16>,
        caller: &str,
    ) -> Result<Admitted, &'static str> {
        a.admit(address, port, caller.parse().unwrap())
            .map_err(|e| e.code)
    }

    #[test]
    fn public_callers_announce_their_own_address() {
        let a = Admission {
            trusted: &[],
            allow_private: false,
        };
        let own = Admitted {
            address: "198.51.100.7:27960".into(),
            owner: "198.51.100.7".parse().unwrap(),
        };
        assert_eq!(
            admit(&a, Some("198.51.100.7:27960"), None, "198.51.100.7"),
            Ok(own)
        );
        assert_eq!(
            admit(&a, None, Some(27960), "198.51.100.7")
                .unwrap()
                .address,
            "198.51.100.7:27960"
        );
        assert_eq!(
            admit(&a, Some("0.0.0.0:27960"), None, "198.51.100.7")
                .unwrap()
                .address,
            "198.51.100.7:27960"
        );
        assert_eq!(
            admit(
                &a,
                Some("[::ffff:198.51.100.7]:1"),
                None,
                "::ffff:198.51.100.7"
            )
            .unwrap()
            .address,
            "198.51.100.7:1"
        );
        assert_eq!(
            admit(&a, Some("198.51.100.8:27960"), None, "198.51.100.7"),
            Err("address_mismatch")
        );
        assert_eq!(
            admit(&a, Some("example.org:27960"), None, "198.51.100.7"),
            Err("invalid_address")
        );
        assert_eq!(
            admit(&a, Some("198.51.100.7:0"), None, "198.51.100.7"),
            Err("invalid_address")
        );
        assert_eq!(
            admit(&a, None, None, "198.51.100.7"),
            Err("invalid_address")
        );
        assert_eq!(
            admit(&a, Some("127.0.0.1:1"), None, "127.0.0.1"),
            Err("private_address")
        );
        assert_eq!(
            admit(&a, Some("10.1.2.3:1"), None, "10.1.2.3"),
            Err("private_address")
        );
        assert_eq!(
            admit(&a, Some("[fd00::1]:1"), None, "fd00::1"),
            Err("private_address")
        );
    }

    #[test]
    fn private_allowed_and_trusted_networks() {
        let nets = ["10.0.0.0/8".parse().unwrap()];
        let a = Admission {
            trusted: &nets,
            allow_private: true,
        };
        assert!(admit(&a, Some("127.0.0.1:1"), None, "127.0.0.1").is_ok());
        let relayed = admit(&a, Some("198.51.100.9:5"), None, "10.0.0.2").unwrap();
        assert_eq!(relayed.owner, "198.51.100.9".parse::<IpAddr>().unwrap());
        assert_eq!(
            admit(&a, Some("game.example.org:5"), None, "10.0.0.2")
                .unwrap()
                .address,
            "game.example.org:5"
        );
        assert_eq!(
            admit(&a, Some("bad host:5"), None, "10.0.0.2"),
            Err("invalid_address")
        );
        assert_eq!(
            admit(&a, Some("198.51.100.9:5"), None, "127.0.0.1"),
            Err("address_mismatch")
        );
    }
}
