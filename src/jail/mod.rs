//! jail: (to be written)
