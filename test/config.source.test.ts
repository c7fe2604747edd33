/**
 * Reading config the way the Pulumi CLI hands it to the program: the runtime source (secret
 * detection, every key of the namespace), the stack file reader of the offline plan, and
 * the checks that apply to both (unknown and retired keys, secret-looking env, a tag moved
 * under a pin).
 */
import * as assert from "assert";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { checkKnownKeys, parseSettings, pinnedTagOf, secretLooking } from "../infra/config";
import { checkServicePin } from "../infra/config/parse/services";
import { pulumiSource } from "../infra/config/load";
import { configSource, ENCRYPTED, offlineSecrets, parseStackFile, ROOT, secretsLeft } from "../tools/lib/stacks";
import { fixture } from "./helpers";

describe("config: the runtime source", () => {
    afterEach(() => pulumi.runtime.setAllConfig({}, []));

    it("reports plain-text values of secret keys when the runtime knows which keys are secret", () => {
        pulumi.runtime.setAllConfig({ "platform:tailscaleApiKey": "tskey-api-x", "platform:ghcrToken": "ghp_plain" }, [
            "platform:tailscaleApiKey",
        ]);
        const src = pulumiSource();
        assert.strictEqual(src.isSecret("tailscaleApiKey"), true);
        assert.strictEqual(src.isSecret("ghcrToken"), false);
        assert.strictEqual(src.get("ghcrToken"), "ghp_plain");
    });

    it("trusts values when the runtime was given no secret keys at all, rather than refusing real secrets", () => {
        pulumi.runtime.setAllConfig({ "platform:tailscaleApiKey": "tskey-api-x" }, []);
        assert.strictEqual(pulumiSource().isSecret("tailscaleApiKey"), true);
    });

    it("lists every key of the program's namespace (not the providers'), so a typo is refused by the program", () => {
        const cfg = fixture("staging");
        const ph = offlineSecrets(cfg.values);
        pulumi.runtime.setAllConfig(
            { ...cfg.values, ...ph, "platform:serverSise": "s-1vcpu-1gb", "digitalocean:token": "x" },
            [...cfg.secretKeys, ...Object.keys(ph)],
        );
        assert.ok(pulumiSource().keys!().includes("serverSise"));
        assert.ok(!pulumiSource().keys!().includes("token"));
        assert.throws(
            () => parseSettings(pulumiSource(), "staging"),
            (e: Error) =>
                e.name === "ConfigError" &&
                e.message ===
                    "platform:serverSise: is not a key this program reads; expected a declared key — did you mean serverSize? Rename it in Pulumi.staging.yaml (or run: pulumi config rm serverSise --stack staging)",
        );
    });

    it("refuses a retired key with what replaced it, not as a typo", () => {
        const cfg = fixture("prod");
        const ph = offlineSecrets(cfg.values);
        pulumi.runtime.setAllConfig({ ...cfg.values, ...ph, "platform:githubTagPatterns": '["v*"]' }, [
            ...cfg.secretKeys,
            ...Object.keys(ph),
        ]);
        assert.throws(
            () => parseSettings(pulumiSource(), "prod"),
            (e: Error) =>
                e.name === "ConfigError" &&
                /^platform:githubTagPatterns: was retired: no workflow deploys from a tag, so no environment admits one .*; remove it \(pulumi config rm githubTagPatterns --stack prod\)$/.test(
                    e.message,
                ),
        );
    });

    it("the program itself refuses an unknown key before registering anything", async () => {
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
        const ph = offlineSecrets(cfg.values);
        pulumi.runtime.setAllConfig({ ...cfg.values, ...ph, "platform:dnsTtll": "300" }, Object.keys(ph));
        for (const k of Object.keys(require.cache)) if (k.startsWith(path.join(ROOT, "infra"))) delete require.cache[k];
        assert.throws(
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            () => require(path.join(ROOT, "infra", "index.ts")),
            /platform:dnsTtll: is not a key this program reads; expected a declared key — did you mean dnsTtl\?/,
        );
        assert.strictEqual(registered, 0);
    });
});

