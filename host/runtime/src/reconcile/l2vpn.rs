//! L2 circuits and EVPN → NetBox L2VPNs, route targets, terminations and learned MACs.
//!
//! * **L2 circuits**: one L2VPN of type VPWS per circuit, identifier = VC id, named after the
//!   VC id and both PEs (`vpws-<vc>-<pe a>-<pe b>`, PEs sorted) so both ends of a circuit land
//!   on the same object; a termination on the local interface; a journal entry on the L2VPN
//!   when the state seen from this device changes (the previous state is read back from
//!   nbfacts's last journal entry for that end).
//! * **EVPN**: one L2VPN per VNI (`VXLAN-EVPN`, identifier = VNI, named `evpn-vni-<vni>` so
//!   the whole fabric shares it) or per MPLS instance (`MPLS-EVPN`, `evpn-<instance>`), with
//!   the instance's import/export route targets (created as NetBox route targets); a
//!   termination on the NetBox VLAN carrying the VNI where one exists (same site first, then
//!   global); locally learned MACs as MAC addresses with discovery method `evpn`.
//!
//! The local PE address is the device's `lo0.0` IPv4 address in NetBox, else its primary
//! address, else its name.
//!
//! Reads on an unchanged device, each one request through NetBox's GraphQL API (see
//! [`graphql`]). L2 circuits: the device's interfaces, each with its addresses (the PE
//! address, part of every L2VPN name) and the L2VPN it terminates (so L2VPNs are read by name
//! only when one is not found there), together with this device's state entries in L2VPN
//! journals. EVPN: the L2VPNs by name (their route targets and the VLANs they terminate
//! nested; route targets are read only when one is missing there, and VLANs' terminations
//! only for a VLAN none of them terminates) together with the VLANs by VID; then the MACs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::changeset::{ChangeSet, EntryState, Operation};
use super::graphql::{self, List};
use super::neighbors::{self, Sighting};
use super::{Context, ReconcileError, fact_fields, id_of, owned_tags};
use nbfacts_sdk::{Evpn, L2Circuits};

const L2VPNS: &str = "/api/vpn/l2vpns/";
const TERMINATIONS: &str = "/api/vpn/l2vpn-terminations/";
const ROUTE_TARGETS: &str = "/api/ipam/route-targets/";
const VLANS: &str = "/api/ipam/vlans/";
const IPS: &str = "/api/ipam/ip-addresses/";
const JOURNAL: &str = "/api/extras/journal-entries/";

/// Phases: route targets, L2VPNs, terminations, journal entries.
const PHASE_RT: u8 = 0;
const PHASE_L2VPN: u8 = 1;
const PHASE_TERM: u8 = 2;
const PHASE_JOURNAL: u8 = 3;

/// A NetBox slug from free text.
fn slug(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').chars().take(100).collect()
}

/// The address this device peers from.
pub(crate) async fn local_pe(ctx: &Context) -> Result<String, ReconcileError> {
    let ips = ctx
        .netbox
        .list(IPS, &[("device_id".into(), ctx.device.id.to_string())])
        .await?;
    let on_loopback = ips.iter().find(|ip| {
        ip.pointer("/assigned_object/name").and_then(Value::as_str) == Some("lo0.0")
            && ip
                .get("family")
                .and_then(|f| f.get("value"))
                .and_then(Value::as_u64)
                == Some(4)
    });
    Ok(on_loopback
        .and_then(|ip| ip.get("address").and_then(Value::as_str))
        .map(|a| a.split('/').next().unwrap_or(a).to_string())
        .or_else(|| ctx.device.address.clone())
        .unwrap_or_else(|| ctx.device.name.clone()))
}

/// The PE address from the device's interfaces as [`graphql`] reads them (each with its
/// `ip_addresses`): the first IPv4 address of `lo0.0`, else the primary address, else the name.
fn pe_of(ctx: &Context, ifaces: &[Value]) -> String {
    ifaces
        .iter()
        .filter(|i| i.get("name").and_then(Value::as_str) == Some("lo0.0"))
        .filter_map(|i| i.get("ip_addresses").and_then(Value::as_array))
        .flatten()
        .filter_map(|ip| ip.get("address").and_then(Value::as_str))
        .map(|a| a.split('/').next().unwrap_or(a))
        .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
        .map(str::to_string)
        .or_else(|| ctx.device.address.clone())
        .unwrap_or_else(|| ctx.device.name.clone())
}

