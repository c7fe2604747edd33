/**
 * Shared test plumbing: memoized mock recordings and lookups by type.
 *
 * Every recording and config source reads the stack files under test/fixtures/stacks (the
 * tests' own), never the repository's Pulumi.<stack>.yaml: a team that makes those its own
 * (npm run init) keeps a green suite. Three fixture teams exist: `sample` (team A, the
 * sample values the repository shipped with, as one service `app`) and `other` (team B: another domain,
 * registry, port, health path, migration, workers, secret names, three servers in prod);
 * `duo` (team C) declares two services, web and api, routed by host and path.
 * Tests of a behaviour should read expected values from `fixture(...)`, not spell them out.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSource } from "../infra/config";
import { TYPES } from "../infra/lifecycle/types";
import { Key, KEYS, PROJECT } from "../infra/config/schema";
import { recordStack, RecordedResource, RecordedStack, RecordOptions } from "../tools/lib/mockrun";
import { configSource, offlineSecrets, readStackConfig, StackConfig } from "../tools/lib/stacks";

/** Fixture stack directories, by team. */
export const FIXTURES = {
    sample: path.join(__dirname, "fixtures", "stacks"),
    other: path.join(__dirname, "fixtures", "stacks", "other"),
    duo: path.join(__dirname, "fixtures", "stacks", "duo"),
} as const;
export type Team = keyof typeof FIXTURES;
export const TEAMS = Object.keys(FIXTURES) as Team[];

/** A fixture team's stack config, as the CLI would hand it to the program. */
export function fixture(stack: string, team: Team = "sample"): StackConfig {
    return readStackConfig(stack, FIXTURES[team]);
}

/** One fixture value, decoded: strings as given, lists and mappings parsed. */
export function fixtureValue(stack: string, key: Key, team: Team = "sample"): unknown {
    const raw = fixture(stack, team).values[`${PROJECT}:${key}`];
    if (raw === undefined) return (KEYS[key] as { default?: unknown }).default;
    return KEYS[key].type === "string" ? raw : JSON.parse(raw);
}

/**
 * The health path the load balancer and the uptime check should probe for a fixture stack,
 * read from the fixture as a team writes it: the health path of the service routed at the
 * API host's root.
 */
export function apiHealthPath(stack: string, team: Team = "sample"): string {
    const domain = String(fixtureValue(stack, "domain", team));
    const apiHost = String(fixtureValue(stack, "apiHost", team));
    const root = `${apiHost === "@" ? domain : `${apiHost}.${domain}`}/`;
    const services = fixtureValue(stack, "services", team) as Record<
        string,
        { routes: string[]; health: { path?: string } }
    >;
    const owner = Object.values(services).find((s) => s.routes.includes(root));
    if (!owner?.health.path) throw new Error(`fixture ${team}/${stack}: no service with a health path answers ${root}`);
    return owner.health.path;
}

/**
 * An override of `services` that changes fields of one service of a fixture stack (the
 * sample team's only service, `app`, by default), as a team edits it in its stack file.
 */
export function serviceOverride(
    stack: string,
    fields: Record<string, unknown>,
    opts: { team?: Team; service?: string } = {},
): { services: string } {
    const services = fixtureValue(stack, "services", opts.team) as Record<string, Record<string, unknown>>;
    const name = opts.service ?? "app";
    if (!services[name]) throw new Error(`fixture ${opts.team ?? "sample"}/${stack} has no service ${name}`);
    return { services: JSON.stringify({ ...services, [name]: { ...services[name], ...fields } }) };
}

/** Records a stack (each distinct config runs once per process: tools/lib/mockrun). Defaults to the sample fixture team. */
export function record(stack: string, opts: RecordOptions = {}): Promise<RecordedStack> {
    return recordStack(stack, { ...opts, configDir: opts.configDir ?? FIXTURES.sample });
}

/**
 * A suite that runs only in its own tier, `npm run test:sweep` (SWEEP=1; CI runs it after
 * `npm test`): the lifecycle sweep, a program run for every config key, is most of the
 * mocks' time. Elsewhere its tests are listed as pending, never as passed.
 */
export function describeSweep(title: string, fn: (this: Mocha.Suite) => void): Mocha.Suite | void {
    // `describe` is looked up per call: under mocha --parallel each file gets its own.
    return process.env.SWEEP === "1" ? describe(title, fn) : describe.skip(title, fn);
}

/** Resource type tokens (one home: infra/lifecycle/types.ts). */
export const T = TYPES;

/**
 * The items, after asserting there is at least one: a loop of assertions over an empty
 * collection passes without checking anything.
 */
export function atLeastOne<X>(items: X[], what: string): X[] {
    assert.ok(items.length > 0, `expected at least one ${what}, found none`);
    return items;
}

export function ofType(rec: RecordedStack, type: string): RecordedResource[] {
    return rec.resources.filter((r) => r.type === type);
}

export function named(rec: RecordedStack, type: string, name: string): RecordedResource {
    const r = rec.resources.find((x) => x.type === type && x.name === name);
    if (!r)
        throw new Error(
            `no ${type} named ${name}; have: ${ofType(rec, type)
                .map((x) => x.name)
                .join(", ")}`,
        );
    return r;
}

/** A fixture team's recording. */
export function recordTeam(team: Team, stack: string, opts: RecordOptions = {}): Promise<RecordedStack> {
    return record(stack, { ...opts, configDir: FIXTURES[team] });
}

/** A ConfigSource over a fixture stack file (team A unless `team` says), with offline secrets and overrides. */
export function source(
    stack: string,
    overrides: Partial<Record<Key, string>> = {},
    opts: { plainKeys?: Key[]; secretKeys?: Key[]; unset?: Key[]; team?: Team } = {},
): ConfigSource {
    const cfg = readStackConfig(stack, FIXTURES[opts.team ?? "sample"]);
    const placeholders = offlineSecrets(cfg.values);
    const values: Record<string, string> = { ...cfg.values, ...placeholders };
    const secret = new Set([...cfg.secretKeys, ...Object.keys(placeholders)]);
    for (const [k, v] of Object.entries(overrides)) values[`${PROJECT}:${k}`] = v as string;
    for (const k of opts.unset ?? []) delete values[`${PROJECT}:${k}`];
    for (const k of opts.secretKeys ?? []) secret.add(`${PROJECT}:${k}`);
    for (const k of opts.plainKeys ?? []) secret.delete(`${PROJECT}:${k}`);
    return configSource(values, secret);
}

export function tmpdir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs shellcheck on a script's text; returns its findings ("" when clean). */
export function shellcheck(text: string, exclude: string[] = []): string {
    const dir = tmpdir("sc-");
    const file = path.join(dir, "script.sh");
    fs.writeFileSync(file, text);
    try {
        execFileSync("shellcheck", ["--severity=style", ...exclude.map((e) => `--exclude=${e}`), file], {
            encoding: "utf8",
        });
        return "";
    } catch (e) {
        return String((e as { stdout?: string }).stdout ?? e);
    }
}
