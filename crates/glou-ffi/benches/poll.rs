//! What `glou_poll` costs a game each frame when nothing is pending (the common case),
//! and when an event waits.
#![allow(unsafe_code)] // reason: it calls the C functions as a game would

use std::hint::black_box;
use std::mem::MaybeUninit;

use criterion::{Criterion, criterion_group, criterion_main};
use glou::{glou_client_free, glou_client_new, glou_event, glou_poll, glou_query};

fn poll(c: &mut Criterion) {
    // Nothing listens on port 9 of loopback: the client never gets an event it did not
    // ask for, and making one costs no network traffic.
    let client = unsafe { glou_client_new(c"http://127.0.0.1:9".as_ptr()) };
    assert!(!client.is_null());
    let mut event = MaybeUninit::<glou_event>::zeroed();
    c.bench_function("glou_poll, nothing pending", |b| {
        b.iter(|| unsafe { black_box(glou_poll(client, event.as_mut_ptr())) })
    });
    // One event per iteration: a bad filter is refused without any traffic, so ask for
    // a query to an unreachable server and wait for its reply.
    c.bench_function("glou_query to a closed port, polled until its reply", |b| {
        b.iter(|| unsafe {
            glou_query(client, c"game=x".as_ptr());
            while glou_poll(client, event.as_mut_ptr()) == 0 {
                std::hint::spin_loop();
            }
        })
    });
    assert_eq!(glou_client_free(client), 0);
}

criterion_group!(benches, poll);
criterion_main!(benches);
