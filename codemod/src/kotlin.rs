//! Kotlin sources are not rewritten: each line naming notification code is
//! listed for manual review.

use crate::rules::Review;
use crate::spec;

pub fn scan(source: &str) -> Vec<Review> {
    let mut out = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let found: Vec<&str> = spec::KOTLIN_MARKERS
            .iter()
            .copied()
            .filter(|m| line.contains(m))
            .collect();
        if !found.is_empty() {
            out.push(Review {
                line: i + 1,
                message: format!("Kotlin: notification code ({}); remove by hand", found.join(", ")),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_marker_lines() {
        let src = "class W {\n  val enableNotifications = true\n  fun f() {}\n}\n";
        let reviews = super::scan(src);
        assert_eq!(reviews.len(), 1);
        assert_eq!(reviews[0].line, 2);
    }
}
