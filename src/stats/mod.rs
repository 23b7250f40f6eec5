//! The numeric core: the Dixon-Coles goals model, penalised logistic regression and calibration,
//! the scoreline grid every market derives from, and the scoring rules (RPS, log loss, ...).

pub mod dixon_coles;
pub mod linalg;
pub mod link;
pub mod logistic;
pub mod metrics;
pub mod scoreline;
