//! fail2ban: (to be written)
