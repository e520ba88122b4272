//! The scrape's response body: it holds the scrape's permit until the last
//! byte has been handed to the connection, so that at most
//! `max_concurrent_scrapes` expositions are in memory however slowly the
//! scrapers read.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;

/// Small enough that the connection's write buffer (hyper's is about
/// 400 KiB) holds few chunks; large enough that the copy costs little
/// next to rendering.
const CHUNK: usize = 64 * 1024;

pub(crate) struct ScrapeBody {
    text: String,
    sent: usize,
    permit: Option<OwnedSemaphorePermit>,
}

impl ScrapeBody {
    pub(crate) fn new(text: String, permit: OwnedSemaphorePermit) -> Self {
        Self {
            text,
            sent: 0,
            permit: Some(permit),
        }
    }
}

impl http_body::Body for ScrapeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.sent >= this.text.len() {
            this.text = String::new();
            this.sent = 0;
            this.permit = None;
            return Poll::Ready(None);
        }
        let end = (this.sent + CHUNK).min(this.text.len());
        // Copied, not `Bytes::slice`d: a slice would keep the whole text
        // alive until the connection wrote its last byte, after the permit
        // had been released.
        let chunk = Bytes::copy_from_slice(&this.text.as_bytes()[this.sent..end]);
        this.sent = end;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    // `is_end_stream` stays `false` until the end: a `true` would let hyper
    // drop the body, and release the permit, with the last chunk unwritten.

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.text.len() - self.sent) as u64)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http_body::Body as _;
    use tokio::sync::Semaphore;

    use super::*;

    #[test]
    fn yields_the_text_in_chunks_then_releases_the_permit() {
        let permits = Arc::new(Semaphore::new(1));
        let text = "x".repeat(CHUNK * 2 + 7);
        let mut body = ScrapeBody::new(text.clone(), permits.clone().try_acquire_owned().unwrap());
        struct NoWake;
        impl std::task::Wake for NoWake {
            fn wake(self: Arc<Self>) {}
        }
        let waker = std::task::Waker::from(Arc::new(NoWake));
        let mut cx = Context::from_waker(&waker);
        let mut out = Vec::new();
        loop {
            assert_eq!(
                body.size_hint().exact(),
                Some((text.len() - out.len()) as u64)
            );
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    assert_eq!(permits.available_permits(), 0, "released before the end");
                    out.extend_from_slice(&frame.into_data().unwrap());
                }
                Poll::Ready(None) => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(out, text.as_bytes());
        assert_eq!(permits.available_permits(), 1);
        assert_eq!(body.size_hint().exact(), Some(0));
    }
}
