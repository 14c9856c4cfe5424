//! sandbox: (to be written)
