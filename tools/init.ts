/**
 * `npm run init -- [--yes] [flags]`
 *
 * Makes the stack files a team's own, as `kamal init` does: domain and hostnames, the app's
 * services (add, change, rename, remove: image, port, health, routes, database, secrets,
 * migration, workers), registry user, GitHub repository and reviewers, region, server counts
 * and sizes. Asks each question with the current value as its default (or takes flags with
 * --yes), edits Pulumi.{dev,staging,prod}.yaml in place (comments, other keys and `secure:`
 * values are kept), validates the result with the program's own config check before writing
 * anything, warns about every value still the sample team's, and prints the `pulumi config
 * set --secret` commands still to run. Running it again with the same answers changes nothing.
 */
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { Document, isMap, isScalar, parseDocument, YAMLMap } from "yaml";
import { parseSettings, STACKS } from "../infra/config";
import { PROJECT, RETIRED_KEYS } from "../infra/config/schema";
import { configSource, ENCRYPTED, offlineSecrets, parseStackFile, secretsLeft, StackConfig } from "./lib/stacks";
import { codeOwnerHandles } from "./lib/approval";

export const HELP = `Usage: npm run init -- [--yes] [--work-dir <dir>] [--json] [answers as flags]

Makes Pulumi.dev.yaml, Pulumi.staging.yaml and Pulumi.prod.yaml your team's own. Without
--yes it asks each question, showing the current value as the default (Enter keeps it).
Nothing is written unless every stack passes the program's config check. Every value still
the sample team's (acme-shop) is then named in a warning, with the flag that sets yours.

  --domain <zone>              your DigitalOcean DNS zone, e.g. example.com
  --frontend-host <name>       prod's frontend record (default app; staging/dev use "staging"/"dev")
  --registry-user <user>       registry user for private images ("" for public ones)
  --github <owner>/<repo>      repository whose GitHub environments the stacks manage
  --reviewers <a,b>            prod's required reviewers (GitHub users)
  --reviewer-teams <t,u>       prod's reviewer teams
  --region <slug>              DigitalOcean region, e.g. nyc3, ams3, fra1
  --ssh-key <fingerprint|id>   DigitalOcean SSH key for break-glass root (repeatable)
  --alert-email <email>        alert recipient (repeatable)
  --acme-email <email>         Let's Encrypt account email ("" for none)
  --slack-channel <#channel>   alert channel ("" for none; needs the slackWebhookUrl secret)
  --servers <stack>=<n>        app servers per stack (repeatable), e.g. prod=3
  --server-size <stack>=<slug> droplet size per stack (repeatable)
  --db-size <stack>=<slug>     database size per stack (repeatable)
  --service <change>           add, change, rename or remove a service (repeatable, applied in
                               order to every stack; see Services below)
  --yes                        take the flags and current values, ask nothing
  --work-dir <dir>             where the stack files live (default: this repository)
  --json                       print the result as JSON (warnings included)
  -h, --help                   this help

Services: one --service per change, one argument (quote it when it holds spaces):
  --service <name>=<image>:<tag> [<option>...]   add <name>, or change its image and tag
  --service "<name> <option>..."                  change <name>
  --service -<name>                               remove <name>
Options are key=value words (quote a value with spaces: migrate="bin/rails db:migrate"):
  name=<new name>              rename the service
  image=<image>[:<tag>]        its image repository and tag, as <name>=<image>:<tag>
  port=<n>                     the port it listens on in its container
  health=<path>|none           its health endpoint (answers 200), or none for a static site
  route=<front|api>:<prefix>   a route on the frontend or the API host, e.g. front:/ or api:/v1
                               (repeat it; the routes given replace the service's routes)
  database=true|false          whether it receives DATABASE_URL
  secrets=<A,B>                its secret env var names (secrets= for none)
  migrate=<command>            migration command run once per deploy (migrate= for none)
  worker=<name>:<command>      a worker process (repeat it; the workers given replace the
                               service's; worker= for none)
A new service needs <name>=<image>:<tag> and health=; when it is the only service its routes
default to front:/ and api:/. Some service must answer its health path on the API host (the
load balancer and the uptime check probe it there). For example:
  --service "api port=8080 health=/healthz" --service "web name=site" --service -docs
  --service "admin=ghcr.io/acme/admin:1.0 health=none route=front:/admin"

Exit codes: 0 written (or already up to date), 2 usage or config error.`;

/** The answers init asks for; undefined keeps the current value. */
export interface Answers {
    domain?: string;
    frontendHost?: string;
    registryUser?: string;
    github?: string;
    reviewers?: string;
    reviewerTeams?: string;
    region?: string;
    sshKeys?: string[];
    alertEmails?: string[];
    acmeEmail?: string;
    slackChannel?: string;
    servers?: Record<string, string>;
    serverSize?: Record<string, string>;
    dbSize?: Record<string, string>;
    /** Service changes, applied in order to every stack. */
    services?: ServiceOp[];
}

export class InitError extends Error {}

