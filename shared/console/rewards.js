// Rules and rewards of a program: the rules, the review queue (approve, void), a user's
// rewards and balance, and payouts with their lines.
import { call, path } from "./api.js";
import { h, named, action, field, input, form, table, row, slot, pager, showError, showStatus, cents, when, uid } from "./dom.js";
import { programList } from "./programs.js";

const POLL_MS = 500;

export async function render(view) {
  const listId = uid("programs");
  const body = h("div");
  view.replaceChildren(
    h("h2", {}, "Rewards"),
    form(
      "Choose a program",
      [field("Program", input("program", { required: true, list: listId, value: "default" }))],
      "Show rules and review queue",
      (v) => program(body, v.program.trim()),
    ),
    body,
    h("h3", {}, "A user's rewards"),
    userRewards(),
    h("h3", {}, "Payouts"),
    payouts(),
  );
  view.append(await programList(listId));
}

function levels(rule) {
  return rule.levels
    .map((l) => `L${l.level}: ${l.amount_usd_cents !== undefined ? cents(l.amount_usd_cents) : `${l.percent_bps / 100}%`}`)
    .join(", ");
}

async function program(body, prog) {
  const rulesOut = slot();
  const queue = h("tbody");
  const queueOut = slot();
  const more = slot();
  const status = h(
    "select",
    { name: "status", "aria-label": "Rewards with status" },
    ["pending", "approved", "paid", "voided", ""].map((s) => h("option", { value: s }, s || "any status")),
  );
  body.replaceChildren(
    h("h3", {}, `Rules of ${prog}`),
    rulesOut,
    h("h3", {}, "Review queue"),
    field("Status", status),
    queueOut,
    table(`Rewards of ${prog}, oldest first`, ["Reward", "User", "Referee", "Event", "Level", "Amount", "Status", "Approvable", ""], queue),
    more,
  );
  const queueList = pager({
    rows: queue,
    more,
    out: queueOut,
    fetch: async (cursor) => {
      const { data } = await call("GET", `connections/${path(prog)}/rewards`, { query: { status: status.value, cursor } });
      return { items: data.rewards, next: data.next_cursor };
    },
    render: rewardRow,
    empty: "No rewards.",
    moreLabel: "More rewards",
  });
  status.addEventListener("change", () => queueList.reload());
  try {
    const { data } = await call("GET", `connections/${path(prog)}/rules`);
    rulesOut.replaceChildren(
      data.rules.length
        ? table(
            `Rules of ${prog}`,
            ["Rule", "Event", "Levels", "Min", "Hold days", "Per referee", "Active"],
            data.rules.map((r) =>
              row(r.rule_id, r.event, levels(r), cents(r.min_amount_usd_cents), String(r.hold_days), String(r.max_rewards_per_referee || "unlimited"), r.active ? "yes" : "no"),
            ),
          )
        : h("p", {}, "No rules."),
    );
  } catch (e) {
    showError(rulesOut, e);
  }
  await queueList.reload();
}

// A reward's row; approve and void act on it and show the reward as the API answers it.
function rewardRow(r) {
  const out = slot();
  const statusCell = h("span", { class: `status-${r.status}` }, r.status);
  const reason = input("reason", { placeholder: "reason", "aria-label": `Reason to void ${r.reward_id}`, maxlength: 200 });
  const act = (verb, label) =>
    action(named(label, r.reward_id), out, async () => {
      const body = verb === "void" && reason.value ? { reason: reason.value } : {};
      const { data } = await call("POST", `rewards/${path(r.reward_id)}/${verb}`, { body });
      statusCell.textContent = data.reward.status;
      showStatus(out, verb === "approve" ? "Approved." : "Voided.");
    });
  const actions =
    r.status === "pending" || r.status === "approved"
      ? h(
          "div",
          { class: "actions" },
          r.status === "pending" ? act("approve", "Approve") : "",
          reason,
          act("void", "Void"),
          out,
        )
      : "";
  const tr = row(r.reward_id, r.user, r.referee, r.event, String(r.level), cents(r.amount_usd_cents), statusCell, when(r.approvable_at), actions);
  tr.dataset.reward = r.reward_id;
  return tr;
}

function userRewards() {
  const out = h("div");
  return h(
    "div",
    {},
    form(
      "A user's rewards",
      [field("User", input("user", { required: true })), field("Program (optional)", input("program_id"))],
      "Show rewards",
      async (v) => {
        const { data } = await call("GET", `users/${path(v.user.trim())}/rewards`, {
          query: { program_id: v.program_id.trim() },
        });
        const b = data.balance;
        out.replaceChildren(
          h(
            "p",
            { class: "balance" },
            `Balance: pending ${cents(b.pending)}, approved ${cents(b.approved)}, paid ${cents(b.paid)}, voided ${cents(b.voided)}`,
            data.balance_as_of ? ` (as of ${when(data.balance_as_of)})` : "",
          ),
          table(
            `Rewards of ${data.user}, newest first`,
            ["Reward", "Program", "Event", "Referee", "Level", "Amount", "Status", "Created"],
            data.rewards.map((r) => row(r.reward_id, r.program_id, r.event, r.referee, String(r.level), cents(r.amount_usd_cents), r.status, when(r.created_at))),
          ),
        );
      },
    ),
    out,
  );
}

function payouts() {
  const out = h("div", { class: "outcome" });
  const create = form(
    "Create a payout",
    [
      field("Program (optional)", input("program_id")),
      field("Minimum per user (cents)", input("min_amount_usd_cents", { type: "number", min: 1, value: "1" })),
    ],
    "Create payout",
    async (v) => {
      const body = { min_amount_usd_cents: Number(v.min_amount_usd_cents) };
      if (v.program_id.trim()) body.program_id = v.program_id.trim();
      const { data } = await call("POST", "payouts", { body });
      await followPayout(data.payout.payout_id, out);
    },
  );
  const lookup = form(
    "Open a payout",
    [field("Payout id", input("payout_id", { required: true }))],
    "Open payout",
    (v) => followPayout(v.payout_id.trim(), out),
  );
  return h("div", {}, create, lookup, out);
}

// The payout's progress while it runs, then its lines.
async function followPayout(id, out) {
  const text = h("span", {}, "starting");
  out.replaceChildren(h("p", { role: "status" }, `Payout ${id}: `, text));
  let p;
  const started = Date.now();
  for (;;) {
    try {
      ({ payout: p } = (await call("GET", `payouts/${path(id)}`)).data);
    } catch (e) {
      showError(out, e);
      return;
    }
    if (p.status !== "running") break;
    // A payout's sums are written when it is done.
    const waited = Math.round((Date.now() - started) / 1000);
    text.textContent = `running for ${waited} s; users and total are known when it is done`;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  text.textContent = `${p.status}: ${p.users} users paid, ${cents(p.total_usd_cents)}`;
  const lines = h("tbody");
  const more = slot();
  const linesOut = slot();
  out.append(linesOut, table(`Lines of payout ${id}`, ["User", "Amount", "Rewards"], lines), more);
  await pager({
    rows: lines,
    more,
    out: linesOut,
    fetch: async (cursor) => {
      const { data } = await call("GET", `payouts/${path(id)}/lines`, { query: { cursor } });
      return { items: data.lines, next: data.next_cursor };
    },
    render: (l) => row(l.user, cents(l.amount_usd_cents), String(l.rewards)),
    empty: "No lines: nobody was due.",
    moreLabel: "More lines",
  }).reload();
}
