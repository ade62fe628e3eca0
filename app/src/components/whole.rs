//! A view rendered on the server in one pass, for the part of a page that waits for nothing.
//!
//! Rendering a page whose data is awaited goes through Leptos's asynchronous path for every
//! element below the page's `Suspense`, in case one of them waits: each element's tags are
//! written into strings of their own and then copied into the page (two allocations an
//! element). What a resolved `Suspend` shows waits for nothing, so [`Whole`] renders it
//! the synchronous way, straight into the page. The HTML is the same, and so is hydration:
//! everything but the asynchronous rendering is the wrapped view's own.

use std::future::Future;

use leptos::prelude::Suspend;
use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Position, PositionState, Render, RenderHtml};

/// What a page's `Suspense` shows once `view` has its data: a `Suspend` whose view is
/// rendered in one pass. Every page's awaited part is made so.
pub fn loaded<V>(view: impl Future<Output = V> + Send + 'static) -> Suspend<Whole<V>>
where
    V: Send + 'static,
{
    Suspend::new(async move { Whole(view.await) })
}

/// `view`, rendered in one pass on the server. Only for a view with no `Suspense` or
/// resource of its own inside: those would render their fallback.
pub struct Whole<V>(pub V);

impl<V: Render> Render for Whole<V> {
    type State = V::State;

    fn build(self) -> Self::State {
        self.0.build()
    }

    fn rebuild(self, state: &mut Self::State) {
        self.0.rebuild(state)
    }
}

impl<V: AddAnyAttr> AddAnyAttr for Whole<V> {
    type Output<SomeNewAttr: Attribute> = Whole<V::Output<SomeNewAttr>>;

    fn add_any_attr<NewAttr: Attribute>(self, attr: NewAttr) -> Self::Output<NewAttr>
    where
        Self::Output<NewAttr>: RenderHtml,
    {
        Whole(self.0.add_any_attr(attr))
    }
}

impl<V: RenderHtml> RenderHtml for Whole<V> {
    type AsyncOutput = Whole<V::AsyncOutput>;
    type Owned = Whole<V::Owned>;

    const MIN_LENGTH: usize = V::MIN_LENGTH;

    fn dry_resolve(&mut self) {
        self.0.dry_resolve()
    }

    async fn resolve(self) -> Self::AsyncOutput {
        Whole(self.0.resolve().await)
    }

    fn html_len(&self) -> usize {
        self.0.html_len()
    }

    fn to_html_with_buf(
        self,
        buf: &mut String,
        position: &mut Position,
        escape: bool,
        mark_branches: bool,
        extra_attrs: Vec<AnyAttribute>,
    ) {
        self.0
            .to_html_with_buf(buf, position, escape, mark_branches, extra_attrs)
    }

    // `to_html_async_with_buf` is the trait's own: it calls `to_html_with_buf` on the
    // page's current chunk.

    fn hydrate<const FROM_SERVER: bool>(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> Self::State {
        self.0.hydrate::<FROM_SERVER>(cursor, position)
    }

    fn hydrate_async(
        self,
        cursor: &Cursor,
        position: &PositionState,
    ) -> impl Future<Output = Self::State> {
        self.0.hydrate_async(cursor, position)
    }

    fn into_owned(self) -> Self::Owned {
        Whole(self.0.into_owned())
    }
}
