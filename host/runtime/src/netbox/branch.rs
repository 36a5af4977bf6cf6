//! Branches of the netbox-branching plugin: a job can write into a branch instead of NetBox's
//! main schema, so a human reviews (and merges) the changes in NetBox's own UI.
//!
//! The flow is: [`ensure_branch`] finds the branch named after the job or creates it, then waits
//! until the plugin's RQ worker has provisioned it (status `ready`); its [`Branch::schema_id`]
//! goes to [`NetBox::in_branch`], whose requests carry the `X-NetBox-Branch` header and so read
//! and write inside the branch.
//!
//! ```no_run
//! # async fn demo(nb: nbfacts_host::netbox::NetBox) -> Result<(), nbfacts_host::netbox::branch::BranchError> {
//! use nbfacts_host::netbox::branch::{BranchOptions, ensure_branch};
//! let branch = ensure_branch(&nb, "nbfacts job 42", &BranchOptions::default()).await?;
//! let in_branch = nb.in_branch(&branch.schema_id);
//! // reconcile and apply with `in_branch`…
//! # Ok(()) }
//! ```
//!
//! Design decisions:
//! - **Idempotent by name.** Branch names are unique in the plugin, so a re-run of the same job
//!   re-uses its branch rather than creating a second one; two runs racing to create it both end
//!   up with the one NetBox kept (the loser's create is refused, and it looks the name up again).
//! - **The plugin is detected, not assumed.** Branch mode against a NetBox without the plugin
//!   fails up front with [`BranchError::PluginMissing`]; without this check the branch header
//!   would be silently ignored and the job would write into main.
//! - **Provisioning is polled with a deadline.** It is an RQ job: without a running worker a
//!   branch stays `new` forever, so the error says so.

use std::time::Duration;

use serde_json::{Value, json};

use super::{NetBox, NetBoxError};

/// The plugin's name in `/api/status/`.
pub const BRANCHING_PLUGIN: &str = "netbox_branching";
/// The plugin's branch list endpoint.
pub const BRANCHES_PATH: &str = "/api/plugins/branching/branches/";

/// A netbox-branching branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// NetBox object id.
    pub id: u64,
    /// The unique branch name.
    pub name: String,
    /// The schema id to pass to [`NetBox::in_branch`].
    pub schema_id: String,
    /// The branch status (`new`, `provisioning`, `ready`, `merged`, `failed`, …).
    pub status: String,
}

impl Branch {
    /// True once the branch is provisioned and can be written to.
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }

    fn from_json(value: &Value) -> Result<Self, BranchError> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        let status = value
            .get("status")
            .and_then(|s| s.get("value").or(Some(s)))
            .and_then(Value::as_str)
            .map(str::to_string);
        match (
            value.get("id").and_then(Value::as_u64),
            text("name"),
            text("schema_id"),
            status,
        ) {
            (Some(id), Some(name), Some(schema_id), Some(status)) => Ok(Self {
                id,
                name,
                schema_id,
                status,
            }),
            _ => Err(BranchError::Decode(format!(
                "a branch without id, name, schema_id or status: {value}"
            ))),
        }
    }
}

/// How long to wait for provisioning.
#[derive(Debug, Clone)]
pub struct BranchOptions {
    /// Give up when the branch is not ready after this long.
    pub timeout: Duration,
    /// Time between two status reads.
    pub poll: Duration,
    /// Description of a branch nbfacts creates.
    pub description: String,
}

impl Default for BranchOptions {
    /// Two minutes (provisioning copies the schema; a few seconds on a small NetBox), polled
    /// every half second.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(120),
            poll: Duration::from_millis(500),
            description: "Changes proposed by nbfacts".into(),
        }
    }
}

/// A branch operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BranchError {
    /// Branch mode was requested but NetBox does not run the plugin.
    #[error(
        "branch mode needs the netbox-branching plugin, which NetBox at {url} does not report in /api/status/ \
         (install netboxlabs-netbox-branching, or run without branch mode)"
    )]
    PluginMissing {
        /// NetBox's URL.
        url: String,
    },
    /// The branch exists but can no longer be written to, or provisioning failed.
    #[error("branch `{name}` is {status}: {hint}")]
    Unusable {
        /// Branch name.
        name: String,
        /// Its status.
        status: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The branch did not become ready in time.
    #[error(
        "branch `{name}` is still `{status}` after {waited_s} s; provisioning runs in NetBox's RQ worker: is it running?"
    )]
    NotReady {
        /// Branch name.
        name: String,
        /// Its last status.
        status: String,
        /// Seconds waited.
        waited_s: u64,
    },
    /// A NetBox request failed.
    #[error(transparent)]
    NetBox(#[from] NetBoxError),
    /// NetBox's answer was not what the plugin's API returns.
    #[error("unexpected answer from the branching API: {0}")]
    Decode(String),
}

/// True when NetBox reports the branching plugin in `/api/status/`.
pub async fn branching_installed(netbox: &NetBox) -> Result<bool, NetBoxError> {
    let status = netbox.get("/api/status/", &[]).await?;
    Ok(status
        .get("plugins")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(BRANCHING_PLUGIN)))
}

