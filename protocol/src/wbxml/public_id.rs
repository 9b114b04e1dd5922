//! WBXML document public identifiers (facts §12.1).

use crate::dom::{NS_DMDDF12, NS_METINF, NS_SYNCML11, NS_SYNCML12};

/// The SyncML 1.0 namespace (only reachable through public id 0x0FD1).
pub const NS_SYNCML10: &str = "SYNCML:SYNCML1.0";

/// FPI of SyncML 1.2 documents. Facts §1.1, §12.1.
pub const FPI_SYNCML12: &str = "-//SYNCML//DTD SyncML 1.2//EN";
/// FPI of SyncML 1.1 documents. Facts §12.1.
pub const FPI_SYNCML11: &str = "-//SYNCML//DTD SyncML 1.1//EN";
/// FPI of SyncML 1.0 documents. Facts §12.1.
pub const FPI_SYNCML10: &str = "-//SYNCML//DTD SyncML 1.0//EN";
/// FPI of DDF and TNDS documents, which have no numeric public id. Facts §9.1, §12.1.
pub const FPI_DMDDF12: &str = "-//OMA//DTD-DM-DDF 1.2//EN";
/// FPI spelling used for MetInf 1.2 (libwbxml's spelling). Facts §12.1.
pub const FPI_METINF12: &str = "-//SYNCML//DTD MetInf 1.2//EN";

/// Numeric public id of SyncML 1.0. Facts §12.1.
pub const ID_SYNCML10: u32 = 0x0FD1;
/// Numeric public id of DevInf 1.0. Facts §12.1.
pub const ID_DEVINF10: u32 = 0x0FD2;
/// Numeric public id of SyncML 1.1. Facts §12.1.
pub const ID_SYNCML11: u32 = 0x0FD3;
/// Numeric public id of DevInf 1.1. Facts §12.1.
pub const ID_DEVINF11: u32 = 0x0FD4;
/// Numeric public id of SyncML 1.2. Facts §12.1.
pub const ID_SYNCML12: u32 = 0x1201;
/// Numeric public id of MetInf 1.2. Facts §12.1.
pub const ID_METINF12: u32 = 0x1202;
/// Numeric public id of DevInf 1.2. Facts §12.1.
pub const ID_DEVINF12: u32 = 0x1203;

/// A WBXML document's public identifier: numeric, or a literal FPI kept in the string table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PublicId {
    /// A numeric public id (`0x1201` SyncML 1.2, `0x0FD3` SyncML 1.1, ...). `1` means
    /// "unknown" in WBXML.
    Known(u32),
    /// A literal formal public identifier, e.g. [`FPI_DMDDF12`] for TNDS/DDF documents.
    Literal(String),
}

impl PublicId {
    /// The SyncML 1.2 public id, 0x1201.
    pub const SYNCML12: PublicId = PublicId::Known(ID_SYNCML12);
    /// The SyncML 1.1 public id, 0x0FD3.
    pub const SYNCML11: PublicId = PublicId::Known(ID_SYNCML11);

    /// The literal public id of DDF/TNDS documents (facts §12.1).
    pub fn dmddf12() -> PublicId {
        PublicId::Literal(FPI_DMDDF12.to_owned())
    }

    /// The FPI this public id stands for, when known.
    pub fn fpi(&self) -> Option<&str> {
        match self {
            PublicId::Literal(s) => Some(s),
            PublicId::Known(id) => known_fpi(*id),
        }
    }

    /// The namespace of code page 0 (SyncML) in a document with this public id: SyncML 1.1
    /// for 0x0FD3 and its FPI, 1.0 for 0x0FD1 and its FPI, otherwise SyncML 1.2.
    pub fn syncml_namespace(&self) -> &'static str {
        match self.fpi() {
            Some(FPI_SYNCML11) => NS_SYNCML11,
            Some(FPI_SYNCML10) => NS_SYNCML10,
            _ => NS_SYNCML12,
        }
    }

    /// The namespace the root element is expected to have: `syncml:dmddf1.2` for the DDF FPI,
    /// `syncml:metinf` for MetInf, otherwise [`Self::syncml_namespace`].
    pub fn root_namespace(&self) -> &'static str {
        match self.fpi() {
            Some(FPI_DMDDF12) => NS_DMDDF12,
            Some(FPI_METINF12) => NS_METINF,
            _ => self.syncml_namespace(),
        }
    }
}

/// The FPI of a numeric public id from facts §12.1.
pub fn known_fpi(id: u32) -> Option<&'static str> {
    Some(match id {
        ID_SYNCML10 => FPI_SYNCML10,
        ID_DEVINF10 => "-//SYNCML//DTD DevInf 1.0//EN",
        ID_SYNCML11 => FPI_SYNCML11,
        ID_DEVINF11 => "-//SYNCML//DTD DevInf 1.1//EN",
        ID_SYNCML12 => FPI_SYNCML12,
        ID_METINF12 => FPI_METINF12,
        ID_DEVINF12 => "-//SYNCML//DTD DevInf 1.2//EN",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_map_to_fpis_and_namespaces() {
        // facts §12.1
        assert_eq!(PublicId::SYNCML12.fpi(), Some(FPI_SYNCML12));
        assert_eq!(PublicId::SYNCML12.syncml_namespace(), NS_SYNCML12);
        assert_eq!(PublicId::SYNCML11.syncml_namespace(), NS_SYNCML11);
        assert_eq!(PublicId::Known(0x0FD1).syncml_namespace(), NS_SYNCML10);
        assert_eq!(PublicId::Known(0x1202).root_namespace(), NS_METINF);
        assert_eq!(PublicId::Known(1).fpi(), None);
        assert_eq!(PublicId::Known(1).syncml_namespace(), NS_SYNCML12);
    }

    #[test]
    fn literal_ids() {
        assert_eq!(PublicId::dmddf12().root_namespace(), NS_DMDDF12);
        assert_eq!(PublicId::dmddf12().syncml_namespace(), NS_SYNCML12);
        let l11 = PublicId::Literal(FPI_SYNCML11.into());
        assert_eq!(l11.root_namespace(), NS_SYNCML11);
    }
}
