//! WBXML global tokens and the SyncML DM tag tables (facts §12.2–§12.5).

use crate::dom::{NS_DMDDF12, NS_METINF};

/// `SWITCH_PAGE`: the next byte is the new tag code page. Facts §12.2.
pub const SWITCH_PAGE: u8 = 0x00;
/// `END`: closes the innermost open element. Facts §12.2.
pub const END: u8 = 0x01;
/// `ENTITY`: an mb_u_int32 Unicode code point follows. Facts §12.2.
pub const ENTITY: u8 = 0x02;
/// `STR_I`: an inline NUL-terminated string follows. Facts §12.2.
pub const STR_I: u8 = 0x03;
/// `LITERAL`: a tag without content or attributes, named by a string-table index. Facts §12.2.
pub const LITERAL: u8 = 0x04;
/// `EXT_I_0`: inline-string extension 0. Facts §12.2.
pub const EXT_I_0: u8 = 0x40;
/// `EXT_I_1`: inline-string extension 1. Facts §12.2.
pub const EXT_I_1: u8 = 0x41;
/// `EXT_I_2`: inline-string extension 2. Facts §12.2.
pub const EXT_I_2: u8 = 0x42;
/// `PI`: processing instruction. Facts §12.2.
pub const PI: u8 = 0x43;
/// `LITERAL_C`: a literal tag with content. Facts §12.2.
pub const LITERAL_C: u8 = 0x44;
/// `EXT_T_0`: string-table-reference extension 0. Facts §12.2.
pub const EXT_T_0: u8 = 0x80;
/// `EXT_T_1`: string-table-reference extension 1. Facts §12.2.
pub const EXT_T_1: u8 = 0x81;
/// `EXT_T_2`: string-table-reference extension 2. Facts §12.2.
pub const EXT_T_2: u8 = 0x82;
/// `STR_T`: a string-table reference (mb_u_int32 index) follows. Facts §12.2.
pub const STR_T: u8 = 0x83;
/// `LITERAL_A`: a literal tag with attributes. Facts §12.2.
pub const LITERAL_A: u8 = 0x84;
/// `EXT_0`: single-byte extension 0. Facts §12.2.
pub const EXT_0: u8 = 0xC0;
/// `EXT_1`: single-byte extension 1. Facts §12.2.
pub const EXT_1: u8 = 0xC1;
/// `EXT_2`: single-byte extension 2. Facts §12.2.
pub const EXT_2: u8 = 0xC2;
/// `OPAQUE`: an mb_u_int32 length and that many raw bytes follow. Facts §12.2.
pub const OPAQUE: u8 = 0xC3;
/// `LITERAL_AC`: a literal tag with attributes and content. Facts §12.2.
pub const LITERAL_AC: u8 = 0xC4;

/// Tag-token bit: the element has content (children and a closing `END`). Facts §12.2.
pub const TAG_HAS_CONTENT: u8 = 0x40;
/// Tag-token bit: the element has attributes (never used by SyncML). Facts §12.2.
pub const TAG_HAS_ATTRIBUTES: u8 = 0x80;
/// Mask selecting the tag identity from a tag token. Facts §12.2.
pub const TAG_ID_MASK: u8 = 0x3F;

/// Code page 0, SyncML. Facts §12.3.
pub const PAGE_SYNCML: u8 = 0;
/// Code page 1, MetInf. Facts §12.4.
pub const PAGE_METINF: u8 = 1;
/// Code page 2, DM DDF / TNDS. Facts §12.5.
pub const PAGE_DMDDF: u8 = 2;

