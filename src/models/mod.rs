//! The model types this tool knows, in report order. A new model type is one module plus one
//! line in `model_types()`.

pub mod poisson_v2;

use crate::model_type::{ModelSpec, ModelType, NotAvailable};

/// Specs of the types whose trainers are not built yet (reported as not available).
static ONE_X_TWO_V2_SPEC: ModelSpec = ModelSpec {
    name: "1x2_v2",
    version: "v2",
    required_files: &[
        "home_model.pkl",
        "draw_model.pkl",
        "away_model.pkl",
        "calibrator.pkl",
        "feature_list.json",
        "metrics.json",
    ],
    min_matches: 300,
};
static DRAW_SPECIALIST_SPEC: ModelSpec = ModelSpec {
    name: "draw_specialist",
    version: "v1",
    required_files: &["draw_model.pkl", "metrics.json"],
    min_matches: 300,
};

/// Every model type, in the order runs process and report them.
pub fn model_types() -> Vec<&'static dyn ModelType> {
    static ONE_X_TWO: NotAvailable = NotAvailable(&ONE_X_TWO_V2_SPEC);
    static DRAW: NotAvailable = NotAvailable(&DRAW_SPECIALIST_SPEC);
    vec![&ONE_X_TWO, &poisson_v2::PoissonV2, &DRAW]
}

/// The model type called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn ModelType> {
    model_types().into_iter().find(|t| t.spec().name == name)
}
