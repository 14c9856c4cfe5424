//! watch: (to be written)
