//! ward-audit
