//! DeSo's country list (249 countries), as its backend keeps them: the alpha-3 codes admins
//! set bonuses for, DeSo's alpha-2 lookup for viewer headers, names as DeSo spells them, and
//! ISO 3166 numeric codes. Kept as data (`shared/data/deso-countries.csv`), read with `csv`.

use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Country {
    #[serde(rename = "Alpha3")]
    pub alpha3: String,
    /// Empty where DeSo has no alpha-2 lookup for the country.
    #[serde(rename = "Alpha2")]
    pub alpha2: String,
    #[serde(rename = "Name")]
    pub name: String,
    /// ISO 3166 numeric, as text ("566").
    #[serde(rename = "CountryCode")]
    pub code: String,
}

const DATA: &str = include_str!("../../data/deso-countries.csv");

/// Every country, in the file's order (by alpha-3).
pub fn all() -> &'static [Country] {
    static LIST: OnceLock<Vec<Country>> = OnceLock::new();
    LIST.get_or_init(|| {
        csv::Reader::from_reader(DATA.as_bytes())
            .deserialize()
            .filter_map(Result::ok)
            .collect()
    })
}

pub fn by_alpha3(a3: &str) -> Option<&'static Country> {
    all().iter().find(|c| c.alpha3 == a3)
}

pub fn by_alpha2(a2: &str) -> Option<&'static Country> {
    all()
        .iter()
        .find(|c| !c.alpha2.is_empty() && c.alpha2 == a2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_deso_s() {
        let list = all();
        assert_eq!(list.len(), 249, "every row of the data file parses");
        assert_eq!(DATA.lines().count(), 250, "249 countries and a header");
        let mut a3: Vec<&str> = list.iter().map(|c| c.alpha3.as_str()).collect();
        a3.sort();
        a3.dedup();
        assert_eq!(a3.len(), 249);
        for c in list {
            assert!(
                c.alpha3.len() == 3 && c.alpha3.bytes().all(|b| b.is_ascii_uppercase()),
                "{c:?}"
            );
            assert!(
                c.code.len() == 3 && c.code.bytes().all(|b| b.is_ascii_digit()),
                "{c:?}"
            );
            assert!(c.alpha2.is_empty() || c.alpha2.len() == 2, "{c:?}");
            assert!(!c.name.is_empty());
        }
        let ng = by_alpha3("NGA").unwrap();
        assert_eq!(
            (ng.name.as_str(), ng.code.as_str(), ng.alpha2.as_str()),
            ("Nigeria", "566", "NG")
        );
        assert_eq!(by_alpha2("US").unwrap().name, "United States of America");
        assert_eq!(
            by_alpha3("BES").unwrap().name,
            "Bonaire, Sint Eustatius and Saba"
        );
        assert!(by_alpha2("").is_none());
        assert_eq!(list.iter().filter(|c| c.alpha2.is_empty()).count(), 6);
    }
}
