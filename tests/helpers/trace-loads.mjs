// `node --import ./tests/helpers/trace-loads.mjs ...`: appends the URL of every module the
// process loads to the file named by VEXO_TRACE_LOADS (module hooks run in their own thread).
import { register } from "node:module";

register(new URL("./trace-hooks.mjs", import.meta.url), { data: { file: process.env.VEXO_TRACE_LOADS } });
