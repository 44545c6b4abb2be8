import { describe, expect, it } from "vitest";
import {
  escapeLabelValue,
  failedCollection,
  type MetricFamily,
  type MetricsModel,
  metricsFamilies,
  renderExposition,
  renderMetrics,
  SERIES,
} from "../../src/core/prometheus.js";
import { PROCESS_STATES } from "../../src/core/states.js";
import { VexoError } from "../../src/errors.js";

// prometheus.ts: the text exposition format and vexo-sv's series (the textfile: tests/security/prometheus.test.ts,
// promtool and node_exporter: tests/integration/prometheus.test.ts).

describe("escapeLabelValue", () => {
  it.each([
    ["plain", "plain"],
    ["back\\slash", "back\\\\slash"],
    ['a "quote"', 'a \\"quote\\"'],
    ["new\nline", "new\\nline"],
    ['\\"\n', '\\\\\\"\\n'],
    ["tab\tand é ✓", "tab\tand é ✓"],
  ])("%j", (raw, escaped) => {
    expect(escapeLabelValue(raw)).toBe(escaped);
  });
});

const fam = (name: string, samples: MetricFamily["samples"], labels: string[] = ["worker"]): MetricFamily => ({
  name,
  type: "gauge",
  help: `help of ${name}`,
  labels,
  samples,
});

describe("renderExposition", () => {
  it("sorts families by name and each family's samples by label values, keeping them together", () => {
    const text = renderExposition([
      fam("b_metric", [
        { labels: { worker: "z" }, value: 1 },
        { labels: { worker: "a" }, value: 2 },
      ]),
      fam("a_metric", [{ labels: { worker: "m" }, value: 3 }]),
    ]);
    expect(text).toBe(
      [
        "# HELP a_metric help of a_metric",
        "# TYPE a_metric gauge",
        'a_metric{worker="m"} 3',
        "# HELP b_metric help of b_metric",
        "# TYPE b_metric gauge",
        'b_metric{worker="a"} 2',
        'b_metric{worker="z"} 1',
        "",
      ].join("\n"),
    );
  });

  it("writes labels in the family's order, escapes values and HELP, formats special values, leaves out empty families", () => {
    const f: MetricFamily = {
      name: "m",
      type: "counter",
      help: 'two\nlines \\ and "quotes"',
      labels: ["worker", "process"],
      samples: [
        { labels: { process: "p", worker: 'w"\\\n' }, value: Number.POSITIVE_INFINITY },
        { labels: { process: "q", worker: "w" }, value: -0 },
        { labels: { process: "r", worker: "w" }, value: Number.NaN },
        { labels: { process: "s", worker: "w" }, value: 1796620954.25 },
      ],
    };
    expect(renderExposition([f, fam("empty", [])])).toBe(
      [
        '# HELP m two\\nlines \\\\ and "quotes"',
        "# TYPE m counter",
        'm{worker="w",process="q"} 0',
        'm{worker="w",process="r"} NaN',
        'm{worker="w",process="s"} 1796620954.25',
        'm{worker="w\\"\\\\\\n",process="p"} +Inf',
        "",
      ].join("\n"),
    );
    expect(renderExposition([])).toBe("");
  });

  it.each<[string, MetricFamily[]]>([
    [
      "a duplicate series",
      [
        fam("m", [
          { labels: { worker: "a" }, value: 1 },
          { labels: { worker: "a" }, value: 2 },
        ]),
      ],
    ],
    ["a family given twice", [fam("m", [{ labels: { worker: "a" }, value: 1 }]), fam("m", [{ labels: { worker: "b" }, value: 1 }])]],
    ["a sample without a label of its family", [fam("m", [{ labels: {}, value: 1 }])]],
    ["a sample with another label", [fam("m", [{ labels: { worker: "a", pid: "1" }, value: 1 }])]],
    ["an invalid metric name", [fam("vexo-sv", [{ labels: { worker: "a" }, value: 1 }])]],
    ["an invalid label name", [fam("m", [{ labels: { "1x": "a" }, value: 1 }], ["1x"])]],
    ["a reserved label name", [fam("m", [{ labels: { __name__: "a" }, value: 1 }], ["__name__"])]],
  ])("refuses %s (internal)", (_, families) => {
    expect(() => renderExposition(families)).toThrow(expect.objectContaining({ code: "internal" }));
    expect(() => renderExposition(families)).toThrow(VexoError);
  });
});

