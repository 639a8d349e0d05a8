//! Text from the wire made fit for a listing: what every game master's translation
//! needs, whatever the protocol.

/// `s` without control characters, at most `max` bytes (cut at a character boundary).
pub fn clean(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_go_and_the_length_is_bounded_on_a_character() {
        assert_eq!(clean("a\nb\u{7}c", 10), "abc");
        assert_eq!(clean("ééé", 5), "éé");
        assert_eq!(clean("", 3), "");
    }
}
