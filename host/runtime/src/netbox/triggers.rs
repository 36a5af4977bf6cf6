//! The NetBox side of the API's triggers (`nbfacts netbox init --custom-link URL --webhook URL`):
//! a custom link "Collect facts" on every device page, and a webhook with its event rule that
//! tells nbfacts when a device is created or changed. Both are idempotent: found as they
//! should be, they are left alone; found with another URL or secret, they are updated in place.
//!
//! Field names are NetBox 4.7's: event rules take `object_types` and `event_types`
//! (`object_created`, `object_updated`), and `action_object_type` `extras.webhook`.

use serde_json::{Value, json};

use super::{InitStep, NetBox, NetBoxError, Secret};

/// Name of the custom link.
pub const CUSTOM_LINK_NAME: &str = "Collect facts";
/// Name of the webhook.
pub const WEBHOOK_NAME: &str = "nbfacts";
/// Name of the event rule.
pub const EVENT_RULE_NAME: &str = "nbfacts: device created or changed";

const CUSTOM_LINKS: &str = "/api/extras/custom-links/";
const WEBHOOKS: &str = "/api/extras/webhooks/";
const EVENT_RULES: &str = "/api/extras/event-rules/";

/// The custom link's URL template for the API at `url_base` (`http://host:port`).
///
/// With `token`, the URL carries it as `?token=`: a link cannot send a header. Anyone who can
/// see a device page can then read that token, so pass the API's *link token* (valid only for
/// this route), never the main API token.
pub fn custom_link_url(url_base: &str, token: Option<&Secret>) -> String {
    let mut url = format!(
        "{}/api/v1/collect/device/{{{{ object.id }}}}",
        url_base.trim_end_matches('/')
    );
    if let Some(token) = token {
        url.push_str("?token=");
        url.push_str(&percent_encode(token.expose()));
    }
    url
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn id_of(object: &Value, path: &str) -> Result<u64, NetBoxError> {
    object
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| NetBoxError::Decode {
            method: "GET".into(),
            path: path.into(),
            message: "an object without an id".into(),
        })
}

/// The value of a field that NetBox shows either plain or as `{"value": …, "label": …}`.
fn plain(v: Option<&Value>) -> Option<&Value> {
    v.map(|v| v.get("value").unwrap_or(v))
}

/// Fields of `wanted` whose value differs in `existing`.
fn differing(existing: &Value, wanted: &Value) -> Value {
    let mut patch = serde_json::Map::new();
    if let Some(wanted) = wanted.as_object() {
        for (key, value) in wanted {
            if plain(existing.get(key)) != Some(value) {
                patch.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(patch)
}

/// Creates `wanted` at `path` when no object is named `name`, or updates the fields that differ.
async fn ensure(
    netbox: &NetBox,
    path: &str,
    name: &str,
    wanted: Value,
) -> Result<(u64, InitStep), NetBoxError> {
    let found = netbox.list(path, &[("name".into(), name.into())]).await?;
    let Some(existing) = found.first() else {
        let created = netbox.create(path, wanted).await?;
        return Ok((id_of(&created, path)?, InitStep::Created));
    };
    let id = id_of(existing, path)?;
    let mut patch = differing(existing, &wanted);
    let Some(fields) = patch.as_object_mut().filter(|p| !p.is_empty()) else {
        return Ok((id, InitStep::Found));
    };
    fields.insert("id".into(), json!(id));
    netbox.update_many(path, vec![patch]).await?;
    Ok((id, InitStep::Updated))
}

/// Ensures the custom link "Collect facts" on device pages, opening
/// `{url_base}/api/v1/collect/device/{{ object.id }}` (with `?token=` when `token` is given;
/// see [`custom_link_url`]) in a new window.
pub async fn ensure_custom_link(
    netbox: &NetBox,
    url_base: &str,
    token: Option<&Secret>,
) -> Result<InitStep, NetBoxError> {
    let wanted = json!({
        "name": CUSTOM_LINK_NAME,
        "object_types": ["dcim.device"],
        "enabled": true,
        "link_text": "Collect facts",
        "link_url": custom_link_url(url_base, token),
        "new_window": true,
        "button_class": "blue",
        "weight": 100,
    });
    Ok(ensure(netbox, CUSTOM_LINKS, CUSTOM_LINK_NAME, wanted)
        .await?
        .1)
}

/// Ensures the webhook to `url` (the API's `/api/v1/webhooks/netbox`) signed with `secret`,
/// and the event rule sending it on device creation and change. Returns `(kind, name, step)`
/// per object, as [`super::InitReport`] does.
pub async fn ensure_webhook(
    netbox: &NetBox,
    url: &str,
    secret: &Secret,
) -> Result<Vec<(String, String, InitStep)>, NetBoxError> {
    let hook = json!({
        "name": WEBHOOK_NAME,
        "payload_url": url,
        "http_method": "POST",
        "http_content_type": "application/json",
        "secret": secret.expose(),
        // Verification only means something for https; NetBox ignores it for http.
        "ssl_verification": url.starts_with("https://"),
        "description": "nbfacts: collect facts when a device is created or changed",
    });
    let (hook_id, hook_step) = ensure(netbox, WEBHOOKS, WEBHOOK_NAME, hook).await?;
    let rule = json!({
        "name": EVENT_RULE_NAME,
        "object_types": ["dcim.device"],
        "event_types": ["object_created", "object_updated"],
        "enabled": true,
        "action_type": "webhook",
        "action_object_type": "extras.webhook",
        "action_object_id": hook_id,
        "description": "Sends device creations and changes to nbfacts",
    });
    let (_, rule_step) = ensure(netbox, EVENT_RULES, EVENT_RULE_NAME, rule).await?;
    Ok(vec![
        ("webhook".into(), WEBHOOK_NAME.into(), hook_step),
        ("event rule".into(), EVENT_RULE_NAME.into(), rule_step),
    ])
}

/// The NetBox username of the client's token: pass it as the API's `ignore_user`, so that
/// nbfacts's own changes never trigger a collection. (Give nbfacts a NetBox user of its own:
/// a person's changes under the same user would be ignored too.)
pub async fn token_user(netbox: &NetBox) -> Result<String, NetBoxError> {
    let me = netbox.get("/api/authentication-check/", &[]).await?;
    me.get("username")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| NetBoxError::Decode {
            method: "GET".into(),
            path: "/api/authentication-check/".into(),
            message: "no `username` in the answer".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_urls_use_netbox_templates_and_encode_the_token() {
        assert_eq!(
            custom_link_url("http://nbfacts:8080/", None),
            "http://nbfacts:8080/api/v1/collect/device/{{ object.id }}"
        );
        assert_eq!(
            custom_link_url("http://x", Some(&Secret::new("a b/c"))),
            "http://x/api/v1/collect/device/{{ object.id }}?token=a%20b%2Fc"
        );
    }

    #[test]
    fn only_differing_fields_are_patched() {
        let existing = json!({"id": 1, "name": "n", "action_type": {"value": "webhook", "label": "Webhook"},
            "event_types": ["object_created", "object_updated"], "payload_url": "http://old"});
        let wanted = json!({"name": "n", "action_type": "webhook",
            "event_types": ["object_created", "object_updated"], "payload_url": "http://new"});
        assert_eq!(
            differing(&existing, &wanted),
            json!({"payload_url": "http://new"})
        );
    }
}
