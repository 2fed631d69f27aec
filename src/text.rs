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

fn is_format_trick(c: char) -> bool {
    matches!(c as u32, 0x200B..=0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0xFEFF)
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
