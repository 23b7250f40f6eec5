//! Match data: reading the data dir (`load`; ESPN files through `espn`), parsing its dates
//! (`date`), naming its leagues (`leagues`) and the typed, validated matches every model consumes
//! (`matches`).

pub mod date;
pub mod espn;
pub mod leagues;
mod load;
pub mod matches;
mod settle;

pub use load::*;
