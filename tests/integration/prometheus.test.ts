import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addArgs, BIN, cli, useSupervisor, waitRunning } from "../helpers/cli.js";
import { readProcStats } from "../../src/core/procstat.js";
import { freePort } from "../helpers/cli.js";
import {
  failedCollection,
  type MetricsModel,
  renderExposition,
  renderMetrics,
  TEXTFILE_NAME,
  writeTextfile,
} from "../../src/core/prometheus.js";

// The textfile as the real consumers read it: Debian's promtool lints it, Debian's node_exporter
// (textfile collector only, on 127.0.0.1) serves it, and the test scrapes it over HTTP.

/** Series of a text exposition, by name and sorted labels (values unescaped), with their values. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/u.exec(line);
    if (!m) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/gu)].map(
      ([, k, v]) => [k as string, (v as string).replace(/\\(.)/gu, (_, c: string) => (c === "n" ? "\n" : c))] as const,
    );
    labels.sort(([a], [b]) => (a < b ? -1 : 1));
    out.set(key(m[1] as string, Object.fromEntries(labels)), Number(m[3]));
  }
  return out;
}
const key = (name: string, labels: Record<string, string> = {}) => `${name}${JSON.stringify(Object.entries(labels).sort())}`;

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

let dir: string;
let exporter: ChildProcess;
let exporterLog = "";
let url: string;
let sleeper: ChildProcess;

/** Starts node_exporter and waits (bounded) until it answers; its log is in the error when it does not. */
async function startExporter(): Promise<void> {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/metrics`;
  exporter = spawn(
    "prometheus-node-exporter",
    [
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.disable-exporter-metrics",
      "--collector.disable-defaults",
      "--collector.textfile",
      `--collector.textfile.directory=${dir}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  exporter.stdout?.on("data", (c) => (exporterLog += String(c)));
  exporter.stderr?.on("data", (c) => (exporterLog += String(c)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exporter.exitCode !== null || exporter.signalCode !== null) throw new Error(`node_exporter exited:\n${exporterLog}`);
    const r = await get(url).catch(() => null);
    if (r?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`node_exporter did not answer within 60 s:\n${exporterLog}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const scrape = async () => {
  const r = await get(url);
  expect(r.status).toBe(200);
  return parseExposition(r.body);
};

beforeAll(async () => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "vexo-textfile-")));
  fs.chmodSync(dir, 0o755);
  sleeper = spawn("sleep", ["300"], { cwd: dir, stdio: "ignore" });
  await startExporter();
});

afterAll(async () => {
  for (const child of [exporter, sleeper]) {
    if (!child || child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await gone;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A collection whose one running process is a real one (its /proc figures), and a worker whose name needs escaping. */
function model(): MetricsModel {
  const proc = readProcStats([sleeper.pid as number]).get(sleeper.pid as number);
  if (!proc) throw new Error("the test's own child has no /proc entry");
  return {
    collectedAt: Math.floor(Date.now() / 1000),
    failure: null,
    supervisordUp: true,
    exitsWindowSeconds: 3600,
    workers: [
      {
        name: "app",
        desired: 2,
        running: 1,
        paused: false,
        stale: false,
        exits: { memory_limit: 2, timeout: 0, recycled: 5, crashed: 1, gave_up: 0 },
        processes: [
          { name: "app_00", state: "RUNNING", startTime: proc.startTime, rssBytes: proc.rssBytes, cpuSeconds: proc.cpuSeconds },
          { name: "app_01", state: "BACKOFF", startTime: null, rssBytes: null, cpuSeconds: null },
        ],
      },
      { name: 'odd"name\\with\nall', desired: 1, running: 0, paused: true, stale: null, exits: null, processes: [] },
    ],
  };
}

describe("the textfile with Debian's promtool and node_exporter", () => {
  it("promtool check metrics passes without a lint warning (and does warn on a badly named family)", async () => {
    const file = writeTextfile(dir, renderMetrics(model()));
    const r = await execa("promtool", ["check", "metrics"], { inputFile: file, reject: false, all: true });
    expect([r.exitCode, r.all]).toEqual([0, ""]);
    const bad = renderExposition([
      { name: "vexo_sv_exits", type: "counter", help: "Exits.", labels: [], samples: [{ labels: {}, value: 1 }] },
    ]);
    const lint = await execa("promtool", ["check", "metrics"], { input: bad, reject: false, all: true });
    expect(lint.exitCode).not.toBe(0);
    expect(lint.all).toMatch(/should have "_total" suffix/u);
  });

  it("node_exporter serves every series with its value, and node_textfile_scrape_error 0", async () => {
    const m = model();
    const text = renderMetrics(m);
    writeTextfile(dir, text);
    const got = await scrape();
    expect(got.get(key("node_textfile_scrape_error"))).toBe(0);
    expect(got.get(key("node_textfile_mtime_seconds", { file: path.join(dir, TEXTFILE_NAME) }))).toBeGreaterThan(0);
    const written = parseExposition(text);
    // 4 collection-wide; app: 4 + 5 exit reasons + 2 up + 2 x 8 states + 3 from /proc; the odd one: 3 (stale and exits not known).
    expect(written.size).toBe(37);
    for (const [series, value] of written) expect([series, got.get(series)]).toEqual([series, value]);
    const proc = m.workers[0]?.processes[0];
    expect(got.get(key("vexo_sv_process_resident_memory_bytes", { worker: "app", process: "app_00" }))).toBe(proc?.rssBytes);
    expect(proc?.rssBytes).toBeGreaterThan(0);
    expect(got.get(key("vexo_sv_worker_exits_window", { worker: "app", reason: "recycled" }))).toBe(5);
    expect(got.get(key("vexo_sv_worker_paused", { worker: 'odd"name\\with\nall' }))).toBe(1);
    expect(got.get(key("vexo_sv_process_state", { worker: "app", process: "app_01", state: "BACKOFF" }))).toBe(1);
  });

  it("a failed collection is a file that says so, which node_exporter serves", async () => {
    writeTextfile(dir, renderMetrics(failedCollection("supervisord_unreachable", Math.floor(Date.now() / 1000))));
    const got = await scrape();
    expect(got.get(key("node_textfile_scrape_error"))).toBe(0);
    expect(got.get(key("vexo_sv_collection_success"))).toBe(0);
    expect(got.get(key("vexo_sv_supervisord_up"))).toBe(0);
    expect([...got.keys()].filter((k) => k.startsWith("vexo_sv_worker_") || k.startsWith("vexo_sv_process_"))).toEqual([]);
  });

  it("node_textfile_scrape_error is 1 for a file node_exporter rejects (so the checks above can fail)", async () => {
    const bad = path.join(dir, "bad.prom");
    fs.writeFileSync(bad, "vexo_sv_test 1 1796620954000\n");
    try {
      expect((await scrape()).get(key("node_textfile_scrape_error"))).toBe(1);
    } finally {
      fs.rmSync(bad);
    }
  });
});

describe("vexo-sv status --textfile and --format prometheus, scraped by node_exporter", () => {
  const sv = useSupervisor();

  it("the metrics of a real worker: up, running processes, memory from /proc, as node_exporter serves them", async () => {
    expect((await cli([...addArgs("prom-a", ["--procs", "2"]), "--json"], sv.env)).code).toBe(0);
    const pids = await waitRunning(sv, "prom-a", 2);
    const r = await cli(["status", "--textfile", dir, "--json"], sv.env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json.textfile).toBe(path.join(dir, TEXTFILE_NAME));
    expect(fs.statSync(path.join(dir, TEXTFILE_NAME)).mode & 0o777).toBe(0o644);
    const got = await scrape();
    expect(got.get(key("node_textfile_scrape_error"))).toBe(0);
    expect(got.get(key("vexo_sv_collection_success"))).toBe(1);
    expect(got.get(key("vexo_sv_supervisord_up"))).toBe(1);
    expect(got.get(key("vexo_sv_worker_desired_processes", { worker: "prom-a" }))).toBe(2);
    expect(got.get(key("vexo_sv_worker_running_processes", { worker: "prom-a" }))).toBe(2);
    expect(got.get(key("vexo_sv_worker_stale", { worker: "prom-a" }))).toBe(0);
    expect(got.get(key("vexo_sv_worker_exits_window", { worker: "prom-a", reason: "crashed" }))).toBe(0);
    expect(got.get(key("vexo_sv_process_state", { worker: "prom-a", process: "prom-a_01", state: "RUNNING" }))).toBe(1);
    const rss = got.get(key("vexo_sv_process_resident_memory_bytes", { worker: "prom-a", process: "prom-a_00" }));
    expect(rss).toBeGreaterThan(0);
    // The same process as /proc shows it (memory moves: within a factor of two).
    const now = readProcStats([pids[0] as number]).get(pids[0] as number);
    expect(Math.abs(Math.log((rss as number) / (now?.rssBytes as number)))).toBeLessThan(Math.log(2));
  });

  it("--format prometheus prints what promtool accepts, and refuses --json", async () => {
    const r = await execa("node", [BIN, "status", "--format", "prometheus"], {
      env: sv.env,
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vexo_sv_worker_running_processes\{worker="prom-a"\} 2$/mu);
    const lint = await execa("promtool", ["check", "metrics"], { input: `${r.stdout}\n`, reject: false, all: true });
    expect([lint.exitCode, lint.all]).toEqual([0, ""]);
    const j = await cli(["status", "--format", "prometheus", "--json"], sv.env);
    expect([j.code, j.json.error.code]).toEqual([2, "usage"]);
  });

  it("a supervisord that cannot be asked still gets a file that says so, and exit 1", async () => {
    const cfgDir = fs.mkdtempSync(path.join(os.tmpdir(), "vexo-prom-down-"));
    try {
      fs.chmodSync(cfgDir, 0o755);
      fs.mkdirSync(path.join(cfgDir, "conf.d"), { mode: 0o755 });
      const config = path.join(cfgDir, "supervisord.conf");
      fs.writeFileSync(
        config,
        `[unix_http_server]\nfile=${cfgDir}/none.sock\n[supervisorctl]\nserverurl=unix://${cfgDir}/none.sock\n[include]\nfiles=conf.d/*.conf\n`,
        { mode: 0o644 },
      );
      const r = await cli(["status", "--textfile", dir, "--json", "--config", config], sv.env);
      expect(r.code).toBe(1);
      expect(r.json.error.code).toBe("supervisord_unreachable");
      const got = await scrape();
      expect(got.get(key("node_textfile_scrape_error"))).toBe(0);
      expect(got.get(key("vexo_sv_collection_success"))).toBe(0);
      expect(got.get(key("vexo_sv_supervisord_up"))).toBe(0);
    } finally {
      fs.rmSync(cfgDir, { recursive: true, force: true });
    }
  });
});
