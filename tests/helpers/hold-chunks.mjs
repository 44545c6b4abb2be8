// `node --import tests/helpers/hold-chunks.mjs BIN ...`: holds a vexo-sv run after its entry file
// is read and before the first of its chunks is found, until the file VEXO_HOLD_UNTIL exists
// (it writes VEXO_HOLD_UNTIL.waiting once it is held, and the name of every chunk it then loads
// to VEXO_HOLD_UNTIL.resolved): a run in flight across a rebuild of dist/.
import { register } from "node:module";

register("./hold-chunks-hooks.mjs", import.meta.url);
