//! Input generation: a small deterministic PRNG and mutations of seed inputs.
//!
//! Structure-aware first: most inputs are a seed parsed as JSON, changed at a random node (values replaced by
//! edge cases, keys dropped, added from a dictionary of the seeds' own keys and strings, nodes swapped between
//! seeds), and serialised again, so they get past the JSON parser and reach the typed decoders. The rest are
//! byte-level changes (bit flips, splices, truncations, JSON tokens, duplicated keys written into the text)
//! that exercise the parser and the error paths. Everything follows from one `u64` seed, so a finding can be
//! reproduced by its seed and execution number.

use serde_json::{Map, Value};

/// SplitMix64: tiny, fast and good enough to pick mutations (not for anything secret).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random element of `items` (`None` when empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// A seed input, with its JSON form when it has one.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// The bytes parsed as JSON, for structure-aware mutations.
    pub value: Option<Value>,
}

impl Seed {
    /// A seed from bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        let value = serde_json::from_slice(&bytes).ok();
        Seed { bytes, value }
    }
}

/// JSON fragments that break parsers and decoders: edges of numbers, strings and nesting.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "-1",
    "1e999",
    "-1e999",
    "1.5",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "4294967296",
    "1e-400",
    "\"\"",
    "\\u0000",
    "\\ud800",
    "\\udc00",
    "\\u00e9",
    "\\\"",
    "\\\\",
    "\u{0}",
    "\u{1b}[31m",
    "\r\n",
    "\u{7f}",
    "\u{feff}",
    "\u{202e}",
    "%2F",
    "/..",
    "//",
    "/subscriptions/",
    "/resourceGroups/",
    "/providers/",
    ";",
    "\u{ffff}",
    "[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":",
    "0000-00-00T00:00:00Z",
    "9999-12-31T23:59:60Z",
    "T",
    "Z",
    "+",
    "e",
];

/// Strings used to replace values: edge cases plus what the decoders look for.
const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "null",
    "true",
    "\u{0}",
    "\u{1b}]0;pwned\u{7}",
    "line\nbreak",
    "é",
    "\u{202e}",
    "x/../y",
    "/subscriptions",
    "/subscriptions/",
    "/subscriptions//resourceGroups/",
    "/SUBSCRIPTIONS/x/RESOURCEGROUPS/y",
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/disks/d",
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataProtection/backupVaults/v/backupInstances/i",
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/backupFabrics/Azure/protectionContainers/c/protectedItems/VM;iaasvmcontainerv2;rg;vm",
    "iaasvmcontainerv2;rg;vm",
    "VM;;;",
    ";;",
    "2026-05-01T12:00:00Z",
    "2026-05-01T12:00:00",
    "2026-05-01T12:00:00.1234567+00:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.9999999Z",
    "2026-13-45T25:61:61Z",
    "PT1H",
    "P10675199DT2H48M5.4775807S",
    "Succeeded",
    "Failed",
    "InProgress",
    "Canceled",
    "Cancelled",
    "succeeded",
    "Completed",
    "CompletedWithWarnings",
    "azureMonitorCommonAlertSchema",
    "Fired",
    "Resolved",
    "latest",
    "id",
    "latestAtOrBefore",
    "diskToNewDisk",
    "vmRestoreDisks",
    "vmReplaceDisks",
    "vmNewVm",
    "stopDiskProtection",
    "configureDiskProtection",
    "1",
    "2",
    "eyJhIjoxfQ==",
    "!!",
    "====",
    "\"{\\\"a\\\":1}\"",
];

/// Mutates seeds into new inputs.
#[derive(Debug)]
pub struct Mutator {
    rng: Rng,
    seeds: Vec<Seed>,
    /// Keys and short strings found in the seeds.
    dictionary: Vec<String>,
}

impl Mutator {
    /// A mutator over `seeds` (at least one; an empty list gets `{}`).
    pub fn new(seed: u64, mut seeds: Vec<Seed>) -> Self {
        if seeds.is_empty() {
            seeds.push(Seed::new(b"{}".to_vec()));
        }
        let mut dictionary = Vec::new();
        for s in &seeds {
            if let Some(v) = &s.value {
                collect_strings(v, &mut dictionary);
            }
        }
        dictionary.sort();
        dictionary.dedup();
        Mutator { rng: Rng::new(seed), seeds, dictionary }
    }

