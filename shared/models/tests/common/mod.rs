//! Helpers shared by the conformance and seed tests.

#![allow(dead_code)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `v` into `T` and serialises it back.
pub type Check = fn(&Value) -> Result<Value, String>;

/// Parses `v` into `T` and serialises it back.
pub fn check<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Value, String> {
    let parsed: T =
        serde_json::from_value(v.clone()).map_err(|e| format!("parse as {}: {e}", std::any::type_name::<T>()))?;
    serde_json::to_value(&parsed).map_err(|e| format!("serialise {}: {e}", std::any::type_name::<T>()))
}

/// Removes every `null`-valued object member, recursively.
pub fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// JSON pointers at which `a` and `b` differ.
pub fn diff(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at(a, b, "", &mut out);
    out
}

fn diff_at(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}/{}", escape(k));
                match (x.get(k), y.get(k)) {
                    (Some(xv), Some(yv)) => diff_at(xv, yv, &p, out),
                    _ => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (xv, yv)) in x.iter().zip(y).enumerate() {
                diff_at(xv, yv, &format!("{path}/{i}"), out);
            }
        }
        _ => {
            if !same_scalar(a, b) {
                out.push(path.to_owned());
            }
        }
    }
}

/// JSON pointers where `sub` is not contained in `sup` (every member/element of `sub` must
/// exist in `sup` with an equal value).
pub fn not_subset(sub: &Value, sup: &Value) -> Vec<String> {
    let mut out = Vec::new();
    subset_at(sub, sup, "", &mut out);
    out
}

fn subset_at(sub: &Value, sup: &Value, path: &str, out: &mut Vec<String>) {
    match (sub, sup) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, xv) in x {
                let p = format!("{path}/{}", escape(k));
                match y.get(k) {
                    Some(yv) => subset_at(xv, yv, &p, out),
                    None => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (xv, yv)) in x.iter().zip(y).enumerate() {
                subset_at(xv, yv, &format!("{path}/{i}"), out);
            }
        }
        _ => {
            if !same_scalar(sub, sup) {
                out.push(path.to_owned());
            }
        }
    }
}

/// JSON pointers of every object member named `key`.
pub fn pointers_of_key(v: &Value, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    find_key(v, key, "", &mut out);
    out
}

fn find_key(v: &Value, key: &str, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = format!("{path}/{}", escape(k));
                if k == key {
                    out.push(p.clone());
                }
                find_key(child, key, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                find_key(child, key, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn helpers_detect_differences() {
    use serde_json::json;
    let a = json!({"a": 1, "b": [1, {"c": "x"}], "d/e": null});
    assert_eq!(strip_nulls(&a), json!({"a": 1, "b": [1, {"c": "x"}]}));
    assert_eq!(diff(&a, &a), Vec::<String>::new());
    let b = json!({"a": 1.0, "b": [1, {"c": "y"}], "z": true});
    assert_eq!(diff(&a, &b), vec!["/b/1/c", "/d~1e", "/z"]);
    assert_eq!(not_subset(&json!({"a": 1}), &a), Vec::<String>::new());
    assert_eq!(not_subset(&json!({"q": 1, "b": [1]}), &a), vec!["/b", "/q"]);
    assert_eq!(pointers_of_key(&a, "c"), vec!["/b/1/c"]);
}