/// Fails with [`BranchError::PluginMissing`] unless the branching plugin is installed.
pub async fn require_branching(netbox: &NetBox) -> Result<(), BranchError> {
    if branching_installed(netbox).await? {
        Ok(())
    } else {
        Err(BranchError::PluginMissing {
            url: netbox.url().to_string(),
        })
    }
}

/// Every branch.
pub async fn list_branches(netbox: &NetBox) -> Result<Vec<Branch>, BranchError> {
    netbox
        .list(BRANCHES_PATH, &[])
        .await?
        .iter()
        .map(Branch::from_json)
        .collect()
}

/// The branch named `name`, if there is one.
pub async fn find_branch(netbox: &NetBox, name: &str) -> Result<Option<Branch>, BranchError> {
    let found = netbox
        .list(BRANCHES_PATH, &[("name".into(), name.into())])
        .await?;
    // An unknown filter is ignored by NetBox (all branches come back): check the name.
    for value in &found {
        let branch = Branch::from_json(value)?;
        if branch.name == name {
            return Ok(Some(branch));
        }
    }
    Ok(None)
}

/// The branch by id.
pub async fn get_branch(netbox: &NetBox, id: u64) -> Result<Branch, BranchError> {
    Branch::from_json(&netbox.get(&format!("{BRANCHES_PATH}{id}/"), &[]).await?)
}

/// Deletes a branch and its schema (the plugin has no bulk delete for branches).
pub async fn delete_branch(netbox: &NetBox, id: u64) -> Result<(), BranchError> {
    Ok(netbox.delete(&format!("{BRANCHES_PATH}{id}/")).await?)
}

/// The ready branch named `name`: found or created, then waited for. Checks the plugin first.
///
/// Always call it on a client that is not itself in a branch (branches live in main).
pub async fn ensure_branch(
    netbox: &NetBox,
    name: &str,
    options: &BranchOptions,
) -> Result<Branch, BranchError> {
    require_branching(netbox).await?;
    let branch = match find_branch(netbox, name).await? {
        Some(branch) => {
            tracing::debug!(branch = name, status = %branch.status, "Re-using the NetBox branch.");
            branch
        }
        None => {
            let body = json!({ "name": name, "description": options.description });
            match netbox.create(BRANCHES_PATH, body).await {
                Ok(created) => {
                    tracing::info!(branch = name, "Created a NetBox branch.");
                    Branch::from_json(&created)?
                }
                // A concurrent run created it first (names are unique), or a lost answer to our
                // own create: either way the branch now exists under this name.
                Err(e) if e.is_validation() => match find_branch(netbox, name).await? {
                    Some(branch) => branch,
                    None => return Err(e.into()),
                },
                Err(e) => return Err(e.into()),
            }
        }
    };
    wait_ready(netbox, branch, options).await
}

/// Polls `branch` until it is `ready`, failing on a status it cannot leave by itself.
pub async fn wait_ready(
    netbox: &NetBox,
    mut branch: Branch,
    options: &BranchOptions,
) -> Result<Branch, BranchError> {
    let started = tokio::time::Instant::now();
    loop {
        let hint = match branch.status.as_str() {
            "ready" => return Ok(branch),
            // Transitional: provisioning, or another job's sync or migration.
            "new" | "provisioning" | "syncing" | "migrating" => None,
            "merged" | "merging" | "reverting" | "archived" => Some(
                "it no longer takes changes; name the job's branch differently or revert it in NetBox",
            ),
            "pending-migrations" => {
                Some("it needs migrating after a NetBox upgrade; migrate it in NetBox first")
            }
            "failed" => Some("a branch operation failed; see the branch's jobs in NetBox"),
            _ => Some("a status nbfacts does not know"),
        };
        if let Some(hint) = hint {
            return Err(BranchError::Unusable {
                name: branch.name,
                status: branch.status,
                hint,
            });
        }
        if started.elapsed() >= options.timeout {
            return Err(BranchError::NotReady {
                name: branch.name,
                status: branch.status,
                waited_s: started.elapsed().as_secs(),
            });
        }
        tokio::time::sleep(options.poll).await;
        branch = get_branch(netbox, branch.id).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_decode_from_the_api_shape() {
        let value = json!({"id": 3, "name": "job-1", "schema_id": "td5smq0f",
            "status": {"value": "provisioning", "label": "Provisioning"}});
        let branch = Branch::from_json(&value).unwrap();
        assert_eq!(branch.schema_id, "td5smq0f");
        assert_eq!(branch.status, "provisioning");
        assert!(!branch.is_ready());
        assert!(Branch::from_json(&json!({"id": 3})).is_err());
    }

    #[test]
    fn plugin_missing_says_what_to_do() {
        let e = BranchError::PluginMissing {
            url: "http://nb".into(),
        };
        let shown = e.to_string();
        assert!(shown.contains("netbox-branching"), "{shown}");
        assert!(shown.contains("http://nb"), "{shown}");
    }
}
