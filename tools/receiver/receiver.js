#!/usr/bin/env node
// A Fluent Forward receiver built on the Fluent project's own FluentServer
// (npm @fluent-org/logger). Tests and `make run` use it as the real peer.
//
//   node tools/receiver/receiver.js [--port N] [--host H] [--out FILE] [--pretty]
//        [--shared-key K --server-hostname H] [--users user:pass,...]
//        [--tls-cert F --tls-key F [--tls-ca F --tls-require-client-cert]]
//
// Prints "LISTENING <port>" once the socket is bound, then one JSON line per entry
// ({"tag", "time": [sec, nsec] | number, "record"}) to --out (appended) or stdout.
"use strict";
const fs = require("fs");
const { FluentServer } = require("@fluent-org/logger");

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) {
      args[key] = true;
    } else {
      args[key] = next;
      i++;
    }
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const options = {
  listenOptions: { port: Number(args.port || 0), host: args.host || "127.0.0.1" },
};
if (args["shared-key"]) {
  const userDict = {};
  if (args.users) {
    for (const pair of String(args.users).split(",")) {
      const [u, p] = pair.split(":");
      userDict[u] = p;
    }
  }
  options.security = {
    serverHostname: args["server-hostname"] || "receiver",
    sharedKey: String(args["shared-key"]),
    authorize: Boolean(args.users),
    userDict,
  };
}
if (args["tls-cert"]) {
  options.tlsOptions = {
    cert: fs.readFileSync(args["tls-cert"]),
    key: fs.readFileSync(args["tls-key"]),
  };
  if (args["tls-ca"]) {
    options.tlsOptions.ca = fs.readFileSync(args["tls-ca"]);
    options.tlsOptions.requestCert = Boolean(args["tls-require-client-cert"]);
    options.tlsOptions.rejectUnauthorized = Boolean(args["tls-require-client-cert"]);
  }
}

const out = args.out ? fs.openSync(args.out, "a") : null;
const server = new FluentServer(options);

// FluentServer writes a chunk's ack before it emits the chunk's entries, so a SIGKILL in
// between loses records that were already acked. Deferring the socket's writes (and its
// end and destroy, to keep their order: a refused PONG is written just before the close)
// to the next tick makes this receiver ack only after the entries are written to --out,
// as Fluentd acks only after the chunk is in its buffer.
const handleConnection = server.handleConnection.bind(server);
server.handleConnection = (socket) => {
  for (const name of ["write", "end", "destroy"]) {
    const original = socket[name].bind(socket);
    socket[name] = (...args) => {
      process.nextTick(() => original(...args));
      return name === "write" ? true : socket;
    };
  }
  return handleConnection(socket);
};

function timeOf(time) {
  if (time && typeof time === "object" && "epoch" in time) return [time.epoch, time.nano];
  return time;
}

function replacer(_key, value) {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return { $bin: Buffer.from(value).toString("base64") };
  return value;
}

server.on("entry", (tag, time, record) => {
  const line = JSON.stringify({ tag, time: timeOf(time), record }, replacer);
  if (args.pretty) {
    process.stdout.write(`${tag} ${JSON.stringify(record, replacer)}\n`);
  } else if (out !== null) {
    fs.writeSync(out, line + "\n");
  } else {
    process.stdout.write(line + "\n");
  }
});

server.listen().then(() => {
  process.stdout.write(`LISTENING ${server.port}\n`);
});

function stop() {
  server.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
