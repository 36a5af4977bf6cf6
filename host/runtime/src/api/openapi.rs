//! The OpenAPI 3.1 document of the API, written by hand (`GET /api/v1/openapi.json`).
//!
//! Every route of [`super::ROUTES`] has an operation here; a test checks both directions.

use serde_json::{Value, json};

fn op(summary: &str, description: &str, tag: &str, responses: Value) -> Value {
    json!({
        "summary": summary,
        "description": description,
        "tags": [tag],
        "responses": responses,
    })
}

fn with(mut operation: Value, key: &str, value: Value) -> Value {
    if let Some(o) = operation.as_object_mut() {
        o.insert(key.to_string(), value);
    }
    operation
}

fn body(schema: Value, required: bool) -> Value {
    json!({ "required": required, "content": { "application/json": { "schema": schema } } })
}

fn reply(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error(description: &str) -> Value {
    reply(description, json!({ "$ref": "#/components/schemas/Error" }))
}

fn path_param(name: &str, description: &str, kind: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description,
            "schema": { "type": kind } })
}

fn query_param(name: &str, description: &str, kind: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description,
            "schema": { "type": kind } })
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The document.
pub fn openapi() -> Value {
    let plan_name = path_param("name", "Plan name", "string");
    let job_id = path_param("id", "Job id", "integer");
    let unauthorized = error("No, or a wrong, API token (or none is configured)");
    let plan_404 = error("No such plan");
    let job_404 = error("No such job");
    let entries = json!({
        "type": "object",
        "properties": { "entries": { "type": "array", "items": { "type": "string" },
            "description": "Entry references `DEVICE/COLLECTOR/ID` (or a bare `ID`)" } }
    });
    let plans_get = op(
        "List plans",
        "Every plan in the store, by name.",
        "plans",
        json!({ "200": reply("The plans", json!({"type": "array", "items": schema("Plan")})),
                "401": unauthorized }),
    );
    let plans_post = with(
        op(
            "Create a plan",
            "Adds a plan; the scheduler sees it at once. 409 if it exists.",
            "plans",
            json!({ "201": reply("Created", schema("Plan")),
                    "400": error("The body is not a valid plan"),
                    "401": unauthorized, "409": error("A plan of that name exists") }),
        ),
        "requestBody",
        body(schema("Plan"), true),
    );
    let plan_get = with(
        op(
            "Show a plan",
            "The plan with its schedule state.",
            "plans",
            json!({ "200": reply("The plan", json!({"type": "object", "properties": {
                        "plan": schema("Plan"), "state": {"type": ["object", "null"]},
                        "next_run": {"type": ["integer", "null"]}, "pending": {"type": "boolean"}}})),
                    "401": unauthorized, "404": plan_404 }),
        ),
        "parameters",
        json!([plan_name]),
    );
    let plan_put = with(
        with(
            op(
                "Create or replace a plan",
                "The body's name must equal the URL's.",
                "plans",
                json!({ "200": reply("Replaced", schema("Plan")), "201": reply("Created", schema("Plan")),
                    "400": error("Not a valid plan, or the names differ"), "401": unauthorized }),
            ),
            "parameters",
            json!([plan_name]),
        ),
        "requestBody",
        body(schema("Plan"), true),
    );
    let plan_delete = with(
        op(
            "Delete a plan",
            "Removes the plan and its schedule state.",
            "plans",
            json!({ "204": {"description": "Deleted"}, "401": unauthorized, "404": plan_404 }),
        ),
        "parameters",
        json!([plan_name]),
    );
    let toggle = |summary: &str| {
        with(
            op(
                summary,
                "Scheduled runs happen only for enabled plans; manual runs always can.",
                "plans",
                json!({ "200": reply("The plan", schema("Plan")), "401": unauthorized, "404": plan_404 }),
            ),
            "parameters",
            json!([plan_name]),
        )
    };
    let plan_run = with(
        with(
            op(
                "Run a plan now",
                "Queues a manual run, of the listed devices only when given. At \
            most one run per plan and device selection is pending: a second request returns \
            the pending job.",
                "plans",
                json!({ "202": reply("Queued (or already pending)", schema("Enqueued")),
                    "400": error("Bad body"), "401": unauthorized, "404": plan_404 }),
            ),
            "parameters",
            json!([plan_name]),
        ),
        "requestBody",
        body(
            json!({"type": "object", "properties": {"devices": {
            "type": "array", "items": {"type": "string"}, "description": "Device names"}}}),
            false,
        ),
    );
    let status = op(
        "Scheduler status",
        "Every plan with its last run, result, next run and \
        whether a run is pending.",
        "status",
        json!({ "200": reply("Plans and schedule", json!({"type": "array", "items": {"type": "object"}})),
                "401": unauthorized }),
    );
    let jobs = with(
        op(
            "List jobs",
            "Job summaries, newest first.",
            "jobs",
            json!({ "200": reply("Summaries", json!({"type": "array", "items": schema("JobSummary")})),
                    "400": error("Bad query"), "401": unauthorized }),
        ),
        "parameters",
        json!([query_param(
            "limit",
            "At most this many (default 50)",
            "integer"
        )]),
    );
    let job = with(
        op(
            "Show a job",
            "The full job: every result, change set, write and log line.",
            "jobs",
            json!({ "200": reply("The job", json!({"type": "object"})),
                    "401": unauthorized, "404": job_404 }),
        ),
        "parameters",
        json!([job_id]),
    );
    let job_log = with(
        op(
            "A job's log",
            "Its log lines (`time level message`).",
            "jobs",
            json!({ "200": reply("The log", json!({"type": "object", "properties": {
                        "id": {"type": "integer"}, "state": {"type": "string"},
                        "log": {"type": "array", "items": {"type": "string"}}}})),
                    "401": unauthorized, "404": job_404 }),
        ),
        "parameters",
        json!([job_id]),
    );
    let job_cancel = with(
        op(
            "Cancel a job",
            "Queued, it is dropped; running, devices not started yet are \
            skipped and collections in progress finish.",
            "jobs",
            json!({ "202": reply("Cancelling", json!({"type": "object"})),
                    "401": unauthorized, "404": job_404,
                    "409": error("The job is not queued or running") }),
        ),
        "parameters",
        json!([job_id]),
    );
    let report = with(
        op(
            "Show a report",
            "A job's change-set entries with their references and decisions \
            (applied, refused, skipped, pending); `device` and `collector` narrow it to \
            some results (a report over many devices is large).",
            "reports",
            json!({ "200": reply("The report", json!({"type": "object"})),
                    "400": reply("An unknown query parameter", json!({"type": "object"})),
                    "401": unauthorized, "404": job_404 }),
        ),
        "parameters",
        json!([job_id,
            {"name": "device", "in": "query", "required": false, "schema": {"type": "string"},
             "description": "Only this device's results"},
            {"name": "collector", "in": "query", "required": false, "schema": {"type": "string"},
             "description": "Only this collector's results"}]),
    );
    let report_apply = with(
        with(
            op(
                "Apply report entries",
                "Writes the listed pending entries to NetBox, or every \
            pending entry without a body.",
                "reports",
                json!({ "200": reply("Applied", json!({"type": "object", "properties": {
                        "applied": {"type": "integer"}, "refused": {"type": "integer"}}})),
                    "400": error("Bad entry references"), "401": unauthorized, "404": job_404,
                    "409": error("The job has not finished, or wrote into a branch"),
                    "502": error("NetBox stopped the writes") }),
            ),
            "parameters",
            json!([job_id]),
        ),
        "requestBody",
        body(entries.clone(), false),
    );
    let report_skip = with(
        with(
            op(
                "Skip report entries",
                "Marks the listed pending entries as skipped.",
                "reports",
                json!({ "200": reply("Skipped", json!({"type": "object", "properties": {
                        "skipped": {"type": "integer"}}})),
                    "400": error("No or bad entry references"), "401": unauthorized,
                    "404": job_404, "409": error("The job has not finished") }),
            ),
            "parameters",
            json!([job_id]),
        ),
        "requestBody",
        body(entries, true),
    );
    let plugins = op(
        "Loaded plugins",
        "Plugins with their drivers (and aliases), collectors, \
        versions and digests.",
        "plugins",
        json!({ "200": reply("Plugins", json!({"type": "array", "items": {"type": "object"}})),
                "401": unauthorized }),
    );
    let mut device_params: Vec<Value> = ["site", "role", "platform", "tag", "status", "name"]
        .iter()
        .map(|k| {
            query_param(
                k,
                &format!("{k} (slug or value); repeat for alternatives"),
                "string",
            )
        })
        .collect();
    device_params.push(query_param("id", "Device id; may repeat", "integer"));
    device_params.push(query_param(
        "connection",
        "primary, oob, primary_then_oob (default) or oob_then_primary",
        "string",
    ));
    let devices = with(
        op(
            "Resolve devices",
            "The NetBox devices a filter selects, as collection targets \
            (driver, management address). Lists are ANDed; repeated values are alternatives.",
            "devices",
            json!({ "200": reply("Targets", json!({"type": "object", "properties": {
                        "count": {"type": "integer"},
                        "devices": {"type": "array", "items": schema("Target")}}})),
                    "400": error("Unknown filter"), "401": unauthorized,
                    "502": error("NetBox could not be read") }),
        ),
        "parameters",
        json!(device_params),
    );
    let collect_params = json!([
        path_param("id", "NetBox device id", "integer"),
        query_param(
            "token",
            "The API (or link) token, for browsers following the NetBox \
            custom link, which cannot send a header. Only this route accepts it.",
            "string"
        ),
    ]);
    let collect_responses = json!({
        "200": {"description": "No enabled plan selects this device",
                "content": {"application/json": {"schema": schema("Collect")},
                            "text/html": {"schema": {"type": "string"}}}},
        "202": {"description": "Jobs queued (or already pending)",
                "content": {"application/json": {"schema": schema("Collect")},
                            "text/html": {"schema": {"type": "string"}}}},
        "401": unauthorized, "502": error("NetBox could not be read"),
    });
    let collect_doc = "Queues the device with every enabled plan whose filter selects it \
        (trigger `netbox-link`). Answers an HTML page when `Accept` has `text/html`, else JSON.";
    let collect_get = with(
        op(
            "Collect one device (NetBox link)",
            collect_doc,
            "triggers",
            collect_responses.clone(),
        ),
        "parameters",
        collect_params.clone(),
    );
    let collect_post = with(
        op(
            "Collect one device",
            collect_doc,
            "triggers",
            collect_responses,
        ),
        "parameters",
        collect_params,
    );
    let webhook = with(
        with(
            op(
                "NetBox webhook",
                "Receives NetBox's device webhook. Authenticated by \
            `X-Hook-Signature` (hex HMAC-SHA512 of the body with the shared secret), not by the \
            API token. Collects (trigger `webhook`) when the device was created or one of name, \
            primary_ip4, primary_ip6, oob_ip, platform, role, site or status changed, and the \
            device is ready (platform, management address, status active/planned/staged); \
            changes by the ignored user (nbfacts's own) never collect.",
                "triggers",
                json!({ "200": reply("Ignored, with the reason", json!({"type": "object",
                        "properties": {"ignored": {"type": "string"}}})),
                    "202": reply("Jobs queued", json!({"type": "object"})),
                    "400": error("The body is not JSON"),
                    "401": error("Missing or wrong signature"),
                    "503": error("No webhook secret is configured") }),
            ),
            "security",
            json!([]),
        ),
        "parameters",
        json!([{ "name": "X-Hook-Signature", "in": "header", "required": true,
            "schema": {"type": "string"}, "description": "hex HMAC-SHA512 of the raw body" }]),
    );
    let webhook_recent = op(
        "Recent webhooks",
        "The last webhook outcomes, newest first: \
        device, event, user, request id and what was done or why nothing was.",
        "triggers",
        json!({ "200": reply("Outcomes", json!({"type": "array", "items": {"type": "object"}})),
                "401": unauthorized }),
    );
    let healthz = with(
        op(
            "Health",
            "Whether the store is reachable, and the queue length. No token needed.",
            "health",
            json!({ "200": reply("Healthy", schema("Health")),
                    "503": reply("The store is unreachable", schema("Health")) }),
        ),
        "security",
        json!([]),
    );
    let metrics = with(
        op(
            "Prometheus metrics",
            "Jobs, collections, NetBox requests, queue, webhooks. No \
            token needed.",
            "health",
            json!({ "200": {"description": "Metrics",
                    "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}}} }),
        ),
        "security",
        json!([]),
    );
    let document = op(
        "This document",
        "The OpenAPI 3.1 description of the API.",
        "health",
        json!({ "200": reply("OpenAPI 3.1", json!({"type": "object"})), "401": unauthorized }),
    );

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "nbfacts",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Collects facts from network devices and reconciles them into \
                NetBox. Every /api/v1 route needs `Authorization: Bearer <token>` (or \
                `Token <token>`) unless stated otherwise. Errors are `{\"error\": \"...\"}`.",
        },
        "security": [{ "bearer": [] }],
        "paths": {
            "/healthz": { "get": healthz },
            "/metrics": { "get": metrics },
            "/api/v1/openapi.json": { "get": document },
            "/api/v1/plans": { "get": plans_get, "post": plans_post },
            "/api/v1/plans/{name}": { "get": plan_get, "put": plan_put, "delete": plan_delete },
            "/api/v1/plans/{name}/enable": { "post": toggle("Enable a plan") },
            "/api/v1/plans/{name}/disable": { "post": toggle("Disable a plan") },
            "/api/v1/plans/{name}/run": { "post": plan_run },
            "/api/v1/status": { "get": status },
            "/api/v1/jobs": { "get": jobs },
            "/api/v1/jobs/{id}": { "get": job },
            "/api/v1/jobs/{id}/log": { "get": job_log },
            "/api/v1/jobs/{id}/cancel": { "post": job_cancel },
            "/api/v1/reports/{id}": { "get": report },
            "/api/v1/reports/{id}/apply": { "post": report_apply },
            "/api/v1/reports/{id}/skip": { "post": report_skip },
            "/api/v1/plugins": { "get": plugins },
            "/api/v1/devices": { "get": devices },
            "/api/v1/collect/device/{id}": { "get": collect_get, "post": collect_post },
            "/api/v1/webhooks/netbox": { "post": webhook },
            "/api/v1/webhooks/recent": { "get": webhook_recent },
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer",
                    "description": "The API token (`Token <token>` is accepted too)" },
            },
            "schemas": schemas(),
        },
    })
}

