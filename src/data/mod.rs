//! Match data: reading the data dir (`load`; ESPN files through `espn`), parsing its dates
//! (`date`), naming its leagues (`leagues`), suggesting the names a typo meant (`names`) and the
//! typed, validated matches every model consumes (`matches`).

pub mod date;
pub mod espn;
pub mod leagues;
mod load;
pub mod matches;
pub mod names;
mod settle;

pub use load::*;