describe("config: a stack file read as the CLI reads it", () => {
    const read = (body: string) => parseStackFile(`config:\n${body}`);

    it("keeps scalars as written: 1.10, 0123456 and 3e12345 stay those strings", () => {
        const { values } = read(
            '  platform:dbVersion: 1.10\n  platform:a: 0123456\n  platform:b: 3e12345\n  platform:c: yes\n  platform:d: "quoted: 1.0"\n  platform:e: true\n',
        );
        assert.deepStrictEqual(values, {
            "platform:dbVersion": "1.10",
            "platform:a": "0123456",
            "platform:b": "3e12345",
            "platform:c": "yes",
            "platform:d": "quoted: 1.0",
            "platform:e": "true",
        });
    });

    it("gives null and empty values as empty strings, and qualifies bare keys with the project", () => {
        assert.deepStrictEqual(read("  platform:x: ~\n  platform:y:\n  region: nyc3\n").values, {
            "platform:x": "",
            "platform:y": "",
            "platform:region": "nyc3",
        });
    });

    it("passes lists and mappings as JSON, with numbers and booleans typed inside them", () => {
        const { values } = read(
            '  platform:sshKeys:\n    - "1"\n    - 2\n  platform:processes:\n    w:\n      command: [a, b]\n      memoryMb: 256\n',
        );
        assert.strictEqual(values["platform:sshKeys"], '["1",2]');
        assert.strictEqual(values["platform:processes"], '{"w":{"command":["a","b"],"memoryMb":256}}');
    });

    it("refuses an unquoted nested number YAML does not keep as written (1.10, 2.0, 0123456), naming where and the fix", () => {
        for (const [text, number] of [
            ["1.10", "1.1"],
            ["2.0", "2"],
            ["0123456", "123456"],
        ]) {
            assert.throws(
                () => read(`  platform:services:\n    api:\n      tag: ${text}\n      port: 3000\n`),
                (e: Error) =>
                    e.message ===
                    `platform:services.api.tag: ${text} is read as the number ${number} (YAML drops what a number does not keep); expected the text as written — quote it: "${text}"`,
            );
        }
        assert.doesNotThrow(
            () => read('  platform:services:\n    api:\n      tag: "1.10"\n      port: 3000\n      sizes: [1, 2.5]\n'),
            "quoted, or numbers that keep their text",
        );
        assert.throws(() => read("  platform:x:\n    - 1.50\n"), /platform:x\[0\]: 1\.50 is read as the number 1\.5 /);
    });

    it("marks secure values secret, a mapping holding one too, and never carries the ciphertext", () => {
        const cfg = read(
            "  platform:tailscaleApiKey:\n    secure: v1:abc\n  platform:appSecrets:\n    SESSION_SECRET:\n      secure: v1:def\n  platform:domain: example.com\n",
        );
        assert.deepStrictEqual(cfg.secretKeys.sort(), ["platform:appSecrets", "platform:tailscaleApiKey"]);
        assert.strictEqual(cfg.values["platform:tailscaleApiKey"], ENCRYPTED);
        assert.strictEqual(cfg.values["platform:appSecrets"], JSON.stringify({ SESSION_SECRET: ENCRYPTED }));
        assert.ok(!JSON.stringify(cfg).includes("v1:"));
    });

    it("does not fill a placeholder over a secret the file holds in plain text (the check must see it)", () => {
        assert.deepStrictEqual(Object.keys(offlineSecrets({ "platform:tailscaleApiKey": "tskey-api-plain" })), []);
        assert.deepStrictEqual(
            Object.keys(offlineSecrets({ "platform:services": "X" })),
            ["platform:tailscaleApiKey"],
            "a malformed services value is the config check's to report",
        );
    });
});

describe("config: which secrets a stack needs, one rule for the program, init, doctor and the offline run", () => {
    /**
     * The program's own answer: run its config check with no secrets, and each time it
     * refuses a missing one, store that one (as the offline run would) and run it again.
     */
    function refusedOneByOne(stack: string, values: Record<string, string>): string[] {
        const refused: string[] = [];
        const held: Record<string, string> = {};
        for (;;) {
            try {
                parseSettings(configSource({ ...values, ...held }, Object.keys(held)), stack);
                return refused;
            } catch (e) {
                const key = (e as { key?: string }).key ?? "";
                assert.match((e as Error).message, /: secret is not set/, (e as Error).message);
                assert.ok(!refused.includes(key) && refused.length < 20, `refused ${key} again`);
                refused.push(key);
                const [k, entry] = key.split(/\.(.+)/);
                if (entry === undefined) held[k] = "stored";
                else held[k] = JSON.stringify({ ...(JSON.parse(held[k] ?? "{}") as object), [entry]: "stored" });
            }
        }
    }

    const dump = {
        "platform:dbDump": JSON.stringify({ bucket: "fixture-team-dumps", region: "fra1", retentionDays: 14 }),
    };
    for (const [what, stack, extra] of [
        ["the other team's staging (registry user, three app secrets)", "staging", {}],
        ["the same with dbDump", "staging", dump],
        ["the sample team's prod (Slack alerts) with dbDump", "prod", dump],
    ] as const) {
        it(`${what}: the program refuses exactly what init and doctor list and the offline run fills`, () => {
            const team = what.startsWith("the sample") ? "sample" : "other";
            const cfg = fixture(stack, team);
            const values = { ...cfg.values, ...extra };
            const refused = refusedOneByOne(stack, values).sort();
            assert.ok(refused.length >= 4, `a stack needs several secrets: ${refused.join(", ")}`);
            if ("platform:dbDump" in extra)
                assert.ok(
                    refused.includes("platform:spacesAccessKeyId") && refused.includes("platform:spacesSecretKey"),
                    refused.join(", "),
                );
            // init and doctor --offline: one command per secret, naming the key (and the entry).
            const listed = secretsLeft(stack, { values, secretKeys: [] })
                .map((c) => /--secret (?:--path '([^']+)'|(\w+))/.exec(c)!)
                .map((m) => `platform:${m[1] ?? m[2]}`)
                .sort();
            assert.deepStrictEqual(listed, refused);
            // The offline run: its placeholders are exactly what the program needs.
            const ph = offlineSecrets(values);
            const filled = Object.entries(ph)
                .flatMap(([k, v]) =>
                    k === "platform:appSecrets" ? Object.keys(JSON.parse(v) as object).map((n) => `${k}.${n}`) : [k],
                )
                .sort();
            assert.deepStrictEqual(filled, refused);
            assert.doesNotThrow(() => parseSettings(configSource({ ...values, ...ph }, Object.keys(ph)), stack));
        });
    }
});

