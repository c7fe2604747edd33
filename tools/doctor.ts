/**
 * `npm run doctor -- --stack <name> [--offline] [--json]`
 *
 * The preflight a person runs before the first `pulumi up`, with their real credentials:
 * one line per check, PASS/WARN/FAIL, and for a failure the fix. `--offline` runs only the
 * checks that need no network (the stack file passes the config check and holds every
 * secret, the pulumi CLI is installed). Every API base URL can be pointed elsewhere (the
 * tests use stand-ins on 127.0.0.1). Credentials come from the environment, never argv:
 * DIGITALOCEAN_TOKEN, TAILSCALE_API_KEY (else `pulumi config get tailscaleApiKey`),
 * TS_OAUTH_CLIENT_ID/TS_OAUTH_SECRET, GITHUB_TOKEN, GHCR_TOKEN; none is ever printed.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { parseSettings, Settings, STACKS } from "../infra/config";
import {
    committedStacks,
    configSource,
    offlineSecrets,
    readStackConfig,
    secretsLeft,
    UnknownStackError,
} from "./lib/stacks";
import { codeOwnerHandles } from "./lib/approval";
import { DO_TOKEN_SCOPES } from "./lib/digitalocean";
import { manifestDigest } from "./lib/registry";
import { DEPLOY_BRANCH, PROJECT } from "../infra/config/schema";
import { parse as parseYaml } from "yaml";
import { cidrsOverlap } from "../infra/config/validate";

export const HELP = `Usage: npm run doctor -- --stack <name> [--offline] [--json] [--work-dir <dir>]
                        [--do-api <url>] [--tailscale-api <url>] [--github-api <url>] [--registry-url <url>]

Checks, before the first \`pulumi up\`, that everything the stack needs is in place. One
line per check: PASS, WARN (cannot be confirmed from here) or FAIL with the fix.

Offline checks (also run with --offline): the stack file passes the config check, it holds
every secret the program needs, the pulumi CLI is installed.
Online checks: the DigitalOcean token works and can read every resource type the program
manages; the domain is a DigitalOcean zone; the SSH keys exist; the alert emails are
verified; the Tailscale key works, its ACL owns every server tag and the stack's CI tag
(tag:ci-<stack>), and lets that tag reach the stack's servers over SSH; the CI OAuth client
has the auth_keys scope; the GitHub token administers the repository and the
plan allows the approval settings; the image tag exists in the registry; the state
backend is reachable (\`pulumi whoami\`).

Credentials are read from the environment: DIGITALOCEAN_TOKEN, TAILSCALE_API_KEY (or the
stack's tailscaleApiKey through \`pulumi config get\`), TS_OAUTH_CLIENT_ID and TS_OAUTH_SECRET
(optional), GITHUB_TOKEN, GHCR_TOKEN. None is ever printed.

  --stack <name>        stack to check (default: staging)
  --offline             only the checks that need no network
  --json                machine-readable result
  --work-dir <dir>      where the stack files live (default: this repository)
  --do-api <url>        DigitalOcean API base (default https://api.digitalocean.com)
  --tailscale-api <url> Tailscale API base (default https://api.tailscale.com)
  --github-api <url>    GitHub API base (default https://api.github.com)
  --registry-url <url>  registry API base (default: https://<registry host of each service's image>)
  -h, --help            this help

Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 usage error.`;

export type Status = "PASS" | "WARN" | "FAIL";
export interface Check {
    id: string;
    status: Status;
    message: string;
    fix?: string;
}

export interface DoctorArgs {
    stack: string;
    offline: boolean;
    json: boolean;
    workDir: string;
    doApi: string;
    tailscaleApi: string;
    githubApi: string;
    registryUrl?: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): DoctorArgs | "help" {
    const a: DoctorArgs = {
        stack: "staging",
        offline: false,
        json: false,
        workDir: path.resolve(__dirname, ".."),
        doApi: "https://api.digitalocean.com",
        tailscaleApi: "https://api.tailscale.com",
        githubApi: "https://api.github.com",
    };
    const values: Record<string, (v: string) => void> = {
        "--stack": (v) => {
            a.stack = v;
        },
        "--work-dir": (v) => {
            a.workDir = path.resolve(v);
        },
        "--do-api": (v) => {
            a.doApi = v;
        },
        "--tailscale-api": (v) => {
            a.tailscaleApi = v;
        },
        "--github-api": (v) => {
            a.githubApi = v;
        },
        "--registry-url": (v) => {
            a.registryUrl = v;
        },
    };
    for (let i = 0; i < argv.length; i++) {
        const f = argv[i];
        if (f === "-h" || f === "--help") return "help";
        else if (f === "--offline") a.offline = true;
        else if (f === "--json") a.json = true;
        else if (values[f]) {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${f} needs a value`);
            values[f](v);
        } else throw new UsageError(`unknown argument ${f} (see --help)`);
    }
    return a;
}

// ---------------------------------------------------------------- HTTP

export interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    json: unknown;
}

/** One bounded request; the body is parsed as JSON when it is JSON. */
export function fetchJson(
    url: string,
    o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
    const lib = url.startsWith("https:") ? https : http;
    return new Promise((resolve, reject) => {
        const req = lib.request(
            url,
            { method: o.method ?? "GET", headers: { Accept: "application/json", ...o.headers }, timeout: 15_000 },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (c) => {
                    body += c;
                });
                res.on("end", () => {
                    let json: unknown;
                    try {
                        json = body === "" ? undefined : JSON.parse(body);
                    } catch {
                        json = undefined;
                    }
                    resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
                });
            },
        );
        req.on("timeout", () => req.destroy(new Error(`timed out talking to ${new URL(url).host}`)));
        req.on("error", reject);
        if (o.body) req.write(o.body);
        req.end();
    });
}