fn plan_schema() -> Value {
    json!({ "type": "object", "required": ["name", "collectors"],
                    "additionalProperties": false, "properties": {
                    "name": {"type": "string", "description": "Unique; no `/`"},
                    "collectors": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "filter": { "type": "object", "additionalProperties": false,
                        "description": "Which devices: every non-empty list must match; values \
                            within a list are alternatives",
                        "properties": {
                            "devices": {"type": "array", "items": {"type": "string"}},
                            "ids": {"type": "array", "items": {"type": "integer"}},
                            "sites": {"type": "array", "items": {"type": "string"}},
                            "site_groups": {"type": "array", "items": {"type": "string"}},
                            "regions": {"type": "array", "items": {"type": "string"}},
                            "locations": {"type": "array", "items": {"type": "string"}},
                            "roles": {"type": "array", "items": {"type": "string"}},
                            "platforms": {"type": "array", "items": {"type": "string"}},
                            "device_types": {"type": "array", "items": {"type": "string"}},
                            "tenants": {"type": "array", "items": {"type": "string"}},
                            "tags": {"type": "array", "items": {"type": "string"}},
                            "statuses": {"type": "array", "items": {"type": "string"}} } },
                    "driver": {"type": "string", "description": "Instead of the platform's"},
                    "connection": {"enum": ["primary", "oob", "primary_then_oob", "oob_then_primary"],
                        "default": "primary_then_oob"},
                    "credentials": {"type": "string", "default": "default"},
                    "interval": {"type": ["string", "integer", "null"],
                        "description": "30m, 1h, 1d or seconds; none: manual runs only"},
                    "enabled": {"type": "boolean", "default": true},
                    "priority": {"enum": ["low", "default", "high"], "default": "default"},
                    "mode": {"enum": ["apply", "report", "branch"], "default": "apply"},
                    "interface_regex": {"type": "string"},
                    "rpc_timeout": {"type": "integer", "default": 120},
                    "plugin_timeout": {"type": "integer", "default": 120} } })
}

