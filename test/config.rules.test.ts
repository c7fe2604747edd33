/**
 * The config's named rules, called directly without mocks or stack files (as awsx tests
 * its validators): each predicate on inputs it must accept and inputs it must refuse, and
 * each cross-key check on the one-line error it gives.
 */
import * as assert from "assert";
import { ConfigError } from "../infra/config";
import { edgeKind } from "../infra/config/parse/servers";
import { checkDatabaseNodes } from "../infra/config/parse/database";
import { checkGithubTier, GithubSettings } from "../infra/config/parse/github";
import { isVpcRange } from "../infra/config/parse/network";
import { parseProcesses as parseProcessesAt } from "../infra/config/parse/services";

const parseProcesses = (raw: unknown) => parseProcessesAt("platform:processes", raw);
import { filledKeys, setSecretHint } from "../infra/config/reader";
import {
    isBucketName,
    isClusterName,
    isGithubRepositoryName,
    isImagePin,
    isPgIdentifier,
    isProcessName,
    isSlackChannel,
    isTailnetName,
    isTeamSlug,
    isUtcHourMinute,
    isUtcTime,
} from "../infra/config/validate";

const HEX = "0123456789abcdef".repeat(4);

/** Every value in `good` passes, every value in `bad` fails; the first wrong one is named. */
function judges(rule: (v: string) => boolean, good: string[], bad: string[]): void {
    assert.deepStrictEqual(
        good.filter((v) => !rule(v)),
        [],
        `${rule.name} refused valid values`,
    );
    assert.deepStrictEqual(
        bad.filter((v) => rule(v)),
        [],
        `${rule.name} accepted invalid values`,
    );
}

/** Runs `fn`, expecting one ConfigError line for `key` that matches `expect`. */
function refuses(fn: () => void, key: string, expect: RegExp): void {
    assert.throws(fn, (e: Error) => {
        assert.ok(e instanceof ConfigError, `${e.name}: ${e.message}`);
        assert.strictEqual((e as ConfigError).key, key);
        assert.ok(!e.message.includes("\n"), e.message);
        assert.ok(e.message.startsWith(`${key}: `), e.message);
        assert.match(e.message, expect);
        return true;
    });
}

describe("config rules: value predicates", () => {
    it("isVpcRange: RFC 1918 network addresses from /16 to /24 only", () => {
        judges(
            isVpcRange,
            ["10.20.0.0/20", "172.16.0.0/16", "192.168.4.0/24", "10.255.255.0/24"],
            [
                "10.20.0.0",
                "10.20.0.1/20",
                "8.8.0.0/16",
                "10.0.0.0/8",
                "10.20.0.0/25",
                "172.32.0.0/16",
                "192.169.0.0/16",
                "10.020.0.0/20",
                "10.20.0.0/020",
                "",
            ],
        );
    });

    it("isTailnetName: a tailnet or `-`, no spaces or slashes", () => {
        judges(
            isTailnetName,
            ["-", "example.com", "tail1234.ts.net", "ops@example.com"],
            ["", "a b", "example.com/x", "tail\n"],
        );
    });

    it("isClusterName: DigitalOcean's 3 to 63 lowercase letters, digits and dashes", () => {
        judges(
            isClusterName,
            ["pg1", "platform-prod-pg", `a${"b".repeat(62)}`],
            ["pg", "PG-1", "-pg", "pg_1", `a${"b".repeat(63)}`, ""],
        );
    });

    it("isPgIdentifier: unquoted lowercase Postgres identifiers up to 63 bytes", () => {
        judges(
            isPgIdentifier,
            ["app", "_app", "app_2", `a${"b".repeat(62)}`],
            ["App", "1app", "app-db", "", `a${"b".repeat(63)}`],
        );
    });

    it("isUtcHourMinute: HH:MM on a 24-hour clock", () => {
        judges(isUtcHourMinute, ["00:00", "09:30", "23:59"], ["24:00", "9:30", "12:60", "3am", "12:00:00", ""]);
    });

    it("isUtcTime: ISO 8601 instants in UTC that are real dates", () => {
        judges(
            isUtcTime,
            ["2026-11-20T14:03:11Z", "2026-11-20T14:03:11.123456Z"],
            [
                "2026-11-20T14:03:11",
                "2026-11-20T14:03:11+01:00",
                "2026-11-20 14:03:11Z",
                "2026-13-01T00:00:00Z",
                "yesterday",
                "2026-11-20T14:03:11.1234567Z",
            ],
        );
    });

    it("isBucketName: S3 bucket names, 3 to 63 characters, no dash at either end", () => {
        judges(
            isBucketName,
            ["abc", "acme-dumps", "a".repeat(63)],
            ["ab", "a".repeat(64), "-abc", "abc-", "Acme", "acme_dumps", "acme.dumps"],
        );
    });

    it("isSlackChannel: lowercase channel names up to 80, with or without #", () => {
        judges(
            isSlackChannel,
            ["#ops", "ops", "deploy-alerts_2", `#${"a".repeat(80)}`],
            ["Ops Channel", "#Ops", "#", "", `${"a".repeat(81)}`, "##ops"],
        );
    });

    it("isImagePin: <tag>@sha256:<64 hex>, as npm run pin writes it", () => {
        judges(
            isImagePin,
            [`1.4.2@sha256:${HEX}`, `abc123_x@sha256:${HEX}`],
            [
                "1.4.2",
                `1.4.2@sha256:${HEX.slice(1)}`,
                `-bad@sha256:${HEX}`,
                `@sha256:${HEX}`,
                `1.4.2@sha256:${HEX.toUpperCase()}`,
                `sha256:${HEX}`,
            ],
        );
    });

    it("isGithubRepositoryName: letters, digits, _ . - up to 100, no owner", () => {
        judges(
            isGithubRepositoryName,
            ["shop", "shop.web", "my_repo-2", "x".repeat(100)],
            ["acme/shop", "my repo", "", "x".repeat(101)],
        );
    });

    it("isTeamSlug: lowercase slugs as the API spells them", () => {
        judges(isTeamSlug, ["ops", "platform-team", "team_2"], ["Team X", "Ops", "-ops", ""]);
    });

    it("isProcessName: short lowercase names that are not the platform's own containers", () => {
        judges(
            isProcessName,
            ["worker", "mail-sender", "w2"],
            ["app", "caddy", "migrate", "edge", "Worker", "2w", "-w", "", "w".repeat(32)],
        );
    });
});