const pass = (id: string, message: string): Check => ({ id, status: "PASS", message });
const warn = (id: string, message: string, fix?: string): Check => ({ id, status: "WARN", message, fix });
const failed = (id: string, message: string, fix: string): Check => ({ id, status: "FAIL", message, fix });

// ---------------------------------------------------------------- offline

/** The stack's config as the program would read it, with placeholders for the secrets. */
function settingsOf(stack: string, dir: string): Settings {
    const cfg = readStackConfig(stack, dir);
    const ph = offlineSecrets(cfg.values);
    return parseSettings(configSource({ ...cfg.values, ...ph }, [...cfg.secretKeys, ...Object.keys(ph)]), stack);
}

export function offlineChecks(stack: string, dir: string): { checks: Check[]; settings?: Settings } {
    const checks: Check[] = [];
    let settings: Settings | undefined;
    try {
        settings = settingsOf(stack, dir);
        checks.push(pass("config", `Pulumi.${stack}.yaml passes the program's config check`));
    } catch (e) {
        const msg = (e as Error).message;
        checks.push(
            failed(
                "config",
                `Pulumi.${stack}.yaml: ${msg.split(" — ")[0]}`,
                msg.includes(" — ")
                    ? msg.split(" — ").slice(1).join(" — ")
                    : "correct the value named above in the stack file (npm run init can rewrite it)",
            ),
        );
    }
    if (settings) checks.push(...vpcChecks(stack, settings.network.vpcIpRange, dir));
    checks.push(codeownersCheck(readIfExists(path.join(dir, ".github", "CODEOWNERS")), prodApprovers(dir)));
    const left = secretsLeft(stack, readStackConfig(stack, dir));
    checks.push(
        left.length === 0
            ? pass("secrets", `Pulumi.${stack}.yaml holds every secret the program needs, encrypted`)
            : failed("secrets", `Pulumi.${stack}.yaml lacks ${left.length} secret(s)`, left.join(" ; ")),
    );
    const v = spawnSync("pulumi", ["version"], { encoding: "utf8", timeout: 20_000 });
    checks.push(
        v.status === 0
            ? pass("pulumi-cli", `pulumi CLI ${v.stdout.trim()} on PATH`)
            : failed(
                  "pulumi-cli",
                  "the pulumi CLI is not installed or not on PATH",
                  "curl -fsSL https://get.pulumi.com | sh (or brew install pulumi/tap/pulumi)",
              ),
    );
    return { checks, settings };
}

const readIfExists = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined);

/** Who approves prod deploys, as CODEOWNERS spells them (@user, @org/team); none when unreadable. */
function prodApprovers(dir: string): string[] {
    try {
        return codeOwnerHandles(settingsOf("prod", dir).github);
    } catch {
        return [];
    }
}

/** The stack's VPC range against every other committed stack's: each VPC needs its own. */
function vpcChecks(stack: string, range: string, dir: string): Check[] {
    const clashes = committedStacks(dir)
        .filter((other) => other !== stack)
        .flatMap((other) => {
            let theirs: string | undefined;
            // A stack file that cannot be read is that stack's own doctor run's finding.
            try {
                theirs = readStackConfig(other, dir).values[`${PROJECT}:vpcIpRange`];
            } catch {
                return [];
            }
            return theirs && cidrsOverlap(range, theirs) ? [`${other}'s ${theirs}`] : [];
        });
    return clashes.length === 0
        ? [pass("vpc", `vpcIpRange ${range} overlaps no other stack's`)]
        : [
              failed(
                  "vpc",
                  `vpcIpRange ${range} overlaps ${clashes.join(" and ")}`,
                  `give ${stack} a range of its own: pulumi config set vpcIpRange <cidr> --stack ${stack}`,
              ),
          ];
}

// ---------------------------------------------------------------- DigitalOcean

