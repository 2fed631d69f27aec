//! Making untrusted text safe to show. Purposes, names, comments, errors and anything read
//! back from the store may carry terminal control sequences (`\e[2J`, OSC titles) or line
//! breaks that forge a line of output; shown to people, they are escaped.

/// One line: every control character (line breaks included) becomes a visible escape.
pub fn safe(s: &str) -> String {
    escape(s, false)
}

/// Several lines: like [`safe`], but `\n` stays a line break.
pub fn safe_lines(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            // C0, DEL, C1 (which includes the 8-bit CSI), and the Unicode controls that
            // reorder or hide text (bidi overrides, zero-width joiners' cousins).
            c if c.is_control() || is_format_trick(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for Slack's mrkdwn: `&`, `<` and `>` escaped as Slack asks, so user text cannot
/// form a mention (`<!channel>`), a link (`<https://evil|click here>`) or a user
/// reference; control characters are escaped as in [`safe`].
pub fn slack(s: &str) -> String {
    safe(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Characters that reorder, hide or break text without being control characters: bidi
/// marks and overrides, zero-width and invisible letters, soft hyphen, line and paragraph
/// separators, the Hangul and Braille blanks.
fn is_format_trick(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F
            | 0x1160
            | 0x17B4
            | 0x17B5
            | 0x180B..=0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x206F
            | 0x2800
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF9..=0xFFFB
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_visible_not_executed() {
        assert_eq!(safe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(safe("x\nstate  approved"), "x\\nstate  approved");
        assert_eq!(safe_lines("x\ny\r"), "x\ny\\r");
        assert_eq!(safe("\u{1b}]0;title\u{7}"), "\\u{1b}]0;title\\u{7}");
        assert_eq!(safe("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(safe("ab\u{202e}cd"), "ab\\u{202e}cd");
        for c in [
            '\u{2028}', '\u{2029}', '\u{61c}', '\u{ad}', '\u{115f}', '\u{3164}', '\u{2800}',
        ] {
            assert!(!safe(&format!("a{c}b")).contains(c), "{:x}", c as u32);
        }
        assert_eq!(safe("plain text, ünïcode ok"), "plain text, ünïcode ok");
    }

    #[test]
    fn slack_text_cannot_mention_or_link() {
        assert_eq!(slack("<!channel> hi"), "&lt;!channel&gt; hi");
        assert_eq!(
            slack("<https://evil.example|click> & more"),
            "&lt;https://evil.example|click&gt; &amp; more"
        );
        assert_eq!(slack("a\nb"), "a\\nb");
    }
}