    /// The seeds (every target runs each of them once before mutating).
    pub fn seeds(&self) -> &[Seed] {
        &self.seeds
    }

    /// Writes the next input into `out`.
    pub fn next_input(&mut self, out: &mut Vec<u8>) {
        out.clear();
        let index = self.rng.below(self.seeds.len());
        let structured = self.seeds[index].value.is_some() && !self.rng.one_in(4);
        if structured {
            let mut value = self.seeds[index].value.clone().unwrap_or(Value::Null);
            for _ in 0..1 + self.rng.below(4) {
                self.mutate_value(&mut value);
            }
            if serde_json::to_writer(&mut *out, &value).is_err() {
                out.extend_from_slice(&self.seeds[index].bytes);
            }
            if self.rng.one_in(4) {
                self.mutate_bytes(out);
            }
        } else {
            out.extend_from_slice(&self.seeds[index].bytes);
            for _ in 0..1 + self.rng.below(4) {
                self.mutate_bytes(out);
            }
        }
    }

    fn random_string(&mut self) -> String {
        match self.rng.below(5) {
            0 | 1 => self.rng.pick(STRINGS).map(|s| s.to_string()).unwrap_or_default(),
            2 | 3 => self.rng.pick(&self.dictionary).cloned().unwrap_or_default(),
            _ => {
                let len = self.rng.below(40);
                (0..len).map(|_| char::from_u32(self.rng.below(0x3000) as u32).unwrap_or('?')).collect()
            }
        }
    }

