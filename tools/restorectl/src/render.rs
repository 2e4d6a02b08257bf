//! Human-readable views of operation records: the `status` summary and the `list` table. Times are UTC, to the
//! second; vaults are shown by their name (the last segment of the ARM id), which is how people refer to them.

use restore_store::Record;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The vault's name: the last segment of its ARM id (`-` when the record has none, e.g. an unparsable message).
pub fn vault_name(vault_id: &str) -> &str {
    match vault_id.rsplit('/').next() {
        Some(name) if !name.is_empty() => name,
        _ => "-",
    }
}

/// A time as RFC 3339 UTC without fractions.
pub fn time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// The multi-line summary `status` prints.
pub fn summary(record: &Record) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<15} {value}\n"));
    line("request id", &record.request_id);
    let finished = if record.state.is_terminal() { " (final)" } else { "" };
    line("state", &format!("{}{finished}", record.state));
    line("kind", &record.kind);
    line("vault", &format!("{} ({})", vault_name(&record.vault_id), dash(&record.vault_id)));
    line("item", dash(&record.item_id));
    if let Some(reference) = &record.source_reference {
        line("source", reference);
    }
    line("received", &time(record.received_at));
    let times = [
        ("write-ahead", record.write_ahead_at),
        ("triggered", record.triggered_at),
        ("job started", record.job_started_at),
        ("job ended", record.job_ended_at),
    ];
    for (label, at) in times {
        if let Some(at) = at {
            line(label, &time(at));
        }
    }
    line("updated", &time(record.updated_at));
    if let Some(next) = record.next_poll_at.filter(|_| record.needs_tracking()) {
        line("next check", &time(next));
    }
    if let Some(point) = &record.recovery_point_id {
        line("recovery point", point);
    }
    line("job id", record.job_id.as_deref().unwrap_or("-"));
    if let Some(reason) = &record.reason {
        line("reason", &format!("{}: {}", reason.code, reason.message));
    }
    if record.state.is_terminal() {
        line("result", if record.result_published { "published" } else { "not yet published (the tracker retries)" });
    }
    out
}

fn dash(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}

/// The table `list` prints: one line per record, request id last because it is the longest.
pub fn table(records: &[Record]) -> String {
    let header = ["RECEIVED (UTC)", "STATE", "KIND", "VAULT", "UPDATED (UTC)", "REQUEST ID"];
    let rows: Vec<[String; 6]> = records
        .iter()
        .map(|r| {
            [
                time(r.received_at),
                r.state.to_string(),
                r.kind.clone(),
                vault_name(&r.vault_id).to_string(),
                time(r.updated_at),
                r.request_id.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push = |cells: [&str; 6]| {
        let line: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    };
    push(header);
    for row in &rows {
        push([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
    }
    out
}
