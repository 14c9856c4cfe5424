//! import: (to be written)
