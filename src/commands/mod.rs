//! The commands: the training run (`train`, reported by `report`), `predict` and `status`.

pub mod backtest;
pub mod predict;
pub mod report;
pub mod status;
pub mod train;
