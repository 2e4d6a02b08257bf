//! The operation-record state store: one trait, an embedded SQLite implementation and an Azure Blob Storage implementation.
