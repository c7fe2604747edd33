/**
 * The config module: every validated key refuses garbage with one line naming the key,
 * the value and what is allowed, before any resource is registered.
 */
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, fqdn, ownsRecord, parseSettings } from "../infra/config";
import { DROPLET_SIZES } from "../infra/config/catalog";
import { Key, KEYS } from "../infra/config/schema";
import { closest, isDomain, isEmail, parseCidr } from "../infra/config/validate";
import { offlineSecrets, ROOT } from "../tools/lib/stacks";
import { fixture, source, TEAMS } from "./helpers";

const DUMP = JSON.stringify({ bucket: "acme-dumps", region: "nyc3", retentionDays: 7 });

interface Case {
    stack?: string;
    value?: string;
    also?: Partial<Record<Key, string>>;
    alsoSecret?: Key[];
    plain?: boolean;
    unset?: boolean;
    expect?: RegExp;
}

const svc = (over: Record<string, unknown> = {}) => ({
    image: "ghcr.io/acme-shop/shop-web",
    tag: "2.3.0",
    port: 8080,
    health: "none",
    routes: ["staging.acme-shop.com/"],
    ...over,
});
const api = (over: Record<string, unknown> = {}) =>
    svc({
        image: "ghcr.io/acme-shop/shop",
        port: 3000,
        health: { path: "/api/v1/health" },
        secrets: ["SESSION_SECRET", "STRIPE_API_KEY"],
        routes: ["staging.acme-shop.com/api", "api.staging.acme-shop.com/"],
        ...over,
    });