const VALUE_FLAGS: Record<string, keyof Answers> = {
    "--domain": "domain",
    "--frontend-host": "frontendHost",
    "--registry-user": "registryUser",
    "--github": "github",
    "--reviewers": "reviewers",
    "--reviewer-teams": "reviewerTeams",
    "--region": "region",
    "--acme-email": "acmeEmail",
    "--slack-channel": "slackChannel",
};
const LIST_FLAGS: Record<string, "sshKeys" | "alertEmails"> = {
    "--ssh-key": "sshKeys",
    "--alert-email": "alertEmails",
};
const STACK_FLAGS: Record<string, "servers" | "serverSize" | "dbSize"> = {
    "--servers": "servers",
    "--server-size": "serverSize",
    "--db-size": "dbSize",
};
/**
 * The one-service flags --service replaced: on a stack of several services they could only
 * have meant "make this the one service", a silent deletion of the others.
 */
const RETIRED_FLAGS: Record<string, string> = {
    "--image": "<name>=<image>:<tag>",
    "--tag": "<name>=<image>:<tag>",
    "--port": '"<name> port=<n>"',
    "--health-path": '"<name> health=<path>"',
    "--migrate": '"<name> migrate=<command>"',
    "--worker": '"<name> worker=<worker>:<command>"',
    "--secrets": '"<name> secrets=<A,B>"',
};

export interface InitArgs {
    answers: Answers;
    yes: boolean;
    json: boolean;
    workDir: string;
}

export function parseArgs(argv: string[]): InitArgs | "help" {
    const out: InitArgs = { answers: {}, yes: false, json: false, workDir: path.resolve(__dirname, "..") };
    const seen = new Map<string, string>();
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || (v.startsWith("--") && v.length > 2)) throw new InitError(`${a} needs a value`);
            return v;
        };
        /** A flag that takes one value: given twice is a mistake, not "the last one wins". */
        const once = (key: string, v: string) => {
            if (seen.has(key))
                throw new InitError(
                    `${key} given twice (${JSON.stringify(seen.get(key))} and ${JSON.stringify(v)}); expected it once`,
                );
            seen.set(key, v);
            return v;
        };
        if (a === "-h" || a === "--help") return "help";
        else if (a === "--yes" || a === "-y") out.yes = true;
        else if (a === "--json") out.json = true;
        else if (a === "--work-dir") out.workDir = path.resolve(once(a, value()));
        else if (VALUE_FLAGS[a]) (out.answers as Record<string, unknown>)[VALUE_FLAGS[a]] = once(a, value());
        else if (LIST_FLAGS[a]) {
            const v = value();
            const list = (out.answers[LIST_FLAGS[a]] ??= []);
            if (v !== "") list.push(v);
        } else if (STACK_FLAGS[a]) {
            const v = value();
            const m = /^([a-z]+)=(.+)$/.exec(v);
            if (!m || !(STACKS as readonly string[]).includes(m[1]))
                throw new InitError(`${a} ${v}: expected <stack>=<value> with stack one of ${STACKS.join(", ")}`);
            (out.answers[STACK_FLAGS[a]] ??= {})[once(`${a} ${m[1]}=`, m[1])] = m[2];
        } else if (a === "--service") (out.answers.services ??= []).push(parseServiceFlag(value()));
        else if (RETIRED_FLAGS[a])
            throw new InitError(
                `${a} is retired: services are set with --service, e.g. --service ${RETIRED_FLAGS[a]} (see --help)`,
            );
        else throw new InitError(`unknown argument ${a} (see --help)`);
    }
    return out;
}

/** Splits a command line into words as a shell would for plain words and quotes (quotes may sit inside a word). */
export function splitCommand(line: string): string[] {
    const out: string[] = [];
    let word: string | undefined;
    let quote: string | undefined;
    for (const ch of line) {
        if (quote !== undefined) {
            if (ch === quote) quote = undefined;
            else word += ch;
        } else if (ch === '"' || ch === "'") {
            quote = ch;
            word ??= "";
        } else if (/\s/.test(ch)) {
            if (word !== undefined) out.push(word);
            word = undefined;
        } else word = (word ?? "") + ch;
    }
    if (quote !== undefined) throw new InitError(`${line}: a ${quote} is not closed`);
    if (word !== undefined) out.push(word);
    return out;
}

const joinCommand = (argv: string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a}"`)).join(" ");
const csv = (s: string) =>
    s
        .split(/[,\s]+/)
        .map((x) => x.trim())
        .filter((x) => x !== "");

/** A route as --service writes it: on the frontend or the API host, a path prefix. */
export interface RouteOption {
    host: "front" | "api";
    path: string;
}

/** One --service value (or one interactive service answer), parsed. Unset fields keep the service's value. */
export type ServiceOp =
    | { kind: "remove"; name: string; text: string }
    | {
          kind: "set";
          name: string;
          text: string;
          rename?: string;
          image?: string;
          tag?: string;
          port?: number;
          health?: string;
          routes?: RouteOption[];
          database?: boolean;
          secrets?: string[];
          migrate?: string[];
          workers?: Record<string, string[]>;
      };

const NAME = /^[a-z][a-z0-9-]*$/;