/// The comments of a device's journal entries on L2VPNs (`nbfacts: <device> …`) start with
/// this.
fn journal_prefix(ctx: &Context) -> String {
    format!("nbfacts: {} ", ctx.device.name)
}

/// Builds the change set for the L2 circuits of one device.
pub async fn reconcile_l2_circuits(
    ctx: &Context,
    facts: &L2Circuits,
) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "l2_circuits");
    let circuits: Vec<_> = facts
        .circuits
        .iter()
        .filter(|c| ctx.wants_interface(&c.local_interface))
        .collect();
    if circuits.is_empty() {
        return Ok(set);
    }
    // One read: the device's interfaces (each with its addresses, for the PE address, and the
    // L2VPN it terminates) and this device's state entries in L2VPN journals, newest first.
    let mut lists = graphql::read(
        &ctx.netbox,
        &[
            List::new(
                "interface_list",
                json!({ "device_id": ctx.device.id }),
                "id name ip_addresses { address } l2vpn_termination { id l2vpn { id name } }",
            ),
            List::new(
                "journal_entry_list",
                json!({
                    "assigned_object_type": graphql::content_type("vpn.l2vpn"),
                    "comments": { "starts_with": journal_prefix(ctx) },
                }),
                "id assigned_object_id comments",
            ),
        ],
    )
    .await?
    .into_iter();
    let (ifaces, journals) = (
        lists.next().unwrap_or_default(),
        lists.next().unwrap_or_default(),
    );
    let pe = pe_of(ctx, &ifaces);
    let name_of = |neighbor: &str, vc: u32| {
        let (a, b) = if pe.as_str() <= neighbor {
            (pe.as_str(), neighbor)
        } else {
            (neighbor, pe.as_str())
        };
        format!("vpws-{vc}-{a}-{b}")
    };
    let names: Vec<String> = circuits
        .iter()
        .map(|c| name_of(&c.neighbor, c.vc_id))
        .collect();
    // An unchanged circuit's L2VPN is named by its interface's termination, so L2VPNs are read
    // by name only for the others.
    let mut l2vpn_ids: BTreeMap<String, u64> = ifaces
        .iter()
        .filter_map(|i| i.pointer("/l2vpn_termination/l2vpn"))
        .filter_map(|l| Some((l.get("name")?.as_str()?.to_string(), id_of(l)?)))
        .collect();
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| !l2vpn_ids.contains_key(n.as_str()))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // `list_any` makes no request for an empty list of values.
    for l in ctx.netbox.list_any(L2VPNS, &[], "name", &unknown).await? {
        if let (Some(name), Some(id)) = (l.get("name").and_then(Value::as_str), id_of(&l)) {
            l2vpn_ids.insert(name.to_string(), id);
        }
    }

    for (circuit, name) in circuits.iter().zip(&names) {
        let label = format!(
            "VC {} {} → {} ({})",
            circuit.vc_id, circuit.local_interface, circuit.neighbor, name
        );
        let l2vpn_ref: Value = match l2vpn_ids.get(name).copied() {
            Some(id) => {
                set.push(
                    EntryState::Confirmed,
                    "vpn.l2vpn",
                    Some(id),
                    &label,
                    Operation::None,
                    "L2VPN already in NetBox",
                    PHASE_L2VPN,
                );
                json!(id)
            }
            None => {
                let key = format!("l2vpn:{name}");
                if !set
                    .entries
                    .iter()
                    .any(|e| matches!(&e.operation, Operation::Create { key: k, .. } if *k == key))
                {
                    set.push(
                        EntryState::New,
                        "vpn.l2vpn",
                        None,
                        &label,
                        Operation::Create {
                            endpoint: L2VPNS.into(),
                            payload: json!({
                                "name": name, "slug": slug(name), "type": "vpws",
                                "identifier": circuit.vc_id,
                                "description": format!("L2 circuit VC {} between {pe} and {}", circuit.vc_id, circuit.neighbor),
                                "tags": owned_tags(),
                                "custom_fields": fact_fields("l2circuit", &ctx.now),
                            }),
                            key: key.clone(),
                        },
                        "the device reports this L2 circuit",
                        PHASE_L2VPN,
                    );
                }
                json!({ "$ref": key })
            }
        };

        // Termination on the local interface.
        let iface = ifaces.iter().find(|i| {
            i.get("name").and_then(Value::as_str) == Some(circuit.local_interface.as_str())
        });
        match iface.and_then(|i| Some((id_of(i)?, i))) {
            None => {
                set.push(
                    EntryState::Skipped,
                    "vpn.l2vpntermination",
                    None,
                    &label,
                    Operation::None,
                    format!(
                        "interface {} is not in NetBox (the interfaces collector creates it)",
                        circuit.local_interface
                    ),
                    PHASE_TERM,
                );
            }
            Some((iface_id, iface)) => {
                let current = iface.get("l2vpn_termination").filter(|t| !t.is_null());
                match current {
                    Some(t)
                        if t.pointer("/l2vpn/id").and_then(Value::as_u64) == l2vpn_ref.as_u64() =>
                    {
                        set.push(
                            EntryState::Confirmed,
                            "vpn.l2vpntermination",
                            id_of(t),
                            &label,
                            Operation::None,
                            "termination already in NetBox",
                            PHASE_TERM,
                        );
                    }
                    Some(t) => {
                        set.push(
                            EntryState::Skipped,
                            "vpn.l2vpntermination",
                            id_of(t),
                            &label,
                            Operation::None,
                            format!(
                                "{} already terminates L2VPN {}; not moved",
                                circuit.local_interface,
                                t.pointer("/l2vpn/name")
                                    .and_then(Value::as_str)
                                    .unwrap_or("?")
                            ),
                            PHASE_TERM,
                        );
                    }
                    None => {
                        set.push(
                            EntryState::New,
                            "vpn.l2vpntermination",
                            None,
                            &label,
                            Operation::Create {
                                endpoint: TERMINATIONS.into(),
                                payload: json!({
                                    "l2vpn": l2vpn_ref, "assigned_object_type": "dcim.interface",
                                    "assigned_object_id": iface_id, "tags": owned_tags(),
                                    "custom_fields": fact_fields("l2circuit", &ctx.now),
                                }),
                                key: format!("term:{name}:{}", circuit.local_interface),
                            },
                            "the circuit's local attachment interface",
                            PHASE_TERM,
                        );
                    }
                }
            }
        }

        // Journal entry when this end's state changed.
        let marker = format!("{}{} state ", journal_prefix(ctx), circuit.local_interface);
        let state = if circuit.status_text.is_empty() {
            circuit.status.clone()
        } else {
            format!("{} ({})", circuit.status, circuit.status_text)
        };
        let last = l2vpn_ref.as_u64().and_then(|id| {
            journals
                .iter()
                .filter(|j| j.get("assigned_object_id").and_then(Value::as_u64) == Some(id))
                .filter_map(|j| j.get("comments").and_then(Value::as_str))
                .find_map(|c| c.strip_prefix(&marker))
        });
        if last == Some(state.as_str()) {
            continue;
        }
        let kind = if circuit.status == "Up" {
            "info"
        } else {
            "warning"
        };
        set.push(
            EntryState::New,
            "extras.journalentry",
            None,
            format!("journal of {name}"),
            Operation::Create {
                endpoint: JOURNAL.into(),
                payload: json!({
                    "assigned_object_type": "vpn.l2vpn", "assigned_object_id": l2vpn_ref,
                    "kind": kind, "comments": format!("{marker}{state}"),
                }),
                key: format!("journal:{name}:{}", circuit.local_interface),
            },
            match last {
                Some(before) => format!("state changed from {before} to {state}"),
                None => format!("state {state} first recorded"),
            },
            PHASE_JOURNAL,
        );
    }
    Ok(set)
}