fn schemas() -> Value {
    let mut schemas = json!({
                "Error": { "type": "object", "required": ["error"],
                    "properties": { "error": { "type": "string" } } },
                "Health": { "type": "object", "properties": {
                    "ok": {"type": "boolean"},
                    "store": {"type": "object", "properties": {
                        "reachable": {"type": "boolean"}, "error": {"type": ["string", "null"]}}},
                    "queue_length": {"type": ["integer", "null"]} } },
                "Enqueued": { "type": "object", "required": ["status", "job"], "properties": {
                    "status": {"enum": ["queued", "already_pending"]},
                    "job": {"type": "integer"} } },
                "Collect": { "type": "object", "properties": {
                    "device": {"type": "integer"}, "message": {"type": "string"},
                    "jobs": {"type": "array", "items": {"type": "object", "properties": {
                        "job": {"type": "integer"},
                        "status": {"enum": ["queued", "already_pending"]},
                        "plan": {"type": "string"}}}} } },
                "JobSummary": { "type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"},
                    "mode": {"enum": ["apply", "report", "branch"]},
                    "state": {"enum": ["pending", "scheduled", "running", "completed", "failed", "errored"]},
                    "trigger": {"type": "string"}, "created": {"type": "string"},
                    "started": {"type": ["string", "null"]}, "finished": {"type": ["string", "null"]},
                    "cancelled": {"type": "boolean"}, "rolled_back": {"type": ["string", "null"]},
                    "devices": {"type": "integer"}, "collections": {"type": "integer"},
                    "failed": {"type": "integer"}, "writes": {"type": "integer"},
                    "counts": {"type": "object"} } },
                "Target": { "type": "object", "properties": {
                    "id": {"type": "integer"}, "name": {"type": "string"},
                    "site_id": {"type": ["integer", "null"]}, "site": {"type": "string"},
                    "platform": {"type": "string"}, "driver": {"type": "string"},
                    "address": {"type": ["string", "null"]}, "status": {"type": "string"} } },
    });
    if let Some(o) = schemas.as_object_mut() {
        o.insert("Plan".into(), plan_schema());
    }
    schemas
}
