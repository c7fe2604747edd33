/**
 * `npm run init -- [--yes] [flags]`
 *
 * Makes the stack files a team's own, as `kamal init` does: domain and hostnames, the app's
 * one service (image, port, health path, migration command, workers, secret names),
 * registry user, GitHub repository and reviewers, region, server counts and sizes. Asks
 * each question with the current value as its default (or takes flags with --yes), edits
 * Pulumi.{dev,staging,prod}.yaml in place (comments, other keys and `secure:` values are
 * kept), validates the result with the program's own config check before writing anything,
 * and prints the `pulumi config set --secret` commands still to run. Running it again with
 * the same answers changes nothing.
 */
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { Document, isMap, parseDocument } from "yaml";
import { parseSettings, STACKS } from "../infra/config";
import { PROJECT, RETIRED_KEYS } from "../infra/config/schema";
import { configSource, ENCRYPTED, offlineSecrets, parseStackFile, serviceSecretNames, StackConfig } from "./lib/stacks";

export const HELP = `Usage: npm run init -- [--yes] [--work-dir <dir>] [--json] [answers as flags]

Makes Pulumi.dev.yaml, Pulumi.staging.yaml and Pulumi.prod.yaml your team's own. Without
--yes it asks each question, showing the current value as the default (Enter keeps it).
Nothing is written unless every stack passes the program's config check.

  --domain <zone>              your DigitalOcean DNS zone, e.g. example.com
  --frontend-host <name>       prod's frontend record (default app; staging/dev use "staging"/"dev")
  --image <repository>         the app's one service (services.app): its image repository
                               without tag, e.g. ghcr.io/acme/shop; the flags below describe it
  --tag <tag>                  image tag to deploy first
  --registry-user <user>       registry user for a private image ("" for a public one)
  --port <n>                   port the app listens on in its container
  --health-path <path>         the app's health endpoint, e.g. /healthz
  --migrate <command>          migration command run once per deploy ("" for none)
  --worker <name>=<command>    a worker process (repeatable; --worker "" for none)
  --secrets <A,B,...>          names of the app's secret env vars ("" for none)
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
  --yes                        take the flags and current values, ask nothing
  --work-dir <dir>             where the stack files live (default: this repository)
  --json                       print the result as JSON
  -h, --help                   this help

Exit codes: 0 written (or already up to date), 2 usage or config error.`;

/** The answers init asks for; undefined keeps the current value. */
export interface Answers {
    domain?: string;
    frontendHost?: string;
    image?: string;
    tag?: string;
    registryUser?: string;
    port?: string;
    healthPath?: string;
    migrate?: string;
    workers?: string[];
    secrets?: string;
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
}

export class InitError extends Error {}

const VALUE_FLAGS: Record<string, keyof Answers> = {
    "--domain": "domain", "--frontend-host": "frontendHost", "--image": "image", "--tag": "tag", "--registry-user": "registryUser",
    "--port": "port", "--health-path": "healthPath", "--migrate": "migrate", "--secrets": "secrets", "--github": "github",
    "--reviewers": "reviewers", "--reviewer-teams": "reviewerTeams", "--region": "region", "--acme-email": "acmeEmail",
    "--slack-channel": "slackChannel",
};
const LIST_FLAGS: Record<string, "workers" | "sshKeys" | "alertEmails"> = { "--worker": "workers", "--ssh-key": "sshKeys", "--alert-email": "alertEmails" };
const STACK_FLAGS: Record<string, "servers" | "serverSize" | "dbSize"> = { "--servers": "servers", "--server-size": "serverSize", "--db-size": "dbSize" };

export interface InitArgs { answers: Answers; yes: boolean; json: boolean; workDir: string }

export function parseArgs(argv: string[]): InitArgs | "help" {
    const out: InitArgs = { answers: {}, yes: false, json: false, workDir: path.resolve(__dirname, "..") };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || (v.startsWith("--") && v.length > 2)) throw new InitError(`${a} needs a value`);
            return v;
        };
        if (a === "-h" || a === "--help") return "help";
        else if (a === "--yes" || a === "-y") out.yes = true;
        else if (a === "--json") out.json = true;
        else if (a === "--work-dir") out.workDir = path.resolve(value());
        else if (VALUE_FLAGS[a]) (out.answers as Record<string, unknown>)[VALUE_FLAGS[a]] = value();
        else if (LIST_FLAGS[a]) {
            const v = value();
            const list = (out.answers[LIST_FLAGS[a]] ??= []);
            if (v !== "") list.push(v);
        } else if (STACK_FLAGS[a]) {
            const v = value();
            const m = /^([a-z]+)=(.+)$/.exec(v);
            if (!m || !(STACKS as readonly string[]).includes(m[1])) throw new InitError(`${a} ${v}: expected <stack>=<value> with stack one of ${STACKS.join(", ")}`);
            (out.answers[STACK_FLAGS[a]] ??= {})[m[1]] = m[2];
        } else throw new InitError(`unknown argument ${a} (see --help)`);
    }
    return out;
}

