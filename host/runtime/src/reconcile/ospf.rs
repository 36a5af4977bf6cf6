//! OSPF → neighbour IP addresses, and the adjacency table as a journal entry.
//!
//! Neighbour addresses become IP addresses (discovery method `ospf`) under the same rules as
//! ARP: only inside a NetBox prefix, in that prefix's VRF. OSPFv3 neighbours are link-local
//! and are only journalled. When the routing plugin (`netbox_routing`) is installed, a note
//! says that its OSPF objects are not written yet; either way the device gets a journal entry
//! with the adjacency table when the table changed since nbfacts's last entry.

use serde_json::{Value, json};

use super::bgp::routing_plugin_installed;
use super::changeset::{ChangeSet, EntryState, Operation};
use super::neighbors::{self, Sighting};
use super::{Context, ReconcileError};
use nbfacts_sdk::{Ospf, OspfVersion};

const JOURNAL: &str = "/api/extras/journal-entries/";
const MARKER: &str = "nbfacts: OSPF adjacencies\n";

/// The adjacency table as journal text (stable order; no timers, so it only changes when an
/// adjacency does).
pub fn adjacency_table(facts: &Ospf) -> String {
    let mut rows: Vec<String> = facts
        .neighbors
        .iter()
        .map(|n| {
            format!(
                "| {} | {} | {} | {} | {} | {} |",
                n.instance,
                match n.version {
                    OspfVersion::V2 => "v2",
                    OspfVersion::V3 => "v3",
                },
                n.interface,
                n.neighbor_id,
                n.address,
                n.state
            )
        })
        .collect();
    rows.sort();
    format!(
        "{MARKER}\n| instance | version | interface | neighbour id | address | state |\n|---|---|---|---|---|---|\n{}",
        rows.join("\n")
    )
}

/// Builds the change set for the OSPF facts of one device.
pub async fn reconcile(ctx: &Context, facts: &Ospf) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "ospf");
    if routing_plugin_installed(ctx).await? {
        set.notes.push(
            "The NetBox routing plugin is installed; nbfacts does not write its OSPF instance, \
             area and interface objects yet: neighbour addresses and the journal entry are \
             written instead."
                .into(),
        );
    } else {
        set.notes.push(
            "The NetBox routing plugin (netbox-routing) is not installed: OSPF adjacencies are \
             kept as a journal entry on the device."
                .into(),
        );
    }
    let sightings: Vec<Sighting> = facts
        .neighbors
        .iter()
        .filter(|n| n.version == OspfVersion::V2 && !n.address.is_empty())
        .filter(|n| ctx.wants_interface(&n.interface))
        .map(|n| Sighting {
            interface: n.interface.clone(),
            mac: String::new(),
            ip: n.address.clone(),
            vlan: 0,
        })
        .collect();
    if !sightings.is_empty() {
        set.absorb(neighbors::reconcile(ctx, "ospf", &sightings).await?);
    }
    if facts.neighbors.is_empty() {
        return Ok(set);
    }
    let table = adjacency_table(facts);
    let journals = ctx
        .netbox
        .list(
            JOURNAL,
            &[
                ("assigned_object_type".into(), "dcim.device".into()),
                ("assigned_object_id".into(), ctx.device.id.to_string()),
            ],
        )
        .await?;
    let last = journals
        .iter()
        .filter_map(|j| j.get("comments").and_then(Value::as_str))
        .rfind(|c| c.starts_with(MARKER));
    if last == Some(table.as_str()) {
        set.push(
            EntryState::Confirmed,
            "extras.journalentry",
            None,
            format!("OSPF journal of {}", ctx.device.name),
            Operation::None,
            "adjacency table unchanged since the last journal entry",
            3,
        );
        return Ok(set);
    }
    let down = facts.neighbors.iter().any(|n| n.state != "Full");
    set.push(
        EntryState::New,
        "extras.journalentry",
        None,
        format!("OSPF journal of {}", ctx.device.name),
        Operation::Create {
            endpoint: JOURNAL.into(),
            payload: json!({
                "assigned_object_type": "dcim.device", "assigned_object_id": ctx.device.id,
                "kind": if down { "warning" } else { "info" }, "comments": table,
            }),
            key: "journal:ospf".into(),
        },
        if last.is_some() {
            "the adjacency table changed"
        } else {
            "first OSPF adjacency table"
        },
        3,
    );
    Ok(set)
}
