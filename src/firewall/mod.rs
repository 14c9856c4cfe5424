//! firewall: (to be written)
