//! Several NetBox object lists in one read, through NetBox's GraphQL API (`/graphql/`).
//!
//! A reconciler whose state spans object types (an L2 circuit's interfaces and its state
//! journal; an EVPN instance's L2VPNs and VLANs; a device's OSPF interfaces and its adjacency
//! journal) reads them with one request instead of one per type. Each list has its own filters
//! (the filter input NetBox's GraphQL schema declares for that field) and its own selection of
//! fields, named as in the REST API, so the objects can be read with the same JSON pointers as
//! REST objects: ids are turned into numbers (GraphQL sends them as strings), nested objects
//! carry what the selection asks for.
//!
//! Paging: NetBox caps every GraphQL list at its `MAX_PAGE_SIZE` (1000 by default, the page
//! size asked for here). A list that fills a page is read on, on its own, from the next
//! offset; lists whose field takes no `pagination` argument (netbox-routing's) cannot be read
//! on, so a full page of one is an error rather than a silently short list. NetBox
//! deployments that lower `MAX_PAGE_SIZE` below 1000 would see short lists as complete.
//!
//! NetBox's GraphQL API is on by default (`GRAPHQL_ENABLED`); where it is turned off, these
//! reads fail with a message that says so.

use serde_json::{Map, Value};

use crate::netbox::{NetBox, NetBoxError};

/// Objects per page (NetBox's default `MAX_PAGE_SIZE`).
pub const PAGE: usize = 1000;

/// One list of a query: `field(filters: …) { selection }`.
#[derive(Debug, Clone)]
pub struct List<'a> {
    /// The query field, e.g. `interface_list`.
    pub field: &'a str,
    /// The filter input as JSON (objects, lists, strings, numbers, booleans); `null` for none.
    pub filters: Value,
    /// The fields to return, in GraphQL selection syntax (without the outer braces).
    pub selection: &'a str,
    /// Whether the field takes a `pagination` argument (NetBox's lists do, netbox-routing's do
    /// not).
    pub paged: bool,
    /// Read only this many (the first in NetBox's order), never more pages.
    pub limit: Option<usize>,
}

impl<'a> List<'a> {
    /// A list of NetBox's own (it takes `pagination`).
    pub fn new(field: &'a str, filters: Value, selection: &'a str) -> Self {
        Self {
            field,
            filters,
            selection,
            paged: true,
            limit: None,
        }
    }

    /// Only the first `n` objects (of a paged list), e.g. the newest journal entry.
    #[must_use]
    pub fn first(mut self, n: usize) -> Self {
        self.limit = Some(n.min(PAGE));
        self
    }

    /// A list of a plugin whose field takes no `pagination` argument.
    pub fn unpaged(field: &'a str, filters: Value, selection: &'a str) -> Self {
        Self {
            paged: false,
            ..Self::new(field, filters, selection)
        }
    }

    /// `alias: field(filters: …, pagination: …) { selection }`.
    fn render(&self, alias: &str, offset: usize) -> String {
        let mut args = Vec::new();
        if !self.filters.is_null() {
            args.push(format!("filters: {}", literal(&self.filters)));
        }
        if self.paged {
            let limit = self.limit.unwrap_or(PAGE);
            args.push(format!("pagination: {{offset: {offset}, limit: {limit}}}"));
        }
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        format!("{alias}: {}{args} {{ {} }}", self.field, self.selection)
    }
}

