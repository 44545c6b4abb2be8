import type { Plan } from "../../core/results.js";
import type { Output } from "../../output.js";

/** Prints a plan for --dry-run: the files and the supervisorctl calls, changing nothing. */
export function renderPlan(out: Output, plan: Plan): void {
  for (const d of plan.mkdirs) out.data(`# would create directory ${d}`);
  for (const w of plan.writes) {
    out.data(`# would write ${w.path}:`);
    for (const l of w.content.trimEnd().split("\n")) out.data(l);
  }
  for (const r of plan.removes) out.data(`# would remove ${r}`);
  for (const c of plan.supervisorctl) out.data(`# would run: ${c.join(" ")}`);
}
