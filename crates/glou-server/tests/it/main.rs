//! End-to-end tests of the server over real sockets on port 0, with a controlled
//! clock: the HTTP API, the WebSocket, persistence across restarts, bad input.

mod accounts;
mod bad_input;
mod client;
mod federation;
mod freeciv;
mod games;
mod ggz;
mod ggzmeta;
mod harness;
mod listing;
mod ops;
mod persistence;
mod q3master;
mod security;
mod tw07;
mod web;
mod ws;
mod wzlobby;
