//! `-j LED` (libxt_LED.c, xt_LED.c): blinks an LED trigger named
//! `netfilter-ID`. 1.8.9 parses it, but the reference kernel has no xt_LED,
//! so every rule using it fails to load.

use super::dnat::must_have;
use super::unsupported::not_in_kernel;
use crate::ext::facts::{Effects, Facts};
use crate::ext::matches::tcp::unreachable_option;
use crate::ext::spec::{ExtResult, OptCall, OptSpec};
use crate::ext::value::strtoul;
use crate::ext::TargetResult;
use crate::ext::{CheckCtx, RuleCtx, TargetDef};
use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Led {
    /// The ID without the `netfilter-` prefix the kernel sees.
    pub id: Option<String>,
    /// Milliseconds; `u32::MAX` is `inf` (-1 in the kernel structure).
    pub delay: u32,
    pub always_blink: bool,
}

impl TargetDef for Led {
    const NAME: &'static str = "LED";
    const OPTIONS: &'static [OptSpec] = &[
        OptSpec::req("led-trigger-id"),
        OptSpec::req("led-delay"),
        OptSpec::flag("led-always-blink"),
    ];

    fn parse(&mut self, call: &OptCall, _ctx: &RuleCtx) -> ExtResult {
        match call.key {
            "led-trigger-id" => {
                // char id[27] holds "netfilter-" and the NUL.
                if call.arg().len() > 16 {
                    return Err(call.err("Argument must have a maximum length of 16 characters"));
                }
                self.id = Some(call.arg().to_string());
            }
            "led-delay" => {
                self.delay = if call.arg() == "inf" {
                    u32::MAX
                } else {
                    strtoul(call.arg(), 0, u64::from(u32::MAX))
                        .ok_or_else(|| call.err("Delay value must be within range 0..4294967295"))?
                        as u32
                };
            }
            "led-always-blink" => self.always_blink = true,
            _ => unreachable_option(call)?,
        }
        Ok(())
    }

    fn finalize(&mut self, _ctx: &RuleCtx) -> ExtResult {
        must_have(self.id.is_some(), "LED", "led-trigger-id")
    }

    fn check(&self, _ctx: &CheckCtx) -> ExtResult {
        not_in_kernel("LED", "nothing replaces it in iptables")
    }

    /// No effect a later rule or the verdict could see: XT_CONTINUE.
    fn run(&self, _f: &Facts, _fx: &mut Effects) -> TargetResult {
        TargetResult::Continue
    }

    /// `LED_print`: the ID quoted and escaped, the delay in ms (`%d`, so
    /// `inf` is the -1 the kernel structure holds).
    fn list(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" led-trigger-id:\"");
        for c in self.id.as_deref().unwrap_or("").chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        if self.delay == u32::MAX {
            out.push_str(" led-delay:inf");
        } else {
            let _ = write!(out, " led-delay:{}ms", self.delay as i32);
        }
        if self.always_blink {
            out.push_str(" led-always-blink");
        }
    }

    fn save(&self, _ctx: &RuleCtx, out: &mut String) {
        out.push_str(" --led-trigger-id \"");
        for c in self.id.as_deref().unwrap_or("").chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        match self.delay {
            0 => {}
            u32::MAX => out.push_str(" --led-delay inf"),
            d => {
                let _ = write!(out, " --led-delay {d}");
            }
        }
        if self.always_blink {
            out.push_str(" --led-always-blink");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::targets::fmt_rule;

    #[test]
    fn parses_but_the_kernel_refuses() {
        let f = |r| fmt_rule("filter", "INPUT", r);
        assert!(f("-j LED --led-trigger-id foo")
            .unwrap_err()
            .contains("not supported"));
        assert!(f("-j LED").unwrap_err().contains("must be specified"));
        assert!(f("-j LED --led-trigger-id foo --led-delay -1")
            .unwrap_err()
            .contains("Delay"));
        let led = Led {
            id: Some("f\"o".into()),
            delay: 42,
            always_blink: true,
        };
        let mut s = String::new();
        led.save(&RuleCtx::default(), &mut s);
        assert_eq!(
            s,
            " --led-trigger-id \"f\\\"o\" --led-delay 42 --led-always-blink"
        );
    }
}