/**
 * Read endpoints of every resource type the program manages, with the read scope each needs
 * (docs.digitalocean.com/reference/api/scopes). Write scopes cannot be probed without
 * creating something; a token needs the matching create/update/delete scopes too.
 */
export const DO_READ_PROBES: [string, string][] = [
    ["/v2/droplets?per_page=1", "droplet:read"],
    ["/v2/vpcs?per_page=1", "vpc:read"],
    ["/v2/firewalls?per_page=1", "firewall:read"],
    ["/v2/databases", "database:read"],
    ["/v2/load_balancers?per_page=1", "load_balancer:read"],
    ["/v2/certificates?per_page=1", "certificate:read"],
    ["/v2/domains?per_page=1", "domain:read"],
    ["/v2/reserved_ips?per_page=1", "reserved_ip:read"],
    ["/v2/projects?per_page=1", "project:read"],
    ["/v2/monitoring/alerts?per_page=1", "monitoring:read"],
    ["/v2/uptime/checks?per_page=1", "uptime:read"],
    ["/v2/account/keys?per_page=1", "ssh_key:read"],
    ["/v2/tags?per_page=1", "tag:read"],
];
const DO_WRITE_SCOPES = `create/update/delete on ${DO_TOKEN_SCOPES.crud.join(", ")}, plus ${DO_TOKEN_SCOPES.single.filter((s) => !s.endsWith(":read")).join(" and ")}`;

async function doChecks(s: Settings, a: DoctorArgs): Promise<Check[]> {
    const token = process.env.DIGITALOCEAN_TOKEN ?? "";
    const tokenFix = `create a token at https://cloud.digitalocean.com/account/api/tokens (Full Access, or Custom Scopes with read and ${DO_WRITE_SCOPES}) and export DIGITALOCEAN_TOKEN`;
    if (token === "") return [failed("do-token", "DIGITALOCEAN_TOKEN is not set", tokenFix)];
    const get = (p: string) => fetchJson(`${a.doApi}${p}`, { headers: { Authorization: `Bearer ${token}` } });
    const out: Check[] = [];
    const acct = await get("/v2/account");
    if (acct.status === 401)
        return [
            failed("do-token", "DigitalOcean refused the token (HTTP 401: expired, revoked or mistyped)", tokenFix),
        ];
    if (acct.status !== 200)
        return [
            failed(
                "do-token",
                `DigitalOcean answered HTTP ${acct.status} for /v2/account`,
                "account:read is needed; " + tokenFix,
            ),
        ];
    const account =
        (acct.json as { account?: { email?: string; email_verified?: boolean; status?: string } }).account ?? {};
    out.push(pass("do-token", `DigitalOcean token works (account status ${account.status ?? "unknown"})`));

    const missing: string[] = [];
    for (const [p, scope] of DO_READ_PROBES) {
        const r = await get(p);
        if (r.status === 403 || r.status === 401) missing.push(scope);
    }
    out.push(
        missing.length === 0
            ? pass(
                  "do-scopes",
                  `the token can read every resource type the program manages (write scopes are proven only by the first up: ${DO_WRITE_SCOPES})`,
              )
            : failed(
                  "do-scopes",
                  `the token lacks ${missing.join(", ")}`,
                  `edit the token's custom scopes to add ${missing.join(", ")} and ${DO_WRITE_SCOPES}, or use a Full Access token`,
              ),
    );

    const dom = await get(`/v2/domains/${encodeURIComponent(s.dns.domain)}`);
    out.push(
        dom.status === 200
            ? pass("do-domain", `${s.dns.domain} is a DigitalOcean DNS zone`)
            : failed(
                  "do-domain",
                  `${s.dns.domain} is not a DigitalOcean DNS zone (HTTP ${dom.status})`,
                  `add it: doctl compute domain create ${s.dns.domain} (or Networking → Domains), then point the registrar's NS records at ns1/ns2/ns3.digitalocean.com`,
              ),
    );

    const absent: string[] = [];
    for (const k of s.servers.sshKeys)
        if ((await get(`/v2/account/keys/${encodeURIComponent(k)}`)).status !== 200) absent.push(k);
    out.push(
        absent.length === 0
            ? pass("do-ssh-keys", `every SSH key in sshKeys exists on the account (${s.servers.sshKeys.length})`)
            : failed(
                  "do-ssh-keys",
                  `SSH key(s) not on the account: ${absent.join(", ")}`,
                  "upload the public key: doctl compute ssh-key import <name> --public-key-file ~/.ssh/id_ed25519.pub, then put its fingerprint in sshKeys",
              ),
    );

    // DigitalOcean sends alert emails only to verified addresses of the team; the API shows
    // the verification of the token owner's own address only.
    const own = (account.email ?? "").toLowerCase();
    const unverified = s.monitoring.alertEmails.filter(
        (e) => e.toLowerCase() === own && account.email_verified === false,
    );
    const unknown = s.monitoring.alertEmails.filter((e) => e.toLowerCase() !== own);
    if (unverified.length > 0)
        out.push(
            failed(
                "do-alert-emails",
                `${unverified.join(", ")} is not verified on DigitalOcean`,
                "verify it from the email DigitalOcean sent (Account → Settings → resend verification)",
            ),
        );
    else if (unknown.length > 0)
        out.push(
            warn(
                "do-alert-emails",
                `cannot confirm from the API that ${unknown.join(", ")} is a verified team email`,
                "invite it to the DigitalOcean team and have it verified; alerts to unverified emails are not delivered",
            ),
        );
    else out.push(pass("do-alert-emails", "alert emails are verified on the account"));
    return out;
}

