#!/usr/bin/env node
import "../dist/vexo-sv.js";