describe("config: rules shared by the program and the plan", () => {
    it("suggests the closest declared key", () => {
        assert.throws(() => checkKnownKeys(["dnsttl"], "dev"), /did you mean dnsTtl\?/);
        assert.doesNotThrow(() => checkKnownKeys(["dnsTtl", "services"], "dev"));
    });

    it("names where a retired one-image key's setting lives now, in one line", () => {
        assert.throws(
            () => checkKnownKeys(["dnsTtl", "imageTag"], "staging"),
            (e: Error) =>
                e.name === "ConfigError" &&
                e.message ===
                    "platform:imageTag: was retired: declare services.<name>.tag instead; remove it (pulumi config rm imageTag --stack staging)",
        );
        // As the stack file hands it over: every key the file sets is checked before any is read.
        const cfg = fixture("dev");
        const values = { ...cfg.values, ...offlineSecrets(cfg.values), "platform:appSecretNames": '["X"]' };
        const src = configSource(values, [...cfg.secretKeys, ...Object.keys(offlineSecrets(cfg.values))]);
        assert.throws(
            () => parseSettings(src, "dev"),
            /^ConfigError: platform:appSecretNames: was retired: declare services\.<name>\.secrets instead; /,
        );
    });

    it("calls env entries secret-looking by name or by a known credential format, and lets public keys through", () => {
        for (const [name, value] of [
            ["STRIPE_KEY", "x"],
            ["DB_PASSWORD", "x"],
            ["SIGNING_KEY", "x"],
            ["GITHUB_TOKEN", "x"],
            ["PAYMENTS", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
            ["X", "ghp_0123456789abcdefghij0123"],
            ["X", "xoxb-1234567890-abc"],
            ["X", "AKIAIOSFODNN7EXAMPLE"],
            ["X", "-----BEGIN OPENSSH PRIVATE KEY-----"],
            ["X", "postgres://u:p@h/db"],
        ]) {
            assert.ok(secretLooking(name, value), `${name}=${value}`);
        }
        for (const [name, value] of [
            ["STRIPE_PUBLISHABLE_KEY", "pk_live_abc"],
            ["FEATURE_CHECKOUT_V2", "true"],
            ["RAILS_ENV", "production"],
            ["KEYBOARD_LAYOUT", "us"],
            ["API_URL", "https://api.example.com/v1"],
            ["PUBLIC_KEY_URL", "x"],
        ]) {
            assert.strictEqual(secretLooking(name, value), undefined, `${name}=${value}`);
        }
    });

    it("refuses a tag changed under the digest it was pinned with, and only that", () => {
        const d = `sha256:${"a".repeat(64)}`;
        const other = `sha256:${"b".repeat(64)}`;
        assert.doesNotThrow(() => checkServicePin("web", "1.4.2", d, `1.4.2@${d}`, "prod"), "the pair as pinned");
        assert.doesNotThrow(() => checkServicePin("web", "1.4.2", d, "", "prod"), "nothing recorded");
        assert.doesNotThrow(
            () => checkServicePin("web", "1.4.2", "", `1.4.1@${d}`, "prod"),
            "no digest pinned: the tag resolves",
        );
        assert.doesNotThrow(
            () => checkServicePin("web", "1.5.0", other, `1.4.2@${d}`, "prod"),
            "tag and digest set together by a writer that did not record: a stale record",
        );
        assert.deepStrictEqual(
            [pinnedTagOf(`1.4.2@${d}`, d), pinnedTagOf(`1.4.2@${d}`, other), pinnedTagOf("", d)],
            ["1.4.2", undefined, undefined],
            "what pin reads too",
        );
        assert.throws(
            () => checkServicePin("web", "1.5.0", d, `1.4.2@${d}`, "prod"),
            /^ConfigError: platform:services\.web\.tag: "1\.5\.0" is not the tag its digest was pinned for \("1\.4\.2"\)/,
        );
    });
});
