//! The sandbox outbox: what the sandbox provider delivered, newest first. With a wait, an empty
//! answer is held until a matching message arrives or the time is up (a long poll: tests and
//! integrators read the code as soon as it is delivered, without polling). A message stored by
//! this process wakes the readers waiting for its OTP (or its account, when they did not name an
//! OTP); messages stored by other instances are seen within 250 ms.
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
    let look = || async {
        let (items, total, capped) =
            sandbox::list(svc.db(), scope.sid(), filter, page.size, page.offset()).await?;
        OtpResult::Ok(Listed {
            items,
            total,
            capped,
        })
    };
    if wait.is_zero() {
        return look().await;
    }
    let watch = svc
        .signals()
        .watch(filter.request_id.as_deref().unwrap_or(scope.sid().as_str()));
    loop {
        // Listen before looking, so a message stored between the two is not missed.
        let notified = watch.stored();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let listed = look().await?;
        let now = Instant::now();
        if !listed.items.is_empty() || now >= deadline {
            return Ok(listed);
        }
        let nap = (deadline - now).min(Duration::from_millis(250));
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(nap) => {}
        }
    }
}
