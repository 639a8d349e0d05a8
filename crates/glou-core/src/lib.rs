//! Glou's sans-IO core: the listing registry (the metaserver's state and rules) and
//! the lobby (rooms, tables, chat).
//!
//! Nothing here does IO, reads the clock or knows a wire format: every method that
//! depends on time takes `now`, and every change is returned as an [`Event`] with a
//! sequence number. Front doors translate their wire messages into these calls.

pub mod account;
mod filter;
mod guard;
mod listing;
pub mod lobby;
pub mod rating;
mod registry;
pub mod sample;
mod time;

pub use filter::{Cursor, Filter, Query, Sort};
pub use guard::{Challenges, RateLimiter};
pub use listing::{
    Entry, EntryId, FieldError, Listing, ListingLimits, ListingPatch, Player, SecretDigest, Source,
};
pub use registry::{
    AnnounceError, Announced, ChangesError, Event, EventKind, GameSummary, Merged, Page, PersistOp,
    Registry, RegistryConfig, UpdateError, player_hash,
};
pub use time::Timestamp;