/// Route target names as NetBox keeps them (`65000:100`, without `target:`).
fn rt_name(text: &str) -> String {
    text.trim().trim_start_matches("target:").to_string()
}

/// Builds the change set for the EVPN facts of one device.
pub async fn reconcile_evpn(ctx: &Context, facts: &Evpn) -> Result<ChangeSet, ReconcileError> {
    let mut set = ChangeSet::new(&ctx.device.name, "evpn");

    // The L2VPNs this device's instances make: (name, type, identifier, vlan, instance).
    struct Want<'a> {
        name: String,
        kind: &'static str,
        identifier: Option<u32>,
        vlan: u16,
        instance: &'a nbfacts_sdk::EvpnInstance,
    }
    let mut wants: Vec<Want<'_>> = Vec::new();
    for instance in &facts.instances {
        let vxlan: Vec<_> = instance.vlans.iter().filter(|v| v.vni > 0).collect();
        if vxlan.is_empty() {
            wants.push(Want {
                name: format!("evpn-{}", instance.name),
                kind: "mpls-evpn",
                identifier: None,
                vlan: 0,
                instance,
            });
        } else {
            for v in vxlan {
                if !wants.iter().any(|w| w.identifier == Some(v.vni)) {
                    wants.push(Want {
                        name: format!("evpn-vni-{}", v.vni),
                        kind: "vxlan-evpn",
                        identifier: Some(v.vni),
                        vlan: v.vlan_id,
                        instance,
                    });
                }
            }
        }
    }

    if !wants.is_empty() {
        let names: Vec<String> = wants.iter().map(|w| w.name.clone()).collect();
        // One read: the L2VPNs by name (route targets and the VLANs they terminate nested)
        // and the VLANs carrying the VNIs (by VID; this site's are preferred to global ones).
        let vids: Vec<u16> = wants
            .iter()
            .filter(|w| w.vlan > 0)
            .map(|w| w.vlan)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut lists = graphql::read(
            &ctx.netbox,
            &[
                List::new(
                    "l2vpn_list",
                    json!({ "name": { "in_list": names } }),
                    "id name import_targets { id name } export_targets { id name } \
                     terminations { id assigned_object { ... on VLANType { id } } }",
                ),
                List::new(
                    "vlan_list",
                    json!({ "vid": { "filter_lookup": { "in_list": vids } } }),
                    "id vid site { id }",
                ),
            ],
        )
        .await?
        .into_iter();
        let (existing, vlans) = (
            lists.next().unwrap_or_default(),
            lists.next().unwrap_or_default(),
        );
        // Route targets: those the existing L2VPNs name (nested), the others read by name.
        let mut rts: BTreeSet<String> = BTreeSet::new();
        for w in &wants {
            rts.extend(w.instance.import_targets.iter().map(|t| rt_name(t)));
            rts.extend(w.instance.export_targets.iter().map(|t| rt_name(t)));
        }
        rts.retain(|r| !r.is_empty());
        let mut rt_ids: BTreeMap<String, u64> = existing
            .iter()
            .flat_map(|l| ["import_targets", "export_targets"].map(|f| l.get(f)))
            .flatten()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|t| Some((t.get("name")?.as_str()?.to_string(), id_of(t)?)))
            .collect();
        let unknown: Vec<String> = rts
            .iter()
            .filter(|r| !rt_ids.contains_key(r.as_str()))
            .cloned()
            .collect();
        // `list_any` makes no request for an empty list of values.
        for t in ctx
            .netbox
            .list_any(ROUTE_TARGETS, &[], "name", &unknown)
            .await?
        {
            if let (Some(name), Some(id)) = (t.get("name").and_then(Value::as_str), id_of(&t)) {
                rt_ids.entry(name.to_string()).or_insert(id);
            }
        }
        let mut rt_ref: BTreeMap<String, Value> = BTreeMap::new();
        for rt in &rts {
            match rt_ids.get(rt) {
                Some(id) => {
                    rt_ref.insert(rt.clone(), json!(id));
                }
                None => {
                    let key = format!("rt:{rt}");
                    set.push(
                        EntryState::New,
                        "ipam.routetarget",
                        None,
                        format!("route target {rt}"),
                        Operation::Create {
                            endpoint: ROUTE_TARGETS.into(),
                            payload: json!({"name": rt, "tags": owned_tags(), "description": "EVPN route target (nbfacts)"}),
                            key: key.clone(),
                        },
                        "an EVPN instance imports or exports it",
                        PHASE_RT,
                    );
                    rt_ref.insert(rt.clone(), json!({ "$ref": key }));
                }
            }
        }

        // The NetBox VLAN carrying each VNI: this site's, else a global one.
        let vlan_of = |vid: u16| -> Option<&Value> {
            let candidates: Vec<&Value> = vlans
                .iter()
                .filter(|v| v.get("vid").and_then(Value::as_u64) == Some(u64::from(vid)))
                .collect();
            candidates
                .iter()
                .find(|v| {
                    v.pointer("/site/id").and_then(Value::as_u64).is_some()
                        && v.pointer("/site/id").and_then(Value::as_u64) == ctx.device.site_id
                })
                .or_else(|| {
                    candidates
                        .iter()
                        .find(|v| v.get("site").is_none_or(Value::is_null))
                })
                .copied()
        };
        // VLAN id → the termination on it ({id, l2vpn: {id, name}}): from the L2VPNs read, and
        // for VLANs none of them terminates, read (they may terminate another L2VPN).
        let mut vlan_terms: BTreeMap<u64, Value> = BTreeMap::new();
        for l in &existing {
            let l2vpn = json!({ "id": l.get("id"), "name": l.get("name") });
            for t in l
                .get("terminations")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(vlan) = t.pointer("/assigned_object/id").and_then(Value::as_u64) {
                    vlan_terms.insert(vlan, json!({ "id": t.get("id"), "l2vpn": l2vpn }));
                }
            }
        }
        let unterminated: Vec<String> = wants
            .iter()
            .filter(|w| w.vlan > 0)
            .filter_map(|w| vlan_of(w.vlan).and_then(id_of))
            .filter(|id| !vlan_terms.contains_key(id))
            .map(|id| id.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // `list_any` makes no request for an empty list of values.
        for v in ctx.netbox.list_any(VLANS, &[], "id", &unterminated).await? {
            if let (Some(id), Some(t)) = (
                id_of(&v),
                v.get("l2vpn_termination").filter(|t| !t.is_null()),
            ) {
                vlan_terms.insert(id, t.clone());
            }
        }

        for w in &wants {
            let label = format!("{} ({} {})", w.name, w.kind, w.instance.name);
            let imports: Vec<Value> = w
                .instance
                .import_targets
                .iter()
                .filter_map(|t| rt_ref.get(&rt_name(t)).cloned())
                .collect();
            let exports: Vec<Value> = w
                .instance
                .export_targets
                .iter()
                .filter_map(|t| rt_ref.get(&rt_name(t)).cloned())
                .collect();
            let found = existing
                .iter()
                .find(|l| l.get("name").and_then(Value::as_str) == Some(w.name.as_str()));
            let l2vpn_ref = match found {
                Some(l) => {
                    let id = id_of(l);
                    // Add missing route targets (never remove ones someone else set).
                    let have = |field: &str| -> BTreeSet<u64> {
                        l.get(field)
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(id_of).collect())
                            .unwrap_or_default()
                    };
                    let (have_imp, have_exp) = (have("import_targets"), have("export_targets"));
                    let missing = |want: &[Value], have: &BTreeSet<u64>| {
                        want.iter()
                            .any(|v| v.as_u64().is_none_or(|id| !have.contains(&id)))
                    };
                    if missing(&imports, &have_imp) || missing(&exports, &have_exp) {
                        let union = |want: &[Value], have: &BTreeSet<u64>| -> Value {
                            let mut all: Vec<Value> = have.iter().map(|i| json!(i)).collect();
                            for v in want {
                                if v.as_u64().is_none_or(|id| !have.contains(&id)) {
                                    all.push(v.clone());
                                }
                            }
                            Value::Array(all)
                        };
                        set.push(
                            EntryState::Changed,
                            "vpn.l2vpn",
                            id,
                            &label,
                            Operation::Update {
                                endpoint: L2VPNS.into(),
                                id: id.unwrap_or(0),
                                patch: json!({
                                    "import_targets": union(&imports, &have_imp),
                                    "export_targets": union(&exports, &have_exp),
                                }),
                                before: json!({
                                    "import_targets": have_imp.iter().collect::<Vec<_>>(),
                                    "export_targets": have_exp.iter().collect::<Vec<_>>(),
                                }),
                            },
                            "route targets the device uses are missing",
                            PHASE_L2VPN,
                        );
                    } else {
                        set.push(
                            EntryState::Confirmed,
                            "vpn.l2vpn",
                            id,
                            &label,
                            Operation::None,
                            "L2VPN already in NetBox",
                            PHASE_L2VPN,
                        );
                    }
                    id.map(|i| json!(i)).unwrap_or(Value::Null)
                }
                None => {
                    let key = format!("l2vpn:{}", w.name);
                    let mut payload = json!({
                        "name": w.name, "slug": slug(&w.name), "type": w.kind,
                        "import_targets": imports, "export_targets": exports,
                        "description": format!("EVPN instance {} (first seen on {})", w.instance.name, ctx.device.name),
                        "tags": owned_tags(),
                        "custom_fields": fact_fields("evpn", &ctx.now),
                    });
                    if let (Some(vni), Some(map)) = (w.identifier, payload.as_object_mut()) {
                        map.insert("identifier".into(), json!(vni));
                    }
                    set.push(
                        EntryState::New,
                        "vpn.l2vpn",
                        None,
                        &label,
                        Operation::Create {
                            endpoint: L2VPNS.into(),
                            payload,
                            key: key.clone(),
                        },
                        "the device runs this EVPN instance",
                        PHASE_L2VPN,
                    );
                    json!({ "$ref": key })
                }
            };
            if w.vlan == 0 {
                continue;
            }
            let vlan = vlan_of(w.vlan);
            let Some(vlan) = vlan else {
                set.push(
                    EntryState::Skipped,
                    "vpn.l2vpntermination",
                    None,
                    format!("{} on VLAN {}", w.name, w.vlan),
                    Operation::None,
                    format!(
                        "no NetBox VLAN {} in site {} or global",
                        w.vlan, ctx.device.site
                    ),
                    PHASE_TERM,
                );
                continue;
            };
            let vlan_id = id_of(vlan);
            let term = vlan_id.and_then(|id| vlan_terms.get(&id));
            match term {
                Some(t) => set.push(
                    if t.pointer("/l2vpn/id").and_then(Value::as_u64) == l2vpn_ref.as_u64() {
                        EntryState::Confirmed
                    } else {
                        EntryState::Skipped
                    },
                    "vpn.l2vpntermination",
                    id_of(t),
                    format!("{} on VLAN {}", w.name, w.vlan),
                    Operation::None,
                    if t.pointer("/l2vpn/id").and_then(Value::as_u64) == l2vpn_ref.as_u64() {
                        "termination already in NetBox".to_string()
                    } else {
                        format!(
                            "VLAN {} already terminates L2VPN {}; not moved",
                            w.vlan,
                            t.pointer("/l2vpn/name")
                                .and_then(Value::as_str)
                                .unwrap_or("?")
                        )
                    },
                    PHASE_TERM,
                ),
                None => set.push(
                    EntryState::New,
                    "vpn.l2vpntermination",
                    None,
                    format!("{} on VLAN {}", w.name, w.vlan),
                    Operation::Create {
                        endpoint: TERMINATIONS.into(),
                        payload: json!({
                            "l2vpn": l2vpn_ref, "assigned_object_type": "ipam.vlan",
                            "assigned_object_id": vlan_id, "tags": owned_tags(),
                            "custom_fields": fact_fields("evpn", &ctx.now),
                        }),
                        key: format!("term:{}:vlan{}", w.name, w.vlan),
                    },
                    "the VLAN carries the VNI",
                    PHASE_TERM,
                ),
            };
        }
    }

    // Locally learned MACs: MAC addresses on their interfaces, discovery method `evpn`.
    let local: Vec<Sighting> = facts
        .macs
        .iter()
        .filter(|m| !m.remote && !m.active_source.is_empty())
        .map(|m| Sighting {
            interface: m.active_source.clone(),
            mac: m.mac.clone(),
            ip: String::new(),
            vlan: m.vlan_id,
        })
        .collect();
    let remote = facts.macs.len() - local.len();
    if remote > 0 {
        set.notes.push(format!(
            "{remote} MAC(s) learned from remote VTEPs/PEs are not written: they have no local \
             interface on this device"
        ));
    }
    if !local.is_empty() {
        let macs = neighbors::reconcile(ctx, "evpn", &local).await?;
        set.absorb(macs);
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_route_targets() {
        assert_eq!(
            slug("vpws-600-10.0.0.1-10.0.0.2"),
            "vpws-600-10-0-0-1-10-0-0-2"
        );
        assert_eq!(rt_name("target:65000:100"), "65000:100");
        assert_eq!(rt_name("65000:100"), "65000:100");
    }
}
