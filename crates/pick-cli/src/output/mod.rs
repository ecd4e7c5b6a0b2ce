//! What users see: terminal tables, progress bars, and a standard output that is safe when its
//! reader goes away (`pick ... | head`).

pub mod progress;
pub mod stdout;
pub mod table;

pub use progress::Terminal;
pub use stdout::Out;
