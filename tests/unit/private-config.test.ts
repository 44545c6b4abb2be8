import { describe, expect, it } from "vitest";
import { privateConfigChanges, renderPrivateConfig } from "../../src/core/private-config.js";

const dir = "/srv/sv";
const config = `${dir}/supervisord.conf`;
const ours = renderPrivateConfig(dir);

describe("privateConfigChanges: a marker config is trusted only as vexo-sv writes it", () => {
  it.each([
    ["as written", ours, []],
    ["a key left out (childlogdir)", ours.replace(/^childlogdir=.*\n/mu, ""), []],
    ["spacing and comments that parse the same", ours.replace("chmod=0700", "chmod = 0700 ; note"), []],
    ["a program appended", `${ours}\n[program:x]\ncommand=/bin/id\n`, ["[program:x] is not a section vexo-sv writes"]],
    ["a key added", ours.replace("chmod=0700", "chmod=0700\nchown=nobody"), ["[unix_http_server] chown is not a key vexo-sv writes"]],
    ["a value changed", ours.replace("chmod=0700", "chmod=0777"), ["[unix_http_server] chmod is not the value vexo-sv writes"]],
    ["a continuation line", ours.replace("chmod=0700", "chmod=0700\n  0777"), ["[unix_http_server] chmod is not the value vexo-sv writes"]],
    ["a DEFAULT section", `${ours}[DEFAULT]\nx=1\n`, ["[DEFAULT] x is not a key vexo-sv writes"]],
    [
      "another directory's config",
      renderPrivateConfig("/srv/other"),
      expect.arrayContaining(["[supervisord] pidfile is not the value vexo-sv writes"]),
    ],
  ])("%s", (_what, text, changes) => {
    expect(privateConfigChanges(config, text as string)).toEqual(changes);
  });
});
