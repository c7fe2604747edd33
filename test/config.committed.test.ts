/**
 * The repository's own Pulumi.<stack>.yaml files belong to the team using it: the suite
 * checks them only for properties every valid config has (they parse, they pass policy,
 * staging mirrors prod, no plain-text secret, no unknown key), never for their values.
 * The same checks run on a temporary copy rewritten by `npm run init` with another team's
 * values (other domain, registry, port, health path, migration, workers, secret names,
 * three servers in prod), which proves a team's edits keep this suite green.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseDocument } from "yaml";
import { parseSettings } from "../infra/config";
import { KEYS } from "../infra/config/schema";
import { evaluate } from "../policy/rules";
import { recordStack } from "../tools/lib/mockrun";
import { committedStacks, configSource, offlineSecrets, readStackConfig, ROOT } from "../tools/lib/stacks";
import { compareStacks } from "../tools/lib/parity";
import { subjectsOf } from "../tools/lib/subjects";
import { main as init } from "../tools/init";
import { ofType, T, tmpdir } from "./helpers";

/** Registers the stack-independent checks for the stack files in `dir()`. */
function stackIndependentChecks(label: string, dir: () => string): void {
    describe(`stack files (${label}): properties any valid config has`, () => {
        it("every stack parses with the program's config check (secrets as offline placeholders)", () => {
            assert.ok(committedStacks(dir()).length > 0);
            for (const stack of committedStacks(dir())) {
                const cfg = readStackConfig(stack, dir());
                const ph = offlineSecrets(cfg.values);
                const s = parseSettings(
                    configSource({ ...cfg.values, ...ph }, [...cfg.secretKeys, ...Object.keys(ph)]),
                    stack,
                );
                assert.strictEqual(s.edge, s.servers.count > 1 ? "load-balancer" : "reserved-ip");
            }
        });

        it("holds no plain-text secret and no key the program does not read", () => {
            for (const stack of committedStacks(dir())) {
                const { values, secretKeys } = readStackConfig(stack, dir());
                for (const [k, d] of Object.entries(KEYS)) {
                    if ((d as { secret?: boolean }).secret && values[`platform:${k}`] !== undefined)
                        assert.ok(secretKeys.includes(`platform:${k}`), `${stack} holds ${k} in plain text`);
                }
                for (const key of Object.keys(values))
                    if (key.startsWith("platform:")) assert.ok(key.slice(9) in KEYS, `${stack}: unknown key ${key}`);
            }
        });

        it("every stack passes the policy pack, and staging mirrors prod", async function () {
            this.timeout(120_000);
            const recs = new Map<string, Awaited<ReturnType<typeof recordStack>>>();
            for (const stack of committedStacks(dir())) {
                const rec = await recordStack(stack, { configDir: dir() });
                recs.set(stack, rec);
                const bad = evaluate(subjectsOf(rec), stack).flatMap((r) =>
                    r.violations.map((v) => `${r.rule}: ${v.message}`),
                );
                assert.deepStrictEqual(bad, [], stack);
                assert.ok(ofType(rec, T.droplet).length >= 1);
            }
            if (recs.has("staging") && recs.has("prod")) {
                const report = compareStacks(
                    recs.get("staging")!,
                    readStackConfig("staging", dir()),
                    recs.get("prod")!,
                    readStackConfig("prod", dir()),
                );
                assert.deepStrictEqual(
                    [
                        ...report.onlyIn.filter((o) => !o.expected).map((o) => o.resource),
                        ...report.diffs.filter((d) => !d.expected).map((d) => `${d.resource} ${d.property}`),
                    ],
                    [],
                );
            }
        });

        it("staging and prod stack files differ only in declared knob keys", () => {
            if (!committedStacks(dir()).includes("staging") || !committedStacks(dir()).includes("prod")) return;
            const s = readStackConfig("staging", dir()).values;
            const p = readStackConfig("prod", dir()).values;
            for (const key of new Set([...Object.keys(s), ...Object.keys(p)])) {
                if (s[key] === p[key] || !key.startsWith("platform:")) continue;
                assert.ok(
                    (KEYS as Record<string, { knob?: string }>)[key.slice(9)]?.knob,
                    `${key} differs between staging and prod but is not a declared knob`,
                );
            }
        });
    });
}

stackIndependentChecks("this repository", () => ROOT);

