//! client: (to be written)
