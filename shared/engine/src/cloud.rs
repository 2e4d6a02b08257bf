//! Azure clouds: where ARM is, and which token audience it expects.
//!
//! Managed identity does not use an authority host, so for sovereign clouds the only things that change are the
//! ARM endpoint and the token scope (rust-dependencies.md §1.6). A custom cloud (Azure Stack, a private ARM, or the
//! emulator) gives both explicitly.

use url::Url;

/// Which Azure cloud the engine talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cloud {
    /// Azure public cloud (`https://management.azure.com`).
    AzurePublic,
    /// Azure US Government (`https://management.usgovcloudapi.net`).
    AzureUsGovernment,
    /// Azure operated by 21Vianet (`https://management.chinacloudapi.cn`).
    AzureChina,
    /// Any other ARM endpoint, with its token audience.
    Custom {
        /// The ARM endpoint, e.g. `https://127.0.0.1:8443` for the emulator.
        arm_endpoint: Url,
        /// The token audience, e.g. `https://management.azure.com/`.
        audience: String,
    },
}

/// A cloud name or endpoint that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudError {
    /// The cloud name is not one we know.
    #[error(
        "unknown cloud '{0}' in RESTORE_CLOUD; use AzurePublic, AzureUSGovernment, AzureChina, or Custom with RESTORE_ARM_ENDPOINT and RESTORE_ARM_AUDIENCE"
    )]
    UnknownCloud(String),
    /// A custom cloud without its endpoint or audience.
    #[error("RESTORE_CLOUD=Custom needs {0}")]
    MissingCustomSetting(&'static str),
    /// The ARM endpoint is not an https URL with a host and nothing else.
    #[error(
        "the ARM endpoint '{0}' must be an https URL with only a scheme, host and optional port, e.g. https://management.azure.com"
    )]
    BadEndpoint(String),
}

impl Cloud {
    /// Resolves a cloud from its name (case-insensitive; `Custom` needs the endpoint and audience).
    pub fn from_settings(name: &str, arm_endpoint: Option<&str>, audience: Option<&str>) -> Result<Self, CloudError> {
        let cloud = match name.to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
            "" | "azurepublic" | "azurecloud" | "public" => Cloud::AzurePublic,
            "azureusgovernment" | "azureusgov" | "usgov" | "usgovernment" => Cloud::AzureUsGovernment,
            "azurechina" | "azurechinacloud" | "china" => Cloud::AzureChina,
            "custom" => {
                let endpoint = arm_endpoint.ok_or(CloudError::MissingCustomSetting("RESTORE_ARM_ENDPOINT"))?;
                let audience = audience.ok_or(CloudError::MissingCustomSetting("RESTORE_ARM_AUDIENCE"))?;
                Cloud::Custom { arm_endpoint: parse_endpoint(endpoint)?, audience: audience.to_string() }
            }
            _ => return Err(CloudError::UnknownCloud(name.to_string())),
        };
        Ok(cloud)
    }

    /// The ARM endpoint (scheme, host, port; no path).
    pub fn arm_endpoint(&self) -> Url {
        let text = match self {
            Cloud::AzurePublic => "https://management.azure.com",
            Cloud::AzureUsGovernment => "https://management.usgovcloudapi.net",
            Cloud::AzureChina => "https://management.chinacloudapi.cn",
            Cloud::Custom { arm_endpoint, .. } => return arm_endpoint.clone(),
        };
        // The literals above are valid URLs; parsing them cannot fail.
        Url::parse(text).unwrap_or_else(|_| unreachable!("built-in ARM endpoint {text} is a valid URL"))
    }

    /// The token audience ARM expects.
    pub fn audience(&self) -> String {
        match self {
            Cloud::Custom { audience, .. } => audience.clone(),
            _ => format!("{}/", self.arm_endpoint().as_str().trim_end_matches('/')),
        }
    }

    /// The OAuth scope to ask credentials for (`<audience>/.default`).
    pub fn token_scope(&self) -> String {
        format!("{}/.default", self.audience().trim_end_matches('/'))
    }
}

/// Parses an ARM endpoint: https, a host, an optional port, nothing else.
pub fn parse_endpoint(text: &str) -> Result<Url, CloudError> {
    let bad = || CloudError::BadEndpoint(text.to_string());
    let url = Url::parse(text).map_err(|_| bad())?;
    let plain = url.scheme() == "https"
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    if plain { Ok(url) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_clouds() {
        let public = Cloud::from_settings("AzurePublic", None, None).unwrap();
        assert_eq!(public.arm_endpoint().as_str(), "https://management.azure.com/");
        assert_eq!(public.token_scope(), "https://management.azure.com/.default");
        let gov = Cloud::from_settings("azure-us-government", None, None).unwrap();
        assert_eq!(gov.token_scope(), "https://management.usgovcloudapi.net/.default");
        let china = Cloud::from_settings("AzureChina", None, None).unwrap();
        assert_eq!(china.arm_endpoint().host_str(), Some("management.chinacloudapi.cn"));
    }

    #[test]
    fn custom_cloud_needs_endpoint_and_audience() {
        assert_eq!(
            Cloud::from_settings("Custom", None, Some("a")),
            Err(CloudError::MissingCustomSetting("RESTORE_ARM_ENDPOINT"))
        );
        let c = Cloud::from_settings("custom", Some("https://127.0.0.1:8443"), Some("https://management.azure.com/"))
            .unwrap();
        assert_eq!(c.arm_endpoint().port(), Some(8443));
        assert_eq!(c.token_scope(), "https://management.azure.com/.default");
        for bad in ["http://127.0.0.1:1", "https://h/path", "https://u@h", "https://h?x=1", "nonsense"] {
            assert!(matches!(parse_endpoint(bad), Err(CloudError::BadEndpoint(_))), "{bad}");
        }
        let err = Cloud::from_settings("Mars", None, None).unwrap_err().to_string();
        assert!(err.contains("RESTORE_CLOUD"), "{err}");
    }
}