/** Parses `<name>[=<image>[:<tag>]] [key=value...]` or `-<name>`; one line naming the flag, the value and what is allowed when it is not that. */
export function parseServiceFlag(text: string, flag = "--service"): ServiceOp {
    const bad = (what: string, allowed: string): never => {
        throw new InitError(`${flag} ${JSON.stringify(text)}: ${what} is not valid; expected ${allowed} (see --help)`);
    };
    let words: string[];
    try {
        words = splitCommand(text);
    } catch {
        return bad("an unclosed quote", "quotes in pairs");
    }
    const [head, ...opts] = words;
    if (head === undefined) return bad("an empty value", '<name>=<image>:<tag>, "<name> <option>..." or -<name>');
    if (head.startsWith("-")) {
        if (!NAME.test(head.slice(1)) || opts.length > 0) bad(head, "-<name> alone, e.g. -web");
        return { kind: "remove", name: head.slice(1), text };
    }
    const eq = head.indexOf("=");
    const name = eq < 0 ? head : head.slice(0, eq);
    if (!NAME.test(name)) bad(name, "a service name (lowercase letters, digits, dashes), e.g. api");
    const op: Extract<ServiceOp, { kind: "set" }> = { kind: "set", name, text };
    const image = (v: string) => {
        const colon = v.lastIndexOf(":");
        const [repo, tag] = colon > v.lastIndexOf("/") ? [v.slice(0, colon), v.slice(colon + 1)] : [v, undefined];
        if (repo === "" || tag === "" || op.image !== undefined)
            bad(`image ${v}`, "one image as <repository>[:<tag>], e.g. ghcr.io/acme/api:1.4.2");
        op.image = repo;
        op.tag = tag;
    };
    if (eq >= 0) image(head.slice(eq + 1));
    for (const o of opts) {
        const at = o.indexOf("=");
        const [key, v] = at < 0 ? [o, undefined] : [o.slice(0, at), o.slice(at + 1)];
        const single = (field: keyof typeof op) => {
            if (op[field] !== undefined) bad(o, `${key}= once`);
        };
        if (v === undefined)
            bad(o, "options as key=value: name, image, port, health, route, database, secrets, migrate, worker");
        else if (key === "name") {
            single("rename");
            if (!NAME.test(v)) bad(o, "name=<new name>, e.g. name=site");
            op.rename = v;
        } else if (key === "image") image(v);
        else if (key === "port") {
            single("port");
            if (!/^\d{1,5}$/.test(v)) bad(o, "port=<number>, e.g. port=8080");
            op.port = Number(v);
        } else if (key === "health") {
            single("health");
            if (v !== "none" && !v.startsWith("/")) bad(o, "health=<path>, e.g. health=/healthz, or health=none");
            op.health = v;
        } else if (key === "route") {
            const m = /^(front|api):(\/.*)$/.exec(v);
            if (!m) bad(o, "route=front:<prefix> or route=api:<prefix>, e.g. route=front:/ or route=api:/v1");
            else (op.routes ??= []).push({ host: m[1] as RouteOption["host"], path: m[2] });
        } else if (key === "database") {
            single("database");
            if (v !== "true" && v !== "false") bad(o, "database=true or database=false");
            op.database = v === "true";
        } else if (key === "secrets") {
            single("secrets");
            op.secrets = csv(v);
        } else if (key === "migrate") {
            single("migrate");
            try {
                op.migrate = splitCommand(v);
            } catch {
                bad(o, "a command with its quotes in pairs");
            }
        } else if (key === "worker") {
            op.workers ??= {};
            if (v === "") continue;
            const m = /^([a-z][a-z0-9-]*):(.+)$/.exec(v);
            if (!m || op.workers[m[1]] !== undefined)
                bad(o, 'worker=<name>:<command> once per worker, e.g. worker=jobs:"bundle exec sidekiq"');
            try {
                op.workers[m![1]] = splitCommand(m![2]);
            } catch {
                bad(o, "a command with its quotes in pairs");
            }
        } else bad(o, "an option among name, image, port, health, route, database, secrets, migrate, worker");
    }
    return op;
}

/** Per-stack record names: prod owns the frontend host given; the others carry their name. */
function hostsFor(stack: string, prodFrontend: string): { frontendHost: string; apiHost: string } {
    if (stack === "prod") return { frontendHost: prodFrontend, apiHost: prodFrontend === "api" ? "api-public" : "api" };
    return { frontendHost: stack, apiHost: `api.${stack}` };
}

const DEFAULT_VPC: Record<string, string> = { dev: "10.10.0.0/20", staging: "10.20.0.0/20", prod: "10.30.0.0/20" };
const HEADER: Record<string, string> = {
    dev: "# dev: one small server with a reserved IP; deploys from main only. Written by `npm run init`.\n# Secrets are set with `pulumi config set --secret` (see docs/getting-started.md).\n",
    staging:
        "# staging: mirrors prod (same program, same edge kind), smaller sizes. Written by `npm run init`.\n# Secrets are set with `pulumi config set --secret` (see docs/getting-started.md).\n",
    prod: "# prod: protected data, approvals, a standby database. Written by `npm run init`.\n# Secrets are set with `pulumi config set --secret` (see docs/getting-started.md).\n",
};

