//! The commands: the training run (`plan`, then `train` executes it and `report` tells),
//! `predict` and `status`.

pub mod plan;
pub mod predict;
pub mod report;
pub mod status;
pub mod train;
