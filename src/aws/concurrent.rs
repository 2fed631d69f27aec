//! Bounded concurrency on the process's one current-thread runtime: `n` workers take
//! items from a shared queue, each awaiting its own AWS calls while the others proceed.
//! No threads and no `Send` bounds: grantors and the store stay single-threaded.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// Run `work` on every item with at most `n` at once; stops taking new items once
/// `keep_going` says no (the items left are returned, in order).
pub async fn for_each<T, F, Fut>(
    items: Vec<T>,
    n: usize,
    keep_going: impl Fn() -> bool,
    work: F,
) -> Vec<T>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = ()>,
{
    let queue = RefCell::new(VecDeque::from(items));
    let worker = || async {
        loop {
            if !keep_going() {
                return;
            }
            let next = queue.borrow_mut().pop_front();
            match next {
                Some(item) => work(item).await,
                None => return,
            }
        }
    };
    let workers: Vec<_> = (0..n.max(1)).map(|_| worker()).collect();
    join_all(workers).await;
    queue.into_inner().into()
}

/// A future still running, or its output.
type Slot<F> = (Option<Pin<Box<F>>>, Option<<F as Future>::Output>);

/// Await every future; polls all of them on each wake (there are only a few).
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut slots: Vec<Slot<F>> = futures
        .into_iter()
        .map(|f| (Some(Box::pin(f)), None))
        .collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (fut, out) in slots.iter_mut() {
            if let Some(f) = fut {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *fut = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    slots.into_iter().filter_map(|(_, out)| out).collect()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    }

    #[test]
    fn runs_at_most_n_at_once_and_every_item_once() {
        let (now, most, done) = (Cell::new(0), Cell::new(0), Cell::new(0));
        let left = rt().block_on(super::for_each(
            (0..20).collect(),
            4,
            || true,
            |_: u32| async {
                now.set(now.get() + 1);
                most.set(most.get().max(now.get()));
                tokio::time::sleep(Duration::from_millis(5)).await;
                now.set(now.get() - 1);
                done.set(done.get() + 1);
            },
        ));
        assert!(left.is_empty());
        assert_eq!(done.get(), 20);
        assert_eq!(most.get(), 4, "concurrency bound");
    }

    #[test]
    fn stops_taking_items_when_told_and_returns_the_rest_in_order() {
        let started = Cell::new(0);
        let left = rt().block_on(super::for_each(
            (0..10).collect(),
            2,
            || started.get() < 3,
            |_: u32| async {
                started.set(started.get() + 1);
            },
        ));
        assert_eq!(started.get(), 3);
        assert_eq!(left, (3..10).collect::<Vec<u32>>());
    }
}
