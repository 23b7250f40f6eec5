//! The model types this tool knows, in report order. A new model type is one module plus one
//! line in `model_types()`.

pub mod common;
pub mod draw_specialist;
pub mod logistic_protocol;
pub mod model_type;
pub mod one_x_two_v2;
pub mod poisson_v2;

use crate::models::model_type::ModelType;

/// Every model type, in the order runs process and report them.
pub fn model_types() -> Vec<&'static dyn ModelType> {
    vec![
        &one_x_two_v2::OneXTwoV2,
        &poisson_v2::PoissonV2,
        &draw_specialist::DrawSpecialist,
    ]
}

/// The model type called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn ModelType> {
    model_types().into_iter().find(|t| t.spec().name == name)
}
