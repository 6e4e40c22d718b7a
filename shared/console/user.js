// A user in a program: the upline as a path, the downline as a tree opened level by level and
// page by page, the codes, and a change or removal of the referrer.
import { call, path } from "./api.js";
import { h, named, action, field, input, form, table, row, slot, showError, when, uid } from "./dom.js";
import { watchJob } from "./jobs.js";
import { programList } from "./programs.js";

// Referees per page of a tree level.
export const PAGE = 25;

export async function render(view, start = {}) {
  const listId = uid("programs");
  const body = h("div");
  // Outside the user's view, which a finished move redraws.
  const jobs = h("div", { class: "outcome" });
  const lookup = form(
    "Open a user",
    [
      field("Program", input("program", { required: true, list: listId, value: start.program || "default" })),
      field("User", input("user", { required: true, value: start.user || "" })),
    ],
    "Open user",
    (v) => open(body, jobs, v.program.trim(), v.user.trim()),
  );
  view.replaceChildren(h("h2", {}, "User"), lookup, jobs, body);
  view.append(await programList(listId));
  if (start.user) await open(body, jobs, start.program, start.user);
}

// `user`'s view, in `body`; a move's progress goes to `jobs`.
async function open(body, jobs, program, user) {
  const base = `connections/${path(program)}/users/${path(user)}`;
  let data;
  try {
    ({ data } = await call("GET", base, { query: { level: 1, limit: PAGE } }));
  } catch (err) {
    showError(body, err);
    return;
  }
  const reopen = () => open(body, jobs, program, user);
  const openOther = (u) => open(body, jobs, program, u);
  const tree = h("ul", { class: "tree", "aria-label": `Referees of ${user}` });
  body.replaceChildren(
    h("h3", {}, `${user} in ${program}`),
    upline(user, data.upline, openOther),
    h("h3", {}, "Downline"),
    counts(data),
    tree,
    h("h3", {}, "Referrer"),
    referrerForms(base, data.referrer, jobs, reopen),
    h("h3", {}, "Codes"),
    codes(base),
  );
  fillLevel(tree, program, user, data, openOther);
}

function upline(user, up, openOther) {
  if (!up.length) return h("p", { class: "upline" }, `${user} has no referrer in this program.`);
  // Nearest first from the API; shown from the top down to the user.
  const steps = [...up].reverse().map((u) =>
    h("li", {}, h("button", { type: "button", class: "link", onclick: () => openOther(u.user) }, u.user), ` (level ${u.level})`),
  );
  return h("nav", { "aria-label": "Upline" }, h("ol", { class: "upline" }, steps, h("li", { "aria-current": "page" }, user)));
}

function counts(data) {
  const c = data.downline_counts || {};
  const levels = Object.keys(c)
    .filter((l) => Number(c[l]) > 0)
    .sort((a, b) => Number(a) - Number(b));
  const all = levels.reduce((s, l) => s + Number(c[l] || 0), 0);
  const per = levels.map((l) => `level ${l}: ${c[l]}`).join(", ");
  const asOf = data.counts_as_of ? ` (counts as of ${when(data.counts_as_of)})` : "";
  return h("p", { class: "counts" }, `${c["1"] || 0} direct, ${all} in all`, per ? `; ${per}` : "", asOf);
}

// The referees of a page of one level into `list`, then a button for the next page.
function fillLevel(list, program, user, data, openOther) {
  for (const d of data.downline) list.append(node(program, d.user, d.connected_at, openOther));
  if (!data.downline.length && !list.children.length) list.append(h("li", { class: "empty" }, "No referees."));
  if (data.next_cursor) {
    const li = h("li", { class: "more" });
    const err = slot();
    li.append(
      action(named("More referees", `of ${user}`), err, async () => {
        const next = await call("GET", `connections/${path(program)}/users/${path(user)}`, {
          query: { level: 1, limit: PAGE, cursor: data.next_cursor },
        });
        li.remove();
        fillLevel(list, program, user, next.data, openOther);
      }),
      err,
    );
    list.append(li);
  }
}

// One referee: a toggle that opens its own referees one level down.
function node(program, user, connectedAt, openOther) {
  const children = h("ul", { class: "tree", hidden: true, "aria-label": `Referees of ${user}` });
  const info = h("span", { class: "info" }, ` joined ${when(connectedAt)}`);
  const out = slot();
  let loaded = false;
  const toggle = h(
    "button",
    {
      type: "button",
      class: "toggle",
      "aria-expanded": "false",
      onclick: async () => {
        const open = toggle.getAttribute("aria-expanded") === "true";
        if (open) {
          toggle.setAttribute("aria-expanded", "false");
          children.hidden = true;
          return;
        }
        if (!loaded) {
          try {
            const { data } = await call("GET", `connections/${path(program)}/users/${path(user)}`, {
              query: { level: 1, limit: PAGE },
            });
            loaded = true;
            info.append(" · ", counts(data).textContent);
            fillLevel(children, program, user, data, openOther);
          } catch (e) {
            showError(out, e);
            return;
          }
        }
        toggle.setAttribute("aria-expanded", "true");
        children.hidden = false;
      },
    },
    user,
  );
  const openBtn = h("button", { type: "button", class: "link", onclick: () => openOther(user) }, "open");
  return h("li", { class: "node" }, toggle, info, " ", openBtn, out, children);
}

function referrerForms(base, referrer, progress, reopen) {
  const current = h("p", {}, referrer ? `Referrer: ${referrer}` : "No referrer.");
  const after = async (resp) => {
    if (resp.status === 202 && resp.data.job) {
      const job = await watchJob(resp.data.job.id, progress, "The subtree is large: it moves as a job.");
      if (job && job.status === "done") await reopen();
    } else {
      await reopen();
    }
  };
  const change = form(
    "Change referrer",
    [field("New referrer", input("connection", { required: true }))],
    "Change referrer",
    async (v) => after(await call("PUT", `${base}/referrer`, { body: { connection: v.connection.trim() } })),
  );
  const remove = form("Remove referrer", [], "Remove referrer", async () => after(await call("DELETE", `${base}/referrer`)));
  return h("div", {}, current, change, referrer ? remove : "");
}

function codes(base) {
  const out = slot();
  const load = action("Show codes", out, async () => {
    const { data } = await call("GET", `${base}/codes`);
    out.replaceChildren(
      table(
        "Codes",
        ["Code", "Status", "Referrals", "Max", "Expires", "Created"],
        data.codes.map((c) =>
          row(
            c.code,
            c.status,
            String(c.total_referrals),
            c.max_referrals ? String(c.max_referrals) : "unlimited",
            c.expires_at ? when(c.expires_at) : "never",
            when(c.created_at),
          ),
        ),
      ),
    );
  });
  return h("div", {}, h("p", { class: "hint" }, "A user without a code gets one when their codes are shown."), load, out);
}
