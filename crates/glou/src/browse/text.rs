//! Untrusted text made inert for the terminal: control characters, bidirectional
//! overrides and invisible formatting replaced or dropped, then cut to a display width
//! (unicode-width) so that a hostile server name can neither move the cursor, reorder a
//! line nor push the columns apart. Every string from the network goes through here
//! before it is drawn.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// What stands for a control character.
const REPLACEMENT: char = '\u{fffd}';
/// What ends a cut string.
const ELLIPSIS: char = '…';
/// No terminal is this wide: longer input is not even looked at past this many chars.
const MAX_CHARS: usize = 1024;

/// `s` with control characters (C0, DEL, C1) replaced by U+FFFD, tabs and line breaks
/// by spaces, and bidirectional controls and invisible format characters dropped. Only
/// the first [`MAX_CHARS`] characters are kept (a 10,000-character name costs nothing).
pub fn inert(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_CHARS * 4));
    for c in s.chars().take(MAX_CHARS) {
        match c {
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push(REPLACEMENT),
            c if is_invisible(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Bidirectional embeddings, overrides, isolates and marks, and other characters that
/// change how the rest of a line is shown without being seen themselves.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'              // Arabic letter mark
        | '\u{200b}'..='\u{200f}' // zero-width space/joiners, LRM, RLM
        | '\u{2028}'..='\u{202e}' // line/paragraph separators, LRE RLE PDF LRO RLO
        | '\u{2060}'..='\u{206f}' // word joiner, invisible operators, LRI RLI FSI PDI, deprecated
        | '\u{feff}'              // zero-width no-break space (BOM)
        | '\u{fff9}'..='\u{fffb}' // interlinear annotations
    )
}

/// [`inert`] text cut to at most `width` columns, ending with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    cut(&inert(s), width)
}

/// Cuts already inert text to at most `width` columns (`…` when cut). A wide
/// character that would straddle the edge is left out whole.
pub fn cut(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push(ELLIPSIS);
    out
}

/// The display width of inert text.
pub fn width(s: &str) -> usize {
    s.width()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_overrides_become_inert() {
        assert_eq!(inert("a\x1b[2Jb"), "a\u{fffd}[2Jb");
        assert_eq!(inert("x\u{202e}gnp.exe"), "xgnp.exe");
        assert_eq!(inert("\u{2066}a\u{2069}\u{200f}b"), "ab");
        assert_eq!(inert("tab\there\nnl\r"), "tab here nl ");
        assert_eq!(inert("\u{85}c1\u{7f}"), "\u{fffd}c1\u{fffd}");
        assert_eq!(inert("ünïcödé 名前"), "ünïcödé 名前");
    }

    #[test]
    fn long_text_is_bounded_and_cut_by_columns() {
        let long = "x".repeat(10_000);
        assert_eq!(inert(&long).len(), MAX_CHARS);
        assert_eq!(fit(&long, 5), "xxxx…");
        assert_eq!(fit("abc", 5), "abc");
        assert_eq!(fit("abcdef", 0), "");
        // Wide characters count two columns and are never split.
        assert_eq!(fit("名前名前", 5), "名前…");
        assert_eq!(width(&fit("名前名前", 4)), 3);
        for w in 0..12 {
            assert!(width(&fit("a名b前c\u{202e}d名", w)) <= w, "{w}");
        }
    }
}
