//! Printing facts: readable tables, nbfacts JSON, and NAPALM-shaped JSON.

use std::io::Write;

use nbfacts_host::{CollectionError, Facts, Registry};
use serde_json::{Map, Value, json};

type Results = [(String, Result<Facts, CollectionError>)];

/// `nbfacts plugins`.
pub fn print_plugins(registry: &Registry, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let list: Vec<Value> = registry
            .plugins()
            .iter()
            .map(|p| {
                let info = p.info();
                json!({
                    "name": info.name,
                    "version": info.version,
                    "wit_version": info.wit_version,
                    "sdk_version": info.sdk_version,
                    "drivers": info.drivers.iter().map(|d| json!({"name": d.name, "aliases": d.aliases})).collect::<Vec<_>>(),
                    "collectors": info.collectors,
                    "capabilities": info.capabilities,
                    "source": p.source_name(),
                    "sha256": p.digest(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    let mut rows = vec![vec![
        "PLUGIN".to_string(),
        "VERSION".into(),
        "WIT".into(),
        "SDK".into(),
        "DRIVERS".into(),
        "COLLECTORS".into(),
        "SOURCE".into(),
    ]];
    for p in registry.plugins() {
        let info = p.info();
        let drivers = info
            .drivers
            .iter()
            .map(|d| {
                if d.aliases.is_empty() {
                    d.name.clone()
                } else {
                    format!("{} ({})", d.name, d.aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        rows.push(vec![
            info.name.clone(),
            info.version.clone(),
            info.wit_version.clone(),
            info.sdk_version.clone(),
            drivers,
            info.collectors.join(", "),
            p.source_name().to_string(),
        ]);
    }
    write_table(&mut out, &rows)?;
    Ok(())
}

/// `--format json`: `{collector: facts | {"error": ...}}`.
pub fn print_json(results: &Results) -> anyhow::Result<()> {
    let mut obj = Map::new();
    for (collector, result) in results {
        let value = match result {
            Ok(facts) => facts_value(facts)?,
            Err(e) => json!({ "error": e.to_string() }),
        };
        obj.insert(collector.clone(), value);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&Value::Object(obj))?
    )?;
    Ok(())
}

/// `--format napalm`: one object keyed by NAPALM getter name.
pub fn print_napalm(results: &Results) -> anyhow::Result<()> {
    let mut obj = Map::new();
    for (collector, result) in results {
        let getters = nbfacts_host::facts::napalm::getters(collector);
        if getters.is_empty() {
            obj.insert(
                collector.clone(),
                json!({ "error": format!("{collector} has no NAPALM getter") }),
            );
        }
        for getter in getters {
            let value = match result {
                Ok(facts) => match nbfacts_host::facts::napalm::to_napalm(getter, facts) {
                    Ok(v) => v,
                    Err(e) => json!({ "error": e }),
                },
                Err(e) => json!({ "error": e.to_string() }),
            };
            obj.insert(getter.to_string(), value);
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&Value::Object(obj))?
    )?;
    Ok(())
}

/// The facts' payload as JSON, without the variant wrapper.
fn facts_value(facts: &Facts) -> anyhow::Result<Value> {
    let value = serde_json::to_value(facts)?;
    Ok(match value {
        Value::Object(mut m) if m.len() == 1 => m
            .values_mut()
            .next()
            .map(Value::take)
            .unwrap_or(Value::Null),
        other => other,
    })
}

/// Default format: a table per list of records found in the facts.
pub fn print_tables(results: &Results) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (collector, result) in results {
        match result {
            Err(e) => writeln!(out, "== {collector}: FAILED\n{e}\n")?,
            Ok(facts) => {
                let value = facts_value(facts)?;
                writeln!(out, "== {collector}")?;
                print_value_tables(&mut out, "", &value)?;
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

fn print_value_tables(out: &mut impl Write, title: &str, value: &Value) -> anyhow::Result<()> {
    match value {
        Value::Array(items) => {
            if !title.is_empty() {
                writeln!(out, "-- {title} ({})", items.len())?;
            }
            if items.is_empty() {
                writeln!(out, "(none)")?;
                return Ok(());
            }
            let mut columns: Vec<String> = Vec::new();
            for item in items {
                if let Value::Object(m) = item {
                    for (k, v) in m {
                        if is_scalar_or_flat(v) && !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
            }
            // Drop columns that are empty everywhere (such as an unused `extra`).
            columns.retain(|c| items.iter().any(|i| !cell(i.get(c)).is_empty()));
            let mut rows = vec![columns.iter().map(|c| c.to_uppercase()).collect::<Vec<_>>()];
            for item in items {
                rows.push(columns.iter().map(|c| cell(item.get(c))).collect());
            }
            write_table(out, &rows)?;
            for item in items {
                if let Value::Object(m) = item {
                    for (k, v) in m {
                        if v.as_array().is_some_and(|a| a.iter().any(Value::is_object)) {
                            let name = item
                                .get("name")
                                .and_then(Value::as_str)
                                .map(|n| format!("{k} of {n}"))
                                .unwrap_or_else(|| k.clone());
                            print_value_tables(out, &name, v)?;
                        }
                    }
                }
            }
        }
        Value::Object(m) => {
            let scalars: Vec<(&String, &Value)> =
                m.iter().filter(|(_, v)| is_scalar_or_flat(v)).collect();
            if !scalars.is_empty() {
                if !title.is_empty() {
                    writeln!(out, "-- {title}")?;
                }
                let rows: Vec<Vec<String>> = scalars
                    .iter()
                    .map(|(k, v)| vec![format!("{k}:"), cell(Some(v))])
                    .filter(|r| r.get(1).is_some_and(|c| !c.is_empty()))
                    .collect();
                write_table(out, &rows)?;
            }
            for (k, v) in m {
                if !is_scalar_or_flat(v) {
                    print_value_tables(out, k, v)?;
                }
            }
        }
        other => writeln!(out, "{}", cell(Some(other)))?,
    }
    Ok(())
}

fn is_scalar_or_flat(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().all(|x| {
            !x.is_object()
                && x.as_array()
                    .is_none_or(|t| t.iter().all(|y| !y.is_object()))
        }),
        Value::Object(_) => false,
        _ => true,
    }
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                // `extra` pairs print as `key=value`.
                Value::Array(pair) if pair.len() == 2 => {
                    format!("{}={}", cell(pair.first()), cell(pair.get(1)))
                }
                other => cell(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

fn write_table(out: &mut impl Write, rows: &[Vec<String>]) -> std::io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count().min(60))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            let text: String = cell.chars().take(60).collect();
            if i + 1 == row.len() {
                line.push_str(&text);
            } else {
                line.push_str(&format!("{text:<width$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
