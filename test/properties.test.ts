/**
 * Properties over open-ended inputs (fast-check), where hand-picked cases miss the odd one:
 * shell quoting judged by real shells, CIDR parsing, record ownership across stacks, and
 * every config key refusing values of the wrong type. A failure prints the shrunk input.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import fc from "fast-check";
import { ConfigError, ConfigSource, fqdn, ownsRecord, parseSettings, PROJECT, STACKS } from "../infra/config";
import { Key, KeyDef, KEYS } from "../infra/config/schema";
import { isPrivateCidr, isRecordName, parseCidr } from "../infra/config/validate";
import { shellJoin } from "../infra/shell";
import { configSource, offlineSecrets } from "../tools/lib/stacks";
import { fixture } from "./helpers";

describe("properties: shell quoting", () => {
    /** Characters the shell treats specially, mixed in often; any other code point but NUL too. */
    const SPECIAL = [..."'\"\\$`!*?[]{}()<>|&;#~=%^ \t\n\r-.,:@+/"];
    const word = fc.string({
        unit: fc.oneof(
            fc.constantFrom(...SPECIAL),
            fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => c !== "\0"),
        ),
        maxLength: 12,
    });
    const argv = fc.array(word, { maxLength: 6 });

    /**
     * What `sh` makes of each quoted argv, the way infra/app/scripts/migrate.sh reads one:
     * `eval "set -- ${MIGRATE_ARGS}"`. All cases go to one shell process; each prints its
     * word count and words, NUL-terminated (the one byte an argv word cannot hold).
     */
    function roundTrip(shell: string, cases: string[][]): string[][] {
        const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C" };
        const lines = cases.map((c, i) => {
            env[`ARGS_${i}`] = shellJoin(c);
            return `eval "set -- \${ARGS_${i}}"; printf '%s\\0' "$#" "$@"`;
        });
        const out = execFileSync(shell, [], { input: lines.join("\n") + "\n", env });
        const parts = out.toString("utf8").split("\0");
        const result: string[][] = [];
        let i = 0;
        for (const _ of cases) {
            const n = Number(parts[i++]);
            result.push(parts.slice(i, i + n));
            i += n;
        }
        return result;
    }

    for (const shell of ["sh", "bash"]) {
        it(`${shell} gives back exactly the argv shellJoin quoted (batches of 25, 8 shell runs)`, () => {
            fc.assert(
                fc.property(fc.array(argv, { minLength: 1, maxLength: 25 }), (cases) => {
                    assert.deepStrictEqual(roundTrip(shell, cases), cases);
                }),
                { numRuns: 8 },
            );
        });
    }
});