/** Splits a command line into argv: whitespace separates, single or double quotes group. */
export function splitCommand(line: string): string[] {
    const out: string[] = [];
    const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
    for (const m of line.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
    return out;
}

const joinCommand = (argv: string[]) => argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `"${a}"`)).join(" ");
const csv = (s: string) => s.split(/[,\s]+/).map((x) => x.trim()).filter((x) => x !== "");

/** Per-stack record names: prod owns the frontend host given; the others carry their name. */
function hostsFor(stack: string, prodFrontend: string): { frontendHost: string; apiHost: string } {
    if (stack === "prod") return { frontendHost: prodFrontend, apiHost: prodFrontend === "api" ? "api-public" : "api" };
    return { frontendHost: stack, apiHost: `api.${stack}` };
}

const DEFAULT_VPC: Record<string, string> = { dev: "10.10.0.0/20", staging: "10.20.0.0/20", prod: "10.30.0.0/20" };
const HEADER: Record<string, string> = {
    dev: "# dev: one small server with a reserved IP; deploys from main only. Written by `npm run init`.\n# Secrets are set with `pulumi config set --secret` (see docs/getting-started.md).\n",
    staging: "# staging: mirrors prod (same program, same edge kind), smaller sizes. Written by `npm run init`.\n# Secrets are set with `pulumi config set --secret` (see docs/getting-started.md).\n",
    prod: "# prod: protected data, approvals, a standby database. Written by `npm run init`.\n# Secrets are set with `pulumi config set --secret` (see docs/getting-started.md).\n",
};

/** Per-stack defaults for a stack file that does not exist yet. */
const FRESH: Record<string, Record<string, unknown>> = {
    dev: { serverCount: 1, serverSize: "s-1vcpu-1gb", serverBackups: false, protectData: false, dbSize: "db-s-1vcpu-1gb", dbNodeCount: 1 },
    staging: { serverCount: 2, serverSize: "s-1vcpu-2gb", serverBackups: true, protectData: false, dbSize: "db-s-1vcpu-2gb", dbNodeCount: 1 },
    prod: { serverCount: 2, serverSize: "s-2vcpu-4gb", serverBackups: true, protectData: true, dbSize: "db-s-2vcpu-4gb", dbNodeCount: 2 },
};

