//! Message contract v1 (restore request and result, JSON Schema), Azure Monitor alert input and alert rules, and the restore policy.
