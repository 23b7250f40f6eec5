//! The numeric core: the Dixon-Coles goals model, penalised logistic regression and calibration,
//! the scoreline grid every market derives from, the scoring rules (RPS, log loss, ...) and the
//! hyperparameter selection protocol every model type shares.

pub mod dixon_coles;
pub mod lanes;
pub mod linalg;
pub mod link;
pub mod logistic;
pub mod metrics;
pub mod scoreline;
pub mod selection;
