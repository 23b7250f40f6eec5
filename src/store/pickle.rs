//! Model artifacts as real Python pickles of plain data (dicts, lists, floats, strings), so the
//! Python service and data scientists can `pickle.load` them with no imports, and this tool can
//! read them back.

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Pickles `value` (structs become dicts with string keys).
pub fn to_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_pickle::to_vec(value, serde_pickle::SerOptions::new()).context("pickling a model")
}

/// Reads a pickle written by `to_bytes`.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_pickle::from_slice(bytes, serde_pickle::DeOptions::new()).context("reading a pickle")
}

/// Reads and unpickles a file, naming it in the error.
pub fn read_file<T: DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    from_bytes(&bytes).with_context(|| format!("{} is not a model this tool wrote", path.display()))
}
