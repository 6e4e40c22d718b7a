// Building the page. Data goes in as text nodes or properties, never as markup.

// h("tag", {attr: value, onclick: fn}, ...children): strings become text nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) {
      if (typeof v !== "function") throw new TypeError(`${k} takes a function`);
      el.addEventListener(k.slice(2), v);
    } else if (k === "class") {
      el.className = v;
    } else if (k === "value" || k === "checked" || k === "disabled") {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A button's words, with what it acts on for screen readers only: "Retry" reads "Retry msg_...".
export function named(visible, target) {
  return [visible, h("span", { class: "vh" }, ` ${target}`)];
}

let ids = 0;
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

// A labelled control.
export function field(label, input) {
  return h("label", { class: "field" }, h("span", {}, label), input);
}

export function input(name, attrs = {}) {
  return h("input", { name, ...attrs });
}

// The API's error, as the contract words it, where the action was taken.
export function showError(slot, err) {
  const code = err.code ? ` (${err.status ? `${err.status} ` : ""}${err.code})` : "";
  slot.replaceChildren(h("p", { class: "error", role: "alert" }, err.message, code));
}

export function showStatus(slot, text) {
  slot.replaceChildren(h("p", { class: "ok", role: "status" }, text));
}

// A slot for an action's outcome: polite for assistive technology.
export function slot() {
  return h("div", { class: "outcome", "aria-live": "polite" });
}

// A table that scrolls on its own on a narrow screen. `rows`: an array of rows, or the tbody
// that a pager fills.
export function table(caption, columns, rows) {
  const body = rows instanceof HTMLTableSectionElement ? rows : h("tbody", {}, rows);
  return h(
    "div",
    { class: "scroll", tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      body,
    ),
  );
}

export function row(...cells) {
  return h("tr", {}, cells.map((c) => h("td", {}, c)));
}

export function cents(n) {
  const v = Number(n) || 0;
  const sign = v < 0 ? "-" : "";
  return `${sign}$${(Math.abs(v) / 100).toFixed(2)}`;
}

export function when(rfc3339) {
  return rfc3339 ? String(rfc3339).replace("T", " ").replace(/\.\d+/, "") : "-";
}

// A button that runs `run()`; its error shows in `out`, beside it.
export function action(label, out, run) {
  return h(
    "button",
    {
      type: "button",
      onclick: async () => {
        try {
          await run();
        } catch (e) {
          showError(out, e);
        }
      },
    },
    label,
  );
}

// A list filled page by page. `fetch(cursor)` answers {items, next}; `render(item)` makes a
// row. reload() starts over, and drops the answers of any earlier start still on their way.
export function pager({ rows, more, out, fetch, render, empty, moreLabel }) {
  let run = 0;
  async function page(cursor, mine) {
    try {
      const { items, next } = await fetch(cursor);
      if (mine !== run) return;
      for (const it of items) rows.append(render(it));
      if (!rows.children.length && empty) rows.append(row(empty));
      more.replaceChildren(next ? h("button", { type: "button", onclick: () => page(next, mine) }, moreLabel) : "");
    } catch (e) {
      if (mine === run) showError(out, e);
    }
  }
  return {
    reload() {
      run += 1;
      rows.replaceChildren();
      out.replaceChildren();
      more.replaceChildren();
      return page(undefined, run);
    },
  };
}

// A form whose submit runs `action(values)`; its errors show in its own slot.
export function form(label, controls, submitText, action) {
  const out = slot();
  const f = h(
    "form",
    {
      class: "card",
      "aria-label": label,
      onsubmit: async (e) => {
        e.preventDefault();
        const values = Object.fromEntries(new FormData(f).entries());
        for (const box of f.querySelectorAll("input[type=checkbox]")) values[box.name] = box.checked;
        out.replaceChildren();
        try {
          await action(values, out);
        } catch (err) {
          showError(out, err);
        }
      },
    },
    controls,
    h("button", { type: "submit" }, submitText),
    out,
  );
  return f;
}