describe("properties: CIDR parsing", () => {
    const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
    const maskOf = (p: number) => (p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0);
    const address = fc.integer({ min: 0, max: 0xffffffff });
    const prefix = fc.integer({ min: 0, max: 32 });

    it("parses every network address back to its base and prefix", () => {
        fc.assert(
            fc.property(address, prefix, (a, p) => {
                const base = (a & maskOf(p)) >>> 0;
                assert.deepStrictEqual(parseCidr(`${dotted(base)}/${p}`), { base, prefix: p });
            }),
            { numRuns: 500 },
        );
    });

    it("refuses an address with host bits set", () => {
        fc.assert(
            fc.property(address, prefix, (a, p) => {
                fc.pre((a & maskOf(p)) >>> 0 !== a);
                assert.strictEqual(parseCidr(`${dotted(a)}/${p}`), undefined);
            }),
            { numRuns: 500 },
        );
    });

    /** Accepted text is exactly the canonical rendering of what was parsed: no leading zeros, no padding. */
    const canonical = (s: string) => {
        const c = parseCidr(s);
        return c === undefined || s === `${dotted(c.base)}/${c.prefix}`;
    };

    it("accepts no garbage: any accepted string is the canonical form of what it parsed to", () => {
        fc.assert(
            fc.property(fc.string({ unit: fc.constantFrom(..."0123456789./ x-"), maxLength: 24 }), (s) => {
                assert.ok(canonical(s), `${JSON.stringify(s)} accepted as ${JSON.stringify(parseCidr(s))}`);
            }),
            { numRuns: 1000 },
        );
    });

    it("accepts no near-miss: a valid CIDR with characters inserted is refused or still canonical", () => {
        const valid = fc.tuple(address, prefix).map(([a, p]) => `${dotted((a & maskOf(p)) >>> 0)}/${p}`);
        const insertion = fc.tuple(
            valid,
            fc.nat(),
            fc.string({ unit: fc.constantFrom(..."0123456789./ "), minLength: 1, maxLength: 3 }),
        );
        fc.assert(
            fc.property(insertion, ([v, at, extra]) => {
                const i = at % (v.length + 1);
                const s = v.slice(0, i) + extra + v.slice(i);
                assert.ok(canonical(s), `${JSON.stringify(s)} accepted as ${JSON.stringify(parseCidr(s))}`);
            }),
            { numRuns: 1000 },
        );
    });

    /** RFC 1918, by first octets: 10/8, 172.16/12 (172.16-172.31), 192.168/16. Which range an address is in, or -1. */
    const rfc1918 = (n: number) => {
        const [a, b] = [n >>> 24, (n >>> 16) & 255];
        return a === 10 ? 0 : a === 172 && b >= 16 && b <= 31 ? 1 : a === 192 && b === 168 ? 2 : -1;
    };

    it("isPrivateCidr holds exactly when the first and last address lie in one RFC 1918 range", () => {
        // Addresses near the private ranges, so both answers come up often.
        const near = fc.oneof(
            address,
            ...[0x0a000000, 0xac100000, 0xc0a80000].map((b) =>
                fc.integer({ min: b - 0x01000000, max: b + 0x01ffffff }),
            ),
        );
        fc.assert(
            fc.property(near, prefix, (a, p) => {
                const base = (a & maskOf(p)) >>> 0;
                const last = (base + (2 ** (32 - p) - 1)) >>> 0;
                const expected = rfc1918(base) !== -1 && rfc1918(base) === rfc1918(last);
                assert.strictEqual(isPrivateCidr({ base, prefix: p }), expected, `${dotted(base)}/${p}`);
            }),
            { numRuns: 1000 },
        );
    });
});

describe("properties: DNS records in the shared zone", () => {
    // Stack names as labels half the time: that is where two stacks could collide.
    const label = fc.oneof(
        fc.constantFrom(...STACKS, "api", "app", "www"),
        fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/),
    );
    const host = fc.oneof(
        fc.constant("@"),
        fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join(".")),
    );

    it("no record name is owned by two stacks", () => {
        fc.assert(
            fc.property(host, (h) => {
                assert.ok(isRecordName(h), h);
                const owners = STACKS.filter((s) => ownsRecord(s, h));
                assert.ok(owners.length <= 1, `${h} is owned by ${owners.join(" and ")}`);
            }),
            { numRuns: 2000 },
        );
    });

    it("no two stacks' owned names meet in one fully qualified name", () => {
        fc.assert(
            fc.property(host, host, (h1, h2) => {
                for (const s1 of STACKS) {
                    for (const s2 of STACKS) {
                        if (s1 === s2 || !ownsRecord(s1, h1) || !ownsRecord(s2, h2)) continue;
                        assert.notStrictEqual(
                            fqdn(h1, "example.com"),
                            fqdn(h2, "example.com"),
                            `${s1} ${h1} / ${s2} ${h2}`,
                        );
                    }
                }
            }),
            { numRuns: 2000 },
        );
    });
});

