import http from "node:http";
import path from "node:path";

// What the tests ask supervisord directly, over its XML-RPC interface on the private socket:
// the same answer `supervisorctl status` prints (supervisorctl calls this very method), for a
// few milliseconds instead of a Python start. Tests wait on it; what vexo-sv itself reports is
// still checked through vexo-sv.

/** One process as supervisord's getAllProcessInfo reports it. */
export interface ProcInfo {
  /** As supervisorctl writes it: `group:name`, or `name` alone when the two are the same (make_namespec). */
  namespec: string;
  group: string;
  name: string;
  statename: string;
  pid: number;
  spawnerr: string;
  description: string;
}

const unescape = (s: string) =>
  s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/gu, (_m, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
    if (e in named) return named[e] as string;
    return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });

/** Parses getAllProcessInfo's answer: an array of flat structs of strings and ints. */
export function parseProcessInfo(xml: string): ProcInfo[] {
  if (xml.includes("<fault>")) throw new Error(`supervisord answered with a fault: ${xml.slice(0, 500)}`);
  // Anything but an array answer is an error, never an empty list (which would make "nothing changed" hold vacuously).
  if (!/^\s*(<\?xml[^>]*>\s*)?<methodResponse>\s*<params>\s*<param>\s*<value>\s*<array>/u.test(xml)) {
    throw new Error(`not an XML-RPC array answer: ${xml.slice(0, 500)}`);
  }
  const structs = xml.split("<struct>").slice(1);
  return structs.map((s) => {
    const m: Record<string, string> = {};
    for (const [, k, v] of s.matchAll(/<member>\s*<name>([^<]*)<\/name>\s*<value>([\s\S]*?)<\/value>\s*<\/member>/gu)) {
      // <string>x</string>, <int>3</int>, <string/>, or a bare x (a string by XML-RPC's rules).
      const inner = (v as string).replace(/^<(\w+)>([\s\S]*)<\/\1>$/u, "$2").replace(/^<\w+\/>$/u, "");
      m[k as string] = unescape(inner);
    }
    const group = m.group ?? "";
    const name = m.name ?? "";
    return {
      namespec: group === name ? name : `${group}:${name}`,
      group,
      name,
      statename: m.statename ?? "",
      pid: Number(m.pid ?? 0),
      spawnerr: m.spawnerr ?? "",
      description: m.description ?? "",
    };
  });
}

/** Every process of the private supervisord in DIR (made by `vexo-sv install --prefix DIR`). */
export function processInfo(dir: string): Promise<ProcInfo[]> {
  const body = "<?xml version='1.0'?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>";
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: path.join(dir, "supervisor.sock"),
        path: "/RPC2",
        method: "POST",
        headers: { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(body) },
        timeout: 30_000,
        agent: false, // a connection per call: nothing kept open to a supervisord that a test shuts down
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`supervisord answered HTTP ${res.statusCode} to getAllProcessInfo`));
          return;
        }
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          try {
            resolve(parseProcessInfo(text));
          } catch (e) {
            reject(e);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("supervisord did not answer getAllProcessInfo within 30 s")));
    req.on("error", reject);
    req.end(body);
  });
}

/** The processes of one group. */
export async function groupInfo(dir: string, group: string): Promise<ProcInfo[]> {
  return (await processInfo(dir)).filter((p) => p.group === group);
}

/**
 * supervisord's state as one line per process, `group:name STATE pid N`, in its own order:
 * what does not change unless something was started, stopped, added or removed (no uptimes).
 */
export async function stateLines(dir: string): Promise<string> {
  return (await processInfo(dir)).map((p) => `${p.namespec} ${p.statename} pid ${p.pid}${p.spawnerr ? ` (${p.spawnerr})` : ""}`).join("\n");
}
