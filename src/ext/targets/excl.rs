//! Option exclusions checked after the last option, as libxtables'
//! `xtables_options_fcheck` does: the first given option (in option-table
//! order) that excludes another given option (in option-id order) is named
//! in `EXT: option "--A" cannot be used together with "--B".`

use crate::ext::spec::{ExtError, ExtResult};

/// One option of the table: its name, its id (the `O_*` enum value), and the
/// ids it excludes.
#[derive(Debug, Clone, Copy)]
pub struct Excl {
    pub name: &'static str,
    pub id: u8,
    pub excludes: &'static [u8],
}

/// `table` in option-table order; `given` holds the names that were used.
pub fn check(ext: &str, table: &[Excl], given: &[&str]) -> ExtResult {
    let set = |id: u8| table.iter().any(|e| e.id == id && given.contains(&e.name));
    for e in table.iter().filter(|e| given.contains(&e.name)) {
        let mut others: Vec<&Excl> = table
            .iter()
            .filter(|o| o.id != e.id && e.excludes.contains(&o.id) && set(o.id))
            .collect();
        others.sort_by_key(|o| o.id);
        if let Some(o) = others.first() {
            return Err(ExtError::new(format!(
                "{ext}: option \"--{}\" cannot be used together with \"--{}\".",
                e.name, o.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[Excl] = &[
        Excl {
            name: "b",
            id: 1,
            excludes: &[0],
        },
        Excl {
            name: "a",
            id: 0,
            excludes: &[1],
        },
        Excl {
            name: "c",
            id: 2,
            excludes: &[],
        },
    ];

    #[test]
    fn table_order_names_first() {
        assert!(check("X", T, &["a", "c"]).is_ok());
        let e = check("X", T, &["a", "b"]).unwrap_err();
        assert_eq!(
            e.message,
            "X: option \"--b\" cannot be used together with \"--a\"."
        );
    }
}