const services = (s: Record<string, unknown>): Case => ({ value: JSON.stringify(s) });
/** Web with one field set to a bad value, beside a valid api; the error names that field. */
const web = (
    field: string,
    bad: unknown,
    expect: RegExp = new RegExp(`^platform:services\\.web\\.${field}: `),
): Case => ({ ...services({ web: svc({ [field]: bad }), api: api() }), expect });
const SERVICE_GARBAGE: Case[] = [
    { value: "[]" },
    {
        value: "{}",
        expect: /^platform:services: is not set; expected the app's services, one entry per image — declare them in Pulumi\.staging\.yaml, e\.g\. platform:services: \{app: \{image: /,
    },
    {
        unset: true,
        expect: /^platform:services: is not set; expected the app's services, one entry per image — declare them in Pulumi\.staging\.yaml/,
    },
    web("image", "ghcr.io/Acme/Shop"),
    web("image", "shop"),
    web("image", "ghcr.io/acme/shop:1.0"),
    web("tag", "a b"),
    web("tag", "x".repeat(129)),
    web("digest", "sha256:abc"),
    web("digest", `md5:${"a".repeat(32)}`),
    web("pin", "1.4.2"),
    web("pin", "1.4.2@sha256:abc"),
    web("port", 0),
    web("port", 70000),
    web("memoryMb", 10),
    web("env", []),
    web("env", { lower: "x" }),
    web("env", { API_TOKEN: "x" }),
    web("env", { DATABASE_URL: "x" }),
    web("env", { N: 5 }, /^platform:services\.web\.env: .*expected string values/),
    web("env", { PAYMENTS: "sk_live_4eC39HqLyjWDarjtT1zdp7dc" }, /its value is a Stripe secret key/),
    web("env", { CALLBACK: "postgres://app:hunter2@db:5432/app" }, /a URL with a password/),
    web("secrets", ["lower"]),
    web("secrets", ["PORT"]),
    web("migrationCommand", "npm run migrate"),
    web("migrationCommand", [1]),
    web("processes", { worker: { command: [] } }),
    web(
        "processes",
        { worker: { command: ["x"], memoryMb: 1 } },
        /^platform:services\.web\.processes\.worker\.memoryMb: /,
    ),
    web("processes", []),
    web("health", { command: "curl" }, /^platform:services\.web\.health\.command: /),
    web("health", { command: [""] }, /^platform:services\.web\.health\.command: /),
    web("smokeRequests", { "/": "ok" }),
    web("smokeRequests", { "/": 99 }),
    web("smokeRequests", { "no-slash": 200 }),
    web("smokeRequests", { "/a=b": 200 }, /no spaces or =/),
    web("smokeRequests", []),
    {
        ...services({ Web: svc(), api: api() }),
        expect: /^platform:services: "Web" is not valid; expected a service name/,
    },
    { ...services({ proxy: svc(), api: api() }), expect: /other than proxy, edge/ },
    {
        ...services({ web: svc({ colour: "blue" }), api: api() }),
        expect: /^platform:services.web: "colour" is not valid; expected only image, tag/,
    },
    {
        ...services({ web: svc({ routes: ["shop.example.org/"] }), api: api() }),
        expect: /^platform:services.web.routes: "shop.example.org\/" is not valid; expected a host of this stack: staging.acme-shop.com or api.staging.acme-shop.com/,
    },
    {
        ...services({ web: svc({ routes: ["staging.acme-shop.com/api/"] }), api: api() }),
        expect: /services.web.routes: .* expected host\/path .*no trailing slash/,
    },
    {
        ...services({ web: svc({ routes: ["staging.acme-shop.com/", "api.staging.acme-shop.com/"] }), api: api() }),
        expect: /^platform:services.web.routes: "api.staging.acme-shop.com\/" is not valid; expected each route in one service only; api already claims it/,
    },
    {
        ...services({ web: svc({ secrets: ["SENTRY_TOKEN"] }), api: api() }),
        expect: /^platform:appSecrets\.SENTRY_TOKEN: secret is not set but services\.web\.secrets lists it — run: pulumi config set --secret --path 'appSecrets\.SENTRY_TOKEN' --stack \w+ \(it prompts for the value\)$/,
    },
    {
        ...services({ web: svc(), api: api({ secrets: ["SESSION_SECRET"] }) }),
        expect: /^platform:appSecrets: "STRIPE_API_KEY" is not valid; expected every secret to be listed by a service/,
    },
    {
        ...services({ web: svc({ port: 443 }), api: api() }),
        expect: /^platform:services.web.port: 443 is not valid; expected a port other than 80, 443 and 2019/,
    },
    {
        ...services({ web: svc({ health: "ping" }), api: api() }),
        expect: /^platform:services.web.health: "ping" is not valid; expected \{path: \/healthz\}/,
    },
    {
        ...services({ web: svc({ health: undefined }), api: api() }),
        expect: /^platform:services.web.health: .*how the cut-over knows/,
    },
    {
        ...services({ web: svc({ routes: [] }), api: api() }),
        expect: /services.web.routes: \[\] is not valid; expected at least one route/,
    },
    {
        ...services({ web: svc(), api: api({ migrationCommand: ["npm", "run", "db:migrate"] }) }),
        expect: /^platform:services.api.database: false is not valid; expected true: a service with a migrationCommand needs DATABASE_URL/,
    },
    {
        ...services({ web: svc({ env: { STRIPE_KEY: "x" } }), api: api() }),
        expect: /^platform:services.web.env: STRIPE_KEY looks like a secret/,
    },
    {
        ...services({ web: svc({ tag: "-bad" }), api: api() }),
        expect: /^platform:services.web.tag: "-bad" is not valid/,
    },
    // What the CLI hands over for an unquoted `tag: 1.10` in the stack file.
    {
        ...services({ web: svc({ tag: 1.1 }), api: api() }),
        expect: /^platform:services.web.tag: 1.1 is not valid; expected the tag as text: .* quote it, e.g. tag: "1.10"/,
    },
    {
        ...services({
            web: svc({ digest: `sha256:${"a".repeat(64)}`, pin: `2.2.0@sha256:${"a".repeat(64)}` }),
            api: api(),
        }),
        expect: /^platform:services.web.tag: "2.3.0" is not the tag its digest was pinned for \("2.2.0"\)/,
    },
    {
        ...services({ web: svc({ processes: { app: { command: ["x"] } } }), api: api() }),
        expect: /^platform:services.web.processes: "app" is not valid/,
    },
    {
        ...services({ web: svc({ smokeRequests: { "/api/x": 200 } }), api: api() }),
        expect: /^platform:services.web.smokeRequests: "\/api\/x" is not valid; expected a path that reaches web/,
    },
    // The load balancer and the uptime check probe a service's own health path on the API host: none to probe is refused.
    {
        ...services({ web: svc(), api: api({ routes: ["api.staging.acme-shop.com/v2"] }) }),
        expect: /^platform:services: \["api","web"\] is not valid; expected a service with a health path that api.staging.acme-shop.com routes to it .*no service answers api.staging.acme-shop.com\/ and none answers its own health path there — give that service/,
    },
    {
        ...services({
            web: svc(),
            api: api({ health: { path: "/health" }, routes: ["api.staging.acme-shop.com/v1"] }),
        }),
        expect: /^platform:services: .*no service answers api\.staging\.acme-shop\.com\/ /,
    },
];

