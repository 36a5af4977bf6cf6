//! `inventory`: NAPALM's `get_facts`, the routing engines and the chassis inventory.
//!
//! NAPALM takes most of `get_facts` from PyEZ facts; the plugin reads the same replies PyEZ
//! reads, each one optional (a device that does not answer one leaves its fields empty or
//! `-1`):
//!
//! | RPC | gives |
//! |---|---|
//! | `get-software-information` | host name, model (`product-model`, upper-case as PyEZ), OS version, per-RE versions |
//! | `get-chassis-inventory` | serial number (chassis, else backplane, else midplane, as PyEZ), the inventory items |
//! | `get-route-engine-information` | routing engines; uptime of the master engine |
//! | `get-interface-information` (terse) | `interface_list`: every physical interface, in device order |
//!
//! Multi-routing-engine replies (`multi-routing-engine-results/multi-routing-engine-item`)
//! are read per engine. The device facts come from the master engine's item when the
//! routing-engine reply says which one that is, else from the first item. Inventory items of
//! a multi-engine reply (SRX clusters, virtual chassis) start their `parents` with the
//! engine's `re-name` (`node0`).
//!
//! The OS version follows PyEZ: `junos-version`, else the `[…]` of the `junos` package, else
//! the `JUNOS version : …` package (JDM), else the MGD `version-information` release (NFX).
//! Where PyEZ reports `0.0I0.0` for "unknown", the version is empty here.

use nbfacts_sdk::{
    CollectError, Device, DeviceFacts, Inventory, InventoryItem, RoutingEngine, parse_error,
};

use crate::common::{call_or_rpc_error, parse, payloads, seconds};
use crate::xml::{Doc, El};

/// The RPCs `inventory` sends, in order.
pub const SOFTWARE_RPC: &str = "<get-software-information/>";
/// See [`SOFTWARE_RPC`].
pub const CHASSIS_RPC: &str = "<get-chassis-inventory/>";
/// See [`SOFTWARE_RPC`].
pub const ROUTE_ENGINE_RPC: &str = "<get-route-engine-information/>";
/// See [`SOFTWARE_RPC`].
pub const INTERFACES_RPC: &str = "<get-interface-information><terse/></get-interface-information>";

const SOFTWARE: &str = "get-software-information";
const CHASSIS: &str = "get-chassis-inventory";
const ROUTE_ENGINE: &str = "get-route-engine-information";
const INTERFACES: &str = "get-interface-information";

/// The replies `inventory` works from; `None` for an RPC the device refused.
#[derive(Debug, Default, Clone)]
pub struct Replies {
    /// `get-software-information`.
    pub software: Option<String>,
    /// `get-chassis-inventory`.
    pub chassis: Option<String>,
    /// `get-route-engine-information`.
    pub route_engines: Option<String>,
    /// `get-interface-information` (terse).
    pub interfaces: Option<String>,
}

/// Runs the `inventory` collector.
pub fn collect(device: &dyn Device) -> Result<Inventory, CollectError> {
    let get = |rpc: &str| -> Result<Option<String>, CollectError> {
        Ok(call_or_rpc_error(device, rpc)?.ok())
    };
    let replies = Replies {
        software: get(SOFTWARE_RPC)?,
        chassis: get(CHASSIS_RPC)?,
        route_engines: get(ROUTE_ENGINE_RPC)?,
        interfaces: get(INTERFACES_RPC)?,
    };
    parse_inventory(&replies)
}

