// The a11y bridge: sets ARIA attributes and moves focus inside the widget that holds it.
// ipywidgets cannot do either from Python; this view is invisible and does only that.
// Rules are {cssSelector: {attribute: value-or-null}}, applied within the closest
// element carrying the `scope` class, and again whenever that part of the page changes
// (ipywidgets re-renders HTML widgets by replacing their content).

const FOCUSABLE = "a[href],button,input,select,textarea,summary,[tabindex]";
const RETRY_MS = 50;
const GIVE_UP_MS = 5000;

// The outermost ancestor with the scope class: a widget may draw some of its parts
// inside a larger one that it marks with the same class (a form field moved elsewhere).
function rootOf(el, scope) {
  if (!scope) return null;
  let root = el.closest("." + scope);
  while (root && root.parentElement) {
    const outer = root.parentElement.closest("." + scope);
    if (!outer) break;
    root = outer;
  }
  return root;
}

function visible(node) {
  return node.isConnected && node.getClientRects().length > 0;
}

function applyRules(root, rules) {
  for (const [selector, attributes] of Object.entries(rules || {})) {
    let nodes;
    try {
      nodes = root.querySelectorAll(selector);
    } catch (err) {
      continue; // a selector this browser cannot read: skip it, never break the page
    }
    for (const node of nodes) {
      for (const [name, value] of Object.entries(attributes)) {
        if (value === null || value === undefined) {
          if (node.hasAttribute(name)) node.removeAttribute(name);
        } else if (node.getAttribute(name) !== String(value)) {
          node.setAttribute(name, String(value));
        }
      }
    }
  }
}

function render({ model, el }) {
  el.classList.add("kyc-a11y-bridge");
  el.setAttribute("aria-hidden", "true");
  el.style.cssText =
    "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;" +
    "clip:rect(0 0 0 0);border:0;white-space:nowrap";

  let queued = false;
  const apply = () => {
    queued = false;
    const root = rootOf(el, model.get("scope"));
    if (root) applyRules(root, model.get("rules"));
  };
  const schedule = () => {
    if (!queued) {
      queued = true;
      Promise.resolve().then(apply);
    }
  };

  // The view is attached after render(): watch the page until the scope exists, then it.
  const observer = new MutationObserver(schedule);
  observer.observe(el.ownerDocument.body, { childList: true, subtree: true });

  // Focus: only requests made after this view was drawn (never on page load).
  let seen = (model.get("focus_request") || {}).serial || 0;
  let timer = null;
  const focusNow = () => {
    const request = model.get("focus_request") || {};
    if (!request.serial || request.serial <= seen) return;
    const root = rootOf(el, model.get("scope"));
    const started = Date.now();
    const attempt = () => {
      timer = null;
      apply();
      const target = root && request.selector ? root.querySelector(request.selector) : null;
      if (!target || !visible(target)) {
        if (Date.now() - started < GIVE_UP_MS) timer = setTimeout(attempt, RETRY_MS);
        return;
      }
      seen = request.serial;
      if (!target.matches(FOCUSABLE)) target.setAttribute("tabindex", "-1");
      const reveal = request.reveal && root.querySelector(request.reveal);
      target.focus({ preventScroll: Boolean(reveal) });
      if (reveal) reveal.scrollIntoView({ block: "nearest" });
    };
    if (timer) clearTimeout(timer);
    attempt();
  };

  model.on("change:rules", schedule);
  model.on("change:focus_request", focusNow);
  schedule();
  return () => {
    observer.disconnect();
    if (timer) clearTimeout(timer);
    model.off("change:rules", schedule);
    model.off("change:focus_request", focusNow);
  };
}

export default { render };
