//! Text from clients, made safe for the log: control characters
//! (newlines, carriage returns, escape sequences) are written escaped, so a
//! client cannot forge log lines or colour the terminal, and the length is
//! capped, so one call cannot fill the disk.

use std::fmt;

/// Characters kept of a worker's log level.
pub const LEVEL_CAP: usize = 16;
/// Characters kept of a worker's log message.
pub const MESSAGE_CAP: usize = 4096;

/// `text` escaped and capped at `cap` characters, for a log field.
pub fn escaped(text: &str, cap: usize) -> Escaped<'_> {
    Escaped { text, cap }
}

pub struct Escaped<'a> {
    text: &'a str,
    cap: usize,
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kept, (at, c)) in self.text.char_indices().enumerate() {
            if kept == self.cap {
                return write!(f, "…({} more bytes)", self.text.len() - at);
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let forged = "done\n2026-01-01T00:00:00Z  INFO admin logged in\r\u{1b}[31mred";
        let shown = escaped(forged, MESSAGE_CAP).to_string();
        assert_eq!(
            shown,
            "done\\n2026-01-01T00:00:00Z  INFO admin logged in\\r\\u{1b}[31mred"
        );
        assert!(!shown.chars().any(char::is_control));
    }

    #[test]
    fn long_text_is_capped_with_what_was_left_out() {
        let text = "é".repeat(10);
        assert_eq!(escaped(&text, 3).to_string(), "ééé…(14 more bytes)");
        assert_eq!(escaped("abc", 3).to_string(), "abc");
    }
}
