//! persist: (to be written)