// ---------------------------------------------------------------- Tailscale

interface Acl {
    tagOwners?: Record<string, string[]>;
    acls?: { action?: string; src?: string[]; dst?: string[] }[];
    grants?: { src?: string[]; dst?: string[]; ip?: string[] }[];
    ssh?: { action?: string; src?: string[]; dst?: string[]; users?: string[] }[];
}

/** Whether an ACL lets `src` reach `dst` on TCP 22, through `acls` or `grants`. */
export function aclAllowsSsh(acl: Acl, src: string, dstTags: string[]): boolean {
    const dstOk = (d: string) => {
        const [host, port = "*"] = d.split(/:(?=[^:]*$)/);
        return (
            (host === "*" || dstTags.includes(host)) &&
            (port === "*" ||
                port
                    .split(",")
                    .some(
                        (p) =>
                            p === "22" ||
                            (p.includes("-") && Number(p.split("-")[0]) <= 22 && Number(p.split("-")[1]) >= 22),
                    ))
        );
    };
    const fromAcls = (acl.acls ?? []).some(
        (r) =>
            (r.action ?? "accept") === "accept" &&
            (r.src ?? []).some((x) => x === src || x === "*") &&
            (r.dst ?? []).some(dstOk),
    );
    const fromGrants = (acl.grants ?? []).some(
        (g) =>
            (g.src ?? []).some((x) => x === src || x === "*") &&
            (g.dst ?? []).some((d) => d === "*" || dstTags.includes(d)) &&
            (g.ip ?? []).some((p) => p === "*" || p === "22" || p === "tcp:22" || p === "tcp:*"),
    );
    return fromAcls || fromGrants;
}

async function tailscaleChecks(s: Settings, a: DoctorArgs, dir: string): Promise<Check[]> {
    let key = process.env.TAILSCALE_API_KEY ?? "";
    if (key === "") {
        const r = spawnSync("pulumi", ["config", "get", "tailscaleApiKey", "--stack", s.stack], {
            cwd: dir,
            encoding: "utf8",
            timeout: 30_000,
        });
        if (r.status === 0) key = r.stdout.trim();
    }
    const keyFix =
        "create an API key at https://login.tailscale.com/admin/settings/keys (it expires after at most 90 days) and run: pulumi config set --secret tailscaleApiKey --stack " +
        s.stack +
        " (it prompts for the key)";
    if (key === "")
        return [
            failed(
                "tailscale-key",
                "no Tailscale API key: TAILSCALE_API_KEY is unset and `pulumi config get tailscaleApiKey` gave none",
                keyFix,
            ),
        ];
    const r = await fetchJson(`${a.tailscaleApi}/api/v2/tailnet/${encodeURIComponent(s.tailnet.tailnet)}/acl`, {
        headers: { Authorization: `Bearer ${key}` },
    });
    if (r.status === 401 || r.status === 403)
        return [
            failed(
                "tailscale-key",
                `Tailscale refused the API key (HTTP ${r.status}: expired after its 90 days, revoked, or not for tailnet ${s.tailnet.tailnet})`,
                keyFix,
            ),
        ];
    if (r.status !== 200)
        return [failed("tailscale-key", `Tailscale answered HTTP ${r.status} reading the ACL`, keyFix)];
    const acl = (r.json ?? {}) as Acl;
    const out = [pass("tailscale-key", `Tailscale API key works for tailnet ${s.tailnet.tailnet}`)];
    const owners = acl.tagOwners ?? {};
    // Each deployed stack's CI joins as tag:ci-<stack>, which reaches that stack's servers only.
    const ciTag = `tag:ci-${s.stack}`;
    const unowned = [...s.tailnet.tags, ciTag].filter((t) => !owners[t]);
    out.push(
        unowned.length === 0
            ? pass(
                  "tailscale-tags",
                  `the ACL's tagOwners own ${[...s.tailnet.tags, ciTag].join(", ")}, so tagged keys can be minted`,
              )
            : failed(
                  "tailscale-tags",
                  `the ACL has no tagOwners entry for ${unowned.join(", ")}: keys with those tags cannot be minted`,
                  `add to the ACL's tagOwners: ${unowned.map((t) => `"${t}": ["autogroup:admin"]`).join(", ")}`,
              ),
    );
    const net = aclAllowsSsh(acl, ciTag, s.tailnet.tags);
    const sshRule =
        s.servers.sshMode !== "tailscale" ||
        (acl.ssh ?? []).some(
            (x) =>
                (x.action ?? "") === "accept" &&
                (x.src ?? []).includes(ciTag) &&
                (x.dst ?? []).some((d) => s.tailnet.tags.includes(d)) &&
                (x.users ?? []).some((u) => u === "deploy" || u === "autogroup:nonroot"),
        );
    out.push(
        net && sshRule
            ? pass(
                  "tailscale-ci-access",
                  `the ACL lets ${ciTag} reach ${s.tailnet.tags[0]} on port 22${s.servers.sshMode === "tailscale" ? " and SSH in as deploy" : ""}`,
              )
            : failed(
                  "tailscale-ci-access",
                  `the ACL does not let ${ciTag} ${net ? "SSH in as deploy (no matching ssh rule)" : `reach ${s.tailnet.tags.join(", ")} on port 22`}`,
                  `add {"action":"accept","src":["${ciTag}"],"dst":["${s.tailnet.tags[s.tailnet.tags.length - 1]}:22"]} to acls${s.servers.sshMode === "tailscale" ? ` and {"action":"accept","src":["${ciTag}"],"dst":["${s.tailnet.tags[s.tailnet.tags.length - 1]}"],"users":["deploy"]} to ssh` : ""}`,
              ),
    );
    out.push(await oauthCheck(a));
    return out;
}

