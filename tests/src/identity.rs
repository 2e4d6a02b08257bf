//! A token credential for tests in the test process itself: it asks the emulator's managed-identity endpoint
//! (the App Service protocol: `GET {endpoint}?resource=…&api-version=2019-08-01` with `X-IDENTITY-HEADER`) at the
//! endpoint it is given. azure_identity's managed-identity credential reads its endpoint only from the process
//! environment, and setting variables in a running multi-threaded test process is unsound; the function apps the
//! tests start as child processes get the variables on their own command (`Command::env`) and use the real
//! credential.

use std::sync::Arc;

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use time::OffsetDateTime;

/// Tokens from an App Service managed-identity endpoint given explicitly.
#[derive(Debug)]
pub struct EndpointIdentity {
    endpoint: String,
    header: String,
    http: reqwest::Client,
}

impl EndpointIdentity {
    /// The credential for `endpoint` (`IDENTITY_ENDPOINT`) and `header` (`IDENTITY_HEADER`).
    pub fn new(endpoint: &str, header: &str) -> Arc<EndpointIdentity> {
        Arc::new(EndpointIdentity {
            endpoint: endpoint.to_string(),
            header: header.to_string(),
            http: reqwest::Client::new(),
        })
    }
}

fn error(message: String) -> azure_core::Error {
    azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, message)
}

#[async_trait::async_trait]
impl TokenCredential for EndpointIdentity {
    async fn get_token(
        &self,
        scopes: &[&str],
        _options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let scope = scopes.first().ok_or_else(|| error("no scope".into()))?;
        let resource = scope.trim_end_matches("/.default");
        let response = self
            .http
            .get(&self.endpoint)
            .query(&[("resource", resource), ("api-version", "2019-08-01")])
            .header("X-IDENTITY-HEADER", &self.header)
            .send()
            .await
            .map_err(|e| error(format!("identity endpoint: {e}")))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.map_err(|e| error(format!("identity endpoint: {e}")))?;
        if !status.is_success() {
            return Err(error(format!("identity endpoint answered {status}: {body}")));
        }
        let token = body["access_token"].as_str().ok_or_else(|| error(format!("no access_token in {body}")))?;
        let expires = body["expires_on"]
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| error(format!("no expires_on in {body}")))?;
        Ok(AccessToken::new(token.to_string(), expires))
    }
}