describe("properties: every config key refuses values of the wrong type", () => {
    /**
     * A stack that reads every key: the prod fixture with dumps on (so the Spaces keys are
     * read too); the fixture already has Slack and a registry login.
     */
    const cfg = fixture("prod");
    const values: Record<string, string> = {
        ...cfg.values,
        [`${PROJECT}:dbDump`]: JSON.stringify({ bucket: "acme-dumps", region: "nyc3", retentionDays: 7 }),
    };
    const secrets = offlineSecrets(values);
    const base = configSource({ ...values, ...secrets }, [...cfg.secretKeys, ...Object.keys(secrets)]);

    /** The base with one key replaced, stored encrypted or in plain text. */
    const withValue = (key: Key, value: string, secret: boolean): ConfigSource => ({
        get: (k) => (k === key ? value : base.get(k)),
        isSecret: (k) => (k === key ? secret : base.isSecret(k)),
        keys: () => [...new Set([...base.keys!(), key])],
    });

    const notJson = fc.string().filter((s) => {
        try {
            JSON.parse(s);
            return false;
        } catch {
            return true;
        }
    });
    const json = (keep: (v: unknown) => boolean) =>
        fc
            .jsonValue()
            .filter(keep)
            .map((v) => JSON.stringify(v));
    const isList = (v: unknown) => Array.isArray(v);
    const isMapping = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
    const pad = fc.constantFrom(" ", "\t", "\n", "  ");

    /** Values of the wrong type for a key, by its declared type; secrets are wrong when stored in plain text. */
    function garbage(key: Key): fc.Arbitrary<{ value: string; secret: boolean }> {
        const def: KeyDef = KEYS[key];
        const stored = (a: fc.Arbitrary<string>, secret = !!def.secret) => a.map((value) => ({ value, secret }));
        if (def.secret) {
            // A distinctive value, so the check below can tell it was never echoed.
            const plain = stored(
                fc.string({ minLength: 1 }).map((s) => `s3cr3t-${s}`),
                false,
            );
            return def.type === "object" ? fc.oneof(plain, stored(json((v) => !isMapping(v)))) : plain;
        }
        switch (def.type) {
            case "integer":
                return stored(
                    fc.oneof(
                        fc.string().filter((s) => !/^-?\d+$/.test(s)),
                        fc.double({ noInteger: true }).map(String),
                    ),
                );
            case "boolean":
                return stored(fc.string().filter((s) => s !== "true" && s !== "false"));
            case "array":
                return stored(
                    fc.oneof(
                        notJson,
                        json((v) => !isList(v)),
                        json((v) => isList(v) && (v as unknown[]).some((x) => typeof x !== "string")),
                    ),
                );
            case "object":
                return stored(
                    fc.oneof(
                        notJson,
                        json((v) => !isMapping(v)),
                    ),
                );
            default: {
                // Strings: a YAML list or mapping where one word belongs, or the stack's own value padded with whitespace.
                const own = base.get(key) ?? String(def.default ?? "");
                return stored(
                    fc.oneof(
                        json((v) => isList(v) || isMapping(v)),
                        fc.tuple(pad, fc.boolean()).map(([p, front]) => (front ? p + own : own + p)),
                    ),
                );
            }
        }
    }

    it("the base stack parses, so every refusal below is the one key's", () => {
        assert.doesNotThrow(() => parseSettings(base, "prod"));
    });

    for (const key of Object.keys(KEYS) as Key[]) {
        it(`platform:${key}`, () => {
            fc.assert(
                fc.property(garbage(key), ({ value, secret }) => {
                    let err: Error | undefined;
                    try {
                        parseSettings(withValue(key, value, secret), "prod");
                    } catch (e) {
                        err = e as Error;
                    }
                    assert.ok(err, `${JSON.stringify(value)} was accepted`);
                    assert.ok(err instanceof ConfigError, `${err.name}: ${err.message}`);
                    assert.match(err.message, new RegExp(`^platform:${key}[:.]`), err.message);
                    assert.ok(!err.message.includes("\n"), `one line: ${err.message}`);
                    if ((KEYS[key] as KeyDef).secret)
                        assert.ok(!err.message.includes(value), `a secret value never appears: ${err.message}`);
                }),
                { numRuns: 40 },
            );
        });
    }
});
