//! filter: (to be written)
