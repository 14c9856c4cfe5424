//! ipc: (to be written)