/**
 * The CI runner joins the tailnet with the stack's own OAuth client (the environment secrets
 * TS_OAUTH_CLIENT_ID and TS_OAUTH_SECRET of that stack). It is checked when those are
 * exported here: a client-credentials token must be granted, with the auth_keys scope the
 * action mints its tag:ci-<stack> key with.
 */
async function oauthCheck(a: DoctorArgs): Promise<Check> {
    const id = process.env.TS_OAUTH_CLIENT_ID ?? "";
    const secret = process.env.TS_OAUTH_SECRET ?? "";
    const fix = `create an OAuth client at https://login.tailscale.com/admin/settings/oauth with the auth_keys write scope and tag:ci-${a.stack}, and store it as the environment secrets TS_OAUTH_CLIENT_ID and TS_OAUTH_SECRET of ${a.stack} (gh secret set TS_OAUTH_SECRET --env ${a.stack})`;
    if (id === "" || secret === "")
        return warn(
            "tailscale-ci-oauth",
            "the CI OAuth client is not checked: export TS_OAUTH_CLIENT_ID and TS_OAUTH_SECRET to check it",
            fix,
        );
    const body = new URLSearchParams({
        client_id: id,
        client_secret: secret,
        grant_type: "client_credentials",
    }).toString();
    const r = await fetchJson(`${a.tailscaleApi}/api/v2/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
    });
    if (r.status !== 200)
        return failed("tailscale-ci-oauth", `Tailscale refused the CI OAuth client (HTTP ${r.status})`, fix);
    const scope = String((r.json as { scope?: string } | undefined)?.scope ?? "");
    return /(^|\s)(auth_keys|all)(:write)?(\s|$)/.test(scope) || scope === ""
        ? pass("tailscale-ci-oauth", `the CI OAuth client is valid${scope ? ` (scopes: ${scope})` : ""}`)
        : failed("tailscale-ci-oauth", `the CI OAuth client lacks the auth_keys scope (has: ${scope})`, fix);
}

// ---------------------------------------------------------------- GitHub

async function githubChecks(dir: string, s: Settings, a: DoctorArgs): Promise<Check[]> {
    const token = process.env.GITHUB_TOKEN ?? "";
    const slug = `${s.github.owner}/${s.github.repository}`;
    const tokenFix = `create a fine-grained token for ${slug} with Administration, Environments, Secrets and Variables read/write (or a classic token with repo) and export GITHUB_TOKEN`;
    if (token === "") return [failed("github-token", "GITHUB_TOKEN is not set", tokenFix)];
    const get = (p: string) =>
        fetchJson(`${a.githubApi}${p}`, {
            headers: {
                Authorization: `Bearer ${token}`,
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "platform-doctor",
            },
        });
    const repo = await get(`/repos/${slug}`);
    if (repo.status === 401) return [failed("github-token", "GitHub refused the token (HTTP 401)", tokenFix)];
    if (repo.status !== 200)
        return [
            failed(
                "github-token",
                `the token cannot see ${slug} (HTTP ${repo.status})`,
                `check githubOwner/githubRepository, then: ${tokenFix}`,
            ),
        ];
    const r = repo.json as { private?: boolean; owner?: { type?: string }; permissions?: { admin?: boolean } };
    const scopes = repo.headers["x-oauth-scopes"];
    const out: Check[] = [];
    if (r.permissions?.admin !== true) {
        out.push(
            failed(
                "github-token",
                `the token cannot administer ${slug}, so it cannot manage its environments`,
                tokenFix,
            ),
        );
    } else if (typeof scopes === "string" && !scopes.split(/,\s*/).includes("repo")) {
        out.push(failed("github-token", `the classic token's scopes (${scopes || "none"}) lack repo`, tokenFix));
    } else {
        out.push(
            pass(
                "github-token",
                `GitHub token administers ${slug}${typeof scopes === "string" ? ` (classic: ${scopes})` : " (fine-grained)"}`,
            ),
        );
    }
    // docs.github.com "Reviewing deployments": environments in private repositories need Pro,
    // Team or Enterprise; the other protection rules (required reviewers, wait timers) in
    // private repositories need GitHub Enterprise.
    if (!r.private) {
        out.push(pass("github-plan", `${slug} is public: environments, reviewers and wait timers work on every plan`));
        out.push(...(await repositoryChecks(s, get)));
        return out;
    }
    const wantsRules = STACKS.some((st) => {
        try {
            const x = settingsOf(st, dir);
            return x.github.reviewers.length + x.github.reviewerTeams.length > 0 || x.github.waitTimerMinutes > 0;
        } catch {
            return false;
        }
    });
    const plan = r.owner?.type === "Organization" ? await get(`/orgs/${s.github.owner}`) : await get("/user");
    const name = String((plan.json as { plan?: { name?: string } } | undefined)?.plan?.name ?? "").toLowerCase();
    if (name === "")
        out.push(
            warn(
                "github-plan",
                `cannot read ${s.github.owner}'s plan (the token may not be an owner's)`,
                "required reviewers and wait timers on a private repository need GitHub Enterprise",
            ),
        );
    else if (wantsRules && !name.includes("enterprise")) {
        out.push(
            failed(
                "github-plan",
                `${slug} is private on the ${name} plan: its required reviewers and wait timer would silently not apply`,
                "use GitHub Enterprise, make the repository public, or accept no approval gate (not recommended for prod)",
            ),
        );
    } else if (["free"].includes(name) && r.owner?.type === "Organization") {
        out.push(
            failed(
                "github-plan",
                `${slug} is private on GitHub Free: it has no environments at all`,
                "upgrade to Team (environments) or Enterprise (approvals), or make the repository public",
            ),
        );
    } else out.push(pass("github-plan", `the ${name} plan supports the approval settings of ${slug}`));
    out.push(...(await repositoryChecks(s, get)));
    return out;
}

