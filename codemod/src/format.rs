//! rustfmt-clean output where the input was clean: a changed file whose
//! original text rustfmt leaves as it is (with the target's own
//! `rustfmt.toml` and its crate's edition) is formatted after the edits, so
//! that the migration needs no separate `cargo fmt`. Any other file keeps
//! the codemod's minimal byte edits.
//!
//! rustfmt reads the text on stdin, in the file's folder (where it looks
//! for `rustfmt.toml` upwards), and never follows `mod` declarations.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What happened to one file's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Formatted {
    /// Formatted: the input was rustfmt-clean.
    Yes(String),
    /// Left as edited: the input was not rustfmt-clean.
    NotClean,
    /// rustfmt could not run or failed; the reason.
    Failed(String),
}

/// Formats `output` when `original` is rustfmt-clean.
pub fn format_if_clean(path: &Path, original: &str, output: &str) -> Formatted {
    let edition = edition_of(path);
    match rustfmt(path, original, &edition) {
        Ok(formatted) if formatted == original => {}
        Ok(_) => return Formatted::NotClean,
        // rustfmt rejects the original: not ours to judge.
        Err(Failure::Rustfmt(_)) => return Formatted::NotClean,
        Err(Failure::Spawn(message)) => return Formatted::Failed(message),
    }
    match rustfmt(path, output, &edition) {
        Ok(formatted) => Formatted::Yes(formatted),
        Err(Failure::Rustfmt(message) | Failure::Spawn(message)) => Formatted::Failed(message),
    }
}

enum Failure {
    /// rustfmt is missing or could not be run.
    Spawn(String),
    /// rustfmt ran and refused the text.
    Rustfmt(String),
}

fn rustfmt(path: &Path, text: &str, edition: &str) -> Result<String, Failure> {
    let program = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_string());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut child = Command::new(&program)
        .args(["--edition", edition, "--emit", "stdout", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::Spawn(format!("cannot run {program}: {e}")))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = text.to_string();
    // Written from another thread: rustfmt may fill its stdout pipe first.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| Failure::Spawn(format!("{program}: {e}")))?;
    let _ = writer.join();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(Failure::Rustfmt(
            stderr.lines().next().unwrap_or("rustfmt failed").to_string(),
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| Failure::Rustfmt("rustfmt wrote invalid UTF-8".to_string()))
}

/// The edition of the crate holding `path`: `package.edition` of the
/// nearest `Cargo.toml` above it, through `edition.workspace = true` to the
/// workspace's `[workspace.package]`; cargo's default (2015) otherwise.
pub fn edition_of(path: &Path) -> String {
    let mut inherits = false;
    for dir in path.ancestors().skip(1) {
        let Some(manifest) = read_manifest(&dir.join("Cargo.toml")) else {
            continue;
        };
        if !inherits {
            match manifest.get("package").and_then(|p| p.get("edition")) {
                Some(toml::Value::String(edition)) => return edition.clone(),
                Some(toml::Value::Table(t)) if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) => {
                    inherits = true;
                }
                _ if manifest.get("package").is_some() => return "2015".to_string(),
                _ => {}
            }
        }
        if inherits {
            let edition = manifest
                .get("workspace")
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get("edition"))
                .and_then(toml::Value::as_str);
            if let Some(edition) = edition {
                return edition.to_string();
            }
        }
    }
    "2015".to_string()
}

fn read_manifest(path: &Path) -> Option<toml::Table> {
    let text = std::fs::read_to_string(path).ok()?;
    text.parse::<toml::Table>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edition_comes_from_the_workspace_when_inherited() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"a\"]\n[workspace.package]\nedition = \"2021\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("a/src")).unwrap();
        std::fs::write(
            root.join("a/Cargo.toml"),
            "[package]\nname = \"a\"\nedition.workspace = true\n",
        )
        .unwrap();
        assert_eq!(edition_of(&root.join("a/src/lib.rs")), "2021");
        std::fs::write(root.join("a/Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        assert_eq!(edition_of(&root.join("a/src/lib.rs")), "2015");
    }

    #[test]
    fn only_clean_inputs_are_formatted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        let clean = "fn f() {\n    g(1, 2);\n}\n";
        let edited = "fn f() {\n    g(1,\n    );\n}\n";
        assert_eq!(
            format_if_clean(&path, clean, edited),
            Formatted::Yes("fn f() {\n    g(1);\n}\n".to_string())
        );
        let messy = "fn f() {  g(1, 2); }\n";
        assert_eq!(format_if_clean(&path, messy, edited), Formatted::NotClean);
    }
}