/// Reads `lists` with one request (more only for a list longer than a page) and returns them
/// in the same order.
pub async fn read(netbox: &NetBox, lists: &[List<'_>]) -> Result<Vec<Vec<Value>>, NetBoxError> {
    if lists.is_empty() {
        return Ok(Vec::new());
    }
    let query: Vec<String> = lists
        .iter()
        .enumerate()
        .map(|(i, l)| l.render(&format!("l{i}"), 0))
        .collect();
    let data = netbox
        .graphql(&format!("query {{ {} }}", query.join(" ")), Value::Null)
        .await
        .map_err(disabled)?;
    let mut out = Vec::with_capacity(lists.len());
    for (i, list) in lists.iter().enumerate() {
        let mut objects = objects_of(&data, &format!("l{i}"), list.field)?;
        let mut last = objects.len();
        while last >= PAGE && list.limit.is_none() {
            if !list.paged {
                return Err(NetBoxError::Decode {
                    method: "POST".into(),
                    path: "/graphql/".into(),
                    message: format!(
                        "{} returned a full page of {last} objects and cannot be paged",
                        list.field
                    ),
                });
            }
            let more = netbox
                .graphql(
                    &format!("query {{ {} }}", list.render("l", objects.len())),
                    Value::Null,
                )
                .await?;
            let page = objects_of(&more, "l", list.field)?;
            last = page.len();
            objects.extend(page);
        }
        out.push(objects);
    }
    Ok(out)
}

/// NetBox answers 404 when its GraphQL API is turned off: say what to do.
fn disabled(e: NetBoxError) -> NetBoxError {
    match e {
        NetBoxError::Status {
            method,
            path,
            status: 404,
            message,
        } => NetBoxError::Status {
            method,
            path,
            status: 404,
            message: format!(
                "{message} (nbfacts reads L2VPN, EVPN and OSPF state through NetBox's GraphQL \
                 API: set GRAPHQL_ENABLED = True in NetBox's configuration)"
            ),
        },
        other => other,
    }
}

fn objects_of(data: &Value, alias: &str, field: &str) -> Result<Vec<Value>, NetBoxError> {
    match data.get(alias) {
        Some(Value::Array(items)) => Ok(items.iter().map(numeric_ids).collect()),
        _ => Err(NetBoxError::Decode {
            method: "POST".into(),
            path: "/graphql/".into(),
            message: format!("no list for {field} in the answer"),
        }),
    }
}

/// A JSON value as a GraphQL input literal: object keys bare, everything else as in JSON
/// (JSON's string escapes are GraphQL's).
pub fn literal(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}: {}", literal(v)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// `id` fields (GraphQL's `ID` is a string) as numbers, at every depth, so objects read the
/// same as REST objects.
fn numeric_ids(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let v = match (k.as_str(), v) {
                    ("id", Value::String(s)) => {
                        s.parse::<u64>().map_or_else(|_| v.clone(), Value::from)
                    }
                    _ => numeric_ids(v),
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(numeric_ids).collect()),
        other => other.clone(),
    }
}

/// A content type filter (`app_label.model`), as the `assigned_object_type` of journal
/// entries and terminations takes it.
pub fn content_type(object_type: &str) -> Value {
    let (app, model) = object_type.split_once('.').unwrap_or(("", object_type));
    serde_json::json!({ "app_label": { "exact": app }, "model": { "exact": model } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_become_graphql_literals() {
        let f = json!({"name": {"in_list": ["a\"b", "c"]}, "device_id": 7, "x": true});
        assert_eq!(
            literal(&f),
            r#"{device_id: 7, name: {in_list: ["a\"b", "c"]}, x: true}"#
        );
        let l = List::new("l2vpn_list", f, "id name");
        assert_eq!(
            l.render("l0", 0),
            r#"l0: l2vpn_list(filters: {device_id: 7, name: {in_list: ["a\"b", "c"]}, x: true}, pagination: {offset: 0, limit: 1000}) { id name }"#
        );
        let j = List::new("journal_entry_list", Value::Null, "comments").first(1);
        assert_eq!(
            j.render("l2", 0),
            "l2: journal_entry_list(pagination: {offset: 0, limit: 1}) { comments }"
        );
        let u = List::unpaged("ospf_interface_list", Value::Null, "id");
        assert_eq!(u.render("l1", 0), "l1: ospf_interface_list { id }");
    }

    #[test]
    fn ids_become_numbers_at_every_depth() {
        let o = json!({"id": "12", "name": "x", "l2vpn": {"id": "3", "name": "v"},
                       "tags": [{"id": "4", "slug": "s"}], "assigned_object_id": 9, "other": "5"});
        assert_eq!(
            numeric_ids(&o),
            json!({"id": 12, "name": "x", "l2vpn": {"id": 3, "name": "v"},
                   "tags": [{"id": 4, "slug": "s"}], "assigned_object_id": 9, "other": "5"})
        );
        assert_eq!(
            content_type("vpn.l2vpn"),
            json!({"app_label": {"exact": "vpn"}, "model": {"exact": "l2vpn"}})
        );
    }
}
