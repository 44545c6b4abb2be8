import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { World } from "../../src/core/world.js";

// src/core/programs.ts: what supervisord runs, by process group. `World.program(NAME)` works out
// one group alone (for `logs NAME` at a thousand workers) and must be exactly what the whole
// reading says of that name.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vx-programs-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function world(files: Record<string, string>): () => World {
  const dir = fs.mkdtempSync(path.join(tmp, "cfg-"));
  fs.mkdirSync(path.join(dir, "conf.d"));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return () => World.read({ config: path.join(dir, "supervisord.conf") });
}

describe("World.program(NAME)", () => {
  const make = world({
    "supervisord.conf": [
      "[unix_http_server]\nfile=%(here)s/s.sock\n[supervisord]\nlogfile=%(here)s/sd.log\n",
      "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n[include]\nfiles=conf.d/*.conf\n",
      "[program:main-one]\ncommand=/bin/true\n",
      "[group:pool]\nprograms=member-a,member-b\n",
    ].join(""),
    "conf.d/a.conf": "[program:member-a]\ncommand=/bin/true\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)s\n",
    "conf.d/b.conf": "[program:member-b]\ncommand=/bin/true\n[program: spaced ]\ncommand=/bin/true\n",
    "conf.d/c.conf":
      "[eventlistener:ev]\ncommand=/bin/true\nevents=TICK_5\n[fcgi-program:fc]\ncommand=/bin/true\nsocket=unix:///tmp/x.sock\n",
    "conf.d/d.conf": "[program:main-one]\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)s\n",
  });

  it("is, for every name, what the whole reading says of it (merged sections, groups, listeners)", () => {
    const all = make().programs();
    expect(all.map((e) => e.name).sort()).toEqual(["ev", "fc", "main-one", "pool", "spaced"]);
    for (const e of all) expect(make().program(e.name)).toEqual(e);
    // Merged across files: the main file's section and conf.d/d.conf's.
    expect(
      make()
        .program("main-one")
        ?.processes.map((p) => p.name),
    ).toEqual(["main-one_0", "main-one_1", "main-one_2"]);
  });

  it("knows no group for a program that runs inside a group, nor for a name nobody defines", () => {
    expect(make().program("member-a")).toBeUndefined();
    expect(make().program("nothing")).toBeUndefined();
    expect(
      make()
        .programs()
        .find((e) => e.name === "member-a"),
    ).toBeUndefined();
  });
});