/// Builds the inventory from whichever replies there are.
pub fn parse_inventory(replies: &Replies) -> Result<Inventory, CollectError> {
    let mut engines = match &replies.route_engines {
        Some(reply) => parse_route_engines(reply)?,
        None => Vec::new(),
    };
    let master = engines
        .iter()
        .find(|e| e.mastership.starts_with("master"))
        .or_else(|| engines.first());
    let master_slot = master.map(|e| e.slot.clone()).unwrap_or_default();
    let uptime = master.map(|e| e.uptime).unwrap_or(-1.0);

    let software = match &replies.software {
        Some(reply) => parse_software(reply)?,
        None => Vec::new(),
    };
    for engine in &mut engines {
        if let Some(sw) = software.iter().find(|s| s.re_name == engine.slot) {
            engine.os_version = sw.version.clone();
        } else if let [only] = software.as_slice() {
            engine.os_version = only.version.clone();
        }
    }
    let current = software
        .iter()
        .find(|s| !master_slot.is_empty() && s.re_name == master_slot)
        .or_else(|| software.first());

    let (serial, items) = match &replies.chassis {
        Some(reply) => parse_chassis(reply)?,
        None => (String::new(), Vec::new()),
    };
    let interface_list = match &replies.interfaces {
        Some(reply) => parse_interface_list(reply)?,
        None => Vec::new(),
    };
    let hostname = current.map(|s| s.hostname.clone()).unwrap_or_default();
    let mut extra = Vec::new();
    for sw in &software {
        if !sw.re_name.is_empty() && !sw.version.is_empty() {
            extra.push((format!("version-{}", sw.re_name), sw.version.clone()));
        }
    }
    Ok(Inventory {
        facts: DeviceFacts {
            vendor: "Juniper".to_string(),
            model: current
                .map(|s| s.model.clone())
                .filter(|m| !m.is_empty())
                .or_else(|| items.first().map(|c| c.description.to_ascii_uppercase()))
                .unwrap_or_default(),
            serial_number: serial,
            os_version: current.map(|s| s.version.clone()).unwrap_or_default(),
            fqdn: hostname.clone(),
            hostname,
            uptime,
            interface_list,
            extra,
        },
        routing_engines: engines,
        items,
    })
}

/// What one `software-information` says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Software {
    /// The `re-name` of the multi-engine item; empty for a single engine.
    pub re_name: String,
    /// `host-name`.
    pub hostname: String,
    /// `product-model`, upper-case.
    pub model: String,
    /// The OS version (see the module documentation), empty when unknown.
    pub version: String,
}

/// Parses `get-software-information` (one entry per routing engine).
pub fn parse_software(reply: &str) -> Result<Vec<Software>, CollectError> {
    parse_software_doc(&parse(SOFTWARE, reply)?)
}

/// Like [`parse_software`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_software_doc(doc: &Doc<'_>) -> Result<Vec<Software>, CollectError> {
    Ok(named_payloads(doc, "software-information")
        .map(|(re_name, sw)| Software {
            re_name: re_name.to_string(),
            hostname: sw.text_of("host-name").to_string(),
            model: sw.text_of("product-model").to_ascii_uppercase(),
            version: version(sw).unwrap_or_default(),
        })
        .collect())
}

fn named_payloads<'d, 'a>(
    doc: &'d Doc<'a>,
    name: &'d str,
) -> impl Iterator<Item = (&'d str, El<'d, 'a>)> + use<'d, 'a> {
    payloads(doc)
        .into_iter()
        .filter(move |p| p.el.is(name))
        .map(|p| (p.re_name, p.el))
}

fn package_comment<'d>(sw: El<'d, '_>, name: &str) -> Option<&'d str> {
    sw.children_named("package-information")
        .find(|p| p.text_of("name") == name)
        .and_then(|p| p.nonempty("comment"))
}

fn version(sw: El<'_, '_>) -> Option<String> {
    if let Some(v) = sw.nonempty("junos-version") {
        return Some(v.to_string());
    }
    if let Some(comment) = package_comment(sw, "junos-version")
        && let Some((_, v)) = comment.split_once(':')
    {
        return Some(v.trim().to_string());
    }
    if let Some(comment) = package_comment(sw, "junos") {
        let start = comment.find('[');
        let end = comment.rfind(']');
        if let (Some(start), Some(end)) = (start, end)
            && let Some(v) = comment.get(start + 1..end).filter(|v| !v.is_empty())
        {
            return Some(v.to_string());
        }
    }
    if let Some(comment) = package_comment(sw, "JUNOS version")
        && let Some((_, v)) = comment.rsplit_once(':')
    {
        return Some(v.trim().to_string());
    }
    sw.children_named("version-information")
        .find(|v| v.text_of("component") == "MGD")
        .and_then(|v| v.nonempty("release"))
        .and_then(|release| release.split_whitespace().next())
        .map(|release| release.trim_end_matches(".secure").to_string())
}

/// Parses `get-chassis-inventory`: the serial number (PyEZ's rule) and every part.
pub fn parse_chassis(reply: &str) -> Result<(String, Vec<InventoryItem>), CollectError> {
    parse_chassis_doc(&parse(CHASSIS, reply)?)
}