/** For every key: values that must be refused. `value` is the raw string the CLI hands over. */
const GARBAGE: Record<Key, Case[]> = {
    region: [{ value: "nyc4" }, { value: "" }, { value: "NYC3" }, { value: "atl1" }],
    vpcIpRange: [
        { value: "10.20.0.0" },
        { value: "10.20.0.1/20" },
        { value: "8.8.0.0/16" },
        { value: "10.0.0.0/8" },
        { value: "10.20.0.0/28" },
        { value: "abc" },
        { unset: true },
    ],
    protectData: [{ value: "yes" }, { value: "1" }],
    serverCount: [{ value: "0" }, { value: "11" }, { value: "two" }, { value: "1.5" }, { value: "-1" }],
    serverSize: [{ value: "s-1vcpu-3gb" }, { value: "" }, { value: "S-1VCPU-1GB" }, { value: "512mb" }],
    serverImage: [{ value: "ubuntu-20-04-x64" }, { value: "debian-12-x64" }],
    serverBackups: [
        { value: "maybe" },
        { stack: "staging", value: "false", expect: /staging and prod servers keep backups/ },
    ],
    ipv6: [{ value: "on" }],
    sshKeys: [
        { value: "[]" },
        { value: '"abc"' },
        { value: '["not-a-key"]' },
        { value: "[1]" },
        { value: "{}" },
        { value: '["12","12"]' },
        { unset: true },
    ],
    sshMode: [{ value: "password" }],
    tailnet: [{ value: "" }, { value: "a b" }],
    tailscaleTags: [{ value: "[]" }, { value: '["server"]' }, { value: '["tag:"]' }, { value: '["tag:9lives"]' }],
    tailscaleKeyExpirySeconds: [{ value: "0" }, { value: "99999999" }, { value: "1h" }],
    tailscaleApiKey: [
        { plain: true, value: "tskey-api-plain" },
        { unset: true, expect: /pulumi config set --secret tailscaleApiKey/ },
    ],
    dbVersion: [{ value: "14" }, { value: "13" }, { value: "18" }, { value: "latest" }],
    dbSize: [{ value: "db-s-1vcpu-3gb" }, { stack: "prod", value: "db-s-1vcpu-1gb", expect: /standby nodes need it/ }],
    dbNodeCount: [{ value: "0" }, { value: "4" }, { stack: "prod", value: "1", expect: /primary and a standby/ }],
    dbClusterName: [{ value: "PG" }, { value: "x" }],
    dbName: [{ value: "App-DB" }, { value: "1app" }, { value: "" }],
    dbUser: [{ value: "doadmin" }, { value: "Admin" }],
    dbPoolSize: [
        { value: "0" },
        { value: "1000" },
        {
            stack: "prod",
            value: "49",
            expect: /^platform:dbPoolSize: 49 is not valid; expected at most 48 on db-s-2vcpu-4gb: half its 97 connections, so a pool change .* fits beside the old pool/,
        },
    ],
    dbPoolMode: [{ value: "lazy" }],
    dbMaintenanceDay: [{ value: "someday" }],
    dbMaintenanceHour: [{ value: "25:00" }, { value: "3am" }],
    databaseRestore: [
        { value: "[]" },
        { value: JSON.stringify({ sourceCluster: "old-pg", time: "yesterday", clusterName: "new-pg" }) },
        { value: JSON.stringify({ sourceCluster: "old-pg", time: "2026-11-20T14:03:11Z", clusterName: "old-pg" }) },
    ],
    domain: [
        { value: "localhost" },
        { value: "exa mple.com" },
        { value: "-bad.com" },
        { value: "example.123" },
        { unset: true },
    ],
    frontendHost: [
        { stack: "staging", value: "app", expect: /stack owns/ },
        { value: "App" },
        { value: "a..b" },
        { stack: "prod", value: "staging", expect: /another stack's label/ },
    ],
    apiHost: [
        { stack: "staging", value: "api", expect: /stack owns/ },
        { stack: "staging", value: "staging", expect: /different name from frontendHost/ },
    ],
    dnsTtl: [{ value: "10" }, { value: "86401" }],
    acmeEmail: [{ value: "ops" }],
    alertEmails: [{ value: "[]" }, { value: '["not-an-email"]' }, { value: '"ops@example.com"' }],
    slackChannel: [
        { value: "Ops Channel" },
        {
            stack: "dev",
            value: "#ops",
            expect: /^platform:slackWebhookUrl: secret is not set but slackChannel is set — run: pulumi config set --secret slackWebhookUrl --stack dev/,
        },
    ],
    slackWebhookUrl: [{ stack: "prod", plain: true, value: "https://hooks.slack.com/services/T/B/X" }],
    cpuAlertPercent: [{ value: "0" }, { value: "101" }],
    memoryAlertPercent: [{ value: "0" }, { value: "101" }],
    diskAlertPercent: [{ value: "0" }, { value: "101" }],
    services: SERVICE_GARBAGE,
    proxyImage: [
        { value: "caddy" },
        { value: "caddy:" },
        { value: "caddy:2.10-alpine" },
        { value: `caddy@sha256:${"a".repeat(64)}` },
        { value: `caddy:2.10@sha256:${"A".repeat(64)}` },
    ],
    dbClientImage: [{ value: "postgres:17-alpine" }, { value: `postgres@sha256:${"a".repeat(64)}` }],
    dbDump: [
        { value: "[]" },
        { value: '{"bucket":"UPPER","region":"nyc3","retentionDays":7}' },
        { value: '{"bucket":"acme-dumps","region":"mars1","retentionDays":7}' },
        { value: '{"bucket":"acme-dumps","region":"nyc3","retentionDays":0}' },
        { value: '{"bucket":"acme-dumps","region":"nyc3","retentionDays":7,"extra":1}' },
    ],
    spacesAccessKeyId: [
        {
            stack: "prod",
            plain: true,
            value: "DO00PLAIN",
            also: { dbDump: DUMP, spacesSecretKey: "s" },
            alsoSecret: ["spacesSecretKey"],
        },
        {
            stack: "prod",
            unset: true,
            also: { dbDump: DUMP, spacesSecretKey: "s" },
            alsoSecret: ["spacesSecretKey"],
            expect: /but dbDump is set/,
        },
    ],
    spacesSecretKey: [
        {
            stack: "prod",
            plain: true,
            value: "plain-secret",
            also: { dbDump: DUMP, spacesAccessKeyId: "DO00X" },
            alsoSecret: ["spacesAccessKeyId"],
        },
        {
            stack: "prod",
            unset: true,
            also: { dbDump: DUMP, spacesAccessKeyId: "DO00X" },
            alsoSecret: ["spacesAccessKeyId"],
        },
    ],
    ghcrUsername: [
        { value: "-bad-" },
        { stack: "prod", value: "", expect: /registry user that owns ghcrToken/, also: {} },
    ],
    ghcrToken: [
        { stack: "prod", plain: true, value: "ghp_plain" },
        { stack: "prod", unset: true, also: { ghcrUsername: "acme-bot" }, expect: /but ghcrUsername is set/ },
    ],
    logLevel: [{ value: "verbose" }],
    appSecrets: [
        { stack: "prod", plain: true, value: '{"SESSION_SECRET":"x","STRIPE_API_KEY":"y"}' },
        {
            stack: "prod",
            value: '{"SESSION_SECRET":"x"}',
            expect: /^platform:appSecrets\.STRIPE_API_KEY: secret is not set but services\.\w+\.secrets lists it/,
        },
    ],
    healthcheckIntervalSeconds: [{ value: "0" }],
    healthcheckRetries: [{ value: "0" }],
    deployTimeoutSeconds: [{ value: "5" }],
    verifyWindowSeconds: [{ value: "-1" }, { value: "601" }],
    maxErrorPercent: [{ value: "101" }, { value: "x" }],
    bootTimeoutSeconds: [{ value: "10" }],
    githubOwner: [{ value: "-acme" }, { value: "" }],
    githubRepository: [{ value: "a/b" }],
    githubApprovalMode: [
        { value: "manual" },
        {
            stack: "prod",
            value: "workflow",
            expect: /githubWaitTimerMinutes: 5 is not valid; expected 0 in workflow approval mode/,
        },
        {
            stack: "prod",
            value: "workflow",
            also: { githubWaitTimerMinutes: "0", githubReviewers: '["maria-acme"]' },
            expect: /at least two users in workflow approval mode/,
        },
        {
            stack: "prod",
            value: "workflow",
            also: { githubWaitTimerMinutes: "0", githubReviewerTeams: '["ops"]' },
            expect: /expected no teams in workflow approval mode/,
        },
    ],
    githubReviewers: [
        { value: '["bad name"]' },
        { stack: "prod", value: "[]", expect: /at least one reviewer/ },
        { stack: "prod", value: '["a1","a2","a3","a4","a5","a6","a7"]', expect: /at most 6 reviewers/ },
    ],
    githubReviewerTeams: [{ value: '["Team X"]' }],
    githubWaitTimerMinutes: [{ value: "-1" }, { value: "50000" }],
};

/** Ways an error may show a bad value: as given, parsed, or the offending entry or name. */
function fragments(raw: string): string[] {
    const out = [JSON.stringify(raw).slice(0, 40), raw];
    try {
        const v = JSON.parse(raw) as unknown;
        out.push(JSON.stringify(v).slice(0, 40));
        if (Array.isArray(v)) out.push(...v.map((x) => JSON.stringify(x)));
        else if (v && typeof v === "object")
            out.push(...Object.keys(v).map((k) => JSON.stringify(k)), ...Object.keys(v));
    } catch {
        /* not JSON: shown as given */
    }
    return out.filter((f) => f !== "");
}

function attempt(key: Key, c: Case): Error {
    const stack = c.stack ?? "staging";
    const overrides: Partial<Record<Key, string>> = { ...(c.also ?? {}) };
    if (c.value !== undefined && !c.unset) overrides[key] = c.value;
    const src = source(stack, overrides, {
        plainKeys: c.plain ? [key] : [],
        secretKeys: c.alsoSecret ?? [],
        unset: c.unset ? [key] : [],
    });
    try {
        parseSettings(src, stack);
    } catch (e) {
        return e as Error;
    }
    throw new Error(`platform:${key} = ${JSON.stringify(c.value)} (${stack}) was accepted`);
}

describe("config: garbage in, one clear line out", () => {
    it("has bad-value cases for every key the config module reads", () => {
        const missing = (Object.keys(KEYS) as Key[]).filter((k) => !(GARBAGE[k]?.length > 0));
        assert.deepStrictEqual(missing, []);
    });

    for (const [key, cases] of Object.entries(GARBAGE) as [Key, Case[]][]) {
        for (const c of cases) {
            const label = c.unset ? "unset" : c.plain ? "set in plain text" : JSON.stringify(c.value);
            it(`refuses platform:${key} ${label}${c.stack ? ` in ${c.stack}` : ""}`, () => {
                const err = attempt(key, c);
                assert.strictEqual(err.name, "ConfigError", `${err.name}: ${err.message}`);
                assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
                assert.match(err.message, /^(platform:[\w.]+|stack):/);
                assert.match(err.message, /expected|run: pulumi config set/);
                if (c.expect) assert.match(err.message, c.expect);
                const secret = (KEYS[key] as { secret?: boolean }).secret;
                if (c.plain || c.unset) {
                    assert.ok(err.message.startsWith(`platform:${key}:`), err.message);
                    if (secret) assert.match(err.message, new RegExp(`pulumi config set --secret`));
                    if (c.value) assert.ok(!err.message.includes(c.value), "a secret value never appears in an error");
                } else if (!c.also && !c.expect) {
                    assert.ok(err.message.startsWith(`platform:${key}`), err.message);
                    assert.ok(
                        fragments(c.value!).some((f) => err.message.includes(f)),
                        `shows the bad value: ${err.message}`,
                    );
                }
            });
        }
    }

    it("suggests the closest droplet sizes for a mistyped slug", () => {
        const err = attempt("serverSize", { value: "s-1vcpu-3gb" });
        assert.match(err.message, /closest valid: s-1vcpu-1gb, s-1vcpu-2gb/);
    });

    it("refuses a stack it does not define", () => {
        assert.throws(
            () => parseSettings(source("staging"), "qa"),
            /stack: "qa" is not a stack this program defines; expected one of dev, staging, prod/,
        );
    });

    it("fails in the program before any resource is registered", async () => {
        let registered = 0;
        await pulumi.runtime.setMocks(
            {
                newResource: (a) => {
                    registered++;
                    return { id: "x", state: a.inputs };
                },
                call: (a) => a.inputs,
            },
            "platform",
            "staging",
            false,
        );
        const cfg = fixture("staging");
        const values = { ...cfg.values, ...offlineSecrets(cfg.values), "platform:dbVersion": "14" };
        pulumi.runtime.setAllConfig(values, Object.keys(offlineSecrets(cfg.values)));
        const program = path.join(ROOT, "infra", "index.ts");
        for (const k of Object.keys(require.cache)) if (k.startsWith(path.join(ROOT, "infra"))) delete require.cache[k];
        assert.throws(
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            () => require(program),
            (e: Error) => e.name === "ConfigError" && /platform:dbVersion: "14"/.test(e.message),
        );
        assert.strictEqual(registered, 0);
        // A RunError makes the CLI print the message alone, without a stack trace.
        assert.ok(pulumi.RunError.isInstance(new ConfigError("k", "m")));
    });
});

describe("config: the fixture teams' stacks", () => {
    for (const team of TEAMS) {
        for (const stack of ["dev", "staging", "prod"]) {
            it(`${team}/${stack} parses with the secrets it needs`, () => {
                const s = parseSettings(source(stack, {}, { team }), stack);
                assert.strictEqual(s.stack, stack);
                assert.strictEqual(s.prefix, `platform-${stack}`);
            });
        }
    }

    it("derives the edge from the server count: load balancer for several, reserved IP for one", () => {
        for (const count of ["1", "2", "3"]) {
            assert.strictEqual(
                parseSettings(source("staging", { serverCount: count }), "staging").edge,
                count === "1" ? "reserved-ip" : "load-balancer",
            );
        }
    });

    it("uses the declared defaults when a key is unset", () => {
        const s = parseSettings(source("dev", {}, { unset: ["dnsTtl", "dbVersion"] }), "dev");
        assert.strictEqual(s.dns.ttl, 60);
        assert.strictEqual(s.database.version, "17");
    });

    it("keeps 0 as 0 instead of falling back to a default", () => {
        const s = parseSettings(source("prod", { githubWaitTimerMinutes: "0" }), "prod");
        assert.strictEqual(s.github.waitTimerMinutes, 0);
    });
});

describe("config: pure validators", () => {
    it("parses CIDRs and rejects host bits", () => {
        assert.deepStrictEqual(parseCidr("10.20.0.0/20"), { base: 0x0a140000, prefix: 20 });
        assert.strictEqual(parseCidr("10.20.0.1/20"), undefined);
        assert.strictEqual(parseCidr("300.0.0.0/8"), undefined);
    });
    it("knows domains and emails", () => {
        assert.ok(isDomain("acme-shop.com") && !isDomain("acme") && !isDomain("a_b.com"));
        assert.ok(isEmail("ops@acme-shop.com") && !isEmail("ops@") && !isEmail("@acme.com"));
    });
    it("ranks suggestions by edit distance", () => {
        assert.deepStrictEqual(closest("s-2vcpu-4g", DROPLET_SIZES, 1), ["s-2vcpu-4gb"]);
    });
    it("lets a non-prod stack own only names carrying its label", () => {
        assert.ok(ownsRecord("staging", "staging") && ownsRecord("staging", "api.staging"));
        assert.ok(
            !ownsRecord("staging", "api") && !ownsRecord("staging", "@") && !ownsRecord("staging", "staging.api"),
        );
        assert.ok(ownsRecord("prod", "@") && ownsRecord("prod", "app") && !ownsRecord("prod", "api.dev"));
        assert.strictEqual(fqdn("@", "acme-shop.com"), "acme-shop.com");
    });
});
