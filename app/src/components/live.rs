//! Following artwork status as it changes (services::live serves it, routes::live streams
//! it): in the browser a page opens a stream of its jobs' changes once its data is there,
//! and asks for its data again when one comes. Without JavaScript none of this runs and the
//! page stays as the server rendered it.

/// While the calling component lives, follows the stream at `url` (once it is known: the
/// page's data names the moment it was read, which the stream resumes from) and calls
/// `changed` for each change. The browser reconnects a dropped stream itself, resuming
/// after its last event.
pub fn follow(url: impl Fn() -> Option<String> + 'static, changed: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    browser::follow(url, changed);
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, changed);
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    /// An open stream and the listener it calls.
    struct Following {
        source: EventSource,
        _listener: Closure<dyn Fn(MessageEvent)>,
    }

    pub fn follow(url: impl Fn() -> Option<String> + 'static, changed: impl Fn() + 'static) {
        let open: Rc<RefCell<Option<Following>>> = Rc::default();
        let changed = Rc::new(changed);
        Effect::new({
            let open = open.clone();
            move |_| {
                let Some(url) = url() else { return };
                if open.borrow().is_some() {
                    return;
                }
                let Ok(source) = EventSource::new(&url) else {
                    return;
                };
                let changed = changed.clone();
                let listener = Closure::<dyn Fn(MessageEvent)>::new(move |_| changed());
                for name in ["job", "gone", "resync"] {
                    let _ = source
                        .add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
                }
                *open.borrow_mut() = Some(Following {
                    source,
                    _listener: listener,
                });
            }
        });
        // Leaving the page closes its stream (the browser runs one thread: the wrapper
        // only satisfies the cleanup's bounds).
        let open = send_wrapper::SendWrapper::new(open);
        on_cleanup(move || {
            if let Some(following) = open.borrow_mut().take() {
                following.source.close();
            }
        });
    }
}
