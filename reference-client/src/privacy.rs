//! The user's consent before the installed-application list leaves the device
//! (DMRD-6.1.4-16: not sent unless the user enabled it or agreed when asked; docs/scomo.md
//! "Inventory consent", a project-defined mechanism).
//!
//! The list is the SCOMO inventory, `./SCOMO/Inventory` (facts §10.1): its child lists and
//! leaves name every installed and delivered component. A Get of that subtree, or a
//! `?list=` query of one of its ancestors (which would include it), needs consent:
//! - `granted`: the user enabled reporting in the device's settings;
//! - `ask` (default): the user is asked once per session (or schedule run) with a
//!   confirmation (1101) answered by the UI policy; a device without UI cannot ask, so the
//!   answer is no;
//! - `refused`: the user disabled it.
//!
//! Without consent the Get is answered **425** (permission denied, facts §4.4: the device
//! withholds the data) and carries no Results.

use dm_protocol::codes::StatusCode;
use serde::{Deserialize, Serialize};

/// `[scomo] inventory_consent`: what the user said about reporting the installed
/// applications.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InventoryConsent {
    /// Reporting is enabled in the device's settings.
    Granted,
    /// The user is asked (a confirmation through the UI policy) at the first read of a
    /// session.
    #[default]
    Ask,
    /// Reporting is disabled: every read is refused.
    Refused,
}

/// The inventory's root: the installed-application list.
pub const INVENTORY: &str = "./SCOMO/Inventory";

/// The question the user is asked (the text of the 1101 confirmation).
pub const QUESTION: &str = "Send the list of applications installed on this device to the server?";

/// Whether a Get of `node` (canonical) would disclose the inventory: the inventory or a
/// node below it, or an ancestor of it with a `?list=` query.
pub fn discloses_inventory(node: &str, listing: bool) -> bool {
    let within = |a: &str, b: &str| a == b || a.strip_prefix(b).is_some_and(|r| r.starts_with('/'));
    within(node, INVENTORY) || (listing && within(INVENTORY, node))
}

/// The gate of one session or schedule run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InventoryGate {
    /// The user's setting.
    pub consent: InventoryConsent,
    /// Fault injection (`[faults] report_inventory_without_consent`): never withhold.
    pub ignore: bool,
    /// The answer the user gave in this session, once asked.
    pub answered: Option<bool>,
}

impl InventoryGate {
    /// A gate for `consent`, nothing asked yet.
    pub fn new(consent: InventoryConsent, ignore: bool) -> Self {
        InventoryGate {
            consent,
            ignore,
            answered: None,
        }
    }

    /// The status a Get of `node` gets instead of its data, if any; `ask` is called (once
    /// per gate) to put the question to the user and says whether they agreed.
    pub fn check(
        &mut self,
        node: &str,
        listing: bool,
        ask: impl FnOnce() -> bool,
    ) -> Option<StatusCode> {
        if self.ignore || !discloses_inventory(node, listing) {
            return None;
        }
        let agreed = match self.consent {
            InventoryConsent::Granted => true,
            InventoryConsent::Refused => false,
            InventoryConsent::Ask => *self.answered.get_or_insert_with(ask),
        };
        (!agreed).then_some(StatusCode::PermissionDenied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inventory_and_listings_above_it_need_consent() {
        assert!(discloses_inventory("./SCOMO/Inventory", false));
        assert!(discloses_inventory(
            "./SCOMO/Inventory/Deployed/av/Name",
            false
        ));
        assert!(discloses_inventory("./SCOMO", true));
        assert!(discloses_inventory(".", true));
        assert!(!discloses_inventory("./SCOMO", false), "child names only");
        assert!(!discloses_inventory("./SCOMO/InventoryX", false));
        assert!(!discloses_inventory("./SCOMO/Download", true));
        assert!(!discloses_inventory("./DevInfo", true));
    }

    #[test]
    fn the_user_is_asked_once_and_settings_decide_without_asking() {
        let mut asked = 0;
        let mut gate = InventoryGate::new(InventoryConsent::Ask, false);
        for _ in 0..2 {
            let code = gate.check("./SCOMO/Inventory", false, || {
                asked += 1;
                false
            });
            assert_eq!(code, Some(StatusCode::PermissionDenied));
        }
        assert_eq!(asked, 1);
        assert_eq!(gate.check("./DevInfo/Man", false, || unreachable!()), None);
        let mut granted = InventoryGate::new(InventoryConsent::Granted, false);
        assert_eq!(granted.check(INVENTORY, false, || unreachable!()), None);
        let mut refused = InventoryGate::new(InventoryConsent::Refused, false);
        assert_eq!(
            refused.check(INVENTORY, false, || unreachable!()),
            Some(StatusCode::PermissionDenied)
        );
        let mut faulty = InventoryGate::new(InventoryConsent::Refused, true);
        assert_eq!(faulty.check(INVENTORY, false, || unreachable!()), None);
    }
}