/** Per-stack defaults for a stack file that does not exist yet. */
const FRESH: Record<string, Record<string, unknown>> = {
    dev: {
        serverCount: 1,
        serverSize: "s-1vcpu-1gb",
        serverBackups: false,
        protectData: false,
        dbSize: "db-s-1vcpu-1gb",
        dbNodeCount: 1,
    },
    staging: {
        serverCount: 2,
        serverSize: "s-1vcpu-2gb",
        serverBackups: true,
        protectData: false,
        dbSize: "db-s-1vcpu-2gb",
        dbNodeCount: 1,
    },
    prod: {
        serverCount: 2,
        serverSize: "s-2vcpu-4gb",
        serverBackups: true,
        protectData: true,
        dbSize: "db-s-2vcpu-4gb",
        dbNodeCount: 2,
    },
};

/** The current value of a key in a stack file's config, decoded; undefined when unset. */
function current(cfg: StackConfig, key: string): unknown {
    const raw = cfg.values[`${PROJECT}:${key}`];
    if (raw === undefined) return undefined;
    try {
        return /^[[{]/.test(raw) ? JSON.parse(raw) : raw;
    } catch {
        return raw;
    }
}

/** The full name of a stack file's frontendHost or apiHost. */
function fqdnOf(cfg: Pick<StackConfig, "values">, key: "frontendHost" | "apiHost"): string {
    const host = String(cfg.values[`${PROJECT}:${key}`] ?? "");
    const domain = String(cfg.values[`${PROJECT}:domain`] ?? "");
    return host === "@" ? domain : `${host}.${domain}`;
}

/** A service entry as init reads and writes it (the stack file's `services.<name>`). */
interface ServiceEntry {
    image?: string;
    tag?: string | number;
    digest?: string;
    pin?: string;
    port?: number | string;
    memoryMb?: number;
    health?: unknown;
    env?: Record<string, string>;
    secrets?: string[];
    database?: boolean;
    routes?: string[];
    migrationCommand?: string[];
    processes?: Record<string, { command: string[]; memoryMb?: number }>;
}

/** Defaults for every question, from the current prod file (then staging, then dev). */
export function defaultsFrom(
    files: Record<string, StackConfig>,
): Required<Omit<Answers, "servers" | "serverSize" | "dbSize" | "services">> &
    Pick<Answers, "servers" | "serverSize" | "dbSize"> {
    const get = (key: string): unknown =>
        ["prod", "staging", "dev"]
            .map((s) => (files[s] ? current(files[s], key) : undefined))
            .find((v) => v !== undefined);
    const str = (key: string, d = "") => String(get(key) ?? d);
    const list = (key: string) => ((get(key) as string[] | undefined) ?? []).map(String);
    return {
        domain: str("domain"),
        frontendHost: files.prod ? str("frontendHost", "app") : "app",
        registryUser: str("ghcrUsername"),
        github: get("githubOwner") ? `${str("githubOwner")}/${str("githubRepository")}` : "",
        reviewers: files.prod ? ((current(files.prod, "githubReviewers") as string[] | undefined) ?? []).join(",") : "",
        reviewerTeams: files.prod
            ? ((current(files.prod, "githubReviewerTeams") as string[] | undefined) ?? []).join(",")
            : "",
        region: str("region", "nyc3"),
        sshKeys: list("sshKeys"),
        alertEmails: list("alertEmails"),
        acmeEmail: str("acmeEmail"),
        slackChannel: str("slackChannel"),
    };
}

/** The services of the first stack file that declares some (prod, then staging, then dev), by name. */
function servicesOf(
    files: Record<string, StackConfig>,
): { stack: string; services: Record<string, ServiceEntry> } | undefined {
    for (const stack of ["prod", "staging", "dev"]) {
        const s = files[stack] ? current(files[stack], "services") : undefined;
        if (s && typeof s === "object" && !Array.isArray(s) && Object.keys(s).length > 0)
            return { stack, services: s as Record<string, ServiceEntry> };
    }
    return undefined;
}

export interface StackEdit {
    stack: string;
    file: string;
    before: string | undefined;
    after: string;
}

/** What a stack's routes are written against: its frontend and API hosts, fully qualified. */
interface Hosts {
    front: string;
    api: string;
}

const routeFor = (r: RouteOption, hosts: Hosts) => `${r.host === "front" ? hosts.front : hosts.api}${r.path}`;

/** `app.example.com/api` as --service writes it (front:/api), when it is on one of the stack's hosts. */
function routeOption(route: string, hosts: Hosts): string {
    const slash = route.indexOf("/");
    const host = slash < 0 ? route : route.slice(0, slash);
    const p = slash < 0 ? "/" : route.slice(slash);
    return host === hosts.front ? `front:${p}` : host === hosts.api ? `api:${p}` : route;
}

/**
 * Applies the service changes to one stack file's `services` mapping in place, so comments,
 * key order and fields init does not know (env, memoryMb, smokeRequests) stay.
 */
function applyServiceOps(doc: Document, file: string, ops: ServiceOp[], hosts: Hosts): void {
    const keyPath = ["config", `${PROJECT}:services`];
    if (!isMap(doc.getIn(keyPath, true))) doc.setIn(keyPath, doc.createNode({}));
    const map = doc.getIn(keyPath, true) as YAMLMap;
    const has = (n: string) => map.has(n);
    for (const op of ops) {
        const bad = (what: string): never => {
            throw new InitError(`--service ${JSON.stringify(op.text)}: ${what}`);
        };
        if (op.kind === "remove") {
            map.delete(op.name);
            continue;
        }
        let name = op.name;
        if (op.rename !== undefined && op.rename !== name) {
            if (has(name) && has(op.rename))
                bad(
                    `${file} already has a service ${op.rename}; expected a new name, or remove that one first with --service -${op.rename}`,
                );
            if (has(name)) {
                const pair = map.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === name)!;
                pair.key = doc.createNode(op.rename);
            }
            // Not there but the new name is: renamed by an earlier run.
            name = op.rename;
        }
        const set = (field: string, value: unknown) => doc.setIn([...keyPath, name, field], doc.createNode(value));
        const drop = (field: string) => doc.deleteIn([...keyPath, name, field]);
        if (!has(name)) {
            if (op.image === undefined || op.tag === undefined || op.health === undefined) {
                bad(
                    `${file} has no service ${name}; expected a new service's image, tag and health: --service "${name}=<image>:<tag> health=<path>|none ..." (see --help)`,
                );
            }
            const routes =
                op.routes ??
                (map.items.length === 0
                    ? ([
                          { host: "front", path: "/" },
                          { host: "api", path: "/" },
                      ] as RouteOption[])
                    : undefined);
            if (!routes)
                bad(
                    `a new service next to others needs its routes; expected route=front:<prefix> or route=api:<prefix>, e.g. route=front:/${name}`,
                );
            map.set(
                doc.createNode(name),
                doc.createNode({
                    image: op.image,
                    tag: op.tag,
                    port: op.port ?? 3000,
                    health: op.health === "none" ? "none" : { path: op.health },
                }),
            );
            set(
                "routes",
                routes!.map((r) => routeFor(r, hosts)),
            );
        } else {
            const old = (doc.getIn([...keyPath, name], true) as YAMLMap).toJSON() as ServiceEntry;
            if (op.image !== undefined) set("image", op.image);
            if (op.tag !== undefined && op.tag !== String(old.tag)) {
                set("tag", op.tag);
                // A pin belongs to the tag it was made for (npm run pin makes a new one).
                drop("digest");
                drop("pin");
            }
            if (op.port !== undefined) set("port", op.port);
            if (op.health !== undefined) set("health", op.health === "none" ? "none" : { path: op.health });
            if (op.routes !== undefined)
                set(
                    "routes",
                    op.routes.map((r) => routeFor(r, hosts)),
                );
        }
        if (op.database !== undefined) set("database", op.database);
        if (op.secrets !== undefined) {
            if (op.secrets.length > 0) set("secrets", op.secrets);
            else drop("secrets");
        }
        if (op.migrate !== undefined) {
            if (op.migrate.length > 0) set("migrationCommand", op.migrate);
            else drop("migrationCommand");
        }
        if (op.workers !== undefined) {
            const old = ((doc.getIn([...keyPath, name], true) as YAMLMap).toJSON() as ServiceEntry).processes ?? {};
            const procs = Object.fromEntries(
                Object.entries(op.workers).map(([n, command]) => [
                    n,
                    old[n]?.memoryMb !== undefined ? { command, memoryMb: old[n].memoryMb } : { command },
                ]),
            );
            if (Object.keys(procs).length > 0) set("processes", procs);
            else drop("processes");
        }
    }
}

/** Applies the answers to each stack file's text. Pure: reads nothing, writes nothing. */
export function applyAnswers(texts: Record<string, string | undefined>, answers: Answers): StackEdit[] {
    const files = Object.fromEntries(
        Object.entries(texts)
            .filter(([, t]) => t !== undefined)
            .map(([s, t]) => [s, parseStackFile(t!)]),
    );
    const d = defaultsFrom(files);
    const a = { ...d, ...Object.fromEntries(Object.entries(answers).filter(([, v]) => v !== undefined)) } as typeof d;
    const [owner, repo, ...rest] = a.github.split("/");
    if (a.github !== "" && (rest.length > 0 || !owner || !repo))
        throw new InitError(`--github ${a.github}: expected <owner>/<repository>, e.g. acme/shop-platform`);
    const template = servicesOf(files);

    return STACKS.map((stack) => {
        const file = `Pulumi.${stack}.yaml`;
        const before = texts[stack];
        const doc: Document =
            before !== undefined ? parseDocument(before) : parseDocument(`${HEADER[stack]}config: {}\n`);
        if (!isMap(doc.get("config", true))) doc.set("config", doc.createNode({}));
        const cur = before !== undefined ? files[stack] : undefined;
        const set = (key: string, value: unknown) => doc.setIn(["config", `${PROJECT}:${key}`], doc.createNode(value));
        const setIfMissing = (key: string, value: unknown) => {
            if (!cur || current(cur, key) === undefined) set(key, value);
        };

        set("region", a.region);
        setIfMissing("vpcIpRange", DEFAULT_VPC[stack]);
        for (const [k, v] of Object.entries(FRESH[stack])) setIfMissing(k, v);
        if (a.servers?.[stack]) set("serverCount", Number(a.servers[stack]));
        if (a.serverSize?.[stack]) set("serverSize", a.serverSize[stack]);
        if (a.dbSize?.[stack]) set("dbSize", a.dbSize[stack]);
        if (a.sshKeys.length > 0) set("sshKeys", a.sshKeys);
        setIfMissing("tailscaleTags", ["tag:server", `tag:${stack}`]);
        if (a.domain !== "") set("domain", a.domain.toLowerCase());
        const hosts = hostsFor(stack, a.frontendHost);
        if (stack === "prod" || !cur || current(cur, "frontendHost") === undefined) {
            set("frontendHost", hosts.frontendHost);
            if (
                !cur ||
                current(cur, "apiHost") === undefined ||
                (stack === "prod" && answers.frontendHost !== undefined)
            )
                set("apiHost", hosts.apiHost);
        }
        if (a.acmeEmail !== "" || (cur && current(cur, "acmeEmail") !== undefined)) set("acmeEmail", a.acmeEmail);
        if (a.alertEmails.length > 0) set("alertEmails", a.alertEmails);
        // Slack stays where it was configured unless asked: dev usually has none.
        if (answers.slackChannel !== undefined && stack !== "dev") set("slackChannel", a.slackChannel);
        set("ghcrUsername", a.registryUser);
        // A key the program no longer reads would make the config check refuse the file.
        for (const k of Object.keys(RETIRED_KEYS)) doc.deleteIn(["config", `${PROJECT}:${k}`]);

        // The services stay, their routes moved to the new host names; then the changes asked for.
        const now = parseStackFile(doc.toString());
        const to: Hosts = { front: fqdnOf(now, "frontendHost"), api: fqdnOf(now, "apiHost") };
        const declared = cur ? current(cur, "services") : undefined;
        if (declared && typeof declared === "object") {
            const moved: Record<string, string> = {
                [fqdnOf(cur!, "frontendHost")]: to.front,
                [fqdnOf(cur!, "apiHost")]: to.api,
            };
            for (const [name, svc] of Object.entries(declared as Record<string, { routes?: unknown }>)) {
                if (!Array.isArray(svc?.routes)) continue;
                doc.setIn(
                    ["config", `${PROJECT}:services`, name, "routes"],
                    doc.createNode(
                        svc.routes.map((r) => (typeof r === "string" ? r.replace(/^[^/]+/, (h) => moved[h] ?? h) : r)),
                    ),
                );
            }
        } else if (!cur && template) {
            // A stack file that does not exist yet starts with the services the others declare, on its own hosts.
            const from = files[template.stack];
            const moved: Record<string, string> = {
                [fqdnOf(from, "frontendHost")]: to.front,
                [fqdnOf(from, "apiHost")]: to.api,
            };
            set(
                "services",
                Object.fromEntries(
                    Object.entries(template.services).map(([n, s]) => [
                        n,
                        { ...s, routes: (s.routes ?? []).map((r) => r.replace(/^[^/]+/, (h) => moved[h] ?? h)) },
                    ]),
                ),
            );
        }
        applyServiceOps(doc, file, answers.services ?? [], to);

        if (a.github !== "") {
            set("githubOwner", owner);
            set("githubRepository", repo);
        }
        if (stack === "prod") {
            if (answers.reviewers !== undefined || !cur) set("githubReviewers", csv(a.reviewers));
            if (answers.reviewerTeams !== undefined) set("githubReviewerTeams", csv(a.reviewerTeams));
        }
        return { stack, file, before, after: doc.toString({ lineWidth: 0 }) };
    });
}

/** Validates each edited stack with the program's own config check (secrets as placeholders). */
export function validate(edits: StackEdit[]): void {
    const counts: Record<string, number> = {};
    for (const e of edits) {
        let cfg: StackConfig;
        try {
            cfg = parseStackFile(e.after);
        } catch (err) {
            throw new InitError(`${e.file}: ${(err as Error).message}`);
        }
        const placeholders = offlineSecrets(cfg.values);
        const s = parseSettings(
            configSource({ ...cfg.values, ...placeholders }, [...cfg.secretKeys, ...Object.keys(placeholders)]),
            e.stack,
        );
        counts[e.stack] = s.servers.count;
    }
    if (counts.staging !== undefined && counts.prod !== undefined && counts.staging > 1 !== counts.prod > 1) {
        throw new InitError(
            `platform:serverCount: staging has ${counts.staging} and prod ${counts.prod}; expected the same edge kind (both 1, or both more than 1) so staging rehearses prod's load balancer — use --servers staging=${counts.prod > 1 ? 2 : 1}`,
        );
    }
}

/**
 * The sample team's values the repository ships with (Pulumi.*.yaml): its name (domain,
 * emails, registry user, GitHub owner, images), Slack channel, reviewers and SSH key. A value
 * holding one after init ran is still the sample's, not the team's.
 */
export const SAMPLE_MARKERS = [
    "acme-shop",
    "#shop-alerts",
    "maria-acme",
    "devon-acme",
    "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa",
];

/** The flag that sets each key a sample value can sit in. */
const FLAG_OF: Record<string, string> = {
    domain: "--domain",
    acmeEmail: "--acme-email",
    alertEmails: "--alert-email",
    slackChannel: "--slack-channel",
    ghcrUsername: "--registry-user",
    githubOwner: "--github",
    githubRepository: "--github",
    githubReviewers: "--reviewers",
    githubReviewerTeams: "--reviewer-teams",
    sshKeys: "--ssh-key",
};

/** One warning per value still holding the sample's, naming the file, the key, the value and the flag that sets it. */
export function sampleWarnings(edits: StackEdit[]): string[] {
    const out: string[] = [];
    const leaves = (v: unknown, at: string[]): [string[], string][] =>
        Array.isArray(v)
            ? v.flatMap((x) => leaves(x, at))
            : v && typeof v === "object"
              ? Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]))
              : [[at, String(v)]];
    for (const e of edits) {
        for (const [key, raw] of Object.entries(parseStackFile(e.after).values)) {
            if (!key.startsWith(`${PROJECT}:`) || raw === ENCRYPTED) continue;
            let value: unknown = raw;
            try {
                value = /^[[{]/.test(raw) ? JSON.parse(raw) : raw;
            } catch {
                value = raw;
            }
            for (const [at, v] of leaves(value, [key.slice(PROJECT.length + 1)])) {
                if (!SAMPLE_MARKERS.some((m) => v.includes(m))) continue;
                // Routes and hosts follow --domain, which has its own warning.
                if (at[0] === "services" && at[2] === "routes") continue;
                const how =
                    at[0] === "services"
                        ? at[2] === "image"
                            ? `--service ${at[1]}=<image>:<tag>`
                            : `--service "${at[1]} ${at[2]}=..." or edit ${e.file}`
                        : (FLAG_OF[at[0]] ?? `edit ${e.file}`);
                out.push(
                    `${e.file}: ${PROJECT}:${at.join(".")} still holds the sample's value ${v} — set yours with ${how}`,
                );
            }
        }
    }
    return [...new Set(out)];
}

interface Io {
    out: (s: string) => void;
    err: (s: string) => void;
    input?: NodeJS.ReadableStream;
}

/** One line describing a service in the --service option words, for the interactive question. */
function describe(name: string, s: ServiceEntry, hosts: Hosts): string {
    const health = s.health === "none" ? "none" : ((s.health as { path?: string } | undefined)?.path ?? "command");
    const parts = [
        `${name}=${s.image}:${String(s.tag)}`,
        `port=${String(s.port ?? 3000)}`,
        `health=${health}`,
        ...(s.routes ?? []).map((r) => `route=${routeOption(r, hosts)}`),
    ];
    if (s.database) parts.push("database=true");
    if (s.secrets?.length) parts.push(`secrets=${s.secrets.join(",")}`);
    if (s.migrationCommand?.length) parts.push(`migrate=${JSON.stringify(joinCommand(s.migrationCommand))}`);
    for (const [w, p] of Object.entries(s.processes ?? {}))
        parts.push(`worker=${w}:${JSON.stringify(joinCommand(p.command))}`);
    return parts.join(" ");
}

/** Asks each question on `input`, the current value as default; `check` tries the answers so far (a bad service answer is asked again). */
async function ask(
    answers: Answers,
    texts: Record<string, string | undefined>,
    io: Io,
    check: (a: Answers) => void,
): Promise<Answers> {
    const files = Object.fromEntries(
        Object.entries(texts)
            .filter(([, t]) => t !== undefined)
            .map(([s, t]) => [s, parseStackFile(t!)]),
    );
    const defaults = defaultsFrom(files);
    const rl = readline.createInterface({ input: io.input ?? process.stdin, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    const line = async (label: string): Promise<string> => {
        io.out(label);
        const next = await lines.next();
        io.out("\n");
        return next.done ? "" : String(next.value).trim();
    };
    const q = async (label: string, def: string): Promise<string> => {
        const v = await line(`${label}${def !== "" ? ` [${def}]` : ""}: `);
        return v === "" ? def : v === "-" ? "" : v;
    };
    const out: Answers = { ...answers };
    const str = async (key: keyof typeof defaults, label: string) => {
        if (out[key] === undefined) (out as Record<string, unknown>)[key] = await q(label, String(defaults[key] ?? ""));
    };
    /** Asks until the answer parses and applies; Enter gives up on it. */
    const serviceAnswer = async (label: string, prefix: string): Promise<ServiceOp | undefined> => {
        for (;;) {
            const v = await line(label);
            if (v === "") return undefined;
            try {
                const op = parseServiceFlag(`${prefix}${v}`, "answer");
                check({ ...out, services: [...(out.services ?? []), op] });
                return op;
            } catch (e) {
                if (!(e instanceof InitError)) throw e;
                io.out(`error: ${e.message}\n`);
            }
        }
    };
    io.out("Answer each question; Enter keeps the value in [brackets], - clears it.\n");
    await str("domain", "DNS zone (a DigitalOcean domain)");
    await str("frontendHost", "prod frontend record (@ for the apex)");
    await str("registryUser", "registry user for private images (- if public)");
    if (out.services === undefined) {
        out.services = [];
        const declared = servicesOf(files);
        const hosts: Hosts = declared
            ? { front: fqdnOf(files[declared.stack], "frontendHost"), api: fqdnOf(files[declared.stack], "apiHost") }
            : { front: "", api: "" };
        io.out(
            "Services (route=front:... is on the frontend host, route=api:... on the API host; options as in --help):\n",
        );
        for (const [name, svc] of Object.entries(declared?.services ?? {})) {
            io.out(`  ${describe(name, svc, hosts)}\n`);
            for (;;) {
                const v = (await line(`service ${name}: keep, change or remove? [keep]: `)).toLowerCase();
                if (v === "" || v === "keep") break;
                if (v === "remove" || v === "-") {
                    out.services.push({ kind: "remove", name, text: `-${name}` });
                    break;
                }
                if (v === "change") {
                    const op = await serviceAnswer(
                        `${name}: the options to change, e.g. image=ghcr.io/you/${name}:1.0.1 port=8080 health=/healthz name=new-name: `,
                        `${name} `,
                    );
                    if (op) out.services.push(op);
                    break;
                }
                io.out(`error: ${JSON.stringify(v)} is not an answer here; expected keep (Enter), change or remove\n`);
            }
        }
        for (;;) {
            const op = await serviceAnswer(
                "add another service? <name>=<image>:<tag> health=<path>|none route=<front|api>:<prefix> ... (Enter for no): ",
                "",
            );
            if (!op) break;
            out.services.push(op);
        }
    }
    await str("github", "GitHub owner/repository");
    await str("reviewers", "prod reviewers (GitHub users, comma-separated)");
    await str("region", "DigitalOcean region");
    if (out.sshKeys === undefined)
        out.sshKeys = csv(await q("SSH key fingerprints or ids, comma-separated", defaults.sshKeys.join(",")));
    if (out.alertEmails === undefined)
        out.alertEmails = csv(await q("alert emails, comma-separated", defaults.alertEmails.join(",")));
    if (out.servers === undefined) {
        const prod = await q("prod servers", "");
        if (prod !== "") out.servers = { prod };
    }
    rl.close();
    return out;
}

/** Prod's approvers as CODEOWNERS spells them: @user for githubReviewers, @org/team for githubReviewerTeams. */
export function approversOf(prod: StackConfig): string[] {
    const list = (k: string) => {
        try {
            return JSON.parse(prod.values[`${PROJECT}:${k}`] ?? "[]") as string[];
        } catch {
            return [];
        }
    };
    return codeOwnerHandles({
        owner: prod.values[`${PROJECT}:githubOwner`] ?? "",
        reviewers: list("githubReviewers"),
        reviewerTeams: list("githubReviewerTeams"),
    });
}

/** CODEOWNERS with every rule's owners replaced by `owners` (comments and patterns kept); unchanged without owners. */
export function withOwners(text: string, owners: string[]): string {
    if (owners.length === 0) return text;
    return text
        .split("\n")
        .map((line) => {
            const m = /^(\S+)(\s+)@\S+(?:\s+@\S+)*\s*$/.exec(line);
            return m && !line.startsWith("#") ? `${m[1]}${m[2]}${owners.join(" ")}` : line;
        })
        .join("\n");
}

export async function main(
    argv: string[],
    io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
): Promise<number> {
    let args: InitArgs | "help";
    try {
        args = parseArgs(argv);
    } catch (e) {
        io.err(`error: ${(e as Error).message}\n`);
        return 2;
    }
    if (args === "help") {
        io.out(`${HELP}\n`);
        return 0;
    }
    const texts: Record<string, string | undefined> = {};
    for (const s of STACKS) {
        const f = path.join(args.workDir, `Pulumi.${s}.yaml`);
        texts[s] = fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined;
    }
    try {
        let answers = args.answers;
        if (!args.yes) answers = await ask(answers, texts, io, (a) => applyAnswers(texts, a));
        const edits = applyAnswers(texts, answers);
        validate(edits);
        const changed: string[] = [];
        for (const e of edits) {
            if (e.before === e.after) continue;
            fs.writeFileSync(path.join(args.workDir, e.file), e.after);
            changed.push(e.file);
        }
        // CODEOWNERS names prod's approvers (doctor checks they agree): follow the stack file.
        const owners = path.join(args.workDir, ".github", "CODEOWNERS");
        const prod = edits.find((e) => e.stack === "prod");
        if (prod && fs.existsSync(owners)) {
            const before = fs.readFileSync(owners, "utf8");
            const after = withOwners(before, approversOf(parseStackFile(prod.after)));
            if (after !== before) {
                fs.writeFileSync(owners, after);
                changed.push(".github/CODEOWNERS");
            }
        }
        const secrets = edits.flatMap((e) => secretsLeft(e.stack, parseStackFile(e.after)));
        const warnings = sampleWarnings(edits);
        if (args.json) {
            io.out(`${JSON.stringify({ result: "ok", changed, secretsToSet: secrets, warnings }, null, 2)}\n`);
        } else {
            io.out(changed.length > 0 ? `wrote ${changed.join(", ")}\n` : "stack files already up to date\n");
            for (const w of warnings) io.err(`warning: ${w}\n`);
            if (secrets.length > 0) {
                io.out(
                    "\nStill to run (after `pulumi login` and `pulumi stack init <stack>`), then commit the stack files:\n",
                );
                for (const c of secrets) io.out(`  ${c}\n`);
            }
            io.out("\nNext: npm run doctor -- --offline, then npm test, then npm run doctor -- --stack staging\n");
        }
        return 0;
    } catch (e) {
        const err = e as Error;
        if (err instanceof InitError || err.name === "ConfigError") {
            io.err(`error: ${err.message}\n`);
            return 2;
        }
        throw e;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: Error) => {
            process.stderr.write(`error: ${e.message.split("\n")[0]}\n`);
            process.exitCode = 2;
        },
    );
}
