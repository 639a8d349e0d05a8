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

#[path = "../../../fuzz/checks/wzlobby.rs"]
mod wzlobby;

#[test]
fn wzlobby() {
    replay("wzlobby", wzlobby::run);
}
