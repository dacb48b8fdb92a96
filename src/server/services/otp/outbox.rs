//! The sandbox outbox: what the sandbox provider delivered, newest first. With a wait, an empty
//! answer is held until a matching message arrives or the time is up (a long poll: tests and
//! integrators read the code as soon as it is delivered, without polling). Deliveries by this
//! process wake the waiters; deliveries by other instances are seen within 250 ms.
use super::{OtpResult, OtpService};
use crate::domain::delivery::OutboxMessage;
use crate::server::db::sandbox;
use crate::server::services::paging::{Listed, PageRequest};
use crate::server::services::AccountScope;
use std::time::{Duration, Instant};

pub use sandbox::OutboxFilter;

pub async fn messages(
    svc: &OtpService,
    scope: &AccountScope,
    filter: &OutboxFilter,
    page: PageRequest,
    wait: Duration,
) -> OtpResult<Listed<OutboxMessage>> {
    let deadline = Instant::now() + wait;
    loop {
        // Listen before looking, so a delivery between the two is not missed.
        let notified = svc.signals().delivery();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (items, total, capped) =
            sandbox::list(svc.db(), scope.sid(), filter, page.size, page.offset()).await?;
        let now = Instant::now();
        if !items.is_empty() || now >= deadline {
            return Ok(Listed {
                items,
                total,
                capped,
            });
        }
        let nap = (deadline - now).min(Duration::from_millis(250));
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(nap) => {}
        }
    }
}
