//! Azure region names, validated before they go into a URL path, and the region pairs Cross Region Restore
//! uses.

use std::fmt;

/// A region's programmatic name (`westeurope`, `eastus2`); display names with spaces are normalised
/// (`West Europe` → `westeurope`), anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

/// A region name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an Azure region name: use the programmatic name, letters and digits only (e.g. \"westeurope\")")]
pub struct RegionError(pub String);

impl Region {
    /// Parses a region name.
    pub fn parse(raw: &str) -> Result<Self, RegionError> {
        let name: String = raw.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_lowercase();
        if (2..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            Ok(Region(name))
        } else {
            Err(RegionError(raw.to_string()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The secondary region Azure Backup replicates to for Cross Region Restore (Azure's region pairs, as az
    /// CLI's `secondary_region_map`). `None` for regions without a pair: the request must name the region.
    pub fn paired(&self) -> Option<Region> {
        PAIRS.iter().find_map(|(a, b)| (*a == self.0).then(|| Region((*b).to_string())))
    }
}

impl TryFrom<String> for Region {
    type Error = RegionError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Region::parse(&value)
    }
}

impl From<Region> for String {
    fn from(r: Region) -> String {
        r.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Azure's documented region pairs (both directions listed).
const PAIRS: &[(&str, &str)] = &[
    ("eastus", "westus"),
    ("westus", "eastus"),
    ("eastus2", "centralus"),
    ("centralus", "eastus2"),
    ("westus2", "westcentralus"),
    ("westcentralus", "westus2"),
    ("westus3", "eastus"),
    ("northcentralus", "southcentralus"),
    ("southcentralus", "northcentralus"),
    ("northeurope", "westeurope"),
    ("westeurope", "northeurope"),
    ("uksouth", "ukwest"),
    ("ukwest", "uksouth"),
    ("francecentral", "francesouth"),
    ("francesouth", "francecentral"),
    ("germanywestcentral", "germanynorth"),
    ("germanynorth", "germanywestcentral"),
    ("switzerlandnorth", "switzerlandwest"),
    ("switzerlandwest", "switzerlandnorth"),
    ("norwayeast", "norwaywest"),
    ("norwaywest", "norwayeast"),
    ("swedencentral", "swedensouth"),
    ("swedensouth", "swedencentral"),
    ("eastasia", "southeastasia"),
    ("southeastasia", "eastasia"),
    ("japaneast", "japanwest"),
    ("japanwest", "japaneast"),
    ("koreacentral", "koreasouth"),
    ("koreasouth", "koreacentral"),
    ("australiaeast", "australiasoutheast"),
    ("australiasoutheast", "australiaeast"),
    ("centralindia", "southindia"),
    ("southindia", "centralindia"),
    ("canadacentral", "canadaeast"),
    ("canadaeast", "canadacentral"),
    ("brazilsouth", "southcentralus"),
    ("southafricanorth", "southafricawest"),
    ("uaenorth", "uaecentral"),
    ("usgovvirginia", "usgovtexas"),
    ("usgovtexas", "usgovvirginia"),
    ("chinanorth", "chinaeast"),
    ("chinaeast", "chinanorth"),
    ("chinanorth2", "chinaeast2"),
    ("chinaeast2", "chinanorth2"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_or_refused() {
        assert_eq!(Region::parse("West Europe").unwrap().as_str(), "westeurope");
        assert_eq!(Region::parse("eastus2").unwrap().as_str(), "eastus2");
        for bad in ["", "x", "west/europe", "west%2feurope", "eu?x", "../x", "westeurope\n"] {
            assert!(Region::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn pairs_are_symmetric_where_azure_pairs_both_ways() {
        let we = Region::parse("westeurope").unwrap();
        assert_eq!(we.paired().unwrap().paired().unwrap(), we);
        assert_eq!(Region::parse("westus3").unwrap().paired().unwrap().as_str(), "eastus");
        assert!(Region::parse("qatarcentral").unwrap().paired().is_none());
    }
}
