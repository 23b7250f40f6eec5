//! The model registry (`registry.json`, `{"models": [...]}`), append-only: existing entries keep
//! their exact text and order, a key is never added twice, and the file is replaced atomically
//! under an exclusive lock. A registry that is not valid stops the run before anything trains.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::store::safe_writer;

/// What a registry entry records about the data a model was trained on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainingDataSummary {
    pub matches: usize,
    pub first_date: String,
    pub last_date: String,
    /// SHA-256 over the training rows (date, teams, goals), in order.
    pub fingerprint: String,
    /// SHA-256 over the training rows' values of the other columns a training reads (odds,
    /// shots on target: `models::TRAINING_COLUMNS`), in order. Absent from the records of
    /// earlier releases, whose models are then judged by `fingerprint` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs_fingerprint: Option<String>,
    /// SHA-256 of the names of the columns `inputs_fingerprint` covers: a release that reads
    /// other columns cannot recompute it, and judges such a model by `fingerprint` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs_columns: Option<String>,
    /// For a type whose features follow clubs across leagues: the matches its clubs played in
    /// other leagues before their last training match (`store::versions::Reads`). Absent for
    /// other types and from the records of earlier releases, which are not judged on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_leagues: Option<OtherLeaguesSummary>,
}

/// The matches of other leagues a training read, as its record summarises them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OtherLeaguesSummary {
    pub matches: usize,
    /// SHA-256 of the names of the columns read of them besides date, teams and goals, one a
    /// line: a release that reads others cannot recompute `fingerprint`, and does not judge on it.
    pub columns: String,
    /// SHA-256 over those matches (league, date, teams, goals and the columns' values).
    pub fingerprint: String,
}

/// One registry entry as this tool writes it (old pipeline keys first).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegistryEntry {
    pub key: String,
    pub model_type: String,
    pub league: String,
    pub version: String,
    pub trained_date: String,
    pub status: String,
    pub path: String,
    pub training_data: TrainingDataSummary,
    pub tool_version: String,
    /// `sha256:<hex>` of every file the version published, by file name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// The key of the entry this version replaced as the current model of its league and type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
}

impl RegistryEntry {
    /// The seed's key, `<model_type>_<league>_<version>`: the key of a league and type's first
    /// publication (see `store::versions::version_key` for later ones).
    pub fn key_for(model_type: &str, league: &str, version: &str) -> String {
        format!("{model_type}_{league}_{version}")
    }
}

/// What the lifecycle reads of any registry entry, whoever wrote it: every field but the key is
/// optional (entries of the old pipeline or of other tools lack some).
#[derive(Debug, Clone, Default)]
pub struct RecordedEntry {
    pub key: String,
    pub model_type: Option<String>,
    pub league: Option<String>,
    pub path: Option<String>,
    pub training_data: Option<TrainingDataSummary>,
    pub files: BTreeMap<String, String>,
    pub supersedes: Option<String>,
}

impl RecordedEntry {
    fn from_value(key: String, v: &serde_json::Value) -> RecordedEntry {
        let text = |name: &str| v.get(name).and_then(|x| x.as_str()).map(String::from);
        RecordedEntry {
            model_type: text("model_type"),
            league: text("league"),
            path: text("path"),
            training_data: v
                .get("training_data")
                .and_then(|t| serde_json::from_value(t.clone()).ok()),
            files: v
                .get("files")
                .and_then(|t| serde_json::from_value(t.clone()).ok())
                .unwrap_or_default(),
            supersedes: text("supersedes"),
            key,
        }
    }
}

/// Why a registry cannot be used.
#[derive(Debug)]
pub struct InvalidRegistry {
    pub path: PathBuf,
    pub problem: String,
}

impl std::fmt::Display for InvalidRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "registry {} is invalid: {} (it was left unchanged; fix or move it, then run again)",
            self.path.display(),
            self.problem
        )
    }
}

impl std::error::Error for InvalidRegistry {}

/// A loaded registry: existing entries verbatim plus the keys they hold.
#[derive(Debug)]
pub struct Registry {
    path: PathBuf,
    exists: bool,
    /// The file's text as read (None when it does not exist): appending inserts new entries
    /// after the last one and leaves every other byte as it was.
    text: Option<String>,
    /// Where new entries go in `text`: after the last entry, or inside an empty `[]`.
    insert_at: InsertAt,
    /// Entry texts: those read from the file verbatim, new ones pretty-printed and indented.
    entries: Vec<String>,
    /// What the lifecycle reads of each entry, in file order.
    records: Vec<RecordedEntry>,
    keys: HashSet<String>,
    pending: Vec<RegistryEntry>,
}

