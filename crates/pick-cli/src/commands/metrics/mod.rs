//! Figures about annotations and predictions: calibration and agreement.

pub mod agreement;
pub mod eval_calibration;
pub mod train_calibration;
