//! What every JSON document the tool prints or writes has in common: its schema version and the
//! tool version, and paths written as text. Paths are bytes on Unix; JSON strings are UTF-8, so a
//! path that is not UTF-8 is written lossily (U+FFFD for each bad byte) and the document says so
//! (`"paths_lossy": true`) instead of failing or panicking.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serializer;

/// The version of the layout of the JSON documents (run summary, status, error, backtest
/// summary.json): raised when a field changes meaning or is removed, not when one is added.
pub const SCHEMA_VERSION: u32 = 1;

/// Set when a path written into a JSON document was not valid UTF-8.
static LOSSY: AtomicBool = AtomicBool::new(false);

/// A path as JSON text: lossy when it is not UTF-8 (and then noted for `finish`).
pub fn path_text(path: &Path) -> String {
    match path.to_str() {
        Some(s) => s.to_string(),
        None => {
            LOSSY.store(true, Ordering::Relaxed);
            path.to_string_lossy().into_owned()
        }
    }
}

/// `#[serde(serialize_with = "crate::json::lossy_path")]` for `PathBuf` fields.
pub fn lossy_path<S: Serializer, P: AsRef<Path>>(path: P, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path_text(path.as_ref()))
}

/// `#[serde(serialize_with = "crate::json::lossy_paths")]` for `Vec<PathBuf>` fields.
pub fn lossy_paths<S: Serializer>(paths: &[std::path::PathBuf], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(paths.iter().map(|p| path_text(p)))
}

/// The leading fields of a document: `schema_version` and `tool_version`, then `doc`'s fields;
/// `paths_lossy` (with a warning on stderr) when a path in it was not UTF-8.
pub fn finish(doc: serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert("schema_version".into(), SCHEMA_VERSION.into());
    out.insert("tool_version".into(), env!("CARGO_PKG_VERSION").into());
    match doc {
        serde_json::Value::Object(fields) => {
            for (k, v) in fields {
                if k != "schema_version" && k != "tool_version" {
                    out.insert(k, v);
                }
            }
        }
        other => {
            out.insert("document".into(), other);
        }
    }
    if LOSSY.load(Ordering::Relaxed) {
        tracing::warn!(
            "a path is not valid UTF-8: the JSON shows it with U+FFFD in place of its bad bytes \
             (\"paths_lossy\": true)"
        );
        out.insert("paths_lossy".into(), true.into());
    }
    serde_json::Value::Object(out)
}

/// `finish`ed and pretty-printed, with a final newline.
pub fn to_text(doc: serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(&finish(doc))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