/** Another team's values, as the README's first-day walkthrough passes them to init. */
export const OTHER_TEAM = [
    "--domain",
    "northwind-rentals.io",
    "--frontend-host",
    "www",
    "--registry-user",
    "northwind-ci",
    // The stack files' own services give way to the other team's one service, each removed by name.
    ...Object.keys(JSON.parse(readStackConfig("prod", ROOT).values["platform:services"]) as object).flatMap((name) => [
        "--service",
        `-${name}`,
    ]),
    "--service",
    `app=registry.gitlab.com/northwind/rentals-api:2.10 port=8080 health=/healthz database=true migrate="bin/rails db:migrate" ` +
        `worker=jobs:"bundle exec sidekiq" worker='mailer:bin/mailer --queue "mail out"' secrets=SECRET_KEY_BASE,SENTRY_DSN`,
    "--github",
    "northwind/rentals-platform",
    "--reviewers",
    "alice-nw",
    "--region",
    "ams3",
    "--ssh-key",
    "412345",
    "--alert-email",
    "oncall@northwind-rentals.io",
    "--acme-email",
    "",
    "--slack-channel",
    "",
    "--servers",
    "prod=3",
];

describe("the first-day path: init with another team's values, then the same checks", () => {
    let rewritten = "";
    before(async () => {
        rewritten = tmpdir("other-team-");
        for (const f of fs.readdirSync(ROOT).filter((n) => /^Pulumi\..+\.yaml$/.test(n)))
            fs.copyFileSync(path.join(ROOT, f), path.join(rewritten, f));
        let err = "";
        let out = "";
        const code = await init(["--yes", "--work-dir", rewritten, ...OTHER_TEAM, "--json"], {
            out: (s) => {
                out += s;
            },
            err: (s) => {
                err += s;
            },
        });
        assert.strictEqual(code, 0, err);
        // Then what the team does next: the `pulumi config set --secret` commands init printed,
        // which write `secure:` values into the stack files they commit.
        for (const cmd of (JSON.parse(out) as { secretsToSet: string[] }).secretsToSet) {
            const m = /^pulumi config set --secret (?:--path '([\w.]+)'|(\w+)) --stack (\w+)(?:\s+#.*)?$/.exec(cmd);
            assert.ok(m, cmd);
            const file = path.join(rewritten, `Pulumi.${m[3]}.yaml`);
            const doc = parseDocument(fs.readFileSync(file, "utf8"));
            const keyPath = (m[1] ?? m[2]).split(".");
            doc.setIn(
                ["config", `platform:${keyPath[0]}`, ...keyPath.slice(1)],
                doc.createNode({ secure: "v1:c2ltdWxhdGVkIGNpcGhlcnRleHQ=" }),
            );
            fs.writeFileSync(file, doc.toString());
        }
    });

    describe("init rewrote a copy of the stack files with another team's values", () => {
        it("so nothing of the sample team is left in it", () => {
            for (const stack of committedStacks(rewritten)) {
                const text = fs
                    .readFileSync(path.join(rewritten, `Pulumi.${stack}.yaml`), "utf8")
                    .replace(/^#.*$/gm, "");
                const { values } = readStackConfig(stack, rewritten);
                const services = JSON.parse(values["platform:services"]) as Record<
                    string,
                    { port: number; tag: string }
                >;
                assert.deepStrictEqual(Object.keys(services), ["app"], "one service, from init's answers");
                assert.deepStrictEqual([services.app.port, services.app.tag], [8080, "2.10"]);
                const root = readStackConfig(stack, ROOT).values;
                const sampleImages = Object.values(
                    JSON.parse(root["platform:services"]) as Record<string, { image: string }>,
                ).map((svc) => svc.image);
                for (const sample of root["platform:domain"] === "northwind-rentals.io"
                    ? []
                    : [root["platform:domain"], ...sampleImages]) {
                    assert.ok(!text.includes(sample), `${stack} still holds ${sample}`);
                }
            }
            assert.strictEqual(readStackConfig("prod", rewritten).values["platform:serverCount"], "3");
            assert.ok(
                readStackConfig("prod", rewritten).secretKeys.includes("platform:appSecrets"),
                "the secrets the team set are in the files, encrypted",
            );
        });
    });
    stackIndependentChecks("rewritten by init for another team", () => rewritten);
});
