// Preloaded into server-everything by bench/mcp.sh (NODE_OPTIONS=--require ...).
// server-everything calls `app.listen(PORT)`, which binds every interface; this makes a
// listen on a bare port bind 127.0.0.1 instead, so the benchmark stays on loopback.
"use strict";
const net = require("node:net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  const isPort = typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first));
  if (isPort && typeof args[1] !== "string") {
    args.splice(1, 0, "127.0.0.1");
  } else if (first && typeof first === "object" && first.port !== undefined && !first.host) {
    args[0] = { ...first, host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
