// `node --import ./tests/helpers/umask0.mjs ...`: the process starts with umask 000, as a careless
// provisioning script might leave it.
process.umask(0);
