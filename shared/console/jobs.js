// Long work (a move) as progress: members moved of the total, until the job ends.
import { call, path } from "./api.js";
import { h, field, input, form, showError } from "./dom.js";

const POLL_MS = 500;

// Shows job `id` in `out` until it is done or failed; answers the last job seen.
export async function watchJob(id, out, why = "") {
  const bar = h("progress", { max: "1", value: "0", "aria-label": `Job ${id} progress` });
  const text = h("span", {}, "starting");
  out.replaceChildren(h("p", { class: "job", role: "status" }, why ? `${why} ` : "", `Job ${id}: `, bar, " ", text));
  for (;;) {
    let job;
    try {
      ({ job } = (await call("GET", `jobs/${path(id)}`)).data);
    } catch (err) {
      showError(out, err);
      return null;
    }
    const total = Math.max(job.total || 0, job.moved || 0, 1);
    bar.max = total;
    bar.value = job.moved || 0;
    if (job.status === "running") {
      text.textContent = `${job.kind}: running, ${job.moved} of ${job.total ?? "?"} moved`;
    } else if (job.status === "done") {
      text.textContent = `${job.kind}: done, ${job.moved} of ${job.total} moved`;
      return job;
    } else {
      text.textContent = `${job.kind}: failed${job.reason ? `: ${job.reason}` : ""}`;
      return job;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function render(view) {
  const out = h("div", { class: "outcome" });
  view.replaceChildren(
    h("h2", {}, "Jobs"),
    h("p", {}, "A move too large for one transaction runs as a job; its answer gave its id."),
    form(
      "Follow a job",
      [field("Job id", input("job_id", { required: true, maxlength: 32 }))],
      "Follow job",
      (v) => watchJob(v.job_id.trim(), out),
    ),
    out,
  );
}
