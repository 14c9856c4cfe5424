//! date: (to be written)