describe("config rules: cross-key checks", () => {
    it("edgeKind: a reserved IP for one server, a load balancer for several", () => {
        assert.strictEqual(edgeKind(1), "reserved-ip");
        assert.strictEqual(edgeKind(2), "load-balancer");
        assert.strictEqual(edgeKind(10), "load-balancer");
    });

    it("checkDatabaseNodes: standby nodes need 2 GiB, and prod needs a standby", () => {
        assert.doesNotThrow(() => checkDatabaseNodes("dev", "db-s-1vcpu-1gb", 1));
        assert.doesNotThrow(() => checkDatabaseNodes("prod", "db-s-1vcpu-2gb", 2));
        refuses(
            () => checkDatabaseNodes("staging", "db-s-1vcpu-1gb", 2),
            "platform:dbSize",
            /^platform:dbSize: "db-s-1vcpu-1gb" is not valid; expected a size with at least 2 GiB of RAM when dbNodeCount is 2/,
        );
        refuses(
            () => checkDatabaseNodes("prod", "db-s-2vcpu-4gb", 1),
            "platform:dbNodeCount",
            /^platform:dbNodeCount: 1 is not valid; expected at least 2 in prod/,
        );
    });

    const github = (over: Partial<GithubSettings> = {}): GithubSettings => ({
        owner: "acme",
        repository: "shop",
        approvalMode: "environment",
        reviewers: ["maria"],
        reviewerTeams: [],
        waitTimerMinutes: 0,
        ...over,
    });

    it("checkGithubTier: prod needs a reviewer; dev and staging do not", () => {
        assert.doesNotThrow(() => checkGithubTier("prod", github()));
        assert.doesNotThrow(() => checkGithubTier("prod", github({ reviewers: [], reviewerTeams: ["ops"] })));
        assert.doesNotThrow(() => checkGithubTier("dev", github({ reviewers: [] })));
        refuses(
            () => checkGithubTier("prod", github({ reviewers: [] })),
            "platform:githubReviewers",
            /expected at least one reviewer/,
        );
    });

    it("checkGithubTier applies the approval mode's rules too", () => {
        refuses(
            () => checkGithubTier("prod", github({ approvalMode: "workflow" })),
            "platform:githubReviewers",
            /at least two users in workflow approval mode for prod/,
        );
        assert.doesNotThrow(() =>
            checkGithubTier("prod", github({ approvalMode: "workflow", reviewers: ["maria", "li"] })),
        );
    });

    it("parseProcesses: sorted by name, memory defaults to 256 MB, bad entries name the process", () => {
        const list = parseProcesses({
            worker: { command: ["node", "w.js"] },
            mailer: { command: ["node", "m.js"], memoryMb: 128 },
        });
        assert.deepStrictEqual(list, [
            { name: "mailer", command: ["node", "m.js"], memoryMb: 128 },
            { name: "worker", command: ["node", "w.js"], memoryMb: 256 },
        ]);
        assert.deepStrictEqual(parseProcesses({}), []);
        refuses(
            () => parseProcesses({ caddy: { command: ["x"] } }),
            "platform:processes",
            /^platform:processes: "caddy" is not valid; expected a process name .* other than app, caddy, migrate, edge, image, cutover, workers-check, proxy, network, docker, ready$/,
        );
        refuses(() => parseProcesses({ worker: { command: "node w.js" } }), "platform:processes", /"worker"/);
        refuses(
            () => parseProcesses({ worker: { command: ["x"], memoryMb: 32 } }),
            "platform:processes.worker.memoryMb",
            /from 64 to 65536/,
        );
    });
});

describe("config rules: secrets are handled by name only", () => {
    it("filledKeys: the names of filled string entries; undefined for anything but a mapping", () => {
        assert.deepStrictEqual(filledKeys(JSON.stringify({ A: "x", B: "", C: 5, D: "y" })), ["A", "D"]);
        assert.deepStrictEqual(filledKeys("{}"), []);
        for (const raw of ["[]", '"A"', "null", "{oops"]) assert.strictEqual(filledKeys(raw), undefined, raw);
    });

    it("setSecretHint: a command that prompts, never one carrying a value", () => {
        assert.strictEqual(setSecretHint("ghcrToken", "prod"), "pulumi config set --secret ghcrToken --stack prod");
        assert.strictEqual(
            setSecretHint("appSecrets", "dev"),
            "pulumi config set --secret --path 'appSecrets.NAME' --stack dev",
        );
    });
});