/**
 * What the threat model assumes of the repository itself (docs/security.md): main takes
 * changes only through reviewed pull requests, code owners among them, with no force push
 * or deletion; and no deploy secret sits at repository or organization level, where any
 * branch's workflow could read it (an environment secret shadows one of the same name only
 * inside that environment's jobs).
 */
async function repositoryChecks(s: Settings, get: (p: string) => Promise<Reply>): Promise<Check[]> {
    const slug = `${s.github.owner}/${s.github.repository}`;
    const out: Check[] = [];
    out.push(
        mainProtection(
            slug,
            await get(`/repos/${slug}/rules/branches/${DEPLOY_BRANCH}`),
            await get(`/repos/${slug}/branches/${DEPLOY_BRANCH}/protection`),
        ),
    );
    const names = (r: Reply) =>
        ((r.json as { secrets?: { name: string }[] } | undefined)?.secrets ?? []).map((x) => x.name.toUpperCase());
    const repoLevel = await get(`/repos/${slug}/actions/secrets`);
    const orgLevel = await get(`/repos/${slug}/actions/organization-secrets`);
    const deploy = deploySecretNames();
    const shadow = [
        ...names(repoLevel).map((n) => `repository secret ${n}`),
        ...names(orgLevel).map((n) => `organization secret ${n}`),
    ].filter((x) => deploy.includes(x.split(" ").pop()!));
    if (repoLevel.status !== 200)
        out.push(
            warn(
                "github-secrets",
                `cannot list ${slug}'s repository secrets (HTTP ${repoLevel.status})`,
                "give the token Secrets: read, then run doctor again",
            ),
        );
    else if (shadow.length > 0)
        out.push(
            failed(
                "github-secrets",
                `${shadow.join(", ")} has a deploy secret's name: any branch's workflow can read it`,
                `delete it (gh secret delete NAME -R ${slug}; an organization secret: gh secret delete NAME --org ${s.github.owner}) and keep deploy secrets in the stacks' environments only`,
            ),
        );
    else out.push(pass("github-secrets", `no repository or organization secret of ${slug} has a deploy secret's name`));
    return out;
}

/**
 * main's protection from its rules (rulesets, GET /repos/{o}/{r}/rules/branches/{b}) or, if
 * it has none, classic branch protection: a pull request with at least one approval and
 * code owner review, no force push, no deletion.
 */
