//! The commands: the training run (`plan`, then `train` executes it and `report` tells),
//! `predict`, `status`, `backtest` (walk-forward evaluation) and `generate` (completions and
//! the man page).

pub mod backtest;
pub mod generate;
pub mod plan;
pub mod predict;
pub mod report;
pub mod status;
pub mod train;