/// Code page 0 (SyncML) tags, starting at token 0x05; `None` marks the reserved 0x30.
/// Facts §12.3.
const PAGE0: [Option<&str>; 56] = [
    Some("Add"),             // 05
    Some("Alert"),           // 06
    Some("Archive"),         // 07
    Some("Atomic"),          // 08
    Some("Chal"),            // 09
    Some("Cmd"),             // 0A
    Some("CmdID"),           // 0B
    Some("CmdRef"),          // 0C
    Some("Copy"),            // 0D
    Some("Cred"),            // 0E
    Some("Data"),            // 0F
    Some("Delete"),          // 10
    Some("Exec"),            // 11
    Some("Final"),           // 12
    Some("Get"),             // 13
    Some("Item"),            // 14
    Some("Lang"),            // 15
    Some("LocName"),         // 16
    Some("LocURI"),          // 17
    Some("Map"),             // 18
    Some("MapItem"),         // 19
    Some("Meta"),            // 1A
    Some("MsgID"),           // 1B
    Some("MsgRef"),          // 1C
    Some("NoResp"),          // 1D
    Some("NoResults"),       // 1E
    Some("Put"),             // 1F
    Some("Replace"),         // 20
    Some("RespURI"),         // 21
    Some("Results"),         // 22
    Some("Search"),          // 23
    Some("Sequence"),        // 24
    Some("SessionID"),       // 25
    Some("SftDel"),          // 26
    Some("Source"),          // 27
    Some("SourceRef"),       // 28
    Some("Status"),          // 29
    Some("Sync"),            // 2A
    Some("SyncBody"),        // 2B
    Some("SyncHdr"),         // 2C
    Some("SyncML"),          // 2D
    Some("Target"),          // 2E
    Some("TargetRef"),       // 2F
    None,                    // 30 reserved
    Some("VerDTD"),          // 31
    Some("VerProto"),        // 32
    Some("NumberOfChanges"), // 33
    Some("MoreData"),        // 34
    Some("Field"),           // 35
    Some("Filter"),          // 36
    Some("Record"),          // 37
    Some("FilterType"),      // 38
    Some("SourceParent"),    // 39
    Some("TargetParent"),    // 3A
    Some("Move"),            // 3B
    Some("Correlator"),      // 3C
];

/// Code page 1 (MetInf) tags, starting at token 0x05. Facts §12.4.
const PAGE1: [Option<&str>; 18] = [
    Some("Anchor"),     // 05
    Some("EMI"),        // 06
    Some("Format"),     // 07
    Some("FreeID"),     // 08
    Some("FreeMem"),    // 09
    Some("Last"),       // 0A
    Some("Mark"),       // 0B
    Some("MaxMsgSize"), // 0C
    Some("Mem"),        // 0D
    Some("MetInf"),     // 0E
    Some("Next"),       // 0F
    Some("NextNonce"),  // 10
    Some("SharedMem"),  // 11
    Some("Size"),       // 12
    Some("Type"),       // 13
    Some("Version"),    // 14
    Some("MaxObjSize"), // 15
    Some("FieldLevel"), // 16
];

/// Code page 2 (DM DDF / TNDS) tags, starting at token 0x05. Facts §12.5.
const PAGE2: [Option<&str>; 56] = [
    Some("AccessType"),   // 05
    Some("ACL"),          // 06
    Some("Add"),          // 07
    Some("b64"),          // 08
    Some("bin"),          // 09
    Some("bool"),         // 0A
    Some("chr"),          // 0B
    Some("CaseSense"),    // 0C
    Some("CIS"),          // 0D
    Some("Copy"),         // 0E
    Some("CS"),           // 0F
    Some("date"),         // 10
    Some("DDFName"),      // 11
    Some("DefaultValue"), // 12
    Some("Delete"),       // 13
    Some("Description"),  // 14
    Some("DFFormat"),     // 15
    Some("DFProperties"), // 16
    Some("DFTitle"),      // 17
    Some("DFType"),       // 18
    Some("Dynamic"),      // 19
    Some("Exec"),         // 1A
    Some("float"),        // 1B
    Some("Format"),       // 1C
    Some("Get"),          // 1D
    Some("int"),          // 1E
    Some("Man"),          // 1F
    Some("MgmtTree"),     // 20
    Some("MIME"),         // 21
    Some("Mod"),          // 22
    Some("Name"),         // 23
    Some("Node"),         // 24
    Some("node"),         // 25
    Some("NodeName"),     // 26
    Some("null"),         // 27
    Some("Occurrence"),   // 28
    Some("One"),          // 29
    Some("OneOrMore"),    // 2A
    Some("OneOrN"),       // 2B
    Some("Path"),         // 2C
    Some("Permanent"),    // 2D
    Some("Replace"),      // 2E
    Some("RTProperties"), // 2F
    Some("Scope"),        // 30
    Some("Size"),         // 31
    Some("time"),         // 32
    Some("Title"),        // 33
    Some("TStamp"),       // 34
    Some("Type"),         // 35
    Some("Value"),        // 36
    Some("VerDTD"),       // 37
    Some("VerNo"),        // 38
    Some("xml"),          // 39
    Some("ZeroOrMore"),   // 3A
    Some("ZeroOrN"),      // 3B
    Some("ZeroOrOne"),    // 3C
];

