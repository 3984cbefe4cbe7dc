// Bun applies bunfig's `timeout` to tests only; hooks keep a 5 s default. Setup that starts a
// chain, compiles a contract or launches the binary can take longer on a loaded CI machine.
export const SETUP_TIMEOUT_MS = 60_000;