/// Like [`parse_chassis`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_chassis_doc(doc: &Doc<'_>) -> Result<(String, Vec<InventoryItem>), CollectError> {
    let mut items = Vec::new();
    let mut serial = None;
    for (re_name, inventory) in named_payloads(doc, "chassis-inventory") {
        for chassis in inventory.children_named("chassis") {
            let parents: Vec<String> = if re_name.is_empty() {
                Vec::new()
            } else {
                vec![re_name.to_string()]
            };
            if serial.is_none() {
                serial = chassis
                    .nonempty("serial-number")
                    .or_else(|| module_serial(chassis, "Backplane"))
                    .or_else(|| module_serial(chassis, "Midplane"))
                    .map(str::to_string);
            }
            walk_parts(chassis, parents, &mut items)?;
        }
    }
    Ok((serial.unwrap_or_default(), items))
}

fn module_serial<'d>(chassis: El<'d, '_>, name: &str) -> Option<&'d str> {
    chassis
        .descendants_named("chassis-module")
        .find(|m| m.text_of("name") == name)
        .and_then(|m| m.nonempty("serial-number"))
}

fn is_part(el: &El<'_, '_>) -> bool {
    let name = el.name();
    name.starts_with("chassis-") && name.ends_with("module")
}

fn walk_parts(
    part: El<'_, '_>,
    parents: Vec<String>,
    items: &mut Vec<InventoryItem>,
) -> Result<(), CollectError> {
    let name = part.text_of("name");
    if name.is_empty() {
        return Err(parse_error(
            CHASSIS,
            part.name(),
            "an inventory part has no name",
        ));
    }
    let mut extra = Vec::new();
    if let Some(clei) = part.nonempty("clei-code") {
        extra.push(("clei-code".to_string(), clei.to_string()));
    }
    items.push(InventoryItem {
        name: name.to_string(),
        parents: parents.clone(),
        version: part.text_of("version").to_string(),
        part_number: part.text_of("part-number").to_string(),
        serial_number: part.text_of("serial-number").to_string(),
        model_number: part.text_of("model-number").to_string(),
        description: part.text_of("description").to_string(),
        extra,
    });
    let children: Vec<_> = part.children().filter(is_part).collect();
    if !children.is_empty() {
        let mut below = parents;
        below.push(name.to_string());
        for child in children {
            walk_parts(child, below.clone(), items)?;
        }
    }
    Ok(())
}

/// Parses `get-route-engine-information`.
pub fn parse_route_engines(reply: &str) -> Result<Vec<RoutingEngine>, CollectError> {
    parse_route_engines_doc(&parse(ROUTE_ENGINE, reply)?)
}

/// Like [`parse_route_engines`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_route_engines_doc(doc: &Doc<'_>) -> Result<Vec<RoutingEngine>, CollectError> {
    let mut out = Vec::new();
    for (re_name, info) in named_payloads(doc, "route-engine-information") {
        for re in info.children_named("route-engine") {
            let slot = match re.nonempty("slot") {
                Some(slot) if re_name.is_empty() => format!("re{slot}"),
                _ => re_name.to_string(),
            };
            let mut extra = Vec::new();
            for (element, key) in [
                ("serial-number", "serial-number"),
                ("last-reboot-reason", "last-reboot-reason"),
                ("start-time", "start-time"),
            ] {
                if let Some(value) = re.nonempty(element) {
                    extra.push((key.to_string(), value.to_string()));
                }
            }
            out.push(RoutingEngine {
                slot,
                mastership: re.text_of("mastership-state").to_string(),
                model: re.text_of("model").to_string(),
                os_version: String::new(),
                uptime: seconds(ROUTE_ENGINE, re, "up-time")?
                    .map(|s| s as f64)
                    .unwrap_or(-1.0),
                status: re.text_of("status").to_string(),
                extra,
            });
        }
    }
    Ok(out)
}

/// Parses `get-interface-information` into the physical interface names, in order.
pub fn parse_interface_list(reply: &str) -> Result<Vec<String>, CollectError> {
    parse_interface_list_doc(&parse(INTERFACES, reply)?)
}