/// First tag token of every page (0x00–0x04 are global tokens). Facts §12.2.
const FIRST_TAG: u8 = 0x05;

fn table(page: u8) -> Option<&'static [Option<&'static str>]> {
    match page {
        PAGE_SYNCML => Some(&PAGE0),
        PAGE_METINF => Some(&PAGE1),
        PAGE_DMDDF => Some(&PAGE2),
        _ => None,
    }
}

/// True for the code pages this codec knows (0, 1, 2).
pub fn page_known(page: u8) -> bool {
    table(page).is_some()
}

/// The tag name for a tag identity (token without the 0x40/0x80 bits) on a code page.
pub fn tag_name(page: u8, id: u8) -> Option<&'static str> {
    let idx = usize::from(id.checked_sub(FIRST_TAG)?);
    table(page)?.get(idx).copied().flatten()
}

/// The tag identity (without the 0x40/0x80 bits) for a name on a code page.
pub fn tag_token(page: u8, name: &str) -> Option<u8> {
    let tbl = table(page)?;
    let idx = tbl.iter().position(|n| *n == Some(name))?;
    u8::try_from(idx).ok().map(|i| i + FIRST_TAG)
}

/// All tag names of a code page, in token order (used by tests and generators).
pub fn page_names(page: u8) -> Vec<&'static str> {
    table(page)
        .map(|t| t.iter().flatten().copied().collect())
        .unwrap_or_default()
}

/// The namespace a non-SyncML code page implies (page 0 depends on the public id).
/// Facts §12.6.
pub fn fixed_page_namespace(page: u8) -> Option<&'static str> {
    match page {
        PAGE_METINF => Some(NS_METINF),
        PAGE_DMDDF => Some(NS_DMDDF12),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn spot_checks_from_facts_12_3_to_12_5() {
        // facts §12.3
        assert_eq!(tag_name(0, 0x05), Some("Add"));
        assert_eq!(tag_name(0, 0x2D), Some("SyncML"));
        assert_eq!(tag_name(0, 0x30), None);
        assert_eq!(tag_name(0, 0x31), Some("VerDTD"));
        assert_eq!(tag_name(0, 0x3C), Some("Correlator"));
        assert_eq!(tag_name(0, 0x3D), None);
        // facts §12.4
        assert_eq!(tag_name(1, 0x0C), Some("MaxMsgSize"));
        assert_eq!(tag_name(1, 0x16), Some("FieldLevel"));
        assert_eq!(tag_name(1, 0x17), None);
        // facts §12.5
        assert_eq!(tag_name(2, 0x20), Some("MgmtTree"));
        assert_eq!(tag_name(2, 0x24), Some("Node"));
        assert_eq!(tag_name(2, 0x25), Some("node"));
        assert_eq!(tag_name(2, 0x3C), Some("ZeroOrOne"));
        assert_eq!(tag_name(3, 0x05), None);
        assert_eq!(tag_name(0, 0x04), None);
    }

    #[test]
    fn tables_are_bijective() {
        for page in 0..3 {
            for name in page_names(page) {
                let tok = tag_token(page, name).unwrap();
                assert_eq!(tag_name(page, tok), Some(name));
            }
        }
        assert_eq!(page_names(0).len(), 55);
        assert_eq!(page_names(1).len(), 18);
        assert_eq!(page_names(2).len(), 56);
    }
}
