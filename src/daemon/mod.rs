//! daemon: (to be written)