impl Registry {
    /// Reads and validates the registry; a missing file is an empty registry.
    pub fn load(path: &Path) -> std::result::Result<Registry, InvalidRegistry> {
        let invalid = |problem: String| InvalidRegistry {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Registry {
                    path: path.to_path_buf(),
                    exists: false,
                    text: None,
                    insert_at: InsertAt::EmptyArray(0, 0),
                    entries: Vec::new(),
                    records: Vec::new(),
                    keys: HashSet::new(),
                    pending: Vec::new(),
                })
            }
            Err(e) => return Err(invalid(format!("cannot be read: {e}"))),
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(invalid("the file is empty".into()));
        }
        if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
            return Err(invalid(
                "it starts with a UTF-8 byte-order mark (bytes EF BB BF), which JSON does not \
                 allow; save it as UTF-8 without BOM"
                    .into(),
            ));
        }
        let text = String::from_utf8(bytes)
            .map_err(|e| invalid(format!("not a JSON object (not UTF-8 text: {e})")))?;
        let bytes = text.as_bytes();
        let mut top: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("not a JSON object ({e})")))?;
        let models = top
            .shift_remove("models")
            .ok_or_else(|| invalid("no \"models\" list".into()))?;
        if !models.is_array() {
            return Err(invalid("\"models\" is not a list".into()));
        }
        // Second pass to keep every entry's exact text and to know where the list ends.
        #[derive(Deserialize)]
        struct RawTop<'a> {
            #[serde(borrow)]
            models: Vec<&'a RawValue>,
        }
        #[derive(Deserialize)]
        struct RawList<'a> {
            #[serde(borrow)]
            models: &'a RawValue,
        }
        let raw: RawTop = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("\"models\" cannot be read ({e})")))?;
        let list: RawList = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("\"models\" cannot be read ({e})")))?;
        let offset = |raw: &RawValue| raw.get().as_ptr() as usize - text.as_ptr() as usize;
        let insert_at = match raw.models.last() {
            Some(last) => InsertAt::AfterEntry(offset(last) + last.get().len()),
            None => InsertAt::EmptyArray(
                offset(list.models),
                offset(list.models) + list.models.get().len(),
            ),
        };
        let mut keys = HashSet::new();
        let mut entries = Vec::with_capacity(raw.models.len());
        let mut records = Vec::with_capacity(raw.models.len());
        let parsed = models.as_array().map(Vec::as_slice).unwrap_or_default();
        for (i, (entry, value)) in raw.models.iter().zip(parsed).enumerate() {
            if !value.is_object() {
                return Err(invalid(format!("entry {} is not an object", i + 1)));
            }
            let key = match value.get("key") {
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => return Err(invalid(format!("entry {} has no string \"key\"", i + 1))),
            };
            if !keys.insert(key.clone()) {
                return Err(invalid(format!("key {key:?} appears more than once")));
            }
            entries.push(entry.get().to_string());
            records.push(RecordedEntry::from_value(key, value));
        }
        let _ = top;
        Ok(Registry {
            path: path.to_path_buf(),
            exists: true,
            insert_at,
            text: Some(text.clone()),
            entries,
            records,
            keys,
            pending: Vec::new(),
        })
    }

    /// Every entry as the lifecycle reads it, in file order (oldest first).
    pub fn records(&self) -> &[RecordedEntry] {
        &self.records
    }

    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// Queues an entry; returns false (and queues nothing) when the key is already present.
    pub fn push(&mut self, entry: RegistryEntry) -> bool {
        if !self.keys.insert(entry.key.clone()) {
            return false;
        }
        self.pending.push(entry);
        true
    }

    /// Writes queued entries (no-op when nothing is queued and the file exists). Takes an
    /// exclusive lock on `<registry>.lock` beside it, re-reads the file under the lock and
    /// appends only keys still absent, so nothing another writer added is lost.
    pub fn save(&mut self) -> Result<Vec<String>> {
        if self.pending.is_empty() && self.exists {
            return Ok(Vec::new());
        }
        let _lock = lock_registry(&self.path)?;
        let mut current = Registry::load(&self.path)?;
        let mut appended = Vec::new();
        for entry in self.pending.drain(..) {
            if current.keys.insert(entry.key.clone()) {
                appended.push(entry.key.clone());
                if let Ok(v) = serde_json::to_value(&entry) {
                    current
                        .records
                        .push(RecordedEntry::from_value(entry.key.clone(), &v));
                }
                let text = serde_json::to_string_pretty(&entry)?;
                current.entries.push(text.replace('\n', "\n    "));
            }
        }
        if appended.is_empty() && current.exists {
            return Ok(appended);
        }
        let new_entries = &current.entries[current.entries.len() - appended.len()..];
        let bytes = current.render(new_entries);
        safe_writer::replace_file_atomically(&self.path, &bytes)?;
        *self = Registry::load(&self.path)?;
        Ok(appended)
    }

    /// The file with `new_entries` appended to the list: every byte of the file as read is kept
    /// (other top-level members, spacing, each entry's text); a new file is rendered whole.
    fn render(&self, new_entries: &[String]) -> Vec<u8> {
        let joined = new_entries.join(",\n    ");
        let out = match (&self.text, self.insert_at) {
            (Some(text), InsertAt::AfterEntry(at)) => {
                format!("{},\n    {joined}{}", &text[..at], &text[at..])
            }
            (Some(text), InsertAt::EmptyArray(start, end)) => {
                format!("{}[\n    {joined}\n  ]{}", &text[..start], &text[end..])
            }
            (None, _) if joined.is_empty() => "{\n  \"models\": []\n}\n".to_string(),
            (None, _) => format!("{{\n  \"models\": [\n    {joined}\n  ]\n}}\n"),
        };
        out.into_bytes()
    }
}

/// Where appended entries go in the registry's text.
#[derive(Debug, Clone, Copy)]
enum InsertAt {
    /// Byte offset just after the last entry.
    AfterEntry(usize),
    /// Byte range of an empty list (`[]`, maybe with spaces inside).
    EmptyArray(usize, usize),
}

fn lock_registry(path: &Path) -> Result<File> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "registry.json".into());
    let lock_path = path.with_file_name(format!(".{name}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening registry lock {}", lock_path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    Ok(file)
}
