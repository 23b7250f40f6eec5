//! The provenance file of every model directory this tool publishes: it marks the directory as
//! this tool's and holds the registry entry it was published under (with the SHA-256 of each
//! model file), so integrity can be checked without the registry and a run killed between
//! publishing and registering is completed by the next run.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::registry::RegistryEntry;

pub const MANIFEST_FILE: &str = "auto_train_manifest.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub producer: String,
    pub files: Vec<String>,
    pub registry_entry: RegistryEntry,
}

/// What reading a directory's manifest found.
#[derive(Debug)]
pub enum ManifestRead {
    /// No manifest: not published by this tool.
    Absent,
    Present(Box<Manifest>),
    /// A manifest that cannot be read (empty, truncated, edited).
    Unreadable(String),
}

pub fn read(dir: &Path) -> ManifestRead {
    match std::fs::read(dir.join(MANIFEST_FILE)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ManifestRead::Absent,
        Err(e) => ManifestRead::Unreadable(format!("{MANIFEST_FILE} cannot be read: {e}")),
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(m) => ManifestRead::Present(Box::new(m)),
            Err(e) => ManifestRead::Unreadable(format!("{MANIFEST_FILE} is not valid: {e}")),
        },
    }
}

/// The manifest of a model directory, if this tool wrote it and it is readable.
pub fn read_manifest(dir: &Path) -> Option<Manifest> {
    match read(dir) {
        ManifestRead::Present(m) => Some(*m),
        _ => None,
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The SHA-256 of each named file of `dir`; a file that cannot be read is left out.
pub fn hash_files<'a>(
    dir: &Path,
    names: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, String> {
    names
        .into_iter()
        .filter_map(|n| Some((n.to_string(), sha256(&std::fs::read(dir.join(n)).ok()?))))
        .collect()
}

/// The registry entry to append for a published directory: the manifest's entry plus the hash
/// of the manifest file itself, so the registry covers every file the directory holds.
pub fn entry_to_register(dir: &Path, manifest: &Manifest) -> Option<RegistryEntry> {
    let bytes = std::fs::read(dir.join(MANIFEST_FILE)).ok()?;
    let mut entry = manifest.registry_entry.clone();
    entry.files.insert(MANIFEST_FILE.into(), sha256(&bytes));
    Some(entry)
}
