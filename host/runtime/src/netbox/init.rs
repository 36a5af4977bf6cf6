//! `nbfacts netbox init`: idempotently creates the tag and custom fields nbfacts needs.

use serde_json::{Value, json};

use super::{
    CF_DISCOVERY_METHOD, CF_LAST_SEEN, CF_MAC_IPS, CF_SEEN_ON, NetBox, NetBoxError, TAG_NAME,
    TAG_SLUG,
};

/// What happened to one object during init.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitStep {
    /// It was missing and has been created.
    Created,
    /// It existed as needed.
    Found,
    /// It existed and was extended (for example to more object types).
    Updated,
}

/// The outcome of [`ensure_setup`], one line per object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InitReport {
    /// `(kind, name, step)`.
    pub steps: Vec<(String, String, InitStep)>,
}

/// Object types that carry nbfacts's custom fields.
const FACT_OBJECT_TYPES: &[&str] = &[
    "dcim.device",
    "dcim.interface",
    "dcim.macaddress",
    "dcim.cable",
    "ipam.ipaddress",
    "ipam.asn",
    "vpn.l2vpn",
    "vpn.l2vpntermination",
];

struct FieldSpec {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    description: &'static str,
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: CF_DISCOVERY_METHOD,
        label: "Discovery method",
        kind: "text",
        description: "How nbfacts discovered this object (lldp, arp, ndp, evpn, …)",
    },
    FieldSpec {
        name: CF_LAST_SEEN,
        label: "Last seen",
        kind: "datetime",
        description: "When nbfacts last saw this object on a device",
    },
    FieldSpec {
        name: CF_SEEN_ON,
        label: "Seen on",
        kind: "text",
        description: "Interfaces and VLANs a MAC address was learned on",
    },
    FieldSpec {
        name: CF_MAC_IPS,
        label: "MAC ↔ IP",
        kind: "text",
        description: "IP addresses this MAC address answered for (ARP/NDP)",
    },
];

/// Creates the tag and the custom fields if missing; extends custom fields to missing object
/// types. Safe to run any number of times.
pub async fn ensure_setup(netbox: &NetBox) -> Result<InitReport, NetBoxError> {
    let mut report = InitReport::default();
    let tags = netbox
        .list("/api/extras/tags/", &[("slug".into(), TAG_SLUG.into())])
        .await?;
    if tags.is_empty() {
        netbox
            .create(
                "/api/extras/tags/",
                json!({
                    "name": TAG_NAME,
                    "slug": TAG_SLUG,
                    "color": "9e9e9e",
                    "description": "Created by nbfacts from device facts",
                }),
            )
            .await?;
        report
            .steps
            .push(("tag".into(), TAG_NAME.into(), InitStep::Created));
    } else {
        report
            .steps
            .push(("tag".into(), TAG_NAME.into(), InitStep::Found));
    }

    for field in FIELDS {
        let found = netbox
            .list(
                "/api/extras/custom-fields/",
                &[("name".into(), field.name.into())],
            )
            .await?;
        let step = match found.first() {
            None => {
                netbox
                    .create(
                        "/api/extras/custom-fields/",
                        json!({
                            "name": field.name,
                            "label": field.label,
                            "type": field.kind,
                            "description": field.description,
                            "object_types": FACT_OBJECT_TYPES,
                            "group_name": "nbfacts",
                            "ui_editable": "no",
                        }),
                    )
                    .await?;
                InitStep::Created
            }
            Some(existing) => {
                let have: Vec<&str> = existing
                    .get("object_types")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let missing = FACT_OBJECT_TYPES.iter().any(|t| !have.contains(t));
                match (missing, existing.get("id").and_then(Value::as_u64)) {
                    (true, Some(id)) => {
                        let mut all: Vec<&str> = have.clone();
                        all.extend(FACT_OBJECT_TYPES.iter().filter(|t| !have.contains(t)));
                        netbox
                            .update_many(
                                "/api/extras/custom-fields/",
                                vec![json!({ "id": id, "object_types": all })],
                            )
                            .await?;
                        InitStep::Updated
                    }
                    _ => InitStep::Found,
                }
            }
        };
        report
            .steps
            .push(("custom field".into(), field.name.into(), step));
    }
    Ok(report)
}