/// Like [`parse_interface_list`], for a reply already in a [`Doc`] (for example one loaded from Junos
/// JSON).
pub fn parse_interface_list_doc(doc: &Doc<'_>) -> Result<Vec<String>, CollectError> {
    let mut out = Vec::new();
    for (_, info) in named_payloads(doc, "interface-information") {
        for physical in info.children_named("physical-interface") {
            // PyEZ's ifd-style test replies list nameless interfaces; there is nothing to list.
            if let Some(name) = physical.nonempty("name") {
                out.push(name.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nbfacts_sdk::testing::FakeDevice;

    const SOFTWARE_MULTI: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<multi-routing-engine-results>
  <multi-routing-engine-item>
    <re-name>re0</re-name>
    <software-information>
      <host-name>edge1-re0</host-name>
      <product-model>mx480</product-model>
      <junos-version>21.4R3-S4.9</junos-version>
    </software-information>
  </multi-routing-engine-item>
  <multi-routing-engine-item>
    <re-name>re1</re-name>
    <software-information>
      <host-name>edge1-re1</host-name>
      <product-model>mx480</product-model>
      <package-information><name>junos</name><comment>JUNOS Base OS boot [21.4R3-S4.8]</comment></package-information>
    </software-information>
  </multi-routing-engine-item>
</multi-routing-engine-results>
<cli><banner>{master}</banner></cli>
</rpc-reply>"#;

    const ENGINES: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<route-engine-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-chassis">
  <route-engine>
    <slot>0</slot><mastership-state>backup</mastership-state><status>OK</status>
    <model>RE-S-1800x4</model>
    <up-time junos:seconds="1000">16 minutes, 40 seconds</up-time>
  </route-engine>
  <route-engine>
    <slot>1</slot><mastership-state>master</mastership-state><status>OK</status>
    <model>RE-S-1800x4</model><serial-number>S1</serial-number>
    <up-time junos:seconds="86400">1 day</up-time>
    <last-reboot-reason>Router rebooted after a normal shutdown.</last-reboot-reason>
  </route-engine>
</route-engine-information>
</rpc-reply>"#;

    const CHASSIS_REPLY: &str = r#"<rpc-reply xmlns:junos="http://xml.juniper.net/junos/21.4R3/junos">
<chassis-inventory xmlns="http://xml.juniper.net/junos/21.4R3/junos-chassis">
  <chassis junos:style="inventory">
    <name>Chassis</name><serial-number>JN0001</serial-number><description>MX480</description>
    <chassis-module>
      <name>FPC 0</name><version>REV 10</version><part-number>750-0001</part-number>
      <serial-number>CA0001</serial-number><description>MPC7E 3D 40XGE</description>
      <clei-code>CLEI0</clei-code><model-number>MPC7E-10G</model-number>
      <chassis-sub-module>
        <name>PIC 0</name><description>20x10GE SFPP</description>
        <chassis-sub-sub-module>
          <name>Xcvr 0</name><part-number>NON-JNPR</part-number><serial-number>X1</serial-number>
          <description>SFP+-10G-LR</description>
        </chassis-sub-sub-module>
      </chassis-sub-module>
    </chassis-module>
    <chassis-module><name>PEM 0</name><serial-number>P0</serial-number></chassis-module>
  </chassis>
</chassis-inventory>
</rpc-reply>"#;

    const TERSE: &str = r#"<rpc-reply><interface-information xmlns="http://xml.juniper.net/junos/21.4R3/junos-interface" junos:style="terse" xmlns:junos="j">
  <physical-interface><name>
ge-0/0/0
</name><admin-status>up</admin-status>
    <logical-interface><name>ge-0/0/0.0</name></logical-interface></physical-interface>
  <physical-interface><name>lo0</name></physical-interface>
</interface-information></rpc-reply>"#;

    #[test]
    fn all_four_replies() {
        let dev = FakeDevice::new()
            .with_reply(SOFTWARE, SOFTWARE_MULTI)
            .with_reply(CHASSIS, CHASSIS_REPLY)
            .with_reply(ROUTE_ENGINE, ENGINES)
            .with_reply(INTERFACES, TERSE);
        let inv = collect(&dev).unwrap();
        let f = &inv.facts;
        assert_eq!(f.vendor, "Juniper");
        // re1 is the master: its item gives the facts.
        assert_eq!(f.hostname, "edge1-re1");
        assert_eq!(f.os_version, "21.4R3-S4.8");
        assert_eq!(f.model, "MX480");
        assert_eq!(f.serial_number, "JN0001");
        assert_eq!(f.uptime, 86400.0);
        assert_eq!(f.interface_list, ["ge-0/0/0", "lo0"]);
        assert_eq!(inv.routing_engines.len(), 2);
        assert_eq!(inv.routing_engines[0].slot, "re0");
        assert_eq!(inv.routing_engines[0].os_version, "21.4R3-S4.9");
        assert_eq!(inv.routing_engines[1].mastership, "master");
        let names: Vec<_> = inv
            .items
            .iter()
            .map(|i| (i.name.as_str(), i.parents.join("/")))
            .collect();
        assert_eq!(
            names,
            [
                ("Chassis", String::new()),
                ("FPC 0", "Chassis".to_string()),
                ("PIC 0", "Chassis/FPC 0".to_string()),
                ("Xcvr 0", "Chassis/FPC 0/PIC 0".to_string()),
                ("PEM 0", "Chassis".to_string()),
            ]
        );
        assert_eq!(inv.items[1].model_number, "MPC7E-10G");
        assert_eq!(
            inv.items[1].extra,
            [("clei-code".to_string(), "CLEI0".to_string())]
        );
    }

    #[test]
    fn every_reply_is_optional() {
        let inv = collect(&FakeDevice::new()).unwrap();
        assert_eq!(inv.facts.vendor, "Juniper");
        assert_eq!(inv.facts.hostname, "");
        assert_eq!(inv.facts.uptime, -1.0);
        assert!(inv.items.is_empty() && inv.routing_engines.is_empty());
        let only_sw = FakeDevice::new().with_reply(SOFTWARE, SOFTWARE_MULTI);
        assert_eq!(
            collect(&only_sw).unwrap().facts.hostname,
            "edge1-re0",
            "first engine"
        );
    }

    #[test]
    fn cluster_inventory_names_the_node() {
        let reply = r#"<rpc-reply><multi-routing-engine-results>
  <multi-routing-engine-item><re-name>node0</re-name>
    <chassis-inventory><chassis><name>Chassis</name><description>SRX345</description>
      <chassis-module><name>Midplane</name><serial-number>M0</serial-number></chassis-module>
    </chassis></chassis-inventory></multi-routing-engine-item>
  <multi-routing-engine-item><re-name>node1</re-name>
    <chassis-inventory><chassis><name>Chassis</name><serial-number>C1</serial-number></chassis></chassis-inventory>
  </multi-routing-engine-item>
</multi-routing-engine-results></rpc-reply>"#;
        let (serial, items) = parse_chassis(reply).unwrap();
        assert_eq!(serial, "M0");
        assert_eq!(items[0].parents, ["node0"]);
        assert_eq!(items[1].parents, ["node0", "Chassis"]);
        assert_eq!(items[2].parents, ["node1"]);
    }

    #[test]
    fn versions_like_pyez() {
        let v = |xml: &str| parse_software(xml).unwrap()[0].version.clone();
        assert_eq!(
            v(
                "<software-information><package-information><name>JUNOS version</name><comment>JUNOS version : 17.4-2017</comment></package-information></software-information>"
            ),
            "17.4-2017"
        );
        assert_eq!(
            v(
                "<software-information><version-information><component>MGD</component><release>15.1X53-D45.3.secure [builder]</release></version-information></software-information>"
            ),
            "15.1X53-D45.3"
        );
        assert_eq!(
            v(
                "<software-information><package-information><name>junos</name></package-information></software-information>"
            ),
            ""
        );
    }

    #[test]
    fn malformed_replies_name_rpc_and_element() {
        match parse_route_engines(
            "<route-engine-information><route-engine><up-time seconds=\"soon\"/></route-engine></route-engine-information>",
        ) {
            Err(CollectError::Parse(e)) => {
                assert_eq!(e.rpc, ROUTE_ENGINE);
                assert_eq!(e.element, "up-time");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        match parse_chassis(
            "<chassis-inventory><chassis><name>Chassis</name><chassis-module><description>x</description></chassis-module></chassis></chassis-inventory>",
        ) {
            Err(CollectError::Parse(e)) => assert_eq!(e.element, "chassis-module"),
            other => panic!("expected a parse error, got {other:?}"),
        }
        assert!(
            matches!(parse_software("<software-information>"), Err(CollectError::Parse(e)) if e.rpc == SOFTWARE)
        );
    }

    #[test]
    fn master_only_chassis_output_is_no_inventory() {
        let reply = "<output>error: command can only be used on the master routing engine</output>";
        assert_eq!(parse_chassis(reply).unwrap(), (String::new(), Vec::new()));
    }
}
