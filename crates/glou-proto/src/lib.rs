//! Glou's wire formats: message types with their encode/decode, one module per
//! protocol. Pure data and codecs: no IO, no tokio, no knowledge of the core.

pub mod cluster;
pub mod federation;
pub mod freeciv;
pub mod ggz;
pub mod ggzdmod;
pub mod ggzmeta;
pub mod native;
pub mod q3master;
pub mod tw07;
pub mod wzlobby;
