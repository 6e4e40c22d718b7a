// Programs: the list, page by page, and one form that creates or edits.
import { call, path } from "./api.js";
import { h, named, field, input, form, table, row, slot, pager, showStatus, cents, when } from "./dom.js";

export function render(view) {
  const rows = h("tbody");
  const more = slot();
  const listError = slot();
  const editor = programForm(() => reload());
  view.replaceChildren(
    h("h2", {}, "Programs"),
    listError,
    table("Programs of this network", ["Program", "Name", "Levels", "Active", "Referrer", "Referee", "Per code", "Created", ""], rows),
    more,
    h("h3", {}, "Create or edit a program"),
    editor.el,
  );

  const list = pager({
    rows,
    more,
    out: listError,
    fetch: async (cursor) => {
      const { data } = await call("GET", "connections", { query: { cursor } });
      return { items: data.programs, next: data.next_cursor };
    },
    render: programRow,
    empty: "No programs yet.",
    moreLabel: "More programs",
  });
  function programRow(p) {
    return row(
      p.program_id,
      p.name,
      String(p.max_levels),
      p.active ? "yes" : "no",
      p.referrer_amount_usd_cents === undefined ? "-" : cents(p.referrer_amount_usd_cents),
      p.referee_amount_usd_cents === undefined ? "-" : cents(p.referee_amount_usd_cents),
      p.max_referrals_per_code === undefined ? "-" : String(p.max_referrals_per_code || "unlimited"),
      when(p.created_at),
      h("button", { type: "button", onclick: () => editor.fill(p) }, named("Edit", p.program_id)),
    );
  }
  function reload() {
    return list.reload();
  }
  return reload();
}

function programForm(saved) {
  const c = {
    id: input("program_id", { required: true, maxlength: 64, pattern: "[A-Za-z0-9_\\-]{1,64}" }),
    name: input("name", { maxlength: 200 }),
    levels: input("max_levels", { type: "number", min: 1, max: 10, value: "10" }),
    active: input("active", { type: "checkbox", checked: true }),
    referrer: input("referrer_amount_usd_cents", { type: "number", min: 0, max: 100000, value: "0" }),
    referee: input("referee_amount_usd_cents", { type: "number", min: 0, max: 100000, value: "0" }),
    perCode: input("max_referrals_per_code", { type: "number", min: 0, value: "0" }),
  };
  const el = form(
    "Create or edit a program",
    [
      field("Program id", c.id),
      field("Name", c.name),
      field("Max levels (1-10)", c.levels),
      field("Active", c.active),
      field("Referrer amount (cents)", c.referrer),
      field("Referee amount (cents)", c.referee),
      field("Max referrals per code (0 = unlimited)", c.perCode),
    ],
    "Save program",
    async (v, out) => {
      const body = {
        max_levels: Number(v.max_levels),
        active: v.active,
        referrer_amount_usd_cents: Number(v.referrer_amount_usd_cents),
        referee_amount_usd_cents: Number(v.referee_amount_usd_cents),
        max_referrals_per_code: Number(v.max_referrals_per_code),
      };
      if (v.name) body.name = v.name;
      const { status, data } = await call("PUT", `connections/${path(v.program_id)}`, { body });
      showStatus(out, `${status === 201 ? "Created" : "Updated"} program ${data.program.program_id}.`);
      await saved();
    },
  );
  function fill(p) {
    c.id.value = p.program_id;
    c.name.value = p.name;
    c.levels.value = String(p.max_levels);
    c.active.checked = p.active;
    if (p.referrer_amount_usd_cents !== undefined) c.referrer.value = String(p.referrer_amount_usd_cents);
    if (p.referee_amount_usd_cents !== undefined) c.referee.value = String(p.referee_amount_usd_cents);
    if (p.max_referrals_per_code !== undefined) c.perCode.value = String(p.max_referrals_per_code);
    c.name.focus();
  }
  return { el, fill };
}

// The programs, for a choice of program elsewhere: a datalist the inputs point at.
export async function programList(id) {
  const list = h("datalist", { id });
  try {
    const { data } = await call("GET", "connections", { query: { limit: 100 } });
    for (const p of data.programs) list.append(h("option", { value: p.program_id }, p.name));
  } catch {
    // The list only helps typing; the view's own calls report errors.
  }
  return list;
}
