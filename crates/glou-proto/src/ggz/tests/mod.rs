//! GGZ codec tests against the captures of real ggzd / ggzcore sessions in
//! `../shared/reference/ggz/` (t1–t3: a scripted client against ggzd trunk; t6: the
//! real ggz-txt client, from ggzd's DumpFile). The lines compared are copied here as
//! literals; when the capture files are present, the tests also check every line.

mod client;
mod client_more;
mod server;
mod server_more;

use std::path::PathBuf;

/// A capture file, or `None` (with a note on stderr) when it is not beside the repo.
fn capture(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ggz")
        .join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!("skipping the check of {}: {e}", path.display());
            None
        }
    }
}

/// Which way a captured line went.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Server,
    Client,
}

/// The lines of each connection of a capture going one way, each ending in `\n`,
/// in order of first appearance: `[A] S: …` / `[A] C: …` (t1–t3) or the DumpFile's
/// `=> 7 ` / `7 => ` markers, where unmarked lines continue the previous write (t6).
fn streams(capture: &str, dir: Dir) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut last = None;
    for line in capture.lines() {
        let (conn, d, text) = if let Some(rest) = line.strip_prefix("=> 7 ") {
            ("7", Dir::Server, rest)
        } else if let Some(rest) = line.strip_prefix("7 => ") {
            ("7", Dir::Client, rest)
        } else if let Some((head, text)) = line.split_once("] S: ") {
            (head.trim_start_matches('['), Dir::Server, text)
        } else if let Some((head, text)) = line.split_once("] C: ") {
            (head.trim_start_matches('['), Dir::Client, text)
        } else if let Some(d) = last.filter(|_| !line.starts_with('[')) {
            ("7", d, line)
        } else {
            continue;
        };
        last = Some(d);
        if d != dir || text == "<EOF>" {
            continue;
        }
        let i = match out.iter().position(|(c, _)| c == conn) {
            Some(i) => i,
            None => {
                out.push((conn.to_string(), String::new()));
                out.len() - 1
            }
        };
        out[i].1.push_str(text);
        out[i].1.push('\n');
    }
    out
}
