//! ward-clients