export function mainProtection(slug: string, rules: Reply, classic: Reply): Check {
    const fix = `add a ruleset for ${DEPLOY_BRANCH} (Settings → Rules → Rulesets): require a pull request with 1 approval and review from Code Owners, block force pushes and deletions`;
    const list = Array.isArray(rules.json)
        ? (rules.json as { type: string; parameters?: Record<string, unknown> }[])
        : [];
    const pr = list.find((r) => r.type === "pull_request")?.parameters;
    const missing: string[] = [];
    if (pr) {
        if (Number(pr.required_approving_review_count ?? 0) < 1) missing.push("an approval");
        if (pr.require_code_owner_review !== true) missing.push("code owner review");
        if (!list.some((r) => r.type === "non_fast_forward")) missing.push("no force push");
        if (!list.some((r) => r.type === "deletion")) missing.push("no deletion");
    } else if (classic.status === 200) {
        const c = classic.json as {
            required_pull_request_reviews?: {
                required_approving_review_count?: number;
                require_code_owner_reviews?: boolean;
            };
            allow_force_pushes?: { enabled?: boolean };
            allow_deletions?: { enabled?: boolean };
        };
        if (Number(c.required_pull_request_reviews?.required_approving_review_count ?? 0) < 1)
            missing.push("an approval");
        if (c.required_pull_request_reviews?.require_code_owner_reviews !== true) missing.push("code owner review");
        if (c.allow_force_pushes?.enabled !== false) missing.push("no force push");
        if (c.allow_deletions?.enabled !== false) missing.push("no deletion");
    } else {
        return failed(
            "github-main",
            `${DEPLOY_BRANCH} of ${slug} takes pushes without a reviewed pull request: whoever can push to it deploys`,
            fix,
        );
    }
    return missing.length === 0
        ? pass(
              "github-main",
              `${DEPLOY_BRANCH} of ${slug} takes only reviewed pull requests (code owners among the reviewers), no force push, no deletion`,
          )
        : failed("github-main", `${DEPLOY_BRANCH} of ${slug} is protected but lacks ${missing.join(", ")}`, fix);
}

/** The secrets the reusable deploy takes (its workflow_call secrets), read from the workflow itself. */
export function deploySecretNames(root = path.join(__dirname, "..")): string[] {
    const wf = parseYaml(fs.readFileSync(path.join(root, ".github", "workflows", "_deploy.yml"), "utf8")) as {
        on: { workflow_call: { secrets: Record<string, unknown> } };
    };
    return Object.keys(wf.on.workflow_call.secrets)
        .map((n) => n.toUpperCase())
        .sort();
}

/**
 * CODEOWNERS covers what decides what reaches prod, and names only prod's approvers, so the
 * ruleset's code owner review is a review by someone who may approve a prod deploy.
 */
