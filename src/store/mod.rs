//! Everything that touches the models dir and the registry: where models live and what state
//! they are in (`detect`), the SAFE MODE writer, the append-only registry, the run lock and the
//! pickle format of model files. Nothing else in the crate writes there.

pub mod detect;
pub mod manifest;
pub mod pickle;
pub mod registry;
pub mod run_lock;
pub mod safe_writer;
pub mod versions;
