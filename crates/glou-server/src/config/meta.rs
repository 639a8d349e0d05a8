//! `[ggzmeta]` and `[federation]`: the GGZ metaserver's update rights, the original's
//! `metaservconf.xml` (its entries become permanent listings, its authorizations
//! update rights, its peers federation links), and the communities this one sends
//! its listings to.

use std::path::PathBuf;
use std::time::Duration;

use glou_proto::ggzmeta::{self, Authorization};
use serde::Deserialize;

use super::{ConfigError, seconds};
use crate::federation::{FederationConfig, PeerLink};

/// `[ggzmeta]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGgzmeta {
    /// An original `metaservconf.xml` to load (also `glou serve --ggzmeta-config`).
    pub config: Option<PathBuf>,
    /// Seconds a connection may stay without a request. Default 60.
    pub idle_timeout: Option<f64>,
    /// Who may publish (`<update>`) and link (`<federate>`), and for which classes.
    #[serde(default)]
    pub authorizations: Vec<RawAuthorization>,
}

/// `[[ggzmeta.authorizations]]`, as the original's `<authorization>`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthorization {
    pub username: String,
    pub password: String,
    /// A class (game), or "*" for all. Default "*".
    pub realm: Option<String>,
    /// May publish into existing classes. Default true.
    pub update: Option<bool>,
    /// May create classes. Default false.
    pub create: Option<bool>,
}

/// `[federation]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFederation {
    /// This community's name, as its peers know it. Required to federate.
    pub community: Option<String>,
    /// Seconds a gone peer's listings stay. Default 300.
    pub grace: Option<f64>,
    /// Changes a peer may send per second before its link is dropped. Default 5000.
    pub max_changes_per_second: Option<f64>,
    #[serde(default)]
    pub peers: Vec<RawPeer>,
}

/// `[[federation.peers]]`: a community this one sends its listings to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPeer {
    /// The peer's ggzmeta listener: `ggzmeta://HOST:PORT` or `HOST:PORT`.
    pub url: String,
    /// The name the peer knows this community by. Default: `federation.community`.
    pub username: Option<String>,
    pub password: String,
    /// Games sent to this peer. Default: all.
    #[serde(default)]
    pub share: Vec<String>,
    /// Games never sent to this peer.
    #[serde(default)]
    pub deny: Vec<String>,
}

/// What the metaserver runs with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ggzmeta {
    pub authorizations: Vec<Authorization>,
    /// Entries of the configuration file, listed permanently.
    pub entries: Vec<ggzmeta::Entry>,
    /// Classes of the configuration file (known even when empty).
    pub classes: Vec<String>,
    pub idle_timeout: Duration,
}

/// Validates `[ggzmeta]` and `[federation]`, loading the original configuration
/// file if one is named (its peers join the configured ones).
pub fn validate(
    raw: RawGgzmeta,
    fed: RawFederation,
) -> Result<(Ggzmeta, FederationConfig), ConfigError> {
    let mut meta = Ggzmeta {
        idle_timeout: seconds("ggzmeta.idle_timeout", raw.idle_timeout, 60.0)?,
        ..Ggzmeta::default()
    };
    let mut peers = Vec::new();
    if let Some(path) = &raw.config {
        let bytes = std::fs::read(path)
            .map_err(|e| ConfigError(format!("ggzmeta.config: reading {}: {e}", path.display())))?;
        let file = ggzmeta::Config::parse(&bytes)
            .map_err(|e| ConfigError(format!("ggzmeta.config: {}: {e}", path.display())))?;
        meta.entries = file.entries;
        meta.classes = file.classes;
        meta.authorizations = file.authorizations;
        for p in file.peers {
            peers.push(peer(
                &p.uri,
                Some(p.username),
                p.password,
                Vec::new(),
                Vec::new(),
            )?);
        }
    }
    for a in raw.authorizations {
        meta.authorizations.push(Authorization {
            username: a.username,
            password: a.password,
            realm: a.realm.unwrap_or_else(|| "*".to_string()),
            update: a.update.unwrap_or(true),
            create: a.create.unwrap_or(false),
        });
    }
    let community = fed.community;
    for p in fed.peers {
        let username = p.username.or_else(|| community.clone());
        peers.push(peer(&p.url, username, p.password, p.share, p.deny)?);
    }
    if community.is_none() && !peers.is_empty() {
        return Err(ConfigError(
            "federation.community: peers are configured, so this community needs a name".into(),
        ));
    }
    let rate = fed.max_changes_per_second.unwrap_or(5000.0);
    if !(1.0..=1e7).contains(&rate) {
        return Err(ConfigError(format!(
            "federation.max_changes_per_second: expected 1 to 10000000, got {rate}"
        )));
    }
    let grace = match fed.grace {
        Some(g) if (0.0..=86_400.0).contains(&g) => Duration::from_secs_f64(g),
        Some(g) => {
            return Err(ConfigError(format!(
                "federation.grace: expected seconds between 0 and 86400, got {g}"
            )));
        }
        None => Duration::from_secs(300),
    };
    Ok((
        meta,
        FederationConfig {
            community,
            peers,
            grace,
            max_changes_per_second: rate,
        },
    ))
}

