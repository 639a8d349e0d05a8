//! The C boundary under bad input: NULL pointers, invalid UTF-8, freed and made-up
//! handles, many threads at once, a server that goes away mid-call. Every case gets its
//! documented result code; nothing crashes. (`interop/sdk.sh` runs the C examples under
//! valgrind for leaks.)
#![allow(unsafe_code)] // reason: it calls the C functions as a C program would

use std::ffi::{CStr, c_char};
use std::io::Read;
use std::mem::MaybeUninit;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use glou::*;

fn last_error() -> String {
    unsafe { CStr::from_ptr(glou_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn new_client(urls: &CStr) -> *mut glou_client {
    let c = unsafe { glou_client_new(urls.as_ptr()) };
    assert!(!c.is_null(), "glou_client_new: {}", last_error());
    c
}

/// The next event within 10 s, as (kind, request, code, error, message).
fn next_event(c: *mut glou_client) -> (glou_event_kind, u64, i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ev = MaybeUninit::<glou_event>::zeroed();
    loop {
        let got = unsafe { glou_poll(c, ev.as_mut_ptr()) };
        assert!(got >= 0, "glou_poll: {got}");
        if got == 1 {
            let ev = unsafe { ev.assume_init_ref() };
            let s = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
            return (ev.kind, ev.request, ev.code, s(ev.error), s(ev.message));
        }
        assert!(Instant::now() < deadline, "no event within 10 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn null_pointers_and_bad_strings_get_their_codes() {
    assert!(unsafe { glou_client_new(std::ptr::null()) }.is_null());
    assert!(last_error().contains("urls is NULL"), "{}", last_error());
    assert!(unsafe { glou_client_new(c"ftp://127.0.0.1:1".as_ptr()) }.is_null());
    assert!(last_error().contains("http://"), "{}", last_error());
    assert!(unsafe { glou_client_new(c"".as_ptr()) }.is_null());

    let c = new_client(c"http://127.0.0.1:9");
    let bad_utf8 = c"game=\xff".as_ptr();
    unsafe {
        assert_eq!(glou_query(c, std::ptr::null()), i64::from(GLOU_ERR_NULL));
        assert_eq!(glou_query(c, bad_utf8), i64::from(GLOU_ERR_UTF8));
        assert_eq!(
            glou_query(c, c"colour=red".as_ptr()),
            i64::from(GLOU_ERR_ARGUMENT)
        );
        assert!(last_error().contains("colour"), "{}", last_error());
        assert_eq!(
            glou_subscribe(c, c"t".as_ptr(), c"not_empty=maybe".as_ptr()),
            GLOU_ERR_ARGUMENT
        );
        assert_eq!(glou_poll(c, std::ptr::null_mut()), GLOU_ERR_NULL);
        assert_eq!(
            glou_announce_set(c, c"colour".as_ptr(), c"red".as_ptr()),
            GLOU_ERR_ARGUMENT
        );
        assert_eq!(
            glou_announce_set(c, c"name".as_ptr(), std::ptr::null()),
            GLOU_ERR_NULL
        );
        assert_eq!(glou_announce_start(c, c"oa".as_ptr(), 0), GLOU_ERR_ARGUMENT);
        assert_eq!(glou_announce_stop(c), GLOU_ERR_STATE);
        assert_eq!(glou_lobby_enter(c, 0), i64::from(GLOU_ERR_STATE));
        assert!(last_error().contains("log in first"), "{}", last_error());
        assert_eq!(
            glou_chat(c, std::ptr::null(), c"hi".as_ptr()),
            i64::from(GLOU_ERR_STATE)
        );
        assert_eq!(
            glou_report_match(c, c"oa".as_ptr(), std::ptr::null(), 0),
            i64::from(GLOU_ERR_ARGUMENT)
        );
        let nameless = [glou_player {
            name: std::ptr::null(),
            score: 0,
            ping: 0,
        }];
        assert_eq!(
            glou_announce_set_player_list(c, nameless.as_ptr(), 1),
            GLOU_ERR_NULL
        );
        assert_eq!(
            glou_announce_set_player_list(c, std::ptr::null(), 3),
            GLOU_ERR_NULL
        );
        // Setters before glou_announce_start are kept for it.
        assert_eq!(
            glou_announce_set(c, c"name".as_ptr(), c"ok".as_ptr()),
            GLOU_OK
        );
        assert_eq!(
            CStr::from_ptr(glou_result_name(GLOU_ERR_UTF8)),
            c"GLOU_ERR_UTF8"
        );
        assert_eq!(CStr::from_ptr(glou_result_name(-1000)), c"unknown");
    }
    // Nothing was queued by refused calls.
    let mut ev = MaybeUninit::<glou_event>::zeroed();
    assert_eq!(unsafe { glou_poll(c, ev.as_mut_ptr()) }, 0);
    assert_eq!(glou_client_free(c), GLOU_OK);
}

#[test]
fn freed_and_made_up_handles_are_refused() {
    let c = new_client(c"http://127.0.0.1:9");
    assert!(glou_client_fd(c) >= 0);
    assert_eq!(glou_client_free(c), GLOU_OK);
    assert_eq!(glou_client_free(c), GLOU_ERR_HANDLE);
    assert_eq!(glou_client_fd(c), GLOU_ERR_HANDLE);
    let mut ev = MaybeUninit::<glou_event>::zeroed();
    assert_eq!(unsafe { glou_poll(c, ev.as_mut_ptr()) }, GLOU_ERR_HANDLE);
    assert_eq!(
        unsafe { glou_query(c, c"".as_ptr()) },
        i64::from(GLOU_ERR_HANDLE)
    );
    let made_up = 0x1234usize as *mut glou_client;
    assert_eq!(glou_logout(made_up), i64::from(GLOU_ERR_HANDLE));
    assert!(
        last_error().contains("not a live client handle"),
        "{}",
        last_error()
    );
    assert_eq!(glou_client_free(std::ptr::null_mut()), GLOU_OK);
    assert_eq!(glou_friends(std::ptr::null_mut()), i64::from(GLOU_ERR_NULL));
}

#[test]
fn a_server_that_is_gone_or_goes_away_mid_call_is_a_network_error() {
    // Nobody listens.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = std::ffi::CString::new(format!("http://127.0.0.1:{port}")).unwrap();
    let c = new_client(&dead);
    let request = unsafe { glou_query(c, c"game=oa".as_ptr()) };
    assert!(request > 0);
    let (kind, req, code, error, message) = next_event(c);
    assert_eq!(
        (kind, req as i64, code),
        (glou_event_kind::GLOU_EVENT_REPLY, request, GLOU_ERR_NETWORK)
    );
    assert_eq!(error, "network");
    assert!(message.contains("cannot connect"), "{message}");
    assert_eq!(glou_client_free(c), GLOU_OK);

    // Accepts, reads the request, and hangs up without a word.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = std::ffi::CString::new(format!("http://{}", listener.local_addr().unwrap())).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
        }
    });
    let c = new_client(&url);
    let request = unsafe { glou_login(c, c"ann".as_ptr(), c"pw".as_ptr()) };
    let (kind, req, code, error, _) = next_event(c);
    assert_eq!(
        (kind, req as i64, code),
        (glou_event_kind::GLOU_EVENT_REPLY, request, GLOU_ERR_NETWORK)
    );
    assert_eq!(error, "network");
    assert_eq!(glou_client_free(c), GLOU_OK);
}

#[test]
fn many_threads_at_once_and_a_free_among_them() {
    let c = new_client(c"http://127.0.0.1:9");
    let handle = c as usize;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let c = handle as *mut glou_client;
                let mut ev = MaybeUninit::<glou_event>::zeroed();
                let mut refused = 0;
                for i in 0..2000u32 {
                    let codes = unsafe {
                        [
                            glou_announce_set_counts(c, i, 16, t),
                            glou_announce_set_rule(c, c"k".as_ptr(), c"v".as_ptr()),
                            glou_poll(c, ev.as_mut_ptr()).min(0),
                            glou_subscribe(c, c"t".as_ptr(), c"bad=1".as_ptr()),
                        ]
                    };
                    for code in codes {
                        assert!(
                            [GLOU_OK, GLOU_ERR_ARGUMENT, GLOU_ERR_STATE, GLOU_ERR_HANDLE]
                                .contains(&code),
                            "{code}"
                        );
                        refused += i32::from(code == GLOU_ERR_HANDLE);
                    }
                }
                refused
            })
        })
        .collect();
    // Freed while the threads run (or before they start): their later calls must be
    // refused, not run on a freed client.
    assert_eq!(glou_client_free(c), GLOU_OK);
    let refused: i32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    // Calls after the free were refused, not run on freed memory.
    assert!(refused > 0, "no call came after the free");
}