const model: MetricsModel = {
  collectedAt: 1796620954.5,
  failure: null,
  supervisordUp: true,
  exitsWindowSeconds: 3600,
  workers: [
    {
      name: "mail",
      desired: 1,
      running: 0,
      paused: true,
      stale: null,
      exits: null,
      processes: [{ name: "mail", state: "STOPPED", startTime: null, rssBytes: null, cpuSeconds: null }],
    },
    {
      name: "app",
      desired: 2,
      running: 1,
      paused: false,
      stale: true,
      exits: { recycled: 4, memory_limit: 1 },
      processes: [
        { name: "app_01", state: "BACKOFF", startTime: null, rssBytes: null, cpuSeconds: null },
        { name: "app_00", state: "RUNNING", startTime: 1796620000.25, rssBytes: 52_428_800, cpuSeconds: 12.5 },
      ],
    },
  ],
};

/** The sample lines of one metric in a rendered text. */
const linesOf = (text: string, name: string) => text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

describe("vexo-sv's series", () => {
  it("names every family by Prometheus's conventions: vexo_sv_, base units, _total only on counters", () => {
    for (const s of Object.values(SERIES)) {
      expect(s.name).toMatch(/^vexo_sv_[a-z_]+$/u);
      expect(s.name.endsWith("_total")).toBe(s.type === "counter");
      expect(s.name).not.toMatch(/_(ms|milliseconds|kb|kilobytes|mb|megabytes|minutes|hours)(_|$)/u);
      expect(s.help).toMatch(/^[A-Z].*\.$/u);
    }
  });

  it("labels are worker, process, state and reason: never a pid or a time", () => {
    const labels = new Set(metricsFamilies(model).flatMap((f) => [...f.labels, ...f.samples.flatMap((s) => Object.keys(s.labels))]));
    expect([...labels].sort()).toEqual(["process", "reason", "state", "worker"]);
  });

  it("renders a collection: per process up and one state series per state, per worker counts and exits by reason", () => {
    const text = renderMetrics(model);
    expect(text).not.toMatch(/^# vexo-sv/mu);
    expect(linesOf(text, "vexo_sv_collection_success")).toEqual(["vexo_sv_collection_success 1"]);
    expect(linesOf(text, "vexo_sv_collection_timestamp_seconds")).toEqual(["vexo_sv_collection_timestamp_seconds 1796620954.5"]);
    expect(linesOf(text, "vexo_sv_supervisord_up")).toEqual(["vexo_sv_supervisord_up 1"]);
    expect(linesOf(text, "vexo_sv_exits_window_seconds")).toEqual(["vexo_sv_exits_window_seconds 3600"]);
    expect(linesOf(text, "vexo_sv_process_up")).toEqual([
      'vexo_sv_process_up{worker="app",process="app_00"} 1',
      'vexo_sv_process_up{worker="app",process="app_01"} 0',
      'vexo_sv_process_up{worker="mail",process="mail"} 0',
    ]);
    const states = linesOf(text, "vexo_sv_process_state");
    expect(states).toHaveLength(3 * PROCESS_STATES.length);
    expect(states.filter((l) => l.endsWith(" 1"))).toEqual([
      'vexo_sv_process_state{worker="app",process="app_00",state="RUNNING"} 1',
      'vexo_sv_process_state{worker="app",process="app_01",state="BACKOFF"} 1',
      'vexo_sv_process_state{worker="mail",process="mail",state="STOPPED"} 1',
    ]);
    expect(linesOf(text, "vexo_sv_process_resident_memory_bytes")).toEqual([
      'vexo_sv_process_resident_memory_bytes{worker="app",process="app_00"} 52428800',
    ]);
    expect(linesOf(text, "vexo_sv_process_cpu_seconds_total")).toEqual([
      'vexo_sv_process_cpu_seconds_total{worker="app",process="app_00"} 12.5',
    ]);
    expect(linesOf(text, "vexo_sv_process_start_time_seconds")).toEqual([
      'vexo_sv_process_start_time_seconds{worker="app",process="app_00"} 1796620000.25',
    ]);
    expect(linesOf(text, "vexo_sv_worker_desired_processes")).toEqual([
      'vexo_sv_worker_desired_processes{worker="app"} 2',
      'vexo_sv_worker_desired_processes{worker="mail"} 1',
    ]);
    expect(linesOf(text, "vexo_sv_worker_running_processes")).toEqual([
      'vexo_sv_worker_running_processes{worker="app"} 1',
      'vexo_sv_worker_running_processes{worker="mail"} 0',
    ]);
    expect(linesOf(text, "vexo_sv_worker_paused")).toEqual([
      'vexo_sv_worker_paused{worker="app"} 0',
      'vexo_sv_worker_paused{worker="mail"} 1',
    ]);
    // Not known for mail: left out, never 0.
    expect(linesOf(text, "vexo_sv_worker_stale")).toEqual(['vexo_sv_worker_stale{worker="app"} 1']);
    expect(linesOf(text, "vexo_sv_worker_exits_window")).toEqual([
      'vexo_sv_worker_exits_window{worker="app",reason="memory_limit"} 1',
      'vexo_sv_worker_exits_window{worker="app",reason="recycled"} 4',
    ]);
  });

  it("writes each family once, its HELP and TYPE right before its samples, families in order", () => {
    const text = renderMetrics(model);
    const names = text
      .split("\n")
      .filter((l) => l.startsWith("# TYPE "))
      .map((l) => l.split(" ")[2] as string);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    const blocks = text.split(/^(?=# HELP )/mu);
    for (const b of blocks) {
      const [help, type, ...samples] = b.trimEnd().split("\n");
      const name = (help as string).split(" ")[2] as string;
      expect(type).toMatch(new RegExp(`^# TYPE ${name} (gauge|counter)$`, "u"));
      for (const s of samples) expect(s.startsWith(`${name}{`) || s.startsWith(`${name} `)).toBe(true);
    }
  });

  it("refuses two workers of one name (a duplicate series) rather than writing a file node_exporter rejects", () => {
    const twice = { ...model, workers: [model.workers[1], model.workers[1]] } as MetricsModel;
    expect(() => renderMetrics(twice)).toThrow(/duplicate series of vexo_sv_process_cpu_seconds_total: app,app_00/u);
  });
});

describe("a failed collection", () => {
  it("says so: collection_success 0, supervisord_up 0 when it could not be reached, a comment with the code", () => {
    expect(renderMetrics(failedCollection("supervisord_unreachable", 1796620954))).toBe(
      [
        "# vexo-sv: the collection failed (supervisord_unreachable)",
        "# HELP vexo_sv_collection_success Whether vexo-sv read everything it reports (1) or the collection failed (0).",
        "# TYPE vexo_sv_collection_success gauge",
        "vexo_sv_collection_success 0",
        "# HELP vexo_sv_collection_timestamp_seconds When vexo-sv collected these metrics, as a Unix time.",
        "# TYPE vexo_sv_collection_timestamp_seconds gauge",
        "vexo_sv_collection_timestamp_seconds 1796620954",
        "# HELP vexo_sv_supervisord_up Whether supervisord answered vexo-sv (1) or could not be reached (0).",
        "# TYPE vexo_sv_supervisord_up gauge",
        "vexo_sv_supervisord_up 0",
        "",
      ].join("\n"),
    );
  });

  it("permission denied is not 'down': supervisord_up is left out", () => {
    const text = renderMetrics(failedCollection("permission_denied", 1796620954));
    expect(linesOf(text, "vexo_sv_collection_success")).toEqual(["vexo_sv_collection_success 0"]);
    expect(linesOf(text, "vexo_sv_supervisord_up")).toEqual([]);
  });

  it("a partial collection keeps what it read and still says it failed", () => {
    const text = renderMetrics({ ...model, failure: "io_error", exitsWindowSeconds: null });
    expect(linesOf(text, "vexo_sv_collection_success")).toEqual(["vexo_sv_collection_success 0"]);
    expect(linesOf(text, "vexo_sv_exits_window_seconds")).toEqual([]);
    expect(linesOf(text, "vexo_sv_worker_desired_processes")).toHaveLength(2);
  });
});
