//! `POST /$batch`: JSON batching of up to 20 Graph requests, each run
//! through the same pipeline as a top-level request. It must not handle a
//! resource itself.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::Emulator;
use super::api::Response;

impl Emulator {
    /// `POST /$batch`: up to 20 requests, `dependsOn` honoured (424 when a
    /// prerequisite failed), per-request status and headers.
    pub(super) fn batch(&self, client: &str, version: &str, body: &[u8], base: &str) -> Response {
        let Ok(doc) = serde_json::from_slice::<Value>(body) else {
            return Response::error(400, "BadRequest", "Invalid batch payload format.");
        };
        let Some(requests) = doc.get("requests").and_then(Value::as_array) else {
            return Response::error(
                400,
                "BadRequest",
                "Invalid batch payload format: `requests` is required.",
            );
        };
        if requests.len() > 20 {
            return Response::error(
                400,
                "BadRequest",
                "Number of requests inside batch exceeds the limit.",
            );
        }
        let mut ids = std::collections::HashSet::new();
        for r in requests {
            let id = r
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase();
            if id.is_empty() || r.get("method").is_none() || r.get("url").is_none() {
                return Response::error(
                    400,
                    "BadRequest",
                    "Every batch request needs `id`, `method` and `url`.",
                );
            }
            if !ids.insert(id.clone()) {
                return Response::error(
                    400,
                    "BadRequest",
                    &format!("Batch request id '{id}' is used twice."),
                );
            }
        }
        let mut statuses: HashMap<String, u16> = HashMap::new();
        let mut responses = Vec::new();
        for r in requests {
            let id = r["id"].as_str().unwrap_or_default().to_string();
            let failed_dep = r
                .get("dependsOn")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|d| statuses.get(&d.to_lowercase()).is_none_or(|s| *s >= 400));
            let resp = if failed_dep {
                Response::error(
                    424,
                    "FailedDependency",
                    "A request this request depends on failed.",
                )
            } else {
                let method = r["method"].as_str().unwrap_or("GET").to_uppercase();
                let url = r["url"].as_str().unwrap_or_default();
                let full = url::Url::parse("http://batch.invalid/")
                    .and_then(|b| b.join(url.trim_start_matches('/')));
                match full {
                    Ok(u) => {
                        let query = u.query_pairs().into_owned().collect();
                        let consistency =
                            r.get("headers")
                                .and_then(Value::as_object)
                                .is_some_and(|h| {
                                    h.iter().any(|(k, v)| {
                                        k.eq_ignore_ascii_case("consistencylevel")
                                            && v.as_str()
                                                .is_some_and(|s| s.eq_ignore_ascii_case("eventual"))
                                    })
                                });
                        self.one(
                            client,
                            &method,
                            version,
                            u.path(),
                            query,
                            consistency,
                            r.get("body").cloned(),
                            base,
                        )
                    }
                    Err(_) => {
                        Response::error(400, "BadRequest", &format!("Invalid request url `{url}`."))
                    }
                }
            };
            statuses.insert(id.to_lowercase(), resp.status);
            let headers: serde_json::Map<String, Value> = resp
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let mut item = json!({ "id": id, "status": resp.status, "headers": headers });
            if let Some(b) = resp.body_value() {
                item["body"] = b;
            }
            responses.push(item);
        }
        Response::json(200, json!({ "responses": responses }))
    }
}