fn peer(
    url: &str,
    username: Option<String>,
    password: String,
    share: Vec<String>,
    deny: Vec<String>,
) -> Result<PeerLink, ConfigError> {
    let address = url.strip_prefix("ggzmeta://").unwrap_or(url);
    let address = address.trim_end_matches('/');
    let valid = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !valid {
        return Err(ConfigError(format!(
            "federation peer {url:?}: expected ggzmeta://HOST:PORT"
        )));
    }
    let username = username.ok_or_else(|| {
        ConfigError(format!(
            "federation peer {url:?}: no username (set federation.community or the peer's username)"
        ))
    })?;
    Ok(PeerLink {
        address: address.to_string(),
        username,
        password,
        share,
        deny,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_file_and_the_toml_combine() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metaservconf.xml");
        std::fs::write(
            &path,
            r#"<?xml version="1.0"?><metaserver><entrylist class="ggz"><meta version="0.5">ggzmeta://a:15689</meta></entrylist>
            <configuration><authorization username="josef" password="p" realm="ggz" update="1"/>
            <peer username="node02" password="s">ggzmeta://127.0.0.1:15690</peer></configuration></metaserver>"#,
        )
        .unwrap();
        let raw = RawGgzmeta {
            config: Some(path),
            authorizations: vec![RawAuthorization {
                username: "beta".into(),
                password: "q".into(),
                realm: None,
                update: None,
                create: None,
            }],
            ..RawGgzmeta::default()
        };
        let fed = RawFederation {
            community: Some("alpha".into()),
            peers: vec![RawPeer {
                url: "127.0.0.1:15691".into(),
                username: None,
                password: "t".into(),
                share: vec!["openarena".into()],
                deny: vec![],
            }],
            ..RawFederation::default()
        };
        let (meta, fed) = validate(raw, fed).unwrap();
        assert_eq!(meta.entries.len(), 1);
        assert_eq!(meta.classes, ["ggz"]);
        assert_eq!(meta.authorizations.len(), 2);
        assert_eq!(meta.authorizations[1].realm, "*");
        let peers: Vec<(&str, &str)> = fed
            .peers
            .iter()
            .map(|p| (p.address.as_str(), p.username.as_str()))
            .collect();
        assert_eq!(
            peers,
            [("127.0.0.1:15690", "node02"), ("127.0.0.1:15691", "alpha")]
        );
    }

    #[test]
    fn mistakes_are_named() {
        let fed = |url: &str| RawFederation {
            community: Some("a".into()),
            peers: vec![RawPeer {
                url: url.into(),
                username: None,
                password: "p".into(),
                share: vec![],
                deny: vec![],
            }],
            ..RawFederation::default()
        };
        let err = validate(RawGgzmeta::default(), fed("http://x")).unwrap_err();
        assert!(
            err.to_string().contains("expected ggzmeta://HOST:PORT"),
            "{err}"
        );
        let nameless = RawFederation {
            community: None,
            ..fed("h:1")
        };
        let err = validate(RawGgzmeta::default(), nameless).unwrap_err();
        assert!(err.to_string().contains("federation.community"), "{err}");
        let missing = RawGgzmeta {
            config: Some("/nonexistent/metaservconf.xml".into()),
            ..RawGgzmeta::default()
        };
        let err = validate(missing, RawFederation::default()).unwrap_err();
        assert!(err.to_string().contains("ggzmeta.config: reading"), "{err}");
    }
}
