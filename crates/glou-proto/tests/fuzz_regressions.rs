//! The fuzz targets' checks (`fuzz/checks/`) on every input kept under
//! `fuzz/regressions/TARGET/`, so that what once crashed a target stays fixed without
//! cargo-fuzz. One test per target (`lobby_command` is glou-core's).

use replay::replay;

#[path = "../../../fuzz/checks/replay.rs"]
mod replay;

#[path = "../../../fuzz/checks/cluster.rs"]
mod cluster;

#[test]
fn cluster() {
    replay("cluster", cluster::run);
}

#[path = "../../../fuzz/checks/federation.rs"]
mod federation;

#[test]
fn federation() {
    replay("federation", federation::run);
}

#[path = "../../../fuzz/checks/freeciv.rs"]
mod freeciv;

#[test]
fn freeciv() {
    replay("freeciv", freeciv::run);
}

#[path = "../../../fuzz/checks/ggz.rs"]
mod ggz;

#[test]
fn ggz() {
    replay("ggz", ggz::run);
}

#[path = "../../../fuzz/checks/ggzdmod.rs"]
mod ggzdmod;

#[test]
fn ggzdmod() {
    replay("ggzdmod", ggzdmod::run);
}

#[path = "../../../fuzz/checks/ggzmeta.rs"]
mod ggzmeta;

#[test]
fn ggzmeta() {
    replay("ggzmeta", ggzmeta::run);
}

#[path = "../../../fuzz/checks/native.rs"]
mod native;

#[test]
fn native() {
    replay("native", native::run);
}

#[path = "../../../fuzz/checks/q3master.rs"]
mod q3master;

#[test]
fn q3master() {
    replay("q3master", q3master::run);
}

#[path = "../../../fuzz/checks/tw07.rs"]
mod tw07;

#[test]
fn tw07() {
    replay("tw07", tw07::run);
}

/// The same checks on pseudo-random datagrams, most with a valid header so that the
/// payloads get tried.
#[test]
fn tw07_on_pseudo_random_datagrams() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let tags: [&[u8]; 4] = [b"inf3", b"lis2", b"gie3", b"siz2"];
    for _ in 0..20_000 {
        let len = (next() % 120) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if next() % 4 != 0 && d.len() >= 17 {
            d[0] = 0x21;
            d[9..13].copy_from_slice(glou_proto::tw07::OOB);
            d[13..17].copy_from_slice(tags[(next() % 4) as usize]);
        }
        tw07::run(&d);
    }
}

#[path = "../../../fuzz/checks/wzlobby.rs"]
mod wzlobby;

#[test]
fn wzlobby() {
    replay("wzlobby", wzlobby::run);
}
