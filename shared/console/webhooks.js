// Webhooks: the endpoints, their deliveries by status, and a retry of one.
import { call, path } from "./api.js";
import { h, named, action, field, table, row, slot, pager, showError, showStatus, when } from "./dom.js";

export async function render(view) {
  const listOut = slot();
  const deliveries = h("div");
  view.replaceChildren(h("h2", {}, "Webhooks"), listOut, deliveries);
  try {
    const { data } = await call("GET", "webhooks");
    listOut.replaceChildren(
      data.webhooks.length
        ? table(
            "Webhooks of this network",
            ["Webhook", "URL", "Events", "Active", "Description", "Created", ""],
            data.webhooks.map((w) =>
              row(
                w.webhook_id,
                w.url,
                w.events.join(", "),
                w.active ? "yes" : "no",
                w.description || "",
                when(w.created_at),
                h("button", { type: "button", onclick: () => showDeliveries(deliveries, w.webhook_id) }, named("Deliveries", `of ${w.webhook_id}`)),
              ),
            ),
          )
        : h("p", {}, "No webhooks."),
    );
  } catch (e) {
    showError(listOut, e);
  }
}

async function showDeliveries(box, hook) {
  const status = h(
    "select",
    { name: "status" },
    ["", "pending", "delivered", "failed"].map((s) => h("option", { value: s }, s || "any status")),
  );
  const rows = h("tbody");
  const out = slot();
  const more = slot();
  box.replaceChildren(
    h("h3", {}, `Deliveries of ${hook}`),
    field("Status", status),
    out,
    table(`Deliveries of ${hook}, newest first`, ["Message", "Type", "Status", "Attempts", "Last answer", "Next attempt", "Created", ""], rows),
    more,
  );
  const list = pager({
    rows,
    more,
    out,
    fetch: async (cursor) => {
      const { data } = await call("GET", `webhooks/${path(hook)}/deliveries`, { query: { status: status.value, cursor } });
      return { items: data.deliveries, next: data.next_cursor };
    },
    render: (d) => deliveryRow(hook, d),
    empty: "No deliveries.",
    moreLabel: "More deliveries",
  });
  status.addEventListener("change", () => list.reload());
  await list.reload();
}

function deliveryRow(hook, d) {
  const statusCell = h("span", { class: `status-${d.status}` }, d.status);
  const attempts = h("span", {}, String(d.attempts));
  const next = h("span", {}, when(d.next_attempt_at));
  const out = slot();
  const retry = action(named("Retry", d.message_id), out, async () => {
    const { data } = await call("POST", `webhooks/${path(hook)}/deliveries/${path(d.message_id)}/retry`);
    const now = data && data.delivery ? data.delivery : { status: "pending" };
    statusCell.className = `status-${now.status}`;
    statusCell.textContent = now.status;
    next.textContent = when(now.next_attempt_at);
    showStatus(out, "Retry queued: one more attempt now.");
  });
  const tr = row(d.message_id, d.type, statusCell, attempts, d.last_status_code ? String(d.last_status_code) : "-", next, when(d.created_at), h("div", { class: "actions" }, retry, out));
  tr.dataset.message = d.message_id;
  return tr;
}
