//! Finding OTPs: the API's search (pages by offset, or after a known OTP) and the console's
//! keyset walk (newer/older by position), over the same filters.
use super::{OtpError, OtpField, OtpResult, OtpService};
use crate::domain::{OtpSid, Problem};
use crate::server::db::otps::search::{self as store, Cursor, Seek};
use crate::server::services::paging::{Listed, PageRequest};
use crate::server::services::AccountScope;

pub use crate::server::db::otps::search::OtpFilter;
pub use store::{Cursor as Position, Seek as Walk};

/// Which page of a search.
#[derive(Debug, Clone)]
pub enum SearchPage {
    /// By offset.
    Page(PageRequest),
    /// The `size` OTPs after this one (the last of the previous page), found by position so
    /// that deep pages cost what the first does.
    After { after: String, size: i64 },
}

pub async fn search(
    svc: &OtpService,
    scope: &AccountScope,
    filter: &OtpFilter,
    page: SearchPage,
) -> OtpResult<Listed<crate::domain::Otp>> {
    match page {
        SearchPage::Page(p) => {
            let (items, total, capped) =
                store::page(svc.db(), scope.sid(), filter, p.size, p.offset()).await?;
            Ok(Listed {
                items,
                total,
                capped,
            })
        }
        SearchPage::After { after, size } => {
            let bad = || {
                OtpError::Invalid {
                field: OtpField::After,
                problem: Problem::says(
                    "must be the requestID of an OTP of this account (the last one of the previous page).",
                ),
            }
            };
            let sid = OtpSid::parse(after.trim()).map_err(|_| bad())?;
            let cursor = store::cursor_of(svc.db(), scope.sid(), &sid)
                .await?
                .ok_or_else(bad)?;
            let (items, _) =
                store::keyset(svc.db(), scope.sid(), filter, &Seek::Older(cursor), size).await?;
            // Counted (up to the cap), not derived from the page number (which the client may
            // have sent stale).
            let (total, capped) = store::count(svc.db(), scope.sid(), filter).await?;
            Ok(Listed {
                items,
                total,
                capped,
            })
        }
    }
}

/// One page of a keyset walk and whether there are more beyond it in that direction.
pub async fn walk(
    svc: &OtpService,
    scope: &AccountScope,
    filter: &OtpFilter,
    seek: &Seek,
    size: i64,
) -> OtpResult<(Vec<crate::domain::Otp>, bool)> {
    Ok(store::keyset(svc.db(), scope.sid(), filter, seek, size).await?)
}

/// How many OTPs match, counted up to `cap`.
pub async fn count_capped(
    svc: &OtpService,
    scope: &AccountScope,
    filter: &OtpFilter,
    cap: i64,
) -> OtpResult<i64> {
    Ok(store::count_capped(svc.db(), scope.sid(), filter, cap).await?)
}

/// The position just past `otp` in the newest-first order.
pub fn position_of(otp: &crate::domain::Otp) -> Cursor {
    Cursor::of(otp)
}