export function codeownersCheck(text: string | undefined, approvers: string[]): Check {
    const fix =
        "commit .github/CODEOWNERS naming prod's approvers (platform:githubReviewers as @user, githubReviewerTeams as @org/team) for /.github/, /Pulumi*.yaml, /infra/, /policy/ and /tools/";
    if (text === undefined)
        return failed(
            "codeowners",
            ".github/CODEOWNERS is missing: a change to the workflows or the stack files needs no particular reviewer",
            fix,
        );
    const rules = text
        .split("\n")
        .map((l) => l.replace(/#.*/, "").trim())
        .filter(Boolean)
        .map((l) => l.split(/\s+/));
    const uncovered = ["/.github/", "/Pulumi*.yaml", "/infra/", "/policy/", "/tools/"].filter(
        (p) => !rules.some(([pattern, ...owners]) => pattern === p && owners.length > 0),
    );
    if (uncovered.length > 0)
        return failed("codeowners", `.github/CODEOWNERS names no owner for ${uncovered.join(", ")}`, fix);
    const known = approvers.map((a) => a.toLowerCase());
    const strangers = [...new Set(rules.flatMap(([, ...owners]) => owners))].filter(
        (o) => !known.includes(o.toLowerCase()),
    );
    return strangers.length === 0
        ? pass(
              "codeowners",
              ".github/CODEOWNERS covers the workflows, stack files, program, policy and tools, owned by prod's approvers",
          )
        : failed(
              "codeowners",
              `.github/CODEOWNERS names ${strangers.join(", ")}, not among prod's approvers (${known.join(", ") || "none"})`,
              `list the same people in both: ${fix}`,
          );
}

// ---------------------------------------------------------------- registry and backend

/** Each service's image (its pinned digest, or its tag) exists in its registry. */
async function registryChecks(s: Settings, a: DoctorArgs): Promise<Check[]> {
    return Promise.all(
        s.services.map(async (svc) => {
            const ref = `${svc.repository}:${svc.tag}`;
            const fix = `set services.${svc.name}.tag to a tag that exists`;
            try {
                const digest = await manifestDigest(svc.repository, svc.digest || svc.tag, {
                    registryUrl: a.registryUrl,
                    username: s.app.registryUser || undefined,
                    password: process.env.GHCR_TOKEN || undefined,
                });
                return digest
                    ? pass("registry-image", `${ref} exists in the registry (${digest.slice(0, 19)}…)`)
                    : failed(
                          "registry-image",
                          `${ref} does not exist in the registry`,
                          `push it first (docker push ${ref}) or ${fix}`,
                      );
            } catch (e) {
                return failed(
                    "registry-image",
                    `cannot check ${ref}: ${(e as Error).message}`,
                    "for a private image set ghcrUsername and export GHCR_TOKEN (read:packages)",
                );
            }
        }),
    );
}

function backendCheck(dir: string): Check {
    const r = spawnSync("pulumi", ["whoami", "--verbose"], { cwd: dir, encoding: "utf8", timeout: 30_000 });
    if (r.error)
        return failed(
            "state-backend",
            "cannot run pulumi whoami: the pulumi CLI is not on PATH",
            "install the pulumi CLI",
        );
    if (r.status !== 0) {
        const line =
            `${r.stderr}`
                .split("\n")
                .map((l) => l.replace(/^error:\s*/, "").trim())
                .find((l) => l !== "") ?? `exit ${r.status}`;
        return failed(
            "state-backend",
            `the state backend is not reachable: ${line}`,
            "pulumi login (Pulumi Cloud) or pulumi login 's3://<bucket>?endpoint=https://<region>.digitaloceanspaces.com&region=<region>' with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set to the Spaces keys",
        );
    }
    const backend = /Backend URL:\s*(\S+)/.exec(r.stdout)?.[1];
    return pass(
        "state-backend",
        `logged in to the state backend${backend ? ` ${backend.replace(/\/\/[^@/]*@/, "//")}` : ""}`,
    );
}

// ---------------------------------------------------------------- main

export async function doctor(a: DoctorArgs): Promise<Check[]> {
    if (!committedStacks(a.workDir).includes(a.stack)) {
        throw new UnknownStackError(
            `unknown stack ${JSON.stringify(a.stack)}: no Pulumi.${a.stack}.yaml in ${a.workDir} (stacks: ${committedStacks(a.workDir).join(", ")})`,
        );
    }
    const { checks, settings } = offlineChecks(a.stack, a.workDir);
    if (a.offline) return checks;
    if (!settings)
        return [
            ...checks,
            failed(
                "online",
                "online checks skipped: the stack file does not pass the config check",
                "fix the config line above first",
            ),
        ];
    const guard = async (id: string, f: () => Promise<Check[]>): Promise<Check[]> => {
        try {
            return await f();
        } catch (e) {
            return [
                failed(id, `could not reach the API: ${(e as Error).message}`, "check the network and the API URL"),
            ];
        }
    };
    checks.push(...(await guard("do-token", () => doChecks(settings, a))));
    checks.push(...(await guard("tailscale-key", () => tailscaleChecks(settings, a, a.workDir))));
    checks.push(...(await guard("github-token", () => githubChecks(a.workDir, settings, a))));
    checks.push(...(await registryChecks(settings, a)));
    checks.push(backendCheck(a.workDir));
    return checks;
}

export function render(checks: Check[]): string {
    const w = Math.max(...checks.map((c) => c.id.length));
    return checks
        .map((c) => `${c.status.padEnd(4)}  ${c.id.padEnd(w)}  ${c.message}${c.fix ? ` — fix: ${c.fix}` : ""}`)
        .join("\n");
}

export async function main(
    argv: string[],
    io: { out: (s: string) => void; err: (s: string) => void } = {
        out: (s) => process.stdout.write(s),
        err: (s) => process.stderr.write(s),
    },
): Promise<number> {
    let a: DoctorArgs | "help";
    try {
        a = parseArgs(argv);
    } catch (e) {
        io.err(`error: ${(e as Error).message}\n`);
        return 2;
    }
    if (a === "help") {
        io.out(`${HELP}\n`);
        return 0;
    }
    let checks: Check[];
    try {
        checks = await doctor(a);
    } catch (e) {
        if (e instanceof UnknownStackError) {
            io.err(`error: ${(e as Error).message}\n`);
            return 2;
        }
        throw e;
    }
    const fails = checks.filter((c) => c.status === "FAIL").length;
    if (a.json) io.out(`${JSON.stringify({ stack: a.stack, offline: a.offline, ok: fails === 0, checks }, null, 2)}\n`);
    else
        io.out(
            `${render(checks)}\n${fails === 0 ? `${a.stack}: ready${a.offline ? " (offline checks only)" : ""}` : `${a.stack}: ${fails} check(s) failed`}\n`,
        );
    return fails === 0 ? 0 : 1;
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