/** The current value of a key in a stack file's config, decoded; undefined when unset. */
function current(cfg: StackConfig, key: string): unknown {
    const raw = cfg.values[`${PROJECT}:${key}`];
    if (raw === undefined) return undefined;
    try { return /^[[{]/.test(raw) ? JSON.parse(raw) : raw; } catch { return raw; }
}

/** The full name of a stack file's frontendHost or apiHost. */
function fqdnOf(cfg: Pick<StackConfig, "values">, key: "frontendHost" | "apiHost"): string {
    const host = String(cfg.values[`${PROJECT}:${key}`] ?? "");
    const domain = String(cfg.values[`${PROJECT}:domain`] ?? "");
    return host === "@" ? domain : `${host}.${domain}`;
}

/** A service entry as init reads and writes it (the stack file's `services.<name>`). */
interface ServiceEntry {
    image?: string; tag?: string | number; digest?: string; pin?: string; port?: number | string; memoryMb?: number;
    health?: unknown; env?: Record<string, string>; secrets?: string[]; database?: boolean; routes?: string[];
    migrationCommand?: string[]; processes?: Record<string, { command: string[]; memoryMb?: number }>;
}

/** The name of the one service init writes from its answers. */
export const INIT_SERVICE = "app";

/** Defaults for every question, from the current prod file (then staging, then dev). */
export function defaultsFrom(files: Record<string, StackConfig>): Required<Omit<Answers, "servers" | "serverSize" | "dbSize">> & Pick<Answers, "servers" | "serverSize" | "dbSize"> {
    const get = (key: string): unknown => ["prod", "staging", "dev"].map((s) => (files[s] ? current(files[s], key) : undefined)).find((v) => v !== undefined);
    const str = (key: string, d = "") => String(get(key) ?? d);
    const list = (key: string) => ((get(key) as string[] | undefined) ?? []).map(String);
    // The answers describe one service: a stack's only service, when it declares one.
    const declared = Object.values((get("services") as Record<string, ServiceEntry> | undefined) ?? {});
    const one: ServiceEntry = declared.length === 1 ? declared[0] : {};
    const procs = one.processes ?? {};
    return {
        domain: str("domain"),
        frontendHost: files.prod ? str("frontendHost", "app") : "app",
        image: one.image ?? "",
        tag: String(one.tag ?? ""),
        registryUser: str("ghcrUsername"),
        port: String(one.port ?? "3000"),
        healthPath: str("healthPath", "/api/v1/health"),
        migrate: joinCommand(one.migrationCommand ?? []),
        workers: Object.entries(procs).map(([n, p]) => `${n}=${joinCommand(p.command ?? [])}`),
        secrets: (one.secrets ?? []).join(","),
        github: get("githubOwner") ? `${str("githubOwner")}/${str("githubRepository")}` : "",
        reviewers: files.prod ? ((current(files.prod, "githubReviewers") as string[] | undefined) ?? []).join(",") : "",
        reviewerTeams: files.prod ? ((current(files.prod, "githubReviewerTeams") as string[] | undefined) ?? []).join(",") : "",
        region: str("region", "nyc3"),
        sshKeys: list("sshKeys"),
        alertEmails: list("alertEmails"),
        acmeEmail: str("acmeEmail"),
        slackChannel: str("slackChannel"),
    };
}

export interface StackEdit { stack: string; file: string; before: string | undefined; after: string }

/** Applies the answers to each stack file's text. Pure: reads nothing, writes nothing. */
export function applyAnswers(texts: Record<string, string | undefined>, answers: Answers): StackEdit[] {
    const files = Object.fromEntries(Object.entries(texts).filter(([, t]) => t !== undefined).map(([s, t]) => [s, parseStackFile(t!)]));
    const d = defaultsFrom(files);
    const a = { ...d, ...Object.fromEntries(Object.entries(answers).filter(([, v]) => v !== undefined)) } as typeof d;
    const [owner, repo, ...rest] = a.github.split("/");
    if (a.github !== "" && (rest.length > 0 || !owner || !repo)) throw new InitError(`--github ${a.github}: expected <owner>/<repository>, e.g. acme/shop-platform`);
    if (!/^\d+$/.test(a.port)) throw new InitError(`--port ${a.port}: expected a port number, e.g. 8080`);
    const processes: Record<string, { command: string[]; memoryMb?: number }> = {};
    for (const w of a.workers) {
        const m = /^([^=]+)=(.+)$/.exec(w);
        if (!m) throw new InitError(`--worker ${w}: expected <name>=<command>, e.g. worker="node dist/worker.js"`);
        processes[m[1].trim()] = { command: splitCommand(m[2]) };
    }

    return STACKS.map((stack) => {
        const file = `Pulumi.${stack}.yaml`;
        const before = texts[stack];
        const doc: Document = before !== undefined ? parseDocument(before) : parseDocument(`${HEADER[stack]}config: {}\n`);
        if (!isMap(doc.get("config", true))) doc.set("config", doc.createNode({}));
        const cur = before !== undefined ? files[stack] : undefined;
        const set = (key: string, value: unknown) => doc.setIn(["config", `${PROJECT}:${key}`], doc.createNode(value));
        const setIfMissing = (key: string, value: unknown) => { if (!cur || current(cur, key) === undefined) set(key, value); };

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
            if (!cur || current(cur, "apiHost") === undefined || stack === "prod" && answers.frontendHost !== undefined) set("apiHost", hosts.apiHost);
        }
        if (a.acmeEmail !== "" || (cur && current(cur, "acmeEmail") !== undefined)) set("acmeEmail", a.acmeEmail);
        if (a.alertEmails.length > 0) set("alertEmails", a.alertEmails);
        // Slack stays where it was configured unless asked: dev usually has none.
        if (answers.slackChannel !== undefined && stack !== "dev") set("slackChannel", a.slackChannel);
        set("ghcrUsername", a.registryUser);
        // A key the program no longer reads would make the config check refuse the file.
        for (const k of Object.keys(RETIRED_KEYS)) doc.deleteIn(["config", `${PROJECT}:${k}`]);
        const declared = cur ? current(cur, "services") : undefined;
        const names = declared && typeof declared === "object" ? Object.keys(declared) : [];
        if (answers.image === undefined && names.length > 0 && !(names.length === 1 && names[0] === INIT_SERVICE)) {
            // The stack declares several services: they stay, with their routes moved to the new
            // host names. Their images, ports and commands are edited in the file itself.
            const now = parseStackFile(doc.toString());
            const moved: Record<string, string> = { [fqdnOf(cur!, "frontendHost")]: fqdnOf(now, "frontendHost"), [fqdnOf(cur!, "apiHost")]: fqdnOf(now, "apiHost") };
            for (const [name, svc] of Object.entries(declared as Record<string, { routes?: unknown }>)) {
                if (!Array.isArray(svc?.routes)) continue;
                doc.setIn(["config", `${PROJECT}:services`, name, "routes"], doc.createNode(svc.routes.map((r) => (typeof r === "string" ? r.replace(/^[^/]+/, (h) => moved[h] ?? h) : r))));
            }
        } else {
            // One service from the answers, routed on both hosts; services, if any, give way to it.
            const now = parseStackFile(doc.toString());
            const old = ((cur ? current(cur, "services") : undefined) as Record<string, ServiceEntry> | undefined)?.[INIT_SERVICE] ?? {};
            const keepPin = old.digest !== undefined && String(old.tag) === a.tag;
            const svc: ServiceEntry = {
                image: a.image, tag: a.tag, ...(keepPin ? { digest: old.digest, pin: old.pin } : {}),
                port: Number(a.port), health: { path: a.healthPath }, ...(old.memoryMb !== undefined ? { memoryMb: old.memoryMb } : {}),
                ...(old.env ? { env: old.env } : {}), secrets: csv(a.secrets), database: true,
                routes: [`${fqdnOf(now, "frontendHost")}/`, `${fqdnOf(now, "apiHost")}/`],
                migrationCommand: splitCommand(a.migrate),
                processes: Object.fromEntries(Object.entries(processes).map(([n, p]) => [n, old.processes?.[n]?.memoryMb !== undefined ? { ...p, memoryMb: old.processes[n].memoryMb } : p])),
            };
            set("services", { [INIT_SERVICE]: svc });
        }
        if (a.github !== "") { set("githubOwner", owner); set("githubRepository", repo); }
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
        try { cfg = parseStackFile(e.after); } catch (err) { throw new InitError(`${e.file}: ${(err as Error).message}`); }
        const placeholders = offlineSecrets(cfg.values);
        const s = parseSettings(configSource({ ...cfg.values, ...placeholders }, [...cfg.secretKeys, ...Object.keys(placeholders)]), e.stack);
        counts[e.stack] = s.servers.count;
    }
    if (counts.staging !== undefined && counts.prod !== undefined && (counts.staging > 1) !== (counts.prod > 1)) {
        throw new InitError(`platform:serverCount: staging has ${counts.staging} and prod ${counts.prod}; expected the same edge kind (both 1, or both more than 1) so staging rehearses prod's load balancer — use --servers staging=${counts.prod > 1 ? 2 : 1}`);
    }
}

/** The `pulumi config set --secret` (and rm) commands a stack still needs. */
export function secretsLeft(stack: string, text: string): string[] {
    const cfg = parseStackFile(text);
    const has = (k: string) => cfg.secretKeys.includes(`${PROJECT}:${k}`);
    const val = (k: string) => cfg.values[`${PROJECT}:${k}`] ?? "";
    const out: string[] = [];
    if (!has("tailscaleApiKey")) out.push(`pulumi config set --secret tailscaleApiKey --stack ${stack}   # prompts for the tskey-api-... value`);
    if (val("ghcrUsername") !== "" && !has("ghcrToken")) out.push(`pulumi config set --secret ghcrToken --stack ${stack}   # prompts for a token with read:packages`);
    if (val("slackChannel") !== "" && !has("slackWebhookUrl")) out.push(`pulumi config set --secret slackWebhookUrl --stack ${stack}   # prompts for the https://hooks.slack.com/services/... URL`);
    const names = serviceSecretNames(val("services") || "{}");
    let held: string[] = [];
    try {
        const raw = val("appSecrets");
        held = raw === "" || raw === ENCRYPTED ? [] : Object.keys(JSON.parse(raw) as object);
    } catch { held = []; }
    for (const n of names) if (!held.includes(n)) out.push(`pulumi config set --secret --path 'appSecrets.${n}' --stack ${stack}   # prompts for the value`);
    for (const n of held) if (!names.includes(n)) out.push(`pulumi config rm --path 'appSecrets.${n}' --stack ${stack}`);
    return out;
}

interface Io { out: (s: string) => void; err: (s: string) => void; input?: NodeJS.ReadableStream }

/** Asks each question on `input`, the current value as default. */
async function ask(answers: Answers, defaults: ReturnType<typeof defaultsFrom>, io: Io): Promise<Answers> {
    const rl = readline.createInterface({ input: io.input ?? process.stdin, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    const q = async (label: string, def: string): Promise<string> => {
        io.out(`${label}${def !== "" ? ` [${def}]` : ""}: `);
        const next = await lines.next();
        const v = next.done ? "" : String(next.value).trim();
        io.out("\n");
        return v === "" ? def : v === "-" ? "" : v;
    };
    const out: Answers = { ...answers };
    const str = async (key: keyof Answers, label: string) => {
        if (out[key] === undefined) (out as Record<string, unknown>)[key] = await q(label, String(defaults[key as keyof typeof defaults] ?? ""));
    };
    io.out("Answer each question; Enter keeps the value in [brackets], - clears it.\n");
    await str("domain", "DNS zone (a DigitalOcean domain)");
    await str("frontendHost", "prod frontend record (@ for the apex)");
    await str("image", "image repository (no tag)");
    await str("tag", "first image tag to deploy");
    await str("registryUser", "registry user for a private image (- if public)");
    await str("port", "app port inside the container");
    await str("healthPath", "health endpoint path");
    await str("migrate", "migration command (- for none)");
    if (out.workers === undefined) {
        const w = await q("worker processes as name=command, separated by ; (- for none)", defaults.workers.join("; "));
        out.workers = w.split(";").map((x) => x.trim()).filter(Boolean);
    }
    await str("secrets", "app secret names, comma-separated");
    await str("github", "GitHub owner/repository");
    await str("reviewers", "prod reviewers (GitHub users, comma-separated)");
    await str("region", "DigitalOcean region");
    if (out.sshKeys === undefined) out.sshKeys = csv(await q("SSH key fingerprints or ids, comma-separated", defaults.sshKeys.join(",")));
    if (out.alertEmails === undefined) out.alertEmails = csv(await q("alert emails, comma-separated", defaults.alertEmails.join(",")));
    if (out.servers === undefined) {
        const prod = await q("prod servers", "");
        if (prod !== "") out.servers = { prod };
    }
    rl.close();
    return out;
}

export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
    let args: InitArgs | "help";
    try {
        args = parseArgs(argv);
    } catch (e) {
        io.err(`error: ${(e as Error).message}\n`);
        return 2;
    }
    if (args === "help") { io.out(`${HELP}\n`); return 0; }
    const texts: Record<string, string | undefined> = {};
    for (const s of STACKS) {
        const f = path.join(args.workDir, `Pulumi.${s}.yaml`);
        texts[s] = fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined;
    }
    try {
        let answers = args.answers;
        if (!args.yes) {
            const files = Object.fromEntries(Object.entries(texts).filter(([, t]) => t !== undefined).map(([s, t]) => [s, parseStackFile(t!)]));
            answers = await ask(answers, defaultsFrom(files), io);
        }
        const edits = applyAnswers(texts, answers);
        validate(edits);
        const changed: string[] = [];
        for (const e of edits) {
            if (e.before === e.after) continue;
            fs.writeFileSync(path.join(args.workDir, e.file), e.after);
            changed.push(e.file);
        }
        const secrets = edits.flatMap((e) => secretsLeft(e.stack, e.after));
        if (args.json) {
            io.out(`${JSON.stringify({ result: "ok", changed, secretsToSet: secrets }, null, 2)}\n`);
        } else {
            io.out(changed.length > 0 ? `wrote ${changed.join(", ")}\n` : "stack files already up to date\n");
            if (secrets.length > 0) {
                io.out("\nStill to run (after `pulumi login` and `pulumi stack init <stack>`), then commit the stack files:\n");
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
    main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: Error) => {
        process.stderr.write(`error: ${e.message.split("\n")[0]}\n`);
        process.exitCode = 2;
    });
}
