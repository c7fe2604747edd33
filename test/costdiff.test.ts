/**
 * Cost on pull requests: the per-resource comparison (pure, on hand-made cost reports), and
 * `npm run cost-diff` on a base config the test derives from the committed one.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { baseOverrides, main as costDiff } from "../tools/costdiff";
import { CostItem, CostReport } from "../tools/lib/cost";
import { costDiffMarkdown, diffCosts } from "../tools/lib/costdiff";

const ROOT = path.join(__dirname, "..");
const report = (items: CostItem[]): CostReport => ({
    pricesAsOf: "2026-01-02",
    currency: "USD",
    items,
    totalUsdPerMonth: items.reduce((s, i) => s + (i.usdPerMonth ?? 0), 0),
    unknownItems: items.filter((i) => i.usdPerMonth === null).length,
});
const DROPLET = "digitalocean:index/droplet:Droplet";
const CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const LB = "digitalocean:index/loadBalancer:LoadBalancer";

describe("cost diff (pure)", () => {
    const before = report([
        { resource: "s-web-1", type: DROPLET, item: "droplet s-1vcpu-2gb", usdPerMonth: 12 },
        {
            resource: "s-cluster",
            type: CLUSTER,
            item: "postgres db-s-1vcpu-2gb x 1 node(s)",
            usdPerMonth: 30,
            note: "per-node list price not confirmed by DigitalOcean",
        },
        {
            resource: "s-lb",
            type: LB,
            item: "load balancer x 1 node(s)",
            usdPerMonth: 12,
            note: "current per-node price not confirmed (older docs: $10)",
        },
    ]);
    const after = report([
        { resource: "s-web-1", type: DROPLET, item: "droplet s-1vcpu-2gb", usdPerMonth: 12 },
        { resource: "s-web-2", type: DROPLET, item: "droplet s-1vcpu-2gb", usdPerMonth: 12 },
        {
            resource: "s-cluster",
            type: CLUSTER,
            item: "postgres db-s-1vcpu-2gb x 2 node(s)",
            usdPerMonth: 60,
            note: "per-node list price not confirmed by DigitalOcean",
        },
        { resource: "s-extra", type: DROPLET, item: "droplet s-9vcpu-99gb", usdPerMonth: null, note: "unknown size" },
    ]);
    const d = diffCosts("staging", before, after);

    it("one row per resource and item kind: changed, added, removed, same", () => {
        assert.deepStrictEqual(
            d.rows.map((r) => [r.change, r.resource, r.before, r.after, r.delta]),
            [
                ["changed", "s-cluster", 30, 60, 30],
                ["added", "s-extra", null, null, null],
                ["added", "s-web-2", null, 12, 12],
                ["removed", "s-lb", 12, null, -12],
                ["same", "s-web-1", 12, 12, 0],
            ],
        );
        assert.strictEqual(d.rows[0].item, "postgres db-s-1vcpu-2gb x 1 node(s) → postgres db-s-1vcpu-2gb x 2 node(s)");
        assert.deepStrictEqual([d.before, d.after, d.delta, d.unknownItems], [54, 84, 30, 1]);
    });

    it("marks unconfirmed and unknown prices", () => {
        assert.deepStrictEqual(
            d.rows.filter((r) => r.unconfirmed).map((r) => r.resource),
            ["s-cluster", "s-extra", "s-lb"],
        );
    });

    it("renders Markdown: totals, changed rows with a dagger, the price date, a lower-bound note", () => {
        const md = costDiffMarkdown([d, diffCosts("prod", undefined, after)], { base: "origin/main" });
        assert.match(md, /^### Monthly cost: origin\/main → this change\n/);
        assert.match(md, /\| staging \| \$54\.00 \| \$84\.00 \| \+\$30\.00 \|/);
        assert.match(md, /\| prod \| \(new stack\) \| \$84\.00 \| unknown \|/);
        assert.match(md, /\| `s-cluster` \| postgres .* † \| \$30\.00 \| \$60\.00 \| \+\$30\.00 \|/);
        assert.match(md, /\| `s-lb` \| load balancer x 1 node\(s\) † \| \$12\.00 \| – \| −\$12\.00 \|/);
        assert.ok(!costDiffMarkdown([d], { base: "b" }).includes("`s-web-1`"), "unchanged rows only with full");
        assert.ok(costDiffMarkdown([d], { base: "b", full: true }).includes("`s-web-1`"));
        assert.match(md, /List prices as of 2026-01-02, USD per month.* † price not confirmed by DigitalOcean\./);
        assert.match(md, /1 item\(s\) have no known price: the total is a lower bound\./);
    });
});

describe("cost diff: the base's stack file", () => {
    it("is read as the CLI reads it (the one reader): 1.10 stays 1.10, an unquoted nested 1.10 is refused, secrets masked", () => {
        const b = baseOverrides(
            "config:\n  platform:dbVersion: 16.10\n  platform:tailscaleApiKey:\n    secure: v1:abc\n",
            { "platform:region": "nyc3" },
        );
        assert.strictEqual(b.overrides["platform:dbVersion"], "16.10");
        assert.deepStrictEqual(b.secretKeys, ["platform:tailscaleApiKey"]);
        assert.ok(!JSON.stringify(b).includes("v1:abc"));
        assert.deepStrictEqual(b.unset, ["platform:region"]);
        assert.throws(
            () => baseOverrides("config:\n  platform:services:\n    api:\n      tag: 1.10\n", {}),
            /platform:services\.api\.tag: 1\.10 is read as the number 1\.1 .*quote it/,
        );
    });
});

describe("npm run cost-diff", function () {
    this.timeout(120_000);
    async function run(argv: string[]) {
        let out = "";
        let err = "";
        const code = await costDiff(argv, {
            out: (s) => {
                out += s;
            },
            err: (s) => {
                err += s;
            },
        });
        return { code, out, err };
    }

    it("a base with one server fewer: the added server is the whole delta", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "costdiff-"));
        const head = parse(fs.readFileSync(path.join(ROOT, "Pulumi.staging.yaml"), "utf8"));
        const count = Number(head.config["platform:serverCount"] ?? 1);
        const baseCount = count > 1 ? count - 1 : count + 1;
        fs.writeFileSync(
            path.join(dir, "Pulumi.staging.yaml"),
            stringify({ ...head, config: { ...head.config, "platform:serverCount": baseCount } }),
        );
        const r = await run(["--base-dir", dir, "--stack", "staging", "--json"]);
        assert.strictEqual(r.code, 0, r.err);
        const s = JSON.parse(r.out).stacks[0];
        const moved = s.rows.filter((x: { change: string }) => x.change !== "same");
        const server = `staging-web-${Math.max(count, baseCount)}`;
        assert.ok(
            moved.some((x: { resource: string }) => x.resource === server),
            JSON.stringify(moved),
        );
        const sum = moved.reduce((t: number, x: { delta: number | null }) => t + (x.delta ?? 0), 0);
        assert.strictEqual(Math.round(sum * 100) / 100, s.delta, "the row deltas add up to the total's");
        assert.strictEqual(Math.sign(s.delta), count > baseCount ? 1 : -1);
        const md = await run(["--base-dir", dir, "--stack", "staging"]);
        assert.match(md.out, new RegExp(`\\| \`${server}\` \\| droplet `));
    });

    it("a stack missing from the base is new", async () => {
        const r = await run(["--base-dir", fs.mkdtempSync(path.join(os.tmpdir(), "costdiff-")), "--stack", "dev"]);
        assert.strictEqual(r.code, 0, r.err);
        assert.match(r.out, /\| dev \| \(new stack\) \|/);
    });

    it("usage errors are one line, exit 2", async () => {
        for (const [argv, expected] of [
            [["--stack", "dev"], /^error: give exactly one of --base <git ref> and --base-dir <dir>\n$/],
            [["--base-dir", "/tmp", "--stack", "qa"], /^error: unknown stack "qa"/],
            [
                ["--base", "no-such-ref-xyz", "--stack", "dev"],
                /^error: git cannot read Pulumi\.dev\.yaml at no-such-ref-xyz/,
            ],
        ] as [string[], RegExp][]) {
            const r = await run(argv);
            assert.strictEqual(r.code, 2, r.out);
            assert.match(r.err, expected);
        }
    });
});