    fn random_value(&mut self, depth: usize) -> Value {
        match self.rng.below(if depth > 3 { 7 } else { 10 }) {
            0 => Value::Null,
            1 => Value::Bool(self.rng.one_in(2)),
            2 => Value::from(self.rng.next_u64()),
            3 => Value::from(self.rng.next_u64() as i64),
            4 => serde_json::Number::from_f64(f64::from_bits(self.rng.next_u64()))
                .map(Value::Number)
                .unwrap_or(Value::Null),
            5 => Value::from(
                self.rng
                    .pick(&[0i64, -1, 1, 255, 256, 65535, 65536, i32::MAX as i64, u32::MAX as i64])
                    .copied()
                    .unwrap_or(0),
            ),
            6 => Value::String(self.random_string()),
            7 => Value::Array((0..self.rng.below(4)).map(|_| self.random_value(depth + 1)).collect()),
            8 => {
                let mut map = Map::new();
                for _ in 0..self.rng.below(4) {
                    let key = self.random_string();
                    let value = self.random_value(depth + 1);
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            _ => self.node_of_another_seed(),
        }
    }

    fn node_of_another_seed(&mut self) -> Value {
        let index = self.rng.below(self.seeds.len());
        let Some(v) = &self.seeds[index].value else {
            return Value::Null;
        };
        let v = v.clone();
        let pointer = self.random_pointer(&v);
        v.pointer(&pointer).cloned().unwrap_or(Value::Null)
    }

    /// A JSON pointer to a random node of `root`: a walk that goes one level deeper with probability 3/4.
    fn random_pointer(&mut self, root: &Value) -> String {
        let mut pointer = String::new();
        let mut node = root;
        loop {
            let child = match node {
                Value::Array(a) if !a.is_empty() && !self.rng.one_in(4) => {
                    let i = self.rng.below(a.len());
                    pointer.push_str(&format!("/{i}"));
                    &a[i]
                }
                Value::Object(o) if !o.is_empty() && !self.rng.one_in(4) => {
                    let i = self.rng.below(o.len());
                    let Some((key, child)) = o.iter().nth(i) else {
                        return pointer;
                    };
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    child
                }
                _ => return pointer,
            };
            node = child;
        }
    }

    fn mutate_value(&mut self, root: &mut Value) {
        let op = self.rng.below(9);
        let replacement = self.random_value(0);
        let string = self.random_string();
        let coin = self.rng.next_u64();
        let pointer = self.random_pointer(root);
        let Some(node) = root.pointer_mut(&pointer) else {
            return;
        };
        match (op, node) {
            (3, Value::Object(o)) if !o.is_empty() => {
                let key = o.keys().nth((coin % o.len() as u64) as usize).cloned().unwrap_or_default();
                o.remove(&key);
            }
            (3, Value::Array(a)) if !a.is_empty() => {
                a.remove((coin % a.len() as u64) as usize);
            }
            (4, Value::Object(o)) => {
                o.insert(string, replacement);
            }
            (4, Value::Array(a)) => a.push(replacement),
            (5, Value::String(s)) => *s = mutate_text(s, &string, coin),
            (6, Value::Object(o)) if !o.is_empty() => {
                // Same key in another case: the host's dictionaries and our get_ci look keys up case-insensitively.
                let key = o.keys().nth((coin % o.len() as u64) as usize).cloned().unwrap_or_default();
                if let Some(v) = o.remove(&key) {
                    let flipped: String = key
                        .chars()
                        .map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                        .collect();
                    o.insert(flipped, v);
                }
            }
            (7, node) => {
                // Wrapped in an array, or encoded as a JSON string the way the host double-encodes values.
                let inner = node.take();
                *node =
                    if coin.is_multiple_of(2) { Value::Array(vec![inner]) } else { Value::String(inner.to_string()) };
            }
            (8, node @ Value::Number(_)) => {
                let edges = [0.0, -0.0, 1e308, -1e308, 4294967296.0, 18446744073709551616.0, 0.5, -1.0];
                let edge = edges[(coin % edges.len() as u64) as usize];
                *node = serde_json::Number::from_f64(edge).map(Value::Number).unwrap_or(Value::Null);
            }
            (_, node) => *node = replacement,
        }
    }

    fn mutate_bytes(&mut self, out: &mut Vec<u8>) {
        let len = out.len();
        match self.rng.below(9) {
            0 if len > 0 => {
                let i = self.rng.below(len);
                out[i] ^= 1 << self.rng.below(8);
            }
            1 if len > 0 => {
                let i = self.rng.below(len);
                out[i] = self.rng.next_u64() as u8;
            }
            2 => {
                let token = self.rng.pick(TOKENS).copied().unwrap_or("{");
                let at = self.rng.below(len + 1);
                out.splice(at..at, token.bytes());
            }
            3 if len > 0 => {
                let start = self.rng.below(len);
                let end = (start + 1 + self.rng.below(16)).min(len);
                out.drain(start..end);
            }
            4 if len > 0 => {
                let start = self.rng.below(len);
                let end = (start + 1 + self.rng.below(64)).min(len);
                let chunk = out[start..end].to_vec();
                let at = self.rng.below(len + 1);
                out.splice(at..at, chunk);
            }
            5 => {
                let cut = self.rng.below(len + 1);
                out.truncate(cut);
            }
            6 => {
                // Splice a piece of another seed.
                let other = self.rng.below(self.seeds.len());
                let source = &self.seeds[other].bytes;
                if !source.is_empty() {
                    let start = self.rng.below(source.len());
                    let end = (start + 1 + self.rng.below(128)).min(source.len());
                    let chunk = source[start..end].to_vec();
                    let at = self.rng.below(len + 1);
                    out.splice(at..at, chunk);
                }
            }
            7 => {
                // A key written into an object a second time (or a new key): the one-meaning-per-message check.
                let opens: Vec<usize> = out.iter().enumerate().filter(|(_, b)| **b == b'{').map(|(i, _)| i).collect();
                if let Some(&at) = self.rng.pick(&opens) {
                    let key = self.rng.pick(&self.dictionary).cloned().unwrap_or_default();
                    let value = self.random_value(2);
                    let text = format!("{}:{value},", Value::String(key));
                    out.splice(at + 1..at + 1, text.into_bytes());
                }
            }
            _ => {
                let s = self.random_string();
                let at = self.rng.below(len + 1);
                out.splice(at..at, s.into_bytes());
            }
        }
    }
}

fn mutate_text(s: &str, other: &str, coin: u64) -> String {
    let chars: Vec<char> = s.chars().collect();
    let at = if chars.is_empty() { 0 } else { (coin as usize / 7) % (chars.len() + 1) };
    match coin % 6 {
        0 => chars[..at].iter().collect(),
        1 => s.to_ascii_uppercase(),
        2 => {
            let mut t: String = chars[..at].iter().collect();
            t.push_str(other);
            t.extend(&chars[at..]);
            t
        }
        3 => s.repeat(2 + (coin as usize % 50)),
        4 => format!("{s}/{other}"),
        _ => chars.iter().rev().collect(),
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() <= 300 => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                collect_strings(x, out);
            }
        }
        _ => {}
    }
}
