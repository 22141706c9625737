//! The refusal for targets that iptables 1.8.9 parses but the reference
//! kernel does not provide (`xt_LED` is not built, `ipt_ULOG` was removed in
//! Linux 3.17): loading the rule fails with iptables' warning.

use crate::ext::spec::{ExtError, ExtResult};

pub fn not_in_kernel(name: &str, instead: &str) -> ExtResult {
    Err(ExtError::new(format!(
        "Extension {name} revision 0 not supported, missing kernel module?"
    ))
    .help(format!("the kernel has no {name} target; {instead}")))
}
