//! normalization (in progress)
