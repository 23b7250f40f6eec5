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

/// Every extra column a training reads: the feature pass's (`features::COLUMNS_READ`) and the
/// odds the Poisson model reads its earlier matches' expected goals from
/// (`poisson_v2::MARKET_COLUMNS`): every type's `ModelSpec::columns_read`. What a run's load keeps.
pub const TRAINING_COLUMNS: [&str;
    crate::features::COLUMNS_READ.len() + poisson_v2::MARKET_COLUMNS.len()] =
    concat(crate::features::COLUMNS_READ, &poisson_v2::MARKET_COLUMNS);

/// `a` then `b`, as one array (at compile time).
const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - a.len()];
        i += 1;
    }
    out
}

/// The model type called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn ModelType> {
    model_types().into_iter().find(|t| t.spec().name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a run loads holds every column a type's training reads and staleness fingerprints.
    #[test]
    fn a_run_loads_every_column_a_model_type_reads() {
        for ty in model_types() {
            let spec = ty.spec();
            for c in spec
                .columns_read
                .iter()
                .chain(spec.other_leagues_read.unwrap_or(&[]))
            {
                assert!(TRAINING_COLUMNS.contains(c), "{} reads {c}", spec.name);
            }
        }
    }

    /// A type trained on the shared feature pass reads other leagues through it (the pass
    /// follows clubs across leagues), and says so for its staleness; the others do not.
    #[test]
    fn the_feature_types_and_only_they_read_other_leagues() {
        for ty in model_types() {
            let spec = ty.spec();
            let on_features = spec.columns_read == crate::features::COLUMNS_READ;
            let expected = on_features.then_some(crate::features::MATCH_COLUMNS_READ);
            assert_eq!(spec.other_leagues_read, expected, "{}", spec.name);
        }
    }
}
